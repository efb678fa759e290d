package common

import (
	"testing"

	"charm.land/lipgloss/v2"
)

func TestDisplayCommand(t *testing.T) {
	cases := []struct{ comm, cmdline, want string }{
		{"sshd", "/usr/sbin/sshd -D", "sshd -D"},
		{"nginx", "nginx: worker process", "nginx: worker process"},
		{"kthreadd", "[kthreadd]", "[kthreadd]"},
		{"demo-cpuhog", "/usr/bin/bash /tmp/x/demo-cpuhog 10", "demo-cpuhog: bash /tmp/x/demo-cpuhog 10"},
		{"systemd-journal", "/usr/lib/systemd/systemd-journald", "systemd-journald"},
		{"python3", "python3 app.py", "python3 app.py"},
		{"x", "/", "x: /"},
	}
	for _, c := range cases {
		if got := DisplayCommand(c.comm, c.cmdline); got != c.want {
			t.Errorf("DisplayCommand(%q, %q) = %q, want %q", c.comm, c.cmdline, got, c.want)
		}
	}
}

// Width must agree with lipgloss (grapheme clusters, ANSI ignored) on
// everything a frame can hold.
func TestWidthMatchesLipgloss(t *testing.T) {
	cases := []string{
		"", "plain ascii", "\x1b[1mbold\x1b[0m and \x1b[38;5;2mgreen\x1b[m",
		"│ box ├──┤ ╭╮ ▼ – … · −", "\x1b]8;;http://x\x07link\x1b]8;;\x07",
		"wide 日本語", "emoji 👍 and e\u0301", "tab\there", "\x1b[31m▼\x1b[0m%CPU",
		"half \x1b[", "evil\\e[2J",
	}
	for _, s := range cases {
		if got, want := Width(s), lipgloss.Width(s); got != want {
			t.Errorf("Width(%q) = %d, lipgloss says %d", s, got, want)
		}
	}
	plain := "\x1b[1m    PID USER\x1b[0m      S  THR  NI  %CPU▼ │ ok –"
	if n := testing.AllocsPerRun(100, func() { _ = Width(plain) }); n != 0 {
		t.Errorf("Width allocates %v times on a styled line", n)
	}
}

// Fit returns exactly w cells, also when the cut falls inside a wide
// character.
func TestFitExactWidth(t *testing.T) {
	cases := []struct {
		s    string
		w    int
		want string
	}{
		{"漢字0", 4, "漢… "},
		{"漢字0", 3, "漢…"},
		{"漢字", 2, "… "},
		{"漢字", 1, "…"},
		{"abc", 5, "abc  "},
		{"abcdef", 4, "abc…"},
		{"\x1b[1m漢字漢字\x1b[0m", 6, "\x1b[1m漢字…\x1b[0m "},
	}
	for _, c := range cases {
		got := Fit(c.s, c.w)
		if Width(got) != c.w {
			t.Errorf("Fit(%q, %d) = %q is %d cells", c.s, c.w, got, Width(got))
		}
		if got != c.want {
			t.Errorf("Fit(%q, %d) = %q, want %q", c.s, c.w, got, c.want)
		}
	}
}
