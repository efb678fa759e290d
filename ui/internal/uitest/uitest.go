// Package uitest holds what the tests of every ui package share: golden
// files, the fixed clock, key presses by name and the size check. Only
// _test.go files import it, so its -update flag exists in test binaries
// only.
package uitest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Now is the clock every golden file is drawn at.
var Now = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

// Golden compares got with testdata/name.golden. On a difference it writes
// got beside it as name.golden.actual (git ignores those) so the two can be
// diffed; go test -update rewrites the golden file instead.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		_ = os.WriteFile(path+".actual", []byte(got), 0o644)
		t.Errorf("%s differs from the golden file; see %s.actual (go test -update rewrites it)", name, path)
	}
}

// CheckSize fails unless view is exactly h lines of at most w cells: the
// contract every component's View keeps at every size.
func CheckSize(t testing.TB, label, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Fatalf("%s %dx%d: %d lines", label, w, h, len(lines))
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Fatalf("%s %dx%d: line %d is %d cells: %q", label, w, h, i, lw, ansi.Strip(l))
		}
	}
}

var keyCodes = map[string]rune{
	"up": tea.KeyUp, "down": tea.KeyDown, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
	"home": tea.KeyHome, "end": tea.KeyEnd, "enter": tea.KeyEnter, "esc": tea.KeyEscape,
	"backspace": tea.KeyBackspace, "tab": tea.KeyTab,
	"f1": tea.KeyF1, "f3": tea.KeyF3, "f4": tea.KeyF4, "f5": tea.KeyF5, "f6": tea.KeyF6,
	"f9": tea.KeyF9, "f10": tea.KeyF10,
}

// Key builds the message bubbletea delivers for a key name as
// msg.String() spells it ("up", "f6", "ctrl+u", "shift+tab", "I", "<",
// "space").
func Key(s string) tea.KeyPressMsg {
	if c, ok := keyCodes[s]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	switch s {
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	if rest, ok := strings.CutPrefix(s, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: rune(rest[0]), Mod: tea.ModCtrl}
	}
	r := []rune(s)
	if len(r) != 1 {
		panic("uitest.Key: unknown key " + s)
	}
	return tea.KeyPressMsg{Code: r[0], Text: s}
}

// Widths and Heights are the size matrix every view is checked at, from a
// pane too small to draw in to a large terminal.
var (
	Widths  = []int{1, 5, 19, 20, 21, 33, 40, 59, 60, 79, 80, 81, 100, 120, 160, 200, 250}
	Heights = []int{1, 2, 4, 5, 6, 8, 10, 12, 16, 24, 30, 48, 70}
)

// CheckSeparated fails unless every one of rows leaves the cells at gaps
// blank: a table's columns never run together ("90000090.0%").
func CheckSeparated(t testing.TB, label string, rows []string, gaps []int) {
	t.Helper()
	for _, row := range rows {
		cells := []rune(ansi.Strip(row))
		for _, x := range gaps {
			if x < len(cells) && cells[x] != ' ' {
				t.Fatalf("%s: columns run together at cell %d in %q (gaps %v)", label, x, string(cells), gaps)
			}
		}
	}
}
