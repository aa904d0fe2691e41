// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Collector URLs: v5, v9, ipfix, ipfix+tcp :// HOST:PORT, and file:, json:, text: PATH */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_errf.h"
#include "exp_url.h"

#define NS_SCHEMES "v5, v9, ipfix, ipfix+tcp, file, json, text"

static const struct {
	const char *name;
	enum ns_url_kind kind;
} ns_schemes[] = {
	{ "v5", NS_URL_V5 },	   { "v9", NS_URL_V9 },
	{ "ipfix", NS_URL_IPFIX }, { "ipfix+tcp", NS_URL_IPFIX_TCP },
	{ "file", NS_URL_FILE },   { "json", NS_URL_JSON },
	{ "text", NS_URL_TEXT },
};

static int parse_port(const char *url, const char *p, struct ns_url *u, char *err, size_t errlen)
{
	char *end;
	long v;

	if (!*p)
		return ns_errf(err, errlen, -EINVAL, "missing port in '%s' (expected HOST:PORT)",
			       url);
	v = strtol(p, &end, 10);
	if (*end || *p < '0' || *p > '9' || v < 1 || v > 65535)
		return ns_errf(err, errlen, -EINVAL, "bad port '%s' in '%s' (expected 1-65535)", p,
			       url);
	snprintf(u->port, sizeof(u->port), "%ld", v);
	return 0;
}

static int parse_hostport(const char *url, const char *hp, struct ns_url *u, char *err,
			  size_t errlen)
{
	const char *colon, *host = hp;
	size_t hlen;

	if (*hp == '[') {
		const char *close = strchr(hp, ']');

		if (!close)
			return ns_errf(err, errlen, -EINVAL, "unterminated '[' in '%s'", url);
		host = hp + 1;
		hlen = close - host;
		if (!close[1])
			return ns_errf(err, errlen, -EINVAL,
				       "missing port in '%s' (expected [IPV6]:PORT)", url);
		if (close[1] != ':')
			return ns_errf(err, errlen, -EINVAL, "unexpected '%s' after ']' in '%s'",
				       close + 1, url);
		colon = close + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon)
			return ns_errf(err, errlen, -EINVAL,
				       "missing port in '%s' (expected HOST:PORT)", url);
		if (memchr(hp, ':', colon - hp))
			return ns_errf(err, errlen, -EINVAL,
				       "IPv6 address must be in brackets in '%s' (like [::1]:4739)",
				       url);
		hlen = colon - hp;
	}
	if (!hlen)
		return ns_errf(err, errlen, -EINVAL, "missing host in '%s'", url);
	if (hlen >= sizeof(u->host))
		return ns_errf(err, errlen, -EINVAL, "host name too long in '%s'", url);
	if (memchr(host, '/', hlen))
		return ns_errf(err, errlen, -EINVAL,
			       "unexpected '/' in host of '%s' (expected HOST:PORT)", url);
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	return parse_port(url, colon + 1, u, err, errlen);
}

int ns_url_parse(const char *url, struct ns_url *u, char *err, size_t errlen)
{
	const char *colon = url ? strchr(url, ':') : NULL;
	const char *rest;
	size_t i, slen;

	memset(u, 0, sizeof(*u));
	if (!url || !*url)
		return ns_errf(err, errlen, -EINVAL,
			       "empty collector URL (expected one of " NS_SCHEMES ")");
	if (!colon)
		return ns_errf(err, errlen, -EINVAL,
			       "missing scheme in '%s' (expected " NS_SCHEMES ")", url);
	slen = colon - url;
	for (i = 0; i < sizeof(ns_schemes) / sizeof(ns_schemes[0]); i++)
		if (strlen(ns_schemes[i].name) == slen && !strncmp(url, ns_schemes[i].name, slen))
			break;
	if (i == sizeof(ns_schemes) / sizeof(ns_schemes[0]))
		return ns_errf(err, errlen, -EINVAL,
			       "unknown scheme '%.*s' in '%s' (expected " NS_SCHEMES ")", (int)slen,
			       url, url);
	u->kind = ns_schemes[i].kind;
	rest = colon + 1;
	if (ns_url_is_network(u->kind)) {
		if (strncmp(rest, "//", 2))
			return ns_errf(err, errlen, -EINVAL, "expected '//' after '%.*s:' in '%s'",
				       (int)slen, url, url);
		return parse_hostport(url, rest + 2, u, err, errlen);
	}
	/* file:///var/x and file:/var/x both name /var/x */
	if (!strncmp(rest, "//", 2))
		rest += 2;
	if (!*rest)
		return ns_errf(err, errlen, -EINVAL, "missing path in '%s' (use %.*s:- for stdout)",
			       url, (int)slen, url);
	if (strlen(rest) >= sizeof(u->path))
		return ns_errf(err, errlen, -EINVAL, "path too long in '%s'", url);
	strcpy(u->path, rest);
	return 0;
}
