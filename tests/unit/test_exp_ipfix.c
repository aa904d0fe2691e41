// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * IPFIX encoding (RFC 7011) byte for byte: message header, template and options template
 * records, data records, variable-length fields and the SRH basicList (RFC 6313, RFC 9487);
 * sequence numbers, template refresh, MTU splitting.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include "records.h"
#include <string.h>

#include "exp_decode.h"
#include "exp_encoder.h"

#define T0   1700000002000ULL /* export time used by most tests */
#define BOOT (1700000000000ULL - 3600000)

static struct ns_export_context ctx = { .boot_ms = BOOT };

static void rec_v6_srh(struct ns_record *r, int segments)
{
	int i;

	exp_rec_v4_tcp(r);
	r->ip_version = 6;
	inet_pton(AF_INET6, "2001:db8::1", r->src_addr);
	inet_pton(AF_INET6, "2001:db8::2", r->dst_addr);
	r->srh_present = 1;
	r->srh_flags = 0x80;
	r->srh_tag = 123;
	r->srh_segments_left = 1;
	r->srh_segment_count = segments;
	for (i = 0; i < segments; i++) {
		inet_pton(AF_INET6, "2001:db8:5::", r->srh_segments[i]);
		r->srh_segments[i][15] = i + 1;
	}
	memcpy(r->srh_active_segment, r->srh_segments[1], 16);
	/* next header, Hdr Ext Len, type 4, segments left, last entry, flags, tag */
	r->srh_hdr[0] = 59;
	r->srh_hdr[1] = 2 * segments;
	r->srh_hdr[2] = 4;
	r->srh_hdr[3] = 1;
	r->srh_hdr[4] = segments - 1;
	r->srh_hdr[5] = 0x80;
	r->srh_hdr[7] = 123;
}

static struct ns_encoder enc;
static struct ns_capture cap;

static void setup_enc(uint32_t refresh_packets, uint32_t refresh_secs, uint32_t mtu, int reliable)
{
	struct ns_export_opts o;

	ns_export_opts_default(&o);
	o.observation_domain = 0x01020304;
	o.template_refresh_packets = refresh_packets;
	o.template_refresh_secs = refresh_secs;
	o.mtu = mtu;
	memset(&cap, 0, sizeof(cap));
	cr_assert_eq(
		ns_encoder_init(&enc, NS_PROTO_IPFIX, &o, &ctx, reliable, ns_capture_emit, &cap),
		0);
}

static void teardown_enc(void)
{
	ns_encoder_free(&enc);
	ns_capture_free(&cap);
}

/* Offset of the first set with id @id in message @m, or 0 */
static size_t find_set(const uint8_t *m, size_t len, uint16_t id)
{
	size_t off;

	for (off = 16; off + 4 <= len; off += ns_get16(m + off + 2))
		if (ns_get16(m + off) == id)
			return off;
	return 0;
}

/* Offset of template record @tid inside the (options) template set at @set */
static size_t find_tmpl_rec(const uint8_t *m, size_t set, uint16_t tid, int options)
{
	size_t off = set + 4, end = set + ns_get16(m + set + 2);

	while (off < end) {
		if (ns_get16(m + off) == tid)
			return off;
		off += (options ? 6 : 4) + 4 * ns_get16(m + off + 2);
	}
	return 0;
}

static void decode_all(struct ns_decoder *d)
{
	char err[256];
	size_t i;

	for (i = 0; i < cap.n; i++)
		cr_assert_eq(ns_decode(d, cap.msg[i], cap.len[i], err, sizeof(err)), 0,
			     "message %zu: %s", i, err);
}

TestSuite(ipfix, .fini = teardown_enc);

