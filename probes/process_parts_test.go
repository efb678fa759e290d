package probes

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// scanChildEnv makes the test binary a workload child for the tests below:
// "io" does a fixed amount of I/O and CPU work for every line on stdin and
// answers "done".
const scanChildEnv = "VITALS_TEST_SCAN_CHILD"

func TestScanChildHelper(t *testing.T) {
	spec := os.Getenv(scanChildEnv)
	if spec == "" {
		return // only does something when a test runs it as its child
	}
	in := bufio.NewReader(os.Stdin)
	switch spec {
	case "io":
		buf := make([]byte, 64<<10)
		null, _ := os.OpenFile("/dev/null", os.O_WRONLY, 0)
		zero, _ := os.Open("/dev/zero")
		for {
			if _, err := in.ReadString('\n'); err != nil {
				os.Exit(0)
			}
			for range 16 {
				null.Write(buf)
			}
			for range 8 {
				zero.Read(buf[:32<<10])
			}
			for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
			}
			os.Stdout.WriteString("done\n")
		}
	}
	fmt.Fprintf(os.Stderr, "unknown child %q\n", spec)
	os.Exit(2)
}

// scanChild starts the helper and returns its stdin and stdout.
func scanChild(t *testing.T, spec string) (*exec.Cmd, io.Writer, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestScanChildHelper$")
	cmd.Env = append(os.Environ(), scanChildEnv+"="+spec)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, stdin, bufio.NewReader(stdout)
}

func expectLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	if line, err := r.ReadString('\n'); err != nil || line != want+"\n" {
		t.Fatalf("child said %q (%v), want %q", line, err, want)
	}
}

// liveScannerDemand is liveScanner with a demand set.
func liveScannerDemand(t *testing.T, set model.DemandSet) *ProcessScanner {
	t.Helper()
	host, err := ReadHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	d := &model.Demand{}
	d.Set(set)
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd",
		BootTime: host.BootTime, ClockTicks: host.ClockTicks, Demand: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// liveScan scans and returns the process pid; other processes exiting or
// being unreadable meanwhile is not this test's business.
func liveScan(t *testing.T, s *ProcessScanner, now time.Time, pid int) model.Process {
	t.Helper()
	procs, _, err := s.Scan(now)
	if procs == nil && err != nil {
		t.Fatal(err)
	}
	p, ok := procOf(procs, pid)
	if procs != nil && !ok {
		t.Fatalf("pid %d not scanned", pid)
	}
	return p
}

// procIOFile reads /proc/PID/io directly.
func procIOFile(t *testing.T, pid int) map[string]float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(line, ":")
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			t.Fatalf("io line %q", line)
		}
		m[k] = f
	}
	return m
}

// forEachRate calls fn with every field of p's *Rates structs.
func forEachRate(v reflect.Value, inRates bool, fn func(name string, f reflect.Value)) {
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		if sf.Anonymous {
			forEachRate(f, inRates || strings.HasSuffix(sf.Type.Name(), "Rates"), fn)
		} else if inRates {
			fn(sf.Name, f)
		}
	}
}

