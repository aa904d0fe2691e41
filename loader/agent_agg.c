// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "agent_agg.h"
#include "agg.h"
#include "exp_template.h"
#include "log.h"

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

int agent_aggs_open(struct agent *a, char *err, size_t errlen)
{
	const struct nsflow_config *c = a->cfg;

	for (size_t i = 0; i < c->n_aggs; i++) {
		const struct config_agg *ca = &c->aggs[i];
		struct agg_opts o = {
			.mode = ca->mode,
			.ipv6 = ca->ipv6,
			.active_ns = (uint64_t)ca->active_s * NS_PER_S,
			.inactive_ns = (uint64_t)ca->inactive_s * NS_PER_S,
			.max_entries = ca->cache_entries,
		};
		int ret = agg_cache_new(&a->aggs[i], &o);

		if (ret) {
			snprintf(err, errlen, "aggregation cache %s of %u entries: %s",
				 ns_agg_mode_name(ca->mode), ca->cache_entries, strerror(-ret));
			return ret;
		}
		a->n_aggs++;
		agg_cache_set_export(a->aggs[i], agg_out, a);
	}
	return 0;
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

void agent_aggs_close(struct agent *a)
{
	for (size_t i = 0; i < a->n_aggs; i++)
		agg_cache_free(a->aggs[i]);
	a->n_aggs = 0;
	free(a->agg_out);
	a->agg_out = NULL;
	a->agg_out_n = a->agg_out_cap = 0;
}
