// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dp.h"

static int silent(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

struct nsflow_bpf *dp_open(void)
{
	struct nsflow_bpf *s;

	libbpf_set_print(silent);
	s = nsflow_bpf__open_and_load();
	if (!s)
		fprintf(stderr, "load build/nsflow.bpf.o: %s (are you root?)\n", strerror(errno));
	return s;
}

int dp_run(struct nsflow_bpf *s, enum dp_hook hook, const void *frame, size_t len, int repeat)
{
	struct __sk_buff skb = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .repeat = repeat > 0 ? repeat : 1);
	int fd, err;

	if (hook == DP_XDP) {
		fd = bpf_program__fd(s->progs.nsflow_xdp);
	} else {
		fd = bpf_program__fd(hook == DP_TC_INGRESS ? s->progs.nsflow_tc_ingress
							   : s->progs.nsflow_tc_egress);
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	err = bpf_prog_test_run_opts(fd, &o);
	if (err)
		return -1000 + err;
	return (int)o.retval;
}

static int current_map_fd(struct nsflow_bpf *s)
{
	__u32 zero = 0, id = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(s->maps.nsflow_epoch), &zero, &id))
		return -1;
	return bpf_map_get_fd_by_id(id);
}

static size_t key_hash(const struct nsflow_key *k)
{
	const unsigned char *b = (const unsigned char *)k;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return (size_t)(h ^ h >> 29);
}

/* The index slot of k: where it is, or the empty slot where it would go. */
static size_t *find_slot(const struct dp_flows *f, const struct nsflow_key *k)
{
	for (size_t i = key_hash(k);; i++) {
		size_t *s = &f->slot[i & (f->nslot - 1)];

		if (!*s || !memcmp(&f->f[*s - 1].k, k, sizeof(*k)))
			return s;
	}
}

static void reindex(struct dp_flows *f)
{
	free(f->slot);
	f->nslot = f->nslot ? f->nslot * 2 : 64;
	f->slot = calloc(f->nslot, sizeof(*f->slot));
	for (size_t i = 0; i < f->n; i++)
		*find_slot(f, &f->f[i].k) = i + 1;
}

/* Adds one CPU's entry of a flow to what dp_read_flows() gathered. */
static void fold(struct dp_flows *out, size_t *cap, const struct nsflow_key *k,
		 const struct nsflow_value *v)
{
	struct dp_flow *f;
	size_t *s;

	if (2 * (out->n + 1) > out->nslot)
		reindex(out);
	s = find_slot(out, k);
	if (!*s) {
		if (out->n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			out->f = realloc(out->f, *cap * sizeof(*out->f));
		}
		f = &out->f[out->n++];
		f->k = *k;
		f->v = *v;
		*s = out->n;
		return;
	}
	f = &out->f[*s - 1];
	f->v.packets += v->packets;
	f->v.octets += v->octets;
	f->v.tcp_flags |= v->tcp_flags;
	if (v->first_ns < f->v.first_ns)
		f->v.first_ns = v->first_ns;
	if (v->last_ns > f->v.last_ns)
		f->v.last_ns = v->last_ns;
}

void dp_read_flows(struct nsflow_bpf *s, struct dp_flows *out)
{
	int fd = current_map_fd(s);
	struct nsflow_slot_key k, next;
	struct nsflow_value v;
	void *prev = NULL;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	while (fd >= 0 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(fd, &k, &v))
			fold(out, &cap, &k.flow, &v);
	}
	if (fd >= 0)
		close(fd);
}

void dp_flows_free(struct dp_flows *f)
{
	free(f->f);
	free(f->slot);
	memset(f, 0, sizeof(*f));
}

const struct dp_flow *dp_find(const struct dp_flows *f, const struct nsflow_key *k)
{
	size_t *s;

	if (!f->nslot)
		return NULL;
	s = find_slot(f, k);
	return *s ? &f->f[*s - 1] : NULL;
}

void dp_counters(struct nsflow_bpf *s, struct nsflow_counters *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct nsflow_counters *per = calloc(ncpu, sizeof(*per));
	__u32 zero = 0;

	memset(out, 0, sizeof(*out));
	if (!bpf_map_lookup_elem(bpf_map__fd(s->maps.nsflow_counters), &zero, per))
		for (int c = 0; c < ncpu; c++)
			for (int i = 0; i < NSFLOW_CNT_MAX; i++)
				out->c[i] += per[c].c[i];
	free(per);
}

void dp_set_cfg(struct nsflow_bpf *s, uint32_t ifindex, uint32_t dir, const struct nsflow_cfg *c)
{
	struct nsflow_cfg_key k = { .ifindex = ifindex, .direction = dir };
	__u32 slot = ifindex * 2 + dir;

	if (ifindex < NSFLOW_CFG_DIRECT)
		bpf_map_update_elem(bpf_map__fd(s->maps.nsflow_config_direct), &slot, c, BPF_ANY);
	else
		bpf_map_update_elem(bpf_map__fd(s->maps.nsflow_config), &k, c, BPF_ANY);
}

int dp_get_cfg(struct nsflow_bpf *s, uint32_t ifindex, uint32_t dir, struct nsflow_cfg *c)
{
	struct nsflow_cfg_key k = { .ifindex = ifindex, .direction = dir };
	__u32 slot = ifindex * 2 + dir;

	if (ifindex < NSFLOW_CFG_DIRECT)
		return bpf_map_lookup_elem(bpf_map__fd(s->maps.nsflow_config_direct), &slot, c);
	return bpf_map_lookup_elem(bpf_map__fd(s->maps.nsflow_config), &k, c);
}

static void fill_addr(uint8_t *dst, int family, const char *txt)
{
	memset(dst, 0, 16);
	if (family == AF_INET) {
		dst[10] = dst[11] = 0xff;
		inet_pton(AF_INET, txt, dst + 12);
	} else {
		inet_pton(AF_INET6, txt, dst);
	}
}

struct nsflow_key dp_key4(uint8_t proto, const char *src, const char *dst, uint16_t sport,
			  uint16_t dport)
{
	struct nsflow_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = DP_IFINDEX;
	k.ip_version = 4;
	k.protocol = proto;
	fill_addr(k.src_addr, AF_INET, src);
	fill_addr(k.dst_addr, AF_INET, dst);
	k.src_port = sport;
	k.dst_port = dport;
	return k;
}

struct nsflow_key dp_key6(uint8_t proto, const char *src, const char *dst, uint16_t sport,
			  uint16_t dport)
{
	struct nsflow_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = DP_IFINDEX;
	k.ip_version = 6;
	k.protocol = proto;
	fill_addr(k.src_addr, AF_INET6, src);
	fill_addr(k.dst_addr, AF_INET6, dst);
	k.src_port = sport;
	k.dst_port = dport;
	return k;
}

const char *dp_counter_name(int idx)
{
	return idx >= 0 && idx < NSFLOW_CNT_MAX ? nsflow_counter_names[idx] : "?";
}

void dp_key_str(const struct nsflow_key *k, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, k->src_addr, s, sizeof(s));
	inet_ntop(AF_INET6, k->dst_addr, d, sizeof(d));
	snprintf(buf, len,
		 "if%u dir%u v%u proto %u tos %u %s:%u -> %s:%u vlan %u/%u mpls %#x vni %#x",
		 k->ifindex, k->direction, k->ip_version, k->protocol, k->tos, s, k->src_port, d,
		 k->dst_port, k->vlan_outer, k->vlan_inner, k->mpls_top, k->vni);
}
