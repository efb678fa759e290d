package memtab

import (
	"strconv"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/eventsview"
)

// oomAlerts are the OOM kills of the last oomStickyFor, one critical
// warning each, newest first, in detail from the event log (victim, its
// RSS, cgroup and limit); from the kernel's counter alone when the log has
// none of them (no eBPF and no readable kernel log).
func oomAlerts(m *model.Memory, events *model.EventLogView, now time.Time) []common.Alert {
	var out []common.Alert
	for _, ev := range eventsview.OOMKillsSince(events, now.Add(-oomStickyFor)) {
		out = append(out, common.Alert{Severity: common.Critical, Text: eventsview.OOMKillDetail(ev)})
	}
	if len(out) == 0 && !m.LastOOMKill.IsZero() && now.Sub(m.LastOOMKill) < oomStickyFor {
		why := "dmesg names it"
		if events != nil {
			why = "no kill event arrived (needs eBPF or a readable /dev/kmsg); dmesg names it"
		}
		out = append(out, common.Alertf(common.Critical, "OOM KILL at "+m.LastOOMKill.Format("15:04:05")+
			" ("+strconv.FormatUint(m.OOMKills, 10)+" so far): the kernel killed a process; "+why))
	}
	return out
}

// allClear is what the "ok:" line says was checked. It says "no OOM kill"
// only when the kernel's counter is 0: beside the summary's non-zero "OOM
// kills" it says when the last one was instead.
func allClear(m *model.Memory) string {
	oom := "no OOM kill"
	switch {
	case m == nil || m.OOMKills == 0:
	case !m.LastOOMKill.IsZero():
		oom = "last OOM kill " + m.LastOOMKill.Format("15:04:05") + " (" + strconv.FormatUint(m.OOMKills, 10) + " since boot)"
	default:
		oom = strconv.FormatUint(m.OOMKills, 10) + " OOM kills since boot, none since vitals started"
	}
	return "no direct reclaim, no swapping, " + oom + ", zones above low, available ≥ 10%"
}
