package probes

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// On the real machine: traffic between two network namespaces that the
// test creates, joined by a veth pair, and a listener on loopback. Only
// loopback and the test's own namespaces are ever targets.

// udpFrameOverhead is what a UDP datagram adds on a veth (Ethernet 14 +
// IPv4 20 + UDP 8): /proc/net/dev counts whole frames.
const udpFrameOverhead = 42

// vethNamespaces creates namespaces <id>a and <id>b joined by veth
// <id>a/<id>b with 10.231.0.1/30 and .2, IPv6 off (no router or
// neighbour solicitations in the counts). t.Cleanup removes them, even
// when the test fails half-way.
type vethNamespaces struct{ a, b, addrA, addrB string }

func newVethNamespaces(t *testing.T) vethNamespaces {
	t.Helper()
	if testing.Short() {
		t.Skip("creates network namespaces and moves traffic for a few seconds")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	lookTool(t, "ip", "iproute2")
	var r [3]byte
	rand.Read(r[:])
	id := "vt" + hex.EncodeToString(r[:])
	v := vethNamespaces{a: id + "a", b: id + "b", addrA: "10.231.0.1", addrB: "10.231.0.2"}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{v.a, v.b} {
		ip("netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		ip("netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	}
	ip("link", "add", v.a, "type", "veth", "peer", "name", v.b)
	t.Cleanup(func() { exec.Command("ip", "link", "del", v.a).Run() }) // if it never moved
	ip("link", "set", v.a, "netns", v.a)
	ip("link", "set", v.b, "netns", v.b)
	ip("-n", v.a, "addr", "add", v.addrA+"/30", "dev", v.a)
	ip("-n", v.b, "addr", "add", v.addrB+"/30", "dev", v.b)
	ip("-n", v.a, "link", "set", v.a, "up")
	ip("-n", v.b, "link", "set", v.b, "up")
	return v
}

// netHelper is a child of the test binary running in a namespace, driven
// by lines on its stdin (see TestNetHelperProcess).
type netHelper struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	pid int
}

func startNetHelper(t *testing.T, ns, role string) *netHelper {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestNetHelperProcess$")
	cmd.Env = append(os.Environ(), "VITALS_NET_HELPER="+role)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &netHelper{cmd: cmd, in: in, out: bufio.NewReader(outPipe)}
	t.Cleanup(func() { in.Close(); cmd.Process.Kill(); cmd.Wait() })
	line := h.ask(t, "")
	pid, err := strconv.Atoi(strings.TrimPrefix(line, "ready "))
	if err != nil {
		t.Fatalf("helper %s: %q", role, line)
	}
	h.pid = pid
	return h
}

// ask sends a command (none when empty) and returns the reply line.
func (h *netHelper) ask(t *testing.T, command string) string {
	t.Helper()
	if command != "" {
		fmt.Fprintln(h.in, command)
	}
	line, err := h.out.ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	return strings.TrimSpace(line)
}

// TestNetHelperProcess is the namespaced child: "recv ADDR" counts the
// UDP payload bytes it receives and answers "count" with the total;
// "send ADDR" answers "burst N SIZE" and "steady PER_S SIZE SECONDS" with
// what it sent once done.
func TestNetHelperProcess(t *testing.T) {
	role := os.Getenv("VITALS_NET_HELPER")
	if role == "" {
		return // only a child the namespace tests start does anything: not a skip
	}
	kind, addr, _ := strings.Cut(role, " ")
	stdin := bufio.NewScanner(os.Stdin)
	switch kind {
	case "recv":
		conn, err := net.ListenPacket("udp4", addr)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		total := make(chan int64)
		ask := make(chan bool)
		go func() {
			buf := make([]byte, 65536)
			var n int64
			for {
				conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
				m, _, err := conn.ReadFrom(buf)
				if err == nil {
					n += int64(m)
					continue
				}
				select {
				case <-ask:
					total <- n
				default:
				}
			}
		}()
		fmt.Println("ready", os.Getpid())
		for stdin.Scan() {
			ask <- true
			fmt.Println(<-total)
		}
	case "send":
		conn, err := net.Dial("udp4", addr)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("ready", os.Getpid())
		for stdin.Scan() {
			f := strings.Fields(stdin.Text())
			num := func(i int) int { v, _ := strconv.Atoi(f[i]); return v }
			switch f[0] {
			case "burst":
				n, size := num(1), num(2)
				payload := make([]byte, size)
				sent := 0
				for i := 0; i < n; i++ {
					if _, err := conn.Write(payload); err == nil {
						sent++
					}
					if i%50 == 49 {
						time.Sleep(2 * time.Millisecond) // let the receiver keep up
					}
				}
				fmt.Println(sent)
			case "steady":
				perS, size, secs := num(1), num(2), num(3)
				payload := make([]byte, size)
				sent := 0
				start := time.Now()
				for time.Since(start) < time.Duration(secs)*time.Second {
					// Pace in 10 ms slots so every second carries perS.
					due := int(time.Since(start).Seconds()*float64(perS)) + 1
					for sent < due {
						conn.Write(payload)
						sent++
					}
					time.Sleep(time.Millisecond)
				}
				fmt.Println(sent)
			}
		}
	}
	os.Exit(0)
}

// The byte and packet rates of the veth ends are exactly what the sender
// put on the wire in the window, on the right interface of the right
// namespace; the sender's socket is listed with its pid.
func TestNetVethExactBytes(t *testing.T) {
	v := newVethNamespaces(t)
	recv := startNetHelper(t, v.b, "recv "+v.addrB+":9000")
	send := startNetHelper(t, v.a, "send "+v.addrB+":9000")
	send.ask(t, "burst 1 100") // resolve ARP before the window opens
	time.Sleep(100 * time.Millisecond)
	recv.ask(t, "count")

	pa, err := NewNetProbe(NetProbeConfig{NetPID: strconv.Itoa(send.pid)})
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := NewNetProbe(NetProbeConfig{NetPID: strconv.Itoa(recv.pid)})
	if pa.netDir != "/proc/"+strconv.Itoa(send.pid)+"/net" {
		t.Fatalf("reads %s", pa.netDir)
	}
	t0 := time.Now()
	pa.Read(t0)
	pb.Read(t0)
	before, _ := strconv.ParseInt(recv.ask(t, "count"), 10, 64)
	const n, size = 1000, 1000
	if got := send.ask(t, fmt.Sprintf("burst %d %d", n, size)); got != strconv.Itoa(n) {
		t.Fatalf("sent %s of %d", got, n)
	}
	time.Sleep(100 * time.Millisecond)
	after, _ := strconv.ParseInt(recv.ask(t, "count"), 10, 64)
	t1 := t0.Add(2 * time.Second) // any window: the counts are what matter
	na, err := pa.Read(t1)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := pb.Read(t1)
	if err != nil {
		t.Fatal(err)
	}
	wire := float64(n * (size + udpFrameOverhead))
	a, b := na.Interface(v.a), nb.Interface(v.b)
	if a == nil || b == nil {
		t.Fatalf("veth ends missing: %+v / %+v", na.Interfaces, nb.Interfaces)
	}
	if na.Interface(v.b) != nil || nb.Interface(v.a) != nil {
		t.Error("an interface of the other namespace was listed")
	}
	t.Logf("sent %d × %d B; %s tx %.0f B/s, %s rx %.0f B/s over 2 s; receiver got %d payload bytes",
		n, size, v.a, a.TxBytesPerS.V, v.b, b.RxBytesPerS.V, after-before)
	wantRate(t, v.a+" tx bytes/s", a.TxBytesPerS, wire/2)
	wantRate(t, v.a+" tx packets/s", a.TxPacketsPerS, n/2)
	wantRate(t, v.a+" tx avg packet", a.TxAvgPacketBytes, size+udpFrameOverhead)
	wantRate(t, v.b+" rx bytes/s", b.RxBytesPerS, wire/2)
	wantRate(t, v.a+" rx bytes/s", a.RxBytesPerS, 0)
	wantRate(t, "udp out/s in "+v.a, na.UDP.OutDatagramsPerS, n/2)
	if after-before != n*size {
		// Received payload must match unless the receive buffer overflowed,
		// which the receiver's namespace then counts.
		wantRate(t, "udp rcvbuf errors/s in "+v.b, nb.UDP.RcvbufErrorsPerS, float64(n*size-int(after-before))/size/2)
	}
	// The sender's connected socket, with its pid.
	found := false
	for _, c := range na.Connections {
		if c.Proto == "udp" && c.RemoteAddr == v.addrB && c.RemotePort == 9000 {
			found = c.PID != nil && int(*c.PID) == send.pid
			t.Logf("sender socket %s:%d → %s:%d owned by %v (%s)", c.LocalAddr, c.LocalPort, c.RemoteAddr, c.RemotePort, send.pid, c.Comm)
		}
	}
	if !found {
		t.Errorf("the sender's socket (pid %d) is not listed with its pid: %+v", send.pid, na.Connections)
	}
	for _, l := range nb.Listening {
		if l.Proto == "udp" && l.Port == 9000 && (l.PID == nil || int(*l.PID) != recv.pid) {
			t.Errorf("receiver's socket owner %v, want %d", l.PID, recv.pid)
		}
	}
}

// sar -n DEV 1 1 and nstat over the same second as the probe, with a
// steady flow across the veth pair.
func TestNetVethAgainstSarAndNstat(t *testing.T) {
	v := newVethNamespaces(t)
	lookTool(t, "sar", "sysstat")
	lookTool(t, "nstat", "iproute2")
	recv := startNetHelper(t, v.b, "recv "+v.addrB+":9000")
	send := startNetHelper(t, v.a, "send "+v.addrB+":9000")
	send.ask(t, "burst 1 100")
	const perS, size = 4000, 1000
	fmt.Fprintf(send.in, "steady %d %d 4\n", perS, size)
	time.Sleep(1200 * time.Millisecond) // past the first pacing second

	history := t.TempDir() + "/nstat"
	env := append(os.Environ(), "LC_ALL=C", "NSTAT_HISTORY="+history)
	// nstat's own window: between the middles of its two runs.
	nstat := func(args ...string) (string, time.Time) {
		start := time.Now()
		cmd := exec.Command("ip", append([]string{"netns", "exec", v.a, "nstat"}, args...)...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("nstat: %v", err)
		}
		return string(out), start.Add(time.Since(start) / 2)
	}
	sar := exec.Command("ip", "netns", "exec", v.a, "sar", "-n", "DEV", "1", "1")
	sar.Env = env
	var sarOut bytes.Buffer
	sar.Stdout = &sarOut
	p, _ := NewNetProbe(NetProbeConfig{NetPID: strconv.Itoa(send.pid)})
	if err := sar.Start(); err != nil {
		t.Fatal(err)
	}
	_, n0 := nstat("-n") // baseline into the history file
	t0 := time.Now()
	p.Read(t0)
	time.Sleep(time.Second)
	out, n1 := nstat("-z")
	t1 := time.Now()
	n, err := p.Read(t1)
	if err != nil {
		t.Fatal(err)
	}
	if err := sar.Wait(); err != nil {
		t.Fatalf("sar: %v", err)
	}
	send.ask(t, "")
	_ = recv

	a := n.Interface(v.a)
	sarRow := sarDevRow(t, sarOut.String(), v.a)
	// sar: rxpck/s txpck/s rxkB/s txkB/s (kB = 1024 bytes)
	sarTxPck, sarTxKB := sarRow[1], sarRow[3]
	nstatUDPOut := nstatValue(out, "UdpOutDatagrams")
	nstatOctets := nstatValue(out, "IpExtOutOctets")
	window := n1.Sub(n0).Seconds()
	t.Logf("steady %d datagrams/s of %d B (%.0f B/s on the wire)", perS, size, float64(perS*(size+udpFrameOverhead)))
	t.Logf("txpck/s: vitals %.1f  sar %.1f", a.TxPacketsPerS.V, sarTxPck)
	t.Logf("txkB/s:  vitals %.1f  sar %.1f", a.TxBytesPerS.V/1024, sarTxKB)
	t.Logf("UDP out/s: vitals %.1f  nstat %.1f (UdpOutDatagrams %.0f over ~%.2f s)", n.UDP.OutDatagramsPerS.V, nstatUDPOut/window, nstatUDPOut, window)
	t.Logf("IP out octets/s (nstat IpExtOutOctets) %.0f vs vitals tx bytes/s minus 14 B Ethernet header per packet %.0f",
		nstatOctets/window, a.TxBytesPerS.V-14*a.TxPacketsPerS.V)
	t.Logf("windows: vitals %.3f s, nstat %.3f s, sar its own 1 s started with the probe's", t1.Sub(t0).Seconds(), window)
	within := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol*want {
			t.Errorf("%s: vitals %.1f, reference %.1f (more than %.0f%% apart)", what, got, want, tol*100)
		}
	}
	// The windows are the same second to within the tools' start-up (a few
	// ms) on a noisy machine: 10 %.
	within("txpck/s vs sar", a.TxPacketsPerS.V, sarTxPck, 0.10)
	within("txkB/s vs sar", a.TxBytesPerS.V/1024, sarTxKB, 0.10)
	within("udp out/s vs nstat", n.UDP.OutDatagramsPerS.V, nstatUDPOut/window, 0.10)
	within("txpck/s vs the sender's pace", a.TxPacketsPerS.V, perS, 0.10)
}

