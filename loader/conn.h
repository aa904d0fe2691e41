/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Request/answer connections served from the agent's poll loop without ever waiting on a
 * client: the control socket (`nsflow show ...`) and the metrics endpoint. Every socket is
 * non-blocking; a request is read as it arrives, its answer is made at once and then sent as
 * fast as the client takes it. A client that sends no complete request within CONN_REQUEST_MS,
 * or takes nothing of its answer for CONN_STALL_MS, is dropped; so is the oldest idle one when
 * all CONN_MAX slots are busy. Answers waiting to be sent are bounded by CONN_OUT_MAX bytes in
 * all; a request beyond that gets a short "busy" answer instead.
 */
#ifndef NSFLOW_CONN_H
#define NSFLOW_CONN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONN_MAX	32
#define CONN_REQ_MAX	4096
#define CONN_REQUEST_MS 2000
#define CONN_STALL_MS	10000
#define CONN_OUT_MAX	(512u << 20)

struct conn {
	int fd; /* -1: a free slot */
	bool answering;
	char req[CONN_REQ_MAX];
	size_t req_len;
	char *out;
	size_t out_len, out_off;
	uint64_t deadline_ms; /* request complete, or the next byte of the answer taken, by then */
};

struct conn_server;

struct conn_ops {
	const char *what; /* "control", "metrics": for log lines */
	/* may this peer talk to us? (checked once, right after accept) */
	bool (*admit)(int fd);
	/* is req[0..len) a whole request? (also asked at end of file) */
	bool (*complete)(const char *req, size_t len, bool eof);
	/* makes the answer to req (NUL-terminated): *out malloc'd, *len its size, sent from *off */
	void (*answer)(void *arg, char *req, char **out, size_t *len, size_t *off);
	/* the answer when CONN_OUT_MAX is reached */
	const char *busy;
};

struct conn_server {
	int lfd;
	const struct conn_ops *ops;
	void *arg;
	struct conn c[CONN_MAX];
	size_t out_bytes; /* of every answer not yet sent */
	uint64_t dropped; /* clients dropped for being slow or idle */
};

/* Serves listening socket lfd (non-blocking); -1: nothing, every call is then a no-op. */
void conn_server_init(struct conn_server *s, int lfd, const struct conn_ops *ops, void *arg);
/* Closes every client (not lfd). */
void conn_server_close(struct conn_server *s);
/* Adds what to wait for to p (room for CONN_MAX + 1); returns how many were added. */
int conn_server_pollfds(const struct conn_server *s, struct pollfd *p);
/* Handles what poll() reported in p[0..n) (as filled by conn_server_pollfds()) and timeouts. */
void conn_server_process(struct conn_server *s, const struct pollfd *p, int n, uint64_t now_ms);
/* Milliseconds until the next client deadline (-1: none), for poll()'s timeout. */
int conn_server_timeout_ms(const struct conn_server *s, uint64_t now_ms);

#endif
