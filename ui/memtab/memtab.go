// Package memtab is the Memory tab: what free, vmstat, sar -r/-B/-S and
// slabtop tell, plus per-process and per-cgroup memory, on one screen.
package memtab

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/chart"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/tabbase"
)

// Thresholds at which the tab says something in words.
const (
	availLowPct    = 10.0            // MemAvailable under 10 % of RAM
	psiMemWarn     = 10.0            // % of the last 10 s some task stalled on memory
	majfltWarn     = 500.0           // major faults per second, system-wide
	refaultWarn    = 1000.0          // file refaults per second: thrashing
	oomStickyFor   = 5 * time.Minute // an OOM kill stays on screen this long
	pageSize       = 4096
	pagesToBytes   = pageSize
	unitKiB        = 1024
	minChartHeight = 5
)

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
		Base:    tabbase.New(ctx, Columns(), "rss", kill),
		viewKey: key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "view: processes/cgroups/slab/zones")),
	}
}

// Capturing implements common.Component: only the processes panel takes
// typed text.
func (t *Tab) Capturing() bool { return t.panel == panelProcesses && t.Table.Capturing() }

// KeyHelp implements common.Component.
func (t *Tab) KeyHelp() []key.Binding {
	if t.panel != panelProcesses {
		return []key.Binding{t.viewKey}
	}
	return t.KeyHelpWith(t.viewKey)
}

// ShortKeyHelp implements common.ShortHelper.
func (t *Tab) ShortKeyHelp() []key.Binding {
	short := key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "view"))
	if t.panel != panelProcesses {
		return []key.Binding{short}
	}
	return t.ShortKeyHelpWith(short)
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
		alerts := Alerts(m, sample.Time)
		h := t.Height
		const panelMin = 6
		summary := t.summary(m)
		keep := min(len(summary), max(2, h-panelMin-1))
		lines = append(lines, summary[:keep]...)
		alertLines := t.alerts(alerts, max(1, min(len(alerts), 3, h-len(lines)-panelMin)))
		if h-len(lines) > panelMin {
			lines = append(lines, alertLines...)
		}
		if ch := min(9, max(minChartHeight, h/4)); h-len(lines) >= ch+panelMin+3 {
			lines = common.AppendLines(lines, t.CachedCharts(model.SeriesMemUsed, ch, func() string { return t.charts(m, ch) }))
		}
	}
	rest := t.Height - len(lines)
	if rest > 0 {
		lines = append(lines, t.panelView(m, rest)...)
	}
	return common.Block(lines, t.Width, t.Height)
}

// --- summary ----------------------------------------------------------------

func b(v uint64) string { return common.Bytes(v) }

func pct(part, whole uint64) string {
	if whole == 0 {
		return "0"
	}
	return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64)
}

