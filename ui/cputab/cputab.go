// Package cputab is the CPU tab: what mpstat -P ALL, vmstat and pidstat -u -w
// tell, on one screen, with the busiest processes below.
package cputab

import (
	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/tabbase"
)

// Tab is the CPU tab component.
type Tab struct {
	tabbase.Base
}

// New builds the tab; kill is how the table's kill menu signals processes.
func New(ctx *common.Context, kill common.KillFunc) *Tab {
	return &Tab{Base: tabbase.New(ctx, Columns(), "cpu", kill)}
}

// Update implements common.Component.
func (t *Tab) Update(msg tea.Msg) tea.Cmd {
	if m, ok := msg.(common.SnapshotMsg); ok {
		t.SetSnapshot(m.Snap)
		return nil
	}
	return t.Table.Update(msg)
}

// layout is how many lines each block gets at the current size.
type layout struct {
	barRows, statLines, alertLines, chartLines, tableLines int
}

func (t *Tab) plan(cpu *model.CPU) layout {
	h := t.Height
	var l layout
	take := func(n int) int {
		if n > h {
			n = h
		}
		h -= n
		return n
	}
	const tableMin = 5
	// The essentials first: the overall bar, the vmstat line, the warnings.
	l.barRows = take(1)
	l.statLines = take(1)
	l.alertLines = take(t.WarningAreaLines())
	if h > tableMin {
		// Per-CPU bars, at most a third of the height.
		n := 1
		if cpu != nil {
			n = t.barLayoutRows(cpu, max(1, t.Height/3))
		}
		l.barRows += take(min(n, h-tableMin))
	}
	if h > tableMin {
		l.statLines += take(1) // PSI and softirqs
	}
	if ch := min(10, max(5, t.Height/4)); h >= ch+tableMin+3 {
		l.chartLines = take(ch)
	}
	l.tableLines = h
	return l
}

// View implements common.Component.
func (t *Tab) View() string {
	if t.Width <= 0 || t.Height <= 0 {
		return ""
	}
	var cpu *model.CPU
	var alerts []common.Alert
	sample := t.Sample()
	if sample != nil {
		cpu = sample.CPU
		alerts = Alerts(cpu, sample.Processes)
	}
	l := t.plan(cpu)
	lines := make([]string, 0, t.Height)
	lines = append(lines, t.bars(cpu, l.barRows)...)
	lines = append(lines, t.stats(cpu, l.statLines)...)
	lines = append(lines, t.alerts(cpu, alerts, l.alertLines)...)
	if l.chartLines > 0 {
		lines = common.AppendLines(lines, t.CachedCharts(model.SeriesCPUBusy, l.chartLines, func() string { return t.charts(cpu, l.chartLines) }))
	}
	if l.tableLines > 0 {
		lines = append(lines, t.TableLines(len(lines), l.tableLines)...)
	}
	return common.Block(lines, t.Width, t.Height)
}
