package ebpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"

	"github.com/cilium/ebpf"

	"github.com/vitals-dev/vitals/bpf/nettop"
	"github.com/vitals-dev/vitals/model"
)

// NetCounts are one process's socket payload bytes and TCP events over one
// interval. Bytes are what send-family calls accepted and receive-family
// calls returned: no headers, no ACKs, no retransmissions.
type NetCounts struct {
	TCPTx, TCPRx, UDPTx, UDPRx uint64
	// Retransmits are TCP segments retransmitted on the process's sockets
	// (a GSO skb resent at once counts its segments, as RetransSegs);
	// ResetsSent and ResetsRecv are RSTs sent and received on them.
	Retransmits, ResetsSent, ResetsRecv uint64
}

// NetProcCounts are NetCounts of one process (tgid and start time).
type NetProcCounts struct {
	PID        int32
	StartTicks uint64
	UID        uint32
	// Comm is untrusted text.
	Comm string
	NetCounts
}

// NetEventKind is what a NetEvent records.
type NetEventKind uint8

// Net event kinds, as the BPF side numbers them.
const (
	NetRetransmit NetEventKind = 1
	NetResetSent  NetEventKind = 2
	NetResetRecv  NetEventKind = 3
)

func (k NetEventKind) String() string {
	switch k {
	case NetRetransmit:
		return model.NetKindRetransmit
	case NetResetSent:
		return model.NetKindResetSent
	case NetResetRecv:
		return model.NetKindResetReceived
	}
	return fmt.Sprintf("kind%d", uint8(k))
}

// NetEvent is one decoded ring-buffer record.
type NetEvent struct {
	// BootNS is CLOCK_BOOTTIME nanoseconds.
	BootNS     uint64
	Kind       NetEventKind
	PID        int32 // 0: owner unknown
	StartTicks uint64
	Comm       string
	// State is the socket's TCP state number (1 established … 12
	// new-syn-recv; 0 unknown).
	State  uint8
	Local  netip.AddrPort
	Remote netip.AddrPort
	// Segments is how many segments a retransmit resent (a GSO skb holds
	// several; Tcp RetransSegs counts them); 1 for a reset.
	Segments uint16
}

// NetTopOptions control OpenNetTop.
type NetTopOptions struct {
	LoadOptions
}

// NetTop counts network payload bytes per process in kernel, drained once
// per refresh, and emits TCP retransmits and resets to a ring buffer.
type NetTop struct {
	loaded      *Loaded
	procs       *ebpf.Map
	drops       *ebpf.Map
	prevDropped uint64
	perCPU      []nettop.NetTopDrops
	keys        []nettop.NetTopProcKey
	vals        []nettop.NetTopProcNet
	noBatch     bool
	nextKeys    []nettop.NetTopProcKey
}

func amd64Only() string {
	if runtime.GOARCH != "amd64" {
		return "kprobe programs are built for x86-64 registers, not " + runtime.GOARCH
	}
	return ""
}

// NetTopFeature is the nettop object with its tiers, fastest first. Every
// tier also loads the classic-tracepoint event programs (state changes,
// retransmits, resets).
func NetTopFeature() FeatureSpec {
	ev := []string{"tp_set_state", "tp_retransmit", "tp_send_reset", "tp_receive_reset"}
	with := func(p ...string) []string { return append(p, ev...) }
	return FeatureSpec{
		Name: "net",
		Spec: nettop.LoadNetTop,
		Tiers: []Tier{
			{Name: TierFentry, Programs: with("fexit_tcp_send", "fentry_tcp_recv", "fexit_udp_send", "fexit_udp6_send", "fentry_udp_recv")},
			{Name: TierKprobe, Programs: with("kprobe_tcp_send", "kprobe_tcp_recv", "kprobe_udp_send", "kprobe_udp6_send", "kprobe_udp_recv"), Unsupported: amd64Only},
			{Name: TierTpBTF, Programs: with("tpbtf_send", "tpbtf_recv")},
			{Name: TierRawTp, Programs: with("rawtp_send", "rawtp_recv")},
			{Name: TierTracepoint, Programs: with("tp_send", "tp_recv")},
		},
	}
}

// OpenNetTop loads and attaches the net feature through the session (nil:
// a new one). The error is non-nil when no tier runs.
func OpenNetTop(sess *Session, opts NetTopOptions) (*NetTop, model.Feature, error) {
	l, rep := Load(sess, NetTopFeature(), opts.LoadOptions)
	if l == nil {
		return nil, rep, fmt.Errorf("net: %s", rep.Reason)
	}
	n := &NetTop{loaded: l, procs: l.Maps["procs"], drops: l.Maps["drop_counts"],
		perCPU: make([]nettop.NetTopDrops, max(ebpf.MustPossibleCPU(), 1))}
	if _, err := n.readDropped(); err != nil {
		n.Close()
		rep.Tier, rep.Reason = "", err.Error()
		return nil, rep, err
	}
	return n, rep, nil
}

// Tier is the active tier.
func (n *NetTop) Tier() string { return n.loaded.Tier }

// EventsMap is the ring buffer of retransmits and resets; EventDropsMap
// counts the records the BPF side could not reserve (for NewRingReader).
func (n *NetTop) EventsMap() *ebpf.Map { return n.loaded.Maps["events"] }

