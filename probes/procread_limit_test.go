package probes

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// openFDs counts this process's open fds.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// withFDLimit lowers the soft RLIMIT_NOFILE to n for the test.
func withFDLimit(t *testing.T, n uint64) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// Under ulimit -n 32 the scanner keeps no fds (everything else in vitals
// needs them) and reads every process by open/read/close.
func TestKeptFDLimitLeavesHeadroom(t *testing.T) {
	var hard syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &hard); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ limit, want uint64 }{{32, 0}, {256, 0}, {512, 128}, {1024, 384}, {20000, 9872}, {65536, 16384}} {
		if c.limit > hard.Max {
			continue
		}
		withFDLimit(t, c.limit)
		if got := keptFDLimit(); got != int(c.want) {
			t.Errorf("RLIMIT_NOFILE %d: the scanner may keep %d fds, want %d", c.limit, got, c.want)
		}
	}
}

// A scan whose kept fds meet a limit lowered under it (or fds taken by
// something else) sheds kept fds and reads the rest by open/read/close:
// every process is read, none is "unreadable: too many open files".
func TestScanShedsKeptFDsAtTheLimit(t *testing.T) {
	host, err := ReadHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd", BootTime: host.BootTime, ClockTicks: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Scan(time.Now()); err != nil {
		t.Fatal(err)
	}
	procs, _, err := s.Scan(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if s.rd.keptFDs < 40 {
		t.Skipf("only %d fds kept for %d processes: too few to test shedding", s.rd.keptFDs, len(procs))
	}
	// Room for 20 more fds than are open now: well below what the scanner
	// wants to keep for the processes it has not seen.
	kept := s.rd.keptFDs
	s.rd.forgetUnused(0) // as if all processes were new
	withFDLimit(t, uint64(openFDs(t)+20))
	s.rd.keptLimit = 1 << 20 // it does not know of the new limit
	procs, _, err = s.Scan(time.Now())
	if err != nil {
		t.Fatalf("scan at the fd limit: %v", err)
	}
	if len(procs) < 10 {
		t.Fatalf("scan at the fd limit listed %d processes", len(procs))
	}
	if s.rd.keptLimit >= 1<<20 || s.rd.keptFDs > 20 {
		t.Fatalf("after meeting the limit: limit %d, %d fds kept (had %d)", s.rd.keptLimit, s.rd.keptFDs, kept)
	}
}
