package model

import "time"

// DefaultHistoryCapacity keeps one hour at a 1 s refresh.
const DefaultHistoryCapacity = 3600

// Series names for the history the views chart. Only what a view (or a
// future recording) reads is kept: each series costs memory for an hour.
const (
	SeriesCPUBusy = "cpu.busy" // total CPU utilisation, % (100 - idle - iowait)
	SeriesLoad1   = "load.1"

	SeriesMemUsed      = "mem.used"      // bytes, total − available
	SeriesMemCache     = "mem.cache"     // bytes, Cached + SReclaimable
	SeriesMemAvailable = "mem.available" // bytes

	SeriesCacheHitRatio = "cache.hit_ratio" // %, system-wide
	SeriesCacheMisses   = "cache.misses"    // pages/s
)

// RecordHistory appends the points of one published frame to h. It is the
// one place history is derived: probes publish samples, never points, so a
// replay of recorded samples rebuilds the same history through this code.
// A part that is missing, stale (carried over from an earlier frame) or
// unknown adds no point.
func RecordHistory(h *History, s *Sample) {
	t := s.Time
	if cpu := s.CPU; cpu != nil && !s.stale("cpu") {
		h.Record(SeriesCPUBusy, t, cpu.Total.Busy())
		h.Record(SeriesLoad1, t, cpu.Load.One)
	}
	if m := s.Memory; m != nil && !s.stale("memory") {
		h.Record(SeriesMemUsed, t, float64(m.UsedBytes))
		h.Record(SeriesMemCache, t, float64(m.CacheBytes))
		if m.AvailableBytes.OK {
			h.Record(SeriesMemAvailable, t, m.AvailableBytes.V)
		}
	}
	if s.Disk != nil && !s.stale("disk") {
		recordDiskHistory(h, s)
	}
	if c := s.Cache; c != nil && c.System != nil && !s.stale("cache") {
		if c.System.HitRatio.OK {
			h.Record(SeriesCacheHitRatio, t, c.System.HitRatio.V)
		}
		h.Record(SeriesCacheMisses, t, c.System.MissesPerS)
	}
	recordNetHistory(h, s)
}

// Point is one value of a series at one time.
type Point struct {
	UnixMilli int64
	V         float64
}

// Time is the point's timestamp.
func (p Point) Time() time.Time { return time.UnixMilli(p.UnixMilli) }

// series is one metric's history.
type series = ring[Point]

// SeriesView is an immutable copy of a series at the time of a snapshot.
type SeriesView struct{ ringView[Point] }

// Last appends the values of the newest n points (fewer if the series is
// shorter) to dst, oldest first.
func (v SeriesView) Last(n int, dst []float64) []float64 {
	l := v.Len()
	if n > l {
		n = l
	}
	for i := l - n; i < l; i++ {
		dst = append(dst, v.At(i).V)
	}
	return dst
}

// History is the set of series one Store keeps.
type History struct {
	capacity int
	series   map[string]*series
	diskKeep []string // reused by recordDiskHistory
	// diskLat is each device's latency histograms, one point per frame,
	// for the Disk tab's heatmap (recordDiskHistory).
	diskLat map[string]*ring[DiskLatPoint]
}

// NewHistory makes a history whose series each keep capacity points.
func NewHistory(capacity int) *History {
	if capacity <= 0 {
		capacity = DefaultHistoryCapacity
	}
	return &History{capacity: capacity, series: map[string]*series{}, diskLat: map[string]*ring[DiskLatPoint]{}}
}

// Record appends a point to a series, creating it on first use.
func (h *History) Record(name string, t time.Time, v float64) {
	s := h.series[name]
	if s == nil {
		s = &series{capacity: h.capacity}
		h.series[name] = s
	}
	s.append(Point{UnixMilli: t.UnixMilli(), V: v})
}

func (h *History) view() map[string]SeriesView {
	m := make(map[string]SeriesView, len(h.series))
	for name, s := range h.series {
		m[name] = SeriesView{s.view()}
	}
	return m
}
