// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Template definitions and template records, for IPFIX (RFC 7011 3.4) and v9 (RFC 3954 5). */
#include <errno.h>
#include <string.h>

#include "exp_msg.h"
#include "exp_template.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct ns_field_list {
	const uint16_t *ids;
	size_t n;
};

#define LIST(a)         \
	{               \
		a, N(a) \
	}

/* Flow templates: a head by address family, the common body, then optional groups */
static const uint16_t head_v4[] = { 8, 12, 7, 11, 4, 5, 6, 32 };
static const uint16_t head_v6[] = { 27, 28, 7, 11, 4, 5, 6, 139, 31 };
static const uint16_t body[] = { 10, 14, 61, 60, 58, 243, 245, 56,  80, 52,
				 53, 25, 26, 2,	 1,  152, 153, 136, 302 };
static const uint16_t grp_mpls[] = { 70, 71, 72 };
static const uint16_t grp_srh[] = { 492, 493, 498, 495, 500, 496, 497, 499 };
/* an IPv4 packet under an SRH: the flow label is the outer IPv6 header's */
static const uint16_t grp_srh_v4[] = { 31 };
static const uint16_t grp_vxlan[] = { 351 };
/* routing information (--routes): mask lengths, AS numbers, BGP and IP next hops */
static const uint16_t grp_route_v4[] = { 9, 13, 16, 17, 18, 15 };
static const uint16_t grp_route_v6[] = { 29, 30, 16, 17, 63, 62 };
/* traffic of a VRF / VPN instance */
static const uint16_t grp_vpn[] = { 234, 235, 90 };
static const uint16_t grp_vpn_top[] = { 46, 47 };
/* MPLS label-only flows have no IP header to describe */
static const uint16_t body_mpls[] = { 70, 71, 72, 10, 14,  61,	58,  243, 245,
				      56, 80, 2,  1,  152, 153, 136, 302 };

/*
 * Aggregated records: the mode's keys (v4 and v6 lists differ where an address or a mask
 * length is a key), then what every aggregated record carries.
 */
struct ns_agg_def {
	const char *name;
	struct ns_field_list v4, v6;
};

static const uint16_t agg_as[] = { 16, 17, 10, 14 };
static const uint16_t agg_as_tos[] = { 16, 17, 10, 14, 5 };
static const uint16_t agg_pp[] = { 4, 7, 11 };
static const uint16_t agg_pp_tos[] = { 4, 7, 11, 5, 10, 14 };
static const uint16_t agg_sp4[] = { 16, 8, 9, 10 };
static const uint16_t agg_sp6[] = { 16, 27, 29, 10 };
static const uint16_t agg_sp4_tos[] = { 16, 8, 9, 10, 5 };
static const uint16_t agg_sp6_tos[] = { 16, 27, 29, 10, 5 };
static const uint16_t agg_dp4[] = { 17, 12, 13, 14 };
static const uint16_t agg_dp6[] = { 17, 28, 30, 14 };
static const uint16_t agg_dp4_tos[] = { 17, 12, 13, 14, 5 };
static const uint16_t agg_dp6_tos[] = { 17, 28, 30, 14, 5 };
static const uint16_t agg_p4[] = { 16, 17, 8, 9, 12, 13, 10, 14 };
static const uint16_t agg_p6[] = { 16, 17, 27, 29, 28, 30, 10, 14 };
static const uint16_t agg_p4_tos[] = { 16, 17, 8, 9, 12, 13, 10, 14, 5 };
static const uint16_t agg_p6_tos[] = { 16, 17, 27, 29, 28, 30, 10, 14, 5 };
static const uint16_t agg_mpls[] = { 70, 10 };
static const uint16_t agg_vlan[] = { 58, 10 };
static const uint16_t agg_index_tos[] = { 10, 14, 5 };
static const uint16_t agg_src_index_tos[] = { 10, 5 };
static const uint16_t agg_nh4_tos[] = { 18, 5, 14 };
static const uint16_t agg_nh6_tos[] = { 63, 5, 14 };
static const uint16_t agg_vni4[] = { 351, 8, 12 };
static const uint16_t agg_vni6[] = { 351, 27, 28 };
static const uint16_t agg_tail[] = { 60, 61, 2, 1, 152, 153, 136 };

