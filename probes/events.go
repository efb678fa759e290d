package probes

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"

	"github.com/vitals-dev/vitals/model"
)

// DefaultEventQueueLen bounds the events waiting between a ring-buffer
// reader and the next frame: at 1 s frames, 65,536 events a second.
const DefaultEventQueueLen = 1 << 16

// EventQueue is the bounded queue between a ring-buffer reader (which must
// never block: the kernel drops what the ring buffer cannot hold) and the
// collector, which drains it once per frame. What does not fit is counted
// as QueueDropped, never lost silently.
type EventQueue struct {
	source string
	mu     sync.Mutex
	buf    []model.Event
	head   int // index of the oldest queued event
	n      int // queued events
	// capacity is the most buf grows to: it starts small (each event is
	// a few hundred bytes, and 65,536 of them preallocated per source
	// were 14 MB of vitals' 30) and doubles when a burst needs it.
	capacity int
	loss     model.EventLoss
	// kernelDropped, when set, reads the BPF side's count of failed
	// ring-buffer reservations.
	kernelDropped func() (uint64, error)
	// upstream, when set, is the loss of the source this queue forwards
	// (a RingReader drained by a probe), added to this queue's own.
	upstream func() model.EventLoss
}

// NewEventQueue makes a queue holding up to capacity events for source.
func NewEventQueue(source string, capacity int) *EventQueue {
	if capacity <= 0 {
		capacity = DefaultEventQueueLen
	}
	return &EventQueue{source: source, buf: make([]model.Event, min(capacity, initialEventQueueLen)),
		capacity: capacity, loss: model.EventLoss{Source: source}}
}

// initialEventQueueLen is a queue's first size: a quiet second's events.
const initialEventQueueLen = 256

// grow doubles buf up to capacity, the queued events first in order.
func (q *EventQueue) grow() bool {
	if len(q.buf) >= q.capacity {
		return false
	}
	buf := make([]model.Event, min(2*len(q.buf), q.capacity))
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
	return true
}

// Push queues ev, or counts it as dropped when the queue is full. It
// reports whether ev was queued.
func (q *EventQueue) Push(ev model.Event) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == len(q.buf) && !q.grow() {
		q.loss.QueueDropped++
		return false
	}
	q.buf[(q.head+q.n)%len(q.buf)] = ev
	q.n++
	return true
}

// countMalformed counts a record that could not be decoded.
func (q *EventQueue) countMalformed() {
	q.mu.Lock()
	q.loss.Malformed++
	q.mu.Unlock()
}

// Drain implements EventSource: it moves every queued event to dst, oldest
// first.
func (q *EventQueue) Drain(dst []model.Event) []model.Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	for ; q.n > 0; q.n-- {
		dst = append(dst, q.buf[q.head])
		q.buf[q.head] = model.Event{}
		q.head = (q.head + 1) % len(q.buf)
	}
	return dst
}

// Loss implements EventSource.
func (q *EventQueue) Loss() model.EventLoss {
	var kernel uint64
	var kerr error
	if q.kernelDropped != nil {
		kernel, kerr = q.kernelDropped()
	}
	var up model.EventLoss
	if q.upstream != nil {
		up = q.upstream()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if kerr == nil {
		q.loss.KernelDropped = kernel
	}
	loss := q.loss
	loss.KernelDropped += up.KernelDropped
	loss.QueueDropped += up.QueueDropped
	loss.Malformed += up.Malformed
	return loss
}

// RingReader reads a BPF ring buffer continuously into an EventQueue. The
// BPF side counts its failed reservations in a map (dropsMap) that the
// reader sums when the frame asks for the losses.
type RingReader struct {
	*EventQueue
	rd        *ringbuf.Reader
	decode    func(raw []byte, ev *model.Event) bool
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// NewRingReader starts reading ring. decode turns one record into an event
// (false: malformed, counted). dropsMap, if not nil, is an array or per-CPU
// array whose first entry holds the BPF side's count of records it could not
// reserve (u64; per CPU summed).
func NewRingReader(source string, ring, dropsMap *ebpf.Map, queueLen int, decode func(raw []byte, ev *model.Event) bool) (*RingReader, error) {
	rd, err := ringbuf.NewReader(ring)
	if err != nil {
		return nil, fmt.Errorf("%s: open ring buffer: %w", source, err)
	}
	r := &RingReader{EventQueue: NewEventQueue(source, queueLen), rd: rd, decode: decode, done: make(chan struct{})}
	if dropsMap != nil {
		r.kernelDropped = func() (uint64, error) { return sumCounter(dropsMap) }
	}
	go r.loop()
	return r, nil
}

func (r *RingReader) loop() {
	defer close(r.done)
	var rec ringbuf.Record
	for {
		if err := r.rd.ReadInto(&rec); err != nil {
			if errors.Is(err, ringbuf.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return
			}
			continue
		}
		var ev model.Event
		if !r.decode(rec.RawSample, &ev) {
			r.countMalformed()
			continue
		}
		if ev.Source == "" {
			ev.Source = r.source
		}
		r.Push(ev)
	}
}

// Close stops the reader and waits for its goroutine. Safe to call more
// than once (the probe that made it and the collector both close it).
func (r *RingReader) Close() error {
	r.closeOnce.Do(func() {
		r.closeErr = r.rd.Close()
		<-r.done
	})
	return r.closeErr
}

// EventSourcer is implemented by probes that produce kernel events: the
// collector drains their sources every frame (see EventSources).
type EventSourcer interface {
	EventSources() []EventSource
}

// EventSources gathers the event sources of every probe that has some,
// in probe order: what NewCollector takes.
func EventSources(ps []Probe) []EventSource {
	var out []EventSource
	for _, p := range ps {
		if es, ok := p.(EventSourcer); ok {
			out = append(out, es.EventSources()...)
		}
	}
	return out
}

// sumCounter reads entry 0 of an array map of u64 counters, summed over
// CPUs for a per-CPU array.
func sumCounter(m *ebpf.Map) (uint64, error) {
	var key uint32
	if m.Type() == ebpf.PerCPUArray {
		var vals []uint64
		if err := m.Lookup(&key, &vals); err != nil {
			return 0, err
		}
		var sum uint64
		for _, v := range vals {
			sum += v
		}
		return sum, nil
	}
	var raw [8]byte
	if err := m.Lookup(&key, &raw); err != nil {
		return 0, err
	}
	return binary.NativeEndian.Uint64(raw[:]), nil
}
