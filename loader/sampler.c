// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Samplers for the exporter: ids, rates, and the time-based ones measured (sampler.h).
 */
#include <string.h>
#include <bpf/bpf.h>

#include "agent.h"
#include "sampler.h"

static uint8_t algorithm_of(uint32_t mode)
{
	switch (mode) {
	case NSFLOW_SAMPLE_FIXED:
		return NS_SAMPLER_COUNT;
	case NSFLOW_SAMPLE_TIME:
		return NS_SAMPLER_TIME;
	default:
		return NS_SAMPLER_RANDOM;
	}
}

static struct ns_sampler_info info_of(uint16_t id, const struct config_sampler *s)
{
	return (struct ns_sampler_info){
		.selector_id = id,
		.algorithm = algorithm_of(s->mode),
		.interval = s->param,
		/* a time-based sampler's is measured */
		.rate = s->mode == NSFLOW_SAMPLE_TIME ? 0 : s->param,
	};
}

static uint16_t iface_selector(size_t i, uint8_t dir)
{
	return (uint16_t)(2 + i * 2 + dir);
}

void sampler_build(struct agent *a)
{
	const struct nsflow_config *c = a->cfg;
	size_t ns = 0;

	if (c->sample.mode != NSFLOW_SAMPLE_NONE) {
		a->samplers[ns] = info_of(1, &c->sample);
		a->samplers[ns++].global = 1;
	}
	for (size_t i = 0; i < c->n_ifaces && i < AGENT_MAX_IFACES; i++) {
		const struct config_iface *f = &c->ifaces[i];

		for (uint8_t dir = 0; f->has_sample && f->sample.mode && dir < 2; dir++)
			a->samplers[ns++] = info_of(iface_selector(i, dir), &f->sample);
	}
	memset(a->sampler_meters, 0, sizeof(a->sampler_meters));
	a->ctx.samplers = a->samplers;
	a->ctx.n_samplers = ns;
}

static const struct ns_sampler_info *sampler_by_id(const struct agent *a, uint16_t id)
{
	for (size_t i = 0; i < a->ctx.n_samplers; i++)
		if (a->samplers[i].selector_id == id)
			return &a->samplers[i];
	return NULL;
}

void sampler_name_record(const struct agent *a, struct ns_record *r, uint32_t ifindex, uint8_t dir)
{
	const struct nsflow_config *c = a->cfg;
	const struct ns_sampler_info *s;
	uint16_t id = 1;

	for (size_t i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].ifindex == ifindex && c->ifaces[i].has_sample) {
			id = c->ifaces[i].sample.mode ? iface_selector(i, dir) : 0;
			break;
		}
	s = id ? sampler_by_id(a, id) : NULL;
	if (!s) {
		r->sampling_interval = 1;
		r->selector_id = 0;
		return;
	}
	r->selector_id = id;
	/* v5's header and the JSON/text sinks carry the rate itself */
	r->sampling_interval = s->rate;
}

uint32_t sampler_meter_update(struct sampler_meter *m, uint32_t rate, uint64_t seen, uint64_t taken)
{
	uint64_t ds, dt;

	if (seen < m->seen || taken < m->taken) {
		*m = (struct sampler_meter){ 0 };
		rate = 0;
	}
	m->seen = seen;
	m->taken = taken;
	ds = seen - m->seen0;
	dt = taken - m->taken0;
	if (!dt || (m->windowed && dt < SAMPLER_MIN_TAKEN))
		return rate;
	rate = (uint32_t)((ds + dt / 2) / dt);
	if (!rate)
		rate = 1;
	if (dt >= SAMPLER_MIN_TAKEN) {
		m->seen0 = seen;
		m->taken0 = taken;
		m->windowed = true;
	}
	return rate;
}

/* The sampler's counts of one interface and direction, from the datapath's settings entry */
static void cfg_counts(const struct agent *a, uint32_t ifindex, uint32_t dir, uint64_t *seen,
		       uint64_t *taken)
{
	struct nsflow_cfg_key k = { .ifindex = ifindex, .direction = dir };
	__u32 slot = ifindex * 2 + dir;
	struct nsflow_cfg v;
	int ret;

	if (ifindex < NSFLOW_CFG_DIRECT)
		ret = bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.nsflow_config_direct), &slot,
					  &v);
	else
		ret = bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.nsflow_config), &k, &v);
	if (ret || v.sample_mode != NSFLOW_SAMPLE_TIME)
		return;
	*seen += v.sample_count;
	*taken += v.sample_taken;
}

/* What a sampler counted over the interfaces and directions it serves */
static void sampler_counts(const struct agent *a, uint16_t id, uint64_t *seen, uint64_t *taken)
{
	const struct nsflow_config *c = a->cfg;

	*seen = *taken = 0;
	if (a->replay) {
		for (uint8_t dir = 0; dir < 2 && id == 1; dir++)
			cfg_counts(a, AGENT_REPLAY_IFINDEX, dir, seen, taken);
		return;
	}
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct config_iface *f = &c->ifaces[i];

		for (uint8_t dir = 0; dir < 2; dir++)
			if (f->has_sample ? iface_selector(i, dir) == id : id == 1)
				cfg_counts(a, f->ifindex, dir, seen, taken);
	}
}

bool sampler_measure(struct agent *a)
{
	bool moved = false;

	if (!a->skel)
		return false;
	for (size_t i = 0; i < a->ctx.n_samplers; i++) {
		struct ns_sampler_info *s = &a->samplers[i];
		uint64_t seen, taken;
		uint32_t rate;

		if (s->algorithm != NS_SAMPLER_TIME)
			continue;
		sampler_counts(a, s->selector_id, &seen, &taken);
		rate = sampler_meter_update(&a->sampler_meters[i], s->rate, seen, taken);
		if (rate == s->rate)
			continue;
		/* small moves are not worth another options refresh */
		if (s->rate && rate &&
		    (rate > s->rate ? rate - s->rate : s->rate - rate) <= s->rate / 64)
			continue;
		s->rate = rate;
		moved = true;
	}
	if (moved)
		a->ctx.options_gen++;
	return moved;
}
