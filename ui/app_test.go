package ui

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/internal/uitest"
)

var fixedNow = uitest.Now

// fixtureStore is a deterministic system: 4 CPUs (one offline), a few
// processes including a hostile name, and two minutes of history.
func fixtureStore(t testing.TB) *model.Store {
	t.Helper()
	host := model.Host{Hostname: "web-1", Kernel: "6.18.0-test", BootTime: fixedNow.Add(-50 * time.Hour), Mode: "procfs only: not root", ClockTicks: 100}
	s := model.NewStore(host, 1, 600)
	s.Update(func(next *model.Sample, h *model.History) {
		next.Time = fixedNow
		next.Disk = fixtureDisk()
		next.CPU = &model.CPU{
			Count: 4, Online: 3,
			Total: model.CPUPercent{User: 30, Nice: 2, System: 10, IOWait: 25, IRQ: 1, SoftIRQ: 2, Steal: 0, Idle: 30},
			PerCPU: []model.PerCPU{
				{ID: 0, Online: true, CPUPercent: model.CPUPercent{User: 90, System: 10}},
				{ID: 1, Online: true, CPUPercent: model.CPUPercent{User: 10, System: 10, IOWait: 70, Idle: 10}},
				{ID: 2, Online: false},
				{ID: 3, Online: true, CPUPercent: model.CPUPercent{User: 2, Idle: 98}},
			},
			Load:         model.LoadAvg{One: 3.5, Five: 2.25, Fifteen: 1.5, Runnable: 4, Total: 321},
			CtxtPerS:     model.Known(15234),
			IntrPerS:     model.Known(4321),
			ForksPerS:    model.Known(12),
			ProcsRunning: 4, ProcsBlocked: 2,
			PSI:      &model.Pressure{Some: model.PressureAvg{Avg10: 12.5, Avg60: 5.25, Avg300: 1}},
			SoftIRQs: []model.SoftIRQRate{{Name: "TIMER", PerS: 250}, {Name: "NET_RX", PerS: 1200}, {Name: "RCU", PerS: 90}, {Name: "SCHED", PerS: 60}, {Name: "HI", PerS: 0}},
		}
		next.Memory = &model.Memory{
			TotalBytes: 8 << 30, FreeBytes: 5 << 30, AvailableBytes: model.Known(6 << 30), UsedBytes: 2 << 30,
			BuffersBytes: 100 << 20, CacheBytes: 900 << 20, SharedBytes: 50 << 20,
			VM:         model.VMRates{SwapInPagesPerS: model.Known(0), SwapOutPagesPerS: model.Known(0), ScanDirectPerS: model.Known(0)},
			Zones:      []model.ZoneWatermarks{{Node: 0, Zone: "Normal", FreePages: 1 << 20, MinPages: 4000, LowPages: 5000, HighPages: 6000}},
			Swappiness: model.Known(60), MinFreeKbytes: model.Known(67584),
			Unavailable: map[string]string{"psi": "kernel has no /proc/pressure"},
		}
		next.Processes = []model.Process{
			{ProcessIdentity: model.ProcessIdentity{PID: 1, PPID: 0, User: "root", Comm: "systemd", Cmdline: "/sbin/init", State: "S", Threads: 1}, ProcessCPU: model.ProcessCPU{ProcessCPURates: model.ProcessCPURates{CPUPct: 0.5, UserPct: 0.2, SystemPct: 0.3, WaitPct: model.Known(0)}, CPUTimeTicks: 123456}, ProcessMemory: model.ProcessMemory{RSSBytes: 12 << 20}},
			{ProcessIdentity: model.ProcessIdentity{PID: 4242, PPID: 1, User: "www-data", Comm: "nginx", Cmdline: "nginx: worker process", State: "R", Threads: 4}, ProcessCPU: model.ProcessCPU{ProcessCPURates: model.ProcessCPURates{CPUPct: 97.5, UserPct: 80, SystemPct: 17.5, WaitPct: model.Known(3.2)}, ProcessSwitchRates: model.ProcessSwitchRates{VoluntaryCSPerS: 120, InvoluntaryCSPerS: 15}, CPUTimeTicks: 98765}, ProcessMemory: model.ProcessMemory{RSSBytes: 300 << 20}},
			{ProcessIdentity: model.ProcessIdentity{PID: 777, PPID: 1, User: "postgres", Comm: "postgres", Cmdline: "postgres: checkpointer", State: "D", Threads: 1}, ProcessCPU: model.ProcessCPU{ProcessCPURates: model.ProcessCPURates{CPUPct: 12, UserPct: 2, SystemPct: 10, WaitPct: model.Unknown}, ProcessSwitchRates: model.ProcessSwitchRates{VoluntaryCSPerS: 900}, CPUTimeTicks: 4567}, ProcessMemory: model.ProcessMemory{RSSBytes: 2 << 30}},
			{ProcessIdentity: model.ProcessIdentity{PID: 666, PPID: 1, User: "mallory", Comm: "evil\x1b[2J", Cmdline: "evil\x1b[2J\x1b]0;pwned\x07 --hide", State: "S", Threads: 1}, ProcessMemory: model.ProcessMemory{RSSBytes: 4 << 20}, ProcessCPU: model.ProcessCPU{ProcessCPURates: model.ProcessCPURates{CPUPct: 1}, CPUTimeTicks: 10}},
		}
		next.Net = fixtureNet()
		for i := 0; i < 120; i++ {
			ts := fixedNow.Add(time.Duration(i-120) * time.Second)
			h.Record(model.SeriesCPUBusy, ts, float64(20+i%60))
			h.Record(model.SeriesLoad1, ts, 1+float64(i)/50)
		}
	})
	return s
}

