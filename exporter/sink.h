/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Export sinks: where flow records go. The agent opens one sink per collector URL and hands
 * it batches of expired records; the sink encodes (NetFlow v5, v9, IPFIX, JSON lines, text)
 * and sends (UDP, TCP, file, stdout). Nothing here blocks: a collector that is down costs
 * counted records, never a stalled drain loop.
 *
 * URLs:
 *   v5://HOST:PORT  v9://HOST:PORT  ipfix://HOST:PORT     UDP
 *   ipfix+tcp://HOST:PORT                                 TCP, reconnecting, bounded queue
 *   file:PATH                                             IPFIX file (RFC 5655)
 *   json:PATH | json:-                                    one JSON object per record per line
 *   text:PATH | text:-                                    one readable line per flow
 * HOST is a name, an IPv4 address or [IPv6].
 */
#ifndef NSFLOW_SINK_H
#define NSFLOW_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* What the agent uses when the user names no collector */
#define NS_SINK_DEFAULT_URL "text:-"

struct ns_export_opts {
	/* IPFIX observation domain id / v9 source id; default 1 */
	uint32_t observation_domain;
	/* resend templates+options every N export packets; default 20 */
	uint32_t template_refresh_packets;
	uint32_t template_refresh_secs; /* and every T seconds; default 600 */
	uint32_t mtu;			/* max UDP payload bytes; default 1400 */
	const char *source_addr;	/* NULL or an address to bind to */
	uint16_t source_port;		/* 0 = any */
	/* ipfix+tcp: records queued while disconnected; default 65536 */
	uint32_t tcp_queue_max;
	uint8_t dscp; /* DSCP of export packets (0..63; NetStream `export dscp`); default 0 */
	uint8_t counter_bits; /* 32: counters in 4 bytes in v9/IPFIX templates; 0 or 64: 8 */
};

void ns_export_opts_default(struct ns_export_opts *o);

/* selectorAlgorithm (304), PSAMP (RFC 5477 8.2.1) */
enum ns_sampler_algorithm {
	NS_SAMPLER_COUNT = 1,  /* systematic count-based: 1 in N */
	NS_SAMPLER_TIME = 2,   /* systematic time-based: the first packet of each interval */
	NS_SAMPLER_RANDOM = 3, /* random n-out-of-N */
};

struct ns_sampler_info {
	uint16_t selector_id;
	uint8_t algorithm; /* enum ns_sampler_algorithm */
	uint32_t interval; /* N, or ms for time */
	/* packets each packet taken stands for, what collectors scale by: N, or for a time-based
	 * sampler what the agent measured; 0 while unknown (the sampler is not announced) */
	uint32_t rate;
	/* the exporter's default sampler: its rate also goes out alone as samplingInterval (34),
	 * which collectors that take no selector apply to records of any sampler */
	uint8_t global;
};

struct ns_iface_info {
	uint32_t ifindex;
	char name[64];
	char description[128];
};

struct ns_vrf_info {
	uint32_t id;   /* ingressVRFID */
	char name[32]; /* VRFname */
};

/* owned by the agent, read by sinks whenever they send options data; the agent updates it */
struct ns_export_context {
	uint64_t boot_ms; /* wall-clock ms of system boot: v9/v5 sysUptime = now_ms - boot_ms */
	const struct ns_sampler_info *samplers;
	size_t n_samplers;
	const struct ns_iface_info *ifaces;
	size_t n_ifaces;
	const struct ns_vrf_info *vrfs; /* VRF names (options scoped by ingressVRFID) */
	size_t n_vrfs;
	uint64_t not_sent_flows, not_sent_packets, not_sent_octets; /* reliability statistics */
	/* bumped by the agent when what the options data say changed: every sink sends them
	 * again before its next records */
	uint32_t options_gen;
};

/*
 * up: the transport takes what it is given. down: a network collector does not answer
 * (unreachable, refused, stalled, reconnecting). error: a local write fails (disk full, I/O).
 */
enum ns_sink_state { NS_SINK_UP, NS_SINK_DOWN, NS_SINK_ERROR };

const char *ns_sink_state_name(enum ns_sink_state st);

/*
 * A record counts as sent only once its transport took it for good: a UDP datagram that drew
 * no ICMP error before the next flush, bytes a TCP socket accepted, bytes written (and, for a
 * regular file, synced) to a file. Everything else given to the sink counts as dropped.
 */
struct ns_sink_stats {
	uint64_t messages_sent, records_sent, send_errors;
	uint64_t bytes_sent;		 /* of the messages counted in messages_sent */
	uint64_t records_dropped;	 /* queue overflow, send or write failure */
	uint64_t records_not_exportable; /* e.g. non-IPv4 in v5 */
	uint64_t templates_sent, reconnects;
	enum ns_sink_state state;
	int connected;		 /* state == NS_SINK_UP */
	int last_errno;		 /* of the latest failure (0: none yet); kept after recovery */
	uint64_t state_since_ms; /* when the state last changed */
};

struct ns_sink;

/*
 * Open the sink for @url. @ctx must outlive the sink. On failure returns -errno and writes a
 * message naming the URL and the problem into @err.
 */
int ns_sink_open(struct ns_sink **out, const char *url, const struct ns_export_opts *opts,
		 const struct ns_export_context *ctx, char *err, size_t errlen);
int ns_sink_write(struct ns_sink *s, const struct ns_record *recs, size_t n, uint64_t now_ms);
/* periodic: template/options refresh, TCP reconnect with backoff, flush */
int ns_sink_tick(struct ns_sink *s, uint64_t now_ms);
/* send anything buffered now */
int ns_sink_flush(struct ns_sink *s, uint64_t now_ms);
void ns_sink_get_stats(const struct ns_sink *s, struct ns_sink_stats *st);
/* The options (VRF names ...) changed: send them, and the templates, with the next message */
void ns_sink_refresh(struct ns_sink *s);

/*
 * For a caller that must know, across its own death, which records reached the transport: it
 * writes records, then flushes, and fn is called once per flush right before what was written
 * since the last flush leaves. A UDP sink then holds its messages back until the flush and sends
 * them all in one system call after fn, so that a process killed at any instant has either sent
 * none of them (fn not yet called) or all of them. Other sinks call fn before their flush.
 */
typedef void (*ns_commit_fn)(void *arg);
void ns_sink_set_commit(struct ns_sink *s, ns_commit_fn fn, void *arg);
const char *ns_sink_url(const struct ns_sink *s);
/*
 * Before closing: flush, then give the transport up to @timeout_ms to take what is queued (a
 * TCP collector catching up). What is still queued after that counts as dropped; returns how
 * many records that was.
 */
uint64_t ns_sink_finish(struct ns_sink *s, uint64_t now_ms, int timeout_ms);
/* flushes first */
void ns_sink_close(struct ns_sink *s);

#endif /* NSFLOW_SINK_H */
