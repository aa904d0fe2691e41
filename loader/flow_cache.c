// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's flow cache and NetStream aging. Entries live in one pool sized max_entries,
 * found through a chained hash table and kept on a list in creation order, so that a merge
 * never allocates and a full cache finds its oldest flow in O(1). The pool holds only the
 * flows' own state and may be memory that outlives the agent; the hash chains and the age
 * list are the cache's private index, rebuilt from the pool when it is handed one in use.
 */
#include "flow_cache.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define TCP_FIN		       0x01
#define TCP_RST		       0x04
#define FLOW_CACHE_MAX_ENTRIES (1u << 28)

/* The private part of an entry. Links are pool index + 1, so that 0 means none and a calloc'ed
 * table is empty. */
struct flow_link {
	uint64_t hash;
	uint32_t hnext; /* hash chain, then free list */
	uint32_t older; /* age list, by creation */
	uint32_t newer;
	uint32_t _pad;
};

struct flow_cache {
	struct flow_cache_opts o;
	uint64_t counter_max; /* largest count an exported record may carry */
	struct flow_entry *pool;
	bool own_pool;
	struct flow_link *links;
	uint32_t *buckets;
	uint32_t mask;
	uint32_t count;
	uint32_t unused; /* pool entries never handed out yet: past them all is free */
	uint32_t free_list;
	uint32_t oldest; /* age list, by creation */
	uint32_t newest;
	uint64_t seed;
	flow_export_fn fn; /* for exports inside flow_cache_merge() */
	void *arg;
	struct flow_cache_txn txn; /* announced changes */
	uint32_t last_iface;	   /* stats slot of the last merge: traffic comes in runs */
	struct flow_cache_stats stats;
};

static inline struct flow_entry *entry(const struct flow_cache *c, uint32_t ref)
{
	return &c->pool[ref - 1];
}

static inline uint32_t ref_of(const struct flow_cache *c, const struct flow_entry *e)
{
	return (uint32_t)(e - c->pool) + 1;
}

static inline struct flow_link *link_of(const struct flow_cache *c, uint32_t ref)
{
	return &c->links[ref - 1];
}

static inline struct flow_link *elink(const struct flow_cache *c, const struct flow_entry *e)
{
	return link_of(c, ref_of(c, e));
}

static inline void touch(struct flow_cache *c, struct flow_entry *e)
{
	if (c->txn.touch)
		c->txn.touch(c->txn.arg, e);
}

static inline void txn_begin(struct flow_cache *c)
{
	if (c->txn.begin)
		c->txn.begin(c->txn.arg);
}

static inline void txn_commit(struct flow_cache *c)
{
	if (c->txn.commit)
		c->txn.commit(c->txn.arg);
}

/*
 * Multiply-xorshift over the key's words, finished by murmur3's fmix64. Keys come from network
 * traffic, so the seed is random: chains cannot be lengthened by crafted addresses offline.
 */
