#!/usr/bin/env bash
# fork-storm.sh — training scenario for vitals' CPU tab: the "CPU is busy but
# top shows nothing" case. A few demo-forkstorm loops start thousands of tiny
# commands (demo-tiny) a second; each lives a few milliseconds, far less than
# a refresh, so no process table lists the processes that use the CPU.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

jobs=$(nproc)
work=2000

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-j LOOPS] [-w ITERATIONS] [-h]

Runs -j demo-forkstorm loops (default: one per CPU, $jobs here); each starts
demo-tiny (a small bash script) over and over, as fast as it can. demo-tiny
counts to -w (default $work, a few milliseconds of CPU) and exits, so it never
lives long enough to be seen by a process scanner.

  -d SECONDS     how long to run (default $duration, at most $MAX_SECONDS)
  -j LOOPS       how many loops, 1 to 64 (default $jobs)
  -w ITERATIONS  how much each demo-tiny counts, 0 to 1000000 (default $work)
  -h             show this help

Stops by itself; Ctrl-C stops it early. Leaves no process or file behind.
EOF
}

demo_parse_args 'j:jobs w:work' "$@"
is_whole "$jobs" 1 64 || die "-j $jobs: want whole loops from 1 to 64"
is_whole "$work" 0 1000000 || die "-w $work: want whole iterations from 0 to 1000000"
jobs=$((10#$jobs)) work=$((10#$work))
demo_setup "${TMPDIR:-/tmp}" forkstorm

# The tiny command: its arguments (job number and run number) show in the
# event log, its exit code (the run number modulo 4) too.
demo_script demo-tiny <<'TINY'
for ((i = 0; i < $3; i++)); do :; done
exit $(($2 % 4))
TINY
# Each loop bounds itself (its own deadline) besides timeout(1) below. It
# finds demo-tiny in PATH, so argv[0] (first in the event log) is its name.
demo_script demo-forkstorm <<'LOOP'
end=$((SECONDS + $2))
n=0
PATH=$3:$PATH
while ((SECONDS < end)); do
	demo-tiny "$1" "$n" "$4" || true
	n=$((n + 1))
done
echo "fork-storm: loop $1 started $n demo-tiny runs"
LOOP

for ((j = 1; j <= jobs; j++)); do
	timeout "$((duration + 2))" "$workdir/demo-forkstorm" "$j" "$duration" "$workdir" "$work" &
	pids+=($!)
done

cat <<EOF
fork-storm: $jobs demo-forkstorm loops start demo-tiny over and over for
$duration s ($(nproc) CPUs here). Ctrl-C stops it.

What to look for on vitals' CPU tab (key 1):
  - the bars nearly full (usr and sys), r often above the CPU count, forks/s
    in the thousands — yet the table shows no process near those numbers:
    only the demo-forkstorm loops, each a fraction of a CPU (the fork cost
    is theirs; what demo-tiny runs is not in any row);
  - with eBPF (root): the first warning names the culprit, "short-lived
    demo-tiny ×N use X CPUs: NN% of the Y CPUs the table misses", and the
    next one the exec rate ("exec storm: … exec/s"); with room on screen
    the line "short-lived …" gives the interval and the minute, the top
    commands by count and by CPU;
  - without eBPF: "the process table misses X CPUs: short-lived
    processes? (forks/s …)": the scanner cannot see processes living less
    than an interval, but the gap and forks/s give them away;
  - press e: the event log scrolls with demo-tiny exec lines (arguments
    "JOB RUN $work") and exit lines (exit 0–3, lifetime in ms, CPU);
    / then demo-tiny filters, z pauses; "lost N" in its title if the ring
    buffer overflowed (try -j 16 -w 0).
Compare with: execsnoop / exitsnoop (bcc or libbpf-tools) if installed,
vmstat 1 (us, sy, r), grep processes /proc/stat (forks), top (shows nothing).
EOF

for pid in "${pids[@]}"; do wait "$pid" || true; done
pids=()
echo "fork-storm: done."
