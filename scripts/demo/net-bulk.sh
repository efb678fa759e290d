#!/usr/bin/env bash
# net-bulk.sh — training scenario for vitals' Net tab: one process moves
# the bytes. demo-bulk writes to demo-sink over TCP as fast as it can, over
# a veth pair between two network namespaces of its own.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-h]

Creates two network namespaces (vdemo<PID>a, vdemo<PID>b) joined by a veth
pair; demo-bulk in a sends to demo-sink in b over one TCP connection as fast
as it can. Needs root.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -h          show this help

Stops by itself; Ctrl-C stops it early. Deletes its namespaces (and so the
veth pair) and leaves no process or file behind.
EOF
}

demo_parse_args '' "$@"
demo_need_root_net
demo_setup "${TMPDIR:-/tmp}" netbulk demo_net_cleanup
demo_netload_build demo-bulk demo-sink
demo_netns_setup

demo_in "$ns_b" demo-sink tcpsink -addr "$addr_b:5001" -d "${duration}s"
sink=$(demo_pid_of demo-sink)
demo_in "$ns_a" demo-bulk bulk -addr "$addr_b:5001" -d "${duration}s"
sender=$(demo_pid_of demo-bulk)

cat <<EOF
net-bulk: demo-bulk (pid $sender, namespace $ns_a) sends to demo-sink (pid
$sink, namespace $ns_b) over TCP for $duration s. Ctrl-C stops it.

On the Net tab (key 5), as root (eBPF):
  - "· top demo-bulk $sender tx …/s" after the softirq rates: the process
    moving the bytes, in any namespace; v → processes: TX/s of demo-bulk,
    RX/s of demo-sink, both socket payload (no headers, no ACKs);
  - with vitals --net-pid $sink the vd$$b row: rxB/s about the payload plus
    headers (rxavg in the tens of KiB: veth passes GSO frames whole),
    txpck/s the ACKs going back; the processes note prints the payload sum
    beside the interface counters (the gap: headers and ACKs).
Compare with: ip netns exec $ns_b sar -n DEV 1, ip netns exec $ns_b nstat,
ip netns exec $ns_a ss -tni.
EOF

for pid in "${pids[@]}"; do wait "$pid" || true; done
pids=()
echo "net-bulk: done."
