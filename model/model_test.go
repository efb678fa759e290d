package model

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestCounterRate(t *testing.T) {
	cases := []struct {
		name      string
		prev, cur uint64
		secs      float64
		want      Float
	}{
		{"steady", 1000, 1500, 2, Known(250)},
		{"no change", 7, 7, 1, Known(0)},
		{"reset is unknown, not negative", 1500, 10, 1, Unknown},
		{"wrap is unknown, not huge", math.MaxUint64 - 5, 3, 1, Unknown},
		{"empty interval", 1, 2, 0, Unknown},
	}
	for _, c := range cases {
		if got := CounterRate(c.prev, c.cur, c.secs); got != c.want {
			t.Errorf("%s: CounterRate(%d,%d,%v) = %+v, want %+v", c.name, c.prev, c.cur, c.secs, got, c.want)
		}
	}
	if ClampedDelta(10, 4) != 0 || ClampedDelta(4, 10) != 6 {
		t.Error("ClampedDelta")
	}
}

func TestCPUPercentBetween(t *testing.T) {
	// 200 ticks in all: user 60 of which guest 20, nice 10, system 30,
	// idle 80, iowait 10, irq 4, softirq 6, steal 0. Hand-computed:
	// usr (60-20)/200 = 20 %, guest 10 %, nice 5 %, sys 15 %, idle 40 %,
	// iowait 5 %, irq 2 %, softirq 3 %.
	prev := CPUTimes{User: 1000, Nice: 100, System: 500, Idle: 9000, IOWait: 50, IRQ: 10, SoftIRQ: 20, Guest: 100}
	cur := CPUTimes{User: 1060, Nice: 110, System: 530, Idle: 9080, IOWait: 60, IRQ: 14, SoftIRQ: 26, Guest: 120}
	p, ok := CPUPercentBetween(prev, cur)
	if !ok {
		t.Fatal("not ok")
	}
	want := CPUPercent{User: 20, Guest: 10, Nice: 5, System: 15, Idle: 40, IOWait: 5, IRQ: 2, SoftIRQ: 3}
	if p != want {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	if p.Busy() != 55 {
		t.Errorf("Busy = %v, want 55", p.Busy())
	}

	// iowait stepping back (a NO_HZ artefact) counts as zero, as in sysstat:
	// the remaining 100 ticks are all idle.
	p, ok = CPUPercentBetween(CPUTimes{Idle: 100, IOWait: 50}, CPUTimes{Idle: 200, IOWait: 40})
	if !ok || p.Idle != 100 || p.IOWait != 0 {
		t.Errorf("backwards iowait: %+v ok=%v", p, ok)
	}
	// No time passed: no percentages, rather than 0 % everywhere.
	if _, ok := CPUPercentBetween(cur, cur); ok {
		t.Error("identical readings must not be ok")
	}
}

func TestFloatJSON(t *testing.T) {
	b, _ := json.Marshal(struct {
		A, B Float
	}{Known(1.23456), Unknown})
	if string(b) != `{"A":1.23456,"B":null}` {
		t.Fatalf("got %s", b)
	}
	var back struct{ A, B Float }
	if err := json.Unmarshal(b, &back); err != nil || back.A != Known(1.23456) || back.B.OK {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}

func TestHistoryCapacityAndOrder(t *testing.T) {
	h := NewHistory(100)
	base := time.Unix(1000, 0)
	for i := 0; i < 1000; i++ {
		h.Record("x", base.Add(time.Duration(i)*time.Second), float64(i))
	}
	v := h.view()["x"]
	if v.Len() != 100 {
		t.Fatalf("Len = %d, want 100", v.Len())
	}
	if v.At(0).V != 900 || v.At(99).V != 999 {
		t.Fatalf("oldest %v newest %v, want 900 and 999", v.At(0).V, v.At(99).V)
	}
	if got := v.Last(3, nil); len(got) != 3 || got[0] != 997 || got[2] != 999 {
		t.Fatalf("Last(3) = %v", got)
	}
	if got := v.Last(500, nil); len(got) != 100 {
		t.Fatalf("Last beyond length returned %d values", len(got))
	}
	if v.At(99).Time() != base.Add(999*time.Second) {
		t.Errorf("time of newest = %v", v.At(99).Time())
	}
	if (SeriesView{}).Len() != 0 {
		t.Error("empty view")
	}
}

func TestDefaultHistoryHoldsTenMinutes(t *testing.T) {
	if DefaultHistoryCapacity < 600 {
		t.Fatalf("capacity %d is under 10 minutes at 1 s", DefaultHistoryCapacity)
	}
}

// A snapshot must not change after it is taken, while writers go on.
func TestSnapshotImmutableUnderConcurrentWrites(t *testing.T) {
	s := NewStore(Host{Hostname: "h"}, 1, 128)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 2000; i++ {
			s.Update(func(next *Sample, h *History) {
				next.CPU = &CPU{Count: i}
				h.Record(SeriesCPUBusy, time.Unix(int64(i), 0), float64(i))
			})
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 2000; i++ {
			s.SetError("p", nil)
		}
	}()
	for i := 0; i < 500; i++ {
		snap := s.Snapshot()
		v := snap.Series(SeriesCPUBusy)
		n := v.Len()
		vals := v.Last(n, nil)
		for j := 1; j < len(vals); j++ {
			if vals[j] != vals[j-1]+1 {
				t.Fatalf("history not contiguous in snapshot %d: %v then %v", snap.Seq, vals[j-1], vals[j])
			}
		}
		if snap.Sample.CPU != nil && len(vals) > 0 && float64(snap.Sample.CPU.Count) != vals[len(vals)-1] {
			// Sample and history are published together.
			t.Fatalf("sample %d and history %v disagree", snap.Sample.CPU.Count, vals[len(vals)-1])
		}
		again := v.Last(n, nil)
		for j := range vals {
			if vals[j] != again[j] {
				t.Fatal("snapshot history changed after it was taken")
			}
		}
	}
	wg.Wait()
	if got := s.Snapshot().Series(SeriesCPUBusy).Len(); got != 128 {
		t.Errorf("retained %d points, want capacity 128", got)
	}
}

func TestStoreErrorsAreCopied(t *testing.T) {
	s := NewStore(Host{}, 1, 10)
	s.SetError("cpu", errTest("boom"))
	before := s.Snapshot()
	s.SetError("cpu", nil)
	if before.Sample.Errors["cpu"] != "boom" {
		t.Fatal("clearing an error changed an older snapshot")
	}
	if len(s.Snapshot().Sample.Errors) != 0 {
		t.Fatal("error not cleared")
	}
	select {
	case <-s.Changed():
	default:
		t.Fatal("no change signal")
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

func TestSanitize(t *testing.T) {
	cases := map[string]string{
		"nginx: worker":               "nginx: worker",
		"evil\x1b[2J\x1b[31mred":      `evil\e[2J\e[31mred`,
		"two\nlines\ttab\r":           `two\nlines\ttab\r`,
		"bell\x07":                    `bell\x07`,
		"c1\u009bcsi":                 `c1\u009bcsi`,
		"raw\x9bcsi":                  `raw\x9bcsi`,
		"soft\u00adhyphen":            `soft\u00adhyphen`,
		"raw\xadbyte":                 `raw\xadbyte`,
		"tag\U000e0041":               `tag\U000e0041`,
		"ls\u2028ps\u2029":            `ls\u2028ps\u2029`,
		"zw\u200bj\u200dbom\ufeff":    `zw\u200bj\u200dbom\ufeff`,
		"iso\u2066\u2067\u2068\u2069": `iso\u2066\u2067\u2068\u2069`,
		"bad\xffutf8":                 `bad\xffutf8`,
		"rtl\u202eexe.txt":            `rtl\u202eexe.txt`,
		"ünïcødé 日本":                  "ünïcødé 日本",
		"del\x7f":                     `del\x7f`,
	}
	for in, want := range cases {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	clean := "plain text"
	if n := testing.AllocsPerRun(100, func() { _ = Sanitize(clean) }); n != 0 {
		t.Errorf("Sanitize of clean text allocates %v times", n)
	}
}

func TestSampleJSONShape(t *testing.T) {
	s := Sample{CPU: &CPU{Count: 2, CtxtPerS: Unknown}, Processes: []Process{{ProcessIdentity: ProcessIdentity{PID: 1, Comm: "init\x1b"}}}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	cpu := m["cpu"].(map[string]any)
	if cpu["ctxt_per_s"] != nil {
		t.Errorf("unknown rate encoded as %v, want null", cpu["ctxt_per_s"])
	}
	for _, k := range []string{"user", "nice", "system", "iowait", "irq", "softirq", "steal", "idle"} {
		if _, ok := cpu["total"].(map[string]any)[k]; !ok {
			t.Errorf("cpu.total.%s missing", k)
		}
	}
	load := cpu["load"].(map[string]any)
	for _, k := range []string{"1", "5", "15"} {
		if _, ok := load[k]; !ok {
			t.Errorf("cpu.load.%s missing", k)
		}
	}
	p := m["processes"].([]any)[0].(map[string]any)
	for _, k := range []string{"pid", "ppid", "comm", "cmdline", "user", "state", "cpu_pct", "user_pct", "system_pct", "threads"} {
		if _, ok := p[k]; !ok {
			t.Errorf("processes[].%s missing", k)
		}
	}
	if string(b) == "" || !json.Valid(b) {
		t.Fatal("invalid JSON")
	}
}

func TestKeyedCountersForgetVanishedKeys(t *testing.T) {
	var c KeyedCounters[string, uint64]
	if _, ok := c.Observe("sda", 10); ok {
		t.Fatal("first reading has a previous value")
	}
	c.Observe("loop0", 5)
	c.EndFrame()
	if prev, ok := c.Observe("sda", 30); !ok || prev != 10 {
		t.Fatalf("sda prev = %d, %v; want 10, true", prev, ok)
	}
	// loop0 detached this frame.
	c.EndFrame()
	if _, ok := c.Observe("loop0", 1); ok {
		t.Fatal("a device that disappeared for a frame kept its old baseline")
	}
	if prev, ok := c.Observe("sda", 20); !ok || prev != 30 {
		t.Fatalf("sda prev = %d, %v; want 30, true", prev, ok)
	}
	if r := CounterRate(30, 20, 1); r.OK {
		t.Fatalf("a counter that went backwards gave rate %v", r.V)
	}
}

// The page-cache join matches by pid and start time: a process that reuses
// the pid of one the kernel counted inherits nothing.
func TestJoinFrameMatchesByIdentity(t *testing.T) {
	procs := make([]Process, 3)
	procs[0].PID, procs[0].StartTicks = 100, 5000
	procs[1].PID, procs[1].StartTicks = 200, 9999 // pid reused: the row is for start 6000
	procs[2].PID, procs[2].StartTicks = 300, 7000
	s := &Sample{Processes: procs, Cache: &Cache{Processes: []CacheProcess{
		{PID: 100, StartTicks: 5000, Hits: 10, Misses: 5, ReadHitPct: Known(66.7)},
		{PID: 200, StartTicks: 6000, Hits: 99, Misses: 1},
	}}}
	s.Cache.Source = "ebpf"
	JoinFrame(s)
	if p := s.Processes[0]; p.CacheHits != Known(10) || p.CacheMisses != Known(5) || p.CacheReadHitPct != Known(66.7) {
		t.Errorf("pid 100: %+v", p.ProcessCacheRates)
	}
	if p := s.Processes[1]; p.CacheHits != Known(0) || p.CacheMisses != Known(0) || p.CacheReadHitPct.OK {
		t.Errorf("reused pid 200 inherited the old process's counts: %+v", p.ProcessCacheRates)
	}
	// Estimated: a process whose I/O was not readable is unknown, not 0.
	procs[2].IODetail = DetailDenied
	s = &Sample{Processes: procs, IntervalS: 1, Cache: &Cache{}}
	s.Cache.Source = CacheSourceEstimate
	JoinFrame(s)
	if p := s.Processes[2]; p.CacheHits.OK || p.CacheMisses.OK {
		t.Errorf("denied process shows %+v, want unknown", p.ProcessCacheRates)
	}
}

// cachestat's buffers and cached come from the frame's memory part (one
// meminfo parser), unknown without one.
func TestJoinFrameCacheSystemFromMemory(t *testing.T) {
	s := &Sample{Cache: &Cache{System: &CacheSystem{}}, Memory: &Memory{BuffersBytes: 4096, PageCacheBytes: 8192}}
	JoinFrame(s)
	if sys := s.Cache.System; sys.BuffersBytes != Known(4096) || sys.CachedBytes != Known(8192) {
		t.Errorf("system %+v", sys)
	}
	s = &Sample{Cache: &Cache{System: &CacheSystem{BuffersBytes: Known(1)}}}
	JoinFrame(s)
	if sys := s.Cache.System; sys.BuffersBytes.OK || sys.CachedBytes.OK {
		t.Errorf("without a memory part: %+v, want unknown", sys)
	}
}

// Every character Sanitize keeps is safe, every one it escapes comes out
// as ASCII, and the escapes of characters and of raw bytes differ.
func TestSanitizeEveryRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue // surrogates are not characters; UTF-8 cannot hold them
		}
		in := string(r)
		got := Sanitize(in)
		if !utf8.ValidString(got) {
			t.Fatalf("Sanitize(%U) = %q is not UTF-8", r, got)
		}
		for _, c := range got {
			if UnsafeRune(c) {
				t.Fatalf("Sanitize(%U) = %q keeps %U", r, got, c)
			}
		}
		if UnsafeRune(r) == (got == in) {
			t.Fatalf("Sanitize(%U) = %q: UnsafeRune says %v", r, got, UnsafeRune(r))
		}
		if got != in && r > 0x7f {
			want := fmt.Sprintf(`\u%04x`, r)
			if r > 0xffff {
				want = fmt.Sprintf(`\U%08x`, r)
			}
			if got != want {
				t.Fatalf("Sanitize(%U) = %q, want %q", r, got, want)
			}
		}
	}
}

func TestReuseDropsStalePointers(t *testing.T) {
	x := new(int)
	s := []*int{x, x, x}
	s = Reuse(s)
	if len(s) != 0 || cap(s) != 3 {
		t.Fatalf("len %d cap %d, want 0 and the array kept", len(s), cap(s))
	}
	if full := s[:3]; full[0] != nil || full[2] != nil {
		t.Error("pointers left past the length: the collector would keep their targets")
	}
	big := make([]int, 10, 5000)
	if Reuse(big) != nil {
		t.Error("an array 500 times what it held was kept")
	}
}
