/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Attaching the datapath to interfaces and taking it off again, touching nothing else. */
#ifndef NSFLOW_ATTACH_H
#define NSFLOW_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>
#include "config.h"

/* Our TC filters, told apart from others' by handle and priority. */
#define NSFLOW_TC_HANDLE 0x4e53 /* "NS" */
#define NSFLOW_TC_PRIO	 1	/* first: meter before other filters may drop */

/* Mounts bpffs on /sys/fs/bpf if nothing is mounted there, and creates dir. */
int attach_prepare_pin_dir(const char *dir, char *err, size_t errlen);
/* Is nsflow_xdp already attached to ifindex (a previous agent was killed)? */
bool attach_xdp_present(int ifindex);
/* Attaches prog through libxdp's dispatcher; auto mode falls back from native to generic. */
int attach_xdp(struct bpf_object *obj, int ifindex, const char *ifname, enum config_xdp_mode mode,
	       bool *loaded, const char **hook, char *err, size_t errlen);
/* Attaches (or atomically replaces ours with) prog_fd on clsact ingress or egress. */
int attach_tc(int prog_fd, int ifindex, const char *ifname, bool egress, char *err, size_t errlen);
/* Removes nsflow's XDP program and TC filters from ifindex; others' stay. Returns how many
 * were removed. */
int attach_detach_iface(int ifindex, const char *ifname, bool verbose);

#endif
