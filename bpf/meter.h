/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Metering: sample, key, and count a parsed packet into the flow map of the current epoch.
 * The maps live here; the entry points in nsflow.bpf.c only adapt XDP and TC contexts.
 */
#ifndef NSFLOW_METER_H
#define NSFLOW_METER_H

#include <bpf/bpf_helpers.h>
#include "nsflow.h"
#include "parse.h"

#define EEXIST_ 17

/* Set before load by `nsflow replay`: time comes from the capture, not the clock. */
const volatile bool nsflow_replay = false;
/* The capture timestamp of the packet being replayed (Unix ns: replay has no other clock). */
__u64 nsflow_replay_ns = 0;
/* Its length on the wire: a capture cut by its snap length holds fewer bytes than the packet
 * had, and the IP length checks must compare against what was on the wire. */
__u32 nsflow_replay_len = 0;

/* The flow tables of the two epochs. One entry per flow and CPU (struct nsflow_slot_key), written
 * only by that CPU: counting needs no atomics, and nothing is preallocated, so a flow costs
 * memory only on the CPUs that saw it and only until the agent drains it. Their size is set by
 * the agent before load (--cache-entries). Not LRU: a full table must never silently evict
 * counts. */
struct nsflow_flows {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NSFLOW_DEFAULT_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct nsflow_slot_key);
	__type(value, struct nsflow_value);
};
struct nsflow_flows nsflow_flows_0 SEC(".maps");
struct nsflow_flows nsflow_flows_1 SEC(".maps");

/*
 * The epoch switch: slot 0 holds the map programs count into now. The agent replaces it with
 * the other map; the kernel's map-in-map update waits for every running program (an RCU grace
 * period) before it returns, so the agent then owns the old map alone and drains it whole.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct nsflow_flows);
} nsflow_epoch SEC(".maps") = {
	.values = { [0] = &nsflow_flows_0 },
};

/* Settings per interface and direction, written by the agent. An all-zero entry means the
 * defaults: every packet metered unsampled, label-and-ip, outer header. Interfaces with an
 * ifindex below NSFLOW_CFG_DIRECT find theirs in an array at ifindex * 2 + direction (a
 * lookup the verifier inlines); the rest in a hash. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NSFLOW_CFG_DIRECT * 2);
	__type(key, __u32);
	__type(value, struct nsflow_cfg);
} nsflow_config_direct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct nsflow_cfg_key);
	__type(value, struct nsflow_cfg);
} nsflow_config SEC(".maps");

/* Counters of packets seen, sampled, metered, lost and not parsed (by reason). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nsflow_counters);
} nsflow_counters SEC(".maps");

/* Packets that found their flow map full go to the agent one by one. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, NSFLOW_RINGBUF_BYTES);
} nsflow_events SEC(".maps");

/* The agent's flow cache, in 64-byte units: a flat region the agent maps into its memory
 * (loader/pcache.h lays it out), kept here only so that it outlives a killed agent, pinned
 * with the other maps. Its size is set by the agent before load. The programs never touch it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64[8]);
} nsflow_cache SEC(".maps");

/* SRH segment lists of flows, by flow key (LRU: a list outliving its flow is just dropped). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct nsflow_key);
	__type(value, struct nsflow_srh_segments);
} nsflow_srh SEC(".maps");

static __always_inline __u64 meter_now(void)
{
	if (nsflow_replay)
		return nsflow_replay_ns;
	/* CLOCK_MONOTONIC_COARSE: a tick's resolution (1-4 ms) is as fine as flow records
	 * need, and reading it costs a fraction of the precise clock (measured: ~17 ns less
	 * per packet in make bench) */
	return bpf_ktime_get_coarse_ns();
}

