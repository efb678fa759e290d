package prochist

import (
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func proc(pid int32, start uint64, rss uint64, cpu float64) model.Process {
	p := model.Process{ProcessIdentity: model.ProcessIdentity{PID: pid, StartTicks: start}}
	p.RSSBytes, p.CPUPct = rss, cpu
	return p
}

func sample(at time.Duration, procs ...model.Process) *model.Sample {
	return &model.Sample{Time: t0.Add(at), IntervalS: 1, Processes: procs}
}

// A leak of 20 MiB/s (the mem-leak demo) reads 1200 MiB/min, measured
// over the growth window; a steady process reads 0; both unknown before
// MinGrowthSpan.
func TestGrowthOverTheWindow(t *testing.T) {
	tr := New()
	leak, steady := model.ProcKey{PID: 10, StartTicks: 1}, model.ProcKey{PID: 20, StartTicks: 2}
	for s := 0; s <= 300; s++ {
		tr.Record(sample(time.Duration(s)*time.Second,
			proc(10, 1, uint64(100<<20+s*(20<<20)), 50), proc(20, 2, 64<<20, 1)))
		g := tr.Growth(leak)
		if time.Duration(s)*time.Second < MinGrowthSpan {
			if g.OK {
				t.Fatalf("growth known after %d s: %+v", s, g)
			}
			continue
		}
		if !g.OK || !g.Rising {
			t.Fatalf("at %d s: %+v", s, g)
		}
		if got := g.PerMinute / (1 << 20); got < 1199.9 || got > 1200.1 {
			t.Fatalf("at %d s: %.1f MiB/min, want 1200", s, got)
		}
		if g.Span > GrowthWindow+GrowthWindow/growthSteps {
			t.Fatalf("at %d s the span is %v, longer than the window", s, g.Span)
		}
		if g.Bytes != int64(g.Span/time.Second)*(20<<20) {
			t.Fatalf("at %d s grew %d over %v", s, g.Bytes, g.Span)
		}
		if st := tr.Growth(steady); !st.OK || st.Bytes != 0 || st.PerMinute != 0 || st.Rising {
			t.Fatalf("steady: %+v", st)
		}
	}
	// It stops growing: no longer rising at once, and the growth fades
	// as the window moves past the leak.
	for s := 301; s <= 500; s++ {
		tr.Record(sample(time.Duration(s)*time.Second, proc(10, 1, uint64(100<<20+300*(20<<20)), 0)))
		if g := tr.Growth(leak); g.Rising {
			t.Fatalf("at %d s still rising", s)
		}
	}
	if g := tr.Growth(leak); !g.OK || g.Bytes != 0 {
		t.Fatalf("after the window: %+v", g)
	}
}

// The life series covers the whole time since first seen in at most
// LifePoints points, each the mean CPU of its samples and their last RSS.
func TestLifeSeriesCompacts(t *testing.T) {
	tr := New()
	k := model.ProcKey{PID: 1, StartTicks: 1}
	const n = 1000
	for s := 0; s < n; s++ {
		cpu := 0.0
		if s%2 == 1 {
			cpu = 100
		}
		tr.Record(sample(time.Duration(s)*time.Second, proc(1, 1, uint64(s)<<20, cpu)))
	}
	pts, per := tr.History(k, nil)
	if len(pts) > LifePoints || len(pts) < LifePoints/2 {
		t.Fatalf("%d points", len(pts))
	}
	if per*len(pts) < n || per*(len(pts)-1) >= n {
		t.Fatalf("%d points of %d samples for %d samples", len(pts), per, n)
	}
	if !pts[0].Start.Equal(t0) {
		t.Errorf("first point starts %v, want when first seen", pts[0].Start)
	}
	for i, p := range pts[:len(pts)-1] {
		if p.CPUPct != 50 {
			t.Fatalf("point %d: mean CPU %v, want 50", i, p.CPUPct)
		}
		if want := uint64(per*(i+1)-1) << 20; p.RSSBytes != want {
			t.Fatalf("point %d: RSS %d, want the last sample's %d", i, p.RSSBytes, want)
		}
	}
	if last := pts[len(pts)-1]; last.RSSBytes != uint64(n-1)<<20 {
		t.Errorf("last point RSS %d, want the newest", last.RSSBytes)
	}
	if !tr.FirstSeen(k).Equal(t0) {
		t.Error("first seen")
	}
}

// Memory follows the process count: an exited process is forgotten at the
// next sample, and a reused pid with a new start time starts over.
func TestForgetsExitedAndReusedPIDs(t *testing.T) {
	tr := New()
	for s := 0; s < 60; s++ {
		tr.Record(sample(time.Duration(s)*time.Second, proc(1, 1, 1<<20, 0), proc(2, 5, 1<<20, 0)))
	}
	tr.Record(sample(60*time.Second, proc(1, 1, 1<<20, 0), proc(2, 9, 500<<20, 0)))
	if tr.Len() != 2 {
		t.Fatalf("%d entries, want 2", tr.Len())
	}
	if g := tr.Growth(model.ProcKey{PID: 2, StartTicks: 9}); g.OK {
		t.Errorf("a reused pid inherited growth: %+v", g)
	}
	if pts, _ := tr.History(model.ProcKey{PID: 2, StartTicks: 5}, nil); len(pts) != 0 {
		t.Error("the exited process is still held")
	}
}

// A repeated or carried-over sample adds nothing.
func TestSkipsStaleAndRepeatedSamples(t *testing.T) {
	tr := New()
	tr.Record(sample(0, proc(1, 1, 1<<20, 0)))
	tr.Record(sample(0, proc(1, 1, 2<<20, 0)))
	stale := sample(time.Second, proc(1, 1, 3<<20, 0))
	stale.Probes = []model.ProbeStatus{{Name: "process", Stale: true}}
	tr.Record(stale)
	tr.Record(nil)
	if tr.Samples() != 1 {
		t.Fatalf("%d samples recorded, want 1", tr.Samples())
	}
	if pts, _ := tr.History(model.ProcKey{PID: 1, StartTicks: 1}, nil); len(pts) != 1 || pts[0].RSSBytes != 1<<20 {
		t.Fatalf("history %+v", pts)
	}
}

// Two thousand processes for an hour at 1 s stay within a few hundred
// bytes each.
func TestMemoryIsBounded(t *testing.T) {
	tr := New()
	procs := make([]model.Process, 2000)
	for i := range procs {
		procs[i] = proc(int32(i+1), 1, 1<<20, 0)
	}
	for s := 0; s < 3600; s += 7 { // every 7 s: the same shapes, faster
		tr.Record(&model.Sample{Time: t0.Add(time.Duration(s) * time.Second), IntervalS: 7, Processes: procs})
	}
	for _, e := range tr.procs {
		if cap(e.life) > LifePoints || cap(e.recent) > 2*growthSteps+2 {
			t.Fatalf("life cap %d, recent cap %d", cap(e.life), cap(e.recent))
		}
	}
}

// Recording a frame of 2,000 processes costs little and, once every
// process is known, allocates nothing but a full life series' growth.
func BenchmarkRecord2000(b *testing.B) {
	tr := New()
	procs := make([]model.Process, 2000)
	for i := range procs {
		procs[i] = proc(int32(i+1), 1, 1<<20, 0)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tr.Record(&model.Sample{Time: t0.Add(time.Duration(i) * time.Second), IntervalS: 1, Processes: procs})
	}
}
