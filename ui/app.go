// Package ui is the terminal interface: the root model owns the header, tab
// bar, footer, help overlay and routing; each tab is a component in its own
// package. The UI reads model snapshots and never touches /proc.
package ui

import (
	"slices"
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
	"github.com/vitals-dev/vitals/ui/prochist"
	"github.com/vitals-dev/vitals/ui/procview"
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
	// Config is what the config file sets in the UI.
	Config Config
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
	// proc is the process view, shown instead of the tab while procOpen.
	proc       *procview.View
	procOpen   bool
	width      int
	height     int
	keys       globalKeys
	quitting   bool
	lastDemand model.DemandSet
	// configProblems are what is wrong with the config file (it was then
	// not applied); configNotice shows the first in the footer until a key.
	configProblems []string
	configNotice   bool
	// log is the event log view (eventlog.go); strip the header's
	// unacknowledged events (strip.go).
	log   eventLog
	strip strip
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
	// Process opens the process view on the selected row of any tab.
	Process       key.Binding
	EventLog, Ack key.Binding
}

func newGlobalKeys(ctx *common.Context) globalKeys {
	return globalKeys{
		Quit:     ctx.Binding("quit", ""),
		Help:     ctx.Binding("help", ""),
		Pause:    ctx.Binding("pause", ""),
		Next:     ctx.Binding("next_tab", ""),
		Prev:     ctx.Binding("prev_tab", ""),
		Warnings: ctx.Binding("warnings", ""),
		Process:  ctx.Binding("process", ""),
		EventLog: newEventLogKey(),
		Ack:      newAckKey(),
	}
}

// short is b for the one-line footer: its first key only.
func short(b key.Binding) key.Binding {
	return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(common.FirstKey(b), b.Help().Desc))
}

// New builds the root model over a store, with the tabs of tabDefs.
func New(ctx *common.Context, store *model.Store, opts Options) *App {
	return newWithTabs(ctx, store, opts, tabDefs)
}

func newWithTabs(ctx *common.Context, store *model.Store, opts Options, defs []tabDef) *App {
	if ctx.Procs == nil {
		ctx.Procs = prochist.New()
	}
	a := &App{ctx: ctx, opts: opts, store: store}
	a.applyConfig(defs)
	a.keys = newGlobalKeys(ctx)
	a.tabs = buildTabs(defs, ctx, opts)
	a.proc = procview.New(ctx)
	a.configureTabs(defs)
	return a
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
	if r, ok := a.current().(common.DemandReporter); ok && a.overlay == noOverlay {
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
				a.closeProcess()
				a.switchTab(i)
			}
			return a, nil
		}
	}
	if a.overlay != noOverlay || (a.log.open && !isSnapshot(msg)) {
		return a, nil
	}
	return a, a.current().Update(msg)
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
	// History goes on while paused, as the store's does.
	a.ctx.Procs.Record(s.Sample)
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
	a.strip.observe(s.Sample)
	a.shownSeq.Store(s.Seq)
	return a.current().Update(common.SnapshotMsg{Snap: s})
}

// current is what the content area shows: the process view while it is
// open, the active tab otherwise.
func (a *App) current() common.Component {
	if a.procOpen {
		return a.proc
	}
	return a.tabs[a.active].c
}

// currentName names what the content area shows, for the help.
func (a *App) currentName() string {
	if a.procOpen {
		return "process view"
	}
	return a.tabs[a.active].name + " tab"
}

// openProcess shows the process view on the active tab's selected row.
func (a *App) openProcess() bool {
	sel, ok := a.tabs[a.active].c.(common.Selector)
	if !ok {
		return false
	}
	k, ok := sel.Selected()
	if !ok {
		return false
	}
	a.proc.Open(k, a.tabs[a.active].name, a.snap)
	a.procOpen = true
	a.resize()
	return true
}

// closeProcess goes back from the process view to the tab, handing it the
// snapshot it missed while hidden.
func (a *App) closeProcess() {
	if !a.procOpen {
		return
	}
	a.procOpen = false
	if a.snap != nil {
		a.tabs[a.active].c.Update(common.SnapshotMsg{Snap: a.snap})
	}
}

