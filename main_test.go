package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vitals-dev/vitals/model"
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

func TestEscapeJSON(t *testing.T) {
	b, _ := json.Marshal(map[string]string{"comm": "a\u009b31mb\x7fc\x1bd"})
	got := string(escapeJSON(b))
	want := `{"comm":"a\u009b31mb\u007fc\u001bd"}`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	var back map[string]string
	if err := json.Unmarshal([]byte(got), &back); err != nil || back["comm"] != "a\u009b31mb\x7fc\x1bd" {
		t.Fatalf("escaped JSON does not decode to the original: %v %q", err, back["comm"])
	}
	plain := []byte(`{"a":"ü日本"}`)
	if string(escapeJSON(plain)) != string(plain) {
		t.Fatal("printable UTF-8 changed")
	}
}

// Every character model.UnsafeRune names leaves the JSON escaped, whatever
// encoding/json does with it, and the JSON still decodes to the original.
func TestEscapeJSONEveryUnsafeRune(t *testing.T) {
	named := []rune{0x7f, 0x85, 0x9b, 0xad, 0x200b, 0x200d, 0x200e, 0x202a, 0x202e,
		0x2028, 0x2029, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff, 0xe0001, 0xe0041}
	for _, r := range named {
		if !model.UnsafeRune(r) {
			t.Errorf("model.UnsafeRune(%U) = false", r)
		}
	}
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !model.UnsafeRune(r) {
			continue
		}
		n++
		text := "a" + string(r) + "b"
		b, err := json.MarshalIndent(map[string]string{"comm": text}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got := escapeJSON(b)
		for i := 0; i < len(got); {
			c, size := utf8.DecodeRune(got[i:])
			if c >= 0x7f && model.UnsafeRune(c) {
				t.Fatalf("%U: escaped JSON %q still holds it raw", r, got)
			}
			i += size
		}
		var back map[string]string
		if err := json.Unmarshal(got, &back); err != nil || back["comm"] != text {
			t.Fatalf("%U: %s does not decode to the original (%v, %q)", r, got, err, back["comm"])
		}
	}
	if n < 200 {
		t.Fatalf("only %d unsafe characters: the predicate lost its format characters", n)
	}
}

var updateGolden = flag.Bool("update", false, "rewrite golden files")

// The whole JSON snapshot over a committed fixture tree (testdata/fixture: a
// copy of this project's VM's /proc and /sys files, trimmed to three
// processes plus one with escape sequences in its name), compared with a
// golden file. Only what depends on the wall clock is normalised.
func TestSnapshotJSONGoldenOverFixtureTree(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"snapshot", "--json", "--interval", "100ms",
		"--proc-root", "testdata/fixture/proc", "--sys-root", "testdata/fixture/sys",
		"--passwd", "testdata/fixture/passwd"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if bytes.ContainsAny(out.Bytes(), "\x1b\x07\u009b") {
		t.Fatal("raw control characters from a process name reached the JSON")
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	doc["time"] = "<now>"
	for _, p := range doc["probes"].([]any) {
		p := p.(map[string]any)
		p["window_s"], p["duration_ms"] = "<window>", "<duration>"
	}
	doc["process_scan"].(map[string]any)["duration_ms"] = "<duration>"
	if owners, ok := doc["net"].(map[string]any)["owners"].(map[string]any); ok {
		owners["at"], owners["duration_ms"], owners["interval_s"] = "<now>", "<duration>", "<interval>"
	}
	if sl, ok := doc["short_lived"].(map[string]any); ok {
		for _, w := range []string{"interval", "minute"} {
			sl[w].(map[string]any)["window_s"] = "<window>"
		}
	}
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(escapeJSON(got), '\n')
	golden := "testdata/snapshot-fixture.golden.json"
	if *updateGolden {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update . to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("snapshot JSON differs from %s (go test -run Golden -update . rewrites it; review the diff):\n%s", golden, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first differing line with a little context.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		if i >= len(w) || i >= len(g) || w[i] != g[i] {
			lo := max(0, i-3)
			var b strings.Builder
			for j := lo; j < i+3; j++ {
				if j < len(w) {
					fmt.Fprintf(&b, "want %4d: %s\n", j+1, w[j])
				}
				if j < len(g) {
					fmt.Fprintf(&b, "got  %4d: %s\n", j+1, g[j])
				}
			}
			return b.String()
		}
	}
	return ""
}

// A dumb terminal cannot draw the UI: say so and point at the snapshot,
// before any probe is loaded.
func TestDumbTerminalSuggestsSnapshot(t *testing.T) {
	t.Setenv("TERM", "dumb")
	var out, errOut bytes.Buffer
	code := run(nil, &out, &errOut)
	if code == 0 {
		t.Fatalf("TERM=dumb: exit 0, want non-zero; stderr %q", errOut.String())
	}
	if msg := errOut.String(); !strings.Contains(msg, "TERM=dumb") || !strings.Contains(msg, "vitals snapshot --json") {
		t.Fatalf("TERM=dumb: stderr %q does not say why and what to run instead", msg)
	}
}

// Whatever text a process holds, the snapshot's JSON has no unsafe
// character raw and decodes to the same text.
func FuzzEscapeJSON(f *testing.F) {
	for _, s := range []string{"a\u009bb", "\u202eexe", "\U000e0041", "\xad", "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := json.MarshalIndent(map[string]string{"comm": s}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got := escapeJSON(b)
		for i := 0; i < len(got); {
			c, size := utf8.DecodeRune(got[i:])
			if c >= 0x7f && model.UnsafeRune(c) {
				t.Fatalf("%q: escaped JSON %q holds %U raw", s, got, c)
			}
			i += size
		}
		var plain, back map[string]string
		if json.Unmarshal(b, &plain) != nil || json.Unmarshal(got, &back) != nil || back["comm"] != plain["comm"] {
			t.Fatalf("%q: escaped JSON %s decodes to %q, want %q", s, got, back["comm"], plain["comm"])
		}
	})
}
