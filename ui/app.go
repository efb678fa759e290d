// Package ui is the terminal interface: the root model owns the header, tab
// bar, footer, help overlay and routing; each tab is a component in its own
// package. The UI reads model snapshots and never touches /proc.
package ui

import (
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/tabbase"
)

// Smallest terminal we draw into; below it we say so instead of drawing.
const minWidth, minHeight = 20, 5

// Options configure the root model.
type Options struct {
	Interval time.Duration
	Kill     common.KillFunc
	NoMouse  bool
	// Demand, when set, receives which processes the active tab shows,
	// so probes read costly details only for those.
	Demand *model.Demand
}

// App is the root bubbletea model.
type App struct {
	ctx        *common.Context
	opts       Options
	store      *model.Store
	tabs       []tabEntry
	active     int
	snap       *model.Snapshot // what the tabs were last given
	paused     bool
	overlay    overlay // help or the warnings list, over the tab
	overlayTop int     // first line of the overlay shown (scrolling)
	width      int
	height     int
	keys       globalKeys
	quitting   bool
	lastDemand model.DemandSet
	// lastResize is when the last window size came; settleArmed is set
	// while a resizeSettledMsg is due.
	lastResize  time.Time
	settleArmed bool
	// coalescing is set while a coalescedMsg is due.
	coalescing bool
	shownSeq   atomic.Uint64 // for tests running the program headless
}

// overlay is what covers the active tab, if anything.
type overlay int

const (
	noOverlay overlay = iota
	helpOverlay
	warningsOverlay
)

// globalKeys are the root's own keys; the tabs' number keys come with the
// tabs (tabEntry.number).
type globalKeys struct {
	Quit, Help, Pause, Next, Prev, Warnings key.Binding
}

func newGlobalKeys() globalKeys {
	return globalKeys{
		Quit:  key.NewBinding(key.WithKeys("q", "ctrl+c", "f10"), key.WithHelp("q", "quit")),
		Help:  key.NewBinding(key.WithKeys("?", "f1"), key.WithHelp("?", "help")),
		Pause: key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "pause")),
		Next:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("Tab", "next tab")),
		Prev:  key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("S-Tab", "prev tab")),
		Warnings: key.NewBinding(key.WithKeys(tabbase.MoreWarningsKey),
			key.WithHelp(tabbase.MoreWarningsKey, "all warnings, worst first")),
	}
}

// New builds the root model over a store, with the tabs of tabDefs.
func New(ctx *common.Context, store *model.Store, opts Options) *App {
	return newWithTabs(ctx, store, opts, tabDefs)
}

func newWithTabs(ctx *common.Context, store *model.Store, opts Options, defs []tabDef) *App {
	return &App{ctx: ctx, opts: opts, store: store, keys: newGlobalKeys(), tabs: buildTabs(defs, ctx, opts)}
}

// waitForSnapshot delivers the next published snapshot. Publishes are
// coalesced, so a slow UI always gets the newest one, never a backlog.
func waitForSnapshot(store *model.Store) tea.Cmd {
	return func() tea.Msg {
		<-store.Changed()
		return common.SnapshotMsg{Snap: store.Snapshot()}
	}
}

// Init implements tea.Model.
func (a *App) Init() tea.Cmd {
	// NewStore has already signalled its first snapshot, so this returns at
	// once with whatever is current.
	return waitForSnapshot(a.store)
}

// Update implements tea.Model.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := a.update(msg)
	a.publishDemand()
	return m, cmd
}

// publishDemand tells the probes which processes the active tab shows,
// when that changed.
func (a *App) publishDemand() {
	if a.opts.Demand == nil {
		return
	}
	var d model.DemandSet
	if r, ok := a.tabs[a.active].c.(common.DemandReporter); ok && a.overlay == noOverlay {
		d = r.Demand()
	}
	if d.Equal(a.lastDemand) {
		return
	}
	a.lastDemand = d
	a.opts.Demand.Set(d)
}

