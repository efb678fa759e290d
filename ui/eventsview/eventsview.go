// Package eventsview renders the kernel-event data of issue 10 as plain
// lines: the short-lived-process summary and the CPU gap (for the CPU tab),
// run-queue latency, and an execsnoop/exitsnoop-like event log with a
// filter. It holds no state and imports no terminal library, so any tab can
// call it (the CPU tab is being reworked; it will call these later). Every
// untrusted text goes through model.Sanitize, and every line is fitted to
// the width.
package eventsview

import (
	"fmt"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// ShortLivedLines is the short-lived summary: counts and exec rate for the
// interval and the minute, the top commands, and the CPU-gap hint.
func ShortLivedLines(sl *model.ShortLived, width int) []string {
	if sl == nil {
		return []string{common.Fit("short-lived processes: –", width)}
	}
	var out []string
	add := func(format string, a ...any) { out = append(out, common.Fit(fmt.Sprintf(format, a...), width)) }
	cpu := func(w model.ShortLivedWindow) string {
		if !w.CPUS.OK {
			return "CPU –"
		}
		return fmt.Sprintf("CPU %.2f s", w.CPUS.V)
	}
	add("short-lived: %d this interval (%s/s exec, %s), %d last minute (%s/s exec, %s)",
		sl.Interval.Count, common.OptFloat(sl.Interval.ExecPerS, 0), cpu(sl.Interval),
		sl.Minute.Count, common.OptFloat(sl.Minute.ExecPerS, 0), cpu(sl.Minute))
	top := func(label string, cs []model.CommUse) {
		if len(cs) == 0 {
			return
		}
		parts := make([]string, len(cs))
		for i, c := range cs {
			parts[i] = fmt.Sprintf("%s ×%d %.2fs", model.Sanitize(c.Comm), c.Count, c.CPUS)
		}
		add("  %s: %s", label, strings.Join(parts, ", "))
	}
	top("top by count (minute)", sl.Minute.TopByCount)
	top("top by CPU (minute)", sl.Minute.TopByCPU)
	if sl.CPUGap.Hint != "" {
		add("  %s", sl.CPUGap.Hint)
	}
	if sl.Note != "" {
		add("  %s", sl.Note)
	}
	return out
}

// RunQLatLines is the run-queue latency line and its warning.
func RunQLatLines(r *model.RunQLat, width int) []string {
	if r == nil {
		return []string{common.Fit("run-queue latency: – (needs eBPF; see %WAIT and CPU pressure)", width)}
	}
	us := func(f model.Float) string {
		if !f.OK {
			return "–"
		}
		return model.FormatUs(f.V)
	}
	out := []string{common.Fit(fmt.Sprintf("run-queue latency: p50 %s p99 %s mean %s over %d waits (%s)",
		us(r.P50Us), us(r.P99Us), us(r.MeanUs), r.Waits, r.Tier), width)}
	if r.Warning != "" {
		out = append(out, common.Fit("  ! "+r.Warning, width))
	}
	return out
}

// EventLines renders the newest events matching filter (a substring of
// the rendered line, case-insensitive; "" matches all), newest last, at
// most max lines.
func EventLines(v *model.EventLogView, filter string, max, width int) []string {
	if v == nil || max <= 0 {
		return nil
	}
	filter = strings.ToLower(filter)
	var out []string
	for i := v.Len() - 1; i >= 0 && len(out) < max; i-- {
		line := EventLine(v.At(i))
		if filter != "" && !strings.Contains(strings.ToLower(line), filter) {
			continue
		}
		out = append(out, common.Fit(line, width))
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// EventLine is one event as execsnoop/exitsnoop/oomkill print it.
func EventLine(ev model.Event) string {
	head := fmt.Sprintf("%s %-8s %7d %7d %-15s", ev.Time.Format("15:04:05.000"), ev.Kind, ev.PID, ev.PPID, model.Sanitize(ev.Comm))
	switch d := ev.Data.(type) {
	case *model.ExecData:
		args := make([]string, len(d.Args))
		for i, a := range d.Args {
			args[i] = model.Sanitize(a)
		}
		s := head + " " + strings.Join(args, " ")
		if d.ArgsTruncated {
			s += " …"
		}
		return s
	case *model.ExitData:
		status := "exit " + common.OptFloat(d.ExitCode, 0)
		if d.Signal.OK {
			status = d.SignalName
		}
		cpu := common.OptFloat(d.CPUS, 3) + "s"
		if d.CPULowerBound && d.CPUS.OK {
			cpu = "≥" + cpu // what it used at the end is missing (the reason is in the JSON)
		}
		return fmt.Sprintf("%s %s  lived %s  cpu %s  peak %s", head, status,
			common.OptFloat(d.LifetimeS, 3)+"s", cpu, common.OptBytes(d.MaxRSSBytes))
	case *model.OOMKillData:
		return fmt.Sprintf("%s OOM kill: anon %s file %s shmem %s, cgroup %s limit %s", head,
			common.OptBytes(d.VictimAnonRSSBytes), common.OptBytes(d.VictimFileRSSBytes), common.OptBytes(d.VictimShmemRSSBytes),
			model.Sanitize(d.VictimCgroup), common.OptBytes(d.CgroupLimitBytes))
	case model.SlowIOData:
		return fmt.Sprintf("%s slow I/O: %s %s %s %.1f ms (sector %d)", head, model.Sanitize(d.Device), d.Op,
			common.Bytes(uint64(d.Bytes)), d.LatencyMS, d.Sector)
	case *model.NetTCPEventData:
		return fmt.Sprintf("%s %s:%d → %s:%d %s", head, model.Sanitize(d.LocalAddr), d.LocalPort,
			model.Sanitize(d.RemoteAddr), d.RemotePort, d.State)
	case *model.NetRetransmitBurst:
		return fmt.Sprintf("%s %d retransmits (%.0f/s), %d on this process's sockets, %d toward %s", head,
			d.Retransmits, d.PerS, d.TopProcessRetransmits, d.TopRemoteRetransmits, model.Sanitize(d.TopRemoteAddr))
	}
	return head
}
