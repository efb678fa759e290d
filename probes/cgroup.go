package probes

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// MemoryCgroupPath returns the memory cgroup of a process from the contents
// of /proc/PID/cgroup: the v1 line whose controller list contains "memory"
// ("4:memory:/user.slice"), else the v2 line ("0::/system.slice/foo.service").
// ok is false when there is neither. Only the returned string is allocated:
// it is called once for each new process.
func MemoryCgroupPath(procCgroup []byte) (path string, ok bool) {
	p, ok := memoryCgroupPath(procCgroup)
	return string(p), ok
}

// memoryCgroupPath is MemoryCgroupPath without the copy: the path is a
// slice of procCgroup.
func memoryCgroupPath(procCgroup []byte) (path []byte, ok bool) {
	var v2 []byte
	haveV2 := false
	for rest := procCgroup; len(rest) > 0; {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte{'\n'})
		// "hierarchy-ID:controller-list:cgroup-path"; the path may itself
		// contain ':' (a cgroup directory name can), so cut twice only.
		id, after, found := bytes.Cut(line, []byte{':'})
		if !found || len(id) == 0 {
			continue
		}
		controllers, p, found := bytes.Cut(after, []byte{':'})
		if !found || len(p) == 0 || p[0] != '/' {
			continue
		}
		if len(controllers) == 0 {
			if string(id) == "0" {
				v2, haveV2 = p, true
			}
			continue
		}
		for c := range bytes.SplitSeq(controllers, []byte{','}) {
			if string(c) == "memory" {
				return p, true
			}
		}
	}
	if haveV2 {
		return v2, true
	}
	return nil, false
}

// CgroupProbeConfig says where the cgroup probe reads from; tests point it at
// fixture trees.
type CgroupProbeConfig struct {
	CgroupRoot string // "/sys/fs/cgroup" when empty
	// ProcRoot is "/proc" when empty. The probe takes each process's cgroup
	// from model.Process.Cgroup (filled by the process scanner), so it does
	// not read /proc itself today.
	ProcRoot string
}

// CgroupProbe reads the memory cgroups that hold processes: usage, working
// set, anon/file split, limit, OOM counts and (v2) pressure.
//
// A field that could not be read is left zero (LimitBytes Unknown) and named
// in MemCgroup.Unavailable with the reason. The keys are "usage", "anon",
// "file", "inactive_file", "limit", "oom_events", "oom_kills" and "psi".
type CgroupProbe struct {
	cgroupRoot string
	procRoot   string
	// version is 1 or 2, or 0 when there is no memory cgroup hierarchy;
	// reason then says why.
	version int
	// hierarchy is the directory Process.Cgroup paths are relative to.
	hierarchy string
	reason    string
	// refaults holds each cgroup's refault counters of the last frame, at
	// last; the rates are over the interval since.
	refaults model.KeyedCounters[string, [2]model.Counter]
	last     time.Time
}

// cgroupV1Unlimited: memory.limit_in_bytes of a v1 cgroup without a limit is
// the page counter's maximum in bytes (2^63 rounded down to a page,
// 9223372036854771712 with 4 KiB pages). Nobody sets a real limit this high.
const cgroupV1Unlimited = 1 << 62

// NewCgroupProbe detects which memory cgroup hierarchy the machine has:
// v2 at the root ("memory" in <root>/cgroup.controllers), else a v1 memory
// hierarchy at <root>/memory, else v2 at <root>/unified (hybrid mode with
// memory on the unified side). A machine with none is not an error: Read
// then returns nil and Sample records why in Memory.Unavailable["cgroups"].
func NewCgroupProbe(cfg CgroupProbeConfig) (*CgroupProbe, error) {
	if cfg.CgroupRoot == "" {
		cfg.CgroupRoot = "/sys/fs/cgroup"
	}
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	p := &CgroupProbe{cgroupRoot: cfg.CgroupRoot, procRoot: cfg.ProcRoot}
	p.version, p.hierarchy, p.reason = detectMemoryCgroups(cfg.CgroupRoot)
	return p, nil
}

