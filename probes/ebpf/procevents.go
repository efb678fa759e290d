package ebpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/bpf/procevents"
	"github.com/vitals-dev/vitals/model"
)

// Record types of the procevents ring buffer (enum event_type).
const (
	procEvExec = 1
	procEvExit = 2
)

// exit_event.flags
const (
	exitCPULowerBound = 1
	exitPendingFull   = 2
)

// exec_event.flags
const (
	argsMore  = 1
	argsCut   = 2
	argsNone  = 4
	argsFault = 8
)

// ProcEventsFeature is the exec/exit BPF object with its tiers. The hooks
// are tracepoints (stable, present since long before ring buffers), so
// there is no fentry or kprobe tier: function probes on the exec and exit
// paths would see the same events, slower. argv comes from the classic
// execve/execveat syscall tracepoints in every tier.
func ProcEventsFeature() FeatureSpec {
	argv := []string{"tp_enter_execve", "tp_enter_execveat"}
	return FeatureSpec{
		Name: "procevents",
		Spec: procevents.LoadProcEvents,
		Tiers: []Tier{
			{Name: TierTpBTF, Programs: append([]string{"tpbtf_exec", "tpbtf_exit", "tpbtf_free"}, argv...)},
			{Name: TierRawTp, Programs: append([]string{"rawtp_exec", "rawtp_exit", "rawtp_free"}, argv...)},
			{Name: TierTracepoint, Programs: append([]string{"tp_exec", "tp_exit", "tp_free"}, argv...)},
		},
	}
}

// ProcEvents is the loaded exec/exit feature: a ring buffer of records and
// the per-CPU count of those it could not take.
type ProcEvents struct {
	loaded *Loaded
}

// OpenProcEvents loads and attaches the exec/exit programs through the
// session (nil: a new one). The error is non-nil when no tier runs.
func OpenProcEvents(sess *Session, opts LoadOptions) (*ProcEvents, model.Feature, error) {
	l, rep := Load(sess, ProcEventsFeature(), opts)
	if l == nil {
		return nil, rep, fmt.Errorf("procevents: %s", rep.Reason)
	}
	return &ProcEvents{loaded: l}, rep, nil
}

// Ring is the ring buffer of exec and exit records; Drops the per-CPU
// array whose entry 0 counts records it could not take.
func (p *ProcEvents) Ring() *ebpf.Map  { return p.loaded.Maps["events"] }
func (p *ProcEvents) Drops() *ebpf.Map { return p.loaded.Maps["drops"] }

// FreeMisses is how many times the kernel skipped the release program
// (sched_process_free) because a tracing program was already running on
// that CPU: each may be an exit that goes out as a lower bound.
func (p *ProcEvents) FreeMisses() (uint64, error) {
	for name, prog := range p.loaded.Programs {
		if strings.HasSuffix(name, "_free") {
			st, err := prog.Stats()
			if err != nil {
				return 0, err
			}
			return st.RecursionMisses, nil
		}
	}
	return 0, errors.New("no release program loaded")
}

// Zombie reasons: why an exit's CPU is a lower bound.
const (
	ZombieReason      = "not reaped in time (a zombie: its parent has not waited for it): CPU, faults and I/O as at its exit, without what its other threads used while exiting"
	MissedFreeReason  = "its release was not seen (the kernel skips a tracing program that would run while one is already running on that CPU: another, for classic tracepoints; itself, preempted, for tp_btf and raw_tp): CPU, faults and I/O as at its exit, without what its other threads used while exiting"
	PendingFullReason = "too many exits waiting to be reaped (pending map full): CPU, faults and I/O as at its exit, without what its other threads used while exiting"
)

