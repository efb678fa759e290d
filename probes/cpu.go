package probes

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/procfs"

	"github.com/vitals-dev/vitals/model"
)

// userHZ is the unit of every tick counter in /proc. The kernel converts to
// USER_HZ, which is 100 on every architecture vitals runs on, whatever
// CONFIG_HZ is.
const userHZ = 100

// psiMissing is the reason shown when the kernel has no pressure files.
const psiMissing = "kernel has no /proc/pressure (CONFIG_PSI off or booted with psi=0)"

// CPUProbeConfig says where the CPU probe reads from; tests point it at
// fixture trees.
type CPUProbeConfig struct {
	ProcRoot string // "/proc" when empty
	SysRoot  string // "/sys" when empty
}

// CPUProbe reads system-wide CPU figures: /proc/stat, /proc/loadavg,
// /proc/softirqs, /proc/pressure/cpu and the present-CPU list in /sys.
type CPUProbe struct {
	fs       procfs.FS
	procRoot string
	sysRoot  string

	prev *cpuReading
	// lastSeen holds each CPU's counters from the last reading it was
	// online in. As in mpstat, a CPU that comes back online is measured
	// against these (its counters do not reset while it is offline).
	lastSeen map[int]model.CPUTimes
}

// cpuReading is one reading of every counter the probe turns into rates.
type cpuReading struct {
	time   time.Time
	total  model.CPUTimes
	perCPU map[int]model.CPUTimes // online CPUs only: offline ones have no line
	ctxt   uint64
	intr   uint64
	forks  uint64

	procsRunning, procsBlocked uint64

	// softirqs is nil when /proc/softirqs could not be read; softirqErr
	// says why.
	softirqs   *softirqTable
	softirqErr string
}

// NewCPUProbe makes a CPU probe. Its first Read only takes the baseline.
func NewCPUProbe(cfg CPUProbeConfig) (*CPUProbe, error) {
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = procfs.DefaultMountPoint
	}
	if cfg.SysRoot == "" {
		cfg.SysRoot = "/sys"
	}
	pfs, err := procfs.NewFS(cfg.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("cpu probe: %w", err)
	}
	return &CPUProbe{
		fs:       pfs,
		procRoot: cfg.ProcRoot,
		sysRoot:  cfg.SysRoot,
		lastSeen: map[int]model.CPUTimes{},
	}, nil
}

// Name is the probe's key in the model's error map.
func (p *CPUProbe) Name() string { return "cpu" }

func init() {
	Register(Family{Name: "cpu", New: func(env *Env) (Probe, error) {
		return NewCPUProbe(CPUProbeConfig{ProcRoot: env.ProcRoot, SysRoot: env.SysRoot})
	}})
}

// Collect reads once and returns the CPU part of the frame. The first call
// only takes the baseline.
func (p *CPUProbe) Collect(t *Tick) (Part, error) {
	cpu, err := p.Read(t.Now)
	if err != nil || cpu == nil {
		return nil, err
	}
	return func(s *model.Sample) { s.CPU = cpu }, nil
}

// Read computes the model.CPU for the interval since the previous Read; rates
// are over now minus the previous call's now. It returns nil on the first
// call. After an error the previous baseline is kept, so the next interval
// spans the failed one.
func (p *CPUProbe) Read(now time.Time) (*model.CPU, error) {
	cur, err := p.readCounters(now)
	if err != nil {
		return nil, err
	}
	load, err := p.readLoad()
	if err != nil {
		return nil, err
	}
	prev, baseline := p.prev, p.lastSeen
	p.prev = cur
	p.lastSeen = maps.Clone(baseline)
	maps.Copy(p.lastSeen, cur.perCPU)
	if prev == nil {
		return nil, nil
	}

	cpu := &model.CPU{
		Online:       len(cur.perCPU),
		Load:         load,
		ProcsRunning: cur.procsRunning,
		ProcsBlocked: cur.procsBlocked,
	}
	seconds := now.Sub(prev.time).Seconds()
	cpu.CtxtPerS = model.CounterRate(prev.ctxt, cur.ctxt, seconds)
	cpu.IntrPerS = model.CounterRate(prev.intr, cur.intr, seconds)
	cpu.ForksPerS = model.CounterRate(prev.forks, cur.forks, seconds)
	cpu.Total, _ = model.CPUPercentBetween(prev.total, cur.total)

	ids := map[int]bool{}
	for id := range prev.perCPU {
		ids[id] = true
	}
	for id := range cur.perCPU {
		ids[id] = true
	}
	present, presentErr := readCPUList(filepath.Join(p.sysRoot, "devices/system/cpu/present"))
	for _, id := range present {
		ids[id] = true
	}
	if presentErr == nil && len(present) > 0 {
		cpu.Count = len(present)
	} else {
		// No /sys (some containers): the CPUs seen are the best count.
		cpu.Count = len(ids)
	}

	var softirqPerCPU map[int][]float64
	switch {
	case cur.softirqs == nil:
		setUnavailable(cpu, "softirqs", cur.softirqErr)
	case prev.softirqs == nil:
		setUnavailable(cpu, "softirqs", "no earlier reading of /proc/softirqs to compare with")
	case seconds <= 0:
		setUnavailable(cpu, "softirqs", "no time passed since the previous reading")
	default:
		cpu.SoftIRQs, softirqPerCPU = softirqRates(prev.softirqs, cur.softirqs, seconds)
	}

	cpu.PerCPU = make([]model.PerCPU, 0, len(ids))
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		pc := model.PerCPU{ID: id, SoftIRQPerS: softirqPerCPU[id]}
		if times, online := cur.perCPU[id]; online {
			pc.Online = true
			// A CPU never seen before has no baseline and shows zeros
			// for one interval.
			if base, ok := baseline[id]; ok {
				pc.CPUPercent, _ = model.CPUPercentBetween(base, times)
			}
		}
		cpu.PerCPU = append(cpu.PerCPU, pc)
	}

	if psi, reason := p.readPSI(); psi != nil {
		cpu.PSI = psi
	} else {
		setUnavailable(cpu, "psi", reason)
	}
	return cpu, nil
}

