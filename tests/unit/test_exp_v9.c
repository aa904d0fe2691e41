// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * NetFlow v9 encoding (RFC 3954) byte for byte: header with count/sysUptime/sequence,
 * template and options template FlowSets (scope lengths in bytes), data FlowSets padded to
 * 32 bits, FIRST/LAST_SWITCHED relative to boot, fixed-length interface names.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include "records.h"
#include <string.h>

#include "exp_decode.h"
#include "exp_encoder.h"

#define T0   1700000002000ULL
#define BOOT (1700000000000ULL - 3600000) /* sysUptime at T0: 3602000 ms */

static const struct ns_sampler_info samplers[] = {
	{ 7, NS_SAMPLER_COUNT, 100, 100, 0 },
	{ 8, NS_SAMPLER_TIME, 50, 37, 0 }, /* measured: 1 in 37 */
	{ 9, NS_SAMPLER_TIME, 50, 0, 0 },  /* not measured yet */
};
static const struct ns_iface_info ifaces[] = { { 2, "eth0", "wan 1" } };
static struct ns_export_context ctx = { .boot_ms = BOOT };
static struct ns_encoder enc;
static struct ns_capture cap;

/* the shared IPv4 TCP record, with a sampler of its own */
static void rec_v4_tcp(struct ns_record *r)
{
	exp_rec_v4_tcp(r);
	r->selector_id = 7;
}

static void setup_enc(uint32_t refresh_packets, uint32_t mtu)
{
	struct ns_export_opts o;

	ns_export_opts_default(&o);
	o.observation_domain = 0x01020304;
	o.template_refresh_packets = refresh_packets;
	o.template_refresh_secs = 0;
	o.mtu = mtu;
	ctx.samplers = NULL;
	ctx.n_samplers = 0;
	ctx.ifaces = NULL;
	ctx.n_ifaces = 0;
	memset(&cap, 0, sizeof(cap));
	cr_assert_eq(ns_encoder_init(&enc, NS_PROTO_V9, &o, &ctx, 0, ns_capture_emit, &cap), 0);
}

static void teardown_enc(void)
{
	ns_encoder_free(&enc);
	ns_capture_free(&cap);
}

static size_t find_set(const uint8_t *m, size_t len, uint16_t id)
{
	size_t off;

	for (off = 20; off + 4 <= len; off += ns_get16(m + off + 2))
		if (ns_get16(m + off) == id)
			return off;
	return 0;
}

TestSuite(v9, .fini = teardown_enc);

Test(v9, header)
{
	/* clang-format off */
	static const uint8_t want[] = {
		0x00, 0x09,		/* version 9 */
		0x00, 0x08,		/* count: 5 options templates, 1 options record, */
					/* 1 template, 1 data record */
		0x00, 0x36, 0xf6, 0x50, /* sysUptime 3602000 ms */
		0x65, 0x53, 0xf1, 0x02, /* unix secs 1700000002 */
		0x00, 0x00, 0x00, 0x00, /* sequence: first export packet */
		0x01, 0x02, 0x03, 0x04, /* source id */
	};
	/* clang-format on */
	struct ns_record r;

	setup_enc(20, 1400);
	rec_v4_tcp(&r);
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	cr_assert_eq(cap.n, 1);
	cr_assert_arr_eq(cap.msg[0], want, sizeof(want));
}

