/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The consumer side of the datapath's ring buffer (nsflow_events), read in place. libbpf's
 * reader moves the consumer position itself after each record; here the caller does, as the
 * last step of the transaction that merged the record (see pcache.h), so that a kill at any
 * instant neither loses an event nor merges it twice.
 */
#ifndef NSFLOW_EVRING_H
#define NSFLOW_EVRING_H

#include <stddef.h>
#include <stdint.h>

struct evring {
	int map_fd;
	uint64_t *consumer; /* the kernel's consumer position: ours to write */
	const uint64_t *producer;
	const uint8_t *data; /* mapped twice in a row: a record never wraps */
	size_t size;
	size_t map_len;
};

int evring_open(struct evring *r, int map_fd);
void evring_close(struct evring *r);
/*
 * Calls fn for each record from the consumer position on, with the position just past it;
 * fn must store that position in r->consumer (with release order) once it is done with the
 * record. Returns the number of records.
 */
typedef void (*evring_fn)(void *arg, const void *data, uint32_t len, uint64_t next_pos);
long evring_consume(struct evring *r, evring_fn fn, void *arg);

#endif
