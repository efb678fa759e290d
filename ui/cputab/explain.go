package cputab

// Explain implements common.Explainer: what each number on this tab means
// and where it comes from.
func (t *Tab) Explain() [][2]string {
	out := [][2]string{
		{"%CPU", "a process's CPU use over the interval: 100 = one full CPU (a process busy on 2 cores shows 200), from utime+stime in /proc/PID/stat, as top and pidstat"},
		{"bars", "share of each CPU's time over the interval, from /proc/stat (as mpstat -P ALL): usr = user+nice+guest, sys = system, irq = hardirq+softirq, st = steal, then wa = iowait. The % is busy = 100 − idle − iowait, the same as the busy chart: iowait is drawn in the bar, after the %'s part, but not counted as busy"},
		{"idle, wa", "wa is idle time while I/O was outstanding: a CPU in iowait is free to run other work"},
		{"r, b", "runnable tasks (running or waiting for a CPU) and tasks blocked in uninterruptible sleep (procs_running / procs_blocked in /proc/stat; vmstat r and b)"},
		{"cs/s, in/s", "context switches and interrupts per second, all CPUs (ctxt and intr in /proc/stat; vmstat cs and in)"},
		{"forks/s", "new processes and threads per second (processes in /proc/stat)"},
		{"load", "1, 5 and 15 minute load averages (/proc/loadavg): runnable + uninterruptible tasks, exponentially averaged. Above 0.7 × CPUs is a warning sign"},
		{"tasks", "runnable / total scheduling entities (field 4 of /proc/loadavg)"},
		{"PSI cpu", "pressure stall information (/proc/pressure/cpu): % of time some task (and, for full, all tasks) waited for a CPU, averaged over 10/60/300 s"},
		{"short-lived", "processes that started and exited between two refreshes, so the table never lists them: this interval's and the last minute's count, exec rate and CPU, and the commands with the most runs and the most CPU (eBPF exec/exit events; without eBPF, processes new in the table, and those living less than an interval are missed). When their CPU explains the gap between the CPU total (usr+sys) and the table's sum, the warnings say so and name the command; e opens the event log"},
		{"softirq/s", "deferred interrupt work per second by type, all CPUs (/proc/softirqs); NET_RX high = network receive load, TIMER/SCHED = timers and load balancing"},
	}
	// %CPU is explained first, above.
	return append(out, t.ColumnHelp("cpu")...)
}
