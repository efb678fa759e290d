package proctable

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// View draws exactly height lines, each at most width cells: a header, the
// visible rows and a status line. With height 1 only the status line is
// drawn, with height 2 the header and the status line.
func (t *Table) View() string {
	if t.height <= 0 {
		return ""
	}
	if t.width <= 0 {
		return strings.Repeat("\n", t.height-1)
	}
	lines := make([]string, 0, t.height)
	if t.height >= 2 {
		lines = append(lines, t.headerLine())
	}
	menu := t.mode == modeSortMenu || t.mode == modeKillMenu
	body := t.bodyLines(t.pageSize(), menu)
	if menu {
		t.drawMenu(body)
	}
	lines = append(lines, body...)
	lines = append(lines, t.statusLine())
	return strings.Join(lines, "\n")
}

func (t *Table) headerLine() string {
	st := t.ctx.Styles
	// Three runs at most (before, at and after the sort column): styling
	// each cell separately costs more than the rest of the view.
	var runs [3]strings.Builder
	run := 0
	last := len(t.layout) - 1
	for i, s := range t.layout {
		c := &t.cols[s.col]
		title := model.Sanitize(c.Title)
		if s.col == t.sortIdx {
			// The arrow is drawn in colour and NO_COLOR alike: the
			// underline alone is easy to miss.
			title = withMarker(title, t.arrow(), s.w)
			run = 1
		}
		runs[run].WriteString(align(title, s.w, c.Align, i == last))
		if run == 1 {
			run = 2
		}
		if i < last {
			runs[run].WriteByte(' ')
		}
	}
	var out string
	if runs[0].Len() > 0 {
		out = st.TableHeader.Render(runs[0].String())
	}
	if runs[1].Len() > 0 {
		out += st.TableHeaderSorted.Render(runs[1].String())
	}
	if runs[2].Len() > 0 {
		out += st.TableHeader.Render(runs[2].String())
	}
	return out
}

// withMarker appends the sort arrow to title, shortening the title rather
// than losing the arrow when the column is narrow.
func withMarker(title, arrow string, w int) string {
	if w <= 1 {
		return arrow
	}
	if common.Width(title)+1 > w {
		title = ansi.Truncate(title, w-1, "")
	}
	return title + arrow
}

