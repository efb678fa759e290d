package ebpf

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"

	"github.com/cilium/ebpf"

	"github.com/vitals-dev/vitals/bpf/cachestat"
	"github.com/vitals-dev/vitals/model"
)

// Counts are page-cache events over one interval, in pages (4 KiB).
type Counts struct {
	// Accessed is pages read through the page cache: each read's range
	// once (not once per internal batch), clamped to end of file.
	Accessed uint64 `json:"accessed"`
	// Added is pages added to the page cache outside page faults: read
	// misses and pages that writes created.
	Added uint64 `json:"added"`
	// Dirtied is pages dirtied. The tracepoint tier sees no folio size and
	// counts one page per dirtied folio.
	Dirtied uint64 `json:"dirtied"`
	// WriteAdded is pages added inside write-family syscalls (tracepoint
	// tier only; zero elsewhere).
	WriteAdded uint64 `json:"write_added"`
	// MmapPages is pages mapped in by page faults on files: the faulting
	// pages and the fault-around ranges, de-duplicated per thread. A lower
	// bound: the kernel maps a large folio whole from one fault, and a
	// PMD-sized one with no fault-around event at all.
	MmapPages uint64 `json:"mmap_pages"`
	// MmapAdded is pages added to the page cache by page faults (their
	// readahead).
	MmapAdded uint64 `json:"mmap_added"`
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

// MmapMisses are pages page faults read into the cache (their readahead
// included). Not clamped to MmapPages: that is a lower bound when the kernel
// maps large folios whole, and the pages read from storage are exact.
func (c Counts) MmapMisses() uint64 { return c.MmapAdded }

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Accessed += o.Accessed
	c.Added += o.Added
	c.Dirtied += o.Dirtied
	c.WriteAdded += o.WriteAdded
	c.MmapPages += o.MmapPages
	c.MmapAdded += o.MmapAdded
}

// ProcCounts are one process's counts over one interval.
type ProcCounts struct {
	PID int32 `json:"pid"`
	// StartTicks is the process's start time in USER_HZ ticks after boot,
	// as field 22 of /proc/PID/stat; with PID it names the process.
	StartTicks uint64 `json:"start_ticks"`
	UID        uint32 `json:"uid"`
	// Comm is the thread name that first counted in the interval, as the
	// kernel saw it: untrusted text.
	Comm string `json:"comm"`
	Counts
}

// CacheStatOptions control OpenCacheStat.
type CacheStatOptions struct {
	LoadOptions
}

// CacheStat counts page-cache accesses, additions, dirties and mmap
// fault-ins per process (bcc cachestat and cachetop), in kernel, drained
// once per refresh.
type CacheStat struct {
	loaded *Loaded
	procs  *ebpf.Map
	drops  *ebpf.Map
	// prevLost is the last cumulative reading of the drop counters.
	prevLost Lost
	noBatch  bool
	keys     []cachestat.CacheStatProcKey
	vals     []cachestat.CacheStatProcCounts
	perCPU   []cachestat.CacheStatDrops
	nextKeys []cachestat.CacheStatProcKey
}

// CacheStatFeature is the cachestat BPF object with its tiers, fastest first.
func CacheStatFeature() FeatureSpec {
	var classic []string
	classic = append(classic, "tp_get_pages", "tp_add", "tp_dirty", "tp_fault", "tp_map")
	for _, sc := range []string{"write", "pwrite64", "writev", "pwritev", "pwritev2",
		"read", "pread64", "readv", "preadv", "preadv2"} {
		classic = append(classic, "tp_enter_"+sc, "tp_exit_"+sc)
	}
	return FeatureSpec{
		Name: "cachestat",
		Spec: cachestat.LoadCacheStat,
		Tiers: []Tier{
			{Name: TierFentry, Programs: []string{"fentry_accessed", "fentry_add", "fentry_dirty", "fentry_fault", "fentry_map"}},
			{Name: TierKprobe, Programs: []string{"kprobe_accessed", "kprobe_add", "kprobe_dirty", "kprobe_fault", "kprobe_map"},
				Unsupported: func() string {
					if runtime.GOARCH != "amd64" {
						return "kprobe programs are built for x86-64 registers, not " + runtime.GOARCH
					}
					return ""
				}},
			{Name: TierTpBTF, Programs: []string{"tpbtf_get_pages", "tpbtf_add", "tpbtf_dirty", "tpbtf_fault", "tpbtf_map"}},
			{Name: TierRawTp, Programs: []string{"rawtp_get_pages", "rawtp_add", "rawtp_dirty", "rawtp_fault", "rawtp_map"}},
			{Name: TierTracepoint, Programs: classic},
		},
	}
}

// OpenCacheStat loads and attaches the cachestat feature through the
// session (nil: a new one). The report says which tier runs and why the
// others do not; the error is non-nil when no tier runs (the caller falls
// back to procfs).
func OpenCacheStat(sess *Session, opts CacheStatOptions) (*CacheStat, model.Feature, error) {
	l, rep := Load(sess, CacheStatFeature(), opts.LoadOptions)
	if l == nil {
		return nil, rep, fmt.Errorf("cachestat: %s", rep.Reason)
	}
	c := &CacheStat{
		loaded: l,
		procs:  l.Maps["procs"],
		drops:  l.Maps["drop_counts"],
		perCPU: make([]cachestat.CacheStatDrops, max(ebpf.MustPossibleCPU(), 1)),
	}
	// Baseline for the drop deltas.
	if _, err := c.readDropped(); err != nil {
		c.Close()
		for i := range rep.Tiers {
			if rep.Tiers[i].Status == model.TierActive {
				rep.Tiers[i].Status, rep.Tiers[i].Reason = model.TierFailed, err.Error()
			}
		}
		rep.Tier, rep.Reason = "", err.Error()
		return nil, rep, err
	}
	return c, rep, nil
}

