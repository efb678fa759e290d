package ebpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/vitals-dev/vitals/bpf/biolat"
	"github.com/vitals-dev/vitals/model"
)

// BioLatSlots is the number of log2 latency slots: slot 0 is [0, 2) µs,
// slot k ≥ 1 is [2^k, 2^(k+1)) µs, the last one open-ended (≥ 2^26 µs, 67 s).
const BioLatSlots = len(biolat.BioLatHist{}.Slots)

// BioLat ops: the histogram key's op.
const (
	BioLatRead  = 0
	BioLatWrite = 1
)

// DevT splits the kernel's dev_t encoding (major << 20 | minor).
func DevT(dev uint32) (major, minor uint32) { return dev >> 20, dev & (1<<20 - 1) }

// BioLatHist is one device's and direction's I/Os over an interval.
type BioLatHist struct {
	Dev    uint32 // kernel dev_t
	Op     uint32 // BioLatRead or BioLatWrite
	Counts [BioLatSlots]uint64
	// Slow is the I/Os at or above the slow threshold; TotalNs the summed
	// latency.
	Slow, TotalNs uint64
}

// BioLatFeature is the biolat BPF object with its tiers, fastest first.
// fentry and kprobe are listed with why they are not built: the block
// tracepoints carry the request, cost what fentry costs, and are stable,
// where the functions behind them are inlined or renamed across kernels.
func BioLatFeature() FeatureSpec {
	notBuilt := func() string {
		return "not built: tp_btf on block_rq_issue/block_rq_complete has the request pointer and costs what fentry does; blk_account_io_start/done are inlined since 5.17 (iovisor/bcc#4261)"
	}
	return FeatureSpec{
		Name: "disk",
		Spec: biolat.LoadBioLat,
		Tiers: []Tier{
			{Name: TierFentry, Unsupported: notBuilt},
			{Name: TierKprobe, Unsupported: notBuilt},
			{Name: TierTpBTF, Programs: []string{"tpbtf_start", "tpbtf_issue", "tpbtf_complete"}},
			{Name: TierRawTp, Programs: []string{"rawtp_start", "rawtp_issue", "rawtp_complete"}},
			{Name: TierTracepoint, Programs: []string{"tp_issue", "tp_complete"}},
		},
	}
}

// BioLat is the block-latency feature loaded and attached.
type BioLat struct {
	loaded *Loaded
	hists  *ebpf.Map
	prev   map[biolat.BioLatHistKey]biolat.BioLatHist
	procs  *ebpf.Map
	// Batch buffers for DrainProcs; noBatch: the kernel lacks batch ops.
	keys    []biolat.BioLatProcKey
	vals    []biolat.BioLatProcIo
	noBatch bool
}

// AttributedAtStart reports whether the active tier knows the submitter
// of each request (block_io_start); otherwise I/Os are attributed to the
// task that issued them to the driver (block_rq_issue), usually but not
// always the same.
func (b *BioLat) AttributedAtStart() bool { return b.loaded.Tier != TierTracepoint }

// OpenBioLat loads and attaches the block-latency feature; slowNs is the
// threshold of the slow-I/O events (0: none). The error is non-nil when no
// tier runs.
func OpenBioLat(sess *Session, opts LoadOptions, slowNs uint64) (*BioLat, model.Feature, error) {
	l, rep := Load(sess, BioLatFeature(), opts)
	if l == nil {
		return nil, rep, fmt.Errorf("disk latency: %s", rep.Reason)
	}
	b := &BioLat{loaded: l, hists: l.Maps["hists"], prev: map[biolat.BioLatHistKey]biolat.BioLatHist{}, procs: l.Maps["procs"]}
	if err := b.SetSlow(slowNs); err != nil {
		b.Close()
		rep.Tier, rep.Reason = "", err.Error()
		return nil, rep, err
	}
	return b, rep, nil
}

// SetSlow sets the slow-I/O threshold.
func (b *BioLat) SetSlow(ns uint64) error {
	var zero uint32
	return b.loaded.Maps["cfg"].Update(&zero, biolat.BioLatConfig{SlowNs: ns}, ebpf.UpdateAny)
}

// Tier is the active tier.
func (b *BioLat) Tier() string { return b.loaded.Tier }

// Ring and Drops are the slow-I/O ring buffer and its per-CPU drop
// counters (entry 0: ring reservations that failed, then starts the
// in-flight map could not hold), for a RingReader.
func (b *BioLat) Ring() *ebpf.Map  { return b.loaded.Maps["slow_events"] }
func (b *BioLat) Drops() *ebpf.Map { return b.loaded.Maps["drop_counts"] }

// Close detaches the programs and frees the maps.
func (b *BioLat) Close() error {
	if b == nil {
		return nil
	}
	return b.loaded.Close()
}

// Drain returns every device's and direction's I/Os since the previous
// Drain (the first returns those since attaching). The kernel's
// histograms are cumulative: nothing completing during the read is lost.
func (b *BioLat) Drain() ([]BioLatHist, error) {
	var (
		k   biolat.BioLatHistKey
		v   biolat.BioLatHist
		out []BioLatHist
	)
	seen := make(map[biolat.BioLatHistKey]bool, len(b.prev))
	it := b.hists.Iterate()
	for it.Next(&k, &v) {
		seen[k] = true
		p := b.prev[k]
		h := BioLatHist{Dev: k.Dev, Op: k.Op, Slow: v.Slow - p.Slow, TotalNs: v.TotalNs - p.TotalNs}
		any := false
		for i := range v.Slots {
			h.Counts[i] = v.Slots[i] - p.Slots[i]
			any = any || h.Counts[i] != 0
		}
		b.prev[k] = v
		if any {
			out = append(out, h)
		}
	}
	if err := it.Err(); err != nil && !errors.Is(err, ebpf.ErrIterationAborted) {
		return out, fmt.Errorf("disk latency: read histograms: %w", err)
	}
	for k := range b.prev {
		if !seen[k] {
			delete(b.prev, k)
		}
	}
	return out, nil
}

