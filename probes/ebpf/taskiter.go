package ebpf

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/bpf/taskiter"
	"github.com/vitals-dev/vitals/model"
)

// TierIter is the task iterator's one tier: an iter/task program read
// through a seq_file (Linux 5.8+; the exact-RSS offsets need 5.19+).
const TierIter = "iter"

// TaskRecord is one task as the iterator writes it (bpf/taskiter's struct
// task_rec): see taskiter.bpf.c for what each field sums.
type TaskRecord = taskiter.TaskIterTaskRec

// TaskRecordSize is the size of one record in the iterator's output.
const TaskRecordSize = int(unsafe.Sizeof(TaskRecord{}))

// TaskRecord flags (REC_* in taskiter.bpf.c).
const (
	RecLeader    = 0x1
	RecMM        = 0x2
	RecSched     = 0x4
	RecIOChars   = 0x8
	RecIOBytes   = 0x10
	RecRSSApprox = 0x20
	// RecDelay: BlkioDelay is read (the task has delay accounting).
	RecDelay = 0x40
)

// maxIterCPUs is MAX_CPUS in taskiter.bpf.c.
const maxIterCPUs = 1024

// TaskIterFeature is the task iterator: one tier, loaded and attached like
// every other feature's.
func TaskIterFeature() FeatureSpec {
	return FeatureSpec{
		Name: "taskiter",
		Spec: func() (*ebpf.CollectionSpec, error) {
			spec, err := taskiter.LoadTaskIter()
			if err != nil {
				return nil, err
			}
			n, err := possibleCPUs()
			if err != nil {
				return nil, err
			}
			if n > maxIterCPUs {
				return nil, fmt.Errorf("%d possible CPUs: the program handles %d", n, maxIterCPUs)
			}
			if err := spec.Variables[taskiter.TaskIterVarNrCpus].Set(uint32(n)); err != nil {
				return nil, err
			}
			return spec, nil
		},
		Tiers: []Tier{{
			Name:     TierIter,
			Programs: []string{taskiter.TaskIterProgDumpTask},
			Attach: func(coll *ebpf.Collection, _ *ebpf.CollectionSpec) ([]link.Link, error) {
				l, err := link.AttachIter(link.IterOptions{Program: coll.Programs[taskiter.TaskIterProgDumpTask]})
				if err != nil {
					return nil, err
				}
				return []link.Link{l}, nil
			},
		}},
	}
}

// possibleCPUs is how many CPUs the kernel has per-CPU areas for.
func possibleCPUs() (int, error) {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		return 0, err
	}
	last := 0
	for _, r := range strings.Split(strings.TrimSpace(string(b)), ",") {
		_, hi, _ := strings.Cut(r, "-")
		if hi == "" {
			hi = r
		}
		v, err := strconv.Atoi(hi)
		if err != nil {
			return 0, fmt.Errorf("/sys/devices/system/cpu/possible: %q", b)
		}
		last = max(last, v)
	}
	return last + 1, nil
}

// TaskIter is the loaded task iterator. Read runs it once.
type TaskIter struct {
	loaded *Loaded
	linkFD int
}

// OpenTaskIter loads and attaches the task iterator through sess, then
// runs it once to check that it sees this process (a vitals in a pid
// namespace other than the kernel's initial one would see pids that /proc
// does not show; it falls back instead).
func OpenTaskIter(sess *Session, opts LoadOptions) (*TaskIter, model.Feature, error) {
	l, rep := Load(sess, TaskIterFeature(), opts)
	if l == nil {
		return nil, rep, errors.New(rep.Reason)
	}
	var lk *link.Iter
	for _, x := range l.links {
		if it, ok := x.(*link.Iter); ok {
			lk = it
		}
	}
	if lk == nil {
		l.Close()
		return nil, failed(rep, "no iterator link"), errors.New("no iterator link")
	}
	t := &TaskIter{loaded: l, linkFD: lk.FD()}
	buf, err := t.Read(make([]uint64, 4096))
	if err == nil && !seesSelf(buf) {
		err = errors.New("the iterator does not see this process under its pid (another pid namespace?)")
	}
	if err != nil {
		t.Close()
		return nil, failed(rep, err.Error()), err
	}
	return t, rep, nil
}

// failed turns an active report into a failed one.
func failed(rep model.Feature, reason string) model.Feature {
	for i := range rep.Tiers {
		if rep.Tiers[i].Status == model.TierActive {
			rep.Tiers[i].Status, rep.Tiers[i].Reason = model.TierFailed, reason
		}
	}
	rep.Tier, rep.Reason = "", reason
	return rep
}

func seesSelf(buf []uint64) bool {
	self := uint32(os.Getpid())
	for _, r := range Records(buf) {
		if r.Tid == self && r.Tgid == self {
			return true
		}
	}
	return false
}

// Records views the words Read returned as records, without copying.
func Records(buf []uint64) []TaskRecord {
	n := len(buf) * 8 / TaskRecordSize
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*TaskRecord)(unsafe.Pointer(&buf[0])), n)
}

// Read runs the iterator once and returns every task's record, in tid
// order, in buf (grown when too small; the caller keeps it for the next
// Read). It allocates nothing when buf is large enough: one bpf(2) to make
// the iterator's fd, a read(2) per 32 KiB of records (the most the kernel
// hands out at once), one close(2).
func (t *TaskIter) Read(buf []uint64) ([]uint64, error) {
	attr := struct{ linkFD, flags uint32 }{uint32(t.linkFD), 0}
	fd, _, e := unix.Syscall(unix.SYS_BPF, unix.BPF_ITER_CREATE, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if e != 0 {
		return buf[:0], fmt.Errorf("create task iterator: %w", e)
	}
	defer unix.Syscall(unix.SYS_CLOSE, fd, 0, 0)
	const chunk = 32 << 10 / 8 // words: the kernel's seq_file buffer
	buf = buf[:cap(buf)]
	n := 0 // bytes
	for {
		if cap(buf)*8-n < chunk*8 {
			grown := make([]uint64, 2*cap(buf)+chunk)
			copy(grown, buf[:(n+7)/8])
			buf = grown
		}
		b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8)[n:]
		m, _, e := unix.Syscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if e == syscall.EINTR || e == syscall.EAGAIN {
			continue
		}
		if e != 0 {
			return buf[:0], fmt.Errorf("read task iterator: %w", e)
		}
		if m == 0 {
			break
		}
		n += int(m)
	}
	if n%TaskRecordSize != 0 {
		return buf[:0], fmt.Errorf("task iterator: %d bytes is not a whole number of %d-byte records", n, TaskRecordSize)
	}
	return buf[:n/8], nil
}

// ProgramIDs are the kernel ids of the loaded program.
func (t *TaskIter) ProgramIDs() []ebpf.ProgramID { return t.loaded.ProgramIDs() }

// Close releases the link, program and maps.
func (t *TaskIter) Close() error {
	if t == nil || t.loaded == nil {
		return nil
	}
	err := t.loaded.Close()
	t.loaded = nil
	return err
}
