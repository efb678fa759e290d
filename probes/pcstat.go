package probes

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
)

// pcstat methods, as model.ProcessFiles.Method names them.
const (
	pcstatMethodCachestat = "cachestat"
	pcstatMethodMincore   = "mincore"
)

// pcstatMaxFiles is how many files the cache probe keeps for the process
// Demand.FilesOf names (the most cached first).
const pcstatMaxFiles = 50

// pcstatMincoreChunk is how much of a file the mincore fallback maps at a
// time.
const pcstatMincoreChunk = 1 << 30

// Reasons for a partial or empty model.ProcessFiles.
const (
	pcstatReasonNotReadable = "some files not readable (not permitted)"
	// cachestat(2) (since its side-channel fix) and mincore(2) only tell
	// for files we own or may write; mincore says "all resident" for
	// others, so the fallback does not ask.
	pcstatReasonNotMeasurable = "some files not measured (not permitted: neither owner nor writable)"
)

// cachestat is a variable so tests can take the mincore path (as on kernels
// before 6.5, where it fails with ENOSYS).
var cachestat = unix.Cachestat

// pcstatRefreshPerRead is how many files beyond those shown a tracker
// measures again each interval, in turn, so that a file whose caching
// changed rises into the list within a few intervals while a process with
// 19,000 open files costs about 300 measurements a second, not 19,000.
var pcstatRefreshPerRead = 256

// pcstatReasonPathTooLong: readlink of the descriptor fails for a path
// longer than PATH_MAX; the file is listed by device and inode instead.
var pcstatReasonPathTooLong = fmt.Sprintf("some paths are longer than PATH_MAX (%d bytes): shown by device and inode", unix.PathMax)

// ReadProcessFiles is pcstat for one process: its open regular files (each
// once, however many descriptors it holds on it) and how many of their pages
// are in the page cache, the most cached first, at most maxFiles of them (0:
// no limit). Page counts are in 4 KiB pages, as everywhere in model.Cache.
// It measures every file; a pcstatTracker measures, interval after
// interval, mostly those shown.
//
// key.PID must still have key.StartTicks, or the result is empty with the
// reason that the process exited. Every access after that check goes
// through a descriptor of the /proc/PID directory it checked, which the
// kernel binds to that process: if the process exits and its pid is reused
// meanwhile, the lookups fail rather than reach the newcomer's files.
//
// Each file is opened anew through /proc/PID/fd/N, read-only (without
// updating its access time where permitted), and measured with cachestat(2)
// (Linux 6.5+; it also counts dirty pages) or, where that syscall does not
// exist, by mapping the file and asking mincore(2) (no dirty count). Files
// we may not open are skipped, and so are files we neither own nor may
// write (cachestat refuses them with EPERM and mincore would report them
// all resident); the reason says so. Paths are the descriptors' link text,
// raw and untrusted; a path too long for readlink (over PATH_MAX) is shown
// as its device and inode, and the reason says so.
func ReadProcessFiles(procRoot string, key model.ProcKey, maxFiles int) *model.ProcessFiles {
	var t pcstatTracker
	return t.read(procRoot, key, maxFiles, -1)
}

// pcstatTracker is pcstat of one process over successive intervals: it
// remembers each descriptor's file and its last measurement, and measures
// again only the files shown (the maxFiles most cached), new descriptors,
// and pcstatRefreshPerRead others in turn.
type pcstatTracker struct {
	key   model.ProcKey
	fds   map[string]*pcstatEntry // by descriptor number, as /proc/PID/fd names it
	order []string                // the round-robin of re-measurement
	next  int
}

// pcstatEntry is what a descriptor refers to and its last measurement.
type pcstatEntry struct {
	id       pcstatFileID
	regular  bool
	measured bool // fr holds a measurement
	fr       model.FileResidency
	reason   string // why it is not measured, when not
	method   string
}

// Read is ReadProcessFiles for key, measuring what is shown and a bounded
// number of others. A different key starts over.
func (t *pcstatTracker) Read(procRoot string, key model.ProcKey, maxFiles int) *model.ProcessFiles {
	return t.read(procRoot, key, maxFiles, pcstatRefreshPerRead)
}

