// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * JSON lines (IANA names as keys, only fields that apply to the record) and the text lines
 * printed when no collector is given.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include "records.h"
#include <errno.h>
#include <string.h>

#include "exp_format.h"

static struct ns_tmpl_set ipfix;
static const struct ns_iface_info ifaces[] = { { 2, "eth0", "" }, { 3, "eth1", "" } };
static const struct ns_export_context ctx = { .ifaces = ifaces, .n_ifaces = 2 };
static char line[NS_LINE_MAX];

static void setup(void)
{
	cr_assert_eq(ns_tmpl_set_init(&ipfix, NS_PROTO_IPFIX), 0);
}

static void rec_v6_icmp_srh(struct ns_record *r)
{
	exp_rec_v4_tcp(r);
	r->ip_version = 6;
	r->protocol = 58;
	r->src_port = 0;
	r->dst_port = 128 << 8; /* echo request */
	r->vlan_id = 0;
	r->selector_id = 0;
	memset(r->src_mac, 0, 6);
	inet_pton(AF_INET6, "2001:db8::1", r->src_addr);
	inet_pton(AF_INET6, "2001:db8::2", r->dst_addr);
	r->srh_present = 1;
	r->srh_tag = 7;
	r->srh_segments_left = 1;
	r->srh_segment_count = 2;
	inet_pton(AF_INET6, "2001:db8:5::1", r->srh_segments[0]);
	inet_pton(AF_INET6, "2001:db8:5::2", r->srh_segments[1]);
	memcpy(r->srh_active_segment, r->srh_segments[1], 16);
	r->srh_hdr[0] = 58; /* next header */
	r->srh_hdr[1] = 4;  /* Hdr Ext Len: two segments */
	r->srh_hdr[2] = 4;  /* type 4, SRH */
	r->srh_hdr[3] = 1;
	r->srh_hdr[4] = 1;
	r->srh_hdr[7] = 7;
	r->flow_label = 0xbeef5;
	r->max_len = 65576;
}

TestSuite(json, .init = setup);

Test(json, ipv4_tcp_line)
{
	static const char want[] =
		"{\"sourceIPv4Address\":\"192.0.2.1\",\"destinationIPv4Address\":\"198.51.100.7\","
		"\"sourceTransportPort\":40000,\"destinationTransportPort\":443,"
		"\"protocolIdentifier\":6,\"ipClassOfService\":40,\"tcpControlBits\":27,"
		"\"ingressInterface\":2,\"egressInterface\":3,\"flowDirection\":0,\"ipVersion\":4,"
		"\"vlanId\":100,\"dot1qVlanId\":100,\"sourceMacAddress\":\"02:00:00:00:00:01\","
		"\"destinationMacAddress\":\"02:00:00:00:00:02\",\"minimumTTL\":63,"
		"\"maximumTTL\":64,\"minimumIpTotalLength\":52,\"maximumIpTotalLength\":1500,"
		"\"packetDeltaCount\":10,\"octetDeltaCount\":5000,"
		"\"flowStartMilliseconds\":1700000000123,\"flowEndMilliseconds\":1700000001456,"
		"\"flowEndReason\":3,\"selectorId\":1}\n";
	struct ns_record r;
	int n;

	exp_rec_v4_tcp(&r);
	n = ns_json_format(&ipfix, &r, line, sizeof(line));
	cr_assert_eq(n, (int)strlen(want));
	cr_assert_str_eq(line, want);
}

Test(json, ipv6_icmp_srh_line)
{
	struct ns_record r;

	rec_v6_icmp_srh(&r);
	cr_assert_gt(ns_json_format(&ipfix, &r, line, sizeof(line)), 0);
	cr_assert(strstr(line, "\"sourceIPv6Address\":\"2001:db8::1\","));
	cr_assert(strstr(line, "\"destinationIPv6Address\":\"2001:db8::2\","));
	cr_assert(strstr(line, "\"icmpTypeCodeIPv6\":32768,"));
	cr_assert(strstr(line, "\"srhTagIPv6\":7,"));
	cr_assert(strstr(line, "\"srhSegmentsIPv6Left\":1,"));
	cr_assert(strstr(line, "\"srhActiveSegmentIPv6\":\"2001:db8:5::2\""));
	cr_assert(
		strstr(line, "\"srhSegmentIPv6BasicList\":[\"2001:db8:5::1\",\"2001:db8:5::2\"]"));
	cr_assert(strstr(line, "\"flowLabelIPv6\":782069,"), "%s", line);
	cr_assert(strstr(line, "\"maximumIpTotalLength\":65576,"));
	cr_assert(strstr(line, "\"srhIPv6ActiveSegmentType\":0,"));
	/* octetArrays in hex: the segment list, and the SRH's fixed header before it */
	cr_assert(strstr(line, "\"srhSegmentIPv6ListSection\":\"20010db8000500000000000000000001"
			       "20010db8000500000000000000000002\""));
	cr_assert(strstr(line, "\"srhIPv6Section\":\"3a04040101000007"
			       "20010db8000500000000000000000001"
			       "20010db8000500000000000000000002\""));
	/* fields that do not apply are left out */
	cr_assert_null(strstr(line, "TransportPort"));
	cr_assert_null(strstr(line, "tcpControlBits"));
	cr_assert_null(strstr(line, "icmpTypeCodeIPv4"));
	cr_assert_null(strstr(line, "vlanId"));
	cr_assert_null(strstr(line, "sourceMacAddress"));
	cr_assert_null(strstr(line, "selectorId"));
	cr_assert_null(strstr(line, "IPv4"));
}

