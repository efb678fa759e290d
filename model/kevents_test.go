package model

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestEventJSONFlattensPayloadAndKeepsData(t *testing.T) {
	d := &ExitData{UID: 7}
	d.ExitStatus(3 << 8)
	ev := Event{Seq: 5, Time: time.Unix(100, 0).UTC(), Source: SourceProcEvents, Kind: EventExit, PID: 42, PPID: 1, StartTicks: 9, Comm: "sh", Data: d}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if m["type"] != "exit" || m["kind"] != "exit" || m["pid"] != 42.0 || m["ppid"] != 1.0 || m["exit_code"] != 3.0 || m["signal"] != nil {
		t.Errorf("event JSON %s", b)
	}
	if data, ok := m["data"].(map[string]any); !ok || data["exit_code"] != 3.0 {
		t.Errorf("data not kept: %s", b)
	}
	ev.Data = nil
	b, _ = json.Marshal(ev)
	if strings.Contains(string(b), "data") {
		t.Errorf("no payload, yet %s", b)
	}
}

func TestExitStatus(t *testing.T) {
	for _, c := range []struct {
		code       uint32
		exit, sig  Float
		name       string
		coreDumped bool
	}{
		{0, Known(0), Unknown, "", false},
		{42 << 8, Known(42), Unknown, "", false},
		{9, Unknown, Known(9), "SIGKILL", false},
		{11 | 0x80, Unknown, Known(11), "SIGSEGV", true},
	} {
		var d ExitData
		d.ExitStatus(c.code)
		if d.ExitCode != c.exit || d.Signal != c.sig || d.SignalName != c.name || d.CoreDumped != c.coreDumped {
			t.Errorf("status %#x: %+v", c.code, d)
		}
	}
	if SignalName(40) != "SIGRTMIN+6" {
		t.Error(SignalName(40))
	}
}

func TestHistPercentileAndWarning(t *testing.T) {
	counts := make([]uint64, RunQLatSlots)
	counts[3] = 98 // [4, 8) µs
	counts[12] = 2 // [2048, 4096) µs
	if p := HistPercentile(counts, 0.5); p != Known(8) {
		t.Errorf("p50 %v", p)
	}
	if p := HistPercentile(counts, 0.99); p != Known(4096) {
		t.Errorf("p99 %v", p)
	}
	if p := HistPercentile(make([]uint64, 3), 0.5); p.OK {
		t.Errorf("empty: %v", p)
	}
	if RunQLatBucketsUs[0] != 0 || RunQLatBucketsUs[1] != 1 || RunQLatBucketsUs[11] != 1024 {
		t.Errorf("buckets %v", RunQLatBucketsUs[:12])
	}
	if w := RunQLatWarning(Known(4096), Known(16)); !strings.Contains(w, "rising") {
		t.Errorf("rise not warned: %q", w)
	}
	if w := RunQLatWarning(Known(512), Known(16)); w != "" {
		t.Errorf("sub-ms p99 warned: %q", w)
	}
	if w := RunQLatWarning(Known(4096), Known(2048)); w != "" {
		t.Errorf("2x warned: %q", w)
	}
}

func TestShortLivedTrackerWindowsAndGap(t *testing.T) {
	var tr ShortLivedTracker
	t0 := time.Unix(1000, 0)
	for i := 0; i < 70; i++ {
		var tally ShortLivedTally
		tally.Start, tally.End = t0.Add(time.Duration(i)*time.Second), t0.Add(time.Duration(i+1)*time.Second)
		tally.Execs = 10
		for j := 0; j < 10; j++ {
			tally.Add("tiny", 0.01)
		}
		if i == 69 {
			tally.Add("big", 0.5)
		}
		iv, min := tr.Add(tally, true)
		if i < 69 {
			continue
		}
		if iv.Count != 11 || iv.Execs != 10 || iv.ExecPerS != Known(10) {
			t.Errorf("interval %+v", iv)
		}
		if min.WindowS != 60 || min.Count != 601 || min.TopByCount[0].Comm != "tiny" || min.TopByCPU[0].Comm != "tiny" {
			t.Errorf("minute %+v", min)
		}
		if iv.TopByCPU[0].Comm != "big" {
			t.Errorf("interval top by CPU %+v", iv.TopByCPU)
		}
		cpu := &CPU{Online: 2, Total: CPUPercent{User: 40, System: 10, Idle: 50}}
		procs := []Process{{ProcessCPU: ProcessCPU{ProcessCPURates: ProcessCPURates{CPUPct: 30}}}} // 0.3 CPU-s of 1 CPU-s busy
		g := ComputeCPUGap(cpu, procs, 1, iv, SourceProcEvents)
		if g.BusyS != Known(1) || g.GapS.V < 0.69 || g.GapS.V > 0.71 || !g.ExplainedPct.OK || !strings.Contains(g.Hint, "short-lived processes explain 86%") {
			t.Errorf("gap %+v", g)
		}
	}
}

// SplitCPU against the kernel's cputime_adjust by hand: rtime 300 ms with
// 27 user and 3 system ticks is 270 + 30 ms; no tick is all user; only
// system ticks is all system.
func TestSplitCPU(t *testing.T) {
	for _, c := range []struct{ rt, ut, st, user, sys float64 }{
		{0.3, 27, 3, 0.27, 0.03},
		{0.3, 0, 0, 0.3, 0},
		{0.3, 5, 0, 0.3, 0},
		{0.3, 0, 4, 0, 0.3},
		{1.2, 1, 3, 0.3, 0.9},
	} {
		u, s := SplitCPU(c.rt, c.ut, c.st)
		if math.Abs(u-c.user) > 1e-12 || math.Abs(s-c.sys) > 1e-12 {
			t.Errorf("SplitCPU(%v, %v, %v) = %v, %v, want %v, %v", c.rt, c.ut, c.st, u, s, c.user, c.sys)
		}
	}
}