Test(ipfix, message_header)
{
	struct ns_record r;
	/* clang-format off */
	static const uint8_t hdr[] = {
		0x00, 0x0a,		/* version 10 */
		0x00, 0x00,		/* length: checked below */
		0x65, 0x53, 0xf1, 0x02, /* export time 1700000002 */
		0x00, 0x00, 0x00, 0x00, /* sequence: no data record before */
		0x01, 0x02, 0x03, 0x04, /* observation domain */
	};
	/* clang-format on */

	setup_enc(20, 600, 1400, 0);
	exp_rec_v4_tcp(&r);
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	cr_assert_eq(cap.n, 1);
	cr_assert_eq(ns_get16(cap.msg[0] + 2), cap.len[0], "length field is the message length");
	cr_assert_arr_eq(cap.msg[0] + 4, hdr + 4, 12);
	cr_assert_arr_eq(cap.msg[0], hdr, 2);
}

Test(ipfix, template_record_ipv4)
{
	/* clang-format off */
	static const uint8_t want[] = {
		0x01, 0x00, 0x00, 0x1b, /* template 256, 27 fields */
		0x00, 0x08, 0x00, 0x04, /* sourceIPv4Address */
		0x00, 0x0c, 0x00, 0x04, /* destinationIPv4Address */
		0x00, 0x07, 0x00, 0x02, /* sourceTransportPort */
		0x00, 0x0b, 0x00, 0x02, /* destinationTransportPort */
		0x00, 0x04, 0x00, 0x01, /* protocolIdentifier */
		0x00, 0x05, 0x00, 0x01, /* ipClassOfService */
		0x00, 0x06, 0x00, 0x02, /* tcpControlBits: 2 bytes in IPFIX */
		0x00, 0x20, 0x00, 0x02, /* icmpTypeCodeIPv4 */
		0x00, 0x0a, 0x00, 0x04, /* ingressInterface */
		0x00, 0x0e, 0x00, 0x04, /* egressInterface */
		0x00, 0x3d, 0x00, 0x01, /* flowDirection */
		0x00, 0x3c, 0x00, 0x01, /* ipVersion */
		0x00, 0x3a, 0x00, 0x02, /* vlanId */
		0x00, 0xf3, 0x00, 0x02, /* dot1qVlanId */
		0x00, 0xf5, 0x00, 0x02, /* dot1qCustomerVlanId */
		0x00, 0x38, 0x00, 0x06, /* sourceMacAddress */
		0x00, 0x50, 0x00, 0x06, /* destinationMacAddress */
		0x00, 0x34, 0x00, 0x01, /* minimumTTL */
		0x00, 0x35, 0x00, 0x01, /* maximumTTL */
		0x00, 0x19, 0x00, 0x04, /* minimumIpTotalLength: 4 bytes hold a jumbogram's */
		0x00, 0x1a, 0x00, 0x04, /* maximumIpTotalLength */
		0x00, 0x02, 0x00, 0x08, /* packetDeltaCount */
		0x00, 0x01, 0x00, 0x08, /* octetDeltaCount */
		0x00, 0x98, 0x00, 0x08, /* flowStartMilliseconds */
		0x00, 0x99, 0x00, 0x08, /* flowEndMilliseconds */
		0x00, 0x88, 0x00, 0x01, /* flowEndReason */
		0x01, 0x2e, 0x00, 0x02, /* selectorId */
	};
	/* clang-format on */
	struct ns_record r;
	size_t set, off;

	setup_enc(20, 600, 1400, 0);
	exp_rec_v4_tcp(&r);
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	/* options templates open the message; a flow template comes just before its data */
	cr_assert_eq(find_set(cap.msg[0], cap.len[0], 3), 16);
	set = find_set(cap.msg[0], cap.len[0], 2);
	cr_assert_gt(set, 16);
	cr_assert_eq(ns_get16(cap.msg[0] + set + 2), 4 + sizeof(want), "only the template in use");
	cr_assert_eq(find_set(cap.msg[0], cap.len[0], 256), set + 4 + sizeof(want));
	off = find_tmpl_rec(cap.msg[0], set, 256, 0);
	cr_assert(off);
	cr_assert_arr_eq(cap.msg[0] + off, want, sizeof(want));
}