#define SAME(a) LIST(a), LIST(a)
static const struct ns_agg_def agg_defs[NS_AGG_MODES] = {
	[NS_AGG_AS] = { "as", SAME(agg_as) },
	[NS_AGG_AS_TOS] = { "as-tos", SAME(agg_as_tos) },
	[NS_AGG_PROTOCOL_PORT] = { "protocol-port", SAME(agg_pp) },
	[NS_AGG_PROTOCOL_PORT_TOS] = { "protocol-port-tos", SAME(agg_pp_tos) },
	[NS_AGG_SOURCE_PREFIX] = { "source-prefix", LIST(agg_sp4), LIST(agg_sp6) },
	[NS_AGG_SOURCE_PREFIX_TOS] = { "source-prefix-tos", LIST(agg_sp4_tos), LIST(agg_sp6_tos) },
	[NS_AGG_DESTINATION_PREFIX] = { "destination-prefix", LIST(agg_dp4), LIST(agg_dp6) },
	[NS_AGG_DESTINATION_PREFIX_TOS] = { "destination-prefix-tos", LIST(agg_dp4_tos),
					    LIST(agg_dp6_tos) },
	[NS_AGG_PREFIX] = { "prefix", LIST(agg_p4), LIST(agg_p6) },
	[NS_AGG_PREFIX_TOS] = { "prefix-tos", LIST(agg_p4_tos), LIST(agg_p6_tos) },
	[NS_AGG_MPLS_LABEL] = { "mpls-label", SAME(agg_mpls) },
	[NS_AGG_VLAN_ID] = { "vlan-id", SAME(agg_vlan) },
	[NS_AGG_INDEX_TOS] = { "index-tos", SAME(agg_index_tos) },
	[NS_AGG_SOURCE_INDEX_TOS] = { "source-index-tos", SAME(agg_src_index_tos) },
	[NS_AGG_BGP_NEXTHOP_TOS] = { "bgp-nexthop-tos", LIST(agg_nh4_tos), LIST(agg_nh6_tos) },
	[NS_AGG_VNI_SIP_DIP] = { "vni-sip-dip", LIST(agg_vni4), LIST(agg_vni6) },
};

const char *ns_agg_mode_name(unsigned int mode)
{
	return mode < NS_AGG_MODES ? agg_defs[mode].name : NULL;
}

int ns_agg_mode_parse(const char *name)
{
	for (unsigned int m = 0; m < NS_AGG_MODES; m++)
		if (!strcmp(name, agg_defs[m].name))
			return (int)m;
	return -EINVAL;
}

/*
 * Options templates, scope first. IPFIX: sampler by selectorId (RFC 5476 6.5.1 style),
 * reliability statistics (RFC 7011 4.3) per observation domain, interface names by
 * ingressInterface. v9 (RFC 3954 6.1) scopes by System or Interface and describes samplers
 * with FLOW_SAMPLER_ID / MODE / RANDOM_INTERVAL, which is what v9 collectors read.
 */
struct ns_opt_def {
	uint16_t id;
	struct ns_field_list scope, fields;
};

static const uint16_t ipfix_sampler_scope[] = { 302 };
/* samplerId (48) repeats the scope's selectorId among the values, where Akvorado looks */
static const uint16_t ipfix_sampler[] = { 48, 304, 305, 306, 307 };
static const uint16_t v9_sampler_scope[] = { 149 };
static const uint16_t v9_sampler[] = { 48, 49, 50 };
static const uint16_t reliability_scope[] = { 149 };
static const uint16_t reliability[] = { 166, 167, 168 };
static const uint16_t iface_scope[] = { 10 };
static const uint16_t iface[] = { 82 };
/* nfdump reads an interface option as scope, then ingressInterface and interfaceDescription,
 * nothing else (anything more and it misreads the record) */
static const uint16_t ifdesc_scope[] = { 149 };
static const uint16_t ifdesc[] = { 10, 83 };
/* no samplingAlgorithm (35) beside it: nfdump 1.7.1 then takes the template for no sampler */
static const uint16_t sampling_scope[] = { 149 };
static const uint16_t sampling[] = { 34 };
/* the same layout for VRF names: nfdump takes the first scope for the exporter's and reads
 * the VRF id and a fixed-length name after it */
static const uint16_t vrf_scope[] = { 149 };
static const uint16_t vrf[] = { 234, 236 };

static const struct ns_opt_def ipfix_opts[] = {
	{ NS_TMPL_OPT_SAMPLER, LIST(ipfix_sampler_scope), LIST(ipfix_sampler) },
	{ NS_TMPL_OPT_RELIABILITY, LIST(reliability_scope), LIST(reliability) },
	{ NS_TMPL_OPT_IFACE, LIST(iface_scope), LIST(iface) },
	{ NS_TMPL_OPT_IFDESC, LIST(ifdesc_scope), LIST(ifdesc) },
	{ NS_TMPL_OPT_SAMPLING, LIST(sampling_scope), LIST(sampling) },
	{ NS_TMPL_OPT_VRF, LIST(vrf_scope), LIST(vrf) },
};

