// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Field-copy plans: compile (source, wire length) pairs once, run them per record. */
#include <errno.h>
#include <string.h>

#include "exp_msg.h"
#include "exp_plan.h"

/* RFC 6313 4.5.1 semantic "ordered": RFC 9487 5.1.5 defines srhSegmentIPv6BasicList as "the
 * ordered basicList" of the SRH Segment List, so order carries meaning (Segment List[0] is
 * the last segment). */
#define NS_LIST_SEMANTIC_ORDERED 0x04
#define NS_IE_SRH_SEGMENT_IPV6	 494
/* semantic (1) + field id (2) + element length (2), no enterprise number */
#define NS_BASICLIST_HDR 5

static int plan_push(struct ns_plan *p, uint8_t op, uint8_t width, uint16_t len, uint16_t off,
		     uint16_t arg)
{
	struct ns_plan_op *o;

	if (p->n_ops >= NS_PLAN_OPS_MAX)
		return -E2BIG;
	o = &p->ops[p->n_ops++];
	o->op = op;
	o->width = width;
	o->len = len;
	o->off = off;
	o->arg = arg;
	if (op == NS_OP_SRH_LIST || op == NS_OP_SRH_OCTETS || op == NS_OP_STR_VAR)
		p->variable = 1;
	else
		p->fixed_len += len;
	return 0;
}

static int plan_add_uint(struct ns_plan *p, uint8_t width, uint16_t len, uint16_t off)
{
	/* 3: v9 FLOW_LABEL (RFC 3954 8) */
	if (len != 1 && len != 2 && len != 3 && len != 4 && len != 8)
		return -EINVAL;
	if (width == len) {
		static const uint8_t same[9] = {
			[1] = NS_OP_BE8, [2] = NS_OP_BE16, [4] = NS_OP_BE32, [8] = NS_OP_BE64
		};
		return plan_push(p, same[width], width, len, off, 0);
	}
	if (width == 1 && len == 2)
		return plan_push(p, NS_OP_U8_BE16, width, len, off, 0);
	return plan_push(p, NS_OP_UINT, width, len, off, 0);
}

int ns_plan_add(struct ns_plan *p, const struct ns_ie_source *src, uint16_t len)
{
	static const uint8_t widths[] = {
		[NS_SRC_U8] = 1, [NS_SRC_U16] = 2, [NS_SRC_U32] = 4, [NS_SRC_U64] = 8
	};
	int var = len == NS_IE_VARLEN;

	switch (src->kind) {
	case NS_SRC_U8:
	case NS_SRC_U16:
	case NS_SRC_U32:
	case NS_SRC_U64:
		if (var)
			return -EINVAL;
		return plan_add_uint(p, widths[src->kind], len, src->off);
	case NS_SRC_BYTES:
	case NS_SRC_IPV4:
		if (var)
			return -EINVAL;
		if (src->kind == NS_SRC_IPV4)
			return plan_push(p, NS_OP_COPY4, 0, 4, src->off + 12, 0);
		if (len == 16)
			return plan_push(p, NS_OP_COPY16, 0, len, src->off, 0);
		if (len == 6)
			return plan_push(p, NS_OP_COPY6, 0, len, src->off, 0);
		return plan_push(p, NS_OP_COPY, 0, len, src->off, 0);
	case NS_SRC_MPLS:
		return var || len != 3 ? -EINVAL
				       : plan_push(p, NS_OP_MPLS, 0, 3, src->off, src->arg);
	case NS_SRC_ICMP:
		return var || len != 2 ? -EINVAL
				       : plan_push(p, NS_OP_ICMP, 0, 2, src->off, src->arg);
	case NS_SRC_UPTIME:
		return var || len != 4 ? -EINVAL : plan_push(p, NS_OP_UPTIME, 0, 4, src->off, 0);
	case NS_SRC_SRH_LIST:
		return !var ? -EINVAL : plan_push(p, NS_OP_SRH_LIST, 0, 0, src->off, 0);
	case NS_SRC_SRH_OCTETS:
		return !var ? -EINVAL : plan_push(p, NS_OP_SRH_OCTETS, 0, 0, src->off, src->arg);
	case NS_SRC_STRING:
		if (var)
			return plan_push(p, NS_OP_STR_VAR, 0, 0, src->off, src->arg);
		return plan_push(p, NS_OP_STR_FIXED, 0, len, src->off, src->arg);
	default:
		return -EINVAL;
	}
}

