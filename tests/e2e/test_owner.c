// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One agent per interface, and takeovers that do not depend on seeing the pins: the agent
 * (build/nsflow) on a veth pair of the test's own, exporting JSON lines, with live frames from
 * the peer. A second agent on a metered interface refuses before touching anything (one after
 * the other and both at once); `detach` of another pin dir leaves the running agent alone; an
 * agent killed -9 and restarted under `ip netns exec` or in a private mount namespace (where
 * the pins die with the process) loses no packet and counts none twice.
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
#include <unistd.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include "collectors.h"
#include "livegen.h"
#include "netns.h"

#define N_AGENTS       3
#define AGENT_START_MS 15000
#define AGENT_STOP_MS  30000
#define SETTLE_MS      5000
#define FLOWS	       512
#define IP_LEN	       100

static struct netns_pair pair;
static struct netns_agent agent[N_AGENTS];
static char pin_dir[N_AGENTS][64], json[N_AGENTS][96], json_url[N_AGENTS][104];
static int lock_fd = -1;
static bool passed;

static void rm_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dh = opendir(dir);

	if (!dh)
		return;
	while ((d = readdir(dh)))
		if (d->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			unlink(path);
		}
	closedir(dh);
	rmdir(dir);
}

static void setup(void)
{
	int pid = getpid();

	lock_fd = nsflow_e2e_lock(240000);
	cr_assert(lock_fd >= 0, "no e2e lock (%s): another e2e test or benchmark is running",
		  strerror(-lock_fd));
	netns_cleanup_stale();
	cr_assert_eq(netns_pair_create(&pair, 'o'), 0, "could not make the veth pair");
	for (int i = 0; i < N_AGENTS; i++) {
		memset(&agent[i], 0, sizeof(agent[i]));
		snprintf(agent[i].log, sizeof(agent[i].log), "/tmp/" NETNS_PREFIX "-%d-own%d.log",
			 pid, i);
		snprintf(pin_dir[i], sizeof(pin_dir[i]), "/sys/fs/bpf/" NETNS_PREFIX "-%d-own%d",
			 pid, i);
		snprintf(json[i], sizeof(json[i]), "/tmp/" NETNS_PREFIX "-%d-own%d.json", pid, i);
		snprintf(json_url[i], sizeof(json_url[i]), "json:%.90s", json[i]);
		unlink(json[i]);
	}
	passed = false;
}

static void teardown(void)
{
	for (int i = 0; i < N_AGENTS; i++) {
		if (agent[i].pid > 0)
			netns_agent_stop(&agent[i], SIGTERM, AGENT_STOP_MS);
		if (!passed && !access(agent[i].log, F_OK))
			netns_agent_dump_log(&agent[i]);
	}
	if (pair.ns_rx[0])
		netns_sh(pair.ns_rx, NULL, "%s detach -i %s", nsflow_bin(), pair.rx);
	netns_pair_destroy(&pair);
	for (int i = 0; i < N_AGENTS; i++) {
		rm_dir(pin_dir[i]);
		unlink(agent[i].log);
		if (passed)
			unlink(json[i]);
		else if (!access(json[i], F_OK))
			fprintf(stderr, "kept %s\n", json[i]);
	}
	nsflow_e2e_unlock(lock_fd);
}

TestSuite(owner, .init = setup, .fini = teardown);

/* Agent i's `run` arguments after `nsflow run` (pin dir of agent pin), NULL-terminated. */
static void run_args(int i, int pin, const char **args)
{
	const char *a[] = { "-i",
			    pair.rx,
			    "-c",
			    json_url[i],
			    "--pin-dir",
			    pin_dir[pin],
			    "--poll-interval",
			    "50",
			    "--active-timeout",
			    "600",
			    "--inactive-timeout",
			    "600",
			    NULL };

	memcpy(args, a, sizeof(a));
}

