package probes

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// OOMKillConfig says how the OOM-kill probe runs.
type OOMKillConfig struct {
	CgroupRoot   string // "/sys/fs/cgroup" when empty
	ForceTier    string // an eBPF tier, "procfs" (the kernel log), or ""
	ProcfsReason string
	Session      *ebpf.Session
	// KmsgPath is the kernel log device ("/dev/kmsg" when empty); "-"
	// disables the kernel-log fallback.
	KmsgPath string
	QueueLen int
}

// OOMKillProbe reports every OOM kill as an event with its victim (pid,
// comm, RSS split, cgroup and its limit): from eBPF (oom_kill_process or
// oom:mark_victim), or, without it, from the kernel log when readable.
type OOMKillProbe struct {
	bpf     *ebpf.OOMKill
	reader  *RingReader
	kmsg    *kmsgReader
	feature model.Feature
	cgroups *cgroupIDs
	// lines is the kernel log beside an eBPF tier that cannot see the
	// kill's constraint (the mark_victim tiers): its "oom-kill:" lines
	// name it. nil with linesErr when the log is not readable.
	lines    *kmsgOOMLines
	linesErr error
}

func init() {
	Register(Family{Name: "oomkill", New: func(env *Env) (Probe, error) {
		cfg := OOMKillConfig{CgroupRoot: env.CgroupRoot, ForceTier: env.ForceTier, Session: env.BPF}
		if env.CopiedTree {
			cfg.ForceTier = model.TierProcfs
			cfg.ProcfsReason = "reading a copied tree (--proc-root, --sys-root): this kernel's OOM kills are not the copy's"
			cfg.KmsgPath = "-"
		}
		return NewOOMKillProbe(cfg)
	}})
}

// NewOOMKillProbe loads the OOM-kill programs, or falls back to the kernel
// log. It never fails: without either, the report says why.
func NewOOMKillProbe(cfg OOMKillConfig) (*OOMKillProbe, error) {
	if cfg.CgroupRoot == "" {
		cfg.CgroupRoot = "/sys/fs/cgroup"
	}
	if cfg.KmsgPath == "" {
		cfg.KmsgPath = "/dev/kmsg"
	}
	p := &OOMKillProbe{cgroups: newCgroupIDs(cfg.CgroupRoot)}
	var rep model.Feature
	if cfg.ForceTier == model.TierProcfs {
		rep = skippedFeature(ebpf.OOMKillFeature(), cfg.ProcfsReason)
	} else {
		var err error
		p.bpf, rep, err = ebpf.OpenOOMKill(cfg.Session, ebpf.LoadOptions{ForceTier: cfg.ForceTier})
		// fentry and kprobe read the constraint from the kill itself.
		victimOnly := err == nil && rep.Tier != ebpf.TierFentry && rep.Tier != ebpf.TierKprobe
		if victimOnly && cfg.KmsgPath != "-" {
			p.lines, p.linesErr = openKmsgOOMLines(cfg.KmsgPath)
		} else if victimOnly {
			p.linesErr = errors.New("kernel log not read (a copied tree)")
		}
		if err == nil {
			p.reader, err = NewRingReader(model.SourceOOMKill, p.bpf.Ring(), p.bpf.Drops(), cfg.QueueLen, p.decode)
			if err != nil {
				p.bpf.Close()
				p.bpf = nil
				rep = failActive(rep, err)
			}
		}
	}
	if p.reader == nil {
		rep.Tier = model.TierProcfs
		if cfg.KmsgPath == "-" {
			rep.Fallback = "none"
		} else if k, err := openKmsg(cfg.KmsgPath, cfg.QueueLen, p.cgroups); err != nil {
			rep.Fallback = fmt.Sprintf("none: kernel log unreadable (%v)", err)
		} else {
			p.kmsg = k
			rep.Fallback = "kernel log (" + cfg.KmsgPath + ")"
		}
	}
	p.feature = rep
	return p, nil
}

// Name is the probe's key in the model's error map.
func (p *OOMKillProbe) Name() string { return "oomkill" }

// Features is the OOM-kill feature's report.
func (p *OOMKillProbe) Features() []model.Feature { return []model.Feature{p.feature} }

