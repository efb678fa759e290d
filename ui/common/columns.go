package common

import (
	"cmp"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
)

// ChooseColumns decides which of n columns a narrow pane keeps, for every
// table of the UI: the column must first (-1 for none; it is kept even if
// it does not fit), then the others by priority (lower kept longer, ties
// left to right) while each, with the one-cell gap after it, fits in
// avail cells. It fills shown (len n) and returns order, scratch space
// for reuse.
func ChooseColumns(n, must, avail int, width, priority func(int) int, shown []bool, order []int) []int {
	order = order[:0]
	for i := range n {
		shown[i] = false
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case a == must:
			return -1
		case b == must:
			return 1
		}
		return cmp.Compare(priority(a), priority(b))
	})
	used := 0
	for _, i := range order {
		w := width(i) + 1
		if used+w > avail && i != must {
			break
		}
		shown[i] = true
		used += w
	}
	return order
}

// TextCol is one column of a TextTable.
type TextCol struct {
	Title string
	// Width in cells; the flexible column's minimum.
	Width int
	Right bool
	// Priority as for ChooseColumns: 0 and 1 kept longest.
	Priority int
}

// TextTable lays out the small tables of the panels (slab caches,
// cgroups, open files) at a width: one blank cell between columns, so
// values never run together; a value too wide is cut with "…"; the
// columns that do not fit go by priority, and the flexible column (a name
// or path) takes the width left.
type TextTable struct {
	cols  []TextCol
	shown []bool
	w     []int // width of each shown column, 0 when hidden
}

// NewTextTable lays cols out in width cells; flex is the index of the
// column that takes the width the others leave.
func NewTextTable(width, flex int, cols ...TextCol) *TextTable {
	t := &TextTable{cols: cols, shown: make([]bool, len(cols)), w: make([]int, len(cols))}
	if len(cols) == 0 {
		return t
	}
	minFlex := max(1, cols[flex].Width)
	// Every column but the last has a gap after it: width+1 for all.
	ChooseColumns(len(cols), flex, width+1,
		func(i int) int {
			if i == flex {
				return minFlex
			}
			return max(1, cols[i].Width)
		},
		func(i int) int { return cols[i].Priority }, t.shown, nil)
	used := -1 // no gap before the first column
	for i, c := range cols {
		if t.shown[i] && i != flex {
			t.w[i] = max(1, c.Width)
			used += t.w[i] + 1
		}
	}
	t.w[flex] = max(1, width-used-1)
	return t
}

// Header is the titles, in style.
func (t *TextTable) Header(style lipgloss.Style) string {
	titles := make([]string, len(t.cols))
	for i, c := range t.cols {
		titles[i] = c.Title
	}
	return style.Render(t.Row(titles...))
}

// Row is one line of cells, in column order (cells of hidden columns are
// left out).
func (t *TextTable) Row(cells ...string) string {
	var b strings.Builder
	first := true
	for i, c := range t.cols {
		if !t.shown[i] {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		v := ""
		if i < len(cells) {
			v = cells[i]
		}
		if c.Right {
			b.WriteString(FitRight(v, t.w[i]))
		} else {
			b.WriteString(Fit(v, t.w[i]))
		}
	}
	return b.String()
}

// Gaps are the cells between columns, which every row leaves blank.
func (t *TextTable) Gaps() []int {
	var out []int
	x := 0
	for i := range t.cols {
		if !t.shown[i] {
			continue
		}
		if x > 0 {
			out = append(out, x-1)
		}
		x += t.w[i] + 1
	}
	return out
}
