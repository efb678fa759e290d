package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// TestMemoryAccuracyAgainstFree reads /proc/meminfo through the probe
// between two runs of `free -b` and checks every column of free's Mem: row
// against the probe's figure with the same definition. Memory moves between
// the runs (free itself is a process that comes and goes), so a column may
// lie anywhere between the two readings of free, plus a small slack.
func TestMemoryAccuracyAgainstFree(t *testing.T) {
	freePath := lookTool(t, "free", "procps")
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("no /proc here")
	}
	p, err := NewMemoryProbe(MemoryProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(time.Now()); err != nil {
		t.Fatal(err)
	}
	before := runFree(t, freePath)
	m, err := p.Read(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	after := runFree(t, freePath)
	if !m.AvailableBytes.OK {
		t.Fatalf("MemAvailable unknown on this kernel: %v", m.Unavailable)
	}

	const slack = 4 << 20 // bytes
	for _, c := range []struct {
		column string
		probe  uint64
		slack  uint64
	}{
		{"total", m.TotalBytes, 0},
		{"used", m.UsedBytes, slack},
		{"free", m.FreeBytes, slack},
		{"shared", m.SharedBytes, slack},
		{"buff/cache", m.BuffersBytes + m.CacheBytes, slack},
		{"available", uint64(m.AvailableBytes.V), slack},
	} {
		b, a := before[c.column], after[c.column]
		lo, hi := min(b, a), max(b, a)
		lo -= min(lo, c.slack)
		hi += c.slack
		t.Logf("%-10s vitals %13d  free %13d / %13d  (readings differ by %d)", c.column, c.probe, b, a, hi-lo-2*c.slack)
		if c.probe < lo || c.probe > hi {
			t.Errorf("%s: vitals %d, free says %d then %d (allowed %d–%d)", c.column, c.probe, b, a, lo, hi)
		}
	}
}

// runFree runs `free -b` and returns its Mem: row by column name.
func runFree(t *testing.T, path string) map[string]uint64 {
	t.Helper()
	cmd := exec.Command(path, "-b")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("free -b: %v", err)
	}
	row, err := parseFreeMem(string(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return row
}

// parseFreeMem parses free's header and Mem: row.
func parseFreeMem(out string) (map[string]uint64, error) {
	var header []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) > 0 && f[0] == "total":
			header = f
		case len(f) > 0 && f[0] == "Mem:":
			if len(f)-1 != len(header) {
				return nil, fmt.Errorf("free Mem: row %q does not match header %q", sc.Text(), header)
			}
			row := map[string]uint64{}
			for i, name := range header {
				v, err := strconv.ParseUint(f[i+1], 10, 64)
				if err != nil {
					return nil, fmt.Errorf("free %s: %w", name, err)
				}
				row[name] = v
			}
			for _, want := range []string{"total", "used", "free", "shared", "buff/cache", "available"} {
				if _, ok := row[want]; !ok {
					return nil, fmt.Errorf("free has no %q column", want)
				}
			}
			return row, nil
		}
	}
	return nil, fmt.Errorf("no Mem: row in free's output")
}

// writeLoadBytes is how much the vmstat comparison writes and fsyncs during
// its window, so that bo is well above the idle noise.
const writeLoadBytes = 64 << 20