// align fits s into w cells. The last column, when left aligned, is only
// truncated: padding it would just add trailing blanks. Plain ASCII, nearly
// every cell, is measured by length instead of by grapheme.
func align(s string, w int, a Align, last bool) string {
	if w <= 0 {
		return ""
	}
	if !isASCII(s) {
		switch {
		case a == AlignRight:
			return common.FitRight(s, w)
		case last:
			return clip(s, w)
		default:
			return common.Fit(s, w)
		}
	}
	switch n := len(s); {
	case n > w:
		return s[:w-1] + "…"
	case n == w || (last && a == AlignLeft):
		return s
	case a == AlignRight:
		return blanks(w-n) + s
	default:
		return s + blanks(w-n)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

const blankRun = "                                                                "

func blanks(n int) string {
	if n <= len(blankRun) {
		return blankRun[:n]
	}
	return strings.Repeat(" ", n)
}

// bodyLines renders page lines of rows from the offset. plain leaves them
// unstyled, for drawing a menu on top.
func (t *Table) bodyLines(page int, plain bool) []string {
	if page <= 0 {
		return nil
	}
	out := make([]string, page)
	if len(t.rows) == 0 {
		msg := "no processes"
		switch {
		case !t.loaded:
			msg = "waiting for the first process scan…"
		case t.filter != "":
			msg = `no process matches "` + t.filter + `"`
		}
		out[0] = t.ctx.Styles.Faint.Render(common.Fit(model.Sanitize(msg), t.width))
		return out
	}
	var b strings.Builder
	for i := range page {
		r := t.offset + i
		if r >= len(t.rows) {
			break
		}
		b.Reset()
		t.writeRow(&b, r)
		line := b.String()
		if r == t.cursor && !plain {
			line = t.ctx.Styles.TableSelected.Render(common.Fit(line, t.width))
		}
		out[i] = line
	}
	return out
}

func (t *Table) writeRow(b *strings.Builder, i int) {
	r := &t.rows[i]
	last := len(t.layout) - 1
	for j, s := range t.layout {
		if j > 0 {
			b.WriteByte(' ')
		}
		c := &t.cols[s.col]
		v := ""
		if c.Value != nil {
			v = model.Sanitize(c.Value(r.p))
		}
		if s.col == len(t.cols)-1 && r.prefEnd > r.prefStart {
			v = string(t.prefixBuf[r.prefStart:r.prefEnd]) + v
		}
		b.WriteString(align(v, s.w, c.Align, j == last))
	}
}

// drawMenu draws the sort or signal menu as a box over the middle of body.
// When the table is too short for a box, the status line alone carries the
// menu (it always shows the current choice).
func (t *Table) drawMenu(body []string) {
	var title string
	var items []string
	if t.mode == modeSortMenu {
		title = "Sort by"
		for i, c := range t.cols {
			item := model.Sanitize(c.Title)
			if i == t.sortIdx {
				item += " " + t.arrow()
			}
			items = append(items, item)
		}
	} else {
		title = fmt.Sprintf("Send signal to %d (%s)", t.killKey.PID, t.killComm)
		for _, s := range signals {
			items = append(items, fmt.Sprintf("%2d %-7s  %s", s.num, s.name, s.desc))
		}
	}
	const chrome = 3 // top and bottom border, title
	if len(body) < chrome+1 || t.width < 8 {
		return
	}
	vis := min(len(items), len(body)-chrome)
	start := 0
	if t.menuCursor >= vis {
		start = t.menuCursor - vis + 1
	}
	inner := common.Width(title)
	for _, it := range items {
		inner = max(inner, common.Width(it)+2)
	}
	inner = min(inner, t.width-4)

	st := t.ctx.Styles
	content := make([]string, 0, vis+1)
	content = append(content, st.Bold.Render(common.Fit(title, inner)))
	for i := start; i < start+vis; i++ {
		if i == t.menuCursor {
			content = append(content, st.TableSelected.Render(common.Fit("▸ "+items[i], inner)))
		} else {
			content = append(content, common.Fit("  "+items[i], inner))
		}
	}
	box := strings.Split(st.Box.Padding(0, 1).Render(strings.Join(content, "\n")), "\n")
	bw := inner + 4
	bx := max(0, (t.width-bw)/2)
	by := max(0, (len(body)-len(box))/2)
	// Keep the signal's target in sight: below it, else above it.
	if yc := t.cursor - t.offset; t.mode == modeKillMenu && yc >= 0 && yc < len(body) {
		switch {
		case yc+1+len(box) <= len(body):
			by = yc + 1
		case yc-len(box) >= 0:
			by = yc - len(box)
		}
	}
	for y, under := range body {
		switch {
		case y >= by && y < by+len(box):
			left := common.Fit(ansi.Cut(under, 0, bx), bx)
			right := ansi.Cut(under, bx+bw, t.width)
			body[y] = clip(st.Faint.Render(left)+box[y-by]+st.Faint.Render(right), t.width)
		case y == t.cursor-t.offset && under != "":
			body[y] = st.TableSelected.Render(common.Fit(under, t.width))
		default:
			body[y] = st.Faint.Render(under)
		}
	}
}

func (t *Table) statusLine() string {
	st := t.ctx.Styles
	w := t.width
	switch t.mode {
	case modeFilter:
		count := fmt.Sprintf("  %d of %d", len(t.matched), len(t.all))
		prompt := "Filter: "
		avail := w - len(prompt) - len(count)
		if avail < 4 {
			count = ""
			avail = w - len(prompt)
		}
		if avail < 4 {
			prompt = ""
			avail = w
		}
		text := keepTail(model.Sanitize(t.filter)+"█", avail)
		return clip(st.Bold.Render(prompt)+text+st.Faint.Render(count), w)
	case modeSortMenu:
		name := ""
		if t.menuCursor < len(t.cols) {
			name = model.Sanitize(t.cols[t.menuCursor].Title)
		}
		return clip(st.Bold.Render("Sort by: "+name)+st.Faint.Render("  ↑↓ move · Enter choose · Esc cancel"), w)
	case modeKillMenu:
		s := signals[t.menuCursor]
		return clip(st.Bold.Render(fmt.Sprintf("Signal to %d (%s): %d %s", t.killKey.PID, t.killComm, s.num, s.name))+
			st.Faint.Render("  ↑↓ move · Enter choose · Esc cancel"), w)
	case modeKillConfirm:
		return clip(st.Warning.Render(fmt.Sprintf("Send %s to %d (%s)? y/N", t.killSig.name, t.killKey.PID, t.killComm)), w)
	}

	var parts []string
	var mark string
	if t.follow {
		// Drawn selected, so it stands out in colour and NO_COLOR alike.
		mark = st.TableSelected.Render(fmt.Sprintf("FOLLOW %d (%s)", t.followKey.PID, t.followComm)) + st.Footer.Render(" · ")
	}
	if t.tree {
		parts = append(parts, "tree")
	}
	if t.filter != "" {
		parts = append(parts, fmt.Sprintf("filter \"%s\": %d of %d", model.Sanitize(t.filter), len(t.matched), len(t.all)))
	} else {
		parts = append(parts, plural(len(t.all), "process", "processes"))
	}
	if len(t.cols) > 0 {
		parts = append(parts, "sorted by "+t.sortLabel())
	}
	info := strings.Join(parts, " · ")
	if t.status == "" {
		return clip(mark+st.Footer.Render(info), w)
	}
	msgStyle := st.Bold
	if t.statusErr {
		msgStyle = st.Danger
	}
	return clip(mark+msgStyle.Render(model.Sanitize(t.status))+st.Footer.Render(" · "+info), w)
}

// keepTail keeps the last w cells of s, marking a cut with "…": the end of
// what is being typed is the part to see.
func keepTail(s string, w int) string {
	sw := common.Width(s)
	if sw <= w {
		return s
	}
	if w <= 1 {
		return ansi.TruncateLeft(s, sw-max(w, 0), "")
	}
	return ansi.TruncateLeft(s, sw-w+1, "…")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// clip truncates s to w cells without padding it.
func clip(s string, w int) string {
	if common.Width(s) <= w {
		return s
	}
	return common.Fit(s, w)
}

// Gaps are the cells between the shown columns, which every row leaves
// blank.
func (t *Table) Gaps() []int {
	out := make([]int, 0, len(t.layout))
	for _, s := range t.layout[:max(0, len(t.layout)-1)] {
		out = append(out, s.x+s.w)
	}
	return out
}
