// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * SIGHUP: the configuration is read again and checked as a start would check it (arguments,
 * file, collectors, aggregation, VPN instances, the metrics listener). A bad one is refused and
 * the running one kept. A good one takes effect the way sshd's does: the agent drains once,
 * detaches the interfaces the new configuration drops, and executes itself again with the same
 * arguments under the same pid. The new image takes the pinned maps and the pinned flow cache
 * over exactly as a restart after a crash does, so no packet is lost or counted twice, and every
 * setting (collectors, timeouts, sampling, interfaces added) starts from one code path.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent.h"
#include "attach.h"
#include "log.h"
#include "metrics.h"
#include "reload.h"

/* What sizes the pinned maps, or names them, cannot change under a running datapath. */
static int check_fixed(const struct nsflow_config *old, const struct nsflow_config *new, char *err,
		       size_t errlen)
{
	if (strcmp(old->pin_dir, new->pin_dir)) {
		snprintf(err, errlen,
			 "pin dir %.200s -> %.200s: the pinned maps stay where they are on a "
			 "reload; "
			 "restart nsflow to move them",
			 old->pin_dir, new->pin_dir);
		return -EINVAL;
	}
	if (old->cache_entries != new->cache_entries) {
		snprintf(err, errlen,
			 "cache-entries %u -> %u: the pinned flow tables are sized by it; restart "
			 "nsflow to resize them",
			 old->cache_entries, new->cache_entries);
		return -EINVAL;
	}
	return 0;
}

/* A listener on a new metrics address must be possible before the old one goes. */
static int check_metrics(const struct nsflow_config *old, const struct nsflow_config *new,
			 char *err, size_t errlen)
{
	int fd;

	if (!new->metrics_address[0] || !strcmp(old->metrics_address, new->metrics_address))
		return 0;
	fd = metrics_listen(new->metrics_address, err, errlen);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int reload_check(const struct nsflow_config *old, int argc, char **argv, char *err, size_t errlen)
{
	struct nsflow_config c;
	struct agent trial;
	int ret;

	config_init(&c);
	ret = config_parse_args(&c, argc, argv, err, errlen);
	if (!ret)
		ret = config_validate(&c, err, errlen);
	if (!ret)
		ret = check_fixed(old, &c, err, errlen);
	if (!ret)
		ret = check_metrics(old, &c, err, errlen);
	if (!ret) {
		/* what the new image's start would check before attaching: sinks, caches, VPN */
		ret = agent_init(&trial, &c, false, err, errlen);
		agent_close(&trial);
	}
	config_free(&c);
	return ret;
}

/* Interfaces of the running configuration that the new one no longer names. */
void reload_detach_dropped(const struct nsflow_config *old, int argc, char **argv,
			   uint32_t owner_id)
{
	struct nsflow_config c;
	char err[256];

	config_init(&c);
	if (config_parse_args(&c, argc, argv, err, sizeof(err)) ||
	    config_validate(&c, err, sizeof(err))) {
		config_free(&c);
		return;
	}
	for (size_t i = 0; i < old->n_ifaces; i++) {
		const struct config_iface *f = &old->ifaces[i];
		bool kept = f->gone;

		for (size_t j = 0; j < c.n_ifaces && !kept; j++)
			kept = c.ifaces[j].ifindex == f->ifindex;
		if (kept)
			continue;
		pr_info("%s: no longer in the configuration: detaching", f->name);
		attach_detach_owned((int)f->ifindex, f->name, owner_id);
	}
	config_free(&c);
}

int reload_exec(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 2, sizeof(*args));
	sigset_t hup;

	if (!args)
		return -ENOMEM;
	args[0] = "nsflow";
	for (int i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	setenv(RELOAD_ENV, "1", 1);
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, NULL);
	execv("/proc/self/exe", args);
	free(args);
	return -errno;
}
