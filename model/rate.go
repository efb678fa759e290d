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
