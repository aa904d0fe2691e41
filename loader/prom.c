// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "prom.h"

void prom_family(FILE *o, const char *name, const char *type, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_label_value(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', o);
		if (*s == '\n')
			fputs("\\n", o);
		else
			fputc(*s, o);
	}
}

void prom_labelled(FILE *o, const char *name, const char *label, const char *value)
{
	fprintf(o, "%s{%s=\"", name, label);
	prom_label_value(o, value);
	fputc('"', o);
}

static const struct {
	const char *path;
	enum prom_page page;
} prom_pages[] = {
	{ "/metrics", PROM_PAGE_METRICS },
	{ "/healthz", PROM_PAGE_HEALTHZ },
	{ "/readyz", PROM_PAGE_READYZ },
};

enum prom_page prom_route(const char *req, bool *head)
{
	size_t mlen = strcspn(req, " \r\n"), plen;
	const char *path = req + mlen;

	*head = false;
	if (!mlen || *path != ' ')
		return PROM_PAGE_BAD_REQUEST;
	path++;
	plen = strcspn(path, " \r\n");
	if (!plen || path[0] != '/')
		return PROM_PAGE_BAD_REQUEST;
	if (mlen == 4 && !memcmp(req, "HEAD", 4))
		*head = true;
	else if (mlen != 3 || memcmp(req, "GET", 3))
		return PROM_PAGE_BAD_METHOD;
	/* the query string (Prometheus may send ?name[]=...) does not choose the page */
	plen = strcspn(path, " ?\r\n");
	for (size_t i = 0; i < sizeof(prom_pages) / sizeof(prom_pages[0]); i++)
		if (strlen(prom_pages[i].path) == plen && !memcmp(path, prom_pages[i].path, plen))
			return prom_pages[i].page;
	return PROM_PAGE_NOT_FOUND;
}
