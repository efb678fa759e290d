package probes

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// RunQLatConfig says how the run-queue latency probe runs.
type RunQLatConfig struct {
	ForceTier    string
	ProcfsReason string
	Session      *ebpf.Session
	Demand       *model.Demand
}

// RunQLatProbe is runqlat: a histogram of run-queue latency per interval,
// per CPU on demand, the processes that waited most (tp_btf), and a
// warning when latency rises over its last minute. Without eBPF there is
// no histogram: per-process wait comes from schedstat (processes[].wait_pct)
// and system-wide CPU pressure from PSI (cpu.psi).
type RunQLatProbe struct {
	rq      *ebpf.RunQLat
	feature model.Feature
	demand  *model.Demand
	last    time.Time
	// p99s are the last minute's p99 values, for the baseline.
	p99s []float64
}

// RunQLatTop is how many processes RunQLat.Processes keeps.
const RunQLatTop = 20

func init() {
	Register(Family{Name: "runqlat", After: []string{"cpu"}, New: func(env *Env) (Probe, error) {
		cfg := RunQLatConfig{ForceTier: env.ForceTier, Session: env.BPF, Demand: env.Demand}
		if env.CopiedTree {
			cfg.ForceTier = model.TierProcfs
			cfg.ProcfsReason = "reading a copied tree (--proc-root, --sys-root): eBPF would measure this kernel, not the copy"
		}
		return NewRunQLatProbe(cfg)
	}})
}

// NewRunQLatProbe loads the run-queue latency programs; without them the
// probe reports why and contributes nothing. It never fails.
func NewRunQLatProbe(cfg RunQLatConfig) (*RunQLatProbe, error) {
	p := &RunQLatProbe{demand: cfg.Demand}
	if cfg.ForceTier == model.TierProcfs {
		p.feature = skippedFeature(ebpf.RunQLatFeature(nil), cfg.ProcfsReason)
	} else {
		rq, rep, err := ebpf.OpenRunQLat(cfg.Session, ebpf.LoadOptions{ForceTier: cfg.ForceTier})
		if err == nil {
			p.rq = rq
		} else {
			rep.Tier = model.TierProcfs
		}
		p.feature = rep
	}
	if p.rq == nil {
		p.feature.Fallback = "no histogram: per-process wait from schedstat (processes[].wait_pct), CPU pressure from PSI (cpu.psi)"
	}
	return p, nil
}

// Name is the probe's key in the model's error map.
func (p *RunQLatProbe) Name() string { return "runqlat" }

// Features is the runqlat feature's report.
func (p *RunQLatProbe) Features() []model.Feature { return []model.Feature{p.feature} }

// Close detaches the programs.
func (p *RunQLatProbe) Close() error {
	if p.rq == nil {
		return nil
	}
	err := p.rq.Close()
	p.rq = nil
	return err
}

// Collect reads the interval's histograms. Its part swaps in a copy of the
// CPU part with RunQLat set (the CPU probe owns CPU). The first call is the
// baseline.
func (p *RunQLatProbe) Collect(t *Tick) (Part, error) {
	if p.rq == nil {
		return nil, nil
	}
	rd, err := p.rq.Read(p.demand == nil || p.demand.Get().WantsRunQLatProcesses())
	if err != nil {
		return nil, err
	}
	now := t.Now
	if p.last.IsZero() {
		p.last = now
		return nil, nil
	}
	windowS := now.Sub(p.last).Seconds()
	p.last = now
	r := p.build(rd, windowS)
	return func(s *model.Sample) {
		if s.CPU == nil {
			return
		}
		c := *s.CPU
		c.RunQLat = r
		s.CPU = &c
	}, nil
}

func (p *RunQLatProbe) build(rd ebpf.RunQLatReading, windowS float64) *model.RunQLat {
	r := &model.RunQLat{
		Tier:      p.rq.Tier(),
		WindowS:   windowS,
		BucketsUs: model.RunQLatBucketsUs,
		Counts:    make([]uint64, model.RunQLatSlots),
		Waits:     rd.Waits,
		Lost:      rd.Lost,
	}
	perCPU := p.demand != nil && p.demand.Get().RunQLatPerCPU
	for cpu, slots := range rd.PerCPU {
		var n uint64
		for i, c := range slots {
			r.Counts[i] += c
			n += c
		}
		if perCPU {
			r.PerCPU = append(r.PerCPU, model.RunQLatCPU{CPU: cpu, Counts: slots, Waits: n, P99Us: model.HistPercentile(slots, 0.99)})
		}
	}
	if rd.Waits > 0 {
		r.MeanUs = model.Known(float64(rd.TotalNs) / float64(rd.Waits) / 1e3)
	}
	r.P50Us = model.HistPercentile(r.Counts, 0.50)
	r.P99Us = model.HistPercentile(r.Counts, 0.99)
	if len(p.p99s) > 0 {
		s := slices.Clone(p.p99s)
		slices.Sort(s)
		r.BaselineP99Us = model.Known(s[len(s)/2])
	}
	r.Warning = model.RunQLatWarning(r.P99Us, r.BaselineP99Us)
	if r.P99Us.OK {
		p.p99s = append(p.p99s, r.P99Us.V)
		if n := int(model.ShortLivedMinute.Seconds() / max(windowS, 0.1)); len(p.p99s) > max(n, 1) {
			p.p99s = p.p99s[len(p.p99s)-max(n, 1):]
		}
	}
	switch {
	case p.rq.PerProcess() && rd.Procs == nil:
		r.ProcessesReason = "not read while no view shows them (a snapshot does; see processes[].wait_pct, from schedstat, meanwhile)"
		if rd.ProcsBaseline {
			r.ProcessesReason = "baseline taken this interval"
		}
	case p.rq.PerProcess():
		procs := rd.Procs
		for i := range procs {
			procs[i].WaitPct = procs[i].WaitS / windowS * 100
			procs[i].MeanUs = procs[i].WaitS * 1e6 / float64(max(procs[i].Waits, 1))
		}
		slices.SortFunc(procs, func(a, b model.RunQWait) int {
			return cmp.Or(cmp.Compare(b.WaitS, a.WaitS), cmp.Compare(a.PID, b.PID))
		})
		if len(procs) > RunQLatTop {
			procs = procs[:RunQLatTop]
		}
		r.Processes = procs
	default:
		r.ProcessesReason = fmt.Sprintf("the %s tier keeps no per-task totals (no BTF task pointer for task storage): see processes[].wait_pct (schedstat)", p.rq.Tier())
	}
	return r
}
