// Package proctable is the process table every tab shares: sortable columns
// supplied by the tab, a live filter, a tree view, following a process across
// refreshes and a signal menu with a confirm step. It never touches /proc and
// never sends a signal itself; the tab hands it snapshots and a KillFunc.
package proctable

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// Align is how a column's cells sit in their width.
type Align int

const (
	AlignLeft Align = iota
	AlignRight
)

// Column is one column of the table, supplied by the tab.
type Column struct {
	ID    string // "pid", "cpu", ...
	Title string // header text, e.g. "%CPU"
	// Width in cells. The last column (COMMAND) is flexible: Width is its
	// minimum and it takes the remaining width.
	Width int
	// Priority says which columns a narrow pane keeps: 1 is kept longest,
	// larger numbers go first (ties: the rightmost first). The sort column
	// and the last column are never dropped.
	Priority int
	Align    Align
	// Value formats the cell. The table sanitises every cell, so a value
	// func may return untrusted text (comm, cmdline) as it is.
	Value func(p *model.Process) string
	// Less is the ascending order for this column; ties fall back to PID.
	Less func(a, b *model.Process) bool
	// Key, when set, is the same order as a number: the table reads it
	// once per process and sorts the numbers, instead of calling Less
	// twice per comparison (40,000 comparisons for 2,000 processes).
	Key func(p *model.Process) float64
	// DescendingFirst: numeric columns sort descending by default, as in
	// top and htop.
	DescendingFirst bool
	// Help says what the number means and where it comes from.
	Help string
	// Detail marks a value read on demand (smaps_rollup): sorting by it
	// needs the value of every process, not only of the rows on screen.
	Detail bool
}

type mode int

const (
	modeNormal mode = iota
	modeFilter
	modeSortMenu
	modeKillMenu
	modeKillConfirm
)

// row is one visible line: a process and, in tree view, its prefix
// (├─ └─ │) stored as a range of Table.prefixBuf so rebuilding the tree
// does not allocate a string per process.
type row struct {
	p                  *model.Process
	prefStart, prefEnd int32
}

// span is where a shown column sits on screen.
type span struct{ col, x, w int }

// Table is the process table widget. It is not safe for concurrent use; the
// bubbletea program calls it from one goroutine.
type Table struct {
	ctx  *common.Context
	cols []Column
	kill common.KillFunc

	width, height    int
	originX, originY int
	layout           []span // shown columns, recomputed on SetSize
	shown            []bool // layout scratch, by column
	order            []int  // layout scratch: columns by priority

	sortIdx int
	desc    bool
	tree    bool

	// all points into the caller's (immutable) snapshot, in sort order;
	// matched is all after the filter; rows is what is drawn. All three are
	// reused between snapshots.
	all     []*model.Process
	matched []*model.Process
	keyed   []keyedProcess // sortAll's buffer
	rows    []row
	loaded  bool // SetProcesses was called at least once

	// tree-building scratch, reused
	prefixBuf  []byte
	pidIdx     map[int32]int
	firstChild []int
	lastChild  []int
	nextSib    []int
	isChild    []bool
	visited    []bool
	lastStack  []bool

	// cursor is a row index: as the list re-sorts under it, the cursor
	// stays on its row and the process there changes (htop). Only follow
	// (F) keeps the cursor on one process.
	cursor, offset int
	selKey         model.ProcKey
	hasSel         bool

	follow     bool
	followKey  model.ProcKey
	followComm string

	filter string
	mode   mode

	menuCursor int // sort menu and signal menu
	killKey    model.ProcKey
	killComm   string
	killSig    signal

	status    string
	statusErr bool

	keys keyMap
}

