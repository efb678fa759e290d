// Package procview is the process view: everything vitals knows about one
// process on one screen (Enter on a row of any tab's table, Esc back) —
// its command line in full, its cgroup and that cgroup's limits, the CPU
// split and run-queue wait, context switches, memory with its growth, its
// page-cache hits and misses, its I/O rates, and charts of its CPU and RSS
// since vitals first saw it. The view htop spreads over several screens
// and btop's detail box gives in part.
//
// Like a tab it is a component of its own that never imports the root; the
// root opens it on a process and hands it snapshots while it is open.
package procview

import (
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/chart"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/prochist"
)

// maxCmdlineLines bounds a runaway command line (argv can be 2 MiB); the
// rest is a scroll away.
const maxCmdlineLines = 12

// labelW is the width of the section labels on the left.
const labelW = 7

// chartLines is the charts' height when the screen has room for more.
const chartLines = 8

// View is the process view component.
type View struct {
	ctx           *common.Context
	width, height int

	key  model.ProcKey
	from string // the tab it was opened from

	snap *model.Snapshot
	// last is the process as last seen, kept when it exits; exited is
	// when it was first missing.
	last   model.Process
	seen   bool
	exited time.Time
	// hist is its life series as last seen (the tracker forgets a process
	// once it has exited).
	hist []prochist.Point
	per  int

	top  int // first line shown (scrolling)
	keys viewKeys
}

type viewKeys struct {
	Back, Up, Down, PageUp, PageDown, Home key.Binding
}

// New builds a closed view.
func New(ctx *common.Context) *View {
	return &View{ctx: ctx, keys: viewKeys{
		Back:     ctx.Binding("back", ""),
		Up:       key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "scroll up")),
		Down:     key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "scroll down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("PgUp", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "space"), key.WithHelp("PgDn", "page down")),
		Home:     key.NewBinding(key.WithKeys("home"), key.WithHelp("Home", "top")),
	}}
}

// Open shows process k (selected on the tab named from) as of snap.
func (v *View) Open(k model.ProcKey, from string, snap *model.Snapshot) {
	*v = View{ctx: v.ctx, width: v.width, height: v.height, keys: v.keys, key: k, from: from}
	v.setSnapshot(snap)
}

// Key is the process shown.
func (v *View) Key() model.ProcKey { return v.key }

// BackKey is the key that closes the view.
func (v *View) BackKey() key.Binding { return v.keys.Back }

// SetSize implements common.Component.
func (v *View) SetSize(w, h int) { v.width, v.height = w, h }

// Capturing implements common.Component.
func (v *View) Capturing() bool { return false }

// KeyHelp implements common.Component.
func (v *View) KeyHelp() []key.Binding {
	k := v.keys
	return []key.Binding{k.Back, key.NewBinding(key.WithKeys("up", "down", "pgup", "pgdown", "home"), key.WithHelp("↑↓ PgUp/Dn", "scroll (Home)"))}
}

// ShortKeyHelp implements common.ShortHelper.
func (v *View) ShortKeyHelp() []key.Binding { return []key.Binding{v.keys.Back} }

// Demand implements common.DemandReporter: smaps_rollup for this process
// and /proc/PID/io (read for every process that ran: it is the only way
// the scanner reads it, at about 2 µs each).
func (v *View) Demand() model.DemandSet {
	return model.DemandSet{Keys: []model.ProcKey{v.key}, IO: true}
}

// Update implements common.Component.
func (v *View) Update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case common.SnapshotMsg:
		v.setSnapshot(m.Snap)
	case tea.KeyPressMsg:
		page := max(1, v.height-1)
		switch {
		case key.Matches(m, v.keys.Up):
			v.top--
		case key.Matches(m, v.keys.Down):
			v.top++
		case key.Matches(m, v.keys.PageUp):
			v.top -= page
		case key.Matches(m, v.keys.PageDown):
			v.top += page
		case key.Matches(m, v.keys.Home):
			v.top = 0
		}
		v.top = max(0, v.top)
	case tea.MouseWheelMsg:
		switch m.Mouse().Button {
		case tea.MouseWheelUp:
			v.top = max(0, v.top-3)
		case tea.MouseWheelDown:
			v.top += 3
		}
	}
	return nil
}

