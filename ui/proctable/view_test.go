package proctable

import (
	"fmt"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/internal/uitest"
)

// scenes are the states the golden files and the size matrix cover.
var scenes = []struct {
	name  string
	setup func(tb *Table)
}{
	{"sorted", func(tb *Table) {}},
	{"selected", func(tb *Table) { press(tb, "down", "down", "F") }},
	{"tree", func(tb *Table) { press(tb, "t") }},
	{"filter-typing", func(tb *Table) { press(tb, "/"); typeText(tb, "worker --queue=q1") }},
	{"filter-kept", func(tb *Table) { press(tb, "/"); typeText(tb, "nginx"); press(tb, "enter") }},
	{"sort-menu", func(tb *Table) { press(tb, "f6", "down") }},
	{"kill-menu", func(tb *Table) { press(tb, "down", "k", "down") }},
	{"kill-confirm", func(tb *Table) { press(tb, "down", "k", "down", "enter") }},
	{"sent", func(tb *Table) { press(tb, "k", "enter", "y") }},
}

func TestGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, sc := range scenes {
			name := fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1])
			t.Run(name, func(t *testing.T) {
				tb, _ := newTable(t, size[0], size[1])
				sc.setup(tb)
				uitest.Golden(t, name, plainView(tb)+"\n")
			})
		}
	}
}

// TestSizeMatrix resizes through sizes from 20x1 to 250x70 and checks the
// view is exactly height lines of at most width cells, in every scene, with
// colour and without. The plain table gets every size; the other scenes a
// coarser grid, which keeps go test -race quick.
func TestSizeMatrix(t *testing.T) {
	for _, noColor := range []bool{true, false} {
		for _, sc := range scenes {
			wStep, hStep := 7, 3
			if noColor && sc.name == "sorted" {
				wStep, hStep = 1, 1
			}
			t.Run(fmt.Sprintf("%s/nocolor=%v", sc.name, noColor), func(t *testing.T) {
				t.Parallel()
				tb := New(common.NewContext(noColor), testCols(), "cpu", func(model.ProcKey, int) error { return nil })
				tb.SetSize(80, 24)
				tb.SetProcesses(fakeProcs())
				sc.setup(tb)
				widths := map[string]int{} // most lines repeat from one height to the next
				for w := 20; w <= 250; w += wStep {
					clear(widths)
					for h := 1; h <= 70; h += hStep {
						tb.SetSize(w, h)
						checkSizeMemo(t, w, h, tb.View(), widths)
					}
				}
				// and the edges of the range
				for _, sz := range [][2]int{{250, 70}, {20, 70}, {250, 1}, {21, 2}} {
					tb.SetSize(sz[0], sz[1])
					uitest.CheckSize(t, fmt.Sprintf("%dx%d", sz[0], sz[1]), tb.View(), sz[0], sz[1])
				}
			})
		}
	}
}

func checkSizeMemo(t *testing.T, w, h int, view string, widths map[string]int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Fatalf("%dx%d: %d lines, want %d", w, h, len(lines), h)
	}
	for i, l := range lines {
		lw, ok := widths[l]
		if !ok {
			lw = lipgloss.Width(l)
			widths[l] = lw
		}
		if lw > w {
			t.Fatalf("%dx%d: line %d is %d cells wide: %q", w, h, i, lw, l)
		}
	}
}

// Issue #12 item 9: at every size of the size matrix, sorted by any
// column, the table's columns are separated by a blank cell.
func TestColumnsStaySeparated(t *testing.T) {
	tb, _ := newTable(t, 80, 24)
	for _, id := range []string{"cpu", "pid", "user", "time", "command"} {
		tb.sortByDefault(tb.columnIndex(id))
		for _, w := range uitest.Widths {
			for _, h := range uitest.Heights {
				tb.SetSize(w, h)
				lines := strings.Split(tb.View(), "\n")
				uitest.CheckSeparated(t, fmt.Sprintf("sorted by %s at %dx%d", id, w, h), lines[:len(lines)-1], tb.Gaps())
			}
		}
	}
}