// summary is every system figure, most important first; the caller keeps
// as many lines as fit.
func (t *Tab) summary(m *model.Memory) []string {
	s := t.Ctx.Styles
	l := t.Label
	out := []string{t.memBar(m)}

	// Swap, with vmstat si/so.
	var sw strings.Builder
	if m.Swap.TotalBytes == 0 {
		sw.WriteString(l("swap ") + "none configured")
	} else {
		sw.WriteString(l("swap ") + b(m.Swap.UsedBytes) + l(" used of ") + b(m.Swap.TotalBytes) +
			l(" (") + pct(m.Swap.UsedBytes, m.Swap.TotalBytes) + "%" + l(")  cached ") + b(m.Swap.CachedBytes))
	}
	sw.WriteString(l("   si ") + common.OptCount(m.VM.SwapInPagesPerS) + l(" so ") + common.OptCount(m.VM.SwapOutPagesPerS) + l(" pages/s"))
	sw.WriteString(l("   bi ") + common.OptCount(m.VM.PageInKBPerS) + l(" bo ") + common.OptCount(m.VM.PageOutKBPerS) + l(" KiB/s"))
	out = append(out, sw.String())

	// Paging and reclaim (sar -B).
	out = append(out, l("faults/s ")+common.OptCount(m.VM.FaultsPerS)+l(" major ")+common.OptCount(m.VM.MajorFaultsPerS)+
		l("   scan/s ")+common.OptCount(m.VM.ScanAllPerS)+l(" (kswapd ")+common.OptCount(m.VM.ScanKswapdPerS)+l(" direct ")+common.OptCount(m.VM.ScanDirectPerS)+l(")")+
		l("   steal/s ")+common.OptCount(m.VM.StealAllPerS)+l(" (kswapd ")+common.OptCount(m.VM.StealKswapdPerS)+l(" direct ")+common.OptCount(m.VM.StealDirectPerS)+l(")")+
		l("   refault/s anon ")+common.OptCount(m.VM.RefaultAnonPerS)+l(" file ")+common.OptCount(m.VM.RefaultFilePerS)+
		l("   OOM kills ")+oomCount(s, m))

	// PSI and the composition of memory.
	var d strings.Builder
	d.WriteString(t.PSILine("mem", m.PSI, m.Unavailable))
	d.WriteString(l("   anon ") + b(m.AnonBytes) + l(" file ") + b(m.FileBytes) +
		l(" (active ") + b(m.ActiveFileBytes) + l(" inactive ") + b(m.InactiveFileBytes) + l(")"))
	d.WriteString(l("   dirty ") + b(m.DirtyBytes) + l(" writeback ") + b(m.WritebackBytes))
	d.WriteString(l("   slab ") + b(m.SlabReclaimableBytes+m.SlabUnreclaimableBytes) +
		l(" (unreclaimable ") + b(m.SlabUnreclaimableBytes) + l(")"))
	d.WriteString(l("   shmem ") + b(m.SharedBytes))
	if m.HugePagesTotal > 0 {
		d.WriteString(l("   hugepages ") + strconv.FormatUint(m.HugePagesTotal-m.HugePagesFree, 10) + "/" +
			strconv.FormatUint(m.HugePagesTotal, 10) + l(" used of ") + b(m.HugePageSizeBytes))
	}
	d.WriteString(l("   THP ") + b(m.AnonHugePagesBytes))
	out = append(out, d.String())

	out = append(out, t.zonesLine(m))
	return out
}

// memBar is free's first line as a bar: used, then buff/cache, then free.
func (t *Tab) memBar(m *model.Memory) string {
	s := t.Ctx.Styles
	used := m.UsedBytes
	cache := m.BuffersBytes + m.CacheBytes
	legend := " " + s.CPUUser.Render(glyph(t.Ctx, "u:")+"used") + " " + b(used) + " (" + pct(used, m.TotalBytes) + "%)" +
		" " + s.CPUIRQ.Render(glyph(t.Ctx, "c:")+"buff/cache") + " " + b(cache) +
		" " + t.Label("free ") + b(m.FreeBytes) +
		" " + s.Bold.Render("avail") + " " + common.OptBytes(m.AvailableBytes) +
		t.Label(" of ") + b(m.TotalBytes)
	barW := t.Width - common.Width(legend) - 6
	if barW < 10 {
		return t.Label("mem") + legend
	}
	u := cells(used, m.TotalBytes, barW)
	c := min(cells(used+cache, m.TotalBytes, barW), barW) - u
	uc, cc := "|", "|"
	if t.Ctx.NoColor {
		uc, cc = "u", "c"
	}
	bar := s.CPUUser.Render(strings.Repeat(uc, u)) + s.CPUIRQ.Render(strings.Repeat(cc, max(c, 0))) + strings.Repeat(" ", max(barW-u-max(c, 0), 0))
	return "mem [" + bar + "]" + legend
}

func glyph(ctx *common.Context, g string) string {
	if ctx.NoColor {
		return g
	}
	return ""
}

func cells(part, whole uint64, w int) int {
	if whole == 0 {
		return 0
	}
	return int(float64(part)/float64(whole)*float64(w) + 0.5)
}

func oomCount(s *common.Styles, m *model.Memory) string {
	n := strconv.FormatUint(m.OOMKills, 10)
	if m.OOMKillsDelta > 0 {
		return s.Danger.Render(n + " (+" + strconv.FormatUint(m.OOMKillsDelta, 10) + ")")
	}
	return n
}

