package cputab

import (
	"strconv"

	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/chart"
)

func (t *Tab) charts(cpu *model.CPU, h int) string {
	s := t.Ctx.Styles
	busy := t.Series(model.SeriesCPUBusy)
	load := t.Series(model.SeriesLoad1)
	ncpu := 1.0
	if cpu != nil {
		ncpu = float64(max(cpu.Online, 1))
	}
	cpus := make([]float64, len(load))
	for i := range cpus {
		cpus[i] = ncpu
	}
	loadMax := ncpu * 1.5
	for _, v := range load {
		loadMax = max(loadMax, v*1.1)
	}
	leftW := t.Width / 2
	rightW := t.Width - leftW - 1
	if t.Width < 60 {
		leftW, rightW = t.Width, 0
	}
	left := chart.Render(chart.Spec{
		Title: "CPU busy % (100 − idle − iowait)", Width: leftW, Height: h, YMin: 0, YMax: 100,
		Lines: []chart.Line{{Name: "busy", Values: busy}}, Style: s.CPUUser,
	})
	if rightW <= 0 {
		return left
	}
	right := chart.Render(chart.Spec{
		Title: "load 1m vs " + strconv.Itoa(int(ncpu)) + " CPUs (thin line)", Width: rightW, Height: h, YMin: 0, YMax: loadMax,
		Lines: []chart.Line{
			{Name: "cpus", Values: cpus, Thin: true},
			{Name: "load", Values: load},
		},
		Style: s.Warning,
	})
	return lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right)
}
