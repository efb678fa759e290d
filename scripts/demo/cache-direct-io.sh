#!/usr/bin/env bash
# cache-direct-io.sh — training scenario for vitals' Cache tab: two
# processes read the same file over and over, side by side: demo-buffered
# through the page cache, demo-direct with O_DIRECT (past it). The first
# shows READ_HIT% ≈ 100 % in cachetop, the second does not show at all.
# The file is removed at the end.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size=256
dir=${TMPDIR:-/var/tmp}

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-s MiB] [-p DIR] [-h]

Writes a SIZE MiB file with O_DIRECT (so none of it is cached), then runs two
readers of it side by side, each starting a pass over the whole file at most
once a second (one dd per pass, named after its reader):
  demo-buffered  dd bs=1M: plain read(2) through the page cache
  demo-direct    dd bs=1M iflag=direct: O_DIRECT reads, past the page cache

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
demo_disk_dir "$dir" "O_DIRECT needs a disk (tmpfs refuses it) and its files are not page cache of a disk"
dd=$(command -v dd) || die "dd not found (it is part of coreutils)"

demo_cap_size 10 "$dir"

# A SIGKILLed earlier run could not remove its file: if no demo-buffered is
# running, remove such leftovers.
demo_remove_leftovers "$dir" directio demo-buffered

demo_setup "$dir" directio
file=$workdir/data
end=$((SECONDS + duration))

# cachetop counts per process, under the name (comm) the process had when it
# read, and the kernel names a process after the file it executed: each pass
# runs dd through a symlink named after its reader.
mkdir "$workdir/bin"
ln -s "$dd" "$workdir/bin/demo-buffered"
ln -s "$dd" "$workdir/bin/demo-direct"

# Write the file past the page cache, so that the first buffered pass is a
# cold one. timeout bounds it in case this script is SIGKILLed.
demo_write_direct "$file" "$dd" "$end"

# The readers: demo_script names each bash loop after its reader too, so
# every process of a reader (the loop, and its dd between fork and exec) has
# the same name. Each bounds itself (a deadline checked between passes), and
# timeout(1) bounds it too, in case this script is SIGKILLed.
reader=$(
	cat <<'READ'
# NAME FILE MiB SECONDS DD [IFLAG]: read FILE (MiB) with DD (a dd named like
# this script) with dd's IFLAG if given, starting a pass at most once a
# second, until SECONDS have passed; then print the speeds.
set -u
file=$1 size=$2 end=$((SECONDS + $3)) dd=$4 flag=${5:-}
name=${0##*/}
ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((10#$t / 1000))
}
passes=0 first=0 rest=0
while ((SECONDS < end)); do
	start=$(ms)
	"$dd" if="$file" of=/dev/null bs=1M ${flag:+"iflag=$flag"} status=none || exit 1
	t=$(($(ms) - start))
	((t > 0)) || t=1
	passes=$((passes + 1))
	if ((passes == 1)); then
		first=$t
		echo "$name: first pass: $size MiB in $t ms ($((size * 1000 / t)) MiB/s)"
	else
		rest=$((rest + t))
	fi
	left=$((1000 - t))
	((left <= 0)) || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
done
if ((passes > 1)); then
	echo "$name: $passes passes; the first at $((size * 1000 / first)) MiB/s, the others at $((size * (passes - 1) * 1000 / (rest > 0 ? rest : 1))) MiB/s on average"
fi
READ
)
demo_script demo-buffered <<<"$reader"
demo_script demo-direct <<<"$reader"

timeout "$((left + 5))" "$workdir/demo-buffered" "$file" "$size" "$left" "$workdir/bin/demo-buffered" &
pids+=($!)
timeout "$((left + 5))" "$workdir/demo-direct" "$file" "$size" "$left" "$workdir/bin/demo-direct" direct &
pids+=($!)

pages=$((size * 256))
cat <<EOF
$scenario: demo-buffered and demo-direct each read $file
($size MiB = $pages pages, $fstype) about once a second, for $left s: demo-buffered
through the page cache, demo-direct with O_DIRECT. Ctrl-C stops them; the
file is removed.

What to look for on vitals' Cache tab (key 3), run as root:
  - demo-buffered: its first pass reads from the disk (the file was written
    past the cache): MISSES ≈ $pages, READ_HIT% ≈ 0. After its first pass,
    READ_HIT% ≈ 100 % and HITS large: ≈ $pages per pass, about one pass a
    second, MISSES ≈ 0. Each pass is a new dd, so the PID changes. Now and
    then a pass shows a few hundred MISSES (READ_HIT% 95-99 %): direct
    reads can drop some cached pages of the file they read, and
    demo-buffered reads those back from the disk.
  - demo-direct's reads of the file do not appear in cachetop at all:
    direct I/O bypasses the page cache, and vitals cannot count what does
    not touch the cache. (A demo-direct row may show HITS ≈ 4, READ_HIT%
    100: that is each new dd loading its own program and libraries, which
    do go through the cache; never the $pages pages of the file.)
    Its cost shows as disk reads on the Memory tab's bi (key 2: about
    $((size * 1024)) KiB/s if the disk keeps up with a pass a second) and
    as iowait (CPU tab, key 1: wa, demo-direct in state D).
  - the cachestat line: accesses/s ≈ hits/s ≈ $pages, hit ratio ≈ 100 %:
    it too sees only demo-buffered's reads, although the disk is busy.
  - each reader prints its speed: demo-buffered's passes after the first run
    at memory speed, every pass of demo-direct at disk speed.
Compare with: vmstat 1 (bi, wa), fincore $file,
cachestat / cachetop from bcc (bpfcc-tools) if installed.
EOF

for pid in "${pids[@]}"; do wait "$pid" || true; done
pids=()
echo "$scenario: done."
