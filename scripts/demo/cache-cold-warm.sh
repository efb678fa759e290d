#!/usr/bin/env bash
# cache-cold-warm.sh — training scenario for vitals' Cache tab: a process
# named demo-coldread reads a file cold (just dropped from the page cache:
# every page a miss), pauses, reads it warm (every page a hit), pauses, and
# starts over, so cachetop alternates between READ_HIT% ≈ 0 and ≈ 100 %.
# The file is removed at the end.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size=512
pause=3
dir=${TMPDIR:-/var/tmp}

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-s MiB] [-p DIR] [-h]

Writes a SIZE MiB file with O_DIRECT (so none of it is cached), then runs
demo-coldread, which loops until the time is up:
  cold: drop the file from the page cache (dd iflag=nocache count=0, that is
        posix_fadvise(POSIX_FADV_DONTNEED)) and read it all (dd bs=1M):
        every page comes from the disk;
  pause $pause s;
  warm: read it all again: every page comes from the cache;
  pause $pause s.
It prints each phase with the time of day, to match with vitals' display.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -s MiB      file size (default $size); never more than 10 % of MemTotal
              nor the free space of DIR minus 1 GiB: a larger value is lowered
  -p DIR      where to put the file; must be on a disk, not tmpfs
              (default \$TMPDIR or /var/tmp: $dir)
  -h          show this help

Stops by itself; Ctrl-C stops it early. Leaves no process or file behind.
EOF
}

demo_parse_args 's:size p:dir' "$@"
is_whole "$size" 16 1048576 || die "-s $size: want MiB from 16 to 1048576"
size=$((10#$size))
demo_disk_dir "$dir" "its files are not page cache of a disk, so no read is cold"
dd=$(command -v dd) || die "dd not found (it is part of coreutils)"

demo_cap_size 10 "$dir"

# A SIGKILLed earlier run could not remove its file: if no demo-coldread is
# running, remove such leftovers.
demo_remove_leftovers "$dir" coldwarm demo-coldread

demo_setup "$dir" coldwarm
file=$workdir/data
end=$((SECONDS + duration))

# cachetop counts per process, under the name (comm) the process had when it
# read, and the kernel names a process after the file it executed: the reads
# run dd through a symlink named demo-coldread.
mkdir "$workdir/bin"
ln -s "$dd" "$workdir/bin/demo-coldread"

# Write the file past the page cache. timeout bounds it in case this script
# is SIGKILLed.
demo_write_direct "$file" "$dd" "$end"

# demo_script names the loop demo-coldread too, so every process of it (the
# loop, and its dd between fork and exec) has the same name. It bounds itself
# (a deadline checked between phases and pauses), and timeout(1) bounds it
# too, in case this script is SIGKILLed.
demo_script demo-coldread <<'LOOP'
# demo-coldread FILE MiB SECONDS DD READER PAUSE: until SECONDS have passed,
# drop FILE (MiB) from the page cache with DD and read it with READER (a dd
# named demo-coldread): cold; pause PAUSE s; read it again: warm; pause.
set -u
file=$1 size=$2 end=$((SECONDS + $3)) dd=$4 reader=$5 pause=$6
ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((10#$t / 1000))
}
say() {
	printf '%(%H:%M:%S)T demo-coldread: %s\n' -1 "$*"
}
# phase NAME WHAT: read the file once, saying when and how fast.
phase() {
	local start t
	say "$1 read starts: $2"
	start=$(ms)
	"$reader" if="$file" of=/dev/null bs=1M status=none || exit 1
	t=$(($(ms) - start))
	((t > 0)) || t=1
	say "$1 read done: $size MiB in $t ms ($((size * 1000 / t)) MiB/s)"
}
# rest: pause PAUSE s, or less if the time is up sooner.
rest() {
	local s=$((end - SECONDS))
	((s > 0)) || return 1
	((s < pause)) || s=$pause
	say "pause $s s"
	sleep "$s"
	((SECONDS < end))
}
round=0
while ((SECONDS < end)); do
	round=$((round + 1))
	# POSIX_FADV_DONTNEED on the whole file: its clean pages leave the cache.
	"$dd" if="$file" iflag=nocache count=0 status=none || exit 1
	phase cold "round $round, file dropped from the page cache: expect READ_HIT% ≈ 0, MISSES ≈ $((size * 256))"
	rest || break
	phase warm "round $round, file cached: expect READ_HIT% ≈ 100, HITS ≈ $((size * 256))"
	rest || break
done
LOOP

timeout "$((left + 5))" "$workdir/demo-coldread" "$file" "$size" "$left" "$dd" "$workdir/bin/demo-coldread" "$pause" &
pids+=($!)

pages=$((size * 256))
cat <<EOF
$scenario: demo-coldread reads $file ($size MiB = $pages pages, $fstype)
cold (just dropped from the page cache), pauses $pause s, reads it warm, pauses
$pause s, and starts over, for $left s. It prints each phase with the time
of day. Ctrl-C stops it; the file is removed.

What to look for on vitals' Cache tab (key 3), run as root:
  - during a cold read: demo-coldread with READ_HIT% ≈ 0 and MISSES ≈ $pages
    (the whole file; a read spanning two refreshes splits them), HITS ≈ 0.
    The cachestat line: misses/s high, hit ratio ≈ 0 %. Memory tab (key 2):
    bi ≈ the disk's read speed while it lasts.
  - during a warm read: READ_HIT% ≈ 100 %, HITS ≈ $pages, MISSES ≈ 0; the
    read takes a fraction of the time (demo-coldread prints both speeds);
    bi ≈ 0.
  - in the pauses demo-coldread reads nothing and drops off the table (or
    shows READ_HIT% "–"), so the tab alternates cold, nothing, warm, nothing.
    Each read is a new dd, so the PID changes.
  - the same program reading the same file: the hit ratio says only where the
    pages were, not what the program does. A low READ_HIT% means the data
    had to come from the disk (first read, or evicted since).
Compare with: vmstat 1 (bi), fincore $file (cached pages),
cachestat / cachetop from bcc (bpfcc-tools) if installed.
EOF

demo_finish "${pids[0]}"
