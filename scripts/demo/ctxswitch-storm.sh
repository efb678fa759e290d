#!/usr/bin/env bash
# ctxswitch-storm.sh — training scenario for vitals' CPU tab: a context-switch
# storm from many threads of one process (demo-cswitch, built from
# cswitch/main.go beside this script), for a bounded time.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

demo_parse_args 't:threads s:spin' "$@"
if ! is_whole "$threads" 2 1024 || ((10#$threads % 2)); then
	die "-t $threads: want an even number from 2 to 1024"
fi
is_whole "$spin" 0 100000000 || die "-s $spin: want a whole number from 0 to 100000000"
threads=$((10#$threads)) spin=$((10#$spin))
demo_need_go cswitch
demo_setup "${TMPDIR:-/tmp}" cswitch

demo_go_build cswitch demo-cswitch

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

demo_finish "$storm"
