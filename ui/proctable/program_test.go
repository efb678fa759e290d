package proctable

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// host is the smallest root model: it gives the table the window and
// forwards every message, as the CPU tab will.
type host struct{ table *Table }

func (h host) Init() tea.Cmd { return nil }

func (h host) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.table.SetSize(msg.Width, msg.Height)
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" {
			return h, tea.Quit
		}
	}
	return h, h.table.Update(msg)
}

func (h host) View() tea.View { return tea.NewView(h.table.View()) }

// TestThroughRealInputParser runs a bubbletea program fed with the bytes a
// terminal sends, so the key names the table matches ("f6", "pgdown", "I",
// mouse clicks) are checked against bubbletea's own parser.
func TestThroughRealInputParser(t *testing.T) {
	var calls []killCall
	tb := New(common.NewContext(true), testCols(), "cpu", func(k model.ProcKey, sig int) error {
		calls = append(calls, killCall{k, sig})
		return nil
	})
	tb.SetProcesses(fakeProcs())
	input := strings.Join([]string{
		"\x1b[B",       // down: 1200 postgres
		"k", "\r", "y", // signal menu, SIGTERM, confirm
		"/nginx", "\r", // filter
		"\x1b[17~",     // F6
		"\x1b[B", "\r", // %CPU -> RSS
		"I",             // invert
		"\x1b[6~",       // PgDn
		"\x1b[<0;50;1M", // left click on the header at x=49: COMMAND
		"\x1b[<0;50;1m", // release
		"\x03",          // ctrl+c
	}, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := tea.NewProgram(host{tb},
		tea.WithContext(ctx),
		tea.WithInput(strings.NewReader(input)),
		tea.WithOutput(io.Discard),
		tea.WithWindowSize(100, 30),
		tea.WithoutSignals(),
	)
	if _, err := p.Run(); err != nil {
		t.Fatalf("program: %v", err)
	}
	if len(calls) != 1 || calls[0].key != (model.ProcKey{PID: 1200, StartTicks: 12000}) || calls[0].sig != 15 {
		t.Fatalf("kill calls %v, want SIGTERM to 1200", calls)
	}
	if tb.Filter() != "nginx" || tb.Capturing() {
		t.Fatalf("filter %q capturing=%v", tb.Filter(), tb.Capturing())
	}
	if tb.SortID() != "command" || tb.Descending() {
		t.Fatalf("sort %s desc=%v, want command ascending after the header click", tb.SortID(), tb.Descending())
	}
}
