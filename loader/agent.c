// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "log.h"

#define NS_PER_MS 1000000ULL

uint64_t agent_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int64_t boot_to_wall(void)
{
	struct timespec rt;

	clock_gettime(CLOCK_REALTIME, &rt);
	return (int64_t)((uint64_t)rt.tv_sec * 1000000000ULL + rt.tv_nsec) -
	       (int64_t)agent_clock_ns();
}

static uint64_t wall_ms(const struct agent *a)
{
	return (uint64_t)((int64_t)a->now_ns + a->boot_to_wall_ns) / NS_PER_MS;
}

static void flush_batch(struct agent *a)
{
	uint64_t now = wall_ms(a);

	if (!a->n_batch)
		return;
	for (size_t i = 0; i < a->n_sinks; i++)
		ns_sink_write(a->sinks[i], a->batch, a->n_batch, now);
	a->n_batch = 0;
}

/* The sampler that took a flow's packets: the interface's own, else the global one. */
static void record_sampler(const struct agent *a, struct ns_record *r, uint32_t ifindex,
			   uint8_t dir)
{
	const struct nsflow_config *c = a->cfg;
	const struct config_sampler *s = &c->sample;
	uint16_t id = 1;

	for (size_t i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].ifindex == ifindex && c->ifaces[i].has_sample) {
			s = &c->ifaces[i].sample;
			id = (uint16_t)(2 + i * 2 + dir);
		}
	if (s->mode == NSFLOW_SAMPLE_NONE) {
		r->sampling_interval = 1;
		r->selector_id = 0;
		return;
	}
	r->selector_id = id;
	r->sampling_interval = s->mode == NSFLOW_SAMPLE_TIME ? 0 : s->param;
}

/* Remembers a flow whose saved copy must change at the end of this poll. */
static void mark_dirty(struct agent *a, const struct nsflow_key *k)
{
	if (a->replay || a->saved_fd < 0)
		return;
	if (a->n_dirty == a->cap_dirty) {
		size_t cap = a->cap_dirty ? a->cap_dirty * 2 : 4096;
		struct nsflow_key *nk = realloc(a->dirty, cap * sizeof(*nk));
		struct nsflow_saved *nv;

		if (!nk)
			return;
		a->dirty = nk;
		nv = realloc(a->dirty_vals, cap * sizeof(*nv));
		if (!nv)
			return;
		a->dirty_vals = nv;
		a->cap_dirty = cap;
	}
	a->dirty[a->n_dirty++] = *k;
}

static void export_flow(void *arg, const struct flow_entry *e, uint8_t reason)
{
	struct agent *a = arg;
	struct ns_record *r = &a->batch[a->n_batch++];

	mark_dirty(a, &e->key);
	flow_entry_to_record(e, reason, a->boot_to_wall_ns, r);
	record_sampler(a, r, e->key.ifindex, e->key.direction);
	if (r->srh_present && a->skel) {
		struct nsflow_srh_segments segs;

		/* the segment list sits apart from the per-CPU values (IE 496) */
		if (!bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.nsflow_srh), &e->key, &segs)) {
			r->srh_segment_count = segs.count < NS_REC_SRH_SEGMENTS_MAX
						       ? segs.count
						       : NS_REC_SRH_SEGMENTS_MAX;
			memcpy(r->srh_segments, segs.seg, (size_t)r->srh_segment_count * 16);
		}
	}
	if (a->n_batch == AGENT_BATCH)
		flush_batch(a);
}

