// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Local sinks: an IPFIX file (RFC 5655: a plain stream of IPFIX messages, templates first,
 * as a reliable transport would carry them), JSON lines and text lines, to a file or stdout.
 *
 * A file is opened for appending (a restart adds to what is there; every run starts with its
 * templates, so an appended IPFIX file still decodes), never through a symbolic link, created
 * 0640. Output collects in a buffer of whole messages or lines; a flush writes it with write(2)
 * and, for a regular file, fdatasync(2). Only then do its records count as sent: a short write
 * (disk full) is cut back to the last whole message, and its records count as dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exp_format.h"
#include "sink_priv.h"

/* Flush early once this much is buffered */
#define NS_FILE_BUF  (256 * 1024)
#define NS_FILE_MODE 0640

struct ns_file_sink {
	struct ns_sink base;
	int fd;
	int own;	 /* we opened it: close it */
	int regular;	 /* a regular file: sync, and cut back a short write */
	int interactive; /* stdout: every write reaches the reader at once */
	int header_done; /* text: the column names went out, above the first line */
	enum ns_url_kind kind;
	struct ns_tmpl_set *ipfix; /* JSON: which fields a record has */
	char *buf;
	size_t len;
	uint64_t pending_records, pending_messages; /* in buf, not yet written */
	char line[NS_LINE_MAX];
};

static int file_fail(struct ns_file_sink *fs, int err)
{
	fs->base.stats.send_errors++;
	fs->base.stats.records_dropped += fs->pending_records;
	ns_sink_fail(&fs->base, NS_SINK_ERROR, err);
	return -err;
}

/* Write the buffer out; its records count as sent only if all of it reached the file */
static int file_sync(struct ns_file_sink *fs)
{
	off_t start = fs->regular ? lseek(fs->fd, 0, SEEK_END) : 0;
	size_t off = 0;
	int err = 0;

	while (off < fs->len) {
		ssize_t n = write(fs->fd, fs->buf + off, fs->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : ENOSPC;
			break;
		}
		off += n;
	}
	if (!err && fs->len && fs->regular && fdatasync(fs->fd))
		err = errno;
	if (err) {
		/* leave no torn message or line behind for the next write to follow */
		if (fs->regular && start >= 0 && ftruncate(fs->fd, start))
			err = err ? err : errno;
		file_fail(fs, err);
	} else if (fs->len) {
		fs->base.stats.messages_sent += fs->pending_messages;
		fs->base.stats.records_sent += fs->pending_records;
		fs->base.stats.bytes_sent += fs->len;
		ns_sink_up(&fs->base);
	}
	fs->len = 0;
	fs->pending_records = fs->pending_messages = 0;
	return -err;
}

static int file_append(struct ns_file_sink *fs, const void *data, size_t len, uint32_t records)
{
	if (fs->len + len > NS_FILE_BUF) {
		file_sync(fs);
		if (len > NS_FILE_BUF) {
			fs->base.stats.records_dropped += records;
			return -EMSGSIZE;
		}
	}
	memcpy(fs->buf + fs->len, data, len);
	fs->len += len;
	fs->pending_records += records;
	fs->pending_messages++;
	return 0;
}

static int file_emit(void *arg, const uint8_t *msg, size_t len, uint32_t flows)
{
	return file_append(arg, msg, len, flows);
}

static int lines_write(struct ns_file_sink *fs, const struct ns_record *recs, size_t n)
{
	size_t i;
	int len;

	if (fs->kind == NS_URL_TEXT && n && !fs->header_done) {
		const char *h = ns_text_header();

		file_append(fs, h, strlen(h), 0);
		fs->header_done = 1;
	}
	for (i = 0; i < n; i++) {
		if (fs->kind == NS_URL_JSON)
			len = ns_json_format(fs->ipfix, &recs[i], fs->line, sizeof(fs->line));
		else
			len = ns_text_format(fs->base.ctx, &recs[i], fs->line, sizeof(fs->line));
		if (len < 0) {
			fs->base.stats.records_dropped++;
			continue;
		}
		file_append(fs, fs->line, len, 1);
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

	if (fs->fd >= 0 && fs->own)
		close(fs->fd);
	free(fs->ipfix);
	free(fs->buf);
	free(fs);
}

static const struct ns_sink_ops file_ops = {
	.write = file_write,
	.tick = file_tick,
	.flush = file_flush,
	.destroy = file_destroy,
};

static int file_open_path(struct ns_file_sink *fs, const char *path, const char *url, char *err,
			  size_t errlen)
{
	struct stat st;

	fs->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, NS_FILE_MODE);
	if (fs->fd < 0 && errno == ELOOP)
		return ns_errf(
			err, errlen, -ELOOP,
			"refusing '%s' for '%s': it is a symbolic link (name the file itself)",
			path, url);
	if (fs->fd < 0)
		return ns_errf(err, errlen, -errno, "open '%s' for '%s': %s", path, url,
			       strerror(errno));
	fs->own = 1;
	if (fstat(fs->fd, &st))
		return ns_errf(err, errlen, -errno, "stat '%s' for '%s': %s", path, url,
			       strerror(errno));
	if (S_ISDIR(st.st_mode))
		return ns_errf(err, errlen, -EISDIR, "'%s' for '%s' is a directory", path, url);
	fs->regular = S_ISREG(st.st_mode);
	fs->interactive = S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode);
	return 0;
}

int ns_sink_file_open(struct ns_sink **out, const struct ns_sink *base, const struct ns_url *u,
		      char *err, size_t errlen)
{
	struct ns_file_sink *fs = ns_sink_alloc(sizeof(*fs), base, &file_ops, err, errlen);
	int ret = 0;

	if (!fs)
		return -ENOMEM;
	fs->fd = -1;
	fs->kind = u->kind;
	fs->buf = malloc(NS_FILE_BUF);
	if (!fs->buf) {
		ret = ns_errf(err, errlen, -ENOMEM, "open '%s': %s", base->url, strerror(ENOMEM));
		goto fail;
	}
	if (!strcmp(u->path, "-")) {
		fs->fd = STDOUT_FILENO;
		fs->interactive = 1;
	} else {
		ret = file_open_path(fs, u->path, base->url, err, errlen);
		if (ret)
			goto fail;
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
	ns_sink_up(&fs->base);
	*out = &fs->base;
	return 0;
fail:
	file_destroy(&fs->base);
	return ret;
}
