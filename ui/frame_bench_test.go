package ui

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// BenchmarkFrame is the UI's cost of one frame: a new snapshot of 2,000
// processes (rates changing, as every interval) delivered to the CPU tab
// and the screen built, at the two sizes users run in (an 80×24 tmux
// pane, a 200×50 window). The terminal renderer's diff comes after this
// and is bubbletea's.
func BenchmarkFrame(b *testing.B) {
	for _, size := range [][2]int{{80, 24}, {200, 50}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			ctx := common.NewContext(false)
			ctx.Now = func() time.Time { return fixedNow }
			store := fixtureStore(b)
			a := New(ctx, store, Options{Interval: time.Second})
			a.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			procs := make([]model.Process, 2000)
			for i := range procs {
				p := &procs[i]
				p.PID, p.PPID, p.StartTicks = int32(1000+i), 1, uint64(i)
				p.User, p.Comm, p.State, p.Threads = "root", "sleep", "S", 1
				p.Cmdline = "sleep " + strconv.Itoa(i)
				p.RSSBytes = uint64(i) << 12
			}
			frame := func(b *testing.B, n int) {
				b.StopTimer() // publishing is the probes' cost, not the UI's
				store.Update(func(next *model.Sample, h *model.History) {
					next.Time = fixedNow.Add(time.Duration(n) * time.Second)
					ps := make([]model.Process, len(procs))
					copy(ps, procs)
					for i := range ps {
						ps[i].CPUPct = float64((i*7 + n) % 13)
					}
					next.Processes = ps
					h.Record(model.SeriesCPUBusy, next.Time, float64(n%100))
				})
				snap := store.Snapshot()
				b.StartTimer()
				a.deliverOrHold(snap)
				_ = a.render()
			}
			frame(b, 0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				frame(b, i+1)
			}
		})
	}
}
