//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
//
// Process starts and exits as ring-buffer records (what execsnoop and
// exitsnoop show, plus what below records at exit).
//
//   exec  one record per successful exec, at sched_process_exec: pid, ppid,
//         uid, comm (the new one), cgroups, start time, and argv as the
//         execve/execveat syscall tracepoints saw it on entry: at most
//         MAX_ARGS arguments of at most ARG_SIZE bytes each (with the
//         NUL), as libbpf-tools execsnoop (20 x 128). Longer arguments are
//         cut and more arguments dropped, both flagged. argv waits in task
//         storage between the syscall's entry and the exec.
//   exit  one record per process (not per thread): exit code or signal,
//         exit time and start time (lifetime = time - start) and peak RSS
//         from the sched_process_exit of the thread that ends the thread
//         group (group_dead); CPU time (sum_exec_runtime, and the
//         tick-sampled user/system split), faults and I/O bytes from the
//         signal_struct when the group leader is freed (sched_process_free,
//         after its parent reaped it). Only then are they final: at
//         group_dead the other threads may still be running their exit
//         (a group exit kills them all at once), and their time, like the
//         exiting thread's running slice and the unmapping of its memory,
//         is folded into signal_struct only as each is released. What the
//         record holds then is what wait4's rusage reports. Between the two
//         hooks the record waits in pending_exits; user space sends one
//         that waits too long (a zombie) flagged EXIT_CPU_LOWER_BOUND, as
//         is one that finds the map full.
//
// A record the ring buffer cannot take is counted in drops (per CPU; user
// space sums): the kernel never overwrites, so a full buffer loses the new
// record, never an old one.
//
// The hooks are tracepoints, which are stable and exist on every kernel
// with BPF ring buffers (5.8+): the tiers differ only in how they attach
// (tp_btf, raw_tp, classic tracepoint). Function probes (fentry, kprobe on
// the exec/exit paths) would see the same events at a higher cost, so
// there are none. The syscall tracepoints for argv are classic in every
// tier: raw syscall tracepoints fire for every syscall.

#include "../vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "../common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define MAX_ARGS 20
#define ARG_SIZE 128
#define ARGS_BUF (MAX_ARGS * ARG_SIZE)
#define LAST_ARG (ARGS_BUF - ARG_SIZE)

enum event_type {
	EV_EXEC = 1,
	EV_EXIT = 2,
};

// exec_event.flags
#define ARGS_MORE 1	/* more than MAX_ARGS arguments: the rest dropped */
#define ARGS_CUT 2	/* an argument longer than ARG_SIZE-1 bytes was cut */
#define ARGS_NONE 4	/* no execve/execveat entry seen (a kernel exec) */
#define ARGS_FAULT 8	/* an argument could not be read (not paged in) */

// Shared by both record types, first in each.
struct header {
	u32 type;
	u32 pid;	// tgid, in the namespace of vitals' /proc
	u32 tid;
	u32 ppid;	// real parent's tgid
	u32 uid;
	u32 pad;
	u64 time_ns;	// CLOCK_BOOTTIME
	u64 start_ns;	// the process's start, CLOCK_BOOTTIME
	u64 cgroup_id;	// v2 (unified) cgroup id
	u64 memcg_id;	// memory controller's cgroup id (v1 or v2)
	char comm[16];
};

struct exec_event {
	struct header h;
	u32 args_count;	// arguments in args
	u32 args_size;	// bytes used in args: NUL-terminated strings
	u32 flags;
	u32 pad;
	char args[ARGS_BUF];
};

struct exit_event {
	struct header h;
	u32 exit_code;	// task->exit_code: status << 8, or the signal (| 0x80: core)
	u32 nr_threads;
	u64 runtime_ns;	// sum_exec_runtime of every thread
	u64 utime_ns;
	u64 stime_ns;
	u64 maxrss_pages;
	u64 min_flt;
	u64 maj_flt;
	u64 read_bytes;	// storage I/O (task_io_accounting)
	u64 write_bytes;
	u64 rchar;	// bytes through read/write syscalls
	u64 wchar;
	u32 flags;	// EXIT_*
	u32 pad;
};

// exit_event.flags
#define EXIT_CPU_LOWER_BOUND 1	/* CPU, faults and I/O as at group_dead: lower bounds */
#define EXIT_PENDING_FULL 2	/* pending_exits was full */

// An exit waiting for its leader's release: the record as at group_dead,
// with where to read the final sums.
struct pending_exit {
	struct exit_event ev;
	u64 signal;	// struct signal_struct *
	u64 leader;	// struct task_struct * of the group leader
};

// Per-thread: argv from the syscall's entry, until the exec.
struct exec_state {
	u32 valid;
	u32 pad;
	struct exec_event ev;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

// drops[0]: records the ring buffer could not take, per CPU.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct exec_state);
} exec_args SEC(".maps");

// Exits between group_dead and the leader's release, by tgid. 8192
// processes exit-but-unreaped at once is far beyond a normal machine; when
// full, an exit goes out at once as a lower bound.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, u32);
	__type(value, struct pending_exit);
} pending_exits SEC(".maps");