// fixtureNet: a web server whose accept queue overflows.
func fixtureNet() *model.Net {
	k := model.Known
	pid := int32(4242)
	init := true
	return &model.Net{
		Namespace: model.NetNamespace{Path: "/proc/1/net", Init: &init},
		Interfaces: []model.NetInterface{
			{Name: "lo", RxBytesPerS: k(2048), TxBytesPerS: k(2048), RxPacketsPerS: k(20), TxPacketsPerS: k(20), RxAvgPacketBytes: k(102), RxErrorsPerS: k(0), TxErrorsPerS: k(0), RxDropsPerS: k(0), TxDropsPerS: k(0), OperState: "unknown"},
			{Name: "eth0", RxBytesPerS: k(12_500_000), TxBytesPerS: k(90_000_000), RxPacketsPerS: k(9000), TxPacketsPerS: k(62000), RxAvgPacketBytes: k(1389), RxErrorsPerS: k(0), TxErrorsPerS: k(0), RxDropsPerS: k(0), TxDropsPerS: k(0), SpeedMbps: k(1000), Duplex: "full", OperState: "up", UtilPct: k(72)},
		},
		TCP: &model.TCPCounters{ActiveOpensPerS: k(3), PassiveOpensPerS: k(850), InSegsPerS: k(9000), OutSegsPerS: k(62000), RetransSegsPerS: k(1), RetransPct: k(0), AttemptFailsPerS: k(0), EstabResetsPerS: k(0), OutResetsPerS: k(2), InErrsPerS: k(0),
			ListenOverflowsPS: k(40), ListenDropsPerS: k(40), SynRetransPerS: k(0), SyncookiesSentPS: k(0), TimeoutsPerS: k(0)},
		UDP:              &model.UDPCounters{InDatagramsPerS: k(10), OutDatagramsPerS: k(10), NoPortsPerS: k(0), InErrorsPerS: k(0), RcvbufErrorsPerS: k(0)},
		Sockets:          &model.SocketTotals{TCPStates: map[string]int{"estab": 120, "listen": 2, "time-wait": 300}, TCP: 422, UDP: 1, TCPOrphan: k(0)},
		Listening:        []model.Listener{{Proto: "tcp", Address: "0.0.0.0", Port: 443, Queue: 129, SocketOwner: model.SocketOwner{PID: &pid, Comm: "nginx", Others: 3}}},
		Connections:      []model.Connection{{Proto: "tcp", LocalAddr: "10.0.0.5", LocalPort: 443, RemoteAddr: "198.51.100.20", RemotePort: 50123, State: "estab", SocketOwner: model.SocketOwner{PID: &pid, Comm: "nginx"}}},
		ConnectionsTotal: 1,
		Owners:           &model.SocketOwners{At: fixedNow, Processes: 4, IntervalS: 2},
	}
}

// fixtureDisk is the Disk tab's part of the fixture: one busy disk, its
// filesystem and a process in D.
func fixtureDisk() *model.Disk {
	return &model.Disk{
		Devices: []model.DiskDevice{{Name: "vda", Kind: model.DiskKindDisk, EverUsed: true, InFlight: 2,
			DiskRates: model.DiskRates{ReadsPerS: model.Known(120), WritesPerS: model.Known(30), ReadBytesPerS: model.Known(4 << 20), WriteBytesPerS: model.Known(1 << 20),
				RAwaitMS: model.Known(8), WAwaitMS: model.Known(12), AwaitMS: model.Known(8.8), AquSz: model.Known(1.3), UtilPct: model.Known(64)}}},
		Filesystems: []model.Filesystem{{Mount: "/", Device: "/dev/vda", Disk: "vda", FSType: "ext4", SizeBytes: model.Known(100 << 30), UsedBytes: model.Known(40 << 30),
			AvailBytes: model.Known(55 << 30), UsePct: model.Known(43), InodesUsedPct: model.Known(5)}},
		DState: []model.DStateProcess{{PID: 777, Comm: "postgres", User: "postgres", Wchan: "io_schedule", InDS: 3}},
	}
}

