// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Aggregation caches (agg.h): a hash of the mode's keys, aged oldest first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "exp_template.h"

#define NONE UINT32_MAX

/* Short names for enum agg_field */
#define F_SAS	AGG_F_SAS
#define F_DAS	AGG_F_DAS
#define F_IN	AGG_F_IN
#define F_OUT	AGG_F_OUT
#define F_TOS	AGG_F_TOS
#define F_PROTO AGG_F_PROTO
#define F_PORTS (AGG_F_SPORT | AGG_F_DPORT)
#define F_SPFX	AGG_F_SPFX
#define F_DPFX	AGG_F_DPFX
#define F_MPLS	AGG_F_MPLS
#define F_VLAN	AGG_F_VLAN
#define F_NH	AGG_F_NH
#define F_VNI	AGG_F_VNI
#define F_ADDRS (AGG_F_SADDR | AGG_F_DADDR)
/* keyed by labels: MPLS traffic only; label-only MPLS flows count as IPv4 there */
#define F_LABELS (AGG_F_MPLS | AGG_F_MPLS2 | AGG_F_MPLS3)

static const uint32_t mode_fields[NS_AGG_MODES] = {
	[NS_AGG_AS] = F_SAS | F_DAS | F_IN | F_OUT,
	[NS_AGG_AS_TOS] = F_SAS | F_DAS | F_IN | F_OUT | F_TOS,
	[NS_AGG_PROTOCOL_PORT] = F_PROTO | F_PORTS,
	[NS_AGG_PROTOCOL_PORT_TOS] = F_PROTO | F_PORTS | F_TOS | F_IN | F_OUT,
	[NS_AGG_SOURCE_PREFIX] = F_SAS | F_SPFX | F_IN,
	[NS_AGG_SOURCE_PREFIX_TOS] = F_SAS | F_SPFX | F_IN | F_TOS,
	[NS_AGG_DESTINATION_PREFIX] = F_DAS | F_DPFX | F_OUT,
	[NS_AGG_DESTINATION_PREFIX_TOS] = F_DAS | F_DPFX | F_OUT | F_TOS,
	[NS_AGG_PREFIX] = F_SAS | F_DAS | F_SPFX | F_DPFX | F_IN | F_OUT,
	[NS_AGG_PREFIX_TOS] = F_SAS | F_DAS | F_SPFX | F_DPFX | F_IN | F_OUT | F_TOS,
	[NS_AGG_MPLS_LABEL] = F_MPLS | F_IN,
	[NS_AGG_VLAN_ID] = F_VLAN | F_IN,
	[NS_AGG_INDEX_TOS] = F_IN | F_OUT | F_TOS,
	[NS_AGG_SOURCE_INDEX_TOS] = F_IN | F_TOS,
	[NS_AGG_BGP_NEXTHOP_TOS] = F_NH | F_TOS | F_OUT,
	[NS_AGG_VNI_SIP_DIP] = F_VNI | F_ADDRS,
};

/* Zeroed whole before it is filled, so that bytes compare and hash */
struct agg_key {
	uint8_t direction, protocol, tos, src_mask, dst_mask, tcp_flags, _pad[2];
	uint16_t src_port, dst_port, vlan, _pad2;
	uint32_t in_if, out_if, src_as, dst_as, mpls_lse[3], _pad3;
	uint64_t vni;
	uint8_t src[16], dst[16], nexthop[16], ipnh[16];
};

_Static_assert(sizeof(struct agg_key) % 8 == 0, "agg_key hashes in 8-byte words");

struct agg_entry {
	struct agg_key key;
	uint32_t next;	       /* hash chain, or free list */
	uint32_t older, newer; /* creation order, for cache-full eviction */
	uint8_t in_use;
	uint64_t packets, octets; /* this period */
	uint64_t first_ns, last_ns;
	uint64_t period_start_ns; /* the active timeout counts from here */
	uint64_t total_packets, total_octets, created_first_ns;
};

struct agg_cache {
	struct agg_opts o;
	struct agg_flex flex; /* o.flex points here */
	char name[48];
	uint32_t fields;
	struct agg_entry *e;
	uint32_t *bucket, mask;
	uint32_t free, oldest, newest;
	size_t count;
	int64_t boot_to_wall_ns;
	agg_export_fn export_fn;
	void *export_arg;
	agg_route_fn route_fn;
	void *route_arg;
	struct agg_stats st;
};

