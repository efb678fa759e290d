package probes

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"slices"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// Scan tiers, as ProcessScannerConfig.ScanTier and the "procscan" feature
// name them.
const (
	ScanTierIter   = ebpf.TierIter    // the BPF task iterator (root or CAP_BPF+CAP_PERFMON)
	ScanTierProcfs = model.TierProcfs // /proc/PID/* files
)

// The task-iterator tier of the process scanner (bpf/taskiter): one pass
// over the kernel's tasks returns every thread's counters as fixed-size
// records, a few read()s of 32 KiB for the whole machine, where the procfs
// tier opens or preads three or four files per process. The records are the
// raw kernel values behind /proc/PID/{stat,schedstat,status,statm,io}; this
// file does the arithmetic /proc's show-functions do, so that the two tiers
// publish the same numbers (TestIterMatchesProcfs), and hands the result to
// the same fillProcess as the procfs tier: baselines kept by one tier are
// valid for the other, so switching tiers between scans costs no rates.
//
// Definitions where /proc does more than print a field:
//
//   - utime, stime: /proc/PID/stat prints thread_group_cputime_adjusted():
//     the tick-sampled user and system times of every thread (living and
//     exited) scaled so that they add up to the precise run time, and kept
//     monotonic against signal->prev_cputime, which every reader of the
//     file advances. iterCPUTime runs the same cputime_adjust() from the
//     same kernel state (the sums, and prev_cputime as the last reader left
//     it), so it is what /proc would print at that moment; it does not
//     advance prev_cputime itself. The two agree within a tick: the only
//     difference is the moment each was taken.
//   - state: the leader's, mapped to the letter as task_state_index() does.
//   - RSS: statm's exact resident count (the BPF program sums the per-CPU
//     parts of mm->rss_stat as statm does).
//   - voluntary/involuntary switches and run delay: per thread, summed as
//     deltas exactly as the procfs tier sums /proc/PID/task/TID/*.
//   - I/O: /proc/PID/io's sums (signal->ioac plus every thread's), for every
//     process and every scan, since it costs nothing more here; the procfs
//     tier reads it on demand only.
//   - comm and cmdline: read from /proc for a new process and whenever the
//     kernel's comm changes (an exec or a rename), as the procfs tier does;
//     /proc's comm differs from task->comm for kernel workers, which show
//     their workqueue.
//
// The kernel's iterator does not show pid 1 on this project's machines
// (6.18: its first task is pid 2), so a scan that got no record for pid 1
// reads it through the procfs tier.
type iterScan struct {
	it  *ebpf.TaskIter
	buf []uint64 // the records of the last Read, reused

	// groups are the thread groups of the last Read in tgid order (the
	// iterator visits tasks in tid order and a leader's tid is its tgid):
	// the leader's record and the chain of its other threads' records.
	groups []iterGroup
	next   []int32 // per record: the next record of its group, -1 at the end
	// orphans are thread records seen before their leader (after pid
	// wrap-around a thread's tid can be below its tgid).
	orphans []int32
}

type iterGroup struct {
	tgid        uint32
	leader      int32 // record index
	first, last int32 // the other threads' chain, -1 when none
}

// nsPerTick is the kernel's nsec_to_clock_t divisor.
func (s *ProcessScanner) nsPerTick() uint64 { return uint64(time.Second) / uint64(s.cfg.ClockTicks) }

// group sorts the records of one Read into thread groups.
func (is *iterScan) group(recs []ebpf.TaskRecord) {
	is.groups = is.groups[:0]
	is.orphans = is.orphans[:0]
	if cap(is.next) < len(recs) {
		is.next = make([]int32, len(recs))
	}
	is.next = is.next[:len(recs)]
	hint := -1 // the group of the last thread record: threads cluster
	for i := range recs {
		r := &recs[i]
		is.next[i] = -1
		if r.Tid == r.Tgid {
			if r.Tid == 0 || r.Flags&ebpf.RecLeader == 0 {
				continue
			}
			is.groups = append(is.groups, iterGroup{tgid: r.Tgid, leader: int32(i), first: -1, last: -1})
			continue
		}
		g := -1
		if hint >= 0 && hint < len(is.groups) && is.groups[hint].tgid == r.Tgid {
			g = hint
		} else if j, ok := slices.BinarySearchFunc(is.groups, r.Tgid, func(g iterGroup, t uint32) int { return int(int64(g.tgid) - int64(t)) }); ok {
			g = j
		}
		if g < 0 {
			is.orphans = append(is.orphans, int32(i))
			continue
		}
		hint = g
		is.link(g, int32(i))
	}
	for _, i := range is.orphans {
		if j, ok := slices.BinarySearchFunc(is.groups, recs[i].Tgid, func(g iterGroup, t uint32) int { return int(int64(g.tgid) - int64(t)) }); ok {
			is.link(j, i) // out of tid order: iterThreads sorts that group
		}
	}
}

