// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's side of the budget, each figure beside its floor, measured in the same run
 * (memory per flow is bench_memory's):
 *
 * - one agent_poll() of N active flows (64k, 256k, 1M), everything included: the epoch
 *   switch, the drain batches the kernel writes into the region, the merge (a transaction per
 *   entry), aging, the outbox and the sinks. The flows sit in the current epoch table with one
 *   CPU's entry each, then with two (a flow whose packets hit two CPUs); once new to the
 *   cache, once already in it. The floor: a plain bpf_map_lookup_batch() of the same table,
 *   nothing deleted, nothing merged. Timeouts are long, so nothing ages out; then, apart, one
 *   poll where all N flows age out and go to an IPFIX collector over UDP (a socket of ours,
 *   drained by a thread).
 *
 * - frames per second the live-frames generator pushes through a veth pair (namespaces of its
 *   own) into the receiving end with the agent, `build/nsflow run`, attached there, against
 *   build/floor.bpf.o's floor_xdp attached instead, over 100k flows; and the share of the
 *   delivered frames found in the agent's export.
 *
 * Figures only, no assertion on timing. Run from the top directory as root (`make bench`).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "agg.h"
#include "config.h"
#include "livegen.h"
#include "netns.h"

#define BATCH	      4096
#define GOAL_POLL_MS  100.0 /* at 256k flows */
#define GOAL_N	      262144u
#define LIVE_ROUNDS   3
#define LIVE_N	      4000000 /* frames per round, half from each generator */
#define LIVE_FLOWS    100000  /* over two generators: a source port range holds 64k */
#define LIVE_GOAL_PCT 85.0
#define NS_PER_S      1000000000ULL

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

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_agent: %s: %s\n", what, why);
	exit(1);
}

/* Settings as `nsflow run` parses them: one collector, timeouts that keep every flow. */
static void make_config_with(struct nsflow_config *cfg, uint32_t entries, const char *url,
			     char *const extra[])
{
	char n[16], err[256];
	char *argv[32] = { "run",	"-c",
			   (char *)url, "--cache-entries",
			   n,		"--active-timeout",
			   "3600",	"--inactive-timeout",
			   "600",	NULL };
	int argc = 9;

	for (int i = 0; extra && extra[i] && argc < 31; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	snprintf(n, sizeof(n), "%u", entries);
	config_init(cfg);
	if (config_parse_args(cfg, argc, argv, err, sizeof(err)) ||
	    config_validate_aggs(cfg, err, sizeof(err)))
		die("settings", err);
}

static void make_config(struct nsflow_config *cfg, uint32_t entries, const char *url)
{
	make_config_with(cfg, entries, url, NULL);
}

/*
 * N flows, each an IPv4/UDP five-tuple of its own, as `cpus` entries (flow i on CPUs i, i + 1
 * ... modulo the CPUs), stamped now.
 */
static void make_slots(uint32_t n, int cpus, struct nsflow_slot_key **keys,
		       struct nsflow_value **vals)
{
	uint64_t t = agent_clock_ns();
	size_t e = (size_t)n * cpus;

	*keys = calloc(e, sizeof(**keys));
	*vals = calloc(e, sizeof(**vals));
	if (!*keys || !*vals)
		die("flows", strerror(ENOMEM));
	for (size_t j = 0; j < e; j++) {
		uint32_t i = (uint32_t)(j / cpus);
		struct nsflow_key *k = &(*keys)[j].flow;
		struct nsflow_value *v = &(*vals)[j];

		(*keys)[j].cpu = (uint32_t)((i + j % cpus) % ncpu);
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
		v->first_ns = v->last_ns = t;
		v->min_ttl = v->max_ttl = 64;
		v->min_len = v->max_len = 64;
	}
}

static void fill(int fd, size_t n, struct nsflow_slot_key *keys, struct nsflow_value *vals)
{
	for (size_t i = 0; i < n; i += BATCH) {
		__u32 cnt = n - i < BATCH ? (__u32)(n - i) : BATCH;

		if (bpf_map_update_batch(fd, &keys[i], &vals[i], &cnt, NULL))
			die("fill the epoch table", strerror(errno));
	}
}

/* The floor: the whole table with plain batch lookups, nothing deleted, nothing merged. */
static double floor_read(int fd, size_t n)
{
	static struct nsflow_slot_key k[BATCH];
	static struct nsflow_value v[BATCH];
	__u64 in = 0, out = 0;
	size_t got = 0;
	double t0 = now_ms(), t;

	for (void *pin = NULL;;) {
		__u32 cnt = BATCH;
		int err = bpf_map_lookup_batch(fd, pin, &out, k, v, &cnt, NULL);

		got += cnt;
		if (err)
			break;
		in = out;
		pin = &in;
	}
	t = now_ms() - t0;
	if (got != n)
		fprintf(stderr, "bench_agent: floor read %zu of %zu entries\n", got, n);
	return t;
}

static struct nsflow_bpf *load(const struct nsflow_config *cfg)
{
	struct nsflow_bpf *s = nsflow_bpf__open();

	if (!s)
		die("open the datapath object (root?)", strerror(errno));
	agent_size_maps(s, cfg);
	if (nsflow_bpf__load(s))
		die("load the datapath object", strerror(errno));
	return s;
}

/* A new agent on s, its region emptied first: a cache that holds no flow. */
static void agent_fresh(struct agent *a, struct nsflow_config *cfg, struct nsflow_bpf *s)
{
	size_t len = (size_t)bpf_map__max_entries(s->maps.nsflow_cache) * 64;
	char err[256];
	void *r;

	r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(s->maps.nsflow_cache),
		 0);
	if (r == MAP_FAILED)
		die("map the region", strerror(errno));
	memset(r, 0, len);
	munmap(r, len);
	if (agent_init(a, cfg, false, err, sizeof(err)) || agent_bind(a, s, err, sizeof(err)))
		die("agent", err);
}

