// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Collectors that fail, as operators meet them: a JSON file on a full filesystem, a UDP
 * collector whose port answers ICMP unreachable, an IPFIX/TCP collector that accepts and then
 * never reads. Each loss shows as dropped in `show collectors` and the metrics, with the
 * collector's state and errno, and a log line; the healthy collector beside them still gets
 * exactly what the veth delivered. Also NetFlow v5 with a 4.5 GB flow, which must reach nfdump
 * whole (split into 32-bit records), not saturated at 2^32 - 1.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "collectors.h"
#include "livegen.h"
#include "netns.h"

#define AGENT_START_MS 15000
#define AGENT_STOP_MS  30000
#define SETTLE_MS      5000
#define PORT_REFUSED   29981 /* nothing listens: ICMP port unreachable */
#define PORT_STALLED   29982 /* listens, never accepts or reads */
#define PORT_METRICS   29983
#define PORT_NFCAPD    29984

static struct netns_pair pair;
static struct netns_agent agent;
static char dir[96], full_dir[160], good[192], full[192], pin_dir[96];
static int lock_fd = -1, stalled_fd = -1;
static bool mounted, passed;

static void setup(void)
{
	char *out = NULL;

	memset(&agent, 0, sizeof(agent));
	lock_fd = nsflow_e2e_lock(240000);
	cr_assert(lock_fd >= 0, "no e2e lock (%s): another e2e test or benchmark is running",
		  strerror(-lock_fd));
	netns_cleanup_stale();
	cr_assert_eq(netns_pair_create(&pair, 's'), 0, "could not make the veth pair");
	cr_assert_eq(netns_sh(NULL, &out, "ip -n %s link set lo up", pair.ns_rx), 0, "%s", out);
	free(out);
	cr_assert_eq(coll_tmpdir(dir, sizeof(dir), "sinks"), 0);
	snprintf(full_dir, sizeof(full_dir), "%s/full", dir);
	snprintf(good, sizeof(good), "%s/good.json", dir);
	snprintf(full, sizeof(full), "%s/flows.json", full_dir);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/" NETNS_PREFIX "-%d-sinks", getpid());
	snprintf(agent.log, sizeof(agent.log), "%s/agent.log", dir);
	mounted = passed = false;
}

static void teardown(void)
{
	if (agent.pid > 0)
		netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS);
	if (!passed && agent.log[0])
		netns_agent_dump_log(&agent);
	if (stalled_fd >= 0)
		close(stalled_fd);
	stalled_fd = -1;
	if (pair.ns_rx[0])
		netns_sh(pair.ns_rx, NULL, "%s detach -i %s --pin-dir %s", nsflow_bin(), pair.rx,
			 pin_dir);
	netns_pair_destroy(&pair);
	rmdir(pin_dir);
	if (mounted)
		umount2(full_dir, MNT_DETACH);
	if (passed)
		coll_rmtree(dir);
	else
		fprintf(stderr, "kept %s\n", dir);
	nsflow_e2e_unlock(lock_fd);
}

TestSuite(sinks, .init = setup, .fini = teardown);

static void start_agent(const char *const extra[])
{
	const char *args[32] = {
		"-i",	     pair.rx, "--poll-interval", "200", "--inactive-timeout", "5",
		"--pin-dir", pin_dir
	};
	size_t n = 8;
	int ret;

	for (size_t k = 0; extra[k] && n < 31; k++)
		args[n++] = extra[k];
	args[n] = NULL;
	ret = netns_agent_start(&agent, pair.ns_rx, AGENT_START_MS, args);
	cr_assert_eq(ret, 0, "the agent did not start: %s", strerror(-ret));
}

static struct livegen *open_gen(uint32_t flows, uint16_t ip_len)
{
	struct livegen_opts o = { .flows = flows, .ip_len = ip_len };
	struct livegen *g;
	int ret = livegen_open(&g, &o);

	cr_assert_eq(ret, 0, "livegen: %s", strerror(-ret));
	return g;
}

