// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The route table (routes.h): a binary trie, and the routes file readers. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "routes.h"

#define NONE UINT32_MAX

struct trie_node {
	uint32_t child[2];
	uint32_t route; /* index into routes, or NONE */
};

struct route_table {
	struct trie_node *n;
	size_t n_nodes, nodes_cap;
	struct route_info *r;
	size_t n_routes, routes_cap;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 1024;
	void *np;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	np = realloc(*p, c * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = c;
	return 0;
}

static uint32_t new_node(struct route_table *t)
{
	if (grow((void **)&t->n, &t->nodes_cap, t->n_nodes + 1, sizeof(*t->n)))
		return NONE;
	t->n[t->n_nodes] = (struct trie_node){ { NONE, NONE }, NONE };
	return (uint32_t)t->n_nodes++;
}

/* Two tries in one pool: node 0 is the IPv4 root (32 bits), node 1 the IPv6 one (128) */
int route_table_new(struct route_table **out)
{
	struct route_table *t = calloc(1, sizeof(*t));

	if (!t || new_node(t) == NONE || new_node(t) == NONE) {
		route_table_free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	free(t->n);
	free(t->r);
	free(t);
}

static int bit_of(const uint8_t *addr, unsigned int i)
{
	return (addr[i / 8] >> (7 - i % 8)) & 1;
}

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The trie of an address: IPv4 (v4-mapped) ones from bit 96 of the IPv4 root */
static uint32_t root_of(const uint8_t *addr, unsigned int *first)
{
	bool v4 = !memcmp(addr, v4_mapped, 12);

	*first = v4 ? 96 : 0;
	return v4 ? 0 : 1;
}

int route_table_add(struct route_table *t, const uint8_t addr[16], unsigned int bits,
		    const struct route_info *ri)
{
	unsigned int first;
	uint32_t at = root_of(addr, &first);

	if (bits > 128 || (first && bits < 96))
		return -EINVAL;
	for (unsigned int i = first; i < bits; i++) {
		int b = bit_of(addr, i);
		uint32_t next = t->n[at].child[b];

		if (next == NONE) {
			next = new_node(t);
			if (next == NONE)
				return -ENOMEM;
			t->n[at].child[b] = next;
		}
		at = next;
	}
	if (t->n[at].route == NONE) {
		if (grow((void **)&t->r, &t->routes_cap, t->n_routes + 1, sizeof(*t->r)))
			return -ENOMEM;
		t->n[at].route = (uint32_t)t->n_routes++;
	}
	t->r[t->n[at].route] = *ri;
	return 0;
}

const struct route_info *route_table_lookup(const struct route_table *t, const uint8_t addr[16])
{
	unsigned int first;
	uint32_t at = root_of(addr, &first), best = t->n[at].route;

	for (unsigned int i = first; i < 128; i++) {
		at = t->n[at].child[bit_of(addr, i)];
		if (at == NONE)
			break;
		if (t->n[at].route != NONE)
			best = t->n[at].route;
	}
	return best == NONE ? NULL : &t->r[best];
}

size_t route_table_count(const struct route_table *t)
{
	return t->n_routes;
}

size_t route_table_bytes(const struct route_table *t)
{
	return sizeof(*t) + t->nodes_cap * sizeof(*t->n) + t->routes_cap * sizeof(*t->r);
}

/* addr/len in text, IPv4 or IPv6: the 16-byte address and the bits in that space */
static int parse_prefix(const char *s, uint8_t addr[16], unsigned int *bits, uint8_t *len)
{
	char buf[64], *slash, *end;
	unsigned long l;
	int v6;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	memset(addr, 0, 16);
	v6 = strchr(buf, ':') != NULL;
	if (v6 ? inet_pton(AF_INET6, buf, addr) != 1 : inet_pton(AF_INET, buf, addr + 12) != 1)
		return -EINVAL;
	errno = 0;
	l = strtoul(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || l > (v6 ? 128u : 32u))
		return -EINVAL;
	if (!v6)
		addr[10] = addr[11] = 0xff;
	*len = (uint8_t)l;
	*bits = v6 ? (unsigned int)l : 96 + (unsigned int)l;
	return 0;
}

static int parse_as(const char *s, uint32_t *as)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*as = (uint32_t)v;
	return 0;
}

static int parse_addr(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	if (inet_pton(AF_INET, s, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		return 0;
	}
	return -EINVAL;
}

static int load_text(struct route_table *t, const char *path, const char *text, size_t len,
		     char *err, size_t errlen)
{
	unsigned int line = 0;

	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[512], *w[5] = { 0 }, *save = NULL, *hash;
		struct route_info ri = { 0 };
		uint8_t addr[16];
		unsigned int bits;
		int nw = 0, ret;

		line++;
		snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) ? n : sizeof(buf) - 1), p);
		p += n + 1;
		hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		for (char *tok = strtok_r(buf, " \t\r", &save); tok && nw < 5;
		     tok = strtok_r(NULL, " \t\r", &save))
			w[nw++] = tok;
		if (!nw)
			continue;
		if (nw > 4 || parse_prefix(w[0], addr, &bits, &ri.prefix_len) ||
		    parse_as(w[1], &ri.origin_as) || (nw > 2 && parse_as(w[2], &ri.peer_as)) ||
		    (nw > 3 && parse_addr(w[3], ri.bgp_nexthop))) {
			snprintf(err, errlen,
				 "%s:%u: expected PREFIX/LEN ORIGIN_AS [PEER_AS [BGP_NEXT_HOP]], "
				 "not '%.*s'",
				 path, line, (int)(n < 200 ? n : 200), p - n - 1);
			return -EINVAL;
		}
		ret = route_table_add(t, addr, bits, &ri);
		if (ret)
			return ret;
	}
	return 0;
}