func (a *App) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		a.resize()
		a.lastResize = time.Now()
		if a.settleArmed {
			return a, nil
		}
		a.settleArmed = true
		return a, settleAfter(resizeSettle)
	case resizeSettledMsg:
		// During a storm of resizes the terminal reflows what it holds
		// while frames for older sizes are still arriving, and the
		// renderer's idea of the screen drifts from the screen: once the
		// size has held still, clear and draw everything once. One timer
		// at a time, so a storm costs no extra frames.
		if wait := resizeSettle - time.Since(a.lastResize); wait > 0 {
			return a, settleAfter(wait)
		}
		a.settleArmed = false
		return a, tea.ClearScreen
	case common.SnapshotMsg:
		// Exactly one waiter is outstanding: each arrival starts the next.
		// The probes publish a few milliseconds apart each interval; one
		// frame after a short window shows them all for the cost of one
		// render (the first snapshot is shown at once).
		cmds := []tea.Cmd{waitForSnapshot(a.store)}
		if a.snap == nil {
			return a, tea.Batch(append(cmds, a.deliverOrHold(msg.Snap))...)
		}
		if !a.coalescing {
			a.coalescing = true
			cmds = append(cmds, tea.Tick(coalesceWindow, func(time.Time) tea.Msg { return coalescedMsg{} }))
		}
		return a, tea.Batch(cmds...)
	case resumedMsg:
		// Back from a stop: the terminal may hold anything; repaint it all.
		return a, tea.ClearScreen
	case coalescedMsg:
		a.coalescing = false
		return a, a.deliverOrHold(a.store.Snapshot())
	case tea.KeyPressMsg:
		return a, a.handleKey(msg)
	case tea.MouseClickMsg:
		m := msg.Mouse()
		if m.Y == 1 && a.overlay == noOverlay {
			if i := a.tabAt(m.X); i >= 0 {
				a.switchTab(i)
			}
			return a, nil
		}
	}
	if a.overlay != noOverlay {
		return a, nil
	}
	return a, a.tabs[a.active].c.Update(msg)
}

// coalesceWindow is how long the UI waits after a publish for the other
// probes' publishes of the same interval.
const coalesceWindow = 60 * time.Millisecond

type coalescedMsg struct{}

// resizeSettle is how long the size must hold still before the full
// repaint that ends a run of resizes.
const resizeSettle = 150 * time.Millisecond

// resizeSettledMsg asks whether the size has held still for resizeSettle.
type resizeSettledMsg struct{}

func settleAfter(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return resizeSettledMsg{} })
}

// deliverOrHold shows s, unless the display is paused (resuming shows the
// newest snapshot then).
func (a *App) deliverOrHold(s *model.Snapshot) tea.Cmd {
	if a.paused {
		return nil
	}
	return a.deliver(s)
}

// deliver hands a snapshot to the visible tab. A hidden tab is given the
// current snapshot when it is switched to (switchTab), so it is never stale
// when seen, and does not re-sort thousands of rows every interval unseen.
func (a *App) deliver(s *model.Snapshot) tea.Cmd {
	a.snap = s
	a.shownSeq.Store(s.Seq)
	return a.tabs[a.active].c.Update(common.SnapshotMsg{Snap: s})
}

func (a *App) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		a.quitting = true
		return tea.Quit
	}
	if msg.String() == "ctrl+z" {
		// Raw mode turns Ctrl-Z into a key: stop as the terminal would.
		return func() tea.Msg { return suspendRequestMsg{group: true} }
	}
	if a.overlay != noOverlay {
		switch msg.String() {
		case "esc", "?", "f1", "q", "enter", tabbase.MoreWarningsKey:
			a.overlay = noOverlay
		case "down", "j":
			a.overlayTop++
		case "up":
			a.overlayTop = max(0, a.overlayTop-1)
		case "pgdown", "space":
			a.overlayTop += max(1, a.height-4)
		case "pgup":
			a.overlayTop = max(0, a.overlayTop-max(1, a.height-4))
		case "home":
			a.overlayTop = 0
		}
		return nil
	}
	tab := a.tabs[a.active].c
	if tab.Capturing() {
		return tab.Update(msg)
	}
	k := a.keys
	number := tabForKey(a.tabs, msg)
	switch {
	case key.Matches(msg, k.Quit):
		a.quitting = true
		return tea.Quit
	case key.Matches(msg, k.Help):
		a.overlay, a.overlayTop = helpOverlay, 0
	case key.Matches(msg, k.Warnings) && a.warner() != nil:
		a.overlay, a.overlayTop = warningsOverlay, 0
	case key.Matches(msg, k.Pause):
		a.paused = !a.paused
		if !a.paused {
			return a.deliver(a.store.Snapshot())
		}
	case key.Matches(msg, k.Next):
		a.switchTab((a.active + 1) % len(a.tabs))
	case key.Matches(msg, k.Prev):
		a.switchTab((a.active + len(a.tabs) - 1) % len(a.tabs))
	case number >= 0:
		a.switchTab(number)
	default:
		return tab.Update(msg)
	}
	return nil
}

