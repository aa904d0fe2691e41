// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the systemd unit relies on. The agent runs as nobody (uid 65534) with nothing but the
 * capabilities the unit grants, in a mount namespace set up as the unit's is (an empty tmpfs on
 * /sys/fs/bpf with only the pin dir, owned by that user, bound in from the host's bpffs): it
 * meters a veth in a namespace of the test's own, nfcapd there gets the IPFIX records, and
 * SIGTERM leaves no program attached and no pin behind. Without CAP_SYS_ADMIN it refuses
 * before attaching anything, naming the capability. And the notifications: READY=1 once XDP
 * is on the veth, WATCHDOG=1 all along, STOPPING=1 on SIGTERM, to a datagram socket of the
 * test's own in $NOTIFY_SOCKET.
 *
 * Run from the top directory, as root (`make test-e2e`).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "collectors.h"
#include "netns.h"
#include "pkt.h"

#define NOBODY	      65534
#define CAPS_UNIT     "+bpf,+net_admin,+perfmon,+sys_admin"
#define CAPS_NO_ADMIN "+bpf,+net_admin,+perfmon"
/* CapEff of CAPS_UNIT: CAP_NET_ADMIN 12, CAP_SYS_ADMIN 21, CAP_PERFMON 38, CAP_BPF 39 */
#define CAPS_UNIT_MASK ((1ULL << 12) | (1ULL << 21) | (1ULL << 38) | (1ULL << 39))
#define IPFIX_PORT     4739
#define FRAMES	       1000
#define IP_LEN	       100
#define START_MS       15000
#define STOP_MS	       30000

static struct netns_pair pair;
static char dir[128], run_dir[160], pin_dir[64], bin[192], agent_log[192], nfcapd_dir[160];
static pid_t agent_pid, nfcapd_pid;
static int lock_fd = -1;
static bool passed;

static void setup(void)
{
	lock_fd = nsflow_e2e_lock(240000);
	cr_assert(lock_fd >= 0, "no e2e lock (%s)", strerror(-lock_fd));
	netns_cleanup_stale();
	cr_assert_eq(netns_pair_create(&pair, 's'), 0, "could not make the veth pair");
	cr_assert_eq(netns_sh(pair.ns_rx, NULL, "ip link set lo up"), 0); /* the collector's */
	cr_assert_eq(coll_tmpdir(dir, sizeof(dir), "systemd"), 0);
	/* every directory up to what nobody must reach is searchable */
	cr_assert_eq(chmod(dir, 0755), 0);
	snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
	snprintf(nfcapd_dir, sizeof(nfcapd_dir), "%s/nfcapd", dir);
	snprintf(agent_log, sizeof(agent_log), "%s/agent.log", dir);
	snprintf(bin, sizeof(bin), "%s/nsflow", dir);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/" NETNS_PREFIX "-%d-sd", getpid());
	cr_assert_eq(mkdir(run_dir, 0755), 0);
	cr_assert_eq(mkdir(nfcapd_dir, 0755), 0);
	cr_assert_eq(mkdir(pin_dir, 0700), 0, "mkdir %s: %s", pin_dir, strerror(errno));
	/* what the unit's RuntimeDirectory= and ExecStartPre= do */
	cr_assert_eq(chown(run_dir, NOBODY, NOBODY), 0);
	cr_assert_eq(chown(pin_dir, NOBODY, NOBODY), 0);
	cr_assert_eq(coll_run(NULL, "install -m 0755 %s %s", nsflow_bin(), bin), 0);
	agent_pid = nfcapd_pid = 0;
	passed = false;
}

static void stop_pid(pid_t *pid, int sig)
{
	if (*pid <= 0)
		return;
	kill(*pid, sig);
	if (netns_wait(*pid, STOP_MS) == -ETIMEDOUT) {
		kill(*pid, SIGKILL);
		netns_wait(*pid, -1);
	}
	*pid = 0;
}

static void teardown(void)
{
	char *log;

	stop_pid(&agent_pid, SIGTERM);
	stop_pid(&nfcapd_pid, SIGTERM);
	if (!passed && (log = coll_slurp(agent_log, NULL))) {
		fprintf(stderr, "--- agent log ---\n%s\n", log);
		free(log);
	}
	if (pair.ns_rx[0])
		netns_sh(pair.ns_rx, NULL, "%s detach -i %s --pin-dir %s >/dev/null 2>&1",
			 nsflow_bin(), pair.rx, pin_dir);
	netns_pair_destroy(&pair);
	coll_run(NULL, "rm -f %s/* 2>/dev/null; rmdir %s 2>/dev/null", pin_dir, pin_dir);
	coll_rmtree(dir);
	nsflow_e2e_unlock(lock_fd);
}

