package probes

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/procfs"

	"github.com/vitals-dev/vitals/model"
)

// slabTopN is how many slab caches, largest first, a Memory sample keeps.
const slabTopN = 20

// slabNeedsRoot is the reason shown when /proc/slabinfo is not readable.
const slabNeedsRoot = "needs root: /proc/slabinfo is readable by root only"

// slabNotShown is the reason when slab caches are not read because no view
// shows them.
const slabNotShown = "read only while the slab panel is open"

// MemoryProbeConfig says where the memory probe reads from; tests point it
// at fixture trees.
type MemoryProbeConfig struct {
	ProcRoot string // "/proc" when empty
	// Demand, when set, says whether anyone looks at the slab caches:
	// parsing /proc/slabinfo is about 1 ms, most of this probe's cost, so
	// the UI asks for it only while its slab panel is open. Nil reads it
	// every time (the JSON snapshot).
	Demand *model.Demand
}

// MemoryProbe reads system-wide memory figures: /proc/meminfo, /proc/vmstat,
// /proc/pressure/memory, /proc/zoneinfo, /proc/slabinfo and two vm sysctls.
type MemoryProbe struct {
	fs       procfs.FS
	procRoot string
	demand   *model.Demand
	pageSize uint64
	vmstat   *vmstatReader

	prev *memReading
	// lastOOMKill is when oom_kill last rose between two readings.
	lastOOMKill time.Time
}

// memReading is what the probe keeps of one reading to compute rates.
type memReading struct {
	time time.Time
	vm   vmstatCounters
	// vmErr says why /proc/vmstat could not be read ("" when it was).
	vmErr string
}

// NewMemoryProbe makes a memory probe. Its first Read only takes the
// baseline.
func NewMemoryProbe(cfg MemoryProbeConfig) (*MemoryProbe, error) {
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = procfs.DefaultMountPoint
	}
	pfs, err := procfs.NewFS(cfg.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("memory probe: %w", err)
	}
	return &MemoryProbe{
		fs:       pfs,
		procRoot: cfg.ProcRoot,
		pageSize: uint64(os.Getpagesize()),
		vmstat:   newVmstatReader(filepath.Join(cfg.ProcRoot, "vmstat")),
		demand:   cfg.Demand,
	}, nil
}

// Name is the probe's key in the model's error map.
func (p *MemoryProbe) Name() string { return "memory" }

func init() {
	Register(Family{Name: "memory", New: func(env *Env) (Probe, error) {
		return NewMemoryProbe(MemoryProbeConfig{ProcRoot: env.ProcRoot, Demand: env.Demand})
	}})
}

// Collect reads once and returns the memory part of the frame. The first
// call only takes the baseline. The cgroup list is another probe's (it runs
// later in the frame): the part carries over the list of the frame it
// replaces, so a late cgroup probe leaves the last list, not none.
func (p *MemoryProbe) Collect(t *Tick) (Part, error) {
	m, err := p.Read(t.Now)
	if err != nil || m == nil {
		return nil, err
	}
	return func(s *model.Sample) {
		// m is not published yet, so writing into it is safe; the previous
		// Memory is only read.
		if old := s.Memory; old != nil {
			m.Cgroups = old.Cgroups
			if reason, ok := old.Unavailable["cgroups"]; ok {
				setMemUnavailable(m, "cgroups", reason)
			}
		}
		s.Memory = m
	}, nil
}

// Read returns a new model.Memory for the interval since the previous Read;
// rates are over now minus the previous call's now. It returns nil on the
// first call. Only an unreadable /proc/meminfo is an error (the previous
// baseline is then kept); every other source that cannot be read leaves its
// fields unknown with the reason in Unavailable.
func (p *MemoryProbe) Read(now time.Time) (*model.Memory, error) {
	mi, err := p.readMeminfo()
	if err != nil {
		return nil, err
	}
	cur := &memReading{time: now}
	if err := p.vmstat.read(&cur.vm); err != nil {
		cur.vmErr = err.Error()
	}
	prev := p.prev
	p.prev = cur
	if prev == nil {
		return nil, nil
	}

	m := memoryFromMeminfo(mi)
	p.fillVM(m, prev, cur)

	if psi, reason := p.readPSI(); psi != nil {
		m.PSI = psi
	} else {
		setMemUnavailable(m, "psi", reason)
	}
	if zones, err := p.readZones(); err != nil {
		setMemUnavailable(m, "zones", err.Error())
	} else {
		m.Zones = zones
	}
	m.Swappiness = p.readSysctl(m, "swappiness")
	m.MinFreeKbytes = p.readSysctl(m, "min_free_kbytes")
	if p.demand != nil && !p.demand.Get().Slab {
		setMemUnavailable(m, "slab", slabNotShown)
	} else if slab, reason := p.readSlab(); reason != "" {
		setMemUnavailable(m, "slab", reason)
	} else {
		m.Slab = slab
	}
	return m, nil
}

