// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pmacct's nfacctd as the collector of NetFlow v9 and IPFIX: its print plugin, aggregating by
 * addresses, ports and protocol, must count every flow of the replayed capture with the
 * packets and bytes tshark counts. With 1-in-10 sampling and nfacctd_renormalize on, it must
 * scale what was sampled back up by the rate it learns from our options data: exactly ten
 * times what the JSON sink of the same run reports, and about what was on the wire.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "collectors.h"

enum { V9, IPFIX, N_FMT };

static const char *const fmt_name[N_FMT] = { "v9", "ipfix" };

static struct {
	char dir[128];
	char capture[256];
	char json[256];
	char csv[N_FMT][256];
	struct coll_proc nfacctd[N_FMT];
	int port[N_FMT];
	struct coll_flows want, sampled, got[N_FMT];
} env;

static void setup(void)
{
	memset(&env, 0, sizeof(env));
	cr_assert_eq(coll_tmpdir(env.dir, sizeof(env.dir), "nfacctd"), 0);
	snprintf(env.capture, sizeof(env.capture), "%s/mix.pcap", env.dir);
	snprintf(env.json, sizeof(env.json), "%s/flows.json", env.dir);
	cr_assert_eq(coll_write_mix(env.capture, COLL_MIX_CRAFTED | COLL_MIX_SHARED), 0);
}

static void teardown(void)
{
	for (int i = 0; i < N_FMT; i++) {
		coll_stop(&env.nfacctd[i], SIGTERM, 5000);
		coll_flows_free(&env.got[i]);
	}
	coll_flows_free(&env.want);
	coll_flows_free(&env.sampled);
	if (!getenv("NSFLOW_KEEP"))
		coll_rmtree(env.dir);
}

static void start_nfacctd(int i, bool renormalize)
{
	char conf[256], log[256], csv[sizeof(env.csv[0])], text[1024];
	char *argv[] = { "nfacctd", "-f", conf, NULL };
	FILE *f;

	env.port[i] = coll_pick_port(SOCK_DGRAM, i ? env.port[i - 1] + 1 : 29990, 29999);
	cr_assert_gt(env.port[i], 0, "no free UDP port");
	snprintf(conf, sizeof(conf), "%s/%s.conf", env.dir, fmt_name[i]);
	snprintf(log, sizeof(log), "%s/nfacctd-%s.log", env.dir, fmt_name[i]);
	snprintf(csv, sizeof(csv), "%s/%s.csv", env.dir, fmt_name[i]);
	memcpy(env.csv[i], csv, sizeof(csv));
	/* every purge appends what it aggregated since the last: the file sums to the totals */
	snprintf(text, sizeof(text),
		 "daemonize: false\n"
		 "nfacctd_ip: 127.0.0.1\n"
		 "nfacctd_port: %d\n"
		 "nfacctd_renormalize: %s\n"
		 "plugins: print\n"
		 "aggregate: src_host,dst_host,src_port,dst_port,proto\n"
		 "print_output: csv\n"
		 "print_num_protos: true\n"
		 "print_output_file: %s\n"
		 "print_output_file_append: true\n"
		 "print_refresh_time: 1\n",
		 env.port[i], renormalize ? "true" : "false", env.csv[i]);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(coll_spawn(&env.nfacctd[i], log, argv), 0);
	cr_assert_eq(coll_wait_log(&env.nfacctd[i], "waiting for NetFlow/IPFIX data", 10000), 0,
		     "nfacctd (%s) did not start: see %s", fmt_name[i], log);
	cr_assert_eq(coll_udp_bound(env.port[i], 5000), 0);
}

static void replay(const char *opts)
{
	char *out = NULL;
	int ret = coll_run(&out,
			   "timeout 60 %s replay '%s' %s -c v9://127.0.0.1:%d "
			   "-c ipfix://127.0.0.1:%d -c json:%s 2>&1",
			   coll_nsflow_bin(), env.capture, opts, env.port[V9], env.port[IPFIX],
			   env.json);

	cr_assert_eq(ret, 0, "nsflow replay %s exited %d: %s", opts, ret, out ? out : "");
	free(out);
}

/*
 * nfacctd prints once a second: wait until the file adds up to @packets (or stops growing for
 * long), then stop it, which prints what is left, and read the file for good.
 */
static void collect(int i, uint64_t packets)
{
	uint64_t deadline = coll_now_ms() + 20000, drops, p = 0, b;

	cr_assert_eq(coll_udp_drained(env.port[i], 10000, &drops), 0);
	cr_assert_eq(drops, 0, "the kernel dropped %llu datagrams to nfacctd (%s)",
		     (unsigned long long)drops, fmt_name[i]);
	while (coll_now_ms() < deadline) {
		coll_flows_free(&env.got[i]);
		coll_pmacct_csv_flows(env.csv[i], &env.got[i]);
		coll_flows_totals(&env.got[i], &p, &b);
		if (p >= packets)
			break;
		usleep(100000);
	}
	cr_assert_eq(coll_stop(&env.nfacctd[i], SIGINT, 10000), 0, "nfacctd (%s) exit",
		     fmt_name[i]);
	coll_flows_free(&env.got[i]);
	cr_assert_eq(coll_pmacct_csv_flows(env.csv[i], &env.got[i]), 0, "read %s", env.csv[i]);
	coll_flows_totals(&env.got[i], &p, &b);
	cr_log_info("nfacctd (%s): %zu flows, %llu packets, %llu bytes", fmt_name[i], env.got[i].n,
		    (unsigned long long)p, (unsigned long long)b);
}

