package probes

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// DefaultOwnerInterval is how often, at most, the net probe walks every
// /proc/PID/fd to map socket inodes to processes: one readlink per open
// file of every process, too costly for every second on a busy host
// (2,100 processes: about 140 ms here).
const DefaultOwnerInterval = 2 * time.Second

// ownerCostShare bounds the walk's cost: the next walk waits at least
// this many times the last one's duration (20: at most 5 % of a CPU).
const ownerCostShare = 20

// socketsNotShown is the reason listeners and connections are absent
// when no view asked for them.
const socketsNotShown = "read only while the Net tab's connections, listeners or processes panel is open"

// perProcessBytesReason says why there are no per-process byte rates.
const perProcessBytesReason = "needs eBPF (sock:sock_send_length/sock_recv_length): procfs has no per-process network byte counters"

// retransmitsReason says why there are no retransmit and reset events
// without eBPF: /proc/net/snmp counts them for the host, not per socket.
const retransmitsReason = "needs eBPF (tcp:tcp_retransmit_skb, tcp_send_reset, tcp_receive_reset): /proc/net/snmp counts retransmits and resets for the namespace only (tcp.retrans_segs_per_s, out_resets_per_s)"

// NetProbeConfig says where the net probe reads from; tests point it at
// fixture trees or at a test's own network namespace.
type NetProbeConfig struct {
	ProcRoot string // "/proc" when empty
	SysRoot  string // "/sys" when empty
	// NetPID is the process whose network namespace is read ("1",
	// "self", a pid). Empty: the init process's (/proc/1/net) when
	// readable, else vitals' own (/proc/self/net).
	NetPID string
	// Demand says whether a view shows sockets with their owners; nil
	// reads them every time (tests).
	Demand *model.Demand
	// OwnerInterval is the least time between two walks of /proc/PID/fd;
	// DefaultOwnerInterval when zero.
	OwnerInterval time.Duration
	// EBPF loads the per-process byte counters and TCP events (only for
	// the running kernel: fixture trees leave it off) through Session
	// with ForceTier ("procfs": none). NoEBPFReason, when set, says why
	// eBPF stays off.
	EBPF         bool
	Session      *ebpf.Session
	ForceTier    string
	NoEBPFReason string
	// BPFMapEntries resizes the eBPF maps by name (tests that fill the
	// per-process map).
	BPFMapEntries map[string]uint32
}

// NetProbe reads one network namespace's /proc/PID/net files (dev, snmp,
// netstat, snmp6, sockstat{,6}, tcp{,6}, udp{,6}), /sys/class/net/IF and,
// on demand, every /proc/PID/fd for socket owners.
type NetProbe struct {
	cfg NetProbeConfig
	// tables and tablesAt are the last read of the socket tables' totals
	// (states by count), reused while no view lists sockets.
	tables   *model.SocketTotals
	tablesAt time.Time
	netDir   string
	ns       model.NetNamespace
	// readSys is false when the namespace read is not the one /sys shows:
	// an interface of the same name there would be another interface.
	readSys bool

	buf   []byte
	names map[string]string // interned interface names
	paths map[string]string
	sys   map[string]*[3]string

	lastInterfaces int

	dev      model.KeyedCounters[string, devCounters]
	prevTime time.Time
	havePrev bool
	mib      mibReading
	prevMIB  mibReading

	owners     map[uint64]*sockOwner
	comms      map[int32]string
	ownersInfo *model.SocketOwners
	dents      []byte
	pids, fds  []int32
	linkBuf    []byte

	bpf *netBPF
}

type sockOwner struct {
	pid    int32
	others int
}

func init() {
	Register(Family{Name: "net", New: func(env *Env) (Probe, error) {
		cfg := NetProbeConfig{ProcRoot: env.ProcRoot, SysRoot: env.SysRoot, Demand: env.Demand,
			EBPF: true, Session: env.BPF, ForceTier: env.ForceTier, NetPID: env.NetPID}
		if env.CopiedTree {
			cfg.NoEBPFReason = "reading a copied tree (--proc-root, --sys-root): eBPF would count this kernel, not the copy"
		}
		return NewNetProbe(cfg)
	}})
}

