package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/internal/uitest"
)

// Issue 10, items 1–5, through the root model: snapshots fed as the
// program feeds them, keys pressed, the screen read.

// stormLog is an event log of a fork storm: demo-tiny started and exited
// n times (the last with a hostile argument), and the given loss.
func stormLog(n int, loss model.EventLoss) *model.EventLog {
	l := model.NewEventLog(0)
	for i := range n {
		t := fixedNow.Add(time.Duration(i-n) * time.Millisecond)
		arg := "--n=" + itoa(i)
		if i == n-1 {
			arg = "\x1b]0;pwned\x07"
		}
		l.Append(model.Event{Time: t, Source: model.SourceProcEvents, Kind: model.EventExec, PID: int32(20000 + i), PPID: 900, Comm: "demo-tiny",
			Data: &model.ExecData{Args: []string{"/tmp/demo-tiny", arg}}})
		exit := &model.ExitData{LifetimeS: model.Known(0.0008), CPUS: model.Known(0.0007), MaxRSSBytes: model.Known(1 << 20)}
		exit.ExitStatus(3 << 8)
		l.Append(model.Event{Time: t, Source: model.SourceProcEvents, Kind: model.EventExit, PID: int32(20000 + i), PPID: 900, Comm: "demo-tiny", Data: exit})
	}
	if loss.Source != "" {
		l.SetLoss(loss)
	}
	return l
}

// forkStorm republishes the fixture as a fork storm: the CPUs 85 % busy,
// the table's processes nearly idle, and the short-lived demo-tiny using
// what the table misses.
func forkStorm(a *App, log *model.EventLog) {
	a.store.Update(func(next *model.Sample, _ *model.History) {
		cpu := *next.CPU
		cpu.Total = model.CPUPercent{User: 40, System: 45, Idle: 15}
		cpu.ForksPerS = model.Known(1200)
		cpu.ProcsRunning, cpu.ProcsBlocked = 2, 0
		cpu.Load = model.LoadAvg{One: 1.9, Five: 1.2, Fifteen: 0.6, Runnable: 2, Total: 321}
		cpu.CtxtPerS = model.Known(4200)
		cpu.PSI = nil
		next.CPU = &cpu
		procs := make([]model.Process, len(next.Processes))
		copy(procs, next.Processes)
		for i := range procs {
			procs[i].CPUPct, procs[i].State = 1, "S"
		}
		procs = append(procs, model.Process{ProcessIdentity: model.ProcessIdentity{PID: 900, PPID: 1, User: "alice", Comm: "demo-forkstorm",
			Cmdline: "/bin/bash demo-forkstorm", State: "S", Threads: 1}, ProcessCPU: model.ProcessCPU{ProcessCPURates: model.ProcessCPURates{CPUPct: 18, UserPct: 6, SystemPct: 12}}})
		next.Processes = procs
		top := []model.CommUse{{Comm: "demo-tiny", Count: 1150, CPUS: 2.21}, {Comm: "sh", Count: 12, CPUS: 0.02}}
		next.ShortLived = &model.ShortLived{
			Source:   model.SourceProcEvents,
			Interval: model.ShortLivedWindow{WindowS: 1, Count: 1162, Execs: 1170, ExecPerS: model.Known(1170), CPUS: model.Known(2.23), TopByCount: top, TopByCPU: top},
			Minute: model.ShortLivedWindow{WindowS: 60, Count: 41000, Execs: 41200, ExecPerS: model.Known(687), CPUS: model.Known(80.1),
				TopByCount: []model.CommUse{{Comm: "demo-tiny", Count: 40900, CPUS: 79.8}}, TopByCPU: []model.CommUse{{Comm: "demo-tiny", Count: 40900, CPUS: 79.8}}},
			CPUGap: model.CPUGap{BusyS: model.Known(2.55), TableS: model.Known(0.22), GapS: model.Known(2.33), ShortLivedS: model.Known(2.23),
				ExplainedPct: model.Known(95.7), Hint: "short-lived processes explain 96% of the 2.33 CPUs the process table misses"},
		}
		next.Events = log.View()
		d := next.Events.Dropped()
		next.EventsDropped = &d
		next.EventsTier = []model.Feature{{Name: "procevents", Tier: "tp_btf"}, {Name: "oomkill", Tier: "procfs", Fallback: "kernel log (/dev/kmsg)"}}
	})
	deliverNow(a)
}

