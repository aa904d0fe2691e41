/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What config.c (flags, checks) and config_yaml.c (the file) share: the settings table and the
 * code that applies a value, so that a flag and its YAML key cannot drift apart. */
#ifndef NSFLOW_CONFIG_PRIV_H
#define NSFLOW_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"

enum opt_id {
	OPT_HELP = 'h',
	OPT_INTERFACE = 'i',
	OPT_COLLECTOR = 'c',
	OPT_VERBOSE = 'v',
	OPT_CONFIG = 256,
	OPT_ACTIVE,
	OPT_INACTIVE,
	OPT_POLL,
	OPT_CACHE,
	OPT_SAMPLE,
	OPT_XDP_MODE,
	OPT_INGRESS_HOOK,
	OPT_NO_EGRESS,
	OPT_PIN_DIR,
	OPT_MPLS,
	OPT_SRV6,
	OPT_COUNTER_BITS,
	OPT_OBS_DOMAIN,
	OPT_TPL_PACKETS,
	OPT_TPL_SECONDS,
	OPT_MTU,
	OPT_SOURCE,
	OPT_METRICS,
	OPT_CONTROL_SOCKET,
	OPT_AGGREGATE,
	OPT_AGG_ACTIVE,
	OPT_AGG_INACTIVE,
	OPT_AGG_CACHE,
	OPT_NO_ORIGINAL,
	OPT_ROUTES,
	OPT_RECORD,
	OPT_EXPORT_DSCP,
	OPT_VXLAN,
	OPT_VXLAN_PORT,
	OPT_VPN,
	OPT_ALL_IFACES,
	OPT_IFACE_MATCH,
	OPT_IFACE_EXCLUDE,
	OPT_MAX,
};

struct setting {
	const char *flag; /* long flag */
	const char *key;  /* YAML key; NULL for flags the file cannot hold */
	int id;
	bool has_arg;
	const char *arg; /* what the value is, in "needs a value" messages */
};

struct choice {
	const char *name;
	uint32_t value;
};

extern const struct setting config_settings[];
extern const size_t config_n_settings;
extern const struct choice config_mpls_modes[];
extern const struct choice config_srv6_modes[];
extern const struct choice config_vxlan_modes[];
extern const char *const config_iface_keys[];

__attribute__((format(printf, 3, 4))) int config_errf(char *err, size_t errlen, const char *fmt,
						      ...);
const char *config_suggest(char *buf, size_t len, const char *word, const char *const *names,
			   size_t n, const char *prefix);
int config_parse_choice(const char *v, const struct choice *ch, const char *where, uint32_t *out,
			char *err, size_t errlen);
int config_parse_sample(const char *v, const char *where, struct config_sampler *s, char *err,
			size_t errlen);
int config_add_iface(struct nsflow_config *c, const char *name, unsigned int line,
		     const char *where, struct config_iface **out, char *err, size_t errlen);
int config_add_collector(struct nsflow_config *c, const char *url, const char *where, char *err,
			 size_t errlen);
void config_clear_collectors(struct nsflow_config *c);
/* A flexible record (flex.h) with the settings of tmpl (timeouts, cache size, line); a name
 * given twice is an error. */
int config_add_record(struct nsflow_config *c, const char *spec, const struct config_record *tmpl,
		      const char *where, char *err, size_t errlen);
/*
 * Aggregation caches (config_agg.c). "MODE[:v4|v6]" adds the mode's cache for each family it
 * names (both without one), with the settings of tmpl (mode and ipv6 ignored); a mode and
 * family given twice is an error.
 */
int config_add_agg(struct nsflow_config *c, const char *v, const struct config_agg *tmpl,
		   const char *where, char *err, size_t errlen);
/* A number within the range of setting id (OPT_ACTIVE ...), with its message when it is not */
int config_parse_range(int id, const char *v, const char *where, uint32_t *out, char *err,
		       size_t errlen);
int config_apply_value(struct nsflow_config *c, int id, const char *v, const char *where,
		       bool from_file, char *err, size_t errlen);

#endif
