// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "collectors.h"
#include "tshark.h"

enum {
	V_FLOW,
	V_PLEN,
	V_JUMBO,
	V_RT_NXT,
	V_RT_LEN,
	V_RT_TYPE,
	V_RT_LEFT,
	V_LAST,
	V_FLAGS,
	V_TAG,
	V_SEGS,
	V_N
};

#define TSHARK_V6_FIELDS                                                                       \
	"-e ipv6.flow -e ipv6.plen -e ipv6.opt.jumbo -e ipv6.routing.nxt -e ipv6.routing.len " \
	"-e ipv6.routing.type -e ipv6.routing.segleft -e ipv6.routing.srh.last_entry "         \
	"-e ipv6.routing.srh.flags -e ipv6.routing.srh.tag -e ipv6.routing.srh.addr"

void ts_nth(const char *field, int i, char *out, size_t len)
{
	const char *p = field;

	out[0] = 0;
	while (i-- > 0) {
		p = strchr(p, ',');
		if (!p)
			return;
		p++;
	}
	snprintf(out, len, "%.*s", (int)strcspn(p, ","), p);
}

/* The first (outer header's) value of field @i */
static unsigned long first_ul(char **f, int i, int base)
{
	char a[64];

	ts_nth(f[i], 0, a, sizeof(a));
	return strtoul(a, NULL, base);
}

static void srh_of(char **f, struct ts_v6 *v)
{
	unsigned long tag = first_ul(f, V_TAG, 16);
	char a[64];

	v->srh_hdr[0] = (uint8_t)first_ul(f, V_RT_NXT, 0);
	v->srh_hdr[1] = (uint8_t)first_ul(f, V_RT_LEN, 0);
	v->srh_hdr[2] = (uint8_t)first_ul(f, V_RT_TYPE, 0);
	v->srh_hdr[3] = (uint8_t)first_ul(f, V_RT_LEFT, 0);
	v->srh_hdr[4] = (uint8_t)first_ul(f, V_LAST, 0);
	v->srh_hdr[5] = (uint8_t)first_ul(f, V_FLAGS, 16);
	v->srh_hdr[6] = (uint8_t)(tag >> 8);
	v->srh_hdr[7] = (uint8_t)tag;
	for (v->nsegs = 0; v->nsegs < TS_SRH_SEGMENTS; v->nsegs++) {
		ts_nth(f[V_SEGS], v->nsegs, a, sizeof(a));
		if (!a[0] || inet_pton(AF_INET6, a, v->segs[v->nsegs]) != 1)
			break;
	}
}

int ts_v6_of(const char *pcap, struct ts_v6 *v)
{
	char *out = NULL, *f[V_N], *s;
	int ret;

	memset(v, 0, sizeof(*v));
	ret = coll_run(&out,
		       "tshark -r '%s' -c 1 -T fields -E separator=/t -E occurrence=a "
		       "-E aggregator=, " TSHARK_V6_FIELDS " 2>/dev/null",
		       pcap);
	if (ret || !out || !out[0] || out[0] == '\t') {
		free(out);
		return -1;
	}
	out[strcspn(out, "\n")] = 0;
	s = out;
	for (int i = 0; i < V_N; i++) {
		f[i] = s ? s : (char *)"";
		if (s && (s = strchr(s, '\t')))
			*s++ = 0;
	}
	v->flow_label = (uint32_t)first_ul(f, V_FLOW, 16);
	v->ip_len =
		40 + (uint32_t)(f[V_JUMBO][0] ? first_ul(f, V_JUMBO, 0) : first_ul(f, V_PLEN, 0));
	v->srh = first_ul(f, V_RT_TYPE, 0) == 4 && f[V_RT_TYPE][0];
	if (v->srh)
		srh_of(f, v);
	free(out);
	return 0;
}

void ts_template_lengths(const char *verbose, const unsigned int *ids, int n, unsigned int *len)
{
	const char *p = verbose;

	memset(len, 0, (size_t)n * sizeof(*len));
	while ((p = strstr(p, "Type: "))) {
		const char *eol = strchr(p, '\n'), *l;
		const char *open = memchr(p, '(', eol ? (size_t)(eol - p) : strlen(p));
		unsigned int id = open ? (unsigned int)strtoul(open + 1, NULL, 10) : 0;

		p += 6;
		if (!eol || !open || strncmp(eol + 1 + strspn(eol + 1, " "), "Length: ", 8))
			continue;
		l = eol + 1 + strspn(eol + 1, " ") + 8;
		for (int i = 0; i < n; i++)
			if (ids[i] == id)
				len[i] = (unsigned int)strtoul(l, NULL, 10);
	}
}

void ts_element_value(const char *verbose, unsigned int id, char *out, size_t len)
{
	char needle[64];
	const char *p;

	snprintf(needle, sizeof(needle), "Type %u: Value (hex bytes): ", id);
	p = strstr(verbose, needle);
	out[0] = 0;
	if (p) {
		p += strlen(needle);
		snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
	}
}

void ts_hex(const uint8_t *b, size_t n, char *out, size_t len)
{
	size_t at = 0;

	out[0] = 0;
	for (size_t i = 0; i < n && at + 4 <= len; i++)
		at += (size_t)snprintf(out + at, len - at, i ? " %02x" : "%02x", b[i]);
}
