// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Export message and set framing, shared by the IPFIX and NetFlow v9 encoders. */
#include <string.h>

#include "exp_msg.h"

void ns_msg_init(struct ns_msg *m, uint8_t *buf, uint32_t cap, uint16_t hdr_len, uint8_t align)
{
	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->cap = cap;
	m->hdr_len = hdr_len;
	m->align = align ? align : 1;
	ns_msg_reset(m);
}

void ns_msg_reset(struct ns_msg *m)
{
	m->len = m->hdr_len;
	m->set_off = 0;
	m->set_id = 0;
	m->n_records = 0;
	m->n_data = 0;
	m->n_flows = 0;
	m->n_templates = 0;
}

static inline uint32_t pad_of(const struct ns_msg *m, uint32_t set_len)
{
	return (m->align - set_len % m->align) % m->align;
}

void ns_msg_close_set(struct ns_msg *m)
{
	uint32_t set_len, pad;

	if (!m->set_off)
		return;
	set_len = m->len - m->set_off;
	pad = pad_of(m, set_len);
	memset(m->buf + m->len, 0, pad);
	m->len += pad;
	ns_put16(m->buf + m->set_off + 2, set_len + pad);
	m->set_off = 0;
}

uint8_t *ns_msg_add(struct ns_msg *m, uint16_t set_id, uint32_t rec_len)
{
	uint32_t start, set_len;
	uint8_t *p;

	if (m->set_off && m->set_id == set_id) {
		set_len = m->len - m->set_off + rec_len;
		if (m->len + rec_len + pad_of(m, set_len) > m->cap)
			return NULL;
	} else {
		/* a new set starts after the open one's padding */
		start = m->len;
		if (m->set_off)
			start += pad_of(m, m->len - m->set_off);
		set_len = NS_SET_HDR_LEN + rec_len;
		if (start + set_len + pad_of(m, set_len) > m->cap)
			return NULL;
		ns_msg_close_set(m);
		m->set_off = m->len;
		m->set_id = set_id;
		ns_put16(m->buf + m->len, set_id);
		ns_put16(m->buf + m->len + 2, 0);
		m->len += NS_SET_HDR_LEN;
	}
	p = m->buf + m->len;
	m->len += rec_len;
	m->n_records++;
	return p;
}
