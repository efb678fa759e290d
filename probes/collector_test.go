package probes

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// fakeProbe records the frames it saw and sets CPU.Count to its call count.
type fakeProbe struct {
	name   string
	delay  time.Duration
	calls  atomic.Int64
	saw    []int // Processes length seen in the frame, per call
	mu     sync.Mutex
	closed atomic.Bool
	err    error
	set    func(s *model.Sample, n int)
}

func (f *fakeProbe) Name() string { return f.name }

func (f *fakeProbe) Collect(t *Tick) (Part, error) {
	n := int(f.calls.Add(1))
	if f.closed.Load() {
		panic("Collect after Close")
	}
	f.mu.Lock()
	f.saw = append(f.saw, len(t.Frame.Processes))
	f.mu.Unlock()
	time.Sleep(f.delay)
	if f.err != nil {
		return nil, f.err
	}
	return func(s *model.Sample) { f.set(s, n) }, nil
}

func (f *fakeProbe) Close() error { f.closed.Store(true); return nil }

func TestCollectorOnePublishPerFrameInDeclaredOrder(t *testing.T) {
	procs := &fakeProbe{name: "process", delay: 20 * time.Millisecond, set: func(s *model.Sample, n int) {
		s.Processes = make([]model.Process, n)
	}}
	// Reads the scanner's part of the same frame: it must see n processes
	// in call n.
	cgroups := &fakeProbe{name: "cgroup", set: func(s *model.Sample, n int) {}}
	cpu := &fakeProbe{name: "cpu", set: func(s *model.Sample, n int) { s.CPU = &model.CPU{Count: n} }}
	store := model.NewStore(model.Host{}, 0.1, 100)
	c := NewCollector(store, 100*time.Millisecond, []Probe{procs, cgroups, cpu}, [][]string{nil, {"process"}, nil}, nil)
	defer c.Close()
	seq := store.Snapshot().Seq
	for i := 1; i <= 5; i++ {
		at := time.Now()
		c.Frame(at)
		snap := store.Snapshot()
		if snap.Seq != seq+uint64(i) {
			t.Fatalf("frame %d: store seq %d, want %d (one publish per frame)", i, snap.Seq, seq+uint64(i))
		}
		if !snap.Sample.Time.Equal(at) || snap.Sample.CPU.Count != i || len(snap.Sample.Processes) != i {
			t.Fatalf("frame %d: time %v, cpu %d, processes %d", i, snap.Sample.Time, snap.Sample.CPU.Count, len(snap.Sample.Processes))
		}
	}
	for i, n := range cgroups.saw {
		if n != i+1 {
			t.Errorf("cgroup probe call %d saw %d processes, want this frame's %d", i+1, n, i+1)
		}
	}
}

