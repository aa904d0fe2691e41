// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Settings of the aggregation caches: --aggregate MODE[:v4|v6] and YAML 'aggregation:'. */
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

int config_validate_aggs(struct nsflow_config *c, char *err, size_t errlen)
{
	if (c->no_original && !c->n_aggs)
		return config_errf(err, errlen,
				   "--no-original leaves nothing to export: give --aggregate MODE "
				   "(or 'aggregation:' in the config file)");
	if (c->routes_file[0] && !c->n_aggs)
		return config_errf(err, errlen,
				   "--routes: routing information goes into aggregated records "
				   "only (as, prefix, bgp-nexthop-tos modes...): give --aggregate "
				   "MODE");
	if (!c->n_aggs)
		return 0;
	for (size_t i = 0; i < c->n_collectors; i++)
		if (!strncmp(c->collectors[i], "v5://", 5))
			return config_errf(err, errlen,
					   "collector %s: NetFlow v5 cannot carry aggregated "
					   "records (it has one fixed layout): export them as "
					   "v9:// or ipfix://",
					   c->collectors[i]);
	for (size_t i = 0; i < c->n_aggs; i++) {
		struct config_agg *a = &c->aggs[i];

		a->active_s = a->active_s ? a->active_s : c->agg_active_s;
		a->inactive_s = a->inactive_s ? a->inactive_s : c->agg_inactive_s;
		a->cache_entries = a->cache_entries ? a->cache_entries : c->agg_cache_entries;
	}
	return 0;
}
