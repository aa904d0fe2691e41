/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Attaching the datapath to interfaces and taking it off again, touching nothing else. */
#ifndef NSFLOW_ATTACH_H
#define NSFLOW_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "config.h"

/* Our TC filters, told apart from others' by handle and priority. */
#define NSFLOW_TC_HANDLE 0x4e53 /* "NS" */
#define NSFLOW_TC_PRIO	 1	/* first: meter before other filters may drop */

/* What EPERM from bpf() means: the capabilities or the seccomp filter, not a setting of ours. */
#define ATTACH_BPF_EPERM_HINT                                                                    \
	"bpf() not permitted: needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), CAP_NET_ADMIN, " \
	"and a seccomp profile that allows bpf and perf_event_open (deploy/seccomp.json)"

/* Where the kernel's own BTF is; NSFLOW_TEST_KERNEL_BTF stands in for it in tests only. */
#define ATTACH_KERNEL_BTF "/sys/kernel/btf/vmlinux"
/*
 * The datapath is CO-RE: libbpf relocates it against the kernel's BTF, so without that nothing
 * loads. -ENOENT with a message saying what the kernel lacks, checked before anything is
 * attached; a kernel that has it returns 0.
 */
int attach_check_kernel_btf(char *err, size_t errlen);
/* Mounts bpffs on /sys/fs/bpf if nothing is mounted there, and creates dir. */
int attach_prepare_pin_dir(const char *dir, char *err, size_t errlen);
/* Attaches prog through libxdp's dispatcher; auto mode falls back from native to generic. */
int attach_xdp(struct bpf_object *obj, int ifindex, const char *ifname, enum config_xdp_mode mode,
	       bool *loaded, const char **hook, char *err, size_t errlen);
/* Attaches (or atomically replaces ours with) prog_fd on clsact ingress or egress. */
int attach_tc(int prog_fd, int ifindex, const char *ifname, bool egress, char *err, size_t errlen);
/* The ids of nsflow's programs on an interface, by hook; 0 where there is none. */
enum { ATTACH_XDP, ATTACH_TC_INGRESS, ATTACH_TC_EGRESS, ATTACH_HOOKS };
struct attach_progs {
	uint32_t id[ATTACH_HOOKS];
};

/* Fills p; returns whether any of nsflow's programs is on ifindex. */
int attach_query(int ifindex, struct attach_progs *p);
/* The kernel's id of a map. */
uint32_t attach_map_id(int map_fd);
/* Does the program count into that map? That, not its name, says whose a program is. */
bool attach_prog_uses_map(uint32_t prog_id, uint32_t map_id);
/*
 * Pins the maps of a running program at the pin paths set on obj's maps, found by name among
 * the maps the kernel lists for the program: a takeover when the pins are gone. -ENOENT with a
 * message when the program lacks one of them.
 */
int attach_repin(uint32_t prog_id, struct bpf_object *obj, char *err, size_t errlen);
/* Removes exactly the programs in which (by id) from ifindex. Returns how many went. */
int attach_detach_progs(int ifindex, const char *ifname, const struct attach_progs *which);
/* Removes nsflow's programs that use the map owner_map_id (0: all of nsflow's) from ifindex;
 * other programs and filters stay. Returns how many went. */
int attach_detach_owned(int ifindex, const char *ifname, uint32_t owner_map_id);

#endif
