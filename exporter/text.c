// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One readable line per flow, in columns under a header, what `nsflow run` prints when no
 * collector is given (nfdump -o long is the model):
 *   First seen (UTC)         Duration Iface    Dir Proto  Source                  Destination ...
 *   2023-11-14 22:13:15.000     1.250 eth0     in  TCP    10.0.0.1:1000           10.0.0.2:443
 *   ... Flags       Packets        Bytes End
 *   ... ...AP.SF         10        15000 idle
 * IPv6 addresses in brackets, ICMP as type.code, MPLS label-only flows by their labels. A
 * column too narrow for its value grows rather than cutting it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <netinet/in.h>

#include "exp_format.h"

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_ICMP:
		return "ICMP";
	case IPPROTO_IGMP:
		return "IGMP";
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_GRE:
		return "GRE";
	case IPPROTO_ESP:
		return "ESP";
	case IPPROTO_AH:
		return "AH";
	case IPPROTO_ICMPV6:
		return "ICMPv6";
	case IPPROTO_SCTP:
		return "SCTP";
	default:
		return NULL;
	}
}

static void put_time(struct ns_strbuf *sb, uint64_t ms)
{
	time_t secs = ms / 1000;
	struct tm tm;
	char text[32];

	gmtime_r(&secs, &tm);
	strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm);
	ns_sb_printf(sb, "%s.%03u", text, (unsigned int)(ms % 1000));
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
	ns_sb_printf(sb, "%s", text);
}

/* widths of the columns after the time: what the header spells out above them */
#define TEXT_COLUMNS "%8s %-8s %-3s %-6s %-23s %-23s %-8s %10s %12s %s"

const char *ns_text_header(void)
{
	static char line[160];

	if (!line[0])
		snprintf(line, sizeof(line), "%-23s " TEXT_COLUMNS "\n", "First seen (UTC)",
			 "Duration", "Iface", "Dir", "Proto", "Source", "Destination", "Flags",
			 "Packets", "Bytes", "End");
	return line;
}

/* a column's text, formatted apart so that it can be padded */
#define COLUMN(name)        \
	char name[80] = ""; \
	struct ns_strbuf name##_sb = { name, sizeof(name), 0, 0 }

int ns_text_format(const struct ns_export_context *ctx, const struct ns_record *r, char *buf,
		   size_t cap)
{
	struct ns_strbuf sb = { .buf = buf, .cap = cap };
	int icmp = r->protocol == IPPROTO_ICMP || r->protocol == IPPROTO_ICMPV6;
	const char *name = proto_name(r->protocol);
	int ports = !icmp && (r->src_port || r->dst_port);
	uint64_t dur = r->end_ms > r->start_ms ? r->end_ms - r->start_ms : 0;
	char proto[16], duration[24], packets[24], octets[24];
	COLUMN(iface);
	COLUMN(src);
	COLUMN(dst);
	COLUMN(flags);
	unsigned int i;

	put_time(&sb, r->start_ms);
	put_iface(&iface_sb, ctx, r->direction ? r->egress_ifindex : r->ingress_ifindex);
	if (r->ip_version != 4 && r->ip_version != 6) {
		snprintf(proto, sizeof(proto), "MPLS");
		ns_sb_printf(&src_sb, "labels");
		for (i = 0; i < r->mpls_count && i < NS_REC_MPLS_MAX; i++)
			ns_sb_printf(&src_sb, "%s%" PRIu32, i ? "/" : " ", r->mpls_lse[i] >> 4);
	} else {
		if (name)
			snprintf(proto, sizeof(proto), "%s", name);
		else
			snprintf(proto, sizeof(proto), "%u", r->protocol);
		put_endpoint(&src_sb, r, r->src_addr, r->src_port, ports);
		put_endpoint(&dst_sb, r, r->dst_addr, r->dst_port, ports);
		if (icmp)
			ns_sb_printf(&dst_sb, " %u.%u", r->dst_port >> 8, r->dst_port & 0xff);
	}
	if (r->protocol == IPPROTO_TCP)
		put_tcp_flags(&flags_sb, r->tcp_flags);
	snprintf(duration, sizeof(duration), "%" PRIu64 ".%03u", dur / 1000,
		 (unsigned int)(dur % 1000));
	snprintf(packets, sizeof(packets), "%" PRIu64, r->packets);
	snprintf(octets, sizeof(octets), "%" PRIu64, r->octets);
	ns_sb_printf(&sb, " " TEXT_COLUMNS, duration, iface, r->direction ? "out" : "in", proto,
		     src, dst, flags[0] ? flags : "-", packets, octets,
		     ns_end_reason_name(r->end_reason));
	return ns_sb_end_line(&sb);
}
