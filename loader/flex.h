/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Flexible records: NetStream's `ip netstream record NAME` with its `match` and `collect`
 * lines, as settings (--record, YAML 'records:'), as an aggregation cache's key (agg.h, struct
 * agg_flex) and as templates (exp_template.h, struct ns_flex_tmpl).
 *
 *     NAME[:v4|v6]:match=FIELD[,FIELD...][:collect=FIELD[,FIELD...]][:interfaces=IF[,IF...]]
 *
 * match: source-address[/LEN] destination-address[/LEN] source-port destination-port protocol
 * tos direction tcp-flags input-interface output-interface vlan source-as destination-as
 * next-hop bgp-next-hop mpls-label1 (or mpls-top-label) mpls-label2 mpls-label3. A mask length
 * needs the record's family. collect: packets[/16|/32|/64] bytes[/16|/32|/64] first-switched
 * last-switched; without collect=, all four (64-bit counters). Every record also carries
 * ipVersion and flowEndReason.
 */
#ifndef NSFLOW_FLEX_H
#define NSFLOW_FLEX_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include "agg.h"
#include "exp_template.h"

#define FLEX_MATCH_MAX	 18
#define FLEX_COLLECT_MAX 4

struct config_record {
	struct agg_flex flex; /* name, key fields, masks, counter widths; ifindex by validation */
	uint8_t family;	      /* 0: both, else 4 or 6 */
	uint8_t n_match, match[FLEX_MATCH_MAX];	      /* match fields, in the order given */
	uint8_t n_collect, collect[FLEX_COLLECT_MAX]; /* collect fields, likewise */
	uint8_t bits[FLEX_COLLECT_MAX];		      /* counter widths of collect[] */
	char ifnames[AGG_FLEX_IFACES][IF_NAMESIZE];
	unsigned int line;	/* of the config file; 0 from a flag */
	uint32_t active_s;	/* 0: --aggregate-active-timeout */
	uint32_t inactive_s;	/* 0: --aggregate-inactive-timeout */
	uint32_t cache_entries; /* 0: --aggregate-cache-entries */
};

/* Parses spec into r (its timeouts and line are left as they are). -EINVAL with "where: what"
 * in err. */
int flex_parse(struct config_record *r, const char *spec, const char *where, char *err,
	       size_t errlen);

/* The template of record index for one family: match fields, collect fields, then ipVersion
 * and flowEndReason. */
void flex_template(const struct config_record *r, int ipv6, struct ns_flex_tmpl *t);

/*
 * The datapath key fields (enum nsflow_key_field) that hold all the record needs, and its
 * masks in the datapath's terms (IPv6 bits, 96 + n for IPv4): the kernel may then aggregate by
 * them alone. 0 when the record needs more than the kernel can keep (routes, TCP flags, labels).
 */
uint32_t flex_kernel_key(const struct config_record *r, uint8_t *src_plen, uint8_t *dst_plen);

/* "source-address, destination-address, ..." for help and errors */
const char *flex_match_names(void);

#endif
