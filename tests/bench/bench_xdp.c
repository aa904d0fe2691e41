// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ns/packet of nsflow_xdp and nsflow_tc_ingress, each beside a program of its hook that only
 * counts (build/floor.bpf.o: floor_xdp, floor_tc), measured in the same run over the same
 * frames with BPF_PROG_TEST_RUN.
 *
 * Every figure comes from few test runs with large repeats: a run with repeat > 1 costs a
 * fixed ~16 ms (XDP swaps the kernel's dispatcher twice), and the kernel's timer is read once
 * per run, not per packet.
 *  - known flows: KNOWN_FRAMES frames (two flows of each kind: IPv4/IPv6 x TCP/UDP/ICMP), each
 *    run KNOWN_REPEAT times after its flow exists. The same frame is repeated, so its flow's
 *    bucket stays in cache: real traffic over many flows pays cache misses on top.
 *  - new flows: a driver program (floor.bpf.c, newflow_*) bumps the frame's source address in
 *    place and tail-calls the program under test, so every repeat is a new flow. The driver
 *    pointed at the floor gives the driver's own cost, which is taken out:
 *    new = driver->nsflow - driver->floor + floor.
 * Each figure is the best of ROUNDS, the programs interleaved within every round.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dp.h"
#include "pkt.h"

#define KINDS	     6
#define KNOWN_FRAMES (2 * KINDS)
#define KNOWN_REPEAT 100000
#define NEW_FRAMES   KINDS
#define NEW_REPEAT   10000
#define ROUNDS	     5
#define GOAL	     2.5

#define XDP_PASS_RET  2u
#define TC_UNSPEC_RET 0xffffffffu

static struct pb known[KNOWN_FRAMES], fresh[NEW_FRAMES];

/* A frame of one flow; kind picks the family and protocol, net keeps runs' flows apart. */
static void build(struct pb *p, int flow, int net)
{
	char a[64], b[64];
	int kind = flow % KINDS;

	pb_init(p);
	if (kind < 3) {
		snprintf(a, sizeof(a), "10.%d.0.0", 2 * net);
		snprintf(b, sizeof(b), "10.%d.%d.%d", 2 * net + 1, flow / 250, flow % 250 + 1);
		pb_eth(p, 0x0800);
		pb_ipv4(p, kind == 0 ? 6 : kind == 1 ? 17 : 1, a, b, 0, 64, 0, 0, 0);
	} else {
		snprintf(a, sizeof(a), "2001:db8:%x::", 2 * net);
		snprintf(b, sizeof(b), "2001:db8:%x::%x", 2 * net + 1, flow + 1);
		pb_eth(p, 0x86dd);
		pb_ipv6(p, kind == 3 ? 6 : kind == 4 ? 17 : 58, a, b, 0, 64);
	}
	if (kind == 0 || kind == 3)
		pb_tcp(p, (uint16_t)(1024 + flow), 443, 0x10, 5);
	else if (kind == 1 || kind == 4)
		pb_udp(p, (uint16_t)(1024 + flow), 53);
	else
		pb_icmp(p, kind == 2 ? 8 : 128, 0);
	pb_zero(p, (size_t)(flow % 3) * 64);
	pb_finish(p);
}

/* Mean ns/packet of one program over frames, each run `repeat` times. */
static double run_frames(int prog_fd, int tc, const struct pb *f, int n, int repeat)
{
	struct __sk_buff skb = {};
	double total = 0;

	for (int i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f[i].b, .data_size_in = f[i].len,
			    .repeat = repeat);
		if (tc) {
			o.ctx_in = &skb;
			o.ctx_size_in = sizeof(skb);
		}
		if (bpf_prog_test_run_opts(prog_fd, &o) ||
		    o.retval != (tc ? TC_UNSPEC_RET : XDP_PASS_RET)) {
			fprintf(stderr, "test run failed on frame %d (retval %d)\n", i, o.retval);
			exit(1);
		}
		total += o.duration;
	}
	return total / n;
}

