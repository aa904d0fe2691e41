/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's pipeline, shared by `run` and `replay`: the kernel's flow maps drained into the
 * flow cache, aged, turned into records, handed to every sink.
 */
#ifndef NSFLOW_AGENT_H
#define NSFLOW_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "epoch.h"
#include "flow_cache.h"
#include "sink.h"
#include "nsflow.skel.h"

#define AGENT_BATCH	 1024
#define AGENT_MAX_IFACES 64

struct agent {
	struct nsflow_config *cfg;
	struct nsflow_bpf *skel;
	struct nsflow_epoch ep;
	struct flow_cache *cache;
	struct ring_buffer *rb;
	struct ns_sink **sinks;
	size_t n_sinks;
	struct ns_export_opts xopts;
	struct ns_export_context ctx;
	struct ns_sampler_info samplers[AGENT_MAX_IFACES * 2 + 1];
	struct ns_iface_info ifaces[AGENT_MAX_IFACES];
	struct ns_record batch[AGENT_BATCH];
	size_t n_batch;
	int64_t boot_to_wall_ns; /* kernel time + this = Unix time */
	uint64_t now_ns;	 /* kernel time of the poll in progress */
	bool replay;		 /* time from the capture; the map is drained in place */
	uint64_t polls, drained_flows, events;
	/* the cache mirrored into the pinned nsflow_saved map (see agent_persist) */
	int saved_fd, state_fd;
	uint64_t serial;	  /* epochs retired so far */
	struct nsflow_key *dirty; /* flows merged or exported since the last save */
	struct nsflow_saved *dirty_vals;
	size_t n_dirty, cap_dirty;
	bool recovering;		/* merging a killed agent's half-drained epoch */
	struct nsflow_counters dp;	/* datapath counters, summed over CPUs */
	struct nsflow_counters dp_base; /* subtracted by `reset stats` */
};

/* Opens cache and sinks from the settings (everything that can fail on a bad setting). */
int agent_init(struct agent *a, struct nsflow_config *cfg, bool replay, char *err, size_t errlen);
/* Binds to a loaded datapath object: epoch maps, ring buffer, counters. */
int agent_bind(struct agent *a, struct nsflow_bpf *skel, char *err, size_t errlen);
/* Writes one interface-and-direction's settings where the datapath looks for them. */
int agent_set_cfg(struct nsflow_bpf *skel, uint32_t ifindex, uint32_t dir,
		  const struct nsflow_cfg *v);
/* Writes each interface's settings into the datapath's config map. */
int agent_write_config(struct agent *a);
/* One poll: drain the kernel's flows (switching epochs unless replaying), age, export. */
int agent_poll(struct agent *a, uint64_t now_ns);
/* Restores a killed agent's cache from the pinned maps and finishes the drain it was in. */
void agent_recover(struct agent *a, uint64_t now_ns);
/* Age out every flow now with the given reason and send everything. */
void agent_flush_all(struct agent *a, uint8_t reason);
/* Reads the datapath counters into a->dp. */
void agent_read_counters(struct agent *a);
void agent_close(struct agent *a);
/* Kernel time (CLOCK_MONOTONIC ns), what the datapath stamps packets with. */
uint64_t agent_clock_ns(void);

#endif
