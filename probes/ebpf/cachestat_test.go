package ebpf

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/bpf/cachestat"
)

func TestMissesFormula(t *testing.T) {
	for _, tc := range []struct {
		name         string
		c            Counts
		misses, hits uint64
		ok           bool
	}{
		{"cold read", Counts{Accessed: 100, Added: 100}, 100, 0, true},
		{"warm read", Counts{Accessed: 100}, 0, 100, true},
		{"readahead beyond the read", Counts{Accessed: 100, Added: 160}, 100, 0, true},
		{"write only", Counts{Added: 50, Dirtied: 50}, 0, 0, false},
		{"write and cold read", Counts{Accessed: 10, Added: 60, Dirtied: 50}, 10, 0, true},
		{"dirties of cached pages", Counts{Accessed: 10, Added: 5, Dirtied: 50}, 0, 10, true},
		{"classic tier write adds", Counts{Accessed: 10, Added: 60, Dirtied: 3, WriteAdded: 50}, 10, 0, true},
	} {
		if m, h := tc.c.Misses(), tc.c.Hits(); m != tc.misses || h != tc.hits {
			t.Errorf("%s: misses %d hits %d, want %d %d", tc.name, m, h, tc.misses, tc.hits)
		}
		if _, ok := tc.c.HitRatio(); ok != tc.ok {
			t.Errorf("%s: ratio known %v, want %v", tc.name, ok, tc.ok)
		}
	}
}

// The counting functions of cachestat.bpf.c, run by BPF_PROG_TEST_RUN
// through the raw_tp test program, which calls them with scalars.
const (
	opReadRange = iota + 1
	opAdd
	opDirty
	opWriteEnter
	opWriteExit
	opReadEnter
	opReadExit
	opAddClassic
)

func TestCountingLogic(t *testing.T) {
	requirePrivileged(t)
	spec, err := cachestat.LoadCacheStat()
	if err != nil {
		t.Fatal(err)
	}
	for name := range spec.Programs {
		if name != "test_count" {
			delete(spec.Programs, name)
		}
	}
	var objs struct {
		Prog   *ebpf.Program `ebpf:"test_count"`
		Procs  *ebpf.Map     `ebpf:"procs"`
		Totals *ebpf.Map     `ebpf:"system_totals"`
	}
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		t.Fatal(err)
	}
	defer objs.Prog.Close()
	defer objs.Procs.Close()
	defer objs.Totals.Close()

	// Per-thread de-dup state lives in task storage: stay on one thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	run := func(args ...uint64) {
		t.Helper()
		ctx := make([]uint64, 5)
		copy(ctx, args)
		ret, err := objs.Prog.Run(&ebpf.RunOptions{Context: ctx})
		if err != nil || ret != 0 {
			t.Fatalf("run %v: ret %d err %v", args, ret, err)
		}
	}
	pid := uint32(os.Getpid())
	take := func() Counts {
		t.Helper()
		var v cachestat.CacheStatProcCounts
		if err := objs.Procs.LookupAndDelete(pid, &v); err != nil {
			return Counts{}
		}
		return Counts{Accessed: v.Accessed, Added: v.Added, Dirtied: v.Dirtied, WriteAdded: v.WriteAdded}
	}
	const page = 4096
	unknown := uint64(math.MaxUint64) // i_size -1: not known (classic tier)
	check := func(what string, want Counts) {
		t.Helper()
		if got := take(); got != want {
			t.Errorf("%s: got %+v, want %+v", what, got, want)
		}
	}

	// One 1 MiB read fires once per batch with the remaining range.
	run(opReadRange, 1, 0, 255, 1<<30)
	run(opReadRange, 1, 16, 255, 1<<30)
	run(opReadRange, 1, 200, 255, 1<<30)
	check("one read in three batches", Counts{Accessed: 256})
	// The next read, and the same range of another file, count again.
	run(opReadRange, 1, 256, 511, 1<<30)
	run(opReadRange, 2, 256, 511, 1<<30)
	check("next read, other file", Counts{Accessed: 512})
	// 4 KiB reads: one page each.
	for i := uint64(0); i < 10; i++ {
		run(opReadRange, 3, i, i, 1<<30)
	}
	check("4 KiB reads", Counts{Accessed: 10})
	// A 128 KiB buffer on a 3-page file: clamped to end of file, then
	// the read at EOF counts nothing; an empty file counts nothing.
	run(opReadRange, 4, 0, 31, 3*page)
	run(opReadRange, 4, 3, 34, 3*page)
	run(opReadRange, 5, 0, 31, 0)
	run(opReadRange, 6, 0, 31, 3*page-100)
	check("tiny files", Counts{Accessed: 6})

	run(opAdd, 512)
	run(opDirty, 16)
	check("add and dirty", Counts{Added: 512, Dirtied: 16})

	// Classic tier: pages held during a read syscall, clamped to the
	// bytes it returned.
	run(opReadEnter)
	run(opReadRange, 7, 0, 31, unknown)
	run(opReadExit, 3*page)
	run(opReadEnter)
	run(opReadRange, 7, 3, 34, unknown)
	run(opReadExit, 0)
	run(opReadEnter)
	run(opReadRange, 8, 0, 255, unknown)
	run(opReadRange, 8, 100, 255, unknown)
	run(opReadExit, 1<<20)
	check("classic reads", Counts{Accessed: 3 + 256})
	run(opReadEnter)
	run(opReadRange, 9, 0, 31, unknown)
	run(opReadExit, uint64(^uint64(0))) // -1: error
	check("failed read", Counts{})

	// Classic tier: adds inside write syscalls are marked.
	run(opWriteEnter)
	run(opAddClassic, 16)
	run(opWriteExit)
	run(opAddClassic, 4)
	check("classic write adds", Counts{Added: 20, WriteAdded: 16})

	// The system totals saw everything, per CPU.
	var perCPU []cachestat.CacheStatTotals
	if err := objs.Totals.Lookup(uint32(0), &perCPU); err != nil {
		t.Fatal(err)
	}
	var sys Counts
	for _, c := range perCPU {
		sys.add(Counts{Accessed: c.Accessed, Added: c.Added, Dirtied: c.Dirtied, WriteAdded: c.WriteAdded})
	}
	want := Counts{Accessed: 256 + 512 + 10 + 6 + 259, Added: 512 + 20, Dirtied: 16, WriteAdded: 16}
	if sys != want {
		t.Errorf("system totals %+v, want %+v", sys, want)
	}
}