/* MRT (RFC 6396) */

#define MRT_TABLE_DUMP_V2 13
enum {
	MRT_PEER_INDEX_TABLE = 1,
	MRT_RIB_IPV4_UNICAST = 2,
	MRT_RIB_IPV6_UNICAST = 4,
	MRT_RIB_IPV4_UNICAST_ADDPATH = 8,
	MRT_RIB_IPV6_UNICAST_ADDPATH = 10,
};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool is_mrt(const uint8_t *b, size_t len)
{
	return len >= 12 && get16(b + 4) == MRT_TABLE_DUMP_V2 && get32(b + 8) <= len - 12;
}

/* The BGP path attributes of one RIB entry into ri */
static int mrt_attrs(const uint8_t *a, size_t len, bool v6, struct route_info *ri)
{
	size_t off = 0;

	while (off + 3 <= len) {
		uint8_t flags = a[off], type = a[off + 1];
		size_t hl = flags & 0x10 ? 4 : 3, vl;
		const uint8_t *v;

		if (off + hl > len)
			return -EBADMSG;
		vl = flags & 0x10 ? get16(a + off + 2) : a[off + 2];
		if (off + hl + vl > len)
			return -EBADMSG;
		v = a + off + hl;
		if (type == 2) { /* AS_PATH, 4-byte ASNs in TABLE_DUMP_V2 */
			for (size_t s = 0; s + 2 <= vl;) {
				size_t cnt = v[s + 1];

				if (s + 2 + 4 * cnt > vl)
					return -EBADMSG;
				if (cnt && !ri->peer_as)
					ri->peer_as = get32(v + s + 2);
				if (cnt)
					ri->origin_as = get32(v + s + 2 + 4 * (cnt - 1));
				s += 2 + 4 * cnt;
			}
		} else if (type == 3 && vl == 4 && !v6) { /* NEXT_HOP */
			ri->bgp_nexthop[10] = ri->bgp_nexthop[11] = 0xff;
			memcpy(ri->bgp_nexthop + 12, v, 4);
		} else if (type == 14 &&
			   vl >= 1) { /* MP_REACH_NLRI: next hop (short or full form) */
			const uint8_t *nh = v + 1;
			size_t nhl = v[0];

			if (nhl != vl - 1 && vl >= 4) {
				nhl = v[3];
				nh = v + 4;
			}
			if (nh + nhl > v + vl)
				return -EBADMSG;
			if (nhl == 16 || nhl == 32)
				memcpy(ri->bgp_nexthop, nh, 16);
			else if (nhl == 4) {
				memset(ri->bgp_nexthop, 0, 16);
				ri->bgp_nexthop[10] = ri->bgp_nexthop[11] = 0xff;
				memcpy(ri->bgp_nexthop + 12, nh, 4);
			}
		}
		off += hl + vl;
	}
	return 0;
}

