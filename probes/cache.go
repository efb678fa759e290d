package probes

import (
	"errors"
	"fmt"
	"os"
	"sync"
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
	cacheSourceProcfs = model.CacheSourceEstimate
)

// CacheTierProcfs, given as CacheProbeConfig.ForceTier, skips eBPF and uses
// the procfs estimate.
const CacheTierProcfs = model.TierProcfs

// CacheProbeConfig says where the page-cache probe reads from and which
// eBPF tier it uses.
type CacheProbeConfig struct {
	ProcRoot   string // "/proc" when empty
	PasswdPath string // "/etc/passwd" when empty
	// ForceTier is "" for the first eBPF tier that loads and attaches, an
	// eBPF tier name (fentry, kprobe, tp_btf, raw_tp, tracepoint) for only
	// that one, or "procfs" to skip eBPF and use the procfs estimate.
	ForceTier string
	// ProcfsReason, with ForceTier "procfs", says why eBPF is off.
	ProcfsReason string
	// Demand, when set, names the process whose open files get pcstat
	// (Demand.FilesOf) in Cache.Files, once per Read.
	Demand *model.Demand
	// Session is the eBPF loader session shared with the other eBPF
	// features; nil makes one for this probe alone.
	Session *ebpf.Session
}

// CacheProbe is bcc's cachestat and cachetop: page-cache hits and misses for
// the system and per process, counted in kernel by eBPF, or, without the
// privileges for that, estimated per process from /proc/PID/io.
type CacheProbe struct {
	procRoot string
	demand   *model.Demand
	users    *userNames
	gen      uint64        // Read generation, for users
	files    pcstatTracker // pcstat of Demand.FilesOf

	stat *ebpf.CacheStat // nil in procfs estimate mode, and after Close
	ebpf bool            // eBPF mode (stat may be nil once closed)
	// feature is the cachestat report; Tier is "procfs" when the estimate
	// runs. mu guards it and pending: LoadBPF (Env.DeferBPF) runs in
	// another goroutine than Read and the collector reads Features.
	mu      sync.Mutex
	feature model.Feature
	// pending is cachestat loaded by LoadBPF, taken up by the next Read;
	// deferred: the constructor left loading to LoadBPF, with deferTier.
	pending   *ebpf.CacheStat
	deferred  bool
	deferTier string

	// last is the time of the previous Read; zero before the baseline.
	last time.Time
}

// NewCacheProbe makes a page-cache probe. It loads the eBPF counters (the
// first tier that works, or cfg.ForceTier); when that fails — not root, no
// tier loads on this kernel — it falls back to the procfs estimate and keeps
// the reason in Features and in every model.Cache. Only an unusable ProcRoot
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
		spec := ebpf.CacheStatFeature()
		reason := cfg.ProcfsReason
		if reason == "" {
			reason = "tier forced to " + CacheTierProcfs
		}
		rep := model.Feature{Name: spec.Name, Reason: reason}
		for _, t := range spec.Tiers {
			rep.Tiers = append(rep.Tiers, model.TierOutcome{Tier: t.Name, Status: model.TierSkipped, Reason: rep.Reason})
		}
		p.setReport(rep)
		return p, nil
	}
	stat, rep, err := ebpf.OpenCacheStat(cfg.Session, ebpf.CacheStatOptions{LoadOptions: ebpf.LoadOptions{ForceTier: cfg.ForceTier}})
	if err == nil {
		p.stat, p.ebpf = stat, true
	}
	p.setReport(rep)
	return p, nil
}

// setReport keeps the feature report, naming the procfs estimate as the
// tier when no eBPF tier runs.
func (p *CacheProbe) setReport(rep model.Feature) {
	if !rep.EBPF() {
		rep.Tier = model.TierProcfs
	}
	p.mu.Lock()
	p.feature = rep
	p.mu.Unlock()
}

