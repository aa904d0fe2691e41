// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * JSON lines. Values come from the same IE getters that fill IPFIX data records, decoded
 * back from network order, so a JSON line says exactly what an IPFIX collector would see.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "exp_format.h"

void ns_sb_printf(struct ns_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sb->cap - sb->len)
		sb->overflow = 1;
	else
		sb->len += n;
}

void ns_sb_addr(struct ns_strbuf *sb, const uint8_t addr[16], int v4)
{
	char text[INET6_ADDRSTRLEN];

	if (v4)
		inet_ntop(AF_INET, addr + 12, text, sizeof(text));
	else
		inet_ntop(AF_INET6, addr, text, sizeof(text));
	ns_sb_printf(sb, "%s", text);
}

int ns_sb_end_line(struct ns_strbuf *sb)
{
	ns_sb_printf(sb, "\n");
	return sb->overflow ? -ENOSPC : (int)sb->len;
}

static uint64_t be_uint(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static void json_string(struct ns_strbuf *sb, const uint8_t *s, size_t n)
{
	size_t i;

	ns_sb_printf(sb, "\"");
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			ns_sb_printf(sb, "\\%c", s[i]);
		else if (s[i] < 0x20)
			ns_sb_printf(sb, "\\u%04x", s[i]);
		else
			ns_sb_printf(sb, "%c", s[i]);
	}
	ns_sb_printf(sb, "\"");
}

/* The value bytes @v (@n long, as the IPFIX getter wrote them) as a JSON value */
static void json_value(struct ns_strbuf *sb, const struct ns_ie *ie, const uint8_t *v, int n)
{
	uint8_t a[16] = { [10] = 0xff, [11] = 0xff };
	size_t len, off, i;

	switch (ie->type) {
	case NS_IE_IPV4:
		memcpy(a + 12, v, 4);
		ns_sb_printf(sb, "\"");
		ns_sb_addr(sb, a, 1);
		ns_sb_printf(sb, "\"");
		break;
	case NS_IE_IPV6:
		ns_sb_printf(sb, "\"");
		ns_sb_addr(sb, v, 0);
		ns_sb_printf(sb, "\"");
		break;
	case NS_IE_MAC:
		ns_sb_printf(sb, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", v[0], v[1], v[2], v[3], v[4],
			     v[5]);
		break;
	case NS_IE_MPLS:
		ns_sb_printf(sb, "{\"label\":%u,\"exp\":%u,\"bottomOfStack\":%u}",
			     (unsigned int)(be_uint(v, 3) >> 4), (v[2] >> 1) & 7, v[2] & 1);
		break;
	case NS_IE_STRING:
		off = v[0] < 255 ? 1 : 3;
		len = v[0] < 255 ? v[0] : be_uint(v + 1, 2);
		json_string(sb, v + off, len);
		break;
	case NS_IE_LIST_IPV6:
		/* length (1- or 3-byte form), semantic, element id, element length, addresses */
		off = v[0] < 255 ? 1 : 3;
		len = off + (v[0] < 255 ? v[0] : be_uint(v + 1, 2));
		ns_sb_printf(sb, "[");
		for (i = 0, off += 5; off + 16 <= len && off + 16 <= (size_t)n; off += 16, i++) {
			ns_sb_printf(sb, "%s\"", i ? "," : "");
			ns_sb_addr(sb, v + off, 0);
			ns_sb_printf(sb, "\"");
		}
		ns_sb_printf(sb, "]");
		break;
	case NS_IE_OCTETS:
		/* hex, as ipfixDump and tshark show octetArrays; a variable one after its length */
		off = 0;
		len = (size_t)n;
		if (ie->len == NS_IE_VARLEN) {
			off = v[0] < 255 ? 1 : 3;
			len = off + (v[0] < 255 ? v[0] : be_uint(v + 1, 2));
		}
		ns_sb_printf(sb, "\"");
		for (i = off; i < len && i < (size_t)n; i++)
			ns_sb_printf(sb, "%02x", v[i]);
		ns_sb_printf(sb, "\"");
		break;
	default:
		ns_sb_printf(sb, "%llu", (unsigned long long)be_uint(v, n));
		break;
	}
}

int ns_json_format(const struct ns_tmpl_set *ipfix, const struct ns_record *r, char *buf,
		   size_t cap)
{
	const struct ns_tmpl *t = ns_tmpl_get(ipfix, ns_tmpl_id_for(r));
	struct ns_strbuf sb = { .buf = buf, .cap = cap };
	uint8_t v[512];
	unsigned int i, n = 0;
	int len;

	ns_sb_printf(&sb, "{");
	for (i = 0; i < t->n_fields; i++) {
		const struct ns_ie *ie = t->fields[i].ie;

		if (!ns_ie_applies(ie, r))
			continue;
		len = ns_ie_get(ie, r, NS_PROTO_IPFIX, 0, v, sizeof(v));
		if (len < 0)
			continue;
		ns_sb_printf(&sb, "%s\"%s\":", n++ ? "," : "", ie->name);
		json_value(&sb, ie, v, len);
	}
	ns_sb_printf(&sb, "}");
	return ns_sb_end_line(&sb);
}
