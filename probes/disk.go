package probes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/procfs"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// The disk probe: iostat -x per block device from /proc/diskstats, what
// /sys/class/block says each device is, df per mount, and PSI io.
//
// /proc/diskstats is parsed here rather than with procfs's blockdevice
// package: that one runs fmt.Sscanf over every line (a string and a dozen
// reflective scans per device, every second) and keeps no buffer between
// reads, while this parser works in place on one reused buffer read
// through a kept fd with pread, so a steady set of devices costs one
// syscall and no allocations beyond the published slice.

// DiskProbeConfig says where the disk probe reads from.
type DiskProbeConfig struct {
	ProcRoot string // "/proc" when empty
	SysRoot  string // "/sys" when empty
	// CopiedTree: the roots are a copy, so statfs (which measures the
	// live machine's mounts, whatever the tree says) is not done.
	CopiedTree bool
	// Statfs replaces syscall.Statfs in tests.
	Statfs func(path string, st *syscall.Statfs_t) error
	// StatfsTimeout bounds statfs on network and FUSE filesystems
	// (default 200 ms).
	StatfsTimeout time.Duration

	// EBPF loads the block-latency programs (bpf/biolat) through Session
	// with ForceTier ("procfs": none); NoEBPFReason, when set, says why
	// not. DeferBPF leaves loading to LoadBPF. SlowIO is the slow-I/O
	// threshold (DefaultSlowIO when 0).
	EBPF         bool
	Session      *ebpf.Session
	ForceTier    string
	NoEBPFReason string
	DeferBPF     bool
	SlowIO       time.Duration
}

// diskKey identifies a device between readings: the name and the number
// (a name re-used by another device is another device).
type diskKey struct {
	name         string
	major, minor uint32
}

// DiskProbe reads block-device, filesystem and io-pressure figures.
type DiskProbe struct {
	cfg      DiskProbeConfig
	pfs      procfs.FS
	path     string
	fd       int // kept /proc/diskstats, -1 when closed
	buf      []byte
	counters model.KeyedCounters[diskKey, packedCounters]
	prevTime time.Time
	baseline bool // a reading has been taken
	// names interns device names so the steady state allocates none.
	names map[string]string
	// info is what /sys says about each device, re-read every
	// diskInfoMaxAge (a loop device's size changes when it is attached).
	info  map[diskKey]*diskInfo
	fs    *filesystems
	lines []parsedDisk // reused
	bpf   *diskBPF
	// window is the last Read's interval, the eBPF rates' divisor.
	window float64
}

// packedCounters are the 16 cumulative counters of a reading: 128 bytes,
// the largest value a Go map stores inline (a DiskCounters, 152 bytes,
// would cost one allocation per device per frame). The field count and the
// in-flight gauge come from the current reading.
type packedCounters [16]uint64

func pack(c *model.DiskCounters) packedCounters {
	return packedCounters{c.ReadIOs, c.ReadMerges, c.ReadSectors, c.ReadMS, c.WriteIOs, c.WriteMerges, c.WriteSectors, c.WriteMS,
		c.IOMS, c.WeightedMS, c.DiscardIOs, c.DiscardMerges, c.DiscardSectors, c.DiscardMS, c.FlushIOs, c.FlushMS}
}

func unpack(p *packedCounters, like *model.DiskCounters) model.DiskCounters {
	return model.DiskCounters{Major: like.Major, Minor: like.Minor, Fields: like.Fields,
		ReadIOs: p[0], ReadMerges: p[1], ReadSectors: p[2], ReadMS: p[3], WriteIOs: p[4], WriteMerges: p[5], WriteSectors: p[6], WriteMS: p[7],
		IOMS: p[8], WeightedMS: p[9], DiscardIOs: p[10], DiscardMerges: p[11], DiscardSectors: p[12], DiscardMS: p[13], FlushIOs: p[14], FlushMS: p[15]}
}

type parsedDisk struct {
	key diskKey
	c   model.DiskCounters
}

type diskInfo struct {
	read       time.Time
	kind       string
	parent     string
	label      string
	rotational *bool
	scheduler  string
	nrRequests model.Float
	sizeBytes  model.Float
}

const diskInfoMaxAge = 10 * time.Second

