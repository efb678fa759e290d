package common

import "testing"

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
