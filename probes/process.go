package probes

import (
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
)

// maxCmdline bounds what is kept of a command line. Nothing draws more than
// a screen line of it, and some processes carry hundreds of kilobytes.
const maxCmdline = 32 << 10

// ProcessScannerConfig says where the scanner reads from. Tests point
// ProcRoot and PasswdPath at fixture trees.
type ProcessScannerConfig struct {
	ProcRoot   string    // "/proc" or a fixture tree
	PasswdPath string    // "/etc/passwd" or a fixture
	BootTime   time.Time // from /proc/stat btime: StartTime = BootTime + StartTicks/ClockTicks
	ClockTicks int       // USER_HZ, 100 on Linux
	// Demand names the processes whose smaps_rollup (PSS, USS, shared,
	// swap) is read each scan; nil reads none.
	Demand *model.Demand
	// MemTotalBytes, called once per scan, is the total for %MEM. Nil
	// reads MemTotal from <ProcRoot>/meminfo once, at construction.
	MemTotalBytes func() uint64
}

// ProcessScanner reads every process once per interval and turns the
// counters into per-process rates. It is the hot loop of vitals: about 3 to 4
// small files per process per second, so it reads them with raw syscalls into
// reused buffers (procread.go) and keeps the strings of a process (comm,
// command line, user) across scans. In a steady state a scan allocates one
// thing, the []model.Process it returns; readers keep older snapshots, so
// that slice cannot be reused.
//
// For the Memory tab it also keeps each process's memory cgroup (read once)
// and reads smaps_rollup (PSS, USS, shared, swap) only for the processes
// cfg.Demand names: see smaps.go for what that costs.
//
// A ProcessScanner is used from one goroutine (the probe runner's).
type ProcessScanner struct {
	cfg       ProcessScannerConfig
	rd        *procReader
	users     *userNames
	pageSize  uint64
	bootClock bool   // ProcRoot is a live procfs: process ages come from CLOCK_BOOTTIME
	memTotal  uint64 // bytes, for %MEM; 0 when unknown
	demand    demandLookup

	procs   map[model.ProcKey]*procState
	byPID   map[int32]*procState // the newest process seen with each pid
	threads map[int32]threadState
	pids    []int32 // reused listing of ProcRoot
	tids    []int32 // reused listing of one task directory
	comm    []byte  // the comm being read, copied out of the read buffer

	gen      uint64        // scans done; the state a scan saw carries its number
	prevNow  time.Time     // when the previous scan happened
	prevBoot time.Duration // the same moment as time since boot
	prevDur  time.Duration // how long the previous scan took
	ts       unix.Timespec

	// smapsReads counts the smaps_rollup files the last scan read.
	smapsReads int
}

// procState is what the scanner remembers of one process between scans.
type procState struct {
	gen       uint64 // the last scan that read it
	comm      string
	cmdline   string
	uid       uint32
	user      string
	startTime time.Time
	cgroup    string // memory cgroup path, read when first seen

	// Counters at the last scan; the leader's for the context switches and
	// run delay (see threadsGen).
	utime, stime   uint64
	minflt, majflt uint64
	vcsw, nvcsw    uint64
	runDelay       uint64
	runDelayOK     bool
	// The leader's schedstat run time and switch-in count, which tell
	// whether status can have changed.
	runTime, switchIns uint64
	schedOK            bool
	// last is the process as the last full read saw it, for scans that
	// find it idle and skip stat.
	last model.Process

	// threadsGen is the last scan that read every thread of the process
	// into ProcessScanner.threads.
	threadsGen uint64

	// noUserMemory: no address space (a kernel thread or zombie; see
	// hasNoUserMemory), so its memory detail is zero without reading
	// smaps_rollup, which would fail with ESRCH.
	noUserMemory bool
	// The last smaps_rollup reading: memGen is the scan that took it (0:
	// never), memAt its time. memDenied: the last attempt was refused.
	mem       smapsRollup
	memGen    uint64
	memAt     time.Time
	memDenied bool
}

