// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Every aggregation mode, both families, against sums the test makes on its own: a capture of
 * IPv4 and IPv6 traffic (some tagged, some MPLS, some VXLAN of three VNIs, VNI 0 among them,
 * several ToS values, routed and unrouted addresses) is replayed once per mode with a routes file;
 * tshark reads each packet's fields, the test keys each packet by the mode's fields as NETSTREAM.md
 * defines them (its own prefix lookup in the routes it wrote), and every aggregated record's
 * packets and octets must equal the sums of its key, with no key missing, none extra and none
 * twice.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "collectors.h"
#include "pkt.h"

#define PACKETS 900
#define MAXKEYS 512

/* A mode's key fields, as NETSTREAM.md lists them */
enum {
	SAS = 1 << 0,
	DAS = 1 << 1,
	IN = 1 << 2,
	OUT = 1 << 3,
	TOS = 1 << 4,
	PROTO = 1 << 5,
	PORTS = 1 << 6,
	SPFX = 1 << 7, /* source prefix and mask length */
	DPFX = 1 << 8,
	MPLS = 1 << 9,
	VLAN = 1 << 10,
	NH = 1 << 11,
	VNI = 1 << 12,
	ADDRS = 1 << 13,
};

static const struct {
	const char *name;
	unsigned int keys;
} modes[] = {
	{ "as", SAS | DAS | IN | OUT },
	{ "as-tos", SAS | DAS | IN | OUT | TOS },
	{ "protocol-port", PROTO | PORTS },
	{ "protocol-port-tos", PROTO | PORTS | TOS | IN | OUT },
	{ "source-prefix", SAS | SPFX | IN },
	{ "source-prefix-tos", SAS | SPFX | IN | TOS },
	{ "destination-prefix", DAS | DPFX | OUT },
	{ "destination-prefix-tos", DAS | DPFX | OUT | TOS },
	{ "prefix", SAS | DAS | SPFX | DPFX | IN | OUT },
	{ "prefix-tos", SAS | DAS | SPFX | DPFX | IN | OUT | TOS },
	{ "mpls-label", MPLS | IN },
	{ "vlan-id", VLAN | IN },
	{ "index-tos", IN | OUT | TOS },
	{ "source-index-tos", IN | TOS },
	{ "bgp-nexthop-tos", NH | TOS | OUT },
	{ "vni-sip-dip", VNI | ADDRS },
};
#define N_MODES (sizeof(modes) / sizeof(modes[0]))

static const struct {
	const char *prefix;
	unsigned int len, as;
	const char *nexthop;
} routes[] = {
	{ "10.1.0.0", 16, 65001, "192.0.2.254" },
	{ "10.1.2.0", 24, 65002, "192.0.2.253" },
	{ "192.0.2.0", 24, 65010, "198.51.100.254" },
	{ "198.51.100.0", 24, 65011, "198.51.100.253" },
	{ "2001:db8:1::", 48, 65101, "2001:db8:ffff::1" },
	{ "2001:db8:1:2::", 64, 65102, "2001:db8:ffff::2" },
	{ "2001:db8:a::", 48, 65110, "2001:db8:ffff::3" },
};

static const char *const src4[] = { "10.1.1.1", "10.1.1.2", "10.1.2.7", "10.2.0.5", "172.16.5.5" };
static const char *const dst4[] = { "192.0.2.10", "192.0.2.11", "198.51.100.7", "203.0.113.9" };
static const char *const src6[] = { "2001:db8:1:1::1", "2001:db8:1:2::7", "2001:db8:2::5" };
static const char *const dst6[] = { "2001:db8:a::10", "2001:db8:b::9" };
static const uint8_t tos[] = { 0, 0x20, 0xb8 };
static const uint32_t vnis[] = { 0, 5001, 0xabcdef };

struct sum {
	char key[512];
	uint64_t packets, octets;
	bool seen;
};

static struct {
	char dir[128], capture[192], routes[192], json[192];
	struct sum want[2][MAXKEYS], got[2][MAXKEYS];
	size_t n_want[2], n_got[2];
} env;

static void setup(void)
{
	memset(&env, 0, sizeof(env));
	cr_assert_eq(coll_tmpdir(env.dir, sizeof(env.dir), "aggmodes"), 0);
	snprintf(env.capture, sizeof(env.capture), "%s/mix.pcap", env.dir);
	snprintf(env.routes, sizeof(env.routes), "%s/routes.txt", env.dir);
	snprintf(env.json, sizeof(env.json), "%s/agg.json", env.dir);
}

static void teardown(void)
{
	if (!getenv("NSFLOW_KEEP"))
		coll_rmtree(env.dir);
}

