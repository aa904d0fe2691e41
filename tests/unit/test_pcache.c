// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The persistent cache's transactions against a fake kernel: an agent that drains a table in
 * batches, merges, ages, and hands records to a collector, killed after step k for every k of
 * the run (and killed again while it recovers), then restarted on the same region. Whatever k,
 * the collector ends up with every packet exactly once.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include "pcache.h"

#define SEC	 1000000000ULL
#define FLOWS	 24
#define CAP	 16 /* fewer than FLOWS: merges evict the oldest flow (lack of resources) */
#define PHASES	 4
#define TAKE	 5 /* entries per batch */
#define MAX_ITEM (FLOWS * 2 * PHASES)
#define URL	 "ipfix://192.0.2.1:4739"

struct item {
	struct nsflow_slot_key k;
	struct nsflow_value v;
};

struct sim {
	void *region;
	size_t bytes;
	struct pcache pc;
	struct flow_cache *c;
	int slot;
	/* the fake kernel: entries counted and not yet drained */
	struct item table[MAX_ITEM];
	size_t head, n;
	int phase, loaded;
	/* the collector */
	uint64_t packets[FLOWS], octets[FLOWS], records;
	/* what was counted */
	uint64_t want_packets[FLOWS], want_octets[FLOWS];
	long steps_left; /* of the last life's allowance */
	jmp_buf kill;
};

static void killed(void *arg)
{
	longjmp(((struct sim *)arg)->kill, 1);
}

static struct nsflow_key key_of(int flow)
{
	struct nsflow_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = 3;
	k.ip_version = 4;
	k.protocol = 17;
	k.src_addr[10] = k.src_addr[11] = 0xff;
	k.src_addr[12] = 10;
	k.src_addr[15] = (uint8_t)flow;
	k.dst_addr[10] = k.dst_addr[11] = 0xff;
	k.dst_addr[12] = 10;
	k.dst_addr[15] = 200;
	k.src_port = (uint16_t)(1000 + flow);
	k.dst_port = 53;
	return k;
}

/* The collector: one send of what the outbox holds past this collector's progress. */
static void send_outbox(struct sim *s)
{
	struct pcache *pc = &s->pc;
	uint32_t from, n = pcache_sink_pending(pc, s->slot, &from);

	if (n) {
		pcache_sink_sent(pc, s->slot);
		/* the send: one system call, all or nothing */
		for (uint32_t i = from; i < from + n; i++) {
			const struct ns_record *r = &pc->outbox[i];
			int flow = r->src_addr[15];

			cr_assert_lt(flow, FLOWS);
			s->packets[flow] += r->packets;
			s->octets[flow] += r->octets;
			s->records++;
		}
	}
	pcache_outbox_clear(pc);
}

static void room(void *arg)
{
	send_outbox(arg);
}

static void export_record(void *arg, const struct flow_entry *e, uint8_t reason)
{
	struct sim *s = arg;
	struct ns_record *r = pcache_outbox_add(&s->pc);

	cr_assert_not_null(r, "a transaction started without outbox room");
	flow_entry_to_record(e, reason, 0, r);
}

static void txn_begin(void *arg)
{
	pcache_begin(arg, PCACHE_TXN_AGE, 0);
}

static void txn_touch(void *arg, struct flow_entry *e)
{
	pcache_touch(arg, e);
}

static void txn_commit(void *arg)
{
	pcache_commit(arg);
}

/* Starts (or restarts) the agent on the region; returns what pcache_open said. */
static int agent_start(struct sim *s)
{
	struct flow_cache_opts o = {
		.active_ns = 3 * SEC, .inactive_ns = 2 * SEC, .max_entries = CAP, .counter_bits = 64
	};
	struct flow_cache_txn t = { txn_begin, txn_touch, txn_commit, &s->pc };
	char err[256];
	int ret = pcache_open(&s->pc, s->region, s->bytes, CAP, err, sizeof(err));

	cr_assert_geq(ret, 0, "%s", err);
	s->pc.need_room = room;
	s->pc.room_arg = s;
	o.pool = s->pc.pool;
	cr_assert_eq(flow_cache_new(&s->c, &o), 0);
	flow_cache_set_export(s->c, export_record, s);
	flow_cache_set_txn(s->c, &t);
	s->slot = pcache_sink_slot(&s->pc, URL);
	cr_assert_geq(s->slot, 0);
	return ret;
}

/* Traffic of a phase: each flow on one or two CPUs, some flows quiet in some phases. */
static void count_phase(struct sim *s, int p)
{
	for (int f = 0; f < FLOWS; f++) {
		if ((f + p) % 5 == 0)
			continue;
		for (uint32_t cpu = 0; cpu < (f % 3 == 0 ? 2u : 1u); cpu++) {
			struct item *it = &s->table[s->head + s->n++];
			uint64_t t = (uint64_t)(p * 2 + 1) * SEC + cpu * 1000;

			memset(it, 0, sizeof(*it));
			it->k.flow = key_of(f);
			it->k.cpu = cpu;
			it->v.packets = (uint64_t)(p + 1) * (f + 1) + cpu;
			it->v.octets = it->v.packets * 100;
			it->v.first_ns = t;
			it->v.last_ns = t + SEC / 2;
			it->v.min_ttl = it->v.max_ttl = 64;
			it->v.min_len = it->v.max_len = 100;
			s->want_packets[f] += it->v.packets;
			s->want_octets[f] += it->v.octets;
		}
	}
}

