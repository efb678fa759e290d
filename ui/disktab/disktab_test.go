package disktab

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/internal/uitest"
)

var now = uitest.Now

func yes() *bool { v := true; return &v }
func no() *bool  { v := false; return &v }

func k(v float64) model.Float { return model.Known(v) }

func fixtureDisk() *model.Disk {
	sda := model.DiskDevice{Name: "sda", Kind: model.DiskKindDisk, Major: 8, Rotational: yes(), Scheduler: "mq-deadline", SizeBytes: k(1 << 40), EverUsed: true, Discards: true, Flushes: true, InFlight: 4,
		DiskRates: model.DiskRates{ReadsPerS: k(180), WritesPerS: k(40), DiscardsPerS: k(0), FlushesPerS: k(2), ReadBytesPerS: k(23 << 20), WriteBytesPerS: k(5 << 20),
			RrqmPerS: k(12), WrqmPerS: k(30), RrqmPct: k(6.25), WrqmPct: k(42.9), RAwaitMS: k(38.5), WAwaitMS: k(61.2), FAwaitMS: k(4), AwaitMS: k(42.6),
			AquSz: k(9.4), RareqSzKB: k(130.8), WareqSzKB: k(128), UtilPct: k(99.1)}}
	sda1 := model.DiskDevice{Name: "sda1", Kind: model.DiskKindPartition, Parent: "sda", Major: 8, Minor: 1, Rotational: yes(), EverUsed: true, Discards: true,
		DiskRates: model.DiskRates{ReadsPerS: k(180), WritesPerS: k(40), ReadBytesPerS: k(23 << 20), WriteBytesPerS: k(5 << 20), RAwaitMS: k(38.5), WAwaitMS: k(61.2), AwaitMS: k(42.6), AquSz: k(9.4), UtilPct: k(99.1)}}
	nvme := model.DiskDevice{Name: "nvme0n1", Kind: model.DiskKindDisk, Major: 259, Rotational: no(), Scheduler: "none", EverUsed: true, Discards: true, Flushes: true, InFlight: 31,
		DiskRates: model.DiskRates{ReadsPerS: k(0), WritesPerS: k(12000), ReadBytesPerS: k(0), WriteBytesPerS: k(1500 << 20), WAwaitMS: k(0.09), AwaitMS: k(0.09), AquSz: k(1.08), WareqSzKB: k(128), UtilPct: k(104.2)}}
	dm := model.DiskDevice{Name: "dm-0", Kind: model.DiskKindDM, Label: "vg0-root", Major: 253, Rotational: no(), EverUsed: true,
		DiskRates: model.DiskRates{ReadsPerS: k(2), WritesPerS: k(1), ReadBytesPerS: k(8192), WriteBytesPerS: k(4096), RAwaitMS: k(120), WAwaitMS: k(80), AwaitMS: k(106.7), AquSz: k(0.3), UtilPct: k(4)}}
	loop := model.DiskDevice{Name: "loop3", Kind: model.DiskKindLoop, Major: 7, Minor: 3, EverUsed: true, Reason: "new device: no earlier reading to compare with"}
	idle := model.DiskDevice{Name: "loop0", Kind: model.DiskKindLoop, Major: 7, DiskRates: model.DiskRates{UtilPct: k(0), AquSz: k(0), ReadsPerS: k(0), WritesPerS: k(0)}}
	zram := model.DiskDevice{Name: "zram0", Kind: model.DiskKindZram, Major: 252, Rotational: no(), EverUsed: true,
		DiskRates: model.DiskRates{ReadsPerS: k(50), WritesPerS: k(80), ReadBytesPerS: k(200 << 10), WriteBytesPerS: k(320 << 10), RAwaitMS: k(0.01), WAwaitMS: k(0.02), AwaitMS: k(0.02), AquSz: k(0), UtilPct: k(0.5)}}
	return &model.Disk{
		Devices: []model.DiskDevice{nvme, sda, sda1, dm, zram, idle, loop},
		Filesystems: []model.Filesystem{
			{Mount: "/", Device: "/dev/sda1", Disk: "sda1", MajorMinor: "8:1", FSType: "ext4", SizeBytes: k(100 << 30), UsedBytes: k(93 << 30), AvailBytes: k(2 << 30), UsePct: k(98), InodesTotal: k(6553600), InodesUsed: k(400000), InodesUsedPct: k(7)},
			{Mount: "/var/lib/data", Device: "/dev/mapper/vg0-root", Disk: "dm-0", MajorMinor: "253:0", FSType: "xfs", SizeBytes: k(500 << 30), UsedBytes: k(100 << 30), AvailBytes: k(400 << 30), UsePct: k(20), InodesTotal: k(1000), InodesUsed: k(950), InodesUsedPct: k(95)},
			{Mount: "/mnt/nas", Device: "nas:/export", MajorMinor: "0:41", FSType: "nfs4", Network: true, Reason: "statfs /mnt/nas: no answer within 200ms (server unreachable?); not measured"},
			{Mount: "/proc", Device: "proc", MajorMinor: "0:21", FSType: "proc", Pseudo: true},
		},
		PSI:    &model.Pressure{Some: model.PressureAvg{Avg10: 34.5, Avg60: 20.1, Avg300: 8}, Full: &model.PressureAvg{Avg10: 21, Avg60: 12, Avg300: 4}},
		DState: []model.DStateProcess{{PID: 300, StartTicks: 3, Comm: "postgres", User: "postgres", Wchan: "io_schedule", InDS: 14}, {PID: 301, StartTicks: 4, Comm: "tar", User: "root", WchanReason: "the kernel shows 0", InDS: 2}},
	}
}

