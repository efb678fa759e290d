package nettab

import (
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/chart"
	"github.com/vitals-dev/vitals/ui/common"
)

// The panel below needs a few rows to be worth drawing; the charts a title
// and a few rows.
const (
	panelMin = 4
	chartMin = 5
)

// View implements common.Component.
func (t *Tab) View() string {
	if t.Width <= 0 || t.Height <= 0 {
		return ""
	}
	sample := t.Sample()
	n := t.net()
	if n == nil {
		return common.Block([]string{t.Collecting("Net", "net", "cannot read /proc/net/dev: ")}, t.Width, t.Height)
	}
	h := t.Height
	var lines []string
	lines = append(lines, t.summaryLine(n))
	sel := t.selected(n)
	// Interfaces: as many rows as fit beside a minimal panel.
	ifRows := min(len(n.Interfaces), max(1, h-len(lines)-1-4-panelMin))
	lines = append(lines, t.interfaceTable(n, sel, ifRows)...)
	rx := netRX(sample)
	if h-len(lines) > panelMin+2 {
		lines = append(lines, t.softirqLine(rx)+t.topTalker(n))
	}
	alerts := Alerts(n, rx)
	if room := h - len(lines) - panelMin - 2; room > 0 {
		lines = append(lines, t.alerts(alerts, max(1, min(len(alerts), 3, room)))...)
	}
	if room := h - len(lines) - panelMin; room > 0 {
		tcp := t.protocolLines(n)
		lines = append(lines, tcp[:min(len(tcp), room)]...)
	}
	if ch := min(9, max(chartMin, h/5)); sel != nil && h-len(lines) >= ch+panelMin+6 {
		pace := model.NetSeries(model.NetRxBytes, sel.Name)
		lines = common.AppendLines(lines, t.CachedCharts(pace, ch, func() string { return t.charts(sel, ch) }))
	}
	if rest := h - len(lines); rest > 0 {
		lines = append(lines, t.panelView(n, len(lines), rest)...)
	}
	return common.Block(lines, t.Width, t.Height)
}

// summaryLine says whose namespace this is and sums the sockets (ss -s).
func (t *Tab) summaryLine(n *model.Net) string {
	l := t.Label
	var b strings.Builder
	ns := model.Sanitize(n.Namespace.Path)
	switch {
	case n.Namespace.Init == nil:
		ns += " (init? unknown)"
	case *n.Namespace.Init:
		ns += " (init)"
	default:
		ns += " (not init)"
	}
	b.WriteString(l(ns))
	if s := n.Sockets; s != nil {
		b.WriteString(l("  tcp ") + strconv.Itoa(s.TCP) + l(":"))
		for _, st := range []string{"estab", "close-wait", "time-wait", "listen", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2", "last-ack", "closing"} {
			if c := s.TCPStates[st]; c > 0 || st == "estab" || st == "close-wait" {
				text := strconv.Itoa(c)
				if st == "close-wait" && c >= closeWaitWarn {
					text = t.Ctx.Styles.Danger.Render(text)
				}
				b.WriteString(l(" "+st+" ") + text)
			}
		}
		b.WriteString(l("  udp ") + strconv.Itoa(s.UDP))
		if s.TCPOrphan.OK {
			b.WriteString(l("  orphan ") + common.Count(s.TCPOrphan.V))
		}
	} else {
		b.WriteString(l("  sockets " + common.Dash + " (" + common.WhyUnavailable(n.Unavailable, "sockets") + ")"))
	}
	return b.String()
}

// ifColumn is one column of the interface table.
type ifColumn struct {
	title string
	width int
	value func(*model.NetInterface) string
}

func bytesRate(v model.Float) string {
	if !v.OK {
		return common.Dash
	}
	return common.Bytes(uint64(v.V))
}

func optRate(v model.Float) string {
	if !v.OK {
		return common.Dash
	}
	return small(v.V)
}

func sum(a, b model.Float) model.Float {
	if !a.OK || !b.OK {
		return model.Unknown
	}
	return model.Known(a.V + b.V)
}

var (
	ifBase = []ifColumn{
		{"rxB/s", 7, func(i *model.NetInterface) string { return bytesRate(i.RxBytesPerS) }},
		{"txB/s", 7, func(i *model.NetInterface) string { return bytesRate(i.TxBytesPerS) }},
		{"rxpck/s", 8, func(i *model.NetInterface) string { return optRate(i.RxPacketsPerS) }},
		{"txpck/s", 8, func(i *model.NetInterface) string { return optRate(i.TxPacketsPerS) }},
		{"rxavg", 6, func(i *model.NetInterface) string { return common.OptFloat(i.RxAvgPacketBytes, 0) }},
		{"err/s", 6, func(i *model.NetInterface) string { return optRate(sum(i.RxErrorsPerS, i.TxErrorsPerS)) }},
		{"drop/s", 7, func(i *model.NetInterface) string { return optRate(sum(i.RxDropsPerS, i.TxDropsPerS)) }},
		{"%util", 6, func(i *model.NetInterface) string { return common.OptFloat(i.UtilPct, 1) }},
	}
	ifWide = []ifColumn{
		{"txavg", 6, func(i *model.NetInterface) string { return common.OptFloat(i.TxAvgPacketBytes, 0) }},
		{"rxmcst/s", 9, func(i *model.NetInterface) string { return optRate(i.RxMulticastPerS) }},
		{"speed", 7, func(i *model.NetInterface) string {
			if !i.SpeedMbps.OK {
				return common.Dash
			}
			return common.Count(i.SpeedMbps.V) + "M"
		}},
		{"duplex", 7, func(i *model.NetInterface) string { return orDash(i.Duplex) }},
	}
)

