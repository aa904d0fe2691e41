// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow cache and its aging, driven by a fake clock: each NetStream rule with its
 * flowEndReason, per-CPU merging, counter width, cache full, and exact totals at scale.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "flow_cache.h"

#define SEC	    1000000000ull
#define MAX_RECORDS 65536

struct exported {
	struct flow_entry e;
	uint8_t reason;
};

struct sink {
	struct exported *rec;
	size_t n;
	uint64_t packets, octets;
};

/* A flow's entries from n CPUs, drained one after the other as the agent does. */
static int merge_each(struct flow_cache *c, const struct nsflow_key *k,
		      const struct nsflow_value *v, int n, uint64_t now)
{
	for (int i = 0; i < n; i++) {
		int ret = flow_cache_merge(c, k, &v[i], now);

		if (ret)
			return ret;
	}
	return 0;
}

static void collect(void *arg, const struct flow_entry *e, uint8_t reason)
{
	struct sink *s = arg;

	if (s->rec) {
		cr_assert_lt(s->n, MAX_RECORDS);
		s->rec[s->n].e = *e;
		s->rec[s->n].reason = reason;
	}
	s->n++;
	s->packets += e->val.packets;
	s->octets += e->val.octets;
}

static struct sink *new_sink(void)
{
	struct sink *s = calloc(1, sizeof(*s));

	s->rec = calloc(MAX_RECORDS, sizeof(*s->rec));
	return s;
}

static void free_sink(struct sink *s)
{
	free(s->rec);
	free(s);
}

static struct nsflow_key key4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			      uint8_t proto)
{
	struct nsflow_key k;

	memset(&k, 0, sizeof(k)); /* padding is compared */
	k.ifindex = 2;
	k.ip_version = 4;
	k.protocol = proto;
	k.src_addr[10] = k.src_addr[11] = 0xff;
	k.dst_addr[10] = k.dst_addr[11] = 0xff;
	for (int i = 0; i < 4; i++) {
		k.src_addr[12 + i] = src >> (24 - 8 * i);
		k.dst_addr[12 + i] = dst >> (24 - 8 * i);
	}
	k.src_port = sport;
	k.dst_port = dport;
	return k;
}

static struct nsflow_value val(uint64_t packets, uint64_t octets, uint64_t first, uint64_t last)
{
	return (struct nsflow_value){ .packets = packets,
				      .octets = octets,
				      .first_ns = first,
				      .last_ns = last,
				      .min_ttl = 64,
				      .max_ttl = 64,
				      .min_len = 100,
				      .max_len = 100 };
}

static struct flow_cache *new_cache(uint32_t max_entries, uint8_t bits)
{
	struct flow_cache_opts o = { .active_ns = 60 * SEC,
				     .inactive_ns = 30 * SEC,
				     .max_entries = max_entries,
				     .counter_bits = bits };
	struct flow_cache *c;

	cr_assert_eq(flow_cache_new(&c, &o), 0);
	return c;
}

static void merge1(struct flow_cache *c, const struct nsflow_key *k, struct nsflow_value v,
		   uint64_t now)
{
	cr_assert_eq(flow_cache_merge(c, k, &v, now), 0);
}

Test(flow_cache, options_are_checked)
{
	struct flow_cache_opts o = { SEC, SEC, 1024, 16, NULL };
	struct flow_cache *c = (void *)1;

	cr_assert_eq(flow_cache_new(&c, &o), -EINVAL);
	cr_assert_null(c);
	o.counter_bits = 32;
	o.max_entries = 0;
	cr_assert_eq(flow_cache_new(&c, &o), -EINVAL);
	o.max_entries = 1024;
	o.active_ns = 0;
	cr_assert_eq(flow_cache_new(&c, &o), -EINVAL);
}

