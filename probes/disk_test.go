package probes

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

const diskFixture = "testdata/disk"

// diskTree is a proc root in a temp dir whose diskstats the test replaces
// between readings (in place, as the kernel's file changes under a kept
// fd), over the committed /sys fixture.
type diskTree struct {
	t    *testing.T
	proc string
}

func newDiskTree(t *testing.T, diskstats string) *diskTree {
	t.Helper()
	d := &diskTree{t: t, proc: t.TempDir()}
	for _, dir := range []string{"pressure", "self"} {
		if err := os.MkdirAll(filepath.Join(d.proc, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d.copy("pressure-io", "pressure/io")
	d.copy("mountinfo", "self/mountinfo")
	d.set(diskstats)
	return d
}

func (d *diskTree) copy(from, to string) {
	b, err := os.ReadFile(filepath.Join(diskFixture, from))
	if err != nil {
		d.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.proc, to), b, 0o644); err != nil {
		d.t.Fatal(err)
	}
}

func (d *diskTree) set(diskstats string) { d.copy(diskstats, "diskstats") }

// fakeStatfs answers statfs for the fixture's mount points; /mnt/nas never
// answers (a dead NFS server) until release is closed.
type fakeStatfs struct {
	release chan struct{}
	mu      sync.Mutex
	calls   map[string]int
}

func (f *fakeStatfs) statfs(path string, st *syscall.Statfs_t) error {
	f.mu.Lock()
	f.calls[path]++
	f.mu.Unlock()
	switch path {
	case "/":
		*st = syscall.Statfs_t{Blocks: 1000000, Bfree: 300000, Bavail: 250000, Frsize: 4096, Bsize: 4096, Files: 65536, Ffree: 6000}
	case "/boot":
		*st = syscall.Statfs_t{Blocks: 1000, Bfree: 50, Bavail: 50, Frsize: 1024}
	case "/srv/data":
		*st = syscall.Statfs_t{Blocks: 2000, Bfree: 2000, Bavail: 2000, Frsize: 4096, Files: 100, Ffree: 97}
	case "/home":
		*st = syscall.Statfs_t{Blocks: 100, Bfree: 1, Bavail: 0, Frsize: 4096}
	case "/dev/shm":
		*st = syscall.Statfs_t{Blocks: 10, Bfree: 10, Bavail: 10, Frsize: 4096, Files: 10, Ffree: 9}
	case "/mnt/my disk":
		*st = syscall.Statfs_t{}
	case "/mnt/nas":
		<-f.release
		return syscall.EIO
	default:
		return syscall.ENOENT
	}
	return nil
}

func newTestDiskProbe(t *testing.T, d *diskTree) (*DiskProbe, *fakeStatfs) {
	t.Helper()
	fake := &fakeStatfs{release: make(chan struct{}), calls: map[string]int{}}
	t.Cleanup(func() { close(fake.release) })
	p, err := NewDiskProbe(DiskProbeConfig{ProcRoot: d.proc, SysRoot: filepath.Join(diskFixture, "sys"),
		Statfs: fake.statfs, StatfsTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, fake
}

var diskT0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func readDisk(t *testing.T, p *DiskProbe, at time.Time) *model.Disk {
	t.Helper()
	d, err := p.Read(at)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func diskNear(got model.Float, want float64) bool {
	return got.OK && math.Abs(got.V-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func checkFloat(t *testing.T, label string, got model.Float, want any) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		if got.OK {
			t.Errorf("%s = %v, want null", label, got.V)
		}
	case float64:
		if !diskNear(got, w) {
			t.Errorf("%s = %+v, want %v", label, got, w)
		}
	case int:
		if !diskNear(got, float64(w)) {
			t.Errorf("%s = %+v, want %v", label, got, w)
		}
	}
}

// The answers below are worked out by hand from the fixture's counters
// (testdata/disk/diskstats-t0 → -t1, two seconds apart) with sysstat's
// formulas; see the comments.
func TestDiskRatesHandComputed(t *testing.T) {
	tree := newDiskTree(t, "diskstats-t0")
	p, _ := newTestDiskProbe(t, tree)
	if d := readDisk(t, p, diskT0); d != nil {
		t.Fatal("the first reading is the baseline and returns nothing")
	}
	tree.set("diskstats-t1")
	d := readDisk(t, p, diskT0.Add(2*time.Second))
	sda := d.Device("sda")
	if sda == nil {
		t.Fatal("no sda")
	}
	// Δ over 2 s: reads 400 (merged 100, sectors 32000, 800 ms), writes
	// 200 (merged 100, sectors 16000, 1200 ms), discards 10 (merged 5,
	// sectors 2048, 20 ms), flushes 20 (20 ms), io 1500 ms, weighted 3000.
	for _, c := range []struct {
		name string
		got  model.Float
		want any
	}{
		{"r/s", sda.ReadsPerS, 200}, {"w/s", sda.WritesPerS, 100}, {"d/s", sda.DiscardsPerS, 5}, {"f/s", sda.FlushesPerS, 10},
		{"read B/s", sda.ReadBytesPerS, 32000 * 512 / 2}, {"write B/s", sda.WriteBytesPerS, 16000 * 512 / 2},
		{"discard B/s", sda.DiscardBytesPerS, 2048 * 512 / 2},
		{"rrqm/s", sda.RrqmPerS, 50}, {"wrqm/s", sda.WrqmPerS, 50}, {"drqm/s", sda.DrqmPerS, 2.5},
		{"%rrqm", sda.RrqmPct, 100.0 * 100 / 500}, {"%wrqm", sda.WrqmPct, 100.0 * 100 / 300}, {"%drqm", sda.DrqmPct, 5.0 * 100 / 15},
		{"r_await", sda.RAwaitMS, 2}, {"w_await", sda.WAwaitMS, 6}, {"d_await", sda.DAwaitMS, 2}, {"f_await", sda.FAwaitMS, 1},
		// flushes are left out of await, as in iostat
		{"await", sda.AwaitMS, 2020.0 / 610}, {"aqu-sz", sda.AquSz, 1.5},
		{"rareq-sz", sda.RareqSzKB, 40}, {"wareq-sz", sda.WareqSzKB, 40}, {"dareq-sz", sda.DareqSzKB, 102.4},
		{"%util", sda.UtilPct, 75},
	} {
		checkFloat(t, "sda "+c.name, c.got, c.want)
	}
	if sda.InFlight != 3 || sda.Kind != model.DiskKindDisk || sda.Rotational == nil || !*sda.Rotational || sda.Scheduler != "bfq" || !diskNear(sda.NrRequests, 64) || !diskNear(sda.SizeBytes, 1953525168*512) {
		t.Errorf("sda: %+v", sda)
	}
	if sda.Parallel() {
		t.Error("a rotational disk is not parallel")
	}

	sda1 := d.Device("sda1")
	if sda1.Kind != model.DiskKindPartition || sda1.Parent != "sda" || sda1.Rotational == nil || !*sda1.Rotational {
		t.Errorf("sda1: kind %s parent %s rotational %v", sda1.Kind, sda1.Parent, sda1.Rotational)
	}
	checkFloat(t, "sda1 r/s", sda1.ReadsPerS, 100)
	checkFloat(t, "sda1 r_await", sda1.RAwaitMS, 2)
	checkFloat(t, "sda1 w_await (no writes)", sda1.WAwaitMS, nil)
	checkFloat(t, "sda1 %wrqm (no writes)", sda1.WrqmPct, nil)
	checkFloat(t, "sda1 await", sda1.AwaitMS, 2)
	checkFloat(t, "sda1 %util", sda1.UtilPct, 25)

	// 2000 writes of 400 sectors; io_ticks grew 2100 ms in 2000: 105 %,
	// kept as the kernel said it.
	nv := d.Device("nvme0n1")
	checkFloat(t, "nvme w/s", nv.WritesPerS, 1000)
	checkFloat(t, "nvme write B/s", nv.WriteBytesPerS, 800000*512/2)
	checkFloat(t, "nvme wareq-sz", nv.WareqSzKB, 200)
	checkFloat(t, "nvme w_await", nv.WAwaitMS, 1)
	checkFloat(t, "nvme aqu-sz", nv.AquSz, 10)
	checkFloat(t, "nvme %util", nv.UtilPct, 105)
	checkFloat(t, "nvme r_await", nv.RAwaitMS, nil)
	if !nv.Parallel() || nv.Scheduler != "none" || nv.InFlight != 32 {
		t.Errorf("nvme: %+v", nv)
	}

	kinds := map[string]string{}
	var order []string
	for _, dev := range d.Devices {
		kinds[dev.Name] = dev.Kind
		order = append(order, dev.Name)
	}
	wantOrder := "nvme0n1 nvme0n1p1 sda sda1 sda2 md0 dm-0 zram0 loop0 loop10"
	if got := strings.Join(order, " "); got != wantOrder {
		t.Errorf("order %q, want %q (whole disks first, partitions after their disk, loop2 before loop10)", got, wantOrder)
	}
	for name, kind := range map[string]string{"md0": "md", "dm-0": "dm", "zram0": "zram", "loop0": "loop", "nvme0n1p1": "partition"} {
		if kinds[name] != kind {
			t.Errorf("%s is %q, want %q", name, kinds[name], kind)
		}
	}
	if dm := d.Device("dm-0"); dm.Label != "vg0-root" {
		t.Errorf("dm-0 label %q", dm.Label)
	}
	if l := d.Device("loop0"); l.EverUsed || !diskNear(l.ReadsPerS, 0) || l.AwaitMS.OK {
		t.Errorf("idle loop0: %+v", l)
	}
	if !d.Device("loop10").EverUsed {
		t.Error("loop10 did I/O")
	}

	if d.PSI == nil || d.PSI.Some.Avg10 != 12.5 || d.PSI.Full == nil || d.PSI.Full.Avg300 != 0.75 {
		t.Errorf("psi %+v", d.PSI)
	}
}

func TestDiskOlderKernels(t *testing.T) {
	for _, c := range []struct {
		prefix            string
		discards, flushes bool
		await             float64
	}{
		// before 4.18: no discard fields; await over reads and writes only
		{"diskstats-11", false, false, 2000.0 / 600},
		// 4.18–5.4: discards, no flushes
		{"diskstats-15", true, false, 2020.0 / 610},
	} {
		tree := newDiskTree(t, c.prefix+"-t0")
		p, _ := newTestDiskProbe(t, tree)
		readDisk(t, p, diskT0)
		tree.set(c.prefix + "-t1")
		sda := readDisk(t, p, diskT0.Add(2*time.Second)).Device("sda")
		if sda.Discards != c.discards || sda.Flushes != c.flushes {
			t.Errorf("%s: discards %v flushes %v", c.prefix, sda.Discards, sda.Flushes)
		}
		checkFloat(t, c.prefix+" r/s", sda.ReadsPerS, 200)
		checkFloat(t, c.prefix+" await", sda.AwaitMS, c.await)
		checkFloat(t, c.prefix+" f/s", sda.FlushesPerS, nil)
		checkFloat(t, c.prefix+" f_await", sda.FAwaitMS, nil)
		if c.discards {
			checkFloat(t, c.prefix+" d/s", sda.DiscardsPerS, 5)
		} else {
			checkFloat(t, c.prefix+" d/s", sda.DiscardsPerS, nil)
			checkFloat(t, c.prefix+" d_await", sda.DAwaitMS, nil)
		}
	}
}

// A device whose counters go backwards gets no rates (not a huge one); a
// device that vanished and comes back starts over; a new one has no rate
// for its first interval.
func TestDiskResetsAndVanishing(t *testing.T) {
	tree := newDiskTree(t, "diskstats-t0")
	p, _ := newTestDiskProbe(t, tree)
	readDisk(t, p, diskT0)
	tree.set("diskstats-t1")
	readDisk(t, p, diskT0.Add(time.Second))
	tree.set("diskstats-t2")
	d := readDisk(t, p, diskT0.Add(2*time.Second))
	sda := d.Device("sda")
	if sda.ReadsPerS.OK || sda.UtilPct.OK || sda.AwaitMS.OK || !strings.Contains(sda.Reason, "backwards") {
		t.Errorf("sda after a reset: %+v", sda.DiskRates)
	}
	if d.Device("nvme0n1") != nil {
		t.Error("nvme0n1 vanished but is listed")
	}
	if l := d.Device("loop1"); l == nil || l.ReadsPerS.OK || !strings.Contains(l.Reason, "new device") {
		t.Errorf("new loop1: %+v", l)
	}
	checkFloat(t, "sda1 unchanged r/s", d.Device("sda1").ReadsPerS, 0)

	tree.set("diskstats-t3")
	d = readDisk(t, p, diskT0.Add(3*time.Second))
	if nv := d.Device("nvme0n1"); nv == nil || nv.WritesPerS.OK || !strings.Contains(nv.Reason, "new device") {
		t.Errorf("nvme0n1 back after vanishing must start over: %+v", nv)
	}
	checkFloat(t, "sda after the reset r/s", d.Device("sda").ReadsPerS, 0)
}

func TestFilesystemsLikeDF(t *testing.T) {
	tree := newDiskTree(t, "diskstats-t0")
	p, fake := newTestDiskProbe(t, tree)
	readDisk(t, p, diskT0)
	tree.set("diskstats-t1")
	d := readDisk(t, p, diskT0.Add(time.Second))
	byMount := map[string]*model.Filesystem{}
	for i := range d.Filesystems {
		byMount[d.Filesystems[i].Mount] = &d.Filesystems[i]
	}
	if _, dup := byMount["/var/lib/docker"]; dup {
		t.Error("a second mount of 8:2 is listed: df keeps the shortest mount point")
	}
	root := byMount["/"]
	// 1,000,000 blocks of 4 KiB, 300,000 free, 250,000 for users:
	// used 700,000, Use% = ceil(700000×100 / 950000) = ceil(73.68) = 74.
	checkFloat(t, "/ size", root.SizeBytes, 4096000000)
	checkFloat(t, "/ used", root.UsedBytes, 700000*4096)
	checkFloat(t, "/ avail", root.AvailBytes, 250000*4096)
	checkFloat(t, "/ use%", root.UsePct, 74)
	// 65,536 inodes, 6,000 free: ceil(59536×100/65536) = ceil(90.84) = 91
	checkFloat(t, "/ inodes used", root.InodesUsed, 59536)
	checkFloat(t, "/ IUse%", root.InodesUsedPct, 91)
	if root.Disk != "sda2" || root.FSType != "ext4" || root.Device != "/dev/sda2" || root.Pseudo {
		t.Errorf("/: %+v", root)
	}
	boot := byMount["/boot"]
	checkFloat(t, "/boot use%", boot.UsePct, 95)
	checkFloat(t, "/boot inodes (vfat has none)", boot.InodesUsedPct, nil)
	if boot.Disk != "sda1" {
		t.Errorf("/boot disk %q", boot.Disk)
	}
	checkFloat(t, "/srv/data use%", byMount["/srv/data"].UsePct, 0)
	checkFloat(t, "/srv/data IUse% ceil(3%)", byMount["/srv/data"].InodesUsedPct, 3)
	if byMount["/srv/data"].Disk != "dm-0" {
		t.Errorf("/srv/data disk %q", byMount["/srv/data"].Disk)
	}
	home := byMount["/home"]
	checkFloat(t, "/home use% (no user blocks left)", home.UsePct, 100)
	if home.Disk != "nvme0n1p1" {
		t.Errorf("btrfs /home (anonymous 0:40) should tie to its source device: %q", home.Disk)
	}
	for _, m := range []string{"/proc", "/sys", "/sys/fs/cgroup/memory"} {
		if fs := byMount[m]; fs == nil || !fs.Pseudo || fs.SizeBytes.OK {
			t.Errorf("%s should be pseudo and not measured: %+v", m, fs)
		}
		if fake.calls[m] != 0 {
			t.Errorf("statfs called on pseudo %s", m)
		}
	}
	if fs := byMount["/dev/shm"]; fs == nil || fs.Pseudo || fs.MajorMinor != "0:43" {
		t.Errorf("tmpfs is shown, as df shows it, and only the mount on top of /dev/shm: %+v", fs)
	}
	n := 0
	for _, fs := range d.Filesystems {
		if fs.Mount == "/dev/shm" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("/dev/shm listed %d times", n)
	}
	if fs := byMount["/mnt/my disk"]; fs == nil || !fs.Pseudo {
		t.Errorf("an escaped mount point must be unescaped, and 0 blocks is pseudo as in df: %+v", fs)
	}
	nas := byMount["/mnt/nas"]
	if !nas.Network || !nas.ReadOnly || nas.SizeBytes.OK || !strings.Contains(nas.Reason, "no answer within") {
		t.Errorf("hung NFS: %+v", nas)
	}
	// Still hung a second later: not asked again.
	tree.set("diskstats-t1")
	d = readDisk(t, p, diskT0.Add(2*time.Second))
	for _, fs := range d.Filesystems {
		if fs.Mount == "/mnt/nas" && !strings.Contains(fs.Reason, "no answer since") {
			t.Errorf("second read of a hung mount: %q", fs.Reason)
		}
	}
	fake.mu.Lock()
	if n := fake.calls["/mnt/nas"]; n != 1 {
		t.Errorf("statfs of the hung mount called %d times, want 1", n)
	}
	fake.mu.Unlock()
}

func TestDFPercent(t *testing.T) {
	for _, c := range []struct {
		part, whole uint64
		want        model.Float
	}{{0, 10, model.Known(0)}, {1, 1000, model.Known(1)}, {999, 1000, model.Known(100)}, {500, 1000, model.Known(50)}, {1, 0, model.Unknown}} {
		if got := model.DFPercent(c.part, c.whole); got != c.want {
			t.Errorf("DFPercent(%d, %d) = %+v, want %+v", c.part, c.whole, got, c.want)
		}
	}
}

func TestParseDiskstatsLine(t *testing.T) {
	name, c, err := parseDiskstatsLine([]byte(" 254       0 vda 83157 13187 33192514 75799 36749 85700 26141904 117103 0 43764 208536 142543 101 28746600 15476 1168 156"))
	if err != nil || string(name) != "vda" || c.Major != 254 || c.ReadIOs != 83157 || c.WeightedMS != 208536 || c.DiscardMS != 15476 || c.FlushIOs != 1168 || c.FlushMS != 156 || c.Fields != 17 {
		t.Fatalf("%s %+v %v", name, c, err)
	}
	// A future kernel's extra counters are ignored.
	if _, c, err := parseDiskstatsLine([]byte("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19")); err != nil || c.Fields != 17 || c.FlushMS != 17 {
		t.Errorf("extra fields: %+v %v", c, err)
	}
	for _, bad := range []string{"", "8 0", "8 0 sda 1 2 3", "8 0 sda 1 2 3 4 5 6 7 8 9 10 x", "x 0 sda 1 2 3 4 5 6 7 8 9 10 11", "99999999999 0 sda 1 2 3 4 5 6 7 8 9 10 11",
		"8 0 sda 1 2 3 4 5 6 7 8 9 10 99999999999999999999999"} {
		if _, _, err := parseDiskstatsLine([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestDiskMalformedLineSkipped(t *testing.T) {
	tree := newDiskTree(t, "diskstats-t0")
	p, _ := newTestDiskProbe(t, tree)
	readDisk(t, p, diskT0)
	b, _ := os.ReadFile(filepath.Join(diskFixture, "diskstats-t1"))
	os.WriteFile(filepath.Join(tree.proc, "diskstats"), append(b, "   8 16 sdb 1 2 junk\n"...), 0o644)
	d := readDisk(t, p, diskT0.Add(time.Second))
	if d.Device("sda") == nil || !strings.Contains(d.Unavailable["disks"], "1 malformed") {
		t.Errorf("unavailable %v", d.Unavailable)
	}
}

// The steady state reads diskstats without allocating beyond the published
// slice and the filesystems (which re-parse only when mountinfo changes).
func TestDiskstatsParseAllocs(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join(diskFixture, "diskstats-t1"))
	allocs := testing.AllocsPerRun(100, func() {
		data := b
		for len(data) > 0 {
			i := indexByte(data, '\n')
			if i < 0 {
				break
			}
			parseDiskstatsLine(data[:i])
			data = data[i+1:]
		}
	})
	if allocs != 0 {
		t.Errorf("parsing diskstats allocates %v times", allocs)
	}
}

func TestActiveScheduler(t *testing.T) {
	for in, want := range map[string]string{"mq-deadline [bfq] none": "bfq", "none": "none", "[none] mq-deadline": "none", "": ""} {
		if got := activeScheduler(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{`/mnt/my\040disk`: "/mnt/my disk", `a\134b`: `a\b`, `/x\0`: `/x\0`, `/plain`: "/plain"} {
		if got := unescapeMount(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

func FuzzParseDiskstatsLine(f *testing.F) {
	for _, s := range []string{
		"   8       0 sda 1000 100 80000 2000 500 50 40000 3000 0 10000 12000 10 0 2048 20 40 80",
		"   8       0 sda 1000 100 80000 2000 500 50 40000 3000 0 10000 12000",
		"254 0 vda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15",
		"7 0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", "", "1 2 3", "\t8\t0\tsda\t1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		name, c, err := parseDiskstatsLine(line)
		if err != nil {
			return
		}
		if len(name) == 0 || (c.Fields != 11 && c.Fields != 15 && c.Fields != 17) {
			t.Fatalf("accepted %q: name %q fields %d", line, name, c.Fields)
		}
		// Any two accepted readings give finite rates or none.
		r, ok := model.DiskRatesBetween(&model.DiskCounters{Fields: c.Fields}, &c, 1)
		if ok && (math.IsInf(r.UtilPct.V, 0) || math.IsNaN(r.AwaitMS.V) || r.ReadsPerS.V < 0) {
			t.Fatalf("bad rates %+v", r)
		}
	})
}

// A steady set of devices is read without allocating per device: the
// allocations of a frame do not grow with the number of devices.
func TestDiskReadAllocsDoNotGrowWithDevices(t *testing.T) {
	measure := func(devices int) float64 {
		var b strings.Builder
		for i := 0; i < devices; i++ {
			b.WriteString("   7 " + strconv.Itoa(i) + " loop" + strconv.Itoa(i) + " 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n")
		}
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "diskstats"), []byte(b.String()), 0o644)
		p, err := NewDiskProbe(DiskProbeConfig{ProcRoot: dir, SysRoot: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		at := diskT0
		p.Read(at)
		// 100 ms apart: /sys is re-read every 10 s (and only for
		// devices of unknown or zero size), not inside this window.
		return testing.AllocsPerRun(20, func() {
			at = at.Add(100 * time.Millisecond)
			p.Read(at)
		})
	}
	few, many := measure(4), measure(200)
	t.Logf("allocations per frame: %v with 4 devices, %v with 200", few, many)
	// Per device: one published entry (in one slice) and the ordering map.
	if many-few > 20 { // the ordering map grows by buckets, not per device
		t.Errorf("allocations per frame: %v with 4 devices, %v with 200", few, many)
	}
}
