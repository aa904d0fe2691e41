// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * VRF devices, live: the metered veth is enslaved to a VRF device (an l3mdev master, `ip link
 * add blue type vrf table 10`) before the agent starts, then moved to another one while it
 * runs. Frames sent in each phase must come out (IPFIX file, decoded by tshark) with the VRF
 * id of the device the veth was in at the time (its table), the instance's route
 * distinguisher, and the VRF names in options; `show cache --vrf` and `show stats` list them by
 * VRF.
 *
 * KERNEL TIER ONLY: VRF devices need CONFIG_NET_VRF, which the host's kernel lacks. This
 * binary is not among the host's e2e tests; tests/kernels/checks.sh runs it as check "vrf" in
 * the Debian 6.1 guest (`make test-kernels CHECKS=vrf`). On a kernel without VRF devices it
 * fails: it never skips.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cflow.h"
#include "netns.h"
#include "pkt.h"

#define FRAMES 50

static const struct vrf_case {
	const char *name, *rd, *src;
	unsigned int table;
	const char *rd_hex; /* RFC 4364 4.2, written out by hand */
} vrfs[] = {
	{ "blue", "65000:10", "198.18.10.1", 10, "0000fde80000000a" },
	{ "red", "192.0.2.7:20", "198.18.20.1", 20, "0001c00002070014" },
};

static struct netns_pair pair;
static struct netns_agent agent;
static char ipfix[128], url[160], pin_dir[96];
static int lock_fd = -1;
static bool passed;

static void setup(void)
{
	lock_fd = nsflow_e2e_lock(240000);
	cr_assert(lock_fd >= 0, "no e2e lock");
	netns_cleanup_stale();
	cr_assert_eq(netns_pair_create(&pair, 'v'), 0, "could not make the veth pair");
	snprintf(ipfix, sizeof(ipfix), "/tmp/" NETNS_PREFIX "-%d-vrf.ipfix", getpid());
	snprintf(url, sizeof(url), "file:%s", ipfix);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/" NETNS_PREFIX "-%d-vrf", getpid());
	unlink(ipfix);
	memset(&agent, 0, sizeof(agent));
	snprintf(agent.log, sizeof(agent.log), "/tmp/" NETNS_PREFIX "-%d-vrf-agent.log", getpid());
}

static void teardown(void)
{
	if (agent.pid > 0)
		netns_agent_stop(&agent, SIGTERM, 30000);
	if (!passed && !access(agent.log, F_OK))
		netns_agent_dump_log(&agent);
	if (pair.ns_rx[0])
		netns_sh(pair.ns_rx, NULL, "%s detach -i %s --pin-dir %s", nsflow_bin(), pair.rx,
			 pin_dir);
	netns_pair_destroy(&pair);
	rmdir(pin_dir);
	if (passed)
		unlink(ipfix);
	unlink(agent.log);
	nsflow_e2e_unlock(lock_fd);
}

static void send_from(const char *src)
{
	struct pb p;
	long sent;

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, src, "198.18.0.2", 0, 64, 0, 0, 0);
	pb_udp(&p, 40000, 5000);
	pb_zero(&p, 64);
	pb_finish(&p);
	sent = netns_send_frames(pair.ns_tx, pair.tx, p.b, p.len, FRAMES);
	cr_assert_eq(sent, FRAMES, "sent %ld frames", sent);
}

static void enslave(const struct vrf_case *v)
{
	char *out = NULL;
	int ret = netns_sh(pair.ns_rx, &out, "ip link set %s master %s", pair.rx, v->name);

	cr_assert_eq(ret, 0, "ip link set %s master %s: %s", pair.rx, v->name, out);
	free(out);
}

/* `show cache --vrf` lists the flow of this phase's VRF alone, by name and by id */
static void show_cache_by_vrf(const struct vrf_case *in, const struct vrf_case *other)
{
	char words[64], *out = NULL;
	int ret;

	snprintf(words, sizeof(words), "show cache --vrf %s", in->name);
	ret = nsflow_ctl(&agent, &out, words);
	cr_assert_eq(ret, 0, "%s: %s", words, out);
	cr_expect(strstr(out, in->src), "%s: no flow from %s: %s", words, in->src, out);
	cr_expect(strstr(out, "1 flow in the cache"), "%s: %s", words, out);
	free(out);
	snprintf(words, sizeof(words), "show cache --vrf %u", other->table);
	ret = nsflow_ctl(&agent, &out, words);
	cr_assert_eq(ret, 0, "%s: %s", words, out);
	cr_expect(strstr(out, "0 flows in the cache"), "%s: %s", words, out);
	free(out);
}

/* `show stats` has a line per VRF with the packets exported in it */
static void stats_have_vrf(const struct vrf_case *v)
{
	char *out = NULL, *line, want[96];
	int ret = nsflow_ctl(&agent, &out, "show stats");

	cr_assert_eq(ret, 0, "show stats: %s", out);
	line = strstr(out, "vrf (exported)");
	cr_assert_not_null(line, "show stats has no VRF lines: %s", out);
	snprintf(want, sizeof(want), "%u %10u %14u", v->table, 1, FRAMES);
	cr_expect(strstr(line, v->name) && strstr(line, want), "show stats: no '%s %s': %s",
		  v->name, want, line);
	free(out);
}

static void reset_cache(void)
{
	char *out = NULL;
	int ret = nsflow_ctl(&agent, &out, "reset cache");

	cr_assert_eq(ret, 0, "reset cache: %s", out);
	free(out);
}

Test(vrf, enslaved_veth_exports_its_vrf_id_name_and_rd, .init = setup, .fini = teardown,
     .timeout = 300)
{
	static struct cflow_rec recs[128];
	char flags[2][96], *out = NULL;
	unsigned int seen[2] = { 0 }, named[2] = { 0 };
	ssize_t n;
	int ret;

	for (size_t i = 0; i < 2; i++) {
		ret = netns_sh(pair.ns_rx, &out,
			       "ip link add %s type vrf table %u && ip link set %s up",
			       vrfs[i].name, vrfs[i].table, vrfs[i].name);
		cr_assert_eq(ret, 0, "VRF device %s (CONFIG_NET_VRF?): %s", vrfs[i].name, out);
		free(out);
		out = NULL;
		snprintf(flags[i], sizeof(flags[i]), "%s:rd=%s", vrfs[i].name, vrfs[i].rd);
	}
	enslave(&vrfs[0]);
	{
		const char *args[] = { "-i",	    pair.rx,	       "-c",
				       url,	    "--poll-interval", "100",
				       "--pin-dir", pin_dir,	       "--vpn-instance",
				       flags[0],    "--vpn-instance",  flags[1],
				       NULL };

		ret = netns_agent_start(&agent, pair.ns_rx, 15000, args);
		cr_assert_eq(ret, 0, "agent did not start");
	}
	send_from(vrfs[0].src);
	usleep(500 * 1000); /* drained into the cache */
	show_cache_by_vrf(&vrfs[0], &vrfs[1]);
	reset_cache();
	stats_have_vrf(&vrfs[0]);
	/* moved to another VRF while the agent runs: it must follow */
	ret = netns_sh(pair.ns_rx, NULL, "ip link set %s nomaster", pair.rx);
	cr_assert_eq(ret, 0);
	enslave(&vrfs[1]);
	usleep(1000 * 1000); /* several polls */
	send_from(vrfs[1].src);
	usleep(500 * 1000);
	show_cache_by_vrf(&vrfs[1], &vrfs[0]);
	reset_cache();
	stats_have_vrf(&vrfs[1]);
	cr_assert_eq(netns_agent_stop(&agent, SIGTERM, 30000), 0, "agent exit");
	agent.pid = 0;
	n = cflow_records(ipfix, "", recs, sizeof(recs) / sizeof(recs[0]));
	cr_assert_gt(n, 0, "tshark read nothing from %s", ipfix);
	for (ssize_t i = 0; i < n; i++) {
		for (size_t k = 0; k < 2; k++) {
			if (recs[i].name[0] && !strcmp(recs[i].name, vrfs[k].name)) {
				cr_expect_eq(strtoul(recs[i].vrf, NULL, 10), vrfs[k].table,
					     "VRF name %s with id %s", recs[i].name, recs[i].vrf);
				named[k]++;
			}
			if (strcmp(recs[i].src, vrfs[k].src))
				continue;
			cr_expect_eq(strtoul(recs[i].vrf, NULL, 10), vrfs[k].table,
				     "%s, sent while in %s: ingressVRFID %s", recs[i].src,
				     vrfs[k].name, recs[i].vrf);
			cr_expect_str_eq(recs[i].rd, vrfs[k].rd_hex, "%s: RD of %s", recs[i].src,
					 vrfs[k].name);
			seen[k] += (unsigned int)strtoul(recs[i].packets, NULL, 10);
		}
	}
	for (size_t k = 0; k < 2; k++) {
		cr_expect_eq(seen[k], FRAMES, "%s: %u packets exported of %d", vrfs[k].name,
			     seen[k], FRAMES);
		cr_expect_gt(named[k], 0, "no VRFname for %s", vrfs[k].name);
	}
	passed = true;
}
