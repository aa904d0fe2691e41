// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Flexible records (flex.h): their settings, keys and templates. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_priv.h"
#include "flex.h"

struct match_def {
	const char *name;
	uint32_t field;	     /* enum agg_field */
	uint16_t ie[2];	     /* IPv4, IPv6 */
	uint16_t mask_ie[2]; /* addresses: the prefix length's element */
	uint32_t kernel;     /* the datapath key field that keeps it; 0: none can */
};

static const struct match_def matches[] = {
	{ "source-address", AGG_F_SADDR, { 8, 27 }, { 9, 29 }, NSFLOW_KF_SRC_ADDR },
	{ "destination-address", AGG_F_DADDR, { 12, 28 }, { 13, 30 }, NSFLOW_KF_DST_ADDR },
	{ "source-port", AGG_F_SPORT, { 7, 7 }, { 0, 0 }, NSFLOW_KF_SRC_PORT },
	{ "destination-port", AGG_F_DPORT, { 11, 11 }, { 0, 0 }, NSFLOW_KF_DST_PORT },
	{ "protocol", AGG_F_PROTO, { 4, 4 }, { 0, 0 }, NSFLOW_KF_PROTOCOL },
	{ "tos", AGG_F_TOS, { 5, 5 }, { 0, 0 }, NSFLOW_KF_TOS },
	{ "direction", AGG_F_DIR, { 61, 61 }, { 0, 0 }, NSFLOW_KF_DIRECTION },
	{ "tcp-flags", AGG_F_TCP_FLAGS, { 6, 6 }, { 0, 0 }, 0 },
	{ "input-interface", AGG_F_IN, { 10, 10 }, { 0, 0 }, NSFLOW_KF_IFINDEX },
	{ "output-interface", AGG_F_OUT, { 14, 14 }, { 0, 0 }, 0 },
	{ "vlan", AGG_F_VLAN, { 58, 58 }, { 0, 0 }, NSFLOW_KF_VLAN },
	{ "source-as", AGG_F_SAS, { 16, 16 }, { 0, 0 }, 0 },
	{ "destination-as", AGG_F_DAS, { 17, 17 }, { 0, 0 }, 0 },
	{ "next-hop", AGG_F_IPNH, { 15, 62 }, { 0, 0 }, 0 },
	{ "bgp-next-hop", AGG_F_NH, { 18, 63 }, { 0, 0 }, 0 },
	{ "mpls-label1", AGG_F_MPLS, { 70, 70 }, { 0, 0 }, 0 },
	{ "mpls-label2", AGG_F_MPLS2, { 71, 71 }, { 0, 0 }, 0 },
	{ "mpls-label3", AGG_F_MPLS3, { 72, 72 }, { 0, 0 }, 0 },
	{ "vni", AGG_F_VNI, { 351, 351 }, { 0, 0 }, NSFLOW_KF_VNI },
};
#define N_MATCHES (sizeof(matches) / sizeof(matches[0]))

enum { C_PACKETS, C_BYTES, C_FIRST, C_LAST, N_COLLECTS };
static const char *const collects[N_COLLECTS] = { "packets", "bytes", "first-switched",
						  "last-switched" };
static const uint16_t collect_ie[N_COLLECTS] = { 2, 1, 152, 153 };

const char *flex_match_names(void)
{
	static char list[512];

	if (!list[0]) {
		size_t n = 0;

		for (size_t i = 0; i < N_MATCHES; i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
					      matches[i].name);
	}
	return list;
}

