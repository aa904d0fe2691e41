/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The packet parser, written once for XDP and TC: it sees only a [data, data_end) window, the
 * whole frame length and the settings of the interface. Every read is checked against
 * data_end; every loop has a fixed bound. A packet that cannot be parsed yields the counter of
 * the reason and no key: nothing is ever half-read into a flow.
 */
#ifndef NSFLOW_PARSE_H
#define NSFLOW_PARSE_H

#include <bpf/bpf_endian.h>
#include "nsflow.h"

#define ETH_P_IP      0x0800
#define ETH_P_IPV6    0x86DD
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88A8
#define ETH_P_MPLS_UC 0x8847
#define ETH_P_MPLS_MC 0x8848

#define IPPROTO_HOPOPTS_    0
#define IPPROTO_ROUTING_    43
#define IPPROTO_FRAGMENT_   44
#define IPPROTO_AH_	    51
#define IPPROTO_DSTOPTS_    60
#define IPPROTO_ICMPV6_	    58
#define IPPROTO_IPIP_	    4
#define IPPROTO_IPV6_	    41
#define IPPROTO_SCTP_	    132
#define IPV6_SRCRT_TYPE_SRH 4
#define IPV6_TLV_JUMBO	    0xC2  /* Jumbo Payload option (RFC 2675) */
#define IPV6_JUMBO_MIN	    65536 /* a Jumbo Payload length below this is no jumbogram */

#define PARSE_OK (-1) /* not a counter index: the packet has a key */

/* What the parser is given. */
struct pkt {
	void *data;
	void *data_end;
	__u32 frame_len; /* whole frame, including XDP frags / skb paged data */
	__u16 hw_vlan;	 /* TC: a tag the NIC already stripped (vlan_tci), else 0 */
	__u8 hw_vlan_set;
	__u8 _pad;
};

/* The segment routing header fields a flow keeps as values (RFC 9487). */
struct pkt_srh {
	__u8 flags;
	__u8 segments_left;
	__u8 last_entry;
	__u8 _pad;
	__u16 tag; /* host order */
	__u16 _pad2;
	__u8 active_segment[16];
};

/*
 * What the parser produces besides the key: what every packet adds to its flow, and the
 * descriptive fields a new flow's first value is made of. The value itself is built only when
 * a packet creates a flow (meter.h), not for every packet of a known one.
 */
struct pkt_meta {
	__u32 octets;
	__u32 flow_label; /* of the last IPv6 header parsed: the one the key comes from */
	__u8 tcp_flags;
	__u8 ttl;
	__u8 mpls_count;  /* labels in mpls_lse[] */
	__u8 srh_present; /* srh holds the SRH's fields */
	__u32 mpls_lse[NSFLOW_MPLS_RECORDED];
	__u8 src_mac[6];
	__u8 dst_mac[6];
	struct pkt_srh srh;
	__u16 l4_off; /* where the L4 header starts: VXLAN is looked for after it */
	__u16 _pad;
};

/* 802.1Q / 802.1ad tag, as it sits after the MAC addresses. */
struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

/* The SRH segment list of the packet being parsed, per CPU: the meter stores it with the flow
 * when the packet creates one (parse and meter run on the same CPU, one packet at a time). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nsflow_srh_segments);
} nsflow_srh_scratch SEC(".maps");

/* IPv4 address into the v4-mapped form ::ffff:a.b.c.d. Four word stores: the addresses of
 * struct nsflow_key are 4-byte aligned, and byte-wise copies cost 16 stores an address. */
static __always_inline void addr_v4mapped(__u32 *dst, __be32 a)
{
	dst[0] = 0;
	dst[1] = 0;
	dst[2] = bpf_htonl(0x0000ffff);
	dst[3] = a;
}