func newTestApp(t testing.TB, noColor bool, w, h int) *App {
	t.Helper()
	ctx := common.NewContext(noColor)
	ctx.Now = func() time.Time { return fixedNow }
	store := fixtureStore(t)
	a := New(ctx, store, Options{Interval: time.Second})
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	a.Update(common.SnapshotMsg{Snap: store.Snapshot()})
	return a
}

func screen(a *App) string { return ansi.Strip(a.render()) }

func press(a *App, keys ...string) {
	for _, k := range keys {
		a.Update(uitest.Key(k))
	}
}

func TestGoldenCPUTab(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		a := newTestApp(t, false, sz[0], sz[1])
		uitest.Golden(t, "cpu_"+itoa(sz[0])+"x"+itoa(sz[1]), screen(a))
	}
	a := newTestApp(t, true, 80, 24)
	uitest.Golden(t, "cpu_80x24_nocolor", screen(a))
}

func TestGoldenHelpAndComingTab(t *testing.T) {
	a := newTestApp(t, false, 80, 24)
	press(a, "?")
	uitest.Golden(t, "help_80x24", screen(a))
	press(a, "esc", "2")
	uitest.Golden(t, "memory_80x24", screen(a))
	press(a, "5")
	uitest.Golden(t, "net_80x24", screen(a))
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestCPUTabContent(t *testing.T) {
	a := newTestApp(t, false, 160, 48)
	s := screen(a)
	for _, want := range []string{
		"vitals", "web-1", "Linux 6.18.0-test", "up 2d 2h", "10:30:00", "every 1s", "procfs only: not root",
		"1 CPU", "2 Memory", "3 Cache", "4 Disk", "5 Net",
		"r 4", "b 2", "cs/s 15.2k", "in/s 4321", "load 3.50 2.25 1.50", "tasks 4/321",
		"PSI cpu some 12.50/5.25/1.00%", "NET_RX 1200",
		"offline",
		"PID", "%CPU", "WAIT%", "NVCSW/s", "nginx: worker process", "97.5",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
	// Thresholds said in words: the most severe on screen, all in the
	// w list.
	for _, want := range []string{"run queue 4 > 3 CPUs", "D state: postgres", "iowait 25.0%", "+3 more (w)"} {
		if !strings.Contains(s, want) {
			t.Errorf("no warning %q", want)
		}
	}
	press(a, "w")
	for _, want := range []string{"load 3.50 > 0.7 × 3 CPUs", "run queue 4 > 3 CPUs", "context switches 15.2k/s", "iowait 25.0%", "CPU pressure 12.50%"} {
		if !strings.Contains(screen(a), want) {
			t.Errorf("w list lacks %q", want)
		}
	}
	press(a, "esc")
	// nginx (97.5 %CPU) is sorted above postgres (12 %).
	if strings.Index(s, "nginx: worker") > strings.Index(s, "postgres: checkpointer") {
		t.Error("table not sorted by %CPU descending")
	}
}

func TestUntrustedTextIsEscaped(t *testing.T) {
	a := newTestApp(t, false, 160, 48)
	raw := a.render()
	if strings.Contains(raw, "\x1b[2J") || strings.Contains(raw, "\x1b]0;") || strings.Contains(raw, "\x07") {
		t.Fatal("a process name reached the terminal raw")
	}
	if !strings.Contains(ansi.Strip(raw), `evil\e[2J\e]0;pwned\x07 --hide`) {
		t.Error("escaped command line not shown")
	}
}

func TestTabsHelpPauseQuit(t *testing.T) {
	a := newTestApp(t, false, 80, 24)
	press(a, "2")
	if s := screen(a); !strings.Contains(s, "avail") || !strings.Contains(s, "RSS") || strings.Contains(s, "coming") {
		t.Errorf("Memory tab: %q", s)
	}
	press(a, "3")
	if s := screen(a); !strings.Contains(s, "Cache: collecting the first interval") || strings.Contains(s, "coming") {
		t.Errorf("Cache tab without data: %q", s)
	}
	press(a, "4")
	if s := screen(a); !strings.Contains(s, "DEVICE") || !strings.Contains(s, "vda: not saturated") || !strings.Contains(s, "io_schedule") || strings.Contains(s, "coming") {
		t.Errorf("Disk tab: %q", s)
	}
	press(a, "5")
	if s := screen(a); !strings.Contains(s, "rxpck/s") || !strings.Contains(s, "listen ovf/s") || strings.Contains(s, "coming") {
		t.Errorf("Net tab: %q", s)
	}
	press(a, "1")
	if !strings.Contains(screen(a), "%CPU") {
		t.Fatal("1 did not return to CPU")
	}
	press(a, "tab")
	if a.active != 1 {
		t.Fatalf("Tab → %d", a.active)
	}
	press(a, "shift+tab", "shift+tab")
	if a.active != 4 {
		t.Fatalf("Shift-Tab wraps to Net, got %d", a.active)
	}
	press(a, "1", "f1")
	if s := screen(a); !strings.Contains(s, "Keys") || !strings.Contains(s, "sort") {
		t.Fatalf("help overlay: %s", s)
	}
	// The first page already explains the most misread number.
	if s := screen(a); !strings.Contains(s, "What the numbers mean") || !strings.Contains(s, "100 = one full CPU") {
		t.Fatalf("help's first page does not explain %%CPU: %s", s)
	}
	// Scrolling reaches the last explanation.
	var page string
	for i := 0; i < 10 && !strings.Contains(page, "COMMAND"); i++ {
		press(a, "pgdown")
		page = screen(a)
	}
	if !strings.Contains(page, "shown escaped") {
		t.Fatalf("help cannot be scrolled to the end: %s", page)
	}
	press(a, "esc")
	if a.overlay != noOverlay {
		t.Fatal("Esc did not close help")
	}

	// Pause: new data is held back until resumed.
	press(a, "z")
	store := a.store
	store.Update(func(next *model.Sample, _ *model.History) {
		cpu := *next.CPU
		cpu.Load.One = 0.01
		next.CPU = &cpu
	})
	a.Update(common.SnapshotMsg{Snap: store.Snapshot()})
	if s := screen(a); !strings.Contains(s, "PAUSED") || !strings.Contains(s, "load 3.50") {
		t.Fatal("pause did not freeze the display")
	}
	press(a, "z")
	if s := screen(a); strings.Contains(s, "PAUSED") || !strings.Contains(s, "load 0.01") {
		t.Fatal("resume did not show the newest data")
	}

	for _, k := range []string{"q", "ctrl+c"} {
		b := newTestApp(t, false, 80, 24)
		_, cmd := b.Update(uitest.Key(k))
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatalf("%s did not quit", k)
		}
	}
	b := newTestApp(t, false, 80, 24)
	_, cmd := b.Update(uitest.Key("f10"))
	if cmd == nil {
		t.Fatal("F10 did not quit")
	}
}

// The Disk tab at every size of the matrix, with its data.
func TestSizeMatrixDiskTab(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		a := newTestApp(t, noColor, 80, 24)
		press(a, "4")
		for _, w := range []int{1, 5, 19, 20, 21, 33, 40, 59, 60, 79, 80, 81, 100, 120, 160, 200, 250} {
			for _, h := range []int{1, 2, 4, 5, 6, 8, 10, 12, 16, 24, 30, 48, 70} {
				a.Update(tea.WindowSizeMsg{Width: w, Height: h})
				uitest.CheckSize(t, "disk tab", a.render(), w, h)
			}
		}
	}
}

