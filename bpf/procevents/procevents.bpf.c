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
//   exit  one record per process (not per thread), at the sched_process_exit
//         of the thread that ends the thread group (group_dead): exit code
//         or signal, start time (lifetime = time - start), CPU time (exact
//         sum_exec_runtime, and the tick-sampled user/system split), peak
//         RSS (signal->maxrss), faults and I/O bytes, each the process's
//         live thread's own plus what its dead threads left in
//         signal_struct. A thread that exits at the same moment and has not
//         been released yet is missing from the sums (a lower bound).
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

// Type exports for bpf2go.
const struct exit_event *unused_exit __attribute__((unused));

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

static __always_inline int on_exit(bool group_dead)
{
	if (!group_dead)
		return 0; // a thread, not the process
	if (current_tgid_vitals() == PID_OUTSIDE)
		return 0; // as on_exec
	struct task_struct *task = bpf_get_current_task_btf();
	struct exit_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return 0;
	}
	fill_header(&e->h, EV_EXIT, task);
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->nr_threads = BPF_CORE_READ(sig, nr_threads);
	e->runtime_ns = BPF_CORE_READ(task, se.sum_exec_runtime) + BPF_CORE_READ(sig, sum_sched_runtime);
	// The running slice is added to sum_exec_runtime only when the thread
	// switches out, after this hook: add it up to the runqueue clock's
	// last update (it misses what ran since, so CPU is a lower bound).
	if (bpf_core_field_exists(task->se.cfs_rq)) {
		struct rq *rq = BPF_CORE_READ(task, se.cfs_rq, rq);
		u64 clk = BPF_CORE_READ(rq, clock_task);
		u64 since = BPF_CORE_READ(task, se.exec_start);
		if (rq && clk > since && clk - since < 10000000000ULL)
			e->runtime_ns += clk - since;
	}
	e->utime_ns = BPF_CORE_READ(task, utime) + BPF_CORE_READ(sig, utime);
	e->stime_ns = BPF_CORE_READ(task, stime) + BPF_CORE_READ(sig, stime);
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
	e->min_flt = BPF_CORE_READ(task, min_flt) + BPF_CORE_READ(sig, min_flt);
	e->maj_flt = BPF_CORE_READ(task, maj_flt) + BPF_CORE_READ(sig, maj_flt);
	if (bpf_core_field_exists(task->ioac)) {
		e->read_bytes = BPF_CORE_READ(task, ioac.read_bytes) + BPF_CORE_READ(sig, ioac.read_bytes);
		e->write_bytes = BPF_CORE_READ(task, ioac.write_bytes) + BPF_CORE_READ(sig, ioac.write_bytes);
		e->rchar = BPF_CORE_READ(task, ioac.rchar) + BPF_CORE_READ(sig, ioac.rchar);
		e->wchar = BPF_CORE_READ(task, ioac.wchar) + BPF_CORE_READ(sig, ioac.wchar);
	} else {
		e->read_bytes = e->write_bytes = e->rchar = e->wchar = 0;
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
