#!/usr/bin/env bash
# cpu-bound.sh — training scenario for vitals' CPU tab: one process named
# demo-cpuhog burns one full CPU in user space for a bounded time, then
# everything it started is gone.
set -euo pipefail

readonly MAX_SECONDS=600
duration=60

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-h]

Runs one process, demo-cpuhog, that spins in user space on one CPU.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -h          show this help

Stops by itself; Ctrl-C stops it early. Leaves no process or file behind.
EOF
}

die() {
	echo "$(basename "$0"): $*" >&2
	exit 2
}

while getopts ':d:h' opt; do
	case $opt in
	d) duration=$OPTARG ;;
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
duration=$((10#$duration))

workdir=$(mktemp -d "${TMPDIR:-/tmp}/vitals-demo-cpu.XXXXXX")
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

# The kernel names a process (comm) after the file it executed, so a script
# called demo-cpuhog shows up under that name in every tool (the interpreter
# path must be absolute: through env, comm would be "bash"). The loop bounds
# itself too, in case this script is SIGKILLed and cannot clean up.
cat >"$workdir/demo-cpuhog" <<HOG
#!$(command -v bash)
# Spin in user space for \$1 seconds.
end=\$((SECONDS + \$1))
while ((SECONDS < end)); do
	for ((i = 0; i < 100000; i++)); do :; done
done
HOG
chmod +x "$workdir/demo-cpuhog"
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

wait "$hog" || true
pids=()
echo "cpu-bound: done."