func setMemUnavailable(m *model.Memory, field, reason string) {
	setReason(&m.Unavailable, field, reason)
}

func (p *MemoryProbe) readMeminfo() (procfs.Meminfo, error) {
	path := filepath.Join(p.procRoot, "meminfo")
	mi, err := p.fs.Meminfo()
	if err != nil {
		return procfs.Meminfo{}, fmt.Errorf("read %s: %w", path, err)
	}
	if mi.MemTotalBytes == nil || mi.MemFreeBytes == nil {
		return procfs.Meminfo{}, fmt.Errorf("%s has no MemTotal or MemFree line", path)
	}
	return mi, nil
}

// memoryFromMeminfo applies free(1)'s definitions (procps-ng 4) to
// /proc/meminfo. A line the kernel does not have counts as 0, except
// MemAvailable, which is unknown.
func memoryFromMeminfo(mi procfs.Meminfo) *model.Memory {
	b := func(v *uint64) uint64 {
		if v == nil {
			return 0
		}
		return *v
	}
	total, free := b(mi.MemTotalBytes), b(mi.MemFreeBytes)
	m := &model.Memory{
		TotalBytes:             total,
		FreeBytes:              free,
		BuffersBytes:           b(mi.BuffersBytes),
		CacheBytes:             b(mi.CachedBytes) + b(mi.SReclaimableBytes),
		PageCacheBytes:         b(mi.CachedBytes),
		SharedBytes:            b(mi.ShmemBytes),
		SlabReclaimableBytes:   b(mi.SReclaimableBytes),
		SlabUnreclaimableBytes: b(mi.SUnreclaimBytes),
		DirtyBytes:             b(mi.DirtyBytes),
		WritebackBytes:         b(mi.WritebackBytes),
		AnonBytes:              b(mi.ActiveAnonBytes) + b(mi.InactiveAnonBytes),
		FileBytes:              b(mi.ActiveFileBytes) + b(mi.InactiveFileBytes),
		ActiveFileBytes:        b(mi.ActiveFileBytes),
		InactiveFileBytes:      b(mi.InactiveFileBytes),
		AnonHugePagesBytes:     b(mi.AnonHugePagesBytes),
		HugePagesTotal:         b(mi.HugePagesTotal),
		HugePagesFree:          b(mi.HugePagesFree),
		HugePageSizeBytes:      b(mi.HugepagesizeBytes),
	}
	if mi.MemAvailableBytes != nil {
		avail := *mi.MemAvailableBytes
		// free(1) does the same when available exceeds total, which
		// happens in containers that see a distorted meminfo.
		if avail > total {
			avail = free
		}
		m.AvailableBytes = model.Known(float64(avail))
		m.UsedBytes = total - avail
	} else {
		setMemUnavailable(m, "available_bytes", "kernel has no MemAvailable in /proc/meminfo (before 3.14)")
		// free(1) before MemAvailable existed, including its fallback when
		// the sum exceeds total.
		if notUsed := free + m.BuffersBytes + m.CacheBytes; notUsed <= total {
			m.UsedBytes = total - notUsed
		} else {
			m.UsedBytes = total - free
		}
	}
	swapTotal, swapFree := b(mi.SwapTotalBytes), b(mi.SwapFreeBytes)
	m.Swap = model.Swap{
		TotalBytes:  swapTotal,
		FreeBytes:   swapFree,
		CachedBytes: b(mi.SwapCachedBytes),
	}
	if swapFree <= swapTotal {
		m.Swap.UsedBytes = swapTotal - swapFree
	}
	return m
}

