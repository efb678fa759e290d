//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
//
// Block I/O latency per device (what bcc/libbpf-tools biolatency measures):
// the time from block_rq_issue (the request handed to the driver) to
// block_rq_complete, in log2 slots of microseconds, read and write apart,
// per whole disk. Slot 0 is [0, 2) us, slot k >= 1 is [2^k, 2^(k+1)) us.
//
// Histograms are cumulative in the kernel; user space drains them once per
// frame and takes the differences, so nothing is lost between a read and a
// delete. I/Os slower than the configured threshold are also counted per
// device and written to a ring buffer (slowest-recent list); a failed
// reservation is counted in drop_counts, never silent.
//
// In tp_btf and raw_tp the request pointer is the key from issue to
// completion. The classic tracepoint records carry no pointer: the key is
// (dev, sector), as bcc's tools use it. The logic is in the
// __always_inline functions taking scalars, shared by every tier.

#include "../vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "../common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define MAX_SLOTS 27
#define OP_READ 0
#define OP_WRITE 1
#define OP_OTHER 2
#define REQ_OP_MASK_ 0xff
#define MINORBITS 20

// The start of a request in flight.
struct start_key {
	u64 id;     // struct request * (tp_btf, raw_tp) or 0
	u64 sector; // classic tracepoint: with dev
	u32 dev;
	u32 pad;
};

// Who a request is for: the task that submitted it (block_io_start runs
// in the submitter's context), or, in the tier without block_io_start, the
// task that issued it. Kernel workers (the writeback flusher, loop's
// workers) are one row, pid 0 with OWNER_KWORKER: not an application.
#define OWNER_KWORKER 1
#define OWNER_AT_ISSUE 2
#define PF_KTHREAD_ 0x00200000

struct owner {
	u64 start_ns; // the process's start (common.h proc_start_ns), 0 for kworkers
	u32 pid;      // tgid
	u32 flags;    // OWNER_*
	char comm[16];
};

struct start_val {
	u64 ts;
	u64 sector;
	u32 dev;
	u32 bytes;
	u32 pid; // tgid of the owner (struct owner)
	u32 op;
	char comm[16];
	u64 start_ns;
	u32 flags;
	u32 pad;
};

// Per process (owner) totals since the last drain: user space reads and
// deletes them once per frame (an I/O completing between the read and the
// delete of its row is lost; the histograms, cumulative, are exact).
struct proc_key {
	u64 start_ns;
	u32 pid;
	u32 pad;
};

struct proc_io {
	u64 bytes[2]; // OP_READ, OP_WRITE
	u64 ios[2];
	u64 lat_ns;     // summed latency of those I/Os
	u64 lat_max_ns; // the slowest one
	u32 flags;
	u32 pad;
	char comm[16];
};

struct hist_key {
	u32 dev; // kernel dev_t encoding: major << 20 | minor
	u32 op;  // OP_READ or OP_WRITE
};

struct hist {
	u64 slots[MAX_SLOTS];
	u64 slow;     // I/Os at or above the slow threshold
	u64 total_ns; // summed latency
};

// One slow I/O, for the event path (decoded by hand in probes/ebpf: a
// ring buffer's records have no BTF type for bpf2go).
struct slow_io {
	u64 ts;     // completion, CLOCK_MONOTONIC ns
	u64 lat_ns;
	u64 sector;
	u32 dev;
	u32 bytes;
	u32 pid;
	u32 op;
	char comm[16];
};

struct config {
	u64 slow_ns; // 0: no slow events
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct start_key);
	__type(value, struct start_val);
} starts SEC(".maps");

// Owners of requests started but not yet issued (tp_btf, raw_tp): LRU so
// a start whose issue we never see cannot fill it for good.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct start_key);
	__type(value, struct owner);
} owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct proc_key);
	__type(value, struct proc_io);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hist_key);
	__type(value, struct hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct config);
} cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} slow_events SEC(".maps");

// drop_counts[0]: slow I/Os whose ring-buffer reservation failed; the
// starts map being full is counted separately (missed); completed I/Os the
// procs map had no room for (proc_ios, proc_bytes: not attributed).
struct drops {
	u64 ring;
	u64 missed;
	u64 proc_ios;
	u64 proc_bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct drops);
} drop_counts SEC(".maps");