// threadState is one thread's counters at the last scan that read them.
type threadState struct {
	pid        int32
	startTicks uint64 // the process's, so a reused pid is not mistaken for it
	gen        uint64
	vcsw       uint64
	nvcsw      uint64
	runDelay   uint64
	runDelayOK bool
}

// threadSums is the sum over a process's threads of their counter deltas.
type threadSums struct {
	vcsw, nvcsw, runDelay uint64
	runDelayOK            bool
}

// NewProcessScanner opens cfg.ProcRoot (kept open for the scanner's life)
// and reads the passwd file.
func NewProcessScanner(cfg ProcessScannerConfig) (*ProcessScanner, error) {
	if cfg.ClockTicks <= 0 {
		return nil, fmt.Errorf("process scanner: clock ticks must be positive, got %d", cfg.ClockTicks)
	}
	rd, err := newProcReader(cfg.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.ProcRoot, err)
	}
	s := &ProcessScanner{
		cfg:      cfg,
		rd:       rd,
		users:    newUserNames(cfg.PasswdPath),
		pageSize: uint64(os.Getpagesize()),
		procs:    map[model.ProcKey]*procState{},
		byPID:    map[int32]*procState{},
		threads:  map[int32]threadState{},
	}
	if cfg.MemTotalBytes == nil {
		// Without it %MEM reads 0; the scanner still works (fixture
		// trees often have no meminfo).
		s.memTotal, _ = readMemTotal(cfg.ProcRoot)
	}
	var fs unix.Statfs_t
	if unix.Fstatfs(rd.rootFD, &fs) == nil && fs.Type == unix.PROC_SUPER_MAGIC {
		s.bootClock = true
	} else {
		// Only procfs regenerates a file on a read at offset 0; a fixture
		// tree's files are replaced between stages, so keep nothing open.
		rd.keptLimit = 0
	}
	return s, nil
}

// Name is the probe's name in error reports.
func (s *ProcessScanner) Name() string { return "process" }

// Close releases the fd of the proc root.
func (s *ProcessScanner) Close() error { return s.rd.close() }

func init() {
	Register(Family{Name: "process", New: func(env *Env) (Probe, error) {
		return NewProcessScanner(ProcessScannerConfig{
			ProcRoot: env.ProcRoot, PasswdPath: env.PasswdPath,
			BootTime: env.Host.BootTime, ClockTicks: env.Host.ClockTicks,
			Demand: env.Demand,
		})
	}})
}

// Collect scans every process and returns the process part of the frame.
// The first call is the baseline and returns no part.
func (s *ProcessScanner) Collect(t *Tick) (Part, error) {
	procs, scan, err := s.Scan(t.Now)
	if procs == nil {
		return nil, err
	}
	return func(next *model.Sample) {
		next.Processes = procs
		next.ProcessScan = scan
	}, err
}

