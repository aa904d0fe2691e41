// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Settings of `nsflow run`. One table describes every setting, so that a flag and its YAML key
 * are parsed, checked and reported by the same code and cannot drift apart.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "ifrule.h"
#include "exp_url.h"
#include "sink.h"

const struct setting config_settings[] = {
	{ "interface", "interfaces", OPT_INTERFACE, true, "an interface name" },
	{ "all-interfaces", "all-interfaces", OPT_ALL_IFACES, false, NULL },
	{ "interface-match", "interface-match", OPT_IFACE_MATCH, true, "a regular expression" },
	{ "exclude-interfaces", "exclude-interfaces", OPT_IFACE_EXCLUDE, true,
	  "a regular expression" },
	{ "collector", "collectors", OPT_COLLECTOR, true, "a collector URL" },
	{ "config", NULL, OPT_CONFIG, true, "a YAML file" },
	{ "active-timeout", "active-timeout", OPT_ACTIVE, true, "seconds" },
	{ "inactive-timeout", "inactive-timeout", OPT_INACTIVE, true, "seconds" },
	{ "poll-interval", "poll-interval", OPT_POLL, true, "milliseconds" },
	{ "cache-entries", "cache-entries", OPT_CACHE, true, "a number of flows" },
	{ "sample", "sample", OPT_SAMPLE, true, "fixed:N, random:N, time:MS or none" },
	{ "xdp-mode", "xdp-mode", OPT_XDP_MODE, true, "auto, native or generic" },
	{ "ingress-hook", "ingress-hook", OPT_INGRESS_HOOK, true, "xdp or tc" },
	{ "no-egress", "no-egress", OPT_NO_EGRESS, false, NULL },
	{ "pin-dir", "pin-dir", OPT_PIN_DIR, true, "a bpffs directory" },
	{ "mpls", "mpls", OPT_MPLS, true, "label-only, ip-only or label-and-ip" },
	{ "srv6", "srv6", OPT_SRV6, true, "outer or inner-header" },
	{ "vxlan", "vxlan", OPT_VXLAN, true, "outer, inner or off" },
	{ "vxlan-port", "vxlan-port", OPT_VXLAN_PORT, true, "a UDP port" },
	{ "counter-bits", "counter-bits", OPT_COUNTER_BITS, true, "32 or 64" },
	{ "observation-domain", "observation-domain", OPT_OBS_DOMAIN, true, "a number" },
	{ "template-refresh-packets", "template-refresh-packets", OPT_TPL_PACKETS, true,
	  "a number of packets" },
	{ "template-refresh-seconds", "template-refresh-seconds", OPT_TPL_SECONDS, true,
	  "seconds" },
	{ "mtu", "mtu", OPT_MTU, true, "bytes" },
	{ "source-address", "source-address", OPT_SOURCE, true, "ADDR or ADDR:PORT" },
	{ "export-dscp", "export-dscp", OPT_EXPORT_DSCP, true, "a DSCP value" },
	{ "metrics", "metrics", OPT_METRICS, true, "HOST:PORT" },
	{ "control-socket", "control-socket", OPT_CONTROL_SOCKET, true, "a unix socket path" },
	{ "aggregate", "aggregation", OPT_AGGREGATE, true, "MODE[:v4|v6]" },
	{ "aggregate-active-timeout", "aggregate-active-timeout", OPT_AGG_ACTIVE, true, "seconds" },
	{ "aggregate-inactive-timeout", "aggregate-inactive-timeout", OPT_AGG_INACTIVE, true,
	  "seconds" },
	{ "aggregate-cache-entries", "aggregate-cache-entries", OPT_AGG_CACHE, true,
	  "a number of flows" },
	{ "no-original", "no-original", OPT_NO_ORIGINAL, false, NULL },
	{ "routes", "routes", OPT_ROUTES, true, "a file" },
	{ "record", "records", OPT_RECORD, true, "NAME[:v4|v6]:match=FIELD,...[:collect=...]" },
	{ "vpn-instance", "vpn-instances", OPT_VPN, true,
	  "NAME:rd=RD[:vrf=DEV][:labels=L1,L2-L3][:id=N][:address=A]" },
	{ "verbose", "verbose", OPT_VERBOSE, false, NULL },
	{ "help", NULL, OPT_HELP, false, NULL },
};
#define N_SETTINGS (sizeof(config_settings) / sizeof(config_settings[0]))
const size_t config_n_settings = N_SETTINGS;

struct range {
	int id;
	uint32_t lo, hi;
	const char *unit;
	size_t off;
};

#define CFG_OFF(field) offsetof(struct nsflow_config, field)
static const struct range ranges[] = {
	{ OPT_ACTIVE, 1, 3600, "seconds", CFG_OFF(active_timeout_s) },
	{ OPT_INACTIVE, 5, 600, "seconds", CFG_OFF(inactive_timeout_s) },
	{ OPT_POLL, 10, 60000, "milliseconds", CFG_OFF(poll_interval_ms) },
	{ OPT_CACHE, 1024, 16777216, "entries", CFG_OFF(cache_entries) },
	{ OPT_OBS_DOMAIN, 0, UINT32_MAX, "", CFG_OFF(observation_domain) },
	{ OPT_TPL_PACKETS, 1, 65535, "packets", CFG_OFF(template_refresh_packets) },
	{ OPT_TPL_SECONDS, 1, 86400, "seconds", CFG_OFF(template_refresh_s) },
	{ OPT_MTU, 1024, 65535, "bytes", CFG_OFF(mtu) }, /* NS_MTU_MIN: the largest record fits */
	{ OPT_EXPORT_DSCP, 0, 63, "", CFG_OFF(export_dscp) },
	{ OPT_VXLAN_PORT, 1, 65535, "", CFG_OFF(vxlan_port) },
	{ OPT_AGG_ACTIVE, 1, 3600, "seconds", CFG_OFF(agg_active_s) },
	{ OPT_AGG_INACTIVE, 5, 600, "seconds", CFG_OFF(agg_inactive_s) },
	{ OPT_AGG_CACHE, 1024, 16777216, "entries", CFG_OFF(agg_cache_entries) },
};

