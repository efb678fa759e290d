// Command vitals is a terminal UI for Linux performance analysis: what top,
// vmstat, mpstat and pidstat tell, live on one screen, with history.
//
// main wires probes → model → ui and parses flags; nothing else.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	configfile "github.com/vitals-dev/vitals/config"
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
  --config FILE   read FILE instead of $XDG_CONFIG_HOME/vitals/config.toml
                  (~/.config/vitals/config.toml): default tab, interval,
                  colours, columns per tab, keys (see README); flags win
  --bpf-tier T    force the eBPF attach tier: fentry, kprobe, tp_btf, raw_tp,
                  tracepoint, or procfs (no eBPF); default: the first that works
  --scan-tier T   how the process table is read: iter (one BPF task iterator
                  pass; root or CAP_BPF+CAP_PERFMON) or procfs (/proc/PID/*
                  files); default: iter when it loads, else procfs
  --net-pid PID   the Net tab's interfaces, TCP/UDP counters and sockets are
                  those of PID's network namespace (a container's, a demo's)
                  instead of the init process's; per-process eBPF counts
                  cover every namespace either way
  --json          (snapshot) print JSON; the only snapshot format so far
  --cpuprofile F  write a Go CPU profile to F (for developers measuring overhead)
  --memprofile F  write a Go heap profile to F at exit (the same, for memory)
  --proc-root DIR read procfs from DIR instead of /proc, and
  --sys-root DIR  sysfs from DIR instead of /sys: for tests, and for reading a
                  tree copied from another machine (eBPF is off then: it would
                  describe this kernel, not the copy)
  --passwd FILE   user names from FILE instead of /etc/passwd (with a copied tree)

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
	memProf  string
	probes   bool
	bpfTier  string
	scanTier string
	netPID   string
	procRoot string
	sysRoot  string
	passwd   string
	// configFile is --config; "" is the default path (configfile.Load).
	configFile string
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
	fs.StringVar(&c.memProf, "memprofile", "", "")
	fs.StringVar(&c.bpfTier, "bpf-tier", "", "")
	fs.StringVar(&c.scanTier, "scan-tier", "", "")
	fs.StringVar(&c.netPID, "net-pid", "", "")
	fs.StringVar(&c.procRoot, "proc-root", "/proc", "")
	fs.StringVar(&c.sysRoot, "sys-root", "/sys", "")
	fs.StringVar(&c.passwd, "passwd", "/etc/passwd", "")
	fs.StringVar(&c.configFile, "config", "", "")
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
	switch c.scanTier {
	case "", probes.ScanTierIter, probes.ScanTierProcfs:
	default:
		return c, fmt.Errorf("--scan-tier %q: use iter or procfs", c.scanTier)
	}
	if c.netPID != "" {
		if n, err := strconv.Atoi(c.netPID); err != nil || n <= 0 {
			return c, fmt.Errorf("--net-pid %q: want a process id", c.netPID)
		}
	}
	if c.scanTier == "" && c.bpfTier == "procfs" {
		c.scanTier = probes.ScanTierProcfs // no eBPF at all
	}
	for _, dir := range []struct{ flag, path string }{{"--proc-root", c.procRoot}, {"--sys-root", c.sysRoot}} {
		if info, err := os.Stat(dir.path); err != nil {
			return c, fmt.Errorf("%s: %w", dir.flag, err)
		} else if !info.IsDir() {
			return c, fmt.Errorf("%s %s: not a directory", dir.flag, dir.path)
		}
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
		return listProbes(stdout, stderr, cfg)
	}
	// ---- The config file (UI only: snapshot and probes ignore it) ----
	// config.toml → UI options; the command line wins over the file. A bad
	// file is said here and on screen, and vitals starts with defaults.
	var uiConfig ui.Config
	noColor := os.Getenv("NO_COLOR") != ""
	if !cfg.snapshot {
		file, err := configfile.Load(cfg.configFile)
		uiConfig = ui.Config{Source: file.Path, Tab: file.Tab, Columns: file.Columns, Keys: file.Keys, Lines: file.Lines}
		if err != nil {
			uiConfig = ui.Config{Source: file.Path, Problems: []string{err.Error()}}
		}
		problems := ui.CheckConfig(uiConfig)
		for _, p := range problems {
			fmt.Fprintf(stderr, "vitals: %s (starting with the defaults)\n", model.Sanitize(p))
		}
		if len(problems) == 0 {
			if file.Interval > 0 && !configfile.FlagGiven(args, "interval") {
				cfg.interval = file.Interval
			}
			noColor = noColor || (file.Colors != nil && !*file.Colors)
		} else {
			uiConfig = ui.Config{Source: file.Path, Problems: problems}
		}
	}
	// ---- end of the config file block ----
	if !cfg.snapshot && os.Getenv("TERM") == "dumb" {
		fmt.Fprintln(stderr, "vitals: this terminal (TERM=dumb) cannot show the full-screen UI;\n"+
			"for one sample of every metric, run: vitals snapshot --json")
		return 1
	}
	if cfg.snapshot && stdout == io.Writer(os.Stdout) && stdoutClosedAtStart() {
		fmt.Fprintln(stderr, "vitals: standard output is closed: nowhere to write the snapshot")
		return 1
	}
	// The one place signals are handled: each ends the program cleanly
	// (terminal restored, BPF programs released). Ctrl-C in the UI is a key.
	// Caught from before the probes load, so a SIGTERM while they load
	// waits for them and closes them, and is not a death mid-load.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if cfg.snapshot {
		stop() // a snapshot is short: a signal ends it at once, as it always did
	}
	sys, err := newSystem(cfg)
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
	if ctx.Err() != nil {
		return 0 // asked to stop while the probes loaded
	}
	go sys.collector.Run(ctx)
	procRoot := cfg.procRoot
	err = ui.Run(ctx, sys.store, noColor, ui.Options{
		Interval: cfg.interval,
		NoMouse:  cfg.noMouse,
		Demand:   sys.env.Demand,
		Config:   uiConfig,
		Kill: func(key model.ProcKey, sig int) error {
			return probes.SignalProcess(procRoot, key, sig)
		},
	})
	if cfg.memProf != "" { // before the probes close: what the running program holds
		if f, err := os.Create(cfg.memProf); err == nil {
			runtime.GC()
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "vitals: %v\n", err)
		return 1
	}
	return 0
}

// system is the probes, the collector that runs them and the store it
// publishes into.
type system struct {
	env       *probes.Env
	store     *model.Store
	collector *probes.Collector
}

// newEnv is the probes' environment for cfg. A snapshot has no UI to say
// what is on screen, so it asks for everything.
func newEnv(cfg config) (*probes.Env, error) {
	host, err := probes.ReadHost(cfg.procRoot)
	if err != nil {
		return nil, fmt.Errorf("read host information: %w", err)
	}
	env := &probes.Env{
		ProcRoot:   cfg.procRoot,
		SysRoot:    cfg.sysRoot,
		CgroupRoot: filepath.Join(cfg.sysRoot, "fs/cgroup"),
		PasswdPath: cfg.passwd,
		Host:       host,
		Demand:     &model.Demand{},
		AfterBurst: debug.FreeOSMemory,
		ForceTier:  cfg.bpfTier,
		ScanTier:   cfg.scanTier,
		NetPID:     cfg.netPID,
		BPF:        ebpf.NewSession(),
		CopiedTree: filepath.Clean(cfg.procRoot) != "/proc" || filepath.Clean(cfg.sysRoot) != "/sys",
	}
	if cfg.snapshot {
		env.Demand.Set(model.DemandSet{All: true, Slab: true, Sockets: true, RunQLatPerCPU: true})
	}
	return env, nil
}

func newSystem(cfg config) (*system, error) {
	env, err := newEnv(cfg)
	if err != nil {
		return nil, err
	}
	// The UI's first frame must not wait for eBPF (decoding the kernel's
	// BTF and loading every tier takes 100-200 ms): the probes start on
	// procfs and load their programs once the first frame is published.
	// A snapshot waits for them: it prints one complete sample.
	env.DeferBPF = !cfg.snapshot
	ps, err := probes.Open(env)
	if err != nil {
		return nil, err
	}
	sess := env.BPF
	env.BPF = nil
	fams, _ := probes.Families()
	after := make([][]string, len(fams))
	for i, f := range fams {
		after[i] = f.After
	}
	env.Host.Mode = mode(probes.Features(ps), env)
	store := model.NewStore(env.Host, cfg.interval.Seconds(), model.DefaultHistoryCapacity)
	c := probes.NewCollector(store, cfg.interval, ps, after, probes.EventSources(ps))
	c.SetMode(func(f []model.Feature) string { return mode(f, env) })
	if os.Getenv("GOMEMLIMIT") == "" {
		var mem memoryLimit
		c.OnFrame(func(s *model.Sample) { mem.update(len(s.Processes)) })
	}
	if env.DeferBPF {
		c.AfterFirstFrame(func() {
			probes.LoadDeferred(ps, sess)
			sess = nil // loaded: let the decoded kernel BTF go
		})
	} else {
		sess = nil
	}
	return &system{env: env, store: store, collector: c}, nil
}

// memoryLimit keeps the Go runtime's soft memory limit in step with the
// process count. GOGC is 400 (see main): below the limit the heap may grow
// to five times what is live, which at 2,000 processes was 55-75 MB of RSS
// for 8-10 MB live. The limit makes the collector run before that: 10 MiB
// plus 3 KiB per process (what a process costs live, measured: its scanner
// state, its row in the frames the store and the UI hold, the UI's row),
// and never under the runtime's non-heap memory plus 1.5 times the live
// heap (the limit counts both), so that a heap larger than
// expected (long command lines) costs a collection every few frames, never
// a continuous one. GOMEMLIMIT in the environment replaces it.
type memoryLimit struct{ set int64 }

const (
	memoryLimitBase       = 10 << 20
	memoryLimitPerProcess = 3 << 10
)

// The runtime's own figures the limit is set from: the live heap, and all
// the memory it holds other than the heap's (GC metadata, stacks, spans),
// which the limit counts too.
var memMetrics = []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
}

func (m *memoryLimit) update(processes int) {
	limit := int64(memoryLimitBase + memoryLimitPerProcess*processes)
	metrics.Read(memMetrics)
	var v [6]int64
	for i, s := range memMetrics {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = int64(s.Value.Uint64())
		}
	}
	// What the limit counts besides the objects: spans free or partly used
	// but not returned, metadata, stacks.
	live, other := v[0], v[1]-v[5]-v[2]
	limit = max(limit, other+live*3/2)
	// Only a change of a tenth or more is worth telling the runtime.
	if d := limit - m.set; d > m.set/10 || -d > m.set/10 {
		debug.SetMemoryLimit(limit)
		m.set = limit
	}
}

// mode says in the header what vitals can see: "eBPF" when every eBPF
// feature runs a tier, otherwise procfs and why.
func mode(features []model.Feature, env *probes.Env) string {
	var active, reason string
	for _, f := range features {
		if f.EBPF() {
			active = "eBPF"
		} else if reason == "" {
			reason = f.Reason
		}
	}
	switch {
	case env.CopiedTree:
		return "copied tree: procfs only"
	case active != "" && reason == "":
		return active
	case active != "":
		return "eBPF (partly: " + reason + ")"
	case os.Geteuid() != 0:
		return "procfs only: not root"
	case reason != "":
		return "procfs only: eBPF " + reason
	default:
		return "procfs only"
	}
}

// close stops the collector, waits for the probes and releases what they
// hold (BPF programs, links, maps, fds).
func (s *system) close() { _ = s.collector.Close() }

// listProbes starts every probe family once, prints which tier each eBPF
// feature runs and why the others do not, and releases everything.
func listProbes(stdout, stderr io.Writer, cfg config) int {
	env, err := newEnv(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "vitals: %v\n", err)
		return 1
	}
	ps, err := probes.Open(env)
	if err != nil {
		fmt.Fprintf(stderr, "vitals: %v\n", err)
		return 1
	}
	defer probes.CloseAll(ps)
	if env.BPF != nil && env.BPF.TranslatesPIDs() {
		fmt.Fprintln(stdout, "eBPF pids are translated into this /proc's PID namespace (a container or unshare --pid); processes outside it are counted, never shown as its own")
	}
	fams, _ := probes.Families()
	for i, p := range ps {
		fmt.Fprintf(stdout, "%s probe", fams[i].Name)
		if len(fams[i].After) > 0 {
			fmt.Fprintf(stdout, " (after %s)", strings.Join(fams[i].After, ", "))
		}
		fmt.Fprintln(stdout)
		if fr, ok := p.(probes.FeatureReporter); ok {
			for _, f := range fr.Features() {
				fmt.Fprintln(stdout, indent(f.String(), "  "))
			}
		}
	}
	return 0
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// snapshot collects a baseline frame, waits one interval and prints the
// next frame: the same collector and frames as the UI.
func (s *system) snapshot(w io.Writer, interval time.Duration) error {
	// Nobody is waiting for a frame on time: let every probe finish.
	s.collector.SetBudget(time.Hour)
	s.collector.Frame(time.Now())
	time.Sleep(interval)
	s.collector.Frame(time.Now())
	sample := s.store.Snapshot().Sample
	out := struct {
		SchemaVersion int `json:"schema_version"`
		*model.Sample
	}{model.SchemaVersion, sample}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if _, err = w.Write(append(escapeJSON(b), '\n')); err != nil {
		return err
	}
	// The JSON holds every error too; a failed probe still fails the
	// command, as scripts expect.
	var errs []error
	for _, p := range sample.Probes {
		if p.Error != "" {
			errs = append(errs, fmt.Errorf("%s: %s", p.Name, model.Sanitize(p.Error)))
		}
	}
	return errors.Join(errs...)
}

// escapeJSON escapes, in JSON produced by encoding/json, what that leaves
// raw but must not reach a terminal raw: DEL, the C1 controls (U+009B is
// CSI to some terminals) and the invisible format characters that make text
// lie about itself (bidi overrides and isolates, zero-width characters, the
// byte-order mark, the soft hyphen, language tags): every model.UnsafeRune
// from U+007F up. C0 controls are escaped by encoding/json already, and a
// raw newline in the output is indentation. The characters escaped appear
// only inside strings (JSON syntax is ASCII), so the JSON decodes to the same
// text.
func escapeJSON(b []byte) []byte {
	first := -1
	for i := 0; i < len(b); {
		if b[i] < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if model.UnsafeRune(r) {
			first = i
			break
		}
		i += size
	}
	if first < 0 {
		return b
	}
	out := make([]byte, first, len(b)+32)
	copy(out, b[:first])
	const hex = "0123456789abcdef"
	u := func(r rune) {
		out = append(out, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
	}
	for i := first; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r < 0x7f || !model.UnsafeRune(r):
			out = append(out, b[i:i+size]...)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			u(hi)
			u(lo)
		default:
			u(r)
		}
		i += size
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
