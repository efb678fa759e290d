package probes

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// ExecExitConfig says how the exec/exit probe runs.
type ExecExitConfig struct {
	CgroupRoot string // "/sys/fs/cgroup" when empty
	ProcRoot   string // "/proc" when empty
	// ForceTier is an eBPF tier, "procfs" for the scanner fallback, or ""
	// for the first tier that loads; ProcfsReason says why procfs.
	ForceTier    string
	ProcfsReason string
	Session      *ebpf.Session
	// RingBytes resizes the ring buffer (a power-of-2 multiple of the page
	// size; 0: the object's 1 MiB); QueueLen bounds the event queue.
	RingBytes uint32
	QueueLen  int
	// ClockTicks is USER_HZ (for the scanner's CPU times); 100 when 0.
	ClockTicks int
}

// ExecExitProbe turns process starts and exits into events (execsnoop,
// exitsnoop) and, every frame, into model.ShortLived: the processes that
// started and exited between two frames, which no process table shows,
// and how much of the CPU the table misses they explain. With eBPF every
// exec (with argv) and exit (with status, CPU, peak RSS, I/O) is an event;
// without it, processes that appear in or vanish from the scanner's table
// are, and those living less than an interval are missed.
type ExecExitProbe struct {
	bpf     *ebpf.ProcEvents
	reader  *RingReader // eBPF mode
	queue   *EventQueue // scanner mode
	feature model.Feature
	cgroups *cgroupIDs
	hz      float64
	// procRoot is where isZombie looks ("/proc").
	procRoot string

	mu sync.Mutex
	// tally counts since the last Collect; windowStart is that Collect's
	// time: an exit whose process started at or after it is short-lived.
	tally       model.ShortLivedTally
	windowStart time.Time

	tracker  model.ShortLivedTracker
	last     time.Time
	lastLoss uint64
	stale    ebpf.StaleExitBuf
	// prev is the scanner's previous table (scanner mode).
	prev map[model.ProcKey]*model.Process
}

// ExecExitTierProcfs forces the scanner fallback.
const ExecExitTierProcfs = model.TierProcfs

func init() {
	Register(Family{Name: "procevents", After: []string{"cpu", "process"}, New: func(env *Env) (Probe, error) {
		cfg := ExecExitConfig{CgroupRoot: env.CgroupRoot, ProcRoot: env.ProcRoot, ForceTier: env.ForceTier, Session: env.BPF, ClockTicks: env.Host.ClockTicks}
		if env.CopiedTree {
			cfg.ForceTier = model.TierProcfs
			cfg.ProcfsReason = "reading a copied tree (--proc-root, --sys-root): eBPF would see this kernel, not the copy"
		}
		return NewExecExitProbe(cfg)
	}})
}

// NewExecExitProbe loads the exec/exit programs, or falls back to the
// scanner's table with the reason in its feature report. It never fails.
func NewExecExitProbe(cfg ExecExitConfig) (*ExecExitProbe, error) {
	if cfg.CgroupRoot == "" {
		cfg.CgroupRoot = "/sys/fs/cgroup"
	}
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	if cfg.ClockTicks <= 0 {
		cfg.ClockTicks = 100
	}
	p := &ExecExitProbe{cgroups: newCgroupIDs(cfg.CgroupRoot), hz: float64(cfg.ClockTicks), procRoot: cfg.ProcRoot}
	var rep model.Feature
	if cfg.ForceTier == model.TierProcfs {
		rep = skippedFeature(ebpf.ProcEventsFeature(), cfg.ProcfsReason)
	} else {
		opts := ebpf.LoadOptions{ForceTier: cfg.ForceTier}
		if cfg.RingBytes != 0 {
			opts.MaxEntries = map[string]uint32{"events": cfg.RingBytes}
		}
		var err error
		p.bpf, rep, err = ebpf.OpenProcEvents(cfg.Session, opts)
		if err == nil {
			p.reader, err = NewRingReader(model.SourceProcEvents, p.bpf.Ring(), p.bpf.Drops(), cfg.QueueLen, p.decode)
			if err != nil {
				p.bpf.Close()
				p.bpf = nil
				rep = failActive(rep, err)
			}
		}
	}
	if p.reader == nil {
		rep.Tier = model.TierProcfs
		rep.Fallback = "process table (new and vanished processes between scans; those living less than an interval are missed)"
		p.queue = NewEventQueue(model.SourceScanner, cfg.QueueLen)
	}
	p.feature = rep
	return p, nil
}

