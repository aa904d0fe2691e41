/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Collector health as an operator reads it in the log: a line when a collector goes down or
 * into error and when it comes back, and while it stays down or drops records, one a minute
 * saying what it lost. Counts are the sinks' own (sink.h); this only reports them.
 */
#ifndef NSFLOW_COLLECTOR_WATCH_H
#define NSFLOW_COLLECTOR_WATCH_H

#include <stdint.h>

struct agent;

/* Seconds between two reports of the same collector's continuing losses */
#define COLLECTORS_REPORT_S 60
/* How long an agent that stops waits for TCP collectors to take their queue */
#define COLLECTORS_FINISH_MS 5000

/* After a poll: log what changed for each collector (@now_ms: the time the sinks were given) */
void collectors_watch(struct agent *a, uint64_t now_ms);
/* Before the sinks close: let them send what is queued, log what could not go */
void collectors_finish(struct agent *a, uint64_t now_ms);

#endif
