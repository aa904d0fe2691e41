// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "epoch.h"

static int map_id_of(int fd, __u32 *id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err = bpf_obj_get_info_by_fd(fd, &info, &len);

	if (err)
		return -errno;
	*id = info.id;
	return 0;
}

int epoch_init(struct nsflow_epoch *e, int outer_fd, int fd0, int fd1, __u32 batch)
{
	__u32 zero = 0, cur_id = 0;
	int err;

	memset(e, 0, sizeof(*e));
	e->outer_fd = outer_fd;
	e->map_fd[0] = fd0;
	e->map_fd[1] = fd1;
	e->batch = batch ? batch : 4096;
	err = map_id_of(fd0, &e->map_id[0]);
	if (!err)
		err = map_id_of(fd1, &e->map_id[1]);
	if (err)
		return err;
	/* a lookup in an ARRAY_OF_MAPS from user space yields the inner map's id */
	if (bpf_map_lookup_elem(outer_fd, &zero, &cur_id))
		return -errno;
	if (cur_id == e->map_id[0])
		e->cur = 0;
	else if (cur_id == e->map_id[1])
		e->cur = 1;
	else
		return -ESTALE;
	e->keys = calloc(e->batch, sizeof(*e->keys));
	e->vals = calloc(e->batch, sizeof(*e->vals));
	if (!e->keys || !e->vals) {
		epoch_free(e);
		return -ENOMEM;
	}
	return 0;
}

void epoch_free(struct nsflow_epoch *e)
{
	free(e->keys);
	free(e->vals);
	e->keys = NULL;
	e->vals = NULL;
}

int epoch_switch(struct nsflow_epoch *e)
{
	int next = !e->cur, old = e->cur;
	__u32 zero = 0;

	if (bpf_map_update_elem(e->outer_fd, &zero, &e->map_fd[next], BPF_ANY))
		return -errno;
	e->cur = next;
	return e->map_fd[old];
}

int epoch_retired_fd(const struct nsflow_epoch *e)
{
	return e->map_fd[!e->cur];
}

long epoch_take_batch(int map_fd, struct epoch_batch *b, struct nsflow_slot_key *keys,
		      struct nsflow_value *vals, __u32 max)
{
	union bpf_attr *attr = &b->attr;
	long ret;

	if (b->done)
		return 0;
	/* written before the call, so that a successor can tell whether it returned */
	b->out_batch = EPOCH_BATCH_NONE;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	memset(attr, 0, sizeof(*attr));
	attr->batch.map_fd = (__u32)map_fd;
	attr->batch.in_batch = b->started ? (__u64)(unsigned long)&b->in_batch : 0;
	attr->batch.out_batch = (__u64)(unsigned long)&b->out_batch;
	attr->batch.keys = (__u64)(unsigned long)keys;
	attr->batch.values = (__u64)(unsigned long)vals;
	attr->batch.count = max;
	ret = syscall(__NR_bpf, BPF_MAP_LOOKUP_AND_DELETE_BATCH, attr, sizeof(attr->batch));
	if (ret && errno != ENOENT)
		return -errno;
	if (ret)
		b->done = 1; /* the last, possibly partial, batch */
	return attr->batch.count;
}

void epoch_batch_next(struct epoch_batch *b)
{
	b->in_batch = b->out_batch;
	b->started = 1;
}

long epoch_drain(struct nsflow_epoch *e, int map_fd, epoch_flow_fn fn, void *arg)
{
	struct epoch_batch b = { 0 };
	long total = 0, n;

	do {
		n = epoch_take_batch(map_fd, &b, e->keys, e->vals, e->batch);
		if (n < 0)
			return n;
		for (long i = 0; fn && i < n; i++)
			fn(arg, &e->keys[i], &e->vals[i]);
		total += n;
		epoch_batch_next(&b);
	} while (!b.done);
	return total;
}
