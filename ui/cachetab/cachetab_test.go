package cachetab

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/internal/uitest"
)

var now = uitest.Now

func snapshot(c *model.Cache) *model.Snapshot {
	s := model.NewStore(model.Host{}, 1, 100)
	s.Update(func(next *model.Sample, h *model.History) {
		next.Time = now
		next.Cache = c
		next.Processes = []model.Process{
			{ProcessIdentity: model.ProcessIdentity{PID: 100, User: "root", Comm: "postgres", Cmdline: "postgres: checkpointer"}},
			{ProcessIdentity: model.ProcessIdentity{PID: 200, User: "www", Comm: "nginx", Cmdline: "nginx: worker process"}},
		}
		for i := 0; i < 60; i++ {
			ts := now.Add(time.Duration(i-60) * time.Second)
			h.Record(model.SeriesCacheHitRatio, ts, float64(50+i%50))
			h.Record(model.SeriesCacheMisses, ts, float64(i*10))
		}
	})
	return s.Snapshot()
}

func ebpfCache() *model.Cache {
	return &model.Cache{
		Source: "ebpf", Feature: model.Feature{Tier: "tp_btf",
			Tiers: []model.TierOutcome{{Tier: "fentry", Status: "failed", Reason: "permission denied"}, {Tier: "kprobe", Status: "failed", Reason: "no kprobes"}, {Tier: "tp_btf", Status: "active"}}},
		System: &model.CacheSystem{CachePageRates: model.CachePageRates{AccessesPerS: 12000, HitsPerS: 11700, MissesPerS: 300, DirtiesPerS: 40, MmapPagesPerS: 2048, MmapMissesPerS: 1536}, HitRatio: model.Known(97.5), BuffersBytes: model.Known(6 << 20), CachedBytes: model.Known(300 << 20)},
		Processes: []model.CacheProcess{
			{PID: 100, User: "root", Comm: "postgres", Hits: 500, Misses: 4500, Dirties: 10, ReadHitPct: model.Known(10), WriteHitPct: model.Known(0)},
			{PID: 200, User: "www", Comm: "nginx", Hits: 9000, Misses: 20, MmapPages: 2048, MmapMisses: 1536, ReadHitPct: model.Known(99.8), WriteHitPct: model.Unknown},
			{PID: 300, User: "root", Comm: "cat\x1b[31m", Hits: 3, Misses: 0, ReadHitPct: model.Known(100), WriteHitPct: model.Unknown},
		},
	}
}

func newTab(c *model.Cache, w, h int) *Tab {
	t := New(common.NewContext(false), nil)
	t.SetSize(w, h)
	t.Update(common.SnapshotMsg{Snap: snapshot(c)})
	return t
}

func TestEBPFView(t *testing.T) {
	tab := newTab(ebpfCache(), 160, 30)
	v := ansi.Strip(tab.View())
	for _, want := range []string{"eBPF, tier tp_btf", "fentry: permission denied", "accesses/s 12.0k", "misses/s 300", "hit ratio 97.5%", "cached 300M",
		"HITS", "READ_HIT%", "WRITE_HIT%", "nginx: worker process", "99.8", `[cat\e[31m] (exited)`} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if strings.Index(v, "postgres") > strings.Index(v, "nginx") {
		t.Error("not sorted by MISSES")
	}
	if strings.Contains(tab.View(), "\x1b[31m]") {
		t.Error("process name reached the terminal raw")
	}
	uitest.Golden(t, "ebpf_80x24", ansi.Strip(newTab(ebpfCache(), 80, 22).View()))
	uitest.Golden(t, "ebpf_160x30", v)
}

func TestEstimateView(t *testing.T) {
	c := &model.Cache{Source: "procfs estimate", Feature: model.Feature{Tier: "procfs", Reason: "needs root or CAP_BPF+CAP_PERFMON"},
		Processes: []model.CacheProcess{{PID: 200, User: "www", Comm: "nginx", Hits: 750, Misses: 250, ReadHitPct: model.Known(75), Estimate: true}}}
	tab := newTab(c, 120, 20)
	v := ansi.Strip(tab.View())
	for _, want := range []string{"ESTIMATE", "needs root or CAP_BPF+CAP_PERFMON", "75.0"} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "hit ratio") {
		t.Error("the estimate has no system line, it must not show one")
	}
	uitest.Golden(t, "estimate_120x20", v)
}

