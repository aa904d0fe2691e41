// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Network sinks. UDP (v5, v9, IPFIX): one connected non-blocking socket, a failed send is
 * counted and the next message simply tries again. TCP (IPFIX, RFC 7011 10.4): non-blocking
 * connect, reconnect with exponential backoff, templates at the start of every connection,
 * and a bounded record queue while the collector is away. Nothing here ever blocks.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "sink_priv.h"

#define NS_TCP_BACKOFF_MIN_MS	  1000
#define NS_TCP_BACKOFF_MAX_MS	  60000
#define NS_TCP_CONNECT_TIMEOUT_MS 10000
/* a collector that takes nothing for this long is stalled: drop the connection, reconnect */
#define NS_TCP_SEND_TIMEOUT_MS 10000
/* stop encoding while this much is still waiting for the socket: the queue holds the rest */
#define NS_TCP_OUT_HIGH	 (256 * 1024)
#define NS_TCP_CHUNK	 256
#define NS_TCP_QUEUE_MIN 1024

struct ns_net_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

struct ns_net_target {
	struct ns_net_addr dst, src;
	int has_src;
	uint8_t dscp; /* of the packets sent (IP ToS / IPv6 traffic class >> 2) */
};

static void copy_addr(struct ns_net_addr *a, const struct addrinfo *ai)
{
	memcpy(&a->sa, ai->ai_addr, ai->ai_addrlen);
	a->len = ai->ai_addrlen;
}

/*
 * Resolve the collector and the optional source address/port. With a source address the
 * collector is looked up in the same address family, so that bind() and connect() agree.
 */
static int net_resolve(const struct ns_sink *base, const struct ns_url *u, const char *source_addr,
		       int socktype, struct ns_net_target *t, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = socktype, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	char port[8];
	int rc;

	memset(t, 0, sizeof(*t));
	t->dscp = base->opts.dscp;
	snprintf(port, sizeof(port), "%u", base->opts.source_port);
	if (source_addr) {
		hints.ai_flags |= AI_PASSIVE;
		rc = getaddrinfo(source_addr, port, &hints, &res);
		if (rc)
			return ns_errf(err, errlen, rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL,
				       "resolve source address '%s' for '%s': %s", source_addr,
				       base->url, gai_strerror(rc));
		copy_addr(&t->src, res);
		t->has_src = 1;
		hints.ai_family = res->ai_family;
		hints.ai_flags &= ~AI_PASSIVE;
		freeaddrinfo(res);
	}
	rc = getaddrinfo(u->host, u->port, &hints, &res);
	if (rc)
		return ns_errf(err, errlen, rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH,
			       "resolve '%s' in '%s': %s%s", u->host, base->url, gai_strerror(rc),
			       source_addr ? " (in the address family of the source address)" : "");
	copy_addr(&t->dst, res);
	freeaddrinfo(res);
	if (!source_addr && base->opts.source_port) {
		/* a source port alone: the wildcard address of the collector's family */
		t->src.sa.ss_family = t->dst.sa.ss_family;
		t->src.len = t->dst.len;
		((struct sockaddr_in *)&t->src.sa)->sin_port = htons(base->opts.source_port);
		t->has_src = 1;
	}
	return 0;
}

/* A non-blocking socket towards @t, bound to its source if it has one; fd or -errno */
static int net_socket(const struct ns_net_target *t, int type)
{
	int fd, one = 1, err;

	fd = socket(t->dst.sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (t->dscp) {
		int tos = t->dscp << 2;

		if (t->dst.sa.ss_family == AF_INET6
			    ? setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos))
			    : setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos))) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	if (t->has_src) {
		/* several collectors may share one source port, as routers export */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&t->src.sa, t->src.len)) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

static enum ns_proto url_proto(enum ns_url_kind k)
{
	return k == NS_URL_V5 ? NS_PROTO_V5 : k == NS_URL_V9 ? NS_PROTO_V9 : NS_PROTO_IPFIX;
}

/* UDP */

