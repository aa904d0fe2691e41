// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Interfaces as they come and go: with --interface-match and --exclude-interfaces the agent
 * attaches to the veths that appear and the rules choose, leaves the excluded ones alone, drops
 * the ones deleted or renamed away, and meters an interface again when it comes back; an
 * interface named with -i is followed the same way. Every packet the veths delivered is in the
 * exported records, under the ifindex it arrived on.
 *
 * Run from the top directory, as root (`make test-e2e`).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include "collectors.h"
#include "livegen.h"
#include "netns.h"

#define AGENT_START_MS 15000
#define AGENT_STOP_MS  30000
#define SETTLE_MS      5000
#define LOG_WAIT_MS    15000
#define FLOWS	       500
#define FRAMES	       20000
#define IP_LEN	       100

static struct netns_pair pair;
static struct netns_agent agent;
static char pin_dir[64], json[96];
static int lock_fd = -1;
static bool passed;

static void setup(void)
{
	int pid = getpid();

	memset(&agent, 0, sizeof(agent));
	lock_fd = nsflow_e2e_lock(240000);
	cr_assert(lock_fd >= 0, "no e2e lock (%s): another e2e test or benchmark is running",
		  strerror(-lock_fd));
	netns_cleanup_stale();
	cr_assert_eq(netns_pair_create(&pair, 'i'), 0, "could not make the veth pair");
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/" NETNS_PREFIX "-%d-ifaces", pid);
	snprintf(json, sizeof(json), "/tmp/" NETNS_PREFIX "-%d-ifaces.json", pid);
	snprintf(agent.log, sizeof(agent.log), "/tmp/" NETNS_PREFIX "-%d-ifaces-agent.log", pid);
	passed = false;
}

static void teardown(void)
{
	if (agent.pid > 0)
		netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS);
	if (pair.ns_rx[0])
		netns_sh(pair.ns_rx, NULL, "%s detach --all --pin-dir %s", nsflow_bin(), pin_dir);
	netns_pair_destroy(&pair);
	netns_rm_pin_dir(pin_dir);
	unlink(json);
	if (passed || access(agent.log, F_OK))
		unlink(agent.log);
	else
		fprintf(stderr, "kept %s\n", agent.log);
	nsflow_e2e_unlock(lock_fd);
}

TestSuite(ifaces, .init = setup, .fini = teardown);

static int log_count(const char *needle)
{
	char *text = coll_slurp(agent.log, NULL);
	int n = 0;

	for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(text);
	return n;
}

/* Waits until the agent's log holds "NAME (ifindex N) WHAT" @n times. */
static void wait_log(const char *name, int ifindex, const char *what, int n)
{
	uint64_t end = netns_now_ms() + LOG_WAIT_MS;
	char needle[96];

	snprintf(needle, sizeof(needle), "%s (ifindex %d) %s", name, ifindex, what);
	while (log_count(needle) < n && netns_now_ms() < end)
		usleep(20000);
	if (log_count(needle) < n)
		netns_agent_dump_log(&agent);
	cr_assert_geq(log_count(needle), n, "'%s' not in the agent's log after %d ms", needle,
		      LOG_WAIT_MS);
}

static bool xdp_on(const char *ifname)
{
	struct netns_link l;

	cr_assert_eq(netns_link_get(pair.ns_rx, ifname, &l), 0, "no %s in %s", ifname, pair.ns_rx);
	return l.xdp_attached;
}

/* Another veth between the test's namespaces, its metered end named after tag. */
static struct netns_pair add_veth(char tag)
{
	struct netns_pair v = pair;

	cr_assert_eq(netns_veth_add(&v, tag), 0, "could not make veth %c", tag);
	return v;
}

static void del_veth(const struct netns_pair *v)
{
	cr_assert_eq(netns_sh(v->ns_rx, NULL, "ip link del %s", v->rx), 0, "delete %s", v->rx);
}

static uint64_t send_on(struct livegen *g, const struct netns_pair *v)
{
	struct livegen_delivery d;
	int ret = livegen_send_pair(g, v, FRAMES, 0, SETTLE_MS, &d);

	cr_assert_eq(ret, 0, "%s: live frames: %s", v->rx, strerror(-ret));
	cr_assert_eq(d.sent, FRAMES);
	cr_assert_eq(d.dropped, 0, "%s dropped %llu frames: per-flow counts are unknown", v->rx,
		     (unsigned long long)d.dropped);
	return d.delivered;
}

