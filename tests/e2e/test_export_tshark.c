// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * NetFlow v9 and IPFIX over UDP as Wireshark sees them: dumpcap captures the export on the
 * loopback while a replay sends it, and tshark's cflow dissector must decode every message
 * without a malformed packet or an expert warning, show the IPv6 addresses and MPLS labels of
 * the crafted flows, and find the SRv6 elements (RFC 9487, IEs 492-498) in the templates with
 * their lengths and in the data with the values of the segment routing header. Our own
 * sockets on the same ports receive the same datagrams, which the strict decoder must read
 * with the flows tshark counts in the capture.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "collectors.h"
#include "exp_template.h"
#include "tshark.h"

enum { V9, IPFIX, N_FMT };

static const char *const fmt_name[N_FMT] = { "v9", "ipfix" };
static const enum ns_proto fmt_proto[N_FMT] = { NS_PROTO_V9, NS_PROTO_IPFIX };

static struct {
	char dir[128];
	char capture[256];
	char export[256]; /* what dumpcap captured */
	struct coll_proc dumpcap;
	int port[N_FMT], fd[N_FMT];
	uint64_t datagrams[N_FMT];
	struct coll_flows want, got[N_FMT];
	char *verbose[N_FMT]; /* tshark -V of each format's messages */
	/* aggregated records the strict decoder read, by format and template */
	uint64_t agg_packets[N_FMT][2 * NS_AGG_MODES], agg_records[N_FMT][2 * NS_AGG_MODES];
	struct coll_flows agg_ports[N_FMT]; /* protocol-port/v4, keyed by protocol and ports */
	/* flexible records: per template (NS_TMPL_FLEX + i) their sums by key, the lengths of
	 * their counters (IE 2, IE 1) */
	struct coll_flows flex[N_FMT][3];
	uint16_t flex_len[N_FMT][3][2];
} env;

static void setup(void)
{
	memset(&env, 0, sizeof(env));
	env.fd[V9] = env.fd[IPFIX] = -1;
	cr_assert_eq(coll_tmpdir(env.dir, sizeof(env.dir), "tshark"), 0);
	snprintf(env.capture, sizeof(env.capture), "%s/mix.pcap", env.dir);
	snprintf(env.export, sizeof(env.export), "%s/export.pcapng", env.dir);
}

static void teardown(void)
{
	coll_stop(&env.dumpcap, SIGTERM, 5000);
	for (int i = 0; i < N_FMT; i++) {
		if (env.fd[i] >= 0)
			close(env.fd[i]);
		coll_flows_free(&env.got[i]);
		coll_flows_free(&env.agg_ports[i]);
		for (int t = 0; t < 3; t++)
			coll_flows_free(&env.flex[i][t]);
		free(env.verbose[i]);
	}
	coll_flows_free(&env.want);
	if (!getenv("NSFLOW_KEEP"))
		coll_rmtree(env.dir);
}

/* the longest srhSegmentIPv6BasicList (496) seen by the strict decoder */
static size_t srh_list_len;

static uint64_t field_uint(const struct ns_dec_record *r, uint16_t ie)
{
	size_t len = 0;
	const uint8_t *p = ns_dec_field(r, ie, &len);
	uint64_t v = 0;

	for (size_t i = 0; p && i < len; i++)
		v = v << 8 | p[i];
	return v;
}

/* An aggregated record: summed per template; protocol-port/v4 also per protocol and ports */
static void on_agg_record(int fmt, const struct ns_dec_record *r)
{
	unsigned int t = r->tmpl->id - NS_TMPL_AGG;
	uint64_t packets = field_uint(r, 2), octets = field_uint(r, 1);
	struct coll_key k;

	if (t >= 2 * NS_AGG_MODES)
		return;
	env.agg_packets[fmt][t] += packets;
	env.agg_records[fmt][t]++;
	if (r->tmpl->id != ns_tmpl_agg_id(NS_AGG_PROTOCOL_PORT, 0))
		return;
	memset(&k, 0, sizeof(k));
	k.proto = (uint8_t)field_uint(r, 4);
	k.sport = (uint16_t)field_uint(r, 7);
	k.dport = (uint16_t)field_uint(r, 11);
	coll_flows_add(&env.agg_ports[fmt], &k, 4, packets, octets);
}