static inline size_t srh_count(const struct ns_record *r)
{
	return r->srh_segment_count < NS_REC_SRH_SEGMENTS_MAX ? r->srh_segment_count
							      : NS_REC_SRH_SEGMENTS_MAX;
}

/* basicList takes the 1-byte length form below 255 bytes, like every other variable-length
 * field: RFC 7011 section 7 allows either, and pmacct misreads the 3-byte form of short
 * lists (every record after one in the same message went astray). */
static inline size_t srh_list_len(const struct ns_record *r)
{
	return ns_varlen_prefix_len(NS_BASICLIST_HDR + 16 * srh_count(r)) + NS_BASICLIST_HDR +
	       16 * srh_count(r);
}

/* srhSegmentIPv6ListSection (497) and srhIPv6Section (499, @hdr): octets without a prefix */
static inline size_t srh_octets_len(const struct ns_record *r, int hdr)
{
	return (hdr ? sizeof(r->srh_hdr) : 0) + 16 * srh_count(r);
}

size_t ns_plan_len(const struct ns_plan *p, const void *src)
{
	const uint8_t *s = src;
	size_t len = p->fixed_len;
	unsigned int i;

	if (!p->variable)
		return len;
	for (i = 0; i < p->n_ops; i++) {
		const struct ns_plan_op *o = &p->ops[i];
		size_t n;

		if (o->op == NS_OP_SRH_LIST) {
			len += srh_list_len(src);
		} else if (o->op == NS_OP_SRH_OCTETS) {
			n = srh_octets_len(src, o->arg);
			len += ns_varlen_prefix_len(n) + n;
		} else if (o->op == NS_OP_STR_VAR) {
			n = strnlen((const char *)s + o->off, o->arg);
			len += ns_varlen_prefix_len(n) + n;
		}
	}
	return len;
}

size_t ns_varlen_prefix_put(uint8_t *dst, size_t len)
{
	if (len < 255) {
		dst[0] = len;
		return 1;
	}
	dst[0] = 0xFF;
	dst[1] = len >> 8;
	dst[2] = len;
	return 3;
}

static uint64_t read_uint(const uint8_t *s, uint8_t width)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (width) {
	case 1:
		u8 = *s;
		return u8;
	case 2:
		memcpy(&u16, s, 2);
		return u16;
	case 4:
		memcpy(&u32, s, 4);
		return u32;
	default:
		memcpy(&u64, s, 8);
		return u64;
	}
}

/* Reduced-size encoding (RFC 7011 6.2) keeps the low bytes; saturate instead, so that a
 * counter too wide for its field reads as "at least this much" rather than wrapping. */
static void put_uint(uint8_t *d, uint64_t v, uint16_t len)
{
	uint64_t max = len >= 8 ? UINT64_MAX : (1ULL << (8 * len)) - 1;

	if (v > max)
		v = max;
	switch (len) {
	case 1:
		*d = v;
		break;
	case 2:
		ns_put16(d, v);
		break;
	case 3:
		d[0] = v >> 16;
		d[1] = v >> 8;
		d[2] = v;
		break;
	case 4:
		ns_put32(d, v);
		break;
	default:
		ns_put64(d, v);
		break;
	}
}