// TestTinySizes covers sizes below the supported minimum: no panic, and
// still never more than asked for.
func TestTinySizes(t *testing.T) {
	for _, sc := range scenes {
		tb, _ := newTable(t, 80, 24)
		sc.setup(tb)
		for w := 0; w < 20; w++ {
			for h := 0; h < 8; h++ {
				tb.SetSize(w, h)
				v := tb.View()
				if h == 0 {
					if v != "" {
						t.Fatalf("%s %dx0: %q", sc.name, w, v)
					}
					continue
				}
				uitest.CheckSize(t, fmt.Sprintf("%s %dx%d", sc.name, w, h), v, w, h)
			}
		}
	}
}

func TestWideAndDeepContent(t *testing.T) {
	var procs []model.Process
	// A chain 60 deep, and names with wide and combining characters.
	for i := int32(1); i <= 60; i++ {
		procs = append(procs, proc(i, i-1, "ユーザー名前長い", "名前", fmt.Sprintf("进程%d e\u0301 👩‍💻 %s", i, strings.Repeat("x", int(i))), float64(i)))
	}
	tb := New(common.NewContext(false), testCols(), "cpu", nil)
	tb.SetProcesses(procs)
	press(tb, "t")
	for w := 20; w <= 250; w += 7 {
		for h := 1; h <= 70; h += 5 {
			tb.SetSize(w, h)
			press(tb, "end")
			uitest.CheckSize(t, fmt.Sprintf("deep %dx%d", w, h), tb.View(), w, h)
		}
	}
}

func manyProcs(n int) []model.Process {
	ps := make([]model.Process, n)
	for i := range ps {
		pid := int32(i + 1)
		ps[i] = proc(pid, pid/4, "user", fmt.Sprintf("proc%d", i), fmt.Sprintf("/usr/bin/proc%d --flag", i), float64((i*7919)%1000)/10)
	}
	return ps
}

// TestSetProcessesReusesSlices: a refresh of thousands of processes must
// not allocate per process, in flat, filtered and tree views.
func TestSetProcessesReusesSlices(t *testing.T) {
	procs := manyProcs(3000)
	tb := New(common.NewContext(true), testCols(), "cpu", nil)
	tb.SetSize(200, 50)
	for _, mode := range []string{"flat", "filter", "tree"} {
		switch mode {
		case "filter":
			press(tb, "/")
			typeText(tb, "PROC1")
			press(tb, "enter")
		case "tree":
			press(tb, "esc", "t")
		}
		tb.SetProcesses(procs) // warm up the slices and map
		allocs := testing.AllocsPerRun(20, func() { tb.SetProcesses(procs) })
		if allocs > 10 {
			t.Errorf("%s: SetProcesses of 3000 allocates %.0f times", mode, allocs)
		}
	}
}

func BenchmarkSetProcesses(b *testing.B) {
	procs := manyProcs(5000)
	tb := New(common.NewContext(true), testCols(), "cpu", nil)
	tb.SetSize(200, 50)
	b.ReportAllocs()
	for b.Loop() {
		tb.SetProcesses(procs)
	}
}

func BenchmarkSetProcessesTree(b *testing.B) {
	procs := manyProcs(5000)
	tb := New(common.NewContext(true), testCols(), "cpu", nil)
	tb.SetSize(200, 50)
	press(tb, "t")
	b.ReportAllocs()
	for b.Loop() {
		tb.SetProcesses(procs)
	}
}

func BenchmarkView(b *testing.B) {
	tb := New(common.NewContext(false), testCols(), "cpu", nil)
	tb.SetSize(200, 50)
	tb.SetProcesses(manyProcs(5000))
	b.ReportAllocs()
	for b.Loop() {
		_ = tb.View()
	}
}

func TestNoColumns(t *testing.T) {
	tb := New(nil, nil, "cpu", nil)
	tb.SetProcesses(fakeProcs())
	press(tb, "<", ">", "I", "P", "f6", "t", "/", "x", "enter", "F", "k")
	for _, sz := range [][2]int{{20, 1}, {20, 5}, {80, 24}} {
		tb.SetSize(sz[0], sz[1])
		uitest.CheckSize(t, fmt.Sprintf("no columns %dx%d", sz[0], sz[1]), tb.View(), sz[0], sz[1])
	}
	if tb.SortID() != "" {
		t.Fatalf("SortID %q with no columns", tb.SortID())
	}
}
