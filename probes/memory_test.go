package probes

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// The fixtures proc-mem-t0 and proc-mem-t1 are hand-made so every expected
// number below can be worked out on paper. meminfo values are in kB, so
// bytes are value × 1024. Between t0 and t1 (2 s apart) /proc/vmstat moves:
//
//	pswpin +200, pswpout +600, pgpgin +4000, pgpgout +10000,
//	pgfault +20000, pgmajfault +40,
//	pgscan_kswapd +800, pgscan_direct +600 (direct reclaim),
//	pgsteal_kswapd +600, pgsteal_direct +400,
//	workingset_refault_anon +40, workingset_refault_file 9000→8000
//	(backwards: unknown), oom_kill 3→4 (one OOM kill).
//
// t1's slabinfo has 24 caches: inode_cache (300 slabs × 8 pages), dentry
// (1000 × 1), buffer_head and kmalloc-64 (500 × 1 each, a tie broken by
// name), task_struct (0 slabs) and small-01 … small-19 (1 × 1 each).

// newFixtureMemoryProbe stages fixture into a fresh root and returns a probe
// reading it, with 4 KiB pages whatever the machine's page size.
func newFixtureMemoryProbe(t *testing.T, fixture string) (*MemoryProbe, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "proc")
	stage(t, root, fixture)
	p, err := NewMemoryProbe(MemoryProbeConfig{ProcRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	p.pageSize = 4096
	return p, root
}

func memAt(s float64) time.Time { return fixtureT0.Add(time.Duration(s * float64(time.Second))) }

func mustReadMemory(t *testing.T, p *MemoryProbe, now time.Time) *model.Memory {
	t.Helper()
	m, err := p.Read(now)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if m == nil {
		t.Fatal("Read returned nil after the baseline")
	}
	return m
}

// memScalars is m without its slices, maps and pointers, for comparing the
// plain fields in one go.
func memScalars(m *model.Memory) model.Memory {
	c := *m
	c.PSI, c.Zones, c.Slab, c.Cgroups, c.Unavailable = nil, nil, nil, nil, nil
	c.VM = model.VMRates{}
	return c
}

func checkMemScalars(t *testing.T, what string, got *model.Memory, want model.Memory) {
	t.Helper()
	g := memScalars(got)
	gv, wv := reflect.ValueOf(g), reflect.ValueOf(want)
	for i := range gv.NumField() {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("%s: %s = %+v, want %+v", what, gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
}

func checkVM(t *testing.T, what string, got, want model.VMRates) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		g, w := gv.Field(i).Interface().(model.Float), wv.Field(i).Interface().(model.Float)
		if g.OK != w.OK || (g.OK && !near(g.V, w.V)) {
			t.Errorf("%s: VM.%s = %+v, want %+v", what, gv.Type().Field(i).Name, g, w)
		}
	}
}

const memKB = 1024

func TestMemoryProbeFixtureIntervals(t *testing.T) {
	p, root := newFixtureMemoryProbe(t, "proc-mem-t0")
	if p.Name() != "memory" {
		t.Errorf("Name = %q", p.Name())
	}
	if m, err := p.Read(memAt(0)); err != nil || m != nil {
		t.Fatalf("first Read = %+v, %v; want nil (baseline only)", m, err)
	}

	stage(t, root, "proc-mem-t1")
	m := mustReadMemory(t, p, memAt(2))
	checkMemScalars(t, "t1", m, model.Memory{
		TotalBytes:     8000000 * memKB,
		FreeBytes:      1000000 * memKB,
		AvailableBytes: model.Known(5000000 * memKB),
		UsedBytes:      (8000000 - 5000000) * memKB, // total − available
		BuffersBytes:   200000 * memKB,
		CacheBytes:     (3000000 + 400000) * memKB, // Cached + SReclaimable
		PageCacheBytes: 3000000 * memKB,            // Cached
		SharedBytes:    100000 * memKB,
		// Slab and page-cache detail.
		SlabReclaimableBytes:   400000 * memKB,
		SlabUnreclaimableBytes: 200000 * memKB,
		DirtyBytes:             1000 * memKB,
		WritebackBytes:         200 * memKB,
		AnonBytes:              (1500000 + 500000) * memKB,
		FileBytes:              (1800000 + 1200000) * memKB,
		ActiveFileBytes:        1800000 * memKB,
		InactiveFileBytes:      1200000 * memKB,
		AnonHugePagesBytes:     20480 * memKB,
		HugePagesTotal:         4,
		HugePagesFree:          2,
		HugePageSizeBytes:      2048 * memKB,
		Swap: model.Swap{
			TotalBytes:  2000000 * memKB,
			FreeBytes:   1500000 * memKB,
			UsedBytes:   500000 * memKB,
			CachedBytes: 10000 * memKB,
		},
		OOMKills:      4,
		OOMKillsDelta: 1,
		LastOOMKill:   memAt(2),
		Swappiness:    model.Known(60),
		MinFreeKbytes: model.Known(67584),
	})
	// Deltas over 2 s.
	checkVM(t, "t1", m.VM, model.VMRates{
		SwapInPagesPerS:  model.Known(100),
		SwapOutPagesPerS: model.Known(300),
		PageInKBPerS:     model.Known(2000),
		PageOutKBPerS:    model.Known(5000),
		FaultsPerS:       model.Known(10000),
		MajorFaultsPerS:  model.Known(20),
		ScanKswapdPerS:   model.Known(400),
		ScanDirectPerS:   model.Known(300),
		StealKswapdPerS:  model.Known(300),
		StealDirectPerS:  model.Known(200),
		// pgscan_anon+file 3100 → 4500 and pgsteal_anon+file 2580 → 3580
		// over 2 s: 700 = kswapd 400 + direct 300, so no cgroup-limit
		// reclaim in this interval.
		ScanAllPerS:     model.Known(700),
		StealAllPerS:    model.Known(500),
		RefaultAnonPerS: model.Known(20),
		RefaultFilePerS: model.Unknown, // went backwards
	})
	wantPSI := &model.Pressure{
		Some: model.PressureAvg{Avg10: 1.5, Avg60: 0.75, Avg300: 0.25, TotalUs: 123456},
		Full: &model.PressureAvg{Avg10: 0.5, Avg60: 0.25, Avg300: 0.1, TotalUs: 23456},
	}
	if !reflect.DeepEqual(m.PSI, wantPSI) {
		t.Errorf("t1 PSI = %+v, want %+v", m.PSI, wantPSI)
	}
	// The Movable zone has no managed pages and is left out.
	wantZones := []model.ZoneWatermarks{
		{Node: 0, Zone: "DMA", FreePages: 3000, MinPages: 10, LowPages: 20, HighPages: 30, Managed: 3900},
		{Node: 0, Zone: "DMA32", FreePages: 100000, MinPages: 1000, LowPages: 1250, HighPages: 1500, Managed: 700000},
		{Node: 0, Zone: "Normal", FreePages: 120000, MinPages: 2000, LowPages: 2500, HighPages: 3000, Managed: 1000000},
		{Node: 1, Zone: "Normal", FreePages: 27000, MinPages: 500, LowPages: 625, HighPages: 750, Managed: 250000},
	}
	if !reflect.DeepEqual(m.Zones, wantZones) {
		t.Errorf("t1 Zones = %+v\nwant %+v", m.Zones, wantZones)
	}
	// Sizes are num_slabs × pages per slab × 4096; the top 20 keeps
	// small-01 … small-16 and drops small-17 … small-19 and the empty
	// task_struct.
	wantSlab := []model.SlabCache{
		{Name: "inode_cache", ActiveObjs: 9000, NumObjs: 9600, ObjSize: 1000, SizeBytes: 300 * 8 * 4096},
		{Name: "dentry", ActiveObjs: 20000, NumObjs: 21000, ObjSize: 192, SizeBytes: 1000 * 4096},
		{Name: "buffer_head", ActiveObjs: 19000, NumObjs: 19500, ObjSize: 104, SizeBytes: 500 * 4096},
		{Name: "kmalloc-64", ActiveObjs: 31000, NumObjs: 32000, ObjSize: 64, SizeBytes: 500 * 4096},
	}
	for i := 1; i <= 16; i++ {
		wantSlab = append(wantSlab, model.SlabCache{Name: fmt.Sprintf("small-%02d", i), ActiveObjs: 10, NumObjs: 16, ObjSize: 256, SizeBytes: 4096})
	}
	if !reflect.DeepEqual(m.Slab, wantSlab) {
		t.Errorf("t1 Slab = %+v\nwant %+v", m.Slab, wantSlab)
	}
	if len(m.Unavailable) != 0 {
		t.Errorf("t1 Unavailable = %v, want none", m.Unavailable)
	}

	// t1 again 1 s later: every counter still, no new OOM kill; the time of
	// the last one is carried over.
	m = mustReadMemory(t, p, memAt(3))
	zero := model.Known(0)
	checkVM(t, "t1 again", m.VM, model.VMRates{
		SwapInPagesPerS: zero, SwapOutPagesPerS: zero, PageInKBPerS: zero, PageOutKBPerS: zero,
		FaultsPerS: zero, MajorFaultsPerS: zero, ScanKswapdPerS: zero, ScanDirectPerS: zero,
		StealKswapdPerS: zero, StealDirectPerS: zero, RefaultAnonPerS: zero, RefaultFilePerS: zero,
		ScanAllPerS: zero, StealAllPerS: zero,
	})
	if m.OOMKills != 4 || m.OOMKillsDelta != 0 || !m.LastOOMKill.Equal(memAt(2)) {
		t.Errorf("t1 again: OOMKills %d delta %d last %v; want 4, 0, %v", m.OOMKills, m.OOMKillsDelta, m.LastOOMKill, memAt(2))
	}
}

// TestMemoryProbeCountersBackwards reads t1 then t0: every counter but
// workingset_refault_file goes backwards (a reset), which must give unknown
// rates, never negative or huge ones, and no OOM kill.
func TestMemoryProbeCountersBackwards(t *testing.T) {
	p, root := newFixtureMemoryProbe(t, "proc-mem-t1")
	if _, err := p.Read(memAt(0)); err != nil {
		t.Fatal(err)
	}
	stage(t, root, "proc-mem-t0")
	m := mustReadMemory(t, p, memAt(2))
	checkVM(t, "t1→t0", m.VM, model.VMRates{RefaultFilePerS: model.Known(500)}) // 8000→9000 in 2 s
	if m.OOMKills != 3 || m.OOMKillsDelta != 0 || !m.LastOOMKill.IsZero() {
		t.Errorf("OOMKills %d delta %d last %v; want 3, 0, zero time", m.OOMKills, m.OOMKillsDelta, m.LastOOMKill)
	}
	// A reset is one interval's accident, not something missing.
	if len(m.Unavailable) != 0 {
		t.Errorf("Unavailable = %v, want none", m.Unavailable)
	}
}

// TestMemoryProbeNoSwapNoPSINoAvailable reads a tree as an old kernel
// without swap would have it: no MemAvailable (before 3.14), per-zone
// reclaim counters and a single workingset_refault (before 4.8 and 5.9), no
// oom_kill (before 4.13), no pressure/ directory and no slabinfo.
func TestMemoryProbeNoSwapNoPSINoAvailable(t *testing.T) {
	p, root := newFixtureMemoryProbe(t, "proc-mem-noswap-nopsi-noavail")
	if _, err := p.Read(memAt(0)); err != nil {
		t.Fatal(err)
	}
	// One second later some per-zone counters moved; the throttle counter
	// is not a zone and must not count.
	vmPath := filepath.Join(root, "vmstat")
	data, err := os.ReadFile(vmPath)
	if err != nil {
		t.Fatal(err)
	}
	vm := strings.NewReplacer(
		"pgscan_direct_normal 25\n", "pgscan_direct_normal 125\n",
		"pgscan_direct_dma32 15\n", "pgscan_direct_dma32 35\n",
		"pgsteal_direct_normal 20\n", "pgsteal_direct_normal 70\n",
		"pgscan_direct_throttle 1000\n", "pgscan_direct_throttle 5000\n",
		"workingset_refault 500\n", "workingset_refault 530\n",
		"pgpgout 2000\n", "pgpgout 2064\n",
	).Replace(string(data))
	if vm == string(data) {
		t.Fatal("fixture vmstat did not contain the lines to change")
	}
	if err := os.WriteFile(vmPath, []byte(vm), 0o644); err != nil {
		t.Fatal(err)
	}
	m := mustReadMemory(t, p, memAt(1))

	checkMemScalars(t, "no MemAvailable", m, model.Memory{
		TotalBytes:     4000000 * memKB,
		FreeBytes:      500000 * memKB,
		AvailableBytes: model.Unknown,
		// total − free − buffers − (Cached + SReclaimable)
		UsedBytes:              (4000000 - 500000 - 100000 - 1500000 - 200000) * memKB,
		BuffersBytes:           100000 * memKB,
		CacheBytes:             (1500000 + 200000) * memKB,
		PageCacheBytes:         1500000 * memKB,
		SharedBytes:            50000 * memKB,
		SlabReclaimableBytes:   200000 * memKB,
		SlabUnreclaimableBytes: 100000 * memKB,
		DirtyBytes:             100 * memKB,
		AnonBytes:              (1200000 + 300000) * memKB,
		FileBytes:              (800000 + 700000) * memKB,
		ActiveFileBytes:        800000 * memKB,
		InactiveFileBytes:      700000 * memKB,
		HugePageSizeBytes:      2048 * memKB,
		Swappiness:             model.Known(30),
		MinFreeKbytes:          model.Known(11264),
	})
	zero := model.Known(0)
	checkVM(t, "old kernel", m.VM, model.VMRates{
		SwapInPagesPerS: zero, SwapOutPagesPerS: zero, PageInKBPerS: zero,
		PageOutKBPerS: model.Known(64),
		FaultsPerS:    zero, MajorFaultsPerS: zero, ScanKswapdPerS: zero,
		ScanDirectPerS:  model.Known(120), // dma32 +20, normal +100
		StealKswapdPerS: zero,
		StealDirectPerS: model.Known(50),
		RefaultAnonPerS: model.Unknown,
		RefaultFilePerS: model.Known(30),
	})
	if m.PSI != nil || m.Slab != nil {
		t.Errorf("PSI %+v, Slab %+v; want nil", m.PSI, m.Slab)
	}
	if len(m.Zones) != 4 {
		t.Errorf("Zones = %+v, want the 4 managed zones of the fixture", m.Zones)
	}
	slabReason := "kernel has no " + filepath.Join(root, "slabinfo") + " (built without CONFIG_SLUB_DEBUG)"
	wantUnavailable := map[string]string{
		"available_bytes":                      "kernel has no MemAvailable in /proc/meminfo (before 3.14)",
		"psi":                                  "kernel has no /proc/pressure (CONFIG_PSI off or booted with psi=0)",
		"slab":                                 slabReason,
		"vmstat.workingset_refault_anon_per_s": "kernel has no workingset_refault_anon counter in /proc/vmstat",
		"vmstat.pgscan_per_s":                  "kernel has no pgscan_anon+pgscan_file counter in /proc/vmstat",
		"vmstat.pgsteal_per_s":                 "kernel has no pgsteal_anon+pgsteal_file counter in /proc/vmstat",
		"oom_kills":                            "kernel has no oom_kill counter in /proc/vmstat (before 4.13)",
	}
	if !reflect.DeepEqual(m.Unavailable, wantUnavailable) {
		t.Errorf("Unavailable:\n%s\nwant:\n%s", memMapLines(m.Unavailable), memMapLines(wantUnavailable))
	}
}

func memMapLines(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "  %s: %s\n", k, m[k])
	}
	return b.String()
}

