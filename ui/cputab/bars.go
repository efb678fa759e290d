package cputab

import (
	"sort"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

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
