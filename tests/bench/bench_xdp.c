// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ns/packet of nsflow_xdp over a mix of 10k frames (IPv4/IPv6, TCP/UDP/ICMP, 100 flows), for
 * packets of flows already in the map and for packets that each start a new flow, beside an
 * XDP program that only counts (the floor), measured in the same run with BPF_PROG_TEST_RUN.
 *
 * A test run with repeat > 1 swaps the kernel's XDP dispatcher twice (two RCU grace periods,
 * tens of ms), so long repeats go to one frame per flow; the whole 10k mix is run once per
 * frame, where the kernel's timer is read around every single packet: those figures carry the
 * timer's own cost, on nsflow and on the floor alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dp.h"
#include "pkt.h"

#define FRAMES 10000
#define FLOWS  100
#define REPEAT 2000
#define ROUNDS 3

static struct pb frames[FRAMES];

/* Frame i of the mix; flow decides the addresses/ports so that frames share flows. */
static void build(struct pb *p, int i, int flow)
{
	char a[64], b[64];
	int kind = flow % 6;

	pb_init(p);
	if (kind < 3) {
		snprintf(a, sizeof(a), "10.0.%d.%d", flow / 250, flow % 250 + 1);
		snprintf(b, sizeof(b), "10.1.%d.%d", flow / 250, flow % 250 + 1);
		pb_eth(p, 0x0800);
		pb_ipv4(p, kind == 0 ? 6 : kind == 1 ? 17 : 1, a, b, 0, 64, 0, 0, 0);
	} else {
		snprintf(a, sizeof(a), "2001:db8:%x::1", flow);
		snprintf(b, sizeof(b), "2001:db8:%x::2", flow);
		pb_eth(p, 0x86dd);
		pb_ipv6(p, kind == 3 ? 6 : kind == 4 ? 17 : 58, a, b, 0, 64);
	}
	if (kind == 0 || kind == 3)
		pb_tcp(p, (uint16_t)(1024 + flow), 443, 0x10, 5);
	else if (kind == 1 || kind == 4)
		pb_udp(p, (uint16_t)(1024 + flow), 53);
	else
		pb_icmp(p, kind == 2 ? 8 : 128, 0);
	pb_zero(p, (size_t)(i % 7) * 64);
	pb_finish(p);
}

static double run_mix(int prog_fd, int repeat, int nframes)
{
	double total = 0;

	for (int i = 0; i < nframes; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frames[i].b,
			    .data_size_in = frames[i].len, .repeat = repeat);
		if (bpf_prog_test_run_opts(prog_fd, &o) || o.retval != 2) {
			fprintf(stderr, "test run failed on frame %d\n", i);
			exit(1);
		}
		total += o.duration;
	}
	return total / nframes;
}

static double best(int prog_fd, int repeat, int nframes)
{
	double b = 1e18;

	for (int r = 0; r < ROUNDS; r++) {
		double v = run_mix(prog_fd, repeat, nframes);

		if (v < b)
			b = v;
	}
	return b;
}

int main(void)
{
	struct bpf_object *floor_obj;
	struct nsflow_bpf *s;
	double known, known_mix, fresh = 1e18, floor_ns, floor_mix;
	int floor_fd, nsfd;

	s = dp_open();
	if (!s)
		return 1;
	floor_obj = bpf_object__open_file("build/floor.bpf.o", NULL);
	if (!floor_obj || bpf_object__load(floor_obj)) {
		fprintf(stderr, "load build/floor.bpf.o failed\n");
		return 1;
	}
	floor_fd = bpf_program__fd(bpf_object__find_program_by_name(floor_obj, "floor_xdp"));

	for (int i = 0; i < FRAMES; i++)
		build(&frames[i], i, i % FLOWS);
	nsfd = bpf_program__fd(s->progs.nsflow_xdp);
	run_mix(nsfd, 1, FRAMES); /* the 100 flows now exist */
	known = best(nsfd, REPEAT, FLOWS);
	floor_ns = best(floor_fd, REPEAT, FLOWS);
	known_mix = best(nsfd, 1, FRAMES);
	floor_mix = best(floor_fd, 1, FRAMES);

	/* new flows: every frame a flow of its own, each run once into an empty map */
	for (int i = 0; i < FRAMES; i++)
		build(&frames[i], i, FLOWS + i);
	for (int r = 0; r < ROUNDS; r++) {
		struct nsflow_bpf *n = dp_open();
		double v;

		if (!n)
			return 1;
		v = run_mix(bpf_program__fd(n->progs.nsflow_xdp), 1, FRAMES);
		if (v < fresh)
			fresh = v;
		nsflow_bpf__destroy(n);
	}
	printf("nsflow_xdp vs the floor (an XDP program that only counts), BPF_PROG_TEST_RUN, "
	       "best of %d rounds\n",
	       ROUNDS);
	printf("  known flows, one frame per flow x %d:  nsflow %6.1f ns/packet, floor %5.1f "
	       "(%.2fx; goal <= 35 ns, <= 6x)\n",
	       REPEAT, known, floor_ns, known / floor_ns);
	printf("  known flows, 10k-frame mix, timer per packet: nsflow %6.1f ns/packet, floor "
	       "%5.1f "
	       "(+%.1f ns)\n",
	       known_mix, floor_mix, known_mix - floor_mix);
	printf("  new flows, 10k-frame mix, timer per packet:   nsflow %6.1f ns/packet, floor "
	       "%5.1f "
	       "(+%.1f ns)\n",
	       fresh, floor_mix, fresh - floor_mix);
	nsflow_bpf__destroy(s);
	bpf_object__close(floor_obj);
	return 0;
}
