//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
//
// Network bytes per process (what bcc tcptop measures, and UDP beside it),
// and TCP retransmits and resets as events attributed to the socket's owner.
// Design notes: shared/notes/ebpf.md, shared/notes/disk-net.md.
//
// Bytes are socket payload as the syscall layer saw it: what send-family
// calls accepted and receive-family calls returned. No IP/TCP/UDP headers,
// no ACKs, no retransmissions: user space compares the sum with the
// interface counters and shows the gap.
//
// Retransmits and resets run in softirq context (or in another process's
// syscall) where the current task is not the socket's owner: they are
// attributed through the socket, sk -> (tgid, start time, comm), an LRU map
// fed from every counted send/receive and from connect()
// (inet_sock_set_state to SYN_SENT, which runs in the caller), and emptied
// when the socket closes.
//
// The object holds one program set per attach tier for the byte counters;
// the state, retransmit and reset events always come from classic
// tracepoints (their records carry the 4-tuple already decoded, and they are
// rare: their cost does not matter), so every tier loads those too.

#include "../vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "../common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define EEXIST 17
#define MSG_PEEK_FLAG 2
#define AF_INET_ 2
#define AF_INET6_ 10
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_UDPLITE 136
#define PROTO_MPTCP 262
#define TCP_SYN_SENT_ 2
#define TCP_CLOSE_ 7

// A process: tgid and the group leader's start time.
struct proc_key {
	u32 tgid;
	u32 pad;
	u64 start_ticks;
};

// Per-process counters since the last drain (looked up and deleted by user
// space once per refresh). Bytes are payload; retransmits are segments.
struct proc_net {
	u64 tcp_tx;
	u64 tcp_rx;
	u64 udp_tx;
	u64 udp_rx;
	u64 retrans; // segments, as Tcp RetransSegs counts them
	u64 resets_sent;
	u64 resets_recv;
	u32 uid;
	u32 pad;
	char comm[16];
};

// The process that owns a socket, as last seen using it.
struct sk_owner {
	u32 tgid;
	u32 pad;
	u64 start_ticks;
	char comm[16];
};

// What the maps could not hold (index 0 of a per-CPU array, cumulative).
struct drops {
	u64 proc_map_full; // byte/retransmit counts lost: no room in procs
};

enum event_kind {
	EV_RETRANSMIT = 1,
	EV_RESET_SENT = 2,
	EV_RESET_RECV = 3,
};

// One ring-buffer record.
struct net_event {
	u64 ts_ns; // bpf_ktime_get_boot_ns
	u64 start_ticks;
	u32 tgid; // 0: owner unknown
	u8 kind;
	u8 state; // TCP state of the socket (0: unknown)
	u16 family;
	u16 sport;
	u16 dport;
	u8 saddr[16]; // IPv4 in the first 4 bytes
	u8 daddr[16];
	char comm[16];
	u16 segs; // segments a retransmit carried (tcp_skb_pcount); 1 for resets
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct proc_key);
	__type(value, struct proc_net);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, u64);
	__type(value, struct sk_owner);
} owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct drops);
} drop_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

// Failed ring-buffer reservations (u64 at index 0 per CPU, as
// probes.NewRingReader reads a drops map).
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} event_drops SEC(".maps");

enum dir { TX, RX };

static __always_inline u64 current_start_ticks(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	return BPF_CORE_READ(task, group_leader, start_boottime) / NSEC_PER_TICK;
}

static __always_inline void count_drop(void)
{
	u32 zero = 0;
	struct drops *d = bpf_map_lookup_elem(&drop_counts, &zero);
	if (d)
		d->proc_map_full++;
}

static __always_inline struct proc_net *get_proc(u32 tgid, u64 start, const char *comm, int current)
{
	struct proc_key key = {};
	key.tgid = tgid;
	key.start_ticks = start;
	struct proc_net *pn = bpf_map_lookup_elem(&procs, &key);
	if (pn)
		return pn;
	struct proc_net init = {};
	if (current) {
		init.uid = (u32)bpf_get_current_uid_gid();
		bpf_get_current_comm(init.comm, sizeof(init.comm));
	} else if (comm) {
		bpf_probe_read_kernel(init.comm, sizeof(init.comm), comm);
	}
	long err = bpf_map_update_elem(&procs, &key, &init, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count_drop();
		return 0;
	}
	return bpf_map_lookup_elem(&procs, &key);
}

