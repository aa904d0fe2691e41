// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowLabelIPv6 (31), minimum/maximumIpTotalLength (25/26) of a jumbogram, and the SRv6
 * elements srhIPv6ActiveSegmentType (500), srhSegmentIPv6ListSection (497) and srhIPv6Section
 * (499), as tshark decodes them from NetFlow v9 and IPFIX: `nsflow replay` of the shared
 * captures exports both while dumpcap captures the export on the loopback. The values tshark
 * must show come from tshark's own decode of each capture.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "collectors.h"
#include "tshark.h"

enum { V9, IPFIX, N_FMT };

static const char *const fmt_name[N_FMT] = { "v9", "ipfix" };

static struct {
	char dir[128];
	char export[256];
	struct coll_proc dumpcap;
	int port[N_FMT], fd[N_FMT];
	char *verbose[N_FMT]; /* tshark -V of each format's messages */
	char *fields;	      /* tshark -T fields: version, flow label, min and max length */
	struct ts_v6 want;    /* what tshark reads of the replayed capture */
} env;

static void setup(void)
{
	memset(&env, 0, sizeof(env));
	env.fd[V9] = env.fd[IPFIX] = -1;
	cr_assert_eq(coll_tmpdir(env.dir, sizeof(env.dir), "ies"), 0);
	snprintf(env.export, sizeof(env.export), "%s/export.pcapng", env.dir);
}

static void teardown(void)
{
	coll_stop(&env.dumpcap, SIGTERM, 5000);
	for (int i = 0; i < N_FMT; i++) {
		if (env.fd[i] >= 0)
			close(env.fd[i]);
		free(env.verbose[i]);
	}
	free(env.fields);
	if (!getenv("NSFLOW_KEEP"))
		coll_rmtree(env.dir);
}

