package probes

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vitals-dev/vitals/model"
)

// The perl process of proc-scan-mem (captured on this kind of machine):
// Rss 21280 kB, Pss 19886, Shared_Clean 1576, Shared_Dirty 0,
// Private_Clean 2872, Private_Dirty 16832, Swap 0.
func TestParseSmapsRollupReal(t *testing.T) {
	var m smapsRollup
	if !parseSmapsRollup(readTestdata(t, "proc-scan-mem/26006/smaps_rollup"), &m) {
		t.Fatal("parse failed")
	}
	want := smapsRollup{RSS: 21280 << 10, PSS: 19886 << 10, SharedClean: 1576 << 10,
		PrivateClean: 2872 << 10, PrivateDirty: 16832 << 10}
	if m != want {
		t.Errorf("got  %+v\nwant %+v", m, want)
	}
	if m.USS() != (2872+16832)<<10 || m.Shared() != 1576<<10 {
		t.Errorf("USS %d shared %d", m.USS(), m.Shared())
	}
}

func TestParseSmapsRollupKeysAndErrors(t *testing.T) {
	// Pss_Dirty, SwapPss and the header's "00:00" must not be taken for
	// Pss, Swap or a key; the order of lines does not matter.
	const good = "7f00-7fff ---p 00000000 00:00 0 [rollup]\n" +
		"SwapPss:  99 kB\nPss_Dirty: 98 kB\nSwap:   7 kB\nPss:    2 kB\nRss:  1 kB\n" +
		"Private_Dirty: 6 kB\nPrivate_Clean: 5 kB\nShared_Dirty: 4 kB\nShared_Clean: 3 kB\nLocked: 0 kB"
	var m smapsRollup
	if !parseSmapsRollup([]byte(good), &m) {
		t.Fatal("parse failed")
	}
	if m != (smapsRollup{RSS: 1 << 10, PSS: 2 << 10, SharedClean: 3 << 10, SharedDirty: 4 << 10,
		PrivateClean: 5 << 10, PrivateDirty: 6 << 10, Swap: 7 << 10}) {
		t.Errorf("got %+v", m)
	}
	for name, bad := range map[string]string{
		"empty":        "",
		"no swap":      strings.Replace(good, "Swap:   7 kB\n", "", 1),
		"not a number": strings.Replace(good, "Pss:    2 kB", "Pss:    x kB", 1),
		"no unit":      strings.Replace(good, "Pss:    2 kB", "Pss:    2", 1),
		"other unit":   strings.Replace(good, "Pss:    2 kB", "Pss:    2 MB", 1),
		"overflow":     strings.Replace(good, "Pss:    2 kB", "Pss:    99999999999999999999 kB", 1),
	} {
		if parseSmapsRollup([]byte(bad), &m) {
			t.Errorf("%s: parsed", name)
		}
	}
	b := []byte(good)
	if allocs := testing.AllocsPerRun(100, func() { parseSmapsRollup(b, &m) }); allocs != 0 {
		t.Errorf("%v allocations per parse", allocs)
	}
}

// The errno of a smaps_rollup read decides what the row shows: only a
// refusal is "denied"; a process that exited keeps what was read before.
func TestSmapsErrnoOutcome(t *testing.T) {
	for errno, want := range map[syscall.Errno]smapsOutcome{
		0:               smapsRead,
		syscall.ENOENT:  smapsGone,
		syscall.ESRCH:   smapsGone,
		syscall.EACCES:  smapsDenied,
		syscall.EPERM:   smapsDenied,
		syscall.EISDIR:  smapsFailed,
		syscall.EIO:     smapsFailed,
		syscall.ENOMEM:  smapsFailed,
		syscall.EINVAL:  smapsFailed,
		syscall.EMFILE:  smapsFailed,
		syscall.ENOTDIR: smapsFailed,
	} {
		if got := smapsErrnoOutcome(errno); got != want {
			t.Errorf("%v: %d, want %d", errno, got, want)
		}
	}
}

func TestReadMemTotal(t *testing.T) {
	got, err := readMemTotal(filepath.Join("testdata", "proc-scan-mem"))
	if err != nil || got != 24684084<<10 {
		t.Errorf("fixture: %d, %v", got, err)
	}
	if _, err := readMemTotal(filepath.Join("testdata", "proc-scan-t0")); err == nil {
		t.Error("no error without meminfo")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "meminfo"), []byte("MemFree: 1 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readMemTotal(dir); err == nil {
		t.Error("no error without a MemTotal line")
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		got, err := readMemTotal("/proc")
		var kb uint64
		for line := range strings.Lines(string(b)) {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "MemTotal:" {
				for _, c := range f[1] {
					kb = kb*10 + uint64(c-'0')
				}
			}
		}
		if err != nil || got != kb*1024 || kb == 0 {
			t.Errorf("/proc: %d, %v; meminfo says %d kB", got, err, kb)
		}
	}
}

func TestDemandLookup(t *testing.T) {
	var d demandLookup
	if d.wants(model.ProcKey{PID: 1}) {
		t.Error("empty demand wants pid 1")
	}
	// Unsorted, as a view may list them.
	d.reset(model.DemandSet{Keys: []model.ProcKey{{PID: 30, StartTicks: 5}, {PID: 10, StartTicks: 7}, {PID: 30, StartTicks: 2}}})
	for key, want := range map[model.ProcKey]bool{
		{PID: 10, StartTicks: 7}: true,
		{PID: 30, StartTicks: 2}: true,
		{PID: 30, StartTicks: 5}: true,
		{PID: 10, StartTicks: 8}: false, // a reused pid is another process
		{PID: 20, StartTicks: 7}: false,
		{PID: 31}:                false,
	} {
		if got := d.wants(key); got != want {
			t.Errorf("wants(%+v) = %v", key, got)
		}
	}
	d.reset(model.DemandSet{All: true})
	if !d.wants(model.ProcKey{PID: 12345}) {
		t.Error("All does not want every process")
	}
	keys := []model.ProcKey{{PID: 3}, {PID: 2}, {PID: 1}}
	d.reset(model.DemandSet{Keys: keys})
	if keys[0].PID != 3 {
		t.Error("reset sorted the caller's slice")
	}
	if allocs := testing.AllocsPerRun(100, func() {
		d.reset(model.DemandSet{Keys: keys})
		d.wants(model.ProcKey{PID: 2})
	}); allocs != 0 {
		t.Errorf("%v allocations per reset and lookup", allocs)
	}
}
