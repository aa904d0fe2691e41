// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* rtnetlink dumps and notifications (nl.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "nl.h"

static char nl_buf[1 << 16];

int nl_open(uint32_t groups, int nonblock)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
			NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (groups && bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* Walks one datagram: 1 when the dump ended, 0 to read on, or -errno */
static int nl_walk(const char *buf, int len, uint32_t seq, nl_msg_fn fn, void *arg)
{
	for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; NLMSG_OK(h, len);
	     h = NLMSG_NEXT(h, len)) {
		int ret;

		if (seq && h->nlmsg_seq != seq)
			continue;
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR)
			return ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
		ret = fn(arg, h);
		if (ret)
			return ret;
	}
	return 0;
}

int nl_dump(int fd, uint16_t type, const void *body, size_t len, nl_msg_fn fn, void *arg)
{
	static uint32_t seq;
	struct {
		struct nlmsghdr h;
		char body[64];
	} req = { .h = { .nlmsg_type = type, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP } };
	size_t n = NLMSG_LENGTH(len);

	if (len > sizeof(req.body))
		return -EINVAL;
	req.h.nlmsg_len = (uint32_t)n;
	req.h.nlmsg_seq = ++seq;
	memcpy(req.body, body, len);
	if (send(fd, &req, n, 0) != (ssize_t)n)
		return -errno;
	for (;;) {
		ssize_t got = recv(fd, nl_buf, sizeof(nl_buf), 0);
		int ret;

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		ret = nl_walk(nl_buf, (int)got, req.h.nlmsg_seq, fn, arg);
		if (ret)
			return ret > 0 ? 0 : ret;
	}
}

int nl_drain(int fd, nl_msg_fn fn, void *arg)
{
	for (;;) {
		ssize_t got = recv(fd, nl_buf, sizeof(nl_buf), MSG_DONTWAIT);
		int ret;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		if (!got)
			return 0;
		ret = nl_walk(nl_buf, (int)got, 0, fn, arg);
		if (ret < 0)
			return ret;
	}
}
