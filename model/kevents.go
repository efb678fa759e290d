package model

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event kinds (Event.Kind; "type" in the JSON).
const (
	EventExec    = "exec"
	EventExit    = "exit"
	EventOOMKill = "oom_kill"
)

// Event sources (Event.Source): which feature saw the event, so a reader
// knows its fidelity.
const (
	// SourceProcEvents: exec and exit from eBPF (every process, with argv
	// and exit status).
	SourceProcEvents = "procevents"
	// SourceScanner: a process that appeared in or vanished from the
	// process table between two scans. Processes living less than an
	// interval are missed, exit status and argv beyond cmdline are unknown.
	SourceScanner = "scanner"
	// SourceOOMKill: an OOM kill from eBPF.
	SourceOOMKill = "oomkill"
	// SourceKmsg: an OOM kill parsed from the kernel log (/dev/kmsg).
	SourceKmsg = "kmsg"
)

// ExecData is an exec event's payload.
type ExecData struct {
	TID uint32 `json:"tid"`
	UID uint32 `json:"uid"`
	// Args is argv as the execve syscall received it: at most
	// MaxExecArgs arguments of at most MaxExecArgBytes-1 bytes each
	// (ArgsTruncated says something was cut or dropped). Untrusted text.
	// From the scanner: cmdline split at NULs, when it could be read.
	Args []string `json:"args"`
	// ArgsTruncated: more than MaxExecArgs arguments, or one longer than
	// MaxExecArgBytes-1 bytes.
	ArgsTruncated bool `json:"args_truncated"`
	// ArgsMissing says why Args is empty or partial ("" when complete):
	// "no execve entry seen" (an exec started by the kernel), "unreadable
	// argument" (not paged in), "cmdline not read".
	ArgsMissing string `json:"args_missing,omitempty"`
	// Cgroup is the memory cgroup's path (v1 memory hierarchy or v2),
	// "" when unknown; CgroupID its kernfs id.
	Cgroup   string `json:"cgroup"`
	CgroupID uint64 `json:"cgroup_id,omitempty"`
}

// Bounds of ExecData.Args, as libbpf-tools execsnoop's defaults.
const (
	MaxExecArgs     = 20
	MaxExecArgBytes = 128
)

// ExitData is an exit event's payload: what the process used over its
// life, read at its last thread's exit (what below records).
type ExitData struct {
	UID uint32 `json:"uid"`
	// ExitCode is the status passed to exit(), unknown when a signal
	// ended the process (Signal set) or when not known (scanner).
	ExitCode Float `json:"exit_code"`
	// Signal is the number of the signal that killed the process,
	// unknown when it exited normally or not known; SignalName e.g.
	// "SIGKILL"; CoreDumped when it dumped core.
	Signal     Float  `json:"signal"`
	SignalName string `json:"signal_name,omitempty"`
	CoreDumped bool   `json:"core_dumped,omitempty"`
	// LifetimeS is from its start to its exit.
	LifetimeS Float `json:"lifetime_s"`
	// CPUS is CPU time used, all threads, exact (the scheduler's
	// runtime, what wait4 reports as ru_utime + ru_stime); UserS and
	// SystemS split it in the proportion of the tick-sampled user and
	// system times, as the kernel's rusage does (see SplitCPU).
	CPUS Float `json:"cpu_s"`
	// CPULowerBound says CPUS (and the user/system split) may miss time
	// the process used at its end, with CPULowerBoundReason saying why:
	// the scanner's last reading, or an eBPF exit whose final accounting
	// could not be waited for (a zombie not reaped in time, a full map).
	CPULowerBound       bool   `json:"cpu_lower_bound"`
	CPULowerBoundReason string `json:"cpu_lower_bound_reason,omitempty"`
	UserS               Float  `json:"user_s"`
	SystemS             Float  `json:"system_s"`
	// MaxRSSBytes is the peak resident set (getrusage's ru_maxrss).
	MaxRSSBytes Float `json:"max_rss_bytes"`
	MinFlt      Float `json:"minflt"`
	MajFlt      Float `json:"majflt"`
	// ReadBytes and WriteBytes are storage I/O (/proc/PID/io read_bytes,
	// write_bytes); RChar and WChar bytes through read and write calls.
	ReadBytes  Float  `json:"read_bytes"`
	WriteBytes Float  `json:"write_bytes"`
	RChar      Float  `json:"rchar"`
	WChar      Float  `json:"wchar"`
	Threads    int    `json:"threads"`
	Cgroup     string `json:"cgroup"`
	CgroupID   uint64 `json:"cgroup_id,omitempty"`
}

// ExitStatus sets ExitCode, Signal, SignalName and CoreDumped from a
// task's exit_code (the kernel's wait status: status << 8, or the signal
// number with 0x80 for a core dump).
func (d *ExitData) ExitStatus(code uint32) {
	if sig := code & 0x7f; sig != 0 {
		d.ExitCode = Unknown
		d.Signal = Known(float64(sig))
		d.SignalName = SignalName(int(sig))
		d.CoreDumped = code&0x80 != 0
		return
	}
	d.ExitCode = Known(float64((code >> 8) & 0xff))
	d.Signal = Unknown
}

var signalNames = [...]string{1: "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
	"SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
	"SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ",
	"SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"}

