// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
//
// Helpers shared by vitals' BPF objects (procevents, oomkill, runqlat).
// Everything here reads through CO-RE (BPF_CORE_READ), so it works from
// every program type a tier uses: tp_btf, raw_tp, classic tracepoints,
// fentry and kprobes.

#ifndef VITALS_COMMON_H
#define VITALS_COMMON_H

#define NSEC_PER_TICK 10000000ULL /* USER_HZ 100, as /proc/PID/stat */

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
