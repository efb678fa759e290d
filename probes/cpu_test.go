package probes

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// The fixtures proc-cpu-t0, -t1 and -t2 are hand-made so every expected
// number below can be worked out on paper. Between t0 and t1 (2 s apart):
//
//	cpu0: user +40 (guest +10), nice +10, system +20, idle +25, irq +2,
//	      softirq +3: 100 ticks.
//	cpu1: user +10, system +5, idle +80, iowait 400→390 (steps back:
//	      counts 0), irq +1, softirq +2, steal +2: 100 ticks.
//	cpu2: no line in t1 (offline); its counters stay frozen in "cpu".
//	cpu:  user +50 (guest +10), nice +10, system +25, idle +105, iowait
//	      700→690 (0), irq +3, softirq +5, steal +2: 200 ticks.
//	ctxt 5000→4000 (reset: unknown), intr +500, processes +40.
//
// Between t1 and t2 (1 s): cpu2 is back with user +50, system +50 and idle
// 9000→8990 against its last online reading (t0); cpu0 idle +110, cpu1 idle
// +200; cpu: user +50, system +50, idle +300 = 400 ticks. ctxt +600,
// intr +100, processes +1. t2 has no pressure/ directory.

var fixtureT0 = time.Unix(1_700_000_100, 0)

// stage makes dir a copy of a fixture /proc tree, replacing what was there,
// so one probe can read t0, then t1, from the same root.
func stage(t *testing.T, dir, fixture string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", fixture))); err != nil {
		t.Fatal(err)
	}
}

