// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "livegen.h"
#include "pkt.h"

#define ETH_HLEN_ 14

struct livegen {
	struct livegen_opts o;
	struct bpf_object *obj;
	int prog_fd;
	int bss_fd;
	uint8_t frame[PB_MAX];
	size_t len;
	uint32_t port_off;
	uint8_t src[16], dst[16]; /* as records carry them: IPv4 v4-mapped */
	bool src_mac_given, dst_mac_given;
};

static const char *gen_obj_path(void)
{
	const char *b = getenv("NSFLOW_LIVEGEN_OBJ");

	return b && *b ? b : "build/livegen.bpf.o";
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sets a global of a data section (.rodata) before load, found through the object's BTF. */
static int set_var(struct bpf_object *obj, const char *sec, const char *name, const void *val,
		   size_t size)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *m;
	const struct btf_var_secinfo *vs;
	const struct btf_type *t;
	size_t msize;
	uint8_t *data;
	int id;

	bpf_object__for_each_map(m, obj) if (bpf_map__is_internal(m) &&
					     strstr(bpf_map__name(m), sec)) break;
	if (!m || !btf)
		return -ENOENT;
	data = (uint8_t *)bpf_map__initial_value(m, &msize);
	id = btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC);
	if (!data || id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, (__u32)id);
	vs = btf_var_secinfos(t);
	for (int i = 0; i < btf_vlen(t); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, v->name_off), name))
			continue;
		if (vs->size != size || vs->offset + size > msize)
			return -EINVAL;
		memcpy(data + vs->offset, val, size);
		return 0;
	}
	return -ENOENT;
}

static uint16_t csum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int build_frame(struct livegen *g)
{
	struct livegen_opts *o = &g->o;
	bool v4 = o->family == AF_INET, tcp = o->proto == IPPROTO_TCP;
	size_t l3 = v4 ? 20 : 40, l4 = tcp ? 20 : 8, hdrs = l3 + l4;
	struct pb *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	if (!o->ip_len)
		o->ip_len = (uint16_t)(hdrs + 18);
	if (o->ip_len < hdrs || o->ip_len + ETH_HLEN_ > 3000) {
		free(p);
		return -EINVAL;
	}
	pb_init(p);
	pb_eth(p, v4 ? 0x0800 : 0x86dd);
	if (v4)
		pb_ipv4(p, o->proto, o->src, o->dst, 0, 64, 0, 0, 0);
	else
		pb_ipv6(p, o->proto, o->src, o->dst, 0, 64);
	if (tcp)
		pb_tcp(p, o->base_port, o->dst_port, o->tcp_flags, 5);
	else
		pb_udp(p, o->base_port, o->dst_port);
	pb_zero(p, o->ip_len - hdrs);
	pb_finish(p);
	memcpy(p->b, o->dst_mac, 6);
	memcpy(p->b + 6, o->src_mac, 6);
	if (v4) {
		uint16_t c = csum16(p->b + ETH_HLEN_, 20);

		p->b[ETH_HLEN_ + 10] = (uint8_t)(c >> 8);
		p->b[ETH_HLEN_ + 11] = (uint8_t)c;
	}
	memcpy(g->frame, p->b, p->len);
	g->len = p->len;
	g->port_off = (uint32_t)(ETH_HLEN_ + l3);
	free(p);
	return 0;
}

static int parse_addr(int family, const char *txt, uint8_t out[16])
{
	memset(out, 0, 16);
	if (family == AF_INET) {
		out[10] = out[11] = 0xff;
		return inet_pton(AF_INET, txt, out + 12) == 1 ? 0 : -EINVAL;
	}
	return inet_pton(AF_INET6, txt, out) == 1 ? 0 : -EINVAL;
}

