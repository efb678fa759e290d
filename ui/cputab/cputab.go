// Package cputab is the CPU tab: what mpstat -P ALL, vmstat and pidstat -u -w
// tell, on one screen, with the busiest processes below.
package cputab

import (
	"sort"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/chart"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/tabbase"
)

// Thresholds at which the tab says in words that something is wrong. They
// are the rules of thumb of the "60 seconds" checklist.
const (
	loadPerCPUWarn = 0.7    // load average above 0.7 x CPUs
	ctxtWarn       = 10_000 // context switches per second
	iowaitWarn     = 20.0   // % of CPU time idle with I/O outstanding
	stealWarn      = 10.0   // % of CPU time taken by the hypervisor
	psiWarn        = 10.0   // % of the last 10 s some task waited for a CPU
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

func (t *Tab) plan(cpu *model.CPU, alerts int) layout {
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
	l.alertLines = take(1)
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
	// On a tall screen each warning gets its own line (up to four).
	if extra := min(alerts, 4) - 1; extra > 0 && h >= tableMin+12 {
		l.alertLines += take(extra)
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
	var alerts []string
	sample := t.Sample()
	if sample != nil {
		cpu = sample.CPU
		alerts = Alerts(cpu, sample.Processes)
	}
	l := t.plan(cpu, len(alerts))
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

// --- CPU bars ---------------------------------------------------------------

// segment is one category of a bar, in drawing order.
type segment struct {
	name  string
	glyph string // used with NO_COLOR, where colour cannot tell them apart
	style lipgloss.Style
	pct   func(p model.CPUPercent) float64
}

func (t *Tab) segments() []segment {
	s := t.Ctx.Styles
	return []segment{
		{"usr", "u", s.CPUUser, func(p model.CPUPercent) float64 { return p.User + p.Nice + p.Guest + p.GuestNice }},
		{"sys", "s", s.CPUSystem, func(p model.CPUPercent) float64 { return p.System }},
		{"wa", "w", s.CPUIOWait, func(p model.CPUPercent) float64 { return p.IOWait }},
		{"irq", "i", s.CPUIRQ, func(p model.CPUPercent) float64 { return p.IRQ + p.SoftIRQ }},
		{"st", "!", s.CPUSteal, func(p model.CPUPercent) float64 { return p.Steal }},
	}
}

// bar draws "label [||||||   ] 42.0%" in exactly w cells.
func (t *Tab) bar(label string, p model.CPUPercent, online bool, w int) string {
	const labelW, pctW = 4, 6
	inner := w - labelW - 2 - pctW - 1
	if inner < 3 {
		return common.Fit(label+" "+common.Pct(100-p.Idle)+"%", w)
	}
	var b strings.Builder
	b.WriteString(common.Fit(label, labelW))
	b.WriteString("[")
	if !online {
		b.WriteString(common.Fit(" offline", inner))
		b.WriteString("] ")
		b.WriteString(common.FitRight(common.Dash, pctW))
		return b.String()
	}
	used, cum := 0, 0.0
	for _, seg := range t.segments() {
		cum += seg.pct(p)
		end := int(cum/100*float64(inner) + 0.5)
		end = min(end, inner)
		if n := end - used; n > 0 {
			g := "|"
			if t.Ctx.NoColor {
				g = seg.glyph
			}
			b.WriteString(seg.style.Render(strings.Repeat(g, n)))
			used = end
		}
	}
	b.WriteString(strings.Repeat(" ", inner-used))
	b.WriteString("] ")
	b.WriteString(common.FitRight(common.Pct(100-p.Idle)+"%", pctW))
	return b.String()
}

// barLayoutRows is how many rows the per-CPU bars need in at most maxRows,
// using several columns when the terminal is wide.
func (t *Tab) barLayoutRows(cpu *model.CPU, maxRows int) int {
	rows, _ := t.barGrid(len(cpu.PerCPU), maxRows)
	return rows
}

// barGrid picks rows x cols for n bars: columns at least 28 cells wide, as
// few rows as possible within maxRows. If they cannot all fit, the caller
// shows the busiest ones.
func (t *Tab) barGrid(n, maxRows int) (rows, cols int) {
	if n == 0 {
		return 0, 1
	}
	maxCols := max(1, t.Width/28)
	cols = min(maxCols, max(1, (n+maxRows-1)/maxRows))
	rows = (n + cols - 1) / cols
	return min(rows, maxRows), cols
}

func (t *Tab) bars(cpu *model.CPU, rows int) []string {
	if rows <= 0 {
		return nil
	}
	if cpu == nil {
		out := []string{t.Collecting("CPU", "cpu", "cannot read /proc/stat: ")}
		for len(out) < rows {
			out = append(out, "")
		}
		return out
	}
	out := []string{t.totalLine(cpu)}
	perRows := rows - 1
	if perRows <= 0 {
		return out
	}
	percpu := cpu.PerCPU
	gridRows, cols := t.barGrid(len(percpu), perRows)
	if shown := gridRows * cols; shown < len(percpu) {
		// Not all fit: show the busiest, in CPU order, and say how many
		// are hidden.
		busiest := append([]model.PerCPU(nil), percpu...)
		sort.SliceStable(busiest, func(i, j int) bool { return busiest[i].Busy() > busiest[j].Busy() })
		busiest = busiest[:shown-1]
		sort.Slice(busiest, func(i, j int) bool { return busiest[i].ID < busiest[j].ID })
		hidden := len(percpu) - len(busiest)
		percpu = busiest
		defer func() {
			out[len(out)-1] = common.Fit(out[len(out)-1], t.Width-24) +
				t.Ctx.Styles.Faint.Render(" +"+strconv.Itoa(hidden)+" idler CPUs hidden")
		}()
	}
	colW := t.Width / cols
	for r := 0; r < gridRows; r++ {
		var line strings.Builder
		for c := 0; c < cols; c++ {
			i := c*gridRows + r
			if i >= len(percpu) {
				break
			}
			pc := percpu[i]
			line.WriteString(t.bar(strconv.Itoa(pc.ID), pc.CPUPercent, pc.Online, colW-1))
			line.WriteString(" ")
		}
		out = append(out, line.String())
	}
	return out
}

// totalLine is the all-CPU bar followed by the split in words (which is
// also the bar's legend).
func (t *Tab) totalLine(cpu *model.CPU) string {
	var legend strings.Builder
	for _, seg := range t.segments() {
		legend.WriteString(" ")
		name := seg.name
		if t.Ctx.NoColor {
			name = seg.glyph + ":" + name
		}
		legend.WriteString(seg.style.Render(name))
		legend.WriteString(" ")
		legend.WriteString(common.Pct(seg.pct(cpu.Total)))
	}
	legend.WriteString(" idle ")
	legend.WriteString(common.Pct(cpu.Total.Idle))
	lw := common.Width(legend.String())
	barW := t.Width - lw
	if barW < 24 {
		barW = min(t.Width, 40)
	}
	return t.bar("all", cpu.Total, true, barW) + legend.String()
}

// --- vmstat, load, PSI, softirq lines ---------------------------------------

func (t *Tab) stats(cpu *model.CPU, lines int) []string {
	if lines <= 0 {
		return nil
	}
	if cpu == nil {
		return make([]string, lines)
	}
	label := t.Label
	var b strings.Builder
	b.WriteString(label("r ") + strconv.FormatUint(cpu.ProcsRunning, 10))
	b.WriteString(label("  b ") + strconv.FormatUint(cpu.ProcsBlocked, 10))
	b.WriteString(label("  cs/s ") + common.OptCount(cpu.CtxtPerS))
	b.WriteString(label("  in/s ") + common.OptCount(cpu.IntrPerS))
	b.WriteString(label("  forks/s ") + common.OptCount(cpu.ForksPerS))
	b.WriteString(label("  load ") + common.Fixed2(cpu.Load.One) + " " + common.Fixed2(cpu.Load.Five) + " " + common.Fixed2(cpu.Load.Fifteen))
	b.WriteString(label(" on " + strconv.Itoa(cpu.Online) + " CPUs"))
	b.WriteString(label("  tasks ") + strconv.FormatUint(cpu.Load.Runnable, 10) + "/" + strconv.FormatUint(cpu.Load.Total, 10))
	out := []string{b.String()}
	if lines < 2 {
		return out
	}
	var p strings.Builder
	p.WriteString(t.PSILine("cpu", cpu.PSI, cpu.Unavailable))
	p.WriteString(label("  softirq/s"))
	if len(cpu.SoftIRQs) == 0 {
		p.WriteString(" " + label(common.Dash+" ("+common.WhyUnavailable(cpu.Unavailable, "softirqs")+")"))
	} else {
		top := append([]model.SoftIRQRate(nil), cpu.SoftIRQs...)
		sort.SliceStable(top, func(i, j int) bool { return top[i].PerS > top[j].PerS })
		for _, sr := range top {
			if sr.PerS < 0.5 && len(top) > 4 {
				break
			}
			p.WriteString(" " + sr.Name + " " + common.Count(sr.PerS))
		}
	}
	out = append(out, p.String())
	for len(out) < lines {
		out = append(out, "")
	}
	return out
}

// --- warnings in words ------------------------------------------------------

// Alerts returns the thresholds crossed in this sample, in words.
func Alerts(cpu *model.CPU, procs []model.Process) []string {
	var out []string
	if cpu == nil {
		return nil
	}
	n := float64(max(cpu.Online, 1))
	if cpu.Load.One > loadPerCPUWarn*n {
		out = append(out, "load "+common.Fixed2(cpu.Load.One)+" > 0.7 × "+strconv.Itoa(cpu.Online)+" CPUs: demand is near or above capacity")
	}
	if cpu.ProcsRunning > uint64(cpu.Online) {
		out = append(out, "run queue "+strconv.FormatUint(cpu.ProcsRunning, 10)+" > "+strconv.Itoa(cpu.Online)+" CPUs: tasks wait for a CPU (see %WAIT)")
	}
	if cpu.CtxtPerS.OK && cpu.CtxtPerS.V > ctxtWarn {
		out = append(out, "context switches "+common.Count(cpu.CtxtPerS.V)+"/s > 10k/s: lock contention or too many threads (sort by CSW/s, NVCSW/s)")
	}
	if cpu.Total.IOWait > iowaitWarn {
		out = append(out, "iowait "+common.Pct(cpu.Total.IOWait)+"%: CPUs idle while waiting on storage")
	}
	if cpu.Total.Steal > stealWarn {
		out = append(out, "steal "+common.Pct(cpu.Total.Steal)+"%: the hypervisor gives this VM's CPU time to others")
	}
	if cpu.PSI != nil && cpu.PSI.Some.Avg10 > psiWarn {
		out = append(out, "CPU pressure "+common.Fixed2(cpu.PSI.Some.Avg10)+"%: tasks stalled waiting for CPU in the last 10 s")
	}
	var stuck []string
	for i := range procs {
		if procs[i].State == "D" {
			stuck = append(stuck, model.Sanitize(procs[i].Comm))
		}
	}
	if len(stuck) > 0 {
		sort.Strings(stuck)
		names := stuck
		if len(names) > 3 {
			names = names[:3]
		}
		w := strconv.Itoa(len(stuck)) + " process"
		if len(stuck) > 1 {
			w += "es"
		}
		out = append(out, w+" in D state (uninterruptible, usually waiting on disk): "+strings.Join(names, ", "))
	}
	return out
}

func (t *Tab) alerts(cpu *model.CPU, alerts []string, lines int) []string {
	if cpu == nil {
		return make([]string, max(lines, 0))
	}
	return t.Warnings(alerts, lines, "load < 0.7×CPUs, cs < 10k/s, iowait < 20%, steal < 10%, nothing in D state", nil)
}

// --- history charts ---------------------------------------------------------

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

// Explain implements common.Explainer: what each number on this tab means
// and where it comes from.
func (t *Tab) Explain() [][2]string {
	out := [][2]string{
		{"%CPU", "a process's CPU use over the interval: 100 = one full CPU (a process busy on 2 cores shows 200), from utime+stime in /proc/PID/stat, as top and pidstat"},
		{"bars", "share of each CPU's time over the interval, from /proc/stat (as mpstat -P ALL): usr = user+nice+guest, sys = system, wa = iowait, irq = hardirq+softirq, st = steal; the % is 100 − idle"},
		{"idle / wa", "wa is idle time while I/O was outstanding: a CPU in iowait is free to run other work"},
		{"r  b", "runnable tasks (running or waiting for a CPU) and tasks blocked in uninterruptible sleep (procs_running / procs_blocked in /proc/stat; vmstat r and b)"},
		{"cs/s  in/s", "context switches and interrupts per second, all CPUs (ctxt and intr in /proc/stat; vmstat cs and in)"},
		{"forks/s", "new processes and threads per second (processes in /proc/stat)"},
		{"load", "1, 5 and 15 minute load averages (/proc/loadavg): runnable + uninterruptible tasks, exponentially averaged. Above 0.7 × CPUs is a warning sign"},
		{"tasks", "runnable / total scheduling entities (field 4 of /proc/loadavg)"},
		{"PSI cpu", "pressure stall information (/proc/pressure/cpu): % of time some task (and, for full, all tasks) waited for a CPU, averaged over 10/60/300 s"},
		{"softirq/s", "deferred interrupt work per second by type, all CPUs (/proc/softirqs); NET_RX high = network receive load, TIMER/SCHED = timers and load balancing"},
	}
	// %CPU is explained first, above.
	return append(out, t.ColumnHelp("cpu")...)
}