func (v *View) setSnapshot(s *model.Snapshot) {
	v.snap = s
	if s == nil || s.Sample == nil {
		return
	}
	for i := range s.Sample.Processes {
		if p := &s.Sample.Processes[i]; p.Key() == v.key {
			v.last, v.seen, v.exited = *p, true, time.Time{}
			if v.ctx.Procs != nil {
				v.hist, v.per = v.ctx.Procs.History(v.key, v.hist[:0])
			}
			return
		}
	}
	if s.Sample.Processes != nil && v.exited.IsZero() {
		v.exited = s.Sample.Time
	}
}

// cacheRow is the process's cachetop row this interval, if any.
func (v *View) cacheRow() *model.CacheProcess {
	if v.snap == nil || v.snap.Sample == nil || v.snap.Sample.Cache == nil {
		return nil
	}
	c := v.snap.Sample.Cache
	for i := range c.Processes {
		r := &c.Processes[i]
		if r.PID == v.key.PID && (r.StartTicks == v.key.StartTicks || r.StartTicks == 0) {
			return r
		}
	}
	return nil
}

// cgroup is the memory cgroup the process is in, from the sample.
func (v *View) cgroup() *model.MemCgroup {
	if v.snap == nil || v.snap.Sample == nil || v.snap.Sample.Memory == nil || v.last.Cgroup == "" {
		return nil
	}
	for i := range v.snap.Sample.Memory.Cgroups {
		if cg := &v.snap.Sample.Memory.Cgroups[i]; cg.Path == v.last.Cgroup {
			return cg
		}
	}
	return nil
}

// View implements common.Component.
func (v *View) View() string {
	if v.width <= 0 || v.height <= 0 {
		return ""
	}
	lines := v.lines()
	v.top = min(v.top, max(0, len(lines)-v.height))
	return common.Block(lines[v.top:], v.width, v.height)
}

func (v *View) label(s string) string { return v.ctx.Styles.Faint.Render(s) }

// item is "name value", the name faint.
func (v *View) item(name, value string) string { return v.label(name+" ") + value }

// flow lays items out after a section label, as many to a line as fit,
// two cells apart, the next lines indented under the first item.
func (v *View) flow(section string, items ...string) []string {
	var out []string
	indent := strings.Repeat(" ", labelW)
	line := v.ctx.Styles.Bold.Render(common.Fit(section, labelW-1)) + " "
	lineW, first := labelW, true
	for _, it := range items {
		if it == "" {
			continue
		}
		w := common.Width(it)
		if !first && lineW+2+w > v.width {
			out = append(out, line)
			line, lineW, first = indent, labelW, true
		}
		if !first {
			line += "  "
			lineW += 2
		}
		line += it
		lineW += w
		first = false
	}
	return append(out, line)
}

func (v *View) lines() []string {
	s := v.ctx.Styles
	if !v.seen {
		return []string{s.Title.Render("process "+strconv.Itoa(int(v.key.PID))) + v.label(" · Esc back"),
			s.Warning.Render("not in the last sample: the process has exited (or was never seen by the scanner)")}
	}
	p := &v.last
	out := v.title()
	if !v.exited.IsZero() {
		out = append(out, s.Warning.Render("EXITED: not in the samples since "+v.exited.Format("15:04:05")+"; the figures are its last"))
	}
	cmd := model.Sanitize(p.Cmdline)
	if cmd == "" {
		cmd = "[" + model.Sanitize(p.Comm) + "] (kernel thread, or no command line)"
	}
	wrapped := strings.Split(ansi.Wrap(cmd, max(10, v.width-labelW), " /=,"), "\n")
	if len(wrapped) > maxCmdlineLines {
		wrapped = append(wrapped[:maxCmdlineLines-1], v.label("… ("+strconv.Itoa(len(cmd))+" bytes)"))
	}
	for i, l := range wrapped {
		head := strings.Repeat(" ", labelW)
		if i == 0 {
			head = s.Bold.Render(common.Fit("cmd", labelW-1)) + " "
		}
		out = append(out, head+l)
	}
	out = append(out, v.cgroupLines()...)
	out = append(out, v.cpuLines()...)
	out = append(out, v.memLines()...)
	out = append(out, v.cacheLines()...)
	out = append(out, v.ioLines()...)
	room := v.height - len(out)
	out = append(out, v.charts(max(room, chartLines))...)
	return out
}

