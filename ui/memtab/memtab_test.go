package memtab

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/internal/uitest"
)

var now = uitest.Now

const gib = 1 << 30
const mib = 1 << 20

func fixtureMemory() *model.Memory {
	return &model.Memory{
		TotalBytes: 16 * gib, FreeBytes: 1 * gib, AvailableBytes: model.Known(1.2 * gib),
		UsedBytes: 14*gib + 819*mib, BuffersBytes: 64 * mib, CacheBytes: 512 * mib, SharedBytes: 32 * mib,
		SlabReclaimableBytes: 200 * mib, SlabUnreclaimableBytes: 100 * mib, DirtyBytes: 5 * mib,
		AnonBytes: 13 * gib, FileBytes: 600 * mib, ActiveFileBytes: 400 * mib, InactiveFileBytes: 200 * mib,
		Swap: model.Swap{TotalBytes: 2 * gib, FreeBytes: 1 * gib, UsedBytes: 1 * gib, CachedBytes: 10 * mib},
		VM: model.VMRates{
			SwapInPagesPerS: model.Known(120), SwapOutPagesPerS: model.Known(340),
			PageInKBPerS: model.Known(480), PageOutKBPerS: model.Known(1360),
			FaultsPerS: model.Known(25000), MajorFaultsPerS: model.Known(800),
			ScanKswapdPerS: model.Known(5000), ScanDirectPerS: model.Known(1500),
			StealKswapdPerS: model.Known(4000), StealDirectPerS: model.Known(1200),
			ScanAllPerS: model.Known(9000), StealAllPerS: model.Known(7000),
			RefaultAnonPerS: model.Known(90), RefaultFilePerS: model.Known(2500),
		},
		OOMKills: 3, OOMKillsDelta: 1, LastOOMKill: now.Add(-30 * time.Second),
		PSI:        &model.Pressure{Some: model.PressureAvg{Avg10: 35.5, Avg60: 12, Avg300: 3}, Full: &model.PressureAvg{Avg10: 20}},
		Zones:      []model.ZoneWatermarks{{Node: 0, Zone: "DMA32", FreePages: 90000, MinPages: 4000, LowPages: 5000, HighPages: 6000, Managed: 700000}, {Node: 0, Zone: "Normal", FreePages: 9000, MinPages: 8000, LowPages: 10000, HighPages: 12000, Managed: 3500000}},
		Swappiness: model.Known(60), MinFreeKbytes: model.Known(67584),
		Slab: []model.SlabCache{{Name: "dentry", ActiveObjs: 900000, NumObjs: 1000000, ObjSize: 192, SizeBytes: 190 * mib}, {Name: "ext4_inode_cache", ActiveObjs: 50000, NumObjs: 60000, ObjSize: 1176, SizeBytes: 70 * mib}},
		Cgroups: []model.MemCgroup{
			{Path: "/system.slice/logd.service", Version: 2, UsageBytes: 3 * gib, WorkingSetBytes: 2 * gib, AnonBytes: 100 * mib, FileBytes: 2900 * mib, InactiveFileBytes: 1 * gib, LimitBytes: model.Known(4 * gib), OOMKills: model.Known(0), PSI: &model.Pressure{Some: model.PressureAvg{Avg10: 1.5}}, Processes: 1, RSSSumBytes: 120 * mib},
			{Path: "/user.slice", Version: 2, UsageBytes: 1 * gib, WorkingSetBytes: 900 * mib, AnonBytes: 800 * mib, Processes: 12, RSSSumBytes: 850 * mib, OOMKills: model.Known(2)},
		},
	}
}

