//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
//
// OOM kills as ring-buffer records (bcc oomkill, with the victim's memory
// and cgroup): one record per victim the kernel marks.
//
//   fentry, kprobe  oom_kill_process(oc, message): the victim is
//                   oc->chosen; oc->memcg is the cgroup whose limit was hit
//                   (none for a system-wide OOM) and oc->totalpages the
//                   limit the kernel used.
//   tp_btf, raw_tp  oom:mark_victim(task, uid): the victim; the cgroup is
//                   the victim's memory cgroup and the limit its own
//                   memory.max (v2) / memory.limit_in_bytes (v1).
//   tracepoint      oom:mark_victim's record: pid, comm, RSS split in kB;
//                   no task pointer, so the cgroup is that of the task that
//                   hit the limit (the current task; FLAG_TRIGGER_CGROUP).
//
// RSS is the mm's counters as the kernel's own OOM report reads them (the
// per-CPU counters' global part: approximate by at most a batch per CPU).

#include "../vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "../common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// oom_event.flags
#define FLAG_HAVE_RSS 1		/* rss fields are set */
#define FLAG_HAVE_CGROUP 2	/* memcg_id / limit are set */
#define FLAG_TRIGGER_CGROUP 4	/* ...of the triggering task, not the victim */
#define FLAG_GLOBAL 8		/* oc->memcg was NULL: a system-wide OOM */
#define FLAG_HAVE_TOTAL 16	/* totalpages is set */
#define FLAG_RSS_KB 32		/* total_vm and the rss fields are in kB, not pages */
#define FLAG_PID_HOST 64	/* pid is the initial namespace's: not translated (common.h) */

enum { MM_FILEPAGES_I, MM_ANONPAGES_I, MM_SWAPENTS_I, MM_SHMEMPAGES_I };

struct oom_event {
	u64 time_ns;		// CLOCK_BOOTTIME
	u64 start_ns;		// victim's start, CLOCK_BOOTTIME (0: unknown)
	u32 pid;		// victim tgid
	u32 ppid;
	u32 uid;
	u32 flags;
	u32 trigger_pid;	// the task whose allocation failed
	s32 oom_score_adj;
	char comm[16];
	char trigger_comm[16];
	u64 total_vm_pages;
	u64 anon_pages;
	u64 file_pages;
	u64 shmem_pages;
	u64 swap_pages;
	u64 pgtables_bytes;
	u64 memcg_id;		// cgroup id of the memcg (kernfs inode number)
	u64 limit_pages;	// its memory limit
	u64 usage_pages;	// its usage when the victim was chosen
	u64 totalpages;		// oc->totalpages (fentry/kprobe)
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 10);
} oom_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} oom_drops SEC(".maps");

const struct oom_event *unused_oom __attribute__((unused));

static __always_inline void count_drop(void)
{
	u32 zero = 0;
	u64 *d = bpf_map_lookup_elem(&oom_drops, &zero);
	if (d)
		(*d)++;
}

static __always_inline void set_memcg(struct oom_event *e, struct cgroup_subsys_state *css)
{
	if (!css)
		return;
	struct mem_cgroup *memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
	e->memcg_id = css_cgroup_id(css);
	e->limit_pages = BPF_CORE_READ(memcg, memory.max);
	e->usage_pages = BPF_CORE_READ(memcg, memory.usage.counter);
	e->flags |= FLAG_HAVE_CGROUP;
}

static __always_inline s64 mm_counter(struct mm_struct *mm, int i)
{
	s64 v = BPF_CORE_READ(mm, rss_stat[i].count);
	return v < 0 ? 0 : v;
}

