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
func Columns() []proctable.Column {
	f1 := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	return []proctable.Column{
		{ID: "pid", Title: "PID", Width: 7, Align: proctable.AlignRight,
			Value: func(p *model.Process) string { return strconv.Itoa(int(p.PID)) },
			Less:  func(a, b *model.Process) bool { return a.PID < b.PID },
			Help:  "process id (/proc/PID). A reused pid with a new start time is a new process."},
		{ID: "user", Title: "USER", Width: 9,
			Value: func(p *model.Process) string { return p.User },
			Less:  func(a, b *model.Process) bool { return a.User < b.User },
			Help:  "real user of the process (Uid in /proc/PID/status, named from /etc/passwd)"},
		{ID: "state", Title: "S", Width: 1,
			Value: func(p *model.Process) string { return p.State },
			Less:  func(a, b *model.Process) bool { return a.State < b.State },
			Help:  "state: R running/runnable, S sleeping, D uninterruptible (usually disk I/O), Z zombie, T stopped, I idle kernel thread (/proc/PID/stat)"},
		{ID: "threads", Title: "THR", Width: 4, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return strconv.Itoa(int(p.Threads)) },
			Less:  func(a, b *model.Process) bool { return a.Threads < b.Threads },
			Help:  "threads in the process (num_threads, /proc/PID/stat)"},
		{ID: "nice", Title: "NI", Width: 3, Align: proctable.AlignRight,
			Value: func(p *model.Process) string { return strconv.Itoa(int(p.Nice)) },
			Less:  func(a, b *model.Process) bool { return a.Nice < b.Nice },
			Help:  "nice value, -20 (favoured) to 19 (/proc/PID/stat)"},
		{ID: "cpu", Title: "%CPU", Width: 6, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return f1(p.CPUPct) },
			Less:  func(a, b *model.Process) bool { return a.CPUPct < b.CPUPct },
			Help:  "user+system CPU over the interval; 100 = one full CPU, so a process on 2 cores shows 200 (as top and pidstat). From utime+stime in /proc/PID/stat"},
		{ID: "usr", Title: "%USR", Width: 6, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return f1(p.UserPct) },
			Less:  func(a, b *model.Process) bool { return a.UserPct < b.UserPct },
			Help:  "CPU in user space (utime, /proc/PID/stat), 100 = one CPU"},
		{ID: "sys", Title: "%SYS", Width: 6, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return f1(p.SystemPct) },
			Less:  func(a, b *model.Process) bool { return a.SystemPct < b.SystemPct },
			Help:  "CPU in the kernel on the process's behalf (stime, /proc/PID/stat), 100 = one CPU"},
		{ID: "wait", Title: "%WAIT", Width: 6, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return common.OptFloat(p.WaitPct, 1) },
			Less:  func(a, b *model.Process) bool { return a.WaitPct.Or(-1) < b.WaitPct.Or(-1) },
			Help:  "time runnable but waiting for a CPU (run-queue delay, /proc/PID/schedstat), as pidstat's %wait; high means CPU saturation, not I/O"},
		{ID: "cswch", Title: "CSW/s", Width: 7, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return common.Count(p.VoluntaryCSPerS) },
			Less:  func(a, b *model.Process) bool { return a.VoluntaryCSPerS < b.VoluntaryCSPerS },
			Help:  "voluntary context switches/s: the process blocked (I/O, lock, sleep). pidstat -w cswch/s; summed over threads when multi-threaded (/proc/PID/status)"},
		{ID: "nvcswch", Title: "NVCSW/s", Width: 7, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return common.Count(p.InvoluntaryCSPerS) },
			Less:  func(a, b *model.Process) bool { return a.InvoluntaryCSPerS < b.InvoluntaryCSPerS },
			Help:  "involuntary context switches/s: the process was preempted while it wanted to run (CPU contention). pidstat -w nvcswch/s"},
		{ID: "rss", Title: "RSS", Width: 6, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return common.Bytes(p.RSSBytes) },
			Less:  func(a, b *model.Process) bool { return a.RSSBytes < b.RSSBytes },
			Help:  "resident memory (rss pages × page size, /proc/PID/stat); the Memory tab adds PSS/USS"},
		{ID: "time", Title: "TIME+", Width: 9, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return cpuTime(p.CPUTimeTicks) },
			Less:  func(a, b *model.Process) bool { return a.CPUTimeTicks < b.CPUTimeTicks },
			Help:  "total CPU time used since the process started, minutes:seconds.hundredths (top's TIME+)"},
		{ID: "command", Title: "COMMAND", Width: 12,
			Value: func(p *model.Process) string { return common.DisplayCommand(p.Comm, p.Cmdline) },
			Less:  func(a, b *model.Process) bool { return a.Cmdline < b.Cmdline },
			Help:  "command line (/proc/PID/cmdline) with the program's directory dropped, or [comm] for kernel threads; when the process name differs from the program (a script, a renamed worker) the name comes first, \"name: interpreter script\". Control characters are shown escaped (\\e, \\n)"},
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
