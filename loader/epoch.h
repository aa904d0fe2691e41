/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The epoch switch and the drain of the map it frees: lossless hand-over of the kernel's
 * per-CPU flow maps to the agent. */
#ifndef NSFLOW_EPOCH_H
#define NSFLOW_EPOCH_H

#include <stddef.h>
#include <linux/types.h>
#include "nsflow.h"

struct nsflow_epoch {
	int outer_fd;  /* ARRAY_OF_MAPS, slot 0 = the map programs count into */
	int map_fd[2]; /* nsflow_flows_0, nsflow_flows_1 */
	__u32 map_id[2];
	int cur;     /* index into map_fd of the map in slot 0 */
	int ncpu;    /* possible CPUs: per-CPU values come in arrays of this many */
	__u32 batch; /* entries per batch lookup-and-delete */
	void *keys;  /* batch buffers, allocated once */
	void *vals;
};

/* One drained flow: ncpu per-CPU values, CPUs that saw nothing have packets == 0. */
typedef void (*epoch_flow_fn)(void *arg, const struct nsflow_key *k,
			      const struct nsflow_value *vals, int ncpu);

/* Learn which map is current from slot 0 (a restarted agent finds it as the last one left it). */
int epoch_init(struct nsflow_epoch *e, int outer_fd, int fd0, int fd1, __u32 batch);
void epoch_free(struct nsflow_epoch *e);
/* Put the other map into slot 0. When this returns, no program still counts into the old one:
 * the kernel waits for running programs before a map-in-map update returns. Returns the fd of
 * the map just retired, now the agent's alone. */
int epoch_switch(struct nsflow_epoch *e);
/* Empty a retired map completely, batch by batch; fn sees every entry once. Returns the number
 * of flows drained or -errno. */
long epoch_drain(struct nsflow_epoch *e, int map_fd, epoch_flow_fn fn, void *arg);

/* The same without deleting: the agent reads, saves what it merged, then empties the map
 * (epoch_drain with no callback), so that a kill in between loses nothing. */
long epoch_read(struct nsflow_epoch *e, int map_fd, epoch_flow_fn fn, void *arg);

#endif