/* Exporter context: samplers and interface names for the options templates. */
static void build_context(struct agent *a)
{
	const struct nsflow_config *c = a->cfg;
	size_t ns = 0;

	if (c->sample.mode != NSFLOW_SAMPLE_NONE)
		a->samplers[ns++] = (struct ns_sampler_info){
			.selector_id = 1,
			.algorithm = c->sample.mode == NSFLOW_SAMPLE_FIXED  ? 1
				     : c->sample.mode == NSFLOW_SAMPLE_TIME ? 2
									    : 3,
			.interval = c->sample.param,
		};
	for (size_t i = 0; i < c->n_ifaces && i < AGENT_MAX_IFACES; i++) {
		const struct config_iface *f = &c->ifaces[i];
		struct ns_iface_info *ii = &a->ifaces[i];

		ii->ifindex = f->ifindex;
		snprintf(ii->name, sizeof(ii->name), "%s", f->name);
		snprintf(ii->description, sizeof(ii->description), "nsflow on %s", f->name);
		for (int dir = 0; f->has_sample && f->sample.mode && dir < 2; dir++)
			a->samplers[ns++] = (struct ns_sampler_info){
				.selector_id = (uint16_t)(2 + i * 2 + dir),
				.algorithm = f->sample.mode == NSFLOW_SAMPLE_FIXED  ? 1
					     : f->sample.mode == NSFLOW_SAMPLE_TIME ? 2
										    : 3,
				.interval = f->sample.param,
			};
	}
	a->ctx.samplers = a->samplers;
	a->ctx.n_samplers = ns;
	a->ctx.ifaces = a->ifaces;
	a->ctx.n_ifaces = c->n_ifaces < AGENT_MAX_IFACES ? c->n_ifaces : AGENT_MAX_IFACES;
}

int agent_init(struct agent *a, struct nsflow_config *cfg, bool replay, char *err, size_t errlen)
{
	struct flow_cache_opts fo = {
		.active_ns = (uint64_t)cfg->active_timeout_s * 1000000000ULL,
		.inactive_ns = (uint64_t)cfg->inactive_timeout_s * 1000000000ULL,
		.max_entries = cfg->cache_entries,
		.counter_bits = cfg->counter_bits,
	};
	static const char *const def_url[] = { NS_SINK_DEFAULT_URL };
	const char *const *urls =
		cfg->n_collectors ? (const char *const *)cfg->collectors : def_url;
	size_t n = cfg->n_collectors ? cfg->n_collectors : 1;
	int ret;

	memset(a, 0, sizeof(*a));
	a->saved_fd = a->state_fd = -1;
	a->cfg = cfg;
	a->replay = replay;
	a->boot_to_wall_ns = replay ? 0 : boot_to_wall();
	a->ctx.boot_ms = (uint64_t)a->boot_to_wall_ns / NS_PER_MS;
	build_context(a);
	ret = flow_cache_new(&a->cache, &fo);
	if (ret) {
		snprintf(err, errlen, "flow cache of %u entries: %s", cfg->cache_entries,
			 strerror(-ret));
		return ret;
	}
	flow_cache_set_export(a->cache, export_flow, a);

	ns_export_opts_default(&a->xopts);
	a->xopts.observation_domain = cfg->observation_domain;
	a->xopts.template_refresh_packets = cfg->template_refresh_packets;
	a->xopts.template_refresh_secs = cfg->template_refresh_s;
	a->xopts.mtu = cfg->mtu;
	a->xopts.source_addr = cfg->source_address[0] ? cfg->source_address : NULL;
	a->sinks = calloc(n, sizeof(*a->sinks));
	if (!a->sinks)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ret = ns_sink_open(&a->sinks[i], urls[i], &a->xopts, &a->ctx, err, errlen);
		if (ret)
			return ret;
		a->n_sinks++;
	}
	return 0;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;

	if (size < sizeof(struct nsflow_event))
		return 0;
	flow_cache_add_event(a->cache, data, a->now_ns);
	mark_dirty(a, &((const struct nsflow_event *)data)->key);
	a->events++;
	return 0;
}

