package memtab

import (
	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/chart"
)

// chartMinSpan is the narrowest Y range a memory chart draws: 1 % of RAM
// (at least 16 MiB), so that a flat series is a level line with a scale,
// not noise blown up to the chart's height.
func chartMinSpan(total uint64) float64 { return max(float64(total)/100, 16<<20) }

// charts draws used, buff/cache and available, each on a Y axis scaled to
// what it shows (the extent of its points with a margin), labelled in
// bytes: on a 24 GiB machine a 1 GiB leak or a page-cache fill is a slope,
// where an axis from 0 to total RAM drew it flat at the bottom.
func (t *Tab) charts(m *model.Memory, h int) string {
	s := t.Ctx.Styles
	specs := []chart.Spec{
		{Title: "used (total − available)", Lines: []chart.Line{{Name: "used", Values: t.Series(model.SeriesMemUsed)}}, Style: s.CPUUser},
		{Title: "buff/cache", Lines: []chart.Line{{Name: "cache", Values: t.Series(model.SeriesMemCache)}}, Style: s.CPUIRQ},
		{Title: "available", Lines: []chart.Line{{Name: "avail", Values: t.Series(model.SeriesMemAvailable)}}, Style: s.OK},
	}
	n := 3
	if t.Width < 90 {
		n = 2
	}
	if t.Width < 50 {
		n = 1
	}
	w := (t.Width - (n - 1)) / n
	parts := make([]string, 0, 2*n)
	for i := 0; i < n; i++ {
		sp := specs[i]
		vals := sp.Lines[0].Values
		// The points that fit are the ones drawn, and so the ones the
		// range is taken from.
		if len(vals) > w {
			vals = vals[len(vals)-w:]
		}
		sp.YMin, sp.YMax = chart.DataRange(0, chartMinSpan(m.TotalBytes), vals)
		sp.YLabel = chart.BytesAxis(sp.YMin, sp.YMax, h-1)
		sp.Width, sp.Height = w, h
		if i > 0 {
			parts = append(parts, " ")
		}
		parts = append(parts, chart.Render(sp))
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, parts...)
}