Test(ipfix, data_record_ipv4_tcp)
{
	/* clang-format off */
	static const uint8_t want[] = {
		0x01, 0x00, 0x00, 0x5f,	/* set 256, length 4 + 91 */
		0xc0, 0x00, 0x02, 0x01, /* sourceIPv4Address 192.0.2.1 */
		0xc6, 0x33, 0x64, 0x07, /* destinationIPv4Address 198.51.100.7 */
		0x9c, 0x40,		/* sourceTransportPort 40000 */
		0x01, 0xbb,		/* destinationTransportPort 443 */
		0x06,			/* protocolIdentifier TCP */
		0x28,			/* ipClassOfService */
		0x00, 0x1b,		/* tcpControlBits ACK PSH SYN FIN */
		0x00, 0x00,		/* icmpTypeCodeIPv4: not ICMP */
		0x00, 0x00, 0x00, 0x02, /* ingressInterface */
		0x00, 0x00, 0x00, 0x03, /* egressInterface */
		0x00,			/* flowDirection ingress */
		0x04,			/* ipVersion */
		0x00, 0x64,		/* vlanId 100 */
		0x00, 0x64,		/* dot1qVlanId 100 */
		0x00, 0x00,		/* dot1qCustomerVlanId */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* sourceMacAddress */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* destinationMacAddress */
		0x3f,			/* minimumTTL 63 */
		0x40,			/* maximumTTL 64 */
		0, 0, 0x00, 0x34,	/* minimumIpTotalLength 52 */
		0, 0, 0x05, 0xdc,	/* maximumIpTotalLength 1500 */
		0, 0, 0, 0, 0, 0, 0x00, 0x0a,	 /* packetDeltaCount 10 */
		0, 0, 0, 0, 0, 0, 0x13, 0x88,	 /* octetDeltaCount 5000 */
		0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, /* flowStartMilliseconds */
		0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x6d, 0xb0, /* flowEndMilliseconds */
		0x03,			/* flowEndReason end of flow */
		0x00, 0x01,		/* selectorId 1 */
	};
	/* clang-format on */
	struct ns_record r;
	size_t set;

	setup_enc(20, 600, 1400, 0);
	exp_rec_v4_tcp(&r);
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	set = find_set(cap.msg[0], cap.len[0], 256);
	cr_assert(set);
	cr_assert_eq(set + sizeof(want), cap.len[0], "data set is last, unpadded");
	cr_assert_arr_eq(cap.msg[0] + set, want, sizeof(want));
}

Test(ipfix, srh_basic_list)
{
	/* clang-format off */
	static const uint8_t want_tail[] = {
		0x80,			/* srhFlagsIPv6 */
		0x00, 0x7b,		/* srhTagIPv6 123 */
		0x01,			/* srhSegmentsIPv6Left */
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
					/* srhActiveSegmentIPv6 2001:db8:5::2 */
		0x00,			/* srhIPv6ActiveSegmentType: Unknown */
		0x25,			/* variable length, 1-byte form: 37 */
		0x04,			/* semantic: ordered */
		0x01, 0xee,		/* srhSegmentIPv6 (494), no enterprise bit */
		0x00, 0x10,		/* element length 16 */
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
		0x20,			/* srhSegmentIPv6ListSection: 32 octets */
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
		0x28,			/* srhIPv6Section: 40 octets */
		59, 4, 4, 1, 1, 0x80, 0x00, 0x7b, /* the SRH's fixed header */
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	};
	/* clang-format on */
	/* clang-format off */
	static const uint8_t want_fields[] = {
		0x01, 0xec, 0x00, 0x01, /* srhFlagsIPv6 */
		0x01, 0xed, 0x00, 0x02, /* srhTagIPv6 */
		0x01, 0xf2, 0x00, 0x01, /* srhSegmentsIPv6Left */
		0x01, 0xef, 0x00, 0x10, /* srhActiveSegmentIPv6 */
		0x01, 0xf4, 0x00, 0x01, /* srhIPv6ActiveSegmentType */
		0x01, 0xf0, 0xff, 0xff, /* srhSegmentIPv6BasicList, variable length */
		0x01, 0xf1, 0xff, 0xff, /* srhSegmentIPv6ListSection, variable length */
		0x01, 0xf3, 0xff, 0xff, /* srhIPv6Section, variable length */
	};
	/* clang-format on */
	struct ns_record r;
	size_t set, off;

	setup_enc(20, 600, 1400, 0);
	rec_v6_srh(&r, 2);
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	off = find_tmpl_rec(cap.msg[0], find_set(cap.msg[0], cap.len[0], 2), NS_TMPL_IPV6_SRH, 0);
	cr_assert(off);
	cr_assert_eq(ns_get16(cap.msg[0] + off + 2), 36);
	cr_assert_arr_eq(cap.msg[0] + off + 4 + 4 * 28, want_fields, sizeof(want_fields));
	set = find_set(cap.msg[0], cap.len[0], NS_TMPL_IPV6_SRH);
	cr_assert(set);
	cr_assert_eq(ns_get16(cap.msg[0] + set + 2), 4 + 119 + sizeof(want_tail));
	cr_assert_arr_eq(cap.msg[0] + cap.len[0] - sizeof(want_tail), want_tail, sizeof(want_tail));
}

