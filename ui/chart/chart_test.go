package chart

import (
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

func TestRenderSizeAndShape(t *testing.T) {
	rising := make([]float64, 100)
	for i := range rising {
		rising[i] = float64(i)
	}
	for _, sz := range [][2]int{{0, 0}, {5, 1}, {11, 2}, {12, 3}, {40, 8}, {120, 12}} {
		out := Render(Spec{Title: "t", Width: sz[0], Height: sz[1], YMin: 0, YMax: 100, Lines: []Line{{Name: "a", Values: rising}}})
		if sz[1] == 0 {
			if out != "" {
				t.Errorf("%v: %q", sz, out)
			}
			continue
		}
		lines := strings.Split(out, "\n")
		if len(lines) != sz[1] {
			t.Fatalf("%v: %d lines", sz, len(lines))
		}
		for i, l := range lines {
			if w := lipgloss.Width(l); w != sz[0] {
				t.Fatalf("%v: line %d is %d cells", sz, i, w)
			}
		}
	}
	// A rising series is drawn low on the left and high on the right.
	out := ansi.Strip(Render(Spec{Title: "t", Width: 40, Height: 10, YMin: 0, YMax: 100, Lines: []Line{{Name: "a", Values: rising[60:]}}}))
	lines := strings.Split(out, "\n")[1:]
	top, bottom := lines[0], lines[len(lines)-1]
	if strings.TrimSpace(top[len(top)-5:]) == "" {
		t.Errorf("newest (highest) values not drawn at the top right:\n%s", out)
	}
	if strings.ContainsAny(bottom[len(bottom)-10:], "╭╮╯╰─│") {
		t.Errorf("high values drawn at the bottom:\n%s", out)
	}
	// A value at the top of the range is drawn on the top row (ntcharts
	// alone drops it), and values above the range are clamped there rather
	// than rescaling the axis.
	for _, v := range []float64{100, 500} {
		out := ansi.Strip(Render(Spec{Title: "t", Width: 40, Height: 6, YMin: 0, YMax: 100, Lines: []Line{{Name: "a", Values: []float64{v, v, v}}}}))
		top := strings.Split(out, "\n")[1]
		if !strings.HasPrefix(strings.TrimSpace(top), "100") || !strings.Contains(top, "─") {
			t.Errorf("value %v: top row %q, want the 100 label and the line:\n%s", v, top, out)
		}
	}
}

func TestDataRangeAndBytesAxis(t *testing.T) {
	const gib = 1 << 30
	lo, hi := DataRange(0, gib/4, []float64{14 * gib, 15 * gib})
	if lo != 13.9*gib || hi != 15.1*gib {
		t.Errorf("range %v..%v GiB, want 13.9..15.1", lo/gib, hi/gib)
	}
	if lo, hi := DataRange(0, 100, nil); lo != 0 || hi != 100 {
		t.Errorf("empty: %v..%v", lo, hi)
	}
	if lo, _ := DataRange(0, 100, []float64{1, 2}); lo != 0 {
		t.Errorf("range below the floor: %v", lo)
	}
	f := BytesAxis(13.9*gib, 15.1*gib, 8)
	if got := f(14.25 * gib); got != "14.2G" && got != "14.3G" {
		t.Errorf("label %q", got)
	}
	if got := BytesAxis(0, 300<<20, 8)(150 << 20); got != "150M" {
		t.Errorf("label %q", got)
	}
	if got := BytesAxis(14*gib, 14.05*gib, 8)(14.01 * gib); got != "14.01G" {
		t.Errorf("narrow range label %q, want two decimals", got)
	}
	// The labels are drawn.
	out := ansi.Strip(Render(Spec{Title: "t", Width: 40, Height: 8, YMin: 13.9 * gib, YMax: 15.1 * gib,
		YLabel: BytesAxis(13.9*gib, 15.1*gib, 7), Lines: []Line{{Name: "a", Values: []float64{14 * gib, 15 * gib}}}}))
	if !strings.Contains(out, "G│") {
		t.Errorf("no byte labels:\n%s", out)
	}
}

// Models are reused between renders of one size: a render must not show
// anything of the one before it.
func TestReusedModelDrawsOnlyItsData(t *testing.T) {
	a := Spec{Title: "a", Width: 40, Height: 8, YMin: 0, YMax: 100,
		Lines: []Line{{Name: "x", Values: []float64{10, 20, 90, 50, 30}}}}
	b := Spec{Title: "a", Width: 40, Height: 8, YMin: 0, YMax: 100,
		Lines: []Line{{Name: "y", Values: []float64{100, 100, 0, 0, 100}, Thin: true}, {Name: "x", Values: []float64{5}}}}
	first := Render(a)
	other := Render(b)
	if other == first {
		t.Fatal("two different data sets drew the same chart")
	}
	if again := Render(a); again != first {
		t.Errorf("a reused model drew\n%s\nwant\n%s", again, first)
	}
}

// A reused model takes the new range: the same data under another range
// draws as a fresh model of that range does.
func TestReusedModelTakesTheRange(t *testing.T) {
	spec := func(ymax float64) Spec {
		return Spec{Title: "r", Width: 30, Height: 6, YMin: 0, YMax: ymax,
			Lines: []Line{{Name: "x", Values: []float64{1, 2, 3, 4, 5, 6}}}}
	}
	wide := Render(spec(100))
	narrow := Render(spec(6))
	if wide == narrow {
		t.Fatal("ranges 0-100 and 0-6 drew the same chart")
	}
	models.Lock()
	clear(models.m)
	models.Unlock()
	if fresh := Render(spec(6)); fresh != narrow {
		t.Errorf("reused model drew\n%s\nfresh one\n%s", narrow, fresh)
	}
}
