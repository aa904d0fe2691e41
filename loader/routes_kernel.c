// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The kernel's main routing table over rtnetlink, as a route table (routes.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include "routes.h"

/* One RTM_NEWROUTE of the main table into t */
static int add_route(struct route_table *t, const struct nlmsghdr *h)
{
	const struct rtmsg *rt = NLMSG_DATA(h);
	int len = (int)RTM_PAYLOAD(h);
	struct route_info ri = { .prefix_len = rt->rtm_dst_len };
	uint8_t addr[16] = { 0 };
	bool v6 = rt->rtm_family == AF_INET6;
	uint32_t table = rt->rtm_table;

	if ((rt->rtm_family != AF_INET && !v6) || rt->rtm_type != RTN_UNICAST)
		return 0;
	if (!v6) {
		addr[10] = addr[11] = 0xff;
	}
	for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t alen = RTA_PAYLOAD(a);

		switch (a->rta_type) {
		case RTA_TABLE:
			if (alen == 4)
				memcpy(&table, RTA_DATA(a), 4);
			break;
		case RTA_DST:
			memcpy(v6 ? addr : addr + 12, RTA_DATA(a), v6 ? 16 : 4);
			break;
		case RTA_OIF:
			if (alen == 4)
				memcpy(&ri.egress_ifindex, RTA_DATA(a), 4);
			break;
		case RTA_GATEWAY:
			if (v6 && alen == 16) {
				memcpy(ri.ip_nexthop, RTA_DATA(a), 16);
			} else if (!v6 && alen == 4) {
				ri.ip_nexthop[10] = ri.ip_nexthop[11] = 0xff;
				memcpy(ri.ip_nexthop + 12, RTA_DATA(a), 4);
			}
			break;
		case RTA_MULTIPATH: /* ECMP: the first next hop stands for the route */
			if (alen >= sizeof(struct rtnexthop) && !ri.egress_ifindex)
				ri.egress_ifindex =
					(uint32_t)((const struct rtnexthop *)RTA_DATA(a))
						->rtnh_ifindex;
			break;
		}
	}
	if (table != RT_TABLE_MAIN)
		return 0;
	return route_table_add(t, addr, v6 ? rt->rtm_dst_len : 96u + rt->rtm_dst_len, &ri);
}

static int dump_family(int fd, struct route_table *t, unsigned char family)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
	} req = {
		.h = { .nlmsg_len = sizeof(req),
		       .nlmsg_type = RTM_GETROUTE,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = family },
		.r = { .rtm_family = family },
	};
	static char buf[1 << 16];

	if (send(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		int len = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			int ret;

			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				/* a kernel without IPv6 has no table of it to dump */
				return family == AF_INET6 && e->error == -EAFNOSUPPORT ? 0
										       : e->error;
			}
			if (h->nlmsg_type != RTM_NEWROUTE)
				continue;
			ret = add_route(t, h);
			if (ret)
				return ret;
		}
	}
}

int routes_load_kernel(struct route_table **out, char *err, size_t errlen)
{
	struct route_table *t = NULL;
	int fd, ret;

	*out = NULL;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "routing table: netlink socket: %s", strerror(errno));
		return ret;
	}
	ret = route_table_new(&t);
	if (!ret)
		ret = dump_family(fd, t, AF_INET);
	if (!ret)
		ret = dump_family(fd, t, AF_INET6);
	close(fd);
	if (ret) {
		snprintf(err, errlen, "routing table: %s", strerror(-ret));
		route_table_free(t);
		return ret;
	}
	*out = t;
	return 0;
}