static uint64_t key_hash(const struct agg_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < sizeof(*k); i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

int agg_cache_new(struct agg_cache **out, const struct agg_opts *o)
{
	struct agg_cache *c;
	uint32_t nb = 1;

	if ((!o->flex && o->mode >= NS_AGG_MODES) || o->max_entries < 1 ||
	    o->max_entries > (1u << 28))
		return -EINVAL;
	while (nb < 2 * o->max_entries)
		nb <<= 1;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->e = calloc(o->max_entries, sizeof(*c->e));
	c->bucket = malloc((size_t)nb * sizeof(*c->bucket));
	if (!c->e || !c->bucket) {
		agg_cache_free(c);
		return -ENOMEM;
	}
	c->o = *o;
	if (o->flex) {
		c->flex = *o->flex;
		c->o.flex = &c->flex;
		c->fields = c->flex.fields;
	} else {
		c->fields = mode_fields[o->mode] | AGG_F_DIR;
	}
	c->mask = nb - 1;
	memset(c->bucket, 0xff, (size_t)nb * sizeof(*c->bucket));
	for (uint32_t i = 0; i < o->max_entries; i++)
		c->e[i].next = i + 1 < o->max_entries ? i + 1 : NONE;
	c->free = 0;
	c->oldest = c->newest = NONE;
	snprintf(c->name, sizeof(c->name), "%s/%s",
		 o->flex ? c->flex.name : ns_agg_mode_name(o->mode), o->ipv6 ? "v6" : "v4");
	*out = c;
	return 0;
}

void agg_cache_free(struct agg_cache *c)
{
	if (!c)
		return;
	free(c->e);
	free(c->bucket);
	free(c);
}

void agg_cache_set_export(struct agg_cache *c, agg_export_fn fn, void *arg)
{
	c->export_fn = fn;
	c->export_arg = arg;
}

void agg_cache_set_route(struct agg_cache *c, agg_route_fn fn, void *arg)
{
	c->route_fn = fn;
	c->route_arg = arg;
}

void agg_cache_set_wall(struct agg_cache *c, int64_t boot_to_wall_ns)
{
	c->boot_to_wall_ns = boot_to_wall_ns;
}

/* addr with only its first len bits (of the IPv4 part, for a v4-mapped one) kept */
static void prefix_of(uint8_t *dst, const uint8_t *addr, unsigned int len, bool ipv6)
{
	unsigned int bits = ipv6 ? len : 96 + len;

	memcpy(dst, addr, 16);
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;

		dst[i] &= (uint8_t)(0xff00u >> keep);
	}
}

static void lookup(const struct agg_cache *c, const uint8_t *addr, struct agg_route *r)
{
	memset(r, 0, sizeof(*r));
	if (c->route_fn && !c->route_fn(c->route_arg, addr, r))
		memset(r, 0, sizeof(*r));
}

/* Is the flow metered on an interface the flexible record applies to? */
static bool flex_applies(const struct agg_cache *c, const struct nsflow_key *k)
{
	if (!c->o.flex || !c->flex.n_ifindex)
		return true;
	for (unsigned int i = 0; i < c->flex.n_ifindex; i++)
		if (c->flex.ifindex[i] == k->ifindex)
			return true;
	return false;
}

