// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* VRFs and VPN instances of the agent's records (agent_vpn.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "agent_vpn.h"
#include "exp_template.h"
#include "log.h"

#define MPLS_BOS 1u /* bottom of stack, in label << 4 | exp << 1 | s */

static const struct vpn_instance *instance_of_vrf(const struct vpn_instance *vpns, size_t n,
						  uint32_t id)
{
	return id ? vpn_by_id(vpns, n, id) : NULL;
}

bool vpn_record_fill(const struct vpn_instance *vpns, size_t n, const struct vrf_track *t,
		     struct ns_record *r)
{
	const struct vpn_instance *in = NULL, *top = NULL, *rd_of;
	unsigned int count = r->mpls_count < NS_REC_MPLS_MAX ? r->mpls_count : NS_REC_MPLS_MAX;

	for (unsigned int i = 0; i < count; i++)
		if (r->mpls_lse[i] & MPLS_BOS) {
			in = vpn_by_label(vpns, n, r->mpls_lse[i] >> 4);
			break;
		}
	if (r->direction == 0)
		r->ingress_vrf = in ? in->id : vrf_table_of(t, r->ingress_ifindex);
	else if (in)
		r->ingress_vrf = in->id;
	r->egress_vrf = vrf_table_of(t, r->egress_ifindex);
	rd_of = instance_of_vrf(vpns, n, r->ingress_vrf);
	if (!rd_of)
		rd_of = instance_of_vrf(vpns, n, r->egress_vrf);
	if (rd_of)
		memcpy(r->vpn_rd, rd_of->rd, sizeof(r->vpn_rd));
	if (count)
		top = vpn_by_label(vpns, n, r->mpls_lse[0] >> 4);
	if (top) {
		r->mpls_top_type = VPN_TOP_LABEL_TYPE;
		if (top->has_address)
			memcpy(r->mpls_top_addr, top->address, 4);
	}
	return r->ingress_vrf || r->egress_vrf;
}

int vpn_resolve_ids(struct vpn_instance *vpns, size_t n, const struct vrf_track *t, char *err,
		    size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		struct vpn_instance *v = &vpns[i];
		const struct vrf_link *d = vrf_device_named(t, v->vrf);

		if (d && v->has_id && d->table != v->id) {
			snprintf(err, errlen,
				 "vpn-instance %s: id=%u, but VRF device %s has table %u (its VRF "
				 "id): drop id= or make them agree",
				 v->name, v->id, v->vrf, d->table);
			return -EINVAL;
		}
		if (!d && !v->has_id) {
			snprintf(err, errlen,
				 "vpn-instance %s: no VRF device %s (ip link add %s type vrf table "
				 "N) "
				 "and no id=N to know it by",
				 v->name, v->vrf, v->vrf);
			return -EINVAL;
		}
		if (d)
			v->id = d->table;
		for (size_t j = 0; j < i; j++)
			if (vpns[j].id == v->id) {
				snprintf(err, errlen,
					 "vpn-instances %s and %s have the same VRF id %u",
					 vpns[j].name, v->name, v->id);
				return -EINVAL;
			}
	}
	return 0;
}

/* The VRF names collectors get: every instance, then VRF devices no instance names */
static void vrf_names_build(struct agent *a)
{
	const struct nsflow_config *c = a->cfg;
	size_t n = 0;

	for (size_t i = 0; i < c->n_vpns && n < AGENT_MAX_VRFS; i++) {
		a->vrf_names[n].id = c->vpns[i].id;
		snprintf(a->vrf_names[n++].name, sizeof(a->vrf_names[0].name), "%s",
			 c->vpns[i].name);
	}
	for (size_t i = 0; i < a->vrf.n && n < AGENT_MAX_VRFS; i++) {
		const struct vrf_link *l = &a->vrf.links[i];

		if (!l->is_vrf || !l->table || vpn_by_id(c->vpns, c->n_vpns, l->table))
			continue;
		a->vrf_names[n].id = l->table;
		snprintf(a->vrf_names[n++].name, sizeof(a->vrf_names[0].name), "%s", l->name);
	}
	a->ctx.vrfs = a->vrf_names;
	a->ctx.n_vrfs = n;
}

