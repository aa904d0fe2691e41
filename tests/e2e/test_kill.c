// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kill -9 at any instant, twenty times, under live traffic: the agent (build/nsflow) exports
 * IPFIX over UDP to a collector of the test's own on the loopback of its namespace, with a poll
 * every 20 ms and a one-second active timeout, so that the kills land mid-drain, mid-merge and
 * mid-export. The live-frames generator sends over 50,000 flows all along; each killed agent's
 * successor takes over the pinned maps and the pinned flow cache. At the end, the collector's
 * sums must be exactly what reached the veth: per flow, in total, no packet missing, none twice.
 *
 * Run from the top directory, as root (`make test-e2e`). The e2e lock keeps other tests' agents
 * off the machine meanwhile: the kills' timing and the live rate are this test's alone.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "collectors.h"
#include "exp_decode.h"
#include "livegen.h"
#include "netns.h"

#define FLOWS	       50000
#define BASE_PORT      10000
#define IP_LEN	       64
#define KILLS	       20
#define CHUNK	       100000 /* frames the sender runs between two looks at the books */
#define DELAY_MIN_MS   50
#define DELAY_MAX_MS   700
#define AGENT_START_MS 15000
#define AGENT_STOP_MS  30000
#define SETTLE_MS      5000
#define QUIET_MS       1000
#define N_AGENTS       (KILLS + 1)
#define RCVBUF	       (32 << 20)
#define MAX_EXPORTERS  64   /* source ports the collector keeps a decoder for */
#define FOLD_RECORDS   8192 /* records decoded before they are tallied */

/* IPFIX information elements the collector reads */
#define IE_OCTETS     1
#define IE_PACKETS    2
#define IE_PROTO      4
#define IE_SPORT      7
#define IE_SRC4	      8
#define IE_IN_IF      10
#define IE_DPORT      11
#define IE_DST4	      12
#define IE_OUT_IF     14
#define IE_DIRECTION  61
#define IE_END_REASON 136
#define END_REASONS   8

static struct netns_pair pair;
static struct netns_agent agent[N_AGENTS];
static char pin_dir[64], url[64];
static int lock_fd = -1, coll_fd = -1, coll_port;
static bool passed;

/* The collector: a UDP socket in the agent's namespace, read and decoded on a thread. */
struct exporter {
	struct sockaddr_in from;
	struct ns_decoder dec;
};

struct collector {
	int fd;
	struct livegen *g;
	atomic_bool stop;
	atomic_ullong last_rx_ms; /* when the last datagram came */
	uint64_t datagrams, bytes, drops;
	struct exporter *ex;
	size_t n_ex;
	char err[384]; /* the first decoding error, "" when none */
	uint64_t bad_messages;
	/* records waiting to be tallied, and the tally so far */
	struct lg_records pending;
	size_t pending_cap;
	struct livegen_tally sum;
	uint64_t data_records, options_records;
	uint64_t reasons[END_REASONS];
	uint64_t bad_meta; /* records not ingress on the veth */
};

static struct collector coll;

/* Live frames on a thread of their own, chunk after chunk, until told to stop. */
struct sender {
	struct livegen *g;
	atomic_bool stop;
	atomic_int chunks; /* sent and settled */
	int err;
	struct livegen_delivery total, last;
};

static struct sender snd;
static pthread_t sender_th, collector_th;
static bool sender_on, collector_on;

static void setup(void)
{
	int pid = getpid();
	char *out = NULL;

	memset(agent, 0, sizeof(agent));
	lock_fd = nsflow_e2e_lock(240000);
	cr_assert(lock_fd >= 0, "no e2e lock (%s): another e2e test or benchmark is running",
		  strerror(-lock_fd));
	netns_cleanup_stale();
	cr_assert_eq(netns_pair_create(&pair, 'k'), 0, "could not make the veth pair");
	/* the collector listens on the loopback of the agent's namespace */
	cr_assert_eq(netns_sh(NULL, &out, "ip -n %s link set lo up", pair.ns_rx), 0, "%s", out);
	free(out);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/" NETNS_PREFIX "-%d-kill", pid);
	for (int i = 0; i < N_AGENTS; i++)
		snprintf(agent[i].log, sizeof(agent[i].log),
			 "/tmp/" NETNS_PREFIX "-%d-kill-agent%02d.log", pid, i);
	passed = false;
}

