// Package ebpf loads vitals' eBPF features. A feature (cachestat, later
// disk, net...) is one BPF object with one program set per attach tier; the
// tiers are tried fastest first, each loaded and attached on its own, and the
// first that both loads and attaches wins. Capability is a real load and
// attach: feature probes and /proc/kallsyms are wrong about what attaches on
// our kernels (see shared/notes/ebpf.md).
package ebpf

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
)

// Tier names, fastest first.
const (
	TierFentry     = "fentry"
	TierKprobe     = "kprobe"
	TierTpBTF      = "tp_btf"
	TierRawTp      = "raw_tp"
	TierTracepoint = "tracepoint"
)

// NeedsPrivilege is the reason every eBPF feature gives when vitals runs
// without the privileges to load programs.
const NeedsPrivilege = "needs root or CAP_BPF+CAP_PERFMON"

// Tier is one way to attach a feature: the programs of the feature's object
// that implement it, loaded together.
type Tier struct {
	Name     string
	Programs []string
	// Attach attaches the loaded programs. Nil attaches each program by its
	// ELF section (see AttachBySection).
	Attach func(coll *ebpf.Collection, spec *ebpf.CollectionSpec) ([]link.Link, error)
	// Unsupported, when set and returning non-empty, skips the tier with
	// that reason before loading (an architecture the programs do not
	// support, say).
	Unsupported func() string
}

// FeatureSpec is one BPF object and its tiers in order of preference.
type FeatureSpec struct {
	Name string
	// Spec returns the feature's CollectionSpec (the bpf2go loader).
	Spec  func() (*ebpf.CollectionSpec, error)
	Tiers []Tier
}

// LoadOptions control Load.
type LoadOptions struct {
	// ForceTier, when set, tries only that tier.
	ForceTier string
	// MaxEntries resizes maps by name before they are created (tests that
	// fill a map use a small one).
	MaxEntries map[string]uint32
}

// Loaded is a feature with one tier attached. Close releases every link,
// program and map.
type Loaded struct {
	Tier string
	// Maps are the feature's maps, shared by all tiers.
	Maps map[string]*ebpf.Map
	// Programs are the active tier's programs.
	Programs map[string]*ebpf.Program
	coll     *ebpf.Collection
	links    []link.Link
}

// Close detaches and releases everything. Safe to call more than once.
func (l *Loaded) Close() error {
	if l == nil {
		return nil
	}
	var errs []error
	for _, lk := range l.links {
		errs = append(errs, lk.Close())
	}
	l.links = nil
	if l.coll != nil {
		l.coll.Close()
		l.coll = nil
	}
	closeMaps(l.Maps)
	l.Maps, l.Programs = nil, nil
	return errors.Join(errs...)
}

func closeMaps(maps map[string]*ebpf.Map) {
	for _, m := range maps {
		m.Close()
	}
}

// Privileged reports whether this process may load and attach tracing
// programs: CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON (5.8+).
func Privileged() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return os.Geteuid() == 0
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	return has(unix.CAP_SYS_ADMIN) || (has(unix.CAP_BPF) && has(unix.CAP_PERFMON))
}

