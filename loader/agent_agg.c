// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "agent.h"
#include "agent_agg.h"
#include "agg.h"
#include "exp_template.h"
#include "flex.h"
#include "log.h"
#include "routes.h"

/* The kernel's table is read again this often (it changes without telling a file's mtime) */
#define FIB_REFRESH_NS (30 * NS_PER_S)

#define NS_PER_S 1000000000ull

/* A record an aggregation cache exports: kept until the poll sends them all */
static void agg_out(void *arg, const struct ns_record *r)
{
	struct agent *a = arg;

	if (a->agg_out_n == a->agg_out_cap) {
		size_t cap = a->agg_out_cap ? a->agg_out_cap * 2 : 1024;
		struct ns_record *p = realloc(a->agg_out, cap * sizeof(*p));

		if (!p) {
			a->agg_lost++;
			return;
		}
		a->agg_out = p;
		a->agg_out_cap = cap;
	}
	a->agg_out[a->agg_out_n++] = *r;
}

static int64_t mtime_ns(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -1;
	return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec + st.st_size;
}

/* What an aggregation cache learns of an address: --routes first, the kernel's table for the
 * rest and for where the traffic leaves */
static bool route_of(void *arg, const uint8_t addr[16], struct agg_route *r)
{
	struct agent *a = arg;
	struct agent_route_memo *m;
	const struct route_info *f, *k;

	/* the caches of one flow ask for the same two addresses, one after the other */
	for (int i = 0; i < 2; i++) {
		m = &a->route_memo[i];
		if (m->valid && !memcmp(m->addr, addr, 16)) {
			*r = m->r;
			return m->found;
		}
	}
	m = &a->route_memo[a->route_memo_next];
	a->route_memo_next ^= 1;
	f = a->routes ? route_table_lookup(a->routes, addr) : NULL;
	k = a->fib ? route_table_lookup(a->fib, addr) : NULL;
	memcpy(m->addr, addr, 16);
	m->valid = true;
	m->found = f || k;
	if (!f && !k)
		return false;
	memset(r, 0, sizeof(*r));
	if (f) {
		r->prefix_len = f->prefix_len;
		r->as = f->origin_as;
		memcpy(r->bgp_nexthop, f->bgp_nexthop, 16);
	} else {
		r->prefix_len = k->prefix_len;
	}
	if (k) {
		r->egress_ifindex = k->egress_ifindex;
		memcpy(r->ip_nexthop, k->ip_nexthop, 16);
	}
	m->r = *r;
	return true;
}

void agent_route_record(struct agent *a, struct ns_record *r)
{
	struct agg_route s, d;

	if (!a->cfg->routes_file[0] || r->tmpl_id || (r->ip_version != 4 && r->ip_version != 6))
		return;
	if (!route_of(a, r->src_addr, &s))
		memset(&s, 0, sizeof(s));
	if (!route_of(a, r->dst_addr, &d))
		memset(&d, 0, sizeof(d));
	r->src_mask = s.prefix_len;
	r->dst_mask = d.prefix_len;
	r->src_as = s.as;
	r->dst_as = d.as;
	memcpy(r->bgp_nexthop, d.bgp_nexthop, 16);
	memcpy(r->ip_nexthop, d.ip_nexthop, 16);
	if (r->direction == NSFLOW_DIR_INGRESS && !r->egress_ifindex)
		r->egress_ifindex = d.egress_ifindex;
	r->tmpl_id = ns_tmpl_routed_id(ns_tmpl_id_for(r));
}

/* Reloads --routes when the file changed, the kernel's table every FIB_REFRESH_NS */
static void routes_refresh(struct agent *a)
{
	const char *path = a->cfg->routes_file;
	char err[512];

	if (path[0]) {
		int64_t m = mtime_ns(path);

		if (m >= 0 && m != a->routes_mtime_ns) {
			struct route_table *t;

			a->routes_mtime_ns = m;
			if (routes_load_file(&t, path, err, sizeof(err))) {
				pr_warn("%s; keeping the %zu routes read before", err,
					route_table_count(a->routes));
			} else {
				route_table_free(a->routes);
				a->routes = t;
				memset(a->route_memo, 0, sizeof(a->route_memo));
				a->routes_reloads++;
				pr_info("routes file %s: %zu routes", path, route_table_count(t));
			}
		}
	}
	if (!a->replay && a->now_ns - a->fib_loaded_ns >= FIB_REFRESH_NS) {
		struct route_table *t;

		a->fib_loaded_ns = a->now_ns;
		if (!routes_load_kernel(&t, err, sizeof(err))) {
			route_table_free(a->fib);
			a->fib = t;
			memset(a->route_memo, 0, sizeof(a->route_memo));
		}
	}
}

