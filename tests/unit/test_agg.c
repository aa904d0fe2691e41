// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Aggregation caches with a fake clock: each mode's keys, families kept apart, traffic a mode
 * does not take, route lookups for prefixes and AS numbers, inactive and active aging with
 * their end reasons, a full cache giving up its oldest flow, and the records of every mode
 * encoded as IPFIX and v9 and decoded back with their own templates.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "agg.h"
#include "exp_decode.h"
#include "exp_encoder.h"
#include "exp_format.h"
#include "exp_template.h"
#include "records.h"

#define S  1000000000ull
#define T0 (100 * S)

static struct ns_record out[64];
static size_t n_out;

static void collect(void *arg, const struct ns_record *r)
{
	(void)arg;
	cr_assert_lt(n_out, 64);
	out[n_out++] = *r;
}

static struct agg_cache *cache(unsigned int mode, int ipv6, uint32_t entries)
{
	struct agg_opts o = { .mode = (uint8_t)mode,
			      .ipv6 = (uint8_t)ipv6,
			      .active_ns = 60 * S,
			      .inactive_ns = 10 * S,
			      .max_entries = entries };
	struct agg_cache *c;

	cr_assert_eq(agg_cache_new(&c, &o), 0);
	agg_cache_set_export(c, collect, NULL);
	n_out = 0;
	return c;
}

static void key4(struct nsflow_key *k, const char *src, const char *dst, uint16_t sport,
		 uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = 3;
	k->ip_version = 4;
	k->protocol = 17;
	k->tos = 0x20;
	k->src_addr[10] = k->src_addr[11] = 0xff;
	k->dst_addr[10] = k->dst_addr[11] = 0xff;
	inet_pton(AF_INET, src, k->src_addr + 12);
	inet_pton(AF_INET, dst, k->dst_addr + 12);
	k->src_port = sport;
	k->dst_port = dport;
}

static void val(struct nsflow_value *v, uint64_t packets, uint64_t first_ns, uint64_t last_ns)
{
	memset(v, 0, sizeof(*v));
	v->packets = packets;
	v->octets = packets * 100;
	v->first_ns = first_ns;
	v->last_ns = last_ns;
}

Test(agg, protocol_port_sums_flows_of_the_same_ports)
{
	struct agg_cache *c = cache(NS_AGG_PROTOCOL_PORT, 0, 1024);
	struct nsflow_key k;
	struct nsflow_value v;

	key4(&k, "192.0.2.1", "198.51.100.1", 5000, 53);
	val(&v, 3, T0, T0 + S);
	cr_assert(agg_cache_add(c, &k, &v, T0 + S));
	key4(&k, "192.0.2.2", "198.51.100.9", 5000, 53); /* other addresses, same ports */
	val(&v, 4, T0 + S, T0 + 2 * S);
	cr_assert(agg_cache_add(c, &k, &v, T0 + 2 * S));
	key4(&k, "192.0.2.1", "198.51.100.1", 5001, 53);
	cr_assert(agg_cache_add(c, &k, &v, T0 + 2 * S));
	cr_assert_eq(agg_cache_count(c), 2);
	cr_assert_eq(agg_cache_flush(c, NS_END_FORCED, collect, NULL), 2);
	cr_assert_eq(out[0].packets, 7);
	cr_assert_eq(out[0].octets, 700);
	cr_assert_eq(out[0].src_port, 5000);
	cr_assert_eq(out[0].dst_port, 53);
	cr_assert_eq(out[0].protocol, 17);
	cr_assert_eq(out[0].end_reason, NS_END_FORCED);
	cr_assert_eq(out[0].tmpl_id, ns_tmpl_agg_id(NS_AGG_PROTOCOL_PORT, 0));
	cr_assert_eq(out[0].ingress_ifindex, 0, "protocol-port does not key on interfaces");
	cr_assert_eq(out[0].tos, 0);
	cr_assert_eq(out[1].packets, 4);
	agg_cache_free(c);
}