static const struct choice xdp_modes[] = { { "auto", CONFIG_XDP_AUTO },
					   { "native", CONFIG_XDP_NATIVE },
					   { "generic", CONFIG_XDP_GENERIC },
					   { NULL, 0 } };
static const struct choice hooks[] = { { "xdp", CONFIG_INGRESS_XDP },
				       { "tc", CONFIG_INGRESS_TC },
				       { NULL, 0 } };
const struct choice config_mpls_modes[] = { { "label-only", NSFLOW_MPLS_LABEL_ONLY },
					    { "ip-only", NSFLOW_MPLS_IP_ONLY },
					    { "label-and-ip", NSFLOW_MPLS_LABEL_AND_IP },
					    { NULL, 0 } };
const struct choice config_srv6_modes[] = { { "outer", NSFLOW_SRV6_OUTER },
					    { "inner-header", NSFLOW_SRV6_INNER },
					    { NULL, 0 } };
const struct choice config_vxlan_modes[] = { { "outer", NSFLOW_VXLAN_OUTER },
					     { "inner", NSFLOW_VXLAN_INNER },
					     { "off", NSFLOW_VXLAN_OFF },
					     { NULL, 0 } };
static const char *choice_name(const struct choice *ch, uint32_t value)
{
	for (; ch->name; ch++)
		if (ch->value == value)
			return ch->name;
	return "?";
}

const char *config_vxlan_mode_name(uint32_t mode)
{
	return choice_name(config_vxlan_modes, mode);
}

const char *config_mpls_mode_name(uint32_t mode)
{
	return choice_name(config_mpls_modes, mode);
}

const char *config_srv6_mode_name(uint32_t mode)
{
	return choice_name(config_srv6_modes, mode);
}

/* --sample's modes: "fixed:" N and so on ("none" stands alone) */
static const struct {
	const char *prefix;
	uint32_t mode, lo, hi;
	const char *what;
} sample_modes[] = {
	{ "fixed:", NSFLOW_SAMPLE_FIXED, 1, 65535, "N" },
	{ "random:", NSFLOW_SAMPLE_RANDOM, 1, 65535, "N" },
	{ "time:", NSFLOW_SAMPLE_TIME, 5, 30000, "MS" },
};

const char *config_sample_name(uint32_t mode, uint32_t param, char *buf, size_t len)
{
	snprintf(buf, len, "none");
	for (size_t i = 0; i < sizeof(sample_modes) / sizeof(sample_modes[0]); i++)
		if (sample_modes[i].mode == mode)
			snprintf(buf, len, "%s%u", sample_modes[i].prefix, param);
	return buf;
}

static const struct choice counter_widths[] = { { "32", 32 }, { "64", 64 }, { NULL, 0 } };
static const struct choice booleans[] = { { "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 },
					  { "on", 1 },	 { "off", 0 },	 { NULL, 0 } };

const char *const config_iface_keys[] = { "name",  "sample",	 "mpls", "srv6",
					  "vxlan", "vxlan-port", NULL };

__attribute__((format(printf, 3, 4))) int config_errf(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65], i, j;

	if (la > 64 || lb > 64)
		return 64;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0], up;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/*
 * " (did you mean 'PREFIXNAME'?)" for the name closest to word when it is close enough to be a
 * typo of it, else "".
 */
const char *config_suggest(char *buf, size_t len, const char *word, const char *const *names,
			   size_t n, const char *prefix)
{
	size_t best = SIZE_MAX, d, limit = strlen(word) / 4 > 2 ? strlen(word) / 4 : 2;
	const char *found = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!names[i])
			continue;
		d = edit_distance(word, names[i]);
		if (d < best) {
			best = d;
			found = names[i];
		}
	}
	if (best > limit)
		return "";
	snprintf(buf, len, " (did you mean '%s%s'?)", prefix, found);
	return buf;
}

static const struct setting *setting_by_id(int id)
{
	for (size_t i = 0; i < N_SETTINGS; i++)
		if (config_settings[i].id == id)
			return &config_settings[i];
	return NULL;
}

/* Decimal digits and nothing else. -ERANGE: past 32 bits; -EINVAL: not a number. */
static int parse_digits(const char *p, uint64_t *n)
{
	bool big = false;

	if (!*p)
		return -EINVAL;
	for (*n = 0; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		*n = *n * 10 + (uint64_t)(*p - '0');
		if (*n > UINT32_MAX) {
			big = true;
			*n = UINT32_MAX; /* keeps scanning for a non-digit without overflowing */
		}
	}
	return big ? -ERANGE : 0;
}

static int parse_u32(const char *v, const struct range *r, const char *where, uint32_t *out,
		     char *err, size_t errlen)
{
	const char *sp = *r->unit ? " " : "";
	uint64_t n;
	int ret;

	if (!*v)
		return config_errf(err, errlen, "%s: no value given (%s %u..%u)", where, r->unit,
				   r->lo, r->hi);
	ret = parse_digits(v, &n);
	if (ret == -EINVAL)
		return config_errf(err, errlen, "%s: '%s' is not a number (%s%s%u..%u)", where, v,
				   r->unit, sp, r->lo, r->hi);
	if (ret || n < r->lo || n > r->hi)
		return config_errf(err, errlen, "%s: %s is out of range %u..%u%s%s", where, v,
				   r->lo, r->hi, sp, r->unit);
	*out = (uint32_t)n;
	return 0;
}

int config_parse_choice(const char *v, const struct choice *ch, const char *where, uint32_t *out,
			char *err, size_t errlen)
{
	char names[128] = "";

	for (const struct choice *c = ch; c->name; c++) {
		if (!strcmp(v, c->name)) {
			*out = c->value;
			return 0;
		}
		const char *sep = c == ch ? "" : c[1].name ? ", " : " or ";

		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", sep,
			 c->name);
	}
	return config_errf(err, errlen, "%s: '%s' is not %s", where, v, names);
}

