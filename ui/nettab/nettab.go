// Package nettab is the Net tab: what sar -n DEV,EDEV,TCP,ETCP, nstat,
// ss -s and ss -ltnup tell, on one screen, with the selected interface's
// history and the sockets of every process we may read.
package nettab

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/proctable"
	"github.com/vitals-dev/vitals/ui/tabbase"
)

type panel int

const (
	panelConnections panel = iota
	panelListeners
	panelProcesses
	panelRetransmits
	panelErrors
	panelCount
)

var panelNames = [panelCount]string{"connections", "listeners", "processes", "retransmits", "errors"}

// Tab is the Net tab component.
type Tab struct {
	tabbase.Base
	panel panel
	// iface is the selected interface's name; "" picks the busiest.
	iface  string
	scroll int

	// socks are this frame's socket counts by pid, for the processes
	// panel's columns.
	socks map[int32]*procSockets
	rows  []model.Process

	viewKey, ifaceKey, upKey, downKey, pgUpKey, pgDownKey key.Binding
}

// procSockets is one process's sockets among those listed.
type procSockets struct {
	tcp, listen, closeWait, udp int
}

// New builds the tab; kill is how the processes panel's kill menu signals
// processes.
func New(ctx *common.Context, kill common.KillFunc) *Tab {
	t := &Tab{
		socks:     map[int32]*procSockets{},
		viewKey:   key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "view: connections/listeners/processes/retransmits/errors")),
		ifaceKey:  key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "next interface (charts and the ▸ row)")),
		upKey:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑", "scroll")),
		downKey:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓", "scroll")),
		pgUpKey:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		pgDownKey: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
	}
	t.Base = tabbase.New(ctx, t.columns(), "tcp", kill)
	return t
}

// Capturing implements common.Component: only the processes panel takes
// typed text.
func (t *Tab) Capturing() bool { return t.panel == panelProcesses && t.Table.Capturing() }

// KeyHelp implements common.Component.
func (t *Tab) KeyHelp() []key.Binding {
	if t.panel == panelProcesses {
		return t.KeyHelpWith(t.viewKey, t.ifaceKey)
	}
	return []key.Binding{t.viewKey, t.ifaceKey, t.upKey, t.downKey, t.pgUpKey, t.pgDownKey}
}

// ShortKeyHelp implements common.ShortHelper.
func (t *Tab) ShortKeyHelp() []key.Binding {
	v := key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "view"))
	i := key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "interface"))
	if t.panel == panelProcesses {
		return t.ShortKeyHelpWith(v, i)
	}
	return []key.Binding{v, i, key.NewBinding(key.WithKeys("up"), key.WithHelp("↑↓", "scroll"))}
}

// Demand implements common.DemandReporter: socket owners are looked up
// (a walk of every /proc/PID/fd) only while a panel shows them.
func (t *Tab) Demand() model.DemandSet {
	return model.DemandSet{Sockets: t.panel != panelErrors && t.panel != panelRetransmits}
}

// Update implements common.Component.
func (t *Tab) Update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case common.SnapshotMsg:
		t.Snap = m.Snap
		t.join()
		return nil
	case tea.KeyPressMsg:
		if t.Capturing() {
			return t.Table.Update(msg)
		}
		switch {
		case key.Matches(m, t.viewKey):
			t.panel = (t.panel + 1) % panelCount
			t.scroll = 0
			return nil
		case key.Matches(m, t.ifaceKey):
			t.nextInterface()
			return nil
		}
		if t.panel != panelProcesses {
			page := max(1, t.Height/3)
			switch {
			case key.Matches(m, t.upKey):
				t.scroll--
			case key.Matches(m, t.downKey):
				t.scroll++
			case key.Matches(m, t.pgUpKey):
				t.scroll -= page
			case key.Matches(m, t.pgDownKey):
				t.scroll += page
			}
			t.scroll = max(0, t.scroll)
			return nil
		}
	}
	if t.panel == panelProcesses {
		return t.Table.Update(msg)
	}
	return nil
}

func (t *Tab) net() *model.Net {
	if s := t.Sample(); s != nil {
		return s.Net
	}
	return nil
}

// selected is the interface the charts follow: the one chosen with i, or
// else the busiest that is not loopback (when all are idle, the first that
// is up).
func (t *Tab) selected(n *model.Net) *model.NetInterface {
	if n == nil || len(n.Interfaces) == 0 {
		return nil
	}
	if ifc := n.Interface(t.iface); ifc != nil {
		return ifc
	}
	best := &n.Interfaces[0]
	bestBytes := -1.0
	for i := range n.Interfaces {
		ifc := &n.Interfaces[i]
		b := ifc.RxBytesPerS.Or(0) + ifc.TxBytesPerS.Or(0)
		switch {
		case ifc.Name == "lo":
			b = -0.5 // only when nothing else moves
		case b == 0 && ifc.OperState != "up":
			b = -0.25 // an idle link that is up before one that is down
		}
		if b > bestBytes {
			best, bestBytes = ifc, b
		}
	}
	return best
}

