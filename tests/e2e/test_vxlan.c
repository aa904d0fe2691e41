// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * VXLAN live: frames the test builds (outer IPv4/UDP to 4789, two VNIs, an inner IPv4/UDP
 * packet) go out of the sending veth into the one nsflow meters, which exports IPFIX and v9 to
 * sockets in its namespace while dumpcap captures the export on that namespace's loopback.
 * tshark decodes the capture: in outer mode every record carries the outer addresses and
 * ports with layer2SegmentId the VNI sent, in inner mode the inner packet's, the packets per
 * VNI what the test sent; vni-sip-dip aggregates carry the VNIs and addresses with those sums.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "collectors.h"
#include "netns.h"
#include "pkt.h"
#include "tshark.h"

#define AGENT_START_MS 20000
#define AGENT_STOP_MS  20000

static const uint32_t vnis[2] = { 0x0a0b0c, 4242 };
static const uint64_t frames[2] = { 7, 3 };

static struct {
	int lock_fd;
	struct netns_pair pair;
	struct netns_agent agent;
	char pin_dir[128], dir[128], capture[192], dumpcap_log[192];
	pid_t dumpcap;
	int port[2], fd[2];
	bool passed;
} env;

static void setup(void)
{
	memset(&env, 0, sizeof(env));
	env.fd[0] = env.fd[1] = -1;
	env.lock_fd = nsflow_e2e_lock(240000);
	cr_assert(env.lock_fd >= 0, "no e2e lock: another e2e test is running");
	netns_cleanup_stale();
	cr_assert_eq(netns_pair_create(&env.pair, 'x'), 0, "could not make the veth pair");
	snprintf(env.pin_dir, sizeof(env.pin_dir), "/sys/fs/bpf/" NETNS_PREFIX "-%d-vxlan",
		 getpid());
	cr_assert_eq(coll_tmpdir(env.dir, sizeof(env.dir), "vxlan"), 0);
	snprintf(env.capture, sizeof(env.capture), "%s/export.pcapng", env.dir);
	snprintf(env.dumpcap_log, sizeof(env.dumpcap_log), "%s/dumpcap.log", env.dir);
	snprintf(env.agent.log, sizeof(env.agent.log), "/tmp/" NETNS_PREFIX "-%d-vxlan-agent.log",
		 getpid());
}

static void teardown(void)
{
	if (env.agent.pid > 0)
		netns_agent_stop(&env.agent, SIGTERM, AGENT_STOP_MS);
	if (!env.passed && env.agent.log[0] && !access(env.agent.log, F_OK))
		netns_agent_dump_log(&env.agent);
	if (env.dumpcap > 0) {
		kill(env.dumpcap, SIGTERM);
		netns_wait(env.dumpcap, 5000);
	}
	for (int i = 0; i < 2; i++)
		if (env.fd[i] >= 0)
			close(env.fd[i]);
	if (env.pair.ns_rx[0])
		netns_sh(env.pair.ns_rx, NULL, "%s detach -i %s --pin-dir %s", nsflow_bin(),
			 env.pair.rx, env.pin_dir);
	netns_pair_destroy(&env.pair);
	rmdir(env.pin_dir);
	unlink(env.agent.log);
	if (!getenv("NSFLOW_KEEP"))
		coll_rmtree(env.dir);
	nsflow_e2e_unlock(env.lock_fd);
}

TestSuite(vxlan_e2e, .init = setup, .fini = teardown);

/* Collectors' sockets in the metered namespace (so that no ICMP refuses the export), and
 * dumpcap on its loopback. */
static void start_collectors(void)
{
	char filter[64];
	int back;

	cr_assert_eq(netns_sh(env.pair.ns_rx, NULL, "ip link set lo up"), 0);
	back = netns_enter(env.pair.ns_rx);
	cr_assert_geq(back, 0);
	for (int i = 0; i < 2; i++) {
		env.port[i] = coll_pick_port(SOCK_DGRAM, 30000 + 20 * i, 30019 + 20 * i);
		env.fd[i] = coll_udp_listen(env.port[i]);
	}
	netns_leave(back);
	cr_assert(env.fd[0] >= 0 && env.fd[1] >= 0, "no collector sockets");
	snprintf(filter, sizeof(filter), "udp port %d or udp port %d", env.port[0], env.port[1]);
	env.dumpcap = netns_spawn(env.pair.ns_rx, env.dumpcap_log,
				  (char *const[]){ "dumpcap", "-q", "-i", "lo", "-f", filter, "-w",
						   env.capture, NULL });
	cr_assert_gt(env.dumpcap, 0);
	for (int i = 0; i < 100 && access(env.capture, F_OK); i++)
		usleep(50000);
	usleep(500000); /* the capture file exists before the filter is on */
}

static void start_agent(const char *mode, const char *extra)
{
	char ipfix[64], v9[64];
	/* extra: "--aggregate", for vni-sip-dip aggregates only */
	const char *args[] = { "-i",
			       env.pair.rx,
			       "-c",
			       ipfix,
			       "-c",
			       v9,
			       "--pin-dir",
			       env.pin_dir,
			       "--vxlan",
			       mode,
			       "--poll-interval",
			       "100",
			       extra,
			       extra ? "vni-sip-dip" : NULL,
			       "--no-original",
			       NULL };
	int ret;

	snprintf(ipfix, sizeof(ipfix), "ipfix://127.0.0.1:%d", env.port[0]);
	snprintf(v9, sizeof(v9), "v9://127.0.0.1:%d", env.port[1]);
	ret = netns_agent_start(&env.agent, env.pair.ns_rx, AGENT_START_MS, args);
	cr_assert_eq(ret, 0, "agent did not start: %s", strerror(-ret));
}