int config_parse_sample(const char *v, const char *where, struct config_sampler *s, char *err,
			size_t errlen)
{
	uint64_t n;
	int ret;

	if (!strcmp(v, "none")) {
		*s = (struct config_sampler){ NSFLOW_SAMPLE_NONE, 0 };
		return 0;
	}
	for (size_t i = 0; i < sizeof(sample_modes) / sizeof(sample_modes[0]); i++) {
		if (strncmp(v, sample_modes[i].prefix, strlen(sample_modes[i].prefix)))
			continue;
		ret = parse_digits(v + strlen(sample_modes[i].prefix), &n);
		if (ret == -EINVAL)
			break;
		if (ret || n < sample_modes[i].lo || n > sample_modes[i].hi)
			return config_errf(err, errlen, "%s: '%s' out of range (%s is %u..%u)",
					   where, v, sample_modes[i].what, sample_modes[i].lo,
					   sample_modes[i].hi);
		*s = (struct config_sampler){ sample_modes[i].mode, (uint32_t)n };
		return 0;
	}
	return config_errf(err, errlen,
			   "%s: '%s' is not fixed:N, random:N (N 1..65535), time:MS "
			   "(MS 5..30000) or none",
			   where, v);
}

/* ADDR, ADDR:PORT or [ADDR]:PORT; ADDR IPv4 or IPv6 */
static int parse_source(const char *v, const char *where, struct nsflow_config *c, char *err,
			size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *s6 = (void *)&ss;
	struct sockaddr_in *s4 = (void *)&ss;
	char host[64];
	const char *port = NULL, *colon = strrchr(v, ':');
	uint64_t p = 0;

	if (strlen(v) >= sizeof(host))
		goto bad;
	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (!close || (close[1] && close[1] != ':'))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(close - v - 1), v + 1);
		port = close[1] ? close + 2 : NULL;
	} else if (colon && colon == strchr(v, ':')) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - v), v);
		port = colon + 1;
	} else {
		snprintf(host, sizeof(host), "%s", v);
	}
	if (port && (parse_digits(port, &p) || p > 65535))
		goto bad;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1 && v[0] != '[') {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
	} else {
		goto bad;
	}
	c->source = ss;
	snprintf(c->source_address, sizeof(c->source_address), "%s", v);
	return 0;
bad:
	return config_errf(
		err, errlen,
		"%s: '%s' is not an IPv4 or IPv6 address with an optional port (192.0.2.1, "
		"192.0.2.1:2055, 2001:db8::1 or [2001:db8::1]:2055)",
		where, v);
}

/* HOST:PORT, HOST a name, an IPv4 address, [IPv6] or empty for every address */
static int parse_metrics(const char *v, const char *where, struct nsflow_config *c, char *err,
			 size_t errlen)
{
	const char *colon = strrchr(v, ':');
	uint64_t port;

	if (!colon || strlen(v) >= sizeof(c->metrics_address))
		goto bad;
	/* an IPv6 host needs brackets, or its last group would read as the port */
	if (v[0] == '[' ? colon[-1] != ']' : memchr(v, ':', (size_t)(colon - v)) != NULL)
		goto bad;
	if (parse_digits(colon + 1, &port) || port == 0 || port > 65535)
		goto bad;
	snprintf(c->metrics_address, sizeof(c->metrics_address), "%s", v);
	return 0;
bad:
	return config_errf(
		err, errlen,
		"%s: '%s' is not HOST:PORT (127.0.0.1:9100, [::1]:9100, or :9100 for every "
		"address)",
		where, v);
}

static int parse_ifrule(const char *v, const char *where, char *out, char *err, size_t errlen)
{
	if (!*v || strlen(v) >= CONFIG_IFRULE_MAX)
		return config_errf(err, errlen,
				   "%s: expected a regular expression of 1..%d characters", where,
				   CONFIG_IFRULE_MAX - 1);
	snprintf(out, CONFIG_IFRULE_MAX, "%s", v);
	return 0;
}

static struct config_iface *find_iface(struct nsflow_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (!strcmp(c->ifaces[i].name, name))
			return &c->ifaces[i];
	return NULL;
}

