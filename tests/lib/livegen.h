/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Live traffic for end-to-end tests and benchmarks: build/livegen.bpf.o run with
 * BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES on the sending end of a veth pair. Each
 * frame leaves by XDP_TX towards the peer, where nsflow_xdp runs; the source port steps through
 * `flows` values so that frame number i belongs to flow i % flows.
 *
 * What reached the receiving end is read from its veth counters: rx_packets counts every frame
 * the receiving NAPI took off the ring, and the XDP program (nsflow's) runs on each of those
 * exactly once; frames the ring could not take are in the receiver's rx_dropped, never in
 * rx_packets. So sent = delivered + dropped, and delivered is what nsflow must account for.
 *
 * The receiving veth must have its NAPI on, which an XDP program attached in native mode does
 * (nsflow's, or floor_xdp): without it the sender's XDP_TX frames are dropped before any
 * counter of either end sees them, and livegen_send_pair() times out.
 *
 * Also here: reading back what the agent exported as JSON lines, and tallying the generator's
 * flows in it.
 */
#ifndef NSFLOW_TEST_LIVEGEN_H
#define NSFLOW_TEST_LIVEGEN_H

#include <stddef.h>
#include <stdint.h>
#include "netns.h"

struct livegen_opts {
	int family;	    /* AF_INET (default) or AF_INET6 */
	uint8_t proto;	    /* IPPROTO_UDP (default) or IPPROTO_TCP */
	const char *src;    /* default 198.18.0.1 / 2001:db8::1 (benchmarking, documentation) */
	const char *dst;    /* default 198.18.0.2 / 2001:db8::2 */
	uint16_t base_port; /* source ports base_port .. base_port + flows - 1 (default 10000) */
	uint16_t dst_port;  /* default 9 (discard) */
	uint32_t flows;	    /* default 1; base_port + flows must stay within 65536 */
	uint16_t ip_len;    /* IP packet length (octets nsflow counts per packet); default: the
			     * headers + 18 bytes */
	uint8_t tcp_flags;  /* TCP only; default ACK */
	uint8_t src_mac[6]; /* default: the pair's tx_mac when sent with livegen_send_pair() */
	uint8_t dst_mac[6]; /* default: the pair's rx_mac */
};

struct livegen;

/* Builds the template frame and loads the generator (not yet bound to a pair's MACs). */
int livegen_open(struct livegen **g, const struct livegen_opts *o);
void livegen_close(struct livegen *g);

/* The template (source port of flow 0). */
const uint8_t *livegen_frame(const struct livegen *g, size_t *len);
const struct livegen_opts *livegen_opts(const struct livegen *g);
/* Frames run so far, over every livegen_send*(): the next frame belongs to flow sent % flows. */
uint64_t livegen_sent(const struct livegen *g);
/* Frames of flow i among the first `total` the generator sent. */
uint64_t livegen_flow_share(const struct livegen *g, uint64_t total, uint32_t flow);

/*
 * Runs n frames out of ifindex of namespace ns (NULL: this one), batch frames per kernel batch
 * (0: the kernel's default, 64). Returns 0 or -errno; *ns_taken (may be NULL) is the time the
 * run took, in ns.
 */
int livegen_send(struct livegen *g, const char *ns, int ifindex, uint64_t n, uint32_t batch,
		 uint64_t *ns_taken);

struct livegen_delivery {
	uint64_t sent;	    /* frames the generator ran */
	uint64_t delivered; /* receiver's rx_packets over the run: what its XDP program saw */
	uint64_t dropped;   /* receiver's rx_dropped over the run (ring full) */
	uint64_t ns;	    /* time the generator ran */
	uint64_t settle_ms; /* how long the counters took to add up after the run */
};

/*
 * Sends n frames from p->tx to p->rx (the template's MACs set to the pair's, unless the options
 * gave others) and waits at most settle_ms until the receiver's counters account for all of
 * them (delivered + dropped == sent). Returns 0, or -ETIMEDOUT when they did not add up (*d
 * then holds what was seen), or another -errno.
 */
int livegen_send_pair(struct livegen *g, const struct netns_pair *p, uint64_t n, uint32_t batch,
		      int settle_ms, struct livegen_delivery *d);

/* One flow record of a JSON-lines export (`-c json:PATH`). */
struct lg_record {
	uint8_t src[16]; /* IPv4 v4-mapped, as the datapath keys it */
	uint8_t dst[16];
	int ip_version;
	uint8_t proto;
	uint16_t sport, dport;
	uint64_t packets, octets;
	uint32_t in_if, out_if;
	int direction;
	int reason;
};

struct lg_records {
	struct lg_record *r;
	size_t n;
	size_t bad_lines; /* lines that were not a flow record */
};

/* Reads every record of path (appends to out). 0 or -errno. */
int lg_read_json(const char *path, struct lg_records *out);
/* Parses one JSON line; 0 or -EINVAL. */
int lg_parse_json(const char *line, struct lg_record *r);
void lg_records_free(struct lg_records *rs);
/* Does r key the same flow as k, ifindex and direction aside? */
int lg_same_key(const struct lg_record *r, const struct lg_record *k);
/* "proto src:sport > dst:dport" for messages. */
void lg_key_str(const struct lg_record *r, char *buf, size_t len);

struct livegen_tally {
	uint64_t packets; /* over the generator's flows */
	uint64_t octets;
	uint64_t records;	/* records of the generator's flows */
	uint64_t other_records; /* records of anything else */
	uint64_t other_packets;
	uint64_t bad_octets;	/* records whose octets != packets x ip_len */
	uint64_t *flow_packets; /* per flow, indexed by source port - base_port */
	uint64_t *flow_octets;
};

/* Sums the generator's flows in rs. Free with livegen_tally_free(). */
int livegen_tally(const struct livegen *g, const struct lg_records *rs, struct livegen_tally *t);
void livegen_tally_free(struct livegen_tally *t);

#endif
