// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * IPFIX encoder throughput on one core, for a realistic IPv4/IPv6 mix, beside its floor:
 * memcpy of the same bytes in the same message-sized pieces. The encoder's messages go to a
 * callback that only counts, so this measures encoding, not the network.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exp_encoder.h"

#define NREC	  4096 /* distinct records, cycled: a batch the agent could drain at once */
#define BATCH	  256  /* records per ns_encoder_add call */
#define ROUNDS	  5    /* best of */
#define TARGET_NS 300000000ULL

struct bench_out {
	uint64_t bytes, messages;
	uint32_t sizes[1 << 16]; /* message lengths of one pass, replayed by the floor */
	size_t n_sizes;
};

static int count_emit(void *arg, const uint8_t *msg, size_t len, uint32_t flows)
{
	struct bench_out *o = arg;

	(void)msg;
	(void)flows;
	o->bytes += len;
	o->messages++;
	if (o->n_sizes < sizeof(o->sizes) / sizeof(o->sizes[0]))
		o->sizes[o->n_sizes++] = len;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Two thirds IPv4, one third IPv6; TCP, UDP and some ICMP; some VLAN-tagged */
static void make_records(struct ns_record *r, size_t n)
{
	size_t i;

	memset(r, 0, n * sizeof(*r));
	for (i = 0; i < n; i++) {
		r[i].ip_version = i % 3 == 2 ? 6 : 4;
		r[i].protocol = i % 10 < 6 ? 6 : i % 10 < 9 ? 17 : (r[i].ip_version == 4 ? 1 : 58);
		if (r[i].ip_version == 4) {
			r[i].src_addr[10] = r[i].src_addr[11] = 0xff;
			r[i].dst_addr[10] = r[i].dst_addr[11] = 0xff;
			r[i].src_addr[12] = 10;
			r[i].src_addr[15] = i;
			r[i].dst_addr[12] = 192;
			r[i].dst_addr[15] = i >> 8;
		} else {
			inet_pton(AF_INET6, "2001:db8::1", r[i].src_addr);
			inet_pton(AF_INET6, "2001:db8:1::1", r[i].dst_addr);
			r[i].src_addr[14] = i;
			r[i].dst_addr[15] = i >> 8;
		}
		r[i].src_port = 1024 + i;
		r[i].dst_port = i % 4 ? 443 : 53;
		r[i].tcp_flags = r[i].protocol == 6 ? 0x1b : 0;
		r[i].vlan_id = i % 5 ? 0 : 100;
		r[i].ingress_ifindex = 2 + i % 3;
		r[i].egress_ifindex = 5;
		r[i].packets = 1 + i % 1000;
		r[i].octets = r[i].packets * 800;
		r[i].start_ms = 1700000000000ULL + i;
		r[i].end_ms = r[i].start_ms + 30000;
		r[i].min_ttl = 60;
		r[i].max_ttl = 64;
		r[i].min_len = 40;
		r[i].max_len = 1500;
		r[i].end_reason = NS_END_IDLE;
		r[i].sampling_interval = 1;
	}
}

int main(void)
{
	static struct bench_out out;
	struct ns_export_context ctx = { .boot_ms = 1699990000000ULL };
	uint64_t t, best_enc = UINT64_MAX, best_cpy = UINT64_MAX, records = 0, passes;
	static uint8_t src[1 << 20], dst[65536];
	struct ns_export_opts o;
	struct ns_encoder enc;
	struct ns_record *r;
	size_t i, j, off;
	int round, err;

	r = malloc(NREC * sizeof(*r));
	if (!r) {
		fprintf(stderr, "bench_ipfix: out of memory\n");
		return 1;
	}
	make_records(r, NREC);
	ns_export_opts_default(&o);
	err = ns_encoder_init(&enc, NS_PROTO_IPFIX, &o, &ctx, 0, count_emit, &out);
	if (err) {
		fprintf(stderr, "bench_ipfix: encoder init: %s\n", strerror(-err));
		return 1;
	}
	/* size the run so that one round lasts about TARGET_NS */
	t = now_ns();
	for (j = 0; j < NREC; j += BATCH)
		ns_encoder_add(&enc, r + j, BATCH, 1700000100000ULL);
	t = now_ns() - t;
	passes = TARGET_NS / (t ? t : 1) + 1;

	for (round = 0; round < ROUNDS; round++) {
		out.bytes = out.messages = out.n_sizes = 0;
		t = now_ns();
		for (i = 0; i < passes; i++)
			for (j = 0; j < NREC; j += BATCH)
				ns_encoder_add(&enc, r + j, BATCH, 1700000100000ULL + i);
		ns_encoder_flush(&enc, 1700000100000ULL + i);
		t = now_ns() - t;
		if (t < best_enc)
			best_enc = t;
		records = passes * NREC;
	}

	/* the floor: the same bytes, copied in the same message-sized pieces */
	for (i = 0; i < sizeof(src); i++)
		src[i] = i * 7;
	for (round = 0; round < ROUNDS; round++) {
		uint64_t left = out.bytes;

		t = now_ns();
		for (i = 0, off = 0; left; i = (i + 1) % out.n_sizes) {
			size_t n = out.sizes[i] < left ? out.sizes[i] : left;

			if (off + n > sizeof(src))
				off = 0;
			memcpy(dst, src + off, n);
			__asm__ volatile("" : : "r"(dst) : "memory");
			off += n;
			left -= n;
		}
		t = now_ns() - t;
		if (t < best_cpy)
			best_cpy = t;
	}

	printf("ipfix encode: %.0f records/s (%.1f ns/record, %.1f bytes/record, %llu messages)\n",
	       records * 1e9 / best_enc, (double)best_enc / records, (double)out.bytes / records,
	       (unsigned long long)out.messages);
	printf("floor memcpy: %.0f records/s (%.1f ns/record)\n", records * 1e9 / best_cpy,
	       (double)best_cpy / records);
	ns_encoder_free(&enc);
	free(r);
	return 0;
}