static int parse_match(struct config_record *r, char *item, const char *where, char *err,
		       size_t errlen)
{
	char *slash = strchr(item, '/'), hint[96];
	const char *names[N_MATCHES], *name = item;
	size_t i;

	if (slash)
		*slash++ = '\0';
	if (!strcmp(item, "mpls-top-label"))
		name = "mpls-label1";
	for (i = 0; i < N_MATCHES && strcmp(name, matches[i].name); i++)
		;
	if (i == N_MATCHES) {
		for (i = 0; i < N_MATCHES; i++)
			names[i] = matches[i].name;
		config_suggest(hint, sizeof(hint), item, names, N_MATCHES, "");
		return config_errf(err, errlen, "%s: unknown match field '%s'%s (one of %s)", where,
				   item, hint, flex_match_names());
	}
	if (r->flex.fields & matches[i].field)
		return config_errf(err, errlen, "%s: match field '%s' is given twice", where, item);
	if (slash) {
		unsigned int max = r->family == 6 ? 128 : 32;
		char *end;
		unsigned long len = strtoul(slash, &end, 10);

		if (!matches[i].mask_ie[0])
			return config_errf(err, errlen, "%s: '%s' takes no mask length", where,
					   item);
		if (!r->family)
			return config_errf(err, errlen,
					   "%s: a mask length (%s/%s) needs the record's family: "
					   "NAME:v4:match=... or NAME:v6:match=...",
					   where, item, slash);
		if (!*slash || *end || len < 1 || len > max)
			return config_errf(err, errlen, "%s: mask length '%s' is not 1..%u", where,
					   slash, max);
		if (matches[i].field == AGG_F_SADDR)
			r->flex.src_plen = (uint8_t)len;
		else
			r->flex.dst_plen = (uint8_t)len;
	}
	if (r->n_match == FLEX_MATCH_MAX)
		return config_errf(err, errlen, "%s: too many match fields", where);
	r->flex.fields |= matches[i].field;
	r->match[r->n_match++] = (uint8_t)i;
	return 0;
}

static int parse_collect(struct config_record *r, char *item, const char *where, char *err,
			 size_t errlen)
{
	char *slash = strchr(item, '/');
	unsigned int bits = 64;
	size_t i;

	if (slash)
		*slash++ = '\0';
	for (i = 0; i < N_COLLECTS && strcmp(item, collects[i]); i++)
		;
	if (i == N_COLLECTS)
		return config_errf(err, errlen,
				   "%s: unknown collect field '%s' (one of packets[/16|/32|/64], "
				   "bytes[/16|/32|/64], first-switched, last-switched)",
				   where, item);
	for (size_t j = 0; j < r->n_collect; j++)
		if (r->collect[j] == i)
			return config_errf(err, errlen, "%s: collect field '%s' is given twice",
					   where, item);
	if (slash) {
		if (i > C_BYTES)
			return config_errf(err, errlen, "%s: '%s' takes no counter width", where,
					   item);
		if (strcmp(slash, "16") && strcmp(slash, "32") && strcmp(slash, "64"))
			return config_errf(err, errlen,
					   "%s: counter width '%s' of %s is not 16, 32 or 64",
					   where, slash, item);
		bits = (unsigned int)atoi(slash);
	}
	if (i <= C_BYTES) {
		uint64_t max = bits == 64 ? 0 : (1ull << bits) - 1;

		if (i == C_PACKETS)
			r->flex.max_packets = max;
		else
			r->flex.max_octets = max;
	}
	r->bits[r->n_collect] = (uint8_t)bits;
	r->collect[r->n_collect++] = (uint8_t)i;
	return 0;
}

static int parse_ifaces(struct config_record *r, char *list, const char *where, char *err,
			size_t errlen)
{
	for (char *save = NULL, *it = strtok_r(list, ",", &save); it;
	     it = strtok_r(NULL, ",", &save)) {
		if (r->flex.n_ifindex == AGG_FLEX_IFACES)
			return config_errf(err, errlen, "%s: at most %d interfaces per record",
					   where, AGG_FLEX_IFACES);
		if (strlen(it) >= IF_NAMESIZE)
			return config_errf(err, errlen,
					   "%s: '%s' is too long for an interface name", where, it);
		snprintf(r->ifnames[r->flex.n_ifindex++], IF_NAMESIZE, "%s", it);
	}
	return 0;
}