static uint64_t send_frames(struct livegen *g, uint64_t n)
{
	struct livegen_delivery d;
	int ret = livegen_send_pair(g, &pair, n, 0, SETTLE_MS, &d);

	cr_assert_eq(ret, 0, "live frames: %s (sent %llu, delivered %llu, dropped %llu)",
		     strerror(-ret), (unsigned long long)d.sent, (unsigned long long)d.delivered,
		     (unsigned long long)d.dropped);
	cr_assert_gt(d.delivered, 0, "nothing reached %s", pair.rx);
	return d.delivered;
}

/* Packets of the generator's flows in the JSON file at @path, and its flow records */
static uint64_t json_packets(const struct livegen *g, const char *path, uint64_t *records,
			     size_t *bad_lines)
{
	struct lg_records rs = { 0 };
	struct livegen_tally t;
	uint64_t packets;

	if (lg_read_json(path, &rs)) {
		*records = 0;
		return 0;
	}
	cr_assert_eq(livegen_tally(g, &rs, &t), 0);
	packets = t.packets;
	*records = t.records + t.other_records;
	if (bad_lines)
		*bad_lines = rs.bad_lines;
	livegen_tally_free(&t);
	lg_records_free(&rs);
	return packets;
}

struct row {
	char state[16], error[64];
	unsigned long long messages, records, errors, dropped, templates;
};

/* The line of `show collectors` for @url */
static int collector_row(const char *url, struct row *r)
{
	char *out = NULL, *p;
	int ok = 0;

	memset(r, 0, sizeof(*r));
	if (nsflow_ctl(&agent, &out, "show collectors") == 0 && (p = strstr(out, url))) {
		char *eol = strchr(p, '\n');
		int end = 0;

		if (eol)
			*eol = '\0';
		ok = sscanf(p + strlen(url), " %15s %llu %llu %llu %llu %llu%n", r->state,
			    &r->messages, &r->records, &r->errors, &r->dropped, &r->templates,
			    &end) == 6;
		/* the last column, the error, may hold spaces */
		p += strlen(url) + end;
		while (*p == ' ')
			p++;
		snprintf(r->error, sizeof(r->error), "%s", p);
	}
	free(out);
	return ok ? 0 : -ENOENT;
}

static bool log_has(const char *needle)
{
	char *text = coll_slurp(agent.log, NULL);
	bool found = text && strstr(text, needle);

	free(text);
	return found;
}

/* The value of a metric line "NAME{LABELS} VALUE" in @text, -1 when absent */
static long long metric(const char *text, const char *name_labels)
{
	char needle[512];
	const char *p;

	snprintf(needle, sizeof(needle), "\n%s ", name_labels);
	p = strstr(text, needle);
	return p ? atoll(p + strlen(needle)) : -1;
}

/* A TCP listener on 127.0.0.1:port in the agent's namespace with a tiny receive buffer */
static int stalled_listener(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int back = netns_enter(pair.ns_rx), fd, small = 4096;

	cr_assert_geq(back, 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	netns_leave(back);
	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "bind: %s",
		     strerror(errno));
	cr_assert_eq(listen(fd, 4), 0);
	return fd;
}

/*
 * 5000 flows to four collectors at once: one healthy JSON file, one JSON file on a 64 KiB
 * tmpfs, one UDP port nobody listens on, one TCP collector that never reads.
 */
