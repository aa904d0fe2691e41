/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An export session without I/O: turns records into NetFlow v5, v9 or IPFIX messages no
 * larger than the MTU, with sequence numbers, template and options refresh, and hands each
 * finished message to a callback. Sinks add the transport; tests and the bench use it bare.
 */
#ifndef NSFLOW_EXP_ENCODER_H
#define NSFLOW_EXP_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "ie.h"
#include "exp_msg.h"
#include "record.h"
#include "sink.h"
#include "exp_template.h"

/* The largest record (routed IPv6 over MPLS under an SRH of 8 segments, the list in all three
 * RFC 9487 encodings: 591 bytes) with its template (184) and the headers fits in one message */
#define NS_MTU_MIN 1024
#define NS_MTU_MAX 65535

/* Called with each finished message and the flow records it carries; 0 or -errno */
typedef int (*ns_emit_fn)(void *arg, const uint8_t *msg, size_t len, uint32_t flow_records);

struct ns_encoder_stats {
	uint64_t messages;	 /* handed to the callback */
	uint64_t flow_records;	 /* in those messages */
	uint64_t templates;	 /* template and options template records */
	uint64_t not_exportable; /* records this protocol cannot carry (v5: not IPv4) */
	uint64_t emit_errors;	 /* callback failures */
	uint64_t emit_dropped;	 /* flow records in messages the callback failed to take */
};

struct ns_encoder {
	enum ns_proto proto;
	uint32_t domain;
	uint32_t refresh_packets; /* 0: no refresh by packet count */
	uint64_t refresh_ms;	  /* 0: no refresh by time */
	int reliable;		  /* TCP, file: templates once per session (RFC 7011 8) */
	const struct ns_export_context *ctx;
	ns_emit_fn emit;
	void *emit_arg;

	struct ns_tmpl_set *tmpls; /* NULL for v5 */
	struct ns_msg msg;
	uint64_t now_ms;
	uint32_t seq;	    /* IPFIX: data records sent; v9: messages; v5: flows */
	int templates_sent; /* on this session */
	/* templates sent since the last refresh, bit per id - 256 */
	uint64_t announced[(NS_TMPL_COUNT + 63) / 64];
	int refresh_due;
	uint32_t options_gen; /* ctx->options_gen when options data last went out */
	uint32_t msgs_since_refresh;
	uint64_t last_refresh_ms;
	uint16_t v5_sampling; /* sampling field of the v5 message being built */
	uint32_t v5_max;      /* records per v5 message */
	struct ns_encoder_stats stats;
};

/*
 * Set up @enc for @proto with the MTU, domain and refresh settings of @opts. @reliable marks
 * a transport that keeps templates (TCP, file). 0, or -EINVAL for a bad setting, -ENOMEM.
 */
int ns_encoder_init(struct ns_encoder *enc, enum ns_proto proto, const struct ns_export_opts *opts,
		    const struct ns_export_context *ctx, int reliable, ns_emit_fn emit, void *arg);
void ns_encoder_free(struct ns_encoder *enc);

/* Encode @n records; full messages are emitted, the last partial one stays until flush */
int ns_encoder_add(struct ns_encoder *enc, const struct ns_record *recs, size_t n, uint64_t now_ms);
/* Emit the partial message, if any */
int ns_encoder_flush(struct ns_encoder *enc, uint64_t now_ms);
/* Time-based template/options refresh: sends them now when due, then flushes */
int ns_encoder_tick(struct ns_encoder *enc, uint64_t now_ms);
/* Send templates and options with the next message (and now, if @now_ms is not 0) */
int ns_encoder_refresh(struct ns_encoder *enc, uint64_t now_ms);
/*
 * A new transport session (TCP reconnect): sequence numbers restart, templates go first.
 * The partial message belongs to the old session and is dropped: returns its flow records.
 */
uint32_t ns_encoder_restart(struct ns_encoder *enc);

/* NetFlow v5 (v5.c) */
#define NS_V5_HDR_LEN	  24
#define NS_V5_REC_LEN	  48
#define NS_V5_MAX_RECORDS 30
uint16_t ns_v5_sampling_field(uint32_t sampling_interval);
void ns_v5_put_record(uint8_t *d, const struct ns_record *r, uint64_t boot_ms);
void ns_v5_put_header(uint8_t *d, uint16_t count, uint64_t now_ms, uint64_t boot_ms,
		      uint32_t flow_seq, uint32_t domain, uint16_t sampling);

#endif /* NSFLOW_EXP_ENCODER_H */