static bool good_name(const char *s)
{
	if (!*s || strlen(s) >= sizeof(((struct agg_flex *)0)->name))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

int flex_parse(struct config_record *r, const char *spec, const char *where, char *err,
	       size_t errlen)
{
	char buf[1024], *save = NULL, *tok;
	bool have_match = false, have_collect = false;
	int ret = 0;

	if (strlen(spec) >= sizeof(buf))
		return config_errf(err, errlen, "%s: record too long", where);
	snprintf(buf, sizeof(buf), "%s", spec);
	memset(&r->flex, 0, sizeof(r->flex));
	r->family = 0;
	r->n_match = r->n_collect = 0;
	tok = strtok_r(buf, ":", &save);
	if (!tok || !good_name(tok))
		return config_errf(err, errlen,
				   "%s: '%s': a record starts with its name (letters, digits, '-' "
				   "and '_', up to 31), as NAME[:v4|v6]:match=FIELD,...",
				   where, spec);
	if (ns_agg_mode_parse(tok) >= 0)
		return config_errf(
			err, errlen,
			"%s: '%s' names an aggregation mode: give the record another name", where,
			tok);
	snprintf(r->flex.name, sizeof(r->flex.name), "%s", tok);
	while (!ret && (tok = strtok_r(NULL, ":", &save))) {
		char *eq = strchr(tok, '='), *save2 = NULL;

		if (!strcmp(tok, "v4") || !strcmp(tok, "v6")) {
			if (have_match || r->family)
				return config_errf(err, errlen,
						   "%s: the family (%s) goes right after the name",
						   where, tok);
			r->family = tok[1] == '4' ? 4 : 6;
			continue;
		}
		if (!eq)
			return config_errf(err, errlen,
					   "%s: '%s' is not match=..., collect=... or "
					   "interfaces=...",
					   where, tok);
		*eq++ = '\0';
		if (!strcmp(tok, "match") && !have_match) {
			have_match = true;
			for (char *it = strtok_r(eq, ",", &save2); it && !ret;
			     it = strtok_r(NULL, ",", &save2))
				ret = parse_match(r, it, where, err, errlen);
		} else if (!strcmp(tok, "collect") && !have_collect) {
			have_collect = true;
			for (char *it = strtok_r(eq, ",", &save2); it && !ret;
			     it = strtok_r(NULL, ",", &save2))
				ret = parse_collect(r, it, where, err, errlen);
		} else if (!strcmp(tok, "interfaces") && !r->flex.n_ifindex) {
			ret = parse_ifaces(r, eq, where, err, errlen);
		} else {
			return config_errf(err, errlen, "%s: '%s=' is %s", where, tok,
					   strcmp(tok, "match") && strcmp(tok, "collect") &&
							   strcmp(tok, "interfaces")
						   ? "not match=, collect= or interfaces="
						   : "given twice");
		}
	}
	if (ret)
		return ret;
	if (!r->n_match)
		return config_errf(err, errlen,
				   "%s: record %s matches on nothing: give match=FIELD,... (%s)",
				   where, r->flex.name, flex_match_names());
	if (!have_collect) {
		char all[] = "packets,bytes,first-switched,last-switched";

		for (char *it = strtok_r(all, ",", &save); it && !ret;
		     it = strtok_r(NULL, ",", &save))
			ret = parse_collect(r, it, where, err, errlen);
	}
	return ret;
}

void flex_template(const struct config_record *r, int ipv6, struct ns_flex_tmpl *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < r->n_match; i++) {
		const struct match_def *m = &matches[r->match[i]];
		bool masked = m->field == AGG_F_SADDR	? r->flex.src_plen
			      : m->field == AGG_F_DADDR ? r->flex.dst_plen
							: 0;

		t->f[t->n++].ie = m->ie[ipv6 ? 1 : 0];
		if (masked)
			t->f[t->n++].ie = m->mask_ie[ipv6 ? 1 : 0];
	}
	for (unsigned int i = 0; i < r->n_collect; i++) {
		t->f[t->n].ie = collect_ie[r->collect[i]];
		t->f[t->n++].len = r->collect[i] <= C_BYTES ? r->bits[i] / 8 : 0;
	}
	t->f[t->n++].ie = 60;  /* ipVersion: nfacctd counts no record without it */
	t->f[t->n++].ie = 136; /* flowEndReason */
}

uint32_t flex_kernel_key(const struct config_record *r, uint8_t *src_plen, uint8_t *dst_plen)
{
	uint32_t kf = NSFLOW_KF_IFINDEX | NSFLOW_KF_DIRECTION;
	unsigned int v4 = r->family == 6 ? 0 : 96;

	for (unsigned int i = 0; i < r->n_match; i++) {
		if (!matches[r->match[i]].kernel)
			return 0;
		kf |= matches[r->match[i]].kernel;
	}
	*src_plen = r->flex.src_plen ? (uint8_t)(v4 + r->flex.src_plen) : 0;
	*dst_plen = r->flex.dst_plen ? (uint8_t)(v4 + r->flex.dst_plen) : 0;
	return kf;
}
