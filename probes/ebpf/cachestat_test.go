package ebpf

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/vitals-dev/vitals/bpf/cachestat"
	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

func TestMissesFormula(t *testing.T) {
	for _, tc := range []struct {
		name         string
		c            Counts
		misses, hits uint64
		ok           bool
		mmapMisses   uint64
	}{
		{"cold read", Counts{Accessed: 100, Added: 100}, 100, 0, true, 0},
		{"warm read", Counts{Accessed: 100}, 0, 100, true, 0},
		{"readahead beyond the read", Counts{Accessed: 100, Added: 160}, 100, 0, true, 0},
		{"write only", Counts{Added: 50, Dirtied: 50}, 0, 0, false, 0},
		{"write and cold read", Counts{Accessed: 10, Added: 60, Dirtied: 50}, 10, 0, true, 0},
		{"dirties of cached pages", Counts{Accessed: 10, Added: 5, Dirtied: 50}, 0, 10, true, 0},
		{"classic tier write adds", Counts{Accessed: 10, Added: 60, Dirtied: 3, WriteAdded: 50}, 10, 0, true, 0},
		// Fault adds are mmap misses, never read misses.
		{"cold mmap, warm read", Counts{Accessed: 100, MmapPages: 512, MmapAdded: 512}, 0, 100, true, 512},
		{"fault readahead beyond the mapping", Counts{MmapPages: 10, MmapAdded: 64}, 0, 0, false, 64},
		{"warm mmap", Counts{MmapPages: 512}, 0, 0, false, 0},
	} {
		if m, h := tc.c.Misses(), tc.c.Hits(); m != tc.misses || h != tc.hits {
			t.Errorf("%s: misses %d hits %d, want %d %d", tc.name, m, h, tc.misses, tc.hits)
		}
		if _, ok := tc.c.HitRatio(); ok != tc.ok {
			t.Errorf("%s: ratio known %v, want %v", tc.name, ok, tc.ok)
		}
		if m := tc.c.MmapMisses(); m != tc.mmapMisses {
			t.Errorf("%s: mmap misses %d, want %d", tc.name, m, tc.mmapMisses)
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
	opFault
	opMap
)

type testProgram struct {
	Prog  *ebpf.Program `ebpf:"test_count"`
	Procs *ebpf.Map     `ebpf:"procs"`
	Drops *ebpf.Map     `ebpf:"drop_counts"`
}

// loadTestProgram loads test_count alone, with the per-process map resized
// to procEntries when that is not 0.
func loadTestProgram(t *testing.T, procEntries uint32) *testProgram {
	t.Helper()
	spec, err := cachestat.LoadCacheStat()
	if err != nil {
		t.Fatal(err)
	}
	for name := range spec.Programs {
		if name != "test_count" {
			delete(spec.Programs, name)
		}
	}
	if procEntries != 0 {
		spec.Maps["procs"].MaxEntries = procEntries
	}
	var objs testProgram
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		objs.Prog.Close()
		objs.Procs.Close()
		objs.Drops.Close()
	})
	return &objs
}

// run runs the test program once with args (operation first) on the
// calling thread: per-thread state lives in task storage, so callers lock
// their goroutine to one thread.
func (p *testProgram) run(t *testing.T, args ...uint64) {
	t.Helper()
	ctx := make([]uint64, 5)
	copy(ctx, args)
	ret, err := p.Prog.Run(&ebpf.RunOptions{Context: ctx})
	if err != nil || ret != 0 {
		t.Fatalf("run %v: ret %d err %v", args, ret, err)
	}
}

func (p *testProgram) dropped(t *testing.T) uint64 {
	n, _ := p.lost(t)
	return n
}

// lost is the drop counters summed over CPUs: events, and their pages by
// counter (accessed, added, dirtied, write_added, mmap_pages, mmap_added).
func (p *testProgram) lost(t *testing.T) (events uint64, pages [6]uint64) {
	t.Helper()
	var perCPU []cachestat.CacheStatDrops
	if err := p.Drops.Lookup(uint32(0), &perCPU); err != nil {
		t.Fatal(err)
	}
	for _, d := range perCPU {
		events += d.ProcMapFull
		for i, n := range d.Pages {
			pages[i] += n
		}
	}
	return events, pages
}

