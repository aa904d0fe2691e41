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
#include <unistd.h>
#include <arpa/inet.h>
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

/* The test's own longest-prefix match over the routes file it writes below */
struct agg_route_t {
	const char *prefix;
	unsigned int len, as;
	const char *nexthop;
};

static const struct agg_route_t agg_routes[] = {
	{ "131.151.32.0", 24, 64501, "192.0.2.2" },
	{ "131.151.0.0", 16, 64500, "192.0.2.1" },
};

static const struct agg_route_t *agg_lpm(uint32_t a)
{
	for (size_t i = 0; i < sizeof(agg_routes) / sizeof(agg_routes[0]); i++) {
		uint32_t p = ntohl(inet_addr(agg_routes[i].prefix));
		uint32_t m = agg_routes[i].len ? ~0u << (32 - agg_routes[i].len) : 0;

		if ((a & m) == p)
			return &agg_routes[i];
	}
	return NULL;
}

struct agg_want {
	char key[128];
	uint64_t packets, bytes;
	bool seen;
};

/*
 * prefix:v4 and bgp-nexthop-tos:v4 over afs.pcap into nfcapd as v9 and IPFIX, with a routes
 * file: nfdump shows each aggregated record's prefixes, mask lengths, AS numbers and BGP next
 * hop, and its packets and bytes equal what the test sums from tshark's view of the capture
 * and its own lookup in the routes.
 */
