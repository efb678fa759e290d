package probes

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// The fixture proc-scan-mem holds two processes captured on this kind of
// machine (a perl holding two 8 MiB strings and a sleep, with their real
// smaps_rollup and cgroup files), the real kthreadd, hand-made processes and
// meminfo (MemTotal 24684084 kB). Expected values, in kB, read off the files:
//
//	pid    stat RSS     PSS     USS = Private_Clean+_Dirty  Shared = Shared_Clean+_Dirty  Swap  cgroup
//	26006  5282 pages   19886   2872+16832 = 19704          1576+0 = 1576                0     /process_api/8ab28e63d5a107a84b28f9c5b439716d (v1 memory line)
//	26007  408 pages    371     44+108 = 152                1652+0 = 1652                0     the same
//	300    408 pages    3000    512+1536 = 2048             1024+1024 = 2048             2048  /user.slice/user-1000.slice/session-3.scope (v2 only)
//	400    smaps_rollup is a directory (EISDIR): never read                                     v2 as 300
//	500    a zombie: vsize 0, no address space: zero, known without reading                     v2 as 300
//	600    smaps_rollup truncated before Swap (malformed): never read                            "" (no cgroup file)
//	2      kthreadd: vsize 0: zero, known without reading                                        / (v1 memory line)
//
// Every process but kthreadd started at tick 354642.
const memFixtureStart = 354642

func newMemFixtureScanner(t testing.TB, fixture string, edit func(*ProcessScannerConfig)) (*ProcessScanner, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "proc")
	scanStage(t, root, fixture)
	cfg := ProcessScannerConfig{
		ProcRoot:   root,
		PasswdPath: filepath.Join("testdata", "proc-scan-etc", "passwd"),
		BootTime:   scanBoot,
		ClockTicks: 100,
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewProcessScanner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, root
}

// memWant is a process's expected memory detail; sizes in kB.
type memWant struct {
	detail                 string
	pss, uss, shared, swap float64
	ageS                   float64
}

var (
	notRead  = memWant{detail: model.DetailNotRead}
	zeroKnow = memWant{detail: model.DetailFresh}
	perlMem  = memWant{detail: model.DetailFresh, pss: 19886, uss: 19704, shared: 1576}
	sleepMem = memWant{detail: model.DetailFresh, pss: 371, uss: 152, shared: 1652}
	swapMem  = memWant{detail: model.DetailFresh, pss: 3000, uss: 2048, shared: 2048, swap: 2048}
)

func (w memWant) stale(ageS float64) memWant {
	w.detail, w.ageS = model.DetailStale, ageS
	return w
}

func checkMem(t *testing.T, step string, got model.Process, w memWant) {
	t.Helper()
	known := w.detail == model.DetailFresh || w.detail == model.DetailStale
	ok := got.MemDetail == w.detail && closeTo(got.MemDetailAgeS, w.ageS)
	for _, f := range []struct {
		got  model.Float
		want float64
	}{{got.PSSBytes, w.pss}, {got.USSBytes, w.uss}, {got.SharedBytes, w.shared}, {got.SwapBytes, w.swap}} {
		if f.got.OK != known || (known && f.got.V != f.want*1024) {
			ok = false
		}
	}
	if !ok {
		t.Errorf("%s: pid %d memory detail %q age %v PSS %+v USS %+v shared %+v swap %+v; want %+v (kB)",
			step, got.PID, got.MemDetail, got.MemDetailAgeS, got.PSSBytes, got.USSBytes, got.SharedBytes, got.SwapBytes, w)
	}
}

