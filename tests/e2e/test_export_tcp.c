// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * IPFIX over TCP (RFC 7011 10.4) from `nsflow run` on a veth pair of the test's own, to a
 * listener of the test in the agent's namespace that reads the length-framed messages into
 * the strict decoder. The collector goes away mid-run and comes back: the agent must stay up,
 * reconnect, open the new transport session with its templates (the first records on it
 * decode with a decoder that knew nothing), deliver the flows that expired while nobody
 * listened (or count them as dropped in `nsflow show collectors`), and go on exporting.
 *
 * One agent at a time on the machine: the lock netns.h provides is held throughout.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collectors.h"
#include "netns.h"
#include "pkt.h"

#define COLLECTOR_PORT 29995
#define AGENT_START_MS 15000
#define AGENT_STOP_MS  30000
/* --inactive-timeout 5 and a poll every 200 ms: a flow is out 5.2 s after its last packet */
#define EXPORT_WAIT_MS 20000

static struct netns_pair pair;
static struct netns_agent agent;
static struct coll_tcp col;
static char pin_dir[64], url[64];
static int lock_fd = -1;

static void setup(void)
{
	char *out = NULL;

	memset(&agent, 0, sizeof(agent));
	col.lfd = col.cfd = -1;
	lock_fd = nsflow_e2e_lock(240000);
	cr_assert(lock_fd >= 0, "no e2e lock (%s): another e2e test or benchmark is running",
		  strerror(-lock_fd));
	netns_cleanup_stale();
	cr_assert_eq(netns_pair_create(&pair, 'i'), 0, "could not make the veth pair");
	/* the collector listens on the loopback of the agent's namespace */
	cr_assert_eq(netns_sh(NULL, &out, "ip -n %s link set lo up", pair.ns_rx), 0, "%s", out);
	free(out);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/" NETNS_PREFIX "-%d-tcp", getpid());
	snprintf(url, sizeof(url), "ipfix+tcp://127.0.0.1:%d", COLLECTOR_PORT);
	snprintf(agent.log, sizeof(agent.log), "/tmp/" NETNS_PREFIX "-%d-tcp-agent.log", getpid());
}

static void teardown(void)
{
	if (agent.pid > 0) {
		netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS);
		netns_agent_dump_log(&agent);
	}
	coll_tcp_free(&col);
	if (pair.ns_rx[0])
		netns_sh(pair.ns_rx, NULL, "%s detach -i %s --pin-dir %s", nsflow_bin(), pair.rx,
			 pin_dir);
	netns_pair_destroy(&pair);
	rmdir(pin_dir);
	unlink(agent.log);
	nsflow_e2e_unlock(lock_fd);
}

static void listen_in_agent_ns(void)
{
	int fd = netns_enter(pair.ns_rx), ret;

	cr_assert_geq(fd, 0, "enter %s", pair.ns_rx);
	ret = coll_tcp_listen(&col, COLLECTOR_PORT);
	netns_leave(fd);
	cr_assert_eq(ret, 0, "listen on 127.0.0.1:%d in %s: %s", COLLECTOR_PORT, pair.ns_rx,
		     strerror(-ret));
}

/* @n frames of one UDP flow (source port @sport) into the metered veth; returns delivered */
static uint64_t send_flow(uint16_t sport, uint64_t n)
{
	struct netns_link before, after;
	struct pb p;
	long sent;

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, "192.0.2.1", "192.0.2.2", 0, 64, 0, 0, 0);
	pb_udp(&p, sport, 9);
	pb_zero(&p, 72); /* 100-byte IP packets */
	pb_finish(&p);
	memcpy(p.b, pair.rx_mac, 6);
	memcpy(p.b + 6, pair.tx_mac, 6);
	cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &before), 0);
	sent = netns_send_frames(pair.ns_tx, pair.tx, p.b, p.len, n);
	cr_assert_eq(sent, (long)n, "sent %ld of %llu frames", sent, (unsigned long long)n);
	/* delivered when the receiving end has counted them all */
	for (uint64_t end = coll_now_ms() + 5000; coll_now_ms() < end; usleep(10000)) {
		cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &after), 0);
		if (after.rx_packets + after.rx_dropped - before.rx_packets - before.rx_dropped >=
		    n)
			break;
	}
	cr_assert_eq(after.rx_dropped, before.rx_dropped, "the veth dropped frames");
	return after.rx_packets - before.rx_packets;
}

static struct coll_key flow_key(uint16_t sport)
{
	struct coll_key k;

	coll_key_set(&k, "192.0.2.1", "192.0.2.2", 17, sport, 9);
	return k;
}

static uint64_t flow_packets(uint16_t sport)
{
	struct coll_key k = flow_key(sport);
	const struct coll_flow *f = coll_flows_find(&col.flows, &k);

	return f ? f->packets : 0;
}

