package probes

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// The fixtures print addresses as a little-endian host would.
func skipBigEndian(t *testing.T) {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], 1)
	if b[0] != 1 {
		t.Skip("the /proc/net fixtures are a little-endian host's")
	}
}

func netNear(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func wantRate(t *testing.T, what string, got model.Float, want float64) {
	t.Helper()
	if !got.OK || !netNear(got.V, want) {
		t.Errorf("%s = %+v, want %v", what, got, want)
	}
}

func wantNull(t *testing.T, what string, got model.Float) {
	t.Helper()
	if got.OK {
		t.Errorf("%s = %v, want null", what, got.V)
	}
}

// netFixtureReads reads testdata/net-proc (t0), then net-t1 two seconds
// later and net-t2 two more seconds later.
func netFixtureReads(t *testing.T) (*model.Net, *model.Net) {
	t.Helper()
	skipBigEndian(t)
	p, err := NewNetProbe(NetProbeConfig{ProcRoot: "testdata/net-proc", SysRoot: "testdata/net-sys"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	if n, err := p.Read(t0); err != nil || n != nil {
		t.Fatalf("baseline: %v, %v", n, err)
	}
	setNetDir(p, "testdata/net-t1")
	n1, err := p.Read(t0.Add(2 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	setNetDir(p, "testdata/net-t2")
	n2, err := p.Read(t0.Add(4 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return n1, n2
}

// setNetDir points the probe at the next reading's files.
func setNetDir(p *NetProbe, dir string) {
	p.netDir = dir
	clear(p.paths)
}

// Hand-computed from the fixture files over a 2 s window.
func TestNetDevRatesFromFixtures(t *testing.T) {
	n, n2 := netFixtureReads(t)
	if n.Namespace.Path != "testdata/net-proc/1/net" || n.Namespace.Init == nil || !*n.Namespace.Init {
		t.Errorf("namespace %+v", n.Namespace)
	}
	var names []string
	for _, ifc := range n.Interfaces {
		names = append(names, ifc.Name)
	}
	if want := []string{"lo", "eth0", "eth1", "docker0"}; !equalStrings(names, want) {
		t.Fatalf("interfaces %q, want %q (veth1 vanished, docker0 appeared)", names, want)
	}
	eth0 := n.Interface("eth0")
	// rx: 230,000,000 − 5,000,000 bytes and 210,000 − 10,000 packets in 2 s.
	wantRate(t, "eth0 rx bytes/s", eth0.RxBytesPerS, 112_500_000)
	wantRate(t, "eth0 rx packets/s", eth0.RxPacketsPerS, 100_000)
	wantRate(t, "eth0 rx avg packet", eth0.RxAvgPacketBytes, 1125)
	wantRate(t, "eth0 rx errors/s", eth0.RxErrorsPerS, 10)
	wantRate(t, "eth0 rx drops/s", eth0.RxDropsPerS, 50)
	wantRate(t, "eth0 rx fifo/s", eth0.RxFIFOPerS, 1)
	wantRate(t, "eth0 rx frame/s", eth0.RxFramePerS, 2)
	wantRate(t, "eth0 rx compressed/s", eth0.RxCompressedPerS, 0)
	wantRate(t, "eth0 rx multicast/s", eth0.RxMulticastPerS, 10)
	wantRate(t, "eth0 tx bytes/s", eth0.TxBytesPerS, 1_000_000)
	wantRate(t, "eth0 tx packets/s", eth0.TxPacketsPerS, 2000)
	wantRate(t, "eth0 tx avg packet", eth0.TxAvgPacketBytes, 500)
	wantRate(t, "eth0 tx errors/s", eth0.TxErrorsPerS, 0)
	wantRate(t, "eth0 tx drops/s", eth0.TxDropsPerS, 5)
	wantRate(t, "eth0 tx fifo/s", eth0.TxFIFOPerS, 0)
	wantRate(t, "eth0 collisions/s", eth0.CollisionsPerS, 2)
	wantRate(t, "eth0 tx carrier/s", eth0.TxCarrierPerS, 1)
	wantRate(t, "eth0 tx compressed/s", eth0.TxCompressedPerS, 0)
	// 1000 Mb/s full duplex: max(112.5 MB/s × 8, 1 MB/s × 8) / 1e9 = 90 %.
	wantRate(t, "eth0 speed", eth0.SpeedMbps, 1000)
	wantRate(t, "eth0 %ifutil", eth0.UtilPct, 90)
	if eth0.Duplex != "full" || eth0.OperState != "up" || eth0.RxBytesTotal != 230_000_000 {
		t.Errorf("eth0 link %q %q total %d", eth0.Duplex, eth0.OperState, eth0.RxBytesTotal)
	}

	// eth1's rx bytes went backwards (9000 → 100): null, not 2^64/2.
	eth1 := n.Interface("eth1")
	wantNull(t, "eth1 rx bytes/s after a reset", eth1.RxBytesPerS)
	wantNull(t, "eth1 avg packet across a reset", eth1.RxAvgPacketBytes)
	wantRate(t, "eth1 rx packets/s", eth1.RxPacketsPerS, 5)
	wantNull(t, "eth1 speed -1", eth1.SpeedMbps)
	wantNull(t, "eth1 %ifutil without a speed", eth1.UtilPct)
	if eth1.OperState != "down" || eth1.Duplex != "unknown" {
		t.Errorf("eth1 link %q %q", eth1.OperState, eth1.Duplex)
	}
	lo := n.Interface("lo")
	wantRate(t, "lo rx bytes/s", lo.RxBytesPerS, 1000)
	wantRate(t, "lo avg packet", lo.RxAvgPacketBytes, 100)
	wantNull(t, "lo speed (no file)", lo.SpeedMbps)
	// A new interface has no rate for its first interval.
	wantNull(t, "docker0 first interval", n.Interface("docker0").RxBytesPerS)

	// t2: veth1 is back with large counters: new again, so null, not huge.
	wantNull(t, "veth1 back after vanishing", n2.Interface("veth1").RxBytesPerS)
	wantRate(t, "eth1 rx bytes/s once past the reset", n2.Interface("eth1").RxBytesPerS, 100)
	wantRate(t, "eth0 idle", n2.Interface("eth0").RxBytesPerS, 0)
}

func TestNetProtocolCountersFromFixtures(t *testing.T) {
	n, n2 := netFixtureReads(t)
	tcp := n.TCP
	wantRate(t, "active/s", tcp.ActiveOpensPerS, 10)
	wantRate(t, "passive/s", tcp.PassiveOpensPerS, 10)
	wantRate(t, "atmptf/s", tcp.AttemptFailsPerS, 1)
	wantRate(t, "estres/s", tcp.EstabResetsPerS, 0)
	wantRate(t, "iseg/s", tcp.InSegsPerS, 1000)
	wantRate(t, "oseg/s", tcp.OutSegsPerS, 900)
	wantRate(t, "retrans/s", tcp.RetransSegsPerS, 100)
	wantRate(t, "retrans %", tcp.RetransPct, 10) // 100 / (900 + 100)
	wantRate(t, "isegerr/s", tcp.InErrsPerS, 0)
	wantRate(t, "orsts/s", tcp.OutResetsPerS, 3)
	wantRate(t, "listen overflows/s", tcp.ListenOverflowsPS, 5)
	wantRate(t, "listen drops/s", tcp.ListenDropsPerS, 6)
	wantRate(t, "syn retrans/s", tcp.SynRetransPerS, 2)
	wantRate(t, "syncookies sent/s", tcp.SyncookiesSentPS, 2)
	wantRate(t, "syncookies recv/s", tcp.SyncookiesRecvPS, 1)
	wantRate(t, "syncookies failed/s", tcp.SyncookiesFailPS, 0)
	wantRate(t, "timeouts/s", tcp.TimeoutsPerS, 1)
	if tcp.CurrEstab != 8 {
		t.Errorf("CurrEstab %d", tcp.CurrEstab)
	}
	udp := n.UDP
	wantRate(t, "udp in/s", udp.InDatagramsPerS, 100)
	wantRate(t, "udp out/s", udp.OutDatagramsPerS, 200)
	wantRate(t, "udp noport/s", udp.NoPortsPerS, 2)
	wantRate(t, "udp inerr/s", udp.InErrorsPerS, 3)
	wantRate(t, "udp rcvbuf/s", udp.RcvbufErrorsPerS, 3)
	wantRate(t, "udp sndbuf/s", udp.SndbufErrorsPerS, 0)
	wantRate(t, "udp6 in/s", n.UDP6.InDatagramsPerS, 10)
	wantRate(t, "udp6 out/s", n.UDP6.OutDatagramsPerS, 0)

	// t2: RetransSegs went back (210 → 5): null, and so is the ratio.
	wantNull(t, "retrans/s across a reset", n2.TCP.RetransSegsPerS)
	wantNull(t, "retrans % across a reset", n2.TCP.RetransPct)
	wantRate(t, "oseg/s idle", n2.TCP.OutSegsPerS, 0)
}

func TestNetSocketsFromFixtures(t *testing.T) {
	n, _ := netFixtureReads(t)
	s := n.Sockets
	want := map[string]int{"listen": 4, "estab": 2, "time-wait": 1, "syn-sent": 1, "close-wait": 1}
	if len(s.TCPStates) != len(want) {
		t.Errorf("states %v, want %v", s.TCPStates, want)
	}
	for k, v := range want {
		if s.TCPStates[k] != v {
			t.Errorf("state %s = %d, want %d", k, s.TCPStates[k], v)
		}
	}
	if s.TCP != 9 || s.UDP != 3 {
		t.Errorf("tcp %d udp %d entries", s.TCP, s.UDP)
	}
	wantRate(t, "sockets used", s.Used, 140)
	wantRate(t, "tcp orphan", s.TCPOrphan, 1)
	wantRate(t, "tcp tw", s.TCPTimeWait, 1)
	wantRate(t, "tcp6 inuse", s.TCP6InUse, 2)
	wantRate(t, "udp6 inuse", s.UDP6InUse, 1)

	type lk struct {
		proto, addr string
		port        uint16
	}
	got := map[lk]model.Listener{}
	for _, l := range n.Listening {
		got[lk{l.Proto, l.Address, l.Port}] = l
	}
	pid := func(l model.Listener) int32 {
		if l.PID == nil {
			return -1
		}
		return *l.PID
	}
	for _, w := range []struct {
		k      lk
		pid    int32
		comm   string
		others int
		queue  uint64
	}{
		{lk{"tcp", "0.0.0.0", 80}, 100, "nginx", 1, 5}, // shared by two workers
		{lk{"tcp", "127.0.0.1", 5432}, 200, "postgres\x1b[31m", 0, 0},
		{lk{"tcp6", "::", 22}, 1, "systemd", 0, 0},
		{lk{"tcp6", "::1", 631}, -1, "", 0, 0}, // no process holds it
		{lk{"udp", "0.0.0.0", 53}, 200, "postgres\x1b[31m", 0, 0},
		{lk{"udp6", "::", 546}, -1, "", 0, 0},
	} {
		l, ok := got[w.k]
		if !ok {
			t.Errorf("listener %v missing from %+v", w.k, n.Listening)
			continue
		}
		if pid(l) != w.pid || l.Comm != w.comm || l.Others != w.others || l.Queue != w.queue {
			t.Errorf("listener %v: pid %d comm %q others %d queue %d, want %d %q %d %d", w.k, pid(l), l.Comm, l.Others, l.Queue, w.pid, w.comm, w.others, w.queue)
		}
	}
	if len(n.Listening) != 6 {
		t.Errorf("%d listeners", len(n.Listening))
	}

	if n.ConnectionsTotal != 6 || len(n.Connections) != 6 {
		t.Fatalf("connections %d/%d: %+v", len(n.Connections), n.ConnectionsTotal, n.Connections)
	}
	// Problem states first: close-wait, then syn-sent.
	c := n.Connections[0]
	if c.State != "close-wait" || c.LocalAddr != "2001:db8::1" || c.LocalPort != 443 || c.RemoteAddr != "2001:db8::2" || c.RemotePort != 51000 || c.UID != 1000 {
		t.Errorf("first connection %+v", c)
	}
	if c := n.Connections[1]; c.State != "syn-sent" || c.RemoteAddr != "203.0.113.7" || c.RemotePort != 443 || c.LocalPort != 33000 || c.TxQueue != 1 {
		t.Errorf("second connection %+v", c)
	}
	var mapped, est4 *model.Connection
	for i := range n.Connections {
		switch c := &n.Connections[i]; {
		case c.LocalAddr == "::ffff:127.0.0.1":
			mapped = c
		case c.LocalAddr == "10.0.0.5" && c.State == "estab" && c.Proto == "tcp":
			est4 = c
		}
	}
	if mapped == nil || mapped.LocalPort != 8080 || mapped.RemotePort != 45678 || mapped.RemoteAddr != "::ffff:127.0.0.1" || mapped.Proto != "tcp6" {
		t.Errorf("IPv4-mapped connection %+v", mapped)
	}
	if est4 == nil || est4.RemoteAddr != "192.168.1.9" || est4.RemotePort != 40000 || est4.PID == nil || *est4.PID != 101 || est4.TxQueue != 16 || est4.RxQueue != 32 {
		t.Errorf("IPv4 connection %+v", est4)
	}
	o := n.Owners
	if o == nil || o.Processes != 4 || o.Sockets != 5 || o.Unreadable != 0 {
		t.Errorf("owners %+v", o)
	}
	if n.Unavailable["per_process_bytes"] == "" {
		t.Error("per-process bytes must say why they are missing")
	}
	if _, err := json.Marshal(n); err != nil {
		t.Fatal(err)
	}
}

// Sockets are listed only while a view asks, and the fd walk is not
// repeated within the owner interval.
func TestNetSocketsOnDemand(t *testing.T) {
	skipBigEndian(t)
	d := &model.Demand{}
	p, err := NewNetProbe(NetProbeConfig{ProcRoot: "testdata/net-proc", SysRoot: "testdata/net-sys", Demand: d, OwnerInterval: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	p.Read(t0)
	n, _ := p.Read(t0.Add(time.Second))
	if n.Listening != nil || n.Connections != nil || n.Owners != nil || n.Unavailable["listening"] == "" {
		t.Fatalf("listed without demand: %+v", n)
	}
	if n.Sockets == nil || n.Sockets.TCPStates["listen"] != 4 {
		t.Fatal("state totals are read every time")
	}
	d.Set(model.DemandSet{Sockets: true})
	n, _ = p.Read(t0.Add(2 * time.Second))
	if len(n.Listening) != 6 || n.Owners == nil || !n.Owners.At.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("on demand: %d listeners, owners %+v", len(n.Listening), n.Owners)
	}
	n, _ = p.Read(t0.Add(4 * time.Second))
	if !n.Owners.At.Equal(t0.Add(2*time.Second)) || n.Listening[0].PID == nil {
		t.Errorf("walked again within the interval, or lost the owners: %+v", n.Owners)
	}
	n, _ = p.Read(t0.Add(5 * time.Second))
	if !n.Owners.At.Equal(t0.Add(5 * time.Second)) {
		t.Errorf("not walked again after the interval: %+v", n.Owners)
	}
}

func TestNetMissingFiles(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(dir+"/self/net", 0o755)
	if _, err := NewNetProbe(NetProbeConfig{ProcRoot: dir}); err != nil {
		t.Fatal(err)
	}
	p, _ := NewNetProbe(NetProbeConfig{ProcRoot: dir})
	if p.netDir != dir+"/self/net" || p.ns.Note == "" {
		t.Errorf("without /proc/1/net: %q %q", p.netDir, p.ns.Note)
	}
	if _, err := p.Read(time.Now()); err == nil {
		t.Error("no /proc/net/dev must be an error")
	}
	os.WriteFile(dir+"/self/net/dev", []byte("Inter-|\n face |\n  lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"), 0o644)
	p.Read(time.Unix(0, 0))
	n, err := p.Read(time.Unix(1, 0))
	if err != nil || len(n.Interfaces) != 1 {
		t.Fatalf("%v %+v", err, n)
	}
	if n.TCP != nil || n.Unavailable["tcp"] == "" || n.Unavailable["udp6"] == "" || n.Unavailable["sockets"] == "" {
		t.Errorf("missing snmp/sockets not reported: %+v", n.Unavailable)
	}
}

func TestParseHexAddrPort(t *testing.T) {
	skipBigEndian(t)
	for in, want := range map[string]string{
		"0100007F:0016":                         "127.0.0.1:22",
		"00000000:0000":                         "0.0.0.0:0",
		"0000000000000000FFFF00000100007F:1F90": "[::ffff:127.0.0.1]:8080",
		"00000000000000000000000001000000:0277": "[::1]:631",
		"B80D0120000000000000000001000000:01BB": "[2001:db8::1]:443",
		"000080FE00000000FF005450B6AD1DFE:0222": "[fe80::5054:ff:fe1d:adb6]:546",
	} {
		got, ok := parseHexAddrPort([]byte(in))
		if !ok || got != netip.MustParseAddrPort(want) {
			t.Errorf("%s → %v %v, want %s", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "0100007F", "0100007F:16", "0100007G:0016", "01007F:0016", "0100007F:00016"} {
		if _, ok := parseHexAddrPort([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestSocketInode(t *testing.T) {
	for in, want := range map[string]uint64{"socket:[12345]": 12345, "socket:[0]": 0} {
		if v, ok := socketInode([]byte(in)); !ok || v != want {
			t.Errorf("%s → %d %v", in, v, ok)
		}
	}
	for _, bad := range []string{"pipe:[1]", "socket:[]", "socket:[12", "/dev/null", "socket:[1a]"} {
		if _, ok := socketInode([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzParseNetDev(f *testing.F) {
	for _, s := range []string{"Inter-|\n face |\n  lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "eth0:1 2\n", ":::\n", "a|b: 1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		parseNetDev(b, func(name []byte, c *devCounters) {
			if len(name) == 0 {
				t.Fatal("empty interface name")
			}
		})
	})
}

func FuzzParseSNMP(f *testing.F) {
	for _, path := range []string{"testdata/net-proc/1/net/snmp", "testdata/net-proc/1/net/netstat", "testdata/net-proc/1/net/snmp6", "testdata/net-proc/1/net/sockstat"} {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Tcp: A B\nTcp: 1\nUdp: X\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseSNMPTable(b, func(prefix, name []byte, v uint64, ok bool) {
			if len(name) == 0 {
				t.Fatal("empty counter name")
			}
		})
		parseSNMP6(b, func([]byte, uint64) {})
		parseSockstat(b, func([]byte, []byte, uint64) {})
	})
}

func FuzzParseSockTable(f *testing.F) {
	for _, path := range []string{"testdata/net-proc/1/net/tcp", "testdata/net-proc/1/net/tcp6", "testdata/net-proc/1/net/udp"} {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		parseSockTable(b, func(e *sockEntry) {
			if e.state >= tcpStateCount {
				t.Fatalf("state %d", e.state)
			}
			_ = e.local.String()
		})
		socketInode(b)
	})
}

// The per-interval cost without a socket panel open: the frame's own
// interface slice and maps, nothing per line of the files.
func BenchmarkNetRead(b *testing.B) {
	d := &model.Demand{}
	p, err := NewNetProbe(NetProbeConfig{ProcRoot: "testdata/net-proc", SysRoot: "testdata/net-sys", Demand: d})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1000, 0)
	p.Read(now)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now = now.Add(time.Second)
		if _, err := p.Read(now); err != nil {
			b.Fatal(err)
		}
	}
}

// While no view lists sockets, the tables (a walk of the kernel's socket
// hash each) are read every socketTablesEvery; the totals by state in
// between are the last read's, with their age.
func TestNetSocketTablesEvery10s(t *testing.T) {
	skipBigEndian(t)
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("testdata/net-proc")); err != nil {
		t.Fatal(err)
	}
	p, err := NewNetProbe(NetProbeConfig{ProcRoot: root, SysRoot: "testdata/net-sys", Demand: &model.Demand{}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	p.Read(t0)
	n, _ := p.Read(t0.Add(time.Second))
	listen := n.Sockets.TCPStates["listen"]
	if listen == 0 || n.Sockets.TablesAgeS != 1 {
		t.Fatalf("listen %d age %v, want the first read's, 1 s old", listen, n.Sockets.TablesAgeS)
	}
	// One listener fewer: not seen until the tables are read again.
	tcp := filepath.Join(root, "1/net/tcp")
	b, err := os.ReadFile(tcp)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(tcp, []byte(lines[0]+strings.Join(lines[2:], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	n, _ = p.Read(t0.Add(5 * time.Second))
	if n.Sockets.TCPStates["listen"] != listen || n.Sockets.TablesAgeS != 5 {
		t.Errorf("at 5 s: listen %d age %v, want %d and 5", n.Sockets.TCPStates["listen"], n.Sockets.TablesAgeS, listen)
	}
	n, _ = p.Read(t0.Add(11 * time.Second))
	if n.Sockets.TCPStates["listen"] != listen-1 || n.Sockets.TablesAgeS != 0 {
		t.Errorf("at 11 s: listen %d age %v, want %d read afresh", n.Sockets.TCPStates["listen"], n.Sockets.TablesAgeS, listen-1)
	}
}