/* A flexible record of the test's three templates, summed by the key it carries */
static void on_flex_record(int fmt, const struct ns_dec_record *r)
{
	unsigned int t = r->tmpl->id - NS_TMPL_FLEX;
	struct coll_key k;
	size_t len = 0;
	const uint8_t *a;

	if (t >= 3)
		return;
	for (unsigned int i = 0; i < r->tmpl->n_fields; i++) {
		if (r->tmpl->type[i] == 2)
			env.flex_len[fmt][t][0] = r->tmpl->len[i];
		if (r->tmpl->type[i] == 1)
			env.flex_len[fmt][t][1] = r->tmpl->len[i];
	}
	memset(&k, 0, sizeof(k));
	k.proto = (uint8_t)field_uint(r, 4);
	k.dport = (uint16_t)field_uint(r, 11);
	a = ns_dec_field(r, 8, &len);
	if (a && len == 4) {
		k.src[10] = k.src[11] = 0xff;
		memcpy(k.src + 12, a, 4);
		cr_expect_eq(field_uint(r, 9), 24, "src24: sourceIPv4PrefixLength");
	}
	coll_flows_add(&env.flex[fmt][t], &k, (int)field_uint(r, 60), field_uint(r, 2),
		       field_uint(r, 1));
}

static void on_record(void *arg, const struct ns_dec_record *r)
{
	size_t len = 0;

	if (r->tmpl->id >= NS_TMPL_FLEX) {
		on_flex_record(arg == &env.got[V9] ? V9 : IPFIX, r);
		return;
	}
	if (r->tmpl->id >= NS_TMPL_AGG) {
		on_agg_record(arg == &env.got[V9] ? V9 : IPFIX, r);
		return;
	}
	if (ns_dec_field(r, 496, &len) && len > srh_list_len)
		srh_list_len = len;
	coll_dec_record_flow(r, arg);
}

