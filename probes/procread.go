package probes

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"syscall"
	"unsafe"
)

// Low-level, allocation-free reading of /proc for the process scanner. The
// scanner reads three or four small files for every process every second, so
// this file avoids everything that allocates or costs extra syscalls on that
// path: os.Open (which adds fcntl and epoll_ctl per file, see
// shared/notes/procfs.md), string paths, and strconv on strings. Paths are
// built into one reused NUL-terminated buffer and opened relative to an fd of
// the proc root; contents land in one reused buffer and are parsed in place.

// procReader owns the reused buffers. It is not safe for concurrent use.
type procReader struct {
	rootFD int    // the proc root (or a fixture tree), opened O_DIRECTORY
	path   []byte // relative path being built, NUL-terminated before use
	buf    []byte // contents of the last file read
	dents  []byte // getdents64 buffer

	// Files read every scan (stat, schedstat) are kept open and re-read
	// with pread: open+close is about 3.5 µs of the 5–8 µs such a file
	// costs. A kept fd refers to the task it was opened for, so after that
	// task exits it fails (ESRCH) even if the pid is reused, and the path
	// is opened afresh: the cache cannot mix two processes up.
	kept      map[int32]*keptFiles
	keptFDs   int // open fds in kept
	keptLimit int // at most this many, well under RLIMIT_NOFILE
	schedFDs  int // the schedstat fds among them
	// processes is how many processes the scan lists: the schedstat fds
	// they need are held back from the other files' share of the budget.
	processes int
	// sameTask is set by readKept when the data came through an fd kept
	// since an earlier scan: then it is certainly the same process.
	sameTask bool
}

// The files kept open per process, by index.
const (
	keptStat = iota
	keptSchedstat
	keptStatm
	keptIO
	keptCount
)

var keptNames = [keptCount]string{"stat", "schedstat", "statm", "io"}

type keptFiles struct {
	fd  [keptCount]int // -1 when not open
	gen uint64         // the last scan that used the entry
}

const (
	procReadInitial = 4 << 10  // status is about 1.5 KiB; stat and schedstat far less
	procDentsSize   = 32 << 10 // about 1,000 /proc entries per getdents64 call
)

func newProcReader(root string) (*procReader, error) {
	fd, err := syscall.Open(root, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return &procReader{
		rootFD:    fd,
		path:      make([]byte, 0, 64),
		buf:       make([]byte, procReadInitial),
		dents:     make([]byte, procDentsSize),
		kept:      map[int32]*keptFiles{},
		keptLimit: keptFDLimit(),
	}, nil
}

// fdHeadroom is how many fds the scanner leaves to everything else before
// it keeps any: the eBPF objects (about 25), the terminal, the other
// probes' files, pcstat's descriptors of the process it measures, and the
// scanner's own open/read/close of the files it does not keep.
const fdHeadroom = 256

// keptFDLimit is how many fds the scanner may keep open: half of what the
// fd limit leaves after fdHeadroom (Go raises the soft limit to the hard
// one at start-up), at most 16,384. Under a small limit (ulimit -n 32 or
// 512) it keeps none or few and reads by open/read/close.
func keptFDLimit() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	cur := min(lim.Cur, 1<<20)
	if cur <= fdHeadroom {
		return 0
	}
	return int(min((cur-fdHeadroom)/2, 16384))
}

// shed closes half of the kept fds and lowers the limit to what is left,
// after an open failed for want of fds (the limit was lowered under us, or
// something else in vitals holds more than fdHeadroom): the scan goes on
// by open/read/close instead of failing.
func (r *procReader) shed() {
	r.keptLimit = r.keptFDs / 2
	for pid := range r.kept {
		if r.keptFDs <= r.keptLimit {
			break
		}
		r.forget(pid)
	}
}

func (r *procReader) close() error {
	for pid := range r.kept {
		r.forget(pid)
	}
	if r.rootFD < 0 {
		return nil
	}
	err := syscall.Close(r.rootFD)
	r.rootFD = -1
	return err
}

