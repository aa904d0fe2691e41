/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The samplers the exporter announces in options data, and the one each record names. A
 * count-based sampler's rate is its N. A time-based one has none to configure: collectors scale
 * by a packet rate, so its rate is measured from the datapath's counts of packets seen and
 * taken (struct nsflow_cfg) and announced again when it moves.
 *
 * Selector ids: 1 for the global sampler, 2 + 2 * interface + direction for an interface's own.
 */
#ifndef NSFLOW_SAMPLER_H
#define NSFLOW_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>
#include "record.h"

struct agent;

/* Fills a->samplers from the settings and points the export context at them. */
void sampler_build(struct agent *a);
/* The sampler that took the packets of a flow seen on @ifindex in @dir, named in @r. */
void sampler_name_record(const struct agent *a, struct ns_record *r, uint32_t ifindex, uint8_t dir);
/*
 * Reads the time-based samplers' counts and updates their rates. A rate is announced again
 * (the context's options generation moves) when it first becomes known or moves by more than
 * 1/64. Returns true when it did.
 */
bool sampler_measure(struct agent *a);

/*
 * One time-based sampler's measurement. Until SAMPLER_MIN_TAKEN packets were taken the rate is
 * what was seen per packet taken since the start, updated at every measure; after that, over
 * windows of at least SAMPLER_MIN_TAKEN packets taken (seen0/taken0: the counts where the
 * window opened). Counts below the last ones (settings written again) start it over.
 */
#define SAMPLER_MIN_TAKEN 32
struct sampler_meter {
	uint64_t seen0, taken0;
	uint64_t seen, taken; /* at the last update */
	bool windowed;
};
/* @seen and @taken are the sampler's counts now; returns the rate to announce */
uint32_t sampler_meter_update(struct sampler_meter *m, uint32_t rate, uint64_t seen,
			      uint64_t taken);

#endif /* NSFLOW_SAMPLER_H */