/* NetStream sampling. The state is shared by all CPUs so that "1 in N" holds exactly. */
static __always_inline bool meter_sample(struct nsflow_cfg *cfg, __u64 now)
{
	__u64 next;

	switch (cfg->sample_mode) {
	case NSFLOW_SAMPLE_FIXED:
		return cfg->sample_param <= 1 ||
		       __sync_fetch_and_add(&cfg->sample_count, 1) % cfg->sample_param == 0;
	case NSFLOW_SAMPLE_RANDOM:
		return cfg->sample_param <= 1 || bpf_get_prandom_u32() % cfg->sample_param == 0;
	case NSFLOW_SAMPLE_TIME:
		/* counted so that the agent can announce how many packets each one taken stands
		 * for: collectors scale by a packet rate, not by a time interval */
		__sync_fetch_and_add(&cfg->sample_count, 1);
		next = cfg->sample_next_ns;
		if (now < next)
			return false;
		/* only the CPU that moves the deadline takes the packet */
		if (__sync_val_compare_and_swap(&cfg->sample_next_ns, next,
						now + (__u64)cfg->sample_param * 1000000) != next)
			return false;
		__sync_fetch_and_add(&cfg->sample_taken, 1);
		return true;
	default:
		return true;
	}
}

/* Host bits of one 32-bit word of an address under a prefix of plen bits, in network order. */
static __always_inline __u32 prefix_word_mask(__u32 plen, __u32 word)
{
	__u32 bits;

	if (plen >= (word + 1) * 32)
		return 0xffffffff;
	if (plen <= word * 32)
		return 0;
	bits = plen - word * 32;
	return bpf_htonl(0xffffffff << (32 - bits));
}

/*
 * Flexible records: keep only the match fields, so that the kernel aggregates by them. A global
 * function: verified once, its branches do not multiply with the parser's paths.
 */
__noinline int nsflow_mask_key(struct nsflow_key *k, __u32 f, __u32 src_plen, __u32 dst_plen)
{
	__u32 *s, *d;
	int w;

	if (!k)
		return 0;
	if (f && f != NSFLOW_KF_ALL) {
		if (!(f & NSFLOW_KF_IFINDEX))
			k->ifindex = 0;
		if (!(f & NSFLOW_KF_DIRECTION))
			k->direction = 0;
		if (!(f & NSFLOW_KF_PROTOCOL))
			k->protocol = 0;
		if (!(f & NSFLOW_KF_TOS))
			k->tos = 0;
		if (!(f & NSFLOW_KF_SRC_ADDR))
			__builtin_memset(k->src_addr, 0, 16);
		if (!(f & NSFLOW_KF_DST_ADDR))
			__builtin_memset(k->dst_addr, 0, 16);
		if (!(f & NSFLOW_KF_SRC_PORT))
			k->src_port = 0;
		if (!(f & NSFLOW_KF_DST_PORT))
			k->dst_port = 0;
		if (!(f & NSFLOW_KF_VLAN)) {
			k->vlan_outer = 0;
			k->vlan_inner = 0;
		}
		if (!(f & NSFLOW_KF_MPLS))
			k->mpls_top = 0;
		if (!(f & NSFLOW_KF_VNI))
			k->vni = 0;
	}
	/* source / destination mask: keep the prefix, zero the host bits */
	s = (__u32 *)k->src_addr;
	d = (__u32 *)k->dst_addr;
	for (w = 0; w < 4; w++) {
		if (src_plen)
			s[w] &= prefix_word_mask(src_plen, w);
		if (dst_plen)
			d[w] &= prefix_word_mask(dst_plen, w);
	}
	return 0;
}

/* The SRH segment list of a packet that starts a flow, kept beside it (IE 496). */
static __always_inline void meter_keep_segments(struct nsflow_key *k, struct pkt_meta *m)
{
	struct nsflow_srh_segments *segs;
	__u32 zero = 0;

	if (!m->srh_present)
		return;
	segs = bpf_map_lookup_elem(&nsflow_srh_scratch, &zero);
	if (segs)
		bpf_map_update_elem(&nsflow_srh, k, segs, BPF_ANY);
}

/* Table full: hand the packet to the agent with the value it would have created, so that its
 * record is the one the table would have given; if the ring is full too, count what was lost. */
static __always_inline void meter_overflow(struct nsflow_counters *cnt, struct nsflow_key *k,
					   struct pkt_meta *m, struct nsflow_value *v)
{
	struct nsflow_event *e = bpf_ringbuf_reserve(&nsflow_events, sizeof(*e), 0);