static const struct ns_opt_def v9_opts[] = {
	{ NS_TMPL_OPT_SAMPLER, LIST(v9_sampler_scope), LIST(v9_sampler) },
	{ NS_TMPL_OPT_RELIABILITY, LIST(reliability_scope), LIST(reliability) },
	{ NS_TMPL_OPT_IFACE, LIST(iface_scope), LIST(iface) },
	{ NS_TMPL_OPT_IFDESC, LIST(ifdesc_scope), LIST(ifdesc) },
	{ NS_TMPL_OPT_SAMPLING, LIST(sampling_scope), LIST(sampling) },
	{ NS_TMPL_OPT_VRF, LIST(vrf_scope), LIST(vrf) },
};

static struct ns_flex_tmpl flex_defs[2 * NS_FLEX_MAX];

/* Append element @id to @t: @scope for options scope fields, @opt to read ns_opt_row; a
 * nonzero @len_as replaces the element's own length */
static int tmpl_add_len(struct ns_tmpl *t, enum ns_proto proto, uint16_t id, int scope, int opt,
			uint16_t len_as)
{
	const struct ns_ie *ie = ns_ie_find(id);
	const struct ns_ie_source *src;
	struct ns_tmpl_field *f;
	uint16_t type, len;
	int err;

	if (!ie)
		return -ENOENT;
	type = ie->id;
	len = ie->len;
	if (proto == NS_PROTO_V9) {
		if (scope) {
			type = ie->v9_scope;
		} else {
			/* v9 cannot carry it (basicList): the v9 template leaves it out */
			const struct ns_ie *own = ie;

			if (!ie->v9_id)
				return 0;
			ie = ns_ie_find(ie->v9_id);
			if (!ie)
				return -ENOENT;
			type = ie->id;
			len = ie->v9_len;
			if (own->v9_own)
				ie = own; /* its value, its conditions; v9's field type */
		}
	}
	src = opt ? &ie->opt : &ie->rec;
	if (!type || src->kind == NS_SRC_NONE)
		return -EINVAL;
	if (len_as)
		len = len_as;
	if (t->n_fields >= NS_PLAN_OPS_MAX)
		return -E2BIG;
	err = ns_plan_add(&t->plan, src, len);
	if (err)
		return err;
	f = &t->fields[t->n_fields++];
	f->ie = ie;
	f->type = type;
	f->len = len;
	if (scope)
		t->n_scope++;
	return 0;
}

static int tmpl_add(struct ns_tmpl *t, enum ns_proto proto, uint16_t id, int scope, int opt)
{
	return tmpl_add_len(t, proto, id, scope, opt, 0);
}

static int tmpl_add_list(struct ns_tmpl *t, enum ns_proto proto, const uint16_t *ids, size_t n,
			 int scope, int opt)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = tmpl_add(t, proto, ids[i], scope, opt);
		if (err)
			return err;
	}
	return 0;
}

/* Original flow template 256..264, or a VXLAN twin of 256..263 */
static int tmpl_build_flow(struct ns_tmpl *t, enum ns_proto proto, uint16_t id)
{
	int vxlan = id >= NS_TMPL_VXLAN;
	unsigned int bits = id - (vxlan ? NS_TMPL_VXLAN : NS_TMPL_IPV4);
	int err;

	if (id == NS_TMPL_MPLS)
		return tmpl_add_list(t, proto, body_mpls, N(body_mpls), 0, 0);
	if (bits & 1)
		err = tmpl_add_list(t, proto, head_v6, N(head_v6), 0, 0);
	else
		err = tmpl_add_list(t, proto, head_v4, N(head_v4), 0, 0);
	if (!err)
		err = tmpl_add_list(t, proto, body, N(body), 0, 0);
	if (!err && (bits & 2))
		err = tmpl_add_list(t, proto, grp_mpls, N(grp_mpls), 0, 0);
	if (!err && (bits & 4))
		err = tmpl_add_list(t, proto, grp_srh, N(grp_srh), 0, 0);
	if (!err && (bits & 4) && !(bits & 1))
		err = tmpl_add_list(t, proto, grp_srh_v4, N(grp_srh_v4), 0, 0);
	if (!err && vxlan)
		err = tmpl_add_list(t, proto, grp_vxlan, N(grp_vxlan), 0, 0);
	return err;
}

