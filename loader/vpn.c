// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* VPN instances: route distinguishers, labels, the checks of the settings (vpn.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_priv.h"
#include "vpn.h"

/* A decimal number of at most max; -EINVAL for anything else (signs, spaces, hex) */
static int parse_num(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!n || n > 10)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static void put_be(uint8_t *d, uint64_t v, int n)
{
	while (n--) {
		d[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *d, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | d[i];
	return v;
}

int vpn_rd_parse(const char *s, uint8_t rd[8], char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':');
	uint64_t admin, nn;
	size_t alen;
	struct in_addr ip;
	char head[16];

	if (!colon || colon == s)
		return config_errf(err, errlen,
				   "'%s' is not a route distinguisher (ASN:nn, IPv4:nn or ASN4:nn)",
				   s);
	alen = (size_t)(colon - s);
	memset(rd, 0, 8);
	snprintf(head, sizeof(head), "%.*s", (int)(alen < 15 ? alen : 15), s);
	if (alen < 16 && strchr(head, '.')) {
		if (inet_pton(AF_INET, head, &ip) != 1)
			return config_errf(err, errlen,
					   "route distinguisher '%s': '%s' is not an "
					   "IPv4 address",
					   s, head);
		if (parse_num(colon + 1, strlen(colon + 1), 65535, &nn))
			return config_errf(err, errlen,
					   "route distinguisher '%s': after an IPv4 "
					   "address the number is 0..65535",
					   s);
		put_be(rd, 1, 2);
		memcpy(rd + 2, &ip, 4);
		put_be(rd + 6, nn, 2);
		return 0;
	}
	if (alen > 1 && (s[alen - 1] == 'L' || s[alen - 1] == 'l'))
		alen--;
	if (parse_num(s, alen, UINT32_MAX, &admin))
		return config_errf(err, errlen,
				   "route distinguisher '%s': '%.*s' is not an AS "
				   "number (0..4294967295) or an IPv4 address",
				   s, (int)alen, s);
	if (admin <= 65535 && alen == (size_t)(colon - s)) {
		if (parse_num(colon + 1, strlen(colon + 1), UINT32_MAX, &nn))
			return config_errf(err, errlen,
					   "route distinguisher '%s': after a 2-byte AS "
					   "number the number is 0..4294967295",
					   s);
		put_be(rd + 2, admin, 2);
		put_be(rd + 4, nn, 4);
		return 0;
	}
	if (parse_num(colon + 1, strlen(colon + 1), 65535, &nn))
		return config_errf(err, errlen,
				   "route distinguisher '%s': after a 4-byte AS number "
				   "the number is 0..65535",
				   s);
	put_be(rd, 2, 2);
	put_be(rd + 2, admin, 4);
	put_be(rd + 6, nn, 2);
	return 0;
}

void vpn_rd_format(const uint8_t rd[8], char *buf, size_t len)
{
	uint64_t type = get_be(rd, 2);

	if (type == 0)
		snprintf(buf, len, "%u:%u", (unsigned int)get_be(rd + 2, 2),
			 (unsigned int)get_be(rd + 4, 4));
	else if (type == 1)
		snprintf(buf, len, "%u.%u.%u.%u:%u", rd[2], rd[3], rd[4], rd[5],
			 (unsigned int)get_be(rd + 6, 2));
	else if (type == 2)
		snprintf(buf, len, "%u%s:%u", (unsigned int)get_be(rd + 2, 4),
			 get_be(rd + 2, 4) <= 65535 ? "L" : "", (unsigned int)get_be(rd + 6, 2));
	else
		snprintf(buf, len, "type%u:%02x%02x%02x%02x%02x%02x", (unsigned int)type, rd[2],
			 rd[3], rd[4], rd[5], rd[6], rd[7]);
}

/* "L1,L2-L3" into v->labels */
static int parse_labels(struct vpn_instance *v, const char *s, const char *where, char *err,
			size_t errlen)
{
	const char *p = s;

	while (*p) {
		size_t n = strcspn(p, ","), dash = strcspn(p, "-");
		uint64_t lo, hi;

		if (dash > n)
			dash = n;
		if (parse_num(p, dash, VPN_LABEL_MAX, &lo) ||
		    (dash < n ? parse_num(p + dash + 1, n - dash - 1, VPN_LABEL_MAX, &hi)
			      : (hi = lo, 0)))
			return config_errf(err, errlen,
					   "%s: vpn-instance %s: labels: '%.*s' is not a "
					   "label (%u..%u) or a range L1-L2",
					   where, v->name, (int)n, p, VPN_LABEL_MIN, VPN_LABEL_MAX);
		if (lo < VPN_LABEL_MIN || hi < lo)
			return config_errf(err, errlen, "%s: vpn-instance %s: labels: '%.*s': %s",
					   where, v->name, (int)n, p,
					   hi < lo ? "a range goes from low to high"
						   : "labels 0..15 are reserved (RFC 3032)");
		if (v->n_labels == VPN_LABEL_RANGES)
			return config_errf(err, errlen,
					   "%s: vpn-instance %s: at most %d labels or "
					   "ranges",
					   where, v->name, VPN_LABEL_RANGES);
		v->labels[v->n_labels++] = (struct vpn_label_range){ (uint32_t)lo, (uint32_t)hi };
		p += n;
		if (*p == ',' && *++p == 0)
			return config_errf(err, errlen,
					   "%s: vpn-instance %s: labels: a ',' with no "
					   "label after it",
					   where, v->name);
	}
	return 0;
}

static int parse_key(struct vpn_instance *v, const char *key, const char *val, const char *where,
		     bool *has_rd, char *err, size_t errlen)
{
	static const char *const keys[] = { "rd", "vrf", "labels", "id", "address" };
	char hint[96], why[160];
	uint64_t id;

	if (!strcmp(key, "rd")) {
		if (vpn_rd_parse(val, v->rd, why, sizeof(why)))
			return config_errf(err, errlen, "%s: vpn-instance %s: %s", where, v->name,
					   why);
		*has_rd = true;
	} else if (!strcmp(key, "vrf")) {
		if (!*val || strlen(val) >= IF_NAMESIZE || strchr(val, '/'))
			return config_errf(err, errlen,
					   "%s: vpn-instance %s: vrf: '%s' is not an "
					   "interface name",
					   where, v->name, val);
		snprintf(v->vrf, sizeof(v->vrf), "%s", val);
	} else if (!strcmp(key, "labels")) {
		return parse_labels(v, val, where, err, errlen);
	} else if (!strcmp(key, "id")) {
		if (parse_num(val, strlen(val), UINT32_MAX, &id) || !id)
			return config_errf(err, errlen,
					   "%s: vpn-instance %s: id: '%s' is not a VRF "
					   "id (1..4294967295; 0 is the default VRF)",
					   where, v->name, val);
		v->id = (uint32_t)id;
		v->has_id = true;
	} else if (!strcmp(key, "address")) {
		if (inet_pton(AF_INET, val, v->address) != 1)
			return config_errf(err, errlen,
					   "%s: vpn-instance %s: address: '%s' is not "
					   "an IPv4 address",
					   where, v->name, val);
		v->has_address = true;
	} else {
		return config_errf(err, errlen,
				   "%s: vpn-instance %s: unknown setting '%s'%s (one "
				   "takes rd, vrf, labels, id and address)",
				   where, v->name, key,
				   config_suggest(hint, sizeof(hint), key, keys, 5, ""));
	}
	return 0;
}

int vpn_instance_parse(struct vpn_instance *v, const char *spec, const char *where, char *err,
		       size_t errlen)
{
	char buf[1024], key[16] = "", val[512] = "";
	bool has_rd = false;
	char *tok, *save = NULL;
	int ret;

	memset(v, 0, sizeof(*v));
	if (strlen(spec) >= sizeof(buf))
		return config_errf(err, errlen, "%s: vpn-instance '%.40s...' is too long", where,
				   spec);
	snprintf(buf, sizeof(buf), "%s", spec);
	tok = strtok_r(buf, ":", &save);
	if (!tok || strchr(tok, '=') || spec[0] == ':')
		return config_errf(err, errlen,
				   "%s: '%s': a VPN instance starts with its name "
				   "(NAME:rd=RD[:vrf=DEV][:labels=L1,L2-L3][:id=N])",
				   where, spec);
	if (strlen(tok) >= VPN_NAME_MAX)
		return config_errf(err, errlen,
				   "%s: vpn-instance name '%s' is longer than %d "
				   "characters",
				   where, tok, VPN_NAME_MAX - 1);
	snprintf(v->name, sizeof(v->name), "%s", tok);
	/* a route distinguisher has colons of its own: a part without '=' goes on the value */
	while ((tok = strtok_r(NULL, ":", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq && key[0]) {
			snprintf(val + strlen(val), sizeof(val) - strlen(val), ":%s", tok);
			continue;
		}
		if (!eq)
			return config_errf(err, errlen,
					   "%s: vpn-instance %s: '%s' is not KEY=VALUE", where,
					   v->name, tok);
		if (key[0]) {
			ret = parse_key(v, key, val, where, &has_rd, err, errlen);
			if (ret)
				return ret;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - tok), tok);
		snprintf(val, sizeof(val), "%s", eq + 1);
	}
	if (key[0]) {
		ret = parse_key(v, key, val, where, &has_rd, err, errlen);
		if (ret)
			return ret;
	}
	if (!has_rd)
		return config_errf(err, errlen,
				   "%s: vpn-instance %s has no rd= (its route "
				   "distinguisher, e.g. rd=65000:100)",
				   where, v->name);
	if (!v->vrf[0]) {
		if (strlen(v->name) >= IF_NAMESIZE)
			return config_errf(err, errlen,
					   "%s: vpn-instance %s: the name is too long "
					   "for a VRF device: give vrf=DEV",
					   where, v->name);
		snprintf(v->vrf, sizeof(v->vrf), "%s", v->name);
	}
	return 0;
}

static bool ranges_meet(const struct vpn_label_range *a, const struct vpn_label_range *b)
{
	return a->lo <= b->hi && b->lo <= a->hi;
}

int vpn_instance_add(struct vpn_instance *list, size_t *n, const struct vpn_instance *v,
		     const char *where, char *err, size_t errlen)
{
	for (size_t i = 0; i < *n; i++) {
		const struct vpn_instance *o = &list[i];

		if (!strcmp(o->name, v->name))
			return config_errf(err, errlen, "%s: vpn-instance %s is defined twice",
					   where, v->name);
		if (!strcmp(o->vrf, v->vrf))
			return config_errf(err, errlen,
					   "%s: vpn-instances %s and %s are both VRF "
					   "device %s",
					   where, o->name, v->name, v->vrf);
		if (o->has_id && v->has_id && o->id == v->id)
			return config_errf(err, errlen,
					   "%s: vpn-instances %s and %s both have id "
					   "%u",
					   where, o->name, v->name, v->id);
		for (unsigned int a = 0; a < o->n_labels; a++)
			for (unsigned int b = 0; b < v->n_labels; b++)
				if (ranges_meet(&o->labels[a], &v->labels[b]))
					return config_errf(
						err, errlen,
						"%s: vpn-instance %s: labels %u-%u are also "
						"vpn-instance %s's (%u-%u)",
						where, v->name, v->labels[b].lo, v->labels[b].hi,
						o->name, o->labels[a].lo, o->labels[a].hi);
	}
	for (unsigned int a = 0; a < v->n_labels; a++)
		for (unsigned int b = a + 1; b < v->n_labels; b++)
			if (ranges_meet(&v->labels[a], &v->labels[b]))
				return config_errf(err, errlen,
						   "%s: vpn-instance %s: label %u is "
						   "given twice",
						   where, v->name,
						   v->labels[b].lo > v->labels[a].lo
							   ? v->labels[b].lo
							   : v->labels[a].lo);
	if (*n == VPN_MAX)
		return config_errf(err, errlen, "%s: at most %d vpn-instances", where, VPN_MAX);
	list[(*n)++] = *v;
	return 0;
}

const struct vpn_instance *vpn_by_label(const struct vpn_instance *list, size_t n, uint32_t label)
{
	for (size_t i = 0; i < n; i++)
		for (unsigned int r = 0; r < list[i].n_labels; r++)
			if (label >= list[i].labels[r].lo && label <= list[i].labels[r].hi)
				return &list[i];
	return NULL;
}

const struct vpn_instance *vpn_by_id(const struct vpn_instance *list, size_t n, uint32_t id)
{
	for (size_t i = 0; id && i < n; i++)
		if (list[i].id == id)
			return &list[i];
	return NULL;
}

const struct vpn_instance *vpn_by_name(const struct vpn_instance *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i].name, name))
			return &list[i];
	return NULL;
}