Test(export_nfdump, aggregated_records_with_routes, .init = setup, .fini = teardown, .timeout = 60)
{
	static struct agg_want want[64];
	char routes[300], capture[512], dir[300], key[128], *out = NULL, *line, *save = NULL;
	size_t n_want = 0;
	uint64_t drops;
	FILE *f;
	int ret;

	snprintf(capture, sizeof(capture), "%s/afs.pcap", coll_pcap_dir());
	cr_assert_eq(access(capture, R_OK), 0, "%s: %s", capture, strerror(errno));
	snprintf(routes, sizeof(routes), "%s/routes.txt", env.dir);
	f = fopen(routes, "w");
	for (size_t i = 0; i < sizeof(agg_routes) / sizeof(agg_routes[0]); i++)
		fprintf(f, "%s/%u %u 64499 %s\n", agg_routes[i].prefix, agg_routes[i].len,
			agg_routes[i].as, agg_routes[i].nexthop);
	fclose(f);

	/* what the aggregates must hold, from tshark and the routes */
	cr_assert_eq(coll_run(&out,
			      "tshark -r '%s' -Y ip -T fields -E occurrence=f -e ip.src -e ip.dst "
			      "-e ip.len -e ip.dsfield 2>/dev/null",
			      capture),
		     0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char src[32], dst[32], ds[16];
		unsigned int len;
		const struct agg_route_t *rs, *rd;

		cr_assert_eq(sscanf(line, "%31s %31s %u %15s", src, dst, &len, ds), 4, "%s", line);
		rs = agg_lpm(ntohl(inet_addr(src)));
		rd = agg_lpm(ntohl(inet_addr(dst)));
		for (int mode = 0; mode < 2; mode++) {
			size_t i;

			if (!mode)
				snprintf(key, sizeof(key), "prefix %s/%u AS %u > %s/%u AS %u",
					 rs ? rs->prefix : "0.0.0.0", rs ? rs->len : 0,
					 rs ? rs->as : 0, rd ? rd->prefix : "0.0.0.0",
					 rd ? rd->len : 0, rd ? rd->as : 0);
			else
				snprintf(key, sizeof(key), "next hop %s tos %lu",
					 rd ? rd->nexthop : "0.0.0.0", strtoul(ds, NULL, 16));
			for (i = 0; i < n_want && strcmp(want[i].key, key); i++)
				;
			if (i == n_want) {
				cr_assert_lt(n_want, 64);
				snprintf(want[n_want++].key, sizeof(want[0].key), "%s", key);
			}
			want[i].packets++;
			want[i].bytes += len;
		}
	}
	free(out);

	for (int i = F_V9; i <= F_IPFIX; i++) {
		start_nfcapd(i, i > F_V9 ? env.port[i - 1] + 1 : 29980);
		ret = coll_run(
			&out,
			"timeout 30 %s replay '%s' -c %s://127.0.0.1:%d --no-original "
			"--aggregate prefix:v4 --aggregate bgp-nexthop-tos:v4 --routes %s 2>&1",
			coll_nsflow_bin(), capture, i == F_V9 ? "v9" : "ipfix", env.port[i],
			routes);
		cr_assert_eq(ret, 0, "nsflow replay: %s", out ? out : "");
		free(out);
		cr_assert_eq(coll_udp_drained(env.port[i], 10000, &drops), 0);
		cr_assert_eq(coll_stop(&env.nfcapd[i], SIGTERM, 10000), 0);
		snprintf(dir, sizeof(dir), "%s/%s", env.dir, fmt_name[i]);
		cr_assert_eq(coll_run(&out, "nfdump -R '%s' -o json 2>&1", dir), 0);
		for (size_t k = 0; k < n_want; k++)
			want[k].seen = false;
		for (char *obj = strstr(out, "{"); obj; obj = strstr(obj + 1, "{")) {
			char *end = strchr(obj, '}'), sa[32] = "", da[32] = "", nh[32] = "";
			char sm[8] = "0", dm[8] = "0", sas[16] = "0", das[16] = "0", tos[8] = "0";
			char pk[24] = "0", by[24] = "0";
			size_t k;

			if (end)
				*end = 0;
			coll_json_value(obj, "in_packets", pk, sizeof(pk));
			coll_json_value(obj, "in_bytes", by, sizeof(by));
			if (!coll_json_value(obj, "bgp4_next_hop", nh, sizeof(nh))) {
				coll_json_value(obj, "src_tos", tos, sizeof(tos));
				snprintf(key, sizeof(key), "next hop %s tos %s", nh, tos);
			} else {
				coll_json_value(obj, "src4_addr", sa, sizeof(sa));
				coll_json_value(obj, "dst4_addr", da, sizeof(da));
				coll_json_value(obj, "src_mask", sm, sizeof(sm));
				coll_json_value(obj, "dst_mask", dm, sizeof(dm));
				coll_json_value(obj, "src_as", sas, sizeof(sas));
				coll_json_value(obj, "dst_as", das, sizeof(das));
				snprintf(key, sizeof(key), "prefix %s/%s AS %s > %s/%s AS %s", sa,
					 sm, sas, da, dm, das);
			}
			for (k = 0; k < n_want && strcmp(want[k].key, key); k++)
				;
			cr_expect_lt(k, n_want, "%s: nfdump has an aggregate the test does not: %s",
				     fmt_name[i], key);
			if (k < n_want) {
				cr_expect_not(want[k].seen, "%s: %s twice", fmt_name[i], key);
				want[k].seen = true;
				cr_expect_eq(strtoull(pk, NULL, 10), want[k].packets,
					     "%s: %s: %s packets, want %llu", fmt_name[i], key, pk,
					     (unsigned long long)want[k].packets);
				cr_expect_eq(strtoull(by, NULL, 10), want[k].bytes,
					     "%s: %s: %s bytes, want %llu", fmt_name[i], key, by,
					     (unsigned long long)want[k].bytes);
			}
			if (!end)
				break;
			obj = end;
		}
		for (size_t k = 0; k < n_want; k++)
			cr_expect(want[k].seen, "%s: nfdump lacks %s", fmt_name[i], want[k].key);
		free(out);
		out = NULL;
	}
	cr_log_info("%zu aggregates checked", n_want);
}

/* The slot of key in want (added when new) */
static struct agg_want *want_slot(struct agg_want *want, size_t *n, size_t cap, const char *key)
{
	size_t i;

	for (i = 0; i < *n && strcmp(want[i].key, key); i++)
		;
	if (i == *n) {
		cr_assert_lt(*n, cap);
		memset(&want[i], 0, sizeof(want[i]));
		snprintf(want[(*n)++].key, sizeof(want[0].key), "%s", key);
	}
	return &want[i];
}

/*
 * A flexible record over afs.pcap with the routes file: source /16, both AS numbers and the BGP
 * next hop, in 16-bit counters. nfdump shows the mask length, AS numbers and next hop of each
 * record, and its records (a large count split over several) sum per key to what the test
 * finds from tshark and its own lookup.
 */
