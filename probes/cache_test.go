package probes

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

// bpfFDs counts this process's open BPF objects (programs, maps, links).
func bpfFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "anon_inode:bpf") {
			n++
		}
	}
	return n
}

func cacheRowOf(c *model.Cache, pid int32) (model.CacheProcess, bool) {
	for _, r := range c.Processes {
		if r.PID == pid {
			return r, true
		}
	}
	return model.CacheProcess{}, false
}

func cacheWithin(got, want uint64, frac float64) bool {
	return float64(got) >= float64(want)*(1-frac) && float64(got) <= float64(want)*(1+frac)
}

// The real kernel: a child writes a 32 MiB file and drops it from the
// cache, another reads it cold, a third warm; the children's rows must say
// so.
func TestCacheProbeEBPF(t *testing.T) {
	ebpftest.RequirePrivileged(t, ebpf.Privileged())
	dir := ebpftest.WorkDir(t)
	const (
		fileBytes = 32 << 20
		filePages = fileBytes / 4096
	)
	for _, tier := range []string{"", ebpf.TierTracepoint} {
		name := tier
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			bpfBefore := bpfFDs(t)
			p, err := NewCacheProbe(CacheProbeConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd", ForceTier: tier})
			if err != nil {
				t.Fatal(err)
			}
			if n := bpfFDs(t); n <= bpfBefore {
				t.Errorf("%d BPF fds open with the probe, %d before", n, bpfBefore)
			}
			// Set once the probe's programs are known: checks, by id,
			// that exactly they are gone after Close.
			released := func() {}
			defer func() {
				if err := p.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				released()
				if err := p.Close(); err != nil {
					t.Errorf("second Close: %v", err)
				}
				if n := bpfFDs(t); n != bpfBefore {
					t.Errorf("%d BPF fds open after Close, %d before", n, bpfBefore)
				}
				if _, err := p.Read(time.Now()); err == nil {
					t.Error("Read after Close did not fail")
				}
			}()
			fs := p.Features()
			if len(fs) != 1 || !fs[0].EBPF() {
				t.Fatalf("no eBPF tier: %+v", fs)
			}
			rep := fs[0]
			if tier != "" && rep.Tier != tier {
				t.Fatalf("forced %s, active %s", tier, rep.Tier)
			}
			// The programs this probe loaded, by id: gone after Close.
			progs, maps := p.stat.ProgramIDs(), p.stat.MapIDs()
			ebpftest.Loaded(t, progs)
			released = func() { ebpftest.WaitReleased(t, progs, maps) }
			t.Logf("tier %s", rep.Tier)
			store := model.NewStore(model.Host{}, 1, 60)
			if err := publish(p, time.Now(), store); err != nil {
				t.Fatal(err)
			}
			if store.Snapshot().Sample.Cache != nil {
				t.Fatal("the baseline Sample published")
			}
			read := func() *model.Cache {
				t.Helper()
				c, err := p.Read(time.Now())
				if err != nil || c == nil {
					t.Fatalf("Read: %v, %v", c, err)
				}
				return c
			}

			path := filepath.Join(dir, "data-"+name)
			wpid := ebpftest.Run(t, fmt.Sprintf("write:%s:%d", path, fileBytes))
			c := read()
			if c.Source != "ebpf" || c.Tier != rep.Tier || c.Reason != "" || c.System == nil {
				t.Fatalf("source %q tier %q reason %q system %v", c.Source, c.Tier, c.Reason, c.System)
			}
			if len(c.Tiers) != len(rep.Tiers) {
				t.Errorf("tiers %+v, report %+v", c.Tiers, rep.Tiers)
			}
			// The tracepoint tier sees no folio size and counts one page
			// per dirtied folio (large folios: far fewer than the pages).
			w, ok := cacheRowOf(c, wpid)
			t.Logf("write: %+v", w)
			if wantDirty := rep.Tier != ebpf.TierTracepoint; !ok || w.Dirties == 0 ||
				(wantDirty && !cacheWithin(w.Dirties, filePages, 0.1)) {
				t.Errorf("writer row %+v (found %v): want about %d dirtied pages", w, ok, filePages)
			}

			rpid := ebpftest.Run(t, "read:"+path+":1048576")
			c = read()
			cold, ok := cacheRowOf(c, rpid)
			t.Logf("cold: %+v", cold)
			if !ok || !cacheWithin(cold.Misses, filePages, 0.1) || !cold.ReadHitPct.OK || cold.ReadHitPct.V >= 10 {
				t.Errorf("cold read row %+v (found %v): want misses %d ±10 %%, read hit < 10 %%", cold, ok, filePages)
			}
			if cold.Comm != "probes.test" || cold.UID != uint32(os.Getuid()) || cold.User == "" {
				t.Errorf("cold read row: comm %q uid %d user %q", cold.Comm, cold.UID, cold.User)
			}

			rpid = ebpftest.Run(t, "read:"+path+":1048576")
			now := time.Now()
			if err := publish(p, now, store); err != nil {
				t.Fatal(err)
			}
			snap := store.Snapshot()
			c = snap.Sample.Cache
			if c == nil {
				t.Fatal("Sample published no cache")
			}
			warm, ok := cacheRowOf(c, rpid)
			t.Logf("warm: %+v", warm)
			t.Logf("system: %+v", *c.System)
			if !ok || !cacheWithin(warm.Hits, filePages, 0.1) || !warm.ReadHitPct.OK || warm.ReadHitPct.V <= 90 {
				t.Errorf("warm read row %+v (found %v): want hits %d ±10 %%, read hit > 90 %%", warm, ok, filePages)
			}
			if s := c.System; s.AccessesPerS <= 0 || !s.HitRatio.OK {
				t.Errorf("system %+v: want accesses and a known hit ratio", *s)
			}
			for i := 1; i < len(c.Processes); i++ {
				a, b := c.Processes[i-1], c.Processes[i]
				if a.Hits < b.Hits || (a.Hits == b.Hits && a.PID > b.PID) {
					t.Errorf("rows not sorted by hits, pid: %+v before %+v", a, b)
				}
			}
			for _, s := range []string{model.SeriesCacheHitRatio, model.SeriesCacheMisses} {
				if v := snap.Series(s); v.Len() != 1 || v.At(0).UnixMilli != now.UnixMilli() {
					t.Errorf("series %s: %d points", s, v.Len())
				}
			}
		})
	}
}

