package ebpf

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"

	"github.com/cilium/ebpf"

	"github.com/vitals-dev/vitals/bpf/cachestat"
)

// Counts are page-cache events over one interval, in pages (4 KiB).
type Counts struct {
	// Accessed is pages read through the page cache: each read's range
	// once (not once per internal batch), clamped to end of file.
	Accessed uint64 `json:"accessed"`
	// Added is pages added to the page cache: read misses and pages that
	// writes created.
	Added uint64 `json:"added"`
	// Dirtied is pages dirtied. The tracepoint tier sees no folio size and
	// counts one page per dirtied folio.
	Dirtied uint64 `json:"dirtied"`
	// WriteAdded is pages added inside write-family syscalls (tracepoint
	// tier only; zero elsewhere).
	WriteAdded uint64 `json:"write_added"`
}

// writePages is the pages added by writes, subtracted from Added so that
// writes are not counted as read misses.
func (c Counts) writePages() uint64 { return max(c.Dirtied, c.WriteAdded) }

// Misses are read misses: pages added minus pages that writes added,
// clamped to [0, Accessed].
func (c Counts) Misses() uint64 {
	w := c.writePages()
	if c.Added <= w {
		return 0
	}
	return min(c.Added-w, c.Accessed)
}

// Hits are accessed pages that were already cached.
func (c Counts) Hits() uint64 { return c.Accessed - c.Misses() }

// HitRatio is Hits/Accessed in [0, 1]; ok is false when nothing was read
// (views show "–", never 0 or 100 %).
func (c Counts) HitRatio() (ratio float64, ok bool) {
	if c.Accessed == 0 {
		return 0, false
	}
	return float64(c.Hits()) / float64(c.Accessed), true
}

func (c *Counts) add(o Counts) {
	c.Accessed += o.Accessed
	c.Added += o.Added
	c.Dirtied += o.Dirtied
	c.WriteAdded += o.WriteAdded
}

// Totals are the whole system's counts over one interval.
type Totals struct {
	Counts
	// LostProcesses counts per-process updates dropped because the
	// per-process map was full (the system totals still have them).
	LostProcesses uint64 `json:"lost_processes"`
}

// ProcCounts are one process's counts over one interval.
type ProcCounts struct {
	PID int32  `json:"pid"`
	UID uint32 `json:"uid"`
	// Comm is the thread name that first counted in the interval, as the
	// kernel saw it: untrusted text.
	Comm string `json:"comm"`
	Counts
}

// CacheStatOptions control OpenCacheStat.
type CacheStatOptions struct {
	LoadOptions
}

// CacheStat counts page-cache accesses, additions and dirties per process
// and for the system (bcc cachestat and cachetop), in kernel, drained once
// per refresh.
type CacheStat struct {
	loaded *Loaded
	procs  *ebpf.Map
	totals *ebpf.Map
	// prev is the last cumulative reading of the system counters.
	prev     Totals
	noBatch  bool
	keys     []uint32
	vals     []cachestat.CacheStatProcCounts
	perCPU   []cachestat.CacheStatTotals
	nextKeys []uint32
}

// CacheStatFeature is the cachestat BPF object with its tiers, fastest first.
func CacheStatFeature() Feature {
	var classic []string
	classic = append(classic, "tp_get_pages", "tp_add", "tp_dirty")
	for _, sc := range []string{"write", "pwrite64", "writev", "pwritev", "pwritev2",
		"read", "pread64", "readv", "preadv", "preadv2"} {
		classic = append(classic, "tp_enter_"+sc, "tp_exit_"+sc)
	}
	return Feature{
		Name: "cachestat",
		Spec: cachestat.LoadCacheStat,
		Tiers: []Tier{
			{Name: TierFentry, Programs: []string{"fentry_accessed", "fentry_add", "fentry_dirty"}},
			{Name: TierKprobe, Programs: []string{"kprobe_accessed", "kprobe_add", "kprobe_dirty"},
				Unsupported: func() string {
					if runtime.GOARCH != "amd64" {
						return "kprobe programs are built for x86-64 registers, not " + runtime.GOARCH
					}
					return ""
				}},
			{Name: TierTpBTF, Programs: []string{"tpbtf_get_pages", "tpbtf_add", "tpbtf_dirty"}},
			{Name: TierRawTp, Programs: []string{"rawtp_get_pages", "rawtp_add", "rawtp_dirty"}},
			{Name: TierTracepoint, Programs: classic},
		},
	}
}

