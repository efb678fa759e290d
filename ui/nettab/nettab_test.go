package nettab

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/internal/uitest"
)

var now = uitest.Now

func pid(p int32) *int32 { return &p }

func k(v float64) model.Float { return model.Known(v) }

// fixtureNet is a web server under a small-packet flood on eth0, with an
// application leaking CLOSE-WAIT sockets and a full accept queue.
func fixtureNet() *model.Net {
	yes := true
	n := &model.Net{
		Namespace: model.NetNamespace{Path: "/proc/1/net", Init: &yes},
		Interfaces: []model.NetInterface{
			{Name: "lo", RxBytesPerS: k(2048), TxBytesPerS: k(2048), RxPacketsPerS: k(20), TxPacketsPerS: k(20), RxAvgPacketBytes: k(102), TxAvgPacketBytes: k(102),
				RxErrorsPerS: k(0), TxErrorsPerS: k(0), RxDropsPerS: k(0), TxDropsPerS: k(0), OperState: "unknown"},
			{Name: "eth0", RxBytesPerS: k(3_840_000), TxBytesPerS: k(1_250_000), RxPacketsPerS: k(60_000), TxPacketsPerS: k(2500), RxAvgPacketBytes: k(64), TxAvgPacketBytes: k(500),
				RxErrorsPerS: k(0), TxErrorsPerS: k(0), RxDropsPerS: k(120), TxDropsPerS: k(0), RxMulticastPerS: k(1), SpeedMbps: k(1000), Duplex: "full", OperState: "up", UtilPct: k(3.1)},
			{Name: "veth\x1b[2Jx", RxBytesPerS: k(100), TxBytesPerS: k(0), RxPacketsPerS: k(1), TxPacketsPerS: k(0), RxErrorsPerS: k(0), TxErrorsPerS: k(0), RxDropsPerS: k(0), TxDropsPerS: k(0), OperState: "up"},
			{Name: "docker0", OperState: "down"},
		},
		TCP: &model.TCPCounters{ActiveOpensPerS: k(12), PassiveOpensPerS: k(340), InSegsPerS: k(5200), OutSegsPerS: k(4900), RetransSegsPerS: k(3), RetransPct: k(0.06),
			AttemptFailsPerS: k(0), EstabResetsPerS: k(1), OutResetsPerS: k(4), InErrsPerS: k(0), ListenOverflowsPS: k(25), ListenDropsPerS: k(25),
			SynRetransPerS: k(0), SyncookiesSentPS: k(0), SyncookiesRecvPS: k(0), SyncookiesFailPS: k(0), TimeoutsPerS: k(0.5), CurrEstab: 60},
		UDP:  &model.UDPCounters{InDatagramsPerS: k(40), OutDatagramsPerS: k(41), NoPortsPerS: k(0), InErrorsPerS: k(0), RcvbufErrorsPerS: k(0), SndbufErrorsPerS: k(0)},
		UDP6: &model.UDPCounters{InDatagramsPerS: k(0), OutDatagramsPerS: k(0), NoPortsPerS: k(0), InErrorsPerS: k(0), RcvbufErrorsPerS: k(0), SndbufErrorsPerS: k(0)},
		Sockets: &model.SocketTotals{TCPStates: map[string]int{"estab": 35, "listen": 3, "close-wait": 25, "time-wait": 12}, TCP: 75, UDP: 2,
			TCPOrphan: k(0)},
		Listening: []model.Listener{
			{Proto: "tcp", Address: "0.0.0.0", Port: 80, Queue: 129, SocketOwner: model.SocketOwner{UID: 0, PID: pid(4242), Comm: "nginx", Others: 3}},
			{Proto: "tcp6", Address: "::1", Port: 5432, SocketOwner: model.SocketOwner{UID: 999, PID: pid(777), Comm: "postgres"}},
			{Proto: "udp", Address: "127.0.0.53", Port: 53, SocketOwner: model.SocketOwner{UID: 101}},
		},
		Owners:      &model.SocketOwners{At: now, Processes: 210, Unreadable: 0, Sockets: 80, IntervalS: 2},
		Unavailable: map[string]string{"per_process_bytes": "needs eBPF", "retransmits": "needs eBPF (tcp:tcp_retransmit_skb)"},
	}
	for i := 0; i < 25; i++ {
		n.Connections = append(n.Connections, model.Connection{Proto: "tcp6", LocalAddr: "::ffff:10.0.0.5", LocalPort: 8080, RemoteAddr: "::ffff:192.168.1.9", RemotePort: uint16(40000 + i),
			State: "close-wait", SocketOwner: model.SocketOwner{PID: pid(666), Comm: "leaky\x1b]0;pwned\x07"}})
	}
	n.Connections = append(n.Connections,
		model.Connection{Proto: "tcp", LocalAddr: "10.0.0.5", LocalPort: 80, RemoteAddr: "203.0.113.7", RemotePort: 51000, State: "estab", TxQueue: 1448, SocketOwner: model.SocketOwner{PID: pid(4242), Comm: "nginx"}},
		model.Connection{Proto: "tcp", LocalAddr: "10.0.0.5", LocalPort: 80, RemoteAddr: "203.0.113.8", RemotePort: 51001, State: "time-wait"})
	n.ConnectionsTotal = len(n.Connections)
	return n
}