func detectMemoryCgroups(root string) (version int, hierarchy, reason string) {
	// A tree we may not read is not a tree without memory cgroups: keep
	// the first permission error to say so.
	var denied error
	note := func(err error) {
		if denied == nil && errors.Is(err, fs.ErrPermission) {
			denied = err
		}
	}
	if cgroupControllersHaveMemory(filepath.Join(root, "cgroup.controllers"), note) {
		return 2, root, ""
	}
	v1 := filepath.Join(root, "memory")
	// The directory alone is only a mount point; the controller's files
	// say the hierarchy is mounted.
	_, err := os.Stat(filepath.Join(v1, "memory.usage_in_bytes"))
	if err == nil {
		return 1, v1, ""
	}
	note(err)
	unified := filepath.Join(root, "unified")
	if cgroupControllersHaveMemory(filepath.Join(unified, "cgroup.controllers"), note) {
		return 2, unified, ""
	}
	if _, err := os.Stat(root); err != nil {
		if !errors.Is(err, fs.ErrPermission) {
			return 0, "", fmt.Sprintf("no cgroup file system: %v", err)
		}
		note(err)
	}
	if denied != nil {
		return 0, "", fmt.Sprintf("cannot read the cgroup tree under %s: %v", root, denied)
	}
	return 0, "", fmt.Sprintf("no memory cgroup controller mounted under %s "+
		"(neither a v2 hierarchy with \"memory\" in cgroup.controllers nor a v1 memory hierarchy)", root)
}

func cgroupControllersHaveMemory(path string, note func(error)) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		note(err)
		return false
	}
	return slices.Contains(strings.Fields(string(data)), "memory")
}

// Name is the probe's key in the model's error map.
func (p *CgroupProbe) Name() string { return "cgroup" }

func init() {
	Register(Family{Name: "cgroup", After: []string{"process", "memory"}, New: func(env *Env) (Probe, error) {
		return NewCgroupProbe(CgroupProbeConfig{CgroupRoot: env.CgroupRoot, ProcRoot: env.ProcRoot})
	}})
}

// Collect reads the cgroups of this frame's processes and returns them as
// Memory.Cgroups. It runs after the process scanner and the memory probe
// and returns nothing until both have produced their parts: the memory
// probe owns Memory, so this part swaps in a copy with the list replaced.
func (p *CgroupProbe) Collect(t *Tick) (Part, error) {
	frame := t.Frame
	if frame.Processes == nil || frame.Memory == nil {
		return nil, nil
	}
	list, err := p.Read(frame.Processes)
	if err != nil {
		return nil, err
	}
	p.refaultRates(list, t.Now)
	return func(next *model.Sample) {
		if next.Memory == nil {
			return
		}
		m := *next.Memory
		m.Cgroups = list
		if p.version == 0 && m.Unavailable["cgroups"] != p.reason {
			// A published map is never written: copy it.
			m.Unavailable = maps.Clone(m.Unavailable)
			if m.Unavailable == nil {
				m.Unavailable = map[string]string{}
			}
			m.Unavailable["cgroups"] = p.reason
		}
		next.Memory = &m
	}, nil
}

// refaultRates sets each cgroup's refault rates from its counters and the
// previous frame's.
func (p *CgroupProbe) refaultRates(list []model.MemCgroup, now time.Time) {
	seconds := now.Sub(p.last).Seconds()
	if p.last.IsZero() {
		seconds = 0
	}
	for i := range list {
		cg := &list[i]
		prev, ok := p.refaults.Observe(cg.Path, [2]model.Counter{cg.RefaultFile, cg.RefaultAnon})
		if !ok {
			continue
		}
		if cg.RefaultFile.OK && prev[0].OK {
			cg.RefaultFilePerS = model.CounterRate(prev[0].V, cg.RefaultFile.V, seconds)
		}
		if cg.RefaultAnon.OK && prev[1].OK {
			cg.RefaultAnonPerS = model.CounterRate(prev[1].V, cg.RefaultAnon.V, seconds)
		}
	}
	p.refaults.EndFrame()
	p.last = now
}

