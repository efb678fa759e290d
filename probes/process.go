package probes

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
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
	delay     *delayacct

	procs map[model.ProcKey]*procState
	byPID map[int32]*procState // the newest process seen with each pid
	pids  []int32              // reused listing of ProcRoot
	// prevOut is the last scan's output (shared with the frame it went
	// into, never written): procState.lastIdx indexes it.
	prevOut []model.Process
	tids    []int32 // reused listing of one task directory
	comm    []byte  // the comm being read, copied out of the read buffer

	// groupRunTime returns the CPU time of all of a process's threads in
	// ns (see processRunTime), which tells whether any thread ran; nil
	// when ProcRoot is not this pid namespace's procfs (fixture trees).
	groupRunTime func(pid int32) (uint64, bool)

	gen      uint64        // scans done; the state a scan saw carries its number
	prevNow  time.Time     // when the previous scan happened
	prevBoot time.Duration // the same moment as time since boot
	prevDur  time.Duration // how long the previous scan took
	ts       unix.Timespec

	// iter is the task-iterator tier (process_iter.go) while it runs; nil:
	// the procfs tier.
	iter *iterScan
	// tierMu guards what other goroutines touch: feature (read by the
	// collector for the frame's Features) and incoming (an iterator
	// loaded after the first frame, taken up by the next Scan).
	tierMu   sync.Mutex
	feature  model.Feature
	incoming *ebpf.TaskIter

	// smapsReads counts the smaps_rollup files the last scan read;
	// ioReads the io files; ioDeniedSkips the io files not tried because
	// they were refused before.
	smapsReads, ioReads, ioDeniedSkips int

	// peakProcs is the most processes the maps have held since they were
	// last rebuilt (trimMaps); afterBurst runs after a rebuild.
	peakProcs  int
	afterBurst func()
	// cgroups interns the memory cgroup paths (readCgroup); cleared with
	// the maps' rebuild.
	cgroups map[string]string
}

// procState is what the scanner remembers of one process between scans.
type procState struct {
	gen  uint64 // the last scan that read it
	comm string
	// kcomm identifies the kernel's task->comm as the iterator tier last
	// saw it (kernelCommHash), to notice an exec; 0: not seen by it.
	kcomm     uint64
	cmdline   string
	uid       uint32
	user      string
	startTime time.Time
	cgroup    string // memory cgroup path, read when first seen

	// Counters at the last scan; the leader's for the context switches and
	// run delay (the threads' are in threads).
	utime, stime   uint64
	minflt, majflt uint64
	vcsw, nvcsw    uint64
	runDelay       uint64
	runDelayOK     bool
	blkio          uint64 // field 42 at the last reading, ticks
	blkioOK        bool
	// The leader's schedstat run time and switch-in count, which tell
	// whether status can have changed.
	runTime, switchIns uint64
	schedOK            bool
	// groupRun is the CPU time of all threads (ns) at the last full read
	// of a multi-threaded process; groupRunOK: it was readable.
	groupRun   uint64
	groupRunOK bool
	// lastIdx is where the last scan put this process in its output
	// (ProcessScanner.prevOut): what scans that find it idle and skip stat
	// copy. Pointing into the output the store holds anyway, rather than
	// keeping a copy here, saves a model.Process (about 520 bytes) per
	// process. lastThreads and lastPPID are of that record.
	lastIdx     int32
	lastThreads int32
	lastPPID    int32

	// threads are the baselines of every thread (sorted by tid) as of
	// scan threadsGen; spare is the other buffer readThreads fills, so
	// that a steady state allocates nothing.
	threads, spare []threadState
	threadsGen     uint64

	// The last /proc/PID/io reading, current as of scan ioGen (a process
	// that did not run since keeps it current without a read). ioDenied:
	// the file was refused for ioDeniedUID, so it is not tried again
	// while the process keeps that uid.
	io          procIO
	ioGen       uint64
	ioDenied    bool
	ioDeniedUID uint32

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
	tid         int32
	vcsw, nvcsw uint64
	sched       schedstat
	schedOK     bool
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
	}
	if cfg.MemTotalBytes == nil {
		// Without it %MEM reads 0; the scanner still works (fixture
		// trees often have no meminfo).
		s.memTotal, _ = readMemTotal(cfg.ProcRoot)
	}
	var fs unix.Statfs_t
	if unix.Fstatfs(rd.rootFD, &fs) == nil && fs.Type == unix.PROC_SUPER_MAGIC {
		s.bootClock = true
		// Process CPU clocks name pids of our own namespace: usable only
		// when ProcRoot is its procfs (not, say, a container's /proc).
		if self, err := os.Readlink(filepath.Join(cfg.ProcRoot, "self")); err == nil && self == strconv.Itoa(os.Getpid()) {
			s.groupRunTime = s.processRunTime
		}
	} else {
		// Only procfs regenerates a file on a read at offset 0; a fixture
		// tree's files are replaced between stages, so keep nothing open.
		rd.keptLimit = 0
	}
	return s, nil
}