// LoadBPF loads the eBPF counters when the probe was made with
// Env.DeferBPF (BPFLoader); the next Read switches over. Until then, and if
// loading fails, the procfs estimate runs, the report says why.
func (p *CacheProbe) LoadBPF(sess *ebpf.Session) error {
	if !p.deferred {
		return nil
	}
	stat, rep, err := ebpf.OpenCacheStat(sess, ebpf.CacheStatOptions{LoadOptions: ebpf.LoadOptions{ForceTier: p.deferTier}})
	p.setReport(rep)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.pending != nil {
		p.pending.Close()
	}
	p.pending = stat
	p.mu.Unlock()
	return nil
}

// takePending switches to counters LoadBPF loaded since the last Read,
// reporting whether it did.
func (p *CacheProbe) takePending() bool {
	p.mu.Lock()
	stat := p.pending
	p.pending = nil
	p.mu.Unlock()
	if stat == nil {
		return false
	}
	p.stat, p.ebpf = stat, true
	return true
}

// Name is the probe's key in the model's error map.
func (p *CacheProbe) Name() string { return "cache" }

// Features is the tier report of each eBPF feature this probe runs (one:
// cachestat), for `vitals probes`, the header's mode line and the JSON.
func (p *CacheProbe) Features() []model.Feature {
	p.mu.Lock()
	defer p.mu.Unlock()
	return []model.Feature{p.feature}
}

// Close detaches the eBPF programs and frees their maps. Safe to call more
// than once; after Close, Read fails.
func (p *CacheProbe) Close() error {
	p.mu.Lock()
	if p.pending != nil {
		p.pending.Close()
		p.pending = nil
	}
	p.mu.Unlock()
	if p.stat == nil {
		return nil
	}
	err := p.stat.Close()
	p.stat = nil
	return err
}

func init() {
	Register(Family{Name: "cache", New: func(env *Env) (Probe, error) {
		cfg := CacheProbeConfig{ProcRoot: env.ProcRoot, PasswdPath: env.PasswdPath, ForceTier: env.ForceTier, Demand: env.Demand, Session: env.BPF}
		deferred := false
		switch {
		case env.CopiedTree:
			cfg.ForceTier = CacheTierProcfs
			cfg.ProcfsReason = "reading a copied tree (--proc-root, --sys-root): eBPF would count this kernel, not the copy"
		case env.DeferBPF && cfg.ForceTier != CacheTierProcfs:
			deferred = true
			cfg.ForceTier = CacheTierProcfs
			cfg.ProcfsReason = "loading after the first frame"
		}
		p, err := NewCacheProbe(cfg)
		if err == nil && deferred {
			p.deferred, p.deferTier = true, env.ForceTier
		}
		return p, err
	}})
}

// Collect reads once and returns the cache part of the frame. The first
// call only takes the baseline.
func (p *CacheProbe) Collect(t *Tick) (Part, error) {
	c, err := p.Read(t.Now)
	if err != nil || c == nil {
		return nil, err
	}
	return func(s *model.Sample) { s.Cache = c }, nil
}

// Read returns the page-cache counts since the previous Read, or nil on the
// first call (the baseline). Counts are pages per interval for processes
// and pages per second (over now minus the previous call's now) for the
// system. With a Demand naming a process (FilesOf), Files is pcstat for it.
func (p *CacheProbe) Read(now time.Time) (*model.Cache, error) {
	p.gen++
	var c *model.Cache
	var err error
	if p.takePending() {
		// Counted since the programs attached, part of an interval: start
		// the eBPF window now and publish the estimate once more.
		if _, _, err := p.stat.Drain(); err != nil {
			return nil, err
		}
		c, err = p.readProcfs(now)
	} else if p.ebpf {
		c, err = p.readEBPF(now)
	} else {
		c, err = p.readProcfs(now)
	}
	if c != nil && p.demand != nil {
		if key := p.demand.Get().FilesOf; key.PID != 0 {
			c.Files = p.files.Read(p.procRoot, key, pcstatMaxFiles)
		}
	}
	return c, err
}

func (p *CacheProbe) newCache(source string) *model.Cache {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &model.Cache{Source: source, Feature: p.feature}
}

// cachePct is part/whole in percent, unknown when whole is 0.
func cachePct(part, whole uint64) model.Float {
	if whole == 0 {
		return model.Unknown
	}
	return model.Known(100 * float64(part) / float64(whole))
}

