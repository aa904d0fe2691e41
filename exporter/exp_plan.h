/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Field-copy plans: a template compiled once into a flat list of copy operations, so that
 * encoding a record is one tight loop over small structs instead of a registry walk with a
 * function call per field. This is the encoder's hot path.
 */
#ifndef NSFLOW_EXP_PLAN_H
#define NSFLOW_EXP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "ie.h"

#define NS_PLAN_OPS_MAX 64

enum ns_plan_opcode {
	NS_OP_BE8,	/* u8 source -> 1 byte */
	NS_OP_U8_BE16,	/* u8 source -> 2 bytes (tcpControlBits in IPFIX) */
	NS_OP_BE16,	/* u16 source -> 2 bytes */
	NS_OP_BE32,	/* u32 source -> 4 bytes */
	NS_OP_BE64,	/* u64 source -> 8 bytes */
	NS_OP_UINT,	/* any other unsigned width pair (3 bytes too), saturating when narrowed */
	NS_OP_COPY4,	/* 4 raw bytes (IPv4 address) */
	NS_OP_COPY6,	/* 6 raw bytes (MAC address) */
	NS_OP_COPY16,	/* 16 raw bytes (IPv6 address) */
	NS_OP_COPY,	/* len raw bytes */
	NS_OP_MPLS,	/* 3-byte label stack entry arg, zero if absent */
	NS_OP_ICMP,	/* 2-byte type/code if protocol == arg */
	NS_OP_UPTIME,	/* 4-byte sysUptime from an epoch ms u64 */
	NS_OP_SRH_LIST, /* variable: basicList of srhSegmentIPv6 */
	NS_OP_SRH_OCTETS, /* variable: segment list octets, after the SRH header when arg */
	NS_OP_STR_VAR,	  /* variable: string with 1- or 3-byte length prefix */
	NS_OP_STR_FIXED,  /* len bytes, NUL padded */
};

struct ns_plan_op {
	uint8_t op;
	uint8_t width; /* source width in bytes, NS_OP_UINT */
	uint16_t len;  /* wire length (fixed ops) or source bound (strings) */
	uint16_t off;  /* source offset */
	uint16_t arg;
};

struct ns_plan {
	uint16_t fixed_len; /* bytes of all fixed-length fields */
	uint8_t variable;   /* 1 when some field is variable length */
	uint8_t n_ops;
	struct ns_plan_op ops[NS_PLAN_OPS_MAX];
};

/*
 * Append the operation that writes one field (source @src, wire length @len, which may be
 * NS_IE_VARLEN) to @p. Returns 0, -E2BIG when the plan is full, -EINVAL when the pair cannot
 * be encoded (e.g. a variable length for a fixed source).
 */
int ns_plan_add(struct ns_plan *p, const struct ns_ie_source *src, uint16_t len);

/* Wire length of the data record @p makes from @src */
size_t ns_plan_len(const struct ns_plan *p, const void *src);

/* Encode @src into @dst, which has room for ns_plan_len() bytes; returns bytes written */
size_t ns_plan_encode(const struct ns_plan *p, const void *src, uint64_t boot_ms, uint8_t *dst);

/* IPFIX variable-length prefix (RFC 7011 7): 1 byte below 255, else 0xFF and 2 bytes */
static inline size_t ns_varlen_prefix_len(size_t len)
{
	return len < 255 ? 1 : 3;
}

size_t ns_varlen_prefix_put(uint8_t *dst, size_t len);

#endif /* NSFLOW_EXP_PLAN_H */
