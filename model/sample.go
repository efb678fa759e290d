package model

import "time"

// Sample is everything vitals knows about the system at one moment. A
// published Sample is immutable: probes build new parts and the Store swaps
// them in; nobody writes into a Sample that a reader may hold.
type Sample struct {
	Time time.Time `json:"time"`
	// IntervalS is the refresh interval the rates are computed over.
	IntervalS float64 `json:"interval_s"`
	Host      Host    `json:"host"`
	// CPU is nil until the CPU probe has two readings to compare.
	CPU *CPU `json:"cpu"`
	// Memory is nil until the memory probe has two readings to compare.
	Memory *Memory `json:"memory"`
	// Cache is nil until the page-cache probe has drained once.
	Cache *Cache `json:"cache"`
	// Processes is nil until the scanner has two scans to compare. Order
	// is unspecified; views sort.
	Processes []Process `json:"processes"`
	// ProcessScan describes the last process scan (how many, how long).
	ProcessScan ProcessScan `json:"process_scan"`
	// Errors holds the last error of each probe that failed, by probe name.
	Errors map[string]string `json:"errors,omitempty"`
}

// Host is what the header shows: which machine, which kernel, how we run.
type Host struct {
	Hostname string    `json:"hostname"`
	Kernel   string    `json:"kernel"`
	BootTime time.Time `json:"boot_time"`
	// Mode is "eBPF" when running with the privileges eBPF needs, or
	// "procfs only: <reason>".
	Mode string `json:"mode"`
	// ClockTicks is USER_HZ, the unit of /proc tick counters.
	ClockTicks int `json:"clock_ticks"`
}

// ProcessScan is the cost and size of the last scan of every process.
type ProcessScan struct {
	Processes int     `json:"processes"`
	Threads   int     `json:"threads"`
	Duration  float64 `json:"duration_ms"`
	// Vanished counts processes that exited between listing /proc and
	// reading them (normal, not an error).
	Vanished int `json:"vanished"`
	// StatusSkipped counts processes whose /proc/PID/status was not read
	// because schedstat showed they had not run since the last scan.
	StatusSkipped int `json:"status_skipped"`
	// StatSkipped counts single-threaded processes that had not run since
	// the last scan, whose rates are exactly zero; their stat is re-read
	// every fourth scan (for RSS, nice and parent changes).
	StatSkipped int `json:"stat_skipped"`
}