static void teardown(void)
{
	/* a failed assertion may leave the threads running: traffic first, then the collector */
	if (sender_on) {
		atomic_store(&snd.stop, true);
		pthread_join(sender_th, NULL);
		sender_on = false;
	}
	if (collector_on) {
		atomic_store(&coll.stop, true);
		pthread_join(collector_th, NULL);
		collector_on = false;
	}
	for (int i = 0; i < N_AGENTS; i++)
		if (agent[i].pid > 0)
			netns_agent_stop(&agent[i], SIGTERM, AGENT_STOP_MS);
	if (pair.ns_rx[0])
		netns_sh(pair.ns_rx, NULL, "%s detach -i %s --pin-dir %s", nsflow_bin(), pair.rx,
			 pin_dir);
	netns_pair_destroy(&pair);
	netns_rm_pin_dir(pin_dir);
	if (coll_fd >= 0)
		close(coll_fd);
	coll_fd = -1;
	for (int i = 0; i < N_AGENTS; i++) {
		if (passed || access(agent[i].log, F_OK))
			unlink(agent[i].log);
		else
			fprintf(stderr, "kept %s\n", agent[i].log);
	}
	nsflow_e2e_unlock(lock_fd);
}

TestSuite(kill, .init = setup, .fini = teardown);

/* A UDP socket on 127.0.0.1 of the agent's namespace, with a large receive buffer. */
static void collector_open(void)
{
	int saved = netns_enter(pair.ns_rx), size = RCVBUF, one = 1, got = 0;
	socklen_t len = sizeof(got);

	cr_assert_geq(saved, 0, "enter %s", pair.ns_rx);
	coll_port = coll_pick_port(SOCK_DGRAM, 29100, 29999);
	coll_fd = coll_port > 0 ? coll_udp_listen(coll_port) : coll_port;
	netns_leave(saved);
	cr_assert_gt(coll_port, 0, "no free UDP port in %s", pair.ns_rx);
	cr_assert_geq(coll_fd, 0, "listen on 127.0.0.1:%d in %s: %s", coll_port, pair.ns_rx,
		      strerror(-coll_fd));
	cr_assert_eq(setsockopt(coll_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)), 0,
		     "SO_RCVBUFFORCE: %s", strerror(errno));
	cr_assert_eq(setsockopt(coll_fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)), 0);
	cr_assert_eq(getsockopt(coll_fd, SOL_SOCKET, SO_RCVBUF, &got, &len), 0);
	cr_assert_geq(got, RCVBUF, "receive buffer %d bytes, asked for %d", got, RCVBUF);
	snprintf(url, sizeof(url), "ipfix://127.0.0.1:%d", coll_port);
}

/* Tallies the records decoded so far into the running sums (livegen_tally does the keys). */
static void collector_fold(struct collector *c)
{
	struct livegen_tally t;

	if (!c->pending.n)
		return;
	if (livegen_tally(c->g, &c->pending, &t)) {
		snprintf(c->err, sizeof(c->err), "livegen_tally: out of memory");
		c->pending.n = 0;
		return;
	}
	c->sum.packets += t.packets;
	c->sum.octets += t.octets;
	c->sum.records += t.records;
	c->sum.other_records += t.other_records;
	c->sum.other_packets += t.other_packets;
	c->sum.bad_octets += t.bad_octets;
	for (uint32_t f = 0; f < FLOWS; f++) {
		c->sum.flow_packets[f] += t.flow_packets[f];
		c->sum.flow_octets[f] += t.flow_octets[f];
	}
	livegen_tally_free(&t);
	c->pending.n = 0;
}

