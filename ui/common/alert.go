package common

import (
	"slices"

	"github.com/vitals-dev/vitals/model"
)

// Severity orders warnings: the most severe is drawn first.
type Severity int

const (
	// Notice is a rule of thumb crossed: load above 0.7 × CPUs.
	Notice Severity = iota
	// Warn is saturation: tasks wait for a CPU, the disk or memory.
	Warn
	// Critical is damage done: the kernel killed a process.
	Critical
)

// Alert is one threshold a tab found crossed, in words.
type Alert struct {
	Severity Severity
	Text     string
}

// Alertf is an alert with untrusted text (a process name) made safe.
func Alertf(s Severity, text string) Alert { return Alert{Severity: s, Text: model.Sanitize(text)} }

// MostSevereFirst is alerts ordered by severity, the most severe first,
// keeping the tab's order within a severity.
func MostSevereFirst(alerts []Alert) []Alert {
	out := slices.Clone(alerts)
	slices.SortStableFunc(out, func(a, b Alert) int { return int(b.Severity) - int(a.Severity) })
	return out
}

// Warner is implemented by tabs that check thresholds: the root lists
// every warning of the active tab on the w key.
type Warner interface {
	Warnings() []Alert
}