int agent_aggs_open(struct agent *a, char *err, size_t errlen)
{
	const struct nsflow_config *c = a->cfg;
	int ret;

	if (c->routes_file[0]) {
		ret = routes_load_file(&a->routes, c->routes_file, err, errlen);
		if (ret)
			return ret;
		a->routes_mtime_ns = mtime_ns(c->routes_file);
	}
	/* the kernel's table of the host metered (a capture replayed has none of its own) */
	if (!a->replay && (c->n_aggs || c->n_records || c->routes_file[0]) &&
	    routes_load_kernel(&a->fib, err, errlen))
		pr_warn("%s: prefix lengths and egress interfaces will be 0", err);
	a->fib_loaded_ns = agent_clock_ns();

	for (size_t i = 0; i < c->n_aggs; i++) {
		const struct config_agg *ca = &c->aggs[i];
		struct agg_opts o = {
			.mode = ca->mode,
			.ipv6 = ca->ipv6,
			.active_ns = (uint64_t)ca->active_s * NS_PER_S,
			.inactive_ns = (uint64_t)ca->inactive_s * NS_PER_S,
			.max_entries = ca->cache_entries,
			.counter_max = c->counter_bits == 32 ? UINT32_MAX : 0,
		};
		int ret = agg_cache_new(&a->aggs[i], &o);

		if (ret) {
			snprintf(err, errlen, "aggregation cache %s of %u entries: %s",
				 ns_agg_mode_name(ca->mode), ca->cache_entries, strerror(-ret));
			return ret;
		}
		a->n_aggs++;
		agg_cache_set_export(a->aggs[i], agg_out, a);
		agg_cache_set_route(a->aggs[i], route_of, a);
	}
	for (size_t i = 0; i < c->n_records; i++) {
		const struct config_record *r = &c->records[i];

		for (int f = 0; f < 2; f++) {
			struct agg_opts o = {
				.flex = &r->flex,
				.ipv6 = (uint8_t)f,
				.active_ns = (uint64_t)r->active_s * NS_PER_S,
				.inactive_ns = (uint64_t)r->inactive_s * NS_PER_S,
				.max_entries = r->cache_entries,
			};
			struct agg_cache **slot = &a->aggs[a->n_aggs];

			if (r->family == (f ? 4 : 6))
				continue;
			ret = agg_cache_new(slot, &o);
			if (ret) {
				snprintf(err, errlen, "record %s: a cache of %u entries: %s",
					 r->flex.name, r->cache_entries, strerror(-ret));
				return ret;
			}
			a->n_aggs++;
			agg_cache_set_export(*slot, agg_out, a);
			agg_cache_set_route(*slot, route_of, a);
		}
	}
	return 0;
}

int agent_flex_define(const struct nsflow_config *c, char *err, size_t errlen)
{
	static struct ns_flex_tmpl defs[2 * NS_FLEX_MAX];
	int ret;

	memset(defs, 0, sizeof(defs));
	for (size_t i = 0; i < c->n_records; i++)
		for (int f = 0; f < 2; f++)
			if (c->records[i].family != (f ? 4 : 6))
				flex_template(&c->records[i], f, &defs[2 * i + f]);
	ret = ns_tmpl_flex_define(defs, 2 * c->n_records);
	if (ret)
		snprintf(err, errlen, "flexible record templates: %s", strerror(-ret));
	return ret;
}

void agent_aggs_feed_one(struct agent *a, const struct nsflow_key *k, const struct nsflow_value *v)
{
	for (size_t i = 0; i < a->n_aggs; i++)
		agg_cache_add(a->aggs[i], k, v, a->now_ns);
}

void agent_aggs_feed(struct agent *a, const struct nsflow_slot_key *keys,
		     const struct nsflow_value *vals, size_t n)
{
	for (size_t j = 0; j < n && a->n_aggs; j++)
		agent_aggs_feed_one(a, &keys[j].flow, &vals[j]);
}

/* Hands what the caches exported to every collector, then flushes them */
static void send_out(struct agent *a, uint64_t now_ms)
{
	if (!a->agg_out_n)
		return;
	for (size_t i = 0; i < a->n_sinks; i++) {
		ns_sink_write(a->sinks[i], a->agg_out, a->agg_out_n, now_ms);
		ns_sink_flush(a->sinks[i], now_ms);
	}
	a->agg_records += a->agg_out_n;
	a->agg_out_n = 0;
}

void agent_aggs_expire(struct agent *a)
{
	if (a->n_aggs || a->cfg->routes_file[0])
		routes_refresh(a);
	for (size_t i = 0; i < a->n_aggs; i++) {
		agg_cache_set_wall(a->aggs[i], a->boot_to_wall_ns);
		agg_cache_expire(a->aggs[i], a->now_ns, agg_out, a);
	}
	send_out(a, agent_wall_ms(a));
}

void agent_aggs_flush(struct agent *a, uint8_t reason)
{
	for (size_t i = 0; i < a->n_aggs; i++) {
		agg_cache_set_wall(a->aggs[i], a->boot_to_wall_ns);
		agg_cache_flush(a->aggs[i], reason, agg_out, a);
	}
	send_out(a, agent_wall_ms(a));
}

uint64_t agent_aggs_bytes(const struct agent *a)
{
	uint64_t n = a->agg_out_cap * sizeof(*a->agg_out);

	for (size_t i = 0; i < a->n_aggs; i++)
		n += agg_cache_bytes(a->aggs[i]);
	if (a->routes)
		n += route_table_bytes(a->routes);
	if (a->fib)
		n += route_table_bytes(a->fib);
	return n;
}

void agent_aggs_close(struct agent *a)
{
	for (size_t i = 0; i < a->n_aggs; i++)
		agg_cache_free(a->aggs[i]);
	a->n_aggs = 0;
	free(a->agg_out);
	a->agg_out = NULL;
	route_table_free(a->routes);
	route_table_free(a->fib);
	a->routes = a->fib = NULL;
	a->agg_out_n = a->agg_out_cap = 0;
}
