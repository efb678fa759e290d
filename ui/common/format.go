package common

import (
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
)

// Dash is what a view shows for a value it could not read.
const Dash = "–"

// Width is the display width of s in cells. Plain ASCII (most of a frame)
// is measured by its length; anything else by grapheme clusters, ignoring
// ANSI styles.
func Width(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c < 0x20 {
			return lipgloss.Width(s)
		}
	}
	return len(s)
}

// Fit pads or truncates s (which may hold ANSI styles) to exactly w cells.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := Width(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	if sw < w {
		return s + spaces(w-sw)
	}
	return s
}

// FitRight right-aligns s in w cells, truncating if needed.
func FitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := Width(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return spaces(w-sw) + s
}

func spaces(n int) string {
	const sp = "                                                                                "
	if n <= len(sp) {
		return sp[:n]
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	return string(b)
}

// Pct formats a percentage with one decimal, as top does.
func Pct(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// OptFloat formats a possibly unknown value with the given decimals.
func OptFloat(v model.Float, decimals int) string {
	if !v.OK {
		return Dash
	}
	return strconv.FormatFloat(v.V, 'f', decimals, 64)
}

// Count formats a count compactly: 999, 12.3k, 4.5M.
func Count(v float64) string {
	switch {
	case v < 0:
		return "-" + Count(-v)
	case v < 10000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v < 1e6:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	case v < 1e9:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	default:
		return strconv.FormatFloat(v/1e9, 'f', 1, 64) + "G"
	}
}

// Bytes formats a byte count in binary units as free -h does (1.5G, 312M).
func Bytes(v uint64) string {
	const unit = 1024
	if v < unit {
		return strconv.FormatUint(v, 10) + "B"
	}
	f := float64(v)
	suffix := "KMGTPE"
	i := -1
	for f >= unit && i < len(suffix)-1 {
		f /= unit
		i++
	}
	if f < 10 {
		return strconv.FormatFloat(f, 'f', 1, 64) + string(suffix[i])
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + string(suffix[i])
}

// DisplayCommand is the command line as the table shows it: argv[0] without
// its directory (the arguments usually matter more in a narrow pane), and
// the process name first when it is not the program's (a script run by an
// interpreter, a process that renamed itself), since that is the name other
// tools and the warnings use.
func DisplayCommand(comm, cmdline string) string {
	if strings.HasPrefix(cmdline, "[") || cmdline == "" {
		return cmdline
	}
	argv0, rest, _ := strings.Cut(cmdline, " ")
	if i := strings.LastIndexByte(argv0, '/'); i >= 0 && i < len(argv0)-1 {
		argv0 = argv0[i+1:]
	}
	shown := argv0
	if rest != "" {
		shown += " " + rest
	}
	// comm is the first 15 bytes of the program's name.
	if comm != "" && !strings.HasPrefix(argv0, comm) {
		return comm + ": " + shown
	}
	return shown
}