static __always_inline void fill_victim(struct oom_event *e, struct task_struct *victim)
{
	// Pids of vitals' /proc (common.h): PID_OUTSIDE for a victim outside
	// its namespace; an init's parent outside is 0, as /proc says.
	e->pid = task_tgid_vitals(victim);
	e->ppid = task_tgid_vitals(BPF_CORE_READ(victim, real_parent));
	if (e->ppid == PID_OUTSIDE)
		e->ppid = 0;
	e->uid = BPF_CORE_READ(victim, cred, uid.val);
	e->start_ns = proc_start_ns(victim);
	e->oom_score_adj = BPF_CORE_READ(victim, signal, oom_score_adj);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), &victim->comm);
	struct mm_struct *mm = BPF_CORE_READ(victim, mm);
	if (mm) {
		e->total_vm_pages = BPF_CORE_READ(mm, total_vm);
		e->file_pages = mm_counter(mm, MM_FILEPAGES_I);
		e->anon_pages = mm_counter(mm, MM_ANONPAGES_I);
		e->swap_pages = mm_counter(mm, MM_SWAPENTS_I);
		e->shmem_pages = mm_counter(mm, MM_SHMEMPAGES_I);
		e->pgtables_bytes = BPF_CORE_READ(mm, pgtables_bytes.counter);
		e->flags |= FLAG_HAVE_RSS;
	}
}

static __always_inline struct oom_event *start_event(void)
{
	struct oom_event *e = bpf_ringbuf_reserve(&oom_events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->time_ns = bpf_ktime_get_boot_ns();
	e->trigger_pid = current_tgid_vitals();
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
	return e;
}

// on_victim: tp_btf and raw_tp (mark_victim's task).
static __always_inline int on_victim(struct task_struct *victim)
{
	struct oom_event *e = start_event();
	if (!e)
		return 0;
	fill_victim(e, victim);
	set_memcg(e, memcg_css(victim));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

// on_oom_kill: fentry and kprobe (oom_kill_process's oom_control).
static __always_inline int on_oom_kill(struct oom_control *oc)
{
	struct task_struct *victim = BPF_CORE_READ(oc, chosen);
	if (!victim)
		return 0;
	struct oom_event *e = start_event();
	if (!e)
		return 0;
	fill_victim(e, victim);
	struct mem_cgroup *memcg = BPF_CORE_READ(oc, memcg);
	if (memcg)
		set_memcg(e, (struct cgroup_subsys_state *)((void *)memcg + bpf_core_field_offset(struct mem_cgroup, css)));
	else
		e->flags |= FLAG_GLOBAL;
	e->totalpages = BPF_CORE_READ(oc, totalpages);
	e->flags |= FLAG_HAVE_TOTAL;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/oom_kill_process")
int BPF_PROG(fentry_oom_kill, struct oom_control *oc, const char *message)
{
	return on_oom_kill(oc);
}

SEC("kprobe/oom_kill_process")
int BPF_KPROBE(kprobe_oom_kill, struct oom_control *oc, const char *message)
{
	return on_oom_kill(oc);
}

SEC("tp_btf/mark_victim")
int BPF_PROG(tpbtf_mark_victim, struct task_struct *task, uid_t uid)
{
	return on_victim(task);
}

SEC("raw_tp/mark_victim")
int BPF_PROG(rawtp_mark_victim, struct task_struct *task, uid_t uid)
{
	return on_victim(task);
}

SEC("tracepoint/oom/mark_victim")
int tp_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct oom_event *e = start_event();
	if (!e)
		return 0;
	e->pid = ctx->pid;
	// The tracepoint's pid is the initial namespace's, with no task to
	// translate it through.
	if (vitals_pidns_ino)
		e->flags |= FLAG_PID_HOST;
	e->uid = ctx->uid;
	e->oom_score_adj = ctx->oom_score_adj;
	u32 loc = ctx->__data_loc_comm;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), (void *)ctx + (loc & 0xffff));
	// The record is in kB.
	e->total_vm_pages = ctx->total_vm;
	e->anon_pages = ctx->anon_rss;
	e->file_pages = ctx->file_rss;
	e->shmem_pages = ctx->shmem_rss;
	e->pgtables_bytes = ctx->pgtables << 10;
	e->flags |= FLAG_HAVE_RSS | FLAG_RSS_KB;
	set_memcg(e, memcg_css(bpf_get_current_task_btf()));
	e->flags |= FLAG_TRIGGER_CGROUP;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
