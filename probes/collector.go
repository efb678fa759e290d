package probes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// DefaultBudget is the share of the interval a frame may take before the
// probes still running are left behind (their part carried over, marked
// stale) so that the frame is published on time.
const DefaultBudget = 0.8

// Collector runs every probe once per interval, in order, and publishes one
// Sample per interval with one Sample.Time. Each probe runs in its own
// goroutine so that one that overruns its budget (a scan of 10,000
// processes on a loaded machine, a slow /sys file) does not stall the frame:
// the frame goes out with that probe's previous part, marked stale with its
// age, and the late result lands in the next frame.
type Collector struct {
	store    *model.Store
	interval time.Duration
	// budget is how long after the frame starts the collector waits for
	// probes.
	budget time.Duration
	probes []*probeRunner
	events []EventSource
	log    *model.EventLog
	fwd    []model.Event // reused between frames
	// results is shared by every probe's goroutine: one buffered place
	// per probe, so a late probe never blocks on a collector that has
	// moved on.
	results chan probeResult

	// mu is held by a frame and by Close, so Close never tears probes
	// down under a running frame.
	// afterFirst runs once, in its own goroutine, when Run has published
	// its first frame (main loads eBPF then, so that it does not delay
	// the first rows on screen).
	afterFirst func()
	// mode, when set, words the header's mode line from the frame's
	// feature reports (they change when eBPF loads late or a tier falls
	// back).
	mode func([]model.Feature) string
	// onFrame is called after each publish with the published sample
	// (read it, do not write it).
	onFrame func(*model.Sample)

	mu        sync.Mutex
	closeOnce sync.Once
	closed    chan struct{}
	isClosed  bool
}

// EventSource is a producer of kernel events (a ring-buffer reader). It
// queues events continuously; the collector drains it once per frame.
type EventSource interface {
	// Drain appends what was queued since the last call to dst.
	Drain(dst []model.Event) []model.Event
	// Loss is the source's loss counters so far.
	Loss() model.EventLoss
}

// probeRunner is one probe's goroutine and what the collector remembers of
// it between frames.
type probeRunner struct {
	p     Probe
	index int
	after []int // runners whose parts this one reads: they finish first
	jobs  chan *Tick
	busy  bool      // a Collect is running (possibly since an earlier frame)
	since time.Time // when the running Collect started
	// prevNow is Now of the previous completed Collect: the start of the
	// next rate window.
	prevNow time.Time
	// lastPart is when the part now in the store was read; zero: never.
	lastPart time.Time
}

type probeResult struct {
	index int
	now   time.Time
	part  Part
	err   error
	took  time.Duration
}

// NewCollector makes a collector over probes, in collection order; after
// gives, for each probe, the names of the probes it runs after (nil: none).
// Probes with nothing to wait for start together at the frame's start, so
// their rate windows are the interval to within scheduling noise; a probe
// that reads another's part starts when that part is in. It takes
// ownership: Close stops and closes them.
func NewCollector(store *model.Store, interval time.Duration, probes []Probe, after [][]string, events []EventSource) *Collector {
	c := &Collector{
		store:    store,
		interval: interval,
		budget:   time.Duration(float64(interval) * DefaultBudget),
		events:   events,
		closed:   make(chan struct{}),
		results:  make(chan probeResult, len(probes)),
	}
	if len(events) > 0 {
		c.log = model.NewEventLog(0)
	}
	byName := map[string]int{}
	for i, p := range probes {
		byName[p.Name()] = i
	}
	for i, p := range probes {
		r := &probeRunner{p: p, index: i, jobs: make(chan *Tick, 1)}
		if i < len(after) {
			for _, name := range after[i] {
				if j, ok := byName[name]; ok && j < i {
					r.after = append(r.after, j)
				}
			}
		}
		c.probes = append(c.probes, r)
		go c.loop(r)
	}
	return c
}

// SetBudget changes how long a frame waits for its probes.
func (c *Collector) SetBudget(d time.Duration) { c.budget = d }

// AfterFirstFrame makes Run call f, in its own goroutine, once its first
// frame is published. Call before Run.
func (c *Collector) AfterFirstFrame(f func()) { c.afterFirst = f }

// OnFrame makes every frame call f with the sample just published, on the
// collector's goroutine (keep it short). Call before Run.
func (c *Collector) OnFrame(f func(*model.Sample)) { c.onFrame = f }

// SetMode makes every frame's Host.Mode mode(frame's features). Call before
// Run.
func (c *Collector) SetMode(mode func([]model.Feature) string) { c.mode = mode }

func (c *Collector) loop(r *probeRunner) {
	for t := range r.jobs {
		start := time.Now()
		part, err := r.p.Collect(t)
		c.results <- probeResult{index: r.index, now: t.Now, part: part, err: err, took: time.Since(start)}
	}
}

// Run collects a frame now and then every interval until ctx is done.
func (c *Collector) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	c.Frame(time.Now())
	if c.afterFirst != nil {
		go c.afterFirst()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.closed:
			return
		case now := <-t.C:
			c.Frame(now)
		}
	}
}

