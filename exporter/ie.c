// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The IE registry. Numbers, names and types follow the IANA "IP Flow Information Export
 * (IPFIX) Entities" registry; v9 field types follow RFC 3954 section 8, which shares the
 * numbers 1-127. Elements above 127 that v9 has no field type for are sent in v9 under their
 * IANA number (v9_id == id): Wireshark, nfdump and pmacct decode v9 fields by the IANA registry.
 * v9_id differs where v9 has its own element (flowStartMilliseconds -> FIRST_SWITCHED) and is
 * 0 where v9 cannot carry the element at all (basicList, PSAMP fields, scope-only elements).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <netinet/in.h>

#include "ie.h"
#include "exp_plan.h"

#define REC(k, field, a)	     .rec = { NS_SRC_##k, a, offsetof(struct ns_record, field) }
#define OPT(k, field, a)	     .opt = { NS_SRC_##k, a, offsetof(struct ns_opt_row, field) }
#define V9(id_, len_)		     .v9_id = id_, .v9_len = len_
#define ROW(id_, name_, type_, len_) .id = id_, .name = name_, .type = NS_IE_##type_, .len = len_

static const struct ns_ie ns_ie_rows[] = {
	{ ROW(1, "octetDeltaCount", UNSIGNED, 8), V9(1, 8), REC(U64, octets, 0) },
	{ ROW(2, "packetDeltaCount", UNSIGNED, 8), V9(2, 8), REC(U64, packets, 0) },
	{ ROW(4, "protocolIdentifier", UNSIGNED, 1), V9(4, 1), REC(U8, protocol, 0) },
	{ ROW(5, "ipClassOfService", UNSIGNED, 1), V9(5, 1), REC(U8, tos, 0) },
	/* unsigned16 in IPFIX (RFC 7125 widened it); v9 TCP_FLAGS is one byte */
	{ ROW(6, "tcpControlBits", UNSIGNED, 2), V9(6, 1), REC(U8, tcp_flags, 0),
	  .when = NS_WHEN_TCP },
	{ ROW(7, "sourceTransportPort", UNSIGNED, 2), V9(7, 2), REC(U16, src_port, 0),
	  .when = NS_WHEN_PORTS },
	{ ROW(8, "sourceIPv4Address", IPV4, 4), V9(8, 4), REC(IPV4, src_addr, 0) },
	{ ROW(9, "sourceIPv4PrefixLength", UNSIGNED, 1), V9(9, 1), REC(U8, src_mask, 0) },
	{ ROW(10, "ingressInterface", UNSIGNED, 4), V9(10, 4), REC(U32, ingress_ifindex, 0),
	  OPT(U32, ifindex, 0), .v9_scope = 2 },
	{ ROW(11, "destinationTransportPort", UNSIGNED, 2), V9(11, 2), REC(U16, dst_port, 0),
	  .when = NS_WHEN_PORTS },
	{ ROW(12, "destinationIPv4Address", IPV4, 4), V9(12, 4), REC(IPV4, dst_addr, 0) },
	{ ROW(13, "destinationIPv4PrefixLength", UNSIGNED, 1), V9(13, 1), REC(U8, dst_mask, 0) },
	{ ROW(14, "egressInterface", UNSIGNED, 4), V9(14, 4), REC(U32, egress_ifindex, 0) },
	{ ROW(15, "ipNextHopIPv4Address", IPV4, 4), V9(15, 4), REC(IPV4, ip_nexthop, 0) },
	{ ROW(16, "bgpSourceAsNumber", UNSIGNED, 4), V9(16, 4), REC(U32, src_as, 0) },
	{ ROW(17, "bgpDestinationAsNumber", UNSIGNED, 4), V9(17, 4), REC(U32, dst_as, 0) },
	{ ROW(18, "bgpNextHopIPv4Address", IPV4, 4), V9(18, 4), REC(IPV4, bgp_nexthop, 0) },
	/* v9 LAST_SWITCHED / FIRST_SWITCHED: sysUptime ms of the last / first packet */
	{ ROW(21, "flowEndSysUpTime", UNSIGNED, 4), V9(21, 4), REC(UPTIME, end_ms, 0) },
	{ ROW(22, "flowStartSysUpTime", UNSIGNED, 4), V9(22, 4), REC(UPTIME, start_ms, 0) },
	/* unsigned64 in IANA; 4 bytes (reduced-size encoding, RFC 7011 6.2) hold a jumbogram's
	 * length, which 2 do not (RFC 2675) */
	{ ROW(25, "minimumIpTotalLength", UNSIGNED, 4), V9(25, 4), REC(U32, min_len, 0) },
	{ ROW(26, "maximumIpTotalLength", UNSIGNED, 4), V9(26, 4), REC(U32, max_len, 0) },
	{ ROW(27, "sourceIPv6Address", IPV6, 16), V9(27, 16), REC(BYTES, src_addr, 0) },
	{ ROW(28, "destinationIPv6Address", IPV6, 16), V9(28, 16), REC(BYTES, dst_addr, 0) },
	{ ROW(29, "sourceIPv6PrefixLength", UNSIGNED, 1), V9(29, 1), REC(U8, src_mask, 0) },
	{ ROW(30, "destinationIPv6PrefixLength", UNSIGNED, 1), V9(30, 1), REC(U8, dst_mask, 0) },
	/* unsigned32 in IPFIX; v9 FLOW_LABEL is 3 bytes (RFC 3954 8) */
	{ ROW(31, "flowLabelIPv6", UNSIGNED, 4), V9(31, 3), REC(U32, flow_label, 0) },
	{ ROW(32, "icmpTypeCodeIPv4", UNSIGNED, 2), V9(32, 2), REC(ICMP, dst_port, IPPROTO_ICMP),
	  .when = NS_WHEN_ICMP },
	/* the exporter's one sampling rate (deprecated in IPFIX for the PSAMP elements, and still
	 * what nfdump 1.7.1, goflow2 and Akvorado read without a selector) */
	{ ROW(34, "samplingInterval", UNSIGNED, 4), V9(34, 4), OPT(U32, v9_interval, 0) },
	/* v9 FLOW_SAMPLER_ID: one byte in RFC 3954, two here because selector ids are 16-bit */
	/* IANA mplsTopLabelType registry: 3 = VPN; only in the templates of VPN traffic */
	{ ROW(46, "mplsTopLabelType", UNSIGNED, 1), V9(46, 1), REC(U8, mpls_top_type, 0) },
	{ ROW(47, "mplsTopLabelIPv4Address", IPV4, 4), V9(47, 4), REC(BYTES, mpls_top_addr, 0) },
	{ ROW(48, "samplerId", UNSIGNED, 1), V9(48, 2), REC(U16, selector_id, 0),
	  OPT(U16, selector_id, 0), .when = NS_WHEN_NONZERO },
	{ ROW(49, "samplerMode", UNSIGNED, 1), V9(49, 1), OPT(U8, v9_mode, 0) },
	{ ROW(50, "samplerRandomInterval", UNSIGNED, 4), V9(50, 4), OPT(U32, v9_interval, 0) },
	{ ROW(52, "minimumTTL", UNSIGNED, 1), V9(52, 1), REC(U8, min_ttl, 0) },
	{ ROW(53, "maximumTTL", UNSIGNED, 1), V9(53, 1), REC(U8, max_ttl, 0) },
	{ ROW(56, "sourceMacAddress", MAC, 6), V9(56, 6), REC(BYTES, src_mac, 0),
	  .when = NS_WHEN_NONZERO },
	{ ROW(58, "vlanId", UNSIGNED, 2), V9(58, 2), REC(U16, vlan_id, 0),
	  .when = NS_WHEN_NONZERO },
	{ ROW(60, "ipVersion", UNSIGNED, 1), V9(60, 1), REC(U8, ip_version, 0) },
	{ ROW(61, "flowDirection", UNSIGNED, 1), V9(61, 1), REC(U8, direction, 0) },
	{ ROW(62, "ipNextHopIPv6Address", IPV6, 16), V9(62, 16), REC(BYTES, ip_nexthop, 0) },
	{ ROW(63, "bgpNextHopIPv6Address", IPV6, 16), V9(63, 16), REC(BYTES, bgp_nexthop, 0) },
	/* v9 MPLS_LABEL_1..3: label 20 bits, exp 3, bottom-of-stack 1 */
	{ ROW(70, "mplsTopLabelStackSection", MPLS, 3), V9(70, 3), REC(MPLS, mpls_lse, 0),
	  .when = NS_WHEN_MPLS },
	{ ROW(71, "mplsLabelStackSection2", MPLS, 3), V9(71, 3), REC(MPLS, mpls_lse, 1),
	  .when = NS_WHEN_MPLS },
	{ ROW(72, "mplsLabelStackSection3", MPLS, 3), V9(72, 3), REC(MPLS, mpls_lse, 2),
	  .when = NS_WHEN_MPLS },
	{ ROW(80, "destinationMacAddress", MAC, 6), V9(80, 6), REC(BYTES, dst_mac, 0),
	  .when = NS_WHEN_NONZERO },
	/* v9 has no variable length: IF_NAME / IF_DESC are fixed and NUL padded */
	{ ROW(82, "interfaceName", STRING, NS_IE_VARLEN), V9(82, 64),
	  OPT(STRING, name, sizeof(((struct ns_opt_row *)0)->name)) },
	{ ROW(83, "interfaceDescription", STRING, 128), V9(83, 128),
	  OPT(STRING, description, sizeof(((struct ns_opt_row *)0)->description)) },
	{ ROW(90, "mplsVpnRouteDistinguisher", OCTETS, 8), V9(90, 8), REC(BYTES, vpn_rd, 0) },
	{ ROW(136, "flowEndReason", UNSIGNED, 1), V9(136, 1), REC(U8, end_reason, 0) },
	/* v9 has one ICMP_TYPE (32) for both families: nfdump and pmacct read ICMPv6 there */
	{ ROW(139, "icmpTypeCodeIPv6", UNSIGNED, 2), V9(32, 2), REC(ICMP, dst_port, IPPROTO_ICMPV6),
	  .when = NS_WHEN_ICMP, .v9_own = 1 },
	{ ROW(144, "exportingProcessId", UNSIGNED, 4), OPT(U32, domain, 0) },
	/* v9 says "this exporter" with the System scope (RFC 3954 6.1) */
	{ ROW(149, "observationDomainId", UNSIGNED, 4), OPT(U32, domain, 0), .v9_scope = 1 },
	{ ROW(152, "flowStartMilliseconds", DATETIME_MS, 8), V9(22, 4), REC(U64, start_ms, 0) },
	{ ROW(153, "flowEndMilliseconds", DATETIME_MS, 8), V9(21, 4), REC(U64, end_ms, 0) },
	{ ROW(166, "notSentFlowTotalCount", UNSIGNED, 8), V9(166, 8), OPT(U64, not_sent_flows, 0) },
	{ ROW(167, "notSentPacketTotalCount", UNSIGNED, 8), V9(167, 8),
	  OPT(U64, not_sent_packets, 0) },
	{ ROW(168, "notSentOctetTotalCount", UNSIGNED, 8), V9(168, 8),
	  OPT(U64, not_sent_octets, 0) },
	{ ROW(234, "ingressVRFID", UNSIGNED, 4), V9(234, 4), REC(U32, ingress_vrf, 0),
	  OPT(U32, vrf_id, 0) },
	{ ROW(235, "egressVRFID", UNSIGNED, 4), V9(235, 4), REC(U32, egress_vrf, 0) },
	/* fixed length, NUL padded: nfdump takes the template's field length as the name's size,
	 * so a variable-length name is misread */
	{ ROW(236, "VRFname", STRING, 32), V9(236, 32),
	  OPT(STRING, vrf_name, sizeof(((struct ns_opt_row *)0)->vrf_name)) },
	{ ROW(243, "dot1qVlanId", UNSIGNED, 2), V9(243, 2), REC(U16, vlan_id, 0),
	  .when = NS_WHEN_NONZERO },
	{ ROW(245, "dot1qCustomerVlanId", UNSIGNED, 2), V9(245, 2), REC(U16, inner_vlan_id, 0),
	  .when = NS_WHEN_NONZERO },
	/* unsigned64 in IANA; our selector ids are 16-bit, reduced-size encoding of 2 */
	{ ROW(302, "selectorId", UNSIGNED, 2), V9(48, 2), REC(U16, selector_id, 0),
	  OPT(U16, selector_id, 0), .when = NS_WHEN_NONZERO },
	{ ROW(304, "selectorAlgorithm", UNSIGNED, 2), OPT(U16, algorithm, 0) },
	{ ROW(305, "samplingPacketInterval", UNSIGNED, 4), OPT(U32, packet_interval, 0) },
	{ ROW(306, "samplingPacketSpace", UNSIGNED, 4), OPT(U32, packet_space, 0) },
	{ ROW(307, "samplingTimeInterval", UNSIGNED, 4), OPT(U32, time_interval_us, 0) },
	{ ROW(351, "layer2SegmentId", UNSIGNED, 8), V9(351, 8), REC(U64, vni, 0) },
	/* RFC 9487 SRv6 Segment Routing Header elements */
	{ ROW(492, "srhFlagsIPv6", UNSIGNED, 1), V9(492, 1), REC(U8, srh_flags, 0),
	  .when = NS_WHEN_SRH },
	{ ROW(493, "srhTagIPv6", UNSIGNED, 2), V9(493, 2), REC(U16, srh_tag, 0),
	  .when = NS_WHEN_SRH },
	/* only inside the basicList 496 */
	{ ROW(494, "srhSegmentIPv6", IPV6, 16), V9(494, 16) },
	{ ROW(495, "srhActiveSegmentIPv6", IPV6, 16), V9(495, 16),
	  REC(BYTES, srh_active_segment, 0), .when = NS_WHEN_SRH },
	{ ROW(496, "srhSegmentIPv6BasicList", LIST_IPV6, NS_IE_VARLEN),
	  REC(SRH_LIST, srh_segments, 0), .when = NS_WHEN_SRH },
	/* octetArrays of variable length: v9 cannot carry them */
	{ ROW(497, "srhSegmentIPv6ListSection", OCTETS, NS_IE_VARLEN),
	  REC(SRH_OCTETS, srh_segments, 0), .when = NS_WHEN_SRH },
	{ ROW(498, "srhSegmentsIPv6Left", UNSIGNED, 1), V9(498, 1), REC(U8, srh_segments_left, 0),
	  .when = NS_WHEN_SRH },
	/* the SRH without its TLVs: fixed header as on the wire (Hdr Ext Len still counts any
	 * TLVs it had), then the segment list */
	{ ROW(499, "srhIPv6Section", OCTETS, NS_IE_VARLEN), REC(SRH_OCTETS, srh_hdr, 1),
	  .when = NS_WHEN_SRH },
	{ ROW(500, "srhIPv6ActiveSegmentType", UNSIGNED, 1), V9(500, 1),
	  REC(U8, srh_segment_type, 0), .when = NS_WHEN_SRH },
};