func (a *App) switchTab(i int) {
	if i >= 0 && i < len(a.tabs) && i != a.active {
		a.active = i
		a.resize()
		if a.snap != nil {
			a.tabs[i].c.Update(common.SnapshotMsg{Snap: a.snap})
		}
	}
}

// The frame: header (1 line), tab bar (1), content, footer (1).
const chromeLines = 3

func (a *App) resize() {
	w, h := a.width, max(0, a.height-chromeLines)
	for _, t := range a.tabs {
		t.c.SetSize(w, h)
		if o, ok := t.c.(interface{ SetOrigin(x, y int) }); ok {
			o.SetOrigin(0, 2)
		}
	}
}

// View implements tea.Model.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	if !a.opts.NoMouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.WindowTitle = "vitals"
	return v
}

// render draws the whole screen as exactly height lines of width cells.
func (a *App) render() string {
	if a.quitting {
		return ""
	}
	if a.width <= 0 || a.height <= 0 {
		return ""
	}
	if a.width < minWidth || a.height < minHeight {
		msg := "vitals: terminal " + strconv.Itoa(a.width) + "x" + strconv.Itoa(a.height) +
			" is too small; need " + strconv.Itoa(minWidth) + "x" + strconv.Itoa(minHeight)
		return a.frame(strings.Split(lipgloss.NewStyle().Width(a.width).Render(msg), "\n"))
	}
	lines := []string{a.header(), a.tabBar()}
	var content string
	switch a.overlay {
	case helpOverlay:
		content = a.helpView(a.height - chromeLines)
	case warningsOverlay:
		content = a.warningsView(a.height - chromeLines)
	default:
		content = a.tabs[a.active].c.View()
	}
	lines = append(lines, strings.Split(content, "\n")...)
	if len(lines) > a.height-1 {
		lines = lines[:a.height-1]
	}
	for len(lines) < a.height-1 {
		lines = append(lines, "")
	}
	lines = append(lines, a.footer())
	return a.frame(lines)
}

// frame fits every line to the width and the line count to the height, so
// no view can push garbage past the terminal edge.
func (a *App) frame(lines []string) string {
	if len(lines) > a.height {
		lines = lines[:a.height]
	}
	for i := range lines {
		lines[i] = common.Fit(lines[i], a.width)
	}
	for len(lines) < a.height {
		lines = append(lines, strings.Repeat(" ", a.width))
	}
	return strings.Join(lines, "\n")
}

func (a *App) header() string {
	s := a.ctx.Styles
	var host model.Host
	var t time.Time
	if a.snap != nil && a.snap.Sample != nil {
		host = a.snap.Sample.Host
		t = a.snap.Sample.Time
	}
	if t.IsZero() {
		t = a.ctx.Now()
	}
	// Parts in order of importance: on a narrow terminal the least
	// important go first, so the line never ends in a truncated word.
	type part struct {
		text string
		prio int
	}
	parts := []part{{s.Title.Render("vitals"), 0}}
	if a.paused {
		parts = append(parts, part{s.Warning.Render("PAUSED (z)"), 0})
	}
	if host.Hostname != "" {
		parts = append(parts, part{model.Sanitize(host.Hostname), 3})
	}
	if host.Kernel != "" {
		parts = append(parts, part{"Linux " + model.Sanitize(host.Kernel), 5})
	}
	if !host.BootTime.IsZero() {
		parts = append(parts, part{"up " + uptime(t.Sub(host.BootTime)), 4})
	}
	parts = append(parts, part{t.Format("15:04:05"), 1}, part{"every " + a.opts.Interval.String(), 2})
	if host.Mode != "" {
		parts = append(parts, part{host.Mode, 1})
	}
	if a.snap != nil && a.snap.Sample != nil && len(a.snap.Sample.Errors) > 0 {
		names := make([]string, 0, len(a.snap.Sample.Errors))
		for probe := range a.snap.Sample.Errors {
			names = append(names, probe)
		}
		sort.Strings(names)
		parts = append(parts, part{s.Danger.Render(names[0] + ": " + model.Sanitize(a.snap.Sample.Errors[names[0]])), 0})
	}
	sep := s.Faint.Render(" │ ")
	join := func() string {
		texts := make([]string, len(parts))
		for i, p := range parts {
			texts[i] = p.text
		}
		return strings.Join(texts, sep)
	}
	for prio := 5; prio > 0; prio-- {
		if common.Width(join()) <= a.width {
			break
		}
		kept := parts[:0]
		for _, p := range parts {
			if p.prio != prio {
				kept = append(kept, p)
			}
		}
		parts = kept
	}
	return join()
}