func (a *App) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	a.configNotice = false // said once; the help keeps it
	if msg.String() == "ctrl+c" {
		a.quitting = true
		return tea.Quit
	}
	if msg.String() == "ctrl+z" {
		// Raw mode turns Ctrl-Z into a key: stop as the terminal would.
		return func() tea.Msg { return suspendRequestMsg{group: true} }
	}
	if a.overlay != noOverlay {
		if key.Matches(msg, a.keys.Help, a.keys.Quit, a.keys.Warnings) {
			a.overlay = noOverlay
			return nil
		}
		switch msg.String() {
		case "esc", "enter":
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
	if a.log.open && a.logKey(msg) {
		return nil
	}
	tab := a.current()
	if !a.log.open && tab.Capturing() {
		return tab.Update(msg)
	}
	k := a.keys
	number := tabForKey(a.tabs, msg)
	switch {
	case a.procOpen && key.Matches(msg, a.proc.BackKey()):
		a.closeProcess()
	case !a.procOpen && key.Matches(msg, k.Process) && a.openProcess():
		// Opened; on a tab or panel without a selected row Enter does
		// nothing.
	case key.Matches(msg, k.Quit):
		a.quitting = true
		return tea.Quit
	case key.Matches(msg, k.Help):
		a.overlay, a.overlayTop = helpOverlay, 0
	case key.Matches(msg, k.Warnings) && a.warner() != nil:
		a.overlay, a.overlayTop = warningsOverlay, 0
	case key.Matches(msg, k.Pause):
		return a.togglePause()
	case key.Matches(msg, k.EventLog):
		a.log = eventLog{open: true}
	case key.Matches(msg, k.Ack):
		a.strip.ack()
	case key.Matches(msg, k.Next):
		a.closeProcess()
		a.switchTab((a.active + 1) % len(a.tabs))
	case key.Matches(msg, k.Prev):
		a.closeProcess()
		a.switchTab((a.active + len(a.tabs) - 1) % len(a.tabs))
	case number >= 0:
		a.closeProcess()
		a.switchTab(number)
	case a.log.open:
	default:
		return tab.Update(msg)
	}
	return nil
}

// togglePause pauses or resumes the display (resuming shows the newest
// snapshot).
func (a *App) togglePause() tea.Cmd {
	a.paused = !a.paused
	if !a.paused {
		return a.deliver(a.store.Snapshot())
	}
	return nil
}

// isSnapshot is true for the messages that carry data, which a tab under
// the event log still takes.
func isSnapshot(msg tea.Msg) bool {
	_, ok := msg.(common.SnapshotMsg)
	return ok
}

func (a *App) switchTab(i int) {
	a.log = eventLog{}
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
	a.proc.SetSize(w, h)
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
	case noOverlay:
		if a.log.open {
			content = a.logView(a.height - chromeLines)
			break
		}
		fallthrough
	default:
		content = a.current().View()
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
	// The events strip: never dropped, cut to what the rest leaves.
	stripAt := -1
	if text := a.strip.text(); text != "" {
		stripAt = len(parts)
		parts = append(parts, part{text, 0})
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
	// Only prio-0 parts come before the strip, so stripAt still holds.
	if stripAt >= 0 {
		p := parts[stripAt].text
		if over := common.Width(join()) - a.width; over > 0 {
			p = common.Fit(p, max(1, common.Width(p)-over))
		}
		parts[stripAt].text = s.Danger.Render(p)
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
	if a.configNotice && len(a.configProblems) > 0 {
		// The path is in the help; the footer keeps the line and the
		// reason, which an 80-cell pane has room for.
		first := a.configProblems[0]
		if src := a.opts.Config.Source; src != "" {
			first = strings.Replace(first, "config "+src, "config", 1)
		}
		more := ""
		if n := len(a.configProblems); n > 1 {
			more = " +" + strconv.Itoa(n-1) + " more"
		}
		return s.Danger.Render("defaults used" + more + " (?): " + model.Sanitize(first))
	}
	var b strings.Builder
	bindings := []key.Binding{short(a.keys.Help), short(a.keys.Quit)}
	if a.strip.pending() > 0 {
		bindings = append(bindings, key.NewBinding(key.WithHelp(AckKey, "ack "+strconv.Itoa(a.strip.pending())+" event(s)")))
	}
	if a.overlay != noOverlay {
		bindings = []key.Binding{
			key.NewBinding(key.WithHelp("Esc", "close help")),
			key.NewBinding(key.WithHelp("↑↓ PgUp PgDn", "scroll")),
		}
	} else if a.log.open {
		bindings = append(a.logKeyHelp(), a.keys.Quit)
	} else {
		tabKeys := a.current().KeyHelp()
		if sh, ok := a.current().(common.ShortHelper); ok {
			tabKeys = sh.ShortKeyHelp()
		}
		for _, kb := range tabKeys {
			if !navigationKey(kb) {
				bindings = append(bindings, kb)
			}
		}
		bindings = append(bindings, short(a.keys.Pause), short(a.keys.Next))
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
	view := a.current()
	var lines []string
	lines = append(lines, s.Title.Render("vitals help — "+a.currentName())+s.Faint.Render("  (Esc closes, arrows scroll)"), "")
	lines = append(lines, a.configLines()...)
	lines = append(lines, s.Bold.Render("Keys"))
	var entries []string
	addKey := func(kb key.Binding) {
		if hp := kb.Help(); hp.Key != "" {
			entries = append(entries, common.Fit(hp.Key, 11)+" "+hp.Desc)
		}
	}
	tabKeys := view.KeyHelp()
	if a.log.open {
		lines[0] = s.Title.Render("vitals help — event log") + s.Faint.Render("  (Esc closes, arrows scroll)")
		tabKeys = a.logKeyHelp()
	}
	for _, kb := range tabKeys {
		addKey(kb)
	}
	k := a.keys
	quit := k.Quit.Help().Key
	if !slices.Contains(k.Quit.Keys(), "ctrl+c") {
		quit += " C-c" // always quits, whatever the config binds
	}
	global := []key.Binding{
		key.NewBinding(key.WithHelp(k.Help.Help().Key, "this help")),
		key.NewBinding(key.WithHelp(quit, "quit")),
		key.NewBinding(key.WithHelp(k.Pause.Help().Key, "pause display (data still recorded)")),
		key.NewBinding(key.WithHelp(k.Next.Help().Key+" "+k.Prev.Help().Key, "next / previous tab")),
		numberKeysHelp(a.tabs),
		a.keys.EventLog,
		a.keys.Ack,
	}
	if a.warner() != nil {
		global = append(global, a.keys.Warnings)
	}
	if _, ok := a.tabs[a.active].c.(common.Selector); ok && !a.procOpen {
		global = append(global, a.keys.Process)
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
	if a.log.open {
		lines = append(lines, "", s.Bold.Render("The event log"))
		for _, l := range strings.Split(lipgloss.NewStyle().Width(max(10, a.width-4)).Render(logExplain), "\n") {
			lines = append(lines, "  "+strings.TrimRight(l, " "))
		}
	} else if ex, ok := view.(common.Explainer); ok {
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
	if a.procOpen {
		return nil
	}
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