func (is *iterScan) link(g int, i int32) {
	gr := &is.groups[g]
	if gr.last < 0 {
		gr.first = i
	} else {
		is.next[gr.last] = i
	}
	gr.last = i
}

// scanIter is Scan's loop over the iterator's records: it fills out and
// scan as the procfs loop does. An error means the iterator could not be
// read; nothing has been changed then and the caller scans procfs instead.
func (s *ProcessScanner) scanIter(c *scanContext, out *[]model.Process, scan *model.ProcessScan, bad *unreadable) error {
	is := s.iter
	buf, err := is.it.Read(is.buf)
	if err != nil {
		return err
	}
	is.buf = buf
	recs := ebpf.Records(buf)
	is.group(recs)

	s.pids = s.pids[:0]
	for _, g := range is.groups {
		s.pids = append(s.pids, int32(g.tgid))
	}
	*out = make([]model.Process, 0, len(is.groups)+1)
	emit := func(p *model.Process) {
		scan.Processes++
		scan.Threads += int(p.Threads)
		*out = append(*out, *p)
	}
	if len(is.groups) == 0 || is.groups[0].tgid != 1 {
		// The iterator skips pid 1 here: read it from /proc.
		s.pids = slices.Insert(s.pids, 0, 1)
		var p model.Process
		c.outIdx = int32(len(*out))
		switch res, errno := s.scanProcess(1, c, &p); res {
		case resultOK:
			emit(&p)
		case resultVanished:
			scan.Vanished++
		default:
			bad.add(s.cfg.ProcRoot, 1, res, errno)
		}
	}
	s.rd.processes = len(s.pids)
	for gi := range is.groups {
		var p model.Process
		c.outIdx = int32(len(*out))
		if s.scanIterProcess(recs, &is.groups[gi], c, &p) {
			emit(&p)
		} else {
			scan.Vanished++
		}
	}
	s.trimIter(len(recs))
	return nil
}