// EventSources is the ring-buffer reader or the kernel-log reader.
func (p *OOMKillProbe) EventSources() []EventSource {
	switch {
	case p.reader != nil:
		return []EventSource{p.reader}
	case p.kmsg != nil:
		return []EventSource{p.kmsg}
	}
	return nil
}

// Collect has no part: OOM kills are events.
func (p *OOMKillProbe) Collect(*Tick) (Part, error) { return nil, nil }

// Close stops the readers and releases the BPF programs.
func (p *OOMKillProbe) Close() error {
	var errs []error
	if p.reader != nil {
		errs = append(errs, p.reader.Close())
	}
	if p.kmsg != nil {
		errs = append(errs, p.kmsg.Close())
	}
	if p.bpf != nil {
		errs = append(errs, p.bpf.Close())
		p.bpf = nil
	}
	if p.lines != nil {
		errs = append(errs, p.lines.Close())
		p.lines = nil
	}
	return errors.Join(errs...)
}

func (p *OOMKillProbe) decode(raw []byte, ev *model.Event) bool {
	if !ebpf.DecodeOOMKill(raw, ev) {
		return false
	}
	d := ev.Data.(*model.OOMKillData)
	d.VictimCgroup = p.cgroups.Path(d.VictimCgroupID)
	if !d.CgroupLimitBytes.OK {
		if v, ok := p.cgroups.limit(d.VictimCgroup); ok {
			d.CgroupLimitBytes = model.Known(float64(v))
		}
	}
	if d.Constraint == "" {
		p.fillConstraint(d)
	}
	return true
}

// memcgAtLimit is how close to its limit a cgroup's usage is when the
// kernel gives up charging it: less than a charge batch (64 pages) plus
// the failed allocation, here up to an order-9 (2 MiB) folio.
const memcgAtLimit = 64*4096 + 2<<20

// fillConstraint names the kill's constraint for a tier that cannot see
// it: from the kernel log's "oom-kill:" line for the victim (logged just
// before the victim is marked, so already readable; rate-limited by the
// kernel to 10 in 5 s), else inferred when the victim's cgroup was at its
// limit, else unknown with the reason.
func (p *OOMKillProbe) fillConstraint(d *model.OOMKillData) {
	if p.lines != nil {
		if l, ok := p.lines.find(d.VictimPID); ok && l.constraint != "" {
			d.Constraint, d.ConstraintSource = l.constraint, "kernel log"
			if l.oomMemcg != "" && d.CgroupOf == "victim" && l.oomMemcg != d.VictimCgroup {
				// The limit hit was an ancestor's: say whose.
				d.VictimCgroup, d.CgroupOf = l.oomMemcg, "oom"
				d.CgroupLimitBytes, d.CgroupUsageBytes = model.Unknown, model.Unknown
				if v, ok := p.cgroups.limit(l.oomMemcg); ok {
					d.CgroupLimitBytes = model.Known(float64(v))
				}
			}
			return
		}
	}
	if d.CgroupLimitBytes.OK && d.CgroupUsageBytes.OK && d.CgroupLimitBytes.V-d.CgroupUsageBytes.V < memcgAtLimit {
		d.Constraint = "memcg"
		d.ConstraintSource = fmt.Sprintf("inferred: the %s's cgroup was at its limit (usage %.0f of %.0f bytes)",
			d.CgroupOf, d.CgroupUsageBytes.V, d.CgroupLimitBytes.V)
		return
	}
	why := "no \"oom-kill:\" line for the victim in the kernel log (the kernel rate-limits it)"
	if p.lines == nil {
		why = fmt.Sprintf("kernel log unreadable (%v)", p.linesErr)
	}
	d.ConstraintReason = "the " + p.feature.Tier + " tier sees only the victim; " + why + "; and its cgroup was not at its limit"
}

// oomLine is what an "oom-kill:" line says about one victim.
type oomLine struct {
	pid                  int32
	constraint, oomMemcg string
}

// kmsgOOMLines reads the kernel log on demand (non-blocking, from where it
// was opened) and keeps the last few "oom-kill:" lines.
type kmsgOOMLines struct {
	mu     sync.Mutex
	fd     int
	buf    []byte
	recent [16]oomLine
	next   int
}

