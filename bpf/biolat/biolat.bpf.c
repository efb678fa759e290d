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

struct start_val {
	u64 ts;
	u64 sector;
	u32 dev;
	u32 bytes;
	u32 pid; // tgid of the task that issued the request
	u32 op;
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
// starts map being full is counted separately (missed).
struct drops {
	u64 ring;
	u64 missed;
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

static __always_inline void on_issue(u64 id, u32 dev, u64 sector, u32 bytes, u32 op)
{
	if (op == OP_OTHER)
		return;
	struct start_key k = start_key(id, dev, sector);
	struct start_val v = {.ts = bpf_ktime_get_ns(), .sector = sector, .dev = dev, .bytes = bytes, .op = op};
	v.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&v.comm, sizeof(v.comm));
	if (bpf_map_update_elem(&starts, &k, &v, BPF_ANY) != 0) {
		struct drops *d = drops();
		if (d)
			d->missed++;
	}
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

// ---- tier tp_btf (5.5+)

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

// ---- tier raw_tp (4.17+): the same, memory read through probe_read

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

// ---- tier tracepoint: the classic records, keyed by (dev, sector)

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
