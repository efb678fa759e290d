#!/usr/bin/env bash
# oom-kill.sh — training scenario for vitals' OOM-kill reporting: a process
# (demo-oomvictim) outgrows the memory limit of a small cgroup this script
# creates, and the cgroup's OOM killer kills it — only it: the rest of the
# machine is untouched. Needs root. The cgroup, its processes and the temp
# directory are removed at the end.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

limit=64
every=15
args=("$@")

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-m MiB] [-i SECONDS] [-h]

Creates a memory cgroup (vitals-demo-oom-PID, v1 or v2) with a limit of -m
MiB and, every -i seconds, starts demo-oomvictim (memhog/main.go) in it,
growing its anonymous memory by 4 × the limit per second towards twice the
limit: the cgroup's OOM killer kills it within a second or so.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -m MiB      the cgroup's memory limit, 16 to 1024 and at most 10 % of
              MemTotal (default $limit)
  -i SECONDS  time between two victims, 2 to 300 (default $every)
  -h          show this help

Needs root (it creates a cgroup) and Go (go in PATH or /usr/local/go/bin/go).
Stops by itself; Ctrl-C stops it early. Leaves no process, file or cgroup
behind.
EOF
}

demo_parse_args 'm:limit i:every' "$@"
tenth=$(($(meminfo_kib MemTotal) / 1024 / 10))
if ! is_whole "$limit" 16 1024 || ((10#$limit > tenth)); then
	die "-m $limit: want MiB from 16 to 1024, at most 10 % of MemTotal ($tenth MiB)"
fi
is_whole "$every" 2 300 || die "-i $every: want whole seconds from 2 to 300"
limit=$((10#$limit)) every=$((10#$every))
if ((EUID != 0)); then
	echo "$(basename "$0"): needs root (it creates a memory cgroup and moves its victim into it). Run it as: sudo $0${args[*]:+ ${args[*]}}" >&2
	exit 1
fi

# The memory controller: cgroup v2 (a cgroup2 mount listing memory) or v1.
cgver='' cgroot=''
while read -r _ mnt type opts _; do
	if [[ $type == cgroup2 && -z $cgver ]] && grep -qw memory "$mnt/cgroup.controllers" 2>/dev/null; then
		cgver=2 cgroot=$mnt
	elif [[ $type == cgroup && ,$opts, == *,memory,* && -z $cgroot ]]; then
		cgroot=$mnt
	fi
done </proc/mounts
[[ -n $cgver || -z $cgroot ]] || cgver=1
[[ -n $cgver ]] || { echo "$(basename "$0"): no memory cgroup controller is mounted; nothing to demonstrate" >&2; exit 1; }

# A SIGKILLed earlier run could not remove its cgroup: remove it if empty
# and its script is gone.
for old in "$cgroot"/vitals-demo-oom-*; do
	[[ -d $old && ! -s $old/cgroup.procs ]] || continue
	! kill -0 "${old##*-}" 2>/dev/null || continue
	rmdir "$old" 2>/dev/null && echo "oom-kill: removed $old, left by an earlier run"
done

demo_need_go memhog
cg=$cgroot/vitals-demo-oom-$$
cg_made=0 enabled_memory=0 runs=0 kills=0

cg_oom_kills() {
	local f=$cg/memory.events
	[[ $cgver == 2 ]] || f=$cg/memory.oom_control
	awk '$1 == "oom_kill" { print $2 }' "$f" 2>/dev/null || echo 0
}
remove_cgroup() {
	local _ pid
	((cg_made)) || return 0
	for _ in {1..50}; do
		[[ -s $cg/cgroup.procs ]] || break
		while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$cg/cgroup.procs"
		sleep 0.1
	done
	for _ in {1..50}; do
		rmdir "$cg" 2>/dev/null && break
		sleep 0.1
	done
	if [[ -d $cg ]]; then echo "oom-kill: could not remove $cg; remove it with: rmdir $cg" >&2; else cg_made=0; fi
	if ((enabled_memory)); then echo -memory >"$cgroot/cgroup.subtree_control" 2>/dev/null || true; fi
}
cleanup() {
	set +e
	stop_children
	rm -rf "$workdir"
	remove_cgroup
	((runs == 0)) || echo "oom-kill: demo-oomvictim ran $runs time(s); the cgroup OOM-killed it $kills time(s)."
}
demo_setup "${TMPDIR:-/tmp}" oom cleanup
demo_go_build memhog demo-oomvictim

if [[ $cgver == 2 ]] && ! grep -qw memory "$cgroot/cgroup.subtree_control"; then
	echo +memory >"$cgroot/cgroup.subtree_control" || die "cannot enable the memory controller for the children of $cgroot"
	enabled_memory=1
fi
mkdir "$cg"
cg_made=1
if [[ $cgver == 2 ]]; then
	echo "$((limit * 1048576))" >"$cg/memory.max"
	echo 0 >"$cg/memory.swap.max" 2>/dev/null || true
else
	echo "$((limit * 1048576))" >"$cg/memory.limit_in_bytes"
	# With swap the victim would be swapped out instead of killed.
	echo "$((limit * 1048576))" >"$cg/memory.memsw.limit_in_bytes" 2>/dev/null || true
fi

cat <<EOF
oom-kill: cgroup v$cgver $cg, limit $limit MiB; every $every s
demo-oomvictim grows past it and is OOM-killed; $duration s in all. Ctrl-C stops it.

What to look for in vitals (any tab):
  - the header line turns into "! OOM kill HH:MM:SS demo-oomvictim pid N in
    /${cg#"$cgroot"/} (A ack, e log)" and stays on every tab until you press A;
    "+N more" counts the kills since. Without eBPF or a readable /dev/kmsg
    it says "victim unknown".
  - Memory tab (key 2): the warnings start with "OOM KILL HH:MM:SS:
    demo-oomvictim pid N rss anon ≈ $limit M file … shmem …, cgroup … limit
    ${limit}M"; w lists every kill of the last 5 minutes; OOM kills +1
    (highlighted); v (cgroups) shows the cgroup's OOMKILL count.
  - e: the event log's oom_kill lines, and demo-oomvictim's exit by SIGKILL.
Compare with: dmesg | grep -i 'killed process', cat $cg/memory.$([[ $cgver == 2 ]] && echo events || echo oom_control).
EOF

end=$((SECONDS + duration))
while ((SECONDS < end)); do
	left=$((end - SECONDS))
	before=$(cg_oom_kills)
	(
		echo "$BASHPID" >"$cg/cgroup.procs"
		echo 1000 >"/proc/$BASHPID/oom_score_adj"
		exec timeout "$((left + 2))" "$workdir/demo-oomvictim" -rate "$((4 * limit))" -max "$((2 * limit))" -d "$((left < 10 ? left : 10))s"
	) &
	victim=$!
	pids=("$victim")
	runs=$((runs + 1))
	wait "$victim" 2>/dev/null || true
	pids=()
	now=$(cg_oom_kills)
	if ((now > before)); then
		kills=$((kills + now - before))
		echo "oom-kill: $(date +%T) demo-oomvictim OOM-killed by the cgroup (its oom_kill is now $now)"
	else
		echo "oom-kill: demo-oomvictim was not OOM-killed (swap? see memory.stat); stopping" >&2
		break
	fi
	((SECONDS < end)) || break
	pause=$((end - SECONDS < every ? end - SECONDS : every))
	sleep "$pause" &
	pids=($!)
	wait $! || true
	pids=()
done
echo "oom-kill: done."