Test(sinks, every_loss_is_counted_shown_and_logged, .timeout = 150)
{
	char good_url[200], full_url[200], udp_url[64], tcp_url[64], metrics[32], name[512];
	char name2[512];
	const char *extra[] = { "-c", good_url, "-c",	     full_url, "-c", udp_url,
				"-c", tcp_url,	"--metrics", metrics,  NULL };
	uint64_t delivered, packets = 0, records = 0, full_records;
	struct row r_full, r_udp, r_tcp, r_good;
	size_t bad_lines = 0;
	struct livegen *g;
	char *text;

	cr_assert_eq(mkdir(full_dir, 0755), 0);
	cr_assert_eq(mount("tmpfs", full_dir, "tmpfs", 0, "size=64k"), 0, "mount tmpfs: %s",
		     strerror(errno));
	mounted = true;
	snprintf(good_url, sizeof(good_url), "json:%s", good);
	snprintf(full_url, sizeof(full_url), "json:%s", full);
	snprintf(udp_url, sizeof(udp_url), "ipfix://127.0.0.1:%d", PORT_REFUSED);
	snprintf(tcp_url, sizeof(tcp_url), "ipfix+tcp://127.0.0.1:%d", PORT_STALLED);
	snprintf(metrics, sizeof(metrics), "127.0.0.1:%d", PORT_METRICS);
	stalled_fd = stalled_listener(PORT_STALLED);
	start_agent(extra);

	g = open_gen(5000, 100);
	delivered = send_frames(g, 50000);
	for (uint64_t end = netns_now_ms() + 20000; netns_now_ms() < end; usleep(200000)) {
		packets = json_packets(g, good, &records, NULL);
		if (packets >= delivered)
			break;
	}
	cr_assert_eq(packets, delivered, "the healthy collector has %llu of %llu packets",
		     (unsigned long long)packets, (unsigned long long)delivered);
	/* the stalled collector is found out after 10 s without progress */
	for (uint64_t end = netns_now_ms() + 30000; netns_now_ms() < end; usleep(500000))
		if (!collector_row(tcp_url, &r_tcp) && strstr(r_tcp.error, "timed out"))
			break;
	cr_assert_eq(collector_row(good_url, &r_good), 0);
	cr_assert_eq(collector_row(full_url, &r_full), 0);
	cr_assert_eq(collector_row(udp_url, &r_udp), 0);
	cr_assert_eq(collector_row(tcp_url, &r_tcp), 0);
	cr_log_info("good %s %llu/%llu, full %s %llu/%llu (%s), udp %s %llu/%llu (%s), tcp %s "
		    "%llu/%llu (%s)",
		    r_good.state, r_good.records, r_good.dropped, r_full.state, r_full.records,
		    r_full.dropped, r_full.error, r_udp.state, r_udp.records, r_udp.dropped,
		    r_udp.error, r_tcp.state, r_tcp.records, r_tcp.dropped, r_tcp.error);

	cr_expect_str_eq(r_good.state, "up");
	cr_expect_eq(r_good.records, records, "the healthy file holds every record it was sent");
	cr_expect_eq(r_good.dropped, 0);

	/* full disk: what is in the file is exactly what counts as sent; no torn line */
	json_packets(g, full, &full_records, &bad_lines);
	/* "error" while writes fail; "up" again once a smaller write fits what is left */
	cr_expect(!strcmp(r_full.state, "error") || !strcmp(r_full.state, "up"), "%s",
		  r_full.state);
	cr_expect_str_eq(r_full.error, "No space left on device");
	cr_expect_gt(r_full.dropped, 0);
	cr_expect_eq(r_full.records, full_records, "%llu records counted sent, %llu in the file",
		     r_full.records, (unsigned long long)full_records);
	cr_expect_eq(bad_lines, 0, "the full file ends on a whole line");
	cr_expect_eq(r_full.records + r_full.dropped, records);

	/* port unreachable: nothing counts as sent */
	cr_expect_str_eq(r_udp.state, "down");
	cr_expect_str_eq(r_udp.error, "Connection refused");
	cr_expect_eq(r_udp.records, 0, "no record reached a closed port");
	cr_expect_eq(r_udp.dropped, records);

	/* the stalled TCP collector: called down for the timeout, what it did not take dropped */
	cr_expect_str_eq(r_tcp.error, "Connection timed out");
	cr_expect_gt(r_tcp.dropped, 0);
	cr_expect_gt(r_tcp.errors, 0);

	text = netns_http_get(pair.ns_rx, PORT_METRICS, "/metrics");
	cr_assert_not_null(text, "no answer from the metrics port");
	snprintf(name, sizeof(name), "nsflow_collector_dropped_records_total{collector=\"%s\"}",
		 full_url);
	cr_expect_eq(metric(text, name), (long long)r_full.dropped, "%s", name);
	snprintf(name, sizeof(name), "nsflow_collector_sent_records_total{collector=\"%s\"}",
		 udp_url);
	cr_expect_eq(metric(text, name), 0, "%s", name);
	snprintf(name, sizeof(name), "nsflow_collector_state{collector=\"%s\",state=\"%s\"}",
		 full_url, r_full.state);
	cr_expect_eq(metric(text, name), 1, "%s", name);
	snprintf(name, sizeof(name), "nsflow_collector_state{collector=\"%s\",state=\"down\"}",
		 udp_url);
	cr_expect_eq(metric(text, name), 1, "%s", name);
	snprintf(name, sizeof(name), "nsflow_collector_up{collector=\"%s\"}", good_url);
	cr_expect_eq(metric(text, name), 1, "%s", name);
	free(text);

	snprintf(name, sizeof(name), "collector %s is error: No space left on device", full_url);
	snprintf(name2, sizeof(name2), "collector %s: %llu records dropped (", full_url,
		 r_full.dropped);
	cr_expect(log_has(name) || log_has(name2), "the log says: %s, or %s", name, name2);
	snprintf(name, sizeof(name), "collector %s is down: Connection refused", udp_url);
	cr_expect(log_has(name), "the log says: %s", name);
	snprintf(name, sizeof(name), "collector %s is down: Connection timed out", tcp_url);
	cr_expect(log_has(name), "the log says: %s", name);

	cr_assert_eq(netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS), 0);
	agent.pid = 0;
	packets = json_packets(g, good, &records, NULL);
	cr_expect_eq(packets, delivered, "after exit the healthy collector has %llu of %llu",
		     (unsigned long long)packets, (unsigned long long)delivered);
	livegen_close(g);
	passed = true;
}