// scanIterProcess turns one thread group's records into p. It reports
// false when the process exited before its strings could be read.
func (s *ProcessScanner) scanIterProcess(recs []ebpf.TaskRecord, g *iterGroup, c *scanContext, p *model.Process) bool {
	is := s.iter
	lr := &recs[g.leader]
	pid := int32(lr.Tgid)
	perTick := s.nsPerTick()

	// Sums over the group (the leader's record carries the exited
	// threads' part): stat's utime, stime, faults; the run time the
	// process CPU clock gives; /proc/PID/io.
	var utime, stime, runtime, minflt, majflt uint64
	var io [7]uint64
	ioFlags := lr.Flags & (ebpf.RecIOChars | ebpf.RecIOBytes)
	records := 0
	for i := g.leader; i >= 0; {
		r := &recs[i]
		utime += r.UtimeNs
		stime += r.StimeNs
		runtime += r.RuntimeNs
		minflt += r.MinFlt
		majflt += r.MajFlt
		for k := range io {
			io[k] += r.Io[k]
		}
		records++
		if i == g.leader {
			i = g.first
		} else {
			i = is.next[i]
		}
	}
	ut, st := cputimeAdjust(utime, stime, runtime, lr.PrevUtimeNs, lr.PrevStimeNs)

	var stat procStat
	stat.PID = pid
	stat.State = taskStateLetter(lr.State, lr.ExitState)
	stat.PPID = int32(lr.Ppid)
	stat.MinFlt, stat.MajFlt = minflt, majflt
	stat.UTime, stat.STime = ut/perTick, st/perTick
	stat.Nice = lr.Nice
	stat.NumThreads = lr.NrThreads
	stat.StartTicks = lr.StartNs / perTick
	stat.VSize = lr.VmPages * s.pageSize
	stat.Processor = int32(lr.Cpu)
	stat.BlkioTicks, stat.BlkioOK = lr.BlkioDelay/perTick, lr.Flags&ebpf.RecDelay != 0
	status := procStatus{UID: lr.Uid, VoluntaryCS: lr.Nvcsw, InvoluntaryCS: lr.Nivcsw}
	sched := schedstat{runTime: lr.OwnRuntime, runDelay: lr.RunDelay, switchIns: lr.Pcount}
	schedOK := lr.Flags&ebpf.RecSched != 0
	rss := lr.RssPages * s.pageSize

	key := model.ProcKey{PID: pid, StartTicks: stat.StartTicks}
	ps := s.procs[key]
	isNew := ps == nil
	comm := kernelCommHash(&lr.Comm)
	if isNew {
		ps = &procState{
			startTime: s.cfg.BootTime.Add(s.ticks(stat.StartTicks)),
			cgroup:    s.readCgroup(pid),
		}
	}
	// ps.kcomm == 0: the procfs tier kept this process until now; its comm
	// and command line are current.
	if isNew || (ps.kcomm != 0 && ps.kcomm != comm) {
		if !s.readStrings(pid, ps) {
			return false
		}
	}
	if isNew {
		s.procs[key] = ps
	}
	ps.kcomm = comm
	s.setUser(ps, status.UID, isNew, c)
	dt, newInInterval := s.deltaSeconds(c, isNew, stat.StartTicks)

	multi := stat.NumThreads > 1 || records > 1
	var sums threadSums
	summed := false
	if multi {
		haveThreads := !isNew && ps.threadsGen == c.gen-1
		leaderOnly := !isNew && !haveThreads && ps.gen == c.gen-1 && ps.lastThreads == 1
		var base []threadState
		var one [1]threadState
		switch {
		case haveThreads:
			base = ps.threads
		case leaderOnly:
			one[0] = threadState{tid: pid, vcsw: ps.vcsw, nvcsw: ps.nvcsw, schedOK: ps.schedOK,
				sched: schedstat{runTime: ps.runTime, runDelay: ps.runDelay, switchIns: ps.switchIns}}
			base = one[:]
		}
		next := s.iterThreads(recs, g, base, ps.spare[:0], &sums)
		ps.spare, ps.threads = ps.threads, next
		ps.threadsGen = c.gen
		summed = haveThreads || leaderOnly || newInInterval
	} else if ps.threads != nil {
		ps.threads, ps.spare = nil, nil // one thread: no per-thread baselines to keep
	}

	s.fillProcess(p, pid, ps, c, &stat, &status, sched, schedOK, rss, dt, multi, summed, isNew, &sums, runtime, true)
	s.memDetail(pid, ps, c, p)
	s.iterIO(ps, c, p, &io, ioFlags, newInInterval, dt)
	ps.setLast(c, p)
	return true
}

// iterThreads fills next with the group's per-thread baselines (sorted by
// tid) and sums their deltas against base, as readThreads does from
// /proc/PID/task.
func (s *ProcessScanner) iterThreads(recs []ebpf.TaskRecord, g *iterGroup, base, next []threadState, sums *threadSums) []threadState {
	*sums = threadSums{runDelayOK: true}
	for i := g.leader; i >= 0; {
		r := &recs[i]
		next = append(next, threadState{tid: int32(r.Tid), vcsw: r.Nvcsw, nvcsw: r.Nivcsw, schedOK: r.Flags&ebpf.RecSched != 0,
			sched: schedstat{runTime: r.OwnRuntime, runDelay: r.RunDelay, switchIns: r.Pcount}})
		if i == g.leader {
			i = g.first
		} else {
			i = s.iter.next[i]
		}
	}
	if !slices.IsSortedFunc(next, func(a, b threadState) int { return int(a.tid - b.tid) }) {
		slices.SortFunc(next, func(a, b threadState) int { return int(a.tid - b.tid) })
	}
	j := 0
	for _, th := range next {
		for j < len(base) && base[j].tid < th.tid {
			j++
		}
		prev := threadState{schedOK: true}
		if j < len(base) && base[j].tid == th.tid {
			prev = base[j]
		}
		sums.vcsw += model.ClampedDelta(prev.vcsw, th.vcsw)
		sums.nvcsw += model.ClampedDelta(prev.nvcsw, th.nvcsw)
		if th.schedOK && prev.schedOK {
			sums.runDelay += model.ClampedDelta(prev.sched.runDelay, th.sched.runDelay)
		} else {
			sums.runDelayOK = false
		}
	}
	return next
}

