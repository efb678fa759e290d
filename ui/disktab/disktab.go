// Package disktab is the Disk tab: iostat -x per device with what the
// numbers mean for saturation said in words, throughput and await history
// of the selected device, PSI io, df per mount, and the processes in
// uninterruptible sleep (D state) with their wait channel.
package disktab

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

// kindFilters are what f cycles through.
var kindFilters = []string{"", model.DiskKindDisk, model.DiskKindPartition, model.DiskKindLoop, model.DiskKindDM, model.DiskKindMD, model.DiskKindZram}

// Tab is the Disk tab component.
type Tab struct {
	tabbase.Base

	// selected is the device the charts and the verdict are about; empty
	// until the user picks one: then the busiest device is shown.
	selected string
	picked   bool
	kind     int  // index in kindFilters
	showIdle bool // devices with no I/O since boot
	pseudo   bool // pseudo filesystems
	// history: the charts show throughput and await instead of the
	// latency histogram and heatmap (l); with room for both, both show.
	history bool

	// dstate is this frame's D-state list by process, for the table's
	// columns; rows are the D-state processes.
	dstate map[model.ProcKey]*model.DStateProcess
	rows   []model.Process
	denied int // processes whose /proc/PID/io may not be read

	keys     tabKeys
	chart    chartCache
	latChart chartCache
}

type tabKeys struct{ prev, next, filter, idle, pseudo, sortDisk, latency key.Binding }

// sortDisk is the column D sorts by.
const sortDisk = "disk"

type chartCache struct {
	dev           string
	newest        int64
	points        int
	width, height int
	history       bool
	view          string
}

// New builds the tab; kill is how the D-state table's kill menu signals.
func New(ctx *common.Context, kill common.KillFunc) *Tab {
	t := &Tab{dstate: map[model.ProcKey]*model.DStateProcess{}}
	t.keys = tabKeys{
		prev:     key.NewBinding(key.WithKeys("["), key.WithHelp("[", "select previous device")),
		next:     key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "select next device")),
		filter:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "devices: all/disk/partition/loop/dm/md/zram")),
		idle:     key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "show devices idle since boot")),
		pseudo:   key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "show pseudo filesystems")),
		sortDisk: key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "sort processes by disk bytes/s")),
		latency:  key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "charts: latency histogram and heatmap / throughput and await")),
	}
	t.Base = tabbase.New(ctx, t.columns(), sortDisk, kill)
	return t
}

// KeyHelp implements common.Component.
func (t *Tab) KeyHelp() []key.Binding {
	k := t.keys
	return t.KeyHelpWith(k.prev, k.next, k.filter, k.idle, k.pseudo, k.sortDisk, k.latency, t.ChartsBinding())
}

// ShortKeyHelp implements common.ShortHelper.
func (t *Tab) ShortKeyHelp() []key.Binding {
	return t.ShortKeyHelpWith(key.NewBinding(key.WithKeys("[", "]"), key.WithHelp("[ ]", "device")),
		key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "kind")))
}

// Update implements common.Component.
func (t *Tab) Update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case common.SnapshotMsg:
		t.Snap = m.Snap
		t.join()
		return nil
	case tea.KeyPressMsg:
		if t.Table.Capturing() {
			break
		}
		if t.ToggleCharts(msg) {
			return nil
		}
		switch {
		case key.Matches(m, t.keys.latency):
			t.history = !t.history
			return nil
		case key.Matches(m, t.keys.prev):
			t.step(-1)
			return nil
		case key.Matches(m, t.keys.next):
			t.step(1)
			return nil
		case key.Matches(m, t.keys.filter):
			t.kind = t.nextKind()
			return nil
		case key.Matches(m, t.keys.idle):
			t.showIdle = !t.showIdle
			return nil
		case key.Matches(m, t.keys.pseudo):
			t.pseudo = !t.pseudo
			return nil
		case key.Matches(m, t.keys.sortDisk):
			t.sortByDisk()
			return nil
		}
	}
	return t.Table.Update(msg)
}