// Frame runs every probe once and publishes one frame with Time start. It
// returns when every probe has finished or the budget from start is spent;
// a probe still running then is left to finish in the background, and its
// part in this frame is the last one it produced, marked stale.
func (c *Collector) Frame(start time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.isClosed {
		return
	}
	next := c.store.Current()
	next.Time = start
	next.Errors = nil
	status := make([]model.ProbeStatus, len(c.probes))
	const (
		pending = iota
		running // started this frame
		done
	)
	state := make([]int, len(c.probes))
	for i, r := range c.probes {
		status[i].Name = r.p.Name()
		if r.busy { // still running from an earlier frame
			state[i] = running
		}
	}
	ready := func(r *probeRunner) bool {
		for _, j := range r.after {
			if state[j] != done {
				return false
			}
		}
		return true
	}
	startReady := func() {
		for i, r := range c.probes {
			if state[i] != pending || !ready(r) {
				continue
			}
			frame := next // a copy: later parts are applied to next, never to what a probe reads
			now := time.Now()
			r.busy, r.since = true, now
			state[i] = running
			r.jobs <- &Tick{Now: now, Frame: &frame}
		}
	}
	startReady()
	timer := time.NewTimer(max(time.Until(start.Add(c.budget)), 0))
	defer timer.Stop()
	for slices.Contains(state, running) {
		select {
		case res := <-c.results:
			r := c.probes[res.index]
			r.busy = false
			c.apply(r, res, &next, &status[res.index], start)
			state[res.index] = done
			startReady()
			continue
		case <-timer.C:
		}
		break
	}
	for i, r := range c.probes {
		st := &status[i]
		if state[i] == done && !st.Stale {
			continue
		}
		st.Stale = true
		st.AgeS = c.age(r, start)
		switch {
		case st.Error != "":
		case r.busy:
			st.DurationMS = ms(time.Since(r.since))
			st.Error = fmt.Sprintf("still reading after %.0f ms (frame budget %.0f ms): its part is from earlier", st.DurationMS, ms(c.budget))
		case state[i] == pending:
			st.Error = "not run: a probe it reads from did not finish in time"
		}
	}
	var features, eventsTier []model.Feature
	for i, r := range c.probes {
		if st := status[i]; st.Error != "" {
			if next.Errors == nil {
				next.Errors = map[string]string{}
			}
			next.Errors[st.Name] = st.Error
		}
		if fr, ok := r.p.(FeatureReporter); ok {
			features = append(features, fr.Features()...)
			if _, ok := r.p.(EventSourcer); ok {
				eventsTier = append(eventsTier, fr.Features()...)
			}
		}
	}
	next.Probes = status
	next.Features = features
	next.EventsTier = eventsTier
	if c.mode != nil {
		next.Host.Mode = c.mode(features)
	}
	if c.log != nil {
		for _, src := range c.events {
			c.fwd = src.Drain(c.fwd[:0])
			for _, ev := range c.fwd {
				c.log.Append(ev)
			}
			c.log.SetLoss(src.Loss())
		}
		clear(c.fwd) // do not keep event payloads alive through the reused slice
		next.Events = c.log.View()
		dropped := next.Events.Dropped()
		next.EventsDropped = &dropped
	}
	c.store.Publish(next)
	if c.onFrame != nil {
		c.onFrame(c.store.Snapshot().Sample)
	}
}

// apply puts a finished Collect's part into the frame and fills its status.
// A result that started before this frame (a late one) is applied too, but
// marked stale: its rates are over its own window, not this frame's.
func (c *Collector) apply(r *probeRunner, res probeResult, next *model.Sample, st *model.ProbeStatus, frameStart time.Time) {
	st.DurationMS = ms(res.took)
	if !r.prevNow.IsZero() {
		st.WindowS = model.Known(res.now.Sub(r.prevNow).Seconds())
	}
	if res.err != nil {
		st.Error = res.err.Error()
	}
	if res.part != nil {
		res.part(next)
		r.lastPart = res.now
	}
	if res.now.Before(frameStart) || (res.part == nil && res.err != nil) {
		// Late, or a failed read that produced nothing: what is shown is
		// older than this frame.
		st.Stale = true
	}
	// After a failed read a probe keeps its old baseline (see the probes'
	// Read), so its window is measured from its last good reading.
	if res.err == nil || res.part != nil {
		r.prevNow = res.now
	}
}

func (c *Collector) age(r *probeRunner, frameStart time.Time) model.Float {
	if r.lastPart.IsZero() {
		return model.Unknown
	}
	return model.Known(frameStart.Sub(r.lastPart).Seconds())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Close stops the collector, waits for every probe's Collect in progress to
// finish, and only then closes the probes: closing a probe under a running
// scan or drain is a data race (and was a crash at shutdown).
func (c *Collector) Close() error {
	var errs []error
	c.closeOnce.Do(func() {
		close(c.closed)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.isClosed = true
		for _, r := range c.probes {
			for r.busy {
				res := <-c.results
				c.probes[res.index].busy = false
			}
			close(r.jobs)
		}
		for _, r := range c.probes {
			if cl, ok := r.p.(io.Closer); ok {
				if err := cl.Close(); err != nil {
					errs = append(errs, fmt.Errorf("close %s: %w", r.p.Name(), err))
				}
			}
		}
		for _, src := range c.events {
			if cl, ok := src.(io.Closer); ok {
				errs = append(errs, cl.Close())
			}
		}
	})
	return errors.Join(errs...)
}

// Features lists every probe's eBPF feature reports (for `vitals probes`).
func Features(ps []Probe) []model.Feature {
	var out []model.Feature
	for _, p := range ps {
		if fr, ok := p.(FeatureReporter); ok {
			out = append(out, fr.Features()...)
		}
	}
	return out
}