static __always_inline u32 log2_slot(u64 us)
{
	u32 slot = 0;
	while (us > 1 && slot < MAX_SLOTS - 1) {
		us >>= 1;
		slot++;
	}
	return slot;
}

static __always_inline struct drops *drops(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&drop_counts, &zero);
}

// The key of a request in flight: its pointer where the tier has one,
// otherwise (dev, sector).
static __always_inline struct start_key start_key(u64 id, u32 dev, u64 sector)
{
	struct start_key k = {};
	if (id)
		k.id = id;
	else {
		k.dev = dev;
		k.sector = sector;
	}
	return k;
}

// current_owner is the running task as a request's owner.
static __always_inline void current_owner(struct owner *o)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	bpf_get_current_comm(&o->comm, sizeof(o->comm));
	u32 flags = BPF_CORE_READ(task, flags);
	if ((flags & PF_KTHREAD_) && o->comm[0] == 'k' && o->comm[1] == 'w' && o->comm[2] == 'o' &&
	    o->comm[3] == 'r' && o->comm[4] == 'k' && o->comm[5] == 'e' && o->comm[6] == 'r') {
		o->flags |= OWNER_KWORKER;
		return; // pid 0, start 0: the kernel workers' row
	}
	// The pid of vitals' /proc (common.h); outside its PID namespace a
	// process has none there: PID_OUTSIDE, start 0, one row user space
	// counts as unattributed.
	o->pid = current_tgid_vitals();
	if (o->pid != PID_OUTSIDE)
		o->start_ns = proc_start_ns(task);
}

// on_start records the submitter of a request (block_io_start).
static __always_inline void on_start(u64 id, u32 dev, u64 sector)
{
	struct start_key k = start_key(id, dev, sector);
	struct owner o = {};
	current_owner(&o);
	bpf_map_update_elem(&owners, &k, &o, BPF_ANY);
}

static __always_inline void on_issue(u64 id, u32 dev, u64 sector, u32 bytes, u32 op)
{
	if (op == OP_OTHER)
		return;
	struct start_key k = start_key(id, dev, sector);
	struct start_val v = {.ts = bpf_ktime_get_ns(), .sector = sector, .dev = dev, .bytes = bytes, .op = op};
	struct owner *src = bpf_map_lookup_elem(&owners, &k);
	struct owner o = {};
	if (src) {
		o = *src;
		bpf_map_delete_elem(&owners, &k);
	} else {
		current_owner(&o);
		o.flags |= OWNER_AT_ISSUE;
	}
	v.pid = o.pid;
	v.start_ns = o.start_ns;
	v.flags = o.flags;
	__builtin_memcpy(v.comm, o.comm, sizeof(v.comm));
	if (bpf_map_update_elem(&starts, &k, &v, BPF_ANY) != 0) {
		struct drops *d = drops();
		if (d)
			d->missed++;
	}
}

// account_proc adds a completed I/O to its owner's totals.
static __always_inline void account_proc(struct start_val *v, u64 lat)
{
	struct proc_key pk = {.start_ns = v->start_ns, .pid = v->pid};
	struct proc_io *p = bpf_map_lookup_elem(&procs, &pk);
	if (!p) {
		struct proc_io zero = {.flags = v->flags};
		__builtin_memcpy(zero.comm, v->comm, sizeof(zero.comm));
		bpf_map_update_elem(&procs, &pk, &zero, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&procs, &pk);
		if (!p) {
			struct drops *d = drops();
			if (d) {
				d->proc_ios++;
				d->proc_bytes += v->bytes;
			}
			return;
		}
	}
	u32 op = v->op & 1;
	__sync_fetch_and_add(&p->bytes[op], v->bytes);
	__sync_fetch_and_add(&p->ios[op], 1);
	__sync_fetch_and_add(&p->lat_ns, lat);
	if (lat > p->lat_max_ns)
		p->lat_max_ns = lat; // racy between CPUs: a max, not a sum
}

