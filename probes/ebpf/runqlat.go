package ebpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/vitals-dev/vitals/bpf/runqlat"
	"github.com/vitals-dev/vitals/model"
)

// RunQLatFeature is the run-queue latency object with its tiers. iter is
// where the tp_btf tier's task-iterator link goes (nil: not wanted). The
// hooks are the scheduler's tracepoints, stable and present everywhere;
// the kprobes bcc once used (ttwu_do_wakeup, finish_task_switch) are
// internal functions that get renamed and inlined, so there is no kprobe
// or fentry tier.
func RunQLatFeature(iter **link.Iter) FeatureSpec {
	btfProgs := []string{"tpbtf_wakeup", "tpbtf_wakeup_new", "tpbtf_switch"}
	return FeatureSpec{
		Name: "runqlat",
		Spec: runqlat.LoadRunQLat,
		Tiers: []Tier{
			{Name: TierTpBTF, Programs: append(btfProgs, "dump_waits"),
				Attach: func(coll *ebpf.Collection, spec *ebpf.CollectionSpec) ([]link.Link, error) {
					var links []link.Link
					for _, name := range btfProgs {
						l, err := link.AttachTracing(link.TracingOptions{Program: coll.Programs[name]})
						if err != nil {
							for _, l := range links {
								l.Close()
							}
							return nil, fmt.Errorf("%s: %w", name, err)
						}
						links = append(links, l)
					}
					it, err := link.AttachIter(link.IterOptions{Program: coll.Programs["dump_waits"]})
					if err != nil {
						for _, l := range links {
							l.Close()
						}
						return nil, fmt.Errorf("dump_waits (iter/task): %w", err)
					}
					if iter != nil {
						*iter = it
					}
					return append(links, it), nil
				}},
			{Name: TierRawTp, Programs: []string{"rawtp_wakeup", "rawtp_wakeup_new", "rawtp_switch"}},
			{Name: TierTracepoint, Programs: []string{"tp_wakeup", "tp_wakeup_new", "tp_switch"}},
		},
	}
}

// RunQLat is the loaded run-queue latency feature. Read it from one
// goroutine.
type RunQLat struct {
	loaded *Loaded
	hists  *ebpf.Map
	iter   *link.Iter
	ncpu   int
	cur    []runqlat.RunQLatHist
	prev   []runqlat.RunQLatHist
	// prevWait is each thread's cumulative wait at the last Read.
	prevWait map[threadKey]threadWait
	buf      []byte
}

type threadKey struct {
	tid, pid   uint32
	startTicks uint64
}

type threadWait struct{ ns, waits uint64 }

// RunQLatReading is one interval's run-queue latency.
type RunQLatReading struct {
	// PerCPU[i] are CPU i's slot counts over the interval.
	PerCPU [][]uint64
	// Waits and TotalNs over all CPUs; Lost: starts not recorded.
	Waits, TotalNs, Lost uint64
	// Procs is each process's wait over the interval (tp_btf only; nil
	// otherwise), unordered.
	Procs []model.RunQWait
	// ProcsBaseline: this Read only took the per-process baseline (the
	// first asked for after Reads without them).
	ProcsBaseline bool
}

// OpenRunQLat loads and attaches the run-queue latency programs. The
// error is non-nil when no tier runs. The first Read is a baseline.
func OpenRunQLat(sess *Session, opts LoadOptions) (*RunQLat, model.Feature, error) {
	r := &RunQLat{prevWait: map[threadKey]threadWait{}}
	l, rep := Load(sess, RunQLatFeature(&r.iter), opts)
	if l == nil {
		return nil, rep, fmt.Errorf("runqlat: %s", rep.Reason)
	}
	r.loaded, r.hists = l, l.Maps["hists"]
	r.ncpu = max(ebpf.MustPossibleCPU(), 1)
	r.cur = make([]runqlat.RunQLatHist, r.ncpu)
	r.prev = make([]runqlat.RunQLatHist, r.ncpu)
	if l.Tier != TierTpBTF {
		r.iter = nil
	}
	return r, rep, nil
}

// Tier is the active tier.
func (r *RunQLat) Tier() string { return r.loaded.Tier }

// PerProcess reports whether Read returns per-process waits.
func (r *RunQLat) PerProcess() bool { return r.iter != nil }

// ProgramIDs are the kernel ids of the loaded programs.
func (r *RunQLat) ProgramIDs() []ebpf.ProgramID { return r.loaded.ProgramIDs() }

