package probes

import (
	"cmp"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// netEventQueueLen bounds the net events forwarded to the collector's
// event log between two frames.
const netEventQueueLen = 4096

// netBPF is the net probe's eBPF side: payload bytes, retransmits and
// resets per process drained from a kernel map once per frame, and the
// retransmit/reset events read continuously from a ring buffer.
type netBPF struct {
	top     *ebpf.NetTop // nil without eBPF, and after close
	ring    *RingReader
	out     *EventQueue // the events again, for the collector's log
	feature model.Feature
	recent  []model.NetTCPEvent
	buf     []model.Event
}

// openNetBPF loads the net feature, or says why not (reason non-empty:
// eBPF was not tried). It never fails: without eBPF the feature's tier is
// procfs and the report says why.
func openNetBPF(sess *ebpf.Session, forceTier, reason string) *netBPF {
	b := &netBPF{out: NewEventQueue("net", netEventQueueLen)}
	spec := ebpf.NetTopFeature()
	if reason == "" && forceTier == model.TierProcfs {
		reason = "tier forced to " + model.TierProcfs
	}
	if reason != "" {
		rep := model.Feature{Name: spec.Name, Tier: model.TierProcfs, Reason: reason}
		for _, t := range spec.Tiers {
			rep.Tiers = append(rep.Tiers, model.TierOutcome{Tier: t.Name, Status: model.TierSkipped, Reason: reason})
		}
		b.feature = rep
		return b
	}
	top, rep, err := ebpf.OpenNetTop(sess, ebpf.NetTopOptions{LoadOptions: ebpf.LoadOptions{ForceTier: forceTier}})
	if err == nil {
		ring, rerr := NewRingReader("net", top.EventsMap(), top.EventDropsMap(), netEventQueueLen, decodeNetEvent)
		if rerr != nil {
			top.Close()
			rep.Tier, rep.Reason = "", rerr.Error()
		} else {
			b.top, b.ring = top, ring
		}
	}
	if b.top == nil {
		rep.Tier = model.TierProcfs
	}
	b.feature = rep
	return b
}

func (b *netBPF) close() error {
	if b.top == nil {
		return nil
	}
	err := b.ring.Close()
	if cerr := b.top.Close(); err == nil {
		err = cerr
	}
	b.top, b.ring = nil, nil
	return err
}

// bootOffset converts CLOCK_BOOTTIME nanoseconds to wall time.
func bootToWall(bootNS uint64) time.Time {
	var ts unix.Timespec
	now := time.Now()
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return now
	}
	return now.Add(-time.Duration(ts.Nano() - int64(bootNS)))
}

func decodeNetEvent(raw []byte, ev *model.Event) bool {
	var ne ebpf.NetEvent
	if !ebpf.DecodeNetEvent(raw, &ne) {
		return false
	}
	te := model.NetTCPEvent{
		Time:       bootToWall(ne.BootNS),
		Kind:       ne.Kind.String(),
		StartTicks: ne.StartTicks,
		Comm:       ne.Comm,
		State:      model.TCPStateName(ne.State),
	}
	if ne.PID != 0 {
		pid := ne.PID
		te.PID = &pid
	}
	if ne.Local.IsValid() {
		te.LocalAddr, te.LocalPort = ne.Local.Addr().String(), ne.Local.Port()
		te.RemoteAddr, te.RemotePort = ne.Remote.Addr().String(), ne.Remote.Port()
	}
	*ev = model.Event{Time: te.Time, Source: "net", Kind: te.Kind, PID: ne.PID, Comm: ne.Comm, Data: te}
	return true
}

// collect drains the kernel's counters and the events since the last call
// into the interval's per-process part (nil without eBPF, on the baseline
// or on a failed drain).
func (b *netBPF) collect(seconds float64, baseline bool) (*model.NetProcessCounters, error) {
	if b.top == nil {
		return nil, nil
	}
	procs, dropped, err := b.top.Drain()
	b.buf = b.ring.Drain(b.buf[:0])
	for _, ev := range b.buf {
		b.out.Push(ev)
		if te, ok := ev.Data.(model.NetTCPEvent); ok {
			b.recent = append(b.recent, te)
		}
	}
	if over := len(b.recent) - model.MaxNetEvents; over > 0 {
		b.recent = slices.Delete(b.recent, 0, over)
	}
	if err != nil || baseline || seconds <= 0 {
		clear(b.buf)
		return nil, err
	}
	pc := &model.NetProcessCounters{
		Processes:         make([]model.NetProcess, 0, len(procs)),
		Retransmits:       slices.Clone(b.recent),
		DroppedProcCounts: dropped,
		EventLoss:         b.ring.Loss(),
	}
	rate := func(n uint64) float64 { return float64(n) / seconds }
	for _, p := range procs {
		row := model.NetProcess{
			PID: p.PID, StartTicks: p.StartTicks, UID: p.UID, Comm: p.Comm,
			TxBytesPerS: rate(p.TCPTx + p.UDPTx), RxBytesPerS: rate(p.TCPRx + p.UDPRx),
			TCPTxBytesPerS: rate(p.TCPTx), TCPRxBytesPerS: rate(p.TCPRx),
			UDPTxBytesPerS: rate(p.UDPTx), UDPRxBytesPerS: rate(p.UDPRx),
			RetransmitsPerS: rate(p.Retransmits), ResetsSentPerS: rate(p.ResetsSent), ResetsRecvPerS: rate(p.ResetsRecv),
		}
		pc.Totals.PayloadTxBytesPerS += row.TxBytesPerS
		pc.Totals.PayloadRxBytesPerS += row.RxBytesPerS
		pc.Processes = append(pc.Processes, row)
	}
	slices.SortFunc(pc.Processes, func(a, b model.NetProcess) int {
		if c := cmp.Compare(b.TxBytesPerS+b.RxBytesPerS, a.TxBytesPerS+a.RxBytesPerS); c != 0 {
			return c
		}
		return cmp.Compare(a.PID, b.PID)
	})
	remotes := map[string]*model.NetRemoteCount{}
	for _, ev := range b.buf {
		te, ok := ev.Data.(model.NetTCPEvent)
		if !ok || te.RemoteAddr == "" {
			continue
		}
		r := remotes[te.RemoteAddr]
		if r == nil {
			r = &model.NetRemoteCount{RemoteAddr: te.RemoteAddr}
			remotes[te.RemoteAddr] = r
		}
		if te.Kind == ebpf.NetRetransmit.String() {
			r.RetransmitsPerS += 1 / seconds
		} else {
			r.ResetsPerS += 1 / seconds
		}
	}
	for _, r := range remotes {
		pc.ByRemote = append(pc.ByRemote, *r)
	}
	slices.SortFunc(pc.ByRemote, func(a, b model.NetRemoteCount) int {
		if c := cmp.Compare(b.RetransmitsPerS+b.ResetsPerS, a.RetransmitsPerS+a.ResetsPerS); c != 0 {
			return c
		}
		return cmp.Compare(a.RemoteAddr, b.RemoteAddr)
	})
	clear(b.buf)
	return pc, nil
}
