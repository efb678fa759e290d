package probes

import (
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
