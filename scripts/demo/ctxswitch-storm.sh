#!/usr/bin/env bash
# ctxswitch-storm.sh — training scenario for vitals' CPU tab: a context-switch
# storm from many threads of one process (demo-cswitch, built from
# cswitch/main.go beside this script), for a bounded time.
set -euo pipefail

readonly MAX_SECONDS=600
duration=60
threads=32
spin=0

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-t THREADS] [-s SPIN] [-h]

Builds cswitch/main.go and runs it as demo-cswitch: THREADS threads of one
process, in pairs, hand a token back and forth over pipes, so nearly every
hand-off is a context switch (hundreds of thousands per second on 2 CPUs).

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -t THREADS  number of threads, even, 2 to 1024 (default $threads)
  -s SPIN     busy-loop steps per hand-off (default $spin); more spin means
              fewer switches, more of them involuntary (preemption)
  -h          show this help

Needs Go (go in PATH or /usr/local/go/bin/go). Stops by itself; Ctrl-C stops
it early. Leaves no process or file behind.
EOF
}

die() {
	echo "$(basename "$0"): $*" >&2
	exit 2
}

while getopts ':d:t:s:h' opt; do
	case $opt in
	d) duration=$OPTARG ;;
	t) threads=$OPTARG ;;
	s) spin=$OPTARG ;;
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
if ! [[ $threads =~ ^[0-9]+$ ]] || ((10#$threads < 2 || 10#$threads > 1024 || 10#$threads % 2)); then
	die "-t $threads: want an even number from 2 to 1024"
fi
if ! [[ $spin =~ ^[0-9]+$ ]] || ((10#$spin > 100000000)); then
	die "-s $spin: want a whole number from 0 to 100000000"
fi
duration=$((10#$duration)) threads=$((10#$threads)) spin=$((10#$spin))

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gobin=$(command -v go || true)
[[ -n $gobin ]] || gobin=/usr/local/go/bin/go
[[ -x $gobin ]] || die "Go is needed to build cswitch/main.go (no go in PATH or /usr/local/go/bin)"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/vitals-demo-cswitch.XXXXXX")
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

echo "ctxswitch-storm: building cswitch/main.go ..."
(cd "$here/cswitch" && "$gobin" build -o "$workdir/demo-cswitch" .)

# The program stops itself after -d and when this script dies (parent-death
# signal), so even a SIGKILLed script leaves no storm running.
"$workdir/demo-cswitch" -threads "$threads" -d "${duration}s" -spin "$spin" &
pids+=($!)
storm=$!

cat <<EOF
ctxswitch-storm: demo-cswitch (pid $storm), $threads threads, for $duration s. Ctrl-C stops it.

What to look for on vitals' CPU tab (key 1):
  - the cs/s line jumps far above 10k/s and the warning line says
    "context switches .../s > 10k/s"; check it against: vmstat 1 (cs column).
  - sort the process table by CSW/s (< and > choose the sort column):
    demo-cswitch leads with a huge CSW/s (voluntary: each thread blocks in
    read(2) until its partner writes) and a smaller but large NVCSW/s
    (involuntary: $threads threads want $(nproc) CPUs, so they get preempted).
    These are summed over all threads; /proc/$storm/status alone counts only
    the main thread, which barely switches. Compare: pidstat -w -t -p $storm 1.
  - THR of demo-cswitch is above $threads: its worker threads plus the Go runtime's own.
  - the CPU bars are mostly sys (switching is kernel work), %SYS of
    demo-cswitch is well above %USR, r (runnable) is high and %WAIT
    (run-queue delay) of demo-cswitch is high.
When it ends, demo-cswitch prints its own totals from getrusage(2).
EOF

wait "$storm" || true
pids=()
echo "ctxswitch-storm: done."
