#!/usr/bin/env bash
# fs-fill.sh — training scenario for vitals' Disk tab: a process
# (demo-fill) filling a small filesystem (ext4 on a loop device over a temp
# file, mounted under the temp directory) until it is full, then holding it
# full, for a bounded time; unmounted, detached and removed at the end.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=${TMPDIR:-/var/tmp}
size=64
rate=4

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-p DIR] [-s MIB] [-r MIB_PER_S] [-h]

Makes a SIZE MiB ext4 filesystem on a loop device over a temp file in DIR,
mounts it under the temp directory and runs demo-fill: it appends RATE MiB
per second to a file there (written and flushed, so the blocks are really
allocated) until the filesystem is full ("No space left on device"), then
holds it full until the end.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -p DIR      where to put the backing file; on a disk (default $dir)
  -s MIB      filesystem size (default $size, 16 to 1024)
  -r MIB      fill rate per second (default $rate, 1 to 256)
  -h          show this help

Needs root (losetup, mount). Stops by itself; Ctrl-C stops it early. Leaves
no process, mount, device or file behind.
EOF
}

demo_parse_args 'p:dir s:size r:rate' "$@"
is_whole "$size" 16 1024 || die "-s $size: want 16 to 1024 MiB"
is_whole "$rate" 1 256 || die "-r $rate: want 1 to 256 MiB/s"
((EUID == 0)) || die "needs root (losetup, mount)"
losetup=$(command -v losetup) || die "losetup not found (util-linux)"
mkfs=$(command -v mkfs.ext4) || die "mkfs.ext4 not found (e2fsprogs)"
dd=$(command -v dd) || die "dd not found (coreutils)"
demo_disk_dir "$dir" "the backing file would fill memory"

loopdev= mnt=
cleanup() {
	stop_children
	if [[ -n $mnt ]] && mountpoint -q "$mnt"; then umount "$mnt" || umount -l "$mnt" || echo "$scenario: could not unmount $mnt" >&2; fi
	if [[ -n $loopdev ]]; then "$losetup" -d "$loopdev" || echo "$scenario: could not detach $loopdev" >&2; fi
	rm -rf "$workdir"
}
demo_remove_leftovers "$dir" fill demo-fill
demo_setup "$dir" fill cleanup
truncate -s "${size}M" "$workdir/fs.img"
loopdev=$("$losetup" -f --show "$workdir/fs.img")
"$mkfs" -q -F -L vitals-demo-fill "$loopdev"
mnt=$workdir/mnt
mkdir "$mnt"
mount -o nodev,nosuid,noexec "$loopdev" "$mnt"
name=$(basename "$loopdev")

# Appends $2 MiB a second to $1 (dd conv=fsync: really allocated, and the
# writes show on the device at once) until it fails for lack of space, then
# holds; for $3 s.
demo_script demo-fill <<EOF
end=\$((SECONDS + \$3))
full=0
while ((SECONDS < end)); do
	if ((!full)); then
		"$dd" if=/dev/zero of="\$1" bs=1M count="\$2" oflag=append conv=notrunc,fsync status=none 2>/dev/null || full=1
		((full)) && echo "demo-fill: \$1: no space left on device after \$(du -m "\$1" | cut -f1) MiB"
	fi
	sleep 1
done
EOF

cat <<EOF
fs-fill: demo-fill fills $mnt ($size MiB ext4 on $loopdev) at $rate MiB/s,
then holds it full, for $duration s in all.

What to look for on vitals' Disk tab (key 4):
  - the filesystems table: $mnt with USE% climbing; above 90 % the row is a
    warning and the warnings area says "$mnt NN% full (… left)"; at 100 %
    (0 left) it is critical: writes there fail;
  - DISK $name beside the mount ties it to the device table, where $name
    writes about $rate MiB/s while it fills and nothing once it is full;
  - demo-fill at the top of the process table (WRITE/s) while it fills.
Compare with: df -h $mnt, df -i $mnt, iostat -dx 1 $name.
EOF

timeout "$((duration + 5))" "$workdir/demo-fill" "$mnt/fill" "$rate" "$duration" &
pids=($!)
demo_finish "${pids[0]}"
