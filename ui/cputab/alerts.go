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

// Alerts returns the thresholds crossed in this sample, in words.
func Alerts(cpu *model.CPU, procs []model.Process) []string {
	var out []string
	if cpu == nil {
		return nil
	}
	n := float64(max(cpu.Online, 1))
	if cpu.Load.One > loadPerCPUWarn*n {
		out = append(out, "load "+common.Fixed2(cpu.Load.One)+" > 0.7 × "+strconv.Itoa(cpu.Online)+" CPUs: demand is near or above capacity")
	}
	if cpu.ProcsRunning > uint64(cpu.Online) {
		out = append(out, "run queue "+strconv.FormatUint(cpu.ProcsRunning, 10)+" > "+strconv.Itoa(cpu.Online)+" CPUs: tasks wait for a CPU (see %WAIT)")
	}
	if cpu.CtxtPerS.OK && cpu.CtxtPerS.V > ctxtWarn {
		out = append(out, "context switches "+common.Count(cpu.CtxtPerS.V)+"/s > 10k/s: lock contention or too many threads (sort by CSW/s, NVCSW/s)")
	}
	if cpu.Total.IOWait > iowaitWarn {
		out = append(out, "iowait "+common.Pct(cpu.Total.IOWait)+"%: CPUs idle while waiting on storage")
	}
	if cpu.Total.Steal > stealWarn {
		out = append(out, "steal "+common.Pct(cpu.Total.Steal)+"%: the hypervisor gives this VM's CPU time to others")
	}
	if cpu.PSI != nil && cpu.PSI.Some.Avg10 > psiWarn {
		out = append(out, "CPU pressure "+common.Fixed2(cpu.PSI.Some.Avg10)+"%: tasks stalled waiting for CPU in the last 10 s")
	}
	var stuck []string
	for i := range procs {
		if procs[i].State == "D" {
			stuck = append(stuck, model.Sanitize(procs[i].Comm))
		}
	}
	if len(stuck) > 0 {
		sort.Strings(stuck)
		names := stuck
		if len(names) > 3 {
			names = names[:3]
		}
		w := strconv.Itoa(len(stuck)) + " process"
		if len(stuck) > 1 {
			w += "es"
		}
		out = append(out, w+" in D state (uninterruptible, usually waiting on disk): "+strings.Join(names, ", "))
	}
	return out
}

func (t *Tab) alerts(cpu *model.CPU, alerts []string, lines int) []string {
	if cpu == nil {
		return make([]string, max(lines, 0))
	}
	return t.Warnings(alerts, lines, "load < 0.7×CPUs, cs < 10k/s, iowait < 20%, steal < 10%, nothing in D state", nil)
}
