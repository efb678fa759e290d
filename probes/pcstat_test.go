package probes

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

// pcstatChildEnv makes the test binary run ReadProcessFiles for
// "PID:TICKS:METHOD" (METHOD mincore forces the fallback) and print the
// result as JSON (run as nobody by the permission test).
const pcstatChildEnv = "VITALS_TEST_PCSTAT_CHILD"

func TestPcstatChildHelper(t *testing.T) {
	spec := os.Getenv(pcstatChildEnv)
	if spec == "" {
		return // only does something when a test runs it as its child
	}
	pid, rest, _ := strings.Cut(spec, ":")
	ticks, method, _ := strings.Cut(rest, ":")
	if method == pcstatMethodMincore {
		cachestat = func(uint, *unix.CachestatRange, *unix.Cachestat_t, uint) error { return unix.ENOSYS }
	}
	p, err1 := strconv.Atoi(pid)
	st, err2 := strconv.ParseUint(ticks, 10, 64)
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "child: bad spec", spec)
		os.Exit(1)
	}
	pf := ReadProcessFiles("/proc", model.ProcKey{PID: int32(p), StartTicks: st}, 0)
	if err := json.NewEncoder(os.Stdout).Encode(pf); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

const pcstatFileSize = 8 << 20 // 2048 pages

// pcstatFixture is a sleeping child holding open files in a disk-backed
// directory: "warm" (8 MiB, read fully: cached), "cold" (8 MiB, dropped
// from the cache), "dirty" (1 MiB written, not synced) and "empty"; warm is
// held twice, through two separate opens.
type pcstatFixture struct {
	dir                      string
	warm, cold, dirty, empty string
	cmd                      *exec.Cmd
	key                      model.ProcKey
}

func pcstatWrite(t *testing.T, path string, size int, sync bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*7 + 1)
	}
	for left := size; left > 0; left -= len(buf) {
		if _, err := f.Write(buf[:min(left, len(buf))]); err != nil {
			t.Fatal(err)
		}
	}
	if !sync {
		return
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
}

// newPcstatFixture starts the child; cred, when set, is whom it runs as.
func newPcstatFixture(t *testing.T, cred *syscall.Credential, extra ...string) *pcstatFixture {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep(1)")
	}
	fx := &pcstatFixture{dir: ebpftest.WorkDir(t)}
	fx.warm = filepath.Join(fx.dir, "warm")
	fx.cold = filepath.Join(fx.dir, "cold")
	fx.dirty = filepath.Join(fx.dir, "dirty")
	fx.empty = filepath.Join(fx.dir, "empty")
	pcstatWrite(t, fx.warm, pcstatFileSize, true)
	if err := ebpftest.ReadFile(fx.warm, 1<<20); err != nil {
		t.Fatal(err)
	}
	pcstatWrite(t, fx.cold, pcstatFileSize, true)
	pcstatWrite(t, fx.dirty, 1<<20, false)
	pcstatWrite(t, fx.empty, 0, false)

	cmd := exec.Command(sleep, "100")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	for _, p := range append([]string{fx.warm, fx.cold, fx.dirty, fx.empty, fx.warm}, extra...) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close() // the child has its own copy once started
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	fx.cmd = cmd
	fx.key = model.ProcKey{PID: int32(cmd.Process.Pid), StartTicks: startTicksOf(t, cmd.Process.Pid)}
	return fx
}

func pcstatFile(pf *model.ProcessFiles, path string) (model.FileResidency, int) {
	n := 0
	var got model.FileResidency
	for _, f := range pf.Files {
		if f.Path == path {
			got = f
			n++
		}
	}
	return got, n
}

