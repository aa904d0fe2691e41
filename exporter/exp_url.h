/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Collector URLs: scheme, then HOST:PORT for network sinks or a path for local ones. */
#ifndef NSFLOW_EXP_URL_H
#define NSFLOW_EXP_URL_H

#include <stddef.h>

enum ns_url_kind {
	NS_URL_V5,
	NS_URL_V9,
	NS_URL_IPFIX,
	NS_URL_IPFIX_TCP,
	NS_URL_FILE,
	NS_URL_JSON,
	NS_URL_TEXT,
};

struct ns_url {
	enum ns_url_kind kind;
	char host[256]; /* without brackets */
	char port[6];
	char path[4096]; /* "-" for stdout */
};

/* Parse @url; on error returns -EINVAL with a message naming @url and the problem in @err */
int ns_url_parse(const char *url, struct ns_url *u, char *err, size_t errlen);

static inline int ns_url_is_network(enum ns_url_kind k)
{
	return k <= NS_URL_IPFIX_TCP;
}

#endif /* NSFLOW_EXP_URL_H */
