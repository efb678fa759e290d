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

func (t *Tab) cgroupsView(m *model.Memory, h int) []string {
	if m == nil {
		return nil
	}
	if len(m.Cgroups) == 0 {
		return []string{t.Label("no memory cgroups: " + common.WhyUnavailable(m.Unavailable, "cgroups"))}
	}
	type col struct {
		title string
		w     int
		val   func(c *model.MemCgroup) string
	}
	// In order of importance; the path comes first and the least
	// important columns go when the pane is narrow.
	cols := []col{
		{"WORKSET", 9, func(c *model.MemCgroup) string { return b(c.WorkingSetBytes) }},
		{"RSS-SUM", 9, func(c *model.MemCgroup) string { return b(c.RSSSumBytes) }},
		{"LIMIT", 8, func(c *model.MemCgroup) string { return common.OptBytes(c.LimitBytes) }},
		{"OOMKILL", 8, func(c *model.MemCgroup) string { return common.OptFloat(c.OOMKills, 0) }},
		{"PROCS", 6, func(c *model.MemCgroup) string { return strconv.Itoa(c.Processes) }},
		{"USAGE", 9, func(c *model.MemCgroup) string {
			if c.Unavailable["usage"] != "" {
				return common.Dash
			}
			return b(c.UsageBytes)
		}},
		{"PSI10", 7, func(c *model.MemCgroup) string {
			if c.PSI == nil {
				return common.Dash
			}
			return common.Fixed2(c.PSI.Some.Avg10)
		}},
		{"ANON", 8, func(c *model.MemCgroup) string { return b(c.AnonBytes) }},
		{"FILE", 8, func(c *model.MemCgroup) string { return b(c.FileBytes) }},
	}
	const minPath = 24
	for len(cols) > 0 {
		used := 0
		for _, c := range cols {
			used += c.w
		}
		if t.Width-used >= minPath {
			break
		}
		cols = cols[:len(cols)-1]
	}
	pathW := t.Width
	for _, c := range cols {
		pathW -= c.w
	}
	hdr := common.Fit("CGROUP", pathW)
	for _, c := range cols {
		hdr += common.FitRight(c.title, c.w)
	}
	out := []string{t.Ctx.Styles.TableHeader.Render(hdr)}
	for i := range m.Cgroups {
		if len(out) >= h-1 {
			break
		}
		c := &m.Cgroups[i]
		line := common.Fit(model.Sanitize(c.Path)+t.Label(" v"+strconv.Itoa(c.Version)), pathW-1) + " "
		for _, col := range cols {
			line += common.FitRight(col.val(c), col.w)
		}
		out = append(out, line)
	}
	out = append(out, t.Label("WORKSET = usage − inactive_file (kubelet, cAdvisor): it includes active page cache, so a busy log writer can grow it while RSS-SUM stays flat"))
	return out
}

func (t *Tab) slabView(m *model.Memory, h int) []string {
	if m == nil {
		return nil
	}
	if m.Slab == nil {
		return []string{t.Label("slab caches: " + common.WhyUnavailable(m.Unavailable, "slab"))}
	}
	hdr := common.FitRight("OBJS", 10) + common.FitRight("ACTIVE", 10) + common.FitRight("USE", 5) +
		common.FitRight("OBJ SIZE", 9) + common.FitRight("CACHE SIZE", 11) + "  NAME"
	out := []string{t.Ctx.Styles.TableHeader.Render(hdr)}
	for _, c := range m.Slab {
		if len(out) >= h {
			break
		}
		out = append(out, common.FitRight(strconv.FormatUint(c.NumObjs, 10), 10)+
			common.FitRight(strconv.FormatUint(c.ActiveObjs, 10), 10)+
			common.FitRight(pct(c.ActiveObjs, c.NumObjs)+"%", 5)+
			common.FitRight(b(c.ObjSize), 9)+common.FitRight(b(c.SizeBytes), 11)+"  "+model.Sanitize(c.Name))
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
