// Package ebpftest is the harness the eBPF tests of probes/ebpf and probes
// share: the test binary re-run as a workload child (its pid is known, so
// its counts can be picked out of the kernel's per-process map, and a
// child that holds can be inspected in /proc), files on a disk-backed
// filesystem, and checks that look only at the BPF objects this process
// loaded. Only tests import it.
package ebpftest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// childEnv makes the test binary a workload child: "ACTION:ARGS".
const childEnv = "VITALS_EBPF_TEST_CHILD"

// holdEnv makes a child print "done" after its action and wait for its
// stdin to close before it exits.
const holdEnv = "VITALS_EBPF_TEST_HOLD"

// Action is a child workload; args is the spec after "ACTION:".
type Action func(args string) error

// Main is the body of a package's TestMain: in a workload child it runs the
// action named by the environment (the built-in ones, or extra) and exits;
// otherwise it runs the tests.
//
// Built-in actions:
//
//	write:PATH:BYTES   write the file, fsync it and drop it from the cache
//	read:PATH:BUFSIZE  read the file to the end with read(2) of BUFSIZE
//	mmap:PATH          map the file and load one byte of every page
//	dio:DEV:WRITES:READS  O_DIRECT DIOBlock writes, then reads (DirectIO)
func Main(m *testing.M, extra map[string]Action) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		os.Exit(m.Run())
	}
	if err := runChild(spec, extra); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	if os.Getenv(holdEnv) != "" {
		fmt.Println("done")
		_, _ = io.Copy(io.Discard, os.Stdin)
	}
	os.Exit(0)
}

func runChild(spec string, extra map[string]Action) error {
	action, args, _ := strings.Cut(spec, ":")
	if a, ok := extra[action]; ok {
		return a(args)
	}
	path, n, _ := strings.Cut(args, ":")
	switch action {
	case "write":
		size, err := strconv.Atoi(n)
		if err != nil {
			return err
		}
		return WriteFile(path, size)
	case "read":
		bufSize, err := strconv.Atoi(n)
		if err != nil {
			return err
		}
		return ReadFile(path, bufSize)
	case "mmap":
		return TouchMapped(path)
	case "dio":
		return DirectIO(args)
	}
	return fmt.Errorf("unknown child action %q", action)
}

// Run runs the test binary as a workload child to its end and returns its
// pid.
func Run(t testing.TB, spec string) int32 {
	t.Helper()
	cmd := childCommand(spec)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", spec, err, out)
	}
	return int32(cmd.Process.Pid)
}

// Child is a workload child that holds after its action, so that its
// /proc entry can be read and its counts drained while it lives.
type Child struct {
	PID   int32
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Reader
	spec  string
}

// Start starts a holding child. Wait for its action with Done; it exits at
// Release (or at the end of the test).
func Start(t testing.TB, spec string) *Child {
	t.Helper()
	cmd := childCommand(spec)
	cmd.Env = append(cmd.Env, holdEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child %s: %v", spec, err)
	}
	c := &Child{PID: int32(cmd.Process.Pid), cmd: cmd, stdin: stdin, lines: bufio.NewReader(stdout), spec: spec}
	t.Cleanup(func() { c.stop() })
	return c
}

// Done waits until the child has done its action.
func (c *Child) Done(t testing.TB) {
	t.Helper()
	line, err := c.lines.ReadString('\n')
	if strings.TrimSpace(line) != "done" {
		c.stop()
		t.Fatalf("child %s: %q, %v", c.spec, line, err)
	}
}

// Release lets the child exit and waits for it.
func (c *Child) Release(t testing.TB) {
	t.Helper()
	if err := c.stop(); err != nil {
		t.Fatalf("child %s: %v", c.spec, err)
	}
}

func (c *Child) stop() error {
	if c.stdin == nil {
		return nil
	}
	c.stdin.Close()
	c.stdin = nil
	return c.cmd.Wait()
}

// Command is the command that runs the test binary as a workload child,
// for tests that need their own process attributes (a new namespace).
func Command(spec string) *exec.Cmd { return childCommand(spec) }

func childCommand(spec string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+spec)
	return cmd
}

// RunAsNobody runs a copy of the test binary as uid/gid 65534 with the
// workload spec and returns what it printed. The copy sits in a directory
// nobody can reach, as the test binary's own may not be.
func RunAsNobody(t testing.TB, spec string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vitals-ebpf-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(os.Args[0]))
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"="+spec)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child as nobody: %v\n%s", err, out)
	}
	return string(out)
}

