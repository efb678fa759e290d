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