// Scan reads every process once without publishing. It returns the processes
// of the interval since the previous scan, or nil on the first (baseline)
// scan. An error with a non-nil slice is partial: some processes could not
// be read (not counting those that exited while being read, which are
// normal and counted in ProcessScan.Vanished).
func (s *ProcessScanner) Scan(now time.Time) ([]model.Process, model.ProcessScan, error) {
	started := time.Now()
	var scan model.ProcessScan
	pids, errno := s.rd.listRoot(s.pids[:0])
	if !slices.IsSorted(pids) { // getdents lists /proc in pid order; make sure
		slices.Sort(pids)
	}
	s.pids = pids
	if errno != 0 {
		return nil, scan, fmt.Errorf("list %s: %w", s.cfg.ProcRoot, errno)
	}

	c := scanContext{
		gen:       s.gen + 1,
		baseline:  s.gen == 0,
		now:       now,
		sinceBoot: s.sinceBoot(now),
	}
	if s.cfg.MemTotalBytes != nil {
		s.memTotal = s.cfg.MemTotalBytes()
	}
	var demand model.DemandSet
	if s.cfg.Demand != nil {
		demand = s.cfg.Demand.Get()
	}
	s.demand.reset(demand)
	if !c.baseline {
		c.interval = now.Sub(s.prevNow).Seconds()
		// A process the previous scan did not list is new unless it
		// started clearly before that scan: the listing races with forks
		// for up to the scan's duration, and without CLOCK_BOOTTIME the
		// boot time is only known to the second (btime).
		c.newSince = s.prevBoot - s.prevDur - s.ticks(1)
		if !s.bootClock {
			c.newSince -= time.Second
		}
	}
	var out []model.Process
	if !c.baseline {
		out = make([]model.Process, 0, len(pids))
	}
	var bad unreadable
	for _, pid := range pids {
		var p model.Process
		switch res, errno := s.scanProcess(pid, &c, &p); res {
		case resultOK:
			scan.Processes++
			scan.Threads += int(p.Threads)
			if !c.baseline {
				out = append(out, p)
			}
		case resultVanished:
			scan.Vanished++
		default:
			bad.add(s.cfg.ProcRoot, pid, res, errno)
		}
	}
	for key, ps := range s.procs {
		if ps.gen != c.gen {
			delete(s.procs, key)
			if s.byPID[key.PID] == ps {
				delete(s.byPID, key.PID)
			}
		}
	}
	for tid, th := range s.threads {
		if th.gen != c.gen {
			delete(s.threads, tid)
		}
	}
	s.rd.forgetUnused(c.gen)
	s.gen = c.gen
	s.prevNow = now
	s.prevBoot = c.sinceBoot
	s.prevDur = time.Since(started)
	scan.Duration = float64(s.prevDur) / float64(time.Millisecond)
	scan.StatusSkipped = c.statusSkipped
	scan.StatSkipped = c.statSkipped
	s.smapsReads = c.smapsReads
	return out, scan, bad.err(scan.Processes + scan.Vanished + bad.count)
}

// scanContext is what every process of one scan shares.
type scanContext struct {
	gen       uint64
	baseline  bool
	now       time.Time
	interval  float64       // seconds since the previous scan
	sinceBoot time.Duration // now, as time since boot
	newSince  time.Duration // processes first seen that started after this are new

	statusSkipped int // processes whose status was known unchanged
	statSkipped   int // processes known idle whose stat was not read
	smapsReads    int // smaps_rollup files read
}

type scanResult int

const (
	resultOK scanResult = iota
	resultVanished
	resultStatUnreadable
	resultStatMalformed
	resultStatusUnreadable
	resultStatusMalformed
)

