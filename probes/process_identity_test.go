package probes

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

func identityScanner(t *testing.T) *ProcessScanner {
	t.Helper()
	host, err := ReadHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd", BootTime: host.BootTime, ClockTicks: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// scanUntil scans up to 18 times until ok accepts pid's
// record, and returns the last one seen.
func scanUntil(t *testing.T, s *ProcessScanner, pid int, ok func(model.Process) bool) (model.Process, bool) {
	t.Helper()
	var last model.Process
	for i := 0; i < identityRefreshEvery+2; i++ {
		procs, _, err := s.Scan(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range procs {
			if p.PID == int32(pid) {
				last = p
				if ok(p) {
					return p, true
				}
			}
		}
	}
	return last, false
}

func startCleanup(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
}

// An exec that keeps comm (sh execs sh) changes the command line: it shows
// within identityRefreshEvery scans, so a process cannot hide its real
// arguments behind the ones it started with.
func TestProcessScannerSeesExecWithSameComm(t *testing.T) {
	cmd := exec.Command("sh", "-c", `sleep 2; exec sh -c "while :; do sleep 1; done" hidden-args`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	startCleanup(t, cmd)
	pid := cmd.Process.Pid
	s := identityScanner(t)
	if p, ok := scanUntil(t, s, pid, func(p model.Process) bool { return strings.Contains(p.Cmdline, "sleep 2") }); !ok {
		t.Fatalf("before the exec: cmdline %q", p.Cmdline)
	}
	time.Sleep(time.Until(start.Add(2500 * time.Millisecond))) // the exec has happened
	// Both command lines mention hidden-args; only the first says sleep 2.
	p, ok := scanUntil(t, s, pid, func(p model.Process) bool {
		return strings.Contains(p.Cmdline, "hidden-args") && !strings.Contains(p.Cmdline, "sleep 2")
	})
	if !ok {
		t.Fatalf("after an exec that kept comm %q, cmdline is still %q", p.Comm, p.Cmdline)
	}
	if p.Comm != "sh" {
		t.Fatalf("comm %q: the test meant an exec that keeps it", p.Comm)
	}
}

// A process moved to another memory cgroup shows the new one within
// identityRefreshEvery scans (it was read only when first seen).
func TestProcessScannerSeesCgroupMove(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("moving a process between cgroups needs root")
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	// The hierarchy the scanner reports: v1's memory controller, else v2.
	root := "/sys/fs/cgroup"
	if strings.Contains(string(self), ":memory:") {
		root = "/sys/fs/cgroup/memory"
	} else if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		root = "/sys/fs/cgroup/unified"
	}
	cmd := exec.Command("sleep", "100")
	startCleanup(t, cmd)
	pid := cmd.Process.Pid
	s := identityScanner(t)
	before, ok := scanUntil(t, s, pid, func(model.Process) bool { return true })
	if !ok {
		t.Fatal("the child is not listed")
	}
	name := "vitals-test-" + strconv.Itoa(os.Getpid())
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	origin := filepath.Join(root, before.Cgroup, "cgroup.procs")
	t.Cleanup(func() {
		_ = os.WriteFile(origin, []byte(strconv.Itoa(pid)), 0)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.Remove(dir)
	})
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		t.Skipf("cannot move the child to %s: %v", dir, err)
	}
	p, ok := scanUntil(t, s, pid, func(p model.Process) bool { return p.Cgroup == "/"+name })
	if !ok {
		t.Fatalf("moved from %q to /%s, the scanner still says %q", before.Cgroup, name, p.Cgroup)
	}
}
