// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* VRF membership of interfaces over rtnetlink (vrf.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include "nl.h"
#include "vrf.h"

static struct vrf_link *find(const struct vrf_track *t, uint32_t ifindex)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->links[i].ifindex == ifindex)
			return &t->links[i];
	return NULL;
}

static void drop(struct vrf_track *t, uint32_t ifindex)
{
	struct vrf_link *l = find(t, ifindex);

	if (!l)
		return;
	*l = t->links[--t->n];
	t->changes++;
}

static int keep(struct vrf_track *t, const struct vrf_link *nl)
{
	struct vrf_link *l = find(t, nl->ifindex);

	if (!l) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 16;
			struct vrf_link *p = realloc(t->links, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			t->links = p;
			t->cap = cap;
		}
		l = &t->links[t->n++];
	} else if (!memcmp(l, nl, sizeof(*l))) {
		return 0;
	}
	*l = *nl;
	t->changes++;
	return 0;
}

/* IFLA_LINKINFO: kind "vrf" and its IFLA_VRF_TABLE */
static void parse_linkinfo(const struct rtattr *info, struct vrf_link *l)
{
	int len = (int)RTA_PAYLOAD(info);

	for (const struct rtattr *a = RTA_DATA(info); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_INFO_KIND)
			l->is_vrf = RTA_PAYLOAD(a) >= 3 && !strncmp(RTA_DATA(a), "vrf", 4);
		if (a->rta_type == IFLA_INFO_DATA) {
			int dlen = (int)RTA_PAYLOAD(a);

			for (const struct rtattr *d = RTA_DATA(a); RTA_OK(d, dlen);
			     d = RTA_NEXT(d, dlen))
				if (d->rta_type == IFLA_VRF_TABLE && RTA_PAYLOAD(d) == 4)
					memcpy(&l->table, RTA_DATA(d), 4);
		}
	}
	if (!l->is_vrf)
		l->table = 0;
}

int vrf_track_msg(void *arg, const struct nlmsghdr *h)
{
	struct vrf_track *t = arg;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)IFLA_PAYLOAD(h);
	struct vrf_link l = { .ifindex = (uint32_t)ifi->ifi_index };

	if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
		return 0;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	if (h->nlmsg_type == RTM_DELLINK) {
		drop(t, l.ifindex);
		return 0;
	}
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME)
			snprintf(l.name, sizeof(l.name), "%.*s", (int)RTA_PAYLOAD(a),
				 (const char *)RTA_DATA(a));
		else if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) == 4)
			memcpy(&l.master, RTA_DATA(a), 4);
		else if (a->rta_type == IFLA_LINKINFO)
			parse_linkinfo(a, &l);
	}
	if (!l.master && !l.is_vrf) {
		drop(t, l.ifindex);
		return 0;
	}
	return keep(t, &l);
}

static int dump(struct vrf_track *t)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	int fd = nl_open(0, 0), ret;

	if (fd < 0)
		return fd;
	t->n = 0;
	ret = nl_dump(fd, RTM_GETLINK, &ifi, sizeof(ifi), vrf_track_msg, t);
	close(fd);
	return ret;
}

int vrf_track_open(struct vrf_track *t, char *err, size_t errlen)
{
	int ret;

	memset(t, 0, sizeof(*t));
	/* subscribe first: a change during the dump is then seen twice, never missed */
	t->fd = nl_open(RTMGRP_LINK, 1);
	if (t->fd < 0) {
		ret = t->fd;
		snprintf(err, errlen, "VRFs of interfaces: netlink socket: %s", strerror(-ret));
		return ret;
	}
	ret = dump(t);
	if (ret) {
		snprintf(err, errlen, "VRFs of interfaces: link dump: %s", strerror(-ret));
		vrf_track_close(t);
	}
	return ret;
}

int vrf_track_poll(struct vrf_track *t)
{
	uint64_t before = t->changes;
	int ret;

	if (t->fd < 0)
		return 0;
	ret = nl_drain(t->fd, vrf_track_msg, t);
	if (ret == -ENOBUFS) {
		/* notifications were lost: what the kernel has now replaces what was kept */
		t->resyncs++;
		t->changes++;
		ret = dump(t);
	}
	return ret ? ret : (int)(t->changes - before);
}

void vrf_track_close(struct vrf_track *t)
{
	if (t->fd >= 0)
		close(t->fd);
	free(t->links);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

uint32_t vrf_table_of(const struct vrf_track *t, uint32_t ifindex)
{
	const struct vrf_link *l = ifindex ? find(t, ifindex) : NULL;

	if (!l)
		return 0;
	if (l->is_vrf)
		return l->table;
	l = l->master ? find(t, l->master) : NULL;
	return l && l->is_vrf ? l->table : 0;
}

const struct vrf_link *vrf_device_named(const struct vrf_track *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->links[i].is_vrf && !strcmp(t->links[i].name, name))
			return &t->links[i];
	return NULL;
}

const struct vrf_link *vrf_device_of_table(const struct vrf_track *t, uint32_t table)
{
	for (size_t i = 0; table && i < t->n; i++)
		if (t->links[i].is_vrf && t->links[i].table == table)
			return &t->links[i];
	return NULL;
}