// cachePageRates is one row's (or the unattributed) counts as rates, each
// derived figure clamped on its own (ebpf.Counts).
func cachePageRates(c ebpf.Counts, secs float64) model.CachePageRates {
	if secs <= 0 {
		return model.CachePageRates{}
	}
	return model.CachePageRates{
		AccessesPerS:   float64(c.Accessed) / secs,
		HitsPerS:       float64(c.Hits()) / secs,
		MissesPerS:     float64(c.Misses()) / secs,
		DirtiesPerS:    float64(c.Dirtied) / secs,
		MmapPagesPerS:  float64(c.MmapPages) / secs,
		MmapMissesPerS: float64(c.MmapMisses()) / secs,
	}
}

// readEBPF drains the in-kernel counters. The work is proportional to the
// processes that touched the page cache in the interval: the kernel keeps
// only those in its map.
func (p *CacheProbe) readEBPF(now time.Time) (*model.Cache, error) {
	if p.stat == nil {
		return nil, errors.New("cache probe: closed")
	}
	procs, lost, err := p.stat.Drain()
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
	secs := now.Sub(last).Seconds()
	c := p.newCache(cacheSourceEBPF)
	c.DroppedProcEvents = lost.Events

	// The system line is the sum of the rows, each clamped on its own: a
	// global clamp let one process's fault-ins or readahead count as
	// misses of another's reads (an mmap reader drove the system ratio to
	// 0 % while the only read() reader hit 99.9 %). What no row holds is
	// added too, so the system line stays the system's.
	var sum, outside ebpf.Counts
	var hits uint64
	s := &model.CacheSystem{}
	un := &model.CacheUnattributed{MapFull: cachePageRates(lost.Counts, secs)}
	c.Processes = make([]model.CacheProcess, 0, len(procs))
	for _, pc := range procs {
		sum.Add(pc.Counts)
		hits += pc.Hits()
		if pc.PID == ebpf.OutsideNamespace {
			outside = pc.Counts
			un.OtherNamespaces = cachePageRates(pc.Counts, secs)
			continue
		}
		row := model.CacheProcess{
			PID:        pc.PID,
			StartTicks: pc.StartTicks,
			UID:        pc.UID,
			User:       p.users.name(pc.UID, p.gen),
			Comm:       pc.Comm,
			Hits:       pc.Hits(),
			Misses:     pc.Misses(),
			Dirties:    pc.Dirtied,
			MmapPages:  pc.MmapPages,
			MmapMisses: pc.MmapMisses(),
			ReadHitPct: cachePct(pc.Hits(), pc.Accessed),
			// Dirtied pages that writes did not add were cached already.
			// When the process also read cold pages in the interval,
			// those additions count against the writes too (the kernel
			// cannot tell them apart here), so with reads and writes
			// mixed this underestimates write hits.
			WriteHitPct: cachePct(pc.Dirtied-min(pc.Added, pc.Dirtied), pc.Dirtied),
		}
		c.Processes = append(c.Processes, row)
		s.Add(cachePageRates(pc.Counts, secs))
	}
	s.Add(un.OtherNamespaces)
	s.Add(un.MapFull)
	sum.Add(lost.Counts)
	hits += lost.Hits()
	s.HitRatio = cachePct(hits, sum.Accessed)
	un.AccessSharePct = cachePct(lost.Accessed+outside.Accessed, sum.Accessed)
	c.Unattributed = un
	c.System = s
	model.SortCacheProcesses(c.Processes)
	return c, nil
}

// readProcfs is the estimate without eBPF. Its rows come from the I/O rates
// the process scanner read in the same frame, so they are joined in the
// model when the frame is published (model.JoinFrame, CacheEstimate); the
// probe only takes the baseline and says what the numbers are.
func (p *CacheProbe) readProcfs(now time.Time) (*model.Cache, error) {
	last := p.last
	p.last = now
	if last.IsZero() {
		return nil, nil
	}
	return p.newCache(cacheSourceProcfs), nil
}
