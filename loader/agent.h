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
#include "evring.h"
#include "agg.h"
#include "agent_vpn.h"
#include "flow_cache.h"
#include "pcache.h"
#include "sampler.h"
#include "sink.h"
#include "nsflow.skel.h"

#define AGENT_BATCH	 1024
#define AGENT_MAX_IFACES 64
/* replayed packets run as if on the loopback device: its settings are the replay's */
#define AGENT_REPLAY_IFINDEX 1
#define AGENT_MAX_VRFS	     (VPN_MAX + 64)

/* Memory in use, for `show stats` and the metrics (bytes). */
struct agent_memory {
	uint64_t kernel;      /* the datapath's maps, as the kernel accounts them (memlock) */
	uint64_t region;      /* the flow cache region (a kernel array the agent maps) */
	uint64_t index;	      /* the cache's private index */
	uint64_t rss;	      /* the agent's resident memory */
	uint64_t aggregation; /* the aggregation caches and route tables (allocated) */
	uint64_t live_slots;  /* entries in the current epoch table */
};

struct agent;
struct agg_cache;
struct route_table;

/* What a collector's commit hook needs to find its outbox progress. */
struct agent_sink_ref {
	struct agent *a;
	int slot;
	/* what collectors_watch() last reported */
	int watched;
	enum ns_sink_state seen_state;
	uint64_t seen_dropped, since_ms, report_ms;
};

/* The last route lookups of the aggregation caches (agent_agg.c), two slots */
struct agent_route_memo {
	bool valid, found;
	uint8_t addr[16];
	struct agg_route r;
};

struct agent {
	struct nsflow_config *cfg;
	char source_host[64]; /* --source-address without its port */
	struct nsflow_bpf *skel;
	struct nsflow_epoch ep;
	struct flow_cache *cache;
	struct evring ring;
	struct pcache pc; /* the cache's entries, drain batch and outbox */
	void *region;	  /* what pc lays out: the mapped nsflow_cache, or heap for replay */
	size_t region_bytes;
	bool region_mapped;
	bool took_over; /* the region held a previous agent's state */
	struct ns_sink **sinks;
	struct agent_sink_ref *sink_refs;
	size_t n_sinks;
	struct ns_export_opts xopts;
	struct ns_export_context ctx;
	struct ns_sampler_info samplers[AGENT_MAX_IFACES * 2 + 1];
	struct sampler_meter sampler_meters[AGENT_MAX_IFACES * 2 + 1]; /* sampler.h */
	struct ns_iface_info ifaces[AGENT_MAX_IFACES];
	int64_t boot_to_wall_ns; /* kernel time + this = Unix time */
	uint64_t now_ns;	 /* kernel time of the poll in progress */
	bool replay;		 /* time from the capture; the map is drained in place */
	uint64_t polls, drained_flows, events, outbox_full;
	uint64_t last_poll_ns;	   /* how long the last poll took */
	uint64_t last_poll_end_ns; /* kernel time the last poll ended (0: none yet) */
	/* aggregation caches (agent_agg.h) and the records they exported this poll */
	struct agg_cache *aggs[CONFIG_MAX_AGGS + 2 * NS_FLEX_MAX]; /* modes, then records */
	size_t n_aggs;
	struct ns_record *agg_out;
	size_t agg_out_n, agg_out_cap;
	uint64_t agg_records, agg_lost; /* sent to the collectors; lost for want of memory */
	/* routing information for them: --routes, and the kernel's table (routes.h) */
	struct route_table *routes, *fib;
	int64_t routes_mtime_ns;
	uint64_t fib_loaded_ns, routes_reloads;
	struct agent_route_memo route_memo[2];
	int route_memo_next;
	/* VRFs of interfaces, the VRF names collectors get, traffic per VRF (agent_vpn.h) */
	struct vrf_track vrf;
	bool vrf_open;
	struct ns_vrf_info vrf_names[AGENT_MAX_VRFS];
	struct agent_vrf_stat vrf_stats[AGENT_VRF_STATS];
	size_t n_vrf_stats;
	struct nsflow_counters dp;	/* datapath counters, summed over CPUs */
	struct nsflow_counters dp_base; /* subtracted by `reset stats` */
};

/* Opens the sinks from the settings (everything that can fail on a bad setting). */
int agent_init(struct agent *a, struct nsflow_config *cfg, bool replay, char *err, size_t errlen);
/* Sizes the datapath object's maps for the settings, before it is loaded. */
void agent_size_maps(struct nsflow_bpf *skel, const struct nsflow_config *cfg);
/* Binds to a loaded datapath object: epoch tables, ring buffer, counters, and the flow cache
 * in its region (a previous agent's state in it is brought back to its last commit). */
int agent_bind(struct agent *a, struct nsflow_bpf *skel, char *err, size_t errlen);
/* Writes one interface-and-direction's settings where the datapath looks for them. */
int agent_set_cfg(struct nsflow_bpf *skel, uint32_t ifindex, uint32_t dir,
		  const struct nsflow_cfg *v);
/* Writes each interface's settings into the datapath's config map. */
int agent_write_config(struct agent *a);
/* The same for the config's interface slot i (one that appeared at run time). */
int agent_write_iface_config(struct agent *a, size_t i);
/* The interface names of the options templates again, after slots were added or renamed. */
void agent_ifaces_changed(struct agent *a);
/* One poll: drain the kernel's flows (switching epochs unless replaying), age, export. */
int agent_poll(struct agent *a, uint64_t now_ns);
/* Finishes what a killed agent left: its drain batch, its outbox, its retired table. */
void agent_recover(struct agent *a, uint64_t now_ns);
/* Merges the ring-buffer events waiting (packets that found the epoch table full). */
void agent_consume_events(struct agent *a);
/* Age out every flow now with the given reason and send everything. */
void agent_flush_all(struct agent *a, uint8_t reason);
/* Reads the datapath counters into a->dp. */
void agent_read_counters(struct agent *a);
/* Memory in use now. */
void agent_memory(struct agent *a, struct agent_memory *m);
void agent_close(struct agent *a);
/* Unix time (ms) of the poll in progress: what records and collectors are stamped with. */
uint64_t agent_wall_ms(const struct agent *a);
/* Kernel time (CLOCK_MONOTONIC ns), what the datapath stamps packets with. */
uint64_t agent_clock_ns(void);

#endif