// TestProcessScannerMemDetailDemand walks the fixture through the demand
// flow: nothing wanted, one key, none (stale), a stale key (a reused pid),
// all, and a file that vanished.
func TestProcessScannerMemDetailDemand(t *testing.T) {
	demand := &model.Demand{}
	s, root := newMemFixtureScanner(t, "proc-scan-mem", func(c *ProcessScannerConfig) { c.Demand = demand })
	at := func(sec int) time.Time { return scanT0.Add(time.Duration(sec) * time.Second) }
	scan := func(sec int) map[int32]model.Process {
		t.Helper()
		procs, _, err := s.Scan(at(sec))
		if err != nil {
			t.Fatal(err)
		}
		if len(procs) != 7 {
			t.Fatalf("scan at %d s: %d processes, want 7", sec, len(procs))
		}
		return byPID(procs)
	}
	check := func(step string, got map[int32]model.Process, reads int, want map[int32]memWant) {
		t.Helper()
		for pid, w := range want {
			checkMem(t, step, got[pid], w)
		}
		if s.smapsReads != reads {
			t.Errorf("%s: %d smaps_rollup reads, want %d", step, s.smapsReads, reads)
		}
	}
	perl := model.ProcKey{PID: 26006, StartTicks: memFixtureStart}

	// Demanded before the baseline: the baseline publishes nothing and
	// reads nothing.
	demand.Set(model.DemandSet{All: true})
	if procs, _, err := s.Scan(at(0)); procs != nil || err != nil {
		t.Fatalf("baseline: %d processes, %v", len(procs), err)
	}
	if s.smapsReads != 0 {
		t.Errorf("baseline read %d smaps_rollup files", s.smapsReads)
	}

	demand.Set(model.DemandSet{})
	got := scan(1)
	check("no demand", got, 0, map[int32]memWant{26006: notRead, 26007: notRead, 300: notRead, 400: notRead,
		600: notRead, 500: zeroKnow, 2: zeroKnow})
	for pid, want := range map[int32]string{26006: "/process_api/8ab28e63d5a107a84b28f9c5b439716d",
		26007: "/process_api/8ab28e63d5a107a84b28f9c5b439716d", 300: "/user.slice/user-1000.slice/session-3.scope",
		500: "/user.slice/user-1000.slice/session-3.scope", 600: "", 2: "/"} {
		if got[pid].Cgroup != want {
			t.Errorf("pid %d cgroup %q, want %q", pid, got[pid].Cgroup, want)
		}
	}

	demand.Set(model.DemandSet{Keys: []model.ProcKey{perl}})
	check("perl wanted", scan(2), 1, map[int32]memWant{26006: perlMem, 26007: notRead, 300: notRead, 500: zeroKnow, 2: zeroKnow})

	// The perl scrolled off screen; a key for pid 26007 with another start
	// time is another process (the pid's earlier user) and is not read.
	demand.Set(model.DemandSet{Keys: []model.ProcKey{{PID: 26007, StartTicks: 1}}})
	check("perl scrolled off", scan(3), 0, map[int32]memWant{26006: perlMem.stale(1), 26007: notRead})
	demand.Set(model.DemandSet{})
	check("two seconds later", scan(5), 0, map[int32]memWant{26006: perlMem.stale(3), 26007: notRead})

	// Sorting by a detail column wants every process. Unreadable (400) and
	// malformed (600) files leave the detail not read.
	demand.Set(model.DemandSet{All: true})
	check("all", scan(6), 3, map[int32]memWant{26006: perlMem, 26007: sleepMem, 300: swapMem, 400: notRead,
		600: notRead, 500: zeroKnow, 2: zeroKnow})

	// A file that is gone (the process exiting) keeps the last reading.
	if err := os.Remove(filepath.Join(root, "26007", "smaps_rollup")); err != nil {
		t.Fatal(err)
	}
	check("file gone", scan(7), 2, map[int32]memWant{26006: perlMem, 26007: sleepMem.stale(1), 300: swapMem})
}