// RequirePrivileged skips a test that needs eBPF privileges when it lacks
// them, except with CI set, where the skip would hide a broken probe and is
// a failure.
func RequirePrivileged(t testing.TB, privileged bool) {
	t.Helper()
	if privileged {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but the test is not privileged: eBPF tests need root or CAP_BPF+CAP_PERFMON")
	}
	t.Skip("needs root or CAP_BPF+CAP_PERFMON")
}

// WorkDir is a new directory on a disk-backed filesystem (tmpfs has no
// page-cache misses and bypasses the read path the probes watch), removed
// at the end of the test.
func WorkDir(t testing.TB) string {
	t.Helper()
	for _, d := range []string{"/var/tmp", os.TempDir(), "."} {
		var st unix.Statfs_t
		if unix.Statfs(d, &st) != nil || st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC {
			continue
		}
		dir, err := os.MkdirTemp(d, "vitals-ebpf-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	t.Fatal("no directory on a disk-backed filesystem")
	return ""
}

// WriteFile writes size bytes to path, then writes them back and drops
// them from the page cache, so the next read is cold.
func WriteFile(path string, size int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	for left := size; left > 0; {
		n := min(left, len(buf))
		if _, err := f.Write(buf[:n]); err != nil {
			return err
		}
		left -= n
	}
	return DropCache(f)
}

// DropCache writes back and evicts a file's pages (the test's own file
// only, never the whole machine's cache).
func DropCache(f *os.File) error {
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// DropFile is DropCache by path.
func DropFile(t testing.TB, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := DropCache(f); err != nil {
		t.Fatal(err)
	}
}

// CachedPages is how many of the file's pages are in the page cache
// (cachestat(2), Linux 6.5+).
func CachedPages(t testing.TB, path string) uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cs unix.Cachestat_t
	if err := unix.Cachestat(uint(f.Fd()), &unix.CachestatRange{}, &cs, 0); err != nil {
		t.Fatalf("cachestat %s: %v", path, err)
	}
	return cs.Cache
}

// ReadFile reads path to the end with reads of bufSize bytes.
func ReadFile(path string, bufSize int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, bufSize)
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

// TouchMapped maps path read-only and loads one byte of every page, so
// every page is faulted in and nothing goes through read(2).
func TouchMapped(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap %s: %w", path, err)
	}
	defer unix.Munmap(data)
	var sum byte
	for i := 0; i < len(data); i += os.Getpagesize() {
		sum += data[i]
	}
	touched = sum // kept, or the compiler drops the loads
	return nil
}

var touched byte

// StartTicks is field 22 of /proc/PID/stat: the start time in clock ticks
// after boot.
func StartTicks(t testing.TB, pid int32) uint64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The comm field (2) may hold spaces and parentheses: count from
	// the last ')'; the field after it is field 3.
	i := bytes.LastIndexByte(data, ')')
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		t.Fatalf("/proc/%d/stat: %d fields after comm", pid, len(fields))
	}
	v, err := strconv.ParseUint(fields[22-3], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// WaitReleased waits until none of the given programs and maps exists in
// the kernel any more (it frees them after an RCU grace period) and fails
// the test after 5 s. It looks up exactly these ids, so BPF objects of
// anything else on the machine (another vitals as root) do not matter.
func WaitReleased(t testing.TB, progs []ebpf.ProgramID, maps []ebpf.MapID) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var alive []string
		for _, id := range progs {
			p, err := ebpf.NewProgramFromID(id)
			if err == nil {
				// An id is only reused after wrapping 2^31: same id,
				// still ours.
				p.Close()
				alive = append(alive, fmt.Sprintf("program %d", id))
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("look up program %d: %v", id, err)
			}
		}
		for _, id := range maps {
			m, err := ebpf.NewMapFromID(id)
			if err == nil {
				m.Close()
				alive = append(alive, fmt.Sprintf("map %d", id))
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("look up map %d: %v", id, err)
			}
		}
		if len(alive) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still loaded 5 s after Close: %s", strings.Join(alive, ", "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Loaded checks that every id names a program the kernel has now.
func Loaded(t testing.TB, progs []ebpf.ProgramID) {
	t.Helper()
	if len(progs) == 0 {
		t.Fatal("no program ids recorded")
	}
	for _, id := range progs {
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			t.Fatalf("program %d not loaded: %v", id, err)
		}
		p.Close()
	}
}
