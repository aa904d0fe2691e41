// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The IE registry: IANA ids, names, lengths and v9 equivalents, the getters' network byte
 * order, and the templates the registry builds (which record goes to which template).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "exp_msg.h"
#include "exp_encoder.h"
#include "exp_template.h"
#include "ie.h"

static const struct {
	uint16_t id;
	const char *name;
	uint16_t len, v9_id, v9_len;
} iana[] = {
	/* id, IANA name, IPFIX length, v9 field type sent (0: none), v9 length */
	{ 1, "octetDeltaCount", 8, 1, 8 },
	{ 2, "packetDeltaCount", 8, 2, 8 },
	{ 4, "protocolIdentifier", 1, 4, 1 },
	{ 5, "ipClassOfService", 1, 5, 1 },
	{ 6, "tcpControlBits", 2, 6, 1 },
	{ 7, "sourceTransportPort", 2, 7, 2 },
	{ 8, "sourceIPv4Address", 4, 8, 4 },
	{ 10, "ingressInterface", 4, 10, 4 },
	{ 11, "destinationTransportPort", 2, 11, 2 },
	{ 12, "destinationIPv4Address", 4, 12, 4 },
	{ 14, "egressInterface", 4, 14, 4 },
	{ 21, "flowEndSysUpTime", 4, 21, 4 },
	{ 22, "flowStartSysUpTime", 4, 22, 4 },
	{ 25, "minimumIpTotalLength", 4, 25, 4 },
	{ 26, "maximumIpTotalLength", 4, 26, 4 },
	{ 27, "sourceIPv6Address", 16, 27, 16 },
	{ 28, "destinationIPv6Address", 16, 28, 16 },
	{ 31, "flowLabelIPv6", 4, 31, 3 },
	{ 32, "icmpTypeCodeIPv4", 2, 32, 2 },
	{ 48, "samplerId", 1, 48, 2 },
	{ 49, "samplerMode", 1, 49, 1 },
	{ 50, "samplerRandomInterval", 4, 50, 4 },
	{ 52, "minimumTTL", 1, 52, 1 },
	{ 53, "maximumTTL", 1, 53, 1 },
	{ 56, "sourceMacAddress", 6, 56, 6 },
	{ 58, "vlanId", 2, 58, 2 },
	{ 60, "ipVersion", 1, 60, 1 },
	{ 61, "flowDirection", 1, 61, 1 },
	{ 70, "mplsTopLabelStackSection", 3, 70, 3 },
	{ 71, "mplsLabelStackSection2", 3, 71, 3 },
	{ 72, "mplsLabelStackSection3", 3, 72, 3 },
	{ 80, "destinationMacAddress", 6, 80, 6 },
	{ 82, "interfaceName", NS_IE_VARLEN, 82, 64 },
	{ 83, "interfaceDescription", 128, 83, 128 },
	{ 136, "flowEndReason", 1, 136, 1 },
	{ 139, "icmpTypeCodeIPv6", 2, 32, 2 },
	{ 144, "exportingProcessId", 4, 0, 0 },
	{ 149, "observationDomainId", 4, 0, 0 },
	{ 152, "flowStartMilliseconds", 8, 22, 4 },
	{ 153, "flowEndMilliseconds", 8, 21, 4 },
	{ 166, "notSentFlowTotalCount", 8, 166, 8 },
	{ 167, "notSentPacketTotalCount", 8, 167, 8 },
	{ 168, "notSentOctetTotalCount", 8, 168, 8 },
	{ 243, "dot1qVlanId", 2, 243, 2 },
	{ 245, "dot1qCustomerVlanId", 2, 245, 2 },
	{ 302, "selectorId", 2, 48, 2 },
	{ 304, "selectorAlgorithm", 2, 0, 0 },
	{ 305, "samplingPacketInterval", 4, 0, 0 },
	{ 306, "samplingPacketSpace", 4, 0, 0 },
	{ 307, "samplingTimeInterval", 4, 0, 0 },
	{ 492, "srhFlagsIPv6", 1, 492, 1 },
	{ 493, "srhTagIPv6", 2, 493, 2 },
	{ 494, "srhSegmentIPv6", 16, 494, 16 },
	{ 495, "srhActiveSegmentIPv6", 16, 495, 16 },
	{ 496, "srhSegmentIPv6BasicList", NS_IE_VARLEN, 0, 0 },
	{ 497, "srhSegmentIPv6ListSection", NS_IE_VARLEN, 0, 0 },
	{ 498, "srhSegmentsIPv6Left", 1, 498, 1 },
	{ 499, "srhIPv6Section", NS_IE_VARLEN, 0, 0 },
	{ 500, "srhIPv6ActiveSegmentType", 1, 500, 1 },
};

