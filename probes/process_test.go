package probes

import (
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// The fixtures proc-scan-t0 and proc-scan-t1 are hand-made; t1 is read 2 s
// after t0 with USER_HZ 100, so 200 ticks are one full CPU. Per pid:
//
//	1    systemd: utime 500→560, stime 300→340, minflt 1000→1400, majflt
//	     10→12, cswch 5000→5100, nvcswch 100→140, run_delay 1.0→1.3 s.
//	     It rewrites its argv in t1, which is not re-read (comm is the
//	     same), as the scanner reads cmdline only for new comms. Its RSS
//	     is 3000 pages in stat but 3100 in t1's statm, which is exact.
//	2    kthreadd: empty cmdline, nothing changes.
//	100  comm "a) (b\nc": utime +200 (one CPU), nvcswch +400, run_delay
//	     +0.1 s, uid 1000, nice 5.
//	101  comm with an ESC sequence, real uid 4242 (not in passwd),
//	     effective uid 0; idle.
//	102  execs: comm bash→python3 (same pid and start time), so its
//	     cmdline is read again; utime +100, stime +40, cswch +20,
//	     run_delay +0.04 s.
//	200  in t0 started at 50 s; in t1 the pid is reused by a process that
//	     started at 1000.5 s (0.5 s after the t0 scan), so its counters
//	     (utime 30, stime 15, cswch 30, nvcswch 3, minflt 300, run_delay
//	     0.15 s) are all of this interval, and divided by its 2 s as
//	     pidstat does (not by the 1.5 s it lived). Its cmdline changed too.
//	300  in t1 its status file is missing (exited mid-read): vanished.
//	301  only in t1, with an empty stat (the task is gone): vanished.
//	400  utime 1000→900 steps back (0), stime +20, minflt and cswch step
//	     back, nvcswch +10, run_delay 2.0→1.5 s (0).
//	500  java, 3 threads, busy (utime +300, stime +100). Leader cswch
//	     100→110. Threads: 500 cswch +10 nvcswch +2 run_delay +0.02 s;
//	     501 +400, +40, +0.1 s; 502 exits; 503 is born with 60, 6, 0.03 s.
//	     Summed: cswch 470, nvcswch 48, run_delay 0.15 s.
//	600  2 threads, no CPU tick in the interval, yet its threads ran: 600
//	     cswch 50→52, run_delay +0.02 s; 601 cswch and nvcswch 0→1000,
//	     run_delay +1 s. A fixture tree has no process CPU clock to say
//	     whether any thread ran, so threads are read: cswch 1002, nvcswch
//	     1000, run_delay 1.02 s (the leader alone would say 2, 0, 0.02 s).
var (
	scanBoot = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	scanT0   = scanBoot.Add(1000 * time.Second)
	scanT1   = scanBoot.Add(1002 * time.Second)
)

// scanStage replaces the contents of root (not root itself, which the
// scanner holds open) with a copy of a fixture tree.
func scanStage(t testing.TB, root, fixture string) {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", fixture))); err != nil {
		t.Fatal(err)
	}
}

