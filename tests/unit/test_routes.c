// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Routing information: longest-prefix match over IPv4 and IPv6, the text routes file and its
 * errors, an MRT TABLE_DUMP_V2 RIB dump written here and read both by us and by bgpdump (an
 * independent reader), and the kernel's table of a network namespace of the test's own.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include "routes.h"

static char err[512], dir[] = "/tmp/nsflow-routes-XXXXXX", path[64];

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/routes", dir);
}

static void remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(routes, .init = make_dir, .fini = remove_dir);

static void addr_of(const char *s, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET6, s, a) != 1) {
		a[10] = a[11] = 0xff;
		cr_assert_eq(inet_pton(AF_INET, s, a + 12), 1, "%s", s);
	}
}

static const struct route_info *find(const struct route_table *t, const char *s)
{
	uint8_t a[16];

	addr_of(s, a);
	return route_table_lookup(t, a);
}

static void add(struct route_table *t, const char *s, unsigned int len, uint32_t as)
{
	struct route_info ri = { .prefix_len = (uint8_t)len, .origin_as = as };
	uint8_t a[16];

	addr_of(s, a);
	cr_assert_eq(route_table_add(t, a, strchr(s, ':') ? len : 96 + len, &ri), 0);
}

Test(routes, longest_prefix_wins_in_each_family)
{
	struct route_table *t;

	cr_assert_eq(route_table_new(&t), 0);
	cr_assert_null(find(t, "192.0.2.1"), "an empty table covers nothing");
	add(t, "0.0.0.0", 0, 1);
	add(t, "10.0.0.0", 8, 10);
	add(t, "10.1.0.0", 16, 101);
	add(t, "10.1.2.128", 25, 1012);
	add(t, "2001:db8::", 32, 6);
	add(t, "2001:db8:1::", 48, 61);
	cr_assert_eq(find(t, "10.1.2.200")->origin_as, 1012);
	cr_assert_eq(find(t, "10.1.2.1")->origin_as, 101);
	cr_assert_eq(find(t, "10.200.0.1")->origin_as, 10);
	cr_assert_eq(find(t, "192.0.2.1")->origin_as, 1, "the IPv4 default route");
	cr_assert_eq(find(t, "2001:db8:1::5")->origin_as, 61);
	cr_assert_eq(find(t, "2001:db8:2::5")->origin_as, 6);
	cr_assert_null(find(t, "2001:db9::1"), "IPv4's default does not cover IPv6");
	add(t, "10.1.0.0", 16, 999); /* replaced, not added */
	cr_assert_eq(find(t, "10.1.9.9")->origin_as, 999);
	cr_assert_eq(route_table_count(t), 6);
	route_table_free(t);
}

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(routes, text_file_and_its_errors)
{
	struct route_table *t;
	char nh[INET6_ADDRSTRLEN];
	const struct route_info *r;

	write_text("# prefix origin-as peer-as next-hop\n"
		   "\n"
		   "192.0.2.0/24 64500 64499 198.51.100.1   # a customer\n"
		   "2001:db8::/32\t64501\t64499\t2001:db8:ffff::1\n"
		   "203.0.113.0/24 4200000000\n");
	cr_assert_eq(routes_load_file(&t, path, err, sizeof(err)), 0, "%s", err);
	r = find(t, "192.0.2.9");
	cr_assert_eq(r->prefix_len, 24);
	cr_assert_eq(r->origin_as, 64500);
	cr_assert_eq(r->peer_as, 64499);
	inet_ntop(AF_INET, r->bgp_nexthop + 12, nh, sizeof(nh));
	cr_assert_str_eq(nh, "198.51.100.1");
	r = find(t, "2001:db8:5::1");
	cr_assert_eq(r->prefix_len, 32);
	inet_ntop(AF_INET6, r->bgp_nexthop, nh, sizeof(nh));
	cr_assert_str_eq(nh, "2001:db8:ffff::1");
	cr_assert_eq(find(t, "203.0.113.7")->origin_as, 4200000000u, "4-byte AS numbers");
	route_table_free(t);

	write_text("192.0.2.0/24 64500\n10.0.0.0/33 1\n");
	cr_assert_eq(routes_load_file(&t, path, err, sizeof(err)), -EINVAL);
	cr_assert_null(t);
	cr_assert(strstr(err, ":2: expected PREFIX/LEN ORIGIN_AS [PEER_AS [BGP_NEXT_HOP]], not "
			      "'10.0.0.0/33 1'"),
		  "%s", err);
	write_text("192.0.2.0/24 AS64500\n");
	cr_assert_eq(routes_load_file(&t, path, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, ":1: "), "%s", err);
	cr_assert_eq(routes_load_file(&t, "/nonexistent/routes", err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "routes file /nonexistent/routes: No such file or directory");
}

/* An MRT writer: TABLE_DUMP_V2 records, big endian, as RFC 6396 lays them out */
struct mrt {
	uint8_t b[4096];
	size_t len;
};

static void put(struct mrt *m, const void *p, size_t n)
{
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void put8(struct mrt *m, uint8_t v)
{
	put(m, &v, 1);
}

static void put16(struct mrt *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(m, b, 2);
}

static void put32(struct mrt *m, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put(m, b, 4);
}

static size_t record_start(struct mrt *m, uint16_t subtype)
{
	put32(m, 1700000000);
	put16(m, 13);
	put16(m, subtype);
	put32(m, 0); /* length, filled in by record_end */
	return m->len;
}

static void record_end(struct mrt *m, size_t start)
{
	uint32_t n = (uint32_t)(m->len - start);

	m->b[start - 4] = (uint8_t)(n >> 24);
	m->b[start - 3] = (uint8_t)(n >> 16);
	m->b[start - 2] = (uint8_t)(n >> 8);
	m->b[start - 1] = (uint8_t)n;
}

static void peer_index(struct mrt *m)
{
	size_t s = record_start(m, 1);
	uint8_t peer[4] = { 198, 51, 100, 1 };

	put32(m, 0x0a000001); /* collector BGP id */
	put16(m, 0);	      /* view name length */
	put16(m, 1);	      /* peers */
	put8(m, 0x02);	      /* IPv4 peer address, 4-byte AS */
	put32(m, 0x0a000002);
	put(m, peer, 4);
	put32(m, 64499);
	record_end(m, s);
}

/* One RIB entry whose AS_PATH is 64499 64496 @origin */
static void rib(struct mrt *m, bool v6, const uint8_t *prefix, uint8_t plen, uint32_t origin,
		const uint8_t *nexthop)
{
	size_t s = record_start(m, v6 ? 4 : 2), attrs;

	put32(m, 7); /* sequence */
	put8(m, plen);
	put(m, prefix, (plen + 7) / 8u);
	put16(m, 1); /* entries */
	put16(m, 0); /* peer index */
	put32(m, 1700000000);
	put16(m, 0); /* attribute length, below */
	attrs = m->len;
	put8(m, 0x40); /* ORIGIN: IGP */
	put8(m, 1);
	put8(m, 1);
	put8(m, 0);
	put8(m, 0x40); /* AS_PATH: one AS_SEQUENCE of three */
	put8(m, 2);
	put8(m, 14);
	put8(m, 2);
	put8(m, 3);
	put32(m, 64499);
	put32(m, 64496);
	put32(m, origin);
	if (!v6) {
		put8(m, 0x40); /* NEXT_HOP */
		put8(m, 3);
		put8(m, 4);
		put(m, nexthop, 4);
	} else {
		put8(m, 0x80); /* MP_REACH_NLRI, TABLE_DUMP_V2's short form */
		put8(m, 14);
		put8(m, 17);
		put8(m, 16);
		put(m, nexthop, 16);
	}
	m->b[attrs - 2] = (uint8_t)((m->len - attrs) >> 8);
	m->b[attrs - 1] = (uint8_t)(m->len - attrs);
	record_end(m, s);
}

Test(routes, mrt_rib_dump_as_bgpdump_reads_it)
{
	static struct mrt m;
	uint8_t p4[4] = { 192, 0, 2, 0 }, nh4[4] = { 198, 51, 100, 1 }, p6[16], nh6[16];
	const struct route_info *r;
	struct route_table *t;
	char nh[INET6_ADDRSTRLEN], cmd[128], *line = NULL;
	size_t cap = 0;
	FILE *f;
	int lines = 0;

	inet_pton(AF_INET6, "2001:db8:40::", p6);
	inet_pton(AF_INET6, "2001:db8::1", nh6);
	peer_index(&m);
	rib(&m, false, p4, 24, 64510, nh4);
	rib(&m, true, p6, 44, 4200000001u, nh6);
	f = fopen(path, "wb");
	cr_assert_eq(fwrite(m.b, 1, m.len, f), m.len);
	fclose(f);

	cr_assert_eq(routes_load_file(&t, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(route_table_count(t), 2);
	r = find(t, "192.0.2.200");
	cr_assert_not_null(r);
	cr_assert_eq(r->prefix_len, 24);
	cr_assert_eq(r->origin_as, 64510, "the last AS of the path");
	cr_assert_eq(r->peer_as, 64499, "the first");
	inet_ntop(AF_INET, r->bgp_nexthop + 12, nh, sizeof(nh));
	cr_assert_str_eq(nh, "198.51.100.1");
	r = find(t, "2001:db8:40:a::1");
	cr_assert_not_null(r);
	cr_assert_eq(r->prefix_len, 44);
	cr_assert_eq(r->origin_as, 4200000001u);
	inet_ntop(AF_INET6, r->bgp_nexthop, nh, sizeof(nh));
	cr_assert_str_eq(nh, "2001:db8::1");
	route_table_free(t);

	/* bgpdump reads the same file to the same routes */
	snprintf(cmd, sizeof(cmd), "bgpdump -m %s 2>/dev/null", path);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (getline(&line, &cap, f) > 0) {
		lines++;
		cr_assert(strstr(line, "|192.0.2.0/24|64499 64496 64510|IGP|198.51.100.1|") ||
				  strstr(line, "|2001:db8:40::/44|64499 64496 4200000001|IGP|"
					       "2001:db8::1|"),
			  "bgpdump: %s", line);
	}
	free(line);
	cr_assert_eq(pclose(f), 0);
	cr_assert_eq(lines, 2);

	/* cut short: refused, saying where */
	f = fopen(path, "wb");
	cr_assert_eq(fwrite(m.b, 1, m.len - 5, f), m.len - 5);
	fclose(f);
	cr_assert_eq(routes_load_file(&t, path, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "is cut short"), "%s", err);
}

/* A namespace of the test's own, with routes the test adds */
Test(routes, the_kernels_table)
{
	struct route_table *t;
	const struct route_info *r;
	char gw[INET6_ADDRSTRLEN];

	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(system("ip link set lo up && ip link add nsr0 type veth peer name nsr1 && "
			    "ip link set nsr1 up && ip link set nsr0 up && ip addr add "
			    "192.0.2.1/24 dev nsr0 && "
			    "ip route add 198.18.0.0/15 via 192.0.2.254 && "
			    "ip -6 route add 2001:db8:77::/48 dev nsr0"),
		     0);
	cr_assert_eq(routes_load_kernel(&t, err, sizeof(err)), 0, "%s", err);
	r = find(t, "198.19.1.1");
	cr_assert_not_null(r);
	cr_assert_eq(r->prefix_len, 15);
	cr_assert_eq(r->origin_as, 0, "the kernel knows no AS");
	cr_assert_eq(r->egress_ifindex, if_nametoindex("nsr0"));
	inet_ntop(AF_INET, r->ip_nexthop + 12, gw, sizeof(gw));
	cr_assert_str_eq(gw, "192.0.2.254");
	r = find(t, "192.0.2.99");
	cr_assert_eq(r->prefix_len, 24, "the connected route");
	r = find(t, "2001:db8:77::9");
	cr_assert_not_null(r);
	cr_assert_eq(r->prefix_len, 48);
	cr_assert_null(find(t, "203.0.113.1"), "no default route in this namespace");
	route_table_free(t);
}
