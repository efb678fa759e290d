package disktab

// Explain implements common.Explainer: every number on the tab, what it
// means and where it comes from.
func (t *Tab) Explain() [][2]string {
	out := [][2]string{
		{"source", "/proc/diskstats read once per interval; rates over the probe's own reading times, computed as iostat -x does (sysstat's formulas). A device's first interval, and one in which any of its counters went backwards (device reset or re-created, or a 32-bit ms counter wrapped after 49.7 days of summed time), show – rather than a made-up rate"},
		{"selected device", "the charts and the first two lines are about one device: the busiest whole device until you pick one with [ and ]"},
	}
	for _, c := range devColumns {
		out = append(out, [2]string{c.title, c.help})
	}
	out = append(out, [][2]string{
		{"saturation", "%util counts time with at least one request in flight. A device that serves requests in parallel (SSD, NVMe, RAID, dm over several disks) can be at 100 % and still take more, so on those %util near 100 is not saturation (iostat's man page says so); and since Linux 5.0 io_ticks only counts jiffies in which a request started or completed, so long concurrent requests are under-counted and %util can even exceed 100 — shown, marked !, as the kernel artefact it is. Judge by await and aqu-sz"},
		{"queueing", "aqu-sz above 1 with await rising (the newest await more than twice the mean of the last 30 intervals): requests wait behind each other"},
		{"slow device", "await above 50 ms (rotational) or 10 ms (non-rotational) while %util stays under 30: each request is slow without queueing — a failing disk, a throttled cloud volume, a slow backing store under a loop or dm device"},
		{"await chart", "mean ms per request of the selected device; intervals without I/O have no await and add no point"},
		{"PSI io", "/proc/pressure/io: share of time in the last 10/60/300 s in which some (or all non-idle) tasks were stalled waiting for I/O"},
		{"D state", "processes in uninterruptible sleep in this frame's scan, usually waiting for I/O (or a hung NFS server). They count in the load average without using CPU: \"load is high but the CPU is idle\""},
		{"MOUNT DISK TYPE", "mounts of vitals' mount namespace (/proc/self/mountinfo), one per device as df shows them (the shortest mount point); DISK ties the mount to the device table by major:minor (or the source device for btrfs)"},
		{"SIZE USED AVAIL", "statfs(2) as df: used = blocks − free; avail = blocks free for unprivileged users, so USED + AVAIL < SIZE when blocks are reserved for root. Network and FUSE filesystems are measured with a 200 ms timeout, so a dead server cannot hang vitals; one that did not answer says so and is not asked again until it does"},
		{"USE% IUSE%", "df's Use% (used / (used + avail), rounded up) and df -i's IUse% (inodes used / inodes, rounded up); – where the filesystem has no fixed inode count (btrfs, vfat). Above 90 % is a warning"},
		{"pseudo filesystems", "proc, sysfs, cgroup, devtmpfs and the like, and any filesystem of 0 blocks: hidden as df hides them; p shows them"},
	}...)
	return append(out, t.ColumnHelp("pid", "user", "state", "command")...)
}