func (v *View) title() []string {
	s := v.ctx.Styles
	p := &v.last
	dot := v.label(" · ")
	head := s.Title.Render("process "+strconv.Itoa(int(p.PID))+" "+model.Sanitize(p.Comm)) + dot + model.Sanitize(p.User) +
		dot + v.item("state", p.State)
	parts := []string{head,
		v.item("threads", strconv.Itoa(int(p.Threads))),
		v.item("nice", strconv.Itoa(int(p.Nice))),
		v.item("ppid", strconv.Itoa(int(p.PPID))+v.parentName()),
	}
	if !p.StartTime.IsZero() {
		started := p.StartTime.Format("15:04:05")
		if now := v.ctx.Now(); now.Sub(p.StartTime) > 20*time.Hour || p.StartTime.After(now) {
			started = p.StartTime.Format("2006-01-02 15:04")
		}
		parts = append(parts, v.item("started", started))
	}
	return v.flowPlain(parts)
}

// flowPlain is flow without a section label, for the title.
func (v *View) flowPlain(items []string) []string {
	var out []string
	line, lineW := "", 0
	for _, it := range items {
		w := common.Width(it)
		if lineW > 0 && lineW+2+w > v.width {
			out = append(out, line)
			line, lineW = "", 0
		}
		if lineW > 0 {
			line += "  "
			lineW += 2
		}
		line += it
		lineW += w
	}
	return append(out, line)
}

func (v *View) parentName() string {
	if v.snap == nil || v.snap.Sample == nil {
		return ""
	}
	for i := range v.snap.Sample.Processes {
		if pp := &v.snap.Sample.Processes[i]; pp.PID == v.last.PPID {
			return " (" + model.Sanitize(pp.Comm) + ")"
		}
	}
	return ""
}

func (v *View) cgroupLines() []string {
	p := &v.last
	if p.Cgroup == "" {
		return v.flow("cgroup", v.label(common.Dash+" (not known)"))
	}
	items := []string{model.Sanitize(p.Cgroup)}
	if cg := v.cgroup(); cg != nil {
		limit := v.label("none")
		if cg.LimitBytes.OK {
			limit = common.Bytes(uint64(cg.LimitBytes.V))
			if cg.LimitBytes.V > 0 {
				limit += v.label(" (usage " + common.Pct(float64(cg.UsageBytes)*100/cg.LimitBytes.V) + "%)")
			}
		}
		items = append(items,
			v.item("usage", common.Bytes(cg.UsageBytes)),
			v.item("workset", common.Bytes(cg.WorkingSetBytes)),
			v.item("limit", limit),
			v.item("OOM kills", common.OptFloat(cg.OOMKills, 0)))
		if cg.PSI != nil {
			items = append(items, v.item("PSI mem", common.Fixed2(cg.PSI.Some.Avg10)+"%"))
		}
		items = append(items, v.item("procs", strconv.Itoa(cg.Processes)))
	}
	return v.flow("cgroup", items...)
}

func (v *View) cpuLines() []string {
	p := &v.last
	return v.flow("CPU",
		v.item("%CPU", v.ctx.Styles.Bold.Render(common.Pct(p.CPUPct)))+v.label(" = usr ")+common.Pct(p.UserPct)+v.label(" + sys ")+common.Pct(p.SystemPct),
		v.item("TIME+", cpuTime(p.CPUTimeTicks)),
		v.item("last CPU", strconv.Itoa(int(p.Processor))),
		// WaitPct and the switch rates are sums over every thread, not
		// pidstat's main-thread figures: said beside them.
		v.item("WAIT%", common.OptFloat(p.WaitPct, 1))+"  "+v.item("CSW/s", common.Count(p.VoluntaryCSPerS))+"  "+
			v.item("NVCSW/s", common.Count(p.InvoluntaryCSPerS))+v.label(" (summed over threads)"),
	)
}

// detail is an smaps_rollup size as the Memory tab shows it.
func detail(p *model.Process, f model.Float) string {
	switch {
	case p.MemDetail == model.DetailDenied:
		return "n/a"
	case !f.OK:
		return common.Dash
	case p.MemDetail == model.DetailStale:
		return common.Bytes(uint64(f.V)) + "~"
	}
	return common.Bytes(uint64(f.V))
}