int agent_vpn_open(struct agent *a, char *err, size_t errlen)
{
	struct nsflow_config *c = a->cfg;
	int ret;

	ret = vrf_track_open(&a->vrf, err, errlen);
	if (ret)
		return ret;
	a->vrf_open = true;
	ret = vpn_resolve_ids(c->vpns, c->n_vpns, &a->vrf, err, errlen);
	if (ret)
		return ret;
	vrf_names_build(a);
	return 0;
}

void agent_vpn_poll(struct agent *a)
{
	int ret;

	if (!a->vrf_open)
		return;
	ret = vrf_track_poll(&a->vrf);
	if (ret < 0) {
		pr_warn("VRFs of interfaces: %s", strerror(-ret));
		return;
	}
	if (!ret)
		return;
	vrf_names_build(a);
	/* collectors learn new names with the next options refresh; give it now */
	for (size_t i = 0; i < a->n_sinks; i++)
		ns_sink_refresh(a->sinks[i]);
}

static void vrf_stat_add(struct agent *a, const struct ns_record *r)
{
	uint32_t id = r->direction == 0 ? r->ingress_vrf : r->egress_vrf;
	size_t i;

	for (i = 0; i < a->n_vrf_stats && a->vrf_stats[i].id != id; i++)
		;
	if (i == a->n_vrf_stats) {
		if (i == AGENT_VRF_STATS)
			return;
		a->vrf_stats[a->n_vrf_stats++] = (struct agent_vrf_stat){ .id = id };
	}
	a->vrf_stats[i].flows++;
	a->vrf_stats[i].packets += r->packets;
	a->vrf_stats[i].octets += r->octets;
}

void agent_vpn_record(struct agent *a, struct ns_record *r)
{
	const struct nsflow_config *c = a->cfg;

	if (!a->vrf_open || (!c->n_vpns && !a->vrf.n))
		return;
	if (!vpn_record_fill(c->vpns, c->n_vpns, &a->vrf, r))
		return;
	r->tmpl_id = ns_tmpl_vpn_id(ns_tmpl_id_for(r));
	if (r->mpls_top_type)
		r->tmpl_id = ns_tmpl_vpn_top_id(r->tmpl_id);
	vrf_stat_add(a, r);
}

void agent_vpn_close(struct agent *a)
{
	if (a->vrf_open)
		vrf_track_close(&a->vrf);
	a->vrf_open = false;
}

const char *agent_vrf_name(const struct agent *a, uint32_t id)
{
	for (size_t i = 0; i < a->ctx.n_vrfs; i++)
		if (a->ctx.vrfs[i].id == id)
			return a->ctx.vrfs[i].name;
	return NULL;
}

int agent_vrf_id_of(const struct agent *a, const char *name, uint32_t *id)
{
	const struct vpn_instance *v = vpn_by_name(a->cfg->vpns, a->cfg->n_vpns, name);
	const struct vrf_link *l = vrf_device_named(&a->vrf, name);
	char *end;
	unsigned long n;

	if (v || l) {
		*id = v ? v->id : l->table;
		return 0;
	}
	n = strtoul(name, &end, 10);
	if (!*name || *end || n > UINT32_MAX)
		return -ENOENT;
	*id = (uint32_t)n; /* a VRF id; 0 is the default VRF */
	return 0;
}

bool agent_vpn_in_vrf(struct agent *a, struct ns_record *r, uint32_t id)
{
	const struct nsflow_config *c = a->cfg;

	if (a->vrf_open)
		vpn_record_fill(c->vpns, c->n_vpns, &a->vrf, r);
	return r->ingress_vrf == id || r->egress_vrf == id;
}

void agent_vpn_show_stats(const struct agent *a, FILE *out)
{
	if (!a->n_vrf_stats)
		return;
	fprintf(out, "\n\n%-24s %8s %10s %14s %18s\n", "vrf (exported)", "id", "flows", "packets",
		"octets");
	for (size_t i = 0; i < a->n_vrf_stats; i++) {
		const struct agent_vrf_stat *st = &a->vrf_stats[i];
		const char *name = agent_vrf_name(a, st->id);

		fprintf(out, "%-24s %8u %10llu %14llu %18llu\n",
			name	 ? name
			: st->id ? "?"
				 : "(default)",
			st->id, (unsigned long long)st->flows, (unsigned long long)st->packets,
			(unsigned long long)st->octets);
	}
}