func setUnavailable(cpu *model.CPU, field, reason string) { setReason(&cpu.Unavailable, field, reason) }

// readCounters reads /proc/stat and /proc/softirqs.
func (p *CPUProbe) readCounters(now time.Time) (*cpuReading, error) {
	stat, err := p.fs.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(p.procRoot, "stat"), err)
	}
	r := &cpuReading{
		time:         now,
		total:        cpuTimes(stat.CPUTotal),
		perCPU:       make(map[int]model.CPUTimes, len(stat.CPU)),
		ctxt:         stat.ContextSwitches,
		intr:         stat.IRQTotal,
		forks:        stat.ProcessCreated,
		procsRunning: stat.ProcessesRunning,
		procsBlocked: stat.ProcessesBlocked,
	}
	for id, c := range stat.CPU {
		r.perCPU[int(id)] = cpuTimes(c)
	}
	path := filepath.Join(p.procRoot, "softirqs")
	if r.softirqs, err = readSoftirqs(path); err != nil {
		r.softirqErr = err.Error()
	}
	return r, nil
}

// cpuTimes turns procfs's seconds back into the kernel's ticks. procfs
// divides each integer tick count by 100; multiplying back and rounding is
// exact far beyond any real counter (2^50 ticks), so the percentages are
// computed from the same integers mpstat uses.
func cpuTimes(s procfs.CPUStat) model.CPUTimes {
	t := func(sec float64) uint64 { return uint64(math.Round(sec * userHZ)) }
	return model.CPUTimes{
		User: t(s.User), Nice: t(s.Nice), System: t(s.System), Idle: t(s.Idle),
		IOWait: t(s.Iowait), IRQ: t(s.IRQ), SoftIRQ: t(s.SoftIRQ), Steal: t(s.Steal),
		Guest: t(s.Guest), GuestNice: t(s.GuestNice),
	}
}

// readLoad reads /proc/loadavg: procfs gives the averages, and the fourth
// field (runnable/total scheduling entities), which procfs skips, is parsed
// here.
func (p *CPUProbe) readLoad() (model.LoadAvg, error) {
	path := filepath.Join(p.procRoot, "loadavg")
	avg, err := p.fs.LoadAvg()
	if err != nil {
		return model.LoadAvg{}, fmt.Errorf("read %s: %w", path, err)
	}
	load := model.LoadAvg{One: avg.Load1, Five: avg.Load5, Fifteen: avg.Load15}
	data, err := os.ReadFile(path)
	if err != nil {
		return model.LoadAvg{}, fmt.Errorf("read %s: %w", path, err)
	}
	if load.Runnable, load.Total, err = parseLoadEntities(string(data)); err != nil {
		return model.LoadAvg{}, fmt.Errorf("parse %s: %w", path, err)
	}
	return load, nil
}