/* Template routed_id: flow template id (256..263 or a VXLAN twin) and the routing group */
static int tmpl_build_routed(struct ns_tmpl *t, enum ns_proto proto, uint16_t id,
			     uint16_t routed_id)
{
	int ipv6 = (id - (id >= NS_TMPL_VXLAN ? NS_TMPL_VXLAN : NS_TMPL_IPV4)) & 1;
	int err = tmpl_build_flow(t, proto, id);

	if (!err && ipv6)
		err = tmpl_add_list(t, proto, grp_route_v6, N(grp_route_v6), 0, 0);
	else if (!err)
		err = tmpl_add_list(t, proto, grp_route_v4, N(grp_route_v4), 0, 0);
	t->id = routed_id;
	return err;
}

/* The VPN twins: the original (or routed) template's fields, then the VPN group */
static int tmpl_build_vpn(struct ns_tmpl_set *ts, enum ns_proto proto)
{
	for (unsigned int i = 0; i < NS_TMPL_FLOW_COUNT + 8; i++) {
		uint16_t base = i < NS_TMPL_FLOW_COUNT ? (uint16_t)(NS_TMPL_IPV4 + i)
						       : (uint16_t)(NS_TMPL_ROUTED + i - 9);
		struct ns_tmpl *t = &ts->t[ns_tmpl_vpn_id(base) - NS_TMPL_FIRST], *top;
		int err = i < NS_TMPL_FLOW_COUNT
				  ? tmpl_build_flow(t, proto, base)
				  : tmpl_build_routed(t, proto, (uint16_t)(NS_TMPL_IPV4 + i - 9),
						      base);

		if (!err)
			err = tmpl_add_list(t, proto, grp_vpn, N(grp_vpn), 0, 0);
		if (err)
			return err;
		t->id = ns_tmpl_vpn_id(base);
		if (!ns_tmpl_vpn_has_mpls(t->id))
			continue;
		top = &ts->t[ns_tmpl_vpn_top_id(t->id) - NS_TMPL_FIRST];
		*top = *t;
		top->id = ns_tmpl_vpn_top_id(t->id);
		err = tmpl_add_list(top, proto, grp_vpn_top, N(grp_vpn_top), 0, 0);
		if (err)
			return err;
	}
	return 0;
}

int ns_tmpl_set_init(struct ns_tmpl_set *ts, enum ns_proto proto)
{
	const struct ns_opt_def *opts = proto == NS_PROTO_V9 ? v9_opts : ipfix_opts;
	unsigned int i;
	int err;

	if (proto != NS_PROTO_V9 && proto != NS_PROTO_IPFIX)
		return -EINVAL;
	memset(ts, 0, sizeof(*ts));
	ts->proto = proto;
	for (i = 0; i < NS_TMPL_FLOW_COUNT; i++) {
		ts->t[i].id = NS_TMPL_FIRST + i;
		err = tmpl_build_flow(&ts->t[i], proto, ts->t[i].id);
		if (err)
			return err;
	}
	for (i = 0; i < 2 * NS_AGG_MODES; i++) {
		const struct ns_agg_def *d = &agg_defs[i / 2];
		const struct ns_field_list *keys = i % 2 ? &d->v6 : &d->v4;
		struct ns_tmpl *t = &ts->t[NS_TMPL_AGG - NS_TMPL_FIRST + i];

		t->id = (uint16_t)(NS_TMPL_AGG + i);
		err = tmpl_add_list(t, proto, keys->ids, keys->n, 0, 0);
		if (!err)
			err = tmpl_add_list(t, proto, agg_tail, N(agg_tail), 0, 0);
		if (err)
			return err;
	}
	for (i = 0; i < 8; i++) {
		struct ns_tmpl *t = &ts->t[NS_TMPL_ROUTED - NS_TMPL_FIRST + i];
		struct ns_tmpl *x = &ts->t[NS_TMPL_VXLAN - NS_TMPL_FIRST + i];
		struct ns_tmpl *xr = &ts->t[NS_TMPL_ROUTED_VXLAN - NS_TMPL_FIRST + i];

		err = tmpl_build_routed(t, proto, (uint16_t)(NS_TMPL_IPV4 + i),
					(uint16_t)(NS_TMPL_ROUTED + i));
		x->id = (uint16_t)(NS_TMPL_VXLAN + i);
		err = err ?: tmpl_build_flow(x, proto, x->id);
		err = err
			      ?: tmpl_build_routed(xr, proto, x->id,
						   (uint16_t)(NS_TMPL_ROUTED_VXLAN + i));
		if (err)
			return err;
	}
	err = tmpl_build_vpn(ts, proto);
	if (err)
		return err;
	for (i = 0; i < N(flex_defs); i++) {
		const struct ns_flex_tmpl *d = &flex_defs[i];
		struct ns_tmpl *t = &ts->t[NS_TMPL_FLEX - NS_TMPL_FIRST + i];

		if (!d->n)
			continue;
		t->id = (uint16_t)(NS_TMPL_FLEX + i);
		for (unsigned int f = 0; f < d->n && !err; f++)
			err = tmpl_add_len(t, proto, d->f[f].ie, 0, 0, d->f[f].len);
		if (err)
			return err;
	}
	for (i = 0; i < N(ipfix_opts); i++) {
		struct ns_tmpl *t = &ts->t[opts[i].id - NS_TMPL_FIRST];

		t->id = opts[i].id;
		err = tmpl_add_list(t, proto, opts[i].scope.ids, opts[i].scope.n, 1, 1);
		if (!err)
			err = tmpl_add_list(t, proto, opts[i].fields.ids, opts[i].fields.n, 0, 1);
		if (err)
			return err;
	}
	return 0;
}

