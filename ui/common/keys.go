package common

import (
	"sort"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
)

// KeyAction is one remappable action: its name in the config file's
// [keys] table, its default keys (as bubbletea spells them), what it
// does, and the scope where its keys must be unique.
type KeyAction struct {
	Name     string
	Defaults []string
	Desc     string
	Scope    KeyScope
}

// KeyScope says where an action's keys are live, for conflict checks.
type KeyScope int

const (
	// ScopeGlobal keys work everywhere (the root's).
	ScopeGlobal KeyScope = iota
	// ScopeTable keys work on a tab with its table.
	ScopeTable
	// ScopeView keys work in the process view.
	ScopeView
)

// KeyActions is every remappable action, the one list the bindings, the
// config file's checks and the help are built from. Menu keys (Enter,
// Esc, y inside a menu) and the tab number keys are not remappable.
var KeyActions = []KeyAction{
	{"quit", []string{"q", "f10", "ctrl+c"}, "quit", ScopeGlobal},
	{"help", []string{"?", "f1"}, "help", ScopeGlobal},
	{"pause", []string{"z"}, "pause", ScopeGlobal},
	{"next_tab", []string{"tab"}, "next tab", ScopeGlobal},
	{"prev_tab", []string{"shift+tab"}, "prev tab", ScopeGlobal},
	{"warnings", []string{"w"}, "all warnings, worst first", ScopeGlobal},
	{"process", []string{"enter"}, "process view of the row", ScopeGlobal},
	{"charts", []string{"g"}, "show/hide the charts", ScopeTable},

	{"up", []string{"up"}, "up", ScopeTable},
	{"down", []string{"down"}, "down", ScopeTable},
	{"page_up", []string{"pgup"}, "page up", ScopeTable},
	{"page_down", []string{"pgdown"}, "page down", ScopeTable},
	{"home", []string{"home"}, "first process", ScopeTable},
	{"end", []string{"end"}, "last process", ScopeTable},
	{"sort_left", []string{"<"}, "sort: column to the left", ScopeTable},
	{"sort_right", []string{">"}, "sort: column to the right", ScopeTable},
	{"sort_menu", []string{"f6"}, "choose sort column", ScopeTable},
	{"invert", []string{"I"}, "invert sort order", ScopeTable},
	{"sort_cpu", []string{"P"}, "sort by %CPU", ScopeTable},
	{"sort_mem", []string{"M"}, "sort by memory", ScopeTable},
	{"sort_time", []string{"T"}, "sort by CPU time", ScopeTable},
	{"sort_pid", []string{"N"}, "sort by PID", ScopeTable},
	{"filter", []string{"/", "f3", "f4"}, "filter: name, cmdline, user", ScopeTable},
	{"clear_filter", []string{"esc"}, "clear filter", ScopeTable},
	{"tree", []string{"t", "f5"}, "tree view", ScopeTable},
	{"follow", []string{"F"}, "follow selected process", ScopeTable},
	{"kill", []string{"k", "f9"}, "send a signal", ScopeTable},
	{"memory_view", []string{"v"}, "view: processes/cgroups/slab/zones", ScopeTable},
	{"cache_files", []string{"f"}, "open files of the selected process in the page cache (pcstat)", ScopeTable},

	{"back", []string{"esc"}, "back to the table", ScopeView},
}

// KeyMap is the config file's [keys]: action name → the keys that replace
// its defaults. Nil is every default.
type KeyMap map[string][]string

// LookupAction is the action named name, if there is one.
func LookupAction(name string) (KeyAction, bool) {
	for _, a := range KeyActions {
		if a.Name == name {
			return a, true
		}
	}
	return KeyAction{}, false
}

// Keys are the keys of action: the config file's, or its defaults.
func (m KeyMap) Keys(action string) []string {
	if ks, ok := m[action]; ok && len(ks) > 0 {
		return ks
	}
	a, _ := LookupAction(action)
	return a.Defaults
}

// Binding is the binding of a remappable action with its help showing the
// keys as bound ("q F10 C-c"); desc replaces the action's description
// when not empty.
func (c *Context) Binding(action, desc string) key.Binding {
	var m KeyMap
	if c != nil {
		m = c.Keys
	}
	keys := m.Keys(action)
	if desc == "" {
		a, _ := LookupAction(action)
		desc = a.Desc
	}
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(KeysHelp(keys...), desc))
}

