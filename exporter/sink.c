// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The sink registry: URL scheme to sink type, and the calls every sink answers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_priv.h"

void ns_export_opts_default(struct ns_export_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->observation_domain = 0; /* --observation-domain */
	o->template_refresh_packets = 20;
	o->template_refresh_secs = 600;
	o->mtu = 1400;
	o->tcp_queue_max = 65536;
}

static const struct ns_export_context ns_no_ctx;

const char *ns_sink_state_name(enum ns_sink_state st)
{
	switch (st) {
	case NS_SINK_UP:
		return "up";
	case NS_SINK_DOWN:
		return "down";
	case NS_SINK_ERROR:
		return "error";
	}
	return "?";
}

void *ns_sink_alloc(size_t size, const struct ns_sink *base, const struct ns_sink_ops *ops,
		    char *err, size_t errlen)
{
	struct ns_sink *s = calloc(1, size);

	if (!s) {
		ns_errf(err, errlen, -ENOMEM, "open '%s': %s", base->url, strerror(ENOMEM));
		return NULL;
	}
	*s = *base;
	s->ops = ops;
	return s;
}

int ns_sink_open(struct ns_sink **out, const char *url, const struct ns_export_opts *opts,
		 const struct ns_export_context *ctx, char *err, size_t errlen)
{
	struct ns_sink base = { 0 };
	struct ns_url *u;
	int ret;

	*out = NULL;
	if (!opts) {
		ns_export_opts_default(&base.opts);
	} else {
		base.opts = *opts;
		base.opts.source_addr = NULL; /* the caller's string need not outlive open */
	}
	if (base.opts.mtu < NS_MTU_MIN || base.opts.mtu > NS_MTU_MAX)
		return ns_errf(err, errlen, -EINVAL,
			       "MTU %u out of range for '%s' (expected %u-%u "
			       "bytes)",
			       base.opts.mtu, url ? url : "", NS_MTU_MIN, NS_MTU_MAX);
	u = malloc(sizeof(*u));
	base.url = url ? strdup(url) : NULL;
	if (!u || !base.url) {
		ret = ns_errf(err, errlen, -ENOMEM, "open '%s': %s", url ? url : "",
			      strerror(ENOMEM));
		goto out;
	}
	base.ctx = ctx ? ctx : &ns_no_ctx;
	ret = ns_url_parse(url, u, err, errlen);
	if (ret)
		goto out;
	switch (u->kind) {
	case NS_URL_V5:
	case NS_URL_V9:
	case NS_URL_IPFIX:
		ret = ns_sink_udp_open(out, &base, u, opts ? opts->source_addr : NULL, err, errlen);
		break;
	case NS_URL_IPFIX_TCP:
		ret = ns_sink_tcp_open(out, &base, u, opts ? opts->source_addr : NULL, err, errlen);
		break;
	default:
		ret = ns_sink_file_open(out, &base, u, err, errlen);
		break;
	}
out:
	free(u);
	if (ret)
		free(base.url);
	return ret;
}

int ns_sink_write(struct ns_sink *s, const struct ns_record *recs, size_t n, uint64_t now_ms)
{
	if (!s || (!recs && n))
		return -EINVAL;
	s->now_ms = now_ms;
	return n ? s->ops->write(s, recs, n, now_ms) : 0;
}

int ns_sink_tick(struct ns_sink *s, uint64_t now_ms)
{
	if (!s)
		return -EINVAL;
	s->now_ms = now_ms;
	return s->ops->tick(s, now_ms);
}

int ns_sink_flush(struct ns_sink *s, uint64_t now_ms)
{
	if (!s)
		return -EINVAL;
	s->now_ms = now_ms;
	if (!s->ops->commits_itself)
		ns_sink_commit(s);
	return s->ops->flush(s, now_ms);
}

void ns_sink_refresh(struct ns_sink *s)
{
	if (s && s->has_enc)
		ns_encoder_refresh(&s->enc, 0);
}

void ns_sink_get_stats(const struct ns_sink *s, struct ns_sink_stats *st)
{
	*st = s->stats;
	if (s->has_enc) {
		st->templates_sent = s->enc.stats.templates;
		st->records_not_exportable = s->enc.stats.not_exportable;
	}
}

void ns_sink_set_commit(struct ns_sink *s, ns_commit_fn fn, void *arg)
{
	s->commit = fn;
	s->commit_arg = arg;
}

const char *ns_sink_url(const struct ns_sink *s)
{
	return s->url;
}

uint64_t ns_sink_finish(struct ns_sink *s, uint64_t now_ms, int timeout_ms)
{
	if (!s)
		return 0;
	ns_sink_flush(s, now_ms);
	return s->ops->finish ? s->ops->finish(s, now_ms, timeout_ms) : 0;
}

void ns_sink_close(struct ns_sink *s)
{
	char *url;

	if (!s)
		return;
	s->ops->flush(s, s->now_ms);
	url = s->url;
	if (s->has_enc)
		ns_encoder_free(&s->enc);
	s->ops->destroy(s);
	free(url);
}