Test(agg, each_family_and_kind_of_traffic_goes_to_its_own_cache)
{
	struct agg_cache *v4 = cache(NS_AGG_INDEX_TOS, 0, 1024);
	struct agg_cache *v6 = cache(NS_AGG_INDEX_TOS, 1, 1024);
	struct agg_cache *vlan = cache(NS_AGG_VLAN_ID, 0, 1024);
	struct agg_cache *mpls = cache(NS_AGG_MPLS_LABEL, 0, 1024);
	struct nsflow_key k;
	struct nsflow_value v;

	key4(&k, "192.0.2.1", "198.51.100.1", 1, 2);
	val(&v, 1, T0, T0);
	cr_assert(agg_cache_add(v4, &k, &v, T0));
	cr_assert_not(agg_cache_add(v6, &k, &v, T0), "IPv4 is not the IPv6 cache's");
	cr_assert_not(agg_cache_add(vlan, &k, &v, T0), "untagged traffic has no VLAN id");
	cr_assert_not(agg_cache_add(mpls, &k, &v, T0), "plain IP has no label");
	k.vlan_outer = 100;
	cr_assert(agg_cache_add(vlan, &k, &v, T0));
	k.mpls_top = NSFLOW_MPLS_VALID | NSFLOW_MPLS_LSE(1000, 5, 1);
	cr_assert(agg_cache_add(mpls, &k, &v, T0));
	k.ip_version = 0; /* label-only MPLS */
	cr_assert(agg_cache_add(mpls, &k, &v, T0));
	cr_assert_not(agg_cache_add(v4, &k, &v, T0));
	k.ip_version = 6;
	cr_assert(agg_cache_add(v6, &k, &v, T0));
	cr_assert_eq(agg_cache_count(mpls), 1, "one label stack entry, one flow");
	agg_cache_flush(mpls, NS_END_FORCED, collect, NULL);
	cr_assert_eq(n_out, 1);
	cr_assert_eq(out[0].packets, 2);
	cr_assert_eq(out[0].mpls_count, 1);
	cr_assert_eq(out[0].mpls_lse[0], NSFLOW_MPLS_LSE(1000, 5, 1));
	cr_assert_eq(out[0].ingress_ifindex, 3);
	n_out = 0;
	agg_cache_flush(vlan, NS_END_FORCED, collect, NULL);
	cr_assert_eq(out[0].vlan_id, 100);
	agg_cache_free(v4);
	agg_cache_free(v6);
	agg_cache_free(vlan);
	agg_cache_free(mpls);
}

/* 192.0.2.0/24 from AS 65001, 198.51.100.0/25 from AS 65002 via 203.0.113.1 and ifindex 7 */
static bool routes(void *arg, const uint8_t addr[16], struct agg_route *r)
{
	(void)arg;
	if (addr[12] == 192 && addr[13] == 0 && addr[14] == 2) {
		*r = (struct agg_route){ .prefix_len = 24, .as = 65001 };
		return true;
	}
	if (addr[12] == 198 && addr[13] == 51 && addr[14] == 100 && addr[15] < 128) {
		*r = (struct agg_route){ .prefix_len = 25, .as = 65002, .egress_ifindex = 7 };
		r->bgp_nexthop[10] = r->bgp_nexthop[11] = 0xff;
		inet_pton(AF_INET, "203.0.113.1", r->bgp_nexthop + 12);
		return true;
	}
	return false;
}

