// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Strict decoding of IPFIX, v9 and v5 messages, as a collector would check them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_decode.h"
#include "exp_errf.h"
#include "exp_msg.h"

#define bad(err, errlen, ...) ns_errf(err, errlen, -EBADMSG, __VA_ARGS__)

void ns_decoder_init(struct ns_decoder *d, enum ns_proto proto)
{
	memset(d, 0, sizeof(*d));
	d->proto = proto;
}

static struct ns_dec_tmpl *find_tmpl(struct ns_decoder *d, uint16_t id)
{
	unsigned int i;

	for (i = 0; i < d->n_tmpl; i++)
		if (d->t[i].id == id)
			return &d->t[i];
	return NULL;
}

/* One (options) template record at @p, at most @left bytes; its length or -EBADMSG */
static int read_tmpl(struct ns_decoder *d, const uint8_t *p, size_t left, int options, char *err,
		     size_t errlen)
{
	struct ns_dec_tmpl t = { .id = ns_get16(p) };
	size_t hdr = options ? 6 : 4, i;
	struct ns_dec_tmpl *slot;

	if (left < hdr)
		return bad(err, errlen, "template record header cut short (%zu bytes)", left);
	if (t.id < 256)
		return bad(err, errlen, "template id %u below 256", t.id);
	if (!options) {
		t.n_fields = ns_get16(p + 2);
	} else if (d->proto == NS_PROTO_V9) {
		/* RFC 3954 6.1: lengths in bytes, each a multiple of 4 */
		if (ns_get16(p + 2) % 4 || ns_get16(p + 4) % 4)
			return bad(err, errlen,
				   "options template %u: scope/option length %u/%u "
				   "not a multiple of 4",
				   t.id, ns_get16(p + 2), ns_get16(p + 4));
		t.n_scope = ns_get16(p + 2) / 4;
		t.n_fields = t.n_scope + ns_get16(p + 4) / 4;
	} else {
		t.n_fields = ns_get16(p + 2);
		t.n_scope = ns_get16(p + 4);
		if (!t.n_scope || t.n_scope > t.n_fields)
			return bad(err, errlen, "options template %u: scope count %u of %u fields",
				   t.id, t.n_scope, t.n_fields);
	}
	if (!t.n_fields || t.n_fields > NS_DEC_FIELDS)
		return bad(err, errlen, "template %u: %u fields", t.id, t.n_fields);
	if (left < hdr + 4u * t.n_fields)
		return bad(err, errlen, "template %u: %u fields overrun the set", t.id, t.n_fields);
	for (i = 0; i < t.n_fields; i++) {
		t.type[i] = ns_get16(p + hdr + 4 * i);
		t.len[i] = ns_get16(p + hdr + 4 * i + 2);
		if (t.type[i] & 0x8000)
			return bad(err, errlen, "template %u: enterprise field", t.id);
		if (!t.len[i] || (d->proto == NS_PROTO_V9 && t.len[i] == NS_IE_VARLEN))
			return bad(err, errlen, "template %u: field %u length %u", t.id, t.type[i],
				   t.len[i]);
	}
	slot = find_tmpl(d, t.id);
	if (!slot) {
		if (d->n_tmpl == NS_DEC_TEMPLATES)
			return bad(err, errlen, "too many templates");
		slot = &d->t[d->n_tmpl++];
	}
	*slot = t;
	if (options)
		d->option_templates++;
	else
		d->templates++;
	return (int)(hdr + 4 * t.n_fields);
}

/* Length of one data record of @t at @p (at most @left bytes), 0 if it does not fit */
static size_t record_len(const struct ns_dec_tmpl *t, const uint8_t *p, size_t left)
{
	size_t off = 0, n, i;

	for (i = 0; i < t->n_fields; i++) {
		if (t->len[i] != NS_IE_VARLEN) {
			off += t->len[i];
		} else {
			if (off + 1 > left)
				return 0;
			n = p[off];
			off += 1;
			if (n == 255) {
				if (off + 2 > left)
					return 0;
				n = ns_get16(p + off);
				off += 2;
			}
			off += n;
		}
		if (off > left)
			return 0;
	}
	return off;
}

static size_t min_record_len(const struct ns_dec_tmpl *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_fields; i++)
		n += t->len[i] == NS_IE_VARLEN ? 1 : t->len[i];
	return n;
}

static int read_data_set(struct ns_decoder *d, uint16_t id, const uint8_t *p, size_t left,
			 char *err, size_t errlen)
{
	struct ns_dec_tmpl *t = find_tmpl(d, id);
	struct ns_dec_record r;
	size_t len;

	if (!t)
		return bad(err, errlen, "data set %u before its template", id);
	while (left) {
		/* what follows the last record must be padding shorter than any record */
		if (left < min_record_len(t)) {
			while (left--)
				if (*p++)
					return bad(err, errlen, "set %u: non-zero padding", id);
			return 0;
		}
		len = record_len(t, p, left);
		if (!len)
			return bad(err, errlen, "set %u: record overruns the set (%zu bytes left)",
				   id, left);
		r.tmpl = t;
		r.data = p;
		r.len = len;
		d->data_records++;
		d->msg_data_records++;
		if (d->on_record)
			d->on_record(d->arg, &r);
		p += len;
		left -= len;
	}
	return 0;
}

