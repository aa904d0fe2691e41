/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `nsflow show ...` / `nsflow reset ...`: a unix socket between the CLI and the running agent. */
#ifndef NSFLOW_CONTROL_H
#define NSFLOW_CONTROL_H

#include <stdio.h>
#include "agent.h"
#include "conn.h"

/* Listens on path (root only, mode 0600), non-blocking. Returns the fd or -errno. */
int control_listen(const char *path);
/* Serves the listening socket from the poll loop (conn.h); its arg is the struct agent. */
extern const struct conn_ops control_conn_ops;
/*
 * CLI side: `show ...`/`reset ...` (argv[0] the verb) to the agent named by -p PIN_DIR or
 * --control-socket PATH among the words, else to the only one running. Prints the answer and
 * returns the exit status.
 */
int control_request(int argc, char **argv);
/* Runs one request against the agent, writing the answer to out; 0 or -EINVAL. */
int control_execute(struct agent *a, int argc, char **argv, FILE *out);

#endif