	if (!e) {
		cnt->c[NSFLOW_CNT_NOT_METERED]++;
		cnt->c[NSFLOW_CNT_NOT_METERED_OCTETS] += v->octets;
		return;
	}
	__builtin_memcpy(&e->key, k, sizeof(*k));
	__builtin_memcpy(&e->val, v, sizeof(*v));
	bpf_ringbuf_submit(e, 0);
	meter_keep_segments(k, m);
	cnt->c[NSFLOW_CNT_RINGBUF]++;
}

/* The value a flow starts with: its first packet, and what the parser found around it. Built
 * only when a packet creates a flow (or goes to the ring buffer). */
static __always_inline void meter_first_value(struct nsflow_value *v, struct pkt_meta *m, __u64 now)
{
	__builtin_memset(v, 0, sizeof(*v));
	v->packets = 1;
	v->octets = m->octets;
	v->first_ns = now;
	v->last_ns = now;
	v->tcp_flags = m->tcp_flags;
	v->min_ttl = m->ttl;
	v->max_ttl = m->ttl;
	v->min_len = m->octets;
	v->max_len = m->octets;
	v->flow_label = m->flow_label;
	v->mpls_count = m->mpls_count;
	__builtin_memcpy(v->mpls_lse, m->mpls_lse, sizeof(v->mpls_lse));
	__builtin_memcpy(v->src_mac, m->src_mac, 6);
	__builtin_memcpy(v->dst_mac, m->dst_mac, 6);
	if (m->srh_present) {
		v->srh_present = 1;
		v->srh_flags = m->srh.flags;
		v->srh_segments_left = m->srh.segments_left;
		v->srh_last_entry = m->srh.last_entry;
		v->srh_tag = m->srh.tag;
		__builtin_memcpy(v->srh_active_segment, m->srh.active_segment, 16);
	}
}

/* Add one packet to this CPU's entry of an existing flow. */
static __always_inline void meter_update(struct nsflow_value *val, struct pkt_meta *m, __u64 now)
{
	val->packets++;
	val->octets += m->octets;
	val->last_ns = now;
	val->tcp_flags |= m->tcp_flags;
	if (m->ttl < val->min_ttl)
		val->min_ttl = m->ttl;
	if (m->ttl > val->max_ttl)
		val->max_ttl = m->ttl;
	if (m->octets < val->min_len)
		val->min_len = m->octets;
	if (m->octets > val->max_len)
		val->max_len = m->octets;
}

/*
 * The map-touching part of the per-packet path: count the packet into this CPU's entry of its
 * flow in the current epoch map; a packet whose flow has no entry yet creates it.
 */
static __always_inline void meter_account(struct nsflow_counters *cnt, struct nsflow_slot_key *sk,
					  struct pkt_meta *m, __u64 now)
{
	struct nsflow_value *val, first;
	__u32 zero = 0;
	void *flows;
	int ret;

	flows = bpf_map_lookup_elem(&nsflow_epoch, &zero);
	sk->cpu = bpf_get_smp_processor_id();
	val = flows ? bpf_map_lookup_elem(flows, sk) : NULL;
	if (val) {
		meter_update(val, m, now);
		cnt->c[NSFLOW_CNT_METERED]++;
		return;
	}
	meter_first_value(&first, m, now);
	if (!flows) {
		meter_overflow(cnt, &sk->flow, m, &first);
		return;
	}
	ret = bpf_map_update_elem(flows, sk, &first, BPF_NOEXIST);
	if (ret == 0) {
		meter_keep_segments(&sk->flow, m);
		cnt->c[NSFLOW_CNT_METERED]++;
		return;
	}
	/* only this CPU writes this entry, but a program that interrupted this one on it (or
	 * preempted it, on PREEMPT_RT) may have inserted it in between */
	val = ret == -EEXIST_ ? bpf_map_lookup_elem(flows, sk) : NULL;
	if (!val) {
		meter_overflow(cnt, &sk->flow, m, &first);
		return;
	}
	meter_update(val, m, now);
	cnt->c[NSFLOW_CNT_METERED]++;
}

