// Package chart is the one place vitals touches the chart library, so a
// change of library (or of its API) is a change to this file only.
package chart

import (
	"strconv"
	"strings"
	"sync"

	"charm.land/lipgloss/v2"
	"github.com/NimbleMarkets/ntcharts/v2/canvas"
	"github.com/NimbleMarkets/ntcharts/v2/canvas/runes"
	"github.com/NimbleMarkets/ntcharts/v2/linechart/streamlinechart"
	"github.com/charmbracelet/x/ansi"
)

// Line is one data set of a chart. Lines are told apart by their runes
// (Thin), not colour, so that NO_COLOR terminals see the same chart.
type Line struct {
	Name   string
	Values []float64 // oldest first; only the newest that fit are drawn
	// Thin draws the line with thin runes (for reference lines such as the
	// CPU count under the load).
	Thin bool
}

// Spec describes a history chart.
type Spec struct {
	Title      string
	Width      int
	Height     int // including the title line
	YMin, YMax float64
	Lines      []Line
	// Style colours the whole plot. It is applied once per line of the
	// plot rather than per cell, which would cost more than the rest of a
	// frame.
	Style lipgloss.Style
	// YLabel formats the Y axis labels (ASCII only); nil is a compact
	// number (12, 4.5, 13k).
	YLabel func(v float64) string
}

// Render draws a right-to-left streaming line chart (newest at the right
// edge) with a fixed Y range. It returns exactly Height lines of Width cells.
func Render(s Spec) string {
	if s.Width <= 0 || s.Height <= 0 {
		return ""
	}
	title := fit(s.Title, s.Width)
	if s.Height < 3 || s.Width < 12 {
		return title + strings.Repeat("\n"+strings.Repeat(" ", s.Width), s.Height-1)
	}
	if s.YMax <= s.YMin {
		s.YMax = s.YMin + 1
	}
	// ntcharts maps its range onto rows steps of (max−min)/rows, so its
	// top row stands for max minus one step and a value at max falls off
	// the canvas (a CPU at 100 % drew nothing). Widen the range by one step
	// so that the top row is exactly YMax.
	rows := float64(s.Height - 1)
	top := s.YMax
	if rows > 1 {
		top = s.YMin + (s.YMax-s.YMin)*rows/(rows-1)
	}
	key := modelKey{s.Width, s.Height - 1}
	c := takeModel(key, s.YMin, top)
	defer putModel(key, c)
	c.YLabelFormatter = func(_ int, v float64) string { return short(v) }
	if s.YLabel != nil {
		c.YLabelFormatter = func(_ int, v float64) string { return s.YLabel(v) }
	}
	c.SetViewYRange(s.YMin, top)
	names := make([]string, 0, len(s.Lines))
	for _, l := range s.Lines {
		ls := runes.ArcLineStyle
		if l.Thin {
			ls = runes.ThinLineStyle
		}
		c.SetDataSetStyles(l.Name, ls, lipgloss.NewStyle())
		vals := l.Values
		if n := s.Width; len(vals) > n {
			vals = vals[len(vals)-n:]
		}
		for _, v := range vals {
			// Clamp into the fixed range: ntcharts would otherwise grow the
			// axis and the chart would stop meaning what its title says.
			c.PushDataSet(l.Name, min(max(v, s.YMin), s.YMax))
		}
		names = append(names, l.Name)
	}
	c.DrawDataSets(names)
	// Read the drawn runes straight off the canvas: its View styles every
	// cell with lipgloss, which cost more than the rest of a frame. The
	// plot takes one style per line instead.
	lines := make([]string, s.Height-1)
	var row strings.Builder
	for y := range lines {
		row.Reset()
		for x := 0; x < s.Width; x++ {
			r := c.Canvas.Cell(canvas.Point{X: x, Y: y}).Rune
			if r == 0 {
				r = ' '
			}
			row.WriteRune(r)
		}
		lines[y] = s.Style.Render(fit(row.String(), s.Width))
	}
	return title + "\n" + strings.Join(lines, "\n")
}

// A chart model is a canvas of Width × Height cells (each with a style,
// hundreds of bytes) plus axes: building one per chart per frame was a
// fifth of everything vitals allocated. Models are kept by size and
// reused, their data cleared and their range set.
type modelKey struct{ w, h int }

var models = struct {
	sync.Mutex
	m map[modelKey]*streamlinechart.Model
}{m: map[modelKey]*streamlinechart.Model{}}

// maxModels bounds the cache (sizes change while resizing): a tab shows
// a few charts, mostly of one size.
const maxModels = 8

// takeModel is a cleared model for key, from the cache or new. The caller
// owns it until putModel (concurrent renders of one size get two).
func takeModel(k modelKey, ymin, top float64) *streamlinechart.Model {
	models.Lock()
	c := models.m[k]
	delete(models.m, k)
	models.Unlock()
	if c == nil {
		m := streamlinechart.New(k.w, k.h,
			streamlinechart.WithYRange(ymin, top),
			streamlinechart.WithXYSteps(0, 2),
		)
		return &m
	}
	c.ClearAllData()
	c.SetYRange(ymin, top)
	return c
}

func putModel(k modelKey, c *streamlinechart.Model) {
	models.Lock()
	defer models.Unlock()
	if len(models.m) >= maxModels {
		clear(models.m)
	}
	models.m[k] = c
}

func fit(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return lipgloss.NewStyle().MaxWidth(w).Render(s)
	}
	return s + strings.Repeat(" ", w-sw)
}

func short(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 0, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 0, 64) + "k"
	case v >= 10 || v == 0:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}

// DataRange is a Y range scaled to the data rather than to its possible
// span, so that a 1 GiB change on a 24 GiB machine is a slope, not a
// flat line at the bottom: the values' extent with a tenth of margin each
// side, at least minSpan wide (a flat series sits in the middle), never
// below floor. With no values it is [floor, floor+minSpan].
func DataRange(floor, minSpan float64, sets ...[]float64) (lo, hi float64) {
	first := true
	for _, vs := range sets {
		for _, v := range vs {
			if first {
				lo, hi, first = v, v, false
			}
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if first {
		return floor, floor + minSpan
	}
	if span := hi - lo; span < minSpan {
		mid := (lo + hi) / 2
		lo, hi = mid-minSpan/2, mid+minSpan/2
	}
	pad := (hi - lo) / 10
	lo, hi = lo-pad, hi+pad
	if lo < floor {
		hi += floor - lo
		lo = floor
	}
	return lo, hi
}

// BytesAxis formats Y labels of a byte chart over [lo, hi] drawn on rows
// rows: one binary unit for the whole axis (K, M, G, T: the largest the
// top reaches), and as many decimals (at most two) as labels two rows
// apart need to differ: "14.25G", "14.50G" on a narrow range.
func BytesAxis(lo, hi float64, rows int) func(float64) string {
	unit, suffix := 1.0, "B"
	for _, u := range []struct {
		size float64
		name string
	}{{1 << 40, "T"}, {1 << 30, "G"}, {1 << 20, "M"}, {1 << 10, "K"}} {
		if hi >= u.size {
			unit, suffix = u.size, u.name
			break
		}
	}
	step := (hi - lo) / float64(max(1, rows)) * 2 / unit
	decimals := 0
	switch {
	case step < 0.1:
		decimals = 2
	case step < 1:
		decimals = 1
	}
	return func(v float64) string {
		return strconv.FormatFloat(v/unit, 'f', decimals, 64) + suffix
	}
}
