// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nsflow datapath: the entry points. Each adapts its context to the one parser and meter in
 * parse.h / meter.h and lets the packet go on untouched.
 *
 * Most packets are untagged Ethernet carrying IPv4, or IPv6 without extension headers: those
 * are parsed inline (parse_plain), which costs the verifier few states and the packet no calls.
 * Everything else runs in three stages (L2, IPv4, IPv6), each a global function: the verifier
 * checks a global function once, on its own, instead of once per path through the stages
 * before it, which keeps VLAN x MPLS x extension-header combinations from multiplying. The
 * IPv4/IPv6 stages are called again for the packet under an SRH in srv6 inner-header mode.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "nsflow.h"
#include "parse.h"
#include "meter.h"

#define TC_ACT_UNSPEC (-1)
#define TC_PULL_BYTES 256 /* enough for L2 tags, MPLS, IPv6 + extension chain + SRH + L4 */

static __always_inline void pkt_from_xdp(struct xdp_md *ctx, struct pkt *p, __u32 frame_len)
{
	p->data = (void *)(long)ctx->data;
	p->data_end = (void *)(long)ctx->data_end;
	p->frame_len = frame_len;
	p->hw_vlan = 0;
	p->hw_vlan_set = 0;
	p->_pad = 0;
}

static __always_inline void pkt_from_skb(struct __sk_buff *skb, struct pkt *p, __u32 frame_len)
{
	p->data = (void *)(long)skb->data;
	p->data_end = (void *)(long)skb->data_end;
	p->frame_len = frame_len;
	p->hw_vlan = skb->vlan_tci;
	p->hw_vlan_set = skb->vlan_present ? 1 : 0;
	p->_pad = 0;
}

/* The three stages for one context type. st is never NULL; the check is for the verifier,
 * which must assume a global function's pointer arguments may be. */