static size_t put_srh_octets(uint8_t *d, const struct ns_record *r, int hdr)
{
	size_t n = srh_octets_len(r, hdr), pre = ns_varlen_prefix_put(d, n);

	d += pre;
	if (hdr) {
		memcpy(d, r->srh_hdr, sizeof(r->srh_hdr));
		d += sizeof(r->srh_hdr);
	}
	memcpy(d, r->srh_segments, 16 * srh_count(r));
	return pre + n;
}

static size_t put_srh_list(uint8_t *d, const struct ns_record *r)
{
	size_t n = srh_count(r);
	size_t body = NS_BASICLIST_HDR + 16 * n;
	size_t pre = ns_varlen_prefix_put(d, body);

	d += pre;
	d[0] = NS_LIST_SEMANTIC_ORDERED;
	ns_put16(d + 1, NS_IE_SRH_SEGMENT_IPV6);
	ns_put16(d + 3, 16);
	memcpy(d + 5, r->srh_segments, 16 * n);
	return pre + body;
}

size_t ns_plan_encode(const struct ns_plan *p, const void *src, uint64_t boot_ms, uint8_t *dst)
{
	const uint8_t *s = src;
	uint8_t *d = dst;
	unsigned int i;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	size_t n;

	for (i = 0; i < p->n_ops; i++) {
		const struct ns_plan_op *o = &p->ops[i];
		const uint8_t *f = s + o->off;

		switch (o->op) {
		case NS_OP_BE8:
			*d++ = *f;
			break;
		case NS_OP_U8_BE16:
			d[0] = 0;
			d[1] = *f;
			d += 2;
			break;
		case NS_OP_BE16:
			memcpy(&u16, f, 2);
			ns_put16(d, u16);
			d += 2;
			break;
		case NS_OP_BE32:
			memcpy(&u32, f, 4);
			ns_put32(d, u32);
			d += 4;
			break;
		case NS_OP_BE64:
			memcpy(&u64, f, 8);
			ns_put64(d, u64);
			d += 8;
			break;
		case NS_OP_UINT:
			put_uint(d, read_uint(f, o->width), o->len);
			d += o->len;
			break;
		case NS_OP_COPY4:
			memcpy(d, f, 4);
			d += 4;
			break;
		case NS_OP_COPY6:
			memcpy(d, f, 6);
			d += 6;
			break;
		case NS_OP_COPY16:
			memcpy(d, f, 16);
			d += 16;
			break;
		case NS_OP_COPY:
			memcpy(d, f, o->len);
			d += o->len;
			break;
		case NS_OP_MPLS: {
			const struct ns_record *r = src;

			u32 = o->arg < r->mpls_count ? r->mpls_lse[o->arg] : 0;
			d[0] = u32 >> 16;
			d[1] = u32 >> 8;
			d[2] = u32;
			d += 3;
			break;
		}
		case NS_OP_ICMP: {
			const struct ns_record *r = src;

			ns_put16(d, r->protocol == o->arg ? r->dst_port : 0);
			d += 2;
			break;
		}
		case NS_OP_UPTIME:
			/* sysUptime wraps every 49.7 days, as on any router */
			memcpy(&u64, f, 8);
			ns_put32(d, u64 > boot_ms ? (uint32_t)(u64 - boot_ms) : 0);
			d += 4;
			break;
		case NS_OP_SRH_LIST:
			d += put_srh_list(d, src);
			break;
		case NS_OP_SRH_OCTETS:
			d += put_srh_octets(d, src, o->arg);
			break;
		case NS_OP_STR_VAR:
			n = strnlen((const char *)f, o->arg);
			d += ns_varlen_prefix_put(d, n);
			memcpy(d, f, n);
			d += n;
			break;
		case NS_OP_STR_FIXED:
			n = strnlen((const char *)f, o->arg < o->len ? o->arg : o->len);
			memcpy(d, f, n);
			memset(d + n, 0, o->len - n);
			d += o->len;
			break;
		}
	}
	return d - dst;
}
