package probes

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

func init() {
	childActions["iterwork"] = iterWork
}

var sink atomic.Pointer[[]byte] // keeps the children's touched memory alive

// iterWork is a child for the tier comparison: it blocks opening the FIFO
// at args' path until the test has taken its baselines, then, in THREADS
// threads each, burns CPU, sleeps (voluntary switches), faults in memory
// and writes a file with fsync (I/O), and returns (its threads exit).
// "iterwork:FIFO:THREADS:DIR".
func iterWork(args string) error {
	parts := strings.Split(args, ":")
	if len(parts) != 3 {
		return fmt.Errorf("iterwork: want FIFO:THREADS:DIR, got %q", args)
	}
	threads, err := strconv.Atoi(parts[1])
	if err != nil {
		return err
	}
	f, err := os.OpenFile(parts[0], os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, f)
	f.Close()
	var wg sync.WaitGroup
	errs := make(chan error, threads)
	for i := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // a thread of its own, ended with the goroutine
			for end := time.Now().Add(40 * time.Millisecond); time.Now().Before(end); {
			}
			for range 3 {
				time.Sleep(2 * time.Millisecond)
			}
			mem := make([]byte, 2<<20)
			for j := 0; j < len(mem); j += 4096 {
				mem[j] = 1
			}
			sink.Store(&mem)
			if err := os.WriteFile(filepath.Join(parts[2], fmt.Sprint(os.Getpid(), "-", i)), mem[:256<<10], 0o600); err != nil {
				errs <- err
				return
			}
			w, err := os.OpenFile(filepath.Join(parts[2], fmt.Sprint(os.Getpid(), "-", i)), os.O_RDWR, 0)
			if err == nil {
				err = w.Sync()
				w.Close()
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// TestIterMatchesProcfs scans the same child processes with both tiers,
// each scanner taking its baseline and its second scan with the same
// timestamps and back to back, while the children are idle: every field
// of every child must be equal, CPU times within one tick.
func TestIterMatchesProcfs(t *testing.T) {
	ebpftest.RequirePrivileged(t, ebpf.Privileged())
	host, err := ReadHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	newScanner := func(iter bool) *ProcessScanner {
		d := &model.Demand{}
		d.Set(model.DemandSet{IO: true})
		s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd",
			BootTime: host.BootTime, ClockTicks: host.ClockTicks, Demand: d})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if iter {
			if err := s.LoadBPF(ebpf.NewSession()); err != nil {
				t.Fatalf("load the task iterator: %v (%s)", err, s.Features()[0])
			}
		}
		return s
	}
	iter, procfs := newScanner(true), newScanner(false)

	dir := ebpftest.WorkDir(t)
	fifo := filepath.Join(dir, "go")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	var kids []*ebpftest.Child
	for _, threads := range []int{1, 1, 4} {
		kids = append(kids, ebpftest.Start(t, fmt.Sprintf("iterwork:%s:%d:%s", fifo, threads, dir)))
	}
	// Runs before the children's own cleanup (which waits for them): a
	// writer's open lets them past the FIFO if the test ends early.
	t.Cleanup(func() {
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	})
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	pids := map[int32]bool{int32(sleeper.Process.Pid): true}
	for _, k := range kids {
		pids[k.PID] = true
	}
	// Until every child blocks on the FIFO (Go starts a few threads).
	waitBlocked(t, kids)

	t0 := time.Now()
	scan := func(s *ProcessScanner, now time.Time) map[int32]model.Process {
		procs, _, err := s.Scan(now)
		if err != nil {
			t.Logf("scan: %v", err) // other processes may be unreadable; ours are checked below
		}
		return byPID(procs)
	}
	scan(iter, t0)
	scan(procfs, t0)
	if iter.ScanTier() != ScanTierIter || iter.iter == nil {
		t.Fatalf("the iterator scanner runs %s", iter.ScanTier())
	}

	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	for _, k := range kids {
		k.Done(t)
	}
	time.Sleep(100 * time.Millisecond) // the children settle in their final wait
	t1 := t0.Add(time.Second)
	a := scan(iter, t1)
	b := scan(procfs, t1)

	hz := float64(host.ClockTicks)
	tick := 100 / hz // one tick over the 1 s interval, in %
	for pid := range pids {
		pa, oka := a[pid]
		pb, okb := b[pid]
		if !oka || !okb {
			t.Errorf("pid %d: iter saw it %v, procfs %v", pid, oka, okb)
			continue
		}
		t.Logf("pid %d iter:   %+v", pid, pa)
		t.Logf("pid %d procfs: %+v", pid, pb)
		if d := int64(pa.CPUTimeTicks) - int64(pb.CPUTimeTicks); d < -1 || d > 1 {
			t.Errorf("pid %d: CPU time %d ticks (iter) vs %d (procfs)", pid, pa.CPUTimeTicks, pb.CPUTimeTicks)
		}
		for _, f := range []struct {
			name   string
			ia, ib float64
		}{{"user", pa.UserPct, pb.UserPct}, {"system", pa.SystemPct, pb.SystemPct}, {"cpu", pa.CPUPct, pb.CPUPct}} {
			if math.Abs(f.ia-f.ib) > tick+1e-9 {
				t.Errorf("pid %d: %s %% %.2f (iter) vs %.2f (procfs): more than a tick apart", pid, f.name, f.ia, f.ib)
			}
		}
		// Everything else is equal.
		pa.CPUTimeTicks, pa.ProcessCPURates.UserPct, pa.ProcessCPURates.SystemPct, pa.ProcessCPURates.CPUPct = 0, 0, 0, 0
		pb.CPUTimeTicks, pb.ProcessCPURates.UserPct, pb.ProcessCPURates.SystemPct, pb.ProcessCPURates.CPUPct = 0, 0, 0, 0
		if !reflect.DeepEqual(pa, pb) {
			t.Errorf("pid %d differs:\n iter   %+v\n procfs %+v", pid, pa, pb)
		}
	}
	// The children did what they were asked: the comparison is not of zeros.
	for _, k := range kids {
		p := a[k.PID]
		if p.CPUPct <= 0 || p.VoluntaryCSPerS < 3 || p.MinFltPerS < 100 || !p.WriteBytesPerS.OK || p.WriteBytesPerS.V < 100<<10 || !p.WaitPct.OK {
			t.Errorf("pid %d: the workload does not show: %+v", k.PID, p)
		}
	}
}

