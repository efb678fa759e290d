package eventsview

import (
	"strconv"
	"strings"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// Notable is whether an event is worth a place in the events strip (the
// header line every tab shows until acknowledged): damage done or a
// symptom one must not miss: OOM kills, slow I/Os and retransmit bursts.
func Notable(ev *model.Event) bool {
	switch ev.Kind {
	case model.EventOOMKill, model.EventRetransmitBurst, model.EventSlowIO:
		return true
	}
	return false
}

// NotableSince appends to dst the notable events with Seq >= seq, oldest
// first.
func NotableSince(v *model.EventLogView, seq uint64, dst []model.Event) []model.Event {
	if v == nil {
		return dst
	}
	n := v.Len()
	for i := 0; i < n; i++ {
		ev := v.At(i)
		if ev.Seq >= seq && Notable(&ev) {
			dst = append(dst, ev)
		}
	}
	return dst
}

// OOMKillsSince is the OOM kills in v at or after time since, newest
// first.
func OOMKillsSince(v *model.EventLogView, since time.Time) []model.Event {
	if v == nil {
		return nil
	}
	var out []model.Event
	for i := v.Len() - 1; i >= 0; i-- {
		ev := v.At(i)
		if ev.Kind == model.EventOOMKill && !ev.Time.Before(since) {
			out = append(out, ev)
		}
	}
	return out
}

// ShortText is an event in a few words for the strip: time, what, the
// process and, for an OOM kill, its cgroup. Escaped.
func ShortText(ev model.Event) string {
	t := ev.Time.Format("15:04:05")
	switch d := ev.Data.(type) {
	case *model.OOMKillData:
		s := "OOM kill " + t + " " + victim(ev, d)
		if d.VictimCgroup != "" {
			s += " in " + model.Sanitize(d.VictimCgroup)
		}
		return s
	case model.SlowIOData:
		return "slow I/O " + t + " " + model.Sanitize(d.Device) + " " + d.Op + " " + common.Bytes(uint64(d.Bytes)) + " " +
			strconv.FormatFloat(d.LatencyMS, 'f', 0, 64) + " ms " + model.Sanitize(ev.Comm) + " pid " + strconv.Itoa(int(ev.PID))
	case *model.NetRetransmitBurst:
		return retransmitBurstText(t, ev, d)
	}
	return ev.Kind + " " + t + " " + model.Sanitize(ev.Comm) + " pid " + strconv.Itoa(int(ev.PID))
}

// retransmitBurstText: "retransmits 44/s 10:29:40 curl pid 123 → 10.0.0.2".
func retransmitBurstText(t string, ev model.Event, d *model.NetRetransmitBurst) string {
	s := "retransmits " + strconv.FormatFloat(d.PerS, 'f', 0, 64) + "/s " + t
	if ev.PID != 0 {
		s += " " + model.Sanitize(ev.Comm) + " pid " + strconv.Itoa(int(ev.PID))
	}
	if d.TopRemoteAddr != "" {
		s += " → " + model.Sanitize(d.TopRemoteAddr)
	}
	return s
}

func victim(ev model.Event, d *model.OOMKillData) string {
	comm, pid := ev.Comm, ev.PID
	if d.VictimComm != "" {
		comm = d.VictimComm
	}
	if d.VictimPID != 0 {
		pid = d.VictimPID
	}
	return model.Sanitize(comm) + " pid " + strconv.Itoa(int(pid))
}

// OOMKillDetail is an OOM kill in full for the Memory tab: time, victim,
// its memory (anon, file, shmem), its cgroup and the cgroup's limit, and
// what triggered it. Escaped.
func OOMKillDetail(ev model.Event) string {
	d, ok := ev.Data.(*model.OOMKillData)
	if !ok {
		return ShortText(ev)
	}
	var b strings.Builder
	b.WriteString("OOM KILL " + ev.Time.Format("15:04:05") + ": " + victim(ev, d))
	cg := d.VictimCgroup
	if cg == "" {
		cg = "?"
	}
	b.WriteString(" in " + model.Sanitize(cg))
	if d.CgroupOf != "" && d.CgroupOf != "victim" {
		b.WriteString(" (" + d.CgroupOf + "'s)")
	}
	if d.CgroupLimitBytes.OK {
		b.WriteString(" limit " + common.OptBytes(d.CgroupLimitBytes))
	} else if d.Constraint == "global" {
		b.WriteString(" (whole machine out of memory)")
	}
	b.WriteString(", rss anon " + common.OptBytes(d.VictimAnonRSSBytes) + " file " + common.OptBytes(d.VictimFileRSSBytes) +
		" shmem " + common.OptBytes(d.VictimShmemRSSBytes))
	if d.TriggerComm != "" && d.TriggerPID != d.VictimPID {
		b.WriteString(", triggered by " + model.Sanitize(d.TriggerComm) + " pid " + strconv.Itoa(int(d.TriggerPID)))
	}
	src := ev.Source
	if src == model.SourceKmsg {
		b.WriteString(" (from the kernel log)")
	}
	return b.String()
}
