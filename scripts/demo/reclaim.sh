#!/usr/bin/env bash
# reclaim.sh — training scenario for vitals' Memory tab: memory pressure
# confined to a memory cgroup of its own (default limit 256 MiB), so the
# kernel reclaims page cache inside it and, as anonymous memory grows past
# the limit, OOM-kills the hog — while the rest of the machine is untouched.
# Needs root. The cgroup, its processes and the temp file are removed at the
# end.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly READ_RATE=64 # MiB/s, how fast demo-cacheread reads its file
limit=256
rate=32
anon=
dir=${TMPDIR:-/var/tmp}
args=("$@")

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-m MiB] [-r MiB_PER_S] [-a MiB] [-p DIR] [-h]

Creates a memory cgroup (vitals-demo-reclaim-PID, v1 or v2) with a memory
limit of -m MiB and runs two load processes in it:
  demo-cacheread  reads a file twice the limit's size, $READ_RATE MiB/s, over and
                  over: its page cache fills the cgroup, so the kernel must
                  reclaim (evict) cache inside it all the time;
  demo-reclaim    (memhog/main.go) after a few seconds, grows anonymous
                  memory by -r MiB/s towards -a MiB. Anonymous memory
                  cannot be evicted without swap, so once the cache is
                  squeezed out the cgroup runs out of memory and its OOM
                  killer kills demo-reclaim; it is started again after 5 s,
                  until the time is up.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -m MiB      the cgroup's memory limit, 32 to 4096 and at most 25 % of
              MemTotal (default $limit)
  -r MiB/s    growth rate of demo-reclaim, 1 to 1024 (default $rate)
  -a MiB      how far demo-reclaim grows (default twice the limit: it is
              OOM-killed on the way); well below the limit it is not killed and
              only squeezes the cache; at most 25 % of MemTotal
  -p DIR      where to put the file; must be on a disk, not tmpfs
              (default \$TMPDIR or /var/tmp: $dir)
  -h          show this help

Needs root (it creates a cgroup) and Go (go in PATH or /usr/local/go/bin/go).
Stops by itself; Ctrl-C stops it early. Leaves no process, file or cgroup
behind, and prints what the kernel counted (reclaim, refaults, OOM kills).
EOF
}

