// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's image run as an operator runs it: podman, the four capabilities `nsflow run`
 * needs and no other, the seccomp profile we ship, the host's bpffs and /run/nsflow mounted as
 * the DaemonSet mounts them, a read-only root, and the network namespace of a veth pair the
 * test makes. Live frames go into the veth; nfcapd in the same namespace must decode exactly
 * those flows, packets and octets per flow. `podman stop` must leave nothing attached, pinned
 * or locked, so that `podman start` of the same container meters again; without CAP_SYS_ADMIN
 * the agent must refuse to start and name it.
 *
 * `make test-image` builds the image and runs this from the top directory, as root, with
 * NSFLOW_IMAGE (the image) and PODMAN (podman and its global flags) in the environment.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "collectors.h"
#include "livegen.h"
#include "netns.h"

#define COLLECTOR_PORT 4739
#define FRAMES	       3000
#define FLOWS	       12
#define IP_LEN	       100
#define START_MS       30000
#define SETTLE_MS      5000
/* where the DaemonSet mounts the host's /run/nsflow: control sockets and the agent's locks */
#define RUN_DIR "/run/nsflow"

static struct {
	struct netns_pair pair;
	struct netns_agent ctl; /* only for `nsflow show -p PIN_DIR` from the host */
	char dir[128];		/* the config and the collector's files */
	char pin_dir[64];
	char name[64];	    /* the container */
	char once_name[72]; /* the one run in the foreground, removed when it exits */
	const char *podman;
	const char *image;
	pid_t nfcapd;
	int lock_fd;
} env;

/*
 * Containers a crashed or timed-out run of this test left (NETNS_PREFIX-PID-image*, PID gone):
 * removed first, so that netns_cleanup_stale() can then take their namespaces and pins.
 */
static void rm_stale_containers(void)
{
	char *out = NULL, *line, *save = NULL;
	int pid;

	if (netns_sh(NULL, &out, "%s ps -a --format '{{.Names}}' --filter name=^" NETNS_PREFIX "-",
		     env.podman)) {
		free(out);
		return;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, NETNS_PREFIX "-%d-image", &pid) == 1 && kill(pid, 0) &&
		    errno == ESRCH)
			netns_sh(NULL, NULL, "%s rm -f -t 0 %s", env.podman, line);
	free(out);
}

static void setup(void)
{
	memset(&env, 0, sizeof(env));
	env.nfcapd = -1;
	env.image = getenv("NSFLOW_IMAGE");
	env.podman = getenv("PODMAN") ? getenv("PODMAN") : "podman";
	cr_assert_not_null(env.image, "NSFLOW_IMAGE names no image: run `make test-image`");
	env.lock_fd = nsflow_e2e_lock(240000);
	cr_assert(env.lock_fd >= 0, "no e2e lock (%s): another e2e test or benchmark is running",
		  strerror(-env.lock_fd));
	rm_stale_containers();
	netns_cleanup_stale();
	cr_assert_eq(netns_pair_create(&env.pair, 'i'), 0, "could not make the veth pair");
	/* the collector listens on the namespace's loopback */
	cr_assert_eq(netns_sh(env.pair.ns_rx, NULL, "ip link set lo up"), 0);
	cr_assert_eq(coll_tmpdir(env.dir, sizeof(env.dir), "image"), 0);
	snprintf(env.pin_dir, sizeof(env.pin_dir), "/sys/fs/bpf/" NETNS_PREFIX "-%d", getpid());
	snprintf(env.name, sizeof(env.name), NETNS_PREFIX "-%d-image", getpid());
	snprintf(env.once_name, sizeof(env.once_name), "%s-once", env.name);
	snprintf(env.ctl.ctl, sizeof(env.ctl.ctl), "-p %s", env.pin_dir);
	cr_assert(mkdir(RUN_DIR, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", RUN_DIR,
		  strerror(errno));
}

static void stop_nfcapd(void)
{
	if (env.nfcapd <= 0)
		return;
	kill(env.nfcapd, SIGTERM);
	if (netns_wait(env.nfcapd, 10000) == -ETIMEDOUT) {
		kill(env.nfcapd, SIGKILL);
		netns_wait(env.nfcapd, 5000);
	}
	env.nfcapd = -1;
}

static void teardown(void)
{
	/* a container the test left running (a failed assertion) goes with it */
	netns_sh(NULL, NULL, "%s rm -f -t 0 --ignore %s %s", env.podman, env.name, env.once_name);
	stop_nfcapd();
	netns_pair_destroy(&env.pair);
	netns_rm_pin_dir(env.pin_dir);
	if (!getenv("NSFLOW_KEEP"))
		coll_rmtree(env.dir);
	nsflow_e2e_unlock(env.lock_fd);
}

TestSuite(image, .init = setup, .fini = teardown);

/*
 * podman's own limits, for the container. As root it asks for RLIMIT_NOFILE 1048576 and
 * RLIMIT_NPROC = kernel.pid_max (or 1048576 once any --ulimit is given), and it lowers its own
 * RLIMIT_NPROC to pid_max when it starts; runc then sets the container's limits with prlimit(),
 * and raising a hard limit takes CAP_SYS_RESOURCE. Where podman itself runs without it (inside
 * another container, as CI does), the container must ask for no more than podman holds.
 */
static void ulimit_flags(char *buf, size_t len)
{
	struct rlimit nofile, nproc;
	unsigned long long pid_max = RLIM_INFINITY;
	char *text = coll_slurp("/proc/sys/kernel/pid_max", NULL);

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &nofile), 0);
	cr_assert_eq(getrlimit(RLIMIT_NPROC, &nproc), 0);
	if (text)
		pid_max = strtoull(text, NULL, 10);
	free(text);
	if (nproc.rlim_max > pid_max)
		nproc.rlim_max = pid_max;
	snprintf(buf, len, "--ulimit nofile=%llu:%llu --ulimit nproc=%llu:%llu",
		 (unsigned long long)nofile.rlim_max, (unsigned long long)nofile.rlim_max,
		 (unsigned long long)nproc.rlim_max, (unsigned long long)nproc.rlim_max);
}