// openKmsgAtEnd opens the kernel log without blocking, positioned after
// its last record: only what is logged from now on is read.
func openKmsgAtEnd(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func openKmsgOOMLines(path string) (*kmsgOOMLines, error) {
	fd, err := openKmsgAtEnd(path)
	if err != nil {
		return nil, err
	}
	return &kmsgOOMLines{fd: fd, buf: make([]byte, 8192)}, nil
}

// find reads what the log has gained and returns the newest line about
// pid.
func (k *kmsgOOMLines) find(pid int32) (oomLine, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for k.fd >= 0 {
		n, err := unix.Read(k.fd, k.buf)
		if err == unix.EPIPE || err == unix.EINTR { // records overwritten before we read them
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		if l, ok := parseOOMLineRecord(k.buf[:n]); ok {
			k.recent[k.next%len(k.recent)] = l
			k.next++
		}
	}
	for i := 1; i <= len(k.recent) && i <= k.next; i++ {
		if l := k.recent[(k.next-i)%len(k.recent)]; l.pid == pid {
			return l, true
		}
	}
	return oomLine{}, false
}

func (k *kmsgOOMLines) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fd < 0 {
		return nil
	}
	err := unix.Close(k.fd)
	k.fd = -1
	return err
}

// parseOOMLineRecord parses a /dev/kmsg record holding an "oom-kill:" line.
func parseOOMLineRecord(rec []byte) (oomLine, bool) {
	_, text, ok := bytes.Cut(rec, []byte{';'})
	if !ok {
		return oomLine{}, false
	}
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	rest, ok := bytes.CutPrefix(text, []byte("oom-kill:"))
	if !ok {
		return oomLine{}, false
	}
	kv := parseOOMKV(rest)
	pid, err := strconv.Atoi(kv["pid"])
	if err != nil {
		return oomLine{}, false
	}
	return oomLine{pid: int32(pid), constraint: constraintName(kv["constraint"]), oomMemcg: kv["oom_memcg"]}, true
}

// parseOOMKV splits an "oom-kill:" line's key=value pairs.
func parseOOMKV(rest []byte) map[string]string {
	m := map[string]string{}
	for _, kv := range bytes.Split(rest, []byte{','}) {
		if k, v, ok := bytes.Cut(kv, []byte{'='}); ok {
			m[string(k)] = string(v)
		}
	}
	return m
}

// constraintName is the kernel's enum oom_constraint as vitals names it
// ("" for a name it does not know).
func constraintName(c string) string {
	switch c {
	case "CONSTRAINT_NONE":
		return "global"
	case "CONSTRAINT_MEMCG":
		return "memcg"
	case "CONSTRAINT_CPUSET":
		return "cpuset"
	case "CONSTRAINT_MEMORY_POLICY":
		return "mempolicy"
	}
	return ""
}

// kmsgReader reads OOM kills from the kernel log: each "Killed process"
// line, with the "oom-kill:" line before it (cgroups, constraint) and the
// memory cgroup's "memory: usage …, limit …" line (its limit).
type kmsgReader struct {
	*EventQueue
	f       *os.File
	done    chan struct{}
	once    sync.Once
	cgroups *cgroupIDs
}

func openKmsg(path string, queueLen int, cgroups *cgroupIDs) (*kmsgReader, error) {
	fd, err := openKmsgAtEnd(path)
	if err != nil {
		return nil, err
	}
	k := &kmsgReader{EventQueue: NewEventQueue(model.SourceKmsg, queueLen), f: os.NewFile(uintptr(fd), path),
		done: make(chan struct{}), cgroups: cgroups}
	go k.loop()
	return k, nil
}

func (k *kmsgReader) loop() {
	defer close(k.done)
	buf := make([]byte, 8192)
	var parser kmsgParser
	for {
		n, err := k.f.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			if errors.Is(err, syscall.EPIPE) { // records overwritten before we read them
				continue
			}
			time.Sleep(100 * time.Millisecond) // a device without poll support
			continue
		}
		if ev, ok := parser.record(buf[:n], monoWall); ok {
			d := ev.Data.(*model.OOMKillData)
			if !d.CgroupLimitBytes.OK {
				if v, ok := k.cgroups.limit(d.VictimCgroup); ok {
					d.CgroupLimitBytes = model.Known(float64(v))
				}
			}
			k.Push(ev)
		}
	}
}

// Close stops the reader.
func (k *kmsgReader) Close() error {
	var err error
	k.once.Do(func() {
		err = k.f.Close()
		<-k.done
	})
	return err
}

