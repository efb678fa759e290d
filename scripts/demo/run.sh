#!/usr/bin/env bash
# run.sh — list the training scenarios for vitals' CPU and Memory tabs, or
# run one.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# name|one-line description; each name is a NAME.sh beside this script.
scenarios=(
	"cpu-bound|one process (demo-cpuhog) burns a full CPU in user space"
	"ctxswitch-storm|32 threads of one process (demo-cswitch) ping-pong: cs/s far above 10k"
	"iowait|small synchronous writes (demo-iowait): iowait, D state, blocked tasks"
	"mem-leak|RSS of one process (demo-leak) climbs 20 MiB/s to a cap: a memory leak"
	"page-cache|demo-cachefill reads a big file: buff/cache grows, used stays flat"
	"reclaim|a 256 MiB memory cgroup: cache reclaim, refaults, OOM kills (root)"
	"cache-direct-io|one file read buffered (demo-buffered) and O_DIRECT (demo-direct)"
	"cache-cold-warm|demo-coldread reads a file cold, then warm: READ_HIT% 0, then 100"
	"fork-storm|thousands of tiny demo-tiny runs: busy CPUs, nothing in the table"
	"oom-kill|demo-oomvictim OOM-killed in a 64 MiB cgroup, named on screen (root)"
	"disk-randio|random 4 KiB O_DIRECT I/O (demo-randio) on a loop device (root)"
	"slow-disk|demo-slowio on a slow device: dm-delay, else a throttled blkio cgroup (root)"
	"fs-fill|demo-fill fills a small loop-mounted ext4 to 100 % (root)"
	"net-flood|demo-flood sends tiny UDP datagrams over a veth between two namespaces (root)"
	"net-bulk|demo-bulk moves bytes over TCP between two namespaces (root)"
	"net-lossy|a link dropping 10 % of segments: demo-bulk retransmits, named (root)"
	"net-closewait|demo-leaky never closes what demo-client closed: CLOSE-WAIT piles up"
)

usage() {
	cat <<EOF
Usage: $(basename "$0") [-h] [NAME [ARGS...]]

Without NAME, lists the scenarios. With NAME, runs scripts/demo/NAME.sh with
ARGS (every scenario takes -d SECONDS, default $DEFAULT_SECONDS, at most $MAX_SECONDS, and -h).
Run vitals in another terminal (or tmux pane) and watch its CPU tab (key 1)
for the first three, its Memory tab (key 2) for the next three, its Cache
tab (key 3, as root) for the cache-* ones; fork-storm for the CPU tab and
the event log (e), oom-kill for the header strip and the Memory tab;
disk-randio, slow-disk and fs-fill for the Disk tab (key 4), net-* for the
Net tab (key 5).
See README.md beside this script for what each scenario teaches.
EOF
}

list() {
	local s
	echo "Scenarios (run one with: $(basename "$0") NAME [-d SECONDS]):"
	for s in "${scenarios[@]}"; do
		printf '  %-16s %s\n' "${s%%|*}" "${s#*|}"
	done
}

case ${1:-} in
-h | --help)
	usage
	exit 0
	;;
"")
	list
	exit 0
	;;
-*) die "unknown option $1 (see -h)" ;;
esac

name=$1
shift
for s in "${scenarios[@]}"; do
	if [[ ${s%%|*} == "$name" ]]; then
		exec "$demo_dir/$name.sh" "$@"
	fi
done
echo "$(basename "$0"): no scenario called '$name'" >&2
list >&2
exit 2