Test(export_nfdump, flexible_record_with_routes, .init = setup, .fini = teardown, .timeout = 60)
{
	static struct agg_want want[64], got[64];
	char routes[300], capture[512], dir[300], key[160], *out = NULL, *line, *save = NULL;
	size_t n_want = 0, n_got, split = 0;
	uint64_t drops;
	FILE *f;
	int ret;

	snprintf(capture, sizeof(capture), "%s/afs.pcap", coll_pcap_dir());
	cr_assert_eq(access(capture, R_OK), 0, "%s: %s", capture, strerror(errno));
	snprintf(routes, sizeof(routes), "%s/routes.txt", env.dir);
	f = fopen(routes, "w");
	for (size_t i = 0; i < sizeof(agg_routes) / sizeof(agg_routes[0]); i++)
		fprintf(f, "%s/%u %u 64499 %s\n", agg_routes[i].prefix, agg_routes[i].len,
			agg_routes[i].as, agg_routes[i].nexthop);
	fclose(f);

	cr_assert_eq(coll_run(&out,
			      "tshark -r '%s' -Y ip -T fields -E occurrence=f -e ip.src -e ip.dst "
			      "-e ip.len 2>/dev/null",
			      capture),
		     0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char src[32], dst[32];
		unsigned int len;
		struct in_addr net;
		const struct agg_route_t *rs, *rd;
		struct agg_want *w;

		cr_assert_eq(sscanf(line, "%31s %31s %u", src, dst, &len), 3, "%s", line);
		rs = agg_lpm(ntohl(inet_addr(src)));
		rd = agg_lpm(ntohl(inet_addr(dst)));
		net.s_addr = htonl(ntohl(inet_addr(src)) & 0xffff0000u);
		snprintf(key, sizeof(key), "%s/16 AS %u > AS %u via %s", inet_ntoa(net),
			 rs ? rs->as : 0, rd ? rd->as : 0, rd ? rd->nexthop : "0.0.0.0");
		w = want_slot(want, &n_want, 64, key);
		w->packets++;
		w->bytes += len;
	}
	free(out);

	for (int i = F_V9; i <= F_IPFIX; i++) {
		start_nfcapd(i, i > F_V9 ? env.port[i - 1] + 1 : 29980);
		ret = coll_run(
			&out,
			"timeout 30 %s replay '%s' -c %s://127.0.0.1:%d --no-original "
			"--record routed:v4:match=source-address/16,source-as,destination-as,"
			"bgp-next-hop:collect=packets/16,bytes/16 --routes %s 2>&1",
			coll_nsflow_bin(), capture, i == F_V9 ? "v9" : "ipfix", env.port[i],
			routes);
		cr_assert_eq(ret, 0, "nsflow replay: %s", out ? out : "");
		free(out);
		cr_assert_eq(coll_udp_drained(env.port[i], 10000, &drops), 0);
		cr_assert_eq(coll_stop(&env.nfcapd[i], SIGTERM, 10000), 0);
		snprintf(dir, sizeof(dir), "%s/%s", env.dir, fmt_name[i]);
		cr_assert_eq(coll_run(&out, "nfdump -R '%s' -o json 2>&1", dir), 0);
		n_got = 0;
		for (char *obj = strstr(out, "{"); obj; obj = strstr(obj + 1, "{")) {
			char *end = strchr(obj, '}'), sa[32] = "", nh[32] = "", sm[8] = "0";
			char sas[16] = "0", das[16] = "0", pk[24] = "0", by[24] = "0";
			struct agg_want *g;

			if (end)
				*end = 0;
			coll_json_value(obj, "in_packets", pk, sizeof(pk));
			coll_json_value(obj, "in_bytes", by, sizeof(by));
			coll_json_value(obj, "src4_addr", sa, sizeof(sa));
			coll_json_value(obj, "src_mask", sm, sizeof(sm));
			coll_json_value(obj, "src_as", sas, sizeof(sas));
			coll_json_value(obj, "dst_as", das, sizeof(das));
			coll_json_value(obj, "bgp4_next_hop", nh, sizeof(nh));
			snprintf(key, sizeof(key), "%s/%s AS %s > AS %s via %s", sa, sm, sas, das,
				 nh[0] ? nh : "0.0.0.0");
			g = want_slot(got, &n_got, 64, key);
			split += g->packets != 0;
			g->packets += strtoull(pk, NULL, 10);
			g->bytes += strtoull(by, NULL, 10);
			if (!end)
				break;
			obj = end;
		}
		free(out);
		out = NULL;
		cr_expect_eq(n_got, n_want, "%s: nfdump shows %zu keys, the test finds %zu",
			     fmt_name[i], n_got, n_want);
		for (size_t k = 0; k < n_want; k++) {
			size_t j;

			for (j = 0; j < n_got && strcmp(got[j].key, want[k].key); j++)
				;
			cr_expect_lt(j, n_got, "%s: nfdump lacks %s", fmt_name[i], want[k].key);
			if (j == n_got)
				continue;
			cr_expect_eq(got[j].packets, want[k].packets,
				     "%s: %s: %llu packets, want %llu", fmt_name[i], want[k].key,
				     (unsigned long long)got[j].packets,
				     (unsigned long long)want[k].packets);
			cr_expect_eq(got[j].bytes, want[k].bytes, "%s: %s: %llu bytes, want %llu",
				     fmt_name[i], want[k].key, (unsigned long long)got[j].bytes,
				     (unsigned long long)want[k].bytes);
		}
	}
	cr_expect_gt(split, 0, "no count was large enough to need a split 16-bit record");
	cr_log_info("%zu keys checked, %zu records were parts of a split count", n_want, split);
}