static __always_inline void on_complete(u64 id, u32 dev, u64 sector)
{
	struct start_key k = start_key(id, dev, sector);
	struct start_val *v = bpf_map_lookup_elem(&starts, &k);
	if (!v)
		return; // issued before we attached, or a partial completion already counted
	u64 now = bpf_ktime_get_ns();
	u64 lat = now > v->ts ? now - v->ts : 0;
	struct hist_key hk = {.dev = v->dev, .op = v->op};
	struct hist *h = bpf_map_lookup_elem(&hists, &hk);
	if (!h) {
		struct hist zero = {};
		bpf_map_update_elem(&hists, &hk, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &hk);
		if (!h)
			goto out;
	}
	account_proc(v, lat);
	u32 slot = log2_slot(lat / 1000);
	if (slot < MAX_SLOTS)
		__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->total_ns, lat);
	u32 zero = 0;
	struct config *c = bpf_map_lookup_elem(&cfg, &zero);
	if (c && c->slow_ns && lat >= c->slow_ns) {
		__sync_fetch_and_add(&h->slow, 1);
		struct slow_io *e = bpf_ringbuf_reserve(&slow_events, sizeof(*e), 0);
		if (!e) {
			struct drops *d = drops();
			if (d)
				d->ring++;
			goto out;
		}
		e->ts = now;
		e->lat_ns = lat;
		e->sector = v->sector;
		e->dev = v->dev;
		e->bytes = v->bytes;
		e->pid = v->pid;
		e->op = v->op;
		__builtin_memcpy(e->comm, v->comm, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	}
out:
	bpf_map_delete_elem(&starts, &k);
}

static __always_inline u32 rq_op(struct request *rq)
{
	u32 op = BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK_;
	if (op == 0)
		return OP_READ;
	if (op == 1)
		return OP_WRITE;
	return OP_OTHER;
}

// The whole disk, as the classic tracepoints report it (disk_devt).
static __always_inline u32 rq_dev(struct request *rq)
{
	struct gendisk *disk = BPF_CORE_READ(rq, q, disk);
	if (!disk)
		return 0;
	u32 major = BPF_CORE_READ(disk, major);
	u32 minor = BPF_CORE_READ(disk, first_minor);
	return major << MINORBITS | minor;
}

// ---- tier tp_btf (6.5+ for block_io_start)

SEC("tp_btf/block_io_start")
int BPF_PROG(tpbtf_start, struct request *rq)
{
	on_start((u64)rq, 0, 0);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(tpbtf_issue, struct request *rq)
{
	on_issue((u64)rq, rq_dev(rq), BPF_CORE_READ(rq, __sector), BPF_CORE_READ(rq, __data_len), rq_op(rq));
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(tpbtf_complete, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	on_complete((u64)rq, 0, 0);
	return 0;
}

// ---- tier raw_tp: the same, memory read through probe_read

SEC("raw_tp/block_io_start")
int BPF_PROG(rawtp_start, struct request *rq)
{
	on_start((u64)rq, 0, 0);
	return 0;
}

SEC("raw_tp/block_rq_issue")
int BPF_PROG(rawtp_issue, struct request *rq)
{
	on_issue((u64)rq, rq_dev(rq), BPF_CORE_READ(rq, __sector), BPF_CORE_READ(rq, __data_len), rq_op(rq));
	return 0;
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(rawtp_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	on_complete((u64)rq, 0, 0);
	return 0;
}

// ---- tier tracepoint: the classic records, keyed by (dev, sector). No
// block_io_start here (older kernels lack it): the owner is the task that
// issued the request (OWNER_AT_ISSUE), usually but not always the
// submitter.

static __always_inline u32 rwbs_op(const char *ctx_rwbs)
{
	char rwbs[4] = {};
	// The record is the context: no variable offsets into it.
	bpf_probe_read_kernel(rwbs, sizeof(rwbs), ctx_rwbs);
	// "R", "RS", "W", "WS", "FWS", "WFS", "D", "DS", "N", "FN"...
	for (int i = 0; i < 4; i++) {
		char c = rwbs[i];
		if (c == 'D')
			return OP_OTHER;
		if (c == 'W')
			return OP_WRITE;
		if (c == 'R')
			return OP_READ;
		if (c == 0)
			break;
	}
	return OP_OTHER;
}

SEC("tracepoint/block/block_rq_issue")
int tp_issue(struct trace_event_raw_block_rq *ctx)
{
	on_issue(0, ctx->dev, ctx->sector, ctx->bytes, rwbs_op(ctx->rwbs));
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int tp_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	on_complete(0, ctx->dev, ctx->sector);
	return 0;
}