Test(v9, template_and_padded_data_flowset)
{
	/* clang-format off */
	static const uint8_t want_tmpl[] = {
		0x00, 0x00, 0x00, 0x74, /* template FlowSet, length 4 + 4 + 27 * 4 */
		0x01, 0x00, 0x00, 0x1b, /* template 256, 27 fields */
		0x00, 0x08, 0x00, 0x04, /* IPV4_SRC_ADDR */
		0x00, 0x0c, 0x00, 0x04, /* IPV4_DST_ADDR */
		0x00, 0x07, 0x00, 0x02, /* L4_SRC_PORT */
		0x00, 0x0b, 0x00, 0x02, /* L4_DST_PORT */
		0x00, 0x04, 0x00, 0x01, /* PROTOCOL */
		0x00, 0x05, 0x00, 0x01, /* SRC_TOS */
		0x00, 0x06, 0x00, 0x01, /* TCP_FLAGS: 1 byte in v9 */
		0x00, 0x20, 0x00, 0x02, /* ICMP_TYPE */
		0x00, 0x0a, 0x00, 0x04, /* INPUT_SNMP */
		0x00, 0x0e, 0x00, 0x04, /* OUTPUT_SNMP */
		0x00, 0x3d, 0x00, 0x01, /* DIRECTION */
		0x00, 0x3c, 0x00, 0x01, /* IP_PROTOCOL_VERSION */
		0x00, 0x3a, 0x00, 0x02, /* SRC_VLAN */
		0x00, 0xf3, 0x00, 0x02, /* dot1qVlanId */
		0x00, 0xf5, 0x00, 0x02, /* dot1qCustomerVlanId */
		0x00, 0x38, 0x00, 0x06, /* IN_SRC_MAC */
		0x00, 0x50, 0x00, 0x06, /* IN_DST_MAC */
		0x00, 0x34, 0x00, 0x01, /* MIN_TTL */
		0x00, 0x35, 0x00, 0x01, /* MAX_TTL */
		0x00, 0x19, 0x00, 0x04, /* MIN_PKT_LNGTH: 4 bytes hold a jumbogram's */
		0x00, 0x1a, 0x00, 0x04, /* MAX_PKT_LNGTH */
		0x00, 0x02, 0x00, 0x08, /* IN_PKTS */
		0x00, 0x01, 0x00, 0x08, /* IN_BYTES */
		0x00, 0x16, 0x00, 0x04, /* FIRST_SWITCHED */
		0x00, 0x15, 0x00, 0x04, /* LAST_SWITCHED */
		0x00, 0x88, 0x00, 0x01, /* flowEndReason */
		0x00, 0x30, 0x00, 0x02, /* FLOW_SAMPLER_ID */
	};
	/* clang-format on */
	/* clang-format off */
	static const uint8_t want_data[] = {
		0x01, 0x00, 0x00, 0x58,	/* FlowSet 256, length 4 + 82 + 2 padding */
		0xc0, 0x00, 0x02, 0x01, /* IPV4_SRC_ADDR */
		0xc6, 0x33, 0x64, 0x07, /* IPV4_DST_ADDR */
		0x9c, 0x40,		/* L4_SRC_PORT */
		0x01, 0xbb,		/* L4_DST_PORT */
		0x06,			/* PROTOCOL */
		0x28,			/* SRC_TOS */
		0x1b,			/* TCP_FLAGS */
		0x00, 0x00,		/* ICMP_TYPE */
		0x00, 0x00, 0x00, 0x02, /* INPUT_SNMP */
		0x00, 0x00, 0x00, 0x03, /* OUTPUT_SNMP */
		0x00,			/* DIRECTION */
		0x04,			/* IP_PROTOCOL_VERSION */
		0x00, 0x64,		/* SRC_VLAN */
		0x00, 0x64,		/* dot1qVlanId */
		0x00, 0x00,		/* dot1qCustomerVlanId */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* IN_SRC_MAC */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* IN_DST_MAC */
		0x3f, 0x40,		/* MIN_TTL, MAX_TTL */
		0, 0, 0x00, 0x34,	/* MIN_PKT_LNGTH */
		0, 0, 0x05, 0xdc,	/* MAX_PKT_LNGTH */
		0, 0, 0, 0, 0, 0, 0x00, 0x0a, /* IN_PKTS */
		0, 0, 0, 0, 0, 0, 0x13, 0x88, /* IN_BYTES */
		0x00, 0x36, 0xee, 0xfb, /* FIRST_SWITCHED 3600123 ms after boot */
		0x00, 0x36, 0xf4, 0x30, /* LAST_SWITCHED 3601456 */
		0x03,			/* flowEndReason */
		0x00, 0x07,		/* FLOW_SAMPLER_ID */
		0x00, 0x00,		/* padding to 32 bits */
	};
	/* clang-format on */
	struct ns_record r;
	size_t off;

	setup_enc(20, 1400);
	rec_v4_tcp(&r);
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	off = find_set(cap.msg[0], cap.len[0], 0);
	cr_assert(off);
	cr_assert_arr_eq(cap.msg[0] + off, want_tmpl, sizeof(want_tmpl));
	off = find_set(cap.msg[0], cap.len[0], 256);
	cr_assert_eq(off + sizeof(want_data), cap.len[0]);
	cr_assert_arr_eq(cap.msg[0] + off, want_data, sizeof(want_data));
}

