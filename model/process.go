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

// Process is one process over one interval, in parts by domain (below's
// per-process model: identity, cpu, memory, io). The parts are embedded, so
// fields read as p.CPUPct and the JSON stays one flat object with the keys
// it always had, in the same order; new parts append keys.
//
// Each part keeps its per-interval rates in a struct of their own (the
// *Rates types): a process that did not run in the interval has every rate
// exactly zero, and the scanner says so by zeroing those structs whole, so
// a rate added to one of them can never be left stale.
//
// Rates are over the interval that ended at the Sample's time, including
// for a process born inside it: its counters are divided by the whole
// interval, as pidstat does, so the processes' rates add up to the
// machine's.
type Process struct {
	ProcessIdentity
	ProcessCPU
	ProcessMemory
	ProcessIO
	ProcessCacheRates
	ProcessNetRates
	ProcessDisk
}

// ProcessDisk is the process's block I/O over the interval, joined from
// Disk.PerProcess by ProcKey (JoinFrame): bytes and requests it submitted
// that completed, and their latency (issue to completion), from eBPF;
// without eBPF, bytes from /proc/PID/io (read_bytes, write_bytes:
// write_bytes is charged when pages are dirtied, not when they reach the
// disk), the rest null. The iodelay is the scanner's.
type ProcessDisk struct {
	ProcessDiskRates
	// DiskSource is "ebpf" or "procfs".
	DiskSource        string `json:"disk_source"`
	DiskLatencyMeanUs Float  `json:"disk_latency_mean_us"`
	DiskLatencyMaxUs  Float  `json:"disk_latency_max_us"`
	ProcessIODelayRates
	// IODelayReason says why iodelay_pct is null.
	IODelayReason string `json:"iodelay_reason,omitempty"`
	// Wchan is the kernel function a process in uninterruptible sleep (D)
	// waits in, from the disk probe's D-state list; nil for a process not
	// in D this frame (wchan is read for those only), or when the kernel
	// does not say (disk.d_state[].wchan_reason).
	Wchan *string `json:"wchan"`
}

// ProcessDiskRates is ProcessDisk's bytes and I/Os per second.
type ProcessDiskRates struct {
	DiskReadBytesPerS  Float `json:"disk_read_bytes_per_s"`
	DiskWriteBytesPerS Float `json:"disk_write_bytes_per_s"`
	DiskIOsPerS        Float `json:"disk_ios_per_s"`
}

// ProcessIODelayRates is the time the process's main thread waited for
// block I/O over the interval (delayacct_blkio_ticks, field 42 of
// /proc/PID/stat, the leader's only), as % of the interval: pidstat -d's
// iodelay, in %. Null (IODelayReason) when the kernel does not account it.
type ProcessIODelayRates struct {
	IODelayPct Float `json:"iodelay_pct"`
}

// ProcessNetRates is the process's network traffic over the interval,
// joined from Net.PerProcess by ProcKey (model.JoinFrame): socket payload
// bytes per second sent and received (TCP and UDP, no headers, no ACKs)
// and TCP segments retransmitted on its sockets. Null without eBPF.
type ProcessNetRates struct {
	NetTxBytesPerS     Float `json:"net_tx_bytes_per_s"`
	NetRxBytesPerS     Float `json:"net_rx_bytes_per_s"`
	NetRetransmitsPerS Float `json:"net_retransmits_per_s"`
}

// ProcessCacheRates is the process's page-cache activity over the interval,
// joined from the Cache part by ProcKey (model.JoinFrame): pages, as in
// Cache.Processes. Null when unknown: the estimate without a readable
// /proc/PID/io, or no page-cache source at all.
type ProcessCacheRates struct {
	CacheHits       Float `json:"cache_hits"`
	CacheMisses     Float `json:"cache_misses"`
	CacheReadHitPct Float `json:"cache_read_hit_pct"`
}

// ProcessIdentity is who the process is and its state at the end of the
// interval.
type ProcessIdentity struct {
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
}

// ProcessCPU is the process's CPU time and scheduling.
type ProcessCPU struct {
	ProcessCPURates
	// CPUTimeTicks is cumulative user+system time (top's TIME+).
	CPUTimeTicks uint64 `json:"cpu_time_ticks"`
	ProcessSwitchRates
}