// New builds a table with the given columns, sorted by the column sortID
// (the first column if there is none) in that column's default direction.
func New(ctx *common.Context, cols []Column, sortID string, kill common.KillFunc) *Table {
	if ctx == nil {
		ctx = common.NewContext(true)
	}
	t := &Table{
		ctx:    ctx,
		cols:   slices.Clone(cols),
		kill:   kill,
		pidIdx: make(map[int32]int),
		keys:   keyMapFor(ctx),
	}
	t.sortIdx = max(0, t.columnIndex(sortID))
	if len(t.cols) > 0 {
		t.desc = t.cols[t.sortIdx].DescendingFirst
	}
	t.updateKeys()
	return t
}

func (t *Table) columnIndex(id string) int {
	for i := range t.cols {
		if t.cols[i].ID == id {
			return i
		}
	}
	return -1
}

// ShowColumns keeps only the columns named (by id or title, any case),
// in their declared order; the last column (COMMAND) always stays. The
// sort column stays if named; otherwise the table sorts by the first
// column kept that sorts largest first (or the first kept).
func (t *Table) ShowColumns(names []string) error {
	want := map[int]bool{}
	for _, n := range names {
		i := slices.IndexFunc(t.cols, func(c Column) bool {
			return strings.EqualFold(c.ID, n) || strings.EqualFold(c.Title, n)
		})
		if i < 0 {
			ids := make([]string, len(t.cols))
			for j, c := range t.cols {
				ids[j] = c.ID
			}
			return fmt.Errorf("no column %q (columns: %s)", n, strings.Join(ids, ", "))
		}
		want[i] = true
	}
	sortID := t.SortID()
	kept := t.cols[:0:0]
	for i, c := range t.cols {
		if want[i] || i == len(t.cols)-1 {
			kept = append(kept, c)
		}
	}
	t.cols = kept
	t.sortIdx = t.columnIndex(sortID)
	if t.sortIdx < 0 {
		t.sortIdx = max(0, slices.IndexFunc(t.cols, func(c Column) bool { return c.DescendingFirst }))
		t.desc = t.cols[t.sortIdx].DescendingFirst
	}
	t.updateKeys()
	t.computeLayout()
	t.sortAll()
	t.rebuild()
	return nil
}

// Columns returns the table's columns, for the help overlay.
func (t *Table) Columns() []Column { return slices.Clone(t.cols) }

// Explain implements common.Explainer from the columns' Help.
func (t *Table) Explain() [][2]string {
	out := make([][2]string, 0, len(t.cols))
	for _, c := range t.cols {
		if c.Help != "" {
			out = append(out, [2]string{c.Title, c.Help})
		}
	}
	return out
}

// SortID is the id of the sort column.
func (t *Table) SortID() string {
	if len(t.cols) == 0 {
		return ""
	}
	return t.cols[t.sortIdx].ID
}

// Descending reports whether the sort is descending.
func (t *Table) Descending() bool { return t.desc }

// Selected is the process under the cursor: the one a kill would target.
func (t *Table) Selected() (model.ProcKey, bool) { return t.selKey, t.hasSel }

// VisibleKeys appends the identities of the rows on screen (and of the
// selected process) to dst: the processes whose costly details are worth
// reading.
func (t *Table) VisibleKeys(dst []model.ProcKey) []model.ProcKey {
	end := min(len(t.rows), t.offset+t.pageSize())
	for i := t.offset; i < end; i++ {
		dst = append(dst, t.rows[i].p.Key())
	}
	if t.hasSel {
		dst = append(dst, t.selKey)
	}
	return dst
}

// SortNeedsDetail is true when the sort column is a Detail column.
func (t *Table) SortNeedsDetail() bool {
	return t.sortIdx >= 0 && t.sortIdx < len(t.cols) && t.cols[t.sortIdx].Detail
}

// Status is the last message (a signal sent, an error, a followed process
// that exited); it is cleared by the next key.
func (t *Table) Status() string { return t.status }

// Capturing is true while the filter input or a menu owns the keyboard.
func (t *Table) Capturing() bool { return t.mode != modeNormal }

// Following reports whether the selection follows a process.
func (t *Table) Following() bool { return t.follow }

