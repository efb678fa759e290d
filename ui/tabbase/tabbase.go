// Package tabbase is what every data tab is built on, so that a new tab
// (Disk, Net) writes only what it shows: the shared context, the snapshot
// on screen, the tab's size and place, its process table, the warnings
// line, the PSI line and the chart cache. A tab embeds Base and keeps its
// own package; like every tab it never imports the root ui package.
package tabbase

import (
	"strings"

	"charm.land/bubbles/v2/key"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/proctable"
)

// Base is embedded by a tab. Its methods give the tab SetSize, SetOrigin
// and, for a tab whose only keys are its table's, Capturing, KeyHelp and
// ShortKeyHelp.
type Base struct {
	Ctx   *common.Context
	Table *proctable.Table
	// Snap is the snapshot on screen; nil until the first one arrives.
	Snap             *model.Snapshot
	Width, Height    int
	OriginX, OriginY int

	charts     chartCache
	chartState chartState
}

// New builds the base of a tab whose process table has these columns,
// sorted by sortID; kill is how the table's kill menu signals processes.
func New(ctx *common.Context, cols []proctable.Column, sortID string, kill common.KillFunc) Base {
	return Base{Ctx: ctx, Table: proctable.New(ctx, cols, sortID, kill)}
}

// SetSize implements common.Component.
func (b *Base) SetSize(w, h int) { b.Width, b.Height = w, h }

// SetOrigin tells the tab where it is drawn, for mouse hits in the table.
func (b *Base) SetOrigin(x, y int) { b.OriginX, b.OriginY = x, y }

// Capturing implements common.Component for a tab whose table is all that
// takes keys.
func (b *Base) Capturing() bool { return b.Table.Capturing() }

// KeyHelp implements common.Component: the table's keys.
func (b *Base) KeyHelp() []key.Binding { return b.Table.KeyHelp() }

// ShortKeyHelp implements common.ShortHelper: the table's footer keys.
func (b *Base) ShortKeyHelp() []key.Binding { return b.Table.ShortKeyHelp() }

// ShowColumns keeps only the named columns of the tab's table (the config
// file's [columns]).
func (b *Base) ShowColumns(names []string) error { return b.Table.ShowColumns(names) }

// Selected implements common.Selector: the process under the table's
// cursor.
func (b *Base) Selected() (model.ProcKey, bool) { return b.Table.Selected() }

// KeyHelpWith is the tab's own keys, then the table's. While the table
// owns the keyboard (a filter being typed) the tab's keys do nothing, so
// only the table's are listed.
func (b *Base) KeyHelpWith(own ...key.Binding) []key.Binding {
	if b.Table.Capturing() {
		return b.Table.KeyHelp()
	}
	return append(own[:len(own):len(own)], b.Table.KeyHelp()...)
}

// ShortKeyHelpWith is KeyHelpWith for the one-line footer.
func (b *Base) ShortKeyHelpWith(own ...key.Binding) []key.Binding {
	if b.Table.Capturing() {
		return b.Table.ShortKeyHelp()
	}
	return append(own[:len(own):len(own)], b.Table.ShortKeyHelp()...)
}

// SetSnapshot puts s on screen and hands its processes to the table.
func (b *Base) SetSnapshot(s *model.Snapshot) {
	b.Snap = s
	if sample := b.Sample(); sample != nil {
		b.Table.SetProcesses(sample.Processes)
	}
}

// Sample is the sample on screen, or nil before the first.
func (b *Base) Sample() *model.Sample {
	if b.Snap == nil {
		return nil
	}
	return b.Snap.Sample
}

// Series is the newest points of a history series, one per cell of the
// tab's width; nil before the first snapshot.
func (b *Base) Series(name string) []float64 {
	if b.Snap == nil {
		return nil
	}
	return b.Snap.Series(name).Last(b.Width, nil)
}

// Label renders the words around the numbers, faint so the numbers stand
// out.
func (b *Base) Label(s string) string { return b.Ctx.Styles.Faint.Render(s) }

// Collecting is the tab's first line while its probe has published
// nothing: "Name: collecting the first interval…", or, once probe has
// reported an error, "Name: " + failure + the error.
func (b *Base) Collecting(name, probe, failure string) string {
	msg := name + ": collecting the first interval…"
	if s := b.Sample(); s != nil && s.Errors[probe] != "" {
		msg = name + ": " + failure + s.Errors[probe]
	}
	return b.Label(msg)
}

// TableLines draws the process table in h lines starting top lines below
// the tab's first.
func (b *Base) TableLines(top, h int) []string {
	b.Table.SetSize(b.Width, h)
	b.Table.SetOrigin(b.OriginX, b.OriginY+top)
	return strings.Split(b.Table.View(), "\n")
}

// ColumnHelp explains the table's columns for common.Explainer, leaving
// out those the tab has explained already.
func (b *Base) ColumnHelp(skip ...string) [][2]string {
	var out [][2]string
	for _, c := range b.Table.Columns() {
		if !contains(skip, c.ID) {
			out = append(out, [2]string{c.Title, c.Help})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