#define NSFLOW_STAGES(CTX_T, SFX)                                                                 \
	__noinline int nsflow_l2_##SFX(CTX_T *ctx, struct parse_state *st)                        \
	{                                                                                         \
		struct pkt p;                                                                     \
		if (!st)                                                                          \
			return NSFLOW_CNT_ERR_ETH_TRUNC;                                          \
		pkt_from_##SFX(ctx, &p, st->frame_len);                                           \
		if (pkt_shift(&p, st->base))                                                      \
			return NSFLOW_CNT_ERR_ETH_TRUNC;                                          \
		return parse_l2(&p, st, st->base);                                                \
	}                                                                                         \
	__noinline int nsflow_ipv4_##SFX(CTX_T *ctx, struct parse_state *st)                      \
	{                                                                                         \
		struct pkt p;                                                                     \
		if (!st)                                                                          \
			return NSFLOW_CNT_ERR_IPV4_TRUNC;                                         \
		pkt_from_##SFX(ctx, &p, st->frame_len);                                           \
		return parse_l3_ipv4(&p, st);                                                     \
	}                                                                                         \
	__noinline int nsflow_jumbo_##SFX(CTX_T *ctx, struct parse_state *st)                     \
	{                                                                                         \
		struct pkt p;                                                                     \
		if (!st)                                                                          \
			return NSFLOW_CNT_ERR_IPV6_LEN;                                           \
		pkt_from_##SFX(ctx, &p, st->frame_len);                                           \
		return parse_jumbo(&p, st);                                                       \
	}                                                                                         \
	__noinline int nsflow_ipv6_##SFX(CTX_T *ctx, struct parse_state *st)                      \
	{                                                                                         \
		struct pkt p;                                                                     \
		if (!st)                                                                          \
			return NSFLOW_CNT_ERR_IPV6_TRUNC;                                         \
		pkt_from_##SFX(ctx, &p, st->frame_len);                                           \
		return parse_l3_ipv6(&p, st);                                                     \
	}                                                                                         \
	/* the VXLAN header of the outer packet, which is not parsed again after it */            \
	__noinline int nsflow_vxlan_##SFX(CTX_T *ctx, struct parse_state *st)                     \
	{                                                                                         \
		struct pkt p;                                                                     \
		if (!st)                                                                          \
			return NSFLOW_CNT_ERR_VXLAN_TRUNC;                                        \
		pkt_from_##SFX(ctx, &p, st->frame_len);                                           \
		return parse_vxlan(&p, st);                                                       \
	}                                                                                         \
	/* the outer IPv6 packet: its header chain, then a jumbogram's length */                  \
	static __always_inline int nsflow_ipv6_jumbo_##SFX(CTX_T *ctx, struct parse_state *st)    \
	{                                                                                         \
		int ret = nsflow_ipv6_##SFX(ctx, st);                                             \
		return ret == PARSE_OK ? nsflow_jumbo_##SFX(ctx, st) : ret;                       \
	}                                                                                         \
	/* everything parse_plain leaves to the stages, parsed from the start */                  \
	static __always_inline int nsflow_parse_staged_##SFX(CTX_T *ctx, struct parse_state *st,  \
							     struct nsflow_cfg *cfg)              \
	{                                                                                         \
		int ret = nsflow_l2_##SFX(ctx, st);                                               \
		if (ret == PARSE_OK && st->proto == ETH_P_IP)                                     \
			ret = nsflow_ipv4_##SFX(ctx, st);                                         \
		else if (ret == PARSE_OK && st->proto == ETH_P_IPV6)                              \
			ret = nsflow_ipv6_jumbo_##SFX(ctx, st);                                   \
		/* srv6 inner-header: the key is the inner packet's, the SRH stays as values */   \
		if (ret == PARSE_OK && st->inner && cfg && cfg->srv6_mode == NSFLOW_SRV6_INNER) { \
			if (st->inner == ETH_P_IP)                                                \
				ret = nsflow_ipv4_##SFX(ctx, st);                                 \
			else                                                                      \
				ret = nsflow_ipv6_##SFX(ctx, st);                                 \
		}                                                                                 \
		return ret;                                                                       \
	}                                                                                         \
	static __always_inline void nsflow_meter_##SFX(CTX_T *ctx, __u32 ifindex, __u8 dir,       \
						       __u32 frame_len)                           \
	{                                                                                         \
		struct nsflow_counters *cnt;                                                      \
		struct nsflow_cfg *cfg = NULL;                                                    \
		struct parse_state st;                                                            \
		struct pkt p;                                                                     \
		__u64 now;                                                                        \
		int ret;                                                                          \
		cnt = meter_begin(ifindex, dir, frame_len, &st, &cfg, &now);                      \
		if (!cnt)                                                                         \
			return;                                                                   \
		pkt_from_##SFX(ctx, &p, st.frame_len);                                            \
		ret = parse_plain(&p, &st);                                                       \
		if (ret == PARSE_SLOW)                                                            \
			ret = nsflow_parse_staged_##SFX(ctx, &st, cfg);                           \
		if (ret == PARSE_OK && vxlan_candidate(&st, cfg)) {                               \
			ret = nsflow_vxlan_##SFX(ctx, &st);                                       \
			/* no valid VXLAN header: still the UDP packet it was parsed as */        \
			if (ret != PARSE_OK) {                                                    \
				meter_count_vxlan(cnt, ret);                                      \
				ret = PARSE_OK;                                                   \
			} else if (cfg && cfg->vxlan_mode == NSFLOW_VXLAN_INNER) {                \
				/* the inner frame is metered as if it were on the wire */        \
				parse_enter_inner(&st);                                           \
				ret = nsflow_parse_staged_##SFX(ctx, &st, cfg);                   \
			}                                                                         \
		}                                                                                 \
		meter_commit(cnt, cfg, &st, ret, now);                                            \
	}

NSFLOW_STAGES(struct xdp_md, xdp)
NSFLOW_STAGES(struct __sk_buff, skb)

/* XDP, ingress. xdp.frags: multi-buffer frames are metered too; the headers are in the
 * first buffer and the full length comes from bpf_xdp_get_buff_len(). */
SEC("xdp.frags")
int nsflow_xdp(struct xdp_md *ctx)
{
	nsflow_meter_xdp(ctx, ctx->ingress_ifindex, NSFLOW_DIR_INGRESS, bpf_xdp_get_buff_len(ctx));
	return XDP_PASS;
}

static __always_inline int tc_meter(struct __sk_buff *skb, __u8 direction)
{
	__u32 want = skb->len < TC_PULL_BYTES ? skb->len : TC_PULL_BYTES;

	/* headers of a paged skb may lie outside the linear part: make them readable. This
	 * moves bytes into the head, it never changes what the packet carries. */
	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);
	nsflow_meter_skb(skb, skb->ifindex, direction, skb->len);
	/* UNSPEC, not OK: the filters others put after ours still run */
	return TC_ACT_UNSPEC;
}

/* TC ingress: where XDP cannot attach, or when the user asks for it (--ingress-hook tc). */
SEC("tc")
int nsflow_tc_ingress(struct __sk_buff *skb)
{
	return tc_meter(skb, NSFLOW_DIR_INGRESS);
}

/* TC egress (clsact): traffic the host sends. */
SEC("tc")
int nsflow_tc_egress(struct __sk_buff *skb)
{
	return tc_meter(skb, NSFLOW_DIR_EGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