// %MEM is RSS over MemTotal: from MemTotalBytes when set (called each
// scan), else from the tree's meminfo, else 0.
func TestProcessScannerMemPct(t *testing.T) {
	page := float64(os.Getpagesize())
	total := uint64(1 << 30)
	s, _ := newMemFixtureScanner(t, "proc-scan-mem", func(c *ProcessScannerConfig) {
		c.MemTotalBytes = func() uint64 { return total }
	})
	s.Scan(scanT0)
	for _, step := range []struct {
		total uint64
		want  float64 // for the perl, 5282 pages
	}{{1 << 30, 5282 * page / (1 << 30) * 100}, {2 << 30, 5282 * page / (2 << 30) * 100}, {0, 0}} {
		total = step.total
		procs, _, err := s.Scan(scanT1)
		if err != nil {
			t.Fatal(err)
		}
		got := byPID(procs)
		if p := got[26006]; !closeTo(p.MemPct, step.want) {
			t.Errorf("MemTotal %d: perl %%MEM %v, want %v", step.total, p.MemPct, step.want)
		}
		if p := got[2]; p.MemPct != 0 {
			t.Errorf("kthreadd %%MEM %v", p.MemPct)
		}
	}
	if step := 5282 * page / (1 << 30) * 100; page == 4096 && !closeTo(step, 2.0149230957) {
		t.Errorf("hand-computed %%MEM: %v", step)
	}

	// From meminfo: 5282 pages of 4 KiB over 24684084 kB = 0.0855938...%.
	s, _ = newMemFixtureScanner(t, "proc-scan-mem", nil)
	s.Scan(scanT0)
	procs, _, _ := s.Scan(scanT1)
	if got, want := byPID(procs)[26006].MemPct, 5282*page/(24684084*1024)*100; !closeTo(got, want) {
		t.Errorf("from meminfo: %%MEM %v, want %v", got, want)
	}
	// A tree without meminfo: unknown total, %MEM 0.
	s, _ = newMemFixtureScanner(t, "proc-scan-t0", nil)
	s.Scan(scanT0)
	procs, _, _ = s.Scan(scanT1)
	if got := byPID(procs)[1].MemPct; got != 0 {
		t.Errorf("without meminfo: %%MEM %v", got)
	}
}

// The cgroup is read when a process is first seen and kept: pid 1's file
// changes in t1 (not re-read), 102 execs (keeps it), and pid 200 is reused
// by a new process (read).
func TestProcessScannerCgroupFirstSeen(t *testing.T) {
	s, root := newFixtureScanner(t, "proc-scan-t0")
	s.Scan(scanT0)
	scanStage(t, root, "proc-scan-t1")
	procs, _, err := s.Scan(scanT1)
	if err != nil {
		t.Fatal(err)
	}
	got := byPID(procs)
	for pid, want := range map[int32]string{1: "/init.scope", 102: "/user.slice/before-exec.scope",
		200: "/user.slice/user-1000.slice/worker.scope", 100: ""} {
		if got[pid].Cgroup != want {
			t.Errorf("pid %d cgroup %q, want %q", pid, got[pid].Cgroup, want)
		}
	}
}

// Steady state with memory detail wanted: still one allocation per scan,
// whether a few keys or every process are read.
func TestProcessScannerAllocsDemand(t *testing.T) {
	for name, set := range map[string]model.DemandSet{
		"keys": {Keys: []model.ProcKey{{PID: 300, StartTicks: memFixtureStart}, {PID: 26006, StartTicks: memFixtureStart},
			{PID: 400, StartTicks: memFixtureStart}, {PID: 77, StartTicks: 1}}},
		"all": {All: true},
	} {
		t.Run(name, func(t *testing.T) {
			demand := &model.Demand{}
			demand.Set(set)
			s, _ := newMemFixtureScanner(t, "proc-scan-mem", func(c *ProcessScannerConfig) {
				c.Demand = demand
				c.MemTotalBytes = func() uint64 { return 1 << 30 }
			})
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
			t.Logf("%.1f allocations per scan reading %d smaps_rollup files", allocs, s.smapsReads)
			if s.smapsReads < 2 {
				t.Errorf("%d smaps_rollup reads per scan: the demand was not read", s.smapsReads)
			}
			if allocs > 1 {
				t.Errorf("%.1f allocations per steady-state scan, want 1", allocs)
			}
		})
	}
}

// memChildEnv makes the test binary a helper that maps and touches the given
// MiB of anonymous memory, says "ready" and waits for its stdin to close.
const memChildEnv = "VITALS_TEST_MEM_CHILD_MIB"

