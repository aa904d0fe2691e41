// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * SIGHUP reloads `nsflow run --config FILE`: a new collector, new timeouts, interfaces added and
 * removed, all under the same pid and without losing or doubling a packet; a bad file is refused
 * and the running configuration stays. The agent (build/nsflow) meters a veth in a test
 * namespace; its collectors are JSON files of the test's own.
 *
 * Run from the top directory, as root (`make test-e2e`).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "collectors.h"
#include "livegen.h"
#include "netns.h"

#define AGENT_START_MS 15000
#define AGENT_STOP_MS  30000
#define SETTLE_MS      5000
#define LOG_WAIT_MS    15000
#define FLOWS	       2000
#define IP_LEN	       80

static struct netns_pair pair;
static struct netns_agent agent;
static char pin_dir[64], config[96], json_a[96], json_b[96], extra_if[16];
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
	cr_assert_eq(netns_pair_create(&pair, 'h'), 0, "could not make the veth pair");
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/" NETNS_PREFIX "-%d-reload", pid);
	snprintf(config, sizeof(config), "/tmp/" NETNS_PREFIX "-%d-reload.yaml", pid);
	snprintf(json_a, sizeof(json_a), "/tmp/" NETNS_PREFIX "-%d-reload-a.json", pid);
	snprintf(json_b, sizeof(json_b), "/tmp/" NETNS_PREFIX "-%d-reload-b.json", pid);
	snprintf(agent.log, sizeof(agent.log), "/tmp/" NETNS_PREFIX "-%d-reload-agent.log", pid);
	/* a second veth, both ends in the agent's namespace: an interface to add and remove */
	snprintf(extra_if, sizeof(extra_if), "nsr%d", pid % 100000);
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
	unlink(config);
	unlink(json_a);
	unlink(json_b);
	if (passed || access(agent.log, F_OK))
		unlink(agent.log);
	else
		fprintf(stderr, "kept %s\n", agent.log);
	nsflow_e2e_unlock(lock_fd);
}

TestSuite(reload, .init = setup, .fini = teardown);

static void write_config(const char *ifaces, const char *collector, int active_timeout)
{
	FILE *f = fopen(config, "w");

	cr_assert_not_null(f, "%s: %s", config, strerror(errno));
	fprintf(f,
		"interfaces: [%s]\ncollectors:\n  - json:%s\nactive-timeout: %d\n"
		"inactive-timeout: 30\npoll-interval: 100\n",
		ifaces, collector, active_timeout);
	fclose(f);
}

/* How often @needle is in the agent's log. */
static int log_count(const char *needle)
{
	char *text = coll_slurp(agent.log, NULL);
	int n = 0;

	for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(text);
	return n;
}

/* Waits until the agent's log holds @needle @n times. */
static void wait_log(const char *needle, int n, const char *what)
{
	uint64_t end = netns_now_ms() + LOG_WAIT_MS;

	while (log_count(needle) < n && netns_now_ms() < end)
		usleep(20000);
	if (log_count(needle) < n)
		netns_agent_dump_log(&agent);
	cr_assert_geq(log_count(needle), n, "%s: '%s' not in the agent's log after %d ms", what,
		      needle, LOG_WAIT_MS);
}

/* SIGHUP, then the new image answers on the control socket under the same pid. */
static void reload(int n, const char *what)
{
	uint64_t end;

	cr_assert_eq(kill(agent.pid, SIGHUP), 0, "%s: SIGHUP: %s", what, strerror(errno));
	wait_log("configuration reloaded", n, what);
	end = netns_now_ms() + LOG_WAIT_MS;
	while (!nsflow_ctl_alive(&agent) && netns_now_ms() < end)
		usleep(20000);
	cr_assert(nsflow_ctl_alive(&agent), "%s: the reloaded agent does not answer", what);
	cr_assert_eq(kill(agent.pid, 0), 0, "%s: pid %d is gone", what, agent.pid);
}

static void send_settled(struct livegen *g, uint64_t n, struct livegen_delivery *d)
{
	int ret = livegen_send_pair(g, &pair, n, 0, SETTLE_MS, d);

	cr_assert_eq(ret, 0, "live frames: %s", strerror(-ret));
	cr_assert_eq(d->sent, n);
	cr_assert_eq(d->dropped, 0, "the veth dropped %llu frames: per-flow counts are unknown",
		     (unsigned long long)d->dropped);
}

static bool xdp_on(const char *ifname)
{
	struct netns_link l;

	cr_assert_eq(netns_link_get(pair.ns_rx, ifname, &l), 0, "no %s in %s", ifname, pair.ns_rx);
	return l.xdp_attached;
}

static void read_json(const char *path, struct lg_records *rs)
{
	int ret = access(path, F_OK) ? 0 : lg_read_json(path, rs);

	cr_assert_eq(ret, 0, "read %s: %s", path, strerror(-ret));
	cr_assert_eq(rs->bad_lines, 0, "%s: %zu lines that are not flow records", path,
		     rs->bad_lines);
}

/*
 * Traffic before, between and after two reloads (collector A -> B, active timeout 2 -> 1, an
 * interface added then removed) and a refused bad file: A and B together hold exactly what the
 * veth delivered, flow by flow; after the first reload nothing more goes to A.
 */
