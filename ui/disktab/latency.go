package disktab

import (
	"math"
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// The latency charts: the selected device's block-latency histogram of the
// last interval (biolatency's bars, read and write apart) and a heatmap of
// the same histograms over time (one column per frame, rows log2 slots,
// darker = more I/Os). Both fold adjacent slots together when the pane has
// fewer rows than the slots in use, so no I/O is ever off the chart.

// latLabel is a slot's lower bound, short: 0µs 2µs … 512µs 1ms … 1s.
func latLabel(us float64) string {
	switch {
	case us < 1000:
		return strconv.FormatFloat(us, 'f', 0, 64) + "µs"
	case us < 1e6:
		return strconv.FormatFloat(math.Floor(us/1000), 'f', 0, 64) + "ms"
	}
	return strconv.FormatFloat(math.Floor(us/1e6), 'f', 0, 64) + "s"
}

// slotRange is the first and last slot with a count in any of sets; ok is
// false when all are empty.
func slotRange(sets ...[]uint64) (lo, hi int, ok bool) {
	lo, hi = model.DiskLatSlots, -1
	for _, s := range sets {
		for i, c := range s {
			if c > 0 {
				lo, hi = min(lo, i), max(hi, i)
			}
		}
	}
	return lo, hi, hi >= 0
}

// groups splits slots lo..hi into at most rows groups of equal width k,
// aligned so a group starts at a multiple of k: the first slot of each.
func groups(lo, hi, rows int) (starts []int, k int) {
	n := hi - lo + 1
	k = max(1, (n+rows-1)/rows)
	for g := lo - lo%k; g <= hi; g += k {
		starts = append(starts, g)
	}
	for len(starts) > rows { // alignment cost a row: widen
		k++
		starts = starts[:0]
		for g := lo - lo%k; g <= hi; g += k {
			starts = append(starts, g)
		}
	}
	return starts, k
}

func sumSlots(c []uint64, from, k int) uint64 {
	var s uint64
	for i := from; i < min(from+k, len(c)); i++ {
		s += c[i]
	}
	return s
}

// histogramLines draws h (at most height lines, width cells): a title,
// then one row per slot group, lowest latency first: the lower bound, the
// read count and bar, the write count and bar.
func (t *Tab) histogramLines(d *model.DiskDevice, width, height int) []string {
	s := t.Ctx.Styles
	lh := d.LatencyHist
	title := model.Sanitize(d.Name) + " latency"
	if lh == nil {
		return []string{t.Label(common.Fit(title+" "+common.Dash+" ("+t.latencyWhy(d)+")", width))}
	}
	p99 := func(h model.LatencyHist) string {
		if !h.P99Us.OK {
			return common.Dash
		}
		return latLabel(h.P99Us.V)
	}
	title += "  p99 R " + p99(lh.Read) + " W " + p99(lh.Write)
	if n := lh.Read.SlowIOs + lh.Write.SlowIOs; n > 0 {
		title += " slow " + strconv.FormatUint(n, 10)
	}
	out := []string{s.Bold.Render(common.Fit(title, width))}
	lo, hi, ok := slotRange(lh.Read.Counts, lh.Write.Counts)
	if !ok {
		return append(out, t.Label(common.Fit("no reads or writes completed", width)))
	}
	starts, k := groups(lo, hi, max(1, height-1))
	const labelW, countW = 6, 6
	barW := max(1, (width-labelW-2*countW-3)/2)
	var top uint64 = 1
	for _, g := range starts {
		top = max(top, sumSlots(lh.Read.Counts, g, k), sumSlots(lh.Write.Counts, g, k))
	}
	bar := func(n uint64) string {
		cells := int(math.Round(float64(n) / float64(top) * float64(barW)))
		if n > 0 && cells == 0 {
			cells = 1
		}
		return common.Fit(strings.Repeat("█", cells), barW)
	}
	for _, g := range starts {
		r, w := sumSlots(lh.Read.Counts, g, k), sumSlots(lh.Write.Counts, g, k)
		line := common.FitRight(latLabel(model.DiskLatBucketsUs[g]), labelW) + " " +
			common.FitRight(count(r), countW) + " " + s.OK.Render(bar(r)) + " " +
			common.FitRight(count(w), countW) + " " + s.Warning.Render(bar(w))
		out = append(out, line)
	}
	if len(out) < height {
		out = append(out, t.Label(common.Fit(strings.Repeat(" ", labelW+1)+common.FitRight("read", countW)+
			strings.Repeat(" ", barW+1)+common.FitRight("write", countW), width)))
	}
	return out
}

func count(n uint64) string {
	if n == 0 {
		return "·"
	}
	return strconv.FormatUint(n, 10)
}

// latencyWhy is why a device has no histogram.
func (t *Tab) latencyWhy(d *model.DiskDevice) string {
	if d.LatencyReason != "" {
		return d.LatencyReason
	}
	if dk := t.disk(); dk != nil && dk.Tier.Reason != "" {
		return "needs eBPF: " + dk.Tier.Reason
	}
	return "no histogram this interval"
}

// heatShades are the heatmap's cells, empty to most.
var heatShades = []string{" ", "░", "▒", "▓", "█"}

// heatmapLines draws the device's latency history: a title, then rows of
// slot groups, highest latency on top, one column per frame with the
// newest at the right; a cell's shade is its count on a log scale against
// the busiest cell on screen. Reads and writes are added up.
func (t *Tab) heatmapLines(d *model.DiskDevice, width, height int) []string {
	s := t.Ctx.Styles
	var v model.DiskLatView
	if t.Snap != nil {
		v = t.Snap.DiskLat(d.Name)
	}
	const labelW = 6
	cols := max(1, width-labelW-1)
	n := min(v.Len(), cols)
	title := "heatmap R+W, 1 column/frame"
	if dk := t.disk(); dk != nil && dk.Tier.EBPF() {
		title += " (" + dk.Tier.Tier + ")"
	}
	if n == 0 {
		return []string{t.Label(common.Fit(title+": no history yet", width))}
	}
	out := []string{s.Bold.Render(common.Fit(title, width))}
	frames := make([][model.DiskLatSlots]uint64, n)
	lo, hi := model.DiskLatSlots, -1
	for i := range n {
		p := v.At(v.Len() - n + i)
		for j := range model.DiskLatSlots {
			c := uint64(p.Read[j]) + uint64(p.Write[j])
			frames[i][j] = c
			if c > 0 {
				lo, hi = min(lo, j), max(hi, j)
			}
		}
	}
	if hi < 0 {
		return append(out, t.Label(common.Fit("no reads or writes completed in the last "+strconv.Itoa(n)+" frames", width)))
	}
	starts, k := groups(lo, hi, max(1, height-1))
	var top uint64 = 1
	for i := range frames {
		for _, g := range starts {
			top = max(top, sumSlots(frames[i][:], g, k))
		}
	}
	logTop := math.Log1p(float64(top))
	for r := len(starts) - 1; r >= 0; r-- {
		g := starts[r]
		var b strings.Builder
		b.WriteString(common.FitRight(latLabel(model.DiskLatBucketsUs[g]), labelW) + " ")
		b.WriteString(strings.Repeat(" ", cols-n))
		for i := range frames {
			c := sumSlots(frames[i][:], g, k)
			lvl := 0
			if c > 0 {
				lvl = max(1, int(math.Ceil(math.Log1p(float64(c))/logTop*float64(len(heatShades)-1))))
			}
			b.WriteString(heatShades[min(lvl, len(heatShades)-1)])
		}
		out = append(out, b.String())
	}
	return out
}
