package probes

import (
	"cmp"
	"math"
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
	// Scratch maps of countTCPEvents, reused every frame.
	remotes map[string]*model.NetRemoteCount
	owners  map[int32]*netEventOwner
	// inBurst: the last interval was a retransmit burst, reported at
	// lastBurst.
	inBurst   bool
	lastBurst time.Time
}

// openNetBPF loads the net feature, or says why not (reason non-empty:
// eBPF was not tried). It never fails: without eBPF the feature's tier is
// procfs and the report says why.
func openNetBPF(sess *ebpf.Session, opts ebpf.LoadOptions, reason string) *netBPF {
	b := &netBPF{out: NewEventQueue("net", netEventQueueLen),
		remotes: map[string]*model.NetRemoteCount{}, owners: map[int32]*netEventOwner{}}
	spec := ebpf.NetTopFeature()
	if reason == "" && opts.ForceTier == model.TierProcfs {
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
	top, rep, err := ebpf.OpenNetTop(sess, ebpf.NetTopOptions{LoadOptions: opts})
	if err == nil {
		ring, rerr := NewRingReader("net", top.EventsMap(), top.EventDropsMap(), netEventQueueLen, decodeNetEvent)
		if rerr != nil {
			top.Close()
			rep.Tier, rep.Reason = "", rerr.Error()
		} else {
			b.top, b.ring = top, ring
			// The log's loss for "net" is the ring buffer's too.
			b.out.upstream = ring.Loss
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
	d := &model.NetTCPEventData{State: model.TCPStateName(ne.State), Segments: int(ne.Segments)}
	if ne.Local.IsValid() {
		d.LocalAddr, d.LocalPort = ne.Local.Addr().String(), ne.Local.Port()
		d.RemoteAddr, d.RemotePort = ne.Remote.Addr().String(), ne.Remote.Port()
	}
	*ev = model.Event{Time: bootToWall(ne.BootNS), Source: "net", Kind: ne.Kind.String(), PID: ne.PID,
		StartTicks: ne.StartTicks, Comm: ne.Comm, Data: d}
	if ev.PID == ebpf.OutsideNamespace {
		// Owned by a process outside vitals' PID namespace: no pid here.
		ev.PID, ev.StartTicks, ev.Comm = 0, 0, "(outside this PID namespace)"
	}
	return true
}

// tcpEvent is the Net.Retransmits form of a decoded event.
func tcpEvent(ev *model.Event) (model.NetTCPEvent, bool) {
	d, ok := ev.Data.(*model.NetTCPEventData)
	if !ok {
		return model.NetTCPEvent{}, false
	}
	te := model.NetTCPEvent{Time: ev.Time, Kind: ev.Kind, StartTicks: ev.StartTicks, Comm: ev.Comm, NetTCPEventData: *d}
	if ev.PID != 0 {
		pid := ev.PID
		te.PID = &pid
	}
	return te, true
}

// burstRepeat is how often a retransmit burst that goes on is reported
// again in the event log.
const burstRepeat = time.Minute

// collect drains the kernel's counters and the events since the last call
// into the interval's per-process part and event counts (nil without
// eBPF, on the baseline or on a failed drain).
func (b *netBPF) collect(now time.Time, seconds float64, baseline bool) (*model.NetProcessCounters, *model.NetTCPEventCounts, error) {
	if b.top == nil {
		return nil, nil, nil
	}
	procs, dropped, err := b.top.Drain()
	b.buf = b.ring.Drain(b.buf[:0])
	for i := range b.buf {
		b.out.Push(b.buf[i])
		if te, ok := tcpEvent(&b.buf[i]); ok {
			b.recent = append(b.recent, te)
		}
	}
	if over := len(b.recent) - model.MaxNetEvents; over > 0 {
		b.recent = slices.Delete(b.recent, 0, over)
	}
	defer clear(b.buf)
	if err != nil || baseline || seconds <= 0 {
		return nil, nil, err
	}
	pc := &model.NetProcessCounters{
		Processes:         make([]model.NetProcess, 0, len(procs)),
		DroppedProcCounts: dropped,
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
		if row.PID == ebpf.OutsideNamespace {
			row.PID, row.Comm = 0, "processes outside this PID namespace"
			pc.OtherNamespaces = &row
			continue
		}
		pc.Processes = append(pc.Processes, row)
	}
	slices.SortFunc(pc.Processes, func(a, b model.NetProcess) int {
		if c := cmp.Compare(b.TxBytesPerS+b.RxBytesPerS, a.TxBytesPerS+a.RxBytesPerS); c != 0 {
			return c
		}
		return cmp.Compare(a.PID, b.PID)
	})
	ec, burst := countTCPEvents(b.buf, seconds, b.remotes, b.owners)
	ec.Loss = b.out.Loss()
	b.reportBurst(now, burst)
	return pc, ec, nil
}

// netEventOwner is a process's share of an interval's retransmits.
type netEventOwner struct {
	pid         int32
	start       uint64
	comm        string
	retransmits int
}

// countTCPEvents counts an interval's retransmit and reset events per
// remote address (remotes and owners are scratch maps, emptied here), and
// says what the interval's burst would be.
func countTCPEvents(evs []model.Event, seconds float64, remotes map[string]*model.NetRemoteCount,
	owners map[int32]*netEventOwner) (*model.NetTCPEventCounts, model.Event) {
	clear(remotes)
	clear(owners)
	ec := &model.NetTCPEventCounts{}
	per := 1 / seconds
	retrans := 0
	for i := range evs {
		ev := &evs[i]
		d, ok := ev.Data.(*model.NetTCPEventData)
		if !ok {
			continue
		}
		segs := max(d.Segments, 1)
		ec.EventsPerS += per
		switch ev.Kind {
		case model.NetKindRetransmit:
			ec.RetransmitsPerS += float64(segs) * per
			retrans += segs
		case model.NetKindResetSent:
			ec.ResetsSentPerS += per
		case model.NetKindResetReceived:
			ec.ResetsReceivedPerS += per
		}
		if ev.PID == 0 {
			ec.UnattributedPerS += per
		} else if ev.Kind == model.NetKindRetransmit {
			o := owners[ev.PID]
			if o == nil {
				o = &netEventOwner{pid: ev.PID, start: ev.StartTicks, comm: ev.Comm}
				owners[ev.PID] = o
			}
			o.retransmits += segs
		}
		if d.RemoteAddr == "" {
			continue
		}
		r := remotes[d.RemoteAddr]
		if r == nil {
			r = &model.NetRemoteCount{RemoteAddr: d.RemoteAddr}
			remotes[d.RemoteAddr] = r
		}
		if ev.Kind == model.NetKindRetransmit {
			r.RetransmitsPerS += float64(segs) * per
		} else {
			r.ResetsPerS += per
		}
	}
	for _, r := range remotes {
		ec.ByRemote = append(ec.ByRemote, *r)
	}
	slices.SortFunc(ec.ByRemote, func(a, b model.NetRemoteCount) int {
		if c := cmp.Compare(b.RetransmitsPerS, a.RetransmitsPerS); c != 0 {
			return c
		}
		if c := cmp.Compare(b.ResetsPerS, a.ResetsPerS); c != 0 {
			return c
		}
		return cmp.Compare(a.RemoteAddr, b.RemoteAddr)
	})
	if len(ec.ByRemote) > model.MaxNetRemotes {
		ec.ByRemote = ec.ByRemote[:model.MaxNetRemotes]
	}
	if retrans < model.RetransmitBurstMin {
		return ec, model.Event{}
	}
	var top *netEventOwner
	for _, o := range owners {
		if top == nil || o.retransmits > top.retransmits || (o.retransmits == top.retransmits && o.pid < top.pid) {
			top = o
		}
	}
	data := &model.NetRetransmitBurst{Retransmits: retrans, PerS: float64(retrans) * per}
	burst := model.Event{Source: "net", Kind: model.EventRetransmitBurst, Data: data}
	if top != nil {
		burst.PID, burst.StartTicks, burst.Comm = top.pid, top.start, top.comm
		data.TopProcessRetransmits = top.retransmits
	}
	if len(ec.ByRemote) > 0 && ec.ByRemote[0].RetransmitsPerS > 0 {
		data.TopRemoteAddr = ec.ByRemote[0].RemoteAddr
		data.TopRemoteRetransmits = int(math.Round(ec.ByRemote[0].RetransmitsPerS * seconds))
	}
	return ec, burst
}

// reportBurst puts a retransmit burst in the event log when a run of
// burst intervals starts, and again each burstRepeat while it lasts.
func (b *netBPF) reportBurst(now time.Time, burst model.Event) {
	if burst.Kind == "" {
		b.inBurst = false
		return
	}
	if b.inBurst && now.Sub(b.lastBurst) < burstRepeat {
		return
	}
	b.inBurst, b.lastBurst = true, now
	burst.Time = now
	b.out.Push(burst)
}
