/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The datapath on the interfaces: loaded (or taken over from a killed agent) and attached at
 * start, attached to the interfaces that appear and the rules choose, dropped from those that
 * are deleted or renamed away (rtnetlink, RTMGRP_LINK), and taken off them all at stop.
 * The config's interface slots never move: a slot whose interface went is marked gone and is
 * used again when an interface of its name comes back.
 */
#ifndef NSFLOW_DATAPATH_H
#define NSFLOW_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ifrule.h"

struct agent;
struct nsflow_bpf;
struct nsflow_config;
struct owner;

struct datapath {
	struct nsflow_config *cfg;
	struct nsflow_bpf *skel;
	struct owner *owner;
	struct agent *agent; /* once bound: interfaces that appear get their settings */
	struct ifrule rule;
	int nl_fd; /* link notifications, -1 until datapath_watch() */
	bool loaded;
	bool resync;	 /* a notification came (or was lost): compare with the links */
	size_t attached; /* slots [0, attached) had the datapath attached or taken over */
};

/* Loads (or, after a crash, takes over) the datapath and attaches it to every slot. */
int datapath_attach(struct datapath *d, char *err, size_t errlen);
/* From now on, follows interfaces as they come and go: the fd to poll for it, or -errno. */
int datapath_watch(struct datapath *d, char *err, size_t errlen);
/* Reads the notifications and attaches or drops what changed. Cheap when nothing did. */
void datapath_follow(struct datapath *d);
/* Takes off our interfaces what this agent attached or took over, and nothing else. */
void datapath_detach(struct datapath *d);
void datapath_close(struct datapath *d);
/* The kernel's id of the pinned nsflow_events of pin_dir (0: not pinned there): programs that
 * use it are that pin dir's. */
uint32_t datapath_owner_id(const char *pin_dir);

#endif