/* One data record: its flow, as the JSON reader would have it, waits to be tallied. */
static void on_record(void *arg, const struct ns_dec_record *r)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct collector *c = arg;
	struct lg_record *lr;
	const uint8_t *s, *d;
	size_t sl = 0, dl = 0;
	uint64_t reason;

	if (r->tmpl->n_scope) {
		c->options_records++;
		return;
	}
	c->data_records++;
	if (c->pending.n == c->pending_cap)
		collector_fold(c);
	lr = &c->pending.r[c->pending.n++];
	memset(lr, 0, sizeof(*lr));
	s = ns_dec_field(r, IE_SRC4, &sl);
	d = ns_dec_field(r, IE_DST4, &dl);
	if (s && d && sl == 4 && dl == 4) {
		lr->ip_version = 4;
		memcpy(lr->src, v4mapped, 12);
		memcpy(lr->src + 12, s, 4);
		memcpy(lr->dst, v4mapped, 12);
		memcpy(lr->dst + 12, d, 4);
	}
	lr->proto = (uint8_t)ns_dec_uint(r, IE_PROTO, 0);
	lr->sport = (uint16_t)ns_dec_uint(r, IE_SPORT, 0);
	lr->dport = (uint16_t)ns_dec_uint(r, IE_DPORT, 0);
	lr->packets = ns_dec_uint(r, IE_PACKETS, 0);
	lr->octets = ns_dec_uint(r, IE_OCTETS, 0);
	lr->in_if = (uint32_t)ns_dec_uint(r, IE_IN_IF, 0);
	lr->out_if = (uint32_t)ns_dec_uint(r, IE_OUT_IF, 0);
	lr->direction = (int)ns_dec_uint(r, IE_DIRECTION, 255);
	reason = ns_dec_uint(r, IE_END_REASON, 0);
	lr->reason = (int)reason;
	c->reasons[reason < END_REASONS ? reason : 0]++;
	if (lr->in_if != (uint32_t)pair.rx_ifindex || lr->direction != 0)
		c->bad_meta++;
}

/* The decoder of the exporter that sent from @from: one per transport session (source port). */
static struct ns_decoder *exporter_of(struct collector *c, const struct sockaddr_in *from)
{
	for (size_t i = 0; i < c->n_ex; i++)
		if (c->ex[i].from.sin_port == from->sin_port &&
		    c->ex[i].from.sin_addr.s_addr == from->sin_addr.s_addr)
			return &c->ex[i].dec;
	if (c->n_ex == MAX_EXPORTERS)
		return NULL;
	c->ex[c->n_ex].from = *from;
	ns_decoder_init(&c->ex[c->n_ex].dec, NS_PROTO_IPFIX);
	c->ex[c->n_ex].dec.on_record = on_record;
	c->ex[c->n_ex].dec.arg = c;
	return &c->ex[c->n_ex++].dec;
}

#define RX_VLEN 64
#define RX_MAX	65536

static void *collector_main(void *arg)
{
	static uint8_t buf[RX_VLEN][RX_MAX];
	static char ctl[RX_VLEN][CMSG_SPACE(sizeof(uint32_t))];
	struct collector *c = arg;
	struct sockaddr_in from[RX_VLEN];
	struct iovec iov[RX_VLEN];
	struct mmsghdr m[RX_VLEN];

	while (!atomic_load(&c->stop)) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		for (int i = 0; i < RX_VLEN; i++) {
			iov[i] = (struct iovec){ buf[i], RX_MAX };
			m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i],
							      .msg_namelen = sizeof(from[i]),
							      .msg_iov = &iov[i],
							      .msg_iovlen = 1,
							      .msg_control = ctl[i],
							      .msg_controllen = sizeof(ctl[i]) } };
		}
		n = recvmmsg(c->fd, m, RX_VLEN, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		atomic_store(&c->last_rx_ms, coll_now_ms());
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &m[i].msg_hdr;
			struct ns_decoder *d;
			char err[256];

			c->datagrams++;
			c->bytes += m[i].msg_len;
			for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm))
				if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
					uint32_t drops;

					memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
					if (drops > c->drops)
						c->drops = drops;
				}
			if (h->msg_flags & MSG_TRUNC) {
				c->bad_messages++;
				if (!c->err[0])
					snprintf(c->err, sizeof(c->err),
						 "a datagram of more than %d "
						 "bytes",
						 RX_MAX);
				continue;
			}
			d = exporter_of(c, &from[i]);
			if (!d) {
				c->bad_messages++;
				if (!c->err[0])
					snprintf(c->err, sizeof(c->err),
						 "more than %d exporters (source ports)",
						 MAX_EXPORTERS);
				continue;
			}
			if (ns_decode(d, buf[i], m[i].msg_len, err, sizeof(err))) {
				c->bad_messages++;
				if (!c->err[0])
					snprintf(c->err, sizeof(c->err),
						 "message %llu from port %u: %.300s",
						 (unsigned long long)c->datagrams,
						 ntohs(from[i].sin_port), err);
			}
		}
	}
	collector_fold(c);
	return NULL;
}

