// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * NetFlow v5 layout (Cisco's fixed format): a 24-byte header and 48-byte IPv4-only records,
 * at most 30 per packet. There is no RFC; field offsets are those every collector decodes.
 */
#include <string.h>

#include "exp_encoder.h"
#include "exp_msg.h"

/* v5 interface indexes are narrower than ours: saturate rather than wrap (the encoder splits
 * a flow whose counters pass 32 bits into several records before they get here) */
static uint32_t sat32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static uint16_t sat16(uint32_t v)
{
	return v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
}

static uint32_t uptime(uint64_t ms, uint64_t boot_ms)
{
	return ms > boot_ms ? (uint32_t)(ms - boot_ms) : 0;
}

/*
 * Header sampling_interval: 2 bits of mode, 14 bits of interval. Mode 01 is packet-interval
 * (1-in-N) sampling; unsampled (N = 1) and time-based sampling (N = 0) send 0.
 */
uint16_t ns_v5_sampling_field(uint32_t sampling_interval)
{
	if (sampling_interval <= 1)
		return 0;
	if (sampling_interval > 0x3FFF)
		sampling_interval = 0x3FFF;
	return 0x4000 | sampling_interval;
}

/* A 4-byte AS number in v5's 2 bytes: AS_TRANS (RFC 6793) */
static uint16_t as16(uint32_t as)
{
	return as > 65535 ? 23456 : (uint16_t)as;
}

void ns_v5_put_record(uint8_t *d, const struct ns_record *r, uint64_t boot_ms)
{
	memcpy(d + 0, r->src_addr + 12, 4);		/* srcaddr */
	memcpy(d + 4, r->dst_addr + 12, 4);		/* dstaddr */
	memcpy(d + 8, r->ip_nexthop + 12, 4);		/* nexthop (with --routes) */
	ns_put16(d + 12, sat16(r->ingress_ifindex));	/* input */
	ns_put16(d + 14, sat16(r->egress_ifindex));	/* output */
	ns_put32(d + 16, sat32(r->packets));		/* dPkts */
	ns_put32(d + 20, sat32(r->octets));		/* dOctets */
	ns_put32(d + 24, uptime(r->start_ms, boot_ms)); /* First */
	ns_put32(d + 28, uptime(r->end_ms, boot_ms));	/* Last */
	ns_put16(d + 32, r->src_port);			/* srcport */
	ns_put16(d + 34, r->dst_port);			/* dstport, ICMP type << 8 | code */
	d[36] = 0;					/* pad1 */
	d[37] = r->tcp_flags;				/* tcp_flags */
	d[38] = r->protocol;				/* prot */
	d[39] = r->tos;					/* tos */
	ns_put16(d + 40, as16(r->src_as));		/* src_as */
	ns_put16(d + 42, as16(r->dst_as));		/* dst_as */
	d[44] = r->src_mask;				/* src_mask */
	d[45] = r->dst_mask;				/* dst_mask */
	memset(d + 46, 0, 2);				/* pad2 */
}

void ns_v5_put_header(uint8_t *d, uint16_t count, uint64_t now_ms, uint64_t boot_ms,
		      uint32_t flow_seq, uint32_t domain, uint16_t sampling)
{
	ns_put16(d + 0, 5);					/* version */
	ns_put16(d + 2, count);					/* count */
	ns_put32(d + 4, uptime(now_ms, boot_ms));		/* sysUptime */
	ns_put32(d + 8, (uint32_t)(now_ms / 1000));		/* unix_secs */
	ns_put32(d + 12, (uint32_t)(now_ms % 1000) * 1000000u); /* unix_nsecs */
	ns_put32(d + 16, flow_seq);	/* flow_sequence: flows before this one */
	d[20] = (uint8_t)(domain >> 8); /* engine_type */
	d[21] = (uint8_t)domain;	/* engine_id */
	ns_put16(d + 22, sampling);	/* sampling_interval */
}
