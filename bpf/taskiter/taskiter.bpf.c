//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
//
// The process table in one pass over the kernel's tasks: an iter/task
// program writing one fixed-size record per task (every thread) into the
// iterator's seq_file, so user space reads every process's counters with a
// few read()s of 32 KiB (the kernel hands out at most 8 pages per read)
// instead of opening and parsing three or four /proc files per process.
//
// A record holds what /proc/PID/{stat,schedstat,status,statm,io} would say
// of that task, as raw kernel values; user space does the arithmetic that
// the /proc show-functions do (ns to clock ticks, the state letter, the
// utime/stime split) so it is unit-testable in Go. Thread-group totals are
// made in user space by summing the records of a group:
//
//   - utime, stime, runtime, faults and I/O: each task's own counters, plus,
//     on the group leader's record only, what the signal struct keeps of the
//     threads that have exited. The sum over a group's records is then
//     exactly what thread_group_cputime() and do_io_accounting() sum for
//     /proc/PID/stat and /proc/PID/io.
//   - voluntary/involuntary switches, run delay and switch-ins: each task's
//     own counters only (/proc/PID/task/TID/status and schedstat), so the
//     scanner sums per-thread deltas exactly as its procfs tier does.
//   - everything else (ppid, uid, state, nice, cpu, threads, start time,
//     RSS, VSZ): the leader's, valid on the leader's record.
//
// RSS is exact, as statm and status are since 6.2-era kernels sum the
// per-CPU parts of mm->rss_stat: count + the per-CPU deltas of every
// possible CPU. The per-CPU offsets are learnt once from a one-element
// per-CPU array map (the distance between its per-CPU pointer and the
// address bpf_map_lookup_percpu_elem returns for each CPU); without them
// (cpu_off_ok == 0) rss falls back to the counters' approximate totals and
// the record says so (REC_RSS_APPROX).

#include "../vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "../common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define MAX_CPUS 1024

// The NR_MM_COUNTERS members of mm->rss_stat that make up the resident
// set (include/linux/mm_types_task.h): MM_FILEPAGES, MM_ANONPAGES,
// MM_SHMEMPAGES (MM_SWAPENTS, 2, is not resident).
#define MM_FILEPAGES 0
#define MM_ANONPAGES 1
#define MM_SHMEMPAGES 3

// Record flags.
#define REC_LEADER 0x1     // tid == tgid: the leader's fields are valid
#define REC_MM 0x2         // the task has an address space (not a kernel thread)
#define REC_SCHED 0x4      // sched_info (CONFIG_SCHED_INFO): run_delay, pcount
#define REC_IO_CHARS 0x8   // ioac rchar, wchar, syscr, syscw (CONFIG_TASK_XACCT)
#define REC_IO_BYTES 0x10  // ioac read/write/cancelled bytes (CONFIG_TASK_IO_ACCOUNTING)
#define REC_RSS_APPROX 0x20 // rss is the counters' approximate total
#define REC_DELAY 0x40     // blkio_delay is read (the task has delay accounting)

struct task_rec {
	u32 tid;
	u32 tgid;
	u32 ppid;       // real_parent's tgid (leader)
	u32 uid;        // real uid (leader)
	u32 state;      // __state (leader)
	u32 exit_state; // (leader)
	s32 nice;       // static_prio - 120 (leader)
	u32 cpu;        // the CPU it last ran on (leader)
	s32 nr_threads; // signal->nr_threads (leader)
	u32 flags;      // REC_*
	u64 start_ns;   // start_boottime (leader)
	// Own, plus the exited threads' on the leader's record.
	u64 utime_ns;
	u64 stime_ns;
	u64 runtime_ns; // se.sum_exec_runtime (+ signal->sum_sched_runtime)
	u64 min_flt;
	u64 maj_flt;
	// Own only.
	u64 nvcsw;
	u64 nivcsw;
	u64 run_delay;   // sched_info.run_delay, ns
	u64 pcount;      // sched_info.pcount: switch-ins
	u64 own_runtime; // se.sum_exec_runtime: schedstat field 1
	// The leader's: signal->prev_cputime, where cputime_adjust starts.
	u64 prev_utime_ns;
	u64 prev_stime_ns;
	u64 rss_pages; // file + anon + shmem (leader)
	u64 vm_pages;  // mm->total_vm (leader)
	// ioac, own (+ signal->ioac on the leader): rchar, wchar, syscr,
	// syscw, read_bytes, write_bytes, cancelled_write_bytes.
	u64 io[7];
	// delays->blkio_delay, ns (leader): /proc/PID/stat field 42 in ns.
	u64 blkio_delay;
	char comm[16]; // task->comm, to notice an exec or a rename
};