// FirstKey is how the first key of b reads, for the footer's short
// forms ("F6", "<").
func FirstKey(b key.Binding) string {
	if ks := b.Keys(); len(ks) > 0 {
		return KeyName(ks[0])
	}
	return ""
}

// KeysHelp is how keys read in the help: "? F1", "q F10 C-c".
func KeysHelp(keys ...string) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = KeyName(k)
	}
	return strings.Join(names, " ")
}

var keyNames = map[string]string{
	"up": "↑", "down": "↓", "left": "←", "right": "→", "pgup": "PgUp", "pgdown": "PgDn",
	"home": "Home", "end": "End", "enter": "Enter", "esc": "Esc", "tab": "Tab", "shift+tab": "S-Tab",
	"space": "Space", "backspace": "Backspace", "delete": "Del", "insert": "Ins",
}

// KeyName is how one key reads: "C-c" for ctrl+c, "F6" for f6.
func KeyName(k string) string {
	if n, ok := keyNames[k]; ok {
		return n
	}
	if rest, ok := strings.CutPrefix(k, "ctrl+"); ok {
		return "C-" + KeyName(rest)
	}
	if rest, ok := strings.CutPrefix(k, "alt+"); ok {
		return "M-" + KeyName(rest)
	}
	if len(k) >= 2 && k[0] == 'f' && strings.Trim(k[1:], "0123456789") == "" {
		return "F" + k[1:]
	}
	return k
}

// ValidKey reports whether k is a key name bubbletea can deliver: one
// character, a named key, or either after ctrl+, alt+ or shift+.
func ValidKey(k string) bool {
	for _, mod := range []string{"ctrl+", "alt+", "shift+"} {
		if rest, ok := strings.CutPrefix(k, mod); ok && rest != "" {
			return ValidKey(rest)
		}
	}
	if utf8.RuneCountInString(k) == 1 {
		r, _ := utf8.DecodeRuneInString(k)
		return r > ' ' && r != 0x7f
	}
	if _, ok := keyNames[k]; ok {
		return true
	}
	if len(k) >= 2 && k[0] == 'f' && strings.Trim(k[1:], "0123456789") == "" {
		return len(k) <= 3
	}
	return false
}

// ActionNames lists the remappable actions, sorted, for error messages.
func ActionNames() string {
	names := make([]string, len(KeyActions))
	for i, a := range KeyActions {
		names[i] = a.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// CheckKeys finds what is wrong with a [keys] table: an unknown action, an
// unknown key name, or a key bound to two actions live at the same time.
// Each problem names the action it is about.
func CheckKeys(m KeyMap) map[string]string {
	problems := map[string]string{}
	for action, keys := range m {
		if _, ok := LookupAction(action); !ok {
			problems[action] = "unknown action " + quote(action) + " (actions: " + ActionNames() + ")"
			continue
		}
		if len(keys) == 0 {
			problems[action] = "no keys for " + action
		}
		for _, k := range keys {
			if !ValidKey(k) {
				problems[action] = "unknown key " + quote(k) + " (one character, or a name such as f5, enter, esc, pgdown, ctrl+x)"
			}
		}
	}
	// Conflicts: the same key for two actions live at once. Global keys
	// are live with both the table's and the process view's.
	owner := map[string]KeyAction{}
	for _, a := range KeyActions {
		for _, k := range m.Keys(a.Name) {
			prev, seen := owner[k]
			if !seen {
				owner[k] = a
				continue
			}
			if prev.Scope != a.Scope && prev.Scope != ScopeGlobal && a.Scope != ScopeGlobal {
				continue // table and view keys are never live together
			}
			// Said of whichever of the two the file rebinds.
			who := a.Name
			if _, mine := m[a.Name]; !mine {
				who = prev.Name
			}
			if problems[who] == "" {
				problems[who] = "key " + quote(k) + " is bound to both " + prev.Name + " and " + a.Name
			}
		}
	}
	return problems
}

func quote(s string) string { return "\"" + s + "\"" }