/* L4 ports, TCP flags and ICMP type/code. Non-first fragments never get here. */
static __always_inline int parse_l4(void *pos, void *data_end, __u8 proto, struct nsflow_key *k,
				    struct pkt_meta *m)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = pos;

		if ((void *)(th + 1) > data_end)
			return NSFLOW_CNT_ERR_L4_TRUNC;
		/* data offset below 5 words is no TCP header at all: its ports are not trusted */
		if (th->doff < 5)
			return NSFLOW_CNT_ERR_TCP_DOFF;
		k->src_port = bpf_ntohs(th->source);
		k->dst_port = bpf_ntohs(th->dest);
		/* byte 13 holds CWR..FIN; the NS bit is not part of tcpControlBits' low byte */
		m->tcp_flags = ((__u8 *)th)[13];
	} else if (proto == IPPROTO_UDP || proto == IPPROTO_SCTP_) {
		/* UDP and SCTP both start with source and destination ports; SCTP's common header
		 * is 12 bytes and UDP's 8, check the longer one for SCTP */
		struct udphdr *uh = pos;

		if ((void *)(uh + 1) > data_end)
			return NSFLOW_CNT_ERR_L4_TRUNC;
		if (proto == IPPROTO_SCTP_ && pos + 12 > data_end)
			return NSFLOW_CNT_ERR_L4_TRUNC;
		k->src_port = bpf_ntohs(uh->source);
		k->dst_port = bpf_ntohs(uh->dest);
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6_) {
		__u8 *ic = pos;

		/* type, code and checksum: the fixed part every ICMP message has */
		if ((void *)(ic + 4) > data_end)
			return NSFLOW_CNT_ERR_L4_TRUNC;
		k->dst_port = (__u16)ic[0] << 8 | ic[1];
	}
	return PARSE_OK;
}

/*
 * IPv4: header length from IHL, total length checked against what the frame holds, ports
 * only in the first fragment.
 */
static __always_inline int parse_ipv4(struct pkt *p, __u32 l3off, struct nsflow_key *k,
				      struct pkt_meta *m)
{
	void *pos = p->data + l3off;
	struct iphdr *iph = pos;
	__u32 ihl, tot;

	if ((void *)(iph + 1) > p->data_end)
		return NSFLOW_CNT_ERR_IPV4_TRUNC;
	if (iph->version != 4)
		return NSFLOW_CNT_ERR_IP_VERSION;
	ihl = iph->ihl * 4;
	if (ihl < sizeof(*iph))
		return NSFLOW_CNT_ERR_IPV4_IHL;
	if (pos + ihl > p->data_end)
		return NSFLOW_CNT_ERR_IPV4_IHL;
	tot = bpf_ntohs(iph->tot_len);
	/* Ethernet padding may follow the packet; a packet longer than the frame is cut */
	if (tot < ihl || tot > p->frame_len - l3off)
		return NSFLOW_CNT_ERR_IPV4_LEN;

	k->ip_version = 4;
	k->tos = iph->tos;
	k->protocol = iph->protocol;
	k->src_port = 0;
	k->dst_port = 0;
	addr_v4mapped((__u32 *)k->src_addr, iph->saddr);
	addr_v4mapped((__u32 *)k->dst_addr, iph->daddr);
	m->ttl = iph->ttl;
	m->octets = tot;
	m->l4_off = l3off + ihl;

	/* fragment offset != 0: the L4 header is in the first fragment, not here */
	if (iph->frag_off & bpf_htons(0x1fff))
		return PARSE_OK;
	return parse_l4(pos + ihl, p->data_end, iph->protocol, k, m);
}

