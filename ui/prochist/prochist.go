// Package prochist keeps a short, bounded history of every process the
// UI has seen recently: its RSS and CPU over time, for the Memory tab's
// RSS growth column and warning and the process view's charts.
//
// The model keeps history only for what the tabs chart system-wide
// (model.RecordHistory); per-process series for thousands of processes
// would cost it an hour of points each. The UI derives this instead from
// the snapshots it is handed, in a few hundred bytes per process: a
// compacting series of the process's whole life since first seen, and a
// sparse ring of RSS readings over the growth window. Entries are dropped
// as soon as their process is not in a sample, so memory follows the
// process count. It is plain Go with no terminal imports, so it can move
// into the model unchanged if a recording ever needs it.
package prochist

import (
	"time"

	"github.com/vitals-dev/vitals/model"
)

// GrowthWindow is the span RSS growth is measured over: long enough that
// a short burst of allocation is not a leak, short enough to say "now".
const GrowthWindow = 2 * time.Minute

// MinGrowthSpan is the least history a growth figure needs; before it the
// figure is unknown rather than a guess from two close readings.
const MinGrowthSpan = 30 * time.Second

// LifePoints is how many points a process's life series keeps: when full,
// neighbours are merged and each point then stands for twice as many
// samples, so the series always covers the whole time since first seen.
const LifePoints = 96

// growthSteps is how many RSS readings the growth ring holds across the
// window (one every GrowthWindow/growthSteps at most).
const growthSteps = 12

// Point is one point of a process's life series: the mean CPU and the
// last RSS of the samples it stands for, from Start on.
type Point struct {
	Start    time.Time
	CPUPct   float64
	RSSBytes uint64
}

// Growth is how a process's RSS changed over the growth window.
type Growth struct {
	// OK is false until the process has been seen for MinGrowthSpan.
	OK bool
	// Bytes is RSS now minus RSS at the start of Span (negative when it
	// shrank); PerMinute is Bytes scaled to one minute.
	Bytes     int64
	PerMinute float64
	Span      time.Duration
	// Rising is set when RSS went up since the previous reading kept:
	// the process is still growing, not done with a burst.
	Rising bool
}

// tick is the unit of the packed times: the shortest interval vitals
// allows; in 32 bits it spans 13 years.
const tick = 100 * time.Millisecond

// point is a Point packed small: ticks since the tracker's epoch, KiB,
// and how many samples the point stands for.
type point struct {
	at     uint32
	n      uint32
	rssKiB uint32
	cpu    float32
}

type reading struct {
	at     uint32
	rssKiB uint32
}

type entry struct {
	gen    int // the sample that last saw it
	first  time.Time
	life   []point
	per    uint32 // samples per life point
	recent []reading
	growth Growth
}

// Tracker is the per-process history. It is not safe for concurrent use:
// the root records into it and the tabs read it on the program's
// goroutine.
type Tracker struct {
	epoch   time.Time
	last    time.Time
	samples int
	procs   map[model.ProcKey]*entry
}

// New makes an empty tracker.
func New() *Tracker { return &Tracker{procs: map[model.ProcKey]*entry{}} }

// Len is how many processes the tracker holds.
func (t *Tracker) Len() int { return len(t.procs) }

// Samples is how many samples have been recorded.
func (t *Tracker) Samples() int { return t.samples }

// Record adds one sample's processes. A sample no newer than the last one
// recorded, or whose process part is carried over from an earlier frame
// (its probe overran), adds nothing: the same readings again would make
// a rate out of no time. Processes missing from the sample are forgotten.
func (t *Tracker) Record(s *model.Sample) {
	if s == nil || s.Processes == nil || !s.Time.After(t.last) {
		return
	}
	if st := s.Probe("process"); st != nil && st.Stale {
		return
	}
	if t.epoch.IsZero() {
		t.epoch = s.Time
	}
	t.last = s.Time
	t.samples++
	at := uint32(min(s.Time.Sub(t.epoch)/tick, 1<<32-1))
	// Entries seen by this sample carry its number; the others have
	// exited. (A map of the seen would be allocated every interval.)
	for i := range s.Processes {
		p := &s.Processes[i]
		k := p.Key()
		e := t.procs[k]
		if e == nil {
			e = &entry{first: s.Time, per: 1}
			t.procs[k] = e
		}
		e.gen = t.samples
		kib := uint32(min(p.RSSBytes>>10, 1<<32-1))
		e.addLife(point{at: at, n: 1, rssKiB: kib, cpu: float32(p.CPUPct)})
		e.addReading(reading{at: at, rssKiB: kib}, s.IntervalS)
	}
	for k, e := range t.procs {
		if e.gen != t.samples {
			delete(t.procs, k)
		}
	}
}