Test(flow_cache, per_cpu_values_merge)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct nsflow_key k = key4(0x0a000001, 0x0a000002, 1234, 80, IPPROTO_TCP);
	struct nsflow_value v[4];
	struct sink *s = new_sink();
	const struct flow_entry *e;

	/* CPU 0 did not see the flow: whatever else its slot holds must not count */
	v[0] = val(0, 0, 1, 999 * SEC);
	v[0].min_ttl = 1;
	v[0].max_ttl = 255;
	v[0].tcp_flags = 0x01;
	memcpy(v[0].src_mac, "\x66\x66\x66\x66\x66\x66", 6);
	v[1] = val(3, 300, 10 * SEC, 12 * SEC);
	v[1].tcp_flags = 0x02;
	v[1].min_ttl = 60;
	v[1].max_ttl = 61;
	v[1].min_len = 60;
	v[1].max_len = 120;
	memcpy(v[1].src_mac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(v[1].dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
	v[1].mpls_count = 1;
	v[1].mpls_lse[0] = NSFLOW_MPLS_LSE(100, 0, 1);
	v[2] = val(5, 5000, 9 * SEC, 11 * SEC);
	v[2].tcp_flags = 0x10;
	v[2].min_ttl = 50;
	v[2].max_ttl = 58;
	v[2].min_len = 1000;
	v[2].max_len = 1000;
	memcpy(v[2].src_mac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(v[2].dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
	v[2].mpls_count = 1;
	v[2].mpls_lse[0] = NSFLOW_MPLS_LSE(100, 0, 1);
	v[3] = val(0, 0, 0, 0);

	cr_assert_eq(merge_each(c, &k, v, 4, 13 * SEC), 0);
	cr_assert_eq(flow_cache_count(c), 1);
	cr_assert_eq(flow_cache_flush(c, NS_END_FORCED, collect, s), 1);
	e = &s->rec[0].e;
	cr_assert_eq(e->val.packets, 8);
	cr_assert_eq(e->val.octets, 5300);
	cr_assert_eq(e->val.first_ns, 9 * SEC);
	cr_assert_eq(e->val.last_ns, 12 * SEC);
	cr_assert_eq(e->val.tcp_flags, 0x12);
	cr_assert_eq(e->val.min_ttl, 50);
	cr_assert_eq(e->val.max_ttl, 61);
	cr_assert_eq(e->val.min_len, 60);
	cr_assert_eq(e->val.max_len, 1000);
	cr_assert_eq(memcmp(e->val.src_mac, "\x02\x00\x00\x00\x00\x01", 6), 0);
	cr_assert_eq(e->val.mpls_count, 1);
	cr_assert_eq(e->val.mpls_lse[0], NSFLOW_MPLS_LSE(100, 0, 1));
	cr_assert_eq(s->rec[0].reason, NS_END_FORCED);

	/* every CPU empty: no flow */
	v[1].packets = v[2].packets = 0;
	cr_assert_eq(merge_each(c, &k, v, 4, 14 * SEC), 0);
	cr_assert_eq(flow_cache_count(c), 0);
	cr_assert_eq(flow_cache_merge(c, &k, NULL, 14 * SEC), -EINVAL);
	flow_cache_free(c);
	free_sink(s);
}

Test(flow_cache, successive_drains_accumulate)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct nsflow_key k = key4(1, 2, 3, 4, IPPROTO_UDP);
	struct sink *s = new_sink();
	struct nsflow_value v = val(2, 200, 1 * SEC, 2 * SEC);

	v.min_ttl = 10;
	merge1(c, &k, v, 2 * SEC);
	v = val(3, 300, 3 * SEC, 4 * SEC);
	v.max_ttl = 200;
	merge1(c, &k, v, 4 * SEC);
	cr_assert_eq(flow_cache_count(c), 1);
	flow_cache_flush(c, NS_END_FORCED, collect, s);
	cr_assert_eq(s->n, 1);
	cr_assert_eq(s->rec[0].e.val.packets, 5);
	cr_assert_eq(s->rec[0].e.val.octets, 500);
	cr_assert_eq(s->rec[0].e.val.first_ns, 1 * SEC);
	cr_assert_eq(s->rec[0].e.val.last_ns, 4 * SEC);
	cr_assert_eq(s->rec[0].e.val.min_ttl, 10);
	cr_assert_eq(s->rec[0].e.val.max_ttl, 200);
	flow_cache_free(c);
	free_sink(s);
}

Test(flow_cache, inactive_timeout_exports_and_removes)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct nsflow_key k = key4(1, 2, 3, 4, IPPROTO_UDP);
	struct sink *s = new_sink();

	merge1(c, &k, val(1, 100, 1 * SEC, 1 * SEC), 2 * SEC);
	merge1(c, &k, val(1, 100, 5 * SEC, 5 * SEC), 6 * SEC);
	/* 30 s after the last packet, not after the first */
	cr_assert_eq(flow_cache_expire(c, 35 * SEC - 1, collect, s), 0);
	cr_assert_eq(flow_cache_count(c), 1);
	cr_assert_eq(flow_cache_expire(c, 35 * SEC, collect, s), 1);
	cr_assert_eq(s->rec[0].reason, NS_END_IDLE);
	cr_assert_eq(s->rec[0].e.val.packets, 2);
	cr_assert_eq(flow_cache_count(c), 0);
	cr_assert_eq(flow_cache_stats(c)->expired[NS_END_IDLE], 1);
	flow_cache_free(c);
	free_sink(s);
}

Test(flow_cache, active_timeout_keeps_the_flow_and_restarts_counters)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct nsflow_key k = key4(1, 2, 3, 4, IPPROTO_UDP);
	struct sink *s = new_sink();
	uint64_t t;

	/* a packet every 10 s from t = 0 to 100 s: never idle */
	for (t = 0; t <= 100 * SEC; t += 10 * SEC) {
		merge1(c, &k, val(1, 100, t, t), t + SEC);
		flow_cache_expire(c, t + SEC, collect, s);
	}
	/* the first period began with the first packet (t = 0), exported at t = 61 s */
	cr_assert_eq(s->n, 1);
	cr_assert_eq(s->rec[0].reason, NS_END_ACTIVE);
	cr_assert_eq(s->rec[0].e.val.packets, 7); /* 0, 10 .. 60 s */
	cr_assert_eq(s->rec[0].e.val.first_ns, 0);
	cr_assert_eq(s->rec[0].e.val.last_ns, 60 * SEC);
	cr_assert_eq(flow_cache_count(c), 1, "the flow stays");
	cr_assert_eq(flow_cache_stats(c)->created, 1);
	/* the next record starts at the next packet */
	flow_cache_flush(c, NS_END_FORCED, collect, s);
	cr_assert_eq(s->n, 2);
	cr_assert_eq(s->rec[1].e.val.first_ns, 70 * SEC);
	cr_assert_eq(s->rec[1].e.val.last_ns, 100 * SEC);
	cr_assert_eq(s->rec[0].e.val.packets + s->rec[1].e.val.packets, 11);
	cr_assert_eq(s->packets, 11);
	cr_assert_eq(s->octets, 1100);
	cr_assert_eq(s->rec[1].e.total_packets, 11);
	flow_cache_free(c);
	free_sink(s);
}