// Every size from a tiny pane to a large one: exactly height lines, none
// wider than the terminal, no panic — on every tab and in the help.
func TestSizeMatrix(t *testing.T) {
	widths, heights := uitest.Widths, uitest.Heights
	for _, noColor := range []bool{false, true} {
		a := newTestApp(t, noColor, 80, 24)
		for _, w := range widths {
			for _, h := range heights {
				a.Update(tea.WindowSizeMsg{Width: w, Height: h})
				for _, view := range []func(){func() { press(a, "1") }, func() { press(a, "?") }, func() { press(a, "esc", "3") },
					func() { press(a, "1", "w") }, func() { press(a, "esc", "g") }, func() { press(a, "2", "g") }, func() { press(a, "5") }} {
					view()
					uitest.CheckSize(t, "app", a.render(), w, h)
				}
				press(a, "esc", "1")
			}
		}
	}
	a := newTestApp(t, false, 19, 4)
	if !strings.Contains(strings.ReplaceAll(screen(a), "\n", " "), "too") {
		t.Errorf("below 20x5 the screen should say it is too small: %q", screen(a))
	}
}

// The program runs headless end to end: start, receive a snapshot, quit.
func TestProgramRunsHeadless(t *testing.T) {
	ctx := common.NewContext(false)
	store := fixtureStore(t)
	a := New(ctx, store, Options{Interval: time.Second})
	var out strings.Builder
	p := tea.NewProgram(a, tea.WithInput(nil), tea.WithOutput(&out), tea.WithWindowSize(80, 24))
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	deadline := time.After(5 * time.Second)
	for a.snapSeq() == 0 {
		select {
		case <-deadline:
			t.Fatal("no snapshot delivered")
		case <-time.After(10 * time.Millisecond):
		}
	}
	p.Send(uitest.Key("q"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("q did not stop the program")
	}
}

// A tab added to the registry gets its place in the bar, its number key,
// its turn in Tab/Shift-Tab and its line in the help, with no other edit.
func TestRegisteredTabIsWiredEverywhere(t *testing.T) {
	ctx := common.NewContext(false)
	ctx.Now = func() time.Time { return fixedNow }
	store := fixtureStore(t)
	defs := append(append([]tabDef(nil), tabDefs...), coming("GPU", "per-device utilisation."))
	a := newWithTabs(ctx, store, Options{Interval: time.Second}, defs)
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	a.Update(common.SnapshotMsg{Snap: store.Snapshot()})
	if s := screen(a); !strings.Contains(s, "5 Net   6 GPU") {
		t.Errorf("bar: %q", strings.SplitN(s, "\n", 3)[1])
	}
	press(a, "6")
	if a.active != 5 || !strings.Contains(screen(a), "GPU tab: coming soon") {
		t.Fatalf("6 → tab %d", a.active)
	}
	press(a, "tab")
	if a.active != 0 {
		t.Fatalf("Tab from the last tab → %d, want 0", a.active)
	}
	press(a, "shift+tab")
	if a.active != 5 {
		t.Fatalf("Shift-Tab from the first tab → %d, want 5", a.active)
	}
	press(a, "?")
	if s := screen(a); !strings.Contains(s, "1-6") || !strings.Contains(s, "CPU Memory Cache Disk Net GPU") {
		t.Errorf("help lacks the number keys: %s", s)
	}
	// Clicking the new tab's label selects it too.
	press(a, "esc", "1")
	bar := strings.SplitN(screen(a), "\n", 3)[1]
	a.Update(tea.MouseClickMsg{X: strings.Index(bar, "6 GPU"), Y: 1})
	if a.active != 5 {
		t.Errorf("click on the GPU label → tab %d", a.active)
	}
}

func TestNumberKeysStopAtNine(t *testing.T) {
	var defs []tabDef
	for i := range 11 {
		defs = append(defs, coming("T"+strconv.Itoa(i), "nothing."))
	}
	tabs := buildTabs(defs, common.NewContext(true), Options{})
	if got := tabForKey(tabs, uitest.Key("9")); got != 8 {
		t.Errorf("9 → %d", got)
	}
	if got := numberKeysHelp(tabs).Help().Key; got != "1-9" {
		t.Errorf("help key %q", got)
	}
	if len(tabs[9].number.Keys()) != 0 {
		t.Error("the tenth tab has a number key")
	}
}

// republish puts a new sample in the store with the processes changed by
// edit, and delivers it as the program would.
func republish(a *App, edit func(procs []model.Process) []model.Process) {
	a.store.Update(func(next *model.Sample, _ *model.History) {
		next.Processes = edit(slices.Clone(next.Processes))
	})
	a.Update(common.SnapshotMsg{Snap: a.store.Snapshot()})
	a.Update(coalescedMsg{}) // the coalescing window ends
}

// goIdle republishes with process pid using no CPU.
func goIdle(a *App, pid int32) {
	republish(a, func(ps []model.Process) []model.Process {
		for i := range ps {
			if ps[i].PID == pid {
				ps[i].CPUPct = 0
			}
		}
		return ps
	})
}

// selectedLine is the table row drawn in reverse video, as plain text.
func selectedLine(t *testing.T, a *App) string {
	t.Helper()
	for _, l := range strings.Split(a.render(), "\n") {
		if strings.Contains(l, "\x1b[7m") && !strings.Contains(l, "CPU ") {
			return ansi.Strip(l)
		}
	}
	t.Fatalf("no highlighted row:\n%s", screen(a))
	return ""
}

// Issue #12 item 1, through the program: a cursor key does not pin the
// cursor to a process; only F follows one, with a visible mark, and a
// followed process that exits is said once and the cursor goes to the top.
func TestTableKeepsItsPlaceAndFollowsOnlyWithF(t *testing.T) {
	a := newTestApp(t, true, 80, 24)
	press(a, "home", "down") // row 1: postgres (12 %)
	if !strings.Contains(selectedLine(t, a), "postgres") {
		t.Fatalf("down selected %q", selectedLine(t, a))
	}
	// postgres goes idle and sinks; the cursor stays on row 1, now mallory.
	goIdle(a, 777)
	if got := selectedLine(t, a); !strings.Contains(got, "mallory") {
		t.Fatalf("after the re-sort the highlight is on %q, want row 1 (mallory)", got)
	}
	// F follows mallory across a re-sort, marked on the status line.
	press(a, "F")
	if !strings.Contains(screen(a), "FOLLOW 666") {
		t.Fatalf("no FOLLOW mark:\n%s", screen(a))
	}
	goIdle(a, 666)
	if got := selectedLine(t, a); !strings.Contains(got, "mallory") {
		t.Fatalf("following: highlight on %q, want mallory", got)
	}
	// mallory exits: said once, cursor back on the top row, mark gone.
	republish(a, func(ps []model.Process) []model.Process {
		return slices.DeleteFunc(ps, func(p model.Process) bool { return p.PID == 666 })
	})
	s := screen(a)
	if !strings.Contains(s, "followed process 666") || !strings.Contains(s, "exited") || strings.Contains(s, "FOLLOW") {
		t.Fatalf("exit of the followed process not said:\n%s", s)
	}
	if got := selectedLine(t, a); !strings.Contains(got, "nginx") {
		t.Fatalf("after the exit the highlight is on %q, want the top row", got)
	}
	press(a, "down")
	republish(a, func(ps []model.Process) []model.Process { return ps })
	if strings.Contains(screen(a), "exited") {
		t.Fatal("the exit is said again")
	}
}

// tableHeader is the process table's header on screen: the line with the
// sort arrow that is not the status line.
func tableHeader(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if (strings.Contains(l, "▼") || strings.Contains(l, "▲")) && !strings.Contains(l, "sorted by") {
			return l
		}
	}
	return ""
}