// Read builds the list of memory cgroups holding these processes (by their
// Cgroup paths; empty paths are skipped), with each cgroup's process count
// and RSS sum, sorted by working set, largest first. It returns nil when the
// machine has no memory cgroups. A cgroup that vanished since the processes
// were scanned is left out.
func (p *CgroupProbe) Read(procs []model.Process) ([]model.MemCgroup, error) {
	if p.version == 0 {
		return nil, nil
	}
	if _, err := os.Stat(p.hierarchy); err != nil {
		return nil, fmt.Errorf("memory cgroup hierarchy: %w", err)
	}
	type members struct {
		processes int
		rss       uint64
	}
	byPath := map[string]*members{}
	for i := range procs {
		path := procs[i].Cgroup
		if path == "" {
			continue
		}
		m := byPath[path]
		if m == nil {
			m = &members{}
			byPath[path] = m
		}
		m.processes++
		m.rss += procs[i].RSSBytes
	}
	list := make([]model.MemCgroup, 0, len(byPath))
	for path, m := range byPath {
		// A process outside our cgroup namespace shows a path climbing
		// above its root ("/../.."): its cgroup is not in this hierarchy.
		if !strings.HasPrefix(path, "/") || strings.Contains(path+"/", "/../") {
			continue
		}
		cg, ok := p.readCgroup(path)
		if !ok {
			continue
		}
		cg.Processes, cg.RSSSumBytes = m.processes, m.rss
		list = append(list, cg)
	}
	slices.SortFunc(list, func(a, b model.MemCgroup) int {
		if c := cmp.Compare(b.WorkingSetBytes, a.WorkingSetBytes); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	return list, nil
}

// readCgroup reads one cgroup directory. ok is false when the directory is
// gone (its processes moved or exited, and it was removed).
func (p *CgroupProbe) readCgroup(path string) (cg model.MemCgroup, ok bool) {
	r := cgroupDirReader{dir: filepath.Join(p.hierarchy, path)}
	if _, err := os.Stat(r.dir); err != nil {
		return cg, false
	}
	cg = model.MemCgroup{Path: path, Version: p.version}
	if p.version == 2 {
		r.readV2(&cg)
	} else {
		r.readV1(&cg)
	}
	if r.failed {
		// A read failed: if the directory went away meanwhile, so did
		// the cgroup; otherwise the failures are in Unavailable.
		if _, err := os.Stat(r.dir); errors.Is(err, fs.ErrNotExist) {
			return cg, false
		}
	}
	if cg.InactiveFileBytes < cg.UsageBytes {
		cg.WorkingSetBytes = cg.UsageBytes - cg.InactiveFileBytes
	}
	return cg, true
}

// cgroupDirReader reads the files of one cgroup directory and records what
// it could not read.
type cgroupDirReader struct {
	dir    string
	failed bool // some read failed (the directory may have vanished)
}

func (r *cgroupDirReader) read(name string) (string, error) {
	data, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil {
		r.failed = true
		return "", err
	}
	return string(data), nil
}

// readUint reads a file holding one number.
func (r *cgroupDirReader) readUint(name string) (uint64, error) {
	text, err := r.read(name)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", filepath.Join(r.dir, name), err)
	}
	return v, nil
}

// readFlatKeyed reads a "key value" file (memory.stat, memory.events,
// memory.oom_control). Lines that are not a key and a number are skipped,
// so a new kernel's additions cannot break the keys we know.
func (r *cgroupDirReader) readFlatKeyed(name string) (map[string]uint64, error) {
	text, err := r.read(name)
	if err != nil {
		return nil, err
	}
	kv := map[string]uint64{}
	for line := range strings.Lines(text) {
		key, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseUint(value, 10, 64); err == nil {
			kv[key] = v
		}
	}
	return kv, nil
}

func cgroupUnavailable(cg *model.MemCgroup, field, reason string) {
	setReason(&cg.Unavailable, field, reason)
}

// setStat fills the anon/file/inactive_file split from memory.stat, taking
// for each field the first key the file has.
func (r *cgroupDirReader) setStat(cg *model.MemCgroup, anonKeys, fileKeys, inactiveKeys []string, refault refaultKeys) {
	stat, err := r.readFlatKeyed("memory.stat")
	r.setRefaults(cg, stat, err, refault)
	fields := []struct {
		name string
		keys []string
		dst  *uint64
	}{
		{"anon", anonKeys, &cg.AnonBytes},
		{"file", fileKeys, &cg.FileBytes},
		{"inactive_file", inactiveKeys, &cg.InactiveFileBytes},
	}
	for _, f := range fields {
		if err != nil {
			cgroupUnavailable(cg, f.name, err.Error())
			continue
		}
		found := false
		for _, k := range f.keys {
			if v, ok := stat[k]; ok {
				*f.dst, found = v, true
				break
			}
		}
		if !found {
			cgroupUnavailable(cg, f.name, fmt.Sprintf("%s has no %s", filepath.Join(r.dir, "memory.stat"), strings.Join(f.keys, " or ")))
		}
	}
}

// refaultKeys are the memory.stat lines of the refault counters, by
// preference.
type refaultKeys struct{ file, anon []string }

var (
	// v2's memory.stat counts descendants; before 5.9 refaults were one
	// (file) counter.
	refaultKeysV2 = refaultKeys{file: []string{"workingset_refault_file", "workingset_refault"}, anon: []string{"workingset_refault_anon"}}
	// v1's total_* lines count descendants, as usage does; the plain lines
	// are the cgroup alone, the fallback.
	refaultKeysV1 = refaultKeys{
		file: []string{"total_workingset_refault_file", "total_workingset_refault", "workingset_refault_file", "workingset_refault"},
		anon: []string{"total_workingset_refault_anon", "workingset_refault_anon"},
	}
)

// setRefaults takes the refault counters from memory.stat (stat, or err
// when it could not be read); a missing one is in Unavailable.
func (r *cgroupDirReader) setRefaults(cg *model.MemCgroup, stat map[string]uint64, err error, keys refaultKeys) {
	for _, f := range []struct {
		name string
		keys []string
		dst  *model.Counter
	}{{"refault_file", keys.file, &cg.RefaultFile}, {"refault_anon", keys.anon, &cg.RefaultAnon}} {
		if err != nil {
			cgroupUnavailable(cg, f.name, err.Error())
			continue
		}
		for _, k := range f.keys {
			if v, ok := stat[k]; ok {
				*f.dst = model.Counter{V: v, OK: true}
				break
			}
		}
		if !f.dst.OK {
			cgroupUnavailable(cg, f.name, fmt.Sprintf("%s has no %s", filepath.Join(r.dir, "memory.stat"), strings.Join(f.keys, " or ")))
		}
	}
}

// readV2 reads a cgroup v2 directory. The root cgroup has no memory.current,
// memory.max or memory.events: the machine-wide figures are /proc/meminfo's.
func (r *cgroupDirReader) readV2(cg *model.MemCgroup) {
	root := cg.Path == "/"
	if root {
		cgroupUnavailable(cg, "usage", "the v2 root cgroup has no memory.current")
	} else if v, err := r.readUint("memory.current"); err != nil {
		cgroupUnavailable(cg, "usage", err.Error())
	} else {
		cg.UsageBytes = v
	}

	r.setStat(cg, []string{"anon"}, []string{"file"}, []string{"inactive_file"}, refaultKeysV2)

	// The root has no limit; Unknown says so.
	if !root {
		if text, err := r.read("memory.max"); err != nil {
			cgroupUnavailable(cg, "limit", err.Error())
		} else if s := strings.TrimSpace(text); s != "max" {
			if v, err := strconv.ParseUint(s, 10, 64); err != nil {
				cgroupUnavailable(cg, "limit", fmt.Sprintf("parse %s: %v", filepath.Join(r.dir, "memory.max"), err))
			} else {
				cg.LimitBytes = model.Known(float64(v))
			}
		}
	}

	if root {
		cgroupUnavailable(cg, "oom_events", "the v2 root cgroup has no memory.events")
		cgroupUnavailable(cg, "oom_kills", "the v2 root cgroup has no memory.events")
	} else if events, err := r.readFlatKeyed("memory.events"); err != nil {
		cgroupUnavailable(cg, "oom_events", err.Error())
		cgroupUnavailable(cg, "oom_kills", err.Error())
	} else {
		var ok bool
		var v uint64
		if v, ok = events["oom"]; ok {
			cg.OOMEvents = model.Known(float64(v))
		} else {
			cgroupUnavailable(cg, "oom_events", "memory.events has no oom line")
		}
		if v, ok = events["oom_kill"]; ok {
			cg.OOMKills = model.Known(float64(v))
		} else {
			cgroupUnavailable(cg, "oom_kills", "memory.events has no oom_kill line (kernel before 4.13)")
		}
	}

	text, err := r.read("memory.pressure")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cgroupUnavailable(cg, "psi", "no memory.pressure (kernel without PSI, booted with psi=0, or cgroup.pressure set to 0)")
	case errors.Is(err, syscall.EOPNOTSUPP):
		cgroupUnavailable(cg, "psi", "PSI is compiled in but disabled (kernel booted with psi=0)")
	case err != nil:
		cgroupUnavailable(cg, "psi", err.Error())
	default:
		if cg.PSI, err = parseCgroupPressure(text); err != nil {
			cgroupUnavailable(cg, "psi", fmt.Sprintf("parse %s: %v", filepath.Join(r.dir, "memory.pressure"), err))
		}
	}
}

