package cputab

import (
	"strings"
	"testing"

	"github.com/vitals-dev/vitals/model"
)

// The ctxswitch-storm demo: 277k switches/s, 232k of them one process's
// threads; the warning names it. With nobody making half, it names no one.
func TestContextSwitchWarningNamesTheSwitcher(t *testing.T) {
	cpu := &model.CPU{Online: 2, CtxtPerS: model.Known(277_400)}
	proc := func(pid int32, comm string, vol, invol float64) model.Process {
		var p model.Process
		p.PID, p.Comm, p.VoluntaryCSPerS, p.InvoluntaryCSPerS = pid, comm, vol, invol
		return p
	}
	procs := []model.Process{proc(10, "vitals", 150, 5), proc(22418, "demo-cswitch\x1b[2J", 200_000, 31_700), proc(30, "go", 900, 100)}
	find := func(procs []model.Process) string {
		for _, a := range Alerts(cpu, procs) {
			if strings.HasPrefix(a.Text, "context switches") {
				return a.Text
			}
		}
		return ""
	}
	got := find(procs)
	if want := "context switches 277.4k/s > 10k/s, 231.7k/s by demo-cswitch"; !strings.HasPrefix(got, want) ||
		!strings.Contains(got, "pid 22418") || strings.Contains(got, "\x1b") {
		t.Errorf("warning %q, want it to start %q, name pid 22418 and escape the name", got, want)
	}
	procs[1].VoluntaryCSPerS = 100_000 // 132k of 277k: under half
	if got := find(procs); strings.Contains(got, " by ") || got == "" {
		t.Errorf("warning %q names a process that makes under half the switches", got)
	}
}