// Tree reports whether the tree view is on.
func (t *Table) Tree() bool { return t.tree }

// Filter is the active filter text ("" for none).
func (t *Table) Filter() string { return t.filter }

// SetOrigin tells the table where its top-left cell is on the screen, so
// mouse coordinates can be mapped onto header and rows.
func (t *Table) SetOrigin(x, y int) { t.originX, t.originY = x, y }

// SetSize gives the table width x height cells.
func (t *Table) SetSize(width, height int) {
	t.width, t.height = max(0, width), max(0, height)
	t.computeLayout()
	t.clampOffset()
}

// computeLayout decides which columns are shown: the sort column, then the
// others by priority while they fit beside the flexible last column's
// minimum width, drawn in their declared order; the last column takes what
// is left. The sort column is never dropped: when even it does not fit
// beside the last column's minimum, the last column gives up its minimum,
// and below that the sort column is all that is drawn.
func (t *Table) computeLayout() {
	t.layout = t.layout[:0]
	n := len(t.cols)
	if n == 0 || t.width <= 0 {
		return
	}
	last := n - 1
	cellW := func(i int) int { return max(1, t.cols[i].Width) }
	if t.sortIdx != last && cellW(t.sortIdx)+2 > t.width {
		t.layout = append(t.layout, span{col: t.sortIdx, x: 0, w: t.width})
		return
	}
	t.shown = fill(t.shown, n, false)
	must := t.sortIdx
	if must == last {
		must = -1
	}
	t.order = common.ChooseColumns(last, must, t.width-max(1, t.cols[last].Width), cellW,
		func(i int) int { return t.cols[i].Priority }, t.shown, t.order)
	x := 0
	for i := 0; i < last; i++ {
		if t.shown[i] {
			t.layout = append(t.layout, span{col: i, x: x, w: cellW(i)})
			x += cellW(i) + 1
		}
	}
	t.layout = append(t.layout, span{col: last, x: x, w: t.width - x})
}

// pageSize is how many process rows fit between header and status line.
func (t *Table) pageSize() int { return max(0, t.height-2) }

// SetProcesses replaces the process list. procs is shared and immutable: the
// table keeps pointers into it and never writes through them.
func (t *Table) SetProcesses(procs []model.Process) {
	t.loaded = true
	t.all = model.Reuse(t.all)
	for i := range procs {
		t.all = append(t.all, &procs[i])
	}
	t.sortAll()
	t.rebuild()
}

func (t *Table) sortAll() {
	if len(t.cols) == 0 || t.cols[t.sortIdx].Key == nil {
		slices.SortFunc(t.all, t.compare)
		return
	}
	key := t.cols[t.sortIdx].Key
	t.keyed = model.Reuse(t.keyed)
	for _, p := range t.all {
		t.keyed = append(t.keyed, keyedProcess{key(p), p})
	}
	desc := t.desc
	slices.SortFunc(t.keyed, func(a, b keyedProcess) int {
		if a.k != b.k {
			if (a.k < b.k) != desc {
				return -1
			}
			return 1
		}
		return comparePIDs(a.p, b.p)
	})
	for i := range t.keyed {
		t.all[i] = t.keyed[i].p
	}
}

// keyedProcess is a process with its sort key, read once per sort.
type keyedProcess struct {
	k float64
	p *model.Process
}

// comparePIDs is the tie order: PID, then start time.
func comparePIDs(a, b *model.Process) int {
	switch {
	case a.PID != b.PID:
		if a.PID < b.PID {
			return -1
		}
		return 1
	case a.StartTicks != b.StartTicks:
		if a.StartTicks < b.StartTicks {
			return -1
		}
		return 1
	}
	return 0
}

