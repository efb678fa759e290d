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
//   mmap_pages   pages mapped in by page faults on files: the faulting page
//             (mm_filemap_fault) and fault-around ranges
//             (mm_filemap_map_pages), de-duplicated per thread.
//   mmap_added   pages added to the page cache by a fault (its readahead):
//             counted here and not in added, so that mmap readers are not
//             read misses, theirs or anyone else's.
//
// User space computes per interval and process: misses = clamp(added -
// max(dirtied, write_added), 0, accessed), hits = accessed - misses,
// mmap misses = mmap_added; the system line is the sum of the processes'
// figures. mmap_pages is a lower bound: the kernel maps a large folio whole
// from one fault, and a PMD-sized one without a fault-around event.
//
// The object holds one program set per attach tier; the loader loads each
// tier separately and shares the maps. The counting lives in the
// __always_inline functions below, which take scalars, so every tier and the
// raw_tp test program (BPF_PROG_TEST_RUN) run the same code.

#include "../vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "../common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define PAGE_SHIFT 12
#define NO_EOF ((u64)-1)
#define EEXIST 17 /* uapi errno */

// A process: tgid and the group leader's start time, so that a reused pid
// is a new entry, not the continuation of the process it replaces.
struct proc_key {
	u32 tgid;
	u32 pad;
	u64 start_ticks; // group_leader->start_boottime in USER_HZ ticks
};

// Per-process counters; drained (looked up and deleted) by user space once
// per refresh.
struct proc_counts {
	u64 accessed;
	u64 added;
	u64 dirtied;
	u64 write_added;
	u64 mmap_pages;
	u64 mmap_added;
	u32 uid;
	u32 pad;
	char comm[16];
};

// What the maps could not hold, index 0 of a per-CPU array. Cumulative:
// user space computes deltas. Only touched when an insert fails, so the
// hot path never looks it up.
struct drops {
	u64 proc_map_full; // events lost: their process found no room in procs
	// The pages of those events, per counter (enum counter): counted for
	// nobody, but still the system's, so the system line keeps them.
	u64 pages[6];
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
	// The file of the last page fault, until a read or a dirty follows:
	// pages of that file added meanwhile were added by the fault (the
	// kernel fires mm_filemap_fault before its readahead adds pages).
	u64 fault_file;
	u64 fault_dev;
	// The last counted mapped range, for de-duplication: fault-around
	// windows overlap the faulting page and each other.
	u64 map_file;
	u64 map_dev;
	u64 map_first;
	u64 map_last;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct proc_key);
	__type(value, struct proc_counts);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct drops);
} drop_counts SEC(".maps");

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
	C_MMAP_PAGES,
	C_MMAP_ADDED,
};

