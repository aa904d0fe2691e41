// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Local sinks: an IPFIX file (RFC 5655: a plain stream of IPFIX messages, templates first,
 * as a reliable transport would carry them), JSON lines and text lines, to a file or stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_format.h"
#include "sink_priv.h"

struct ns_file_sink {
	struct ns_sink base;
	FILE *f;
	int own;	 /* we opened it: close it */
	int interactive; /* stdout: every write reaches the reader at once */
	enum ns_url_kind kind;
	struct ns_tmpl_set *ipfix; /* JSON: which fields a record has */
	char line[NS_LINE_MAX];
};

static int file_emit(void *arg, const uint8_t *msg, size_t len, uint32_t flows)
{
	struct ns_file_sink *fs = arg;
	int ok = fwrite(msg, 1, len, fs->f) == len;

	ns_sink_count(&fs->base, ok, flows);
	return ok ? 0 : -EIO;
}

static int file_sync(struct ns_file_sink *fs)
{
	if (fflush(fs->f)) {
		fs->base.stats.send_errors++;
		return -errno;
	}
	return 0;
}

static int lines_write(struct ns_file_sink *fs, const struct ns_record *recs, size_t n)
{
	size_t i;
	int len;

	for (i = 0; i < n; i++) {
		if (fs->kind == NS_URL_JSON)
			len = ns_json_format(fs->ipfix, &recs[i], fs->line, sizeof(fs->line));
		else
			len = ns_text_format(fs->base.ctx, &recs[i], fs->line, sizeof(fs->line));
		if (len < 0) {
			fs->base.stats.records_dropped++;
			continue;
		}
		ns_sink_count(&fs->base, fwrite(fs->line, 1, len, fs->f) == (size_t)len, 1);
	}
	return fs->interactive ? file_sync(fs) : 0;
}

static int file_write(struct ns_sink *s, const struct ns_record *recs, size_t n, uint64_t now_ms)
{
	struct ns_file_sink *fs = (struct ns_file_sink *)s;

	if (fs->kind != NS_URL_FILE)
		return lines_write(fs, recs, n);
	return ns_encoder_add(&s->enc, recs, n, now_ms);
}

static int file_tick(struct ns_sink *s, uint64_t now_ms)
{
	struct ns_file_sink *fs = (struct ns_file_sink *)s;

	if (fs->kind == NS_URL_FILE)
		ns_encoder_tick(&s->enc, now_ms);
	return file_sync(fs);
}

static int file_flush(struct ns_sink *s, uint64_t now_ms)
{
	struct ns_file_sink *fs = (struct ns_file_sink *)s;

	if (fs->kind == NS_URL_FILE)
		ns_encoder_flush(&s->enc, now_ms);
	return file_sync(fs);
}

static void file_destroy(struct ns_sink *s)
{
	struct ns_file_sink *fs = (struct ns_file_sink *)s;

	if (fs->f && fs->own)
		fclose(fs->f);
	else if (fs->f)
		fflush(fs->f);
	free(fs->ipfix);
	free(fs);
}

static const struct ns_sink_ops file_ops = {
	.write = file_write,
	.tick = file_tick,
	.flush = file_flush,
	.destroy = file_destroy,
};

int ns_sink_file_open(struct ns_sink **out, const struct ns_sink *base, const struct ns_url *u,
		      char *err, size_t errlen)
{
	struct ns_file_sink *fs = ns_sink_alloc(sizeof(*fs), base, &file_ops, err, errlen);
	int ret = 0;

	if (!fs)
		return -ENOMEM;
	fs->kind = u->kind;
	if (!strcmp(u->path, "-")) {
		fs->f = stdout;
		fs->interactive = 1;
	} else {
		/* a new file per run: an IPFIX file starts with its templates (RFC 5655 8) */
		fs->f = fopen(u->path, u->kind == NS_URL_FILE ? "wb" : "w");
		fs->own = 1;
		if (!fs->f) {
			ret = ns_errf(err, errlen, -errno, "open '%s' for '%s': %s", u->path,
				      base->url, strerror(errno));
			goto fail;
		}
	}
	if (u->kind == NS_URL_FILE) {
		ret = ns_sink_encoder_init(&fs->base, NS_PROTO_IPFIX, 1, file_emit);
	} else if (u->kind == NS_URL_JSON) {
		fs->ipfix = malloc(sizeof(*fs->ipfix));
		ret = fs->ipfix ? ns_tmpl_set_init(fs->ipfix, NS_PROTO_IPFIX) : -ENOMEM;
	}
	if (ret) {
		ns_errf(err, errlen, ret, "set up encoder for '%s': %s", base->url, strerror(-ret));
		goto fail;
	}
	fs->base.stats.connected = 1;
	*out = &fs->base;
	return 0;
fail:
	file_destroy(&fs->base);
	return ret;
}
