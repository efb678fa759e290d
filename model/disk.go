package model

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Disk is the block-device part of a Sample: iostat -x per device, df per
// mount, PSI io and the processes in uninterruptible sleep. Two probes fill
// it (the disk probe: devices, filesystems, PSI; the D-state probe, which
// runs after the process scanner: DState), each keeping the other's part.
type Disk struct {
	// Devices are in display order: whole disks (and md, dm, zram, loop)
	// by name, each followed by its partitions.
	Devices []DiskDevice `json:"disks"`
	// Filesystems are the mounts of vitals' mount namespace, one per
	// backing device (df's choice: the shortest mount point).
	Filesystems []Filesystem `json:"filesystems"`
	// PSI is /proc/pressure/io; nil when the kernel has none
	// (Unavailable["psi"] says why).
	PSI *Pressure `json:"disk_psi"`
	// DState lists the processes in state D in this frame's scan, longest
	// in D first. Nil until the D-state probe has run once.
	DState []DStateProcess `json:"d_state"`
	// Tier is the block-latency feature's report (tier, tiers, reason):
	// the eBPF tier behind latency_hist, slow_ios and the per-process
	// disk_* figures, or "procfs" with the reason when none runs.
	Tier Feature `json:"disk_tier"`
	// SlowThresholdMS is the latency at which an I/O is slow (a slow_io
	// event, LatencyHist.SlowIOs); SlowIOs are the slowest recent ones,
	// slowest first (at most MaxSlowIOs, from the last minute); null
	// without eBPF. SlowIOLoss counts slow I/Os that did not reach the
	// event log (ring buffer full, queue full).
	SlowThresholdMS float64    `json:"slow_io_threshold_ms"`
	SlowIOs         []SlowIO   `json:"slow_ios"`
	SlowIOLoss      *EventLoss `json:"slow_io_loss"`
	// PerProcess is the interval's block I/O by the process it was for
	// (eBPF); nil without eBPF, when processes[].disk_* come from
	// /proc/PID/io. Joined into Process by ProcKey (JoinFrame).
	PerProcess *DiskProcesses `json:"per_process"`
	// LatencyMissed counts requests since vitals attached that the
	// kernel's in-flight map had no room for: in no histogram. Null
	// without eBPF.
	LatencyMissed *uint64 `json:"latency_missed"`
	// Unavailable maps a field ("psi", "filesystems", "d_state") to why it
	// could not be read.
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// Device kinds, from /sys/class/block/NAME.
const (
	DiskKindDisk      = "disk"      // a whole disk (sd, nvme, vd, xvd, mmcblk …)
	DiskKindPartition = "partition" // has a "partition" file; Parent is its disk
	DiskKindLoop      = "loop"
	DiskKindDM        = "dm" // device mapper (LVM, dm-crypt, multipath); Label is its dm name
	DiskKindMD        = "md" // software RAID
	DiskKindZram      = "zram"
)

// DiskCounters is one line of /proc/diskstats (Documentation/admin-guide/
// iostats.rst). The *MS fields are milliseconds; sectors are always 512
// bytes, whatever the device's block size. Fields counts how many counter
// fields the line had after the name: 11 (before 4.18), 15 (discards, 4.18)
// or 17 (flushes, 5.5).
type DiskCounters struct {
	Major, Minor uint32
	Fields       int

	ReadIOs, ReadMerges, ReadSectors, ReadMS             uint64
	WriteIOs, WriteMerges, WriteSectors, WriteMS         uint64
	InFlight, IOMS, WeightedMS                           uint64
	DiscardIOs, DiscardMerges, DiscardSectors, DiscardMS uint64
	FlushIOs, FlushMS                                    uint64
}

// HasDiscards and HasFlushes say whether the kernel printed those fields.
func (c *DiskCounters) HasDiscards() bool { return c.Fields >= 15 }
func (c *DiskCounters) HasFlushes() bool  { return c.Fields >= 17 }

// EverUsed is true when the device has completed any I/O since boot.
func (c *DiskCounters) EverUsed() bool {
	return c.ReadIOs+c.WriteIOs+c.DiscardIOs+c.FlushIOs > 0
}

// wentBackwards is true when any cumulative counter of cur is below prev's:
// the device was reset or re-created (or a 32-bit millisecond field
// wrapped, which the kernel's u32 ticks do after 49.7 days of summed time).
// Every rate of that interval is then unknown, not just the one field.
func (c *DiskCounters) wentBackwards(prev *DiskCounters) bool {
	return c.ReadIOs < prev.ReadIOs || c.ReadMerges < prev.ReadMerges || c.ReadSectors < prev.ReadSectors || c.ReadMS < prev.ReadMS ||
		c.WriteIOs < prev.WriteIOs || c.WriteMerges < prev.WriteMerges || c.WriteSectors < prev.WriteSectors || c.WriteMS < prev.WriteMS ||
		c.IOMS < prev.IOMS || c.WeightedMS < prev.WeightedMS ||
		c.DiscardIOs < prev.DiscardIOs || c.DiscardMerges < prev.DiscardMerges || c.DiscardSectors < prev.DiscardSectors || c.DiscardMS < prev.DiscardMS ||
		c.FlushIOs < prev.FlushIOs || c.FlushMS < prev.FlushMS
}

// DiskRates are iostat -x's figures for one device over one interval. Every
// field is unknown on a device's first interval and across a reset; an
// average per I/O (await, areq-sz, %rrqm) is unknown when there was no I/O
// of that type (iostat prints 0.00 there); discard and flush figures are
// unknown on kernels without those fields.
type DiskRates struct {
	ReadsPerS    Float `json:"reads_per_s"`    // r/s
	WritesPerS   Float `json:"writes_per_s"`   // w/s
	DiscardsPerS Float `json:"discards_per_s"` // d/s
	FlushesPerS  Float `json:"flushes_per_s"`  // f/s

	ReadBytesPerS    Float `json:"read_bytes_per_s"`    // rkB/s × 1024
	WriteBytesPerS   Float `json:"write_bytes_per_s"`   // wkB/s × 1024
	DiscardBytesPerS Float `json:"discard_bytes_per_s"` // dkB/s × 1024

	RrqmPerS Float `json:"rrqm_per_s"` // read requests merged per second
	WrqmPerS Float `json:"wrqm_per_s"`
	DrqmPerS Float `json:"drqm_per_s"`
	RrqmPct  Float `json:"rrqm_pct"` // merged / (merged + issued) × 100
	WrqmPct  Float `json:"wrqm_pct"`
	DrqmPct  Float `json:"drqm_pct"`

	RAwaitMS Float `json:"r_await_ms"` // Δread ms / Δreads
	WAwaitMS Float `json:"w_await_ms"`
	DAwaitMS Float `json:"d_await_ms"`
	FAwaitMS Float `json:"f_await_ms"`
	// AwaitMS is over reads, writes and discards (not flushes), as iostat.
	AwaitMS Float `json:"await_ms"`

	// AquSz is the time-averaged number of requests in flight: Δweighted
	// ms / interval ms.
	AquSz     Float `json:"aqu_sz"`
	RareqSzKB Float `json:"rareq_sz_kb"` // Δread sectors / Δreads / 2
	WareqSzKB Float `json:"wareq_sz_kb"`
	DareqSzKB Float `json:"dareq_sz_kb"`
	// UtilPct is Δio ms / interval ms × 100. Not capped: above 100 is a
	// kernel accounting artefact, shown as such.
	UtilPct Float `json:"util_pct"`
}

// DiskRatesBetween computes iostat -x (sysstat's compute_ext_disk_stats and
// iostat.c) from two readings of one device seconds apart. ok is false when
// no rate can be computed: no time passed, or a counter went backwards.
func DiskRatesBetween(prev, cur *DiskCounters, seconds float64) (r DiskRates, ok bool) {
	if seconds <= 0 || cur.wentBackwards(prev) {
		return DiskRates{}, false
	}
	rate := func(p, c uint64) Float { return CounterRate(p, c, seconds) }
	kb := func(p, c uint64) Float { // sectors → bytes per second
		v := CounterRate(p, c, seconds)
		if v.OK {
			v.V *= 512
		}
		return v
	}
	perIO := func(dv, dios uint64, scale float64) Float {
		if dios == 0 {
			return Unknown
		}
		return Known(float64(dv) / float64(dios) * scale)
	}
	pct := func(merged, ios uint64) Float {
		if merged+ios == 0 {
			return Unknown
		}
		return Known(float64(merged) * 100 / float64(merged+ios))
	}
	d := func(p, c uint64) uint64 { return c - p } // cannot underflow: checked above
	ms := seconds * 1000

	dReads, dWrites := d(prev.ReadIOs, cur.ReadIOs), d(prev.WriteIOs, cur.WriteIOs)
	r.ReadsPerS = rate(prev.ReadIOs, cur.ReadIOs)
	r.WritesPerS = rate(prev.WriteIOs, cur.WriteIOs)
	r.ReadBytesPerS = kb(prev.ReadSectors, cur.ReadSectors)
	r.WriteBytesPerS = kb(prev.WriteSectors, cur.WriteSectors)
	r.RrqmPerS = rate(prev.ReadMerges, cur.ReadMerges)
	r.WrqmPerS = rate(prev.WriteMerges, cur.WriteMerges)
	r.RrqmPct = pct(d(prev.ReadMerges, cur.ReadMerges), dReads)
	r.WrqmPct = pct(d(prev.WriteMerges, cur.WriteMerges), dWrites)
	r.RAwaitMS = perIO(d(prev.ReadMS, cur.ReadMS), dReads, 1)
	r.WAwaitMS = perIO(d(prev.WriteMS, cur.WriteMS), dWrites, 1)
	r.RareqSzKB = perIO(d(prev.ReadSectors, cur.ReadSectors), dReads, 0.5)
	r.WareqSzKB = perIO(d(prev.WriteSectors, cur.WriteSectors), dWrites, 0.5)
	r.AquSz = Known(float64(d(prev.WeightedMS, cur.WeightedMS)) / ms)
	r.UtilPct = Known(float64(d(prev.IOMS, cur.IOMS)) * 100 / ms)

	ios, ticks := dReads+dWrites, d(prev.ReadMS, cur.ReadMS)+d(prev.WriteMS, cur.WriteMS)
	// A kernel that gained discard fields between readings cannot happen;
	// both readings come from the same kernel.
	if cur.HasDiscards() && prev.HasDiscards() {
		dDisc := d(prev.DiscardIOs, cur.DiscardIOs)
		r.DiscardsPerS = rate(prev.DiscardIOs, cur.DiscardIOs)
		r.DiscardBytesPerS = kb(prev.DiscardSectors, cur.DiscardSectors)
		r.DrqmPerS = rate(prev.DiscardMerges, cur.DiscardMerges)
		r.DrqmPct = pct(d(prev.DiscardMerges, cur.DiscardMerges), dDisc)
		r.DAwaitMS = perIO(d(prev.DiscardMS, cur.DiscardMS), dDisc, 1)
		r.DareqSzKB = perIO(d(prev.DiscardSectors, cur.DiscardSectors), dDisc, 0.5)
		ios += dDisc
		ticks += d(prev.DiscardMS, cur.DiscardMS)
	}
	if cur.HasFlushes() && prev.HasFlushes() {
		r.FlushesPerS = rate(prev.FlushIOs, cur.FlushIOs)
		r.FAwaitMS = perIO(d(prev.FlushMS, cur.FlushMS), d(prev.FlushIOs, cur.FlushIOs), 1)
	}
	r.AwaitMS = perIO(ticks, ios, 1)
	return r, true
}

// DiskDevice is one line of /proc/diskstats with what /sys says about it.
type DiskDevice struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"` // one of the DiskKind constants
	Major uint32 `json:"major"`
	Minor uint32 `json:"minor"`
	// Parent is a partition's whole disk.
	Parent string `json:"parent,omitempty"`
	// Label is a dm device's name (vg0-root, luks-…), from dm/name.
	Label string `json:"label,omitempty"`
	// Rotational is queue/rotational (a partition: its disk's); null when
	// /sys does not say. Loop and dm devices report what their driver
	// sets, which is not always the backing device's nature.
	Rotational *bool `json:"rotational"`
	// Scheduler is the active I/O scheduler (the bracketed entry of
	// queue/scheduler), "none" for multi-queue devices without one.
	Scheduler  string `json:"scheduler,omitempty"`
	NrRequests Float  `json:"nr_requests"` // queue/nr_requests
	SizeBytes  Float  `json:"size_bytes"`  // size × 512
	// EverUsed is false for a device that has done no I/O since boot
	// (an unattached loop device): the view hides those by default.
	EverUsed bool `json:"ever_used"`
	// Discards and Flushes are false on kernels that do not print those
	// fields (before 4.18 and 5.5): their figures are then null.
	Discards bool `json:"discards_counted"`
	Flushes  bool `json:"flushes_counted"`
	DiskRates
	// InFlight is field 9, requests issued and not yet completed, at the
	// moment of reading.
	InFlight uint64 `json:"in_flight"`
	// Reason says why the rates are null: the first interval of a device,
	// or its counters going backwards.
	Reason string `json:"reason,omitempty"`
	// LatencyHist is the interval's block latency (eBPF); null without
	// eBPF (Disk.Tier says why), on the first interval, and for
	// partitions (counted on the whole disk: LatencyReason).
	LatencyHist   *DiskLatencyHist `json:"latency_hist"`
	LatencyReason string           `json:"latency_reason,omitempty"`
}