int config_add_iface(struct nsflow_config *c, const char *name, unsigned int line,
		     const char *where, struct config_iface **out, char *err, size_t errlen)
{
	struct config_iface *ifc = find_iface(c, name);

	if (ifc && ifc->dropped) {
		/* named in the file and again by -i: kept, with the file's settings */
		ifc->dropped = false;
		ifc->line = 0;
		*out = ifc;
		return 0;
	}
	if (ifc)
		return config_errf(err, errlen, "%s: interface '%s' is listed twice", where, name);
	if (!*name || strlen(name) >= IF_NAMESIZE || strpbrk(name, "/: \t") || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return config_errf(
			err, errlen,
			"%s: '%s' is not an interface name (1..%d characters, no '/', ':' or "
			"spaces)",
			where, name, IF_NAMESIZE - 1);
	ifc = realloc(c->ifaces, (c->n_ifaces + 1) * sizeof(*ifc));
	if (!ifc) {
		config_errf(err, errlen, "%s: out of memory", where);
		return -ENOMEM;
	}
	c->ifaces = ifc;
	ifc += c->n_ifaces++;
	*ifc = (struct config_iface){ .line = line };
	strcpy(ifc->name, name);
	*out = ifc;
	return 0;
}

void config_clear_collectors(struct nsflow_config *c)
{
	for (size_t i = 0; i < c->n_collectors; i++)
		free(c->collectors[i]);
	free(c->collectors);
	c->collectors = NULL;
	c->n_collectors = 0;
}

int config_add_collector(struct nsflow_config *c, const char *url, const char *where, char *err,
			 size_t errlen)
{
	char msg[512];
	struct ns_url u;
	char **v;

	if (!*url)
		return config_errf(err, errlen, "%s: empty collector URL", where);
	/* the exporter's own parser: a URL it would refuse is refused before anything runs */
	if (ns_url_parse(url, &u, msg, sizeof(msg)))
		return config_errf(err, errlen, "%s: %s", where, msg);
	for (size_t i = 0; i < c->n_collectors; i++)
		if (!strcmp(c->collectors[i], url))
			return config_errf(err, errlen, "%s: collector '%s' is listed twice", where,
					   url);
	v = realloc(c->collectors, (c->n_collectors + 1) * sizeof(*v));
	if (v)
		c->collectors = v;
	if (!v || !(v[c->n_collectors] = strdup(url))) {
		config_errf(err, errlen, "%s: out of memory", where);
		return -ENOMEM;
	}
	c->n_collectors++;
	return 0;
}

int config_parse_range(int id, const char *v, const char *where, uint32_t *out, char *err,
		       size_t errlen)
{
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (ranges[i].id == id)
			return parse_u32(v, &ranges[i], where, out, err, errlen);
	return config_errf(err, errlen, "%s: not a number setting", where);
}

/* Applies one scalar setting (everything but the lists) from a flag or a YAML value. */
int config_apply_value(struct nsflow_config *c, int id, const char *v, const char *where,
		       bool from_file, char *err, size_t errlen)
{
	uint32_t u;
	int ret;

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (ranges[i].id == id)
			return parse_u32(v, &ranges[i], where,
					 (uint32_t *)((char *)c + ranges[i].off), err, errlen);
	switch (id) {
	case OPT_SAMPLE:
		return config_parse_sample(v, where, &c->sample, err, errlen);
	case OPT_XDP_MODE:
		ret = config_parse_choice(v, xdp_modes, where, &u, err, errlen);
		c->xdp_mode = ret ? c->xdp_mode : (enum config_xdp_mode)u;
		return ret;
	case OPT_INGRESS_HOOK:
		ret = config_parse_choice(v, hooks, where, &u, err, errlen);
		c->ingress_hook = ret ? c->ingress_hook : (enum config_ingress_hook)u;
		return ret;
	case OPT_MPLS:
		return config_parse_choice(v, config_mpls_modes, where, &c->mpls_mode, err, errlen);
	case OPT_SRV6:
		return config_parse_choice(v, config_srv6_modes, where, &c->srv6_mode, err, errlen);
	case OPT_VXLAN:
		return config_parse_choice(v, config_vxlan_modes, where, &c->vxlan_mode, err,
					   errlen);
	case OPT_COUNTER_BITS:
		ret = config_parse_choice(v, counter_widths, where, &u, err, errlen);
		c->counter_bits = ret ? c->counter_bits : (uint8_t)u;
		return ret;
	case OPT_NO_ORIGINAL:
		u = 1;
		ret = from_file ? config_parse_choice(v, booleans, where, &u, err, errlen) : 0;
		c->no_original = ret ? c->no_original : u;
		return ret;
	case OPT_ALL_IFACES:
		u = 1;
		ret = from_file ? config_parse_choice(v, booleans, where, &u, err, errlen) : 0;
		c->all_ifaces = ret ? c->all_ifaces : u;
		return ret;
	case OPT_IFACE_MATCH:
	case OPT_IFACE_EXCLUDE:
		return parse_ifrule(v, where,
				    id == OPT_IFACE_MATCH ? c->iface_match : c->iface_exclude, err,
				    errlen);
	case OPT_NO_EGRESS:
		u = 1;
		ret = from_file ? config_parse_choice(v, booleans, where, &u, err, errlen) : 0;
		c->egress = ret ? c->egress : !u;
		return ret;
	case OPT_VERBOSE:
		if (!from_file) {
			c->verbose++;
			return 0;
		}
		ret = parse_u32(v, &(struct range){ OPT_VERBOSE, 0, 3, "", 0 }, where, &u, err,
				errlen);
		c->verbose = ret ? c->verbose : (int)u;
		return ret;
	case OPT_PIN_DIR:
		if (v[0] != '/')
			return config_errf(err, errlen, "%s: '%s' is not an absolute path", where,
					   v);
		/* room for the names of the pinned objects under it */
		if (strlen(v) >= sizeof(c->pin_dir) - 64)
			return config_errf(err, errlen, "%s: path is too long", where);
		snprintf(c->pin_dir, sizeof(c->pin_dir), "%s", v);
		return 0;
	case OPT_SOURCE:
		return parse_source(v, where, c, err, errlen);
	case OPT_METRICS:
		return parse_metrics(v, where, c, err, errlen);
	case OPT_CONTROL_SOCKET:
		if (v[0] != '/')
			return config_errf(err, errlen, "%s: '%s' is not an absolute path", where,
					   v);
		if (strlen(v) >= sizeof(c->control_socket))
			return config_errf(err, errlen,
					   "%s: a unix socket path is at most %zu characters",
					   where, sizeof(c->control_socket) - 1);
		snprintf(c->control_socket, sizeof(c->control_socket), "%s", v);
		return 0;
	case OPT_ROUTES:
		if (!v[0] || strlen(v) >= sizeof(c->routes_file))
			return config_errf(err, errlen, "%s: '%s' is not a file name", where, v);
		snprintf(c->routes_file, sizeof(c->routes_file), "%s", v);
		return 0;
	}
	return config_errf(err, errlen, "%s: not a setting", where);
}

static void flag_name(int id, char *buf, size_t len)
{
	const struct setting *s = setting_by_id(id);

	if (id == OPT_INTERFACE || id == OPT_COLLECTOR || id == OPT_VERBOSE || id == OPT_HELP)
		snprintf(buf, len, "-%c", id);
	else
		snprintf(buf, len, "--%s", s ? s->flag : "?");
}

static int bad_option(char **argv, int opt, char *err, size_t errlen)
{
	const char *names[N_SETTINGS], *arg = argv[optind - 1];
	const struct setting *s = setting_by_id(optopt);
	char name[64], word[64], hint[96] = "";
	size_t matches = 0;

	if (opt == ':') {
		flag_name(optopt, name, sizeof(name));
		return config_errf(err, errlen, "%s needs a value (%s)", name, s ? s->arg : "?");
	}
	if (optopt && s) /* only a long flag can be given a value it does not take */
		return config_errf(err, errlen, "--%s takes no value", s->flag);
	if (optopt)
		return config_errf(err, errlen, "unknown option '-%c' (see nsflow run --help)",
				   optopt);
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
	for (size_t i = 0; i < N_SETTINGS; i++) {
		names[i] = config_settings[i].flag;
		matches += *word && !strncmp(config_settings[i].flag, word, strlen(word));
	}
	if (matches > 1)
		return config_errf(err, errlen,
				   "option '--%s' is ambiguous: more than one option starts so",
				   word);
	config_suggest(hint, sizeof(hint), word, names, N_SETTINGS, "--");
	return config_errf(err, errlen, "unknown option '--%s'%s", word,
			   *hint ? hint : " (see nsflow run --help)");
}

static int apply_flag(struct nsflow_config *c, int opt, const char *v, bool *ifaces_from_flags,
		      bool *collectors_from_flags, bool *aggs_from_flags, bool *records_from_flags,
		      bool *vpns_from_flags, char *err, size_t errlen)
{
	struct config_iface *ifc;
	struct vpn_instance vpn;
	int ret;
	char where[64];

	flag_name(opt, where, sizeof(where));
	switch (opt) {
	case OPT_CONFIG:
	case OPT_HELP:
		return 0;
	case OPT_INTERFACE:
		if (!*ifaces_from_flags) {
			/* the command line's list replaces the file's */
			for (size_t i = 0; i < c->n_ifaces; i++)
				c->ifaces[i].dropped = true;
			*ifaces_from_flags = true;
		}
		return config_add_iface(c, v, 0, where, &ifc, err, errlen);
	case OPT_COLLECTOR:
		if (!*collectors_from_flags) {
			config_clear_collectors(c);
			*collectors_from_flags = true;
		}
		return config_add_collector(c, v, where, err, errlen);
	case OPT_AGGREGATE:
		if (!*aggs_from_flags) {
			c->n_aggs = 0; /* the command line's list replaces the file's */
			*aggs_from_flags = true;
		}
		return config_add_agg(c, v, &(struct config_agg){ 0 }, where, err, errlen);
	case OPT_RECORD:
		if (!*records_from_flags) {
			c->n_records = 0; /* the command line's list replaces the file's */
			*records_from_flags = true;
		}
		return config_add_record(c, v, &(struct config_record){ 0 }, where, err, errlen);
	case OPT_VPN:
		if (!*vpns_from_flags) {
			c->n_vpns = 0; /* the command line's list replaces the file's */
			*vpns_from_flags = true;
		}
		ret = vpn_instance_parse(&vpn, v, where, err, errlen);
		return ret ? ret : vpn_instance_add(c->vpns, &c->n_vpns, &vpn, where, err, errlen);
	}
	return config_apply_value(c, opt, v ? v : "", where, false, err, errlen);
}

int config_parse_args(struct nsflow_config *c, int argc, char **argv, char *err, size_t errlen)
{
	struct option longopts[N_SETTINGS + 1] = { 0 };
	bool ifaces_from_flags = false, collectors_from_flags = false, aggs_from_flags = false;
	bool records_from_flags = false, vpns_from_flags = false;
	const char *config_path = NULL;
	size_t i, kept;
	int opt, ret;

	if (argc > 0 && argv[0][0] == '-')
		return config_errf(err, errlen,
				   "config_parse_args: argv[0] must be the command word");
	for (i = 0; i < N_SETTINGS; i++)
		longopts[i] = (struct option){ config_settings[i].flag,
					       config_settings[i].has_arg ? required_argument
									  : no_argument,
					       NULL, config_settings[i].id };
	/* first pass: the file goes under the flags, so find it before applying any */
	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, ":hi:c:v", longopts, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return bad_option(argv, opt, err, errlen);
		if (opt == OPT_HELP)
			c->help = true;
		if (opt == OPT_CONFIG && config_path)
			return config_errf(err, errlen, "--config is given twice");
		if (opt == OPT_CONFIG)
			config_path = optarg;
	}
	if (optind < argc)
		return config_errf(err, errlen, "unexpected argument '%s' (see nsflow run --help)",
				   argv[optind]);
	if (c->help)
		return 0;
	if (config_path) {
		free(c->config_path);
		c->config_path = strdup(config_path);
		if (!c->config_path) {
			config_errf(err, errlen, "%s: out of memory", config_path);
			return -ENOMEM;
		}
		ret = config_load_yaml(c, config_path, err, errlen);
		if (ret)
			return ret;
	}
	optind = 0;
	while ((opt = getopt_long(argc, argv, ":hi:c:v", longopts, NULL)) != -1) {
		ret = apply_flag(c, opt, optarg, &ifaces_from_flags, &collectors_from_flags,
				 &aggs_from_flags, &records_from_flags, &vpns_from_flags, err,
				 errlen);
		if (ret)
			return ret;
	}
	for (i = 0, kept = 0; i < c->n_ifaces; i++)
		if (!c->ifaces[i].dropped)
			c->ifaces[kept++] = c->ifaces[i];
	c->n_ifaces = kept;
	return 0;
}

