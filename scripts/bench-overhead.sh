#!/usr/bin/env bash
# bench-overhead.sh — whole-program overhead of vitals next to htop and btop:
# CPU milliseconds per wall second and peak RSS of each monitor, running in a
# 200x50 tmux session while NPROCS idle processes exist.
#
# It builds bin/vitals, installs tmux, htop and btop from Debian if missing,
# and runs the shared benchmark (../shared/bench/overhead.sh) so the numbers
# are comparable with the rest of the project's. Without that script it
# measures vitals alone the same way.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/bench-overhead.sh [-h]

Environment:
  NPROCS=2000               idle processes to spawn (the process table's size)
  SECONDS_PER_MONITOR=20    measured seconds per monitor (at most 600)
  MONITORS="vitals htop btop"
                            which monitors to run, in order (vitals is built
                            only when listed)
  VITALS_CMD=bin/vitals     the vitals command line
  OVERHEAD_SH=../shared/bench/overhead.sh
                            the shared benchmark, relative to the repo root;
                            when missing, vitals alone is measured by the
                            same method (tmux 200x50, utime+stime of the
                            pane's process tree over the measured seconds)

Prints: monitor, procs, cpu_ms/s (CPU time per wall second, 1000 = one full
CPU), rss_MB (peak resident memory).
EOF
}

case ${1:-} in
-h | --help)
	usage
	exit 0
	;;
"") ;;
*)
	echo "bench-overhead.sh: unexpected argument $1 (see -h)" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

nprocs=${NPROCS:-2000}
duration=${SECONDS_PER_MONITOR:-20}
monitors=${MONITORS:-vitals htop btop}
vitals_cmd=${VITALS_CMD:-bin/vitals}
overhead_sh=${OVERHEAD_SH:-../shared/bench/overhead.sh}

die() {
	echo "bench-overhead.sh: $*" >&2
	exit 2
}
if ! [[ $nprocs =~ ^[0-9]+$ ]] || ((10#$nprocs < 1 || 10#$nprocs > 20000)); then
	die "NPROCS=$nprocs: want 1 to 20000"
fi
if ! [[ $duration =~ ^[0-9]+$ ]] || ((10#$duration < 1 || 10#$duration > 600)); then
	die "SECONDS_PER_MONITOR=$duration: want 1 to 600"
fi
nprocs=$((10#$nprocs)) duration=$((10#$duration))

declare -A cmd_of=([vitals]=$vitals_cmd [htop]='htop -d 10' [btop]='btop')
specs=()
for m in $monitors; do
	[[ -n ${cmd_of[$m]:-} ]] || die "MONITORS: unknown monitor '$m' (want vitals, htop, btop)"
	specs+=("$m=${cmd_of[$m]}")
done
((${#specs[@]})) || die "MONITORS is empty"

# --- tools ------------------------------------------------------------------

missing=()
for tool in tmux htop btop; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
	echo "installing ${missing[*]} ..." >&2
	sudo=()
	((EUID == 0)) || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
fi

# --- build ------------------------------------------------------------------

if [[ " $monitors " == *" vitals "* ]]; then
	echo "building bin/vitals ..." >&2
	go build -o bin/vitals .
fi

# --- measure ----------------------------------------------------------------

echo "overhead: $nprocs idle processes, $duration s per monitor, tmux 200x50" >&2

if [[ -f $overhead_sh ]]; then
	bash "$overhead_sh" "$nprocs" "$duration" "${specs[@]}"
	exit 0
fi

echo "note: $overhead_sh not found: measuring vitals alone by the same method" >&2
[[ " $monitors " == *" vitals "* ]] || die "without $overhead_sh only vitals can be measured; add vitals to MONITORS"

idle_pids=()
session=bench_ovh_$$
cleanup() {
	tmux kill-session -t "$session" 2>/dev/null || true
	if ((${#idle_pids[@]})); then
		kill "${idle_pids[@]}" 2>/dev/null || true
		wait "${idle_pids[@]}" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for ((i = 0; i < nprocs; i++)); do
	sleep 100000 >/dev/null 2>&1 &
	idle_pids+=($!)
done

tick=$(getconf CLK_TCK)

# tree_ticks PID: utime+stime, in clock ticks, of PID and all its
# descendants (a monitor's helper processes count as its overhead).
tree_ticks() {
	local total=0 pid kid stat rest
	local -a todo=("$1") fields
	while ((${#todo[@]})); do
		pid=${todo[0]}
		todo=("${todo[@]:1}")
		if stat=$(cat "/proc/$pid/stat" 2>/dev/null); then
			rest=${stat##*) }
			read -r -a fields <<<"$rest"
			total=$((total + fields[11] + fields[12]))
		fi
		for kid in $(pgrep -P "$pid" 2>/dev/null); do todo+=("$kid"); done
	done
	echo "$total"
}

printf "%-12s %8s %10s %8s\n" monitor procs cpu_ms/s rss_MB
tmux new-session -d -s "$session" -x 200 -y 50 "$vitals_cmd"
sleep 4
pane_pid=$(tmux list-panes -t "$session" -F '#{pane_pid}')
kill -0 "$pane_pid" 2>/dev/null || die "vitals exited during start-up"
c0=$(tree_ticks "$pane_pid")
t0=$(date +%s.%N)
sleep "$duration"
c1=$(tree_ticks "$pane_pid")
t1=$(date +%s.%N)
rss=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$pane_pid/status" 2>/dev/null || true)
tmux kill-session -t "$session"
awk -v n=vitals -v p="$nprocs" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v tk="$tick" -v r="${rss:--}" \
	'BEGIN { printf "%-12s %8d %10.1f %8s\n", n, p, (c1 - c0) * 1000 / tk / (t1 - t0), r }'