// compare orders by the sort column, then by PID and start time so equal
// values keep a stable order between refreshes.
func (t *Table) compare(a, b *model.Process) int {
	if len(t.cols) > 0 {
		if less := t.cols[t.sortIdx].Less; less != nil {
			switch {
			case less(a, b):
				if t.desc {
					return 1
				}
				return -1
			case less(b, a):
				if t.desc {
					return -1
				}
				return 1
			}
		}
	}
	return comparePIDs(a, b)
}

// rebuild re-applies the filter and tree to the sorted list and settles the
// cursor.
func (t *Table) rebuild() {
	t.matched = model.Reuse(t.matched)
	if t.filter == "" {
		t.matched = append(t.matched, t.all...)
	} else {
		needle := strings.ToLower(t.filter)
		for _, p := range t.all {
			if matches(p, needle) {
				t.matched = append(t.matched, p)
			}
		}
	}
	t.rows = model.Reuse(t.rows)
	t.prefixBuf = t.prefixBuf[:0]
	if t.tree {
		t.buildTree()
	} else {
		for _, p := range t.matched {
			t.rows = append(t.rows, row{p: p})
		}
	}
	t.settle()
}

func matches(p *model.Process, lowerNeedle string) bool {
	return containsFold(p.Comm, lowerNeedle) ||
		containsFold(p.Cmdline, lowerNeedle) ||
		containsFold(p.User, lowerNeedle)
}