// join gives the table this frame's processes that did disk I/O (bytes
// read from or written to the block layer, per /proc/PID/io) or are in D
// state, and counts those whose io file vitals may not read.
func (t *Tab) join() {
	clear(t.dstate)
	t.rows = model.Reuse(t.rows)
	t.denied = 0
	s := t.Sample()
	if s == nil || s.Disk == nil {
		t.Table.SetProcesses(nil)
		return
	}
	for i := range s.Disk.DState {
		t.dstate[s.Disk.DState[i].Key()] = &s.Disk.DState[i]
	}
	for i := range s.Processes {
		p := &s.Processes[i]
		if p.IODetail == model.DetailDenied {
			t.denied++
		}
		if _, ok := t.dstate[p.Key()]; ok || diskBytes(p) > 0 || p.ReadBytesPerS.Or(0)+p.WriteBytesPerS.Or(0)+p.CancelledWriteBytesPerS.Or(0) > 0 {
			t.rows = append(t.rows, *p)
		}
	}
	t.Table.SetProcesses(t.rows)
}

// diskBytes is the block I/O bytes per second of a process (eBPF or
// /proc/PID/io: ProcessDisk); -1 when unknown (so it sorts below every
// known value).
func diskBytes(p *model.Process) float64 {
	if !p.DiskReadBytesPerS.OK && !p.DiskWriteBytesPerS.OK {
		return -1
	}
	return p.DiskReadBytesPerS.Or(0) + p.DiskWriteBytesPerS.Or(0)
}

// diskColumn is a ProcessDisk byte rate: n/a where it comes from a
// /proc/PID/io that may not be read.
func diskColumn(id, title string, get func(*model.Process) model.Float, help string) proctable.Column {
	c := ioColumn(id, title, get, help)
	c.Value = func(p *model.Process) string {
		if p.DiskSource != model.DiskSourceEBPF && p.IODetail == model.DetailDenied {
			return "n/a"
		}
		v := get(p)
		if !v.OK {
			return common.Dash
		}
		return common.Bytes(uint64(v.V))
	}
	return c
}

// latColumn is a latency in µs shown as µs or ms.
func latColumn(id, title string, get func(*model.Process) model.Float, help string) proctable.Column {
	return proctable.Column{ID: id, Title: title, Width: 7, Align: proctable.AlignRight, DescendingFirst: true,
		Value: func(p *model.Process) string {
			v := get(p)
			if !v.OK {
				return common.Dash
			}
			return latValue(v.V)
		},
		Less: func(a, b *model.Process) bool { return get(a).Or(-1) < get(b).Or(-1) },
		Help: help + "; – without eBPF or without I/O"}
}