// workDir is a directory on a real disk: tmpfs has no page-cache misses.
func workDir(t *testing.T) string {
	t.Helper()
	for _, d := range []string{"/var/tmp", os.TempDir(), "."} {
		var st unix.Statfs_t
		if unix.Statfs(d, &st) != nil || st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC {
			continue
		}
		dir, err := os.MkdirTemp(d, "vitals-cachestat-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	t.Fatal("no directory on a disk-backed filesystem")
	return ""
}

// child runs the test binary as a workload and returns its pid.
func child(t *testing.T, spec string) int32 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+spec)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", spec, err, out)
	}
	return int32(cmd.Process.Pid)
}

// execPages is what a child reads besides its workload: the first page of
// its executable at exec, and of ld.so and libc when dynamically linked (as
// with -race).
func execPages(t *testing.T, c *CacheStat, dir string) uint64 {
	t.Helper()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	drain(t, c)
	pid := child(t, fmt.Sprintf("read:%s:%d", empty, 4096))
	return countsOf(drain(t, c), pid).Accessed
}

func countsOf(procs []ProcCounts, pid int32) Counts {
	for _, p := range procs {
		if p.PID == pid {
			return p.Counts
		}
	}
	return Counts{}
}

func drain(t *testing.T, c *CacheStat) []ProcCounts {
	t.Helper()
	_, procs, err := c.Drain()
	if err != nil {
		t.Fatal(err)
	}
	return procs
}