// remember_owner records the current process as the socket's owner, when it
// is not already.
static __always_inline void remember_owner(u64 sk, u32 tgid, u64 start)
{
	struct sk_owner *o = bpf_map_lookup_elem(&owners, &sk);
	if (o && o->tgid == tgid && o->start_ticks == start)
		return;
	struct sk_owner n = {};
	n.tgid = tgid;
	n.start_ticks = start;
	bpf_get_current_comm(n.comm, sizeof(n.comm));
	bpf_map_update_elem(&owners, &sk, &n, BPF_ANY);
}

// on_bytes counts one send or receive of n payload bytes on socket sk of the
// given family and protocol by the current process.
static __always_inline void on_bytes(u64 sk, u16 family, u16 protocol, s64 n, enum dir d)
{
	if (n <= 0)
		return;
	if (family != AF_INET_ && family != AF_INET6_)
		return;
	int tcp = protocol == PROTO_TCP || protocol == PROTO_MPTCP;
	int udp = protocol == PROTO_UDP || protocol == PROTO_UDPLITE;
	if (!tcp && !udp)
		return;
	// The pid of vitals' /proc (common.h); processes outside its PID
	// namespace share one row (PID_OUTSIDE, start 0).
	u32 tgid = current_tgid_vitals();
	u64 start = tgid == PID_OUTSIDE ? 0 : current_start_ticks();
	if (tcp && sk)
		remember_owner(sk, tgid, start);
	struct proc_net *pn = get_proc(tgid, start, 0, 1);
	if (!pn)
		return;
	if (tcp) {
		if (d == TX)
			__sync_fetch_and_add(&pn->tcp_tx, n);
		else
			__sync_fetch_and_add(&pn->tcp_rx, n);
	} else {
		if (d == TX)
			__sync_fetch_and_add(&pn->udp_tx, n);
		else
			__sync_fetch_and_add(&pn->udp_rx, n);
	}
}

// on_state follows TCP state changes: connect() (SYN_SENT, in the caller's
// context) names the owner before any byte is sent, close forgets it.
static __always_inline void on_state(u64 sk, u16 protocol, int newstate)
{
	if (protocol != PROTO_TCP)
		return;
	if (newstate == TCP_SYN_SENT_) {
		u32 tgid = current_tgid_vitals();
		remember_owner(sk, tgid, tgid == PID_OUTSIDE ? 0 : current_start_ticks());
	} else if (newstate == TCP_CLOSE_) {
		bpf_map_delete_elem(&owners, &sk);
	}
}

// on_tcp_event emits a retransmit or reset of socket sk (0: none) with its
// 4-tuple, attributed to the socket's owner, and counts it for the owner.
static __always_inline void on_tcp_event(u64 sk, u8 kind, u16 segs, int state, u16 family, u16 sport, u16 dport,
					 const u8 *saddr4, const u8 *daddr4, const u8 *saddr6, const u8 *daddr6)
{
	struct sk_owner *o = sk ? bpf_map_lookup_elem(&owners, &sk) : 0;
	if (o) {
		struct proc_net *pn = get_proc(o->tgid, o->start_ticks, o->comm, 0);
		if (pn) {
			switch (kind) {
			case EV_RETRANSMIT: __sync_fetch_and_add(&pn->retrans, segs); break;
			case EV_RESET_SENT: __sync_fetch_and_add(&pn->resets_sent, 1); break;
			case EV_RESET_RECV: __sync_fetch_and_add(&pn->resets_recv, 1); break;
			}
		}
	}
	struct net_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		u32 zero = 0;
		u64 *d = bpf_map_lookup_elem(&event_drops, &zero);
		if (d)
			__sync_fetch_and_add(d, 1);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->kind = kind;
	e->segs = segs;
	e->state = (u8)state;
	e->family = family;
	e->sport = sport;
	e->dport = dport;
	if (o) {
		e->tgid = o->tgid;
		e->start_ticks = o->start_ticks;
		__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
	}
	if (family == AF_INET6_) {
		if (saddr6)
			bpf_probe_read_kernel(e->saddr, 16, saddr6);
		if (daddr6)
			bpf_probe_read_kernel(e->daddr, 16, daddr6);
	} else {
		if (saddr4)
			bpf_probe_read_kernel(e->saddr, 4, saddr4);
		if (daddr4)
			bpf_probe_read_kernel(e->daddr, 4, daddr4);
	}
	bpf_ringbuf_submit(e, 0);
}

