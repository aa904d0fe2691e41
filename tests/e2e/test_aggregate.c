// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Aggregated flows on a live interface: the agent meters a veth with two aggregation caches
 * and originals that would not age for ten minutes. The aggregated records must come out on
 * their own inactive timeout (they are fed by every drain, not by expired originals), sum
 * exactly what the veth delivered, answer `show cache --aggregation` with filters, and appear
 * per cache in `show stats`; with --no-original nothing else is exported.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collectors.h"
#include "livegen.h"
#include "netns.h"

#define AGENT_START_MS 15000
#define AGENT_STOP_MS  30000
#define FLOWS	       200

static struct netns_pair pair;
static struct netns_agent agent;
static char dir[96], json[128], pin_dir[96];
static int lock_fd = -1;
static bool passed;

static void setup(void)
{
	memset(&agent, 0, sizeof(agent));
	lock_fd = nsflow_e2e_lock(240000);
	cr_assert(lock_fd >= 0, "no e2e lock (%s): another e2e test or benchmark is running",
		  strerror(-lock_fd));
	netns_cleanup_stale();
	cr_assert_eq(netns_pair_create(&pair, 'g'), 0, "could not make the veth pair");
	cr_assert_eq(coll_tmpdir(dir, sizeof(dir), "agg"), 0);
	snprintf(json, sizeof(json), "%s/agg.json", dir);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/" NETNS_PREFIX "-%d-agg", getpid());
	snprintf(agent.log, sizeof(agent.log), "%s/agent.log", dir);
	passed = false;
}

static void teardown(void)
{
	if (agent.pid > 0)
		netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS);
	if (!passed)
		netns_agent_dump_log(&agent);
	if (pair.ns_rx[0])
		netns_sh(pair.ns_rx, NULL, "%s detach -i %s --pin-dir %s", nsflow_bin(), pair.rx,
			 pin_dir);
	netns_pair_destroy(&pair);
	rmdir(pin_dir);
	if (passed)
		coll_rmtree(dir);
	else
		fprintf(stderr, "kept %s\n", dir);
	nsflow_e2e_unlock(lock_fd);
}

TestSuite(aggregate, .init = setup, .fini = teardown);

/* Sums of the JSON records: packets of records with and without a source address */
struct sums {
	uint64_t records, packets, with_addr, by_sport;
};

static void read_sums(struct sums *s, const char *sport)
{
	size_t len = 0;
	char *text = coll_slurp(json, &len), *line, *save = NULL, v[64];

	memset(s, 0, sizeof(*s));
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		s->records++;
		if (!coll_json_value(line, "sourceIPv4Address", v, sizeof(v)))
			s->with_addr++;
		if (coll_json_value(line, "packetDeltaCount", v, sizeof(v)))
			continue;
		if (strstr(line, "\"ipClassOfService\""))
			s->packets += strtoull(v, NULL, 10); /* source-index-tos */
		if (sport && strstr(line, sport))
			s->by_sport += strtoull(v, NULL, 10);
	}
	free(text);
}

static char *ctl(const char *words)
{
	char *out = NULL;
	int ret = nsflow_ctl(&agent, &out, words);

	cr_assert_eq(ret, 0, "nsflow %s: %s", words, out ? out : "");
	return out;
}

Test(aggregate, live_aggregates_age_on_their_own_and_add_up, .timeout = 120)
{
	char url[140];
	const char *args[] = { "-i",
			       pair.rx,
			       "-c",
			       url,
			       "--poll-interval",
			       "200",
			       "--pin-dir",
			       pin_dir,
			       "--inactive-timeout",
			       "600",
			       "--active-timeout",
			       "3600",
			       "--aggregate",
			       "source-index-tos:v4",
			       "--aggregate",
			       "protocol-port:v4",
			       "--aggregate-inactive-timeout",
			       "5",
			       "--no-original",
			       NULL };
	struct livegen_opts o = { .flows = FLOWS, .ip_len = 100 };
	struct livegen_delivery d;
	struct livegen *g;
	struct sums s = { 0 };
	char *out, v[64];
	uint64_t t0;
	int ret;

	snprintf(url, sizeof(url), "json:%s", json);
	ret = netns_agent_start(&agent, pair.ns_rx, AGENT_START_MS, args);
	cr_assert_eq(ret, 0, "the agent did not start: %s", strerror(-ret));
	cr_assert_eq(livegen_open(&g, &o), 0);
	ret = livegen_send_pair(g, &pair, 100000, 0, 5000, &d);
	cr_assert_eq(ret, 0, "live frames: %s", strerror(-ret));

	/* while the aggregates are in the cache: one source-index-tos flow, FLOWS by ports */
	for (t0 = netns_now_ms(); netns_now_ms() - t0 < 5000; usleep(100000)) {
		out = ctl("show cache --aggregation source-index-tos:v4 --json");
		if (!coll_json_value(out, "packetDeltaCount", v, sizeof(v)) &&
		    strtoull(v, NULL, 10) == d.delivered)
			break;
		free(out);
		out = NULL;
	}
	if (!out)
		out = ctl("show cache --aggregation source-index-tos:v4 --json");
	cr_assert_eq(coll_json_value(out, "packetDeltaCount", v, sizeof(v)), 0, "%s", out);
	cr_expect_eq(strtoull(v, NULL, 10), d.delivered, "show cache: %s", out);
	cr_expect(!strchr(strchr(out, '\n') + 1, '{'), "one aggregated flow: %s", out);
	free(out);
	out = ctl("show cache --aggregation protocol-port --sport 10007");
	cr_expect(strstr(out, "1 aggregated flow in the protocol-port cache (of 200)"), "%s", out);
	free(out);
	out = ctl("show stats");
	cr_expect(strstr(out, "source-index-tos/v4") && strstr(out, "protocol-port/v4"), "%s", out);
	free(out);

	/* out 5 s after the last packet, although no original flow has aged */
	t0 = netns_now_ms();
	while (netns_now_ms() - t0 < 15000) {
		read_sums(&s, NULL);
		if (s.packets >= d.delivered)
			break;
		usleep(200000);
	}
	cr_assert_eq(s.packets, d.delivered,
		     "the source-index-tos record holds %llu of %llu packets after %llu ms",
		     (unsigned long long)s.packets, (unsigned long long)d.delivered,
		     (unsigned long long)(netns_now_ms() - t0));
	out = ctl("show stats");
	cr_expect(strstr(out, "flows: 200 in cache"), "the originals are still cached: %s", out);
	free(out);

	cr_assert_eq(netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS), 0);
	agent.pid = 0;
	read_sums(&s, "\"sourceTransportPort\":10007,");
	cr_expect_eq(s.with_addr, 0, "--no-original: %llu records with addresses",
		     (unsigned long long)s.with_addr);
	cr_expect_eq(s.records, 1 + FLOWS, "one source-index-tos and %d protocol-port records",
		     FLOWS);
	cr_expect_eq(s.packets, d.delivered);
	cr_expect_eq(s.by_sport, livegen_flow_share(g, d.sent, 7));
	livegen_close(g);
	passed = true;
}