func (t *Tab) nextInterface() {
	n := t.net()
	cur := t.selected(n)
	if cur == nil {
		return
	}
	for i := range n.Interfaces {
		if n.Interfaces[i].Name == cur.Name {
			t.iface = n.Interfaces[(i+1)%len(n.Interfaces)].Name
			return
		}
	}
}

// join counts each process's listed sockets for the processes panel.
func (t *Tab) join() {
	clear(t.socks)
	t.rows = model.Reuse(t.rows)
	sample := t.Sample()
	n := t.net()
	if sample == nil || n == nil {
		t.Table.SetProcesses(nil)
		return
	}
	get := func(pid *int32) *procSockets {
		if pid == nil {
			return nil
		}
		ps := t.socks[*pid]
		if ps == nil {
			ps = &procSockets{}
			t.socks[*pid] = ps
		}
		return ps
	}
	for i := range n.Listening {
		if ps := get(n.Listening[i].PID); ps != nil {
			ps.listen++
		}
	}
	for i := range n.Connections {
		c := &n.Connections[i]
		ps := get(c.PID)
		if ps == nil {
			continue
		}
		if strings.HasPrefix(c.Proto, "udp") {
			ps.udp++
			continue
		}
		ps.tcp++
		if c.State == "close-wait" {
			ps.closeWait++
		}
	}
	for i := range sample.Processes {
		p := &sample.Processes[i]
		if t.socks[p.PID] != nil || p.NetTxBytesPerS.Or(0) > 0 || p.NetRxBytesPerS.Or(0) > 0 || p.NetRetransmitsPerS.Or(0) > 0 {
			t.rows = append(t.rows, sample.Processes[i])
		}
	}
	t.Table.SetProcesses(t.rows)
}

func (t *Tab) count(p *model.Process) procSockets {
	if c := t.socks[p.PID]; c != nil {
		return *c
	}
	return procSockets{}
}

func (t *Tab) columns() []proctable.Column {
	num := func(id, title, help string, get func(procSockets) int) proctable.Column {
		return proctable.Numeric(id, title, 7, func(p *model.Process) int { return get(t.count(p)) }, strconv.Itoa, help)
	}
	rate := func(id, title, help string, get func(*model.Process) model.Float) proctable.Column {
		c := proctable.OptNumeric(id, title, 7, 0, get, help)
		c.Value = func(p *model.Process) string { return common.OptBytes(get(p)) }
		return c
	}
	return []proctable.Column{
		proctable.PIDColumn(),
		proctable.UserColumn(),
		num("tcp", "TCP", "TCP connections the process holds (not listening), among those listed", func(c procSockets) int { return c.tcp }),
		num("listen", "LISTEN", "listening TCP and bound UDP sockets the process holds", func(c procSockets) int { return c.listen }),
		num("closewait", "CLOSE-W", "its TCP sockets in CLOSE-WAIT: the peer closed, the process has not; a count that keeps growing is a leak", func(c procSockets) int { return c.closeWait }),
		num("udp", "UDP", "connected UDP sockets the process holds", func(c procSockets) int { return c.udp }),
		rate("tx", "TX/s", "socket payload bytes/s the process sent (TCP+UDP; eBPF: no headers, no ACKs, no retransmissions); – without eBPF", func(p *model.Process) model.Float { return p.NetTxBytesPerS }),
		rate("rx", "RX/s", "socket payload bytes/s the process received (TCP+UDP; eBPF); – without eBPF", func(p *model.Process) model.Float { return p.NetRxBytesPerS }),
		proctable.OptNumeric("retrans", "RETR/s", 7, 1, func(p *model.Process) model.Float { return p.NetRetransmitsPerS },
			"TCP segments/s retransmitted on the process's sockets (eBPF tcp_retransmit_skb, attributed through the socket, not the CPU's current task); – without eBPF"),
		proctable.CommandColumn(),
	}
}

// cpuRate is one CPU's rate of a softirq.
type cpuRate struct {
	cpu  int
	perS float64
}

// netRX is the NET_RX softirq rate per CPU from the CPU probe, busiest
// first, or nil when it is not known.
func netRX(s *model.Sample) []cpuRate {
	if s == nil || s.CPU == nil {
		return nil
	}
	idx := -1
	for i, r := range s.CPU.SoftIRQs {
		if r.Name == "NET_RX" {
			idx = i
		}
	}
	if idx < 0 {
		return nil
	}
	out := make([]cpuRate, 0, len(s.CPU.PerCPU))
	for _, c := range s.CPU.PerCPU {
		if c.Online && idx < len(c.SoftIRQPerS) {
			out = append(out, cpuRate{c.ID, c.SoftIRQPerS[idx]})
		}
	}
	// Busiest first: the one CPU doing all the receive work is the story.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].perS > out[j-1].perS; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