// readV1 reads a cgroup v1 memory directory. memory.stat's total_* lines
// cover the cgroup and its descendants, as memory.usage_in_bytes does (with
// use_hierarchy, the only mode since Linux 5.11); the plain lines are the
// cgroup alone and are used only when total_* are absent.
func (r *cgroupDirReader) readV1(cg *model.MemCgroup) {
	if v, err := r.readUint("memory.usage_in_bytes"); err != nil {
		cgroupUnavailable(cg, "usage", err.Error())
	} else {
		cg.UsageBytes = v
	}

	// v1's rss is anonymous memory (and swap cache); cache is page cache
	// including shmem.
	r.setStat(cg, []string{"total_rss", "rss"}, []string{"total_cache", "cache"},
		[]string{"total_inactive_file", "inactive_file"}, refaultKeysV1)

	if v, err := r.readUint("memory.limit_in_bytes"); err != nil {
		cgroupUnavailable(cg, "limit", err.Error())
	} else if v < cgroupV1Unlimited {
		cg.LimitBytes = model.Known(float64(v))
	}

	// failcnt counts every charge that hit the limit (reclaim usually
	// succeeds), so it is not a count of OOM events.
	cgroupUnavailable(cg, "oom_events", "cgroup v1 does not count OOM events")
	if oom, err := r.readFlatKeyed("memory.oom_control"); err != nil {
		cgroupUnavailable(cg, "oom_kills", err.Error())
	} else if v, ok := oom["oom_kill"]; ok {
		cg.OOMKills = model.Known(float64(v))
	} else {
		cgroupUnavailable(cg, "oom_kills", "memory.oom_control has no oom_kill line (kernel before 4.13)")
	}

	cgroupUnavailable(cg, "psi", "cgroup v1 has no per-cgroup PSI")
}

