// Package comingtab is the honest placeholder for a tab not built yet: it
// says what the tab will show and shows no data.
package comingtab

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/ui/common"
)

// Tab is a placeholder for a tab that is coming.
type Tab struct {
	ctx           *common.Context
	name, plan    string
	width, height int
}

// New makes the placeholder for tab name, describing what it will show.
func New(ctx *common.Context, name, plan string) *Tab {
	return &Tab{ctx: ctx, name: name, plan: plan}
}

func (t *Tab) SetSize(w, h int)       { t.width, t.height = w, h }
func (t *Tab) Update(tea.Msg) tea.Cmd { return nil }
func (t *Tab) KeyHelp() []key.Binding { return nil }
func (t *Tab) Capturing() bool        { return false }
func (t *Tab) Explain() [][2]string   { return [][2]string{{t.name, "not built yet: " + t.plan}} }

func (t *Tab) View() string {
	if t.width <= 0 || t.height <= 0 {
		return ""
	}
	s := t.ctx.Styles
	text := s.Title.Render(t.name+" tab: coming soon") + "\n\n" +
		"This tab is not built yet, so it shows no numbers.\n" +
		"It will show " + t.plan + "\n\n" +
		s.Faint.Render("Press 1 for the CPU tab.")
	body := lipgloss.NewStyle().Width(min(t.width, 72)).Render(text)
	lines := strings.Split(body, "\n")
	out := make([]string, t.height)
	for i := range out {
		if i < len(lines) {
			out[i] = common.Fit(lines[i], t.width)
		} else {
			out[i] = strings.Repeat(" ", t.width)
		}
	}
	return strings.Join(out, "\n")
}