Test(reload, sighup_takes_a_new_config_and_refuses_a_bad_one, .timeout = 150)
{
	struct livegen_opts o = { .family = AF_INET,
				  .proto = IPPROTO_UDP,
				  .flows = FLOWS,
				  .base_port = 12000,
				  .ip_len = IP_LEN };
	const char *args[] = { "--config", config, "--pin-dir", pin_dir, NULL };
	struct lg_records ra = { 0 }, rb = { 0 }, all = { 0 };
	struct livegen_delivery d[4];
	struct livegen_tally t;
	struct livegen *g;
	uint64_t sent = 0, delivered = 0;
	size_t a_after_reload;
	char ifaces[64];
	pid_t pid;
	int ret;

	cr_assert_eq(netns_sh(pair.ns_rx, NULL,
			      "ip link add %s type veth peer name %sp && ip link set %s up && "
			      "ip link set %sp up",
			      extra_if, extra_if, extra_if, extra_if),
		     0, "could not make %s in %s", extra_if, pair.ns_rx);
	ret = livegen_open(&g, &o);
	cr_assert_eq(ret, 0, "livegen: %s", strerror(-ret));
	write_config(pair.rx, json_a, 2);
	ret = netns_agent_start(&agent, pair.ns_rx, AGENT_START_MS, args);
	cr_assert_eq(ret, 0, "the agent did not start: %s", strerror(-ret));
	pid = agent.pid;
	cr_assert(!xdp_on(extra_if), "%s is not configured yet", extra_if);
	send_settled(g, 40000, &d[0]);
	/* past the active timeout: A has records of its own before the reload */
	usleep(2600 * 1000);

	/* collector B, active timeout 1 s, a second interface */
	snprintf(ifaces, sizeof(ifaces), "%s, %s", pair.rx, extra_if);
	write_config(ifaces, json_b, 1);
	reload(1, "first reload");
	cr_assert_eq(agent.pid, pid);
	cr_assert(xdp_on(pair.rx), "%s lost its program in the reload", pair.rx);
	cr_assert(xdp_on(extra_if), "the reload should attach the added %s", extra_if);
	read_json(json_a, &ra);
	a_after_reload = ra.n;
	lg_records_free(&ra);
	send_settled(g, 40000, &d[1]);

	/* a bad file: refused with its line, the agent goes on as it was */
	cr_assert_eq(netns_sh(NULL, NULL, "printf 'interfaces: [%s\\nbogus: 1\\n' > %s", pair.rx,
			      config),
		     0);
	cr_assert_eq(kill(agent.pid, SIGHUP), 0);
	wait_log("reload refused, the running configuration stays", 1, "bad file");
	cr_assert(log_count(config) > 0, "the refusal should name %s", config);
	cr_assert(nsflow_ctl_alive(&agent), "the agent should go on after a refused reload");
	cr_assert_eq(log_count("configuration reloaded"), 1, "a bad file must not be taken up");
	send_settled(g, 40000, &d[2]);

	/* the extra interface removed: detached; the veth keeps its program */
	write_config(pair.rx, json_b, 1);
	reload(2, "second reload");
	cr_assert(!xdp_on(extra_if), "the reload should detach the removed %s", extra_if);
	cr_assert(xdp_on(pair.rx), "%s lost its program in the second reload", pair.rx);
	send_settled(g, 40000, &d[3]);

	ret = netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS);
	cr_assert_eq(ret, 0, "SIGTERM should end the agent with status 0, got %d", ret);
	cr_assert(!xdp_on(pair.rx), "the program should go with the agent");

	read_json(json_a, &ra);
	read_json(json_b, &rb);
	cr_log_info("%zu records in A (%zu at the first reload), %zu in B", ra.n, a_after_reload,
		    rb.n);
	cr_expect_eq(ra.n, a_after_reload, "A got %zu records after the reload took it away",
		     ra.n - a_after_reload);
	cr_assert_gt(a_after_reload, 0, "nothing reached the first collector before the reload");
	cr_assert_gt(rb.n, 0, "nothing reached the new collector");
	for (int i = 0; i < 4; i++) {
		sent += d[i].sent;
		delivered += d[i].delivered;
	}
	all.r = calloc(ra.n + rb.n + 1, sizeof(*all.r));
	cr_assert_not_null(all.r);
	memcpy(all.r, ra.r, ra.n * sizeof(*all.r));
	memcpy(all.r + ra.n, rb.r, rb.n * sizeof(*all.r));
	all.n = ra.n + rb.n;
	cr_assert_eq(livegen_tally(g, &all, &t), 0);
	cr_expect_eq(t.packets, delivered, "A and B hold %llu packets, %llu were delivered",
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
	free(all.r);
	lg_records_free(&ra);
	lg_records_free(&rb);
	livegen_close(g);
}

/* What cannot change under a running datapath is refused with the way to change it. */
Test(reload, sighup_refuses_to_resize_the_pinned_tables, .timeout = 60)
{
	const char *args[] = { "--config", config, "--pin-dir", pin_dir, NULL };
	FILE *f;
	int ret;

	write_config(pair.rx, json_a, 60);
	ret = netns_agent_start(&agent, pair.ns_rx, AGENT_START_MS, args);
	cr_assert_eq(ret, 0, "the agent did not start: %s", strerror(-ret));
	f = fopen(config, "a");
	cr_assert_not_null(f);
	fputs("cache-entries: 4096\n", f);
	fclose(f);
	cr_assert_eq(kill(agent.pid, SIGHUP), 0);
	wait_log("reload refused", 1, "cache-entries");
	cr_assert(log_count("restart nsflow to resize them") == 1,
		  "the refusal should say how to resize");
	cr_assert(nsflow_ctl_alive(&agent));
	ret = netns_agent_stop(&agent, SIGTERM, AGENT_STOP_MS);
	cr_assert_eq(ret, 0, "SIGTERM after a refused reload: status %d", ret);
	passed = true;
}