func orDash(s string) string {
	if s == "" {
		return common.Dash
	}
	return model.Sanitize(s)
}

// ifNameWidth fits the usual names (eth0, enp0s31f6) when narrow and any
// name (at most 15 bytes) when wide.
func (t *Tab) ifNameWidth() int {
	if t.Width >= 120 {
		return 18
	}
	return 11
}

func (t *Tab) interfaceColumns() []ifColumn {
	cols := ifBase
	w := t.ifNameWidth() + 6 // name and operstate
	for _, c := range cols {
		w += c.width
	}
	if t.Width >= w+40 {
		cols = append(cols[:len(cols):len(cols)], ifWide...)
	}
	return cols
}

// interfaceTable is sar -n DEV with the EDEV totals, one row per
// interface, the selected one marked.
func (t *Tab) interfaceTable(n *model.Net, sel *model.NetInterface, rows int) []string {
	s := t.Ctx.Styles
	cols := t.interfaceColumns()
	var hb strings.Builder
	nameW := t.ifNameWidth()
	hb.WriteString(common.Fit("  IFACE", nameW))
	for _, c := range cols {
		hb.WriteString(common.FitRight(c.title, c.width))
	}
	hb.WriteString(" state")
	out := []string{s.TableHeader.Render(hb.String())}
	if len(n.Interfaces) == 0 {
		return append(out, t.Label("no interfaces in "+model.Sanitize(n.Namespace.Path)+"/dev"))
	}
	// Keep the selected row on screen when not all fit.
	first := 0
	for i := range n.Interfaces {
		if sel != nil && n.Interfaces[i].Name == sel.Name && i >= rows {
			first = i - rows + 1
		}
	}
	for i := first; i < len(n.Interfaces) && i < first+rows; i++ {
		ifc := &n.Interfaces[i]
		var b strings.Builder
		mark := "  "
		if sel != nil && ifc.Name == sel.Name {
			mark = "▸ "
		}
		b.WriteString(mark + common.Fit(model.Sanitize(ifc.Name), nameW-2))
		for _, c := range cols {
			b.WriteString(common.FitRight(c.value(ifc), c.width))
		}
		b.WriteString(" " + orDash(ifc.OperState))
		out = append(out, b.String())
	}
	if hidden := len(n.Interfaces) - rows; hidden > 0 && len(out) > 1 {
		out[0] = common.Fit(out[0], t.Width-12) + t.Label(" +"+strconv.Itoa(hidden)+" more (i)")
	}
	return out
}

// softirqLine shows NET_RX per CPU beside the interface table: tens of
// thousands of packets per second land there.
func (t *Tab) softirqLine(rx []cpuRate) string {
	l := t.Label
	if len(rx) == 0 {
		return l("softirq NET_RX/s per CPU " + common.Dash + " (no per-CPU softirq rates from the CPU probe yet)")
	}
	var b strings.Builder
	b.WriteString(l("softirq NET_RX/s"))
	for _, c := range rx {
		b.WriteString(l(" cpu"+strconv.Itoa(c.cpu)+" ") + common.Count(c.perS))
	}
	return b.String()
}

// topTalker names the process moving the most socket payload (eBPF,
// every namespace), after the softirq line: the flood's or the bulk
// transfer's sender is on the default screen, whatever panel is open.
func (t *Tab) topTalker(n *model.Net) string {
	pp := n.PerProcess
	if pp == nil || len(pp.Processes) == 0 {
		return ""
	}
	p := &pp.Processes[0] // sorted by tx + rx
	// A sender and its receiver on this host move the same bytes: name
	// the sender.
	for i := 1; i < len(pp.Processes); i++ {
		q := &pp.Processes[i]
		if q.TxBytesPerS+q.RxBytesPerS < 0.95*(p.TxBytesPerS+p.RxBytesPerS) {
			break
		}
		if q.TxBytesPerS > p.TxBytesPerS {
			p = q
		}
	}
	if p.TxBytesPerS+p.RxBytesPerS < 1024 {
		return ""
	}
	return t.Label(" · top ") + model.Sanitize(p.Comm) + " " + strconv.Itoa(int(p.PID)) +
		t.Label(" tx ") + common.Bytes(uint64(p.TxBytesPerS)) + t.Label("/s rx ") + common.Bytes(uint64(p.RxBytesPerS)) + t.Label("/s")
}