// zoneState says where free pages stand against the watermarks.
func zoneState(z model.ZoneWatermarks) (string, int) {
	switch {
	case z.FreePages < z.MinPages:
		return "below min: allocations reclaim directly and stall", 3
	case z.FreePages < z.LowPages:
		return "below low: kswapd is reclaiming", 2
	case z.FreePages < z.HighPages:
		return "below high: kswapd reclaims until free reaches high", 1
	default:
		return "ok", 0
	}
}

func (t *Tab) zonesLine(m *model.Memory) string {
	l := t.Label
	var z strings.Builder
	z.WriteString(l("watermarks "))
	if len(m.Zones) == 0 {
		z.WriteString(t.Label(common.Dash + " (" + common.WhyUnavailable(m.Unavailable, "zones") + ")"))
	}
	for i, zone := range m.Zones {
		if i > 0 {
			z.WriteString(l(" · "))
		}
		state, level := zoneState(zone)
		text := "node" + strconv.Itoa(zone.Node) + " " + zone.Zone + " " + state
		if level >= 2 {
			text = t.Ctx.Styles.Warning.Render(text)
		}
		z.WriteString(text)
	}
	z.WriteString(l("   swappiness ") + common.OptFloat(m.Swappiness, 0))
	z.WriteString(l(" min_free_kbytes ") + common.OptFloat(m.MinFreeKbytes, 0))
	return z.String()
}

// --- warnings in words ------------------------------------------------------

// Alerts returns the memory thresholds crossed at time now, in words; the
// first ones are the most serious.
func Alerts(m *model.Memory, now time.Time) []string {
	if m == nil {
		return nil
	}
	var out []string
	if !m.LastOOMKill.IsZero() && now.Sub(m.LastOOMKill) < oomStickyFor {
		out = append(out, "OOM KILL at "+m.LastOOMKill.Format("15:04:05")+
			" (oom_kill now "+strconv.FormatUint(m.OOMKills, 10)+"): the kernel killed a process to free memory; dmesg names it")
	}
	if m.VM.ScanDirectPerS.OK && m.VM.ScanDirectPerS.V > 0 {
		out = append(out, "direct reclaim "+common.Count(m.VM.ScanDirectPerS.V)+" pages/s: allocating tasks reclaim themselves and stall — memory is saturated")
	}
	// Reclaim that is neither kswapd's nor direct is a cgroup at its
	// memory limit reclaiming its own pages (the kernel counts it only in
	// the totals).
	if all := m.VM.ScanAllPerS; all.OK {
		if limit := all.V - m.VM.ScanKswapdPerS.Or(0) - m.VM.ScanDirectPerS.Or(0); limit > 0 {
			out = append(out, "cgroup limit reclaim "+common.Count(limit)+" pages/s: a cgroup at its memory limit is reclaiming (see v: cgroups)")
		}
	}
	si, so := m.VM.SwapInPagesPerS.Or(0), m.VM.SwapOutPagesPerS.Or(0)
	if si+so > 0 {
		out = append(out, "swapping: si "+common.Count(si)+" so "+common.Count(so)+" pages/s")
	}
	for _, z := range m.Zones {
		if state, level := zoneState(z); level >= 2 {
			out = append(out, "node"+strconv.Itoa(z.Node)+" "+z.Zone+" free pages "+state)
		}
	}
	if m.AvailableBytes.OK && m.TotalBytes > 0 && m.AvailableBytes.V*100/float64(m.TotalBytes) < availLowPct {
		out = append(out, "available "+common.Bytes(uint64(m.AvailableBytes.V))+" is under 10% of RAM")
	}
	if m.PSI != nil && m.PSI.Some.Avg10 > psiMemWarn {
		out = append(out, "memory pressure "+common.Fixed2(m.PSI.Some.Avg10)+"%: tasks stalled on memory in the last 10 s")
	}
	if m.VM.RefaultFilePerS.OK && m.VM.RefaultFilePerS.V > refaultWarn {
		out = append(out, "refaults "+common.Count(m.VM.RefaultFilePerS.V)+"/s: evicted pages are needed again (thrashing)")
	}
	if m.VM.MajorFaultsPerS.OK && m.VM.MajorFaultsPerS.V > majfltWarn {
		out = append(out, "major faults "+common.Count(m.VM.MajorFaultsPerS.V)+"/s: pages read back from disk or swap (sort by MAJF/s)")
	}
	return out
}

