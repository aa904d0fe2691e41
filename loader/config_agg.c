// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Settings of the aggregation caches: --aggregate MODE[:v4|v6] and YAML 'aggregation:', and of
 * the flexible records: --record and YAML 'records:'. */
#include <errno.h>
#include <string.h>
#include "config.h"
#include "config_priv.h"
#include "exp_template.h"

static int agg_modes_hint(char *err, size_t errlen, const char *where, const char *mode)
{
	char list[512] = "";
	size_t n = 0;

	for (unsigned int m = 0; m < NS_AGG_MODES; m++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", m ? ", " : "",
				      ns_agg_mode_name(m));
	return config_errf(err, errlen, "%s: unknown aggregation mode '%s' (one of %s)", where,
			   mode, list);
}

int config_add_agg(struct nsflow_config *c, const char *v, const struct config_agg *tmpl,
		   const char *where, char *err, size_t errlen)
{
	char mode[64];
	const char *colon = strchr(v, ':');
	bool fam[2] = { true, true };
	int m;

	if ((colon ? (size_t)(colon - v) : strlen(v)) >= sizeof(mode))
		return agg_modes_hint(err, errlen, where, v);
	snprintf(mode, sizeof(mode), "%.*s", colon ? (int)(colon - v) : (int)strlen(v), v);
	m = ns_agg_mode_parse(mode);
	if (m < 0)
		return agg_modes_hint(err, errlen, where, mode);
	if (colon) {
		if (strcmp(colon + 1, "v4") && strcmp(colon + 1, "v6"))
			return config_errf(err, errlen,
					   "%s: '%s': the family after ':' is v4 or v6 (without "
					   "one, both)",
					   where, v);
		fam[0] = !strcmp(colon + 1, "v4");
		fam[1] = !fam[0];
	}
	for (int f = 0; f < 2; f++) {
		struct config_agg *a;

		if (!fam[f])
			continue;
		for (size_t i = 0; i < c->n_aggs; i++)
			if (c->aggs[i].mode == m && c->aggs[i].ipv6 == f)
				return config_errf(err, errlen,
						   "%s: aggregation %s for %s is given twice",
						   where, mode, f ? "IPv6" : "IPv4");
		if (c->n_aggs == CONFIG_MAX_AGGS)
			return config_errf(err, errlen, "%s: at most %d aggregation caches", where,
					   CONFIG_MAX_AGGS);
		a = &c->aggs[c->n_aggs++];
		*a = *tmpl;
		a->mode = (uint8_t)m;
		a->ipv6 = (uint8_t)f;
	}
	return 0;
}

int config_add_record(struct nsflow_config *c, const char *spec, const struct config_record *tmpl,
		      const char *where, char *err, size_t errlen)
{
	struct config_record r = *tmpl;
	int ret;

	ret = flex_parse(&r, spec, where, err, errlen);
	if (ret)
		return ret;
	for (size_t i = 0; i < c->n_records; i++)
		if (!strcmp(c->records[i].flex.name, r.flex.name))
			return config_errf(err, errlen, "%s: record %s is defined twice", where,
					   r.flex.name);
	if (c->n_records == NS_FLEX_MAX)
		return config_errf(err, errlen, "%s: at most %d flexible records", where,
				   NS_FLEX_MAX);
	c->records[c->n_records++] = r;
	return 0;
}

/* A record's interfaces must be metered: their ifindex is what the record checks */
static int resolve_record_ifaces(struct nsflow_config *c, struct config_record *r, char *err,
				 size_t errlen)
{
	for (unsigned int j = 0; j < r->flex.n_ifindex; j++) {
		size_t i;

		for (i = 0; i < c->n_ifaces && strcmp(c->ifaces[i].name, r->ifnames[j]); i++)
			;
		if (i == c->n_ifaces || !c->ifaces[i].ifindex)
			return config_errf(err, errlen,
					   "record %s: interface '%s' is not metered (give -i %s)",
					   r->flex.name, r->ifnames[j], r->ifnames[j]);
		r->flex.ifindex[j] = c->ifaces[i].ifindex;
	}
	return 0;
}

int config_validate_aggs(struct nsflow_config *c, char *err, size_t errlen)
{
	int ret;

	if (c->no_original && !c->n_aggs && !c->n_records)
		return config_errf(err, errlen,
				   "--no-original leaves nothing to export: give --aggregate MODE "
				   "or --record NAME:match=... (or 'aggregation:' / 'records:' in "
				   "the config file)");
	if (!c->n_aggs && !c->n_records)
		return 0;
	for (size_t i = 0; i < c->n_collectors; i++)
		if (!strncmp(c->collectors[i], "v5://", 5))
			return config_errf(
				err, errlen,
				"collector %s: NetFlow v5 cannot carry %s records (it "
				"has one fixed layout): export them as v9:// or ipfix://",
				c->collectors[i], c->n_aggs ? "aggregated" : "flexible");
	for (size_t i = 0; i < c->n_records; i++) {
		struct config_record *r = &c->records[i];

		ret = resolve_record_ifaces(c, r, err, errlen);
		if (ret)
			return ret;
		r->active_s = r->active_s ? r->active_s : c->agg_active_s;
		r->inactive_s = r->inactive_s ? r->inactive_s : c->agg_inactive_s;
		r->cache_entries = r->cache_entries ? r->cache_entries : c->agg_cache_entries;
		r->flex.tmpl_id[0] = ns_tmpl_flex_id((unsigned int)i, 0);
		r->flex.tmpl_id[1] = ns_tmpl_flex_id((unsigned int)i, 1);
	}
	for (size_t i = 0; i < c->n_aggs; i++) {
		struct config_agg *a = &c->aggs[i];

		a->active_s = a->active_s ? a->active_s : c->agg_active_s;
		a->inactive_s = a->inactive_s ? a->inactive_s : c->agg_inactive_s;
		a->cache_entries = a->cache_entries ? a->cache_entries : c->agg_cache_entries;
	}
	return 0;
}

/* The one flexible record that alone decides what is exported from ifindex, or NULL */
static const struct config_record *sole_record(const struct nsflow_config *c, uint32_t ifindex)
{
	const struct config_record *one = NULL;

	if (!c->no_original || c->n_aggs)
		return NULL;
	for (size_t i = 0; i < c->n_records; i++) {
		const struct config_record *r = &c->records[i];
		bool applies = !r->flex.n_ifindex;

		for (unsigned int j = 0; j < r->flex.n_ifindex; j++)
			applies |= r->flex.ifindex[j] == ifindex;
		if (!applies)
			continue;
		if (one)
			return NULL;
		one = r;
	}
	return one;
}

void config_record_key_mask(const struct nsflow_config *c, uint32_t ifindex, struct nsflow_cfg *out)
{
	const struct config_record *r = sole_record(c, ifindex);
	uint8_t sp, dp;
	uint32_t kf;

	if (!r)
		return;
	kf = flex_kernel_key(r, &sp, &dp);
	if (!kf)
		return;
	out->key_fields = kf;
	out->src_prefix_len = sp;
	out->dst_prefix_len = dp;
}
