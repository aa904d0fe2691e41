// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * NetFlow v5 byte for byte: 24-byte header, 48-byte records, at most 30 per packet, sampling
 * mode and interval in the header, flow sequence, and records v5 cannot carry counted.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include "records.h"
#include <string.h>

#include "exp_decode.h"
#include "exp_encoder.h"

#define T0   1700000002250ULL
#define BOOT (1700000000000ULL - 3600000)

static struct ns_export_context ctx = { .boot_ms = BOOT };
static struct ns_encoder enc;
static struct ns_capture cap;

/* the shared IPv4 TCP record; v5 carries a subset of its fields */
static void rec_v4_tcp(struct ns_record *r)
{
	exp_rec_v4_tcp(r);
	r->sampling_interval = 1;
}

static void setup_enc(uint32_t mtu)
{
	struct ns_export_opts o;

	ns_export_opts_default(&o);
	o.observation_domain = 0x01020304;
	o.mtu = mtu;
	memset(&cap, 0, sizeof(cap));
	cr_assert_eq(ns_encoder_init(&enc, NS_PROTO_V5, &o, &ctx, 0, ns_capture_emit, &cap), 0);
}

static void teardown_enc(void)
{
	ns_encoder_free(&enc);
	ns_capture_free(&cap);
}

static void decode_all(struct ns_decoder *d)
{
	char err[128];
	size_t i;

	ns_decoder_init(d, NS_PROTO_V5);
	for (i = 0; i < cap.n; i++)
		cr_assert_eq(ns_decode(d, cap.msg[i], cap.len[i], err, sizeof(err)), 0, "%s", err);
}

TestSuite(v5, .fini = teardown_enc);

Test(v5, header_and_record)
{
	/* clang-format off */
	static const uint8_t want[] = {
		0x00, 0x05,		/* version */
		0x00, 0x01,		/* count */
		0x00, 0x36, 0xf7, 0x4a, /* sysUptime 3602250 ms */
		0x65, 0x53, 0xf1, 0x02, /* unix_secs 1700000002 */
		0x0e, 0xe6, 0xb2, 0x80, /* unix_nsecs 250000000 */
		0x00, 0x00, 0x00, 0x00, /* flow_sequence */
		0x03, 0x04,		/* engine_type, engine_id: low 16 bits of the domain */
		0x00, 0x00,		/* sampling: none */
		0xc0, 0x00, 0x02, 0x01, /* srcaddr */
		0xc6, 0x33, 0x64, 0x07, /* dstaddr */
		0x00, 0x00, 0x00, 0x00, /* nexthop */
		0x00, 0x02,		/* input */
		0x00, 0x03,		/* output */
		0x00, 0x00, 0x00, 0x0a, /* dPkts */
		0x00, 0x00, 0x13, 0x88, /* dOctets */
		0x00, 0x36, 0xee, 0xfb, /* First: sysUptime at the first packet */
		0x00, 0x36, 0xf4, 0x30, /* Last */
		0x9c, 0x40,		/* srcport */
		0x01, 0xbb,		/* dstport */
		0x00,			/* pad1 */
		0x1b,			/* tcp_flags */
		0x06,			/* prot */
		0x28,			/* tos */
		0x00, 0x00, 0x00, 0x00, /* src_as, dst_as */
		0x00, 0x00,		/* src_mask, dst_mask */
		0x00, 0x00,		/* pad2 */
	};
	/* clang-format on */
	struct ns_record r;

	setup_enc(1400);
	rec_v4_tcp(&r);
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	cr_assert_eq(cap.n, 1);
	cr_assert_eq(cap.len[0], sizeof(want));
	cr_assert_arr_eq(cap.msg[0], want, sizeof(want));
}

/* Routing information (--routes) fills v5's nexthop, AS and mask fields */
Test(v5, routing_fields)
{
	struct ns_record r;
	const uint8_t *d;

	setup_enc(1400);
	rec_v4_tcp(&r);
	r.ip_nexthop[10] = r.ip_nexthop[11] = 0xff;
	r.ip_nexthop[12] = 192, r.ip_nexthop[13] = 0, r.ip_nexthop[14] = 2, r.ip_nexthop[15] = 9;
	r.src_as = 64501;
	r.dst_as = 4200000000u; /* 4-byte: AS_TRANS in v5's 2 bytes */
	r.src_mask = 24;
	r.dst_mask = 16;
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	cr_assert_eq(cap.n, 1);
	d = cap.msg[0] + 24;
	cr_assert_eq(d[8], 192);
	cr_assert_eq(d[11], 9);
	cr_assert_eq(d[40] << 8 | d[41], 64501);
	cr_assert_eq(d[42] << 8 | d[43], 23456);
	cr_assert_eq(d[44], 24);
	cr_assert_eq(d[45], 16);
	cr_assert_eq(d[46] | d[47], 0);
}