// readStrings reads comm and the command line of pid from /proc into ps.
func (s *ProcessScanner) readStrings(pid int32, ps *procState) bool {
	rd := s.rd
	rd.pidPath(pid, "comm")
	data, errno := rd.readPath(0)
	if errno != 0 || len(data) == 0 {
		return false
	}
	if data[len(data)-1] == '\n' {
		data = data[:len(data)-1]
	}
	if string(data) != ps.comm {
		ps.comm = string(data)
	}
	rd.pidPath(pid, "cmdline")
	data, errno = rd.readPath(maxCmdline)
	if vanishedErrno(errno) {
		return false
	}
	if args := cmdlineText(data); len(args) > 0 {
		ps.cmdline = string(args)
	} else {
		ps.cmdline = "[" + ps.comm + "]"
	}
	return true
}

// iterIO sets p's I/O rates from the group's /proc/PID/io sums, which the
// iterator hands over for every process: the same rules as ioDetail
// without the reading.
func (s *ProcessScanner) iterIO(ps *procState, c *scanContext, p *model.Process, io *[7]uint64, flags uint32, newInInterval bool, dt float64) {
	p.ProcessIORates = model.ProcessIORates{}
	p.IODetail = model.DetailNotRead
	var cur procIO
	if flags&ebpf.RecIOChars != 0 {
		cur.rchar, cur.wchar, cur.syscr, cur.syscw = io[0], io[1], io[2], io[3]
		cur.have |= ioHaveChars
	}
	if flags&ebpf.RecIOBytes != 0 {
		cur.readBytes, cur.writeBytes, cur.cancelledWriteBytes = io[4], io[5], io[6]
		cur.have |= ioHaveReadBytes | ioHaveWriteBytes | ioHaveCancelled
	}
	if cur.have == 0 {
		ps.ioGen = 0
		return
	}
	current := ps.ioGen != 0 && ps.ioGen == c.gen-1
	switch {
	case dt <= 0:
	case current:
		setIORates(p, &ps.io, &cur, dt)
	case newInInterval:
		setIORates(p, &procIO{have: cur.have}, &cur, dt)
	}
	ps.io, ps.ioGen, ps.ioDenied = cur, c.gen, false
}

// cputimeAdjust is the kernel's cputime_adjust() (kernel/sched/cputime.c)
// without its side effect: the sampled utime and stime scaled to add up to
// rtime, never below prev (signal->prev_cputime). All in ns.
func cputimeAdjust(utime, stime, rtime, prevU, prevS uint64) (uint64, uint64) {
	if prevS+prevU >= rtime {
		return prevU, prevS
	}
	switch {
	case stime == 0:
		utime = rtime
	case utime == 0:
		stime = rtime
	default:
		hi, lo := bits.Mul64(stime, rtime)
		stime, _ = bits.Div64(hi, lo, stime+utime) // hi < stime+utime: stime <= stime+utime
		stime = min(stime, rtime)
	}
	if stime < prevS {
		stime = prevS
	}
	utime = rtime - stime
	if utime < prevU {
		utime = prevU
		stime = rtime - utime
	}
	return utime, stime
}

// Task state bits (include/linux/sched.h) and task_state_index().
const (
	taskReport          = 0x7f // S D T t X Z P: the bits /proc reports
	taskUninterruptible = 0x2
	taskIdle            = 0x402 // TASK_UNINTERRUPTIBLE | TASK_NOLOAD
	taskReportIdle      = 0x80
	taskRTLockWait      = 0x1000
	taskFrozen          = 0x8000
)

// taskStates is task_state_array's letters by task_state_index().
const taskStates = "RSDTtXZPI"

// taskStateLetter is /proc/PID/stat's state letter of a task.
func taskStateLetter(state, exitState uint32) byte {
	v := (state | exitState) & taskReport
	if state&taskIdle == taskIdle {
		v = taskReportIdle
	}
	if state&(taskRTLockWait|taskFrozen) != 0 {
		v = taskUninterruptible
	}
	i := bits.Len32(v)
	if i >= len(taskStates) {
		return '?'
	}
	return taskStates[i]
}

var commSeed = maphash.MakeSeed()

// kernelCommHash identifies a task->comm; never 0 (0 means "not known").
func kernelCommHash(comm *[16]int8) uint64 {
	var b [16]byte
	n := 0
	for n < len(comm) && comm[n] != 0 {
		b[n] = byte(comm[n])
		n++
	}
	return maphash.Bytes(commSeed, b[:n]) | 1
}

