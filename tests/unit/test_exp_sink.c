// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Sinks end to end on 127.0.0.1: URL errors, UDP read back (and a collector that is down),
 * IPFIX over TCP to a listener that goes away and comes back, IPFIX files, JSON and text.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exp_decode.h"
#include "exp_msg.h"
#include "exp_url.h"
#include "sink.h"
#include "exp_format.h"

#define T0 1700000002000ULL

static struct ns_export_context ctx = { .boot_ms = T0 - 60000 };
static char err[512];

static void rec_v4(struct ns_record *r, int i)
{
	memset(r, 0, sizeof(*r));
	r->ip_version = 4;
	r->protocol = 17;
	r->src_addr[10] = r->src_addr[11] = 0xff;
	r->dst_addr[10] = r->dst_addr[11] = 0xff;
	inet_pton(AF_INET, "192.0.2.1", r->src_addr + 12);
	inet_pton(AF_INET, "192.0.2.2", r->dst_addr + 12);
	r->src_port = 1000 + i;
	r->dst_port = 53;
	r->packets = i + 1;
	r->octets = 100 * (i + 1);
	r->start_ms = T0 - 5000;
	r->end_ms = T0 - 1000;
	r->sampling_interval = 1;
}

static int url_fails(const char *url, const char *msg)
{
	struct ns_url u;

	err[0] = '\0';
	if (ns_url_parse(url, &u, err, sizeof(err)) != -EINVAL)
		return 0;
	return !strcmp(err, msg);
}

Test(url, errors_name_the_url_and_the_problem)
{
	cr_assert(url_fails("v10://x:1", "unknown scheme 'v10' in 'v10://x:1' "
					 "(expected v5, v9, ipfix, ipfix+tcp, file, json, text)"),
		  "%s", err);
	cr_assert(url_fails("collector:2055",
			    "unknown scheme 'collector' in 'collector:2055' "
			    "(expected v5, v9, ipfix, ipfix+tcp, file, json, text)"),
		  "%s", err);
	cr_assert(url_fails("localhost", "missing scheme in 'localhost' "
					 "(expected v5, v9, ipfix, ipfix+tcp, file, json, text)"),
		  "%s", err);
	cr_assert(url_fails("v9:host:2055", "expected '//' after 'v9:' in 'v9:host:2055'"), "%s",
		  err);
	cr_assert(url_fails("v9://host", "missing port in 'v9://host' (expected HOST:PORT)"), "%s",
		  err);
	cr_assert(url_fails("v9://host:", "missing port in 'v9://host:' (expected HOST:PORT)"),
		  "%s", err);
	cr_assert(url_fails("ipfix://h:70000",
			    "bad port '70000' in 'ipfix://h:70000' (expected 1-65535)"),
		  "%s", err);
	cr_assert(url_fails("ipfix://h:0", "bad port '0' in 'ipfix://h:0' (expected 1-65535)"),
		  "%s", err);
	cr_assert(url_fails("ipfix://h:12ab", "bad port '12ab' in 'ipfix://h:12ab' "
					      "(expected 1-65535)"),
		  "%s", err);
	cr_assert(url_fails("v5://:2055", "missing host in 'v5://:2055'"), "%s", err);
	cr_assert(url_fails("ipfix://[::1:4739", "unterminated '[' in 'ipfix://[::1:4739'"), "%s",
		  err);
	cr_assert(url_fails("ipfix://::1:4739", "IPv6 address must be in brackets in "
						"'ipfix://::1:4739' (like [::1]:4739)"),
		  "%s", err);
	cr_assert(url_fails("ipfix://[::1]", "missing port in 'ipfix://[::1]' "
					     "(expected [IPV6]:PORT)"),
		  "%s", err);
	cr_assert(url_fails("ipfix://[::1]x4739", "unexpected 'x4739' after ']' in "
						  "'ipfix://[::1]x4739'"),
		  "%s", err);
	cr_assert(url_fails("json:", "missing path in 'json:' (use json:- for stdout)"), "%s", err);
	cr_assert(url_fails("", "empty collector URL (expected one of v5, v9, ipfix, ipfix+tcp, "
				"file, json, text)"),
		  "%s", err);
}