func TestCountingLogic(t *testing.T) {
	requirePrivileged(t)
	p := loadTestProgram(t, 0)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	run := func(args ...uint64) { t.Helper(); p.run(t, args...) }

	// Our entry is keyed by tgid and start time (field 22 of stat).
	key := cachestat.CacheStatProcKey{Tgid: uint32(os.Getpid()), StartTicks: ebpftest.StartTicks(t, int32(os.Getpid()))}
	take := func() Counts {
		t.Helper()
		var v cachestat.CacheStatProcCounts
		if err := p.Procs.LookupAndDelete(key, &v); err != nil {
			return Counts{}
		}
		return Counts{Accessed: v.Accessed, Added: v.Added, Dirtied: v.Dirtied, WriteAdded: v.WriteAdded,
			MmapPages: v.MmapPages, MmapAdded: v.MmapAdded}
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

	run(opAdd, 512, 6)
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
	run(opAddClassic, 16, 10)
	run(opWriteExit)
	run(opAddClassic, 4, 10)
	check("classic write adds", Counts{Added: 20, WriteAdded: 16})

	// mmap of a cold 32-page file, touched page by page, as the kernel
	// reports it (measured with tracefs): the first fault reads the file
	// ahead, fault-around maps 16-page windows; a window is re-tried
	// when the fault inside it hits the page marked for async readahead.
	run(opFault, 20, 0)
	run(opAdd, 32, 20)
	run(opMap, 20, 0, 15, 32*page)
	run(opMap, 20, 16, 31, 32*page)
	run(opMap, 20, 16, 31, 32*page)
	run(opFault, 20, 24)
	run(opMap, 20, 16, 31, 32*page)
	check("cold mmap", Counts{MmapPages: 32, MmapAdded: 32})
	// A read after a fault: what it adds is a read miss again.
	run(opFault, 20, 31)
	run(opReadRange, 21, 0, 3, 4*page)
	run(opAdd, 4, 21)
	check("read after a fault", Counts{Accessed: 4, Added: 4})
	// Adds of another file than the faulting one are not the fault's.
	run(opFault, 22, 0)
	run(opAdd, 8, 23)
	check("fault, then another file's add", Counts{MmapPages: 1, Added: 8})
	// A write (its dirty) after a fault ends it too.
	run(opFault, 24, 0)
	run(opDirty, 1)
	run(opAdd, 2, 24)
	check("fault, write", Counts{MmapPages: 1, Dirtied: 1, Added: 2})
	// Fault-around windows are clamped to the end of the file.
	run(opMap, 25, 0, 15, 3*page)
	check("window past EOF", Counts{MmapPages: 3})
	if n := p.dropped(t); n != 0 {
		t.Errorf("%d events dropped with room in the map", n)
	}
}

// When the per-process map is full, events of a process without an entry
// are lost and counted, never silently.
func TestCountingMapFull(t *testing.T) {
	requirePrivileged(t)
	p := loadTestProgram(t, 1)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// Fill the one slot with a process that is not us.
	other := cachestat.CacheStatProcKey{Tgid: 1, StartTicks: 1}
	if err := p.Procs.Put(other, cachestat.CacheStatProcCounts{}); err != nil {
		t.Fatal(err)
	}
	p.run(t, opAdd, 5, 1)
	p.run(t, opReadRange, 1, 0, 3, 1<<20)
	if n, pages := p.lost(t); n != 2 || pages != [6]uint64{4, 5, 0, 0, 0, 0} {
		t.Errorf("dropped %d events with pages %v, want 2 with 4 accessed and 5 added", n, pages)
	}
	// Room again: counted again, the drop counter unchanged.
	if err := p.Procs.Delete(other); err != nil {
		t.Fatal(err)
	}
	p.run(t, opAdd, 5, 1)
	if n := p.dropped(t); n != 2 {
		t.Errorf("dropped %d events after making room, want 2", n)
	}
}

// The same through the loader and Drain: a 2-entry map and four readers.
func TestCacheStatDropsShown(t *testing.T) {
	requirePrivileged(t)
	dir := ebpftest.WorkDir(t)
	path := filepath.Join(dir, "small")
	if err := os.WriteFile(path, make([]byte, 16*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	c, rep, err := OpenCacheStat(nil, CacheStatOptions{LoadOptions{MaxEntries: map[string]uint32{"procs": 2}}})
	if err != nil {
		t.Fatalf("%v\n%s", err, rep)
	}
	defer c.Close()
	drain(t, c)
	for range 4 {
		ebpftest.Run(t, fmt.Sprintf("read:%s:%d", path, 4096))
	}
	procs, lost, err := c.Drain()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows, %d events dropped, lost %+v", len(procs), lost.Events, lost.Counts)
	if len(procs) > 2 || lost.Events == 0 {
		t.Errorf("%d rows and %d dropped events from a 2-entry map and 4 readers", len(procs), lost.Events)
	}
	// Every reader reads 4 pages of the file (and its executable's): all
	// pages are somewhere, in a row or in what was lost.
	var total Counts
	for _, pc := range procs {
		total.Add(pc.Counts)
	}
	total.Add(lost.Counts)
	if lost.Accessed == 0 || total.Accessed < 4*4 {
		t.Errorf("lost %d accessed pages, %d in all; want some lost and at least 16 in all", lost.Accessed, total.Accessed)
	}
	if _, again, _ := c.Drain(); again.Events > lost.Events {
		t.Errorf("drops are not per interval: %d then %d", lost.Events, again.Events)
	}
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
	pid := ebpftest.Run(t, fmt.Sprintf("read:%s:%d", empty, 4096))
	return countsOf(drain(t, c), pid).Accessed
}

// execMapped is what an mmap child maps besides its workload: the pages of
// its own executable and libraries it runs, measured with a one-page file.
func execMapped(t *testing.T, c *CacheStat, dir string) uint64 {
	t.Helper()
	one := filepath.Join(dir, "one-page")
	if err := os.WriteFile(one, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	drain(t, c)
	pid := ebpftest.Run(t, "mmap:"+one)
	return countsOf(drain(t, c), pid).MmapPages - 1
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
	procs, _, err := c.Drain()
	if err != nil {
		t.Fatal(err)
	}
	return procs
}

func within(got, want uint64, frac float64) bool {
	return float64(got) >= float64(want)*(1-frac) && float64(got) <= float64(want)*(1+frac)
}

// A controlled workload per tier: write a file, read it cold and warm with
// small and large reads from a child, map it cold and warm from another,
// and compare with what we know.
func TestCacheStatWorkload(t *testing.T) {
	requirePrivileged(t)
	dir := ebpftest.WorkDir(t)
	const (
		fileBytes = 64 << 20
		filePages = fileBytes / 4096
	)
	sess := NewSession()
	for _, tier := range []string{TierTpBTF, TierRawTp, TierTracepoint} {
		t.Run(tier, func(t *testing.T) {
			c, rep, err := OpenCacheStat(sess, CacheStatOptions{LoadOptions{ForceTier: tier}})
			if err != nil {
				t.Fatalf("%v\n%s", err, rep)
			}
			defer c.Close()
			path := filepath.Join(dir, "data-"+tier)

			drain(t, c)
			pid := ebpftest.Run(t, fmt.Sprintf("write:%s:%d", path, fileBytes))
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
						ebpftest.DropFile(t, path)
					}
					drain(t, c)
					pid := ebpftest.Run(t, fmt.Sprintf("read:%s:%d", path, bufSize))
					r := countsOf(drain(t, c), pid)
					ratio, _ := r.HitRatio()
					t.Logf("%s read, %d KiB reads: accessed %d (file %d), added %d, hits %.1f %%",
						phase, bufSize>>10, r.Accessed, filePages, r.Added, 100*ratio)
					if !within(r.Accessed, filePages, 0.05) {
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

			// mmap, cold then warm: every page the faults read in is
			// an mmap miss, and none of it is a read or a read miss.
			// Mapped pages are exact while the file's cache holds small
			// folios (the first 4 MiB of a cold mapping, read in one
			// readahead, here); past that the kernel maps large folios
			// whole and the count is a lower bound.
			mapped := execMapped(t, c, dir)
			small := filepath.Join(dir, "small-"+tier)
			if err := ebpftest.WriteFile(small, 4<<20); err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				path  string
				pages uint64
				exact bool
			}{{small, 1024, true}, {path, filePages, false}} {
				for _, phase := range []string{"cold", "warm"} {
					if phase == "cold" {
						ebpftest.DropFile(t, f.path)
					}
					drain(t, c)
					pid := ebpftest.Run(t, "mmap:"+f.path)
					m := countsOf(drain(t, c), pid)
					got := m.MmapPages - min(mapped, m.MmapPages)
					t.Logf("%s mmap of %d pages: %+v (%d beyond the %d mapped by exec)", phase, f.pages, m, got, mapped)
					// The exec baseline is another process's: the runtime
					// text a child touches varies by about 100 pages from
					// run to run under -race.
					const execNoise = 200
					lo, hi := f.pages-f.pages/20-execNoise, f.pages+f.pages/20+execNoise
					if !f.exact {
						lo = f.pages / 4
					}
					if got < lo || got > hi {
						t.Errorf("%s mmap: %d pages mapped beyond exec, want %d (exact %v)", phase, got, f.pages, f.exact)
					}
					if phase == "cold" && !within(m.MmapMisses(), f.pages, 0.05) {
						t.Errorf("cold mmap: %d mmap misses, want %d ±5 %%", m.MmapMisses(), f.pages)
					}
					if phase == "warm" && m.MmapMisses() > f.pages/20 {
						t.Errorf("warm mmap: %d mmap misses, want about 0", m.MmapMisses())
					}
					if m.Misses() > 64 || m.Accessed > 256 {
						t.Errorf("%s mmap counted as reads: accessed %d, misses %d", phase, m.Accessed, m.Misses())
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
			pid = ebpftest.Run(t, fmt.Sprintf("read:%s:%d", tiny, 128<<10))
			r := countsOf(drain(t, c), pid)
			t.Logf("tiny file, 128 KiB buffer: accessed %d, of which %d by exec", r.Accessed, base)
			if n := r.Accessed - min(base, r.Accessed); n < 3 || n > 4 {
				t.Errorf("tiny file: accessed %d pages beyond exec, want 3", n)
			}
		})
	}
}

// A process's entry carries its start time as /proc/PID/stat field 22
// says it, so that a reused pid cannot inherit another process's counts.
func TestCacheStatStartTicks(t *testing.T) {
	requirePrivileged(t)
	dir := ebpftest.WorkDir(t)
	path := filepath.Join(dir, "small")
	if err := os.WriteFile(path, make([]byte, 8*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	sess := NewSession()
	for _, tier := range []string{TierTpBTF, TierRawTp, TierTracepoint} {
		t.Run(tier, func(t *testing.T) {
			c, rep, err := OpenCacheStat(sess, CacheStatOptions{LoadOptions{ForceTier: tier}})
			if err != nil {
				t.Fatalf("%v\n%s", err, rep)
			}
			defer c.Close()
			child := ebpftest.Start(t, fmt.Sprintf("read:%s:%d", path, 4096))
			child.Done(t)
			want := ebpftest.StartTicks(t, child.PID)
			var rows []ProcCounts
			for _, p := range drain(t, c) {
				if p.PID == child.PID {
					rows = append(rows, p)
				}
			}
			child.Release(t)
			if len(rows) != 1 || rows[0].StartTicks != want {
				t.Fatalf("rows of pid %d: %+v, want one with start_ticks %d", child.PID, rows, want)
			}
			t.Logf("pid %d start_ticks %d", child.PID, want)
		})
	}
}

// Kernels before 5.6 have no batch operations: the fallback iterates and
// deletes, and must return the same counts and leave the map empty.
func TestCacheStatDrainWithoutBatch(t *testing.T) {
	requirePrivileged(t)
	c, rep, err := OpenCacheStat(nil, CacheStatOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, rep)
	}
	defer c.Close()
	c.noBatch = true
	dir := ebpftest.WorkDir(t)
	path := filepath.Join(dir, "small")
	if err := os.WriteFile(path, make([]byte, 64*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	base := execPages(t, c, dir)
	pid := ebpftest.Run(t, fmt.Sprintf("read:%s:%d", path, 4096))
	procs := drain(t, c)
	if r := countsOf(procs, pid); r.Accessed != 64+base {
		t.Errorf("accessed %d pages, want 64 + %d at exec", r.Accessed, base)
	}
	var (
		key cachestat.CacheStatProcKey
		val cachestat.CacheStatProcCounts
	)
	it := c.procs.Iterate()
	left := 0
	for it.Next(&key, &val) {
		if key.Tgid == uint32(pid) {
			left++
		}
	}
	if left != 0 {
		t.Errorf("drained process still in the map")
	}
}
