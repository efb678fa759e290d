// Package cachetab is the Cache tab: bcc's cachestat (system page-cache hit
// ratio) and cachetop (per process), live.
package cachetab

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/chart"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/proctable"
	"github.com/vitals-dev/vitals/ui/tabbase"
)

// Tab is the Cache tab component.
type Tab struct {
	tabbase.Base

	// counts are this interval's cachetop rows by pid; the table's column
	// functions read them, so the table keeps its process-table keys.
	counts map[int32]*model.CacheProcess
	rows   []model.Process

	// files shows pcstat in the lower half for filesOf: the process
	// selected when f was pressed or the cursor last moved, kept while the
	// list re-sorts under the cursor.
	files     bool
	filesOf   model.ProcKey
	filesComm string
	filesKey  key.Binding
}

// New builds the tab; kill is how the table's kill menu signals processes.
func New(ctx *common.Context, kill common.KillFunc) *Tab {
	t := &Tab{counts: map[int32]*model.CacheProcess{},
		filesKey: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "open files of the selected process in the page cache (pcstat)"))}
	// Misses first: the process making the cache miss is the culprit of a
	// cold read (cachetop sorts by HITS, one key away with <).
	t.Base = tabbase.New(ctx, t.columns(), "misses", kill)
	return t
}

// KeyHelp implements common.Component.
func (t *Tab) KeyHelp() []key.Binding {
	return t.KeyHelpWith(t.filesKey, t.ChartsBinding())
}

// ShortKeyHelp implements common.ShortHelper.
func (t *Tab) ShortKeyHelp() []key.Binding {
	return t.ShortKeyHelpWith(key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "files")))
}

// Demand implements common.DemandReporter: every process's /proc/PID/io
// (the procfs estimate is computed from it when eBPF is not running), and
// pcstat for the selected process while the files panel is open.
func (t *Tab) Demand() model.DemandSet {
	d := model.DemandSet{IO: true}
	if t.files && t.filesOf != (model.ProcKey{}) {
		d.FilesOf = t.filesOf
	}
	return d
}