Test(url, parses)
{
	struct ns_url u;

	cr_assert_eq(ns_url_parse("ipfix+tcp://[2001:db8::1]:4739", &u, err, sizeof(err)), 0);
	cr_assert_eq(u.kind, NS_URL_IPFIX_TCP);
	cr_assert_str_eq(u.host, "2001:db8::1");
	cr_assert_str_eq(u.port, "4739");
	cr_assert_eq(ns_url_parse("v5://collector.example:2055", &u, err, sizeof(err)), 0);
	cr_assert_eq(u.kind, NS_URL_V5);
	cr_assert_str_eq(u.host, "collector.example");
	cr_assert_eq(ns_url_parse("file:///var/lib/x.ipfix", &u, err, sizeof(err)), 0);
	cr_assert_str_eq(u.path, "/var/lib/x.ipfix");
	cr_assert_eq(ns_url_parse("text:-", &u, err, sizeof(err)), 0);
	cr_assert_eq(u.kind, NS_URL_TEXT);
	cr_assert_str_eq(u.path, "-");
}

Test(sink, open_errors)
{
	struct ns_export_opts o;
	struct ns_sink *s;

	cr_assert_eq(ns_sink_open(&s, "v10://x:1", NULL, &ctx, err, sizeof(err)), -EINVAL);
	cr_assert_null(s);
	cr_assert(strstr(err, "unknown scheme 'v10'"));
	ns_export_opts_default(&o);
	o.mtu = 100;
	cr_assert_eq(ns_sink_open(&s, "ipfix://127.0.0.1:4739", &o, &ctx, err, sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err, "MTU 100 out of range for 'ipfix://127.0.0.1:4739' "
			      "(expected 1024-65535 bytes)");
	ns_export_opts_default(&o);
	o.source_addr = "127.0.0.1";
	cr_assert_lt(ns_sink_open(&s, "ipfix://[::1]:4739", &o, &ctx, err, sizeof(err)), 0);
	cr_assert(strstr(err, "resolve '::1' in 'ipfix://[::1]:4739': "), "%s", err);
	cr_assert_lt(ns_sink_open(&s, "json:/nonexistent-dir/x.json", NULL, &ctx, err, sizeof(err)),
		     0);
	cr_assert_str_eq(err, "open '/nonexistent-dir/x.json' for 'json:/nonexistent-dir/x.json': "
			      "No such file or directory");
}

/* A UDP socket bound to 127.0.0.1 on an ephemeral port */
static int udp_listener(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* bytes of the datagrams the last udp_drain() read, and of the stream the last tcp_read() read */
static size_t udp_drained_bytes, tcp_read_bytes;

/* Read and decode every datagram waiting on @fd; returns how many */
static int udp_drain(int fd, struct ns_decoder *d, uint16_t *src_port)
{
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	uint8_t buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = 0;
	ssize_t len;

	udp_drained_bytes = 0;
	while (poll(&p, 1, n ? 50 : 500) > 0) {
		len = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		cr_assert_gt(len, 0);
		cr_assert_eq(ns_decode(d, buf, len, err, sizeof(err)), 0, "%s", err);
		udp_drained_bytes += (size_t)len;
		if (src_port)
			*src_port = ntohs(from.sin_port);
		n++;
	}
	return n;
}

static void udp_roundtrip(const char *scheme, enum ns_proto proto)
{
	struct ns_record r[100];
	struct ns_sink_stats st;
	struct ns_decoder d;
	struct ns_sink *s;
	char url[64];
	uint16_t port;
	int fd, i, msgs;

	fd = udp_listener(&port);
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u", scheme, port);
	cr_assert_eq(ns_sink_open(&s, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(ns_sink_url(s), url);
	for (i = 0; i < 100; i++)
		rec_v4(&r[i], i);
	cr_assert_eq(ns_sink_write(s, r, 100, T0), 0);
	cr_assert_eq(ns_sink_flush(s, T0), 0);
	ns_decoder_init(&d, proto);
	msgs = udp_drain(fd, &d, NULL);
	ns_sink_get_stats(s, &st);
	cr_assert_eq(st.records_sent, 100);
	cr_assert_eq(st.messages_sent, (uint64_t)msgs);
	cr_assert_eq(st.bytes_sent, udp_drained_bytes, "bytes sent: the datagrams' payloads");
	cr_assert_eq(st.send_errors, 0);
	cr_assert_eq(d.data_records - (proto == NS_PROTO_V5 ? 0 : 1), 100,
		     "every flow (and one reliability options record) arrives");
	if (proto != NS_PROTO_V5)
		cr_assert_geq(st.templates_sent, 4);
	ns_sink_close(s);
	close(fd);
}

Test(sink, udp_ipfix)
{
	udp_roundtrip("ipfix", NS_PROTO_IPFIX);
}

Test(sink, udp_v9)
{
	udp_roundtrip("v9", NS_PROTO_V9);
}

Test(sink, udp_v5_counts_ipv6)
{
	struct ns_record r[2];
	struct ns_sink_stats st;
	struct ns_decoder d;
	struct ns_sink *s;
	char url[64];
	uint16_t port;
	int fd;

	fd = udp_listener(&port);
	snprintf(url, sizeof(url), "v5://127.0.0.1:%u", port);
	cr_assert_eq(ns_sink_open(&s, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	rec_v4(&r[0], 0);
	rec_v4(&r[1], 1);
	r[1].ip_version = 6;
	ns_sink_write(s, r, 2, T0);
	ns_sink_tick(s, T0);
	ns_decoder_init(&d, NS_PROTO_V5);
	cr_assert_eq(udp_drain(fd, &d, NULL), 1);
	ns_sink_get_stats(s, &st);
	cr_assert_eq(st.records_not_exportable, 1);
	cr_assert_eq(st.records_sent, 1);
	cr_assert_eq(d.data_records, 1);
	ns_sink_close(s);
	close(fd);
}

Test(sink, udp_collector_down_then_back)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct ns_sink_stats st;
	struct ns_record r;
	struct ns_decoder d;
	struct ns_sink *s;
	char url[64];
	uint16_t port;
	int fd, i;

	fd = udp_listener(&port);
	close(fd); /* nobody listens: the kernel answers port unreachable */
	snprintf(url, sizeof(url), "ipfix://127.0.0.1:%u", port);
	cr_assert_eq(ns_sink_open(&s, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	rec_v4(&r, 0);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(ns_sink_write(s, &r, 1, T0 + i), 0, "never fatal");
		cr_assert_eq(ns_sink_flush(s, T0 + i), 0);
	}
	ns_sink_get_stats(s, &st);
	cr_assert_gt(st.send_errors, 0, "ECONNREFUSED is counted");
	cr_assert_eq(st.records_sent + st.records_dropped, 5);
	cr_assert_eq(st.state, NS_SINK_DOWN);
	cr_assert_eq(st.last_errno, ECONNREFUSED);

	/* the collector comes back on the same port: the next sends reach it */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = htons(port);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ns_sink_write(s, &r, 1, T0 + 2000);
	ns_sink_flush(s, T0 + 2000);
	ns_sink_get_stats(s, &st);
	cr_assert_eq(st.records_dropped, 5, "each record that drew port unreachable is dropped");
	cr_assert_eq(st.records_sent, 1, "only the one that reached the collector is sent");
	/* a fresh collector knows no template: being down made the next message carry them */
	ns_decoder_init(&d, NS_PROTO_IPFIX);
	cr_assert_eq(udp_drain(fd, &d, NULL), 1);
	cr_assert_eq(d.templates, 1);
	/* the next check finds no error: up again */
	ns_sink_tick(s, T0 + 3000);
	ns_sink_get_stats(s, &st);
	cr_assert(st.connected);
	cr_assert_eq(st.state, NS_SINK_UP);
	ns_sink_close(s);
	close(fd);
}

Test(sink, udp_source_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct ns_export_opts o;
	struct ns_decoder d;
	struct ns_record r;
	struct ns_sink *s;
	uint16_t port, src_port = 0, want;
	socklen_t len = sizeof(a);
	char url[64];
	int fd, tmp;

	/* find a free port for the source */
	tmp = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(bind(tmp, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(tmp, (struct sockaddr *)&a, &len);
	want = ntohs(a.sin_port);
	close(tmp);

	fd = udp_listener(&port);
	ns_export_opts_default(&o);
	o.source_addr = "127.0.0.1";
	o.source_port = want;
	snprintf(url, sizeof(url), "ipfix://127.0.0.1:%u", port);
	cr_assert_eq(ns_sink_open(&s, url, &o, &ctx, err, sizeof(err)), 0, "%s", err);
	rec_v4(&r, 0);
	ns_sink_write(s, &r, 1, T0);
	ns_sink_flush(s, T0);
	ns_decoder_init(&d, NS_PROTO_IPFIX);
	cr_assert_eq(udp_drain(fd, &d, &src_port), 1);
	cr_assert_eq(src_port, want);
	ns_sink_close(s);
	close(fd);
}

Test(sink, udp_ipv6_collector)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t len = sizeof(a);
	struct ns_record r;
	struct ns_sink *s;
	uint8_t buf[2048];
	char url[64];
	int fd;

	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
		cr_skip_test("no IPv6 loopback here");
	getsockname(fd, (struct sockaddr *)&a, &len);
	snprintf(url, sizeof(url), "v9://[::1]:%u", ntohs(a.sin6_port));
	cr_assert_eq(ns_sink_open(&s, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	rec_v4(&r, 0);
	ns_sink_write(s, &r, 1, T0);
	ns_sink_flush(s, T0);
	cr_assert_gt(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 20);
	cr_assert_eq(ns_get16(buf), 9);
	ns_sink_close(s);
	close(fd);
}

static int tcp_listener(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(*port) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0, "bind: %s", strerror(errno));
	cr_assert_eq(listen(fd, 4), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Tick the sink until the listener has a connection to accept */
static int tcp_accept(int lfd, struct ns_sink *s, uint64_t now)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int i, fd;

	for (i = 0; i < 200; i++) {
		ns_sink_tick(s, now);
		if (poll(&p, 1, 10) > 0)
			break;
	}
	fd = accept(lfd, NULL, NULL);
	cr_assert_geq(fd, 0);
	return fd;
}

/* Read the IPFIX stream on @fd and decode message by message; returns messages read */
static int tcp_read(int fd, struct ns_sink *s, uint64_t now, struct ns_decoder *d,
		    uint64_t want_records)
{
	static uint8_t buf[1 << 20];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t have = 0, off = 0, len;
	int i, msgs = 0;
	ssize_t n;

	for (i = 0; i < 200 && d->data_records < want_records; i++) {
		ns_sink_tick(s, now);
		if (poll(&p, 1, 10) <= 0)
			continue;
		n = read(fd, buf + have, sizeof(buf) - have);
		cr_assert_gt(n, 0);
		have += n;
		while (have - off >= 4 && have - off >= (len = ns_get16(buf + off + 2))) {
			cr_assert_eq(ns_decode(d, buf + off, len, err, sizeof(err)), 0, "%s", err);
			off += len;
			msgs++;
		}
	}
	tcp_read_bytes = have;
	return msgs;
}

static uint64_t flow_count;

static void count_flow(void *arg, const struct ns_dec_record *r)
{
	(void)arg;
	flow_count += r->tmpl->id < 265;
}

Test(sink, tcp_reconnects_and_resends_templates)
{
	struct ns_record r[15];
	struct ns_sink_stats st;
	struct ns_decoder d;
	struct ns_sink *s;
	uint16_t port = 0;
	int lfd, cfd, i;
	char url[64];

	for (i = 0; i < 15; i++)
		rec_v4(&r[i], i);
	lfd = tcp_listener(&port);
	snprintf(url, sizeof(url), "ipfix+tcp://127.0.0.1:%u", port);
	cr_assert_eq(ns_sink_open(&s, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	cfd = tcp_accept(lfd, s, T0);
	ns_sink_write(s, r, 10, T0);
	ns_decoder_init(&d, NS_PROTO_IPFIX);
	d.on_record = count_flow;
	flow_count = 0;
	tcp_read(cfd, s, T0, &d, 11);
	cr_assert_eq(flow_count, 10);
	cr_assert_eq(d.option_templates, 5);
	cr_assert_eq(d.templates, 1);
	ns_sink_get_stats(s, &st);
	cr_assert(st.connected);
	cr_assert_eq(st.records_sent, 10);

	/* the collector goes away: records are queued, never block, never crash */
	close(cfd);
	close(lfd);
	for (i = 0; i < 20; i++) {
		ns_sink_tick(s, T0 + 100);
		usleep(1000);
	}
	ns_sink_write(s, r + 10, 5, T0 + 200);
	ns_sink_tick(s, T0 + 300);
	ns_sink_get_stats(s, &st);
	cr_assert_not(st.connected);
	cr_assert_eq(st.records_sent, 10);

	/* back on the same port: after the backoff, a new session starts with templates */
	lfd = tcp_listener(&port);
	cfd = tcp_accept(lfd, s, T0 + 5000);
	ns_decoder_init(&d, NS_PROTO_IPFIX);
	d.on_record = count_flow;
	flow_count = 0;
	tcp_read(cfd, s, T0 + 5000, &d, 6);
	cr_assert_eq(flow_count, 5, "the queued records arrive");
	cr_assert_eq(d.option_templates, 5, "options templates resent on the new connection");
	cr_assert_eq(d.templates, 1, "flow template resent on the new connection");
	ns_sink_get_stats(s, &st);
	cr_assert(st.connected);
	cr_assert_eq(st.reconnects, 1);
	cr_assert_eq(st.records_sent, 15);
	cr_assert_eq(st.records_dropped, 0);
	ns_sink_close(s);
	close(cfd);
	close(lfd);
}

Test(sink, tcp_queue_overflow_is_counted)
{
	struct ns_export_opts o;
	struct ns_sink_stats st;
	struct ns_record r[10];
	struct ns_sink *s;
	uint16_t port = 0;
	char url[64];
	int lfd, i;

	lfd = tcp_listener(&port);
	close(lfd); /* connection refused */
	ns_export_opts_default(&o);
	o.tcp_queue_max = 4;
	snprintf(url, sizeof(url), "ipfix+tcp://127.0.0.1:%u", port);
	cr_assert_eq(ns_sink_open(&s, url, &o, &ctx, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < 10; i++)
		rec_v4(&r[i], i);
	for (i = 0; i < 10; i++) {
		ns_sink_tick(s, T0 + i);
		usleep(1000);
	}
	cr_assert_eq(ns_sink_write(s, r, 10, T0 + 20), 0);
	ns_sink_get_stats(s, &st);
	cr_assert_not(st.connected);
	cr_assert_eq(st.records_dropped, 6);
	ns_sink_close(s);
}

/* A collector that accepts and then never reads: the sink calls it down, nothing blocks */
Test(sink, tcp_stalled_collector_goes_down)
{
	static struct ns_record r[1000];
	struct ns_sink_stats st;
	struct ns_sink *s;
	uint16_t port = 0;
	int lfd, cfd, i, small = 4096;
	uint64_t now = T0, left;
	char url[64];

	for (i = 0; i < 1000; i++)
		rec_v4(&r[i], i);
	lfd = tcp_listener(&port);
	setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	snprintf(url, sizeof(url), "ipfix+tcp://127.0.0.1:%u", port);
	cr_assert_eq(ns_sink_open(&s, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	cfd = tcp_accept(lfd, s, now);
	for (i = 0; i < 200; i++, now += 100) {
		ns_sink_write(s, r, 1000, now);
		ns_sink_tick(s, now);
		ns_sink_get_stats(s, &st);
		if (st.state == NS_SINK_DOWN)
			break;
	}
	cr_assert_eq(st.state, NS_SINK_DOWN, "a collector taking nothing for 10 s is down");
	cr_assert_eq(st.last_errno, ETIMEDOUT);
	cr_assert_geq(now - T0, 10000, "not before the send timeout");
	cr_assert_gt(st.records_dropped, 0, "what it did not take is dropped");
	/* at exit, whatever is still queued is counted, after a bounded wait */
	left = ns_sink_finish(s, now, 100);
	ns_sink_get_stats(s, &st);
	cr_assert_eq(st.records_sent + st.records_dropped, 1000ULL * (i + 1),
		     "every record is sent or dropped (%llu left at exit)",
		     (unsigned long long)left);
	ns_sink_close(s);
	close(cfd);
	close(lfd);
}

/* At exit a TCP collector that is back gets the queue within the bounded wait */
Test(sink, tcp_finish_sends_the_queue)
{
	struct ns_sink_stats st;
	struct ns_record r[50];
	struct ns_decoder d;
	struct ns_sink *s;
	uint16_t port = 0;
	int lfd, cfd, i;
	char url[64];

	for (i = 0; i < 50; i++)
		rec_v4(&r[i], i);
	lfd = tcp_listener(&port);
	snprintf(url, sizeof(url), "ipfix+tcp://127.0.0.1:%u", port);
	cr_assert_eq(ns_sink_open(&s, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	ns_sink_write(s, r, 50, T0); /* connects, queues or sends */
	cr_assert_eq(ns_sink_finish(s, T0, 2000), 0, "nothing left");
	ns_sink_get_stats(s, &st);
	cr_assert_eq(st.records_sent, 50);
	cfd = accept(lfd, NULL, NULL);
	ns_decoder_init(&d, NS_PROTO_IPFIX);
	d.on_record = count_flow;
	flow_count = 0;
	tcp_read(cfd, s, T0, &d, 50);
	cr_assert_eq(flow_count, 50);
	ns_sink_get_stats(s, &st);
	cr_assert_eq(st.bytes_sent, tcp_read_bytes, "bytes sent: the whole stream");
	ns_sink_close(s);
	close(cfd);
	close(lfd);

	/* nobody listens: after the wait, the queue is counted as lost */
	lfd = tcp_listener(&port);
	close(lfd);
	snprintf(url, sizeof(url), "ipfix+tcp://127.0.0.1:%u", port);
	cr_assert_eq(ns_sink_open(&s, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	ns_sink_write(s, r, 50, T0);
	cr_assert_eq(ns_sink_finish(s, T0, 300), 50);
	ns_sink_get_stats(s, &st);
	cr_assert_eq(st.records_dropped, 50);
	cr_assert_eq(st.state, NS_SINK_DOWN);
	cr_assert_eq(st.last_errno, ECONNREFUSED);
	ns_sink_close(s);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	rewind(f);
	buf = malloc(*len + 1);
	cr_assert_eq(fread(buf, 1, *len, f), *len);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

Test(sink, ipfix_file_reads_back)
{
	char path[] = "/tmp/nsflow-test-XXXXXX", url[64];
	struct ns_sink_stats st;
	struct ns_record r[300];
	struct ns_decoder d;
	struct ns_sink *s;
	size_t len, off;
	uint8_t *buf;
	int i, fd;

	fd = mkstemp(path);
	close(fd);
	snprintf(url, sizeof(url), "file:%s", path);
	cr_assert_eq(ns_sink_open(&s, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < 300; i++) {
		rec_v4(&r[i], i);
		if (i % 2)
			r[i].ip_version = 6;
	}
	ns_sink_write(s, r, 150, T0);
	ns_sink_tick(s, T0 + 1000);
	ns_sink_write(s, r + 150, 150, T0 + 2000);
	ns_sink_flush(s, T0 + 2000);
	ns_sink_get_stats(s, &st);
	ns_sink_close(s);

	buf = slurp(path, &len);
	cr_assert_eq(st.bytes_sent, len, "bytes sent: the file's");
	ns_decoder_init(&d, NS_PROTO_IPFIX);
	d.on_record = count_flow;
	flow_count = 0;
	cr_assert_eq(ns_get16(buf + 16), 3, "the file starts with (options) templates");
	for (off = 0; off < len; off += ns_get16(buf + off + 2))
		cr_assert_eq(ns_decode(&d, buf + off, ns_get16(buf + off + 2), err, sizeof(err)), 0,
			     "%s", err);
	cr_assert_eq(off, len, "a whole number of messages");
	cr_assert_eq(flow_count, 300);
	cr_assert_eq(d.templates, 2, "each template once in a file");
	free(buf);
	unlink(path);
}

Test(sink, json_and_text_files)
{
	char jpath[] = "/tmp/nsflow-json-XXXXXX", tpath[] = "/tmp/nsflow-text-XXXXXX";
	struct ns_sink *js, *ts;
	struct ns_sink_stats st;
	struct ns_record r[3];
	char url[64], *p;
	size_t len;
	int i, lines = 0;
	uint8_t *buf;

	close(mkstemp(jpath));
	close(mkstemp(tpath));
	snprintf(url, sizeof(url), "json:%s", jpath);
	cr_assert_eq(ns_sink_open(&js, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	snprintf(url, sizeof(url), "text:%s", tpath);
	cr_assert_eq(ns_sink_open(&ts, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < 3; i++)
		rec_v4(&r[i], i);
	ns_sink_write(js, r, 3, T0);
	ns_sink_write(ts, r, 3, T0);
	ns_sink_get_stats(js, &st);
	cr_assert_eq(st.records_sent, 0, "buffered records are not sent yet");
	cr_assert_eq(ns_sink_flush(js, T0), 0);
	ns_sink_get_stats(js, &st);
	cr_assert_eq(st.records_sent, 3, "written and synced");
	ns_sink_close(js);
	ns_sink_close(ts);

	buf = slurp(jpath, &len);
	for (p = (char *)buf; (p = strchr(p, '\n')); p++)
		lines++;
	cr_assert_eq(lines, 3);
	cr_assert(!strncmp((char *)buf, "{\"sourceIPv4Address\":\"192.0.2.1\",", 33));
	cr_assert(strstr((char *)buf, "\"sourceTransportPort\":1002,"));
	free(buf);
	buf = slurp(tpath, &len);
	/* the column names once, above the three lines */
	cr_assert(!strncmp((char *)buf, ns_text_header(), strlen(ns_text_header())), "%s", buf);
	cr_assert_null(strstr((char *)buf + 1, "First seen"), "%s", buf);
	cr_assert(strstr((char *)buf, " UDP    192.0.2.1:1000          192.0.2.2:53 "), "%s", buf);
	free(buf);
	unlink(jpath);
	unlink(tpath);
}

Test(sink, null_and_empty_calls)
{
	struct ns_sink *s;

	ns_sink_close(NULL);
	cr_assert_eq(ns_sink_write(NULL, NULL, 0, 0), -EINVAL);
	cr_assert_eq(ns_sink_tick(NULL, 0), -EINVAL);
	cr_assert_eq(ns_sink_open(&s, "text:-", NULL, NULL, err, sizeof(err)), 0);
	cr_assert_eq(ns_sink_write(s, NULL, 0, T0), 0);
	cr_assert_eq(ns_sink_write(s, NULL, 1, T0), -EINVAL);
	ns_sink_close(s);
}