// scanProcess reads one process and fills p with its values over the
// interval (no rates on the baseline scan).
func (s *ProcessScanner) scanProcess(pid int32, c *scanContext, p *model.Process) (scanResult, syscall.Errno) {
	if s.idleSinceLastScan(pid, c, p) {
		return resultOK, 0
	}
	rd := s.rd
	data, errno := rd.readKept(pid, keptStat, c.gen)
	if vanishedErrno(errno) || (errno == 0 && len(data) == 0) {
		return resultVanished, 0
	}
	if errno != 0 {
		return resultStatUnreadable, errno
	}
	var st procStat
	if !parseProcStat(data, &st) {
		return resultStatMalformed, 0
	}
	key := model.ProcKey{PID: pid, StartTicks: st.StartTicks}
	// st.Comm lives in the read buffer, which the next read overwrites.
	s.comm = append(s.comm[:0], st.Comm...)

	data, errno = rd.readKept(pid, keptSchedstat, c.gen)
	var sched schedstat
	schedOK := false
	if errno == 0 {
		sched, schedOK = parseSchedstat(data)
	}
	runDelay, runDelayOK := sched.runDelay, schedOK

	ps := s.procs[key]
	isNew := ps == nil

	// /proc/PID/status is the costliest file we read (8 µs in the kernel).
	// Its context-switch counters can only move when the task ran: a task
	// is switched out only after running, and switching out adds to its
	// run time. So when the leader's run time and switch-in count are
	// unchanged since the last scan, status is unchanged too and is not
	// read — which is the case for almost every idle process.
	var status procStatus
	if !isNew && schedOK && ps.schedOK && sched.runTime == ps.runTime && sched.switchIns == ps.switchIns {
		status = procStatus{UID: ps.uid, VoluntaryCS: ps.vcsw, InvoluntaryCS: ps.nvcsw}
		c.statusSkipped++
	} else {
		rd.pidPath(pid, "status")
		data, errno = rd.readPath(0)
		if vanishedErrno(errno) || (errno == 0 && len(data) == 0) {
			return resultVanished, 0
		}
		if errno != 0 {
			return resultStatusUnreadable, errno
		}
		if !parseProcStatus(data, &status) {
			return resultStatusMalformed, 0
		}
	}

	// Only a new process or a changed comm (exec keeps pid and start time)
	// allocates; the comparison converts nothing.
	if isNew {
		ps = &procState{
			startTime: s.cfg.BootTime.Add(s.ticks(st.StartTicks)),
			// A process changes cgroup only when moved (rare: a service
			// manager placing a child); exec keeps it.
			cgroup: s.readCgroup(pid),
		}
		s.procs[key] = ps
	}
	if isNew || string(s.comm) != ps.comm {
		newComm := string(s.comm)
		// The command line only changes with comm (exec); a process
		// rewriting its own argv (setproctitle) keeps what we read first.
		rd.pidPath(pid, "cmdline")
		data, errno = rd.readPath(maxCmdline)
		if vanishedErrno(errno) {
			return resultVanished, 0
		}
		ps.comm = newComm
		if args := cmdlineText(data); len(args) > 0 {
			ps.cmdline = string(args)
		} else {
			ps.cmdline = "[" + newComm + "]" // kernel threads and zombies, as htop shows them
		}
	}
	if isNew || status.UID != ps.uid {
		ps.uid = status.UID
		ps.user = s.users.name(status.UID, c.gen)
	}

	// The seconds the counters' deltas are divided by: the interval for a
	// process seen before; for a new one the part of the interval it lived
	// (all of its counters happened in it); none for a process first seen
	// that is older than the previous scan, whose counters are not of this
	// interval.
	dt := 0.0
	startSince := s.ticks(st.StartTicks)
	newInInterval := isNew && !c.baseline && startSince >= c.newSince
	switch {
	case c.baseline:
	case !isNew:
		dt = c.interval
	case newInInterval && c.interval > 0:
		dt = min((c.sinceBoot - startSince).Seconds(), c.interval)
		dt = max(dt, 1/float64(s.cfg.ClockTicks))
	}

	// Context switches and run delay in /proc/PID/status and schedstat are
	// the thread-group leader's only (what pidstat -w shows; pidstat -wt
	// shows each thread). For a multi-threaded process that ran in the
	// interval we read every thread and sum them, so a worker pool does
	// not look idle behind a sleeping main thread (and WaitPct, like
	// CPUPct, can pass 100). Processes that used no CPU time are not
	// summed: a status and a schedstat read per thread (some 15 µs by the
	// costs in shared/notes/procfs.md) for every idle thread pool each
	// second could cost more than the rest of the scan.
	// So a summed rate needs care. It is produced only when the previous
	// scan also read every thread: per-thread deltas, a thread born in the
	// interval counts whole, one that exited loses its last interval as
	// with pidstat -wt. Otherwise, in the first busy interval after idle
	// ones, the leader's delta is used for that interval, not thread
	// counters summed over an unknown span (the switches of a thread that
	// ran for less than a tick go unseen while the process looks idle).
	// The leader's baseline is kept every scan, so changing mode never
	// compares a sum with a leader value.
	cpuTicks := st.UTime + st.STime
	busy := isNew || model.ClampedDelta(ps.utime+ps.stime, cpuTicks) > 0
	var sums threadSums
	summed := false
	if st.NumThreads > 1 && busy {
		hadThreads := !isNew && ps.threadsGen == c.gen-1
		if s.readThreads(pid, st.StartTicks, c.gen, &sums) {
			summed = hadThreads || newInInterval
			ps.threadsGen = c.gen
		}
	}

	*p = model.Process{
		PID:          pid,
		PPID:         st.PPID,
		StartTicks:   st.StartTicks,
		StartTime:    ps.startTime,
		UID:          ps.uid,
		User:         ps.user,
		Comm:         ps.comm,
		Cmdline:      ps.cmdline,
		State:        stateString(st.State),
		Threads:      st.NumThreads,
		Nice:         st.Nice,
		Processor:    st.Processor,
		CPUTimeTicks: cpuTicks,
		RSSBytes:     st.RSSPages * s.pageSize,
		VSZBytes:     st.VSize,
		MemPct:       s.memPct(st.RSSPages * s.pageSize),
		Cgroup:       ps.cgroup,
	}
	if dt > 0 {
		hz := float64(s.cfg.ClockTicks)
		// For a new process the previous values are zero: its whole
		// counters are deltas.
		p.UserPct = float64(model.ClampedDelta(ps.utime, st.UTime)) / hz / dt * 100
		p.SystemPct = float64(model.ClampedDelta(ps.stime, st.STime)) / hz / dt * 100
		p.CPUPct = p.UserPct + p.SystemPct // consistent even when one counter stepped back
		p.MinFltPerS = float64(model.ClampedDelta(ps.minflt, st.MinFlt)) / dt
		p.MajFltPerS = float64(model.ClampedDelta(ps.majflt, st.MajFlt)) / dt
		intervalNS := dt * 1e9
		if summed {
			p.VoluntaryCSPerS = float64(sums.vcsw) / dt
			p.InvoluntaryCSPerS = float64(sums.nvcsw) / dt
			if sums.runDelayOK {
				p.WaitPct = model.Known(float64(sums.runDelay) / intervalNS * 100)
			}
		} else {
			p.VoluntaryCSPerS = float64(model.ClampedDelta(ps.vcsw, status.VoluntaryCS)) / dt
			p.InvoluntaryCSPerS = float64(model.ClampedDelta(ps.nvcsw, status.InvoluntaryCS)) / dt
			if runDelayOK && (isNew || ps.runDelayOK) {
				p.WaitPct = model.Known(float64(model.ClampedDelta(ps.runDelay, runDelay)) / intervalNS * 100)
			}
		}
	}

	ps.gen = c.gen
	ps.utime, ps.stime = st.UTime, st.STime
	ps.minflt, ps.majflt = st.MinFlt, st.MajFlt
	ps.vcsw, ps.nvcsw = status.VoluntaryCS, status.InvoluntaryCS
	ps.runDelay, ps.runDelayOK = runDelay, runDelayOK
	ps.runTime, ps.switchIns, ps.schedOK = sched.runTime, sched.switchIns, schedOK
	ps.noUserMemory = hasNoUserMemory(&st)
	ps.last = *p
	s.byPID[pid] = ps
	s.memDetail(pid, ps, c, p)
	return resultOK, 0
}

