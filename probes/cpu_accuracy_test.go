package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/vitals-dev/vitals/model"
)

// accuracyIntervals is how many 1 s intervals the probe and the tools share.
const accuracyIntervals = 3

// TestCPUAccuracyAgainstSysstat runs mpstat and vmstat over the same three
// seconds as the probe, with one core kept busy, and compares the averages
// over the whole window: every mpstat column total and per CPU within 3
// points, vmstat's cs and in within 10 % (or a small absolute floor, since an
// idle VM does under a hundred of each per second).
func TestCPUAccuracyAgainstSysstat(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3 s of wall time")
	}
	mpstatPath := lookTool(t, "mpstat", "sysstat")
	vmstatPath := lookTool(t, "vmstat", "procps")
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc here")
	}

	// Keep the highest-numbered online CPU busy.
	busyCPU := runtime.NumCPU() - 1
	if online, err := readCPUList("/sys/devices/system/cpu/online"); err == nil && len(online) > 0 {
		busyCPU = online[len(online)-1]
	}
	stopSpin, pinned := spin(t, busyCPU)
	defer stopSpin()
	time.Sleep(300 * time.Millisecond) // let the spinner settle before the window opens

	p, err := NewCPUProbe(CPUProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "LC_ALL=C", "S_TIME_FORMAT=ISO")
	var mpOut, vmOut, mpErr, vmErr bytes.Buffer
	mpstat := exec.Command(mpstatPath, "-P", "ALL", "1", strconv.Itoa(accuracyIntervals))
	vmstat := exec.Command(vmstatPath, "1", strconv.Itoa(accuracyIntervals+1))
	mpstat.Env, mpstat.Stdout, mpstat.Stderr = env, &mpOut, &mpErr
	vmstat.Env, vmstat.Stdout, vmstat.Stderr = env, &vmOut, &vmErr

	// Both tools take their first reading as they start; the probe takes
	// its baseline right after, then reads on each second of the same
	// window.
	if err := mpstat.Start(); err != nil {
		t.Fatal(err)
	}
	if err := vmstat.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := p.Read(start); err != nil {
		t.Fatal(err)
	}
	var reads []*model.CPU
	for i := 1; i <= accuracyIntervals; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second)))
		c, err := p.Read(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		reads = append(reads, c)
	}
	if err := mpstat.Wait(); err != nil {
		t.Fatalf("mpstat: %v: %s", err, mpErr.String())
	}
	if err := vmstat.Wait(); err != nil {
		t.Fatalf("vmstat: %v: %s", err, vmErr.String())
	}
	stopSpin()

	mp, err := parseMpstatAverage(mpOut.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, mpOut.String())
	}
	vm, err := parseVmstatIntervals(vmOut.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, vmOut.String())
	}
	if len(vm) != accuracyIntervals {
		t.Fatalf("vmstat printed %d interval lines, want %d:\n%s", len(vm), accuracyIntervals, vmOut.String())
	}

	// mpstat's columns and the model fields they match.
	columns := []struct {
		name string
		of   func(model.CPUPercent) float64
	}{
		{"%usr", func(p model.CPUPercent) float64 { return p.User }},
		{"%nice", func(p model.CPUPercent) float64 { return p.Nice }},
		{"%sys", func(p model.CPUPercent) float64 { return p.System }},
		{"%iowait", func(p model.CPUPercent) float64 { return p.IOWait }},
		{"%irq", func(p model.CPUPercent) float64 { return p.IRQ }},
		{"%soft", func(p model.CPUPercent) float64 { return p.SoftIRQ }},
		{"%steal", func(p model.CPUPercent) float64 { return p.Steal }},
		{"%guest", func(p model.CPUPercent) float64 { return p.Guest }},
		{"%gnice", func(p model.CPUPercent) float64 { return p.GuestNice }},
		{"%idle", func(p model.CPUPercent) float64 { return p.Idle }},
	}
	const pointsTolerance = 3
	compare := func(label, cpu string, pick func(*model.CPU) (model.CPUPercent, bool)) {
		row, ok := mp[cpu]
		if !ok {
			t.Errorf("mpstat has no Average row for CPU %s:\n%s", cpu, mpOut.String())
			return
		}
		var line strings.Builder
		fmt.Fprintf(&line, "%-4s", label)
		for _, col := range columns {
			var sum float64
			for _, c := range reads {
				pct, ok := pick(c)
				if !ok {
					t.Errorf("%s missing from a probe reading", label)
					return
				}
				sum += col.of(pct)
			}
			got, want := sum/float64(len(reads)), row[col.name]
			fmt.Fprintf(&line, " %s %.2f/%.2f", col.name, got, want)
			if math.Abs(got-want) > pointsTolerance {
				t.Errorf("%s %s: vitals %.2f, mpstat %.2f (more than %d points apart)", label, col.name, got, want, pointsTolerance)
			}
		}
		t.Log(line.String() + "  (vitals/mpstat)")
	}
	compare("all", "all", func(c *model.CPU) (model.CPUPercent, bool) { return c.Total, true })
	perCPU := 0
	for _, name := range slices.Sorted(maps.Keys(mp)) {
		id, err := strconv.Atoi(name)
		if err != nil {
			continue // "all"
		}
		perCPU++
		compare("cpu"+name, name, func(c *model.CPU) (model.CPUPercent, bool) {
			for _, pc := range c.PerCPU {
				if pc.ID == id {
					return pc.CPUPercent, pc.Online
				}
			}
			return model.CPUPercent{}, false
		})
	}
	if perCPU == 0 {
		t.Errorf("mpstat printed no per-CPU rows:\n%s", mpOut.String())
	}
	// The window measured something: the pinned spinner shows on its CPU,
	// as %nice when the test runs under nice(1) (the spinner inherits it).
	if usr := mp[strconv.Itoa(busyCPU)]["%usr"] + mp[strconv.Itoa(busyCPU)]["%nice"]; pinned && usr < 30 {
		t.Errorf("mpstat shows %%usr+%%nice %.2f on the busy CPU %d; the load generator did not run", usr, busyCPU)
	}

	for _, c := range []struct {
		name  string
		probe func(*model.CPU) model.Float
		floor float64
	}{
		{"cs", func(c *model.CPU) model.Float { return c.CtxtPerS }, 30},
		{"in", func(c *model.CPU) model.Float { return c.IntrPerS }, 30},
	} {
		var got, want float64
		for i, r := range reads {
			v := c.probe(r)
			if !v.OK {
				t.Fatalf("probe %s/s unknown in interval %d", c.name, i+1)
			}
			got += v.V / float64(len(reads))
			want += vm[i][c.name] / float64(len(vm))
		}
		tolerance := math.Max(0.10*want, c.floor)
		t.Logf("%s/s: vitals %.1f, vmstat %.1f (tolerance %.1f)", c.name, got, want, tolerance)
		if math.Abs(got-want) > tolerance {
			t.Errorf("%s/s: vitals %.1f, vmstat %.1f (more than %.1f apart)", c.name, got, want, tolerance)
		}
	}
}

