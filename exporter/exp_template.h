/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The templates nsflow exports, with stable ids, and how a record picks its template. The
 * field lists name IPFIX elements; the v9 versions are derived through the IE registry.
 */
#ifndef NSFLOW_EXP_TEMPLATE_H
#define NSFLOW_EXP_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "ie.h"
#include "exp_plan.h"
#include "record.h"

/* Flow template ids: 256 + (IPv6 ? 1 : 0) + (MPLS ? 2 : 0) + (SRH ? 4 : 0); VXLAN flows take
 * the twin NS_TMPL_VXLAN + (that - 256), routed VXLAN flows NS_TMPL_ROUTED_VXLAN + (that - 256) */
enum ns_tmpl_id {
	NS_TMPL_IPV4 = 256,
	NS_TMPL_IPV6 = 257,
	NS_TMPL_IPV4_MPLS = 258,
	NS_TMPL_IPV6_MPLS = 259,
	NS_TMPL_IPV4_SRH = 260, /* inner IPv4 under an SRv6 SRH */
	NS_TMPL_IPV6_SRH = 261,
	NS_TMPL_IPV4_MPLS_SRH = 262,
	NS_TMPL_IPV6_MPLS_SRH = 263,
	NS_TMPL_MPLS = 264, /* label-only MPLS flow, ip_version 0 */
	NS_TMPL_OPT_SAMPLER = 265,
	NS_TMPL_OPT_RELIABILITY = 266,
	NS_TMPL_OPT_IFACE = 267,
	/* aggregated records: NS_TMPL_AGG + 2 * mode + (IPv6 ? 1 : 0) */
	NS_TMPL_AGG = 268,
	/* flexible records: NS_TMPL_FLEX + 2 * record + (IPv6 ? 1 : 0) */
	NS_TMPL_FLEX = 300,
	/* original flows with routing information (--routes): NS_TMPL_ROUTED + (id - 256) for
	 * the templates 256..263, which gain mask lengths, AS numbers and next hops */
	NS_TMPL_ROUTED = 332,
	/* interface descriptions the way nfdump reads them: scope observationDomainId, then
	 * ingressInterface and interfaceDescription (NS_TMPL_OPT_IFACE has the names) */
	NS_TMPL_OPT_IFDESC = 340,
	/* VXLAN flows: the templates 256..263 with layer2SegmentId (351), the VNI */
	NS_TMPL_VXLAN = 341,
	/* and their routed twins (--routes) */
	NS_TMPL_ROUTED_VXLAN = 349,
	/* the global sampler's rate alone, under samplingInterval (34) and scoped by the exporter:
	 * the one sampler nfdump 1.7.1 reads (it takes no selector template) */
	NS_TMPL_OPT_SAMPLING = 357,
	/* VRF names the way nfdump reads them: scope observationDomainId, then ingressVRFID and
	 * VRFname */
	NS_TMPL_OPT_VRF = 358,
	/* traffic of a VRF or VPN instance: NS_TMPL_VPN + (id - 256) for the templates 256..264,
	 * NS_TMPL_ROUTED_VPN + (id - NS_TMPL_ROUTED) for the routed ones; they gain ingressVRFID,
	 * egressVRFID and mplsVpnRouteDistinguisher (VXLAN flows keep their own templates) */
	NS_TMPL_VPN = 359,
	NS_TMPL_ROUTED_VPN = 368,
	/* VPN templates of MPLS traffic whose top label is a VPN instance's: NS_TMPL_VPN_TOP +
	 * (VPN id - NS_TMPL_VPN), with mplsTopLabelType and mplsTopLabelIPv4Address too */
	NS_TMPL_VPN_TOP = 376,
	NS_TMPL_LAST = NS_TMPL_VPN_TOP + 16,
};

/* Flexible records the configuration may define */
#define NS_FLEX_MAX 16

/*
 * NetStream's aggregation modes (NETSTREAM.md): what an aggregated record is keyed by. Every
 * mode also keys on the direction (flowDirection 61), so that traffic is never summed across
 * ingress and egress.
 */
