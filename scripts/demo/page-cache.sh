#!/usr/bin/env bash
# page-cache.sh — training scenario for vitals' Memory tab: a process named
# demo-cachefill writes a large file past the page cache, then reads it
# through the cache, so buff/cache grows while used stays flat ("Linux ate
# my RAM" — it did not). The file is removed at the end.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size=2048
rate=64
dir=${TMPDIR:-/var/tmp}

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-s MiB] [-r MiB_PER_S] [-p DIR] [-h]

Runs demo-cachefill: it writes a SIZE MiB file with O_DIRECT (bypassing the
page cache), drops any of it that is cached, reads it through the page cache
at RATE MiB/s, reads it once more (now from memory), and holds until the
time is up. Removing the file at the end frees its cache at once.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -s MiB      file size (default $size); never more than 25 % of MemTotal
              nor the free space of DIR minus 1 GiB: a larger value is lowered
  -r MiB/s    how fast to read it the first time, 1 to 4096 (default $rate)
  -p DIR      where to put the file; must be on a disk, not tmpfs
              (default \$TMPDIR or /var/tmp: $dir)
  -h          show this help

Stops by itself; Ctrl-C stops it early. Leaves no process or file behind.
EOF
}

demo_parse_args 's:size r:rate p:dir' "$@"
is_whole "$size" 16 1048576 || die "-s $size: want MiB from 16 to 1048576"
is_whole "$rate" 1 4096 || die "-r $rate: want whole MiB per second from 1 to 4096"
size=$((10#$size)) rate=$((10#$rate))
demo_disk_dir "$dir" "its files are not page cache of a disk"
dd=$(command -v dd) || die "dd not found (it is part of coreutils)"

# The file must fit twice over: in a quarter of the RAM (the lesson is the
# cache, not memory pressure) and on the disk with 1 GiB to spare.
total_mib=$(($(meminfo_kib MemTotal) / 1024))
disk_mib=$(free_mib "$dir")
limit=$((total_mib / 4))
((disk_mib - 1024 >= limit)) || limit=$((disk_mib - 1024))
if ((size > limit)); then
	echo "page-cache: lowering the file size from $size to $limit MiB (25 % of MemTotal $total_mib MiB, at most free space $disk_mib MiB minus 1 GiB)"
	size=$limit
fi
((size >= 16)) || die "too little free space in $dir ($disk_mib MiB) for a useful file"

# A SIGKILLed earlier run could not remove its (large) file: if no
# demo-cachefill is running, remove such leftovers.
demo_remove_leftovers "$dir" cachefill demo-cachefill

cached_mib() {
	echo $(($(meminfo_kib Cached) / 1024))
}
cleanup() {
	local before
	stop_children
	if [[ -e $workdir/data ]]; then
		before=$(cached_mib)
		rm -rf "$workdir"
		echo "page-cache: removed the file; Cached went from $before to $(cached_mib) MiB (deleting a file frees its cache)."
	fi
	rm -rf "$workdir"
}
demo_setup "$dir" cachefill cleanup
file=$workdir/data

# demo_script names the process demo-cachefill. It bounds itself (a
# deadline checked between short dd runs), and timeout(1) bounds it too, in
# case this script is SIGKILLed and cannot clean up.
demo_script demo-cachefill <<'FILL'
# demo-cachefill FILE MiB RATE SECONDS DD: write FILE (MiB) with O_DIRECT,
# drop its cached pages, read it through the page cache at RATE MiB/s, read
# it again from the cache, then hold until SECONDS have passed.
set -u
file=$1 size=$2 rate=$3 end=$((SECONDS + $4)) dd=$5
ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((10#$t / 1000))
}
# took START_MS MiB: "X.Y s (Z MiB/s)"
took() {
	local t=$(($(ms) - $1))
	((t > 0)) || t=1
	echo "$((t / 1000)).$((t % 1000 / 100)) s ($(($2 * 1000 / t)) MiB/s)"
}

# 1. Write in 64 MiB pieces, bypassing the page cache.
start=$(ms) written=0
while ((written < size && SECONDS < end)); do
	n=$((size - written < 64 ? size - written : 64))
	"$dd" if=/dev/zero of="$file" bs=1M seek="$written" count="$n" oflag=direct conv=notrunc status=none || exit 1
	written=$((written + n))
done
echo "demo-cachefill: wrote $written MiB with O_DIRECT (past the page cache) in $(took "$start" "$written")"

# 2. Drop whatever of the file is cached: posix_fadvise(POSIX_FADV_DONTNEED).
"$dd" if="$file" iflag=nocache count=0 status=none

# 3. Read it through the page cache, RATE MiB each second.
start=$(ms) off=0
while ((off < written && SECONDS < end)); do
	second=$(ms)
	n=$((written - off < rate ? written - off : rate))
	"$dd" if="$file" of=/dev/null bs=1M skip="$off" count="$n" status=none || exit 1
	off=$((off + n))
	left=$((1000 - ($(ms) - second)))
	((left <= 0)) || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
done
echo "demo-cachefill: read $off MiB from the disk through the page cache in $(took "$start" "$off"); it stays cached"

# 4. Read it all again: this time from memory, with no disk reads.
if ((off == written && SECONDS < end)); then
	start=$(ms)
	"$dd" if="$file" of=/dev/null bs=1M status=none || exit 1
	echo "demo-cachefill: read it again in $(took "$start" "$off"): from the page cache, no disk reads"
fi

# 5. Hold (the cache stays) until the time is up.
while ((SECONDS < end)); do sleep 1; done
FILL

# Its dd runs go through a symlink, so that the Cache tab (which names the
# process that reads, here a dd) says demo-cacheio rather than dd.
ln -s "$dd" "$workdir/demo-cacheio"
timeout "$((duration + 5))" "$workdir/demo-cachefill" "$file" "$size" "$rate" "$duration" "$workdir/demo-cacheio" &
pids+=($!)

cat <<EOF
page-cache: demo-cachefill writes $file ($size MiB, $fstype) past the page
cache, then reads it through the cache at $rate MiB/s (about $(((size + rate - 1) / rate)) s), then once
more from memory; $duration s in all. Ctrl-C stops it; the file is removed.

What to look for on vitals' Memory tab (key 2):
  - while it writes (a few seconds): bo (KiB/s paged out to the disk) jumps,
    buff/cache does not move: O_DIRECT writes skip the page cache.
  - while it reads: bi ≈ $((rate * 1024)) KiB/s, and buff/cache grows by about
    $rate MiB every second up to +$size MiB; free falls by as much.
  - but used stays flat and available barely moves: the cache is memory the
    kernel gives back at once when a program needs it (clean pages are just
    dropped). This is "Linux ate my RAM": it did not. Judge memory by
    available, not free.
  - demo-cachefill's RSS stays tiny (M sorts by RSS): page cache belongs to
    the file, not to any process, so no process column explains buff/cache.
  - major faults/s stay ≈ 0: read(2) fills the cache without page faults
    (faults count pages mapped into a process, mmap'd files included).
  - the second read comes from memory: bi stays ≈ 0 and it runs many times
    faster (demo-cachefill prints both speeds).
  - when it ends the file is deleted and buff/cache drops by $size MiB at once.
  - the Cache tab (key 3) names the reader: its dd runs, demo-cacheio, on
    top with MISSES ≈ $((rate * 256)) pages/s (each a new process).
Compare with: free -m -s 1, vmstat 1 (bi, bo; its memory columns do not
refresh in procps 4.0.2, Debian 12), fincore $file
EOF

demo_finish "${pids[0]}"
