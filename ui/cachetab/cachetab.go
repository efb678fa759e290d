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

	// counts are this interval's cachetop rows by process; the table's
	// column functions read them, so the table keeps its process-table
	// keys. A row whose start time is not known is under {PID, 0}.
	counts map[model.ProcKey]*model.CacheProcess
	rows   []model.Process
	// complete is set when the counts come from the kernel (eBPF): a
	// process without a row touched no page-cache page.
	complete bool

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
	t := &Tab{counts: map[model.ProcKey]*model.CacheProcess{},
		filesKey: ctx.Binding("cache_files", "")}
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
	return t.ShortKeyHelpWith(key.NewBinding(key.WithKeys(t.filesKey.Keys()...), key.WithHelp(common.FirstKey(t.filesKey), "files")))
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
// from what the kernel recorded. Rows are matched by pid and start time,
// as the model joins them, so a reused pid never shows another's counts.
func (t *Tab) join() {
	clear(t.counts)
	t.rows = model.Reuse(t.rows)
	sample := t.Sample()
	if sample == nil || sample.Cache == nil {
		t.complete = false
		t.Table.SetProcesses(nil)
		return
	}
	c := sample.Cache
	t.complete = c.Source != model.CacheSourceEstimate
	procs := sample.Processes
	live := make(map[model.ProcKey]bool, 2*len(procs))
	for i := range procs {
		live[procs[i].Key()] = true
		live[model.ProcKey{PID: procs[i].PID}] = true
	}
	t.rows = append(t.rows, procs...)
	for i := range c.Processes {
		cp := &c.Processes[i]
		k := model.ProcKey{PID: cp.PID, StartTicks: cp.StartTicks}
		t.counts[k] = cp
		if !live[k] {
			p := model.Process{ProcessIdentity: model.ProcessIdentity{PID: cp.PID, StartTicks: cp.StartTicks,
				UID: cp.UID, User: cp.User, Comm: cp.Comm, Cmdline: "[" + cp.Comm + "] (exited)"}}
			p.CacheHits, p.CacheMisses, p.CacheReadHitPct = model.Known(float64(cp.Hits)), model.Known(float64(cp.Misses)), cp.ReadHitPct
			t.rows = append(t.rows, p)
		}
	}
	t.Table.SetProcesses(t.rows)
}

// counted is what the tab knows of one process's page-cache activity in
// the interval: its row, if it has one; whether its figures are known
// (a row, counted in the kernel, or the model's join says so); and, when
// they are not, whether that is because its /proc/PID/io may not be read.
type counted struct {
	row    *model.CacheProcess
	known  bool
	denied bool
}

func (t *Tab) lookup(p *model.Process) counted {
	row := t.counts[p.Key()]
	if row == nil {
		row = t.counts[model.ProcKey{PID: p.PID}]
	}
	return counted{
		row:    row,
		known:  row != nil || t.complete || p.CacheHits.OK || p.IODetail == model.DetailFresh,
		denied: p.IODetail == model.DetailDenied,
	}
}

// pages is a page count of the row, 0 for a process known to have none.
func (c counted) pages(get func(*model.CacheProcess) uint64) model.Float {
	switch {
	case c.row != nil:
		return model.Known(float64(get(c.row)))
	case c.known:
		return model.Known(0)
	}
	return model.Unknown
}

// ratio is a percentage of the row: unknown without one (nothing read).
func (c counted) ratio(get func(*model.CacheProcess) model.Float) model.Float {
	if c.row == nil {
		return model.Unknown
	}
	return get(c.row)
}

// cell formats a figure: n/a when it could not be read (another user's
// process without root), – when unknown for another reason (not read yet,
// nothing to divide), never a made-up 0.
func (c counted) cell(v model.Float, format func(float64) string) string {
	switch {
	case v.OK:
		return format(v.V)
	case !c.known && c.denied:
		return NotReadable
	}
	return common.Dash
}

// NotReadable is what a cell shows for a figure the user may not read.
const NotReadable = "n/a"