Test(ie, registry_matches_iana)
{
	const struct ns_ie *ie, *v9;
	size_t i;

	for (i = 0; i < sizeof(iana) / sizeof(iana[0]); i++) {
		ie = ns_ie_find(iana[i].id);
		cr_assert_not_null(ie, "element %u missing", iana[i].id);
		cr_assert_str_eq(ie->name, iana[i].name);
		cr_assert_eq(ie->len, iana[i].len, "%s length", ie->name);
		cr_assert_eq(ie->v9_id, iana[i].v9_id, "%s v9 type", ie->name);
		if (ie->v9_id) {
			v9 = ns_ie_find(ie->v9_id);
			cr_assert_not_null(v9);
			cr_assert_eq(v9->v9_len, iana[i].v9_len, "%s v9 length", ie->name);
		}
		cr_assert_eq(ns_ie_find_name(iana[i].name), ie);
	}
	cr_assert_null(ns_ie_find(3));
	cr_assert_null(ns_ie_find_name("octetdeltacount"), "names are case-sensitive");
}

Test(ie, table_sorted_and_unique)
{
	const struct ns_ie *t;
	size_t n, i, j;

	t = ns_ie_table(&n);
	cr_assert_geq(n, sizeof(iana) / sizeof(iana[0]));
	for (i = 1; i < n; i++)
		cr_assert_lt(t[i - 1].id, t[i].id, "rows sorted by id for the binary search");
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			cr_assert_str_neq(t[i].name, t[j].name);
}

static void rec_fill(struct ns_record *r)
{
	memset(r, 0, sizeof(*r));
	r->ip_version = 4;
	r->protocol = 1;
	r->src_addr[10] = r->src_addr[11] = 0xff;
	inet_pton(AF_INET, "203.0.113.9", r->src_addr + 12);
	r->dst_port = 8 << 8; /* echo request */
	r->octets = 0x0102030405060708ULL;
	r->tcp_flags = 0x12;
	r->mpls_count = 2;
	r->mpls_lse[0] = 16 << 4 | 5 << 1 | 0;
	r->mpls_lse[1] = 1048575u << 4 | 1;
	r->start_ms = 1000 + 12345;
}

static int get(uint16_t id, const struct ns_record *r, enum ns_proto proto, uint8_t *b)
{
	return ns_ie_get(ns_ie_find(id), r, proto, 1000, b, 64);
}

/* A jumbogram's length (RFC 2675) and an IPv6 flow label, as each protocol sends them */
Test(ie, jumbogram_lengths_and_flow_label)
{
	struct ns_record r;
	uint8_t b[64];

	rec_fill(&r);
	r.ip_version = 6;
	r.min_len = 1280;
	r.max_len = 65576; /* 40 + Jumbo Payload length 65536 */
	r.flow_label = 0xabcde;
	for (int proto = NS_PROTO_V9; proto <= NS_PROTO_IPFIX; proto++) {
		cr_assert_eq(get(25, &r, (enum ns_proto)proto, b), 4);
		cr_assert_eq(ns_get32(b), 1280);
		cr_assert_eq(get(26, &r, (enum ns_proto)proto, b), 4);
		cr_assert_eq(ns_get32(b), 65576, "not cut to 16 bits (65576 & 0xffff = 40)");
	}
	cr_assert_eq(get(31, &r, NS_PROTO_IPFIX, b), 4, "unsigned32");
	cr_assert(b[0] == 0 && b[1] == 0x0a && b[2] == 0xbc && b[3] == 0xde);
	cr_assert_eq(get(31, &r, NS_PROTO_V9, b), 3, "v9 FLOW_LABEL is 3 bytes");
	cr_assert(b[0] == 0x0a && b[1] == 0xbc && b[2] == 0xde);
}