func proc(pid int32, start uint64, state, comm, cmd, user string) model.Process {
	var p model.Process
	p.PID, p.StartTicks, p.State, p.Comm, p.Cmdline, p.User = pid, start, state, comm, cmd, user
	return p
}

func withIO(p model.Process, rd, wr, cwr float64) model.Process {
	p.ProcessIO = model.ProcessIO{IODetail: model.DetailFresh, ProcessIORates: model.ProcessIORates{
		ReadBytesPerS: k(rd), WriteBytesPerS: k(wr), CancelledWriteBytesPerS: k(cwr), RcharPerS: k(rd + 4096), WcharPerS: k(wr)}}
	return p
}

func denied(p model.Process) model.Process {
	p.IODetail = model.DetailDenied
	return p
}

// latHist is a histogram with the given counts per slot.
func latHist(slots map[int]uint64, meanUs float64) model.LatencyHist {
	c := make([]uint64, model.DiskLatSlots)
	var n uint64
	for i, v := range slots {
		c[i] = v
		n += v
	}
	return model.NewLatencyHist(c, uint64(meanUs*1e3)*n, 0)
}

// sdaLatency is sda's histogram of the fixture frame: reads around 4 ms
// with a tail to 65 ms, writes at 8 ms.
func sdaLatency() *model.DiskLatencyHist {
	h := &model.DiskLatencyHist{Read: latHist(map[int]uint64{12: 100, 14: 60, 16: 20}, 9000), Write: latHist(map[int]uint64{13: 40}, 9000)}
	h.Read.SlowIOs = 20
	return h
}

