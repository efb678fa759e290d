// Package common is the small contract between the root UI and every tab or
// widget: a shared context (styles, colour mode, clock) and the Component
// interface. Components never import the root model.
package common

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/prochist"
)

// Context is handed to every component. It is read-only after start.
type Context struct {
	Styles *Styles
	// NoColor is set when NO_COLOR is set: colour cannot carry meaning, so
	// views switch to distinct glyphs.
	NoColor bool
	// Now is the clock views use (fixed in golden tests).
	Now func() time.Time
	// Procs is every recent process's RSS and CPU history (growth, the
	// process view's charts). The root records each snapshot into it as
	// it arrives, on the program's goroutine; components only read it.
	Procs *prochist.Tracker
	// Keys are the config file's key bindings (nil: the defaults); every
	// remappable binding is made with Binding, so help shows them as bound.
	Keys KeyMap
}

// NewContext builds the context for a colour or NO_COLOR terminal.
func NewContext(noColor bool) *Context {
	return &Context{Styles: NewStyles(noColor), NoColor: noColor, Now: time.Now, Procs: prochist.New()}
}

// Component is one tab or widget. The root calls SetSize before View and
// gives the visible tab every SnapshotMsg (a tab switched to gets the
// current snapshot first, so it is never stale when seen).
type Component interface {
	// SetSize gives the component exactly this many cells.
	SetSize(width, height int)
	// Update handles a message; components are pointers and mutate in place.
	Update(msg tea.Msg) tea.Cmd
	// View renders at most height lines, each at most width cells wide.
	View() string
	// KeyHelp lists the keys of this view for the footer and help overlay.
	KeyHelp() []key.Binding
	// Capturing is true while the component owns the keyboard (a filter
	// being typed, a menu open): the root then passes every key down and
	// does not treat q, 1-5 or Tab as global keys.
	Capturing() bool
}

// ShortHelper is implemented by components with a compact key list for
// the one-line footer (KeyHelp is the full list, for the help overlay).
type ShortHelper interface {
	ShortKeyHelp() []key.Binding
}

// Explainer is implemented by tabs whose numbers the help overlay explains.
type Explainer interface {
	// Explain returns (term, meaning and source) pairs, e.g.
	// {"%CPU", "100 = one full CPU; from /proc/PID/stat utime+stime"}.
	Explain() [][2]string
}

// SnapshotMsg delivers a new model snapshot to a component (the root gives
// it to the visible tab, and to a tab when it is switched to).
type SnapshotMsg struct{ Snap *model.Snapshot }

// KillFunc sends sig to the process identified by key, after checking that
// the pid still belongs to that process (pids are reused). The UI never
// touches /proc itself; main injects the implementation.
type KillFunc func(key model.ProcKey, sig int) error

// DemandReporter is implemented by tabs that show per-process details read
// on demand; the root passes what they report to the probes.
type DemandReporter interface {
	Demand() model.DemandSet
}

// Selector is implemented by tabs with a process table: the process under
// the cursor, which Enter opens in the process view.
type Selector interface {
	Selected() (model.ProcKey, bool)
}