func TestMemoryChildHelper(t *testing.T) {
	v := os.Getenv(memChildEnv)
	if v == "" {
		return // only does something when TestProcessScannerMemoryLive runs it as its child
	}
	mib, err := strconv.Atoi(v)
	if err != nil {
		t.Fatal(err)
	}
	if mib > 0 {
		b, err := syscall.Mmap(-1, 0, mib<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
	}
	os.Stdout.WriteString("ready\n")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// startMemChild starts the helper holding mib MiB and waits until it has
// touched it.
func startMemChild(t *testing.T, mib int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryChildHelper$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", memChildEnv, mib))
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
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("memory child (%d MiB): %q, %v", mib, line, err)
	}
	return cmd
}

// smapsRollupKB reads /proc/PID/smaps_rollup directly: field name → kB.
func smapsRollupKB(t *testing.T, pid int) map[string]float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		t.Fatal(err)
	}
	kb := map[string]float64{}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 3 && f[2] == "kB" {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				t.Fatalf("smaps_rollup line %q", line)
			}
			kb[strings.TrimSuffix(f[0], ":")] = v
		}
	}
	return kb
}

func within(got, want, frac float64) bool { return got >= want*(1-frac) && got <= want*(1+frac) }

// TestProcessScannerMemoryLive compares two helpers, one holding 256 MiB
// more than the other, with the known difference, with smaps_rollup read
// directly and with ps.
func TestProcessScannerMemoryLive(t *testing.T) {
	const mib = 256
	base := startMemChild(t, 0)
	big := startMemChild(t, mib)
	demand := &model.Demand{}
	host, err := ReadHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd",
		BootTime: host.BootTime, ClockTicks: 100, Demand: demand})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.memTotal == 0 {
		t.Fatal("MemTotal not read from /proc/meminfo")
	}
	now := time.Now()
	scan := func() []model.Process {
		t.Helper()
		now = now.Add(time.Second)
		procs, _, err := s.Scan(now)
		if err != nil {
			t.Logf("scan: %v", err) // processes exiting meanwhile are not errors; others are reported, not fatal
		}
		return procs
	}
	scan()
	procs := scan()
	var keys []model.ProcKey
	for _, c := range []*exec.Cmd{base, big} {
		p, ok := procOf(procs, c.Process.Pid)
		if !ok {
			t.Fatalf("helper %d not scanned", c.Process.Pid)
		}
		if p.MemDetail != model.DetailNotRead || p.PSSBytes.OK {
			t.Errorf("helper %d before demand: %q %+v", p.PID, p.MemDetail, p.PSSBytes)
		}
		keys = append(keys, p.Key())
	}
	demand.Set(model.DemandSet{Keys: keys})
	procs = scan()
	p0, _ := procOf(procs, base.Process.Pid)
	p1, ok := procOf(procs, big.Process.Pid)
	if !ok {
		t.Fatal("helper gone")
	}
	direct := smapsRollupKB(t, big.Process.Pid)
	psOut, err := exec.Command("ps", "-o", "rss=,%mem=", "-p", strconv.Itoa(big.Process.Pid)).Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("0 MiB helper: RSS %d PSS %v USS %v; %d MiB helper: RSS %d PSS %v USS %v %%MEM %.3f; smaps_rollup %v kB; ps %q",
		p0.RSSBytes, p0.PSSBytes.V, p0.USSBytes.V, mib, p1.RSSBytes, p1.PSSBytes.V, p1.USSBytes.V, p1.MemPct,
		direct, strings.TrimSpace(string(psOut)))

	const want = mib << 20
	if d := float64(p1.RSSBytes) - float64(p0.RSSBytes); !within(d, want, 0.05) {
		t.Errorf("RSS difference %.0f bytes, want %d ± 5%%", d, want)
	}
	for _, p := range []model.Process{p0, p1} {
		if p.MemDetail != model.DetailFresh || !p.PSSBytes.OK || !p.USSBytes.OK || !p.SharedBytes.OK || !p.SwapBytes.OK {
			t.Fatalf("helper %d: detail %q PSS %+v USS %+v", p.PID, p.MemDetail, p.PSSBytes, p.USSBytes)
		}
	}
	if d := p1.PSSBytes.V - p0.PSSBytes.V; !within(d, want, 0.05) {
		t.Errorf("PSS difference %.0f bytes, want %d ± 5%%", d, want)
	}
	if d := p1.USSBytes.V - p0.USSBytes.V; !within(d, want, 0.05) {
		t.Errorf("USS difference %.0f bytes, want %d ± 5%%", d, want)
	}
	// The helper is idle: what the test reads a moment later is the same.
	if !within(p1.PSSBytes.V, direct["Pss"]*1024, 0.01) ||
		!within(p1.USSBytes.V, (direct["Private_Clean"]+direct["Private_Dirty"])*1024, 0.01) ||
		!within(p1.SharedBytes.V, (direct["Shared_Clean"]+direct["Shared_Dirty"])*1024, 0.01) ||
		p1.SwapBytes.V != direct["Swap"]*1024 {
		t.Errorf("scanner PSS %v USS %v shared %v swap %v; smaps_rollup says %v kB",
			p1.PSSBytes.V, p1.USSBytes.V, p1.SharedBytes.V, p1.SwapBytes.V, direct)
	}
	f := strings.Fields(string(psOut))
	if len(f) != 2 {
		t.Fatalf("ps output %q", psOut)
	}
	psRSS, err1 := strconv.ParseFloat(f[0], 64)
	psMem, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("ps output %q", psOut)
	}
	if !within(float64(p1.RSSBytes), psRSS*1024, 0.01) {
		t.Errorf("RSS %d bytes, ps says %.0f KiB", p1.RSSBytes, psRSS)
	}
	// ps truncates %MEM to one decimal.
	if d := p1.MemPct - psMem; d < -0.02 || d > 0.12 {
		t.Errorf("%%MEM %.3f, ps says %.1f", p1.MemPct, psMem)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", big.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	wantCgroup := ""
	for line := range strings.Lines(string(b)) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) == 3 && parts[0] == "0" && parts[1] == "" && wantCgroup == "" {
			wantCgroup = parts[2]
		}
		if len(parts) == 3 && strings.Contains(","+parts[1]+",", ",memory,") {
			wantCgroup = parts[2]
			break
		}
	}
	if p1.Cgroup != wantCgroup || wantCgroup == "" {
		t.Errorf("cgroup %q, /proc says %q", p1.Cgroup, wantCgroup)
	}
}