// protocolLines are sar -n TCP,ETCP and UDP, and the TcpExt counters that
// name a problem, flowed into as many lines as the width needs.
func (t *Tab) protocolLines(n *model.Net) []string {
	l := t.Label
	r := optRate
	var out []string
	var line strings.Builder
	lineW := 0
	start := func(label string) {
		if lineW > 0 {
			out = append(out, line.String())
		}
		line.Reset()
		line.WriteString(l(label))
		lineW = common.Width(label)
	}
	item := func(label, value string) {
		w := 1 + common.Width(label) + 1 + common.Width(value)
		if lineW+w > t.Width && lineW > 4 {
			out = append(out, line.String())
			line.Reset()
			line.WriteString("   ")
			lineW = 3
		}
		line.WriteString(l(" "+label+" ") + value)
		lineW += w
	}
	if tcp := n.TCP; tcp != nil {
		start("tcp")
		item("active/s", r(tcp.ActiveOpensPerS))
		item("passive/s", r(tcp.PassiveOpensPerS))
		item("iseg/s", r(tcp.InSegsPerS))
		item("oseg/s", r(tcp.OutSegsPerS))
		retrans := r(tcp.RetransSegsPerS)
		if tcp.RetransPct.OK {
			retrans += l(" (") + common.Pct(tcp.RetransPct.V) + l("%)")
		}
		item("retrans/s", retrans)
		item("atmptf/s", r(tcp.AttemptFailsPerS))
		item("estres/s", r(tcp.EstabResetsPerS))
		item("orsts/s", r(tcp.OutResetsPerS))
		item("listen ovf/s", r(tcp.ListenOverflowsPS))
		item("drop/s", r(tcp.ListenDropsPerS))
		item("syncookies/s", r(tcp.SyncookiesSentPS))
		item("synretr/s", r(tcp.SynRetransPerS))
		item("timeouts/s", r(tcp.TimeoutsPerS))
		item("isegerr/s", r(tcp.InErrsPerS))
	} else {
		start("tcp " + common.Dash + " (" + common.WhyUnavailable(n.Unavailable, "tcp") + ")")
	}
	udp := func(name string, u *model.UDPCounters) {
		start(name)
		item("in/s", r(u.InDatagramsPerS))
		item("out/s", r(u.OutDatagramsPerS))
		item("noport/s", r(u.NoPortsPerS))
		item("err/s", r(u.InErrorsPerS))
		item("rcvbuf/s", r(u.RcvbufErrorsPerS))
	}
	if n.UDP != nil {
		udp("udp", n.UDP)
	}
	// udp6 takes a line of its own only when wide or when it has traffic.
	if u6 := n.UDP6; u6 != nil && (t.Width >= 160 || u6.InDatagramsPerS.Or(0)+u6.OutDatagramsPerS.Or(0)+u6.NoPortsPerS.Or(0)+u6.InErrorsPerS.Or(0) > 0) {
		if t.Width >= 160 {
			item("  udp6 in/s", r(u6.InDatagramsPerS))
			item("out/s", r(u6.OutDatagramsPerS))
			item("noport/s", r(u6.NoPortsPerS))
			item("err/s", r(u6.InErrorsPerS))
			item("rcvbuf/s", r(u6.RcvbufErrorsPerS))
		} else {
			udp("udp6", u6)
		}
	}
	if lineW > 0 {
		out = append(out, line.String())
	}
	return out
}

func (t *Tab) charts(sel *model.NetInterface, h int) string {
	s := t.Ctx.Styles
	name := model.Sanitize(sel.Name)
	series := func(metric string) []float64 { return t.Series(model.NetSeries(metric, sel.Name)) }
	top := func(vals ...[]float64) float64 {
		m := 1.0
		for _, v := range vals {
			for _, x := range v {
				m = max(m, x*1.1)
			}
		}
		return m
	}
	rxB, txB := series(model.NetRxBytes), series(model.NetTxBytes)
	rxP, txP := series(model.NetRxPackets), series(model.NetTxPackets)
	lw := t.Width / 2
	// A link of known speed fixes the bytes scale at its capacity.
	bytesMax := top(rxB, txB)
	if sel.SpeedMbps.OK {
		bytesMax = sel.SpeedMbps.V * 1e6 / 8
	}
	left := chart.Render(chart.Spec{Title: name + " bytes/s rx ━ tx ─ (max " + common.Bytes(uint64(bytesMax)) + "/s)", Width: lw, Height: h, YMin: 0, YMax: bytesMax,
		Lines: []chart.Line{{Name: "rx", Values: rxB}, {Name: "tx", Values: txB, Thin: true}}, Style: s.OK})
	right := chart.Render(chart.Spec{Title: name + " packets/s rx ━ tx ─", Width: t.Width - lw - 1, Height: h, YMin: 0, YMax: top(rxP, txP),
		Lines: []chart.Line{{Name: "rx", Values: rxP}, {Name: "tx", Values: txP, Thin: true}}, Style: s.CPUIRQ})
	return lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right)
}