Test(v9, options_templates_and_data)
{
	/* clang-format off */
	static const uint8_t want_opt_tmpl[] = {
		/* one options template per FlowSet: pmacct reads only a set's first one */
		0x00, 0x01, 0x00, 0x1c, /* options template FlowSet, 4 + 22 + 2 padding */
		0x01, 0x09, 0x00, 0x04, 0x00, 0x0c, /* 265: scope 4 bytes, options 12 */
		0x00, 0x01, 0x00, 0x04, /* scope System */
		0x00, 0x30, 0x00, 0x02, /* FLOW_SAMPLER_ID */
		0x00, 0x31, 0x00, 0x01, /* FLOW_SAMPLER_MODE */
		0x00, 0x32, 0x00, 0x04, /* FLOW_SAMPLER_RANDOM_INTERVAL */
		0x00, 0x00,		/* padding */
		0x00, 0x01, 0x00, 0x1c, /* options template FlowSet, 4 + 22 + 2 padding */
		0x01, 0x0a, 0x00, 0x04, 0x00, 0x0c, /* 266 */
		0x00, 0x01, 0x00, 0x04, /* scope System */
		0x00, 0xa6, 0x00, 0x08, /* notSentFlowTotalCount */
		0x00, 0xa7, 0x00, 0x08, /* notSentPacketTotalCount */
		0x00, 0xa8, 0x00, 0x08, /* notSentOctetTotalCount */
		0x00, 0x00,		/* padding */
		0x00, 0x01, 0x00, 0x14, /* options template FlowSet, 4 + 14 + 2 padding */
		0x01, 0x0b, 0x00, 0x04, 0x00, 0x04, /* 267 */
		0x00, 0x02, 0x00, 0x04, /* scope Interface */
		0x00, 0x52, 0x00, 0x40, /* IF_NAME, 64 bytes */
		0x00, 0x00,		/* padding */
		/* descriptions as nfdump reads them: scope, INPUT_SNMP, IF_DESC and no more */
		0x00, 0x01, 0x00, 0x18, /* options template FlowSet, 4 + 18 + 2 padding */
		0x01, 0x54, 0x00, 0x04, 0x00, 0x08, /* 340 */
		0x00, 0x01, 0x00, 0x04, /* scope System */
		0x00, 0x0a, 0x00, 0x04, /* INPUT_SNMP */
		0x00, 0x53, 0x00, 0x80, /* IF_DESC, 128 bytes */
		0x00, 0x00,		/* padding */
	};
	/* clang-format on */
	/* clang-format off */
	static const uint8_t want_sampler[] = {
		0x01, 0x09, 0x00, 0x10, /* FlowSet 265, 4 + 11 + 1 padding */
		0x01, 0x02, 0x03, 0x04, /* System scope: source id */
		0x00, 0x07,		/* sampler 7 */
		0x01,			/* deterministic */
		0x00, 0x00, 0x00, 0x64, /* 1 in 100 */
		0x00,			/* padding */
		0x01, 0x09, 0x00, 0x10, /* FlowSet 265 again: one sampler per set */
		0x01, 0x02, 0x03, 0x04, /* System scope: source id */
		0x00, 0x08,		/* sampler 8, time-based */
		0x01,			/* deterministic */
		0x00, 0x00, 0x00, 0x25, /* 1 in 37 as measured */
		0x00,			/* padding */
		0x01, 0x0a,		/* next: reliability; sampler 9 has no rate yet */
	};
	/* clang-format on */
	const uint8_t *m;
	size_t off;

	setup_enc(20, 1400);
	ctx.samplers = samplers;
	ctx.n_samplers = 3;
	ctx.ifaces = ifaces;
	ctx.n_ifaces = 1;
	ns_encoder_tick(&enc, T0);
	cr_assert_eq(cap.n, 1);
	m = cap.msg[0];
	cr_assert_eq(find_set(m, cap.len[0], 1), 20);
	cr_assert_arr_eq(m + 20, want_opt_tmpl, sizeof(want_opt_tmpl));
	cr_assert_arr_eq(m + find_set(m, cap.len[0], 265), want_sampler, sizeof(want_sampler));
	off = find_set(m, cap.len[0], 267);
	cr_assert_eq(ns_get16(m + off + 2), 4 + 68);
	cr_assert_eq(ns_get32(m + off + 4), 2);
	cr_assert_str_eq((const char *)m + off + 8, "eth0");
	cr_assert_eq(m[off + 8 + 63], 0, "NUL padded to the fixed length");
	off = find_set(m, cap.len[0], 340);
	cr_assert_eq(ns_get16(m + off + 2), 4 + 136);
	cr_assert_eq(ns_get32(m + off + 4), 0x01020304, "System scope: source id");
	cr_assert_eq(ns_get32(m + off + 8), 2);
	cr_assert_str_eq((const char *)m + off + 12, "wan 1");
	cr_assert_eq(ns_get16(m + 2), 5 + 2 + 1 + 1 + 1, "count: templates and options records");
}