// NewDiskProbe makes a disk probe. Its first Collect takes the baseline.
func NewDiskProbe(cfg DiskProbeConfig) (*DiskProbe, error) {
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = procfs.DefaultMountPoint
	}
	if cfg.SysRoot == "" {
		cfg.SysRoot = "/sys"
	}
	if cfg.Statfs == nil {
		cfg.Statfs = syscall.Statfs
	}
	if cfg.StatfsTimeout <= 0 {
		cfg.StatfsTimeout = 200 * time.Millisecond
	}
	pfs, err := procfs.NewFS(cfg.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("disk probe: %w", err)
	}
	return &DiskProbe{
		cfg:   cfg,
		pfs:   pfs,
		path:  filepath.Join(cfg.ProcRoot, "diskstats"),
		fd:    -1,
		buf:   make([]byte, 16<<10),
		names: map[string]string{},
		info:  map[diskKey]*diskInfo{},
		fs:    newFilesystems(cfg),
		bpf:   openDiskBPF(&cfg),
	}, nil
}

func openDiskBPF(cfg *DiskProbeConfig) *diskBPF {
	reason := cfg.NoEBPFReason
	switch {
	case reason != "":
	case !cfg.EBPF:
		reason = "eBPF not requested"
	case cfg.CopiedTree:
		reason = "reading a copied tree (--proc-root, --sys-root): eBPF would measure this kernel, not the copy"
	case cfg.DeferBPF && cfg.ForceTier != model.TierProcfs:
		b := newDiskBPF(cfg.Session, cfg.ForceTier, "loading after the first frame", cfg.SlowIO)
		b.deferred, b.deferTier = true, cfg.ForceTier
		return b
	}
	return newDiskBPF(cfg.Session, cfg.ForceTier, reason, cfg.SlowIO)
}

func init() {
	Register(Family{Name: "disk", New: func(env *Env) (Probe, error) {
		return NewDiskProbe(DiskProbeConfig{ProcRoot: env.ProcRoot, SysRoot: env.SysRoot, CopiedTree: env.CopiedTree,
			EBPF: true, Session: env.BPF, ForceTier: env.ForceTier, DeferBPF: env.DeferBPF})
	}})
}

// Features is the block-latency feature's tier report.
func (p *DiskProbe) Features() []model.Feature { return []model.Feature{p.bpf.report()} }

// EventSources is the slow I/Os.
func (p *DiskProbe) EventSources() []EventSource { return []EventSource{p.bpf.source()} }

// LoadBPF implements BPFLoader (Env.DeferBPF).
func (p *DiskProbe) LoadBPF(sess *ebpf.Session) error { return p.bpf.loadDeferred(sess) }

// Name implements Probe.
func (p *DiskProbe) Name() string { return "disk" }

// Close closes the kept diskstats fd and detaches the eBPF programs.
func (p *DiskProbe) Close() error {
	p.bpf.close()
	if p.fd >= 0 {
		err := syscall.Close(p.fd)
		p.fd = -1
		return err
	}
	return nil
}

// Collect implements Probe.
func (p *DiskProbe) Collect(t *Tick) (Part, error) {
	d, err := p.Read(t.Now)
	if err != nil {
		return nil, err
	}
	if err := p.bpf.collect(d, t.Now, p.window); err != nil && d != nil {
		setDiskUnavailable(d, "latency_hist", err.Error())
	}
	if d == nil {
		return nil, nil
	}
	return func(s *model.Sample) {
		// The D-state probe's piece is kept: it may have been applied
		// to this frame already, or is carried over from the last.
		if old := s.Disk; old != nil {
			d.DState = old.DState
		}
		s.Disk = d
	}, nil
}