func newFixtureScanner(t testing.TB, fixture string) (*ProcessScanner, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "proc")
	scanStage(t, root, fixture)
	s, err := NewProcessScanner(ProcessScannerConfig{
		ProcRoot:   root,
		PasswdPath: filepath.Join("testdata", "proc-scan-etc", "passwd"),
		BootTime:   scanBoot,
		ClockTicks: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, root
}

func byPID(procs []model.Process) map[int32]model.Process {
	m := make(map[int32]model.Process, len(procs))
	for _, p := range procs {
		m[p.PID] = p
	}
	return m
}

func closeTo(got, want float64) bool { return math.Abs(got-want) < 1e-6 }

// checkProc compares the fields of want that the test cares about.
type procWant struct {
	cpu, user, sys    float64
	wait              model.Float
	vcs, nvcs         float64
	minflt, majflt    float64
	cmdline, user_    string
	comm, state       string
	threads           int32
	cpuTicks          uint64
	startTicks        uint64
	startOffset       time.Duration // StartTime - boot
	uid               uint32
	nice, ppid, procr int32
	rssPages, vsz     uint64
}

func checkProc(t *testing.T, got model.Process, w procWant) {
	t.Helper()
	pid := got.PID
	num := func(name string, g, w float64) {
		t.Helper()
		if !closeTo(g, w) {
			t.Errorf("pid %d %s = %v, want %v", pid, name, g, w)
		}
	}
	num("CPUPct", got.CPUPct, w.cpu)
	num("UserPct", got.UserPct, w.user)
	num("SystemPct", got.SystemPct, w.sys)
	num("VoluntaryCSPerS", got.VoluntaryCSPerS, w.vcs)
	num("InvoluntaryCSPerS", got.InvoluntaryCSPerS, w.nvcs)
	num("MinFltPerS", got.MinFltPerS, w.minflt)
	num("MajFltPerS", got.MajFltPerS, w.majflt)
	if got.WaitPct.OK != w.wait.OK || !closeTo(got.WaitPct.V, w.wait.V) {
		t.Errorf("pid %d WaitPct = %+v, want %+v", pid, got.WaitPct, w.wait)
	}
	str := func(name, g, w string) {
		t.Helper()
		if g != w {
			t.Errorf("pid %d %s = %q, want %q", pid, name, g, w)
		}
	}
	str("Cmdline", got.Cmdline, w.cmdline)
	str("User", got.User, w.user_)
	str("Comm", got.Comm, w.comm)
	str("State", got.State, w.state)
	if got.Threads != w.threads || got.CPUTimeTicks != w.cpuTicks || got.StartTicks != w.startTicks ||
		got.UID != w.uid || got.Nice != w.nice || got.PPID != w.ppid || got.Processor != w.procr {
		t.Errorf("pid %d: threads %d ticks %d start %d uid %d nice %d ppid %d cpu %d; want %d %d %d %d %d %d %d",
			pid, got.Threads, got.CPUTimeTicks, got.StartTicks, got.UID, got.Nice, got.PPID, got.Processor,
			w.threads, w.cpuTicks, w.startTicks, w.uid, w.nice, w.ppid, w.procr)
	}
	if want := scanBoot.Add(w.startOffset); !got.StartTime.Equal(want) {
		t.Errorf("pid %d StartTime = %v, want %v", pid, got.StartTime, want)
	}
	page := uint64(os.Getpagesize())
	if got.RSSBytes != w.rssPages*page || got.VSZBytes != w.vsz {
		t.Errorf("pid %d RSS %d VSZ %d, want %d %d", pid, got.RSSBytes, got.VSZBytes, w.rssPages*page, w.vsz)
	}
}

func TestProcessScannerFixtures(t *testing.T) {
	s, root := newFixtureScanner(t, "proc-scan-t0")
	procs, scan, err := s.Scan(scanT0)
	if err != nil {
		t.Fatal(err)
	}
	if procs != nil {
		t.Fatalf("baseline scan returned %d processes, want nil", len(procs))
	}
	if scan.Processes != 10 || scan.Vanished != 0 || scan.Threads != 13 {
		t.Errorf("baseline scan = %+v, want 10 processes, 0 vanished, 13 threads", scan)
	}

	scanStage(t, root, "proc-scan-t1")
	procs, scan, err = s.Scan(scanT1)
	if err != nil {
		t.Fatal(err)
	}
	if scan.Processes != 9 || scan.Vanished != 2 || scan.Threads != 12 || len(procs) != 9 {
		t.Errorf("scan = %+v with %d processes, want 9 processes, 2 vanished, 12 threads", scan, len(procs))
	}
	if scan.Duration <= 0 {
		t.Errorf("scan duration %v ms", scan.Duration)
	}
	// pids 2 and 101 did not run (schedstat run time and switch-ins
	// unchanged): their status is known unchanged and not read.
	if scan.StatusSkipped != 2 {
		t.Errorf("status reads skipped = %d, want 2 (pids 2 and 101)", scan.StatusSkipped)
	}
	got := byPID(procs)
	for _, gone := range []int32{300, 301} {
		if _, ok := got[gone]; ok {
			t.Errorf("pid %d vanished mid-read but is listed", gone)
		}
	}
	wants := map[int32]procWant{
		1: {cpu: 50, user: 30, sys: 20, wait: model.Known(15), vcs: 50, nvcs: 20, minflt: 200, majflt: 1,
			cmdline: "/sbin/init splash", user_: "root", comm: "systemd", state: "S", threads: 1,
			cpuTicks: 900, startTicks: 1, startOffset: 10 * time.Millisecond, rssPages: 3100, vsz: 170000000},
		2: {wait: model.Known(0), cmdline: "[kthreadd]", user_: "root", comm: "kthreadd", state: "S", threads: 1,
			cpuTicks: 5},
		100: {cpu: 100, user: 100, wait: model.Known(5), nvcs: 200, cmdline: "./weird arg with space",
			user_: "alice", comm: "a) (b\nc", state: "R", threads: 1, cpuTicks: 10300, startTicks: 50000,
			startOffset: 500 * time.Second, uid: 1000, nice: 5, ppid: 1, rssPages: 100, vsz: 10000000},
		101: {wait: model.Known(0), cmdline: "\x1b[31mred --color", user_: "4242", comm: "\x1b[31mred", state: "S",
			threads: 1, cpuTicks: 10, startTicks: 60000, startOffset: 600 * time.Second, uid: 4242, ppid: 1,
			rssPages: 100, vsz: 10000000},
		102: {cpu: 70, user: 50, sys: 20, wait: model.Known(2), vcs: 10, cmdline: "python3 script.py",
			user_: "root", comm: "python3", state: "S", threads: 1, cpuTicks: 200, startTicks: 65000,
			startOffset: 650 * time.Second, ppid: 1, rssPages: 100, vsz: 10000000},
		// A new process: its counters are its deltas (not compared with the
		// old pid 200's larger ones), over the whole 2 s interval.
		200: {cpu: 22.5, user: 15, sys: 7.5, wait: model.Known(7.5), vcs: 15, nvcs: 1.5, minflt: 150,
			cmdline: "worker --new", user_: "alice", comm: "worker", state: "R", threads: 1, cpuTicks: 45,
			startTicks: 100050, startOffset: 1000500 * time.Millisecond, uid: 1000, ppid: 1, rssPages: 100, vsz: 10000000},
		400: {cpu: 10, sys: 10, wait: model.Known(0), nvcs: 5, cmdline: "backwards", user_: "root", comm: "backwards",
			state: "S", threads: 1, cpuTicks: 1420, startTicks: 70000, startOffset: 700 * time.Second, ppid: 1,
			rssPages: 100, vsz: 10000000},
		500: {cpu: 200, user: 150, sys: 50, wait: model.Known(7.5), vcs: 235, nvcs: 24, cmdline: "java -jar app.jar",
			user_: "alice", comm: "java", state: "S", threads: 3, cpuTicks: 4400, startTicks: 80000,
			startOffset: 800 * time.Second, uid: 1000, ppid: 1, rssPages: 100, vsz: 10000000},
		600: {wait: model.Known(51), vcs: 501, nvcs: 500, cmdline: "idle-mt", user_: "root", comm: "idle-mt", state: "S",
			threads: 2, cpuTicks: 20, startTicks: 90000, startOffset: 900 * time.Second, ppid: 1,
			rssPages: 100, vsz: 10000000},
	}
	for pid, w := range wants {
		p, ok := got[pid]
		if !ok {
			t.Errorf("pid %d missing", pid)
			continue
		}
		checkProc(t, p, w)
	}
}

// The baseline frame has the rows (identity, state, memory) with rates
// zero and marked as not measured yet; the next has the rates.
func TestProcessScannerSamplePublishesAfterBaseline(t *testing.T) {
	s, root := newFixtureScanner(t, "proc-scan-t0")
	if s.Name() != "process" {
		t.Errorf("Name() = %q", s.Name())
	}
	store := model.NewStore(model.Host{}, 2, 10)
	if err := publish(s, scanT0, store); err != nil {
		t.Fatal(err)
	}
	base := store.Snapshot().Sample
	if !base.ProcessScan.Baseline || len(base.Processes) == 0 || len(base.Processes) != base.ProcessScan.Processes {
		t.Fatalf("baseline frame: %d processes, scan %+v", len(base.Processes), base.ProcessScan)
	}
	for _, p := range base.Processes {
		if p.Comm == "" || p.User == "" || p.State == "" || p.CPUPct != 0 || p.WaitPct.OK || p.VoluntaryCSPerS != 0 {
			t.Errorf("baseline row %+v: want identity and memory, rates zero and wait unknown", p)
		}
	}
	scanStage(t, root, "proc-scan-t1")
	if err := publish(s, scanT1, store); err != nil {
		t.Fatal(err)
	}
	snap := store.Snapshot()
	if snap.Sample.ProcessScan.Baseline || len(snap.Sample.Processes) != 9 || snap.Sample.ProcessScan.Processes != 9 ||
		snap.Sample.ProcessScan.Vanished != 2 || !snap.Sample.Time.Equal(scanT1) {
		t.Errorf("published %d processes, scan %+v, time %v", len(snap.Sample.Processes),
			snap.Sample.ProcessScan, snap.Sample.Time)
	}
}

// A second scan of an unchanged tree: state carries over, nothing is re-read
// as new, and processes that disappear from the tree are forgotten.
func TestProcessScannerForgetsExited(t *testing.T) {
	s, root := newFixtureScanner(t, "proc-scan-t0")
	if _, _, err := s.Scan(scanT0); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "100")); err != nil {
		t.Fatal(err)
	}
	procs, _, err := s.Scan(scanT0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := byPID(procs)[100]; ok {
		t.Error("removed pid 100 still listed")
	}
	if len(s.procs) != 9 {
		t.Errorf("scanner keeps state for %d processes, want 9", len(s.procs))
	}
	for key := range s.procs {
		if key.PID == 100 {
			t.Error("state of exited pid 100 kept")
		}
	}
	// Thread baselines live in the process's state and go with it.
}