/* Every datagram queued on our socket, through the strict decoder. */
static void read_datagrams(int i)
{
	static uint8_t buf[65536];
	struct ns_decoder dec;
	char err[256];
	ssize_t n;

	ns_decoder_init(&dec, fmt_proto[i]);
	dec.on_record = on_record;
	dec.arg = &env.got[i];
	while ((n = recv(env.fd[i], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		env.datagrams[i]++;
		cr_assert_eq(ns_decode(&dec, buf, (size_t)n, err, sizeof(err)), 0,
			     "%s message %llu (%zd bytes): %s", fmt_name[i],
			     (unsigned long long)env.datagrams[i], n, err);
	}
	cr_assert_gt(env.datagrams[i], 0, "no %s datagram arrived", fmt_name[i]);
}

/* Replays the mixed capture to v9 and IPFIX (with @opts) while dumpcap captures the export. */
static void capture_export(const char *opts)
{
	char filter[64], log[256], *out = NULL;
	char *argv[] = { "dumpcap", "-i", "lo", "-f", filter, "-w", env.export, NULL };
	struct coll_expect_stats st;
	uint64_t deadline, total;
	int ret, frames = 0;

	cr_assert_eq(coll_write_mix(env.capture, COLL_MIX_CRAFTED | COLL_MIX_SHARED), 0);
	cr_assert_eq(coll_tshark_flows(env.capture, &env.want, &st), 0);
	cr_assert_eq(st.skipped, 0);
	for (int i = 0; i < N_FMT; i++) {
		env.port[i] = coll_pick_port(SOCK_DGRAM, i ? env.port[i - 1] + 1 : 29990, 29999);
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
		&out,
		"timeout 60 %s replay '%s' -c v9://127.0.0.1:%d -c ipfix://127.0.0.1:%d %s 2>&1",
		coll_nsflow_bin(), env.capture, env.port[V9], env.port[IPFIX], opts);
	cr_assert_eq(ret, 0, "nsflow replay exited %d: %s", ret, out ? out : "");
	free(out);

	for (int i = 0; i < N_FMT; i++)
		read_datagrams(i);
	/* the capture has them once dumpcap has written as many frames as we received */
	total = env.datagrams[V9] + env.datagrams[IPFIX];
	deadline = coll_now_ms() + 10000;
	while (coll_now_ms() < deadline && (frames = coll_pcap_frames(env.export)) < (int)total)
		usleep(20000);
	cr_assert_eq(frames, (int)total, "dumpcap wrote %d frames, %llu datagrams were sent",
		     frames, (unsigned long long)total);
	cr_assert_eq(coll_stop(&env.dumpcap, SIGINT, 10000), 0, "dumpcap exit");
	cr_assert_eq(coll_pcap_frames(env.export), (int)total);
	cr_log_info("%llu v9 and %llu IPFIX messages captured",
		    (unsigned long long)env.datagrams[V9],
		    (unsigned long long)env.datagrams[IPFIX]);

	for (int i = 0; i < N_FMT; i++) {
		ret = coll_run(&env.verbose[i],
			       "tshark -r '%s' -d udp.port==%d,cflow -Y 'udp.dstport==%d' -V "
			       "2>/dev/null",
			       env.export, env.port[i], env.port[i]);
		cr_assert_eq(ret, 0, "tshark -V of the %s export", fmt_name[i]);
	}
}

/* tshark -T fields over the export, each format's port decoded as cflow */
static char *export_fields(const char *fields)
{
	char *out = NULL;
	int ret = coll_run(&out,
			   "tshark -r '%s' -d udp.port==%d,cflow -d udp.port==%d,cflow -T fields "
			   "-E separator=/t -E occurrence=a -E aggregator=, %s 2>/dev/null",
			   env.export, env.port[V9], env.port[IPFIX], fields);

	cr_assert_eq(ret, 0, "tshark %s", fields);
	return out;
}

/* Does the comma list @list hold @item? */
static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; (p = strstr(p, item)); p += n)
		if ((p == list || p[-1] == ',' || p[-1] == '\t' || p[-1] == '\n') &&
		    (p[n] == 0 || p[n] == ',' || p[n] == '\t' || p[n] == '\n'))
			return true;
	return false;
}

/* tshark finds no malformed message and no expert warning in the export */
static void expect_clean(void)
{
	char *out, *line, *save = NULL;
	unsigned int frames = 0, cflow = 0;

	out = export_fields("-e frame.number -e frame.protocols -e cflow.version -e _ws.malformed "
			    "-e _ws.expert.severity -e _ws.expert.message");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[6], *s = line;
		const char *proto, *version, *malformed, *sev, *msg;
		unsigned int number;

		for (int i = 0; i < 6; i++) {
			f[i] = s ? s : (char *)"";
			if (s && (s = strchr(s, '\t')))
				*s++ = 0;
		}
		number = (unsigned int)atoi(f[0]);
		proto = f[1];
		version = f[2];
		malformed = f[3];
		sev = f[4];
		msg = f[5];
		frames++;
		cflow += strstr(proto, "cflow") != NULL;
		cr_expect(!strstr(proto, "malformed") && !malformed[0],
			  "frame %u (NetFlow version %s) is malformed: %s", number, version, msg);
		/* PI_WARN 0x00600000, PI_ERROR 0x00800000 */
		cr_expect(!strstr(sev, "6291456") && !strstr(sev, "8388608"),
			  "frame %u (NetFlow version %s): expert warning or error: %s", number,
			  version, msg);
	}
	free(out);
	cr_assert_eq(frames, env.datagrams[V9] + env.datagrams[IPFIX]);
	cr_assert_eq(cflow, frames, "%u of %u frames decoded as NetFlow/IPFIX", cflow, frames);
}

