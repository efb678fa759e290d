package model

import (
	"encoding/json"
	"time"
)

// Event is one discrete kernel event (a process exec or exit, an OOM kill,
// a slow I/O, a TCP retransmit) read from a ring buffer. Seq numbers are
// assigned by the EventLog, in arrival order, without gaps.
type Event struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// Source is the feature that produced it ("exec", "oom", ...); Kind
	// what happened.
	Source string `json:"source"`
	Kind   string `json:"kind"`
	PID    int32  `json:"pid"`
	PPID   int32  `json:"ppid"`
	// StartTicks is the process's start time in USER_HZ ticks after boot
	// (field 22 of /proc/PID/stat): with PID, the ProcKey that joins the
	// event to the process table. 0 when unknown.
	StartTicks uint64 `json:"start_ticks"`
	// Comm is untrusted text (views and JSON escape it).
	Comm string `json:"comm"`
	// Data is the source's own record, typed per kind (*ExecData,
	// *ExitData, *OOMKillData); it must be immutable once the event is
	// queued. The JSON form (MarshalJSON, kevents.go) puts its keys
	// beside the common ones.
	Data any `json:"data,omitempty"`
}

// EventLoss counts, per source, what did not reach the log. The two kinds
// are kept apart because they have different fixes: a kernel-side reserve
// failure means the ring buffer is too small for the event rate, a queue
// overflow means vitals' reader fell behind.
type EventLoss struct {
	Source string `json:"source"`
	// KernelDropped: bpf_ringbuf_reserve failed (the ring buffer was full).
	KernelDropped uint64 `json:"kernel_dropped"`
	// QueueDropped: read from the ring buffer, but the bounded queue
	// between the reader and the tick was full.
	QueueDropped uint64 `json:"queue_dropped"`
	// Malformed: records that could not be decoded.
	Malformed uint64 `json:"malformed"`
}

// DefaultEventLogCapacity is how many events the log keeps (older ones age
// out; they were published in earlier frames).
const DefaultEventLogCapacity = 8192

// EventLog is the bounded log of kernel events with sequence numbers. Only
// the collector writes it, once per frame; frames carry immutable views.
type EventLog struct {
	events  ring[Event]
	nextSeq uint64
	loss    map[string]EventLoss
	order   []string // sources in first-seen order, for a stable view
}

// NewEventLog makes a log keeping capacity events.
func NewEventLog(capacity int) *EventLog {
	if capacity <= 0 {
		capacity = DefaultEventLogCapacity
	}
	return &EventLog{events: ring[Event]{capacity: capacity}, nextSeq: 1, loss: map[string]EventLoss{}}
}

// Append numbers ev and adds it.
func (l *EventLog) Append(ev Event) {
	ev.Seq = l.nextSeq
	l.nextSeq++
	l.events.append(ev)
}

// SetLoss records a source's loss counters (cumulative since it started).
func (l *EventLog) SetLoss(loss EventLoss) {
	if _, ok := l.loss[loss.Source]; !ok {
		l.order = append(l.order, loss.Source)
	}
	l.loss[loss.Source] = loss
}

// View freezes the log for a frame.
func (l *EventLog) View() *EventLogView {
	v := &EventLogView{events: l.events.view(), NextSeq: l.nextSeq}
	for _, src := range l.order {
		v.Loss = append(v.Loss, l.loss[src])
	}
	return v
}

// EventLogView is the event log as one frame saw it.
type EventLogView struct {
	events ringView[Event]
	// NextSeq is the number the next event will get: the events of a
	// frame are those with Seq at or above the previous frame's NextSeq.
	NextSeq uint64      `json:"next_seq"`
	Loss    []EventLoss `json:"loss"`
}

// Len is the number of events retained.
func (v *EventLogView) Len() int { return v.events.Len() }

// At returns the i-th retained event, 0 being the oldest.
func (v *EventLogView) At(i int) Event { return v.events.At(i) }

// Dropped is the total of every source's kernel and queue drops so far.
func (v *EventLogView) Dropped() uint64 {
	var n uint64
	for _, l := range v.Loss {
		n += l.KernelDropped + l.QueueDropped
	}
	return n
}

// Key is the process the event is about.
func (e *Event) Key() ProcKey { return ProcKey{PID: e.PID, StartTicks: e.StartTicks} }

// Since appends to dst the retained events with Seq >= seq, oldest first.
func (v *EventLogView) Since(seq uint64, dst []Event) []Event {
	n := v.events.Len()
	if n == 0 {
		return dst
	}
	first := v.events.At(0).Seq
	start := 0
	if seq > first {
		start = int(min(seq-first, uint64(n)))
	}
	for i := start; i < n; i++ {
		dst = append(dst, v.events.At(i))
	}
	return dst
}

// MarshalJSON writes the retained events with the counters, so a snapshot
// or a recording holds the events themselves.
func (v *EventLogView) MarshalJSON() ([]byte, error) {
	out := struct {
		NextSeq uint64      `json:"next_seq"`
		Loss    []EventLoss `json:"loss"`
		Events  []Event     `json:"events"`
	}{v.NextSeq, v.Loss, v.Since(0, make([]Event, 0, v.Len()))}
	return json.Marshal(out)
}