// SignalName is the Linux name of a signal number ("SIGRTMIN+n" above 31).
func SignalName(sig int) string {
	switch {
	case sig > 0 && sig < len(signalNames):
		return signalNames[sig]
	case sig >= 34 && sig <= 64:
		return fmt.Sprintf("SIGRTMIN+%d", sig-34)
	}
	return fmt.Sprintf("signal %d", sig)
}

// OOMKillData is an OOM kill's payload: the victim and the cgroup whose
// limit was hit. The victim is also the event's PID and Comm.
type OOMKillData struct {
	VictimPID int32 `json:"victim_pid"`
	// VictimPIDNote says why VictimPID is 0 inside a child PID namespace
	// (the victim is outside it, or the tier saw only its host pid).
	VictimPIDNote    string `json:"victim_pid_note,omitempty"`
	VictimComm       string `json:"victim_comm"`
	VictimUID        uint32 `json:"victim_uid"`
	VictimStartTicks uint64 `json:"victim_start_ticks"`
	// The victim's memory when it was chosen (the kernel's own OOM
	// report's figures); unknown when not known.
	VictimTotalVMBytes  Float  `json:"victim_total_vm_bytes"`
	VictimAnonRSSBytes  Float  `json:"victim_anon_rss_bytes"`
	VictimFileRSSBytes  Float  `json:"victim_file_rss_bytes"`
	VictimShmemRSSBytes Float  `json:"victim_shmem_rss_bytes"`
	VictimSwapBytes     Float  `json:"victim_swap_bytes"`
	VictimPgtablesBytes Float  `json:"victim_pgtables_bytes"`
	VictimOOMScoreAdj   int    `json:"victim_oom_score_adj"`
	VictimCgroup        string `json:"victim_cgroup"`
	VictimCgroupID      uint64 `json:"victim_cgroup_id,omitempty"`
	// CgroupOf says whose cgroup VictimCgroup is: "victim", "oom" (the
	// cgroup whose limit was hit, which may be an ancestor of the
	// victim's), "trigger" (the task that hit the limit: the classic
	// tracepoint tier has no victim task), or "" (unknown).
	CgroupOf string `json:"cgroup_of,omitempty"`
	// CgroupLimitBytes is that cgroup's memory limit (unknown: none or
	// not known); CgroupUsageBytes its usage at the kill.
	CgroupLimitBytes Float `json:"cgroup_limit_bytes"`
	CgroupUsageBytes Float `json:"cgroup_usage_bytes"`
	// Constraint is what the kernel's OOM killer was constrained by:
	// "memcg" (a cgroup limit), "global" (the whole machine), "cpuset" or
	// "mempolicy" (NUMA), or "" (not known: null in JSON, with
	// ConstraintReason). ConstraintSource says how it is known: "kernel"
	// (the kill's own oom_control), "kernel log" (its "oom-kill:" line),
	// or "inferred: …" (the victim's cgroup at its limit).
	Constraint       string `json:"constraint,omitempty"`
	ConstraintSource string `json:"constraint_source,omitempty"`
	ConstraintReason string `json:"constraint_reason,omitempty"`
	// TriggerPID and TriggerComm are the task whose allocation failed.
	TriggerPID  int32  `json:"trigger_pid,omitempty"`
	TriggerComm string `json:"trigger_comm,omitempty"`
}

// eventJSON is the common part of an event's JSON form.
type eventJSON struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Source string    `json:"source"`
	Kind   string    `json:"kind"`
	Type   string    `json:"type"`
	PID    int32     `json:"pid"`
	PPID   int32     `json:"ppid"`
	// StartTicks (with PID: the ProcKey) is 0 when unknown.
	StartTicks uint64 `json:"start_ticks"`
	Comm       string `json:"comm"`
}

// MarshalJSON writes the common keys (type is kind again, under the name
// issue 10 gave it), then the payload's keys at the same level, then the
// payload again under "data" (its place in schema 1 as first published).
func (e Event) MarshalJSON() ([]byte, error) {
	head, err := json.Marshal(eventJSON{
		Seq: e.Seq, Time: e.Time, Source: e.Source,
		Kind: e.Kind, Type: e.Kind, PID: e.PID, PPID: e.PPID, StartTicks: e.StartTicks, Comm: e.Comm,
	})
	if err != nil || e.Data == nil {
		return head, err
	}
	data, err := json.Marshal(e.Data)
	if err != nil {
		return nil, err
	}
	out := head[:len(head)-1]
	if len(data) > 2 && data[0] == '{' {
		out = append(out, ',')
		out = append(out, data[1:len(data)-1]...)
	}
	out = append(out, `,"data":`...)
	out = append(out, data...)
	return append(out, '}'), nil
}

// SplitCPU divides the exact runtime rt between user and system time in
// the proportion of the tick-sampled utime and stime, as the kernel's
// cputime_adjust does for getrusage and wait4 (all user time when no tick
// was sampled), so that user + system = rt.
func SplitCPU(rt, utime, stime float64) (user, system float64) {
	if stime == 0 || utime+stime == 0 {
		return rt, 0
	}
	if utime == 0 {
		return 0, rt
	}
	system = rt * stime / (utime + stime)
	return rt - system, system
}

// MarshalJSON writes constraint as null when it is not known.
func (d OOMKillData) MarshalJSON() ([]byte, error) {
	type plain OOMKillData
	var c *string
	if d.Constraint != "" {
		c = &d.Constraint
	}
	return json.Marshal(struct {
		plain
		Constraint *string `json:"constraint"`
	}{plain(d), c})
}
