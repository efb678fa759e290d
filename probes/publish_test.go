package probes

import (
	"errors"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// publish runs one probe alone as the collector would in a frame of its
// own: Collect against the current sample, apply the part, publish.
func publish(p Probe, now time.Time, store *model.Store) error {
	cur := store.Current()
	frame := cur
	part, err := p.Collect(&Tick{Now: now, Frame: &frame})
	if part != nil {
		part(&cur)
		cur.Time = now
		store.Publish(cur)
	}
	return err
}

// frameRunner runs probes in the given order as one frame each time, the
// way the collector does, with fixture times: every probe's Tick.Now is
// the frame's time and its window the time since the previous frame.
type frameRunner struct {
	store  *model.Store
	probes []Probe
	prev   time.Time
}

func (f *frameRunner) frame(at time.Time) error {
	cur := f.store.Current()
	cur.Time = at
	cur.Probes = nil
	var errs []error
	for _, p := range f.probes {
		frame := cur
		part, err := p.Collect(&Tick{Now: at, Frame: &frame})
		st := model.ProbeStatus{Name: p.Name()}
		if !f.prev.IsZero() {
			st.WindowS = model.Known(at.Sub(f.prev).Seconds())
		}
		if part != nil {
			part(&cur)
		}
		if err != nil {
			errs = append(errs, err)
		}
		cur.Probes = append(cur.Probes, st)
	}
	f.prev = at
	f.store.Publish(cur)
	return errors.Join(errs...)
}
