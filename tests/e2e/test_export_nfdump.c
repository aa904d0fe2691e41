// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One replay exported as NetFlow v5, v9 and IPFIX at once to three nfcapd, read back with
 * nfdump: every flow tshark finds in the capture must be there with its packets and bytes,
 * addresses, ports and protocol (v5: the IPv4 flows only), MPLS labels where the format has
 * them, and its first and last packet times to the millisecond. The JSON sink of the same run
 * must say the same.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "collectors.h"

enum { F_V5, F_V9, F_IPFIX, F_N };

static const char *const fmt_name[F_N] = { "v5", "v9", "ipfix" };

static struct {
	char dir[128];
	char capture[256];
	char json[256];
	struct coll_proc nfcapd[F_N];
	int port[F_N];
	struct coll_flows want, json_flows, got[F_N];
} env;

static void teardown(void)
{
	for (int i = 0; i < F_N; i++) {
		coll_stop(&env.nfcapd[i], SIGTERM, 5000);
		coll_flows_free(&env.got[i]);
	}
	coll_flows_free(&env.want);
	coll_flows_free(&env.json_flows);
	if (!getenv("NSFLOW_KEEP"))
		coll_rmtree(env.dir);
}

static void setup(void)
{
	memset(&env, 0, sizeof(env));
	cr_assert_eq(coll_tmpdir(env.dir, sizeof(env.dir), "nfdump"), 0);
	snprintf(env.capture, sizeof(env.capture), "%s/mix.pcap", env.dir);
	snprintf(env.json, sizeof(env.json), "%s/flows.json", env.dir);
}

/* tshark's flows of the capture; every IP frame must be one it can key */
static void expect(const char *capture)
{
	struct coll_expect_stats st;

	cr_assert_eq(coll_tshark_flows(capture, &env.want, &st), 0, "tshark -r %s", capture);
	cr_assert_eq(st.skipped, 0,
		     "%u IP frames of %s with a transport tshark names but the test "
		     "does not know",
		     st.skipped, capture);
	cr_assert_gt(env.want.n, 0);
}

static void start_nfcapd(int i, int first_port)
{
	char dir[256], port[8], log[256];
	char *argv[] = { "nfcapd", "-b", "127.0.0.1", "-p", port, "-w", dir, "-t", "3600", NULL };

	env.port[i] = coll_pick_port(SOCK_DGRAM, first_port, 29999);
	cr_assert_gt(env.port[i], 0, "no free UDP port from %d to 29999", first_port);
	snprintf(port, sizeof(port), "%d", env.port[i]);
	snprintf(dir, sizeof(dir), "%s/%s", env.dir, fmt_name[i]);
	snprintf(log, sizeof(log), "%s/nfcapd-%s.log", env.dir, fmt_name[i]);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(coll_spawn(&env.nfcapd[i], log, argv), 0);
	cr_assert_eq(coll_udp_bound(env.port[i], 5000), 0, "nfcapd for %s never bound port %d",
		     fmt_name[i], env.port[i]);
}

/* Replays @capture to the three nfcapd and the JSON sink, then reads back what they stored. */
static void export_all(const char *capture, const char *opts, int timeout_s)
{
	char *out = NULL, dir[256];
	uint64_t drops, t0;
	int ret;

	for (int i = 0; i < F_N; i++)
		start_nfcapd(i, i ? env.port[i - 1] + 1 : 29990);
	t0 = coll_now_ms();
	ret = coll_run(&out,
		       "timeout %d %s replay '%s' %s -c v5://127.0.0.1:%d -c v9://127.0.0.1:%d "
		       "-c ipfix://127.0.0.1:%d -c json:%s 2>&1",
		       timeout_s, coll_nsflow_bin(), capture, opts, env.port[F_V5], env.port[F_V9],
		       env.port[F_IPFIX], env.json);
	cr_log_info("replay of %s: %llu ms: %s", capture, (unsigned long long)(coll_now_ms() - t0),
		    out ? out : "");
	cr_assert_neq(ret, 124, "nsflow replay %s did not finish within %d s", capture, timeout_s);
	cr_assert_eq(ret, 0, "nsflow replay %s exited %d: %s", capture, ret, out ? out : "");
	free(out);
	for (int i = 0; i < F_N; i++) {
		/* everything sent is in the socket already: wait until nfcapd has read it */
		cr_assert_eq(coll_udp_drained(env.port[i], 10000, &drops), 0,
			     "nfcapd (%s) did not read its socket", fmt_name[i]);
		cr_assert_eq(drops, 0, "the kernel dropped %llu %s datagrams to nfcapd",
			     (unsigned long long)drops, fmt_name[i]);
		/* SIGTERM makes nfcapd write out its file */
		cr_assert_eq(coll_stop(&env.nfcapd[i], SIGTERM, 10000), 0, "nfcapd (%s) exit",
			     fmt_name[i]);
		snprintf(dir, sizeof(dir), "%s/%s", env.dir, fmt_name[i]);
		cr_assert_eq(coll_nfdump_flows(dir, &env.got[i]), 0, "nfdump -R %s", dir);
	}
	cr_assert_eq(coll_json_sink_flows(env.json, &env.json_flows), 0, "read %s", env.json);
}

