package model

import (
	"fmt"
	"math"
)

// RunQLatSlots is the number of log2 slots of a run-queue latency
// histogram: slot 0 counts waits below 1 µs, slot i (i >= 1) waits in
// [2^(i-1), 2^i) µs, the last slot also everything longer (bcc runqlat's
// buckets, shifted by one so that sub-microsecond waits have their own).
const RunQLatSlots = 27

// RunQLatBucketsUs are the slots' lower bounds in µs.
var RunQLatBucketsUs = func() []float64 {
	b := make([]float64, RunQLatSlots)
	for i := 1; i < RunQLatSlots; i++ {
		b[i] = math.Ldexp(1, i-1)
	}
	return b
}()

// RunQLat is run-queue latency over one interval: how long tasks waited
// between becoming runnable (woken, or preempted while still runnable) and
// running, from eBPF (runqlat).
type RunQLat struct {
	// Tier is the eBPF tier it comes from.
	Tier string `json:"tier"`
	// WindowS is the interval the counts are over.
	WindowS float64 `json:"window_s"`
	// BucketsUs are the slots' lower bounds in µs (RunQLatBucketsUs);
	// Counts the waits per slot, all CPUs.
	BucketsUs []float64 `json:"buckets_us"`
	Counts    []uint64  `json:"counts"`
	// Waits is the number of waits, MeanUs their mean; P50Us, P99Us are
	// estimated from the histogram (a slot's upper bound: never below the
	// truth by more than the slot's width).
	Waits  uint64 `json:"waits"`
	MeanUs Float  `json:"mean_us"`
	P50Us  Float  `json:"p50_us"`
	P99Us  Float  `json:"p99_us"`
	// Lost counts wait starts the kernel could not record (its table of
	// waiting threads was full; raw_tp and tracepoint tiers only).
	Lost uint64 `json:"lost"`
	// PerCPU is one histogram per CPU (the CPU the task then ran on),
	// when asked for (Demand.RunQLatPerCPU); nil otherwise.
	PerCPU []RunQLatCPU `json:"per_cpu,omitempty"`
	// Processes are the processes with the most run-queue wait in the
	// interval (tp_btf tier only; nil elsewhere: see ProcessesReason),
	// most first.
	Processes       []RunQWait `json:"processes,omitempty"`
	ProcessesReason string     `json:"processes_reason,omitempty"`
	// BaselineP99Us is the median p99 of up to the last 60 intervals
	// before this one; Warning is set when latency rises (see
	// RunQLatWarning).
	BaselineP99Us Float  `json:"baseline_p99_us"`
	Warning       string `json:"warning,omitempty"`
}

// RunQLatCPU is one CPU's histogram.
type RunQLatCPU struct {
	CPU    int      `json:"cpu"`
	Counts []uint64 `json:"counts"`
	Waits  uint64   `json:"waits"`
	P99Us  Float    `json:"p99_us"`
}

// RunQWait is one process's run-queue wait over the interval.
type RunQWait struct {
	PID        int32  `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
	Comm       string `json:"comm"`
	// WaitS is the time its threads spent waiting for a CPU; WaitPct
	// that as a percentage of the interval (above 100 for several
	// threads waiting at once), as pidstat's %wait.
	WaitS   float64 `json:"wait_s"`
	WaitPct float64 `json:"wait_pct"`
	Waits   uint64  `json:"waits"`
	// MeanUs is the mean wait.
	MeanUs float64 `json:"mean_us"`
}

// HistPercentile is the upper bound (µs) of the slot holding the q-th
// quantile (0 < q <= 1) of counts; unknown when counts are all zero.
func HistPercentile(counts []uint64, q float64) Float {
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
		seen += c
		if seen >= want {
			return Known(math.Ldexp(1, i)) // slot i ends at 2^i µs
		}
	}
	return Known(math.Ldexp(1, len(counts)-1))
}

// Warning thresholds: latency "rises" when this interval's p99 is at least
// RunQLatRiseFactor times the baseline and at least RunQLatRiseMinUs.
const (
	RunQLatRiseFactor = 4
	RunQLatRiseMinUs  = 1000
)

// RunQLatWarning words a rise of p99 over its baseline, or returns "".
// Without a baseline (the first intervals) a p99 above 10 ms warns alone.
func RunQLatWarning(p99, baseline Float) string {
	if !p99.OK {
		return ""
	}
	if !baseline.OK {
		if p99.V >= 10*RunQLatRiseMinUs {
			return fmt.Sprintf("run-queue latency p99 %s: tasks wait long for a CPU", FormatUs(p99.V))
		}
		return ""
	}
	if p99.V >= RunQLatRiseMinUs && p99.V >= RunQLatRiseFactor*baseline.V {
		return fmt.Sprintf("run-queue latency rising: p99 %s, %.0f× the last minute's %s",
			FormatUs(p99.V), p99.V/math.Max(baseline.V, 1), FormatUs(baseline.V))
	}
	return ""
}

// FormatUs renders microseconds as µs, ms or s.
func FormatUs(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.1f s", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.1f ms", us/1e3)
	}
	return fmt.Sprintf("%.0f µs", us)
}