func fixtureSnapshot() *model.Snapshot {
	s := model.NewStore(model.Host{Hostname: "h"}, 1, 600)
	s.Update(func(next *model.Sample, h *model.History) {
		next.Time = now
		next.Memory = fixtureMemory()
		next.Processes = []model.Process{
			{ProcessIdentity: model.ProcessIdentity{PID: 10, User: "root", Comm: "java", Cmdline: "/usr/bin/java -Xmx8g App", State: "S"}, ProcessMemory: model.ProcessMemory{RSSBytes: 9 * gib, VSZBytes: 12 * gib, MemPct: 56.2, PSSBytes: model.Known(8.5 * gib), USSBytes: model.Known(8.4 * gib), SharedBytes: model.Known(100 * mib), SwapBytes: model.Known(500 * mib), MemDetail: model.DetailFresh, ProcessFaultRates: model.ProcessFaultRates{MinFltPerS: 1200, MajFltPerS: 300}}},
			{ProcessIdentity: model.ProcessIdentity{PID: 20, User: "postgres", Comm: "postgres", Cmdline: "postgres: writer", State: "D"}, ProcessMemory: model.ProcessMemory{RSSBytes: 2 * gib, VSZBytes: 3 * gib, MemPct: 12.5, PSSBytes: model.Known(600 * mib), USSBytes: model.Known(50 * mib), SharedBytes: model.Known(1900 * mib), SwapBytes: model.Known(0), MemDetail: model.DetailStale, MemDetailAgeS: 3}},
			{ProcessIdentity: model.ProcessIdentity{PID: 30, User: "nobody", Comm: "secret", Cmdline: "secret", State: "S"}, ProcessMemory: model.ProcessMemory{RSSBytes: 100 * mib, MemPct: 0.6, PSSBytes: model.Unknown, MemDetail: model.DetailDenied}},
			{ProcessIdentity: model.ProcessIdentity{PID: 40, User: "root", Comm: "sleep", Cmdline: "sleep 100", State: "S"}, ProcessMemory: model.ProcessMemory{RSSBytes: 1 * mib, MemPct: 0, MemDetail: model.DetailNotRead}},
		}
		for i := 0; i < 100; i++ {
			ts := now.Add(time.Duration(i-100) * time.Second)
			h.Record(model.SeriesMemUsed, ts, float64(10*gib+i*50*mib))
			h.Record(model.SeriesMemCache, ts, float64(2*gib-i*15*mib))
			h.Record(model.SeriesMemAvailable, ts, float64(6*gib-i*48*mib))
		}
	})
	return s.Snapshot()
}

func newTab(noColor bool, w, h int) *Tab {
	ctx := common.NewContext(noColor)
	ctx.Now = func() time.Time { return now }
	t := New(ctx, nil)
	t.SetSize(w, h)
	t.Update(common.SnapshotMsg{Snap: fixtureSnapshot()})
	return t
}

func press(t *Tab, k string) { t.Update(uitest.Key(k)) }

func TestGoldenPanels(t *testing.T) {
	for _, sz := range [][2]int{{80, 21}, {160, 45}} {
		tab := newTab(false, sz[0], sz[1])
		suffix := "_" + strconv.Itoa(sz[0]) + "x" + strconv.Itoa(sz[1])
		uitest.Golden(t, "processes"+suffix, ansi.Strip(tab.View()))
		for _, p := range []string{"cgroups", "slab", "zones"} {
			press(tab, "v")
			uitest.Golden(t, p+suffix, ansi.Strip(tab.View()))
		}
	}
	uitest.Golden(t, "processes_80x21_nocolor", ansi.Strip(newTab(true, 80, 21).View()))
}