// statRefreshEvery bounds how stale the stat-only values of an idle process
// may get: see idleSinceLastScan.
const statRefreshEvery = 4

// idleSinceLastScan is the fast path for the common case, a process that
// has not run since the last scan, at the cost of one schedstat read
// (about 1 µs) instead of stat (about 4 µs in the kernel).
//
// For a single-threaded process, schedstat's run time and switch-in count
// unchanged means it did not run: its CPU times, faults, threads, comm,
// state and context switches cannot have changed, so its rates are exactly
// zero and the rest is as last read. What can change without it running is
// its RSS (reclaim), nice (renice) and parent (reparenting when the parent
// exits), so stat is still read every statRefreshEvery scans (round-robin
// by pid) and at once when its parent has gone from the listing. The
// schedstat must come through an fd kept since the last scan, which proves
// it is the same process and not a reused pid.
func (s *ProcessScanner) idleSinceLastScan(pid int32, c *scanContext, p *model.Process) bool {
	ps := s.byPID[pid]
	if c.baseline || ps == nil || ps.last.Threads != 1 || !ps.schedOK ||
		(uint64(pid)+c.gen)%statRefreshEvery == 0 || !s.listed(ps.last.PPID) {
		return false
	}
	data, errno := s.rd.readKept(pid, keptSchedstat, c.gen)
	if errno != 0 || !s.rd.sameTask {
		return false
	}
	sched, ok := parseSchedstat(data)
	if !ok || sched.runTime != ps.runTime || sched.switchIns != ps.switchIns {
		return false
	}
	*p = ps.last
	p.CPUPct, p.UserPct, p.SystemPct = 0, 0, 0
	p.VoluntaryCSPerS, p.InvoluntaryCSPerS = 0, 0
	p.MinFltPerS, p.MajFltPerS = 0, 0
	if ps.runDelayOK {
		p.WaitPct = model.Known(0)
	}
	p.MemPct = s.memPct(p.RSSBytes) // MemTotal may have changed (memory hotplug, a balloon)
	ps.gen = c.gen
	c.statSkipped++
	// Memory can change without the process running (reclaim, swap-out,
	// another process unmapping pages it shared), so a demanded process
	// is read on the fast path too.
	s.memDetail(pid, ps, c, p)
	return true
}