// Load tries the feature's tiers in order (or only opts.ForceTier) through
// the session (nil: a new one) and returns the first that loads and
// attaches, with the outcome of every tier. On failure it returns nil, the
// report's Reason says why, and everything is released.
func Load(sess *Session, f FeatureSpec, opts LoadOptions) (*Loaded, model.Feature) {
	if sess == nil {
		sess = NewSession()
	}
	rep := model.Feature{Name: f.Name}
	fail := func(reason string) (*Loaded, model.Feature) {
		rep.Reason = reason
		for _, t := range f.Tiers {
			rep.Tiers = append(rep.Tiers, model.TierOutcome{Tier: t.Name, Status: model.TierNotTried, Reason: reason})
		}
		return nil, rep
	}
	if opts.ForceTier != "" && !hasTier(f, opts.ForceTier) {
		return fail(fmt.Sprintf("unknown tier %q (have %s)", opts.ForceTier, strings.Join(tierNames(f), ", ")))
	}
	if sess.reason != "" {
		return fail(sess.reason)
	}
	spec, err := f.Spec()
	if err != nil {
		return fail(fmt.Sprintf("parse BPF object: %v", err))
	}
	if v := spec.Variables[pidNamespaceVar]; v != nil {
		if err := v.Set(sess.pidns); err != nil {
			return fail(fmt.Sprintf("set %s: %v", pidNamespaceVar, err))
		}
	}
	for name, n := range opts.MaxEntries {
		ms := spec.Maps[name]
		if ms == nil {
			return fail(fmt.Sprintf("resize map %s: no such map", name))
		}
		ms.MaxEntries = n
	}
	// The maps are created once and handed to every tier, so whichever
	// tier wins fills the same maps.
	maps := make(map[string]*ebpf.Map, len(spec.Maps))
	for name, ms := range spec.Maps {
		if isDataSection(name) {
			// Global variables (.rodata, .bss, .data): the collection
			// makes them as it needs them (mmapable, frozen), per tier.
			continue
		}
		m, err := ebpf.NewMap(ms)
		if err != nil {
			closeMaps(maps)
			return fail(fmt.Sprintf("create map %s: %v", name, err))
		}
		maps[name] = m
	}
	// Without kernel BTF each tier fails with its own CO-RE error.
	kernel, _ := sess.kernelTypes()
	rep.Reason = "no tier loaded"
	for _, t := range f.Tiers {
		res := model.TierOutcome{Tier: t.Name}
		switch {
		case opts.ForceTier != "" && t.Name != opts.ForceTier:
			res.Status, res.Reason = model.TierSkipped, "tier forced to "+opts.ForceTier
		default:
			l, err := loadTier(t, spec, maps, sess.btf, kernel)
			if err != nil && t.Name == TierTracepoint && sess.tracefsErr != nil {
				err = fmt.Errorf("%w (%v)", err, sess.tracefsErr)
			}
			if err != nil {
				res.Status, res.Reason = model.TierFailed, err.Error()
				break
			}
			l.Maps = maps
			rep.Tier, rep.Reason = t.Name, ""
			res.Status = model.TierActive
			rep.Tiers = append(rep.Tiers, res)
			// The remaining tiers are reported as not tried.
			for _, rest := range f.Tiers[len(rep.Tiers):] {
				r := model.TierOutcome{Tier: rest.Name, Status: model.TierNotTried, Reason: t.Name + " is active"}
				if opts.ForceTier != "" {
					r.Status, r.Reason = model.TierSkipped, "tier forced to "+opts.ForceTier
				}
				rep.Tiers = append(rep.Tiers, r)
			}
			return l, rep
		}
		rep.Tiers = append(rep.Tiers, res)
	}
	closeMaps(maps)
	return nil, rep
}

func hasTier(f FeatureSpec, name string) bool {
	for _, t := range f.Tiers {
		if t.Name == name {
			return true
		}
	}
	return false
}

func tierNames(f FeatureSpec) []string {
	var names []string
	for _, t := range f.Tiers {
		names = append(names, t.Name)
	}
	return names
}

// loadTier loads the tier's programs alone (one unloadable program fails a
// whole collection) against the shared maps, then attaches them.
func loadTier(t Tier, spec *ebpf.CollectionSpec, maps map[string]*ebpf.Map, cache *btf.Cache, kernel *btf.Spec) (*Loaded, error) {
	if t.Unsupported != nil {
		if why := t.Unsupported(); why != "" {
			return nil, errors.New(why)
		}
	}
	cs := spec.Copy()
	want := make(map[string]bool, len(t.Programs))
	for _, p := range t.Programs {
		if cs.Programs[p] == nil {
			return nil, fmt.Errorf("program %s missing from the BPF object", p)
		}
		want[p] = true
	}
	for name := range cs.Programs {
		if !want[name] {
			delete(cs.Programs, name)
		}
	}
	// Only the maps these programs use are replaced; the rest would be
	// created and thrown away, so drop them too.
	used := make(map[string]*ebpf.Map)
	for name := range cs.Maps {
		if isDataSection(name) {
			continue
		}
		if programsUseMap(cs, name) {
			used[name] = maps[name]
		} else {
			delete(cs.Maps, name)
		}
	}
	// Global variables live in their section's map (.bss, .rodata): when
	// no program of the tier uses that map (a variable that only exports
	// a type to bpf2go), the variable goes with it.
	for name, v := range cs.Variables {
		if _, ok := cs.Maps[v.SectionName]; !ok {
			delete(cs.Variables, name)
		}
	}
	coll, err := ebpf.NewCollectionWithOptions(cs, ebpf.CollectionOptions{
		MapReplacements: used,
		Cache:           cache,
		Programs:        ebpf.ProgramOptions{KernelTypes: kernel},
	})
	if err != nil {
		return nil, fmt.Errorf("load: %s", explainLoad(t.Name, err))
	}
	attach := t.Attach
	if attach == nil {
		attach = AttachBySection
	}
	links, err := attach(coll, cs)
	if err != nil {
		for _, l := range links {
			l.Close()
		}
		coll.Close()
		return nil, fmt.Errorf("attach: %s", explainAttach(t.Name, err))
	}
	progs := make(map[string]*ebpf.Program, len(coll.Programs))
	for n, p := range coll.Programs {
		progs[n] = p
	}
	return &Loaded{Tier: t.Name, Programs: progs, coll: coll, links: links}, nil
}

