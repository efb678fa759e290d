package probes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkVmCounters compares a parse with the counters it must report; every
// counter not listed must be absent.
func checkVmCounters(t *testing.T, what string, got *vmstatCounters, want map[vmCounter]uint64) {
	t.Helper()
	for k := range vmCounterCount {
		v, ok := got.get(k)
		w, wantOK := want[k]
		if ok != wantOK || v != w {
			t.Errorf("%s: %s = %d (present %v), want %d (present %v)", what, vmCounterNames[k], v, ok, w, wantOK)
		}
	}
}

func memTestdata(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseVmstatCurrentKernel(t *testing.T) {
	var c vmstatCounters
	parseVmstat(memTestdata(t, "proc-mem-t1/vmstat"), &c)
	// The values as written in the fixture; pgscan_direct_throttle (9) and
	// pgscan_anon/pgscan_file must not leak into pgscan_direct.
	checkVmCounters(t, "proc-mem-t1", &c, map[vmCounter]uint64{
		vmPswpin: 1200, vmPswpout: 2600, vmPgpgin: 54000, vmPgpgout: 90000,
		vmPgfault: 1020000, vmPgmajfault: 540,
		vmPgscanKswapd: 3800, vmPgscanDirect: 700, vmPgstealKswapd: 3100, vmPgstealDirect: 480,
		vmRefaultAnon: 50, vmRefaultFile: 8000, vmOOMKill: 4,
		vmPgscanAll: 1500 + 3000, vmPgstealAll: 1200 + 2380,
	})
}

func TestParseVmstatOldKernel(t *testing.T) {
	var c vmstatCounters
	parseVmstat(memTestdata(t, "proc-mem-noswap-nopsi-noavail/vmstat"), &c)
	// Before 4.8 reclaim counters were per zone: pgscan_kswapd = 0 + 150 +
	// 250 + 0, pgscan_direct = 0 + 15 + 25 + 0 (pgscan_direct_throttle's
	// 1000 is not a zone), pgsteal_kswapd = 100 + 200, pgsteal_direct =
	// 10 + 20. Before 5.9 workingset_refault counted file pages only; there
	// was no anon counter. Before 4.13 there was no oom_kill.
	checkVmCounters(t, "old kernel", &c, map[vmCounter]uint64{
		vmPswpin: 0, vmPswpout: 0, vmPgpgin: 1000, vmPgpgout: 2000,
		vmPgfault: 50000, vmPgmajfault: 30,
		vmPgscanKswapd: 400, vmPgscanDirect: 40, vmPgstealKswapd: 300, vmPgstealDirect: 30,
		vmRefaultFile: 500,
	})
}

func TestParseVmstatEdgeCases(t *testing.T) {
	var c vmstatCounters
	// The unsplit counter wins over per-zone ones and over the old
	// workingset_refault; lines that do not parse are skipped (the counter is
	// then missing, not 0); the last line needs no newline.
	parseVmstat([]byte("pgscan_direct 7\npgscan_direct_normal 100\n"+
		"workingset_refault 5\nworkingset_refault_file 6\n"+
		"pgfault\npgfault x\npgmajfault -1\n\n pswpin 3\npgscan_direct_bogus 50\n"+
		"pgsteal_direct_normal 4\npgsteal_direct_dma32 5\npgsteal_directx_normal 9\n"+
		"pgpgin 18446744073709551615\npgpgout 18446744073709551616\noom_kill 2"), &c)
	checkVmCounters(t, "edge cases", &c, map[vmCounter]uint64{
		vmPgscanDirect: 7, vmRefaultFile: 6, vmPgstealDirect: 9, vmPgpgin: 1<<64 - 1, vmOOMKill: 2,
	})

	// A second parse into the same struct starts afresh.
	parseVmstat([]byte("pswpin 1\n"), &c)
	checkVmCounters(t, "reparse", &c, map[vmCounter]uint64{vmPswpin: 1})

	parseVmstat(nil, &c)
	checkVmCounters(t, "empty", &c, map[vmCounter]uint64{})
}

func TestParseVmstatDoesNotAllocate(t *testing.T) {
	data := memTestdata(t, "proc-mem-real/t1/vmstat")
	var c vmstatCounters
	if n := testing.AllocsPerRun(100, func() { parseVmstat(data, &c) }); n != 0 {
		t.Errorf("parseVmstat allocates %v times per call, want 0", n)
	}
}

func TestVmstatReader(t *testing.T) {
	path := filepath.Join("testdata", "proc-mem-real", "t1", "vmstat")
	var want vmstatCounters
	parseVmstat(memTestdata(t, "proc-mem-real/t1/vmstat"), &want)

	// A buffer far smaller than the file must grow, not truncate.
	r := newVmstatReader(path)
	r.buf = make([]byte, 16)
	var got vmstatCounters
	if err := r.read(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("read through a growing buffer = %+v, want %+v", got, want)
	}
	if !got.has[vmPgpgout] || !got.has[vmOOMKill] {
		t.Errorf("real vmstat lacks pgpgout or oom_kill: %+v", got)
	}

	// Steady state: only the path conversion in open(2) allocates.
	if n := testing.AllocsPerRun(50, func() { _ = r.read(&got) }); n > 1 {
		t.Errorf("vmstatReader.read allocates %v times per call, want at most 1", n)
	}

	missing := newVmstatReader(filepath.Join(t.TempDir(), "vmstat"))
	if err := missing.read(&got); err == nil {
		t.Error("reading a missing file succeeded")
	} else if want := missing.path; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
}
