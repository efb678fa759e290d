package model

import "time"

// SchemaVersion is the version of the JSON form of a Sample (vitals snapshot
// --json, and recordings): bump it when a key changes meaning or goes away;
// adding keys does not need a bump. docs/snapshot-json.md documents it.
const SchemaVersion = 1

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
	// Disk is nil until the disk probe has two readings to compare.
	Disk *Disk `json:"disk"`
	// Net is nil until the net probe has two readings to compare.
	Net *Net `json:"net"`
	// Processes is nil until the scanner has two scans to compare. Order
	// is unspecified; views sort.
	Processes []Process `json:"processes"`
	// ProcessScan describes the last process scan (how many, how long).
	ProcessScan ProcessScan `json:"process_scan"`
	// Errors holds the error of each probe that failed this frame, by
	// probe name (the same text as in Probes).
	Errors map[string]string `json:"errors,omitempty"`
	// Probes says, for every probe in collection order, over which window
	// its rates are, how long it took, and whether its part is stale
	// (carried over from an earlier frame because the probe overran its
	// budget or failed).
	Probes []ProbeStatus `json:"probes"`
	// Features is every eBPF feature's report: which tier runs and why
	// the faster ones do not.
	Features []Feature `json:"features"`
	// Events is the kernel event log as of this frame (nil when no event
	// source runs).
	Events *EventLogView `json:"events,omitempty"`
	// EventsDropped is Events' drops (kernel and queue, every source)
	// since vitals started; nil when no event source runs.
	EventsDropped *uint64 `json:"events_dropped,omitempty"`
	// EventsTier is the feature report of every event-producing feature
	// (the same reports as in Features).
	EventsTier []Feature `json:"events_tier,omitempty"`
	// ShortLived is what exec/exit events (or, without eBPF, the process
	// table's turnover) say about processes too short-lived for the
	// process table; nil until the events probe has a baseline.
	ShortLived *ShortLived `json:"short_lived,omitempty"`
}

// ProbeStatus is one probe's part of a frame.
type ProbeStatus struct {
	Name string `json:"name"`
	// WindowS is the time between this probe's reading and its previous
	// one: the divisor of its rates. Unknown on the baseline.
	WindowS Float `json:"window_s"`
	// DurationMS is how long the probe took this frame (for a probe still
	// running at the deadline: so far).
	DurationMS float64 `json:"duration_ms"`
	// Stale is set when the part in this frame is not from this frame:
	// the probe overran its budget or failed, and the part shown is the
	// last one it produced, AgeS old (null when it never produced one).
	Stale bool   `json:"stale"`
	AgeS  Float  `json:"age_s"`
	Error string `json:"error,omitempty"`
}

// Probe returns the status of the named probe, or nil.
func (s *Sample) Probe(name string) *ProbeStatus {
	for i := range s.Probes {
		if s.Probes[i].Name == name {
			return &s.Probes[i]
		}
	}
	return nil
}

func (s *Sample) stale(probe string) bool {
	p := s.Probe(probe)
	return p != nil && p.Stale
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
	// Baseline is set on the first frame: the processes are there with
	// what needs no interval (identity, state, memory, CPU time), but no
	// interval has passed, so every rate is zero (WaitPct unknown) and
	// means "not measured yet". Views show rates as unknown then.
	Baseline bool `json:"baseline,omitempty"`
	// StatusSkipped counts processes whose /proc/PID/status was not read
	// because schedstat showed they had not run since the last scan.
	StatusSkipped int `json:"status_skipped"`
	// StatSkipped counts single-threaded processes that had not run since
	// the last scan, whose rates are exactly zero; their stat is re-read
	// every fourth scan (for RSS, nice and parent changes).
	StatSkipped int `json:"stat_skipped"`
}
