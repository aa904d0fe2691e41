// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's persistent region and its transactions (see pcache.h). The order of the stores
 * is the whole design: each pcache_step() is a point where a kill may fall, and the region must
 * make sense at every one of them. The compiler keeps stores to the region in program order
 * across a step; the hardware makes them all visible before a killed process is gone.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "pcache.h"

#define ALIGN64(x) (((x) + 63) & ~(size_t)63)

/* Offsets of the parts, for max_entries flows. */
struct layout {
	size_t undo, jb, jkeys, jvals, outbox, pool, total;
};

static void layout_of(uint32_t max_entries, struct layout *l)
{
	size_t off = ALIGN64(sizeof(struct pcache_header));

	l->undo = off;
	off = ALIGN64(off + sizeof(struct pcache_undo));
	l->jb = off;
	off = ALIGN64(off + sizeof(struct epoch_batch));
	l->jkeys = off;
	off = ALIGN64(off + PCACHE_BATCH * sizeof(struct nsflow_slot_key));
	l->jvals = off;
	off = ALIGN64(off + PCACHE_BATCH * sizeof(struct nsflow_value));
	l->outbox = off;
	off = ALIGN64(off + PCACHE_OUTBOX * sizeof(struct ns_record));
	l->pool = off;
	off = ALIGN64(off + (size_t)max_entries * sizeof(struct flow_entry));
	l->total = off;
}

/* What a region's contents depend on, besides its size: a build with other structs must not
 * read it. */
static uint32_t layout_id(void)
{
	return (uint32_t)(sizeof(struct flow_entry) << 20 ^ sizeof(struct ns_record) << 8 ^
			  sizeof(struct pcache_undo) ^ sizeof(struct epoch_batch) << 4);
}

size_t pcache_bytes(uint32_t max_entries)
{
	struct layout l;

	layout_of(max_entries, &l);
	return l.total;
}

static inline void barrier(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void pcache_step(struct pcache *pc)
{
	barrier();
	if (pc->crash_after > 0 && --pc->crash_after == 0 && pc->crash)
		pc->crash(pc->crash_arg);
}

/* The part of a committed transaction that comes after its commit: idempotent. */
static void finish(struct pcache *pc, const struct pcache_undo *u)
{
	if (u->kind == PCACHE_TXN_JOURNAL && pc->h->applied < u->arg + 1)
		pc->h->applied = (uint32_t)(u->arg + 1);
	if (u->kind == PCACHE_TXN_EVENT) {
		if (pc->ring_consumer)
			__atomic_store_n(pc->ring_consumer, u->arg, __ATOMIC_RELEASE);
		else
			pc->event_pos = u->arg; /* for the ring, once it is mapped */
	}
}

/* Brings the region back to its last committed transaction. */
static void recover(struct pcache *pc)
{
	struct pcache_header *h = pc->h;
	struct pcache_undo *u = pc->u;

	if (u->txn && u->txn == h->committed + 1) {
		/* killed inside a transaction: put back what it changed */
		for (uint32_t i = u->n; i-- > 0;)
			if (u->slot[i] < pc->max_entries)
				pc->pool[u->slot[i]] = u->img[i];
		h->outbox_n = u->outbox_n;
		pc->rolled_back++;
		pcache_step(pc);
		u->txn = 0;
	} else if (u->txn && u->txn == h->committed) {
		/* killed between a commit and what follows it */
		finish(pc, u);
	}
	if (h->outbox_n > PCACHE_OUTBOX)
		h->outbox_n = PCACHE_OUTBOX;
	/* an emptied outbox whose collectors' progress was not reset yet */
	for (int i = 0; !h->outbox_n && i < PCACHE_SINKS; i++)
		h->sinks[i].sent = 0;
}

int pcache_open(struct pcache *pc, void *base, size_t bytes, uint32_t max_entries, char *err,
		size_t errlen)
{
	long crash_after = pc->crash_after;
	void (*crash)(void *) = pc->crash;
	void *crash_arg = pc->crash_arg;
	struct layout l;
	int used;

	memset(pc, 0, sizeof(*pc));
	pc->crash_after = crash_after;
	pc->crash = crash;
	pc->crash_arg = crash_arg;
	layout_of(max_entries, &l);
	if (bytes < l.total) {
		snprintf(err, errlen, "flow cache region of %zu bytes, %zu needed for %u flows",
			 bytes, l.total, max_entries);
		return -EINVAL;
	}
	pc->base = base;
	pc->bytes = bytes;
	pc->max_entries = max_entries;
	pc->h = base;
	pc->u = (void *)((char *)base + l.undo);
	pc->jb = (void *)((char *)base + l.jb);
	pc->jkeys = (void *)((char *)base + l.jkeys);
	pc->jvals = (void *)((char *)base + l.jvals);
	pc->outbox = (void *)((char *)base + l.outbox);
	pc->pool = (void *)((char *)base + l.pool);
	used = pc->h->magic != 0;
	if (!used) {
		pc->jb->out_batch = EPOCH_BATCH_NONE;
		pc->h->layout = layout_id();
		pc->h->max_entries = max_entries;
		barrier();
		pc->h->magic = PCACHE_MAGIC;
		return 0;
	}
	if (pc->h->magic != PCACHE_MAGIC || pc->h->layout != layout_id() ||
	    pc->h->max_entries != max_entries) {
		snprintf(err, errlen,
			 "the pinned flow cache was left by another nsflow build or for %u flows, "
			 "not %u",
			 pc->h->max_entries, max_entries);
		return -ESTALE;
	}
	recover(pc);
	return 1;
}

void pcache_begin(struct pcache *pc, enum pcache_kind kind, uint64_t arg)
{
	struct pcache_undo *u = pc->u;

	if (pcache_outbox_room(pc) < PCACHE_TXN_RECORDS && pc->need_room)
		pc->need_room(pc->room_arg);
	/* the previous transaction is finished: its images are of no more use */
	u->txn = 0;
	pcache_step(pc);
	u->kind = kind;
	u->arg = arg;
	u->n = 0;
	u->outbox_n = pc->h->outbox_n;
	pcache_step(pc);
	u->txn = pc->h->committed + 1;
	pcache_step(pc);
}

void pcache_touch(struct pcache *pc, struct flow_entry *e)
{
	struct pcache_undo *u = pc->u;
	uint32_t slot = (uint32_t)(e - pc->pool), n = u->n;

	if (!u->txn || slot >= pc->max_entries)
		return;
	for (uint32_t i = 0; i < n; i++)
		if (u->slot[i] == slot)
			return;
	if (n == PCACHE_UNDO) {
		/* cannot happen: no change touches more entries; would break the rollback */
		fprintf(stderr, "nsflow: transaction touches more than %d flows\n", PCACHE_UNDO);
		return;
	}
	u->img[n] = *e;
	u->slot[n] = slot;
	pcache_step(pc);
	u->n = n + 1;
	pcache_step(pc);
}

void pcache_commit(struct pcache *pc)
{
	struct pcache_undo *u = pc->u;

	pcache_step(pc);
	pc->h->committed = u->txn;
	pcache_step(pc);
	finish(pc, u);
	pc->txns++;
}

struct ns_record *pcache_outbox_add(struct pcache *pc)
{
	struct ns_record *r;

	if (pc->h->outbox_n >= PCACHE_OUTBOX)
		return NULL;
	r = &pc->outbox[pc->h->outbox_n];
	memset(r, 0, sizeof(*r));
	/* the record is written by the caller within the same transaction: the count going up
	 * first is harmless, a rollback puts it back */
	pc->h->outbox_n++;
	return r;
}

static uint64_t url_hash(const char *url)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *url; url++)
		h = (h ^ (uint8_t)*url) * 1099511628211ull;
	return h ? h : 1;
}

