// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Malformed frames: every one passes, is counted under its reason, and leaves no flow behind
 * (nothing half-read becomes a key).
 */
#include <criterion/criterion.h>
#include <string.h>
#include "dp.h"
#include "pkt.h"

#define XDP_PASS_      2
#define TC_ACT_UNSPEC_ (-1)

static struct nsflow_bpf *skel;
static struct pb pb;

static void setup(void)
{
	skel = dp_open();
	cr_assert_not_null(skel, "loading the datapath object needs root and BTF");
	pb_init(&pb);
}

static void teardown(void)
{
	nsflow_bpf__destroy(skel);
}

TestSuite(malformed, .init = setup, .fini = teardown);

/* Runs the frame (pb as is, no length fix-up) through XDP and TC ingress and checks that
 * exactly `reason` was counted for both, and no flow was made. */
static void expect_reason(int reason)
{
	struct nsflow_counters c;
	struct dp_flows flows;
	uint64_t runs = 1;
	int tc;

	cr_assert_eq(dp_run(skel, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);
	/* the kernel's skb test runner refuses some frames too short for their EtherType
	 * before our program sees them; when it runs it, it must pass it on */
	tc = dp_run(skel, DP_TC_INGRESS, pb.b, pb.len, 1);
	if (tc > -1000) {
		cr_assert_eq(tc, TC_ACT_UNSPEC_);
		runs++;
	}
	dp_counters(skel, &c);
	for (int i = NSFLOW_CNT_NON_IP; i < NSFLOW_CNT_MAX; i++)
		cr_assert_eq(c.c[i], i == reason ? runs : 0, "counter %s = %llu (expected %s)",
			     dp_counter_name(i), (unsigned long long)c.c[i],
			     dp_counter_name(reason));
	cr_assert_eq(c.c[NSFLOW_CNT_SEEN], runs);
	cr_assert_eq(c.c[NSFLOW_CNT_METERED], 0);
	dp_read_flows(skel, &flows);
	cr_assert_eq(flows.n, 0, "a malformed frame made a flow");
	dp_flows_free(&flows);
}

Test(malformed, ethernet_header_only_ipv4)
{
	pb_eth(&pb, 0x0800);
	expect_reason(NSFLOW_CNT_ERR_IPV4_TRUNC);
}

Test(malformed, truncated_vlan_tag)
{
	pb_eth(&pb, 0x8100);
	pb_zero(&pb, 2);
	expect_reason(NSFLOW_CNT_ERR_VLAN_TRUNC);
}

Test(malformed, three_vlan_tags)
{
	pb_eth(&pb, 0x88a8);
	pb_vlan(&pb, 1, 0, 0x8100);
	pb_vlan(&pb, 2, 0, 0x8100);
	pb_vlan(&pb, 3, 0, 0x0800);
	pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 1, 2);
	pb_finish(&pb);
	expect_reason(NSFLOW_CNT_ERR_VLAN_DEPTH);
}

Test(malformed, mpls_without_bottom_of_stack)
{
	pb_eth(&pb, 0x8847);
	for (int i = 0; i < 9; i++)
		pb_mpls(&pb, 100 + i, 0, 0, 64);
	pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 1, 2);
	pb_finish(&pb);
	expect_reason(NSFLOW_CNT_ERR_MPLS_NO_BOS);
}

Test(malformed, mpls_stack_cut_short)
{
	pb_eth(&pb, 0x8847);
	pb_mpls(&pb, 100, 0, 0, 64);
	pb_zero(&pb, 2);
	expect_reason(NSFLOW_CNT_ERR_MPLS_TRUNC);
}

Test(malformed, ipv4_ihl_below_five)
{
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 1, 2);
	pb_finish(&pb);
	pb.b[14] = 0x44;
	expect_reason(NSFLOW_CNT_ERR_IPV4_IHL);
}

Test(malformed, ipv4_options_past_the_frame)
{
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_zero(&pb, 8);
	pb_finish(&pb);
	pb.b[14] = 0x4f; /* 60-byte header in a 28-byte packet */
	expect_reason(NSFLOW_CNT_ERR_IPV4_IHL);
}

Test(malformed, ipv4_total_length_beyond_frame)
{
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 1, 2);
	pb_finish(&pb);
	pb.b[16] = 0x05; /* total length 1280+ */
	expect_reason(NSFLOW_CNT_ERR_IPV4_LEN);
}