/*
 * Original records with --routes, to nfcapd as v5, v9 and IPFIX: nfdump shows for every record
 * the AS numbers the test's own lookup gives for its addresses (and, for v9 and IPFIX, the
 * mask lengths and the BGP next hop: nfdump 1.7 reads neither from v5, whose mask bytes
 * test_exp_v5 checks), and the packets add up to the capture's.
 */
Test(export_nfdump, original_records_carry_routes, .init = setup, .fini = teardown, .timeout = 60)
{
	char routes[300], capture[512], dir[300], *out = NULL;
	uint64_t drops, packets[F_N] = { 0 }, want_packets = 0;
	unsigned int records[F_N] = { 0 }, routed[F_N] = { 0 };
	FILE *f;
	int ret;

	snprintf(capture, sizeof(capture), "%s/afs.pcap", coll_pcap_dir());
	cr_assert_eq(access(capture, R_OK), 0, "%s: %s", capture, strerror(errno));
	snprintf(routes, sizeof(routes), "%s/routes.txt", env.dir);
	f = fopen(routes, "w");
	for (size_t i = 0; i < sizeof(agg_routes) / sizeof(agg_routes[0]); i++)
		fprintf(f, "%s/%u %u 64499 %s\n", agg_routes[i].prefix, agg_routes[i].len,
			agg_routes[i].as, agg_routes[i].nexthop);
	fclose(f);
	cr_assert_eq(coll_run(&out,
			      "tshark -r '%s' -Y ip -T fields -e frame.number 2>/dev/null | "
			      "wc -l",
			      capture),
		     0);
	want_packets = strtoull(out, NULL, 10);
	free(out);

	for (int i = 0; i < F_N; i++)
		start_nfcapd(i, i ? env.port[i - 1] + 1 : 29970);
	ret = coll_run(&out,
		       "timeout 30 %s replay '%s' -c v5://127.0.0.1:%d -c v9://127.0.0.1:%d -c "
		       "ipfix://127.0.0.1:%d --routes %s 2>&1",
		       coll_nsflow_bin(), capture, env.port[F_V5], env.port[F_V9],
		       env.port[F_IPFIX], routes);
	cr_assert_eq(ret, 0, "nsflow replay: %s", out ? out : "");
	free(out);
	for (int i = 0; i < F_N; i++) {
		cr_assert_eq(coll_udp_drained(env.port[i], 10000, &drops), 0);
		cr_assert_eq(coll_stop(&env.nfcapd[i], SIGTERM, 10000), 0);
		snprintf(dir, sizeof(dir), "%s/%s", env.dir, fmt_name[i]);
		cr_assert_eq(coll_run(&out, "nfdump -R '%s' -o json 2>&1", dir), 0);
		for (char *obj = strstr(out, "{"); obj; obj = strstr(obj + 1, "{")) {
			char *end = strchr(obj, '}'), sa[32] = "", da[32] = "", nh[32] = "0.0.0.0";
			char sm[8] = "0", dm[8] = "0", sas[16] = "0", das[16] = "0", pk[24] = "0";
			const struct agg_route_t *rs, *rd;

			if (end)
				*end = 0;
			if (coll_json_value(obj, "src4_addr", sa, sizeof(sa)) ||
			    coll_json_value(obj, "dst4_addr", da, sizeof(da)))
				goto next;
			coll_json_value(obj, "in_packets", pk, sizeof(pk));
			coll_json_value(obj, "src_mask", sm, sizeof(sm));
			coll_json_value(obj, "dst_mask", dm, sizeof(dm));
			coll_json_value(obj, "src_as", sas, sizeof(sas));
			coll_json_value(obj, "dst_as", das, sizeof(das));
			coll_json_value(obj, "bgp4_next_hop", nh, sizeof(nh));
			rs = agg_lpm(ntohl(inet_addr(sa)));
			rd = agg_lpm(ntohl(inet_addr(da)));
			records[i]++;
			routed[i] += rs || rd;
			packets[i] += strtoull(pk, NULL, 10);
			cr_expect_eq(strtoul(sas, NULL, 10), rs ? rs->as : 0, "%s %s: src_as %s",
				     fmt_name[i], sa, sas);
			cr_expect_eq(strtoul(das, NULL, 10), rd ? rd->as : 0, "%s %s: dst_as %s",
				     fmt_name[i], da, das);
			if (i == F_V5)
				goto next;
			cr_expect_eq(strtoul(sm, NULL, 10), rs ? rs->len : 0, "%s %s: src_mask %s",
				     fmt_name[i], sa, sm);
			cr_expect_eq(strtoul(dm, NULL, 10), rd ? rd->len : 0, "%s %s: dst_mask %s",
				     fmt_name[i], da, dm);
			cr_expect_str_eq(nh, rd ? rd->nexthop : "0.0.0.0", "%s %s: bgp4_next_hop",
					 fmt_name[i], da);
		next:
			if (!end)
				break;
			obj = end;
		}
		free(out);
		out = NULL;
		cr_expect_gt(routed[i], 0, "%s: no record had a route", fmt_name[i]);
		cr_expect_eq(packets[i], want_packets, "%s: %llu packets, the capture has %llu",
			     fmt_name[i], (unsigned long long)packets[i],
			     (unsigned long long)want_packets);
		cr_log_info("%s: %u records, %u with a route", fmt_name[i], records[i], routed[i]);
	}
}

