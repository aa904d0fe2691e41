// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libfixbuf's ipfixDump, a strict IPFIX reader of its own lineage, as the judge of every IPFIX
 * stream we write: the file sink, what an IPFIX/UDP collector receives (the datagrams one after
 * the other) and the bytes of an IPFIX/TCP session; and libfixbuf's NetFlow v9 translator for
 * the v9 stream (ipfixDump reads IPFIX only: tests/tools/fixbuf_v9 collects it). The replay carries
 * every kind of template we have: IPv4 and IPv6, MPLS, SRv6, aggregated and flexible records, and
 * options. ipfixDump must read each stream to its end with nothing on stderr, and count as many
 * flow records as the JSON sink of the same run wrote.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "collectors.h"

enum { S_FILE, S_UDP, S_TCP, S_N };

static const char *const stream_name[S_N] = { "file", "udp", "tcp" };

static struct {
	char dir[128];
	char capture[256];
	char json[256];
	char stream[S_N][256];
	int udp_fd;
	struct coll_tcp tcp;
} env;

static void setup(void)
{
	memset(&env, 0, sizeof(env));
	env.udp_fd = -1;
	env.tcp.lfd = env.tcp.cfd = -1;
	cr_assert_eq(coll_tmpdir(env.dir, sizeof(env.dir), "ipfixdump"), 0);
	snprintf(env.capture, sizeof(env.capture), "%s/mix.pcap", env.dir);
	snprintf(env.json, sizeof(env.json), "%s/flows.json", env.dir);
	for (int i = 0; i < S_N; i++)
		snprintf(env.stream[i], sizeof(env.stream[i]), "%s/%s.ipfix", env.dir,
			 stream_name[i]);
	cr_assert_eq(coll_write_mix(env.capture, COLL_MIX_CRAFTED | COLL_MIX_SHARED), 0);
}

static void teardown(void)
{
	if (env.udp_fd >= 0)
		close(env.udp_fd);
	coll_tcp_close(&env.tcp);
	coll_tcp_free(&env.tcp);
	if (!getenv("NSFLOW_KEEP"))
		coll_rmtree(env.dir);
}

/* Appends what @fd reads to @path until @fd ends (TCP) or has nothing left (UDP). */
static void save_stream(int fd, const char *path, bool datagrams)
{
	static uint8_t buf[1 << 16];
	FILE *f = fopen(path, "w");
	ssize_t n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, datagrams ? 0 : 10000) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		cr_assert_eq(fwrite(buf, 1, (size_t)n, f), (size_t)n);
	}
	fclose(f);
}

/* ipfixDump over @path: no complaint, and the number of data records of flow templates */
static uint64_t ipfixdump_flows(const char *path, const char *what)
{
	char *out = NULL, *err = NULL, errpath[300];
	uint64_t flows = 0, recs;
	unsigned int id;
	int ret;

	snprintf(errpath, sizeof(errpath), "%s.err", path);
	ret = coll_run(&out, "ipfixDump -i '%s' 2>'%s' >/dev/null", path, errpath);
	err = coll_slurp(errpath, NULL);
	cr_expect_eq(ret, 0, "%s: ipfixDump exited %d: %s", what, ret, err ? err : "");
	cr_expect(err && !err[0], "%s: ipfixDump says: %s", what, err ? err : "(no stderr)");
	free(out);
	free(err);
	/* per template, records read; options templates are those with a scope */
	ret = coll_run(&out,
		       "ipfixDump -t -i '%s' | awk '/options template record/ { o = 1 } "
		       "/^\\t+tid:/ { if (o) print $2; o = 0 }' | tr '\\n' ' '",
		       path);
	cr_assert_eq(ret, 0);
	char opts[512];

	snprintf(opts, sizeof(opts), " %s", out);
	free(out);
	ret = coll_run(&out, "ipfixDump -s -i '%s'", path);
	cr_assert_eq(ret, 0, "%s: ipfixDump -s exited %d", what, ret);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char key[16];

		if (sscanf(line, " %u (0x%*x)| %lu", &id, &recs) != 2)
			continue;
		snprintf(key, sizeof(key), " %u ", id);
		if (!strstr(opts, key))
			flows += recs;
	}
	free(out);
	return flows;
}