/* srhSegmentIPv6ListSection (497), srhIPv6Section (499), srhIPv6ActiveSegmentType (500) */
Test(ie, srh_sections_as_octets)
{
	static const uint8_t hdr[8] = { 41, 4, 4, 1, 1, 0x20, 0xbe, 0xef };
	struct ns_record r;
	uint8_t b[64];

	rec_fill(&r);
	r.ip_version = 6;
	r.srh_present = 1;
	r.srh_segment_count = 2;
	inet_pton(AF_INET6, "2001:db8:5::1", r.srh_segments[0]);
	inet_pton(AF_INET6, "2001:db8:5::2", r.srh_segments[1]);
	memcpy(r.srh_hdr, hdr, 8);
	cr_assert_eq(get(497, &r, NS_PROTO_IPFIX, b), 1 + 32, "1-byte length, two segments");
	cr_assert_eq(b[0], 32);
	cr_assert_arr_eq(b + 1, r.srh_segments, 32);
	cr_assert_eq(get(499, &r, NS_PROTO_IPFIX, b), 1 + 40);
	cr_assert_eq(b[0], 40);
	cr_assert_arr_eq(b + 1, hdr, 8, "the SRH's header as on the wire");
	cr_assert_arr_eq(b + 9, r.srh_segments, 32);
	cr_assert_eq(get(497, &r, NS_PROTO_V9, b), -ENOENT, "v9: no variable length");
	cr_assert_eq(get(499, &r, NS_PROTO_V9, b), -ENOENT);
	cr_assert_eq(get(500, &r, NS_PROTO_IPFIX, b), 1);
	cr_assert_eq(b[0], 0, "Unknown: the probe knows no control plane");
	cr_assert_eq(get(500, &r, NS_PROTO_V9, b), 1);
	r.srh_segment_count = 0;
	cr_assert_eq(get(497, &r, NS_PROTO_IPFIX, b), 1, "an empty list is an empty octetArray");
	cr_assert_eq(b[0], 0);
}

Test(ie, getters_write_network_order)
{
	struct ns_record r;
	uint8_t b[64];

	rec_fill(&r);
	cr_assert_eq(get(1, &r, NS_PROTO_IPFIX, b), 8);
	cr_assert(b[0] == 1 && b[7] == 8);
	cr_assert_eq(get(8, &r, NS_PROTO_IPFIX, b), 4);
	cr_assert(b[0] == 203 && b[1] == 0 && b[2] == 113 && b[3] == 9, "v4-mapped bytes 12..15");
	cr_assert_eq(get(6, &r, NS_PROTO_IPFIX, b), 2);
	cr_assert(b[0] == 0 && b[1] == 0x12);
	cr_assert_eq(get(6, &r, NS_PROTO_V9, b), 1);
	cr_assert_eq(b[0], 0x12);
	cr_assert_eq(get(32, &r, NS_PROTO_IPFIX, b), 2);
	cr_assert(b[0] == 8 && b[1] == 0, "ICMP type 8 code 0");
	cr_assert_eq(get(139, &r, NS_PROTO_IPFIX, b), 2);
	cr_assert(b[0] == 0 && b[1] == 0, "not ICMPv6");
	cr_assert_eq(get(70, &r, NS_PROTO_IPFIX, b), 3);
	cr_assert(b[0] == 0x00 && b[1] == 0x01 && b[2] == 0x0a, "label 16, exp 5, not bottom");
	cr_assert_eq(get(71, &r, NS_PROTO_IPFIX, b), 3);
	cr_assert(b[0] == 0xff && b[1] == 0xff && b[2] == 0xf1, "label 1048575, bottom");
	cr_assert_eq(get(72, &r, NS_PROTO_IPFIX, b), 3);
	cr_assert(!b[0] && !b[1] && !b[2], "third label absent");
	cr_assert_eq(get(152, &r, NS_PROTO_V9, b), 4, "v9 sends FIRST_SWITCHED");
	cr_assert_eq(ns_get32(b), 12345);
	cr_assert_eq(get(149, &r, NS_PROTO_IPFIX, b), -ENOENT, "not a flow record field");
	cr_assert_eq(get(496, &r, NS_PROTO_V9, b), -ENOENT, "v9 has no basicList");
	cr_assert_eq(ns_ie_get(ns_ie_find(1), &r, NS_PROTO_IPFIX, 0, b, 4), -ENOSPC);
}

