// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Export sessions: records in, messages out. IPFIX (RFC 7011) and NetFlow v9 (RFC 3954) share
 * the set framing, the templates and the refresh schedule and differ only in headers, set
 * ids and padding; NetFlow v5 packs fixed records (v5.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exp_encoder.h"

#define NS_IPFIX_HDR_LEN 16
#define NS_V9_HDR_LEN	 20

/* Set ids: RFC 7011 3.3.2 (2, 3) and RFC 3954 5.2 / 6.1 (0, 1) */
#define NS_IPFIX_SET_TEMPLATE 2
#define NS_IPFIX_SET_OPTIONS  3
#define NS_V9_SET_TEMPLATE    0
#define NS_V9_SET_OPTIONS     1

static const struct ns_export_context ns_empty_ctx;

/* Fill in the header of the finished message and advance the sequence number */
static void enc_put_header(struct ns_encoder *enc)
{
	struct ns_msg *m = &enc->msg;
	uint8_t *d = m->buf;

	switch (enc->proto) {
	case NS_PROTO_IPFIX:
		ns_put16(d + 0, 10);				 /* version */
		ns_put16(d + 2, m->len);			 /* length */
		ns_put32(d + 4, (uint32_t)(enc->now_ms / 1000)); /* export time */
		ns_put32(d + 8, enc->seq);			 /* data records before this */
		ns_put32(d + 12, enc->domain);			 /* observation domain id */
		enc->seq += m->n_data;
		break;
	case NS_PROTO_V9:
		ns_put16(d + 0, 9);	       /* version */
		ns_put16(d + 2, m->n_records); /* count: all records */
		/* collectors take boot = unix secs * 1000 - sysUptime: keep both on one second */
		ns_put32(d + 4, enc->now_ms / 1000 * 1000 > enc->ctx->boot_ms
					? (uint32_t)(enc->now_ms / 1000 * 1000 - enc->ctx->boot_ms)
					: 0);
		ns_put32(d + 8, (uint32_t)(enc->now_ms / 1000)); /* unix secs */
		ns_put32(d + 12, enc->seq);			 /* export packets before this */
		ns_put32(d + 16, enc->domain);			 /* source id */
		enc->seq++;
		break;
	case NS_PROTO_V5:
		ns_v5_put_header(d, m->n_records, enc->now_ms, enc->ctx->boot_ms, enc->seq,
				 enc->domain, enc->v5_sampling);
		enc->seq += m->n_flows;
		break;
	}
}

/* Hand the message being built to the callback, whatever it says, and start a new one */
static void enc_emit(struct ns_encoder *enc)
{
	struct ns_msg *m = &enc->msg;

	if (ns_msg_empty(m))
		return;
	ns_msg_close_set(m);
	enc_put_header(enc);
	/* a failed send is the sink's to count: the encoder moves on either way */
	enc->emit(enc->emit_arg, m->buf, m->len, m->n_flows);
	enc->stats.messages++;
	enc->stats.flow_records += m->n_flows;
	enc->stats.templates += m->n_templates;
	ns_msg_reset(m);
	if (enc->refresh_packets && ++enc->msgs_since_refresh >= enc->refresh_packets)
		enc->refresh_due = 1;
}

/* Room for one record in set @set_id, starting a new message when this one is full */
static uint8_t *enc_put(struct ns_encoder *enc, uint16_t set_id, uint32_t len)
{
	uint8_t *p = ns_msg_add(&enc->msg, set_id, len);

	if (p || ns_msg_empty(&enc->msg))
		return p;
	enc_emit(enc);
	return ns_msg_add(&enc->msg, set_id, len);
}

static int enc_put_data(struct ns_encoder *enc, const struct ns_tmpl *t, const void *src)
{
	size_t len = ns_plan_len(&t->plan, src);
	uint8_t *p = enc_put(enc, t->id, len);

	if (!p)
		return -EMSGSIZE;
	ns_plan_encode(&t->plan, src, enc->ctx->boot_ms, p);
	enc->msg.n_data++;
	return 0;
}

static uint16_t tmpl_set_id(const struct ns_encoder *enc, const struct ns_tmpl *t)
{
	if (enc->proto == NS_PROTO_V9)
		return t->n_scope ? NS_V9_SET_OPTIONS : NS_V9_SET_TEMPLATE;
	return t->n_scope ? NS_IPFIX_SET_OPTIONS : NS_IPFIX_SET_TEMPLATE;
}

/* Put the template record of @t in the message, before any data that uses it */
static int enc_announce(struct ns_encoder *enc, const struct ns_tmpl *t)
{
	uint8_t *p = enc_put(enc, tmpl_set_id(enc, t), ns_tmpl_rec_len(t));

	if (!p)
		return -EMSGSIZE;
	ns_tmpl_write(t, enc->proto, p);
	enc->msg.n_templates++;
	enc->announced[(t->id - NS_TMPL_FIRST) / 64] |= 1ull << ((t->id - NS_TMPL_FIRST) % 64);
	return 0;
}

static int enc_was_announced(const struct ns_encoder *enc, const struct ns_tmpl *t)
{
	return (enc->announced[(t->id - NS_TMPL_FIRST) / 64] >> ((t->id - NS_TMPL_FIRST) % 64)) & 1;
}

/*
 * PSAMP (RFC 5476/5477) describes count-based sampling as samplingPacketInterval packets
 * taken, samplingPacketSpace skipped: 1 and N-1 for 1-in-N, which is also how collectors
 * compute the rate for random 1-in-N. A time-based sampler has no configured packet rate: it
 * goes out with the rate the agent measured (packets seen per packet taken) in the same fields,
 * beside its samplingTimeInterval, for collectors scale by packets. v9 has deterministic and
 * random modes only: a time-based sampler takes no packet by chance, so it is deterministic.
 */
static void sampler_row(struct ns_opt_row *row, const struct ns_sampler_info *s)
{
	row->selector_id = s->selector_id;
	row->algorithm = s->algorithm;
	if (s->algorithm == NS_SAMPLER_TIME)
		row->time_interval_us =
			s->interval > UINT32_MAX / 1000 ? UINT32_MAX : s->interval * 1000;
	row->packet_interval = 1;
	row->packet_space = s->rate - 1;
	row->v9_mode = s->algorithm == NS_SAMPLER_RANDOM ? 2 : 1;
	row->v9_interval = s->rate;
}

/* VRF names, once there are VRFs: their template goes first when this session lacks it */
static int enc_put_vrf_names(struct ns_encoder *enc)
{
	const struct ns_export_context *ctx = enc->ctx;
	const struct ns_tmpl *t = ns_tmpl_get(enc->tmpls, NS_TMPL_OPT_VRF);
	struct ns_opt_row row;
	int err;

	if (!ctx->n_vrfs)
		return 0;
	ns_msg_close_set(&enc->msg);
	if (!enc_was_announced(enc, t)) {
		err = enc_announce(enc, t);
		if (err)
			return err;
		ns_msg_close_set(&enc->msg);
	}
	for (size_t i = 0; i < ctx->n_vrfs; i++) {
		memset(&row, 0, sizeof(row));
		row.domain = enc->domain;
		row.vrf_id = ctx->vrfs[i].id;
		memcpy(row.vrf_name, ctx->vrfs[i].name, sizeof(row.vrf_name));
		err = enc_put_data(enc, t, &row);
		if (err)
			return err;
	}
	return 0;
}

static int enc_put_options_data(struct ns_encoder *enc)
{
	const struct ns_export_context *ctx = enc->ctx;
	const struct ns_tmpl *t;
	struct ns_opt_row row;
	size_t i;
	int err;

	t = ns_tmpl_get(enc->tmpls, NS_TMPL_OPT_SAMPLER);
	for (i = 0; i < ctx->n_samplers; i++) {
		/* a time-based sampler that has not taken a packet yet has no rate to give, and
		 * no record names it yet */
		if (!ctx->samplers[i].rate)
			continue;
		memset(&row, 0, sizeof(row));
		row.domain = enc->domain;
		sampler_row(&row, &ctx->samplers[i]);
		err = enc_put_data(enc, t, &row);
		if (err)
			return err;
		/* one sampler per set: nfdump reads only the first record of a sampler set */
		ns_msg_close_set(&enc->msg);
		if (!ctx->samplers[i].global)
			continue;
		err = enc_put_data(enc, ns_tmpl_get(enc->tmpls, NS_TMPL_OPT_SAMPLING), &row);
		if (err)
			return err;
		ns_msg_close_set(&enc->msg);
	}

	memset(&row, 0, sizeof(row));
	row.domain = enc->domain;
	row.not_sent_flows = ctx->not_sent_flows;
	row.not_sent_packets = ctx->not_sent_packets;
	row.not_sent_octets = ctx->not_sent_octets;
	err = enc_put_data(enc, ns_tmpl_get(enc->tmpls, NS_TMPL_OPT_RELIABILITY), &row);
	if (err)
		return err;

	t = ns_tmpl_get(enc->tmpls, NS_TMPL_OPT_IFACE);
	for (i = 0; i < ctx->n_ifaces; i++) {
		memset(&row, 0, sizeof(row));
		row.domain = enc->domain;
		row.ifindex = ctx->ifaces[i].ifindex;
		memcpy(row.name, ctx->ifaces[i].name, sizeof(row.name));
		memcpy(row.description, ctx->ifaces[i].description, sizeof(row.description));
		err = enc_put_data(enc, t, &row);
		if (err)
			return err;
	}
	/* nfdump shows the description as the interface's name: the name when there is none */
	ns_msg_close_set(&enc->msg);
	t = ns_tmpl_get(enc->tmpls, NS_TMPL_OPT_IFDESC);
	for (i = 0; i < ctx->n_ifaces; i++) {
		const struct ns_iface_info *f = &ctx->ifaces[i];

		memset(&row, 0, sizeof(row));
		row.domain = enc->domain;
		row.ifindex = f->ifindex;
		if (f->description[0])
			memcpy(row.description, f->description, sizeof(row.description));
		else
			memcpy(row.description, f->name, sizeof(f->name));
		err = enc_put_data(enc, t, &row);
		if (err)
			return err;
	}
	return enc_put_vrf_names(enc);
}

/*
 * Start a refresh cycle: options templates (unless this reliable session has them) and
 * options data now; flow templates are announced again as records need them.
 */
static const uint16_t opt_tmpls[] = { NS_TMPL_OPT_SAMPLER, NS_TMPL_OPT_RELIABILITY,
				      NS_TMPL_OPT_IFACE, NS_TMPL_OPT_IFDESC, NS_TMPL_OPT_SAMPLING };

static int enc_put_refresh(struct ns_encoder *enc)
{
	unsigned int i;
	int err = 0;

	enc->refresh_due = 0;
	if (enc->proto == NS_PROTO_V5)
		return 0;
	if (!enc->reliable || !enc->templates_sent) {
		/* flow templates follow lazily, each just before its first record */
		memset(enc->announced, 0, sizeof(enc->announced));
		for (i = 0; i < sizeof(opt_tmpls) / sizeof(opt_tmpls[0]) && !err; i++) {
			err = enc_announce(enc, ns_tmpl_get(enc->tmpls, opt_tmpls[i]));
			/* pmacct reads only the first options template of a set correctly */
			ns_msg_close_set(&enc->msg);
		}
		if (err)
			return err;
		enc->templates_sent = 1;
	}
	err = enc_put_options_data(enc);
	enc->options_gen = enc->ctx ? enc->ctx->options_gen : 0;
	enc->msgs_since_refresh = 0;
	enc->last_refresh_ms = enc->now_ms;
	return err;
}

static void enc_set_now(struct ns_encoder *enc, uint64_t now_ms)
{
	enc->now_ms = now_ms;
	if (enc->refresh_ms && now_ms - enc->last_refresh_ms >= enc->refresh_ms)
		enc->refresh_due = 1;
	/* what the options say changed (a time-based sampler's rate): say it before more records */
	if (enc->ctx && enc->ctx->options_gen != enc->options_gen)
		enc->refresh_due = 1;
}

static void enc_put_v5(struct ns_encoder *enc, const struct ns_record *r)
{
	struct ns_msg *m = &enc->msg;
	uint16_t sampling;

	/* the sampling interval is per message in v5: a change starts a new one */
	sampling = ns_v5_sampling_field(r->sampling_interval);
	if (!ns_msg_empty(m) && (sampling != enc->v5_sampling || m->n_flows >= enc->v5_max))
		enc_emit(enc);
	enc->v5_sampling = sampling;
	ns_v5_put_record(m->buf + m->len, r, enc->ctx->boot_ms);
	m->len += NS_V5_REC_LEN;
	m->n_records++;
	m->n_data++;
	m->n_flows++;
}

/*
 * v5 counters are 32 bits: a flow with more packets or octets goes out as several records of
 * the same flow, each within 32 bits, whose sums are the flow's counts.
 */
static void enc_add_v5(struct ns_encoder *enc, const struct ns_record *r)
{
	uint64_t parts, p_done = 0, o_done = 0;
	struct ns_record part;

	if (r->ip_version != 4) {
		enc->stats.not_exportable++;
		return;
	}
	if (r->packets <= UINT32_MAX && r->octets <= UINT32_MAX) {
		enc_put_v5(enc, r);
		return;
	}
	parts = r->packets / UINT32_MAX + 1;
	if (r->octets / UINT32_MAX + 1 > parts)
		parts = r->octets / UINT32_MAX + 1;
	part = *r;
	for (uint64_t k = 1; k <= parts; k++) {
		uint64_t p = (uint64_t)((unsigned __int128)r->packets * k / parts);
		uint64_t o = (uint64_t)((unsigned __int128)r->octets * k / parts);

		part.packets = p - p_done;
		part.octets = o - o_done;
		p_done = p;
		o_done = o;
		enc_put_v5(enc, &part);
	}
}

/* Encode the records @idx[0..n) of @recs, which all use template @t */
static int enc_add_run(struct ns_encoder *enc, const struct ns_tmpl *t,
		       const struct ns_record *recs, const uint16_t *idx, size_t n)
{
	uint64_t boot = enc->ctx->boot_ms;
	size_t i, len;
	uint8_t *p;
	int err;

	for (i = 0; i < n; i++) {
		const struct ns_record *r = &recs[idx[i]];

		if (enc->refresh_due) {
			err = enc_put_refresh(enc);
			if (err)
				return err;
		}
		if (!enc_was_announced(enc, t)) {
			err = enc_announce(enc, t);
			if (err)
				return err;
		}
		len = t->plan.variable ? ns_plan_len(&t->plan, r) : t->plan.fixed_len;
		p = enc_put(enc, t->id, len);
		if (!p)
			return -EMSGSIZE;
		ns_plan_encode(&t->plan, r, boot, p);
		enc->msg.n_data++;
		enc->msg.n_flows++;
	}
	return 0;
}

#define NS_BATCH 256

/*
 * Records of one template share a set: every set header costs 4 bytes, so a batch is
 * grouped by template (a counting sort of indexes), starting with the template whose set is
 * still open from the previous batch. Order between templates carries no meaning.
 */
static int enc_add_batch(struct ns_encoder *enc, const struct ns_record *recs, size_t n)
{
	uint16_t start[NS_TMPL_COUNT + 1] = { 0 }, fill[NS_TMPL_COUNT];
	uint8_t tix[NS_BATCH];
	uint16_t idx[NS_BATCH];
	unsigned int k, first = 0;
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		tix[i] = ns_tmpl_id_for(&recs[i]) - NS_TMPL_FIRST;
		start[tix[i] + 1]++;
	}
	for (k = 0; k < NS_TMPL_COUNT; k++) {
		start[k + 1] += start[k];
		fill[k] = start[k];
	}
	for (i = 0; i < n; i++)
		idx[fill[tix[i]]++] = i;
	if (enc->msg.set_off && enc->msg.set_id >= NS_TMPL_FIRST &&
	    enc->msg.set_id < NS_TMPL_FIRST + NS_TMPL_COUNT && ns_tmpl_is_flow(enc->msg.set_id))
		first = enc->msg.set_id - NS_TMPL_FIRST;
	for (k = 0; k < NS_TMPL_COUNT; k++) {
		unsigned int t = (first + k) % NS_TMPL_COUNT;

		if (start[t] == start[t + 1])
			continue;
		err = enc_add_run(enc, &enc->tmpls->t[t], recs, idx + start[t],
				  start[t + 1] - start[t]);
		if (err)
			return err;
	}
	return 0;
}

