/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A frame builder for tests: headers appended in wire order, lengths fixed up at the end. */
#ifndef NSFLOW_TEST_PKT_H
#define NSFLOW_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PB_MAX 4096

struct pb {
	uint8_t b[PB_MAX];
	size_t len;
	/* headers whose length field covers the rest of the frame */
	size_t ip4[4], ip6[4], udp[4];
	int n4, n6, nudp;
};

extern const uint8_t pb_src_mac[6], pb_dst_mac[6];

void pb_init(struct pb *p);
void pb_eth(struct pb *p, uint16_t ethertype);
void pb_vlan(struct pb *p, uint16_t vid, uint8_t pcp, uint16_t next_type);
void pb_mpls(struct pb *p, uint32_t label, uint8_t exp, int bos, uint8_t ttl);
/* opt_words: IPv4 options in 32-bit words (IHL = 5 + opt_words); frag: offset in 8-byte units */
void pb_ipv4(struct pb *p, uint8_t proto, const char *src, const char *dst, uint8_t tos,
	     uint8_t ttl, int opt_words, uint16_t frag, int more_frags);
void pb_ipv6(struct pb *p, uint8_t nexthdr, const char *src, const char *dst, uint8_t tclass,
	     uint8_t hlim);
/* hop-by-hop / destination options / routing header of (len8 + 1) * 8 bytes */
void pb_ext6(struct pb *p, uint8_t nexthdr, int len8, uint8_t routing_type);
void pb_frag6(struct pb *p, uint8_t nexthdr, uint16_t offset8, int more);
void pb_ah(struct pb *p, uint8_t nexthdr);
void pb_srh(struct pb *p, uint8_t nexthdr, uint8_t segleft, int nsegs, const char *const *segs,
	    uint8_t flags, uint16_t tag);
void pb_tcp(struct pb *p, uint16_t sport, uint16_t dport, uint8_t flags, int doff);
void pb_udp(struct pb *p, uint16_t sport, uint16_t dport);
void pb_sctp(struct pb *p, uint16_t sport, uint16_t dport);
void pb_icmp(struct pb *p, uint8_t type, uint8_t code);
/* VXLAN header (RFC 7348): flags (0x08 is the I flag) and the 24-bit VNI; the inner Ethernet
 * frame follows with pb_eth_macs() */
void pb_vxlan(struct pb *p, uint8_t flags, uint32_t vni);
void pb_eth_macs(struct pb *p, const uint8_t src[6], const uint8_t dst[6], uint16_t ethertype);
void pb_bytes(struct pb *p, const void *data, size_t n);
void pb_zero(struct pb *p, size_t n);
/* Fixes IPv4 total length / IPv6 payload length / UDP length to reach the end of the frame. */
void pb_finish(struct pb *p);

#endif