// After a busy interval, the idle fast path must give zero for every rate
// the model has, whichever struct it is in: the rates a real busy interval
// left are topped up through reflection so that every one starts non-zero,
// as a rate added to the model later would be.
func TestProcessScannerFastPathZeroesEveryRate(t *testing.T) {
	// Single-threaded (the fast path is for those): a shell whose reaped
	// children's I/O counts as its own.
	child := exec.Command("sh", "-c", "while read x; do head -c 1048576 /dev/zero >/dev/null; echo done; done")
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); child.Process.Kill(); child.Wait() })
	stdout := bufio.NewReader(out)
	pid := child.Process.Pid
	s := liveScannerDemand(t, model.DemandSet{IO: true})
	now := time.Now()
	liveScan(t, s, now, pid)
	io.WriteString(stdin, "go\n")
	expectLine(t, stdout, "done")
	// The shell still runs a little after its echo (back to read): wait
	// until it is asleep for good, or on a loaded machine the scan below
	// sees it run afterwards and the fast path is rightly not taken.
	waitSchedstatSettled(t, pid)
	now = now.Add(time.Second)
	busy := liveScan(t, s, now, pid)
	t.Logf("busy interval: cpu %.1f%% minflt/s %.0f wchar/s %v rchar/s %v syscw/s %v io %s",
		busy.CPUPct, busy.MinFltPerS, busy.WcharPerS, busy.RcharPerS, busy.SyscwPerS, busy.IODetail)
	if busy.IODetail != model.DetailFresh || busy.RcharPerS.V < 1<<20 || busy.SyscrPerS.V <= 0 {
		t.Fatalf("the busy interval did not register: %+v", busy)
	}

	ps := s.byPID[int32(pid)]
	last := reflect.ValueOf(&s.prevOut[ps.lastIdx]).Elem()
	forEachRate(last, false, func(name string, f reflect.Value) {
		switch v := f.Addr().Interface().(type) {
		case *float64:
			if *v == 0 {
				*v = 1
			}
		case *model.Float:
			if v.V == 0 {
				*v = model.Known(1)
			}
		default:
			t.Fatalf("rate %s is a %s: teach this test its zero", name, f.Type())
		}
	})
	// The fast path is skipped every fourth scan by pid; pick a scan it
	// takes, with the listing of the last scan (the parent is in it).
	var c scanContext
	for gen := s.gen + 1; ; gen++ {
		if (uint64(pid)+gen)%statRefreshEvery != 0 {
			c = scanContext{gen: gen, now: now.Add(time.Second), interval: 1, wantIO: true}
			break
		}
	}
	var p model.Process
	if !s.idleSinceLastScan(int32(pid), &c, &p) {
		t.Fatal("the idle child did not take the fast path")
	}
	n := 0
	forEachRate(reflect.ValueOf(p), false, func(name string, f reflect.Value) {
		n++
		switch v := f.Interface().(type) {
		case float64:
			if v != 0 {
				t.Errorf("%s = %v on the fast path", name, v)
			}
		case model.Float:
			if v.V != 0 {
				t.Errorf("%s = %+v on the fast path", name, v)
			}
		}
	})
	// What is measured is a known zero: the I/O (read and not refused)
	// and the wait (schedstat readable).
	if !p.WaitPct.OK || !p.ReadBytesPerS.OK || !p.CancelledWriteBytesPerS.OK || p.IODetail != model.DetailFresh {
		t.Errorf("idle rates should be known zeros: wait %+v read_bytes %+v io %s", p.WaitPct, p.ReadBytesPerS, p.IODetail)
	}
	if p.PID != busy.PID || p.Comm != busy.Comm || p.RSSBytes != busy.RSSBytes {
		t.Errorf("the fast path changed what is not a rate: %+v", p)
	}
	t.Logf("%d rates zero on the fast path", n)
}

