/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's flow cache: per-CPU values drained from the kernel are merged here, and flows
 * age out the NetStream way (inactive, active, FIN/RST, forced, cache full, counter width).
 * Time is CLOCK_MONOTONIC ns, as the kernel stamps packets, and always passed in by the caller
 * so that tests drive it with a fake clock.
 */
#ifndef NSFLOW_FLOW_CACHE_H
#define NSFLOW_FLOW_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nsflow.h"
#include "record.h"

struct flow_cache;

struct flow_cache_opts {
	uint64_t active_ns;   /* export a flow this long after its last export */
	uint64_t inactive_ns; /* export and drop a flow this long after its last packet */
	uint32_t max_entries; /* flows held; inserting one more exports the oldest */
	uint8_t counter_bits; /* 32 or 64: no exported packet or octet count exceeds it */
	/* max_entries entries to keep the flows in, or NULL for memory of the cache's own. Flows
	 * already in it (in_use) are the cache's from the start. */
	struct flow_entry *pool;
};

/*
 * One flow, all of its state: the pool of these may be memory that outlives the agent (see
 * pcache.h), so nothing here points anywhere. val holds the current export period: counters
 * since the last export, first_ns and last_ns of its packets, descriptive fields (MACs, MPLS,
 * SRH) kept across periods.
 */
struct flow_entry {
	struct nsflow_key key;
	uint8_t in_use; /* the slot holds a flow */
	uint8_t ended;	/* TCP FIN or RST seen: goes at the next expire */
	uint8_t _pad[2];
	struct nsflow_value val;
	uint64_t created_ns;	  /* first packet of the flow: "oldest" for cache-full eviction */
	uint64_t period_start_ns; /* first packet, then each export: the active timeout counts
				   * from here */
	uint64_t last_seen_ns;	  /* last packet, across periods: the inactive timeout counts
				   * from here */
	uint64_t total_packets;	  /* since created, across periods, for `show cache` */
	uint64_t total_octets;
};

/*
 * Where the cache's changes to entries are announced, so that a caller can make them
 * transactions: touch before any write to an entry; begin and commit around the aging of one
 * entry (expire, flush). Merges are the caller's to wrap.
 */
struct flow_cache_txn {
	void (*begin)(void *arg);
	void (*touch)(void *arg, struct flow_entry *e);
	void (*commit)(void *arg);
	void *arg;
};

/*
 * Gets each exported period. e is valid only during the call: it is reset or reused after.
 * end_reason is enum ns_end_reason.
 */
typedef void (*flow_export_fn)(void *arg, const struct flow_entry *e, uint8_t end_reason);

enum flow_family {
	FLOW_FAMILY_IPV4 = 0,
	FLOW_FAMILY_IPV6,
	FLOW_FAMILY_MPLS, /* metered by label only (key.ip_version 0) */
	FLOW_FAMILY_MAX,
};

#define FLOW_STATS_MAX_IFACES 64

/* Traffic merged on one interface, by direction (enum nsflow_direction) and family. */
struct flow_iface_stats {
	uint32_t ifindex; /* 0: interfaces past FLOW_STATS_MAX_IFACES, together */
	uint64_t packets[2][FLOW_FAMILY_MAX];
	uint64_t octets[2][FLOW_FAMILY_MAX];
};

/* For `show stats`; zeroed by flow_cache_reset_stats(). */
struct flow_cache_stats {
	uint64_t created;    /* flows inserted */
	uint64_t expired[6]; /* records exported, by end reason 1..5 (index 0 unused) */
	uint64_t exported;   /* records exported, all reasons */
	uint64_t dropped;    /* records lost: exported at merge time with no callback set */
	uint64_t packets;    /* merged, all interfaces */
	uint64_t octets;
	uint32_t n_ifaces;
	struct flow_iface_stats ifaces[FLOW_STATS_MAX_IFACES + 1];
};

/* Filters of `show cache`; a zero field (or flag bit clear) matches everything. */
enum flow_filter_field {
	FLOW_FILTER_SRC_ADDR = 1 << 0,
	FLOW_FILTER_DST_ADDR = 1 << 1,
	FLOW_FILTER_SRC_PORT = 1 << 2,
	FLOW_FILTER_DST_PORT = 1 << 3,
	FLOW_FILTER_PROTOCOL = 1 << 4,
	FLOW_FILTER_IFINDEX = 1 << 5,
	FLOW_FILTER_DIRECTION = 1 << 6,
	FLOW_FILTER_TIME = 1 << 7, /* last packet within [since_ns, until_ns] */
	FLOW_FILTER_VNI = 1 << 8,  /* VXLAN flows of VNI vni */
};