// sarDevRow is the Average line's numbers for iface.
func sarDevRow(t *testing.T, out, iface string) []float64 {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 10 && f[0] == "Average:" && f[1] == iface {
			var v []float64
			for _, s := range f[2:] {
				x, _ := strconv.ParseFloat(s, 64)
				v = append(v, x)
			}
			return v
		}
	}
	t.Fatalf("no %s in sar output:\n%s", iface, out)
	return nil
}

func nstatValue(out, name string) float64 {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}

// A listener and a connection the test opens on loopback are listed with
// the test's pid (its own process: no root needed).
func TestNetLoopbackListenerHasPID(t *testing.T) {
	if _, err := os.Stat("/proc/self/net/tcp"); err != nil {
		t.Skip("no /proc/net here")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	udp, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	defer udp.Close()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// Our own namespace: as root that is the init one's only if we run
	// in it, so read ours.
	p, _ := NewNetProbe(NetProbeConfig{NetPID: "self"})
	now := time.Now()
	p.Read(now)
	n, err := p.Read(now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	me := int32(os.Getpid())
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	udpPort := uint16(udp.LocalAddr().(*net.UDPAddr).Port)
	var tcpL, udpL *model.Listener
	for i := range n.Listening {
		l := &n.Listening[i]
		if l.Proto == "tcp" && l.Port == port && l.Address == "127.0.0.1" {
			tcpL = l
		}
		if l.Proto == "udp6" && l.Port == udpPort && l.Address == "::1" {
			udpL = l
		}
	}
	if tcpL == nil || tcpL.PID == nil || *tcpL.PID != me || tcpL.Comm == "" {
		t.Fatalf("listener 127.0.0.1:%d with pid %d: %+v", port, me, tcpL)
	}
	if udpL == nil || udpL.PID == nil || *udpL.PID != me {
		t.Errorf("UDP [::1]:%d with pid %d: %+v", udpPort, me, udpL)
	}
	ends := 0
	for _, c := range n.Connections {
		if c.State == "estab" && (c.LocalPort == port || c.RemotePort == port) && c.LocalAddr == "127.0.0.1" {
			if c.PID == nil || *c.PID != me {
				t.Errorf("connection end %+v not ours", c)
			}
			ends++
		}
	}
	if ends != 2 {
		t.Errorf("%d ends of the loopback connection listed, want 2", ends)
	}
	t.Logf("listener 127.0.0.1:%d pid %d comm %q; owners walk: %+v", port, *tcpL.PID, tcpL.Comm, *n.Owners)
}
