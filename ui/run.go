package ui

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// Run starts the interactive UI and blocks until the user quits or ctx ends.
// The terminal is restored on every exit path (bubbletea restores it on
// return, on panic and on SIGINT/SIGTERM).
func Run(ctx context.Context, store *model.Store, noColor bool, opts Options) error {
	app := New(common.NewContext(noColor), store, opts)
	// A monitor redraws when data, input or a resize arrives, not at 60 FPS:
	// the frame ticker only flushes changed frames; 15 wakeups a second keep
	// key echo under 70 ms at a negligible cost.
	//
	// Signals have one owner, the caller's ctx (SIGINT, SIGTERM, SIGHUP):
	// bubbletea's own handler would race it for the same SIGTERM, and when
	// ctx wins, its handler blocks forever sending a QuitMsg to an event
	// loop that has gone, and the program never exits.
	p := tea.NewProgram(app, tea.WithContext(ctx), tea.WithFPS(15), tea.WithoutSignalHandler())
	_, err := p.Run()
	// SIGTERM or SIGHUP cancel ctx: a requested stop, not a failure.
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}