// NewNetProbe picks the namespace to read and makes the probe; its first
// Collect takes the baseline.
func NewNetProbe(cfg NetProbeConfig) (*NetProbe, error) {
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	if cfg.SysRoot == "" {
		cfg.SysRoot = "/sys"
	}
	if cfg.OwnerInterval <= 0 {
		cfg.OwnerInterval = DefaultOwnerInterval
	}
	p := &NetProbe{cfg: cfg, names: map[string]string{}, paths: map[string]string{}, sys: map[string]*[3]string{}, buf: make([]byte, 64<<10),
		owners: map[uint64]*sockOwner{}, comms: map[int32]string{}, dents: make([]byte, 32<<10), linkBuf: make([]byte, 64)}
	pid, note := cfg.NetPID, ""
	if pid != "" {
		note = "the namespace of pid " + pid + " (--net-pid)"
	} else {
		if _, err := os.Stat(filepath.Join(cfg.ProcRoot, "1/net/dev")); err == nil {
			pid, note = "1", "the init process's namespace"
		} else {
			pid, note = "self", fmt.Sprintf("vitals' own namespace: %v", err)
		}
	}
	p.netDir = filepath.Join(cfg.ProcRoot, pid, "net")
	p.ns = model.NetNamespace{Path: p.netDir, Note: note}
	p.ns.ID, _ = os.Readlink(filepath.Join(cfg.ProcRoot, pid, "ns/net"))
	initID, _ := os.Readlink(filepath.Join(cfg.ProcRoot, "1/ns/net"))
	if p.ns.ID != "" && initID != "" {
		same := p.ns.ID == initID
		p.ns.Init = &same
	} else if pid == "1" {
		same := true
		p.ns.Init = &same
	}
	selfID, _ := os.Readlink(filepath.Join(cfg.ProcRoot, "self/ns/net"))
	p.readSys = p.ns.ID == "" || selfID == "" || p.ns.ID == selfID
	reason := cfg.NoEBPFReason
	if !cfg.EBPF && reason == "" {
		reason = "eBPF not requested"
	}
	p.bpf = openNetBPF(cfg.Session, ebpf.LoadOptions{ForceTier: cfg.ForceTier, MaxEntries: cfg.BPFMapEntries}, reason)
	return p, nil
}

// Features is the per-process network feature's tier report.
func (p *NetProbe) Features() []model.Feature { return []model.Feature{p.bpf.feature} }

// EventSources is the retransmit and reset events, for the collector's
// event log.
func (p *NetProbe) EventSources() []EventSource { return []EventSource{p.bpf.out} }

// Close detaches the eBPF programs. Safe to call more than once.
func (p *NetProbe) Close() error { return p.bpf.close() }

// Name is the probe's key in the model's error map.
func (p *NetProbe) Name() string { return "net" }

// Collect reads once and returns the net part of the frame; the first call
// only takes the baseline.
func (p *NetProbe) Collect(t *Tick) (Part, error) {
	n, err := p.Read(t.Now)
	if err != nil || n == nil {
		return nil, err
	}
	return func(s *model.Sample) { s.Net = n }, nil
}

