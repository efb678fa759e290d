package cputab

import (
	"sort"
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

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