/* The segment routing header (RFC 8754): its fields become flow values (RFC 9487). */
static __always_inline int parse_srh(void *pos, void *data_end, __u32 len, struct pkt_meta *m)
{
	struct ipv6_sr_hdr *srh = pos;
	struct nsflow_srh_segments *segs;
	__u32 segleft, last, zero = 0;
	__u8 *seg;
	int i;

	if (pos + len > data_end)
		return NSFLOW_CNT_ERR_SRH;
	if ((void *)(srh + 1) > data_end)
		return NSFLOW_CNT_ERR_SRH;
	segleft = srh->segments_left;
	last = srh->first_segment; /* "Last Entry" in RFC 8754 */
	/* the list must fit in the header and the active segment must be in the list */
	if (segleft > last || 8 + (last + 1) * 16 > len)
		return NSFLOW_CNT_ERR_SRH;
	seg = pos + 8 + segleft * 16;
	if ((void *)(seg + 16) > data_end)
		return NSFLOW_CNT_ERR_SRH;
	segs = bpf_map_lookup_elem(&nsflow_srh_scratch, &zero);
	if (segs) {
		for (i = 0; i < NSFLOW_SRH_SEGMENTS && i <= last; i++) {
			__u8 *s = pos + 8 + i * 16;

			if ((void *)(s + 16) > data_end)
				break;
			__builtin_memcpy(segs->seg[i], s, 16);
		}
		segs->count = i;
		/* the fixed header as on the wire, for srhIPv6Section (499) */
		__builtin_memcpy(segs->hdr, pos, 8);
	}
	m->srh_present = 1;
	m->srh.flags = srh->flags;
	m->srh.tag = bpf_ntohs(srh->tag);
	m->srh.segments_left = segleft;
	m->srh.last_entry = last;
	__builtin_memcpy(m->srh.active_segment, seg, 16);
	return PARSE_OK;
}

/*
 * IPv6 and its extension header chain (hop-by-hop, routing incl. SRH, fragment, destination
 * options, AH). *inner is set to the EtherType of a packet carried under an SRH (IPv4 or IPv6
 * in IPv6) and *inner_pos to where it starts, so that srv6 inner-header mode can key on it.
 */
/* The extension headers the chain walk knows. The walk in parse_ipv6 spells the test out: in
 * that form clang emits code the verifier walks with ~10% fewer states. */
#define IPV6_IS_EXTHDR(nh)                                                                   \
	((nh) == IPPROTO_HOPOPTS_ || (nh) == IPPROTO_ROUTING_ || (nh) == IPPROTO_DSTOPTS_ || \
	 (nh) == IPPROTO_FRAGMENT_ || (nh) == IPPROTO_AH_)

/* The fixed IPv6 header: length checked against the frame, addresses and class into the key.
 * Returns PARSE_OK with *nh the next header, or the counter index of why there is no key. */
static __always_inline int parse_ipv6_fixed(struct pkt *p, struct ipv6hdr *ip6, __u32 l3off,
					    struct nsflow_key *k, struct pkt_meta *m, __u8 *nh)
{
	__u32 plen, room;

	if ((void *)(ip6 + 1) > p->data_end)
		return NSFLOW_CNT_ERR_IPV6_TRUNC;
	if (ip6->version != 6)
		return NSFLOW_CNT_ERR_IP_VERSION;
	room = p->frame_len - l3off;
	plen = bpf_ntohs(ip6->payload_len);
	if (plen == 0) {
		/* jumbogram (RFC 2675) or a GSO super-packet: the frame says how long it is, until
		 * parse_jumbo reads the hop-by-hop header's Jumbo Payload option */
		m->octets = room;
	} else {
		if (plen + 40 > room)
			return NSFLOW_CNT_ERR_IPV6_LEN;
		m->octets = plen + 40;
	}

	k->ip_version = 6;
	k->tos = ip6->priority << 4 | ip6->flow_lbl[0] >> 4;
	m->flow_label = (__u32)(ip6->flow_lbl[0] & 0x0f) << 16 | (__u32)ip6->flow_lbl[1] << 8 |
			ip6->flow_lbl[2];
	k->src_port = 0;
	k->dst_port = 0;
	__builtin_memcpy(k->src_addr, &ip6->saddr, 16);
	__builtin_memcpy(k->dst_addr, &ip6->daddr, 16);
	m->ttl = ip6->hop_limit;
	*nh = ip6->nexthdr;
	return PARSE_OK;
}

static __always_inline int parse_ipv6(struct pkt *p, void *pos, struct nsflow_key *k,
				      struct pkt_meta *m, __u16 *inner, void **inner_pos)
{
	struct ipv6hdr *ip6 = pos;
	int i, ret, first_frag = 1;
	__u8 nh;