// Names the record type in the object's BTF, for bpf2go's Go twin.
const struct task_rec *unused_task_rec __attribute__((unused));

// Set by the loader: how many CPUs are possible (per-CPU counters exist
// for each).
const volatile u32 nr_cpus = 1;

// The per-CPU offset of each possible CPU, learnt at the first run.
u64 cpu_off[MAX_CPUS];
u32 cpu_off_ok;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} percpu_probe SEC(".maps");

// as_scalar copies a pointer's value into a plain integer, which the
// verifier then lets us do arithmetic on (privileged programs only; this
// one needs CAP_BPF+CAP_PERFMON anyway).
static __always_inline u64 as_scalar(void *p)
{
	u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

static __noinline int learn_cpu_offsets(void)
{
	u32 zero = 0;
	void *map = &percpu_probe;
	u64 base = 0;
	// struct bpf_array's pptrs[0]: the per-CPU pointer of element 0.
	u64 pptrs = as_scalar(map) + bpf_core_field_offset(struct bpf_array, pptrs);
	if (bpf_probe_read_kernel(&base, sizeof(base), (void *)pptrs) || !base)
		return 0;
	for (u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (cpu >= nr_cpus)
			break;
		void *p = bpf_map_lookup_percpu_elem(&percpu_probe, &zero, cpu);
		if (!p)
			return 0;
		cpu_off[cpu] = as_scalar(p) - base;
	}
	return 1;
}

// rss_sum is statm's resident count: for each of the three counters,
// percpu_counter_sum_positive(), i.e. count plus every possible CPU's
// unfolded delta, never negative. Kernels that allocate an mm's counters
// together (percpu_counter_init_many, 6.7+) have them side by side on each
// CPU: one 16-byte read per CPU then, otherwise three.
static __always_inline u64 rss_sum(struct mm_struct *mm, int exact)
{
	s64 file = mm->rss_stat[MM_FILEPAGES].count;
	s64 anon = mm->rss_stat[MM_ANONPAGES].count;
	s64 shmem = mm->rss_stat[MM_SHMEMPAGES].count;
	if (exact) {
		u64 c0 = (u64)mm->rss_stat[MM_FILEPAGES].counters;
		u64 c1 = (u64)mm->rss_stat[MM_ANONPAGES].counters;
		u64 c3 = (u64)mm->rss_stat[MM_SHMEMPAGES].counters;
		int together = c1 == c0 + 4 && c3 == c0 + 12;
		for (u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
			if (cpu >= nr_cpus)
				break;
			u64 off = cpu_off[cpu & (MAX_CPUS - 1)];
			if (together) {
				s32 v[4] = {};
				bpf_probe_read_kernel(v, sizeof(v), (void *)(c0 + off));
				file += v[0];
				anon += v[1];
				shmem += v[3];
			} else {
				s32 v = 0;
				bpf_probe_read_kernel(&v, sizeof(v), (void *)(c0 + off));
				file += v;
				v = 0;
				bpf_probe_read_kernel(&v, sizeof(v), (void *)(c1 + off));
				anon += v;
				v = 0;
				bpf_probe_read_kernel(&v, sizeof(v), (void *)(c3 + off));
				shmem += v;
			}
		}
	}
	return (file < 0 ? 0 : file) + (anon < 0 ? 0 : anon) + (shmem < 0 ? 0 : shmem);
}

// Direct loads through the task's BTF pointers (the JIT makes them plain
// loads with a fault handler) rather than bpf_probe_read_kernel helper
// calls: about 100 ns each on this project's VMs, which made the record
// cost 3.5 us instead of under 1.
static __always_inline void add_io(struct task_rec *r, struct task_io_accounting *io)
{
	if (bpf_core_field_exists(io->rchar)) {
		r->io[0] += io->rchar;
		r->io[1] += io->wchar;
		r->io[2] += io->syscr;
		r->io[3] += io->syscw;
		r->flags |= REC_IO_CHARS;
	}
	if (bpf_core_field_exists(io->read_bytes)) {
		r->io[4] += io->read_bytes;
		r->io[5] += io->write_bytes;
		r->io[6] += io->cancelled_write_bytes;
		r->flags |= REC_IO_BYTES;
	}
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *t = ctx->task;
	struct task_rec r = {};

	if (!t)
		return 0;
	if (!cpu_off_ok)
		cpu_off_ok = learn_cpu_offsets();

	// The pids of the /proc vitals reads (bpf/common.h): the kernel's own
	// are the initial namespace's. A task without a number there (the
	// iterator walks the reader's namespace, which can differ from that
	// /proc's) is not one /proc shows.
	r.tid = task_tid_vitals(t);
	r.tgid = task_tgid_vitals(t);
	if (r.tid == PID_OUTSIDE || r.tgid == PID_OUTSIDE)
		return 0;
	r.utime_ns = t->utime;
	r.stime_ns = t->stime;
	r.runtime_ns = t->se.sum_exec_runtime;
	r.own_runtime = r.runtime_ns;
	r.min_flt = t->min_flt;
	r.maj_flt = t->maj_flt;
	r.nvcsw = t->nvcsw;
	r.nivcsw = t->nivcsw;
	if (bpf_core_field_exists(t->sched_info)) {
		r.run_delay = t->sched_info.run_delay;
		r.pcount = t->sched_info.pcount;
		r.flags |= REC_SCHED;
	}
	add_io(&r, &t->ioac);
	__builtin_memcpy(r.comm, t->comm, sizeof(r.comm));

	if (r.tid == r.tgid) {
		struct signal_struct *sig = t->signal;
		struct mm_struct *mm = t->mm;

		r.flags |= REC_LEADER;
		r.ppid = task_tgid_vitals(t->real_parent);
		// A namespace's init has its parent outside: /proc says 0.
		if (r.ppid == PID_OUTSIDE)
			r.ppid = 0;
		r.uid = t->real_cred->uid.val;
		r.state = t->__state;
		r.exit_state = t->exit_state;
		r.nice = t->static_prio - 120;
		r.cpu = t->thread_info.cpu;
		r.start_ns = t->start_boottime;
		if (bpf_core_field_exists(t->delays)) {
			struct task_delay_info *dl = t->delays;
			if (dl) {
				r.blkio_delay = dl->blkio_delay;
				r.flags |= REC_DELAY;
			}
		}
		if (sig) {
			r.nr_threads = sig->nr_threads;
			r.utime_ns += sig->utime;
			r.stime_ns += sig->stime;
			r.runtime_ns += sig->sum_sched_runtime;
			r.min_flt += sig->min_flt;
			r.maj_flt += sig->maj_flt;
			r.prev_utime_ns = sig->prev_cputime.utime;
			r.prev_stime_ns = sig->prev_cputime.stime;
			add_io(&r, &sig->ioac);
		}
		if (mm) {
			r.flags |= REC_MM;
			if (!cpu_off_ok)
				r.flags |= REC_RSS_APPROX;
			r.vm_pages = mm->total_vm;
			r.rss_pages = rss_sum(mm, cpu_off_ok);
		}
	}
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}