// ---- classic tracepoint records (tracefs format)

struct tp_sock_length {
	u64 common;
	void *sk;
	u16 family;
	u16 protocol;
	int ret;
	int flags;
};

struct tp_set_state {
	u64 common;
	const void *skaddr;
	int oldstate;
	int newstate;
	u16 sport;
	u16 dport;
	u16 family;
	u16 protocol;
	u8 saddr[4];
	u8 daddr[4];
	u8 saddr_v6[16];
	u8 daddr_v6[16];
};

struct tp_retransmit {
	u64 common;
	const void *skbaddr;
	const void *skaddr;
	int state;
	u16 sport;
	u16 dport;
	u16 family;
	u8 saddr[4];
	u8 daddr[4];
	u8 saddr_v6[16];
	u8 daddr_v6[16];
	int err;
};

// saddr and daddr are struct sockaddr_in or sockaddr_in6 (28 bytes).
struct tp_send_reset {
	u64 common;
	const void *skbaddr;
	const void *skaddr;
	int state;
	u32 reason;
	u8 saddr[28];
	u8 daddr[28];
};

struct tp_receive_reset {
	u64 common;
	const void *skaddr;
	u16 sport;
	u16 dport;
	u16 family;
	u8 saddr[4];
	u8 daddr[4];
	u8 saddr_v6[16];
	u8 daddr_v6[16];
	u64 sock_cookie;
};

// ---- events: classic tracepoints, in every tier

SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct tp_set_state *ctx)
{
	on_state((u64)ctx->skaddr, ctx->protocol, ctx->newstate);
	return 0;
}

// skb_segs is tcp_skb_pcount(skb): a GSO skb retransmitted at once is
// several segments, and Tcp RetransSegs counts segments.
static __always_inline u16 skb_segs(const void *skb)
{
	u16 segs = 0;
	const void *cb = skb + bpf_core_field_offset(struct sk_buff, cb);
	bpf_probe_read_kernel(&segs, sizeof(segs), cb + bpf_core_field_offset(struct tcp_skb_cb, tcp_gso_segs));
	return segs ? segs : 1;
}

// The tracepoint fires for failed attempts too since 6.10 (err: nothing
// left, nothing counted in RetransSegs for the early exits): only sent
// retransmits count.
SEC("tracepoint/tcp/tcp_retransmit_skb")
int tp_retransmit(struct tp_retransmit *ctx)
{
	if (ctx->err)
		return 0;
	on_tcp_event((u64)ctx->skaddr, EV_RETRANSMIT, skb_segs(ctx->skbaddr), ctx->state, ctx->family, ctx->sport, ctx->dport,
		     ctx->saddr, ctx->daddr, ctx->saddr_v6, ctx->daddr_v6);
	return 0;
}