// SlowIO is one I/O at or above the slow threshold, from the ring buffer.
type SlowIO struct {
	// MonoNs is the completion time, CLOCK_MONOTONIC.
	MonoNs, LatNs, Sector uint64
	Dev, Bytes, PID, Op   uint32
	Comm                  string
}

// slowIOSize is struct slow_io of biolat.bpf.c.
const slowIOSize = 8*3 + 4*4 + 16

// DecodeSlowIO decodes one ring-buffer record.
func DecodeSlowIO(raw []byte, s *SlowIO) bool {
	if len(raw) < slowIOSize {
		return false
	}
	le := binary.LittleEndian
	s.MonoNs, s.LatNs, s.Sector = le.Uint64(raw), le.Uint64(raw[8:]), le.Uint64(raw[16:])
	s.Dev, s.Bytes, s.PID, s.Op = le.Uint32(raw[24:]), le.Uint32(raw[28:]), le.Uint32(raw[32:]), le.Uint32(raw[36:])
	comm := raw[40:56]
	if i := bytes.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	s.Comm = string(comm)
	return true
}

// Owner flags of BioLatProc.
const (
	// BioLatKworker: the kernel workers' row (PID 0): the writeback
	// flusher, loop and other kworker threads; not an application.
	BioLatKworker = 1
	// BioLatAtIssue: attributed to the task that issued the request (no
	// block_io_start in the tier).
	BioLatAtIssue = 2
)

// BioLatProc is one owner's completed I/Os since the previous DrainProcs.
type BioLatProc struct {
	PID        int32
	StartTicks uint64 // USER_HZ ticks after boot, as /proc/PID/stat
	Flags      uint32
	Comm       string
	ReadBytes  uint64
	WriteBytes uint64
	ReadIOs    uint64
	WriteIOs   uint64
	LatNs      uint64 // summed
	LatMaxNs   uint64
}

// DrainProcs reads and deletes the per-owner totals, appending to dst.
func (b *BioLat) DrainProcs(dst []BioLatProc) ([]BioLatProc, error) {
	emit := func(k *biolat.BioLatProcKey, v *biolat.BioLatProcIo) {
		dst = append(dst, BioLatProc{
			PID: int32(k.Pid), StartTicks: k.StartNs / nsPerTick, Flags: v.Flags, Comm: commString(v.Comm[:]),
			ReadBytes: v.Bytes[BioLatRead], WriteBytes: v.Bytes[BioLatWrite], ReadIOs: v.Ios[BioLatRead], WriteIOs: v.Ios[BioLatWrite],
			LatNs: v.LatNs, LatMaxNs: v.LatMaxNs,
		})
	}
	if !b.noBatch {
		const chunk = 512
		if len(b.keys) < chunk {
			b.keys = make([]biolat.BioLatProcKey, chunk)
			b.vals = make([]biolat.BioLatProcIo, chunk)
		}
		var cursor ebpf.MapBatchCursor
		for {
			n, err := b.procs.BatchLookupAndDelete(&cursor, b.keys, b.vals, nil)
			for i := 0; i < n; i++ {
				emit(&b.keys[i], &b.vals[i])
			}
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				return dst, nil
			}
			if errors.Is(err, ebpf.ErrNotSupported) && n == 0 {
				b.noBatch = true
				break
			}
			if err != nil {
				return dst, fmt.Errorf("disk latency: drain processes: %w", err)
			}
		}
	}
	var (
		k    biolat.BioLatProcKey
		v    biolat.BioLatProcIo
		keys []biolat.BioLatProcKey
	)
	it := b.procs.Iterate()
	for it.Next(&k, &v) {
		emit(&k, &v)
		keys = append(keys, k)
	}
	for i := range keys {
		_ = b.procs.Delete(&keys[i])
	}
	if err := it.Err(); err != nil && !errors.Is(err, ebpf.ErrIterationAborted) {
		return dst, fmt.Errorf("disk latency: read processes: %w", err)
	}
	return dst, nil
}

// BioLatDrops are the BPF side's losses since attaching, summed over CPUs.
type BioLatDrops struct {
	// Ring: slow I/Os the ring buffer had no room for. Missed: requests
	// the in-flight map could not hold (in no histogram). ProcIOs,
	// ProcBytes: completed I/Os no per-process row could be made for.
	Ring, Missed, ProcIOs, ProcBytes uint64
}

// ReadDrops sums the per-CPU drop counters.
func (b *BioLat) ReadDrops() (BioLatDrops, error) {
	var (
		zero uint32
		vals []biolat.BioLatDrops
		out  BioLatDrops
	)
	if err := b.loaded.Maps["drop_counts"].Lookup(&zero, &vals); err != nil {
		return out, fmt.Errorf("disk latency: read drop counters: %w", err)
	}
	for _, v := range vals {
		out.Ring += v.Ring
		out.Missed += v.Missed
		out.ProcIOs += v.ProcIos
		out.ProcBytes += v.ProcBytes
	}
	return out, nil
}