// Read reads every source once and returns the Disk part for the interval
// since the previous Read (nil on the first). After a failed read of
// /proc/diskstats the previous baseline is kept.
func (p *DiskProbe) Read(now time.Time) (*model.Disk, error) {
	data, err := p.readDiskstats()
	if err != nil {
		return nil, err
	}
	p.lines = p.lines[:0]
	var bad int
	var firstBad error
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := indexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(trimSpace(line)) == 0 {
			continue
		}
		name, c, err := parseDiskstatsLine(line)
		if err != nil {
			if bad++; firstBad == nil {
				firstBad = fmt.Errorf("line %d: %w", n, err)
			}
			continue
		}
		p.lines = append(p.lines, parsedDisk{key: diskKey{name: p.intern(name), major: c.Major, minor: c.Minor}, c: c})
	}
	seconds := now.Sub(p.prevTime).Seconds()
	p.window = seconds
	first := !p.baseline
	p.baseline, p.prevTime = true, now

	var devs []model.DiskDevice
	if !first {
		devs = make([]model.DiskDevice, 0, len(p.lines))
	}
	for i := range p.lines {
		l := &p.lines[i]
		packed, seen := p.counters.Observe(l.key, pack(&l.c))
		if first {
			continue
		}
		prev := unpack(&packed, &l.c)
		devs = append(devs, p.device(l, &prev, seen, seconds, now))
	}
	p.counters.EndFrame()
	p.forgetInfo()
	if first {
		return nil, nil
	}
	orderDevices(devs)

	d := &model.Disk{Devices: devs}
	if bad > 0 {
		setDiskUnavailable(d, "disks", fmt.Sprintf("%d malformed lines of %s skipped; first: %v", bad, p.path, firstBad))
	}
	var reason string
	d.Filesystems, reason = p.fs.read(devs)
	if reason != "" {
		setDiskUnavailable(d, "filesystems", reason)
	}
	if psi, why := readSystemPressure(p.pfs, p.cfg.ProcRoot, "io"); psi != nil {
		d.PSI = psi
	} else {
		setDiskUnavailable(d, "psi", why)
	}
	return d, nil
}

func setDiskUnavailable(d *model.Disk, field, reason string) {
	setReason(&d.Unavailable, field, reason)
}

// device builds one device's entry from its reading and the previous one.
func (p *DiskProbe) device(l *parsedDisk, prev *model.DiskCounters, seen bool, seconds float64, now time.Time) model.DiskDevice {
	info := p.deviceInfo(l.key, now)
	dev := model.DiskDevice{
		Name: l.key.name, Kind: info.kind, Major: l.key.major, Minor: l.key.minor,
		Parent: info.parent, Label: info.label, Rotational: info.rotational,
		Scheduler: info.scheduler, NrRequests: info.nrRequests, SizeBytes: info.sizeBytes,
		EverUsed: l.c.EverUsed(), Discards: l.c.HasDiscards(), Flushes: l.c.HasFlushes(),
		InFlight: l.c.InFlight,
	}
	switch {
	case !seen:
		dev.Reason = "new device: no earlier reading to compare with"
	default:
		var ok bool
		if dev.DiskRates, ok = model.DiskRatesBetween(prev, &l.c, seconds); !ok {
			dev.Reason = "counters went backwards (device reset or re-created, or a 32-bit ms counter wrapped): no rates this interval"
			if seconds <= 0 {
				dev.Reason = "no time passed since the previous reading"
			}
		}
	}
	return dev
}

func (p *DiskProbe) intern(b []byte) string {
	if s, ok := p.names[string(b)]; ok {
		return s
	}
	if len(p.names) > 4*len(p.info)+64 { // devices come and go: stay bounded
		clear(p.names)
	}
	s := string(b)
	p.names[s] = s
	return s
}

// readDiskstats reads the whole file through the kept fd into p.buf.
func (p *DiskProbe) readDiskstats() ([]byte, error) {
	for attempt := 0; attempt < 2; attempt++ {
		if p.fd < 0 {
			fd, err := syscall.Open(p.path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", p.path, err)
			}
			p.fd = fd
		}
		n, err := preadAll(p.fd, &p.buf)
		if err == nil {
			return p.buf[:n], nil
		}
		// A kept fd that stopped working (a fixture replaced, an odd
		// filesystem): open it afresh once.
		syscall.Close(p.fd)
		p.fd = -1
		if attempt == 1 {
			return nil, fmt.Errorf("read %s: %w", p.path, err)
		}
	}
	panic("unreachable")
}

