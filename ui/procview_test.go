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

// richProcess republishes the fixture with nginx (4242) carrying every
// part the process view shows: a cgroup with a limit, smaps_rollup
// details, I/O rates and a page-cache row.
func richProcess(a *App, at time.Duration, rss uint64) {
	a.store.Update(func(next *model.Sample, _ *model.History) {
		next.Time = fixedNow.Add(at)
		procs := make([]model.Process, len(next.Processes))
		copy(procs, next.Processes)
		for i := range procs {
			p := &procs[i]
			if p.PID != 4242 {
				continue
			}
			p.StartTicks = 777
			p.StartTime = fixedNow.Add(-time.Hour)
			p.Cmdline = "/usr/sbin/nginx -g daemon off; master_process on; worker_processes auto; error_log /var/log/nginx/error.log warn; pid /run/nginx.pid; \x1b[31mred"
			p.Cgroup = "/system.slice/nginx.service"
			p.RSSBytes, p.VSZBytes, p.MemPct = rss, 1<<30, 3.7
			p.PSSBytes, p.USSBytes, p.SharedBytes, p.SwapBytes = model.Known(280<<20), model.Known(250<<20), model.Known(50<<20), model.Known(0)
			p.MemDetail = model.DetailFresh
			p.MinFltPerS, p.MajFltPerS = 1200, 3
			p.IODetail = model.DetailFresh
			p.ReadBytesPerS, p.WriteBytesPerS, p.CancelledWriteBytesPerS = model.Known(1<<20), model.Known(300<<10), model.Known(0)
			p.RcharPerS, p.WcharPerS, p.SyscrPerS, p.SyscwPerS = model.Known(5<<20), model.Known(1<<20), model.Known(120), model.Known(30)
			p.CacheHits, p.CacheMisses, p.CacheReadHitPct = model.Known(9000), model.Known(20), model.Known(99.8)
		}
		next.Processes = procs
		m := *next.Memory
		m.Cgroups = []model.MemCgroup{{Path: "/system.slice/nginx.service", Version: 2, UsageBytes: 900 << 20, WorkingSetBytes: 800 << 20,
			LimitBytes: model.Known(2 << 30), OOMKills: model.Known(1), Processes: 5}}
		next.Memory = &m
		next.Cache = &model.Cache{Source: "ebpf", Processes: []model.CacheProcess{{PID: 4242, StartTicks: 777, Hits: 9000, Misses: 20, Dirties: 7, MmapPages: 64, MmapMisses: 16, ReadHitPct: model.Known(99.8)}}}
	})
	a.Update(common.SnapshotMsg{Snap: a.store.Snapshot()})
	a.Update(coalescedMsg{})
}