/*
 * ICMPv6 type and code reach nfdump in v9 as in IPFIX: v9 has one ICMP_TYPE field (32) for both
 * families, and nfdump reads nothing else there (it showed 0.0). The (type, code) pairs nfdump
 * shows must be the ones tshark finds in the capture.
 */
Test(export_nfdump, icmpv6_type_and_code_in_v9_and_ipfix, .init = setup, .fini = teardown,
     .timeout = 60)
{
	char capture[512], dir[300], want[256] = "", *out = NULL, *line, *save = NULL;
	uint64_t drops;
	int ret;

	snprintf(capture, sizeof(capture), "%s/icmpv6.pcap", coll_pcap_dir());
	cr_assert_eq(access(capture, R_OK), 0, "%s: %s", capture, strerror(errno));
	cr_assert_eq(
		coll_run(&out,
			 "tshark -r '%s' -T fields -E separator=. -e icmpv6.type -e icmpv6.code "
			 "2>/dev/null | sort -u | tr '\\n' ' '",
			 capture),
		0);
	snprintf(want, sizeof(want), "%s", out);
	free(out);
	cr_assert_gt(strlen(want), 2, "tshark finds no ICMPv6 in %s", capture);
	for (int i = F_V9; i <= F_IPFIX; i++) {
		char got[256] = "";

		start_nfcapd(i, i > F_V9 ? env.port[i - 1] + 1 : 29960);
		ret = coll_run(&out, "timeout 30 %s replay '%s' -c %s://127.0.0.1:%d 2>&1",
			       coll_nsflow_bin(), capture, i == F_V9 ? "v9" : "ipfix", env.port[i]);
		cr_assert_eq(ret, 0, "nsflow replay: %s", out ? out : "");
		free(out);
		cr_assert_eq(coll_udp_drained(env.port[i], 10000, &drops), 0);
		cr_assert_eq(coll_stop(&env.nfcapd[i], SIGTERM, 10000), 0);
		snprintf(dir, sizeof(dir), "%s/%s", env.dir, fmt_name[i]);
		cr_assert_eq(
			coll_run(&out,
				 "nfdump -R '%s' -o json 2>/dev/null | tr -d ', ' | awk -F: "
				 "'/\"proto\"/ { p = $2 } /\"icmp_type\"/ { t = $2 } "
				 "/\"icmp_code\"/ && p == 58 { print t \".\" $2 }' | sort -u | "
				 "tr '\\n' ' '",
				 dir),
			0);
		for (line = strtok_r(out, " ", &save); line; line = strtok_r(NULL, " ", &save))
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s ", line);
		free(out);
		out = NULL;
		cr_expect_str_eq(got, want, "%s: nfdump shows ICMPv6 type.code '%s', tshark '%s'",
				 fmt_name[i], got, want);
	}
}