Test(flow_cache, active_timeout_counts_from_the_last_export)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct nsflow_key k = key4(1, 2, 3, 4, IPPROTO_UDP);
	struct sink *s = new_sink();

	merge1(c, &k, val(1, 100, 0, 0), SEC);
	merge1(c, &k, val(1, 100, 25 * SEC, 25 * SEC), 26 * SEC);
	merge1(c, &k, val(1, 100, 50 * SEC, 50 * SEC), 51 * SEC);
	cr_assert_eq(flow_cache_expire(c, 60 * SEC, collect, s), 1);
	cr_assert_eq(s->rec[0].reason, NS_END_ACTIVE);
	merge1(c, &k, val(1, 100, 75 * SEC, 75 * SEC), 76 * SEC);
	merge1(c, &k, val(1, 100, 100 * SEC, 100 * SEC), 101 * SEC);
	cr_assert_eq(flow_cache_expire(c, 120 * SEC - 1, collect, s), 0);
	cr_assert_eq(flow_cache_expire(c, 120 * SEC, collect, s), 1);
	cr_assert_eq(s->rec[1].reason, NS_END_ACTIVE);
	cr_assert_eq(s->rec[1].e.val.packets, 2);
	cr_assert_eq(s->rec[1].e.val.first_ns, 75 * SEC);
	flow_cache_free(c);
	free_sink(s);
}

static void fin_or_rst(uint8_t flag)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct nsflow_key k = key4(1, 2, 40000, 443, IPPROTO_TCP);
	struct sink *s = new_sink();
	struct nsflow_value v = val(5, 500, 1 * SEC, 2 * SEC);

	v.tcp_flags = 0x10 | flag;
	merge1(c, &k, val(3, 300, 0, SEC), SEC);
	merge1(c, &k, v, 2 * SEC);
	cr_assert_eq(flow_cache_count(c), 1, "exported at the next expire, not at merge");
	cr_assert_eq(flow_cache_expire(c, 3 * SEC, collect, s), 1);
	cr_assert_eq(s->rec[0].reason, NS_END_END_OF_FLOW);
	cr_assert_eq(s->rec[0].e.val.packets, 8);
	cr_assert_eq(s->rec[0].e.val.tcp_flags, 0x10 | flag);
	cr_assert_eq(flow_cache_count(c), 0);
	/* a later packet of the same key is a new flow */
	merge1(c, &k, val(1, 40, 4 * SEC, 4 * SEC), 5 * SEC);
	cr_assert_eq(flow_cache_stats(c)->created, 2);
	cr_assert_eq(flow_cache_expire(c, 6 * SEC, collect, s), 0);
	flow_cache_flush(c, NS_END_FORCED, collect, s);
	cr_assert_eq(s->rec[1].e.val.packets, 1);
	cr_assert_eq(s->rec[1].e.val.first_ns, 4 * SEC);
	cr_assert_eq(s->rec[1].reason, NS_END_FORCED);
	cr_assert_eq(flow_cache_stats(c)->expired[NS_END_END_OF_FLOW], 1);
	flow_cache_free(c);
	free_sink(s);
}

Test(flow_cache, tcp_fin_ends_the_flow)
{
	fin_or_rst(0x01);
}

Test(flow_cache, tcp_rst_ends_the_flow)
{
	fin_or_rst(0x04);
}

Test(flow_cache, finished_flow_whose_key_returns_before_expire)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct nsflow_key k = key4(1, 2, 40000, 443, IPPROTO_TCP);
	struct sink *s = new_sink();
	struct nsflow_value v = val(2, 200, 1 * SEC, 1 * SEC);

	flow_cache_set_export(c, collect, s);
	v.tcp_flags = 0x01;
	merge1(c, &k, v, 2 * SEC);
	merge1(c, &k, val(1, 40, 2 * SEC, 2 * SEC), 3 * SEC);
	cr_assert_eq(s->n, 1);
	cr_assert_eq(s->rec[0].reason, NS_END_END_OF_FLOW);
	cr_assert_eq(s->rec[0].e.val.packets, 2);
	cr_assert_eq(flow_cache_count(c), 1);
	/* FIN from a UDP flow's flag byte means nothing */
	k.protocol = IPPROTO_UDP;
	merge1(c, &k, v, 3 * SEC);
	cr_assert_eq(flow_cache_expire(c, 4 * SEC, collect, s), 0);
	flow_cache_free(c);
	free_sink(s);
}

