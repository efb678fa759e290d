#!/usr/bin/env bash
# iowait.sh — training scenario for vitals' CPU tab: a process (demo-iowait)
# that spends its time waiting for the disk, doing small synchronous writes,
# for a bounded time; its temp file is removed at the end.
set -euo pipefail

readonly MAX_SECONDS=600
duration=60
dir=${TMPDIR:-/var/tmp}
mode=shred

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-p DIR] [-m shred|dd] [-h]

Runs demo-iowait: it rewrites one 4 KiB file and flushes it to the disk
(fdatasync) over and over, so it sleeps in the kernel waiting for the disk
(state D) most of the time, and that CPU shows as iowait.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -p DIR      where to put the temp file; must be on a disk, not tmpfs
              (default \$TMPDIR or /var/tmp: $dir)
  -m MODE     shred (default): one long-lived process, coreutils' shred
              rewriting the file with a flush after each pass;
              dd: a loop of dd oflag=dsync runs (short-lived dd children
              under one demo-iowait parent)
  -h          show this help

Stops by itself; Ctrl-C stops it early. Leaves no process or file behind.
EOF
}

die() {
	echo "$(basename "$0"): $*" >&2
	exit 2
}

while getopts ':d:p:m:h' opt; do
	case $opt in
	d) duration=$OPTARG ;;
	p) dir=$OPTARG ;;
	m) mode=$OPTARG ;;
	h)
		usage
		exit 0
		;;
	:) die "option -$OPTARG needs a value (see -h)" ;;
	*) die "unknown option -$OPTARG (see -h)" ;;
	esac
done
shift $((OPTIND - 1))
(($# == 0)) || die "unexpected argument: $1 (see -h)"
if ! [[ $duration =~ ^[0-9]+$ ]] || ((10#$duration < 1 || 10#$duration > MAX_SECONDS)); then
	die "-d $duration: want whole seconds from 1 to $MAX_SECONDS"
fi
duration=$((10#$duration))
case $mode in
shred | dd) ;;
*) die "-m $mode: want shred or dd" ;;
esac
[[ -d $dir && -w $dir ]] || die "-p $dir: not a writable directory"
fstype=$(df --output=fstype "$dir" | tail -n 1)
case $fstype in
tmpfs | ramfs) die "-p $dir is on $fstype (memory): writes there never wait for a disk; pick a directory on a disk" ;;
esac
tool=$(command -v "$mode") || die "$mode not found (it is part of coreutils)"

workdir=$(mktemp -d "$dir/vitals-demo-iowait.XXXXXX")
pids=()

# stop_children sends TERM to every child, gives them 2 s, then KILLs the
# child and its process group (timeout(1) puts itself in a group of its own).
stop_children() {
	local pid alive _
	((${#pids[@]})) || return 0
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for _ in {1..20}; do
		alive=0
		for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do kill -KILL -- "-$pid" "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=()
}
cleanup() {
	stop_children
	rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

file=$workdir/data
head -c 4096 /dev/zero >"$file"
sync "$file"

# The kernel names a process (comm) after the file it executed: run the tool
# through a symlink (or a script) called demo-iowait so it is easy to find.
case $mode in
shred)
	ln -s "$tool" "$workdir/demo-iowait"
	;;
dd)
	cat >"$workdir/demo-iowait" <<LOOP
#!$(command -v bash)
# Rewrite \$1 (4 KiB blocks, 1 MiB in all) with a flush per block, for \$2 s.
end=\$((SECONDS + \$2))
while ((SECONDS < end)); do
	"$tool" if=/dev/zero of="\$1" bs=4k count=256 oflag=dsync conv=notrunc status=none
done
LOOP
	chmod +x "$workdir/demo-iowait"
	;;
esac

cat <<EOF
iowait: demo-iowait rewrites $file with a flush per 4 KiB write, for $duration s
(filesystem: $fstype). Ctrl-C stops it.

What to look for on vitals' CPU tab (key 1):
  - wa (iowait) in the "all" bar and in one per-CPU bar: that CPU has nothing
    else to run while demo-iowait waits for the disk. iowait is idle time, so
    it is not counted in "busy". One waiter can make at most about one CPU's
    worth of iowait: 100/$(nproc) % of the machine here ($(nproc) CPUs); above 20 % the
    warning line says "iowait ...%: CPUs idle while waiting on storage".
  - demo-iowait's S column is D (uninterruptible: waiting on I/O) much of the
    time, and the warning line names it ("... in D state ...: demo-iowait");
    b (blocked) in the r/b line is often 1. Each refresh is one snapshot, so
    D and R alternate.
  - demo-iowait's %CPU is small and mostly %SYS: waiting costs no CPU.
  - CSW/s of demo-iowait is high: each flush blocks it once (voluntary).
Compare with: vmstat 1 (wa, b), ps -o stat,wchan:20,comm -C demo-iowait,
iostat -x 1 (w/s, w_await).
EOF

end=$((SECONDS + duration))
while ((SECONDS < end)); do
	left=$((end - SECONDS))
	case $mode in
	shred)
		# A pass is one 4 KiB write plus fdatasync; shred keeps its list of
		# passes in memory, so ask for a bounded number and loop if a fast
		# disk finishes them early. timeout bounds it even if this script is
		# SIGKILLed.
		passes=$((left * 20000))
		((passes <= 2000000)) || passes=2000000
		timeout "$left" "$workdir/demo-iowait" -n "$passes" "$file" &
		;;
	dd)
		timeout "$left" "$workdir/demo-iowait" "$file" "$left" &
		;;
	esac
	pids=($!)
	wait "${pids[0]}" || true
	pids=()
done
echo "iowait: done."
