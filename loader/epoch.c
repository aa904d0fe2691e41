// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "epoch.h"

/* the kernel lays per-CPU values out 8-byte aligned */
#define PERCPU_STRIDE ((sizeof(struct nsflow_value) + 7) & ~7UL)

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
	int err, ncpu = libbpf_num_possible_cpus();

	memset(e, 0, sizeof(*e));
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	e->outer_fd = outer_fd;
	e->map_fd[0] = fd0;
	e->map_fd[1] = fd1;
	e->ncpu = ncpu;
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
	e->keys = calloc(e->batch, sizeof(struct nsflow_key));
	e->vals = calloc((size_t)e->batch * ncpu, PERCPU_STRIDE);
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
	e->keys = e->vals = NULL;
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

static long walk(struct nsflow_epoch *e, int map_fd, bool del, epoch_flow_fn fn, void *arg)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct nsflow_value *row;
	__u64 in_batch = 0, out_batch = 0;
	void *in = NULL;
	long total = 0;
	int err, done = 0;

	if (sizeof(struct nsflow_value) != PERCPU_STRIDE)
		return -EINVAL;
	while (!done) {
		__u32 n = e->batch, i;

		if (del)
			err = bpf_map_lookup_and_delete_batch(map_fd, in, &out_batch, e->keys,
							      e->vals, &n, &opts);
		else
			err = bpf_map_lookup_batch(map_fd, in, &out_batch, e->keys, e->vals, &n,
						   &opts);
		if (err) {
			err = -errno;
			if (err != -ENOENT)
				return err;
			done = 1; /* the last (possibly partial) batch */
		}
		for (i = 0; i < n; i++) {
			row = (struct nsflow_value *)((char *)e->vals +
						      (size_t)i * e->ncpu * PERCPU_STRIDE);
			if (fn)
				fn(arg, (struct nsflow_key *)e->keys + i, row, e->ncpu);
		}
		total += n;
		in_batch = out_batch;
		in = &in_batch;
	}
	return total;
}

long epoch_drain(struct nsflow_epoch *e, int map_fd, epoch_flow_fn fn, void *arg)
{
	return walk(e, map_fd, true, fn, arg);
}

long epoch_read(struct nsflow_epoch *e, int map_fd, epoch_flow_fn fn, void *arg)
{
	return walk(e, map_fd, false, fn, arg);
}
