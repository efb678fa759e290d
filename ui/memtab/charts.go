package memtab

import (
	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/chart"
)

func (t *Tab) charts(m *model.Memory, h int) string {
	s := t.Ctx.Styles
	series := func(name string) []float64 {
		v := t.Series(name)
		for i := range v {
			v[i] /= 1 << 30 // GiB
		}
		return v
	}
	total := float64(m.TotalBytes) / (1 << 30)
	specs := []chart.Spec{
		{Title: "used GiB (total − available)", Lines: []chart.Line{{Name: "used", Values: series(model.SeriesMemUsed)}}, Style: s.CPUUser},
		{Title: "buff/cache GiB", Lines: []chart.Line{{Name: "cache", Values: series(model.SeriesMemCache)}}, Style: s.CPUIRQ},
		{Title: "available GiB", Lines: []chart.Line{{Name: "avail", Values: series(model.SeriesMemAvailable)}}, Style: s.OK},
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
		sp.Width, sp.Height, sp.YMin, sp.YMax = w, h, 0, total
		if i > 0 {
			parts = append(parts, " ")
		}
		parts = append(parts, chart.Render(sp))
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, parts...)
}