// deliverNow hands the store's snapshot to the app as the program does
// (held while paused).
func deliverNow(a *App) {
	a.Update(common.SnapshotMsg{Snap: a.store.Snapshot()})
	a.Update(coalescedMsg{})
}

// Item 1: at 80x24 during a fork storm the CPU tab names the culprit in
// its warnings, keeps 12 process rows, and w lists the exec storm too.
func TestCPUTabForkStorm(t *testing.T) {
	a := newTestApp(t, true, 80, 24)
	manyProcesses(a, 40)
	forkStorm(a, stormLog(20, model.EventLoss{}))
	s := screen(a)
	uitest.Golden(t, "cpu_forkstorm_80x24", s)
	if n := processRows(s); n < 12 {
		t.Fatalf("%d process rows, want 12:\n%s", n, s)
	}
	if !strings.Contains(s, "! short-lived demo-tiny ×1150 use 2.21 CPUs: 96% of the 2.33") {
		t.Errorf("the culprit is not named in the warnings:\n%s", s)
	}
	press(a, "w")
	if s := screen(a); !strings.Contains(s, "exec storm: 1170 exec/s, 1162 short-lived this interval, most demo-tiny") {
		t.Errorf("w does not list the exec storm:\n%s", s)
	}
	press(a, "esc")
	// With room to spare (2 CPUs at 80x24, or a larger screen), the
	// one-line summary appears above the warnings, the table keeps 12 rows.
	a.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	s = screen(a)
	if !strings.Contains(s, "short-lived 1162 (1170 exec/s, 2.23 CPU-s)  1 min 41000 (687 exec/s, 80.10 CPU-s)  by count demo-tiny ×40900") {
		t.Errorf("no short-lived summary line at 160x48:\n%s", s)
	}
	uitest.Golden(t, "cpu_forkstorm_160x48", s)
	// The short-lived term is in the help.
	press(a, "?")
	if !strings.Contains(screen(a), "short-lived") {
		t.Error("help does not explain short-lived")
	}
}

// Item 1 without eBPF: the gap is shown with what the scanner cannot see.
func TestCPUTabGapWithoutEBPF(t *testing.T) {
	a := newTestApp(t, true, 100, 24)
	forkStorm(a, stormLog(1, model.EventLoss{}))
	a.store.Update(func(next *model.Sample, _ *model.History) {
		sl := *next.ShortLived
		sl.Source = model.SourceScanner
		sl.Interval.CPUS, sl.Interval.TopByCPU = model.Unknown, nil
		sl.CPUGap.Hint = "the process table misses 2.33 CPUs; without eBPF ..."
		sl.Note = "without eBPF: ..."
		next.ShortLived = &sl
	})
	deliverNow(a)
	if s := screen(a); !strings.Contains(s, "! the process table misses 2.33 CPUs: short-lived processes? (forks/s 1200") {
		t.Errorf("scanner gap:\n%s", s)
	}
}