func TestContent(t *testing.T) {
	tab := newTab(false, 200, 50)
	s := ansi.Strip(tab.View())
	for _, want := range []string{
		"used 15G (92.5%)", "buff/cache 576M", "avail 1.2G", "of 16G",
		"swap 1.0G used of 2.0G (50.0%)", "si 120 so 340 pages/s", "bi 480 bo 1360 KiB/s",
		"scan/s 9000 (kswapd 5000 direct 1500)", "cgroup limit reclaim 2500 pages/s", "refault/s anon 90 file 2500", "OOM kills 3 (+1)",
		"PSI mem some 35.50/12.00/3.00% full 20.00", "node0 Normal below low: kswapd is reclaiming", "swappiness 60",
		"OOM KILL at", "direct reclaim 1500 pages/s", "more (w)",
		"PID", "RSS", "PSS", "USS", "SWAP", "%MEM", "java -Xmx8g App", "600M~", "n/a",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
	// The rest of the warnings are in the w list.
	var all []string
	for _, a := range tab.Warnings() {
		all = append(all, a.Text)
	}
	if !strings.Contains(strings.Join(all, "\n"), "swapping: si 120 so 340") {
		t.Errorf("Warnings() lacks swapping: %q", all)
	}
	// Sorted by RSS, largest first.
	if strings.Index(s, "java") > strings.Index(s, "postgres: writer") {
		t.Error("not sorted by RSS")
	}
}

func TestAlerts(t *testing.T) {
	m := fixtureMemory()
	a := Alerts(m, now)
	if len(a) == 0 || !strings.HasPrefix(a[0].Text, "OOM KILL") || a[0].Severity != common.Critical {
		t.Fatalf("OOM kill not first and critical: %v", a)
	}
	// The OOM kill stays visible for five minutes, then goes.
	if a := Alerts(m, now.Add(4*time.Minute)); !strings.HasPrefix(a[0].Text, "OOM KILL") {
		t.Error("OOM kill forgotten within 5 minutes")
	}
	if a := Alerts(m, now.Add(6*time.Minute)); strings.HasPrefix(a[0].Text, "OOM KILL") {
		t.Error("OOM kill still shown after 5 minutes")
	}
	quiet := &model.Memory{TotalBytes: 16 * gib, AvailableBytes: model.Known(8 * gib),
		VM:    model.VMRates{ScanDirectPerS: model.Known(0), SwapInPagesPerS: model.Known(0), SwapOutPagesPerS: model.Known(0)},
		Zones: []model.ZoneWatermarks{{Zone: "Normal", FreePages: 100000, MinPages: 1, LowPages: 2, HighPages: 3}}}
	if a := Alerts(quiet, now); len(a) != 0 {
		t.Errorf("quiet system has alerts %v", a)
	}
	// Reclaim that is neither kswapd's nor direct is a cgroup at its limit.
	squeezed := *quiet
	squeezed.VM.ScanAllPerS = model.Known(800)
	if a := Alerts(&squeezed, now); len(a) != 1 || !strings.HasPrefix(a[0].Text, "cgroup limit reclaim 800 pages/s") {
		t.Errorf("cgroup-limit reclaim: %v", a)
	}
	// Thrashing with plenty free: the cgroup refaulting most is named,
	// with its limit when it is at it; the root (the whole machine) and a
	// parent explained by its child are not.
	thrash := *quiet
	thrash.VM.RefaultFilePerS = model.Known(3200)
	thrash.Cgroups = []model.MemCgroup{
		{Path: "/", RefaultFilePerS: model.Known(3200), RefaultAnonPerS: model.Known(0)},
		{Path: "/system.slice", RefaultFilePerS: model.Known(3000), RefaultAnonPerS: model.Known(0)},
		{Path: "/system.slice/db.service", RefaultFilePerS: model.Known(2900), RefaultAnonPerS: model.Known(0),
			UsageBytes: 510 << 20, LimitBytes: model.Known(512 << 20)},
		{Path: "/user.slice", RefaultFilePerS: model.Known(200), RefaultAnonPerS: model.Known(0)},
		{Path: "/idle", RefaultFilePerS: model.Known(0), RefaultAnonPerS: model.Unknown},
	}
	want := "refaults 3200/s, most in /system.slice/db.service 2900/s at its 512M limit, /user.slice 200/s: evicted pages are needed again (thrashing)"
	if a := Alerts(&thrash, now); len(a) != 1 || a[0].Text != want {
		t.Errorf("thrashing:\n got %v\nwant %q", a, want)
	}
	thrash.VM.ScanAllPerS = model.Known(800)
	if a := Alerts(&thrash, now); len(a) != 2 || a[0].Text != "cgroup limit reclaim 800 pages/s, most refaults in /system.slice/db.service 2900/s at its 512M limit, /user.slice 200/s (v: cgroups)" {
		t.Errorf("cgroup-limit reclaim with refaults: %v", a)
	}
	// Unknown available (old kernel) is not "low".
	quiet.AvailableBytes = model.Unknown
	if a := Alerts(quiet, now); len(a) != 0 {
		t.Errorf("unknown available raised %v", a)
	}
}

func TestUnavailableSaysWhy(t *testing.T) {
	tab := newTab(false, 160, 45)
	m := fixtureMemory()
	m.PSI, m.Slab, m.Cgroups, m.Zones = nil, nil, nil, nil
	m.Unavailable = map[string]string{"psi": "kernel has no /proc/pressure", "slab": "needs root", "cgroups": "no memory controller", "zones": "zoneinfo unreadable"}
	s := model.NewStore(model.Host{}, 1, 10)
	s.Update(func(next *model.Sample, _ *model.History) { next.Memory = m; next.Time = now })
	tab.Update(common.SnapshotMsg{Snap: s.Snapshot()})
	v := ansi.Strip(tab.View())
	for _, want := range []string{"PSI mem – (kernel has no /proc/pressure)", "watermarks – (zoneinfo unreadable)"} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q", want)
		}
	}
	for i, want := range []string{"no memory cgroups: no memory controller", "slab caches: needs root", "zoneinfo unreadable"} {
		press(tab, "v")
		if v := ansi.Strip(tab.View()); !strings.Contains(v, want) {
			t.Errorf("panel %d lacks %q", i+1, want)
		}
	}
}