static double timed_poll(struct agent *a, uint64_t now_ns)
{
	double t0 = now_ms();

	if (agent_poll(a, now_ns))
		die("agent_poll", "failed");
	return now_ms() - t0;
}

/* An IPFIX collector that only counts: a UDP socket drained by a thread. */
struct collector {
	int fd;
	uint16_t port;
	volatile int stop;
	volatile uint64_t datagrams, bytes;
	pthread_t th;
};

static void *collector_run(void *arg)
{
	struct collector *c = arg;
	static char buf[64][2048];
	struct mmsghdr m[64];
	struct iovec iov[64];

	for (int i = 0; i < 64; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (!c->stop) {
		int n = recvmmsg(c->fd, m, 64, MSG_DONTWAIT, NULL);

		if (n <= 0) {
			usleep(200);
			continue;
		}
		for (int i = 0; i < n; i++)
			c->bytes += m[i].msg_len;
		c->datagrams += n;
	}
	return NULL;
}

static void collector_open(struct collector *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int big = 512 << 20;

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (c->fd < 0 || setsockopt(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) ||
	    bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(c->fd, (struct sockaddr *)&sa, &len))
		die("collector socket", strerror(errno));
	c->port = ntohs(sa.sin_port);
	pthread_create(&c->th, NULL, collector_run, c);
}

/* Waits until nothing has come for 200 ms, then stops the thread. */
static void collector_close(struct collector *c)
{
	uint64_t last = ~0ULL;

	while (last != c->datagrams) {
		last = c->datagrams;
		usleep(200000);
	}
	c->stop = 1;
	pthread_join(c->th, NULL);
	close(c->fd);
}

/* One poll of n flows on `cpus` CPUs each: new to the cache, then known; best of rounds. */
static void bench_poll(uint32_t n, int cpus, int rounds, bool full_export)
{
	size_t e = (size_t)n * cpus;
	uint32_t entries = e > NSFLOW_DEFAULT_ENTRIES ? (uint32_t)e : NSFLOW_DEFAULT_ENTRIES;
	double cold = 1e18, warm = 1e18, flo = 1e18, t;
	struct nsflow_slot_key *keys;
	struct nsflow_value *vals;
	struct nsflow_config cfg;
	struct nsflow_bpf *s;
	struct agent a;

	make_config(&cfg, entries, "json:/dev/null");
	s = load(&cfg);
	make_slots(n, cpus, &keys, &vals);
	for (int r = 0; r < rounds; r++) {
		agent_fresh(&a, &cfg, s);
		fill(a.ep.map_fd[a.ep.cur], e, keys, vals);
		t = floor_read(a.ep.map_fd[a.ep.cur], e);
		flo = t < flo ? t : flo;
		t = timed_poll(&a, agent_clock_ns());
		cold = t < cold ? t : cold;
		fill(a.ep.map_fd[a.ep.cur], e, keys, vals);
		t = floor_read(a.ep.map_fd[a.ep.cur], e);
		flo = t < flo ? t : flo;
		t = timed_poll(&a, agent_clock_ns());
		warm = t < warm ? t : warm;
		if (flow_cache_count(a.cache) != n || flow_cache_stats(a.cache)->exported)
			fprintf(stderr, "bench_agent: %zu flows cached (want %u), %llu exported\n",
				flow_cache_count(a.cache), n,
				(unsigned long long)flow_cache_stats(a.cache)->exported);
		agent_close(&a);
	}
	printf("poll of %7u flows x %d CPU (%zu entries, --cache-entries %u, best of %d): new to "
	       "the cache %7.1f ms, known %7.1f ms; floor batch read %6.1f ms; %4.0f / %4.0f "
	       "ns per entry over the floor",
	       n, cpus, e, entries, rounds, cold, warm, flo, (cold - flo) * 1e6 / e,
	       (warm - flo) * 1e6 / e);
	if (n == GOAL_N)
		printf(" [goal <= %.0f ms at %u flows: %s]", GOAL_POLL_MS, GOAL_N,
		       cold <= GOAL_POLL_MS && warm <= GOAL_POLL_MS ? "met" : "GOAL MISSED");
	printf("\n");

	if (full_export) {
		/* apart: one poll that drains them and ages every one out, to IPFIX over UDP */
		struct ns_sink_stats st;
		struct collector c;
		char url[64];

		collector_open(&c);
		snprintf(url, sizeof(url), "ipfix://127.0.0.1:%u", c.port);
		config_free(&cfg);
		make_config(&cfg, entries, url);
		agent_fresh(&a, &cfg, s);
		fill(a.ep.map_fd[a.ep.cur], e, keys, vals);
		timed_poll(&a, agent_clock_ns());
		fill(a.ep.map_fd[a.ep.cur], e, keys, vals);
		t = timed_poll(&a, agent_clock_ns() + 601 * NS_PER_S);
		collector_close(&c);
		ns_sink_get_stats(a.sinks[0], &st);
		printf("  poll with full export: %.1f ms (drain + merge of %zu entries, %llu "
		       "records "
		       "aged out, %.0f ns per record over the poll above), %llu IPFIX messages "
		       "sent, "
		       "%llu received (%.1f MB), %llu records dropped by the sink\n",
		       t, e, (unsigned long long)flow_cache_stats(a.cache)->exported,
		       (t - warm) * 1e6 / n, (unsigned long long)st.messages_sent,
		       (unsigned long long)c.datagrams, c.bytes / 1e6,
		       (unsigned long long)st.records_dropped);
		agent_close(&a);
	}
	free(keys);
	free(vals);
	nsflow_bpf__destroy(s);
	config_free(&cfg);
}

/*
 * The same warm poll of n flows with four aggregation caches (as, protocol-port,
 * source-prefix, destination-prefix; every flow its own aggregate in protocol-port) and two
 * flexible records (dports, src24) fed, beside original flows only, in the same run.
 */
static void bench_agg(uint32_t n, int rounds)
{
	static char *const aggs[] = {
		"--aggregate",
		"as:v4",
		"--aggregate",
		"protocol-port:v4",
		"--aggregate",
		"source-prefix:v4",
		"--aggregate",
		"destination-prefix:v4",
		"--record",
		"dports:v4:match=protocol,destination-port:collect=packets/32,"
		"bytes/32",
		"--record",
		"src24:v4:match=source-address/24,direction",
		"--aggregate-cache-entries",
		"1048576",
		NULL
	};
	double t[2] = { 1e18, 1e18 }, d;
	struct nsflow_slot_key *keys;
	struct nsflow_value *vals;
	struct nsflow_config cfg[2];
	struct nsflow_bpf *s;
	struct agent a;
	size_t cached = 0;

	make_config(&cfg[0], NSFLOW_DEFAULT_ENTRIES, "json:/dev/null");
	make_config_with(&cfg[1], NSFLOW_DEFAULT_ENTRIES, "json:/dev/null", aggs);
	s = load(&cfg[0]);
	make_slots(n, 1, &keys, &vals);
	for (int r = 0; r < rounds; r++)
		for (int with = 0; with < 2; with++) {
			agent_fresh(&a, &cfg[with], s);
			fill(a.ep.map_fd[a.ep.cur], n, keys, vals);
			timed_poll(&a, agent_clock_ns());
			fill(a.ep.map_fd[a.ep.cur], n, keys, vals);
			d = timed_poll(&a, agent_clock_ns());
			t[with] = d < t[with] ? d : t[with];
			if (with)
				for (size_t i = 0; i < a.n_aggs; i++)
					cached += agg_cache_count(a.aggs[i]);
			agent_close(&a);
		}
	printf("poll of %7u flows with 4 aggregation caches and 2 flexible records (best of %d): "
	       "%7.1f ms; original flows only %7.1f ms (the floor); %.0f ns per flow per cache, "
	       "%.2f Mflows/s through all six; %zu aggregates held\n",
	       n, rounds, t[1], t[0], (t[1] - t[0]) * 1e6 / n / 6, n / t[1] / 1e3,
	       cached / (size_t)rounds);
	free(keys);
	free(vals);
	nsflow_bpf__destroy(s);
	config_free(&cfg[0]);
	config_free(&cfg[1]);
}

/* --- live frames through a veth pair --- */

struct live {
	double mpps;
	uint64_t sent, delivered, dropped, accounted;
};

/* A round: half the frames from each generator (their source addresses differ). */
static int send_rounds(struct livegen *g[2], const struct netns_pair *p, struct live *l)
{
	for (int r = 0; r < LIVE_ROUNDS; r++) {
		uint64_t sent = 0, ns = 0;

		for (int i = 0; i < 2; i++) {
			struct livegen_delivery d;
			int ret = livegen_send_pair(g[i], p, LIVE_N / 2, 0, 5000, &d);

			if (ret) {
				fprintf(stderr,
					"live frames: %s (sent %llu, delivered %llu, dropped "
					"%llu)\n",
					strerror(-ret), (unsigned long long)d.sent,
					(unsigned long long)d.delivered,
					(unsigned long long)d.dropped);
				return ret;
			}
			sent += d.sent;
			ns += d.ns;
			l->sent += d.sent;
			l->delivered += d.delivered;
			l->dropped += d.dropped;
		}
		if (sent / (ns / 1e3) > l->mpps)
			l->mpps = sent / (ns / 1e3);
	}
	return 0;
}

static int live_floor(struct livegen *g[2], const struct netns_pair *p, struct live *l)
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
	ret = send_rounds(g, p, l);
	saved = netns_enter(p->ns_rx);
	bpf_xdp_detach(p->rx_ifindex, XDP_FLAGS_DRV_MODE, NULL);
	netns_leave(saved);
	bpf_object__close(o);
	return ret;
}