Test(ie, applies)
{
	struct ns_record r;

	rec_fill(&r);
	cr_assert(ns_ie_applies(ns_ie_find(32), &r));
	cr_assert_not(ns_ie_applies(ns_ie_find(139), &r));
	cr_assert_not(ns_ie_applies(ns_ie_find(7), &r), "ICMP has no ports");
	cr_assert_not(ns_ie_applies(ns_ie_find(6), &r), "flags only for TCP");
	cr_assert(ns_ie_applies(ns_ie_find(71), &r));
	cr_assert_not(ns_ie_applies(ns_ie_find(72), &r));
	cr_assert_not(ns_ie_applies(ns_ie_find(58), &r), "no VLAN tag");
	cr_assert_not(ns_ie_applies(ns_ie_find(495), &r));
	r.protocol = 17;
	r.vlan_id = 5;
	r.srh_present = 1;
	cr_assert(ns_ie_applies(ns_ie_find(7), &r));
	cr_assert(ns_ie_applies(ns_ie_find(58), &r));
	cr_assert(ns_ie_applies(ns_ie_find(495), &r));
}

Test(ie, template_selection)
{
	struct ns_record r;

	memset(&r, 0, sizeof(r));
	r.ip_version = 4;
	cr_assert_eq(ns_tmpl_id_for(&r), NS_TMPL_IPV4);
	r.ip_version = 6;
	cr_assert_eq(ns_tmpl_id_for(&r), NS_TMPL_IPV6);
	r.mpls_count = 1;
	cr_assert_eq(ns_tmpl_id_for(&r), NS_TMPL_IPV6_MPLS);
	r.srh_present = 1;
	cr_assert_eq(ns_tmpl_id_for(&r), NS_TMPL_IPV6_MPLS_SRH);
	r.ip_version = 4;
	r.mpls_count = 0;
	cr_assert_eq(ns_tmpl_id_for(&r), NS_TMPL_IPV4_SRH);
	r.ip_version = 0;
	r.mpls_count = 3;
	cr_assert_eq(ns_tmpl_id_for(&r), NS_TMPL_MPLS);
	/* VXLAN flows (VNI 0 included) take the twin of their kind */
	r.ip_version = 6;
	r.mpls_count = 0;
	r.srh_present = 0;
	r.vni_present = 1;
	cr_assert_eq(ns_tmpl_id_for(&r), NS_TMPL_VXLAN + 1);
	r.ip_version = 4;
	r.srh_present = 1;
	cr_assert_eq(ns_tmpl_id_for(&r), NS_TMPL_VXLAN + 4);
	cr_assert_eq(ns_tmpl_routed_id(ns_tmpl_id_for(&r)), NS_TMPL_ROUTED_VXLAN + 4);
}

static int has_field(const struct ns_tmpl *t, uint16_t type)
{
	unsigned int i;

	for (i = 0; i < t->n_fields; i++)
		if (t->fields[i].type == type)
			return 1;
	return 0;
}

