/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* SIGHUP: check the configuration again, then take it up by executing the agent anew. */
#ifndef NSFLOW_RELOAD_H
#define NSFLOW_RELOAD_H
#include <stddef.h>
#include <stdint.h>
#include "config.h"

/* Set in the environment of the image a reload executes (and cleared by it). */
#define RELOAD_ENV "NSFLOW_RELOADED"

/* 0 when the arguments of `nsflow run` (and the file they name) would start an agent that can
 * take over from the running one (@old); else a message in @err and the running one stays. */
int reload_check(const struct nsflow_config *old, int argc, char **argv, char *err, size_t errlen);
/* Detaches the interfaces of @old that the configuration no longer names. */
void reload_detach_dropped(const struct nsflow_config *old, int argc, char **argv,
			   uint32_t owner_id);
/* Executes `nsflow run` again with the same arguments; returns only on failure (-errno). */
int reload_exec(int argc, char **argv);

#endif