int ns_tmpl_set_counters(struct ns_tmpl_set *ts, unsigned int bits)
{
	if (bits == 64)
		return 0;
	if (bits != 32)
		return -EINVAL;
	for (unsigned int i = 0; i < NS_TMPL_COUNT; i++) {
		struct ns_tmpl *t = &ts->t[i];
		int err = 0;

		/* flexible records have widths of their own; options carry no counters */
		if (!t->id || t->n_scope || (t->id >= NS_TMPL_FLEX && t->id < NS_TMPL_ROUTED))
			continue;
		memset(&t->plan, 0, sizeof(t->plan));
		for (unsigned int f = 0; f < t->n_fields && !err; f++) {
			struct ns_tmpl_field *fl = &t->fields[f];

			if ((fl->type == 1 || fl->type == 2) && fl->len == 8)
				fl->len = 4;
			err = ns_plan_add(&t->plan, &fl->ie->rec, fl->len);
		}
		if (err)
			return err;
	}
	return 0;
}

int ns_tmpl_flex_define(const struct ns_flex_tmpl *defs, size_t n)
{
	static struct ns_tmpl_set probe;
	int err = 0;

	if (n > N(flex_defs))
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (defs[i].n > NS_PLAN_OPS_MAX)
			return -E2BIG;
		for (unsigned int f = 0; f < defs[i].n; f++) {
			const struct ns_ie *ie = ns_ie_find(defs[i].f[f].ie);
			uint16_t len = defs[i].f[f].len;

			if (!ie)
				return -ENOENT;
			if (len &&
			    (ie->type != NS_IE_UNSIGNED ||
			     (len != 1 && len != 2 && len != 4 && len != 8) || len > ie->len))
				return -EINVAL;
		}
	}
	memset(flex_defs, 0, sizeof(flex_defs));
	memcpy(flex_defs, defs, n * sizeof(*defs));
	/* what cannot be built must fail here, not in a sink opened later */
	for (int p = NS_PROTO_V9; p <= NS_PROTO_IPFIX && !err; p++)
		err = ns_tmpl_set_init(&probe, (enum ns_proto)p);
	if (err)
		memset(flex_defs, 0, sizeof(flex_defs));
	return err;
}

size_t ns_tmpl_write(const struct ns_tmpl *t, enum ns_proto proto, uint8_t *dst)
{
	uint8_t *d = dst;
	unsigned int i;

	ns_put16(d, t->id);
	if (!t->n_scope) {
		ns_put16(d + 2, t->n_fields);
		d += 4;
	} else if (proto == NS_PROTO_V9) {
		/* RFC 3954 6.1: scope and option lengths in bytes of field specifiers */
		ns_put16(d + 2, 4 * t->n_scope);
		ns_put16(d + 4, 4 * (t->n_fields - t->n_scope));
		d += 6;
	} else {
		/* RFC 7011 3.4.2.2: total field count, then scope field count */
		ns_put16(d + 2, t->n_fields);
		ns_put16(d + 4, t->n_scope);
		d += 6;
	}
	for (i = 0; i < t->n_fields; i++, d += 4) {
		ns_put16(d, t->fields[i].type);
		ns_put16(d + 2, t->fields[i].len);
	}
	return d - dst;
}
