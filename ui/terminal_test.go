package ui

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/ui/common"
)

// A storm of resizes ends in exactly one full repaint, once the size has
// held still for resizeSettle, and costs one timer at a time, not one per
// resize.
func TestResizeStormEndsInOneFullRepaint(t *testing.T) {
	a := newTestApp(t, true, 80, 24)
	// newTestApp's own resize armed the timer; let it settle first.
	settle(t, a)
	var timers []tea.Cmd
	for i := 0; i < 600; i++ {
		w, h := 20+(i*37)%180, 5+(i*11)%60
		if _, cmd := a.Update(tea.WindowSizeMsg{Width: w, Height: h}); cmd != nil {
			timers = append(timers, cmd)
		}
	}
	if _, cmd := a.Update(tea.WindowSizeMsg{Width: 100, Height: 30}); cmd != nil {
		timers = append(timers, cmd)
	}
	last := time.Now()
	if len(timers) != 1 {
		t.Fatalf("a storm of 601 resizes set %d timers, want 1", len(timers))
	}
	ticks, cleared := 0, false
	for msg := timers[0](); ticks < 20; ticks++ {
		_, next := a.Update(msg)
		if next == nil {
			t.Fatal("a settle tick neither repaints nor waits on")
		}
		if msg = next(); isClear(msg) {
			cleared = true
			break
		}
	}
	if !cleared {
		t.Fatalf("no full repaint after %d settle ticks", ticks)
	}
	if since := time.Since(last); since < resizeSettle {
		t.Fatalf("repainted %v after the last resize, before the size held still for %v", since, resizeSettle)
	}
	lines := strings.Split(a.render(), "\n")
	if len(lines) != 30 {
		t.Fatalf("after the storm the frame has %d lines, want 30", len(lines))
	}
	for i, l := range lines {
		if w := common.Width(l); w != 100 {
			t.Fatalf("after the storm line %d is %d cells, want 100: %q", i, w, l)
		}
	}
}

// settle runs the pending settle timer of a's last resize to its repaint.
func settle(t *testing.T, a *App) {
	t.Helper()
	msg := tea.Msg(resizeSettledMsg{})
	for i := 0; i < 20; i++ {
		_, cmd := a.Update(msg)
		if cmd == nil {
			t.Fatal("a settle tick neither repaints nor waits on")
		}
		if msg = cmd(); isClear(msg) {
			return
		}
	}
	t.Fatal("the settle timer never repaints")
}

func isClear(msg tea.Msg) bool {
	return fmt.Sprintf("%T", msg) == fmt.Sprintf("%T", tea.ClearScreen())
}

// syncBuffer is an output the program writes from its renderer goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The real program, fed 100 sizes in a burst: after the frames of the last
// size, a full clear and redraw follows (the renderer erases the screen
// with ED 2), with nothing else happening to cause it.
func TestProgramRepaintsFullyAfterResizeStorm(t *testing.T) {
	store := fixtureStore(t)
	a := New(common.NewContext(true), store, Options{Interval: time.Second})
	out := &syncBuffer{}
	final := tea.WindowSizeMsg{Width: 100, Height: 30}
	var lastSeen atomic.Bool
	filter := func(_ tea.Model, msg tea.Msg) tea.Msg {
		if msg == tea.Msg(final) {
			lastSeen.Store(true)
		}
		return msg
	}
	p := tea.NewProgram(a, tea.WithInput(nil), tea.WithOutput(out), tea.WithWindowSize(80, 24), tea.WithFilter(filter))
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for a.snapSeq() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no snapshot delivered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 100; i++ {
		p.Send(tea.WindowSizeMsg{Width: 20 + (i*37)%180, Height: 5 + (i*11)%60})
	}
	p.Send(final)
	for !lastSeen.Load() {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatal("the storm was not processed in 15 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Let the frame of the last size out (15 FPS), then look only at what
	// comes after it.
	time.Sleep(100 * time.Millisecond)
	mark := len(out.String())
	time.Sleep(resizeSettle + 400*time.Millisecond)
	after := out.String()[mark:]
	p.Quit()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the program did not stop")
	}
	if !strings.Contains(after, "\x1b[2J") {
		t.Fatalf("no full clear after the storm settled; output after it: %q", after)
	}
	if !strings.Contains(after, "vitals") {
		t.Fatalf("the repaint after the storm lacks the header; output after it: %q", after)
	}
}

// Reading or writing a terminal that went away (EOF, EIO) reports it, so
// the UI ends as on SIGHUP; a pipe whose other end closed stands in.
func TestTerminalFileReportsHangup(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var got []error
	gone := func(err error) { got = append(got, err) }
	in := terminalFile{r, gone}
	if _, err := w.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := in.Read(buf); n != 1 || err != nil || len(got) != 0 {
		t.Fatalf("a key read as %d bytes, %v; gone called %d times", n, err, len(got))
	}
	w.Close()
	if _, err := in.Read(buf); !errors.Is(err, io.EOF) || len(got) != 1 || !errors.Is(got[0], io.EOF) {
		t.Fatalf("read after hangup: %v; gone got %v", err, got)
	}
	r.Close()
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r2.Close()
	out := terminalFile{w2, gone}
	defer w2.Close()
	if _, err := out.Write([]byte("frame")); err == nil || len(got) != 2 {
		t.Fatalf("write after hangup: %v; gone got %v", err, got)
	}
}