// A demanded idle single-threaded process is read on the stat-skipping
// fast path too: fresh every scan.
func TestProcessScannerDemandOnFastPath(t *testing.T) {
	demand := &model.Demand{}
	host, err := ReadHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd",
		BootTime: host.BootTime, ClockTicks: 100, Demand: demand})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sleeper := startChild(t, "sleep", "100")
	time.Sleep(100 * time.Millisecond)
	now := time.Now()
	skipped, pid := 0, sleeper.Process.Pid
	for i := range 10 {
		now = now.Add(100 * time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		procs, scan, _ := s.Scan(now)
		if i == 0 {
			continue
		}
		p, ok := procOf(procs, pid)
		if !ok {
			t.Fatalf("scan %d: sleep missing", i)
		}
		if i == 1 {
			demand.Set(model.DemandSet{Keys: []model.ProcKey{p.Key()}})
			continue
		}
		skipped += scan.StatSkipped
		if p.MemDetail != model.DetailFresh || !p.PSSBytes.OK || p.PSSBytes.V <= 0 || p.USSBytes.V <= 0 ||
			p.MemPct <= 0 || p.Cgroup == "" {
			t.Errorf("scan %d: sleep detail %q PSS %+v USS %+v %%MEM %v cgroup %q", i, p.MemDetail, p.PSSBytes,
				p.USSBytes, p.MemPct, p.Cgroup)
		}
	}
	if skipped == 0 {
		t.Error("no scan took the idle fast path")
	}
}

// deniedChildEnv makes the test binary scan /proc as an unprivileged user.
const deniedChildEnv = "VITALS_TEST_DENIED_CHILD"

