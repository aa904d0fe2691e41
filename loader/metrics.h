/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Prometheus metrics of the running agent over plain HTTP (--metrics HOST:PORT). */
#ifndef NSFLOW_METRICS_H
#define NSFLOW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "agent.h"
#include "conn.h"

/* Listens on HOST:PORT ("" host: every address). Returns the fd or -errno with err set. */
int metrics_listen(const char *hostport, char *err, size_t errlen);
/* Serves the listening socket from the poll loop (conn.h); its arg is the struct agent. */
extern const struct conn_ops metrics_conn_ops;
/* The metrics in Prometheus text format. */
void metrics_write(struct agent *a, FILE *out);

/* /healthz: the last poll ended at most this many poll intervals ago, and at most ... */
#define METRICS_ALIVE_POLLS 3
/* ... this long ago when the interval is short (a scrape, a slow export may hold a poll up) */
#define METRICS_ALIVE_MIN_MS 5000
/* Is a loop whose last poll ended at last_ns (kernel time) alive at now_ns? */
bool metrics_alive(uint64_t now_ns, uint64_t last_ns, uint32_t poll_interval_ms);

#endif
