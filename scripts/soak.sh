#!/usr/bin/env bash
# soak.sh — run vitals for a long time under process churn, with a burst of
# idle processes in the middle, and record every SAMPLE seconds what a user
# would notice going wrong: resident memory, CPU per second, and how long a
# key press takes to show on screen.
#
# Not part of `make test` (it takes an hour by default). Figures from a run
# are quoted in the README under "Soak".
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/soak.sh [-h]

Environment:
  DURATION=3600      seconds to run
  INTERVAL=200ms     vitals' --interval
  SAMPLE=30          seconds between samples
  BURST=10000        idle processes spawned at DURATION/2 ...
  BURST_HOLD=120     ... and killed this many seconds later (0: no burst)
  CHURN=20           short-lived processes started per second, all run long
  VITALS=bin/vitals  the binary (built with `make build` when missing)
  OUT=soak-<time>.csv

Writes one CSV row per sample:
  t_s,phase,procs,load1,rss_mb,hwm_mb,cpu_ms_per_s,threads,fds,key_ms_median,key_ms_max
key_ms: the time from `tmux send-keys` switching tabs until the new tab's
first body line is on the screen (three switches per sample; the capture
polling adds up to about 5 ms). Ends with a summary per phase, and exits
non-zero when vitals died or a key never showed within 5 s.
EOF
}
[[ ${1:-} == -h || ${1:-} == --help ]] && { usage; exit 0; }
[[ $# -eq 0 ]] || { usage >&2; exit 2; }

DURATION=${DURATION:-3600} INTERVAL=${INTERVAL:-200ms} SAMPLE=${SAMPLE:-30}
BURST=${BURST:-10000} BURST_HOLD=${BURST_HOLD:-120} CHURN=${CHURN:-20}
VITALS=${VITALS:-bin/vitals} OUT=${OUT:-soak-$(date +%Y%m%d-%H%M).csv}
for v in DURATION SAMPLE BURST BURST_HOLD CHURN; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "soak: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
command -v tmux >/dev/null || { echo "soak: needs tmux (apt-get install tmux)" >&2; exit 2; }
[[ -x $VITALS ]] || make -s build

sess=soak_$$
work=$(mktemp -d)
# A server of its own: a `tmux kill-server` elsewhere on a shared machine
# must not end the run.
tmux() { command tmux -L "$sess" "$@"; }
stderr_log=${OUT%.csv}.stderr
churn_pid= burst_file=$work/burst
cleanup() {
	[[ -n $churn_pid ]] && kill "$churn_pid" 2>/dev/null || true
	[[ -s $burst_file ]] && xargs -r kill <"$burst_file" 2>/dev/null || true
	tmux kill-server 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Churn: CHURN short commands a second, with lifetimes from none to about a
# second, so PIDs are reused and processes vanish between the scanner's reads.
churn() {
	while :; do
		for ((i = 0; i < CHURN; i++)); do
			if ((i % 2)); then /bin/true & else sleep "0.$((RANDOM % 10))" & fi
		done
		sleep 1
		wait
	done
}
churn </dev/null >/dev/null 2>&1 &
churn_pid=$!

tmux new-session -d -s "$sess" -x 200 -y 50 "exec $VITALS --interval $INTERVAL 2>>$stderr_log"
sleep 3
vpid=$(tmux list-panes -t "$sess" -F '#{pane_pid}')
tick=$(getconf CLK_TCK)

cputicks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$vpid/stat" 2>/dev/null || echo 0; }
status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$vpid/status" 2>/dev/null || echo 0; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# key_ms KEY PREFIX: press KEY, wait until line 3 (the tab's first body line)
# starts with PREFIX; prints the milliseconds, or 5000 on a timeout.
key_ms() {
	local t0 t
	t0=$(now_ms)
	tmux send-keys -t "$sess" "$1"
	while :; do
		t=$(now_ms)
		if tmux capture-pane -p -t "$sess" | sed -n 3p | grep -q "^$2"; then
			echo $((t - t0))
			return
		fi
		((t - t0 >= 5000)) && { echo 5000; return; }
		sleep 0.002
	done
}

# From here on a failed command is a sample's problem, not the run's end:
# the loop checks what matters (vitals alive, keys answered) itself.
set +e
echo "t_s,phase,procs,load1,rss_mb,hwm_mb,cpu_ms_per_s,threads,fds,key_ms_median,key_ms_max" >"$OUT"
start=$(date +%s)
burst_at=$((DURATION / 2)) burst_end=$((DURATION / 2 + BURST_HOLD))
phase=before failed=0
c0=$(cputicks) t0=$(date +%s.%N)
while :; do
	sleep "$SAMPLE"
	el=$(($(date +%s) - start))
	if ! kill -0 "$vpid" 2>/dev/null; then
		echo "soak: vitals (pid $vpid) is gone after ${el}s; its stderr ($stderr_log) ends:" >&2
		tail -20 "$stderr_log" >&2
		failed=1
		break
	fi
	if ((BURST_HOLD > 0 && BURST > 0)) && [[ $phase == before ]] && ((el >= burst_at)); then
		phase=burst
		for ((i = 0; i < BURST; i++)); do
			sleep 100000 </dev/null >/dev/null 2>&1 &
			echo $! >>"$burst_file"
		done
	elif [[ $phase == burst ]] && ((el >= burst_end)); then
		xargs -r kill <"$burst_file" 2>/dev/null || true
		: >"$burst_file"
		phase=after
	fi
	c1=$(cputicks) t1=$(date +%s.%N)
	cpu=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v k="$tick" 'BEGIN{printf "%.1f", (b-a)*1000/k/(e-s)}')
	c0=$c1 t0=$t1
	keys=()
	for pair in "2 mem" "1 all" "2 mem"; do
		keys+=("$(key_ms ${pair% *} "${pair#* }")")
	done
	tmux send-keys -t "$sess" 1
	sorted=$(printf '%s\n' "${keys[@]}" | sort -n)
	kmed=$(sed -n 2p <<<"$sorted") kmax=$(tail -1 <<<"$sorted")
	((kmax >= 5000)) && failed=1
	procs=$(ls -d /proc/[0-9]* 2>/dev/null | wc -l)
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$el" "$phase" "$procs" \
		"$(cut -d' ' -f1 /proc/loadavg)" \
		"$(($(status_kb VmRSS) / 1024))" "$(($(status_kb VmHWM) / 1024))" "$cpu" \
		"$(status_kb Threads)" "$(ls /proc/$vpid/fd | wc -l)" "$kmed" "$kmax" | tee -a "$OUT"
	((el >= DURATION)) && break
done

echo
echo "summary of $OUT (medians and extremes per phase):"
awk -F, 'NR > 1 {
	n[$2]++; rss[$2, n[$2]] = $5; cpu[$2, n[$2]] = $7; key[$2, n[$2]] = $10
	if ($5 > rmax[$2]) rmax[$2] = $5
	if ($11 > kmax[$2]) kmax[$2] = $11
	last[$2] = $5
}
function median(a, p, m,   i, j, t, v) {
	for (i = 1; i <= m; i++) v[i] = a[p, i] + 0
	for (i = 2; i <= m; i++) { t = v[i]; for (j = i - 1; j > 0 && v[j] > t; j--) v[j+1] = v[j]; v[j+1] = t }
	return m % 2 ? v[(m+1)/2] : (v[m/2] + v[m/2+1]) / 2
}
END {
	split("before burst after", order, " ")
	for (o = 1; o <= 3; o++) { p = order[o]; if (!n[p]) continue
		printf "%-7s samples %3d  RSS median %s MB max %s MB last %s MB  CPU median %s ms/s  key median %s ms max %s ms\n",
			p, n[p], median(rss, p, n[p]), rmax[p], last[p], median(cpu, p, n[p]), median(key, p, n[p]), kmax[p]
	}
}' "$OUT"
exit "$failed"
