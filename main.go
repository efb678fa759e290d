// Command vitals is a terminal UI for Linux performance analysis: what top,
// vmstat, mpstat and pidstat tell, live on one screen, with history.
//
// main wires probes → model → ui and parses flags; nothing else.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes"
	"github.com/vitals-dev/vitals/probes/ebpf"
	"github.com/vitals-dev/vitals/ui"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = ""

const usage = `vitals — Linux performance at a glance (CPU · Memory · Cache · Disk · Net)

Usage:
  vitals [flags]                     start the interactive UI
  vitals snapshot --json [flags]     print one sample of every metric as JSON
  vitals probes [--bpf-tier T]       list each eBPF feature, its active tier, and
                                     why every other tier is not in use
  vitals --version | --help

Flags:
  --interval D    refresh interval, e.g. 1s, 500ms, 2s (default 1s; 100ms to 1h)
  --no-mouse      do not capture the mouse (some tmux setups misbehave)
  --bpf-tier T    force the eBPF attach tier: fentry, kprobe, tp_btf, raw_tp,
                  tracepoint, or procfs (no eBPF); default: the first that works
  --json          (snapshot) print JSON; the only snapshot format so far
  --cpuprofile F  write a Go CPU profile to F (for developers measuring overhead)

Keys: ? or F1 in the UI lists every key and explains every number.
Set NO_COLOR=1 for a colourless display with distinct glyphs.
The JSON schema is documented in docs/snapshot-json.md.
`

// config is everything the command line can set.
type config struct {
	interval time.Duration
	noMouse  bool
	json     bool
	snapshot bool
	version  bool
	cpuProf  string
	probes   bool
	bpfTier  string
}

// errHelp means --help was asked for: print usage and exit 0.
var errHelp = errors.New("help requested")

func parseArgs(args []string, stderr io.Writer) (config, error) {
	var c config
	if len(args) > 0 && args[0] == "snapshot" {
		c.snapshot = true
		args = args[1:]
	} else if len(args) > 0 && args[0] == "probes" {
		c.probes = true
		args = args[1:]
	}
	fs := flag.NewFlagSet("vitals", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.DurationVar(&c.interval, "interval", time.Second, "")
	fs.BoolVar(&c.noMouse, "no-mouse", false, "")
	fs.BoolVar(&c.json, "json", false, "")
	fs.BoolVar(&c.version, "version", false, "")
	fs.StringVar(&c.cpuProf, "cpuprofile", "", "")
	fs.StringVar(&c.bpfTier, "bpf-tier", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, errHelp
		}
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (subcommands: snapshot, probes)", fs.Arg(0))
	}
	if c.interval < 100*time.Millisecond || c.interval > time.Hour {
		return c, fmt.Errorf("--interval %v is out of range: use 100ms to 1h", c.interval)
	}
	switch c.bpfTier {
	case "", "fentry", "kprobe", "tp_btf", "raw_tp", "tracepoint", "procfs":
	default:
		return c, fmt.Errorf("--bpf-tier %q: use fentry, kprobe, tp_btf, raw_tp, tracepoint or procfs", c.bpfTier)
	}
	if c.snapshot && !c.json {
		return c, errors.New("snapshot needs --json (the only output format so far)")
	}
	if !c.snapshot && c.json {
		return c, errors.New("--json only applies to the snapshot subcommand: vitals snapshot --json")
	}
	return c, nil
}