// Issue #12 item 5: as an ordinary user a root process's /proc/PID/io is
// unreadable, so the estimate knows nothing of its reads: n/a in every
// figure, sorted below every known row, said in words above the table and
// in the help, never "0 0 0 –".
func TestUnreadableIsNotAZero(t *testing.T) {
	c := &model.Cache{Source: model.CacheSourceEstimate, Feature: model.Feature{Tier: "procfs", Reason: "needs root or CAP_BPF+CAP_PERFMON"},
		Processes: []model.CacheProcess{{PID: 200, StartTicks: 7, User: "www", Comm: "nginx", Hits: 750, Misses: 250, ReadHitPct: model.Known(75), Estimate: true}}}
	s := model.NewStore(model.Host{}, 1, 100)
	s.Update(func(next *model.Sample, _ *model.History) {
		next.Time, next.Cache = now, c
		root := model.Process{ProcessIdentity: model.ProcessIdentity{PID: 100, StartTicks: 5, User: "root", Comm: "dd", Cmdline: "dd if=/dev/sda"}}
		root.IODetail = model.DetailDenied
		idle := model.Process{ProcessIdentity: model.ProcessIdentity{PID: 300, StartTicks: 9, User: "www", Comm: "sleep", Cmdline: "sleep 100"}}
		idle.IODetail = model.DetailFresh
		nginx := model.Process{ProcessIdentity: model.ProcessIdentity{PID: 200, StartTicks: 7, User: "www", Comm: "nginx", Cmdline: "nginx: worker"}}
		nginx.IODetail, nginx.ReadBytesPerS, nginx.RcharPerS = model.DetailFresh, model.Known(250*4096), model.Known(1000*4096)
		next.Processes = []model.Process{root, idle, nginx}
		model.JoinFrame(next)
	})
	tab := New(common.NewContext(true), nil)
	tab.SetSize(120, 12)
	tab.Update(common.SnapshotMsg{Snap: s.Snapshot()})
	v := ansi.Strip(tab.View())
	row := func(pid string) string {
		for _, l := range strings.Split(v, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == pid {
				return l
			}
		}
		t.Fatalf("no row %s:\n%s", pid, v)
		return ""
	}
	if f := strings.Fields(row("100")); len(f) < 8 || f[2] != "n/a" || f[3] != "n/a" || f[4] != "n/a" || f[5] != "n/a" {
		t.Errorf("unreadable root process: %q, want n/a in HITS MISSES DIRTIES READ_HIT%%", row("100"))
	}
	if f := strings.Fields(row("300")); f[2] != "0" || f[3] != "0" || f[5] != "–" {
		t.Errorf("readable idle process: %q, want a known 0 and – for the ratio", row("300"))
	}
	if strings.Index(v, "dd if=") < strings.Index(v, "sleep 100") {
		t.Errorf("n/a sorted above a known 0:\n%s", v)
	}
	if !strings.Contains(v, "n/a for 1 processes of other users") {
		t.Errorf("the n/a is not said in words:\n%s", v)
	}
	var help string
	for _, e := range tab.Explain() {
		help += e[0] + " " + e[1] + "\n"
	}
	for _, want := range []string{"n/a not readable, never 0", `io_detail "denied"`} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// The help says what the model counts: mmap reads are counted when they
// fault pages in (not "never enter the kernel"), and dropped events are
// shown when there are any.
func TestMmapColumnsAndDroppedEvents(t *testing.T) {
	c := ebpfCache()
	tab := newTab(c, 200, 30)
	v := ansi.Strip(tab.View())
	for _, want := range []string{"MMAP", "MMAP_MISS", "mmap pages/s 2048", "mmap misses/s 1536", " 2048      1536 "} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "dropped") {
		t.Error("dropped events shown while there are none")
	}
	c = ebpfCache()
	c.DroppedProcEvents = 12345
	c.Unattributed = &model.CacheUnattributed{
		MapFull:        model.CachePageRates{AccessesPerS: 4200},
		AccessSharePct: model.Known(35),
	}
	tab = newTab(c, 200, 30)
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "4200 accesses/s (35% of all) in no row: the kernel's per-process table (16,384) was full; 12.3k events") {
		t.Errorf("unattributed pages not shown:\n%s", v)
	}
	c = ebpfCache()
	c.Unattributed = &model.CacheUnattributed{
		OtherNamespaces: model.CachePageRates{AccessesPerS: 900},
		AccessSharePct:  model.Known(7),
	}
	tab = newTab(c, 200, 30)
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "900 accesses/s (7%) by processes outside this PID namespace") {
		t.Errorf("other namespaces' pages not shown:\n%s", v)
	}
	var help string
	for _, e := range tab.Explain() {
		help += e[0] + " " + e[1] + "\n"
	}
	if strings.Contains(help, "never enter the kernel") && !strings.Contains(help, "mapping a page in is what MMAP counts") {
		t.Errorf("help still says mmap reads are unseen:\n%s", help)
	}
	for _, want := range []string{"mmap misses/s", "dropped"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	// At 80 columns the mmap figures go to a line of their own.
	tab = newTab(ebpfCache(), 80, 24)
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "mmap pages/s 2048") || !strings.Contains(v, "hit ratio 97.5%") {
		t.Errorf("80 columns:\n%s", v)
	}
}

