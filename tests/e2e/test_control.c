// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The control plane of running agents (build/nsflow), on veth pairs of the test's own: each
 * agent has a control socket of its own, found by its pin dir (or as the only agent running);
 * a socket that answers is not taken over; and neither a `show` client that stops reading nor
 * idle metrics connections hold up polling or export.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include "collectors.h"
#include "livegen.h"
#include "netns.h"

#define N_AGENTS       2
#define AGENT_START_MS 15000
#define AGENT_STOP_MS  30000
#define SETTLE_MS      5000
#define IP_LEN	       100
#define METRICS_PORT   9464

static struct netns_pair pair[N_AGENTS];
static struct netns_agent agent[N_AGENTS];
static char pin_dir[N_AGENTS + 1][64], json[N_AGENTS][96], json_url[N_AGENTS][104];
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
	for (int i = 0; i < N_AGENTS; i++) {
		cr_assert_eq(netns_pair_create(&pair[i], (char)('c' + i)), 0,
			     "could not make veth pair %d", i);
		memset(&agent[i], 0, sizeof(agent[i]));
		snprintf(agent[i].log, sizeof(agent[i].log), "/tmp/" NETNS_PREFIX "-%d-ctl%d.log",
			 pid, i);
		snprintf(json[i], sizeof(json[i]), "/tmp/" NETNS_PREFIX "-%d-ctl%d.json", pid, i);
		snprintf(json_url[i], sizeof(json_url[i]), "json:%.90s", json[i]);
		unlink(json[i]);
	}
	for (int i = 0; i <= N_AGENTS; i++)
		snprintf(pin_dir[i], sizeof(pin_dir[i]), "/sys/fs/bpf/" NETNS_PREFIX "-%d-ctl%d",
			 pid, i);
	passed = false;
}

static void teardown(void)
{
	for (int i = 0; i < N_AGENTS; i++) {
		if (agent[i].pid > 0)
			netns_agent_stop(&agent[i], SIGTERM, AGENT_STOP_MS);
		if (!passed && !access(agent[i].log, F_OK))
			netns_agent_dump_log(&agent[i]);
		netns_pair_destroy(&pair[i]);
		unlink(agent[i].log);
		unlink(json[i]);
	}
	for (int i = 0; i <= N_AGENTS; i++)
		rm_dir(pin_dir[i]);
	nsflow_e2e_unlock(lock_fd);
}

TestSuite(control, .init = setup, .fini = teardown);

/* Starts agent i on pair i with pin dir i; by_pin_dir: no --control-socket, show uses -p. */
static void start_agent(int i, bool by_pin_dir, const char *extra)
{
	const char *args[24] = { "-i",
				 pair[i].rx,
				 "-c",
				 json_url[i],
				 "--pin-dir",
				 pin_dir[i],
				 "--poll-interval",
				 "50",
				 "--active-timeout",
				 "600",
				 "--inactive-timeout",
				 "600" };
	size_t n = 12;
	int ret;

	if (extra) {
		args[n++] = "--metrics";
		args[n++] = extra;
	}
	args[n] = NULL;
	if (by_pin_dir)
		snprintf(agent[i].ctl, sizeof(agent[i].ctl), "-p %s", pin_dir[i]);
	ret = netns_agent_start(&agent[i], pair[i].ns_rx, AGENT_START_MS, args);
	cr_assert_eq(ret, 0, "agent %d did not start: %s", i, strerror(-ret));
}

/* `nsflow WORDS` bounded in time: a control plane that blocks fails here, not by hanging. */
static int ctl(int i, char **out, const char *words)
{
	return netns_sh(NULL, out, "timeout 20 %s %s %s", nsflow_bin(), words, agent[i].ctl);
}

/* The agent's poll counter, from `show stats` ("agent: N polls"). */
static unsigned long long polls(int i)
{
	unsigned long long n = 0;
	char *out = NULL, *p;
	int ret = ctl(i, &out, "show stats");

	cr_assert_eq(ret, 0, "show stats (agent %d): exit %d: %s", i, ret, out);
	p = strstr(out, "agent: ");
	cr_assert(p && sscanf(p, "agent: %llu polls", &n) == 1, "show stats: %s", out);
	free(out);
	return n;
}

static void stop_agent(int i)
{
	int ret = netns_agent_stop(&agent[i], SIGTERM, AGENT_STOP_MS);

	cr_assert_eq(ret, 0, "agent %d: SIGTERM should end it with status 0, got %d", i, ret);
}

/*
 * Two agents, two interfaces, two pin dirs and no --control-socket: `show -p PIN_DIR` reaches
 * each; `show` alone names both and asks which; a third agent told to use the first's socket
 * refuses before attaching; once the first is gone, the second still answers.
 */
