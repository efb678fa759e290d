package model

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sanitize makes untrusted text (process names, command lines) safe to draw:
// control characters, escape sequences and invalid UTF-8 become visible
// escapes (\e, \n, \x9b, \u202e), so a process cannot move the cursor,
// change colours or hide itself. Printable text is returned unchanged and
// without allocating.
func Sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); {
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
			writeHexByte(&b, s[i])
		case r == 0x1b:
			b.WriteString(`\e`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x100:
			writeHexByte(&b, byte(r))
		default:
			b.WriteString(`\u`)
			const hex = "0123456789abcdef"
			for shift := 12; shift >= 0; shift -= 4 {
				b.WriteByte(hex[(r>>shift)&0xf])
			}
		}
		i += size
	}
	return b.String()
}

func writeHexByte(b *strings.Builder, c byte) {
	const hex = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0xf])
}

// needsEscape: C0/C1 controls, DEL, invalid bytes, and format characters
// (bidi overrides, zero-width) that can make text lie about itself.
func needsEscape(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return true
	}
	if r < 0x20 || (r >= 0x7f && r < 0xa0) {
		return true
	}
	return r > 0xa0 && unicode.Is(unicode.Cf, r)
}
