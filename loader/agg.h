/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * NetStream's aggregated flows: one cache per aggregation mode and address family, fed with
 * every drained count of every original flow (not with expired originals: an aggregated record
 * never waits for an original's active timeout), keyed by the mode's fields only, aged with its
 * own active and inactive timeouts and exported with its own template (NS_TMPL_AGG + ...).
 *
 * Keys (exp_template.h lists the modes): every mode keys on the direction too. On ingress the
 * egress ifIndex is the one the route of the destination leaves by; on egress the ingress one
 * is 0. AS numbers, prefix lengths and BGP next hops come from the route lookup the caller gives
 * (none: 0, and a prefix of length 0). mpls-label takes MPLS traffic only (keyed by the top label
 * stack entry), vlan-id tagged traffic only; label-only MPLS flows count as IPv4. vni-sip-dip
 * (and a flexible record matching vni) takes VXLAN traffic only, keyed by its VNI.
 *
 * The caches live in the agent's memory: a kill -9 loses the period they were summing (the
 * original flows are kept; see README "Flow state").
 */
#ifndef NSFLOW_AGG_H
#define NSFLOW_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nsflow.h"
#include "record.h"

/* What a route lookup tells about one address. */
struct agg_route {
	uint8_t prefix_len;	 /* of the longest matching prefix */
	uint32_t as;		 /* its origin AS */
	uint8_t bgp_nexthop[16]; /* its BGP next hop, v4-mapped for IPv4 */
	uint32_t egress_ifindex; /* where the kernel sends traffic to it */
	uint8_t ip_nexthop[16];	 /* the kernel's gateway to it, v4-mapped; zero: on link */
};

/* Fills r for addr (16 bytes, v4-mapped for IPv4); false when nothing covers it. */
typedef bool (*agg_route_fn)(void *arg, const uint8_t addr[16], struct agg_route *r);

/* The fields an aggregated or a flexible record keys on */
enum agg_field {
	AGG_F_SAS = 1 << 0, /* source AS */
	AGG_F_DAS = 1 << 1, /* destination AS */
	AGG_F_IN = 1 << 2,  /* ingress ifIndex */
	AGG_F_OUT = 1 << 3, /* egress ifIndex */
	AGG_F_TOS = 1 << 4,
	AGG_F_PROTO = 1 << 5,
	AGG_F_SPORT = 1 << 6,
	AGG_F_DPORT = 1 << 7,
	AGG_F_SPFX = 1 << 8,	   /* source prefix of its route, and its length */
	AGG_F_DPFX = 1 << 9,	   /* destination prefix of its route, and its length */
	AGG_F_MPLS = 1 << 10,	   /* top label stack entry: MPLS traffic only */
	AGG_F_VLAN = 1 << 11,	   /* outer VLAN id: tagged traffic only */
	AGG_F_NH = 1 << 12,	   /* BGP next hop */
	AGG_F_VNI = 1 << 13,	   /* VXLAN VNI: VXLAN traffic only */
	AGG_F_SADDR = 1 << 14,	   /* source address, whole or under a fixed mask */
	AGG_F_DADDR = 1 << 15,	   /* destination address, likewise */
	AGG_F_DIR = 1 << 16,	   /* flowDirection */
	AGG_F_TCP_FLAGS = 1 << 17, /* the flags the flow's packets carried, ORed */
	AGG_F_IPNH = 1 << 18,	   /* IP next hop of the destination's route */
	AGG_F_MPLS2 = 1 << 19,	   /* second label stack entry */
	AGG_F_MPLS3 = 1 << 20,	   /* third */
};

#define AGG_FLEX_IFACES 8

/* A flexible record: its name, what it keys on, its counters' widths, where it applies. */
struct agg_flex {
	char name[32];
	uint32_t fields;	    /* enum agg_field */
	uint8_t src_plen, dst_plen; /* AGG_F_SADDR / DADDR mask, in the family's bits; 0: none */
	uint64_t max_packets;	    /* a larger count is split over several records */
	uint64_t max_octets;
	uint32_t ifindex[AGG_FLEX_IFACES]; /* metered on one of these; none: on any */
	uint8_t n_ifindex;
	uint16_t tmpl_id[2]; /* its templates, IPv4 and IPv6 */
};

struct agg_opts {
	uint8_t mode;		     /* enum ns_agg_mode; ignored for a flexible record */
	const struct agg_flex *flex; /* a flexible record's cache (copied), else NULL */
	uint64_t
		counter_max; /* a mode's cache: larger counts are split (--counter-bits); 0: none */
	uint8_t ipv6;	     /* the IPv6 cache of the mode, else the IPv4 one */
	uint64_t active_ns;
	uint64_t inactive_ns;
	uint32_t max_entries;
};

struct agg_stats {
	uint64_t merged;	    /* drained counts added */
	uint64_t created, exported; /* aggregated flows, records */
	uint64_t expired[6];	    /* records by flowEndReason */
	uint64_t packets, octets;   /* added */
};

struct agg_cache;

/* Gets each exported record; r is valid only during the call. */
typedef void (*agg_export_fn)(void *arg, const struct ns_record *r);

int agg_cache_new(struct agg_cache **c, const struct agg_opts *o);
void agg_cache_free(struct agg_cache *c);
/* Where records go that leave inside agg_cache_add() (cache full), and how addresses route. */
void agg_cache_set_export(struct agg_cache *c, agg_export_fn fn, void *arg);
void agg_cache_set_route(struct agg_cache *c, agg_route_fn fn, void *arg);
/* Kernel time + this = Unix time (ns), for the records' timestamps. */
void agg_cache_set_wall(struct agg_cache *c, int64_t boot_to_wall_ns);

/* Adds one drained count v of original flow k; false when the mode does not take the flow. */
bool agg_cache_add(struct agg_cache *c, const struct nsflow_key *k, const struct nsflow_value *v,
		   uint64_t now_ns);
/* Ages the cache at now_ns (inactive, active). Returns the records exported. */
size_t agg_cache_expire(struct agg_cache *c, uint64_t now_ns, agg_export_fn fn, void *arg);
/* Exports every aggregated flow with reason and empties the cache. */
size_t agg_cache_flush(struct agg_cache *c, uint8_t reason, agg_export_fn fn, void *arg);

/* Visits each aggregated flow, as a record of its totals since it was created. */
typedef int (*agg_visit_fn)(void *arg, const struct ns_record *r);
size_t agg_cache_foreach(const struct agg_cache *c, agg_visit_fn fn, void *arg);

size_t agg_cache_count(const struct agg_cache *c);
const struct agg_stats *agg_cache_stats(const struct agg_cache *c);
void agg_cache_reset_stats(struct agg_cache *c);
const struct agg_opts *agg_cache_opts(const struct agg_cache *c);
/* "protocol-port/v4", or the flexible record's "NAME/v4" */
const char *agg_cache_name(const struct agg_cache *c);
/* Heap bytes the cache holds. */
size_t agg_cache_bytes(const struct agg_cache *c);

#endif
