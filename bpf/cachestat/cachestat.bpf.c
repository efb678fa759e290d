//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
//
// Page-cache accounting per process (what bcc cachestat/cachetop measure),
// counted in pages. Design and measurements: shared/notes/ebpf.md.
//
//   accessed  pages read through the page cache: mm_filemap_get_pages ranges,
//             de-duplicated per thread (one read() fires it once per batch
//             with the remaining range) and clamped to end of file.
//   added     pages added to the page cache (1 << folio order): reads that
//             missed, and writes that created new pages.
//   dirtied   pages dirtied (folio size; the classic tracepoint tier only
//             sees one event per folio and counts it as one page).
//   write_added  pages added inside write-family syscalls (classic tier only,
//             where dirtied has no folio size).
//
// User space computes per interval: misses = clamp(added - max(dirtied,
// write_added), 0, accessed), hits = accessed - misses.
//
// The object holds one program set per attach tier; the loader loads each
// tier separately and shares the maps. The counting lives in the
// __always_inline functions below, which take scalars, so every tier and the
// raw_tp test program (BPF_PROG_TEST_RUN) run the same code.

#include "../vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define PAGE_SHIFT 12
#define NO_EOF ((u64)-1)
#define E2BIG 7 /* uapi errno: hash map full */

// Per-process counters, keyed by tgid; drained (looked up and deleted) by
// user space once per refresh.
struct proc_counts {
	u64 accessed;
	u64 added;
	u64 dirtied;
	u64 write_added;
	u32 uid;
	u32 pad;
	char comm[16];
};

// System-wide counters, index 0 of a per-CPU array. Cumulative: user space
// computes deltas, so nothing is lost between a read and a reset.
struct totals {
	u64 accessed;
	u64 added;
	u64 dirtied;
	u64 write_added;
	u64 proc_map_full; // per-process updates lost because the map was full
};

// Per-thread state in task storage.
struct thread_state {
	// The last counted read range, for de-duplication.
	u64 file;
	u64 dev;
	u64 first;
	u64 last;
	// Classic tier: inside a write-family syscall.
	u32 in_write;
	// Classic tier: inside a read-family syscall, and the pages counted in
	// it so far (corrected at syscall exit to the bytes actually read).
	u32 in_read;
	u64 read_pages;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u32);
	__type(value, struct proc_counts);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct totals);
} system_totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} threads SEC(".maps");

enum counter {
	C_ACCESSED,
	C_ADDED,
	C_DIRTIED,
	C_WRITE_ADDED,
};

static __always_inline struct totals *get_totals(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&system_totals, &zero);
}

static __always_inline struct proc_counts *get_proc(void)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct proc_counts *pc = bpf_map_lookup_elem(&procs, &tgid);
	if (pc)
		return pc;

	struct proc_counts init = {};
	init.uid = (u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(init.comm, sizeof(init.comm));
	if (bpf_map_update_elem(&procs, &tgid, &init, BPF_NOEXIST) == -E2BIG) {
		struct totals *t = get_totals();
		if (t)
			t->proc_map_full++;
		return 0;
	}
	return bpf_map_lookup_elem(&procs, &tgid);
}

// count adds n to one counter of the current process and of the system.
static __always_inline void count(enum counter c, u64 n)
{
	if (n == 0)
		return;
	struct totals *t = get_totals();
	if (t) {
		switch (c) {
		case C_ACCESSED: t->accessed += n; break;
		case C_ADDED: t->added += n; break;
		case C_DIRTIED: t->dirtied += n; break;
		case C_WRITE_ADDED: t->write_added += n; break;
		}
	}
	struct proc_counts *pc = get_proc();
	if (!pc)
		return;
	switch (c) {
	case C_ACCESSED:
		// The entry may have been created before exec (a shell forking
		// cat): reads come after exec, so take the name again here.
		bpf_get_current_comm(pc->comm, sizeof(pc->comm));
		__sync_fetch_and_add(&pc->accessed, n);
		break;
	case C_ADDED: __sync_fetch_and_add(&pc->added, n); break;
	case C_DIRTIED: __sync_fetch_and_add(&pc->dirtied, n); break;
	case C_WRITE_ADDED: __sync_fetch_and_add(&pc->write_added, n); break;
	}
}