static int decode_v5(struct ns_decoder *d, const uint8_t *msg, size_t len, char *err, size_t errlen)
{
	if (len < 24 || ns_get16(msg) != 5)
		return bad(err, errlen, "not a v5 header");
	d->count = ns_get16(msg + 2);
	if (!d->count || d->count > 30 || len != 24u + 48u * d->count)
		return bad(err, errlen, "v5 count %u for %zu bytes", d->count, len);
	d->uptime_ms = ns_get32(msg + 4);
	d->export_secs = ns_get32(msg + 8);
	d->seq = ns_get32(msg + 16);
	d->msg_data_records = d->count;
	d->data_records += d->count;
	d->messages++;
	return 0;
}

int ns_decode(struct ns_decoder *d, const uint8_t *msg, size_t len, char *err, size_t errlen)
{
	int v9 = d->proto == NS_PROTO_V9;
	size_t hdr = v9 ? 20 : 16, off, set_len, n;
	uint64_t records = 0;
	uint16_t id;
	int ret;

	if (d->proto == NS_PROTO_V5)
		return decode_v5(d, msg, len, err, errlen);
	if (len < hdr || ns_get16(msg) != (v9 ? 9 : 10))
		return bad(err, errlen, "bad version or short header (%zu bytes)", len);
	if (!v9 && ns_get16(msg + 2) != len)
		return bad(err, errlen, "IPFIX length %u but message is %zu bytes",
			   ns_get16(msg + 2), len);
	d->msg_data_records = 0;
	if (v9) {
		d->count = ns_get16(msg + 2);
		d->uptime_ms = ns_get32(msg + 4);
		d->export_secs = ns_get32(msg + 8);
		d->seq = ns_get32(msg + 12);
		d->domain = ns_get32(msg + 16);
	} else {
		d->export_secs = ns_get32(msg + 4);
		d->seq = ns_get32(msg + 8);
		d->domain = ns_get32(msg + 12);
	}
	for (off = hdr; off < len; off += set_len) {
		if (len - off < 4)
			return bad(err, errlen, "%zu stray bytes after the last set", len - off);
		id = ns_get16(msg + off);
		set_len = ns_get16(msg + off + 2);
		if (set_len < 4 || set_len > len - off)
			return bad(err, errlen, "set %u length %zu at offset %zu (message %zu)", id,
				   set_len, off, len);
		if (v9 && set_len % 4)
			return bad(err, errlen, "v9 flowset %u length %zu not padded to 4", id,
				   set_len);
		if (id == (v9 ? 0 : 2) || id == (v9 ? 1 : 3)) {
			for (n = 4; set_len - n >= 4;) {
				ret = read_tmpl(d, msg + off + n, set_len - n, id == (v9 ? 1 : 3),
						err, errlen);
				if (ret < 0)
					return ret;
				n += ret;
				records++;
			}
			if (set_len - n && (!v9 || msg[off + n] || msg[off + n + 1]))
				return bad(err, errlen, "template set: %zu bytes after last record",
					   set_len - n);
		} else if (id >= 256) {
			n = d->msg_data_records;
			ret = read_data_set(d, id, msg + off + 4, set_len - 4, err, errlen);
			if (ret)
				return ret;
			records += d->msg_data_records - n;
		} else {
			return bad(err, errlen, "reserved set id %u", id);
		}
	}
	if (v9 && d->count != records)
		return bad(err, errlen, "v9 count %u but %llu records", d->count,
			   (unsigned long long)records);
	d->messages++;
	return 0;
}

const uint8_t *ns_dec_field(const struct ns_dec_record *r, uint16_t type, size_t *len)
{
	const struct ns_dec_tmpl *t = r->tmpl;
	const uint8_t *p = r->data;
	size_t i, n;

	for (i = 0; i < t->n_fields; i++) {
		n = t->len[i];
		if (n == NS_IE_VARLEN) {
			n = *p++;
			if (n == 255) {
				n = ns_get16(p);
				p += 2;
			}
		}
		if (t->type[i] == type) {
			*len = n;
			return p;
		}
		p += n;
	}
	return NULL;
}

uint64_t ns_dec_uint(const struct ns_dec_record *r, uint16_t type, uint64_t dflt)
{
	const uint8_t *p;
	uint64_t v = 0;
	size_t n;

	p = ns_dec_field(r, type, &n);
	if (!p || n > 8)
		return dflt;
	while (n--)
		v = v << 8 | *p++;
	return v;
}

int ns_capture_emit(void *arg, const uint8_t *msg, size_t len, uint32_t flow_records)
{
	struct ns_capture *c = arg;
	size_t cap;
	void *m, *l;

	if (c->fail)
		return -ECONNREFUSED;
	if (c->n == c->cap) {
		cap = c->cap ? 2 * c->cap : 16;
		m = realloc(c->msg, cap * sizeof(*c->msg));
		if (m)
			c->msg = m;
		l = realloc(c->len, cap * sizeof(*c->len));
		if (l)
			c->len = l;
		if (!m || !l)
			return -ENOMEM;
		c->cap = cap;
	}
	c->msg[c->n] = malloc(len);
	if (!c->msg[c->n])
		return -ENOMEM;
	memcpy(c->msg[c->n], msg, len);
	c->len[c->n++] = len;
	c->flow_records += flow_records;
	return 0;
}

void ns_capture_free(struct ns_capture *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->msg[i]);
	free(c->msg);
	free(c->len);
	memset(c, 0, sizeof(*c));
}