func uptime(d time.Duration) string {
	if d < 0 {
		return "?"
	}
	days := int(d.Hours()) / 24
	h := int(d.Hours()) % 24
	m := int(d.Minutes()) % 60
	if days > 0 {
		return strconv.Itoa(days) + "d " + strconv.Itoa(h) + "h"
	}
	return strconv.Itoa(h) + "h " + strconv.Itoa(m) + "m"
}

// tabLabel is how tab i reads in the bar: its number key and name.
func (a *App) tabLabel(i int) string {
	if keys := a.tabs[i].number.Keys(); len(keys) > 0 {
		return " " + keys[0] + " " + a.tabs[i].name + " "
	}
	return " " + a.tabs[i].name + " "
}

func (a *App) tabBar() string {
	s := a.ctx.Styles
	var b strings.Builder
	for i := range a.tabs {
		if i == a.active {
			b.WriteString(s.TabActive.Render(a.tabLabel(i)))
		} else {
			b.WriteString(s.TabInactive.Render(a.tabLabel(i)))
		}
		b.WriteString(" ")
	}
	return b.String()
}

// tabAt maps a column of the tab bar to a tab index, or -1.
func (a *App) tabAt(x int) int {
	pos := 0
	for i := range a.tabs {
		w := common.Width(a.tabLabel(i))
		if x >= pos && x < pos+w {
			return i
		}
		pos += w + 1
	}
	return -1
}

func (a *App) footer() string {
	s := a.ctx.Styles
	var b strings.Builder
	bindings := []key.Binding{a.keys.Help, a.keys.Quit}
	if a.overlay != noOverlay {
		bindings = []key.Binding{
			key.NewBinding(key.WithHelp("Esc", "close help")),
			key.NewBinding(key.WithHelp("↑↓ PgUp PgDn", "scroll")),
		}
	} else {
		tabKeys := a.tabs[a.active].c.KeyHelp()
		if sh, ok := a.tabs[a.active].c.(common.ShortHelper); ok {
			tabKeys = sh.ShortKeyHelp()
		}
		for _, kb := range tabKeys {
			if !navigationKey(kb) {
				bindings = append(bindings, kb)
			}
		}
		bindings = append(bindings, a.keys.Pause, a.keys.Next)
	}
	for _, kb := range bindings {
		h := kb.Help()
		if h.Key == "" {
			continue
		}
		item := s.FooterKey.Render(h.Key) + s.Footer.Render(":"+h.Desc+" ")
		if common.Width(b.String())+common.Width(item) > a.width {
			break // whole items only; ? lists the rest
		}
		b.WriteString(item)
	}
	return b.String()
}

// navigationKey is true for cursor movement, which the footer leaves to
// the help overlay: everyone knows the arrows.
func navigationKey(kb key.Binding) bool {
	for _, k := range kb.Keys() {
		switch k {
		case "up", "down", "pgup", "pgdown", "home", "end", "left", "right":
		default:
			return false
		}
	}
	return len(kb.Keys()) > 0
}