struct flow_filter {
	uint32_t fields; /* enum flow_filter_field */
	uint8_t src_addr[16];
	uint8_t dst_addr[16];
	uint8_t src_prefix_len; /* IPv6 bits, 96 + n for IPv4; 0 or 128: the whole address */
	uint8_t dst_prefix_len;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t protocol;
	uint8_t direction;
	uint32_t ifindex;
	uint64_t since_ns;
	uint64_t until_ns;
	uint32_t vni;
};

/* The same filter over an exported record (aggregated ones: --interface is either ifIndex) */
bool flow_filter_match_record(const struct flow_filter *f, const struct ns_record *r);

/* Nonzero stops the walk. */
typedef int (*flow_visit_fn)(void *arg, const struct flow_entry *e);

int flow_cache_new(struct flow_cache **c, const struct flow_cache_opts *o);
void flow_cache_free(struct flow_cache *c);

/*
 * Where records exported inside flow_cache_merge() go: the oldest flows when the cache is
 * full, a period whose counters would overflow, a finished flow whose key comes back.
 */
void flow_cache_set_export(struct flow_cache *c, flow_export_fn fn, void *arg);

/* Announce changes to t (NULL: to nobody). */
void flow_cache_set_txn(struct flow_cache *c, const struct flow_cache_txn *t);

/* Merges one drained value (one CPU's count of the flow, or one event's). Never allocates. */
int flow_cache_merge(struct flow_cache *c, const struct nsflow_key *k, const struct nsflow_value *v,
		     uint64_t now_ns);

/*
 * Merges n drained values, keys[i] with vals[i], walking ahead of the merge so that the hash
 * buckets and entries of the next ones are already on their way from memory. The same as n
 * flow_cache_merge() calls; before merging entry i it calls each(arg, i) when each is given
 * (a transaction per entry), and after it done(arg, i).
 */
size_t flow_cache_merge_batch(struct flow_cache *c, const struct nsflow_slot_key *keys,
			      const struct nsflow_value *vals, uint32_t first, uint32_t n,
			      uint64_t now_ns, void (*each)(void *arg, uint32_t i),
			      void (*done)(void *arg, uint32_t i), void *arg);

/* One packet that reached the agent through the ring buffer because the map was full. */
int flow_cache_add_event(struct flow_cache *c, const struct nsflow_event *ev, uint64_t now_ns);

/* Ages the cache at now_ns: FIN/RST, inactive, active. Returns the records exported. */
size_t flow_cache_expire(struct flow_cache *c, uint64_t now_ns, flow_export_fn fn, void *arg);

/* Exports every flow with reason and empties the cache (reset cache, exit). */
size_t flow_cache_flush(struct flow_cache *c, uint8_t reason, flow_export_fn fn, void *arg);

size_t flow_cache_count(const struct flow_cache *c);
/* The entry of k, or NULL. */
struct flow_entry *flow_cache_find(struct flow_cache *c, const struct nsflow_key *k);
/* Bytes of the cache's own memory (index, and the pool when it has its own) for max_entries. */
size_t flow_cache_index_bytes(uint32_t max_entries);

/* Visits the flows that match f (NULL: all), oldest first. Returns how many were visited. */
size_t flow_cache_foreach(const struct flow_cache *c, const struct flow_filter *f, flow_visit_fn fn,
			  void *arg);
bool flow_cache_filter_match(const struct flow_filter *f, const struct flow_entry *e);

const struct flow_cache_stats *flow_cache_stats(const struct flow_cache *c);
void flow_cache_reset_stats(struct flow_cache *c);

/*
 * The record of one exported period. boot_to_wall_ns is CLOCK_REALTIME - CLOCK_MONOTONIC; the
 * sampler fields are set to "unsampled" (interval 1, selector 0) for the caller to fill in.
 */
void flow_entry_to_record(const struct flow_entry *e, uint8_t reason, int64_t boot_to_wall_ns,
			  struct ns_record *r);

#endif /* NSFLOW_FLOW_CACHE_H */