// trimIter lets the reused buffers go after a burst: when they are four
// times what the last Read needed, the next Read grows them afresh.
func (s *ProcessScanner) trimIter(records int) {
	is := s.iter
	need := records*ebpf.TaskRecordSize/8 + 1
	if cap(is.buf) > 4*need && cap(is.buf) > 64<<10 {
		is.buf = nil
	}
	if cap(is.next) > 4*records && cap(is.next) > 4096 {
		is.next = nil
	}
	if cap(is.groups) > 4*len(is.groups) && cap(is.groups) > 4096 {
		is.groups = nil
	}
}

// startTier picks the scan tier from env: procfs when forced, reading a
// copied tree or without an eBPF session (tests); otherwise the iterator,
// loaded now, or after the first frame when env.DeferBPF (LoadBPF). A
// forced iterator that does not load is an error: whoever forced it wants
// to know.
func (s *ProcessScanner) startTier(env *Env) error {
	procfs := func(reason string) {
		rep := model.Feature{Name: ebpf.TaskIterFeature().Name, Tier: ScanTierProcfs, Reason: reason}
		rep.Tiers = []model.TierOutcome{{Tier: ScanTierIter, Status: model.TierSkipped, Reason: reason}}
		s.setFeature(rep)
	}
	switch {
	case env.ScanTier == ScanTierProcfs:
		procfs("scan tier forced to procfs")
		return nil
	case env.CopiedTree || s.groupRunTime == nil:
		procfs("reading a copied tree: the iterator would list this kernel's tasks")
	case env.BPF == nil:
		procfs("no eBPF session")
	case env.DeferBPF && env.ScanTier == "":
		procfs("loading after the first frame")
		return nil
	default:
		if err := s.LoadBPF(env.BPF); err != nil && env.ScanTier == ScanTierIter {
			return fmt.Errorf("--scan-tier iter: %w", err)
		}
		return nil
	}
	if env.ScanTier == ScanTierIter {
		return fmt.Errorf("--scan-tier iter: %s", s.Features()[0].Reason)
	}
	return nil
}

// LoadBPF loads the task iterator through sess; the next Scan uses it.
// Safe to call from another goroutine than the scan's (main loads eBPF
// after the first frame). On failure the procfs tier stays, with the
// reason in the feature report.
func (s *ProcessScanner) LoadBPF(sess *ebpf.Session) error {
	it, rep, err := ebpf.OpenTaskIter(sess, ebpf.LoadOptions{})
	if err != nil {
		rep.Tier = ScanTierProcfs
	}
	s.tierMu.Lock()
	defer s.tierMu.Unlock()
	if it != nil {
		if s.incoming != nil {
			s.incoming.Close()
		}
		s.incoming = it
	}
	s.feature = rep
	return err
}

// Features reports the scan tier (FeatureReporter): "taskiter" running
// the iter tier, or procfs and why not.
func (s *ProcessScanner) Features() []model.Feature {
	s.tierMu.Lock()
	defer s.tierMu.Unlock()
	if s.feature.Name == "" {
		return nil
	}
	return []model.Feature{s.feature}
}

// ScanTier is the tier the next Scan uses.
func (s *ProcessScanner) ScanTier() string {
	s.tierMu.Lock()
	defer s.tierMu.Unlock()
	if s.iter != nil || s.incoming != nil {
		return ScanTierIter
	}
	return ScanTierProcfs
}

func (s *ProcessScanner) setFeature(rep model.Feature) {
	s.tierMu.Lock()
	s.feature = rep
	s.tierMu.Unlock()
}

// takeIter switches to an iterator loaded since the last scan.
func (s *ProcessScanner) takeIter() {
	s.tierMu.Lock()
	it := s.incoming
	s.incoming = nil
	s.tierMu.Unlock()
	if it == nil {
		return
	}
	if s.iter != nil {
		s.iter.it.Close()
	}
	s.iter = &iterScan{it: it}
}

// dropIter gives the iterator up after a failed read: the procfs tier
// scans from now on, and the report says why.
func (s *ProcessScanner) dropIter(err error) {
	s.iter.it.Close()
	s.iter = nil
	s.tierMu.Lock()
	defer s.tierMu.Unlock()
	rep := s.feature
	rep.Tier, rep.Reason = ScanTierProcfs, "iterator failed: "+err.Error()
	for i := range rep.Tiers {
		if rep.Tiers[i].Status == model.TierActive {
			rep.Tiers[i].Status, rep.Tiers[i].Reason = model.TierFailed, rep.Reason
		}
	}
	s.feature = rep
}
