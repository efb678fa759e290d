package proctable

import (
	"cmp"
	"strconv"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// The identity columns every tab's table starts (PID, USER, S) and ends
// (COMMAND) with, defined once so that the tabs agree on widths, order and
// how untrusted names are shown. A tab whose context gives a column another
// meaning says so with WithHelp.

// PIDColumn is the process id.
func PIDColumn() Column {
	return Column{ID: "pid", Title: "PID", Width: 7, Align: AlignRight, Priority: 1,
		Value: func(p *model.Process) string { return strconv.Itoa(int(p.PID)) },
		Less:  func(a, b *model.Process) bool { return a.PID < b.PID },
		Help:  "process id (/proc/PID). A reused pid with a new start time is a new process."}
}

// UserColumn is the process's real user.
func UserColumn() Column {
	return Column{ID: "user", Title: "USER", Width: 9, Priority: 4,
		Value: func(p *model.Process) string { return p.User },
		Less:  func(a, b *model.Process) bool { return a.User < b.User },
		Help:  "real user of the process (Uid in /proc/PID/status, named from /etc/passwd)"}
}

// StateColumn is the one-letter scheduler state.
func StateColumn() Column {
	return Column{ID: "state", Title: "S", Width: 1, Priority: 3,
		Value: func(p *model.Process) string { return p.State },
		Less:  func(a, b *model.Process) bool { return a.State < b.State },
		Help:  "state: R running/runnable, S sleeping, D uninterruptible (usually disk I/O), Z zombie, T stopped, I idle kernel thread (/proc/PID/stat)"}
}

// CommandColumn is the command line as common.DisplayCommand shows it; as
// the last column it takes the width the others leave, and keeps at least
// 16 cells (a name and the start of its arguments) while columns can be
// dropped for it.
func CommandColumn() Column {
	return Column{ID: "command", Title: "COMMAND", Width: 16,
		Value: func(p *model.Process) string { return common.DisplayCommand(p.Comm, p.Cmdline) },
		Less:  func(a, b *model.Process) bool { return a.Cmdline < b.Cmdline },
		Help:  "command line (/proc/PID/cmdline) with the program's directory dropped, or [comm] for kernel threads; when the process name differs from the program (a script, a renamed worker) the name comes first, \"name: interpreter script\". Control characters are shown escaped (\\e, \\n)"}
}

// Numeric is a right-aligned column sorted largest first (as in top and
// htop) whose cell and order come from one getter, so the two cannot read
// different fields.
func Numeric[V cmp.Ordered](id, title string, width int, get func(*model.Process) V, format func(V) string, help string) Column {
	return Column{ID: id, Title: title, Width: width, Align: AlignRight, DescendingFirst: true,
		Value: func(p *model.Process) string { return format(get(p)) },
		Less:  func(a, b *model.Process) bool { return get(a) < get(b) },
		Key:   numericKey(get),
		Help:  help}
}

// numericKey is get as a float64 sort key, nil for a V that is not a number
// (strings sort through Less).
func numericKey[V cmp.Ordered](get func(*model.Process) V) func(*model.Process) float64 {
	var zero V
	switch any(zero).(type) {
	case float64:
		return func(p *model.Process) float64 { return any(get(p)).(float64) }
	case float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return func(p *model.Process) float64 { return toFloat(any(get(p))) }
	}
	return nil
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float32:
		return float64(x)
	case int:
		return float64(x)
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint:
		return float64(x)
	case uint8:
		return float64(x)
	case uint16:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return 0
}

// OptNumeric is Numeric for a value that may be unknown: it shows
// common.Dash and sorts below every known value.
func OptNumeric(id, title string, width, decimals int, get func(*model.Process) model.Float, help string) Column {
	return Column{ID: id, Title: title, Width: width, Align: AlignRight, DescendingFirst: true,
		Value: func(p *model.Process) string { return common.OptFloat(get(p), decimals) },
		Less:  func(a, b *model.Process) bool { return get(a).Or(-1) < get(b).Or(-1) },
		Key:   func(p *model.Process) float64 { return get(p).Or(-1) },
		Help:  help}
}

// WithHelp is c explained for one tab's context.
func (c Column) WithHelp(help string) Column {
	c.Help = help
	return c
}

// WithPriority is c kept (1) or dropped (larger) sooner in a narrow pane.
func (c Column) WithPriority(p int) Column {
	c.Priority = p
	return c
}

// WithLess is c sorted another way.
func (c Column) WithLess(less func(a, b *model.Process) bool) Column {
	c.Less, c.Key = less, nil
	return c
}