// A real Run for about a second: one frame per interval, one Sample.Time
// per frame, and the probes' windows equal.
func TestCollectorRunOneFramePerInterval(t *testing.T) {
	a := &fakeProbe{name: "a", delay: 5 * time.Millisecond, set: func(s *model.Sample, n int) { s.CPU = &model.CPU{Count: n} }}
	b := &fakeProbe{name: "b", delay: 15 * time.Millisecond, set: func(s *model.Sample, n int) {}}
	d := &fakeProbe{name: "d", set: func(s *model.Sample, n int) {}}
	store := model.NewStore(model.Host{}, 0.2, 100)
	c := NewCollector(store, 200*time.Millisecond, []Probe{a, b, d}, [][]string{nil, nil, {"b"}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 1100*time.Millisecond)
	defer cancel()
	var times []time.Time
	var last uint64
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	for {
		select {
		case <-store.Changed():
			snap := store.Snapshot()
			if snap.Seq != last && !snap.Sample.Time.IsZero() {
				last = snap.Seq
				times = append(times, snap.Sample.Time)
				checkWindows(t, snap.Sample, 200*time.Millisecond, 25*time.Millisecond)
			}
			continue
		case <-done:
		}
		break
	}
	c.Close()
	if len(times) < 5 || len(times) > 7 {
		t.Fatalf("%d frames in 1.1 s at 200 ms, want 6±1", len(times))
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 150*time.Millisecond || gap > 250*time.Millisecond {
			t.Errorf("frames %d and %d are %v apart, want the interval", i-1, i, gap)
		}
	}
}

// checkWindows asserts every probe's rate window is within tol of the
// others' and of the interval. Joins (probes that run after others and
// only combine their parts, like the cgroup probe summing RSS) have no
// rates of their own and are not checked.
func checkWindows(t *testing.T, s *model.Sample, interval, tol time.Duration, joins ...string) {
	t.Helper()
	var lo, hi float64 = 1e9, -1
	for _, p := range s.Probes {
		if slices.Contains(joins, p.Name) {
			continue
		}
		if !p.WindowS.OK {
			return // baseline
		}
		lo, hi = min(lo, p.WindowS.V), max(hi, p.WindowS.V)
	}
	if hi-lo > tol.Seconds() || hi-interval.Seconds() > tol.Seconds() || interval.Seconds()-lo > tol.Seconds() {
		t.Errorf("rate windows %v..%v s in one frame, interval %v: %+v", lo, hi, interval, s.Probes)
	}
}

// A probe that overruns the budget does not stall the frame: the frame goes
// out on time with that probe's previous part, marked stale with its age,
// and its late result lands in a later frame.
func TestCollectorOverrunningProbeIsStaleNotBlocking(t *testing.T) {
	var slow atomic.Bool
	p := &fakeProbe{name: "scan", set: func(s *model.Sample, n int) { s.CPU = &model.CPU{Count: n} }}
	q := &fakeProbe{name: "cpu", set: func(s *model.Sample, n int) { s.Memory = &model.Memory{TotalBytes: uint64(n)} }}
	store := model.NewStore(model.Host{}, 0.1, 100)
	c := NewCollector(store, 100*time.Millisecond, []Probe{&switchable{p, &slow}, q}, nil, nil)
	defer c.Close()
	c.Frame(time.Now()) // count 1
	slow.Store(true)
	started := time.Now()
	c.Frame(time.Now())
	if took := time.Since(started); took > 150*time.Millisecond {
		t.Fatalf("frame with an overrunning probe took %v, budget 80 ms", took)
	}
	s := store.Snapshot().Sample
	st := s.Probe("scan")
	if st == nil || !st.Stale || !st.AgeS.OK || st.AgeS.V <= 0 || st.Error == "" {
		t.Fatalf("overrunning probe status %+v, want stale with an age and a reason", st)
	}
	if s.CPU.Count != 1 {
		t.Errorf("stale part is from call %d, want the carried-over call 1", s.CPU.Count)
	}
	if q := s.Probe("cpu"); q.Stale || s.Memory.TotalBytes != 2 {
		t.Errorf("the other probe's part is stale %v / from call %d, want fresh call 2", q.Stale, s.Memory.TotalBytes)
	}
	slow.Store(false)
	time.Sleep(250 * time.Millisecond) // the slow call (300 ms) finishes
	c.Frame(time.Now())
	s = store.Snapshot().Sample
	if st := s.Probe("scan"); !st.Stale || s.CPU.Count != 2 {
		t.Errorf("late result: status %+v count %d, want the late call 2 applied, marked stale", st, s.CPU.Count)
	}
	c.Frame(time.Now())
	s = store.Snapshot().Sample
	if st := s.Probe("scan"); st.Stale || s.CPU.Count != 3 {
		t.Errorf("recovered: status %+v count %d, want fresh call 3", st, s.CPU.Count)
	}
}

type switchable struct {
	*fakeProbe
	slow *atomic.Bool
}

func (s *switchable) Collect(t *Tick) (Part, error) {
	if s.slow.Load() {
		time.Sleep(300 * time.Millisecond)
	}
	return s.fakeProbe.Collect(t)
}

func TestCollectorFailedProbeKeepsOldPartAndReportsError(t *testing.T) {
	p := &fakeProbe{name: "cpu", set: func(s *model.Sample, n int) { s.CPU = &model.CPU{Count: n} }}
	store := model.NewStore(model.Host{}, 0.1, 100)
	c := NewCollector(store, 100*time.Millisecond, []Probe{p}, nil, nil)
	defer c.Close()
	c.Frame(time.Now())
	p.err = errors.New("read /proc/stat: boom")
	c.Frame(time.Now())
	s := store.Snapshot().Sample
	if st := s.Probe("cpu"); !st.Stale || s.Errors["cpu"] != "read /proc/stat: boom" || s.CPU.Count != 1 {
		t.Errorf("status %+v errors %v cpu %d", st, s.Errors, s.CPU.Count)
	}
	p.err = nil
	c.Frame(time.Now())
	if s := store.Snapshot().Sample; len(s.Errors) != 0 || s.Probe("cpu").Stale {
		t.Errorf("error not cleared after a good read: %v", s.Errors)
	}
}

// Close during a running frame and during a probe's Collect waits for it:
// the probe is never closed under a running Collect (run with -race).
func TestCollectorCloseWaitsForRunningCollect(t *testing.T) {
	for i := 0; i < 20; i++ {
		p := &fakeProbe{name: "scan", delay: time.Duration(i%5) * 10 * time.Millisecond, set: func(s *model.Sample, n int) {}}
		store := model.NewStore(model.Host{}, 0.02, 100)
		c := NewCollector(store, 20*time.Millisecond, []Probe{p}, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		go c.Run(ctx)
		time.Sleep(time.Duration(i) * 3 * time.Millisecond)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		cancel()
		if !p.closed.Load() {
			t.Fatal("probe not closed")
		}
		c.Frame(time.Now()) // after Close: does nothing, does not panic
	}
}

// The real probes of this machine, through the registry: every rate in a
// frame is over the same window within a few milliseconds.
func TestCollectorLiveProbesShareOneWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("live")
	}
	host, err := ReadHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{ProcRoot: "/proc", SysRoot: "/sys", CgroupRoot: "/sys/fs/cgroup", PasswdPath: "/etc/passwd",
		Host: host, Demand: &model.Demand{}, ForceTier: CacheTierProcfs}
	ps, err := Open(env)
	if err != nil {
		t.Fatal(err)
	}
	fams, _ := Families()
	after := make([][]string, len(fams))
	for i, f := range fams {
		after[i] = f.After
	}
	// A 1 s interval as vitals runs by default: its 800 ms budget holds a
	// scan of 10,000 processes on a loaded 2-CPU machine, so no probe
	// overruns and every window is one interval.
	const interval = time.Second
	store := model.NewStore(host, interval.Seconds(), 100)
	c := NewCollector(store, interval, ps, after, nil)
	defer c.Close()
	start := time.Now()
	for i := 0; i < 4; i++ {
		c.Frame(start.Add(time.Duration(i) * interval))
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * interval)))
	}
	s := store.Snapshot().Sample
	if len(s.Probes) != len(fams) {
		t.Fatalf("%d probe statuses for %d families", len(s.Probes), len(fams))
	}
	t.Logf("%d processes; windows %+v", len(s.Processes), s.Probes)
	for _, p := range s.Probes {
		if p.Stale || p.Error != "" {
			t.Errorf("probe %s stale/error: %+v", p.Name, p)
		}
	}
	var joins []string
	for _, f := range fams {
		if len(f.After) > 0 {
			joins = append(joins, f.Name)
		}
	}
	if slices.Contains(joins, "cache") {
		t.Error("the page-cache probe waits for another probe: its eBPF counts would be over a window shifted by the scan")
	}
	checkWindows(t, s, interval, 5*time.Millisecond, joins...)
}

// Shutdown while the real probes are mid-scan and mid-drain: Close waits for
// them and only then releases their fds and BPF objects (run with -race;
// this was a "concurrent map read and map write" crash at exit).
func TestCollectorCloseDuringRealScanAndDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("live")
	}
	host, err := ReadHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		env := &Env{ProcRoot: "/proc", SysRoot: "/sys", CgroupRoot: "/sys/fs/cgroup", PasswdPath: "/etc/passwd",
			Host: host, Demand: &model.Demand{}}
		env.Demand.Set(model.DemandSet{All: true})
		ps, err := Open(env)
		if err != nil {
			t.Fatal(err)
		}
		store := model.NewStore(host, 0.1, 100)
		c := NewCollector(store, 20*time.Millisecond, ps, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		go c.Run(ctx)
		time.Sleep(time.Duration(i*7) * time.Millisecond)
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		cancel()
	}
}