// readKept reads file (keptStat, keptSchedstat, ...) of pid: by pread on the fd
// kept from an earlier scan, or by opening the path and, while under the
// limit, keeping the fd. gen marks the entry as used by this scan.
func (r *procReader) readKept(pid int32, file int, gen uint64) ([]byte, syscall.Errno) {
	r.sameTask = false
	k := r.kept[pid]
	if k != nil {
		k.gen = gen
		if fd := k.fd[file]; fd >= 0 {
			data, errno := r.pread(fd)
			if errno == 0 && len(data) > 0 {
				r.sameTask = true
				return data, 0
			}
			// The task it was opened for has gone: the pid may now be
			// another process, so open the path again.
			r.closeKept(k, file)
		}
	}
	r.pidPath(pid, keptNames[file])
	// schedstat fds come first: one per process is what the idle fast path
	// needs to skip stat. The other files (stat, statm, io) get what the
	// budget has beyond one schedstat fd for every listed process, so with
	// many processes every one keeps its schedstat fd (at 10,000 processes
	// and a 20,000 fd limit: all of them) and the rest is read by path,
	// while with few every file stays open (2,000 processes: 8,000 fds).
	reserve := 0
	if file != keptSchedstat {
		reserve = max(r.processes-r.schedFDs, 0)
	}
	if r.keptFDs+reserve >= r.keptLimit {
		return r.readPath(0)
	}
	fd, errno := r.openPath(syscall.O_RDONLY)
	if errno != 0 {
		return nil, errno
	}
	data, errno := r.pread(fd)
	if errno != 0 || len(data) == 0 {
		rawClose(fd)
		return data, errno
	}
	if k == nil {
		k = &keptFiles{gen: gen}
		for i := range k.fd {
			k.fd[i] = -1
		}
		r.kept[pid] = k
	}
	k.fd[file] = fd
	r.keptFDs++
	if file == keptSchedstat {
		r.schedFDs++
	}
	return data, 0
}

// forget closes the fds kept for pid.
func (r *procReader) forget(pid int32) {
	k := r.kept[pid]
	if k == nil {
		return
	}
	for i, fd := range k.fd {
		if fd >= 0 {
			r.closeKept(k, i)
		}
	}
	delete(r.kept, pid)
}

// closeKept closes the kept fd of file in k.
func (r *procReader) closeKept(k *keptFiles, file int) {
	rawClose(k.fd[file])
	k.fd[file] = -1
	r.keptFDs--
	if file == keptSchedstat {
		r.schedFDs--
	}
}

// trim rebuilds the kept-fd map (after a burst: maps never shrink).
func (r *procReader) trim() {
	kept := make(map[int32]*keptFiles, len(r.kept))
	for k, v := range r.kept {
		kept[k] = v
	}
	r.kept = kept
}

// forgetUnused closes the fds of pids the scan gen did not read.
func (r *procReader) forgetUnused(gen uint64) {
	for pid, k := range r.kept {
		if k.gen != gen {
			r.forget(pid)
		}
	}
}

// pread reads a whole small file from offset 0 into the reused buffer,
// growing it if the file fills it. procfs regenerates the contents on a
// read at offset 0, so one open fd serves every scan.
func (r *procReader) pread(fd int) ([]byte, syscall.Errno) {
	for {
		n, _, e := syscall.Syscall6(syscall.SYS_PREAD64, uintptr(fd),
			uintptr(unsafe.Pointer(&r.buf[0])), uintptr(len(r.buf)), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return nil, e
		}
		if int(n) < len(r.buf) {
			return r.buf[:n], 0
		}
		r.buf = make([]byte, 2*len(r.buf))
	}
}

// pidPath sets the path to "<pid>/<name>".
func (r *procReader) pidPath(pid int32, name string) {
	r.path = strconv.AppendInt(r.path[:0], int64(pid), 10)
	r.path = append(r.path, '/')
	r.path = append(r.path, name...)
}

// taskPath sets the path to "<pid>/task/<tid>/<name>", or "<pid>/task" when
// name is empty.
func (r *procReader) taskPath(pid, tid int32, name string) {
	r.path = strconv.AppendInt(r.path[:0], int64(pid), 10)
	r.path = append(r.path, "/task"...)
	if name == "" {
		return
	}
	r.path = append(r.path, '/')
	r.path = strconv.AppendInt(r.path, int64(tid), 10)
	r.path = append(r.path, '/')
	r.path = append(r.path, name...)
}

// openPath opens the current path relative to the root with raw openat:
// syscall.Openat would convert the path to a new C string on every call.
func (r *procReader) openPath(flags int) (int, syscall.Errno) {
	r.path = append(r.path, 0)
	p := r.path
	r.path = r.path[:len(r.path)-1]
	for {
		fd, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(r.rootFD),
			uintptr(unsafe.Pointer(&p[0])), uintptr(flags|syscall.O_CLOEXEC), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if (e == syscall.EMFILE || e == syscall.ENFILE) && r.keptFDs > 0 {
			r.shed()
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(fd), 0
	}
}

func rawRead(fd int, b []byte) (int, syscall.Errno) {
	for {
		n, _, e := syscall.Syscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), 0
	}
}