/* One RIB_IPV4/6_UNICAST(_ADDPATH) message: its prefix with the first entry's attributes */
static int mrt_rib(struct route_table *t, const uint8_t *m, size_t len, bool v6, bool addpath)
{
	struct route_info ri = { 0 };
	uint8_t addr[16] = { 0 };
	size_t off, plen_bytes, alen;
	unsigned int plen;

	if (len < 5)
		return -EBADMSG;
	plen = m[4];
	if (plen > (v6 ? 128u : 32u))
		return -EBADMSG;
	plen_bytes = (plen + 7) / 8;
	off = 5 + plen_bytes;
	if (off + 2 > len)
		return -EBADMSG;
	if (v6) {
		memcpy(addr, m + 5, plen_bytes);
	} else {
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, m + 5, plen_bytes);
	}
	ri.prefix_len = (uint8_t)plen;
	if (!get16(m + off))
		return 0;		      /* no entry: nothing to learn */
	off += 2 + 2 + 4 + (addpath ? 4 : 0); /* count, peer index, originated time, path id */
	if (off + 2 > len)
		return -EBADMSG;
	alen = get16(m + off);
	off += 2;
	if (off + alen > len || mrt_attrs(m + off, alen, v6, &ri))
		return -EBADMSG;
	return route_table_add(t, addr, v6 ? plen : 96 + plen, &ri);
}

static int load_mrt(struct route_table *t, const char *path, const uint8_t *b, size_t len,
		    char *err, size_t errlen)
{
	size_t off = 0, ribs = 0;

	while (off < len) {
		uint32_t mlen;
		uint16_t type, sub;
		int ret = 0;

		if (len - off < 12 || (mlen = get32(b + off + 8)) > len - off - 12) {
			snprintf(err, errlen, "%s: MRT record at byte %zu is cut short", path, off);
			return -EBADMSG;
		}
		type = get16(b + off + 4);
		sub = get16(b + off + 6);
		if (type == MRT_TABLE_DUMP_V2 &&
		    (sub == MRT_RIB_IPV4_UNICAST || sub == MRT_RIB_IPV6_UNICAST ||
		     sub == MRT_RIB_IPV4_UNICAST_ADDPATH || sub == MRT_RIB_IPV6_UNICAST_ADDPATH)) {
			ret = mrt_rib(t, b + off + 12, mlen,
				      sub == MRT_RIB_IPV6_UNICAST ||
					      sub == MRT_RIB_IPV6_UNICAST_ADDPATH,
				      sub >= MRT_RIB_IPV4_UNICAST_ADDPATH);
			ribs++;
		}
		if (ret == -EBADMSG) {
			snprintf(err, errlen, "%s: MRT RIB record at byte %zu is malformed", path,
				 off);
			return ret;
		}
		if (ret)
			return ret;
		off += 12 + mlen;
	}
	if (!ribs) {
		snprintf(err, errlen, "%s: an MRT file without TABLE_DUMP_V2 RIB records", path);
		return -EINVAL;
	}
	return 0;
}

int routes_load_file(struct route_table **out, const char *path, char *err, size_t errlen)
{
	struct route_table *t = NULL;
	struct stat st;
	void *map = NULL;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "routes file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (st.st_size) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			ret = -errno;
			snprintf(err, errlen, "routes file %s: %s", path, strerror(errno));
			close(fd);
			return ret;
		}
	}
	close(fd);
	ret = route_table_new(&t);
	if (!ret && map)
		ret = is_mrt(map, (size_t)st.st_size)
			      ? load_mrt(t, path, map, (size_t)st.st_size, err, errlen)
			      : load_text(t, path, map, (size_t)st.st_size, err, errlen);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "routes file %s: %s", path, strerror(ENOMEM));
	if (map)
		munmap(map, (size_t)st.st_size);
	if (ret) {
		route_table_free(t);
		return ret;
	}
	*out = t;
	return 0;
}