// OpenCacheStat loads and attaches the cachestat feature. The Report says
// which tier runs and why the others do not; the error is non-nil when no
// tier runs (the caller falls back to procfs).
func OpenCacheStat(opts CacheStatOptions) (*CacheStat, Report, error) {
	l, rep := Load(CacheStatFeature(), opts.LoadOptions)
	if l == nil {
		return nil, rep, fmt.Errorf("cachestat: %s", rep.Reason)
	}
	c := &CacheStat{
		loaded: l,
		procs:  l.Maps["procs"],
		totals: l.Maps["system_totals"],
		perCPU: make([]cachestat.CacheStatTotals, max(ebpf.MustPossibleCPU(), 1)),
	}
	// Baseline for the system deltas.
	if _, err := c.readTotals(); err != nil {
		c.Close()
		return nil, rep, err
	}
	return c, rep, nil
}

// Tier is the active tier.
func (c *CacheStat) Tier() string { return c.loaded.Tier }

// Close detaches the programs and frees the maps.
func (c *CacheStat) Close() error {
	if c == nil || c.loaded == nil {
		return nil
	}
	err := c.loaded.Close()
	c.loaded = nil
	return err
}

// readTotals returns the system counts since the last call. The per-CPU
// counters are cumulative and never reset (a reset would lose the events
// between the read and the write); a counter that went backwards yields 0.
func (c *CacheStat) readTotals() (Totals, error) {
	if err := c.totals.Lookup(uint32(0), &c.perCPU); err != nil {
		return Totals{}, fmt.Errorf("read cachestat totals: %w", err)
	}
	var cur Totals
	for _, t := range c.perCPU {
		cur.Accessed += t.Accessed
		cur.Added += t.Added
		cur.Dirtied += t.Dirtied
		cur.WriteAdded += t.WriteAdded
		cur.LostProcesses += t.ProcMapFull
	}
	d := func(now, before uint64) uint64 {
		if now < before {
			return 0
		}
		return now - before
	}
	delta := Totals{
		Counts: Counts{
			Accessed:   d(cur.Accessed, c.prev.Accessed),
			Added:      d(cur.Added, c.prev.Added),
			Dirtied:    d(cur.Dirtied, c.prev.Dirtied),
			WriteAdded: d(cur.WriteAdded, c.prev.WriteAdded),
		},
		LostProcesses: d(cur.LostProcesses, c.prev.LostProcesses),
	}
	c.prev = cur
	return delta, nil
}

// Drain returns the system and per-process counts since the previous Drain
// (or Open) and empties the per-process map. Call it once per refresh from
// one goroutine.
func (c *CacheStat) Drain() (Totals, []ProcCounts, error) {
	if c.loaded == nil {
		return Totals{}, nil, errors.New("cachestat: closed")
	}
	sys, err := c.readTotals()
	if err != nil {
		return Totals{}, nil, err
	}
	procs, err := c.drainProcs()
	return sys, procs, err
}

func (c *CacheStat) drainProcs() ([]ProcCounts, error) {
	var out []ProcCounts
	emit := func(pid uint32, v *cachestat.CacheStatProcCounts) {
		out = append(out, ProcCounts{
			PID:  int32(pid),
			UID:  v.Uid,
			Comm: commString(v.Comm[:]),
			Counts: Counts{
				Accessed:   v.Accessed,
				Added:      v.Added,
				Dirtied:    v.Dirtied,
				WriteAdded: v.WriteAdded,
			},
		})
	}
	if !c.noBatch {
		const chunk = 1024
		if len(c.keys) < chunk {
			c.keys = make([]uint32, chunk)
			c.vals = make([]cachestat.CacheStatProcCounts, chunk)
		}
		var cursor ebpf.MapBatchCursor
		for {
			n, err := c.procs.BatchLookupAndDelete(&cursor, c.keys, c.vals, nil)
			for i := 0; i < n; i++ {
				emit(c.keys[i], &c.vals[i])
			}
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				return out, nil
			}
			if errors.Is(err, ebpf.ErrNotSupported) && len(out) == 0 {
				c.noBatch = true
				break
			}
			if err != nil {
				return out, fmt.Errorf("drain cachestat processes: %w", err)
			}
		}
	}
	// Kernels without batch operations (before 5.6): iterate, then delete
	// what was read.
	c.nextKeys = c.nextKeys[:0]
	var (
		pid uint32
		v   cachestat.CacheStatProcCounts
	)
	it := c.procs.Iterate()
	for it.Next(&pid, &v) {
		emit(pid, &v)
		c.nextKeys = append(c.nextKeys, pid)
	}
	if err := it.Err(); err != nil {
		return out, fmt.Errorf("iterate cachestat processes: %w", err)
	}
	for _, k := range c.nextKeys {
		if err := c.procs.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return out, fmt.Errorf("delete cachestat process %d: %w", k, err)
		}
	}
	return out, nil
}

// Sum adds the per-process counts (for comparing with the system totals).
func Sum(procs []ProcCounts) Counts {
	var c Counts
	for _, p := range procs {
		c.add(p.Counts)
	}
	return c
}

func commString(b []int8) string {
	buf := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		buf = append(buf, byte(c))
	}
	return string(bytes.Clone(buf))
}