// Read computes the model.Net for the interval since the previous Read
// (nil on the first). After a failed read of /proc/net/dev the previous
// baseline is kept, so the next interval spans the failed one.
func (p *NetProbe) Read(now time.Time) (*model.Net, error) {
	devPath := p.path("dev")
	b, err := p.read(devPath)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", devPath, err)
	}
	n := &model.Net{Namespace: p.ns, Interfaces: make([]model.NetInterface, 0, p.lastInterfaces)}
	seconds := now.Sub(p.prevTime).Seconds()
	first := !p.havePrev
	parseNetDev(b, func(name []byte, c *devCounters) {
		key, ok := p.names[string(name)]
		if !ok {
			key = string(name)
			p.names[key] = key
		}
		prev, seen := p.dev.Observe(key, *c)
		if first {
			return
		}
		ifc := model.NetInterface{Name: key, RxBytesTotal: c[devRxBytes], TxBytesTotal: c[devTxBytes]}
		if seen {
			devRates(&ifc, &prev, c, seconds)
		}
		n.Interfaces = append(n.Interfaces, ifc)
	})
	p.dev.EndFrame()
	p.lastInterfaces = len(n.Interfaces)
	if len(p.names) > 4*len(n.Interfaces)+64 {
		clear(p.names) // interfaces churn (containers): keep the intern table bounded
	}

	p.prevMIB, p.mib = p.mib, p.prevMIB
	p.readMIB(&p.mib)
	listing := p.cfg.Demand == nil || p.cfg.Demand.Get().Sockets
	if listing && (p.ownersInfo == nil || now.Sub(p.ownersInfo.At).Seconds() >= p.ownersInfo.IntervalS) {
		p.walkOwners(now)
	}
	socks, sockErr := p.sockets(now, listing)

	p.prevTime, p.havePrev = now, true
	perProc, tcpEvents, bpfErr := p.bpf.collect(now, seconds, first)
	if first {
		return nil, nil
	}
	for i := range n.Interfaces {
		p.link(&n.Interfaces[i], n)
	}
	p.mibRates(n, seconds)
	p.sockstat(socks)
	if sockErr != "" {
		setNetUnavailable(n, "sockets", sockErr)
	}
	n.Sockets = socks.totals
	if listing {
		n.Listening = socks.listening
		n.Connections = socks.connections
		n.ConnectionsTotal = socks.connectionsTotal
		if p.ownersInfo != nil {
			info := *p.ownersInfo
			n.Owners = &info
		}
	} else {
		setNetUnavailable(n, "listening", socketsNotShown)
		setNetUnavailable(n, "connections", socketsNotShown)
		setNetUnavailable(n, "owners", socketsNotShown)
	}
	feature := p.bpf.feature
	n.Tier = &feature
	switch {
	case perProc != nil:
		n.PerProcess = perProc
		n.Retransmits = slices.Clone(p.bpf.recent)
		if n.Retransmits == nil {
			n.Retransmits = []model.NetTCPEvent{}
		}
		n.TCPEvents = tcpEvents
		var tx, rx float64
		okTx, okRx := len(n.Interfaces) > 0, len(n.Interfaces) > 0
		for i := range n.Interfaces {
			ifc := &n.Interfaces[i]
			tx, okTx = tx+ifc.TxBytesPerS.V, okTx && ifc.TxBytesPerS.OK
			rx, okRx = rx+ifc.RxBytesPerS.V, okRx && ifc.RxBytesPerS.OK
		}
		if okTx {
			perProc.Totals.InterfaceTxBytesPerS = model.Known(tx)
		}
		if okRx {
			perProc.Totals.InterfaceRxBytesPerS = model.Known(rx)
		}
	case bpfErr != nil:
		setNetUnavailable(n, "per_process_bytes", bpfErr.Error())
		setNetUnavailable(n, "retransmits", bpfErr.Error())
	case feature.Reason != "":
		setNetUnavailable(n, "per_process_bytes", perProcessBytesReason+"; "+feature.Reason)
		setNetUnavailable(n, "retransmits", retransmitsReason+"; "+feature.Reason)
	default:
		setNetUnavailable(n, "per_process_bytes", perProcessBytesReason)
		setNetUnavailable(n, "retransmits", retransmitsReason)
	}
	return n, nil
}

func setNetUnavailable(n *model.Net, field, reason string) { setReason(&n.Unavailable, field, reason) }

// devRates fills the sar -n DEV/EDEV rates of one interface.
func devRates(ifc *model.NetInterface, prev, cur *devCounters, seconds float64) {
	r := func(i int) model.Float { return model.CounterRate(prev[i], cur[i], seconds) }
	ifc.RxBytesPerS, ifc.TxBytesPerS = r(devRxBytes), r(devTxBytes)
	ifc.RxPacketsPerS, ifc.TxPacketsPerS = r(devRxPackets), r(devTxPackets)
	ifc.RxCompressedPerS, ifc.TxCompressedPerS = r(devRxCompressed), r(devTxCompressed)
	ifc.RxMulticastPerS = r(devRxMulticast)
	ifc.RxErrorsPerS, ifc.TxErrorsPerS = r(devRxErrs), r(devTxErrs)
	ifc.RxDropsPerS, ifc.TxDropsPerS = r(devRxDrop), r(devTxDrop)
	ifc.RxFIFOPerS, ifc.TxFIFOPerS = r(devRxFIFO), r(devTxFIFO)
	ifc.RxFramePerS, ifc.TxCarrierPerS = r(devRxFrame), r(devTxCarrier)
	ifc.CollisionsPerS = r(devTxColls)
	ifc.RxAvgPacketBytes = avgPacket(prev[devRxBytes], cur[devRxBytes], prev[devRxPackets], cur[devRxPackets])
	ifc.TxAvgPacketBytes = avgPacket(prev[devTxBytes], cur[devTxBytes], prev[devTxPackets], cur[devTxPackets])
}

