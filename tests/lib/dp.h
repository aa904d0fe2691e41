/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Datapath test harness: load the real object, run packets through BPF_PROG_TEST_RUN, read
 * the maps back merged over CPUs. */
#ifndef NSFLOW_TEST_DP_H
#define NSFLOW_TEST_DP_H

#include <stddef.h>
#include <stdint.h>
#include "nsflow.h"
#include "nsflow.skel.h"

struct dp_flow {
	struct nsflow_key k;
	struct nsflow_value v; /* summed over CPUs */
};

struct dp_flows {
	struct dp_flow *f;
	size_t n;
	size_t *slot; /* open-addressed index into f (+1; 0 is empty), nslot a power of two */
	size_t nslot;
};

/* BPF_PROG_TEST_RUN runs XDP and TC programs as if on the loopback device */
#define DP_IFINDEX 1

enum dp_hook { DP_XDP, DP_TC_INGRESS, DP_TC_EGRESS };

struct nsflow_bpf *dp_open(void);
/* Runs one frame through a hook `repeat` times; returns the program's return value. */
int dp_run(struct nsflow_bpf *s, enum dp_hook hook, const void *frame, size_t len, int repeat);
/* Reads (without deleting) every flow in the map of the current epoch. */
void dp_read_flows(struct nsflow_bpf *s, struct dp_flows *out);
void dp_flows_free(struct dp_flows *f);
/* Finds the one flow matching a predicate-free lookup by exact key. */
const struct dp_flow *dp_find(const struct dp_flows *f, const struct nsflow_key *k);
void dp_counters(struct nsflow_bpf *s, struct nsflow_counters *out);
/* Writes settings for (ifindex, direction). */
void dp_set_cfg(struct nsflow_bpf *s, uint32_t ifindex, uint32_t dir, const struct nsflow_cfg *c);
/* Reads back what the datapath holds for it, with the sampler's state; 0 or -1 */
int dp_get_cfg(struct nsflow_bpf *s, uint32_t ifindex, uint32_t dir, struct nsflow_cfg *c);
/* A key for an IPv4 / IPv6 five-tuple seen on ifindex 0 ingress (what test runs produce). */
struct nsflow_key dp_key4(uint8_t proto, const char *src, const char *dst, uint16_t sport,
			  uint16_t dport);
struct nsflow_key dp_key6(uint8_t proto, const char *src, const char *dst, uint16_t sport,
			  uint16_t dport);
const char *dp_counter_name(int idx);
/* Prints a key for failing assertions. */
void dp_key_str(const struct nsflow_key *k, char *buf, size_t len);

#endif
