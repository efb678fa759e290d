package ui

import (
	"strconv"
	"strings"
	"testing"
	"time"

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
			{PID: 1, PPID: 0, User: "root", Comm: "systemd", Cmdline: "/sbin/init", State: "S", Threads: 1, CPUPct: 0.5, UserPct: 0.2, SystemPct: 0.3, WaitPct: model.Known(0), CPUTimeTicks: 123456, RSSBytes: 12 << 20},
			{PID: 4242, PPID: 1, User: "www-data", Comm: "nginx", Cmdline: "nginx: worker process", State: "R", Threads: 4, CPUPct: 97.5, UserPct: 80, SystemPct: 17.5, WaitPct: model.Known(3.2), VoluntaryCSPerS: 120, InvoluntaryCSPerS: 15, CPUTimeTicks: 98765, RSSBytes: 300 << 20},
			{PID: 777, PPID: 1, User: "postgres", Comm: "postgres", Cmdline: "postgres: checkpointer", State: "D", Threads: 1, CPUPct: 12, UserPct: 2, SystemPct: 10, WaitPct: model.Unknown, VoluntaryCSPerS: 900, CPUTimeTicks: 4567, RSSBytes: 2 << 30},
			{PID: 666, PPID: 1, User: "mallory", RSSBytes: 4 << 20, Comm: "evil\x1b[2J", Cmdline: "evil\x1b[2J\x1b]0;pwned\x07 --hide", State: "S", Threads: 1, CPUPct: 1, CPUTimeTicks: 10},
		}
		for i := 0; i < 120; i++ {
			ts := fixedNow.Add(time.Duration(i-120) * time.Second)
			h.Record(model.SeriesCPUBusy, ts, float64(20+i%60))
			h.Record(model.SeriesLoad1, ts, 1+float64(i)/50)
		}
	})
	return s
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
		"PID", "%CPU", "%WAIT", "NVCSW/s", "nginx: worker process", "97.5",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
	// Thresholds said in words.
	for _, want := range []string{"load 3.50 > 0.7 × 3 CPUs", "run queue 4 > 3 CPUs", "context switches 15.2k/s", "iowait 25.0%", "CPU pressure 12.50%"} {
		if !strings.Contains(s, want) {
			t.Errorf("no warning %q", want)
		}
	}
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
	if s := screen(a); !strings.Contains(s, "Net tab: coming soon") || strings.Contains(s, "%CPU") {
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
	if a.help {
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
	widths := []int{1, 5, 19, 20, 21, 33, 40, 59, 60, 79, 80, 81, 100, 120, 160, 200, 250}
	heights := []int{1, 2, 4, 5, 6, 8, 10, 12, 16, 24, 30, 48, 70}
	for _, noColor := range []bool{false, true} {
		a := newTestApp(t, noColor, 80, 24)
		for _, w := range widths {
			for _, h := range heights {
				a.Update(tea.WindowSizeMsg{Width: w, Height: h})
				for _, view := range []func(){func() { press(a, "1") }, func() { press(a, "?") }, func() { press(a, "esc", "3") }} {
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