// parseLoadEntities parses "runnable/total", the fourth field of
// /proc/loadavg ("0.71 0.29 0.12 1/92 6466").
func parseLoadEntities(loadavg string) (runnable, total uint64, err error) {
	fields := strings.Fields(loadavg)
	if len(fields) < 4 {
		return 0, 0, fmt.Errorf("want at least 4 fields, got %q", loadavg)
	}
	r, t, ok := strings.Cut(fields[3], "/")
	if !ok {
		return 0, 0, fmt.Errorf("field 4 is %q, want runnable/total", fields[3])
	}
	if runnable, err = strconv.ParseUint(r, 10, 64); err != nil {
		return 0, 0, err
	}
	if total, err = strconv.ParseUint(t, 10, 64); err != nil {
		return 0, 0, err
	}
	return runnable, total, nil
}

// readPSI reads /proc/pressure/cpu, or says in words why it cannot.
func (p *CPUProbe) readPSI() (*model.Pressure, string) {
	return readSystemPressure(p.fs, p.procRoot, "cpu")
}

// softirqTable is /proc/softirqs: one counter per softirq type and CPU. It is
// parsed here rather than with procfs because procfs drops the header that
// says which CPU each column is, and knows only the ten types of today's
// kernels.
type softirqTable struct {
	cpus   []int      // CPU id of each column
	names  []string   // type names as the kernel prints them, in its order
	counts [][]uint64 // counts[type][column]
}

func readSoftirqs(path string) (*softirqTable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	t, err := parseSoftirqs(string(data))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return t, nil
}

func parseSoftirqs(text string) (*softirqTable, error) {
	header, rows, _ := strings.Cut(text, "\n")
	t := &softirqTable{}
	for _, col := range strings.Fields(header) {
		id, err := strconv.Atoi(strings.TrimPrefix(col, "CPU"))
		if err != nil || !strings.HasPrefix(col, "CPU") {
			return nil, fmt.Errorf("header column %q is not CPUn", col)
		}
		t.cpus = append(t.cpus, id)
	}
	if len(t.cpus) == 0 {
		return nil, errors.New("no CPU columns in the header")
	}
	for line := range strings.Lines(rows) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		name, ok := strings.CutSuffix(fields[0], ":")
		if !ok || len(fields)-1 != len(t.cpus) {
			return nil, fmt.Errorf("line %q: want \"NAME:\" and %d counters", strings.TrimSpace(line), len(t.cpus))
		}
		counts := make([]uint64, len(t.cpus))
		for i, f := range fields[1:] {
			v, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s CPU%d: %w", name, t.cpus[i], err)
			}
			counts[i] = v
		}
		t.names = append(t.names, name)
		t.counts = append(t.counts, counts)
	}
	return t, nil
}

// softirqRates turns two tables into per-type rates summed over CPUs and
// per-CPU rates in the same order. A counter that went backwards counts as 0
// for that CPU and type rather than unknown: it can only happen if the kernel
// resets a per-CPU count, and one odd cell should not blank the whole row. A
// type or CPU column missing from the earlier table also counts as 0.
func softirqRates(prev, cur *softirqTable, seconds float64) ([]model.SoftIRQRate, map[int][]float64) {
	prevType := make(map[string]int, len(prev.names))
	for i, n := range prev.names {
		prevType[n] = i
	}
	prevCol := make(map[int]int, len(prev.cpus))
	for i, id := range prev.cpus {
		prevCol[id] = i
	}
	total := make([]model.SoftIRQRate, len(cur.names))
	perCPU := make(map[int][]float64, len(cur.cpus))
	for _, id := range cur.cpus {
		perCPU[id] = make([]float64, len(cur.names))
	}
	for ti, name := range cur.names {
		total[ti].Name = name
		pt, ok := prevType[name]
		if !ok {
			continue
		}
		for ci, id := range cur.cpus {
			pc, ok := prevCol[id]
			if !ok {
				continue
			}
			rate := float64(model.ClampedDelta(prev.counts[pt][pc], cur.counts[ti][ci])) / seconds
			perCPU[id][ti] = rate
			total[ti].PerS += rate
		}
	}
	return total, perCPU
}

// readCPUList reads a kernel CPU list file such as
// /sys/devices/system/cpu/present ("0-3,6,8-9").
func readCPUList(path string) ([]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseCPUList(strings.TrimSpace(string(data)))
}

// maxCPUListIDs bounds a CPU list: Linux's NR_CPUS is at most 8,192, so a
// list naming more is not one, and rejecting it must not cost gigabytes
// ("0-65536" repeated).
const maxCPUListIDs = 1 << 16

func parseCPUList(s string) ([]int, error) {
	var ids []int
	if s == "" {
		return nil, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: %w", s, err)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("cpu list %q: %w", s, err)
			}
		}
		if first < 0 || last < first || last-first >= maxCPUListIDs-len(ids) {
			return nil, fmt.Errorf("cpu list %q: bad range %q", s, part)
		}
		for id := first; id <= last; id++ {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
