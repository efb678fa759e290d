package probes

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// DefaultSlowIO is the latency at which the disk probe calls an I/O slow
// (a slow_io event): far above an SSD's or a healthy disk's service time
// (under 1 ms and about 10 ms), well below what a user notices.
const DefaultSlowIO = 50 * time.Millisecond

// diskEventQueueLen bounds the slow I/Os between two frames.
const diskEventQueueLen = 4096

// diskBPF is the disk probe's eBPF side (bpf/biolat): latency histograms
// per whole disk, drained once per frame, and slow I/Os read continuously
// from a ring buffer. It loads at construction or, with Env.DeferBPF, when
// LoadBPF is called after the first frame.
type diskBPF struct {
	slowNs uint64
	// out is the slow I/Os again, with their device named, for the
	// collector's event log: it exists from the start, so the collector
	// can take it before the programs load.
	out *EventQueue

	// mu guards feature, pending and ringLoss: LoadBPF runs in another
	// goroutine than collect, and the collector reads Features and Loss.
	mu       sync.Mutex
	feature  model.Feature
	pending  *diskBPFLoaded
	ringLoss model.EventLoss

	deferred  bool
	deferTier string

	cur       *diskBPFLoaded // collect's goroutine only
	baseline  bool           // cur has been drained once
	recent    []model.SlowIO
	evs       []model.Event
	devNames  map[uint32]string
	procs     []ebpf.BioLatProc
	prevDrops ebpf.BioLatDrops
}

// diskBPFLoaded is the programs with their ring-buffer reader.
type diskBPFLoaded struct {
	bio  *ebpf.BioLat
	ring *RingReader
}

func (l *diskBPFLoaded) close() {
	l.ring.Close()
	l.bio.Close()
}

// newDiskBPF makes the eBPF side. With reason set, eBPF is not tried
// (a copied tree, forced to procfs, or deferred: "loading after the first
// frame") and the report says so.
func newDiskBPF(sess *ebpf.Session, forceTier, reason string, slow time.Duration) *diskBPF {
	if slow <= 0 {
		slow = DefaultSlowIO
	}
	b := &diskBPF{slowNs: uint64(slow), out: NewEventQueue(model.SourceDisk, diskEventQueueLen), devNames: map[uint32]string{}}
	b.ringLoss.Source = model.SourceDisk
	if reason == "" && forceTier == model.TierProcfs {
		reason = "tier forced to " + model.TierProcfs
	}
	if reason != "" {
		b.setReport(skippedFeature(ebpf.BioLatFeature(), reason))
		return b
	}
	l, rep := b.load(sess, forceTier)
	b.cur = l
	b.setReport(rep)
	return b
}

func (b *diskBPF) setReport(rep model.Feature) {
	if !rep.EBPF() {
		rep.Tier = model.TierProcfs
		rep.Fallback = "no latency histograms or slow I/Os; per-process bytes from /proc/PID/io (disk_source \"procfs\")"
	}
	b.mu.Lock()
	b.feature = rep
	b.mu.Unlock()
}

func (b *diskBPF) report() model.Feature {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.feature
}

func (b *diskBPF) load(sess *ebpf.Session, forceTier string) (*diskBPFLoaded, model.Feature) {
	bio, rep, err := ebpf.OpenBioLat(sess, ebpf.LoadOptions{ForceTier: forceTier}, b.slowNs)
	if err != nil {
		return nil, rep
	}
	ring, err := NewRingReader(model.SourceDisk, bio.Ring(), nil, diskEventQueueLen, decodeSlowIO)
	if err != nil {
		bio.Close()
		return nil, failActive(rep, err)
	}
	// The drop counters are a struct per CPU: the ring's are its first
	// field, read by ReadDrops.
	ring.kernelDropped = func() (uint64, error) {
		d, err := bio.ReadDrops()
		return d.Ring, err
	}
	return &diskBPFLoaded{bio: bio, ring: ring}, rep
}

// LoadBPF implements BPFLoader for a probe made with Env.DeferBPF.
func (b *diskBPF) loadDeferred(sess *ebpf.Session) error {
	if !b.deferred {
		return nil
	}
	b.deferred = false
	l, rep := b.load(sess, b.deferTier)
	b.setReport(rep)
	if l == nil {
		return nil
	}
	b.mu.Lock()
	if b.pending != nil {
		b.pending.close()
	}
	b.pending = l
	b.mu.Unlock()
	return nil
}