/* The capture: PACKETS frames from a fixed pseudo-random sequence, and the routes file */
static void write_inputs(void)
{
	struct coll_pcap *w;
	uint32_t x = 12345;
	struct pb p;
	FILE *f;

	cr_assert_eq(coll_pcap_create(&w, env.capture), 0);
	for (int i = 0; i < PACKETS; i++) {
		bool v6 = (x = x * 1103515245 + 12345) >> 16 & 1;
		unsigned int r = (x = x * 1103515245 + 12345) >> 8;
		uint8_t proto = r & 1 ? 6 : 17, t = tos[r / 2 % 3];
		uint16_t sport = (uint16_t)(1000 + r / 8 % 3),
			 dport = (uint16_t)(r / 32 % 2 ? 53 : 443);
		/* IPv4: 1 tagged, 1 MPLS, 1 VXLAN of 5; IPv6: 1 VXLAN of 4 */
		unsigned int wrap = v6 ? (r / 64 % 4 == 3 ? 3 : 0) : r / 64 % 5;

		if (wrap == 3)
			proto = 17; /* VXLAN is UDP */

		pb_init(&p);
		if (wrap == 1) {
			pb_eth(&p, 0x8100);
			pb_vlan(&p, (uint16_t)(100 + r / 512 % 2), 0, 0x0800);
		} else if (wrap == 2) {
			pb_eth(&p, 0x8847);
			pb_mpls(&p, 1000 + r / 512 % 2, 5, 1, 64);
		} else {
			pb_eth(&p, v6 ? 0x86dd : 0x0800);
		}
		if (v6)
			pb_ipv6(&p, proto, src6[r / 1024 % 3], dst6[r / 4096 % 2], t, 64);
		else
			pb_ipv4(&p, proto, src4[r / 1024 % 5], dst4[r / 8192 % 4], t, 64, 0, 0, 0);
		if (wrap == 3) {
			/* VXLAN: the outer UDP header is what the default (outer) mode keys */
			/* an ephemeral source port, as VXLAN sends: tshark gives a frame to the
			 * lower port's dissector, and 1000..1002 have their own */
			pb_udp(&p, (uint16_t)(49152 + sport), 4789);
			pb_vxlan(&p, 0x08, vnis[r / 16 % 3]);
			pb_eth(&p, v6 ? 0x86dd : 0x0800);
			if (v6)
				pb_ipv6(&p, 17, "2001:db8:99::1", "2001:db8:99::2", 0, 64);
			else
				pb_ipv4(&p, 17, "10.99.0.1", "10.99.0.2", 0, 64, 0, 0, 0);
			pb_udp(&p, 7, 7);
		} else if (proto == 6) {
			pb_tcp(&p, sport, dport, 0x18, 5);
		} else {
			pb_udp(&p, sport, dport);
		}
		pb_zero(&p, r % 300);
		pb_finish(&p);
		cr_assert_eq(coll_pcap_write(w, 1700000000000000000ull + (uint64_t)i * 1000000, p.b,
					     (uint32_t)p.len, (uint32_t)p.len),
			     0);
	}
	cr_assert_eq(coll_pcap_close(w), 0);
	f = fopen(env.routes, "w");
	cr_assert_not_null(f);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		fprintf(f, "%s/%u %u 64999 %s\n", routes[i].prefix, routes[i].len, routes[i].as,
			routes[i].nexthop);
	fclose(f);
}

/* The test's longest-prefix match: the route's index (its prefix in out), -1 for none */
static int lpm(int family, const char *addr, uint8_t out[16])
{
	uint8_t a[16], p[16];
	int best = -1;

	inet_pton(family, addr, a);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		unsigned int len = routes[i].len;
		bool match = true;

		if (inet_pton(family, routes[i].prefix, p) != 1)
			continue;
		for (unsigned int b = 0; b < len && match; b++)
			match = ((a[b / 8] ^ p[b / 8]) >> (7 - b % 8) & 1) == 0;
		if (match && (best < 0 || len > routes[best].len))
			best = (int)i;
	}
	memset(out, 0, 16);
	if (best >= 0)
		inet_pton(family, routes[best].prefix, out);
	return best;
}

static void add(struct sum *s, size_t *n, const char *key, uint64_t packets, uint64_t octets,
		bool once)
{
	size_t i;

	for (i = 0; i < *n && strcmp(s[i].key, key); i++)
		;
	if (i == *n) {
		cr_assert_lt(*n, MAXKEYS);
		memset(&s[i], 0, sizeof(s[i]));
		snprintf(s[(*n)++].key, sizeof(s[0].key), "%s", key);
	} else if (once) {
		cr_expect(false, "a second record of %s", key);
	}
	s[i].packets += packets;
	s[i].octets += octets;
}

