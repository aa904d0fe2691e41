// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `nsflow run` end to end: the agent (build/nsflow) attached to one end of a veth pair in a
 * namespace of the test's own, traffic from the live-frames generator or tcpreplay into the
 * other end, and what the agent exports (JSON lines) checked against what the receiving veth
 * counted: exact totals, per flow, across a kill -9 and restart, and against `nsflow replay` of
 * the same capture. Also the control socket, bad configurations, and other programs on the
 * interface.
 *
 * Run from the top directory, as root, one test at a time (`make test-e2e`): one agent at a
 * time on the machine, which a lock shared with the benchmark enforces.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>
#include "livegen.h"
#include "netns.h"
#include "pcap.h"
#include "pkt.h"
#include "collectors.h"

#define N_AGENTS       4
#define AGENT_START_MS 15000
#define AGENT_STOP_MS  30000
#define SETTLE_MS      5000
#define NS_END_FORCED_ 4

static struct netns_pair pair;
static struct netns_agent agent[N_AGENTS];
static char pin_dir[64];
static char json[N_AGENTS + 1][96]; /* one per agent; the last for `nsflow replay` */
static char json_url[N_AGENTS + 1][104];
static char scratch[96]; /* a capture or a config file a test writes */
static int lock_fd = -1;
static bool passed;

static void setup(void)
{
	int pid = getpid();

	lock_fd = nsflow_e2e_lock(240000);
	cr_assert(lock_fd >= 0, "no e2e lock (%s): another e2e test or benchmark is running",
		  strerror(-lock_fd));
	netns_cleanup_stale();
	cr_assert_eq(netns_pair_create(&pair, 'a'), 0, "could not make the veth pair");
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/" NETNS_PREFIX "-%d", pid);
	for (int i = 0; i <= N_AGENTS; i++) {
		snprintf(json[i], sizeof(json[i]), "/tmp/" NETNS_PREFIX "-%d-%d.json", pid, i);
		snprintf(json_url[i], sizeof(json_url[i]), "json:%.90s", json[i]);
		unlink(json[i]);
	}
	for (int i = 0; i < N_AGENTS; i++) {
		memset(&agent[i], 0, sizeof(agent[i]));
		snprintf(agent[i].log, sizeof(agent[i].log), "/tmp/" NETNS_PREFIX "-%d-agent%d.log",
			 pid, i);
	}
	snprintf(scratch, sizeof(scratch), "/tmp/" NETNS_PREFIX "-%d-scratch", pid);
	passed = false;
}

static void teardown(void)
{
	for (int i = 0; i < N_AGENTS; i++) {
		if (agent[i].pid > 0)
			netns_agent_stop(&agent[i], SIGTERM, AGENT_STOP_MS);
		if (!passed && agent[i].log[0] && !access(agent[i].log, F_OK))
			netns_agent_dump_log(&agent[i]);
	}
	/* whatever a failed test left attached, then the namespaces and all in them */
	if (pair.ns_rx[0])
		netns_sh(pair.ns_rx, NULL, "%s detach -i %s --pin-dir %s", nsflow_bin(), pair.rx,
			 pin_dir);
	netns_pair_destroy(&pair);
	netns_rm_pin_dir(pin_dir);
	for (int i = 0; i <= N_AGENTS; i++) {
		if (passed)
			unlink(json[i]);
		else if (!access(json[i], F_OK))
			fprintf(stderr, "kept %s\n", json[i]);
	}
	for (int i = 0; i < N_AGENTS; i++)
		unlink(agent[i].log);
	unlink(scratch);
	nsflow_e2e_unlock(lock_fd);
}

TestSuite(run, .init = setup, .fini = teardown);

/* `nsflow run -i RX -c json:FILE --poll-interval MS --pin-dir DIR [extra]` in the rx namespace */
static void start_agent(int i, const char *poll_ms, const char *const extra[])
{
	const char *args[32] = { "-i",	  pair.rx,     "-c",   json_url[i], "--poll-interval",
				 poll_ms, "--pin-dir", pin_dir };
	size_t n = 8;
	int ret;

	for (size_t k = 0; extra && extra[k] && n < 31; k++)
		args[n++] = extra[k];
	args[n] = NULL;
	ret = netns_agent_start(&agent[i], pair.ns_rx, AGENT_START_MS, args);
	cr_assert_eq(ret, 0, "agent %d did not start: %s", i, strerror(-ret));
}

static void stop_agent(int i)
{
	int ret = netns_agent_stop(&agent[i], SIGTERM, AGENT_STOP_MS);

	cr_assert_eq(ret, 0, "agent %d: SIGTERM should end it with status 0, got %d", i, ret);
}

static void read_records(const char *path, struct lg_records *rs)
{
	int ret = lg_read_json(path, rs);

	cr_assert_eq(ret, 0, "read %s: %s", path, strerror(-ret));
	cr_assert_eq(rs->bad_lines, 0, "%s: %zu lines that are not flow records", path,
		     rs->bad_lines);
}

static struct livegen *open_gen(int family, uint8_t proto, uint32_t flows, uint16_t base_port,
				uint16_t ip_len)
{
	struct livegen_opts o = { .family = family,
				  .proto = proto,
				  .flows = flows,
				  .base_port = base_port,
				  .ip_len = ip_len };
	struct livegen *g;
	int ret = livegen_open(&g, &o);

	cr_assert_eq(ret, 0, "livegen: %s", strerror(-ret));
	return g;
}

static void send_settled(struct livegen *g, uint64_t n, struct livegen_delivery *d)
{
	int ret = livegen_send_pair(g, &pair, n, 0, SETTLE_MS, d);

	cr_assert_eq(ret, 0,
		     "live frames: %s (sent %llu, receiver counted %llu delivered + %llu dropped "
		     "after %llu ms)",
		     strerror(-ret), (unsigned long long)d->sent, (unsigned long long)d->delivered,
		     (unsigned long long)d->dropped, (unsigned long long)d->settle_ms);
	cr_assert_eq(d->sent, n, "the generator ran %llu frames, asked for %llu",
		     (unsigned long long)d->sent, (unsigned long long)n);
	cr_assert_gt(d->delivered, 0, "nothing reached %s", pair.rx);
}

/*
 * The generator's flows in what was exported add up to `delivered` packets, each packet
 * ip_len octets; with nothing dropped on the way, every flow has exactly its share of the
 * `total` frames sent (first_sent of them before this traffic).
 */
static void check_gen_totals(const struct livegen *g, const struct lg_records *rs,
			     uint64_t first_sent, uint64_t total, uint64_t delivered, bool per_flow,
			     const char *what)
{
	const struct livegen_opts *o = livegen_opts(g);
	struct livegen_tally t;

	cr_assert_eq(livegen_tally(g, rs, &t), 0);
	cr_expect_eq(t.packets, delivered,
		     "%s: the generator's flows were exported with %llu packets, the receiver "
		     "counted %llu delivered",
		     what, (unsigned long long)t.packets, (unsigned long long)delivered);
	cr_expect_eq(t.octets, t.packets * o->ip_len,
		     "%s: %llu octets for %llu packets of %u-byte IP packets", what,
		     (unsigned long long)t.octets, (unsigned long long)t.packets, o->ip_len);
	cr_expect_eq(t.bad_octets, 0, "%s: %llu records whose octets are not packets x %u", what,
		     (unsigned long long)t.bad_octets, o->ip_len);
	for (uint32_t f = 0; per_flow && f < o->flows; f++) {
		uint64_t got = t.flow_packets[f];
		uint64_t want = livegen_flow_share(g, first_sent + total, f) -
				livegen_flow_share(g, first_sent, f);

		if (got != want) {
			livegen_tally_free(&t);
			cr_assert_fail("%s: flow %u (source port %u) exported with %llu packets, "
				       "it was sent %llu",
				       what, f, o->base_port + f, (unsigned long long)got,
				       (unsigned long long)want);
		}
	}
	livegen_tally_free(&t);
}

