package ui

import (
	"strconv"
	"time"

	"charm.land/bubbles/v2/key"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/eventsview"
)

// The events strip (issue 10 items 4 and 5): the most recent events worth
// knowing (eventsview.Notable: OOM kills today) stay in every tab's header
// line until acknowledged with AckKey. An OOM kill the kernel counted but
// no event named (no eBPF and no readable kernel log) is shown too, with
// its victim unknown.

// AckKey acknowledges the events in the header strip. Not "a": the Disk
// tab's "show idle devices".
const AckKey = "A"

// strip is what the header shows of unacknowledged notable events.
type strip struct {
	// ackSeq: events with a lower Seq are acknowledged.
	ackSeq uint64
	// oomBase is the kernel's oom_kill counter when last acknowledged (or
	// when vitals started); based says it was read.
	oomBase uint64
	based   bool

	// From the snapshot on screen.
	events    []model.Event // unacknowledged notable events, oldest first
	oomCount  uint64        // the counter's kills since oomBase
	lastOOM   time.Time     // Memory.LastOOMKill
	nextSeq   uint64
	oomCursor uint64
}

func newAckKey() key.Binding {
	return key.NewBinding(key.WithKeys(AckKey), key.WithHelp(AckKey, "acknowledge header events"))
}

// observe reads a delivered snapshot.
func (st *strip) observe(s *model.Sample) {
	if s == nil {
		return
	}
	if s.Memory != nil {
		if !st.based {
			st.oomBase, st.based = s.Memory.OOMKills, true
		}
		st.oomCursor = s.Memory.OOMKills
		st.oomCount = s.Memory.OOMKills - min(st.oomBase, s.Memory.OOMKills)
		st.lastOOM = s.Memory.LastOOMKill
	}
	st.events = model.Reuse(st.events)
	if s.Events != nil {
		st.nextSeq = s.Events.NextSeq
		st.events = eventsview.NotableSince(s.Events, st.ackSeq, st.events)
	}
}

// ack acknowledges everything shown; it reports whether there was any.
func (st *strip) ack() bool {
	had := st.pending() > 0
	st.ackSeq = max(st.ackSeq, st.nextSeq)
	st.oomBase = st.oomCursor
	st.events, st.oomCount = st.events[:0], 0
	return had
}

// pending is how many unacknowledged events there are: the notable events,
// or the counter's OOM kills if it counted more (kills no event named).
func (st *strip) pending() int {
	n := len(st.events)
	ooms := 0
	for i := range st.events {
		if st.events[i].Kind == model.EventOOMKill {
			ooms++
		}
	}
	if extra := int(st.oomCount) - ooms; extra > 0 {
		n += extra
	}
	return n
}

// text is the strip's words: the newest event, after how many there are
// when more than one ("OOM kill ×3, last 10:29:40 …"). The footer shows the
// ack key, so the strip spends its cells on the event.
func (st *strip) text() string {
	n := st.pending()
	if n == 0 {
		return ""
	}
	var s string
	if len(st.events) > 0 {
		s = eventsview.ShortText(st.events[len(st.events)-1])
	} else {
		s = "OOM kill"
		if !st.lastOOM.IsZero() {
			s += " " + st.lastOOM.Format("15:04:05")
		}
		s += " (victim unknown: needs eBPF or /dev/kmsg)"
	}
	if n > 1 {
		s = "×" + strconv.Itoa(n) + " events, last: " + s
	}
	return "! " + s
}