// TestProcessScannerDeniedLive checks the "denied" path against the kernel:
// an unprivileged scanner may not read another user's smaps_rollup (EACCES).
// Run as root, the test re-executes itself as nobody (uid 65534).
func TestProcessScannerDeniedLive(t *testing.T) {
	if os.Geteuid() == 0 {
		if os.Getenv(deniedChildEnv) != "" {
			t.Fatal("the unprivileged child is root")
		}
		dir, err := os.MkdirTemp("", "vitals-denied-")
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
		cmd := exec.Command(bin, "-test.run=^TestProcessScannerDeniedLive$", "-test.v")
		cmd.Dir = "/"
		cmd.Env = append(os.Environ(), deniedChildEnv+"=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		t.Logf("unprivileged child:\n%s", out)
		if _, exited := err.(*exec.ExitError); err != nil && !exited {
			t.Skipf("cannot run as nobody here: %v", err)
		}
		if err != nil {
			t.Fatalf("unprivileged child: %v", err)
		}
		if !strings.Contains(string(out), "denied-check-ran") {
			t.Fatal("the unprivileged child did not run the check")
		}
		return
	}

	// Unprivileged: pid 1 is root's and not ours; we are ours.
	demand := &model.Demand{}
	demand.Set(model.DemandSet{All: true})
	host, err := ReadHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd",
		BootTime: host.BootTime, ClockTicks: 100, Demand: demand})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Scan(time.Now())
	procs, _, err := s.Scan(time.Now().Add(time.Second))
	if procs == nil {
		t.Fatal(err)
	}
	init, ok := procOf(procs, 1)
	if !ok {
		t.Fatal("pid 1 not scanned")
	}
	if init.UID == uint32(os.Geteuid()) {
		t.Skip("pid 1 runs as this user")
	}
	if init.MemDetail != model.DetailDenied || init.PSSBytes.OK || init.USSBytes.OK || init.SharedBytes.OK || init.SwapBytes.OK {
		t.Errorf("pid 1 (uid %d) as uid %d: detail %q PSS %+v USS %+v", init.UID, os.Geteuid(), init.MemDetail,
			init.PSSBytes, init.USSBytes)
	}
	self, ok := procOf(procs, os.Getpid())
	if !ok || self.MemDetail != model.DetailFresh || self.PSSBytes.V <= 0 {
		t.Errorf("own process: found %v detail %q PSS %+v", ok, self.MemDetail, self.PSSBytes)
	}
	fmt.Printf("denied-check-ran: pid 1 %s, own process %s\n", init.MemDetail, self.MemDetail)
}

// BenchmarkProcessScanDemand is BenchmarkProcessScan with memory detail
// wanted: "screen" reads a screenful, the 40 largest processes by RSS (the
// Memory tab's default view, and the costliest to read: smaps_rollup walks
// every mapping), "all" every process (sorting by a detail column). The
// difference from BenchmarkProcessScan is the cost of the detail. On this
// machine pid 1 refuses even root (EACCES), so "screen" reads 39.
func BenchmarkProcessScanDemand(b *testing.B) {
	spawnIdle(b, benchProcesses)
	for _, all := range []bool{false, true} {
		name := "screen"
		if all {
			name = "all"
		}
		b.Run(name, func(b *testing.B) {
			demand := &model.Demand{}
			s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd",
				BootTime: time.Now(), ClockTicks: 100, Demand: demand})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.Scan(time.Now())
			procs, _, _ := s.Scan(time.Now())
			slices.SortFunc(procs, func(a, b model.Process) int { return cmp.Compare(b.RSSBytes, a.RSSBytes) })
			var keys []model.ProcKey
			for _, p := range procs[:min(40, len(procs))] {
				keys = append(keys, p.Key())
			}
			demand.Set(model.DemandSet{Keys: keys, All: all})
			benchScan(b, s)
			b.ReportMetric(float64(s.smapsReads), "smaps-reads/scan")
		})
	}
}

// BenchmarkSmapsRollupRead is one demanded process's extra cost: opening,
// reading and parsing the smaps_rollup of a small process (sleep).
func BenchmarkSmapsRollupRead(b *testing.B) {
	c := exec.Command("sleep", "1000")
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { c.Process.Kill(); c.Wait() }()
	time.Sleep(50 * time.Millisecond)
	rd, err := newProcReader("/proc")
	if err != nil {
		b.Fatal(err)
	}
	defer rd.close()
	pid := int32(c.Process.Pid)
	b.ReportAllocs()
	cpu0 := processCPUTime(b)
	for b.Loop() {
		rd.pidPath(pid, "smaps_rollup")
		data, errno := rd.readPath(0)
		var m smapsRollup
		if errno != 0 || !parseSmapsRollup(data, &m) {
			b.Fatalf("read: %v", errno)
		}
	}
	b.ReportMetric(float64((processCPUTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/read")
}