// Name is the probe's name in error reports.
func (s *ProcessScanner) Name() string { return "process" }

// Close releases the fd of the proc root and the task iterator.
func (s *ProcessScanner) Close() error {
	if s.delay != nil {
		s.delay.close()
	}
	s.tierMu.Lock()
	if s.incoming != nil {
		s.incoming.Close()
		s.incoming = nil
	}
	s.tierMu.Unlock()
	if s.iter != nil {
		s.iter.it.Close()
		s.iter = nil
	}
	return s.rd.close()
}

func init() {
	Register(Family{Name: "process", New: func(env *Env) (Probe, error) {
		s, err := NewProcessScanner(ProcessScannerConfig{
			ProcRoot: env.ProcRoot, PasswdPath: env.PasswdPath,
			BootTime: env.Host.BootTime, ClockTicks: env.Host.ClockTicks,
			Demand: env.Demand,
		})
		if err != nil {
			return nil, err
		}
		s.afterBurst = env.AfterBurst
		if err := s.startTier(env); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	}})
}

// Collect scans every process and returns the process part of the frame.
// The first call is the baseline: its part has every process with what
// needs no interval (identity, state, memory, CPU time), its rates zero and
// unknown (ProcessScan.Baseline), so that the first frame on screen has its
// rows and only the rates wait for the first interval.
func (s *ProcessScanner) Collect(t *Tick) (Part, error) {
	procs, scan, err := s.scan(t.Now, true)
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
	return s.scan(now, false)
}

