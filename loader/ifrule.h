/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Interfaces chosen by rule rather than by name: --all-interfaces (every one but lo),
 * --interface-match REGEX, --exclude-interfaces REGEX. A REGEX is POSIX extended and must
 * match the whole name ("eth[0-9]+" does not take veth0). Interfaces named with -i are metered
 * whatever the rules say.
 */
#ifndef NSFLOW_IFRULE_H
#define NSFLOW_IFRULE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

struct nsflow_config;

struct ifrule {
	bool any;     /* a match rule is set: without one, only named interfaces are metered */
	bool exclude; /* an exclude rule is set */
	regex_t match_re, exclude_re;
};

/* Compiles c's rules; -EINVAL with a message naming the flag when a REGEX is bad. */
int ifrule_compile(struct ifrule *r, const struct nsflow_config *c, char *err, size_t errlen);
/* Would the rules meter an interface of this name? lo never is. */
bool ifrule_wanted(const struct ifrule *r, const char *name);
void ifrule_free(struct ifrule *r);

#endif
