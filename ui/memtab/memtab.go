// Package memtab is the Memory tab: what free, vmstat, sar -r/-B/-S and
// slabtop tell, plus per-process and per-cgroup memory, on one screen.
package memtab

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/tabbase"
)

// The charts need a title line and a few rows to be readable.
const minChartHeight = 5

type panel int

const (
	panelProcesses panel = iota
	panelCgroups
	panelSlab
	panelZones
	panelCount
)

var panelNames = [panelCount]string{"processes", "cgroups", "slab", "zones"}

// Tab is the Memory tab component.
type Tab struct {
	tabbase.Base
	panel   panel
	viewKey key.Binding
}

// New builds the tab; kill is how the table's kill menu signals processes.
func New(ctx *common.Context, kill common.KillFunc) *Tab {
	return &Tab{
		Base:    tabbase.New(ctx, Columns(ctx.Procs), "rss", kill),
		viewKey: ctx.Binding("memory_view", ""),
	}
}

// Capturing implements common.Component: only the processes panel takes
// typed text.
func (t *Tab) Capturing() bool { return t.panel == panelProcesses && t.Table.Capturing() }

// KeyHelp implements common.Component: the table's keys are listed on
// every panel (they work once v is back on processes).
func (t *Tab) KeyHelp() []key.Binding {
	return t.KeyHelpWith(t.viewKey, t.ChartsBinding())
}

// ShortKeyHelp implements common.ShortHelper.
func (t *Tab) ShortKeyHelp() []key.Binding {
	short := key.NewBinding(key.WithKeys(t.viewKey.Keys()...), key.WithHelp(common.FirstKey(t.viewKey), "view"))
	if t.panel != panelProcesses {
		return []key.Binding{short}
	}
	return t.ShortKeyHelpWith(short)
}

// Selected implements common.Selector: a process only on the processes
// panel (Enter on a cgroup or a slab cache opens nothing).
func (t *Tab) Selected() (model.ProcKey, bool) {
	if t.panel != panelProcesses {
		return model.ProcKey{}, false
	}
	return t.Table.Selected()
}

// Demand implements common.DemandReporter: PSS/USS/swap are read for the
// rows on screen, or for every process while the table sorts by one.
func (t *Tab) Demand() model.DemandSet {
	if t.panel == panelSlab {
		return model.DemandSet{Slab: true}
	}
	if t.panel != panelProcesses {
		return model.DemandSet{}
	}
	return model.DemandSet{Keys: t.Table.VisibleKeys(nil), All: t.Table.SortNeedsDetail()}
}

// Update implements common.Component.
func (t *Tab) Update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case common.SnapshotMsg:
		t.SetSnapshot(m.Snap)
		return nil
	case tea.KeyPressMsg:
		if !t.Capturing() && t.ToggleCharts(m) {
			return nil
		}
		if !t.Capturing() && key.Matches(m, t.viewKey) {
			t.panel = (t.panel + 1) % panelCount
			return nil
		}
	}
	if t.panel == panelProcesses {
		return t.Table.Update(msg)
	}
	return nil
}

// View implements common.Component.
func (t *Tab) View() string {
	if t.Width <= 0 || t.Height <= 0 {
		return ""
	}
	var m *model.Memory
	sample := t.Sample()
	if sample != nil {
		m = sample.Memory
	}
	var lines []string
	if m == nil {
		lines = append(lines, t.Collecting("Memory", "memory", "cannot read /proc/meminfo: "))
	} else {
		alerts := t.allAlerts(sample)
		h := t.Height
		const panelMin = 6
		summary := t.summary(m)
		keep := min(len(summary), max(2, h-panelMin-1))
		lines = append(lines, summary[:keep]...)
		if room := h - len(lines) - panelMin; room > 0 {
			lines = append(lines, t.alerts(m, alerts, min(t.WarningAreaLines(), room))...)
		}
		// The panel bar, then the table's header, rows and status line.
		const panelFrame = 3
		room := h - len(lines) - (tabbase.MinTableRows + panelFrame)
		if ch := t.ChartLines(room, h-len(lines)-panelMin, min(9, max(minChartHeight, h/4))); ch > 0 {
			lines = common.AppendLines(lines, t.CachedCharts(model.SeriesMemUsed, ch, func() string { return t.charts(m, ch) }))
		}
	}
	rest := t.Height - len(lines)
	if rest > 0 {
		lines = append(lines, t.panelView(m, rest)...)
	}
	return common.Block(lines, t.Width, t.Height)
}
