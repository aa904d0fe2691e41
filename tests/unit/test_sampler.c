// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Samplers as the exporter announces them: ids, the rate each record carries, and the rate of
 * a time-based sampler measured from the datapath's counts of packets seen and taken.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "agent.h"
#include "sampler.h"

Test(sampler, first_estimate_from_any_packet_taken)
{
	struct sampler_meter m = { 0 };

	cr_assert_eq(sampler_meter_update(&m, 0, 0, 0), 0, "nothing taken: no rate");
	cr_assert_eq(sampler_meter_update(&m, 0, 1000, 10), 100);
	/* still under SAMPLER_MIN_TAKEN taken: the estimate since the start, refined */
	cr_assert_eq(sampler_meter_update(&m, 100, 2000, 25), 80);
	cr_assert_eq(sampler_meter_update(&m, 80, 3200, 32), 100, "3200 seen for 32 taken");
}

Test(sampler, windows_of_enough_packets_taken)
{
	struct sampler_meter m = { 0 };
	uint32_t rate;

	rate = sampler_meter_update(&m, 0, 3200, 32);
	cr_assert_eq(rate, 100);
	/* a window opened at 3200/32: too few taken since to move the rate */
	cr_assert_eq(sampler_meter_update(&m, rate, 5000, 40), 100);
	/* 32 taken since the window opened, 6400 seen: the traffic doubled */
	cr_assert_eq(sampler_meter_update(&m, rate, 3200 + 6400, 64), 200);
	cr_assert_eq(sampler_meter_update(&m, 200, 3200 + 6400 + 3215, 96), 100, "rounded");
}

Test(sampler, counts_that_went_back_start_over)
{
	struct sampler_meter m = { 0 };

	cr_assert_eq(sampler_meter_update(&m, 0, 6400, 64), 100);
	/* the settings were written again: the datapath counts from 0 */
	cr_assert_eq(sampler_meter_update(&m, 100, 50, 1), 50);
	cr_assert_eq(sampler_meter_update(&m, 50, 0, 0), 0);
}

Test(sampler, never_below_one)
{
	struct sampler_meter m = { 0 };

	cr_assert_eq(sampler_meter_update(&m, 0, 1, 3), 1);
}

static void iface(struct nsflow_config *c, const char *name, uint32_t ifindex)
{
	struct config_iface *f = &c->ifaces[c->n_ifaces++];

	snprintf(f->name, sizeof(f->name), "%s", name);
	f->ifindex = ifindex;
}

Test(sampler, ids_and_rates_records_carry)
{
	static struct config_iface ifaces[3];
	static struct nsflow_config c;
	static struct agent a;
	struct ns_record r;

	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	c.ifaces = ifaces;
	c.sample = (struct config_sampler){ NSFLOW_SAMPLE_RANDOM, 10 };
	iface(&c, "a", 5);
	iface(&c, "b", 6);
	c.ifaces[1].has_sample = true;
	c.ifaces[1].sample = (struct config_sampler){ NSFLOW_SAMPLE_TIME, 100 };
	iface(&c, "c", 7);
	c.ifaces[2].has_sample = true; /* its own: none */
	a.cfg = &c;
	sampler_build(&a);
	cr_assert_eq(a.ctx.n_samplers, 3, "global, and b's in each direction");
	cr_assert_eq(a.samplers[0].selector_id, 1);
	cr_assert_eq(a.samplers[0].algorithm, NS_SAMPLER_RANDOM);
	cr_assert_eq(a.samplers[0].rate, 10);
	cr_assert_eq(a.samplers[1].selector_id, 4, "2 + 2 * interface 1 + ingress");
	cr_assert_eq(a.samplers[2].selector_id, 5, "egress");
	cr_assert_eq(a.samplers[1].algorithm, NS_SAMPLER_TIME);
	cr_assert_eq(a.samplers[1].rate, 0, "a time-based rate is measured");

	sampler_name_record(&a, &r, 5, 0);
	cr_assert(r.selector_id == 1 && r.sampling_interval == 10);
	sampler_name_record(&a, &r, 6, 1);
	cr_assert_eq(r.selector_id, 5);
	cr_assert_eq(r.sampling_interval, 0, "not measured yet");
	a.samplers[2].rate = 87;
	sampler_name_record(&a, &r, 6, 1);
	cr_assert_eq(r.sampling_interval, 87, "records carry the rate measured");
	sampler_name_record(&a, &r, 7, 0);
	cr_assert(r.selector_id == 0 && r.sampling_interval == 1, "unsampled");
}