func rawClose(fd int) {
	syscall.Syscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
}

// readPath reads the file at the current path into the reused buffer, at most
// limit bytes (0: no limit), and returns the contents, valid until the next
// read. The buffer grows (rarely) to fit the largest file read.
//
// A read shorter than the space offered is taken as end of file: regular
// files only return short at EOF, and procfs show-files (stat, status,
// schedstat, cmdline) hand over everything that fits in one read. That saves
// the second read(2) that would only return 0.
func (r *procReader) readPath(limit int) ([]byte, syscall.Errno) {
	fd, errno := r.openPath(syscall.O_RDONLY)
	if errno != 0 {
		return nil, errno
	}
	n := 0
	for {
		if limit > 0 && n >= limit {
			break
		}
		if n == len(r.buf) {
			size := 2 * len(r.buf)
			if limit > 0 && size > limit {
				size = limit
			}
			grown := make([]byte, size)
			copy(grown, r.buf[:n])
			r.buf = grown
		}
		space := r.buf[n:]
		if limit > 0 && len(space) > limit-n {
			space = space[:limit-n]
		}
		m, errno := rawRead(fd, space)
		if errno != 0 {
			rawClose(fd)
			return nil, errno
		}
		n += m
		if m < len(space) {
			break
		}
	}
	rawClose(fd)
	return r.buf[:n], 0
}

// listDir appends the numeric names (pids, tids) of the directory fd to dst,
// reading with getdents64 from the fd's current offset to the end.
func (r *procReader) listDir(fd int, dst []int32) ([]int32, syscall.Errno) {
	for {
		n, _, e := syscall.Syscall(syscall.SYS_GETDENTS64, uintptr(fd),
			uintptr(unsafe.Pointer(&r.dents[0])), uintptr(len(r.dents)))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return dst, e
		}
		if n == 0 {
			return dst, 0
		}
		dst = appendNumericDirents(dst, r.dents[:n])
	}
}

// appendNumericDirents appends the names of the linux_dirent64 records in b
// that are directories named by a positive decimal number (the pids of a
// /proc listing).
func appendNumericDirents(dst []int32, b []byte) []int32 { return appendDirentNumbers(dst, b, true) }