SEC("tracepoint/tcp/tcp_send_reset")
int tp_send_reset(struct tp_send_reset *ctx)
{
	// sockaddr_in{,6}: family at 0, port (network order) at 2, IPv4
	// address at 4, IPv6 address at 8.
	u16 family = 0, sport = 0, dport = 0;
	bpf_probe_read_kernel(&family, 2, &ctx->saddr[0]);
	bpf_probe_read_kernel(&sport, 2, &ctx->saddr[2]);
	bpf_probe_read_kernel(&dport, 2, &ctx->daddr[2]);
	sport = __builtin_bswap16(sport);
	dport = __builtin_bswap16(dport);
	on_tcp_event((u64)ctx->skaddr, EV_RESET_SENT, 1, ctx->state, family, sport, dport,
		     &ctx->saddr[4], &ctx->daddr[4], &ctx->saddr[8], &ctx->daddr[8]);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int tp_receive_reset(struct tp_receive_reset *ctx)
{
	// The record has no state: the socket's, read before tcp_reset moves
	// it to CLOSE.
	struct sock *sk = (struct sock *)ctx->skaddr;
	int state = sk ? BPF_CORE_READ(sk, __sk_common.skc_state) : 0;
	on_tcp_event((u64)ctx->skaddr, EV_RESET_RECV, 1, state, ctx->family, ctx->sport, ctx->dport,
		     ctx->saddr, ctx->daddr, ctx->saddr_v6, ctx->daddr_v6);
	return 0;
}

// ---- kernel object readers (CO-RE)

static __always_inline void on_sock_bytes(struct sock *sk, s64 n, enum dir d)
{
	u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	u16 protocol = BPF_CORE_READ(sk, sk_protocol);
	on_bytes((u64)sk, family, protocol, n, d);
}

// ---- tier tp_btf: sock:sock_send_length / sock_recv_length (6.3+)

SEC("tp_btf/sock_send_length")
int BPF_PROG(tpbtf_send, struct sock *sk, int ret, int flags)
{
	on_sock_bytes(sk, ret, TX);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(tpbtf_recv, struct sock *sk, int ret, int flags)
{
	if (flags & MSG_PEEK_FLAG)
		return 0;
	on_sock_bytes(sk, ret, RX);
	return 0;
}

// ---- tier raw_tp: the same on raw tracepoints

SEC("raw_tp/sock_send_length")
int BPF_PROG(rawtp_send, struct sock *sk, int ret, int flags)
{
	on_sock_bytes(sk, ret, TX);
	return 0;
}

SEC("raw_tp/sock_recv_length")
int BPF_PROG(rawtp_recv, struct sock *sk, int ret, int flags)
{
	if (flags & MSG_PEEK_FLAG)
		return 0;
	on_sock_bytes(sk, ret, RX);
	return 0;
}

// ---- tier tracepoint: classic records

SEC("tracepoint/sock/sock_send_length")
int tp_send(struct tp_sock_length *ctx)
{
	on_bytes((u64)ctx->sk, ctx->family, ctx->protocol, ctx->ret, TX);
	return 0;
}

SEC("tracepoint/sock/sock_recv_length")
int tp_recv(struct tp_sock_length *ctx)
{
	if (ctx->flags & MSG_PEEK_FLAG)
		return 0;
	on_bytes((u64)ctx->sk, ctx->family, ctx->protocol, ctx->ret, RX);
	return 0;
}

// ---- tier fentry: tcptop's functions, with the bytes actually moved
// (fexit return values; tcp_cleanup_rbuf's copied), for kernels before 6.3
// that lack the sock tracepoints.

SEC("fexit/tcp_sendmsg")
int BPF_PROG(fexit_tcp_send, struct sock *sk, struct msghdr *msg, size_t size, int ret)
{
	on_sock_bytes(sk, ret, TX);
	return 0;
}

SEC("fentry/tcp_cleanup_rbuf")
int BPF_PROG(fentry_tcp_recv, struct sock *sk, int copied)
{
	on_sock_bytes(sk, copied, RX);
	return 0;
}

SEC("fexit/udp_sendmsg")
int BPF_PROG(fexit_udp_send, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	on_sock_bytes(sk, ret, TX);
	return 0;
}

SEC("fexit/udpv6_sendmsg")
int BPF_PROG(fexit_udp6_send, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	on_sock_bytes(sk, ret, TX);
	return 0;
}

SEC("fentry/skb_consume_udp")
int BPF_PROG(fentry_udp_recv, struct sock *sk, struct sk_buff *skb, int len)
{
	on_sock_bytes(sk, len, RX);
	return 0;
}

// ---- tier kprobe: as bcc tcptop (x86-64 registers). Sends count the bytes
// asked for (a kprobe sees no return value); receives the bytes copied.

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(kprobe_tcp_send, struct sock *sk, struct msghdr *msg, size_t size)
{
	on_sock_bytes(sk, size, TX);
	return 0;
}

SEC("kprobe/tcp_cleanup_rbuf")
int BPF_KPROBE(kprobe_tcp_recv, struct sock *sk, int copied)
{
	on_sock_bytes(sk, copied, RX);
	return 0;
}

SEC("kprobe/udp_sendmsg")
int BPF_KPROBE(kprobe_udp_send, struct sock *sk, struct msghdr *msg, size_t len)
{
	on_sock_bytes(sk, len, TX);
	return 0;
}

SEC("kprobe/udpv6_sendmsg")
int BPF_KPROBE(kprobe_udp6_send, struct sock *sk, struct msghdr *msg, size_t len)
{
	on_sock_bytes(sk, len, TX);
	return 0;
}

SEC("kprobe/skb_consume_udp")
int BPF_KPROBE(kprobe_udp_recv, struct sock *sk, struct sk_buff *skb, int len)
{
	on_sock_bytes(sk, len, RX);
	return 0;
}
