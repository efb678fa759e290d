package model

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Whatever the bytes, Sanitize's output is valid UTF-8 without a control
// or format character, and text that needed no escape comes back as is.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"nginx: worker", "evil\x1b[2J", "\xad\u00ad", "tag\U000e0041", "ls\u2028", "bidi\u202e\u2066", "日本\xff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Sanitize(%q) = %q is not UTF-8", s, got)
		}
		for _, r := range got {
			if UnsafeRune(r) {
				t.Fatalf("Sanitize(%q) = %q keeps %U", s, got, r)
			}
		}
		clean := utf8.ValidString(s) && !strings.ContainsFunc(s, UnsafeRune)
		if clean != (got == s) {
			t.Fatalf("Sanitize(%q) = %q: input clean %v", s, got, clean)
		}
	})
}