func (v *View) memLines() []string {
	p := &v.last
	growth := common.Dash
	if v.ctx.Procs != nil {
		if g := v.ctx.Procs.Growth(v.key); g.OK {
			growth = signedBytes(g.PerMinute) + v.label("/min ("+signedBytes(float64(g.Bytes))+" in "+spanWords(g.Span)+")")
		}
	}
	why := ""
	switch p.MemDetail {
	case model.DetailDenied:
		why = v.label("(smaps_rollup: not readable without root)")
	case model.DetailNotRead, "":
		why = v.label("(smaps_rollup: read from the next interval)")
	case model.DetailStale:
		why = v.label("(~ from " + strconv.FormatFloat(p.MemDetailAgeS, 'f', 0, 64) + " s ago)")
	}
	return v.flow("memory",
		v.item("RSS", v.ctx.Styles.Bold.Render(common.Bytes(p.RSSBytes))),
		v.item("growth", growth),
		v.item("PSS", detail(p, p.PSSBytes)),
		v.item("USS", detail(p, p.USSBytes)),
		v.item("SHR", detail(p, p.SharedBytes)),
		v.item("SWAP", detail(p, p.SwapBytes)),
		why,
		v.item("VSZ", common.Bytes(p.VSZBytes)),
		v.item("%MEM", common.Pct(p.MemPct)),
		v.item("MINF/s", common.Count(p.MinFltPerS)),
		v.item("MAJF/s", common.Count(p.MajFltPerS)),
	)
}

// unread is what a figure that could not be had shows, by the reason.
func unread(detail string) string {
	if detail == model.DetailDenied {
		return "n/a"
	}
	return common.Dash
}

func (v *View) cacheLines() []string {
	p := &v.last
	row := v.cacheRow()
	na := unread(p.IODetail)
	pages := func(f model.Float) string {
		if !f.OK {
			return na
		}
		return common.Count(f.V)
	}
	items := []string{
		v.item("hits", pages(p.CacheHits)),
		v.item("misses", pages(p.CacheMisses)),
		v.item("READ_HIT%", common.OptFloat(p.CacheReadHitPct, 1)),
	}
	if !p.CacheReadHitPct.OK && !p.CacheHits.OK {
		items[2] = v.item("READ_HIT%", na)
	}
	if row != nil {
		items = append(items, v.item("dirties", common.Count(float64(row.Dirties))))
		if !row.Estimate {
			items = append(items, v.item("mmap", common.Count(float64(row.MmapPages))), v.item("mmap misses", common.Count(float64(row.MmapMisses))))
		}
	}
	if p.IODetail == model.DetailDenied && !p.CacheHits.OK {
		items = append(items, v.label("(n/a: /proc/PID/io of another user needs root)"))
	}
	return v.flow("cache", items...)
}

func (v *View) ioLines() []string {
	p := &v.last
	na := unread(p.IODetail)
	rate := func(f model.Float) string {
		if !f.OK {
			return na
		}
		return common.Bytes(uint64(f.V)) + "/s"
	}
	count := func(f model.Float) string {
		if !f.OK {
			return na
		}
		return common.Count(f.V) + "/s"
	}
	items := []string{
		v.item("read", rate(p.ReadBytesPerS)),
		v.item("write", rate(p.WriteBytesPerS)),
		v.item("cancelled", rate(p.CancelledWriteBytesPerS)),
		v.item("rchar", rate(p.RcharPerS)),
		v.item("wchar", rate(p.WcharPerS)),
		v.item("syscr", count(p.SyscrPerS)),
		v.item("syscw", count(p.SyscwPerS)),
	}
	switch p.IODetail {
	case model.DetailDenied:
		items = append(items, v.label("(n/a: /proc/PID/io of another user needs root)"))
	case model.DetailNotRead, "":
		items = append(items, v.label("(– : read from the next interval, while this view is open)"))
	}
	return v.flow("I/O", items...)
}

// charts are the process's CPU and RSS since vitals first saw it, side by
// side when there is room.
func (v *View) charts(h int) []string {
	s := v.ctx.Styles
	if h < 4 || v.width < 12 {
		return nil
	}
	since := ""
	if len(v.hist) > 0 {
		since = " since " + v.hist[0].Start.Format("15:04:05")
	}
	n := 2
	if v.width < 60 {
		n = 1
	}
	w := (v.width - (n - 1)) / n
	// Each point of the life series stands for v.per samples; resample to
	// the plot's width so the whole life is drawn.
	plotW := max(1, w-7)
	cpu := make([]float64, len(v.hist))
	rss := make([]float64, len(v.hist))
	cpuMax := 100.0
	for i, pt := range v.hist {
		cpu[i], rss[i] = pt.CPUPct, float64(pt.RSSBytes)
		cpuMax = max(cpuMax, pt.CPUPct*1.1)
	}
	cpu, rss = resample(cpu, plotW), resample(rss, plotW)
	cpuChart := chart.Render(chart.Spec{Title: "%CPU" + since, Width: w, Height: h, YMin: 0, YMax: cpuMax,
		Lines: []chart.Line{{Name: "cpu", Values: cpu}}, Style: s.CPUUser})
	lo, hi := chart.DataRange(0, 16<<20, rss)
	rssChart := chart.Render(chart.Spec{Title: "RSS" + since, Width: v.width - w - 1, Height: h, YMin: lo, YMax: hi,
		YLabel: chart.BytesAxis(lo, hi, h-1), Lines: []chart.Line{{Name: "rss", Values: rss}}, Style: s.OK})
	if n == 1 {
		rssChart = chart.Render(chart.Spec{Title: "RSS" + since, Width: w, Height: h, YMin: lo, YMax: hi,
			YLabel: chart.BytesAxis(lo, hi, h-1), Lines: []chart.Line{{Name: "rss", Values: rss}}, Style: s.OK})
		return append(strings.Split(cpuChart, "\n"), strings.Split(rssChart, "\n")...)
	}
	return strings.Split(lipgloss.JoinHorizontal(lipgloss.Top, cpuChart, " ", rssChart), "\n")
}