func (b *diskBPF) close() error {
	b.mu.Lock()
	if b.pending != nil {
		b.pending.close()
		b.pending = nil
	}
	b.mu.Unlock()
	if b.cur != nil {
		b.cur.close()
		b.cur = nil
	}
	return nil
}

// source is the slow I/Os for the collector's event log, with the ring
// buffer's losses.
func (b *diskBPF) source() EventSource { return diskEventSource{b} }

type diskEventSource struct{ b *diskBPF }

func (s diskEventSource) Drain(dst []model.Event) []model.Event { return s.b.out.Drain(dst) }

func (s diskEventSource) Loss() model.EventLoss {
	l := s.b.out.Loss()
	s.b.mu.Lock()
	r := s.b.ringLoss
	s.b.mu.Unlock()
	l.KernelDropped += r.KernelDropped
	l.QueueDropped += r.QueueDropped
	l.Malformed += r.Malformed
	return l
}

// decodeSlowIO runs in the ring reader's goroutine; the device is named
// in collect, where the device table is.
func decodeSlowIO(raw []byte, ev *model.Event) bool {
	var s ebpf.SlowIO
	if !ebpf.DecodeSlowIO(raw, &s) || s.Op > ebpf.BioLatWrite {
		return false // the BPF side sends reads and writes only
	}
	major, minor := ebpf.DevT(s.Dev)
	op := "R"
	if s.Op == ebpf.BioLatWrite {
		op = "W"
	}
	t := monoWall(s.MonoNs / 1000)
	*ev = model.Event{Time: t, Source: model.SourceDisk, Kind: model.EventSlowIO, PID: int32(s.PID), Comm: s.Comm,
		Data: model.SlowIOData{Major: major, Minor: minor, Op: op, Bytes: s.Bytes, Sector: s.Sector, LatencyMS: float64(s.LatNs) / 1e6}}
	return true
}

// zeroLatCounts is the counts of a device without I/O in the interval:
// shared, never written.
var zeroLatCounts = make([]uint64, model.DiskLatSlots)

// collect drains the kernel's histograms, per-process totals and the
// slow I/Os into d (which may be nil: the disk probe's baseline, when they
// are drained and dropped); seconds is d's window.
func (b *diskBPF) collect(d *model.Disk, now time.Time, seconds float64) error {
	b.mu.Lock()
	if p := b.pending; p != nil {
		b.pending = nil
		if b.cur != nil {
			b.cur.close()
		}
		b.cur, b.baseline = p, false
	}
	b.mu.Unlock()
	rep := b.report()
	if d != nil {
		d.Tier = rep
		d.SlowThresholdMS = float64(b.slowNs) / 1e6
	}
	if b.cur == nil {
		return nil
	}
	hists, err := b.cur.bio.Drain()
	if err != nil {
		b.baseline = false
		return err
	}
	b.procs, err = b.cur.bio.DrainProcs(b.procs[:0])
	if err != nil {
		b.baseline = false
		return err
	}
	drops, _ := b.cur.bio.ReadDrops()
	dropsPrev := b.prevDrops
	b.prevDrops = drops
	b.evs = b.cur.ring.Drain(b.evs[:0])
	loss := b.cur.ring.Loss()
	b.mu.Lock()
	b.ringLoss = loss
	b.mu.Unlock()
	if d != nil {
		clear(b.devNames)
		for i := range d.Devices {
			dev := &d.Devices[i]
			b.devNames[dev.Major<<20|dev.Minor] = dev.Name
		}
	}
	for _, ev := range b.evs {
		s := ev.Data.(model.SlowIOData)
		s.Device = b.devNames[s.Major<<20|s.Minor]
		ev.Data = s
		b.out.Push(ev)
		b.recent = append(b.recent, model.SlowIO{Time: ev.Time, PID: ev.PID, Comm: ev.Comm, SlowIOData: s})
	}
	clear(b.evs)
	b.trimRecent(now)
	first := !b.baseline
	b.baseline = true
	if d == nil {
		return nil
	}
	l := loss
	l.Source = model.SourceDisk
	ql := b.out.Loss()
	l.QueueDropped += ql.QueueDropped
	d.SlowIOLoss = &l
	d.SlowIOs = slices.Clone(b.recent)
	missed := drops.Missed
	d.LatencyMissed = &missed
	if !first && seconds > 0 {
		d.PerProcess = perProcess(b.procs, b.cur.bio.AttributedAtStart(), seconds, drops, dropsPrev)
	}
	for i := range d.Devices {
		dev := &d.Devices[i]
		switch {
		case dev.Kind == model.DiskKindPartition:
			dev.LatencyReason = "a partition: its I/Os are counted on " + dev.Parent
		case first:
			dev.LatencyReason = "first interval since the latency programs attached"
		default:
			dev.LatencyHist = latencyHist(hists, dev.Major<<20|dev.Minor)
		}
	}
	return nil
}

