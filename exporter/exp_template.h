/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The templates nsflow exports, with stable ids, and how a record picks its template. The
 * field lists name IPFIX elements; the v9 versions are derived through the IE registry.
 */
#ifndef NSFLOW_EXP_TEMPLATE_H
#define NSFLOW_EXP_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "ie.h"
#include "exp_plan.h"
#include "record.h"

/* Flow template ids: 256 + (IPv6 ? 1 : 0) + (MPLS ? 2 : 0) + (SRH ? 4 : 0) */
enum ns_tmpl_id {
	NS_TMPL_IPV4 = 256,
	NS_TMPL_IPV6 = 257,
	NS_TMPL_IPV4_MPLS = 258,
	NS_TMPL_IPV6_MPLS = 259,
	NS_TMPL_IPV4_SRH = 260, /* inner IPv4 under an SRv6 SRH */
	NS_TMPL_IPV6_SRH = 261,
	NS_TMPL_IPV4_MPLS_SRH = 262,
	NS_TMPL_IPV6_MPLS_SRH = 263,
	NS_TMPL_MPLS = 264, /* label-only MPLS flow, ip_version 0 */
	NS_TMPL_OPT_SAMPLER = 265,
	NS_TMPL_OPT_RELIABILITY = 266,
	NS_TMPL_OPT_IFACE = 267,
};

#define NS_TMPL_FIRST	   NS_TMPL_IPV4
#define NS_TMPL_COUNT	   12
#define NS_TMPL_FLOW_COUNT 9

struct ns_tmpl_field {
	const struct ns_ie *ie; /* the element sent (the v9 equivalent in a v9 template) */
	uint16_t type;		/* field type on the wire: ie->id, or a v9 scope type */
	uint16_t len;		/* field length on the wire, NS_IE_VARLEN for variable */
};

struct ns_tmpl {
	uint16_t id;
	uint8_t n_fields;
	uint8_t n_scope; /* options templates: the first n_scope fields are the scope */
	struct ns_tmpl_field fields[NS_PLAN_OPS_MAX];
	struct ns_plan plan; /* reads struct ns_record, or struct ns_opt_row for options */
};

struct ns_tmpl_set {
	enum ns_proto proto;
	struct ns_tmpl t[NS_TMPL_COUNT];
};

/* Build every template of @proto (NS_PROTO_V9 or NS_PROTO_IPFIX); 0 or -errno */
int ns_tmpl_set_init(struct ns_tmpl_set *ts, enum ns_proto proto);

static inline const struct ns_tmpl *ns_tmpl_get(const struct ns_tmpl_set *ts, uint16_t id)
{
	return &ts->t[id - NS_TMPL_FIRST];
}

/* The flow template a record is exported with, from ip_version, mpls_count and srh_present */
static inline uint16_t ns_tmpl_id_for(const struct ns_record *r)
{
	if (r->ip_version != 4 && r->ip_version != 6)
		return NS_TMPL_MPLS;
	return NS_TMPL_IPV4 + (r->ip_version == 6) + (r->mpls_count ? 2 : 0) +
	       (r->srh_present ? 4 : 0);
}

/* Bytes of the template record (or options template record) describing @t */
static inline size_t ns_tmpl_rec_len(const struct ns_tmpl *t)
{
	return (t->n_scope ? 6 : 4) + 4u * t->n_fields;
}

/* Write the template record of @t as @proto lays it out; returns ns_tmpl_rec_len() */
size_t ns_tmpl_write(const struct ns_tmpl *t, enum ns_proto proto, uint8_t *dst);

#endif /* NSFLOW_EXP_TEMPLATE_H */