static void collector_start(struct collector *c, pthread_t *th, struct livegen *g)
{
	memset(c, 0, sizeof(*c));
	c->fd = coll_fd;
	c->g = g;
	c->ex = calloc(MAX_EXPORTERS, sizeof(*c->ex));
	c->pending_cap = FOLD_RECORDS;
	c->pending.r = calloc(FOLD_RECORDS, sizeof(*c->pending.r));
	c->sum.flow_packets = calloc(FLOWS, sizeof(uint64_t));
	c->sum.flow_octets = calloc(FLOWS, sizeof(uint64_t));
	cr_assert(c->ex && c->pending.r && c->sum.flow_packets && c->sum.flow_octets);
	atomic_store(&c->last_rx_ms, coll_now_ms());
	cr_assert_eq(pthread_create(th, NULL, collector_main, c), 0);
}

static void collector_free(struct collector *c)
{
	free(c->ex);
	lg_records_free(&c->pending);
	livegen_tally_free(&c->sum);
}

/* The kernel's drop count of the collector's socket (receive buffer full). */
static uint64_t socket_drops(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);

	cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len), 0, "SO_MEMINFO: %s",
		     strerror(errno));
	return mem[SK_MEMINFO_DROPS];
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;

	while (!atomic_load(&s->stop)) {
		struct livegen_delivery d;

		s->err = livegen_send_pair(s->g, &pair, CHUNK, 0, SETTLE_MS, &d);
		s->total.sent += d.sent;
		s->total.delivered += d.delivered;
		s->total.dropped += d.dropped;
		s->total.ns += d.ns;
		s->last = d;
		if (s->err)
			break;
		atomic_fetch_add(&s->chunks, 1);
	}
	return NULL;
}

static void start_agent(int i)
{
	const char *args[] = { "-i",
			       pair.rx,
			       "-c",
			       url,
			       "--pin-dir",
			       pin_dir,
			       "--poll-interval",
			       "20",
			       "--active-timeout",
			       "1",
			       "--inactive-timeout",
			       "5",
			       NULL };
	int ret = netns_agent_start(&agent[i], pair.ns_rx, AGENT_START_MS, args);

	cr_assert_eq(ret, 0, "agent %d did not start: %s", i, strerror(-ret));
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* What the agents' logs say they took over: where the kills landed. */
struct takeovers {
	int agents;	 /* that took over a previous agent's state */
	int rolled_back; /* of them, that undid a transaction the kill cut short */
	int half_merged; /* that found a drain batch half merged */
	uint64_t merged, undrained;
};

static void read_takeovers(struct takeovers *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 1; i < N_AGENTS; i++) {
		char *text = coll_slurp(agent[i].log, NULL), *p;
		unsigned long long cached, merged;
		long long undrained;

		p = text ? strstr(text, "took over ") : NULL;
		if (p && sscanf(p,
				"took over %llu cached flows, %llu entries of a half-merged batch "
				"and %lld undrained",
				&cached, &merged, &undrained) == 3) {
			t->agents++;
			t->half_merged += merged > 0;
			t->merged += merged;
			t->undrained += (uint64_t)undrained;
			p = strchr(p, '\n');
			if (strstr(strstr(text, "took over "), "(its last change undone)") &&
			    (!p ||
			     strstr(strstr(text, "took over "), "(its last change undone)") < p))
				t->rolled_back++;
		}
		free(text);
	}
}

static void wait_chunks(struct sender *s, int n)
{
	uint64_t end = netns_now_ms() + 30000;

	while (atomic_load(&s->chunks) < n && !s->err && netns_now_ms() < end)
		sleep_ms(1);
	cr_assert_geq(atomic_load(&s->chunks), n, "traffic stalled: %s",
		      s->err ? strerror(-s->err) : "timeout");
}

/*
 * Twenty kills at random instants of a busy agent: over all the exports of all the agents, each
 * of the 50,000 flows has exactly the packets (and octets) that reached the veth.
 */
