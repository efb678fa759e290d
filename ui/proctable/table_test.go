package proctable

import (
	"errors"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

func TestDefaultSortIsCPUDescendingWithPIDTieBreak(t *testing.T) {
	tb, _ := newTable(t, 120, 30)
	if tb.SortID() != "cpu" || !tb.Descending() {
		t.Fatalf("sort = %s desc=%v, want cpu descending", tb.SortID(), tb.Descending())
	}
	pids := rowPIDs(tb)
	if pids[0] != 1300 || pids[1] != 1200 {
		t.Fatalf("top rows = %v, want 1300 (66.6%%) then 1200 (35%%)", pids[:2])
	}
	// 701 and 702 both use 12.5 %: lower PID first whichever direction.
	i701, i702 := slices.Index(pids, 701), slices.Index(pids, 702)
	if i701 < 0 || i702 != i701+1 {
		t.Fatalf("tie 701/702 at %d/%d, want adjacent with 701 first", i701, i702)
	}
	press(tb, "I")
	pids = rowPIDs(tb)
	i701, i702 = slices.Index(pids, 701), slices.Index(pids, 702)
	if i702 != i701+1 {
		t.Fatalf("ascending: tie 701/702 at %d/%d, want 701 first", i701, i702)
	}
	// Zero-CPU processes sort by PID at the top of the ascending order.
	if pids[0] != 2 || pids[1] != 500 {
		t.Fatalf("ascending top = %v, want [2 500 ...]", pids[:2])
	}
}

func TestSortKeys(t *testing.T) {
	tb, _ := newTable(t, 120, 30)
	steps := []struct {
		key  string
		id   string
		desc bool
	}{
		{">", "rss", true},
		{">", "time", true},
		{">", "command", false},
		{">", "command", false}, // stays at the last column
		{"I", "command", true},
		{"<", "time", true},
		{"N", "pid", false},
		{"I", "pid", true},
		{"N", "pid", false}, // a quick sort resets to the default direction
		{"P", "cpu", true},
		{"M", "rss", true},
		{"T", "time", true},
		{"<", "rss", true},
		{"<", "cpu", true},
		{"<", "state", false},
		{"<", "user", false},
		{"<", "pid", false},
		{"<", "pid", false}, // stays at the first column
	}
	for i, s := range steps {
		press(tb, s.key)
		if tb.SortID() != s.id || tb.Descending() != s.desc {
			t.Fatalf("step %d %q: sort %s desc=%v, want %s desc=%v", i, s.key, tb.SortID(), tb.Descending(), s.id, s.desc)
		}
	}
	press(tb, "N")
	if got := rowPIDs(tb); !slices.IsSorted(got) {
		t.Fatalf("N: rows not in PID order: %v", got)
	}
	press(tb, "M")
	for i := 1; i < len(tb.rows); i++ {
		a, b := tb.rows[i-1].p, tb.rows[i].p
		if a.RSSBytes < b.RSSBytes || (a.RSSBytes == b.RSSBytes && a.PID > b.PID) {
			t.Fatalf("M: row %d (%d, %d) before (%d, %d)", i, a.PID, a.RSSBytes, b.PID, b.RSSBytes)
		}
	}
}

func TestQuickSortIgnoredWithoutColumn(t *testing.T) {
	cols := testCols()
	cols = slices.DeleteFunc(cols, func(c Column) bool { return c.ID == "rss" || c.ID == "time" })
	tb := New(common.NewContext(true), cols, "cpu", nil)
	tb.SetSize(80, 10)
	tb.SetProcesses(fakeProcs())
	press(tb, "M", "T")
	if tb.SortID() != "cpu" {
		t.Fatalf("M/T without rss/time columns changed sort to %s", tb.SortID())
	}
	for _, b := range tb.KeyHelp() {
		if h := b.Help().Key; h == "M" || h == "T" {
			t.Fatalf("help lists %s for a missing column", h)
		}
	}
	press(tb, "N")
	if tb.SortID() != "pid" {
		t.Fatalf("N: sort %s, want pid", tb.SortID())
	}
}

func TestUnknownSortIDFallsBackToFirstColumn(t *testing.T) {
	tb := New(common.NewContext(true), testCols(), "nope", nil)
	if tb.SortID() != "pid" || tb.Descending() {
		t.Fatalf("sort %s desc=%v, want pid ascending", tb.SortID(), tb.Descending())
	}
}

func TestHeaderMarksSortColumn(t *testing.T) {
	tb, _ := newTable(t, 120, 10)
	header := viewLines(tb)[0]
	if !strings.Contains(header, "%CPU▼") {
		t.Fatalf("header %q lacks %%CPU▼", header)
	}
	press(tb, "I")
	header = viewLines(tb)[0]
	if !strings.Contains(header, "%CPU▲") || strings.Contains(header, "▼") {
		t.Fatalf("inverted header %q, want only %%CPU▲", header)
	}
	press(tb, "N")
	if header = viewLines(tb)[0]; !strings.Contains(header, "PID▲") {
		t.Fatalf("header %q lacks PID▲", header)
	}
	last := viewLines(tb)[9]
	if !strings.Contains(last, "sorted by PID ▲") {
		t.Fatalf("status %q lacks the sort", last)
	}
}

func TestSortMenu(t *testing.T) {
	tb, _ := newTable(t, 100, 24)
	press(tb, "f6")
	if !tb.Capturing() {
		t.Fatal("F6 did not open the sort menu")
	}
	v := plainView(tb)
	for _, want := range []string{"Sort by", "▸ %CPU ▼", "TIME+", "Sort by: %CPU"} {
		if !strings.Contains(v, want) {
			t.Fatalf("sort menu view lacks %q:\n%s", want, v)
		}
	}
	press(tb, "down", "down", "enter") // %CPU -> RSS -> TIME+
	if tb.Capturing() || tb.SortID() != "time" || !tb.Descending() {
		t.Fatalf("after enter: capturing=%v sort=%s desc=%v, want time descending", tb.Capturing(), tb.SortID(), tb.Descending())
	}
	press(tb, "f6", "up", "up", "esc")
	if tb.Capturing() || tb.SortID() != "time" {
		t.Fatalf("esc: capturing=%v sort=%s, want menu closed and sort unchanged", tb.Capturing(), tb.SortID())
	}
	// Choosing the current column keeps its direction.
	press(tb, "I", "f6", "enter")
	if tb.SortID() != "time" || tb.Descending() {
		t.Fatalf("enter on current column: sort %s desc=%v, want time ascending", tb.SortID(), tb.Descending())
	}
	// q inside the menu is not a quit for the root: it is captured and ignored.
	press(tb, "f6", "q")
	if !tb.Capturing() {
		t.Fatal("q closed the sort menu")
	}
	press(tb, "home", "enter")
	if tb.SortID() != "pid" {
		t.Fatalf("home+enter: sort %s, want pid", tb.SortID())
	}
}

func TestNavigation(t *testing.T) {
	tb, _ := newTable(t, 100, 12) // 10 rows visible
	n := len(tb.rows)
	check := func(step string, wantCursor, wantOffset int) {
		t.Helper()
		if tb.cursor != wantCursor || tb.offset != wantOffset {
			t.Fatalf("%s: cursor %d offset %d, want %d %d", step, tb.cursor, tb.offset, wantCursor, wantOffset)
		}
		if k, _ := tb.Selected(); k != tb.rows[tb.cursor].p.Key() {
			t.Fatalf("%s: Selected %v is not the cursor row", step, k)
		}
	}
	check("start", 0, 0)
	press(tb, "up")
	check("up at top", 0, 0)
	press(tb, "down", "down")
	check("down x2", 2, 0)
	press(tb, "pgdown")
	check("pgdown", 12, 10)
	press(tb, "pgup")
	check("pgup", 2, 0)
	press(tb, "end")
	check("end", n-1, n-10)
	press(tb, "down")
	check("down at end", n-1, n-10)
	press(tb, "home")
	check("home", 0, 0)
	// j and k are not navigation (k is kill, as in htop).
	press(tb, "j")
	check("j", 0, 0)
	// The selected row is drawn in reverse video.
	press(tb, "down")
	raw := strings.Split(tb.View(), "\n")[2]
	if !strings.Contains(raw, "\x1b[7m") {
		t.Fatalf("selected row %q is not reverse video", raw)
	}
}

// Issue #12 item 1: the cursor keeps its row while the list re-sorts (htop);
// the view never follows a process the user merely moved to, and the
// highlight never leaves the screen.
func TestCursorKeepsItsRowWhileTheListResorts(t *testing.T) {
	tb, _ := newTable(t, 100, 8) // 6 rows visible
	press(tb, "home", "down")    // row 1: 1200 postgres
	if selectedPID(t, tb) != 1200 || tb.cursor != 1 {
		t.Fatalf("down: selected %d at row %d", selectedPID(t, tb), tb.cursor)
	}
	// A burst process goes idle: 1200 drops into the idle rows.
	procs := fakeProcs()
	for i := range procs {
		if procs[i].PID == 1200 {
			procs[i].CPUPct = 0
		}
	}
	tb.SetProcesses(procs)
	if tb.cursor != 1 || tb.offset != 0 {
		t.Fatalf("after the re-sort: cursor %d offset %d, want row 1 of the first page", tb.cursor, tb.offset)
	}
	if k, _ := tb.Selected(); k != tb.rows[1].p.Key() || k.PID == 1200 {
		t.Fatalf("selected %d, want the process now on row 1", k.PID)
	}
	// The busiest processes are still on screen, the highlight on row 1.
	lines := viewLines(tb)
	if !strings.Contains(lines[1], "1300") {
		t.Fatalf("view:\n%s", plainView(tb))
	}
	if !highlighted(tb, 2) {
		t.Fatalf("row 1 (line 2) is not highlighted:\n%s", tb.View())
	}
	// The process under the cursor exits: the cursor stays on its row.
	procs = slices.DeleteFunc(fakeProcs(), func(p model.Process) bool { return p.Key() == tb.rows[1].p.Key() })
	tb.SetProcesses(procs)
	if tb.cursor != 1 {
		t.Fatalf("after exit: cursor %d, want 1", tb.cursor)
	}
	// The list shrinks below the cursor: it moves up to the last row,
	// still on screen.
	press(tb, "end")
	tb.SetProcesses(fakeProcs()[:3])
	if tb.cursor != 2 || tb.offset != 0 || !highlighted(tb, 3) {
		t.Fatalf("shrunk list: cursor %d offset %d\n%s", tb.cursor, tb.offset, tb.View())
	}
}

// highlighted reports whether view line i (0 = header) is drawn selected.
func highlighted(tb *Table, i int) bool {
	lines := strings.Split(tb.View(), "\n")
	return i < len(lines) && strings.Contains(lines[i], "\x1b[7m")
}

func TestFollow(t *testing.T) {
	tb, _ := newTable(t, 100, 8)      // 6 rows visible
	press(tb, "down", "down", "down") // 4th by CPU
	target, _ := tb.Selected()
	press(tb, "F")
	if !tb.Following() || !strings.Contains(viewLines(tb)[7], "FOLLOW") {
		t.Fatalf("F: following=%v status %q", tb.Following(), viewLines(tb)[7])
	}
	// Reorder every refresh: the followed process moves and stays in view.
	for round, cpu := range []float64{0.01, 80, 3.3, 0} {
		procs := fakeProcs()
		for i := range procs {
			if procs[i].Key() == target {
				procs[i].CPUPct = cpu
			}
		}
		// Shuffle the input order too: the table must not depend on it.
		slices.Reverse(procs)
		tb.SetProcesses(procs)
		if k, _ := tb.Selected(); k != target {
			t.Fatalf("round %d: selected %v, want %v", round, k, target)
		}
		if tb.cursor < tb.offset || tb.cursor >= tb.offset+6 {
			t.Fatalf("round %d: followed row %d outside view [%d,%d)", round, tb.cursor, tb.offset, tb.offset+6)
		}
	}
	// A sort change keeps it too.
	press(tb, "N")
	if k, _ := tb.Selected(); k != target {
		t.Fatalf("after N: selected %v, want %v", k, target)
	}
	// PID reuse: the same pid with another start time is another process.
	procs := fakeProcs()
	for i := range procs {
		if procs[i].Key() == target {
			procs[i].StartTicks += 99999
			procs[i].Comm = "impostor"
		}
	}
	tb.SetProcesses(procs)
	if tb.Following() {
		t.Fatal("still following after the process exited (pid reused)")
	}
	if k, _ := tb.Selected(); k == target {
		t.Fatal("the exited process's key is still selected")
	}
	if !strings.Contains(tb.Status(), "exited") || !strings.Contains(tb.Status(), "followed process") {
		t.Fatalf("status %q does not say the followed process exited", tb.Status())
	}
	if !strings.Contains(plainView(tb), "exited") {
		t.Fatal("status line does not show the exit")
	}
	if tb.cursor != 0 || tb.offset != 0 {
		t.Fatalf("after the followed process exited: cursor %d offset %d, want the top", tb.cursor, tb.offset)
	}
	// Said once: the next refresh does not say it again.
	tb.SetProcesses(procs)
	press(tb, "up")
	tb.SetProcesses(procs)
	if strings.Contains(tb.Status(), "exited") {
		t.Fatalf("exit said again: %q", tb.Status())
	}
	// The next key clears the message.
	press(tb, "down")
	if tb.Status() != "" {
		t.Fatalf("status %q not cleared by the next key", tb.Status())
	}
}

func TestFollowSurvivesFilterAndStopsWhenTheCursorMoves(t *testing.T) {
	tb, _ := newTable(t, 100, 20)
	press(tb, "F") // follows the top row, 1300
	press(tb, "/")
	typeText(tb, "nginx")
	press(tb, "enter")
	if !tb.Following() {
		t.Fatal("filtering out the followed process stopped following")
	}
	press(tb, "esc")
	if k, _ := tb.Selected(); k.PID != 1300 {
		t.Fatalf("after clearing the filter selected %d, want the followed 1300", k.PID)
	}
	// As in htop, moving the cursor by hand stops following.
	press(tb, "down")
	if tb.Following() || strings.Contains(plainView(tb), "FOLLOW") {
		t.Fatal("moving the cursor did not stop following")
	}
	press(tb, "F", "F")
	if tb.Following() {
		t.Fatal("second F did not stop following")
	}
}

func TestFilter(t *testing.T) {
	tb, _ := newTable(t, 100, 30)
	total := len(tb.rows)
	for _, k := range []string{"/", "f3", "f4"} {
		press(tb, k)
		if !tb.Capturing() {
			t.Fatalf("%s did not open the filter", k)
		}
		press(tb, "esc")
		if tb.Capturing() {
			t.Fatalf("esc did not close the filter opened by %s", k)
		}
	}
	press(tb, "/")
	typeText(tb, "NGI")
	if got := rowPIDs(tb); !slices.Equal(sorted(got), []int32{700, 701, 702, 703}) {
		t.Fatalf("filter NGI: rows %v", got)
	}
	lines := viewLines(tb)
	if status := lines[len(lines)-1]; !strings.HasPrefix(status, "Filter: NGI█") || !strings.Contains(status, "4 of 52") {
		t.Fatalf("input line %q", status)
	}
	// keys are text while typing: k, q, t do not kill, quit or tree.
	typeText(tb, "k")
	if len(tb.rows) != 0 || !tb.Capturing() || tb.Tree() {
		t.Fatalf("typing k: %d rows capturing=%v", len(tb.rows), tb.Capturing())
	}
	if !strings.Contains(plainView(tb), `no process matches "NGIk"`) {
		t.Fatalf("empty result not explained:\n%s", plainView(tb))
	}
	press(tb, "backspace")
	if len(tb.rows) != 4 {
		t.Fatalf("backspace: %d rows, want 4", len(tb.rows))
	}
	press(tb, "enter")
	if tb.Capturing() || tb.Filter() != "NGI" || len(tb.rows) != 4 {
		t.Fatalf("enter: capturing=%v filter=%q rows=%d", tb.Capturing(), tb.Filter(), len(tb.rows))
	}
	lines = viewLines(tb)
	if status := lines[len(lines)-1]; !strings.Contains(status, `filter "NGI": 4 of 52`) {
		t.Fatalf("status %q lacks the active filter", status)
	}
	// Esc while not typing clears the filter.
	press(tb, "esc")
	if tb.Filter() != "" || len(tb.rows) != total {
		t.Fatalf("esc: filter %q rows %d, want none and %d", tb.Filter(), len(tb.rows), total)
	}
	// Esc while typing cancels and clears.
	press(tb, "/")
	typeText(tb, "alice")
	press(tb, "esc")
	if tb.Filter() != "" || len(tb.rows) != total || tb.Capturing() {
		t.Fatalf("esc while typing: filter %q rows %d", tb.Filter(), len(tb.rows))
	}
	// User, command line with a space, and ctrl+u.
	for _, c := range []struct {
		text string
		want []int32
	}{
		{"alice", []int32{900, 901, 950, 951}}, // user or "sshd: alice [priv]"
		{"notes.TXT", []int32{950}},
		{"queue=q0", []int32{2100, 2101, 2102, 2103, 2104, 2105, 2106, 2107, 2108, 2109}},
		{"walwriter", []int32{1202}},
		{"master process", []int32{700}},
	} {
		press(tb, "/", "ctrl+u")
		typeText(tb, c.text)
		if got := sorted(rowPIDs(tb)); !slices.Equal(got, c.want) {
			t.Fatalf("filter %q: rows %v, want %v", c.text, got, c.want)
		}
		press(tb, "enter")
	}
	// A paste is appended without its control characters.
	press(tb, "/", "ctrl+u")
	tb.Update(tea.PasteMsg{Content: "vim\n"})
	if tb.Filter() != "vim" || len(tb.rows) != 1 {
		t.Fatalf("paste: filter %q rows %d", tb.Filter(), len(tb.rows))
	}
}

func sorted(s []int32) []int32 {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestTree(t *testing.T) {
	procs := []model.Process{
		proc(1, 0, "root", "init", "init", 0.1),
		proc(10, 1, "root", "a", "a", 5),
		proc(11, 10, "root", "a1", "a1", 1),
		proc(12, 10, "root", "a2", "a2", 3),
		proc(13, 12, "root", "a2x", "a2x", 0),
		proc(20, 1, "root", "b", "b", 7),
		proc(21, 20, "root", "b1", "b1", 0),
		proc(30, 999, "root", "orphan", "orphan", 2), // parent not listed: a root
	}
	cols := testCols()
	cols = []Column{cols[0], cols[3], cols[6]} // PID %CPU COMMAND
	tb := New(common.NewContext(true), cols, "cpu", nil)
	tb.SetSize(40, 12)
	tb.SetProcesses(procs)
	press(tb, "t")
	if !tb.Tree() {
		t.Fatal("t did not turn the tree on")
	}
	want := []string{
		"    PID  %CPU▼ COMMAND",
		"     30    2.0 orphan",
		"      1    0.1 init",
		"     20    7.0 ├─ b",
		"     21    0.0 │  └─ b1",
		"     10    5.0 └─ a",
		"     12    3.0    ├─ a2",
		"     13    0.0    │  └─ a2x",
		"     11    1.0    └─ a1",
		"",
		"",
		"tree · 8 processes · sorted by %CPU ▼",
	}
	got := viewLines(tb)
	for i := range got {
		got[i] = strings.TrimRight(got[i], " ") // the selected row is padded
	}
	if !slices.Equal(got, want) {
		t.Fatalf("tree view:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Siblings follow the sort: ascending CPU puts a before b.
	press(tb, "I")
	if got := rowPIDs(tb); !slices.Equal(got, []int32{1, 10, 11, 12, 13, 20, 21, 30}) {
		t.Fatalf("ascending tree order %v", got)
	}
	press(tb, "f5")
	if tb.Tree() || strings.Contains(plainView(tb), "─") {
		t.Fatal("F5 did not turn the tree off")
	}
}

func TestTreeSurvivesParentCycle(t *testing.T) {
	procs := []model.Process{
		proc(5, 6, "root", "x", "x", 0),
		proc(6, 5, "root", "y", "y", 0),
		proc(7, 7, "root", "self", "self", 0),
	}
	tb := New(common.NewContext(true), testCols(), "pid", nil)
	tb.SetSize(80, 10)
	tb.SetProcesses(procs)
	press(tb, "t")
	if len(tb.rows) != 3 {
		t.Fatalf("cycle: %d rows, want all 3", len(tb.rows))
	}
}

func TestKillMenuConfirmSends(t *testing.T) {
	tb, calls := newTable(t, 100, 24)
	press(tb, "down") // 1200 postgres
	target, _ := tb.Selected()
	press(tb, "k")
	if !tb.Capturing() {
		t.Fatal("k did not open the signal menu")
	}
	v := plainView(tb)
	for _, want := range []string{"Send signal to 1200 (postgres)", "▸ 15 SIGTERM", " 9 SIGKILL", "19 SIGSTOP", "12 SIGUSR2"} {
		if !strings.Contains(v, want) {
			t.Fatalf("signal menu lacks %q:\n%s", want, v)
		}
	}
	// A refresh while the menu is open does not change the target.
	procs := fakeProcs()
	procs[13].CPUPct = 0
	tb.SetProcesses(procs)
	press(tb, "enter")
	lines := viewLines(tb)
	if got := lines[len(lines)-1]; got != "Send SIGTERM to 1200 (postgres)? y/N" {
		t.Fatalf("confirm line %q", got)
	}
	if len(*calls) != 0 {
		t.Fatal("signal sent before confirmation")
	}
	press(tb, "y")
	if len(*calls) != 1 || (*calls)[0] != (killCall{target, 15}) {
		t.Fatalf("kill calls %v, want one {%v 15}", *calls, target)
	}
	if tb.Capturing() || tb.Status() != "sent SIGTERM to 1200 (postgres)" {
		t.Fatalf("after y: capturing=%v status %q", tb.Capturing(), tb.Status())
	}
	if !strings.Contains(plainView(tb), "sent SIGTERM to 1200 (postgres)") {
		t.Fatal("status line does not show the result")
	}
}

func TestKillMenuOtherSignalsAndCancel(t *testing.T) {
	tb, calls := newTable(t, 100, 24)
	press(tb, "f9") // no row picked yet: the target is the top row, 1300
	procs := fakeProcs()
	procs[16].CPUPct = 0 // 1300 drops down while the menu is open
	tb.SetProcesses(procs)
	if k, _ := tb.Selected(); k.PID != 1300 {
		t.Fatalf("the highlight left the kill target: selected %d", k.PID)
	}
	// Too short for the box: the status line carries the menu.
	tb.SetSize(100, 5)
	lines := viewLines(tb)
	if got := lines[4]; !strings.HasPrefix(got, "Signal to 1300 (\\e[31mevil): 15 SIGTERM") {
		t.Fatalf("short menu status %q", got)
	}
	if strings.Contains(plainView(tb), "┌") {
		t.Fatal("box drawn in a 3-row table")
	}
	tb.SetSize(100, 24)
	press(tb, "down", "down", "down", "enter", "y") // SIGKILL
	if len(*calls) != 1 || (*calls)[0].sig != 9 || (*calls)[0].key.PID != 1300 {
		t.Fatalf("F9 SIGKILL: calls %v", *calls)
	}
	press(tb, "k", "enter", "n")
	if len(*calls) != 1 || tb.Capturing() {
		t.Fatalf("n: calls %v capturing=%v, want no new call", *calls, tb.Capturing())
	}
	if !strings.Contains(tb.Status(), "not sent") {
		t.Fatalf("n: status %q", tb.Status())
	}
	press(tb, "k", "enter", "enter") // the default is No
	press(tb, "k", "esc")
	press(tb, "k", "down", "esc")
	if len(*calls) != 1 || tb.Capturing() {
		t.Fatalf("enter/esc: calls %v capturing=%v", *calls, tb.Capturing())
	}
	press(tb, "k", "end", "enter", "Y")
	if len(*calls) != 2 || (*calls)[1].sig != 12 {
		t.Fatalf("end+Y: calls %v, want SIGUSR2 (12)", *calls)
	}
}

func TestKillErrorAndNoKillFunc(t *testing.T) {
	tb := New(common.NewContext(true), testCols(), "cpu", func(model.ProcKey, int) error {
		return errors.New("operation not permitted")
	})
	tb.SetSize(100, 10)
	tb.SetProcesses(fakeProcs())
	press(tb, "k", "enter", "y")
	if s := tb.Status(); !strings.Contains(s, "SIGTERM to 1300") || !strings.Contains(s, "operation not permitted") {
		t.Fatalf("error status %q", s)
	}
	tb = New(common.NewContext(true), testCols(), "cpu", nil)
	tb.SetSize(100, 10)
	tb.SetProcesses(fakeProcs())
	press(tb, "k")
	if tb.Capturing() || tb.Status() == "" {
		t.Fatalf("nil KillFunc: capturing=%v status %q", tb.Capturing(), tb.Status())
	}
	// Nothing to kill in an empty table.
	tb = New(common.NewContext(true), testCols(), "cpu", func(model.ProcKey, int) error { return nil })
	tb.SetSize(100, 10)
	tb.SetProcesses(nil)
	press(tb, "k")
	if tb.Capturing() {
		t.Fatal("kill menu opened with no process")
	}
}

func TestSanitizesEveryCell(t *testing.T) {
	tb, _ := newTable(t, 120, 10)
	raw := tb.View()
	if strings.Contains(raw, "\x1b[31m") || strings.Contains(raw, "\x1b[31mevil") {
		t.Fatal("raw escape sequence from a process name reached the screen")
	}
	if !strings.Contains(plainView(tb), `[\e[31mevil]`) {
		t.Fatalf("escaped name not shown:\n%s", plainView(tb))
	}
	// Every column, including user and the sort menu.
	procs := []model.Process{proc(1, 0, "ro\x07ot", "a\u202eb", "x\ny\x9b", 1)}
	tb.SetProcesses(procs)
	v := plainView(tb)
	for _, want := range []string{`ro\x07ot`, `x\ny\x9b`} {
		if !strings.Contains(v, want) {
			t.Fatalf("view lacks %q:\n%s", want, v)
		}
	}
	press(tb, "k")
	if v = plainView(tb); !strings.Contains(v, `(a\u202eb)`) {
		t.Fatalf("kill menu does not escape the name:\n%s", v)
	}
	for _, bad := range []string{"\a", "\u202e", "\x9b"} {
		if strings.Contains(tb.View(), bad) {
			t.Fatalf("%q reached the screen", bad)
		}
	}
}

func TestMouse(t *testing.T) {
	tb, _ := newTable(t, 100, 12)
	tb.SetOrigin(3, 5) // the table starts at column 3, row 5
	click := func(x, y int) {
		tb.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	}
	// Header: PID occupies cells 0..6 of the table.
	click(3+4, 5)
	if tb.SortID() != "pid" || tb.Descending() {
		t.Fatalf("click PID: sort %s desc=%v", tb.SortID(), tb.Descending())
	}
	click(3+6, 5)
	if tb.SortID() != "pid" || !tb.Descending() {
		t.Fatalf("second click PID: sort %s desc=%v, want inverted", tb.SortID(), tb.Descending())
	}
	// %CPU is the 4th column: 7+1 + 8+1 + 1+1 = 19..24.
	click(3+20, 5)
	if tb.SortID() != "cpu" || !tb.Descending() {
		t.Fatalf("click %%CPU: sort %s desc=%v", tb.SortID(), tb.Descending())
	}
	// A click above the table does nothing.
	click(3+4, 4)
	if tb.SortID() != "cpu" {
		t.Fatal("click outside the table sorted it")
	}
	// Rows: the third row on screen is rows[2].
	click(3+30, 5+3)
	if tb.cursor != 2 {
		t.Fatalf("click row 3: cursor %d, want 2", tb.cursor)
	}
	// Wheel scrolls the view and the selection with it: the highlight
	// never leaves the screen.
	tb.Update(tea.MouseWheelMsg{X: 10, Y: 8, Button: tea.MouseWheelDown})
	if tb.offset != wheelStep || tb.cursor != 2+wheelStep {
		t.Fatalf("wheel down: offset %d cursor %d", tb.offset, tb.cursor)
	}
	tb.Update(tea.MouseWheelMsg{X: 10, Y: 8, Button: tea.MouseWheelUp})
	tb.Update(tea.MouseWheelMsg{X: 10, Y: 8, Button: tea.MouseWheelUp})
	if tb.offset != 0 {
		t.Fatalf("wheel up: offset %d", tb.offset)
	}
	for range 100 {
		tb.Update(tea.MouseWheelMsg{X: 10, Y: 8, Button: tea.MouseWheelDown})
	}
	if tb.offset != len(tb.rows)-10 {
		t.Fatalf("wheel to the end: offset %d, want %d", tb.offset, len(tb.rows)-10)
	}
	// Mouse clicks are ignored while a menu is open.
	press(tb, "f6")
	click(3+4, 5)
	if tb.SortID() != "cpu" || !tb.Capturing() {
		t.Fatal("header click went through the sort menu")
	}
}

// Issue #12 item 3: a narrow pane drops columns by priority, never the
// one the table is sorted by, and COMMAND keeps its minimum width.
func TestNarrowLayoutKeepsSortColumnAndCommand(t *testing.T) {
	tb, _ := newTable(t, 30, 5)
	header := viewLines(tb)[0]
	if header != "    PID  %CPU▼ COMMAND" {
		t.Fatalf("header at 30 cells %q", header)
	}
	tb.SetSize(20, 5)
	if header = viewLines(tb)[0]; header != " %CPU▼ COMMAND" {
		t.Fatalf("header at 20 cells %q", header)
	}
	if row := strings.TrimRight(viewLines(tb)[1], " "); row != "  66.6 [\\e[31mevil]" {
		t.Fatalf("row at 20 cells %q", row)
	}
	// Below the sort column plus one cell of COMMAND, the sort column is
	// all there is.
	tb.SetSize(7, 5)
	if header = viewLines(tb)[0]; header != "  %CPU▼" {
		t.Fatalf("header at 7 cells %q", header)
	}
	// Priorities: the least important column goes first, whatever its
	// place; the others keep their declared order.
	cols := testCols()
	cols[1].Priority = 9 // USER
	cols[5].Priority = 2 // TIME+
	tb = New(common.NewContext(true), cols, "rss", nil)
	tb.SetProcesses(fakeProcs())
	tb.SetSize(7+1+1+1+6+1+6+1+9+1+10, 5) // everything but USER
	if header = viewLines(tb)[0]; header != "    PID S   %CPU   RSS▼     TIME+ COMMAND" {
		t.Fatalf("by priority %q", header)
	}
	for _, id := range []string{"pid", "state", "cpu", "time", "command", "user"} {
		press(tb, "f6", "home")
		for range tb.columnIndex(id) {
			press(tb, "down")
		}
		press(tb, "enter")
		if tb.SortID() != id {
			t.Fatalf("sort menu chose %s, want %s", tb.SortID(), id)
		}
		title := tb.cols[tb.sortIdx].Title
		if tb.cols[tb.sortIdx].Width <= 1 {
			title = "" // a one-cell column shows the arrow alone
		}
		if h := viewLines(tb)[0]; !strings.Contains(h, title+"▼") && !strings.Contains(h, title+"▲") {
			t.Errorf("sorted by %s, header %q", title, h)
		}
		if h := viewLines(tb)[0]; !strings.HasSuffix(strings.TrimRight(h, " "), "COMMAND") && !strings.Contains(h, "COMMAND▲") {
			t.Errorf("COMMAND lost when sorted by %s: %q", title, h)
		}
	}
}

func TestHelpAndColumns(t *testing.T) {
	tb, _ := newTable(t, 80, 10)
	if len(tb.Columns()) != 7 || tb.Columns()[3].Help == "" {
		t.Fatal("Columns() does not return the columns")
	}
	if len(tb.Explain()) != 3 {
		t.Fatalf("Explain: %v", tb.Explain())
	}
	keys := map[string]bool{}
	for _, b := range tb.KeyHelp() {
		for _, k := range b.Keys() {
			keys[k] = true
		}
	}
	for _, k := range []string{"up", "pgdown", "<", ">", "f6", "I", "P", "M", "T", "N", "/", "f3", "esc", "t", "f5", "F", "k", "f9"} {
		if !keys[k] {
			t.Errorf("KeyHelp lacks %q", k)
		}
	}
	if keys["j"] {
		t.Error("KeyHelp binds j")
	}
	press(tb, "/")
	if h := tb.KeyHelp(); len(h) == 0 || h[0].Help().Desc != "keep filter" {
		t.Fatalf("filter help %v", h)
	}
	var _ common.Component = tb
	var _ common.Explainer = tb
}

func TestWaitingAndEmpty(t *testing.T) {
	tb := New(common.NewContext(true), testCols(), "cpu", nil)
	tb.SetSize(60, 4)
	if v := plainView(tb); !strings.Contains(v, "waiting for the first process scan") {
		t.Fatalf("before the first snapshot:\n%s", v)
	}
	tb.SetProcesses(nil)
	if v := plainView(tb); !strings.Contains(v, "no processes") {
		t.Fatalf("empty list:\n%s", v)
	}
	press(tb, "down", "end", "pgdown", "F", "t", "I")
	if _, ok := tb.Selected(); ok {
		t.Fatal("selection in an empty table")
	}
}

func TestSetProcessesDoesNotModifyInput(t *testing.T) {
	procs := fakeProcs()
	orig := slices.Clone(procs)
	tb, _ := newTable(t, 100, 20)
	tb.SetProcesses(procs)
	press(tb, "t", "N", "/")
	typeText(tb, "py")
	press(tb, "enter", "F", "k", "esc")
	tb.View()
	for i := range procs {
		if procs[i] != orig[i] {
			t.Fatalf("element %d changed", i)
		}
	}
}

// Sorting by a column's Key gives the order its Less gives, both ways,
// ties by PID.
func TestKeySortMatchesLess(t *testing.T) {
	cpu := Numeric("cpu", "%CPU", 6, func(p *model.Process) float64 { return p.CPUPct }, func(v float64) string { return "" }, "")
	threads := Numeric("thr", "THR", 4, func(p *model.Process) int32 { return p.Threads }, func(v int32) string { return "" }, "")
	procs := make([]model.Process, 500)
	for i := range procs {
		procs[i].PID = int32(5000 - i*7%997)
		procs[i].StartTicks = uint64(i)
		procs[i].CPUPct = float64(i * 31 % 17)
		procs[i].Threads = int32(i % 5)
	}
	for _, c := range []Column{cpu, threads} {
		if c.Key == nil {
			t.Fatalf("%s has no key", c.ID)
		}
		for _, desc := range []bool{false, true} {
			keyed := &Table{cols: []Column{c}, desc: desc}
			byLess := &Table{cols: []Column{c.WithLess(c.Less)}, desc: desc}
			for i := range procs {
				keyed.all = append(keyed.all, &procs[i])
				byLess.all = append(byLess.all, &procs[i])
			}
			keyed.sortAll()
			byLess.sortAll()
			for i := range keyed.all {
				if keyed.all[i] != byLess.all[i] {
					t.Fatalf("%s desc=%v: row %d is pid %d by key, %d by Less", c.ID, desc, i, keyed.all[i].PID, byLess.all[i].PID)
				}
			}
		}
	}
}
