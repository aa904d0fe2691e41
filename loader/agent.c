// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "agent_agg.h"
#include "collector_watch.h"
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

uint64_t agent_wall_ms(const struct agent *a)
{
	return (uint64_t)((int64_t)a->now_ns + a->boot_to_wall_ns) / NS_PER_MS;
}

/*
 * Hands the outbox to every collector and empties it. Each gets only what it has not had yet
 * (a killed agent may have reached some of them): its progress is noted, by the commit hook,
 * right before its messages leave.
 */
static void agent_send(struct agent *a)
{
	uint64_t now = agent_wall_ms(a);
	struct pcache *pc = &a->pc;

	if (!pc->h->outbox_n)
		return;
	for (size_t i = 0; i < a->n_sinks; i++) {
		uint32_t from, n = pcache_sink_pending(pc, a->sink_refs[i].slot, &from);

		if (!n)
			continue;
		ns_sink_write(a->sinks[i], pc->outbox + from, n, now);
		ns_sink_flush(a->sinks[i], now);
	}
	pcache_outbox_clear(pc);
}

static void sink_committed(void *arg)
{
	struct agent_sink_ref *ref = arg;

	pcache_sink_sent(&ref->a->pc, ref->slot);
}

static void outbox_room(void *arg)
{
	struct agent *a = arg;

	a->outbox_full++;
	agent_send(a);
}

static void export_flow(void *arg, const struct flow_entry *e, uint8_t reason)
{
	struct agent *a = arg;
	struct ns_record *r;

	if (a->cfg->no_original)
		return; /* --no-original: the period ends, only its aggregates are exported */
	r = pcache_outbox_add(&a->pc);
	/* cannot happen: a transaction starts only with room for what it may export */
	if (!r) {
		pr_warn("outbox full: a record of flow period lost");
		return;
	}
	flow_entry_to_record(e, reason, a->boot_to_wall_ns, r);
	sampler_name_record(a, r, e->key.ifindex, e->key.direction);
	agent_route_record(a, r);
	agent_vpn_record(a, r);
	if (r->srh_present && a->skel) {
		struct nsflow_srh_segments segs;

		/* the segment list sits apart from the per-CPU values (IE 496) */
		if (!bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.nsflow_srh), &e->key, &segs)) {
			r->srh_segment_count = segs.count < NS_REC_SRH_SEGMENTS_MAX
						       ? segs.count
						       : NS_REC_SRH_SEGMENTS_MAX;
			memcpy(r->srh_segments, segs.seg, (size_t)r->srh_segment_count * 16);
			memcpy(r->srh_hdr, segs.hdr, sizeof(r->srh_hdr));
		}
	}
}

void agent_ifaces_changed(struct agent *a)
{
	const struct nsflow_config *c = a->cfg;

	for (size_t i = 0; i < c->n_ifaces && i < AGENT_MAX_IFACES; i++) {
		const struct config_iface *f = &c->ifaces[i];
		struct ns_iface_info *ii = &a->ifaces[i];

		ii->ifindex = f->ifindex;
		snprintf(ii->name, sizeof(ii->name), "%s", f->name);
		snprintf(ii->description, sizeof(ii->description), "nsflow on %s", f->name);
	}
	a->ctx.ifaces = a->ifaces;
	a->ctx.n_ifaces = c->n_ifaces < AGENT_MAX_IFACES ? c->n_ifaces : AGENT_MAX_IFACES;
}

/* Exporter context: samplers and interface names for the options templates. */
static void build_context(struct agent *a)
{
	sampler_build(a);
	agent_ifaces_changed(a);
}