// helpView is the overlay: every key of the current view and what each
// number on the tab means and where it comes from.
func (a *App) helpView(h int) string {
	s := a.ctx.Styles
	tab := a.tabs[a.active]
	var lines []string
	lines = append(lines, s.Title.Render("vitals help — "+tab.name+" tab")+s.Faint.Render("  (Esc closes, arrows scroll)"), "")
	lines = append(lines, s.Bold.Render("Keys"))
	var entries []string
	addKey := func(kb key.Binding) {
		if hp := kb.Help(); hp.Key != "" {
			entries = append(entries, common.Fit(hp.Key, 11)+" "+hp.Desc)
		}
	}
	for _, kb := range tab.c.KeyHelp() {
		addKey(kb)
	}
	global := []key.Binding{
		key.NewBinding(key.WithHelp("? F1", "this help")),
		key.NewBinding(key.WithHelp("q F10 C-c", "quit")),
		key.NewBinding(key.WithHelp("z", "pause display (data still recorded)")),
		key.NewBinding(key.WithHelp("Tab S-Tab", "next / previous tab")),
		numberKeysHelp(a.tabs),
	}
	if a.warner() != nil {
		global = append(global, a.keys.Warnings)
	}
	for _, kb := range global {
		addKey(kb)
	}
	// Two columns of keys when there is room, so the explanations start
	// on the first page of an 80x24 pane.
	cols := 1
	if a.width >= 70 {
		cols = 2
	}
	colW := (a.width - 2) / cols
	rows := (len(entries) + cols - 1) / cols
	for r := 0; r < rows; r++ {
		line := " "
		for c := 0; c < cols; c++ {
			if i := c*rows + r; i < len(entries) {
				line += " " + common.Fit(entries[i], colW-1)
			}
		}
		lines = append(lines, line)
	}
	if ex, ok := tab.c.(common.Explainer); ok {
		lines = append(lines, "", s.Bold.Render("What the numbers mean"))
		// Two blank cells between a term and its meaning, and a term too
		// long for its column on a line of its own, so the two never read
		// as one phrase ("faults major page faults…").
		const termW = 12
		descW := max(10, a.width-termW-6)
		for _, e := range ex.Explain() {
			term := e[0]
			if common.Width(term) > termW {
				lines = append(lines, "  "+s.Bold.Render(term))
				term = ""
			}
			wrapped := strings.Split(lipgloss.NewStyle().Width(descW).Render(e[1]), "\n")
			for i, wl := range wrapped {
				if i > 0 {
					term = ""
				}
				lines = append(lines, "  "+s.Bold.Render(common.Fit(term, termW))+"  "+strings.TrimRight(wl, " "))
			}
		}
	}
	return a.scrolled(lines, h)
}

// scrolled is the h lines of an overlay from its scroll position.
func (a *App) scrolled(lines []string, h int) string {
	a.overlayTop = min(a.overlayTop, max(0, len(lines)-h))
	lines = lines[a.overlayTop:]
	if len(lines) > h {
		lines = lines[:h]
	}
	return strings.Join(lines, "\n")
}

// warner is the active tab's warnings, or nil for a tab that checks no
// thresholds.
func (a *App) warner() common.Warner {
	w, _ := a.tabs[a.active].c.(common.Warner)
	return w
}

// warningsView is the overlay of the w key: every warning of the active
// tab, most severe first, each wrapped to the width.
func (a *App) warningsView(h int) string {
	s := a.ctx.Styles
	tab := a.tabs[a.active]
	lines := []string{s.Title.Render("vitals warnings — "+tab.name+" tab") + s.Faint.Render("  (Esc or w closes, arrows scroll)"), ""}
	var alerts []common.Alert
	if w := a.warner(); w != nil {
		alerts = common.MostSevereFirst(w.Warnings())
	}
	if len(alerts) == 0 {
		lines = append(lines, s.OK.Render("no threshold crossed"))
	}
	wrap := lipgloss.NewStyle().Width(max(10, a.width-4))
	for _, al := range alerts {
		style := s.Warning
		if al.Severity == common.Critical {
			style = s.Danger
		}
		for i, wl := range strings.Split(wrap.Render(al.Text), "\n") {
			mark := "    "
			if i == 0 {
				mark = "  ! "
			}
			lines = append(lines, style.Render(mark+strings.TrimRight(wl, " ")))
		}
	}
	return a.scrolled(lines, h)
}

// snapSeq is the sequence number of the snapshot on screen (0 before the
// first); tests use it to wait for delivery.
func (a *App) snapSeq() uint64 { return a.shownSeq.Load() }