// The fixtures proc-cache-t0 and proc-cache-t1 are hand-made (MiB = 2^20,
// pages of 4 KiB), read 2 s apart by the process scanner (with I/O asked
// for), whose frame the cache probe estimates from. Between t0 and t1:
//
//	100 reader (uid 1000): rchar +4 MiB, read_bytes +1 MiB, write_bytes +8 KiB
//	    → 1024 pages accessed, 256 misses, 768 hits, 75 %, 2 dirtied.
//	200 "warm cat" (uid 0): rchar +8 MiB, read_bytes +0 → 2048 hits, 100 %.
//	700 readahead (uid 4242, not in passwd): rchar +1 MiB, read_bytes
//	    +2 MiB (readahead beyond the reads), write_bytes +4 MiB → 256
//	    misses clamped to 256 accessed, 0 hits, 0 %, 1024 dirtied.
//	300: the pid was reused (start time 7000 → 7777) by a process older
//	    than t0, whose counters are not of the interval: no row.
//	400: rchar unchanged (it only wrote): no row.
//	500: first seen in t1, started before t0: no row. 600: its io file is
//	    gone in t1: no row.
func TestCacheProbeProcfsFixtures(t *testing.T) {
	root := filepath.Join(t.TempDir(), "proc")
	scanStage(t, root, "proc-cache-t0")
	demand := &model.Demand{}
	demand.Set(model.DemandSet{IO: true})
	scanner, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: root, PasswdPath: "testdata/proc-scan-etc/passwd",
		BootTime: fixtureT0.Add(-1000 * time.Second), ClockTicks: 100, Demand: demand})
	if err != nil {
		t.Fatal(err)
	}
	defer scanner.Close()
	p, err := NewCacheProbe(CacheProbeConfig{ProcRoot: root, PasswdPath: "testdata/proc-scan-etc/passwd", ForceTier: CacheTierProcfs})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rep := p.Features()[0]
	if rep.Tier != "procfs" || rep.EBPF() || rep.Reason != "tier forced to procfs" || len(rep.Tiers) == 0 {
		t.Fatalf("report %+v", rep)
	}
	store := model.NewStore(model.Host{}, 1, 60)
	frames := &frameRunner{store: store, probes: []Probe{scanner, p}}
	sample := func(at time.Time) {
		t.Helper()
		if err := frames.frame(at); err != nil {
			t.Fatal(err)
		}
	}
	sample(fixtureT0)
	if store.Snapshot().Sample.Cache != nil {
		t.Fatal("the baseline Sample published")
	}
	scanStage(t, root, "proc-cache-t1")
	sample(fixtureT0.Add(2 * time.Second))
	snap := store.Snapshot()
	c := snap.Sample.Cache
	if c == nil {
		t.Fatal("nothing published")
	}
	if c.Source != "procfs estimate" || c.Tier != "procfs" || c.Reason != "tier forced to procfs" || c.System != nil {
		t.Errorf("source %q tier %q reason %q system %v", c.Source, c.Tier, c.Reason, c.System)
	}
	for _, tr := range c.Tiers {
		if tr.Status != "skipped" {
			t.Errorf("tier %+v", tr)
		}
	}
	want := []model.CacheProcess{
		{PID: 200, StartTicks: 6000, UID: 0, User: "root", Comm: "warm cat", Hits: 2048, Misses: 0, Dirties: 0,
			ReadHitPct: model.Known(100), WriteHitPct: model.Unknown, Estimate: true},
		{PID: 100, StartTicks: 5000, UID: 1000, User: "alice", Comm: "reader", Hits: 768, Misses: 256, Dirties: 2,
			ReadHitPct: model.Known(75), WriteHitPct: model.Unknown, Estimate: true},
		{PID: 700, StartTicks: 9500, UID: 4242, User: "4242", Comm: "readahead", Hits: 0, Misses: 256, Dirties: 1024,
			ReadHitPct: model.Known(0), WriteHitPct: model.Unknown, Estimate: true},
	}
	if !reflect.DeepEqual(c.Processes, want) {
		t.Errorf("processes:\n got %+v\nwant %+v", c.Processes, want)
	}
	// The same counts joined into the process records, by pid and start
	// time.
	for _, pr := range snap.Sample.Processes {
		if pr.PID == 100 && (pr.CacheHits != model.Known(768) || pr.CacheMisses != model.Known(256) || pr.CacheReadHitPct != model.Known(75)) {
			t.Errorf("process 100 cache part %+v", pr.ProcessCacheRates)
		}
	}
	for _, s := range []string{model.SeriesCacheHitRatio, model.SeriesCacheMisses} {
		if n := snap.Series(s).Len(); n != 0 {
			t.Errorf("series %s has %d points without a system line", s, n)
		}
	}

	// Unchanged counters: an empty table, not an error.
	sample(fixtureT0.Add(3 * time.Second))
	if c := store.Snapshot().Sample.Cache; c == nil || len(c.Processes) != 0 {
		t.Errorf("unchanged: %+v", c)
	}
}