func avgPacket(pb, cb, pp, cp uint64) model.Float {
	db, ok1 := model.CounterDelta(pb, cb)
	dp, ok2 := model.CounterDelta(pp, cp)
	if !ok1 || !ok2 || dp == 0 {
		return model.Unknown
	}
	return model.Known(float64(db) / float64(dp))
}

// link reads /sys/class/net/IF/{speed,duplex,operstate} and computes sar's
// %ifutil.
func (p *NetProbe) link(ifc *model.NetInterface, n *model.Net) {
	if !p.readSys {
		setNetUnavailable(n, "link", "the namespace read is not the one "+p.cfg.SysRoot+" shows: speed, duplex and operstate unknown")
		return
	}
	sp := p.sysPaths(ifc.Name)
	if b, err := p.read(sp[0]); err == nil {
		// -1 (or EINVAL on read) when the driver does not know.
		if v, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64); err == nil && v > 0 && v < math.MaxInt32 {
			ifc.SpeedMbps = model.Known(float64(v))
		}
	}
	if b, err := p.read(sp[1]); err == nil {
		ifc.Duplex = internState(bytes.TrimSpace(b))
	}
	if b, err := p.read(sp[2]); err == nil {
		ifc.OperState = internState(bytes.TrimSpace(b))
	}
	if ifc.SpeedMbps.OK && ifc.RxBytesPerS.OK && ifc.TxBytesPerS.OK {
		bits := ifc.SpeedMbps.V * 1e6
		rx, tx := ifc.RxBytesPerS.V*8, ifc.TxBytesPerS.V*8
		if ifc.Duplex == "full" {
			ifc.UtilPct = model.Known(max(rx, tx) * 100 / bits)
		} else {
			// sysstat: half duplex, or duplex unknown, shares the link.
			ifc.UtilPct = model.Known((rx + tx) * 100 / bits)
		}
	}
}

// internState returns the usual sysfs words without allocating.
func internState(b []byte) string {
	for _, s := range [...]string{"up", "down", "unknown", "full", "half", "dormant", "lowerlayerdown", "notpresent", "testing"} {
		if string(b) == s {
			return s
		}
	}
	return string(b)
}

// read reads a whole file into the probe's buffer (valid until the next
// read), growing it for large socket tables. Raw syscalls: os.Open
// allocates and registers every file with the poller.
func (p *NetProbe) read(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	n := 0
	for {
		if n == len(p.buf) {
			p.buf = append(p.buf, make([]byte, len(p.buf))...)
		}
		m, err := syscall.Read(fd, p.buf[n:])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		case m == 0:
			return p.buf[:n], nil
		}
		n += m
	}
}

// path is the path of a file in the namespace's net directory, joined
// once.
func (p *NetProbe) path(file string) string {
	if s, ok := p.paths[file]; ok {
		return s
	}
	s := filepath.Join(p.netDir, file)
	p.paths[file] = s
	return s
}

// sysPaths are an interface's speed, duplex and operstate files, joined
// once per interface name.
func (p *NetProbe) sysPaths(name string) *[3]string {
	if sp, ok := p.sys[name]; ok {
		return sp
	}
	dir := filepath.Join(p.cfg.SysRoot, "class/net", name)
	sp := &[3]string{filepath.Join(dir, "speed"), filepath.Join(dir, "duplex"), filepath.Join(dir, "operstate")}
	if len(p.sys) > 256 {
		clear(p.sys) // interfaces churn
	}
	p.sys[name] = sp
	return sp
}

// The MIB counters the probe turns into rates, by nstat's name.
const (
	mibTcpActiveOpens = iota
	mibTcpPassiveOpens
	mibTcpAttemptFails
	mibTcpEstabResets
	mibTcpCurrEstab
	mibTcpInSegs
	mibTcpOutSegs
	mibTcpRetransSegs
	mibTcpInErrs
	mibTcpOutRsts
	mibUdpInDatagrams
	mibUdpNoPorts
	mibUdpInErrors
	mibUdpOutDatagrams
	mibUdpRcvbufErrors
	mibUdpSndbufErrors
	mibUdp6InDatagrams
	mibUdp6NoPorts
	mibUdp6InErrors
	mibUdp6OutDatagrams
	mibUdp6RcvbufErrors
	mibUdp6SndbufErrors
	mibListenOverflows
	mibListenDrops
	mibSynRetrans
	mibSyncookiesSent
	mibSyncookiesRecv
	mibSyncookiesFailed
	mibTCPTimeouts
	mibCount
)

