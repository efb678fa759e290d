package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// leakRun feeds the program two minutes of samples, one a second, in
// which demo-leak's RSS climbs 20 MiB/s (the mem-leak demo) and vitals
// itself holds a larger, steady RSS.
func leakRun(t *testing.T, a *App, seconds int) {
	t.Helper()
	for s := 1; s <= seconds; s++ {
		a.store.Update(func(next *model.Sample, _ *model.History) {
			next.Time = fixedNow.Add(time.Duration(s) * time.Second)
			leak := model.Process{ProcessIdentity: model.ProcessIdentity{PID: 5000, StartTicks: 42, User: "dev", Comm: "demo-leak", Cmdline: "/tmp/demo-leak -rate 20", State: "S", Threads: 1}}
			leak.RSSBytes = uint64(s) * 20 << 20
			leak.CPUPct = 3
			vitals := model.Process{ProcessIdentity: model.ProcessIdentity{PID: 6000, StartTicks: 43, User: "dev", Comm: "vitals", Cmdline: "vitals", State: "S", Threads: 8}}
			vitals.RSSBytes = 6 << 30
			procs := []model.Process{leak, vitals}
			for _, p := range next.Processes {
				if p.PID < 5000 {
					procs = append(procs, p)
				}
			}
			next.Processes = procs
		})
		a.Update(common.SnapshotMsg{Snap: a.store.Snapshot()})
		a.Update(coalescedMsg{})
	}
}

// Issue #12 item 6, through the program: the leak is named in a warning
// on the Memory tab, and one key from the default sort (> from RSS) puts
// it on top by RSS growth, above vitals with its larger but steady RSS.
func TestLeakIsNamedAndTopsTheGrowthSort(t *testing.T) {
	a := newTestApp(t, true, 80, 24)
	leakRun(t, a, 125) // recorded even while on another tab
	press(a, "2")
	s := screen(a)
	if !strings.Contains(s, "! RSS of demo-leak grew 2.4G in 2 min") {
		t.Errorf("no leak warning at 80x24:\n%s", s)
	}
	press(a, ">")
	s = screen(a)
	if !strings.Contains(s, "sorted by GROW/m") {
		t.Fatalf("> from RSS does not sort by growth:\n%s", s)
	}
	rows := strings.Split(s, "\n")
	for i, l := range rows {
		if strings.Contains(l, "GROW/m") {
			if !strings.Contains(rows[i+1], "demo-leak") || !strings.Contains(rows[i+1], "+1.2G") {
				t.Errorf("top row by growth %q, want demo-leak at +1.2G/min", rows[i+1])
			}
			break
		}
	}
}