int pcache_sink_slot(struct pcache *pc, const char *url)
{
	uint64_t h = url_hash(url);
	int free_slot = -1;

	for (int i = 0; i < PCACHE_SINKS; i++) {
		if (pc->h->sinks[i].url_hash == h)
			return i;
		if (!pc->h->sinks[i].url_hash && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -ENOSPC;
	pc->h->sinks[free_slot].sent = 0;
	pcache_step(pc);
	pc->h->sinks[free_slot].url_hash = h;
	return free_slot;
}

uint32_t pcache_sink_pending(const struct pcache *pc, int slot, uint32_t *from)
{
	uint32_t sent = slot >= 0 ? pc->h->sinks[slot].sent : 0, n = pc->h->outbox_n;

	*from = sent < n ? sent : n;
	return n - *from;
}

void pcache_sink_sent(struct pcache *pc, int slot)
{
	if (slot < 0)
		return;
	pcache_step(pc);
	/* the records leave right after this store, in one system call */
	pc->h->sinks[slot].sent = pc->h->outbox_n;
}

void pcache_outbox_clear(struct pcache *pc)
{
	pcache_step(pc);
	pc->h->outbox_n = 0;
	pcache_step(pc);
	for (int i = 0; i < PCACHE_SINKS; i++)
		pc->h->sinks[i].sent = 0;
	pcache_step(pc);
}

void pcache_drain_start(struct pcache *pc)
{
	struct epoch_batch *b = pc->jb;

	/* whatever batch was there is merged: forget it before anything else */
	b->out_batch = EPOCH_BATCH_NONE;
	pcache_step(pc);
	b->started = 0;
	b->done = 0;
	pcache_step(pc);
}

void pcache_batch_begin(struct pcache *pc)
{
	/* the last transaction is finished: a successor must not finish it again on the new
	 * batch (its "applied" would skip entries of this one) */
	pc->u->txn = 0;
	pcache_step(pc);
	/* in this order: a successor must never take the last batch for a new one */
	pc->jb->out_batch = EPOCH_BATCH_NONE;
	pcache_step(pc);
	pc->h->applied = 0;
	pcache_step(pc);
}

long pcache_take_batch(struct pcache *pc, int map_fd)
{
	long n;

	if (pc->jb->done)
		return 0;
	pcache_batch_begin(pc);
	/* the kernel deletes the entries and writes them, their count and out_batch into the
	 * region within this one call: no kill falls in between */
	n = epoch_take_batch(map_fd, pc->jb, pc->jkeys, pc->jvals, PCACHE_BATCH);
	pcache_step(pc);
	return n;
}

static void begin_entry(void *arg, uint32_t i)
{
	pcache_begin(arg, PCACHE_TXN_JOURNAL, i);
}

static void commit_entry(void *arg, uint32_t i)
{
	(void)i;
	pcache_commit(arg);
}

size_t pcache_apply_batch(struct pcache *pc, struct flow_cache *cache, uint64_t now_ns)
{
	struct epoch_batch *b = pc->jb;
	uint32_t n;
	size_t merged;

	if (b->out_batch == EPOCH_BATCH_NONE)
		return 0; /* no batch taken since the last one was merged */
	n = b->attr.batch.count < PCACHE_BATCH ? b->attr.batch.count : PCACHE_BATCH;
	merged = flow_cache_merge_batch(cache, pc->jkeys, pc->jvals, pc->h->applied, n, now_ns,
					begin_entry, commit_entry, pc);
	epoch_batch_next(b);
	pcache_step(pc);
	return merged;
}