// mibIndex maps a file's prefix and name to a counter: /proc/net/snmp and
// netstat give (prefix, name); snmp6 gives the joined name under "".
var mibIndex = map[string]map[string]int{
	"Tcp": {"ActiveOpens": mibTcpActiveOpens, "PassiveOpens": mibTcpPassiveOpens, "AttemptFails": mibTcpAttemptFails,
		"EstabResets": mibTcpEstabResets, "CurrEstab": mibTcpCurrEstab, "InSegs": mibTcpInSegs, "OutSegs": mibTcpOutSegs,
		"RetransSegs": mibTcpRetransSegs, "InErrs": mibTcpInErrs, "OutRsts": mibTcpOutRsts},
	"Udp": {"InDatagrams": mibUdpInDatagrams, "NoPorts": mibUdpNoPorts, "InErrors": mibUdpInErrors,
		"OutDatagrams": mibUdpOutDatagrams, "RcvbufErrors": mibUdpRcvbufErrors, "SndbufErrors": mibUdpSndbufErrors},
	"TcpExt": {"ListenOverflows": mibListenOverflows, "ListenDrops": mibListenDrops, "TCPSynRetrans": mibSynRetrans,
		"SyncookiesSent": mibSyncookiesSent, "SyncookiesRecv": mibSyncookiesRecv, "SyncookiesFailed": mibSyncookiesFailed,
		"TCPTimeouts": mibTCPTimeouts},
	"": {"Udp6InDatagrams": mibUdp6InDatagrams, "Udp6NoPorts": mibUdp6NoPorts, "Udp6InErrors": mibUdp6InErrors,
		"Udp6OutDatagrams": mibUdp6OutDatagrams, "Udp6RcvbufErrors": mibUdp6RcvbufErrors, "Udp6SndbufErrors": mibUdp6SndbufErrors},
}

// mibReading is one reading of the MIB counters; have says which were in
// the files, errs why a file was not read.
type mibReading struct {
	v    [mibCount]uint64
	have [mibCount]bool
	errs [3]string // snmp, netstat, snmp6
}

func (p *NetProbe) readMIB(m *mibReading) {
	*m = mibReading{}
	set := func(prefix, name []byte, v uint64, ok bool) {
		if i, found := mibIndex[string(prefix)][string(name)]; found && ok {
			m.v[i], m.have[i] = v, true
		}
	}
	for k, file := range [...]string{"snmp", "netstat"} {
		path := p.path(file)
		if b, err := p.read(path); err != nil {
			m.errs[k] = fmt.Sprintf("read %s: %v", path, err)
		} else {
			parseSNMPTable(b, set)
		}
	}
	path := p.path("snmp6")
	if b, err := p.read(path); err != nil {
		m.errs[2] = fmt.Sprintf("read %s: %v (IPv6 disabled?)", path, err)
	} else {
		parseSNMP6(b, func(name []byte, v uint64) { set(nil, name, v, true) })
	}
}

