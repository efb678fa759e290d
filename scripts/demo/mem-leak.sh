#!/usr/bin/env bash
# mem-leak.sh — training scenario for vitals' Memory tab: a process named
# demo-leak (built from memhog/main.go beside this script) whose RSS grows
# steadily, like a memory leak, up to a hard cap, and holds it until the
# time is up; then everything it started is gone.
set -euo pipefail

readonly MAX_SECONDS=600
duration=60
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

die() {
	echo "$(basename "$0"): $*" >&2
	exit 2
}

while getopts ':d:m:r:h' opt; do
	case $opt in
	d) duration=$OPTARG ;;
	m) cap_mib=$OPTARG ;;
	r) rate=$OPTARG ;;
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
if ! [[ $cap_mib =~ ^[0-9]+$ ]] || ((10#$cap_mib < 1 || 10#$cap_mib > 65536)); then
	die "-m $cap_mib: want MiB from 1 to 65536"
fi
if ! [[ $rate =~ ^[0-9]+$ ]] || ((10#$rate < 1 || 10#$rate > 1024)); then
	die "-r $rate: want whole MiB per second from 1 to 1024"
fi
duration=$((10#$duration)) cap_mib=$((10#$cap_mib)) rate=$((10#$rate))

# Never take more than a quarter of the RAM, nor half of what is available
# now: the lesson is the climb, not an out-of-memory machine.
total_mib=$(($(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo) / 1024))
avail_mib=$(($(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo) / 1024))
limit=$((total_mib / 4))
((avail_mib / 2 >= limit)) || limit=$((avail_mib / 2))
if ((cap_mib > limit)); then
	echo "mem-leak: lowering the cap from $cap_mib to $limit MiB (25 % of MemTotal $total_mib MiB, at most half of MemAvailable $avail_mib MiB)"
	cap_mib=$limit
fi
((cap_mib >= 1)) || die "too little memory available ($avail_mib MiB) to run safely"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gobin=$(command -v go || true)
[[ -n $gobin ]] || gobin=/usr/local/go/bin/go
[[ -x $gobin ]] || die "Go is needed to build memhog/main.go (no go in PATH or /usr/local/go/bin)"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/vitals-demo-leak.XXXXXX")
pids=()

# stop_children sends TERM to every child, gives them 2 s, then KILLs.
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
	for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
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

echo "mem-leak: building memhog/main.go ..."
(cd "$here/memhog" && "$gobin" build -o "$workdir/demo-leak" .)

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

wait "$leak" || true
pids=()
echo "mem-leak: done."