static __always_inline struct thread_state *thread(void)
{
	return bpf_task_storage_get(&threads, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
}

// read_range_pages is the number of pages a mm_filemap_get_pages event adds
// to the reads of this thread: 0 for a continuation of the previous event
// (same file, same last index, first index inside the previous range),
// otherwise [first, last] clamped to eof_index (NO_EOF: not known).
static __always_inline u64 read_range_pages(struct thread_state *ts, u64 file, u64 dev,
					    u64 first, u64 last, u64 eof_index)
{
	if (ts) {
		if (ts->file == file && ts->dev == dev && ts->last == last &&
		    first >= ts->first && first <= ts->last)
			return 0;
		ts->file = file;
		ts->dev = dev;
		ts->first = first;
		ts->last = last;
	}
	if (last > eof_index)
		last = eof_index;
	if (eof_index == NO_EOF - 1 || first > last)
		return 0;
	return last - first + 1;
}

// eof_index is the index of the last page of a file of i_size bytes, or
// NO_EOF - 1 ("nothing to read") for an empty file.
static __always_inline u64 eof_index(s64 i_size)
{
	if (i_size <= 0)
		return NO_EOF - 1;
	return ((u64)i_size - 1) >> PAGE_SHIFT;
}

// on_read_range counts the pages of one mm_filemap_get_pages event. Inside a
// read syscall of the classic tier they are held in the thread state and
// counted at syscall exit, clamped to the bytes the syscall returned.
static __always_inline void on_read_range(u64 file, u64 dev, u64 first, u64 last, u64 eof)
{
	struct thread_state *ts = thread();
	u64 n = read_range_pages(ts, file, dev, first, last, eof);
	if (n == 0)
		return;
	if (ts && ts->in_read) {
		ts->read_pages += n;
		return;
	}
	count(C_ACCESSED, n);
}

static __always_inline void on_add(u64 pages, int in_write_known)
{
	count(C_ADDED, pages);
	if (in_write_known) {
		struct thread_state *ts = thread();
		if (ts && ts->in_write)
			count(C_WRITE_ADDED, pages);
	}
}

static __always_inline void on_dirty(u64 pages)
{
	count(C_DIRTIED, pages);
}

static __always_inline void on_write_syscall(int enter)
{
	struct thread_state *ts = thread();
	if (ts)
		ts->in_write = enter;
}

static __always_inline void on_read_syscall_enter(void)
{
	struct thread_state *ts = thread();
	if (ts) {
		ts->in_read = 1;
		ts->read_pages = 0;
	}
}

// read_syscall_pages clamps the pages counted inside one read syscall to the
// pages the bytes it returned can span (the classic tier cannot clamp to end
// of file: its record has no inode size). A read at a page-unaligned offset
// spans one more page than this; that page was counted by the previous read.
static __always_inline u64 read_syscall_pages(u64 counted, s64 ret)
{
	u64 max = ret > 0 ? ((u64)ret + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT : 0;
	return counted < max ? counted : max;
}

static __always_inline void on_read_syscall_exit(s64 ret)
{
	struct thread_state *ts = thread();
	if (!ts || !ts->in_read)
		return;
	u64 n = read_syscall_pages(ts->read_pages, ret);
	ts->in_read = 0;
	ts->read_pages = 0;
	count(C_ACCESSED, n);
}

// ---- kernel object readers (CO-RE, valid in tp_btf, raw_tp, fentry, kprobe)

static __always_inline u64 folio_pages(struct folio *folio)
{
	u64 flags = 0, flags1 = 0;
	// memdesc_flags_t (6.17+) and unsigned long (before) share the layout.
	bpf_core_read(&flags, sizeof(flags), &folio->flags);
	if (!(flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head))))
		return 1;
	flags1 = BPF_CORE_READ(folio, _flags_1);
	return 1UL << (flags1 & 0xff);
}

static __always_inline void on_get_pages_mapping(struct address_space *mapping, u64 first, u64 last)
{
	s64 i_size = BPF_CORE_READ(mapping, host, i_size);
	on_read_range((u64)mapping, 0, first, last, eof_index(i_size));
}

// ---- tier tp_btf: BTF-typed tracepoints (5.5+)

SEC("tp_btf/mm_filemap_get_pages")
int BPF_PROG(tpbtf_get_pages, struct address_space *mapping, unsigned long first, unsigned long last)
{
	on_get_pages_mapping(mapping, first, last);
	return 0;
}

SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(tpbtf_add, struct folio *folio)
{
	on_add(folio_pages(folio), 0);
	return 0;
}

SEC("tp_btf/writeback_dirty_folio")
int BPF_PROG(tpbtf_dirty, struct folio *folio, struct address_space *mapping)
{
	on_dirty(folio_pages(folio));
	return 0;
}

// ---- tier raw_tp: the same on raw tracepoints (4.17+)

SEC("raw_tp/mm_filemap_get_pages")
int BPF_PROG(rawtp_get_pages, struct address_space *mapping, unsigned long first, unsigned long last)
{
	on_get_pages_mapping(mapping, first, last);
	return 0;
}

SEC("raw_tp/mm_filemap_add_to_page_cache")
int BPF_PROG(rawtp_add, struct folio *folio)
{
	on_add(folio_pages(folio), 0);
	return 0;
}

SEC("raw_tp/writeback_dirty_folio")
int BPF_PROG(rawtp_dirty, struct folio *folio, struct address_space *mapping)
{
	on_dirty(folio_pages(folio));
	return 0;
}

// ---- tier fentry: kernel functions, as bcc cachestat (5.5+, BPF trampoline)

SEC("fentry/folio_mark_accessed")
int BPF_PROG(fentry_accessed, struct folio *folio)
{
	count(C_ACCESSED, folio_pages(folio));
	return 0;
}