Test(agg, prefixes_and_as_numbers_come_from_the_routes)
{
	struct agg_cache *c = cache(NS_AGG_PREFIX, 0, 1024);
	struct agg_cache *nh = cache(NS_AGG_BGP_NEXTHOP_TOS, 0, 1024);
	struct nsflow_key k;
	struct nsflow_value v;
	char a[INET_ADDRSTRLEN];

	agg_cache_set_route(c, routes, NULL);
	agg_cache_set_route(nh, routes, NULL);
	key4(&k, "192.0.2.77", "198.51.100.5", 1, 2);
	val(&v, 2, T0, T0);
	cr_assert(agg_cache_add(c, &k, &v, T0));
	cr_assert(agg_cache_add(nh, &k, &v, T0));
	key4(&k, "192.0.2.200", "198.51.100.100", 3, 4);
	cr_assert(agg_cache_add(c, &k, &v, T0));
	cr_assert(agg_cache_add(nh, &k, &v, T0));
	key4(&k, "10.0.0.1", "198.51.100.200", 3, 4); /* neither covered: /0, AS 0 */
	cr_assert(agg_cache_add(c, &k, &v, T0));
	cr_assert(agg_cache_add(nh, &k, &v, T0));
	cr_assert_eq(agg_cache_count(c), 2);
	agg_cache_flush(c, NS_END_FORCED, collect, NULL);
	inet_ntop(AF_INET, out[0].src_addr + 12, a, sizeof(a));
	cr_assert_str_eq(a, "192.0.2.0");
	cr_assert_eq(out[0].src_mask, 24);
	cr_assert_eq(out[0].src_as, 65001);
	inet_ntop(AF_INET, out[0].dst_addr + 12, a, sizeof(a));
	cr_assert_str_eq(a, "198.51.100.0");
	cr_assert_eq(out[0].dst_mask, 25);
	cr_assert_eq(out[0].dst_as, 65002);
	cr_assert_eq(out[0].egress_ifindex, 7, "ingress traffic leaves by the route's interface");
	cr_assert_eq(out[0].packets, 4);
	inet_ntop(AF_INET, out[1].src_addr + 12, a, sizeof(a));
	cr_assert_str_eq(a, "0.0.0.0");
	cr_assert_eq(out[1].src_mask, 0);
	cr_assert_eq(out[1].dst_as, 0);
	n_out = 0;
	agg_cache_flush(nh, NS_END_FORCED, collect, NULL);
	cr_assert_eq(n_out, 2, "two next hops: 203.0.113.1, and none for 198.51.100.200");
	inet_ntop(AF_INET, out[0].bgp_nexthop + 12, a, sizeof(a));
	cr_assert_str_eq(a, "203.0.113.1");
	cr_assert_eq(out[0].tos, 0x20);
	agg_cache_free(c);
	agg_cache_free(nh);
}

Test(agg, inactive_and_active_timeouts_end_periods)
{
	struct agg_cache *c = cache(NS_AGG_SOURCE_INDEX_TOS, 0, 1024);
	struct nsflow_key k;
	struct nsflow_value v;

	key4(&k, "192.0.2.1", "198.51.100.1", 1, 2);
	val(&v, 5, T0, T0);
	agg_cache_add(c, &k, &v, T0);
	k.tos = 0; /* another aggregated flow, kept busy */
	agg_cache_add(c, &k, &v, T0);
	cr_assert_eq(agg_cache_expire(c, T0 + 9 * S, collect, NULL), 0);
	for (uint64_t t = T0 + 5 * S; t <= T0 + 60 * S; t += 5 * S) {
		val(&v, 1, t, t);
		agg_cache_add(c, &k, &v, t);
		agg_cache_expire(c, t, collect, NULL);
	}
	cr_assert_eq(n_out, 2, "one idle, one active record");
	cr_assert_eq(out[0].end_reason, NS_END_IDLE);
	cr_assert_eq(out[0].tos, 0x20);
	cr_assert_eq(out[0].packets, 5);
	cr_assert_eq(out[1].end_reason, NS_END_ACTIVE);
	cr_assert_eq(out[1].packets, 5 + 12);
	cr_assert_eq(agg_cache_count(c), 1, "the active flow stays, its period restarts");
	val(&v, 3, T0 + 61 * S, T0 + 61 * S);
	agg_cache_add(c, &k, &v, T0 + 61 * S);
	agg_cache_flush(c, NS_END_FORCED, collect, NULL);
	cr_assert_eq(out[2].packets, 3, "a new period counts from zero");
	cr_assert_eq(agg_cache_stats(c)->expired[NS_END_IDLE], 1);
	cr_assert_eq(agg_cache_stats(c)->expired[NS_END_ACTIVE], 1);
	cr_assert_eq(agg_cache_stats(c)->packets, 5 + 5 + 12 + 3);
	agg_cache_free(c);
}

