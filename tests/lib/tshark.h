/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What tshark reads: of a captured IPv6 packet (the values a test expects), and of an export
 * it decoded with -V (the values a test finds). */
#ifndef NSFLOW_TEST_TSHARK_H
#define NSFLOW_TEST_TSHARK_H

#include <stddef.h>
#include <stdint.h>

#define TS_SRH_SEGMENTS 8

/* The first frame's outer IPv6 header, Jumbo Payload option and segment routing header */
struct ts_v6 {
	uint32_t flow_label;
	uint32_t ip_len;    /* 40 + payload length, or 40 + Jumbo Payload length */
	int srh;	    /* a routing header of type 4 was decoded */
	uint8_t srh_hdr[8]; /* rebuilt as on the wire from tshark's fields */
	uint8_t segs[TS_SRH_SEGMENTS][16];
	int nsegs;
};

/* The i-th comma-separated element of a field tshark aggregates (-E aggregator=,), or "" */
void ts_nth(const char *field, int i, char *out, size_t len);

/* Runs tshark on @pcap; 0, or -1 when tshark read no IPv6 packet in it */
int ts_v6_of(const char *pcap, struct ts_v6 *v);

/* Field lengths the templates in @verbose (tshark -V) give the elements @ids, 0 when absent */
void ts_template_lengths(const char *verbose, const unsigned int *ids, int n, unsigned int *len);
/* Hex bytes of the first data value tshark -V shows for element @id ("" when none); tshark
 * cuts long values after 24 bytes with " …" */
void ts_element_value(const char *verbose, unsigned int id, char *out, size_t len);
/* @n bytes as tshark prints them: "01 02 ..." */
void ts_hex(const uint8_t *b, size_t n, char *out, size_t len);

#endif
