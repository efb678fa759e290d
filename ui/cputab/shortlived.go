package cputab

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// execStormPerS is the exec rate from which short-lived processes are worth
// a warning line on their own (a build or a busy shell script; a fork storm
// runs thousands a second).
const execStormPerS = 50

// ShortLivedAlerts says in words what short-lived processes do this
// interval: when their CPU explains the gap between the CPU total and the
// process table (the "CPU is busy but top shows nothing" case), the
// culprit first so that a line cut at 80 columns keeps it; when the exec
// rate is high; when events were lost. Untrusted names are escaped.
func ShortLivedAlerts(sl *model.ShortLived, cpu *model.CPU) []common.Alert {
	if sl == nil {
		return nil
	}
	var out []common.Alert
	iv, g := sl.Interval, sl.CPUGap
	win := iv.WindowS
	perS := func(cpuS float64) string {
		if win <= 0 {
			return common.Fixed2(cpuS) + " CPU-s"
		}
		return common.Fixed2(cpuS/win) + " CPUs"
	}
	missing := ""
	if g.GapS.OK && win > 0 {
		missing = common.Fixed2(g.GapS.V/win) + " CPUs"
	}
	switch {
	case g.Hint == "":
	case sl.Source == model.SourceScanner:
		forks := ""
		if cpu != nil && cpu.ForksPerS.OK {
			forks = "forks/s " + common.Count(cpu.ForksPerS.V) + "; "
		}
		out = append(out, common.Alertf(common.Warn, "the process table misses "+missing+": short-lived processes? ("+
			forks+"without eBPF those living less than an interval are not seen; e: event log)"))
	case g.ExplainedPct.OK && g.ExplainedPct.V >= model.GapExplainedPct && len(iv.TopByCPU) > 0:
		c := iv.TopByCPU[0]
		out = append(out, common.Alertf(common.Warn, "short-lived "+c.Comm+" ×"+strconv.Itoa(c.Count)+" use "+perS(c.CPUS)+
			": "+strconv.FormatFloat(g.ExplainedPct.V, 'f', 0, 64)+"% of the "+missing+" the table misses (e: event log)"))
	default:
		out = append(out, common.Alertf(common.Notice, g.Hint))
	}
	if iv.ExecPerS.OK && iv.ExecPerS.V >= execStormPerS {
		top := ""
		if len(iv.TopByCount) > 0 {
			top = ", most " + iv.TopByCount[0].Comm + " ×" + strconv.Itoa(iv.TopByCount[0].Count)
		}
		out = append(out, common.Alertf(common.Notice, "exec storm: "+common.Count(iv.ExecPerS.V)+" exec/s, "+
			strconv.Itoa(iv.Count)+" short-lived this interval"+top+" (e: event log)"))
	}
	if sl.Note != "" && sl.Source != model.SourceScanner {
		out = append(out, common.Alertf(common.Warn, sl.Note))
	}
	return out
}

// shortLivedLine is the one-line summary of short-lived processes: the
// interval's and the minute's counts and exec rates, then the minute's top
// commands by count and by CPU, fitted to the width.
func (t *Tab) shortLivedLine(sl *model.ShortLived) string {
	l := t.Label
	win := func(w model.ShortLivedWindow) string {
		s := strconv.Itoa(w.Count) + l(" (") + common.OptCount(w.ExecPerS) + l(" exec/s")
		if w.CPUS.OK {
			s += l(", ") + common.Fixed2(w.CPUS.V) + l(" CPU-s")
		}
		return s + l(")")
	}
	var b strings.Builder
	b.WriteString(l("short-lived ") + win(sl.Interval) + l("  1 min ") + win(sl.Minute))
	list := func(label string, cs []model.CommUse, cpu bool) {
		if len(cs) == 0 {
			return
		}
		parts := make([]string, 0, 3)
		for _, c := range cs[:min(len(cs), 3)] {
			if cpu {
				parts = append(parts, model.Sanitize(c.Comm)+" "+fmt.Sprintf("%.2fs", c.CPUS))
			} else {
				parts = append(parts, model.Sanitize(c.Comm)+" ×"+strconv.Itoa(c.Count))
			}
		}
		b.WriteString(l("  "+label+" ") + strings.Join(parts, ", "))
	}
	list("by count", sl.Minute.TopByCount, false)
	list("by CPU", sl.Minute.TopByCPU, true)
	if sl.Source == model.SourceScanner {
		b.WriteString(l("  (scanner: < 1 interval missed)"))
	}
	return b.String()
}