/* Every record: ingress on the veth, ended as asked (-1: any). */
static void check_records_meta(const struct lg_records *rs, int reason, const char *what)
{
	for (size_t i = 0; i < rs->n; i++) {
		char k[160];

		lg_key_str(&rs->r[i], k, sizeof(k));
		cr_assert_eq(rs->r[i].in_if, (uint32_t)pair.rx_ifindex,
			     "%s: record %zu (%s) has ingressInterface %u, the veth is %d", what, i,
			     k, rs->r[i].in_if, pair.rx_ifindex);
		cr_assert_eq(rs->r[i].direction, 0, "%s: record %zu (%s) is not ingress", what, i,
			     k);
		if (reason >= 0)
			cr_assert_eq(rs->r[i].reason, reason,
				     "%s: record %zu (%s) ended with reason %d, not %d", what, i, k,
				     rs->r[i].reason, reason);
	}
}

/*
 * n frames at full speed, divided by NSFLOW_LIVE_FRAMES_DIV (an emulated kernel is tens of
 * times slower) but never fewer than min; n itself when it is unset.
 */
static uint64_t live_frames(uint64_t n, uint64_t min)
{
	const char *v = getenv("NSFLOW_LIVE_FRAMES_DIV");
	uint64_t div = v ? strtoull(v, NULL, 10) : 0;

	if (div > 1)
		n /= div;
	return n < min ? min : n;
}

/*
 * 3M IPv4/UDP frames over 4096 flows and 500k IPv6/TCP frames over 512 flows, at full speed:
 * after SIGTERM the export holds exactly what reached the veth, flow by flow.
 */
Test(run, live_frames_exact_totals, .timeout = 110)
{
	struct livegen *g4 = open_gen(AF_INET, IPPROTO_UDP, 4096, 10000, 64);
	struct livegen *g6 = open_gen(AF_INET6, IPPROTO_TCP, 512, 20000, 100);
	uint64_t n4 = live_frames(3000000, 4096), n6 = live_frames(500000, 512);
	struct livegen_delivery d4, d6;
	struct lg_records rs = { 0 };

	start_agent(0, "200", NULL);
	send_settled(g4, n4, &d4);
	send_settled(g6, n6, &d6);
	stop_agent(0);

	read_records(json[0], &rs);
	cr_log_info("IPv4: %llu sent, %llu delivered, %llu dropped in %.2f s; IPv6: %llu sent, "
		    "%llu delivered, %llu dropped; %zu records",
		    (unsigned long long)d4.sent, (unsigned long long)d4.delivered,
		    (unsigned long long)d4.dropped, d4.ns / 1e9, (unsigned long long)d6.sent,
		    (unsigned long long)d6.delivered, (unsigned long long)d6.dropped, rs.n);
	check_gen_totals(g4, &rs, 0, d4.sent, d4.delivered, d4.dropped == 0, "IPv4/UDP");
	check_gen_totals(g6, &rs, 0, d6.sent, d6.delivered, d6.dropped == 0, "IPv6/TCP");
	/* nothing else crossed the veth, and no flow aged before the end */
	cr_assert_eq(rs.n, 4096 + 512, "%zu records, want one per flow (4608)", rs.n);
	check_records_meta(&rs, NS_END_FORCED_, "exit");
	lg_records_free(&rs);
	livegen_close(g4);
	livegen_close(g6);
	passed = true;
}

/* Sends in chunks on its own thread so that agents can be killed and started meanwhile. */
struct sender {
	struct livegen *g;
	uint64_t chunk;
	int chunks;
	atomic_int done; /* chunks sent */
	int err;
	struct livegen_delivery total;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;

	for (int i = 0; i < s->chunks; i++) {
		struct livegen_delivery d;

		s->err = livegen_send_pair(s->g, &pair, s->chunk, 0, SETTLE_MS, &d);
		s->total.sent += d.sent;
		s->total.delivered += d.delivered;
		s->total.dropped += d.dropped;
		if (s->err)
			break;
		atomic_fetch_add(&s->done, 1);
	}
	return NULL;
}

static void wait_chunks(struct sender *s, int n, const char *why)
{
	uint64_t end = netns_now_ms() + 60000;

	while (atomic_load(&s->done) < n && !s->err && netns_now_ms() < end)
		usleep(1000);
	cr_assert_geq(atomic_load(&s->done), n, "traffic stalled (%s) waiting for %s",
		      s->err ? strerror(-s->err) : "timeout", why);
}

/*
 * kill -9 mid-traffic, three times over: the program stays attached and keeps counting into the
 * pinned maps, the agent's cache survives in its pinned copy, and each next agent takes both
 * over; over all the exports every delivered packet is there exactly once. Before the kills,
 * `reset cache` exports the first phase: what it exported must not come back.
 */
Test(run, kill9_and_restart_lose_nothing_count_nothing_twice, .timeout = 110)
{
	/* after which chunk (of 100k frames; fewer with NSFLOW_LIVE_FRAMES_DIV) to do what, agent
	 * by agent */
	static const int start_after[N_AGENTS] = { -1, 8, 12, 20 };
	static const int kill_after[N_AGENTS] = { 4, 12, 18, -1 };
	/* other flows after the reset: a flow the reset exported must not come back */
	struct livegen *g = open_gen(AF_INET, IPPROTO_UDP, 4096, 10000, 64);
	struct livegen *g2 = open_gen(AF_INET, IPPROTO_UDP, 4096, 20000, 64);
	struct sender s = { .g = g2, .chunk = live_frames(100000, 1000), .chunks = 30 };
	struct livegen_tally t;
	struct livegen_delivery d1;
	struct lg_records rs[N_AGENTS] = { 0 }, all = { 0 };
	struct netns_link l;
	struct stat st;
	pthread_t th;
	char *out = NULL, what[64];
	uint64_t sent1;
	int ret;

	/* polls every 10 ms, so that some kills land in the middle of a poll */
	start_agent(0, "10", NULL);
	send_settled(g, live_frames(1000000, 4096), &d1);
	sent1 = d1.sent;
	ret = nsflow_ctl(&agent[0], &out, "reset cache");
	cr_assert_eq(ret, 0, "reset cache: %s", out);
	cr_assert(strstr(out, "4096 flows aged out"), "reset cache: %s", out);
	free(out);

	cr_assert_eq(pthread_create(&th, NULL, sender_main, &s), 0);
	for (int i = 0; i < N_AGENTS; i++) {
		if (i > 0) {
			snprintf(what, sizeof(what), "agent %d to start", i);
			wait_chunks(&s, start_after[i], what);
			start_agent(i, "10", NULL);
		}
		if (kill_after[i] < 0)
			break;
		snprintf(what, sizeof(what), "agent %d to be killed", i);
		wait_chunks(&s, kill_after[i], what);
		ret = netns_agent_stop(&agent[i], SIGKILL, AGENT_STOP_MS);
		cr_assert_eq(ret, 128 + SIGKILL, "agent %d did not die of SIGKILL (%d)", i, ret);
		cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &l), 0);
		cr_assert_neq(l.xdp_attached, 0,
			      "agent %d was killed: its XDP program should stay attached", i);
		cr_assert_eq(stat(pin_dir, &st), 0, "the pinned maps should outlive agent %d", i);
	}
	pthread_join(th, NULL);
	cr_assert_eq(s.err, 0, "traffic: %s (sent %llu, delivered %llu, dropped %llu)",
		     strerror(-s.err), (unsigned long long)s.total.sent,
		     (unsigned long long)s.total.delivered, (unsigned long long)s.total.dropped);
	stop_agent(N_AGENTS - 1);

	for (int i = 0; i < N_AGENTS; i++) {
		read_records(json[i], &rs[i]);
		lg_read_json(json[i], &all);
	}
	cr_log_info("phase 1: %llu delivered; phase 2: %llu sent, %llu delivered, %llu dropped; "
		    "records %zu, %zu, %zu, %zu",
		    (unsigned long long)d1.delivered, (unsigned long long)s.total.sent,
		    (unsigned long long)s.total.delivered, (unsigned long long)s.total.dropped,
		    rs[0].n, rs[1].n, rs[2].n, rs[3].n);
	/* the first agent exported phase 1 at the reset, exactly, and nothing after it */
	check_gen_totals(g, &rs[0], 0, sent1, d1.delivered, d1.dropped == 0, "first agent");
	check_records_meta(&rs[0], NS_END_FORCED_, "first agent");
	/* the killed ones exported nothing (no flow aged), the last one all of phase 2 */
	for (int i = 1; i < N_AGENTS - 1; i++)
		cr_assert_eq(rs[i].n, 0, "agent %d, killed, exported %zu records", i, rs[i].n);
	check_gen_totals(g2, &rs[N_AGENTS - 1], 0, s.total.sent, s.total.delivered,
			 s.total.dropped == 0, "last agent");
	check_records_meta(&rs[N_AGENTS - 1], NS_END_FORCED_, "last agent");
	check_gen_totals(g, &all, 0, sent1, d1.delivered, d1.dropped == 0,
			 "all agents, phase 1 (exported by reset cache)");
	check_gen_totals(g2, &all, 0, s.total.sent, s.total.delivered, s.total.dropped == 0,
			 "all agents, phase 2");
	cr_assert_eq(livegen_tally(g, &rs[N_AGENTS - 1], &t), 0);
	cr_assert_eq(t.records, 0,
		     "the last agent exported %llu records (%llu packets) of flows the first had "
		     "exported at reset cache, before the kills: counted twice",
		     (unsigned long long)t.records, (unsigned long long)t.packets);
	livegen_tally_free(&t);
	cr_assert_neq(stat(pin_dir, &st), 0, "the pinned maps should go with the last agent");
	for (int i = 0; i < N_AGENTS; i++)
		lg_records_free(&rs[i]);
	lg_records_free(&all);
	livegen_close(g);
	livegen_close(g2);
	passed = true;
}