// TakeStaleExits removes the exits that have waited longer than maxWait
// for their leader's release (zombies) and calls send with each record
// (a ring-buffer exit record, flagged a lower bound). Whoever deletes a
// pending entry sends it: the BPF side does the same at the release, so
// no exit goes out twice. buf is reused between calls.
func (p *ProcEvents) TakeStaleExits(maxWait time.Duration, buf *StaleExitBuf, send func(raw []byte)) error {
	fd := uint32(p.loaded.Maps["pending_exits"].FD())
	now := BootNow()
	buf.keys = buf.keys[:0]
	// The map by hand (bpf(2) on its fd): this runs every frame, on a
	// busy machine with exits in flight every time, and Map.NextKey and
	// Map.Lookup allocate (the error ending every walk, the value's
	// decoding).
	buf.next = mapKeyAttr{mapFD: fd, value: uint64(uintptr(unsafe.Pointer(&buf.nextKey)))}
	for {
		if e := bpfMapCall(unix.BPF_MAP_GET_NEXT_KEY, &buf.next); e == unix.ENOENT {
			break
		} else if e != 0 {
			return fmt.Errorf("pending exits: next key: %w", e)
		}
		buf.key = buf.nextKey
		buf.next.key = uint64(uintptr(unsafe.Pointer(&buf.key)))
		buf.keys = append(buf.keys, buf.key)
		if len(buf.keys) > 1<<16 {
			break
		}
	}
	buf.elem = mapKeyAttr{mapFD: fd, key: uint64(uintptr(unsafe.Pointer(&buf.key))), value: uint64(uintptr(unsafe.Pointer(&buf.val)))}
	for _, k := range buf.keys {
		buf.key = k
		if bpfMapCall(unix.BPF_MAP_LOOKUP_ELEM, &buf.elem) != 0 {
			continue // released meanwhile
		}
		t := buf.val.Ev.H.TimeNs
		if t > now || now-t < uint64(maxWait) {
			continue
		}
		if bpfMapCall(unix.BPF_MAP_LOOKUP_AND_DELETE_ELEM, &buf.elem) != 0 {
			continue // the BPF side took it
		}
		// The record's bytes as the ring buffer would carry them (the
		// generated struct has the C layout).
		send(unsafe.Slice((*byte)(unsafe.Pointer(&buf.val.Ev)), unsafe.Sizeof(buf.val.Ev)))
	}
	return nil
}

// mapKeyAttr is union bpf_attr for the map element commands: key and value
// (for BPF_MAP_GET_NEXT_KEY, the next key) are user addresses; key 0 asks
// for the first key.
type mapKeyAttr struct {
	mapFD uint32
	_     uint32
	key   uint64
	value uint64
	flags uint64
}

func bpfMapCall(cmd uintptr, attr *mapKeyAttr) unix.Errno {
	_, _, e := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(attr)), unsafe.Sizeof(*attr))
	return e
}

// StaleExitBuf is TakeStaleExits' reusable space.
type StaleExitBuf struct {
	next, elem   mapKeyAttr
	key, nextKey uint32
	keys         []uint32
	val          procevents.ProcEventsPendingExit
}

// Tier is the active tier.
func (p *ProcEvents) Tier() string { return p.loaded.Tier }

// ProgramIDs and MapIDs are the kernel ids of what was loaded.
func (p *ProcEvents) ProgramIDs() []ebpf.ProgramID { return p.loaded.ProgramIDs() }

// MapIDs: see ProgramIDs.
func (p *ProcEvents) MapIDs() []ebpf.MapID { return p.loaded.MapIDs() }

// Close detaches the programs and frees the maps.
func (p *ProcEvents) Close() error {
	if p == nil || p.loaded == nil {
		return nil
	}
	err := p.loaded.Close()
	p.loaded = nil
	return err
}

// BootWall converts CLOCK_BOOTTIME nanoseconds (BPF's
// bpf_ktime_get_boot_ns, a task's start_boottime) to wall time.
func BootWall(bootNs uint64) time.Time {
	now := time.Now()
	return now.Add(-time.Duration(BootNow() - bootNs))
}

// BootNow is CLOCK_BOOTTIME now, in ns.
func BootNow() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return uint64(ts.Nano())
}

// ticks converts boot-clock ns to USER_HZ ticks, as /proc/PID/stat field 22.
func ticks(ns uint64) uint64 { return ns / nsPerTick }

const nsPerTick = 10_000_000