/* The key of a packet (tshark's fields) in a mode, as "name=value;..." in the record's names */
static void packet_key(unsigned int keys, bool v6, const char *src, const char *dst, unsigned int t,
		       unsigned int proto, unsigned int sport, unsigned int dport, int vlan,
		       int label, long vni, char *key, size_t len)
{
	int fam = v6 ? AF_INET6 : AF_INET;
	uint8_t sp[16], dp[16];
	int rs = lpm(fam, src, sp), rd = lpm(fam, dst, dp);
	char a[INET6_ADDRSTRLEN];
	const char *v = v6 ? "IPv6" : "IPv4";
	size_t n = 0;

#define KEY(...) (n += (size_t)snprintf(key + n, len - n, __VA_ARGS__))
	if (keys & SAS)
		KEY("bgpSourceAsNumber=%u;", rs >= 0 ? routes[rs].as : 0);
	if (keys & DAS)
		KEY("bgpDestinationAsNumber=%u;", rd >= 0 ? routes[rd].as : 0);
	if (keys & IN)
		KEY("ingressInterface=1;"); /* a replay runs as if on loopback */
	if (keys & OUT)
		KEY("egressInterface=0;"); /* a replay has no kernel route */
	if (keys & TOS)
		KEY("ipClassOfService=%u;", t);
	if (keys & PROTO)
		KEY("protocolIdentifier=%u;", proto);
	if (keys & PORTS)
		KEY("sourceTransportPort=%u;destinationTransportPort=%u;", sport, dport);
	if (keys & SPFX)
		KEY("source%sAddress=%s;source%sPrefixLength=%u;", v,
		    inet_ntop(fam, sp, a, sizeof(a)), v, rs >= 0 ? routes[rs].len : 0);
	if (keys & DPFX)
		KEY("destination%sAddress=%s;destination%sPrefixLength=%u;", v,
		    inet_ntop(fam, dp, a, sizeof(a)), v, rd >= 0 ? routes[rd].len : 0);
	if (keys & MPLS)
		KEY("mplsTopLabelStackSection={\"label\":%d,\"exp\":5,\"bottomOfStack\":1};",
		    label);
	if (keys & VLAN)
		KEY("vlanId=%d;", vlan);
	if (keys & NH)
		KEY("bgpNextHop%sAddress=%s;", v,
		    rd >= 0 ? routes[rd].nexthop
		    : v6    ? "::"
			    : "0.0.0.0");
	if (keys & VNI)
		KEY("layer2SegmentId=%ld;", vni);
	if (keys & ADDRS)
		KEY("source%sAddress=%s;destination%sAddress=%s;", v, src, v, dst);
#undef KEY
}

/* The same key read back from a JSON record */
static void record_key(unsigned int keys, bool v6, const char *obj, char *key, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *names[2];
	} f[] = {
		{ SAS, { "bgpSourceAsNumber" } },
		{ DAS, { "bgpDestinationAsNumber" } },
		{ IN, { "ingressInterface" } },
		{ OUT, { "egressInterface" } },
		{ TOS, { "ipClassOfService" } },
		{ PROTO, { "protocolIdentifier" } },
		{ PORTS, { "sourceTransportPort", "destinationTransportPort" } },
		{ SPFX, { "source%sAddress", "source%sPrefixLength" } },
		{ DPFX, { "destination%sAddress", "destination%sPrefixLength" } },
		{ MPLS, { "mplsTopLabelStackSection" } },
		{ VLAN, { "vlanId" } },
		{ NH, { "bgpNextHop%sAddress" } },
		{ VNI, { "layer2SegmentId" } },
		{ ADDRS, { "source%sAddress", "destination%sAddress" } },
	};
	size_t n = 0;

	key[0] = 0;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		for (int j = 0; j < 2 && (keys & f[i].bit) && f[i].names[j]; j++) {
			char name[64], v[256] = "";

			snprintf(name, sizeof(name), f[i].names[j], v6 ? "IPv6" : "IPv4");
			coll_json_value(obj, name, v, sizeof(v));
			n += (size_t)snprintf(key + n, len - n, "%s=%s;", name, v);
		}
}

static long num(const char *s)
{
	return *s ? strtol(s, NULL, 0) : -1;
}

