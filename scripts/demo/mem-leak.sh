#!/usr/bin/env bash
# mem-leak.sh — training scenario for vitals' Memory tab: a process named
# demo-leak (built from memhog/main.go beside this script) whose RSS grows
# steadily, like a memory leak, up to a hard cap, and holds it until the
# time is up; then everything it started is gone.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cap_mib=1024
rate=20

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-m MiB] [-r MiB_PER_S] [-h]

Builds memhog/main.go and runs it as demo-leak: it maps anonymous memory and
writes every page, RATE MiB more each second, so its RSS climbs steadily up
to the cap, then holds it until the time is up.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -m MiB      the cap (default $cap_mib); never more than 25 % of MemTotal
              nor half of MemAvailable: a larger value is lowered
  -r MiB/s    growth rate, 1 to 1024 (default $rate)
  -h          show this help

Needs Go (go in PATH or /usr/local/go/bin/go). Stops by itself; Ctrl-C stops
it early. Leaves no process or file behind.
EOF
}

demo_parse_args 'm:cap_mib r:rate' "$@"
is_whole "$cap_mib" 1 65536 || die "-m $cap_mib: want MiB from 1 to 65536"
is_whole "$rate" 1 1024 || die "-r $rate: want whole MiB per second from 1 to 1024"
cap_mib=$((10#$cap_mib)) rate=$((10#$rate))

# Never take more than a quarter of the RAM, nor half of what is available
# now: the lesson is the climb, not an out-of-memory machine.
total_mib=$(($(meminfo_kib MemTotal) / 1024))
avail_mib=$(($(meminfo_kib MemAvailable) / 1024))
limit=$((total_mib / 4))
((avail_mib / 2 >= limit)) || limit=$((avail_mib / 2))
if ((cap_mib > limit)); then
	echo "mem-leak: lowering the cap from $cap_mib to $limit MiB (25 % of MemTotal $total_mib MiB, at most half of MemAvailable $avail_mib MiB)"
	cap_mib=$limit
fi
((cap_mib >= 1)) || die "too little memory available ($avail_mib MiB) to run safely"

demo_need_go memhog
demo_setup "${TMPDIR:-/tmp}" leak
demo_go_build memhog demo-leak

# The program stops itself after -d and when this script dies (parent-death
# signal), so even a SIGKILLed script leaves no leak running.
"$workdir/demo-leak" -rate "$rate" -max "$cap_mib" -d "${duration}s" -every 10s &
pids+=($!)
leak=$!

grow=$(((cap_mib + rate - 1) / rate))
cat <<EOF
mem-leak: demo-leak (pid $leak) grows its RSS by $rate MiB/s up to $cap_mib MiB
(reached after about $grow s), then holds it; $duration s in all. Ctrl-C stops it.

What to look for on vitals' Memory tab (key 2):
  - press M to sort the processes by RSS: demo-leak climbs to the top and
    its RSS grows by about $rate MiB at every second, steadily, without ever
    shrinking: that is what a leak looks like. USS ≈ PSS ≈ RSS (the pages are
    its own, not shared), SWAP 0 (no swap here: anonymous memory cannot be
    paged out, only freed or OOM-killed), %MEM = RSS / MemTotal ($total_mib MiB).
  - used rises and available falls by the same $rate MiB/s while buff/cache
    stays flat: the growth is anonymous memory (anon), owned by one process.
  - faults/s ≈ $((rate * 256)) (one minor fault per new 4 KiB page, $rate MiB/s),
    major faults 0: nothing is read from disk.
  - once the cap is reached the RSS line goes flat: a real leak would not stop.
demo-leak prints its own VmRSS every 10 s; compare with: ps -o rss,comm -p $leak,
grep -E 'VmRSS|RssAnon' /proc/$leak/status, free -m 1, vmstat 1.
EOF

demo_finish "$leak"
