package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	good := []struct {
		args []string
		want config
	}{
		{nil, config{interval: time.Second}},
		{[]string{"--interval", "500ms", "--no-mouse"}, config{interval: 500 * time.Millisecond, noMouse: true}},
		{[]string{"snapshot", "--json"}, config{interval: time.Second, json: true, snapshot: true}},
		{[]string{"snapshot", "--json", "--interval=2s"}, config{interval: 2 * time.Second, json: true, snapshot: true}},
		{[]string{"--version"}, config{interval: time.Second, version: true}},
	}
	for _, c := range good {
		c.want.procRoot, c.want.sysRoot, c.want.passwd = "/proc", "/sys", "/etc/passwd"
		got, err := parseArgs(c.args, nil)
		if err != nil || got != c.want {
			t.Errorf("parseArgs(%q) = %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
	bad := map[string][]string{
		"flag provided but not defined": {"--bogus"},
		"out of range":                  {"--interval", "0"},
		"invalid value":                 {"--interval", "fast"},
		"needs --json":                  {"snapshot"},
		"only applies":                  {"--json"},
		"unexpected argument":           {"top"},
		"--proc-root":                   {"--proc-root", "/nonexistent-vitals-root"},
		"not a directory":               {"--sys-root", "/etc/passwd"},
	}
	for want, args := range bad {
		if _, err := parseArgs(args, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseArgs(%q) error = %v, want it to mention %q", args, err, want)
		}
	}
}

func TestRunBadFlagExitsNonZeroWithMessage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--bogus"}, &out, &errOut); code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	if !strings.Contains(errOut.String(), "bogus") || out.Len() != 0 {
		t.Fatalf("stderr %q stdout %q", errOut.String(), out.String())
	}
	out.Reset()
	if code := run([]string{"--help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "snapshot --json") {
		t.Fatalf("--help: code %d, %q", code, out.String())
	}
}

func TestEscapeC1(t *testing.T) {
	b, _ := json.Marshal(map[string]string{"comm": "a\u009b31mb\x7fc\x1bd"})
	got := string(escapeC1(b))
	want := `{"comm":"a\u009b31mb\u007fc\u001bd"}`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	var back map[string]string
	if err := json.Unmarshal([]byte(got), &back); err != nil || back["comm"] != "a\u009b31mb\x7fc\x1bd" {
		t.Fatalf("escaped JSON does not decode to the original: %v %q", err, back["comm"])
	}
	plain := []byte(`{"a":"ü日本"}`)
	if string(escapeC1(plain)) != string(plain) {
		t.Fatal("printable UTF-8 changed")
	}
}