int agent_bind(struct agent *a, struct nsflow_bpf *skel, char *err, size_t errlen)
{
	int ret;

	a->skel = skel;
	a->saved_fd = bpf_map__fd(skel->maps.nsflow_saved);
	a->state_fd = bpf_map__fd(skel->maps.nsflow_agent_state);
	ret = epoch_init(&a->ep, bpf_map__fd(skel->maps.nsflow_epoch),
			 bpf_map__fd(skel->maps.nsflow_flows_0),
			 bpf_map__fd(skel->maps.nsflow_flows_1), 4096);
	if (ret) {
		snprintf(err, errlen, "flow maps: %s", strerror(-ret));
		return ret;
	}
	a->rb = ring_buffer__new(bpf_map__fd(skel->maps.nsflow_events), handle_event, a, NULL);
	if (!a->rb) {
		snprintf(err, errlen, "ring buffer: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int agent_set_cfg(struct nsflow_bpf *skel, uint32_t ifindex, uint32_t dir,
		  const struct nsflow_cfg *v)
{
	struct nsflow_cfg_key k = { .ifindex = ifindex, .direction = dir };
	__u32 slot = ifindex * 2 + dir;
	int ret;

	if (ifindex < NSFLOW_CFG_DIRECT)
		ret = bpf_map_update_elem(bpf_map__fd(skel->maps.nsflow_config_direct), &slot, v,
					  BPF_ANY);
	else
		ret = bpf_map_update_elem(bpf_map__fd(skel->maps.nsflow_config), &k, v, BPF_ANY);
	return ret ? -errno : 0;
}

int agent_write_config(struct agent *a)
{
	const struct nsflow_config *c = a->cfg;

	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct nsflow_cfg v;
		int ret;

		config_iface_cfg(c, &c->ifaces[i], &v);
		for (uint32_t dir = 0; dir < 2; dir++) {
			ret = agent_set_cfg(a->skel, c->ifaces[i].ifindex, dir, &v);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static void merge_flow(void *arg, const struct nsflow_key *k, const struct nsflow_value *vals,
		       int ncpu)
{
	struct agent *a = arg;

	if (a->recovering) {
		struct nsflow_saved sv;

		/* the killed agent saved this flow after merging this very epoch into it */
		if (!bpf_map_lookup_elem(a->saved_fd, k, &sv) && sv.serial == a->serial)
			return;
	}
	flow_cache_merge(a->cache, k, vals, ncpu, a->now_ns);
	mark_dirty(a, k);
}

/*
 * Mirrors every flow merged or exported this poll into the pinned nsflow_saved map, tagged
 * with the epoch just merged: an entry there is always a state the cache really had, and its
 * tag tells a successor whether the retired epoch is already in it.
 */
static void agent_persist(struct agent *a)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 n;

	if (a->replay || a->saved_fd < 0 || !a->n_dirty)
		return;
	for (size_t i = 0; i < a->n_dirty; i++) {
		const struct flow_entry *e = flow_cache_find(a->cache, &a->dirty[i]);
		struct nsflow_saved *sv = &a->dirty_vals[i];

		memset(sv, 0, sizeof(*sv));
		sv->serial = a->serial;
		if (!e) {
			sv->removed = 1;
			continue;
		}
		sv->val = e->val;
		sv->created_ns = e->created_ns;
		sv->period_start_ns = e->period_start_ns;
		sv->last_seen_ns = e->last_seen_ns;
		sv->total_packets = e->total_packets;
		sv->total_octets = e->total_octets;
		sv->ended = e->ended;
	}
	n = (__u32)a->n_dirty;
	if (bpf_map_update_batch(a->saved_fd, a->dirty, a->dirty_vals, &n, &opts))
		pr_warn("save the flow cache (%zu flows): %s", a->n_dirty, strerror(errno));
}

/* After the retired map is empty: the tombstones of exported flows have done their job. */
static void agent_forget_removed(struct agent *a)
{
	for (size_t i = 0; i < a->n_dirty; i++)
		if (a->dirty_vals[i].removed)
			bpf_map_delete_elem(a->saved_fd, &a->dirty[i]);
	a->n_dirty = 0;
}

static void write_serial(struct agent *a)
{
	struct nsflow_agent_state st = { .serial = a->serial };
	__u32 zero = 0;

	if (!a->replay && a->state_fd >= 0)
		bpf_map_update_elem(a->state_fd, &zero, &st, BPF_ANY);
}

void agent_read_counters(struct agent *a)
{
	int ncpu = libbpf_num_possible_cpus();
	struct nsflow_counters *per = calloc(ncpu, sizeof(*per));
	__u32 zero = 0;

	if (!per)
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.nsflow_counters), &zero, per)) {
		memset(&a->dp, 0, sizeof(a->dp));
		for (int c = 0; c < ncpu; c++)
			for (int i = 0; i < NSFLOW_CNT_MAX; i++)
				a->dp.c[i] += per[c].c[i];
	}
	free(per);
	/* what the datapath could not meter is what the exporter reports as not sent */
	a->ctx.not_sent_packets = a->dp.c[NSFLOW_CNT_NOT_METERED];
	a->ctx.not_sent_octets = a->dp.c[NSFLOW_CNT_NOT_METERED_OCTETS];
	a->ctx.not_sent_flows = flow_cache_stats(a->cache)->dropped;
}