/* What the kernel does in one lookup-and-delete call: atomic as far as a kill goes. */
static void kernel_take(struct sim *s)
{
	struct epoch_batch *b = s->pc.jb;
	uint32_t n = s->n < TAKE ? (uint32_t)s->n : TAKE;

	for (uint32_t i = 0; i < n; i++) {
		s->pc.jkeys[i] = s->table[s->head + i].k;
		s->pc.jvals[i] = s->table[s->head + i].v;
	}
	s->head += n;
	s->n -= n;
	b->attr.batch.count = n;
	b->out_batch = s->head;
	if (!s->n)
		b->done = 1;
}

/* The agent's work from wherever it (re)starts: recovery, then the phases left. */
static void agent_run(struct sim *s)
{
	/* what a killed agent left: the batch it was merging, the records it was sending */
	pcache_apply_batch(&s->pc, s->c, 0);
	send_outbox(s);
	for (; s->phase < PHASES; s->phase++) {
		uint64_t now = (uint64_t)(s->phase * 2 + 2) * SEC;

		if (s->loaded <= s->phase) {
			count_phase(s, s->phase);
			s->loaded = s->phase + 1;
		}
		pcache_drain_start(&s->pc);
		while (!s->pc.jb->done) {
			pcache_batch_begin(&s->pc);
			kernel_take(s);
			pcache_step(&s->pc);
			pcache_apply_batch(&s->pc, s->c, now);
		}
		flow_cache_expire(s->c, now, export_record, s);
		send_outbox(s);
	}
	flow_cache_flush(s->c, NS_END_FORCED, export_record, s);
	send_outbox(s);
}

static void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	s->bytes = pcache_bytes(CAP);
	s->region = calloc(1, s->bytes);
	cr_assert_not_null(s->region);
}

static void sim_free(struct sim *s)
{
	flow_cache_free(s->c);
	free(s->region);
}

/*
 * One life of the agent that may be cut short after `steps` steps (0: never). Returns 1 if it
 * was killed.
 */
static int live(struct sim *s, long steps)
{
	volatile int was_killed = 0;

	if (setjmp(s->kill)) {
		was_killed = 1;
	} else {
		/* from the first step on: the recovery itself may be cut short */
		s->pc.crash_after = steps;
		s->pc.crash = killed;
		s->pc.crash_arg = s;
		agent_start(s);
		agent_run(s);
	}
	s->steps_left = s->pc.crash_after;
	s->pc.crash_after = 0;
	flow_cache_free(s->c);
	s->c = NULL;
	return was_killed;
}

static void check(const struct sim *s, const char *what)
{
	for (int f = 0; f < FLOWS; f++) {
		cr_assert_eq(s->packets[f], s->want_packets[f],
			     "%s: flow %d has %llu packets of %llu", what, f,
			     (unsigned long long)s->packets[f],
			     (unsigned long long)s->want_packets[f]);
		cr_assert_eq(s->octets[f], s->want_octets[f], "%s: flow %d octets", what, f);
	}
}

/* Steps of a whole run that is never killed. */
static long steps_of_a_run(void)
{
	struct sim s;
	long steps;

	sim_init(&s);
	cr_assert_eq(live(&s, LONG_MAX), 0);
	steps = LONG_MAX - s.steps_left;
	check(&s, "a run without a kill");
	cr_assert_gt(s.records, FLOWS, "flows were exported more than once each (aging)");
	sim_free(&s);
	return steps;
}

Test(pcache, a_run_without_a_kill_delivers_every_packet_once)
{
	long steps = steps_of_a_run();

	cr_assert_gt(steps, 500, "the run has %ld steps", steps);
}

Test(pcache, a_kill_after_any_step_loses_nothing_and_counts_nothing_twice, .timeout = 120)
{
	struct sim s;
	long total = 0, steps;

	steps = steps_of_a_run();
	for (long k = 1; k <= steps; k++) {
		char what[64];
		int lives = 0;

		sim_init(&s);
		cr_assert_eq(live(&s, k), 1, "a kill after step %ld of %ld", k, steps);
		/* killed again while recovering, then left to finish */
		lives += live(&s, k % 7 + 1);
		while (live(&s, 0))
			lives++;
		snprintf(what, sizeof(what), "killed after step %ld (and %d more)", k, lives);
		check(&s, what);
		total += s.pc.rolled_back;
		sim_free(&s);
	}
	cr_assert_gt(total, 0, "some kills fell inside a transaction and were rolled back");
}

Test(pcache, a_region_of_another_size_is_refused)
{
	size_t bytes = pcache_bytes(CAP * 2);
	void *region = calloc(1, bytes);
	struct pcache pc;
	char err[256];

	cr_assert_eq(pcache_open(&pc, region, bytes, CAP * 2, err, sizeof(err)), 0,
		     "new: formatted");
	cr_assert_eq(pcache_open(&pc, region, bytes, CAP * 2, err, sizeof(err)), 1, "used: taken");
	cr_assert_eq(pcache_open(&pc, region, bytes, CAP, err, sizeof(err)), -ESTALE);
	cr_assert(strstr(err, "for 32 flows, not 16"), "%s", err);
	cr_assert_eq(pcache_open(&pc, region, 100, CAP, err, sizeof(err)), -EINVAL);
	free(region);
}
