/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `nsflow show ...` / `nsflow reset ...`: a unix socket between the CLI and the running agent. */
#ifndef NSFLOW_CONTROL_H
#define NSFLOW_CONTROL_H

#include <stdio.h>
#include "agent.h"

#define NSFLOW_CONTROL_SOCK "/run/nsflow/control.sock"

/* Listens on path (root only, mode 0600). Returns the fd or -errno. */
int control_listen(const char *path);
/* Serves one pending request on the listening fd; never blocks for long. */
void control_serve(int lfd, struct agent *a);
/* CLI side: sends argv as one request and prints the answer. Returns the exit status. */
int control_request(const char *path, int argc, char **argv);
/* Runs one request against the agent, writing the answer to out; 0 or -EINVAL. */
int control_execute(struct agent *a, int argc, char **argv, FILE *out);

#endif