/*
 * `reset cache` exports every flow; an agent killed right after it (before its next poll) must
 * not leave them to its successor to export a second time.
 */
Test(run, kill9_right_after_reset_cache_exports_nothing_twice, .timeout = 60)
{
	struct livegen *g = open_gen(AF_INET, IPPROTO_UDP, 1024, 10000, 64);
	struct livegen_delivery d;
	struct livegen_tally t;
	struct lg_records r0 = { 0 }, r1 = { 0 };
	char *out = NULL;
	int ret;

	/* no poll of its own during the test: only the reset drains */
	start_agent(0, "60000", NULL);
	send_settled(g, 200000, &d);
	ret = nsflow_ctl(&agent[0], &out, "reset cache");
	cr_assert_eq(ret, 0, "reset cache: %s", out);
	free(out);
	ret = netns_agent_stop(&agent[0], SIGKILL, AGENT_STOP_MS);
	cr_assert_eq(ret, 128 + SIGKILL, "agent 0 did not die of SIGKILL (%d)", ret);
	start_agent(1, "200", NULL);
	stop_agent(1);

	read_records(json[0], &r0);
	read_records(json[1], &r1);
	check_gen_totals(g, &r0, 0, d.sent, d.delivered, d.dropped == 0, "reset cache");
	cr_assert_eq(livegen_tally(g, &r1, &t), 0);
	cr_assert_eq(t.records, 0,
		     "the agent started after the kill exported %llu records (%llu packets) that "
		     "reset cache had already exported: counted twice",
		     (unsigned long long)t.records, (unsigned long long)t.packets);
	livegen_tally_free(&t);
	lg_records_free(&r0);
	lg_records_free(&r1);
	livegen_close(g);
	passed = true;
}

/* --- replay against live: the same capture through `nsflow replay` and through tcpreplay --- */

static void pcap_put(FILE *f, const struct pb *p, uint64_t ts_us)
{
	uint32_t rec[4] = { (uint32_t)(ts_us / 1000000), (uint32_t)(ts_us % 1000000),
			    (uint32_t)p->len, (uint32_t)p->len };

	fwrite(rec, sizeof(rec), 1, f);
	fwrite(p->b, 1, p->len, f);
}

/* A capture of our own: TCP with handshake and FIN both ways, UDP both ways, IPv6 UDP and TCP
 * ending in RST, ICMP echo; addresses from the benchmarking and documentation ranges. */
static void write_capture(const char *path)
{
	static const uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	static const uint8_t fl[] = { 0x02, 0x12, 0x10, 0x18, 0x18, 0x18,
				      0x18, 0x18, 0x11, 0x11, 0x10 };
	static const int dir[] = { 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0 };
	FILE *f = fopen(path, "wb");
	struct pb p;
	uint64_t ts = 1700000000ULL * 1000000;

	cr_assert_not_null(f);
	fwrite(hdr, sizeof(hdr), 1, f);
	for (size_t i = 0; i < sizeof(fl); i++) {
		pb_init(&p);
		pb_eth(&p, 0x0800);
		pb_ipv4(&p, 6, dir[i] ? "198.18.1.2" : "198.18.1.1",
			dir[i] ? "198.18.1.1" : "198.18.1.2", 0, 64, 0, 0, 0);
		pb_tcp(&p, dir[i] ? 80 : 40000, dir[i] ? 40000 : 80, fl[i], 5);
		pb_zero(&p, fl[i] == 0x18 ? (size_t)(100 * i) : 0);
		pb_finish(&p);
		pcap_put(f, &p, ts += 1000);
	}
	for (int i = 0; i < 8; i++) {
		pb_init(&p);
		pb_eth(&p, 0x0800);
		pb_ipv4(&p, 17, i & 1 ? "198.18.1.3" : "198.18.1.1",
			i & 1 ? "198.18.1.1" : "198.18.1.3", 0, 64, 0, 0, 0);
		pb_udp(&p, i & 1 ? 53 : 5353, i & 1 ? 5353 : 53);
		pb_zero(&p, (size_t)(30 + 40 * i));
		pb_finish(&p);
		pcap_put(f, &p, ts += 1000);
	}
	for (int i = 0; i < 6; i++) {
		pb_init(&p);
		pb_eth(&p, 0x86dd);
		pb_ipv6(&p, 17, "2001:db8::1", "2001:db8::2", 0, 64);
		pb_udp(&p, 1000, 2000);
		pb_zero(&p, (size_t)(200 * i));
		pb_finish(&p);
		pcap_put(f, &p, ts += 1000);
	}
	for (int i = 0; i < 5; i++) {
		pb_init(&p);
		pb_eth(&p, 0x86dd);
		pb_ipv6(&p, 6, "2001:db8::1", "2001:db8::3", 0, 64);
		pb_tcp(&p, 50000, 443, i == 4 ? 0x04 : 0x18, 5);
		pb_zero(&p, i == 4 ? 0 : 500);
		pb_finish(&p);
		pcap_put(f, &p, ts += 1000);
	}
	for (int i = 0; i < 3; i++) {
		pb_init(&p);
		pb_eth(&p, 0x0800);
		pb_ipv4(&p, 1, "198.18.1.1", "198.18.1.4", 0, 64, 0, 0, 0);
		pb_icmp(&p, 8, 0);
		pb_zero(&p, 56);
		pb_finish(&p);
		pcap_put(f, &p, ts += 1000);
	}
	fclose(f);
}