// vmRateFields maps each /proc/vmstat counter turned into a rate to its
// model field and to the key its Unavailable reason is filed under.
var vmRateFields = [...]struct {
	counter vmCounter
	key     string
	field   func(*model.VMRates) *model.Float
}{
	{vmPswpin, "vmstat.swap_in_pages_per_s", func(v *model.VMRates) *model.Float { return &v.SwapInPagesPerS }},
	{vmPswpout, "vmstat.swap_out_pages_per_s", func(v *model.VMRates) *model.Float { return &v.SwapOutPagesPerS }},
	{vmPgpgin, "vmstat.page_in_kb_per_s", func(v *model.VMRates) *model.Float { return &v.PageInKBPerS }},
	{vmPgpgout, "vmstat.page_out_kb_per_s", func(v *model.VMRates) *model.Float { return &v.PageOutKBPerS }},
	{vmPgfault, "vmstat.faults_per_s", func(v *model.VMRates) *model.Float { return &v.FaultsPerS }},
	{vmPgmajfault, "vmstat.major_faults_per_s", func(v *model.VMRates) *model.Float { return &v.MajorFaultsPerS }},
	{vmPgscanKswapd, "vmstat.pgscan_kswapd_per_s", func(v *model.VMRates) *model.Float { return &v.ScanKswapdPerS }},
	{vmPgscanDirect, "vmstat.pgscan_direct_per_s", func(v *model.VMRates) *model.Float { return &v.ScanDirectPerS }},
	{vmPgstealKswapd, "vmstat.pgsteal_kswapd_per_s", func(v *model.VMRates) *model.Float { return &v.StealKswapdPerS }},
	{vmPgstealDirect, "vmstat.pgsteal_direct_per_s", func(v *model.VMRates) *model.Float { return &v.StealDirectPerS }},
	{vmPgscanAll, "vmstat.pgscan_per_s", func(v *model.VMRates) *model.Float { return &v.ScanAllPerS }},
	{vmPgstealAll, "vmstat.pgsteal_per_s", func(v *model.VMRates) *model.Float { return &v.StealAllPerS }},
	{vmRefaultAnon, "vmstat.workingset_refault_anon_per_s", func(v *model.VMRates) *model.Float { return &v.RefaultAnonPerS }},
	{vmRefaultFile, "vmstat.workingset_refault_file_per_s", func(v *model.VMRates) *model.Float { return &v.RefaultFilePerS }},
}

// fillVM sets the /proc/vmstat rates and the OOM kill count. A counter
// going backwards gives an unknown rate with no reason (it is one
// interval's accident); a counter the kernel lacks, or a file that could not
// be read, gives an unknown rate with a reason.
func (p *MemoryProbe) fillVM(m *model.Memory, prev, cur *memReading) {
	if cur.vmErr != "" {
		setMemUnavailable(m, "vmstat", cur.vmErr)
		setMemUnavailable(m, "oom_kills", cur.vmErr)
		m.LastOOMKill = p.lastOOMKill
		return
	}
	seconds := cur.time.Sub(prev.time).Seconds()
	for _, f := range vmRateFields {
		name := vmCounterNames[f.counter]
		c, ok := cur.vm.get(f.counter)
		if !ok {
			setMemUnavailable(m, f.key, "kernel has no "+name+" counter in /proc/vmstat")
			continue
		}
		if prev.vmErr != "" {
			continue // one reason for the whole file, below
		}
		pv, ok := prev.vm.get(f.counter)
		if !ok {
			setMemUnavailable(m, f.key, "no earlier reading of "+name+" to compare with")
			continue
		}
		*f.field(&m.VM) = model.CounterRate(pv, c, seconds)
	}
	if prev.vmErr != "" {
		setMemUnavailable(m, "vmstat", "no earlier reading of /proc/vmstat to compare with")
	}

	kills, ok := cur.vm.get(vmOOMKill)
	if !ok {
		setMemUnavailable(m, "oom_kills", "kernel has no oom_kill counter in /proc/vmstat (before 4.13)")
	} else {
		m.OOMKills = kills
		if pk, ok := prev.vm.get(vmOOMKill); ok && prev.vmErr == "" {
			m.OOMKillsDelta = model.ClampedDelta(pk, kills)
		}
		if m.OOMKillsDelta > 0 {
			p.lastOOMKill = cur.time
		}
	}
	m.LastOOMKill = p.lastOOMKill
}