// checkPcstatCounts checks the fixture's files in pf; withDirty says the
// method counts dirty pages.
func checkPcstatCounts(t *testing.T, fx *pcstatFixture, pf *model.ProcessFiles, withDirty bool) {
	t.Helper()
	if pf.PID != fx.key.PID || pf.StartTicks != fx.key.StartTicks || pf.Reason != "" {
		t.Errorf("pid %d ticks %d reason %q, want %d %d and no reason", pf.PID, pf.StartTicks, pf.Reason, fx.key.PID, fx.key.StartTicks)
	}
	if len(pf.Files) != 4 {
		t.Errorf("%d files, want 4 (warm once, cold, dirty, empty; no /dev/null): %+v", len(pf.Files), pf.Files)
	}
	warm, n := pcstatFile(pf, fx.warm)
	if n != 1 {
		t.Fatalf("warm listed %d times, want once: %+v", n, pf.Files)
	}
	t.Logf("%s warm: %+v", pf.Method, warm)
	if warm.SizeBytes != pcstatFileSize || warm.Pages != 2048 || !cacheWithin(warm.CachedPages, 2048, 0.02) || warm.DirtyPages != 0 {
		t.Errorf("warm %+v, want 8 MiB, 2048 pages, ≈2048 cached, none dirty", warm)
	}
	cold, n := pcstatFile(pf, fx.cold)
	t.Logf("%s cold: %+v", pf.Method, cold)
	if n != 1 || cold.Pages != 2048 || cold.CachedPages >= 2048*5/100 {
		t.Errorf("cold %+v (listed %d times), want 2048 pages, < 5 %% cached", cold, n)
	}
	dirty, n := pcstatFile(pf, fx.dirty)
	t.Logf("%s dirty: %+v", pf.Method, dirty)
	if n != 1 || dirty.Pages != 256 || !cacheWithin(dirty.CachedPages, 256, 0.02) {
		t.Errorf("dirty %+v (listed %d times), want 256 pages, ≈256 cached", dirty, n)
	}
	if withDirty && !cacheWithin(dirty.DirtyPages, 256, 0.02) {
		t.Errorf("dirty file has %d dirty pages, want ≈256", dirty.DirtyPages)
	}
	if !withDirty && dirty.DirtyPages != 0 {
		t.Errorf("dirty pages %d without a way to count them", dirty.DirtyPages)
	}
	empty, n := pcstatFile(pf, fx.empty)
	if n != 1 || empty != (model.FileResidency{Path: fx.empty}) {
		t.Errorf("empty %+v (listed %d times)", empty, n)
	}
	// Most cached first, ties by path.
	for i := 1; i < len(pf.Files); i++ {
		a, b := pf.Files[i-1], pf.Files[i]
		if a.CachedPages < b.CachedPages || (a.CachedPages == b.CachedPages && a.Path > b.Path) {
			t.Errorf("files out of order: %+v", pf.Files)
			break
		}
	}
}

func TestPcstatReadProcessFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (O_NOATIME and reading /var/tmp files of the child as the owner work unprivileged, but the dirty test wants a quiet writeback)")
	}
	fx := newPcstatFixture(t, nil)
	pf := ReadProcessFiles("/proc", fx.key, 50)
	if pf.Method != pcstatMethodCachestat {
		t.Errorf("method %q, want cachestat on Linux 6.5+", pf.Method)
	}
	checkPcstatCounts(t, fx, pf, true)

	// maxFiles keeps the most cached.
	pf = ReadProcessFiles("/proc", fx.key, 2)
	if len(pf.Files) != 2 || pf.Files[0].Path != fx.warm || pf.Files[1].Path != fx.dirty {
		t.Errorf("maxFiles 2: %+v, want warm then dirty", pf.Files)
	}
}

// Kernels before 6.5 have no cachestat(2): the mincore fallback must count
// the same.
func TestPcstatMincoreFallback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	calls := 0
	old := cachestat
	cachestat = func(uint, *unix.CachestatRange, *unix.Cachestat_t, uint) error {
		calls++
		return unix.ENOSYS
	}
	t.Cleanup(func() { cachestat = old })
	fx := newPcstatFixture(t, nil)
	pf := ReadProcessFiles("/proc", fx.key, 50)
	if pf.Method != pcstatMethodMincore {
		t.Errorf("method %q, want mincore", pf.Method)
	}
	if calls != 1 {
		t.Errorf("cachestat tried %d times, want once (then mincore for the rest)", calls)
	}
	checkPcstatCounts(t, fx, pf, false)

	// Both methods agree on the same files.
	cachestat = old
	cs := ReadProcessFiles("/proc", fx.key, 50)
	for _, f := range pf.Files {
		g, _ := pcstatFile(cs, f.Path)
		if !cacheWithin(f.CachedPages, g.CachedPages, 0.02) {
			t.Errorf("%s: mincore %d cached, cachestat %d", f.Path, f.CachedPages, g.CachedPages)
		}
	}
}