Test(export_ipfixdump, every_ipfix_stream_reads_clean, .init = setup, .fini = teardown,
     .timeout = 120)
{
	char urls[4][300], log[300], v9log[300], v9port[8], *json = NULL;
	char *v9argv[] = { "build/tests/tools/fixbuf_v9", v9port, "30", NULL };
	struct coll_proc replay = { 0 }, v9 = { 0 };
	uint64_t want = 0, got, deadline;
	unsigned long long v9_flows = 0, v9_options = 0;
	int udp_port, tcp_port, ret;
	const char *at;

	udp_port = coll_pick_port(SOCK_DGRAM, 29700, 29799);
	cr_assert_gt(udp_port, 0);
	env.udp_fd = coll_udp_listen(udp_port);
	cr_assert_geq(env.udp_fd, 0);
	tcp_port = coll_pick_port(SOCK_STREAM, 29700, 29799);
	cr_assert_gt(tcp_port, 0);
	cr_assert_eq(coll_tcp_listen(&env.tcp, tcp_port), 0);
	ret = coll_pick_port(SOCK_DGRAM, udp_port + 1, 29799);
	cr_assert_gt(ret, 0);
	snprintf(v9port, sizeof(v9port), "%d", ret);
	snprintf(v9log, sizeof(v9log), "%s/fixbuf_v9.log", env.dir);
	cr_assert_eq(coll_spawn(&v9, v9log, v9argv), 0);
	cr_assert_eq(coll_wait_log(&v9, "listening", 10000), 0, "fixbuf_v9 did not start");
	snprintf(urls[3], sizeof(urls[3]), "v9://127.0.0.1:%s", v9port);
	snprintf(urls[0], sizeof(urls[0]), "file:%s", env.stream[S_FILE]);
	snprintf(urls[1], sizeof(urls[1]), "ipfix://127.0.0.1:%d", udp_port);
	snprintf(urls[2], sizeof(urls[2]), "ipfix+tcp://127.0.0.1:%d", tcp_port);
	snprintf(log, sizeof(log), "%s/replay.log", env.dir);
	char jurl[300];

	snprintf(jurl, sizeof(jurl), "json:%s", env.json);
	char *argv[] = { (char *)coll_nsflow_bin(),
			 "replay",
			 env.capture,
			 "-c",
			 urls[0],
			 "-c",
			 urls[1],
			 "-c",
			 urls[2],
			 "-c",
			 urls[3],
			 "-c",
			 jurl,
			 "--aggregate",
			 "protocol-port",
			 "--aggregate",
			 "prefix",
			 "--aggregate",
			 "mpls-label",
			 "--record",
			 "pairs:v4:match=source-address/24,destination-address,protocol:"
			 "collect=packets/32,bytes/64,first-switched,last-switched",
			 NULL };
	cr_assert_eq(coll_spawn(&replay, log, argv), 0);
	/* the TCP session runs until the replay closes it */
	cr_assert_eq(coll_tcp_accept(&env.tcp, 10000), 0, "the replay never connected");
	save_stream(env.tcp.cfd, env.stream[S_TCP], false);
	for (deadline = coll_now_ms() + 30000; coll_alive(&replay) && coll_now_ms() < deadline;)
		usleep(50000);
	ret = coll_stop(&replay, SIGTERM, 5000);
	json = coll_slurp(log, NULL);
	cr_assert_eq(ret, 0, "nsflow replay exited %d: %s", ret, json ? json : "");
	free(json);
	save_stream(env.udp_fd, env.stream[S_UDP], true);

	/* every record the run exported, one JSON line each */
	json = coll_slurp(env.json, NULL);
	cr_assert_not_null(json);
	for (const char *p = json; (p = strchr(p, '\n')); p++)
		want++;
	free(json);
	cr_assert_gt(want, 50, "only %llu records", (unsigned long long)want);
	for (int i = 0; i < S_N; i++) {
		got = ipfixdump_flows(env.stream[i], stream_name[i]);
		cr_log_info("%s: ipfixDump read %llu flow records, the JSON sink has %llu",
			    stream_name[i], (unsigned long long)got, (unsigned long long)want);
		cr_expect_eq(got, want, "%s: ipfixDump read %llu flow records, %llu were sent",
			     stream_name[i], (unsigned long long)got, (unsigned long long)want);
	}

	/* v9: fixbuf_v9 ends a second after the last record, with what it read */
	for (deadline = coll_now_ms() + 30000; coll_alive(&v9) && coll_now_ms() < deadline;)
		usleep(50000);
	ret = coll_stop(&v9, SIGTERM, 1000);
	json = coll_slurp(v9log, NULL);
	cr_assert_not_null(json);
	cr_expect_eq(ret, 0, "fixbuf_v9 exited %d:\n%s", ret, json);
	cr_expect_null(strstr(json, "error:"), "libfixbuf on our v9:\n%s", json);
	cr_expect_null(strstr(json, "warning:"), "libfixbuf on our v9:\n%s", json);
	at = strstr(json, "flows ");
	cr_assert_not_null(at, "fixbuf_v9 printed no summary:\n%s", json);
	cr_assert_eq(sscanf(at, "flows %llu options %llu", &v9_flows, &v9_options), 2);
	free(json);
	cr_log_info("v9: libfixbuf read %llu flow records and %llu options records", v9_flows,
		    v9_options);
	cr_expect_eq(v9_flows, want, "v9: libfixbuf read %llu flow records, %llu were sent",
		     v9_flows, (unsigned long long)want);
	cr_expect_gt(v9_options, 0, "v9: no options record read");
}