/* The mode's key of an original flow; false when the mode does not take it. */
static bool key_of(const struct agg_cache *c, const struct nsflow_key *k,
		   const struct nsflow_value *v, struct agg_key *a)
{
	uint32_t f = c->fields;
	struct agg_route src, dst;
	bool ingress = k->direction == NSFLOW_DIR_INGRESS;
	bool mpls = v->mpls_count || (k->mpls_top & NSFLOW_MPLS_VALID);
	unsigned int full = c->o.ipv6 ? 128 : 32;

	/* label-only MPLS flows count as IPv4, in caches that key on labels */
	if (k->ip_version == 0
		    ? (!(f & F_LABELS) || (f & ~(F_LABELS | F_IN | AGG_F_DIR)) || c->o.ipv6)
		    : (k->ip_version == 6) != (c->o.ipv6 != 0))
		return false;
	if ((f & F_LABELS) && !mpls)
		return false;
	if ((f & F_VLAN) && !k->vlan_outer)
		return false;
	if ((f & F_VNI) && !(k->vni & NSFLOW_VNI_VALID))
		return false;
	if (!flex_applies(c, k))
		return false;
	memset(a, 0, sizeof(*a));
	if (f & AGG_F_DIR)
		a->direction = k->direction;
	if (f & (F_SAS | F_SPFX))
		lookup(c, k->src_addr, &src);
	if (f & (F_DAS | F_DPFX | F_NH | F_OUT | AGG_F_IPNH))
		lookup(c, k->dst_addr, &dst);
	if (f & F_SAS)
		a->src_as = src.as;
	if (f & F_DAS)
		a->dst_as = dst.as;
	if (f & F_IN)
		a->in_if = ingress ? k->ifindex : 0;
	if (f & F_OUT)
		a->out_if = ingress ? dst.egress_ifindex : k->ifindex;
	if (f & F_TOS)
		a->tos = k->tos;
	if (f & F_PROTO)
		a->protocol = k->protocol;
	if (f & AGG_F_SPORT)
		a->src_port = k->src_port;
	if (f & AGG_F_DPORT)
		a->dst_port = k->dst_port;
	if (f & AGG_F_TCP_FLAGS)
		a->tcp_flags = v->tcp_flags;
	if (f & F_SPFX) {
		a->src_mask = src.prefix_len;
		prefix_of(a->src, k->src_addr, src.prefix_len, c->o.ipv6);
	}
	if (f & F_DPFX) {
		a->dst_mask = dst.prefix_len;
		prefix_of(a->dst, k->dst_addr, dst.prefix_len, c->o.ipv6);
	}
	/* a flexible record's address: under its mask, or whole (the family's full length) */
	if (f & AGG_F_SADDR) {
		a->src_mask = c->flex.src_plen;
		prefix_of(a->src, k->src_addr, a->src_mask ? a->src_mask : full, c->o.ipv6);
	}
	if (f & AGG_F_DADDR) {
		a->dst_mask = c->flex.dst_plen;
		prefix_of(a->dst, k->dst_addr, a->dst_mask ? a->dst_mask : full, c->o.ipv6);
	}
	if (f & F_MPLS)
		a->mpls_lse[0] = v->mpls_count ? v->mpls_lse[0] : k->mpls_top & ~NSFLOW_MPLS_VALID;
	if ((f & AGG_F_MPLS2) && v->mpls_count > 1)
		a->mpls_lse[1] = v->mpls_lse[1];
	if ((f & AGG_F_MPLS3) && v->mpls_count > 2)
		a->mpls_lse[2] = v->mpls_lse[2];
	if (f & F_VLAN)
		a->vlan = k->vlan_outer;
	if (f & F_VNI)
		a->vni = k->vni & NSFLOW_VNI_MASK;
	if (f & F_NH)
		memcpy(a->nexthop, dst.bgp_nexthop, 16);
	if (f & AGG_F_IPNH)
		memcpy(a->ipnh, dst.ip_nexthop, 16);
	return true;
}

static uint64_t wall_ms(const struct agg_cache *c, uint64_t ns)
{
	return ns ? (uint64_t)((int64_t)ns + c->boot_to_wall_ns) / 1000000ull : 0;
}

