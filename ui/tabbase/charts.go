package tabbase

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
