/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One agent per pin dir and per interface. An agent holds an exclusive flock on a lock file
 * for its pin dir and one for each interface it meters (the interface named by its network
 * namespace and ifindex), under /run/nsflow/locks ($RUNTIME_DIRECTORY/locks when the service
 * manager gave the agent a runtime directory), from before it touches anything until it
 * has taken everything off again. The kernel drops the locks with the process, so a killed
 * agent never blocks its successor. Each file says who holds it, for the refusal message.
 */
#ifndef NSFLOW_OWNER_H
#define NSFLOW_OWNER_H

#include <stddef.h>
#include <sys/types.h>
#include "config.h"

#define OWNER_RUN_DIR "/run/nsflow"

struct owner {
	int pin_fd;
	char pin_path[PATH_MAX];
	size_t cap; /* if_fd[] and if_path[], by the config's interface slot */
	int *if_fd; /* -1: not held */
	char (*if_path)[PATH_MAX];
};

/* Who holds a lock: the agent's pid and pin dir (and, for a pin dir, its control socket). */
struct owner_holder {
	pid_t pid;
	char pin_dir[PATH_MAX];
	char control_socket[PATH_MAX];
};

/*
 * Takes the locks of c's pin dir and of every interface named in c (those chosen by rule are
 * taken with owner_add_iface() as they are attached). When one is held by another
 * agent, takes none and fails with -EBUSY and a message naming it ("eth1 is metered by nsflow
 * pid 1234 (pin dir /sys/fs/bpf/nsflow); ...").
 */
int owner_acquire(struct owner *o, const struct nsflow_config *c, char *err, size_t errlen);
/* Takes the lock of c's interface slot i (one that appeared at run time); as above. */
int owner_add_iface(struct owner *o, const struct nsflow_config *c, size_t i, char *err,
		    size_t errlen);
/* Gives back the lock of slot i (an interface no longer metered). */
void owner_drop_iface(struct owner *o, size_t i);
/* Gives them back (and removes the lock files). */
void owner_release(struct owner *o);
/* Is ifindex (in this network namespace) metered by a running agent? 1 with h filled, else 0. */
int owner_of_iface(int ifindex, struct owner_holder *h);
/* Is pin_dir in use by a running agent? 1 with h filled, else 0. */
int owner_of_pin_dir(const char *pin_dir, struct owner_holder *h);
/* The running agents (pin dir locks held), at most max of them; returns how many. */
size_t owner_list(struct owner_holder *out, size_t max);

#endif