int ns_encoder_add(struct ns_encoder *enc, const struct ns_record *recs, size_t n, uint64_t now_ms)
{
	size_t i, chunk;
	int err;

	enc_set_now(enc, now_ms);
	if (enc->proto == NS_PROTO_V5) {
		for (i = 0; i < n; i++)
			enc_add_v5(enc, &recs[i]);
		return 0;
	}
	for (i = 0; i < n; i += chunk) {
		chunk = n - i < NS_BATCH ? n - i : NS_BATCH;
		err = enc_add_batch(enc, recs + i, chunk);
		if (err)
			return err;
	}
	return 0;
}

int ns_encoder_flush(struct ns_encoder *enc, uint64_t now_ms)
{
	enc->now_ms = now_ms;
	enc_emit(enc);
	return 0;
}

int ns_encoder_tick(struct ns_encoder *enc, uint64_t now_ms)
{
	int err = 0;

	enc_set_now(enc, now_ms);
	if (enc->refresh_due)
		err = enc_put_refresh(enc);
	enc_emit(enc);
	return err;
}

int ns_encoder_refresh(struct ns_encoder *enc, uint64_t now_ms)
{
	enc->refresh_due = 1;
	return now_ms ? ns_encoder_tick(enc, now_ms) : 0;
}

uint32_t ns_encoder_restart(struct ns_encoder *enc)
{
	uint32_t dropped = enc->msg.n_flows;

	ns_msg_reset(&enc->msg);
	enc->seq = 0;
	enc->templates_sent = 0;
	memset(enc->announced, 0, sizeof(enc->announced));
	enc->refresh_due = 1;
	enc->msgs_since_refresh = 0;
	return dropped;
}