// markedTitle is the header word the sort arrow ends (shortened to keep
// the arrow in a narrow column; empty for a one-cell column).
func markedTitle(header string) string {
	i := strings.IndexAny(header, "▼▲")
	if i < 0 {
		return ""
	}
	word := header[:i]
	if j := strings.LastIndexByte(word, ' '); j >= 0 {
		word = word[j+1:]
	}
	if word == "" {
		return "S" // the one-cell state column shows only the arrow
	}
	return word
}

// sortedBy is the sort column's title from the status line.
func sortedBy(s string) string {
	_, after, ok := strings.Cut(s, "sorted by ")
	if !ok {
		return ""
	}
	title, _, _ := strings.Cut(after, " ")
	return title
}

// Issue #12 item 3: at every width of the size matrix, on every tab with
// a process table and for every sort column, the header shows the column
// the table is sorted by (at 40x12 the CPU table used to lose %CPU while
// "sorted by %CPU" showed) and COMMAND keeps its minimum width.
func TestColumnPriorityKeepsSortColumn(t *testing.T) {
	a := newTestApp(t, true, 80, 24)
	for _, tab := range []string{"1", "2", "3"} {
		if tab == "3" {
			a.store.Update(func(next *model.Sample, _ *model.History) {
				next.Cache = &model.Cache{Source: "ebpf", Feature: model.Feature{Tier: "tp_btf"}}
			})
			a.Update(common.SnapshotMsg{Snap: a.store.Snapshot()})
			a.Update(coalescedMsg{})
		}
		press(a, tab, "f6", "home", "enter")
		seen := map[string]bool{}
		for {
			a.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
			title := sortedBy(screen(a))
			if title == "" || seen[title] {
				break
			}
			seen[title] = true
			for _, w := range uitest.Widths {
				if w < minWidth {
					continue
				}
				a.Update(tea.WindowSizeMsg{Width: w, Height: 24})
				s := screen(a)
				h := tableHeader(s)
				if h == "" {
					t.Fatalf("tab %s sorted by %s at %dx24: no table header\n%s", tab, title, w, s)
				}
				if marked := markedTitle(h); marked == "" || !strings.HasPrefix(title, marked) {
					t.Errorf("tab %s sorted by %s at %dx24: header %q", tab, title, w, h)
				}
				if i := strings.Index(h, "COMMAND"); title != "COMMAND" && w >= 60 && (i < 0 || w-utf8.RuneCountInString(h[:i]) < 16) {
					t.Errorf("tab %s sorted by %s at %dx24: COMMAND narrower than 16 in %q", tab, title, w, h)
				}
			}
			press(a, ">")
		}
		if len(seen) < 5 {
			t.Errorf("tab %s: only %d sort columns tried", tab, len(seen))
		}
	}
}