// Issue #12 item 7, through the program: Enter on a row opens the process
// view with everything vitals knows about it, Esc goes back to the table
// where it was; it works from every tab's table.
func TestProcessViewFromEveryTab(t *testing.T) {
	a := newTestApp(t, true, 80, 24)
	for s := 1; s <= 60; s++ {
		richProcess(a, time.Duration(s)*time.Second, uint64(300+s)<<20)
	}
	press(a, "home") // nginx, top by %CPU
	press(a, "enter")
	if !a.procOpen {
		t.Fatal("Enter did not open the process view")
	}
	s := screen(a)
	for _, want := range []string{
		"process 4242 nginx", "www-data", "Esc:back",
		"/usr/sbin/nginx -g daemon off;", `pid /run/nginx.pid; \e[31mred`, // the whole command line, escaped
		"/system.slice/nginx.service", "limit 2.0G", "usage 900M", "OOM kills 1",
		"%CPU 97.5 = usr 80.0 + sys 17.5", "WAIT% 3.2", "(summed over threads)", "CSW/s 120", "NVCSW/s 15",
		"RSS 360M", "growth +", "PSS 280M", "USS 250M", "SWAP 0B",
		"hits 9000", "misses 20", "READ_HIT% 99.8", "mmap 64",
		"read 1.0M/s", "write 300K/s", "rchar 5.0M/s", "syscr 120/s",
		"%CPU since", "RSS since",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("process view lacks %q", want)
		}
	}
	if strings.Contains(a.render(), "\x1b[31mred") {
		t.Error("the command line reached the terminal raw")
	}
	if d := a.opts.Demand; d != nil {
		t.Fatal("unexpected demand")
	}
	if got := a.proc.Demand(); len(got.Keys) != 1 || got.Keys[0] != (model.ProcKey{PID: 4242, StartTicks: 777}) || !got.IO {
		t.Errorf("demand %+v, want smaps and I/O for 4242", got)
	}
	// The help explains the view; Esc goes back to the table as it was.
	if h := helpText(a); !strings.Contains(h, "vitals help — process view") || !strings.Contains(h, "since vitals first saw the process") {
		t.Errorf("process view help: %s", h)
	}
	press(a, "esc")
	if a.procOpen || !strings.Contains(selectedLine(t, a), "nginx") {
		t.Fatalf("Esc: open %v, selected %q", a.procOpen, selectedLine(t, a))
	}
	// From the Memory and Cache tabs too.
	for _, tab := range []string{"2", "3"} {
		press(a, tab, "enter")
		if !a.procOpen || !strings.Contains(screen(a), "process ") {
			t.Errorf("tab %s: Enter did not open the view:\n%s", tab, screen(a))
		}
		press(a, "esc")
	}
	// Not on a panel without processes.
	press(a, "2", "v", "enter")
	if a.procOpen {
		t.Error("Enter on the cgroups panel opened a process")
	}
	press(a, "v", "v", "v")
	// A number key leaves the view for that tab.
	press(a, "1", "enter", "3")
	if a.procOpen || a.active != 2 {
		t.Errorf("3 from the view: open %v, tab %d", a.procOpen, a.active)
	}
}

// The process exits while viewed: the view says so and keeps its last
// figures, instead of going blank.
func TestProcessViewOfAnExitedProcess(t *testing.T) {
	a := newTestApp(t, true, 100, 30)
	richProcess(a, time.Second, 300<<20)
	press(a, "home", "enter")
	a.store.Update(func(next *model.Sample, _ *model.History) {
		next.Time = fixedNow.Add(2 * time.Second)
		var procs []model.Process
		for _, p := range next.Processes {
			if p.PID != 4242 {
				procs = append(procs, p)
			}
		}
		next.Processes = procs
	})
	a.Update(common.SnapshotMsg{Snap: a.store.Snapshot()})
	a.Update(coalescedMsg{})
	s := screen(a)
	if !strings.Contains(s, "EXITED") || !strings.Contains(s, "process 4242 nginx") || !strings.Contains(s, "RSS 300M") {
		t.Errorf("exited process:\n%s", s)
	}
}

// The process view at every size of the matrix: exactly the screen, no
// line too wide, scrolling within bounds.
func TestProcessViewSizeMatrix(t *testing.T) {
	a := newTestApp(t, false, 80, 24)
	richProcess(a, time.Second, 300<<20)
	press(a, "home", "enter")
	for _, w := range uitest.Widths {
		for _, h := range uitest.Heights {
			a.Update(uitest.Key("pgdown"))
			a.Update(resize(w, h))
			uitest.CheckSize(t, "process view", a.render(), w, h)
			press(a, "home")
			uitest.CheckSize(t, "process view", a.render(), w, h)
		}
	}
}

func TestGoldenProcessView(t *testing.T) {
	a := newTestApp(t, false, 80, 24)
	for s := 1; s <= 90; s++ {
		richProcess(a, time.Duration(s)*time.Second, uint64(300+2*s)<<20)
	}
	press(a, "home", "enter")
	uitest.Golden(t, "procview_80x24", screen(a))
	a.Update(resize(200, 50))
	uitest.Golden(t, "procview_200x50", screen(a))
}

func resize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }
