// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "evring.h"

#define RB_BUSY	   (1u << 31) /* BPF_RINGBUF_BUSY_BIT */
#define RB_DISCARD (1u << 30) /* BPF_RINGBUF_DISCARD_BIT */
#define RB_HDR	   8	      /* BPF_RINGBUF_HDR_SZ */

int evring_open(struct evring *r, int map_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	memset(r, 0, sizeof(*r));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	r->map_fd = map_fd;
	r->size = info.max_entries;
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r->consumer = p;
	r->map_len = page + 2 * r->size;
	p = mmap(NULL, r->map_len, PROT_READ, MAP_SHARED, map_fd, page);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(r->consumer, page);
		r->consumer = NULL;
		return err;
	}
	r->producer = p;
	r->data = (const uint8_t *)p + page;
	return 0;
}

void evring_close(struct evring *r)
{
	long page = sysconf(_SC_PAGESIZE);

	if (r->consumer)
		munmap(r->consumer, page);
	if (r->producer)
		munmap((void *)r->producer, r->map_len);
	memset(r, 0, sizeof(*r));
}

long evring_consume(struct evring *r, evring_fn fn, void *arg)
{
	uint64_t cons, prod;
	long n = 0;

	if (!r->consumer)
		return 0;
	cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	while (cons < prod) {
		const uint8_t *hdr = r->data + (cons & (r->size - 1));
		uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
		uint64_t next;

		if (len & RB_BUSY)
			break; /* reserved, not yet submitted: the rest comes next time */
		next = cons + ((RB_HDR + (len & ~(RB_BUSY | RB_DISCARD)) + 7) & ~7ULL);
		if (len & RB_DISCARD)
			__atomic_store_n(r->consumer, next, __ATOMIC_RELEASE);
		else {
			fn(arg, hdr + RB_HDR, len, next);
			n++;
		}
		cons = next;
	}
	return n;
}