// Issue #12 item 2: at 80x24 the warnings are one a line, most severe
// first, in a fixed area ending "+N more (w)", and w lists them all.
func TestWarningsAreaAndList(t *testing.T) {
	a := newTestApp(t, true, 80, 24)
	s := screen(a)
	lines := strings.Split(s, "\n")
	var area []string
	for _, l := range lines {
		if strings.HasPrefix(l, "! ") {
			area = append(area, l)
		}
	}
	// The fixture crosses six thresholds: saturation first (run queue,
	// the postgres in D state), the rules of thumb (load) after.
	if len(area) != 2 || !strings.HasPrefix(area[0], "! run queue 4 > 3 CPUs") || !strings.HasPrefix(area[1], "! D state: postgres") ||
		!strings.HasSuffix(strings.TrimRight(area[1], " "), "+4 more (w)") {
		t.Fatalf("warnings area %q", area)
	}
	// The iowait demo: iowait, D state and load; D state is on screen.
	a.store.Update(func(next *model.Sample, _ *model.History) {
		cpu := *next.CPU
		cpu.ProcsRunning, cpu.CtxtPerS, cpu.PSI = 1, model.Known(100), nil
		next.CPU = &cpu
	})
	a.Update(common.SnapshotMsg{Snap: a.store.Snapshot()})
	a.Update(coalescedMsg{})
	if s := screen(a); !strings.Contains(s, "! D state: postgres") || !strings.Contains(s, "! iowait 25.0%") || !strings.Contains(s, "+1 more (w)") {
		t.Fatalf("iowait demo at 80x24:\n%s", s)
	}
	press(a, "w")
	s = screen(a)
	for _, want := range []string{"warnings — CPU tab", "! D state: postgres", "! iowait 25.0%", "! load 3.50 > 0.7 × 3 CPUs"} {
		if !strings.Contains(s, want) {
			t.Errorf("w list lacks %q:\n%s", want, s)
		}
	}
	if strings.Index(s, "D state") > strings.Index(s, "load 3.50") {
		t.Error("w list not most severe first")
	}
	press(a, "esc")
	if a.overlay != noOverlay || !strings.Contains(screen(a), "%CPU") {
		t.Fatal("Esc did not close the warnings list")
	}
	press(a, "?")
	if !strings.Contains(screen(a), "all warnings, worst first") {
		t.Error("help does not list w")
	}
}