int ns_encoder_init(struct ns_encoder *enc, enum ns_proto proto, const struct ns_export_opts *opts,
		    const struct ns_export_context *ctx, int reliable, ns_emit_fn emit, void *arg)
{
	struct ns_export_opts defaults;
	uint16_t hdr_len;
	uint8_t *buf;
	int err;

	memset(enc, 0, sizeof(*enc));
	if (!opts) {
		ns_export_opts_default(&defaults);
		opts = &defaults;
	}
	if (opts->mtu < NS_MTU_MIN || opts->mtu > NS_MTU_MAX || !emit)
		return -EINVAL;
	switch (proto) {
	case NS_PROTO_V5:
		hdr_len = NS_V5_HDR_LEN;
		break;
	case NS_PROTO_V9:
		hdr_len = NS_V9_HDR_LEN;
		break;
	case NS_PROTO_IPFIX:
		hdr_len = NS_IPFIX_HDR_LEN;
		break;
	default:
		return -EINVAL;
	}
	buf = malloc(opts->mtu);
	if (!buf)
		return -ENOMEM;
	if (proto != NS_PROTO_V5) {
		enc->tmpls = malloc(sizeof(*enc->tmpls));
		err = enc->tmpls ? ns_tmpl_set_init(enc->tmpls, proto) : -ENOMEM;
		if (!err && opts->counter_bits == 32)
			err = ns_tmpl_set_counters(enc->tmpls, 32);
		if (err) {
			free(enc->tmpls);
			free(buf);
			enc->tmpls = NULL;
			return err;
		}
	}
	/* RFC 3954 5.3: v9 FlowSets are padded to 32 bits; IPFIX sets need no padding */
	ns_msg_init(&enc->msg, buf, opts->mtu, hdr_len, proto == NS_PROTO_V9 ? 4 : 1);
	enc->proto = proto;
	enc->domain = opts->observation_domain;
	enc->refresh_packets = opts->template_refresh_packets;
	enc->refresh_ms = (uint64_t)opts->template_refresh_secs * 1000;
	enc->reliable = reliable;
	enc->ctx = ctx ? ctx : &ns_empty_ctx;
	enc->emit = emit;
	enc->emit_arg = arg;
	enc->refresh_due = 1;
	enc->v5_max = (opts->mtu - NS_V5_HDR_LEN) / NS_V5_REC_LEN;
	if (enc->v5_max > NS_V5_MAX_RECORDS)
		enc->v5_max = NS_V5_MAX_RECORDS;
	return 0;
}

void ns_encoder_free(struct ns_encoder *enc)
{
	free(enc->msg.buf);
	free(enc->tmpls);
	enc->msg.buf = NULL;
	enc->tmpls = NULL;
}
