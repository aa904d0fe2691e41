// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The benchmark floors: an XDP and a TC program that only count packets, per CPU. Whatever
 * nsflow_xdp / nsflow_tc_ingress cost above these is the cost of parsing and metering.
 *
 * Beside them, the new-flow drivers bench_xdp uses: each bumps the source address of the
 * frame in place and tail-calls the program under test, so that one test run with a large
 * repeat hands that program a new flow on every repeat (a test run keeps the frame's buffer
 * between repeats). The driver's own cost is measured by pointing it at the floor.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TC_ACT_UNSPEC (-1)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} floor_count SEC(".maps");

static __always_inline void floor_tick(void)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&floor_count, &zero);

	if (c)
		(*c)++;
}

SEC("xdp")
int floor_xdp(struct xdp_md *ctx)
{
	floor_tick();
	return XDP_PASS;
}

SEC("tc")
int floor_tc(struct __sk_buff *skb)
{
	floor_tick();
	return TC_ACT_UNSPEC;
}

/*
 * A reference above the floor: count, and look up one hash entry whose key is as large as
 * nsflow's slot key (60 bytes, copied from the frame) in a map of nsflow's kind (hash, not
 * preallocated), adding to the value found. No flow meter can look its flow up for less; the
 * bench prints it beside the floor.
 */
struct floor_key {
	__u8 b[60];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct floor_key);
	__type(value, __u64[8]);
} floor_flows SEC(".maps");

SEC("xdp")
int floor_lookup_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct floor_key k;
	__u64 *v, one[8] = { 1 };

	floor_tick();
	if (data + sizeof(k) > end)
		return XDP_PASS;
	__builtin_memcpy(&k, data, sizeof(k));
	v = bpf_map_lookup_elem(&floor_flows, &k);
	if (v)
		v[0]++;
	else
		bpf_map_update_elem(&floor_flows, &k, one, BPF_NOEXIST);
	return XDP_PASS;
}

/* The program a driver hands each frame to; XDP programs with and without frags support may
 * not share a program array, hence one per kind. */
struct newflow_target {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};
struct newflow_target newflow_xdp_frags_target SEC(".maps");
struct newflow_target newflow_xdp_target SEC(".maps");
struct newflow_target newflow_tc_target SEC(".maps");

/* The last 32-bit word of the IPv4 / IPv6 source address, plus one: a new key every run, the
 * destination (distinct per frame) keeps frames apart. */
static __always_inline void newflow_bump(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	__be32 *w;

	if ((void *)(eth + 1) > data_end)
		return;
	if (eth->h_proto == bpf_htons(0x0800))
		w = data + sizeof(*eth) + 12;
	else
		w = data + sizeof(*eth) + 8 + 12;
	if ((void *)(w + 1) > data_end)
		return;
	*w = bpf_htonl(bpf_ntohl(*w) + 1);
}

SEC("xdp.frags")
int newflow_xdp_frags(struct xdp_md *ctx)
{
	newflow_bump((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	bpf_tail_call(ctx, &newflow_xdp_frags_target, 0);
	return XDP_ABORTED;
}

SEC("xdp")
int newflow_xdp(struct xdp_md *ctx)
{
	newflow_bump((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	bpf_tail_call(ctx, &newflow_xdp_target, 0);
	return XDP_ABORTED;
}

SEC("tc")
int newflow_tc(struct __sk_buff *skb)
{
	newflow_bump((void *)(long)skb->data, (void *)(long)skb->data_end);
	bpf_tail_call(skb, &newflow_tc_target, 0);
	return 2; /* TC_ACT_SHOT: the bench treats it as a failed hand-over */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
