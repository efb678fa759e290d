package memtab

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/prochist"
)

// Thresholds at which the tab says something in words.
const (
	availLowPct  = 10.0            // MemAvailable under 10 % of RAM
	psiMemWarn   = 10.0            // % of the last 10 s some task stalled on memory
	majfltWarn   = 500.0           // major faults per second, system-wide
	refaultWarn  = 1000.0          // file refaults per second: thrashing
	oomStickyFor = 5 * time.Minute // an OOM kill stays on screen this long
)

// Alerts returns the memory thresholds crossed at time now, in words; the
// first ones are the most serious.
func Alerts(m *model.Memory, now time.Time) []common.Alert { return AlertsWithEvents(m, nil, now) }

// AlertsWithEvents is Alerts with the OOM kills named from the event log
// (oom.go).
func AlertsWithEvents(m *model.Memory, events *model.EventLogView, now time.Time) []common.Alert {
	if m == nil {
		return nil
	}
	out := oomAlerts(m, events, now)
	warn := func(text string) { out = append(out, common.Alertf(common.Warn, text)) }
	if m.VM.ScanDirectPerS.OK && m.VM.ScanDirectPerS.V > 0 {
		warn("direct reclaim " + common.Count(m.VM.ScanDirectPerS.V) + " pages/s: allocations stall reclaiming memory themselves")
	}
	// Reclaim that is neither kswapd's nor direct is a cgroup at its
	// memory limit reclaiming its own pages (the kernel counts it only in
	// the totals).
	top := model.TopRefaulting(m.Cgroups, 2)
	if all := m.VM.ScanAllPerS; all.OK {
		if limit := all.V - m.VM.ScanKswapdPerS.Or(0) - m.VM.ScanDirectPerS.Or(0); limit > 0 {
			// The cgroup's name first: at 80 columns the line is cut.
			who := ": a cgroup at its memory limit reclaims"
			if len(top) > 0 {
				who = ", most refaults in " + refaulters(top)
			}
			warn("cgroup limit reclaim " + common.Count(limit) + " pages/s" + who + " (v: cgroups)")
		}
	}
	si, so := m.VM.SwapInPagesPerS.Or(0), m.VM.SwapOutPagesPerS.Or(0)
	if si+so > 0 {
		warn("swapping: si " + common.Count(si) + " so " + common.Count(so) + " pages/s")
	}
	for _, z := range m.Zones {
		if state, level := zoneState(z); level >= 2 {
			warn("node" + strconv.Itoa(z.Node) + " " + z.Zone + " free pages " + state)
		}
	}
	if m.AvailableBytes.OK && m.TotalBytes > 0 && m.AvailableBytes.V*100/float64(m.TotalBytes) < availLowPct {
		warn("available " + common.Bytes(uint64(m.AvailableBytes.V)) + " is under 10% of RAM")
	}
	if m.PSI != nil && m.PSI.Some.Avg10 > psiMemWarn {
		warn("memory pressure " + common.Fixed2(m.PSI.Some.Avg10) + "%: tasks stalled on memory in the last 10 s")
	}
	if m.VM.RefaultFilePerS.OK && m.VM.RefaultFilePerS.V > refaultWarn {
		// The machine-wide rate may be one cgroup's thrashing against its
		// own limit with plenty free elsewhere: name it.
		where := ""
		if len(top) > 0 {
			where = ", most in " + refaulters(top)
		}
		warn("refaults " + common.Count(m.VM.RefaultFilePerS.V) + "/s" + where + ": evicted pages are needed again (thrashing)")
	}
	if m.VM.MajorFaultsPerS.OK && m.VM.MajorFaultsPerS.V > majfltWarn {
		warn("major faults " + common.Count(m.VM.MajorFaultsPerS.V) + "/s: pages read back from disk or swap (sort by MAJF/s)")
	}
	return out
}

// refaulters names cgroups with their refault rates, and "at its limit"
// for one whose usage is within 5 % of its limit ("/x 2.9k/s at its 512M
// limit, /y 300/s"). Alertf sanitizes the paths.
func refaulters(cgs []*model.MemCgroup) string {
	var b []byte
	for i, c := range cgs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, c.Path+" "+common.Count(c.RefaultPerS().V)+"/s"...)
		if c.LimitBytes.OK && c.LimitBytes.V > 0 && float64(c.UsageBytes) >= 0.95*c.LimitBytes.V {
			b = append(b, " at its "+common.OptBytes(c.LimitBytes)+" limit"...)
		}
	}
	return string(b)
}

// growthWarn is the RSS growth over the growth window that reads as a
// leak (the mem-leak demo grows 1.2G a minute).
const growthWarn = 100 << 20

// GrowthAlerts names the processes whose RSS grew by growthWarn or more
// over the growth window and is still rising (a leak, not a burst at
// start-up that is over), the largest growth first.
func GrowthAlerts(procs []model.Process, tr *prochist.Tracker) []common.Alert {
	if tr == nil {
		return nil
	}
	type grower struct {
		p *model.Process
		g prochist.Growth
	}
	var gs []grower
	for i := range procs {
		if g := tr.Growth(procs[i].Key()); g.OK && g.Rising && g.Bytes >= growthWarn {
			gs = append(gs, grower{&procs[i], g})
		}
	}
	slices.SortFunc(gs, func(a, b grower) int { return cmp.Compare(b.g.Bytes, a.g.Bytes) })
	out := make([]common.Alert, 0, len(gs))
	for _, x := range gs {
		out = append(out, common.Alertf(common.Warn, "RSS of "+x.p.Comm+" grew "+common.Bytes(uint64(x.g.Bytes))+" in "+
			spanWords(x.g.Span)+" ("+SignedBytes(x.g.PerMinute)+"/min, pid "+strconv.Itoa(int(x.p.PID))+"): a leak? sort by GROW/m"))
	}
	return out
}

// spanWords is a span as the warning says it: "45 s", "2 min".
func spanWords(d time.Duration) string {
	if d < 90*time.Second {
		return strconv.Itoa(int(d.Round(time.Second).Seconds())) + " s"
	}
	return strconv.Itoa(int(d.Round(time.Minute).Minutes())) + " min"
}

// allAlerts is every memory warning of the sample: the system's, then the
// processes whose RSS is climbing.
func (t *Tab) allAlerts(s *model.Sample) []common.Alert {
	return append(AlertsWithEvents(s.Memory, s.Events, s.Time), GrowthAlerts(s.Processes, t.Ctx.Procs)...)
}

func (t *Tab) alerts(m *model.Memory, alerts []common.Alert, lines int) []string {
	return t.WarningLines(alerts, lines, allClear(m)+", no RSS growing 100M in 2 min")
}

// Warnings implements common.Warner.
func (t *Tab) Warnings() []common.Alert {
	if s := t.Sample(); s != nil {
		return t.allAlerts(s)
	}
	return nil
}
