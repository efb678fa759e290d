package model

// CounterDelta is cur-prev for a monotonic kernel counter. When the counter
// went backwards it was reset (wrapped, a CPU came back online, a device was
// re-added) and the delta over this interval is not knowable: ok is false.
func CounterDelta(prev, cur uint64) (delta uint64, ok bool) {
	if cur < prev {
		return 0, false
	}
	return cur - prev, true
}

// CounterRate is the per-second rate of a monotonic counter over seconds, or
// Unknown across a reset or an empty interval. It never returns a negative
// or wrapped-around huge rate.
func CounterRate(prev, cur uint64, seconds float64) Float {
	d, ok := CounterDelta(prev, cur)
	if !ok || seconds <= 0 {
		return Unknown
	}
	return Known(float64(d) / seconds)
}

// ClampedDelta is cur-prev, or 0 when the counter went backwards. Use it where
// tools we are compared with do the same: sysstat treats a per-field /proc/stat
// decrease (iowait is known to step back on NO_HZ kernels) as zero.
func ClampedDelta(prev, cur uint64) uint64 {
	if cur < prev {
		return 0
	}
	return cur - prev
}

// KeyedCounters remembers the previous reading of a set of counter records
// keyed by name — block devices, network interfaces — that come and go
// between readings. Each frame, Observe every key read; EndFrame forgets the
// keys not seen (a device that disappeared), so one that comes back is new
// again and gets no rate for its first interval instead of a huge one. Rates
// of the fields come from CounterRate, which turns a counter that went
// backwards (a re-created device) into Unknown.
type KeyedCounters[K comparable, V any] struct {
	prev, cur map[K]V
}

// Observe records cur for key and returns the key's previous reading; ok is
// false when the key was not in the previous frame.
func (c *KeyedCounters[K, V]) Observe(key K, cur V) (prev V, ok bool) {
	if c.cur == nil {
		c.cur = map[K]V{}
	}
	c.cur[key] = cur
	prev, ok = c.prev[key]
	return prev, ok
}

// EndFrame makes this frame's readings the baseline of the next one. The
// two maps are swapped and reused, so a steady set of keys allocates
// nothing.
func (c *KeyedCounters[K, V]) EndFrame() {
	old := c.prev
	c.prev, c.cur = c.cur, old
	clear(c.cur)
}