func (t *Tab) columns() []proctable.Column {
	// The counts live in t.counts, not in model.Process, so each getter
	// looks the row up there. Unknown figures sort below every known one.
	count := func(v float64) string { return common.Count(v) }
	pct := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	col := func(id, title string, width, priority int, format func(float64) string, get func(counted) model.Float, help string) proctable.Column {
		return proctable.Column{ID: id, Title: title, Width: width, Align: proctable.AlignRight, DescendingFirst: true, Priority: priority,
			Value: func(p *model.Process) string { c := t.lookup(p); return c.cell(get(c), format) },
			Less:  func(a, b *model.Process) bool { return get(t.lookup(a)).Or(-1) < get(t.lookup(b)).Or(-1) },
			Help:  help}
	}
	pages := func(id, title string, width, priority int, get func(*model.CacheProcess) uint64, help string) proctable.Column {
		return col(id, title, width, priority, count, func(c counted) model.Float { return c.pages(get) }, help)
	}
	// thenBy breaks a column's ties by another figure before the PID: with
	// nobody missing the cache (a warm reader), MISSES alone would leave
	// the readers among the idle rows in PID order, off the screen.
	thenBy := func(c proctable.Column, get func(*model.CacheProcess) uint64) proctable.Column {
		primary := c.Less
		second := func(p *model.Process) float64 { return t.lookup(p).pages(get).Or(-1) }
		c.Less = func(a, b *model.Process) bool {
			if primary(a, b) || primary(b, a) {
				return primary(a, b)
			}
			return second(a) < second(b)
		}
		return c
	}
	hits := func(r *model.CacheProcess) uint64 { return r.Hits }
	misses := func(r *model.CacheProcess) uint64 { return r.Misses }
	// mmap figures are the kernel's alone: the estimate cannot tell them
	// from reads.
	mmap := func(id, title string, width, priority int, get func(*model.CacheProcess) uint64, help string) proctable.Column {
		return col(id, title, width, priority, count, func(c counted) model.Float {
			if !t.complete {
				return model.Unknown
			}
			return c.pages(get)
		}, help)
	}
	return []proctable.Column{
		proctable.PIDColumn().WithHelp("process id"),
		proctable.UserColumn().WithHelp("user of the process"),
		thenBy(pages("hits", "HITS", 8, 2, hits,
			"pages read in this interval that were already in the page cache (accessed − misses)"), misses),
		thenBy(pages("misses", "MISSES", 8, 1, misses,
			"pages the process's reads had to bring into the cache: pages added minus pages written, clamped to what it read; ties by HITS"), hits),
		pages("dirties", "DIRTIES", 8, 3, func(c *model.CacheProcess) uint64 { return c.Dirties },
			"pages the process wrote into the page cache (dirtied) in this interval"),
		col("readhit", "READ_HIT%", 10, 2, pct, func(c counted) model.Float {
			return c.ratio(func(r *model.CacheProcess) model.Float { return r.ReadHitPct })
		},
			"hits / pages read: the share of its reads the cache served (– when it read nothing)"),
		mmap("mmap", "MMAP", 7, 6, func(c *model.CacheProcess) uint64 { return c.MmapPages },
			"pages the process mapped in by page faults on files (the faulting page and the fault-around the kernel maps with it); a lower bound once the cache holds large folios. eBPF only: – with the estimate"),
		mmap("mmapmiss", "MMAP_MISS", 9, 4, func(c *model.CacheProcess) uint64 { return c.MmapMisses },
			"pages the process's page faults added to the page cache, readahead included: what an mmap reader pulled from storage. Not read misses. eBPF only"),
		col("writehit", "WRITE_HIT%", 11, 5, pct, func(c counted) model.Float {
			return c.ratio(func(r *model.CacheProcess) model.Float { return r.WriteHitPct })
		},
			"share of written pages that were already cached (overwrites); with reads and writes mixed it underestimates"),
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
		if n := t.deniedCount(); n > 0 {
			lines = append(lines, l(NotReadable+" for "+strconv.Itoa(n)+" processes of other users: their /proc/PID/io is readable only by root (? explains)"))
		}
	}
	if u := c.UnattributedOrNil(); u != nil {
		share := "–"
		if u.AccessSharePct.OK {
			share = strconv.FormatFloat(u.AccessSharePct.V, 'f', 0, 64) + "%"
		}
		if c.DroppedProcEvents > 0 {
			lines = append(lines, s.Warning.Render("! "+common.Count(u.MapFull.AccessesPerS)+" accesses/s ("+share+
				" of all) in no row: the kernel's per-process table (16,384) was full; "+
				common.Count(float64(c.DroppedProcEvents))+" events, kept in the system line"))
		} else if u.OtherNamespaces.AccessesPerS > 0 || u.OtherNamespaces.DirtiesPerS > 0 {
			lines = append(lines, l(common.Count(u.OtherNamespaces.AccessesPerS)+" accesses/s ("+share+
				") by processes outside this PID namespace: in the system line, in no row"))
		}
	}
	if c != nil && c.System != nil {
		sys := c.System
		reads := l("accesses/s ") + common.Count(sys.AccessesPerS) + l("  hits/s ") + common.Count(sys.HitsPerS) +
			l("  misses/s ") + common.Count(sys.MissesPerS) + l("  dirties/s ") + common.Count(sys.DirtiesPerS) +
			l("  hit ratio ") + s.Bold.Render(common.OptFloat(sys.HitRatio, 1)+"%")
		maps := l("mmap pages/s ") + common.Count(sys.MmapPagesPerS) + l("  mmap misses/s ") + common.Count(sys.MmapMissesPerS) +
			l("   buffers ") + common.OptBytes(sys.BuffersBytes) + l("  cached ") + common.OptBytes(sys.CachedBytes)
		// One line when it fits, the mmap figures below the reads when not.
		if one := reads + l("   ") + maps; common.Width(one) <= t.Width {
			lines = append(lines, one)
		} else {
			lines = append(lines, reads, maps)
		}
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

// deniedCount is how many processes on screen have figures the user may
// not read.
func (t *Tab) deniedCount() int {
	n := 0
	for i := range t.rows {
		if c := t.lookup(&t.rows[i]); !c.known && c.denied {
			n++
		}
	}
	return n
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
		{"mmap", "mmap pages/s: pages processes mapped in by page faults on files (the faulting page and its fault-around); mmap misses/s: pages added to the cache inside those faults, i.e. read from storage (readahead included). Not read misses. A lower bound once the file's cache holds large folios"},
		{"not seen", "accesses through pages already mapped (once in the page table, loads never enter the kernel: mapping a page in is what MMAP counts; major faults are no substitute, since readahead makes most fault-ins minor), tmpfs/shmem files and direct I/O (O_DIRECT), which bypass the page-cache read path"},
		{"dropped", "page-cache events whose process found no room in the kernel's per-process table (16,384 processes): in no row, but their pages stay in the system line (\"in no row\", with their share of all accesses); shown only when non-zero"},
		{"outside", "in a container (a child PID namespace), processes of the host have no pid here: their pages are in the system line and in no row, never shown as one of this namespace's processes"},
		{NotReadable, "not readable, never 0: without root the estimate reads /proc/PID/io, which only root may read for other users' processes (io_detail \"denied\" and null cache_hits/cache_misses in the JSON). – is not known for another reason: not read yet, or nothing to divide"},
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
