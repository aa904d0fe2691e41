// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <string.h>
#include "records.h"

void exp_rec_v4_tcp(struct ns_record *r)
{
	memset(r, 0, sizeof(*r));
	r->ip_version = 4;
	r->protocol = 6;
	r->tos = 0x28;
	r->tcp_flags = 0x1b; /* ACK PSH SYN FIN */
	r->min_ttl = 63;
	r->max_ttl = 64;
	r->end_reason = NS_END_END_OF_FLOW;
	r->src_addr[10] = r->src_addr[11] = 0xff;
	r->dst_addr[10] = r->dst_addr[11] = 0xff;
	inet_pton(AF_INET, "192.0.2.1", r->src_addr + 12);
	inet_pton(AF_INET, "198.51.100.7", r->dst_addr + 12);
	r->src_port = 40000;
	r->dst_port = 443;
	r->vlan_id = 100;
	r->ingress_ifindex = 2;
	r->egress_ifindex = 3;
	r->packets = 10;
	r->octets = 5000;
	r->start_ms = 1700000000123ULL;
	r->end_ms = 1700000001456ULL;
	r->min_len = 52;
	r->max_len = 1500;
	r->src_mac[0] = 2;
	r->src_mac[5] = 1;
	r->dst_mac[0] = 2;
	r->dst_mac[5] = 2;
	r->sampling_interval = 1;
	r->selector_id = 1;
}