func (p *NetProbe) mibRates(n *model.Net, seconds float64) {
	prev, cur := &p.prevMIB, &p.mib
	r := func(i int) model.Float {
		if !prev.have[i] || !cur.have[i] {
			return model.Unknown
		}
		return model.CounterRate(prev.v[i], cur.v[i], seconds)
	}
	if cur.errs[0] != "" {
		setNetUnavailable(n, "tcp", cur.errs[0])
		setNetUnavailable(n, "udp", cur.errs[0])
	} else {
		tcp := &model.TCPCounters{
			ActiveOpensPerS: r(mibTcpActiveOpens), PassiveOpensPerS: r(mibTcpPassiveOpens),
			InSegsPerS: r(mibTcpInSegs), OutSegsPerS: r(mibTcpOutSegs), RetransSegsPerS: r(mibTcpRetransSegs),
			AttemptFailsPerS: r(mibTcpAttemptFails), EstabResetsPerS: r(mibTcpEstabResets),
			OutResetsPerS: r(mibTcpOutRsts), InErrsPerS: r(mibTcpInErrs),
			ListenOverflowsPS: r(mibListenOverflows), ListenDropsPerS: r(mibListenDrops),
			SynRetransPerS: r(mibSynRetrans), SyncookiesSentPS: r(mibSyncookiesSent),
			SyncookiesRecvPS: r(mibSyncookiesRecv), SyncookiesFailPS: r(mibSyncookiesFailed),
			TimeoutsPerS: r(mibTCPTimeouts), CurrEstab: cur.v[mibTcpCurrEstab],
		}
		// OutSegs excludes retransmissions (RFC 4022 tcpOutSegs), so the
		// share retransmitted is retrans ÷ (out + retrans).
		if tcp.OutSegsPerS.OK && tcp.RetransSegsPerS.OK && tcp.OutSegsPerS.V+tcp.RetransSegsPerS.V > 0 {
			tcp.RetransPct = model.Known(tcp.RetransSegsPerS.V * 100 / (tcp.OutSegsPerS.V + tcp.RetransSegsPerS.V))
		}
		n.TCP = tcp
		n.UDP = &model.UDPCounters{
			InDatagramsPerS: r(mibUdpInDatagrams), OutDatagramsPerS: r(mibUdpOutDatagrams), NoPortsPerS: r(mibUdpNoPorts),
			InErrorsPerS: r(mibUdpInErrors), RcvbufErrorsPerS: r(mibUdpRcvbufErrors), SndbufErrorsPerS: r(mibUdpSndbufErrors),
		}
	}
	if cur.errs[1] != "" {
		setNetUnavailable(n, "tcp_ext", cur.errs[1])
	}
	if cur.errs[2] != "" {
		setNetUnavailable(n, "udp6", cur.errs[2])
	} else {
		n.UDP6 = &model.UDPCounters{
			InDatagramsPerS: r(mibUdp6InDatagrams), OutDatagramsPerS: r(mibUdp6OutDatagrams), NoPortsPerS: r(mibUdp6NoPorts),
			InErrorsPerS: r(mibUdp6InErrors), RcvbufErrorsPerS: r(mibUdp6RcvbufErrors), SndbufErrorsPerS: r(mibUdp6SndbufErrors),
		}
	}
}

// socketRead is what one pass over the socket tables produced.
type socketRead struct {
	totals           *model.SocketTotals
	listening        []model.Listener
	connections      []model.Connection
	connectionsTotal int
}

// readSockets parses /proc/net/{tcp,tcp6,udp,udp6}: state counts always,
// listeners and connections with their owners when listing.
func (p *NetProbe) readSockets(listing bool) (socketRead, string) {
	var out socketRead
	var states [tcpStateCount]int
	totals := &model.SocketTotals{}
	var errs []string
	if listing {
		out.listening = []model.Listener{}
		out.connections = []model.Connection{}
	}
	for _, proto := range [...]string{"tcp", "tcp6", "udp", "udp6"} {
		path := p.path(proto)
		b, err := p.read(path)
		if err != nil {
			// No tcp6/udp6 with IPv6 disabled: not an error worth a line.
			if !(errors.Is(err, fs.ErrNotExist) && strings.HasSuffix(proto, "6")) {
				errs = append(errs, fmt.Sprintf("read %s: %v", path, err))
			}
			continue
		}
		isTCP := proto[0] == 't'
		parseSockTable(b, func(e *sockEntry) {
			if isTCP {
				states[e.state]++
				totals.TCP++
			} else {
				totals.UDP++
			}
			if listing {
				p.addSocket(&out, proto, isTCP, e)
			}
		})
	}
	totals.TCPStates = make(map[string]int, 8)
	for st, c := range states {
		if c > 0 {
			totals.TCPStates[tcpStateNames[st]] += c
		}
	}
	out.totals = totals
	if listing {
		out.connectionsTotal = len(out.connections)
		slices.SortStableFunc(out.connections, func(a, b model.Connection) int {
			return cmp.Compare(stateRank(a.State), stateRank(b.State))
		})
		if len(out.connections) > model.MaxConnections {
			out.connections = slices.Clip(out.connections[:model.MaxConnections])
		}
	}
	return out, strings.Join(errs, "; ")
}