/* A message held back until the flush (see ns_sink_set_commit) */
struct ns_udp_held {
	size_t off, len;
	uint32_t flows;
};

struct ns_udp_sink {
	struct ns_sink base;
	int fd;
	uint8_t *held; /* messages held back, back to back */
	size_t held_len, held_cap;
	struct ns_udp_held *msgs;
	size_t n_msgs, msgs_cap;
	/* sent since the last check for an ICMP error: not yet known to have met a collector */
	uint64_t unconfirmed_msgs, unconfirmed_records, unconfirmed_bytes;
	uint64_t down_refresh_ms; /* last template refresh while down */
};

/* While down, templates go out at most once a second: a collector coming back gets them soon */
#define NS_UDP_DOWN_REFRESH_MS 1000

static void udp_count(struct ns_udp_sink *us, int ok, uint32_t flows, size_t len)
{
	ns_sink_count(&us->base, ok, flows, len);
	if (ok) {
		us->unconfirmed_msgs++;
		us->unconfirmed_bytes += len;
		us->unconfirmed_records += flows;
	}
}

/*
 * An ICMP error (port or host unreachable) one of the datagrams sent since the last check drew:
 * they met no collector. They were counted as sent; they count as dropped instead.
 */
static void udp_refused(struct ns_udp_sink *us, int err)
{
	struct ns_sink_stats *st = &us->base.stats;

	st->messages_sent -= us->unconfirmed_msgs;
	st->records_sent -= us->unconfirmed_records;
	st->bytes_sent -= us->unconfirmed_bytes;
	st->records_dropped += us->unconfirmed_records;
	st->send_errors++;
	us->unconfirmed_msgs = us->unconfirmed_records = us->unconfirmed_bytes = 0;
	ns_sink_fail(&us->base, NS_SINK_DOWN, err);
	if (us->base.now_ms - us->down_refresh_ms >= NS_UDP_DOWN_REFRESH_MS) {
		ns_encoder_refresh(&us->base.enc, 0);
		us->down_refresh_ms = us->base.now_ms;
	}
}

/* What the datagrams since the last check met: an error, or (by now) nothing but a collector */
static void udp_check(struct ns_udp_sink *us)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (!getsockopt(us->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) && soerr) {
		udp_refused(us, soerr);
		return;
	}
	if (us->unconfirmed_msgs && us->base.stats.state != NS_SINK_UP) {
		/* back: it has missed templates, so they go with the next message */
		ns_sink_up(&us->base);
		ns_encoder_refresh(&us->base.enc, 0);
	}
	us->unconfirmed_msgs = us->unconfirmed_records = us->unconfirmed_bytes = 0;
}