Test(flow_cache, forced_flush_exports_everything)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct sink *s = new_sink();

	for (uint32_t i = 0; i < 100; i++) {
		struct nsflow_key k = key4(i, 2, 3, 4, IPPROTO_UDP);

		merge1(c, &k, val(i + 1, 100 * (i + 1), SEC, SEC), 2 * SEC);
	}
	cr_assert_eq(flow_cache_count(c), 100);
	cr_assert_eq(flow_cache_flush(c, NS_END_FORCED, collect, s), 100);
	cr_assert_eq(flow_cache_count(c), 0);
	cr_assert_eq(s->packets, 5050);
	for (size_t i = 0; i < s->n; i++)
		cr_assert_eq(s->rec[i].reason, NS_END_FORCED);
	cr_assert_eq(flow_cache_stats(c)->expired[NS_END_FORCED], 100);
	cr_assert_eq(flow_cache_stats(c)->exported, 100);
	flow_cache_free(c);
	free_sink(s);
}

Test(flow_cache, full_cache_exports_the_oldest_first)
{
	struct flow_cache *c = new_cache(4, 64);
	struct sink *s = new_sink();
	struct nsflow_key k;

	flow_cache_set_export(c, collect, s);
	for (uint32_t i = 1; i <= 4; i++) {
		k = key4(i, 100, 1, 1, IPPROTO_UDP);
		merge1(c, &k, val(i, i * 10, i * SEC, i * SEC), 10 * SEC);
	}
	/* flow 1 seeing more traffic does not make it younger */
	k = key4(1, 100, 1, 1, IPPROTO_UDP);
	merge1(c, &k, val(1, 10, 9 * SEC, 9 * SEC), 10 * SEC);
	cr_assert_eq(s->n, 0);
	k = key4(5, 100, 1, 1, IPPROTO_UDP);
	merge1(c, &k, val(5, 50, 11 * SEC, 11 * SEC), 11 * SEC);
	cr_assert_eq(s->n, 1);
	cr_assert_eq(s->rec[0].reason, NS_END_LACK_OF_RESOURCES);
	cr_assert_eq(s->rec[0].e.key.src_addr[15], 1);
	cr_assert_eq(s->rec[0].e.val.packets, 2);
	k = key4(6, 100, 1, 1, IPPROTO_UDP);
	merge1(c, &k, val(6, 60, 12 * SEC, 12 * SEC), 12 * SEC);
	cr_assert_eq(s->n, 2);
	cr_assert_eq(s->rec[1].e.key.src_addr[15], 2);
	cr_assert_eq(flow_cache_count(c), 4);
	cr_assert_eq(flow_cache_stats(c)->expired[NS_END_LACK_OF_RESOURCES], 2);
	/* without a callback the record is lost, and counted as such */
	flow_cache_set_export(c, NULL, NULL);
	k = key4(7, 100, 1, 1, IPPROTO_UDP);
	merge1(c, &k, val(7, 70, 13 * SEC, 13 * SEC), 13 * SEC);
	cr_assert_eq(flow_cache_stats(c)->dropped, 1);
	flow_cache_free(c);
	free_sink(s);
}

Test(flow_cache, counter_width_32_exports_before_wrapping)
{
	struct flow_cache *c = new_cache(1024, 32);
	struct nsflow_key k = key4(1, 2, 3, 4, IPPROTO_UDP);
	struct sink *s = new_sink();

	flow_cache_set_export(c, collect, s);
	merge1(c, &k, val(3000000, 4000000000ull, 1 * SEC, 2 * SEC), 2 * SEC);
	cr_assert_eq(s->n, 0);
	/* 4e9 + 3e8 > 2^32 - 1: the period goes first, with reason 2, and counting restarts */
	merge1(c, &k, val(200000, 300000000ull, 3 * SEC, 4 * SEC), 4 * SEC);
	cr_assert_eq(s->n, 1);
	cr_assert_eq(s->rec[0].reason, NS_END_ACTIVE);
	cr_assert_eq(s->rec[0].e.val.octets, 4000000000ull);
	cr_assert_eq(s->rec[0].e.val.packets, 3000000);
	cr_assert_eq(s->rec[0].e.val.last_ns, 2 * SEC);
	cr_assert_eq(flow_cache_count(c), 1);
	/* up to exactly 2^32 - 1 still fits */
	merge1(c, &k, val(1, 4294967295ull - 300000000ull, 5 * SEC, 5 * SEC), 5 * SEC);
	cr_assert_eq(s->n, 1);
	flow_cache_flush(c, NS_END_FORCED, collect, s);
	cr_assert_eq(s->rec[1].e.val.octets, 4294967295ull);
	cr_assert_eq(s->rec[1].e.val.first_ns, 3 * SEC);

	/* one drain wider than the counter is split; the parts add up exactly */
	s->n = s->packets = s->octets = 0;
	merge1(c, &k, val(7000000, 10000000000ull, 6 * SEC, 7 * SEC), 7 * SEC);
	flow_cache_flush(c, NS_END_FORCED, collect, s);
	cr_assert_eq(s->n, 3);
	for (size_t i = 0; i < s->n; i++) {
		cr_assert_leq(s->rec[i].e.val.octets, 4294967295ull);
		cr_assert_leq(s->rec[i].e.val.packets, 4294967295ull);
	}
	cr_assert_eq(s->rec[0].reason, NS_END_ACTIVE);
	cr_assert_eq(s->rec[2].reason, NS_END_FORCED);
	cr_assert_eq(s->octets, 10000000000ull);
	cr_assert_eq(s->packets, 7000000);
	flow_cache_free(c);
	free_sink(s);
}