// socketTablesEvery is how often the socket tables are read while no view
// lists sockets: reading /proc/net/tcp walks the kernel's whole
// established hash, empty buckets too (about 2 ms a file on this 24 GiB
// machine with 4 sockets), 9 ms a second for a count of sockets by state
// that changes slowly. The sockstat counts are still read every frame.
const socketTablesEvery = 10 * time.Second

// sockets reads the socket tables when a view lists them, or when the
// totals by state are older than socketTablesEvery; otherwise it returns
// a copy of the last totals with their age.
func (p *NetProbe) sockets(now time.Time, listing bool) (socketRead, string) {
	if listing || p.tables == nil || now.Sub(p.tablesAt) >= socketTablesEvery {
		socks, errText := p.readSockets(listing)
		if errText == "" {
			p.tables, p.tablesAt = socks.totals, now
			t := *socks.totals // sockstat fills the frame's copy
			socks.totals = &t
		} else {
			p.tables = nil
		}
		return socks, errText
	}
	t := *p.tables // its TCPStates map is never written after the read
	t.TablesAgeS = now.Sub(p.tablesAt).Seconds()
	return socketRead{totals: &t}, ""
}

// stateRank orders connections so the states that point at a problem come
// first when the list is cut.
func stateRank(s string) int {
	switch s {
	case "close-wait":
		return 0
	case "syn-sent", "syn-recv":
		return 1
	case "last-ack", "fin-wait-1", "closing":
		return 2
	case "fin-wait-2":
		return 3
	case "estab":
		return 4
	case "time-wait":
		return 6
	}
	return 5
}

func (p *NetProbe) addSocket(out *socketRead, proto string, isTCP bool, e *sockEntry) {
	owner := model.SocketOwner{UID: e.uid, Inode: e.inode}
	if o := p.owners[e.inode]; o != nil && e.inode != 0 {
		pid := o.pid
		owner.PID, owner.Comm, owner.Others = &pid, p.comms[o.pid], o.others
	}
	listen := (isTCP && e.state == tcpListen) || (!isTCP && e.state == tcpClose && e.remote.Port() == 0)
	if listen {
		out.listening = append(out.listening, model.Listener{Proto: proto, Address: e.local.Addr().String(), Port: e.local.Port(),
			SocketOwner: owner, Queue: e.rxQueue})
		return
	}
	state := tcpStateNames[e.state]
	if !isTCP {
		state = "unconn"
		if e.state == tcpEstablished {
			state = "estab"
		}
	}
	out.connections = append(out.connections, model.Connection{Proto: proto,
		LocalAddr: e.local.Addr().String(), LocalPort: e.local.Port(),
		RemoteAddr: e.remote.Addr().String(), RemotePort: e.remote.Port(),
		State: state, TxQueue: e.txQueue, RxQueue: e.rxQueue, SocketOwner: owner})
}

// sockstat adds /proc/net/sockstat{,6}'s kernel totals.
func (p *NetProbe) sockstat(s socketRead) {
	t := s.totals
	for _, file := range [...]string{"sockstat", "sockstat6"} {
		b, err := p.read(p.path(file))
		if err != nil {
			continue // fields stay unknown
		}
		parseSockstat(b, func(proto, key []byte, v uint64) {
			f := model.Known(float64(v))
			var dst *model.Float
			switch string(proto) {
			case "sockets":
				if string(key) == "used" {
					dst = &t.Used
				}
			case "TCP":
				switch string(key) {
				case "inuse":
					dst = &t.TCPInUse
				case "orphan":
					dst = &t.TCPOrphan
				case "tw":
					dst = &t.TCPTimeWait
				case "alloc":
					dst = &t.TCPAlloc
				case "mem":
					dst = &t.TCPMemPages
				}
			case "UDP":
				if string(key) == "inuse" {
					dst = &t.UDPInUse
				}
			case "RAW":
				if string(key) == "inuse" {
					dst = &t.RawInUse
				}
			case "TCP6":
				if string(key) == "inuse" {
					dst = &t.TCP6InUse
				}
			case "UDP6":
				if string(key) == "inuse" {
					dst = &t.UDP6InUse
				}
			}
			if dst != nil {
				*dst = f
			}
		})
	}
}