	ret = parse_ipv6_fixed(p, ip6, pos - p->data, k, m, &nh);
	if (ret != PARSE_OK)
		return ret;
	pos = ip6 + 1;
	/* VXLAN is looked for in UDP right after the fixed header only: an offset taken after
	 * the chain walk costs the verifier a third more states on every IPv6 packet */
	if (nh == IPPROTO_UDP)
		m->l4_off = pos - p->data;

	for (i = 0; i < NSFLOW_MAX_EXTHDR; i++) {
		__u8 *eh = pos;
		__u32 len;

		if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_ && nh != IPPROTO_DSTOPTS_ &&
		    nh != IPPROTO_FRAGMENT_ && nh != IPPROTO_AH_)
			break;
		/* every extension header is at least 8 bytes */
		if ((void *)(eh + 8) > p->data_end)
			return NSFLOW_CNT_ERR_EXTHDR_TRUNC;
		if (nh == IPPROTO_FRAGMENT_) {
			/* offset != 0: a later fragment, no upper-layer header in it */
			if (((struct frag_hdr *)eh)->frag_off & bpf_htons(0xfff8))
				first_frag = 0;
			len = 8;
		} else if (nh == IPPROTO_AH_) {
			len = ((__u32)eh[1] + 2) * 4;
		} else {
			len = ((__u32)eh[1] + 1) * 8;
			if (nh == IPPROTO_ROUTING_ && eh[2] == IPV6_SRCRT_TYPE_SRH) {
				ret = parse_srh(eh, p->data_end, len, m);
				if (ret != PARSE_OK)
					return ret;
			}
		}
		nh = eh[0];
		pos = eh + len;
		if (pos > p->data_end)
			return NSFLOW_CNT_ERR_EXTHDR_TRUNC;
	}
	if (nh == IPPROTO_HOPOPTS_ || nh == IPPROTO_ROUTING_ || nh == IPPROTO_DSTOPTS_ ||
	    nh == IPPROTO_FRAGMENT_ || nh == IPPROTO_AH_)
		return NSFLOW_CNT_ERR_EXTHDR_DEPTH;

	k->protocol = nh;
	if (!first_frag)
		return PARSE_OK;
	if (m->srh_present && (nh == IPPROTO_IPIP_ || nh == IPPROTO_IPV6_)) {
		*inner = nh == IPPROTO_IPIP_ ? ETH_P_IP : ETH_P_IPV6;
		*inner_pos = pos;
		return PARSE_OK;
	}
	return parse_l4(pos, p->data_end, nh, k, m);
}

/* Everything the parsing stages hand each other. Lives on the entry point's stack and is
 * passed by pointer to the stage functions. */
struct parse_state {
	union {
		struct nsflow_key k;	   /* what the parser fills */
		struct nsflow_slot_key sk; /* the same, with the CPU the meter adds */
	};
	struct pkt_meta m;
	__u32 frame_len; /* in: whole frame length */
	__u32 off;   /* L2 out: where L3 starts; IPv6 out: where the packet under an SRH starts */
	__u16 proto; /* L2 out: EtherType of the L3 packet, 0 when metered by label only */
	__u16 inner; /* IPv6 out: EtherType of the packet under an SRH, else 0 */
	__u8 mpls_mode; /* in: enum nsflow_mpls_mode */
	__u8 _pad;
	__u16 base;  /* in: where the frame parsed starts: 0, or a VXLAN inner frame's offset */
	__u16 l3off; /* L2 out: where the L3 packet starts (off moves to one under an SRH) */
	__u16 _pad2;
};

/* Highest L3 offset: 14 Ethernet + 2 tags + 8 labels; an inner packet may start further in,
 * after an IPv6 header, its extension chain and an SRH. */
#define PARSE_MAX_OFF 4096