// readFixtures reads each fixture in turn, the i-th at fixtureT0 + at[i]
// seconds, and returns the result of each Read.
func readFixtures(t *testing.T, sysRoot string, fixtures []string, at []float64) []*model.CPU {
	t.Helper()
	root := filepath.Join(t.TempDir(), "proc")
	stage(t, root, fixtures[0])
	p, err := NewCPUProbe(CPUProbeConfig{ProcRoot: root, SysRoot: sysRoot})
	if err != nil {
		t.Fatal(err)
	}
	var out []*model.CPU
	for i, f := range fixtures {
		stage(t, root, f)
		cpu, err := p.Read(fixtureT0.Add(time.Duration(at[i] * float64(time.Second))))
		if err != nil {
			t.Fatalf("Read %s: %v", f, err)
		}
		out = append(out, cpu)
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func checkPercent(t *testing.T, what string, got, want model.CPUPercent) {
	t.Helper()
	g := reflect.ValueOf(got)
	w := reflect.ValueOf(want)
	for i := range g.NumField() {
		if !near(g.Field(i).Float(), w.Field(i).Float()) {
			t.Errorf("%s: %s = %v, want %v", what, g.Type().Field(i).Name, g.Field(i).Float(), w.Field(i).Float())
		}
	}
}

func checkRates(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
		return
	}
	for i := range want {
		if !near(got[i], want[i]) {
			t.Errorf("%s = %v, want %v", what, got, want)
			return
		}
	}
}

var softirqNames = []string{"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"}

func TestCPUProbeFixtureIntervals(t *testing.T) {
	got := readFixtures(t, "testdata/sys-cpu-present-0-2",
		[]string{"proc-cpu-t0", "proc-cpu-t1", "proc-cpu-t2"}, []float64{0, 2, 3})
	if got[0] != nil {
		t.Fatalf("first Read = %+v, want nil (baseline only)", got[0])
	}

	// t0 → t1.
	c := got[1]
	if c.Count != 3 || c.Online != 2 {
		t.Errorf("Count, Online = %d, %d; want 3, 2", c.Count, c.Online)
	}
	// Total over 200 ticks: user (50-10)/200, guest 10/200, ...
	checkPercent(t, "t1 total", c.Total, model.CPUPercent{
		User: 20, Nice: 5, System: 12.5, IOWait: 0, IRQ: 1.5, SoftIRQ: 2.5,
		Steal: 1, Guest: 5, GuestNice: 0, Idle: 52.5,
	})
	if b := c.Total.Busy(); !near(b, 47.5) {
		t.Errorf("t1 busy = %v, want 47.5", b)
	}
	if len(c.PerCPU) != 3 {
		t.Fatalf("t1 PerCPU has %d entries, want 3: %+v", len(c.PerCPU), c.PerCPU)
	}
	for i, want := range []struct {
		id     int
		online bool
		pct    model.CPUPercent
	}{
		{0, true, model.CPUPercent{User: 30, Nice: 10, System: 20, Idle: 25, IRQ: 2, SoftIRQ: 3, Guest: 10}},
		{1, true, model.CPUPercent{User: 10, System: 5, Idle: 80, IOWait: 0, IRQ: 1, SoftIRQ: 2, Steal: 2}},
		{2, false, model.CPUPercent{}},
	} {
		pc := c.PerCPU[i]
		if pc.ID != want.id || pc.Online != want.online {
			t.Errorf("t1 PerCPU[%d] id %d online %v, want id %d online %v", i, pc.ID, pc.Online, want.id, want.online)
		}
		checkPercent(t, "t1 cpu"+strconv.Itoa(want.id), pc.CPUPercent, want.pct)
	}
	if c.CtxtPerS.OK {
		t.Errorf("t1 CtxtPerS = %v, want unknown (ctxt went 5000→4000)", c.CtxtPerS.V)
	}
	if c.IntrPerS != model.Known(250) { // 500 in 2 s
		t.Errorf("t1 IntrPerS = %+v, want 250", c.IntrPerS)
	}
	if c.ForksPerS != model.Known(20) { // 40 in 2 s
		t.Errorf("t1 ForksPerS = %+v, want 20", c.ForksPerS)
	}
	if c.ProcsRunning != 3 || c.ProcsBlocked != 1 {
		t.Errorf("t1 procs running/blocked = %d/%d, want 3/1", c.ProcsRunning, c.ProcsBlocked)
	}
	if want := (model.LoadAvg{One: 0.5, Five: 0.25, Fifteen: 0.1, Runnable: 3, Total: 150}); c.Load != want {
		t.Errorf("t1 Load = %+v, want %+v", c.Load, want)
	}
	wantPSI := &model.Pressure{
		Some: model.PressureAvg{Avg10: 1.5, Avg60: 0.75, Avg300: 0.2, TotalUs: 123456},
		Full: &model.PressureAvg{Avg10: 0.25, TotalUs: 789},
	}
	if !reflect.DeepEqual(c.PSI, wantPSI) {
		t.Errorf("t1 PSI = %+v, want %+v", c.PSI, wantPSI)
	}
	if len(c.Unavailable) != 0 {
		t.Errorf("t1 Unavailable = %v, want none", c.Unavailable)
	}
	// Softirqs over 2 s: TIMER cpu0 +200, cpu1 +100; NET_RX cpu0 +20, cpu1
	// 1000→900 (counts 0); RCU cpu0 +40, cpu1 +60.
	var names []string
	var totals []float64
	for _, s := range c.SoftIRQs {
		names = append(names, s.Name)
		totals = append(totals, s.PerS)
	}
	if !reflect.DeepEqual(names, softirqNames) {
		t.Errorf("softirq names = %v, want %v", names, softirqNames)
	}
	checkRates(t, "t1 softirq totals", totals, []float64{0, 150, 0, 10, 0, 0, 0, 0, 0, 50})
	checkRates(t, "t1 cpu0 softirqs", c.PerCPU[0].SoftIRQPerS, []float64{0, 100, 0, 10, 0, 0, 0, 0, 0, 20})
	checkRates(t, "t1 cpu1 softirqs", c.PerCPU[1].SoftIRQPerS, []float64{0, 50, 0, 0, 0, 0, 0, 0, 0, 30})
	checkRates(t, "t1 cpu2 softirqs", c.PerCPU[2].SoftIRQPerS, make([]float64, 10))

	// t1 → t2: cpu2 back online, measured against its t0 counters.
	c = got[2]
	if c.Count != 3 || c.Online != 3 {
		t.Errorf("t2 Count, Online = %d, %d; want 3, 3", c.Count, c.Online)
	}
	checkPercent(t, "t2 total", c.Total, model.CPUPercent{User: 12.5, System: 12.5, Idle: 75})
	checkPercent(t, "t2 cpu0", c.PerCPU[0].CPUPercent, model.CPUPercent{Idle: 100})
	checkPercent(t, "t2 cpu1", c.PerCPU[1].CPUPercent, model.CPUPercent{Idle: 100})
	if !c.PerCPU[2].Online {
		t.Errorf("t2 cpu2 offline, want online")
	}
	checkPercent(t, "t2 cpu2", c.PerCPU[2].CPUPercent, model.CPUPercent{User: 50, System: 50})
	if c.CtxtPerS != model.Known(600) || c.IntrPerS != model.Known(100) || c.ForksPerS != model.Known(1) {
		t.Errorf("t2 ctxt/intr/forks per s = %+v %+v %+v, want 600 100 1", c.CtxtPerS, c.IntrPerS, c.ForksPerS)
	}
	if c.PSI != nil {
		t.Errorf("t2 PSI = %+v, want nil (no pressure/)", c.PSI)
	}
	if got, want := c.Unavailable["psi"], "kernel has no /proc/pressure (CONFIG_PSI off or booted with psi=0)"; got != want {
		t.Errorf("t2 Unavailable[psi] = %q, want %q", got, want)
	}
	checkRates(t, "t2 cpu0 softirqs", c.PerCPU[0].SoftIRQPerS, []float64{0, 50, 0, 0, 0, 0, 0, 0, 0, 0})
}

func TestCPUProbePresentList(t *testing.T) {
	fixtures := []string{"proc-cpu-t0", "proc-cpu-t1"}
	at := []float64{0, 1}

	// present says 0-3: cpu3 was never seen and is listed offline.
	c := readFixtures(t, "testdata/sys-cpu-present-0-3", fixtures, at)[1]
	if c.Count != 4 || c.Online != 2 || len(c.PerCPU) != 4 {
		t.Fatalf("Count %d Online %d len(PerCPU) %d, want 4 2 4", c.Count, c.Online, len(c.PerCPU))
	}
	for i, pc := range c.PerCPU {
		if pc.ID != i || pc.Online != (i < 2) {
			t.Errorf("PerCPU[%d] = id %d online %v", i, pc.ID, pc.Online)
		}
	}
	if c.PerCPU[3].SoftIRQPerS != nil {
		t.Errorf("cpu3 has no /proc/softirqs column, got rates %v", c.PerCPU[3].SoftIRQPerS)
	}

	// No /sys at all: Count falls back to the CPUs seen (0-2 in t0).
	c = readFixtures(t, filepath.Join(t.TempDir(), "no-sys"), fixtures, at)[1]
	if c.Count != 3 || c.Online != 2 || len(c.PerCPU) != 3 {
		t.Errorf("without /sys: Count %d Online %d len(PerCPU) %d, want 3 2 3", c.Count, c.Online, len(c.PerCPU))
	}
}

func TestCPUProbeSoftirqsUnreadable(t *testing.T) {
	root := filepath.Join(t.TempDir(), "proc")
	stage(t, root, "proc-cpu-t0")
	p, err := NewCPUProbe(CPUProbeConfig{ProcRoot: root, SysRoot: "testdata/sys-cpu-present-0-2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(fixtureT0); err != nil {
		t.Fatal(err)
	}
	stage(t, root, "proc-cpu-t1")
	if err := os.Remove(filepath.Join(root, "softirqs")); err != nil {
		t.Fatal(err)
	}
	c, err := p.Read(fixtureT0.Add(time.Second))
	if err != nil {
		t.Fatalf("missing softirqs must not fail the probe: %v", err)
	}
	if c.SoftIRQs != nil || !strings.Contains(c.Unavailable["softirqs"], "softirqs") {
		t.Errorf("SoftIRQs %v, Unavailable %q; want nil and a reason", c.SoftIRQs, c.Unavailable["softirqs"])
	}
	// Percentages do not depend on softirqs.
	checkPercent(t, "total", c.Total, model.CPUPercent{
		User: 20, Nice: 5, System: 12.5, IRQ: 1.5, SoftIRQ: 2.5, Steal: 1, Guest: 5, Idle: 52.5,
	})

	// The next interval has a reading but no earlier one to compare with.
	stage(t, root, "proc-cpu-t2")
	if c, err = p.Read(fixtureT0.Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if c.SoftIRQs != nil || c.Unavailable["softirqs"] == "" {
		t.Errorf("SoftIRQs %v, Unavailable %q; want nil and a reason", c.SoftIRQs, c.Unavailable["softirqs"])
	}
}

func TestCPUProbeStatUnreadableKeepsBaseline(t *testing.T) {
	root := filepath.Join(t.TempDir(), "proc")
	stage(t, root, "proc-cpu-t0")
	p, err := NewCPUProbe(CPUProbeConfig{ProcRoot: root, SysRoot: "testdata/sys-cpu-present-0-2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(fixtureT0); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "stat")); err != nil {
		t.Fatal(err)
	}
	if c, err := p.Read(fixtureT0.Add(time.Second)); err == nil || c != nil {
		t.Fatalf("Read without stat = %v, %v; want an error", c, err)
	} else if !strings.Contains(err.Error(), "stat") {
		t.Errorf("error %q does not name the file", err)
	}
	// The t0 baseline survives: t1 read 2 s after t0 gives t0→t1 figures.
	stage(t, root, "proc-cpu-t1")
	c, err := p.Read(fixtureT0.Add(2 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if c.IntrPerS != model.Known(250) || !near(c.Total.Idle, 52.5) {
		t.Errorf("after a failed read: IntrPerS %+v idle %v, want 250 and 52.5", c.IntrPerS, c.Total.Idle)
	}
}

func TestCPUProbeSamplePublishes(t *testing.T) {
	root := filepath.Join(t.TempDir(), "proc")
	stage(t, root, "proc-cpu-t0")
	p, err := NewCPUProbe(CPUProbeConfig{ProcRoot: root, SysRoot: "testdata/sys-cpu-present-0-2"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "cpu" {
		t.Errorf("Name = %q", p.Name())
	}
	store := model.NewStore(model.Host{}, 1, 10)
	seq := store.Snapshot().Seq
	if err := publish(p, fixtureT0, store); err != nil {
		t.Fatal(err)
	}
	if s := store.Snapshot(); s.Seq != seq || s.Sample.CPU != nil {
		t.Fatalf("first Sample published (seq %d→%d, CPU %v)", seq, s.Seq, s.Sample.CPU)
	}

	t1 := fixtureT0.Add(2 * time.Second)
	stage(t, root, "proc-cpu-t1")
	if err := publish(p, t1, store); err != nil {
		t.Fatal(err)
	}
	snap := store.Snapshot()
	if snap.Sample.CPU == nil || !snap.Sample.Time.Equal(t1) {
		t.Fatalf("after second Sample: CPU %v, Time %v", snap.Sample.CPU, snap.Sample.Time)
	}
	for series, want := range map[string]float64{
		model.SeriesCPUBusy: 47.5, // 100 - idle 52.5 - iowait 0
		model.SeriesLoad1:   0.5,
	} {
		v := snap.Series(series)
		if v.Len() != 1 || !near(v.At(0).V, want) || v.At(0).UnixMilli != t1.UnixMilli() {
			t.Errorf("series %s = %v points, last %+v; want one point %v at t1", series, v.Len(), v.At(v.Len()-1), want)
		}
	}
	if r := snap.Sample.CPU.CtxtPerS; r.OK {
		t.Errorf("ctxt/s = %v across a counter reset, want unknown", r.V)
	}

	stage(t, root, "proc-cpu-t2")
	if err := publish(p, fixtureT0.Add(3*time.Second), store); err != nil {
		t.Fatal(err)
	}
	if r := store.Snapshot().Sample.CPU.CtxtPerS; !r.OK || r.V != 600 {
		t.Errorf("ctxt/s after t2 = %+v, want 600", r)
	}
}

// TestCPUProbeRealFixture reads two snapshots of this project's 2-CPU VM
// taken 1 s apart with one core busy, and checks the result against a
// separate reading of the raw "cpu" lines.
func TestCPUProbeRealFixture(t *testing.T) {
	c := readFixtures(t, "testdata/sys-cpu-real", []string{"proc-cpu-real/t0", "proc-cpu-real/t1"}, []float64{0, 1})[1]
	if c.Count != 2 || c.Online != 2 || len(c.PerCPU) != 2 {
		t.Fatalf("Count %d Online %d len(PerCPU) %d, want 2 2 2", c.Count, c.Online, len(c.PerCPU))
	}
	sum := func(p model.CPUPercent) float64 {
		return p.User + p.Nice + p.System + p.IOWait + p.IRQ + p.SoftIRQ + p.Steal + p.Guest + p.GuestNice + p.Idle
	}
	if s := sum(c.Total); math.Abs(s-100) > 1e-6 {
		t.Errorf("total percentages sum to %v", s)
	}
	rawBusy := func(line int) float64 {
		f0 := statFields(t, "testdata/proc-cpu-real/t0/stat", line)
		f1 := statFields(t, "testdata/proc-cpu-real/t1/stat", line)
		var total, idle float64
		for i := range 8 { // user..steal; guest is inside user
			d := f1[i] - f0[i]
			total += d
			if i == 3 || i == 4 {
				idle += d
			}
		}
		return 100 * (total - idle) / total
	}
	if want := rawBusy(0); math.Abs(c.Total.Busy()-want) > 1e-9 {
		t.Errorf("total busy %v, raw cpu line says %v", c.Total.Busy(), want)
	}
	for i, pc := range c.PerCPU {
		if pc.ID != i || !pc.Online {
			t.Errorf("PerCPU[%d] = id %d online %v", i, pc.ID, pc.Online)
		}
		if s := sum(pc.CPUPercent); math.Abs(s-100) > 1e-6 {
			t.Errorf("cpu%d percentages sum to %v", i, s)
		}
		if want := rawBusy(i + 1); math.Abs(pc.Busy()-want) > 1e-9 {
			t.Errorf("cpu%d busy %v, raw line says %v", i, pc.Busy(), want)
		}
		if len(pc.SoftIRQPerS) != len(c.SoftIRQs) {
			t.Errorf("cpu%d has %d softirq rates for %d types", i, len(pc.SoftIRQPerS), len(c.SoftIRQs))
		}
	}
	// One core was busy while the snapshots were taken.
	if c.Total.Busy() < 40 {
		t.Errorf("total busy %v, want ≥ 40 with one of two cores spinning", c.Total.Busy())
	}
	if len(c.SoftIRQs) != 10 || c.SoftIRQs[1].Name != "TIMER" || c.SoftIRQs[1].PerS <= 0 {
		t.Errorf("softirqs = %+v, want 10 types with TIMER ticking", c.SoftIRQs)
	}
	if c.PSI == nil || c.PSI.Full == nil || c.PSI.Some.TotalUs == 0 {
		t.Errorf("PSI = %+v, want some and full lines", c.PSI)
	}
	if !c.CtxtPerS.OK || c.CtxtPerS.V <= 0 || !c.IntrPerS.OK || c.IntrPerS.V <= 0 {
		t.Errorf("ctxt/s %+v intr/s %+v, want positive", c.CtxtPerS, c.IntrPerS)
	}
	if c.Load.Total == 0 || c.Load.Runnable == 0 || c.Load.Runnable > c.Load.Total {
		t.Errorf("Load = %+v", c.Load)
	}
	if len(c.Unavailable) != 0 {
		t.Errorf("Unavailable = %v", c.Unavailable)
	}
}

// statFields returns the counters of the line-th "cpu" line of a stat file.
func statFields(t *testing.T, path string, line int) []float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := strings.Split(string(data), "\n")[line]
	var out []float64
	for _, f := range strings.Fields(l)[1:] {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]int{
		"":          nil,
		"0":         {0},
		"0-1":       {0, 1},
		"0-3,6,8-9": {0, 1, 2, 3, 6, 8, 9},
		"2,4":       {2, 4},
		"0-0":       {0},
	} {
		got, err := parseCPUList(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"a", "3-1", "-1", "0-", "0,,1", "1-2 "} {
		if got, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) = %v, want an error", bad, got)
		}
	}
}

func TestParseLoadEntities(t *testing.T) {
	r, total, err := parseLoadEntities("0.71 0.29 0.12 1/92 6466\n")
	if err != nil || r != 1 || total != 92 {
		t.Errorf("got %d/%d, %v; want 1/92", r, total, err)
	}
	for _, bad := range []string{"0.71 0.29 0.12", "0.71 0.29 0.12 192 6466", "0.71 0.29 0.12 x/92 1", "0 0 0 1/y 1"} {
		if _, _, err := parseLoadEntities(bad); err == nil {
			t.Errorf("parseLoadEntities(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseSoftirqs(t *testing.T) {
	// Possible CPUs need not be contiguous: columns are named by the header.
	tab, err := parseSoftirqs("        CPU0 CPU2\n  HI: 1 2\n  NEW_TYPE: 3 4\n")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tab.cpus, []int{0, 2}) || !reflect.DeepEqual(tab.names, []string{"HI", "NEW_TYPE"}) ||
		!reflect.DeepEqual(tab.counts, [][]uint64{{1, 2}, {3, 4}}) {
		t.Errorf("parsed %+v", tab)
	}
	for _, bad := range []string{"", "   \n HI: 1\n", " CPU0 CPU1\n HI: 1\n", " CPU0\n HI 1\n", " CPU0\n HI: x\n", " CPUx\n HI: 1\n"} {
		if _, err := parseSoftirqs(bad); err == nil {
			t.Errorf("parseSoftirqs(%q) succeeded, want an error", bad)
		}
	}
}
