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
#include "nl.h"
#include "routes.h"

/* One RTM_NEWROUTE of the main table into the route table at arg */
static int add_route(void *arg, const struct nlmsghdr *h)
{
	struct route_table *t = arg;
	const struct rtmsg *rt = NLMSG_DATA(h);
	int len = (int)RTM_PAYLOAD(h);
	struct route_info ri = { .prefix_len = rt->rtm_dst_len };
	uint8_t addr[16] = { 0 };
	bool v6 = rt->rtm_family == AF_INET6;
	uint32_t table = rt->rtm_table;

	if (h->nlmsg_type != RTM_NEWROUTE || (rt->rtm_family != AF_INET && !v6) ||
	    rt->rtm_type != RTN_UNICAST)
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

/* One family's routes into t; a kernel without IPv6 has no table of it to dump */
static int dump_family(int fd, struct route_table *t, unsigned char family)
{
	struct rtmsg r = { .rtm_family = family };
	int ret = nl_dump(fd, RTM_GETROUTE, &r, sizeof(r), add_route, t);

	return family == AF_INET6 && ret == -EAFNOSUPPORT ? 0 : ret;
}

int routes_load_kernel(struct route_table **out, char *err, size_t errlen)
{
	struct route_table *t = NULL;
	int fd, ret;

	*out = NULL;
	fd = nl_open(0, 0);
	if (fd < 0) {
		snprintf(err, errlen, "routing table: netlink socket: %s", strerror(-fd));
		return fd;
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
