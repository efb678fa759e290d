package probes

import (
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// The D-state probe lists the processes the scanner found in
// uninterruptible sleep this frame (it runs after the "process" family and
// reads its part), with the kernel function each sleeps in
// (/proc/PID/wchan, read only for those) and how long it has been seen in D
// in consecutive scans: what is behind "load is high but the CPU is idle".

// maxWchanReads bounds the wchan reads of one frame: a hung NFS server can
// put thousands of processes in D.
const maxWchanReads = 256

// DStateProbe tracks processes in state D across frames.
type DStateProbe struct {
	procRoot string
	// since is when each process was first seen in D in an unbroken run
	// of scans; a process seen out of D is forgotten.
	since, next map[model.ProcKey]time.Time
	buf         []byte
}

// NewDStateProbe makes the probe; procRoot is where wchan is read.
func NewDStateProbe(procRoot string) *DStateProbe {
	if procRoot == "" {
		procRoot = "/proc"
	}
	return &DStateProbe{procRoot: procRoot, since: map[model.ProcKey]time.Time{}, next: map[model.ProcKey]time.Time{}, buf: make([]byte, 128)}
}

func init() {
	Register(Family{Name: "dstate", After: []string{"process"}, New: func(env *Env) (Probe, error) {
		return NewDStateProbe(env.ProcRoot), nil
	}})
}

// Name implements Probe.
func (p *DStateProbe) Name() string { return "dstate" }

// Collect implements Probe: it reads this frame's process list.
func (p *DStateProbe) Collect(t *Tick) (Part, error) {
	if t.Frame == nil || t.Frame.Processes == nil {
		return nil, nil // the scanner has not published yet
	}
	list := p.Scan(t.Frame.Processes, t.Now)
	return func(s *model.Sample) {
		// Keep the disk probe's piece; replace the Disk whole (published
		// samples are shared).
		d := &model.Disk{}
		if s.Disk != nil {
			*d = *s.Disk
		}
		d.DState = list
		s.Disk = d
	}, nil
}

// Scan returns the processes in D among procs, longest in D first.
func (p *DStateProbe) Scan(procs []model.Process, now time.Time) []model.DStateProcess {
	out := []model.DStateProcess{}
	clear(p.next)
	for i := range procs {
		pr := &procs[i]
		if pr.State != "D" {
			continue
		}
		k := pr.Key()
		since, ok := p.since[k]
		if !ok {
			since = now
		}
		p.next[k] = since
		out = append(out, model.DStateProcess{PID: pr.PID, StartTicks: pr.StartTicks, Comm: pr.Comm, User: pr.User, InDS: now.Sub(since).Seconds()})
	}
	p.since, p.next = p.next, p.since
	slices.SortFunc(out, func(a, b model.DStateProcess) int {
		if a.InDS != b.InDS {
			if a.InDS > b.InDS {
				return -1
			}
			return 1
		}
		return int(a.PID) - int(b.PID)
	})
	for i := range out {
		if i >= maxWchanReads {
			out[i].WchanReason = "not read: more than " + strconv.Itoa(maxWchanReads) + " processes in D"
			continue
		}
		out[i].Wchan, out[i].WchanReason = p.wchan(out[i].PID)
	}
	return out
}

// wchan reads /proc/PID/wchan: a kernel symbol, or "0" when the kernel
// will not say (the reader lacks ptrace access to the process, or the
// task is running again).
func (p *DStateProbe) wchan(pid int32) (string, string) {
	path := filepath.Join(p.procRoot, strconv.Itoa(int(pid)), "wchan")
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		if err == syscall.ENOENT || err == syscall.ESRCH {
			return "", "process exited"
		}
		return "", "read " + path + ": " + err.Error()
	}
	defer syscall.Close(fd)
	n, err := syscall.Read(fd, p.buf)
	if err != nil {
		return "", "read " + path + ": " + err.Error()
	}
	s := string(trimSpace(p.buf[:n]))
	if s == "" || s == "0" {
		return "", "the kernel shows 0: no ptrace access to the process (run as root), or it woke up"
	}
	return model.Sanitize(s), ""
}
