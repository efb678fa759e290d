package tabbase

import (
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/internal/uitest"
	"github.com/vitals-dev/vitals/ui/proctable"
)

func newBase() *Base {
	b := New(common.NewContext(true), []proctable.Column{proctable.PIDColumn(), proctable.CommandColumn()}, "pid", nil)
	b.SetSize(80, 10)
	return &b
}

func plain(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = ansi.Strip(l)
	}
	return out
}

func TestWarningLines(t *testing.T) {
	b := newBase()
	b.SetSize(30, 10)
	n := func(text string) common.Alert { return common.Alert{Severity: common.Notice, Text: text} }
	w := func(text string) common.Alert { return common.Alert{Severity: common.Warn, Text: text} }
	three := []common.Alert{n("a"), w("b"), n("c")}
	for _, tc := range []struct {
		alerts []common.Alert
		lines  int
		want   []string
	}{
		{nil, 0, nil},
		{nil, 2, []string{"ok: all clear", ""}},
		// Most severe first, one a line, the area always lines high.
		{three, 4, []string{"! b", "! a", "! c", ""}},
		{three, 3, []string{"! b", "! a", "! c"}},
		{three, 2, []string{"! b", "! a +1 more (w)"}},
		{three, 1, []string{"! b +2 more (w)"}},
		// A long last line is cut to keep the count.
		{[]common.Alert{w("0123456789 0123456789 0123456789"), w("x")}, 1, []string{"! 0123456789 0123… +1 more (w)"}},
	} {
		if got := plain(b.WarningLines(tc.alerts, tc.lines, "all clear")); !slices.Equal(got, tc.want) {
			t.Errorf("WarningLines(%v, %d) = %q, want %q", tc.alerts, tc.lines, got, tc.want)
		}
	}
	// Critical warnings are drawn in the danger colour.
	c := New(common.NewContext(false), nil, "", nil)
	c.SetSize(80, 10)
	got := c.WarningLines([]common.Alert{n("a"), {Severity: common.Critical, Text: "k"}}, 2, "")
	if got[0] != c.Ctx.Styles.Danger.Render("! k") || got[1] != c.Ctx.Styles.Warning.Render("! a") {
		t.Errorf("styles: %q", got)
	}
}

func TestPSILine(t *testing.T) {
	b := newBase()
	p := &model.Pressure{Some: model.PressureAvg{Avg10: 1.5, Avg60: 2, Avg300: 3}}
	if got := ansi.Strip(b.PSILine("io", p, nil)); got != "PSI io some 1.50/2.00/3.00%" {
		t.Errorf("some only: %q", got)
	}
	p.Full = &model.PressureAvg{Avg10: 0.25}
	if got := ansi.Strip(b.PSILine("io", p, nil)); got != "PSI io some 1.50/2.00/3.00% full 0.25/0.00/0.00%" {
		t.Errorf("some and full: %q", got)
	}
	if got := ansi.Strip(b.PSILine("io", nil, map[string]string{"psi": "no /proc/pressure"})); got != "PSI io – (no /proc/pressure)" {
		t.Errorf("missing: %q", got)
	}
	if got := ansi.Strip(b.PSILine("io", nil, nil)); got != "PSI io – (not available)" {
		t.Errorf("missing without a reason: %q", got)
	}
}

func TestCachedChartsRedrawOnNewPointOrSize(t *testing.T) {
	b := newBase()
	store := model.NewStore(model.Host{}, 1, 10)
	record := func(i int) {
		store.Update(func(_ *model.Sample, h *model.History) {
			h.Record("pace", uitest.Now.Add(time.Duration(i)*time.Second), float64(i))
		})
		b.SetSnapshot(store.Snapshot())
	}
	renders := 0
	render := func() string { renders++; return "chart" }
	record(1)
	b.CachedCharts("pace", 5, render)
	b.CachedCharts("pace", 5, render)
	if renders != 1 {
		t.Fatalf("%d renders without a new point", renders)
	}
	record(2)
	b.CachedCharts("pace", 5, render)
	b.SetSize(60, 10)
	b.CachedCharts("pace", 5, render)
	b.CachedCharts("pace", 6, render)
	if renders != 4 {
		t.Fatalf("%d renders, want one per new point or size", renders)
	}
}

func TestKeyHelpWithHidesOwnKeysWhileTableCaptures(t *testing.T) {
	b := newBase()
	own := key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "view"))
	if got := b.KeyHelpWith(own); len(got) != len(b.Table.KeyHelp())+1 || got[0].Help().Key != "v" {
		t.Fatalf("own key not first: %d keys", len(got))
	}
	b.Table.Update(uitest.Key("/"))
	if !b.Capturing() {
		t.Fatal("/ should open the filter")
	}
	if got := b.ShortKeyHelpWith(own); len(got) > 0 && got[0].Help().Key == "v" {
		t.Error("own key listed while the filter is typed")
	}
}

func TestCollectingAndColumnHelp(t *testing.T) {
	b := newBase()
	if got := ansi.Strip(b.Collecting("Disk", "disk", "cannot read /proc/diskstats: ")); got != "Disk: collecting the first interval…" {
		t.Errorf("before data: %q", got)
	}
	store := model.NewStore(model.Host{}, 1, 10)
	store.Update(func(next *model.Sample, _ *model.History) {
		next.Errors = map[string]string{"disk": "permission denied"}
	})
	b.SetSnapshot(store.Snapshot())
	if got := ansi.Strip(b.Collecting("Disk", "disk", "cannot read /proc/diskstats: ")); got != "Disk: cannot read /proc/diskstats: permission denied" {
		t.Errorf("after an error: %q", got)
	}
	help := b.ColumnHelp("pid")
	if len(help) != 1 || help[0][0] != "COMMAND" || !strings.Contains(help[0][1], "command line") {
		t.Errorf("ColumnHelp: %q", help)
	}
}
