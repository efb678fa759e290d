#!/usr/bin/env bash
# disk-randio.sh — training scenario for vitals' Disk tab: random O_DIRECT
# reads and writes (demo-randio) on a loop device this script attaches to a
# temp file, for a bounded time; the device is detached and the file
# removed at the end.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=${TMPDIR:-/var/tmp}
size=256
jobs=4
writes=30

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-p DIR] [-s MIB] [-j JOBS] [-w PCT] [-h]

Attaches a loop device to a new SIZE MiB file in DIR and runs demo-randio on
it: JOBS workers each doing random 4 KiB O_DIRECT reads and writes (PCT %
writes), one at a time, so every request reaches the device. Needs root
(losetup) and Go (to build randio/main.go).

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -p DIR      where to put the backing file; on a disk (default $dir)
  -s MIB      backing file size (default $size, 16 to 4096)
  -j JOBS     workers, each with one I/O in flight (default $jobs, 1 to 64)
  -w PCT      percent writes (default $writes)
  -h          show this help

Stops by itself; Ctrl-C stops it early. Leaves no process, device or file.
EOF
}

demo_parse_args 'p:dir s:size j:jobs w:writes' "$@"
is_whole "$size" 16 4096 || die "-s $size: want 16 to 4096 MiB"
is_whole "$jobs" 1 64 || die "-j $jobs: want 1 to 64"
is_whole "$writes" 0 100 || die "-w $writes: want 0 to 100"
((EUID == 0)) || die "needs root: losetup attaches the loop device"
losetup=$(command -v losetup) || die "losetup not found (util-linux)"
demo_disk_dir "$dir" "a loop device over memory shows no disk latency"
demo_need_go randio
loopdev=

cleanup() {
	stop_children
	if [[ -n $loopdev ]]; then "$losetup" -d "$loopdev" || echo "$scenario: could not detach $loopdev" >&2; fi
	rm -rf "$workdir"
}
demo_remove_leftovers "$dir" randio demo-randio
demo_setup "$dir" randio cleanup
demo_go_build randio demo-randio
truncate -s "${size}M" "$workdir/disk.img"
loopdev=$("$losetup" -f --show "$workdir/disk.img")
name=$(basename "$loopdev")

cat <<EOF
disk-randio: demo-randio does random 4 KiB O_DIRECT I/O ($writes % writes, $jobs
in flight) on $loopdev (backed by $workdir/disk.img on $fstype), for $duration s.

What to look for on vitals' Disk tab (key 4):
  - $name selected by default (the device with the most requests in flight,
    aqu-sz) in the summary line: r/s and w/s in the thousands, await well
    under 1 ms, aqu-sz near $jobs; the verdict says whether that is queueing;
  - the latency histogram of $name: reads and writes apart, most I/Os in the
    tens-of-µs slots; the heatmap beside it fills in one column per second;
  - demo-randio at the top of the process table, sorted by DISK/s, with its
    IO/s and LAT (mean latency of its own requests) from the block events;
  - iowait on the CPU tab (key 1) now explained here: demo-randio in D.
Compare with: iostat -dx 1 $name, pidstat -d 1 -C demo-randio.
EOF

timeout "$((duration + 5))" "$workdir/demo-randio" -f "$loopdev" -j "$jobs" -w "$writes" -d "${duration}s" &
pids=($!)
demo_finish "${pids[0]}"