// parseCgroupPressure parses a PSI file (memory.pressure, the same format as
// /proc/pressure/memory): "some avg10=0.00 avg60=0.00 avg300=0.00 total=0"
// and an optional "full" line.
func parseCgroupPressure(text string) (*model.Pressure, error) {
	var psi model.Pressure
	haveSome := false
	for line := range strings.Lines(text) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var avg model.PressureAvg
		for _, f := range fields[1:] {
			key, value, _ := strings.Cut(f, "=")
			var err error
			switch key {
			case "avg10":
				avg.Avg10, err = strconv.ParseFloat(value, 64)
			case "avg60":
				avg.Avg60, err = strconv.ParseFloat(value, 64)
			case "avg300":
				avg.Avg300, err = strconv.ParseFloat(value, 64)
			case "total":
				avg.TotalUs, err = strconv.ParseUint(value, 10, 64)
			}
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", fields[0], key, err)
			}
		}
		// Averages are percentages; ParseFloat also takes "NaN" and
		// "Inf", which would fail the JSON of the whole snapshot.
		for _, v := range []float64{avg.Avg10, avg.Avg60, avg.Avg300} {
			if !(v >= 0 && v <= 100) {
				return nil, fmt.Errorf("%s: average %v is not a percentage", fields[0], v)
			}
		}
		switch fields[0] {
		case "some":
			psi.Some, haveSome = avg, true
		case "full":
			psi.Full = &avg
		}
	}
	if !haveSome {
		return nil, errors.New("no \"some\" line")
	}
	return &psi, nil
}