func snapshot(n *model.Net) *model.Snapshot {
	s := model.NewStore(model.Host{}, 1, 100)
	s.Update(func(next *model.Sample, h *model.History) {
		next.Time = now
		next.Net = n
		next.CPU = &model.CPU{
			SoftIRQs: []model.SoftIRQRate{{Name: "TIMER", PerS: 500}, {Name: "NET_RX", PerS: 61000}},
			PerCPU:   []model.PerCPU{{ID: 0, Online: true, SoftIRQPerS: []float64{250, 58000}}, {ID: 1, Online: true, SoftIRQPerS: []float64{250, 3000}}},
		}
		next.Processes = []model.Process{
			{ProcessIdentity: model.ProcessIdentity{PID: 4242, User: "www-data", Comm: "nginx", Cmdline: "nginx: worker process"}},
			{ProcessIdentity: model.ProcessIdentity{PID: 666, User: "app", Comm: "leaky\x1b]0;pwned\x07", Cmdline: "leaky --serve"}},
			{ProcessIdentity: model.ProcessIdentity{PID: 777, User: "postgres", Comm: "postgres", Cmdline: "postgres: main"}},
			{ProcessIdentity: model.ProcessIdentity{PID: 1, User: "root", Comm: "systemd", Cmdline: "/sbin/init"}},
		}
		for i := 0; i < 60; i++ {
			ts := now.Add(time.Duration(i-60) * time.Second)
			h.Record(model.NetSeries(model.NetRxBytes, "eth0"), ts, float64(1_000_000+i*50_000))
			h.Record(model.NetSeries(model.NetTxBytes, "eth0"), ts, 1_250_000)
			h.Record(model.NetSeries(model.NetRxPackets, "eth0"), ts, float64(i*1000))
			h.Record(model.NetSeries(model.NetTxPackets, "eth0"), ts, 2500)
		}
	})
	return s.Snapshot()
}

func newTab(n *model.Net, w, h int) *Tab {
	t := New(common.NewContext(false), nil)
	t.SetSize(w, h)
	t.Update(common.SnapshotMsg{Snap: snapshot(n)})
	return t
}

func TestGoldens(t *testing.T) {
	small := newTab(fixtureNet(), 80, 24)
	uitest.Golden(t, "net_80x24", ansi.Strip(small.View()))
	big := newTab(fixtureNet(), 200, 50)
	uitest.Golden(t, "net_200x50", ansi.Strip(big.View()))
	for _, p := range []string{"listeners", "processes", "retransmits", "errors"} {
		big.Update(uitest.Key("v"))
		uitest.Golden(t, "net_"+p+"_200x50", ansi.Strip(big.View()))
	}
}

func TestContentAndHints(t *testing.T) {
	tab := newTab(fixtureNet(), 200, 50)
	v := ansi.Strip(tab.View())
	// The warnings area shows the most severe few; w lists them all.
	for _, a := range tab.Warnings() {
		v += "\n" + a.Text
	}
	for _, want := range []string{
		"/proc/1/net (init)", "close-wait 25",
		"▸ eth0", "3.7M", "60.0k", "64", "1000M", "full",
		"softirq NET_RX/s cpu0 58.0k cpu1 3000",
		"eth0: 60.0k pkt/s in, 64 B avg: tiny packets at that rate can be a flood; softirq NET_RX cpu0 58.0k/s cpu1 3000/s",
		"eth0 rx drops 120/s",
		"listen overflows 25/s drops 25/s: an accept queue is full",
		"25 CLOSE-WAIT sockets (most: leaky\\e]0;pwned\\x07 pid 666, 25): an application is not closing connections its peers closed",
		"retrans/s 3.0 (0.1%)", "listen ovf/s 25",
		"eth0 bytes/s", "connections", "10.0.0.5:8080", "close-wait", "per-process bytes/s: n/a (needs eBPF)",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q", want)
		}
	}
	raw := tab.View()
	if strings.Contains(raw, "\x1b[2J") || strings.Contains(raw, "\x1b]0;pwned") {
		t.Error("an interface or process name reached the terminal raw")
	}
	if !strings.Contains(v, `veth\e[2Jx`) {
		t.Error("interface name not shown escaped")
	}
	// Unknown is a dash, never 0.
	if !strings.Contains(v, "docker0") || !strings.Contains(lineWith(v, "docker0"), "–") {
		t.Errorf("docker0 without rates: %q", lineWith(v, "docker0"))
	}
}