// Update implements common.Component.
func (t *Tab) Update(msg tea.Msg) tea.Cmd {
	if m, ok := msg.(common.SnapshotMsg); ok {
		t.Snap = m.Snap
		t.join()
		return nil
	}
	if t.ToggleCharts(msg) {
		return nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok && !t.Table.Capturing() && key.Matches(k, t.filesKey) {
		t.files = !t.files
		t.pickFiles()
		return nil
	}
	cmd := t.Table.Update(msg)
	switch msg.(type) {
	case tea.KeyPressMsg, tea.MouseClickMsg, tea.MouseWheelMsg:
		t.pickFiles() // the user moved the cursor (or sorted)
	}
	return cmd
}

// pickFiles makes the selected process the one whose files are shown.
func (t *Tab) pickFiles() {
	k, ok := t.Table.Selected()
	if !ok {
		t.filesOf, t.filesComm = model.ProcKey{}, ""
		return
	}
	t.filesOf = k
	for i := range t.rows {
		if t.rows[i].Key() == k {
			t.filesComm = model.Sanitize(t.rows[i].Comm)
		}
	}
}

// running reports whether the process k is in the snapshot on screen.
func (t *Tab) running(k model.ProcKey) bool {
	if s := t.Sample(); s != nil {
		for i := range s.Processes {
			if s.Processes[i].Key() == k {
				return true
			}
		}
	}
	return false
}

// join lists every process with this interval's cachetop counts (none for
// most: they sort last), so that any process can be selected for its open
// files (f). A process that exited before the counts were drained (a
// short-lived reader: what cachetop is good at catching) still gets a row,
// from what the kernel recorded.
func (t *Tab) join() {
	clear(t.counts)
	t.rows = t.rows[:0]
	sample := t.Sample()
	if sample == nil || sample.Cache == nil {
		t.Table.SetProcesses(nil)
		return
	}
	c := sample.Cache
	procs := sample.Processes
	live := make(map[int32]bool, len(procs))
	for i := range procs {
		live[procs[i].PID] = true
	}
	t.rows = append(t.rows, procs...)
	for i := range c.Processes {
		cp := &c.Processes[i]
		t.counts[cp.PID] = cp
		if !live[cp.PID] {
			t.rows = append(t.rows, model.Process{ProcessIdentity: model.ProcessIdentity{PID: cp.PID, UID: cp.UID, User: cp.User, Comm: cp.Comm, Cmdline: "[" + cp.Comm + "] (exited)"}})
		}
	}
	t.Table.SetProcesses(t.rows)
}

func (t *Tab) count(p *model.Process) *model.CacheProcess {
	if c := t.counts[p.PID]; c != nil {
		return c
	}
	return &model.CacheProcess{}
}

func (t *Tab) columns() []proctable.Column {
	// The counts live in t.counts, not in model.Process, so each getter
	// looks the row up there.
	pages := func(id, title string, priority int, help string, get func(*model.CacheProcess) uint64) proctable.Column {
		return proctable.Numeric(id, title, 8, func(p *model.Process) uint64 { return get(t.count(p)) },
			func(v uint64) string { return common.Count(float64(v)) }, help).WithPriority(priority)
	}
	return []proctable.Column{
		proctable.PIDColumn().WithHelp("process id"),
		proctable.UserColumn().WithHelp("user of the process"),
		pages("hits", "HITS", 2, "pages read in this interval that were already in the page cache (accessed − misses)",
			func(c *model.CacheProcess) uint64 { return c.Hits }),
		pages("misses", "MISSES", 1, "pages the process's reads had to bring into the cache: pages added minus pages written, clamped to what it read",
			func(c *model.CacheProcess) uint64 { return c.Misses }),
		pages("dirties", "DIRTIES", 3, "pages the process wrote into the page cache (dirtied) in this interval",
			func(c *model.CacheProcess) uint64 { return c.Dirties }),
		proctable.OptNumeric("readhit", "READ_HIT%", 10, 1, func(p *model.Process) model.Float { return t.count(p).ReadHitPct },
			"hits / pages read: the share of its reads the cache served (– when it read nothing)").WithPriority(2),
		proctable.OptNumeric("writehit", "WRITE_HIT%", 11, 1, func(p *model.Process) model.Float { return t.count(p).WriteHitPct },
			"share of written pages that were already cached (overwrites); with reads and writes mixed it underestimates").WithPriority(5),
		// By name, not command line: an exited process's command line is
		// made up ("[comm] (exited)").
		proctable.CommandColumn().WithHelp("command line; [comm] (exited) when the process ended before the interval's counts were read").
			WithLess(func(a, b *model.Process) bool { return a.Comm < b.Comm }),
	}
}

// View implements common.Component.
func (t *Tab) View() string {
	if t.Width <= 0 || t.Height <= 0 {
		return ""
	}
	s := t.Ctx.Styles
	l := t.Label
	var lines []string
	var c *model.Cache
	if sample := t.Sample(); sample != nil {
		c = sample.Cache
	}
	switch {
	case c == nil:
		lines = append(lines, t.Collecting("Cache", "cache", ""))
	case c.Source == "ebpf":
		lines = append(lines, l("source ")+s.OK.Render("eBPF, tier "+c.Tier)+l(t.otherTiers(c)))
	default:
		lines = append(lines, s.Warning.Render("ESTIMATE")+l(" from /proc/PID/io (1 − read_bytes/rchar per process, no system line): eBPF "+c.Reason))
	}
	if c != nil && c.System != nil {
		sys := c.System
		lines = append(lines, l("accesses/s ")+common.Count(sys.AccessesPerS)+l("  hits/s ")+common.Count(sys.HitsPerS)+
			l("  misses/s ")+common.Count(sys.MissesPerS)+l("  dirties/s ")+common.Count(sys.DirtiesPerS)+
			l("  hit ratio ")+s.Bold.Render(common.OptFloat(sys.HitRatio, 1)+"%")+
			l("   buffers ")+common.OptBytes(sys.BuffersBytes)+l("  cached ")+common.OptBytes(sys.CachedBytes))
		const tableFrame = 2 // header and status line
		room := t.Height - len(lines) - (tabbase.MinTableRows + tableFrame)
		if ch := t.ChartLines(room, t.Height-len(lines)-6, min(8, max(5, t.Height/4))); ch > 0 {
			// Misses are recorded every interval; the hit ratio only
			// when there were reads.
			lines = common.AppendLines(lines, t.CachedCharts(model.SeriesCacheMisses, ch, func() string { return t.charts(ch) }))
		}
	}
	if rest := t.Height - len(lines); rest > 0 {
		tableH, filesH := rest, 0
		if t.files && rest >= 8 {
			filesH = rest / 2
			tableH = rest - filesH
		}
		lines = append(lines, t.TableLines(len(lines), tableH)...)
		if filesH > 0 {
			lines = append(lines, t.filesView(c, filesH)...)
		}
	}
	return common.Block(lines, t.Width, t.Height)
}

// filesView is pcstat for the selected process: its open regular files,
// largest share in the page cache first.
func (t *Tab) filesView(c *model.Cache, h int) []string {
	s := t.Ctx.Styles
	k := t.filesOf
	if k == (model.ProcKey{}) {
		return []string{s.Faint.Render("files: select a process")}
	}
	who := strconv.Itoa(int(k.PID)) + " (" + t.filesComm + ")"
	if c == nil || c.Files == nil || c.Files.PID != k.PID {
		if !t.running(k) {
			// It will never be read: say so rather than wait.
			return []string{s.Warning.Render("files of " + who + ": the process exited")}
		}
		return []string{s.Faint.Render("files of " + who + ": reading (next refresh)…")}
	}
	f := c.Files
	head := s.Bold.Render("open files of "+strconv.Itoa(int(f.PID))) + s.Faint.Render(" in the page cache, via "+f.Method)
	if f.Reason != "" {
		head += s.Warning.Render("  " + model.Sanitize(f.Reason))
	}
	tbl := t.filesTable()
	out := []string{head, tbl.Header(s.TableHeader)}
	for _, fr := range f.Files {
		if len(out) >= h {
			break
		}
		pct := common.Dash
		if fr.Pages > 0 {
			pct = common.Pct(float64(fr.CachedPages) * 100 / float64(fr.Pages))
		}
		out = append(out, tbl.Row(common.Bytes(fr.SizeBytes), common.Bytes(fr.CachedPages*4096), pct,
			common.Bytes(fr.DirtyPages*4096), model.Sanitize(fr.Path)))
	}
	if len(f.Files) == 0 && len(out) < h {
		out = append(out, s.Faint.Render("no open regular files"))
	}
	return out
}

// filesTable lays the files panel out as pcstat: sizes, then the path in
// the width left.
func (t *Tab) filesTable() *common.TextTable {
	return common.NewTextTable(t.Width, 4,
		common.TextCol{Title: "SIZE", Width: 7, Right: true, Priority: 2},
		common.TextCol{Title: "CACHED", Width: 7, Right: true, Priority: 1},
		common.TextCol{Title: "CACHED%", Width: 7, Right: true, Priority: 1},
		common.TextCol{Title: "DIRTY", Width: 7, Right: true, Priority: 3},
		common.TextCol{Title: "PATH", Width: 12})
}

// otherTiers says briefly why faster tiers are not in use.
func (t *Tab) otherTiers(c *model.Cache) string {
	var parts []string
	for _, tr := range c.Tiers {
		if tr.Status == "failed" {
			parts = append(parts, tr.Tier+": "+tr.Reason)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "  (" + strings.Join(parts, "; ") + ")"
}

func (t *Tab) charts(h int) string {
	s := t.Ctx.Styles
	ratio := t.Series(model.SeriesCacheHitRatio)
	misses := t.Series(model.SeriesCacheMisses)
	maxMiss := 10.0
	for _, v := range misses {
		maxMiss = max(maxMiss, v*1.1)
	}
	lw := t.Width / 2
	left := chart.Render(chart.Spec{Title: "hit ratio %", Width: lw, Height: h, YMin: 0, YMax: 100,
		Lines: []chart.Line{{Name: "ratio", Values: ratio}}, Style: s.OK})
	right := chart.Render(chart.Spec{Title: "misses pages/s", Width: t.Width - lw - 1, Height: h, YMin: 0, YMax: maxMiss,
		Lines: []chart.Line{{Name: "misses", Values: misses}}, Style: s.Warning})
	return lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right)
}

// Explain implements common.Explainer.
func (t *Tab) Explain() [][2]string {
	out := [][2]string{
		{"source", "eBPF: page-cache events counted in the kernel per process (tracepoints mm_filemap_get_pages, mm_filemap_add_to_page_cache, writeback_dirty_folio, or fentry/kprobe where the kernel allows), with the tier in use; ESTIMATE: not root, 1 − Δread_bytes/Δrchar from /proc/PID/io"},
		{"accesses", "pages reads asked for, counted once per read() and clamped to the end of the file"},
		{"misses", "pages added to the page cache minus pages written (writes are not read misses), clamped to [0, accesses]"},
		{"hits", "accesses − misses; hit ratio = hits / accesses"},
		{"dirties", "pages written into the page cache"},
		{"not seen", "reads through already-mapped pages (mmap: watch major faults on the Memory tab instead), tmpfs and direct I/O bypass the page-cache read path"},
		{"buffers, cached", "Buffers and Cached from /proc/meminfo"},
		{"f", "pcstat: the selected process's open regular files and how much of each is in the page cache (cachestat(2) on Linux 6.5+, mincore before)"},
	}
	// The tier report, as vitals probes prints it.
	if sample := t.Sample(); sample != nil && sample.Cache != nil {
		for _, tr := range sample.Cache.Tiers {
			text := tr.Status
			if tr.Reason != "" {
				text += ": " + tr.Reason
			}
			out = append(out, [2]string{"tier " + tr.Tier, text})
		}
	}
	return append(out, t.ColumnHelp()...)
}
