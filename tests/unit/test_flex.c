// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Flexible records: a record's key (its match fields, address masks, interfaces), its counter
 * widths (the template's field length and the split of a count that does not fit), and its
 * records encoded as IPFIX and v9 and decoded back with the lengths the template gives.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "agg.h"
#include "config.h"
#include "exp_decode.h"
#include "exp_encoder.h"
#include "exp_format.h"
#include "exp_template.h"
#include "flex.h"

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

static void record(struct config_record *r, const char *spec)
{
	char err[512];

	memset(r, 0, sizeof(*r));
	cr_assert_eq(flex_parse(r, spec, "--record", err, sizeof(err)), 0, "%s", err);
	r->flex.tmpl_id[0] = ns_tmpl_flex_id(0, 0);
	r->flex.tmpl_id[1] = ns_tmpl_flex_id(0, 1);
}

static struct agg_cache *cache(const struct config_record *r, int ipv6)
{
	struct agg_opts o = { .flex = &r->flex,
			      .ipv6 = (uint8_t)ipv6,
			      .active_ns = 60 * S,
			      .inactive_ns = 10 * S,
			      .max_entries = 1024 };
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
	k->protocol = 6;
	k->src_addr[10] = k->src_addr[11] = 0xff;
	k->dst_addr[10] = k->dst_addr[11] = 0xff;
	inet_pton(AF_INET, src, k->src_addr + 12);
	inet_pton(AF_INET, dst, k->dst_addr + 12);
	k->src_port = sport;
	k->dst_port = dport;
}

static void val(struct nsflow_value *v, uint64_t packets, uint64_t octets)
{
	memset(v, 0, sizeof(*v));
	v->packets = packets;
	v->octets = octets;
	v->first_ns = T0;
	v->last_ns = T0 + S;
	v->tcp_flags = 0x12;
}

Test(flex, match_fields_and_masks_make_the_key)
{
	struct config_record r;
	struct agg_cache *c;
	struct nsflow_key k;
	struct nsflow_value v;
	char a[INET6_ADDRSTRLEN];

	record(&r, "web:v4:match=source-address/24,destination-port");
	c = cache(&r, 0);
	val(&v, 2, 200);
	key4(&k, "10.0.1.5", "192.0.2.1", 1000, 80);
	cr_assert(agg_cache_add(c, &k, &v, T0));
	key4(&k, "10.0.1.9", "192.0.2.7", 2000, 80); /* same /24, same port */
	cr_assert(agg_cache_add(c, &k, &v, T0));
	key4(&k, "10.0.2.9", "192.0.2.7", 2000, 80); /* another /24 */
	cr_assert(agg_cache_add(c, &k, &v, T0));
	key4(&k, "10.0.1.9", "192.0.2.7", 2000, 443); /* another port */
	cr_assert(agg_cache_add(c, &k, &v, T0));
	k.ip_version = 6; /* the IPv4 cache takes no IPv6 flow */
	cr_assert_not(agg_cache_add(c, &k, &v, T0));
	cr_assert_eq(agg_cache_count(c), 3);
	cr_assert_str_eq(agg_cache_name(c), "web/v4");
	agg_cache_flush(c, NS_END_FORCED, collect, NULL);
	cr_assert_eq(n_out, 3);
	cr_assert_eq(out[0].packets, 4);
	cr_assert_eq(out[0].octets, 400);
	cr_assert_eq(out[0].tmpl_id, 300);
	cr_assert_eq(out[0].src_mask, 24);
	inet_ntop(AF_INET, out[0].src_addr + 12, a, sizeof(a));
	cr_assert_str_eq(a, "10.0.1.0");
	cr_assert_eq(out[0].dst_port, 80);
	cr_assert_eq(out[0].src_port, 0, "not a match field: not in the key");
	cr_assert_eq(out[0].protocol, 0);
	agg_cache_free(c);

	/* tcp-flags and direction are keys when named; interfaces pick the traffic */
	record(&r, "flags:match=tcp-flags,direction:interfaces=x");
	r.flex.ifindex[0] = 3;
	c = cache(&r, 0);
	key4(&k, "10.0.1.5", "192.0.2.1", 1000, 80);
	cr_assert(agg_cache_add(c, &k, &v, T0));
	v.tcp_flags = 0x11;
	cr_assert(agg_cache_add(c, &k, &v, T0));
	k.direction = NSFLOW_DIR_EGRESS;
	cr_assert(agg_cache_add(c, &k, &v, T0));
	k.ifindex = 4;
	cr_assert_not(agg_cache_add(c, &k, &v, T0), "metered on an interface not named");
	cr_assert_eq(agg_cache_count(c), 3);
	agg_cache_free(c);
}

Test(flex, vni_takes_vxlan_traffic_only_and_keys_by_it)
{
	struct config_record r;
	struct agg_cache *c;
	struct nsflow_key k;
	struct nsflow_value v;

	uint8_t sp, dp;

	record(&r, "vx:v4:match=vni,destination-port");
	c = cache(&r, 0);
	val(&v, 1, 100);
	key4(&k, "10.0.1.5", "192.0.2.1", 1000, 4789);
	cr_assert_not(agg_cache_add(c, &k, &v, T0), "not VXLAN: no VNI to key by");
	k.vni = NSFLOW_VNI_VALID | 0;
	cr_assert(agg_cache_add(c, &k, &v, T0));
	k.vni = NSFLOW_VNI_VALID | 5001;
	cr_assert(agg_cache_add(c, &k, &v, T0));
	key4(&k, "10.0.1.6", "192.0.2.2", 1001, 4789); /* another flow, the same VNI */
	k.vni = NSFLOW_VNI_VALID | 5001;
	cr_assert(agg_cache_add(c, &k, &v, T0));
	cr_assert_eq(agg_cache_count(c), 2);
	agg_cache_flush(c, NS_END_FORCED, collect, NULL);
	cr_assert_eq(n_out, 2);
	for (size_t i = 0; i < n_out; i++) {
		cr_assert(out[i].vni_present);
		cr_assert_eq(out[i].packets, out[i].vni ? 2 : 1, "VNI %llu",
			     (unsigned long long)out[i].vni);
	}
	cr_assert(flex_kernel_key(&r, &sp, &dp) & NSFLOW_KF_VNI, "the kernel can key by the VNI");
	agg_cache_free(c);
}

Test(flex, label_positions_take_mpls_traffic_only)
{
	struct config_record r;
	struct agg_cache *c;
	struct nsflow_key k;
	struct nsflow_value v;

	record(&r, "labels:match=mpls-label1,mpls-label2");
	c = cache(&r, 0);
	key4(&k, "10.0.1.5", "192.0.2.1", 1000, 80);
	val(&v, 1, 100);
	cr_assert_not(agg_cache_add(c, &k, &v, T0), "no label stack");
	v.mpls_count = 2;
	v.mpls_lse[0] = NSFLOW_MPLS_LSE(100, 0, 0);
	v.mpls_lse[1] = NSFLOW_MPLS_LSE(200, 0, 1);
	cr_assert(agg_cache_add(c, &k, &v, T0));
	k.ip_version = 0; /* label-only: counted in the IPv4 cache */
	cr_assert(agg_cache_add(c, &k, &v, T0));
	v.mpls_lse[1] = NSFLOW_MPLS_LSE(201, 0, 1);
	cr_assert(agg_cache_add(c, &k, &v, T0));
	cr_assert_eq(agg_cache_count(c), 2);
	agg_cache_flush(c, NS_END_FORCED, collect, NULL);
	cr_assert_eq(out[0].mpls_count, 2);
	cr_assert_eq(out[0].mpls_lse[1], NSFLOW_MPLS_LSE(200, 0, 1));
	cr_assert_eq(out[0].packets, 2);
	agg_cache_free(c);
}

/* A count wider than its counter goes out in as many records as it takes, summing exactly */
Test(flex, counters_wider_than_their_width_are_split)
{
	struct config_record r;
	struct agg_cache *c;
	struct nsflow_key k;
	struct nsflow_value v;
	uint64_t p = 0, o = 0;

	record(&r, "small:match=protocol:collect=packets/16,bytes/32");
	cr_assert_eq(r.flex.max_packets, 65535);
	cr_assert_eq(r.flex.max_octets, 0xffffffffull);
	c = cache(&r, 0);
	key4(&k, "10.0.1.5", "192.0.2.1", 1000, 80);
	val(&v, 200000, 200000ull * 1500); /* 300 MB: within 32 bits */
	cr_assert(agg_cache_add(c, &k, &v, T0));
	agg_cache_flush(c, NS_END_FORCED, collect, NULL);
	cr_assert_eq(n_out, 4, "200000 packets in 16-bit counters: 4 records");
	for (size_t i = 0; i < n_out; i++) {
		cr_assert_leq(out[i].packets, 65535);
		cr_assert_leq(out[i].octets, 0xffffffffull);
		p += out[i].packets;
		o += out[i].octets;
	}
	cr_assert_eq(p, 200000);
	cr_assert_eq(o, 300000000);
	agg_cache_free(c);

	/* the octets decide when they need more records than the packets */
	record(&r, "bytes16:match=protocol:collect=packets/32,bytes/16");
	c = cache(&r, 0);
	val(&v, 3, 3 * 60000);
	cr_assert(agg_cache_add(c, &k, &v, T0));
	agg_cache_flush(c, NS_END_FORCED, collect, NULL);
	cr_assert_eq(n_out, 3);
	for (size_t i = 0; i < n_out; i++)
		cr_assert_eq(out[i].octets, 60000);
	agg_cache_free(c);
}

static unsigned int decoded;
static uint16_t seen_len[2];

static void on_rec(void *arg, const struct ns_dec_record *d)
{
	(void)arg;
	if (d->tmpl->id != 300)
		return;
	decoded++;
	for (unsigned int i = 0; i < d->tmpl->n_fields; i++) {
		if (d->tmpl->type[i] == 2)
			seen_len[0] = d->tmpl->len[i];
		if (d->tmpl->type[i] == 1)
			seen_len[1] = d->tmpl->len[i];
	}
	cr_assert_eq(ns_dec_uint(d, 2, 0), 65535);
	cr_assert_eq(ns_dec_uint(d, 9, 0), 24, "the mask length goes with a masked address");
}

/* The template's counters really are 2 and 4 bytes, and collectors read them so */
static void encode(enum ns_proto proto)
{
	struct ns_export_context ctx = { .boot_ms = 1000 };
	struct ns_capture cap = { 0 };
	struct config_record r;
	struct ns_flex_tmpl t;
	struct ns_encoder enc;
	struct ns_decoder d;
	struct agg_cache *c;
	struct nsflow_key k;
	struct nsflow_value v;
	char err[256];

	record(&r, "w:v4:match=source-address/24,protocol:collect=packets/16,bytes/32");
	flex_template(&r, 0, &t);
	cr_assert_eq(ns_tmpl_flex_define(&t, 1), 0);
	c = cache(&r, 0);
	key4(&k, "10.0.1.5", "192.0.2.1", 1000, 80);
	val(&v, 2 * 65535, 2 * 65535 * 100);
	cr_assert(agg_cache_add(c, &k, &v, T0));
	agg_cache_flush(c, NS_END_FORCED, collect, NULL);
	cr_assert_eq(n_out, 2);
	cr_assert_eq(ns_encoder_init(&enc, proto, NULL, &ctx, 0, ns_capture_emit, &cap), 0);
	ns_encoder_add(&enc, out, n_out, 1700000000000ULL);
	ns_encoder_flush(&enc, 1700000000000ULL);
	ns_decoder_init(&d, proto);
	d.on_record = on_rec;
	decoded = 0;
	for (size_t i = 0; i < cap.n; i++)
		cr_assert_eq(ns_decode(&d, cap.msg[i], cap.len[i], err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(decoded, 2);
	cr_assert_eq(seen_len[0], 2, "packetDeltaCount in 16 bits");
	cr_assert_eq(seen_len[1], 4, "octetDeltaCount in 32 bits");
	ns_encoder_free(&enc);
	ns_capture_free(&cap);
	agg_cache_free(c);
	cr_assert_eq(ns_tmpl_flex_define(NULL, 0), 0);
}

Test(flex, templates_carry_the_counter_widths)
{
	encode(NS_PROTO_IPFIX);
	encode(NS_PROTO_V9);
}

Test(flex, templates_are_checked_when_defined)
{
	struct ns_flex_tmpl t = { .n = 1, .f = { { 9999, 0 } } };
	struct ns_tmpl_set set;

	cr_assert_eq(ns_tmpl_flex_define(&t, 1), -ENOENT);
	t.f[0] = (struct ns_flex_field){ 2, 3 };
	cr_assert_eq(ns_tmpl_flex_define(&t, 1), -EINVAL, "3 bytes is no counter width");
	t.f[0] = (struct ns_flex_field){ 8, 2 };
	cr_assert_eq(ns_tmpl_flex_define(&t, 1), -EINVAL, "an address has no width");
	cr_assert_eq(ns_tmpl_flex_define(&t, 2 * NS_FLEX_MAX + 1), -E2BIG);
	/* nothing defined: the slots stay empty */
	cr_assert_eq(ns_tmpl_set_init(&set, NS_PROTO_IPFIX), 0);
	cr_assert_eq(ns_tmpl_get(&set, 300)->n_fields, 0);
}

/* JSON of a flexible record: its template's fields, nothing else */
Test(flex, json_carries_exactly_the_template)
{
	struct config_record r;
	struct ns_flex_tmpl t[2];
	struct ns_tmpl_set set;
	struct agg_cache *c;
	struct nsflow_key k;
	struct nsflow_value v;
	char line[NS_LINE_MAX];

	record(&r, "p:match=protocol,destination-port:collect=bytes/32,last-switched");
	flex_template(&r, 0, &t[0]);
	flex_template(&r, 1, &t[1]);
	cr_assert_eq(ns_tmpl_flex_define(t, 2), 0);
	c = cache(&r, 0);
	key4(&k, "10.0.1.5", "192.0.2.1", 1000, 80);
	val(&v, 2, 300);
	cr_assert(agg_cache_add(c, &k, &v, T0));
	agg_cache_flush(c, NS_END_FORCED, collect, NULL);
	cr_assert_eq(ns_tmpl_set_init(&set, NS_PROTO_IPFIX), 0);
	cr_assert_gt(ns_json_format(&set, &out[0], line, sizeof(line)), 0);
	cr_assert_str_eq(line, "{\"protocolIdentifier\":6,\"destinationTransportPort\":80,"
			       "\"octetDeltaCount\":300,\"flowEndMilliseconds\":101000,"
			       "\"ipVersion\":4,\"flowEndReason\":4}\n");
	agg_cache_free(c);
	cr_assert_eq(ns_tmpl_flex_define(NULL, 0), 0);
}