enum ns_agg_mode {
	NS_AGG_AS,		       /* source and destination AS, ingress and egress ifIndex */
	NS_AGG_AS_TOS,		       /* as + ToS */
	NS_AGG_PROTOCOL_PORT,	       /* protocol, source and destination port */
	NS_AGG_PROTOCOL_PORT_TOS,      /* + ToS, ingress and egress ifIndex */
	NS_AGG_SOURCE_PREFIX,	       /* source AS, mask length, prefix, ingress ifIndex */
	NS_AGG_SOURCE_PREFIX_TOS,      /* + ToS */
	NS_AGG_DESTINATION_PREFIX,     /* destination AS, mask length, prefix, egress ifIndex */
	NS_AGG_DESTINATION_PREFIX_TOS, /* + ToS */
	NS_AGG_PREFIX,		       /* both of the two above */
	NS_AGG_PREFIX_TOS,	       /* + ToS */
	NS_AGG_MPLS_LABEL,	       /* top label stack entry, ingress ifIndex (MPLS traffic) */
	NS_AGG_VLAN_ID,		       /* outer VLAN id, ingress ifIndex (tagged traffic) */
	NS_AGG_INDEX_TOS,	       /* ingress and egress ifIndex, ToS */
	NS_AGG_SOURCE_INDEX_TOS,       /* ingress ifIndex, ToS */
	NS_AGG_BGP_NEXTHOP_TOS,	       /* BGP next hop, ToS, egress ifIndex */
	NS_AGG_VNI_SIP_DIP,	       /* VXLAN VNI, source and destination address */
	NS_AGG_MODES,
};

/* The mode's name as NetStream and our settings spell it ("protocol-port"), or NULL. */
const char *ns_agg_mode_name(unsigned int mode);
/* The mode named name, or -EINVAL. */
int ns_agg_mode_parse(const char *name);

#define NS_TMPL_FIRST	   NS_TMPL_IPV4
#define NS_TMPL_COUNT	   (NS_TMPL_LAST - NS_TMPL_FIRST + 1)
#define NS_TMPL_FLOW_COUNT 9 /* original flow templates, before the options templates */

static inline uint16_t ns_tmpl_agg_id(unsigned int mode, int ipv6)
{
	return (uint16_t)(NS_TMPL_AGG + 2 * mode + (ipv6 ? 1 : 0));
}

static inline uint16_t ns_tmpl_flex_id(unsigned int record, int ipv6)
{
	return (uint16_t)(NS_TMPL_FLEX + 2 * record + (ipv6 ? 1 : 0));
}

/* The routed twin of original template id (NS_TMPL_IPV4 .. NS_TMPL_IPV6_MPLS_SRH, or their
 * VXLAN twins) */
static inline uint16_t ns_tmpl_routed_id(uint16_t id)
{
	if (id >= NS_TMPL_VXLAN && id < NS_TMPL_ROUTED_VXLAN)
		return (uint16_t)(NS_TMPL_ROUTED_VXLAN + id - NS_TMPL_VXLAN);
	return (uint16_t)(NS_TMPL_ROUTED + id - NS_TMPL_IPV4);
}

/* The VPN twin of an original or routed template id; other ids (aggregated, flexible) stay */
static inline uint16_t ns_tmpl_vpn_id(uint16_t id)
{
	if (id >= NS_TMPL_IPV4 && id <= NS_TMPL_MPLS)
		return (uint16_t)(NS_TMPL_VPN + id - NS_TMPL_IPV4);
	if (id >= NS_TMPL_ROUTED && id < NS_TMPL_ROUTED + 8)
		return (uint16_t)(NS_TMPL_ROUTED_VPN + id - NS_TMPL_ROUTED);
	return id;
}

/* Does VPN template id (ns_tmpl_vpn_id()) describe MPLS traffic? */
static inline int ns_tmpl_vpn_has_mpls(uint16_t vpn_id)
{
	unsigned int i = vpn_id - NS_TMPL_VPN; /* 0..8 originals, 9..16 routed (bit 1: MPLS) */

	if (i == NS_TMPL_MPLS - NS_TMPL_IPV4)
		return 1;
	return i < 17 && ((i < 8 ? i : i - 9) & 2);
}

/* Its twin with the top label's type and address, for a VPN template of MPLS traffic */
static inline uint16_t ns_tmpl_vpn_top_id(uint16_t vpn_id)
{
	return ns_tmpl_vpn_has_mpls(vpn_id) ? (uint16_t)(NS_TMPL_VPN_TOP + vpn_id - NS_TMPL_VPN)
					    : vpn_id;
}