/*
 * Layer 2: Ethernet, up to NSFLOW_MAX_VLAN tags (plus one the NIC stripped), an MPLS stack,
 * in the frame p holds, which starts base bytes into the whole one.
 * Returns PARSE_OK with st->proto/st->off set (proto 0: an MPLS packet metered by label only,
 * its length already in st->m.octets), or the counter index of why there is no key.
 */
static __always_inline int parse_l2(struct pkt *p, struct parse_state *st, __u32 base)
{
	struct nsflow_key *k = &st->k;
	struct pkt_meta *m = &st->m;
	void *pos = p->data;
	struct ethhdr *eth = pos;
	__u16 proto;
	int i, ntags = 0;

	if ((void *)(eth + 1) > p->data_end)
		return NSFLOW_CNT_ERR_ETH_TRUNC;
	__builtin_memcpy(m->src_mac, eth->h_source, 6);
	__builtin_memcpy(m->dst_mac, eth->h_dest, 6);
	proto = bpf_ntohs(eth->h_proto);
	pos = eth + 1;

	/* a tag the NIC stripped was the outermost one */
	if (p->hw_vlan_set) {
		k->vlan_outer = p->hw_vlan & 0x0fff;
		ntags = 1;
	}
	for (i = 0; i < NSFLOW_MAX_VLAN; i++) {
		struct vlan_tag *vt = pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if (ntags >= NSFLOW_MAX_VLAN)
			return NSFLOW_CNT_ERR_VLAN_DEPTH;
		if ((void *)(vt + 1) > p->data_end)
			return NSFLOW_CNT_ERR_VLAN_TRUNC;
		if (ntags == 0)
			k->vlan_outer = bpf_ntohs(vt->tci) & 0x0fff;
		else
			k->vlan_inner = bpf_ntohs(vt->tci) & 0x0fff;
		ntags++;
		proto = bpf_ntohs(vt->encap_proto);
		pos = vt + 1;
	}
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
		return NSFLOW_CNT_ERR_VLAN_DEPTH;

	if (proto == ETH_P_MPLS_UC || proto == ETH_P_MPLS_MC) {
		void *mpls_start = pos;
		__u32 lse_v = 0, n = 0;
		__u8 *first;

		for (i = 0; i < NSFLOW_MAX_MPLS; i++) {
			__be32 *lse = pos;

			if ((void *)(lse + 1) > p->data_end)
				return NSFLOW_CNT_ERR_MPLS_TRUNC;
			lse_v = bpf_ntohl(*lse);
			pos = lse + 1;
			/* label (20 bits), EXP (3) and S (1): the top 24 bits, as IE 70..72 carry
			 */
			if (i < NSFLOW_MPLS_RECORDED) {
				m->mpls_lse[i] = lse_v >> 8;
				n = i + 1;
			}
			if (lse_v & 0x100)
				break;
		}
		if (!(lse_v & 0x100))
			return NSFLOW_CNT_ERR_MPLS_NO_BOS;
		m->mpls_count = n;
		if (st->mpls_mode != NSFLOW_MPLS_IP_ONLY)
			k->mpls_top = NSFLOW_MPLS_VALID | m->mpls_lse[0];
		first = pos;
		/* MPLS says nothing of its payload: the first nibble tells IPv4 from IPv6; anything
		 * else (a pseudowire, or label-only mode) is metered by label, its length the
		 * MPLS packet's */
		proto = 0;
		if (st->mpls_mode != NSFLOW_MPLS_LABEL_ONLY && (void *)(first + 1) <= p->data_end) {
			if ((*first >> 4) == 4)
				proto = ETH_P_IP;
			else if ((*first >> 4) == 6)
				proto = ETH_P_IPV6;
		}
		if (!proto) {
			if (st->mpls_mode == NSFLOW_MPLS_IP_ONLY)
				return NSFLOW_CNT_NON_IP;
			m->octets = p->frame_len - (mpls_start - p->data);
		}
	} else if (proto != ETH_P_IP && proto != ETH_P_IPV6) {
		return NSFLOW_CNT_NON_IP;
	}
	st->proto = proto;
	/* from the start of the whole frame: the L3 stages read the packet from there */
	st->off = base + (pos - p->data);
	st->l3off = st->off;
	return PARSE_OK;
}

