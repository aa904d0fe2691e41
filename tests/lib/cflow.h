/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* NetFlow v9 / IPFIX records as tshark's cflow dissector decodes them (tshark -V), one by one. */
#ifndef NSFLOW_TEST_CFLOW_H
#define NSFLOW_TEST_CFLOW_H

#include <stddef.h>
#include <sys/types.h>

/* One decoded record ("Flow N" of a data set): the values tshark prints, "" when absent */
struct cflow_rec {
	int port; /* UDP destination port of its datagram; 0 in an IPFIX file */
	char src[48], vrf[16], evrf[16], rd[40], top_type[16], top_addr[32], name[40], packets[24];
};

/*
 * Runs `tshark -r FILE ARGS -V` (ARGS: -d udp.port==N,cflow ...) and fills recs with every
 * record, options records included. The count, or -1 when tshark fails or calls a message
 * malformed.
 */
ssize_t cflow_records(const char *file, const char *args, struct cflow_rec *recs, size_t cap);

#endif
