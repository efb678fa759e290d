package memtab

// Explain implements common.Explainer.
func (t *Tab) Explain() [][2]string {
	out := [][2]string{
		{"used", "total − available, as free(1) computes it (/proc/meminfo MemTotal − MemAvailable)"},
		{"buff/cache", "Buffers + Cached + SReclaimable: page cache and reclaimable kernel caches. Mostly free-able on demand: a full cache is not a problem"},
		{"avail", "MemAvailable: the kernel's estimate of memory that can be allocated without swapping. The number to watch"},
		{"swap, si, so", "swap space in use (/proc/meminfo) and pages swapped in / out per second (pswpin, pswpout in /proc/vmstat); vmstat's si/so show the same in KiB/s (× 4)"},
		{"bi, bo", "KiB read from / written to block devices per second (pgpgin, pgpgout; vmstat bi/bo)"},
		{"faults, major", "page faults per second, and major faults (needed I/O) (pgfault, pgmajfault; sar -B)"},
		{"scan, steal", "pages scanned and reclaimed per second in all (pgscan_anon+pgscan_file), and of those by kswapd (background) and directly by allocating tasks (pgscan_kswapd, pgscan_direct; sar -B). Direct reclaim means allocations stall: memory is saturated. The rest is reclaim forced by a cgroup's memory limit, which the kernel counts only in the total"},
		{"refault", "evicted pages that were needed again (workingset_refault_*): sustained refaults are thrashing"},
		{"OOM kills", "the kernel's oom_kill counter (/proc/vmstat); an increase stays highlighted for 5 minutes"},
		{"PSI mem", "/proc/pressure/memory: % of time some (full: all) tasks stalled on memory, over 10/60/300 s"},
		{"watermarks", "per zone free pages vs min/low/high (/proc/zoneinfo): below low kswapd wakes; below min allocations reclaim directly"},
		{"v", "switches the lower panel: processes (sorted by RSS), memory cgroups (usage, working set = usage − inactive_file, limit, OOM kills, PSI), slab caches (slabtop -s c; root only), zones"},
	}
	return append(out, t.ColumnHelp()...)
}
