package probes

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// Env is everything a probe family needs to start: where to read and what is
// wanted. Tests and `--proc-root`/`--sys-root` point it at copied trees.
type Env struct {
	ProcRoot   string // "/proc"
	SysRoot    string // "/sys"
	CgroupRoot string // "/sys/fs/cgroup"
	PasswdPath string // "/etc/passwd"
	Host       model.Host
	// Demand is set by the UI (what is on screen); a snapshot asks for
	// everything. Never nil.
	Demand *model.Demand
	// ForceTier forces one eBPF attach tier (or "procfs": none).
	ForceTier string
	// BPF is the one eBPF loader session every feature loads through
	// (privilege check, memlock, tracefs, kernel BTF decoded once). Main
	// drops it after the probes are open so the decoded BTF can be freed.
	BPF *ebpf.Session
	// ScanTier forces the process scanner's tier: "iter" (the BPF task
	// iterator) or "procfs"; "" picks the iterator when it loads.
	ScanTier string
	// NetPID, when set, is the process whose network namespace the net
	// probe reads (--net-pid); "" the init process's.
	NetPID string
	// DeferBPF makes the eBPF-based probes start on their procfs fallback
	// and load their programs when LoadDeferred is called (main does,
	// after the first frame is on screen: loading takes 100-200 ms).
	DeferBPF bool
	// AfterBurst, when set, is called by the process scanner after it
	// rebuilt its maps because most of the processes it tracked have gone
	// (main returns the freed memory to the system then).
	AfterBurst func()
	// CopiedTree is set when the roots are not the running kernel's (a
	// fixture, a copy): eBPF would report the live machine, so eBPF
	// features run their procfs fallback with that reason.
	CopiedTree bool
}

// Family is one kind of probe, registered by the file that implements it.
type Family struct {
	Name string
	// After names the families whose parts this one reads from the frame
	// (the cgroup probe sums the scanner's RSS): they run first.
	After []string
	New   func(env *Env) (Probe, error)
}

var registry []Family

// Register adds a probe family; called from init functions.
func Register(f Family) {
	if f.Name == "" || f.New == nil {
		panic("probes.Register: family needs a name and a constructor")
	}
	for _, g := range registry {
		if g.Name == f.Name {
			panic("probes.Register: duplicate family " + f.Name)
		}
	}
	registry = append(registry, f)
}

// Families returns the registered families in collection order: every
// family after those it names in After, otherwise by name, so the order is
// the same on every run.
func Families() ([]Family, error) { return orderFamilies(registry) }

func orderFamilies(fams []Family) ([]Family, error) {
	byName := map[string]Family{}
	for _, f := range fams {
		byName[f.Name] = f
	}
	names := make([]string, 0, len(fams))
	for _, f := range fams {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	var out []Family
	state := map[string]int{} // 1: visiting, 2: done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("probe families depend on each other in a cycle: %s", strings.Join(append(path, name), " → "))
		}
		f, ok := byName[name]
		if !ok {
			return fmt.Errorf("probe family %s runs after %q, which is not registered", path[len(path)-1], name)
		}
		state[name] = 1
		after := slices.Clone(f.After)
		slices.Sort(after)
		for _, dep := range after {
			if err := visit(dep, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, f)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Open starts every registered family in collection order. On an error it
// closes what it had opened.
func Open(env *Env) ([]Probe, error) {
	fams, err := Families()
	if err != nil {
		return nil, err
	}
	var ps []Probe
	for _, f := range fams {
		p, err := f.New(env)
		if err != nil {
			CloseAll(ps)
			return nil, fmt.Errorf("start %s probe: %w", f.Name, err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// CloseAll closes the probes that hold resources (BPF programs, fds).
func CloseAll(ps []Probe) error {
	var errs []error
	for _, p := range ps {
		if c, ok := p.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// BPFLoader is implemented by probes that can load their eBPF programs
// after they started (Env.DeferBPF). LoadBPF may be called from any
// goroutine; the probe switches over at its next Collect.
type BPFLoader interface {
	LoadBPF(sess *ebpf.Session) error
}

// LoadDeferred loads the eBPF programs of every probe that deferred them.
// Failures are in each probe's feature report, as at start-up.
func LoadDeferred(ps []Probe, sess *ebpf.Session) {
	for _, p := range ps {
		if l, ok := p.(BPFLoader); ok {
			_ = l.LoadBPF(sess)
		}
	}
}

// setReason records why a field could not be read in a part's Unavailable
// map, making the map on first use (every part has one).
func setReason(m *map[string]string, field, reason string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[field] = reason
}