void config_init(struct nsflow_config *c)
{
	struct ns_export_opts x;

	*c = (struct nsflow_config){
		.active_timeout_s = 1800,
		.inactive_timeout_s = 30,
		.poll_interval_ms = 1000,
		.cache_entries = NSFLOW_DEFAULT_ENTRIES,
		.sample = { NSFLOW_SAMPLE_NONE, 0 },
		.xdp_mode = CONFIG_XDP_AUTO,
		.ingress_hook = CONFIG_INGRESS_XDP,
		.egress = true,
		.pin_dir = CONFIG_DEFAULT_PIN_DIR,
		.mpls_mode = NSFLOW_MPLS_LABEL_AND_IP,
		.srv6_mode = NSFLOW_SRV6_OUTER,
		.vxlan_mode = NSFLOW_VXLAN_OUTER,
		.vxlan_port = NSFLOW_VXLAN_PORT,
		.counter_bits = 64,
		.agg_active_s = 1800,
		.agg_inactive_s = 30,
		.agg_cache_entries = 65536,
	};
	c->source.ss_family = AF_UNSPEC;
	/* the export defaults are the exporter's own */
	ns_export_opts_default(&x);
	c->observation_domain = x.observation_domain;
	c->template_refresh_packets = x.template_refresh_packets;
	c->template_refresh_s = x.template_refresh_secs;
	c->mtu = x.mtu;
}