// EventDropsMap: see EventsMap.
func (n *NetTop) EventDropsMap() *ebpf.Map { return n.loaded.Maps["event_drops"] }

// ProgramIDs and MapIDs are the kernel ids of what this NetTop loaded.
func (n *NetTop) ProgramIDs() []ebpf.ProgramID { return n.loaded.ProgramIDs() }

// MapIDs: see ProgramIDs.
func (n *NetTop) MapIDs() []ebpf.MapID { return n.loaded.MapIDs() }

// Close detaches the programs and frees the maps (close ring readers on
// EventsMap first).
func (n *NetTop) Close() error {
	if n == nil || n.loaded == nil {
		return nil
	}
	err := n.loaded.Close()
	n.loaded = nil
	return err
}

func (n *NetTop) readDropped() (uint64, error) {
	if err := n.drops.Lookup(uint32(0), &n.perCPU); err != nil {
		return 0, fmt.Errorf("read net drop counters: %w", err)
	}
	var cur uint64
	for _, d := range n.perCPU {
		cur += d.ProcMapFull
	}
	delta := uint64(0)
	if cur >= n.prevDropped {
		delta = cur - n.prevDropped
	}
	n.prevDropped = cur
	return delta, nil
}

// Drain returns the per-process counts since the previous Drain (or Open),
// emptying the map, and the counts lost since then because it was full.
func (n *NetTop) Drain() (procs []NetProcCounts, dropped uint64, err error) {
	if n.loaded == nil {
		return nil, 0, errors.New("net: closed")
	}
	if dropped, err = n.readDropped(); err != nil {
		return nil, 0, err
	}
	emit := func(k *nettop.NetTopProcKey, v *nettop.NetTopProcNet) {
		procs = append(procs, NetProcCounts{PID: int32(k.Tgid), StartTicks: k.StartTicks, UID: v.Uid, Comm: commString(v.Comm[:]),
			NetCounts: NetCounts{TCPTx: v.TcpTx, TCPRx: v.TcpRx, UDPTx: v.UdpTx, UDPRx: v.UdpRx,
				Retransmits: v.Retrans, ResetsSent: v.ResetsSent, ResetsRecv: v.ResetsRecv}})
	}
	if !n.noBatch {
		const chunk = 1024
		if len(n.keys) < chunk {
			n.keys = make([]nettop.NetTopProcKey, chunk)
			n.vals = make([]nettop.NetTopProcNet, chunk)
		}
		var cursor ebpf.MapBatchCursor
		for {
			c, err := n.procs.BatchLookupAndDelete(&cursor, n.keys, n.vals, nil)
			for i := 0; i < c; i++ {
				emit(&n.keys[i], &n.vals[i])
			}
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				return procs, dropped, nil
			}
			if errors.Is(err, ebpf.ErrNotSupported) && len(procs) == 0 {
				n.noBatch = true
				break
			}
			if err != nil {
				return procs, dropped, fmt.Errorf("drain net processes: %w", err)
			}
		}
	}
	n.nextKeys = n.nextKeys[:0]
	var (
		k nettop.NetTopProcKey
		v nettop.NetTopProcNet
	)
	it := n.procs.Iterate()
	for it.Next(&k, &v) {
		emit(&k, &v)
		n.nextKeys = append(n.nextKeys, k)
	}
	if err := it.Err(); err != nil {
		return procs, dropped, fmt.Errorf("iterate net processes: %w", err)
	}
	for _, k := range n.nextKeys {
		if err := n.procs.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return procs, dropped, fmt.Errorf("delete net process %d: %w", k.Tgid, err)
		}
	}
	return procs, dropped, nil
}

// netEventSize is the size of one ring-buffer record (struct net_event in
// nettop.bpf.c: 8+8+4+1+1+2+2+2+16+16+16+2, padded to 8).
const netEventSize = 80

// DecodeNetEvent decodes one ring-buffer record; false when malformed.
func DecodeNetEvent(raw []byte, ev *NetEvent) bool {
	if len(raw) < netEventSize {
		return false
	}
	le := binary.LittleEndian
	ev.BootNS = le.Uint64(raw[0:])
	ev.StartTicks = le.Uint64(raw[8:])
	ev.PID = int32(le.Uint32(raw[16:]))
	ev.Kind = NetEventKind(raw[20])
	ev.State = raw[21]
	family := le.Uint16(raw[22:])
	sport, dport := le.Uint16(raw[24:]), le.Uint16(raw[26:])
	var comm [16]int8
	for i := range comm {
		comm[i] = int8(raw[60+i])
	}
	ev.Comm = commString(comm[:])
	ev.Segments = max(le.Uint16(raw[76:]), 1)
	var sa, da netip.Addr
	switch family {
	case 2:
		sa = netip.AddrFrom4([4]byte(raw[28:32]))
		da = netip.AddrFrom4([4]byte(raw[44:48]))
	case 10:
		sa = netip.AddrFrom16([16]byte(raw[28:44])).Unmap()
		da = netip.AddrFrom16([16]byte(raw[44:60])).Unmap()
	default:
		return ev.Kind >= NetRetransmit && ev.Kind <= NetResetRecv
	}
	ev.Local = netip.AddrPortFrom(sa, sport)
	ev.Remote = netip.AddrPortFrom(da, dport)
	return ev.Kind >= NetRetransmit && ev.Kind <= NetResetRecv
}