/* outer 192.0.2.1:40001 -> 192.0.2.2:4789, VXLAN vni, inner 10.0.0.1:5000 -> 10.0.0.2:53 */
static void send_frames(void)
{
	static const uint8_t in_src[6] = { 0x02, 0xaa, 0, 0, 0, 1 }, in_dst[6] = { 0x02, 0xbb };
	struct pb pb;

	for (int v = 0; v < 2; v++) {
		pb_init(&pb);
		pb_eth(&pb, 0x0800);
		pb_ipv4(&pb, 17, "192.0.2.1", "192.0.2.2", 0, 64, 0, 0, 0);
		pb_udp(&pb, 40001, 4789);
		pb_vxlan(&pb, 0x08, vnis[v]);
		pb_eth_macs(&pb, in_src, in_dst, 0x0800);
		pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0, 33, 0, 0, 0);
		pb_udp(&pb, 5000, 53);
		pb_zero(&pb, 40);
		pb_finish(&pb);
		cr_assert_eq(
			netns_send_frames(env.pair.ns_tx, env.pair.tx, pb.b, pb.len, frames[v]),
			(long)frames[v]);
	}
}

/* Stops the agent (which exports what it holds) and then the capture. */
static void stop_all(void)
{
	cr_assert_eq(netns_agent_stop(&env.agent, SIGTERM, AGENT_STOP_MS), 0);
	env.agent.pid = 0;
	usleep(500000);
	kill(env.dumpcap, SIGTERM);
	netns_wait(env.dumpcap, 5000);
	env.dumpcap = 0;
}

/*
 * tshark's decode of the export: per format (IPFIX on port[0], v9 on port[1]) and VNI the
 * packets of the records carrying it; every flow record must name src:sport -> dst:dport
 * (src -> dst only for sport < 0: aggregates carry no ports).
 */
static void check_export(const char *src, const char *dst, int sport, int dport)
{
	uint64_t got[2][2] = { { 0 } };
	char *out = NULL, *line, *save = NULL;
	int records = 0;

	cr_assert_eq(
		coll_run(&out,
			 "tshark -r '%s' -d udp.port==%d,cflow -d udp.port==%d,cflow -T fields "
			 "-E separator=/t -E occurrence=a -E aggregator=, -e udp.dstport "
			 "-e cflow.layer2_segment_id -e cflow.srcaddr -e cflow.dstaddr "
			 "-e cflow.srcport -e cflow.dstport -e cflow.packets "
			 "-Y cflow.layer2_segment_id 2>&1",
			 env.capture, env.port[0], env.port[1]),
		0, "tshark: %s", out ? out : "");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[7], *s = line, v[32], a[64], b[64], sp[16], dp[16], pk[32];
		int fmt;

		for (int i = 0; i < 7; i++) {
			f[i] = s ? s : (char *)"";
			if (s && (s = strchr(s, '\t')))
				*s++ = 0;
		}
		fmt = atoi(f[0]) == env.port[0] ? 0 : 1;
		/* every flow here is VXLAN: each record has one of each field, in order */
		for (int r = 0; ts_nth(f[1], r, v, sizeof(v)), v[0]; r++) {
			uint32_t vni = (uint32_t)strtoul(v, NULL, 0);
			int k = vni == vnis[0] ? 0 : vni == vnis[1] ? 1 : -1;

			ts_nth(f[2], r, a, sizeof(a));
			ts_nth(f[3], r, b, sizeof(b));
			ts_nth(f[4], r, sp, sizeof(sp));
			ts_nth(f[5], r, dp, sizeof(dp));
			ts_nth(f[6], r, pk, sizeof(pk));
			cr_assert_neq(k, -1, "a record of VNI %u, which was not sent", vni);
			cr_assert(!strcmp(a, src) && !strcmp(b, dst) &&
					  (sport < 0 || (atoi(sp) == sport && atoi(dp) == dport)),
				  "%s record of VNI %u: %s:%s -> %s:%s, sent %s:%d -> %s:%d",
				  fmt ? "v9" : "IPFIX", vni, a, sp, b, dp, src, sport, dst, dport);
			got[fmt][k] += strtoull(pk, NULL, 10);
			records++;
		}
	}
	free(out);
	cr_assert_gt(records, 0, "tshark found no record with layer2SegmentId");
	for (int fmt = 0; fmt < 2; fmt++)
		for (int k = 0; k < 2; k++)
			cr_assert_eq(got[fmt][k], frames[k], "%s, VNI %u: %llu packets, sent %llu",
				     fmt ? "v9" : "IPFIX", vnis[k], (unsigned long long)got[fmt][k],
				     (unsigned long long)frames[k]);
}

static void run_mode(const char *mode, const char *extra)
{
	start_collectors();
	start_agent(mode, extra);
	send_frames();
	usleep(1500000); /* a few polls: the agent has drained the frames */
	stop_all();
}

Test(vxlan_e2e, outer_mode_exports_the_vni_sent_as_layer2_segment_id, .timeout = 120)
{
	run_mode("outer", NULL);
	check_export("192.0.2.1", "192.0.2.2", 40001, 4789);
	env.passed = true;
}

Test(vxlan_e2e, inner_mode_exports_the_inner_packet_with_the_vni, .timeout = 120)
{
	run_mode("inner", NULL);
	check_export("10.0.0.1", "10.0.0.2", 5000, 53);
	env.passed = true;
}

/* Aggregates only (--no-original): every record is vni-sip-dip's, of the inner addresses */
Test(vxlan_e2e, vni_sip_dip_aggregates_by_the_vnis_sent, .timeout = 120)
{
	run_mode("inner", "--aggregate");
	check_export("10.0.0.1", "10.0.0.2", -1, -1);
	env.passed = true;
}