/*
 * One flexible record alone, without originals: the datapath keys by the record's fields (the
 * destination /24, port and protocol), so the kernel itself folds the 200 flows into one; the
 * record still sums exactly what the veth delivered, and `show cache --record` shows it.
 */
Test(aggregate, one_record_alone_is_keyed_in_the_kernel, .timeout = 120)
{
	char url[140];
	const char *args[] = { "-i",
			       pair.rx,
			       "-c",
			       url,
			       "--poll-interval",
			       "200",
			       "--pin-dir",
			       pin_dir,
			       "--record",
			       "dst:v4:match=destination-address/24,destination-port,protocol:"
			       "collect=packets/32,bytes",
			       "--aggregate-inactive-timeout",
			       "5",
			       "--no-original",
			       NULL };
	struct livegen_opts o = { .flows = FLOWS, .ip_len = 100 };
	struct livegen_delivery d;
	struct livegen *g;
	uint64_t packets = 0, bytes = 0, t0;
	size_t len = 0, records = 0;
	char *out = NULL, *text, *line, *save = NULL, v[64];
	int ret;

	snprintf(url, sizeof(url), "json:%s", json);
	ret = netns_agent_start(&agent, pair.ns_rx, AGENT_START_MS, args);
	cr_assert_eq(ret, 0, "the agent did not start: %s", strerror(-ret));
	cr_assert_eq(livegen_open(&g, &o), 0);
	ret = livegen_send_pair(g, &pair, 100000, 0, 5000, &d);
	cr_assert_eq(ret, 0, "live frames: %s", strerror(-ret));

	for (t0 = netns_now_ms(); netns_now_ms() - t0 < 5000; usleep(100000)) {
		free(out);
		out = ctl("show cache --record dst:v4 --json");
		if (!coll_json_value(out, "packetDeltaCount", v, sizeof(v)) &&
		    strtoull(v, NULL, 10) == d.delivered)
			break;
	}
	cr_assert_eq(coll_json_value(out, "packetDeltaCount", v, sizeof(v)), 0, "%s", out);
	cr_expect_eq(strtoull(v, NULL, 10), d.delivered, "show cache: %s", out);
	cr_expect_eq(coll_json_value(out, "destinationIPv4Address", v, sizeof(v)), 0, "%s", out);
	cr_expect_str_eq(v, "198.18.0.0");
	free(out);
	/* the kernel's key held only the record's fields: one UDP flow, not 200 */
	out = ctl("show cache --proto udp");
	cr_expect(strstr(out, "\n1 flow in the cache") || !strncmp(out, "1 flow in the cache", 19),
		  "the kernel kept more than the record's key: %s", out);
	free(out);
	cr_expect_neq(nsflow_ctl(&agent, &out, "show cache --record nosuch"), 0);
	cr_expect(out && strstr(out, "this agent has no record nosuch"), "%s", out ? out : "");
	free(out);

	cr_assert_eq(netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS), 0);
	agent.pid = 0;
	text = coll_slurp(json, &len);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		cr_expect(!strstr(line, "sourceIPv4Address"), "an original record: %s", line);
		if (coll_json_value(line, "packetDeltaCount", v, sizeof(v)))
			continue;
		records++;
		packets += strtoull(v, NULL, 10);
		if (!coll_json_value(line, "octetDeltaCount", v, sizeof(v)))
			bytes += strtoull(v, NULL, 10);
		cr_expect(strstr(line, "\"destinationIPv4PrefixLength\":24"), "%s", line);
	}
	free(text);
	cr_expect_eq(packets, d.delivered, "%zu records hold %llu packets, the veth delivered %llu",
		     records, (unsigned long long)packets, (unsigned long long)d.delivered);
	cr_expect_eq(bytes, 100 * d.delivered);
	livegen_close(g);
	passed = true;
}