// fakeThread is one thread of a process that writeFakeProc writes.
type fakeThread struct {
	tid           int32
	vcs, runDelay uint64
	nvcs          uint64
}

// writeFakeProc writes a process into a fixture tree and returns the CPU
// time of all its threads in ns, as the process CPU clock would say. As in
// the kernel, a thread's schedstat run time and switch-ins move whenever its
// switch counters do (the scanner relies on that to skip unchanged status
// files); the leader's also moves with utime and stime.
func writeFakeProc(t *testing.T, root string, pid int32, start, utime, stime uint64, threads []fakeThread) uint64 {
	t.Helper()
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	status := func(vcs, nvcs uint64) string {
		return fmt.Sprintf("Name:\tx\nUid:\t0\t0\t0\t0\nvoluntary_ctxt_switches:\t%d\nnonvoluntary_ctxt_switches:\t%d\n", vcs, nvcs)
	}
	write(fmt.Sprintf("%d/stat", pid), fmt.Sprintf("%d (p%d) S 1 1 1 0 -1 0 0 0 0 0 %d %d 0 0 20 0 %d 0 %d 1000 10 1 1 1 1 1 1 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		pid, pid, utime, stime, len(threads), start))
	write(fmt.Sprintf("%d/status", pid), status(threads[0].vcs, threads[0].nvcs))
	write(fmt.Sprintf("%d/cmdline", pid), fmt.Sprintf("p%d\x00", pid))
	var group uint64
	for i, th := range threads {
		run := 1 + th.vcs + th.nvcs
		if i == 0 {
			run += utime + stime
		}
		group += run
		sched := fmt.Sprintf("%d %d %d\n", run, th.runDelay, 1+th.vcs+th.nvcs)
		if i == 0 {
			write(fmt.Sprintf("%d/schedstat", pid), sched)
		}
		write(fmt.Sprintf("%d/task/%d/status", pid, th.tid), status(th.vcs, th.nvcs))
		write(fmt.Sprintf("%d/task/%d/schedstat", pid, th.tid), sched)
	}
	return group
}

// TestProcessScannerThreadModes walks multi-threaded processes through
// intervals in which a thread ran without using a CPU tick, nothing ran,
// and a process gained threads, with the process CPU clock faked from the
// tree, plus how new and old first-seen processes are rated.
func TestProcessScannerThreadModes(t *testing.T) {
	root := t.TempDir()
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: root, PasswdPath: "/nonexistent", BootTime: scanBoot, ClockTicks: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	groupRun := map[int32]uint64{}
	s.groupRunTime = func(pid int32) (uint64, bool) {
		v, ok := groupRun[pid]
		return v, ok
	}
	proc := func(pid int32, start, utime, stime uint64, threads []fakeThread) {
		t.Helper()
		groupRun[pid] = writeFakeProc(t, root, pid, start, utime, stime, threads)
	}
	at := func(sec float64) time.Time { return scanBoot.Add(time.Duration(sec * float64(time.Second))) }
	scan := func(sec float64) map[int32]model.Process {
		t.Helper()
		procs, _, err := s.Scan(at(sec))
		if err != nil {
			t.Fatal(err)
		}
		return byPID(procs)
	}
	type want struct {
		cpu, vcs, nvcs float64
		wait           model.Float
	}
	check := func(scanName string, got model.Process, w want) {
		t.Helper()
		if !closeTo(got.CPUPct, w.cpu) || !closeTo(got.VoluntaryCSPerS, w.vcs) || !closeTo(got.InvoluntaryCSPerS, w.nvcs) ||
			got.WaitPct.OK != w.wait.OK || !closeTo(got.WaitPct.V, w.wait.V) {
			t.Errorf("scan %s pid %d: cpu %v cswch %v nvcswch %v wait %+v; want %+v",
				scanName, got.PID, got.CPUPct, got.VoluntaryCSPerS, got.InvoluntaryCSPerS, got.WaitPct, w)
		}
	}

	// A, 100 s: baseline. Every thread is read (first seen).
	proc(700, 1000, 100, 0, []fakeThread{{700, 10, 0, 1}, {701, 0, 0, 0}})
	scan(100)
	// B, 101 s: no CPU tick, but thread 701 switched 500 times and waited
	// 0.5 s for a CPU. The process clock moved, so the threads are read
	// and summed (the leader alone: 0 switches).
	proc(700, 1000, 100, 0, []fakeThread{{700, 10, 0, 1}, {701, 500, 5e8, 0}})
	check("B", scan(101)[700], want{vcs: 500, wait: model.Known(50)})
	// C, 102 s: nothing ran, the clock stands still: the rates are zero
	// and the thread baselines stay current without reading a thread (the
	// task directory is moved away to prove it).
	task := filepath.Join(root, "700", "task")
	if err := os.Rename(task, task+".away"); err != nil {
		t.Fatal(err)
	}
	check("C", scan(102)[700], want{wait: model.Known(0)})
	if err := os.Rename(task+".away", task); err != nil {
		t.Fatal(err)
	}
	// D, 103 s: busy; the baselines carried through C are B's, so the
	// deltas are of this interval: cswch 10+100, nvcswch 3, wait 0.01 s
	// + 0.1 s. Two processes appear: 800 started long before C (not
	// rated), 801 at 102.5 s (rated over the whole 1 s interval).
	proc(700, 1000, 150, 0, []fakeThread{{700, 20, 1e7, 1}, {701, 600, 6e8, 3}})
	proc(800, 500, 1000, 0, []fakeThread{{800, 99, 1e9, 9}})
	proc(801, 10250, 25, 5, []fakeThread{{801, 10, 5e7, 4}})
	proc(900, 600, 10, 0, []fakeThread{{900, 40, 1e7, 0}})
	got := scan(103)
	check("D", got[700], want{cpu: 50, vcs: 110, nvcs: 3, wait: model.Known(11)})
	check("D", got[800], want{})
	check("D", got[801], want{cpu: 30, vcs: 10, nvcs: 4, wait: model.Known(5)})
	// E, 104 s: 900 had one thread in D and has two now: the leader's D
	// counters are its thread's baseline (+5 switches, +0.01 s), the new
	// thread counts whole (7, 0.02 s).
	proc(900, 600, 10, 0, []fakeThread{{900, 45, 2e7, 0}, {901, 7, 2e7, 0}})
	check("E", scan(104)[900], want{vcs: 12, wait: model.Known(3)})
	// F, 105 s: 700 has exited and its thread id 701 is reused as the pid
	// of a new two-thread process born at 104.5 s. Its thread 701 is not
	// 700's thread 701: all of its counters are its own, over the 1 s.
	if err := os.RemoveAll(filepath.Join(root, "700")); err != nil {
		t.Fatal(err)
	}
	proc(701, 10450, 10, 0, []fakeThread{{701, 5, 1e7, 0}, {702, 5, 1e7, 0}})
	check("F", scan(105)[701], want{cpu: 10, vcs: 10, wait: model.Known(2)})
}

// TestProcessScannerRealTree reads files captured from this kind of machine
// (kthreadd, and `sleep 12345` started by hand).
func TestProcessScannerRealTree(t *testing.T) {
	s, _ := newFixtureScanner(t, "proc-scan-real")
	if _, _, err := s.Scan(scanT0); err != nil {
		t.Fatal(err)
	}
	procs, scan, err := s.Scan(scanT1)
	if err != nil {
		t.Fatal(err)
	}
	if scan.Processes != 2 || scan.Threads != 2 {
		t.Errorf("scan %+v", scan)
	}
	got := byPID(procs)
	checkProc(t, got[2], procWant{wait: model.Known(0), cmdline: "[kthreadd]", user_: "root", comm: "kthreadd",
		state: "S", threads: 1, startTicks: 22, startOffset: 220 * time.Millisecond})
	checkProc(t, got[14240], procWant{wait: model.Known(0), cmdline: "sleep 12345", user_: "root", comm: "sleep",
		state: "S", threads: 1, startTicks: 61644, startOffset: 616440 * time.Millisecond, ppid: 14237,
		rssPages: 391, vsz: 2990080})
}

// Steady state: one allocation per scan, the returned slice. The bound is
// the exact count: a looser one once hid a comm string allocated on every
// scan for a process whose status could not be read.
func TestProcessScannerAllocs(t *testing.T) {
	s, _ := newFixtureScanner(t, "proc-scan-t1")
	now := scanT1
	for range 2 {
		now = now.Add(time.Second)
		if _, _, err := s.Scan(now); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(50, func() {
		now = now.Add(time.Second)
		if _, _, err := s.Scan(now); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%.1f allocations per scan of %d processes", allocs, len(s.procs))
	if allocs > 1 {
		t.Errorf("%.1f allocations per steady-state scan, want 1", allocs)
	}
}

// The same with a busy multi-threaded process, so every scan also lists and
// reads its task directory. The fixture changes between scans, outside the
// measured part.
func TestProcessScannerAllocsBusyThreads(t *testing.T) {
	s, root := newFixtureScanner(t, "proc-scan-t1")
	statPath := filepath.Join(root, "500", "stat")
	orig, err := os.ReadFile(statPath)
	if err != nil {
		t.Fatal(err)
	}
	const utimeField = " 3300 1100 "
	if !strings.Contains(string(orig), utimeField) {
		t.Fatalf("fixture changed: %q", orig)
	}
	now := scanT1
	var total uint64
	var mem runtime.MemStats
	const runs = 30
	for i := range runs + 2 {
		busier := strings.Replace(string(orig), utimeField, fmt.Sprintf(" %d 1100 ", 3300+10*(i+1)), 1)
		if err := os.WriteFile(statPath, []byte(busier), 0o644); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
		runtime.ReadMemStats(&mem)
		before := mem.Mallocs
		procs, _, err := s.Scan(now)
		runtime.ReadMemStats(&mem)
		if err != nil {
			t.Fatal(err)
		}
		if i >= 2 {
			total += mem.Mallocs - before
			if p := byPID(procs)[500]; !closeTo(p.CPUPct, 10) {
				t.Fatalf("pid 500 CPUPct %v, want 10: the busy path was not taken", p.CPUPct)
			}
		}
	}
	per := float64(total) / runs
	t.Logf("%.1f allocations per scan with a busy 3-thread process", per)
	if per > 1 {
		t.Errorf("%.1f allocations per steady-state scan, want 1", per)
	}
}

func TestProcessScannerErrors(t *testing.T) {
	if _, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/nonexistent/proc", ClockTicks: 100}); err == nil {
		t.Error("no error for a missing proc root")
	}
	if _, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "testdata", ClockTicks: 0}); err == nil {
		t.Error("no error for zero clock ticks")
	}
	// A malformed stat is reported (with the rest still scanned); a
	// missing one is a process that exited.
	s, root := newFixtureScanner(t, "proc-scan-t0")
	if err := os.WriteFile(filepath.Join(root, "2", "stat"), []byte("2 kthreadd S 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "1", "stat")); err != nil {
		t.Fatal(err)
	}
	_, scan, err := s.Scan(scanT0)
	if err == nil || !strings.Contains(err.Error(), "1 of 10 processes unreadable") || !strings.Contains(err.Error(), "/2/stat: malformed") {
		t.Errorf("error = %v", err)
	}
	if scan.Processes != 8 || scan.Vanished != 1 {
		t.Errorf("scan %+v, want 8 processes and 1 vanished", scan)
	}
}

func TestUserNames(t *testing.T) {
	u := newUserNames(filepath.Join("testdata", "proc-scan-etc", "passwd"))
	for uid, want := range map[uint32]string{0: "root", 1: "daemon", 1000: "alice", 65534: "nobody", 4242: "4242"} {
		if got := u.name(uid, 1); got != want {
			t.Errorf("name(%d) = %q, want %q", uid, got, want)
		}
	}
	// Known and already-converted unknown uids cost nothing.
	if allocs := testing.AllocsPerRun(10, func() { u.name(1000, 1); u.name(4242, 1) }); allocs != 0 {
		t.Errorf("%v allocations per cached lookup", allocs)
	}

	path := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(path, []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u = newUserNames(path)
	if got := u.name(5000, 1); got != "5000" {
		t.Fatalf("unknown uid: %q", got)
	}
	if err := os.WriteFile(path, []byte("root:x:0:0::/root:/bin/sh\ndave:x:5000:5000::/home/dave:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if got := u.name(5001, 1); got != "5001" { // this scan already looked at the file
		t.Errorf("second miss in one scan: %q", got)
	}
	if got := u.name(5001, 2); got != "5001" { // the next scan re-reads it...
		t.Errorf("uid 5001: %q", got)
	}
	if got := u.name(5000, 2); got != "dave" { // ...and drops the stale decimal
		t.Errorf("after the file changed: name(5000) = %q, want dave", got)
	}

	if got := newUserNames("/nonexistent/passwd").name(0, 1); got != "0" {
		t.Errorf("without a passwd file: %q", got)
	}
}

// liveBootTime reads btime from /proc/stat, as the host probe does.
func liveBootTime(t *testing.T) time.Time {
	t.Helper()
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Skip("no /proc/stat:", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			sec, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return time.Unix(sec, 0)
		}
	}
	t.Fatal("no btime in /proc/stat")
	return time.Time{}
}

func startChild(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// parsePidstatAverage reads pidstat's "Average:" sections into values by pid
// and column name (%CPU, %wait, cswch/s, ...).
func parsePidstatAverage(out string) map[int]map[string]float64 {
	res := map[int]map[string]float64{}
	var header []string
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "Average:" {
			continue
		}
		if slices.Contains(f, "PID") {
			header = f
			continue
		}
		if len(f) != len(header) {
			continue
		}
		var pid int
		vals := map[string]float64{}
		for i, col := range header {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if col == "PID" {
				pid = int(v)
			}
			vals[col] = v
		}
		if res[pid] == nil {
			res[pid] = map[string]float64{}
		}
		maps.Copy(res[pid], vals)
	}
	return res
}

// TestProcessScannerLive scans this machine twice, a second apart, with
// three children of known behaviour, and compares with pidstat (sysstat)
// run over the same second.
func TestProcessScannerLive(t *testing.T) {
	boot := liveBootTime(t)
	busy := startChild(t, "sh", "-c", "while :; do :; done")
	sleeper := startChild(t, "sleep", "100")
	// A single-threaded process that blocks about 1,000 times a second.
	var switcher *exec.Cmd
	if _, err := exec.LookPath("perl"); err == nil {
		switcher = startChild(t, "perl", "-e", "select(undef, undef, undef, 0.001) while 1")
	}
	// Four threads that each wake 40 times a second and use hardly any
	// CPU; the main thread sleeps, so pidstat -w shows 0 for the process
	// and pidstat -wt about 40 for each sleeper.
	var threaded *exec.Cmd
	if exec.Command("perl", "-Mthreads", "-e", "1").Run() == nil {
		threaded = startChild(t, "perl", "-Mthreads", "-MTime::HiRes=sleep", "-e",
			"threads->create(sub { sleep 0.025 while 1 })->detach for 1..4; sleep 1000")
	}
	time.Sleep(300 * time.Millisecond) // let them reach their loops

	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd", BootTime: boot, ClockTicks: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.bootClock {
		t.Error("/proc not recognised as procfs")
	}

	var pidstat *exec.Cmd
	var pidstatOut strings.Builder
	if path, err := exec.LookPath("pidstat"); err == nil {
		pids := strconv.Itoa(busy.Process.Pid)
		if switcher != nil {
			pids += "," + strconv.Itoa(switcher.Process.Pid)
		}
		pidstat = exec.Command(path, "-u", "-w", "-p", pids, "1", "1")
		pidstat.Env = append(os.Environ(), "LC_ALL=C")
		pidstat.Stdout = &pidstatOut
		if err := pidstat.Start(); err != nil {
			t.Fatal(err)
		}
	}
	var pidstatT *exec.Cmd
	var pidstatTOut strings.Builder
	if path, err := exec.LookPath("pidstat"); err == nil && threaded != nil {
		pidstatT = exec.Command(path, "-w", "-t", "-p", strconv.Itoa(threaded.Process.Pid), "1", "1")
		pidstatT.Env = append(os.Environ(), "LC_ALL=C")
		pidstatT.Stdout = &pidstatTOut
		if err := pidstatT.Start(); err != nil {
			t.Fatal(err)
		}
	}
	steal0 := stealShare(t)
	if _, _, err := s.Scan(time.Now()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	procs, scan, err := s.Scan(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	stealPct := stealShare(t).since(steal0)
	// run_delay grows only when a wait ends (the task is switched in), so
	// a reading mid-wait misses the wait under way and the next one counts
	// it whole. On an idle machine waits are microseconds; on one loaded
	// well past its CPUs (other test packages, other sessions) a single
	// wait can be hundreds of ms, and a 1 s window, ours or pidstat's, is
	// off by that much. The bounds widen with the load, and say so.
	loaded := loadPerCPU(t) > 2
	waitTol, sumLo := 5.0, 75.0
	if loaded {
		waitTol, sumLo = 20, 40
	}
	// Past 4 runnable tasks per CPU not even the CPU times of two tools
	// reading "the same second" agree (measured: 51 % against pidstat's
	// 78 % at load 33 on 2 CPUs): the comparisons are logged, not failed.
	mismatch := t.Errorf
	if perCPU := loadPerCPU(t); perCPU > 4 {
		mismatch = func(format string, args ...any) {
			t.Logf("not failed, load per CPU %.1f: "+format, append([]any{perCPU}, args...)...)
		}
	}
	t.Logf("steal over the interval: %.1f%% of the CPUs; load per CPU %.1f (tolerances widened: %v)", stealPct, loadPerCPU(t), loaded)
	if scan.Processes < 4 || scan.Threads < scan.Processes || len(procs) != scan.Processes {
		t.Errorf("scan %+v with %d processes", scan, len(procs))
	}
	got := byPID(procs)

	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	b, ok := got[int32(busy.Process.Pid)]
	if !ok {
		t.Fatal("busy child not found")
	}
	t.Logf("busy loop: cpu %.1f%% (user %.1f, system %.1f), wait %+v, nvcswch/s %.0f", b.CPUPct, b.UserPct, b.SystemPct, b.WaitPct, b.InvoluntaryCSPerS)
	if b.Comm != "sh" || b.Cmdline != "sh -c while :; do :; done" || b.User != me.Username ||
		b.PPID != int32(os.Getpid()) || b.State != "R" || b.Threads != 1 {
		mismatch("busy child: comm %q cmdline %q user %q ppid %d state %q threads %d",
			b.Comm, b.Cmdline, b.User, b.PPID, b.State, b.Threads)
	}
	if age := time.Since(b.StartTime); age < 0 || age > 10*time.Second {
		t.Errorf("busy child started %v ago", age)
	}
	// A CPU-bound loop is always either running or runnable, so CPU and
	// wait add up to about the whole interval even when other work (other
	// test packages run in parallel) competes for the two CPUs. Not
	// exactly: on a VM, time the hypervisor steals is in neither, and CPU
	// time is counted in 10 ms ticks. The exact check is the comparison
	// with pidstat over the same second, below; this one only catches
	// nonsense.
	if !b.WaitPct.OK {
		t.Error("busy child: wait unknown")
	}
	// Steal is measured over the same interval, as the machines' average;
	// the child's CPU may have lost more than the average, hence twice it.
	if sum, lo := b.CPUPct+b.WaitPct.V, sumLo-2*stealPct; sum < lo || sum > 105 {
		mismatch("busy child: cpu %.1f%% + wait %.1f%% = %.1f%%, want %.0f-105 (steal %.1f%%)", b.CPUPct, b.WaitPct.V, sum, lo, stealPct)
	}

	sl, ok := got[int32(sleeper.Process.Pid)]
	if !ok {
		t.Fatal("sleeping child not found")
	}
	if sl.CPUPct > 1 || !sl.WaitPct.OK || sl.State != "S" || sl.Cmdline != "sleep 100" {
		t.Errorf("sleeping child: cpu %.2f%% wait %+v state %q cmdline %q", sl.CPUPct, sl.WaitPct, sl.State, sl.Cmdline)
	}

	var sw model.Process
	if switcher != nil {
		if sw, ok = got[int32(switcher.Process.Pid)]; !ok {
			t.Fatal("switching child not found")
		}
		t.Logf("switching child: cswch/s %.0f nvcswch/s %.0f cpu %.1f%%", sw.VoluntaryCSPerS, sw.InvoluntaryCSPerS, sw.CPUPct)
		if sw.VoluntaryCSPerS < 200 {
			t.Errorf("switching child: %.0f voluntary switches/s, want hundreds", sw.VoluntaryCSPerS)
		}
	}

	if pidstat == nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pidstat not installed (apt-get install sysstat)")
		}
		t.Skip("pidstat not installed (apt-get install sysstat): not compared")
	}
	if err := pidstat.Wait(); err != nil {
		t.Fatalf("pidstat: %v\n%s", err, pidstatOut.String())
	}
	ref := parsePidstatAverage(pidstatOut.String())
	t.Logf("pidstat:\n%s", pidstatOut.String())
	pb, ok := ref[busy.Process.Pid]
	if !ok {
		t.Fatalf("busy child not in pidstat's output")
	}
	if d := b.CPUPct - pb["%CPU"]; d < -10 || d > 10 {
		mismatch("busy child: %%CPU %.1f, pidstat %.1f", b.CPUPct, pb["%CPU"])
	}
	if d := b.WaitPct.V - pb["%wait"]; d < -waitTol || d > waitTol {
		mismatch("busy child: %%wait %.1f, pidstat %.1f", b.WaitPct.V, pb["%wait"])
	}
	if d := b.InvoluntaryCSPerS - pb["nvcswch/s"]; d < -(20+0.2*pb["nvcswch/s"]) || d > 20+0.2*pb["nvcswch/s"] {
		mismatch("busy child: nvcswch/s %.0f, pidstat %.0f", b.InvoluntaryCSPerS, pb["nvcswch/s"])
	}
	if pidstatT != nil {
		if err := pidstatT.Wait(); err != nil {
			t.Fatalf("pidstat -wt: %v\n%s", err, pidstatTOut.String())
		}
		t.Logf("pidstat -wt:\n%s", pidstatTOut.String())
		// The thread rows of the Average section: TGID "-", then the TID.
		var sum float64
		threads := 0
		for line := range strings.Lines(pidstatTOut.String()) {
			if f := strings.Fields(line); len(f) == 7 && f[0] == "Average:" && f[2] == "-" {
				v, err := strconv.ParseFloat(f[4], 64)
				if err != nil {
					t.Fatalf("pidstat -wt line %q", line)
				}
				sum += v
				threads++
			}
		}
		th, ok := got[int32(threaded.Process.Pid)]
		if !ok || threads != 5 {
			t.Fatalf("threaded child: scanned %v, %d threads in pidstat -wt", ok, threads)
		}
		t.Logf("threaded child: cswch/s %.0f (cpu %.1f%%), pidstat -wt summed over %d threads %.0f", th.VoluntaryCSPerS, th.CPUPct, threads, sum)
		if d := th.VoluntaryCSPerS - sum; sum < 100 || d < -(10+0.1*sum) || d > 10+0.1*sum {
			mismatch("threaded child: cswch/s %.0f, pidstat -wt summed %.0f", th.VoluntaryCSPerS, sum)
		}
	}
	if switcher != nil {
		ps, ok := ref[switcher.Process.Pid]
		if !ok {
			t.Fatalf("switching child not in pidstat's output")
		}
		if d := sw.VoluntaryCSPerS - ps["cswch/s"]; d < -(10+0.1*ps["cswch/s"]) || d > 10+0.1*ps["cswch/s"] {
			t.Errorf("switching child: cswch/s %.0f, pidstat %.0f", sw.VoluntaryCSPerS, ps["cswch/s"])
		}
		if d := sw.CPUPct - ps["%CPU"]; d < -10 || d > 10 {
			t.Errorf("switching child: %%CPU %.1f, pidstat %.1f", sw.CPUPct, ps["%CPU"])
		}
	}
}

// cpuTotals is the all-CPU line of /proc/stat: steal and the total, ticks.
type cpuTotals struct{ steal, total uint64 }

func stealShare(t *testing.T) cpuTotals {
	t.Helper()
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var c cpuTotals
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		if i < 8 { // user..steal; guest is inside user
			c.total += n
		}
		if i == 7 {
			c.steal = n
		}
	}
	return c
}

// since is the steal share, in percent, between an earlier reading and c.
func (c cpuTotals) since(old cpuTotals) float64 {
	if c.total <= old.total {
		return 0
	}
	return float64(c.steal-old.steal) / float64(c.total-old.total) * 100
}

// loadPerCPU is the 1-minute load average over the online CPUs.
func loadPerCPU(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	load, _ := strconv.ParseFloat(f[0], 64)
	return load / float64(runtime.NumCPU())
}