var (
	headerSize = int(unsafe.Sizeof(procevents.ProcEventsHeader{}))
	execFixed  = int(unsafe.Offsetof(procevents.ProcEventsExecEvent{}.Args))
	exitSize   = int(unsafe.Sizeof(procevents.ProcEventsExitEvent{}))
)

// DecodeProcEvent turns one procevents ring-buffer record into an event:
// Kind exec with *model.ExecData, or exit with *model.ExitData. The
// cgroup paths are left for the caller (CgroupID is set). It reports false
// for a record it cannot read.
func DecodeProcEvent(raw []byte, ev *model.Event) bool {
	if len(raw) < headerSize {
		return false
	}
	var h procevents.ProcEventsHeader
	if _, err := binary.Decode(raw[:headerSize], binary.NativeEndian, &h); err != nil {
		return false
	}
	ev.Source = model.SourceProcEvents
	ev.Time = BootWall(h.TimeNs)
	ev.PID = int32(h.Pid)
	ev.PPID = int32(h.Ppid)
	ev.StartTicks = ticks(h.StartNs)
	ev.Comm = commString(h.Comm[:])
	switch h.Type {
	case procEvExec:
		if len(raw) < execFixed {
			return false
		}
		count := binary.NativeEndian.Uint32(raw[headerSize:])
		size := binary.NativeEndian.Uint32(raw[headerSize+4:])
		flags := binary.NativeEndian.Uint32(raw[headerSize+8:])
		args := raw[execFixed:]
		if int(size) > len(args) {
			return false
		}
		d := &model.ExecData{TID: h.Tid, UID: h.Uid, CgroupID: h.MemcgId, Args: splitArgs(args[:size], int(count))}
		d.ArgsTruncated = flags&(argsMore|argsCut) != 0
		switch {
		case flags&argsNone != 0:
			d.ArgsMissing = "no execve entry seen (an exec started by the kernel)"
		case flags&argsFault != 0:
			d.ArgsMissing = "an argument could not be read (not paged in)"
		}
		ev.Kind, ev.Data = model.EventExec, d
	case procEvExit:
		if len(raw) < exitSize {
			return false
		}
		var e procevents.ProcEventsExitEvent
		if _, err := binary.Decode(raw[:exitSize], binary.NativeEndian, &e); err != nil {
			return false
		}
		page := float64(unix.Getpagesize())
		d := &model.ExitData{
			UID:         h.Uid,
			CPUS:        model.Known(float64(e.RuntimeNs) / 1e9),
			MaxRSSBytes: model.Known(float64(e.MaxrssPages) * page),
			MinFlt:      model.Known(float64(e.MinFlt)),
			MajFlt:      model.Known(float64(e.MajFlt)),
			ReadBytes:   model.Known(float64(e.ReadBytes)),
			WriteBytes:  model.Known(float64(e.WriteBytes)),
			RChar:       model.Known(float64(e.Rchar)),
			WChar:       model.Known(float64(e.Wchar)),
			Threads:     int(e.NrThreads),
			CgroupID:    h.MemcgId,
		}
		user, system := model.SplitCPU(d.CPUS.V, float64(e.UtimeNs), float64(e.StimeNs))
		d.UserS, d.SystemS = model.Known(user), model.Known(system)
		switch {
		case e.Flags&exitPendingFull != 0:
			d.CPULowerBound, d.CPULowerBoundReason = true, PendingFullReason
		case e.Flags&exitCPULowerBound != 0:
			d.CPULowerBound, d.CPULowerBoundReason = true, ZombieReason
		}
		if h.StartNs != 0 && h.TimeNs >= h.StartNs {
			d.LifetimeS = model.Known(float64(h.TimeNs-h.StartNs) / 1e9)
		}
		d.ExitStatus(e.ExitCode)
		ev.Kind, ev.Data = model.EventExit, d
	default:
		return false
	}
	return true
}

// splitArgs splits NUL-terminated strings (at most n).
func splitArgs(b []byte, n int) []string {
	args := make([]string, 0, n)
	for len(b) > 0 && len(args) < n {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			args = append(args, string(b))
			break
		}
		args = append(args, string(b[:i]))
		b = b[i+1:]
	}
	return args
}