/* Waits until agent i's log has needle, or it exits; true when the log has it. */
static bool wait_log(int i, const char *needle, int timeout_ms)
{
	uint64_t end = netns_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		char *text = coll_slurp(agent[i].log, NULL);
		bool found = text && strstr(text, needle);

		free(text);
		if (found)
			return true;
		if (netns_now_ms() >= end || netns_wait(agent[i].pid, 0) != -ETIMEDOUT)
			return false;
		usleep(20000);
	}
}

/* Spawns agent i with agent pin's pin dir, through a wrapper (what comes before nsflow:
 * `ip netns exec NS`, `unshare ...`, or NULL) run in namespace ns. */
static void spawn_agent(int i, int pin, const char *ns, const char *const wrap[])
{
	const char *argv[64], *args[16];
	size_t n = 0;

	for (size_t k = 0; wrap && wrap[k]; k++)
		argv[n++] = wrap[k];
	argv[n++] = nsflow_bin();
	argv[n++] = "run";
	run_args(i, pin, args);
	for (size_t k = 0; args[k]; k++)
		argv[n++] = args[k];
	argv[n] = NULL;
	agent[i].pid = netns_spawn(ns, agent[i].log, (char *const *)argv);
	cr_assert_gt(agent[i].pid, 0, "spawn agent %d: %s", i, strerror(-agent[i].pid));
}

static void wait_metering(int i)
{
	if (!wait_log(i, "metering ", AGENT_START_MS)) {
		netns_agent_dump_log(&agent[i]);
		cr_assert_fail("agent %d did not start metering", i);
	}
}

static void start_agent(int i)
{
	spawn_agent(i, i, pair.ns_rx, NULL);
	wait_metering(i);
}

/* Agent i runs into the lock of another: exits 1 before touching anything, and says whose. */
static void expect_refused(int i, const char *why)
{
	char *text;
	int st;

	st = netns_wait(agent[i].pid, AGENT_STOP_MS);
	agent[i].pid = 0;
	text = coll_slurp(agent[i].log, NULL);
	cr_assert_eq(st, 1, "agent %d should refuse to start (exit 1), got %d: %s", i, st,
		     text ? text : "");
	cr_assert(text && strstr(text, why), "agent %d: expected \"%s\" in: %s", i, why,
		  text ? text : "");
	free(text);
}

static uint32_t xdp_prog_id(void)
{
	struct netns_link l;

	cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &l), 0);
	return l.xdp_attached ? l.xdp_prog_id : 0;
}

static struct livegen *open_gen(void)
{
	struct livegen_opts o = { .family = AF_INET,
				  .proto = IPPROTO_UDP,
				  .flows = FLOWS,
				  .base_port = 30000,
				  .ip_len = IP_LEN };
	struct livegen *g;
	int ret = livegen_open(&g, &o);

	cr_assert_eq(ret, 0, "livegen: %s", strerror(-ret));
	return g;
}

/* Sends n frames; returns how many reached the veth (none may be dropped: the per-flow check
 * needs every frame). */
static uint64_t send_frames(struct livegen *g, uint64_t n)
{
	struct livegen_delivery d;
	int ret = livegen_send_pair(g, &pair, n, 0, SETTLE_MS, &d);

	cr_assert_eq(ret, 0, "live frames: %s", strerror(-ret));
	cr_assert_eq(d.dropped, 0, "the veth dropped %llu frames", (unsigned long long)d.dropped);
	cr_assert_eq(d.delivered, n);
	return d.delivered;
}

/* What the agents in `which` exported, over all their JSON files, is every frame the
 * generator sent: flow by flow, packets and octets. */