// latencyHist is one device's histograms out of an interval's.
func latencyHist(hists []ebpf.BioLatHist, devt uint32) *model.DiskLatencyHist {
	h := &model.DiskLatencyHist{
		Read:  model.NewLatencyHist(zeroLatCounts, 0, 0),
		Write: model.NewLatencyHist(zeroLatCounts, 0, 0),
	}
	for i := range hists {
		bh := &hists[i]
		if bh.Dev != devt {
			continue
		}
		counts := slices.Clone(bh.Counts[:])
		lh := model.NewLatencyHist(counts, bh.TotalNs, bh.Slow)
		if bh.Op == ebpf.BioLatWrite {
			h.Write = lh
		} else {
			h.Read = lh
		}
	}
	return h
}

// trimRecent keeps the slowest MaxSlowIOs of the last minute, slowest
// first.
func (b *diskBPF) trimRecent(now time.Time) {
	b.recent = slices.DeleteFunc(b.recent, func(s model.SlowIO) bool { return now.Sub(s.Time) > time.Minute })
	slices.SortStableFunc(b.recent, func(a, c model.SlowIO) int {
		return cmp.Or(cmp.Compare(c.LatencyMS, a.LatencyMS), a.Time.Compare(c.Time))
	})
	if len(b.recent) > model.MaxSlowIOs {
		b.recent = b.recent[:model.MaxSlowIOs]
	}
}

// perProcess turns the drained totals into the interval's rows; atStart:
// the tier knows the submitter.
func perProcess(procs []ebpf.BioLatProc, atStart bool, seconds float64, drops, prev ebpf.BioLatDrops) *model.DiskProcesses {
	pp := &model.DiskProcesses{Attribution: "submitter", Processes: make([]model.DiskProcess, 0, len(procs))}
	if !atStart {
		pp.Attribution = "issuer"
	}
	if drops.ProcIOs >= prev.ProcIOs {
		pp.UnattributedIOs, pp.UnattributedBytes = drops.ProcIOs-prev.ProcIOs, drops.ProcBytes-prev.ProcBytes
	}
	for i := range procs {
		bp := &procs[i]
		ios := bp.ReadIOs + bp.WriteIOs
		row := model.DiskProcess{PID: bp.PID, StartTicks: bp.StartTicks, Comm: bp.Comm,
			ReadBytesPerS: float64(bp.ReadBytes) / seconds, WriteBytesPerS: float64(bp.WriteBytes) / seconds,
			ReadIOsPerS: float64(bp.ReadIOs) / seconds, WriteIOsPerS: float64(bp.WriteIOs) / seconds,
			LatencyMaxUs: float64(bp.LatMaxNs) / 1e3}
		if ios > 0 {
			row.LatencyMeanUs = float64(bp.LatNs) / float64(ios) / 1e3
		}
		if bp.PID == ebpf.OutsideNamespace {
			// Processes outside vitals' PID namespace: no pid here.
			pp.UnattributedIOs += ios
			pp.UnattributedBytes += bp.ReadBytes + bp.WriteBytes
			continue
		}
		if bp.Flags&ebpf.BioLatKworker != 0 {
			row.Writeback, row.Comm = true, "kernel workers (writeback, loop, throttled I/O)"
			pp.KernelWorkers = &row
			continue
		}
		pp.Processes = append(pp.Processes, row)
	}
	slices.SortFunc(pp.Processes, func(a, c model.DiskProcess) int {
		return cmp.Or(cmp.Compare(c.ReadBytesPerS+c.WriteBytesPerS, a.ReadBytesPerS+a.WriteBytesPerS), cmp.Compare(a.PID, c.PID))
	})
	return pp
}
