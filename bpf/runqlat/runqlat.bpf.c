//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
//
// Run-queue latency (bcc/libbpf-tools runqlat): the time from a task
// becoming runnable to it running, as a log2 histogram of microseconds per
// CPU (the CPU it then ran on).
//
// A task starts waiting when it is woken (sched_wakeup, sched_wakeup_new)
// and also when it is switched out while still runnable (sched_switch with
// prev preempted or in TASK_RUNNING), so CPU-bound tasks queued behind each
// other count, not only wakeups. The wait ends at the sched_switch that
// runs it.
//
// Cost per event: the tp_btf tier keeps the start time in task storage
// (one storage lookup per wakeup; per switch one for the task switched in,
// plus one for a preempted task); the histogram is a per-CPU array, whose
// lookup the verifier inlines (no helper call). The tp_btf tier also keeps
// each thread's total wait in the same storage, which an iter/task program
// reads once per refresh (per-process run-queue wait). raw_tp and classic
// tracepoint programs get no BTF task pointer for the woken task and so
// cannot use task storage: they keep start times in an LRU hash keyed by
// thread id (update at the start, lookup and delete at the end, as bcc
// does) and have no per-process totals.
//
// Histograms are cumulative and never reset (a reset would lose the events
// between the read and the write): user space takes differences.

#include "../vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "../common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define MAX_SLOTS 27
#define TASK_RUNNING 0
#define TASK_REPORT_MASK 0xff /* classic sched_switch: 0 = R, 0x100 = preempted */

// Slot 0 counts waits below 1 µs, slot i (i >= 1) waits in [2^(i-1), 2^i) µs;
// the last slot also everything longer.
struct hist {
	u64 slots[MAX_SLOTS];
	u64 count;
	u64 total_ns;
	u64 lost; // starts not recorded (hash full; raw_tp/tracepoint tiers)
};

struct task_rq {
	u64 start_ns; // 0: not waiting
	u64 wait_ns;  // total, this thread
	u64 waits;
};

// One record per thread with a wait total, written by the task iterator.
struct wait_rec {
	u32 pid; // tgid
	u32 tid;
	u64 start_ticks;
	u64 wait_ns;
	u64 waits;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_rq);
} rq_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, u32);
	__type(value, u64);
} rq_start SEC(".maps");

const struct wait_rec *unused_wait __attribute__((unused));

// slot_of is the histogram slot of a wait of d ns.
static __always_inline u32 slot_of(u64 d)
{
	u64 us = d / 1000;
	u32 slot = 0;
	while (us && slot < MAX_SLOTS - 1) {
		us >>= 1;
		slot++;
	}
	return slot;
}

static __always_inline void record(u64 d)
{
	u32 zero = 0;
	struct hist *h = bpf_map_lookup_elem(&hists, &zero);
	if (!h)
		return;
	u32 slot = slot_of(d);
	if (slot < MAX_SLOTS)
		h->slots[slot]++;
	h->count++;
	h->total_ns += d;
}

static __always_inline void record_lost(void)
{
	u32 zero = 0;
	struct hist *h = bpf_map_lookup_elem(&hists, &zero);
	if (h)
		h->lost++;
}

// tp_btf tier: task storage.

static __always_inline void start_task(struct task_struct *p, u64 now)
{
	if (!p->pid)
		return; // the idle task
	struct task_rq *t = bpf_task_storage_get(&rq_tasks, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (t)
		t->start_ns = now;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(tpbtf_wakeup, struct task_struct *p)
{
	start_task(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(tpbtf_wakeup_new, struct task_struct *p)
{
	start_task(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(tpbtf_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	u64 now = bpf_ktime_get_ns();
	if (preempt || prev_state == TASK_RUNNING)
		start_task(prev, now);
	if (!next->pid)
		return 0;
	struct task_rq *t = bpf_task_storage_get(&rq_tasks, next, 0, 0);
	if (!t || !t->start_ns)
		return 0;
	u64 d = now - t->start_ns;
	t->start_ns = 0;
	t->wait_ns += d;
	t->waits++;
	record(d);
	return 0;
}

SEC("iter/task")
int dump_waits(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	if (!task)
		return 0;
	struct task_rq *t = bpf_task_storage_get(&rq_tasks, task, 0, 0);
	if (!t || !t->waits)
		return 0;
	struct wait_rec r = {};
	// The iterator walks vitals' own namespace; its /proc's pids are the
	// ones to report (bpf/common.h).
	r.pid = task_tgid_vitals(task);
	r.tid = task_tid_vitals(task);
	if (r.pid == PID_OUTSIDE || r.tid == PID_OUTSIDE)
		return 0;
	r.start_ticks = task->group_leader->start_boottime / NSEC_PER_TICK;
	r.wait_ns = t->wait_ns;
	r.waits = t->waits;
	bpf_probe_read_kernel_str(r.comm, sizeof(r.comm), task->comm);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

// raw_tp and classic tiers: an LRU hash of start times by thread id.

static __always_inline void start_tid(u32 tid, u64 now)
{
	if (!tid)
		return;
	if (bpf_map_update_elem(&rq_start, &tid, &now, BPF_ANY))
		record_lost();
}

static __always_inline void end_tid(u32 tid, u64 now)
{
	if (!tid)
		return;
	u64 *start = bpf_map_lookup_elem(&rq_start, &tid);
	if (!start)
		return;
	u64 d = now - *start;
	bpf_map_delete_elem(&rq_start, &tid);
	record(d);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(rawtp_wakeup, struct task_struct *p)
{
	start_tid(BPF_CORE_READ(p, pid), bpf_ktime_get_ns());
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(rawtp_wakeup_new, struct task_struct *p)
{
	start_tid(BPF_CORE_READ(p, pid), bpf_ktime_get_ns());
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(rawtp_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	u64 now = bpf_ktime_get_ns();
	if (preempt || prev_state == TASK_RUNNING)
		start_tid(BPF_CORE_READ(prev, pid), now);
	end_tid(BPF_CORE_READ(next, pid), now);
	return 0;
}

SEC("tracepoint/sched/sched_wakeup")
int tp_wakeup(struct trace_event_raw_sched_wakeup_template *ctx)
{
	start_tid(ctx->pid, bpf_ktime_get_ns());
	return 0;
}

SEC("tracepoint/sched/sched_wakeup_new")
int tp_wakeup_new(struct trace_event_raw_sched_wakeup_template *ctx)
{
	start_tid(ctx->pid, bpf_ktime_get_ns());
	return 0;
}

SEC("tracepoint/sched/sched_switch")
int tp_switch(struct trace_event_raw_sched_switch *ctx)
{
	u64 now = bpf_ktime_get_ns();
	if ((ctx->prev_state & TASK_REPORT_MASK) == 0)
		start_tid(ctx->prev_pid, now);
	end_tid(ctx->next_pid, now);
	return 0;
}

// test_record runs record() from BPF_PROG_TEST_RUN: ctx[0] is a wait in
// ns, which lands in hists like a real one.
SEC("raw_tp")
int test_record(u64 *ctx)
{
	record(ctx[0]);
	return 0;
}
