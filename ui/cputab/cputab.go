// Package cputab is the CPU tab: what mpstat -P ALL, vmstat and pidstat -u -w
// tell, on one screen, with the busiest processes below.
package cputab

import (
	"charm.land/bubbles/v2/key"
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

// layout is how many lines each block gets at the current size.
type layout struct {
	barRows, statLines, alertLines, chartLines, tableLines int
	// shortLived is the short-lived summary's line (0 or 1): only from
	// lines the table does not need, its warnings are in the area above.
	shortLived int
}

// plan gives the lines out by priority: the all-CPU bar, the vmstat line
// and the warnings first; then the table's MinTableRows; then the per-CPU
// meters (packed, at most a third of the height), the PSI line and the
// charts from what is left; the table takes the rest.
func (t *Tab) plan(cpu *model.CPU, sl *model.ShortLived) layout {
	h := t.Height
	var l layout
	take := func(n int) int {
		n = max(0, min(n, h))
		h -= n
		return n
	}
	l.barRows = take(1)
	l.statLines = take(1)
	l.alertLines = take(t.WarningAreaLines())
	const tableFrame = 2 // header and status line
	spare := func() int { return h - (tabbase.MinTableRows + tableFrame) }
	if cpu != nil {
		l.barRows += take(t.meterRows(cpu, min(max(1, t.Height/3), spare())))
	}
	if spare() > 0 {
		l.statLines += take(1) // PSI and softirqs
	}
	if sl != nil && spare() > 0 {
		l.shortLived = take(1)
	}
	const tableFloor = tableFrame + 3
	ideal := min(10, max(5, t.Height/4))
	l.chartLines = take(t.ChartLines(spare(), h-tableFloor, ideal))
	l.tableLines = h
	return l
}

// Update implements common.Component.
func (t *Tab) Update(msg tea.Msg) tea.Cmd {
	if m, ok := msg.(common.SnapshotMsg); ok {
		t.SetSnapshot(m.Snap)
		return nil
	}
	if t.ToggleCharts(msg) {
		return nil
	}
	return t.Table.Update(msg)
}

// KeyHelp implements common.Component.
func (t *Tab) KeyHelp() []key.Binding { return t.KeyHelpWith(t.ChartsBinding()) }

// View implements common.Component.
func (t *Tab) View() string {
	if t.Width <= 0 || t.Height <= 0 {
		return ""
	}
	var cpu *model.CPU
	var sl *model.ShortLived
	var alerts []common.Alert
	sample := t.Sample()
	if sample != nil {
		cpu, sl = sample.CPU, sample.ShortLived
		alerts = t.Warnings()
	}
	l := t.plan(cpu, sl)
	lines := make([]string, 0, t.Height)
	lines = append(lines, t.bars(cpu, l.barRows)...)
	lines = append(lines, t.stats(cpu, l.statLines)...)
	if l.shortLived > 0 {
		lines = append(lines, t.shortLivedLine(sl))
	}
	lines = append(lines, t.alerts(cpu, alerts, l.alertLines)...)
	if l.chartLines > 0 {
		lines = common.AppendLines(lines, t.CachedCharts(model.SeriesCPUBusy, l.chartLines, func() string { return t.charts(cpu, l.chartLines) }))
	}
	if l.tableLines > 0 {
		lines = append(lines, t.TableLines(len(lines), l.tableLines)...)
	}
	return common.Block(lines, t.Width, t.Height)
}