static void check_exact(struct livegen *g, const int *which, int n, const char *what)
{
	struct lg_records rs = { 0 };
	struct livegen_tally t;
	uint64_t sent = livegen_sent(g);

	for (int i = 0; i < n; i++)
		if (!access(json[which[i]], F_OK))
			cr_assert_eq(lg_read_json(json[which[i]], &rs), 0, "read %s",
				     json[which[i]]);
	cr_assert_eq(livegen_tally(g, &rs, &t), 0);
	cr_expect_eq(t.packets, sent,
		     "%s: exported %llu packets of the generator's flows, %llu "
		     "were delivered",
		     what, (unsigned long long)t.packets, (unsigned long long)sent);
	cr_expect_eq(t.octets, sent * IP_LEN, "%s: exported %llu octets, %llu were delivered", what,
		     (unsigned long long)t.octets, (unsigned long long)sent * IP_LEN);
	for (uint32_t f = 0; f < FLOWS; f++)
		if (t.flow_packets[f] != livegen_flow_share(g, sent, f)) {
			livegen_tally_free(&t);
			lg_records_free(&rs);
			cr_assert_fail("%s: flow %u exported with %llu packets, it was sent %llu",
				       what, f, (unsigned long long)t.flow_packets[f],
				       (unsigned long long)livegen_flow_share(g, sent, f));
		}
	livegen_tally_free(&t);
	lg_records_free(&rs);
}

static void stop_agent(int i)
{
	int ret = netns_agent_stop(&agent[i], SIGTERM, AGENT_STOP_MS);

	cr_assert_eq(ret, 0, "agent %d: SIGTERM should end it with status 0, got %d", i, ret);
}

/*
 * One agent meters the veth. A second with another pin dir, then a third with the first's pin
 * dir, refuse and leave its program as it is; `detach --all` of another pin dir takes nothing
 * of it; the first's totals stay exact.
 */
Test(owner, a_second_agent_refuses_and_the_first_keeps_counting, .timeout = 90)
{
	struct livegen *g = open_gen();
	char *out = NULL, msg[160];
	uint32_t id;
	int ret;

	start_agent(0);
	id = xdp_prog_id();
	cr_assert_neq(id, 0, "agent 0 should have attached XDP");
	send_frames(g, 20000);

	snprintf(msg, sizeof(msg), "%s is metered by nsflow pid %d (pin dir %s)", pair.rx,
		 agent[0].pid, pin_dir[0]);
	spawn_agent(1, 1, pair.ns_rx, NULL);
	expect_refused(1, msg);
	cr_assert_eq(xdp_prog_id(), id, "the refused agent changed the XDP program");
	send_frames(g, 20000);

	snprintf(msg, sizeof(msg), "pin dir %s is in use by nsflow pid %d", pin_dir[0],
		 agent[0].pid);
	spawn_agent(2, 0, pair.ns_rx, NULL);
	expect_refused(2, msg);
	cr_assert_eq(xdp_prog_id(), id, "the refused agent changed the XDP program");

	ret = netns_sh(pair.ns_rx, &out, "%s detach --all --pin-dir %s", nsflow_bin(), pin_dir[1]);
	cr_assert_eq(ret, 0, "detach --all --pin-dir %s: %s", pin_dir[1], out);
	cr_assert(strstr(out, "left alone"), "detach should say it left %s alone: %s", pair.rx,
		  out);
	free(out);
	cr_assert_eq(xdp_prog_id(), id, "detach of another pin dir took the running agent's XDP");
	send_frames(g, 20000);

	stop_agent(0);
	cr_assert_eq(xdp_prog_id(), 0, "the agent should take its XDP program off at exit");
	check_exact(g, (const int[]){ 0 }, 1, "the first agent");
	livegen_close(g);
	passed = true;
}

