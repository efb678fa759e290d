// Package config reads vitals' config file, config.toml:
//
//	tab = "memory"          # the tab shown first (name or number)
//	interval = "2s"         # refresh interval, 100ms to 1h
//	colors = false          # false: no colour, as NO_COLOR
//
//	[columns]               # the table columns each tab shows
//	cpu = ["pid", "user", "%cpu", "wait%", "rss", "command"]
//
//	[keys]                  # actions rebound to other keys
//	kill = ["K", "f9"]
//
// It only parses and checks what it can alone (syntax, types, unknown
// settings, the interval): the names of tabs, columns and key actions are
// the UI's, which checks them and reports the line from Lines. Every
// error names the file and the line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// File is the config file as read.
type File struct {
	// Path is the file read; "" when there was none.
	Path string
	Tab  string
	// Interval is 0 when the file does not set it.
	Interval time.Duration
	// Colors is nil when the file does not set it.
	Colors  *bool
	Columns map[string][]string
	Keys    map[string][]string
	// Lines is the line of each setting: "tab", "interval", "colors",
	// "columns.cpu", "keys.quit".
	Lines map[string]int
}

// raw is the file's shape; unknown keys are errors (a typo such as
// "colours" must not be ignored silently).
type raw struct {
	Tab      string              `toml:"tab"`
	Interval string              `toml:"interval"`
	Colors   *bool               `toml:"colors"`
	Columns  map[string][]string `toml:"columns"`
	Keys     map[string][]string `toml:"keys"`
}

// DefaultPath is $XDG_CONFIG_HOME/vitals/config.toml, or
// ~/.config/vitals/config.toml when XDG_CONFIG_HOME is unset or not
// absolute (as the XDG spec says to ignore a relative one); "" when no
// home is known.
func DefaultPath() string {
	if x := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "vitals", "config.toml")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "vitals", "config.toml")
}

// Load reads the config file at path, or at DefaultPath when path is "".
// A missing default file is no error (File.Path is then ""); a missing
// file named with --config is. On error File is empty but for Path: the
// caller starts with the defaults.
func Load(path string) (File, error) {
	named := path != ""
	if !named {
		path = DefaultPath()
		if path == "" {
			return File{}, nil
		}
	}
	src, err := os.ReadFile(path)
	if err != nil {
		if !named && errors.Is(err, fs.ErrNotExist) {
			return File{}, nil
		}
		return File{Path: path}, fmt.Errorf("config: %w", err)
	}
	f, err := Parse(src)
	f.Path = path
	if err != nil {
		return File{Path: path}, fmt.Errorf("config %s %w", path, err)
	}
	return f, nil
}

// Parse reads a config file's text. Its errors start "line N: ".
func Parse(src []byte) (File, error) {
	var r raw
	dec := toml.NewDecoder(bytes.NewReader(src))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return File{}, positioned(err)
	}
	f := File{Tab: r.Tab, Colors: r.Colors, Columns: r.Columns, Keys: r.Keys, Lines: keyLines(src)}
	if r.Interval != "" {
		d, err := time.ParseDuration(r.Interval)
		switch {
		case err != nil:
			return File{}, fmt.Errorf("line %d: interval %q: not a duration (e.g. 1s, 500ms, 2s)", f.Lines["interval"], r.Interval)
		case d < 100*time.Millisecond || d > time.Hour:
			return File{}, fmt.Errorf("line %d: interval %v is out of range: use 100ms to 1h", f.Lines["interval"], d)
		}
		f.Interval = d
	}
	return f, nil
}

// positioned turns the library's errors into "line N: what" (every
// decode error of go-toml carries its position; unknown settings come as
// a list).
func positioned(err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		var msgs []string
		for _, e := range strict.Errors {
			row, _ := e.Position()
			msgs = append(msgs, fmt.Sprintf("line %d: unknown setting %q (settings: tab, interval, colors, [columns], [keys])", row, strings.Join(e.Key(), ".")))
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if k := de.Key(); len(k) > 0 {
			msg = strings.Join(k, ".") + ": " + msg
		}
		return fmt.Errorf("line %d: %s", row, msg)
	}
	return err
}

// keyLines is the line of every key=value of src by its dotted path
// under its table ("keys.quit"), read with go-toml's parser so the UI can
// say where a name it does not know is.
func keyLines(src []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(src)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = table[:0]
			for it := e.Key(); it.Next(); {
				table = append(table, string(it.Node().Data))
			}
		case unstable.KeyValue:
			path := append([]string(nil), table...)
			line := 0
			for it := e.Key(); it.Next(); {
				n := it.Node()
				path = append(path, string(n.Data))
				if line == 0 {
					line = p.Shape(n.Raw).Start.Line
				}
			}
			lines[strings.Join(path, ".")] = line
		}
	}
	return lines
}

// FlagGiven reports whether args (a command line, the subcommand first
// or not) set the flag name, as -name, --name, -name=v or --name=v before
// a "--": the command line wins over the file.
func FlagGiven(args []string, name string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}