// cacheEstimate on hand-made processes, 2 s of rates (pages of 4 KiB).
func TestCacheEstimate(t *testing.T) {
	proc := func(pid int32, user, comm, detail string, rchar, read, write model.Float) model.Process {
		var p model.Process
		p.PID, p.UID, p.User, p.Comm = pid, uint32(pid), user, comm
		p.IODetail, p.RcharPerS, p.ReadBytesPerS, p.WriteBytesPerS = detail, rchar, read, write
		return p
	}
	k := model.Known
	procs := []model.Process{
		// 1 MiB/s read(), 256 KiB/s from disk: 512 pages, 128 misses,
		// 384 hits, 75 %; 4 KiB/s dirtied: 2 pages.
		proc(10, "alice", "reader", model.DetailFresh, k(1<<20), k(256<<10), k(4096)),
		// All from the cache: 1024 hits, 100 %.
		proc(11, "bob", "warm", model.DetailFresh, k(2<<20), k(0), k(0)),
		// Readahead past the reads: misses clamp to the 64 accessed, 0 %.
		proc(12, "carol", "ahead", model.DetailFresh, k(128<<10), k(1<<20), model.Unknown),
		// No rows: read nothing; denied; not read; rchar unknown (a reset).
		proc(13, "dave", "writer", model.DetailFresh, k(0), k(0), k(1<<20)),
		proc(14, "erin", "secret", model.DetailDenied, model.Unknown, model.Unknown, model.Unknown),
		proc(15, "frank", "unasked", model.DetailNotRead, model.Unknown, model.Unknown, model.Unknown),
		proc(16, "grace", "reset", model.DetailFresh, model.Unknown, k(4096), k(0)),
	}
	got := model.CacheEstimate(procs, 2)
	want := []model.CacheProcess{
		{PID: 11, UID: 11, User: "bob", Comm: "warm", Hits: 1024, ReadHitPct: k(100), WriteHitPct: model.Unknown, Estimate: true},
		{PID: 10, UID: 10, User: "alice", Comm: "reader", Hits: 384, Misses: 128, Dirties: 2, ReadHitPct: k(75), WriteHitPct: model.Unknown, Estimate: true},
		{PID: 12, UID: 12, User: "carol", Comm: "ahead", Misses: 64, ReadHitPct: k(0), WriteHitPct: model.Unknown, Estimate: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CacheEstimate:\n got %+v\nwant %+v", got, want)
	}
	if rows := model.CacheEstimate(nil, 1); len(rows) != 0 {
		t.Errorf("no processes: %+v", rows)
	}
}

func TestCacheProbeBrokenProcRoot(t *testing.T) {
	if _, err := NewCacheProbe(CacheProbeConfig{ProcRoot: filepath.Join(t.TempDir(), "missing"), ForceTier: CacheTierProcfs}); err == nil {
		t.Error("a missing proc root is not an error")
	}
}

// Without privileges the probe falls back to the procfs estimate and says
// why. Run as root, the test re-executes itself as nobody.
func TestCacheProbeNotRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		if ebpf.Privileged() {
			t.Skip("privileged without being root")
		}
		p, err := NewCacheProbe(CacheProbeConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if r := p.Features()[0]; r.Tier != "procfs" || r.Reason != ebpf.NeedsPrivilege {
			t.Fatalf("report %+v", r)
		}
		return
	}
	out := ebpftest.RunAsNobody(t, "nonroot")
	t.Logf("child as nobody:\n%s", out)
	got := string(out)
	for _, want := range []string{
		"source=procfs estimate\n",
		"tier=procfs\n",
		"reason=" + ebpf.NeedsPrivilege + "\n",
		"system=false\n",
		"estimate=true user=nobody\n",
		"init=io=denied hits_known=false\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("child output lacks %q", want)
		}
	}
}

