package cputab

import (
	"strconv"

	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/chart"
	"github.com/vitals-dev/vitals/ui/common"
)

func (t *Tab) charts(cpu *model.CPU, h int) string {
	s := t.Ctx.Styles
	busy := t.Series(model.SeriesCPUBusy)
	load := t.Series(model.SeriesLoad1)
	// The CPU count is known from the first CPU sample on; before it
	// (the first interval) the chart says "–" rather than guess.
	ncpu, cpusLabel := 1.0, common.Dash
	var cpus []float64
	if cpu != nil && cpu.Online > 0 {
		ncpu, cpusLabel = float64(cpu.Online), strconv.Itoa(cpu.Online)
		cpus = make([]float64, len(load))
		for i := range cpus {
			cpus[i] = ncpu
		}
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
		Title: "load 1m vs " + cpusLabel + " CPUs (thin line)", Width: rightW, Height: h, YMin: 0, YMax: loadMax,
		Lines: []chart.Line{
			{Name: "cpus", Values: cpus, Thin: true},
			{Name: "load", Values: load},
		},
		Style: s.Warning,
	})
	return lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right)
}