// Item 2: e opens the event log from every tab; / filters; z pauses it;
// names and arguments are escaped; drops are shown; Esc returns.
func TestEventLog(t *testing.T) {
	a := newTestApp(t, true, 120, 30)
	log := stormLog(30, model.EventLoss{})
	forkStorm(a, log)
	for _, tab := range []string{"1", "2", "3", "4", "5"} {
		press(a, tab, "e")
		if s := screen(a); !strings.Contains(s, "event log 60 kept") || !strings.Contains(s, "KIND") || !strings.Contains(s, "demo-tiny") {
			t.Fatalf("tab %s: e did not open the log:\n%s", tab, s)
		}
		press(a, "esc")
		if a.log.open || strings.Contains(screen(a), "event log 60 kept") {
			t.Fatalf("tab %s: Esc did not return", tab)
		}
	}
	press(a, "1", "e")
	s := screen(a)
	if strings.ContainsAny(s, "\x1b\x07") || !strings.Contains(s, `\e]0;pwned\x07`) {
		t.Errorf("argument not escaped:\n%q", s)
	}
	if !strings.Contains(s, "exit 3") || !strings.Contains(s, "/tmp/demo-tiny --n=28") || !strings.Contains(s, "procevents tp_btf") {
		t.Errorf("log content:\n%s", s)
	}
	if strings.Contains(s, "lost") {
		t.Errorf("drops shown while there are none:\n%s", s)
	}
	// Keys of the tab below do nothing (k would open the kill menu).
	press(a, "k")
	if !a.log.open || strings.Contains(screen(a), "SIGTERM") {
		t.Error("k reached the process table under the log")
	}
	// The filter: typed after /, kept with Enter, q typed is text.
	press(a, "/", "n", "=", "1", "q")
	if s := screen(a); !strings.Contains(s, "/n=1q█") {
		t.Errorf("filter input:\n%s", s)
	}
	press(a, "backspace", "2", "enter")
	s = screen(a)
	if !strings.Contains(s, "--n=12") || strings.Contains(s, "--n=13") || strings.Contains(s, "--n=28") {
		t.Errorf("filter n=12:\n%s", s)
	}
	press(a, "esc") // closes the log (and the filter with it)
	press(a, "e")
	if a.log.filter != "" {
		t.Error("filter survived closing the log")
	}
	// Pause: a new event does not appear until z again.
	press(a, "z")
	log.Append(model.Event{Time: fixedNow, Kind: model.EventExec, PID: 31337, PPID: 1, Comm: "newcomer", Data: &model.ExecData{}})
	forkStorm(a, log)
	a.Update(coalescedMsg{})
	if s := screen(a); strings.Contains(s, "newcomer") || !strings.Contains(s, "PAUSED") {
		t.Errorf("paused log changed:\n%s", s)
	}
	press(a, "space")
	if s := screen(a); !strings.Contains(s, "newcomer") {
		t.Errorf("resumed log lacks the new event:\n%s", s)
	}
	// Drops, when non-zero, in the title.
	log.SetLoss(model.EventLoss{Source: "procevents", KernelDropped: 120, QueueDropped: 3})
	forkStorm(a, log)
	if s := screen(a); !strings.Contains(s, "! lost 123 (procevents: kernel 120 queue 3)") {
		t.Errorf("drops not shown:\n%s", s)
	}
	// Scrolling up shows older events.
	press(a, "home")
	if s := screen(a); !strings.Contains(s, "--n=0 ") && !strings.HasSuffix(strings.SplitN(s, "--n=0", 2)[0], " ") {
		t.Errorf("Home did not reach the oldest:\n%s", s)
	}
	press(a, "?")
	if s := screen(a); !strings.Contains(s, "help — event log") || !strings.Contains(s, "lost") {
		t.Errorf("help in the log:\n%s", s)
	}
	press(a, "esc", "2")
	if a.log.open || a.active != 1 {
		t.Error("a number key did not leave the log for its tab")
	}
	press(a, "?")
	if s := screen(a); !strings.Contains(s, "event log") || !strings.Contains(s, "acknowledge") {
		t.Errorf("help does not list e and A:\n%s", s)
	}
}