int agent_init(struct agent *a, struct nsflow_config *cfg, bool replay, char *err, size_t errlen)
{
	static const char *const def_url[] = { NS_SINK_DEFAULT_URL };
	const char *const *urls =
		cfg->n_collectors ? (const char *const *)cfg->collectors : def_url;
	size_t n = cfg->n_collectors ? cfg->n_collectors : 1;
	int ret;

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->replay = replay;
	a->boot_to_wall_ns = replay ? 0 : boot_to_wall();
	a->ctx.boot_ms = (uint64_t)a->boot_to_wall_ns / NS_PER_MS;
	build_context(a);

	ns_export_opts_default(&a->xopts);
	a->xopts.observation_domain = cfg->observation_domain;
	a->xopts.template_refresh_packets = cfg->template_refresh_packets;
	a->xopts.template_refresh_secs = cfg->template_refresh_s;
	a->xopts.mtu = cfg->mtu;
	a->xopts.dscp = (uint8_t)cfg->export_dscp;
	a->xopts.counter_bits = cfg->counter_bits;
	if (cfg->source.ss_family == AF_INET || cfg->source.ss_family == AF_INET6) {
		const struct sockaddr_in *s4 = (const void *)&cfg->source;
		const struct sockaddr_in6 *s6 = (const void *)&cfg->source;
		bool v6 = cfg->source.ss_family == AF_INET6;

		/* the address and the port go to the sinks apart: "ADDR:PORT" resolves to nothing
		 */
		inet_ntop(cfg->source.ss_family, v6 ? (const void *)&s6->sin6_addr : &s4->sin_addr,
			  a->source_host, sizeof(a->source_host));
		a->xopts.source_addr = a->source_host;
		a->xopts.source_port = ntohs(v6 ? s6->sin6_port : s4->sin_port);
	}
	ret = agent_flex_define(cfg, err, errlen);
	if (!ret)
		ret = agent_vpn_open(a, err, errlen);
	if (ret)
		return ret;
	a->sinks = calloc(n, sizeof(*a->sinks));
	a->sink_refs = calloc(n, sizeof(*a->sink_refs));
	if (!a->sinks || !a->sink_refs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ret = ns_sink_open(&a->sinks[i], urls[i], &a->xopts, &a->ctx, err, errlen);
		if (ret)
			return ret;
		a->n_sinks++;
	}
	return agent_aggs_open(a, err, errlen);
}

/* Units of 64 bytes the nsflow_cache array needs for the configured cache. */
static uint32_t region_units(const struct nsflow_config *cfg)
{
	return (uint32_t)((pcache_bytes(cfg->cache_entries) + 63) / 64);
}

void agent_size_maps(struct nsflow_bpf *skel, const struct nsflow_config *cfg)
{
	bpf_map__set_max_entries(skel->maps.nsflow_flows_0, cfg->cache_entries);
	bpf_map__set_max_entries(skel->maps.nsflow_flows_1, cfg->cache_entries);
	bpf_map__set_max_entries(skel->maps.nsflow_cache, region_units(cfg));
}

static void txn_begin_age(void *arg)
{
	pcache_begin(arg, PCACHE_TXN_AGE, 0);
}

static void txn_touch(void *arg, struct flow_entry *e)
{
	pcache_touch(arg, e);
}

static void txn_commit(void *arg)
{
	pcache_commit(arg);
}

/* The region: the pinned array mapped, or (replay: nothing outlives the run) the heap. */
static int map_region(struct agent *a, char *err, size_t errlen)
{
	int fd = bpf_map__fd(a->skel->maps.nsflow_cache);

	a->region_bytes = (size_t)region_units(a->cfg) * 64;
	if (a->replay) {
		a->region = calloc(1, a->region_bytes);
		if (!a->region) {
			snprintf(err, errlen, "flow cache of %u entries: %s", a->cfg->cache_entries,
				 strerror(ENOMEM));
			return -ENOMEM;
		}
		return 0;
	}
	a->region = mmap(NULL, a->region_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a->region == MAP_FAILED) {
		a->region = NULL;
		snprintf(err, errlen, "map the flow cache (%zu bytes): %s", a->region_bytes,
			 strerror(errno));
		return -errno;
	}
	a->region_mapped = true;
	return 0;
}

/* One ring-buffer event, merged in a transaction that ends by moving the ring on past it. */
static void handle_event(void *arg, const void *data, uint32_t len, uint64_t next_pos)
{
	struct agent *a = arg;

	pcache_begin(&a->pc, PCACHE_TXN_EVENT, next_pos);
	if (len >= sizeof(struct nsflow_event)) {
		const struct nsflow_event *ev = data;

		flow_cache_add_event(a->cache, ev, a->now_ns);
		agent_aggs_feed_one(a, &ev->key, &ev->val);
	}
	pcache_commit(&a->pc);
	a->events++;
}

void agent_consume_events(struct agent *a)
{
	evring_consume(&a->ring, handle_event, a);
}