// skippedFeature is a feature report whose every tier was skipped for
// reason (forced to procfs, a copied tree).
func skippedFeature(spec ebpf.FeatureSpec, reason string) model.Feature {
	if reason == "" {
		reason = "tier forced to " + model.TierProcfs
	}
	rep := model.Feature{Name: spec.Name, Tier: model.TierProcfs, Reason: reason}
	for _, t := range spec.Tiers {
		rep.Tiers = append(rep.Tiers, model.TierOutcome{Tier: t.Name, Status: model.TierSkipped, Reason: reason})
	}
	return rep
}

// failActive marks the report's active tier failed with err (it loaded,
// but what runs on it could not start).
func failActive(rep model.Feature, err error) model.Feature {
	for i := range rep.Tiers {
		if rep.Tiers[i].Status == model.TierActive {
			rep.Tiers[i].Status, rep.Tiers[i].Reason = model.TierFailed, err.Error()
		}
	}
	rep.Tier, rep.Reason = model.TierProcfs, err.Error()
	return rep
}

// Name is the probe's key in the model's error map.
func (p *ExecExitProbe) Name() string { return "procevents" }

// Features is the exec/exit feature's report.
func (p *ExecExitProbe) Features() []model.Feature { return []model.Feature{p.feature} }

// EventSources is the ring-buffer reader (eBPF) or the scanner's queue.
func (p *ExecExitProbe) EventSources() []EventSource {
	if p.reader != nil {
		return []EventSource{p.reader}
	}
	return []EventSource{p.queue}
}

// Close stops the reader and releases the BPF programs.
func (p *ExecExitProbe) Close() error {
	var err error
	if p.reader != nil {
		err = p.reader.Close()
	}
	if p.bpf != nil {
		err = errors.Join(err, p.bpf.Close())
		p.bpf = nil
	}
	return err
}

// decode runs in the reader's goroutine for every record: it decodes,
// names the cgroup, and counts the event into this interval's tally.
func (p *ExecExitProbe) decode(raw []byte, ev *model.Event) bool {
	if !ebpf.DecodeProcEvent(raw, ev) {
		return false
	}
	switch d := ev.Data.(type) {
	case *model.ExecData:
		d.Cgroup = p.cgroups.Path(d.CgroupID)
		p.mu.Lock()
		p.tally.Execs++
		p.mu.Unlock()
	case *model.ExitData:
		d.Cgroup = p.cgroups.Path(d.CgroupID)
		start := ev.Time.Add(-time.Duration(d.LifetimeS.V * 1e9))
		p.mu.Lock()
		if d.LifetimeS.OK && !p.windowStart.IsZero() && !start.Before(p.windowStart) {
			p.tally.Add(ev.Comm, d.CPUS.V)
		}
		p.mu.Unlock()
	}
	return true
}

// Collect closes the interval's tally and returns the frame's ShortLived.
// It runs after the CPU probe and the scanner and reads their parts for
// the CPU gap. The first call is the baseline.
func (p *ExecExitProbe) Collect(t *Tick) (Part, error) {
	now := t.Now
	var tally model.ShortLivedTally
	if p.reader != nil {
		p.sendZombieExits()
		p.mu.Lock()
		tally, p.tally = p.tally, model.ShortLivedTally{}
		p.windowStart = now
		p.mu.Unlock()
	} else {
		tally = p.scan(t.Frame.Processes, now)
	}
	if p.last.IsZero() {
		p.last = now
		return nil, nil
	}
	tally.Start, tally.End = p.last, now
	windowS := now.Sub(p.last).Seconds()
	p.last = now
	source := model.SourceProcEvents
	if p.reader == nil {
		source = model.SourceScanner
	}
	interval, minute := p.tracker.Add(tally, p.reader != nil)
	sl := &model.ShortLived{
		Source:   source,
		Interval: interval,
		Minute:   minute,
		CPUGap:   model.ComputeCPUGap(t.Frame.CPU, t.Frame.Processes, windowS, interval, source),
	}
	if p.reader != nil {
		loss := p.reader.Loss()
		lost := loss.KernelDropped + loss.QueueDropped
		if lost > p.lastLoss {
			sl.Note = fmt.Sprintf("%d exec/exit events lost this interval (ring buffer or queue full): counts are lower bounds", lost-p.lastLoss)
		}
		p.lastLoss = lost
	} else {
		sl.Note = "without eBPF: processes new in the process table; those living less than an interval are missed, and their CPU is unknown"
	}
	return func(s *model.Sample) { s.ShortLived = sl }, nil
}

