/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every sink type shares; private to exporter/sink*.c. */
#ifndef NSFLOW_SINK_PRIV_H
#define NSFLOW_SINK_PRIV_H

#include "exp_encoder.h"
#include "exp_errf.h"
#include "sink.h"
#include "exp_url.h"

struct ns_sink_ops {
	int (*write)(struct ns_sink *s, const struct ns_record *recs, size_t n, uint64_t now_ms);
	int (*tick)(struct ns_sink *s, uint64_t now_ms);
	int (*flush)(struct ns_sink *s, uint64_t now_ms);
	void (*destroy)(struct ns_sink *s); /* after a last flush: release everything */
	/* optional: wait up to @timeout_ms for queued data to leave; returns records left */
	uint64_t (*finish)(struct ns_sink *s, uint64_t now_ms, int timeout_ms);
	int commits_itself; /* flush calls ns_sink_commit() itself, right before sending */
};

struct ns_sink {
	const struct ns_sink_ops *ops;
	char *url;
	struct ns_export_opts opts;
	const struct ns_export_context *ctx;
	struct ns_sink_stats stats;
	uint64_t now_ms; /* latest time the agent gave */
	int has_enc;
	struct ns_encoder enc; /* v5, v9, IPFIX sinks */
	ns_commit_fn commit;   /* see ns_sink_set_commit() */
	void *commit_arg;
};

/* What was written since the last flush is about to leave */
static inline void ns_sink_commit(struct ns_sink *s)
{
	if (s->commit)
		s->commit(s->commit_arg);
}

/*
 * Constructors: allocate the type's struct, copy @base (url, opts, ctx set) into its first
 * member, set up the transport and return it in *out; or return -errno with a message in
 * @err. @source_addr is opts.source_addr, valid only during the call.
 */
int ns_sink_udp_open(struct ns_sink **out, const struct ns_sink *base, const struct ns_url *u,
		     const char *source_addr, char *err, size_t errlen);
int ns_sink_tcp_open(struct ns_sink **out, const struct ns_sink *base, const struct ns_url *u,
		     const char *source_addr, char *err, size_t errlen);
int ns_sink_file_open(struct ns_sink **out, const struct ns_sink *base, const struct ns_url *u,
		      char *err, size_t errlen);

/*
 * Allocate a sink type of @size bytes whose first member is struct ns_sink, as a copy of
 * @base answering @ops; NULL with a message in @err when memory is short.
 */
void *ns_sink_alloc(size_t size, const struct ns_sink *base, const struct ns_sink_ops *ops,
		    char *err, size_t errlen);

/* Account one message handed to the transport: sent, or lost with its flow records */
static inline void ns_sink_count(struct ns_sink *s, int ok, uint32_t flow_records, size_t bytes)
{
	if (ok) {
		s->stats.messages_sent++;
		s->stats.bytes_sent += bytes;
		s->stats.records_sent += flow_records;
	} else {
		s->stats.send_errors++;
		s->stats.records_dropped += flow_records;
	}
}

/* The transport works again (or still does) */
static inline void ns_sink_up(struct ns_sink *s)
{
	if (s->stats.state != NS_SINK_UP)
		s->stats.state_since_ms = s->now_ms;
	s->stats.state = NS_SINK_UP;
	s->stats.connected = 1;
}

/* The transport failed with errno @err (positive): down for a collector, error for a file */
static inline void ns_sink_fail(struct ns_sink *s, enum ns_sink_state st, int err)
{
	if (s->stats.state != st)
		s->stats.state_since_ms = s->now_ms;
	s->stats.state = st;
	s->stats.connected = 0;
	s->stats.last_errno = err;
}

/* The encoder for sinks that speak v5/v9/IPFIX, with the sink's options and context */
static inline int ns_sink_encoder_init(struct ns_sink *s, enum ns_proto proto, int reliable,
				       ns_emit_fn emit)
{
	int err = ns_encoder_init(&s->enc, proto, &s->opts, s->ctx, reliable, emit, s);

	s->has_enc = !err;
	return err;
}

#endif /* NSFLOW_SINK_PRIV_H */
