package probes

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/probes/ebpf"
	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

// benchProcesses is the process count the benchmark scans: the size of a
// busy desktop or a small server, and the size shared/notes/procfs.md
// measures other tools at.
const benchProcesses = 2000

// spawnIdle starts idle `sleep` children until the machine has about n
// processes, and stops them when the benchmark ends.
func spawnIdle(b *testing.B, n int) {
	b.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		b.Skip("no /proc:", err)
	}
	have := 0
	for _, e := range entries {
		if _, ok := parseDecimal([]byte(e.Name())); ok {
			have++
		}
	}
	var children []*exec.Cmd
	b.Cleanup(func() {
		for _, c := range children {
			c.Process.Kill()
		}
		for _, c := range children {
			c.Wait()
		}
	})
	for ; have < n; have++ {
		c := exec.Command("sleep", "100000")
		if err := c.Start(); err != nil {
			b.Fatalf("start idle child %d: %v", len(children), err)
		}
		children = append(children, c)
	}
}

// benchScan scans repeatedly and reports per-process cost and allocations
// (mallocs counted over the timed loop).
func benchScan(b *testing.B, s *ProcessScanner) {
	b.ReportAllocs()
	now := time.Now()
	_, scan, err := s.Scan(now) // baseline: every process is new
	if err != nil {
		b.Fatal(err)
	}
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	mallocs := mem.Mallocs
	cpu0 := processCPUTime(b)
	processes := 0
	for b.Loop() {
		now = now.Add(time.Second)
		_, scan, err = s.Scan(now)
		if err != nil {
			b.Fatal(err)
		}
		processes += scan.Processes
	}
	cpu := processCPUTime(b) - cpu0
	runtime.ReadMemStats(&mem)
	if processes == 0 {
		b.Fatal("no processes scanned")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(processes), "ns/process")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(processes), "cpu-ns/process")
	b.ReportMetric(float64(mem.Mallocs-mallocs)/float64(processes), "allocs/process")
	b.ReportMetric(float64(processes)/float64(b.N), "processes")
}

// processCPUTime is the user+system time this process has used: what a scan
// costs the machine, unlike wall time, which includes waiting for a CPU.
func processCPUTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkProcessScan scans this machine's /proc with at least 2,000
// processes (idle children are added to get there).
func BenchmarkProcessScan(b *testing.B) {
	spawnIdle(b, benchProcesses)
	boot := time.Now() // only ages of new processes depend on it
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd", BootTime: boot, ClockTicks: 100})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchScan(b, s)
}

// BenchmarkProcessScanFixture scans the hand-made fixture tree: parsing and
// bookkeeping cost on a regular filesystem, independent of the machine.
func BenchmarkProcessScanFixture(b *testing.B) {
	s, _ := newFixtureScanner(b, "proc-scan-t1")
	benchScan(b, s)
}

// BenchmarkProcessScanIter is BenchmarkProcessScan through the BPF task
// iterator (needs root or CAP_BPF+CAP_PERFMON).
func BenchmarkProcessScanIter(b *testing.B) {
	ebpftest.RequirePrivileged(b, ebpf.Privileged())
	spawnIdle(b, benchProcesses)
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd", BootTime: time.Now(), ClockTicks: 100})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.LoadBPF(ebpf.NewSession()); err != nil {
		b.Fatal(err)
	}
	benchScan(b, s)
}
