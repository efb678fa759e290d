package common

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Theme names colours by meaning; components use Styles, never raw colours.
type Theme struct {
	Text, Faint, Primary, Accent, Warning, Danger, OK color.Color
	// CPU split colours, shared by bars and charts.
	CPUUser, CPUSystem, CPUIOWait, CPUIRQ, CPUSteal, CPUNice color.Color
	SelectedBg                                               color.Color
}

// DefaultTheme uses the 16 ANSI colours so it follows the user's terminal
// palette (and degrades cleanly in tmux and on 16-colour consoles).
func DefaultTheme() Theme {
	return Theme{
		Text:       lipgloss.ANSIColor(7),
		Faint:      lipgloss.ANSIColor(8),
		Primary:    lipgloss.ANSIColor(6),
		Accent:     lipgloss.ANSIColor(4),
		Warning:    lipgloss.ANSIColor(3),
		Danger:     lipgloss.ANSIColor(1),
		OK:         lipgloss.ANSIColor(2),
		CPUUser:    lipgloss.ANSIColor(2),
		CPUNice:    lipgloss.ANSIColor(4),
		CPUSystem:  lipgloss.ANSIColor(1),
		CPUIOWait:  lipgloss.ANSIColor(5),
		CPUIRQ:     lipgloss.ANSIColor(3),
		CPUSteal:   lipgloss.ANSIColor(6),
		SelectedBg: lipgloss.ANSIColor(4),
	}
}

// Styles is the one nested style set every component draws with.
type Styles struct {
	Theme Theme

	Normal, Faint, Bold, Title lipgloss.Style
	Warning, Danger, OK        lipgloss.Style

	TabActive, TabInactive lipgloss.Style
	Header, Footer         lipgloss.Style
	FooterKey              lipgloss.Style

	TableHeader, TableHeaderSorted lipgloss.Style
	TableSelected                  lipgloss.Style

	CPUUser, CPUNice, CPUSystem, CPUIOWait, CPUIRQ, CPUSteal lipgloss.Style

	Box lipgloss.Style // panel border
}

// NewStyles builds Styles; with noColor every style is attribute-only
// (bold, reverse), so NO_COLOR terminals still see selection and emphasis.
func NewStyles(noColor bool) *Styles {
	t := DefaultTheme()
	fg := func(c color.Color) lipgloss.Style {
		if noColor {
			return lipgloss.NewStyle()
		}
		return lipgloss.NewStyle().Foreground(c)
	}
	s := &Styles{Theme: t}
	s.Normal = lipgloss.NewStyle()
	s.Faint = fg(t.Faint)
	s.Bold = lipgloss.NewStyle().Bold(true)
	s.Title = fg(t.Primary).Bold(true)
	s.Warning = fg(t.Warning).Bold(true)
	s.Danger = fg(t.Danger).Bold(true)
	s.OK = fg(t.OK)
	s.TabActive = lipgloss.NewStyle().Bold(true).Reverse(true)
	s.TabInactive = fg(t.Faint)
	s.Header = lipgloss.NewStyle()
	s.Footer = fg(t.Faint)
	s.FooterKey = lipgloss.NewStyle().Bold(true)
	s.TableHeader = lipgloss.NewStyle().Bold(true)
	s.TableHeaderSorted = lipgloss.NewStyle().Bold(true).Underline(true)
	s.TableSelected = lipgloss.NewStyle().Reverse(true)
	s.CPUUser = fg(t.CPUUser)
	s.CPUNice = fg(t.CPUNice)
	s.CPUSystem = fg(t.CPUSystem)
	s.CPUIOWait = fg(t.CPUIOWait)
	s.CPUIRQ = fg(t.CPUIRQ)
	s.CPUSteal = fg(t.CPUSteal)
	s.Box = lipgloss.NewStyle().Border(lipgloss.NormalBorder()).BorderForeground(t.Faint)
	if noColor {
		s.Box = lipgloss.NewStyle().Border(lipgloss.NormalBorder())
	}
	return s
}