// latValue is a latency in µs, short.
func latValue(us float64) string {
	switch {
	case us < 1000:
		return strconv.FormatFloat(us, 'f', 0, 64) + "µs"
	case us < 10000:
		return strconv.FormatFloat(us/1000, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(us/1000, 'f', 0, 64) + "ms"
}

// Demand implements common.DemandReporter: /proc/PID/io of every process
// that ran, for the per-process disk columns.
func (t *Tab) Demand() model.DemandSet { return model.DemandSet{IO: true} }

// sortByDisk is the D quick sort: the table is moved column by column to
// DISK/s (the table has no public sort setter; < and > sort each column
// in its natural direction).
func (t *Tab) sortByDisk() {
	cols := t.Table.Columns()
	cur, want := -1, -1
	for i, c := range cols {
		if c.ID == t.Table.SortID() {
			cur = i
		}
		if c.ID == sortDisk {
			want = i
		}
	}
	if cur < 0 || want < 0 {
		return
	}
	step := ">"
	if want < cur {
		step = "<"
	}
	for i := cur; i != want; {
		t.Table.Update(keyPress(step))
		if step == ">" {
			i++
		} else {
			i--
		}
	}
	if cur == want && !t.Table.Descending() {
		t.Table.Update(keyPress("I"))
	}
}

func keyPress(k string) tea.KeyPressMsg {
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func (t *Tab) disk() *model.Disk {
	if s := t.Sample(); s != nil {
		return s.Disk
	}
	return nil
}

// visible is the device list after the kind filter and the idle toggle.
func (t *Tab) visible() []*model.DiskDevice {
	d := t.disk()
	if d == nil {
		return nil
	}
	kind := kindFilters[t.kind]
	out := make([]*model.DiskDevice, 0, len(d.Devices))
	for i := range d.Devices {
		dev := &d.Devices[i]
		if kind != "" && dev.Kind != kind {
			continue
		}
		if !dev.EverUsed && !t.showIdle && dev.Name != t.selected {
			continue
		}
		out = append(out, dev)
	}
	return out
}

// nextKind is the next kind filter with devices of that kind.
func (t *Tab) nextKind() int {
	d := t.disk()
	for i := 1; i <= len(kindFilters); i++ {
		k := (t.kind + i) % len(kindFilters)
		if k == 0 || d == nil {
			return k
		}
		for j := range d.Devices {
			if d.Devices[j].Kind == kindFilters[k] {
				return k
			}
		}
	}
	return 0
}

func (t *Tab) step(dir int) {
	vis := t.visible()
	if len(vis) == 0 {
		return
	}
	cur := t.current(vis)
	i := 0
	for j, d := range vis {
		if d == cur {
			i = j
		}
	}
	i = (i + dir + len(vis)) % len(vis)
	t.selected, t.picked = vis[i].Name, true
}

// current is the selected device: the one picked, or else the whole
// device with the most requests in flight on average (aqu-sz), so the
// default screen is about the device where requests wait.
func (t *Tab) current(vis []*model.DiskDevice) *model.DiskDevice {
	if t.picked {
		for _, d := range vis {
			if d.Name == t.selected {
				return d
			}
		}
	}
	var best *model.DiskDevice
	for _, d := range vis {
		if best == nil || (d.Kind != model.DiskKindPartition && d.AquSz.Or(-1) > best.AquSz.Or(-1)) {
			best = d
		}
	}
	return best
}

func (t *Tab) awaitHist(name string) []float64 {
	if t.Snap == nil {
		return nil
	}
	return t.Snap.Series(model.SeriesDiskAwait(name)).Last(32, nil)
}

// View implements common.Component.
func (t *Tab) View() string {
	if t.Width <= 0 || t.Height <= 0 {
		return ""
	}
	d := t.disk()
	if d == nil || d.Devices == nil {
		lines := []string{t.Collecting("Disk", "disk", "cannot read /proc/diskstats: ")}
		return common.Block(lines, t.Width, t.Height)
	}
	s := t.Ctx.Styles
	vis := t.visible()
	cur := t.current(vis)
	var lines []string
	h := t.Height

	// 1. The selected device in iostat's words, and what they mean.
	if cur != nil {
		lines = append(lines, t.summary(cur))
		if h >= 8 {
			verdict := Verdict(cur, t.awaitHist(cur.Name))
			style := s.Faint
			if !strings.Contains(verdict, "not saturated") && cur.UtilPct.OK {
				style = s.Warning
			}
			lines = append(lines, style.Render(verdict))
		}
	} else {
		lines = append(lines, t.Label("no device "+t.filterLabel()))
	}
	if h >= 6 {
		lines = append(lines, t.PSILine("io", d.PSI, d.Unavailable)+t.Label("   D state ")+strconv.Itoa(len(d.DState)))
	}
	if h >= 10 {
		lines = append(lines, t.WarningLines(Alerts(d, t.awaitHist), t.WarningAreaLines(), allClear)...)
	}

	// 2. The device table.
	rest := h - len(lines)
	devRows := min(len(vis), max(1, rest/3), 12)
	if rest >= 2 {
		lines = append(lines, t.deviceTable(vis, cur, devRows)...)
	}

	// 3. What is left: D-state processes, charts, filesystems.
	rest = h - len(lines)
	dRows := 0
	if len(t.rows) > 0 {
		dRows = min(len(t.rows)+2, max(3, rest/3))
	} else if rest >= 2 {
		dRows = 1
	}
	fsRows := min(t.fsCount(d)+1, max(0, rest-dRows))
	slowRows := 0
	if len(d.SlowIOs) > 0 {
		slowRows = min(len(d.SlowIOs)+1, 6)
	}
	chartH := 0
	if cur != nil {
		// The charts take what the D-state list and the filesystems
		// leave, 5 to 14 lines, and give way to them in a small pane;
		// g shows them at the filesystems' and processes' expense.
		room := 0
		if ch := min(14, max(5, rest-dRows-fsRows)); rest-dRows-ch >= 3 {
			room = ch
		}
		chartH = t.ChartLines(room, rest-dRows-2, 14)
		fsRows = min(fsRows, max(0, rest-dRows-chartH))
	}
	if chartH > 0 {
		lines = common.AppendLines(lines, t.charts(cur, chartH))
	}
	if fsRows > 0 {
		lines = append(lines, t.filesystems(d, fsRows)...)
	}
	// The slowest recent I/Os, when the process table keeps a few rows.
	if slowRows > 0 && h-len(lines)-slowRows >= 5 {
		lines = append(lines, t.slowIOs(d, slowRows)...)
	}
	if rest := h - len(lines); rest > 0 {
		if len(t.rows) == 0 {
			lines = append(lines, t.Label("no process did disk I/O this interval ("+t.sourceNote(d)+") or is in D state"+t.kernelNote(d)+t.deniedNote()))
		} else {
			if rest >= 4 {
				lines = append(lines, t.Label("processes doing disk I/O or in D state, "+t.sourceNote(d)+t.kernelNote(d)+t.deniedNote()+t.delayNote()))
			}
			lines = append(lines, t.TableLines(len(lines), h-len(lines))...)
		}
	}
	return common.Block(lines, t.Width, t.Height)
}

func (t *Tab) filterLabel() string {
	if k := kindFilters[t.kind]; k != "" {
		return "of kind " + k + " (f: next kind)"
	}
	return "with I/O since boot (a: show idle devices)"
}

// summary is the selected device's line, most telling figures first so a
// narrow pane cuts the least useful.
func (t *Tab) summary(d *model.DiskDevice) string {
	s := t.Ctx.Styles
	l := t.Label
	var b strings.Builder
	b.WriteString(s.Bold.Render(deviceName(d)))
	desc := " " + kindShort(d)
	if d.SizeBytes.OK && d.SizeBytes.V > 0 {
		desc += " " + common.Bytes(uint64(d.SizeBytes.V))
	}
	b.WriteString(l(desc+"  %util ") + utilCell(d))
	b.WriteString(l(" aqu-sz ") + opt(d.AquSz, 2) + l(" await ") + opt(d.AwaitMS, 2) + l(" ms"))
	b.WriteString(l("  r/s ") + rate(d.ReadsPerS) + l(" w/s ") + rate(d.WritesPerS))
	b.WriteString(l("  read ") + bytesPerS(d.ReadBytesPerS) + l("/s write ") + bytesPerS(d.WriteBytesPerS) + l("/s"))
	b.WriteString(l("  in flight ") + strconv.FormatUint(d.InFlight, 10))
	if d.Scheduler != "" {
		b.WriteString(l("  scheduler " + model.Sanitize(d.Scheduler)))
	}
	return b.String()
}

func (t *Tab) deviceTable(vis []*model.DiskDevice, cur *model.DiskDevice, rows int) []string {
	s := t.Ctx.Styles
	filter := ""
	if k := kindFilters[t.kind]; k != "" {
		filter = "  [" + k + "]"
	}
	cols := layoutColumns(t.Width - 1 - len(filter))
	head := renderRow(cols, func(c devCol) string { return c.title })
	out := []string{s.TableHeader.Render(" " + head + filter)}
	if len(vis) == 0 {
		return append(out, t.Label(" no device "+t.filterLabel()))
	}
	// Keep the selected device on screen.
	first := 0
	for i, d := range vis {
		if d == cur && i >= rows {
			first = i - rows + 1
		}
	}
	for _, d := range vis[first:min(len(vis), first+rows)] {
		row := renderRow(cols, func(c devCol) string { return model.Sanitize(c.value(d)) })
		if d == cur {
			out = append(out, s.TableSelected.Render("▸"+row))
		} else {
			out = append(out, " "+row)
		}
	}
	return out
}

func (t *Tab) fsCount(d *model.Disk) int {
	n := 0
	for i := range d.Filesystems {
		if t.pseudo || !d.Filesystems[i].Pseudo {
			n++
		}
	}
	return n
}

// filesystems is df -h and df -i in one table.
func (t *Tab) filesystems(d *model.Disk, rows int) []string {
	s := t.Ctx.Styles
	if d.Filesystems == nil {
		return []string{t.Label("filesystems " + common.Dash + " (" + common.WhyUnavailable(d.Unavailable, "filesystems") + ")")}
	}
	const numW = 6
	devW := 9
	mountW := min(max(8, t.Width-devW-6-5*(numW+1)-6), 32)
	head := common.Fit("MOUNT", mountW) + " " + common.Fit("DISK", devW) + " " + common.Fit("TYPE", 6) +
		common.FitRight("SIZE", numW+1) + common.FitRight("USED", numW+1) + common.FitRight("AVAIL", numW+1) + common.FitRight("USE%", numW) + common.FitRight("IUSE%", numW)
	if !t.pseudo {
		head += t.Label("  (p: pseudo)")
	}
	out := []string{s.TableHeader.Render(head)}
	// The full ones first: in a short pane they are the rows that matter.
	order := make([]*model.Filesystem, 0, len(d.Filesystems))
	for pass := 0; pass < 2; pass++ {
		for i := range d.Filesystems {
			fs := &d.Filesystems[i]
			if full := fs.UsePct.Or(0) > fsFullPct || fs.InodesUsedPct.Or(0) > fsFullPct; full == (pass == 0) {
				order = append(order, fs)
			}
		}
	}
	for _, fs := range order {
		if len(out) >= rows {
			break
		}
		if fs.Pseudo && !t.pseudo {
			continue
		}
		disk := fs.Disk
		if disk == "" {
			disk = fs.Device
		}
		pct := func(v model.Float) string {
			if !v.OK {
				return common.Dash
			}
			return strconv.FormatFloat(v.V, 'f', 0, 64) + "%"
		}
		line := common.Fit(model.Sanitize(fs.Mount), mountW) + " " + common.Fit(model.Sanitize(disk), devW) + " " + common.Fit(model.Sanitize(fs.FSType), 6) +
			common.FitRight(common.OptBytes(fs.SizeBytes), numW+1) + common.FitRight(common.OptBytes(fs.UsedBytes), numW+1) +
			common.FitRight(common.OptBytes(fs.AvailBytes), numW+1) + common.FitRight(pct(fs.UsePct), numW) + common.FitRight(pct(fs.InodesUsedPct), numW)
		if fs.Reason != "" && !fs.Pseudo {
			line += "  " + t.Label(model.Sanitize(fs.Reason))
		}
		if fs.UsePct.Or(0) > fsFullPct || fs.InodesUsedPct.Or(0) > fsFullPct {
			line = s.Warning.Render(line)
		}
		out = append(out, line)
	}
	return out
}

// charts are the latency histogram and heatmap (eBPF) or the throughput
// and await history (l, or without eBPF); both with room for both.
func (t *Tab) charts(d *model.DiskDevice, h int) string {
	dk := t.disk()
	latency := (dk != nil && dk.Tier.EBPF()) || d.LatencyHist != nil || (t.Snap != nil && t.Snap.DiskLat(d.Name).Len() > 0)
	switch {
	case latency && h >= 10:
		top := h / 2
		return t.historyCharts(d, top) + "\n" + t.latencyCharts(d, h-top)
	case latency && !t.history:
		return t.latencyCharts(d, h)
	}
	return t.historyCharts(d, h)
}

// latencyCharts is the histogram beside the heatmap, h lines; a
// partition's are its disk's (the kernel counts them there).
func (t *Tab) latencyCharts(d *model.DiskDevice, h int) string {
	if p := t.disk().Device(d.Parent); d.Kind == model.DiskKindPartition && p != nil {
		d = p
	}
	key := chartCache{dev: d.Name, width: t.Width, height: h, history: false}
	if t.Snap != nil {
		v := t.Snap.DiskLat(d.Name)
		if n := v.Len(); n > 0 {
			key.points, key.newest = n, v.At(n-1).UnixMilli
		}
	}
	if key.view = t.latChart.view; key == t.latChart && key.view != "" {
		return t.latChart.view
	}
	lw := min(t.Width/2, 44)
	left := common.Block(t.histogramLines(d, lw, h), lw, h)
	right := common.Block(t.heatmapLines(d, t.Width-lw-1, h), t.Width-lw-1, h)
	key.view = lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right)
	t.latChart = key
	return key.view
}

func (t *Tab) historyCharts(d *model.DiskDevice, h int) string {
	key := chartCache{dev: d.Name, width: t.Width, height: h, history: true}
	if t.Snap != nil {
		sr := t.Snap.Series(model.SeriesDiskRead(d.Name))
		if n := sr.Len(); n > 0 {
			key.points, key.newest = n, sr.At(n-1).UnixMilli
		}
	}
	if key.view = t.chart.view; key == t.chart && key.view != "" {
		return t.chart.view
	}
	s := t.Ctx.Styles
	read := t.Series(model.SeriesDiskRead(d.Name))
	write := t.Series(model.SeriesDiskWrite(d.Name))
	await := t.Series(model.SeriesDiskAwait(d.Name))
	top := 1024.0
	for _, v := range append(read[:len(read):len(read)], write...) {
		top = max(top, v*1.1)
	}
	topA := 1.0
	for _, v := range await {
		topA = max(topA, v*1.1)
	}
	lw := t.Width / 2
	name := model.Sanitize(d.Name)
	left := chart.Render(chart.Spec{Title: name + " B/s: read ╭╮ write ┌┐", Width: lw, Height: h, YMin: 0, YMax: top,
		Lines: []chart.Line{{Name: "read", Values: read}, {Name: "write", Values: write, Thin: true}}, Style: s.OK})
	right := chart.Render(chart.Spec{Title: name + " await ms", Width: t.Width - lw - 1, Height: h, YMin: 0, YMax: topA,
		Lines: []chart.Line{{Name: "await", Values: await}}, Style: s.Warning})
	key.view = lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right)
	t.chart = key
	return key.view
}

func (t *Tab) columns() []proctable.Column {
	get := func(p *model.Process) *model.DStateProcess {
		if d := t.dstate[p.Key()]; d != nil {
			return d
		}
		return &model.DStateProcess{}
	}
	return []proctable.Column{
		proctable.PIDColumn(),
		proctable.UserColumn(),
		proctable.StateColumn().WithPriority(4),
		diskColumn(sortDisk, "DISK/s", func(p *model.Process) model.Float {
			if v := diskBytes(p); v >= 0 {
				return model.Known(v)
			}
			return model.Unknown
		}, "block I/O bytes per second for the process, read plus written: with eBPF the requests it submitted that completed (block_io_start → block_rq_complete); without, read_bytes + write_bytes of /proc/PID/io (write_bytes is charged when pages are dirtied, so the disk write comes later, by the flusher); D sorts by it").WithPriority(1),
		diskColumn("rd", "READ/s", func(p *model.Process) model.Float { return p.DiskReadBytesPerS },
			"bytes per second the block layer read for the process (eBPF: its completed read requests; procfs: read_bytes of /proc/PID/io — page-cache hits do not count)").WithPriority(2),
		diskColumn("wr", "WRITE/s", func(p *model.Process) model.Float { return p.DiskWriteBytesPerS },
			"bytes per second written for the process (eBPF: its completed write requests — buffered writes reach the disk later by writeback, shown as kernel workers; procfs: write_bytes of /proc/PID/io, bytes it dirtied)").WithPriority(2),
		proctable.OptNumeric("iops", "IO/s", 6, 0, func(p *model.Process) model.Float { return p.DiskIOsPerS },
			"block requests per second submitted by the process that completed (eBPF; – without)").WithPriority(4),
		latColumn("lat", "LAT", func(p *model.Process) model.Float { return p.DiskLatencyMeanUs },
			"mean latency of the process's block requests this interval, issue to completion (eBPF): something no /proc file says").WithPriority(4),
		latColumn("maxlat", "MAXLAT", func(p *model.Process) model.Float { return p.DiskLatencyMaxUs },
			"slowest of the process's block requests this interval (eBPF)").WithPriority(5),
		{ID: "iodelay", Title: "IODLY%", Width: 6, Align: proctable.AlignRight, DescendingFirst: true, Priority: 5,
			Value: func(p *model.Process) string {
				if p.IODelayReason != "" {
					return "n/a"
				}
				return common.OptFloat(p.IODelayPct, 1)
			},
			Less: func(a, b *model.Process) bool { return a.IODelayPct.Or(-1) < b.IODelayPct.Or(-1) },
			Help: "time the process's main thread waited for block I/O (delayacct_blkio_ticks, field 42 of /proc/PID/stat, as pidstat -d's iodelay) as % of the interval; n/a when the kernel does not account it (kernel.task_delayacct is 0: the line above the table says why)"},
		ioColumn("dirty", "DIRTY/s", func(p *model.Process) model.Float { return p.WriteBytesPerS },
			"write_bytes of /proc/PID/io per second: bytes the process dirtied for writing, charged when dirtied — the disk write happens later, often by a flusher thread").WithPriority(5),
		ioColumn("cwr", "CWR/s", func(p *model.Process) model.Float { return p.CancelledWriteBytesPerS },
			"cancelled_write_bytes of /proc/PID/io per second: dirtied data truncated before it reached the disk (a temporary file deleted), so WRITE/s − CWR/s is what will be written").WithPriority(5),
		ioColumn("lrd", "LREAD/s", func(p *model.Process) model.Float { return p.RcharPerS },
			"logical reads (rchar): bytes passed to read(2) and its kin from the page cache, pipes and sockets as well as disks").WithPriority(6),
		ioColumn("lwr", "LWRITE/s", func(p *model.Process) model.Float { return p.WcharPerS },
			"logical writes (wchar): bytes passed to write(2) and its kin, to any file, pipe or socket").WithPriority(6),
		proctable.Numeric("ind", "IN D", 6, func(p *model.Process) float64 { return get(p).InDS },
			func(v float64) string {
				if v == 0 {
					return common.Dash
				}
				return strconv.FormatFloat(v, 'f', 0, 64) + "s"
			},
			"seconds the process has been in state D in every scan since vitals first saw it there: a lower bound, sampled once per interval").WithPriority(3),
		{ID: "wchan", Title: "WCHAN", Width: 22, Priority: 4,
			Value: func(p *model.Process) string {
				if w := get(p).Wchan; w != "" {
					return w
				}
				return common.Dash
			},
			Less: func(a, b *model.Process) bool { return get(a).Wchan < get(b).Wchan },
			Help: "kernel function a process in D sleeps in (/proc/PID/wchan), e.g. io_schedule (waiting for a block I/O), rpc_wait_bit_killable (NFS); – when not in D, or the kernel shows 0 (not root, or it woke)"},
		proctable.CommandColumn(),
	}
}

// deniedReason is why a process's I/O reads n/a.
const deniedReason = "/proc/PID/io is readable only for one's own processes unless root"

// delayNote says why IODLY% is n/a (the first row's reason: they share
// it).
func (t *Tab) delayNote() string {
	for i := range t.rows {
		if r := t.rows[i].IODelayReason; r != "" {
			return "; IODLY% n/a: " + r
		}
	}
	return ""
}

// sourceNote says where the per-process disk figures come from.
func (t *Tab) sourceNote(d *model.Disk) string {
	if pp := d.PerProcess; pp != nil {
		if pp.Attribution == "issuer" {
			return "from block events by issuer (" + d.Tier.Tier + ": no block_io_start)"
		}
		return "from block events by submitter (" + d.Tier.Tier + ")"
	}
	return "from /proc/PID/io"
}

// kernelNote is the kernel workers' I/O (writeback, loop), kept out of
// the process rows, and what could not be attributed.
func (t *Tab) kernelNote(d *model.Disk) string {
	pp := d.PerProcess
	if pp == nil {
		return ""
	}
	var s string
	if k := pp.KernelWorkers; k != nil {
		s = "; kworkers (writeback, loop, throttle) R " + common.Bytes(uint64(k.ReadBytesPerS)) + "/s W " + common.Bytes(uint64(k.WriteBytesPerS)) + "/s"
	}
	if pp.UnattributedIOs > 0 {
		s += "; " + strconv.FormatUint(pp.UnattributedIOs, 10) + " I/Os unattributed (per-process map full)"
	}
	return s
}

func (t *Tab) deniedNote() string {
	if t.denied == 0 || (t.disk() != nil && t.disk().PerProcess != nil) {
		return ""
	}
	return "; n/a for " + strconv.Itoa(t.denied) + " processes: " + deniedReason
}

// ioColumn is a rate of /proc/PID/io: n/a where the file may not be read,
// – where it was not read or there is no earlier reading.
func ioColumn(id, title string, get func(*model.Process) model.Float, help string) proctable.Column {
	return proctable.Column{ID: id, Title: title, Width: 8, Align: proctable.AlignRight, DescendingFirst: true,
		Value: func(p *model.Process) string {
			if p.IODetail == model.DetailDenied {
				return "n/a"
			}
			v := get(p)
			if !v.OK {
				return common.Dash
			}
			return common.Bytes(uint64(v.V))
		},
		Less: func(a, b *model.Process) bool { return get(a).Or(-1) < get(b).Or(-1) },
		Help: help + ". n/a: " + deniedReason + "; –: not read yet (first interval)"}
}

// slowIOs is the slowest I/Os of the last minute, slowest first, with
// what did not reach the list.
func (t *Tab) slowIOs(d *model.Disk, rows int) []string {
	s := t.Ctx.Styles
	head := "slowest I/Os of the last minute (≥ " + ms(d.SlowThresholdMS) + ")"
	if l := d.SlowIOLoss; l != nil {
		head += ", lost " + strconv.FormatUint(l.KernelDropped+l.QueueDropped, 10)
	}
	out := []string{s.TableHeader.Render(common.Fit("  LATENCY DEV      OP  SIZE TIME     PROCESS   "+head, t.Width))}
	for i := range d.SlowIOs {
		if len(out) >= rows {
			break
		}
		io := &d.SlowIOs[i]
		who := model.Sanitize(io.Comm)
		if io.PID != 0 {
			who = strconv.Itoa(int(io.PID)) + " " + who
		} else {
			who += " (writeback/loop)"
		}
		out = append(out, common.FitRight(ms(io.LatencyMS), 9)+" "+common.Fit(model.Sanitize(io.Device), 8)+" "+common.Fit(io.Op, 2)+
			common.FitRight(common.Bytes(uint64(io.Bytes)), 5)+" "+io.Time.Format("15:04:05")+" "+who)
	}
	return out
}
