package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const good = `# vitals config
tab = "memory"
interval = "2s"
colors = false

[columns]
cpu = ["pid", "user", "%cpu", "wait%", "command"]

[keys]
kill = ["K", "f9"]
quit = ["x"]
`

func TestParseGood(t *testing.T) {
	f, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if f.Tab != "memory" || f.Interval != 2*time.Second || f.Colors == nil || *f.Colors {
		t.Errorf("%+v", f)
	}
	if strings.Join(f.Columns["cpu"], ",") != "pid,user,%cpu,wait%,command" || strings.Join(f.Keys["kill"], ",") != "K,f9" {
		t.Errorf("columns %v keys %v", f.Columns, f.Keys)
	}
	for k, want := range map[string]int{"tab": 2, "interval": 3, "colors": 4, "columns.cpu": 7, "keys.kill": 10, "keys.quit": 11} {
		if f.Lines[k] != want {
			t.Errorf("line of %s = %d, want %d", k, f.Lines[k], want)
		}
	}
}

// Issue #12 item 8: a bad file gives an error naming its line.
func TestParseBadNamesTheLine(t *testing.T) {
	for src, want := range map[string]string{
		"tab = \"cpu\"\ninterval = \"2s\n":              "line 2: ",
		"tab = \"cpu\"\ninterval = 5\n":                 "line 2: interval: ",
		"tab = \"cpu\"\n\ninterval = \"fast\"\n":        `line 3: interval "fast": not a duration`,
		"interval = \"10ms\"\n":                         "line 1: interval 10ms is out of range",
		"tab = \"cpu\"\ncolours = true\n":               `line 2: unknown setting "colours"`,
		"[keys]\nquit = \"q\"\n":                        "line 2: keys.quit: ",
		"colors = \"no\"\n":                             "line 1: colors: ",
		"tab = \"cpu\"\n[columns]\ncpu = [1, 2]\n":      "line 3: ",
		"tab = \"cpu\"\n\n\n[display]\ntheme = \"x\"\n": `line 4: unknown setting "display"`,
	} {
		_, err := Parse([]byte(src))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error starting %q", src, err, want)
		}
	}
}

func TestLoadMissingAndNamed(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	if f, err := Load(""); err != nil || f.Path != "" {
		t.Fatalf("missing default file: %+v, %v", f, err)
	}
	if _, err := Load(filepath.Join(dir, "nope.toml")); err == nil || !strings.Contains(err.Error(), "nope.toml") {
		t.Fatalf("missing --config file: %v", err)
	}
	path := filepath.Join(dir, "vitals", "config.toml")
	if DefaultPath() != path {
		t.Fatalf("DefaultPath %q, want %q", DefaultPath(), path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("tab = 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load("")
	if err == nil || !strings.Contains(err.Error(), path+" line 1: tab: ") || f.Path != path || f.Tab != "" {
		t.Fatalf("bad default file: %+v, %v", f, err)
	}
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := Load(""); err != nil || f.Path != path || f.Tab != "memory" {
		t.Fatalf("good file: %+v, %v", f, err)
	}
	// XDG_CONFIG_HOME unset or relative: ~/.config.
	t.Setenv("XDG_CONFIG_HOME", "relative")
	t.Setenv("HOME", dir)
	if got := DefaultPath(); got != filepath.Join(dir, ".config", "vitals", "config.toml") {
		t.Errorf("fallback %q", got)
	}
}

func TestFlagGiven(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"--interval", "2s"}, true},
		{[]string{"-interval=2s"}, true},
		{[]string{"--no-mouse"}, false},
		{[]string{"--intervals"}, false},
		{[]string{"--", "--interval"}, false},
	} {
		if got := FlagGiven(c.args, "interval"); got != c.want {
			t.Errorf("FlagGiven(%q) = %v", c.args, got)
		}
	}
}
