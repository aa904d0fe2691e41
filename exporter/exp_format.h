/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Line formats for people and scripts: JSON (IANA names as keys) and plain text. */
#ifndef NSFLOW_EXP_FORMAT_H
#define NSFLOW_EXP_FORMAT_H

#include <stddef.h>

#include "record.h"
#include "sink.h"
#include "exp_template.h"

/* Longest line either format writes, newline and NUL included */
#define NS_LINE_MAX 4096

/*
 * One JSON object and a newline describing @r: the fields of its IPFIX template (@ipfix)
 * that apply to it, keyed by IANA name. Returns the length, or -ENOSPC.
 */
int ns_json_format(const struct ns_tmpl_set *ipfix, const struct ns_record *r, char *buf,
		   size_t cap);

/* The line of column names above ns_text_format()'s lines (newline included) */
const char *ns_text_header(void);
/*
 * One readable line and a newline, in the header's columns: first seen, duration, interface,
 * direction, protocol, source, destination, TCP flags, packets, bytes, end reason. @ctx names
 * interfaces (may be NULL). Returns the length, or -ENOSPC.
 */
int ns_text_format(const struct ns_export_context *ctx, const struct ns_record *r, char *buf,
		   size_t cap);

/* Small append-only string builder shared by both formats */
struct ns_strbuf {
	char *buf;
	size_t cap, len;
	int overflow;
};

void ns_sb_printf(struct ns_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An address as text: v4-mapped as dotted quad when @v4, else IPv6 */
void ns_sb_addr(struct ns_strbuf *sb, const uint8_t addr[16], int v4);
/* Finish with a newline; returns the length or -ENOSPC */
int ns_sb_end_line(struct ns_strbuf *sb);

#endif /* NSFLOW_EXP_FORMAT_H */
