package common

import (
	"strings"
	"testing"

	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
)

// Fit of any one line of drawable text (sanitized, as every cell is, with
// styles around it) is exactly n cells, and Width agrees with lipgloss.
func FuzzFitWidth(f *testing.F) {
	for _, s := range []string{"漢字0", "plain", "e\u0301 👍🏽 🇫🇷", "\x1b[1m漢字漢字\x1b[0m", "a\u200dz", "ｈｅｌｌｏ", "\u0e01\u0e34"} {
		f.Add(s, 4, true)
	}
	f.Fuzz(func(t *testing.T, raw string, n int, bold bool) {
		n = n%200 + 1
		if n < 1 {
			n += 200
		}
		s := model.Sanitize(raw)
		if bold {
			s = "\x1b[1m" + s + "\x1b[0m"
		}
		if strings.ContainsAny(s, "\n\r\t") {
			t.Fatalf("sanitized text %q holds a line break or tab", s)
		}
		if got, want := Width(s), lipgloss.Width(s); got != want {
			t.Fatalf("Width(%q) = %d, lipgloss says %d", s, got, want)
		}
		if got := Fit(s, n); Width(got) != n {
			t.Fatalf("Fit(%q, %d) = %q is %d cells", s, n, got, Width(got))
		}
	})
}
