package probes

import (
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

func liveScanner(t *testing.T) *ProcessScanner {
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

func procOf(procs []model.Process, pid int) (model.Process, bool) {
	for _, p := range procs {
		if int(p.PID) == pid {
			return p, true
		}
	}
	return model.Process{}, false
}

// An idle single-threaded process takes the schedstat fast path most scans,
// with rates exactly zero and everything else as a full read shows it; a
// busy one never does.
func TestProcessScannerIdleFastPath(t *testing.T) {
	s := liveScanner(t)
	idle := exec.Command("sleep", "100")
	busy := exec.Command("sh", "-c", "while :; do :; done")
	for _, c := range []*exec.Cmd{idle, busy} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	}
	now := time.Now()
	var full model.Process
	fast := 0
	for i := 0; i < 9; i++ {
		now = now.Add(200 * time.Millisecond)
		time.Sleep(200 * time.Millisecond)
		procs, scan, err := s.Scan(now)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			continue // baseline
		}
		p, ok := procOf(procs, idle.Process.Pid)
		if !ok {
			t.Fatalf("scan %d: idle process missing", i)
		}
		if i == 1 {
			full = p // the first interval reads everything
			continue
		}
		if scan.StatSkipped > 0 {
			fast++
		}
		if p.CPUPct != 0 || p.VoluntaryCSPerS != 0 || p.MinFltPerS != 0 || p.WaitPct != model.Known(0) {
			t.Errorf("scan %d: idle process has rates %+v", i, p)
		}
		if p.PID != full.PID || p.PPID != full.PPID || p.StartTicks != full.StartTicks || p.Comm != "sleep" ||
			p.Cmdline != "sleep 100" || p.User != full.User || p.RSSBytes != full.RSSBytes || p.State != "S" || p.Threads != 1 {
			t.Errorf("scan %d: idle process %+v differs from the full read %+v", i, p, full)
		}
		b, ok := procOf(procs, busy.Process.Pid)
		if !ok || b.CPUPct < 20 {
			t.Errorf("scan %d: busy process at %.1f%% CPU (found %v): it must never be skipped", i, b.CPUPct, ok)
		}
	}
	if fast == 0 {
		t.Fatal("no scan took the idle fast path")
	}
}

// When a process's parent exits, the child is reparented without running:
// the next scan must show the new parent, not the cached one.
func TestProcessScannerSeesReparenting(t *testing.T) {
	s := liveScanner(t)
	parent := exec.Command("sh", "-c", "sleep 100 </dev/null >/dev/null 2>&1 & echo $!; read x")
	stdin, _ := parent.StdinPipe()
	out, _ := parent.StdoutPipe()
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	n, _ := out.Read(buf)
	child, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		t.Fatalf("child pid: %q", buf[:n])
	}
	t.Cleanup(func() { exec.Command("kill", strconv.Itoa(child)).Run() })

	now := time.Now()
	scan := func() model.Process {
		now = now.Add(100 * time.Millisecond)
		procs, _, err := s.Scan(now)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := procOf(procs, child)
		return p
	}
	scan()
	scan()
	if p := scan(); int(p.PPID) != parent.Process.Pid {
		t.Fatalf("child's parent %d, want %d", p.PPID, parent.Process.Pid)
	}
	io.WriteString(stdin, "go\n")
	parent.Wait()
	if p := scan(); int(p.PPID) == parent.Process.Pid || p.PPID == 0 {
		t.Fatalf("after its parent exited the child still shows parent %d", p.PPID)
	}
}
