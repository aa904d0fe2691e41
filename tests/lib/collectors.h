/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * End-to-end export tests: real collectors (nfcapd/nfdump, pmacct's nfacctd, tshark) and our
 * own UDP/TCP listeners receive what `nsflow replay` or `nsflow run` sends, and their view of
 * the flows is compared with what tshark reads from the same capture. Everything here waits
 * on a condition with a deadline, never on a fixed sleep.
 */
#ifndef NSFLOW_TEST_COLLECTORS_H
#define NSFLOW_TEST_COLLECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "exp_decode.h"

/* A flow as collectors report it: the five-tuple, summed over every record of it. */
struct coll_key {
	uint8_t src[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
	uint8_t dst[16];
	uint8_t proto;
	uint16_t sport; /* 0 for ICMP */
	uint16_t dport; /* ICMP / ICMPv6: type << 8 | code */
};

#define COLL_MPLS_MAX 3

struct coll_flow {
	struct coll_key k;
	int ip_version;
	uint64_t packets, bytes;
	unsigned int records;
	/* label values (20 bits), top first; n_mpls -1 when the records disagree */
	int n_mpls;
	uint32_t mpls[COLL_MPLS_MAX];
	/* earliest first packet and latest last packet over the records, Unix ms; 0 unknown */
	uint64_t first_ms, last_ms;
};

struct coll_flows {
	struct coll_flow *f;
	size_t n, cap;
};

/* What the caller asks coll_flows_diff() to compare besides packets and bytes. */
enum {
	COLL_CMP_MPLS = 1,  /* label stacks, where @want knows one */
	COLL_CMP_TIMES = 2, /* first and last packet times, to the millisecond */
};

int coll_key_set(struct coll_key *k, const char *src, const char *dst, int proto, int sport,
		 int dport);
void coll_key_str(const struct coll_key *k, char *buf, size_t len);
/* Adds one record's counters to the flow of @k, creating it; returns the flow. */
struct coll_flow *coll_flows_add(struct coll_flows *s, const struct coll_key *k, int ip_version,
				 uint64_t packets, uint64_t bytes);
/* Records the label stack of a record of @f; a different stack than before marks it mixed. */
void coll_flow_mpls(struct coll_flow *f, const uint32_t *labels, int n);
void coll_flow_times(struct coll_flow *f, uint64_t first_ms, uint64_t last_ms);
const struct coll_flow *coll_flows_find(const struct coll_flows *s, const struct coll_key *k);
void coll_flows_totals(const struct coll_flows *s, uint64_t *packets, uint64_t *bytes);
/* Copies the flows of one IP version (v5 carries only IPv4). */
void coll_flows_only_version(const struct coll_flows *in, int ip_version, struct coll_flows *out);
/*
 * 0 when @got holds exactly the five-tuples of @want with the same packets and bytes (and
 * what @cmp adds); otherwise -1 and the first difference in @why, prefixed by @who.
 */
int coll_flows_diff(const struct coll_flows *want, const struct coll_flows *got, unsigned int cmp,
		    const char *who, char *why, size_t len);
void coll_flows_free(struct coll_flows *s);

/* What tshark reads from a capture: one flow per five-tuple, bytes from the IP header. */
struct coll_expect_stats {
	unsigned int frames;  /* frames in the capture */
	unsigned int ip;      /* frames counted into a flow */
	unsigned int skipped; /* IP frames whose transport tshark names but we do not know */
	unsigned int damaged; /* frames tshark calls malformed */
};

int coll_tshark_flows(const char *capture, struct coll_flows *out, struct coll_expect_stats *st);

/* The same flows as the collectors saw them. */
int coll_json_sink_flows(const char *path, struct coll_flows *out);  /* nsflow's json: sink */
int coll_nfdump_flows(const char *dir, struct coll_flows *out);	     /* nfdump -R dir -o json */
int coll_pmacct_csv_flows(const char *path, struct coll_flows *out); /* print plugin, csv */
/* One data record the strict decoder hands over (options records are ignored). */
void coll_dec_record_flow(const struct ns_dec_record *r, struct coll_flows *out);

/* The value of "key" in one JSON object, unquoted, into @out; -ENOENT when absent. */
int coll_json_value(const char *obj, const char *key, char *out, size_t len);

/* Child processes, their output in a log file. */
struct coll_proc {
	pid_t pid;
	int status; /* wait status once reaped */
	char log[256];
};

int coll_spawn(struct coll_proc *p, const char *log, char *const argv[]);
/* Sends @sig and reaps within @timeout_ms, else SIGKILL; the exit code, 128+signal, or -1. */
int coll_stop(struct coll_proc *p, int sig, int timeout_ms);
bool coll_alive(struct coll_proc *p);
/* Waits until the log holds @needle; 0, or -ETIMEDOUT. */
int coll_wait_log(const struct coll_proc *p, const char *needle, int timeout_ms);
/* Runs a shell command, its stdout into *out (malloc'd, may be NULL); the exit code. */
int coll_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The whole file, NUL terminated, malloc'd; NULL if it cannot be read. */
char *coll_slurp(const char *path, size_t *len);

/* Loopback ports: a free one by trying to bind it, and the kernel's view of a UDP socket. */
int coll_pick_port(int socktype, int first, int last);
int coll_udp_listen(int port);
/* Waits until a UDP socket is bound to 127.0.0.1:@port. */
int coll_udp_bound(int port, int timeout_ms);
/* Waits until the socket on @port has read everything queued; its drop count in *drops. */
int coll_udp_drained(int port, int timeout_ms, uint64_t *drops);
uint64_t coll_now_ms(void);

/* Scratch directories under /tmp, removed with everything in them. */
int coll_tmpdir(char *buf, size_t len, const char *tag);
void coll_rmtree(const char *path);

/* Classic pcap (microseconds, Ethernet) written frame by frame. */
struct coll_pcap;

int coll_pcap_create(struct coll_pcap **w, const char *path);
int coll_pcap_write(struct coll_pcap *w, uint64_t ts_ns, const void *frame, uint32_t len,
		    uint32_t orig_len);
/* Copies every frame of @src, shifted so that its first frame is at @ts_ns; *end_ns is the
 * time of its last frame. Returns the frames copied or -errno. */
int coll_pcap_append(struct coll_pcap *w, const char *src, uint64_t ts_ns, uint64_t *end_ns);
int coll_pcap_close(struct coll_pcap *w);
/* Complete frames in a pcap or pcapng file (one being written is fine). */
int coll_pcap_frames(const char *path);

/*
 * The mixed capture the export tests replay: crafted flows with known counts (IPv4 UDP, TCP
 * and ICMP, IPv6 UDP and TCP, a VLAN-tagged flow, IPv4 under a two-label MPLS stack over
 * Ethernet, IPv6 with a segment routing header), then afs.pcap and mptcp-v0.pcap from the
 * shared captures, one after the other on one clock.
 */
#define COLL_MIX_CRAFTED 1u
#define COLL_MIX_SHARED	 2u

#define COLL_MIX_V6_SRC	     "2001:db8:10::1"
#define COLL_MIX_V6_DST	     "2001:db8:20::2"
#define COLL_MIX_MPLS_SRC    "192.0.2.40"
#define COLL_MIX_MPLS_TOP    1000 /* exp 5 */
#define COLL_MIX_MPLS_BOTTOM 2000 /* exp 0, bottom of stack */
#define COLL_MIX_SRH_SRC     "2001:db8:a::1"
#define COLL_MIX_SRH_ACTIVE  "2001:db8:c::3" /* segment list[segments left] */
#define COLL_MIX_SRH_LEFT    1
#define COLL_MIX_SRH_NSEGS   3
#define COLL_MIX_SRH_TAG     0x1234
#define COLL_MIX_SRH_FLAGS   0

int coll_write_mix(const char *path, unsigned int parts);
/*
 * A steady capture for sampling: @frames IPv4 UDP frames, one every @gap_ns, round robin over
 * @flows flows from COLL_STEADY_SRC port COLL_STEADY_PORT + i to COLL_STEADY_DST.
 */
#define COLL_STEADY_SRC	 "198.51.100.1"
#define COLL_STEADY_DST	 "198.51.100.2"
#define COLL_STEADY_PORT 20000
int coll_write_steady(const char *path, int frames, int flows, uint64_t gap_ns);
const char *coll_pcap_dir(void);
const char *coll_nsflow_bin(void);

/* IPFIX over TCP: a listener reading length-framed messages into the strict decoder. */
struct coll_tcp {
	int lfd, cfd;
	int port;
	uint8_t buf[1 << 17];
	size_t len;
	struct ns_decoder dec;
	struct coll_flows flows;    /* every flow record of every connection */
	uint64_t conns;		    /* connections accepted */
	uint64_t messages;	    /* on the current connection */
	uint64_t flow_records;	    /* on every connection */
	uint64_t conn_flow_records; /* on the current connection */
	char err[256];		    /* the first decoding error, "" when none */
};

int coll_tcp_listen(struct coll_tcp *c, int port);
/* Accepts one connection (the previous one is dropped) with a decoder that knows no template. */
int coll_tcp_accept(struct coll_tcp *c, int timeout_ms);
/* Reads and decodes for up to @timeout_ms or until @until_records flow records have arrived on
 * every connection together; returns 0, or -ECONNRESET when the exporter closed. */
int coll_tcp_read(struct coll_tcp *c, int timeout_ms, uint64_t until_records);
/* Drops the connection after reading what is queued, and stops listening. */
void coll_tcp_close(struct coll_tcp *c);
void coll_tcp_free(struct coll_tcp *c);

#endif /* NSFLOW_TEST_COLLECTORS_H */