// memPct is rss as a percentage of MemTotal (top's %MEM).
func (s *ProcessScanner) memPct(rss uint64) float64 {
	if s.memTotal == 0 {
		return 0
	}
	return float64(rss) / float64(s.memTotal) * 100
}

// readCgroup returns the memory cgroup path of pid, "" when unreadable.
func (s *ProcessScanner) readCgroup(pid int32) string {
	s.rd.pidPath(pid, "cgroup")
	data, errno := s.rd.readPath(0)
	if errno != 0 {
		return ""
	}
	path, _ := MemoryCgroupPath(data)
	return path
}

// memDetail reads smaps_rollup if the UI wants pid's memory detail, then
// fills p's PSS, USS, shared and swap from the newest reading with its
// freshness. Every process gets them, demanded or not: a row scrolled off
// screen keeps its last values, marked stale with their age. Reading
// demanded processes allocates nothing: the file lands in the reused
// buffer and is parsed in place.
func (s *ProcessScanner) memDetail(pid int32, ps *procState, c *scanContext, p *model.Process) {
	p.MemDetailAgeS = 0
	if ps.noUserMemory {
		zero := model.Known(0)
		p.PSSBytes, p.USSBytes, p.SharedBytes, p.SwapBytes = zero, zero, zero, zero
		p.MemDetail = model.DetailFresh
		return
	}
	// The baseline scan publishes nothing, so reading then would be wasted.
	if !c.baseline && s.demand.wants(model.ProcKey{PID: pid, StartTicks: p.StartTicks}) {
		s.rd.pidPath(pid, "smaps_rollup")
		data, errno := s.rd.readPath(0)
		var m smapsRollup
		switch smapsErrnoOutcome(errno) {
		case smapsRead:
			if parseSmapsRollup(data, &m) {
				ps.mem, ps.memGen, ps.memAt, ps.memDenied = m, c.gen, c.now, false
				c.smapsReads++
			}
		case smapsDenied:
			ps.memDenied = true
		}
	}
	switch {
	case ps.memDenied:
		p.PSSBytes, p.USSBytes, p.SharedBytes, p.SwapBytes = model.Unknown, model.Unknown, model.Unknown, model.Unknown
		p.MemDetail = model.DetailDenied
	case ps.memGen == 0:
		p.PSSBytes, p.USSBytes, p.SharedBytes, p.SwapBytes = model.Unknown, model.Unknown, model.Unknown, model.Unknown
		p.MemDetail = model.DetailNotRead
	default:
		m := &ps.mem
		p.PSSBytes = model.Known(float64(m.PSS))
		p.USSBytes = model.Known(float64(m.USS()))
		p.SharedBytes = model.Known(float64(m.Shared()))
		p.SwapBytes = model.Known(float64(m.Swap))
		if ps.memGen == c.gen {
			p.MemDetail = model.DetailFresh
		} else {
			p.MemDetail = model.DetailStale
			p.MemDetailAgeS = c.now.Sub(ps.memAt).Seconds()
		}
	}
}

// listed reports whether pid is in this scan's listing of the proc root
// (pid 0, the parent of init and kthreadd, always is).
func (s *ProcessScanner) listed(pid int32) bool {
	if pid == 0 {
		return true
	}
	_, found := slices.BinarySearch(s.pids, pid)
	return found
}

