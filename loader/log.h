/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One logger for the agent, libbpf and libxdp. Messages go to stderr with a level tag; when
 * stderr is the journal's stream (systemd), each line starts with its syslog priority. */
#ifndef NSFLOW_LOG_H
#define NSFLOW_LOG_H

#include <stdio.h>

extern int nsflow_verbose;
void log_setup(int verbose);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_warn(...)  log_msg(0, __VA_ARGS__)
#define pr_info(...)  log_msg(1, __VA_ARGS__)
#define pr_debug(...) log_msg(2, __VA_ARGS__)

#endif