TestSuite(systemd, .init = setup, .fini = teardown);

/*
 * `nsflow run` in the rx namespace as nobody holding @caps only (ambient, inheritable and
 * bounding sets alike, as setpriv and the unit's AmbientCapabilities= give them), with the pin
 * dir as the unit's mount namespace shows it.
 */
static void start_unprivileged(const char *caps, const char *extra)
{
	char script[2048];
	char *argv[] = { "unshare", "-m", "--propagation", "private", "sh", "-c", script, NULL };

	snprintf(script, sizeof(script),
		 "set -e; hold=%1$s/pins; mkdir -p $hold; mount --bind %2$s $hold; "
		 "mount -t tmpfs -o mode=0755 tmpfs /sys/fs/bpf; mkdir -p %2$s; "
		 "mount --move $hold %2$s; export RUNTIME_DIRECTORY=%1$s; "
		 "exec setpriv --reuid=%3$d --regid=%3$d --clear-groups --inh-caps=-all,%4$s "
		 "--ambient-caps=-all,%4$s --bounding-set=-all,%4$s %5$s run -i %6$s "
		 "--pin-dir %2$s --control-socket %1$s/control.sock --poll-interval 100 %7$s",
		 run_dir, pin_dir, NOBODY, caps, bin, pair.rx, extra);
	agent_pid = netns_spawn(pair.ns_rx, agent_log, argv);
	cr_assert_gt(agent_pid, 0, "spawn the agent: %s", strerror(-agent_pid));
}

static bool log_has(const char *needle)
{
	char *log = coll_slurp(agent_log, NULL);
	bool has = log && strstr(log, needle);

	free(log);
	return has;
}

static bool xdp_on_rx(void)
{
	struct netns_link l;

	return !netns_link_get(pair.ns_rx, pair.rx, &l) && l.xdp_attached && l.xdp_prog_id;
}

/* "Uid:" and "CapEff:"/"CapBnd:" of /proc/PID/status */
static void read_status(pid_t pid, unsigned int *uid, unsigned long long *eff,
			unsigned long long *bnd)
{
	char path[64], *text, *at;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	text = coll_slurp(path, NULL);
	cr_assert_not_null(text, "read %s", path);
	at = strstr(text, "\nUid:");
	cr_assert(at && sscanf(at + 5, "%u", uid) == 1, "no Uid in %s", path);
	at = strstr(text, "\nCapEff:");
	cr_assert(at && sscanf(at + 8, "%llx", eff) == 1, "no CapEff in %s", path);
	at = strstr(text, "\nCapBnd:");
	cr_assert(at && sscanf(at + 8, "%llx", bnd) == 1, "no CapBnd in %s", path);
	free(text);
}

static void start_nfcapd(void)
{
	char port[8];
	char *argv[] = { "nfcapd", "-b",       "127.0.0.1", "-p",   port,
			 "-w",	   nfcapd_dir, "-t",	    "3600", NULL };
	char log[192];

	snprintf(port, sizeof(port), "%d", IPFIX_PORT);
	snprintf(log, sizeof(log), "%s/nfcapd.log", dir);
	nfcapd_pid = netns_spawn(pair.ns_rx, log, argv);
	cr_assert_gt(nfcapd_pid, 0);
	for (uint64_t end = coll_now_ms() + 5000;; usleep(20000)) {
		if (!netns_sh(pair.ns_rx, NULL, "ss -Hlun 'sport = :%d' | grep -q .", IPFIX_PORT))
			break;
		cr_assert_lt(coll_now_ms(), end, "nfcapd never bound port %d", IPFIX_PORT);
	}
}