static uint64_t capture_frames(const char *path)
{
	struct pcap_reader *r;
	struct pcap_frame fr;
	char err[256];
	uint64_t n = 0;

	cr_assert_eq(pcap_reader_open(&r, path, err, sizeof(err)), 0, "%s", err);
	while (pcap_reader_next(r, &fr) == 1)
		n++;
	pcap_reader_close(r);
	return n;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct lg_record *x = a, *y = b;
	int c = memcmp(x->src, y->src, 16);

	if (!c)
		c = memcmp(x->dst, y->dst, 16);
	if (!c)
		c = (int)x->proto - (int)y->proto;
	if (!c)
		c = (int)x->sport - (int)y->sport;
	if (!c)
		c = (int)x->dport - (int)y->dport;
	if (!c)
		c = x->packets < y->packets ? -1 : x->packets > y->packets;
	if (!c)
		c = x->octets < y->octets ? -1 : x->octets > y->octets;
	return c;
}

static void print_records(const char *title, const struct lg_records *rs)
{
	fprintf(stderr, "%s (%zu records):\n", title, rs->n);
	for (size_t i = 0; i < rs->n; i++) {
		char k[160];

		lg_key_str(&rs->r[i], k, sizeof(k));
		fprintf(stderr, "  %s: %llu packets %llu octets reason %d\n", k,
			(unsigned long long)rs->r[i].packets, (unsigned long long)rs->r[i].octets,
			rs->r[i].reason);
	}
}

/* One capture: `nsflow replay` and the agent fed by tcpreplay give the same records. */
static void replay_vs_live(const char *capture)
{
	static const char *const once[] = { "--inactive-timeout", "600", "--active-timeout", "3600",
					    NULL };
	struct lg_records live = { 0 }, rep = { 0 };
	struct netns_link before, after;
	uint64_t frames = capture_frames(capture), end;
	char *out = NULL;
	bool same;
	int ret;

	/* the agent polls once a minute: the whole capture lands in one drain, as in the replay */
	start_agent(0, "60000", once);
	cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &before), 0);
	ret = netns_sh(pair.ns_tx, &out, "tcpreplay -q --pps 20000 -i %s %s", pair.tx, capture);
	cr_assert_eq(ret, 0, "tcpreplay %s: %s", capture, out);
	free(out);
	end = netns_now_ms() + SETTLE_MS;
	do {
		cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &after), 0);
	} while (after.rx_packets - before.rx_packets < frames && netns_now_ms() < end &&
		 !usleep(1000));
	cr_assert_eq(after.rx_packets - before.rx_packets, frames,
		     "%s: %llu of its %llu frames reached %s (%llu dropped)", capture,
		     (unsigned long long)(after.rx_packets - before.rx_packets),
		     (unsigned long long)frames, pair.rx,
		     (unsigned long long)(after.rx_dropped - before.rx_dropped));
	stop_agent(0);

	ret = netns_sh(NULL, &out,
		       "%s replay %s -c %s --poll-interval 60000 --inactive-timeout 600 "
		       "--active-timeout 3600",
		       nsflow_bin(), capture, json_url[N_AGENTS]);
	cr_assert_eq(ret, 0, "nsflow replay %s: %s", capture, out);
	free(out);

	read_records(json[0], &live);
	read_records(json[N_AGENTS], &rep);
	cr_assert_gt(rep.n, 0, "%s: replay exported nothing", capture);
	qsort(live.r, live.n, sizeof(*live.r), rec_cmp);
	qsort(rep.r, rep.n, sizeof(*rep.r), rec_cmp);
	same = live.n == rep.n;
	for (size_t i = 0; same && i < live.n; i++)
		same = lg_same_key(&live.r[i], &rep.r[i]) &&
		       live.r[i].packets == rep.r[i].packets && live.r[i].octets == rep.r[i].octets;
	if (!same) {
		print_records("live (tcpreplay into the veth)", &live);
		print_records("nsflow replay", &rep);
	}
	cr_assert(same,
		  "%s: the live agent and nsflow replay exported different records "
		  "(%zu live, %zu replayed; listed above)",
		  capture, live.n, rep.n);
	check_records_meta(&live, -1, capture);
	cr_log_info("%s: %llu frames, the same %zu records live and replayed", capture,
		    (unsigned long long)frames, live.n);
	lg_records_free(&live);
	lg_records_free(&rep);
	unlink(json[0]);
	unlink(json[N_AGENTS]);
}

Test(run, replay_gives_the_records_live_metering_gives, .timeout = 110)
{
	static const char *const shared[] = { "afs.pcap", "dns_tcp.pcap", "dns_udp.pcap" };
	char path[PATH_MAX];

	write_capture(scratch);
	replay_vs_live(scratch);
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", coll_pcap_dir(), shared[i]);
		cr_assert_eq(access(path, R_OK), 0, "no capture %s (NSFLOW_PCAPS?)", path);
		replay_vs_live(path);
	}
	passed = true;
}

/* --- the control socket --- */