// preadAll reads fd from offset 0 to EOF into *buf, growing it as needed.
func preadAll(fd int, buf *[]byte) (int, error) {
	n := 0
	for {
		if n == len(*buf) {
			*buf = slices.Grow((*buf)[:n], n)[:2*n]
		}
		m, err := syscall.Pread(fd, (*buf)[n:], int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if m == 0 {
			return n, nil
		}
		n += m
	}
}

// parseDiskstatsLine parses one line of /proc/diskstats in place:
//
//	major minor name  reads merged sectors ms  writes merged sectors ms
//	in_flight io_ms weighted_ms  [discards merged sectors ms  [flushes ms]]
//
// 11 counters before Linux 4.18, 15 with discards, 17 with flushes (5.5);
// counters past the 17th (a future kernel) are ignored. The name is a
// slice of line.
func parseDiskstatsLine(line []byte) (name []byte, c model.DiskCounters, err error) {
	var vals [17]uint64
	field := 0
	for len(line) > 0 {
		line = trimLeftSpace(line)
		if len(line) == 0 {
			break
		}
		end := 0
		for end < len(line) && line[end] != ' ' && line[end] != '\t' {
			end++
		}
		tok := line[:end]
		line = line[end:]
		switch {
		case field == 2:
			name = tok
		case field-3 >= len(vals):
			// A later kernel's extra counters.
		default:
			v, ok := parseUint(tok)
			if !ok {
				return nil, c, fmt.Errorf("field %d is %q, not a counter", field+1, truncate(tok))
			}
			if field < 2 {
				if v > 1<<32-1 {
					return nil, c, fmt.Errorf("device number %d out of range", v)
				}
				if field == 0 {
					c.Major = uint32(v)
				} else {
					c.Minor = uint32(v)
				}
			} else {
				vals[field-3] = v
			}
		}
		field++
	}
	counters := field - 3
	switch {
	case field < 3:
		return nil, c, errors.New("want major, minor and a name")
	case counters < 11:
		return nil, c, fmt.Errorf("%d counters after the name, want at least 11", counters)
	}
	c.Fields = min(counters, 17)
	// 4.18 to 5.4 print 15; a line with 12–14 or 16 would be a kernel we
	// do not know: take what is surely there.
	switch {
	case c.Fields >= 17:
		c.Fields = 17
	case c.Fields >= 15:
		c.Fields = 15
	default:
		c.Fields = 11
	}
	c.ReadIOs, c.ReadMerges, c.ReadSectors, c.ReadMS = vals[0], vals[1], vals[2], vals[3]
	c.WriteIOs, c.WriteMerges, c.WriteSectors, c.WriteMS = vals[4], vals[5], vals[6], vals[7]
	c.InFlight, c.IOMS, c.WeightedMS = vals[8], vals[9], vals[10]
	if c.Fields >= 15 {
		c.DiscardIOs, c.DiscardMerges, c.DiscardSectors, c.DiscardMS = vals[11], vals[12], vals[13], vals[14]
	}
	if c.Fields >= 17 {
		c.FlushIOs, c.FlushMS = vals[15], vals[16]
	}
	return name, c, nil
}

func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

func truncate(b []byte) string {
	if len(b) > 24 {
		return string(b[:24]) + "…"
	}
	return string(b)
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func trimLeftSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimSpace(b []byte) []byte {
	b = trimLeftSpace(b)
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// deviceInfo is what /sys says about a device, cached.
func (p *DiskProbe) deviceInfo(k diskKey, now time.Time) *diskInfo {
	if in := p.info[k]; in != nil && now.Sub(in.read) < diskInfoMaxAge {
		return in
	}
	in := readDiskInfo(p.cfg.SysRoot, k.name)
	in.read = now
	p.info[k] = in
	return in
}

// forgetInfo drops the /sys information of devices no longer listed.
func (p *DiskProbe) forgetInfo() {
	if len(p.info) <= len(p.lines) {
		return
	}
	for k := range p.info {
		if !slices.ContainsFunc(p.lines, func(l parsedDisk) bool { return l.key == k }) {
			delete(p.info, k)
		}
	}
}

// readDiskInfo classifies a device from /sys/class/block/NAME: a partition
// has a "partition" file and lives under its disk's directory; dm and md
// devices have dm/ and md/ directories; loop and zram go by name.
func readDiskInfo(sysRoot, name string) *diskInfo {
	in := &diskInfo{kind: model.DiskKindDisk}
	// Names with a slash (cciss/c0d0) appear with "!" in /sys.
	sysName := strings.ReplaceAll(name, "/", "!")
	base := filepath.Join(sysRoot, "class/block", sysName)
	if _, err := os.Stat(base); err != nil {
		base = filepath.Join(sysRoot, "block", sysName)
	}
	queue := filepath.Join(base, "queue")
	switch {
	case exists(filepath.Join(base, "partition")):
		in.kind = model.DiskKindPartition
		if real, err := filepath.EvalSymlinks(base); err == nil {
			parentDir := filepath.Dir(real)
			if exists(filepath.Join(parentDir, "dev")) || exists(filepath.Join(parentDir, "queue")) {
				in.parent = strings.ReplaceAll(filepath.Base(parentDir), "!", "/")
				queue = filepath.Join(parentDir, "queue")
			}
		}
	case strings.HasPrefix(name, "loop"):
		in.kind = model.DiskKindLoop
	case exists(filepath.Join(base, "dm")):
		in.kind = model.DiskKindDM
		in.label = readTrimmed(filepath.Join(base, "dm/name"))
	case exists(filepath.Join(base, "md")) || strings.HasPrefix(name, "md"):
		in.kind = model.DiskKindMD
	case strings.HasPrefix(name, "zram"):
		in.kind = model.DiskKindZram
	case strings.HasPrefix(name, "dm-"):
		in.kind = model.DiskKindDM
	}
	if v, ok := readUintFile(filepath.Join(base, "size")); ok {
		in.sizeBytes = model.Known(float64(v) * 512)
	}
	if v, ok := readUintFile(filepath.Join(queue, "rotational")); ok {
		rot := v != 0
		in.rotational = &rot
	}
	if v, ok := readUintFile(filepath.Join(queue, "nr_requests")); ok {
		in.nrRequests = model.Known(float64(v))
	}
	in.scheduler = activeScheduler(readTrimmed(filepath.Join(queue, "scheduler")))
	return in
}

// activeScheduler is the bracketed entry of queue/scheduler ("mq-deadline
// [bfq] none" → "bfq"), or the only entry ("none").
func activeScheduler(s string) string {
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	if f := strings.Fields(s); len(f) == 1 {
		return f[0]
	}
	return ""
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func readTrimmed(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func readUintFile(path string) (uint64, bool) {
	s := readTrimmed(path)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// kindRank orders devices: whole disks, then RAID, device mapper, zram and
// loop devices; partitions follow their disk.
func kindRank(kind string) int {
	switch kind {
	case model.DiskKindDisk:
		return 0
	case model.DiskKindMD:
		return 1
	case model.DiskKindDM:
		return 2
	case model.DiskKindZram:
		return 3
	case model.DiskKindLoop:
		return 4
	}
	return 5
}

// orderDevices sorts whole devices by kind and then by name with numbers
// in numeric order (loop2 before loop10), each followed by its partitions.
func orderDevices(devs []model.DiskDevice) {
	kinds := make(map[string]string, len(devs))
	for i := range devs {
		kinds[devs[i].Name] = devs[i].Kind
	}
	// owner is the whole device a row sorts under: a partition's disk.
	owner := func(d *model.DiskDevice) (kind, name string) {
		if d.Kind == model.DiskKindPartition {
			if k, ok := kinds[d.Parent]; ok {
				return k, d.Parent
			}
		}
		return d.Kind, d.Name
	}
	slices.SortStableFunc(devs, func(a, b model.DiskDevice) int {
		ka, na := owner(&a)
		kb, nb := owner(&b)
		if c := kindRank(ka) - kindRank(kb); c != 0 {
			return c
		}
		if c := naturalCompare(na, nb); c != 0 {
			return c
		}
		// Same owner: the disk itself first, then its partitions.
		if ap, bp := a.Kind == model.DiskKindPartition, b.Kind == model.DiskKindPartition; ap != bp {
			if ap {
				return 1
			}
			return -1
		}
		return naturalCompare(a.Name, b.Name)
	})
}

// naturalCompare compares names with runs of digits compared as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, _ := strconv.ParseUint(a[:min(da, 18)], 10, 64)
			nb, _ := strconv.ParseUint(b[:min(db, 18)], 10, 64)
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
