package tabbase

import (
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// Warnings draws the thresholds a tab found crossed, in words, in at most
// lines lines: one warning a line while they fit, the rest joined on the
// last. With none crossed it is one "ok:" line followed by allClear, which
// says what was checked. danger (nil: none) marks the warnings drawn in
// the danger colour rather than the warning colour.
func (b *Base) Warnings(alerts []string, lines int, allClear string, danger func(alert string) bool) []string {
	if lines <= 0 {
		return nil
	}
	s := b.Ctx.Styles
	if len(alerts) == 0 {
		return []string{s.OK.Render("ok: ") + b.Label(allClear)}
	}
	render := func(alerts ...string) string {
		style := s.Warning
		for _, a := range alerts {
			if danger != nil && danger(a) {
				style = s.Danger
			}
		}
		return style.Render("! " + strings.Join(alerts, " · "))
	}
	if lines == 1 || len(alerts) == 1 {
		return []string{render(alerts...)}
	}
	out := make([]string, 0, lines)
	for i := range alerts {
		if i == lines-1 && len(alerts) > lines {
			return append(out, render(alerts[i:]...))
		}
		out = append(out, render(alerts[i]))
	}
	return out
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