// The mmap bug: one child reads a warm file with read(), another maps a
// cold file and touches every page, in the same interval. The pages the
// faults add are the mapper's mmap misses: the reader's hit ratio stays
// high and the system ratio (the sum of the rows) is not dragged to 0 %.
func TestCacheProbeMmapAndRead(t *testing.T) {
	ebpftest.RequirePrivileged(t, ebpf.Privileged())
	dir := ebpftest.WorkDir(t)
	const (
		warmBytes = 16 << 20
		coldBytes = 64 << 20
		coldPages = coldBytes / 4096
	)
	warm, cold := filepath.Join(dir, "warm"), filepath.Join(dir, "cold")
	if err := ebpftest.WriteFile(warm, warmBytes); err != nil {
		t.Fatal(err)
	}
	if err := ebpftest.WriteFile(cold, coldBytes); err != nil {
		t.Fatal(err)
	}
	sess := ebpf.NewSession()
	for _, tier := range []string{ebpf.TierTpBTF, ebpf.TierRawTp, ebpf.TierTracepoint} {
		t.Run(tier, func(t *testing.T) {
			p, err := NewCacheProbe(CacheProbeConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd", ForceTier: tier, Session: sess})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if f := p.Features()[0]; f.Tier != tier {
				t.Fatalf("forced %s: %+v", tier, f)
			}
			if err := ebpftest.ReadFile(warm, 1<<20); err != nil { // warm it
				t.Fatal(err)
			}
			ebpftest.DropFile(t, cold)
			if c, err := p.Read(time.Now()); c != nil || err != nil {
				t.Fatalf("baseline: %v %v", c, err)
			}
			reader := ebpftest.Start(t, "read:"+warm+":65536")
			mapper := ebpftest.Start(t, "mmap:"+cold)
			reader.Done(t)
			mapper.Done(t)
			c, err := p.Read(time.Now())
			if err != nil || c == nil {
				t.Fatalf("Read: %v %v", c, err)
			}
			r, rok := cacheRowOf(c, reader.PID)
			m, mok := cacheRowOf(c, mapper.PID)
			t.Logf("reader %+v", r)
			t.Logf("mapper %+v", m)
			t.Logf("system %+v", *c.System)
			if !rok || !r.ReadHitPct.OK || r.ReadHitPct.V < 95 {
				t.Errorf("reader (found %v): read hit %v, want ≥ 95 %%", rok, r.ReadHitPct)
			}
			if !c.System.HitRatio.OK || c.System.HitRatio.V < 50 {
				t.Errorf("system hit ratio %v with a warm reader and a cold mapper, want ≥ 50 %%", c.System.HitRatio)
			}
			if !mok || !cacheWithin(m.MmapMisses, coldPages, 0.05) || m.MmapPages == 0 || m.Misses > 64 {
				t.Errorf("mapper (found %v): mmap misses %d (want %d ±5 %%), mmap pages %d, read misses %d",
					mok, m.MmapMisses, coldPages, m.MmapPages, m.Misses)
			}
			if c.System.MmapMissesPerS <= 0 || c.System.MmapPagesPerS <= 0 {
				t.Errorf("system mmap rates %+v", *c.System)
			}
			if st := ebpftest.StartTicks(t, mapper.PID); m.StartTicks != st {
				t.Errorf("mapper start_ticks %d, /proc/%d/stat says %d", m.StartTicks, mapper.PID, st)
			}
			reader.Release(t)
			mapper.Release(t)
		})
	}
}
