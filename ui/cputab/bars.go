package cputab

import (
	"math"
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
	// The busy parts first, then iowait: the % after a bar is busy =
	// 100 − idle − iowait (Busy, as the busy chart counts it), so
	// it ends where the iowait part starts.
	return []segment{
		{"usr", "u", s.CPUUser, func(p model.CPUPercent) float64 { return p.User + p.Nice + p.Guest + p.GuestNice }},
		{"sys", "s", s.CPUSystem, func(p model.CPUPercent) float64 { return p.System }},
		{"irq", "i", s.CPUIRQ, func(p model.CPUPercent) float64 { return p.IRQ + p.SoftIRQ }},
		{"st", "!", s.CPUSteal, func(p model.CPUPercent) float64 { return p.Steal }},
		{"wa", "w", s.CPUIOWait, func(p model.CPUPercent) float64 { return p.IOWait }},
	}
}

// bar draws "label[||||||   ] 42.0%" in exactly w cells, the label in
// labelW cells.
func (t *Tab) bar(label string, labelW int, p model.CPUPercent, online bool, w int) string {
	const pctW = 6
	inner := w - labelW - 2 - pctW - 1
	if inner < 3 {
		return common.Fit(label+" "+common.Pct(p.Busy())+"%", w)
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
	b.WriteString(common.FitRight(common.Pct(p.Busy())+"%", pctW))
	return b.String()
}

// meterGrid is how the per-CPU meters are packed: cols meters of colW
// cells a line, in rows lines; strip is set when even the narrowest
// meters do not fit and each CPU is drawn as one cell.
type meterGrid struct {
	rows, cols, colW, labelW int
	strip                    bool
}

// minMeterInner is the narrowest bar worth drawing inside a meter.
const minMeterInner = 3

// grid packs n meters into at most maxRows lines, as htop's one-, two-
// and four-column CPU meters do: as few columns as fit them (a wide
// meter reads better), more as the height shrinks; below the narrowest
// meter, a strip of one cell per CPU. Nothing is hidden unless even the
// strip does not fit.
func (t *Tab) grid(percpu []model.PerCPU, maxRows int) meterGrid {
	n := len(percpu)
	if n == 0 || maxRows <= 0 || t.Width <= 0 {
		return meterGrid{}
	}
	labelW := 2
	for _, pc := range percpu {
		labelW = max(labelW, len(strconv.Itoa(pc.ID))+1)
	}
	minColW := labelW + 2 + minMeterInner + 1 + 6 + 1
	for cols := 1; t.Width/cols >= minColW; cols++ {
		if rows := (n + cols - 1) / cols; rows <= maxRows {
			return meterGrid{rows: rows, cols: cols, colW: t.Width / cols, labelW: labelW}
		}
	}
	perLine := max(1, t.Width-stripLabelW)
	return meterGrid{rows: min(maxRows, (n+perLine-1)/perLine), cols: perLine, strip: true}
}

// meterRows is how many lines the per-CPU meters need in at most maxRows.
func (t *Tab) meterRows(cpu *model.CPU, maxRows int) int {
	return t.grid(cpu.PerCPU, maxRows).rows
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
	g := t.grid(cpu.PerCPU, rows-1)
	if g.strip {
		return append(out, t.strip(cpu.PerCPU, g)...)
	}
	for r := 0; r < g.rows; r++ {
		var line strings.Builder
		for c := 0; c < g.cols; c++ {
			i := c*g.rows + r
			if i >= len(cpu.PerCPU) {
				break
			}
			pc := cpu.PerCPU[i]
			line.WriteString(t.bar(strconv.Itoa(pc.ID), g.labelW, pc.CPUPercent, pc.Online, g.colW-1))
			line.WriteString(" ")
		}
		out = append(out, line.String())
	}
	return out
}

// stripLabelW is the width of a strip line's "cpu 0-63 " label.
const stripLabelW = 12

// levels are the strip's cells by busy share: a block as high as the CPU
// is busy.
var levels = []string{" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"}

// strip draws each CPU as one cell, for more CPUs than meters fit: the
// block's height is how busy it is, · an offline CPU. Lines are labelled
// with the CPU ids they hold.
func (t *Tab) strip(percpu []model.PerCPU, g meterGrid) []string {
	var out []string
	for r := 0; r < g.rows; r++ {
		lo := r * g.cols
		hi := min(len(percpu), lo+g.cols)
		if lo >= hi {
			break
		}
		var cells strings.Builder
		for _, pc := range percpu[lo:hi] {
			if !pc.Online {
				cells.WriteString("·")
				continue
			}
			lvl := int(math.Round(pc.Busy() / 100 * float64(len(levels)-1)))
			cells.WriteString(t.Ctx.Styles.CPUUser.Render(levels[max(0, min(lvl, len(levels)-1))]))
		}
		label := "cpu " + strconv.Itoa(percpu[lo].ID) + "-" + strconv.Itoa(percpu[hi-1].ID)
		line := t.Label(common.Fit(label, stripLabelW-1)+" ") + cells.String()
		if r == g.rows-1 && hi < len(percpu) {
			line = common.Fit(line, t.Width-12) + t.Label(" +"+strconv.Itoa(len(percpu)-hi)+" CPUs")
		}
		out = append(out, line)
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
	return t.bar("all", 4, cpu.Total, true, barW) + legend.String()
}
