/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Capture reader for `nsflow replay CAPTURE`. The datapath object only parses Ethernet, so
 * every packet comes out as an Ethernet frame whatever link type it was captured on.
 */
#ifndef NSFLOW_PCAP_H
#define NSFLOW_PCAP_H

#include <stddef.h>
#include <stdint.h>

struct pcap_reader;

struct pcap_frame {
	const uint8_t *data; /* Ethernet frame; valid until the next pcap_reader_next() */
	uint32_t len;	     /* bytes at data: captured, after conversion and FCS removal */
	uint32_t orig_len;   /* length on the wire, converted the same way */
	uint64_t ts_ns;	     /* capture time, ns since the Unix epoch */
	uint64_t number;     /* 1-based packet record number in the file, skipped ones included */
	uint32_t linktype;   /* link type the frame was captured with (LINKTYPE_*) */
	uint32_t interface;  /* pcapng interface id, 0 for classic pcap */
};

/* Frames pcap_reader_next() read but did not yield. */
struct pcap_reader_stats {
	uint64_t frames;    /* yielded */
	uint64_t not_ip;    /* PPP control protocols (LCP, IPCP ...), non-EtherType SLL frames */
	uint64_t too_short; /* cut inside the link-layer header: nothing to convert */
};

/*
 * Opens a classic pcap (either byte order, microsecond or nanosecond) or pcapng capture.
 * A link type nsflow cannot convert to Ethernet is refused here, naming it; err says what failed.
 */
int pcap_reader_open(struct pcap_reader **r, const char *path, char *err, size_t errlen);

/*
 * 1: *f holds the next frame; 0: end of capture; <0: -errno, the file is damaged or cut short
 * (pcap_reader_error() says where) and every later call returns the same error.
 */
int pcap_reader_next(struct pcap_reader *r, struct pcap_frame *f);

/* What the last failing pcap_reader_next() found, with the file name and offset. */
const char *pcap_reader_error(const struct pcap_reader *r);

const struct pcap_reader_stats *pcap_reader_stats(const struct pcap_reader *r);

/* Bytes read of a regular file's and its size; -1 when not a regular file (stdin, a pipe) */
int pcap_reader_progress(const struct pcap_reader *r, uint64_t *done, uint64_t *total);
void pcap_reader_close(struct pcap_reader *r);

#endif /* NSFLOW_PCAP_H */