static void keep_best(double *best, double v)
{
	if (v < *best)
		*best = v;
}

static int prog_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	return p ? bpf_program__fd(p) : -1;
}

static int set_target(struct bpf_object *obj, const char *map, int target_fd)
{
	__u32 zero = 0;
	int fd = bpf_object__find_map_fd_by_name(obj, map);

	return bpf_map_update_elem(fd, &zero, &target_fd, BPF_ANY);
}

/* nsflow with epoch maps large enough for every new flow of one round (XDP and TC). */
static struct nsflow_bpf *open_large(void)
{
	struct nsflow_bpf *s;

	s = nsflow_bpf__open();
	if (!s)
		return NULL;
	bpf_map__set_max_entries(s->maps.nsflow_flows_0, 2 * NEW_FRAMES * NEW_REPEAT);
	bpf_map__set_max_entries(s->maps.nsflow_flows_1, 2 * NEW_FRAMES * NEW_REPEAT);
	if (nsflow_bpf__load(s)) {
		nsflow_bpf__destroy(s);
		return NULL;
	}
	return s;
}

static void report(const char *what, double ns, double floor_ns)
{
	printf("  %-34s nsflow %6.1f ns/packet, floor %5.1f: %5.2fx (goal <= %.1fx: %s)\n", what,
	       ns, floor_ns, ns / floor_ns, GOAL, ns / floor_ns <= GOAL ? "met" : "not met");
}

