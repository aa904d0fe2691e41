// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One readable line per flow, what `nsflow run` prints when no collector is given:
 *   2023-11-14T22:13:15.000Z eth0 in TCP 10.0.0.1:1000 -> 10.0.0.2:443 10 pkts 15000 bytes
 *   ...AP.SF idle
 * IPv6 addresses in brackets, ICMP as type/code, MPLS label-only flows by their labels.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "exp_format.h"

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 1:
		return "ICMP";
	case 2:
		return "IGMP";
	case 6:
		return "TCP";
	case 17:
		return "UDP";
	case 47:
		return "GRE";
	case 50:
		return "ESP";
	case 51:
		return "AH";
	case 58:
		return "ICMPv6";
	case 132:
		return "SCTP";
	default:
		return NULL;
	}
}

static const char *end_reason_name(uint8_t reason)
{
	static const char *const names[] = {
		[NS_END_IDLE] = "idle",
		[NS_END_ACTIVE] = "active",
		[NS_END_END_OF_FLOW] = "end",
		[NS_END_FORCED] = "forced",
		[NS_END_LACK_OF_RESOURCES] = "cache-full",
	};

	return reason < sizeof(names) / sizeof(names[0]) && names[reason] ? names[reason] : "-";
}

static void put_time(struct ns_strbuf *sb, uint64_t ms)
{
	time_t secs = ms / 1000;
	struct tm tm;
	char text[32];

	gmtime_r(&secs, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
	ns_sb_printf(sb, "%s.%03uZ", text, (unsigned int)(ms % 1000));
}

static void put_iface(struct ns_strbuf *sb, const struct ns_export_context *ctx, uint32_t ifindex)
{
	size_t i;

	for (i = 0; ctx && i < ctx->n_ifaces; i++) {
		if (ctx->ifaces[i].ifindex == ifindex && ctx->ifaces[i].name[0]) {
			ns_sb_printf(sb, "%.*s", (int)sizeof(ctx->ifaces[i].name),
				     ctx->ifaces[i].name);
			return;
		}
	}
	ns_sb_printf(sb, "if%" PRIu32, ifindex);
}

static void put_endpoint(struct ns_strbuf *sb, const struct ns_record *r, const uint8_t *addr,
			 uint16_t port, int ports)
{
	int v6 = r->ip_version == 6;

	ns_sb_printf(sb, "%s", v6 ? "[" : "");
	ns_sb_addr(sb, addr, !v6);
	ns_sb_printf(sb, "%s", v6 ? "]" : "");
	if (ports)
		ns_sb_printf(sb, ":%u", port);
}

static void put_tcp_flags(struct ns_strbuf *sb, uint8_t flags)
{
	static const char letters[] = "CEUAPRSF";
	char text[9];
	int i;

	for (i = 0; i < 8; i++)
		text[i] = flags & (0x80 >> i) ? letters[i] : '.';
	text[8] = '\0';
	ns_sb_printf(sb, " %s", text);
}

int ns_text_format(const struct ns_export_context *ctx, const struct ns_record *r, char *buf,
		   size_t cap)
{
	struct ns_strbuf sb = { .buf = buf, .cap = cap };
	int icmp = r->protocol == 1 || r->protocol == 58;
	const char *name = proto_name(r->protocol);
	int ports = !icmp && (r->src_port || r->dst_port);
	unsigned int i;

	put_time(&sb, r->start_ms);
	ns_sb_printf(&sb, " ");
	put_iface(&sb, ctx, r->direction ? r->egress_ifindex : r->ingress_ifindex);
	ns_sb_printf(&sb, " %s ", r->direction ? "out" : "in");
	if (r->ip_version != 4 && r->ip_version != 6) {
		ns_sb_printf(&sb, "MPLS labels");
		for (i = 0; i < r->mpls_count && i < NS_REC_MPLS_MAX; i++)
			ns_sb_printf(&sb, "%s%" PRIu32, i ? "/" : " ", r->mpls_lse[i] >> 4);
	} else {
		if (name)
			ns_sb_printf(&sb, "%s ", name);
		else
			ns_sb_printf(&sb, "proto-%u ", r->protocol);
		put_endpoint(&sb, r, r->src_addr, r->src_port, ports);
		ns_sb_printf(&sb, " -> ");
		put_endpoint(&sb, r, r->dst_addr, r->dst_port, ports);
		if (icmp)
			ns_sb_printf(&sb, " type %u code %u", r->dst_port >> 8, r->dst_port & 0xff);
	}
	ns_sb_printf(&sb, " %" PRIu64 " pkts %" PRIu64 " bytes", r->packets, r->octets);
	if (r->protocol == 6)
		put_tcp_flags(&sb, r->tcp_flags);
	ns_sb_printf(&sb, " %s", end_reason_name(r->end_reason));
	return ns_sb_end_line(&sb);
}