/* `nsflow show interfaces` lists @name or not. */
static bool listed(const char *name)
{
	char *out = NULL;
	bool there;

	cr_assert_eq(nsflow_ctl(&agent, &out, "show interfaces"), 0, "show interfaces: %s",
		     out ? out : "");
	there = strstr(out, name) != NULL;
	free(out);
	return there;
}

/* Packets of the records that came in on ifindex, and every record's total. */
static uint64_t packets_in(const struct lg_records *rs, uint32_t ifindex)
{
	uint64_t n = 0;

	for (size_t i = 0; i < rs->n; i++)
		n += rs->r[i].in_if == ifindex ? rs->r[i].packets : 0;
	return n;
}

/* Every flow of the generator has exactly its share of what was sent, all interfaces summed. */
static void expect_every_packet(struct livegen *g, const struct lg_records *rs, uint64_t sent,
				uint64_t delivered)
{
	struct livegen_tally t;

	cr_assert_eq(livegen_tally(g, rs, &t), 0);
	cr_expect_eq(t.packets, delivered, "the records hold %llu packets, %llu were delivered",
		     (unsigned long long)t.packets, (unsigned long long)delivered);
	cr_expect_eq(t.octets, delivered * IP_LEN);
	for (uint32_t f = 0; f < FLOWS; f++) {
		uint64_t want = livegen_flow_share(g, sent, f);

		if (t.flow_packets[f] != want)
			cr_assert_fail("flow %u: exported %llu packets, delivered %llu", f,
				       (unsigned long long)t.flow_packets[f],
				       (unsigned long long)want);
	}
	passed = t.packets == delivered;
	livegen_tally_free(&t);
}

static struct livegen *open_gen(void)
{
	struct livegen_opts o = { .family = AF_INET,
				  .proto = IPPROTO_UDP,
				  .flows = FLOWS,
				  .base_port = 20000,
				  .ip_len = IP_LEN };
	struct livegen *g;
	int ret = livegen_open(&g, &o);

	cr_assert_eq(ret, 0, "livegen: %s", strerror(-ret));
	return g;
}

/*
 * Rules: nothing matches at start; veth a appears (metered), x appears (excluded), b appears
 * (metered); a is deleted (dropped, not listed) and made again (metered under its new ifindex);
 * b is renamed to a name no rule takes (detached).
 */
