package probes

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

// Live tests of the kernel-event probes (issue 10). Each looks only at
// what it creates: its children's pids, its own cgroup.

// keventActions are the workload children these tests start (the test
// binary re-run; see ebpftest.Main).
var keventActions = map[string]ebpftest.Action{
	// oomhog:DIR joins the memory cgroup DIR and allocates until killed
	// (bounded: 512 MiB, then it exits 3).
	"oomhog": func(dir string) error {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			return err
		}
		var keep [][]byte
		for i := 0; i < 512; i++ {
			b := make([]byte, 1<<20)
			for j := 0; j < len(b); j += 4096 {
				b[j] = 1
			}
			keep = append(keep, b)
		}
		runtime.KeepAlive(keep)
		os.Exit(3)
		return nil
	},
	// spin:MS pins itself to CPUs 0 and 1 and spins for MS ms.
	"spin": func(arg string) error {
		ms, _ := strconv.Atoi(arg)
		pinTwoCPUs()
		runtime.LockOSThread()
		end := time.Now().Add(time.Duration(ms) * time.Millisecond)
		for n := 0; time.Now().Before(end); n++ {
		}
		return nil
	},
	// sleeper:MS pins itself to CPUs 0 and 1 and sleeps 1 ms at a time
	// for MS ms: a task that is woken a thousand times a second.
	"sleeper": func(arg string) error {
		ms, _ := strconv.Atoi(arg)
		pinTwoCPUs()
		runtime.LockOSThread()
		end := time.Now().Add(time.Duration(ms) * time.Millisecond)
		for time.Now().Before(end) {
			unix.Nanosleep(&unix.Timespec{Nsec: 1e6}, nil)
		}
		return nil
	},
}

func pinTwoCPUs() {
	var set unix.CPUSet
	set.Set(0)
	set.Set(1)
	_ = unix.SchedSetaffinity(0, &set)
}