int agent_poll(struct agent *a, uint64_t now_ns)
{
	long n;
	int map_fd;

	a->now_ns = now_ns;
	if (!a->replay)
		a->boot_to_wall_ns = boot_to_wall();
	if (a->replay) {
		/* no program runs while a capture is replayed: drain the map in place */
		map_fd = a->ep.map_fd[a->ep.cur];
		n = epoch_drain(&a->ep, map_fd, merge_flow, a);
	} else {
		/* the number goes out before the switch: a successor must never see a retired
		 * epoch under the number of one already merged */
		a->serial++;
		write_serial(a);
		map_fd = epoch_switch(&a->ep);
		if (map_fd < 0) {
			pr_warn("epoch switch: %s", strerror(-map_fd));
			return map_fd;
		}
		/* read, save what was merged, and only then empty the retired map */
		n = epoch_read(&a->ep, map_fd, merge_flow, a);
	}
	if (n < 0) {
		pr_warn("drain: %s", strerror((int)-n));
		return (int)n;
	}
	a->drained_flows += n;
	ring_buffer__consume(a->rb);
	flow_cache_expire(a->cache, now_ns, export_flow, a);
	agent_read_counters(a);
	agent_persist(a);
	flush_batch(a);
	if (!a->replay) {
		epoch_drain(&a->ep, map_fd, NULL, NULL);
		agent_forget_removed(a);
	}
	for (size_t i = 0; i < a->n_sinks; i++)
		ns_sink_tick(a->sinks[i], wall_ms(a));
	a->polls++;
	return 0;
}

struct restore_ctx {
	struct agent *a;
	size_t flows;
};

void agent_recover(struct agent *a, uint64_t now_ns)
{
	struct nsflow_agent_state st = { 0 };
	struct nsflow_key k, next, *prev = NULL;
	struct nsflow_saved sv;
	size_t restored = 0;
	__u32 zero = 0;
	long n;

	a->now_ns = now_ns;
	if (!bpf_map_lookup_elem(a->state_fd, &zero, &st))
		a->serial = st.serial;
	/* the killed agent's cache, as it last saved it */
	while (!bpf_map_get_next_key(a->saved_fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(a->saved_fd, &k, &sv) || sv.removed)
			continue;
		struct flow_entry e = {
			.val = sv.val,
			.created_ns = sv.created_ns,
			.period_start_ns = sv.period_start_ns,
			.last_seen_ns = sv.last_seen_ns,
			.total_packets = sv.total_packets,
			.total_octets = sv.total_octets,
			.ended = sv.ended,
		};
		if (!flow_cache_restore(a->cache, &k, &e))
			restored++;
	}
	/* the epoch it was draining, minus what it had already saved */
	a->recovering = true;
	n = epoch_read(&a->ep, a->ep.map_fd[!a->ep.cur], merge_flow, a);
	a->recovering = false;
	agent_persist(a);
	epoch_drain(&a->ep, a->ep.map_fd[!a->ep.cur], NULL, NULL);
	agent_forget_removed(a);
	if (restored || n > 0)
		pr_info("took over %zu cached flows and %ld undrained flows from a previous agent",
			restored, n);
}

void agent_flush_all(struct agent *a, uint8_t reason)
{
	flow_cache_flush(a->cache, reason, export_flow, a);
	/* the flushed flows become tombstones before their records leave, so that a successor
	 * never exports them again; callers run right after a poll, the retired map is empty */
	agent_persist(a);
	flush_batch(a);
	if (!a->replay)
		agent_forget_removed(a);
	for (size_t i = 0; i < a->n_sinks; i++)
		ns_sink_flush(a->sinks[i], wall_ms(a));
}

void agent_close(struct agent *a)
{
	for (size_t i = 0; i < a->n_sinks; i++)
		ns_sink_close(a->sinks[i]);
	free(a->sinks);
	a->sinks = NULL;
	a->n_sinks = 0;
	ring_buffer__free(a->rb);
	a->rb = NULL;
	epoch_free(&a->ep);
	free(a->dirty);
	free(a->dirty_vals);
	a->dirty = NULL;
	a->dirty_vals = NULL;
	flow_cache_free(a->cache);
	a->cache = NULL;
}