// TestMemoryProbeSourcesUnreadable: every file but meminfo may be missing
// or broken; the probe then fills what it can and says why for the rest.
func TestMemoryProbeSourcesUnreadable(t *testing.T) {
	p, root := newFixtureMemoryProbe(t, "proc-mem-t0")
	if _, err := p.Read(memAt(0)); err != nil {
		t.Fatal(err)
	}
	stage(t, root, "proc-mem-t1")
	for _, f := range []string{"vmstat", "zoneinfo", "sys/vm/swappiness"} {
		if err := os.Remove(filepath.Join(root, f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "sys/vm/min_free_kbytes"), []byte("lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "slabinfo"), []byte("slabinfo - version: 2.1\nshort line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := mustReadMemory(t, p, memAt(2))
	if m.TotalBytes != 8000000*memKB || m.UsedBytes != 3000000*memKB {
		t.Errorf("meminfo figures lost: total %d used %d", m.TotalBytes, m.UsedBytes)
	}
	checkVM(t, "no vmstat", m.VM, model.VMRates{})
	if m.Swappiness.OK || m.MinFreeKbytes.OK || m.Zones != nil || m.Slab != nil || m.OOMKills != 0 {
		t.Errorf("swappiness %+v, min_free_kbytes %+v, zones %v, slab %v, oom %d; want all unknown or empty",
			m.Swappiness, m.MinFreeKbytes, m.Zones, m.Slab, m.OOMKills)
	}
	for field, mention := range map[string]string{
		"vmstat":          "vmstat",
		"oom_kills":       "vmstat",
		"zones":           "zoneinfo",
		"swappiness":      "swappiness",
		"min_free_kbytes": "min_free_kbytes",
		"slab":            "slabinfo",
	} {
		if r := m.Unavailable[field]; !strings.Contains(r, mention) {
			t.Errorf("Unavailable[%s] = %q, want a reason naming %s", field, r, mention)
		}
	}
	if len(m.Unavailable) != 6 {
		t.Errorf("Unavailable = %v, want exactly the 6 fields above", memMapLines(m.Unavailable))
	}

	// vmstat is back but there is nothing to compare it with yet.
	stage(t, root, "proc-mem-t1")
	m = mustReadMemory(t, p, memAt(3))
	checkVM(t, "first vmstat after a gap", m.VM, model.VMRates{})
	if m.OOMKills != 4 || m.OOMKillsDelta != 0 {
		t.Errorf("OOMKills %d delta %d; want 4 (cumulative is known) and 0", m.OOMKills, m.OOMKillsDelta)
	}
	want := map[string]string{"vmstat": "no earlier reading of /proc/vmstat to compare with"}
	if !reflect.DeepEqual(m.Unavailable, want) {
		t.Errorf("Unavailable = %v, want %v", m.Unavailable, want)
	}
	m = mustReadMemory(t, p, memAt(4))
	if !m.VM.FaultsPerS.OK || len(m.Unavailable) != 0 {
		t.Errorf("two readings later: faults %+v, Unavailable %v; want known, none", m.VM.FaultsPerS, m.Unavailable)
	}
}

func TestMemoryProbeMeminfoUnreadableKeepsBaseline(t *testing.T) {
	p, root := newFixtureMemoryProbe(t, "proc-mem-t0")
	if _, err := p.Read(memAt(0)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "meminfo")); err != nil {
		t.Fatal(err)
	}
	if m, err := p.Read(memAt(1)); err == nil || m != nil {
		t.Fatalf("Read without meminfo = %v, %v; want an error", m, err)
	} else if !strings.Contains(err.Error(), "meminfo") {
		t.Errorf("error %q does not name the file", err)
	}
	if err := os.WriteFile(filepath.Join(root, "meminfo"), []byte("Buffers: 1 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(memAt(1.5)); err == nil || !strings.Contains(err.Error(), "MemTotal") {
		t.Errorf("Read of a meminfo without MemTotal: err %v, want one naming MemTotal", err)
	}
	// The t0 baseline survives: t1 read 2 s after t0 gives t0→t1 rates.
	stage(t, root, "proc-mem-t1")
	m := mustReadMemory(t, p, memAt(2))
	if m.VM.FaultsPerS != model.Known(10000) || m.OOMKillsDelta != 1 {
		t.Errorf("after failed reads: faults/s %+v, OOM delta %d; want 10000 and 1", m.VM.FaultsPerS, m.OOMKillsDelta)
	}
}

func TestMemoryUsedWhenAvailableExceedsTotal(t *testing.T) {
	// Inside some containers meminfo is distorted and MemAvailable exceeds
	// MemTotal; free(1) then takes MemFree as available.
	p, root := newFixtureMemoryProbe(t, "proc-mem-t1")
	if _, err := p.Read(memAt(0)); err != nil {
		t.Fatal(err)
	}
	mi := "MemTotal: 1000 kB\nMemFree: 300 kB\nMemAvailable: 5000 kB\n"
	if err := os.WriteFile(filepath.Join(root, "meminfo"), []byte(mi), 0o644); err != nil {
		t.Fatal(err)
	}
	m := mustReadMemory(t, p, memAt(1))
	if m.AvailableBytes != model.Known(300*memKB) || m.UsedBytes != 700*memKB {
		t.Errorf("available %+v used %d; want 300 kB and 700 kB", m.AvailableBytes, m.UsedBytes)
	}
}

func TestSlabUnavailableReason(t *testing.T) {
	const path = "/proc/slabinfo"
	for _, c := range []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}, slabNeedsRoot},
		{fmt.Errorf("wrapped: %w", &fs.PathError{Op: "open", Path: path, Err: syscall.EPERM}), slabNeedsRoot},
		{&fs.PathError{Op: "open", Path: path, Err: syscall.ENOENT}, "kernel has no /proc/slabinfo (built without CONFIG_SLUB_DEBUG)"},
		{errors.New("parse error"), "read /proc/slabinfo: parse error"},
	} {
		if got := slabUnavailableReason(path, c.err); got != c.want {
			t.Errorf("slabUnavailableReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestMemoryProbeSamplePublishes(t *testing.T) {
	p, root := newFixtureMemoryProbe(t, "proc-mem-t0")
	store := model.NewStore(model.Host{}, 1, 10)
	// The cgroup probe published first: its part must survive.
	cgroups := []model.MemCgroup{{Path: "/system.slice", Version: 2, UsageBytes: 42}}
	store.Update(func(next *model.Sample, _ *model.History) {
		next.Memory = &model.Memory{Cgroups: cgroups, Unavailable: map[string]string{"cgroups": "partly"}}
	})
	before := store.Snapshot()
	old := before.Sample.Memory

	if err := publish(p, memAt(0), store); err != nil {
		t.Fatal(err)
	}
	if s := store.Snapshot(); s.Seq != before.Seq || s.Sample.Memory != old {
		t.Fatalf("first Sample published (seq %d→%d)", before.Seq, s.Seq)
	}

	stage(t, root, "proc-mem-t1")
	t1 := memAt(2)
	if err := publish(p, t1, store); err != nil {
		t.Fatal(err)
	}
	snap := store.Snapshot()
	m := snap.Sample.Memory
	if m == nil || m == old {
		t.Fatalf("second Sample did not publish a new Memory: %p (old %p)", m, old)
	}
	if m.TotalBytes != 8000000*memKB || !reflect.DeepEqual(m.Cgroups, cgroups) || m.Unavailable["cgroups"] != "partly" {
		t.Errorf("published Memory: total %d, cgroups %+v, Unavailable %v", m.TotalBytes, m.Cgroups, m.Unavailable)
	}
	// The Memory published before is untouched.
	if old.TotalBytes != 0 || len(old.Unavailable) != 1 || len(old.Cgroups) != 1 {
		t.Errorf("previously published Memory was modified: %+v", old)
	}
	for series, want := range map[string]float64{
		model.SeriesMemUsed:      3000000 * memKB,
		model.SeriesMemCache:     3400000 * memKB,
		model.SeriesMemAvailable: 5000000 * memKB,
	} {
		v := snap.Series(series)
		if v.Len() != 1 || !near(v.At(0).V, want) || v.At(0).UnixMilli != t1.UnixMilli() {
			t.Errorf("series %s: %d points, want one point %v at t1", series, v.Len(), want)
			if v.Len() > 0 {
				t.Logf("  last point %+v", v.At(v.Len()-1))
			}
		}
	}

	// Without MemAvailable no available point is recorded, and none for
	// rates that are unknown.
	q, qroot := newFixtureMemoryProbe(t, "proc-mem-t1")
	store2 := model.NewStore(model.Host{}, 1, 10)
	if err := publish(q, memAt(0), store2); err != nil {
		t.Fatal(err)
	}
	stage(t, qroot, "proc-mem-t0") // counters go backwards
	if err := publish(q, memAt(1), store2); err != nil {
		t.Fatal(err)
	}
	snap2 := store2.Snapshot()
	if vm := snap2.Sample.Memory.VM; vm.SwapInPagesPerS.OK || vm.ScanDirectPerS.OK {
		t.Errorf("swap-in %+v, direct scan %+v across a counter reset, want unknown", vm.SwapInPagesPerS, vm.ScanDirectPerS)
	}
	if snap2.Series(model.SeriesMemUsed).Len() != 1 {
		t.Errorf("mem.used not recorded")
	}
	stage(t, qroot, "proc-mem-noswap-nopsi-noavail")
	if err := publish(q, memAt(2), store2); err != nil {
		t.Fatal(err)
	}
	if n := store2.Snapshot().Series(model.SeriesMemAvailable).Len(); n != 1 {
		t.Errorf("mem.available has %d points, want 1 (none for the reading without MemAvailable)", n)
	}
}

// TestMemoryProbeRealFixture reads two snapshots of this project's VM (24
// GiB, no swap) taken about 1 s apart while 16 MiB were written and
// fsynced, and checks the result against a separate reading of the raw
// files and the kernel's own accounting.
func TestMemoryProbeRealFixture(t *testing.T) {
	p, root := newFixtureMemoryProbe(t, "proc-mem-real/t0")
	if _, err := p.Read(memAt(0)); err != nil {
		t.Fatal(err)
	}
	stage(t, root, "proc-mem-real/t1")
	m := mustReadMemory(t, p, memAt(1))

	mi := rawMeminfo(t, "testdata/proc-mem-real/t1/meminfo")
	if m.TotalBytes != mi["MemTotal"]*memKB || m.FreeBytes != mi["MemFree"]*memKB ||
		m.AvailableBytes != model.Known(float64(mi["MemAvailable"]*memKB)) ||
		m.UsedBytes != (mi["MemTotal"]-mi["MemAvailable"])*memKB ||
		m.BuffersBytes+m.CacheBytes != (mi["Buffers"]+mi["Cached"]+mi["SReclaimable"])*memKB ||
		m.SharedBytes != mi["Shmem"]*memKB {
		t.Errorf("probe %+v disagrees with raw meminfo %v", memScalars(m), mi)
	}
	// The kernel's accounting: free pages, page cache, buffers, slab,
	// anonymous memory, kernel stacks and page tables are disjoint parts of
	// total; what is left (vmalloc, per-CPU areas, drivers) is small.
	parts := m.FreeBytes + m.BuffersBytes + mi["Cached"]*memKB + mi["Slab"]*memKB + mi["AnonPages"]*memKB +
		mi["KernelStack"]*memKB + mi["PageTables"]*memKB
	if parts > m.TotalBytes || float64(parts) < 0.95*float64(m.TotalBytes) {
		t.Errorf("free+buffers+cached+slab+anon+stacks+page tables = %d, want within 95–100%% of total %d", parts, m.TotalBytes)
	}
	if m.UsedBytes+uint64(m.AvailableBytes.V) != m.TotalBytes || m.FreeBytes > m.TotalBytes {
		t.Errorf("used %d + available %v != total %d", m.UsedBytes, m.AvailableBytes.V, m.TotalBytes)
	}
	if m.Swap != (model.Swap{}) {
		t.Errorf("Swap = %+v, want zeros (no swap configured)", m.Swap)
	}

	v0 := rawVmstat(t, "testdata/proc-mem-real/t0/vmstat")
	v1 := rawVmstat(t, "testdata/proc-mem-real/t1/vmstat")
	if want := float64(v1["pgpgout"] - v0["pgpgout"]); m.VM.PageOutKBPerS != model.Known(want) || want < 16384 {
		t.Errorf("PageOutKBPerS = %+v, raw pgpgout delta %v (want ≥ 16384 KiB: 16 MiB were fsynced)", m.VM.PageOutKBPerS, want)
	}
	if want := float64(v1["pgfault"] - v0["pgfault"]); m.VM.FaultsPerS != model.Known(want) {
		t.Errorf("FaultsPerS = %+v, raw delta %v", m.VM.FaultsPerS, want)
	}
	if m.OOMKills != v1["oom_kill"] || m.OOMKillsDelta != 0 || !m.LastOOMKill.IsZero() {
		t.Errorf("OOM kills %d delta %d last %v; raw %d, none in the interval", m.OOMKills, m.OOMKillsDelta, m.LastOOMKill, v1["oom_kill"])
	}
	checkKnown := reflect.ValueOf(m.VM)
	for i := range checkKnown.NumField() {
		if f := checkKnown.Field(i).Interface().(model.Float); !f.OK || f.V < 0 {
			t.Errorf("VM.%s = %+v, want known and ≥ 0 on this kernel", checkKnown.Type().Field(i).Name, f)
		}
	}

	var names []string
	for _, z := range m.Zones {
		names = append(names, fmt.Sprint(z.Node, z.Zone))
		if z.MinPages > z.LowPages || z.LowPages > z.HighPages || z.HighPages > z.Managed || z.FreePages > z.Managed {
			t.Errorf("zone %+v: want min ≤ low ≤ high ≤ managed and free ≤ managed", z)
		}
	}
	if want := []string{"0DMA", "0DMA32", "0Normal"}; !slices.Equal(names, want) {
		t.Errorf("zones %v, want %v (Movable and Device have no managed pages)", names, want)
	}

	if len(m.Slab) != slabTopN {
		t.Fatalf("%d slab caches, want %d", len(m.Slab), slabTopN)
	}
	if !slices.IsSortedFunc(m.Slab, func(a, b model.SlabCache) int { return cmp.Compare(b.SizeBytes, a.SizeBytes) }) {
		t.Errorf("slab caches not sorted by size, largest first: %+v", m.Slab)
	}
	if name, size := largestSlab(t, "testdata/proc-mem-real/t1/slabinfo"); m.Slab[0].Name != name || m.Slab[0].SizeBytes != size {
		t.Errorf("largest slab cache %s %d, raw file says %s %d", m.Slab[0].Name, m.Slab[0].SizeBytes, name, size)
	}
	if m.PSI == nil || m.PSI.Full == nil {
		t.Errorf("PSI = %+v, want some and full", m.PSI)
	}
	if m.Swappiness != model.Known(60) || m.MinFreeKbytes != model.Known(67584) {
		t.Errorf("swappiness %+v min_free_kbytes %+v, want 60 and 67584 as captured", m.Swappiness, m.MinFreeKbytes)
	}
	if len(m.Unavailable) != 0 {
		t.Errorf("Unavailable = %v", m.Unavailable)
	}
}

// rawMeminfo parses a meminfo file on its own, values in kB (or pages for
// the HugePages_ counts).
func rawMeminfo(t *testing.T, path string) map[string]uint64 {
	t.Helper()
	return rawPairs(t, path, func(f []string) (string, string) { return strings.TrimSuffix(f[0], ":"), f[1] })
}

func rawVmstat(t *testing.T, path string) map[string]uint64 {
	t.Helper()
	return rawPairs(t, path, func(f []string) (string, string) { return f[0], f[1] })
}

func rawPairs(t *testing.T, path string, split func([]string) (string, string)) map[string]uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		k, v := split(fields)
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		out[k] = n
	}
	return out
}

// largestSlab finds the biggest cache of a slabinfo file by num_slabs ×
// pagesperslab × 4096, on its own.
func largestSlab(t *testing.T, path string) (string, uint64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	var size uint64
	for _, line := range strings.Split(string(data), "\n")[2:] {
		f := strings.Fields(line)
		if len(f) < 16 {
			continue
		}
		pps, _ := strconv.ParseUint(f[5], 10, 64)
		slabs, _ := strconv.ParseUint(f[14], 10, 64)
		if s := slabs * pps * 4096; s > size {
			name, size = f[0], s
		}
	}
	return name, size
}