Test(ie, templates_build_for_both_protocols)
{
	static struct ns_tmpl_set ipfix, v9;
	unsigned int i;

	cr_assert_eq(ns_tmpl_set_init(&ipfix, NS_PROTO_IPFIX), 0);
	cr_assert_eq(ns_tmpl_set_init(&v9, NS_PROTO_V9), 0);
	cr_assert_eq(ns_tmpl_set_init(&v9, NS_PROTO_V5), -EINVAL);
	cr_assert_eq(ns_tmpl_set_init(&v9, NS_PROTO_V9), 0);
	for (i = 0; i < NS_TMPL_FLEX - NS_TMPL_FIRST; i++) {
		cr_assert_eq(ipfix.t[i].id, NS_TMPL_FIRST + i);
		cr_assert_eq(v9.t[i].id, NS_TMPL_FIRST + i);
		cr_assert_eq(ipfix.t[i].n_scope != 0, !ns_tmpl_is_flow(ipfix.t[i].id));
		cr_assert_eq(ipfix.t[i].plan.n_ops, ipfix.t[i].n_fields);
	}
	/* the routed twins of the original templates: the same fields and the routing group */
	for (i = 0; i < 8; i++) {
		const struct ns_tmpl *r = ns_tmpl_get(&ipfix, ns_tmpl_routed_id(NS_TMPL_IPV4 + i));
		const struct ns_tmpl *o = ns_tmpl_get(&ipfix, NS_TMPL_IPV4 + i);

		cr_assert_eq(r->id, NS_TMPL_ROUTED + i);
		cr_assert_eq(r->n_fields, o->n_fields + 6);
		cr_assert(has_field(r, 16) && has_field(r, 17));
		cr_assert(has_field(r, i & 1 ? 62 : 15) && has_field(r, i & 1 ? 30 : 13));
		cr_assert_eq(ns_tmpl_get(&v9, ns_tmpl_routed_id(NS_TMPL_IPV4 + i))->id,
			     NS_TMPL_ROUTED + i);
	}
	/* the VXLAN twins: the same fields and layer2SegmentId, in both protocols, routed too */
	for (i = 0; i < 8; i++) {
		const struct ns_tmpl *x = ns_tmpl_get(&ipfix, NS_TMPL_VXLAN + i);
		const struct ns_tmpl *o = ns_tmpl_get(&ipfix, NS_TMPL_IPV4 + i);
		const struct ns_tmpl *xr =
			ns_tmpl_get(&ipfix, ns_tmpl_routed_id(NS_TMPL_VXLAN + i));

		cr_assert_eq(x->id, NS_TMPL_VXLAN + i);
		cr_assert_eq(x->n_fields, o->n_fields + 1);
		cr_assert(has_field(x, 351) && !has_field(o, 351));
		cr_assert(has_field(ns_tmpl_get(&v9, NS_TMPL_VXLAN + i), 351));
		cr_assert_eq(xr->id, NS_TMPL_ROUTED_VXLAN + i);
		cr_assert(has_field(xr, 351) && has_field(xr, i & 1 ? 62 : 15));
		cr_assert(ns_tmpl_is_flow(x->id) && ns_tmpl_is_flow(xr->id));
	}
	cr_assert(has_field(&ipfix.t[0], 152) && !has_field(&ipfix.t[0], 22));
	cr_assert(has_field(&v9.t[0], 22) && !has_field(&v9.t[0], 152));
	cr_assert(has_field(&ipfix.t[NS_TMPL_IPV6 - 256], 27));
	cr_assert(has_field(&ipfix.t[NS_TMPL_IPV4_MPLS - 256], 72));
	cr_assert_not(has_field(&ipfix.t[NS_TMPL_IPV4 - 256], 70));
	cr_assert(has_field(&ipfix.t[NS_TMPL_IPV6_SRH - 256], 496));
	cr_assert_not(has_field(&v9.t[NS_TMPL_IPV6_SRH - 256], 496));
	cr_assert(has_field(&v9.t[NS_TMPL_IPV6_SRH - 256], 495));
	cr_assert_not(has_field(&ipfix.t[NS_TMPL_MPLS - 256], 8), "label-only: no addresses");
	/* the flow label in every IPv6 template and in the SRH ones of inner IPv4 */
	cr_assert_not(has_field(&ipfix.t[NS_TMPL_IPV4 - 256], 31));
	cr_assert(has_field(&ipfix.t[NS_TMPL_IPV6 - 256], 31));
	cr_assert(has_field(&ipfix.t[NS_TMPL_IPV4_SRH - 256], 31));
	cr_assert(has_field(&v9.t[NS_TMPL_IPV6_MPLS - 256], 31));
	for (i = NS_TMPL_IPV4_SRH; i <= NS_TMPL_IPV6_MPLS_SRH; i++) {
		cr_assert(has_field(&ipfix.t[i - 256], 497) && has_field(&ipfix.t[i - 256], 499));
		cr_assert(has_field(&ipfix.t[i - 256], 500) && has_field(&v9.t[i - 256], 500));
		cr_assert_not(has_field(&v9.t[i - 256], 497) || has_field(&v9.t[i - 256], 499),
			      "v9 has no variable-length fields");
	}
	/* 4-byte min/max lengths; IPv6 adds 4 bytes of flow label (3 in v9) */
	cr_assert_eq(ipfix.t[NS_TMPL_IPV4 - 256].plan.fixed_len, 91);
	cr_assert_eq(ipfix.t[NS_TMPL_IPV6 - 256].plan.fixed_len, 119);
	cr_assert_eq(v9.t[NS_TMPL_IPV4 - 256].plan.fixed_len, 82);
	cr_assert_eq(v9.t[NS_TMPL_IPV6 - 256].plan.fixed_len, 109);
	/* v9 scopes: System for the exporter, Interface for interface names */
	cr_assert_eq(v9.t[NS_TMPL_OPT_SAMPLER - 256].fields[0].type, 1);
	cr_assert_eq(v9.t[NS_TMPL_OPT_IFACE - 256].fields[0].type, 2);
	cr_assert_eq(ipfix.t[NS_TMPL_OPT_SAMPLER - 256].fields[0].type, 302);
}

