/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One export message under construction: a header left blank until the message is closed,
 * then sets (IPFIX) or FlowSets (v9), which share one layout: a 16-bit id, a 16-bit length
 * that includes the 4-byte set header, records, and padding to the set alignment.
 */
#ifndef NSFLOW_EXP_MSG_H
#define NSFLOW_EXP_MSG_H

#include <stdint.h>

#define NS_SET_HDR_LEN 4

struct ns_msg {
	uint8_t *buf;
	uint32_t cap;	  /* the message never grows past this (the MTU) */
	uint32_t len;	  /* bytes used, header included */
	uint32_t set_off; /* offset of the open set's header, 0 when none is open */
	uint16_t set_id;
	uint16_t hdr_len;   /* message header: 16 IPFIX, 20 v9, 24 v5 */
	uint8_t align;	    /* sets are padded to this many bytes: 4 for v9, 1 for IPFIX */
	uint32_t n_records; /* every record: v9 header count */
	uint32_t n_data;    /* data records, options data included: IPFIX sequence */
	uint32_t n_flows;   /* flow records only: sink statistics */
	uint32_t n_templates;
};

void ns_msg_init(struct ns_msg *m, uint8_t *buf, uint32_t cap, uint16_t hdr_len, uint8_t align);

/* Forget the content, keep the buffer */
void ns_msg_reset(struct ns_msg *m);

static inline int ns_msg_empty(const struct ns_msg *m)
{
	return m->len == m->hdr_len;
}

/*
 * Room for one @rec_len-byte record in a set @set_id, opening that set (and closing the
 * previous one) when needed. Returns where to write the record, or NULL when the message
 * has no room left for it, padding included; the message is then unchanged.
 */
uint8_t *ns_msg_add(struct ns_msg *m, uint16_t set_id, uint32_t rec_len);

/* Write the open set's length and padding; call before the message header is written */
void ns_msg_close_set(struct ns_msg *m);

static inline void ns_put16(uint8_t *d, uint16_t v)
{
	d[0] = v >> 8;
	d[1] = v;
}

static inline void ns_put32(uint8_t *d, uint32_t v)
{
	d[0] = v >> 24;
	d[1] = v >> 16;
	d[2] = v >> 8;
	d[3] = v;
}

static inline void ns_put64(uint8_t *d, uint64_t v)
{
	ns_put32(d, v >> 32);
	ns_put32(d + 4, v);
}

static inline uint16_t ns_get16(const uint8_t *d)
{
	return (uint16_t)(d[0] << 8 | d[1]);
}

static inline uint32_t ns_get32(const uint8_t *d)
{
	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

#endif /* NSFLOW_EXP_MSG_H */