static void assert_same(const struct coll_flows *want, const struct coll_flows *got,
			unsigned int cmp, const char *who)
{
	char why[512];
	uint64_t wp, wb, gp, gb;

	coll_flows_totals(want, &wp, &wb);
	coll_flows_totals(got, &gp, &gb);
	cr_log_info("%-6s %zu flows, %llu packets, %llu bytes (tshark: %zu, %llu, %llu)", who,
		    got->n, (unsigned long long)gp, (unsigned long long)gb, want->n,
		    (unsigned long long)wp, (unsigned long long)wb);
	cr_expect_eq(gp, wp, "%s: %llu packets in total, tshark counts %llu", who,
		     (unsigned long long)gp, (unsigned long long)wp);
	cr_expect_eq(gb, wb, "%s: %llu bytes in total, tshark counts %llu", who,
		     (unsigned long long)gb, (unsigned long long)wb);
	cr_expect_eq(coll_flows_diff(want, got, cmp, who, why, sizeof(why)), 0, "%s", why);
}

Test(export_nfdump, v5_v9_ipfix_at_once_match_tshark, .init = setup, .fini = teardown,
     .timeout = 90)
{
	struct coll_flows want4;
	struct coll_key k;
	const struct coll_flow *f;
	int with_labels = 0;

	cr_assert_eq(coll_write_mix(env.capture, COLL_MIX_CRAFTED | COLL_MIX_SHARED), 0);
	expect(env.capture);
	/* the crafted part is there: an IPv6 flow and the two-label MPLS flow */
	cr_assert_eq(coll_key_set(&k, COLL_MIX_V6_SRC, COLL_MIX_V6_DST, 17, 5002, 6002), 0);
	cr_assert_not_null(coll_flows_find(&env.want, &k));
	for (size_t i = 0; i < env.want.n; i++)
		with_labels += env.want.f[i].n_mpls == 2;
	cr_assert_eq(with_labels, 1, "tshark sees %d flows under two MPLS labels", with_labels);

	export_all(env.capture, "", 60);

	assert_same(&env.want, &env.json_flows, COLL_CMP_MPLS, "json");
	coll_flows_only_version(&env.want, 4, &want4);
	assert_same(&want4, &env.got[F_V5], 0, "v5");
	coll_flows_free(&want4);
	assert_same(&env.want, &env.got[F_V9], COLL_CMP_MPLS, "v9");
	assert_same(&env.want, &env.got[F_IPFIX], COLL_CMP_MPLS, "ipfix");

	/* and the label stack as nfdump shows it, top first */
	cr_assert_eq(coll_key_set(&k, COLL_MIX_MPLS_SRC, "198.51.100.40", 17, 5004, 6004), 0);
	for (int i = F_V9; i <= F_IPFIX; i++) {
		f = coll_flows_find(&env.got[i], &k);
		cr_assert_not_null(f, "%s: no MPLS flow", fmt_name[i]);
		cr_expect(f->n_mpls >= 2 && f->mpls[0] == COLL_MIX_MPLS_TOP &&
				  f->mpls[1] == COLL_MIX_MPLS_BOTTOM,
			  "%s: MPLS labels %u/%u, want %u/%u", fmt_name[i], f->mpls[0], f->mpls[1],
			  COLL_MIX_MPLS_TOP, COLL_MIX_MPLS_BOTTOM);
	}
}

/*
 * v5 carries milliseconds of uptime plus the export time to the nanosecond, IPFIX absolute
 * milliseconds, v9 milliseconds of uptime plus the export time in whole seconds: each must
 * land every flow's first and last packet on the millisecond tshark reads from the capture.
 */
Test(export_nfdump, first_and_last_packet_times_to_the_millisecond, .init = setup, .fini = teardown,
     .timeout = 90)
{
	struct coll_flows want4;

	cr_assert_eq(coll_write_mix(env.capture, COLL_MIX_CRAFTED), 0);
	expect(env.capture);
	export_all(env.capture, "", 60);

	assert_same(&env.want, &env.json_flows, COLL_CMP_TIMES, "json");
	coll_flows_only_version(&env.want, 4, &want4);
	assert_same(&want4, &env.got[F_V5], COLL_CMP_TIMES, "v5");
	coll_flows_free(&want4);
	assert_same(&env.want, &env.got[F_IPFIX], COLL_CMP_TIMES, "ipfix");
	assert_same(&env.want, &env.got[F_V9], COLL_CMP_TIMES, "v9");
}

/*
 * icmpv6.pcap has 281 days between its first two packets. A replay drives aging from the
 * capture's clock; a quiet stretch must cost nothing, and the flows on both sides of it must
 * reach the collectors like any others.
 */
Test(export_nfdump, capture_with_a_long_quiet_gap, .init = setup, .fini = teardown, .timeout = 60)
{
	char capture[1024];

	snprintf(capture, sizeof(capture), "%s/icmpv6.pcap", coll_pcap_dir());
	expect(capture);
	export_all(capture, "", 30);

	assert_same(&env.want, &env.json_flows, 0, "json");
	assert_same(&env.want, &env.got[F_IPFIX], 0, "ipfix");
}
