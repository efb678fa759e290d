#!/usr/bin/env bash
# cpu-bound.sh — training scenario for vitals' CPU tab: one process named
# demo-cpuhog burns one full CPU in user space for a bounded time, then
# everything it started is gone.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-h]

Runs one process, demo-cpuhog, that spins in user space on one CPU.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -h          show this help

Stops by itself; Ctrl-C stops it early. Leaves no process or file behind.
EOF
}

demo_parse_args '' "$@"
demo_setup "${TMPDIR:-/tmp}" cpu

# demo_script names the process demo-cpuhog. The loop bounds itself too, in
# case this script is SIGKILLed and cannot clean up.
demo_script demo-cpuhog <<'HOG'
# Spin in user space for $1 seconds.
end=$((SECONDS + $1))
while ((SECONDS < end)); do
	for ((i = 0; i < 100000; i++)); do :; done
done
HOG
"$workdir/demo-cpuhog" "$duration" &
pids+=($!)
hog=$!

cat <<EOF
cpu-bound: demo-cpuhog (pid $hog) burns one CPU for $duration s. Ctrl-C stops it.

What to look for on vitals' CPU tab (key 1):
  - press P to sort by %CPU: demo-cpuhog is at the top, %CPU ≈ 100 (one full
    CPU; 100 = one core, as top), %USR ≈ 100, %SYS ≈ 0, S = R.
  - one per-CPU bar is (almost) full and mostly usr; the kernel may move the
    process between CPUs, so which bar is full can change.
  - the "all" bar: usr ≈ $((100 / $(nproc))) % of the machine (100 % over $(nproc) CPUs).
  - r (runnable) ≥ 1, load 1 min climbs towards 1 (it lags by design);
    cs/s stays low: a pure CPU burner rarely switches.
  - TIME+ of demo-cpuhog grows by about 1 s per second.
Compare with: top -p $hog, pidstat -u -p $hog 1, mpstat -P ALL 1.
EOF

demo_finish "$hog"