// isDataSection reports whether a map holds a section of global variables.
func isDataSection(name string) bool {
	return name == ".bss" || name == ".rodata" || name == ".data" || strings.HasPrefix(name, ".rodata.") || strings.HasPrefix(name, ".data.")
}

func programsUseMap(cs *ebpf.CollectionSpec, name string) bool {
	for _, p := range cs.Programs {
		for _, ins := range p.Instructions {
			if ins.Reference() == name {
				return true
			}
		}
	}
	return false
}

// explainLoad words a load error for the report. cilium/ebpf adds "MEMLOCK
// may be too low" to EPERM, which is wrong on kernels that simply refuse the
// program type (fentry under lockdown, say).
func explainLoad(tier string, err error) string {
	msg := err.Error()
	if errors.Is(err, unix.EPERM) {
		msg = "permission denied"
		if tier == TierFentry {
			msg += " (this kernel refuses fentry programs)"
		}
		return msg
	}
	if len(msg) > 300 { // verifier logs: keep the head, which names the cause
		msg = msg[:300] + "…"
	}
	return msg
}

func explainAttach(tier string, err error) string {
	if tier == TierKprobe && !kprobesAvailable() {
		return "kprobe_events missing and no kprobe PMU (CONFIG_KPROBES off)"
	}
	return err.Error()
}

func kprobesAvailable() bool {
	for _, p := range []string{
		"/sys/bus/event_source/devices/kprobe/type",
		"/sys/kernel/tracing/kprobe_events",
		"/sys/kernel/debug/tracing/kprobe_events",
	} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// AttachBySection attaches every program of coll the way its ELF section
// says: fentry/fexit/tp_btf through BPF trampolines or BTF raw tracepoints,
// raw_tp/NAME, kprobe/FUNC, kretprobe/FUNC, tracepoint/GROUP/NAME. On error
// it closes what it attached.
func AttachBySection(coll *ebpf.Collection, spec *ebpf.CollectionSpec) ([]link.Link, error) {
	var links []link.Link
	fail := func(err error) ([]link.Link, error) {
		for _, l := range links {
			l.Close()
		}
		return nil, err
	}
	for name, prog := range coll.Programs {
		ps := spec.Programs[name]
		var (
			l   link.Link
			err error
		)
		switch ps.Type {
		case ebpf.Tracing:
			l, err = link.AttachTracing(link.TracingOptions{Program: prog})
		case ebpf.RawTracepoint:
			l, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: ps.AttachTo, Program: prog})
		case ebpf.Kprobe:
			if strings.HasPrefix(ps.SectionName, "kretprobe/") {
				l, err = link.Kretprobe(ps.AttachTo, prog, nil)
			} else {
				l, err = link.Kprobe(ps.AttachTo, prog, nil)
			}
		case ebpf.TracePoint:
			group, event, ok := strings.Cut(ps.AttachTo, "/")
			if !ok {
				return fail(fmt.Errorf("%s: section %q names no tracepoint", name, ps.SectionName))
			}
			l, err = link.Tracepoint(group, event, prog, nil)
		default:
			return fail(fmt.Errorf("%s: don't know how to attach %s programs", name, ps.Type))
		}
		if err != nil {
			return fail(fmt.Errorf("%s (%s): %w", name, ps.SectionName, err))
		}
		links = append(links, l)
	}
	return links, nil
}

// ProgramIDs are the kernel's ids of the active tier's programs: what
// `bpftool prog show id N` shows, and how a test checks that exactly these
// programs are gone after Close.
func (l *Loaded) ProgramIDs() []ebpf.ProgramID {
	var ids []ebpf.ProgramID
	for _, p := range l.Programs {
		if info, err := p.Info(); err == nil {
			if id, ok := info.ID(); ok {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// MapIDs are the kernel's ids of the feature's maps.
func (l *Loaded) MapIDs() []ebpf.MapID {
	var ids []ebpf.MapID
	for _, m := range l.Maps {
		if info, err := m.Info(); err == nil {
			if id, ok := info.ID(); ok {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// ensureTracefs mounts tracefs at /sys/kernel/tracing when no tracefs is
// mounted (minimal systems without systemd's sys-kernel-tracing.mount):
// classic tracepoints are found by their ID file there.
func ensureTracefs() error {
	for _, p := range []string{"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"} {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
	}
	if err := unix.Mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
		return fmt.Errorf("tracefs is not mounted and mounting it at /sys/kernel/tracing failed: %w", err)
	}
	return nil
}
