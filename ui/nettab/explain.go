package nettab

// Explain implements common.Explainer: every number on the tab, where it
// comes from and what it says.
func (t *Tab) Explain() [][2]string {
	out := [][2]string{
		{"ns", "whose network namespace the numbers are: /proc/1/net (the init process's) when readable, else /proc/self/net (vitals' own). Interfaces and counters are per namespace: a container's traffic shows on its veth here, its TCP counters do not"},
		{"tcp N: estab listen … orphan", "TCP sockets by state, counted from /proc/net/tcp and tcp6 (ss -s); udp N: entries in /proc/net/udp and udp6; orphan: TCP sockets no process holds any more (/proc/net/sockstat)"},
		{"close-wait", "the peer closed and the local application has not called close(): a count that keeps growing is an application leaking connections (the processes panel names it)"},
		{"IFACE ▸", "interfaces of /proc/net/dev; ▸ marks the one the charts follow (i picks the next; by default the busiest that is not lo)"},
		{"rxB/s txB/s", "bytes received / sent per second, whole frames as the driver counts them (sar -n DEV rxkB/s × 1024), binary units (K = 1024)"},
		{"rxpck/s txpck/s", "packets per second (sar rxpck/s, txpck/s)"},
		{"rxavg txavg", "average packet size in bytes over the interval (Δbytes ÷ Δpackets): tens of thousands of packets/s of under 100 B is the softirq / flood pattern"},
		{"err/s", "rx + tx errors per second (sar -n EDEV rxerr/s + txerr/s): bad frames, driver errors"},
		{"drop/s", "rx + tx drops per second (rxdrop/s + txdrop/s): packets the kernel or driver discarded for lack of buffers or queue room"},
		{"%util", "sar's %ifutil: for full duplex the greater of rx and tx bits/s against the link speed, otherwise their sum; – when the driver does not report a speed (loopback, veth, many virtual NICs)"},
		{"speed duplex state", "/sys/class/net/IF/speed (Mb/s), duplex and operstate (up, down, unknown — loopback and many virtual interfaces say unknown)"},
		{"rxmcst/s", "multicast packets received per second"},
		{"softirq NET_RX/s", "receive softirqs per second per CPU (/proc/softirqs, from the CPU probe), busiest first: one CPU far above the others while packets/s is high means receive work is not spread (RSS/RPS)"},
		{"· top", "after the softirq rates: the process moving the most socket payload (tx and rx per second, eBPF, any namespace): the sender of a flood or a bulk transfer; v: processes lists them all"},
		{"tcp active/s passive/s", "connections opened by connect() (ActiveOpens) and accepted from a listener (PassiveOpens) per second (sar -n TCP)"},
		{"iseg/s oseg/s", "TCP segments received (InSegs, errors included) and sent (OutSegs, retransmissions excluded) per second"},
		{"retrans/s (%)", "segments retransmitted per second (RetransSegs; sar -n ETCP) and their share of everything sent, retrans ÷ (oseg + retrans): above 2 % something loses packets"},
		{"atmptf/s", "connection attempts that failed (AttemptFails): SYN-SENT or SYN-RECV straight to CLOSED — refused, unreachable, or reset during the handshake"},
		{"estres/s", "established connections reset (EstabResets): ESTABLISHED or CLOSE-WAIT straight to CLOSED, by a RST received or an abort here"},
		{"orsts/s", "segments sent with RST (OutRsts): this host refusing or aborting connections"},
		{"listen ovf/s drop/s", "TcpExt ListenOverflows (a completed connection found the accept queue full) and ListenDrops (SYNs dropped at a listener, overflows included): the accept queue is full — the application does not accept fast enough, or its listen() backlog is small"},
		{"syncookies/s", "SYN cookies sent (TcpExt SyncookiesSent): the SYN queue overflowed; a SYN flood or a listener far behind"},
		{"synretr/s timeouts/s", "SYNs retransmitted (TCPSynRetrans: peers not answering the handshake) and retransmission timeouts (TCPTimeouts)"},
		{"isegerr/s", "TCP segments received with errors (InErrs: bad checksum, malformed)"},
		{"udp in/s out/s", "UDP datagrams delivered / sent per second (/proc/net/snmp Udp: IPv4; udp6 from /proc/net/snmp6; nstat UdpInDatagrams …)"},
		{"noport/s", "UDP datagrams to a port nobody listens on (NoPorts)"},
		{"err/s rcvbuf/s", "UDP receive errors (InErrors), of which receive buffer full (RcvbufErrors): a reader too slow to keep up; its datagrams are dropped"},
		{"charts", "the selected interface's bytes/s and packets/s history, rx thick and tx thin; bytes on a fixed scale of the link's speed when known"},
		{"v: connections", "TCP sockets that are not listening and connected UDP sockets, 4-tuple (IPv4-mapped addresses ::ffff:a.b.c.d of tcp6/udp6 sockets shown as a.b.c.d), state, SEND-Q (bytes not yet acknowledged) and owning process; problem states first (close-wait, syn-sent, …), at most 1000"},
		{"v: listeners", "listening TCP and bound, unconnected UDP sockets (ss -ltnup) with QUEUE (TCP: connections waiting in the accept queue; UDP: bytes waiting), the socket's uid and owning process; (+n): n more processes share it (forked workers)"},
		{"v: processes", "processes holding the sockets listed, with their counts; k kills"},
		{"v: errors", "sar -n EDEV for every interface: errors, collisions, drops, carrier, frame and FIFO errors, compressed packets per second"},
		{"owners", "sockets are mapped to processes through the socket inode in /proc/PID/fd links, every 2 s (longer when the walk is slow: at most 5 % of a CPU) while a panel shows them. Without root only your own processes can be read: others' sockets show PID –. TIME-WAIT sockets belong to no process"},
		{"per-process bytes", "TX/s RX/s: socket payload per process counted by eBPF (sock_send_length/sock_recv_length, or tcp_sendmsg/tcp_cleanup_rbuf hooks): no IP/TCP/UDP headers, no ACKs, no retransmissions, every namespace; so their sum is below the interfaces' bytes, and the note shows both (sum tx … vs interfaces tx …) instead of hiding the gap. – (n/a) without eBPF (needs root), with the reason; procfs has no per-process network byte counters. counts lost (map full): sends/receives of processes the kernel's table had no room for"},
		{"RETR/s", "TCP segments retransmitted per second on the process's sockets (eBPF tcp_retransmit_skb; the kernel retransmits in softirq, so each is attributed through its socket to the process last seen using it, not to whoever the CPU was running); segments as Tcp RetransSegs counts them"},
		{"v: retransmits", "TCP retransmit and reset events (eBPF, every namespace): retrans/s (segments), rst sent/s (this host refusing or aborting connections), rst recv/s (peers refusing or aborting), no owner/s (sockets never seen used, and the kernel's resets for closed ports), lost (events the ring buffer or queue could not hold: counts are low when not 0); by process and by remote: the top talkers; then the recent events, newest first"},
		{"KIND", "RETR a retransmit (RETR×n: n segments resent at once), RST> a reset sent, RST< a reset received; STATE is the socket's TCP state then"},
		{"retransmit burst", "an interval with 20 or more retransmitted segments: an event in the log and in every tab's header strip (A acknowledges), naming the process and the remote address with the most"},
		{"i", "selects the next interface for the charts and the ▸ row"},
	}
	return append(out, t.ColumnHelp("pid", "user", "command")...)
}