func (e *entry) addLife(p point) {
	if n := len(e.life); n > 0 && e.life[n-1].n < e.per {
		last := &e.life[n-1]
		last.cpu = (last.cpu*float32(last.n) + p.cpu) / float32(last.n+1)
		last.n++
		last.rssKiB = p.rssKiB
		return
	}
	if len(e.life) == LifePoints {
		// Merge neighbours: half the points, each for twice the samples.
		for i := 0; i < LifePoints/2; i++ {
			a, b := e.life[2*i], e.life[2*i+1]
			e.life[i] = point{at: a.at, n: a.n + b.n, rssKiB: b.rssKiB,
				cpu: (a.cpu*float32(a.n) + b.cpu*float32(b.n)) / float32(a.n+b.n)}
		}
		e.life = e.life[:LifePoints/2]
		e.per *= 2
	}
	if len(e.life) == cap(e.life) {
		// Grow by hand: append would overshoot LifePoints.
		grown := make([]point, len(e.life), min(max(8, 2*cap(e.life)), LifePoints))
		copy(grown, e.life)
		e.life = grown
	}
	e.life = append(e.life, p)
}

// addReading keeps RSS readings at least a step apart across the window,
// and computes the growth from the oldest one still inside it.
func (e *entry) addReading(r reading, intervalS float64) {
	step := uint32(GrowthWindow / tick / growthSteps)
	window := uint32(GrowthWindow / tick)
	// With an interval longer than the window, the previous sample is the
	// best there is.
	if iv := uint32(intervalS * float64(time.Second/tick)); 2*iv > window {
		window = 2*iv + iv/2
	}
	rising := false
	if n := len(e.recent); n > 0 {
		rising = r.rssKiB > e.recent[n-1].rssKiB
	}
	if n := len(e.recent); n == 0 || r.at-e.recent[n-1].at >= step {
		e.recent = append(e.recent, r)
	}
	// Drop readings that fell out of the window, keeping the newest of
	// them if nothing else is left to measure from.
	drop := 0
	for drop < len(e.recent)-1 && r.at-e.recent[drop+1].at >= window {
		drop++
	}
	if drop > 0 {
		e.recent = append(e.recent[:0], e.recent[drop:]...)
	}
	base := e.recent[0]
	span := time.Duration(r.at-base.at) * tick
	if span < MinGrowthSpan {
		e.growth = Growth{}
		return
	}
	grown := (int64(r.rssKiB) - int64(base.rssKiB)) << 10
	e.growth = Growth{OK: true, Bytes: grown, Span: span, Rising: rising,
		PerMinute: float64(grown) / span.Minutes()}
}

// Growth is the RSS growth of process k over the growth window.
func (t *Tracker) Growth(k model.ProcKey) Growth {
	if e := t.procs[k]; e != nil {
		return e.growth
	}
	return Growth{}
}

// FirstSeen is when the tracker first saw process k (zero if it does not
// hold it).
func (t *Tracker) FirstSeen(k model.ProcKey) time.Time {
	if e := t.procs[k]; e != nil {
		return e.first
	}
	return time.Time{}
}

// History appends process k's life series to dst, oldest first, and
// returns it with how many samples each point stands for.
func (t *Tracker) History(k model.ProcKey, dst []Point) ([]Point, int) {
	e := t.procs[k]
	if e == nil {
		return dst, 0
	}
	for _, p := range e.life {
		dst = append(dst, Point{Start: t.epoch.Add(time.Duration(p.at) * tick),
			CPUPct: float64(p.cpu), RSSBytes: uint64(p.rssKiB) << 10})
	}
	return dst, int(e.per)
}
