// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tshark's view of export records (cflow.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cflow.h"
#include "collectors.h"

static void rec_field(struct cflow_rec *r, const char *key, const char *val)
{
	static const struct {
		const char *key;
		size_t off, len;
	} keys[] = {
#define K(k, f) { k, offsetof(struct cflow_rec, f), sizeof(((struct cflow_rec *)0)->f) }
		K("SrcAddr", src),    K("Ingress VRFID", vrf),	   K("Egress VRFID", evrf),
		K("MPLS VPN RD", rd), K("TopLabelType", top_type), K("TopLabelAddr", top_addr),
		K("VRFname", name),   K("Packets", packets),
#undef K
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i].key))
			snprintf((char *)r + keys[i].off, keys[i].len, "%s", val);
}

ssize_t cflow_records(const char *file, const char *args, struct cflow_rec *recs, size_t cap)
{
	char *out = NULL, *line, *save = NULL;
	size_t n = 0;
	int port = 0;

	if (coll_run(&out, "tshark -r '%s' %s -V 2>&1", file, args) || !out ||
	    strstr(out, "Malformed")) {
		fprintf(stderr, "tshark -r %s: %s\n", file, out ? out : "");
		free(out);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line + strspn(line, " "), *colon;
		int num;

		if (sscanf(p, "Destination Port: %d", &num) == 1)
			port = num;
		if (sscanf(p, "Flow %d", &num) == 1 && !strchr(p, ':')) {
			if (n == cap)
				break;
			memset(&recs[n], 0, sizeof(recs[n]));
			recs[n++].port = port;
			continue;
		}
		colon = strstr(p, ": ");
		if (!n || !colon || line[0] != ' ')
			continue;
		*colon = 0;
		rec_field(&recs[n - 1], p, colon + 2);
	}
	free(out);
	return (ssize_t)n;
}
