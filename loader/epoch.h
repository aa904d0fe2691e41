/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The epoch switch and the drain of the table it frees: lossless hand-over of the kernel's flow
 * tables (one entry per flow and CPU) to the agent.
 */
#ifndef NSFLOW_EPOCH_H
#define NSFLOW_EPOCH_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include "nsflow.h"

struct nsflow_epoch {
	int outer_fd;  /* ARRAY_OF_MAPS, slot 0 = the table programs count into */
	int map_fd[2]; /* nsflow_flows_0, nsflow_flows_1 */
	__u32 map_id[2];
	int cur;		      /* index into map_fd of the table in slot 0 */
	__u32 batch;		      /* entries per batch lookup-and-delete */
	struct nsflow_slot_key *keys; /* batch buffers of epoch_drain, allocated once */
	struct nsflow_value *vals;
};

/* One drained entry: the flow as one CPU counted it. */
typedef void (*epoch_flow_fn)(void *arg, const struct nsflow_slot_key *k,
			      const struct nsflow_value *v);

/* Learn which table is current from slot 0 (a restarted agent finds it as the last one left
 * it). */
int epoch_init(struct nsflow_epoch *e, int outer_fd, int fd0, int fd1, __u32 batch);
void epoch_free(struct nsflow_epoch *e);
/* Put the other table into slot 0. When this returns, no program still counts into the old
 * one: the kernel waits for running programs (an RCU grace period) before a map-in-map update
 * returns. Returns the fd of the table just retired, now the agent's alone. */
int epoch_switch(struct nsflow_epoch *e);
/* The table not in slot 0: retired, or being drained when an agent was killed. */
int epoch_retired_fd(const struct nsflow_epoch *e);
/* Empty a retired table completely, batch by batch; fn sees every entry once. Returns the
 * number of entries drained or -errno. */
long epoch_drain(struct nsflow_epoch *e, int map_fd, epoch_flow_fn fn, void *arg);

/*
 * One batch of a drain, laid out for memory that outlives the agent (see pcache.h): the
 * kernel writes the entries it deletes, their number and the walk's position straight into
 * it, within the one system call that deletes them, so no kill can fall between the delete
 * and the copy being safe. out_batch is EPOCH_BATCH_NONE until the call has returned.
 */
#define EPOCH_BATCH_NONE (~0ULL)
struct epoch_batch {
	union bpf_attr attr; /* the call's arguments; the kernel writes attr.batch.count back */
	__u64 in_batch;	     /* where the walk resumes */
	__u64 out_batch;     /* where the kernel says it stopped, EPOCH_BATCH_NONE before */
	__u32 started;	     /* 0: the walk starts from the beginning */
	__u32 done;	     /* the kernel said the table is empty */
};

/* Takes the next batch of map_fd into b, keys[] and vals[] (room for max entries). Returns
 * the number of entries, 0 when the table is empty, or -errno. */
long epoch_take_batch(int map_fd, struct epoch_batch *b, struct nsflow_slot_key *keys,
		      struct nsflow_value *vals, __u32 max);
/* Moves the walk on once the batch taken last has been consumed. */
void epoch_batch_next(struct epoch_batch *b);

#endif
