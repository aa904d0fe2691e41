// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's side of the budget, each figure beside its floor, measured in the same run:
 *
 * - drain time of N flows (64k, 256k) spread over every CPU's slot of the per-CPU map: the
 *   epoch switch, the batch lookup-and-delete and the merge into the flow cache, as a poll
 *   does them, for flows new to the cache and for flows it already holds; then a whole
 *   agent_poll() (which also mirrors the cache into its pinned copy). The floor is a plain
 *   bpf_map_lookup_batch() of the same map, without the cache.
 *
 * - packets per second the live-frames generator pushes through a veth pair (namespaces of its
 *   own) into the receiving end with the agent, `build/nsflow run`, attached there, against
 *   build/floor.bpf.o's floor_xdp attached instead; and the share of the delivered packets
 *   the agent's export accounts for.
 *
 * Figures only, no assertion on timing. Run from the top directory as root (`make bench`).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "epoch.h"
#include "flow_cache.h"
#include "livegen.h"
#include "netns.h"

#define BATCH	      4096
#define ROUNDS	      3
#define LIVE_N	      4000000
#define LIVE_FLOWS    4096
#define PERCPU_STRIDE ((sizeof(struct nsflow_value) + 7) & ~7UL)

static int ncpu;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int quiet(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	return lvl == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Flow i: an IPv4/UDP five-tuple of its own, seen by CPU i % ncpu, stamped now. */
static void make_flows(uint32_t n, struct nsflow_key **keys, void **vals)
{
	uint64_t t = agent_clock_ns();

	*keys = calloc(n, sizeof(**keys));
	*vals = calloc((size_t)n * ncpu, PERCPU_STRIDE);
	if (!*keys || !*vals) {
		fprintf(stderr, "out of memory for %u flows\n", n);
		exit(1);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct nsflow_key *k = &(*keys)[i];
		struct nsflow_value *v =
			(void *)((char *)*vals + ((size_t)i * ncpu + i % ncpu) * PERCPU_STRIDE);

		k->ifindex = 1;
		k->ip_version = 4;
		k->protocol = 17;
		k->src_addr[10] = k->src_addr[11] = 0xff;
		k->src_addr[12] = 10;
		k->src_addr[13] = (uint8_t)(i >> 16);
		k->src_addr[14] = (uint8_t)(i >> 8);
		k->src_addr[15] = (uint8_t)i;
		k->dst_addr[10] = k->dst_addr[11] = 0xff;
		k->dst_addr[12] = 10;
		k->dst_addr[15] = 1;
		k->src_port = (uint16_t)(1024 + i % 60000);
		k->dst_port = 53;
		v->packets = 10;
		v->octets = 640;
		v->first_ns = t;
		v->last_ns = t;
		v->min_ttl = v->max_ttl = 64;
		v->min_len = v->max_len = 64;
	}
}

static void fill(int map_fd, uint32_t n, struct nsflow_key *keys, void *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	for (uint32_t i = 0; i < n; i += BATCH) {
		__u32 cnt = n - i < BATCH ? n - i : BATCH;

		if (bpf_map_update_batch(map_fd, &keys[i],
					 (char *)vals + (size_t)i * ncpu * PERCPU_STRIDE, &cnt,
					 &opts)) {
			fprintf(stderr, "fill the flow map: %s\n", strerror(errno));
			exit(1);
		}
	}
}

static struct nsflow_bpf *open_skel(uint32_t n)
{
	struct nsflow_bpf *s = nsflow_bpf__open();

	if (!s) {
		fprintf(stderr, "open the datapath object: %s (root?)\n", strerror(errno));
		exit(1);
	}
	bpf_map__set_max_entries(s->maps.nsflow_flows_0, n);
	bpf_map__set_max_entries(s->maps.nsflow_flows_1, n);
	bpf_map__set_max_entries(s->maps.nsflow_saved, n * 2);
	if (nsflow_bpf__load(s)) {
		fprintf(stderr, "load the datapath object: %s\n", strerror(errno));
		exit(1);
	}
	return s;
}

static void merge(void *arg, const struct nsflow_key *k, const struct nsflow_value *vals, int n)
{
	flow_cache_merge(arg, k, vals, n, agent_clock_ns());
}

/* Whole map with plain batch lookups, nothing deleted, nothing merged. */
static double floor_read(int map_fd, uint32_t n)
{
	struct nsflow_key *k = calloc(BATCH, sizeof(*k));
	void *v = calloc((size_t)BATCH * ncpu, PERCPU_STRIDE);
	__u64 in = 0, out = 0;
	uint64_t got = 0;
	double t0 = now_ms(), t;

	for (void *pin = NULL;;) {
		__u32 cnt = BATCH;
		int err = bpf_map_lookup_batch(map_fd, pin, &out, k, v, &cnt, NULL);

		got += cnt;
		if (err)
			break;
		in = out;
		pin = &in;
	}
	t = now_ms() - t0;
	if (got != n)
		fprintf(stderr, "floor read %llu of %u flows\n", (unsigned long long)got, n);
	free(k);
	free(v);
	return t;
}

static void bench_drain(uint32_t n)
{
	struct nsflow_key *keys;
	void *vals;
	struct nsflow_bpf *s = open_skel(n);
	struct nsflow_epoch ep;
	struct flow_cache *cache;
	struct flow_cache_opts fo = { .active_ns = 1800000000000ULL,
				      .inactive_ns = 30000000000ULL,
				      .max_entries = n,
				      .counter_bits = 64 };
	double cold = 1e18, warm = 1e18, flo = 1e18, poll_cold = 1e18, poll_warm = 1e18;

	make_flows(n, &keys, &vals);
	for (int r = 0; r < ROUNDS; r++) {
		double t0;
		long got;
		int old;

		if (epoch_init(&ep, bpf_map__fd(s->maps.nsflow_epoch),
			       bpf_map__fd(s->maps.nsflow_flows_0),
			       bpf_map__fd(s->maps.nsflow_flows_1), BATCH) ||
		    flow_cache_new(&cache, &fo)) {
			fprintf(stderr, "epoch/cache setup failed\n");
			exit(1);
		}
		/* new flows: the cache starts empty */
		fill(ep.map_fd[ep.cur], n, keys, vals);
		t0 = now_ms();
		old = epoch_switch(&ep);
		got = epoch_drain(&ep, old, merge, cache);
		t0 = now_ms() - t0;
		if (got != (long)n)
			fprintf(stderr, "drained %ld of %u flows\n", got, n);
		if (t0 < cold)
			cold = t0;
		/* known flows: the same keys again, merged into what the cache holds */
		fill(ep.map_fd[ep.cur], n, keys, vals);
		t0 = now_ms();
		old = epoch_switch(&ep);
		epoch_drain(&ep, old, merge, cache);
		t0 = now_ms() - t0;
		if (t0 < warm)
			warm = t0;
		/* the floor: read the same map, full, without the cache */
		fill(ep.map_fd[ep.cur], n, keys, vals);
		t0 = floor_read(ep.map_fd[ep.cur], n);
		if (t0 < flo)
			flo = t0;
		epoch_drain(&ep, ep.map_fd[ep.cur], NULL, NULL);
		flow_cache_free(cache);
		epoch_free(&ep);
	}
	nsflow_bpf__destroy(s);

	/* the agent's whole poll, cache persistence included */
	for (int r = 0; r < ROUNDS; r++) {
		struct nsflow_config cfg;
		struct agent a;
		char err[256];
		double t0;

		s = open_skel(n);
		config_init(&cfg);
		cfg.cache_entries = n;
		cfg.collectors = calloc(1, sizeof(char *));
		cfg.collectors[0] = strdup("json:/dev/null");
		cfg.n_collectors = 1;
		if (agent_init(&a, &cfg, false, err, sizeof(err)) ||
		    agent_bind(&a, s, err, sizeof(err))) {
			fprintf(stderr, "agent: %s\n", err);
			exit(1);
		}
		fill(a.ep.map_fd[a.ep.cur], n, keys, vals);
		t0 = now_ms();
		agent_poll(&a, agent_clock_ns());
		t0 = now_ms() - t0;
		if (t0 < poll_cold)
			poll_cold = t0;
		fill(a.ep.map_fd[a.ep.cur], n, keys, vals);
		t0 = now_ms();
		agent_poll(&a, agent_clock_ns());
		t0 = now_ms() - t0;
		if (t0 < poll_warm)
			poll_warm = t0;
		if (flow_cache_count(a.cache) != n)
			fprintf(stderr, "agent_poll: %zu flows in the cache, want %u\n",
				flow_cache_count(a.cache), n);
		agent_close(&a);
		config_free(&cfg);
		nsflow_bpf__destroy(s);
	}
	printf("drain %u flows: %.1f ms (floor batch read %.1f ms); new to the cache %.1f ms; "
	       "whole agent_poll %.1f ms (new flows %.1f ms); %.0f ns/flow over the floor\n",
	       n, warm, flo, cold, poll_warm, poll_cold, (warm - flo) * 1e6 / n);
	free(keys);
	free(vals);
}

/* --- live frames through a veth pair --- */

struct live {
	double mpps;
	uint64_t sent, delivered, dropped, accounted;
};

static int send_best(struct livegen *g, const struct netns_pair *p, struct live *l)
{
	for (int r = 0; r < ROUNDS; r++) {
		struct livegen_delivery d;
		int ret = livegen_send_pair(g, p, LIVE_N, 0, 5000, &d);
		double mpps = d.sent / (d.ns / 1e3);

		if (ret) {
			fprintf(stderr,
				"live frames: %s (sent %llu, delivered %llu, dropped %llu)\n",
				strerror(-ret), (unsigned long long)d.sent,
				(unsigned long long)d.delivered, (unsigned long long)d.dropped);
			return ret;
		}
		if (mpps > l->mpps)
			l->mpps = mpps;
		l->sent += d.sent;
		l->delivered += d.delivered;
		l->dropped += d.dropped;
	}
	return 0;
}

static int live_floor(struct livegen *g, const struct netns_pair *p, struct live *l)
{
	struct bpf_object *o = bpf_object__open_file("build/floor.bpf.o", NULL);
	int fd, saved, ret;

	if (!o || bpf_object__load(o)) {
		fprintf(stderr, "load build/floor.bpf.o failed\n");
		return -ENOENT;
	}
	fd = bpf_program__fd(bpf_object__find_program_by_name(o, "floor_xdp"));
	saved = netns_enter(p->ns_rx);
	ret = bpf_xdp_attach(p->rx_ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	netns_leave(saved);
	if (ret) {
		fprintf(stderr, "attach floor_xdp to %s: %s\n", p->rx, strerror(-ret));
		bpf_object__close(o);
		return ret;
	}
	ret = send_best(g, p, l);
	saved = netns_enter(p->ns_rx);
	bpf_xdp_detach(p->rx_ifindex, XDP_FLAGS_DRV_MODE, NULL);
	netns_leave(saved);
	bpf_object__close(o);
	return ret;
}

static int live_nsflow(struct livegen *g, const struct netns_pair *p, struct live *l)
{
	char json[96], url[104], pin[64];
	const char *args[] = { "-i",  p->rx,	   "-c", url, "--poll-interval",
			       "200", "--pin-dir", pin,	 NULL };
	struct netns_agent a = { 0 };
	struct lg_records rs = { 0 };
	struct livegen_tally t;
	int ret, st;

	snprintf(json, sizeof(json), "/tmp/" NETNS_PREFIX "-bench-%d.json", getpid());
	snprintf(url, sizeof(url), "json:%s", json);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/" NETNS_PREFIX "-bench-%d", getpid());
	ret = netns_agent_start(&a, p->ns_rx, 15000, args);
	if (ret)
		return ret;
	ret = send_best(g, p, l);
	st = netns_agent_stop(&a, SIGTERM, 30000);
	if (st)
		netns_agent_dump_log(&a);
	unlink(a.log);
	if (!ret && !lg_read_json(json, &rs) && !livegen_tally(g, &rs, &t)) {
		l->accounted = t.packets;
		livegen_tally_free(&t);
	}
	lg_records_free(&rs);
	unlink(json);
	return ret ? ret : st;
}

static void bench_live(void)
{
	struct livegen_opts o = { .flows = LIVE_FLOWS, .ip_len = 64 };
	struct live ns = { 0 }, fl = { 0 };
	struct netns_pair p;
	struct livegen *g;
	int lock = nsflow_e2e_lock(240000), ret;

	if (lock < 0) {
		fprintf(stderr, "live frames: no e2e lock (%s)\n", strerror(-lock));
		exit(1);
	}
	netns_cleanup_stale();
	if (netns_pair_create(&p, 'b') || livegen_open(&g, &o)) {
		fprintf(stderr, "live frames: no veth pair or generator\n");
		netns_pair_destroy(&p);
		exit(1);
	}
	ret = live_floor(g, &p, &fl);
	if (!ret)
		ret = live_nsflow(g, &p, &ns);
	livegen_close(g);
	netns_pair_destroy(&p);
	nsflow_e2e_unlock(lock);
	if (ret) {
		fprintf(stderr, "live frames: %s\n", strerror(-ret));
		exit(1);
	}
	printf("live frames (%u flows, 64-byte IP packets, best of %d x %u): nsflow %.2f Mpps, "
	       "floor %.2f Mpps, accounted %.2f%% (%llu of %llu delivered, %llu dropped by the "
	       "veth ring)\n",
	       LIVE_FLOWS, ROUNDS, LIVE_N, ns.mpps, fl.mpps,
	       ns.delivered ? 100.0 * ns.accounted / ns.delivered : 0.0,
	       (unsigned long long)ns.accounted, (unsigned long long)ns.delivered,
	       (unsigned long long)ns.dropped);
}

int main(void)
{
	libbpf_set_print(quiet);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		fprintf(stderr, "possible CPUs: %s\n", strerror(-ncpu));
		return 1;
	}
	bench_drain(65536);
	bench_drain(262144);
	bench_live();
	return 0;
}