func fixtureSnapshot() *model.Snapshot {
	s := model.NewStore(model.Host{Hostname: "h"}, 1, 600)
	s.Update(func(next *model.Sample, h *model.History) {
		// 60 frames of sda's latency: the tail grows over the last 20.
		for i := 0; i < 60; i++ {
			slots := map[int]uint64{12: 100, 13: 30}
			if i >= 40 {
				slots[16] = uint64(i - 39)
			}
			lat := &model.DiskLatencyHist{Read: latHist(slots, 5000), Write: latHist(map[int]uint64{13: 40}, 9000)}
			model.RecordHistory(h, &model.Sample{Time: now.Add(time.Duration(i-60) * time.Second),
				Disk: &model.Disk{Devices: []model.DiskDevice{{Name: "sda", EverUsed: true, LatencyHist: lat}}}})
		}
		next.Time = now
		next.Disk = fixtureDisk()
		next.Disk.Tier = model.Feature{Name: "disk", Tier: "tp_btf"}
		next.Disk.Devices[1].LatencyHist = sdaLatency()
		next.Disk.SlowThresholdMS = 50
		next.Disk.SlowIOLoss = &model.EventLoss{Source: model.SourceDisk, KernelDropped: 3}
		next.Disk.SlowIOs = []model.SlowIO{
			{Time: now.Add(-2 * time.Second), PID: 300, Comm: "postgres", SlowIOData: model.SlowIOData{Device: "sda", Major: 8, Op: "W", Bytes: 8192, LatencyMS: 120.5}},
			{Time: now.Add(-9 * time.Second), PID: 0, Comm: "kworker/u8:2", SlowIOData: model.SlowIOData{Device: "sda", Major: 8, Op: "W", Bytes: 1 << 20, LatencyMS: 70}},
		}
		next.Disk.Devices[2].LatencyReason = "a partition: its I/Os are counted on sda"
		next.Processes = []model.Process{
			proc(300, 3, "D", "postgres", "postgres: checkpointer", "postgres"),
			proc(301, 4, "D", "tar", "tar czf /backup/all.tgz /srv", "root"),
			proc(1, 1, "S", "init", "/sbin/init", "root"),
			withIO(proc(400, 5, "R", "dd", "dd if=/dev/zero of=/data/x oflag=direct", "root"), 0, 64<<20, 0),
			withIO(proc(401, 6, "S", "rsync", "rsync -a /srv /backup", "root"), 8<<20, 1<<20, 512<<10),
			denied(proc(402, 7, "S", "sshd", "sshd: alice", "alice")),
		}
		next.Processes[0].ProcessIO = model.ProcessIO{IODetail: model.DetailFresh, ProcessIORates: model.ProcessIORates{ReadBytesPerS: k(2 << 20), WriteBytesPerS: k(0), RcharPerS: k(3 << 20)}}
		model.JoinFrame(next) // the disk_* figures, from /proc/PID/io here
		for i := 0; i < 90; i++ {
			ts := now.Add(time.Duration(i-90) * time.Second)
			h.Record(model.SeriesDiskRead("sda"), ts, float64(i%30)*1e6)
			h.Record(model.SeriesDiskWrite("sda"), ts, float64(30-i%30)*2e5)
			aw := 4.0
			if i == 89 {
				aw = 42.6 // rising: the queueing hint
			}
			h.Record(model.SeriesDiskAwait("sda"), ts, aw)
		}
	})
	return s.Snapshot()
}

func newTab(noColor bool, w, h int) *Tab {
	ctx := common.NewContext(noColor)
	ctx.Now = func() time.Time { return now }
	t := New(ctx, nil)
	t.SetSize(w, h)
	t.Update(common.SnapshotMsg{Snap: fixtureSnapshot()})
	return t
}

func press(t *Tab, keys ...string) {
	for _, k := range keys {
		t.Update(uitest.Key(k))
	}
}

func TestGolden(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 50}} {
		tab := newTab(false, sz[0], sz[1])
		uitest.Golden(t, "disk_"+strconv.Itoa(sz[0])+"x"+strconv.Itoa(sz[1]), ansi.Strip(tab.View()))
	}
}

