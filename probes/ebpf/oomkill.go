package ebpf

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/bpf/oomkill"
	"github.com/vitals-dev/vitals/model"
)

// oom_event.flags
const (
	oomHaveRSS        = 1
	oomHaveCgroup     = 2
	oomTriggerCgroup  = 4
	oomGlobal         = 8
	oomHaveTotal      = 16
	oomRSSKB          = 32
	oomPIDHost        = 64
	pageCounterNoMax  = 1 << 50 // pages: above this a memcg has no limit (PAGE_COUNTER_MAX)
	oomEventSizeBytes = int(unsafe.Sizeof(oomkill.OOMKillOomEvent{}))
)

// OOMKillFeature is the OOM-kill BPF object with its tiers, fastest first:
// oom_kill_process (fentry, kprobe) sees the cgroup whose limit was hit
// and the limit the kernel used; oom:mark_victim (tp_btf, raw_tp) the
// victim's own cgroup and limit; the classic mark_victim record has no
// task, so the cgroup there is the triggering task's.
func OOMKillFeature() FeatureSpec {
	return FeatureSpec{
		Name: "oomkill",
		Spec: oomkill.LoadOOMKill,
		Tiers: []Tier{
			{Name: TierFentry, Programs: []string{"fentry_oom_kill"}},
			{Name: TierKprobe, Programs: []string{"kprobe_oom_kill"}, Unsupported: func() string {
				if runtime.GOARCH != "amd64" {
					return "kprobe programs are built for x86-64 registers, not " + runtime.GOARCH
				}
				return ""
			}},
			{Name: TierTpBTF, Programs: []string{"tpbtf_mark_victim"}},
			{Name: TierRawTp, Programs: []string{"rawtp_mark_victim"}},
			{Name: TierTracepoint, Programs: []string{"tp_mark_victim"}},
		},
	}
}

// OOMKill is the loaded OOM-kill feature.
type OOMKill struct {
	loaded *Loaded
}

// OpenOOMKill loads and attaches the OOM-kill programs through the session
// (nil: a new one). The error is non-nil when no tier runs.
func OpenOOMKill(sess *Session, opts LoadOptions) (*OOMKill, model.Feature, error) {
	l, rep := Load(sess, OOMKillFeature(), opts)
	if l == nil {
		return nil, rep, fmt.Errorf("oomkill: %s", rep.Reason)
	}
	return &OOMKill{loaded: l}, rep, nil
}

// Ring is the ring buffer of OOM-kill records; Drops counts those it could
// not take.
func (o *OOMKill) Ring() *ebpf.Map  { return o.loaded.Maps["oom_events"] }
func (o *OOMKill) Drops() *ebpf.Map { return o.loaded.Maps["oom_drops"] }

// Tier is the active tier.
func (o *OOMKill) Tier() string { return o.loaded.Tier }

// ProgramIDs are the kernel ids of the loaded programs.
func (o *OOMKill) ProgramIDs() []ebpf.ProgramID { return o.loaded.ProgramIDs() }

// Close detaches the programs and frees the maps.
func (o *OOMKill) Close() error {
	if o == nil || o.loaded == nil {
		return nil
	}
	err := o.loaded.Close()
	o.loaded = nil
	return err
}

// DecodeOOMKill turns one oomkill record into an oom_kill event with
// *model.OOMKillData (VictimCgroupID set, the path left to the caller).
func DecodeOOMKill(raw []byte, ev *model.Event) bool {
	if len(raw) < oomEventSizeBytes {
		return false
	}
	var e oomkill.OOMKillOomEvent
	if _, err := binary.Decode(raw[:oomEventSizeBytes], binary.NativeEndian, &e); err != nil {
		return false
	}
	page := float64(unix.Getpagesize())
	d := &model.OOMKillData{
		VictimPID:         int32(e.Pid),
		VictimComm:        commString(e.Comm[:]),
		VictimUID:         e.Uid,
		VictimOOMScoreAdj: int(e.OomScoreAdj),
		TriggerPID:        int32(e.TriggerPid),
		TriggerComm:       commString(e.TriggerComm[:]),
	}
	if e.StartNs != 0 {
		d.VictimStartTicks = ticks(e.StartNs)
	}
	// Inside a child PID namespace (bpf/common.h): a victim outside it has
	// no pid here, and the tracepoint tier's pid is the host's.
	switch {
	case e.Pid == pidOutside:
		d.VictimPID, d.VictimPIDNote = 0, "outside this PID namespace: it has no pid here"
	case e.Flags&oomPIDHost != 0:
		d.VictimPID, d.VictimPIDNote = 0, fmt.Sprintf("pid %d in the initial PID namespace (this tier cannot translate it)", e.Pid)
	}
	if e.TriggerPid == pidOutside {
		d.TriggerPID = 0
	}
	if e.Flags&oomHaveRSS != 0 {
		unit := page
		if e.Flags&oomRSSKB != 0 {
			unit = 1024
		}
		d.VictimTotalVMBytes = model.Known(float64(e.TotalVmPages) * unit)
		d.VictimAnonRSSBytes = model.Known(float64(e.AnonPages) * unit)
		d.VictimFileRSSBytes = model.Known(float64(e.FilePages) * unit)
		d.VictimShmemRSSBytes = model.Known(float64(e.ShmemPages) * unit)
		if e.Flags&oomRSSKB == 0 {
			d.VictimSwapBytes = model.Known(float64(e.SwapPages) * unit)
		}
		d.VictimPgtablesBytes = model.Known(float64(e.PgtablesBytes))
	}
	if e.Flags&oomHaveCgroup != 0 {
		d.VictimCgroupID = e.MemcgId
		d.CgroupOf = "victim"
		switch {
		case e.Flags&oomTriggerCgroup != 0:
			d.CgroupOf = "trigger"
		case e.Flags&oomHaveTotal != 0:
			d.CgroupOf = "oom"
		}
		if e.LimitPages < pageCounterNoMax {
			d.CgroupLimitBytes = model.Known(float64(e.LimitPages) * page)
		}
		d.CgroupUsageBytes = model.Known(float64(e.UsagePages) * page)
	}
	switch {
	case e.Flags&oomGlobal != 0:
		d.Constraint, d.ConstraintSource = "global", "kernel"
	case e.Flags&oomHaveTotal != 0:
		d.Constraint, d.ConstraintSource = "memcg", "kernel"
		if !d.CgroupLimitBytes.OK && e.Totalpages != 0 {
			d.CgroupLimitBytes = model.Known(float64(e.Totalpages) * page)
		}
	}
	ev.Source = model.SourceOOMKill
	ev.Kind = model.EventOOMKill
	ev.Time = BootWall(e.TimeNs)
	ev.PID = d.VictimPID
	ev.PPID = int32(e.Ppid)
	ev.StartTicks = d.VictimStartTicks
	ev.Comm = d.VictimComm
	ev.Data = d
	return true
}

// pidOutside is bpf/common.h PID_OUTSIDE: a task outside the PID namespace
// of vitals' /proc.
const pidOutside = 0xffffffff