// Parallel is true for devices that serve many requests at once (SSD,
// NVMe, dm/md stacked on several disks, zram), on which %util near 100 does
// not mean saturation.
func (d *DiskDevice) Parallel() bool {
	switch d.Kind {
	case DiskKindDM, DiskKindMD, DiskKindZram:
		return true
	}
	return d.Rotational != nil && !*d.Rotational
}

// Filesystem is one mount as df -h and df -i show it.
type Filesystem struct {
	Mount string `json:"mount"`
	// Device is the mount source (/dev/sda1, tmpfs, server:/export).
	Device string `json:"device"`
	// MajorMinor is st_dev as mountinfo prints it ("8:1"); Disk names the
	// entry of disks[] with that number (empty when none: tmpfs, NFS,
	// btrfs subvolumes' anonymous devices).
	MajorMinor string `json:"major_minor"`
	Disk       string `json:"disk,omitempty"`
	FSType     string `json:"fstype"`
	// Pseudo is set for filesystems without storage (proc, sysfs, cgroup,
	// …) and for those statfs reports 0 blocks for: df hides both.
	Pseudo bool `json:"pseudo"`
	// Network is set for NFS, CIFS and the like, whose statfs is bounded
	// by a timeout (a dead server would hang it).
	Network  bool `json:"network"`
	ReadOnly bool `json:"read_only"`
	// Sizes as df: used = blocks − free, avail = blocks available to
	// unprivileged users, so used + avail < size when blocks are reserved
	// for root. Null when statfs was not done (Reason).
	SizeBytes  Float `json:"size_bytes"`
	UsedBytes  Float `json:"used_bytes"`
	AvailBytes Float `json:"avail_bytes"`
	// UsePct is df's Use%: used / (used + avail) × 100 rounded up.
	UsePct      Float `json:"use_pct"`
	InodesTotal Float `json:"inodes_total"`
	InodesUsed  Float `json:"inodes_used"`
	// InodesUsedPct is df -i's IUse%, rounded up; null when the
	// filesystem has no fixed inode count (btrfs reports 0).
	InodesUsedPct Float  `json:"inodes_used_pct"`
	Reason        string `json:"reason,omitempty"`
}