func lineWith(v, s string) string {
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestPanelsDemandAndKeys(t *testing.T) {
	tab := newTab(fixtureNet(), 120, 40)
	if !tab.Demand().Sockets {
		t.Fatal("the connections panel needs socket owners")
	}
	tab.Update(uitest.Key("v"))
	v := ansi.Strip(tab.View())
	for _, want := range []string{"ADDRESS:PORT", "0.0.0.0:80", "129", "nginx (+3)", "[::1]:5432", "127.0.0.53:53"} {
		if !strings.Contains(v, want) {
			t.Errorf("listeners lack %q:\n%s", want, v)
		}
	}
	tab.Update(uitest.Key("v"))
	v = ansi.Strip(tab.View())
	if !strings.Contains(v, "CLOSE-W") || !strings.Contains(lineWith(v, "leaky --serve"), "25") {
		t.Errorf("processes panel:\n%s", v)
	}
	if strings.Index(v, "leaky --serve") > strings.Index(v, "nginx: worker") {
		t.Error("processes not sorted by TCP connections")
	}
	tab.Update(uitest.Key("v"))
	if tab.Demand().Sockets {
		t.Error("the retransmits panel must not ask for the fd walk")
	}
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "retransmit events – (needs eBPF") {
		t.Errorf("retransmits panel without eBPF:\n%s", v)
	}
	tab.Update(uitest.Key("v"))
	if tab.Demand().Sockets {
		t.Error("the errors panel must not ask for the fd walk")
	}
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "rxdrop/s") || !strings.Contains(lineWith(v[strings.Index(v, "rxdrop/s"):], "eth0"), "120") {
		t.Errorf("errors panel:\n%s", v)
	}
	// i moves the charts to the next interface.
	tab.Update(uitest.Key("v"))
	tab.Update(uitest.Key("i"))
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "▸ veth") {
		t.Errorf("i did not select the next interface:\n%s", v)
	}
	// Scrolling the connections never leaves the list.
	for i := 0; i < 100; i++ {
		tab.Update(uitest.Key("pgdown"))
	}
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "time-wait") {
		t.Errorf("scrolled past the end:\n%s", v)
	}
}

func TestMissingParts(t *testing.T) {
	n := &model.Net{Namespace: model.NetNamespace{Path: "/proc/self/net"}, Interfaces: []model.NetInterface{{Name: "lo"}},
		Unavailable: map[string]string{"tcp": "read /proc/self/net/snmp: permission denied", "connections": "read only while the Net tab's connections, listeners or processes panel is open", "sockets": "read /proc/self/net/tcp: gone"}}
	v := ansi.Strip(newTab(n, 120, 30).View())
	for _, want := range []string{"(init? unknown)", "tcp – (read /proc/self/net/snmp: permission denied)", "connections – (read only while", "sockets – (read /proc/self/net/tcp: gone)"} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q:\n%s", want, v)
		}
	}
}

func TestSizes(t *testing.T) {
	tab := newTab(fixtureNet(), 80, 24)
	for p := range int(panelCount) {
		for _, w := range []int{1, 5, 10, 20, 40, 80, 120, 200, 250} {
			for _, h := range []int{1, 2, 3, 5, 8, 12, 24, 50, 70} {
				tab.SetSize(w, h)
				uitest.CheckSize(t, panelNames[p], tab.View(), w, h)
			}
		}
		tab.Update(uitest.Key("v"))
	}
	empty := New(common.NewContext(true), nil)
	empty.SetSize(80, 10)
	if !strings.Contains(empty.View(), "Net: collecting the first interval") {
		t.Error("no-data view")
	}
}

func TestExplainCoversEveryNumber(t *testing.T) {
	tab := newTab(fixtureNet(), 80, 24)
	var terms strings.Builder
	for _, e := range tab.Explain() {
		terms.WriteString(e[0] + " ")
	}
	for _, want := range []string{"rxB/s", "rxpck/s", "rxavg", "err/s", "drop/s", "%util", "softirq NET_RX/s", "active/s", "iseg/s", "retrans/s", "atmptf/s", "estres/s", "orsts/s",
		"listen ovf/s", "syncookies/s", "timeouts/s", "isegerr/s", "noport/s", "rcvbuf/s", "close-wait", "orphan", "TCP", "LISTEN", "CLOSE-W", "per-process bytes", "owners", "RETR/s", "v: retransmits", "KIND", "retransmit burst"} {
		if !strings.Contains(terms.String(), want) {
			t.Errorf("help does not explain %q", want)
		}
	}
}