/* FRAMES frames of one UDP flow into the metered veth; returns how many it received */
static uint64_t send_traffic(void)
{
	struct netns_link before, after;
	struct pb p;

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, "192.0.2.1", "192.0.2.2", 0, 64, 0, 0, 0);
	pb_udp(&p, 4321, 9);
	pb_zero(&p, IP_LEN - 28);
	pb_finish(&p);
	memcpy(p.b, pair.rx_mac, 6);
	memcpy(p.b + 6, pair.tx_mac, 6);
	cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &before), 0);
	cr_assert_eq(netns_send_frames(pair.ns_tx, pair.tx, p.b, p.len, FRAMES), FRAMES);
	for (uint64_t end = coll_now_ms() + 5000; coll_now_ms() < end; usleep(10000)) {
		cr_assert_eq(netns_link_get(pair.ns_rx, pair.rx, &after), 0);
		if (after.rx_packets + after.rx_dropped - before.rx_packets - before.rx_dropped >=
		    FRAMES)
			break;
	}
	return after.rx_packets - before.rx_packets;
}

static size_t pins_left(void)
{
	DIR *dh = opendir(pin_dir);
	struct dirent *d;
	size_t n = 0;

	if (!dh)
		return 0;
	while ((d = readdir(dh)))
		n += d->d_name[0] != '.';
	closedir(dh);
	return n;
}

Test(systemd, without_cap_sys_admin_refused_before_attaching_naming_it, .timeout = 60)
{
	int st;

	start_unprivileged(CAPS_NO_ADMIN, "-c json:/dev/null");
	st = netns_wait(agent_pid, START_MS);
	agent_pid = 0;
	cr_assert_eq(st, 1, "the agent should refuse with status 1, got %d", st);
	cr_expect(log_has("lacks CAP_SYS_ADMIN"), "the refusal does not name CAP_SYS_ADMIN");
	cr_expect_not(xdp_on_rx(), "XDP was attached all the same");
	cr_expect_eq(pins_left(), 0, "maps were pinned all the same");
	passed = true;
}

Test(systemd, nobody_with_the_units_capabilities_meters_exports_and_cleans_up, .timeout = 90)
{
	unsigned long long eff, bnd;
	struct coll_flows got;
	const struct coll_flow *f;
	struct coll_key k;
	unsigned int uid;
	uint64_t delivered;
	char extra[64];
	int st;

	start_nfcapd();
	snprintf(extra, sizeof(extra), "-c ipfix://127.0.0.1:%d", IPFIX_PORT);
	start_unprivileged(CAPS_UNIT, extra);
	for (uint64_t end = coll_now_ms() + START_MS; !log_has("info: metering"); usleep(20000)) {
		cr_assert_eq(netns_wait(agent_pid, 0), -ETIMEDOUT, "the agent exited");
		cr_assert_lt(coll_now_ms(), end, "the agent did not start metering");
	}
	read_status(agent_pid, &uid, &eff, &bnd);
	cr_expect_eq(uid, NOBODY, "the agent runs as uid %u", uid);
	cr_expect_eq(eff, CAPS_UNIT_MASK, "CapEff %llx, not %llx", eff, CAPS_UNIT_MASK);
	cr_expect_eq(bnd, CAPS_UNIT_MASK, "CapBnd %llx, not %llx", bnd, CAPS_UNIT_MASK);
	cr_assert(xdp_on_rx(), "no XDP program on %s", pair.rx);
	cr_assert_gt(pins_left(), 0, "nothing pinned in %s", pin_dir);

	delivered = send_traffic();
	cr_assert_eq(delivered, FRAMES, "the veth received %llu of %d frames",
		     (unsigned long long)delivered, FRAMES);
	kill(agent_pid, SIGTERM);
	st = netns_wait(agent_pid, STOP_MS);
	agent_pid = 0;
	cr_assert_eq(st, 0, "SIGTERM should end the agent with status 0, got %d", st);
	cr_expect_not(xdp_on_rx(), "the XDP program stayed on %s", pair.rx);
	cr_expect_eq(pins_left(), 0, "%zu pins left in %s", pins_left(), pin_dir);

	/* SIGTERM makes nfcapd write out its file */
	stop_pid(&nfcapd_pid, SIGTERM);
	cr_assert_eq(coll_nfdump_flows(nfcapd_dir, &got), 0, "nfdump -R %s", nfcapd_dir);
	coll_key_set(&k, "192.0.2.1", "192.0.2.2", 17, 4321, 9);
	f = coll_flows_find(&got, &k);
	cr_assert_not_null(f, "nfcapd got %zu flows, not the one sent", got.n);
	cr_expect_eq(f->packets, delivered, "nfcapd: %llu packets, the veth received %llu",
		     (unsigned long long)f->packets, (unsigned long long)delivered);
	cr_expect_eq(f->bytes, delivered * IP_LEN, "nfcapd: %llu bytes, %llu sent",
		     (unsigned long long)f->bytes, (unsigned long long)(delivered * IP_LEN));
	coll_flows_free(&got);
	passed = true;
}