Test(export_tshark, every_message_decodes_cleanly, .init = setup, .fini = teardown, .timeout = 90)
{
	char why[512];

	capture_export("");
	expect_clean();
	/* the strict decoder reads the same flows tshark counts in the replayed capture */
	for (int i = 0; i < N_FMT; i++)
		cr_expect_eq(coll_flows_diff(&env.want, &env.got[i], COLL_CMP_MPLS, fmt_name[i],
					     why, sizeof(why)),
			     0, "%s", why);
}

Test(export_tshark, ipv6_addresses_and_mpls_labels_are_shown, .init = setup, .fini = teardown,
     .timeout = 90)
{
	char *out, *line, *save = NULL, top[16], bottom[16];
	bool v6_src[N_FMT] = { 0 }, v6_dst[N_FMT] = { 0 }, mpls[N_FMT] = { 0 };

	capture_export("");
	snprintf(top, sizeof(top), "%u", COLL_MIX_MPLS_TOP);
	snprintf(bottom, sizeof(bottom), "%u", COLL_MIX_MPLS_BOTTOM);
	out = export_fields("-e udp.dstport -e cflow.srcaddrv6 -e cflow.dstaddrv6 "
			    "-e cflow.mpls_label");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int port = atoi(line), i = port == env.port[V9] ? V9 : IPFIX;

		v6_src[i] |= list_has(line, COLL_MIX_V6_SRC);
		v6_dst[i] |= list_has(line, COLL_MIX_V6_DST);
		/* the flow's labels, top then bottom of the stack, in one record */
		mpls[i] |= list_has(line, top) && list_has(line, bottom);
	}
	free(out);
	for (int i = 0; i < N_FMT; i++) {
		cr_expect(v6_src[i] && v6_dst[i], "%s: tshark shows no record of %s -> %s",
			  fmt_name[i], COLL_MIX_V6_SRC, COLL_MIX_V6_DST);
		cr_expect(mpls[i], "%s: tshark shows no record with MPLS labels %s and %s",
			  fmt_name[i], top, bottom);
	}
}

Test(export_tshark, srv6_elements_in_templates_and_data, .init = setup, .fini = teardown,
     .timeout = 90)
{
	static const unsigned int ids[] = { 492, 493, 495, 496, 498 };
	/* basicList (496) is variable length and IPFIX only: v9 has no lists */
	static const unsigned int want_len[N_FMT][5] = { { 1, 2, 16, 0, 1 },
							 { 1, 2, 16, 65535, 1 } };
	unsigned int len[5];
	uint8_t active[16];
	char want[64], got[256], tag[8];

	capture_export("");
	inet_pton(AF_INET6, COLL_MIX_SRH_ACTIVE, active);
	ts_hex(active, 16, want, sizeof(want));
	snprintf(tag, sizeof(tag), "%02x %02x", COLL_MIX_SRH_TAG >> 8, COLL_MIX_SRH_TAG & 0xff);
	for (int i = 0; i < N_FMT; i++) {
		ts_template_lengths(env.verbose[i], ids, 5, len);
		for (int j = 0; j < 5; j++)
			cr_expect_eq(len[j], want_len[i][j],
				     "%s template: element %u has length %u, want %u (0: absent)",
				     fmt_name[i], ids[j], len[j], want_len[i][j]);
		ts_element_value(env.verbose[i], 495, got, sizeof(got));
		cr_expect_str_eq(got, want, "%s: srhActiveSegmentIPv6 (495) is %s, want %s",
				 fmt_name[i], got, want);
		ts_element_value(env.verbose[i], 498, got, sizeof(got));
		cr_expect_eq(strtoul(got, NULL, 16), COLL_MIX_SRH_LEFT,
			     "%s: srhSegmentsIPv6Left (498) is %s", fmt_name[i], got);
		ts_element_value(env.verbose[i], 493, got, sizeof(got));
		cr_expect_str_eq(got, tag, "%s: srhTagIPv6 (493) is %s, want %s", fmt_name[i], got,
				 tag);
	}
}