demo_parse_args 'm:limit r:rate a:anon p:dir' "$@"
total_mib=$(($(meminfo_kib MemTotal) / 1024))
quarter=$((total_mib / 4))
if ! is_whole "$limit" 32 4096 || ((10#$limit > quarter)); then
	die "-m $limit: want MiB from 32 to 4096, at most 25 % of MemTotal ($quarter MiB)"
fi
limit=$((10#$limit))
is_whole "$rate" 1 1024 || die "-r $rate: want whole MiB per second from 1 to 1024"
[[ -n $anon ]] || anon=$((2 * limit))
if ! [[ $anon =~ ^[0-9]+$ ]] || ((10#$anon < 1)); then
	die "-a $anon: want MiB from 1 to 25 % of MemTotal ($quarter MiB)"
fi
anon=$((10#$anon))
if ((anon > quarter)); then
	echo "reclaim: lowering -a from $anon to $quarter MiB (25 % of MemTotal)"
	anon=$quarter
fi
rate=$((10#$rate))
demo_disk_dir "$dir" "without swap its pages cannot be reclaimed"
dd=$(command -v dd) || die "dd not found (it is part of coreutils)"
file_mib=$((2 * limit))
disk_mib=$(free_mib "$dir")
((disk_mib - 1024 >= file_mib)) || die "$dir has $disk_mib MiB free; want $file_mib MiB for the file plus 1 GiB to spare"

if ((EUID != 0)); then
	cat >&2 <<EOF
$(basename "$0"): needs root. It creates a memory cgroup (a directory under
/sys/fs/cgroup), sets its memory limit and moves its own load processes into
it, which only root may do. Run it as: sudo $0${args[*]:+ ${args[*]}}
EOF
	exit 1
fi

# Find the memory controller: cgroup v2 (a cgroup2 mount whose
# cgroup.controllers lists memory; /sys/fs/cgroup on current distributions)
# or else v1 (a cgroup mount with the memory option, /sys/fs/cgroup/memory).
cgver='' cgroot=''
while read -r _ mnt type opts _; do
	if [[ $type == cgroup2 && -z $cgver ]] && grep -qw memory "$mnt/cgroup.controllers" 2>/dev/null; then
		cgver=2 cgroot=$mnt
	elif [[ $type == cgroup && ,$opts, == *,memory,* && -z $cgroot ]]; then
		cgroot=$mnt
	fi
done </proc/mounts
[[ -n $cgver || -z $cgroot ]] || cgver=1
if [[ -z $cgver ]]; then
	echo "$(basename "$0"): no memory cgroup controller is mounted (neither cgroup v2 with memory nor a v1 memory hierarchy); nothing to demonstrate" >&2
	exit 1
fi

# An earlier run that was SIGKILLed could not remove its cgroup: remove
# such leftovers if they are empty and their script is gone.
for old in "$cgroot"/vitals-demo-reclaim-*; do
	[[ -d $old && ! -s $old/cgroup.procs ]] || continue
	! kill -0 "${old##*-}" 2>/dev/null || continue
	rmdir "$old" 2>/dev/null && echo "reclaim: removed $old, left by an earlier run"
done
demo_remove_leftovers "$dir" reclaim demo-cacheread

demo_need_go memhog

cg=$cgroot/vitals-demo-reclaim-$$
cg_made=0 enabled_memory=0
runs=0 kills=0 vm_before='' psi_before=0

# The counters this scenario moves, from /proc/vmstat.
vmsnap() {
	grep -E '^(pgscan|pgsteal|workingset_refault|oom_kill)' /proc/vmstat || true
}
# psi_total FILE: the "some" stall total in µs of a pressure file, or 0.
psi_total() {
	awk '$1 == "some" { sub("total=", "", $5); print $5 }' "$1" 2>/dev/null || echo 0
}
# cg_oom_kills: how many processes the cgroup's OOM killer has killed.
cg_oom_kills() {
	local f=$cg/memory.events
	[[ $cgver == 2 ]] || f=$cg/memory.oom_control
	awk '$1 == "oom_kill" { print $2 }' "$f" 2>/dev/null || echo 0
}
mib() { echo $(($1 / 1048576)); }

# report prints what the kernel counted since the start.
report() {
	echo "reclaim: what the kernel counted during the run:"
	echo "  /proc/vmstat (whole machine), change in 4 KiB pages (oom_kill: kills):"
	vmsnap | awk -v before="$vm_before" '
		BEGIN { n = split(before, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " "); b[f[1]] = f[2] } }
		$2 - b[$1] != 0 || $1 ~ /^(pgscan|pgsteal)_(kswapd|direct)$|^oom_kill$/ { printf "    %-26s %+d\n", $1, $2 - b[$1] }'
	if [[ -r /proc/pressure/memory ]]; then
		echo "    memory PSI some: +$((($(psi_total /proc/pressure/memory) - psi_before) / 1000)) ms of stalls"
	fi
	[[ -d $cg ]] || return 0
	echo "  cgroup $cg (v$cgver):"
	if [[ $cgver == 1 ]]; then
		echo "    limit $(mib "$(cat "$cg/memory.limit_in_bytes")") MiB, peak usage $(mib "$(cat "$cg/memory.max_usage_in_bytes")") MiB, failcnt $(cat "$cg/memory.failcnt") (charges that hit the limit)"
		awk '$1 == "oom_kill" || $1 == "under_oom" { printf "    memory.oom_control %s %s\n", $1, $2 }' "$cg/memory.oom_control"
		awk '$1 ~ /^(workingset_refault_file|pgmajfault)$/ { printf "    memory.stat %s %s\n", $1, $2 }' "$cg/memory.stat"
	else
		echo "    limit $(mib "$(cat "$cg/memory.max")") MiB$([[ -r $cg/memory.peak ]] && echo ", peak usage $(mib "$(cat "$cg/memory.peak")") MiB")"
		awk '{ printf "    memory.events %s %s\n", $1, $2 }' "$cg/memory.events"
		awk '$1 ~ /^(pgscan|pgsteal|pgscan_kswapd|pgscan_direct|pgsteal_kswapd|pgsteal_direct|workingset_refault_file|pgmajfault)$/ { printf "    memory.stat %s %s\n", $1, $2 }' "$cg/memory.stat"
		if [[ -r $cg/memory.pressure ]]; then
			echo "    memory.pressure some: $(($(psi_total "$cg/memory.pressure") / 1000)) ms of stalls"
		fi
	fi
	echo "  demo-reclaim ran $runs time(s); the cgroup OOM-killed it $kills time(s)."
}

# remove_cgroup waits until the cgroup is empty, then removes it (and takes
# back +memory from the v2 parent if this script enabled it).
remove_cgroup() {
	local _ pid
	((cg_made)) || return 0
	# Only this script's children are in it; any left get KILLed.
	for _ in {1..50}; do
		[[ -s $cg/cgroup.procs ]] || break
		while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$cg/cgroup.procs"
		sleep 0.1
	done
	for _ in {1..50}; do
		rmdir "$cg" 2>/dev/null && break
		sleep 0.1
	done
	if [[ -d $cg ]]; then
		echo "reclaim: could not remove $cg; remove it with: rmdir $cg" >&2
	else
		cg_made=0
	fi
	if ((enabled_memory)); then
		echo -memory >"$cgroot/cgroup.subtree_control" 2>/dev/null || true
	fi
}
cleanup() {
	set +e # clean up as much as possible, whatever fails
	stop_children
	[[ -z $vm_before ]] || report
	# Deleting the file frees its page cache, the cgroup's charge with it.
	rm -rf "$workdir"
	remove_cgroup
}
demo_setup "$dir" reclaim cleanup
file=$workdir/data

demo_go_build memhog demo-reclaim

# The file is written with O_DIRECT from outside the cgroup, so none of it
# is cached (or charged) yet: only reading it inside the cgroup charges it.
"$dd" if=/dev/zero of="$file" bs=1M count="$file_mib" oflag=direct status=none

# demo-cacheread reads the file at READ_RATE MiB/s, in a loop; bounded by its
# own deadline and by timeout(1), in case this script is SIGKILLed.
demo_script demo-cacheread <<'READ'
# demo-cacheread FILE MiB RATE SECONDS DD: read FILE (MiB) RATE MiB each
# second, round and round, until SECONDS have passed.
set -u
file=$1 size=$2 rate=$3 end=$((SECONDS + $4)) dd=$5
ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((10#$t / 1000))
}
off=0
while ((SECONDS < end)); do
	second=$(ms)
	n=$((size - off < rate ? size - off : rate))
	"$dd" if="$file" of=/dev/null bs=1M skip="$off" count="$n" status=none || true
	off=$(((off + n) % size))
	left=$((1000 - ($(ms) - second)))
	((left <= 0)) || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
done
READ

# The cgroup: a child of the hierarchy's root, never the root itself (whose
# limits this script does not touch).
if [[ $cgver == 2 ]] && ! grep -qw memory "$cgroot/cgroup.subtree_control"; then
	echo +memory >"$cgroot/cgroup.subtree_control" ||
		die "cannot enable the memory controller for the children of $cgroot"
	enabled_memory=1
fi
mkdir "$cg"
cg_made=1
if [[ $cgver == 2 ]]; then
	echo "$((limit * 1048576))" >"$cg/memory.max"
else
	echo "$((limit * 1048576))" >"$cg/memory.limit_in_bytes"
fi

vm_before=$(vmsnap)
psi_before=$(psi_total /proc/pressure/memory)
end=$((SECONDS + duration))

# Each load process starts in a subshell that moves itself (only itself:
# $BASHPID) into the cgroup, then execs the load, so all it allocates is
# charged to the cgroup.
(
	echo "$BASHPID" >"$cg/cgroup.procs"
	exec timeout "$((duration + 2))" "$workdir/demo-cacheread" "$file" "$file_mib" "$READ_RATE" "$duration" "$dd"
) &
reader=$!
pids=("$reader")

fate="OOM-killed at the limit, restarted 5 s later"
((anon >= limit)) || fate="below the limit: it squeezes the cache, an OOM kill is unlikely"
swap_note=
if (($(meminfo_kib SwapTotal) > 0)); then
	swap_note="
  - swap is on here: the cgroup may swap demo-reclaim's memory out (so, SWAP
    column) instead of OOM-killing it, until it reaches $anon MiB and holds."
fi
cat <<EOF
reclaim: cgroup v$cgver $cg, limit $limit MiB;
demo-cacheread reads a $file_mib MiB file at $READ_RATE MiB/s in it, round and round, and
after a few seconds demo-reclaim grows by $rate MiB/s towards $anon MiB in it
($fate); $duration s in all. Ctrl-C stops it.

What to look for on vitals' Memory tab (key 2):
  - the cgroup /${cg#"$cgroot"/} in the cgroups table: usage climbs to the
    limit ($limit MiB) and stays pinned there; at first it is all page cache
    (mostly inactive_file), so the working set (usage − inactive_file) is
    small; as demo-reclaim grows, the working set climbs towards the limit.
  - reclaim: the cgroup's cache is evicted as fast as it is read. Note that
    /proc/vmstat counts reclaim caused by a cgroup limit in neither
    pgscan/pgsteal_kswapd nor _direct (those are for machine-wide shortage):
    they stay ≈ 0 here; only pgscan_file/pgsteal_file rise (and, on cgroup v2,
    the cgroup's own memory.stat pgscan/pgsteal). A container can thrash while
    the machine-wide "direct reclaim" saturation signal stays quiet.
  - refaults (workingset_refault_file) high and bi ≈ $((READ_RATE * 1024)) KiB/s: the file is
    read again and again from the disk because the cgroup is too small to
    keep it cached. Memory PSI hardly moves: evicting clean cache is cheap.
  - demo-reclaim (M sorts by RSS) climbs by $rate MiB/s; without swap, anonymous
    memory cannot be evicted, so when the cache is squeezed out the cgroup's
    OOM killer kills it: the OOM kill counter rises (highlighted) and the
    cgroup's OOM events/kills count up; demo-reclaim vanishes from the list.
    dmesg shows "Memory cgroup out of memory: Killed process ... (demo-reclaim)".
    Before killing, the kernel reclaims all it can: the cgroup's usage drops
    to ≈ 0 (its cache too) and then refills from the disk.$swap_note
  - the machine as a whole hardly notices: used/available move by at most
    $limit MiB, free pages stay far above the zone watermarks.
At the end this script prints what the kernel counted. Compare with:
grep -E 'pgscan|pgsteal|refault|oom_kill' /proc/vmstat, cat $cg/memory.stat.
EOF

# Let the cache fill the cgroup first, then start the hog again and again.
warm=$((duration / 4 < 5 ? duration / 4 : 5))
sleep "$warm" &
pids+=($!)
wait $! || true
pids=("$reader")
while ((SECONDS < end)); do
	left=$((end - SECONDS))
	before=$(cg_oom_kills)
	started=$SECONDS
	(
		echo "$BASHPID" >"$cg/cgroup.procs"
		# The obvious victim for any OOM killer, this cgroup's or the machine's.
		echo 1000 >"/proc/$BASHPID/oom_score_adj"
		exec "$workdir/demo-reclaim" -rate "$rate" -max "$anon" -d "${left}s"
	) &
	hog=$!
	pids=("$reader" "$hog")
	runs=$((runs + 1))
	rc=0
	# (2>/dev/null: no "Killed" job notice from bash; this script says it.)
	wait "$hog" 2>/dev/null || rc=$?
	pids=("$reader")
	now=$(cg_oom_kills)
	if ((now > before)); then
		kills=$((kills + now - before))
		echo "reclaim: demo-reclaim (pid $hog) was OOM-killed by the cgroup after $((SECONDS - started)) s (the cgroup's oom_kill is now $now)"
	elif ((rc != 0)); then
		echo "reclaim: demo-reclaim stopped with status $rc; not starting it again" >&2
		break
	fi
	((SECONDS < end)) || break
	pause=$((end - SECONDS < 5 ? end - SECONDS : 5))
	sleep "$pause" &
	pids+=($!)
	wait $! || true
	pids=("$reader")
done
demo_finish "$reader"