/* The agent's settings, in the directory mounted as /etc/nsflow. */
static void write_config(void)
{
	char path[192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/nsflow.yaml", env.dir);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fprintf(f,
		"interfaces: [%s]\n"
		"collectors: [ipfix://127.0.0.1:%d]\n"
		"pin-dir: %s\n"
		"poll-interval: 100\n",
		env.pair.rx, COLLECTOR_PORT, env.pin_dir);
	cr_assert_eq(fclose(f), 0);
}

/*
 * `podman run` with the DaemonSet's securityContext and mounts, in the rx namespace: detached
 * (the container kept, named env.name), or in the foreground for at most 30 s, removed when it
 * exits, its output in *out.
 */
static int podman_run(bool detach, const char *caps, char **out)
{
	char ulimits[128];

	ulimit_flags(ulimits, sizeof(ulimits));
	return netns_sh(
		NULL, out,
		"%s %s run %s --name %s --network ns:/run/netns/%s %s --cap-drop all --cap-add %s "
		"--security-opt seccomp=deploy/seccomp.json "
		"--security-opt no-new-privileges --read-only "
		"-v %s:/etc/nsflow:ro -v /sys/fs/bpf:/sys/fs/bpf -v " RUN_DIR ":" RUN_DIR
		" %s run --config /etc/nsflow/nsflow.yaml",
		detach ? "" : "timeout 30", env.podman, detach ? "-d" : "--rm",
		detach ? env.name : env.once_name, env.pair.ns_rx, ulimits, caps, env.dir,
		env.image);
}

static void dump_container_log(void)
{
	char *out = NULL;

	netns_sh(NULL, &out, "%s logs %s", env.podman, env.name);
	cr_log_error("%s's log:\n%s", env.name, out ? out : "");
	free(out);
}

/* Waits until the agent in the container answers on its control socket with rx attached. */
static void wait_ready(void)
{
	uint64_t deadline = netns_now_ms() + START_MS;
	struct netns_link l = { 0 };

	while (netns_now_ms() < deadline) {
		if (nsflow_ctl_alive(&env.ctl) &&
		    netns_link_get(env.pair.ns_rx, env.pair.rx, &l) == 0 && l.xdp_attached)
			return;
		usleep(50000);
	}
	dump_container_log();
	cr_assert_fail("the agent in %s did not answer on its control socket with XDP on %s "
		       "within %d ms",
		       env.name, env.pair.rx, START_MS);
}