func TestContent(t *testing.T) {
	tab := newTab(false, 200, 50)
	s := ansi.Strip(tab.View())
	// The warnings area shows the most severe few; w lists them all.
	for _, a := range tab.Warnings() {
		s += "\n" + a.Text
	}
	for _, want := range []string{
		// the device where requests wait (highest aqu-sz) is selected by default
		"sda hdd 1.0T  %util 99.1 aqu-sz 9.40 await 42.60 ms",
		"sda: queueing: aqu-sz 9.40 and await rising to 43 ms (mean 4.0 ms before); busy: a rotational disk at %util 99.1 is near saturation",
		"PSI io some 34.50/20.10/8.00% full 21.00/12.00/4.00%", "D state 2",
		"io pressure: all non-idle tasks stalled on I/O 21.0%",
		"2 in D state; longest postgres (300) 14 s in io_schedule",
		"sda queueing: aqu-sz 9.40, await 43 ms (was 4.0 ms)",
		"dm-0 (vg0-root) slow: await 107 ms at %util 4.0",
		"/ 98% full (2.0G left)", "/var/lib/data inodes 95% used",
		"104.2!", " sda1", "zram", "ssd", "hdd",
		"statfs /mnt/nas: no answer within 200ms",
		"io_schedule", "postgres: checkpointer", "14s",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
	for _, unwanted := range []string{"loop0", "/proc "} {
		if strings.Contains(s, unwanted) {
			t.Errorf("%q shown by default (idle device / pseudo filesystem)", unwanted)
		}
	}
	// The new device has no rates yet: dashes, with the reason.
	if !strings.Contains(s, "loop3") {
		t.Error("a new device is listed")
	}
	press(tab, "a", "p")
	s = ansi.Strip(tab.View())
	if !strings.Contains(s, "loop0") || !strings.Contains(s, "/proc ") {
		t.Error("a and p show idle devices and pseudo filesystems")
	}
}

func TestSelectAndFilter(t *testing.T) {
	tab := newTab(false, 250, 40)
	press(tab, "[") // from the default (sda) to the device above it
	v := ansi.Strip(tab.View())
	if !strings.HasPrefix(v, "nvme0n1 ssd  %util 104.2!") ||
		!strings.Contains(v, "nvme0n1: %util 104.2 > 100 is a kernel accounting artefact (io_ticks), not more than busy; %util near 100 is not saturation here: a non-rotational device (SSD/NVMe) serves requests in parallel") {
		t.Errorf("after [: %s", firstLines(v, 2))
	}
	press(tab, "[")
	if v := ansi.Strip(tab.View()); !strings.HasPrefix(v, "loop3 loop") || !strings.Contains(v, "loop3: no rates this interval (new device") {
		t.Errorf("[ wraps to the last device: %s", firstLines(v, 2))
	}
	press(tab, "f") // disks only
	v = ansi.Strip(tab.View())
	if strings.Contains(v, "  sda1      part") || strings.Contains(v, "zram0 ") || !strings.Contains(v, "[disk]") {
		t.Errorf("kind filter disk: %s", v)
	}
	press(tab, "f", "f", "f") // partition, loop, then dm (no md here)
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "[dm]") || !strings.HasPrefix(v, "dm-0 (vg0-root)") {
		t.Errorf("f skips kinds with no device: %s", firstLines(v, 8))
	}
	press(tab, "f", "f") // zram, then all again
	if v := ansi.Strip(tab.View()); strings.Contains(v, "[") && strings.Contains(v, "[zram]") {
		t.Errorf("back to all: %s", firstLines(v, 8))
	}
}

func TestVerdicts(t *testing.T) {
	d := fixtureDisk()
	dm := &d.Devices[3]
	if v := Verdict(dm, nil); !strings.Contains(v, "slow device: await 107 ms at only %util 4.0") {
		t.Error(v)
	}
	z := &d.Devices[4]
	if v := Verdict(z, nil); v != "zram0: not saturated (%util 0.5, aqu-sz 0.00, await 0.0 ms)" {
		t.Error(v)
	}
	// A quiet system raises nothing.
	quiet := &model.Disk{Devices: []model.DiskDevice{*z}, PSI: &model.Pressure{Some: model.PressureAvg{Avg10: 0.5}}}
	if a := Alerts(quiet, func(string) []float64 { return nil }); len(a) != 0 {
		t.Errorf("quiet: %v", a)
	}
}

func TestCollectingAndUnavailable(t *testing.T) {
	ctx := common.NewContext(false)
	tab := New(ctx, nil)
	tab.SetSize(80, 10)
	if v := ansi.Strip(tab.View()); !strings.Contains(v, "Disk: collecting the first interval") {
		t.Error(v)
	}
	s := model.NewStore(model.Host{}, 1, 10)
	s.Update(func(next *model.Sample, _ *model.History) {
		next.Disk = &model.Disk{Devices: []model.DiskDevice{}, Unavailable: map[string]string{"psi": "kernel has no /proc/pressure", "filesystems": "read /proc/self/mountinfo: permission denied"}}
	})
	tab.Update(common.SnapshotMsg{Snap: s.Snapshot()})
	v := ansi.Strip(tab.View())
	for _, want := range []string{"PSI io – (kernel has no /proc/pressure)", "filesystems – (read /proc/self/mountinfo: permission denied)", "no device with I/O since boot"} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q:\n%s", want, v)
		}
	}
}