void config_control_socket_for(const char *pin_dir, char *buf, size_t len)
{
	char name[CONFIG_SOCKET_MAX];
	size_t n = 0, room = CONFIG_SOCKET_MAX - sizeof(CONFIG_SOCKET_DIR "/control.sock");

	if (!strcmp(pin_dir, CONFIG_DEFAULT_PIN_DIR)) {
		snprintf(buf, len, "%s", CONFIG_DEFAULT_CONTROL_SOCKET);
		return;
	}
	for (const char *p = pin_dir; *p && n < sizeof(name) - 1; p++)
		name[n++] = *p == '/' ? '_' : *p;
	name[n] = 0;
	if (strlen(pin_dir) > room) {
		uint64_t h = 1469598103934665603ull;

		for (const char *p = pin_dir; *p; p++)
			h = (h ^ (uint8_t)*p) * 1099511628211ull;
		snprintf(name, sizeof(name), "-%016llx", (unsigned long long)h);
	}
	snprintf(buf, len, CONFIG_SOCKET_DIR "/control%s.sock", name);
}

/* The interfaces the rules choose now, after the named ones (the agent follows changes). */
static int add_ruled_ifaces(struct nsflow_config *c, char *err, size_t errlen)
{
	struct if_nameindex *all, *it;
	struct config_iface *ifc;
	struct ifrule r;
	size_t kept = 0;
	int ret;

	for (size_t i = 0; i < c->n_ifaces; i++) /* a second validate chooses again */
		if (!c->ifaces[i].by_rule)
			c->ifaces[kept++] = c->ifaces[i];
	c->n_ifaces = kept;
	ret = ifrule_compile(&r, c, err, errlen);
	if (ret || !r.any)
		return ret;
	all = if_nameindex();
	for (it = all; it && it->if_index && !ret; it++) {
		if (find_iface(c, it->if_name) || !ifrule_wanted(&r, it->if_name))
			continue;
		ret = config_add_iface(c, it->if_name, 0, "--interface-match", &ifc, err, errlen);
		if (!ret) {
			ifc->by_rule = true;
			ifc->ifindex = it->if_index;
		}
	}
	if (all)
		if_freenameindex(all);
	ifrule_free(&r);
	return ret;
}

int config_validate(struct nsflow_config *c, char *err, size_t errlen)
{
	char where[PATH_MAX + 32] = "";
	int ret;

	if (!c->control_socket[0])
		config_control_socket_for(c->pin_dir, c->control_socket, sizeof(c->control_socket));

	if (c->all_ifaces && c->iface_match[0])
		return config_errf(err, errlen,
				   "--all-interfaces and --interface-match: give one of them");
	if (c->iface_exclude[0] && !c->all_ifaces && !c->iface_match[0])
		return config_errf(err, errlen,
				   "--exclude-interfaces narrows --all-interfaces or "
				   "--interface-match; give one of them");
	if (!c->n_ifaces && !c->all_ifaces && !c->iface_match[0])
		return config_errf(
			err, errlen,
			"no interface to meter: give -i IFACE, --all-interfaces or "
			"--interface-match REGEX (or 'interfaces:' ... in the config file)");
	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct config_iface *ifc = &c->ifaces[i];

		if (ifc->by_rule)
			continue;
		ifc->ifindex = if_nametoindex(ifc->name);
		if (ifc->ifindex)
			continue;
		if (ifc->line && c->config_path)
			snprintf(where, sizeof(where), "%s:%u: ", c->config_path, ifc->line);
		if (errno == ENODEV || errno == ENXIO)
			return config_errf(err, errlen, "%sinterface '%s' does not exist", where,
					   ifc->name);
		return config_errf(err, errlen, "%sinterface '%s': %s", where, ifc->name,
				   strerror(errno));
	}
	ret = add_ruled_ifaces(c, err, errlen);
	if (ret)
		return ret;
	return config_validate_aggs(c, err, errlen);
}

void config_iface_cfg(const struct nsflow_config *c, const struct config_iface *ifc,
		      struct nsflow_cfg *out)
{
	const struct config_sampler *s = ifc->has_sample ? &ifc->sample : &c->sample;

	*out = (struct nsflow_cfg){
		.sample_mode = s->mode,
		.sample_param = s->param,
		.mpls_mode = ifc->has_mpls ? ifc->mpls_mode : c->mpls_mode,
		.srv6_mode = ifc->has_srv6 ? ifc->srv6_mode : c->srv6_mode,
		.vxlan_mode = ifc->has_vxlan ? ifc->vxlan_mode : c->vxlan_mode,
		.vxlan_port = (uint16_t)(ifc->has_vxlan_port ? ifc->vxlan_port : c->vxlan_port),
		.key_fields = NSFLOW_KF_ALL,
	};
	config_record_key_mask(c, ifc->ifindex, out);
}

