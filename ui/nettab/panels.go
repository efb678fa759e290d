package nettab

import (
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

func (t *Tab) panelBar() string {
	var b strings.Builder
	b.WriteString(t.Label("v: "))
	for i, name := range panelNames {
		if panel(i) == t.panel {
			b.WriteString(t.Ctx.Styles.TabActive.Render(" " + name + " "))
		} else {
			b.WriteString(t.Label(" " + name + " "))
		}
	}
	return b.String()
}

// panelView is the lower panel, h lines starting top lines down.
func (t *Tab) panelView(n *model.Net, top, h int) []string {
	if h <= 0 {
		return nil
	}
	out := []string{t.panelBar()}
	if h == 1 {
		return out
	}
	h--
	switch t.panel {
	case panelConnections:
		out = append(out, t.connectionsView(n, h)...)
	case panelListeners:
		out = append(out, t.listenersView(n, h)...)
	case panelRetransmits:
		out = append(out, t.retransmitsView(n, h)...)
	case panelProcesses:
		note := t.ownersNote(n)
		out = append(out, note)
		if h > 1 {
			out = append(out, t.TableLines(top+2, h-1)...)
		}
	default:
		out = append(out, t.errorsView(n, h)...)
	}
	return out
}

// ownersNote says how sockets were mapped to processes, and what is
// missing without eBPF.
func (t *Tab) ownersNote(n *model.Net) string {
	l := t.Label
	o := n.Owners
	if o == nil {
		return l("owners " + common.Dash + " (" + common.WhyUnavailable(n.Unavailable, "owners") + ")")
	}
	text := "owners from /proc/PID/fd of " + strconv.Itoa(o.Processes) + " processes"
	if o.Unreadable > 0 {
		text += " (" + strconv.Itoa(o.Unreadable) + " not readable: needs root)"
	}
	text += ", every " + strconv.FormatFloat(max(o.IntervalS, 1), 'f', 0, 64) + " s · " + payloadNote(n)
	return l(text)
}

// payloadNote says what the per-process byte rates count and how far
// their sum is from the interface counters, or why they are missing.
func payloadNote(n *model.Net) string {
	pp := n.PerProcess
	if pp == nil {
		return "per-process bytes/s: n/a (" + common.WhyUnavailable(n.Unavailable, "per_process_bytes") + ")"
	}
	text := "per-process bytes/s: socket payload (no headers, no ACKs), sum tx " + common.Bytes(uint64(pp.Totals.PayloadTxBytesPerS)) +
		"/s rx " + common.Bytes(uint64(pp.Totals.PayloadRxBytesPerS)) + "/s"
	if tx, rx := pp.Totals.InterfaceTxBytesPerS, pp.Totals.InterfaceRxBytesPerS; tx.OK && rx.OK {
		text += " vs interfaces tx " + common.Bytes(uint64(tx.V)) + "/s rx " + common.Bytes(uint64(rx.V)) + "/s"
	}
	if d := pp.DroppedProcCounts; d > 0 {
		text += " · " + strconv.FormatUint(d, 10) + " counts lost (map full)"
	}
	if ev := n.TCPEvents; ev != nil && lostEvents(ev.Loss) > 0 {
		text += " · retransmit events lost " + strconv.FormatUint(lostEvents(ev.Loss), 10)
	}
	return text
}

// hostPort is addr:port as ss prints it, with an IPv4-mapped IPv6
// address (::ffff:a.b.c.d on a tcp6/udp6 socket) shown as the IPv4
// address it is, to save width.
func hostPort(addr string, port uint16) string {
	addr = strings.TrimPrefix(addr, "::ffff:")
	if strings.IndexByte(addr, ':') >= 0 {
		addr = "[" + addr + "]"
	}
	return model.Sanitize(addr) + ":" + strconv.Itoa(int(port))
}

func ownerText(o model.SocketOwner) (pid, comm string) {
	if o.PID == nil {
		return common.Dash, ""
	}
	comm = model.Sanitize(o.Comm)
	if o.Others > 0 {
		comm += " (+" + strconv.Itoa(o.Others) + ")"
	}
	return strconv.Itoa(int(*o.PID)), comm
}

// window returns the rows [scroll, scroll+h) of n rows, clamping scroll.
func (t *Tab) window(n, h int) (from, to int) {
	t.scroll = min(t.scroll, max(0, n-h))
	from = t.scroll
	return from, min(n, from+h)
}

func (t *Tab) connectionsView(n *model.Net, h int) []string {
	s := t.Ctx.Styles
	if n.Connections == nil {
		return []string{t.Label("connections " + common.Dash + " (" + common.WhyUnavailable(n.Unavailable, "connections") + ")")}
	}
	// SEND-Q only where it does not squeeze the addresses.
	sendQ := t.Width >= 110
	fixed := 6 + 11 + 8 + 10
	if sendQ {
		fixed += 7
	}
	addrW := max(15, min(46, (t.Width-fixed)/2-1))
	head := common.Fit("PROTO", 6) + common.Fit("LOCAL", addrW+1) + common.Fit("REMOTE", addrW+1) + common.Fit("STATE", 11)
	if sendQ {
		head += common.FitRight("SEND-Q", 7)
	}
	head += common.FitRight("PID", 8) + " COMMAND"
	out := []string{t.ownersNote(n), s.TableHeader.Render(head)}
	rows := h - len(out)
	if rows <= 0 {
		return out[:h]
	}
	if len(n.Connections) == 0 {
		return append(out, t.Label("no connections"))
	}
	from, to := t.window(len(n.Connections), rows)
	for i := from; i < to; i++ {
		c := &n.Connections[i]
		pid, comm := ownerText(c.SocketOwner)
		state := common.Fit(c.State, 11)
		if c.State == "close-wait" {
			state = s.Warning.Render(state)
		}
		row := common.Fit(c.Proto, 6) + common.Fit(hostPort(c.LocalAddr, c.LocalPort), addrW+1) +
			common.Fit(hostPort(c.RemoteAddr, c.RemotePort), addrW+1) + state
		if sendQ {
			row += common.FitRight(strconv.FormatUint(c.TxQueue, 10), 7)
		}
		out = append(out, row+common.FitRight(pid, 8)+" "+comm)
	}
	if n.ConnectionsTotal > len(n.Connections) && len(out) > 1 {
		out[1] += t.Label("  (" + strconv.Itoa(len(n.Connections)) + " of " + strconv.Itoa(n.ConnectionsTotal) + ", problem states first)")
	}
	return out
}

func (t *Tab) listenersView(n *model.Net, h int) []string {
	s := t.Ctx.Styles
	if n.Listening == nil {
		return []string{t.Label("listeners " + common.Dash + " (" + common.WhyUnavailable(n.Unavailable, "listening") + ")")}
	}
	head := common.Fit("PROTO", 6) + common.Fit("ADDRESS:PORT", 30) + common.FitRight("QUEUE", 7) + common.FitRight("UID", 7) + common.FitRight("PID", 8) + " COMMAND"
	out := []string{t.ownersNote(n), s.TableHeader.Render(head)}
	rows := h - len(out)
	if rows <= 0 {
		return out[:h]
	}
	if len(n.Listening) == 0 {
		return append(out, t.Label("no listening sockets"))
	}
	from, to := t.window(len(n.Listening), rows)
	for i := from; i < to; i++ {
		l := &n.Listening[i]
		pid, comm := ownerText(l.SocketOwner)
		out = append(out, common.Fit(l.Proto, 6)+common.Fit(hostPort(l.Address, l.Port), 30)+
			common.FitRight(strconv.FormatUint(l.Queue, 10), 7)+common.FitRight(strconv.FormatUint(uint64(l.UID), 10), 7)+
			common.FitRight(pid, 8)+" "+comm)
	}
	return out
}

// errorsView is sar -n EDEV: every error counter of every interface.
func (t *Tab) errorsView(n *model.Net, h int) []string {
	s := t.Ctx.Styles
	cols := []ifColumn{
		{"rxerr/s", 8, func(i *model.NetInterface) string { return optRate(i.RxErrorsPerS) }},
		{"txerr/s", 8, func(i *model.NetInterface) string { return optRate(i.TxErrorsPerS) }},
		{"coll/s", 7, func(i *model.NetInterface) string { return optRate(i.CollisionsPerS) }},
		{"rxdrop/s", 9, func(i *model.NetInterface) string { return optRate(i.RxDropsPerS) }},
		{"txdrop/s", 9, func(i *model.NetInterface) string { return optRate(i.TxDropsPerS) }},
		{"txcarr/s", 9, func(i *model.NetInterface) string { return optRate(i.TxCarrierPerS) }},
		{"rxfram/s", 9, func(i *model.NetInterface) string { return optRate(i.RxFramePerS) }},
		{"rxfifo/s", 9, func(i *model.NetInterface) string { return optRate(i.RxFIFOPerS) }},
		{"txfifo/s", 9, func(i *model.NetInterface) string { return optRate(i.TxFIFOPerS) }},
		{"rxcmp/s", 8, func(i *model.NetInterface) string { return optRate(i.RxCompressedPerS) }},
		{"txcmp/s", 8, func(i *model.NetInterface) string { return optRate(i.TxCompressedPerS) }},
	}
	var hb strings.Builder
	nameW := t.ifNameWidth()
	hb.WriteString(common.Fit("IFACE", nameW))
	for _, c := range cols {
		hb.WriteString(common.FitRight(c.title, c.width))
	}
	out := []string{s.TableHeader.Render(hb.String())}
	from, to := t.window(len(n.Interfaces), h-1)
	for i := from; i < to; i++ {
		ifc := &n.Interfaces[i]
		var b strings.Builder
		b.WriteString(common.Fit(model.Sanitize(ifc.Name), nameW))
		for _, c := range cols {
			b.WriteString(common.FitRight(c.value(ifc), c.width))
		}
		out = append(out, b.String())
	}
	return out
}