// lookTool finds a comparison tool, skipping the test when it is missing,
// except in CI where a missing tool is a broken setup.
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (apt-get install %s): %v", name, pkg, err)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return path
}

// spin keeps one CPU busy in user mode until stop is called. The goroutine
// pins its thread to cpu; if that fails (the CPU is outside this process's
// affinity) it spins unpinned and pinned is false.
func spin(t *testing.T, cpu int) (stop func(), pinned bool) {
	var done atomic.Bool
	exited := make(chan struct{})
	pinErr := make(chan error, 1)
	go func() {
		defer close(exited)
		// Never unlocked: the pinned thread exits with the goroutine.
		runtime.LockOSThread()
		pinErr <- pinThread(cpu)
		for !done.Load() {
		}
	}()
	if err := <-pinErr; err != nil {
		t.Logf("spinner not pinned to CPU %d: %v", cpu, err)
	} else {
		pinned = true
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			done.Store(true)
			<-exited
		})
	}, pinned
}

// pinThread sets the calling thread's CPU affinity to one CPU.
func pinThread(cpu int) error {
	var mask [16]uint64 // room for 1024 CPUs
	if cpu < 0 || cpu >= len(mask)*64 {
		return fmt.Errorf("cpu %d out of range", cpu)
	}
	mask[cpu/64] = 1 << (cpu % 64)
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
	if errno != 0 {
		return errno
	}
	return nil
}

// parseMpstatAverage returns mpstat's "Average:" rows by CPU ("all", "0",
// ...), each mapping a column name ("%usr") to its value.
func parseMpstatAverage(out string) (map[string]map[string]float64, error) {
	rows := map[string]map[string]float64{}
	var header []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[0] != "Average:" {
			continue
		}
		if f[1] == "CPU" {
			header = f
			continue
		}
		if header == nil || len(f) != len(header) {
			return nil, fmt.Errorf("mpstat Average row %q does not match header %q", sc.Text(), header)
		}
		row := map[string]float64{}
		for i := 2; i < len(f); i++ {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("mpstat %s %s: %w", f[1], header[i], err)
			}
			row[header[i]] = v
		}
		rows[f[1]] = row
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no Average rows in mpstat output")
	}
	return rows, nil
}

// parseVmstatIntervals returns vmstat's rows after the first (which is
// averaged since boot), each mapping a column name ("cs") to its value.
func parseVmstatIntervals(out string) ([]map[string]float64, error) {
	var header []string
	var rows []map[string]float64
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "r" {
			header = f
			continue
		}
		if _, err := strconv.ParseFloat(f[0], 64); err != nil {
			continue // the "procs ---memory---" banner
		}
		if header == nil || len(f) != len(header) {
			return nil, fmt.Errorf("vmstat row %q does not match header %q", sc.Text(), header)
		}
		row := map[string]float64{}
		for i, name := range header {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("vmstat %s: %w", name, err)
			}
			row[name] = v
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no rows in vmstat output")
	}
	return rows[1:], nil
}
