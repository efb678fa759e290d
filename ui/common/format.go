package common

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
)

// Dash is what a view shows for a value it could not read.
const Dash = "–"

// Width is the display width of s in cells, ignoring ANSI escape
// sequences. Frames are measured line by line every refresh, so the common
// case is done here without grapheme segmentation: ASCII, SGR/OSC escapes,
// and the single-cell symbols vitals draws itself (box drawing, dashes,
// arrows, ellipsis, middle dot). Anything else — wide or combining
// characters, emoji in a process name — is measured by grapheme clusters.
func Width(s string) int {
	w := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b:
			n := escapeLen(s[i:])
			if n == 0 {
				return lipgloss.Width(s)
			}
			i += n
		case c >= 0x20 && c < 0x7f:
			w++
			i++
		case c < 0x80:
			return lipgloss.Width(s) // other control characters
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !singleCell(r) {
				return lipgloss.Width(s)
			}
			w++
			i += size
		}
	}
	return w
}

// escapeLen is the length of the CSI (ESC [ … final) or OSC (ESC ] … BEL or
// ESC \) sequence at the start of s, or 0 if it is neither.
func escapeLen(s string) int {
	if len(s) < 2 {
		return 0
	}
	switch s[1] {
	case '[':
		for i := 2; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
		}
	case ']':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
	}
	return 0
}

// singleCell lists the non-ASCII runes vitals draws, all one cell wide in
// every terminal font.
func singleCell(r rune) bool {
	switch {
	case r >= 0x2500 && r <= 0x257f: // box drawing (tables, charts, tree)
		return true
	case r >= 0x2580 && r <= 0x259f: // block elements
		return true
	}
	switch r {
	case '–', '—', '…', '·', '▲', '▼', '▸', '×', '−', '│', '≥', '≤', '█':
		return true
	}
	return false
}

// Fit pads or truncates s (which may hold ANSI styles) to exactly w cells.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := Width(s)
	if sw > w {
		// Cut at a wide character, the ellipsis leaves a cell over
		// ("漢字0" at 4 is "漢…"): pad it, or CJK rows misalign.
		t := ansi.Truncate(s, w, "…")
		if tw := Width(t); tw < w {
			t += spaces(w - tw)
		}
		return t
	}
	if sw < w {
		return s + spaces(w-sw)
	}
	return s
}

// Block is a component's view from its lines: exactly h lines, each exactly
// w cells (cut or padded), so no view can spill past its area.
func Block(lines []string, w, h int) string {
	if h <= 0 {
		return ""
	}
	if len(lines) > h {
		lines = lines[:h]
	}
	for i := range lines {
		lines[i] = Fit(lines[i], w)
	}
	for len(lines) < h {
		lines = append(lines, spaces(max(w, 0)))
	}
	return strings.Join(lines, "\n")
}

// FitRight right-aligns s in w cells, truncating if needed.
func FitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := Width(s)
	if sw > w {
		// Cut at a wide character, the ellipsis leaves a cell over
		// ("漢字0" at 4 is "漢…"): pad it, or CJK rows misalign.
		t := ansi.Truncate(s, w, "…")
		if tw := Width(t); tw < w {
			t += spaces(w - tw)
		}
		return t
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

// Fixed2 formats v with two decimals, as load averages and PSI are printed.
func Fixed2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// OptCount is Count for a rate that may be unknown (the first interval).
func OptCount(v model.Float) string {
	if !v.OK {
		return Dash
	}
	return Count(v.V)
}

// OptBytes is Bytes for a size that may be unknown.
func OptBytes(v model.Float) string {
	if !v.OK {
		return Dash
	}
	return Bytes(uint64(v.V))
}

// WhyUnavailable is the reason a probe gave for leaving the part key out
// (a model's Unavailable map), or a plain "not available".
func WhyUnavailable(unavailable map[string]string, key string) string {
	if r := unavailable[key]; r != "" {
		return r
	}
	return "not available"
}

// AppendLines appends the lines of a rendered block to lines.
func AppendLines(lines []string, block string) []string {
	return append(lines, strings.Split(block, "\n")...)
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