/* Reads the connection until flow @sport has @packets, or the deadline */
static void read_until_flow(uint16_t sport, uint64_t packets, const char *what)
{
	uint64_t end = coll_now_ms() + EXPORT_WAIT_MS;

	while (flow_packets(sport) < packets && coll_now_ms() < end)
		if (coll_tcp_read(&col, 200, 0) == -ECONNRESET)
			break;
	cr_assert_eq(flow_packets(sport), packets,
		     "%s: flow from port %u has %llu packets at the "
		     "collector, %llu were metered",
		     what, sport, (unsigned long long)flow_packets(sport),
		     (unsigned long long)packets);
	cr_assert_str_empty(col.err, "%s: %s", what, col.err);
}

/* "flows: N in cache, C created, E exported" of `nsflow show stats` */
static long flows_exported(void)
{
	char *out = NULL, *p;
	long exported = -1;

	if (nsflow_ctl(&agent, &out, "show stats") == 0 && (p = strstr(out, "flows:")))
		sscanf(p, "flows: %*u in cache, %*u created, %ld exported", &exported);
	free(out);
	return exported;
}

struct collector_row {
	char state[16];
	unsigned long long messages, records, errors, dropped, templates;
};

static void show_collector(struct collector_row *r)
{
	char *out = NULL, *p;
	int ret = nsflow_ctl(&agent, &out, "show collectors");

	cr_assert_eq(ret, 0, "nsflow show collectors: %s", out ? out : "");
	p = strstr(out, url);
	cr_assert_not_null(p, "no %s in:\n%s", url, out);
	cr_assert_eq(sscanf(p + strlen(url), "%15s %llu %llu %llu %llu %llu", r->state,
			    &r->messages, &r->records, &r->errors, &r->dropped, &r->templates),
		     6, "cannot read: %s", p);
	cr_log_info("show collectors: %s", p);
	free(out);
}

Test(export_tcp, collector_restart_mid_run, .init = setup, .fini = teardown, .timeout = 110)
{
	const char *args[] = {
		"-i", pair.rx,	   "-c",    url, "--poll-interval", "200", "--inactive-timeout",
		"5",  "--pin-dir", pin_dir, NULL
	};
	struct collector_row row;
	uint64_t n1, n2, n3, conn1_records, t0;
	long exported;
	int ret;

	listen_in_agent_ns();
	ret = netns_agent_start(&agent, pair.ns_rx, AGENT_START_MS, args);
	cr_assert_eq(ret, 0, "agent did not start: %s", strerror(-ret));
	cr_assert_eq(coll_tcp_accept(&col, 10000), 0, "the agent never connected to %s", url);

	/* 1: a flow exported to the first collector */
	n1 = send_flow(1001, 50);
	read_until_flow(1001, n1, "first connection");
	cr_assert_gt(col.dec.templates, 0, "no template on the first connection");
	conn1_records = col.flow_records;

	/* 2: the collector goes away; a flow expires while nobody listens */
	coll_tcp_close(&col);
	t0 = coll_now_ms();
	n2 = send_flow(1002, 40);
	while ((exported = flows_exported()) < 2 && coll_now_ms() < t0 + EXPORT_WAIT_MS)
		usleep(100000);
	cr_assert_geq(exported, 2, "the agent has not aged the second flow out (%ld exported)",
		      exported);
	cr_assert_eq(netns_wait(agent.pid, 0), -ETIMEDOUT, "the agent died without its collector");
	show_collector(&row);
	cr_expect_str_eq(row.state, "down", "the collector is gone, the agent says %s", row.state);
	cr_expect_geq(row.errors, 1, "losing the connection is not counted as an error");

	/* 3: the collector is back on the same port: the agent reconnects by itself */
	listen_in_agent_ns();
	cr_assert_eq(coll_tcp_accept(&col, 70000), 0, "the agent did not reconnect within 70 s");
	cr_log_info("reconnected %llu ms after the collector went away",
		    (unsigned long long)(coll_now_ms() - t0));
	/* the new session decodes from its first message: templates came before any data */
	coll_tcp_read(&col, 1000, 0);
	cr_assert_str_empty(col.err, "after reconnecting: %s", col.err);
	cr_assert_gt(col.dec.templates, 0, "no template at the start of the new connection");
	n3 = send_flow(1003, 30);
	read_until_flow(1003, n3, "after reconnecting");
	cr_assert_gt(col.conn_flow_records, 0);

	/* the flow that expired in between: delivered late, or counted as dropped */
	show_collector(&row);
	cr_expect_str_eq(row.state, "up", "connected again, the agent says %s", row.state);
	if (flow_packets(1002) != n2)
		cr_expect_gt(row.dropped, 0,
			     "flow 1002 reached the collector with %llu of %llu packets and the "
			     "agent counts no record dropped",
			     (unsigned long long)flow_packets(1002), (unsigned long long)n2);
	cr_log_info("flow 1002: %llu of %llu packets delivered after the reconnect, %llu records "
		    "dropped",
		    (unsigned long long)flow_packets(1002), (unsigned long long)n2, row.dropped);
	/* every flow record the agent says it sent is one the collectors decoded */
	cr_expect_eq(row.records, col.flow_records,
		     "the agent sent %llu flow records, the collector decoded %llu (%llu on the "
		     "first connection)",
		     row.records, (unsigned long long)col.flow_records,
		     (unsigned long long)conn1_records);

	cr_assert_eq(netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS), 0,
		     "SIGTERM should end the agent with status 0");
	agent.pid = 0;
}
