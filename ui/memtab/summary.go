package memtab

import (
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

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