/* Two agents started at the same instant on one interface: one meters, one refuses. */
Test(owner, two_agents_started_at_once_one_meters, .timeout = 90)
{
	struct livegen *g = open_gen();
	int winner, loser;
	char msg[96];

	spawn_agent(0, 0, pair.ns_rx, NULL);
	spawn_agent(1, 1, pair.ns_rx, NULL);
	/* whoever took the lock meters; the other is gone with status 1 */
	for (uint64_t end = netns_now_ms() + AGENT_START_MS;; usleep(20000)) {
		int st0 = netns_wait(agent[0].pid, 0), st1 = netns_wait(agent[1].pid, 0);

		if (st0 != -ETIMEDOUT || st1 != -ETIMEDOUT) {
			cr_assert(st0 == -ETIMEDOUT || st1 == -ETIMEDOUT,
				  "both agents exited (%d, %d)", st0, st1);
			loser = st0 != -ETIMEDOUT ? 0 : 1;
			cr_assert_eq(loser ? st1 : st0, 1, "agent %d exited with %d, not 1", loser,
				     loser ? st1 : st0);
			agent[loser].pid = 0;
			break;
		}
		cr_assert_lt(netns_now_ms(), end, "neither agent refused");
	}
	winner = !loser;
	wait_metering(winner);
	snprintf(msg, sizeof(msg), "nsflow pid %d", agent[winner].pid);
	{
		char *text = coll_slurp(agent[loser].log, NULL);

		cr_assert(text && strstr(text, msg), "the refusal should name the winner (%s): %s",
			  msg, text ? text : "");
		free(text);
	}
	send_frames(g, 50000);
	stop_agent(winner);
	check_exact(g, (const int[]){ 0, 1 }, 2, "the agent that won");
	livegen_close(g);
	passed = true;
}

/*
 * kill -9 and restart through a wrapper whose mount namespace dies with the agent, and with it
 * the bpffs it pinned into: the successor finds the running program's maps (and the killed
 * agent's flow cache) from the attachment. Every frame of all three phases is exported once.
 */
static void kill_and_restart(const char *ns, const char *const wrap[])
{
	struct livegen *g = open_gen();
	uint32_t id;
	char *text;
	int ret;

	spawn_agent(0, 0, ns, wrap);
	wait_metering(0);
	id = xdp_prog_id();
	cr_assert_neq(id, 0, "agent 0 should have attached XDP");
	send_frames(g, 30000);
	/* merged into the killed agent's cache: only the pinned cache can carry it over */
	usleep(300000);
	ret = netns_agent_stop(&agent[0], SIGKILL, AGENT_STOP_MS);
	cr_assert_eq(ret, 128 + SIGKILL, "agent 0 did not die of SIGKILL (%d)", ret);
	cr_assert_eq(xdp_prog_id(), id, "the killed agent's XDP program should stay attached");
	send_frames(g, 30000); /* counted by the orphaned program */

	spawn_agent(1, 0, ns, wrap);
	wait_metering(1);
	text = coll_slurp(agent[1].log, NULL);
	cr_assert(text && strstr(text, "found the running program's maps from its attachment"),
		  "the successor should find the maps from the attachment: %s", text ? text : "");
	cr_assert(text && strstr(text, "took over "),
		  "the successor should take over the cache: %s", text);
	free(text);
	cr_assert_eq(xdp_prog_id(), id, "the running XDP program should be kept, not replaced");
	send_frames(g, 30000);
	stop_agent(1);
	cr_assert_eq(xdp_prog_id(), 0, "the agent should take its XDP program off at exit");
	check_exact(g, (const int[]){ 0, 1 }, 2, "both agents");
	livegen_close(g);
	passed = true;
}

Test(owner, kill9_and_restart_under_ip_netns_exec, .timeout = 90)
{
	kill_and_restart(NULL, (const char *const[]){ "ip", "netns", "exec", pair.ns_rx, NULL });
}

Test(owner, kill9_and_restart_in_a_private_mount_namespace, .timeout = 90)
{
	kill_and_restart(pair.ns_rx,
			 (const char *const[]){
				 "unshare", "--mount", "--propagation", "private", "sh", "-c",
				 "mount -t bpf bpf /sys/fs/bpf && exec \"$0\" \"$@\"", NULL });
}