// waitBlocked waits until every child's threads are all asleep.
func waitBlocked(t *testing.T, kids []*ebpftest.Child) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, k := range kids {
		for {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", k.PID))
			if err == nil && strings.Contains(string(b), "partner") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("child %d does not block on the FIFO (wchan %q, %v)", k.PID, b, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond) // the Go runtime's own threads go quiet
}

func TestCputimeAdjust(t *testing.T) {
	for _, c := range []struct {
		u, s, r, pu, ps, wu, ws uint64
	}{
		{0, 0, 100, 0, 0, 100, 0},                           // no ticks: all user
		{10, 0, 100, 0, 0, 100, 0},                          // no system ticks
		{0, 10, 100, 0, 0, 0, 100},                          // no user ticks
		{30, 10, 100, 0, 0, 75, 25},                         // scaled to the run time
		{30, 10, 100, 0, 40, 60, 40},                        // stime never below prev
		{30, 10, 100, 90, 0, 90, 10},                        // utime never below prev
		{30, 10, 100, 60, 40, 60, 40},                       // prev already covers rtime
		{1 << 40, 1 << 40, 1 << 41, 0, 0, 1 << 40, 1 << 40}, // no overflow
	} {
		u, s := cputimeAdjust(c.u, c.s, c.r, c.pu, c.ps)
		if u != c.wu || s != c.ws {
			t.Errorf("cputimeAdjust(%d, %d, %d, prev %d/%d) = %d, %d; want %d, %d", c.u, c.s, c.r, c.pu, c.ps, u, s, c.wu, c.ws)
		}
	}
}

func TestTaskStateLetter(t *testing.T) {
	for _, c := range []struct {
		state, exit uint32
		want        byte
	}{
		{0, 0, 'R'}, {0x1, 0, 'S'}, {0x2, 0, 'D'}, {0x402, 0, 'I'}, {0x4, 0, 'T'}, {0x8, 0, 't'},
		{0x80, 0x20, 'Z'}, {0x80, 0x10, 'X'}, {0x40, 0, 'P'}, {0x8000 | 0x1, 0, 'D'}, {0x1000 | 0x1, 0, 'D'},
		{0x100 | 0x1, 0, 'S'}, // TASK_KILLABLE-style extra bits do not show
	} {
		if got := taskStateLetter(c.state, c.exit); got != c.want {
			t.Errorf("taskStateLetter(%#x, %#x) = %c, want %c", c.state, c.exit, got, c.want)
		}
	}
}