// DFPercent is df's rounding of part / whole × 100: up to the next integer
// (coreutils df.c), so that a filesystem that is not quite empty never
// shows 0 % and one that is full shows 100 %. Unknown when whole is 0.
func DFPercent(part, whole uint64) Float {
	if whole == 0 {
		return Unknown
	}
	u := part * 100
	p := u / whole
	if u%whole != 0 {
		p++
	}
	return Known(float64(p))
}

// DStateProcess is a process seen in uninterruptible sleep (state D).
type DStateProcess struct {
	PID        int32  `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
	Comm       string `json:"comm"` // untrusted text
	User       string `json:"user"`
	// Wchan is the kernel function it sleeps in (/proc/PID/wchan); empty
	// when the kernel does not say (WchanReason).
	Wchan       string `json:"wchan"`
	WchanReason string `json:"wchan_reason,omitempty"`
	// InDS is how long it has been in D in every scan since vitals first
	// saw it there (a lower bound: it may have been in D before, and
	// between scans it may have woken briefly).
	InDS float64 `json:"in_d_s"`
}

// Key is the process's identity.
func (p *DStateProcess) Key() ProcKey { return ProcKey{PID: p.PID, StartTicks: p.StartTicks} }

// Device returns the named device, or nil.
func (d *Disk) Device(name string) *DiskDevice {
	if d == nil {
		return nil
	}
	for i := range d.Devices {
		if d.Devices[i].Name == name {
			return &d.Devices[i]
		}
	}
	return nil
}

// History of the Disk tab: per device, throughput and await. Series are
// named disk.<device>.<field> and kept for at most MaxDiskSeriesDevices
// devices that have done I/O, the first in display order (whole disks
// first); a device's series are dropped when it disappears.
const (
	MaxDiskSeriesDevices = 32
	seriesDiskPrefix     = "disk."
)

// SeriesDiskRead and the others name a device's history series.
func SeriesDiskRead(dev string) string  { return seriesDiskPrefix + dev + ".read_bytes" }  // bytes/s
func SeriesDiskWrite(dev string) string { return seriesDiskPrefix + dev + ".write_bytes" } // bytes/s
func SeriesDiskAwait(dev string) string { return seriesDiskPrefix + dev + ".await" }       // ms; only intervals with I/O
func SeriesDiskUtil(dev string) string  { return seriesDiskPrefix + dev + ".util" }        // %

// recordDiskHistory adds the points of one Disk part and forgets the series
// of devices no longer present.
func recordDiskHistory(h *History, s *Sample) {
	d := s.Disk
	n := 0
	keep := h.diskKeep[:0]
	for i := range d.Devices {
		dev := &d.Devices[i]
		if !dev.EverUsed || n >= MaxDiskSeriesDevices {
			continue
		}
		n++
		keep = append(keep, dev.Name)
		if lh := dev.LatencyHist; lh != nil {
			r := h.diskLat[dev.Name]
			if r == nil {
				r = &ring[DiskLatPoint]{capacity: DiskLatHistoryLen}
				h.diskLat[dev.Name] = r
			}
			p := DiskLatPoint{UnixMilli: s.Time.UnixMilli()}
			for j := range min(len(lh.Read.Counts), DiskLatSlots) {
				p.Read[j] = uint32(min(lh.Read.Counts[j], math.MaxUint32))
			}
			for j := range min(len(lh.Write.Counts), DiskLatSlots) {
				p.Write[j] = uint32(min(lh.Write.Counts[j], math.MaxUint32))
			}
			r.append(p)
		}
		if !dev.ReadBytesPerS.OK { // first interval or a reset: no point
			continue
		}
		h.Record(SeriesDiskRead(dev.Name), s.Time, dev.ReadBytesPerS.V)
		h.Record(SeriesDiskWrite(dev.Name), s.Time, dev.WriteBytesPerS.V)
		h.Record(SeriesDiskUtil(dev.Name), s.Time, dev.UtilPct.V)
		if dev.AwaitMS.OK { // no I/O: await is undefined, no point
			h.Record(SeriesDiskAwait(dev.Name), s.Time, dev.AwaitMS.V)
		}
	}
	h.diskKeep = keep
	for name := range h.diskLat {
		if !slices.Contains(keep, name) {
			delete(h.diskLat, name)
		}
	}
	for name := range h.series {
		rest, ok := strings.CutPrefix(name, seriesDiskPrefix)
		if !ok {
			continue
		}
		dot := strings.LastIndexByte(rest, '.')
		if dot < 0 || !slices.Contains(keep, rest[:dot]) {
			delete(h.series, name)
		}
	}
}

// DiskLatSlots is the number of log2 slots of a block-latency histogram
// (bpf/biolat): slot 0 is [0, 2) µs, slot k ≥ 1 is [2^k, 2^(k+1)) µs, the
// last one open-ended.
const DiskLatSlots = 27

// DiskLatBucketsUs are the slots' lower bounds in µs. Shared and never
// written: every histogram's BucketsUs is this slice.
var DiskLatBucketsUs = func() []float64 {
	b := make([]float64, DiskLatSlots)
	for i := 1; i < DiskLatSlots; i++ {
		b[i] = math.Ldexp(1, i)
	}
	return b
}()

// DiskLatUpperUs is the upper bound of slot i in µs (the last slot's is
// its lower bound: it is open-ended).
func DiskLatUpperUs(i int) float64 {
	if i >= DiskLatSlots-1 {
		return DiskLatBucketsUs[DiskLatSlots-1]
	}
	return math.Ldexp(1, i+1)
}

// DiskLatencyHist is biolatency for one device over one interval, reads
// and writes apart (discards and flushes are not counted).
type DiskLatencyHist struct {
	Read  LatencyHist `json:"read"`
	Write LatencyHist `json:"write"`
}

// LatencyHist is one direction's I/Os of an interval: the time from the
// request's issue to the driver (block_rq_issue) to its completion, the
// device's service time without the time queued in the scheduler (iostat's
// await includes that).
type LatencyHist struct {
	// BucketsUs are the slots' lower bounds (DiskLatBucketsUs); Counts the
	// I/Os per slot.
	BucketsUs []float64 `json:"buckets_us"`
	Counts    []uint64  `json:"counts"`
	IOs       uint64    `json:"ios"`
	// SlowIOs are those at or above Disk.SlowThresholdMS.
	SlowIOs uint64 `json:"slow_ios"`
	// MeanUs is exact (summed latency ÷ I/Os); P50Us and P99Us are the
	// upper bound of the slot holding that quantile. Unknown without I/O.
	MeanUs Float `json:"mean_us"`
	P50Us  Float `json:"p50_us"`
	P99Us  Float `json:"p99_us"`
}

// NewLatencyHist makes a histogram from an interval's slot counts (at most
// DiskLatSlots of them; counts is kept) and summed latency.
func NewLatencyHist(counts []uint64, totalNs, slow uint64) LatencyHist {
	h := LatencyHist{BucketsUs: DiskLatBucketsUs, Counts: counts, SlowIOs: slow}
	for _, c := range counts {
		h.IOs += c
	}
	if h.IOs > 0 {
		h.MeanUs = Known(float64(totalNs) / float64(h.IOs) / 1e3)
	}
	h.P50Us = DiskLatPercentile(counts, 0.50)
	h.P99Us = DiskLatPercentile(counts, 0.99)
	return h
}

// DiskLatPercentile is the upper bound (µs) of the slot holding the q-th
// quantile (0 < q ≤ 1) of counts; unknown when they are all zero.
func DiskLatPercentile(counts []uint64, q float64) Float {
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return Unknown
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range counts {
		if seen += c; seen >= want {
			return Known(DiskLatUpperUs(i))
		}
	}
	return Known(DiskLatUpperUs(len(counts) - 1))
}

// SlowIO is one I/O at or above the slow threshold: a row of
// Disk.SlowIOs.
type SlowIO struct {
	Time time.Time `json:"time"` // completion
	// PID is the owner's (the submitter with block_io_start, else the
	// issuer); 0 for the kernel workers (writeback flusher, loop).
	PID  int32  `json:"pid"`
	Comm string `json:"comm"` // untrusted
	SlowIOData
}

// SlowIOData is a slow_io event's payload (the event has the time, pid
// and comm).
type SlowIOData struct {
	// Device is the whole disk's name in disks[] ("" when not listed),
	// Major and Minor its number.
	Device    string  `json:"device"`
	Major     uint32  `json:"major"`
	Minor     uint32  `json:"minor"`
	Op        string  `json:"op"` // "R" or "W"
	Bytes     uint32  `json:"bytes"`
	Sector    uint64  `json:"sector"`
	LatencyMS float64 `json:"latency_ms"`
}

// Event kind and source of slow I/Os.
const (
	EventSlowIO = "slow_io"
	SourceDisk  = "disk"
)

// MaxSlowIOs is how many recent slow I/Os Disk.SlowIOs keeps (the slowest
// of the last minute).
const MaxSlowIOs = 20

// DiskLatHistoryLen is how many frames of latency histograms a device
// keeps for the heatmap (one column per frame: wider than any terminal).
const DiskLatHistoryLen = 512

// DiskLatPoint is one frame's latency histograms of one device (counts
// per slot, capped at 2^32-1).
type DiskLatPoint struct {
	UnixMilli   int64
	Read, Write [DiskLatSlots]uint32
}

// DiskLatView is an immutable copy of a device's latency history.
type DiskLatView struct{ ringView[DiskLatPoint] }

func (h *History) diskLatView() map[string]DiskLatView {
	if len(h.diskLat) == 0 {
		return nil
	}
	m := make(map[string]DiskLatView, len(h.diskLat))
	for name, r := range h.diskLat {
		m[name] = DiskLatView{r.view()}
	}
	return m
}

// DiskProcesses is block I/O attributed to processes over one interval:
// each completed request is the process's that submitted it (the task
// running at block_io_start), or, on the tier without that tracepoint,
// the task that issued it to the driver.
type DiskProcesses struct {
	// Attribution is "submitter" (block_io_start) or "issuer"
	// (block_rq_issue: usually, not always, the submitter).
	Attribution string        `json:"attribution"`
	Processes   []DiskProcess `json:"processes"`
	// KernelWorkers is the I/O submitted by kworker threads: page-cache
	// writeback by the flusher (the dirtying processes' data, written
	// later), loop devices' backing-file I/O and the like. Not an
	// application's; nil when there was none.
	KernelWorkers *DiskProcess `json:"kernel_workers"`
	// UnattributedIOs and UnattributedBytes are the interval's completed
	// I/Os that found no room in the kernel's per-process map (8,192
	// processes): in no row, but in the device figures.
	UnattributedIOs   uint64 `json:"unattributed_ios"`
	UnattributedBytes uint64 `json:"unattributed_bytes"`
}

// DiskProcess is one process's completed block I/O of an interval.
type DiskProcess struct {
	PID        int32  `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
	Comm       string `json:"comm"` // untrusted
	// Writeback marks the kernel workers' row.
	Writeback      bool    `json:"writeback,omitempty"`
	ReadBytesPerS  float64 `json:"read_bytes_per_s"`
	WriteBytesPerS float64 `json:"write_bytes_per_s"`
	ReadIOsPerS    float64 `json:"read_ios_per_s"`
	WriteIOsPerS   float64 `json:"write_ios_per_s"`
	LatencyMeanUs  float64 `json:"latency_mean_us"`
	LatencyMaxUs   float64 `json:"latency_max_us"`
}

