package proctable

import (
	"strings"

	"charm.land/bubbles/v2/key"

	"github.com/vitals-dev/vitals/ui/common"
)

// keyMap follows /work/shared/notes/ux.md: htop's meanings, so `k` is kill
// and navigation is arrows/PgUp/PgDn/Home/End only.
type keyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding

	SortPrev, SortNext, SortMenu, Invert key.Binding
	SortCPU, SortMem, SortTime, SortPID  key.Binding

	Filter, ClearFilter, Tree, Follow, Kill key.Binding

	// inside the filter input and menus
	Choose, Cancel, Confirm key.Binding
}

// keyMapFor builds the table's keys as ctx binds them (the config file's
// [keys], or the defaults in common.KeyActions).
func keyMapFor(ctx *common.Context) keyMap {
	b := func(action string) key.Binding { return ctx.Binding(action, "") }
	return keyMap{
		Up: b("up"), Down: b("down"), PageUp: b("page_up"), PageDown: b("page_down"), Home: b("home"), End: b("end"),

		SortPrev: b("sort_left"), SortNext: b("sort_right"), SortMenu: b("sort_menu"), Invert: b("invert"),
		SortCPU: b("sort_cpu"), SortMem: b("sort_mem"), SortTime: b("sort_time"), SortPID: b("sort_pid"),

		Filter: b("filter"), ClearFilter: b("clear_filter"), Tree: b("tree"), Follow: b("follow"), Kill: b("kill"),

		Choose:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("Enter", "choose")),
		Cancel:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("Esc", "cancel")),
		Confirm: key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "send")),
	}
}

// updateKeys disables the quick sorts whose column this table lacks.
func (t *Table) updateKeys() {
	t.keys.SortCPU.SetEnabled(t.columnIndex("cpu") >= 0)
	t.keys.SortMem.SetEnabled(t.columnIndex("rss") >= 0)
	t.keys.SortTime.SetEnabled(t.columnIndex("time") >= 0)
	t.keys.SortPID.SetEnabled(t.columnIndex("pid") >= 0)
}

// KeyHelp lists the keys that work now: the table's keys, or while the
// filter input or a menu is open, the keys of that.
func (t *Table) KeyHelp() []key.Binding {
	k := t.keys
	switch t.mode {
	case modeFilter:
		return []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("Enter", "keep filter")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("Esc", "clear filter")),
			key.NewBinding(key.WithKeys("backspace"), key.WithHelp("Backspace", "delete")),
			key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("Ctrl-U", "erase")),
			key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "move selection")),
		}
	case modeSortMenu, modeKillMenu:
		return []key.Binding{
			key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "move")),
			k.Choose, k.Cancel,
		}
	case modeKillConfirm:
		return []key.Binding{
			k.Confirm,
			key.NewBinding(key.WithKeys("n"), key.WithHelp("n/any", "cancel")),
		}
	}
	// One line for cursor movement: everyone knows the arrows (as bound).
	var moveKeys []string
	for _, b := range []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End} {
		moveKeys = append(moveKeys, b.Keys()...)
	}
	move := key.NewBinding(key.WithKeys(moveKeys...), key.WithHelp("↑↓ PgUp/Dn", "move (Home End)"))
	if !defaultMoves(moveKeys) {
		move.SetHelp(common.KeysHelp(moveKeys...), "move: up down page up/down first last")
	}
	out := []key.Binding{move, k.SortPrev, k.SortNext, k.SortMenu, k.Invert}
	for _, b := range []key.Binding{k.SortCPU, k.SortMem, k.SortTime, k.SortPID} {
		if b.Enabled() {
			out = append(out, b)
		}
	}
	return append(out, k.Filter, k.ClearFilter, k.Tree, k.Follow, k.Kill)
}

// ShortKeyHelp is the footer's compact version of KeyHelp: the actions, in
// a few cells each, the way htop's function-key bar reads.
func (t *Table) ShortKeyHelp() []key.Binding {
	if t.mode != modeNormal {
		return t.KeyHelp()
	}
	k := t.keys
	short := func(keys, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys), key.WithHelp(keys, desc))
	}
	first := common.FirstKey
	return []key.Binding{
		short(first(k.SortMenu)+" "+first(k.SortPrev)+first(k.SortNext), "sort"), short(first(k.Invert), "invert"), short(first(k.Filter), "filter"),
		short(first(k.Tree), "tree"), short(first(k.Follow), "follow"), short(first(k.Kill), "kill"),
	}
}

// defaultMoves reports whether the movement keys are the usual ones, which
// the help sums up in one short entry.
func defaultMoves(keys []string) bool {
	return strings.Join(keys, " ") == "up down pgup pgdown home end"
}
