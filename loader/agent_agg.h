/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's aggregation caches (agg.h), one per --aggregate mode and family and one per
 * flexible record (--record) and family: fed with every
 * count the agent merges into its flow cache (drained entries and ring-buffer events alike),
 * aged after each poll, their records handed to every collector once the poll's original
 * records have gone.
 */
#ifndef NSFLOW_AGENT_AGG_H
#define NSFLOW_AGENT_AGG_H

#include <stddef.h>
#include <stdint.h>
#include "nsflow.h"

struct agent;
struct nsflow_config;

/* Gives the exporter the templates of the flexible records: before any sink opens. */
int agent_flex_define(const struct nsflow_config *c, char *err, size_t errlen);
/* With --routes, an original record gains its routing information (mask lengths, AS numbers,
 * next hops, the egress interface of ingress traffic) and the routed template. */
struct ns_record;
void agent_route_record(struct agent *a, struct ns_record *r);

/* Creates the caches of the settings (and reads the routes); -errno with a message in err. */
int agent_aggs_open(struct agent *a, char *err, size_t errlen);
/* Adds n drained counts to every cache. */
void agent_aggs_feed(struct agent *a, const struct nsflow_slot_key *keys,
		     const struct nsflow_value *vals, size_t n);
void agent_aggs_feed_one(struct agent *a, const struct nsflow_key *k, const struct nsflow_value *v);
/* Ages every cache at a->now_ns and sends what expired (and what a full cache pushed out). */
void agent_aggs_expire(struct agent *a);
/* Exports every aggregated flow with reason and sends them. */
void agent_aggs_flush(struct agent *a, uint8_t reason);
void agent_aggs_close(struct agent *a);
/* Bytes the caches and route tables hold. */
uint64_t agent_aggs_bytes(const struct agent *a);

#endif