Test(agg, a_full_cache_exports_its_oldest_flow)
{
	struct agg_cache *c = cache(NS_AGG_PROTOCOL_PORT, 0, 2);
	struct nsflow_key k;
	struct nsflow_value v;

	val(&v, 1, T0, T0);
	for (uint16_t p = 1; p <= 3; p++) {
		key4(&k, "192.0.2.1", "198.51.100.1", p, 9);
		agg_cache_add(c, &k, &v, T0);
	}
	cr_assert_eq(agg_cache_count(c), 2);
	cr_assert_eq(n_out, 1);
	cr_assert_eq(out[0].src_port, 1, "the oldest goes");
	cr_assert_eq(out[0].end_reason, NS_END_LACK_OF_RESOURCES);
	agg_cache_free(c);
}

static unsigned int agg_records;

static void count_agg(void *arg, const struct ns_dec_record *r)
{
	(void)arg;
	agg_records += r->tmpl->id >= NS_TMPL_AGG;
}

/* Every mode's records go out with its own template, and collectors decode them */
static void encode_every_mode(enum ns_proto proto)
{
	for (unsigned int m = 0; m < NS_AGG_MODES; m++)
		for (int v6 = 0; v6 < 2; v6++) {
			struct agg_cache *c = cache(m, v6, 1024);
			struct ns_export_context ctx = { .boot_ms = 1000 };
			struct ns_capture cap = { 0 };
			struct ns_encoder enc;
			struct ns_decoder d;
			struct nsflow_key k;
			struct nsflow_value v;
			char err[256];

			key4(&k, "192.0.2.1", "198.51.100.1", 1, 2);
			if (v6) {
				k.ip_version = 6;
				inet_pton(AF_INET6, "2001:db8::1", k.src_addr);
				inet_pton(AF_INET6, "2001:db8::2", k.dst_addr);
			}
			k.vlan_outer = 7;
			k.mpls_top = NSFLOW_MPLS_VALID | NSFLOW_MPLS_LSE(16, 0, 1);
			k.vni = NSFLOW_VNI_VALID | 5001;
			val(&v, 2, T0, T0);
			cr_assert(agg_cache_add(c, &k, &v, T0), "%s", ns_agg_mode_name(m));
			agg_cache_flush(c, NS_END_FORCED, collect, NULL);
			cr_assert_eq(n_out, 1);
			cr_assert_eq(
				ns_encoder_init(&enc, proto, NULL, &ctx, 0, ns_capture_emit, &cap),
				0);
			ns_encoder_add(&enc, out, 1, 1700000000000ULL);
			ns_encoder_flush(&enc, 1700000000000ULL);
			ns_decoder_init(&d, proto);
			d.on_record = count_agg;
			agg_records = 0;
			for (size_t i = 0; i < cap.n; i++)
				cr_assert_eq(
					ns_decode(&d, cap.msg[i], cap.len[i], err, sizeof(err)), 0,
					"%s/%d: %s", ns_agg_mode_name(m), v6, err);
			cr_assert_eq(agg_records, 1, "%s/%d", ns_agg_mode_name(m), v6);
			ns_encoder_free(&enc);
			ns_capture_free(&cap);
			agg_cache_free(c);
		}
}

Test(agg, every_mode_encodes_as_ipfix_and_v9)
{
	encode_every_mode(NS_PROTO_IPFIX);
	encode_every_mode(NS_PROTO_V9);
}

/* JSON of an aggregated record: its template's fields and the counters, nothing else */
Test(agg, json_carries_exactly_the_template)
{
	struct agg_cache *c = cache(NS_AGG_PROTOCOL_PORT_TOS, 0, 1024);
	struct ns_tmpl_set set;
	struct nsflow_key k;
	struct nsflow_value v;
	char line[NS_LINE_MAX];

	key4(&k, "192.0.2.1", "198.51.100.1", 1000, 53);
	val(&v, 2, T0, T0);
	agg_cache_add(c, &k, &v, T0);
	agg_cache_flush(c, NS_END_FORCED, collect, NULL);
	cr_assert_eq(ns_tmpl_set_init(&set, NS_PROTO_IPFIX), 0);
	cr_assert_gt(ns_json_format(&set, &out[0], line, sizeof(line)), 0);
	cr_assert_str_eq(
		line,
		"{\"protocolIdentifier\":17,\"sourceTransportPort\":1000,"
		"\"destinationTransportPort\":53,\"ipClassOfService\":32,"
		"\"ingressInterface\":3,\"egressInterface\":0,\"ipVersion\":4,\"flowDirection\":0,"
		"\"packetDeltaCount\":2,\"octetDeltaCount\":200,"
		"\"flowStartMilliseconds\":100000,\"flowEndMilliseconds\":100000,"
		"\"flowEndReason\":4}\n");
	agg_cache_free(c);
}

