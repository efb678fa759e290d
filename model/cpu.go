package model

// CPUTimes are the raw cumulative counters of one /proc/stat "cpu" line, in
// clock ticks (USER_HZ). As in the kernel, User includes Guest and Nice
// includes GuestNice.
type CPUTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal, Guest, GuestNice uint64
}

// CPUPercent splits one interval of CPU time into the categories mpstat shows.
// The fields sum to 100. User excludes guest time and Nice excludes guest-nice
// time (as mpstat's %usr and %nice do); Guest and GuestNice are shown apart.
type CPUPercent struct {
	User      float64 `json:"user"`
	Nice      float64 `json:"nice"`
	System    float64 `json:"system"`
	IOWait    float64 `json:"iowait"`
	IRQ       float64 `json:"irq"`
	SoftIRQ   float64 `json:"softirq"`
	Steal     float64 `json:"steal"`
	Guest     float64 `json:"guest"`
	GuestNice float64 `json:"guest_nice"`
	Idle      float64 `json:"idle"`
}

// Busy is everything but idle and iowait (iowait is idle time with I/O
// outstanding, not work).
func (p CPUPercent) Busy() float64 { return 100 - p.Idle - p.IOWait }

// CPUPercentBetween computes the split between two readings of the same CPU
// the way sysstat's mpstat does: each field's delta is clamped at zero (a
// field stepping back is a kernel accounting artefact, not negative time), and
// the interval is the sum of the clamped deltas. ok is false when no time
// passed on that CPU (offline, or the same reading twice).
func CPUPercentBetween(prev, cur CPUTimes) (p CPUPercent, ok bool) {
	user := ClampedDelta(prev.User, cur.User)
	nice := ClampedDelta(prev.Nice, cur.Nice)
	guest := ClampedDelta(prev.Guest, cur.Guest)
	gnice := ClampedDelta(prev.GuestNice, cur.GuestNice)
	system := ClampedDelta(prev.System, cur.System)
	idle := ClampedDelta(prev.Idle, cur.Idle)
	iowait := ClampedDelta(prev.IOWait, cur.IOWait)
	irq := ClampedDelta(prev.IRQ, cur.IRQ)
	softirq := ClampedDelta(prev.SoftIRQ, cur.SoftIRQ)
	steal := ClampedDelta(prev.Steal, cur.Steal)
	// Guest time is already inside user (and guest-nice inside nice).
	if guest > user {
		guest = user
	}
	if gnice > nice {
		gnice = nice
	}
	total := user + nice + system + idle + iowait + irq + softirq + steal
	if total == 0 {
		return CPUPercent{}, false
	}
	pct := func(v uint64) float64 { return float64(v) * 100 / float64(total) }
	return CPUPercent{
		User:      pct(user - guest),
		Nice:      pct(nice - gnice),
		System:    pct(system),
		IOWait:    pct(iowait),
		IRQ:       pct(irq),
		SoftIRQ:   pct(softirq),
		Steal:     pct(steal),
		Guest:     pct(guest),
		GuestNice: pct(gnice),
		Idle:      pct(idle),
	}, true
}

// CPU is the system-wide CPU part of a Sample.
type CPU struct {
	// Count is the number of CPUs the kernel could run on (online or not).
	Count  int        `json:"count"`
	Online int        `json:"online"`
	Total  CPUPercent `json:"total"`
	// PerCPU is indexed by position, each entry naming its CPU id; an offline
	// CPU is listed with Online false and zero percentages.
	PerCPU []PerCPU `json:"per_cpu"`

	Load     LoadAvg `json:"load"`
	CtxtPerS Float   `json:"ctxt_per_s"`
	IntrPerS Float   `json:"intr_per_s"`
	// ForksPerS counts processes and threads created (the "processes" line).
	ForksPerS Float `json:"forks_per_s"`
	// ProcsRunning and ProcsBlocked are vmstat's r and b: tasks runnable
	// (running or waiting for a CPU) and tasks in uninterruptible sleep
	// waiting on I/O (procs_blocked).
	ProcsRunning uint64 `json:"procs_running"`
	ProcsBlocked uint64 `json:"procs_blocked"`

	// PSI is nil when the kernel has no /proc/pressure/cpu; Unavailable
	// says why.
	PSI *Pressure `json:"psi"`
	// SoftIRQ rates per type (NET_RX, TIMER, ...) summed over CPUs, and per
	// CPU in PerCPU.
	SoftIRQs []SoftIRQRate `json:"softirqs"`

	// RunQLat is run-queue latency over the interval (eBPF); nil when
	// the runqlat probe has no reading (not root, no tier loads).
	RunQLat *RunQLat `json:"runqlat_hist,omitempty"`

	// Unavailable maps a field name ("psi", "softirqs") to why it could
	// not be read.
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// PerCPU is one CPU's share of the interval.
type PerCPU struct {
	ID     int  `json:"id"`
	Online bool `json:"online"`
	CPUPercent
	// SoftIRQPerS is this CPU's softirq rate per type, in the order of
	// CPU.SoftIRQs.
	SoftIRQPerS []float64 `json:"softirq_per_s,omitempty"`
}

// LoadAvg is /proc/loadavg.
type LoadAvg struct {
	One      float64 `json:"1"`
	Five     float64 `json:"5"`
	Fifteen  float64 `json:"15"`
	Runnable uint64  `json:"runnable"` // scheduling entities currently runnable
	Total    uint64  `json:"total"`    // scheduling entities that exist
}

// Pressure is one PSI resource: the share of wall time in which some (or,
// for "full", all non-idle) tasks were stalled on it, averaged over 10, 60
// and 300 s, as the kernel reports it. Full is nil where the kernel does not
// report it (the cpu resource before 5.13, and always at the system level
// when it would be meaningless).
type Pressure struct {
	Some PressureAvg  `json:"some"`
	Full *PressureAvg `json:"full,omitempty"`
}

// PressureAvg holds the kernel's running averages in percent and the
// cumulative stall time in microseconds.
type PressureAvg struct {
	Avg10   float64 `json:"avg10"`
	Avg60   float64 `json:"avg60"`
	Avg300  float64 `json:"avg300"`
	TotalUs uint64  `json:"total_us"`
}

// SoftIRQRate is one softirq type's rate summed over all CPUs.
type SoftIRQRate struct {
	Name string  `json:"name"`
	PerS float64 `json:"per_s"`
}