// containsFold reports whether s contains needle (already lower case),
// ignoring case, without allocating for ASCII needles.
func containsFold(s, needle string) bool {
	if needle == "" {
		return true
	}
	for i := 0; i < len(needle); i++ {
		if needle[i] >= 0x80 {
			return strings.Contains(strings.ToLower(s), needle)
		}
	}
	n := len(needle)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

// maxTreeIndent caps drawn tree levels: deeper levels would only push the
// command off screen.
const maxTreeIndent = 40

// buildTree orders matched (already sorted) as a forest: a process whose
// parent is in the list is drawn under it, siblings keep the sort order.
func (t *Table) buildTree() {
	n := len(t.matched)
	clear(t.pidIdx)
	for i, p := range t.matched {
		if _, dup := t.pidIdx[p.PID]; !dup {
			t.pidIdx[p.PID] = i
		}
	}
	t.firstChild = fill(t.firstChild, n, -1)
	t.lastChild = fill(t.lastChild, n, -1)
	t.nextSib = fill(t.nextSib, n, -1)
	t.isChild = fill(t.isChild, n, false)
	t.visited = fill(t.visited, n, false)
	for i, p := range t.matched {
		j, ok := t.pidIdx[p.PPID]
		if !ok || j == i || p.PPID == p.PID {
			continue
		}
		t.isChild[i] = true
		if t.lastChild[j] < 0 {
			t.firstChild[j] = i
		} else {
			t.nextSib[t.lastChild[j]] = i
		}
		t.lastChild[j] = i
	}
	t.lastStack = t.lastStack[:0]
	for i := range n {
		if !t.isChild[i] {
			t.walk(i, 0, false)
		}
	}
	// Only a parent cycle (impossible in a consistent snapshot) leaves
	// processes unvisited; show them as roots rather than lose them.
	for i := range n {
		if !t.visited[i] {
			t.walk(i, 0, false)
		}
	}
}

func (t *Table) walk(i, depth int, last bool) {
	t.visited[i] = true
	start := len(t.prefixBuf)
	if depth > 0 {
		anc := t.lastStack
		if len(anc) > maxTreeIndent {
			anc = anc[len(anc)-maxTreeIndent:]
		}
		for _, l := range anc {
			if l {
				t.prefixBuf = append(t.prefixBuf, "   "...)
			} else {
				t.prefixBuf = append(t.prefixBuf, "│  "...)
			}
		}
		if last {
			t.prefixBuf = append(t.prefixBuf, "└─ "...)
		} else {
			t.prefixBuf = append(t.prefixBuf, "├─ "...)
		}
	}
	t.rows = append(t.rows, row{p: t.matched[i], prefStart: int32(start), prefEnd: int32(len(t.prefixBuf))})
	if depth > 0 {
		t.lastStack = append(t.lastStack, last)
	}
	for c := t.firstChild[i]; c >= 0; c = t.nextSib[c] {
		if !t.visited[c] {
			t.walk(c, depth+1, t.nextSib[c] < 0)
		}
	}
	if depth > 0 {
		t.lastStack = t.lastStack[:len(t.lastStack)-1]
	}
}

func fill[T any](s []T, n int, v T) []T {
	if cap(s) < n {
		s = make([]T, n)
	}
	s = s[:n]
	for i := range s {
		s[i] = v
	}
	return s
}

func (t *Table) indexOf(k model.ProcKey) int {
	for i := range t.rows {
		if p := t.rows[i].p; p.PID == k.PID && p.StartTicks == k.StartTicks {
			return i
		}
	}
	return -1
}

func (t *Table) inAll(k model.ProcKey) bool {
	for _, p := range t.all {
		if p.PID == k.PID && p.StartTicks == k.StartTicks {
			return true
		}
	}
	return false
}

// settle puts the cursor on the followed process, or on the target of an
// open signal menu; otherwise it stays on its row index. The view always
// holds the cursor.
func (t *Table) settle() {
	idx := -1
	switch {
	case t.follow:
		idx = t.indexOf(t.followKey)
		if idx < 0 && !t.inAll(t.followKey) {
			// Said once: the status stays until the next key, and
			// following stops, so the next refresh says nothing.
			t.setStatus(fmt.Sprintf("followed process %d (%s) exited; back to the top", t.followKey.PID, t.followComm), false)
			t.follow = false
			idx, t.offset = 0, 0
		}
		// idx < 0 but in all: hidden by the filter; keep following for
		// when it clears.
	case t.mode == modeKillMenu || t.mode == modeKillConfirm:
		// The highlight stays on the signal's target under the menu.
		idx = t.indexOf(t.killKey)
	}
	if idx < 0 {
		idx = min(t.cursor, len(t.rows)-1)
	}
	t.setCursor(idx)
	t.clampOffset()
}

// setCursor moves the cursor to row i (clamped) and records its process.
func (t *Table) setCursor(i int) {
	if len(t.rows) == 0 {
		t.cursor, t.hasSel = 0, false
		return
	}
	i = max(0, min(i, len(t.rows)-1))
	t.cursor = i
	t.selKey = t.rows[i].p.Key()
	t.hasSel = true
}

// clampOffset keeps the view inside the rows and the cursor inside the
// view: the highlight is never off-screen.
func (t *Table) clampOffset() {
	page := t.pageSize()
	if page > 0 {
		if t.cursor < t.offset {
			t.offset = t.cursor
		}
		if t.cursor >= t.offset+page {
			t.offset = t.cursor - page + 1
		}
	}
	t.offset = max(0, min(t.offset, len(t.rows)-page))
}

func (t *Table) setStatus(s string, isErr bool) {
	t.status, t.statusErr = s, isErr
}

// setSort sorts by column i in the given direction and keeps the selection
// in view.
func (t *Table) setSort(i int, desc bool) {
	if i < 0 || i >= len(t.cols) {
		return
	}
	t.sortIdx, t.desc = i, desc
	t.computeLayout() // the sort column is always shown
	t.sortAll()
	t.rebuild()
}

func (t *Table) sortByDefault(i int) {
	if i < 0 || i >= len(t.cols) {
		return
	}
	t.setSort(i, t.cols[i].DescendingFirst)
}

// sortLabel is "%CPU ▼" for the status line and menus.
func (t *Table) sortLabel() string {
	if len(t.cols) == 0 {
		return ""
	}
	return model.Sanitize(t.cols[t.sortIdx].Title) + " " + t.arrow()
}

func (t *Table) arrow() string {
	if t.desc {
		return "▼"
	}
	return "▲"
}