// collect drains src until done says so or 5 s pass.
func collect(t *testing.T, src EventSource, done func([]model.Event) bool) []model.Event {
	t.Helper()
	var evs []model.Event
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs = src.Drain(evs)
		if done(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			return evs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shortShell copies /bin/sh to a file with a distinctive name, so its
// comm tells our short-lived commands from everything else.
func shortShell(t *testing.T) string {
	t.Helper()
	src, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	src, _ = filepath.EvalSymlinks(src)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("vtlshort%d", os.Getpid()%100000))
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

type wantProc struct {
	args   []string
	code   int // -1: killed
	signal int
}

func TestExecExitEventsLive(t *testing.T) {
	ebpftest.RequirePrivileged(t, ebpf.Privileged())
	sh := shortShell(t)
	comm := filepath.Base(sh)
	if len(comm) > 15 {
		comm = comm[:15]
	}
	for _, tier := range []string{ebpf.TierTpBTF, ebpf.TierRawTp, ebpf.TierTracepoint} {
		t.Run(tier, func(t *testing.T) {
			p, _ := NewExecExitProbe(ExecExitConfig{ForceTier: tier})
			defer p.Close()
			if p.reader == nil {
				t.Fatalf("no eBPF tier: %s", p.feature)
			}
			const n = 40
			wants := map[int32]wantProc{}
			run := func(args []string, code, sig int) {
				cmd := exec.Command(sh, args[1:]...)
				err := cmd.Run()
				var ee *exec.ExitError
				if !errors.As(err, &ee) && !(err == nil && code == 0) {
					t.Fatalf("%v: %v", args, err)
				}
				wants[int32(cmd.Process.Pid)] = wantProc{args: args, code: code, signal: sig}
			}
			for i := 0; i < n; i++ {
				code := 1 + i%100
				run([]string{sh, "-c", "exit $1", fmt.Sprintf("vtl-arg-%d", i), strconv.Itoa(code)}, code, 0)
			}
			run([]string{sh, "-c", "kill -KILL $$"}, -1, 9)
			// 25 arguments, one of 200 bytes: 20 kept, the long one cut.
			long := []string{sh, "-c", "exit 0", strings.Repeat("x", 200)}
			for len(long) < 25 {
				long = append(long, fmt.Sprintf("a%d", len(long)))
			}
			run(long, 0, 0)

			type seen struct{ exec, exit *model.Event }
			got := map[int32]*seen{}
			evs := collect(t, p.reader, func(evs []model.Event) bool {
				for i := range evs {
					ev := &evs[i]
					if _, ok := wants[ev.PID]; !ok {
						continue
					}
					s := got[ev.PID]
					if s == nil {
						s = &seen{}
						got[ev.PID] = s
					}
					switch ev.Kind {
					case model.EventExec:
						s.exec = ev
					case model.EventExit:
						s.exit = ev
					}
				}
				for pid := range wants {
					if s := got[pid]; s == nil || s.exec == nil || s.exit == nil {
						return false
					}
				}
				return true
			})
			var lifetimes, cpus, rss []float64
			zeroCPU := 0
			for pid, w := range wants {
				s := got[pid]
				if s == nil || s.exec == nil || s.exit == nil {
					t.Errorf("pid %d (%v): exec %v exit %v", pid, w.args, s != nil && s.exec != nil, s != nil && s.exit != nil)
					continue
				}
				x := s.exec.Data.(*model.ExecData)
				if s.exec.Comm != comm || s.exec.PPID != int32(os.Getpid()) {
					t.Errorf("pid %d: comm %q ppid %d, want %q %d", pid, s.exec.Comm, s.exec.PPID, comm, os.Getpid())
				}
				wantArgs := w.args
				if len(wantArgs) > model.MaxExecArgs {
					wantArgs = slices.Clone(wantArgs[:model.MaxExecArgs])
					for i, a := range wantArgs {
						if len(a) > model.MaxExecArgBytes-1 {
							wantArgs[i] = a[:model.MaxExecArgBytes-1]
						}
					}
					if !x.ArgsTruncated {
						t.Errorf("pid %d: 25 arguments, one of 200 bytes, not flagged truncated", pid)
					}
				}
				if !slices.Equal(x.Args, wantArgs) {
					t.Errorf("pid %d: args %q, want %q", pid, x.Args, wantArgs)
				}
				e := s.exit.Data.(*model.ExitData)
				if w.signal != 0 {
					if e.Signal.V != float64(w.signal) || e.ExitCode.OK || e.SignalName != "SIGKILL" {
						t.Errorf("pid %d: signal %v (%s) exit %v, want signal %d", pid, e.Signal, e.SignalName, e.ExitCode, w.signal)
					}
				} else if !e.ExitCode.OK || int(e.ExitCode.V) != w.code || e.Signal.OK {
					t.Errorf("pid %d: exit code %v signal %v, want %d", pid, e.ExitCode, e.Signal, w.code)
				}
				if s.exit.StartTicks != s.exec.StartTicks || s.exit.StartTicks == 0 {
					t.Errorf("pid %d: start ticks exec %d exit %d", pid, s.exec.StartTicks, s.exit.StartTicks)
				}
				// CPU may be 0: the exiting thread's running slice is only
				// counted up to its runqueue clock's last update.
				if !(e.LifetimeS.V > 0 && e.LifetimeS.V < 5) || !e.CPUS.OK || !(e.MaxRSSBytes.V > 0 && e.MaxRSSBytes.V < 64<<20) {
					t.Errorf("pid %d: lifetime %v cpu %v max rss %v", pid, e.LifetimeS, e.CPUS, e.MaxRSSBytes)
				}
				lifetimes = append(lifetimes, e.LifetimeS.V*1e3)
				cpus = append(cpus, e.CPUS.V*1e6)
				rss = append(rss, e.MaxRSSBytes.V/(1<<20))
				if e.CPUS.V == 0 {
					zeroCPU++
				}
			}
			loss := p.reader.Loss()
			t.Logf("%s: %d of %d commands seen with exec, args and exit status (%d events in all); lifetime median %.2f ms, CPU median %.0f µs (%d at 0), peak RSS median %.2f MiB; lost kernel %d queue %d",
				tier, len(lifetimes), len(wants), len(evs), median(lifetimes), median(cpus), zeroCPU, median(rss), loss.KernelDropped, loss.QueueDropped)
		})
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// A burst of execs into a 4 KiB ring buffer (one exec record fits) and an
// 8-event queue: both kinds of loss are counted, nothing hangs.
func TestExecRingOverflowCountsDropsLive(t *testing.T) {
	ebpftest.RequirePrivileged(t, ebpf.Privileged())
	p, _ := NewExecExitProbe(ExecExitConfig{RingBytes: 4096, QueueLen: 8})
	if p.reader == nil {
		t.Fatalf("no eBPF tier: %s", p.feature)
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 40
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_ = exec.Command(truePath).Run()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	time.Sleep(100 * time.Millisecond)
	loss := p.reader.Loss()
	queued := len(p.reader.Drain(nil))
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung after an overflow")
	}
	t.Logf("%d execs in %v: kernel dropped %d, queue dropped %d, %d queued", workers*each, took.Round(time.Millisecond), loss.KernelDropped, loss.QueueDropped, queued)
	if loss.KernelDropped == 0 {
		t.Error("a 4 KiB ring buffer took a burst of execs without a drop")
	}
	if loss.QueueDropped == 0 {
		t.Error("an 8-event queue took the burst without a drop")
	}
	if queued > 8 {
		t.Errorf("%d events queued, bound 8", queued)
	}
}

// memCgroupV1 makes a v1 memory cgroup with a limit and removes it at the
// end of the test.
func memCgroupV1(t *testing.T, limit int) (dir, path string) {
	t.Helper()
	root := "/sys/fs/cgroup/memory"
	if _, err := os.Stat(filepath.Join(root, "memory.limit_in_bytes")); err != nil {
		t.Fatalf("no v1 memory hierarchy at %s: %v", root, err)
	}
	name := fmt.Sprintf("vitals-oomtest-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	dir = filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; ; i++ {
			err := os.Remove(dir)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			if i == 100 {
				t.Errorf("remove cgroup %s: %v", dir, err)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "memory.limit_in_bytes"), []byte(strconv.Itoa(limit)), 0); err != nil {
		t.Fatal(err)
	}
	// Swap would let the child page out instead of being killed.
	_ = os.WriteFile(filepath.Join(dir, "memory.swappiness"), []byte("0"), 0)
	return dir, "/" + name
}

func TestOOMKillLive(t *testing.T) {
	ebpftest.RequirePrivileged(t, ebpf.Privileged())
	const limit = 32 << 20
	for _, mode := range []struct{ name, tier string }{{"ebpf", ""}, {"kmsg", model.TierProcfs}} {
		t.Run(mode.name, func(t *testing.T) {
			p, _ := NewOOMKillProbe(OOMKillConfig{ForceTier: mode.tier})
			defer p.Close()
			srcs := p.EventSources()
			if len(srcs) != 1 || (mode.tier == "" && p.reader == nil) || (mode.tier != "" && p.kmsg == nil) {
				t.Fatalf("%s: no source: %s", mode.name, p.feature)
			}
			dir, cgPath := memCgroupV1(t, limit)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "VITALS_EBPF_TEST_CHILD=oomhog:"+dir)
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child in a %d MiB cgroup: %v, want killed", limit>>20, err)
			}
			pid := int32(cmd.Process.Pid)
			var kill *model.Event
			collect(t, srcs[0], func(evs []model.Event) bool {
				for i := range evs {
					if evs[i].Kind == model.EventOOMKill && evs[i].PID == pid {
						kill = &evs[i]
						return true
					}
				}
				return false
			})
			if kill == nil {
				t.Fatalf("no oom_kill event for pid %d (%s)", pid, p.feature.Tier)
			}
			d := kill.Data.(*model.OOMKillData)
			t.Logf("%s (%s): victim %d %q anon %.1f MiB file %.1f MiB shmem %.1f MiB, cgroup %s (of %s) limit %.1f MiB usage %.1f MiB, constraint %q, trigger %d %q, %v after the kill",
				mode.name, p.feature.Tier, d.VictimPID, d.VictimComm, d.VictimAnonRSSBytes.V/(1<<20), d.VictimFileRSSBytes.V/(1<<20),
				d.VictimShmemRSSBytes.V/(1<<20), d.VictimCgroup, d.CgroupOf, d.CgroupLimitBytes.V/(1<<20), d.CgroupUsageBytes.V/(1<<20),
				d.Constraint, d.TriggerPID, d.TriggerComm, time.Since(kill.Time).Round(time.Millisecond))
			if d.VictimPID != pid || d.VictimComm != "probes.test" {
				t.Errorf("victim %d %q, want %d probes.test", d.VictimPID, d.VictimComm, pid)
			}
			if d.VictimCgroup != cgPath || !d.CgroupLimitBytes.OK || d.CgroupLimitBytes.V != limit {
				t.Errorf("cgroup %q limit %v, want %q %d", d.VictimCgroup, d.CgroupLimitBytes, cgPath, limit)
			}
			// The Go runtime's heap from before the child joined the
			// cgroup stays charged to the parent's (v1 moves no charges),
			// so RSS may exceed the limit.
			if !(d.VictimAnonRSSBytes.V > limit/2 && d.VictimAnonRSSBytes.V < limit+(128<<20)) {
				t.Errorf("anon RSS %v, want above half the 32 MiB limit", d.VictimAnonRSSBytes)
			}
			if d.Constraint != "memcg" && mode.name == "kmsg" {
				t.Errorf("constraint %q, want memcg", d.Constraint)
			}
		})
	}
}

// Run-queue latency of our own children: a task that sleeps 1 ms at a
// time waits longer for a CPU when six busy children share its two CPUs
// than when it has them to itself, and the busy children wait most of the
// time.
func TestRunQLatRisesUnderLoadLive(t *testing.T) {
	ebpftest.RequirePrivileged(t, ebpf.Privileged())
	if runtime.NumCPU() < 2 {
		t.Skip("needs 2 CPUs")
	}
	rq, rep, err := ebpf.OpenRunQLat(nil, ebpf.LoadOptions{ForceTier: ebpf.TierTpBTF})
	if err != nil {
		t.Fatalf("%v\n%s", err, rep)
	}
	defer rq.Close()
	waitOf := func(procs []model.RunQWait, pids ...int32) (waitS float64, waits uint64) {
		for _, p := range procs {
			if slices.Contains(pids, p.PID) {
				waitS += p.WaitS
				waits += p.Waits
			}
		}
		return waitS, waits
	}
	phase := func(spinners int) (sleeperMeanUs, spinWaitPct float64, slow uint64) {
		if _, err := rq.Read(true); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var spin []*ebpftest.Child
		var spinPIDs []int32
		for i := 0; i < spinners; i++ {
			c := ebpftest.Start(t, "spin:1500")
			spin = append(spin, c)
			spinPIDs = append(spinPIDs, c.PID)
		}
		s := ebpftest.Start(t, "sleeper:700")
		s.Done(t)
		rd, err := rq.Read(true)
		if err != nil {
			t.Fatal(err)
		}
		window := time.Since(start).Seconds()
		ws, n := waitOf(rd.Procs, s.PID)
		if n == 0 {
			t.Fatalf("no waits recorded for the sleeper (pid %d)", s.PID)
		}
		sw, _ := waitOf(rd.Procs, spinPIDs...)
		for _, cpu := range rd.PerCPU {
			for i := 11; i < len(cpu); i++ { // 1 ms and more
				slow += cpu[i]
			}
		}
		s.Release(t)
		for _, c := range spin {
			c.Release(t)
		}
		return ws / float64(n) * 1e6, sw / window * 100, slow
	}
	idleMean, _, idleSlow := phase(0)
	loadMean, spinPct, loadSlow := phase(6)
	t.Logf("sleeper's mean run-queue wait: idle %.0f µs, with 6 busy children on 2 CPUs %.0f µs; busy children waited %.0f%% of the time (4 CPUs' worth = 400%%); system-wide waits ≥ 1 ms: %d idle, %d loaded",
		idleMean, loadMean, spinPct, idleSlow, loadSlow)
	if loadMean < 2*idleMean {
		t.Errorf("mean wait under load %.0f µs, not above twice idle's %.0f µs", loadMean, idleMean)
	}
	if spinPct < 200 {
		t.Errorf("6 busy children on 2 CPUs waited %.0f%% of the time, want most of 400%%", spinPct)
	}
}