/* One UDP flow of 3.3M 1500-byte packets (~4.9 GB) over NetFlow v5 into nfcapd */
Test(sinks, v5_carries_a_flow_over_4_gb_whole, .timeout = 150)
{
	char nfdir[192], nflog[192], port[8], v5_url[64], good_url[200];
	char *argv[] = { "nfcapd", "-b", "127.0.0.1", "-p", port, "-w", nfdir, "-t", "3600", NULL };
	const char *extra[] = { "-c", v5_url, "-c", good_url, NULL };
	struct coll_flows got = { 0 };
	const struct coll_flow *f;
	struct coll_proc nfcapd;
	uint64_t delivered, drops;
	struct coll_key k;
	struct livegen *g;
	int back;

	snprintf(nfdir, sizeof(nfdir), "%s/nfcapd", dir);
	snprintf(nflog, sizeof(nflog), "%s/nfcapd.log", dir);
	snprintf(port, sizeof(port), "%d", PORT_NFCAPD);
	snprintf(v5_url, sizeof(v5_url), "v5://127.0.0.1:%d", PORT_NFCAPD);
	snprintf(good_url, sizeof(good_url), "json:%s", good);
	cr_assert_eq(mkdir(nfdir, 0755), 0);
	back = netns_enter(pair.ns_rx);
	cr_assert_geq(back, 0);
	cr_assert_eq(coll_spawn(&nfcapd, nflog, argv), 0);
	cr_assert_eq(coll_udp_bound(PORT_NFCAPD, 5000), 0, "nfcapd never bound its port");
	netns_leave(back);
	start_agent(extra);

	g = open_gen(1, 1500);
	delivered = send_frames(g, 3300000);
	cr_assert_gt(delivered * 1500, 1ULL << 32, "only %llu frames delivered",
		     (unsigned long long)delivered);
	cr_assert_eq(netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS), 0);
	agent.pid = 0;
	back = netns_enter(pair.ns_rx);
	cr_assert_geq(back, 0);
	cr_assert_eq(coll_udp_drained(PORT_NFCAPD, 10000, &drops), 0);
	netns_leave(back);
	cr_assert_eq(drops, 0);
	cr_assert_eq(coll_stop(&nfcapd, SIGTERM, 10000), 0, "nfcapd exit");
	cr_assert_eq(coll_nfdump_flows(nfdir, &got), 0, "nfdump -R %s", nfdir);
	coll_key_set(&k, "198.18.0.1", "198.18.0.2", 17, 10000, 9);
	f = coll_flows_find(&got, &k);
	cr_assert_not_null(f, "nfdump has no record of the flow");
	cr_log_info("nfdump: %u records, %llu packets, %llu bytes; delivered %llu", f->records,
		    (unsigned long long)f->packets, (unsigned long long)f->bytes,
		    (unsigned long long)delivered);
	cr_expect_eq(f->packets, delivered);
	cr_expect_eq(f->bytes, delivered * 1500, "nfdump sums %llu bytes, %llu were delivered",
		     (unsigned long long)f->bytes, (unsigned long long)(delivered * 1500));
	cr_expect_geq(f->records, 2, "split into 32-bit records");
	coll_flows_free(&got);
	livegen_close(g);
	passed = true;
}