func TestSizes(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		tab := newTab(noColor, 80, 24)
		for _, w := range []int{1, 5, 10, 20, 33, 40, 60, 79, 80, 120, 200, 250} {
			for _, h := range []int{1, 2, 3, 5, 8, 10, 12, 24, 30, 50, 70} {
				tab.SetSize(w, h)
				uitest.CheckSize(t, "disk", tab.View(), w, h)
				press(tab, "]")
				uitest.CheckSize(t, "disk", tab.View(), w, h)
			}
		}
	}
}

func TestExplainCoversColumns(t *testing.T) {
	tab := newTab(false, 80, 24)
	terms := map[string]bool{}
	for _, e := range tab.Explain() {
		terms[e[0]] = true
		if e[1] == "" {
			t.Errorf("%s has no help", e[0])
		}
	}
	for _, c := range devColumns {
		if !terms[c.title] {
			t.Errorf("column %s unexplained", c.title)
		}
	}
	for _, want := range []string{"IN D", "WCHAN", "saturation", "PSI io", "USE% IUSE%"} {
		if !terms[want] {
			t.Errorf("%s unexplained", want)
		}
	}
}

func firstLines(s string, n int) string {
	l := strings.Split(s, "\n")
	return strings.Join(l[:min(n, len(l))], "\n")
}

func TestWarningsListAndSeverity(t *testing.T) {
	tab := newTab(false, 200, 50)
	var _ common.Warner = tab
	ws := tab.Warnings()
	texts := make([]string, len(ws))
	for i, a := range ws {
		texts[i] = a.Text
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"io pressure: all non-idle tasks stalled on I/O 21.0% of the last 10 s", "2 in D state; longest postgres (300) 14 s in io_schedule", "dm-0 (vg0-root) slow", "/ 98% full", "/var/lib/data inodes 95% used"} {
		if !strings.Contains(all, want) {
			t.Errorf("w list lacks %q:\n%s", want, all)
		}
	}
	if ws[0].Severity != common.Warn {
		t.Errorf("pressure is saturation: %+v", ws[0])
	}
	// The shared area draws the most severe first and says how many more.
	v := ansi.Strip(tab.View())
	if !strings.Contains(v, "! io pressure") || !strings.Contains(v, "more (w)") {
		t.Errorf("warnings area:\n%s", firstLines(v, 6))
	}
	full := &model.Disk{Filesystems: []model.Filesystem{{Mount: "/x", UsePct: k(100), AvailBytes: k(0)}}}
	if a := Alerts(full, nil); len(a) != 1 || a[0].Severity != common.Critical {
		t.Errorf("no space left is damage: %+v", a)
	}
}