// oomLog is an event log with one OOM kill of demo-reclaim in a test
// cgroup, with a hostile cgroup name.
func oomLog(at time.Time) *model.EventLog {
	l := model.NewEventLog(0)
	l.Append(model.Event{Time: at, Source: model.SourceOOMKill, Kind: model.EventOOMKill, PID: 4321, Comm: "demo-reclaim",
		Data: &model.OOMKillData{VictimPID: 4321, VictimComm: "demo-reclaim", VictimAnonRSSBytes: model.Known(254 << 20),
			VictimFileRSSBytes: model.Known(1 << 20), VictimShmemRSSBytes: model.Known(0), VictimCgroup: "/vitals-demo-oom-77\x1b[2J",
			CgroupOf: "victim", CgroupLimitBytes: model.Known(256 << 20), Constraint: "memcg"}})
	return l
}

func publishOOM(a *App, log *model.EventLog, kills uint64, last time.Time) {
	a.store.Update(func(next *model.Sample, _ *model.History) {
		m := *next.Memory
		m.OOMKills, m.LastOOMKill = kills, last
		next.Memory = &m
		if log != nil {
			next.Events = log.View()
		}
	})
	deliverNow(a)
}

// Items 3 and 5: an OOM kill is in every tab's header with victim, cgroup
// and time until A acknowledges it; the Memory tab has it in detail.
func TestOOMKillInEveryHeaderUntilAcknowledged(t *testing.T) {
	// Kills before vitals started are not news: the first snapshot counts 2.
	ctx := common.NewContext(true)
	ctx.Now = func() time.Time { return fixedNow }
	store := fixtureStore(t)
	store.Update(func(next *model.Sample, _ *model.History) {
		m := *next.Memory
		m.OOMKills = 2
		next.Memory = &m
	})
	a := New(ctx, store, Options{Interval: time.Second})
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	a.Update(common.SnapshotMsg{Snap: store.Snapshot()})
	publishOOM(a, model.NewEventLog(0), 2, time.Time{})
	if s := screen(a); strings.Contains(strings.SplitN(s, "\n", 2)[0], "OOM") {
		t.Fatalf("old kills in the header:\n%s", s)
	}
	at := fixedNow.Add(-20 * time.Second)
	log := oomLog(at)
	publishOOM(a, log, 3, at)
	for _, tab := range []string{"1", "2", "3", "4", "5"} {
		press(a, tab)
		header := strings.SplitN(screen(a), "\n", 2)[0]
		if !strings.Contains(header, "! OOM kill 10:29:40 demo-reclaim pid 4321 in /vitals-demo-oom-77\\e[2J") {
			t.Errorf("tab %s header: %q", tab, header)
		}
		if !strings.Contains(screen(a), "A:ack 1 event(s)") {
			t.Errorf("tab %s footer lacks the ack key", tab)
		}
	}
	press(a, "2")
	s := screen(a)
	if !strings.Contains(s, "! OOM KILL 10:29:40: demo-reclaim pid 4321 in /vitals-demo-oom-77\\e[2J limit 256M, rss anon 254M file 1.0M shmem 0") {
		t.Errorf("Memory tab detail:\n%s", s)
	}
	press(a, "w")
	if s := screen(a); !strings.Contains(s, "rss anon 254M") || !strings.Contains(s, "shmem 0") {
		t.Errorf("w lacks the cgroup and limit:\n%s", s)
	}
	press(a, "esc")
	// At 80 columns the victim is still in the header.
	a.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if h := strings.SplitN(screen(a), "\n", 2)[0]; !strings.Contains(h, "demo-reclaim pid 4321") {
		t.Errorf("80 columns: %q", h)
	}
	press(a, "A")
	if h := strings.SplitN(screen(a), "\n", 2)[0]; strings.Contains(h, "OOM") {
		t.Errorf("A did not acknowledge: %q", h)
	}
	publishOOM(a, log, 3, at) // the same kill again: still acknowledged
	if h := strings.SplitN(screen(a), "\n", 2)[0]; strings.Contains(h, "OOM") {
		t.Errorf("acknowledged kill came back: %q", h)
	}
	// A kill the counter saw but no event named (no eBPF, no kmsg).
	publishOOM(a, log, 4, fixedNow)
	if h := strings.SplitN(screen(a), "\n", 2)[0]; !strings.Contains(h, "OOM kill 10:30:00 (victim unknown") {
		t.Errorf("counter-only kill: %q", h)
	}
	// A second named kill: the newest is shown, with the count.
	log.Append(model.Event{Time: fixedNow, Kind: model.EventOOMKill, PID: 99, Comm: "java", Data: &model.OOMKillData{VictimPID: 99, VictimComm: "java"}})
	publishOOM(a, log, 5, fixedNow)
	if h := strings.SplitN(screen(a), "\n", 2)[0]; !strings.Contains(h, "! ×2 events, last: OOM kill 10:30:00 java pid 99") {
		t.Errorf("two kills: %q", h)
	}
	// The size matrix with the strip and the log.
	for _, w := range uitest.Widths {
		for _, h := range uitest.Heights {
			a.Update(tea.WindowSizeMsg{Width: w, Height: h})
			uitest.CheckSize(t, "strip", a.render(), w, h)
			press(a, "e")
			uitest.CheckSize(t, "event log", a.render(), w, h)
			press(a, "/", "x")
			uitest.CheckSize(t, "event log filter", a.render(), w, h)
			press(a, "esc", "esc")
		}
	}
}