/*
 * A live agent's options (sampler, reliability, interface names scoped by ingressInterface)
 * go to nfcapd as IPFIX and as v9: nfcapd takes them without one complaint in its log (1.7.1
 * refused variable-length interface names: "nbar option size error"), and nfdump has the flow
 * once per export.
 */
Test(sinks, nfcapd_takes_our_options_without_complaint, .timeout = 120)
{
	char nfdir[192], nflog[192], port[8], v9_url[64], ipfix_url[64];
	char *argv[] = { "nfcapd", "-b", "127.0.0.1", "-p", port, "-w", nfdir, "-t", "3600", NULL };
	const char *extra[] = { "-c", v9_url, "-c", ipfix_url, NULL };
	struct coll_flows got = { 0 };
	const struct coll_flow *f;
	struct coll_proc nfcapd;
	uint64_t delivered, drops;
	struct coll_key k;
	struct livegen *g;
	char *log;
	int back;

	snprintf(nfdir, sizeof(nfdir), "%s/nfcapd", dir);
	snprintf(nflog, sizeof(nflog), "%s/nfcapd.log", dir);
	snprintf(port, sizeof(port), "%d", PORT_NFCAPD);
	snprintf(v9_url, sizeof(v9_url), "v9://127.0.0.1:%d", PORT_NFCAPD);
	snprintf(ipfix_url, sizeof(ipfix_url), "ipfix://127.0.0.1:%d", PORT_NFCAPD);
	cr_assert_eq(mkdir(nfdir, 0755), 0);
	back = netns_enter(pair.ns_rx);
	cr_assert_geq(back, 0);
	cr_assert_eq(coll_spawn(&nfcapd, nflog, argv), 0);
	cr_assert_eq(coll_udp_bound(PORT_NFCAPD, 5000), 0, "nfcapd never bound its port");
	netns_leave(back);
	start_agent(extra);

	g = open_gen(1, 200);
	delivered = send_frames(g, 20000);
	cr_assert_eq(netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS), 0);
	agent.pid = 0;
	back = netns_enter(pair.ns_rx);
	cr_assert_geq(back, 0);
	cr_assert_eq(coll_udp_drained(PORT_NFCAPD, 10000, &drops), 0);
	netns_leave(back);
	cr_assert_eq(coll_stop(&nfcapd, SIGTERM, 10000), 0, "nfcapd exit");
	log = coll_slurp(nflog, NULL);
	cr_assert_not_null(log);
	cr_expect(strstr(log, "New v9 exporter") && strstr(log, "New ipfix exporter"), "%s", log);
	for (char *save = NULL, *line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		/* the summary line counts "Sequence Errors: 0" */
		cr_expect(!strncmp(line, "Ident:", 6) ||
				  (!strcasestr(line, "error") && !strstr(line, "extra bytes")),
			  "nfcapd complains: %s", line);
	free(log);
	cr_assert_eq(coll_nfdump_flows(nfdir, &got), 0, "nfdump -R %s", nfdir);
	coll_key_set(&k, "198.18.0.1", "198.18.0.2", 17, 10000, 9);
	f = coll_flows_find(&got, &k);
	cr_assert_not_null(f, "nfdump has no record of the flow");
	cr_expect_eq(f->packets, 2 * delivered, "v9 and IPFIX: %llu packets, %llu delivered",
		     (unsigned long long)f->packets, (unsigned long long)delivered);
	coll_flows_free(&got);
	livegen_close(g);
	passed = true;
}