/*
 * First half of the per-packet path: count the packet, find its interface's settings and
 * sample. Returns the counters, or NULL when the packet is not taken. Prepares st for the
 * parser.
 */
/*
 * Never set. Under it, every map the agent needs is named by the programs, so that the kernel
 * lists them among each attached program's maps: an agent that cannot see the pins (they were
 * in a bpffs that died with its predecessor's mount namespace) finds the maps from the
 * attachment itself. The verifier knows the flag and drops the code: no cost per packet.
 */
const volatile bool nsflow_hold_maps = false;

static __always_inline void meter_hold_maps(void)
{
	__u32 zero = 0;
	void *v;

	if (!nsflow_hold_maps)
		return;
	v = bpf_map_lookup_elem(&nsflow_cache, &zero);
	if (v) {
		/* a cache unit is 64 bytes: room for a slot key */
		bpf_map_lookup_elem(&nsflow_flows_0, v);
		bpf_map_lookup_elem(&nsflow_flows_1, v);
	}
}

static __always_inline struct nsflow_counters *meter_begin(__u32 ifindex, __u8 direction,
							   __u32 frame_len, struct parse_state *st,
							   struct nsflow_cfg **cfgp, __u64 *now)
{
	struct nsflow_cfg_key ck = { .ifindex = ifindex, .direction = direction };
	struct nsflow_counters *cnt;
	struct nsflow_cfg *cfg;
	__u32 zero = 0;

	meter_hold_maps();
	cnt = bpf_map_lookup_elem(&nsflow_counters, &zero);
	if (!cnt)
		return NULL;
	cnt->c[NSFLOW_CNT_SEEN]++;
	*now = meter_now();

	if (ifindex < NSFLOW_CFG_DIRECT) {
		__u32 slot = ifindex * 2 + direction;

		cfg = bpf_map_lookup_elem(&nsflow_config_direct, &slot);
	} else {
		cfg = bpf_map_lookup_elem(&nsflow_config, &ck);
	}
	if (cfg && cfg->sample_mode != NSFLOW_SAMPLE_NONE && !meter_sample(cfg, *now))
		return NULL;
	cnt->c[NSFLOW_CNT_SAMPLED]++;
	*cfgp = cfg;

	__builtin_memset(st, 0, sizeof(*st));
	st->k.ifindex = ifindex;
	st->k.direction = direction;
	/* replay: the wire length, when the capture holds only the first bytes */
	if (nsflow_replay && nsflow_replay_len > frame_len)
		frame_len = nsflow_replay_len;
	st->frame_len = frame_len;
	st->mpls_mode = cfg ? cfg->mpls_mode : NSFLOW_MPLS_LABEL_AND_IP;
	return cnt;
}

/* A VXLAN header that was not one: counted, the packet metered as plain UDP all the same. */
static __always_inline void meter_count_vxlan(struct nsflow_counters *cnt, int why)
{
	if (why == NSFLOW_CNT_ERR_VXLAN_FLAGS)
		cnt->c[NSFLOW_CNT_ERR_VXLAN_FLAGS]++;
	else
		cnt->c[NSFLOW_CNT_ERR_VXLAN_TRUNC]++;
}

/* Second half: count a parse failure by reason, or key the packet into the current epoch. */
static __always_inline void meter_commit(struct nsflow_counters *cnt, struct nsflow_cfg *cfg,
					 struct parse_state *st, int ret, __u64 now)
{
	struct nsflow_key *k = &st->k;
	struct pkt_meta *m = &st->m;

	if (ret != PARSE_OK) {
		__u32 idx = ret;

		/* keep the compiler from checking one register and indexing with another */
		asm volatile("" : "+r"(idx));
		if (idx < NSFLOW_CNT_MAX)
			cnt->c[idx]++;
		return;
	}
	if (cfg && ((cfg->key_fields && cfg->key_fields != NSFLOW_KF_ALL) || cfg->src_prefix_len ||
		    cfg->dst_prefix_len))
		nsflow_mask_key(k, cfg->key_fields, cfg->src_prefix_len, cfg->dst_prefix_len);

	meter_account(cnt, &st->sk, m, now);
}

#endif /* NSFLOW_METER_H */
