package probes

import (
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

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// cacheChildEnv makes the test binary a workload child for the cache tests:
// "write:PATH:BYTES" writes a file, fsyncs it and drops it from the page
// cache; "read:PATH" reads it to the end with 1 MiB reads; "nonroot" opens a
// cache probe and prints what it runs on.
const cacheChildEnv = "VITALS_TEST_CACHE_CHILD"

func TestCacheChildHelper(t *testing.T) {
	spec := os.Getenv(cacheChildEnv)
	if spec == "" {
		return // only does something when a test runs it as its child
	}
	if err := runCacheChild(spec); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runCacheChild(spec string) error {
	action, args, _ := strings.Cut(spec, ":")
	switch action {
	case "write":
		path, n, _ := strings.Cut(args, ":")
		size, err := strconv.Atoi(n)
		if err != nil {
			return err
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		buf := make([]byte, 1<<20)
		for i := range buf {
			buf[i] = byte(i)
		}
		for left := size; left > 0; left -= len(buf) {
			if _, err := f.Write(buf[:min(left, len(buf))]); err != nil {
				return err
			}
		}
		if err := f.Sync(); err != nil {
			return err
		}
		return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	case "read":
		return cacheReadAll(args)
	case "nonroot":
		p, err := NewCacheProbe(CacheProbeConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd"})
		if err != nil {
			return err
		}
		defer p.Close()
		if c, err := p.Read(time.Now()); c != nil || err != nil {
			return fmt.Errorf("baseline: %v %v", c, err)
		}
		// Read our own executable: our rchar grows, so our row shows.
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		if err := cacheReadAll(exe); err != nil {
			return err
		}
		c, err := p.Read(time.Now())
		if err != nil || c == nil {
			return fmt.Errorf("read: %v %v", c, err)
		}
		own := "none"
		for _, r := range c.Processes {
			if r.PID == int32(os.Getpid()) {
				own = fmt.Sprintf("hits=%d misses=%d readhit=%v estimate=%v user=%s", r.Hits, r.Misses, r.ReadHitPct, r.Estimate, r.User)
			}
		}
		fmt.Printf("source=%s\nreason=%s\nsystem=%v\nown=%s\n", c.Source, c.Reason, c.System != nil, own)
		return nil
	}
	return fmt.Errorf("unknown child action %q", action)
}

func cacheReadAll(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		_, err := f.Read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// cacheChild runs the test binary as a workload and returns its pid.
func cacheChild(t *testing.T, spec string) int32 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCacheChildHelper$")
	cmd.Env = append(os.Environ(), cacheChildEnv+"="+spec)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", spec, err, out)
	}
	return int32(cmd.Process.Pid)
}

// requireCachePrivileged skips without eBPF privileges, except in CI,
// where a skip would hide a broken probe.
func requireCachePrivileged(t *testing.T) {
	t.Helper()
	if ebpf.Privileged() {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but the test is not privileged: eBPF tests need root or CAP_BPF+CAP_PERFMON")
	}
	t.Skip("needs root or CAP_BPF+CAP_PERFMON")
}

// cacheWorkDir is a directory on a disk-backed filesystem: tmpfs has no
// page-cache misses.
func cacheWorkDir(t *testing.T) string {
	t.Helper()
	for _, d := range []string{"/var/tmp", os.TempDir(), "."} {
		var st unix.Statfs_t
		if unix.Statfs(d, &st) != nil || st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC {
			continue
		}
		dir, err := os.MkdirTemp(d, "vitals-cache-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	t.Fatal("no directory on a disk-backed filesystem")
	return ""
}

// bpfFDs counts this process's open BPF objects (programs, maps, links).
func bpfFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "anon_inode:bpf") {
			n++
		}
	}
	return n
}

func cacheRowOf(c *model.Cache, pid int32) (model.CacheProcess, bool) {
	for _, r := range c.Processes {
		if r.PID == pid {
			return r, true
		}
	}
	return model.CacheProcess{}, false
}

func cacheWithin(got, want uint64, frac float64) bool {
	return float64(got) >= float64(want)*(1-frac) && float64(got) <= float64(want)*(1+frac)
}

// The real kernel: a child writes a 32 MiB file and drops it from the
// cache, another reads it cold, a third warm; the children's rows must say
// so.
func TestCacheProbeEBPF(t *testing.T) {
	requireCachePrivileged(t)
	dir := cacheWorkDir(t)
	const (
		fileBytes = 32 << 20
		filePages = fileBytes / 4096
	)
	for _, tier := range []string{"", ebpf.TierTracepoint} {
		name := tier
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			bpfBefore := bpfFDs(t)
			p, err := NewCacheProbe(CacheProbeConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd", ForceTier: tier})
			if err != nil {
				t.Fatal(err)
			}
			if n := bpfFDs(t); n <= bpfBefore {
				t.Errorf("%d BPF fds open with the probe, %d before", n, bpfBefore)
			}
			defer func() {
				if err := p.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				if err := p.Close(); err != nil {
					t.Errorf("second Close: %v", err)
				}
				if n := bpfFDs(t); n != bpfBefore {
					t.Errorf("%d BPF fds open after Close, %d before", n, bpfBefore)
				}
				if _, err := p.Read(time.Now()); err == nil {
					t.Error("Read after Close did not fail")
				}
			}()
			rep := p.Report()
			if rep.Active == "" {
				t.Fatalf("no eBPF tier:\n%s", rep)
			}
			if tier != "" && rep.Active != tier {
				t.Fatalf("forced %s, active %s", tier, rep.Active)
			}
			t.Logf("tier %s", rep.Active)
			store := model.NewStore(model.Host{}, 1, 60)
			if err := publish(p, time.Now(), store); err != nil {
				t.Fatal(err)
			}
			if store.Snapshot().Sample.Cache != nil {
				t.Fatal("the baseline Sample published")
			}
			read := func() *model.Cache {
				t.Helper()
				c, err := p.Read(time.Now())
				if err != nil || c == nil {
					t.Fatalf("Read: %v, %v", c, err)
				}
				return c
			}

			path := filepath.Join(dir, "data-"+name)
			wpid := cacheChild(t, fmt.Sprintf("write:%s:%d", path, fileBytes))
			c := read()
			if c.Source != "ebpf" || c.Tier != rep.Active || c.Reason != "" || c.System == nil {
				t.Fatalf("source %q tier %q reason %q system %v", c.Source, c.Tier, c.Reason, c.System)
			}
			if len(c.Tiers) != len(rep.Tiers) {
				t.Errorf("tiers %+v, report %+v", c.Tiers, rep.Tiers)
			}
			// The tracepoint tier sees no folio size and counts one page
			// per dirtied folio (large folios: far fewer than the pages).
			w, ok := cacheRowOf(c, wpid)
			t.Logf("write: %+v", w)
			if wantDirty := rep.Active != ebpf.TierTracepoint; !ok || w.Dirties == 0 ||
				(wantDirty && !cacheWithin(w.Dirties, filePages, 0.1)) {
				t.Errorf("writer row %+v (found %v): want about %d dirtied pages", w, ok, filePages)
			}

			rpid := cacheChild(t, "read:"+path)
			c = read()
			cold, ok := cacheRowOf(c, rpid)
			t.Logf("cold: %+v", cold)
			if !ok || !cacheWithin(cold.Misses, filePages, 0.1) || !cold.ReadHitPct.OK || cold.ReadHitPct.V >= 10 {
				t.Errorf("cold read row %+v (found %v): want misses %d ±10 %%, read hit < 10 %%", cold, ok, filePages)
			}
			if cold.Comm != "probes.test" || cold.UID != uint32(os.Getuid()) || cold.User == "" {
				t.Errorf("cold read row: comm %q uid %d user %q", cold.Comm, cold.UID, cold.User)
			}

			rpid = cacheChild(t, "read:"+path)
			now := time.Now()
			if err := publish(p, now, store); err != nil {
				t.Fatal(err)
			}
			snap := store.Snapshot()
			c = snap.Sample.Cache
			if c == nil {
				t.Fatal("Sample published no cache")
			}
			warm, ok := cacheRowOf(c, rpid)
			t.Logf("warm: %+v", warm)
			t.Logf("system: %+v", *c.System)
			if !ok || !cacheWithin(warm.Hits, filePages, 0.1) || !warm.ReadHitPct.OK || warm.ReadHitPct.V <= 90 {
				t.Errorf("warm read row %+v (found %v): want hits %d ±10 %%, read hit > 90 %%", warm, ok, filePages)
			}
			if s := c.System; s.AccessesPerS <= 0 || !s.HitRatio.OK || s.CachedBytes == 0 {
				t.Errorf("system %+v: want accesses, a known hit ratio and cached bytes", *s)
			}
			for i := 1; i < len(c.Processes); i++ {
				a, b := c.Processes[i-1], c.Processes[i]
				if a.Hits < b.Hits || (a.Hits == b.Hits && a.PID > b.PID) {
					t.Errorf("rows not sorted by hits, pid: %+v before %+v", a, b)
				}
			}
			for _, s := range []string{model.SeriesCacheHitRatio, model.SeriesCacheMisses} {
				if v := snap.Series(s); v.Len() != 1 || v.At(0).UnixMilli != now.UnixMilli() {
					t.Errorf("series %s: %d points", s, v.Len())
				}
			}
		})
	}
}

// The fixtures proc-cache-t0 and proc-cache-t1 are hand-made (MiB = 2^20,
// pages of 4 KiB). Between t0 and t1:
//
//	100 reader (uid 1000): rchar +4 MiB, read_bytes +1 MiB, write_bytes +8 KiB
//	    → 1024 pages accessed, 256 misses, 768 hits, 75 %, 2 dirtied.
//	200 "warm cat" (uid 0): rchar +8 MiB, read_bytes +0 → 2048 hits, 100 %.
//	700 readahead (uid 4242, not in passwd): rchar +1 MiB, read_bytes
//	    +2 MiB (readahead beyond the reads), write_bytes +4 MiB → 256
//	    misses clamped to 256 accessed, 0 hits, 0 %, 1024 dirtied.
//	300: the pid was reused (start time 7000 → 7777): no row.
//	400: rchar unchanged (it only wrote): no row.
//	500: new in t1: no row. 600: its io file is gone in t1: no row.
func TestCacheProbeProcfsFixtures(t *testing.T) {
	root := filepath.Join(t.TempDir(), "proc")
	stage(t, root, "proc-cache-t0")
	p, err := NewCacheProbe(CacheProbeConfig{ProcRoot: root, PasswdPath: "testdata/proc-scan-etc/passwd", ForceTier: CacheTierProcfs})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rep := p.Report()
	if rep.Active != "" || rep.Reason != "tier forced to procfs" || len(rep.Tiers) == 0 {
		t.Fatalf("report %+v", rep)
	}
	store := model.NewStore(model.Host{}, 1, 60)
	if err := publish(p, fixtureT0, store); err != nil {
		t.Fatal(err)
	}
	if store.Snapshot().Sample.Cache != nil {
		t.Fatal("the baseline Sample published")
	}
	stage(t, root, "proc-cache-t1")
	if err := publish(p, fixtureT0.Add(2*time.Second), store); err != nil {
		t.Fatal(err)
	}
	snap := store.Snapshot()
	c := snap.Sample.Cache
	if c == nil {
		t.Fatal("nothing published")
	}
	if c.Source != "procfs estimate" || c.Tier != "" || c.Reason != "tier forced to procfs" || c.System != nil {
		t.Errorf("source %q tier %q reason %q system %v", c.Source, c.Tier, c.Reason, c.System)
	}
	for _, tr := range c.Tiers {
		if tr.Status != "skipped" {
			t.Errorf("tier %+v", tr)
		}
	}
	want := []model.CacheProcess{
		{PID: 200, UID: 0, User: "root", Comm: "warm cat", Hits: 2048, Misses: 0, Dirties: 0,
			ReadHitPct: model.Known(100), WriteHitPct: model.Unknown, Estimate: true},
		{PID: 100, UID: 1000, User: "alice", Comm: "reader", Hits: 768, Misses: 256, Dirties: 2,
			ReadHitPct: model.Known(75), WriteHitPct: model.Unknown, Estimate: true},
		{PID: 700, UID: 4242, User: "4242", Comm: "readahead", Hits: 0, Misses: 256, Dirties: 1024,
			ReadHitPct: model.Known(0), WriteHitPct: model.Unknown, Estimate: true},
	}
	if !reflect.DeepEqual(c.Processes, want) {
		t.Errorf("processes:\n got %+v\nwant %+v", c.Processes, want)
	}
	for _, s := range []string{model.SeriesCacheHitRatio, model.SeriesCacheMisses} {
		if n := snap.Series(s).Len(); n != 0 {
			t.Errorf("series %s has %d points without a system line", s, n)
		}
	}

	// Unchanged counters: an empty table, not an error.
	c, err = p.Read(fixtureT0.Add(3 * time.Second))
	if err != nil || c == nil || len(c.Processes) != 0 {
		t.Errorf("unchanged: %+v, %v", c, err)
	}
}

func TestCacheProbeBrokenProcRoot(t *testing.T) {
	if _, err := NewCacheProbe(CacheProbeConfig{ProcRoot: filepath.Join(t.TempDir(), "missing"), ForceTier: CacheTierProcfs}); err == nil {
		t.Error("a missing proc root is not an error")
	}
}

// Without privileges the probe falls back to the procfs estimate and says
// why. Run as root, the test re-executes itself as nobody.
func TestCacheProbeNotRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		if ebpf.Privileged() {
			t.Skip("privileged without being root")
		}
		p, err := NewCacheProbe(CacheProbeConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if r := p.Report(); r.Active != "" || r.Reason != ebpf.NeedsPrivilege {
			t.Fatalf("report %+v", r)
		}
		return
	}
	dir, err := os.MkdirTemp("", "vitals-cache-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "probes.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestCacheChildHelper$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), cacheChildEnv+"=nonroot")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	t.Logf("child as nobody:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	got := string(out)
	for _, want := range []string{
		"source=procfs estimate\n",
		"reason=" + ebpf.NeedsPrivilege + "\n",
		"system=false\n",
		"estimate=true user=nobody\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("child output lacks %q", want)
		}
	}
}
