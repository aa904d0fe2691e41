/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one Information Element registry: what every exported field is called (IANA name, also
 * the JSON key), its IPFIX id and length, what NetFlow v9 uses for it, and where its value
 * comes from. Templates, data records and JSON output are all driven from this table.
 */
#ifndef NSFLOW_IE_H
#define NSFLOW_IE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* Field length announcing variable-length encoding in an IPFIX template (RFC 7011 7) */
#define NS_IE_VARLEN 0xFFFF

/* Protocol a message is encoded for: the value is the version field of its header */
enum ns_proto {
	NS_PROTO_V5 = 5,
	NS_PROTO_V9 = 9,
	NS_PROTO_IPFIX = 10,
};

/* Abstract data type, as far as JSON output needs to know how to print a value */
enum ns_ie_type {
	NS_IE_UNSIGNED,
	NS_IE_IPV4,
	NS_IE_IPV6,
	NS_IE_MAC,
	NS_IE_MPLS,	   /* 3-byte label stack entry: label 20, exp 3, bottom-of-stack 1 */
	NS_IE_DATETIME_MS, /* dateTimeMilliseconds: unsigned64 ms since the Unix epoch */
	NS_IE_STRING,
	NS_IE_LIST_IPV6, /* basicList (RFC 6313) of ipv6Address */
	NS_IE_OCTETS,	 /* octetArray: printed as hex; variable length where the template says */
};

/* How a value is read from its source structure */
enum ns_ie_src {
	NS_SRC_NONE,
	NS_SRC_U8,
	NS_SRC_U16,
	NS_SRC_U32,
	NS_SRC_U64,
	NS_SRC_BYTES,	   /* raw bytes, already in network order */
	NS_SRC_IPV4,	   /* bytes 12..15 of a v4-mapped 16-byte address */
	NS_SRC_MPLS,	   /* mpls_lse[arg], zero when the stack is shallower */
	NS_SRC_ICMP,	   /* dst_port (type << 8 | code) when protocol == arg, else 0 */
	NS_SRC_UPTIME,	   /* epoch ms turned into sysUptime ms (v9 FIRST/LAST_SWITCHED) */
	NS_SRC_SRH_LIST,   /* srh_segments[] as a basicList of srhSegmentIPv6 */
	NS_SRC_SRH_OCTETS, /* variable octetArray: srh_segments[] (arg 0), srh_hdr + them (1) */
	NS_SRC_STRING,	   /* NUL-padded char array of at most arg bytes */
};

/* When a field applies to a record: JSON prints only fields that apply */
enum ns_ie_when {
	NS_WHEN_ALWAYS,
	NS_WHEN_TCP,
	NS_WHEN_PORTS, /* transport protocols with ports */
	NS_WHEN_ICMP,  /* ICMP (v4) or ICMPv6, matching the field */
	NS_WHEN_NONZERO,
	NS_WHEN_MPLS, /* mpls_count > arg */
	NS_WHEN_SRH,
};

struct ns_ie_source {
	uint8_t kind; /* enum ns_ie_src */
	uint8_t arg;
	uint16_t off; /* offset of the field in its source structure */
};

struct ns_ie {
	uint16_t id;	  /* IANA IPFIX element id, enterprise 0 */
	uint16_t len;	  /* IPFIX length (may be a reduced-size encoding), or NS_IE_VARLEN */
	uint16_t v9_id;	  /* element v9 sends for this one: itself, a v9 equivalent, 0 = none */
	uint16_t v9_len;  /* v9 length: v9 has no variable-length fields */
	uint8_t v9_scope; /* v9 options scope type when used as a scope: 1 System, 2 Interface */
	uint8_t v9_own;	  /* v9 sends this element's own value under v9_id's field type */
	uint8_t type;	  /* enum ns_ie_type */
	uint8_t when;	  /* enum ns_ie_when */
	struct ns_ie_source rec; /* value in a struct ns_record, kind NONE if not there */
	struct ns_ie_source opt; /* value in a struct ns_opt_row, kind NONE if not there */
	const char *name;	 /* exact IANA name */
};

/*
 * One row of options data, built by the encoder from the agent's export context. Options
 * templates read their values from here the way flow templates read struct ns_record.
 */
struct ns_opt_row {
	uint32_t domain;	   /* observationDomainId / v9 System scope */
	uint32_t ifindex;	   /* ingressInterface / v9 Interface scope */
	uint16_t selector_id;	   /* selectorId, v9 FLOW_SAMPLER_ID */
	uint16_t algorithm;	   /* selectorAlgorithm */
	uint32_t packet_interval;  /* samplingPacketInterval: packets taken in a row */
	uint32_t packet_space;	   /* samplingPacketSpace: packets skipped after them */
	uint32_t time_interval_us; /* samplingTimeInterval, microseconds */
	uint8_t v9_mode;	   /* FLOW_SAMPLER_MODE: 1 deterministic, 2 random */
	uint32_t v9_interval;	   /* FLOW_SAMPLER_RANDOM_INTERVAL: N of 1-in-N */
	uint64_t not_sent_flows;
	uint64_t not_sent_packets;
	uint64_t not_sent_octets;
	char name[64];	       /* interfaceName */
	char description[128]; /* interfaceDescription */
	uint32_t vrf_id;       /* ingressVRFID */
	char vrf_name[32];     /* VRFname */
};

/* The registry row for IPFIX element @id, or NULL */
const struct ns_ie *ns_ie_find(uint16_t id);
/* The registry row whose IANA name is @name, or NULL */
const struct ns_ie *ns_ie_find_name(const char *name);
/* Every row, for iteration */
const struct ns_ie *ns_ie_table(size_t *n);

/* Whether @ie carries meaningful information for @r (used to keep JSON lines lean) */
int ns_ie_applies(const struct ns_ie *ie, const struct ns_record *r);

/*
 * Write the value of @ie for record @r into @dst in network byte order, as @proto sends it
 * (IPFIX: @ie->len with variable-length prefix where needed; v9: @ie->v9_len). @boot_ms is
 * the wall-clock time of system boot, for sysUptime-relative fields. Returns the number of
 * bytes written, or -ENOSPC if @cap is too small, -ENOENT if @ie has no value in a record.
 */
int ns_ie_get(const struct ns_ie *ie, const struct ns_record *r, enum ns_proto proto,
	      uint64_t boot_ms, uint8_t *dst, size_t cap);

#endif /* NSFLOW_IE_H */