int main(void)
{
	double k_xdp = 1e18, k_tc = 1e18, f_xdp = 1e18, f_tc = 1e18;
	double n_xdp = 1e18, n_tc = 1e18, d_xdp = 1e18, d_tc = 1e18, l_xdp = 1e18;
	int fxdp, lxdp, ftc, dxdp_frags, dxdp, dtc, nxdp, ntc;
	struct nsflow_counters cnt;
	struct bpf_object *fl;
	struct nsflow_bpf *s;
	struct dp_flows flows;
	size_t made = 0;

	s = dp_open();
	if (!s)
		return 1;
	fl = bpf_object__open_file("build/floor.bpf.o", NULL);
	if (!fl || bpf_object__load(fl)) {
		fprintf(stderr, "load build/floor.bpf.o failed\n");
		return 1;
	}
	fxdp = prog_fd(fl, "floor_xdp");
	ftc = prog_fd(fl, "floor_tc");
	lxdp = prog_fd(fl, "floor_lookup_xdp");
	dxdp_frags = prog_fd(fl, "newflow_xdp_frags");
	dxdp = prog_fd(fl, "newflow_xdp");
	dtc = prog_fd(fl, "newflow_tc");
	if (set_target(fl, "newflow_xdp_target", fxdp)) {
		fprintf(stderr, "set the new-flow driver's target: %s\n", strerror(errno));
		return 1;
	}

	/* known flows: create them, then repeat each frame */
	for (int i = 0; i < KNOWN_FRAMES; i++)
		build(&known[i], i, 0);
	nxdp = bpf_program__fd(s->progs.nsflow_xdp);
	ntc = bpf_program__fd(s->progs.nsflow_tc_ingress);
	run_frames(nxdp, 0, known, KNOWN_FRAMES, 1);
	run_frames(lxdp, 0, known, KNOWN_FRAMES, 1);
	for (int r = 0; r < ROUNDS; r++) {
		keep_best(&f_xdp, run_frames(fxdp, 0, known, KNOWN_FRAMES, KNOWN_REPEAT));
		keep_best(&l_xdp, run_frames(lxdp, 0, known, KNOWN_FRAMES, KNOWN_REPEAT));
		keep_best(&k_xdp, run_frames(nxdp, 0, known, KNOWN_FRAMES, KNOWN_REPEAT));
		keep_best(&f_tc, run_frames(ftc, 1, known, KNOWN_FRAMES, KNOWN_REPEAT));
		keep_best(&k_tc, run_frames(ntc, 1, known, KNOWN_FRAMES, KNOWN_REPEAT));
	}
	dp_read_flows(s, &flows);
	dp_counters(s, &cnt);
	if (flows.n != KNOWN_FRAMES || cnt.c[NSFLOW_CNT_METERED] != cnt.c[NSFLOW_CNT_SEEN]) {
		fprintf(stderr, "known flows: %zu flows, %llu of %llu packets metered\n", flows.n,
			(unsigned long long)cnt.c[NSFLOW_CNT_METERED],
			(unsigned long long)cnt.c[NSFLOW_CNT_SEEN]);
		return 1;
	}
	dp_flows_free(&flows);
	nsflow_bpf__destroy(s);

	/* new flows: a fresh map each round, distinct frames for XDP and TC */
	for (int r = 0; r < ROUNDS; r++) {
		struct nsflow_bpf *n = open_large();

		if (!n) {
			fprintf(stderr, "load nsflow with large maps failed\n");
			return 1;
		}
		for (int i = 0; i < NEW_FRAMES; i++)
			build(&fresh[i], i, 1);
		set_target(fl, "newflow_xdp_frags_target", bpf_program__fd(n->progs.nsflow_xdp));
		keep_best(&n_xdp, run_frames(dxdp_frags, 0, fresh, NEW_FRAMES, NEW_REPEAT));
		keep_best(&d_xdp, run_frames(dxdp, 0, fresh, NEW_FRAMES, NEW_REPEAT));
		for (int i = 0; i < NEW_FRAMES; i++)
			build(&fresh[i], i, 2);
		set_target(fl, "newflow_tc_target", bpf_program__fd(n->progs.nsflow_tc_ingress));
		keep_best(&n_tc, run_frames(dtc, 1, fresh, NEW_FRAMES, NEW_REPEAT));
		set_target(fl, "newflow_tc_target", ftc);
		keep_best(&d_tc, run_frames(dtc, 1, fresh, NEW_FRAMES, NEW_REPEAT));
		dp_read_flows(n, &flows);
		made = flows.n;
		dp_flows_free(&flows);
		nsflow_bpf__destroy(n);
		if (made != 2 * NEW_FRAMES * NEW_REPEAT) {
			fprintf(stderr, "new flows: %zu flows made, not %d\n", made,
				2 * NEW_FRAMES * NEW_REPEAT);
			return 1;
		}
	}

	printf("nsflow vs count-only programs of the same hook, BPF_PROG_TEST_RUN, best of %d "
	       "rounds\n",
	       ROUNDS);
	printf(" known flows: %d frames (IPv4/IPv6 x TCP/UDP/ICMP) x %d repeats each\n",
	       KNOWN_FRAMES, KNOWN_REPEAT);
	report("XDP, known flows", k_xdp, f_xdp);
	report("TC ingress, known flows", k_tc, f_tc);
	printf("  reference: the XDP floor plus one lookup of a 60-byte key in a hash map "
	       "(nsflow's\n"
	       "   key size and map kind) costs %.1f ns/packet, %.2fx the floor; nsflow is %.2fx "
	       "that\n",
	       l_xdp, l_xdp / f_xdp, k_xdp / l_xdp);
	printf(" new flows: %d frames x %d repeats, each repeat a new flow (%zu flows a round);\n"
	       "   driver bumps the source address and tail-calls the program; its cost, measured\n"
	       "   against the floor, is taken out: driver->nsflow - driver->floor + floor\n",
	       NEW_FRAMES, NEW_REPEAT, made);
	printf("   XDP: driver->nsflow %.1f, driver->floor %.1f; TC: driver->nsflow %.1f, "
	       "driver->floor %.1f ns/packet\n",
	       n_xdp, d_xdp, n_tc, d_tc);
	report("XDP, new flows", n_xdp - d_xdp + f_xdp, f_xdp);
	report("TC ingress, new flows", n_tc - d_tc + f_tc, f_tc);
	bpf_object__close(fl);
	return 0;
}
