#!/usr/bin/env bash
# slow-disk.sh — training scenario for vitals' Disk tab: a process
# (demo-slowio) doing random O_DIRECT I/O on a slow device, for a bounded
# time. The device is a loop device made slow with dm-delay where the kernel
# has it, else the process is throttled by a blkio cgroup (v1
# blkio.throttle.*_iops_device); everything is removed at the end.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=${TMPDIR:-/var/tmp}
delay=100
iops=40

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-p DIR] [-l MS] [-i IOPS] [-h]

Attaches a loop device to a 64 MiB temp file and runs demo-randio as
demo-slowio on it (2 workers, random 4 KiB O_DIRECT, 30 % writes), with the
device made slow in one of two ways, whichever this machine allows:

  dm-delay    (dmsetup targets lists "delay"): every request to the device
              takes MS ms more: a slow disk, as the device sees it;
  blkio cgroup (cgroup v1 blkio controller): demo-slowio runs in a cgroup
              limited to IOPS reads and IOPS writes per second on the
              device: the device stays fast, the process waits in the
              kernel before its requests reach it.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -p DIR      where to put the backing file; on a disk (default $dir)
  -l MS       dm-delay: added latency per request (default $delay, 1 to 2000)
  -i IOPS     cgroup: reads and writes per second allowed (default $iops)
  -h          show this help

Needs root and Go. Stops by itself; Ctrl-C stops it early. Leaves no
process, device, cgroup or file behind.
EOF
}

demo_parse_args 'p:dir l:delay i:iops' "$@"
is_whole "$delay" 1 2000 || die "-l $delay: want 1 to 2000 ms"
is_whole "$iops" 1 100000 || die "-i $iops: want 1 to 100000"
((EUID == 0)) || die "needs root (losetup, dmsetup or the blkio cgroup)"
losetup=$(command -v losetup) || die "losetup not found (util-linux)"
demo_disk_dir "$dir" "a loop device over memory"
demo_need_go randio

how=
why_not_dm=
if ! command -v dmsetup >/dev/null; then
	why_not_dm="no dmsetup (apt-get install dmsetup)"
elif ! targets=$(dmsetup targets 2>&1); then
	why_not_dm="no device-mapper in this kernel (dmsetup targets: $(head -n 1 <<<"$targets"))"
elif ! grep -q '^delay' <<<"$targets"; then
	why_not_dm="the kernel's device-mapper has no delay target (modprobe dm-delay, if it is a module)"
else
	how=dm-delay
fi
cgroup_root=/sys/fs/cgroup/blkio
if [[ -z $how ]]; then
	[[ -f $cgroup_root/blkio.throttle.read_iops_device ]] ||
		die "neither dm-delay ($why_not_dm) nor a cgroup v1 blkio controller with throttling ($cgroup_root) here"
	how=cgroup
fi

loopdev= dmname= cgroup=
cleanup() {
	stop_children
	if [[ -n $dmname ]]; then dmsetup remove "$dmname" || echo "$scenario: could not remove /dev/mapper/$dmname" >&2; fi
	if [[ -n $cgroup ]]; then rmdir "$cgroup" 2>/dev/null || echo "$scenario: could not remove $cgroup" >&2; fi
	if [[ -n $loopdev ]]; then "$losetup" -d "$loopdev" || echo "$scenario: could not detach $loopdev" >&2; fi
	rm -rf "$workdir"
}
demo_remove_leftovers "$dir" slowio demo-slowio
for old in "$cgroup_root"/vitals-demo-slowio.*; do
	[[ -d $old ]] && ! pgrep -x demo-slowio >/dev/null && rmdir "$old" 2>/dev/null && echo "$scenario: removed $old, left by an earlier run"
done
demo_setup "$dir" slowio cleanup
demo_go_build randio demo-slowio
truncate -s 64M "$workdir/disk.img"
loopdev=$("$losetup" -f --show "$workdir/disk.img")
target=$loopdev
run=("$workdir/demo-slowio")
case $how in
dm-delay)
	dmname=vitals-demo-slowio-$$
	echo "0 $(blockdev --getsz "$loopdev") delay $loopdev 0 $delay" | dmsetup create "$dmname"
	target=/dev/mapper/$dmname
	what="every request to $target ($(basename "$(readlink -f "$target")")) waits $delay ms in dm-delay"
	;;
cgroup)
	cgroup=$cgroup_root/vitals-demo-slowio.$$
	mkdir "$cgroup"
	majmin=$(lsblk -dno MAJ:MIN "$loopdev" | tr -d ' ')
	echo "$majmin $iops" >"$cgroup/blkio.throttle.read_iops_device"
	echo "$majmin $iops" >"$cgroup/blkio.throttle.write_iops_device"
	# The load joins the cgroup before it starts (a shell that moves itself,
	# then execs it).
	demo_script enter-cgroup <<EOF
echo \$\$ >"$cgroup/cgroup.procs"
exec "\$@"
EOF
	run=("$workdir/enter-cgroup" "$workdir/demo-slowio")
	what="demo-slowio may do $iops reads and $iops writes per second on $loopdev (cgroup $cgroup); dm-delay is not possible here: $why_not_dm"
	;;
esac
name=$(basename "$(readlink -f "$target")")

cat <<EOF
slow-disk: $what; demo-slowio does random 4 KiB O_DIRECT I/O on it
(2 in flight), for $duration s.

What to look for on vitals' Disk tab (key 4):
EOF
case $how in
dm-delay)
	cat <<EOF
  - $name selected (requests in flight): await about $delay ms at a low %util,
    and the verdict "slow device: await … at only %util …";
  - its latency histogram and heatmap in the $delay ms slot; every I/O is a
    slow_io event (≥ 50 ms): the warning names demo-slowio, the header strip
    shows the newest, the event log (e) lists them;
  - demo-slowio in the process table with LAT ≈ $delay ms, in D state
    (WCHAN) much of the time.
EOF
	;;
cgroup)
	cat <<EOF
  - the device is NOT slow: $name's await stays well under 1 ms and its
    histogram in the µs slots. The wait is above the device:
  - demo-slowio is in D state ("1 in D state; longest demo-slowio … in
    submit_bio_wait" or similar) and its I/O is capped at about $((2 * iops))/s
    (IO/s, READ/s and WRITE/s in the table; r/s and w/s of $name);
  - io PSI rises: tasks stall on I/O although no device is busy.
  - Requests the throttle held are submitted later by its dispatch worker
    (a kworker): part of the I/O shows as "kworkers (…)" above the
    table, not under demo-slowio (/proc/PID/io, the procfs view, counts it
    all for demo-slowio).
EOF
	;;
esac
echo "Compare with: iostat -dx 1 $name, pidstat -d 1 -C demo-slowio, ps -o stat,wchan:20 -C demo-slowio."

timeout "$((duration + 5))" "${run[@]}" -f "$target" -j 2 -w 30 -d "${duration}s" &
pids=($!)
demo_finish "${pids[0]}"