func (t *Tab) alerts(alerts []string, lines int) []string {
	return t.Warnings(alerts, lines, "no direct reclaim, no swapping, no OOM kill, zones above low, available ≥ 10%", isOOMKill)
}

// isOOMKill marks the warning drawn in the danger colour: a process has
// been killed, which is worse than any pressure.
func isOOMKill(alert string) bool { return strings.HasPrefix(alert, "OOM KILL") }

// --- charts -----------------------------------------------------------------

func (t *Tab) charts(m *model.Memory, h int) string {
	s := t.Ctx.Styles
	series := func(name string) []float64 {
		v := t.Series(name)
		for i := range v {
			v[i] /= 1 << 30 // GiB
		}
		return v
	}
	total := float64(m.TotalBytes) / (1 << 30)
	specs := []chart.Spec{
		{Title: "used GiB (total − available)", Lines: []chart.Line{{Name: "used", Values: series(model.SeriesMemUsed)}}, Style: s.CPUUser},
		{Title: "buff/cache GiB", Lines: []chart.Line{{Name: "cache", Values: series(model.SeriesMemCache)}}, Style: s.CPUIRQ},
		{Title: "available GiB", Lines: []chart.Line{{Name: "avail", Values: series(model.SeriesMemAvailable)}}, Style: s.OK},
	}
	n := 3
	if t.Width < 90 {
		n = 2
	}
	if t.Width < 50 {
		n = 1
	}
	w := (t.Width - (n - 1)) / n
	parts := make([]string, 0, 2*n)
	for i := 0; i < n; i++ {
		sp := specs[i]
		sp.Width, sp.Height, sp.YMin, sp.YMax = w, h, 0, total
		if i > 0 {
			parts = append(parts, " ")
		}
		parts = append(parts, chart.Render(sp))
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, parts...)
}

// --- lower panel -------------------------------------------------------------

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
		{"OOMKILL", 8, func(c *model.MemCgroup) string { return strconv.FormatUint(c.OOMKills, 10) }},
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

// Explain implements common.Explainer.
func (t *Tab) Explain() [][2]string {
	out := [][2]string{
		{"used", "total − available, as free(1) computes it (/proc/meminfo MemTotal − MemAvailable)"},
		{"buff/cache", "Buffers + Cached + SReclaimable: page cache and reclaimable kernel caches. Mostly free-able on demand: a full cache is not a problem"},
		{"avail", "MemAvailable: the kernel's estimate of memory that can be allocated without swapping. The number to watch"},
		{"swap si so", "swap space in use (/proc/meminfo) and pages swapped in / out per second (pswpin, pswpout in /proc/vmstat); vmstat's si/so show the same in KiB/s (× 4)"},
		{"bi bo", "KiB read from / written to block devices per second (pgpgin, pgpgout; vmstat bi/bo)"},
		{"faults major", "page faults per second, and major faults (needed I/O) (pgfault, pgmajfault; sar -B)"},
		{"scan steal", "pages scanned and reclaimed per second in all (pgscan_anon+pgscan_file), and of those by kswapd (background) and directly by allocating tasks (pgscan_kswapd, pgscan_direct; sar -B). Direct reclaim means allocations stall: memory is saturated. The rest is reclaim forced by a cgroup's memory limit, which the kernel counts only in the total"},
		{"refault", "evicted pages that were needed again (workingset_refault_*): sustained refaults are thrashing"},
		{"OOM kills", "the kernel's oom_kill counter (/proc/vmstat); an increase stays highlighted for 5 minutes"},
		{"PSI mem", "/proc/pressure/memory: % of time some (full: all) tasks stalled on memory, over 10/60/300 s"},
		{"watermarks", "per zone free pages vs min/low/high (/proc/zoneinfo): below low kswapd wakes; below min allocations reclaim directly"},
		{"v", "switches the lower panel: processes (sorted by RSS), memory cgroups (usage, working set = usage − inactive_file, limit, OOM kills, PSI), slab caches (slabtop -s c; root only), zones"},
	}
	return append(out, t.ColumnHelp()...)
}
