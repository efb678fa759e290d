package model

import "time"

// ProcKey identifies a process across samples. PIDs are reused, so the pid
// alone is not an identity: a process with the same pid and a different
// start time is a different process.
type ProcKey struct {
	PID int32
	// StartTicks is field 22 of /proc/PID/stat: clock ticks after boot.
	StartTicks uint64
}

// Process is one process over one interval. Rates are over the interval that
// ended at the Sample's time; a process that started inside the interval has
// its rates over the part of the interval it lived.
type Process struct {
	PID        int32     `json:"pid"`
	PPID       int32     `json:"ppid"`
	StartTicks uint64    `json:"start_ticks"`
	StartTime  time.Time `json:"start_time"`
	UID        uint32    `json:"uid"`
	User       string    `json:"user"`
	// Comm and Cmdline are untrusted text straight from the process; they
	// may contain any bytes. Views must escape them (see Sanitize).
	Comm    string `json:"comm"`
	Cmdline string `json:"cmdline"`
	// State is the one-letter state of /proc/PID/stat: R S D Z T t I X.
	State   string `json:"state"`
	Threads int32  `json:"threads"`
	Nice    int32  `json:"nice"`
	// Processor is the CPU the process last ran on.
	Processor int32 `json:"processor"`

	// CPUPct is user+system time as a percentage of one CPU: 100 means one
	// full CPU, a process using two cores shows 200 (top/pidstat Irix mode).
	CPUPct    float64 `json:"cpu_pct"`
	UserPct   float64 `json:"user_pct"`
	SystemPct float64 `json:"system_pct"`
	// WaitPct is time spent runnable but waiting for a CPU (run-queue
	// delay) as a percentage of the interval, from /proc/PID/schedstat, as
	// pidstat's %wait. Unknown when schedstat is not readable.
	WaitPct Float `json:"wait_pct"`
	// CPUTimeTicks is cumulative user+system time (top's TIME+).
	CPUTimeTicks uint64 `json:"cpu_time_ticks"`

	// Context switches per second (pidstat -w cswch/s and nvcswch/s):
	// voluntary (the process blocked) and involuntary (it was preempted).
	VoluntaryCSPerS   float64 `json:"cswch_per_s"`
	InvoluntaryCSPerS float64 `json:"nvcswch_per_s"`

	// RSSBytes and VSZBytes from /proc/PID/stat, so the table can sort by
	// memory before the Memory tab exists.
	RSSBytes uint64 `json:"rss_bytes"`
	VSZBytes uint64 `json:"vsz_bytes"`
	// Page faults per second (minor: no I/O; major: needed I/O).
	MinFltPerS float64 `json:"minflt_per_s"`
	MajFltPerS float64 `json:"majflt_per_s"`
	// MemPct is RSS as a percentage of MemTotal (top's %MEM).
	MemPct float64 `json:"mem_pct"`

	// From /proc/PID/smaps_rollup, which costs ~30 µs per process, so it
	// is read only for processes someone looks at (see Demand): PSS
	// (shared pages divided among their users), USS (private pages: what
	// exiting would free), shared and swapped-out bytes. Null when never
	// read; MemDetail says how fresh.
	PSSBytes    Float `json:"pss_bytes"`
	USSBytes    Float `json:"uss_bytes"`
	SharedBytes Float `json:"shared_bytes"`
	SwapBytes   Float `json:"swap_bytes"`
	// MemDetail is "fresh" (read this interval), "stale" (read earlier:
	// MemDetailAgeS old), "not_read", or "denied" (not permitted).
	MemDetail     string  `json:"mem_detail"`
	MemDetailAgeS float64 `json:"mem_detail_age_s,omitempty"`

	// Cgroup is the process's memory cgroup path (v2 unified path, or the
	// v1 memory controller's), read when the process is first seen.
	Cgroup string `json:"cgroup"`
}

// Memory detail freshness values for Process.MemDetail.
const (
	DetailFresh   = "fresh"
	DetailStale   = "stale"
	DetailNotRead = "not_read"
	DetailDenied  = "denied"
)

// Key is the process's identity.
func (p *Process) Key() ProcKey { return ProcKey{PID: p.PID, StartTicks: p.StartTicks} }