const struct ns_ie *ns_ie_table(size_t *n)
{
	*n = sizeof(ns_ie_rows) / sizeof(ns_ie_rows[0]);
	return ns_ie_rows;
}

const struct ns_ie *ns_ie_find(uint16_t id)
{
	size_t lo = 0, hi = sizeof(ns_ie_rows) / sizeof(ns_ie_rows[0]);

	/* rows are sorted by id */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ns_ie_rows[mid].id == id)
			return &ns_ie_rows[mid];
		if (ns_ie_rows[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct ns_ie *ns_ie_find_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ns_ie_rows) / sizeof(ns_ie_rows[0]); i++)
		if (!strcmp(ns_ie_rows[i].name, name))
			return &ns_ie_rows[i];
	return NULL;
}

static int has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_DCCP ||
	       proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP;
}

static int nonzero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 1;
	return 0;
}

int ns_ie_applies(const struct ns_ie *ie, const struct ns_record *r)
{
	const uint8_t *f = (const uint8_t *)r + ie->rec.off;

	if (ie->rec.kind == NS_SRC_NONE)
		return 0;
	switch (ie->when) {
	case NS_WHEN_TCP:
		return r->protocol == IPPROTO_TCP;
	case NS_WHEN_PORTS:
		return has_ports(r->protocol);
	case NS_WHEN_ICMP:
		return r->protocol == ie->rec.arg;
	case NS_WHEN_NONZERO:
		return nonzero(f, ie->rec.kind == NS_SRC_BYTES ? (size_t)ie->len
				  : ie->rec.kind == NS_SRC_U16 ? 2
							       : 1);
	case NS_WHEN_MPLS:
		return r->mpls_count > ie->rec.arg;
	case NS_WHEN_SRH:
		return r->srh_present;
	default:
		return 1;
	}
}

int ns_ie_get(const struct ns_ie *ie, const struct ns_record *r, enum ns_proto proto,
	      uint64_t boot_ms, uint8_t *dst, size_t cap)
{
	const struct ns_ie *wire = ie;
	struct ns_plan plan = { 0 };
	uint16_t len = ie->len;
	int err;

	if (proto == NS_PROTO_V9) {
		wire = ie->v9_id ? ns_ie_find(ie->v9_id) : NULL;
		if (!wire)
			return -ENOENT;
		len = wire->v9_len;
	}
	if (wire->rec.kind == NS_SRC_NONE)
		return -ENOENT;
	err = ns_plan_add(&plan, &wire->rec, len);
	if (err)
		return err;
	if (ns_plan_len(&plan, r) > cap)
		return -ENOSPC;
	return (int)ns_plan_encode(&plan, r, boot_ms, dst);
}
