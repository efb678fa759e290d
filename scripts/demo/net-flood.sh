#!/usr/bin/env bash
# net-flood.sh — training scenario for vitals' Net tab: the softirq case. A
# demo-flood process sends tiny UDP datagrams as fast as it can over a veth
# pair between two network namespaces of its own to demo-sink: a flood of
# 60-byte frames, each one receive softirq work (NET_RX) on the CPU that
# takes it.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size=18

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-s BYTES] [-h]

Creates two network namespaces (vdemo<PID>a, vdemo<PID>b) joined by a veth
pair, runs demo-sink in b and demo-flood in a, which sends -s byte UDP
datagrams (default $size: 60-byte frames) to it as fast as it can. Needs root.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -s BYTES    datagram payload, 1 to 1472 (default $size)
  -h          show this help

Stops by itself; Ctrl-C stops it early. Deletes its namespaces (and so the
veth pair) and leaves no process or file behind.
EOF
}

demo_parse_args 's:size' "$@"
is_whole "$size" 1 1472 || die "-s $size: want 1 to 1472 bytes"
size=$((10#$size))
demo_need_root_net
demo_setup "${TMPDIR:-/tmp}" netflood demo_net_cleanup
demo_netload_build demo-flood demo-sink
demo_netns_setup

demo_in "$ns_b" demo-sink udpsink -addr "$addr_b:9999" -d "${duration}s"
sink=$(demo_pid_of demo-sink)
demo_in "$ns_a" demo-flood flood -addr "$addr_b:9999" -size "$size" -d "${duration}s"
flooder=$(demo_pid_of demo-flood)

cat <<EOF
net-flood: demo-flood (pid $flooder, namespace $ns_a) floods demo-sink (pid
$sink, namespace $ns_b) with $size-byte UDP datagrams for $duration s.
Ctrl-C stops it.

Watch the Net tab (key 5) of: vitals --net-pid $sink
(the veth is in the demo's namespace; without --net-pid the tab shows the
init namespace, where the softirq rates and the eBPF top talker move):
  - the vd$$b row: rxpck/s far above the others, rxavg 60 (bytes per frame:
    $size of payload + 42 of Ethernet, IP and UDP headers), rxB/s modest —
    the packet rate costs, not the bytes;
  - the first warning: "vd$$b: … pkt/s in, 60 B avg: tiny packets at that
    rate can be a flood; softirq NET_RX cpuN …/s …";
  - "· top demo-flood $flooder tx …" after the softirq rates (eBPF payload,
    $size B a datagram: far below the interface's bytes);
  - the CPU tab (key 1): the irq share of the CPU bars, softirq/s NET_RX.
Compare with: ip netns exec $ns_b sar -n DEV 1, mpstat -I SCPU -P ALL 1
(NET_RX/s), cat /proc/softirqs.
EOF

for pid in "${pids[@]}"; do wait "$pid" || true; done
pids=()
echo "net-flood: done."