int livegen_open(struct livegen **out, const struct livegen_opts *opts)
{
	static const uint8_t zero_mac[6];
	struct livegen *g = calloc(1, sizeof(*g));
	struct bpf_program *prog;
	struct bpf_map *m;
	int ret;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->o = *opts;
	g->prog_fd = g->bss_fd = -1;
	if (!g->o.family)
		g->o.family = AF_INET;
	if (!g->o.proto)
		g->o.proto = IPPROTO_UDP;
	if (!g->o.src)
		g->o.src = g->o.family == AF_INET ? "198.18.0.1" : "2001:db8::1";
	if (!g->o.dst)
		g->o.dst = g->o.family == AF_INET ? "198.18.0.2" : "2001:db8::2";
	if (!g->o.base_port)
		g->o.base_port = 10000;
	if (!g->o.dst_port)
		g->o.dst_port = 9;
	if (!g->o.flows)
		g->o.flows = 1;
	if (!g->o.tcp_flags)
		g->o.tcp_flags = 0x10;
	g->src_mac_given = memcmp(g->o.src_mac, zero_mac, 6) != 0;
	g->dst_mac_given = memcmp(g->o.dst_mac, zero_mac, 6) != 0;
	if (!g->src_mac_given)
		memcpy(g->o.src_mac, pb_src_mac, 6);
	if (!g->dst_mac_given)
		memcpy(g->o.dst_mac, pb_dst_mac, 6);
	ret = -EINVAL;
	if ((g->o.family != AF_INET && g->o.family != AF_INET6) ||
	    (g->o.proto != IPPROTO_UDP && g->o.proto != IPPROTO_TCP) ||
	    (uint32_t)g->o.base_port + g->o.flows > 65536 ||
	    parse_addr(g->o.family, g->o.src, g->src) || parse_addr(g->o.family, g->o.dst, g->dst))
		goto fail;
	ret = build_frame(g);
	if (ret)
		goto fail;

	g->obj = bpf_object__open_file(gen_obj_path(), NULL);
	if (!g->obj) {
		ret = -errno;
		fprintf(stderr, "livegen: open %s: %s\n", gen_obj_path(), strerror(errno));
		goto fail;
	}
	ret = set_var(g->obj, ".rodata", "livegen_flows", &g->o.flows, 4);
	if (!ret)
		ret = set_var(g->obj, ".rodata", "livegen_base_port", &g->o.base_port, 2);
	if (!ret)
		ret = set_var(g->obj, ".rodata", "livegen_port_off", &g->port_off, 4);
	if (ret) {
		fprintf(stderr, "livegen: set the generator's settings: %s\n", strerror(-ret));
		goto fail;
	}
	ret = bpf_object__load(g->obj);
	if (ret) {
		fprintf(stderr, "livegen: load %s: %s\n", gen_obj_path(), strerror(-ret));
		goto fail;
	}
	prog = bpf_object__find_program_by_name(g->obj, "livegen_xdp");
	bpf_object__for_each_map(m, g->obj) if (bpf_map__is_internal(m) &&
						strstr(bpf_map__name(m), ".bss")) g->bss_fd =
		bpf_map__fd(m);
	if (!prog || g->bss_fd < 0) {
		ret = -ENOENT;
		fprintf(stderr, "livegen: no livegen_xdp or .bss in %s\n", gen_obj_path());
		goto fail;
	}
	g->prog_fd = bpf_program__fd(prog);
	*out = g;
	return 0;
fail:
	livegen_close(g);
	return ret;
}

void livegen_close(struct livegen *g)
{
	if (!g)
		return;
	bpf_object__close(g->obj);
	free(g);
}

const uint8_t *livegen_frame(const struct livegen *g, size_t *len)
{
	*len = g->len;
	return g->frame;
}

const struct livegen_opts *livegen_opts(const struct livegen *g)
{
	return &g->o;
}

uint64_t livegen_sent(const struct livegen *g)
{
	__u32 zero = 0;
	__u64 bss[8] = { 0 }; /* livegen_sent is the section's only variable */

	if (bpf_map_lookup_elem(g->bss_fd, &zero, bss))
		return 0;
	return bss[0];
}

uint64_t livegen_flow_share(const struct livegen *g, uint64_t total, uint32_t flow)
{
	return total / g->o.flows + (flow < total % g->o.flows ? 1 : 0);
}

