package ui

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/ui/cachetab"
	"github.com/vitals-dev/vitals/ui/comingtab"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/cputab"
	"github.com/vitals-dev/vitals/ui/disktab"
	"github.com/vitals-dev/vitals/ui/memtab"
	"github.com/vitals-dev/vitals/ui/nettab"
)

// tabDefs is the tab bar, in order. The bar, the number keys (tab i is on
// key i+1), Tab/Shift-Tab and the help overlay's key list all come from
// it, so adding a tab is one line here, e.g.
//
//	{name: "Disk", build: withKill(disktab.New)},
var tabDefs = []tabDef{
	{name: "CPU", build: withKill(cputab.New)},
	{name: "Memory", build: withKill(memtab.New)},
	{name: "Cache", build: withKill(cachetab.New)},
	{name: "Disk", build: withKill(disktab.New)},
	{name: "Net", build: withKill(nettab.New)},
}

// tabDef is one tab: its name in the bar and how to build it.
type tabDef struct {
	name  string
	build func(ctx *common.Context, opts Options) common.Component
}

// withKill adapts the constructor of a tab with a process table, which
// needs only the kill function from the options.
func withKill[T common.Component](newTab func(*common.Context, common.KillFunc) T) func(*common.Context, Options) common.Component {
	return func(ctx *common.Context, opts Options) common.Component { return newTab(ctx, opts.Kill) }
}

// coming is the placeholder of a tab not built yet, saying what it will
// show.
func coming(name, plan string) tabDef {
	return tabDef{name: name, build: func(ctx *common.Context, _ Options) common.Component {
		return comingtab.New(ctx, name, plan)
	}}
}

// maxNumberKeys is how many tabs get a number key: 1 to 9.
const maxNumberKeys = 9

// tabEntry is a built tab.
type tabEntry struct {
	name string
	c    common.Component
	// number switches to the tab; unbound past the ninth tab.
	number key.Binding
}

func buildTabs(defs []tabDef, ctx *common.Context, opts Options) []tabEntry {
	tabs := make([]tabEntry, len(defs))
	for i, d := range defs {
		tabs[i] = tabEntry{name: d.name, c: d.build(ctx, opts)}
		if i < maxNumberKeys {
			tabs[i].number = key.NewBinding(key.WithKeys(strconv.Itoa(i + 1)))
		}
	}
	return tabs
}

// tabForKey is the index of the tab whose number key msg is, or -1.
func tabForKey(tabs []tabEntry, msg tea.KeyPressMsg) int {
	for i, t := range tabs {
		if key.Matches(msg, t.number) {
			return i
		}
	}
	return -1
}

// numberKeysHelp is the help overlay's line for the number keys:
// "1-5  CPU Memory Cache Disk Net".
func numberKeysHelp(tabs []tabEntry) key.Binding {
	n := min(len(tabs), maxNumberKeys)
	keys := "1"
	if n > 1 {
		keys += "-" + strconv.Itoa(n)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = tabs[i].name
	}
	return key.NewBinding(key.WithHelp(keys, strings.Join(names, " ")))
}