static __always_inline struct proc_counts *get_proc(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct proc_key key = {};
	key.tgid = current_tgid_vitals();
	// Processes outside vitals' PID namespace share one entry (start 0):
	// they are no row of ours, but their pages are the system's.
	if (key.tgid != PID_OUTSIDE)
		key.start_ticks = BPF_CORE_READ(task, group_leader, start_boottime) / NSEC_PER_TICK;
	struct proc_counts *pc = bpf_map_lookup_elem(&procs, &key);
	if (pc)
		return pc;

	struct proc_counts init = {};
	init.uid = (u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(init.comm, sizeof(init.comm));
	long err = bpf_map_update_elem(&procs, &key, &init, BPF_NOEXIST);
	// -EEXIST: another CPU inserted the entry first; any other error (map
	// full, no memory) loses this event, and that is counted.
	if (err && err != -EEXIST) {
		u32 zero = 0;
		struct drops *d = bpf_map_lookup_elem(&drop_counts, &zero);
		if (d)
			d->proc_map_full++;
		return 0;
	}
	return bpf_map_lookup_elem(&procs, &key);
}

// count adds n to one counter of the current process.
static __always_inline void count(enum counter c, u64 n)
{
	if (n == 0)
		return;
	struct proc_counts *pc = get_proc();
	if (!pc) {
		u32 zero = 0;
		struct drops *d = bpf_map_lookup_elem(&drop_counts, &zero);
		if (d && c < 6)
			d->pages[c] += n;
		return;
	}
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
	case C_MMAP_PAGES: __sync_fetch_and_add(&pc->mmap_pages, n); break;
	case C_MMAP_ADDED: __sync_fetch_and_add(&pc->mmap_added, n); break;
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
	if (ts)
		ts->fault_file = 0; // a read: what it adds are read misses
	u64 n = read_range_pages(ts, file, dev, first, last, eof);
	if (n == 0)
		return;
	if (ts && ts->in_read) {
		ts->read_pages += n;
		return;
	}
	count(C_ACCESSED, n);
}

// on_add counts pages added to the cache for file (mapping or inode, as the
// tier names files): by the thread's last page fault when it was on the
// same file, else by a read or a write.
static __always_inline void on_add(u64 pages, u64 file, u64 dev, int in_write_known)
{
	struct thread_state *ts = thread();
	if (ts && ts->fault_file && ts->fault_file == file && ts->fault_dev == dev) {
		count(C_MMAP_ADDED, pages);
		return;
	}
	count(C_ADDED, pages);
	if (in_write_known && ts && ts->in_write)
		count(C_WRITE_ADDED, pages);
}

static __always_inline void on_dirty(u64 pages)
{
	struct thread_state *ts = thread();
	if (ts)
		ts->fault_file = 0; // a write: what follows is not the fault's
	count(C_DIRTIED, pages);
}

// map_range_pages is the number of pages of a mapped range [first, last]
// not in the thread's last counted mapped range of the same file, and
// makes it the last counted one. A fault-around window that a page fault
// re-tries, or the faulting page inside the window mapped before it, adds
// nothing.
static __always_inline u64 map_range_pages(struct thread_state *ts, u64 file, u64 dev,
					   u64 first, u64 last)
{
	if (first > last)
		return 0;
	u64 n = last - first + 1;
	if (!ts)
		return n;
	if (ts->map_file == file && ts->map_dev == dev && first <= ts->map_last &&
	    last >= ts->map_first) {
		u64 lo = first > ts->map_first ? first : ts->map_first;
		u64 hi = last < ts->map_last ? last : ts->map_last;
		n -= hi - lo + 1;
	}
	ts->map_file = file;
	ts->map_dev = dev;
	ts->map_first = first;
	ts->map_last = last;
	return n;
}

// on_fault counts a page fault on page index of file and marks the thread
// as faulting on it, for the adds of the fault's readahead.
static __always_inline void on_fault(u64 file, u64 dev, u64 index)
{
	struct thread_state *ts = thread();
	u64 n = 1;
	if (ts) {
		ts->fault_file = file;
		ts->fault_dev = dev;
		// Inside the last counted window: already counted, and the
		// window stays the reference for the retry that follows.
		if (ts->map_file == file && ts->map_dev == dev &&
		    index >= ts->map_first && index <= ts->map_last)
			n = 0;
		else
			n = map_range_pages(ts, file, dev, index, index);
	}
	count(C_MMAP_PAGES, n);
}

// on_map counts a fault-around range [first, last] clamped to eof_index.
static __always_inline void on_map(u64 file, u64 dev, u64 first, u64 last, u64 eof)
{
	if (last > eof)
		last = eof;
	if (eof == NO_EOF - 1)
		return;
	count(C_MMAP_PAGES, map_range_pages(thread(), file, dev, first, last));
}

static __always_inline void on_write_syscall(int enter)
{
	struct thread_state *ts = thread();
	if (ts) {
		ts->in_write = enter;
		ts->fault_file = 0; // what a write adds is not a fault's
	}
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

static __always_inline void on_add_folio(struct folio *folio)
{
	on_add(folio_pages(folio), (u64)BPF_CORE_READ(folio, mapping), 0, 0);
}

static __always_inline void on_fault_vmf(struct vm_fault *vmf)
{
	on_fault((u64)BPF_CORE_READ(vmf, vma, vm_file, f_mapping), 0, BPF_CORE_READ(vmf, pgoff));
}

// The function hooks see the window before the kernel clamps it to the end
// of the file, so clamp here.
static __always_inline void on_map_vmf(struct vm_fault *vmf, u64 first, u64 last)
{
	struct address_space *mapping = BPF_CORE_READ(vmf, vma, vm_file, f_mapping);
	on_map((u64)mapping, 0, first, last, eof_index(BPF_CORE_READ(mapping, host, i_size)));
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
	on_add_folio(folio);
	return 0;
}

SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(tpbtf_fault, struct address_space *mapping, unsigned long index)
{
	on_fault((u64)mapping, 0, index);
	return 0;
}

// The kernel clamps the window to the end of the file before this fires.
SEC("tp_btf/mm_filemap_map_pages")
int BPF_PROG(tpbtf_map, struct address_space *mapping, unsigned long first, unsigned long last)
{
	on_map((u64)mapping, 0, first, last, NO_EOF);
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
	on_add_folio(folio);
	return 0;
}

SEC("raw_tp/mm_filemap_fault")
int BPF_PROG(rawtp_fault, struct address_space *mapping, unsigned long index)
{
	on_fault((u64)mapping, 0, index);
	return 0;
}

SEC("raw_tp/mm_filemap_map_pages")
int BPF_PROG(rawtp_map, struct address_space *mapping, unsigned long first, unsigned long last)
{
	on_map((u64)mapping, 0, first, last, NO_EOF);
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
	on_add(folio_pages(folio), (u64)mapping, 0, 0);
	return 0;
}

SEC("fentry/filemap_fault")
int BPF_PROG(fentry_fault, struct vm_fault *vmf)
{
	on_fault_vmf(vmf);
	return 0;
}

SEC("fentry/filemap_map_pages")
int BPF_PROG(fentry_map, struct vm_fault *vmf, unsigned long first, unsigned long last)
{
	on_map_vmf(vmf, first, last);
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
	on_add(folio_pages(folio), (u64)mapping, 0, 0);
	return 0;
}

SEC("kprobe/filemap_fault")
int BPF_KPROBE(kprobe_fault, struct vm_fault *vmf)
{
	on_fault_vmf(vmf);
	return 0;
}

SEC("kprobe/filemap_map_pages")
int BPF_KPROBE(kprobe_map, struct vm_fault *vmf, unsigned long first, unsigned long last)
{
	on_map_vmf(vmf, first, last);
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

struct tp_fault {
	u64 common;
	unsigned long i_ino;
	u32 s_dev;
	unsigned long index;
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
	on_add(1UL << (ctx->order & 31), ctx->i_ino, ctx->s_dev, 1);
	return 0;
}

SEC("tracepoint/filemap/mm_filemap_fault")
int tp_fault(struct tp_fault *ctx)
{
	on_fault(ctx->i_ino, ctx->s_dev, ctx->index);
	return 0;
}

// Same record layout as mm_filemap_get_pages; already clamped to EOF.
SEC("tracepoint/filemap/mm_filemap_map_pages")
int tp_map(struct tp_get_pages *ctx)
{
	on_map(ctx->i_ino, ctx->s_dev, ctx->index, ctx->last_index, NO_EOF);
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
	OP_ADD = 2,        // pages, file
	OP_DIRTY = 3,      // pages
	OP_WRITE_ENTER = 4,
	OP_WRITE_EXIT = 5,
	OP_READ_ENTER = 6,
	OP_READ_EXIT = 7, // ret
	OP_ADD_CLASSIC = 8, // pages, file (write-syscall aware)
	OP_FAULT = 9,       // file, index
	OP_MAP = 10,        // file, first, last, i_size
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
	case OP_ADD: on_add(ctx[1], ctx[2], 0, 0); break;
	case OP_ADD_CLASSIC: on_add(ctx[1], ctx[2], 0, 1); break;
	case OP_FAULT: on_fault(ctx[1], 0, ctx[2]); break;
	case OP_MAP: on_map(ctx[1], 0, ctx[2], ctx[3], eof_index((s64)ctx[4])); break;
	case OP_DIRTY: on_dirty(ctx[1]); break;
	case OP_WRITE_ENTER: on_write_syscall(1); break;
	case OP_WRITE_EXIT: on_write_syscall(0); break;
	case OP_READ_ENTER: on_read_syscall_enter(); break;
	case OP_READ_EXIT: on_read_syscall_exit((s64)ctx[1]); break;
	default: return 1;
	}
	return 0;
}