func TestSizes(t *testing.T) {
	tab := newTab(ebpfCache(), 80, 24)
	for _, w := range []int{1, 10, 20, 40, 80, 160, 250} {
		for _, h := range []int{1, 2, 3, 5, 10, 22, 50, 67} {
			tab.SetSize(w, h)
			uitest.CheckSize(t, "cache", tab.View(), w, h)
		}
	}
	empty := New(common.NewContext(true), nil)
	empty.SetSize(80, 10)
	if !strings.Contains(empty.View(), "collecting the first interval") {
		t.Error("no-data view")
	}
}

func TestFilesPanel(t *testing.T) {
	c := ebpfCache()
	c.Files = &model.ProcessFiles{PID: 100, Method: "cachestat", Files: []model.FileResidency{
		{Path: "/var/log/big.log", SizeBytes: 8 << 20, Pages: 2048, CachedPages: 1024, DirtyPages: 16},
		{Path: "/tmp/evil\x1b[2J", SizeBytes: 4096, Pages: 1, CachedPages: 1},
	}}
	tab := newTab(c, 120, 30)
	if d := tab.Demand(); d.FilesOf.PID != 0 {
		t.Fatalf("files panel closed, demand %+v", d)
	}
	tab.Update(uitest.Key("f"))
	tab.View()
	if d := tab.Demand(); d.FilesOf.PID != 100 {
		t.Fatalf("demand %+v, want the selected process (100, top by MISSES)", d)
	}
	v := ansi.Strip(tab.View())
	for _, want := range []string{"open files of 100", "via cachestat", "/var/log/big.log", "50.0", "8.0M", `/tmp/evil\e[2J`} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(tab.View(), "evil\x1b[2J") {
		t.Error("file name reached the terminal raw")
	}
}

// Issue #12 item 4: during a cold read the process missing the cache is
// on top by default (MISSES descending); HITS, cachetop's order, is one
// key away.
func TestDefaultOrderShowsTheMissingProcessFirst(t *testing.T) {
	c := ebpfCache()
	for i := 0; i < 30; i++ { // busy readers that hit the cache
		c.Processes = append(c.Processes, model.CacheProcess{PID: int32(1000 + i), User: "www", Comm: "reader", Hits: uint64(20000 + i)})
	}
	tab := newTab(c, 80, 24)
	v := ansi.Strip(tab.View())
	rows := strings.Split(v, "\n")
	var first string
	for i, l := range rows {
		if strings.Contains(l, "PID") && strings.Contains(l, "COMMAND") {
			first = rows[i+1]
			break
		}
	}
	if !strings.Contains(first, "postgres") || !strings.Contains(v, "sorted by MISSES ▼") {
		t.Fatalf("first row %q, want the 4500-miss postgres; view:\n%s", first, v)
	}
	tab.Update(uitest.Key("<"))
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "sorted by HITS ▼") || !strings.Contains(v, "1029 www          20.0k") {
		t.Fatalf("< did not sort by HITS:\n%s", v)
	}
}

