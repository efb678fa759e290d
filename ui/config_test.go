package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

func newConfiguredApp(t *testing.T, c Config, w, h int) *App {
	t.Helper()
	ctx := common.NewContext(true)
	ctx.Now = func() time.Time { return fixedNow }
	store := fixtureStore(t)
	a := New(ctx, store, Options{Interval: time.Second, Config: c, Kill: func(model.ProcKey, int) error { return nil }})
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	a.Update(common.SnapshotMsg{Snap: store.Snapshot()})
	return a
}

// The default bindings conflict nowhere.
func TestDefaultKeysDoNotConflict(t *testing.T) {
	if p := common.CheckKeys(nil); len(p) != 0 {
		t.Fatalf("default keys: %v", p)
	}
}

// Issue #12 item 8, a good file: the first tab, the columns per tab and
// rebound keys apply, and the help and footer show the keys as bound.
func TestConfigGood(t *testing.T) {
	c := Config{Source: "/home/u/.config/vitals/config.toml", Tab: "memory",
		Columns: map[string][]string{"cpu": {"pid", "%CPU", "wait%"}},
		Keys:    common.KeyMap{"kill": {"K"}, "quit": {"x"}, "sort_menu": {"s"}, "process": {"o"}},
		Lines:   map[string]int{"tab": 1}}
	a := newConfiguredApp(t, c, 120, 30)
	if a.active != 1 || len(a.configProblems) != 0 {
		t.Fatalf("tab %d, problems %v", a.active, a.configProblems)
	}
	press(a, "1")
	header := tableHeader(screen(a))
	for _, gone := range []string{"USER", "%USR", "CSW/s"} {
		if strings.Contains(header, gone) {
			t.Errorf("CPU header %q still has %s", header, gone)
		}
	}
	for _, kept := range []string{"PID", "%CPU", "WAIT%", "COMMAND"} {
		if !strings.Contains(header, kept) {
			t.Errorf("CPU header %q lacks %s", header, kept)
		}
	}
	// Rebound keys work; their old keys no longer do.
	press(a, "k")
	if strings.Contains(screen(a), "SIGTERM") {
		t.Error("k still opens the signal menu")
	}
	press(a, "K")
	if !strings.Contains(screen(a), "SIGTERM") {
		t.Errorf("K does not open the signal menu:\n%s", screen(a))
	}
	press(a, "esc", "o")
	if !a.procOpen {
		t.Error("o does not open the process view")
	}
	press(a, "esc")
	if _, cmd := a.Update(keyMsg("q")); cmd != nil {
		t.Error("q still quits")
	}
	// The footer and help show the keys as bound.
	if f := strings.Split(screen(a), "\n"); !strings.Contains(f[len(f)-1], "x:quit") || !strings.Contains(f[len(f)-1], "s <>:sort") || !strings.Contains(f[len(f)-1], "K:kill") {
		t.Errorf("footer %q", f[len(f)-1])
	}
	h := helpText(a)
	for _, want := range []string{"K send a signal", "x C-c quit", "s choose sort column", "o process view", "Config file: /home/u/.config/vitals/config.toml"} {
		if !strings.Contains(h, want) {
			t.Errorf("help lacks %q:\n%s", want, h)
		}
	}
	if _, cmd := a.Update(keyMsg("x")); cmd == nil {
		t.Error("x does not quit")
	}
}

func keyMsg(k string) tea.KeyPressMsg { return tea.KeyPressMsg{Code: []rune(k)[0], Text: k} }

// Issue #12 item 8, a bad file: the error names the line, is on screen
// (footer until a key, help always), and vitals runs with the defaults.
func TestConfigBadStartsWithDefaults(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Source: "c.toml", Keys: common.KeyMap{"qiut": {"x"}}, Lines: map[string]int{"keys.qiut": 7}}, `config c.toml line 7: keys.qiut: unknown action "qiut"`},
		{Config{Source: "c.toml", Keys: common.KeyMap{"kill": {"q"}}, Lines: map[string]int{"keys.kill": 3}}, `line 3: keys.kill: key "q" is bound to both quit and kill`},
		{Config{Source: "c.toml", Keys: common.KeyMap{"kill": {"ctrl+"}}}, `keys.kill: unknown key "ctrl+"`},
		{Config{Source: "c.toml", Tab: "gpu", Lines: map[string]int{"tab": 1}}, `line 1: tab: no tab "gpu" (tabs: cpu, memory, cache, disk, net, or 1-5)`},
		{Config{Source: "c.toml", Columns: map[string][]string{"memory": {"rss", "bogus"}}, Keys: common.KeyMap{"kill": {"K"}}, Lines: map[string]int{"columns.memory": 9}}, `line 9: columns.memory: no column "bogus" (columns: pid, user`},
		{Config{Source: "c.toml", Columns: map[string][]string{"disk": {"bogus"}}}, `columns.disk: no column "bogus"`},
		{Config{Source: "c.toml", Problems: []string{"config c.toml line 2: interval: cannot decode"}}, "line 2: interval"},
	} {
		if got := CheckConfig(c.cfg); len(got) != 1 || !strings.Contains(got[0], c.want) {
			t.Errorf("CheckConfig(%+v) = %q, want %q", c.cfg, got, c.want)
			continue
		}
		a := newConfiguredApp(t, c.cfg, 200, 30)
		lines := strings.Split(screen(a), "\n")
		if foot := lines[len(lines)-1]; !strings.Contains(foot, "defaults used (?): config") || !strings.Contains(foot, strings.Replace(c.want, "config c.toml", "config", 1)[:min(20, len(c.want)-6)]) {
			t.Errorf("footer %q", foot)
		}
		if a.active != 0 || a.ctx.Keys != nil {
			t.Errorf("not the defaults: tab %d keys %v", a.active, a.ctx.Keys)
		}
		press(a, "k") // the default kill key works
		if !strings.Contains(screen(a), "SIGTERM") {
			t.Errorf("default k does not work with a bad config")
		}
		press(a, "esc")
		if h := helpText(a); !strings.Contains(h, "Config file not applied") || !strings.Contains(h, c.want) {
			t.Errorf("help lacks the problem %q", c.want)
		}
		now := strings.Split(screen(a), "\n")
		if foot := now[len(now)-1]; strings.Contains(foot, "defaults used") {
			t.Errorf("the footer notice stays after a key: %q", foot)
		}
	}
}

// No file: nothing said, every default.
func TestConfigMissing(t *testing.T) {
	if p := CheckConfig(Config{}); len(p) != 0 {
		t.Fatal(p)
	}
	a := newConfiguredApp(t, Config{}, 80, 24)
	if h := helpText(a); strings.Contains(h, "Config file") {
		t.Errorf("help mentions a config file that does not exist")
	}
}