static int live_nsflow(struct livegen *g[2], const struct netns_pair *p, struct live *l, char *dir)
{
	char json[128], url[136], pin[64];
	const char *args[] = { "-i", p->rx, "-c", url, "--pin-dir", pin, NULL };
	struct netns_agent a = { 0 };
	struct lg_records rs = { 0 };
	int ret, st;

	snprintf(json, sizeof(json), "%s/flows.json", dir);
	snprintf(url, sizeof(url), "json:%s", json);
	/* NETNS_PREFIX-<pid>...: netns_cleanup_stale() removes it if we die */
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/" NETNS_PREFIX "-%d-bench", getpid());
	ret = netns_agent_start(&a, p->ns_rx, 15000, args);
	if (ret)
		return ret;
	ret = send_rounds(g, p, l);
	st = netns_agent_stop(&a, SIGTERM, 60000);
	if (st)
		netns_agent_dump_log(&a);
	unlink(a.log);
	rmdir(pin);
	if (!ret && !(ret = lg_read_json(json, &rs)))
		for (int i = 0; i < 2; i++) {
			struct livegen_tally t;

			if (!livegen_tally(g[i], &rs, &t)) {
				l->accounted += t.packets;
				livegen_tally_free(&t);
			}
		}
	lg_records_free(&rs);
	unlink(json);
	return ret ? ret : st;
}

