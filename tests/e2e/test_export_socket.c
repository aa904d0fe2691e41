// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the export packets look like on the wire, beside their content: the source address and
 * port given with --source-address (IPv4 ADDR:PORT and IPv6 [ADDR]:PORT), and the DSCP given
 * with --export-dscp, read from each datagram as it arrives (IP_RECVTOS / IPV6_RECVTCLASS).
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "collectors.h"

static char dir[128], capture[192];

static void setup(void)
{
	cr_assert_eq(coll_tmpdir(dir, sizeof(dir), "socket"), 0);
	snprintf(capture, sizeof(capture), "%s/mix.pcap", dir);
	cr_assert_eq(coll_write_mix(capture, COLL_MIX_CRAFTED), 0);
}

static void teardown(void)
{
	coll_rmtree(dir);
}

/* A UDP socket on addr (127.0.0.1 or ::1) that reports each datagram's ToS / traffic class */
static int listen_udp(int family, int *port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	socklen_t len = sizeof(ss);
	int fd = socket(family, SOCK_DGRAM, 0), one = 1;

	cr_assert_geq(fd, 0);
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		s6->sin6_addr = in6addr_loopback;
	cr_assert_eq(
		bind(fd, (struct sockaddr *)&ss, family == AF_INET ? sizeof(*s4) : sizeof(*s6)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(family == AF_INET ? s4->sin_port : s6->sin6_port);
	if (family == AF_INET)
		cr_assert_eq(setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one)), 0);
	else
		cr_assert_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one)), 0);
	return fd;
}

/* A free port of the family's loopback, for the source */
static int free_port(int family)
{
	int port, fd = listen_udp(family, &port);

	close(fd);
	return port;
}

/* Every datagram queued on fd: its count; each must come from src:sport with ToS tos */
static int check_datagrams(int fd, int family, const char *src, int sport, int tos)
{
	int n = 0;

	while (poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, n ? 200 : 5000) > 0) {
		uint8_t buf[65536], cbuf[256];
		struct sockaddr_storage from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		char a[INET6_ADDRSTRLEN];
		int got_tos = -1, port;

		cr_assert_gt(recvmsg(fd, &m, 0), 0);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS))
				got_tos = c->cmsg_level == IPPROTO_IP ? *(uint8_t *)CMSG_DATA(c)
								      : *(int *)CMSG_DATA(c);
		if (family == AF_INET) {
			const struct sockaddr_in *s4 = (const void *)&from;

			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
			port = ntohs(s4->sin_port);
		} else {
			const struct sockaddr_in6 *s6 = (const void *)&from;

			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			port = ntohs(s6->sin6_port);
		}
		cr_expect_str_eq(a, src, "datagram %d from %s", n, a);
		cr_expect_eq(port, sport, "datagram %d from port %d, not %d", n, port, sport);
		cr_expect_eq(got_tos, tos, "datagram %d with ToS %d, not %d", n, got_tos, tos);
		n++;
	}
	return n;
}

static void export_from(int family, const char *url_fmt, const char *src_fmt, const char *src,
			int dscp)
{
	char url[96], source[96], *out = NULL;
	int port, sport = free_port(family), fd = listen_udp(family, &port), n, ret;

	snprintf(url, sizeof(url), url_fmt, port);
	snprintf(source, sizeof(source), src_fmt, sport);
	ret = coll_run(
		&out, "timeout 60 %s replay '%s' -c %s --source-address '%s' --export-dscp %d 2>&1",
		coll_nsflow_bin(), capture, url, source, dscp);
	cr_assert_eq(ret, 0, "nsflow replay -c %s --source-address %s: %s", url, source,
		     out ? out : "");
	free(out);
	n = check_datagrams(fd, family, src, sport, dscp << 2);
	cr_expect_gt(n, 0, "no datagram reached %s", url);
	close(fd);
}

Test(export_socket, ipv4_source_address_with_port_and_dscp, .init = setup, .fini = teardown,
     .timeout = 60)
{
	export_from(AF_INET, "v9://127.0.0.1:%d", "127.0.0.1:%d", "127.0.0.1", 46);
}

Test(export_socket, ipv6_source_address_with_port_and_dscp, .init = setup, .fini = teardown,
     .timeout = 60)
{
	export_from(AF_INET6, "ipfix://[::1]:%d", "[::1]:%d", "::1", 48);
}

Test(export_socket, bad_dscp_refused, .init = setup, .fini = teardown, .timeout = 30)
{
	char *out = NULL;
	int ret =
		coll_run(&out, "%s replay '%s' --export-dscp 64 2>&1", coll_nsflow_bin(), capture);

	cr_expect_neq(ret, 0);
	cr_expect(out && strstr(out, "--export-dscp"), "%s", out ? out : "");
	free(out);
}
