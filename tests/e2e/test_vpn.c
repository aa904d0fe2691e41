// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * BGP/MPLS VPN records through real collectors. A capture the test writes holds MPLS VPN
 * frames at a PE: a transport label over a VPN (bottom-of-stack) label for two instances, a
 * lone VPN label for a third, and plain IPv4 outside any VPN. `nsflow replay` with the
 * instances configured exports v9 and IPFIX to sockets of the test (the datagrams are put in a
 * pcap as they came) and to nfcapd. tshark must decode, per flow, ingressVRFID 234 and
 * mplsVpnRouteDistinguisher 90 as the test's own configuration and RFC 4364 encoding say,
 * mplsTopLabelType 46 / address 47 for the lone label, and the VRF names (236) in options;
 * nfdump must show each flow's VRF id and name with nothing in nfcapd's log about the options.
 *
 * VRF devices (an interface's l3mdev master) need CONFIG_NET_VRF, which this host's kernel
 * lacks: they are tested in the kernel tier only (tests/kernels/checks.sh, check "vrf").
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "cflow.h"
#include "collectors.h"
#include "pkt.h"

#define TRANSPORT_LABEL 3000
#define PACKETS		4

/* The instances: what the test configures and what it expects back */
static const struct vpn_case {
	const char *name, *rd, *src;
	uint32_t id, label;
	int lone;	     /* the VPN label alone on the stack (it is also the top label) */
	uint8_t rd_bytes[8]; /* RFC 4364 4.2, written out here by hand */
	const char *address; /* address= of the instance: mplsTopLabelIPv4Address */
} cases[] = {
	{ "blue", "65000:100", "10.1.0.1", 10, 100, 0, { 0, 0, 0xfd, 0xe8, 0, 0, 0, 100 }, NULL },
	{ "red", "192.0.2.1:7", "10.1.0.2", 20, 205, 0, { 0, 1, 192, 0, 2, 1, 0, 7 }, NULL },
	{ "green",
	  "4200000000:5",
	  "10.1.0.3",
	  30,
	  300,
	  1,
	  { 0, 2, 0xfa, 0x56, 0xea, 0x00, 0, 5 },
	  "198.51.100.9" },
};
#define N_CASES	  (sizeof(cases) / sizeof(cases[0]))
#define PLAIN_SRC "10.1.0.9" /* no label: the default VRF */

static struct {
	char dir[128], capture[256], export[256], nfdir[256];
	int port[2], fd[2];
	struct coll_proc nfcapd;
	int nf_port;
} env;

static void setup(void)
{
	memset(&env, 0, sizeof(env));
	env.fd[0] = env.fd[1] = -1;
	cr_assert_eq(coll_tmpdir(env.dir, sizeof(env.dir), "vpn"), 0);
	snprintf(env.capture, sizeof(env.capture), "%s/vpn.pcap", env.dir);
	snprintf(env.export, sizeof(env.export), "%s/export.pcap", env.dir);
	snprintf(env.nfdir, sizeof(env.nfdir), "%s/nfcapd", env.dir);
}

static void teardown(void)
{
	coll_stop(&env.nfcapd, SIGTERM, 5000);
	for (int i = 0; i < 2; i++)
		if (env.fd[i] >= 0)
			close(env.fd[i]);
	if (!getenv("NSFLOW_KEEP"))
		coll_rmtree(env.dir);
}

static void frame(struct coll_pcap *w, uint64_t ts, const struct vpn_case *c)
{
	struct pb p;

	pb_init(&p);
	if (c) {
		pb_eth(&p, 0x8847);
		if (!c->lone)
			pb_mpls(&p, TRANSPORT_LABEL, 0, 0, 64);
		pb_mpls(&p, c->label, 0, 1, 64);
	} else {
		pb_eth(&p, 0x0800);
	}
	pb_ipv4(&p, 17, c ? c->src : PLAIN_SRC, "10.2.0.2", 0, 64, 0, 0, 0);
	pb_udp(&p, 40000, 5000);
	pb_zero(&p, 32);
	pb_finish(&p);
	cr_assert_eq(coll_pcap_write(w, ts, p.b, (uint32_t)p.len, (uint32_t)p.len), 0);
}

static void write_capture(void)
{
	struct coll_pcap *w;
	uint64_t ts = 1700000000ull * 1000000000ull;

	cr_assert_eq(coll_pcap_create(&w, env.capture), 0);
	for (int k = 0; k < PACKETS; k++) {
		for (size_t i = 0; i < N_CASES; i++)
			frame(w, ts += 1000000, &cases[i]);
		frame(w, ts += 1000000, NULL);
	}
	cr_assert_eq(coll_pcap_close(w), 0);
}

/* Every datagram the sockets hold, as UDP frames to their ports, for tshark */
static int save_export(void)
{
	struct coll_pcap *w;
	static uint8_t buf[65536];
	uint64_t ts = 1700000100ull * 1000000000ull;
	int n = 0;

	cr_assert_eq(coll_pcap_create(&w, env.export), 0);
	for (int i = 0; i < 2; i++) {
		ssize_t len;

		while ((len = recv(env.fd[i], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			struct pb p;

			pb_init(&p);
			pb_eth(&p, 0x0800);
			pb_ipv4(&p, 17, "127.0.0.1", "127.0.0.1", 0, 64, 0, 0, 0);
			pb_udp(&p, 50000, (uint16_t)env.port[i]);
			cr_assert_lt((size_t)len + p.len, (size_t)PB_MAX, "datagram too large");
			pb_bytes(&p, buf, (size_t)len);
			pb_finish(&p);
			cr_assert_eq(coll_pcap_write(w, ts += 1000, p.b, (uint32_t)p.len,
						     (uint32_t)p.len),
				     0);
			n++;
		}
	}
	cr_assert_eq(coll_pcap_close(w), 0);
	return n;
}

static void vpn_flags(char *buf, size_t len)
{
	size_t off = 0;

	for (size_t i = 0; i < N_CASES; i++)
		off += (size_t)snprintf(buf + off, len - off,
					" --vpn-instance %s:rd=%s:labels=%u:id=%u%s%s",
					cases[i].name, cases[i].rd, cases[i].label, cases[i].id,
					cases[i].address ? ":address=" : "",
					cases[i].address ? cases[i].address : "");
}

static void start_nfcapd(void)
{
	char port[8];
	char *argv[] = { "nfcapd", "-b",      "127.0.0.1", "-p",   port,
			 "-w",	   env.nfdir, "-t",	   "3600", NULL };
	char log[300];

	env.nf_port = coll_pick_port(SOCK_DGRAM, 29300, 29399);
	cr_assert_gt(env.nf_port, 0);
	snprintf(port, sizeof(port), "%d", env.nf_port);
	snprintf(log, sizeof(log), "%s/nfcapd.log", env.dir);
	cr_assert_eq(mkdir(env.nfdir, 0755), 0);
	cr_assert_eq(coll_spawn(&env.nfcapd, log, argv), 0);
	cr_assert_eq(coll_udp_bound(env.nf_port, 5000), 0, "nfcapd never bound %d", env.nf_port);
}

static void replay(const char *collectors)
{
	char flags[1024], *out = NULL;
	int ret;

	vpn_flags(flags, sizeof(flags));
	ret = coll_run(&out, "timeout 60 %s replay '%s'%s %s 2>&1", coll_nsflow_bin(), env.capture,
		       flags, collectors);
	cr_log_info("replay: %s", out ? out : "");
	cr_assert_eq(ret, 0, "nsflow replay exited %d: %s", ret, out ? out : "");
	free(out);
}

static void rd_hex(const uint8_t *rd, char *buf)
{
	for (int i = 0; i < 8; i++)
		sprintf(buf + 2 * i, "%02x", rd[i]);
}

static size_t tshark_records(struct cflow_rec *recs, size_t cap)
{
	char args[64];
	ssize_t n;

	snprintf(args, sizeof(args), "-d udp.port==%d,cflow -d udp.port==%d,cflow", env.port[0],
		 env.port[1]);
	n = cflow_records(env.export, args, recs, cap);
	cr_assert_geq(n, 0, "tshark could not read %s, or found it malformed", env.export);
	return (size_t)n;
}

static const struct vpn_case *case_of(const char *src)
{
	for (size_t i = 0; i < N_CASES; i++)
		if (!strcmp(src, cases[i].src))
			return &cases[i];
	return NULL;
}

Test(vpn, tshark_decodes_vrf_id_rd_and_names, .init = setup, .fini = teardown, .timeout = 120)
{
	static struct cflow_rec recs[256];
	char collectors[128], hex[17];
	unsigned int flows[2][N_CASES + 1] = { { 0 } }, names[2][N_CASES] = { { 0 } };
	size_t n;

	write_capture();
	for (int i = 0; i < 2; i++) {
		env.port[i] = coll_pick_port(SOCK_DGRAM, i ? env.port[0] + 1 : 29200, 29299);
		cr_assert_gt(env.port[i], 0);
		env.fd[i] = coll_udp_listen(env.port[i]);
		cr_assert_geq(env.fd[i], 0);
	}
	snprintf(collectors, sizeof(collectors), "-c v9://127.0.0.1:%d -c ipfix://127.0.0.1:%d",
		 env.port[0], env.port[1]);
	replay(collectors);
	cr_assert_gt(save_export(), 1);
	n = tshark_records(recs, sizeof(recs) / sizeof(recs[0]));
	for (size_t i = 0; i < n; i++) {
		const struct cflow_rec *r = &recs[i];
		int fmt = r->port == env.port[1];
		const struct vpn_case *c;

		if (r->name[0]) {
			/* VRF names: options scoped by the VRF id */
			for (size_t k = 0; k < N_CASES; k++)
				if (!strcmp(r->name, cases[k].name)) {
					cr_expect_eq(strtoul(r->vrf, NULL, 10), cases[k].id,
						     "VRF %s named with id %s", r->name, r->vrf);
					names[fmt][k]++;
				}
			continue;
		}
		if (!r->src[0])
			continue;
		c = case_of(r->src);
		cr_expect_eq(strtoul(r->packets, NULL, 10), PACKETS, "%s: packets", r->src);
		if (!c) {
			cr_expect_str_eq(r->src, PLAIN_SRC);
			cr_expect_str_empty(r->vrf, "%s is in no VRF: no ingressVRFID", r->src);
			cr_expect_str_empty(r->rd, "%s: no route distinguisher", r->src);
			flows[fmt][N_CASES]++;
			continue;
		}
		rd_hex(c->rd_bytes, hex);
		cr_expect_eq(strtoul(r->vrf, NULL, 10), c->id, "%s (%s): ingressVRFID %s", r->src,
			     c->name, r->vrf);
		cr_expect_str_eq(r->rd, hex, "%s (%s, rd %s): mplsVpnRouteDistinguisher", r->src,
				 c->name, c->rd);
		if (c->lone) {
			/* its VPN label is also the top label: type VPN (3), the instance's address
			 */
			cr_expect_str_eq(r->top_type, "VPN (3)", "%s: mplsTopLabelType", r->src);
			cr_expect_str_eq(r->top_addr, c->address, "%s: mplsTopLabelIPv4Address",
					 r->src);
		} else {
			cr_expect_str_empty(r->top_type, "%s: top label %u is no instance's",
					    r->src, TRANSPORT_LABEL);
		}
		flows[fmt][c - cases]++;
	}
	for (int fmt = 0; fmt < 2; fmt++) {
		for (size_t k = 0; k < N_CASES; k++) {
			cr_expect_eq(flows[fmt][k], 1, "%s: %u records of %s", fmt ? "ipfix" : "v9",
				     flows[fmt][k], cases[k].name);
			cr_expect_geq(names[fmt][k], 1, "%s: no VRFname for %s",
				      fmt ? "ipfix" : "v9", cases[k].name);
		}
		cr_expect_eq(flows[fmt][N_CASES], 1, "the plain flow");
	}
}

/* nfdump's line for each flow: source address, VRF id, VRF name, packets */
Test(vpn, nfdump_reads_vrf_id_and_name, .init = setup, .fini = teardown, .timeout = 120)
{
	char collectors[128], *out = NULL, *log, *line, *save = NULL;
	unsigned int seen[N_CASES] = { 0 };
	uint64_t drops;
	int ret;

	write_capture();
	start_nfcapd();
	snprintf(collectors, sizeof(collectors), "-c v9://127.0.0.1:%d -c ipfix://127.0.0.1:%d",
		 env.nf_port, env.nf_port);
	replay(collectors);
	cr_assert_eq(coll_udp_drained(env.nf_port, 10000, &drops), 0, "nfcapd did not read");
	cr_assert_eq(drops, 0);
	cr_assert_eq(coll_stop(&env.nfcapd, SIGTERM, 10000), 0, "nfcapd exit");
	log = coll_slurp(env.nfcapd.log, NULL);
	cr_assert_not_null(log);
	cr_log_info("nfcapd: %s", log);
	/* what nfcapd 1.7.1 logs on name options it cannot read (Process_ifvrf_option_data) */
	cr_expect_null(strstr(log, "ifvrf"), "nfcapd complains about the VRF names: %s", log);
	cr_expect_null(strstr(log, "size error"), "nfcapd: a size error: %s", log);
	cr_expect_null(strstr(log, "utf8"), "nfcapd: a name it cannot read: %s", log);
	cr_expect(strstr(log, "Sequence Errors: 0, Bad Packets: 0"), "nfcapd: %s", log);
	free(log);
	ret = coll_run(&out, "nfdump -q -R '%s' -o 'fmt:%%sa|%%ivrf|%%ivrfnam|%%pkt' 2>&1",
		       env.nfdir);
	cr_assert_eq(ret, 0, "nfdump: %s", out ? out : "");
	cr_log_info("nfdump: %s", out);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char src[32], name[40] = "";
		unsigned long vrf, pkts;
		const struct vpn_case *c;

		if (sscanf(line, " %31[^| ] |%lu| %39[^| ] |%lu", src, &vrf, name, &pkts) < 2)
			continue;
		c = case_of(src);
		if (!c) {
			cr_expect_eq(vrf, 0, "%s is in no VRF", src);
			continue;
		}
		cr_expect_eq(vrf, c->id, "%s (%s): nfdump shows VRF id %lu", src, c->name, vrf);
		cr_expect_str_eq(name, c->name, "%s: nfdump's VRF name", src);
		cr_expect_eq(pkts, PACKETS);
		seen[c - cases]++;
	}
	for (size_t k = 0; k < N_CASES; k++)
		cr_expect_eq(seen[k], 2, "%s: %u flows in nfdump (v9 and IPFIX)", cases[k].name,
			     seen[k]);
	free(out);
}