static int udp_send_one(struct ns_udp_sink *us, const uint8_t *msg, size_t len, uint32_t flows)
{
	ssize_t n = send(us->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	/*
	 * ECONNREFUSED is the ICMP port-unreachable an earlier datagram caused: this one did not
	 * leave. Try once more, which also tells whether the collector is back.
	 */
	if (n < 0 && errno == ECONNREFUSED) {
		udp_refused(us, ECONNREFUSED);
		n = send(us->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	if (n != (ssize_t)len)
		ns_sink_fail(&us->base, NS_SINK_DOWN, n < 0 ? errno : EMSGSIZE);
	udp_count(us, n == (ssize_t)len, flows, len);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EMSGSIZE;
}

static int udp_hold(struct ns_udp_sink *us, const uint8_t *msg, size_t len, uint32_t flows)
{
	if (us->held_len + len > us->held_cap) {
		size_t cap = us->held_cap ? us->held_cap : 65536;
		uint8_t *p;

		while (cap < us->held_len + len)
			cap *= 2;
		p = realloc(us->held, cap);
		if (!p)
			return -ENOMEM;
		us->held = p;
		us->held_cap = cap;
	}
	if (us->n_msgs == us->msgs_cap) {
		size_t cap = us->msgs_cap ? us->msgs_cap * 2 : 256;
		struct ns_udp_held *m = realloc(us->msgs, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		us->msgs = m;
		us->msgs_cap = cap;
	}
	memcpy(us->held + us->held_len, msg, len);
	us->msgs[us->n_msgs++] = (struct ns_udp_held){ us->held_len, len, flows };
	us->held_len += len;
	return 0;
}

static int udp_emit(void *arg, const uint8_t *msg, size_t len, uint32_t flows)
{
	struct ns_udp_sink *us = arg;
	int err;

	if (!us->base.commit)
		return udp_send_one(us, msg, len, flows);
	err = udp_hold(us, msg, len, flows);
	if (err)
		ns_sink_count(&us->base, 0, flows, len);
	return err;
}

#define UDP_VLEN 1024 /* messages per sendmmsg, the kernel's UIO_MAXIOV */

/*
 * Sends the held messages, as few system calls as the kernel allows (one up to UDP_VLEN). With
 * commit set, the commit hook runs right before the first call, once everything it needs is
 * ready: nothing but the call itself lies between the note and the send.
 */
static void udp_send_held(struct ns_udp_sink *us, int commit)
{
	struct mmsghdr v[UDP_VLEN];
	struct iovec iov[UDP_VLEN];
	size_t i = 0;
	int retried = 0;

	while (i < us->n_msgs) {
		unsigned int n = us->n_msgs - i < UDP_VLEN ? us->n_msgs - i : UDP_VLEN;
		int sent;

		for (unsigned int j = 0; j < n; j++) {
			iov[j] = (struct iovec){ us->held + us->msgs[i + j].off,
						 us->msgs[i + j].len };
			v[j] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[j],
							      .msg_iovlen = 1 } };
		}
		if (commit) {
			ns_sink_commit(&us->base);
			commit = 0;
		}
		sent = sendmmsg(us->fd, v, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		for (int j = 0; j < sent; j++)
			udp_count(us, 1, us->msgs[i + j].flows, us->msgs[i + j].len);
		if (sent > 0) {
			i += sent;
			continue;
		}
		/* the first message did not leave: as in udp_send_one, one more try */
		if (errno == ECONNREFUSED && !retried) {
			udp_refused(us, ECONNREFUSED);
			retried = 1;
			continue;
		}
		ns_sink_fail(&us->base, NS_SINK_DOWN, errno);
		udp_count(us, 0, us->msgs[i].flows, us->msgs[i].len);
		i++;
	}
	us->n_msgs = 0;
	us->held_len = 0;
}

static int udp_write(struct ns_sink *s, const struct ns_record *recs, size_t n, uint64_t now_ms)
{
	/* before encoding: a collector found down or back gets templates in these messages */
	udp_check((struct ns_udp_sink *)s);
	return ns_encoder_add(&s->enc, recs, n, now_ms);
}

static int udp_flush(struct ns_sink *s, uint64_t now_ms)
{
	struct ns_udp_sink *us = (struct ns_udp_sink *)s;
	int err;

	udp_check(us);
	err = ns_encoder_flush(&s->enc, now_ms);

	if (s->commit) {
		if (us->n_msgs)
			udp_send_held(us, 1);
		else
			ns_sink_commit(s);
	}
	return err;
}

static int udp_tick(struct ns_sink *s, uint64_t now_ms)
{
	int err;

	udp_check((struct ns_udp_sink *)s);
	err = ns_encoder_tick(&s->enc, now_ms);

	/* a refresh is held back like any message: send it now */
	if (s->commit && ((struct ns_udp_sink *)s)->n_msgs)
		udp_send_held((struct ns_udp_sink *)s, 0);
	return err;
}

static void udp_destroy(struct ns_sink *s)
{
	struct ns_udp_sink *us = (struct ns_udp_sink *)s;

	if (us->fd >= 0)
		close(us->fd);
	free(us->held);
	free(us->msgs);
	free(us);
}

/* The last datagrams' ICMP errors, if any, arrive within a round trip: wait that long */
static uint64_t udp_finish(struct ns_sink *s, uint64_t now_ms, int timeout_ms)
{
	struct ns_udp_sink *us = (struct ns_udp_sink *)s;
	struct pollfd p = { .fd = us->fd };
	uint64_t dropped = s->stats.records_dropped;

	(void)now_ms;
	if (us->unconfirmed_msgs)
		poll(&p, 1, timeout_ms < 200 ? timeout_ms : 200);
	udp_check(us);
	return s->stats.records_dropped - dropped;
}

static const struct ns_sink_ops udp_ops = {
	.write = udp_write,
	.tick = udp_tick,
	.flush = udp_flush,
	.destroy = udp_destroy,
	.finish = udp_finish,
	.commits_itself = 1,
};

int ns_sink_udp_open(struct ns_sink **out, const struct ns_sink *base, const struct ns_url *u,
		     const char *source_addr, char *err, size_t errlen)
{
	struct ns_net_target t;
	struct ns_udp_sink *us;
	int ret;

	ret = net_resolve(base, u, source_addr, SOCK_DGRAM, &t, err, errlen);
	if (ret)
		return ret;
	us = ns_sink_alloc(sizeof(*us), base, &udp_ops, err, errlen);
	if (!us)
		return -ENOMEM;
	us->fd = net_socket(&t, SOCK_DGRAM);
	if (us->fd < 0) {
		ret = ns_errf(err, errlen, us->fd, "socket for '%s': %s", base->url,
			      strerror(-us->fd));
		goto fail;
	}
	if (connect(us->fd, (const struct sockaddr *)&t.dst.sa, t.dst.len)) {
		ret = ns_errf(err, errlen, -errno, "connect UDP socket to '%s': %s", base->url,
			      strerror(errno));
		goto fail;
	}
	ret = ns_sink_encoder_init(&us->base, url_proto(u->kind), 0, udp_emit);
	if (ret) {
		ns_errf(err, errlen, ret, "set up encoder for '%s': %s", base->url, strerror(-ret));
		goto fail;
	}
	ns_sink_up(&us->base);
	*out = &us->base;
	return 0;
fail:
	udp_destroy(&us->base);
	return ret;
}

/* TCP */

enum ns_tcp_state { NS_TCP_DOWN, NS_TCP_CONNECTING, NS_TCP_UP };

/* End offset in the output buffer, flow count and length of one encoded message */
struct ns_tcp_mark {
	size_t end;
	uint32_t flows, len;
};

struct ns_tcp_sink {
	struct ns_sink base;
	struct ns_net_target target;
	int fd;
	enum ns_tcp_state state;
	uint64_t next_attempt_ms, connect_start_ms;
	uint64_t progress_ms; /* the socket last took bytes, or had nothing to take */
	uint32_t backoff_ms;
	int ever_up;
	/* records waiting to be encoded: a ring that grows up to tcp_queue_max */
	struct ns_record *q;
	size_t q_cap, q_max, q_head, q_len;
	/* encoded bytes waiting for the socket, and their message boundaries */
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	struct ns_tcp_mark *marks;
	size_t n_marks, mark_head, marks_cap;
	/*
	 * Messages the socket took but the collector has not acknowledged yet, by their end in
	 * the connection's byte stream: they count as sent once acknowledged, as dropped if the
	 * connection dies first.
	 */
	struct ns_tcp_mark *inflight;
	size_t n_inflight, inflight_head, inflight_cap;
	uint64_t stream_bytes; /* given to this connection's socket */
};

static void tcp_reset_out(struct ns_tcp_sink *ts)
{
	ts->out_len = ts->out_off = 0;
	ts->n_marks = ts->mark_head = 0;
}

static void tcp_down(struct ns_tcp_sink *ts, uint64_t now_ms, int err)
{
	size_t i;

	ns_sink_fail(&ts->base, NS_SINK_DOWN, err);
	if (ts->state == NS_TCP_UP) {
		/* what the socket has not taken is lost with the connection */
		ts->base.stats.send_errors++;
		for (i = ts->mark_head; i < ts->n_marks; i++)
			ts->base.stats.records_dropped += ts->marks[i].flows;
		for (i = ts->inflight_head; i < ts->n_inflight; i++)
			ts->base.stats.records_dropped += ts->inflight[i].flows;
		ts->base.stats.records_dropped += ns_encoder_restart(&ts->base.enc);
		tcp_reset_out(ts);
		ts->n_inflight = ts->inflight_head = 0;
	}
	if (ts->fd >= 0)
		close(ts->fd);
	ts->fd = -1;
	ts->state = NS_TCP_DOWN;
	ts->next_attempt_ms = now_ms + ts->backoff_ms;
	ts->backoff_ms = ts->backoff_ms * 2 > NS_TCP_BACKOFF_MAX_MS ? NS_TCP_BACKOFF_MAX_MS
								    : ts->backoff_ms * 2;
}

static void tcp_send_out(struct ns_tcp_sink *ts, uint64_t now_ms);
static void tcp_confirm(struct ns_tcp_sink *ts, uint64_t now_ms);

static void tcp_up(struct ns_tcp_sink *ts, uint64_t now_ms)
{
	ts->state = NS_TCP_UP;
	ts->progress_ms = now_ms;
	ts->stream_bytes = 0;
	ts->n_inflight = ts->inflight_head = 0;
	ns_sink_up(&ts->base);
	if (ts->ever_up)
		ts->base.stats.reconnects++;
	ts->ever_up = 1;
	ts->backoff_ms = NS_TCP_BACKOFF_MIN_MS;
	/* a new Transport Session: sequence from 0, templates and options before any data */
	ts->base.stats.records_dropped += ns_encoder_restart(&ts->base.enc);
	ns_encoder_tick(&ts->base.enc, now_ms);
	tcp_send_out(ts, now_ms);
}

static void tcp_connect_start(struct ns_tcp_sink *ts, uint64_t now_ms)
{
	const struct ns_net_addr *dst = &ts->target.dst;

	unsigned int user_timeout = NS_TCP_SEND_TIMEOUT_MS;
	int err;

	ts->fd = net_socket(&ts->target, SOCK_STREAM);
	if (ts->fd < 0) {
		err = -ts->fd;
		ts->fd = -1;
		tcp_down(ts, now_ms, err);
		return;
	}
	/* the kernel gives up on data the collector does not acknowledge, as we do on a stall */
	setsockopt(ts->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
	ts->connect_start_ms = now_ms;
	if (!connect(ts->fd, (const struct sockaddr *)&dst->sa, dst->len))
		tcp_up(ts, now_ms);
	else if (errno == EINPROGRESS)
		ts->state = NS_TCP_CONNECTING;
	else
		tcp_down(ts, now_ms, errno);
}

static void tcp_check_connect(struct ns_tcp_sink *ts, uint64_t now_ms)
{
	struct pollfd p = { .fd = ts->fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (poll(&p, 1, 0) <= 0) {
		if (now_ms - ts->connect_start_ms >= NS_TCP_CONNECT_TIMEOUT_MS)
			tcp_down(ts, now_ms, ETIMEDOUT);
		return;
	}
	if (getsockopt(ts->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr)
		tcp_down(ts, now_ms, soerr ? soerr : errno);
	else
		tcp_up(ts, now_ms);
}

/* Collectors send nothing over IPFIX/TCP: readable means closed (0) or reset (error) */
static void tcp_check_peer(struct ns_tcp_sink *ts, uint64_t now_ms)
{
	char buf[256];
	ssize_t n;

	do
		n = recv(ts->fd, buf, sizeof(buf), MSG_DONTWAIT);
	while (n > 0);
	if (n == 0)
		tcp_down(ts, now_ms, ECONNRESET);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		tcp_down(ts, now_ms, errno);
	else if ((ts->out_off < ts->out_len || ts->inflight_head < ts->n_inflight) &&
		 now_ms - ts->progress_ms >= NS_TCP_SEND_TIMEOUT_MS)
		tcp_down(ts, now_ms, ETIMEDOUT); /* connected, but it takes nothing */
}

static void tcp_progress(struct ns_tcp_sink *ts, uint64_t now_ms)
{
	if (ts->state == NS_TCP_DOWN && now_ms >= ts->next_attempt_ms)
		tcp_connect_start(ts, now_ms);
	if (ts->state == NS_TCP_CONNECTING)
		tcp_check_connect(ts, now_ms);
	if (ts->state == NS_TCP_UP)
		tcp_confirm(ts, now_ms);
	if (ts->state == NS_TCP_UP)
		tcp_check_peer(ts, now_ms);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem);

/* A message the socket took, ending at byte @end of the stream: sent once acknowledged */
static void tcp_taken(struct ns_tcp_sink *ts, uint64_t end, uint32_t flows, uint32_t len)
{
	if (ts->inflight_head && ts->inflight_head == ts->n_inflight)
		ts->n_inflight = ts->inflight_head = 0;
	if (ts->n_inflight == ts->inflight_cap && ts->inflight_head > ts->inflight_cap / 2) {
		memmove(ts->inflight, ts->inflight + ts->inflight_head,
			(ts->n_inflight - ts->inflight_head) * sizeof(*ts->inflight));
		ts->n_inflight -= ts->inflight_head;
		ts->inflight_head = 0;
	}
	if (grow((void **)&ts->inflight, &ts->inflight_cap, ts->n_inflight + 1,
		 sizeof(*ts->inflight))) {
		ns_sink_count(&ts->base, 1, flows,
			      len); /* no memory to track it: trust the socket */
		return;
	}
	ts->inflight[ts->n_inflight++] = (struct ns_tcp_mark){ (size_t)end, flows, len };
}

/* Messages the collector's TCP acknowledged (the send queue no longer holds them) are sent */
static void tcp_confirm(struct ns_tcp_sink *ts, uint64_t now_ms)
{
	size_t head = ts->inflight_head;
	int outq = 0;
	uint64_t acked;

	if (ts->inflight_head == ts->n_inflight || ioctl(ts->fd, SIOCOUTQ, &outq) || outq < 0)
		return;
	acked = ts->stream_bytes - (uint64_t)outq;
	while (ts->inflight_head < ts->n_inflight && ts->inflight[ts->inflight_head].end <= acked) {
		const struct ns_tcp_mark *m = &ts->inflight[ts->inflight_head++];

		ns_sink_count(&ts->base, 1, m->flows, m->len);
	}
	if (ts->inflight_head != head)
		ts->progress_ms = now_ms;
	if (ts->inflight_head < ts->n_inflight)
		return;
	ts->n_inflight = ts->inflight_head = 0;
}

static void tcp_send_out(struct ns_tcp_sink *ts, uint64_t now_ms)
{
	size_t keep;
	ssize_t n;

	while (ts->state == NS_TCP_UP && ts->out_off < ts->out_len) {
		n = send(ts->fd, ts->out + ts->out_off, ts->out_len - ts->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			tcp_down(ts, now_ms, n < 0 ? errno : ECONNRESET);
			return;
		}
		ts->out_off += n;
		ts->stream_bytes += n;
		ts->progress_ms = now_ms;
	}
	while (ts->mark_head < ts->n_marks && ts->marks[ts->mark_head].end <= ts->out_off) {
		const struct ns_tcp_mark *m = &ts->marks[ts->mark_head++];

		tcp_taken(ts, ts->stream_bytes - (ts->out_off - m->end), m->flows, m->len);
	}
	tcp_confirm(ts, now_ms);
	if (ts->out_off == ts->out_len) {
		tcp_reset_out(ts);
		if (ts->inflight_head == ts->n_inflight)
			ts->progress_ms = now_ms; /* nothing waits on the collector */
	} else if (ts->out_off >= ts->out_cap / 2) {
		/* keep the unsent tail at the front so the buffer does not creep */
		keep = ts->out_len - ts->out_off;
		memmove(ts->out, ts->out + ts->out_off, keep);
		for (n = ts->mark_head; (size_t)n < ts->n_marks; n++)
			ts->marks[n - ts->mark_head] =
				(struct ns_tcp_mark){ ts->marks[n].end - ts->out_off,
						      ts->marks[n].flows, ts->marks[n].len };
		ts->n_marks -= ts->mark_head;
		ts->mark_head = 0;
		ts->out_len = keep;
		ts->out_off = 0;
	}
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	np = realloc(*p, n * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = n;
	return 0;
}

static int tcp_emit(void *arg, const uint8_t *msg, size_t len, uint32_t flows)
{
	struct ns_tcp_sink *ts = arg;

	if (ts->state != NS_TCP_UP || grow((void **)&ts->out, &ts->out_cap, ts->out_len + len, 1) ||
	    grow((void **)&ts->marks, &ts->marks_cap, ts->n_marks + 1, sizeof(*ts->marks))) {
		ns_sink_count(&ts->base, 0, flows, len);
		return ts->state != NS_TCP_UP ? -ENOTCONN : -ENOMEM;
	}
	memcpy(ts->out + ts->out_len, msg, len);
	ts->out_len += len;
	ts->marks[ts->n_marks++] = (struct ns_tcp_mark){ ts->out_len, flows, (uint32_t)len };
	return 0;
}

/* Encode queued records while the socket keeps up; @flush also sends the partial message */
static void tcp_pump(struct ns_tcp_sink *ts, uint64_t now_ms, int flush)
{
	size_t chunk;

	tcp_progress(ts, now_ms);
	tcp_send_out(ts, now_ms);
	while (ts->state == NS_TCP_UP && ts->q_len && ts->out_len - ts->out_off < NS_TCP_OUT_HIGH) {
		chunk = ts->q_cap - ts->q_head;
		if (chunk > ts->q_len)
			chunk = ts->q_len;
		if (chunk > NS_TCP_CHUNK)
			chunk = NS_TCP_CHUNK;
		ns_encoder_add(&ts->base.enc, ts->q + ts->q_head, chunk, now_ms);
		ts->q_head = (ts->q_head + chunk) % ts->q_cap;
		ts->q_len -= chunk;
		tcp_send_out(ts, now_ms);
	}
	if (flush && ts->state == NS_TCP_UP && !ts->q_len) {
		ns_encoder_tick(&ts->base.enc, now_ms);
		tcp_send_out(ts, now_ms);
	}
}

/* Make room for one more record: grow the ring (unwrapping it) up to q_max */
static int tcp_queue_room(struct ns_tcp_sink *ts)
{
	size_t old = ts->q_cap, cap, wrapped;
	struct ns_record *q;

	if (ts->q_len < ts->q_cap)
		return 0;
	if (ts->q_cap >= ts->q_max)
		return -ENOBUFS;
	cap = old ? old * 2 : NS_TCP_QUEUE_MIN;
	if (cap > ts->q_max)
		cap = ts->q_max;
	q = realloc(ts->q, cap * sizeof(*q));
	if (!q)
		return -ENOMEM;
	wrapped = ts->q_head + ts->q_len > old ? ts->q_head + ts->q_len - old : 0;
	if (wrapped <= cap - old) {
		memcpy(q + old, q, wrapped * sizeof(*q));
	} else {
		/* the wrapped part does not fit after the old end: move the head part back */
		memmove(q + cap - (old - ts->q_head), q + ts->q_head,
			(old - ts->q_head) * sizeof(*q));
		ts->q_head = cap - (old - ts->q_head);
	}
	ts->q = q;
	ts->q_cap = cap;
	return 0;
}

static int tcp_write(struct ns_sink *s, const struct ns_record *recs, size_t n, uint64_t now_ms)
{
	struct ns_tcp_sink *ts = (struct ns_tcp_sink *)s;
	size_t i;

	for (i = 0; i < n; i++) {
		if (tcp_queue_room(ts)) {
			s->stats.records_dropped += n - i;
			break;
		}
		ts->q[(ts->q_head + ts->q_len++) % ts->q_cap] = recs[i];
	}
	tcp_pump(ts, now_ms, 0);
	return 0;
}

static int tcp_tick(struct ns_sink *s, uint64_t now_ms)
{
	tcp_pump((struct ns_tcp_sink *)s, now_ms, 1);
	return 0;
}

static void tcp_destroy(struct ns_sink *s)
{
	struct ns_tcp_sink *ts = (struct ns_tcp_sink *)s;

	if (ts->fd >= 0)
		close(ts->fd);
	free(ts->q);
	free(ts->out);
	free(ts->marks);
	free(ts->inflight);
	free(ts);
}

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Everything queued, encoded or not, that the socket has not taken */
static uint64_t tcp_unsent(const struct ns_tcp_sink *ts)
{
	uint64_t n = ts->q_len + ts->base.enc.msg.n_flows;

	for (size_t i = ts->mark_head; i < ts->n_marks; i++)
		n += ts->marks[i].flows;
	for (size_t i = ts->inflight_head; i < ts->n_inflight; i++)
		n += ts->inflight[i].flows;
	return n;
}

/* At exit: keep sending (and connecting) for up to @timeout_ms; what is left is lost */
static uint64_t tcp_finish(struct ns_sink *s, uint64_t now_ms, int timeout_ms)
{
	struct ns_tcp_sink *ts = (struct ns_tcp_sink *)s;
	uint64_t start = mono_ms(), elapsed = 0, left;

	/* no waiting for a backoff that would end after the deadline */
	if (ts->state == NS_TCP_DOWN && ts->next_attempt_ms > now_ms)
		ts->next_attempt_ms = now_ms;
	while (tcp_unsent(ts) && elapsed < (uint64_t)timeout_ms) {
		struct pollfd p = { .fd = ts->fd, .events = POLLOUT };

		tcp_pump(ts, now_ms + elapsed, 1);
		if (!tcp_unsent(ts))
			break;
		/* writable while only acknowledgements are awaited: then just wait a little */
		if (ts->fd >= 0 && ts->out_off < ts->out_len)
			poll(&p, 1, 50);
		else
			poll(NULL, 0, 10);
		elapsed = mono_ms() - start;
	}
	left = tcp_unsent(ts);
	if (left) {
		s->stats.records_dropped += left;
		ts->q_len = 0;
		ns_encoder_restart(&s->enc);
		tcp_reset_out(ts);
		ts->n_inflight = ts->inflight_head = 0;
	}
	return left;
}

static const struct ns_sink_ops tcp_ops = {
	.write = tcp_write,
	.tick = tcp_tick,
	.flush = tcp_tick,
	.destroy = tcp_destroy,
	.finish = tcp_finish,
};

int ns_sink_tcp_open(struct ns_sink **out, const struct ns_sink *base, const struct ns_url *u,
		     const char *source_addr, char *err, size_t errlen)
{
	struct ns_tcp_sink *ts;
	int ret;

	ts = ns_sink_alloc(sizeof(*ts), base, &tcp_ops, err, errlen);
	if (!ts)
		return -ENOMEM;
	ts->fd = -1;
	ts->backoff_ms = NS_TCP_BACKOFF_MIN_MS;
	ts->q_max = base->opts.tcp_queue_max ? base->opts.tcp_queue_max : 65536;
	ret = net_resolve(base, u, source_addr, SOCK_STREAM, &ts->target, err, errlen);
	if (!ret) {
		ret = ns_sink_encoder_init(&ts->base, NS_PROTO_IPFIX, 1, tcp_emit);
		if (ret)
			ns_errf(err, errlen, ret, "set up encoder for '%s': %s", base->url,
				strerror(-ret));
	}
	if (ret) {
		tcp_destroy(&ts->base);
		return ret;
	}
	/* the first write or tick connects: only then is the time known */
	ts->next_attempt_ms = 0;
	ts->base.stats.state = NS_SINK_DOWN;
	*out = &ts->base;
	return 0;
}