static void to_record(const struct agg_cache *c, const struct agg_entry *e, uint8_t reason,
		      bool totals, struct ns_record *r)
{
	const struct agg_key *k = &e->key;

	memset(r, 0, sizeof(*r));
	r->tmpl_id = c->o.flex ? c->flex.tmpl_id[c->o.ipv6 ? 1 : 0]
			       : ns_tmpl_agg_id(c->o.mode, c->o.ipv6);
	r->ip_version = c->o.ipv6 ? 6 : 4;
	r->direction = k->direction;
	r->protocol = k->protocol;
	r->tos = k->tos;
	r->src_port = k->src_port;
	r->dst_port = k->dst_port;
	memcpy(r->src_addr, k->src, 16);
	memcpy(r->dst_addr, k->dst, 16);
	if (!c->o.ipv6 && (c->fields & (F_SPFX | F_ADDRS)))
		r->src_addr[10] = r->src_addr[11] = 0xff;
	if (!c->o.ipv6 && (c->fields & (F_DPFX | F_ADDRS)))
		r->dst_addr[10] = r->dst_addr[11] = 0xff;
	r->src_mask = k->src_mask;
	r->dst_mask = k->dst_mask;
	r->src_as = k->src_as;
	r->dst_as = k->dst_as;
	r->ingress_ifindex = k->in_if;
	r->egress_ifindex = k->out_if;
	r->vlan_id = k->vlan;
	r->tcp_flags = k->tcp_flags;
	r->mpls_count = (c->fields & AGG_F_MPLS3)   ? 3
			: (c->fields & AGG_F_MPLS2) ? 2
			: (c->fields & F_MPLS)	    ? 1
						    : 0;
	memcpy(r->mpls_lse, k->mpls_lse, sizeof(r->mpls_lse));
	memcpy(r->bgp_nexthop, k->nexthop, 16);
	if (!c->o.ipv6 && (c->fields & F_NH))
		r->bgp_nexthop[10] = r->bgp_nexthop[11] = 0xff;
	memcpy(r->ip_nexthop, k->ipnh, 16);
	if (!c->o.ipv6 && (c->fields & AGG_F_IPNH))
		r->ip_nexthop[10] = r->ip_nexthop[11] = 0xff;
	r->vni = k->vni;
	r->vni_present = (c->fields & F_VNI) != 0;
	r->packets = totals ? e->total_packets : e->packets;
	r->octets = totals ? e->total_octets : e->octets;
	r->start_ms = wall_ms(c, totals ? e->created_first_ns : e->first_ns);
	r->end_ms = wall_ms(c, e->last_ns);
	r->end_reason = reason;
	r->sampling_interval = 1;
}

/* The i-th of pieces shares of n */
static uint64_t share(uint64_t n, uint64_t i, uint64_t pieces)
{
	return (uint64_t)((unsigned __int128)n * (i + 1) / pieces -
			  (unsigned __int128)n * i / pieces);
}

static void emit(struct agg_cache *c, struct agg_entry *e, uint8_t reason, agg_export_fn fn,
		 void *arg)
{
	struct ns_record r;

	uint64_t pieces = 1, mp = c->o.flex ? c->flex.max_packets : c->o.counter_max;
	uint64_t mo = c->o.flex ? c->flex.max_octets : c->o.counter_max;

	if (!e->packets)
		return;
	to_record(c, e, reason, false, &r);
	/* a counter wider than the record's: as many records as it takes, counts spread evenly
	 * (floor(n * (i + 1) / pieces) - floor(n * i / pieces): they sum to n exactly) */
	if (mp && e->packets > mp)
		pieces = (e->packets + mp - 1) / mp;
	if (mo && e->octets > mo && (e->octets + mo - 1) / mo > pieces)
		pieces = (e->octets + mo - 1) / mo;
	for (uint64_t i = 0; i < pieces; i++) {
		if (pieces > 1) {
			r.packets = share(e->packets, i, pieces);
			r.octets = share(e->octets, i, pieces);
		}
		c->st.exported++;
		c->st.expired[reason < 6 ? reason : 0]++;
		if (fn)
			fn(arg, &r);
	}
}

static void unlink_entry(struct agg_cache *c, uint32_t i)
{
	struct agg_entry *e = &c->e[i];
	uint32_t *pp = &c->bucket[key_hash(&e->key) & c->mask];

	while (*pp != i)
		pp = &c->e[*pp].next;
	*pp = e->next;
	if (e->older != NONE)
		c->e[e->older].newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer != NONE)
		c->e[e->newer].older = e->older;
	else
		c->newest = e->older;
	e->in_use = 0;
	e->next = c->free;
	c->free = i;
	c->count--;
}

