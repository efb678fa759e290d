package nettab

import (
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// Thresholds at which the tab says something in words.
const (
	// softirqPackets: tens of thousands of packets per second on one
	// interface keep a CPU busy in NET_RX softirq.
	softirqPackets = 20000.0
	// floodPackets and floodAvgBytes: the seeds' rule of thumb, rxpck/s
	// above a few thousand with tiny packets can be a flood.
	floodPackets  = 3000.0
	floodAvgBytes = 100.0
	linkNearPct   = 80.0 // %ifutil
	retransPct    = 2.0  // retransmitted share of segments sent
	retransMin    = 10.0 // per second, so a few retransmits of an idle host stay quiet
	closeWaitWarn = 20   // sockets in CLOSE-WAIT
	resetsWarn    = 5.0  // established connections reset per second
	failsWarn     = 5.0  // connection attempts failing per second
)

// Alerts returns the network thresholds crossed, in words, the most
// serious first. netRX is the NET_RX softirq rate per CPU, or nil.
func Alerts(n *model.Net, netRX []cpuRate) []string {
	if n == nil {
		return nil
	}
	// By priority: what points at the culprit first (a flood, a leak, a
	// full queue, loss), then what follows from it.
	var first, second, third, rest []string
	for i := range n.Interfaces {
		first, third = appendInterfaceAlerts(first, third, &n.Interfaces[i], netRX)
	}
	if s := n.Sockets; s != nil && s.TCPStates["close-wait"] >= closeWaitWarn {
		// The culprit first: at 80 columns the line is cut.
		msg := strconv.Itoa(s.TCPStates["close-wait"]) + " CLOSE-WAIT sockets"
		if who := topCloseWait(n); who != "" {
			msg += " (most: " + who + ")"
		}
		msg += ": an application is not closing connections its peers closed"
		second = append(second, msg)
	}
	if msg := retransmitAlert(n); msg != "" {
		second = append(second, msg)
	}
	if tcp := n.TCP; tcp != nil {
		if ovf, drop := tcp.ListenOverflowsPS.Or(0), tcp.ListenDropsPerS.Or(0); ovf > 0 || drop > 0 {
			second = append(second, "listen overflows "+rate(ovf)+" drops "+rate(drop)+": an accept queue is full (the application accepts too slowly, or its backlog is small; v: listeners QUEUE)")
		}
		if tcp.RetransPct.OK && tcp.RetransPct.V >= retransPct && tcp.RetransSegsPerS.Or(0) >= retransMin {
			second = append(second, "TCP retransmits "+common.Pct(tcp.RetransPct.V)+"% of segments ("+rate(tcp.RetransSegsPerS.V)+"): packet loss or congestion on some path")
		}
		if v := tcp.SyncookiesSentPS.Or(0); v > 0 {
			rest = append(rest, "SYN cookies sent "+rate(v)+": a SYN queue overflowed (SYN flood, or a listener far behind)")
		}
		if v := tcp.EstabResetsPerS.Or(0); v >= resetsWarn {
			rest = append(rest, "established connections reset "+rate(v)+": peers or applications aborting (RST)")
		}
		if v := tcp.AttemptFailsPerS.Or(0); v >= failsWarn {
			rest = append(rest, "connect attempts failing "+rate(v)+": refused (nothing listening) or unreachable peers")
		}
	}
	for _, u := range []struct {
		name string
		c    *model.UDPCounters
	}{{"UDP", n.UDP}, {"UDP6", n.UDP6}} {
		if u.c != nil && u.c.RcvbufErrorsPerS.Or(0) > 0 {
			rest = append(rest, u.name+" receive buffer full "+rate(u.c.RcvbufErrorsPerS.V)+": a UDP reader is too slow, datagrams dropped")
		}
	}
	return append(append(append(first, second...), third...), rest...)
}

// appendInterfaceAlerts adds an interface's packet-rate hint to out and
// its errors and link use to later.
func appendInterfaceAlerts(out, later []string, ifc *model.NetInterface, netRX []cpuRate) ([]string, []string) {
	name := model.Sanitize(ifc.Name)
	rx := ifc.RxPacketsPerS.Or(0)
	pkts := rx + ifc.TxPacketsPerS.Or(0)
	avg := ifc.RxAvgPacketBytes
	switch {
	case rx >= floodPackets && avg.OK && avg.V < floodAvgBytes:
		msg := name + ": " + common.Count(rx) + " pkt/s in, " + strconv.Itoa(int(avg.V)) + " B avg: tiny packets at that rate can be a flood"
		if pkts >= softirqPackets {
			msg += "; " + netRXText(netRX)
		}
		out = append(out, msg)
	case pkts >= softirqPackets:
		out = append(out, name+": "+common.Count(pkts)+" pkt/s: "+netRXText(netRX))
	}
	var bad []string
	for _, e := range []struct {
		what string
		v    model.Float
	}{{"rx drops", ifc.RxDropsPerS}, {"tx drops", ifc.TxDropsPerS}, {"rx errors", ifc.RxErrorsPerS}, {"tx errors", ifc.TxErrorsPerS},
		{"rx fifo", ifc.RxFIFOPerS}, {"tx fifo", ifc.TxFIFOPerS}, {"frame", ifc.RxFramePerS}, {"carrier", ifc.TxCarrierPerS}, {"collisions", ifc.CollisionsPerS}} {
		if e.v.OK && e.v.V > 0 {
			bad = append(bad, e.what+" "+rate(e.v.V))
		}
	}
	if len(bad) > 0 {
		later = append(later, name+" "+strings.Join(bad, ", ")+" (v: errors)")
	}
	if ifc.UtilPct.OK && ifc.UtilPct.V >= linkNearPct {
		later = append(later, name+" at "+strconv.Itoa(int(ifc.UtilPct.V))+"% of its "+common.Count(ifc.SpeedMbps.V)+" Mb/s link: near its speed, queues and drops follow")
	}
	return out, later
}

// netRXText points at the NET_RX softirq rates per CPU.
func netRXText(netRX []cpuRate) string {
	if len(netRX) == 0 {
		return "look at softirq NET_RX per CPU (CPU tab)"
	}
	var b strings.Builder
	b.WriteString("softirq NET_RX")
	for i, c := range netRX {
		if i == 4 {
			b.WriteString(" …")
			break
		}
		b.WriteString(" cpu" + strconv.Itoa(c.cpu) + " " + common.Count(c.perS) + "/s")
	}
	b.WriteString(" (one CPU near its limit: spread with RPS/RSS)")
	return b.String()
}

// topCloseWait names the process holding the most CLOSE-WAIT sockets
// among the connections listed.
func topCloseWait(n *model.Net) string {
	counts := map[int32]int{}
	comm := map[int32]string{}
	for _, c := range n.Connections {
		if c.State == "close-wait" && c.PID != nil {
			counts[*c.PID]++
			comm[*c.PID] = c.Comm
		}
	}
	best, most := int32(0), 0
	for pid, c := range counts {
		if c > most || (c == most && pid < best) {
			best, most = pid, c
		}
	}
	if most == 0 {
		return ""
	}
	return model.Sanitize(comm[best]) + " pid " + strconv.Itoa(int(best)) + ", " + strconv.Itoa(most)
}

// retransmitAlert names the process and the remote address behind the
// retransmits eBPF counted (every namespace, unlike /proc/net/snmp), when
// there are at least retransMin per second.
func retransmitAlert(n *model.Net) string {
	ev := n.TCPEvents
	if ev == nil || ev.RetransmitsPerS < retransMin {
		return ""
	}
	msg := "retransmits " + rate(ev.RetransmitsPerS)
	if top := topRetransmitter(n); top != nil {
		msg += " on sockets of " + model.Sanitize(top.Comm) + " pid " + strconv.Itoa(int(top.PID)) + " (" + rate(top.RetransmitsPerS) + ")"
	}
	if len(ev.ByRemote) > 0 && ev.ByRemote[0].RetransmitsPerS > 0 {
		msg += " toward " + model.Sanitize(ev.ByRemote[0].RemoteAddr)
	}
	return msg + ": packet loss on that path (v: retransmits)"
}

// topRetransmitter is the process with the most retransmits, or nil.
func topRetransmitter(n *model.Net) *model.NetProcess {
	if n.PerProcess == nil {
		return nil
	}
	var top *model.NetProcess
	for i := range n.PerProcess.Processes {
		p := &n.PerProcess.Processes[i]
		if p.RetransmitsPerS > 0 && (top == nil || p.RetransmitsPerS > top.RetransmitsPerS) {
			top = p
		}
	}
	return top
}

// rate is a per-second rate; below 10 with one decimal, so a small
// non-zero rate never reads 0.
func rate(v float64) string { return small(v) + "/s" }

func small(v float64) string {
	if v > 0 && v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return common.Count(v)
}

func (t *Tab) alerts(alerts []string, lines int) []string {
	return t.WarningLines(severities(alerts), lines, "no drops or errors, no link near its speed, no packet flood, TCP retransmits under 2%, no listen overflows, no CLOSE-WAIT pile-up")
}

// severities ranks Alerts' lines for the shared warnings area: losing
// packets or connections is saturation, the rest rules of thumb; within a
// severity Alerts' order (culprit first) is kept.
func severities(alerts []string) []common.Alert {
	out := make([]common.Alert, len(alerts))
	for i, a := range alerts {
		out[i] = common.Alert{Severity: common.Notice, Text: a}
		if isDanger(a) {
			out[i].Severity = common.Warn
		}
	}
	return out
}

// Warnings implements common.Warner: the w list.
func (t *Tab) Warnings() []common.Alert {
	if s := t.Sample(); s != nil && s.Net != nil {
		return severities(Alerts(s.Net, netRX(s)))
	}
	return nil
}

// isDanger: losing packets or connections is worse than a busy link.
func isDanger(alert string) bool {
	return strings.Contains(alert, "drops") || strings.HasPrefix(alert, "retransmits ") || strings.Contains(alert, "flood") || strings.Contains(alert, "CLOSE-WAIT")
}
