// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <string.h>
#include "pkt.h"

const uint8_t pb_src_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const uint8_t pb_dst_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static uint8_t *put(struct pb *p, size_t n)
{
	uint8_t *at = p->b + p->len;

	memset(at, 0, n);
	p->len += n;
	return at;
}

static void put16(uint8_t *at, uint16_t v)
{
	at[0] = v >> 8;
	at[1] = v & 0xff;
}

void pb_init(struct pb *p)
{
	memset(p, 0, sizeof(*p));
}

void pb_eth_macs(struct pb *p, const uint8_t src[6], const uint8_t dst[6], uint16_t ethertype)
{
	uint8_t *h = put(p, 14);

	memcpy(h, dst, 6);
	memcpy(h + 6, src, 6);
	put16(h + 12, ethertype);
}

void pb_eth(struct pb *p, uint16_t ethertype)
{
	pb_eth_macs(p, pb_src_mac, pb_dst_mac, ethertype);
}

void pb_vxlan(struct pb *p, uint8_t flags, uint32_t vni)
{
	uint8_t *h = put(p, 8);

	h[0] = flags;
	h[4] = (uint8_t)(vni >> 16);
	h[5] = (uint8_t)(vni >> 8);
	h[6] = (uint8_t)vni;
}

void pb_vlan(struct pb *p, uint16_t vid, uint8_t pcp, uint16_t next_type)
{
	uint8_t *h = put(p, 4);

	put16(h, (uint16_t)(pcp << 13) | (vid & 0x0fff));
	put16(h + 2, next_type);
}

void pb_mpls(struct pb *p, uint32_t label, uint8_t exp, int bos, uint8_t ttl)
{
	uint32_t v = htonl(label << 12 | (uint32_t)(exp & 7) << 9 | (bos ? 1u : 0u) << 8 | ttl);

	memcpy(put(p, 4), &v, 4);
}

void pb_ipv4(struct pb *p, uint8_t proto, const char *src, const char *dst, uint8_t tos,
	     uint8_t ttl, int opt_words, uint16_t frag, int more_frags)
{
	uint8_t *h = put(p, 20 + opt_words * 4);

	h[0] = 0x40 | (5 + opt_words);
	h[1] = tos;
	put16(h + 6, (uint16_t)((more_frags ? 0x2000 : 0) | (frag & 0x1fff)));
	h[8] = ttl;
	h[9] = proto;
	inet_pton(AF_INET, src, h + 12);
	inet_pton(AF_INET, dst, h + 16);
	for (int i = 0; i < opt_words * 4; i++)
		h[20 + i] = 1; /* NOP options */
	p->ip4[p->n4++] = h - p->b;
}

void pb_ipv6(struct pb *p, uint8_t nexthdr, const char *src, const char *dst, uint8_t tclass,
	     uint8_t hlim)
{
	uint8_t *h = put(p, 40);

	h[0] = 0x60 | tclass >> 4;
	h[1] = (uint8_t)(tclass << 4);
	h[6] = nexthdr;
	h[7] = hlim;
	inet_pton(AF_INET6, src, h + 8);
	inet_pton(AF_INET6, dst, h + 24);
	p->ip6[p->n6++] = h - p->b;
}

void pb_ext6(struct pb *p, uint8_t nexthdr, int len8, uint8_t routing_type)
{
	uint8_t *h = put(p, (size_t)(len8 + 1) * 8);

	h[0] = nexthdr;
	h[1] = (uint8_t)len8;
	h[2] = routing_type; /* only meaningful for routing headers; PadN-free options are fine */
}

void pb_frag6(struct pb *p, uint8_t nexthdr, uint16_t offset8, int more)
{
	uint8_t *h = put(p, 8);

	h[0] = nexthdr;
	put16(h + 2, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	h[7] = 0x42; /* identification */
}

void pb_ah(struct pb *p, uint8_t nexthdr)
{
	uint8_t *h = put(p, 24); /* 12 fixed + 12 ICV: payload len = 24 / 4 - 2 = 4 */

	h[0] = nexthdr;
	h[1] = 4;
}

void pb_srh(struct pb *p, uint8_t nexthdr, uint8_t segleft, int nsegs, const char *const *segs,
	    uint8_t flags, uint16_t tag)
{
	uint8_t *h = put(p, 8 + (size_t)nsegs * 16);

	h[0] = nexthdr;
	h[1] = (uint8_t)(nsegs * 2);
	h[2] = 4;
	h[3] = segleft;
	h[4] = (uint8_t)(nsegs - 1);
	h[5] = flags;
	put16(h + 6, tag);
	for (int i = 0; i < nsegs; i++)
		inet_pton(AF_INET6, segs[i], h + 8 + i * 16);
}

void pb_tcp(struct pb *p, uint16_t sport, uint16_t dport, uint8_t flags, int doff)
{
	uint8_t *h = put(p, 20);

	put16(h, sport);
	put16(h + 2, dport);
	h[12] = (uint8_t)(doff << 4);
	h[13] = flags;
	put16(h + 14, 65535);
}

void pb_udp(struct pb *p, uint16_t sport, uint16_t dport)
{
	uint8_t *h = put(p, 8);

	put16(h, sport);
	put16(h + 2, dport);
	p->udp[p->nudp++] = h - p->b;
}

void pb_sctp(struct pb *p, uint16_t sport, uint16_t dport)
{
	uint8_t *h = put(p, 12);

	put16(h, sport);
	put16(h + 2, dport);
}

void pb_icmp(struct pb *p, uint8_t type, uint8_t code)
{
	uint8_t *h = put(p, 8);

	h[0] = type;
	h[1] = code;
}

void pb_bytes(struct pb *p, const void *data, size_t n)
{
	memcpy(put(p, n), data, n);
}

void pb_zero(struct pb *p, size_t n)
{
	put(p, n);
}

void pb_finish(struct pb *p)
{
	for (int i = 0; i < p->n4; i++)
		put16(p->b + p->ip4[i] + 2, (uint16_t)(p->len - p->ip4[i]));
	for (int i = 0; i < p->n6; i++)
		put16(p->b + p->ip6[i] + 4, (uint16_t)(p->len - p->ip6[i] - 40));
	for (int i = 0; i < p->nudp; i++)
		put16(p->b + p->udp[i] + 4, (uint16_t)(p->len - p->udp[i]));
}