static uint32_t insert(struct agg_cache *c, const struct agg_key *k, uint64_t h, uint64_t now)
{
	struct agg_entry *e;
	uint32_t i;

	if (c->free == NONE) { /* full: the oldest makes room */
		uint32_t old = c->oldest;

		emit(c, &c->e[old], NS_END_LACK_OF_RESOURCES, c->export_fn, c->export_arg);
		unlink_entry(c, old);
	}
	i = c->free;
	e = &c->e[i];
	c->free = e->next;
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->in_use = 1;
	e->period_start_ns = now;
	e->next = c->bucket[h & c->mask];
	c->bucket[h & c->mask] = i;
	e->older = c->newest;
	e->newer = NONE;
	if (c->newest != NONE)
		c->e[c->newest].newer = i;
	else
		c->oldest = i;
	c->newest = i;
	c->count++;
	c->st.created++;
	return i;
}

bool agg_cache_add(struct agg_cache *c, const struct nsflow_key *k, const struct nsflow_value *v,
		   uint64_t now_ns)
{
	struct agg_key a;
	struct agg_entry *e;
	uint64_t h;
	uint32_t i;

	if (!v->packets || !key_of(c, k, v, &a))
		return false;
	h = key_hash(&a);
	for (i = c->bucket[h & c->mask]; i != NONE; i = c->e[i].next)
		if (!memcmp(&c->e[i].key, &a, sizeof(a)))
			break;
	if (i == NONE)
		i = insert(c, &a, h, now_ns);
	e = &c->e[i];
	if (!e->first_ns || v->first_ns < e->first_ns)
		e->first_ns = v->first_ns;
	if (!e->created_first_ns || v->first_ns < e->created_first_ns)
		e->created_first_ns = v->first_ns;
	if (v->last_ns > e->last_ns)
		e->last_ns = v->last_ns;
	e->packets += v->packets;
	e->octets += v->octets;
	e->total_packets += v->packets;
	e->total_octets += v->octets;
	c->st.merged++;
	c->st.packets += v->packets;
	c->st.octets += v->octets;
	return true;
}

size_t agg_cache_expire(struct agg_cache *c, uint64_t now_ns, agg_export_fn fn, void *arg)
{
	uint64_t before = c->st.exported;

	for (uint32_t i = c->oldest, next; i != NONE; i = next) {
		struct agg_entry *e = &c->e[i];
		uint64_t seen = e->last_ns > e->period_start_ns ? e->last_ns : e->period_start_ns;

		next = e->newer;
		if (now_ns >= seen + c->o.inactive_ns) {
			emit(c, e, NS_END_IDLE, fn, arg);
			unlink_entry(c, i);
		} else if (now_ns >= e->period_start_ns + c->o.active_ns) {
			emit(c, e, NS_END_ACTIVE, fn, arg);
			e->packets = e->octets = 0;
			e->first_ns = 0;
			e->period_start_ns = now_ns;
		}
	}
	return (size_t)(c->st.exported - before);
}

size_t agg_cache_flush(struct agg_cache *c, uint8_t reason, agg_export_fn fn, void *arg)
{
	uint64_t before = c->st.exported;

	while (c->oldest != NONE) {
		uint32_t i = c->oldest;

		emit(c, &c->e[i], reason, fn, arg);
		unlink_entry(c, i);
	}
	return (size_t)(c->st.exported - before);
}

size_t agg_cache_foreach(const struct agg_cache *c, agg_visit_fn fn, void *arg)
{
	size_t n = 0;

	for (uint32_t i = c->oldest; i != NONE; i = c->e[i].newer) {
		struct ns_record r;

		to_record(c, &c->e[i], 0, true, &r);
		n++;
		if (fn(arg, &r))
			break;
	}
	return n;
}

size_t agg_cache_count(const struct agg_cache *c)
{
	return c->count;
}

const struct agg_stats *agg_cache_stats(const struct agg_cache *c)
{
	return &c->st;
}

void agg_cache_reset_stats(struct agg_cache *c)
{
	memset(&c->st, 0, sizeof(c->st));
}

const struct agg_opts *agg_cache_opts(const struct agg_cache *c)
{
	return &c->o;
}

const char *agg_cache_name(const struct agg_cache *c)
{
	return c->name;
}

size_t agg_cache_bytes(const struct agg_cache *c)
{
	return sizeof(*c) + (size_t)c->o.max_entries * sizeof(*c->e) +
	       ((size_t)c->mask + 1) * sizeof(*c->bucket);
}