// read lists the process's descriptors and measures: every file when
// refresh < 0 or on the first call for key; else new descriptors, the files
// shown last time and refresh others.
func (t *pcstatTracker) read(procRoot string, key model.ProcKey, maxFiles, refresh int) *model.ProcessFiles {
	if t.key != key || t.fds == nil {
		*t = pcstatTracker{key: key, fds: map[string]*pcstatEntry{}}
		refresh = -1
	}
	pf := &model.ProcessFiles{PID: key.PID, StartTicks: key.StartTicks, Method: pcstatMethodCachestat}
	if procRoot == "" {
		procRoot = "/proc"
	}
	exited := func() *model.ProcessFiles {
		t.fds = nil
		pf.Files, pf.Reason = nil, fmt.Sprintf("process %d has exited", key.PID)
		return pf
	}
	if key.PID <= 0 {
		return exited()
	}
	dir := filepath.Join(procRoot, strconv.Itoa(int(key.PID)))
	dirFD, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if pcstatGone(err) {
			return exited()
		}
		pf.Reason = fmt.Sprintf("open %s: %v", dir, err)
		return pf
	}
	defer unix.Close(dirFD)

	if ok, err := pcstatSameProcess(dirFD, key); err != nil {
		if pcstatGone(err) {
			return exited()
		}
		pf.Reason = fmt.Sprintf("read %s/stat: %v", dir, err)
		return pf
	} else if !ok {
		return exited()
	}

	fdFD, err := unix.Openat(dirFD, "fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return pcstatListError(pf, dir, err, exited)
	}
	fdDir := os.NewFile(uintptr(fdFD), dir+"/fd")
	defer fdDir.Close()
	names, err := fdDir.Readdirnames(-1)
	if err != nil {
		return pcstatListError(pf, dir, err, exited)
	}

	// What to measure: the files shown last time, then new descriptors,
	// then others in turn.
	shown := map[pcstatFileID]bool{}
	for _, fr := range t.top(maxFiles) {
		shown[fr.id] = true
	}
	listed := make(map[string]bool, len(names))
	var reasons []string
	addReason := func(r string) {
		if r != "" && !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	useMinc := false
	measure := func(name string, e *pcstatEntry) {
		e.measured, e.reason = false, ""
		fr, method, err := pcstatMeasure(fdFD, name, e.id, &useMinc)
		switch {
		case err == nil:
			fr.Path = e.fr.Path
			e.fr, e.method, e.measured = fr, method, true
		case errors.Is(err, errPcstatNotMeasurable):
			e.reason = pcstatReasonNotMeasurable
		case errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM):
			e.reason = pcstatReasonNotReadable
		case errors.Is(err, errPcstatReplaced) || errors.Is(err, unix.ENOENT):
			e.regular = false // the descriptor was closed or reused: look again next time
			delete(t.fds, name)
		default:
			e.reason = fmt.Sprintf("some files not measured (%v)", err)
		}
	}
	var newNames []string
	for _, name := range names {
		if _, err := strconv.Atoi(name); err != nil {
			continue
		}
		listed[name] = true
		e := t.fds[name]
		if e == nil {
			newNames = append(newNames, name)
			continue
		}
		if e.regular && (refresh < 0 || shown[e.id]) {
			measure(name, e)
		}
	}
	for _, name := range newNames {
		e := &pcstatEntry{}
		var st unix.Stat_t
		// Follows the magic link: the file the descriptor refers to.
		if err := unix.Fstatat(fdFD, name, &st, 0); err != nil {
			if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
				addReason(pcstatReasonNotReadable)
			}
			continue // closed since the listing (ENOENT), or gone
		}
		t.fds[name] = e
		t.order = append(t.order, name)
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		e.regular, e.id = true, pcstatFileID{dev: st.Dev, ino: st.Ino}
		path, err := pcstatReadlink(fdFD, name)
		switch {
		case errors.Is(err, unix.ENAMETOOLONG):
			path = fmt.Sprintf("(path longer than PATH_MAX: device %d:%d inode %d)", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
			e.reason = pcstatReasonPathTooLong
		case err != nil:
			delete(t.fds, name)
			continue
		}
		e.fr.Path = path
		reason := e.reason
		measure(name, e)
		if e.reason == "" {
			e.reason = reason
		}
	}
	// Forget descriptors that were closed; measure some others in turn.
	kept := t.order[:0]
	for _, name := range t.order {
		if listed[name] && t.fds[name] != nil {
			kept = append(kept, name)
		} else {
			delete(t.fds, name)
		}
	}
	t.order = kept
	for n := 0; refresh > 0 && n < refresh && len(t.order) > 0; n++ {
		t.next %= len(t.order)
		name := t.order[t.next]
		t.next++
		switch e := t.fds[name]; {
		case e == nil || shown[e.id]:
		case e.regular:
			measure(name, e)
		default:
			delete(t.fds, name) // look again: the number may now be a file's
		}
	}
	if useMinc {
		pf.Method = pcstatMethodMincore // even with no file measured
	}

	// The process may have exited while we listed: its descriptors were
	// closed, so what we saw is partial.
	if ok, err := pcstatSameProcess(dirFD, key); err != nil || !ok {
		return exited()
	}
	for _, e := range t.fds {
		if e.regular {
			addReason(e.reason)
		}
	}
	slices.Sort(reasons)
	for _, e := range t.top(maxFiles) {
		if e.method != "" {
			pf.Method = e.method
		}
		pf.Files = append(pf.Files, e.fr)
	}
	pf.Reason = strings.Join(reasons, "; ")
	return pf
}