Test(control, two_agents_each_answer_on_their_own_socket, .timeout = 120)
{
	char *out = NULL, words[128], sock[108] = "", *p;
	struct netns_link l;
	int ret;

	for (int i = 0; i < N_AGENTS; i++)
		start_agent(i, true, NULL);
	for (int i = 0; i < N_AGENTS; i++) {
		ret = ctl(i, &out, "show interfaces");
		cr_assert_eq(ret, 0, "show interfaces -p %s: exit %d: %s", pin_dir[i], ret, out);
		cr_assert(strstr(out, pair[i].rx), "agent %d should list %s: %s", i, pair[i].rx,
			  out);
		cr_assert_null(strstr(out, pair[!i].rx), "agent %d should not list %s: %s", i,
			       pair[!i].rx, out);
		free(out);
	}
	ret = netns_sh(NULL, &out, "timeout 20 %s show interfaces", nsflow_bin());
	cr_assert_eq(ret, 2, "show without -p among several agents: exit %d: %s", ret, out);
	cr_assert(strstr(out, "say which with -p PIN_DIR"), "%s", out);
	for (int i = 0; i < N_AGENTS; i++)
		cr_assert(strstr(out, pin_dir[i]), "the list should name %s: %s", pin_dir[i], out);
	/* "pin dir DIR (control socket PATH)": the first agent's socket, as it recorded it */
	p = strstr(out, pin_dir[0]);
	cr_assert(p && (p = strstr(p, "(control socket ")) &&
			  sscanf(p, "(control socket %107[^)]", sock) == 1,
		  "no control socket for %s in: %s", pin_dir[0], out);
	free(out);

	/* on pair 1's other end, so that only the socket is in the way */
	ret = netns_sh(pair[1].ns_tx, &out,
		       "timeout 20 %s run -i %s -c %s --pin-dir %s --control-socket %s",
		       nsflow_bin(), pair[1].tx, json_url[1], pin_dir[N_AGENTS], sock);
	cr_assert_eq(ret, 1, "an agent on another's control socket: exit %d: %s", ret, out);
	cr_assert(strstr(out, "another agent answers there"), "%s", out);
	free(out);
	cr_assert_eq(netns_link_get(pair[1].ns_tx, pair[1].tx, &l), 0);
	cr_assert_eq(l.xdp_attached, 0, "the refused agent attached XDP to %s", pair[1].tx);
	ret = ctl(0, &out, "show interfaces");
	cr_assert_eq(ret, 0, "the first agent should still answer: exit %d: %s", ret, out);
	free(out);

	stop_agent(0);
	ret = ctl(0, &out, "show interfaces");
	cr_assert_eq(ret, 1, "show -p of a stopped agent: exit %d: %s", ret, out);
	cr_assert(strstr(out, "no running agent answers"), "%s", out);
	free(out);
	snprintf(words, sizeof(words), "show interfaces");
	ret = ctl(1, &out, words);
	cr_assert_eq(ret, 0, "the second agent should still answer: exit %d: %s", ret, out);
	cr_assert(strstr(out, pair[1].rx), "%s", out);
	free(out);
	stop_agent(1);
	passed = true;
}

/*
 * With one agent running (in a mount namespace of its own with a private /run/nsflow, so that
 * no other agent on the machine is in view), `show` with neither -p nor a socket finds it.
 */
Test(control, the_only_agent_is_found_without_options, .timeout = 120)
{
	char *out = NULL;
	int ret;

	ret = netns_sh(pair[0].ns_rx, &out,
		       "mkdir -p /run/nsflow && unshare --mount --propagation private sh -c '"
		       "mount -t tmpfs nsflow-test /run/nsflow || exit 9; "
		       "%s run -i %s -c %s --pin-dir %s > %s 2>&1 & pid=$!; "
		       "for i in $(seq 150); do timeout 20 %s show interfaces && break; "
		       "sleep 0.1; done; st=$?; kill -TERM $pid; wait $pid; exit $st'",
		       nsflow_bin(), pair[0].rx, json_url[0], pin_dir[0], agent[0].log,
		       nsflow_bin());
	cr_assert_eq(ret, 0, "show without options, one agent running: exit %d: %s", ret, out);
	cr_assert(strstr(out, pair[0].rx), "show interfaces should list %s: %s", pair[0].rx, out);
	free(out);
	passed = true;
}

/* Sends n frames of g on pair 0; every one must reach the veth. */
static void send_frames(struct livegen *g, uint64_t n)
{
	struct livegen_delivery d;
	int ret = livegen_send_pair(g, &pair[0], n, 0, SETTLE_MS, &d);

	cr_assert_eq(ret, 0, "live frames: %s", strerror(-ret));
	cr_assert_eq(d.dropped, 0, "the veth dropped %llu frames", (unsigned long long)d.dropped);
	cr_assert_eq(d.delivered, n);
}