static void bench_live(void)
{
	struct livegen_opts o[2] = {
		{ .flows = LIVE_FLOWS / 2, .ip_len = 64, .src = "198.18.0.1" },
		{ .flows = LIVE_FLOWS - LIVE_FLOWS / 2, .ip_len = 64, .src = "198.18.0.3" },
	};
	char dir[] = "/tmp/" NETNS_PREFIX "-bench-XXXXXX";
	struct live ns = { 0 }, fl = { 0 };
	struct livegen *g[2] = { NULL, NULL };
	struct netns_pair p;
	int lock = nsflow_e2e_lock(240000), ret;
	double share;

	if (lock < 0)
		die("live frames: the e2e lock", strerror(-lock));
	netns_cleanup_stale();
	if (!mkdtemp(dir))
		die("live frames: temp dir", strerror(errno));
	if (netns_pair_create(&p, 'B') || livegen_open(&g[0], &o[0]) ||
	    livegen_open(&g[1], &o[1])) {
		netns_pair_destroy(&p);
		rmdir(dir);
		die("live frames", "no veth pair or generator");
	}
	ret = live_floor(g, &p, &fl);
	if (!ret)
		ret = live_nsflow(g, &p, &ns, dir);
	livegen_close(g[0]);
	livegen_close(g[1]);
	netns_pair_destroy(&p);
	rmdir(dir);
	nsflow_e2e_unlock(lock);
	if (ret)
		die("live frames", strerror(-ret));
	share = ns.delivered ? 100.0 * ns.accounted / ns.delivered : 0.0;
	printf("live frames (%u flows, 64-byte IP packets, poll every 1000 ms, best of %d x %u): "
	       "nsflow %.2f Mpps, floor %.2f Mpps: %.1f%% of the floor [goal >= %.0f%%: %s]\n"
	       "  delivered frames in the exported records: %.3f%% (%llu of %llu; %llu dropped "
	       "by the veth ring) [goal 100.000%%: %s]\n",
	       LIVE_FLOWS, LIVE_ROUNDS, LIVE_N, ns.mpps, fl.mpps,
	       fl.mpps ? 100.0 * ns.mpps / fl.mpps : 0.0, LIVE_GOAL_PCT,
	       fl.mpps && 100.0 * ns.mpps / fl.mpps >= LIVE_GOAL_PCT ? "met" : "GOAL MISSED", share,
	       (unsigned long long)ns.accounted, (unsigned long long)ns.delivered,
	       (unsigned long long)ns.dropped,
	       ns.accounted == ns.delivered ? "met" : "GOAL MISSED");
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 65536, 262144, 1048576 };
	/* for a profiler: `bench_agent --no-live`, `bench_agent live`, or `bench_agent poll N
	 * CPUS [0]` alone (0: without the poll with full export) */
	bool live = argc < 2 || strcmp(argv[1], "--no-live");

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		die("possible CPUs", strerror(-ncpu));
	if (argc == 2 && !strcmp(argv[1], "live")) {
		bench_live();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "agg")) {
		bench_agg(262144, 3);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "poll")) {
		bench_poll((uint32_t)atoi(argv[2]), atoi(argv[3]), 1, argc == 4);
		return 0;
	}
	for (int cpus = 1; cpus <= 2; cpus++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			bench_poll(sizes[i], cpus, sizes[i] > GOAL_N ? 2 : 3, cpus == 1);
	bench_agg(262144, 3);
	if (live)
		bench_live();
	return 0;
}