// ebpfNet adds what eBPF counts to the fixture: a bulk sender losing
// packets toward one remote address, and a client refused by a closed port.
func ebpfNet() *model.Net {
	n := fixtureNet()
	delete(n.Unavailable, "per_process_bytes")
	delete(n.Unavailable, "retransmits")
	n.PerProcess = &model.NetProcessCounters{
		Processes: []model.NetProcess{
			{PID: 4242, Comm: "nginx", TxBytesPerS: 1_200_000, RxBytesPerS: 300_000},
			{PID: 31337, Comm: "demo-bulk\x1b[2J", TxBytesPerS: 9_000_000, RetransmitsPerS: 44},
			{PID: 500, Comm: "curl", ResetsRecvPerS: 1},
		},
		Totals:            model.NetPayloadTotals{PayloadTxBytesPerS: 10_200_000, PayloadRxBytesPerS: 300_000, InterfaceTxBytesPerS: k(11_000_000), InterfaceRxBytesPerS: k(400_000)},
		DroppedProcCounts: 7,
	}
	n.TCPEvents = &model.NetTCPEventCounts{RetransmitsPerS: 45, ResetsSentPerS: 1, ResetsReceivedPerS: 1, UnattributedPerS: 2,
		ByRemote: []model.NetRemoteCount{{RemoteAddr: "10.231.0.2", RetransmitsPerS: 44}, {RemoteAddr: "127.0.0.1", ResetsPerS: 2}},
		Loss:     model.EventLoss{Source: "net", KernelDropped: 3}}
	for i := 0; i < 30; i++ {
		n.Retransmits = append(n.Retransmits, model.NetTCPEvent{Time: now.Add(time.Duration(i-30) * 100 * time.Millisecond), Kind: model.NetKindRetransmit,
			PID: pid(31337), Comm: "demo-bulk\x1b[2J", NetTCPEventData: model.NetTCPEventData{LocalAddr: "10.231.0.1", LocalPort: 40000,
				RemoteAddr: "10.231.0.2", RemotePort: 5001, State: "estab", Segments: 1 + i%3}})
	}
	n.Retransmits = append(n.Retransmits,
		model.NetTCPEvent{Time: now, Kind: model.NetKindResetSent, NetTCPEventData: model.NetTCPEventData{LocalAddr: "127.0.0.1", LocalPort: 9, RemoteAddr: "127.0.0.1", RemotePort: 41000}},
		model.NetTCPEvent{Time: now, Kind: model.NetKindResetReceived, PID: pid(500), Comm: "curl", NetTCPEventData: model.NetTCPEventData{LocalAddr: "127.0.0.1", LocalPort: 41000, RemoteAddr: "127.0.0.1", RemotePort: 9, State: "syn-sent"}})
	return n
}

func TestRetransmitsWithEBPF(t *testing.T) {
	tab := newTab(ebpfNet(), 80, 24)
	// The default screen names the culprit in its warnings.
	v := ansi.Strip(tab.View())
	var all []string
	for _, a := range tab.Warnings() {
		all = append(all, a.Text)
	}
	want := "retransmits 45/s on sockets of demo-bulk\\e[2J pid 31337 (44/s) toward 10.231.0.2: packet loss on that path (v: retransmits)"
	if !slices.Contains(all, want) {
		t.Errorf("warnings lack %q: %q", want, all)
	}
	if !strings.Contains(v, "! retransmits 45/s on sockets of demo-bulk") {
		t.Errorf("the 80x24 screen does not show the retransmit warning:\n%s", v)
	}
	for range 3 {
		tab.Update(uitest.Key("v"))
	}
	v = ansi.Strip(tab.View())
	uitest.Golden(t, "net_retransmits_80x24", v)
	for _, want := range []string{"retrans/s 45 rst sent/s 1.0 rst recv/s 1.0 no owner/s 2.0 lost 3",
		"by process demo-bulk\\e[2J 31337 44 · curl 500 0 rst 1.0", "by remote 10.231.0.2 44 · 127.0.0.1 0 rst 2.0",
		"RST<", "RST>", "10.231.0.2:5001", "syn-sent"} {
		if !strings.Contains(v, want) {
			t.Errorf("retransmits panel lacks %q:\n%s", want, v)
		}
	}
	// Newest first: the resets come before the retransmits.
	if strings.Index(v, "RST<") > strings.Index(v, "RETR") {
		t.Errorf("events not newest first:\n%s", v)
	}
	if raw := tab.View(); strings.Contains(raw, "\x1b[2J") {
		t.Error("a process name reached the terminal raw")
	}
	// The processes panel's note counts what the map could not hold.
	tab.Update(uitest.Key("v"))
	tab.Update(uitest.Key("v"))
	tab.Update(uitest.Key("v"))
	tab.SetSize(250, 40)
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "7 counts lost (map full)") || !strings.Contains(v, "retransmit events lost 3") {
		t.Errorf("processes note lacks the losses:\n%s", v)
	}
}