/* Does template id describe flow records (original or aggregated), not options? */
static inline int ns_tmpl_is_flow(uint16_t id)
{
	return (id < NS_TMPL_FIRST + NS_TMPL_FLOW_COUNT || id >= NS_TMPL_AGG) &&
	       id != NS_TMPL_OPT_IFDESC && id != NS_TMPL_OPT_SAMPLING && id != NS_TMPL_OPT_VRF;
}

struct ns_tmpl_field {
	const struct ns_ie *ie; /* the element sent (the v9 equivalent in a v9 template) */
	uint16_t type;		/* field type on the wire: ie->id, or a v9 scope type */
	uint16_t len;		/* field length on the wire, NS_IE_VARLEN for variable */
};

struct ns_tmpl {
	uint16_t id;
	uint8_t n_fields;
	uint8_t n_scope; /* options templates: the first n_scope fields are the scope */
	struct ns_tmpl_field fields[NS_PLAN_OPS_MAX];
	struct ns_plan plan; /* reads struct ns_record, or struct ns_opt_row for options */
};

struct ns_tmpl_set {
	enum ns_proto proto;
	struct ns_tmpl t[NS_TMPL_COUNT];
};

/* Build every template of @proto (NS_PROTO_V9 or NS_PROTO_IPFIX); 0 or -errno */
int ns_tmpl_set_init(struct ns_tmpl_set *ts, enum ns_proto proto);

/* Sends the counters (octetDeltaCount, packetDeltaCount) of the original and aggregated
 * templates in 32 bits (bits 32) instead of 64; the caller splits larger counts. 0 or -EINVAL. */
int ns_tmpl_set_counters(struct ns_tmpl_set *ts, unsigned int bits);

/* One field of a flexible record's template: an IPFIX element, and the length it is sent
 * with (0: the element's own; counters take 2, 4 or 8, for a width of 16, 32 or 64 bits). */
struct ns_flex_field {
	uint16_t ie;
	uint16_t len;
};

struct ns_flex_tmpl {
	uint8_t n; /* 0: the slot is unused */
	struct ns_flex_field f[NS_PLAN_OPS_MAX];
};

/*
 * Defines the flexible records' templates that every template set built afterwards carries:
 * defs[i] becomes template NS_TMPL_FLEX + i (ns_tmpl_flex_id()), n <= 2 * NS_FLEX_MAX. The
 * definitions replace the previous ones for the whole process; the agent gives them once,
 * before it opens its sinks. 0, -ENOENT for an unknown element, -EINVAL for a length the
 * element cannot be sent with, -E2BIG for too many.
 */
int ns_tmpl_flex_define(const struct ns_flex_tmpl *defs, size_t n);

static inline const struct ns_tmpl *ns_tmpl_get(const struct ns_tmpl_set *ts, uint16_t id)
{
	return &ts->t[id - NS_TMPL_FIRST];
}

/* The flow template a record is exported with: its own tmpl_id (aggregated records), else
 * from ip_version, mpls_count, srh_present and vni_present */
static inline uint16_t ns_tmpl_id_for(const struct ns_record *r)
{
	unsigned int kind;

	if (r->tmpl_id)
		return r->tmpl_id;
	if (r->ip_version != 4 && r->ip_version != 6)
		return NS_TMPL_MPLS;
	kind = (r->ip_version == 6) + (r->mpls_count ? 2 : 0) + (r->srh_present ? 4 : 0);
	return (uint16_t)((r->vni_present ? NS_TMPL_VXLAN : NS_TMPL_IPV4) + kind);
}

/* Bytes of the template record (or options template record) describing @t */
static inline size_t ns_tmpl_rec_len(const struct ns_tmpl *t)
{
	return (t->n_scope ? 6 : 4) + 4u * t->n_fields;
}

/* Write the template record of @t as @proto lays it out; returns ns_tmpl_rec_len() */
size_t ns_tmpl_write(const struct ns_tmpl *t, enum ns_proto proto, uint8_t *dst);

#endif /* NSFLOW_EXP_TEMPLATE_H */