// readPSI reads /proc/pressure/memory, or says in words why it cannot.
func (p *MemoryProbe) readPSI() (*model.Pressure, string) {
	return readSystemPressure(p.fs, p.procRoot, "memory")
}

// readZones reads the free pages and watermarks of every zone that has
// managed pages (the others, such as an empty Movable zone, never hold an
// allocation).
func (p *MemoryProbe) readZones() ([]model.ZoneWatermarks, error) {
	path := filepath.Join(p.procRoot, "zoneinfo")
	infos, err := p.fs.Zoneinfo()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("kernel has no %s", path)
		}
		return nil, err
	}
	var zones []model.ZoneWatermarks
	for _, z := range infos {
		if z.Managed == nil || *z.Managed <= 0 {
			continue
		}
		node, err := strconv.Atoi(z.Node)
		if err != nil {
			return nil, fmt.Errorf("%s: zone %q has node %q", path, z.Zone, z.Node)
		}
		if z.NrFreePages == nil || z.Min == nil || z.Low == nil || z.High == nil {
			return nil, fmt.Errorf("%s: node %d zone %s lacks nr_free_pages, min, low or high", path, node, z.Zone)
		}
		pages := func(v int64) uint64 { return uint64(max(v, 0)) }
		zones = append(zones, model.ZoneWatermarks{
			Node:      node,
			Zone:      z.Zone,
			FreePages: pages(*z.NrFreePages),
			MinPages:  pages(*z.Min),
			LowPages:  pages(*z.Low),
			HighPages: pages(*z.High),
			Managed:   pages(*z.Managed),
		})
	}
	if len(zones) == 0 {
		return nil, fmt.Errorf("%s lists no zone with managed pages", path)
	}
	return zones, nil
}

// readSysctl reads a number from /proc/sys/vm, or leaves it unknown with
// the reason filed under its name.
func (p *MemoryProbe) readSysctl(m *model.Memory, name string) model.Float {
	path := filepath.Join(p.procRoot, "sys/vm", name)
	data, err := os.ReadFile(path)
	if err != nil {
		setMemUnavailable(m, name, fmt.Sprintf("read %s: %v", path, err))
		return model.Unknown
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		setMemUnavailable(m, name, fmt.Sprintf("parse %s: %v", path, err))
		return model.Unknown
	}
	return model.Known(float64(v))
}

// readSlab returns the largest slab caches by total size, as slabtop -s c
// sorts them, or the reason they cannot be read.
func (p *MemoryProbe) readSlab() ([]model.SlabCache, string) {
	path := filepath.Join(p.procRoot, "slabinfo")
	info, err := p.fs.SlabInfo()
	if err != nil {
		return nil, slabUnavailableReason(path, err)
	}
	caches := make([]model.SlabCache, 0, len(info.Slabs))
	for _, s := range info.Slabs {
		n := func(v int64) uint64 { return uint64(max(v, 0)) }
		caches = append(caches, model.SlabCache{
			Name:       s.Name,
			ActiveObjs: n(s.ObjActive),
			NumObjs:    n(s.ObjNum),
			ObjSize:    n(s.ObjSize),
			SizeBytes:  n(s.SlabNum) * n(s.PagesPerSlab) * p.pageSize,
		})
	}
	slices.SortFunc(caches, func(a, b model.SlabCache) int {
		if c := cmp.Compare(b.SizeBytes, a.SizeBytes); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	// A copy, so the sample does not pin the array of every cache.
	return slices.Clone(caches[:min(len(caches), slabTopN)]), ""
}

func slabUnavailableReason(path string, err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return slabNeedsRoot
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("kernel has no %s (built without CONFIG_SLUB_DEBUG)", path)
	default:
		return fmt.Sprintf("read %s: %v", path, err)
	}
}
