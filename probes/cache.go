package probes

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// cachePageSize is the unit of every page count in model.Cache (4 KiB,
// whatever the machine's page size: the model says so).
const cachePageSize = 4096

// Cache sources, as model.Cache.Source names them.
const (
	cacheSourceEBPF   = "ebpf"
	cacheSourceProcfs = "procfs estimate"
)

// CacheTierProcfs, given as CacheProbeConfig.ForceTier, skips eBPF and uses
// the procfs estimate.
const CacheTierProcfs = "procfs"

// CacheProbeConfig says where the page-cache probe reads from and which
// eBPF tier it uses.
type CacheProbeConfig struct {
	ProcRoot   string // "/proc" when empty
	PasswdPath string // "/etc/passwd" when empty
	// ForceTier is "" for the first eBPF tier that loads and attaches, an
	// eBPF tier name (fentry, kprobe, tp_btf, raw_tp, tracepoint) for only
	// that one, or "procfs" to skip eBPF and use the procfs estimate.
	ForceTier string
	// Demand, when set, names the process whose open files get pcstat
	// (Demand.FilesOf) in Cache.Files, once per Read.
	Demand *model.Demand
}

// CacheProbe is bcc's cachestat and cachetop: page-cache hits and misses for
// the system and per process, counted in kernel by eBPF, or, without the
// privileges for that, estimated per process from /proc/PID/io.
type CacheProbe struct {
	procRoot string
	demand   *model.Demand
	users    *userNames
	gen      uint64 // Read generation, for users

	stat   *ebpf.CacheStat // nil in procfs estimate mode, and after Close
	ebpf   bool            // eBPF mode (stat may be nil once closed)
	report ebpf.Report
	tiers  []model.CacheTier

	// last is the time of the previous Read; zero before the baseline.
	last time.Time
	// procs are the processes of the newest frame, with the I/O rates the
	// procfs estimate is computed from; Sample sets them.
	procs []model.Process
}

// NewCacheProbe makes a page-cache probe. It loads the eBPF counters (the
// first tier that works, or cfg.ForceTier); when that fails — not root, no
// tier loads on this kernel — it falls back to the procfs estimate and keeps
// the reason in Report and in every model.Cache. Only an unusable ProcRoot
// is an error. Its first Read (or Sample) only takes the baseline.
func NewCacheProbe(cfg CacheProbeConfig) (*CacheProbe, error) {
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	if cfg.PasswdPath == "" {
		cfg.PasswdPath = "/etc/passwd"
	}
	d, err := os.Open(cfg.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("cache probe: %w", err)
	}
	info, err := d.Stat()
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("cache probe: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("cache probe: %s is not a directory", cfg.ProcRoot)
	}
	p := &CacheProbe{procRoot: cfg.ProcRoot, demand: cfg.Demand, users: newUserNames(cfg.PasswdPath)}
	if cfg.ForceTier == CacheTierProcfs {
		rep := ebpf.Report{Feature: ebpf.CacheStatFeature().Name, Reason: "tier forced to " + CacheTierProcfs}
		for _, t := range ebpf.CacheStatFeature().Tiers {
			rep.Tiers = append(rep.Tiers, ebpf.TierResult{Tier: t.Name, Status: "skipped", Reason: rep.Reason})
		}
		p.setReport(rep)
		return p, nil
	}
	stat, rep, err := ebpf.OpenCacheStat(ebpf.CacheStatOptions{LoadOptions: ebpf.LoadOptions{ForceTier: cfg.ForceTier}})
	if err != nil && rep.Reason == "" {
		// A tier loaded but the first read of its counters failed.
		rep.Reason = err.Error()
	}
	if err == nil {
		p.stat, p.ebpf = stat, true
	}
	p.setReport(rep)
	return p, nil
}

func (p *CacheProbe) setReport(rep ebpf.Report) {
	p.report = rep
	p.tiers = make([]model.CacheTier, 0, len(rep.Tiers))
	for _, t := range rep.Tiers {
		p.tiers = append(p.tiers, model.CacheTier{Tier: t.Tier, Status: t.Status, Reason: t.Reason})
	}
}

// Name is the probe's key in the model's error map.
func (p *CacheProbe) Name() string { return "cache" }

// Report says which eBPF tier is active and why the others are not (for
// `vitals probes`); Reason is set when the procfs estimate is in use.
func (p *CacheProbe) Report() ebpf.Report { return p.report }