func TestDemand(t *testing.T) {
	tab := newTab(false, 120, 40)
	tab.View()
	d := tab.Demand()
	if d.All || len(d.Keys) < 4 {
		t.Fatalf("demand %+v: want the 4 visible processes", d)
	}
	// Sorting by PSS needs every process's PSS.
	for i := 0; i < 10 && tab.Table.SortID() != "pss"; i++ {
		press(tab, ">")
	}
	if tab.Table.SortID() != "pss" || !tab.Demand().All {
		t.Fatalf("sorted by %s, demand %+v", tab.Table.SortID(), tab.Demand())
	}
	press(tab, "v")
	if d := tab.Demand(); d.All || len(d.Keys) != 0 {
		t.Fatalf("cgroups panel still demands %+v", d)
	}
}

func TestSizes(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		tab := newTab(noColor, 80, 24)
		for _, w := range []int{1, 10, 20, 40, 79, 80, 120, 250} {
			for _, h := range []int{1, 2, 3, 5, 8, 12, 21, 45, 67} {
				for p := 0; p < int(panelCount); p++ {
					tab.SetSize(w, h)
					uitest.CheckSize(t, "panel "+strconv.Itoa(p), tab.View(), w, h)
					press(tab, "v")
				}
			}
		}
	}
}

// Issue #12 item 9: at every size of the size matrix the columns of every
// table of the tab (processes, cgroups, slab) are separated by a blank
// cell; the slab panel's ran together at every width ("90000090.0%").
func TestTablesColumnsStaySeparated(t *testing.T) {
	tab := newTab(true, 80, 24)
	m := fixtureMemory()
	for _, w := range uitest.Widths {
		for _, h := range uitest.Heights {
			tab.SetSize(w, h)
			for p := panelProcesses; p < panelCount; p++ {
				tab.panel = p
				lines := strings.Split(tab.View(), "\n")
				var head string
				var rows, gaps = 0, []int(nil)
				switch p {
				case panelProcesses:
					head, rows, gaps = "PID", len(tab.Sample().Processes), tab.Table.Gaps()
				case panelCgroups:
					tbl, _ := tab.cgroupTable()
					head, rows, gaps = "CGROUP", len(m.Cgroups), tbl.Gaps()
				case panelSlab:
					head, rows, gaps = "NAME", len(m.Slab), tab.slabTable().Gaps()
				default:
					continue
				}
				for i, l := range lines {
					if strings.Contains(ansi.Strip(l), head) {
						var table []string // the header and rows, not a status line or footnote
						for _, l := range lines[i:min(len(lines), i+1+rows)] {
							if !strings.Contains(l, "sorted by") && !strings.Contains(l, "WORKSET =") {
								table = append(table, l)
							}
						}
						uitest.CheckSeparated(t, fmt.Sprintf("panel %s at %dx%d", panelNames[p], w, h), table, gaps)
						break
					}
				}
			}
		}
	}
}