// top is the measured files, each once, the most cached first, at most
// maxFiles (0: all).
func (t *pcstatTracker) top(maxFiles int) []*pcstatEntry {
	seen := map[pcstatFileID]bool{}
	var files []*pcstatEntry
	for _, e := range t.fds {
		if e.regular && e.measured && !seen[e.id] {
			seen[e.id] = true
			files = append(files, e)
		}
	}
	slices.SortFunc(files, func(a, b *pcstatEntry) int {
		if c := cmp.Compare(b.fr.CachedPages, a.fr.CachedPages); c != 0 {
			return c
		}
		return strings.Compare(a.fr.Path, b.fr.Path)
	})
	if maxFiles > 0 && len(files) > maxFiles {
		files = files[:maxFiles]
	}
	return files
}

type pcstatFileID struct {
	dev, ino uint64
}

var (
	errPcstatReplaced      = errors.New("descriptor now refers to another file")
	errPcstatNotMeasurable = errors.New("not permitted to measure: neither owner nor writable")
)

// pcstatGone reports whether err means the process is gone.
func pcstatGone(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}

func pcstatListError(pf *model.ProcessFiles, dir string, err error, exited func() *model.ProcessFiles) *model.ProcessFiles {
	switch {
	case pcstatGone(err):
		return exited()
	case errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM):
		pf.Reason = fmt.Sprintf("not permitted to list the open files of process %d", pf.PID)
	default:
		pf.Reason = fmt.Sprintf("list %s/fd: %v", dir, err)
	}
	return pf
}

// pcstatSameProcess reads stat through the process directory's descriptor
// and reports whether it is still the process key names, alive.
func pcstatSameProcess(dirFD int, key model.ProcKey) (bool, error) {
	fd, err := unix.Openat(dirFD, "stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	f := os.NewFile(uintptr(fd), "stat")
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return false, err
	}
	if len(data) == 0 {
		return false, nil
	}
	var st procStat
	if !parseProcStat(data, &st) {
		return false, errors.New("malformed")
	}
	return st.StartTicks == key.StartTicks && st.State != 'Z' && st.State != 'X', nil
}

// pcstatReadlink returns the link text of fd/name, raw.
func pcstatReadlink(fdFD int, name string) (string, error) {
	for size := unix.PathMax + 64; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(fdFD, name, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) || size >= 1<<20 {
			return string(buf[:n]), nil
		}
	}
}

