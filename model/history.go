package model

import "time"

// DefaultHistoryCapacity keeps one hour at a 1 s refresh.
const DefaultHistoryCapacity = 3600

// Series names for the history every view can chart.
const (
	SeriesCPUBusy   = "cpu.busy"   // total CPU utilisation, % (100 - idle - iowait)
	SeriesCPUUser   = "cpu.user"   // user+nice %
	SeriesCPUSystem = "cpu.system" // system+irq+softirq %
	SeriesCPUIOWait = "cpu.iowait"
	SeriesCPUSteal  = "cpu.steal"
	SeriesLoad1     = "load.1"
	SeriesRunQueue  = "procs.running"
	SeriesCtxtPerS  = "cpu.ctxt_per_s"

	SeriesMemUsed      = "mem.used"      // bytes, total − available
	SeriesMemCache     = "mem.cache"     // bytes, Cached + SReclaimable
	SeriesMemAvailable = "mem.available" // bytes
	SeriesSwapUsed     = "swap.used"     // bytes
	SeriesSwapInOut    = "swap.in_out"   // pages/s, si + so
	SeriesScanDirect   = "vm.pgscan_direct_per_s"
	SeriesProcsTotal   = "procs.total"

	SeriesCacheHitRatio = "cache.hit_ratio" // %, system-wide
	SeriesCacheAccesses = "cache.accesses"  // pages/s
	SeriesCacheMisses   = "cache.misses"    // pages/s
)

// Point is one value of a series at one time.
type Point struct {
	UnixMilli int64
	V         float64
}

// Time is the point's timestamp.
func (p Point) Time() time.Time { return time.UnixMilli(p.UnixMilli) }

const chunkLen = 64

// chunk is a block of points; once full it is never written again, which is
// what lets snapshots share it without copying or locking.
type chunk [chunkLen]Point

// series is a fixed-capacity history of one metric. It keeps full chunks
// (immutable) plus a tail being filled. Only the Store's writer touches it.
type series struct {
	full     []*chunk
	tail     *chunk
	tailLen  int
	capacity int
}

func (s *series) append(p Point) {
	if s.tail == nil || s.tailLen == chunkLen {
		if s.tail != nil {
			s.full = append(s.full, s.tail)
		}
		s.tail = new(chunk)
		s.tailLen = 0
		// Drop whole chunks beyond capacity. Re-slicing never writes into
		// what an older snapshot can see: appends land past every
		// snapshot's end.
		maxFull := (s.capacity + chunkLen - 1) / chunkLen
		if len(s.full) > maxFull {
			s.full = s.full[len(s.full)-maxFull:]
		}
	}
	s.tail[s.tailLen] = p
	s.tailLen++
}

// view freezes the series: full chunks are shared, the tail is copied.
func (s *series) view() SeriesView {
	v := SeriesView{full: s.full[:len(s.full):len(s.full)], capacity: s.capacity}
	if s.tail != nil {
		v.tail = append([]Point(nil), s.tail[:s.tailLen]...)
	}
	return v
}

// SeriesView is an immutable copy of a series at the time of a snapshot.
type SeriesView struct {
	full     []*chunk
	tail     []Point
	capacity int
}

// Len is the number of points, at most the series capacity.
func (v SeriesView) Len() int {
	n := len(v.full)*chunkLen + len(v.tail)
	if n > v.capacity {
		n = v.capacity
	}
	return n
}

// At returns the i-th point, 0 being the oldest retained.
func (v SeriesView) At(i int) Point {
	total := len(v.full)*chunkLen + len(v.tail)
	i += total - v.Len()
	if c := i / chunkLen; c < len(v.full) {
		return v.full[c][i%chunkLen]
	}
	return v.tail[i-len(v.full)*chunkLen]
}

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
}

// NewHistory makes a history whose series each keep capacity points.
func NewHistory(capacity int) *History {
	if capacity <= 0 {
		capacity = DefaultHistoryCapacity
	}
	return &History{capacity: capacity, series: map[string]*series{}}
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
		m[name] = s.view()
	}
	return m
}