/* A datagram socket of our own at @path, as the service manager has */
static int notify_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_lt(strlen(path), sizeof(sun.sun_path), "%s: too long for a socket", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "bind %s: %s", path,
		     strerror(errno));
	return fd;
}

/* The next message, NUL terminated, within @timeout_ms; its length or -ETIMEDOUT */
static int notify_recv(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	n = recv(fd, buf, len - 1, 0);
	cr_assert_geq(n, 0, "recv: %s", strerror(errno));
	buf[n] = 0;
	return (int)n;
}

Test(systemd, ready_after_attach_watchdog_all_along_stopping_on_sigterm, .timeout = 60)
{
	char sock[160], env_sock[192], ctl[192], msg[512];
	char *argv[] = { "env",
			 env_sock,
			 "WATCHDOG_USEC=200000",
			 (char *)nsflow_bin(),
			 "run",
			 "-i",
			 pair.rx,
			 "-c",
			 "json:/dev/null",
			 "--pin-dir",
			 pin_dir,
			 "--control-socket",
			 ctl,
			 "--poll-interval",
			 "50",
			 NULL };
	uint64_t last, gap = 0, end;
	int fd, n, watchdogs = 0, st;

	snprintf(sock, sizeof(sock), "%s/notify.sock", dir);
	snprintf(env_sock, sizeof(env_sock), "NOTIFY_SOCKET=%s", sock);
	snprintf(ctl, sizeof(ctl), "%s/control.sock", run_dir);
	fd = notify_listen(sock);
	agent_pid = netns_spawn(pair.ns_rx, agent_log, argv);
	cr_assert_gt(agent_pid, 0);

	n = notify_recv(fd, msg, sizeof(msg), START_MS);
	cr_assert_gt(n, 0, "no notification within %d ms", START_MS);
	/* the first word the manager hears is READY, and by then XDP is on the veth */
	cr_expect(xdp_on_rx(), "READY=1 came before the XDP program was on %s", pair.rx);
	cr_assert(!strncmp(msg, "READY=1\n", 8), "the first notification is '%s'", msg);
	cr_expect(strstr(msg, "STATUS=metering 1 interface, exporting to 1 collector"),
		  "READY without the status line: '%s'", msg);

	/* one WATCHDOG=1 a poll: never as long as WATCHDOG_USEC without one */
	last = coll_now_ms();
	for (end = last + 1500; coll_now_ms() < end;) {
		n = notify_recv(fd, msg, sizeof(msg), 500);
		cr_assert_gt(n, 0, "no notification for 500 ms");
		cr_expect_str_eq(msg, "WATCHDOG=1", "while running: '%s'", msg);
		gap = coll_now_ms() - last > gap ? coll_now_ms() - last : gap;
		last = coll_now_ms();
		watchdogs++;
	}
	cr_expect_geq(watchdogs, 10, "%d WATCHDOG=1 in 1.5 s, polling every 50 ms", watchdogs);
	cr_expect_lt(gap, 200, "%llu ms without WATCHDOG=1, the watchdog is 200 ms",
		     (unsigned long long)gap);

	kill(agent_pid, SIGTERM);
	for (end = coll_now_ms() + 5000;;) {
		n = notify_recv(fd, msg, sizeof(msg), 1000);
		cr_assert_gt(n, 0, "no STOPPING=1 after SIGTERM");
		if (!strcmp(msg, "STOPPING=1"))
			break;
		cr_assert_str_eq(msg, "WATCHDOG=1", "after SIGTERM: '%s'", msg);
		cr_assert_lt(coll_now_ms(), end, "no STOPPING=1 within 5 s of SIGTERM");
	}
	st = netns_wait(agent_pid, STOP_MS);
	agent_pid = 0;
	cr_expect_eq(st, 0, "SIGTERM should end the agent with status 0, got %d", st);
	cr_expect_not(xdp_on_rx(), "the XDP program stayed on %s", pair.rx);
	close(fd);
	passed = true;
}
