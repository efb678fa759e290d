#!/usr/bin/env bash
# iowait.sh — training scenario for vitals' CPU tab: a process (demo-iowait)
# that spends its time waiting for the disk, doing small synchronous writes,
# for a bounded time; its temp file is removed at the end.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

demo_parse_args 'p:dir m:mode' "$@"
case $mode in
shred | dd) ;;
*) die "-m $mode: want shred or dd" ;;
esac
demo_disk_dir "$dir" "writes there never wait for a disk"
tool=$(command -v "$mode") || die "$mode not found (it is part of coreutils)"

demo_setup "$dir" iowait

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
	demo_script demo-iowait <<LOOP
# Rewrite \$1 (4 KiB blocks, 1 MiB in all) with a flush per block, for \$2 s.
end=\$((SECONDS + \$2))
while ((SECONDS < end)); do
	"$tool" if=/dev/zero of="\$1" bs=4k count=256 oflag=dsync conv=notrunc status=none
done
LOOP
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