// Disk sources of ProcessDiskRates.DiskSource.
const (
	DiskSourceEBPF   = "ebpf"
	DiskSourceProcfs = "procfs"
)

// joinProcessDisk fills each process's disk part: from the eBPF rows by
// ProcKey (a process without a row did no block I/O: zero), or, without
// eBPF, from its /proc/PID/io (null where not read or not permitted).
func joinProcessDisk(s *Sample) {
	if len(s.Processes) == 0 {
		return
	}
	var rows *DiskProcesses
	if s.Disk != nil && !s.stale("disk") {
		rows = s.Disk.PerProcess
	}
	var byKey map[ProcKey]int
	if rows != nil {
		byKey = make(map[ProcKey]int, len(rows.Processes))
		for i := range rows.Processes {
			r := &rows.Processes[i]
			byKey[ProcKey{PID: r.PID, StartTicks: r.StartTicks}] = i
		}
	}
	var wchans map[ProcKey]*string
	if s.Disk != nil && len(s.Disk.DState) > 0 {
		wchans = make(map[ProcKey]*string, len(s.Disk.DState))
		for i := range s.Disk.DState {
			if ds := &s.Disk.DState[i]; ds.Wchan != "" {
				wchans[ProcKey{PID: ds.PID, StartTicks: ds.StartTicks}] = &ds.Wchan
			}
		}
	}
	for i := range s.Processes {
		p := &s.Processes[i]
		d := ProcessDisk{ProcessIODelayRates: p.ProcessIODelayRates, IODelayReason: p.IODelayReason, Wchan: wchans[p.Key()]}
		switch j, ok := byKey[p.Key()]; {
		case rows == nil:
			d.DiskSource = DiskSourceProcfs
			d.DiskReadBytesPerS, d.DiskWriteBytesPerS = p.ReadBytesPerS, p.WriteBytesPerS
		case ok:
			r := &rows.Processes[j]
			d.DiskSource = DiskSourceEBPF
			d.DiskReadBytesPerS, d.DiskWriteBytesPerS = Known(r.ReadBytesPerS), Known(r.WriteBytesPerS)
			d.DiskIOsPerS = Known(r.ReadIOsPerS + r.WriteIOsPerS)
			d.DiskLatencyMeanUs, d.DiskLatencyMaxUs = Known(r.LatencyMeanUs), Known(r.LatencyMaxUs)
		default:
			d.DiskSource = DiskSourceEBPF
			d.DiskReadBytesPerS, d.DiskWriteBytesPerS, d.DiskIOsPerS = Known(0), Known(0), Known(0)
		}
		p.ProcessDisk = d
	}
}
