package tabbase

import (
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// MoreWarningsKey is the key that lists every warning (the root's).
const MoreWarningsKey = "w"

// WarningLines draws the thresholds a tab found crossed in a fixed area of
// exactly lines lines, so the table below does not jump as warnings come
// and go: one warning a line, the most severe first; when they do not all
// fit, the last line ends "+N more (w)". With none crossed the first line
// is "ok:" followed by allClear, which says what was checked.
func (b *Base) WarningLines(alerts []common.Alert, lines int, allClear string) []string {
	if lines <= 0 {
		return nil
	}
	out := make([]string, lines)
	s := b.Ctx.Styles
	if len(alerts) == 0 {
		out[0] = s.OK.Render("ok: ") + b.Label(allClear)
		return out
	}
	sorted := common.MostSevereFirst(alerts)
	shown := min(lines, len(sorted))
	for i, a := range sorted[:shown] {
		style := s.Warning
		if a.Severity == common.Critical {
			style = s.Danger
		}
		text := "! " + a.Text
		if i == shown-1 && len(sorted) > shown {
			more := " +" + strconv.Itoa(len(sorted)-shown) + " more (" + MoreWarningsKey + ")"
			out[i] = style.Render(clip(text, b.Width-common.Width(more))) + s.Bold.Render(more)
			continue
		}
		out[i] = style.Render(text)
	}
	return out
}

// WarningAreaLines is the height of the warnings area at the tab's
// height: fixed by the height alone, never by how many warnings there are.
func (b *Base) WarningAreaLines() int {
	switch {
	case b.Height < 12:
		return 1
	case b.Height < 36:
		return 2
	default:
		return 3
	}
}

// clip cuts s to w cells, marking the cut with "…".
func clip(s string, w int) string {
	if common.Width(s) <= w {
		return s
	}
	return common.Fit(s, max(w, 0))
}

// PSILine is "PSI resource some a/b/c% full a/b/c%": the 10, 60 and 300 s
// pressure averages of /proc/pressure/resource, or why they are missing.
func (b *Base) PSILine(resource string, p *model.Pressure, unavailable map[string]string) string {
	var out strings.Builder
	out.WriteString(b.Label("PSI " + resource + " "))
	if p == nil {
		out.WriteString(b.Label(common.Dash + " (" + common.WhyUnavailable(unavailable, "psi") + ")"))
		return out.String()
	}
	out.WriteString(b.Label("some ") + averages(p.Some))
	if p.Full != nil {
		out.WriteString(b.Label(" full ") + averages(*p.Full))
	}
	return out.String()
}

func averages(a model.PressureAvg) string {
	return common.Fixed2(a.Avg10) + "/" + common.Fixed2(a.Avg60) + "/" + common.Fixed2(a.Avg300) + "%"
}