static void start_nfcapd(const char *dir)
{
	char port[8], log[224];
	char *argv[] = { "nfcapd", "-b",	"127.0.0.1", "-p",   port,
			 "-w",	   (char *)dir, "-t",	     "3600", NULL };
	int fd;

	snprintf(port, sizeof(port), "%d", COLLECTOR_PORT);
	snprintf(log, sizeof(log), "%s.log", dir);
	cr_assert_eq(mkdir(dir, 0755), 0, "mkdir %s: %s", dir, strerror(errno));
	env.nfcapd = netns_spawn(env.pair.ns_rx, log, argv);
	cr_assert_gt(env.nfcapd, 0, "nfcapd: %s", strerror(-env.nfcapd));
	fd = netns_enter(env.pair.ns_rx);
	cr_assert_geq(fd, 0);
	cr_assert_eq(coll_udp_bound(COLLECTOR_PORT, 5000), 0, "nfcapd never bound port %d",
		     COLLECTOR_PORT);
	netns_leave(fd);
}

/* What nfcapd stored: nfcapd must have read every export packet, then written its file. */
static void collected_flows(const char *dir, struct coll_flows *got)
{
	uint64_t drops = 0;
	int fd = netns_enter(env.pair.ns_rx);

	cr_assert_geq(fd, 0);
	cr_assert_eq(coll_udp_drained(COLLECTOR_PORT, 10000, &drops), 0,
		     "nfcapd did not read its socket");
	netns_leave(fd);
	cr_assert_eq(drops, 0, "the kernel dropped %llu export packets to nfcapd",
		     (unsigned long long)drops);
	stop_nfcapd();
	cr_assert_eq(coll_nfdump_flows(dir, got), 0, "nfdump -R %s", dir);
}

/* The generator's flows, computed from what it sent: flow i has every FLOWS-th frame. */
static void sent_flows(const struct livegen *g, uint64_t sent, struct coll_flows *want)
{
	const struct livegen_opts *o = livegen_opts(g);
	struct coll_key k;

	for (uint32_t f = 0; f < o->flows; f++) {
		uint64_t n = livegen_flow_share(g, sent, f);

		cr_assert_eq(
			coll_key_set(&k, o->src, o->dst, o->proto, o->base_port + f, o->dst_port),
			0);
		coll_flows_add(want, &k, 4, n, n * o->ip_len);
	}
}

/*
 * One life of the container: `podman run -d` (or `podman start` of the one made before),
 * FRAMES live frames over FLOWS flows from source ports base_port.., `podman stop`; nfcapd
 * must have exactly the flows sent, with their packets and octets.
 */
static void meter_once(bool restart, uint16_t base_port)
{
	struct livegen_opts o = { .src = "198.18.0.1",
				  .dst = "198.18.0.2",
				  .flows = FLOWS,
				  .base_port = base_port,
				  .ip_len = IP_LEN };
	struct coll_flows want = { 0 }, got = { 0 };
	struct livegen_delivery d;
	struct livegen *g;
	char dir[192], *out = NULL, why[512];
	uint64_t t0 = netns_now_ms();
	int ret;

	snprintf(dir, sizeof(dir), "%s/nfcapd-%u", env.dir, base_port);
	start_nfcapd(dir);
	if (restart)
		ret = netns_sh(NULL, &out, "%s start %s", env.podman, env.name);
	else
		ret = podman_run(true, "bpf,net_admin,perfmon,sys_admin", &out);
	cr_assert_eq(ret, 0, "podman %s: %s", restart ? "start" : "run", out);
	free(out);
	wait_ready();
	cr_log_info("%s: the agent answered after %llu ms", restart ? "podman start" : "podman run",
		    (unsigned long long)(netns_now_ms() - t0));

	cr_assert_eq(livegen_open(&g, &o), 0);
	ret = livegen_send_pair(g, &env.pair, FRAMES, 16, SETTLE_MS, &d);
	cr_assert_eq(ret, 0, "live frames: %s (sent %llu, delivered %llu, dropped %llu)",
		     strerror(-ret), (unsigned long long)d.sent, (unsigned long long)d.delivered,
		     (unsigned long long)d.dropped);
	cr_assert_eq(d.sent, FRAMES);
	cr_assert_eq(d.dropped, 0, "%s dropped %llu of the %d frames: no exact flows to expect",
		     env.pair.rx, (unsigned long long)d.dropped, FRAMES);
	sent_flows(g, d.sent, &want);
	livegen_close(g);

	/* SIGTERM: the agent exports every flow (forced end) and detaches */
	t0 = netns_now_ms();
	ret = netns_sh(NULL, &out, "%s stop -t 30 %s", env.podman, env.name);
	cr_assert_eq(ret, 0, "podman stop: %s", out);
	free(out);
	cr_log_info("podman stop: %llu ms", (unsigned long long)(netns_now_ms() - t0));
	ret = netns_sh(NULL, &out, "%s inspect --format '{{.State.ExitCode}}' %s", env.podman,
		       env.name);
	cr_assert_eq(ret, 0, "podman inspect: %s", out);
	if (atoi(out)) {
		dump_container_log();
		cr_assert_fail("the agent exited %d on SIGTERM", atoi(out));
	}
	free(out);

	collected_flows(dir, &got);
	ret = coll_flows_diff(&want, &got, 0, "nfcapd", why, sizeof(why));
	if (ret)
		dump_container_log();
	cr_assert_eq(ret, 0, "%s", why);
	cr_log_info("nfcapd decoded the %zu flows sent, %d packets", got.n, FRAMES);
	coll_flows_free(&want);
	coll_flows_free(&got);
}

