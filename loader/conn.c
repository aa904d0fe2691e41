// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Non-blocking request/answer connections for the control and metrics servers (conn.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "conn.h"
#include "log.h"

void conn_server_init(struct conn_server *s, int lfd, const struct conn_ops *ops, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->lfd = lfd;
	s->ops = ops;
	s->arg = arg;
	for (int i = 0; i < CONN_MAX; i++)
		s->c[i].fd = -1;
}

static void conn_drop(struct conn_server *s, struct conn *c)
{
	close(c->fd);
	s->out_bytes -= c->out_len - c->out_off;
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->answering = false;
	c->req_len = c->out_len = c->out_off = 0;
}

void conn_server_close(struct conn_server *s)
{
	for (int i = 0; i < CONN_MAX; i++)
		if (s->c[i].fd >= 0)
			conn_drop(s, &s->c[i]);
}

/* A free slot; when there is none, the oldest client still sending its request gives its own. */
static struct conn *conn_slot(struct conn_server *s)
{
	struct conn *idle = NULL;

	for (int i = 0; i < CONN_MAX; i++) {
		struct conn *c = &s->c[i];

		if (c->fd < 0)
			return c;
		if (!c->answering && (!idle || c->deadline_ms < idle->deadline_ms))
			idle = c;
	}
	if (idle) {
		pr_debug("%s: %d clients at once: dropped the longest idle one", s->ops->what,
			 CONN_MAX);
		s->dropped++;
		conn_drop(s, idle);
	}
	return idle;
}

/* Sends what the client takes now; true when the answer is out (or the client gone). */
static bool conn_send(struct conn_server *s, struct conn *c, uint64_t now_ms)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0)
			return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
		c->out_off += (size_t)w;
		s->out_bytes -= (size_t)w;
		c->deadline_ms = now_ms + CONN_STALL_MS;
	}
	return true;
}

static void conn_answer(struct conn_server *s, struct conn *c, uint64_t now_ms)
{
	c->req[c->req_len] = 0;
	c->answering = true;
	c->deadline_ms = now_ms + CONN_STALL_MS;
	if (s->out_bytes >= CONN_OUT_MAX) {
		c->out = strdup(s->ops->busy);
		c->out_len = c->out ? strlen(c->out) : 0;
	} else {
		s->ops->answer(s->arg, c->req, &c->out, &c->out_len, &c->out_off);
		if (!c->out)
			c->out_len = c->out_off = 0;
	}
	s->out_bytes += c->out_len - c->out_off;
	if (conn_send(s, c, now_ms))
		conn_drop(s, c);
}

static void conn_read(struct conn_server *s, struct conn *c, uint64_t now_ms)
{
	for (;;) {
		ssize_t n = read(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);
		bool eof = n == 0, full;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n < 0) {
			conn_drop(s, c);
			return;
		}
		c->req_len += (size_t)n;
		full = c->req_len == sizeof(c->req) - 1;
		c->req[c->req_len] = 0;
		if (s->ops->complete(c->req, c->req_len, eof || full)) {
			conn_answer(s, c, now_ms);
			return;
		}
		if (eof || full) {
			conn_drop(s, c);
			return;
		}
	}
}

static void conn_accept(struct conn_server *s, uint64_t now_ms)
{
	for (int k = 0; k < CONN_MAX; k++) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return;
		if (s->ops->admit && !s->ops->admit(fd)) {
			close(fd);
			continue;
		}
		c = conn_slot(s);
		if (!c) { /* every slot is sending an answer: come back later */
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline_ms = now_ms + CONN_REQUEST_MS;
		/* a request already there is answered now, not one loop turn (a poll) later */
		conn_read(s, c, now_ms);
	}
}

int conn_server_pollfds(const struct conn_server *s, struct pollfd *p)
{
	int n = 0;

	if (s->lfd < 0)
		return 0;
	p[n++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	for (int i = 0; i < CONN_MAX; i++)
		if (s->c[i].fd >= 0)
			p[n++] = (struct pollfd){ .fd = s->c[i].fd,
						  .events = s->c[i].answering ? POLLOUT : POLLIN };
	return n;
}

void conn_server_process(struct conn_server *s, const struct pollfd *p, int n, uint64_t now_ms)
{
	if (s->lfd < 0)
		return;
	for (int k = 0; k < n; k++) {
		if (!p[k].revents)
			continue;
		if (p[k].fd == s->lfd) {
			conn_accept(s, now_ms);
			continue;
		}
		for (int i = 0; i < CONN_MAX; i++) {
			struct conn *c = &s->c[i];

			if (c->fd != p[k].fd)
				continue;
			if (c->answering) {
				if (conn_send(s, c, now_ms))
					conn_drop(s, c);
			} else {
				conn_read(s, c, now_ms);
			}
			break;
		}
	}
	for (int i = 0; i < CONN_MAX; i++) {
		struct conn *c = &s->c[i];

		if (c->fd < 0 || now_ms < c->deadline_ms)
			continue;
		if (c->answering)
			pr_info("%s: dropped a client that took nothing for %d s (%zu of %zu bytes "
				"of its answer sent)",
				s->ops->what, CONN_STALL_MS / 1000, c->out_off, c->out_len);
		else
			pr_debug("%s: dropped a client that sent no request within %d ms",
				 s->ops->what, CONN_REQUEST_MS);
		s->dropped++;
		conn_drop(s, c);
	}
}

int conn_server_timeout_ms(const struct conn_server *s, uint64_t now_ms)
{
	uint64_t first = UINT64_MAX;

	for (int i = 0; i < CONN_MAX; i++)
		if (s->c[i].fd >= 0 && s->c[i].deadline_ms < first)
			first = s->c[i].deadline_ms;
	if (first == UINT64_MAX)
		return -1;
	return first <= now_ms ? 0 : (int)(first - now_ms);
}