// MapIDs are the kernel ids of the maps.
func (r *RunQLat) MapIDs() []ebpf.MapID { return r.loaded.MapIDs() }

// Close detaches the programs and frees the maps.
func (r *RunQLat) Close() error {
	if r == nil || r.loaded == nil {
		return nil
	}
	err := r.loaded.Close()
	r.loaded, r.iter = nil, nil
	return err
}

// Read returns the waits since the previous Read (the first one: since
// Open), per process only withProcs. Counters are cumulative in the
// kernel; a counter that went back counts from zero.
func (r *RunQLat) Read(withProcs bool) (RunQLatReading, error) {
	var out RunQLatReading
	if r.loaded == nil {
		return out, errors.New("runqlat: closed")
	}
	if err := r.hists.Lookup(uint32(0), &r.cur); err != nil {
		return out, fmt.Errorf("read runqlat histograms: %w", err)
	}
	out.PerCPU = make([][]uint64, r.ncpu)
	for c := range r.cur {
		cur, prev := &r.cur[c], &r.prev[c]
		slots := make([]uint64, model.RunQLatSlots)
		for i := range slots {
			slots[i] = model.ClampedDelta(prev.Slots[i], cur.Slots[i])
		}
		out.PerCPU[c] = slots
		out.Waits += model.ClampedDelta(prev.Count, cur.Count)
		out.TotalNs += model.ClampedDelta(prev.TotalNs, cur.TotalNs)
		out.Lost += model.ClampedDelta(prev.Lost, cur.Lost)
	}
	r.prev, r.cur = r.cur, r.prev
	switch {
	case r.iter == nil:
	case !withProcs:
		// The walk is a task iterator over every task (about 3 ms a
		// second at 2,000 processes): skipped while no one looks. The
		// next walk is then a baseline, not the waits since the last.
		r.prevWait = nil
	default:
		baseline := r.prevWait == nil
		procs, err := r.readWaits()
		if err != nil {
			return out, err
		}
		if !baseline {
			out.Procs = procs
		}
		out.ProcsBaseline = baseline
	}
	return out, nil
}

var waitRecSize = int(unsafe.Sizeof(runqlat.RunQLatWaitRec{}))

// readWaits runs the task iterator once and returns each process's wait
// since the last call.
func (r *RunQLat) readWaits() ([]model.RunQWait, error) {
	rd, err := r.iter.Open()
	if err != nil {
		return nil, fmt.Errorf("runqlat task iterator: %w", err)
	}
	r.buf = r.buf[:0]
	var chunk [64 << 10]byte
	for {
		n, err := rd.Read(chunk[:])
		r.buf = append(r.buf, chunk[:n]...)
		if err == io.EOF || (err == nil && n == 0) {
			break
		}
		if err != nil {
			rd.Close()
			return nil, fmt.Errorf("read runqlat task iterator: %w", err)
		}
	}
	rd.Close()
	type procKey struct {
		pid   uint32
		start uint64
	}
	byProc := map[procKey]*model.RunQWait{}
	seen := make(map[threadKey]threadWait, len(r.prevWait))
	var rec runqlat.RunQLatWaitRec
	for off := 0; off+waitRecSize <= len(r.buf); off += waitRecSize {
		if _, err := binary.Decode(r.buf[off:off+waitRecSize], binary.NativeEndian, &rec); err != nil {
			return nil, err
		}
		k := threadKey{tid: rec.Tid, pid: rec.Pid, startTicks: rec.StartTicks}
		cur := threadWait{ns: rec.WaitNs, waits: rec.Waits}
		seen[k] = cur
		prev := r.prevWait[k]
		dns, dw := model.ClampedDelta(prev.ns, cur.ns), model.ClampedDelta(prev.waits, cur.waits)
		if dw == 0 {
			continue
		}
		pk := procKey{rec.Pid, rec.StartTicks}
		p := byProc[pk]
		if p == nil {
			p = &model.RunQWait{PID: int32(rec.Pid), StartTicks: rec.StartTicks}
			byProc[pk] = p
		}
		if rec.Tid == rec.Pid || p.Comm == "" {
			p.Comm = commString(rec.Comm[:])
		}
		p.WaitS += float64(dns) / 1e9
		p.Waits += dw
	}
	r.prevWait = seen
	out := make([]model.RunQWait, 0, len(byProc))
	for _, p := range byProc {
		out = append(out, *p)
	}
	return out, nil
}
