package cputab

import (
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/proctable"
)

// Columns are the process table of the CPU tab: what top, htop and
// pidstat -u -w show, with where each number comes from for the help.
// Percentages have one decimal, as top prints them.
func Columns() []proctable.Column {
	itoa := func(v int32) string { return strconv.Itoa(int(v)) }
	// Priority: what a narrow pane keeps, 1 longest (PID 1, USER 4, S 3
	// from proctable).
	return []proctable.Column{
		proctable.PIDColumn(),
		proctable.UserColumn(),
		proctable.StateColumn(),
		proctable.Numeric("threads", "THR", 4, func(p *model.Process) int32 { return p.Threads }, itoa,
			"threads in the process (num_threads, /proc/PID/stat)").WithPriority(8),
		// Nice sorts ascending first: the favoured processes on top.
		{ID: "nice", Title: "NI", Width: 3, Align: proctable.AlignRight, Priority: 9,
			Value: func(p *model.Process) string { return itoa(p.Nice) },
			Less:  func(a, b *model.Process) bool { return a.Nice < b.Nice },
			Help:  "nice value, -20 (favoured) to 19 (/proc/PID/stat)"},
		proctable.Numeric("cpu", "%CPU", 6, func(p *model.Process) float64 { return p.CPUPct }, common.Pct,
			"user+system CPU over the interval; 100 = one full CPU, so a process on 2 cores shows 200 (as top and pidstat). From utime+stime in /proc/PID/stat").WithPriority(1),
		proctable.Numeric("usr", "%USR", 6, func(p *model.Process) float64 { return p.UserPct }, common.Pct,
			"CPU in user space (utime, /proc/PID/stat), 100 = one CPU").WithPriority(5),
		proctable.Numeric("sys", "%SYS", 6, func(p *model.Process) float64 { return p.SystemPct }, common.Pct,
			"CPU in the kernel on the process's behalf (stime, /proc/PID/stat), 100 = one CPU").WithPriority(5),
		// Summed over threads, so not pidstat's %wait (the main thread's):
		// the title is not pidstat's either.
		proctable.OptNumeric("wait", "WAIT%", 6, 1, func(p *model.Process) model.Float { return p.WaitPct },
			"run-queue wait summed over threads, % of one CPU: time the process's threads were runnable but waiting for a CPU (/proc/PID/task/*/schedstat field 2), so a thread pool can pass 100. pidstat -t's per-thread %wait values add up to it; pidstat's %wait is the main thread only. High means CPU saturation, not I/O").WithPriority(2),
		proctable.Numeric("cswch", "CSW/s", 7, func(p *model.Process) float64 { return p.VoluntaryCSPerS }, common.Count,
			"voluntary context switches/s summed over threads: a thread blocked (I/O, lock, sleep). pidstat -wt's per-thread cswch/s values add up to it; pidstat -w's is the main thread only (/proc/PID/task/*/status)").WithPriority(6),
		proctable.Numeric("nvcswch", "NVCSW/s", 7, func(p *model.Process) float64 { return p.InvoluntaryCSPerS }, common.Count,
			"involuntary context switches/s summed over threads: a thread was preempted while it wanted to run (CPU contention). pidstat -wt's nvcswch/s summed; pidstat -w's is the main thread only").WithPriority(7),
		proctable.Numeric("rss", "RSS", 6, func(p *model.Process) uint64 { return p.RSSBytes }, common.Bytes,
			"resident memory (rss pages × page size, /proc/PID/stat); the Memory tab adds PSS/USS").WithPriority(4),
		proctable.Numeric("time", "TIME+", 9, func(p *model.Process) uint64 { return p.CPUTimeTicks }, cpuTime,
			"total CPU time used since the process started, minutes:seconds.hundredths (top's TIME+)").WithPriority(6),
		proctable.CommandColumn(),
	}
}

// cpuTime formats clock ticks (1/100 s) as top's TIME+: m:ss.hh, or h:mm:ss
// past 100 minutes.
func cpuTime(ticks uint64) string {
	hundredths := ticks % 100
	secs := ticks / 100
	m, s := secs/60, secs%60
	var b strings.Builder
	if m >= 100 {
		h := m / 60
		b.WriteString(strconv.FormatUint(h, 10))
		b.WriteByte('h')
		b.WriteString(pad2(m % 60))
		b.WriteByte(':')
		b.WriteString(pad2(s))
		return b.String()
	}
	b.WriteString(strconv.FormatUint(m, 10))
	b.WriteByte(':')
	b.WriteString(pad2(s))
	b.WriteByte('.')
	b.WriteString(pad2(hundredths))
	return b.String()
}

func pad2(v uint64) string {
	if v < 10 {
		return "0" + strconv.FormatUint(v, 10)
	}
	return strconv.FormatUint(v, 10)
}