/* After the agent is gone: nothing on the veth, no pins, no control socket, no lock. */
static void assert_nothing_left(const char *what)
{
	char *out = NULL, lock[256], name[96];
	struct stat st;

	netns_sh(env.pair.ns_rx, &out, "ip -d link show dev %s", env.pair.rx);
	cr_assert_null(strstr(out, "xdp"), "%s: XDP is still on %s:\n%s", what, env.pair.rx, out);
	free(out);
	netns_sh(env.pair.ns_rx, &out,
		 "tc filter show dev %s ingress; tc filter show dev %s egress", env.pair.rx,
		 env.pair.rx);
	cr_assert_null(strstr(out, "nsflow"), "%s: a tc filter of nsflow is on %s:\n%s", what,
		       env.pair.rx, out);
	free(out);
	cr_assert_neq(stat(env.pin_dir, &st), 0, "%s: the pin directory %s is left", what,
		      env.pin_dir);
	cr_assert(!nsflow_ctl_alive(&env.ctl), "%s: its control socket still answers", what);
	/* the locks that make an agent the owner of its pin dir and interface (loader/owner.c) */
	snprintf(name, sizeof(name), "%s", env.pin_dir);
	for (char *p = name; *p; p++)
		*p = *p == '/' ? '_' : *p;
	snprintf(lock, sizeof(lock), RUN_DIR "/locks/pin%s.lock", name);
	cr_assert_neq(stat(lock, &st), 0, "%s: the lock %s is left", what, lock);
	snprintf(name, sizeof(name), "/run/netns/%s", env.pair.ns_rx);
	cr_assert_eq(stat(name, &st), 0, "stat %s: %s", name, strerror(errno));
	snprintf(lock, sizeof(lock), RUN_DIR "/locks/if-%lu-%d.lock", (unsigned long)st.st_ino,
		 env.pair.rx_ifindex);
	cr_assert_neq(stat(lock, &st), 0, "%s: the lock %s is left", what, lock);
}

Test(image, meters_stops_clean_and_restarts, .timeout = 180)
{
	write_config();
	meter_once(false, 10000);
	assert_nothing_left("after podman stop");
	meter_once(true, 20000);
	assert_nothing_left("after the second podman stop");
}

Test(image, refuses_to_start_without_cap_sys_admin, .timeout = 60)
{
	char *out = NULL;
	int ret;

	write_config();
	ret = podman_run(false, "bpf,net_admin,perfmon", &out);
	cr_log_info("without CAP_SYS_ADMIN: exit %d: %s", ret, out);
	cr_assert_neq(ret, 0, "the agent started without CAP_SYS_ADMIN:\n%s", out);
	cr_assert_not_null(strstr(out, "lacks CAP_SYS_ADMIN:"),
			   "the refusal does not name CAP_SYS_ADMIN (alone):\n%s", out);
	free(out);
	assert_nothing_left("after the refusal");
}