/* Polls `nsflow show cache --json` until the generator's flows add up to `packets`. */
static void wait_cache(const struct livegen *g, uint64_t packets, struct livegen_tally *t,
		       size_t *n_json)
{
	uint64_t end = netns_now_ms() + 10000;
	char *out = NULL;

	for (;;) {
		struct lg_records rs = { 0 };
		char *save = NULL;

		cr_assert_eq(nsflow_ctl(&agent[0], &out, "show cache --json"), 0,
			     "show cache --json: %s", out);
		for (char *line = strtok_r(out, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			struct lg_record r;

			cr_assert_eq(lg_parse_json(line, &r), 0, "show cache --json: '%s'", line);
			if (rs.n % 1024 == 0)
				rs.r = realloc(rs.r, (rs.n + 1024) * sizeof(*rs.r));
			rs.r[rs.n++] = r;
		}
		free(out);
		cr_assert_eq(livegen_tally(g, &rs, t), 0);
		*n_json = rs.n;
		lg_records_free(&rs);
		if (t->packets == packets || netns_now_ms() > end)
			return;
		livegen_tally_free(t);
		usleep(20000);
	}
}

Test(run, show_and_reset_over_the_control_socket, .timeout = 110)
{
	struct livegen *g = open_gen(AF_INET, IPPROTO_UDP, 4096, 10000, 64);
	struct livegen_delivery d;
	struct livegen_tally t;
	struct lg_records rs = { 0 };
	struct lg_record one;
	unsigned long long pk = 0, oc = 0, seen = 1;
	char *out = NULL, *line, want[64], cmd[128];
	size_t n_json;
	int ret;

	start_agent(0, "200", NULL);
	send_settled(g, 400000, &d);

	/* the cache lists the generator's flows while the agent runs, totals since creation */
	wait_cache(g, d.delivered, &t, &n_json);
	cr_assert_eq(t.packets, d.delivered, "show cache --json: %llu packets, %llu delivered",
		     (unsigned long long)t.packets, (unsigned long long)d.delivered);
	cr_assert_eq(t.records, 4096, "show cache --json lists %llu of the 4096 flows",
		     (unsigned long long)t.records);
	cr_assert_eq(n_json, 4096, "show cache --json lists %zu flows, 4096 were sent", n_json);
	for (uint32_t f = 0; d.dropped == 0 && f < 4096; f++)
		cr_assert_eq(t.flow_packets[f], livegen_flow_share(g, d.sent, f),
			     "show cache: flow %u has %llu packets", f,
			     (unsigned long long)t.flow_packets[f]);
	livegen_tally_free(&t);

	/* filters: one source port, a protocol that is not there, the interface */
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "show cache --json --sport 10005 --proto udp"), 0);
	cr_assert_eq(lg_parse_json(out, &one), 0, "show cache --json --sport 10005: '%s'", out);
	cr_assert_eq(one.sport, 10005, "show cache --sport 10005 listed port %u", one.sport);
	/* its share of what was sent, when the veth dropped nothing (a loaded emulated kernel
	 * may drop: then the totals above still hold, the shares are not known) */
	if (!d.dropped)
		cr_assert_eq(one.packets, livegen_flow_share(g, d.sent, 5), "flow 5: %llu packets",
			     (unsigned long long)one.packets);
	else
		cr_assert_gt(one.packets, 0, "flow 5: no packets");
	cr_assert_null(strchr(strchr(out, '\n') + 1, '{'), "more than one flow:\n%s", out);
	free(out);
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "show cache --sport 10005 --proto udp"), 0);
	cr_assert(strstr(out, "1 flow in the cache"), "show cache --sport 10005: '%s'", out);
	free(out);
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "show cache --proto tcp"), 0);
	cr_assert(strstr(out, "0 flows in the cache"), "show cache --proto tcp: '%s'", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "show cache --interface %s --src 198.18.0.1 --dport 9", pair.rx);
	cr_assert_eq(nsflow_ctl(&agent[0], &out, cmd), 0, "%s: %s", cmd, out);
	cr_assert(strstr(out, "4096 flows in the cache"), "%s: '%s'", cmd, out);
	free(out);

	/* stats: the veth's ingress IPv4 line carries exactly what was delivered */
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "show stats"), 0, "show stats: %s", out);
	snprintf(want, sizeof(want), "%s ", pair.rx);
	line = strstr(out, want);
	cr_assert_not_null(line, "show stats names no %s:\n%s", pair.rx, out);
	cr_assert_eq(sscanf(line, "%*s ingress ipv4 %llu %llu", &pk, &oc), 2,
		     "show stats: no ingress ipv4 line for %s:\n%s", pair.rx, out);
	cr_assert_eq(pk, d.delivered, "show stats: %llu ingress IPv4 packets, %llu delivered", pk,
		     (unsigned long long)d.delivered);
	cr_assert_eq(oc, d.delivered * 64, "show stats: %llu octets", oc);
	free(out);

	/* interfaces: the veth, with its ifindex */
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "show interfaces"), 0);
	snprintf(want, sizeof(want), "%s ", pair.rx);
	cr_assert(strstr(out, want), "show interfaces does not name %s:\n%s", pair.rx, out);
	snprintf(want, sizeof(want), " %d ", pair.rx_ifindex);
	cr_assert(strstr(out, want), "show interfaces: no ifindex %d:\n%s", pair.rx_ifindex, out);
	/* the hook in use, as attached: veth has native XDP */
	cr_assert(strstr(out, " xdp-native "), "show interfaces: not on native XDP:\n%s", out);
	free(out);
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "show collectors"), 0);
	cr_assert(strstr(out, json_url[0]), "show collectors does not list %s:\n%s", json_url[0],
		  out);
	free(out);

	/* reset cache: every flow exported now, forced end; the cache is then empty */
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "reset cache"), 0, "reset cache: %s", out);
	cr_assert(strstr(out, "4096 flows aged out and exported"), "reset cache: '%s'", out);
	free(out);
	read_records(json[0], &rs);
	cr_assert_eq(rs.n, 4096, "after reset cache the export holds %zu records, want 4096", rs.n);
	check_gen_totals(g, &rs, 0, d.sent, d.delivered, d.dropped == 0, "reset cache");
	check_records_meta(&rs, NS_END_FORCED_, "reset cache");
	lg_records_free(&rs);
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "show cache"), 0);
	cr_assert(strstr(out, "0 flows in the cache"), "after reset cache: '%s'", out);
	free(out);

	/* reset stats: the per-interface lines go, the counters restart from zero */
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "reset stats"), 0);
	free(out);
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "show stats"), 0);
	cr_assert_null(strstr(out, " ingress ipv4 "), "show stats after reset stats:\n%s", out);
	line = strstr(out, "  seen ");
	cr_assert(line && sscanf(line, "%*s %llu", &seen) == 1 && seen == 0,
		  "show stats after reset stats: 'seen' should restart from 0:\n%s", out);
	free(out);
	/* an unknown request is refused with a reason and a non-zero exit */
	ret = nsflow_ctl(&agent[0], &out, "show nonsense");
	cr_assert_neq(ret, 0, "show nonsense exited 0");
	cr_assert(strstr(out, "unknown request"), "show nonsense: '%s'", out);
	free(out);

	stop_agent(0);
	/* the forced export at exit has nothing more: the cache was emptied */
	read_records(json[0], &rs);
	cr_assert_eq(rs.n, 4096, "records after exit: %zu", rs.n);
	lg_records_free(&rs);
	livegen_close(g);
	passed = true;
}

/* --- bad configuration: refused before anything is attached --- */

/*
 * A time-based sampler on a live interface: the rate it announces is what the datapath saw
 * per packet it took. With a 30 s interval it takes the first packet only, so the rate is
 * exactly what was delivered, and the one packet exported stands for all of them.
 */
Test(run, time_sampler_announces_the_rate_it_measured, .timeout = 60)
{
	static const char *const extra[] = { "--sample", "time:30000", NULL };
	struct livegen *g = open_gen(AF_INET, IPPROTO_UDP, 64, 10000, 64);
	struct livegen_delivery d;
	struct lg_records rs = { 0 };
	unsigned long long rate = 0, packets = 0;
	uint64_t deadline;
	char *out = NULL, want[64];
	const char *at;

	start_agent(0, "100", extra);
	send_settled(g, 20000, &d);
	snprintf(want, sizeof(want), "time:30000 (1 in %llu)", (unsigned long long)d.delivered);
	/* a poll or two after the traffic, the rate covers all of it */
	for (deadline = netns_now_ms() + 5000; netns_now_ms() < deadline; usleep(100000)) {
		free(out);
		cr_assert_eq(nsflow_ctl(&agent[0], &out, "show interfaces"), 0);
		if (strstr(out, want))
			break;
	}
	at = strstr(out, "(1 in ");
	if (at)
		sscanf(at, "(1 in %llu)", &rate);
	cr_expect_eq(rate, d.delivered, "show interfaces: rate 1 in %llu, %llu delivered:\n%s",
		     rate, (unsigned long long)d.delivered, out);
	free(out);
	stop_agent(0);
	read_records(json[0], &rs);
	for (size_t i = 0; i < rs.n; i++)
		packets += rs.r[i].packets;
	cr_expect_eq(packets, 1, "the sampler took %llu packets in its first 30 s", packets);
	lg_records_free(&rs);
	livegen_close(g);
}

static int desc_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * show cache --sort packets --top N: 64 flows of 10 frames each and 5 of them one more. The
 * top 5 by packets are the 5 largest of the whole listing, largest first (with nothing
 * dropped, the 5 that got 11); --top keeps N and the count line says how many there were.
 */
