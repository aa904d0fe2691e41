/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Prometheus text exposition format 0.0.4: family headers, escaped label values, and the
 * request line of a scrape or probe (which page, and whether the method is one we answer).
 */
#ifndef NSFLOW_PROM_H
#define NSFLOW_PROM_H

#include <stdbool.h>
#include <stdio.h>

/* "# HELP name help" and "# TYPE name type" (help has no newline or backslash of its own). */
void prom_family(FILE *o, const char *name, const char *type, const char *help);
/* Writes s as a label value: backslash, double quote and newline escaped. */
void prom_label_value(FILE *o, const char *s);
/* name{label="value" (the caller adds more labels, then the closing brace) */
void prom_labelled(FILE *o, const char *name, const char *label, const char *value);

enum prom_page {
	PROM_PAGE_METRICS,
	PROM_PAGE_HEALTHZ,
	PROM_PAGE_READYZ,
	PROM_PAGE_NOT_FOUND,
	PROM_PAGE_BAD_METHOD,  /* a method other than GET or HEAD */
	PROM_PAGE_BAD_REQUEST, /* not an HTTP request line */
};

/* Which page req (the request, headers and all) asks for; *head: HEAD, send no body. */
enum prom_page prom_route(const char *req, bool *head);

#endif