// TestMemoryAccuracyAgainstVmstat runs `vmstat 1 4` over the same three
// seconds as the probe while 64 MiB are written and fsynced, and compares
// the averages over the window of si, so, bi and bo within 15 % (or a small
// absolute floor: vmstat prints whole numbers and an idle VM pages little).
func TestMemoryAccuracyAgainstVmstat(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3 s of wall time")
	}
	vmstatPath := lookTool(t, "vmstat", "procps")
	if _, err := os.Stat("/proc/vmstat"); err != nil {
		t.Skip("no /proc here")
	}
	dir := blockBackedDir(t)
	p, err := NewMemoryProbe(MemoryProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}

	var out, stderr bytes.Buffer
	vmstat := exec.Command(vmstatPath, "1", strconv.Itoa(accuracyIntervals+1))
	vmstat.Env = append(os.Environ(), "LC_ALL=C")
	vmstat.Stdout, vmstat.Stderr = &out, &stderr
	// vmstat takes its first reading as it starts; the probe takes its
	// baseline right after, then reads on each second of the same window.
	if err := vmstat.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := p.Read(start); err != nil {
		t.Fatal(err)
	}
	// The write starts well inside the window so that both sides see all
	// of it.
	written := make(chan writeResult, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		written <- writeAndSync(filepath.Join(dir, "vitals-page-out"), writeLoadBytes)
	}()
	var reads []*model.Memory
	for i := 1; i <= accuracyIntervals; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second)))
		m, err := p.Read(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		reads = append(reads, m)
	}
	windowEnd := time.Now()
	if err := vmstat.Wait(); err != nil {
		t.Fatalf("vmstat: %v: %s", err, stderr.String())
	}
	w := <-written
	if w.err != nil {
		t.Fatalf("page-out load: %v", w.err)
	}
	writeInWindow := w.done.Before(windowEnd.Add(-100 * time.Millisecond))
	if !writeInWindow {
		t.Logf("the 64 MiB write+fsync took %v and ended after the window", w.took)
	}

	vm, err := parseVmstatIntervals(out.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(vm) != accuracyIntervals {
		t.Fatalf("vmstat printed %d interval lines, want %d:\n%s", len(vm), accuracyIntervals, out.String())
	}

	// vmstat prints si/so in KiB/s (pages × page size); the model keeps
	// pages/s. bi/bo are pgpgin/pgpgout, which the kernel counts in KiB.
	kibPerPage := float64(os.Getpagesize()) / 1024
	avg := map[string]float64{}
	for _, c := range []struct {
		name  string
		probe func(*model.Memory) model.Float
		scale float64
		floor float64
	}{
		{"si", func(m *model.Memory) model.Float { return m.VM.SwapInPagesPerS }, kibPerPage, 8},
		{"so", func(m *model.Memory) model.Float { return m.VM.SwapOutPagesPerS }, kibPerPage, 8},
		{"bi", func(m *model.Memory) model.Float { return m.VM.PageInKBPerS }, 1, 64},
		{"bo", func(m *model.Memory) model.Float { return m.VM.PageOutKBPerS }, 1, 64},
	} {
		var got, want float64
		for i, r := range reads {
			v := c.probe(r)
			if !v.OK {
				t.Fatalf("probe %s unknown in interval %d: %v", c.name, i+1, r.Unavailable)
			}
			got += v.V * c.scale / float64(len(reads))
			want += vm[i][c.name] / float64(len(vm))
		}
		avg[c.name] = want
		tolerance := math.Max(0.15*want, c.floor)
		t.Logf("%s: vitals %.1f KiB/s, vmstat %.1f KiB/s (tolerance %.1f)", c.name, got, want, tolerance)
		if math.Abs(got-want) > tolerance {
			t.Errorf("%s: vitals %.1f KiB/s, vmstat %.1f KiB/s (more than %.1f apart)", c.name, got, want, tolerance)
		}
	}
	// The window measured something: the fsynced write shows in bo.
	if least := 0.5 * writeLoadBytes / 1024 / accuracyIntervals; writeInWindow && avg["bo"] < least {
		t.Errorf("vmstat bo averaged %.0f KiB/s, want ≥ %.0f with %d MiB fsynced in the window; the load did not reach the disk",
			avg["bo"], least, writeLoadBytes>>20)
	}
}

type writeResult struct {
	done time.Time
	took time.Duration
	err  error
}

// writeAndSync writes n bytes to a new file at path, fsyncs and removes it.
func writeAndSync(path string, n int) writeResult {
	began := time.Now()
	f, err := os.Create(path)
	if err != nil {
		return writeResult{err: err}
	}
	defer os.Remove(path)
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i*31 + i>>8) // not zeros: nothing may skip or compress it
	}
	for written := 0; written < n; written += len(chunk) {
		if _, err := f.Write(chunk); err != nil {
			f.Close()
			return writeResult{err: err}
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return writeResult{err: err}
	}
	if err := f.Close(); err != nil {
		return writeResult{err: err}
	}
	now := time.Now()
	return writeResult{done: now, took: now.Sub(began)}
}

// blockBackedDir returns a temporary directory whose writes reach a block
// device (a tmpfs /tmp would never page out), or skips the test.
func blockBackedDir(t *testing.T) string {
	t.Helper()
	const tmpfsMagic = 0x01021994
	candidates := []string{t.TempDir()}
	if wd, err := os.Getwd(); err == nil {
		candidates = append(candidates, wd)
	}
	for _, c := range candidates {
		var st syscall.Statfs_t
		if err := syscall.Statfs(c, &st); err != nil || st.Type == tmpfsMagic {
			continue
		}
		if c == candidates[0] {
			return c
		}
		d, err := os.MkdirTemp(c, ".vitals-accuracy-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	t.Skip("no block-device-backed directory to generate page-out in")
	return ""
}
