/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The VRFs of interfaces, learned over rtnetlink and followed as they change: on Linux an
 * interface's VRF is its l3mdev master, a device of kind "vrf" (IFLA_MASTER, IFLA_LINKINFO,
 * IFLA_VRF_TABLE). A VRF is known by its routing table: that is its VRF id (0 = default VRF).
 * Only VRF devices and interfaces with a master are kept, so lookups stay short.
 */
#ifndef NSFLOW_VRF_H
#define NSFLOW_VRF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

struct vrf_link {
	uint32_t ifindex;
	uint32_t master; /* IFLA_MASTER, 0 for none */
	uint32_t table;	 /* a VRF device's IFLA_VRF_TABLE, 0 for other links */
	bool is_vrf;
	char name[IF_NAMESIZE];
};

struct vrf_track {
	int fd; /* subscribed to RTNLGRP_LINK; -1 when closed */
	struct vrf_link *links;
	size_t n, cap;
	uint64_t changes; /* link messages that changed what is kept */
	uint64_t resyncs; /* dumps after the kernel dropped notifications */
};

/* Subscribes to link changes, then dumps every link. 0 or -errno with what failed in err. */
int vrf_track_open(struct vrf_track *t, char *err, size_t errlen);
/* Applies the link changes waiting (without blocking); the number of changes, or -errno. */
int vrf_track_poll(struct vrf_track *t);
void vrf_track_close(struct vrf_track *t);
/* One RTM_NEWLINK / RTM_DELLINK into t (arg); 0 or -ENOMEM. */
int vrf_track_msg(void *arg, const struct nlmsghdr *h);

/* The VRF id (table) of ifindex: its master's table when that is a VRF, a VRF device's own
 * table, else 0. */
uint32_t vrf_table_of(const struct vrf_track *t, uint32_t ifindex);
/* The VRF device named name, or NULL */
const struct vrf_link *vrf_device_named(const struct vrf_track *t, const char *name);
/* The VRF device of table, or NULL */
const struct vrf_link *vrf_device_of_table(const struct vrf_track *t, uint32_t table);

#endif