Test(run, show_cache_sorts_and_keeps_the_top, .timeout = 60)
{
	struct livegen *g = open_gen(AF_INET, IPPROTO_UDP, 64, 10000, 64);
	struct livegen_delivery d;
	struct lg_record r;
	uint64_t all[64], top[8];
	char *out = NULL, *line, *save = NULL;
	size_t n_all = 0, n = 0;

	start_agent(0, "100", NULL);
	send_settled(g, 64 * 10 + 5, &d);
	for (uint64_t end = netns_now_ms() + 5000; netns_now_ms() < end; usleep(100000)) {
		free(out);
		cr_assert_eq(nsflow_ctl(&agent[0], &out, "show cache --proto udp"), 0);
		if (strstr(out, "64 flows in the cache"))
			break;
	}
	free(out);
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "show cache --json --proto udp"), 0);
	for (line = strtok_r(out, "\n", &save); line && n_all < 64;
	     line = strtok_r(NULL, "\n", &save))
		if (!lg_parse_json(line, &r))
			all[n_all++] = r.packets;
	free(out);
	cr_assert_eq(n_all, 64, "show cache lists %zu of the 64 flows", n_all);
	qsort(all, n_all, sizeof(all[0]), desc_u64);
	cr_assert_eq(nsflow_ctl(&agent[0], &out,
				"show cache --json --proto udp --sort packets "
				"--top 5"),
		     0);
	for (line = strtok_r(out, "\n", &save); line && n < 8; line = strtok_r(NULL, "\n", &save)) {
		cr_assert_eq(lg_parse_json(line, &r), 0, "not a flow: %s", line);
		top[n++] = r.packets;
	}
	free(out);
	cr_assert_eq(n, 5, "--top 5 listed %zu flows", n);
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(top[i], all[i],
			     "flow %zu of the top 5: %llu packets, the %zu-th largest "
			     "has %llu",
			     i, (unsigned long long)top[i], i + 1, (unsigned long long)all[i]);
	if (!d.dropped)
		cr_expect(all[4] == 11 && all[5] == 10, "shares: %llu, %llu",
			  (unsigned long long)all[4], (unsigned long long)all[5]);
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "show cache --top 3 --sort octets --proto udp"),
		     0);
	cr_expect(strstr(out, "64 flows in the cache (of ") &&
			  strstr(out, "), the 3 with the most bytes shown"),
		  "%s", out);
	cr_expect(!strncmp(out, "First seen", 10), "no header:\n%s", out);
	free(out);
	cr_expect_neq(nsflow_ctl(&agent[0], &out, "show cache --sort size"), 0);
	cr_expect(strstr(out, "--sort 'size' is not packets or octets"), "%s", out);
	free(out);
	stop_agent(0);
	livegen_close(g);
}

static void assert_nothing_attached(const char *what)
{
	struct netns_agent once = { 0 };
	struct netns_link l;
	struct stat st;
	char *out = NULL;

	cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &l), 0);
	cr_assert_eq(l.xdp_attached, 0, "%s: an XDP program (id %u) is attached to %s", what,
		     l.xdp_prog_id, pair.rx);
	netns_sh(pair.ns_rx, &out, "tc filter show dev %s ingress; tc filter show dev %s egress",
		 pair.rx, pair.rx);
	cr_assert_null(strstr(out, "nsflow"), "%s: a tc filter of nsflow is attached:\n%s", what,
		       out);
	free(out);
	cr_assert_neq(stat(pin_dir, &st), 0, "%s: the pin directory %s exists", what, pin_dir);
	snprintf(once.ctl, sizeof(once.ctl), "-p %s", pin_dir);
	cr_assert(!nsflow_ctl_alive(&once), "%s: its control socket answers", what);
}

/* Runs `nsflow run ARGS` in the rx namespace; returns its exit code, output in *out. */
static int run_agent_once(char **out, const char *args)
{
	return netns_sh(pair.ns_rx, out, "timeout 20 %s run %s --pin-dir %s -c %s", nsflow_bin(),
			args, pin_dir, json_url[0]);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(run, bad_configuration_is_refused_before_attaching, .timeout = 60)
{
	char text[512], args[256], want[256], *out = NULL;
	int ret;

	/* an unknown key on line 3 */
	snprintf(text, sizeof(text), "interfaces:\n  - %s\nactive-timeout-typo: 60\n", pair.rx);
	write_file(scratch, text);
	snprintf(args, sizeof(args), "--config %s", scratch);
	ret = run_agent_once(&out, args);
	cr_assert(ret > 0 && ret < 124, "unknown key: exit code %d, want an error:\n%s", ret, out);
	snprintf(want, sizeof(want), "%s:3: unknown key 'active-timeout-typo'", scratch);
	cr_assert(strstr(out, want), "unknown key: the message should contain '%s':\n%s", want,
		  out);
	free(out);
	assert_nothing_attached("unknown key");

	/* a value out of range, on line 4 */
	snprintf(text, sizeof(text), "interfaces:\n  - %s\nactive-timeout: 60\npoll-interval: 1\n",
		 pair.rx);
	write_file(scratch, text);
	ret = run_agent_once(&out, args);
	cr_assert(ret > 0 && ret < 124, "bad value: exit code %d:\n%s", ret, out);
	snprintf(want, sizeof(want), "%s:4", scratch);
	cr_assert(strstr(out, want), "bad value: the message should name '%s':\n%s", want, out);
	free(out);
	assert_nothing_attached("bad value");

	/* a missing interface in the file, after ours: refused with its line, ours untouched */
	snprintf(text, sizeof(text), "interfaces:\n  - %s\n  - " NETNS_PREFIX "nothere\n", pair.rx);
	write_file(scratch, text);
	ret = run_agent_once(&out, args);
	cr_assert(ret > 0 && ret < 124, "missing interface (file): exit code %d:\n%s", ret, out);
	snprintf(want, sizeof(want), "%s:3: interface '" NETNS_PREFIX "nothere' does not exist",
		 scratch);
	cr_assert(strstr(out, want), "missing interface: the message should contain '%s':\n%s",
		  want, out);
	free(out);
	assert_nothing_attached("missing interface (file)");

	/* and on the command line */
	snprintf(args, sizeof(args), "-i %s -i " NETNS_PREFIX "nothere", pair.rx);
	ret = run_agent_once(&out, args);
	cr_assert(ret > 0 && ret < 124, "missing interface (-i): exit code %d:\n%s", ret, out);
	cr_assert(strstr(out, "interface '" NETNS_PREFIX "nothere' does not exist"),
		  "missing interface (-i): '%s'", out);
	free(out);
	assert_nothing_attached("missing interface (-i)");

	/* a YAML syntax error names its line too */
	write_file(scratch, "interfaces: [a, b\nactive-timeout: 60\n");
	snprintf(args, sizeof(args), "--config %s", scratch);
	ret = run_agent_once(&out, args);
	cr_assert(ret > 0 && ret < 124, "bad YAML: exit code %d:\n%s", ret, out);
	snprintf(want, sizeof(want), "%s:", scratch);
	cr_assert(strstr(out, want) && strstr(out, "YAML"), "bad YAML: '%s'", out);
	free(out);
	assert_nothing_attached("bad YAML");

	/* a kernel without BTF (as this test makes the agent believe): refused, exit 1, before
	 * anything is attached, with the kernel option it lacks */
	ret = netns_sh(pair.ns_rx, &out,
		       "NSFLOW_TEST_KERNEL_BTF=/nonexistent/vmlinux timeout 20 %s run -i %s "
		       "--pin-dir %s -c %s",
		       nsflow_bin(), pair.rx, pin_dir, json_url[0]);
	cr_assert_eq(ret, 1, "no BTF: exit code %d, want 1:\n%s", ret, out);
	cr_assert(strstr(out, "nsflow run: this kernel has no BTF (/nonexistent/vmlinux missing): "
			      "nsflow needs CONFIG_DEBUG_INFO_BTF=y"),
		  "no BTF: '%s'", out);
	free(out);
	assert_nothing_attached("no BTF");
	passed = true;
}

/* --- other programs on the same interface --- */

#define FOREIGN_XDP "xdpfilt_alw_all"

static const char *foreign_obj(void)
{
	const char *o = getenv("NSFLOW_FOREIGN_XDP");

	return o ? o : "/usr/lib/x86_64-linux-gnu/bpf/" FOREIGN_XDP ".o";
}

/* A program on the veth's XDP hook by name, alone or in a libxdp dispatcher: its id, or 0;
 * *legacy says whether it is alone (no dispatcher). */
static uint32_t xdp_prog_on_rx(const char *name, bool *legacy)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	uint32_t id = 0;
	int saved = netns_enter(pair.ns_rx);

	cr_assert_geq(saved, 0);
	mp = xdp_multiprog__get_from_ifindex(pair.rx_ifindex);
	netns_leave(saved);
	if (!mp || libxdp_get_error(mp))
		return 0;
	if (legacy)
		*legacy = xdp_multiprog__is_legacy(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), name))
			id = xdp_program__id(p);
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (!strcmp(xdp_program__name(p), name))
				id = xdp_program__id(p);
	}
	xdp_multiprog__close(mp);
	return id;
}

