package eventsview

import (
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

func TestEventLinesFilterEscapeAndFit(t *testing.T) {
	log := model.NewEventLog(16)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	log.Append(model.Event{Time: t0, Kind: model.EventExec, PID: 10, PPID: 1, Comm: "evil\x1b[2J",
		Data: &model.ExecData{Args: []string{"evil", "\x1b]0;pwned\x07"}}})
	exit := &model.ExitData{LifetimeS: model.Known(0.002), CPUS: model.Known(0.001), MaxRSSBytes: model.Known(1 << 20)}
	exit.ExitStatus(9)
	log.Append(model.Event{Time: t0, Kind: model.EventExit, PID: 10, PPID: 1, Comm: "evil", Data: exit})
	log.Append(model.Event{Time: t0, Kind: model.EventOOMKill, PID: 20, Comm: "hog",
		Data: &model.OOMKillData{VictimCgroup: "/box", CgroupLimitBytes: model.Known(32 << 20)}})
	v := log.View()
	all := EventLines(v, "", 10, 120)
	if len(all) != 3 {
		t.Fatalf("%d lines", len(all))
	}
	for _, l := range all {
		if strings.ContainsAny(l, "\x1b\x07") || common.Width(l) > 120 {
			t.Errorf("unsafe or too wide: %q", l)
		}
	}
	if !strings.Contains(all[1], "SIGKILL") || !strings.Contains(all[2], "OOM kill") {
		t.Errorf("lines %q", all)
	}
	if got := EventLines(v, "oom", 10, 120); len(got) != 1 || !strings.Contains(got[0], "hog") {
		t.Errorf("filter: %q", got)
	}
	if got := EventLines(v, "", 1, 40); len(got) != 1 || common.Width(got[0]) > 40 {
		t.Errorf("max/width: %q", got)
	}
}

func TestShortLivedLines(t *testing.T) {
	sl := &model.ShortLived{Source: model.SourceProcEvents,
		Interval: model.ShortLivedWindow{Count: 3, ExecPerS: model.Known(3), CPUS: model.Known(0.5)},
		Minute:   model.ShortLivedWindow{Count: 9, ExecPerS: model.Known(2), CPUS: model.Known(1), TopByCount: []model.CommUse{{Comm: "tiny\x1b", Count: 9, CPUS: 1}}},
		CPUGap:   model.CPUGap{Hint: "short-lived processes explain 90%"}}
	lines := ShortLivedLines(sl, 200)
	if len(lines) < 3 || !strings.Contains(lines[0], "3 this interval") || strings.Contains(strings.Join(lines, ""), "\x1b") {
		t.Errorf("%q", lines)
	}
	if got := ShortLivedLines(nil, 80); len(got) != 1 {
		t.Errorf("%q", got)
	}
}

func TestRetransmitBurstIsNotable(t *testing.T) {
	ev := model.Event{Time: time.Date(2026, 1, 2, 10, 29, 40, 0, time.UTC), Source: "net", Kind: model.EventRetransmitBurst, PID: 123, Comm: "curl\x1b[2J",
		Data: &model.NetRetransmitBurst{Retransmits: 88, PerS: 44, TopProcessRetransmits: 80, TopRemoteAddr: "10.0.0.2", TopRemoteRetransmits: 85}}
	if !Notable(&ev) {
		t.Fatal("a retransmit burst must reach the strip")
	}
	if got, want := ShortText(ev), `retransmits 44/s 10:29:40 curl\e[2J pid 123 → 10.0.0.2`; got != want {
		t.Errorf("ShortText = %q, want %q", got, want)
	}
	single := model.Event{Source: "net", Kind: model.NetKindRetransmit, Data: &model.NetTCPEventData{}}
	if Notable(&single) {
		t.Error("a single retransmit must not take the strip")
	}
	if line := EventLine(ev); !strings.Contains(line, "88 retransmits (44/s), 80 on this process's sockets, 85 toward 10.0.0.2") {
		t.Errorf("EventLine = %q", line)
	}
}