Test(flow_cache, counter_width_64_does_not_split)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct nsflow_key k = key4(1, 2, 3, 4, IPPROTO_UDP);
	struct sink *s = new_sink();

	flow_cache_set_export(c, collect, s);
	merge1(c, &k, val(3000000, 4000000000ull, 1 * SEC, 2 * SEC), 2 * SEC);
	merge1(c, &k, val(7000000, 10000000000ull, 3 * SEC, 4 * SEC), 4 * SEC);
	cr_assert_eq(s->n, 0);
	flow_cache_flush(c, NS_END_FORCED, collect, s);
	cr_assert_eq(s->n, 1);
	cr_assert_eq(s->rec[0].e.val.octets, 14000000000ull);
	flow_cache_free(c);
	free_sink(s);
}

/* xorshift64*: the same "random" traffic on every run */
static uint64_t rnd(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

Test(flow_cache, exact_totals_over_thousands_of_flows_and_rounds)
{
	struct flow_cache *c = new_cache(4096, 32);
	struct sink *s = calloc(1, sizeof(*s)); /* totals only */
	uint64_t state = 0x1234567887654321ull, now = 1000 * SEC, packets = 0, octets = 0;
	struct nsflow_value v[8];
	const int nflows = 6000, rounds = 300;

	flow_cache_set_export(c, collect, s);
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < 1500; i++) {
			uint32_t f = (uint32_t)(rnd(&state) % nflows);
			struct nsflow_key k =
				key4(0x0a000000 | f, 0x0a800000 | (f * 7), 1000 + f % 50000, 443,
				     f % 3 ? IPPROTO_TCP : IPPROTO_UDP);

			k.ifindex = 1 + f % 3;
			k.direction = f % 2;
			for (int cpu = 0; cpu < 8; cpu++) {
				uint64_t p = rnd(&state) % 4 ? 0 : 1 + rnd(&state) % 1000;
				uint64_t t = now - rnd(&state) % SEC;

				v[cpu] = val(p, p * (40 + rnd(&state) % 1460), t, t);
				/* once in a while a FIN, and octets near the 32-bit edge */
				v[cpu].tcp_flags = rnd(&state) % 500 ? 0x10 : 0x11;
				if (p && rnd(&state) % 2000 == 0)
					v[cpu].octets = 4294000000ull + rnd(&state) % 10000000;
				packets += v[cpu].packets;
				octets += v[cpu].octets;
			}
			cr_assert_eq(merge_each(c, &k, v, 8, now), 0);
		}
		flow_cache_expire(c, now, collect, s);
		now += (1 + rnd(&state) % 20) * SEC;
	}
	flow_cache_flush(c, NS_END_FORCED, collect, s);
	cr_assert_eq(s->packets, packets);
	cr_assert_eq(s->octets, octets);
	cr_assert_eq(flow_cache_count(c), 0);
	cr_assert_eq(flow_cache_stats(c)->exported, s->n);
	cr_assert_eq(flow_cache_stats(c)->packets, packets);
	cr_assert_eq(flow_cache_stats(c)->dropped, 0);
	/* every rule fired on the way */
	for (int reason = NS_END_IDLE; reason <= NS_END_LACK_OF_RESOURCES; reason++)
		cr_assert_gt(flow_cache_stats(c)->expired[reason], 0, "reason %d", reason);
	flow_cache_free(c);
	free(s);
}

