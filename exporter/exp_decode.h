/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A strict reader of what the encoders write, for tests and self-checks: it learns templates,
 * checks every length, count and padding the way strict collectors do, and hands each data
 * record to a callback with its template so fields can be looked up by element id.
 */
#ifndef NSFLOW_EXP_DECODE_H
#define NSFLOW_EXP_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "ie.h"

#define NS_DEC_TEMPLATES 64
#define NS_DEC_FIELDS	 64

struct ns_dec_tmpl {
	uint16_t id;
	uint16_t n_fields;
	uint16_t n_scope;
	uint16_t type[NS_DEC_FIELDS];
	uint16_t len[NS_DEC_FIELDS];
};

struct ns_dec_record {
	const struct ns_dec_tmpl *tmpl;
	const uint8_t *data;
	size_t len;
};

struct ns_decoder {
	enum ns_proto proto;
	struct ns_dec_tmpl t[NS_DEC_TEMPLATES];
	unsigned int n_tmpl;
	void (*on_record)(void *arg, const struct ns_dec_record *r);
	void *arg;
	/* totals over every message decoded */
	uint64_t messages, templates, option_templates, data_records;
	/* header fields of the last message */
	uint32_t seq, domain, export_secs, uptime_ms;
	uint16_t count;		   /* v9, v5 */
	uint32_t msg_data_records; /* in the last message */
};

void ns_decoder_init(struct ns_decoder *d, enum ns_proto proto);

/* Decode one message; 0, or -EBADMSG with what is wrong in @err */
int ns_decode(struct ns_decoder *d, const uint8_t *msg, size_t len, char *err, size_t errlen);

/* The value of field @type in record @r (its length in *len), or NULL if it has none */
const uint8_t *ns_dec_field(const struct ns_dec_record *r, uint16_t type, size_t *len);

/* Big-endian unsigned value of field @type, or @dflt when absent */
uint64_t ns_dec_uint(const struct ns_dec_record *r, uint16_t type, uint64_t dflt);

/* Every message an encoder emits, kept in memory */
struct ns_capture {
	uint8_t **msg;
	size_t *len;
	size_t n, cap;
	uint64_t flow_records;
	int fail; /* make the next emit calls fail with -ECONNREFUSED */
};

/* An ns_emit_fn storing into the struct ns_capture @arg */
int ns_capture_emit(void *arg, const uint8_t *msg, size_t len, uint32_t flow_records);
void ns_capture_free(struct ns_capture *c);

#endif /* NSFLOW_EXP_DECODE_H */
