// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Traffic generator for tests and benchmarks: run with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES on one end of a veth pair, it transmits the template frame
 * (IPv4 or IPv6, UDP or TCP) with XDP_TX, rewriting the source port so that consecutive
 * frames spread over livegen_flows flows.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 livegen_flows = 1;
const volatile __u16 livegen_base_port = 10000;
/* byte offset of the source port in the template frame */
const volatile __u32 livegen_port_off = 34;

__u64 livegen_sent = 0;

SEC("xdp")
int livegen_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 off = livegen_port_off & 0xff;
	__be16 *port = data + off;
	__u64 n = livegen_sent++;

	if ((void *)(port + 1) > data_end)
		return XDP_ABORTED;
	*port = bpf_htons(livegen_base_port + (__u16)(n % livegen_flows));
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