// Tier is the active tier.
func (c *CacheStat) Tier() string { return c.loaded.Tier }

// ProgramIDs and MapIDs are the kernel ids of what this CacheStat loaded
// (empty after Close).
func (c *CacheStat) ProgramIDs() []ebpf.ProgramID { return c.loaded.ProgramIDs() }

// MapIDs: see ProgramIDs.
func (c *CacheStat) MapIDs() []ebpf.MapID { return c.loaded.MapIDs() }

// Close detaches the programs and frees the maps.
func (c *CacheStat) Close() error {
	if c == nil || c.loaded == nil {
		return nil
	}
	err := c.loaded.Close()
	c.loaded = nil
	return err
}

// Lost is what the kernel counted but could give no process: events whose
// process found no room in the per-process map (16,384 processes), and
// their pages. They are still the system's pages.
type Lost struct {
	Events uint64 `json:"events"`
	Counts
}

// readDropped returns what was lost to a full per-process map since the
// last call. The per-CPU counters are cumulative and never reset (a reset
// would lose the events between the read and the write); a counter that
// went backwards yields 0.
func (c *CacheStat) readDropped() (Lost, error) {
	if err := c.drops.Lookup(uint32(0), &c.perCPU); err != nil {
		return Lost{}, fmt.Errorf("read cachestat drop counters: %w", err)
	}
	var cur Lost
	for _, d := range c.perCPU {
		cur.Events += d.ProcMapFull
		cur.Add(Counts{Accessed: d.Pages[0], Added: d.Pages[1], Dirtied: d.Pages[2],
			WriteAdded: d.Pages[3], MmapPages: d.Pages[4], MmapAdded: d.Pages[5]})
	}
	prev := c.prevLost
	c.prevLost = cur
	since := func(now, before uint64) uint64 {
		if now < before {
			return 0
		}
		return now - before
	}
	return Lost{
		Events: since(cur.Events, prev.Events),
		Counts: Counts{
			Accessed:   since(cur.Accessed, prev.Accessed),
			Added:      since(cur.Added, prev.Added),
			Dirtied:    since(cur.Dirtied, prev.Dirtied),
			WriteAdded: since(cur.WriteAdded, prev.WriteAdded),
			MmapPages:  since(cur.MmapPages, prev.MmapPages),
			MmapAdded:  since(cur.MmapAdded, prev.MmapAdded),
		},
	}, nil
}

// Drain returns the per-process counts since the previous Drain (or Open),
// emptying the per-process map, and what was lost since then because that
// map was full. Processes outside vitals' PID namespace come as one row
// with PID OutsideNamespace. Call it once per refresh from one goroutine.
func (c *CacheStat) Drain() (procs []ProcCounts, lost Lost, err error) {
	if c.loaded == nil {
		return nil, Lost{}, errors.New("cachestat: closed")
	}
	if lost, err = c.readDropped(); err != nil {
		return nil, Lost{}, err
	}
	procs, err = c.drainProcs()
	return procs, lost, err
}

// OutsideNamespace is the PID of the one row that sums the processes outside
// vitals' PID namespace (bpf/common.h PID_OUTSIDE): they have no number in
// the /proc vitals reads.
const OutsideNamespace = -1

func (c *CacheStat) drainProcs() ([]ProcCounts, error) {
	var out []ProcCounts
	emit := func(k *cachestat.CacheStatProcKey, v *cachestat.CacheStatProcCounts) {
		out = append(out, ProcCounts{
			PID:        int32(k.Tgid),
			StartTicks: k.StartTicks,
			UID:        v.Uid,
			Comm:       commString(v.Comm[:]),
			Counts: Counts{
				Accessed:   v.Accessed,
				Added:      v.Added,
				Dirtied:    v.Dirtied,
				WriteAdded: v.WriteAdded,
				MmapPages:  v.MmapPages,
				MmapAdded:  v.MmapAdded,
			},
		})
	}
	if !c.noBatch {
		const chunk = 1024
		if len(c.keys) < chunk {
			c.keys = make([]cachestat.CacheStatProcKey, chunk)
			c.vals = make([]cachestat.CacheStatProcCounts, chunk)
		}
		var cursor ebpf.MapBatchCursor
		for {
			n, err := c.procs.BatchLookupAndDelete(&cursor, c.keys, c.vals, nil)
			for i := 0; i < n; i++ {
				emit(&c.keys[i], &c.vals[i])
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
		k cachestat.CacheStatProcKey
		v cachestat.CacheStatProcCounts
	)
	it := c.procs.Iterate()
	for it.Next(&k, &v) {
		emit(&k, &v)
		c.nextKeys = append(c.nextKeys, k)
	}
	if err := it.Err(); err != nil {
		return out, fmt.Errorf("iterate cachestat processes: %w", err)
	}
	for _, k := range c.nextKeys {
		if err := c.procs.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return out, fmt.Errorf("delete cachestat process %d: %w", k.Tgid, err)
		}
	}
	return out, nil
}

// Sum adds the per-process counts.
func Sum(procs []ProcCounts) Counts {
	var c Counts
	for _, p := range procs {
		c.Add(p.Counts)
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