/* --counter-bits 32: an aggregate above 2^32 - 1 octets goes out as several records */
Test(agg, counts_wider_than_the_counters_are_split)
{
	struct agg_opts o = { .mode = NS_AGG_PROTOCOL_PORT,
			      .active_ns = 60 * S,
			      .inactive_ns = 10 * S,
			      .max_entries = 16,
			      .counter_max = UINT32_MAX };
	struct agg_cache *c;
	struct nsflow_key k;
	struct nsflow_value v;
	uint64_t octets = 0;

	cr_assert_eq(agg_cache_new(&c, &o), 0);
	n_out = 0;
	key4(&k, "192.0.2.1", "198.51.100.1", 1000, 53);
	val(&v, 3300000, T0, T0);
	v.octets = 3300000ull * 1500; /* 4.95 GB */
	cr_assert(agg_cache_add(c, &k, &v, T0));
	agg_cache_flush(c, NS_END_FORCED, collect, NULL);
	cr_assert_eq(n_out, 2);
	for (size_t i = 0; i < n_out; i++) {
		cr_assert_leq(out[i].octets, UINT32_MAX);
		octets += out[i].octets;
	}
	cr_assert_eq(octets, 3300000ull * 1500);
	cr_assert_eq(out[0].packets + out[1].packets, 3300000);
	agg_cache_free(c);
}

static unsigned int high_ids;

static void count_high(void *arg, const struct ns_dec_record *r)
{
	(void)arg;
	high_ids += r->tmpl->id == 332 || r->tmpl->id == 268;
}

/* Every template gets announced before its records, whatever its id: a routed original
 * (332 + n) used to mark an aggregated one (268 + n) as sent when ids went past 64 bits */
Test(agg, templates_past_64_ids_are_each_announced)
{
	struct ns_export_context ctx = { .boot_ms = 1000 };
	struct ns_capture cap = { 0 };
	struct ns_record r[2];
	struct ns_encoder enc;
	struct ns_decoder d;
	char err[256];

	memset(r, 0, sizeof(r));
	r[0].ip_version = r[1].ip_version = 4;
	r[0].packets = r[1].packets = 1;
	r[0].tmpl_id = ns_tmpl_routed_id(NS_TMPL_IPV4); /* 332: bit 76 */
	r[1].tmpl_id = ns_tmpl_agg_id(NS_AGG_AS, 0);	/* 268: bit 12 */
	for (int proto = NS_PROTO_V9; proto <= NS_PROTO_IPFIX; proto++) {
		cr_assert_eq(ns_encoder_init(&enc, (enum ns_proto)proto, NULL, &ctx, 0,
					     ns_capture_emit, &cap),
			     0);
		ns_encoder_add(&enc, &r[0], 1, 1700000000000ULL);
		ns_encoder_add(&enc, &r[1], 1, 1700000000000ULL);
		ns_encoder_flush(&enc, 1700000000000ULL);
		ns_decoder_init(&d, (enum ns_proto)proto);
		d.on_record = count_high;
		high_ids = 0;
		for (size_t i = 0; i < cap.n; i++)
			cr_assert_eq(ns_decode(&d, cap.msg[i], cap.len[i], err, sizeof(err)), 0,
				     "%s", err);
		cr_assert_eq(high_ids, 2, "both records decoded with their templates");
		ns_encoder_free(&enc);
		ns_capture_free(&cap);
	}
}