// Per-CPU scratch for building a pending exit (too big for the stack
// beside the verifier's needs).
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct pending_exit);
} exit_scratch SEC(".maps");

// Type exports for bpf2go.
const struct exit_event *unused_exit __attribute__((unused));
const struct pending_exit *unused_pending __attribute__((unused));

static __always_inline void count_drop(void)
{
	u32 zero = 0;
	u64 *d = bpf_map_lookup_elem(&drops, &zero);
	if (d)
		(*d)++;
}

static __always_inline void fill_header(struct header *h, u32 type, struct task_struct *task)
{
	u64 id = bpf_get_current_pid_tgid();
	h->type = type;
	// Pids of the /proc vitals reads (bpf/common.h); the callers skip
	// processes outside its namespace. A namespace's init has its parent
	// outside: /proc says 0.
	h->pid = current_tgid_vitals();
	h->tid = vitals_pidns_ino ? task_tid_vitals(task) : (u32)id;
	h->ppid = task_tgid_vitals(BPF_CORE_READ(task, real_parent));
	if (h->ppid == PID_OUTSIDE)
		h->ppid = 0;
	h->uid = (u32)bpf_get_current_uid_gid();
	h->time_ns = bpf_ktime_get_boot_ns();
	h->start_ns = proc_start_ns(task);
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->memcg_id = css_cgroup_id(memcg_css(task));
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

// read_args copies argv into the thread's exec state.
static __always_inline void read_args(const char *const *argv)
{
	struct exec_state *st = bpf_task_storage_get(&exec_args, bpf_get_current_task_btf(), 0,
						     BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return; // counted at the exec (no state: ARGS_NONE)
	st->valid = 1;
	st->ev.args_count = 0;
	st->ev.args_size = 0;
	st->ev.flags = 0;
	for (int i = 0; i < MAX_ARGS; i++) {
		const char *argp = 0;
		if (bpf_probe_read_user(&argp, sizeof(argp), &argv[i])) {
			st->ev.flags |= ARGS_FAULT;
			return;
		}
		if (!argp)
			return;
		u32 off = st->ev.args_size;
		if (off > LAST_ARG)
			return;
		long n = bpf_probe_read_user_str(&st->ev.args[off], ARG_SIZE, argp);
		if (n <= 0) {
			st->ev.flags |= ARGS_FAULT;
			return;
		}
		if (n == ARG_SIZE) {
			char next = 0;
			bpf_probe_read_user(&next, 1, argp + ARG_SIZE - 1);
			if (next)
				st->ev.flags |= ARGS_CUT;
		}
		st->ev.args_count++;
		st->ev.args_size += n;
	}
	const char *more = 0;
	bpf_probe_read_user(&more, sizeof(more), &argv[MAX_ARGS]);
	if (more)
		st->ev.flags |= ARGS_MORE;
}

static __always_inline int on_exec(void)
{
	// A process outside vitals' PID namespace is none of its processes.
	if (current_tgid_vitals() == PID_OUTSIDE)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct exec_state *st = bpf_task_storage_get(&exec_args, task, 0,
						     BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		count_drop();
		return 0;
	}
	if (!st->valid) {
		st->ev.args_count = 0;
		st->ev.args_size = 0;
		st->ev.flags = ARGS_NONE;
	}
	st->valid = 0;
	fill_header(&st->ev.h, EV_EXEC, task);
	u64 size = st->ev.args_size;
	if (size > ARGS_BUF)
		size = ARGS_BUF;
	size += offsetof(struct exec_event, args);
	if (bpf_ringbuf_output(&events, &st->ev, size, 0))
		count_drop();
	return 0;
}

// read_final sets the record's CPU, fault and I/O sums from the process's
// signal_struct: everything its threads left there as they were released
// (plus, for a live thread, its own counters: at group_dead, the exiting
// thread's).
static __always_inline void read_final(struct exit_event *e, struct signal_struct *sig,
				       struct task_struct *live)
{
	e->runtime_ns = BPF_CORE_READ(sig, sum_sched_runtime);
	e->utime_ns = BPF_CORE_READ(sig, utime);
	e->stime_ns = BPF_CORE_READ(sig, stime);
	e->min_flt = BPF_CORE_READ(sig, min_flt);
	e->maj_flt = BPF_CORE_READ(sig, maj_flt);
	e->read_bytes = e->write_bytes = e->rchar = e->wchar = 0;
	if (bpf_core_field_exists(sig->ioac)) {
		e->read_bytes = BPF_CORE_READ(sig, ioac.read_bytes);
		e->write_bytes = BPF_CORE_READ(sig, ioac.write_bytes);
		e->rchar = BPF_CORE_READ(sig, ioac.rchar);
		e->wchar = BPF_CORE_READ(sig, ioac.wchar);
	}
	if (!live)
		return;
	e->runtime_ns += BPF_CORE_READ(live, se.sum_exec_runtime);
	e->utime_ns += BPF_CORE_READ(live, utime);
	e->stime_ns += BPF_CORE_READ(live, stime);
	e->min_flt += BPF_CORE_READ(live, min_flt);
	e->maj_flt += BPF_CORE_READ(live, maj_flt);
	if (bpf_core_field_exists(live->ioac)) {
		e->read_bytes += BPF_CORE_READ(live, ioac.read_bytes);
		e->write_bytes += BPF_CORE_READ(live, ioac.write_bytes);
		e->rchar += BPF_CORE_READ(live, ioac.rchar);
		e->wchar += BPF_CORE_READ(live, ioac.wchar);
	}
}

static __always_inline int on_exit(bool group_dead)
{
	if (!group_dead)
		return 0; // a thread, not the process
	if (current_tgid_vitals() == PID_OUTSIDE)
		return 0; // as on_exec
	u32 zero = 0;
	struct pending_exit *p = bpf_map_lookup_elem(&exit_scratch, &zero);
	if (!p)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct exit_event *e = &p->ev;
	fill_header(&e->h, EV_EXIT, task);
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->nr_threads = BPF_CORE_READ(sig, nr_threads);
	e->flags = EXIT_CPU_LOWER_BOUND; // until the leader's release
	e->pad = 0;
	read_final(e, sig, task);
	// Peak RSS of the program now running: its mm's high-water mark while
	// the mm is still there. signal->maxrss is the fallback: exec stores
	// the replaced mm's peak in it, which after a vfork from a large
	// parent is the parent's.
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	if (mm) {
		u64 rss = 0;
		for (int i = 0; i < 4; i++) {
			s64 v = BPF_CORE_READ(mm, rss_stat[i].count);
			if (v > 0 && i != 2) // not MM_SWAPENTS
				rss += v;
		}
		u64 hw = BPF_CORE_READ(mm, hiwater_rss);
		e->maxrss_pages = hw > rss ? hw : rss;
	} else {
		e->maxrss_pages = BPF_CORE_READ(sig, maxrss);
	}
	p->signal = (u64)sig;
	p->leader = (u64)BPF_CORE_READ(task, group_leader);
	// Keyed by the tgid in the initial pid namespace, as on_free sees it
	// (whatever the record's pid is translated to).
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_map_update_elem(&pending_exits, &tgid, p, BPF_NOEXIST) == 0)
		return 0;
	e->flags |= EXIT_PENDING_FULL;
	if (bpf_ringbuf_output(&events, e, sizeof(*e), 0))
		count_drop();
	return 0;
}

// on_free sends the pending exit of the process whose group leader is
// being freed (pid, the task's address where the tier knows it): the
// leader's release has folded every thread into signal_struct. The
// signal_struct lives until the task's last reference is put, after this
// hook. Whoever deletes the pending entry (this, or user space sending a
// zombie's record) sends it.
static __always_inline int on_free(u32 pid, u64 task)
{
	struct pending_exit *p = bpf_map_lookup_elem(&pending_exits, &pid);
	if (!p || (task && p->leader != task))
		return 0;
	struct exit_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		bpf_map_delete_elem(&pending_exits, &pid);
		return 0;
	}
	__builtin_memcpy(e, &p->ev, sizeof(*e));
	read_final(e, (struct signal_struct *)p->signal, 0);
	e->flags &= ~EXIT_CPU_LOWER_BOUND;
	if (bpf_map_delete_elem(&pending_exits, &pid)) {
		bpf_ringbuf_discard(e, 0); // user space took it
		return 0;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

// argv, every tier (classic syscall tracepoints).

SEC("tracepoint/syscalls/sys_enter_execve")
int tp_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	read_args((const char *const *)ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int tp_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	read_args((const char *const *)ctx->args[2]);
	return 0;
}

// tp_btf tier.

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tpbtf_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec();
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tpbtf_exit, struct task_struct *p, bool group_dead)
{
	return on_exit(group_dead);
}

SEC("tp_btf/sched_process_free")
int BPF_PROG(tpbtf_free, struct task_struct *p)
{
	return on_free(BPF_CORE_READ(p, pid), (u64)p);
}

// raw_tp tier.

SEC("raw_tp/sched_process_exec")
int BPF_PROG(rawtp_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec();
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(rawtp_exit, struct task_struct *p, bool group_dead)
{
	return on_exit(group_dead);
}

SEC("raw_tp/sched_process_free")
int BPF_PROG(rawtp_free, struct task_struct *p)
{
	return on_free(BPF_CORE_READ(p, pid), (u64)p);
}

// Classic tracepoint tier.

SEC("tracepoint/sched/sched_process_exec")
int tp_exec(void *ctx)
{
	return on_exec();
}

SEC("tracepoint/sched/sched_process_exit")
int tp_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	return on_exit(ctx->group_dead);
}

// The classic record has the freed task's pid, not the task (the hook runs
// in an RCU callback: the current task is another): match by pid alone.
SEC("tracepoint/sched/sched_process_free")
int tp_free(struct trace_event_raw_sched_process_template *ctx)
{
	return on_free(ctx->pid, 0);
}
