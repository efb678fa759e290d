package tabbase

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// The history charts are the costliest part of a frame, and they change
// only when a probe adds a point, not on a process scan or a key press; so
// a tab's charts are kept until the series that paces them grows or the
// size changes.
type chartCache struct {
	key  chartKey
	view string
}

type chartKey struct {
	newest        int64 // time of the newest point of the pacing series
	points        int
	width, height int
}

// CachedCharts returns render()'s charts, h lines high, drawing them again
// only when the series named pace has a new point or the size changed.
// pace is the series the tab's probe records on every sample.
func (b *Base) CachedCharts(pace string, h int, render func() string) string {
	key := chartKey{width: b.Width, height: h}
	if b.Snap != nil {
		s := b.Snap.Series(pace)
		if n := s.Len(); n > 0 {
			key.points = n
			key.newest = s.At(n - 1).UnixMilli
		}
	}
	if key != b.charts.key || b.charts.view == "" {
		b.charts.view = render()
		b.charts.key = key
	}
	return b.charts.view
}

// ChartsKey is the default key that shows or hides the history charts
// of every tab that has them ("charts" in the config file's [keys]).
const ChartsKey = "g"

// MinTableRows is how many process rows a tab keeps before it draws its
// charts: htop shows 15 at 80x24.
const MinTableRows = 12

// minChartLines is the smallest chart worth drawing: a title and three
// rows.
const minChartLines = 4

type chartPref int

const (
	chartsByHeight chartPref = iota // shown when the table keeps MinTableRows
	chartsShown                     // g: shown, taken from the table
	chartsHidden                    // g: hidden
)

type chartState struct {
	pref  chartPref
	shown bool // whether the last frame drew them, for the toggle
}

// ChartsBinding is the chart toggle for the help overlay.
func (b *Base) ChartsBinding() key.Binding { return b.Ctx.Binding("charts", "") }

// ToggleCharts handles the chart toggle and reports whether msg was it:
// charts on screen are hidden, charts folded away (by the user or for
// lack of height) are shown.
func (b *Base) ToggleCharts(msg tea.Msg) bool {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || b.Table.Capturing() || !key.Matches(k, b.ChartsBinding()) {
		return false
	}
	if b.chartState.shown {
		b.chartState.pref = chartsHidden
	} else {
		b.chartState.pref = chartsShown
	}
	return true
}

// ChartLines is the charts' height in this frame. room is what is left
// once the table has MinTableRows; spare is what the table could give up
// and still show a few rows. By default the charts get ideal lines, shrink
// to fit room and fold below minChartLines; shown by g they take up to
// ideal lines out of spare instead.
func (b *Base) ChartLines(room, spare, ideal int) int {
	n := 0
	switch b.chartState.pref {
	case chartsByHeight:
		if n = min(ideal, room); n < minChartLines {
			n = 0
		}
	case chartsShown:
		if n = min(ideal, max(room, spare)); n < minChartLines {
			n = 0
		}
	}
	b.chartState.shown = n > 0
	return n
}