// The I/O rates of a child, against what the test reads from its io file
// at the same moments (the child is blocked on stdin at each scan, so its
// counters stand still), and the rule that an idle process's are zero
// without reading the file.
func TestProcessScannerIOLive(t *testing.T) {
	child, stdin, stdout := scanChild(t, "io")
	pid := child.Process.Pid
	s := liveScannerDemand(t, model.DemandSet{IO: true})
	// Each scan and the test's own read of the io file must see the child
	// blocked on stdin: on a loaded machine it may still be finishing a
	// read or a write when its last line arrives.
	waitSchedstatSettled(t, pid)
	now := time.Now()
	liveScan(t, s, now, pid)
	before := procIOFile(t, pid)
	io.WriteString(stdin, "go\n")
	expectLine(t, stdout, "done")
	waitSchedstatSettled(t, pid)
	now = now.Add(2 * time.Second) // rates over 2 s
	p := liveScan(t, s, now, pid)
	after := procIOFile(t, pid)
	for _, c := range []struct {
		key  string
		rate model.Float
	}{
		{"rchar", p.RcharPerS}, {"wchar", p.WcharPerS}, {"syscr", p.SyscrPerS}, {"syscw", p.SyscwPerS},
		{"read_bytes", p.ReadBytesPerS}, {"write_bytes", p.WriteBytesPerS}, {"cancelled_write_bytes", p.CancelledWriteBytesPerS},
	} {
		want := (after[c.key] - before[c.key]) / 2
		if !c.rate.OK || !closeTo(c.rate.V, want) {
			t.Errorf("%s/s = %+v, the io file says %v", c.key, c.rate, want)
		}
	}
	// 16 writes of 64 KiB, 8 reads of 32 KiB, and the control lines.
	if p.WcharPerS.V < 512<<10 || p.SyscwPerS.V < 8 || p.RcharPerS.V < 128<<10 {
		t.Errorf("wchar/s %v syscw/s %v rchar/s %v: less than the child did", p.WcharPerS.V, p.SyscwPerS.V, p.RcharPerS.V)
	}
	if p.IODetail != model.DetailFresh {
		t.Errorf("io detail %q", p.IODetail)
	}

	// Idle since: zero, and the file is not read for it.
	reads := -1
	for range 3 {
		now = now.Add(time.Second)
		p = liveScan(t, s, now, pid)
		if p.IODetail != model.DetailFresh || p.WcharPerS != model.Known(0) || p.RcharPerS != model.Known(0) {
			t.Errorf("idle child: io %q wchar/s %+v rchar/s %+v", p.IODetail, p.WcharPerS, p.RcharPerS)
		}
		if reads < 0 || s.ioReads < reads {
			reads = s.ioReads
		}
	}
	t.Logf("io files read per scan while the child idles: %d (of %d processes)", reads, len(s.procs))

	// Nobody asks: not read, unknown, and a stale baseline is not used
	// when asked again (the first interval after is a baseline).
	s.cfg.Demand.Set(model.DemandSet{})
	now = now.Add(time.Second)
	if p = liveScan(t, s, now, pid); p.IODetail != model.DetailNotRead || p.WcharPerS.OK {
		t.Errorf("without demand: io %q wchar/s %+v", p.IODetail, p.WcharPerS)
	}
	if s.ioReads != 0 {
		t.Errorf("%d io files read without demand", s.ioReads)
	}
	io.WriteString(stdin, "go\n")
	expectLine(t, stdout, "done")
	s.cfg.Demand.Set(model.DemandSet{All: true})
	now = now.Add(time.Second)
	if p = liveScan(t, s, now, pid); p.IODetail != model.DetailNotRead || p.WcharPerS.OK {
		t.Errorf("first interval after demand: io %q wchar/s %+v (the work was done while nobody asked)", p.IODetail, p.WcharPerS)
	}
	now = now.Add(time.Second)
	if p = liveScan(t, s, now, pid); p.IODetail != model.DetailFresh || p.WcharPerS != model.Known(0) {
		t.Errorf("then: io %q wchar/s %+v", p.IODetail, p.WcharPerS)
	}
}

// ioDeniedChildEnv holds, for the unprivileged child of
// TestProcessScannerIODeniedLive, the pid of a process root started.
const ioDeniedChildEnv = "VITALS_TEST_IO_DENIED_PID"

