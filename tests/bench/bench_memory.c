// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory per flow, kernel and agent, each figure beside the goal it is held to:
 *
 * - kernel: the datapath object loaded with agent_size_maps() for --cache-entries E = 1M, its
 *   maps read from the kernel's own accounting (fdinfo memlock) with the current epoch table
 *   empty and holding 100k flows (one CPU's entry each, as RSS spreads them), and a second
 *   object with E = 256k; from these the formula in CPUs (C), entries (E) and live flows (L).
 *   Beside it, what the previous layout (one preallocated PERCPU_HASH per epoch) costs: such a
 *   map created here with E entries and its memlock read.
 *
 * - agent: RSS of this process (the region mapped as the agent maps it, agent_init +
 *   agent_bind) before the cache holds flows and after 1M have been merged in by agent_poll().
 *
 * Figures only, no assertion. Run from the top directory as root (`make bench`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "config.h"

#define BATCH	   4096
#define E_BIG	   1048576u
#define E_SMALL	   262144u
#define LIVE	   100000u
#define GOAL_BYTES 256.0
/* Per-CPU terms of the maps' accounting (kernel/bpf/hashtab.c htab_map_mem_usage,
 * arraymap.c array_map_mem_usage), in bytes per CPU: the bucket-lock array of each hash map
 * (8 x int: flows_0, flows_1, nsflow_config, nsflow_srh), nsflow_config's extra elements (one
 * 96-byte element and its 8-byte pointer per CPU, preallocated non-LRU hash) and the per-CPU
 * counters (struct nsflow_counters). Nothing per bucket or per flow depends on C. */
#define PER_CPU_BYTES (4 * 32 + 96 + 8 + sizeof(struct nsflow_counters))

static int ncpu;

static int quiet(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	return lvl == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_memory: %s: %s\n", what, strerror(err));
	exit(1);
}

static const char *verdict(double v)
{
	return v <= GOAL_BYTES ? "met" : "GOAL MISSED";
}

static uint64_t pow2_ceil(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* The kernel's own accounting of a map's memory. */
static uint64_t memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static uint64_t rss_bytes(void)
{
	unsigned long long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f && fscanf(f, "%llu %llu", &pages, &rss) != 2)
		rss = 0;
	if (f)
		fclose(f);
	return rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Settings as `nsflow run` would parse them. */
static void make_config(struct nsflow_config *cfg, uint32_t entries)
{
	char n[16], *argv[12];
	char err[256];
	int argc = 0;

	snprintf(n, sizeof(n), "%u", entries);
	argv[argc++] = "run";
	argv[argc++] = "-c";
	argv[argc++] = "json:/dev/null";
	argv[argc++] = "--cache-entries";
	argv[argc++] = n;
	argv[argc++] = "--active-timeout";
	argv[argc++] = "3600";
	argv[argc++] = "--inactive-timeout";
	argv[argc++] = "600";
	argv[argc] = NULL;
	config_init(cfg);
	if (config_parse_args(cfg, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "bench_memory: settings: %s\n", err);
		exit(1);
	}
}

static struct nsflow_bpf *load(const struct nsflow_config *cfg)
{
	struct nsflow_bpf *s = nsflow_bpf__open();

	if (!s)
		die("open the datapath object (root?)", errno);
	agent_size_maps(s, cfg);
	if (nsflow_bpf__load(s))
		die("load the datapath object", errno);
	return s;
}

/* Flow i: an IPv4/UDP five-tuple of its own, counted by CPU i % ncpu, stamped now. */
static void make_slots(uint32_t n, struct nsflow_slot_key **keys, struct nsflow_value **vals)
{
	uint64_t t = agent_clock_ns();

	*keys = calloc(n, sizeof(**keys));
	*vals = calloc(n, sizeof(**vals));
	if (!*keys || !*vals)
		die("flows", ENOMEM);
	for (uint32_t i = 0; i < n; i++) {
		struct nsflow_key *k = &(*keys)[i].flow;
		struct nsflow_value *v = &(*vals)[i];

		(*keys)[i].cpu = i % ncpu;
		k->ifindex = 1;
		k->ip_version = 4;
		k->protocol = 17;
		k->src_addr[10] = k->src_addr[11] = 0xff;
		k->src_addr[12] = 10;
		k->src_addr[13] = (uint8_t)(i >> 16);
		k->src_addr[14] = (uint8_t)(i >> 8);
		k->src_addr[15] = (uint8_t)i;
		k->dst_addr[10] = k->dst_addr[11] = 0xff;
		k->dst_addr[12] = 10;
		k->dst_addr[15] = 1;
		k->src_port = (uint16_t)(1024 + i % 60000);
		k->dst_port = 53;
		v->packets = 10;
		v->octets = 640;
		v->first_ns = v->last_ns = t;
		v->min_ttl = v->max_ttl = 64;
		v->min_len = v->max_len = 64;
	}
}

static void fill(int fd, uint32_t n, struct nsflow_slot_key *keys, struct nsflow_value *vals)
{
	for (uint32_t i = 0; i < n; i += BATCH) {
		__u32 cnt = n - i < BATCH ? n - i : BATCH;

		if (bpf_map_update_batch(fd, &keys[i], &vals[i], &cnt, NULL))
			die("fill the epoch table", errno);
	}
}

/* The table programs count into now (slot 0 of nsflow_epoch). */
static int current_table(struct nsflow_bpf *s)
{
	__u32 zero = 0, id = 0;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_map_lookup_elem(bpf_map__fd(s->maps.nsflow_epoch), &zero, &id))
		die("read nsflow_epoch", errno);
	bpf_obj_get_info_by_fd(bpf_map__fd(s->maps.nsflow_flows_0), &info, &len);
	return info.id == id ? bpf_map__fd(s->maps.nsflow_flows_0)
			     : bpf_map__fd(s->maps.nsflow_flows_1);
}

/* Every map but the agent's region; the region apart in *region. */
static uint64_t kernel_bytes(struct nsflow_bpf *s, uint64_t *region)
{
	struct bpf_map *m;
	uint64_t sum = 0;

	bpf_object__for_each_map(m, s->obj)
	{
		if (m == s->maps.nsflow_cache)
			*region = memlock(bpf_map__fd(m));
		else
			sum += memlock(bpf_map__fd(m));
	}
	return sum;
}

static void bench_kernel(struct nsflow_slot_key *keys, struct nsflow_value *vals)
{
	struct nsflow_config cb, cs;
	struct nsflow_bpf *sb, *ss;
	struct bpf_map *m;
	uint64_t empty, live, region = 0, t0b, t0s, tl, old1;
	double per_bucket, per_live, table_fixed, others, at[3];
	const int cs_at[3] = { 2, 64, 128 };
	int fd;

	make_config(&cb, E_BIG);
	make_config(&cs, E_SMALL);
	sb = load(&cb);
	ss = load(&cs);
	empty = kernel_bytes(sb, &region);
	t0b = memlock(bpf_map__fd(sb->maps.nsflow_flows_0));
	t0s = memlock(bpf_map__fd(ss->maps.nsflow_flows_0));
	fd = current_table(sb);
	fill(fd, LIVE, keys, vals);
	live = kernel_bytes(sb, &region);
	tl = memlock(fd);

	printf("kernel memory, --cache-entries %u, %d possible CPUs, %u live flows (one CPU's "
	       "entry each) in the current epoch table; fdinfo memlock per map:\n",
	       E_BIG, ncpu, LIVE);
	bpf_object__for_each_map(m, sb->obj)
	{
		if (m == sb->maps.nsflow_cache)
			continue;
		printf("  %-22s %12llu B\n", bpf_map__name(m),
		       (unsigned long long)memlock(bpf_map__fd(m)));
	}
	printf("  %-22s %12llu B (0 flows: %llu B)\n", "total", (unsigned long long)live,
	       (unsigned long long)empty);
	printf("  %-22s %12llu B (the agent's region, counted under agent memory)\n",
	       "[nsflow_cache]", (unsigned long long)region);
	printf("  per flow of --cache-entries: %.1f B [goal <= %.0f: %s]; per live flow: %.1f B "
	       "(all of it / %u)\n",
	       (double)live / E_BIG, GOAL_BYTES, verdict((double)live / E_BIG), (double)live / LIVE,
	       LIVE);

	/* the formula: one table costs table_fixed + per_bucket x pow2(E) + per_live x L */
	per_live = (double)(tl - t0b) / LIVE;
	per_bucket = (double)(t0b - t0s) / (double)(pow2_ceil(E_BIG) - pow2_ceil(E_SMALL));
	table_fixed = (double)t0b - per_bucket * pow2_ceil(E_BIG);
	others = (double)empty - 2.0 * t0b;
	printf("  formula, from memlock at 0 and %u flows and at E = %u and %u (other maps: %.0f "
	       "B at E = %u, %.0f B at E = %u):\n"
	       "    kernel(C, E, L) = %.0f + %zu x C + 2 x %.1f x pow2(E) + %.1f x L bytes\n"
	       "    C-dependent (kernel source, not measurable on one machine): %zu B per CPU in "
	       "all, hash-map bucket locks, nsflow_config's extra elements, the per-CPU counters;"
	       "\n    no per-bucket or per-flow term depends on C, but a flow counted on k CPUs is "
	       "k entries (k x %.1f B). Not in memlock: the allocator's per-CPU free lists.\n",
	       LIVE, E_BIG, E_SMALL, others, E_BIG, (double)kernel_bytes(ss, &region) - 2.0 * t0s,
	       E_SMALL, others + 2.0 * table_fixed - (double)PER_CPU_BYTES * ncpu, PER_CPU_BYTES,
	       per_bucket, per_live, PER_CPU_BYTES, per_live);
	printf("  per live flow (the part that grows with flows; nothing is preallocated for it): "
	       "%.1f B [goal <= %.0f: %s]\n",
	       per_live, GOAL_BYTES, verdict(per_live));
	for (int i = 0; i < 3; i++) {
		double fixed = others + 2.0 * (table_fixed + per_bucket * pow2_ceil(E_BIG)) +
			       (double)PER_CPU_BYTES * (cs_at[i] - ncpu);

		at[i] = fixed + per_live * LIVE;
		printf("    C = %3d: %.1f MiB with %u live flows = %.1f B per flow of "
		       "--cache-entries [goal <= %.0f: %s]; table full (L = E): %.1f B per flow "
		       "[%s]\n",
		       cs_at[i], at[i] / 1048576.0, LIVE, at[i] / E_BIG, GOAL_BYTES,
		       verdict(at[i] / E_BIG), fixed / E_BIG + per_live,
		       verdict(fixed / E_BIG + per_live));
	}
	printf("    (while a retired table is drained, its flows and the new epoch's live side "
	       "by side: up to 2 x %.1f B per flow for the length of a drain)\n",
	       per_live);

	/* the previous layout: one preallocated PERCPU_HASH of E flows per epoch */
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "bench_old", sizeof(struct nsflow_key),
			    sizeof(struct nsflow_value), E_BIG, NULL);
	if (fd < 0)
		die("create a PERCPU_HASH of the previous layout", errno);
	old1 = memlock(fd);
	close(fd);
	printf("  previous layout (PERCPU_HASH, preallocated, 2 epochs), measured at C = %d: 2 x "
	       "%llu B = %.1f MiB, %.1f B per flow of --cache-entries (new layout, same C: %.1f "
	       "B);\n    its formula, value x C per entry: C = 64: %.1f MiB, C = 128: %.1f MiB "
	       "(%.0f B per flow; new layout: %.1f B)\n",
	       ncpu, (unsigned long long)old1, 2.0 * old1 / 1048576.0, 2.0 * old1 / E_BIG,
	       at[0] / E_BIG,
	       2.0 * (old1 + (double)E_BIG * sizeof(struct nsflow_value) * (64 - ncpu)) / 1048576.0,
	       2.0 * (old1 + (double)E_BIG * sizeof(struct nsflow_value) * (128 - ncpu)) /
		       1048576.0,
	       2.0 * (old1 + (double)E_BIG * sizeof(struct nsflow_value) * (128 - ncpu)) / E_BIG,
	       at[2] / E_BIG);
	nsflow_bpf__destroy(ss);
	nsflow_bpf__destroy(sb);
	config_free(&cs);
	config_free(&cb);
}

static void bench_agent_rss(struct nsflow_slot_key *keys, struct nsflow_value *vals)
{
	struct nsflow_config cfg;
	struct agent_memory am;
	struct nsflow_bpf *s;
	struct agent a;
	uint64_t r0, r1, r2;
	char err[256];
	double per;

	make_config(&cfg, E_BIG);
	s = load(&cfg);
	if (agent_init(&a, &cfg, false, err, sizeof(err))) {
		fprintf(stderr, "bench_memory: agent: %s\n", err);
		exit(1);
	}
	r0 = rss_bytes();
	if (agent_bind(&a, s, err, sizeof(err))) {
		fprintf(stderr, "bench_memory: agent: %s\n", err);
		exit(1);
	}
	agent_recover(&a, agent_clock_ns());
	r1 = rss_bytes();
	fill(a.ep.map_fd[a.ep.cur], E_BIG, keys, vals);
	agent_poll(&a, agent_clock_ns());
	r2 = rss_bytes();
	agent_memory(&a, &am);
	if (flow_cache_count(a.cache) != E_BIG)
		fprintf(stderr, "bench_memory: %zu flows in the cache, want %u\n",
			flow_cache_count(a.cache), E_BIG);
	per = (double)(r2 - r0) / E_BIG;
	printf("agent memory, %zu flows cached (--cache-entries %u): RSS %.1f MiB before "
	       "agent_bind, %.1f MiB bound (region mapped), %.1f MiB with the flows merged\n"
	       "  per cached flow: %.1f B from before agent_bind [goal <= %.0f: %s] (%.1f B of it "
	       "after the bind)\n"
	       "  region %llu B (%.1f B per entry; the kernel's memory, mapped: counted here, "
	       "not above), private index %llu B (%.1f B per entry)\n",
	       flow_cache_count(a.cache), E_BIG, r0 / 1048576.0, r1 / 1048576.0, r2 / 1048576.0,
	       per, GOAL_BYTES, verdict(per), (double)(r2 - r1) / E_BIG,
	       (unsigned long long)am.region, (double)am.region / E_BIG,
	       (unsigned long long)am.index, (double)am.index / E_BIG);
	agent_close(&a);
	nsflow_bpf__destroy(s);
	config_free(&cfg);
}

int main(void)
{
	struct nsflow_slot_key *keys;
	struct nsflow_value *vals;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		die("possible CPUs", -ncpu);
	/* made (and resident) before any RSS is read */
	make_slots(E_BIG, &keys, &vals);
	bench_kernel(keys, vals);
	bench_agent_rss(keys, vals);
	free(keys);
	free(vals);
	return 0;
}
