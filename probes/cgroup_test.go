package probes

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

func TestCgroupMemoryCgroupPath(t *testing.T) {
	hybrid, err := os.ReadFile("testdata/proc-cgroup-hybrid") // this machine's /proc/self/cgroup
	if err != nil {
		t.Fatal(err)
	}
	pureV2, err := os.ReadFile("testdata/proc-cgroup-v2")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, in string
		want     string
		ok       bool
	}{
		// The v1 memory line wins over "0::/" that comes after it.
		{"hybrid", string(hybrid), "/process_api/8b6de447f0610e4fec33c68806ad518a", true},
		{"pure v2", string(pureV2), "/system.slice/foo.service", true},
		{"combined controllers", "5:cpu,cpuacct:/a\n4:cpuset,memory:/x\n0::/y\n", "/x", true},
		{"v1 without memory falls back to v2", "5:cpu,cpuacct:/a\n1:name=systemd:/b\n0::/y", "/y", true},
		{"cpu,cpuacct is not memory", "5:cpu,cpuacct:/a\n", "", false},
		{"name=memory is a named hierarchy, not the controller", "3:name=memory:/a\n", "", false},
		{"memory line after v2 line", "0::/v2\n4:memory:/v1\n", "/v1", true},
		{"colon in the path", "4:memory:/a:b\n", "/a:b", true},
		{"no trailing newline", "4:memory:/user.slice", "/user.slice", true},
		{"garbage", "hello world\n\x00\xff:::\n", "", false},
		{"empty", "", "", false},
		{"memory without path", "4:memory:\n", "", false},
		{"v2 line needs hierarchy 0", "1::/weird\n", "", false},
	}
	for _, c := range cases {
		got, ok := MemoryCgroupPath([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("%s: MemoryCgroupPath(%q) = %q, %v; want %q, %v", c.name, c.in, got, ok, c.want, c.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = MemoryCgroupPath(hybrid) }); n > 1 {
		t.Errorf("MemoryCgroupPath allocates %v times, want at most 1 (the result)", n)
	}
}

func TestCgroupDetect(t *testing.T) {
	write := func(t *testing.T, path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		files   map[string]string // relative path → contents; a trailing / makes a directory
		version int
		hier    string // relative to the root
	}{
		{"nothing", nil, 0, ""},
		{"pure v2", map[string]string{"cgroup.controllers": "cpuset cpu io memory pids\n"}, 2, "."},
		{"v2 without memory", map[string]string{"cgroup.controllers": "cpu io pids\n"}, 0, ""},
		{"hybrid v1 memory", map[string]string{
			"unified/cgroup.controllers":   "hugetlb\n",
			"memory/memory.usage_in_bytes": "4096\n",
		}, 1, "memory"},
		{"unmounted memory dir, memory on the unified side", map[string]string{
			"memory/":                    "",
			"unified/cgroup.controllers": "cpu memory\n",
		}, 2, "unified"},
		{"unmounted memory dir only", map[string]string{"memory/": ""}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for name, text := range c.files {
				if strings.HasSuffix(name, "/") {
					if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				write(t, filepath.Join(root, name), text)
			}
			p, err := NewCgroupProbe(CgroupProbeConfig{CgroupRoot: root})
			if err != nil {
				t.Fatal(err)
			}
			if p.version != c.version {
				t.Fatalf("version %d, want %d (reason %q)", p.version, c.version, p.reason)
			}
			if c.version == 0 {
				if !strings.Contains(p.reason, "no memory cgroup controller mounted under "+root) {
					t.Errorf("reason %q", p.reason)
				}
				if list, err := p.Read([]model.Process{cgroupProc(1, "/", 0)}); list != nil || err != nil {
					t.Errorf("Read without cgroups = %v, %v; want nil, nil", list, err)
				}
				return
			}
			if want := filepath.Join(root, c.hier); p.hierarchy != want {
				t.Errorf("hierarchy %s, want %s", p.hierarchy, want)
			}
		})
	}

	p, _ := NewCgroupProbe(CgroupProbeConfig{CgroupRoot: filepath.Join(t.TempDir(), "absent")})
	if p.version != 0 || !strings.HasPrefix(p.reason, "no cgroup file system: ") {
		t.Errorf("absent root: version %d, reason %q", p.version, p.reason)
	}
}

// checkMemCgroups compares lists field by field; Unavailable values are
// compared by substring (they hold OS error text).
func checkMemCgroups(t *testing.T, got, want []model.MemCgroup) {
	t.Helper()
	paths := func(l []model.MemCgroup) (s []string) {
		for _, c := range l {
			s = append(s, c.Path)
		}
		return s
	}
	if !slices.Equal(paths(got), paths(want)) {
		t.Fatalf("cgroups %q, want %q (sorted by working set, then path)", paths(got), paths(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		gu, wu := g.Unavailable, w.Unavailable
		g.Unavailable, w.Unavailable = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", w.Path, g, w)
			if g.PSI != nil && w.PSI != nil {
				t.Errorf("%s PSI: got %+v full %+v, want %+v full %+v", w.Path, g.PSI.Some, g.PSI.Full, w.PSI.Some, w.PSI.Full)
			}
		}
		if len(gu) != len(wu) {
			t.Errorf("%s: unavailable %q, want keys of %q", w.Path, gu, wu)
			continue
		}
		for k, sub := range wu {
			if v, ok := gu[k]; !ok || !strings.Contains(v, sub) {
				t.Errorf("%s: unavailable[%q] = %q, want it to contain %q", w.Path, k, v, sub)
			}
		}
	}
}

const cgroupMiB = 1 << 20

func TestCgroupProbeV2Fixture(t *testing.T) {
	root := "testdata/cgroup-v2"
	p, err := NewCgroupProbe(CgroupProbeConfig{CgroupRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	if p.version != 2 || p.hierarchy != root {
		t.Fatalf("detected v%d at %q, want v2 at %q", p.version, p.hierarchy, root)
	}
	procs := []model.Process{
		cgroupProc(1, "/", 12*cgroupMiB),
		cgroupProc(100, "/system.slice/foo.service", 30*cgroupMiB),
		cgroupProc(101, "/system.slice/foo.service", 5*cgroupMiB),
		cgroupProc(200, "/system.slice/limited.service", 140*cgroupMiB),
		cgroupProc(300, "/system.slice/clamp.service", 0),
		cgroupProc(400, "/system.slice/gone.service", cgroupMiB), // no such directory
		cgroupProc(500, "", cgroupMiB),                           // cgroup not read yet
		// Outside our cgroup namespace; joined naively it would name an
		// existing directory (testdata/cgroup-v1/memory).
		cgroupProc(600, "/../cgroup-v1/memory", cgroupMiB),
	}
	list, err := p.Read(procs)
	if err != nil {
		t.Fatal(err)
	}
	noPSI := "no memory.pressure"
	zeroPSI := &model.Pressure{Full: &model.PressureAvg{}}
	noEvents := filepath.Join(root, "system.slice/clamp.service/memory.events") + ": no such file"
	want := []model.MemCgroup{{
		// working set 200 − 35 = 165 MiB
		Path: "/system.slice/limited.service", Version: 2,
		RefaultFile: model.Counter{V: 17, OK: true}, RefaultAnon: model.Counter{OK: true},
		UsageBytes: 200 * cgroupMiB, WorkingSetBytes: 165 * cgroupMiB,
		AnonBytes: 150 * cgroupMiB, FileBytes: 40 * cgroupMiB, InactiveFileBytes: 35 * cgroupMiB,
		LimitBytes: model.Known(256 * cgroupMiB),
		OOMEvents:  model.Known(0), OOMKills: model.Known(0),
		Processes: 1, RSSSumBytes: 140 * cgroupMiB,
		Unavailable: map[string]string{"psi": noPSI},
	}, {
		// 100 − 20 = 80 MiB
		Path: "/system.slice/foo.service", Version: 2,
		RefaultFile: model.Counter{V: 17, OK: true}, RefaultAnon: model.Counter{OK: true},
		UsageBytes: 100 * cgroupMiB, WorkingSetBytes: 80 * cgroupMiB,
		AnonBytes: 40 * cgroupMiB, FileBytes: 50 * cgroupMiB, InactiveFileBytes: 20 * cgroupMiB,
		LimitBytes: model.Unknown, // "max"
		OOMEvents:  model.Known(3), OOMKills: model.Known(2),
		PSI: &model.Pressure{
			Some: model.PressureAvg{Avg10: 1.5, Avg60: 0.75, Avg300: 0.25, TotalUs: 123456},
			Full: &model.PressureAvg{Avg10: 0.5, Avg60: 0.2, Avg300: 0.05, TotalUs: 45678},
		},
		Processes: 2, RSSSumBytes: 35 * cgroupMiB,
	}, {
		// The root has no memory.current: usage and working set 0, ties
		// with clamp.service and sorts first by path.
		Path: "/", Version: 2,
		RefaultFile: model.Counter{V: 17, OK: true}, RefaultAnon: model.Counter{OK: true},
		AnonBytes: 512 * cgroupMiB, FileBytes: 1024 * cgroupMiB, InactiveFileBytes: 256 * cgroupMiB,
		PSI:       zeroPSI,
		Processes: 1, RSSSumBytes: 12 * cgroupMiB,
		Unavailable: map[string]string{
			"usage":      "the v2 root cgroup has no memory.current",
			"oom_events": "the v2 root cgroup has no memory.events",
			"oom_kills":  "the v2 root cgroup has no memory.events",
		},
	}, {
		// inactive_file 8 KiB > usage 4 KiB: working set clamped at 0.
		Path: "/system.slice/clamp.service", Version: 2,
		RefaultFile: model.Counter{V: 17, OK: true}, RefaultAnon: model.Counter{OK: true},
		UsageBytes: 4096, FileBytes: 8192, InactiveFileBytes: 8192,
		LimitBytes:  model.Known(cgroupMiB),
		PSI:         zeroPSI,
		Processes:   1,
		Unavailable: map[string]string{"oom_events": noEvents, "oom_kills": noEvents},
	}}
	checkMemCgroups(t, list, want)
}

func TestCgroupProbeV1Fixture(t *testing.T) {
	root := "testdata/cgroup-v1"
	p, err := NewCgroupProbe(CgroupProbeConfig{CgroupRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	if p.version != 1 || p.hierarchy != filepath.Join(root, "memory") {
		t.Fatalf("detected v%d at %q, want v1 at %s/memory", p.version, p.hierarchy, root)
	}
	procs := []model.Process{
		cgroupProc(1, "/", 10*cgroupMiB),
		cgroupProc(2, "/", 0), // a kernel thread
		cgroupProc(1000, "/user.slice", 7*cgroupMiB),
		cgroupProc(1001, "/user.slice", 9*cgroupMiB),
		cgroupProc(1002, "/user.slice", 4*cgroupMiB),
		cgroupProc(2000, "/docker/abc", 30*cgroupMiB),
		cgroupProc(3000, "/docker/gone", cgroupMiB),
	}
	list, err := p.Read(procs)
	if err != nil {
		t.Fatal(err)
	}
	v1 := func(extra map[string]string) map[string]string {
		m := map[string]string{
			"oom_events": "cgroup v1 does not count OOM events",
			"psi":        "cgroup v1 has no per-cgroup PSI",
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	want := []model.MemCgroup{{
		// total_* lines: 1024 − 200 = 824 MiB
		Path: "/", Version: 1,
		RefaultFile: model.Counter{V: 50, OK: true}, RefaultAnon: model.Counter{OK: true}, // total_workingset_refault_*
		UsageBytes: 1024 * cgroupMiB, WorkingSetBytes: 824 * cgroupMiB,
		AnonBytes: 300 * cgroupMiB, FileBytes: 600 * cgroupMiB, InactiveFileBytes: 200 * cgroupMiB,
		LimitBytes: model.Unknown, // 9223372036854771712
		// oom_kill 0 is a count; v1 counts no OOM events: null, not 0.
		OOMKills: model.Known(0), OOMEvents: model.Unknown,
		Processes: 2, RSSSumBytes: 10 * cgroupMiB,
		Unavailable: v1(nil),
	}, {
		// total_rss 60, total_cache 80, total_inactive_file 50 MiB (the
		// plain rss/cache/inactive_file lines are 10/20/4 MiB): 150 − 50.
		Path: "/user.slice", Version: 1,
		RefaultFile: model.Counter{V: 50, OK: true}, RefaultAnon: model.Counter{OK: true},
		UsageBytes: 150 * cgroupMiB, WorkingSetBytes: 100 * cgroupMiB,
		AnonBytes: 60 * cgroupMiB, FileBytes: 80 * cgroupMiB, InactiveFileBytes: 50 * cgroupMiB,
		LimitBytes: model.Unknown,
		OOMKills:   model.Known(1),
		Processes:  3, RSSSumBytes: 20 * cgroupMiB,
		Unavailable: v1(nil),
	}, {
		// No total_* lines: rss 32, cache 16, inactive_file 8 MiB; 50 − 8.
		// No oom_kill line in oom_control (kernel before 4.13).
		Path: "/docker/abc", Version: 1,
		RefaultFile: model.Counter{V: 5, OK: true}, RefaultAnon: model.Counter{OK: true}, // no total_* lines: the cgroup's own
		UsageBytes: 50 * cgroupMiB, WorkingSetBytes: 42 * cgroupMiB,
		AnonBytes: 32 * cgroupMiB, FileBytes: 16 * cgroupMiB, InactiveFileBytes: 8 * cgroupMiB,
		LimitBytes:  model.Known(64 * cgroupMiB),
		Processes:   1,
		RSSSumBytes: 30 * cgroupMiB,
		Unavailable: v1(map[string]string{"oom_kills": "no oom_kill line"}),
	}}
	checkMemCgroups(t, list, want)

	if list, err := p.Read(nil); err != nil || list == nil || len(list) != 0 {
		t.Errorf("Read(no processes) = %#v, %v; want an empty, non-nil list", list, err)
	}
}

func TestCgroupParsePressure(t *testing.T) {
	psi, err := parseCgroupPressure("some avg10=0.12 avg60=3.40 avg300=56.78 total=90\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := (model.PressureAvg{Avg10: 0.12, Avg60: 3.4, Avg300: 56.78, TotalUs: 90}); psi.Some != want || psi.Full != nil {
		t.Errorf("got %+v full %v, want %+v and no full", psi.Some, psi.Full, want)
	}
	for _, bad := range []string{"", "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "some avg10=x\n"} {
		if _, err := parseCgroupPressure(bad); err == nil {
			t.Errorf("parseCgroupPressure(%q) did not fail", bad)
		}
	}
}

func newCgroupTestStore(procs []model.Process, mem *model.Memory) *model.Store {
	s := model.NewStore(model.Host{}, 1, 10)
	s.Update(func(next *model.Sample, _ *model.History) {
		next.Processes = procs
		next.Memory = mem
	})
	return s
}

func TestCgroupProbeSample(t *testing.T) {
	p, err := NewCgroupProbe(CgroupProbeConfig{CgroupRoot: "testdata/cgroup-v1"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "cgroup" {
		t.Errorf("Name() = %q", p.Name())
	}
	procs := []model.Process{cgroupProc(1, "/", 4096), cgroupProc(1000, "/user.slice", 0)}

	// Nothing to publish until both the scanner and the memory probe have.
	for _, s := range []*model.Store{
		newCgroupTestStore(nil, &model.Memory{}),
		newCgroupTestStore(procs, nil),
	} {
		seq := s.Snapshot().Seq
		if err := publish(p, time.Now(), s); err != nil {
			t.Fatal(err)
		}
		if got := s.Snapshot(); got.Seq != seq || (got.Sample.Memory != nil && got.Sample.Memory.Cgroups != nil) {
			t.Errorf("published (seq %d → %d) before processes and memory existed", seq, got.Seq)
		}
	}

	old := &model.Memory{TotalBytes: 123, Unavailable: map[string]string{"slab": "not root"}}
	s := newCgroupTestStore(procs, old)
	if err := publish(p, time.Now(), s); err != nil {
		t.Fatal(err)
	}
	m := s.Snapshot().Sample.Memory
	if m == old || old.Cgroups != nil {
		t.Fatal("the published Memory was modified instead of copied")
	}
	if m.TotalBytes != 123 || m.Unavailable["slab"] != "not root" {
		t.Errorf("the memory probe's fields were lost: %+v", m)
	}
	if len(m.Cgroups) != 2 || m.Cgroups[0].Path != "/" || m.Cgroups[1].Path != "/user.slice" ||
		m.Cgroups[0].RSSSumBytes != 4096 || m.Cgroups[1].Processes != 1 {
		t.Errorf("cgroups %+v", m.Cgroups)
	}
	if _, ok := m.Unavailable["cgroups"]; ok {
		t.Errorf("cgroups marked unavailable: %q", m.Unavailable["cgroups"])
	}
}

func TestCgroupProbeSampleWithoutCgroups(t *testing.T) {
	p, err := NewCgroupProbe(CgroupProbeConfig{CgroupRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	procs := []model.Process{cgroupProc(1, "/", 0)}
	for _, unavailable := range []map[string]string{nil, {"slab": "not root"}} {
		old := &model.Memory{TotalBytes: 1, Unavailable: unavailable}
		s := newCgroupTestStore(procs, old)
		if err := publish(p, time.Now(), s); err != nil {
			t.Fatal(err)
		}
		m := s.Snapshot().Sample.Memory
		if m.Cgroups != nil {
			t.Errorf("cgroups %+v, want nil", m.Cgroups)
		}
		if !strings.HasPrefix(m.Unavailable["cgroups"], "no memory cgroup controller mounted") {
			t.Errorf("unavailable[cgroups] = %q", m.Unavailable["cgroups"])
		}
		if _, ok := old.Unavailable["cgroups"]; ok || (unavailable != nil && m.Unavailable["slab"] != "not root") {
			t.Errorf("published map written, or slab reason lost: old %q new %q", old.Unavailable, m.Unavailable)
		}
	}
}

// cgroupRealProcesses lists this machine's processes the way the scanner fills
// the fields the cgroup probe uses: Cgroup from /proc/PID/cgroup, RSS from
// field 24 of /proc/PID/stat.
func cgroupRealProcesses(t *testing.T) []model.Process {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var procs []model.Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cg, err1 := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		stat, err2 := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err1 != nil || err2 != nil {
			continue // exited meanwhile
		}
		var p model.Process
		p.PID = int32(pid)
		p.Cgroup, _ = MemoryCgroupPath(cg)
		if i := strings.LastIndexByte(string(stat), ')'); i >= 0 {
			// Fields after comm start at field 3 (state); rss is field 24.
			if f := strings.Fields(string(stat[i+1:])); len(f) > 21 {
				pages, _ := strconv.ParseUint(f[21], 10, 64)
				p.RSSBytes = pages * uint64(os.Getpagesize())
			}
		}
		procs = append(procs, p)
	}
	return procs
}

// cgroupSkipUnlessCI skips a test that needs this machine's kind (root, a v1
// memory hierarchy), except in CI, where those are guaranteed and a skip
// would hide a failure.
func cgroupSkipUnlessCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func TestCgroupProbeRealMachine(t *testing.T) {
	const hier = "/sys/fs/cgroup/memory"
	if os.Geteuid() != 0 {
		cgroupSkipUnlessCI(t, "not root: cannot create a memory cgroup")
	}
	p, err := NewCgroupProbe(CgroupProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if p.version != 1 || p.hierarchy != hier {
		cgroupSkipUnlessCI(t, "want a v1 memory hierarchy at %s (cgroup v1 hybrid), detected v%d at %q: %s", hier, p.version, p.hierarchy, p.reason)
	}

	// A child cgroup with a 64 MiB limit holding one sleep.
	dir := filepath.Join(hier, fmt.Sprintf("vitals-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		cgroupSkipUnlessCI(t, "create a memory cgroup: %v", err)
	}
	t.Cleanup(func() {
		// The sleep has been reaped by now (cleanups run last-in first-out).
		if err := os.Remove(dir); err != nil {
			t.Errorf("remove test cgroup: %v", err)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "memory.limit_in_bytes"), []byte("67108864"), 0); err != nil {
		t.Fatal(err)
	}
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sleep.Process.Kill()
		_ = sleep.Wait()
	})
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(sleep.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}

	procs := cgroupRealProcesses(t)
	list, err := p.Read(procs)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, pr := range procs {
		if pr.Cgroup != "" {
			counts[pr.Cgroup]++
		}
	}
	self, _ := os.ReadFile("/proc/self/cgroup")
	selfPath, _ := MemoryCgroupPath(self)
	var used, sawSelf bool
	var child *model.MemCgroup
	for i, cg := range list {
		t.Logf("%-50s usage %9d ws %9d anon %9d file %9d limit %v procs %d rss %d",
			cg.Path, cg.UsageBytes, cg.WorkingSetBytes, cg.AnonBytes, cg.FileBytes, cg.LimitBytes, cg.Processes, cg.RSSSumBytes)
		if cg.Version != 1 {
			t.Errorf("%s: version %d", cg.Path, cg.Version)
		}
		used = used || cg.UsageBytes > 0
		if cg.WorkingSetBytes > cg.UsageBytes {
			t.Errorf("%s: working set %d > usage %d", cg.Path, cg.WorkingSetBytes, cg.UsageBytes)
		}
		if cg.Processes != counts[cg.Path] {
			t.Errorf("%s: %d processes, counted %d", cg.Path, cg.Processes, counts[cg.Path])
		}
		if i > 0 && list[i-1].WorkingSetBytes < cg.WorkingSetBytes {
			t.Errorf("not sorted by working set: %s before %s", list[i-1].Path, cg.Path)
		}
		sawSelf = sawSelf || cg.Path == selfPath
		if cg.Path == "/"+filepath.Base(dir) {
			child = &list[i]
		}
	}
	if !used {
		t.Error("no cgroup with usage > 0")
	}
	if !sawSelf {
		t.Errorf("the test's own cgroup %q is not listed", selfPath)
	}
	if child == nil {
		t.Fatalf("test cgroup %s not listed", dir)
	}
	if child.LimitBytes != model.Known(64*cgroupMiB) || child.Processes != 1 {
		t.Errorf("test cgroup: limit %v processes %d, want 64 MiB and 1", child.LimitBytes, child.Processes)
	}
}

// cgroupProc is a scanned process as the cgroup probe sees it.
func cgroupProc(pid int32, cgroup string, rss uint64) model.Process {
	var p model.Process
	p.PID, p.Cgroup, p.RSSBytes = pid, cgroup, rss
	return p
}

// Refault rates per cgroup over the frame's interval, from copies of the
// v1 and v2 fixtures whose memory.stat counters move between two frames 2 s
// apart; the answers by hand.
func TestCgroupRefaultRates(t *testing.T) {
	setLine := func(t *testing.T, path, key string, v uint64) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		found := false
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if k, _, _ := strings.Cut(l, " "); k == key {
				l, found = key+" "+strconv.FormatUint(v, 10), true
			}
			out = append(out, l)
		}
		if !found {
			t.Fatalf("%s has no %s", path, key)
		}
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dropLine := func(t *testing.T, path, key string) {
		t.Helper()
		b, _ := os.ReadFile(path)
		var out []string
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if k, _, _ := strings.Cut(l, " "); k != key {
				out = append(out, l)
			}
		}
		os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644)
	}
	type rate struct{ file, anon model.Float }
	k, u := model.Known, model.Unknown
	for _, c := range []struct {
		fixture, hier string
		procs         []model.Process
		move          func(t *testing.T, hier string)
		want          map[string]rate
	}{{
		fixture: "cgroup-v1", hier: "memory",
		procs: []model.Process{cgroupProc(1, "/", 0), cgroupProc(1000, "/user.slice", 0), cgroupProc(2000, "/docker/abc", 0)},
		move: func(t *testing.T, h string) {
			// root total_* 50 → 6050 file, 0 → 400 anon: 3000/s and 200/s.
			setLine(t, filepath.Join(h, "memory.stat"), "total_workingset_refault_file", 6050)
			setLine(t, filepath.Join(h, "memory.stat"), "total_workingset_refault_anon", 400)
			// user.slice total 50 → 5850: 2900/s; the plain line (its own)
			// moves too but is not what is read.
			setLine(t, filepath.Join(h, "user.slice/memory.stat"), "total_workingset_refault_file", 5850)
			setLine(t, filepath.Join(h, "user.slice/memory.stat"), "workingset_refault_file", 999999)
			// docker/abc has only the plain lines: 5 → 3 went backwards
			// (a re-created cgroup): unknown, never a huge rate.
			setLine(t, filepath.Join(h, "docker/abc/memory.stat"), "workingset_refault_file", 3)
		},
		want: map[string]rate{"/": {k(3000), k(200)}, "/user.slice": {k(2900), k(0)}, "/docker/abc": {u, k(0)}},
	}, {
		fixture: "cgroup-v2", hier: "",
		procs: []model.Process{cgroupProc(1, "/", 0), cgroupProc(100, "/system.slice/foo.service", 0),
			cgroupProc(200, "/system.slice/limited.service", 0), cgroupProc(300, "/system.slice/clamp.service", 0)},
		move: func(t *testing.T, h string) {
			setLine(t, filepath.Join(h, "memory.stat"), "workingset_refault_file", 1017) // 500/s
			setLine(t, filepath.Join(h, "system.slice/limited.service/memory.stat"), "workingset_refault_file", 917)
			setLine(t, filepath.Join(h, "system.slice/limited.service/memory.stat"), "workingset_refault_anon", 50)
			// clamp.service loses its anon line: unknown, and said why.
			dropLine(t, filepath.Join(h, "system.slice/clamp.service/memory.stat"), "workingset_refault_anon")
		},
		want: map[string]rate{"/": {k(500), k(0)}, "/system.slice/foo.service": {k(0), k(0)},
			"/system.slice/limited.service": {k(450), k(25)}, "/system.slice/clamp.service": {k(0), u}},
	}} {
		t.Run(c.fixture, func(t *testing.T) {
			root := t.TempDir()
			if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", c.fixture))); err != nil {
				t.Fatal(err)
			}
			p, _ := NewCgroupProbe(CgroupProbeConfig{CgroupRoot: root})
			s := newCgroupTestStore(c.procs, &model.Memory{})
			t0 := time.Unix(1000, 0)
			if err := publish(p, t0, s); err != nil {
				t.Fatal(err)
			}
			for _, cg := range s.Snapshot().Sample.Memory.Cgroups {
				if cg.RefaultFilePerS.OK || cg.RefaultAnonPerS.OK {
					t.Errorf("%s: a rate in the first frame: %v %v", cg.Path, cg.RefaultFilePerS, cg.RefaultAnonPerS)
				}
			}
			c.move(t, filepath.Join(root, c.hier))
			if err := publish(p, t0.Add(2*time.Second), s); err != nil {
				t.Fatal(err)
			}
			got := map[string]rate{}
			for _, cg := range s.Snapshot().Sample.Memory.Cgroups {
				got[cg.Path] = rate{cg.RefaultFilePerS, cg.RefaultAnonPerS}
				if cg.Path == "/system.slice/clamp.service" && !strings.Contains(cg.Unavailable["refault_anon"], "has no workingset_refault_anon") {
					t.Errorf("clamp.service: refault_anon unavailable %q", cg.Unavailable["refault_anon"])
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("rates\n got %v\nwant %v", got, c.want)
			}
		})
	}
}