/* The L3 stages, given the offset L2 found (or the inner packet's). */
static __always_inline int parse_l3_ipv4(struct pkt *p, struct parse_state *st)
{
	if (st->off > PARSE_MAX_OFF)
		return NSFLOW_CNT_ERR_IPV4_TRUNC;
	return parse_ipv4(p, st->off, &st->sk.flow, &st->m);
}

static __always_inline int parse_l3_ipv6(struct pkt *p, struct parse_state *st)
{
	void *inner_pos = NULL;
	__u16 inner = 0;
	int ret;

	if (st->off > PARSE_MAX_OFF)
		return NSFLOW_CNT_ERR_IPV6_TRUNC;
	ret = parse_ipv6(p, p->data + st->off, &st->k, &st->m, &inner, &inner_pos);
	st->inner = inner;
	if (inner && inner_pos)
		st->off = inner_pos - p->data;
	return ret;
}

/*
 * A jumbogram (payload length 0) says how long it is in the Jumbo Payload option of its
 * hop-by-hop header (RFC 2675): the IP packet is 40 + that many bytes, which must fit in the
 * frame. The option is 4n+2 aligned: a sender puts it first, right after the header's two
 * bytes, where it is looked for. Without it the frame's length stands (a GSO super-packet).
 * A stage of its own: inside the IPv6 walk it doubled what the verifier explores.
 */
static __always_inline int parse_jumbo(struct pkt *p, struct parse_state *st)
{
	__u32 off = st->l3off, jlen;
	struct ipv6hdr *ip6;
	__u8 *hbh;

	if (off > PARSE_MAX_OFF)
		return NSFLOW_CNT_ERR_IPV6_TRUNC;
	ip6 = p->data + off;
	hbh = (void *)(ip6 + 1);
	/* the IPv6 stage checked the fixed header; a hop-by-hop header is at least 8 bytes */
	if ((void *)(hbh + 8) > p->data_end || ip6->payload_len || ip6->nexthdr != IPPROTO_HOPOPTS_)
		return PARSE_OK;
	if (hbh[2] != IPV6_TLV_JUMBO)
		return PARSE_OK;
	if (hbh[3] != 4)
		return NSFLOW_CNT_ERR_IPV6_LEN;
	jlen = (__u32)hbh[4] << 24 | (__u32)hbh[5] << 16 | (__u32)hbh[6] << 8 | hbh[7];
	if (jlen < IPV6_JUMBO_MIN || off + 40 > p->frame_len || jlen > p->frame_len - off - 40)
		return NSFLOW_CNT_ERR_IPV6_LEN;
	st->m.octets = jlen + 40;
	return PARSE_OK;
}

/*
 * The common case, parsed without the stage functions: an untagged Ethernet frame carrying
 * IPv4, or IPv6 with no extension header. It yields exactly what the stages would: the same
 * functions read the same headers. PARSE_SLOW: anything else (tags, MPLS, extension headers,
 * non-IP), for the stages to parse from the start.
 */
#define PARSE_SLOW (-2)

static __always_inline int parse_plain(struct pkt *p, struct parse_state *st)
{
	struct ethhdr *eth = p->data;
	struct ipv6hdr *ip6;
	__u16 proto;
	int ret;
	__u8 nh;

	if ((void *)(eth + 1) > p->data_end || p->hw_vlan_set)
		return PARSE_SLOW;
	proto = bpf_ntohs(eth->h_proto);
	if (proto != ETH_P_IP && proto != ETH_P_IPV6)
		return PARSE_SLOW;
	__builtin_memcpy(st->m.src_mac, eth->h_source, 6);
	__builtin_memcpy(st->m.dst_mac, eth->h_dest, 6);
	st->proto = proto;
	st->off = sizeof(*eth);
	if (proto == ETH_P_IP)
		return parse_ipv4(p, sizeof(*eth), &st->sk.flow, &st->m);

	ip6 = (void *)(eth + 1);
	ret = parse_ipv6_fixed(p, ip6, sizeof(*eth), &st->sk.flow, &st->m, &nh);
	if (ret != PARSE_OK)
		return ret;
	if (IPV6_IS_EXTHDR(nh))
		return PARSE_SLOW;
	st->sk.flow.protocol = nh;
	st->m.l4_off = sizeof(*eth) + sizeof(*ip6);
	return parse_l4(ip6 + 1, p->data_end, nh, &st->sk.flow, &st->m);
}