Test(malformed, ipv4_total_length_below_header)
{
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 1, 2);
	pb_finish(&pb);
	pb.b[16] = 0;
	pb.b[17] = 12;
	expect_reason(NSFLOW_CNT_ERR_IPV4_LEN);
}

Test(malformed, ipv6_header_cut_short)
{
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 17, "2001:db8::1", "2001:db8::2", 0, 64);
	pb.len -= 1; /* 39 bytes of a 40-byte header */
	expect_reason(NSFLOW_CNT_ERR_IPV6_TRUNC);
}

Test(malformed, ipv6_payload_length_beyond_frame)
{
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 17, "2001:db8::1", "2001:db8::2", 0, 64);
	pb_udp(&pb, 1, 2);
	pb_finish(&pb);
	pb.b[14 + 4] = 0x10;
	expect_reason(NSFLOW_CNT_ERR_IPV6_LEN);
}

Test(malformed, ipv6_wrong_version_nibble)
{
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 17, "2001:db8::1", "2001:db8::2", 0, 64);
	pb_udp(&pb, 1, 2);
	pb_finish(&pb);
	pb.b[14] = 0x40;
	expect_reason(NSFLOW_CNT_ERR_IP_VERSION);
}

Test(malformed, ipv6_extension_chain_too_long)
{
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 60, "2001:db8::1", "2001:db8::2", 0, 64);
	for (int i = 0; i < NSFLOW_MAX_EXTHDR; i++)
		pb_ext6(&pb, 60, 0, 0);
	pb_ext6(&pb, 17, 0, 0);
	pb_udp(&pb, 1, 2);
	pb_finish(&pb);
	expect_reason(NSFLOW_CNT_ERR_EXTHDR_DEPTH);
}

Test(malformed, ipv6_extension_header_past_frame)
{
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 0, "2001:db8::1", "2001:db8::2", 0, 64);
	pb_ext6(&pb, 17, 0, 0);
	pb_finish(&pb);
	pb.b[14 + 40 + 1] = 20; /* claims 168 bytes */
	expect_reason(NSFLOW_CNT_ERR_EXTHDR_TRUNC);
}

static const char *const segs[] = { "fc00::2", "fc00::1" };

Test(malformed, srh_running_past_the_frame)
{
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 43, "2001:db8::1", "fc00::1", 0, 64);
	pb_srh(&pb, 59, 1, 2, segs, 0, 0);
	pb_finish(&pb);
	pb.len -= 8; /* the capture cut the last segment in half */
	pb.b[14 + 5] -= 8;
	expect_reason(NSFLOW_CNT_ERR_SRH);
}

Test(malformed, srh_segments_left_beyond_list)
{
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 43, "2001:db8::1", "fc00::1", 0, 64);
	pb_srh(&pb, 59, 5, 2, segs, 0, 0);
	pb_finish(&pb);
	expect_reason(NSFLOW_CNT_ERR_SRH);
}

Test(malformed, srh_last_entry_beyond_header)
{
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 43, "2001:db8::1", "fc00::1", 0, 64);
	pb_srh(&pb, 59, 0, 2, segs, 0, 0);
	pb_finish(&pb);
	pb.b[14 + 40 + 4] = 7; /* eight segments claimed in a two-segment header */
	expect_reason(NSFLOW_CNT_ERR_SRH);
}

Test(malformed, tcp_header_cut_short)
{
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 6, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_zero(&pb, 12);
	pb_finish(&pb);
	expect_reason(NSFLOW_CNT_ERR_L4_TRUNC);
}

Test(malformed, zero_length_tcp_header)
{
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 6, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_tcp(&pb, 1, 2, 0x02, 0);
	pb_finish(&pb);
	expect_reason(NSFLOW_CNT_ERR_TCP_DOFF);
}

Test(malformed, udp_header_cut_short_in_ipv6)
{
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 17, "2001:db8::1", "2001:db8::2", 0, 64);
	pb_zero(&pb, 4);
	pb_finish(&pb);
	expect_reason(NSFLOW_CNT_ERR_L4_TRUNC);
}

Test(malformed, non_ip_is_counted_not_keyed)
{
	pb_eth(&pb, 0x0806);
	pb_zero(&pb, 28);
	expect_reason(NSFLOW_CNT_NON_IP);
}
