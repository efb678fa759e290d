package proctable

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
)

// wheelStep is how many rows one wheel notch scrolls.
const wheelStep = 3

// maxFilterLen keeps a runaway paste from becoming a filter nobody can see.
const maxFilterLen = 256

// Update handles keys and mouse events; it never returns a command.
func (t *Table) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch t.mode {
		case modeFilter:
			t.filterKey(msg)
		case modeSortMenu:
			t.sortMenuKey(msg)
		case modeKillMenu:
			t.killMenuKey(msg)
		case modeKillConfirm:
			t.confirmKey(msg)
		default:
			t.normalKey(msg)
		}
	case tea.PasteMsg:
		if t.mode == modeFilter {
			t.appendFilter(msg.Content)
		}
	case tea.MouseClickMsg:
		if t.mode == modeNormal {
			t.click(msg.Mouse())
		}
	case tea.MouseWheelMsg:
		if t.mode == modeNormal || t.mode == modeFilter {
			t.wheel(msg.Mouse())
		}
	}
	return nil
}

func (t *Table) normalKey(msg tea.KeyPressMsg) {
	t.setStatus("", false)
	k := t.keys
	page := max(1, t.pageSize())
	switch {
	case key.Matches(msg, k.Up):
		t.pick(t.cursor - 1)
	case key.Matches(msg, k.Down):
		t.pick(t.cursor + 1)
	case key.Matches(msg, k.PageUp):
		t.offset -= page
		t.pick(t.cursor - page)
	case key.Matches(msg, k.PageDown):
		t.offset += page
		t.pick(t.cursor + page)
	case key.Matches(msg, k.Home):
		t.pick(0)
	case key.Matches(msg, k.End):
		t.pick(len(t.rows) - 1)
	case key.Matches(msg, k.SortPrev):
		if t.sortIdx > 0 {
			t.sortByDefault(t.sortIdx - 1)
		}
	case key.Matches(msg, k.SortNext):
		if t.sortIdx < len(t.cols)-1 {
			t.sortByDefault(t.sortIdx + 1)
		}
	case key.Matches(msg, k.SortMenu):
		if len(t.cols) > 0 {
			t.mode, t.menuCursor = modeSortMenu, t.sortIdx
		}
	case key.Matches(msg, k.Invert):
		t.setSort(t.sortIdx, !t.desc)
	case key.Matches(msg, k.SortCPU):
		t.sortByDefault(t.columnIndex("cpu"))
	case key.Matches(msg, k.SortMem):
		t.sortByDefault(t.columnIndex("rss"))
	case key.Matches(msg, k.SortTime):
		t.sortByDefault(t.columnIndex("time"))
	case key.Matches(msg, k.SortPID):
		t.sortByDefault(t.columnIndex("pid"))
	case key.Matches(msg, k.Filter):
		t.mode = modeFilter
	case key.Matches(msg, k.ClearFilter):
		if t.filter != "" {
			t.filter = ""
			t.rebuild()
		}
	case key.Matches(msg, k.Tree):
		t.tree = !t.tree
		t.rebuild()
	case key.Matches(msg, k.Follow):
		t.toggleFollow()
	case key.Matches(msg, k.Kill):
		t.openKillMenu()
	}
}

// pick is the user moving the cursor to row i. As in htop, moving the
// cursor by hand stops following a process.
func (t *Table) pick(i int) {
	t.follow = false
	if len(t.rows) == 0 {
		t.clampOffset()
		return
	}
	t.setCursor(i)
	t.clampOffset()
}

func (t *Table) commAt(i int) string {
	if i < 0 || i >= len(t.rows) {
		return ""
	}
	return model.Sanitize(t.rows[i].p.Comm)
}

func (t *Table) toggleFollow() {
	if t.follow {
		t.follow = false
		return
	}
	if !t.hasSel {
		t.setStatus("no process to follow", false)
		return
	}
	t.follow = true
	t.followKey, t.followComm = t.selKey, t.commAt(t.cursor)
	t.clampOffset()
}

func (t *Table) openKillMenu() {
	switch {
	case t.kill == nil:
		t.setStatus("sending signals is not available here", true)
	case !t.hasSel:
		t.setStatus("no process selected", false)
	default:
		t.killKey, t.killComm = t.selKey, t.commAt(t.cursor)
		// settle keeps the highlight on the target while the list
		// refreshes under the menu and the confirm line.
		t.mode, t.menuCursor = modeKillMenu, 0
	}
}