static uint32_t foreign_prog_id(void)
{
	return xdp_prog_on_rx(FOREIGN_XDP, NULL);
}

/* XDP_PASS packets in the foreign program's own statistics map (xdp-filter's xdp_stats_map) */
static uint64_t foreign_passed(uint32_t prog_id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[16], key = 2 /* XDP_PASS */;
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_prog_get_fd_by_id(prog_id);
	uint64_t total = 0;

	cr_assert_geq(fd, 0, "foreign program %u: %s", prog_id, strerror(errno));
	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)ids;
	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	close(fd);
	for (__u32 i = 0; i < info.nr_map_ids && i < 16; i++) {
		struct bpf_map_info mi = {};
		__u32 ml = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &ml) && !strcmp(mi.name, "xdp_stats_map")) {
			uint64_t *v = calloc((size_t)ncpu, mi.value_size);

			cr_assert_eq(bpf_map_lookup_elem(mfd, &key, v), 0);
			for (int c = 0; c < ncpu; c++)
				total += v[(size_t)c * mi.value_size / 8]; /* rx_packets first */
			free(v);
		}
		close(mfd);
	}
	return total;
}

/*
 * An XDP program loaded first with xdp-loader keeps running beside nsflow (in libxdp's
 * dispatcher where the kernel allows it; otherwise nsflow meters ingress at TC), and foreign tc
 * filters on clsact egress (one sharing nsflow's priority) stay after nsflow detaches.
 */
Test(run, other_xdp_programs_and_tc_filters_are_left_alone, .timeout = 90)
{
	struct livegen *g = open_gen(AF_INET, IPPROTO_UDP, 1, 30000, 100);
	struct lg_records rs = { 0 };
	struct netns_link before, after;
	const uint8_t *frame;
	uint8_t buf[256];
	uint32_t id;
	uint64_t passed0, end;
	size_t len;
	long sent;
	bool legacy = false;
	char *out = NULL;
	int ret;

	ret = netns_sh(pair.ns_rx, &out, "xdp-loader load -m skb %s %s", pair.rx, foreign_obj());
	cr_assert_eq(ret, 0, "xdp-loader load: %s", out);
	free(out);
	id = foreign_prog_id();
	cr_assert_neq(id, 0, "xdp-loader attached no %s to %s", FOREIGN_XDP, pair.rx);
	ret = netns_sh(pair.ns_rx, &out,
		       "tc qdisc add dev %s clsact && "
		       "tc filter add dev %s egress pref 1 handle 9 bpf bytecode '1,6 0 0 0,' && "
		       "tc filter add dev %s egress bpf bytecode '1,6 0 0 0,'",
		       pair.rx, pair.rx, pair.rx);
	cr_assert_eq(ret, 0, "foreign tc filters: %s", out);
	free(out);

	start_agent(0, "200", NULL);
	cr_assert_eq(foreign_prog_id(), id, "%s (id %u) is no longer attached beside nsflow",
		     FOREIGN_XDP, id);
	/* nsflow joins the dispatcher; without one (the kernel may refuse libxdp's freplace
	 * programs) the foreign program stays alone on XDP and nsflow meters ingress at TC */
	if (!xdp_prog_on_rx("nsflow_xdp", &legacy)) {
		cr_assert(legacy, "nsflow_xdp is not in the libxdp dispatcher of %s", pair.rx);
		netns_sh(pair.ns_rx, &out, "tc filter show dev %s ingress", pair.rx);
		cr_assert(strstr(out, "name nsflow_tc_ingre"), /* names are cut at 15 */
			  "XDP is %s's alone: nsflow should meter ingress at TC:\n%s", FOREIGN_XDP,
			  out);
		free(out);
		cr_log_info("no libxdp dispatcher here: nsflow meters ingress at TC beside %s",
			    FOREIGN_XDP);
	} else {
		cr_log_info("nsflow_xdp runs in the libxdp dispatcher beside %s", FOREIGN_XDP);
	}

	/* frames from the peer's stack (the foreign program runs in generic mode) */
	frame = livegen_frame(g, &len);
	memcpy(buf, frame, len);
	memcpy(buf, pair.rx_mac, 6);
	memcpy(buf + 6, pair.tx_mac, 6);
	passed0 = foreign_passed(id);
	cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &before), 0);
	sent = netns_send_frames(pair.ns_tx, pair.tx, buf, len, 2000);
	cr_assert_eq(sent, 2000, "sent %ld of 2000 frames", sent);
	end = netns_now_ms() + SETTLE_MS;
	do {
		cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &after), 0);
	} while (after.rx_packets - before.rx_packets < 2000 && netns_now_ms() < end &&
		 !usleep(1000));
	cr_assert_eq(after.rx_packets - before.rx_packets, 2000, "%llu of 2000 frames arrived",
		     (unsigned long long)(after.rx_packets - before.rx_packets));
	cr_assert_eq(foreign_passed(id) - passed0, 2000,
		     "%s passed %llu of the 2000 frames beside nsflow", FOREIGN_XDP,
		     (unsigned long long)(foreign_passed(id) - passed0));
	stop_agent(0);

	read_records(json[0], &rs);
	check_gen_totals(g, &rs, 0, 2000, 2000, true, "beside " FOREIGN_XDP);
	lg_records_free(&rs);
	cr_assert_eq(foreign_prog_id(), id, "%s (id %u) went with nsflow", FOREIGN_XDP, id);
	cr_assert_eq(xdp_prog_on_rx("nsflow_xdp", NULL), 0,
		     "nsflow_xdp is still on %s's XDP hook after nsflow stopped", pair.rx);
	ret = netns_sh(pair.ns_rx, &out,
		       "tc filter show dev %s egress; tc filter show dev %s ingress", pair.rx,
		       pair.rx);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(out, "pref 1 bpf chain 0 handle 0x9"), "the pref 1 filter went:\n%s", out);
	cr_assert(strstr(out, "pref 49152 bpf chain 0 handle 0x1"),
		  "the default-pref filter went:\n%s", out);
	cr_assert_null(strstr(out, "nsflow"), "nsflow left a tc filter:\n%s", out);
	free(out);
	livegen_close(g);
	passed = true;
}

#define METRICS_PORT 29190

/* One request to the agent's metrics port, from inside its namespace: the whole answer */
static char *http(const char *method, const char *path)
{
	char *out = netns_http(pair.ns_rx, METRICS_PORT, method, path);

	cr_assert_not_null(out, "%s %s: no answer from the metrics port", method, path);
	return out;
}

/* The answer's status line is `HTTP/1.0 <status>` */
static void expect_status(const char *method, const char *path, const char *status)
{
	char *out = http(method, path), want[64];

	snprintf(want, sizeof(want), "HTTP/1.0 %s\r\n", status);
	cr_expect(!strncmp(out, want, strlen(want)), "%s %s: want %s, got:\n%.300s", method, path,
		  status, out);
	free(out);
}

/* The value of the sample `name` (labels included) in a scrape, -1 when absent */
static long long sample(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; (p = strstr(p, name)); p += n)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
	return -1;
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (long long)st.st_size;
}

