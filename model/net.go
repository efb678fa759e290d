package model

import (
	"slices"
	"time"
)

// Net is the network part of a Sample: what sar -n DEV,EDEV,TCP,ETCP,UDP,
// nstat, ss -s and ss -ltnup report, read from one network namespace's
// /proc/PID/net files. Rates are per second over the net probe's own
// reading times; a counter that went backwards gives null, never a huge
// rate.
type Net struct {
	// Namespace says whose network namespace the numbers are: these files
	// are per namespace, and a process in a child namespace (a container)
	// has its own interfaces and TCP counters.
	Namespace NetNamespace `json:"namespace"`
	// Interfaces are /proc/net/dev's lines in the kernel's order.
	Interfaces []NetInterface `json:"interfaces"`
	// TCP is nil when /proc/net/snmp could not be read (see Unavailable).
	TCP *TCPCounters `json:"tcp"`
	// UDP is /proc/net/snmp's Udp line (IPv4, as sar -n UDP); UDP6 is
	// /proc/net/snmp6's Udp6 counters (sar -n UDP6). Nil when unreadable.
	UDP  *UDPCounters `json:"udp"`
	UDP6 *UDPCounters `json:"udp6"`
	// Sockets counts sockets by state (ss -s).
	Sockets *SocketTotals `json:"sockets"`
	// Listening are the listening TCP sockets and unconnected bound UDP
	// sockets (ss -ltnup), with their owners; nil when not read this frame
	// (Unavailable["listening"] says why).
	Listening []Listener `json:"listening"`
	// Connections are the TCP sockets that are not listening and the
	// connected UDP sockets, at most MaxConnections of them (problem
	// states first); nil when not read (Unavailable["connections"]).
	Connections []Connection `json:"connections"`
	// ConnectionsTotal is how many there were before the cap.
	ConnectionsTotal int `json:"connections_total"`
	// Owners says how sockets were mapped to processes, and how completely.
	Owners *SocketOwners `json:"owners"`
	// Tier is the eBPF feature report of the per-process counters and
	// TCP events (tier "procfs": none; Reason says why).
	Tier *Feature `json:"tier"`
	// PerProcess is the per-process payload bytes, retransmits and resets;
	// nil without eBPF (Unavailable["per_process_bytes"] says why).
	PerProcess *NetProcessCounters `json:"per_process"`
	// Retransmits are the most recent TCP retransmit and reset events (at
	// most MaxNetEvents, oldest first, kept across frames), each attributed
	// through its socket; nil without eBPF.
	Retransmits []NetTCPEvent `json:"retransmits"`
	// TCPEvents counts this interval's retransmit and reset events: per
	// remote address, the unattributed ones, what was lost; nil without
	// eBPF.
	TCPEvents *NetTCPEventCounts `json:"tcp_events"`
	// Unavailable maps a part ("tcp", "udp6", "sockets", "listening",
	// "connections", "owners", "per_process_bytes") to why it is missing.
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// MaxConnections bounds Net.Connections: a busy server has tens of
// thousands, and a view shows a screenful.
const MaxConnections = 1000

// NetNamespace identifies the network namespace read.
type NetNamespace struct {
	// Path is the directory the files were read from: /proc/1/net (the
	// init process's namespace) when readable, else /proc/self/net
	// (vitals' own).
	Path string `json:"path"`
	// ID is the namespace's link text ("net:[4026531840]"), empty when
	// /proc/PID/ns/net could not be read.
	ID string `json:"id"`
	// Init is true when the namespace read is the init process's; null
	// when that could not be checked (not root: /proc/1/ns is unreadable).
	Init *bool `json:"init"`
	// Note says why this namespace was chosen.
	Note string `json:"note,omitempty"`
}

// NetInterface is one interface: sar -n DEV and EDEV for one interval, and
// its link from /sys/class/net/IF.
type NetInterface struct {
	Name string `json:"name"`

	RxBytesPerS   Float `json:"rx_bytes_per_s"`
	TxBytesPerS   Float `json:"tx_bytes_per_s"`
	RxPacketsPerS Float `json:"rx_packets_per_s"`
	TxPacketsPerS Float `json:"tx_packets_per_s"`
	// RxAvgPacketBytes is Δrx bytes ÷ Δrx packets over the interval (null
	// when none arrived): tiny packets at a high rate are the softirq case.
	RxAvgPacketBytes Float  `json:"rx_avg_packet_bytes"`
	TxAvgPacketBytes Float  `json:"tx_avg_packet_bytes"`
	RxCompressedPerS Float  `json:"rx_compressed_per_s"`
	TxCompressedPerS Float  `json:"tx_compressed_per_s"`
	RxMulticastPerS  Float  `json:"rx_multicast_per_s"`
	RxErrorsPerS     Float  `json:"rx_errors_per_s"`
	TxErrorsPerS     Float  `json:"tx_errors_per_s"`
	RxDropsPerS      Float  `json:"rx_drops_per_s"`
	TxDropsPerS      Float  `json:"tx_drops_per_s"`
	RxFIFOPerS       Float  `json:"rx_fifo_per_s"`
	TxFIFOPerS       Float  `json:"tx_fifo_per_s"`
	RxFramePerS      Float  `json:"rx_frame_per_s"`
	TxCarrierPerS    Float  `json:"tx_carrier_per_s"`
	CollisionsPerS   Float  `json:"collisions_per_s"`
	RxBytesTotal     uint64 `json:"rx_bytes_total"`
	TxBytesTotal     uint64 `json:"tx_bytes_total"`

	// SpeedMbps is /sys/class/net/IF/speed; null when the driver does not
	// know it (-1, EINVAL: loopback, veth, many virtual NICs).
	SpeedMbps Float `json:"speed_mbps"`
	// Duplex is "full", "half" or "unknown"; empty when not reported.
	Duplex string `json:"duplex"`
	// OperState is /sys/class/net/IF/operstate ("up", "down", "unknown"
	// — loopback and many virtual interfaces say unknown); empty when not
	// readable (an interface of another namespace than /sys shows).
	OperState string `json:"operstate"`
	// UtilPct is sar's %ifutil: for full duplex the greater of rx and tx
	// bits/s against the speed, otherwise their sum; null when the speed is
	// unknown.
	UtilPct Float `json:"util_pct"`
}

// TCPCounters are /proc/net/snmp Tcp: and /proc/net/netstat TcpExt: as
// rates (sar -n TCP,ETCP; nstat). The Tcp MIB covers IPv4 and IPv6.
type TCPCounters struct {
	ActiveOpensPerS  Float `json:"active_opens_per_s"`  // active/s: connect() → SYN-SENT
	PassiveOpensPerS Float `json:"passive_opens_per_s"` // passive/s: LISTEN → SYN-RECV
	InSegsPerS       Float `json:"in_segs_per_s"`       // iseg/s, errors included
	OutSegsPerS      Float `json:"out_segs_per_s"`      // oseg/s, retransmissions excluded
	RetransSegsPerS  Float `json:"retrans_segs_per_s"`  // retrans/s
	// RetransPct is Δretransmitted ÷ Δ(sent + retransmitted) × 100; null
	// when nothing was sent.
	RetransPct        Float `json:"retrans_pct"`
	AttemptFailsPerS  Float `json:"attempt_fails_per_s"`    // atmptf/s
	EstabResetsPerS   Float `json:"estab_resets_per_s"`     // estres/s
	OutResetsPerS     Float `json:"out_resets_per_s"`       // orsts/s
	InErrsPerS        Float `json:"in_errs_per_s"`          // isegerr/s
	ListenOverflowsPS Float `json:"listen_overflows_per_s"` // TcpExt ListenOverflows
	ListenDropsPerS   Float `json:"listen_drops_per_s"`     // TcpExt ListenDrops
	SynRetransPerS    Float `json:"syn_retrans_per_s"`      // TcpExt TCPSynRetrans
	SyncookiesSentPS  Float `json:"syncookies_sent_per_s"`
	SyncookiesRecvPS  Float `json:"syncookies_recv_per_s"`
	SyncookiesFailPS  Float `json:"syncookies_failed_per_s"`
	TimeoutsPerS      Float `json:"timeouts_per_s"` // TcpExt TCPTimeouts: RTO expiries
	// CurrEstab is Tcp CurrEstab: connections in ESTABLISHED or
	// CLOSE-WAIT now.
	CurrEstab uint64 `json:"curr_estab"`
}

// UDPCounters are the Udp (or Udp6) MIB as rates (sar -n UDP/UDP6, nstat).
type UDPCounters struct {
	InDatagramsPerS  Float `json:"in_datagrams_per_s"`
	OutDatagramsPerS Float `json:"out_datagrams_per_s"`
	// NoPortsPerS: datagrams to a port nobody listens on.
	NoPortsPerS Float `json:"no_ports_per_s"`
	// InErrorsPerS includes RcvbufErrors (the receive buffer was full).
	InErrorsPerS     Float `json:"in_errors_per_s"`
	RcvbufErrorsPerS Float `json:"rcvbuf_errors_per_s"`
	SndbufErrorsPerS Float `json:"sndbuf_errors_per_s"`
}

// SocketTotals is ss -s: TCP sockets by state from /proc/net/tcp and tcp6
// (TIME-WAIT and SYN-RECV entries included, as the kernel lists them), and
// the kernel's totals from /proc/net/sockstat{,6}.
type SocketTotals struct {
	// TCPStates counts TCP sockets by state, keys as ss spells them
	// ("estab", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2",
	// "time-wait", "close", "close-wait", "last-ack", "listen", "closing").
	TCPStates map[string]int `json:"tcp_states"`
	TCP       int            `json:"tcp"` // entries in /proc/net/tcp + tcp6
	UDP       int            `json:"udp"` // entries in /proc/net/udp + udp6
	// TablesAgeS is how old TCPStates, TCP and UDP are: 0 when the tables
	// were read this frame; while no view lists sockets they are read
	// every 10 s (each read walks the kernel's socket hash).
	TablesAgeS float64 `json:"tables_age_s"`
	// From sockstat: sockets in use (all families), TCP inuse, orphans
	// (no longer attached to a process), time-wait, allocated; UDP and
	// RAW in use; IPv6 counts from sockstat6. Unknown when unreadable.
	Used        Float `json:"used"`
	TCPInUse    Float `json:"tcp_inuse"`
	TCPOrphan   Float `json:"tcp_orphan"`
	TCPTimeWait Float `json:"tcp_tw"`
	TCPAlloc    Float `json:"tcp_alloc"`
	TCPMemPages Float `json:"tcp_mem_pages"`
	UDPInUse    Float `json:"udp_inuse"`
	RawInUse    Float `json:"raw_inuse"`
	TCP6InUse   Float `json:"tcp6_inuse"`
	UDP6InUse   Float `json:"udp6_inuse"`
}

// Listener is one listening socket (ss -ltnup).
type Listener struct {
	Proto   string `json:"proto"` // "tcp", "tcp6", "udp", "udp6"
	Address string `json:"address"`
	Port    uint16 `json:"port"`
	SocketOwner
	// Backlog is the accept queue now (rx_queue of a LISTEN socket: ss's
	// Recv-Q); for UDP the bytes waiting in the receive queue.
	Queue uint64 `json:"queue"`
}

// Connection is one socket with a peer: 4-tuple, state and owner.
type Connection struct {
	Proto      string `json:"proto"`
	LocalAddr  string `json:"local_address"`
	LocalPort  uint16 `json:"local_port"`
	RemoteAddr string `json:"remote_address"`
	RemotePort uint16 `json:"remote_port"`
	State      string `json:"state"`
	// TxQueue and RxQueue are bytes not yet acknowledged / not yet read.
	TxQueue uint64 `json:"tx_queue"`
	RxQueue uint64 `json:"rx_queue"`
	SocketOwner
}

// SocketOwner is who holds a socket: the socket's uid from /proc/net, and
// the process whose fd table holds its inode. PID is null when no process
// we may read holds it (TIME-WAIT sockets have none; others belong to
// processes vitals may not read, or the owners were not looked up).
type SocketOwner struct {
	UID   uint32 `json:"uid"`
	Inode uint64 `json:"inode"`
	PID   *int32 `json:"pid"`
	// Comm is the owner's process name, raw (views sanitize it).
	Comm string `json:"comm"`
	// Others counts further processes holding the same socket (workers
	// forked after listen()).
	Others int `json:"other_owners,omitempty"`
}

// SocketOwners describes the last walk of /proc/PID/fd that mapped socket
// inodes to processes.
type SocketOwners struct {
	// At is when the walk ran: it runs at most every few seconds, so
	// sockets newer than it have no owner yet.
	At time.Time `json:"at"`
	// Processes is how many processes were walked; Unreadable how many
	// fd tables we were not allowed to read (other users' processes
	// without root), whose sockets show no owner.
	Processes  int     `json:"processes"`
	Unreadable int     `json:"unreadable"`
	Sockets    int     `json:"sockets"` // socket inodes found
	DurationMS float64 `json:"duration_ms"`
	// IntervalS is the least time until the next walk: 2 s, or 20 times
	// the walk's duration when that is longer, so the walk costs at most
	// 5 % of a CPU however many processes there are.
	IntervalS float64 `json:"interval_s"`
}

// Interface returns the named interface, or nil.
func (n *Net) Interface(name string) *NetInterface {
	for i := range n.Interfaces {
		if n.Interfaces[i].Name == name {
			return &n.Interfaces[i]
		}
	}
	return nil
}

// Per-interface history: one series per interface and metric, named
// NetSeries(metric, interface). Interface names cannot hold '/', so the
// names cannot collide.
const (
	NetRxBytes   = "net.rx_bytes"   // bytes/s received
	NetTxBytes   = "net.tx_bytes"   // bytes/s sent
	NetRxPackets = "net.rx_packets" // packets/s received
	NetTxPackets = "net.tx_packets" // packets/s sent
)

// MaxNetHistoryInterfaces bounds the interfaces with history: each series
// keeps an hour of points, and a host running containers has a veth per
// container. The first ones in the kernel's order (lo, the NICs) win.
const MaxNetHistoryInterfaces = 16

var netMetrics = [...]string{NetRxBytes, NetTxBytes, NetRxPackets, NetTxPackets}

// NetSeries is the name of an interface's history series.
func NetSeries(metric, iface string) string { return metric + "/" + iface }

// recordNetHistory adds the interfaces' rates and forgets the series of
// interfaces that no longer exist, so history stays bounded to interfaces
// that do (a veth re-created with the same name starts a fresh series).
func recordNetHistory(h *History, s *Sample) {
	n := s.Net
	if n == nil || s.stale("net") {
		return
	}
	t := s.Time
	kept := 0
	for i := range n.Interfaces {
		if kept == MaxNetHistoryInterfaces {
			break
		}
		kept++
		ifc := &n.Interfaces[i]
		for j, v := range [...]Float{ifc.RxBytesPerS, ifc.TxBytesPerS, ifc.RxPacketsPerS, ifc.TxPacketsPerS} {
			if v.OK {
				h.Record(NetSeries(netMetrics[j], ifc.Name), t, v.V)
			}
		}
	}
	for name := range h.series {
		iface, ok := netSeriesInterface(name)
		if !ok {
			continue
		}
		if idx := n.interfaceIndex(iface); idx < 0 || idx >= MaxNetHistoryInterfaces {
			delete(h.series, name)
		}
	}
}

func netSeriesInterface(name string) (iface string, ok bool) {
	for _, m := range netMetrics {
		if len(name) > len(m) && name[:len(m)] == m && name[len(m)] == '/' {
			return name[len(m)+1:], true
		}
	}
	return "", false
}

func (n *Net) interfaceIndex(name string) int {
	for i := range n.Interfaces {
		if n.Interfaces[i].Name == name {
			return i
		}
	}
	return -1
}

// NetProcess is one process's network traffic over the interval, counted in
// kernel by eBPF (sock:sock_send_length/sock_recv_length or the tier's
// hooks): socket payload bytes per second (no IP/TCP/UDP headers, no ACKs,
// no retransmissions), TCP and UDP apart, and the TCP retransmits and
// resets on its sockets (attributed through the socket, not the CPU's
// current task). The counters see every network namespace.
type NetProcess struct {
	PID        int32  `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
	UID        uint32 `json:"uid"`
	// Comm is the kernel's name for the process when it was first
	// counted in the interval: untrusted text.
	Comm            string  `json:"comm"`
	TxBytesPerS     float64 `json:"tx_bytes_per_s"`
	RxBytesPerS     float64 `json:"rx_bytes_per_s"`
	TCPTxBytesPerS  float64 `json:"tcp_tx_bytes_per_s"`
	TCPRxBytesPerS  float64 `json:"tcp_rx_bytes_per_s"`
	UDPTxBytesPerS  float64 `json:"udp_tx_bytes_per_s"`
	UDPRxBytesPerS  float64 `json:"udp_rx_bytes_per_s"`
	RetransmitsPerS float64 `json:"retransmits_per_s"`
	ResetsSentPerS  float64 `json:"resets_sent_per_s"`
	ResetsRecvPerS  float64 `json:"resets_received_per_s"`
}

// NetPayloadTotals compares the per-process payload sum with the
// interface counters of the namespace read, instead of hiding the gap:
// interfaces count whole frames (headers, ACKs, retransmissions, traffic
// of the kernel itself), the per-process sum counts payload of every
// namespace.
type NetPayloadTotals struct {
	PayloadTxBytesPerS   float64 `json:"payload_tx_bytes_per_s"`
	PayloadRxBytesPerS   float64 `json:"payload_rx_bytes_per_s"`
	InterfaceTxBytesPerS Float   `json:"interface_tx_bytes_per_s"`
	InterfaceRxBytesPerS Float   `json:"interface_rx_bytes_per_s"`
}

// NetTCPEvent is one TCP retransmit or reset, attributed to the process
// that owns the socket (PID null: not known — a socket vitals saw no
// send, receive or connect on since it started, or a reset the kernel sent
// for a port with no socket).
type NetTCPEvent struct {
	Time time.Time `json:"time"`
	// Kind is "retransmit", "reset_sent" or "reset_received".
	Kind       string `json:"kind"`
	PID        *int32 `json:"pid"`
	StartTicks uint64 `json:"start_ticks,omitempty"`
	Comm       string `json:"comm"`
	NetTCPEventData
}

// NetTCPEventData is what a retransmit or reset event carries beyond the
// event log's common fields (Event.Data of source "net").
type NetTCPEventData struct {
	LocalAddr  string `json:"local_address"`
	LocalPort  uint16 `json:"local_port"`
	RemoteAddr string `json:"remote_address"`
	RemotePort uint16 `json:"remote_port"`
	// State is the socket's TCP state as ss spells it ("estab", …);
	// empty when the record has none.
	State string `json:"state"`
	// Segments is how many TCP segments a retransmit resent at once (a
	// GSO packet holds several; Tcp RetransSegs counts segments); 1 for a
	// reset.
	Segments int `json:"segments"`
}

// Net event kinds (Event.Kind of source "net").
const (
	NetKindRetransmit    = "retransmit"
	NetKindResetSent     = "reset_sent"
	NetKindResetReceived = "reset_received"
	// EventRetransmitBurst is a run of intervals with at least
	// RetransmitBurstMin retransmits (one event when it starts, another
	// each minute it lasts): what the events strip shows.
	EventRetransmitBurst = "retransmit_burst"
)

// RetransmitBurstMin is the retransmitted segments in one interval that
// make a burst.
const RetransmitBurstMin = 20

// NetRetransmitBurst is the payload of an EventRetransmitBurst: the
// interval's retransmitted segments, and the process and remote address
// with the most.
type NetRetransmitBurst struct {
	Retransmits int     `json:"retransmits"`
	PerS        float64 `json:"retransmits_per_s"`
	// TopPID/TopComm own the sockets with the most (0, "": unattributed);
	// TopProcessRetransmits is how many were theirs.
	TopProcessRetransmits int    `json:"top_process_retransmits"`
	TopRemoteAddr         string `json:"top_remote_address"`
	TopRemoteRetransmits  int    `json:"top_remote_retransmits"`
}

// NetRemoteCount is the retransmitted segments and resets toward one
// remote address over the interval, from the events that reached vitals.
type NetRemoteCount struct {
	RemoteAddr      string  `json:"remote_address"`
	RetransmitsPerS float64 `json:"retransmits_per_s"`
	ResetsPerS      float64 `json:"resets_per_s"`
}

// MaxNetEvents bounds Net.Retransmits: the most recent events.
const MaxNetEvents = 64

// MaxNetRemotes bounds NetTCPEventCounts.ByRemote: the top remote
// addresses.
const MaxNetRemotes = 32

// NetTCPEventCounts is the interval's retransmit and reset events counted
// (rates over the interval), from the events that reached vitals.
type NetTCPEventCounts struct {
	// RetransmitsPerS is segments (Tcp RetransSegs' unit, but of every
	// namespace); EventsPerS the retransmit and reset events (a
	// retransmit of several segments is one event).
	RetransmitsPerS    float64 `json:"retransmits_per_s"`
	EventsPerS         float64 `json:"events_per_s"`
	ResetsSentPerS     float64 `json:"resets_sent_per_s"`
	ResetsReceivedPerS float64 `json:"resets_received_per_s"`
	// UnattributedPerS is the events whose socket had no known owner.
	UnattributedPerS float64 `json:"unattributed_per_s"`
	// ByRemote is the top remote addresses by retransmits, then resets
	// (at most MaxNetRemotes).
	ByRemote []NetRemoteCount `json:"by_remote"`
	// Loss is the ring buffer's and queue's loss counters (cumulative):
	// events that never reached these counts.
	Loss EventLoss `json:"loss"`
}

// NetProcessCounters is the per-process part of Net: present (non-nil)
// only when eBPF counts.
type NetProcessCounters struct {
	Processes []NetProcess     `json:"processes"`
	Totals    NetPayloadTotals `json:"totals"`
	// DroppedProcCounts is how many counts (a send, a receive, a
	// retransmit or reset) were lost this interval because the kernel's
	// per-process map was full: in no process row and no total.
	DroppedProcCounts uint64 `json:"dropped_proc_counts"`
	// OtherNamespaces sums the processes outside the PID namespace of the
	// /proc vitals reads (they have no pid there): in the totals, in no
	// row. Nil when there are none (or vitals runs in the initial one).
	OtherNamespaces *NetProcess `json:"other_namespaces,omitempty"`
}

// joinProcessNet fills each process's network part from the net probe's
// per-process rows of the same identity. Without eBPF (or a stale net
// part) every process's network rates are unknown; with it, a process
// without a row moved no payload: zero.
func joinProcessNet(s *Sample) {
	if len(s.Processes) == 0 {
		return
	}
	var rows []NetProcess
	known := s.Net != nil && s.Net.PerProcess != nil && !s.stale("net")
	if known {
		rows = s.Net.PerProcess.Processes
	}
	if st := s.Probe("process"); st != nil && st.Stale {
		s.Processes = slices.Clone(s.Processes) // carried over: published
	}
	byKey := make(map[ProcKey]int, len(rows))
	for i := range rows {
		byKey[ProcKey{PID: rows[i].PID, StartTicks: rows[i].StartTicks}] = i
	}
	for i := range s.Processes {
		p := &s.Processes[i]
		switch j, ok := byKey[p.Key()]; {
		case !known:
			p.ProcessNetRates = ProcessNetRates{}
		case ok:
			r := &rows[j]
			p.ProcessNetRates = ProcessNetRates{NetTxBytesPerS: Known(r.TxBytesPerS), NetRxBytesPerS: Known(r.RxBytesPerS),
				NetRetransmitsPerS: Known(r.RetransmitsPerS)}
		default:
			p.ProcessNetRates = ProcessNetRates{NetTxBytesPerS: Known(0), NetRxBytesPerS: Known(0), NetRetransmitsPerS: Known(0)}
		}
	}
}

// TCPStateName is ss's spelling of a kernel TCP state number.
func TCPStateName(n uint8) string {
	names := [...]string{"", "estab", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2", "time-wait", "close",
		"close-wait", "last-ack", "listen", "closing", "new-syn-recv"}
	if int(n) < len(names) {
		return names[n]
	}
	return ""
}