// ProcessCPURates is CPU use over the interval.
type ProcessCPURates struct {
	// CPUPct is user+system time as a percentage of one CPU: 100 means one
	// full CPU, a process using two cores shows 200 (top/pidstat Irix mode).
	CPUPct    float64 `json:"cpu_pct"`
	UserPct   float64 `json:"user_pct"`
	SystemPct float64 `json:"system_pct"`
	// WaitPct is run-queue delay (time runnable but waiting for a CPU,
	// schedstat field 2) summed over all the process's threads, as a
	// percentage of the interval: of one CPU like CPUPct, so a thread pool
	// waiting behind other work can pass 100. pidstat's %wait is the main
	// thread's alone; pidstat -t's per-thread %wait values add up to this.
	// Unknown when schedstat is not readable.
	WaitPct Float `json:"wait_pct"`
}

// ProcessSwitchRates is context switches per second (pidstat -w cswch/s
// and nvcswch/s): voluntary (a thread blocked) and involuntary (it was
// preempted), summed over all the process's threads. pidstat -w shows the
// main thread's only; pidstat -wt shows each thread, and those add up to
// these.
type ProcessSwitchRates struct {
	VoluntaryCSPerS   float64 `json:"cswch_per_s"`
	InvoluntaryCSPerS float64 `json:"nvcswch_per_s"`
}

// ProcessMemory is the process's memory at the end of the interval and its
// page faults over it.
type ProcessMemory struct {
	// RSSBytes is resident memory, exact (/proc/PID/statm field 2, as
	// VmRSS and ps; /proc/PID/stat's field 24 reads low on kernels whose
	// RSS counters are per-CPU). VSZBytes is the virtual size.
	RSSBytes uint64 `json:"rss_bytes"`
	VSZBytes uint64 `json:"vsz_bytes"`
	ProcessFaultRates
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
	// v1 memory controller's), read when the process is first seen. It is
	// here, not in the identity, because it is the memory controller's
	// (what the Memory tab groups by), and it keeps the JSON key order.
	Cgroup string `json:"cgroup"`
}

// ProcessFaultRates is page faults per second (minor: no I/O; major:
// needed I/O).
type ProcessFaultRates struct {
	MinFltPerS float64 `json:"minflt_per_s"`
	MajFltPerS float64 `json:"majflt_per_s"`
}

// ProcessIO is the process's I/O over the interval, from /proc/PID/io
// (all threads, including those that exited). It is read only on demand
// (DemandSet.IO) and only for processes that ran; IODetail says whether the
// rates are known.
type ProcessIO struct {
	ProcessIORates
	// IODetail is "fresh" (known for this interval), "not_read" (nobody
	// asked, or the process was first seen this interval with counters
	// from before it), or "denied" (/proc/PID/io is readable only for
	// one's own processes unless root).
	IODetail string `json:"io_detail"`
}

// ProcessIORates is /proc/PID/io per second. Unknown (null) unless
// IODetail is "fresh", and across a counter that went backwards.
type ProcessIORates struct {
	// ReadBytesPerS and WriteBytesPerS are what the process made the block
	// layer read and what it dirtied for writing (written back later,
	// perhaps by another task); CancelledWriteBytesPerS is dirtied data
	// that was truncated before it reached the disk.
	ReadBytesPerS           Float `json:"read_bytes_per_s"`
	WriteBytesPerS          Float `json:"write_bytes_per_s"`
	CancelledWriteBytesPerS Float `json:"cancelled_write_bytes_per_s"`
	// RcharPerS and WcharPerS are bytes passed to read(2) and write(2)
	// and their kin, from the page cache, pipes and sockets as well as
	// disks; SyscrPerS and SyscwPerS count those calls.
	RcharPerS Float `json:"rchar_per_s"`
	WcharPerS Float `json:"wchar_per_s"`
	SyscrPerS Float `json:"syscr_per_s"`
	SyscwPerS Float `json:"syscw_per_s"`
}

// Detail freshness values for Process.MemDetail and Process.IODetail.
const (
	DetailFresh   = "fresh"
	DetailStale   = "stale"
	DetailNotRead = "not_read"
	DetailDenied  = "denied"
)

// ZeroRates sets every per-interval rate to zero, Float rates to Unknown:
// what is left of a process that did not run, before the scanner marks as
// known zero the rates it could measure. A rate struct added to Process is
// added here, next to its definition.
func (p *Process) ZeroRates() {
	p.ProcessCPURates = ProcessCPURates{}
	p.ProcessSwitchRates = ProcessSwitchRates{}
	p.ProcessFaultRates = ProcessFaultRates{}
	p.ProcessIORates = ProcessIORates{}
	p.ProcessCacheRates = ProcessCacheRates{}
	p.ProcessNetRates = ProcessNetRates{}
	p.ProcessDiskRates = ProcessDiskRates{}
	p.ProcessIODelayRates = ProcessIODelayRates{}
}

// Key is the process's identity.
func (p *Process) Key() ProcKey { return ProcKey{PID: p.PID, StartTicks: p.StartTicks} }
