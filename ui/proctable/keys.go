package proctable

import "charm.land/bubbles/v2/key"

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

func defaultKeyMap() keyMap {
	return keyMap{
		Up:       key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "up")),
		Down:     key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("PgUp", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("PgDn", "page down")),
		Home:     key.NewBinding(key.WithKeys("home"), key.WithHelp("Home", "first process")),
		End:      key.NewBinding(key.WithKeys("end"), key.WithHelp("End", "last process")),

		SortPrev: key.NewBinding(key.WithKeys("<"), key.WithHelp("<", "sort: column to the left")),
		SortNext: key.NewBinding(key.WithKeys(">"), key.WithHelp(">", "sort: column to the right")),
		SortMenu: key.NewBinding(key.WithKeys("f6"), key.WithHelp("F6", "choose sort column")),
		Invert:   key.NewBinding(key.WithKeys("I"), key.WithHelp("I", "invert sort order")),
		SortCPU:  key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "sort by %CPU")),
		SortMem:  key.NewBinding(key.WithKeys("M"), key.WithHelp("M", "sort by memory")),
		SortTime: key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "sort by CPU time")),
		SortPID:  key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "sort by PID")),

		Filter:      key.NewBinding(key.WithKeys("/", "f3", "f4"), key.WithHelp("/ F3", "filter: name, cmdline, user")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("Esc", "clear filter")),
		Tree:        key.NewBinding(key.WithKeys("t", "f5"), key.WithHelp("t F5", "tree view")),
		Follow:      key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "follow selected process")),
		Kill:        key.NewBinding(key.WithKeys("k", "f9"), key.WithHelp("k F9", "send a signal")),

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
	out := []key.Binding{
		// One line for cursor movement: everyone knows the arrows.
		key.NewBinding(key.WithKeys("up", "down", "pgup", "pgdown", "home", "end"), key.WithHelp("↑↓ PgUp/Dn", "move (Home End)")),
		k.SortPrev, k.SortNext, k.SortMenu, k.Invert,
	}
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
	short := func(keys, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys), key.WithHelp(keys, desc))
	}
	return []key.Binding{
		short("F6 <>", "sort"), short("I", "invert"), short("/", "filter"),
		short("t", "tree"), short("F", "follow"), short("k", "kill"),
	}
}