// pcstatMeasure opens fd/name and counts its cached pages. It checks that
// the file opened is the one stat saw (id): the descriptor number may have
// been closed and reused since. *useMincore is set once cachestat(2) turns
// out not to exist, so that later files go straight to mincore.
func pcstatMeasure(fdFD int, name string, id pcstatFileID, useMincore *bool) (model.FileResidency, string, error) {
	var fr model.FileResidency
	// O_NONBLOCK: should the number now be a FIFO's, open must not wait.
	flags := unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK
	fd, err := unix.Openat(fdFD, name, flags|unix.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) {
		// O_NOATIME needs us to own the file (or CAP_FOWNER).
		fd, err = unix.Openat(fdFD, name, flags, 0)
	}
	if err != nil {
		return fr, "", err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fr, "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Dev != id.dev || st.Ino != id.ino {
		return fr, "", errPcstatReplaced
	}
	size := uint64(max(st.Size, 0))
	fr.SizeBytes = size
	fr.Pages = (size + cachePageSize - 1) / cachePageSize
	pageSize := uint64(os.Getpagesize())
	// Kernel counts are in pages of pageSize; the model's unit is 4 KiB.
	scale := max(pageSize/cachePageSize, 1)

	if !*useMincore {
		var cs unix.Cachestat_t
		err := cachestat(uint(fd), &unix.CachestatRange{Off: 0, Len: 0}, &cs, 0)
		if err == nil {
			fr.CachedPages = cs.Cache * scale
			fr.DirtyPages = cs.Dirty * scale
			return fr, pcstatMethodCachestat, nil
		}
		if errors.Is(err, unix.EPERM) {
			return fr, "", errPcstatNotMeasurable
		}
		if !errors.Is(err, unix.ENOSYS) {
			return fr, "", fmt.Errorf("cachestat: %w", err)
		}
		*useMincore = true
	}
	if !pcstatMincorePermitted(fdFD, name, &st) {
		return fr, "", errPcstatNotMeasurable
	}
	cached, err := pcstatMincore(fd, size, pageSize)
	if err != nil {
		return fr, "", err
	}
	fr.CachedPages = cached * scale
	return fr, pcstatMethodMincore, nil
}

// pcstatMincorePermitted is the kernel's can_do_mincore (since 5.0) for a
// file: we own it, have CAP_FOWNER, or may write it. For other files
// mincore(2) reports every page resident, whatever the truth.
func pcstatMincorePermitted(fdFD int, name string, st *unix.Stat_t) bool {
	if st.Uid == uint32(unix.Geteuid()) || pcstatHaveCapFowner() {
		return true
	}
	return unix.Faccessat(fdFD, name, unix.W_OK, unix.AT_EACCESS) == nil
}

// pcstatHaveCapFowner reports whether CAP_FOWNER is in our effective set.
func pcstatHaveCapFowner() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[unix.CAP_FOWNER/32].Effective&(1<<(unix.CAP_FOWNER%32)) != 0
}

// pcstatMincore maps the file a chunk at a time and counts the pages
// mincore(2) says are resident. Nothing is read: mincore does not fault
// pages in.
func pcstatMincore(fd int, size, pageSize uint64) (uint64, error) {
	var cached uint64
	var vec []byte
	for off := uint64(0); off < size; off += pcstatMincoreChunk {
		n := min(size-off, pcstatMincoreChunk)
		m, err := unix.Mmap(fd, int64(off), int(n), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			return 0, fmt.Errorf("mmap: %w", err)
		}
		pages := int((n + pageSize - 1) / pageSize)
		if cap(vec) < pages {
			vec = make([]byte, pages)
		}
		vec = vec[:pages]
		err = mincore(m, vec)
		unix.Munmap(m)
		if err != nil {
			return 0, fmt.Errorf("mincore: %w", err)
		}
		for _, v := range vec {
			cached += uint64(v & 1)
		}
	}
	return cached, nil
}

// mincore is mincore(2): golang.org/x/sys/unix has no wrapper on Linux.
func mincore(b, vec []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return errno
	}
	return nil
}