func TestProcessDiskIO(t *testing.T) {
	tab := newTab(false, 200, 50)
	if d := tab.Demand(); !d.WantsIO() {
		t.Error("the Disk tab needs /proc/PID/io")
	}
	v := ansi.Strip(tab.View())
	for _, want := range []string{"DISK/s", "READ/s", "WRITE/s", "LREAD/s", "n/a for 1 processes: /proc/PID/io is readable only for one's own processes unless root"} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q:\n%s", want, v)
		}
	}
	// Default sort: DISK/s descending, dd (64M/s) first, then rsync, postgres.
	order := func() []string {
		var out []string
		for _, l := range strings.Split(ansi.Strip(tab.View()), "\n") {
			for _, c := range []string{"oflag=direct", "rsync -a", "postgres: checkpointer", "tar czf"} {
				if strings.Contains(l, c) {
					out = append(out, c)
				}
			}
		}
		return out
	}
	if o := order(); len(o) != 4 || o[0] != "oflag=direct" || o[1] != "rsync -a" || o[2] != "postgres: checkpointer" {
		t.Errorf("by DISK/s: %v", o)
	}
	press(tab, "N") // by PID
	if o := order(); o[0] != "postgres: checkpointer" {
		t.Errorf("by PID: %v", o)
	}
	press(tab, "D")
	if tab.Table.SortID() != "disk" || !tab.Table.Descending() {
		t.Errorf("D sorts by disk: %s %v", tab.Table.SortID(), tab.Table.Descending())
	}
	if o := order(); o[0] != "oflag=direct" {
		t.Errorf("after D: %v", o)
	}
	// A denied process doing nothing visible is not listed, but counted;
	// one in D state that may not be read shows n/a.
	c := ioColumn("x", "X", func(p *model.Process) model.Float { return p.ReadBytesPerS }, "")
	p := denied(proc(9, 9, "D", "x", "x", "bob"))
	if got := c.Value(&p); got != "n/a" {
		t.Errorf("denied: %q", got)
	}
}

func TestLatencyCharts(t *testing.T) {
	tab := newTab(false, 200, 50)
	v := ansi.Strip(tab.View())
	for _, want := range []string{
		"sda latency  p99 R 131ms W 16ms", // slot 16 ends at 2^17 µs; slot 13 at 2^14
		"heatmap R+W, 1 column/frame (tp_btf)",
		"  4ms    100 ", " 65ms     20 ", "  8ms      ·", // biolatency rows: lower bound, read count and bar, write
	} {
		if !strings.Contains(v, want) {
			t.Errorf("200x50 lacks %q", want)
		}
	}
	// Heatmap: the 65 ms row fills in over the last 20 frames only.
	for _, line := range strings.Split(v, "\n") {
		if i := strings.Index(line, " 65ms "); i >= 0 && strings.Contains(line, "heatmap") == false {
			rest := line[i:]
			if !strings.Contains(rest, "░") && !strings.Contains(rest, "▒") && !strings.Contains(rest, "█") {
				continue
			}
		}
	}
	// At 80x24 the histogram and heatmap replace the history charts; l
	// brings those back; g hides the charts.
	small := newTab(false, 80, 24)
	v = ansi.Strip(small.View())
	if !strings.Contains(v, "sda latency") || !strings.Contains(v, "heatmap") || strings.Contains(v, "await ms") {
		t.Errorf("80x24 default:\n%s", v)
	}
	press(small, "l")
	if v = ansi.Strip(small.View()); strings.Contains(v, "sda latency") || !strings.Contains(v, "await ms") {
		t.Errorf("80x24 after l:\n%s", v)
	}
	press(small, "g")
	if v = ansi.Strip(small.View()); strings.Contains(v, "await ms") || strings.Contains(v, "sda latency") {
		t.Errorf("80x24 after g:\n%s", v)
	}
	// A partition shows its disk's histogram (counted there).
	press(small, "g", "l", "]")
	if v = ansi.Strip(small.View()); !strings.HasPrefix(v, "sda1 part") || !strings.Contains(v, "sda latency  p99 R 131ms") {
		t.Errorf("partition:\n%s", v)
	}
	// Without eBPF the history charts stay, and the device says why.
	d := fixtureDisk()
	d.Tier = model.Feature{Name: "disk", Tier: model.TierProcfs, Reason: "needs root or CAP_BPF+CAP_PERFMON"}
	st := model.NewStore(model.Host{}, 1, 10)
	st.Update(func(next *model.Sample, _ *model.History) { next.Time, next.Disk = now, d })
	small.Update(common.SnapshotMsg{Snap: st.Snapshot()})
	if got := strings.Join(small.histogramLines(&d.Devices[1], 80, 5), "\n"); !strings.Contains(ansi.Strip(got), "sda latency – (needs eBPF: needs root") {
		t.Errorf("no eBPF: %s", got)
	}
	if v = ansi.Strip(small.View()); !strings.Contains(v, "await ms") {
		t.Errorf("no eBPF, 80x24:\n%s", v)
	}
}