SEC("fentry/filemap_add_folio")
int BPF_PROG(fentry_add, struct address_space *mapping, struct folio *folio)
{
	on_add(folio_pages(folio), 0);
	return 0;
}

SEC("fentry/__folio_mark_dirty")
int BPF_PROG(fentry_dirty, struct folio *folio, struct address_space *mapping)
{
	on_dirty(folio_pages(folio));
	return 0;
}

// ---- tier kprobe: the same functions through kprobes (x86-64 registers)

SEC("kprobe/folio_mark_accessed")
int BPF_KPROBE(kprobe_accessed, struct folio *folio)
{
	count(C_ACCESSED, folio_pages(folio));
	return 0;
}

SEC("kprobe/filemap_add_folio")
int BPF_KPROBE(kprobe_add, struct address_space *mapping, struct folio *folio)
{
	on_add(folio_pages(folio), 0);
	return 0;
}

SEC("kprobe/__folio_mark_dirty")
int BPF_KPROBE(kprobe_dirty, struct folio *folio, struct address_space *mapping)
{
	on_dirty(folio_pages(folio));
	return 0;
}

// ---- tier tracepoint: classic tracepoints (records as in tracefs format)

struct tp_get_pages {
	u64 common;
	unsigned long i_ino;
	u32 s_dev;
	unsigned long index;
	unsigned long last_index;
};

struct tp_add {
	u64 common;
	unsigned long pfn;
	unsigned long i_ino;
	unsigned long index;
	u32 s_dev;
	u8 order;
};

struct tp_sys_exit {
	u64 common;
	s32 nr;
	s64 ret;
};

SEC("tracepoint/filemap/mm_filemap_get_pages")
int tp_get_pages(struct tp_get_pages *ctx)
{
	// No inode size here: clamped at read-syscall exit instead.
	on_read_range(ctx->i_ino, ctx->s_dev, ctx->index, ctx->last_index, NO_EOF);
	return 0;
}

SEC("tracepoint/filemap/mm_filemap_add_to_page_cache")
int tp_add(struct tp_add *ctx)
{
	on_add(1UL << (ctx->order & 31), 1);
	return 0;
}

SEC("tracepoint/writeback/writeback_dirty_folio")
int tp_dirty(void *ctx)
{
	on_dirty(1); // no folio size in this record
	return 0;
}

#define WRITE_SYSCALL(name)                                     \
	SEC("tracepoint/syscalls/sys_enter_" #name)             \
	int tp_enter_##name(void *ctx) { on_write_syscall(1); return 0; } \
	SEC("tracepoint/syscalls/sys_exit_" #name)              \
	int tp_exit_##name(void *ctx) { on_write_syscall(0); return 0; }

#define READ_SYSCALL(name)                                      \
	SEC("tracepoint/syscalls/sys_enter_" #name)             \
	int tp_enter_##name(void *ctx) { on_read_syscall_enter(); return 0; } \
	SEC("tracepoint/syscalls/sys_exit_" #name)              \
	int tp_exit_##name(struct tp_sys_exit *ctx) { on_read_syscall_exit(ctx->ret); return 0; }

WRITE_SYSCALL(write)
WRITE_SYSCALL(pwrite64)
WRITE_SYSCALL(writev)
WRITE_SYSCALL(pwritev)
WRITE_SYSCALL(pwritev2)
READ_SYSCALL(read)
READ_SYSCALL(pread64)
READ_SYSCALL(readv)
READ_SYSCALL(preadv)
READ_SYSCALL(preadv2)

// ---- unit-test entry: BPF_PROG_TEST_RUN of a raw_tp program, args are
// scalars: args[0] is the operation, args[1..] its operands. It runs the
// counting functions above in the calling thread's context.

enum test_op {
	OP_READ_RANGE = 1, // file, first, last, i_size (-1: unknown)
	OP_ADD = 2,        // pages
	OP_DIRTY = 3,      // pages
	OP_WRITE_ENTER = 4,
	OP_WRITE_EXIT = 5,
	OP_READ_ENTER = 6,
	OP_READ_EXIT = 7, // ret
	OP_ADD_CLASSIC = 8, // pages (write-syscall aware)
};

SEC("raw_tp")
int test_count(u64 *ctx)
{
	u64 op = ctx[0];
	switch (op) {
	case OP_READ_RANGE: {
		s64 i_size = (s64)ctx[4];
		on_read_range(ctx[1], 0, ctx[2], ctx[3], i_size < 0 ? NO_EOF : eof_index(i_size));
		break;
	}
	case OP_ADD: on_add(ctx[1], 0); break;
	case OP_ADD_CLASSIC: on_add(ctx[1], 1); break;
	case OP_DIRTY: on_dirty(ctx[1]); break;
	case OP_WRITE_ENTER: on_write_syscall(1); break;
	case OP_WRITE_EXIT: on_write_syscall(0); break;
	case OP_READ_ENTER: on_read_syscall_enter(); break;
	case OP_READ_EXIT: on_read_syscall_exit((s64)ctx[1]); break;
	default: return 1;
	}
	return 0;
}