Test(ifaces, rules_follow_interfaces_as_they_come_and_go, .timeout = 180)
{
	char match[64], exclude[64], ren[IF_NAMESIZE];
	const char *args[] = {
		"--interface-match", match,   "--exclude-interfaces", exclude, "-c",	      NULL,
		"--pin-dir",	     pin_dir, "--poll-interval",      "100",   "--no-egress", NULL
	};
	struct netns_pair a, x, b, a2;
	struct lg_records rs = { 0 };
	uint64_t on_a, on_b, on_a2;
	struct livegen *g = open_gen(), *gx;
	char collector[128];
	int pid = getpid(), ret;

	snprintf(match, sizeof(match), NETNS_PREFIX "%u[a-f]r", (unsigned int)pid % 10000000u);
	snprintf(exclude, sizeof(exclude), NETNS_PREFIX "%u[e-f]r", (unsigned int)pid % 10000000u);
	snprintf(collector, sizeof(collector), "json:%s", json);
	args[5] = collector;
	ret = netns_agent_start(&agent, pair.ns_rx, AGENT_START_MS, args);
	cr_assert_eq(ret, 0, "the agent did not start with no interface matching yet: %s",
		     strerror(-ret));
	cr_assert(log_count("metering 0 interfaces") == 1, "the start should say none matches");
	cr_assert(!xdp_on(pair.rx), "%s matches no rule", pair.rx);

	a = add_veth('a');
	wait_log(a.rx, a.rx_ifindex, "appeared: metering it", 1);
	cr_assert(xdp_on(a.rx), "%s appeared and matches: XDP should be on it", a.rx);
	x = add_veth('e');
	b = add_veth('b');
	wait_log(b.rx, b.rx_ifindex, "appeared: metering it", 1);
	cr_assert(!xdp_on(x.rx), "%s is excluded", x.rx);
	cr_assert(listed(a.rx) && listed(b.rx) && !listed(x.rx));
	on_a = send_on(g, &a);
	on_b = send_on(g, &b);
	/* frames on the excluded veth, from a generator of their own (not in the tallies) */
	gx = open_gen();
	cr_assert_eq(livegen_send(gx, x.ns_tx, x.tx_ifindex, FRAMES, 0, NULL), 0);
	livegen_close(gx);

	del_veth(&a);
	wait_log(a.rx, a.rx_ifindex, "was deleted", 1);
	cr_assert(!listed(a.rx), "a deleted interface must not stay listed");
	a2 = add_veth('a');
	cr_assert_neq(a2.rx_ifindex, a.rx_ifindex);
	wait_log(a2.rx, a2.rx_ifindex, "appeared: metering it", 1);
	cr_assert(xdp_on(a2.rx) && listed(a2.rx), "%s made again should be metered again", a2.rx);
	on_a2 = send_on(g, &a2);

	snprintf(ren, sizeof(ren), NETNS_PREFIX "%uzr", (unsigned int)pid % 10000000u);
	cr_assert_eq(netns_sh(pair.ns_rx, NULL, "ip link set %s name %s", b.rx, ren), 0);
	wait_log(b.rx, b.rx_ifindex, "was renamed", 1);
	cr_assert(!xdp_on(ren), "%s (was %s) matches no rule: nsflow must be off it", ren, b.rx);

	ret = netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS);
	cr_assert_eq(ret, 0, "SIGTERM should end the agent with status 0, got %d", ret);
	cr_assert(!xdp_on(a2.rx), "the program should go with the agent");

	ret = lg_read_json(json, &rs);
	cr_assert_eq(ret, 0, "read %s: %s", json, strerror(-ret));
	cr_expect_eq(packets_in(&rs, (uint32_t)a.rx_ifindex), on_a);
	cr_expect_eq(packets_in(&rs, (uint32_t)b.rx_ifindex), on_b);
	cr_expect_eq(packets_in(&rs, (uint32_t)a2.rx_ifindex), on_a2);
	cr_expect_eq(packets_in(&rs, (uint32_t)x.rx_ifindex), 0, "the excluded %s was metered",
		     x.rx);
	/* flows by generator: what a, b and a again delivered (x's frames are not in them) */
	expect_every_packet(g, &rs, 3ull * FRAMES, on_a + on_b + on_a2);
	lg_records_free(&rs);
	livegen_close(g);
}

/* An interface named with -i that is deleted is dropped; made again, it is metered again. */
Test(ifaces, a_named_interface_deleted_and_made_again_is_metered_again, .timeout = 120)
{
	struct netns_pair n = add_veth('n'), n2;
	const char *args[] = {
		"-i",  n.rx,	      "-c", NULL, "--pin-dir", pin_dir, "--poll-interval",
		"100", "--no-egress", NULL
	};
	struct lg_records rs = { 0 };
	struct livegen *g = open_gen();
	uint64_t on_n, on_n2;
	char collector[128];
	int ret;

	snprintf(collector, sizeof(collector), "json:%s", json);
	args[3] = collector;
	ret = netns_agent_start(&agent, pair.ns_rx, AGENT_START_MS, args);
	cr_assert_eq(ret, 0, "the agent did not start: %s", strerror(-ret));
	on_n = send_on(g, &n);
	del_veth(&n);
	wait_log(n.rx, n.rx_ifindex, "was deleted", 1);
	cr_assert(!listed(n.rx));
	cr_assert(nsflow_ctl_alive(&agent), "the agent goes on without its only interface");
	n2 = add_veth('n');
	wait_log(n2.rx, n2.rx_ifindex, "appeared: metering it", 1);
	cr_assert(xdp_on(n2.rx));
	on_n2 = send_on(g, &n2);
	ret = netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS);
	cr_assert_eq(ret, 0, "SIGTERM: status %d", ret);
	cr_assert(!xdp_on(n2.rx));

	ret = lg_read_json(json, &rs);
	cr_assert_eq(ret, 0, "read %s: %s", json, strerror(-ret));
	cr_expect_eq(packets_in(&rs, (uint32_t)n.rx_ifindex), on_n);
	cr_expect_eq(packets_in(&rs, (uint32_t)n2.rx_ifindex), on_n2);
	expect_every_packet(g, &rs, 2ull * FRAMES, on_n + on_n2);
	lg_records_free(&rs);
	livegen_close(g);
}
