package nettab

import (
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// lostEvents is every retransmit/reset event that never reached vitals'
// counts: the ring buffer was full, the queue was full, or undecodable.
func lostEvents(l model.EventLoss) uint64 { return l.KernelDropped + l.QueueDropped + l.Malformed }

// retransmitsView is the TCP retransmit and reset events (eBPF): this
// interval's counts, the processes and remote addresses with the most, and
// the recent events, newest first.
func (t *Tab) retransmitsView(n *model.Net, h int) []string {
	l := t.Label
	s := t.Ctx.Styles
	ev := n.TCPEvents
	if ev == nil {
		return []string{l("retransmit events " + common.Dash + " (" + common.WhyUnavailable(n.Unavailable, "retransmits") + ")")}
	}
	var b strings.Builder
	b.WriteString(l("retrans/s ") + small(ev.RetransmitsPerS) + l(" rst sent/s ") + small(ev.ResetsSentPerS) +
		l(" rst recv/s ") + small(ev.ResetsReceivedPerS) + l(" no owner/s ") + small(ev.UnattributedPerS))
	if lost := lostEvents(ev.Loss); lost > 0 {
		b.WriteString(" " + s.Danger.Render("lost "+strconv.FormatUint(lost, 10)))
	} else {
		b.WriteString(l(" lost 0"))
	}
	out := []string{b.String()}
	// Top talkers: the processes, then the remote addresses, one line each.
	var procs []string
	if n.PerProcess != nil {
		procs = topRetransmitters(n.PerProcess.Processes, 3)
	}
	top := l("by process ")
	if len(procs) == 0 {
		top += l("none")
	} else {
		top += strings.Join(procs, l(" · "))
	}
	out = append(out, top)
	remotes := l("by remote ")
	if len(ev.ByRemote) == 0 {
		remotes += l("none")
	}
	for i, r := range ev.ByRemote {
		if i == 3 {
			break
		}
		if i > 0 {
			remotes += l(" · ")
		}
		remotes += model.Sanitize(r.RemoteAddr) + " " + small(r.RetransmitsPerS)
		if r.ResetsPerS > 0 {
			remotes += l(" rst ") + small(r.ResetsPerS)
		}
	}
	out = append(out, remotes)
	// The local address (ours) only when wide: the remote one is the story.
	withLocal := t.Width >= 110
	addrW := max(21, min(46, t.Width-9-8-11-7-16))
	if withLocal {
		addrW = min(46, (t.Width-9-8-11-7-16)/2-1)
	}
	head := common.Fit("TIME", 9) + common.Fit("KIND", 8)
	if withLocal {
		head += common.Fit("LOCAL", addrW+1)
	}
	head += common.Fit("REMOTE", addrW+1) + common.Fit("STATE", 11) + common.FitRight("PID", 7) + " COMMAND"
	out = append(out, s.TableHeader.Render(head))
	if len(out) >= h {
		return out[:h]
	}
	if len(n.Retransmits) == 0 {
		return append(out, l("no retransmit or reset since vitals started"))
	}
	rows := h - len(out)
	from, to := t.window(len(n.Retransmits), rows)
	for k := from; k < to; k++ {
		e := &n.Retransmits[len(n.Retransmits)-1-k] // newest first
		pid, comm := common.Dash, ""
		if e.PID != nil {
			pid, comm = strconv.Itoa(int(*e.PID)), model.Sanitize(e.Comm)
		}
		local, remote := common.Dash, common.Dash
		if e.LocalAddr != "" {
			local, remote = hostPort(e.LocalAddr, e.LocalPort), hostPort(e.RemoteAddr, e.RemotePort)
		}
		row := common.Fit(e.Time.Format("15:04:05"), 9) + common.Fit(kindShort(e.Kind, e.Segments), 8)
		if withLocal {
			row += common.Fit(local, addrW+1)
		}
		out = append(out, row+common.Fit(remote, addrW+1)+common.Fit(orDash(e.State), 11)+common.FitRight(pid, 7)+" "+comm)
	}
	return out
}

// kindShort is an event kind in the table's few cells; a retransmit of
// several segments at once says how many (RETR×9).
func kindShort(kind string, segs int) string {
	switch kind {
	case model.NetKindRetransmit:
		if segs > 1 {
			return "RETR×" + strconv.Itoa(segs)
		}
		return "RETR"
	case model.NetKindResetSent:
		return "RST>"
	case model.NetKindResetReceived:
		return "RST<"
	}
	return kind
}

// topRetransmitters is the at most k processes with the most retransmits
// (then resets), as "comm pid rate".
func topRetransmitters(procs []model.NetProcess, k int) []string {
	score := func(p *model.NetProcess) float64 { return p.RetransmitsPerS*1e6 + p.ResetsSentPerS + p.ResetsRecvPerS }
	var idx []int
	for i := range procs {
		if score(&procs[i]) > 0 {
			idx = append(idx, i)
		}
	}
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && score(&procs[idx[j]]) > score(&procs[idx[j-1]]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	var out []string
	for _, i := range idx[:min(k, len(idx))] {
		p := &procs[i]
		text := model.Sanitize(p.Comm) + " " + strconv.Itoa(int(p.PID)) + " " + small(p.RetransmitsPerS)
		if r := p.ResetsSentPerS + p.ResetsRecvPerS; r > 0 {
			text += " rst " + small(r)
		}
		out = append(out, text)
	}
	return out
}