static uint64_t hash_key(const struct nsflow_key *k, uint64_t seed)
{
	uint64_t w[(sizeof(*k) + 7) / 8] = { 0 }, h = seed;

	memcpy(w, k, sizeof(*k));
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static struct flow_entry *lookup(const struct flow_cache *c, const struct nsflow_key *k, uint64_t h)
{
	const struct flow_link *l;

	for (uint32_t ref = c->buckets[h & c->mask]; ref; ref = l->hnext) {
		l = link_of(c, ref);
		if (l->hash == h && !memcmp(&entry(c, ref)->key, k, sizeof(*k)))
			return entry(c, ref);
	}
	return NULL;
}

/* Takes ref out of the index; the entry itself is left as it is. */
static void unlink_entry(struct flow_cache *c, uint32_t ref)
{
	struct flow_link *l = link_of(c, ref);
	uint32_t *link = &c->buckets[l->hash & c->mask];

	while (*link != ref)
		link = &link_of(c, *link)->hnext;
	*link = l->hnext;
	if (l->older)
		link_of(c, l->older)->newer = l->newer;
	else
		c->oldest = l->newer;
	if (l->newer)
		link_of(c, l->newer)->older = l->older;
	else
		c->newest = l->older;
	l->hnext = c->free_list;
	c->free_list = ref;
	c->count--;
}

static void remove_entry(struct flow_cache *c, struct flow_entry *e)
{
	touch(c, e);
	e->in_use = 0;
	unlink_entry(c, ref_of(c, e));
}

/* Puts ref, whose entry holds a flow hashing to h, on its chain and at the young end. */
static void link_entry(struct flow_cache *c, uint32_t ref, uint64_t h)
{
	struct flow_link *l = link_of(c, ref);

	*l = (struct flow_link){
		.hash = h,
		.hnext = c->buckets[h & c->mask],
		.older = c->newest,
	};
	c->buckets[h & c->mask] = ref;
	if (c->newest)
		link_of(c, c->newest)->newer = ref;
	else
		c->oldest = ref;
	c->newest = ref;
	c->count++;
}

static void reset_counters(struct nsflow_value *v)
{
	v->packets = 0;
	v->octets = 0;
	v->first_ns = 0;
	v->last_ns = 0;
	v->tcp_flags = 0;
	v->min_ttl = 0;
	v->max_ttl = 0;
	v->min_len = 0;
	v->max_len = 0;
}

/* Hands the current period to fn; 1 when a record went out (empty periods are not records). */
static size_t export_period(struct flow_cache *c, const struct flow_entry *e, uint8_t reason,
			    flow_export_fn fn, void *arg)
{
	if (!e->val.packets && !e->val.octets)
		return 0;
	c->stats.expired[reason < 6 ? reason : 0]++;
	if (!fn) {
		c->stats.dropped++;
		return 0;
	}
	fn(arg, e, reason);
	c->stats.exported++;
	return 1;
}

static void restart_period(struct flow_cache *c, struct flow_entry *e, uint64_t now_ns)
{
	touch(c, e);
	reset_counters(&e->val);
	e->period_start_ns = now_ns;
}

static struct flow_entry *insert(struct flow_cache *c, const struct nsflow_key *k, uint64_t h,
				 const struct nsflow_value *first)
{
	struct flow_entry *e;
	uint32_t ref;

	if (c->count == c->o.max_entries) {
		/* NetStream's lack of resources: the oldest flow makes room */
		e = entry(c, c->oldest);
		export_period(c, e, NS_END_LACK_OF_RESOURCES, c->fn, c->arg);
		remove_entry(c, e);
	}
	if (c->free_list) {
		ref = c->free_list;
		c->free_list = link_of(c, ref)->hnext;
	} else {
		ref = ++c->unused;
	}
	e = entry(c, ref);
	touch(c, e);
	*e = (struct flow_entry){
		.key = *k,
		.in_use = 1,
		.val = *first, /* descriptive fields; counters are added by the caller */
		.created_ns = first->first_ns,
		.period_start_ns = first->first_ns,
		.last_seen_ns = first->last_ns,
	};
	reset_counters(&e->val);
	link_entry(c, ref, h);
	c->stats.created++;
	return e;
}

/* Times, flags and min/max of a merge into the period; counts are added apart. */
static void fold_period(struct nsflow_value *p, const struct nsflow_value *a)
{
	if (!p->packets && !p->octets) {
		p->first_ns = a->first_ns;
		p->last_ns = a->last_ns;
		p->tcp_flags = a->tcp_flags;
		p->min_ttl = a->min_ttl;
		p->max_ttl = a->max_ttl;
		p->min_len = a->min_len;
		p->max_len = a->max_len;
		return;
	}
	p->first_ns = a->first_ns < p->first_ns ? a->first_ns : p->first_ns;
	p->last_ns = a->last_ns > p->last_ns ? a->last_ns : p->last_ns;
	p->tcp_flags |= a->tcp_flags;
	p->min_ttl = a->min_ttl < p->min_ttl ? a->min_ttl : p->min_ttl;
	p->max_ttl = a->max_ttl > p->max_ttl ? a->max_ttl : p->max_ttl;
	p->min_len = a->min_len < p->min_len ? a->min_len : p->min_len;
	p->max_len = a->max_len > p->max_len ? a->max_len : p->max_len;
}

/*
 * Adds a merge to the flow's period without any count passing counter_max: the period is
 * exported (active, reason 2) first when the sum would. A merge that alone is wider than the
 * counters, which one drain at 100 Gb/s can be at 32 bits, is split into proportional parts.
 */
static void add_to_period(struct flow_cache *c, struct flow_entry *e, const struct nsflow_value *a,
			  uint64_t now_ns)
{
	uint64_t max = c->counter_max, p = a->packets, o = a->octets;

	if ((e->val.packets || e->val.octets) &&
	    (p > max - e->val.packets || o > max - e->val.octets)) {
		export_period(c, e, NS_END_ACTIVE, c->fn, c->arg);
		restart_period(c, e, now_ns);
	}
	touch(c, e);
	fold_period(&e->val, a);
	while (p > max - e->val.packets || o > max - e->val.octets) {
		uint64_t room_p = max - e->val.packets, room_o = max - e->val.octets, take_p,
			 take_o;

		if ((unsigned __int128)room_o * p <= (unsigned __int128)room_p * o) {
			take_o = room_o;
			take_p = (uint64_t)((unsigned __int128)p * room_o / o);
		} else {
			take_p = room_p;
			take_o = (uint64_t)((unsigned __int128)o * room_p / p);
		}
		e->val.packets += take_p;
		e->val.octets += take_o;
		p -= take_p;
		o -= take_o;
		export_period(c, e, NS_END_ACTIVE, c->fn, c->arg);
		restart_period(c, e, now_ns);
		fold_period(&e->val, a);
	}
	e->val.packets += p;
	e->val.octets += o;
}

/* The statistics slot of an interface; traffic comes in runs, so the last one is tried first. */
static struct flow_iface_stats *iface_slot(struct flow_cache *c, uint32_t ifindex)
{
	struct flow_cache_stats *s = &c->stats;
	uint32_t i = c->last_iface;

	if (i < s->n_ifaces && s->ifaces[i].ifindex == ifindex)
		return &s->ifaces[i];
	for (i = 0; i < s->n_ifaces; i++)
		if (s->ifaces[i].ifindex == ifindex)
			break;
	if (i == s->n_ifaces && i < FLOW_STATS_MAX_IFACES) {
		s->ifaces[i].ifindex = ifindex;
		s->n_ifaces++;
	}
	if (i >= FLOW_STATS_MAX_IFACES) {
		/* interfaces past the table share its last slot, ifindex 0 */
		i = FLOW_STATS_MAX_IFACES;
		s->n_ifaces = FLOW_STATS_MAX_IFACES + 1;
	}
	c->last_iface = i;
	return &s->ifaces[i];
}

static void account(struct flow_cache *c, const struct nsflow_key *k, const struct nsflow_value *a)
{
	struct flow_iface_stats *ifs = iface_slot(c, k->ifindex);
	int fam = k->ip_version == 4 ? FLOW_FAMILY_IPV4 : FLOW_FAMILY_MPLS;
	int dir = k->direction == NSFLOW_DIR_EGRESS;

	if (k->ip_version == 6)
		fam = FLOW_FAMILY_IPV6;
	c->stats.packets += a->packets;
	c->stats.octets += a->octets;
	ifs->packets[dir][fam] += a->packets;
	ifs->octets[dir][fam] += a->octets;
}

static int merge_hashed(struct flow_cache *c, const struct nsflow_key *k,
			const struct nsflow_value *a, uint64_t h, uint64_t now_ns)
{
	struct flow_entry *e = lookup(c, k, h);

	if (e && e->ended) {
		/* a finished TCP flow not yet expired: its key coming back is a new flow */
		export_period(c, e, NS_END_END_OF_FLOW, c->fn, c->arg);
		remove_entry(c, e);
		e = NULL;
	}
	if (!e)
		e = insert(c, k, h, a);
	account(c, k, a);
	touch(c, e);
	add_to_period(c, e, a, now_ns);
	e->total_packets += a->packets;
	e->total_octets += a->octets;
	if (a->last_ns > e->last_seen_ns)
		e->last_seen_ns = a->last_ns;
	if (k->protocol == IPPROTO_TCP && (a->tcp_flags & (TCP_FIN | TCP_RST)))
		e->ended = true;
	return 0;
}

int flow_cache_merge(struct flow_cache *c, const struct nsflow_key *k, const struct nsflow_value *v,
		     uint64_t now_ns)
{
	if (!v)
		return -EINVAL;
	if (!v->packets)
		return 0;
	return merge_hashed(c, k, v, hash_key(k, c->seed), now_ns);
}

#define AHEAD_BUCKET 16 /* entries ahead whose bucket is fetched */
#define AHEAD_ENTRY  8	/* entries ahead whose first chained entry is fetched */

size_t flow_cache_merge_batch(struct flow_cache *c, const struct nsflow_slot_key *keys,
			      const struct nsflow_value *vals, uint32_t first, uint32_t n,
			      uint64_t now_ns, void (*each)(void *arg, uint32_t i),
			      void (*done)(void *arg, uint32_t i), void *arg)
{
	uint64_t h[AHEAD_BUCKET + 1];
	size_t merged = 0;

	for (uint32_t j = first; j < n && j < first + AHEAD_BUCKET; j++) {
		h[j % (AHEAD_BUCKET + 1)] = hash_key(&keys[j].flow, c->seed);
		__builtin_prefetch(&c->buckets[h[j % (AHEAD_BUCKET + 1)] & c->mask]);
	}
	for (uint32_t i = first; i < n; i++) {
		uint32_t j = i + AHEAD_BUCKET, k = i + AHEAD_ENTRY;

		if (j < n) {
			h[j % (AHEAD_BUCKET + 1)] = hash_key(&keys[j].flow, c->seed);
			__builtin_prefetch(&c->buckets[h[j % (AHEAD_BUCKET + 1)] & c->mask]);
		}
		if (k < n) {
			uint32_t ref = c->buckets[h[k % (AHEAD_BUCKET + 1)] & c->mask];

			if (ref) {
				__builtin_prefetch(link_of(c, ref));
				__builtin_prefetch(&entry(c, ref)->key);
			}
		}
		if (!vals[i].packets)
			continue;
		if (each)
			each(arg, i);
		merge_hashed(c, &keys[i].flow, &vals[i], h[i % (AHEAD_BUCKET + 1)], now_ns);
		if (done)
			done(arg, i);
		merged++;
	}
	return merged;
}

int flow_cache_add_event(struct flow_cache *c, const struct nsflow_event *ev, uint64_t now_ns)
{
	return flow_cache_merge(c, &ev->key, &ev->val, now_ns);
}

static uint64_t since(uint64_t now_ns, uint64_t then_ns)
{
	return now_ns > then_ns ? now_ns - then_ns : 0;
}

size_t flow_cache_expire(struct flow_cache *c, uint64_t now_ns, flow_export_fn fn, void *arg)
{
	struct flow_entry *e;
	size_t n = 0;

	for (uint32_t ref = c->oldest, next; ref; ref = next) {
		e = entry(c, ref);
		next = link_of(c, ref)->newer;
		if (e->ended) {
			txn_begin(c);
			n += export_period(c, e, NS_END_END_OF_FLOW, fn, arg);
			remove_entry(c, e);
			txn_commit(c);
		} else if (since(now_ns, e->last_seen_ns) >= c->o.inactive_ns) {
			txn_begin(c);
			n += export_period(c, e, NS_END_IDLE, fn, arg);
			remove_entry(c, e);
			txn_commit(c);
		} else if (since(now_ns, e->period_start_ns) >= c->o.active_ns) {
			txn_begin(c);
			n += export_period(c, e, NS_END_ACTIVE, fn, arg);
			restart_period(c, e, now_ns);
			txn_commit(c);
		}
	}
	return n;
}

size_t flow_cache_flush(struct flow_cache *c, uint8_t reason, flow_export_fn fn, void *arg)
{
	size_t n = 0;

	while (c->oldest) {
		struct flow_entry *e = entry(c, c->oldest);

		txn_begin(c);
		n += export_period(c, e, reason, fn, arg);
		remove_entry(c, e);
		txn_commit(c);
	}
	return n;
}

size_t flow_cache_count(const struct flow_cache *c)
{
	return c->count;
}

static bool prefix_match(const uint8_t *addr, const uint8_t *prefix, uint8_t len)
{
	uint8_t bits = len && len < 128 ? len : 128;

	if (memcmp(addr, prefix, bits / 8))
		return false;
	return bits % 8 == 0 || !((addr[bits / 8] ^ prefix[bits / 8]) & (0xff00 >> (bits % 8)));
}

bool flow_cache_filter_match(const struct flow_filter *f, const struct flow_entry *e)
{
	const struct nsflow_key *k = &e->key;

	if (!f)
		return true;
	if ((f->fields & FLOW_FILTER_SRC_ADDR) &&
	    !prefix_match(k->src_addr, f->src_addr, f->src_prefix_len))
		return false;
	if ((f->fields & FLOW_FILTER_DST_ADDR) &&
	    !prefix_match(k->dst_addr, f->dst_addr, f->dst_prefix_len))
		return false;
	if ((f->fields & FLOW_FILTER_SRC_PORT) && k->src_port != f->src_port)
		return false;
	if ((f->fields & FLOW_FILTER_DST_PORT) && k->dst_port != f->dst_port)
		return false;
	if ((f->fields & FLOW_FILTER_PROTOCOL) && k->protocol != f->protocol)
		return false;
	if ((f->fields & FLOW_FILTER_IFINDEX) && k->ifindex != f->ifindex)
		return false;
	if ((f->fields & FLOW_FILTER_DIRECTION) && k->direction != f->direction)
		return false;
	if ((f->fields & FLOW_FILTER_VNI) && k->vni != (NSFLOW_VNI_VALID | f->vni))
		return false;
	if ((f->fields & FLOW_FILTER_TIME) &&
	    (e->last_seen_ns < f->since_ns || (f->until_ns && e->last_seen_ns > f->until_ns)))
		return false;
	return true;
}

bool flow_filter_match_record(const struct flow_filter *f, const struct ns_record *r)
{
	if (!f)
		return true;
	if ((f->fields & FLOW_FILTER_SRC_ADDR) &&
	    !prefix_match(r->src_addr, f->src_addr, f->src_prefix_len))
		return false;
	if ((f->fields & FLOW_FILTER_DST_ADDR) &&
	    !prefix_match(r->dst_addr, f->dst_addr, f->dst_prefix_len))
		return false;
	if ((f->fields & FLOW_FILTER_SRC_PORT) && r->src_port != f->src_port)
		return false;
	if ((f->fields & FLOW_FILTER_DST_PORT) && r->dst_port != f->dst_port)
		return false;
	if ((f->fields & FLOW_FILTER_PROTOCOL) && r->protocol != f->protocol)
		return false;
	if ((f->fields & FLOW_FILTER_IFINDEX) && r->ingress_ifindex != f->ifindex &&
	    r->egress_ifindex != f->ifindex)
		return false;
	if ((f->fields & FLOW_FILTER_DIRECTION) && r->direction != f->direction)
		return false;
	if ((f->fields & FLOW_FILTER_VNI) && (!r->vni_present || r->vni != f->vni))
		return false;
	return true;
}

size_t flow_cache_foreach(const struct flow_cache *c, const struct flow_filter *f, flow_visit_fn fn,
			  void *arg)
{
	size_t n = 0;

	for (uint32_t ref = c->oldest; ref; ref = link_of(c, ref)->newer) {
		const struct flow_entry *e = entry(c, ref);

		if (!flow_cache_filter_match(f, e))
			continue;
		n++;
		if (fn(arg, e))
			break;
	}
	return n;
}

const struct flow_cache_stats *flow_cache_stats(const struct flow_cache *c)
{
	return &c->stats;
}

void flow_cache_reset_stats(struct flow_cache *c)
{
	memset(&c->stats, 0, sizeof(c->stats));
	c->last_iface = 0;
}

void flow_cache_set_export(struct flow_cache *c, flow_export_fn fn, void *arg)
{
	c->fn = fn;
	c->arg = arg;
}

static uint64_t wall_ms(uint64_t boot_ns, int64_t boot_to_wall_ns)
{
	if (boot_to_wall_ns < 0 && boot_ns < (uint64_t)-boot_to_wall_ns)
		return 0;
	return (boot_ns + (uint64_t)boot_to_wall_ns) / 1000000;
}

void flow_entry_to_record(const struct flow_entry *e, uint8_t reason, int64_t boot_to_wall_ns,
			  struct ns_record *r)
{
	const struct nsflow_key *k = &e->key;
	const struct nsflow_value *v = &e->val;

	*r = (struct ns_record){
		.ip_version = k->ip_version,
		.protocol = k->protocol,
		.tos = k->tos,
		.direction = k->direction,
		.tcp_flags = v->tcp_flags,
		.min_ttl = v->min_ttl,
		.max_ttl = v->max_ttl,
		.end_reason = reason,
		.src_port = k->src_port,
		.dst_port = k->dst_port,
		.vlan_id = k->vlan_outer,
		.inner_vlan_id = k->vlan_inner,
		.packets = v->packets,
		.octets = v->octets,
		.start_ms = wall_ms(v->first_ns, boot_to_wall_ns),
		.end_ms = wall_ms(v->last_ns, boot_to_wall_ns),
		.min_len = v->min_len,
		.max_len = v->max_len,
		.flow_label = v->flow_label,
		.mpls_count = v->mpls_count < NS_REC_MPLS_MAX ? v->mpls_count : NS_REC_MPLS_MAX,
		.srh_present = v->srh_present,
		.srh_flags = v->srh_flags,
		.srh_tag = v->srh_tag,
		.srh_segments_left = v->srh_segments_left,
		.sampling_interval = 1,
	};
	memcpy(r->src_addr, k->src_addr, sizeof(r->src_addr));
	memcpy(r->dst_addr, k->dst_addr, sizeof(r->dst_addr));
	if (k->direction == NSFLOW_DIR_EGRESS)
		r->egress_ifindex = k->ifindex;
	else
		r->ingress_ifindex = k->ifindex;
	memcpy(r->src_mac, v->src_mac, sizeof(r->src_mac));
	memcpy(r->dst_mac, v->dst_mac, sizeof(r->dst_mac));
	memcpy(r->mpls_lse, v->mpls_lse, r->mpls_count * sizeof(r->mpls_lse[0]));
	if (!r->mpls_count && (k->mpls_top & NSFLOW_MPLS_VALID)) {
		/* keyed by the top label with no stack recorded: the key still names it */
		r->mpls_count = 1;
		r->mpls_lse[0] = k->mpls_top & ~NSFLOW_MPLS_VALID;
	}
	if (k->vni & NSFLOW_VNI_VALID) {
		r->vni = k->vni & NSFLOW_VNI_MASK;
		r->vni_present = 1;
	}
	/* the datapath keeps only the active segment, not the list (IE 496) */
	if (v->srh_present)
		memcpy(r->srh_active_segment, v->srh_active_segment, sizeof(r->srh_active_segment));
}

static int by_creation(const void *a, const void *b, void *arg)
{
	const struct flow_entry *pool = arg;
	uint64_t x = pool[*(const uint32_t *)a - 1].created_ns,
		 y = pool[*(const uint32_t *)b - 1].created_ns;

	return x < y ? -1 : x > y;
}

/* Indexes the flows a pool already holds, oldest first; the free slots below the highest one in
 * use go on the free list. */
static int index_pool(struct flow_cache *c)
{
	uint32_t n = 0, top = 0, *refs;

	for (uint32_t i = 0; i < c->o.max_entries; i++)
		if (c->pool[i].in_use) {
			n++;
			top = i + 1;
		}
	if (!n)
		return 0;
	refs = malloc((size_t)n * sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	n = 0;
	for (uint32_t i = 0; i < top; i++) {
		if (c->pool[i].in_use) {
			refs[n++] = i + 1;
		} else {
			link_of(c, i + 1)->hnext = c->free_list;
			c->free_list = i + 1;
		}
	}
	qsort_r(refs, n, sizeof(*refs), by_creation, c->pool);
	for (uint32_t i = 0; i < n; i++)
		link_entry(c, refs[i], hash_key(&entry(c, refs[i])->key, c->seed));
	c->unused = top;
	free(refs);
	return 0;
}

static uint32_t bucket_count(uint32_t max_entries)
{
	uint32_t nbuckets = 16;

	while (nbuckets < max_entries)
		nbuckets <<= 1;
	return nbuckets;
}

size_t flow_cache_index_bytes(uint32_t max_entries)
{
	return (size_t)max_entries * sizeof(struct flow_link) +
	       (size_t)bucket_count(max_entries) * sizeof(uint32_t);
}

int flow_cache_new(struct flow_cache **cp, const struct flow_cache_opts *o)
{
	struct flow_cache *c;
	int ret;

	*cp = NULL;
	if (!o->max_entries || o->max_entries > FLOW_CACHE_MAX_ENTRIES || !o->active_ns ||
	    !o->inactive_ns || (o->counter_bits != 32 && o->counter_bits != 64))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->o = *o;
	c->counter_max = o->counter_bits == 64 ? UINT64_MAX : UINT32_MAX;
	c->mask = bucket_count(o->max_entries) - 1;
	/* calloc: large sizes come as untouched zero pages, so memory follows the flows held */
	c->own_pool = !o->pool;
	c->pool = o->pool ? o->pool : calloc(o->max_entries, sizeof(*c->pool));
	c->links = calloc(o->max_entries, sizeof(*c->links));
	c->buckets = calloc((size_t)c->mask + 1, sizeof(*c->buckets));
	if (!c->pool || !c->links || !c->buckets) {
		flow_cache_free(c);
		return -ENOMEM;
	}
	if (getrandom(&c->seed, sizeof(c->seed), GRND_NONBLOCK) != sizeof(c->seed))
		c->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uintptr_t)c;
	ret = c->own_pool ? 0 : index_pool(c);
	if (ret) {
		flow_cache_free(c);
		return ret;
	}
	*cp = c;
	return 0;
}

void flow_cache_free(struct flow_cache *c)
{
	if (!c)
		return;
	if (c->own_pool)
		free(c->pool);
	free(c->links);
	free(c->buckets);
	free(c);
}

struct flow_entry *flow_cache_find(struct flow_cache *c, const struct nsflow_key *k)
{
	return lookup(c, k, hash_key(k, c->seed));
}

void flow_cache_set_txn(struct flow_cache *c, const struct flow_cache_txn *t)
{
	if (t)
		c->txn = *t;
	else
		memset(&c->txn, 0, sizeof(c->txn));
}