/*
 * srhSegmentIPv6BasicList (496): a basicList (RFC 6313) of srhSegmentIPv6 (494) holding the
 * segment list of the header, here three segments: semantic, element id 494, length 16, then
 * 3 x 16 bytes.
 */
Test(export_tshark, srv6_segment_list_holds_the_segments, .init = setup, .fini = teardown,
     .timeout = 90)
{
	char got[512];

	capture_export("");
	ts_element_value(env.verbose[IPFIX], 496, got, sizeof(got));
	cr_assert(got[0], "ipfix: no srhSegmentIPv6BasicList (496) value");
	cr_log_info("srhSegmentIPv6BasicList: %s", got);
	cr_expect(!strncmp(got + 3, "01 ee 00 10", 11),
		  "ipfix: basicList header %.14s, want semantic, 01 ee (494), 00 10 (16 bytes)",
		  got);
	/* tshark shows only the first bytes of a long value ("..."): the whole list's length
	 * comes from the strict decoder that read the same datagrams */
	cr_expect_eq(
		srh_list_len, 5 + 16 * COLL_MIX_SRH_NSEGS,
		"ipfix: srhSegmentIPv6BasicList is %zu bytes (%zu segments), the header has %d",
		srh_list_len, srh_list_len > 5 ? (srh_list_len - 5) / 16 : 0, COLL_MIX_SRH_NSEGS);
}

/*
 * Aggregated records beside the originals: tshark decodes every message cleanly and names
 * their templates; protocol-port/v4 sums the capture's IPv4 flows by protocol and ports
 * exactly, and each mode's packets add up to the capture's, per family. (The capture has no
 * VXLAN, which vni-sip-dip alone takes: test_vxlan decodes that mode's records.)
 */
Test(export_tshark, aggregated_records_decode_cleanly_and_add_up, .init = setup, .fini = teardown,
     .timeout = 90)
{
	static const unsigned int modes[] = { NS_AGG_PROTOCOL_PORT, NS_AGG_SOURCE_INDEX_TOS,
					      NS_AGG_PREFIX_TOS, NS_AGG_INDEX_TOS };
	struct coll_flows want_ports = { 0 };
	uint64_t want[2] = { 0 };
	char *ids, id[8], why[512];

	capture_export("--aggregate protocol-port --aggregate source-index-tos "
		       "--aggregate prefix-tos --aggregate index-tos");
	expect_clean();
	ids = export_fields("-e cflow.template_id");
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		for (int v6 = 0; v6 < 2; v6++) {
			snprintf(id, sizeof(id), "%u", ns_tmpl_agg_id(modes[m], v6));
			cr_expect(list_has(ids, id), "tshark shows no template %s (%s/%s)", id,
				  ns_agg_mode_name(modes[m]), v6 ? "v6" : "v4");
		}
	free(ids);

	for (size_t f = 0; f < env.want.n; f++) {
		const struct coll_flow *w = &env.want.f[f];
		struct coll_key k = { .proto = w->k.proto,
				      .sport = w->k.sport,
				      .dport = w->k.dport };

		if (w->ip_version == 4 || w->ip_version == 6)
			want[w->ip_version == 6] += w->packets;
		if (w->ip_version == 4)
			coll_flows_add(&want_ports, &k, 4, w->packets, w->bytes);
	}
	for (int i = 0; i < N_FMT; i++) {
		cr_expect_eq(coll_flows_diff(&want_ports, &env.agg_ports[i], 0, fmt_name[i], why,
					     sizeof(why)),
			     0, "protocol-port/v4: %s", why);
		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
			for (int v6 = 0; v6 < 2; v6++) {
				unsigned int t = ns_tmpl_agg_id(modes[m], v6) - NS_TMPL_AGG;

				cr_expect_eq(env.agg_packets[i][t], want[v6],
					     "%s %s/%s: %llu packets in %llu records, the capture "
					     "has %llu",
					     fmt_name[i], ns_agg_mode_name(modes[m]),
					     v6 ? "v6" : "v4",
					     (unsigned long long)env.agg_packets[i][t],
					     (unsigned long long)env.agg_records[i][t],
					     (unsigned long long)want[v6]);
			}
	}
	coll_flows_free(&want_ports);
}