// Another user's io file is refused (EACCES) unless root: its I/O is null,
// "denied", and not tried again every scan. Run as root, the test starts a
// sleep as root and re-executes itself as nobody to scan it.
func TestProcessScannerIODeniedLive(t *testing.T) {
	if os.Geteuid() == 0 && os.Getenv(ioDeniedChildEnv) == "" {
		sleeper := startChild(t, "sleep", "100")
		// As root the same process is readable.
		s := liveScannerDemand(t, model.DemandSet{IO: true})
		now := time.Now()
		liveScan(t, s, now, sleeper.Process.Pid)
		if p := liveScan(t, s, now.Add(time.Second), sleeper.Process.Pid); p.IODetail != model.DetailFresh || p.RcharPerS != model.Known(0) {
			t.Errorf("as root: io %q rchar/s %+v", p.IODetail, p.RcharPerS)
		}

		dir, err := os.MkdirTemp("", "vitals-io-denied-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "probes.test")
		self, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, self, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-test.run=^TestProcessScannerIODeniedLive$", "-test.v")
		cmd.Dir = "/"
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", ioDeniedChildEnv, sleeper.Process.Pid))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		t.Logf("unprivileged child:\n%s", out)
		if err != nil {
			t.Fatalf("unprivileged child: %v", err)
		}
		if !strings.Contains(string(out), "io-denied-check-ran") {
			t.Fatal("the unprivileged child did not run the check")
		}
		return
	}
	rootPID, err := strconv.Atoi(os.Getenv(ioDeniedChildEnv))
	if err != nil {
		t.Skip("run as root: it needs a process of another user, which it starts as root")
	}
	s := liveScannerDemand(t, model.DemandSet{IO: true})
	now := time.Now()
	liveScan(t, s, now, rootPID)
	var p model.Process
	for i := 1; i <= 3; i++ {
		now = now.Add(time.Second)
		p = liveScan(t, s, now, rootPID)
		if p.IODetail != model.DetailDenied || p.RcharPerS.OK || p.ReadBytesPerS.OK || p.WcharPerS.OK {
			t.Errorf("scan %d: root's sleep as uid %d: io %q rchar/s %+v", i, os.Geteuid(), p.IODetail, p.RcharPerS)
		}
		if s.ioDeniedSkips == 0 {
			t.Errorf("scan %d: no refused io file was skipped: retried every scan", i)
		}
	}
	b, _ := json.Marshal(p)
	for _, want := range []string{`"read_bytes_per_s":null`, `"rchar_per_s":null`, `"io_detail":"denied"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	own := liveScan(t, s, now.Add(time.Second), os.Getpid())
	if own.IODetail != model.DetailFresh || !own.RcharPerS.OK {
		t.Errorf("own process: io %q rchar/s %+v", own.IODetail, own.RcharPerS)
	}
	fmt.Printf("io-denied-check-ran: root's pid %s, own %s, %d refused files skipped\n", p.IODetail, own.IODetail, s.ioDeniedSkips)
}

// vmRSS reads VmRSS (bytes) from /proc/PID/status directly.
func vmRSS(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// RSS is exact: equal to VmRSS and to ps for idle children (a sleep, where
// stat's field 24 read 1,684 KiB against 1,796 KiB on this kernel, and a
// helper holding 64 MiB), and %MEM follows it.
func TestProcessScannerRSSExact(t *testing.T) {
	sleeper := startChild(t, "sleep", "100")
	holder := startMemChild(t, 64)
	s := liveScannerDemand(t, model.DemandSet{})
	now := time.Now()
	for _, pid := range []int{sleeper.Process.Pid, holder.Process.Pid} {
		liveScan(t, s, now, pid)
	}
	time.Sleep(200 * time.Millisecond) // let the per-CPU counters drift as they do
	now = now.Add(time.Second)
	procs, _, err := s.Scan(now)
	if procs == nil {
		t.Fatal(err)
	}
	for _, pid := range []int{sleeper.Process.Pid, holder.Process.Pid} {
		p, ok := procOf(procs, pid)
		if !ok {
			t.Fatalf("pid %d not scanned", pid)
		}
		status := vmRSS(t, pid)
		out, err := exec.Command("ps", "-o", "rss=", "-p", strconv.Itoa(pid)).Output()
		if err != nil {
			t.Fatal(err)
		}
		psKB, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			t.Fatalf("ps: %q", out)
		}
		t.Logf("pid %d (%s): RSS %d KiB, VmRSS %d KiB, ps %d KiB, %%MEM %.4f", pid, p.Comm, p.RSSBytes>>10, status>>10, psKB, p.MemPct)
		if p.RSSBytes != status || p.RSSBytes != psKB<<10 {
			t.Errorf("pid %d: RSS %d bytes, VmRSS %d, ps %d KiB", pid, p.RSSBytes, status, psKB)
		}
		if want := float64(p.RSSBytes) / float64(s.memTotal) * 100; !closeTo(p.MemPct, want) {
			t.Errorf("pid %d: %%MEM %v, want %v", pid, p.MemPct, want)
		}
	}
}

// taskSwitches sums the context switches and run delay of every thread of
// pid from /proc/PID/task/*/{status,schedstat}.
func taskSwitches(t *testing.T, pid int) (vcs, nvcs, delayNS float64) {
	t.Helper()
	dirs, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("tasks of %d: %v", pid, err)
	}
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/status")
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			k, v, _ := strings.Cut(line, ":")
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			switch k {
			case "voluntary_ctxt_switches":
				vcs += n
			case "nonvoluntary_ctxt_switches":
				nvcs += n
			}
		}
		b, err = os.ReadFile(d + "/schedstat")
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(string(b)); len(f) == 3 {
			n, _ := strconv.ParseFloat(f[1], 64)
			delayNS += n
		}
	}
	return vcs, nvcs, delayNS
}

// stopped stops (or continues) pid with every thread, waiting until all
// are in state T, so its counters stand still while both sides read them.
func setStopped(t *testing.T, pid int, stop bool) {
	t.Helper()
	if !stop {
		syscall.Kill(pid, syscall.SIGCONT)
		return
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		dirs, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		all := len(dirs) > 0
		for _, d := range dirs {
			b, _ := os.ReadFile(d)
			if i := strings.LastIndexByte(string(b), ')'); i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
				all = false
			}
		}
		if all {
			time.Sleep(20 * time.Millisecond) // the last switch out is counted after the state is set
			return
		}
	}
	t.Fatal("child did not stop")
}

// A multi-threaded process whose threads wake some 160 times a
// second but use less CPU than a tick: its switches and wait are those of
// all its threads, as the test sums them from /proc/PID/task over the same
// stretches (the child is stopped at both ends of each, so the counters
// stand still while both sides read them). A scanner that trusted CPU
// ticks showed the leader's alone, 0 here, in intervals without a tick.
func TestProcessScannerThreadSwitchesLive(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("no perl for a threaded child")
	}
	// Perl threads are plain threads: no runtime of its own waking them.
	child := exec.Command("perl", "-Mthreads", "-MTime::HiRes=sleep", "-e",
		`$| = 1; threads->create(sub { sleep 0.025 while 1 })->detach for 1..4; print "ready\n"; <STDIN>`)
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); child.Process.Kill(); child.Wait() })
	pid := child.Process.Pid
	expectLine(t, bufio.NewReader(out), "ready")
	s := liveScannerDemand(t, model.DemandSet{})
	if s.groupRunTime == nil {
		t.Fatal("/proc is this namespace's procfs, yet no process CPU clock")
	}
	now := time.Now()
	setStopped(t, pid, true)
	vcs0, nvcs0, delay0 := taskSwitches(t, pid)
	liveScan(t, s, now, pid)
	noTick := 0
	const intervals = 4
	for i := range intervals {
		setStopped(t, pid, false)
		time.Sleep(time.Second)
		setStopped(t, pid, true)
		vcs1, nvcs1, delay1 := taskSwitches(t, pid)
		now = now.Add(time.Second)
		ticks := s.byPID[int32(pid)].utime + s.byPID[int32(pid)].stime
		p := liveScan(t, s, now, pid)
		if p.CPUTimeTicks == ticks {
			noTick++
		}
		t.Logf("interval %d: threads %d, %d CPU ticks: cswch/s %.0f nvcswch/s %.0f wait %+v; /proc/%d/task: %.0f %.0f %.4f%%",
			i, p.Threads, p.CPUTimeTicks-ticks, p.VoluntaryCSPerS, p.InvoluntaryCSPerS, p.WaitPct, pid,
			vcs1-vcs0, nvcs1-nvcs0, (delay1-delay0)/1e7)
		if p.Threads != 5 {
			t.Fatalf("%d threads, want the leader and 4 sleepers", p.Threads)
		}
		if d := vcs1 - vcs0; d < 80 || p.VoluntaryCSPerS != d || p.InvoluntaryCSPerS != nvcs1-nvcs0 {
			t.Errorf("interval %d: cswch/s %.0f nvcswch/s %.0f over 1 s; the threads' counters moved %.0f and %.0f",
				i, p.VoluntaryCSPerS, p.InvoluntaryCSPerS, d, nvcs1-nvcs0)
		}
		if want := (delay1 - delay0) / 1e7; !p.WaitPct.OK || !closeTo(p.WaitPct.V, want) {
			t.Errorf("interval %d: wait %+v, the threads waited %.4f%% of the second", i, p.WaitPct, want)
		}
		vcs0, nvcs0, delay0 = vcs1, nvcs1, delay1
	}
	t.Logf("%d of %d intervals without a CPU tick", noTick, intervals)

	// Stopped, nothing runs: zero, known, and no thread is read.
	now = now.Add(time.Second)
	if p := liveScan(t, s, now, pid); p.VoluntaryCSPerS != 0 || p.InvoluntaryCSPerS != 0 || p.WaitPct != model.Known(0) {
		t.Errorf("stopped: cswch/s %v nvcswch/s %v wait %+v", p.VoluntaryCSPerS, p.InvoluntaryCSPerS, p.WaitPct)
	}
	if ps := s.byPID[int32(pid)]; ps.threadsGen != s.gen {
		t.Error("thread baselines not carried through a scan in which nothing ran")
	}
	setStopped(t, pid, false)
}

// A process born 1.05 s into a 2 s interval that burnt 0.5 s of CPU: 25 %
// of a CPU over the interval (pidstat), not 53 % over the 0.95 s it lived;
// its faults, switches and wait likewise.
func TestProcessScannerBornInInterval(t *testing.T) {
	root := t.TempDir()
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: root, PasswdPath: "/nonexistent", BootTime: scanBoot, ClockTicks: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeFakeProc(t, root, 10, 100, 5, 5, []fakeThread{{10, 1, 0, 0}})
	if _, _, err := s.Scan(scanBoot.Add(1000 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// Born at 1001.05 s (100105 ticks): utime 40 + stime 10 = 0.5 s; 30
	// voluntary and 10 involuntary switches, 0.2 s of run delay.
	writeFakeProc(t, root, 11, 100105, 40, 10, []fakeThread{{11, 30, 2e8, 10}})
	procs, _, err := s.Scan(scanBoot.Add(1002 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	p := byPID(procs)[11]
	if !closeTo(p.CPUPct, 25) || !closeTo(p.UserPct, 20) || !closeTo(p.SystemPct, 5) ||
		!closeTo(p.VoluntaryCSPerS, 15) || !closeTo(p.InvoluntaryCSPerS, 5) || p.WaitPct != model.Known(10) {
		t.Errorf("born in the interval: cpu %v (user %v system %v) cswch/s %v nvcswch/s %v wait %+v; want 25 (20, 5), 15, 5, 10",
			p.CPUPct, p.UserPct, p.SystemPct, p.VoluntaryCSPerS, p.InvoluntaryCSPerS, p.WaitPct)
	}
}

// /proc/PID/io rates on a fixture tree, hand-computed: over the interval,
// zero without reading for a process that did not run, unknown across a
// counter that went backwards, whole counters for a process born in the
// interval, unknown for fields a kernel does not have.
func TestProcessScannerIOFixture(t *testing.T) {
	root := t.TempDir()
	demand := &model.Demand{}
	demand.Set(model.DemandSet{IO: true})
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: root, PasswdPath: "/nonexistent", BootTime: scanBoot, ClockTicks: 100, Demand: demand})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeIO := func(pid int32, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, strconv.Itoa(int(pid)), "io"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	io7 := func(rchar, wchar, syscr, syscw, read, write, cancelled uint64) string {
		return fmt.Sprintf("rchar: %d\nwchar: %d\nsyscr: %d\nsyscw: %d\nread_bytes: %d\nwrite_bytes: %d\ncancelled_write_bytes: %d\n",
			rchar, wchar, syscr, syscw, read, write, cancelled)
	}
	scan := func(sec float64) map[int32]model.Process {
		t.Helper()
		procs, _, err := s.Scan(scanBoot.Add(time.Duration(sec * float64(time.Second))))
		if err != nil {
			t.Fatal(err)
		}
		return byPID(procs)
	}
	k := model.Known
	check := func(step string, p model.Process, detail string, want model.ProcessIORates) {
		t.Helper()
		if p.IODetail != detail || p.ProcessIORates != want {
			t.Errorf("%s pid %d: io %q %+v\nwant %q %+v", step, p.PID, p.IODetail, p.ProcessIORates, detail, want)
		}
	}

	writeFakeProc(t, root, 10, 100, 5, 5, []fakeThread{{10, 1, 0, 0}})
	writeIO(10, io7(1000, 0, 10, 0, 0, 0, 0))
	// Only rchar, wchar, syscr and syscw (no CONFIG_TASK_IO_ACCOUNTING).
	writeFakeProc(t, root, 12, 100, 5, 5, []fakeThread{{12, 1, 0, 0}})
	writeIO(12, "rchar: 100\nwchar: 100\nsyscr: 1\nsyscw: 1\n")
	scan(1000)

	// 2 s later: 10 ran and did I/O; 12 too; 11 was born at 1001 s.
	writeFakeProc(t, root, 10, 100, 5, 5, []fakeThread{{10, 2, 0, 0}})
	writeIO(10, io7(1000+8192, 4096, 12, 1, 4096, 8192, 4096))
	writeFakeProc(t, root, 12, 100, 5, 5, []fakeThread{{12, 2, 0, 0}})
	writeIO(12, "rchar: 300\nwchar: 500\nsyscr: 3\nsyscw: 5\n")
	writeFakeProc(t, root, 11, 100100, 1, 0, []fakeThread{{11, 1, 0, 0}})
	writeIO(11, io7(2000, 0, 2, 0, 0, 0, 0))
	got := scan(1002)
	check("ran", got[10], model.DetailFresh, model.ProcessIORates{RcharPerS: k(4096), WcharPerS: k(2048), SyscrPerS: k(1), SyscwPerS: k(0.5),
		ReadBytesPerS: k(2048), WriteBytesPerS: k(4096), CancelledWriteBytesPerS: k(2048)})
	check("born", got[11], model.DetailFresh, model.ProcessIORates{RcharPerS: k(1000), WcharPerS: k(0), SyscrPerS: k(1), SyscwPerS: k(0),
		ReadBytesPerS: k(0), WriteBytesPerS: k(0), CancelledWriteBytesPerS: k(0)})
	check("no block I/O fields", got[12], model.DetailFresh, model.ProcessIORates{RcharPerS: k(100), WcharPerS: k(200), SyscrPerS: k(1), SyscwPerS: k(2)})
	if s.ioReads != 3 {
		t.Errorf("%d io files read, want 3", s.ioReads)
	}

	// 10 did not run (schedstat unchanged): zero, and the file, changed
	// behind its back here, is not read.
	writeIO(10, io7(1<<30, 1<<30, 1<<30, 1<<30, 1<<30, 1<<30, 1<<30))
	got = scan(1003)
	zero := model.ProcessIORates{RcharPerS: k(0), WcharPerS: k(0), SyscrPerS: k(0), SyscwPerS: k(0),
		ReadBytesPerS: k(0), WriteBytesPerS: k(0), CancelledWriteBytesPerS: k(0)}
	check("idle", got[10], model.DetailFresh, zero)
	if s.ioReads != 0 {
		t.Errorf("%d io files read for idle processes", s.ioReads)
	}

	// It ran, and rchar went backwards: a reset, unknown, not a huge rate.
	writeFakeProc(t, root, 10, 100, 5, 5, []fakeThread{{10, 3, 0, 0}})
	writeIO(10, io7(5, 4096+1024, 12, 1, 4096, 8192, 4096))
	got = scan(1004)
	want := zero
	want.RcharPerS, want.WcharPerS = model.Unknown, k(1024)
	check("reset", got[10], model.DetailFresh, want)
}

// waitSchedstatSettled waits until pid's schedstat stops changing (it sleeps).
func waitSchedstatSettled(t *testing.T, pid int) {
	t.Helper()
	path := fmt.Sprintf("/proc/%d/schedstat", pid)
	prev, _ := os.ReadFile(path)
	stable := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		cur, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(cur) == string(prev) {
			if stable++; stable >= 5 {
				return
			}
		} else {
			stable = 0
		}
		prev = cur
	}
	t.Fatalf("%s never settled", path)
}