// The cache-direct-io demo at 80x24: a warm reader misses nothing, so
// every row ties at 0 MISSES; the reader (by HITS) comes first, not the
// idle processes in PID order.
func TestWarmReaderFirstWhenNobodyMisses(t *testing.T) {
	c := ebpfCache()
	c.Processes = nil
	for i := 0; i < 30; i++ { // idle rows: nothing read
		c.Processes = append(c.Processes, model.CacheProcess{PID: int32(10 + i), User: "root", Comm: "idle"})
	}
	c.Processes = append(c.Processes,
		model.CacheProcess{PID: 9000, User: "root", Comm: "demo-buffered", Hits: 32772, ReadHitPct: model.Known(100)},
		model.CacheProcess{PID: 8000, User: "root", Comm: "small", Hits: 4, ReadHitPct: model.Known(100)})
	v := ansi.Strip(newTab(c, 80, 24).View())
	rows := strings.Split(v, "\n")
	for i, l := range rows {
		if strings.Contains(l, "PID") && strings.Contains(l, "COMMAND") {
			if !strings.Contains(rows[i+1], "demo-buffered") || !strings.Contains(rows[i+2], "small") {
				t.Fatalf("first rows %q, %q; want demo-buffered then small:\n%s", rows[i+1], rows[i+2], v)
			}
			return
		}
	}
	t.Fatalf("no table:\n%s", v)
}

// Issue #12 item 9: at every size of the size matrix the columns of the
// process table and of the open-files panel are separated by a blank cell.
func TestTablesColumnsStaySeparated(t *testing.T) {
	c := ebpfCache()
	c.Files = &model.ProcessFiles{PID: 100, Method: "cachestat", Files: []model.FileResidency{
		{Path: "/var/lib/postgresql/base/16384/2619", SizeBytes: 1 << 40, Pages: 1 << 28, CachedPages: 1 << 27, DirtyPages: 1 << 20},
	}}
	tab := newTab(c, 80, 24)
	tab.Update(uitest.Key("f"))
	for _, w := range uitest.Widths {
		for _, h := range uitest.Heights {
			tab.SetSize(w, h)
			lines := strings.Split(tab.View(), "\n")
			// Each table: its header and the rows up to the next block
			// (the status line, the files heading, the files' header).
			block := func(i int, gaps []int, label string) {
				end := i + 1
				for end < len(lines) {
					l := ansi.Strip(lines[end])
					if strings.Contains(l, "sorted by") || strings.Contains(l, "open files of") || strings.Contains(l, "CACHED%") || strings.TrimSpace(l) == "" {
						break
					}
					end++
				}
				uitest.CheckSeparated(t, fmt.Sprintf("%s at %dx%d", label, w, h), lines[i:end], gaps)
			}
			for i, l := range lines {
				switch plain := ansi.Strip(l); {
				case strings.Contains(plain, "PID") && strings.Contains(plain, "USER"):
					block(i, tab.Table.Gaps(), "processes")
				case strings.Contains(plain, "CACHED%"):
					block(i, tab.filesTable().Gaps(), "files")
				}
			}
		}
	}
}

// Issue #12 item 9: f on a process that exited says so instead of
// "reading (next refresh)…" forever, and the files panel keeps its
// process while the list re-sorts.
func TestFilesOfAnExitedProcess(t *testing.T) {
	tab := newTab(ebpfCache(), 120, 30)
	// [cat] (pid 300) is only in the interval's counts: it has exited.
	tab.Update(uitest.Key("end"))
	if k, _ := tab.Table.Selected(); k.PID != 300 {
		t.Fatalf("end selected %d, want the exited 300", k.PID)
	}
	tab.Update(uitest.Key("f"))
	if v := ansi.Strip(tab.View()); !strings.Contains(v, `files of 300 (cat\e[31m): the process exited`) || strings.Contains(v, "reading") {
		t.Fatalf("f on an exited process:\n%s", v)
	}
	// A live process, then it exits before its files are read.
	tab.Update(uitest.Key("home"))
	if d := tab.Demand(); d.FilesOf.PID != 100 {
		t.Fatalf("demand %+v, want 100", d)
	}
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "files of 100 (postgres): reading") {
		t.Fatalf("before the read:\n%s", v)
	}
	s := model.NewStore(model.Host{}, 1, 100)
	s.Update(func(next *model.Sample, _ *model.History) {
		next.Time, next.Cache = now, ebpfCache()
		next.Processes = []model.Process{{ProcessIdentity: model.ProcessIdentity{PID: 200, User: "www", Comm: "nginx", Cmdline: "nginx: worker process"}}}
	})
	tab.Update(common.SnapshotMsg{Snap: s.Snapshot()})
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "files of 100 (postgres): the process exited") {
		t.Fatalf("after the exit:\n%s", v)
	}
}
