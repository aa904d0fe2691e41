/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Routing information for flow records: longest-prefix match over IPv4 and IPv6 (one binary
 * trie over 128-bit addresses, IPv4 as v4-mapped, so a lookup costs at most 128 steps whatever
 * the table's size), filled from a routes file or from the kernel's main routing table.
 *
 * A routes file is either an MRT RIB dump (RFC 6396 TABLE_DUMP_V2, as BIRD, FRR and RouteViews
 * write it: the first entry of each prefix is taken, origin AS = last AS of its AS_PATH, peer AS
 * = the first, BGP next hop from NEXT_HOP or MP_REACH_NLRI) or text, one route per line:
 *
 *     PREFIX/LEN ORIGIN_AS [PEER_AS [BGP_NEXT_HOP]]     # comments and blank lines are skipped
 *
 * The kind is told by the first bytes. The kernel's table gives prefix lengths, the egress
 * interface and the next hop of each route (AS numbers 0).
 */
#ifndef NSFLOW_ROUTES_H
#define NSFLOW_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct route_info {
	uint8_t prefix_len; /* of the prefix itself: 0..32 for IPv4, 0..128 for IPv6 */
	uint32_t origin_as, peer_as;
	uint8_t bgp_nexthop[16]; /* v4-mapped for IPv4; all zero when unknown */
	uint32_t egress_ifindex; /* kernel routes */
	uint8_t ip_nexthop[16];	 /* kernel routes: the gateway; zero when on link */
};

struct route_table;

int route_table_new(struct route_table **t);
void route_table_free(struct route_table *t);
/* Adds (or replaces) the route for addr/bits; addr is 16 bytes, bits counts in that space
 * (96 + len for a v4-mapped IPv4 prefix). 0 or -ENOMEM. */
int route_table_add(struct route_table *t, const uint8_t addr[16], unsigned int bits,
		    const struct route_info *ri);
/* The longest prefix holding addr, or NULL. */
const struct route_info *route_table_lookup(const struct route_table *t, const uint8_t addr[16]);
size_t route_table_count(const struct route_table *t);
size_t route_table_bytes(const struct route_table *t);

/* Reads a routes file (MRT or text); -errno with "PATH:LINE: what" (or the MRT offset) in err. */
int routes_load_file(struct route_table **t, const char *path, char *err, size_t errlen);
/* Dumps the kernel's main routing table (both families) over netlink. */
int routes_load_kernel(struct route_table **t, char *err, size_t errlen);

#endif