/* promtool, Prometheus's own checker, has nothing to say about the scrape's body */
static void expect_promtool_clean(const char *body)
{
	FILE *f = fopen(scratch, "w");
	char *out = NULL;
	int ret;

	cr_assert_not_null(f, "write %s: %s", scratch, strerror(errno));
	fputs(body, f);
	fclose(f);
	ret = netns_sh(NULL, &out, "promtool check metrics < %s", scratch);
	cr_expect_eq(ret, 0, "promtool check metrics exited %d:\n%s", ret, out ? out : "");
	cr_expect(out && !out[0], "promtool check metrics complains:\n%s", out ? out : "");
	free(out);
	unlink(scratch);
}

/*
 * The endpoint a Prometheus and its probes expect: /readyz 503 until the first poll, then 200;
 * /healthz 200 "ok"; a /metrics promtool finds nothing wrong with, whose packet and byte counts
 * are the traffic the receiver saw; 404 for other paths, 405 for other methods.
 */
Test(run, prometheus_metrics_count_what_was_delivered, .timeout = 90)
{
	struct livegen *g = open_gen(AF_INET, IPPROTO_UDP, 64, 20000, 64);
	const char *extra[] = { "--metrics", "127.0.0.1:29190", NULL };
	struct livegen_delivery d;
	char packets[256], bytes[256], *out, *body;
	long long got_packets = -1, got_bytes = -1, before, after, sent;
	char sent_name[160];
	uint64_t deadline;

	netns_sh(NULL, NULL, "ip -n %s link set lo up", pair.ns_rx);
	/* a poll every 3 s: the first one is still to come when the agent answers */
	start_agent(0, "3000", extra);
	expect_status("GET", "/readyz", "503 Service Unavailable");
	out = http("GET", "/healthz");
	cr_expect(!strncmp(out, "HTTP/1.0 200 OK\r\n", 17) && strstr(out, "\r\n\r\nok\n"),
		  "/healthz of a polling agent:\n%s", out);
	free(out);
	send_settled(g, 100000, &d);
	snprintf(packets, sizeof(packets),
		 "nsflow_interface_packets_total{interface=\"%s\",direction=\"ingress\","
		 "family=\"ipv4\"}",
		 pair.rx);
	snprintf(bytes, sizeof(bytes),
		 "nsflow_interface_bytes_total{interface=\"%s\",direction=\"ingress\","
		 "family=\"ipv4\"}",
		 pair.rx);
	/* the counts reach the cache at the next poll */
	deadline = netns_now_ms() + 15000;
	do {
		out = http("GET", "/metrics");
		got_packets = sample(out, packets);
		got_bytes = sample(out, bytes);
		if (got_packets == (long long)d.delivered)
			break;
		free(out);
		out = NULL;
		usleep(200000);
	} while (netns_now_ms() < deadline);
	cr_assert_not_null(out, "%s never reached %llu", packets, (unsigned long long)d.delivered);
	cr_assert(!strncmp(out, "HTTP/1.0 200 OK\r\n", 17), "answer: %.80s", out);
	cr_expect(strstr(out, "\r\nContent-Type: text/plain; version=0.0.4"), "%.300s", out);
	body = strstr(out, "\r\n\r\n");
	cr_assert_not_null(body);
	body += 4;
	cr_expect_eq(got_bytes, (long long)(d.delivered * 64), "%s: %lld, want %llu x 64", bytes,
		     got_bytes, (unsigned long long)d.delivered);
	cr_expect(strstr(body, "# TYPE nsflow_datapath_seen_packets_total counter\n"));
	cr_expect_geq(sample(body, "nsflow_datapath_seen_packets_total"), (long long)d.delivered);
	cr_expect(strstr(body, "nsflow_build_info{version=\""), "%s", body);
	cr_expect_gt(sample(body, "process_start_time_seconds"), 1600000000);
	cr_expect_gt(sample(body, "process_resident_memory_bytes"), 0);
	cr_expect_gt(sample(body, "nsflow_kernel_memory_bytes"), 0);
	cr_expect(strstr(body, "nsflow_collector_up{collector=\"json:"), "%s", body);
	expect_promtool_clean(body);
	free(out);

	/* every flow exported: the JSON collector was sent what its file holds, 64 records */
	cr_assert_eq(nsflow_ctl(&agent[0], &out, "reset cache"), 0, "reset cache: %s", out);
	free(out);
	snprintf(sent_name, sizeof(sent_name),
		 "nsflow_collector_sent_records_total{collector=\"%s\"}", json_url[0]);
	before = file_size(json[0]);
	out = http("GET", "/metrics");
	after = file_size(json[0]);
	cr_expect_eq(sample(out, sent_name), 64, "%s", sent_name);
	snprintf(sent_name, sizeof(sent_name),
		 "nsflow_collector_sent_bytes_total{collector=\"%s\"}", json_url[0]);
	sent = sample(out, sent_name);
	cr_expect(sent > 0 && sent >= before && sent <= after,
		  "%s %lld: the file had %lld, then %lld bytes", sent_name, sent, before, after);
	expect_promtool_clean(strstr(out, "\r\n\r\n") + 4);
	free(out);

	expect_status("GET", "/readyz", "200 OK");
	out = http("HEAD", "/metrics");
	cr_expect(!strncmp(out, "HTTP/1.0 200 OK\r\n", 17) &&
			  !strstr(out, "Content-Length: 0\r\n") &&
			  !strcmp(strstr(out, "\r\n\r\n"), "\r\n\r\n"),
		  "HEAD /metrics: the headers of GET, no body:\n%.400s", out);
	free(out);
	expect_status("GET", "/foo", "404 Not Found");
	expect_status("POST", "/metrics", "405 Method Not Allowed");
	expect_status("PUT", "/healthz", "405 Method Not Allowed");
	stop_agent(0);
	livegen_close(g);
	passed = true;
}

/*
 * /healthz is the liveness probe: a loop that stopped polling (here, SIGSTOP for longer than
 * METRICS_ALIVE_MIN_MS) answers 503 "not polling" to the request waiting when it wakes, and
 * 200 again once it polled.
 */
Test(run, healthz_says_503_when_the_loop_stalled, .timeout = 60)
{
	const char *extra[] = { "--metrics", "127.0.0.1:29190", NULL };
	char got[512] = "";
	int fds[2];
	pid_t child;
	ssize_t n;
	char *out;

	netns_sh(NULL, NULL, "ip -n %s link set lo up", pair.ns_rx);
	start_agent(0, "100", extra);
	expect_status("GET", "/healthz", "200 OK");
	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(kill(agent[0].pid, SIGSTOP), 0);
	usleep(5500 * 1000);
	child = fork();
	cr_assert_geq(child, 0);
	if (!child) {
		/* the kernel takes the connection and the request while the agent sleeps */
		char *ans = netns_http(pair.ns_rx, METRICS_PORT, "GET", "/healthz");

		if (ans && write(fds[1], ans, strlen(ans)) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	usleep(500 * 1000);
	kill(agent[0].pid, SIGCONT);
	n = read(fds[0], got, sizeof(got) - 1);
	close(fds[0]);
	netns_wait(child, 15000);
	got[n > 0 ? n : 0] = 0;
	cr_expect(!strncmp(got, "HTTP/1.0 503 Service Unavailable\r\n", 34) &&
			  strstr(got, "\r\n\r\nnot polling\n"),
		  "/healthz of a loop that stalled 5.5 s:\n%s", got);
	usleep(300 * 1000);
	out = http("GET", "/healthz");
	cr_expect(!strncmp(out, "HTTP/1.0 200 OK\r\n", 17), "/healthz after it polled again:\n%s",
		  out);
	free(out);
	stop_agent(0);
	passed = true;
}
