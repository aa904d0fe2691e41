/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A flow record as the exporter sees it: what one expired (or active-timed-out) flow carries
 * to the encoders and sinks. The exporter knows nothing of BPF; the loader fills these from
 * its flow cache.
 */
#ifndef NSFLOW_RECORD_H
#define NSFLOW_RECORD_H

#include <stdint.h>

#define NS_REC_MPLS_MAX		3
#define NS_REC_SRH_SEGMENTS_MAX 8

/* flowEndReason (IE 136) */
enum ns_end_reason {
	NS_END_IDLE = 1,	      /* inactive timeout */
	NS_END_ACTIVE = 2,	      /* active timeout or counter width */
	NS_END_END_OF_FLOW = 3,	      /* TCP FIN or RST */
	NS_END_FORCED = 4,	      /* reset cache, agent exit */
	NS_END_LACK_OF_RESOURCES = 5, /* cache full */
};
#define NS_END_REASONS 6 /* one past the last */

/* "inactive", "active", "tcp-fin-rst", "forced", "cache-full"; "-" for none: the one spelling
 * of the terminal, `nsflow show` and the metrics' reason label. */
const char *ns_end_reason_name(uint8_t reason);

/* srhIPv6ActiveSegmentType (500), IANA "IPFIX IPv6 SRH Segment Type" registry (RFC 9487 5.2):
 * which control plane the active segment was learnt from. A probe reads the segment from the
 * SRH and knows no control plane: Unknown. */
enum ns_srh_segment_type {
	NS_SRH_SEGMENT_TYPE_UNKNOWN = 0,
};

struct ns_record {
	uint8_t ip_version;   /* 4, 6, or 0 for an MPLS flow keyed by label only */
	uint8_t protocol;     /* protocolIdentifier (4) */
	uint8_t tos;	      /* ipClassOfService (5) */
	uint8_t direction;    /* flowDirection (61): 0 ingress, 1 egress */
	uint8_t tcp_flags;    /* tcpControlBits (6) */
	uint8_t min_ttl;      /* minimumTTL (52) */
	uint8_t max_ttl;      /* maximumTTL (53) */
	uint8_t end_reason;   /* flowEndReason (136), enum ns_end_reason */
	uint8_t src_addr[16]; /* IPv6, or IPv4 v4-mapped (::ffff:a.b.c.d): bytes 12..15 */
	uint8_t dst_addr[16];
	uint16_t src_port;	  /* host order; 0 for ICMP */
	uint16_t dst_port;	  /* host order; for ICMP/ICMPv6 type << 8 | code */
	uint16_t vlan_id;	  /* vlanId (58) / dot1qVlanId (243): outer tag, 0 if none */
	uint16_t inner_vlan_id;	  /* dot1qCustomerVlanId (245): inner QinQ tag, 0 if none */
	uint32_t ingress_ifindex; /* ingressInterface (10) */
	uint32_t egress_ifindex;  /* egressInterface (14) */
	uint64_t packets;	  /* packetDeltaCount (2) */
	uint64_t octets;	  /* octetDeltaCount (1) */
	uint64_t start_ms;	  /* flowStartMilliseconds (152), Unix epoch ms */
	uint64_t end_ms;	  /* flowEndMilliseconds (153), Unix epoch ms */
	uint32_t min_len;	  /* minimumIpTotalLength (25): 32 bits, jumbograms included */
	uint32_t max_len;	  /* maximumIpTotalLength (26) */
	uint32_t flow_label;	  /* flowLabelIPv6 (31), 20 bits */
	uint8_t src_mac[6];	  /* sourceMacAddress (56) */
	uint8_t dst_mac[6];	  /* destinationMacAddress (80) */
	uint8_t mpls_count;	  /* labels in mpls_lse[] */
	uint32_t mpls_lse[NS_REC_MPLS_MAX]; /* label << 4 | exp << 1 | s, top first (IE 70..72) */
	uint8_t srh_present;		    /* 1 when the SRH fields below are meaningful */
	uint8_t srh_flags;		    /* srhFlagsIPv6 (492) */
	uint16_t srh_tag;		    /* srhTagIPv6 (493) */
	uint8_t srh_segments_left;	    /* srhSegmentsIPv6Left (498) */
	uint8_t srh_segment_count;	    /* entries in srh_segments[] (basicList 496 of 494) */
	uint8_t srh_active_segment[16];	    /* srhActiveSegmentIPv6 (495) */
	uint8_t srh_segments[NS_REC_SRH_SEGMENTS_MAX][16];
	uint8_t srh_hdr[8];	    /* the SRH's fixed header as on the wire (srhIPv6Section 499) */
	uint8_t srh_segment_type;   /* srhIPv6ActiveSegmentType (500), enum ns_srh_segment_type */
	uint32_t sampling_interval; /* 1 when unsampled; N of 1-in-N; 0 for time-based */
	uint16_t selector_id;	    /* selectorId (302) of the sampler that took the packets */

	/* routing information, and aggregated records */
	uint16_t tmpl_id;	 /* 0: the flow template of its kind (ns_tmpl_id_for); else this */
	uint8_t src_mask;	 /* sourceIPv4/IPv6PrefixLength (9/29) */
	uint8_t dst_mask;	 /* destinationIPv4/IPv6PrefixLength (13/30) */
	uint32_t src_as;	 /* bgpSourceAsNumber (16) */
	uint32_t dst_as;	 /* bgpDestinationAsNumber (17) */
	uint8_t bgp_nexthop[16]; /* bgpNextHopIPv4/IPv6Address (18/63), IPv4 v4-mapped */
	uint8_t ip_nexthop[16];	 /* ipNextHopIPv4/IPv6Address (15/62), IPv4 v4-mapped */
	uint64_t vni;		 /* layer2SegmentId (351): VXLAN VNI */
	uint8_t vni_present;	 /* a VXLAN flow: vni is meaningful (VNI 0 is a VNI) */

	/* BGP/MPLS VPN (the agent's VPN instances and the VRFs of interfaces) */
	uint32_t ingress_vrf;	  /* ingressVRFID (234): 0 = the default VRF */
	uint32_t egress_vrf;	  /* egressVRFID (235) */
	uint8_t vpn_rd[8];	  /* mplsVpnRouteDistinguisher (90), RFC 4364 4.2 encoding */
	uint8_t mpls_top_type;	  /* mplsTopLabelType (46); 0 unknown */
	uint8_t mpls_top_addr[4]; /* mplsTopLabelIPv4Address (47) */
};

#endif /* NSFLOW_RECORD_H */
