// Package probes reads the kernel (procfs, /sys, eBPF) and feeds the shared
// model. Probes know where numbers come from and nothing about screens: a
// Collector runs every registered probe once per interval, in a declared
// order, and publishes one frame.
package probes

import (
	"time"

	"github.com/vitals-dev/vitals/model"
)

// Probe is one source of metrics. Collect reads the source once and returns
// its part of the frame; the first call only establishes the baseline for
// rates and returns a nil Part. Collect is called from one goroutine at a
// time, never concurrently with itself.
type Probe interface {
	Name() string
	Collect(t *Tick) (Part, error)
}

// Part writes a probe's contribution into the frame being built. It replaces
// whole parts (CPU, Processes) with freshly built values and must not modify
// values reachable from earlier samples: those are published and shared.
type Part func(s *model.Sample)

// Tick is what a probe gets for one frame.
type Tick struct {
	// Now is when this probe's turn started: the end of its rate window.
	Now time.Time
	// Frame holds the parts of the probes before this one in the
	// collection order, this frame (or carried over when one of them was
	// late). It is a copy: read it, do not write it.
	Frame *model.Sample
}

// FeatureReporter is implemented by probes built on eBPF features, so
// `vitals probes`, the header and the JSON can say which tier each runs.
type FeatureReporter interface {
	Features() []model.Feature
}
