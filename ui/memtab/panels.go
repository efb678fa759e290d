package memtab

import (
	"sort"
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// /proc/zoneinfo counts pages, taken to be 4 KiB (x86-64; an arm64 kernel
// may use 16 or 64 KiB pages).
const pagesToBytes = 4096

func (t *Tab) panelBar() string {
	var bld strings.Builder
	bld.WriteString(t.Label("v: "))
	for i, name := range panelNames {
		if panel(i) == t.panel {
			bld.WriteString(t.Ctx.Styles.TabActive.Render(" " + name + " "))
		} else {
			bld.WriteString(t.Label(" " + name + " "))
		}
	}
	return bld.String()
}

func (t *Tab) panelView(m *model.Memory, h int) []string {
	if h <= 0 {
		return nil
	}
	if h == 1 {
		return []string{t.panelBar()}
	}
	out := []string{t.panelBar()}
	h--
	switch t.panel {
	case panelProcesses:
		return append(out, t.TableLines(t.Height-h, h)...)
	case panelCgroups:
		return append(out, t.cgroupsView(m, h)...)
	case panelSlab:
		return append(out, t.slabView(m, h)...)
	default:
		return append(out, t.zonesView(m, h)...)
	}
}

// cgroupColumn is a column of the cgroups panel and its value.
type cgroupColumn struct {
	common.TextCol
	val func(c *model.MemCgroup) string
}

// cgroupColumns are the cgroups panel's columns after the path, in order
// of importance: the least important go first when the pane is narrow.
func cgroupColumns() []cgroupColumn {
	col := func(title string, w int, val func(c *model.MemCgroup) string) cgroupColumn {
		return cgroupColumn{common.TextCol{Title: title, Width: w, Right: true}, val}
	}
	cols := []cgroupColumn{
		col("WORKSET", 8, func(c *model.MemCgroup) string { return b(c.WorkingSetBytes) }),
		col("RSS-SUM", 8, func(c *model.MemCgroup) string { return b(c.RSSSumBytes) }),
		col("LIMIT", 7, func(c *model.MemCgroup) string { return common.OptBytes(c.LimitBytes) }),
		col("REFLT/s", 7, func(c *model.MemCgroup) string {
			if r := c.RefaultPerS(); r.OK {
				return common.Count(r.V)
			}
			return common.Dash
		}),
		col("OOMKILL", 7, func(c *model.MemCgroup) string { return common.OptFloat(c.OOMKills, 0) }),
		col("PROCS", 5, func(c *model.MemCgroup) string { return strconv.Itoa(c.Processes) }),
		col("USAGE", 8, func(c *model.MemCgroup) string {
			if c.Unavailable["usage"] != "" {
				return common.Dash
			}
			return b(c.UsageBytes)
		}),
		col("PSI10", 6, func(c *model.MemCgroup) string {
			if c.PSI == nil {
				return common.Dash
			}
			return common.Fixed2(c.PSI.Some.Avg10)
		}),
		col("ANON", 7, func(c *model.MemCgroup) string { return b(c.AnonBytes) }),
		col("FILE", 7, func(c *model.MemCgroup) string { return b(c.FileBytes) }),
	}
	for i := range cols {
		cols[i].Priority = i + 1
	}
	return cols
}

// cgroupTable lays the cgroups panel out at the tab's width: the path
// first, taking what the others leave (at least 24 cells).
func (t *Tab) cgroupTable() (*common.TextTable, []cgroupColumn) {
	cols := cgroupColumns()
	text := []common.TextCol{{Title: "CGROUP", Width: 24}}
	for _, c := range cols {
		text = append(text, c.TextCol)
	}
	return common.NewTextTable(t.Width, 0, text...), cols
}

func (t *Tab) cgroupsView(m *model.Memory, h int) []string {
	if m == nil {
		return nil
	}
	if len(m.Cgroups) == 0 {
		return []string{t.Label("no memory cgroups: " + common.WhyUnavailable(m.Unavailable, "cgroups"))}
	}
	tbl, cols := t.cgroupTable()
	out := []string{tbl.Header(t.Ctx.Styles.TableHeader)}
	cells := make([]string, len(cols)+1)
	for i := range m.Cgroups {
		if len(out) >= h-1 {
			break
		}
		c := &m.Cgroups[i]
		cells[0] = model.Sanitize(c.Path) + t.Label(" v"+strconv.Itoa(c.Version))
		for j, col := range cols {
			cells[j+1] = col.val(c)
		}
		out = append(out, tbl.Row(cells...))
	}
	out = append(out, t.Label("WORKSET = usage − inactive_file (kubelet, cAdvisor): it includes active page cache, so a busy log writer can grow it while RSS-SUM stays flat"))
	return out
}

// slabTable lays the slab panel out as slabtop -s c: the cache size and
// the name kept longest.
func (t *Tab) slabTable() *common.TextTable {
	return common.NewTextTable(t.Width, 5,
		common.TextCol{Title: "OBJS", Width: 9, Right: true, Priority: 4},
		common.TextCol{Title: "ACTIVE", Width: 9, Right: true, Priority: 4},
		common.TextCol{Title: "USE", Width: 6, Right: true, Priority: 3},
		common.TextCol{Title: "OBJ SIZE", Width: 8, Right: true, Priority: 5},
		common.TextCol{Title: "CACHE SIZE", Width: 10, Right: true, Priority: 1},
		common.TextCol{Title: "NAME", Width: 16})
}

func (t *Tab) slabView(m *model.Memory, h int) []string {
	if m == nil {
		return nil
	}
	if m.Slab == nil {
		return []string{t.Label("slab caches: " + common.WhyUnavailable(m.Unavailable, "slab"))}
	}
	tbl := t.slabTable()
	out := []string{tbl.Header(t.Ctx.Styles.TableHeader)}
	for _, c := range m.Slab {
		if len(out) >= h {
			break
		}
		out = append(out, tbl.Row(strconv.FormatUint(c.NumObjs, 10), strconv.FormatUint(c.ActiveObjs, 10),
			pct(c.ActiveObjs, c.NumObjs)+"%", b(c.ObjSize), b(c.SizeBytes), model.Sanitize(c.Name)))
	}
	return out
}

func (t *Tab) zonesView(m *model.Memory, h int) []string {
	if m == nil {
		return nil
	}
	out := []string{t.Label("free pages per zone against the watermarks: below low kswapd reclaims in the background; below min allocations reclaim themselves and stall")}
	if len(m.Zones) == 0 {
		return append(out, t.Label(common.WhyUnavailable(m.Unavailable, "zones")))
	}
	zones := append([]model.ZoneWatermarks(nil), m.Zones...)
	sort.SliceStable(zones, func(i, j int) bool { return zones[i].Node < zones[j].Node })
	labelW := 16
	barW := max(10, t.Width-labelW-44)
	for _, z := range zones {
		if len(out) >= h {
			break
		}
		state, level := zoneState(z)
		// Scale to twice the high watermark so the marks are visible; a
		// zone with far more free memory shows a full bar.
		scale := max(2*z.HighPages, 1)
		bar := []byte(strings.Repeat(" ", barW))
		free := min(cells(z.FreePages, scale, barW), barW)
		for i := 0; i < free; i++ {
			bar[i] = '='
		}
		for _, mk := range []struct {
			v uint64
			c byte
		}{{z.MinPages, 'm'}, {z.LowPages, 'l'}, {z.HighPages, 'h'}} {
			if p := cells(mk.v, scale, barW); p < barW {
				bar[p] = mk.c
			}
		}
		line := common.Fit("node"+strconv.Itoa(z.Node)+" "+z.Zone, labelW) + "[" + string(bar) + "] " +
			t.Label("free ") + b(z.FreePages*pagesToBytes) + t.Label(" min ") + b(z.MinPages*pagesToBytes) +
			t.Label(" low ") + b(z.LowPages*pagesToBytes) + t.Label(" high ") + b(z.HighPages*pagesToBytes) + " "
		if level >= 2 {
			line += t.Ctx.Styles.Warning.Render(state)
		} else {
			line += state
		}
		out = append(out, line)
	}
	if len(out) < h {
		out = append(out, t.Label("vm.swappiness ")+common.OptFloat(m.Swappiness, 0)+
			t.Label("  vm.min_free_kbytes ")+common.OptFloat(m.MinFreeKbytes, 0)+
			t.Label("  (bar: = free pages, m/l/h the min/low/high watermarks, scaled to 2 × high)"))
	}
	return out
}