Test(ipfix, srh_empty_and_full_lists)
{
	struct ns_decoder d;
	struct ns_record r[2];
	size_t set;

	setup_enc(20, 600, 1400, 0);
	rec_v6_srh(&r[0], 0);
	rec_v6_srh(&r[1], NS_REC_SRH_SEGMENTS_MAX);
	ns_encoder_add(&enc, r, 2, T0);
	ns_encoder_flush(&enc, T0);
	set = find_set(cap.msg[0], cap.len[0], NS_TMPL_IPV6_SRH);
	/* basicList, 0 segments: 1 + 5 bytes; 8 segments: 1 + 5 + 128 (under 255: the 1-byte
	 * length form); list section: 1 + 0 and 1 + 128; SRH section: 1 + 8 and 1 + 8 + 128 */
	cr_assert_eq(ns_get16(cap.msg[0] + set + 2),
		     4 + 2 * (119 + 4 + 16 + 1) + 6 + 134 + 1 + 129 + 9 + 137);
	ns_decoder_init(&d, NS_PROTO_IPFIX);
	decode_all(&d);
}

Test(ipfix, options_templates_and_data)
{
	/* clang-format off */
	static const uint8_t sampler_tmpl[] = {
		0x01, 0x09, 0x00, 0x06, 0x00, 0x01, /* template 265, 6 fields, 1 scope */
		0x01, 0x2e, 0x00, 0x02,		    /* scope selectorId */
		0x00, 0x30, 0x00, 0x01,		    /* samplerId, for Akvorado */
		0x01, 0x30, 0x00, 0x02,		    /* selectorAlgorithm */
		0x01, 0x31, 0x00, 0x04,		    /* samplingPacketInterval */
		0x01, 0x32, 0x00, 0x04,		    /* samplingPacketSpace */
		0x01, 0x33, 0x00, 0x04,		    /* samplingTimeInterval */
	};
	/* clang-format on */
	/* clang-format off */
	static const uint8_t reliability_tmpl[] = {
		0x01, 0x0a, 0x00, 0x04, 0x00, 0x01, /* template 266, 4 fields, 1 scope */
		0x00, 0x95, 0x00, 0x04,		    /* scope observationDomainId */
		0x00, 0xa6, 0x00, 0x08,		    /* notSentFlowTotalCount */
		0x00, 0xa7, 0x00, 0x08,		    /* notSentPacketTotalCount */
		0x00, 0xa8, 0x00, 0x08,		    /* notSentOctetTotalCount */
	};
	/* clang-format on */
	/* clang-format off */
	static const uint8_t iface_tmpl[] = {
		0x01, 0x0b, 0x00, 0x02, 0x00, 0x01, /* template 267, 2 fields, 1 scope */
		0x00, 0x0a, 0x00, 0x04,		    /* scope ingressInterface */
		0x00, 0x52, 0xff, 0xff,		    /* interfaceName, variable */
	};
	/* the interface descriptions as nfdump reads them */
	static const uint8_t ifdesc_tmpl[] = {
		0x01, 0x54, 0x00, 0x03, 0x00, 0x01, /* template 340, 3 fields, 1 scope */
		0x00, 0x95, 0x00, 0x04,		    /* scope observationDomainId */
		0x00, 0x0a, 0x00, 0x04,		    /* ingressInterface */
		0x00, 0x53, 0x00, 0x80,		    /* interfaceDescription, 128 bytes */
	};
	/* the exporter's sampler as collectors that read no selector take it */
	static const uint8_t sampling_tmpl[] = {
		0x01, 0x65, 0x00, 0x02, 0x00, 0x01, /* template 357, 2 fields, 1 scope */
		0x00, 0x95, 0x00, 0x04,		    /* scope observationDomainId */
		0x00, 0x22, 0x00, 0x04,		    /* samplingInterval */
	};
	/* clang-format on */
	/* clang-format off */
	static const uint8_t sampler_data[] = {
		0x01, 0x09, 0x00, 0x15, /* set 265, 4 + 17: one sampler per set */
		0x00, 0x07, 0x07,	/* selector 7, samplerId 7 */
		0x00, 0x01,		/* count-based */
		0x00, 0x00, 0x00, 0x01, /* 1 packet taken */
		0x00, 0x00, 0x00, 0x63, /* 99 skipped: 1 in 100 */
		0x00, 0x00, 0x00, 0x00, /* no time interval */
		0x01, 0x65, 0x00, 0x0c, /* set 357: the exporter's sampler alone */
		0x01, 0x02, 0x03, 0x04, /* observation domain */
		0x00, 0x00, 0x00, 0x64, /* samplingInterval 100 */
		0x01, 0x09, 0x00, 0x15, /* set 265 again */
		0x00, 0x08, 0x08,	/* selector 8 */
		0x00, 0x02,		/* time-based */
		0x00, 0x00, 0x00, 0x01, /* 1 taken ... */
		0x00, 0x00, 0x00, 0x24, /* ... per 37 seen, as measured */
		0x00, 0x00, 0xc3, 0x50, /* 50 ms = 50000 us */
		0x01, 0x09, 0x00, 0x15, /* set 265 again */
		0x00, 0x09, 0x09,	/* selector 9 */
		0x00, 0x03,		/* random */
		0x00, 0x00, 0x00, 0x01, /* 1 taken ... */
		0x00, 0x00, 0x00, 0x09, /* ... per 10 */
		0x00, 0x00, 0x00, 0x00, /* no time interval */
	};
	/* clang-format on */
	/* clang-format off */
	static const uint8_t reliability_data[] = {
		0x01, 0x0a, 0x00, 0x20, /* set 266, 4 + 28 */
		0x01, 0x02, 0x03, 0x04, /* observation domain */
		0, 0, 0, 0, 0, 0, 0, 5,			/* flows not sent */
		0, 0, 0, 0, 0, 0, 0, 50,		/* packets not sent */
		0, 0, 0, 0, 0, 0, 0x13, 0x88,		/* octets not sent */
	};
	/* clang-format on */
	/* clang-format off */
	static const uint8_t iface_data[] = {
		0x01, 0x0b, 0x00, 0x0d,	/* set 267, 4 + 9 */
		0x00, 0x00, 0x00, 0x02, /* ingressInterface 2 */
		0x04, 'e', 't', 'h', '0', /* 1-byte length form */
	};
	static const uint8_t ifdesc_data[] = {
		0x01, 0x54, 0x00, 0x8c,	/* set 340, 4 + 136 */
		0x01, 0x02, 0x03, 0x04, /* observation domain */
		0x00, 0x00, 0x00, 0x02, /* ingressInterface 2 */
		'w', 'a', 'n', ' ', '1', /* then NUL to 128 bytes */
	};
	/* clang-format on */
	/* the time-based sampler with the rate measured; one not measured yet is left out */
	static const struct ns_sampler_info samplers[] = {
		{ 7, NS_SAMPLER_COUNT, 100, 100, 1 }, /* the exporter's: also as samplingInterval */
		{ 8, NS_SAMPLER_TIME, 50, 37, 0 },
		{ 10, NS_SAMPLER_TIME, 50, 0, 0 },
		{ 9, NS_SAMPLER_RANDOM, 10, 10, 0 },
	};
	static const struct ns_iface_info ifaces[] = { { 2, "eth0", "wan 1" } };
	struct ns_export_context octx = {
		.boot_ms = BOOT,
		.samplers = samplers,
		.n_samplers = 4,
		.ifaces = ifaces,
		.n_ifaces = 1,
		.not_sent_flows = 5,
		.not_sent_packets = 50,
		.not_sent_octets = 5000,
	};
	const uint8_t *m;
	size_t set, len;

	setup_enc(20, 600, 1400, 0);
	enc.ctx = &octx;
	ns_encoder_tick(&enc, T0);
	cr_assert_eq(cap.n, 1, "a tick sends templates and options without flow records");
	m = cap.msg[0];
	len = cap.len[0];
	/* one options template per set: pmacct reads only a set's first one */
	set = find_set(m, len, 3);
	cr_assert(set);
	cr_assert_eq(ns_get16(m + set + 2), 4 + sizeof(sampler_tmpl));
	cr_assert_arr_eq(m + find_tmpl_rec(m, set, 265, 1), sampler_tmpl, sizeof(sampler_tmpl));
	set += ns_get16(m + set + 2);
	cr_assert_eq(ns_get16(m + set), 3);
	cr_assert_arr_eq(m + find_tmpl_rec(m, set, 266, 1), reliability_tmpl,
			 sizeof(reliability_tmpl));
	set += ns_get16(m + set + 2);
	cr_assert_eq(ns_get16(m + set), 3);
	cr_assert_arr_eq(m + find_tmpl_rec(m, set, 267, 1), iface_tmpl, sizeof(iface_tmpl));
	cr_assert_arr_eq(m + find_set(m, len, 265), sampler_data, sizeof(sampler_data));
	cr_assert_arr_eq(m + find_set(m, len, 266), reliability_data, sizeof(reliability_data));
	cr_assert_arr_eq(m + find_set(m, len, 267), iface_data, sizeof(iface_data));
	set = find_set(m, len, 3);
	while (set && ns_get16(m + set + 4) != 340)
		set = ns_get16(m + set) == 3 ? set + ns_get16(m + set + 2) : 0;
	cr_assert(set, "no options template 340");
	cr_assert_arr_eq(m + set + 4, ifdesc_tmpl, sizeof(ifdesc_tmpl));
	cr_assert_arr_eq(m + find_set(m, len, 340), ifdesc_data, sizeof(ifdesc_data));
	set = find_set(m, len, 3);
	while (set && ns_get16(m + set + 4) != NS_TMPL_OPT_SAMPLING)
		set = ns_get16(m + set) == 3 ? set + ns_get16(m + set + 2) : 0;
	cr_assert(set, "no options template 357");
	cr_assert_arr_eq(m + set + 4, sampling_tmpl, sizeof(sampling_tmpl));
	for (size_t i = sizeof(ifdesc_data); i < 140; i++)
		cr_assert_eq(m[find_set(m, len, 340) + i], 0);
	cr_assert_eq(ns_get32(m + 8), 0);
	cr_assert_eq(enc.seq, 7, "options data records count in the sequence");
}