// Close detaches the eBPF programs and frees their maps. Safe to call more
// than once; after Close, Read fails.
func (p *CacheProbe) Close() error {
	if p.stat == nil {
		return nil
	}
	err := p.stat.Close()
	p.stat = nil
	return err
}

// Sample reads once and publishes the cache part of the sample and its
// history points. The first call only takes the baseline.
func (p *CacheProbe) Sample(now time.Time, store *model.Store) error {
	if !p.ebpf {
		// The processes the scanner published last (at most an interval
		// old while each probe keeps its own ticker). Their I/O rates are
		// over the scanner's own interval, so the estimate is consistent
		// either way; a collector that runs the scanner first hands this
		// frame's processes to readProcfs instead.
		p.procs = store.Snapshot().Sample.Processes
	}
	c, err := p.Read(now)
	if err != nil || c == nil {
		return err
	}
	store.Update(func(next *model.Sample, h *model.History) {
		next.Cache = c
		if s := c.System; s != nil {
			if s.HitRatio.OK {
				h.Record(model.SeriesCacheHitRatio, now, s.HitRatio.V)
			}
			h.Record(model.SeriesCacheAccesses, now, s.AccessesPerS)
			h.Record(model.SeriesCacheMisses, now, s.MissesPerS)
		}
	})
	return nil
}

// Read returns the page-cache counts since the previous Read, or nil on the
// first call (the baseline). Counts are pages per interval for processes
// and pages per second (over now minus the previous call's now) for the
// system. With a Demand naming a process (FilesOf), Files is pcstat for it.
func (p *CacheProbe) Read(now time.Time) (*model.Cache, error) {
	p.gen++
	var c *model.Cache
	var err error
	if p.ebpf {
		c, err = p.readEBPF(now)
	} else {
		c, err = p.readProcfs(now, p.procs)
	}
	if c != nil && p.demand != nil {
		if key := p.demand.Get().FilesOf; key.PID != 0 {
			c.Files = ReadProcessFiles(p.procRoot, key, pcstatMaxFiles)
		}
	}
	return c, err
}

func (p *CacheProbe) newCache(source string) *model.Cache {
	c := &model.Cache{Source: source, Tiers: p.tiers}
	if source == cacheSourceEBPF {
		c.Tier = p.report.Active
	} else {
		c.Reason = p.report.Reason
	}
	return c
}

// cachePct is part/whole in percent, unknown when whole is 0.
func cachePct(part, whole uint64) model.Float {
	if whole == 0 {
		return model.Unknown
	}
	return model.Known(100 * float64(part) / float64(whole))
}

// readEBPF drains the in-kernel counters. The work is proportional to the
// processes that touched the page cache in the interval: the kernel keeps
// only those in its map.
func (p *CacheProbe) readEBPF(now time.Time) (*model.Cache, error) {
	if p.stat == nil {
		return nil, errors.New("cache probe: closed")
	}
	sys, procs, err := p.stat.Drain()
	if err != nil {
		// Part of the interval may have been consumed: start over.
		p.last = time.Time{}
		return nil, err
	}
	last := p.last
	p.last = now
	if last.IsZero() {
		return nil, nil
	}
	c := p.newCache(cacheSourceEBPF)

	buffers, cached, err := p.readMeminfo()
	if err != nil {
		return nil, err
	}
	s := &model.CacheSystem{
		HitRatio:     cachePct(sys.Hits(), sys.Accessed),
		BuffersBytes: buffers,
		CachedBytes:  cached,
	}
	if secs := now.Sub(last).Seconds(); secs > 0 {
		s.AccessesPerS = float64(sys.Accessed) / secs
		s.HitsPerS = float64(sys.Hits()) / secs
		s.MissesPerS = float64(sys.Misses()) / secs
		s.DirtiesPerS = float64(sys.Dirtied) / secs
	}
	c.System = s

	c.Processes = make([]model.CacheProcess, 0, len(procs))
	for _, pc := range procs {
		c.Processes = append(c.Processes, model.CacheProcess{
			PID:        pc.PID,
			UID:        pc.UID,
			User:       p.users.name(pc.UID, p.gen),
			Comm:       pc.Comm,
			Hits:       pc.Hits(),
			Misses:     pc.Misses(),
			Dirties:    pc.Dirtied,
			ReadHitPct: cachePct(pc.Hits(), pc.Accessed),
			// Dirtied pages that writes did not add were cached already.
			// When the process also read cold pages in the interval,
			// those additions count against the writes too (the kernel
			// cannot tell them apart here), so with reads and writes
			// mixed this underestimates write hits.
			WriteHitPct: cachePct(pc.Dirtied-min(pc.Added, pc.Dirtied), pc.Dirtied),
		})
	}
	sortCacheProcesses(c.Processes)
	return c, nil
}

