// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
//
// Helpers shared by vitals' BPF objects (procevents, oomkill, runqlat).
// Everything here reads through CO-RE (BPF_CORE_READ), so it works from
// every program type a tier uses: tp_btf, raw_tp, classic tracepoints,
// fentry and kprobes.

#ifndef VITALS_COMMON_H
#define VITALS_COMMON_H

#define NSEC_PER_TICK 10000000ULL /* USER_HZ 100, as /proc/PID/stat */

// ---- PID namespaces -------------------------------------------------------
//
// The kernel's task->tgid is the pid in the initial PID namespace. When
// vitals runs inside a child namespace (a container, `unshare --pid
// --mount-proc`), its /proc shows other numbers, and a host tgid joined to
// that /proc by number lands on an unrelated process. The loader sets
// vitals_pidns_ino to the inode of the namespace of the /proc vitals reads
// (0, the default, for the initial namespace: no translation, no cost), and
// these helpers give the pid in that namespace, or PID_OUTSIDE for a task
// that is not in it (it has no number there: a host process seen from a
// container).

const volatile u32 vitals_pidns_ino = 0;

#define PID_OUTSIDE 0xffffffffU
// Namespaces nest at most 32 deep; vitals looks 8 levels up from the task,
// which covers a container inside a container inside the host.
#define PIDNS_SEARCH_DEPTH 8

// pid_in_vitals_ns is pid's number in vitals' namespace: struct pid keeps
// one (nr, ns) pair per level from the initial namespace (0) down to the
// namespace it was created in (pid->level).
static __always_inline u32 pid_in_vitals_ns(struct pid *pid)
{
	if (!pid)
		return PID_OUTSIDE;
	unsigned int level = BPF_CORE_READ(pid, level);
	for (int i = 0; i < PIDNS_SEARCH_DEPTH; i++) {
		if (i > level)
			break;
		struct upid up = {};
		bpf_core_read(&up, sizeof(up), &pid->numbers[level - i]);
		if (up.ns && BPF_CORE_READ(up.ns, ns.inum) == vitals_pidns_ino)
			return up.nr;
	}
	return PID_OUTSIDE;
}

// task_tgid_vitals is the task's process id as vitals' /proc shows it.
static __always_inline u32 task_tgid_vitals(struct task_struct *task)
{
	if (!vitals_pidns_ino)
		return BPF_CORE_READ(task, tgid);
	return pid_in_vitals_ns(BPF_CORE_READ(task, group_leader, thread_pid));
}

// task_tid_vitals is the task's thread id as vitals' /proc shows it.
static __always_inline u32 task_tid_vitals(struct task_struct *task)
{
	if (!vitals_pidns_ino)
		return BPF_CORE_READ(task, pid);
	return pid_in_vitals_ns(BPF_CORE_READ(task, thread_pid));
}

// current_tgid_vitals is task_tgid_vitals of the current task, without
// reading the task in the initial namespace.
static __always_inline u32 current_tgid_vitals(void)
{
	if (!vitals_pidns_ino)
		return bpf_get_current_pid_tgid() >> 32;
	return task_tgid_vitals((struct task_struct *)bpf_get_current_task());
}

// start_ns is the process's start (its group leader's start_boottime, in
// ns after boot); start_ns / NSEC_PER_TICK is field 22 of /proc/PID/stat,
// the StartTicks half of a ProcKey.
static __always_inline u64 proc_start_ns(struct task_struct *task)
{
	return BPF_CORE_READ(task, group_leader, start_boottime);
}

// memcg_css is the task's memory-controller css (v1 memory hierarchy, or
// the v2 cgroup whose memory controller governs it); 0 without memcg.
static __always_inline struct cgroup_subsys_state *memcg_css(struct task_struct *task)
{
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return 0;
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return 0;
	return BPF_CORE_READ(task, cgroups, subsys[id]);
}

// css_cgroup_id is the kernfs id of the css's cgroup: the inode number of
// its directory in the hierarchy's mount, which user space maps to a path.
static __always_inline u64 css_cgroup_id(struct cgroup_subsys_state *css)
{
	if (!css)
		return 0;
	return BPF_CORE_READ(css, cgroup, kn, id);
}

#endif