Test(v9, srh_template_has_scalars_only)
{
	struct ns_record r;
	struct ns_decoder d;
	char err[128];
	size_t off;

	setup_enc(20, 1400);
	rec_v4_tcp(&r);
	r.ip_version = 6;
	r.srh_present = 1;
	r.srh_segment_count = 3;
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	off = find_set(cap.msg[0], cap.len[0], 0);
	cr_assert_eq(ns_get16(cap.msg[0] + off + 4), NS_TMPL_IPV6_SRH);
	cr_assert_eq(ns_get16(cap.msg[0] + off + 6), 33,
		     "28 (flow label among them) + 5 SRH scalars, no basicList or octetArrays");
	ns_decoder_init(&d, NS_PROTO_V9);
	cr_assert_eq(ns_decode(&d, cap.msg[0], cap.len[0], err, sizeof(err)), 0, "%s", err);
}

Test(v9, sequence_counts_packets)
{
	struct ns_record r[3];
	int i;

	setup_enc(0, 1400);
	for (i = 0; i < 3; i++)
		rec_v4_tcp(&r[i]);
	for (i = 0; i < 4; i++) {
		ns_encoder_add(&enc, r, 3, T0 + i);
		ns_encoder_flush(&enc, T0 + i);
	}
	cr_assert_eq(cap.n, 4);
	for (i = 0; i < 4; i++)
		cr_assert_eq(ns_get32(cap.msg[i] + 12), (uint32_t)i);
}

Test(v9, mtu_split_and_counts)
{
	struct ns_record r[500];
	size_t i, refreshes = 0;
	struct ns_decoder d;
	char err[256];

	setup_enc(7, NS_MTU_MIN);
	for (i = 0; i < 500; i++) {
		rec_v4_tcp(&r[i]);
		if (i % 4 == 1) {
			r[i].ip_version = 6;
			r[i].srh_present = i % 8 == 1;
		}
		r[i].mpls_count = i % 3;
	}
	ns_encoder_add(&enc, r, 500, T0);
	ns_encoder_flush(&enc, T0);
	ns_decoder_init(&d, NS_PROTO_V9);
	for (i = 0; i < cap.n; i++) {
		cr_assert_leq(cap.len[i], NS_MTU_MIN);
		cr_assert_eq(ns_decode(&d, cap.msg[i], cap.len[i], err, sizeof(err)), 0, "%zu: %s",
			     i, err);
		cr_assert_eq(d.seq, i);
		refreshes += find_set(cap.msg[i], cap.len[i], 266) != 0;
	}
	cr_assert_eq(cap.flow_records, 500);
	cr_assert_eq(d.data_records, 500 + refreshes,
		     "flows plus one reliability record per refresh");
	cr_assert_eq(refreshes, (cap.n + 6) / 7, "a refresh every 7 export packets");
}

Test(v9, unsampled_records_have_no_sampler)
{
	struct ns_record r;
	size_t off;

	setup_enc(20, 1400);
	rec_v4_tcp(&r);
	r.selector_id = 0;
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	off = find_set(cap.msg[0], cap.len[0], 256);
	cr_assert_eq(ns_get16(cap.msg[0] + off + 4 + 80), 0);
}