/* --counter-bits 32: every original, routed and aggregated template sends 4-byte counters */
Test(ie, counter_bits_32_narrows_flow_templates)
{
	static struct ns_tmpl_set set;

	for (int proto = NS_PROTO_V9; proto <= NS_PROTO_IPFIX; proto++) {
		cr_assert_eq(ns_tmpl_set_init(&set, (enum ns_proto)proto), 0);
		cr_assert_eq(ns_tmpl_set_counters(&set, 16), -EINVAL);
		cr_assert_eq(ns_tmpl_set_counters(&set, 32), 0);
		for (unsigned int i = 0; i < NS_TMPL_COUNT; i++) {
			const struct ns_tmpl *t = &set.t[i];

			for (unsigned int f = 0; f < t->n_fields; f++)
				if (t->fields[f].type == 1 || t->fields[f].type == 2)
					cr_assert_eq(t->fields[f].len, 4, "template %u", t->id);
			cr_assert_eq(t->plan.n_ops, t->n_fields, "template %u", t->id);
		}
	}
}

/* Every record, at its largest (a full SRH list), fits in a message of the smallest MTU along
 * with its template: a record that fits in none would be lost */
Test(ie, largest_record_fits_the_smallest_message)
{
	static struct ns_tmpl_set set;
	struct ns_record r;

	memset(&r, 0, sizeof(r));
	r.srh_present = 1;
	r.srh_segment_count = NS_REC_SRH_SEGMENTS_MAX;
	for (int proto = NS_PROTO_V9; proto <= NS_PROTO_IPFIX; proto++) {
		cr_assert_eq(ns_tmpl_set_init(&set, (enum ns_proto)proto), 0);
		for (unsigned int i = 0; i < NS_TMPL_COUNT; i++) {
			const struct ns_tmpl *t = &set.t[i];
			size_t len = 20 + 4 + 6 + 4 * t->n_fields + 4 + ns_plan_len(&t->plan, &r);

			if (t->id)
				cr_assert_leq(len, NS_MTU_MIN, "template %u: %zu bytes", t->id,
					      len);
		}
	}
}
