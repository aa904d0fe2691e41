/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * BGP/MPLS VPN records: the agent follows the VRFs of interfaces (vrf.h), resolves the VRF ids
 * of its VPN instances (vpn.h), gives each original record its ingress and egress VRF and route
 * distinguisher, and the collectors the VRF names.
 */
#ifndef NSFLOW_AGENT_VPN_H
#define NSFLOW_AGENT_VPN_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "record.h"
#include "vpn.h"
#include "vrf.h"

struct agent;

#define AGENT_VRF_STATS 64

/* Traffic exported per VRF (`show stats`), keyed by the VRF a flow was metered in */
struct agent_vrf_stat {
	uint32_t id;
	uint64_t flows, packets, octets;
};

/*
 * The VRFs of record r: ingress from the bottom label's VPN instance (an MPLS flow whose
 * bottom-of-stack label is configured) or from the VRF of the interface it came in on; egress
 * from the VRF of its egress interface (the metered one for egress traffic, the kernel's route
 * for ingress traffic when --routes found one). The route distinguisher is the ingress VRF's
 * instance's, else the egress one's; the top label's instance gives mplsTopLabelType VPN and
 * its address. Returns whether r belongs to a VRF (and then has the VPN template).
 */
bool vpn_record_fill(const struct vpn_instance *vpns, size_t n, const struct vrf_track *t,
		     struct ns_record *r);

/* VRF ids of instances without id= from their VRF devices; a missing device, or one whose
 * table is not the id= given, is an error. */
int vpn_resolve_ids(struct vpn_instance *vpns, size_t n, const struct vrf_track *t, char *err,
		    size_t errlen);

/* Opens the VRF tracker, resolves the instances' ids, gives the exporter the VRF names. */
int agent_vpn_open(struct agent *a, char *err, size_t errlen);
/* Follows link changes (each poll) */
void agent_vpn_poll(struct agent *a);
/* An original record's VRFs, RD and the VPN template */
void agent_vpn_record(struct agent *a, struct ns_record *r);
void agent_vpn_close(struct agent *a);
/* The VRF id of NAME: an instance, a VRF device, or a number; -ENOENT for none of them */
int agent_vrf_id_of(const struct agent *a, const char *name, uint32_t *id);
/* Fills r's VRFs (vpn_record_fill()); is r's ingress or egress VRF id? */
bool agent_vpn_in_vrf(struct agent *a, struct ns_record *r, uint32_t id);
/* `show stats`: records exported per VRF since the start (or `reset stats`) */
void agent_vpn_show_stats(const struct agent *a, FILE *out);
/* The name of VRF id (instance, else VRF device), or NULL */
const char *agent_vrf_name(const struct agent *a, uint32_t id);

#endif