Test(ipfix, varlen_prefix_forms)
{
	uint8_t b[3];

	cr_assert_eq(ns_varlen_prefix_put(b, 0), 1);
	cr_assert_eq(b[0], 0);
	cr_assert_eq(ns_varlen_prefix_put(b, 254), 1);
	cr_assert_eq(b[0], 254);
	cr_assert_eq(ns_varlen_prefix_put(b, 255), 3);
	cr_assert(b[0] == 0xff && b[1] == 0x00 && b[2] == 0xff);
	cr_assert_eq(ns_varlen_prefix_put(b, 300), 3);
	cr_assert(b[0] == 0xff && b[1] == 0x01 && b[2] == 0x2c);
}

Test(ipfix, sequence_counts_data_records)
{
	struct ns_record r[5];
	int i;

	setup_enc(0, 0, 1400, 0);
	for (i = 0; i < 5; i++)
		exp_rec_v4_tcp(&r[i]);
	ns_encoder_add(&enc, r, 3, T0);
	ns_encoder_flush(&enc, T0);
	ns_encoder_add(&enc, r, 2, T0 + 1000);
	ns_encoder_flush(&enc, T0 + 1000);
	ns_encoder_add(&enc, r, 1, T0 + 2000);
	ns_encoder_flush(&enc, T0 + 2000);
	cr_assert_eq(cap.n, 3);
	cr_assert_eq(ns_get32(cap.msg[0] + 8), 0);
	/* 3 flows + 1 reliability options record, no samplers or interfaces in ctx */
	cr_assert_eq(ns_get32(cap.msg[1] + 8), 4);
	cr_assert_eq(ns_get32(cap.msg[2] + 8), 6);
	cr_assert_eq(ns_get32(cap.msg[2] + 4), (T0 + 2000) / 1000);
}