/* Datagrams waiting on our socket of format @i */
static int drain(int i)
{
	static char buf[65536];
	int n = 0;

	while (recv(env.fd[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

/* Replays capture @name to v9 and IPFIX while dumpcap captures the export; tshark decodes it */
static void export_capture(const char *name)
{
	char filter[64], log[256], path[1024], *out = NULL;
	char *argv[] = { "dumpcap", "-i", "lo", "-f", filter, "-w", env.export, NULL };
	int ret, total = 0, frames = 0;
	uint64_t deadline;

	snprintf(path, sizeof(path), "%s/%s", coll_pcap_dir(), name);
	cr_assert_eq(ts_v6_of(path, &env.want), 0, "tshark reads no IPv6 packet in %s", path);
	for (int i = 0; i < N_FMT; i++) {
		env.port[i] = coll_pick_port(SOCK_DGRAM, i ? env.port[i - 1] + 1 : 30400, 30499);
		cr_assert_gt(env.port[i], 0, "no free UDP port");
		env.fd[i] = coll_udp_listen(env.port[i]);
		cr_assert_geq(env.fd[i], 0, "bind 127.0.0.1:%d", env.port[i]);
	}
	snprintf(filter, sizeof(filter), "udp port %d or udp port %d", env.port[V9],
		 env.port[IPFIX]);
	snprintf(log, sizeof(log), "%s/dumpcap.log", env.dir);
	cr_assert_eq(coll_spawn(&env.dumpcap, log, argv), 0);
	cr_assert_eq(coll_wait_log(&env.dumpcap, "Capturing on", 10000), 0,
		     "dumpcap did not start capturing on lo");
	ret = coll_run(
		&out, "timeout 60 %s replay '%s' -c v9://127.0.0.1:%d -c ipfix://127.0.0.1:%d 2>&1",
		coll_nsflow_bin(), path, env.port[V9], env.port[IPFIX]);
	cr_assert_eq(ret, 0, "nsflow replay exited %d: %s", ret, out ? out : "");
	free(out);
	for (int i = 0; i < N_FMT; i++) {
		int n = drain(i);

		cr_assert_gt(n, 0, "no %s datagram arrived", fmt_name[i]);
		total += n;
	}
	deadline = coll_now_ms() + 10000;
	while (coll_now_ms() < deadline && (frames = coll_pcap_frames(env.export)) < total)
		usleep(20000);
	cr_assert_eq(frames, total, "dumpcap wrote %d frames, %d datagrams arrived", frames, total);
	cr_assert_eq(coll_stop(&env.dumpcap, SIGINT, 10000), 0, "dumpcap exit");
	for (int i = 0; i < N_FMT; i++)
		cr_assert_eq(
			coll_run(&env.verbose[i],
				 "tshark -r '%s' -d udp.port==%d,cflow -Y 'udp.dstport==%d' -V "
				 "2>/dev/null",
				 env.export, env.port[i], env.port[i]),
			0, "tshark -V of the %s export", fmt_name[i]);
	cr_assert_eq(
		coll_run(&env.fields,
			 "tshark -r '%s' -d udp.port==%d,cflow -d udp.port==%d,cflow -T fields "
			 "-E separator=/t -Y cflow.ipv6flowlabel -e udp.dstport "
			 "-e cflow.ipv6flowlabel -e cflow.length_min -e cflow.length_max "
			 "-e _ws.malformed -e _ws.expert.severity 2>/dev/null",
			 env.export, env.port[V9], env.port[IPFIX]),
		0);
}

/* Each format has a record with the capture's flow label and its packet length as minimum and
 * maximum, and no message tshark finds malformed or warns about */
static void expect_label_and_lengths(void)
{
	char *line, *save = NULL;
	int seen[N_FMT] = { 0 };

	for (line = strtok_r(env.fields, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long port, label, min, max;
		char rest[256] = "";
		int i;

		if (sscanf(line, "%lu\t%lu\t%lu\t%lu\t%255[^\n]", &port, &label, &min, &max, rest) <
		    4)
			continue;
		i = port == (unsigned long)env.port[V9] ? V9 : IPFIX;
		cr_expect(!strstr(rest, "6291456") && !strstr(rest, "8388608") && !rest[0],
			  "%s: tshark complains: %s", fmt_name[i], rest);
		if (label == env.want.flow_label && min == env.want.ip_len &&
		    max == env.want.ip_len)
			seen[i]++;
		else
			cr_log_info("%s record: flow label %lu, lengths %lu..%lu", fmt_name[i],
				    label, min, max);
	}
	for (int i = 0; i < N_FMT; i++)
		cr_expect_gt(seen[i], 0,
			     "%s: no record with flowLabelIPv6 %u (0x%05x) and lengths %u..%u",
			     fmt_name[i], env.want.flow_label, env.want.flow_label, env.want.ip_len,
			     env.want.ip_len);
}

Test(export_ies, jumbogram_lengths_and_flow_label, .init = setup, .fini = teardown, .timeout = 120)
{
	export_capture("ipv6_jumbogram_1.pcap");
	cr_assert_gt(env.want.ip_len, 65535, "tshark reads a %u-byte packet", env.want.ip_len);
	expect_label_and_lengths();
}

/* tshark shows the first 24 bytes of a long value, then " …": @got must be @want or its head */
static void expect_hex(const char *got, const char *want, const char *what)
{
	size_t n = strlen(got);
	int cut = n > 4 && !strcmp(got + n - 4, " \xe2\x80\xa6");

	if (cut)
		n -= 4;
	cr_expect(n && !strncmp(got, want, n) && (cut ? n < strlen(want) : n == strlen(want)),
		  "%s is %s, want %s", what, got, want);
}

/* The capture's SRH in 500, 497 and 499 over IPFIX; v9 sends 500 alone */
static void expect_srh_sections(const char *name)
{
	static const unsigned int ids[] = { 497, 499, 500 };
	static const unsigned int want_len[N_FMT][3] = { { 0, 0, 1 }, { 65535, 65535, 1 } };
	char want[1024], got[1024], what[128];
	uint8_t sec[8 + 16 * TS_SRH_SEGMENTS];
	unsigned int len[3];

	cr_assert(env.want.srh, "%s: tshark reads no SRH", name);
	for (int i = 0; i < N_FMT; i++) {
		ts_template_lengths(env.verbose[i], ids, 3, len);
		for (int j = 0; j < 3; j++)
			cr_expect_eq(len[j], want_len[i][j],
				     "%s template: element %u has length %u, want %u (0: absent)",
				     fmt_name[i], ids[j], len[j], want_len[i][j]);
		ts_element_value(env.verbose[i], 500, got, sizeof(got));
		cr_expect_str_eq(got, "00", "%s: srhIPv6ActiveSegmentType is %s, want 00 (Unknown)",
				 fmt_name[i], got);
	}
	/* 497: the segment list as on the wire */
	ts_hex(env.want.segs[0], 16 * (size_t)env.want.nsegs, want, sizeof(want));
	ts_element_value(env.verbose[IPFIX], 497, got, sizeof(got));
	snprintf(what, sizeof(what), "%s: ipfix srhSegmentIPv6ListSection", name);
	expect_hex(got, want, what);
	/* 499: the SRH's fixed header, then the list (its TLVs left out) */
	memcpy(sec, env.want.srh_hdr, 8);
	memcpy(sec + 8, env.want.segs, 16 * (size_t)env.want.nsegs);
	ts_hex(sec, 8 + 16 * (size_t)env.want.nsegs, want, sizeof(want));
	ts_element_value(env.verbose[IPFIX], 499, got, sizeof(got));
	snprintf(what, sizeof(what), "%s: ipfix srhIPv6Section", name);
	expect_hex(got, want, what);
	cr_log_info("%s: srhIPv6Section %s", name, got);
}

Test(export_ies, srh_without_tlvs, .init = setup, .fini = teardown, .timeout = 120)
{
	export_capture("ipv6-srh-ipproto-ether.pcap");
	expect_label_and_lengths();
	expect_srh_sections("ipv6-srh-ipproto-ether.pcap");
}

Test(export_ies, srh_with_an_hmac_tlv, .init = setup, .fini = teardown, .timeout = 120)
{
	export_capture("ipv6-srh-tlv-hmac.pcap");
	expect_label_and_lengths();
	expect_srh_sections("ipv6-srh-tlv-hmac.pcap");
}

Test(export_ies, srh_of_two_segments, .init = setup, .fini = teardown, .timeout = 120)
{
	export_capture("ipv6-srh-ext-header.pcap");
	expect_label_and_lengths();
	expect_srh_sections("ipv6-srh-ext-header.pcap");
}