// appendDirentNumbers parses linux_dirent64 records (u64 ino, s64 off,
// u16 reclen, u8 type, NUL-terminated name) and appends the names that are
// decimal numbers: with dirs, only directories and only positive numbers
// (pids); without, every entry (fd numbers, 0 included). The one dirent
// parser of the probes: the /proc listing and the fd walks use it.
func appendDirentNumbers(dst []int32, b []byte, dirs bool) []int32 {
	const nameOff = 19
	for len(b) >= nameOff {
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen < nameOff || reclen > len(b) {
			break
		}
		typ := b[18]
		name := b[nameOff:reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		b = b[reclen:]
		if dirs && typ != syscall.DT_DIR && typ != syscall.DT_UNKNOWN {
			continue
		}
		if v, ok := parseDecimal(name); ok && v <= 1<<31-1 {
			if dirs && v == 0 {
				continue
			}
			dst = append(dst, int32(v))
		}
	}
	return dst
}

// listPath lists the numeric entries of the directory at the current path.
func (r *procReader) listPath(dst []int32) ([]int32, syscall.Errno) {
	fd, errno := r.openPath(syscall.O_RDONLY | syscall.O_DIRECTORY)
	if errno != 0 {
		return dst, errno
	}
	dst, errno = r.listDir(fd, dst)
	rawClose(fd)
	return dst, errno
}

// listRoot lists the pids in the proc root, rewinding the kept fd first.
func (r *procReader) listRoot(dst []int32) ([]int32, syscall.Errno) {
	if _, err := syscall.Seek(r.rootFD, 0, 0); err != nil {
		if errno, ok := err.(syscall.Errno); ok {
			return dst, errno
		}
		return dst, syscall.EIO
	}
	return r.listDir(r.rootFD, dst)
}

// vanishedErrno reports the errors a process that exited while we read it
// produces: its directory is gone (ENOENT) or its task is (ESRCH).
func vanishedErrno(e syscall.Errno) bool {
	return e == syscall.ENOENT || e == syscall.ESRCH
}

// parseDecimal parses b, which must be all ASCII digits, without allocating.
func parseDecimal(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseSigned parses an optionally negative decimal.
func parseSigned(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	v, ok := parseDecimal(b)
	if !ok || v > 1<<63 || (!neg && v > 1<<63-1) {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

// cutLine splits b at its first newline: the line without it, and the rest
// (nil after the last line). Every line-oriented parser here walks its
// buffer with it, allocation-free.
func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// nextField returns the next run of non-blank bytes in b and the rest.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' {
		j++
	}
	return b[i:j], b[j:]
}

// procStat is what the scanner takes from /proc/PID/stat. Comm aliases the
// read buffer.
type procStat struct {
	PID        int32
	Comm       []byte
	State      byte
	PPID       int32
	MinFlt     uint64
	MajFlt     uint64
	UTime      uint64 // clock ticks
	STime      uint64
	Priority   int32 // parsed for completeness; model.Process has no field for it yet
	Nice       int32
	NumThreads int32
	StartTicks uint64
	VSize      uint64 // bytes
	RSSPages   uint64
	Processor  int32
	// BlkioTicks is field 42, delayacct_blkio_ticks: the main thread's
	// time waiting for block I/O, clock ticks (0 unless the kernel
	// accounts delays). BlkioOK: the field was there.
	BlkioTicks uint64
	BlkioOK    bool
}

// parseProcStat parses /proc/PID/stat (proc(5)). Comm is the text between the
// first '(' and the last ')': a process chooses its own comm and it may hold
// spaces, parentheses and newlines, but the fields after it are numbers.
func parseProcStat(b []byte, st *procStat) bool {
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return false
	}
	pidField, _ := nextField(b[:open])
	pid, ok := parseDecimal(pidField)
	if !ok {
		return false
	}
	st.PID = int32(pid)
	st.Comm = b[open+1 : closing]
	rest := b[closing+1:]
	// Fields after comm are numbered from 3 (state) as in proc(5); up
	// to 39 they exist on every kernel we run on, 40 to 42 since 2.6.18.
	var f []byte
	for n := 3; n <= 42; n++ {
		f, rest = nextField(rest)
		if len(f) == 0 {
			return n > 39
		}
		switch n {
		case 3:
			st.State = f[0]
		case 4, 18, 19, 20, 39:
			v, ok := parseSigned(f)
			if !ok {
				return false
			}
			switch n {
			case 4:
				st.PPID = int32(v)
			case 18:
				st.Priority = int32(v)
			case 19:
				st.Nice = int32(v)
			case 20:
				st.NumThreads = int32(v)
			case 39:
				st.Processor = int32(v)
			}
		case 10, 12, 14, 15, 22, 23, 24, 42:
			v, ok := parseDecimal(f)
			if !ok {
				return false
			}
			switch n {
			case 10:
				st.MinFlt = v
			case 12:
				st.MajFlt = v
			case 14:
				st.UTime = v
			case 15:
				st.STime = v
			case 22:
				st.StartTicks = v
			case 23:
				st.VSize = v
			case 24:
				st.RSSPages = v
			case 42:
				st.BlkioTicks, st.BlkioOK = v, true
			}
		}
	}
	return true
}

// procStatus is what the scanner takes from /proc/PID/status.
type procStatus struct {
	UID           uint32 // real uid
	VoluntaryCS   uint64
	InvoluntaryCS uint64
}

var (
	statusUID         = []byte("Uid:")
	statusVoluntary   = []byte("voluntary_ctxt_switches:")
	statusInvoluntary = []byte("nonvoluntary_ctxt_switches:")
)

// parseProcStatus scans status line by line for the three fields it needs.
// Lines are "Key:\tvalue..."; the Name line escapes newlines, so a comm
// cannot forge a line.
func parseProcStatus(b []byte, st *procStatus) bool {
	const (
		haveUID = 1 << iota
		haveVol
		haveInvol
		haveAll = haveUID | haveVol | haveInvol
	)
	have := 0
	for len(b) > 0 && have != haveAll {
		var line []byte
		line, b = cutLine(b)
		if len(line) == 0 {
			continue
		}
		switch line[0] {
		case 'U':
			// The first Uid: line is the one (the kernel writes one; a
			// later one in a corrupt file does not override it).
			if bytes.HasPrefix(line, statusUID) && have&haveUID == 0 {
				f, _ := nextField(line[len(statusUID):])
				v, ok := parseDecimal(f)
				if !ok || v > 1<<32-1 {
					return false
				}
				st.UID = uint32(v)
				have |= haveUID
			}
		case 'v':
			if bytes.HasPrefix(line, statusVoluntary) {
				f, _ := nextField(line[len(statusVoluntary):])
				v, ok := parseDecimal(f)
				if !ok {
					return false
				}
				st.VoluntaryCS = v
				have |= haveVol
			}
		case 'n':
			if bytes.HasPrefix(line, statusInvoluntary) {
				f, _ := nextField(line[len(statusInvoluntary):])
				v, ok := parseDecimal(f)
				if !ok {
					return false
				}
				st.InvoluntaryCS = v
				have |= haveInvol
			}
		}
	}
	return have == haveAll
}

// parseSchedstatRunDelay returns field 2 of /proc/PID/schedstat: nanoseconds
// spent runnable but waiting for a CPU.
func parseSchedstatRunDelay(b []byte) (uint64, bool) {
	_, rest := nextField(b)
	f, _ := nextField(rest)
	return parseDecimal(f)
}

// schedstat is /proc/PID/schedstat: time on CPU and waiting for one (ns),
// and how many times the task was switched in.
type schedstat struct {
	runTime, runDelay, switchIns uint64
}

// parseSchedstat parses the three fields; ok is false if any is missing.
func parseSchedstat(b []byte) (st schedstat, ok bool) {
	f, rest := nextField(b)
	var ok1, ok2, ok3 bool
	st.runTime, ok1 = parseDecimal(f)
	f, rest = nextField(rest)
	st.runDelay, ok2 = parseDecimal(f)
	f, _ = nextField(rest)
	st.switchIns, ok3 = parseDecimal(f)
	return st, ok1 && ok2 && ok3
}

// cmdlineText turns /proc/PID/cmdline into display text in place: trailing
// NULs dropped, the NULs between arguments made spaces.
func cmdlineText(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	for i, c := range b {
		if c == 0 {
			b[i] = ' '
		}
	}
	return b
}

// parseStatm returns fields 1 and 2 of /proc/PID/statm: the virtual size
// and the resident set, in pages. Unlike field 24 of stat, which the kernel
// takes from per-CPU counters without summing them, statm's resident count
// is exact (shared/notes/procfs.md: stat read 4-15 % low here).
func parseStatm(b []byte) (size, resident uint64, ok bool) {
	f, rest := nextField(b)
	size, ok1 := parseDecimal(f)
	f, _ = nextField(rest)
	resident, ok2 := parseDecimal(f)
	return size, resident, ok1 && ok2
}

// procIO is /proc/PID/io: the I/O of all the process's threads, living and
// exited, since it started. have says which fields were present (a kernel
// without CONFIG_TASK_IO_ACCOUNTING has only the first four).
type procIO struct {
	rchar, wchar, syscr, syscw                 uint64
	readBytes, writeBytes, cancelledWriteBytes uint64
	have                                       uint8
}

// The procIO fields, as bits of procIO.have.
const (
	ioHaveRchar = 1 << iota
	ioHaveWchar
	ioHaveSyscr
	ioHaveSyscw
	ioHaveReadBytes
	ioHaveWriteBytes
	ioHaveCancelled
	ioHaveChars = ioHaveRchar | ioHaveWchar | ioHaveSyscr | ioHaveSyscw
)

var ioKeys = [...]struct {
	key  []byte
	have uint8
}{
	{[]byte("rchar:"), ioHaveRchar},
	{[]byte("wchar:"), ioHaveWchar},
	{[]byte("syscr:"), ioHaveSyscr},
	{[]byte("syscw:"), ioHaveSyscw},
	{[]byte("read_bytes:"), ioHaveReadBytes},
	{[]byte("write_bytes:"), ioHaveWriteBytes},
	{[]byte("cancelled_write_bytes:"), ioHaveCancelled},
}

// field returns the counter of io that bit names.
func (io *procIO) field(bit uint8) *uint64 {
	switch bit {
	case ioHaveRchar:
		return &io.rchar
	case ioHaveWchar:
		return &io.wchar
	case ioHaveSyscr:
		return &io.syscr
	case ioHaveSyscw:
		return &io.syscw
	case ioHaveReadBytes:
		return &io.readBytes
	case ioHaveWriteBytes:
		return &io.writeBytes
	default:
		return &io.cancelledWriteBytes
	}
}

// parseProcIO parses /proc/PID/io ("key: value" lines) in place. It fails
// on a malformed value or when the four character counters, which every
// kernel with the file has, are missing.
func parseProcIO(b []byte, io *procIO) bool {
	*io = procIO{}
	for len(b) > 0 {
		var line []byte
		line, b = cutLine(b)
		for _, k := range ioKeys {
			if !bytes.HasPrefix(line, k.key) {
				continue
			}
			f, _ := nextField(line[len(k.key):])
			v, ok := parseDecimal(f)
			if !ok {
				return false
			}
			*io.field(k.have) = v
			io.have |= k.have
			break
		}
	}
	return io.have&ioHaveChars == ioHaveChars
}
