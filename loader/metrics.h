/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Prometheus metrics of the running agent over plain HTTP (--metrics HOST:PORT). */
#ifndef NSFLOW_METRICS_H
#define NSFLOW_METRICS_H

#include <stddef.h>
#include <stdio.h>
#include "agent.h"
#include "conn.h"

/* Listens on HOST:PORT ("" host: every address). Returns the fd or -errno with err set. */
int metrics_listen(const char *hostport, char *err, size_t errlen);
/* Serves the listening socket from the poll loop (conn.h); its arg is the struct agent. */
extern const struct conn_ops metrics_conn_ops;
/* The metrics in Prometheus text format. */
void metrics_write(struct agent *a, FILE *out);

#endif