Test(v5, thirty_records_per_packet)
{
	struct ns_record r[65];
	struct ns_decoder d;
	int i;

	setup_enc(1500);
	for (i = 0; i < 65; i++)
		rec_v4_tcp(&r[i]);
	ns_encoder_add(&enc, r, 65, T0);
	ns_encoder_flush(&enc, T0);
	cr_assert_eq(cap.n, 3);
	cr_assert_eq(ns_get16(cap.msg[0] + 2), 30);
	cr_assert_eq(ns_get16(cap.msg[1] + 2), 30);
	cr_assert_eq(ns_get16(cap.msg[2] + 2), 5);
	cr_assert_eq(ns_get32(cap.msg[1] + 16), 30, "flow_sequence counts flows before");
	cr_assert_eq(ns_get32(cap.msg[2] + 16), 60);
	decode_all(&d);
	cr_assert_eq(d.data_records, 65);
}

Test(v5, mtu_limits_records)
{
	struct ns_record r[40];
	int i;

	setup_enc(1400); /* (1400 - 24) / 48 = 28 */
	for (i = 0; i < 40; i++)
		rec_v4_tcp(&r[i]);
	ns_encoder_add(&enc, r, 40, T0);
	ns_encoder_flush(&enc, T0);
	cr_assert_eq(cap.n, 2);
	cr_assert_eq(cap.len[0], 24 + 28 * 48);
	cr_assert_leq(cap.len[0], 1400);
}

Test(v5, non_ipv4_counted_not_dropped_silently)
{
	struct ns_record r[4];
	struct ns_decoder d;
	int i;

	setup_enc(1400);
	for (i = 0; i < 4; i++)
		rec_v4_tcp(&r[i]);
	r[1].ip_version = 6;
	r[3].ip_version = 0; /* MPLS label-only */
	ns_encoder_add(&enc, r, 4, T0);
	ns_encoder_flush(&enc, T0);
	cr_assert_eq(enc.stats.not_exportable, 2);
	cr_assert_eq(cap.flow_records, 2);
	decode_all(&d);
	cr_assert_eq(d.data_records, 2);
}

Test(v5, sampling_interval_per_packet)
{
	struct ns_record r[4];
	int i;

	setup_enc(1400);
	for (i = 0; i < 4; i++)
		rec_v4_tcp(&r[i]);
	r[0].sampling_interval = 100;
	r[1].sampling_interval = 100;
	r[2].sampling_interval = 1;
	r[3].sampling_interval = 0; /* time-based: no packet interval to state */
	ns_encoder_add(&enc, r, 4, T0);
	ns_encoder_flush(&enc, T0);
	cr_assert_eq(cap.n, 2, "a new sampling interval starts a new packet");
	cr_assert_eq(ns_get16(cap.msg[0] + 22), 0x4064, "mode 01 (packet interval), 100");
	cr_assert_eq(ns_get16(cap.msg[0] + 2), 2);
	cr_assert_eq(ns_get16(cap.msg[1] + 22), 0);
	cr_assert_eq(ns_get16(cap.msg[1] + 2), 2);
	cr_assert_eq(ns_v5_sampling_field(20000), 0x7fff, "14-bit interval saturates");
}

/* v5 counters are 32 bits: a wider flow is several records of that flow, summing exactly */
Test(v5, wide_counters_split_into_records)
{
	uint64_t packets = 0, octets = 0;
	struct ns_record r[2];
	size_t i, k;

	setup_enc(1400);
	rec_v4_tcp(&r[0]);
	r[0].packets = 3100000;
	r[0].octets = 4500000000ULL; /* 4.5 GB: two records */
	r[0].ingress_ifindex = 70000;
	rec_v4_tcp(&r[1]);
	r[1].packets = (1ULL << 33) + 5; /* three records by packets */
	r[1].octets = 1ULL << 40;	 /* 257 by octets */
	ns_encoder_add(&enc, r, 2, T0);
	ns_encoder_flush(&enc, T0);
	cr_assert_eq(cap.flow_records, 2 + 257);
	for (i = 0; i < cap.n; i++)
		for (k = 0; k < ns_get16(cap.msg[i] + 2); k++) {
			const uint8_t *rec = cap.msg[i] + 24 + 48 * k;

			cr_assert_neq(ns_get32(rec + 20), 0, "no empty part");
			if (i == 0 && k < 2) {
				cr_assert_eq(ns_get16(rec + 12), 0xffff, "v5 input saturates");
				cr_assert_eq(ns_get32(rec + 16), 1550000, "packets in proportion");
				cr_assert_eq(ns_get32(rec + 20), 2250000000u);
				continue;
			}
			packets += ns_get32(rec + 16);
			octets += ns_get32(rec + 20);
		}
	cr_assert_eq(packets, (1ULL << 33) + 5);
	cr_assert_eq(octets, 1ULL << 40);
	cr_assert_eq(ns_get32(cap.msg[cap.n - 1] + 16), 2 + 257 - ns_get16(cap.msg[cap.n - 1] + 2),
		     "flow_sequence counts every record");
}

Test(v5, icmp_type_code_in_dstport)
{
	struct ns_record r;

	setup_enc(1400);
	rec_v4_tcp(&r);
	r.protocol = 1;
	r.src_port = 0;
	r.dst_port = 3 << 8 | 1; /* destination host unreachable */
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	cr_assert_eq(ns_get16(cap.msg[0] + 24 + 34), 0x0301);
}