// monoWall converts kmsg timestamps (µs of the kernel's clock, which runs
// with CLOCK_MONOTONIC) to wall time.
func monoWall(us uint64) time.Time {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Now().Add(-time.Duration(uint64(ts.Nano()) - us*1000))
}

// kmsgParser keeps what the lines before a "Killed process" line said.
type kmsgParser struct {
	limitKB    uint64
	usageKB    uint64
	haveMem    bool
	oomLine    map[string]string // the last "oom-kill:" line's key=value pairs
	oomLinePID int32
}

var (
	reKilled = regexp.MustCompile(`(Memory cgroup out of memory|Out of memory): Killed process (\d+) \((.*)\) total-vm:(\d+)kB, anon-rss:(\d+)kB, file-rss:(\d+)kB, shmem-rss:(\d+)kB, UID:(\d+) pgtables:(\d+)kB oom_score_adj:(-?\d+)`)
	reMemory = regexp.MustCompile(`^memory: usage (\d+)kB, limit (\d+)kB`)
)

// record parses one /dev/kmsg record ("PRI,SEQ,USEC,FLAGS;TEXT\n" and
// continuation lines) and returns an oom_kill event at a kill.
func (p *kmsgParser) record(rec []byte, wall func(us uint64) time.Time) (model.Event, bool) {
	head, text, ok := bytes.Cut(rec, []byte{';'})
	if !ok {
		return model.Event{}, false
	}
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	var usec uint64
	if f := bytes.Split(head, []byte{','}); len(f) >= 3 {
		usec, _ = strconv.ParseUint(string(f[2]), 10, 64)
	}
	line := string(text)
	if m := reMemory.FindStringSubmatch(line); m != nil {
		p.usageKB, _ = strconv.ParseUint(m[1], 10, 64)
		p.limitKB, _ = strconv.ParseUint(m[2], 10, 64)
		p.haveMem = true
		return model.Event{}, false
	}
	if rest, ok := bytes.CutPrefix(text, []byte("oom-kill:")); ok {
		p.oomLine = parseOOMKV(rest)
		pid, _ := strconv.Atoi(p.oomLine["pid"])
		p.oomLinePID = int32(pid)
		return model.Event{}, false
	}
	m := reKilled.FindStringSubmatch(line)
	if m == nil {
		return model.Event{}, false
	}
	num := func(i int) float64 { v, _ := strconv.ParseFloat(m[i], 64); return v }
	pid, _ := strconv.Atoi(m[2])
	d := &model.OOMKillData{
		VictimPID:           int32(pid),
		VictimComm:          m[3],
		VictimUID:           uint32(num(8)),
		VictimTotalVMBytes:  model.Known(num(4) * 1024),
		VictimAnonRSSBytes:  model.Known(num(5) * 1024),
		VictimFileRSSBytes:  model.Known(num(6) * 1024),
		VictimShmemRSSBytes: model.Known(num(7) * 1024),
		VictimPgtablesBytes: model.Known(num(9) * 1024),
		VictimOOMScoreAdj:   int(num(10)),
		Constraint:          "global",
		ConstraintSource:    "kernel log",
	}
	if m[1] == "Memory cgroup out of memory" {
		d.Constraint = "memcg"
	}
	if p.oomLine != nil && p.oomLinePID == d.VictimPID {
		if cg := p.oomLine["task_memcg"]; cg != "" {
			d.VictimCgroup, d.CgroupOf = cg, "victim"
		}
		if c := constraintName(p.oomLine["constraint"]); c != "" {
			d.Constraint = c
		}
	}
	if p.haveMem && d.Constraint == "memcg" {
		d.CgroupLimitBytes = model.Known(float64(p.limitKB) * 1024)
		d.CgroupUsageBytes = model.Known(float64(p.usageKB) * 1024)
		if cg := p.oomLine["oom_memcg"]; cg != "" {
			d.VictimCgroup, d.CgroupOf = cg, "oom"
			if tcg := p.oomLine["task_memcg"]; tcg == cg {
				d.CgroupOf = "victim"
			}
		}
	}
	p.oomLine, p.haveMem = nil, false
	ev := model.Event{Source: model.SourceKmsg, Kind: model.EventOOMKill, Time: wall(usec),
		PID: d.VictimPID, Comm: d.VictimComm, Data: d}
	return ev, true
}
