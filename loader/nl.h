/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rtnetlink for the agent: one dump (routes, links) walked message by message, and a socket
 * subscribed to notifications read without blocking. Every netlink user of the loader goes
 * through these.
 */
#ifndef NSFLOW_NL_H
#define NSFLOW_NL_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

/* Called for each message of a dump or of a notification; 0 to go on, or -errno to stop. */
typedef int (*nl_msg_fn)(void *arg, const struct nlmsghdr *h);

/* A NETLINK_ROUTE socket bound to the multicast groups (RTMGRP_* bits; 0 for none); with
 * @nonblock, reads never wait. The fd, or -errno. */
int nl_open(uint32_t groups, int nonblock);

/* Requests a dump of @type (RTM_GETROUTE ...) with @body (the family's header, rtmsg or
 * ifinfomsg, @len bytes) and calls @fn for each message of it. 0, the kernel's error (a
 * negative errno from NLMSG_ERROR), or what @fn returned. */
int nl_dump(int fd, uint16_t type, const void *body, size_t len, nl_msg_fn fn, void *arg);

/* Reads what a non-blocking subscribed socket holds and calls @fn for each message. 0 once it
 * is empty, -ENOBUFS when the kernel dropped notifications (dump again), or another -errno. */
int nl_drain(int fd, nl_msg_fn fn, void *arg);

#endif