Test(kill, kill9_at_random_instants_exports_every_packet_once, .timeout = 150)
{
	struct livegen_opts o = {
		.family = AF_INET,
		.proto = IPPROTO_UDP,
		.flows = FLOWS,
		.base_port = BASE_PORT,
		.ip_len = IP_LEN,
	};
	struct sender *s = &snd;
	struct netns_link l;
	struct stat st;
	struct livegen *g;
	uint64_t t0 = netns_now_ms(), t_kills, drops, missing = 0, extra = 0;
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	unsigned int delays[KILLS];
	uint32_t seen = 0, wrong = 0, first_wrong = FLOWS;
	struct takeovers to;
	int ret;

	if (getenv("NSFLOW_KILL_SEED")) /* to replay a run */
		seed = (unsigned int)strtoul(getenv("NSFLOW_KILL_SEED"), NULL, 0);
	cr_log_info("seed %u (delays %d..%d ms before each of %d kills; NSFLOW_KILL_SEED=%u "
		    "replays them)",
		    seed, DELAY_MIN_MS, DELAY_MAX_MS, KILLS, seed);
	srand(seed);
	for (int k = 0; k < KILLS; k++)
		delays[k] = DELAY_MIN_MS + (unsigned int)rand() % (DELAY_MAX_MS - DELAY_MIN_MS + 1);
	ret = livegen_open(&g, &o);
	cr_assert_eq(ret, 0, "livegen: %s", strerror(-ret));
	collector_open();
	collector_start(&coll, &collector_th, g);
	collector_on = true;

	/* the agent first: its native XDP program turns the receiver's NAPI on */
	start_agent(0);
	memset(s, 0, sizeof(*s));
	s->g = g;
	cr_assert_eq(pthread_create(&sender_th, NULL, sender_main, s), 0);
	sender_on = true;
	wait_chunks(s, 1);
	for (int k = 0; k < KILLS; k++) {
		sleep_ms(delays[k]);
		ret = netns_agent_stop(&agent[k], SIGKILL, AGENT_STOP_MS);
		cr_assert_eq(ret, 128 + SIGKILL, "kill %d: agent %d did not die of SIGKILL (%d)",
			     k + 1, k, ret);
		cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &l), 0);
		cr_assert_neq(l.xdp_attached, 0,
			      "kill %d: the XDP program should stay attached to %s", k + 1,
			      pair.rx);
		cr_assert_eq(stat(pin_dir, &st), 0, "kill %d: the pinned maps should outlive it",
			     k + 1);
		cr_assert_eq(s->err, 0, "kill %d: traffic: %s", k + 1, strerror(-s->err));
		start_agent(k + 1);
	}
	t_kills = netns_now_ms();

	atomic_store(&s->stop, true);
	pthread_join(sender_th, NULL);
	sender_on = false;
	cr_assert_eq(s->err, 0,
		     "traffic: %s (sent %llu, delivered %llu, dropped %llu; last chunk %llu sent, "
		     "%llu delivered, %llu dropped)",
		     strerror(-s->err), (unsigned long long)s->total.sent,
		     (unsigned long long)s->total.delivered, (unsigned long long)s->total.dropped,
		     (unsigned long long)s->last.sent, (unsigned long long)s->last.delivered,
		     (unsigned long long)s->last.dropped);
	cr_assert_eq(s->total.sent, livegen_sent(g));
	/* shorter than the active timeout: the exit's forced export carries records too */
	sleep_ms(300);
	ret = netns_agent_stop(&agent[KILLS], SIGTERM, AGENT_STOP_MS);
	cr_assert_eq(ret, 0, "the last agent: SIGTERM should end it with status 0, got %d", ret);
	cr_assert_neq(stat(pin_dir, &st), 0, "the pinned maps should go with the last agent");

	/* everything the last agent sent is queued on the socket: read it all */
	while (netns_now_ms() - atomic_load(&coll.last_rx_ms) < QUIET_MS)
		sleep_ms(50);
	atomic_store(&coll.stop, true);
	pthread_join(collector_th, NULL);
	collector_on = false;
	drops = socket_drops(coll_fd);
	if (coll.drops > drops)
		drops = coll.drops;

	cr_log_info("%d kills in %.1f s, %.1f s in all; traffic: %llu frames sent, %llu delivered, "
		    "%llu dropped by the veth, %.2f Mfps",
		    KILLS, (t_kills - t0) / 1e3, (netns_now_ms() - t0) / 1e3,
		    (unsigned long long)s->total.sent, (unsigned long long)s->total.delivered,
		    (unsigned long long)s->total.dropped,
		    s->total.ns ? s->total.sent * 1e3 / s->total.ns : 0.0);
	cr_log_info("collector: %llu datagrams (%llu bytes) from %zu exporters, %llu data records "
		    "(%llu of the generator's flows), %llu options records, %llu packets, %llu "
		    "octets; end reasons: idle %llu, active %llu, forced %llu; %llu socket drops",
		    (unsigned long long)coll.datagrams, (unsigned long long)coll.bytes, coll.n_ex,
		    (unsigned long long)coll.data_records, (unsigned long long)coll.sum.records,
		    (unsigned long long)coll.options_records, (unsigned long long)coll.sum.packets,
		    (unsigned long long)coll.sum.octets, (unsigned long long)coll.reasons[1],
		    (unsigned long long)coll.reasons[2], (unsigned long long)coll.reasons[4],
		    (unsigned long long)drops);

	read_takeovers(&to);
	cr_log_info("restarts: %d of %d took over a killed agent's state; %d undid a transaction "
		    "cut short, %d found a half-merged drain batch (%llu entries), %llu entries "
		    "left undrained in the retired table",
		    to.agents, KILLS, to.rolled_back, to.half_merged, (unsigned long long)to.merged,
		    (unsigned long long)to.undrained);

	/* the test's own failures first: a lossy collector or veth says nothing of the agent */
	cr_assert_eq(drops, 0,
		     "THE TEST'S COLLECTOR DROPPED %llu DATAGRAMS (receive buffer full): the "
		     "totals below say nothing about the agent",
		     (unsigned long long)drops);
	cr_assert_str_empty(coll.err, "collector: %llu messages it could not decode; the first: %s",
			    (unsigned long long)coll.bad_messages, coll.err);
	cr_assert_eq(s->total.dropped, 0,
		     "the veth dropped %llu of %llu frames (its ring was full): which flows lost "
		     "them is unknown, so the per-flow check cannot be made",
		     (unsigned long long)s->total.dropped, (unsigned long long)s->total.sent);
	cr_assert_eq(s->total.delivered, s->total.sent);

	/* the agent's */
	cr_expect_eq(coll.sum.other_records, 0,
		     "%llu records (%llu packets) of flows the generator did not send",
		     (unsigned long long)coll.sum.other_records,
		     (unsigned long long)coll.sum.other_packets);
	cr_expect_eq(coll.bad_meta, 0, "%llu records not ingress on %s (ifindex %d)",
		     (unsigned long long)coll.bad_meta, pair.rx, pair.rx_ifindex);
	cr_expect_eq(coll.sum.bad_octets, 0, "%llu records whose octets are not packets x %u",
		     (unsigned long long)coll.sum.bad_octets, IP_LEN);
	for (uint32_t f = 0; f < FLOWS; f++) {
		uint64_t want = livegen_flow_share(g, s->total.sent, f);
		uint64_t got = coll.sum.flow_packets[f];

		seen += got > 0;
		if (got == want && coll.sum.flow_octets[f] == want * IP_LEN)
			continue;
		if (!wrong++)
			first_wrong = f;
		if (got > want)
			extra += got - want;
		else
			missing += want - got;
		if (wrong <= 10)
			cr_log_error(
				"flow %u (source port %u): exported %llu packets / %llu octets, "
				"delivered %llu packets / %llu octets",
				f, BASE_PORT + f, (unsigned long long)got,
				(unsigned long long)coll.sum.flow_octets[f],
				(unsigned long long)want, (unsigned long long)want * IP_LEN);
	}
	cr_expect_eq(seen, FLOWS, "%u of the %u flows were exported", seen, FLOWS);
	cr_expect_eq(wrong, 0,
		     "%u flows exported with other counts than delivered (the first: flow %u): "
		     "%llu packets missing, %llu counted twice",
		     wrong, first_wrong, (unsigned long long)missing, (unsigned long long)extra);
	cr_expect_eq(coll.sum.packets, s->total.delivered,
		     "exported %llu packets in all, %llu were delivered (%+lld)",
		     (unsigned long long)coll.sum.packets, (unsigned long long)s->total.delivered,
		     (long long)(coll.sum.packets - s->total.delivered));
	cr_expect_eq(coll.sum.octets, s->total.delivered * IP_LEN,
		     "exported %llu octets in all, %llu were delivered",
		     (unsigned long long)coll.sum.octets,
		     (unsigned long long)s->total.delivered * IP_LEN);
	passed = !wrong && seen == FLOWS && coll.sum.packets == s->total.delivered &&
		 coll.sum.octets == s->total.delivered * IP_LEN && !coll.sum.other_records &&
		 !coll.bad_meta && !coll.sum.bad_octets;
	if (!passed)
		for (int i = 0; i < N_AGENTS; i++)
			fprintf(stderr, "agent %d's log: %s\n", i, agent[i].log);
	collector_free(&coll);
	livegen_close(g);
}