Test(export_nfacctd, v9_and_ipfix_flows_match_tshark, .init = setup, .fini = teardown,
     .timeout = 90)
{
	struct coll_expect_stats st;
	uint64_t wp, wb, p, b;
	char why[512];

	cr_assert_eq(coll_tshark_flows(env.capture, &env.want, &st), 0);
	cr_assert_eq(st.skipped, 0);
	coll_flows_totals(&env.want, &wp, &wb);
	for (int i = 0; i < N_FMT; i++)
		start_nfacctd(i, false);
	replay("");
	for (int i = 0; i < N_FMT; i++) {
		collect(i, wp);
		coll_flows_totals(&env.got[i], &p, &b);
		cr_expect_eq(p, wp, "%s: nfacctd counts %llu packets, tshark %llu", fmt_name[i],
			     (unsigned long long)p, (unsigned long long)wp);
		cr_expect_eq(b, wb, "%s: nfacctd counts %llu bytes, tshark %llu", fmt_name[i],
			     (unsigned long long)b, (unsigned long long)wb);
		cr_expect_eq(
			coll_flows_diff(&env.want, &env.got[i], 0, fmt_name[i], why, sizeof(why)),
			0, "%s", why);
	}
}

/*
 * Sampled 1 in 10 by each of NetStream's samplers: nfacctd must multiply what it receives by
 * the rate announced in the options data (v9 FLOW_SAMPLER_* 48-50, IPFIX selectorId/
 * samplingPacketInterval/Space 302/305/306) for the sampler each record names. The capture is
 * steady, a frame a millisecond: a time-based sampler taking the first packet of each 10 ms
 * takes every tenth, and the rate it measured and announced is 10.
 */
static void sampled_run(const char *mode)
{
	enum { FRAMES = 3000, FLOWS = 37 };
	uint64_t sp, sb, p, b;
	char opts[64];

	snprintf(env.capture, sizeof(env.capture), "%s/steady.pcap", env.dir);
	cr_assert_eq(coll_write_steady(env.capture, FRAMES, FLOWS, 1000000), 0);
	for (int j = 0; j < N_FMT; j++)
		start_nfacctd(j, true);
	snprintf(opts, sizeof(opts), "--sample %s:10", mode);
	replay(opts);
	cr_assert_eq(coll_json_sink_flows(env.json, &env.sampled), 0);
	coll_flows_totals(&env.sampled, &sp, &sb);
	cr_assert_gt(sp, 0, "nothing was sampled");
	for (int i = 0; i < N_FMT; i++) {
		collect(i, sp * 10);
		coll_flows_totals(&env.got[i], &p, &b);
		cr_log_info("%s %s: sampled %llu packets, %llu bytes; nfacctd %llu, %llu", mode,
			    fmt_name[i], (unsigned long long)sp, (unsigned long long)sb,
			    (unsigned long long)p, (unsigned long long)b);
		cr_expect_eq(p, sp * 10, "%s %s: nfacctd shows %llu packets for %llu sampled", mode,
			     fmt_name[i], (unsigned long long)p, (unsigned long long)sp);
		cr_expect_eq(b, sb * 10, "%s %s: nfacctd shows %llu bytes for %llu sampled", mode,
			     fmt_name[i], (unsigned long long)b, (unsigned long long)sb);
		if (strcmp(mode, "random"))
			cr_expect_eq(p, FRAMES, "%s %s: nfacctd estimates %llu packets, %d sent",
				     mode, fmt_name[i], (unsigned long long)p, FRAMES);
		/* 1 in 10 at random: 300 +- 17 taken; 20% is more than 3 standard deviations */
		cr_expect(p * 10 >= FRAMES * 8ull && p * 10 <= FRAMES * 12ull,
			  "%s %s: nfacctd estimates %llu packets, %d were sent", mode, fmt_name[i],
			  (unsigned long long)p, FRAMES);
	}
}

Test(export_nfacctd, fixed_sampling_is_scaled_up, .init = setup, .fini = teardown, .timeout = 90)
{
	sampled_run("fixed");
}

Test(export_nfacctd, random_sampling_is_scaled_up, .init = setup, .fini = teardown, .timeout = 90)
{
	sampled_run("random");
}

Test(export_nfacctd, time_sampling_is_scaled_by_its_measured_rate, .init = setup, .fini = teardown,
     .timeout = 90)
{
	sampled_run("time");
}