// readThreads reads the context switches and run delay of every thread of
// pid, stores them as the threads' baselines and sums their deltas since the
// previous scan (a thread without a baseline counts whole). It reports false
// when the task directory cannot be listed (the process exited).
func (s *ProcessScanner) readThreads(pid int32, startTicks uint64, gen uint64, sums *threadSums) bool {
	rd := s.rd
	rd.taskPath(pid, 0, "")
	tids, errno := rd.listPath(s.tids[:0])
	s.tids = tids
	if errno != 0 || len(tids) == 0 {
		return false
	}
	*sums = threadSums{runDelayOK: true}
	var status procStatus
	for _, tid := range tids {
		rd.taskPath(pid, tid, "status")
		data, errno := rd.readPath(0)
		if errno != 0 || !parseProcStatus(data, &status) {
			continue // the thread exited between listing and reading
		}
		rd.taskPath(pid, tid, "schedstat")
		data, errno = rd.readPath(0)
		runDelay, runDelayOK := uint64(0), false
		if errno == 0 {
			runDelay, runDelayOK = parseSchedstatRunDelay(data)
		}
		prev, had := s.threads[tid]
		had = had && prev.pid == pid && prev.startTicks == startTicks && prev.gen == gen-1
		if !had {
			prev = threadState{runDelayOK: true}
		}
		sums.vcsw += model.ClampedDelta(prev.vcsw, status.VoluntaryCS)
		sums.nvcsw += model.ClampedDelta(prev.nvcsw, status.InvoluntaryCS)
		if runDelayOK && prev.runDelayOK {
			sums.runDelay += model.ClampedDelta(prev.runDelay, runDelay)
		} else {
			sums.runDelayOK = false
		}
		s.threads[tid] = threadState{
			pid: pid, startTicks: startTicks, gen: gen,
			vcsw: status.VoluntaryCS, nvcsw: status.InvoluntaryCS,
			runDelay: runDelay, runDelayOK: runDelayOK,
		}
	}
	return true
}

// ticks converts clock ticks to a duration without overflowing.
func (s *ProcessScanner) ticks(n uint64) time.Duration {
	hz := uint64(s.cfg.ClockTicks)
	return time.Duration(n/hz)*time.Second + time.Duration(n%hz)*time.Second/time.Duration(hz)
}

// sinceBoot is now as time since boot, the clock of /proc/PID/stat's start
// time. On a live procfs CLOCK_BOOTTIME gives it exactly; btime in /proc/stat
// is truncated to the second, which would misjudge the age of a process born
// in the last second by up to a second.
func (s *ProcessScanner) sinceBoot(now time.Time) time.Duration {
	if s.bootClock && unix.ClockGettime(unix.CLOCK_BOOTTIME, &s.ts) == nil {
		return time.Duration(s.ts.Nano())
	}
	return now.Sub(s.cfg.BootTime)
}

// asciiChars backs stateString: one-letter strings without allocating.
var asciiChars = func() string {
	b := make([]byte, 128)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}()

func stateString(c byte) string {
	if c >= 128 {
		return "?"
	}
	return asciiChars[c : c+1]
}

// unreadable collects processes that could not be read for a reason other
// than exiting (permissions, as with hidepid; a malformed file). The first
// one is named in the error; nothing is allocated unless one occurs.
type unreadable struct {
	count int
	first string
}

func (u *unreadable) add(root string, pid int32, res scanResult, errno syscall.Errno) {
	u.count++
	if u.first != "" {
		return
	}
	var what string
	switch res {
	case resultStatUnreadable:
		what = "stat: " + errno.Error()
	case resultStatMalformed:
		what = "stat: malformed"
	case resultStatusUnreadable:
		what = "status: " + errno.Error()
	default:
		what = "status: malformed"
	}
	u.first = fmt.Sprintf("%s/%d/%s", root, pid, what)
}

func (u *unreadable) err(total int) error {
	if u.count == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d processes unreadable (first: %s)", u.count, total, u.first)
}