// sortCacheProcesses orders rows as cachetop does: most hits first.
func sortCacheProcesses(ps []model.CacheProcess) {
	slices.SortFunc(ps, func(a, b model.CacheProcess) int {
		if c := cmp.Compare(b.Hits, a.Hits); c != 0 {
			return c
		}
		return cmp.Compare(a.PID, b.PID)
	})
}

var (
	meminfoBuffers = []byte("Buffers:")
	meminfoCached  = []byte("Cached:")
)

// readMeminfo returns the Buffers and Cached lines of meminfo in bytes.
func (p *CacheProbe) readMeminfo() (buffers, cached uint64, err error) {
	path := filepath.Join(p.procRoot, "meminfo")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", path, err)
	}
	found := 0
	for len(data) > 0 && found < 2 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		var dst *uint64
		switch {
		case bytes.HasPrefix(line, meminfoBuffers):
			dst, line = &buffers, line[len(meminfoBuffers):]
		case bytes.HasPrefix(line, meminfoCached):
			dst, line = &cached, line[len(meminfoCached):]
		default:
			continue
		}
		f, _ := nextField(line)
		v, ok := parseDecimal(f)
		if !ok {
			return 0, 0, fmt.Errorf("%s: cannot parse %q", path, line)
		}
		*dst = v * 1024 // kB
		found++
	}
	if found < 2 {
		return 0, 0, fmt.Errorf("%s has no Buffers or Cached line", path)
	}
	return buffers, cached, nil
}

// readProcfs is the estimate without eBPF, from the I/O rates the process
// scanner read (procs, this frame's processes; see cacheEstimate). The
// scanner reads /proc/PID/io only when model.DemandSet asks for IO, and
// without root only for our own processes: others have no row.
func (p *CacheProbe) readProcfs(now time.Time, procs []model.Process) (*model.Cache, error) {
	last := p.last
	p.last = now
	if last.IsZero() {
		return nil, nil
	}
	c := p.newCache(cacheSourceProcfs)
	c.Processes = cacheEstimate(procs, now.Sub(last).Seconds())
	return c, nil
}

// cacheEstimate is the page-cache hit ratio per process without eBPF: the
// share of bytes read() returned (rchar) that did not come from the block
// layer (read_bytes), 1 − Δread_bytes/Δrchar. rchar also counts reads from
// pipes, sockets and tmpfs, and read_bytes counts readahead and page
// faults of mapped files, so it is an estimate only. Page counts are over
// seconds (the rates times the interval). Processes that read nothing, or
// whose I/O is unknown (not read, or not permitted), have no row.
func cacheEstimate(procs []model.Process, seconds float64) []model.CacheProcess {
	var rows []model.CacheProcess
	for i := range procs {
		pr := &procs[i]
		rchar, read := pr.RcharPerS, pr.ReadBytesPerS
		if pr.IODetail != model.DetailFresh || !rchar.OK || !read.OK || rchar.V <= 0 {
			continue
		}
		bytesIn := func(rate float64) uint64 { return uint64(math.Round(rate * seconds)) }
		accessed := bytesIn(rchar.V) / cachePageSize
		misses := min(bytesIn(read.V)/cachePageSize, accessed)
		row := model.CacheProcess{
			PID:         pr.PID,
			UID:         pr.UID,
			User:        pr.User,
			Comm:        pr.Comm,
			Hits:        accessed - misses,
			Misses:      misses,
			ReadHitPct:  model.Known(100 * (1 - min(read.V/rchar.V, 1))),
			WriteHitPct: model.Unknown,
			Estimate:    true,
		}
		if w := pr.WriteBytesPerS; w.OK {
			row.Dirties = bytesIn(w.V) / cachePageSize
		}
		rows = append(rows, row)
	}
	sortCacheProcesses(rows)
	return rows
}