void config_free(struct nsflow_config *c)
{
	config_clear_collectors(c);
	free(c->ifaces);
	free(c->config_path);
	c->ifaces = NULL;
	c->n_ifaces = 0;
	c->config_path = NULL;
}

void config_usage(FILE *f)
{
	fputs("usage: nsflow run -i IFACE [-i IFACE ...] [-c URL ...] [--config FILE] [options]\n"
	      "       nsflow run --all-interfaces | --interface-match REGEX [-i IFACE ...]\n"
	      "                  [--exclude-interfaces REGEX] [-c URL ...] [options]\n"
	      "\n"
	      "Attach the flow probe to each IFACE (and to each interface the rules choose, as\n"
	      "interfaces come and go), meter its traffic and export the flows to\n"
	      "every collector; with no collector, flows are printed to the terminal.\n"
	      "\n"
	      "  -i, --interface IFACE     interface to meter; repeat for more (deleted and\n"
	      "                            created again, it is metered again)\n"
	      "      --all-interfaces      every interface but lo, as they come and go\n"
	      "      --interface-match REGEX\n"
	      "                            the interfaces whose whole name matches REGEX\n"
	      "                            (POSIX extended: 'eth[0-9]+|ens.*'), those created\n"
	      "                            later included\n"
	      "      --exclude-interfaces REGEX\n"
	      "                            but not those whose whole name matches REGEX\n"
	      "                            ('veth.*|cali.*|docker0'); -i names win over it\n"
	      "  -c, --collector URL       where to export; repeat for more: v5://, v9://,\n"
	      "                            ipfix:// (UDP), ipfix+tcp:// HOST:PORT, or\n"
	      "                            file:, json:, text: PATH (- for stdout)\n"
	      "      --config FILE         read settings from a YAML file (see below)\n"
	      "\n"
	      "Aging (NetStream's defaults):\n"
	      "      --active-timeout SEC  export a long-lived flow every SEC seconds, the\n"
	      "                            flow staying in the cache (1..3600, default 1800)\n"
	      "      --inactive-timeout SEC\n"
	      "                            export and drop a flow after SEC seconds without a\n"
	      "                            packet (5..600, default 30)\n"
	      "      --poll-interval MS    how often the kernel's flow maps are drained\n"
	      "                            (10..60000, default 1000)\n"
	      "      --cache-entries N     flows kept at once, in the kernel and the agent;\n"
	      "                            when full, the oldest flows are exported first\n"
	      "                            (1024..16777216, default 1048576)\n"
	      "      --counter-bits 32|64  width of exported counters: a flow whose byte\n"
	      "                            count would overflow it is exported first\n"
	      "                            (default 64)\n"
	      "\n"
	      "Aggregated flows (NetStream's aggregation; v9 and IPFIX collectors only):\n"
	      "      --aggregate MODE[:v4|v6]\n"
	      "                            also sum flows by MODE's keys in a cache of its\n"
	      "                            own, for IPv4 and IPv6 (or the family given);\n"
	      "                            repeat for more. MODE: as, as-tos, protocol-port,\n"
	      "                            protocol-port-tos, source-prefix(-tos),\n"
	      "                            destination-prefix(-tos), prefix(-tos),\n"
	      "                            mpls-label, vlan-id, index-tos, source-index-tos,\n"
	      "                            bgp-nexthop-tos, vni-sip-dip\n"
	      "      --aggregate-active-timeout SEC\n"
	      "                            (1..3600, default 1800)\n"
	      "      --aggregate-inactive-timeout SEC\n"
	      "                            (5..600, default 30)\n"
	      "      --aggregate-cache-entries N\n"
	      "                            aggregated flows per cache; when full, the oldest\n"
	      "                            is exported (1024..16777216, default 65536)\n"
	      "      --no-original         export only the aggregated and flexible records\n"
	      "      --routes FILE         AS numbers, prefixes and BGP next hops from an\n"
	      "                            MRT RIB dump (TABLE_DUMP_V2: BIRD, FRR,\n"
	      "                            RouteViews) or a text file of 'PREFIX/LEN\n"
	      "                            ORIGIN_AS [PEER_AS [NEXT_HOP]]' lines, reloaded\n"
	      "                            when it changes; without it prefix lengths and\n"
	      "                            egress interfaces come from the kernel's table.\n"
	      "                            With it, original records carry mask lengths, AS\n"
	      "                            numbers and next hops too (v5 included)\n"
	      "\n"
	      "Flexible records (NetStream's 'ip netstream record'; v9 and IPFIX only):\n"
	      "      --record NAME[:v4|v6]:match=FIELD,...[:collect=FIELD,...]\n"
	      "                     [:interfaces=IF,...]\n"
	      "                            sum flows by the match fields in a cache of the\n"
	      "                            record's own (the aggregate- timeouts and size),\n"
	      "                            exported with its own template; repeat for more.\n"
	      "                            match: source-address[/LEN]\n"
	      "                            destination-address[/LEN] source-port\n"
	      "                            destination-port protocol tos\n"
	      "                            direction tcp-flags input-interface\n"
	      "                            output-interface vlan source-as destination-as\n"
	      "                            next-hop bgp-next-hop mpls-label1..3 vni\n"
	      "                            (a /LEN mask needs :v4 or :v6).\n"
	      "                            collect: packets[/16|/32|/64] bytes[/16|/32|/64]\n"
	      "                            first-switched last-switched (default: all four,\n"
	      "                            64-bit); a count wider than its counter is split\n"
	      "                            over several records. interfaces: only traffic\n"
	      "                            metered there. With --no-original and one record\n"
	      "                            alone on an interface, the kernel keys by its fields\n"
	      "\n"
	      "BGP/MPLS VPN (v9 and IPFIX records carry ingressVRFID, egressVRFID, the RD):\n"
	      "      --vpn-instance NAME:rd=RD[:vrf=DEV][:labels=L1,L2-L3][:id=N]\n"
	      "                     [:address=A.B.C.D]\n"
	      "                            a VPN instance: RD is ASN:nn, IPv4:nn or ASN4:nn\n"
	      "                            (RFC 4364 types 0, 1, 2; 65000L:nn forces type 2);\n"
	      "                            vrf: its Linux VRF device (default NAME), whose\n"
	      "                            table is the VRF id unless id= gives one; labels:\n"
	      "                            VPN (bottom-of-stack) labels of its MPLS traffic;\n"
	      "                            address: mplsTopLabelIPv4Address of those labels.\n"
	      "                            Interfaces enslaved to a VRF device carry its table\n"
	      "                            as their VRF id, followed as they change\n"
	      "\n"
	      "Metering:\n"
	      "      --sample MODE         none (default: every packet); fixed:N (1 in every\n"
	      "                            N packets) or random:N (each packet with\n"
	      "                            probability 1/N), N is 1..65535; time:MS (the\n"
	      "                            first packet after every MS ms), MS is 5..30000\n"
	      "      --mpls MODE           label-and-ip (default), label-only or ip-only:\n"
	      "                            meter the label stack, the IP packet under it, or\n"
	      "                            both\n"
	      "      --srv6 MODE           outer (default: the outer IPv6 header) or\n"
	      "                            inner-header (the packet under the SRH, with the\n"
	      "                            SRv6 fields as values)\n"
	      "      --vxlan MODE          VXLAN (UDP to --vxlan-port, I flag set): outer\n"
	      "                            (default: the outer headers, the VNI in the key),\n"
	      "                            inner (the inner frame's packet: its tags,\n"
	      "                            addresses and ports, the VNI in the key) or off\n"
	      "                            (plain UDP); VXLAN flows carry layer2SegmentId\n"
	      "      --vxlan-port PORT     UDP destination port of VXLAN (1..65535, default\n"
	      "                            4789)\n"
	      "      --xdp-mode MODE       auto (default), native or generic\n"
	      "      --ingress-hook HOOK   xdp (default) or tc\n"
	      "      --no-egress           do not meter egress (metered at TC otherwise)\n"
	      "      --pin-dir DIR         bpffs directory of the pinned maps and links\n"
	      "                            (default /sys/fs/bpf/nsflow); a restarted agent\n"
	      "                            resumes from it\n"
	      "\n"
	      "Export:\n"
	      "      --observation-domain N\n"
	      "                            IPFIX observation domain, v9 source id (default 0)\n"
	      "      --template-refresh-packets N\n"
	      "                            resend templates every N export packets\n"
	      "                            (1..65535, default 20)\n"
	      "      --template-refresh-seconds SEC\n"
	      "                            and every SEC seconds (1..86400, default 600)\n"
	      "      --mtu BYTES           largest export packet (1024..65535, default 1400)\n"
	      "      --source-address ADDR[:PORT]\n"
	      "                            source of export packets, IPv6 with a port as\n"
	      "                            [ADDR]:PORT (default: chosen by the kernel)\n"
	      "      --export-dscp N       DSCP of export packets, UDP and TCP (0..63,\n"
	      "                            default 0; 46 is EF, 48 CS6 network control)\n"
	      "      --metrics HOST:PORT   serve Prometheus metrics (/metrics) and probes\n"
	      "                            (/healthz, /readyz) over HTTP there (127.0.0.1:9100,\n"
	      "                            [::1]:9100, or :9100 for every address)\n"
	      "      --control-socket PATH where `nsflow show` and `reset` reach this agent\n"
	      "                            (default /run/nsflow/control.sock with the default\n"
	      "                            pin dir, else one named after the pin dir)\n"
	      "  -v, --verbose             more messages; repeat for more\n"
	      "  -h, --help                this text\n"
	      "\n"
	      "The YAML file holds the same settings under the long flag names: "
	      "'interfaces'\n"
	      "and 'collectors' are lists, 'no-egress' is true or false, 'verbose' is 0..3.\n"
	      "An interface may come with settings of its own (sample, mpls, srv6, vxlan,\n"
	      "vxlan-port), which win over the global ones on it. Flags win over the file: -i\n"
	      "or -c replace the file's list, an interface named in both keeping the file's\n"
	      "settings.\n"
	      "\n"
	      "  interfaces:\n"
	      "    - eth0\n"
	      "    - name: eth1\n"
	      "      sample: fixed:100\n"
	      "      mpls: label-only\n"
	      "      vxlan: inner\n"
	      "  collectors: [ipfix://192.0.2.10:4739]\n"
	      "  active-timeout: 600\n"
	      "  inactive-timeout: 15\n"
	      "  aggregation:\n"
	      "    - protocol-port\n"
	      "    - mode: destination-prefix\n"
	      "      family: v4\n"
	      "      inactive-timeout: 60\n"
	      "  records:\n"
	      "    - name: web\n"
	      "      family: v4\n"
	      "      match: [source-address/24, destination-port, protocol]\n"
	      "      collect: [packets/32, bytes/32, first-switched, last-switched]\n"
	      "      interfaces: [eth0]\n"
	      "  vpn-instances:\n"
	      "    - name: blue\n"
	      "      rd: 65000:100\n"
	      "      labels: [1000, 2000-2099]\n"
	      "\n"
	      "Examples:\n"
	      "  nsflow run -i eth0 -c ipfix://192.0.2.10:4739\n"
	      "  nsflow run -i eth0 -i eth1 --sample fixed:1000 --inactive-timeout 15\n"
	      "  nsflow run --interface-match 'eth[0-9]+|ens.*' -c ipfix://collector:4739\n"
	      "  nsflow run -i eth0 -c v9://192.0.2.10:2055 --aggregate protocol-port:v4\n"
	      "  nsflow run -i eth0 -c ipfix://192.0.2.10:4739 --no-original \\\n"
	      "      --record dports:match=protocol,destination-port:collect=bytes/32\n"
	      "  nsflow run --config /etc/nsflow.yaml -v\n",
	      f);
}