func TestHeatmapShadesByFrame(t *testing.T) {
	tab := newTab(false, 120, 40)
	lines := tab.heatmapLines(&tab.Sample().Disk.Devices[1], 70, 8)
	// Rows top down: 65ms, (…), 8ms, 4ms — one column per frame, newest
	// right; the 65 ms row is empty for the first 40 of 60 frames.
	var top string
	for _, l := range lines {
		if strings.HasPrefix(ansi.Strip(l), "  65ms") {
			top = ansi.Strip(l)
		}
	}
	if top == "" {
		t.Fatalf("no 65ms row:\n%s", strings.Join(lines, "\n"))
	}
	cells := []rune(top[len("  65ms "):])
	if len(cells) != 63 {
		t.Fatalf("%d columns, want 63 (70 − label)", len(cells))
	}
	// 63 columns for 60 frames: 3 blank, then 40 empty frames, then 20.
	for i, c := range cells {
		filled := c != ' '
		if want := i >= 3+40; filled != want {
			t.Errorf("column %d %q filled=%v", i, c, filled)
		}
	}
}

func TestSlowIOs(t *testing.T) {
	tab := newTab(false, 200, 50)
	v := ansi.Strip(tab.View())
	for _, want := range []string{
		"slowest I/Os of the last minute (≥ 50 ms), lost 3",
		"  120 ms sda      W  8.0K 10:29:58 300 postgres",
		"   70 ms sda      W  1.0M 10:29:51 kworker/u8:2 (writeback/loop)",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("200x50 lacks %q", want)
		}
	}
	var texts []string
	for _, a := range tab.Warnings() {
		texts = append(texts, a.Text)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		"sda: 20 I/Os ≥ 50 ms this interval, slowest 120 ms W 8.0K by postgres (300) at 10:29:58",
		"3 slow I/Os lost since start (3 ring buffer full, 0 queue full)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
}

// With eBPF the table's disk figures are the block events', with latency,
// and writeback is the kernel workers', not a process's.
func TestProcessDiskEBPF(t *testing.T) {
	st := model.NewStore(model.Host{}, 1, 10)
	st.Update(func(next *model.Sample, _ *model.History) {
		next.Time = now
		next.Disk = fixtureDisk()
		next.Disk.Tier = model.Feature{Name: "disk", Tier: "tp_btf"}
		next.Disk.PerProcess = &model.DiskProcesses{Attribution: "submitter", UnattributedIOs: 5,
			Processes:     []model.DiskProcess{{PID: 400, StartTicks: 5, Comm: "dd", WriteBytesPerS: 32 << 20, WriteIOsPerS: 512, LatencyMeanUs: 850, LatencyMaxUs: 12500}},
			KernelWorkers: &model.DiskProcess{Writeback: true, WriteBytesPerS: 3 << 20}}
		next.Processes = []model.Process{
			withIO(proc(400, 5, "R", "dd", "dd if=/dev/zero of=/data/x oflag=direct", "root"), 0, 64<<20, 0),
			withIO(proc(401, 6, "S", "cp", "cp big /data/", "root"), 0, 8<<20, 0), // buffered: dirtied, written back later
		}
		next.Processes[0].IODelayReason = "kernel.task_delayacct is 0"
		next.Processes[1].IODelayPct = k(12.5)
		model.JoinFrame(next)
	})
	tab := New(common.NewContext(false), nil)
	tab.SetSize(260, 45)
	tab.Update(common.SnapshotMsg{Snap: st.Snapshot()})
	v := ansi.Strip(tab.View())
	for _, want := range []string{
		"from block events by submitter (tp_btf); kworkers (writeback, loop, throttle) R 0B/s W 3.0M/s; 5 I/Os unattributed (per-process map full)",
		"    400 root      R      32M       0B      32M    512   850µs    12ms    n/a", "IODLY% n/a: kernel.task_delayacct is 0",
		"0       –       –   12.5",
		"    401 root      S       0B       0B       0B      0       –", // in the list for its dirtied bytes
	} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q:\n%s", want, v)
		}
	}
}
