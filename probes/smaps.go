package probes

import (
	"bytes"
	"fmt"
	"slices"
	"syscall"

	"github.com/prometheus/procfs"

	"github.com/vitals-dev/vitals/model"
)

// Per-process memory detail for the Memory tab: /proc/PID/smaps_rollup read
// on demand, and MemTotal for %MEM. (The memory cgroup of a process is
// parsed by MemoryCgroupPath in cgroup.go.)
//
// smaps_rollup walks the whole address space under the mm lock: measured here
// (BenchmarkSmapsRollupRead, BenchmarkProcessScanDemand) at about 11 µs for a
// `sleep` and 20–50 µs for the largest processes, and 31 µs in
// shared/notes/procfs.md — three to ten times a whole idle process's scan.
// So the scanner reads it only for the processes model.Demand names (the rows
// on screen: 40 rows add 1–2 ms to a 5 ms scan of 2,000 processes). All
// (the user sorts by a detail column, which needs every row's value) reads
// every process: at about 30 µs each, some 60 ms per scan of 2,000 — paid
// only while that sort is on.

// smapsRollup is what the scanner takes from /proc/PID/smaps_rollup, in bytes.
type smapsRollup struct {
	RSS, PSS                   uint64
	SharedClean, SharedDirty   uint64
	PrivateClean, PrivateDirty uint64
	Swap                       uint64
}

// USS is the unique set size: the private pages, what exiting would free.
func (m *smapsRollup) USS() uint64 { return m.PrivateClean + m.PrivateDirty }

// Shared is the resident pages the process shares with at least one other.
func (m *smapsRollup) Shared() uint64 { return m.SharedClean + m.SharedDirty }

// parseSmapsRollup parses smaps_rollup in place: a header line naming the
// address range, then "Key:   value kB" lines. Every field the scanner uses
// must be present. Keys are matched whole ("Pss" is not "Pss_Dirty", "Swap"
// not "SwapPss").
func parseSmapsRollup(b []byte, m *smapsRollup) bool {
	const (
		haveRSS = 1 << iota
		havePSS
		haveSharedClean
		haveSharedDirty
		havePrivateClean
		havePrivateDirty
		haveSwap
		haveAll = 1<<iota - 1
	)
	have := 0
	for len(b) > 0 {
		var line []byte
		line, b = cutLine(b)
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		var dst *uint64
		var bit int
		// A switch on string(bytes) compares without converting.
		switch string(line[:colon]) {
		case "Rss":
			dst, bit = &m.RSS, haveRSS
		case "Pss":
			dst, bit = &m.PSS, havePSS
		case "Shared_Clean":
			dst, bit = &m.SharedClean, haveSharedClean
		case "Shared_Dirty":
			dst, bit = &m.SharedDirty, haveSharedDirty
		case "Private_Clean":
			dst, bit = &m.PrivateClean, havePrivateClean
		case "Private_Dirty":
			dst, bit = &m.PrivateDirty, havePrivateDirty
		case "Swap":
			dst, bit = &m.Swap, haveSwap
		default:
			continue // the header ("...-... ---p 00000000 00:00 0 [rollup]") and other keys
		}
		f, rest := nextField(line[colon+1:])
		v, ok := parseDecimal(f)
		if unit, _ := nextField(rest); !ok || string(unit) != "kB" || v > 1<<54 {
			return false
		}
		*dst = v << 10
		have |= bit
	}
	return have == haveAll
}

// smapsOutcome is what a failed or successful smaps_rollup read means for
// the process's memory detail.
type smapsOutcome int

const (
	smapsRead   smapsOutcome = iota
	smapsGone                // exited meanwhile (or a kernel before 4.14, without the file): keep what was read before
	smapsDenied              // not permitted: the detail shows "denied"
	smapsFailed              // anything else: keep what was read before
)

// smapsErrnoOutcome maps the error of opening or reading smaps_rollup.
// Reading it needs ptrace-read access to the process (PTRACE_MODE_READ): an
// unprivileged vitals gets EACCES for other users' processes (and EPERM
// under some LSMs). A process without an address space gives ESRCH, as one
// that has exited does; kernel threads and zombies are told apart by
// stat before the read is tried (see hasNoUserMemory).
func smapsErrnoOutcome(errno syscall.Errno) smapsOutcome {
	switch errno {
	case 0:
		return smapsRead
	case syscall.ENOENT, syscall.ESRCH:
		return smapsGone
	case syscall.EACCES, syscall.EPERM:
		return smapsDenied
	}
	return smapsFailed
}

// hasNoUserMemory reports a task without an address space: a kernel thread,
// a zombie (its memory is released before it becomes one) or a process
// past that point of exiting. stat shows a vsize of 0 exactly when the task
// has no mm, which is also when smaps_rollup fails with ESRCH.
func hasNoUserMemory(st *procStat) bool {
	return st.VSize == 0
}

// demandLookup answers "does the UI want this process's memory detail?" for
// one scan. The keys are a sorted copy kept in a reused slice, so a scan
// allocates nothing once the slice has grown to the largest demand seen.
type demandLookup struct {
	all  bool
	keys []model.ProcKey
}

func compareProcKeys(a, b model.ProcKey) int {
	if a.PID != b.PID {
		return int(a.PID) - int(b.PID)
	}
	switch {
	case a.StartTicks < b.StartTicks:
		return -1
	case a.StartTicks > b.StartTicks:
		return 1
	}
	return 0
}

// reset takes the set wanted for this scan.
func (d *demandLookup) reset(set model.DemandSet) {
	d.all = set.All
	d.keys = append(d.keys[:0], set.Keys...)
	if !slices.IsSortedFunc(d.keys, compareProcKeys) {
		slices.SortFunc(d.keys, compareProcKeys)
	}
}

func (d *demandLookup) wants(key model.ProcKey) bool {
	if d.all {
		return true
	}
	if len(d.keys) == 0 {
		return false
	}
	_, found := slices.BinarySearchFunc(d.keys, key, compareProcKeys)
	return found
}

// readMemTotal reads MemTotal from <procRoot>/meminfo in bytes, with the
// same parser as the memory probe.
func readMemTotal(procRoot string) (uint64, error) {
	pfs, err := procfs.NewFS(procRoot)
	if err != nil {
		return 0, err
	}
	mi, err := pfs.Meminfo()
	if err != nil {
		return 0, err
	}
	if mi.MemTotalBytes == nil {
		return 0, fmt.Errorf("%s/meminfo: no MemTotal line", procRoot)
	}
	return *mi.MemTotalBytes, nil
}
