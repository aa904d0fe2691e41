// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ifrule.h"

/* the whole name: the pattern is put in ^( )$ */
static int compile_one(regex_t *re, const char *pattern, const char *flag, char *err, size_t errlen)
{
	char anchored[CONFIG_IFRULE_MAX + 8], why[128];
	int rc;

	snprintf(anchored, sizeof(anchored), "^(%s)$", pattern);
	rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
	if (!rc)
		return 0;
	regerror(rc, re, why, sizeof(why));
	snprintf(err, errlen, "%s: '%s' is not a regular expression (POSIX extended): %s", flag,
		 pattern, why);
	return -EINVAL;
}

int ifrule_compile(struct ifrule *r, const struct nsflow_config *c, char *err, size_t errlen)
{
	const char *match = c->iface_match[0] ? c->iface_match : c->all_ifaces ? ".*" : NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	if (match) {
		ret = compile_one(&r->match_re, match,
				  c->iface_match[0] ? "--interface-match" : "--all-interfaces", err,
				  errlen);
		if (ret)
			return ret;
		r->any = true;
	}
	if (c->iface_exclude[0]) {
		ret = compile_one(&r->exclude_re, c->iface_exclude, "--exclude-interfaces", err,
				  errlen);
		if (ret) {
			ifrule_free(r);
			return ret;
		}
		r->exclude = true;
	}
	return 0;
}

bool ifrule_wanted(const struct ifrule *r, const char *name)
{
	if (!r->any || !strcmp(name, "lo"))
		return false;
	if (regexec(&r->match_re, name, 0, NULL, 0))
		return false;
	return !r->exclude || regexec(&r->exclude_re, name, 0, NULL, 0);
}

void ifrule_free(struct ifrule *r)
{
	if (r->any)
		regfree(&r->match_re);
	if (r->exclude)
		regfree(&r->exclude_re);
	memset(r, 0, sizeof(*r));
}
