package ui

import (
	"strings"
	"testing"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// Issue #12 item 5, through the program: as an ordinary user a root
// process reading hard has an unreadable /proc/PID/io, and the Cache tab
// shows n/a for it (not "0 0 0 –"), as the Memory tab does for its
// smaps_rollup; both helps say why.
func TestUnreadableProcessIsNAOnCacheAndMemoryTabs(t *testing.T) {
	a := newTestApp(t, true, 120, 30)
	a.store.Update(func(next *model.Sample, _ *model.History) {
		next.Cache = &model.Cache{Source: model.CacheSourceEstimate, Feature: model.Feature{Tier: "procfs", Reason: "needs root or CAP_BPF+CAP_PERFMON"}}
		procs := make([]model.Process, len(next.Processes))
		copy(procs, next.Processes)
		for i := range procs {
			procs[i].IODetail = model.DetailFresh
			if procs[i].User == "root" {
				procs[i].IODetail = model.DetailDenied
				procs[i].MemDetail = model.DetailDenied
			}
		}
		next.Processes = procs
		model.JoinFrame(next)
	})
	a.Update(common.SnapshotMsg{Snap: a.store.Snapshot()})
	a.Update(coalescedMsg{})
	press(a, "3")
	s := screen(a)
	var rootRow string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "systemd") {
			rootRow = l
		}
	}
	if strings.Count(rootRow, "n/a") < 4 || strings.Contains(rootRow, " 0 ") {
		t.Errorf("Cache tab row of an unreadable root process: %q\n%s", rootRow, s)
	}
	if !strings.Contains(s, "n/a for 1 processes of other users") {
		t.Errorf("Cache tab does not say why:\n%s", s)
	}
	if h := helpText(a); !strings.Contains(h, "not readable, never 0") {
		t.Errorf("Cache help lacks the n/a reason:\n%s", h)
	}
	press(a, "esc", "2")
	for _, l := range strings.Split(screen(a), "\n") {
		if strings.Contains(l, "systemd") && !strings.Contains(l, "n/a") {
			t.Errorf("Memory tab row of an unreadable root process: %q", l)
		}
	}
	if h := helpText(a); !strings.Contains(h, "n/a not readable") {
		t.Errorf("Memory help lacks the n/a reason:\n%s", h)
	}
}

// helpText is the active tab's help overlay as one line of words, so a
// phrase wrapped across lines is still found.
func helpText(a *App) string {
	return strings.Join(strings.Fields(strings.Join(helpLines(a), " ")), " ")
}
