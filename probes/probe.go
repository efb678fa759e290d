// Package probes reads the kernel (procfs, /sys, eBPF) and publishes into the
// shared model. Probes know where numbers come from and nothing about screens.
package probes

import (
	"context"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// Probe is one source of metrics. Sample reads the source once and publishes
// what it read into the store; the first call only establishes the baseline
// for rates and may publish nothing. Sample is called from one goroutine.
type Probe interface {
	Name() string
	Sample(now time.Time, store *model.Store) error
}

// Run samples p every interval until ctx is done. A failing read is recorded
// as the probe's error in the model (shown by the UI) and retried next tick.
func Run(ctx context.Context, p Probe, interval time.Duration, store *model.Store) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastErr string
	sample := func(now time.Time) {
		err := p.Sample(now, store)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != lastErr {
			store.SetError(p.Name(), err)
			lastErr = msg
		}
	}
	sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			sample(now)
		}
	}
}