// resample averages vals down to at most n points, so a chart n cells
// wide draws all of them.
func resample(vals []float64, n int) []float64 {
	if len(vals) <= n || n <= 0 {
		return vals
	}
	out := make([]float64, n)
	for i := range out {
		a, b := i*len(vals)/n, (i+1)*len(vals)/n
		sum := 0.0
		for _, x := range vals[a:b] {
			sum += x
		}
		out[i] = sum / float64(b-a)
	}
	return out
}

// signedBytes is a byte change with its sign: +1.2G, -300M, 0.
func signedBytes(v float64) string {
	switch {
	case v >= 1:
		return "+" + common.Bytes(uint64(v))
	case v <= -1:
		return "-" + common.Bytes(uint64(-v))
	}
	return "0"
}

// spanWords is a span as a person says it: "45 s", "2 min".
func spanWords(d time.Duration) string {
	if d < 90*time.Second {
		return strconv.Itoa(int(d.Round(time.Second).Seconds())) + " s"
	}
	return strconv.Itoa(int(d.Round(time.Minute).Minutes())) + " min"
}

// cpuTime is top's TIME+ from clock ticks (1/100 s): m:ss.hh, or h:mm:ss
// past 100 minutes.
func cpuTime(ticks uint64) string {
	secs := ticks / 100
	m, sec := secs/60, secs%60
	pad := func(v uint64) string {
		if v < 10 {
			return "0" + strconv.FormatUint(v, 10)
		}
		return strconv.FormatUint(v, 10)
	}
	if m >= 100 {
		return strconv.FormatUint(m/60, 10) + "h" + pad(m%60) + ":" + pad(sec)
	}
	return strconv.FormatUint(m, 10) + ":" + pad(sec) + "." + pad(ticks%100)
}

// Explain implements common.Explainer.
func (v *View) Explain() [][2]string {
	return [][2]string{
		{"process view", "everything vitals knows about one process, from the same samples as the tabs; figures are over the last interval. Opened with Enter on a row of any tab's table, Esc goes back"},
		{"cmd", "the command line in full (/proc/PID/cmdline), control characters shown escaped"},
		{"cgroup", "the process's memory cgroup and, from the Memory tab's cgroups, its usage, working set (usage − inactive_file), limit (memory.max) and OOM kills"},
		{"CPU", "%CPU = usr + sys, 100 = one CPU; TIME+ the CPU time since it started; last CPU the one it last ran on. WAIT% is run-queue wait summed over threads (% of one CPU; pidstat -t summed, not pidstat's main-thread %wait); CSW/s and NVCSW/s are summed over threads too"},
		{"memory", "RSS (statm), growth per minute over the last 2 minutes, PSS/USS/SHR/SWAP from smaps_rollup (read for this process while the view is open: – until the next interval, n/a without the right to read it)"},
		{"cache", "the process's page-cache hits, misses and read hit ratio, dirtied pages and (eBPF) pages mapped in and missed by page faults: in pages over the last interval, as on the Cache tab; n/a when its /proc/PID/io is unreadable to the estimate"},
		{"I/O", "/proc/PID/io per second: read/write = what reached the block layer (or was dirtied), rchar/wchar = what read(2)/write(2) moved (cache, pipes, sockets too), syscr/syscw = calls. n/a: another user's process without root"},
		{"charts", "%CPU and RSS since vitals first saw the process: the whole time in at most 96 points, each the mean CPU and last RSS of its samples (the UI's history, kept for processes in the last sample only)"},
	}
}