func main() {
	// The live heap is small (a few MB) and the allocation rate steady (one
	// process slice per scan), so the default GC target collects several
	// times a second for nothing. A 4x target trades about 10 MB of RSS for
	// a tenth of vitals' CPU time. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stderr)
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "vitals: %v\nRun 'vitals --help' for usage.\n", err)
		return 2
	}
	if cfg.version {
		fmt.Fprintln(stdout, "vitals", buildVersion())
		return 0
	}
	if cfg.cpuProf != "" {
		f, err := os.Create(cfg.cpuProf)
		if err != nil {
			fmt.Fprintf(stderr, "vitals: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "vitals: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if cfg.probes {
		return listProbes(stdout, stderr, cfg.bpfTier)
	}
	sys, err := newSystem(cfg.interval, cfg.snapshot, cfg.bpfTier)
	if err != nil {
		fmt.Fprintf(stderr, "vitals: %v\n", err)
		return 1
	}
	defer sys.close()
	if cfg.snapshot {
		if err := sys.snapshot(stdout, cfg.interval); err != nil {
			fmt.Fprintf(stderr, "vitals: %v\n", err)
			return 1
		}
		return 0
	}
	// The one place signals are handled: each ends the program cleanly
	// (terminal restored, BPF programs released). Ctrl-C in the UI is a key.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	for _, p := range sys.probes {
		go probes.Run(ctx, p, cfg.interval, sys.store)
	}
	err = ui.Run(ctx, sys.store, os.Getenv("NO_COLOR") != "", ui.Options{
		Interval: cfg.interval,
		NoMouse:  cfg.noMouse,
		Demand:   sys.demand,
		Kill: func(key model.ProcKey, sig int) error {
			return probes.SignalProcess("/proc", key, sig)
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "vitals: %v\n", err)
		return 1
	}
	return 0
}

// system is the probes and the store they publish into.
type system struct {
	store  *model.Store
	probes []probes.Probe
	demand *model.Demand
}

func newSystem(interval time.Duration, snapshot bool, bpfTier string) (*system, error) {
	host, err := probes.ReadHost("/proc")
	if err != nil {
		return nil, fmt.Errorf("read host information: %w", err)
	}
	cpu, err := probes.NewCPUProbe(probes.CPUProbeConfig{ProcRoot: "/proc", SysRoot: "/sys"})
	if err != nil {
		return nil, fmt.Errorf("start CPU probe: %w", err)
	}
	// The UI sets demand (which processes are on screen, whether the slab
	// panel is open); a snapshot has no UI and reads everything.
	var demand *model.Demand
	if !snapshot {
		demand = &model.Demand{}
	}
	mem, err := probes.NewMemoryProbe(probes.MemoryProbeConfig{ProcRoot: "/proc", Demand: demand})
	if err != nil {
		return nil, fmt.Errorf("start memory probe: %w", err)
	}
	scanDemand := demand
	if snapshot {
		scanDemand = &model.Demand{}
		scanDemand.Set(model.DemandSet{All: true})
	}
	scanner, err := probes.NewProcessScanner(probes.ProcessScannerConfig{
		ProcRoot: "/proc", PasswdPath: "/etc/passwd",
		BootTime: host.BootTime, ClockTicks: host.ClockTicks,
		Demand: scanDemand,
	})
	if err != nil {
		return nil, fmt.Errorf("start process scanner: %w", err)
	}
	cgroups, err := probes.NewCgroupProbe(probes.CgroupProbeConfig{CgroupRoot: "/sys/fs/cgroup", ProcRoot: "/proc"})
	if err != nil {
		return nil, fmt.Errorf("start cgroup probe: %w", err)
	}
	cache, err := probes.NewCacheProbe(probes.CacheProbeConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd", ForceTier: bpfTier, Demand: demand})
	if err != nil {
		return nil, fmt.Errorf("start page-cache probe: %w", err)
	}
	host.Mode = mode(cache.Report())
	store := model.NewStore(host, interval.Seconds(), model.DefaultHistoryCapacity)
	// The cgroup probe sums the processes' RSS, so it runs after the scanner.
	return &system{store: store, probes: []probes.Probe{cpu, mem, scanner, cgroups, cache}, demand: demand}, nil
}

// mode says in the header what vitals can see: "eBPF" when the eBPF
// features loaded, otherwise procfs and why.
func mode(r ebpf.Report) string {
	switch {
	case r.Active != "" && r.Active != "procfs":
		return "eBPF"
	case os.Geteuid() != 0:
		return "procfs only: not root"
	case r.Reason != "":
		return "procfs only: eBPF " + r.Reason
	default:
		return "procfs only"
	}
}

// close releases what the probes hold (BPF programs, links, maps, fds).
func (s *system) close() {
	for _, p := range s.probes {
		if c, ok := p.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

// listProbes loads every eBPF feature once, prints which tier is active
// and why the others are not, and releases everything.
func listProbes(stdout, stderr io.Writer, bpfTier string) int {
	cache, err := probes.NewCacheProbe(probes.CacheProbeConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd", ForceTier: bpfTier})
	if err != nil {
		fmt.Fprintf(stderr, "vitals: %v\n", err)
		return 1
	}
	defer cache.Close()
	fmt.Fprintln(stdout, cache.Report().String())
	return 0
}

// snapshot takes a baseline, waits one interval and prints the sample.
func (s *system) snapshot(w io.Writer, interval time.Duration) error {
	for _, p := range s.probes {
		if err := p.Sample(time.Now(), s.store); err != nil {
			return fmt.Errorf("%s: %w", p.Name(), err)
		}
	}
	time.Sleep(interval)
	for _, p := range s.probes {
		if err := p.Sample(time.Now(), s.store); err != nil {
			return fmt.Errorf("%s: %w", p.Name(), err)
		}
	}
	out := struct {
		SchemaVersion int `json:"schema_version"`
		*model.Sample
	}{1, s.store.Snapshot().Sample}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(escapeC1(b), '\n'))
	return err
}

// escapeC1 escapes DEL and the C1 control characters U+0080–U+009F, which
// encoding/json leaves raw but some terminals obey (U+009B is CSI), so a
// process name cannot drive the terminal of someone reading the JSON.
func escapeC1(b []byte) []byte {
	if !bytes.ContainsAny(b, "\x7f\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008a\u008b\u008c\u008d\u008e\u008f\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009a\u009b\u009c\u009d\u009e\u009f") {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	const hex = "0123456789abcdef"
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == 0x7f:
			out = append(out, `\u007f`...)
		case b[i] == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f:
			out = append(out, '\\', 'u', '0', '0', hex[b[i+1]>>4], hex[b[i+1]&0xf])
			i++
		default:
			out = append(out, b[i])
		}
	}
	return out
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