func (t *Table) filterKey(msg tea.KeyPressMsg) {
	k := msg.Key()
	switch msg.String() {
	case "enter":
		t.mode = modeNormal
	case "esc":
		t.mode = modeNormal
		t.setFilter("")
	case "backspace", "ctrl+h":
		if t.filter != "" {
			_, n := utf8.DecodeLastRuneInString(t.filter)
			t.setFilter(t.filter[:len(t.filter)-n])
		}
	case "ctrl+u":
		t.setFilter("")
	case "up":
		t.pick(t.cursor - 1)
	case "down":
		t.pick(t.cursor + 1)
	case "pgup":
		t.pick(t.cursor - max(1, t.pageSize()))
	case "pgdown":
		t.pick(t.cursor + max(1, t.pageSize()))
	default:
		if k.Text != "" && k.Mod&(tea.ModCtrl|tea.ModAlt|tea.ModMeta|tea.ModSuper) == 0 {
			t.appendFilter(k.Text)
		}
	}
}

func (t *Table) appendFilter(s string) {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return
	}
	f := t.filter + s
	for len(f) > maxFilterLen {
		_, n := utf8.DecodeLastRuneInString(f)
		f = f[:len(f)-n]
	}
	t.setFilter(f)
}

func (t *Table) setFilter(f string) {
	if f == t.filter {
		return
	}
	t.filter = f
	t.rebuild()
}

// menuMove handles the keys shared by the sort and signal menus and
// reports whether it used the key.
func (t *Table) menuMove(msg tea.KeyPressMsg, n int) bool {
	switch msg.String() {
	case "up":
		t.menuCursor--
	case "down":
		t.menuCursor++
	case "home", "pgup":
		t.menuCursor = 0
	case "end", "pgdown":
		t.menuCursor = n - 1
	default:
		return false
	}
	t.menuCursor = max(0, min(t.menuCursor, n-1))
	return true
}

func (t *Table) sortMenuKey(msg tea.KeyPressMsg) {
	if t.menuMove(msg, len(t.cols)) {
		return
	}
	switch {
	case key.Matches(msg, t.keys.Choose):
		t.mode = modeNormal
		if t.menuCursor != t.sortIdx {
			t.sortByDefault(t.menuCursor)
		}
	case key.Matches(msg, t.keys.Cancel), key.Matches(msg, t.keys.SortMenu):
		t.mode = modeNormal
	}
}

func (t *Table) killMenuKey(msg tea.KeyPressMsg) {
	if t.menuMove(msg, len(signals)) {
		return
	}
	switch {
	case key.Matches(msg, t.keys.Choose):
		t.killSig = signals[t.menuCursor]
		t.mode = modeKillConfirm
	case key.Matches(msg, t.keys.Cancel):
		t.mode = modeNormal
	}
}

// confirmKey sends on y and cancels on anything else: the default is No.
func (t *Table) confirmKey(msg tea.KeyPressMsg) {
	t.mode = modeNormal
	target := fmt.Sprintf("%d (%s)", t.killKey.PID, t.killComm)
	if !key.Matches(msg, t.keys.Confirm) {
		t.setStatus(t.killSig.name+" not sent to "+target, false)
		return
	}
	if err := t.kill(t.killKey, t.killSig.num); err != nil {
		t.setStatus(fmt.Sprintf("%s to %s failed: %v", t.killSig.name, target, err), true)
		return
	}
	t.setStatus("sent "+t.killSig.name+" to "+target, false)
}

func (t *Table) click(m tea.Mouse) {
	if m.Button != tea.MouseLeft {
		return
	}
	x, y := m.X-t.originX, m.Y-t.originY
	if x < 0 || y < 0 || x >= t.width || y >= t.height-1 {
		return // outside, or on the status line
	}
	if y == 0 {
		for _, s := range t.layout {
			if x >= s.x && x <= s.x+s.w { // the gap after a column counts as it
				t.setStatus("", false)
				if s.col == t.sortIdx {
					t.setSort(s.col, !t.desc)
				} else {
					t.sortByDefault(s.col)
				}
				return
			}
		}
		return
	}
	if i := t.offset + y - 1; i < len(t.rows) {
		t.pick(i)
	}
}

func (t *Table) wheel(m tea.Mouse) {
	x, y := m.X-t.originX, m.Y-t.originY
	if x < 0 || y < 0 || x >= t.width || y >= t.height {
		return
	}
	// The selection moves with the view, so it never scrolls off-screen.
	step := wheelStep
	switch m.Button {
	case tea.MouseWheelUp:
		step = -wheelStep
	case tea.MouseWheelDown:
	default:
		return
	}
	t.offset += step
	t.pick(t.cursor + step)
}
