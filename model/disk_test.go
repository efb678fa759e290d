package model

import (
	"strings"
	"testing"
	"time"
)

func TestDiskHistoryBoundedToPresentDevices(t *testing.T) {
	h := NewHistory(10)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	dev := func(name string, used bool, await Float) DiskDevice {
		return DiskDevice{Name: name, EverUsed: used, DiskRates: DiskRates{ReadBytesPerS: Known(1), WriteBytesPerS: Known(2), UtilPct: Known(3), AwaitMS: await}}
	}
	s := &Sample{Time: t0, Disk: &Disk{Devices: []DiskDevice{dev("sda", true, Known(4)), dev("loop0", false, Unknown), dev("sdb", true, Unknown)}}}
	RecordHistory(h, s)
	for _, name := range []string{SeriesDiskRead("sda"), SeriesDiskWrite("sda"), SeriesDiskAwait("sda"), SeriesDiskUtil("sda"), SeriesDiskRead("sdb")} {
		if h.series[name] == nil {
			t.Errorf("no series %s", name)
		}
	}
	if h.series[SeriesDiskRead("loop0")] != nil {
		t.Error("a device idle since boot gets no series")
	}
	if h.series[SeriesDiskAwait("sdb")] != nil {
		t.Error("await without I/O is no point, not 0")
	}
	// sda vanishes: its series go.
	s = &Sample{Time: t0.Add(time.Second), Disk: &Disk{Devices: []DiskDevice{dev("sdb", true, Known(1))}}}
	RecordHistory(h, s)
	for name := range h.series {
		if strings.Contains(name, "sda") {
			t.Errorf("%s kept after sda disappeared", name)
		}
	}
	// At most MaxDiskSeriesDevices devices.
	var many []DiskDevice
	for i := 0; i < MaxDiskSeriesDevices+10; i++ {
		many = append(many, dev("loop"+string(rune('a'+i)), true, Known(1)))
	}
	RecordHistory(h, &Sample{Time: t0.Add(2 * time.Second), Disk: &Disk{Devices: many}})
	if n := len(h.series); n != 4*MaxDiskSeriesDevices {
		t.Errorf("%d series, want %d", n, 4*MaxDiskSeriesDevices)
	}
	// A stale disk part adds nothing.
	stale := &Sample{Time: t0.Add(3 * time.Second), Disk: &Disk{Devices: many[:1]}, Probes: []ProbeStatus{{Name: "disk", Stale: true}}}
	RecordHistory(h, stale)
	if n := len(h.series); n != 4*MaxDiskSeriesDevices {
		t.Errorf("stale part changed the series: %d", n)
	}
}

func TestDiskRatesBetweenEdges(t *testing.T) {
	prev := DiskCounters{Fields: 17, ReadIOs: 10, ReadMS: 10}
	cur := prev
	if _, ok := DiskRatesBetween(&prev, &cur, 0); ok {
		t.Error("no time passed: no rates")
	}
	cur.WeightedMS = 5
	cur.FlushMS = 1 // flush time without a flush: f_await stays unknown
	r, ok := DiskRatesBetween(&prev, &cur, 1)
	if !ok || r.ReadsPerS != Known(0) || r.AwaitMS.OK || r.FAwaitMS.OK || r.AquSz != Known(0.005) || r.UtilPct != Known(0) {
		t.Errorf("%+v", r)
	}
	cur.ReadMS = 9
	if _, ok := DiskRatesBetween(&prev, &cur, 1); ok {
		t.Error("a counter going backwards must give no rates")
	}
}

