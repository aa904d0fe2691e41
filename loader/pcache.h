/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's state that must outlive it: the flow cache's entries, the drain batch being
 * merged, and the records on their way to the collectors, in one flat region. The agent maps
 * the region from a pinned BPF array (nsflow_cache), so that an agent killed with -9 leaves it
 * all to its successor; there is no second copy to keep in step.
 *
 * Every change to the region is a small transaction: merging one drained entry, one ring-buffer
 * event, or aging one flow. Before a transaction writes to an entry it saves the entry's image
 * in an undo area; one 8-byte store of its number makes it count. A successor rolls an
 * unfinished transaction back, so the region always holds what the last committed one left:
 * each drained entry is in the cache exactly once, each exported period is in the outbox exactly
 * once. Records leave the outbox in one system call per collector right after the note that
 * they did (see ns_sink_set_commit), so a kill either sends them or leaves them for the
 * successor.
 *
 * Pure C: the region may be any memory (the unit tests use the heap, and stop a transaction
 * after any step to play a kill).
 */
#ifndef NSFLOW_PCACHE_H
#define NSFLOW_PCACHE_H

#include <stddef.h>
#include <stdint.h>
#include "epoch.h"
#include "flow_cache.h"
#include "record.h"

#define PCACHE_MAGIC	   0x6e73666c6f776331ull /* "nsflowc1" */
#define PCACHE_BATCH	   4096			 /* drained entries per batch */
#define PCACHE_OUTBOX	   4096			 /* records sent to the collectors at once */
#define PCACHE_TXN_RECORDS 64			 /* outbox room a transaction may need */
#define PCACHE_UNDO	   8			 /* entries one transaction may change */
#define PCACHE_SINKS	   16			 /* collectors whose progress is kept */

enum pcache_kind {
	PCACHE_TXN_JOURNAL = 1, /* merge drained entry arg of the batch */
	PCACHE_TXN_EVENT,	/* merge a ring-buffer event; arg: the ring position after it */
	PCACHE_TXN_AGE,		/* export and age flows */
};

struct pcache_sink {
	uint64_t url_hash; /* which collector, by its URL */
	uint32_t sent;	   /* outbox records it has been given */
	uint32_t _pad;
};

struct pcache_header {
	uint64_t magic;
	uint32_t layout; /* sizes of what the region holds: a region of another build is refused */
	uint32_t max_entries;
	uint64_t committed; /* number of the last committed transaction */
	uint32_t outbox_n;  /* records in the outbox */
	uint32_t applied;   /* entries of the drain batch merged so far */
	struct pcache_sink sinks[PCACHE_SINKS];
};

struct pcache_undo {
	uint64_t txn; /* the transaction these images belong to; 0: none */
	uint64_t arg;
	uint32_t kind;	   /* enum pcache_kind */
	uint32_t n;	   /* images saved */
	uint32_t outbox_n; /* outbox records before the transaction */
	uint32_t slot[PCACHE_UNDO];
	uint32_t _pad;
	struct flow_entry img[PCACHE_UNDO];
};

struct pcache {
	void *base;
	size_t bytes;
	uint32_t max_entries;
	struct pcache_header *h;
	struct pcache_undo *u;
	struct epoch_batch *jb; /* the drain batch: kernel-written */
	struct nsflow_slot_key *jkeys;
	struct nsflow_value *jvals;
	struct ns_record *outbox;
	struct flow_entry *pool;
	uint64_t *ring_consumer; /* where an event transaction's position goes, if any */
	uint64_t event_pos;	 /* a committed event's position not yet stored there */
	uint64_t txns, rolled_back;
	/* called before a transaction when the outbox has less than PCACHE_TXN_RECORDS room */
	void (*need_room)(void *arg);
	void *room_arg;
	/* tests: >0 stops the agent at that many steps from now (see pcache_step) */
	long crash_after;
	void (*crash)(void *arg);
	void *crash_arg;
};

/* Bytes a region for max_entries flows takes. */
size_t pcache_bytes(uint32_t max_entries);

/*
 * Lays the region out over base. An all-zero region is new; one a previous agent used is
 * checked and brought back to its last committed transaction. Returns 1 when it held state, 0
 * when new, or -errno with the reason in err (a region of another size or build).
 */
int pcache_open(struct pcache *pc, void *base, size_t bytes, uint32_t max_entries, char *err,
		size_t errlen);

/* A transaction: begin, touch every entry before changing it, commit. */
void pcache_begin(struct pcache *pc, enum pcache_kind kind, uint64_t arg);
void pcache_touch(struct pcache *pc, struct flow_entry *e);
void pcache_commit(struct pcache *pc);
/* Within a transaction: room for one more record in the outbox (NULL when full). */
struct ns_record *pcache_outbox_add(struct pcache *pc);
/* Outbox room left. */
static inline uint32_t pcache_outbox_room(const struct pcache *pc)
{
	return PCACHE_OUTBOX - pc->h->outbox_n;
}

/* The outbox slot of a collector, by its URL (a new one gets a free slot: all records). */
int pcache_sink_slot(struct pcache *pc, const char *url);
/* Records the collector in slot has still to be given, from *from on. */
uint32_t pcache_sink_pending(const struct pcache *pc, int slot, uint32_t *from);
/* Marks everything in the outbox as given to the collector in slot. */
void pcache_sink_sent(struct pcache *pc, int slot);
/* Every collector had everything: empty the outbox. */
void pcache_outbox_clear(struct pcache *pc);

/* Starts a new drain walk (the previous one finished or was abandoned). */
void pcache_drain_start(struct pcache *pc);
/* Before a batch is written into the region (what pcache_take_batch does first). */
void pcache_batch_begin(struct pcache *pc);
/* Takes the next batch of map_fd into the region; entries left to merge, 0 at the end, or
 * -errno. */
long pcache_take_batch(struct pcache *pc, int map_fd);
/* Merges what is left of the batch into cache, one transaction per entry. */
size_t pcache_apply_batch(struct pcache *pc, struct flow_cache *cache, uint64_t now_ns);

/* A step boundary; tests make the agent stop at one (a kill between two steps). */
void pcache_step(struct pcache *pc);

#endif