Test(ipfix, groups_records_by_template)
{
	struct ns_record r[6];
	size_t off, sets = 0;
	int i;

	setup_enc(0, 0, 1400, 0);
	for (i = 0; i < 6; i++) {
		exp_rec_v4_tcp(&r[i]);
		if (i % 2)
			rec_v6_srh(&r[i], 1);
	}
	ns_encoder_add(&enc, r, 6, T0);
	ns_encoder_flush(&enc, T0);
	for (off = 16; off < cap.len[0]; off += ns_get16(cap.msg[0] + off + 2))
		sets += ns_get16(cap.msg[0] + off) >= 256 && ns_get16(cap.msg[0] + off) < 265;
	cr_assert_eq(sets, 2, "one data set per template, not one per record");
}

static uint64_t flows_seen;

static void count_flows(void *arg, const struct ns_dec_record *r)
{
	(void)arg;
	flows_seen += r->tmpl->id < NS_TMPL_OPT_SAMPLER;
}

static void check_split(uint32_t mtu, size_t n)
{
	struct ns_record *r = calloc(n, sizeof(*r));
	uint32_t expect_seq = 0;
	struct ns_decoder d;
	char err[256];
	size_t i;

	setup_enc(20, 600, mtu, 0);
	for (i = 0; i < n; i++) {
		exp_rec_v4_tcp(&r[i]);
		r[i].packets = i;
		if (i % 3 == 1)
			rec_v6_srh(&r[i], i % 9);
		if (i % 5 == 2)
			r[i].mpls_count = 2;
		if (i % 11 == 3)
			r[i].ip_version = 0;
	}
	ns_encoder_add(&enc, r, n, T0);
	ns_encoder_flush(&enc, T0);
	ns_decoder_init(&d, NS_PROTO_IPFIX);
	d.on_record = count_flows;
	flows_seen = 0;
	for (i = 0; i < cap.n; i++) {
		cr_assert_leq(cap.len[i], mtu, "message %zu is %zu bytes, MTU %u", i, cap.len[i],
			      mtu);
		cr_assert_eq(ns_decode(&d, cap.msg[i], cap.len[i], err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(d.seq, expect_seq, "message %zu sequence", i);
		expect_seq += d.msg_data_records;
	}
	cr_assert_eq(flows_seen, n, "every record arrives once");
	cr_assert_eq(cap.flow_records, n);
	free(r);
}

Test(ipfix, mtu_split_1400)
{
	check_split(1400, 1000);
}

Test(ipfix, mtu_split_small)
{
	check_split(NS_MTU_MIN, 777);
}

Test(ipfix, mtu_split_large)
{
	check_split(9000, 3000);
}

/* Indexes of the messages that carry (options) template sets */
static size_t template_messages(size_t *idx, size_t max, uint16_t set)
{
	size_t i, n = 0;

	for (i = 0; i < cap.n && n < max; i++)
		if (find_set(cap.msg[i], cap.len[i], set))
			idx[n++] = i;
	return n;
}

Test(ipfix, template_refresh_by_packets)
{
	struct ns_record r[40];
	size_t idx[16], n, i;

	setup_enc(5, 0, 1400, 0);
	for (i = 0; i < 40; i++)
		exp_rec_v4_tcp(&r[i]);
	/* one message per flush: 12 messages */
	for (i = 0; i < 12; i++) {
		ns_encoder_add(&enc, &r[i], 1, T0 + i);
		ns_encoder_flush(&enc, T0 + i);
	}
	n = template_messages(idx, 16, 2);
	cr_assert_eq(n, 3);
	cr_assert_eq(template_messages(idx + 3, 13, 3), 3, "options templates on the same cycle");
	cr_assert_eq(idx[0], 0);
	cr_assert_eq(idx[1], 5, "templates again after 5 export packets");
	cr_assert_eq(idx[2], 10);
}

Test(ipfix, template_refresh_by_time)
{
	struct ns_record r;
	size_t idx[8];

	setup_enc(0, 10, 1400, 0);
	exp_rec_v4_tcp(&r);
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	ns_encoder_add(&enc, &r, 1, T0 + 9999);
	ns_encoder_flush(&enc, T0 + 9999);
	ns_encoder_add(&enc, &r, 1, T0 + 10000);
	ns_encoder_flush(&enc, T0 + 10000);
	ns_encoder_tick(&enc, T0 + 15000); /* nothing due, nothing buffered */
	ns_encoder_tick(&enc, T0 + 20000); /* due: sent without waiting for data */
	cr_assert_eq(cap.n, 4);
	cr_assert_eq(template_messages(idx, 8, 3), 3);
	cr_assert_eq(idx[0], 0);
	cr_assert_eq(idx[1], 2);
	cr_assert_eq(idx[2], 3);
	/* a flow template is resent with the next record that needs it */
	cr_assert_eq(template_messages(idx, 8, 2), 2);
	cr_assert_eq(idx[1], 2);
}

Test(ipfix, reliable_transport_sends_templates_once)
{
	struct ns_record r;
	size_t idx[8];

	setup_enc(2, 10, 1400, 1);
	exp_rec_v4_tcp(&r);
	ns_encoder_add(&enc, &r, 1, T0);
	ns_encoder_flush(&enc, T0);
	ns_encoder_tick(&enc, T0 + 10000);
	ns_encoder_add(&enc, &r, 1, T0 + 20000);
	ns_encoder_flush(&enc, T0 + 20000);
	cr_assert_eq(template_messages(idx, 8, 2), 1, "RFC 7011 8: no template resend on TCP");
	cr_assert_eq(template_messages(idx, 8, 3), 1);
	cr_assert(find_set(cap.msg[1], cap.len[1], 266), "options data still refreshed");
	/* a new connection is a new session: sequence from 0, templates first */
	ns_encoder_restart(&enc);
	ns_encoder_add(&enc, &r, 1, T0 + 30000);
	ns_encoder_flush(&enc, T0 + 30000);
	cr_assert_eq(find_set(cap.msg[cap.n - 1], cap.len[cap.n - 1], 3), 16);
	cr_assert(find_set(cap.msg[cap.n - 1], cap.len[cap.n - 1], 2));
	cr_assert_eq(ns_get32(cap.msg[cap.n - 1] + 8), 0);
}

Test(ipfix, restart_drops_partial_message)
{
	struct ns_record r[3];
	int i;

	setup_enc(20, 600, 1400, 1);
	for (i = 0; i < 3; i++)
		exp_rec_v4_tcp(&r[i]);
	ns_encoder_add(&enc, r, 3, T0);
	cr_assert_eq(ns_encoder_restart(&enc), 3);
	ns_encoder_flush(&enc, T0);
	cr_assert_eq(cap.n, 0);
}