// manyProcesses republishes with n more processes, so the table can fill
// the screen.
func manyProcesses(a *App, n int) {
	republish(a, func(ps []model.Process) []model.Process {
		for i := range n {
			var p model.Process
			p.PID, p.User, p.Comm, p.Cmdline, p.State, p.CPUPct = int32(5000+i), "svc", "worker", "worker --id "+itoa(i), "S", float64(i%7)
			ps = append(ps, p)
		}
		return ps
	})
}

// processRows counts the table's rows on screen: the lines between its
// header and its status line.
func processRows(s string) int {
	lines := strings.Split(s, "\n")
	head, status := -1, -1
	for i, l := range lines {
		if head < 0 && strings.Contains(l, "PID") && strings.Contains(l, "COMMAND") {
			head = i
		}
		if strings.Contains(l, "sorted by") {
			status = i
		}
	}
	if head < 0 || status < head {
		return 0
	}
	n := 0
	for _, l := range lines[head+1 : status] {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return n
}

// Issue #12 item 3: at 80x24 the CPU tab shows at least 12 process rows
// (charts fold by height, g brings them back), and the per-CPU meters are
// packed several a line instead of hiding CPUs.
func TestCPUTabAt80x24KeepsTwelveRows(t *testing.T) {
	a := newTestApp(t, true, 80, 24)
	manyProcesses(a, 40)
	s := screen(a)
	if n := processRows(s); n < 12 {
		t.Fatalf("%d process rows at 80x24, want at least 12:\n%s", n, s)
	}
	// Four CPUs in two lines of two meters, halves side by side as in
	// htop's two-column meters.
	if !regexp.MustCompile(`(?m)^0 +\[.*%\s+2 +\[ offline`).MatchString(s) || !regexp.MustCompile(`(?m)^1 +\[.*%\s+3 +\[`).MatchString(s) {
		t.Errorf("per-CPU meters not packed two a line:\n%s", s)
	}
	if strings.Contains(s, "CPU busy %") {
		t.Errorf("charts drawn at the cost of table rows:\n%s", s)
	}
	press(a, "g")
	if s := screen(a); !strings.Contains(s, "CPU busy %") || processRows(s) < 3 {
		t.Fatalf("g did not show the charts:\n%s", s)
	}
	press(a, "g")
	if s := screen(a); strings.Contains(s, "CPU busy %") || processRows(s) < 12 {
		t.Fatalf("second g did not hide the charts:\n%s", s)
	}
	press(a, "?")
	if !strings.Contains(screen(a), "show/hide the charts") {
		t.Error("help does not list g")
	}
	press(a, "esc")
	// At 160x48 the charts are on by default, and g hides them.
	a.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	press(a, "g", "g")
	if s := screen(a); !strings.Contains(s, "CPU busy %") || processRows(s) < 12 {
		t.Fatalf("160x48:\n%s", s)
	}
}

// 64 CPUs at 80x24: every CPU is on screen, none hidden.
func TestManyCPUsArePackedNotHidden(t *testing.T) {
	a := newTestApp(t, true, 80, 24)
	a.store.Update(func(next *model.Sample, _ *model.History) {
		cpu := *next.CPU
		cpu.PerCPU = nil
		for i := range 64 {
			cpu.PerCPU = append(cpu.PerCPU, model.PerCPU{ID: i, Online: true, CPUPercent: model.CPUPercent{User: float64(i), Idle: 100 - float64(i)}})
		}
		cpu.Count, cpu.Online = 64, 64
		next.CPU = &cpu
	})
	manyProcesses(a, 40)
	s := screen(a)
	if strings.Contains(s, "hidden") || !strings.Contains(s, "cpu 0-63") || processRows(s) < 12 {
		t.Fatalf("64 CPUs at 80x24:\n%s", s)
	}
	for _, w := range []int{120, 200} {
		a.Update(tea.WindowSizeMsg{Width: w, Height: 50})
		s := screen(a)
		if strings.Contains(s, "hidden") || !strings.Contains(s, "63 [") {
			t.Fatalf("64 CPUs at %dx50: not all meters drawn\n%s", w, s)
		}
	}
}

// helpLines is every line of the help overlay of the active tab, scrolled
// through to the end.
func helpLines(a *App) []string {
	press(a, "?", "home")
	var out []string
	for range 40 {
		page := strings.Split(screen(a), "\n")
		out = append(out, page[2:len(page)-1]...)
		before := a.overlayTop
		press(a, "pgdown")
		if a.overlayTop == before {
			break
		}
	}
	press(a, "esc")
	return out
}

// Issue #12 item 9: in the help, a term and its meaning never run
// together ("faults major page faults…"), no term is cut, and the Memory
// tab lists its table's keys on every panel.
func TestHelpTermsStandApartAndMemoryListsTableKeys(t *testing.T) {
	a := newTestApp(t, true, 80, 24)
	for _, tab := range []string{"1", "2", "3"} {
		press(a, tab)
		explain := false
		lines := helpLines(a)
		for i, l := range lines {
			if strings.Contains(l, "What the numbers mean") {
				explain = true
				continue
			}
			cells := []rune(l + "                ")
			if !explain || strings.TrimSpace(string(cells[2:14])) == "" {
				continue
			}
			if strings.Contains(string(cells[2:14]), "…") {
				t.Errorf("tab %s: term cut: %q", tab, l)
			}
			// The meaning starts two blank cells after the term column;
			// a longer term has its line to itself, its meaning below.
			termOnly := i+1 < len(lines) && strings.TrimSpace(string([]rune(lines[i+1] + "              ")[2:14])) == ""
			if (cells[14] != ' ' || cells[15] != ' ') && !termOnly {
				t.Errorf("tab %s: term and meaning run together: %q", tab, l)
			}
		}
	}
	press(a, "2", "v")
	help := strings.Join(helpLines(a), "\n")
	for _, want := range []string{"sort: column to the left", "filter: name", "send a signal", "view: processes"} {
		if !strings.Contains(help, want) {
			t.Errorf("Memory help on the cgroups panel lacks %q", want)
		}
	}
}

// Issue #12 item 9: the all line's % is the chart's busy (100 − idle −
// iowait), and the help says so; the load chart names the CPU count from
// the sample, "–" before the first CPU sample rather than "1 CPUs".
func TestBusyAgreesAndLoadChartCountsCPUs(t *testing.T) {
	a := newTestApp(t, true, 160, 48)
	s := screen(a)
	// The fixture: user 30 + nice 2 + system 10 + irq 1 + softirq 2 = 45
	// busy; iowait 25; idle 30.
	if !regexp.MustCompile(`(?m)^all +\[.*\] +45\.0%`).MatchString(s) {
		t.Errorf("all line's %% is not busy (45.0):\n%s", s)
	}
	if !strings.Contains(s, "CPU busy % (100 − idle − iowait)") || !strings.Contains(s, "load 1m vs 3 CPUs") {
		t.Errorf("chart titles:\n%s", s)
	}
	help := strings.Join(helpLines(a), " ")
	if !strings.Contains(help, "busy = 100 − idle − iowait") {
		t.Errorf("help does not say what the bars' %% is")
	}
	// The first interval: no CPU sample yet (and so no history).
	store := model.NewStore(model.Host{}, 1, 600)
	store.Update(func(next *model.Sample, _ *model.History) { next.Time = fixedNow })
	a = New(a.ctx, store, Options{Interval: time.Second})
	a.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	a.Update(common.SnapshotMsg{Snap: store.Snapshot()})
	if s := screen(a); !strings.Contains(s, "load 1m vs – CPUs") || strings.Contains(s, "vs 1 CPUs") {
		t.Errorf("first interval:\n%s", s)
	}
	// A 2-CPU machine's first CPU sample.
	a.store.Update(func(next *model.Sample, h *model.History) {
		next.CPU = &model.CPU{Count: 2, Online: 2, PerCPU: []model.PerCPU{{ID: 0, Online: true}, {ID: 1, Online: true}}}
		h.Record(model.SeriesCPUBusy, fixedNow.Add(time.Second), 10)
	})
	a.Update(common.SnapshotMsg{Snap: a.store.Snapshot()})
	a.Update(coalescedMsg{})
	if s := screen(a); !strings.Contains(s, "load 1m vs 2 CPUs") {
		t.Errorf("2 CPUs:\n%s", s)
	}
}