Test(flow_cache, record_conversion)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct nsflow_key k = key4(0xc0000201, 0xc6336402, 40000, 443, IPPROTO_TCP);
	struct nsflow_value v = val(10, 15000, 5 * SEC + 123456789, 9 * SEC + 999999);
	struct sink *s = new_sink();
	const int64_t boot_to_wall = 1700000000ll * (int64_t)SEC;
	struct ns_record r;

	k.tos = 0xb8;
	k.vlan_outer = 100;
	k.vlan_inner = 200;
	k.ifindex = 7;
	v.tcp_flags = 0x1b;
	v.min_ttl = 63;
	v.max_ttl = 64;
	v.min_len = 52;
	v.max_len = 1500;
	memcpy(v.src_mac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(v.dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
	v.mpls_count = 2;
	v.mpls_lse[0] = NSFLOW_MPLS_LSE(16, 0, 0);
	v.mpls_lse[1] = NSFLOW_MPLS_LSE(17, 5, 1);
	merge1(c, &k, v, 10 * SEC);
	flow_cache_flush(c, NS_END_FORCED, collect, s);
	flow_entry_to_record(&s->rec[0].e, s->rec[0].reason, boot_to_wall, &r);
	cr_assert_eq(r.ip_version, 4);
	cr_assert_eq(r.protocol, IPPROTO_TCP);
	cr_assert_eq(r.tos, 0xb8);
	cr_assert_eq(r.direction, 0);
	cr_assert_eq(r.ingress_ifindex, 7);
	cr_assert_eq(r.egress_ifindex, 0);
	cr_assert_eq(memcmp(r.src_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x01", 16), 0);
	cr_assert_eq(memcmp(r.dst_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc6\x33\x64\x02", 16), 0);
	cr_assert_eq(r.src_port, 40000);
	cr_assert_eq(r.dst_port, 443);
	cr_assert_eq(r.vlan_id, 100);
	cr_assert_eq(r.inner_vlan_id, 200);
	cr_assert_eq(r.packets, 10);
	cr_assert_eq(r.octets, 15000);
	cr_assert_eq(r.start_ms, 1700000005123ull);
	cr_assert_eq(r.end_ms, 1700000009000ull);
	cr_assert_eq(r.tcp_flags, 0x1b);
	cr_assert_eq(r.min_ttl, 63);
	cr_assert_eq(r.max_ttl, 64);
	cr_assert_eq(r.min_len, 52);
	cr_assert_eq(r.max_len, 1500);
	cr_assert_eq(r.end_reason, NS_END_FORCED);
	cr_assert_eq(memcmp(r.src_mac, "\x02\x00\x00\x00\x00\x01", 6), 0);
	cr_assert_eq(memcmp(r.dst_mac, "\x02\x00\x00\x00\x00\x02", 6), 0);
	cr_assert_eq(r.mpls_count, 2);
	cr_assert_eq(r.mpls_lse[1], NSFLOW_MPLS_LSE(17, 5, 1));
	cr_assert_eq(r.srh_present, 0);
	cr_assert_eq(r.sampling_interval, 1);

	/* egress IPv6 with an SRH, keyed by label only on a second flow */
	memset(&k, 0, sizeof(k));
	k.ip_version = 6;
	k.direction = NSFLOW_DIR_EGRESS;
	k.ifindex = 9;
	k.protocol = IPPROTO_ICMPV6;
	k.src_addr[0] = 0x20;
	k.dst_port = 128 << 8;
	v = val(1, 104, 20 * SEC, 20 * SEC);
	v.srh_present = 1;
	v.srh_segments_left = 2;
	v.srh_tag = 0x1234;
	v.srh_active_segment[0] = 0xfc;
	merge1(c, &k, v, 21 * SEC);
	s->n = 0;
	flow_cache_flush(c, NS_END_FORCED, collect, s);
	flow_entry_to_record(&s->rec[0].e, NS_END_IDLE, boot_to_wall, &r);
	cr_assert_eq(r.egress_ifindex, 9);
	cr_assert_eq(r.ingress_ifindex, 0);
	cr_assert_eq(r.direction, 1);
	cr_assert_eq(r.ip_version, 6);
	cr_assert_eq(r.src_addr[0], 0x20);
	cr_assert_eq(r.dst_port, 128 << 8);
	cr_assert_eq(r.srh_present, 1);
	cr_assert_eq(r.srh_segments_left, 2);
	cr_assert_eq(r.srh_tag, 0x1234);
	cr_assert_eq(r.srh_active_segment[0], 0xfc);
	cr_assert_eq(r.end_reason, NS_END_IDLE);

	memset(&k, 0, sizeof(k));
	k.mpls_top = NSFLOW_MPLS_VALID | NSFLOW_MPLS_LSE(300, 0, 1);
	merge1(c, &k, val(1, 100, SEC, SEC), 2 * SEC);
	s->n = 0;
	flow_cache_flush(c, NS_END_FORCED, collect, s);
	flow_entry_to_record(&s->rec[0].e, NS_END_FORCED, 0, &r);
	cr_assert_eq(r.ip_version, 0);
	cr_assert_eq(r.mpls_count, 1);
	cr_assert_eq(r.mpls_lse[0], NSFLOW_MPLS_LSE(300, 0, 1));
	cr_assert_eq(r.start_ms, 1000);
	flow_cache_free(c);
	free_sink(s);
}

Test(flow_cache, ring_buffer_events_count_as_packets)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct nsflow_event ev;
	struct sink *s = new_sink();

	/* what the datapath puts in an event: the value the packet would have created */
	memset(&ev, 0, sizeof(ev));
	ev.key = key4(1, 2, 3, 4, IPPROTO_TCP);
	ev.val = val(1, 1500, 3 * SEC, 3 * SEC);
	ev.val.tcp_flags = 0x02;
	ev.val.min_ttl = ev.val.max_ttl = 33;
	ev.val.min_len = ev.val.max_len = 1500;
	cr_assert_eq(flow_cache_add_event(c, &ev, 4 * SEC), 0);
	ev.val = val(1, 40, 5 * SEC, 5 * SEC);
	ev.val.tcp_flags = 0x10;
	ev.val.min_ttl = ev.val.max_ttl = 30;
	ev.val.min_len = ev.val.max_len = 40;
	cr_assert_eq(flow_cache_add_event(c, &ev, 6 * SEC), 0);
	merge1(c, &ev.key, val(2, 200, 4 * SEC, 4 * SEC), 6 * SEC);
	flow_cache_flush(c, NS_END_FORCED, collect, s);
	cr_assert_eq(s->n, 1);
	cr_assert_eq(s->rec[0].e.val.packets, 4);
	cr_assert_eq(s->rec[0].e.val.octets, 1740);
	cr_assert_eq(s->rec[0].e.val.tcp_flags, 0x12);
	cr_assert_eq(s->rec[0].e.val.min_ttl, 30);
	cr_assert_eq(s->rec[0].e.val.max_ttl, 64);
	cr_assert_eq(s->rec[0].e.val.min_len, 40);
	cr_assert_eq(s->rec[0].e.val.max_len, 1500);
	cr_assert_eq(s->rec[0].e.val.first_ns, 3 * SEC);
	cr_assert_eq(s->rec[0].e.val.last_ns, 5 * SEC);
	flow_cache_free(c);
	free_sink(s);
}

static int count_visit(void *arg, const struct flow_entry *e)
{
	(void)e;
	return ++*(int *)arg >= 1000;
}

Test(flow_cache, show_cache_filters)
{
	struct flow_cache *c = new_cache(1024, 64);
	struct flow_filter f;
	int visited = 0;

	for (uint32_t i = 0; i < 256; i++) {
		struct nsflow_key k = key4(0x0a000000 | i, 0xc0a80001, 1000 + i, i % 2 ? 53 : 80,
					   i % 2 ? IPPROTO_UDP : IPPROTO_TCP);

		k.ifindex = 1 + i % 4;
		k.direction = i % 8 == 0;
		/* a quarter VXLAN of VNI 0, a quarter of VNI 7 */
		if (i % 4 < 2)
			k.vni = NSFLOW_VNI_VALID | (i % 4 ? 7 : 0);
		merge1(c, &k, val(1, 100, i * SEC, i * SEC), 300 * SEC);
	}
	cr_assert_eq(flow_cache_foreach(c, NULL, count_visit, &visited), 256);
	memset(&f, 0, sizeof(f));
	f.fields = FLOW_FILTER_SRC_ADDR;
	memcpy(f.src_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x00\x00\x80", 16);
	f.src_prefix_len = 96 + 25; /* 10.0.0.128/25 */
	visited = 0;
	cr_assert_eq(flow_cache_foreach(c, &f, count_visit, &visited), 128);
	f.src_prefix_len = 0; /* the whole address */
	cr_assert_eq(flow_cache_foreach(c, &f, count_visit, &visited), 1);
	f.fields = FLOW_FILTER_PROTOCOL | FLOW_FILTER_DST_PORT;
	f.protocol = IPPROTO_UDP;
	f.dst_port = 53;
	cr_assert_eq(flow_cache_foreach(c, &f, count_visit, &visited), 128);
	f.fields = FLOW_FILTER_SRC_PORT;
	f.src_port = 1005;
	cr_assert_eq(flow_cache_foreach(c, &f, count_visit, &visited), 1);
	f.fields = FLOW_FILTER_IFINDEX | FLOW_FILTER_DIRECTION;
	f.ifindex = 1;
	f.direction = 1;
	cr_assert_eq(flow_cache_foreach(c, &f, count_visit, &visited), 32);
	f.fields = FLOW_FILTER_TIME;
	f.since_ns = 10 * SEC;
	f.until_ns = 19 * SEC;
	cr_assert_eq(flow_cache_foreach(c, &f, count_visit, &visited), 10);
	f.fields = FLOW_FILTER_DST_ADDR;
	memcpy(f.dst_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\xa8\x00\x00", 16);
	f.dst_prefix_len = 96 + 16;
	cr_assert_eq(flow_cache_foreach(c, &f, count_visit, &visited), 256);
	/* VNI 0 is a VNI: flows that are not VXLAN do not match it */
	f.fields = FLOW_FILTER_VNI;
	f.vni = 0;
	cr_assert_eq(flow_cache_foreach(c, &f, count_visit, &visited), 64);
	f.vni = 7;
	cr_assert_eq(flow_cache_foreach(c, &f, count_visit, &visited), 64);
	f.vni = 8;
	cr_assert_eq(flow_cache_foreach(c, &f, count_visit, &visited), 0);
	/* the visitor can stop the walk */
	visited = 990;
	cr_assert_eq(flow_cache_foreach(c, NULL, count_visit, &visited), 10);
	flow_cache_free(c);
}

Test(flow_cache, statistics_per_interface_direction_and_family)
{
	struct flow_cache *c = new_cache(1024, 64);
	const struct flow_cache_stats *st = flow_cache_stats(c);
	const struct flow_iface_stats *ifs = NULL;
	struct nsflow_key k = key4(1, 2, 3, 4, IPPROTO_UDP);
	struct sink *s = new_sink();

	k.ifindex = 5;
	merge1(c, &k, val(2, 200, SEC, SEC), 2 * SEC);
	k.ip_version = 6;
	k.direction = 1;
	merge1(c, &k, val(3, 300, SEC, SEC), 2 * SEC);
	memset(&k, 0, sizeof(k));
	k.ifindex = 5;
	k.mpls_top = NSFLOW_MPLS_VALID | 16;
	merge1(c, &k, val(4, 400, SEC, SEC), 2 * SEC);
	k.ifindex = 6;
	merge1(c, &k, val(1, 10, SEC, SEC), 2 * SEC);
	for (uint32_t i = 0; i < st->n_ifaces; i++)
		if (st->ifaces[i].ifindex == 5)
			ifs = &st->ifaces[i];
	cr_assert_not_null(ifs);
	cr_assert_eq(st->n_ifaces, 2);
	cr_assert_eq(ifs->packets[0][FLOW_FAMILY_IPV4], 2);
	cr_assert_eq(ifs->octets[0][FLOW_FAMILY_IPV4], 200);
	cr_assert_eq(ifs->packets[1][FLOW_FAMILY_IPV6], 3);
	cr_assert_eq(ifs->packets[0][FLOW_FAMILY_MPLS], 4);
	cr_assert_eq(ifs->packets[1][FLOW_FAMILY_IPV4], 0);
	cr_assert_eq(st->packets, 10);
	cr_assert_eq(st->created, 4);
	flow_cache_expire(c, 100 * SEC, collect, s);
	cr_assert_eq(st->expired[NS_END_IDLE], 4);
	cr_assert_eq(st->exported, 4);
	flow_cache_reset_stats(c);
	cr_assert_eq(st->created, 0);
	cr_assert_eq(st->n_ifaces, 0);

	/* more interfaces than the table holds share its last slot */
	for (uint32_t i = 0; i < FLOW_STATS_MAX_IFACES + 10; i++) {
		k.ifindex = 100 + i;
		merge1(c, &k, val(1, 10, 200 * SEC, 200 * SEC), 200 * SEC);
	}
	cr_assert_eq(st->n_ifaces, FLOW_STATS_MAX_IFACES + 1);
	cr_assert_eq(st->ifaces[FLOW_STATS_MAX_IFACES].ifindex, 0);
	cr_assert_eq(st->ifaces[FLOW_STATS_MAX_IFACES].packets[0][FLOW_FAMILY_MPLS], 10);
	flow_cache_free(c);
	free_sink(s);
}

struct batch_calls {
	uint32_t begun, done, last;
};

static void on_each(void *arg, uint32_t i)
{
	struct batch_calls *b = arg;

	cr_assert_eq(b->begun, b->done, "entry %u begun inside another", i);
	b->begun++;
	b->last = i;
}

static void on_done(void *arg, uint32_t i)
{
	struct batch_calls *b = arg;

	cr_assert_eq(i, b->last);
	b->done++;
}

/* A batch merged with its walk ahead gives what merging its entries one by one gives: the same
 * records in the same order, with a small cache (full, long chains) and repeated keys. */
Test(flow_cache, batch_merge_equals_single_merges)
{
	struct flow_cache *one = new_cache(512, 32), *batch = new_cache(512, 32);
	struct sink *s1 = new_sink(), *s2 = new_sink();
	static struct nsflow_slot_key keys[3000];
	static struct nsflow_value vals[3000];
	uint64_t state = 0x5eed, now = 1000 * SEC;
	struct batch_calls calls = { 0 };
	uint32_t nonzero = 0, first = 7;

	flow_cache_set_export(one, collect, s1);
	flow_cache_set_export(batch, collect, s2);
	for (uint32_t i = 0; i < 3000; i++) {
		uint32_t f = (uint32_t)(rnd(&state) % 900);
		uint64_t p = rnd(&state) % 5 ? 1 + rnd(&state) % 100 : 0;

		memset(&keys[i], 0, sizeof(keys[i]));
		keys[i].flow = key4(0x0a000000 | f, 0x0a800000 | f, 1000 + f, 80, IPPROTO_UDP);
		keys[i].cpu = (uint32_t)(rnd(&state) % 4);
		vals[i] = val(p, p * 100, now - SEC, now - SEC / 2);
		if (i >= first && p)
			nonzero++;
	}
	for (uint32_t i = first; i < 3000; i++)
		cr_assert_eq(flow_cache_merge(one, &keys[i].flow, &vals[i], now), 0);
	cr_assert_eq(flow_cache_merge_batch(batch, keys, vals, first, 3000, now, on_each, on_done,
					    &calls),
		     nonzero);
	cr_assert_eq(calls.begun, nonzero);
	cr_assert_eq(calls.done, nonzero);
	flow_cache_flush(one, NS_END_FORCED, collect, s1);
	flow_cache_flush(batch, NS_END_FORCED, collect, s2);
	cr_assert_gt(s1->n, 900); /* the cache was full: oldest flows left early */
	cr_assert_eq(s1->n, s2->n);
	for (size_t i = 0; i < s1->n; i++) {
		cr_assert_eq(memcmp(&s1->rec[i].e.key, &s2->rec[i].e.key, sizeof(s1->rec[i].e.key)),
			     0, "record %zu", i);
		cr_assert_eq(s1->rec[i].e.val.packets, s2->rec[i].e.val.packets, "record %zu", i);
		cr_assert_eq(s1->rec[i].e.val.octets, s2->rec[i].e.val.octets, "record %zu", i);
		cr_assert_eq(s1->rec[i].reason, s2->rec[i].reason, "record %zu", i);
	}
	cr_assert_eq(flow_cache_stats(one)->packets, flow_cache_stats(batch)->packets);
	flow_cache_free(one);
	flow_cache_free(batch);
	free_sink(s1);
	free_sink(s2);
}