static void check_exact(struct livegen *g, const char *what)
{
	struct lg_records rs = { 0 };
	struct livegen_tally t;
	uint64_t sent = livegen_sent(g);

	cr_assert_eq(lg_read_json(json[0], &rs), 0, "read %s", json[0]);
	cr_assert_eq(livegen_tally(g, &rs, &t), 0);
	cr_expect_eq(t.packets, sent, "%s: exported %llu packets, %llu were delivered", what,
		     (unsigned long long)t.packets, (unsigned long long)sent);
	cr_expect_eq(t.octets, sent * IP_LEN, "%s: exported %llu octets, %llu were delivered", what,
		     (unsigned long long)t.octets, (unsigned long long)sent * IP_LEN);
	livegen_tally_free(&t);
	lg_records_free(&rs);
}

static bool log_has(int i, const char *needle)
{
	char *text = coll_slurp(agent[i].log, NULL);
	bool found = text && strstr(text, needle);

	free(text);
	return found;
}

/*
 * `nsflow show cache` of 50,000 flows to a client that never reads its answer: polls go on
 * meanwhile, other requests are answered, the client is dropped after a while, and every frame
 * is exported.
 */
Test(control, a_client_that_stops_reading_holds_nothing_up, .timeout = 180)
{
	struct livegen_opts o = { .family = AF_INET,
				  .proto = IPPROTO_UDP,
				  .flows = 50000,
				  .base_port = 10000,
				  .ip_len = IP_LEN };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned long long p0, p1;
	struct livegen *g;
	char *out = NULL;
	int fd, ret;

	cr_assert_eq(livegen_open(&g, &o), 0);
	start_agent(0, false, NULL);
	send_frames(g, 100000);
	for (uint64_t end = netns_now_ms() + 10000;; usleep(100000)) {
		unsigned long n = 0;
		char *p;

		cr_assert_eq(ctl(0, &out, "show stats"), 0, "%s", out);
		p = strstr(out, "flows: ");
		if (p)
			sscanf(p, "flows: %lu in cache", &n);
		free(out);
		if (n >= 50000)
			break;
		cr_assert_lt(netns_now_ms(), end, "the cache never held the 50000 flows (%lu)", n);
	}

	/* asks for the whole cache (megabytes), then never reads */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", agent[0].sock);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect %s: %s",
		     agent[0].sock, strerror(errno));
	cr_assert_eq(write(fd, "show cache\n", 11), 11);
	shutdown(fd, SHUT_WR);
	usleep(500000);

	p0 = polls(0);
	send_frames(g, 100000);
	usleep(2000000);
	p1 = polls(0);
	/* 50 ms polls: about 40 in two seconds, and more during the frames */
	cr_assert_geq(p1 - p0, 20,
		      "polls stalled behind the client that does not read: %llu -> %llu", p0, p1);
	for (uint64_t end = netns_now_ms() + 20000;
	     !log_has(0, "dropped a client that took nothing"); usleep(200000))
		cr_assert_lt(netns_now_ms(), end,
			     "the client that does not read was never dropped");
	close(fd);

	ret = ctl(0, &out, "show cache --sport 10005");
	cr_assert_eq(ret, 0, "show cache after the dropped client: exit %d: %s", ret, out);
	cr_assert(strstr(out, "1 flow in the cache"), "%s", out);
	free(out);
	stop_agent(0);
	check_exact(g, "with a client that does not read");
	livegen_close(g);
	passed = true;
}

/* Opens n TCP connections to 127.0.0.1:port in namespace ns, sending nothing. */
static void idle_connections(const char *ns, int port, int *fds, int n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int back = netns_enter(ns);

	cr_assert_geq(back, 0, "enter %s", ns);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert_geq(fds[i], 0);
		cr_assert_eq(connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)), 0,
			     "connect to the metrics port: %s", strerror(errno));
	}
	netns_leave(back);
}

/* 20 idle connections to --metrics: polls keep their rate, and a scrape is still answered. */
Test(control, idle_metrics_connections_do_not_slow_polling, .timeout = 120)
{
	char addr[32], *out;
	unsigned long long p0, p1, p2;
	int fds[20];

	netns_sh(NULL, NULL, "ip -n %s link set lo up", pair[0].ns_rx);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", METRICS_PORT);
	start_agent(0, false, addr);
	p0 = polls(0);
	usleep(2000000);
	p1 = polls(0);
	idle_connections(pair[0].ns_rx, METRICS_PORT, fds, 20);
	usleep(2000000);
	p2 = polls(0);
	cr_assert_geq((p2 - p1) * 10, (p1 - p0) * 8,
		      "20 idle metrics connections slowed polling: %llu polls in 2 s before, %llu "
		      "with them",
		      p1 - p0, p2 - p1);
	out = netns_http_get(pair[0].ns_rx, METRICS_PORT, "/metrics");
	cr_assert_not_null(out, "no answer from the metrics port");
	cr_assert(strstr(out, "200 OK") && strstr(out, "nsflow_polls_total "),
		  "a scrape beside the idle connections: %s", out);
	free(out);
	for (int i = 0; i < 20; i++)
		close(fds[i]);
	stop_agent(0);
	passed = true;
}