func TestDiskLatencyHistoryAndPercentiles(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	counts := make([]uint64, DiskLatSlots)
	counts[0], counts[3], counts[10] = 1, 97, 2 // [0,2) µs, [8,16) µs, [1024,2048) µs
	lh := NewLatencyHist(counts, 100*12_000, 2)
	// Hand-computed: mean 12 µs; the 50th I/O is in slot 3 (ends at 16
	// µs); the 99th in slot 10 (ends at 2048 µs).
	if lh.IOs != 100 || lh.MeanUs != Known(12) || lh.P50Us != Known(16) || lh.P99Us != Known(2048) || lh.SlowIOs != 2 {
		t.Errorf("hist %+v", lh)
	}
	if got := NewLatencyHist(make([]uint64, DiskLatSlots), 0, 0); got.MeanUs.OK || got.P99Us.OK {
		t.Errorf("no I/O: %+v", got)
	}
	if DiskLatBucketsUs[0] != 0 || DiskLatBucketsUs[1] != 2 || DiskLatBucketsUs[10] != 1024 || DiskLatUpperUs(DiskLatSlots-1) != DiskLatBucketsUs[DiskLatSlots-1] {
		t.Errorf("buckets %v", DiskLatBucketsUs)
	}
	dev := func(name string, hist *DiskLatencyHist) DiskDevice {
		return DiskDevice{Name: name, EverUsed: true, DiskRates: DiskRates{ReadBytesPerS: Known(1)}, LatencyHist: hist}
	}
	st := NewStore(Host{}, 1, 10)
	for i := range 3 {
		st.Publish(Sample{Time: t0.Add(time.Duration(i) * time.Second), Disk: &Disk{Devices: []DiskDevice{
			dev("sda", &DiskLatencyHist{Read: lh, Write: NewLatencyHist(zero(), 0, 0)}), dev("sdb", nil)}}})
	}
	v := st.Snapshot().DiskLat("sda")
	if v.Len() != 3 || v.At(2).Read[3] != 97 || v.At(2).Write[3] != 0 || v.At(0).UnixMilli != t0.UnixMilli() {
		t.Errorf("sda history: %d points, last %+v", v.Len(), v.At(v.Len()-1))
	}
	if st.Snapshot().DiskLat("sdb").Len() != 0 {
		t.Error("a device without histograms has no latency history")
	}
	st.Publish(Sample{Time: t0.Add(4 * time.Second), Disk: &Disk{Devices: []DiskDevice{dev("sdb", nil)}}})
	if st.Snapshot().DiskLat("sda").Len() != 0 {
		t.Error("sda's latency history kept after it disappeared")
	}
}

func zero() []uint64 { return make([]uint64, DiskLatSlots) }

// Without eBPF the disk_* figures are /proc/PID/io's, null where that was
// not read; with eBPF a process without a row did no block I/O (0).
func TestJoinProcessDiskSources(t *testing.T) {
	var fresh, denied Process
	fresh.PID, fresh.StartTicks, fresh.IODetail = 1, 1, DetailFresh
	fresh.ReadBytesPerS, fresh.WriteBytesPerS = Known(4096), Known(0)
	denied.PID, denied.StartTicks, denied.IODetail = 2, 2, DetailDenied
	s := Sample{Disk: &Disk{}, Processes: []Process{fresh, denied}}
	JoinFrame(&s)
	if d := s.Processes[0].ProcessDisk; d.DiskSource != DiskSourceProcfs || d.DiskReadBytesPerS != Known(4096) || d.DiskIOsPerS.OK || d.DiskLatencyMeanUs.OK {
		t.Errorf("procfs, fresh: %+v", d)
	}
	if d := s.Processes[1].ProcessDisk; d.DiskSource != DiskSourceProcfs || d.DiskReadBytesPerS.OK {
		t.Errorf("procfs, denied: %+v", d)
	}
	s = Sample{Disk: &Disk{PerProcess: &DiskProcesses{}}, Processes: []Process{fresh, denied}}
	JoinFrame(&s)
	if d := s.Processes[1].ProcessDisk; d.DiskSource != DiskSourceEBPF || d.DiskReadBytesPerS != Known(0) || d.DiskIOsPerS != Known(0) || d.DiskLatencyMeanUs.OK {
		t.Errorf("ebpf, no row: %+v", d)
	}
}

// A process in D gets its wait channel from the D-state list, joined by
// pid and start time (a reused pid does not inherit it); others have none.
func TestJoinProcessWchan(t *testing.T) {
	var d, other, reused Process
	d.PID, d.StartTicks = 7, 70
	other.PID, other.StartTicks = 8, 80
	reused.PID, reused.StartTicks = 9, 91
	s := Sample{Disk: &Disk{DState: []DStateProcess{{PID: 7, StartTicks: 70, Wchan: "io_schedule"}, {PID: 9, StartTicks: 90, Wchan: "folio_wait_bit"}}},
		Processes: []Process{d, other, reused}}
	JoinFrame(&s)
	if w := s.Processes[0].Wchan; w == nil || *w != "io_schedule" {
		t.Errorf("the D process has wchan %v", w)
	}
	if s.Processes[1].Wchan != nil || s.Processes[2].Wchan != nil {
		t.Errorf("wchan on a process not in D (%v) or a reused pid (%v)", s.Processes[1].Wchan, s.Processes[2].Wchan)
	}
}