int agent_bind(struct agent *a, struct nsflow_bpf *skel, char *err, size_t errlen)
{
	const struct nsflow_config *cfg = a->cfg;
	struct flow_cache_opts fo = {
		.active_ns = (uint64_t)cfg->active_timeout_s * 1000000000ULL,
		.inactive_ns = (uint64_t)cfg->inactive_timeout_s * 1000000000ULL,
		.max_entries = cfg->cache_entries,
		.counter_bits = cfg->counter_bits,
	};
	struct flow_cache_txn txn = {
		.begin = txn_begin_age,
		.touch = txn_touch,
		.commit = txn_commit,
		.arg = &a->pc,
	};
	int ret;

	a->skel = skel;
	ret = epoch_init(&a->ep, bpf_map__fd(skel->maps.nsflow_epoch),
			 bpf_map__fd(skel->maps.nsflow_flows_0),
			 bpf_map__fd(skel->maps.nsflow_flows_1), PCACHE_BATCH);
	if (ret) {
		snprintf(err, errlen, "flow tables: %s", strerror(-ret));
		return ret;
	}
	ret = map_region(a, err, errlen);
	if (ret)
		return ret;
	ret = pcache_open(&a->pc, a->region, a->region_bytes, cfg->cache_entries, err, errlen);
	if (ret < 0)
		return ret;
	a->took_over = ret == 1;
	a->pc.need_room = outbox_room;
	a->pc.room_arg = a;
	fo.pool = a->pc.pool;
	ret = flow_cache_new(&a->cache, &fo);
	if (ret) {
		snprintf(err, errlen, "flow cache of %u entries: %s", cfg->cache_entries,
			 strerror(-ret));
		return ret;
	}
	flow_cache_set_export(a->cache, export_flow, a);
	flow_cache_set_txn(a->cache, &txn);
	ret = evring_open(&a->ring, bpf_map__fd(skel->maps.nsflow_events));
	if (ret) {
		snprintf(err, errlen, "ring buffer: %s", strerror(-ret));
		return ret;
	}
	a->pc.ring_consumer = a->ring.consumer;
	/* an event merged and committed whose ring position was not stored yet */
	if (a->pc.event_pos > *a->ring.consumer)
		__atomic_store_n(a->ring.consumer, a->pc.event_pos, __ATOMIC_RELEASE);
	for (size_t i = 0; i < a->n_sinks; i++) {
		a->sink_refs[i] = (struct agent_sink_ref){ .a = a, .slot = -1 };
		a->sink_refs[i].slot = pcache_sink_slot(&a->pc, ns_sink_url(a->sinks[i]));
		if (a->sink_refs[i].slot < 0)
			pr_warn("%s: more than %d collectors, its records are not kept across a "
				"restart",
				ns_sink_url(a->sinks[i]), PCACHE_SINKS);
		ns_sink_set_commit(a->sinks[i], sink_committed, &a->sink_refs[i]);
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

int agent_write_iface_config(struct agent *a, size_t i)
{
	const struct nsflow_config *c = a->cfg;
	struct nsflow_cfg v;
	int ret = 0;

	config_iface_cfg(c, &c->ifaces[i], &v);
	for (uint32_t dir = 0; dir < 2 && !ret; dir++)
		ret = agent_set_cfg(a->skel, c->ifaces[i].ifindex, dir, &v);
	return ret;
}

int agent_write_config(struct agent *a)
{
	for (size_t i = 0; i < a->cfg->n_ifaces; i++) {
		int ret = a->cfg->ifaces[i].gone ? 0 : agent_write_iface_config(a, i);

		if (ret)
			return ret;
	}
	return 0;
}

/* Drains a retired table (or, replaying, the current one) into the cache, batch by batch, each
 * entry merged in a transaction of its own. */
static long drain(struct agent *a, int map_fd, bool aggregate)
{
	struct pcache *pc = &a->pc;
	long total = 0, n;

	pcache_drain_start(pc);
	do {
		n = pcache_take_batch(pc, map_fd);
		if (n < 0)
			return n;
		if (aggregate && pc->jb->out_batch != EPOCH_BATCH_NONE)
			agent_aggs_feed(a, pc->jkeys, pc->jvals,
					pc->jb->attr.batch.count < PCACHE_BATCH
						? pc->jb->attr.batch.count
						: PCACHE_BATCH);
		pcache_apply_batch(pc, a->cache, a->now_ns);
		total += n;
	} while (!pc->jb->done);
	return total;
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
	uint64_t t0 = agent_clock_ns();
	long n;
	int map_fd;

	a->now_ns = now_ns;
	if (!a->replay)
		a->boot_to_wall_ns = boot_to_wall();
	if (a->replay) {
		/* no program runs while a capture is replayed: drain the table in place */
		map_fd = a->ep.map_fd[a->ep.cur];
	} else {
		map_fd = epoch_switch(&a->ep);
		if (map_fd < 0) {
			pr_warn("epoch switch: %s", strerror(-map_fd));
			return map_fd;
		}
	}
	n = drain(a, map_fd, true);
	if (n < 0) {
		pr_warn("drain: %s", strerror((int)-n));
		return (int)n;
	}
	a->drained_flows += n;
	agent_consume_events(a);
	agent_vpn_poll(a);
	/* the rates of what is exported now, announced before it */
	sampler_measure(a);
	flow_cache_expire(a->cache, now_ns, export_flow, a);
	agent_read_counters(a);
	agent_send(a);
	agent_aggs_expire(a);
	for (size_t i = 0; i < a->n_sinks; i++)
		ns_sink_tick(a->sinks[i], agent_wall_ms(a));
	collectors_watch(a, agent_wall_ms(a));
	a->polls++;
	a->last_poll_end_ns = agent_clock_ns();
	a->last_poll_ns = a->last_poll_end_ns - t0;
	return 0;
}

void agent_recover(struct agent *a, uint64_t now_ns)
{
	size_t cached = flow_cache_count(a->cache), merged;
	long n;

	a->now_ns = now_ns;
	/* the batch it was merging, the records it was sending, the table it was draining */
	merged = pcache_apply_batch(&a->pc, a->cache, now_ns);
	agent_send(a);
	/* the aggregation caches start empty: a half-merged period is not theirs to finish */
	n = drain(a, epoch_retired_fd(&a->ep), false);
	if (n > 0)
		a->drained_flows += n;
	agent_consume_events(a);
	agent_send(a);
	if (a->took_over)
		pr_info("took over %zu cached flows, %zu entries of a half-merged batch and %ld "
			"undrained entries from a previous agent%s",
			cached, merged, n > 0 ? n : 0,
			a->pc.rolled_back ? " (its last change undone)" : "");
}

void agent_flush_all(struct agent *a, uint8_t reason)
{
	sampler_measure(a);
	flow_cache_flush(a->cache, reason, export_flow, a);
	agent_send(a);
	agent_aggs_flush(a, reason);
	for (size_t i = 0; i < a->n_sinks; i++)
		ns_sink_flush(a->sinks[i], agent_wall_ms(a));
}

/* The kernel's own accounting of a map's memory (fdinfo memlock). */
static uint64_t map_memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static uint64_t self_rss(void)
{
	unsigned long long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

void agent_memory(struct agent *a, struct agent_memory *m)
{
	struct bpf_map *map;

	memset(m, 0, sizeof(*m));
	if (a->skel)
		bpf_object__for_each_map(map, a->skel->obj)
		{
			if (map == a->skel->maps.nsflow_cache || bpf_map__fd(map) < 0)
				continue;
			m->kernel += map_memlock(bpf_map__fd(map));
		}
	m->region = a->region_bytes;
	m->index = flow_cache_index_bytes(a->cfg->cache_entries);
	m->rss = self_rss();
	m->aggregation = agent_aggs_bytes(a);
}

void agent_close(struct agent *a)
{
	collectors_finish(a, agent_wall_ms(a));
	agent_aggs_close(a);
	agent_vpn_close(a);
	for (size_t i = 0; i < a->n_sinks; i++)
		ns_sink_close(a->sinks[i]);
	free(a->sinks);
	free(a->sink_refs);
	a->sinks = NULL;
	a->sink_refs = NULL;
	a->n_sinks = 0;
	evring_close(&a->ring);
	epoch_free(&a->ep);
	flow_cache_free(a->cache);
	a->cache = NULL;
	if (a->region_mapped)
		munmap(a->region, a->region_bytes);
	else
		free(a->region);
	a->region = NULL;
}