int livegen_send(struct livegen *g, const char *ns, int ifindex, uint64_t n, uint32_t batch,
		 uint64_t *ns_taken)
{
	/* the kernel wants data_end to be the frame's length when a context comes in */
	struct xdp_md ctx = { .data_end = (__u32)g->len, .ingress_ifindex = (__u32)ifindex };
	uint64_t t0, left = n;
	int saved = -1, ret = 0;

	if (ns) {
		saved = netns_enter(ns);
		if (saved < 0)
			return saved;
	}
	t0 = mono_ns();
	while (left && !ret) {
		__u32 chunk = left > 1000000000ULL ? 1000000000U : (__u32)left;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = g->frame,
			    .data_size_in = (__u32)g->len, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = chunk,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);

		if (bpf_prog_test_run_opts(g->prog_fd, &o)) {
			ret = -errno;
			fprintf(stderr, "livegen: live frames out of ifindex %d: %s\n", ifindex,
				strerror(errno));
		}
		left -= chunk;
	}
	if (ns_taken)
		*ns_taken = mono_ns() - t0;
	if (ns)
		netns_leave(saved);
	return ret;
}

int livegen_send_pair(struct livegen *g, const struct netns_pair *p, uint64_t n, uint32_t batch,
		      int settle_ms, struct livegen_delivery *d)
{
	struct netns_link before, after;
	uint64_t sent0 = livegen_sent(g), end;
	int ret;

	memset(d, 0, sizeof(*d));
	/* frames to the peer's own address, so its stack takes them as a host would */
	if (!g->dst_mac_given)
		memcpy(g->frame, p->rx_mac, 6);
	if (!g->src_mac_given)
		memcpy(g->frame + 6, p->tx_mac, 6);
	ret = netns_link_get(p->ns_rx, p->rx, &before);
	if (ret)
		return ret;
	ret = livegen_send(g, p->ns_tx, p->tx_ifindex, n, batch, &d->ns);
	if (ret)
		return ret;
	d->sent = livegen_sent(g) - sent0;
	/* the receiver's NAPI may still be emptying its ring: wait for the books to balance */
	end = netns_now_ms() + (uint64_t)settle_ms;
	for (uint64_t t0 = netns_now_ms();; usleep(1000)) {
		ret = netns_link_get(p->ns_rx, p->rx, &after);
		if (ret)
			return ret;
		d->delivered = after.rx_packets - before.rx_packets;
		d->dropped = after.rx_dropped - before.rx_dropped;
		d->settle_ms = netns_now_ms() - t0;
		if (d->delivered + d->dropped >= d->sent)
			return d->delivered + d->dropped == d->sent ? 0 : -EPROTO;
		if (netns_now_ms() >= end)
			return -ETIMEDOUT;
	}
}

/* JSON lines: flat objects of numbers and strings, as the json sink writes them. */
static const char *json_find(const char *line, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = strchr(line, '"'); p; p = strchr(p + 1, '"'))
		if (!strncmp(p + 1, key, kl) && p[kl + 1] == '"' && p[kl + 2] == ':')
			return p + kl + 3;
	return NULL;
}

static int json_u64(const char *line, const char *key, uint64_t *v)
{
	const char *p = json_find(line, key);
	char *end;

	if (!p)
		return -ENOENT;
	*v = strtoull(p, &end, 10);
	return end == p ? -EINVAL : 0;
}

static int json_str(const char *line, const char *key, char *buf, size_t len)
{
	const char *p = json_find(line, key), *q;

	if (!p || *p != '"')
		return -ENOENT;
	q = strchr(p + 1, '"');
	if (!q || (size_t)(q - p - 1) >= len)
		return -EINVAL;
	memcpy(buf, p + 1, (size_t)(q - p - 1));
	buf[q - p - 1] = 0;
	return 0;
}