Test(json, mpls_labels)
{
	struct ns_record r;

	exp_rec_v4_tcp(&r);
	r.ip_version = 0;
	r.mpls_count = 2;
	r.mpls_lse[0] = 100 << 4 | 3 << 1;
	r.mpls_lse[1] = 200 << 4 | 1;
	cr_assert_gt(ns_json_format(&ipfix, &r, line, sizeof(line)), 0);
	cr_assert(strstr(line, "{\"mplsTopLabelStackSection\":{\"label\":100,\"exp\":3,"
			       "\"bottomOfStack\":0},\"mplsLabelStackSection2\":{\"label\":200,"
			       "\"exp\":0,\"bottomOfStack\":1},"));
	cr_assert_null(strstr(line, "mplsLabelStackSection3"));
	cr_assert_null(strstr(line, "Address\":\"1"), "label-only flows carry no addresses");
}

Test(json, too_small_buffer)
{
	struct ns_record r;

	exp_rec_v4_tcp(&r);
	cr_assert_eq(ns_json_format(&ipfix, &r, line, 40), -ENOSPC);
}

Test(text, ipv4_tcp)
{
	struct ns_record r;

	exp_rec_v4_tcp(&r);
	cr_assert_gt(ns_text_format(&ctx, &r, line, sizeof(line)), 0);
	cr_assert_str_eq(
		line, "2023-11-14 22:13:20.123    1.333 eth0     in  TCP    192.0.2.1:40000     "
		      "    198.51.100.7:443        ...AP.SF         10         5000 tcp-fin-rst\n");
}

Test(text, ipv6_icmp_egress)
{
	struct ns_record r;

	rec_v6_icmp_srh(&r);
	r.direction = 1;
	r.end_reason = NS_END_IDLE;
	cr_assert_gt(ns_text_format(&ctx, &r, line, sizeof(line)), 0);
	cr_assert_str_eq(line,
			 "2023-11-14 22:13:20.123    1.333 eth1     out ICMPv6 [2001:db8::1]       "
			 "    [2001:db8::2] 128.0     -                10         5000 inactive\n");
}

Test(text, ipv6_ports_in_brackets_unknown_iface)
{
	struct ns_record r;

	rec_v6_icmp_srh(&r);
	r.protocol = 17;
	r.src_port = 5353;
	r.dst_port = 53;
	r.ingress_ifindex = 9;
	r.end_reason = NS_END_LACK_OF_RESOURCES;
	cr_assert_gt(ns_text_format(NULL, &r, line, sizeof(line)), 0);
	cr_assert_str_eq(
		line, "2023-11-14 22:13:20.123    1.333 if9      in  UDP    [2001:db8::1]:5353     "
		      " [2001:db8::2]:53        -                10         5000 cache-full\n");
}

/* every value ends where its column name does (right-aligned) or starts where it does */
Test(text, header_names_the_columns_of_the_lines)
{
	static const char *const left[] = { "Iface",	   "Dir",   "Proto", "Source",
					    "Destination", "Flags", "End" };
	static const char *const right[] = { "Duration", "Packets", "Bytes" };
	const char *h = ns_text_header();
	struct ns_record r;

	exp_rec_v4_tcp(&r);
	cr_assert_gt(ns_text_format(&ctx, &r, line, sizeof(line)), 0);
	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
		size_t at = (size_t)(strstr(h, left[i]) - h);

		cr_expect(line[at] != ' ' && line[at - 1] == ' ', "%s: '%s'", left[i], line + at);
	}
	for (size_t i = 0; i < sizeof(right) / sizeof(right[0]); i++) {
		size_t end = (size_t)(strstr(h, right[i]) - h) + strlen(right[i]);

		cr_expect(line[end - 1] != ' ' && line[end] == ' ', "%s: '%s'", right[i],
			  line + end);
	}
}

Test(text, mpls_label_only)
{
	struct ns_record r;

	exp_rec_v4_tcp(&r);
	r.ip_version = 0;
	r.protocol = 0;
	r.mpls_count = 2;
	r.mpls_lse[0] = 100 << 4;
	r.mpls_lse[1] = 200 << 4 | 1;
	r.end_reason = NS_END_ACTIVE;
	cr_assert_gt(ns_text_format(&ctx, &r, line, sizeof(line)), 0);
	cr_assert_str_eq(line,
			 "2023-11-14 22:13:20.123    1.333 eth0     in  MPLS   labels 100/200      "
			 "                            -                10         5000 active\n");
}