// Issue 8: a slow I/O is in the header strip until acknowledged, and in
// the event log.
func TestSlowIOInHeaderStrip(t *testing.T) {
	ctx := common.NewContext(true)
	ctx.Now = func() time.Time { return fixedNow }
	store := fixtureStore(t)
	a := New(ctx, store, Options{Interval: time.Second})
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	log := model.NewEventLog(0)
	log.Append(model.Event{Time: fixedNow.Add(-5 * time.Second), Source: model.SourceDisk, Kind: model.EventSlowIO, PID: 777, Comm: "postgres\x1b[2J",
		Data: model.SlowIOData{Device: "sda", Major: 8, Op: "W", Bytes: 4096, Sector: 123, LatencyMS: 812.4}})
	publishOOM(a, log, 0, time.Time{})
	press(a, "4")
	if h := strings.SplitN(screen(a), "\n", 2)[0]; !strings.Contains(h, "! slow I/O 10:29:55 sda W 4.0K 812 ms postgres\\e[2J pid 777") {
		t.Errorf("header: %q", h)
	}
	press(a, "e")
	if s := screen(a); !strings.Contains(s, "slow I/O: sda W 4.0K 812.4 ms (sector 123)") {
		t.Errorf("event log:\n%s", s)
	}
	press(a, "esc", "A")
	if h := strings.SplitN(screen(a), "\n", 2)[0]; strings.Contains(h, "slow I/O") {
		t.Errorf("A did not acknowledge: %q", h)
	}
}

// Item 3: the Memory tab's "ok: … no OOM kill" never sits beside a
// non-zero kill count.
func TestMemoryOKLineNeverDeniesKills(t *testing.T) {
	a := newTestApp(t, true, 160, 45)
	press(a, "2")
	if s := screen(a); !strings.Contains(s, "OOM kills 0") || !strings.Contains(s, "ok: no direct reclaim, no swapping, no OOM kill") {
		t.Fatalf("no kills:\n%s", s)
	}
	for _, c := range []struct {
		last time.Time
		want string
	}{
		{time.Time{}, "3 OOM kills since boot, none since vitals started"},
		{fixedNow.Add(-time.Hour), "last OOM kill 09:30:00 (3 since boot)"},
	} {
		publishOOM(a, nil, 3, c.last)
		s := screen(a)
		if !strings.Contains(s, "OOM kills 3") || !strings.Contains(s, "ok: ") {
			t.Fatalf("fixture:\n%s", s)
		}
		if strings.Contains(s, "no OOM kill") || !strings.Contains(s, c.want) {
			t.Errorf("ok line beside 3 kills:\n%s", s)
		}
	}
}