int lg_parse_json(const char *line, struct lg_record *r)
{
	char a[64], b[64];
	uint64_t v;

	memset(r, 0, sizeof(*r));
	if (!json_str(line, "sourceIPv4Address", a, sizeof(a)) &&
	    !json_str(line, "destinationIPv4Address", b, sizeof(b))) {
		r->ip_version = 4;
		if (parse_addr(AF_INET, a, r->src) || parse_addr(AF_INET, b, r->dst))
			return -EINVAL;
	} else if (!json_str(line, "sourceIPv6Address", a, sizeof(a)) &&
		   !json_str(line, "destinationIPv6Address", b, sizeof(b))) {
		r->ip_version = 6;
		if (parse_addr(AF_INET6, a, r->src) || parse_addr(AF_INET6, b, r->dst))
			return -EINVAL;
	}
	if (json_u64(line, "packetDeltaCount", &r->packets) ||
	    json_u64(line, "octetDeltaCount", &r->octets))
		return -EINVAL;
	if (!json_u64(line, "protocolIdentifier", &v))
		r->proto = (uint8_t)v;
	if (!json_u64(line, "sourceTransportPort", &v))
		r->sport = (uint16_t)v;
	if (!json_u64(line, "destinationTransportPort", &v))
		r->dport = (uint16_t)v;
	if (!json_u64(line, "ingressInterface", &v))
		r->in_if = (uint32_t)v;
	if (!json_u64(line, "egressInterface", &v))
		r->out_if = (uint32_t)v;
	r->direction = json_u64(line, "flowDirection", &v) ? -1 : (int)v;
	r->reason = json_u64(line, "flowEndReason", &v) ? -1 : (int)v;
	return 0;
}

int lg_read_json(const char *path, struct lg_records *out)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, room = out->n;
	ssize_t n;

	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		struct lg_record r;

		if (lg_parse_json(line, &r)) {
			out->bad_lines++;
			continue;
		}
		if (out->n == room) {
			struct lg_record *nr;

			room = room ? room * 2 : 1024;
			nr = realloc(out->r, room * sizeof(*nr));
			if (!nr) {
				free(line);
				fclose(f);
				return -ENOMEM;
			}
			out->r = nr;
		}
		out->r[out->n++] = r;
	}
	free(line);
	fclose(f);
	return 0;
}

void lg_records_free(struct lg_records *rs)
{
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

int lg_same_key(const struct lg_record *r, const struct lg_record *k)
{
	return r->ip_version == k->ip_version && r->proto == k->proto && r->sport == k->sport &&
	       r->dport == k->dport && !memcmp(r->src, k->src, 16) && !memcmp(r->dst, k->dst, 16);
}

void lg_key_str(const struct lg_record *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (r->ip_version == 4) {
		inet_ntop(AF_INET, r->src + 12, a, sizeof(a));
		inet_ntop(AF_INET, r->dst + 12, b, sizeof(b));
	} else {
		inet_ntop(AF_INET6, r->src, a, sizeof(a));
		inet_ntop(AF_INET6, r->dst, b, sizeof(b));
	}
	snprintf(buf, len, "proto %u %s:%u > %s:%u", r->proto, a, r->sport, b, r->dport);
}

int livegen_tally(const struct livegen *g, const struct lg_records *rs, struct livegen_tally *t)
{
	const struct livegen_opts *o = &g->o;
	int ver = o->family == AF_INET ? 4 : 6;

	memset(t, 0, sizeof(*t));
	t->flow_packets = calloc(o->flows, sizeof(*t->flow_packets));
	t->flow_octets = calloc(o->flows, sizeof(*t->flow_octets));
	if (!t->flow_packets || !t->flow_octets) {
		livegen_tally_free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < rs->n; i++) {
		const struct lg_record *r = &rs->r[i];
		uint32_t flow = (uint32_t)r->sport - o->base_port;

		if (r->ip_version != ver || r->proto != o->proto || r->dport != o->dst_port ||
		    r->sport < o->base_port || flow >= o->flows || memcmp(r->src, g->src, 16) ||
		    memcmp(r->dst, g->dst, 16)) {
			t->other_records++;
			t->other_packets += r->packets;
			continue;
		}
		t->records++;
		t->packets += r->packets;
		t->octets += r->octets;
		t->flow_packets[flow] += r->packets;
		t->flow_octets[flow] += r->octets;
		if (r->octets != r->packets * o->ip_len)
			t->bad_octets++;
	}
	return 0;
}

void livegen_tally_free(struct livegen_tally *t)
{
	free(t->flow_packets);
	free(t->flow_octets);
	t->flow_packets = t->flow_octets = NULL;
}
