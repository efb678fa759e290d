package cputab

import (
	"sort"
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// Thresholds at which the tab says in words that something is wrong. They
// are the rules of thumb of the "60 seconds" checklist.
const (
	loadPerCPUWarn = 0.7    // load average above 0.7 x CPUs
	ctxtWarn       = 10_000 // context switches per second
	iowaitWarn     = 20.0   // % of CPU time idle with I/O outstanding
	stealWarn      = 10.0   // % of CPU time taken by the hypervisor
	psiWarn        = 10.0   // % of the last 10 s some task waited for a CPU
)

// Alerts returns the thresholds crossed in this sample, in words, facts
// first so that a line cut at 80 columns keeps them: saturation (tasks
// waiting) before the rules of thumb.
func Alerts(cpu *model.CPU, procs []model.Process) []common.Alert {
	if cpu == nil {
		return nil
	}
	var out []common.Alert
	add := func(s common.Severity, text string) { out = append(out, common.Alertf(s, text)) }
	if cpu.ProcsRunning > uint64(cpu.Online) {
		add(common.Warn, "run queue "+strconv.FormatUint(cpu.ProcsRunning, 10)+" > "+strconv.Itoa(cpu.Online)+" CPUs: tasks wait for a CPU (see WAIT%)")
	}
	var stuck []string
	for i := range procs {
		if procs[i].State == "D" {
			stuck = append(stuck, procs[i].Comm)
		}
	}
	if len(stuck) > 0 {
		sort.Strings(stuck)
		names := strings.Join(stuck[:min(len(stuck), 3)], ", ")
		if len(stuck) > 3 {
			names += " and " + strconv.Itoa(len(stuck)-3) + " others"
		}
		add(common.Warn, "D state: "+names+" (uninterruptible, usually waiting on disk)")
	}
	if cpu.Total.IOWait > iowaitWarn {
		add(common.Warn, "iowait "+common.Pct(cpu.Total.IOWait)+"%: CPUs idle while waiting on storage")
	}
	if cpu.Total.Steal > stealWarn {
		add(common.Warn, "steal "+common.Pct(cpu.Total.Steal)+"%: the hypervisor gives this VM's CPU time to others")
	}
	if cpu.PSI != nil && cpu.PSI.Some.Avg10 > psiWarn {
		add(common.Warn, "CPU pressure "+common.Fixed2(cpu.PSI.Some.Avg10)+"%: tasks stalled waiting for CPU in the last 10 s")
	}
	n := float64(max(cpu.Online, 1))
	if cpu.Load.One > loadPerCPUWarn*n {
		add(common.Notice, "load "+common.Fixed2(cpu.Load.One)+" > 0.7 × "+strconv.Itoa(cpu.Online)+" CPUs: demand is near or above capacity")
	}
	if cpu.CtxtPerS.OK && cpu.CtxtPerS.V > ctxtWarn {
		text := "context switches " + common.Count(cpu.CtxtPerS.V) + "/s > 10k/s"
		// Name the process that makes most of them, when one does.
		var top *model.Process
		for i := range procs {
			if top == nil || procs[i].VoluntaryCSPerS+procs[i].InvoluntaryCSPerS > top.VoluntaryCSPerS+top.InvoluntaryCSPerS {
				top = &procs[i]
			}
		}
		if top != nil {
			if n := top.VoluntaryCSPerS + top.InvoluntaryCSPerS; n >= cpu.CtxtPerS.V/2 {
				text += ", " + common.Count(n) + "/s by " + top.Comm + " pid " + strconv.Itoa(int(top.PID))
			}
		}
		add(common.Notice, text+": contention or too many threads (CSW/s)")
	}
	return out
}

func (t *Tab) alerts(cpu *model.CPU, alerts []common.Alert, lines int) []string {
	if cpu == nil {
		return make([]string, max(lines, 0))
	}
	return t.WarningLines(alerts, lines, "load < 0.7×CPUs, cs < 10k/s, iowait < 20%, steal < 10%, nothing in D state")
}

// Warnings implements common.Warner: the thresholds, with what short-lived
// processes explain (shortlived.go) first.
func (t *Tab) Warnings() []common.Alert {
	if s := t.Sample(); s != nil && s.CPU != nil {
		return append(ShortLivedAlerts(s.ShortLived, s.CPU), Alerts(s.CPU, s.Processes)...)
	}
	return nil
}
