package ui

import (
	"context"

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
	p := tea.NewProgram(app, tea.WithContext(ctx), tea.WithFPS(15))
	_, err := p.Run()
	if err == tea.ErrProgramKilled && ctx.Err() != nil {
		return nil
	}
	return err
}