// zombieWait is how long an exit waits for its process to be reaped (its
// CPU to be final) before it is sent as a lower bound. A parent that
// waits reaps within milliseconds.
const zombieWait = 2 * time.Second

// sendZombieExits sends the exits whose processes have not been reaped
// for zombieWait, flagged lower bounds, through the reader's queue.
func (p *ExecExitProbe) sendZombieExits() {
	_ = p.bpf.TakeStaleExits(zombieWait, &p.stale, func(raw []byte) {
		var ev model.Event
		if !p.decode(raw, &ev) {
			p.reader.countMalformed()
			return
		}
		if d, ok := ev.Data.(*model.ExitData); ok && d.CPULowerBoundReason == ebpf.ZombieReason &&
			!isZombie(p.procRoot, ev.PID, ev.StartTicks) {
			d.CPULowerBoundReason = ebpf.MissedFreeReason
		}
		p.reader.Push(ev)
	})
}

// isZombie reports whether process pid, started at startTicks, is still
// there unreaped (state Z in /proc/PID/stat).
func isZombie(procRoot string, pid int32, startTicks uint64) bool {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(int(pid)), "stat"))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), f[19] field 22 (start time).
	return len(f) > 19 && f[0] == "Z" && f[19] == strconv.FormatUint(startTicks, 10)
}

// scan is the fallback: processes new in the table since the last frame
// become exec events, vanished ones exit events (status unknown, CPU as of
// the last scan). It returns the interval's tally (new processes).
func (p *ExecExitProbe) scan(procs []model.Process, now time.Time) model.ShortLivedTally {
	var tally model.ShortLivedTally
	if procs == nil {
		return tally
	}
	cur := make(map[model.ProcKey]*model.Process, len(procs))
	for i := range procs {
		cur[procs[i].Key()] = &procs[i]
	}
	if p.prev != nil {
		for k, pr := range cur {
			if _, ok := p.prev[k]; ok {
				continue
			}
			tally.Execs++
			tally.Add(pr.Comm, 0)
			d := &model.ExecData{UID: pr.UID, Cgroup: pr.Cgroup, Args: cmdlineArgs(pr.Cmdline),
				ArgsMissing: "from the process table: cmdline as the scanner read it, split at spaces"}
			p.queue.Push(model.Event{Source: model.SourceScanner, Kind: model.EventExec, Time: pr.StartTime,
				PID: pr.PID, PPID: pr.PPID, StartTicks: pr.StartTicks, Comm: pr.Comm, Data: d})
		}
		for k, pr := range p.prev {
			if _, ok := cur[k]; ok {
				continue
			}
			d := &model.ExitData{UID: pr.UID, Cgroup: pr.Cgroup, CPUS: model.Known(float64(pr.CPUTimeTicks) / p.hz),
				CPULowerBound: true, CPULowerBoundReason: scannerExitCPUReason, Threads: int(pr.Threads)}
			if !pr.StartTime.IsZero() {
				d.LifetimeS = model.Known(now.Sub(pr.StartTime).Seconds())
			}
			p.queue.Push(model.Event{Source: model.SourceScanner, Kind: model.EventExit, Time: now,
				PID: pr.PID, PPID: pr.PPID, StartTicks: pr.StartTicks, Comm: pr.Comm, Data: d})
		}
	}
	// Pointers into the published slice: its records are immutable.
	p.prev = cur
	return tally
}

const scannerExitCPUReason = "from the process table: CPU as of the last scan, without what it used after"

// cmdlineArgs splits the scanner's cmdline text (arguments joined with
// spaces) back into words; "[comm]" (a kernel thread) has none.
func cmdlineArgs(cmdline string) []string {
	if cmdline == "" || strings.HasPrefix(cmdline, "[") {
		return []string{}
	}
	return strings.Fields(cmdline)
}