/*
 * The L2 stage parses the frame that starts st->base bytes in: the VXLAN inner frame in inner
 * mode. A tag the NIC stripped belongs to the outer frame. It hands the L3 stages an offset
 * from the start of the whole frame, which they read unshifted.
 */
static __always_inline int pkt_shift(struct pkt *p, __u32 base)
{
	if (!base)
		return 0;
	if (base > PARSE_MAX_OFF || base > p->frame_len)
		return -1;
	p->data += base;
	p->frame_len -= base;
	p->hw_vlan = 0;
	p->hw_vlan_set = 0;
	return 0;
}

/* The VXLAN header (RFC 7348): flags (I: the VNI is valid), 24 reserved bits, the VNI and 8
 * reserved bits, after the UDP header. */
struct vxlan_hdr_ {
	__u8 flags;
	__u8 _rsvd[3];
	__u8 vni[3];
	__u8 _rsvd2;
};
#define VXLAN_FLAG_I 0x08
#define UDP_HLEN     8

/* A UDP packet to the interface's VXLAN port, VXLAN not turned off there. */
static __always_inline bool vxlan_candidate(struct parse_state *st, struct nsflow_cfg *cfg)
{
	__u16 port = NSFLOW_VXLAN_PORT;

	if (cfg) {
		if (cfg->vxlan_mode == NSFLOW_VXLAN_OFF)
			return false;
		if (cfg->vxlan_port)
			port = cfg->vxlan_port;
	}
	return st->k.protocol == IPPROTO_UDP && st->k.dst_port == port && st->m.l4_off;
}

/*
 * The VXLAN header after the UDP header the key was read from: the VNI into the key and
 * st->base set to where the inner Ethernet frame starts. A header cut short or without the I
 * flag leaves the key as it is (the caller meters the packet as plain UDP) and says why.
 */
static __always_inline int parse_vxlan(struct pkt *p, struct parse_state *st)
{
	__u32 off = st->m.l4_off + UDP_HLEN;
	struct vxlan_hdr_ *vx;

	if (off > PARSE_MAX_OFF)
		return NSFLOW_CNT_ERR_VXLAN_TRUNC;
	vx = p->data + off;
	if ((void *)(vx + 1) > p->data_end)
		return NSFLOW_CNT_ERR_VXLAN_TRUNC;
	if (!(vx->flags & VXLAN_FLAG_I))
		return NSFLOW_CNT_ERR_VXLAN_FLAGS;
	st->k.vni =
		NSFLOW_VNI_VALID | (__u32)vx->vni[0] << 16 | (__u32)vx->vni[1] << 8 | vx->vni[2];
	st->base = off + sizeof(*vx);
	return PARSE_OK;
}

/* VXLAN inner mode: start over on the inner frame, keeping where the packet was seen, its
 * VNI and the interface's settings. */
static __always_inline void parse_enter_inner(struct parse_state *st)
{
	__u32 ifindex = st->k.ifindex, vni = st->k.vni, frame_len = st->frame_len;
	__u8 direction = st->k.direction, mpls_mode = st->mpls_mode;
	__u16 base = st->base;

	__builtin_memset(st, 0, sizeof(*st));
	st->k.ifindex = ifindex;
	st->k.direction = direction;
	st->k.vni = vni;
	st->frame_len = frame_len;
	st->mpls_mode = mpls_mode;
	st->base = base;
}

#endif /* NSFLOW_PARSE_H */