// scan is Scan; with baselineRows the baseline scan returns its processes
// too (rates zero, ProcessScan.Baseline set).
func (s *ProcessScanner) scan(now time.Time, baselineRows bool) ([]model.Process, model.ProcessScan, error) {
	started := time.Now()
	var scan model.ProcessScan
	s.takeIter()
	c := scanContext{
		gen:       s.gen + 1,
		baseline:  s.gen == 0,
		rows:      s.gen != 0 || baselineRows,
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
	c.wantIO = demand.WantsIO()
	if s.delay == nil {
		s.delay = newDelayacct(s.cfg.ProcRoot)
	}
	s.delay.refresh()
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
	var bad unreadable
	if s.iter != nil {
		if err := s.scanIter(&c, &out, &scan, &bad); err != nil {
			s.dropIter(err) // and scan procfs, now and from now on
		}
	}
	if s.iter == nil {
		pids, errno := s.rd.listRoot(s.pids[:0])
		if !slices.IsSorted(pids) { // getdents lists /proc in pid order; make sure
			slices.Sort(pids)
		}
		s.pids = pids
		s.rd.processes = len(pids)
		if errno != 0 {
			return nil, scan, fmt.Errorf("list %s: %w", s.cfg.ProcRoot, errno)
		}
		out = make([]model.Process, 0, len(pids))
		for _, pid := range pids {
			var p model.Process
			c.outIdx = int32(len(out))
			switch res, errno := s.scanProcess(pid, &c, &p); res {
			case resultOK:
				scan.Processes++
				scan.Threads += int(p.Threads)
				out = append(out, p)
			case resultVanished:
				scan.Vanished++
			default:
				bad.add(s.cfg.ProcRoot, pid, res, errno)
			}
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
	s.rd.forgetUnused(c.gen)
	s.prevOut = out
	s.trimMaps()
	if !c.rows {
		out = nil
	}
	s.gen = c.gen
	s.prevNow = now
	s.prevBoot = c.sinceBoot
	s.prevDur = time.Since(started)
	scan.Duration = float64(s.prevDur) / float64(time.Millisecond)
	scan.Baseline = c.baseline
	scan.StatusSkipped = c.statusSkipped
	scan.StatSkipped = c.statSkipped
	s.smapsReads, s.ioReads, s.ioDeniedSkips = c.smapsReads, c.ioReads, c.ioDeniedSkips
	return out, scan, bad.err(scan.Processes + scan.Vanished + bad.count)
}

// scanContext is what every process of one scan shares.
type scanContext struct {
	gen       uint64
	baseline  bool
	rows      bool  // return the processes (false: a baseline for Scan)
	outIdx    int32 // where the process being read goes in the output
	now       time.Time
	interval  float64       // seconds since the previous scan
	sinceBoot time.Duration // now, as time since boot
	newSince  time.Duration // processes first seen that started after this are new
	wantIO    bool          // read /proc/PID/io (model.DemandSet.WantsIO)

	statusSkipped int // processes whose status was known unchanged
	statSkipped   int // processes known idle whose stat was not read
	smapsReads    int // smaps_rollup files read
	ioReads       int // io files read
	ioDeniedSkips int // io files not tried: refused before
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
	// The cgroup changes only when the process is moved, and the command
	// line mostly with comm at an exec; but an exec that keeps comm (a
	// process hiding its real arguments) and a move change nothing else,
	// so both are also read again every identityRefreshEvery scans, round
	// robin by pid. Unchanged, they allocate nothing.
	refresh := !isNew && (uint64(pid)+c.gen)%identityRefreshEvery == 0
	if isNew {
		ps = &procState{
			startTime: s.cfg.BootTime.Add(s.ticks(st.StartTicks)),
			cgroup:    s.readCgroup(pid),
		}
		s.procs[key] = ps
	} else if refresh {
		s.refreshCgroup(pid, ps)
	}
	if isNew || refresh || string(s.comm) != ps.comm {
		// A process rewriting its own argv (setproctitle) shows it from
		// the next refresh.
		rd.pidPath(pid, "cmdline")
		data, errno = rd.readPath(maxCmdline)
		if vanishedErrno(errno) {
			return resultVanished, 0
		}
		if string(s.comm) != ps.comm {
			ps.comm = string(s.comm)
		}
		if args := cmdlineText(data); len(args) > 0 {
			if string(args) != ps.cmdline {
				ps.cmdline = string(args)
			}
		} else if want := len(ps.comm) + 2; len(ps.cmdline) != want || ps.cmdline[1:want-1] != ps.comm {
			ps.cmdline = "[" + ps.comm + "]" // kernel threads and zombies, as htop shows them
		}
	}
	s.setUser(ps, status.UID, isNew, c)
	dt, newInInterval := s.deltaSeconds(c, isNew, st.StartTicks)

	// RSS from statm, which is exact; stat's field 24 is the fallback (the
	// process exited between the two reads, or a fixture tree lacks it).
	rss := st.RSSPages * s.pageSize
	if data, errno := rd.readKept(pid, keptStatm, c.gen); errno == 0 {
		if _, resident, ok := parseStatm(data); ok {
			rss = resident * s.pageSize
		}
	}

	// Whether the process ran since the last scan. For one thread its
	// schedstat says so to the nanosecond. For several, the leader's does
	// not, and neither do stat's CPU ticks: threads that woke a few
	// hundred times for a few microseconds each use less than a tick. The
	// process CPU clock is the run time of all threads to the nanosecond,
	// at one syscall. Without it every thread is read.
	multi := st.NumThreads > 1
	ran := isNew || !schedOK || !ps.schedOK || sched.runTime != ps.runTime || sched.switchIns != ps.switchIns
	groupRun, groupRunOK := uint64(0), false
	switch {
	case multi && s.groupRunTime != nil:
		groupRun, groupRunOK = s.groupRunTime(pid)
		ran = isNew || !groupRunOK || !ps.groupRunOK || groupRun != ps.groupRun
	case multi:
		ran = true
	case !isNew && ps.lastThreads > 1:
		ran = true // threads that have exited since may have run
	}

	// Context switches and run delay in /proc/PID/status and schedstat are
	// the thread-group leader's only (what pidstat -w shows; pidstat -wt
	// shows each thread). For a multi-threaded process that ran we read
	// every thread and sum their deltas, so a worker pool does not look
	// idle behind a sleeping main thread (and WaitPct, like CPUPct, can
	// pass 100). When no thread ran, none of their counters moved: the
	// baselines stay current without reading, and the rates are zero.
	// A summed rate needs baselines from the previous scan: every thread's
	// (a thread born since counts whole, one that exited loses its last
	// interval, as with pidstat -wt), or the leader's when the process had
	// one thread then; a process born in the interval counts whole.
	var sums threadSums
	summed := false
	if multi {
		haveThreads := !isNew && ps.threadsGen == c.gen-1
		leaderOnly := !isNew && !haveThreads && ps.gen == c.gen-1 && ps.lastThreads == 1
		if !ran && haveThreads {
			ps.threadsGen = c.gen
			summed = true
			sums.runDelayOK = !slices.ContainsFunc(ps.threads, func(th threadState) bool { return !th.schedOK })
		} else {
			var leader threadState
			if leaderOnly {
				leader = threadState{tid: pid, vcsw: ps.vcsw, nvcsw: ps.nvcsw, schedOK: ps.schedOK,
					sched: schedstat{runTime: ps.runTime, runDelay: ps.runDelay, switchIns: ps.switchIns}}
			}
			var base []threadState
			if haveThreads {
				base = ps.threads
			}
			next, ok := s.readThreads(pid, base, leaderOnly, leader, ps.spare[:0], &sums)
			if ok {
				ps.spare, ps.threads = ps.threads, next
				ps.threadsGen = c.gen
				summed = haveThreads || leaderOnly || newInInterval
			}
		}
	}

	s.fillProcess(p, pid, ps, c, &st, &status, sched, schedOK, rss, dt, multi, summed, isNew, &sums, groupRun, groupRunOK)
	s.memDetail(pid, ps, c, p)
	s.ioDetail(pid, ps, c, p, ran, newInInterval, dt)
	ps.setLast(c, p)
	return resultOK, 0
}

// fillProcess writes the published record of one process from what a scan
// tier read of it (in /proc's terms: stat, status, the leader's schedstat,
// statm's RSS, the per-thread sums) and keeps those readings in ps as the
// next scan's baselines. Both tiers end here, so a rate means the same
// whichever read it.
func (s *ProcessScanner) fillProcess(p *model.Process, pid int32, ps *procState, c *scanContext, st *procStat, status *procStatus,
	sched schedstat, schedOK bool, rss uint64, dt float64, multi, summed, isNew bool, sums *threadSums, groupRun uint64, groupRunOK bool) {
	*p = model.Process{}
	p.ProcessIdentity = model.ProcessIdentity{
		PID:        pid,
		PPID:       st.PPID,
		StartTicks: st.StartTicks,
		StartTime:  ps.startTime,
		UID:        ps.uid,
		User:       ps.user,
		Comm:       ps.comm,
		Cmdline:    ps.cmdline,
		State:      stateString(st.State),
		Threads:    st.NumThreads,
		Nice:       st.Nice,
		Processor:  st.Processor,
	}
	p.CPUTimeTicks = st.UTime + st.STime
	p.RSSBytes, p.VSZBytes, p.MemPct, p.Cgroup = rss, st.VSize, s.memPct(rss), ps.cgroup
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
		switch {
		case summed:
			p.VoluntaryCSPerS = float64(sums.vcsw) / dt
			p.InvoluntaryCSPerS = float64(sums.nvcsw) / dt
			if sums.runDelayOK {
				p.WaitPct = model.Known(float64(sums.runDelay) / intervalNS * 100)
			}
		case multi:
			// Its threads could not be read (it is exiting): the leader's
			// switches, and no wait, which is of all threads.
			p.VoluntaryCSPerS = float64(model.ClampedDelta(ps.vcsw, status.VoluntaryCS)) / dt
			p.InvoluntaryCSPerS = float64(model.ClampedDelta(ps.nvcsw, status.InvoluntaryCS)) / dt
		default:
			p.VoluntaryCSPerS = float64(model.ClampedDelta(ps.vcsw, status.VoluntaryCS)) / dt
			p.InvoluntaryCSPerS = float64(model.ClampedDelta(ps.nvcsw, status.InvoluntaryCS)) / dt
			if schedOK && (isNew || ps.runDelayOK) {
				p.WaitPct = model.Known(float64(model.ClampedDelta(ps.runDelay, sched.runDelay)) / intervalNS * 100)
			}
		}
	}

	s.ioDelay(p, ps, st, dt, isNew)
	ps.gen = c.gen
	ps.utime, ps.stime = st.UTime, st.STime
	ps.minflt, ps.majflt = st.MinFlt, st.MajFlt
	ps.vcsw, ps.nvcsw = status.VoluntaryCS, status.InvoluntaryCS
	ps.runDelay, ps.runDelayOK = sched.runDelay, schedOK
	ps.runTime, ps.switchIns, ps.schedOK = sched.runTime, sched.switchIns, schedOK
	ps.groupRun, ps.groupRunOK = groupRun, groupRunOK
	ps.noUserMemory = hasNoUserMemory(st)
	s.byPID[pid] = ps
}

// ioDelay is pidstat -d's iodelay as % of the interval: the main
// thread's field 42 delta (what /proc/PID/stat and pidstat report),
// unknown with the reason when the kernel does not account it.
func (s *ProcessScanner) ioDelay(p *model.Process, ps *procState, st *procStat, dt float64, isNew bool) {
	switch {
	case !s.delay.on:
		p.IODelayReason = s.delay.reason
	case !st.BlkioOK:
		p.IODelayReason = "no delayacct_blkio_ticks (field 42 of /proc/PID/stat) on this kernel"
	case dt > 0 && (isNew || ps.blkioOK):
		p.IODelayPct = model.Known(float64(model.ClampedDelta(ps.blkio, st.BlkioTicks)) / float64(s.cfg.ClockTicks) / dt * 100)
	}
	ps.blkio, ps.blkioOK = st.BlkioTicks, st.BlkioOK && s.delay.on
}

// setLast remembers where p goes in this scan's output.
func (ps *procState) setLast(c *scanContext, p *model.Process) {
	ps.lastIdx, ps.lastThreads, ps.lastPPID = c.outIdx, p.Threads, p.PPID
}

// trimMaps rebuilds the scanner's maps after a burst of processes has
// gone: Go maps never give back the space of deleted entries, so after
// 10,000 short-lived processes the maps would stay that large. A rebuild
// copies the live entries (about 100 ns each) and happens only when the
// maps are mostly empty; then the runtime is asked to return the freed
// memory to the system at once (one extra GC) rather than over minutes.
func (s *ProcessScanner) trimMaps() {
	n := len(s.procs)
	if n > s.peakProcs {
		s.peakProcs = n
	}
	if s.peakProcs < 2048 || n > s.peakProcs/4 {
		return
	}
	procs := make(map[model.ProcKey]*procState, n)
	for k, v := range s.procs {
		procs[k] = v
	}
	byPID := make(map[int32]*procState, len(s.byPID))
	for k, v := range s.byPID {
		byPID[k] = v
	}
	s.procs, s.byPID = procs, byPID
	s.cgroups = nil
	s.rd.trim()
	s.pids = slices.Clip(s.pids[:0:0])
	s.tids = nil
	s.peakProcs = n
	if s.afterBurst != nil {
		s.afterBurst()
	}
}

// statRefreshEvery bounds how stale the stat-only values of an idle process
// may get: see idleSinceLastScan.
const statRefreshEvery = 4

// idleSinceLastScan is the fast path for the common case, a process that
// has not run since the last scan, at the cost of one schedstat read
// (about 1 µs) instead of stat (about 4 µs in the kernel).
//
// For a single-threaded process, schedstat's run time and switch-in count
// unchanged means it did not run: its CPU times, faults, I/O, threads,
// comm, state and context switches cannot have changed, so its rates are
// exactly zero and the rest is as last read. What can change without it
// running is its RSS (reclaim), nice (renice) and parent (reparenting when
// the parent exits), so stat is still read every statRefreshEvery scans
// (round-robin by pid) and at once when its parent has gone from the
// listing. The schedstat must come through an fd kept since the last scan,
// which proves it is the same process and not a reused pid.
func (s *ProcessScanner) idleSinceLastScan(pid int32, c *scanContext, p *model.Process) bool {
	ps := s.byPID[pid]
	if c.baseline || ps == nil || ps.lastThreads != 1 || !ps.schedOK ||
		(uint64(pid)+c.gen)%statRefreshEvery == 0 || !s.listed(ps.lastPPID) {
		return false
	}
	if int(ps.lastIdx) >= len(s.prevOut) || s.prevOut[ps.lastIdx].PID != pid {
		return false // not in the last output (its baseline was not kept)
	}
	data, errno := s.rd.readKept(pid, keptSchedstat, c.gen)
	if errno != 0 || !s.rd.sameTask {
		return false
	}
	sched, ok := parseSchedstat(data)
	if !ok || sched.runTime != ps.runTime || sched.switchIns != ps.switchIns {
		return false
	}
	*p = s.prevOut[ps.lastIdx]
	// Whole rate structs, not a list of fields: a rate added to the model
	// is zero here without anyone remembering this function.
	p.ZeroRates()
	if ps.runDelayOK {
		p.WaitPct = model.Known(0)
	}
	p.IODelayReason = s.delay.reason
	if s.delay.on && ps.blkioOK {
		p.IODelayPct = model.Known(0)
	}
	p.MemPct = s.memPct(p.RSSBytes) // MemTotal may have changed (memory hotplug, a balloon)
	ps.gen = c.gen
	ps.lastIdx = c.outIdx
	c.statSkipped++
	// Memory can change without the process running (reclaim, swap-out,
	// another process unmapping pages it shared), so a demanded process
	// is read on the fast path too.
	s.memDetail(pid, ps, c, p)
	s.ioDetail(pid, ps, c, p, false, false, c.interval)
	return true
}

// ioDetail fills p's I/O rates from /proc/PID/io when they are asked for,
// reading the file only for a process that ran since the last scan: one
// that did not cannot have done I/O, so its rates are exactly zero and its
// last reading stays current. A refused file is remembered for the
// process and its uid (root can read every one; others only their own).
func (s *ProcessScanner) ioDetail(pid int32, ps *procState, c *scanContext, p *model.Process, ran, newInInterval bool, dt float64) {
	p.ProcessIORates = model.ProcessIORates{}
	p.IODetail = model.DetailNotRead
	if !c.wantIO {
		ps.ioGen = 0 // the reading goes stale while nobody asks
		return
	}
	if ps.ioDenied && ps.ioDeniedUID == ps.uid {
		p.IODetail = model.DetailDenied
		c.ioDeniedSkips++
		return
	}
	current := ps.ioGen != 0 && ps.ioGen == c.gen-1
	if !ran && current {
		ps.ioGen = c.gen
		setIORates(p, &ps.io, &ps.io, 1)
		return
	}
	data, errno := s.rd.readKept(pid, keptIO, c.gen)
	var cur procIO
	switch {
	case errno == syscall.EACCES || errno == syscall.EPERM:
		ps.ioDenied, ps.ioDeniedUID, ps.ioGen = true, ps.uid, 0
		p.IODetail = model.DetailDenied
		return
	case errno != 0 || !parseProcIO(data, &cur):
		ps.ioGen = 0 // exited while being read
		return
	}
	c.ioReads++
	ps.ioDenied = false
	switch {
	case dt <= 0:
		// First seen and older than the last scan: a baseline only.
	case current || !ran:
		// !ran: a first reading of a process that did not run; its
		// counters did not move.
		prev := &ps.io
		if !current {
			prev = &cur
		}
		setIORates(p, prev, &cur, dt)
	case newInInterval:
		setIORates(p, &procIO{have: cur.have}, &cur, dt) // counters start at zero with the process
	}
	ps.io, ps.ioGen = cur, c.gen
}

// setIORates sets p's I/O rates from two readings seconds apart; fields
// the kernel does not have stay unknown, and so do counters that went
// backwards (a reset).
func setIORates(p *model.Process, prev, cur *procIO, seconds float64) {
	r := &p.ProcessIORates
	rate := func(bit uint8, dst *model.Float) {
		if cur.have&prev.have&bit != 0 {
			*dst = model.CounterRate(*prev.field(bit), *cur.field(bit), seconds)
		}
	}
	rate(ioHaveRchar, &r.RcharPerS)
	rate(ioHaveWchar, &r.WcharPerS)
	rate(ioHaveSyscr, &r.SyscrPerS)
	rate(ioHaveSyscw, &r.SyscwPerS)
	rate(ioHaveReadBytes, &r.ReadBytesPerS)
	rate(ioHaveWriteBytes, &r.WriteBytesPerS)
	rate(ioHaveCancelled, &r.CancelledWriteBytesPerS)
	p.IODetail = model.DetailFresh
}

// memPct is rss as a percentage of MemTotal (top's %MEM).
func (s *ProcessScanner) memPct(rss uint64) float64 {
	if s.memTotal == 0 {
		return 0
	}
	return float64(rss) / float64(s.memTotal) * 100
}

// identityRefreshEvery: every this many scans a process's command line and
// cgroup are read again (see scanProcess): at 2,000 processes about 125 of each
// per scan, 1 ms.
const identityRefreshEvery = 16

// refreshCgroup reads pid's memory cgroup again, allocating only if it
// changed; an unreadable file keeps what was read before.
func (s *ProcessScanner) refreshCgroup(pid int32, ps *procState) {
	s.rd.pidPath(pid, "cgroup")
	data, errno := s.rd.readPath(0)
	if errno != 0 {
		return
	}
	if path, _ := memoryCgroupPath(data); string(path) != ps.cgroup {
		ps.cgroup = string(path)
	}
}

// readCgroup returns the memory cgroup path of pid, "" when unreadable.
func (s *ProcessScanner) readCgroup(pid int32) string {
	s.rd.pidPath(pid, "cgroup")
	data, errno := s.rd.readPath(0)
	if errno != 0 {
		return ""
	}
	path, _ := MemoryCgroupPath(data)
	// Most processes share a handful of cgroups: keep one copy of each
	// path (about 60 bytes a process otherwise).
	if v, ok := s.cgroups[path]; ok {
		return v
	}
	if s.cgroups == nil {
		s.cgroups = map[string]string{}
	}
	s.cgroups[path] = path
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
// pid into next (its buffer reused, sorted by tid) and sums their deltas
// against base, the baselines of the previous scan (sorted by tid), or
// against leader for the thread pid when leaderOnly. A thread without a
// baseline counts whole. A thread whose schedstat run time and switch-ins
// did not move has unchanged switch counters, so its status (the costly
// file) is not read. It reports false when the task directory cannot be
// listed (the process exited).
func (s *ProcessScanner) readThreads(pid int32, base []threadState, leaderOnly bool, leader threadState, next []threadState, sums *threadSums) ([]threadState, bool) {
	rd := s.rd
	rd.taskPath(pid, 0, "")
	tids, errno := rd.listPath(s.tids[:0])
	s.tids = tids
	if errno != 0 || len(tids) == 0 {
		return next, false
	}
	slices.Sort(tids) // to walk base alongside
	*sums = threadSums{runDelayOK: true}
	var status procStatus
	j := 0
	for _, tid := range tids {
		for j < len(base) && base[j].tid < tid {
			j++
		}
		prev, had := threadState{}, false
		switch {
		case j < len(base) && base[j].tid == tid:
			prev, had = base[j], true
		case leaderOnly && tid == pid:
			prev, had = leader, true
		}
		th := threadState{tid: tid}
		rd.taskPath(pid, tid, "schedstat")
		if data, errno := rd.readPath(0); errno == 0 {
			th.sched, th.schedOK = parseSchedstat(data)
		}
		if had && th.schedOK && prev.schedOK && th.sched.runTime == prev.sched.runTime && th.sched.switchIns == prev.sched.switchIns {
			th.vcsw, th.nvcsw = prev.vcsw, prev.nvcsw
		} else {
			rd.taskPath(pid, tid, "status")
			data, errno := rd.readPath(0)
			if errno != 0 || !parseProcStatus(data, &status) {
				continue // the thread exited between listing and reading
			}
			th.vcsw, th.nvcsw = status.VoluntaryCS, status.InvoluntaryCS
		}
		if !had {
			prev = threadState{schedOK: true}
		}
		sums.vcsw += model.ClampedDelta(prev.vcsw, th.vcsw)
		sums.nvcsw += model.ClampedDelta(prev.nvcsw, th.nvcsw)
		if th.schedOK && prev.schedOK {
			sums.runDelay += model.ClampedDelta(prev.sched.runDelay, th.sched.runDelay)
		} else {
			sums.runDelayOK = false
		}
		next = append(next, th)
	}
	return next, true
}

// processRunTime is the CPU time of all of pid's threads, living and
// exited, in ns: clock_gettime of its process CPU clock (CPUCLOCK_SCHED,
// as clock_getcpuclockid(3) makes it). Any process's clock is readable
// without privileges; it fails once the process has gone.
func (s *ProcessScanner) processRunTime(pid int32) (uint64, bool) {
	const cpuClockSched = 2
	clock := int32(^uint32(pid)<<3) | cpuClockSched
	if unix.ClockGettime(clock, &s.ts) != nil {
		return 0, false
	}
	return uint64(s.ts.Nano()), true
}

// ticks converts clock ticks to a duration without overflowing.
// setUser names the process's owner when it is new or its uid changed.
func (s *ProcessScanner) setUser(ps *procState, uid uint32, isNew bool, c *scanContext) {
	if isNew || uid != ps.uid {
		ps.uid = uid
		ps.user = s.users.name(uid, c.gen)
	}
}

// deltaSeconds is what a process's counter deltas are divided by: the
// interval, also for a process born inside it (whose whole counters are
// its deltas), as pidstat does: divided by the part it lived, a process
// that burnt 0.5 s in the last 0.95 s of a 2 s interval would show 53 %
// where the machine saw 25 %, and the processes would add up to more than
// the machine. None (0) for a process first seen that is older than the
// previous scan, whose counters are not of this interval. newInInterval:
// a process first seen that was born inside the interval.
func (s *ProcessScanner) deltaSeconds(c *scanContext, isNew bool, startTicks uint64) (dt float64, newInInterval bool) {
	if c.baseline {
		return 0, false
	}
	if isNew {
		if s.ticks(startTicks) < c.newSince {
			return 0, false
		}
		return c.interval, true
	}
	return c.interval, false
}

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