/*
 * Flexible records instead of the originals: dports (protocol, destination port; 16-bit
 * packets, 32-bit bytes) for both families and src24 (IPv4 source /24; 16-bit bytes). tshark
 * decodes every message cleanly; the templates send the counters with the widths asked for;
 * each record's sums by its key equal the capture's flows summed by tshark the same way.
 */
Test(export_tshark, flexible_records_decode_cleanly_and_add_up, .init = setup, .fini = teardown,
     .timeout = 90)
{
	static const uint16_t lens[3][2] = { { 2, 4 }, { 2, 4 }, { 8, 2 } };
	struct coll_flows want[3] = { 0 };
	char *ids, why[512];

	capture_export("--no-original --record dports:match=protocol,destination-port:collect="
		       "packets/16,bytes/32 --record src24:v4:match=source-address/24:collect="
		       "packets,bytes/16,first-switched,last-switched");
	expect_clean();
	ids = export_fields("-e cflow.template_id");
	cr_expect(list_has(ids, "300") && list_has(ids, "301") && list_has(ids, "302"),
		  "tshark shows templates %s, not 300, 301 and 302", ids);
	cr_expect(!list_has(ids, "256"), "--no-original: an original template went out");
	free(ids);

	for (size_t f = 0; f < env.want.n; f++) {
		const struct coll_flow *w = &env.want.f[f];
		struct coll_key k = { .proto = w->k.proto, .dport = w->k.dport };

		if (w->ip_version != 4 && w->ip_version != 6)
			continue;
		coll_flows_add(&want[w->ip_version == 6], &k, w->ip_version, w->packets, w->bytes);
		if (w->ip_version != 4)
			continue;
		memset(&k, 0, sizeof(k));
		memcpy(k.src, w->k.src, 15); /* the /24: the last byte zero */
		coll_flows_add(&want[2], &k, 4, w->packets, w->bytes);
	}
	for (int i = 0; i < N_FMT; i++)
		for (int t = 0; t < 3; t++) {
			cr_expect_eq(coll_flows_diff(&want[t], &env.flex[i][t], 0, fmt_name[i], why,
						     sizeof(why)),
				     0, "template %d: %s", 300 + t, why);
			cr_expect_eq(env.flex_len[i][t][0], lens[t][0],
				     "%s template %d: packetDeltaCount in %u bytes, not %u",
				     fmt_name[i], 300 + t, env.flex_len[i][t][0], lens[t][0]);
			cr_expect_eq(env.flex_len[i][t][1], lens[t][1],
				     "%s template %d: octetDeltaCount in %u bytes, not %u",
				     fmt_name[i], 300 + t, env.flex_len[i][t][1], lens[t][1]);
		}
	cr_log_info("flexible records: %zu dports/v4, %zu dports/v6, %zu src24 keys", want[0].n,
		    want[1].n, want[2].n);
	for (int t = 0; t < 3; t++)
		coll_flows_free(&want[t]);
}

/* --counter-bits 32: the templates' counters really have 4 bytes, tshark decodes every message
 * cleanly, and the flows still add up */
Test(export_tshark, counter_bits_32_narrows_the_templates, .init = setup, .fini = teardown,
     .timeout = 90)
{
	static const unsigned int ids[] = { 1, 2 };
	unsigned int len[2];
	char why[512];

	capture_export("--counter-bits 32");
	expect_clean();
	for (int i = 0; i < N_FMT; i++) {
		ts_template_lengths(env.verbose[i], ids, 2, len);
		cr_expect(len[0] == 4 && len[1] == 4,
			  "%s: octetDeltaCount in %u bytes, packetDeltaCount in %u, want 4 and 4",
			  fmt_name[i], len[0], len[1]);
		cr_expect_eq(coll_flows_diff(&env.want, &env.got[i], COLL_CMP_MPLS, fmt_name[i],
					     why, sizeof(why)),
			     0, "%s", why);
	}
}
