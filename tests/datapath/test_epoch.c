// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The epoch switch: whatever was counted before and after switches, drained by the agent's
 * own code, adds up exactly: no packet lost, none counted twice, also while packets keep
 * arriving on other threads during the switches.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dp.h"
#include "pkt.h"
#include "epoch.h"

#define XDP_PASS_ 2

static struct nsflow_bpf *skel;
static struct nsflow_epoch ep;

struct totals {
	uint64_t packets, octets, flows;
};

static void add(void *arg, const struct nsflow_slot_key *k, const struct nsflow_value *v)
{
	struct totals *t = arg;

	(void)k;
	t->packets += v->packets;
	t->octets += v->octets;
	t->flows++;
}

static void setup(void)
{
	skel = dp_open();
	cr_assert_not_null(skel);
	cr_assert_eq(epoch_init(&ep, bpf_map__fd(skel->maps.nsflow_epoch),
				bpf_map__fd(skel->maps.nsflow_flows_0),
				bpf_map__fd(skel->maps.nsflow_flows_1), 256),
		     0);
}

static void teardown(void)
{
	epoch_free(&ep);
	nsflow_bpf__destroy(skel);
}

TestSuite(epoch, .init = setup, .fini = teardown);

static void frame(struct pb *p, uint16_t sport)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 17, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_udp(p, sport, 53);
	pb_zero(p, 22); /* 50-byte IP packets */
	pb_finish(p);
}

Test(epoch, counts_before_and_after_a_switch_add_up)
{
	struct totals t = {};
	struct pb p;
	int old;

	for (int i = 0; i < 300; i++) {
		frame(&p, (uint16_t)(1000 + i));
		cr_assert_eq(dp_run(skel, DP_XDP, p.b, p.len, 7), XDP_PASS_);
	}
	old = epoch_switch(&ep);
	cr_assert(old >= 0);
	/* the retired map holds everything so far; the new one what comes next */
	for (int i = 0; i < 100; i++) {
		frame(&p, (uint16_t)(1000 + i));
		cr_assert_eq(dp_run(skel, DP_XDP, p.b, p.len, 3), XDP_PASS_);
	}
	cr_assert_eq(epoch_drain(&ep, old, add, &t), 300, "drained in batches of 256");
	cr_assert_eq(t.packets, 300 * 7);
	cr_assert_eq(t.octets, 300 * 7 * 50);
	old = epoch_switch(&ep);
	memset(&t, 0, sizeof(t));
	cr_assert_eq(epoch_drain(&ep, old, add, &t), 100);
	cr_assert_eq(t.packets, 100 * 3);
	/* drained maps are empty: draining again finds nothing */
	memset(&t, 0, sizeof(t));
	cr_assert_eq(epoch_drain(&ep, old, add, &t), 0);
}

Test(epoch, a_restarted_agent_finds_the_current_map)
{
	struct nsflow_epoch again;

	epoch_switch(&ep);
	cr_assert_eq(epoch_init(&again, bpf_map__fd(skel->maps.nsflow_epoch),
				bpf_map__fd(skel->maps.nsflow_flows_0),
				bpf_map__fd(skel->maps.nsflow_flows_1), 256),
		     0);
	cr_assert_eq(again.cur, 1);
	epoch_free(&again);
}

#define SENDERS 2
#define RUNS	400
#define REPEAT	250

static void *sender(void *arg)
{
	struct pb p;
	long id = (long)arg;

	for (int i = 0; i < RUNS; i++) {
		frame(&p, (uint16_t)(id * 1000 + i % 500));
		if (dp_run(skel, DP_XDP, p.b, p.len, REPEAT) != XDP_PASS_)
			return (void *)1;
	}
	return NULL;
}

Test(epoch, exact_totals_while_packets_arrive_during_switches)
{
	pthread_t th[SENDERS];
	int joined[SENDERS] = { 0 }, left = SENDERS, switches = 0;
	struct totals t = {};
	void *ret;

	for (long i = 0; i < SENDERS; i++)
		pthread_create(&th[i], NULL, sender, (void *)i);
	/* switch and drain as fast as possible while the senders run */
	while (left > 0) {
		int old = epoch_switch(&ep);

		cr_assert(old >= 0);
		cr_assert(epoch_drain(&ep, old, add, &t) >= 0);
		switches++;
		for (int i = 0; i < SENDERS; i++) {
			if (joined[i] || pthread_tryjoin_np(th[i], &ret))
				continue;
			cr_assert_null(ret, "a sender's run did not pass the packet");
			joined[i] = 1;
			left--;
		}
	}
	/* the last switch retires whatever came after the last drain */
	cr_assert(epoch_drain(&ep, epoch_switch(&ep), add, &t) >= 0);
	cr_assert_eq(t.packets, (uint64_t)SENDERS * RUNS * REPEAT, "drained %llu of %d",
		     (unsigned long long)t.packets, SENDERS * RUNS * REPEAT);
	cr_assert_eq(t.octets, (uint64_t)SENDERS * RUNS * REPEAT * 50);
	cr_assert(switches > 2, "the switches happened during the traffic (%d)", switches);
}
