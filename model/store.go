package model

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Snapshot is what readers get: a Sample and the history up to it, both
// immutable. Seq increases with every published change.
type Snapshot struct {
	Seq     uint64
	Sample  *Sample
	history map[string]SeriesView
	diskLat map[string]DiskLatView
}

// DiskLat returns a device's latency-histogram history (empty if none).
func (s *Snapshot) DiskLat(dev string) DiskLatView { return s.diskLat[dev] }

// Series returns the named history (empty if never recorded).
func (s *Snapshot) Series(name string) SeriesView { return s.history[name] }

// Store is the one shared model: probes publish into it from their own
// goroutines, readers take snapshots. Writers are serialised; readers never
// block writers and never see a half-built sample.
type Store struct {
	mu      sync.Mutex // serialises writers
	sample  Sample
	history *History
	seq     uint64
	current atomic.Pointer[Snapshot]
	changed chan struct{}
}

// NewStore makes a store whose first sample carries the given host and interval.
func NewStore(host Host, intervalS float64, historyCapacity int) *Store {
	s := &Store{
		sample:  Sample{Host: host, IntervalS: intervalS},
		history: NewHistory(historyCapacity),
		changed: make(chan struct{}, 1),
	}
	s.publishLocked()
	return s
}

// Publish makes s the current sample, joins its parts (JoinFrame), derives
// its history points (RecordHistory) and signals readers: the collector's one publish per
// frame. s is owned by the store afterwards and must not be modified.
func (s *Store) Publish(next Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if next.Host == (Host{}) {
		next.Host = s.sample.Host
	}
	if next.IntervalS == 0 {
		next.IntervalS = s.sample.IntervalS
	}
	s.sample = next
	JoinFrame(&s.sample)
	RecordHistory(s.history, &s.sample)
	s.publishLocked()
}

// Current returns a shallow copy of the newest sample, the base the
// collector builds the next frame on (parts that are not replaced are
// carried over).
func (s *Store) Current() Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sample
}

// Update applies fn to a copy of the current sample and publishes the result.
// fn replaces whole parts (CPU, Processes) with freshly built values; it must
// not modify values reachable from the previous sample. It may record history
// points for the parts it changed.
func (s *Store) Update(fn func(next *Sample, h *History)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Errors is the only map shared between samples: copy before fn sees it.
	s.sample.Errors = maps.Clone(s.sample.Errors)
	fn(&s.sample, s.history)
	s.publishLocked()
}

// SetError records (or, with err nil, clears) the last error of a probe.
func (s *Store) SetError(probe string, err error) {
	s.Update(func(next *Sample, _ *History) {
		if err == nil {
			delete(next.Errors, probe)
			return
		}
		if next.Errors == nil {
			next.Errors = map[string]string{}
		}
		next.Errors[probe] = err.Error()
	})
}

func (s *Store) publishLocked() {
	s.seq++
	sample := s.sample // a shallow copy: parts are never mutated after publication
	s.current.Store(&Snapshot{Seq: s.seq, Sample: &sample, history: s.history.view(), diskLat: s.history.diskLatView()})
	select {
	case s.changed <- struct{}{}:
	default: // a reader has not caught up yet; it will see the newest snapshot
	}
}

// Snapshot returns the newest published snapshot.
func (s *Store) Snapshot() *Snapshot { return s.current.Load() }

// Changed is signalled (coalesced) after every publish.
func (s *Store) Changed() <-chan struct{} { return s.changed }
