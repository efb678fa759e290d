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