// A controlled workload per tier: write a file, read it cold and warm with
// small and large reads from a child, and compare with what we know.
func TestCacheStatWorkload(t *testing.T) {
	requirePrivileged(t)
	dir := workDir(t)
	const (
		fileBytes = 64 << 20
		filePages = fileBytes / 4096
	)
	for _, tier := range []string{TierTpBTF, TierRawTp, TierTracepoint} {
		t.Run(tier, func(t *testing.T) {
			c, rep, err := OpenCacheStat(CacheStatOptions{LoadOptions{ForceTier: tier}})
			if err != nil {
				t.Fatalf("%v\n%s", err, rep)
			}
			defer c.Close()
			path := filepath.Join(dir, "data-"+tier)

			drain(t, c)
			pid := child(t, fmt.Sprintf("write:%s:%d", path, fileBytes))
			w := countsOf(drain(t, c), pid)
			t.Logf("write 64 MiB: %+v misses %d", w, w.Misses())
			// Writes add pages; they must be matched by dirtied pages
			// (or adds inside write syscalls), not left as read misses.
			if w.Added < filePages*9/10 {
				t.Errorf("write added %d pages, want about %d", w.Added, filePages)
			}
			if unmatched := w.Added - min(w.Added, w.writePages()); unmatched > filePages/50 {
				t.Errorf("write: %d added pages not explained by writes", unmatched)
			}
			if w.Accessed > 64 || w.Misses() > 64 {
				t.Errorf("write counted as reads: accessed %d misses %d", w.Accessed, w.Misses())
			}

			for _, bufSize := range []int{4 << 10, 1 << 20} {
				for _, phase := range []string{"cold", "warm"} {
					if phase == "cold" {
						f, err := os.Open(path)
						if err != nil {
							t.Fatal(err)
						}
						err = dropCache(f)
						f.Close()
						if err != nil {
							t.Fatal(err)
						}
					}
					drain(t, c)
					pid := child(t, fmt.Sprintf("read:%s:%d", path, bufSize))
					r := countsOf(drain(t, c), pid)
					ratio, _ := r.HitRatio()
					t.Logf("%s read, %d KiB reads: accessed %d (file %d), added %d, hits %.1f %%",
						phase, bufSize>>10, r.Accessed, filePages, r.Added, 100*ratio)
					if lo, hi := uint64(filePages*95/100), uint64(filePages*105/100); r.Accessed < lo || r.Accessed > hi {
						t.Errorf("%s %d KiB: accessed %d pages, want %d ±5 %%", phase, bufSize>>10, r.Accessed, filePages)
					}
					if phase == "cold" && ratio >= 0.10 {
						t.Errorf("cold %d KiB: hit ratio %.1f %%, want < 10 %%", bufSize>>10, 100*ratio)
					}
					if phase == "warm" && ratio <= 0.90 {
						t.Errorf("warm %d KiB: hit ratio %.1f %%, want > 90 %%", bufSize>>10, 100*ratio)
					}
				}
			}

			// A 3-page file read with a 128 KiB buffer is 3 pages, not 32.
			// Every child also reads the first page of its executable
			// at exec: measure that with an empty file and subtract.
			tiny := filepath.Join(dir, "tiny-"+tier)
			if err := os.WriteFile(tiny, make([]byte, 3*4096), 0o644); err != nil {
				t.Fatal(err)
			}
			base := execPages(t, c, dir)
			pid = child(t, fmt.Sprintf("read:%s:%d", tiny, 128<<10))
			r := countsOf(drain(t, c), pid)
			t.Logf("tiny file, 128 KiB buffer: accessed %d, of which %d by exec", r.Accessed, base)
			if n := r.Accessed - min(base, r.Accessed); n < 3 || n > 4 {
				t.Errorf("tiny file: accessed %d pages beyond exec, want 3", n)
			}
		})
	}
}

// Kernels before 5.6 have no batch operations: the fallback iterates and
// deletes, and must return the same counts and leave the map empty.
func TestCacheStatDrainWithoutBatch(t *testing.T) {
	requirePrivileged(t)
	c, rep, err := OpenCacheStat(CacheStatOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, rep)
	}
	defer c.Close()
	c.noBatch = true
	dir := workDir(t)
	path := filepath.Join(dir, "small")
	if err := os.WriteFile(path, make([]byte, 64*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	base := execPages(t, c, dir)
	pid := child(t, fmt.Sprintf("read:%s:%d", path, 4096))
	procs := drain(t, c)
	if r := countsOf(procs, pid); r.Accessed != 64+base {
		t.Errorf("accessed %d pages, want 64 + %d at exec", r.Accessed, base)
	}
	var key uint32
	var val cachestat.CacheStatProcCounts
	it := c.procs.Iterate()
	left := 0
	for it.Next(&key, &val) {
		if key == uint32(pid) {
			left++
		}
	}
	if left != 0 {
		t.Errorf("drained process still in the map")
	}
}
