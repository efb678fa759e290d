#!/usr/bin/env bash
# net-closewait.sh — training scenario for vitals' Net tab: an application
# leaking connections. demo-leaky accepts connections on loopback and reads
# them, but never closes a socket; demo-client connects, writes a line and
# closes, -r times a second. Each connection the client closed stays in
# CLOSE-WAIT on demo-leaky's side: the peer is done, the application is not.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rate=10

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-r PER_SECOND] [-h]

Runs demo-leaky on a free port of 127.0.0.1 (loopback only) and demo-client,
which opens and closes -r connections a second to it (default $rate). Any
user can run it.

  -d SECONDS     how long to run (default $duration, at most $MAX_SECONDS)
  -r PER_SECOND  connections a second, 1 to 200 (default $rate)
  -h             show this help

Stops by itself; Ctrl-C stops it early (the leaked sockets go with
demo-leaky). Leaves no process or file behind.
EOF
}

demo_parse_args 'r:rate' "$@"
is_whole "$rate" 1 200 || die "-r $rate: want 1 to 200 connections a second"
rate=$((10#$rate))
demo_setup "${TMPDIR:-/tmp}" netclosewait
demo_netload_build demo-leaky demo-client

demo_in "" demo-leaky leaky -addr 127.0.0.1:0 -d "${duration}s" >"$workdir/leaky.out"
leaky=$(demo_pid_of demo-leaky)
port=
for _ in {1..50}; do
	port=$(awk '$1 == "listening" { sub(/.*:/, "", $2); print $2 }' "$workdir/leaky.out")
	[[ -z $port ]] || break
	sleep 0.1
done
[[ -n $port ]] || die "demo-leaky did not start listening"
demo_in "" demo-client client -addr "127.0.0.1:$port" -rate "$rate" -d "${duration}s"

cat <<EOF
net-closewait: demo-leaky (pid $leaky) listens on 127.0.0.1:$port and never
closes a connection; demo-client opens and closes $rate a second, for
$duration s. Ctrl-C stops it.

On the Net tab (key 5), within a few seconds:
  - the summary line: close-wait climbing by $rate a second (red from 20);
  - the warning "N CLOSE-WAIT sockets: an application is not closing
    connections its peers closed (most: demo-leaky pid $leaky, N)";
  - the connections panel (the default): close-wait rows first, all
    127.0.0.1:$port with PID $leaky; v → processes: CLOSE-W of demo-leaky
    growing. (Owners come from /proc/PID/fd: without root, another user's
    process would show PID –.)
Compare with: ss -tnp state close-wait, ss -s.
EOF

for pid in "${pids[@]}"; do wait "$pid" || true; done
pids=()
echo "net-closewait: done."
