#!/usr/bin/env bash
# net-lossy.sh — training scenario for vitals' Net tab: a lossy link. An
# nftables rule inside the receiver's namespace drops a share of the data
# segments demo-bulk sends to demo-sink, so its TCP retransmits; the kernel
# retransmits in softirq, and vitals attributes each retransmit to
# demo-bulk through its socket.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

loss=10

usage() {
	cat <<EOF
Usage: $(basename "$0") [-d SECONDS] [-l PERCENT] [-h]

Creates two network namespaces (vdemo<PID>a, vdemo<PID>b) joined by a veth
pair, and in b an nftables rule dropping -l percent (default $loss) of the
data segments reaching demo-sink; demo-bulk in a sends to it over TCP.
(tc netem would do too, but sch_netem is not in every kernel; nft is.)
Needs root and nft.

  -d SECONDS  how long to run (default $duration, at most $MAX_SECONDS)
  -l PERCENT  share of data segments dropped, 1 to 50 (default $loss)
  -h          show this help

Stops by itself; Ctrl-C stops it early. Deletes its namespaces (with the
veth pair and the rule) and leaves no process or file behind.
EOF
}

demo_parse_args 'l:loss' "$@"
is_whole "$loss" 1 50 || die "-l $loss: want 1 to 50 percent"
loss=$((10#$loss))
demo_need_root_net
command -v nft >/dev/null || die "needs nft (nftables)"
demo_setup "${TMPDIR:-/tmp}" netlossy demo_net_cleanup
demo_netload_build demo-bulk demo-sink
demo_netns_setup

# Only segments with data (longer than 100 bytes), so the handshake and the
# ACKs pass and the connection stays up. The rule lives in $ns_b only.
ip netns exec "$ns_b" nft -f - <<NFT
table inet vitalsdemo {
	chain in {
		type filter hook input priority 0; policy accept;
		tcp dport 5001 meta length > 100 numgen random mod 100 < $loss drop
	}
}
NFT

demo_in "$ns_b" demo-sink tcpsink -addr "$addr_b:5001" -d "${duration}s"
sink=$(demo_pid_of demo-sink)
demo_in "$ns_a" demo-bulk bulk -addr "$addr_b:5001" -d "${duration}s"
sender=$(demo_pid_of demo-bulk)

cat <<EOF
net-lossy: demo-bulk (pid $sender, namespace $ns_a) sends to demo-sink (pid
$sink, namespace $ns_b) over a link dropping $loss % of its data segments,
for $duration s. Ctrl-C stops it.

On the Net tab (key 5), as root (eBPF sees every namespace):
  - the warning "retransmits …/s on sockets of demo-bulk pid $sender (…/s)
    toward $addr_b: packet loss on that path (v: retransmits)";
  - every tab's header: "! retransmits …/s HH:MM:SS demo-bulk pid $sender →
    $addr_b" (a retransmit burst; A acknowledges);
  - v → retransmits: retrans/s, by process demo-bulk, by remote $addr_b, and
    the events (RETR, RETR×n for n segments at once) with the 4-tuple;
  - with vitals --net-pid $sender the tcp line's retrans/s agrees with the
    eBPF count (the same namespace, the same segments).
Compare with: ip netns exec $ns_a nstat -az TcpRetransSegs (twice),
ip netns exec $ns_a ss -tni (retrans:). Without eBPF only the namespace's
counters exist: nothing names the process.
EOF

for pid in "${pids[@]}"; do wait "$pid" || true; done
pids=()
echo "net-lossy: done."