Test(agg_modes, every_mode_sums_what_the_test_sums, .init = setup, .fini = teardown, .timeout = 180)
{
	char *pkts = NULL, *out = NULL, key[512];
	size_t records = 0;

	write_inputs();
	cr_assert_eq(
		coll_run(&pkts,
			 "tshark -r '%s' -T fields -E separator=/t -E occurrence=f -e ip.src "
			 "-e ip.dst -e ipv6.src -e ipv6.dst -e ip.dsfield -e ipv6.tclass "
			 "-e ip.proto -e ipv6.nxt -e ip.len -e ipv6.plen -e tcp.srcport "
			 "-e tcp.dstport -e udp.srcport -e udp.dstport -e vlan.id -e mpls.label "
			 "-e vxlan.vni 2>/dev/null",
			 env.capture),
		0);

	for (size_t m = 0; m < N_MODES; m++) {
		char *text, *line, *save = NULL, *copy = strdup(pkts);
		size_t len = 0;
		int ret;

		memset(env.n_want, 0, sizeof(env.n_want));
		memset(env.n_got, 0, sizeof(env.n_got));
		for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *f[17], *s = line;
			bool v6;
			unsigned int t, proto, sport, dport;
			uint64_t octets;
			int vlan, label;
			long vni;

			for (int i = 0; i < 17; i++) {
				f[i] = s ? s : (char *)"";
				if (s && (s = strchr(s, '\t')))
					*s++ = 0;
			}
			v6 = !*f[0];
			t = (unsigned int)num(v6 ? f[5] : f[4]);
			proto = (unsigned int)num(v6 ? f[7] : f[6]);
			octets = v6 ? (uint64_t)num(f[9]) + 40 : (uint64_t)num(f[8]);
			sport = (unsigned int)num(proto == 6 ? f[10] : f[12]);
			dport = (unsigned int)num(proto == 6 ? f[11] : f[13]);
			vlan = (int)num(f[14]);
			label = (int)num(f[15]);
			vni = num(f[16]);
			if ((modes[m].keys & MPLS) && label < 0)
				continue; /* mpls-label: labelled traffic only */
			if ((modes[m].keys & VLAN) && vlan < 0)
				continue; /* vlan-id: tagged traffic only */
			if ((modes[m].keys & VNI) && vni < 0)
				continue; /* vni-sip-dip: VXLAN traffic only */
			packet_key(modes[m].keys, v6, v6 ? f[2] : f[0], v6 ? f[3] : f[1], t, proto,
				   sport, dport, vlan, label, vni, key, sizeof(key));
			add(env.want[v6], &env.n_want[v6], key, 1, octets, false);
		}
		free(copy);
		cr_assert_gt(env.n_want[0] + env.n_want[1], 0, "%s: no packet has its keys",
			     modes[m].name);

		remove(env.json);
		ret = coll_run(&out,
			       "timeout 60 %s replay '%s' -c json:%s --no-original --aggregate %s "
			       "--routes %s 2>&1",
			       coll_nsflow_bin(), env.capture, env.json, modes[m].name, env.routes);
		cr_assert_eq(ret, 0, "nsflow replay --aggregate %s: %s", modes[m].name,
			     out ? out : "");
		free(out);
		out = NULL;
		text = coll_slurp(env.json, &len);
		save = NULL;
		for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save)) {
			char v[32] = "", p[32] = "0", o[32] = "0";
			bool v6;

			coll_json_value(line, "ipVersion", v, sizeof(v));
			v6 = !strcmp(v, "6");
			coll_json_value(line, "packetDeltaCount", p, sizeof(p));
			coll_json_value(line, "octetDeltaCount", o, sizeof(o));
			record_key(modes[m].keys, v6, line, key, sizeof(key));
			add(env.got[v6], &env.n_got[v6], key, strtoull(p, NULL, 10),
			    strtoull(o, NULL, 10), true);
			records++;
		}
		free(text);

		for (int v6 = 0; v6 < 2; v6++) {
			for (size_t i = 0; i < env.n_want[v6]; i++) {
				const struct sum *w = &env.want[v6][i];
				size_t j;

				for (j = 0; j < env.n_got[v6] && strcmp(env.got[v6][j].key, w->key);
				     j++)
					;
				cr_expect_lt(j, env.n_got[v6], "%s/%s: no record of %s",
					     modes[m].name, v6 ? "v6" : "v4", w->key);
				if (j == env.n_got[v6])
					continue;
				env.got[v6][j].seen = true;
				cr_expect(env.got[v6][j].packets == w->packets &&
						  env.got[v6][j].octets == w->octets,
					  "%s/%s: %s: %llu packets %llu octets, the capture has "
					  "%llu and %llu",
					  modes[m].name, v6 ? "v6" : "v4", w->key,
					  (unsigned long long)env.got[v6][j].packets,
					  (unsigned long long)env.got[v6][j].octets,
					  (unsigned long long)w->packets,
					  (unsigned long long)w->octets);
			}
			for (size_t j = 0; j < env.n_got[v6]; j++)
				cr_expect(env.got[v6][j].seen,
					  "%s/%s: a record the capture has not: %s", modes[m].name,
					  v6 ? "v6" : "v4", env.got[v6][j].key);
		}
		cr_log_info("%-22s %3zu IPv4 and %3zu IPv6 aggregates", modes[m].name,
			    env.n_want[0], env.n_want[1]);
	}
	free(pkts);
	cr_log_info("%zu records checked", records);
}
