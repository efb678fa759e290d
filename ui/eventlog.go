package ui

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/eventsview"
)

// The event log view (issue 10 item 2): every kernel event as execsnoop,
// exitsnoop and oomkill print them, newest at the bottom, over any tab.
// EventLogKey opens and closes it; "/" filters (a substring of the line,
// case-insensitive); z pauses it as it pauses every view (the log shown
// stays that of the paused snapshot; filter and scroll still work); the
// drops are in its title whenever there were any.

// EventLogKey opens the event log from every tab.
const EventLogKey = "e"

// logExplain is the help overlay's text for the log.
const logExplain = "One line per kernel event, newest at the bottom: exec (pid, ppid, command and its arguments, at most 20 of 127 bytes each, … when cut), " +
	"exit (exit code or the signal that ended it, lifetime, CPU time and peak RSS) and OOM kill (victim, its RSS, cgroup and limit). " +
	"With eBPF every process is seen; without it (procevents procfs) processes come from the process table's turnover and those living less than an interval are missed. " +
	"\"lost\" in the title counts events the ring buffer (kernel) or vitals' queue dropped: the counts on the CPU tab are then lower bounds. " +
	"Every name and argument is shown escaped (\\e for ESC, \\xNN for other control bytes)."

type eventLog struct {
	open   bool
	typing bool   // the filter is being typed
	filter string // raw, as typed; shown escaped
	scroll int    // lines up from the newest
}

func newEventLogKey() key.Binding {
	return key.NewBinding(key.WithKeys(EventLogKey), key.WithHelp(EventLogKey, "event log: exec exit OOM"))
}

// logKeyHelp is the log's keys, for the footer and the help.
func (a *App) logKeyHelp() []key.Binding {
	if a.log.typing {
		return []key.Binding{
			key.NewBinding(key.WithHelp("Enter", "keep filter")),
			key.NewBinding(key.WithHelp("Esc", "clear filter")),
			key.NewBinding(key.WithHelp("Backspace", "delete")),
			key.NewBinding(key.WithHelp("Ctrl-U", "erase")),
		}
	}
	return []key.Binding{
		key.NewBinding(key.WithHelp("Esc "+EventLogKey, "back to the tab")),
		key.NewBinding(key.WithHelp("/", "filter")),
		key.NewBinding(key.WithHelp("z Space", "pause")),
		key.NewBinding(key.WithHelp("↑↓ PgUp PgDn", "scroll (End: newest)")),
		key.NewBinding(key.WithHelp(AckKey, "ack header events")),
	}
}

// logKey handles a key while the log is open; handled is false for the
// global keys it leaves to the root (quit, help, pause, tabs, ack).
func (a *App) logKey(msg tea.KeyPressMsg) (handled bool) {
	l := &a.log
	k := msg.String()
	if l.typing {
		switch k {
		case "enter":
			l.typing = false
		case "esc":
			l.typing, l.filter = false, ""
		case "backspace":
			if _, size := utf8.DecodeLastRuneInString(l.filter); size > 0 {
				l.filter = l.filter[:len(l.filter)-size]
			}
		case "ctrl+u":
			l.filter = ""
		default:
			if t := msg.Text; t != "" && len(l.filter) < 64 {
				l.filter += t
			}
		}
		l.scroll = 0
		return true
	}
	page := max(1, a.height-chromeLines-3)
	switch k {
	case "esc", EventLogKey:
		*l = eventLog{}
	case "/", "f3", "f4":
		l.typing = true
	case "space":
		a.togglePause()
	case "up":
		l.scroll++
	case "down":
		l.scroll = max(0, l.scroll-1)
	case "pgup":
		l.scroll += page
	case "pgdown":
		l.scroll = max(0, l.scroll-page)
	case "end":
		l.scroll = 0
	case "home":
		l.scroll = 1 << 30
	default:
		return false
	}
	return true
}

// logView draws the log in h lines: a title with the counts, the drops and
// the sources; the column header; the events; the filter line.
func (a *App) logView(h int) string {
	s := a.ctx.Styles
	if h <= 0 {
		return ""
	}
	var v *model.EventLogView
	var sample *model.Sample
	if a.snap != nil {
		sample = a.snap.Sample
	}
	if sample != nil {
		v = sample.Events
	}
	title := s.Title.Render("event log")
	if v == nil {
		msg := "no event source runs yet"
		if sample != nil && len(sample.EventsTier) == 0 {
			msg = "no event source runs"
		}
		return common.Block([]string{title + s.Faint.Render("  (Esc returns)"), s.Faint.Render(msg)}, a.width, h)
	}
	title += s.Faint.Render(" " + strconv.Itoa(v.Len()) + " kept")
	if a.paused {
		title += " " + s.Warning.Render("PAUSED (z)")
	}
	if d := v.Dropped(); d > 0 {
		title += " " + s.Danger.Render("! "+lossText(v.Loss)+": counts are lower bounds")
	}
	title += s.Faint.Render("  " + tiers(sample.EventsTier))
	lines := []string{title}
	rows := h - 2
	footer := ""
	if a.log.typing || a.log.filter != "" {
		rows--
		footer = s.Bold.Render("/") + model.Sanitize(a.log.filter)
		if a.log.typing {
			footer += "█" + s.Faint.Render("  (Enter keeps, Esc clears)")
		}
	}
	if rows >= 0 && h >= 2 {
		head := common.Fit(strings.Join([]string{"TIME        ", "KIND    ", "    PID", "   PPID", "COMM           ", "DETAILS"}, " "), a.width)
		lines = append(lines, s.TableHeader.Render(head))
	}
	if rows > 0 {
		got := eventsview.EventLines(v, a.log.filter, rows+a.log.scroll, a.width)
		a.log.scroll = min(a.log.scroll, max(0, len(got)-rows))
		got = got[:len(got)-a.log.scroll]
		if len(got) > rows {
			got = got[len(got)-rows:]
		}
		if len(got) == 0 {
			none := "no events yet"
			if a.log.filter != "" {
				none = "no event matches the filter"
			}
			got = []string{s.Faint.Render(none)}
		}
		lines = append(lines, got...)
		for len(lines) < h-1 {
			lines = append(lines, "")
		}
	}
	if footer != "" {
		lines = append(lines, footer)
	}
	return common.Block(lines, a.width, h)
}

// lossText is "lost 12 (procevents: kernel 10 queue 2)".
func lossText(loss []model.EventLoss) string {
	var total uint64
	var parts []string
	for _, l := range loss {
		if n := l.KernelDropped + l.QueueDropped; n > 0 {
			total += n
			parts = append(parts, model.Sanitize(l.Source)+": kernel "+strconv.FormatUint(l.KernelDropped, 10)+
				" queue "+strconv.FormatUint(l.QueueDropped, 10))
		}
	}
	return "lost " + strconv.FormatUint(total, 10) + " (" + strings.Join(parts, "; ") + ")"
}

// tiers is "procevents tp_btf · oomkill procfs: kernel log" — where the
// events come from, so a reader knows what is missed.
func tiers(fs []model.Feature) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		p := f.Name + " " + f.Tier
		if !f.EBPF() && f.Fallback != "" {
			p += ": " + f.Fallback
		}
		parts = append(parts, model.Sanitize(p))
	}
	return strings.Join(parts, " · ")
}