/*
 * Sampled 1 in 10 by each of NetStream's three samplers: nfcapd must scale every record by the
 * rate our options (v9/IPFIX) or header (v5) announce, so that nfdump shows ten times what was
 * sampled. The capture is steady, a frame a millisecond, so that a time-based sampler taking
 * the first packet of each 10 ms takes every tenth: its measured rate is 10 too, and the scaled
 * totals of the fixed and time-based samplers are exactly what was sent.
 */
static void sampled_by(const char *mode)
{
	enum { FRAMES = 3000, FLOWS = 37 };
	uint64_t sp, sb, p, b;
	char opts[64];

	snprintf(env.capture, sizeof(env.capture), "%s/steady.pcap", env.dir);
	cr_assert_eq(coll_write_steady(env.capture, FRAMES, FLOWS, 1000000), 0);
	snprintf(opts, sizeof(opts), "--sample %s:10", mode);
	export_all(env.capture, opts, 60);
	coll_flows_totals(&env.json_flows, &sp, &sb);
	cr_assert_gt(sp, 0, "%s: nothing was sampled", mode);
	if (strcmp(mode, "random"))
		cr_expect_eq(sp, FRAMES / 10, "%s: %llu packets sampled of %d", mode,
			     (unsigned long long)sp, FRAMES);
	for (int i = 0; i < F_N; i++) {
		coll_flows_totals(&env.got[i], &p, &b);
		cr_log_info("%s %s: sampled %llu packets, %llu bytes; nfdump %llu, %llu", mode,
			    fmt_name[i], (unsigned long long)sp, (unsigned long long)sb,
			    (unsigned long long)p, (unsigned long long)b);
		cr_expect_eq(p, sp * 10, "%s %s: nfdump shows %llu packets for %llu sampled", mode,
			     fmt_name[i], (unsigned long long)p, (unsigned long long)sp);
		cr_expect_eq(b, sb * 10, "%s %s: nfdump shows %llu bytes for %llu sampled", mode,
			     fmt_name[i], (unsigned long long)b, (unsigned long long)sb);
		/* 1 in 10 at random: 300 +- 17 taken; 20% is more than 3 standard deviations */
		cr_expect(p * 10 >= FRAMES * 8ull && p * 10 <= FRAMES * 12ull,
			  "%s %s: nfdump estimates %llu packets, %d were sent", mode, fmt_name[i],
			  (unsigned long long)p, FRAMES);
	}
}

Test(export_nfdump, fixed_sampling_is_scaled, .init = setup, .fini = teardown, .timeout = 90)
{
	sampled_by("fixed");
}

Test(export_nfdump, random_sampling_is_scaled, .init = setup, .fini = teardown, .timeout = 90)
{
	sampled_by("random");
}

Test(export_nfdump, time_sampling_is_scaled_by_its_measured_rate, .init = setup, .fini = teardown,
     .timeout = 90)
{
	sampled_by("time");
}