func TestPcstatProcessFilesExited(t *testing.T) {
	fx := newPcstatFixture(t, nil)
	want := fmt.Sprintf("process %d has exited", fx.key.PID)

	wrong := fx.key
	wrong.StartTicks++
	pf := ReadProcessFiles("/proc", wrong, 50)
	if pf.Reason != want || len(pf.Files) != 0 || pf.PID != wrong.PID || pf.StartTicks != wrong.StartTicks {
		t.Errorf("wrong start time: %+v, want reason %q and no files", pf, want)
	}

	fx.cmd.Process.Kill()
	fx.cmd.Wait()
	pf = ReadProcessFiles("/proc", fx.key, 50)
	if pf.Reason != want || len(pf.Files) != 0 {
		t.Errorf("killed and reaped: %+v, want reason %q and no files", pf, want)
	}

	pf = ReadProcessFiles("/proc", model.ProcKey{}, 50)
	if !strings.HasSuffix(pf.Reason, "has exited") || len(pf.Files) != 0 {
		t.Errorf("zero key: %+v", pf)
	}
}

// Files the reader may not open, or may open but neither owns nor may
// write (cachestat(2) refuses those; mincore(2) would claim them all
// resident), are skipped and the reason says so; the reader's own files are
// measured. Run as root: the child holding the files and the reader run as
// nobody; the fixture's files are root's (0644) and so is "secret" (0600).
func TestPcstatProcessFilesNotPermitted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the processes as nobody")
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	extra := ebpftest.WorkDir(t)
	secret := filepath.Join(extra, "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(extra, "own")
	pcstatWrite(t, own, 1<<20, false) // 256 pages, cached
	if err := os.Chown(own, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	fx := newPcstatFixture(t, nobody, secret, own)

	dir, err := os.MkdirTemp("", "vitals-pcstat-nobody-")
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
	for _, method := range []string{pcstatMethodCachestat, pcstatMethodMincore} {
		cmd := exec.Command(bin, "-test.run=^TestPcstatChildHelper$")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d:%d:%s", pcstatChildEnv, fx.key.PID, fx.key.StartTicks, method))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		var pf model.ProcessFiles
		if err := json.Unmarshal(out, &pf); err != nil {
			t.Fatalf("child output %q: %v", out, err)
		}
		t.Logf("as nobody, %s: %+v", method, pf)
		if want := pcstatReasonNotMeasurable + "; " + pcstatReasonNotReadable; pf.Reason != want {
			t.Errorf("%s: reason %q, want %q", method, pf.Reason, want)
		}
		if pf.Method != method {
			t.Errorf("method %q, want %q", pf.Method, method)
		}
		if len(pf.Files) != 1 || pf.Files[0].Path != own || !cacheWithin(pf.Files[0].CachedPages, 256, 0.02) {
			t.Errorf("%s: files %+v, want only %s with ≈256 cached pages", method, pf.Files, own)
		}
	}
}

// The cache probe fills Files for the process the Demand names, and only
// then.
func TestCacheProbePcstatDemand(t *testing.T) {
	fx := newPcstatFixture(t, nil)
	var demand model.Demand
	p, err := NewCacheProbe(CacheProbeConfig{ForceTier: CacheTierProcfs, Demand: &demand})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	now := time.Now()
	if c, err := p.Read(now); c != nil || err != nil {
		t.Fatalf("baseline: %v %v", c, err)
	}
	now = now.Add(time.Second)
	c, err := p.Read(now)
	if err != nil || c == nil {
		t.Fatalf("read: %v %v", c, err)
	}
	if c.Files != nil {
		t.Errorf("files without demand: %+v", c.Files)
	}

	demand.Set(model.DemandSet{FilesOf: fx.key})
	now = now.Add(time.Second)
	c, err = p.Read(now)
	if err != nil || c == nil {
		t.Fatalf("read: %v %v", c, err)
	}
	if c.Files == nil || c.Files.PID != fx.key.PID {
		t.Fatalf("files %+v, want pcstat of %d", c.Files, fx.key.PID)
	}
	if warm, n := pcstatFile(c.Files, fx.warm); n != 1 || !cacheWithin(warm.CachedPages, 2048, 0.02) {
		t.Errorf("warm %+v (listed %d times): %+v", warm, n, c.Files)
	}

	demand.Set(model.DemandSet{})
	now = now.Add(time.Second)
	if c, err = p.Read(now); err != nil || c == nil || c.Files != nil {
		t.Errorf("after the demand ends: %+v %v", c, err)
	}
}
