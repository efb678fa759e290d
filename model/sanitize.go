package model

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sanitize makes untrusted text (process names, command lines) safe to draw:
// control characters, escape sequences, invalid UTF-8 and invisible format
// characters become visible escapes, so a process cannot move the cursor,
// change colours or make its name read as something else. A raw byte that
// is not UTF-8 reads \xad; a character reads \u00ad, \u202e or, above
// U+FFFF, \U000e0041; ESC, newline, tab and CR read \e, \n, \t, \r.
// Printable text is returned unchanged and without allocating.
func Sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if needsEscape(r, size) {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !needsEscape(r, size) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		switch {
		case r == utf8.RuneError && size == 1:
			writeHex(&b, `\x`, rune(s[i]), 2)
		case r == 0x1b:
			b.WriteString(`\e`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			// C0 controls and DEL: one byte each, so \x is exact.
			writeHex(&b, `\x`, r, 2)
		case r <= 0xffff:
			writeHex(&b, `\u`, r, 4)
		default:
			writeHex(&b, `\U`, r, 8)
		}
		i += size
	}
	return b.String()
}

// writeHex writes prefix and r as digits lower-case hex digits.
func writeHex(b *strings.Builder, prefix string, r rune, digits int) {
	const hex = "0123456789abcdef"
	b.WriteString(prefix)
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		b.WriteByte(hex[(r>>shift)&0xf])
	}
}

// needsEscape: C0/C1 controls, DEL, invalid bytes, and the characters that
// are invisible or reorder text (UnsafeRune).
func needsEscape(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return true
	}
	return UnsafeRune(r)
}

// UnsafeRune reports whether r must not reach a terminal raw: C0 and C1
// controls and DEL (they drive the terminal), format characters (bidi
// overrides and isolates, zero-width spaces and joiners, the byte-order
// mark, the soft hyphen, language tags: text that lies about itself), and
// the line and paragraph separators U+2028/U+2029. Sanitize escapes
// these, and so does the JSON of vitals snapshot.
func UnsafeRune(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true
	case r < 0x80:
		return false
	case r < 0xa0:
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	}
	return unicode.Is(unicode.Cf, r)
}
