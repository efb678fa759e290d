package ui

import (
	"slices"
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/procview"
)

// Config is what the config file (config.toml) sets in the UI; main reads
// the file and hands it over. The zero value is every default.
type Config struct {
	// Source is the file it came from, for messages ("" for none).
	Source string
	// Tab is the tab shown first: a name (case does not matter) or its
	// number key.
	Tab string
	// Columns lists, per tab (by lower-case name), the table columns to
	// show, by id or title; COMMAND always stays.
	Columns map[string][]string
	// Keys rebinds actions (common.KeyActions) to other keys.
	Keys common.KeyMap
	// Lines is the line of each setting in the file ("tab", "keys.quit",
	// "columns.cpu"), to say where a problem is.
	Lines map[string]int
	// Problems are what reading the file found wrong (a syntax error, a
	// bad value): then nothing else of it is applied.
	Problems []string
}

// ColumnChooser is implemented by tabs whose table's columns the config
// file can choose.
type ColumnChooser interface {
	ShowColumns(names []string) error
}

// CheckConfig is every problem of c as the UI would report it: main prints
// them to stderr before the screen takes over; the UI shows them too.
func CheckConfig(c Config) []string {
	a := newWithTabs(common.NewContext(true), nil, Options{Config: c}, tabDefs)
	return a.configProblems
}

// where is "config FILE line N: setting: " for a problem with setting.
func (c Config) where(setting string) string {
	var b strings.Builder
	b.WriteString("config")
	if c.Source != "" {
		b.WriteString(" " + c.Source)
	}
	if n := c.Lines[setting]; n > 0 {
		b.WriteString(" line " + strconv.Itoa(n))
	}
	b.WriteString(": " + setting + ": ")
	return b.String()
}

// applyConfig checks what can be checked before the tabs exist (keys, the
// default tab) and, when all is well, binds the keys in the context the
// tabs are built with.
func (a *App) applyConfig(defs []tabDef) {
	c := a.opts.Config
	a.configProblems = append([]string(nil), c.Problems...)
	if len(a.configProblems) > 0 {
		return
	}
	for _, action := range sortedKeys(common.CheckKeys(c.Keys)) {
		a.configProblems = append(a.configProblems, c.where("keys."+action)+common.CheckKeys(c.Keys)[action])
	}
	if c.Tab != "" && tabIndex(defs, c.Tab) < 0 {
		a.configProblems = append(a.configProblems, c.where("tab")+"no tab "+strconv.Quote(c.Tab)+" ("+tabChoices(defs)+")")
	}
	if len(a.configProblems) == 0 {
		a.ctx.Keys = c.Keys
	}
}

// configureTabs chooses the tabs' columns and the first tab. A problem
// found now undoes the whole file: the keys go back to their defaults and
// the tabs are built again.
func (a *App) configureTabs(defs []tabDef) {
	c := a.opts.Config
	if len(a.configProblems) == 0 {
		for _, name := range sortedKeys(c.Columns) {
			i := tabIndex(defs, name)
			if i < 0 {
				a.configProblems = append(a.configProblems, c.where("columns."+name)+"no tab "+strconv.Quote(name)+" ("+tabChoices(defs)+")")
				continue
			}
			ch, ok := a.tabs[i].c.(ColumnChooser)
			if !ok {
				a.configProblems = append(a.configProblems, c.where("columns."+name)+"the "+a.tabs[i].name+" tab has no table yet")
				continue
			}
			if err := ch.ShowColumns(c.Columns[name]); err != nil {
				a.configProblems = append(a.configProblems, c.where("columns."+name)+err.Error())
			}
		}
	}
	if len(a.configProblems) > 0 {
		a.configNotice = true
		if a.ctx.Keys != nil {
			a.ctx.Keys = nil
			a.keys = newGlobalKeys(a.ctx)
			a.tabs = buildTabs(defs, a.ctx, a.opts)
			a.proc = procview.New(a.ctx)
		}
		return
	}
	if c.Tab != "" {
		a.active = tabIndex(defs, c.Tab)
	}
}

// tabIndex is the tab named name (any case) or with that number key, or -1.
func tabIndex(defs []tabDef, name string) int {
	for i, d := range defs {
		if strings.EqualFold(d.name, name) || (i < maxNumberKeys && name == strconv.Itoa(i+1)) {
			return i
		}
	}
	return -1
}

func tabChoices(defs []tabDef) string {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = strings.ToLower(d.name)
	}
	return "tabs: " + strings.Join(names, ", ") + ", or 1-" + strconv.Itoa(min(len(defs), maxNumberKeys))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// configLines is the help overlay's account of the config file: where it
// is and what was wrong with it.
func (a *App) configLines() []string {
	s := a.ctx.Styles
	c := a.opts.Config
	switch {
	case len(a.configProblems) > 0:
		out := []string{s.Danger.Render("Config file not applied (vitals started with the defaults):")}
		for _, p := range a.configProblems {
			out = append(out, s.Danger.Render("  "+model.Sanitize(p)))
		}
		return append(out, "")
	case c.Source != "":
		return []string{s.Faint.Render("Config file: " + model.Sanitize(c.Source)), ""}
	}
	return nil
}
