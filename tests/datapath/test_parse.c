// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The parser and meter on crafted frames through BPF_PROG_TEST_RUN: for every header
 * combination the datapath claims, the flow key and the values it stores.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dp.h"
#include "evring.h"
#include "exp_template.h"
#include "flow_cache.h"
#include "pkt.h"

#define XDP_PASS_      2
#define TC_ACT_UNSPEC_ (-1)

static struct nsflow_bpf *skel;
static struct dp_flows flows;
static struct pb pb;

static void setup(void)
{
	skel = dp_open();
	cr_assert_not_null(skel, "loading the datapath object needs root and BTF");
	pb_init(&pb);
}

static void teardown(void)
{
	dp_flows_free(&flows);
	nsflow_bpf__destroy(skel);
}

TestSuite(parse, .init = setup, .fini = teardown);

/* Runs pb through XDP n times and returns the single flow it must have made. */
static const struct dp_flow *run_one(int n)
{
	pb_finish(&pb);
	cr_assert_eq(dp_run(skel, DP_XDP, pb.b, pb.len, n), XDP_PASS_);
	dp_flows_free(&flows);
	dp_read_flows(skel, &flows);
	cr_assert_eq(flows.n, 1, "expected one flow, found %zu", flows.n);
	return &flows.f[0];
}

static void assert_key(const struct nsflow_key *got, const struct nsflow_key *want)
{
	char g[256], w[256];

	dp_key_str(got, g, sizeof(g));
	dp_key_str(want, w, sizeof(w));
	cr_assert(!memcmp(got, want, sizeof(*want)), "key\n got  %s\n want %s", g, w);
}

Test(parse, ipv4_tcp_key_and_values)
{
	const struct dp_flow *f;
	struct nsflow_key want = dp_key4(6, "10.0.0.1", "10.0.0.2", 40000, 443);

	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 6, "10.0.0.1", "10.0.0.2", 0xb8, 63, 0, 0, 0);
	pb_tcp(&pb, 40000, 443, 0x18, 5);
	pb_zero(&pb, 100);
	f = run_one(3);
	want.tos = 0xb8;
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.packets, 3);
	cr_assert_eq(f->v.octets, 3 * 140, "octets are IP total lengths: %llu",
		     (unsigned long long)f->v.octets);
	cr_assert_eq(f->v.tcp_flags, 0x18);
	cr_assert_eq(f->v.min_ttl, 63);
	cr_assert_eq(f->v.max_ttl, 63);
	cr_assert_eq(f->v.min_len, 140);
	cr_assert_eq(f->v.max_len, 140);
	cr_assert_arr_eq(f->v.src_mac, pb_src_mac, 6);
	cr_assert_arr_eq(f->v.dst_mac, pb_dst_mac, 6);
	cr_assert(f->v.first_ns > 0 && f->v.last_ns >= f->v.first_ns);
}

Test(parse, ipv4_options_use_ihl)
{
	const struct dp_flow *f;
	struct nsflow_key want = dp_key4(17, "192.0.2.1", "198.51.100.7", 5353, 53);

	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "192.0.2.1", "198.51.100.7", 0, 64, 10, 0, 0); /* IHL 15: 60 bytes */
	pb_udp(&pb, 5353, 53);
	pb_zero(&pb, 12);
	f = run_one(1);
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.octets, 60 + 8 + 12);
}

Test(parse, ipv4_fragments_ports_only_in_first)
{
	struct nsflow_key first = dp_key4(17, "10.1.1.1", "10.2.2.2", 1000, 2000);
	struct nsflow_key later = dp_key4(17, "10.1.1.1", "10.2.2.2", 0, 0);

	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "10.1.1.1", "10.2.2.2", 0, 64, 0, 0, 1);
	pb_udp(&pb, 1000, 2000);
	pb_zero(&pb, 32);
	pb_finish(&pb);
	cr_assert_eq(dp_run(skel, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);

	/* a later fragment whose first payload bytes look like ports must not be read as such */
	pb_init(&pb);
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "10.1.1.1", "10.2.2.2", 0, 64, 0, 5, 0);
	pb_udp(&pb, 7777, 8888);
	pb_finish(&pb);
	cr_assert_eq(dp_run(skel, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);

	dp_read_flows(skel, &flows);
	cr_assert_eq(flows.n, 2);
	cr_assert_not_null(dp_find(&flows, &first));
	cr_assert_not_null(dp_find(&flows, &later));
}

Test(parse, icmp_type_code_in_dst_port)
{
	const struct dp_flow *f;
	struct nsflow_key want = dp_key4(1, "10.0.0.1", "10.0.0.9", 0, 3 << 8 | 1);

	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 1, "10.0.0.1", "10.0.0.9", 0, 255, 0, 0, 0);
	pb_icmp(&pb, 3, 1);
	f = run_one(1);
	assert_key(&f->k, &want);
}

Test(parse, sctp_ports)
{
	const struct dp_flow *f;
	struct nsflow_key want = dp_key4(132, "10.0.0.1", "10.0.0.2", 2905, 2905);

	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 132, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_sctp(&pb, 2905, 2905);
	f = run_one(1);
	assert_key(&f->k, &want);
}

Test(parse, ipv6_udp_traffic_class)
{
	const struct dp_flow *f;
	struct nsflow_key want = dp_key6(17, "2001:db8::1", "2001:db8::2", 4000, 4001);

	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 17, "2001:db8::1", "2001:db8::2", 0x2e, 17);
	pb_udp(&pb, 4000, 4001);
	pb_zero(&pb, 20);
	f = run_one(2);
	want.tos = 0x2e;
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.octets, 2 * (40 + 28));
	cr_assert_eq(f->v.min_ttl, 17);
}

Test(parse, ipv6_extension_chain_to_tcp)
{
	const struct dp_flow *f;
	struct nsflow_key want = dp_key6(6, "2001:db8::a", "2001:db8::b", 22, 50000);

	/* hop-by-hop, routing type 2, destination options, AH, fragment (first), then TCP */
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 0, "2001:db8::a", "2001:db8::b", 0, 64);
	pb_ext6(&pb, 43, 0, 0);
	pb_ext6(&pb, 60, 2, 2);
	pb_ext6(&pb, 51, 1, 0);
	pb_ah(&pb, 44);
	pb_frag6(&pb, 6, 0, 1);
	pb_tcp(&pb, 22, 50000, 0x02, 5);
	f = run_one(1);
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.tcp_flags, 0x02);
}

Test(parse, ipv6_later_fragment_has_no_ports)
{
	const struct dp_flow *f;
	struct nsflow_key want = dp_key6(17, "2001:db8::a", "2001:db8::b", 0, 0);

	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 44, "2001:db8::a", "2001:db8::b", 0, 64);
	pb_frag6(&pb, 17, 100, 0);
	pb_udp(&pb, 1234, 5678);
	f = run_one(1);
	assert_key(&f->k, &want);
}

Test(parse, icmpv6)
{
	const struct dp_flow *f;
	struct nsflow_key want = dp_key6(58, "fe80::1", "ff02::1", 0, 135 << 8);

	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 58, "fe80::1", "ff02::1", 0, 255);
	pb_icmp(&pb, 135, 0);
	pb_zero(&pb, 16);
	f = run_one(1);
	assert_key(&f->k, &want);
}

static const char *const segs[] = { "fc00::3", "fc00::2", "fc00::1" };

static void build_srv6_ipv4_inner(void)
{
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 43, "2001:db8::1", "fc00::2", 0, 64);
	pb_srh(&pb, 4, 1, 3, segs, 0x20, 0xbeef);
	pb_ipv4(&pb, 17, "172.16.0.1", "172.16.0.2", 0x10, 30, 0, 0, 0);
	pb_udp(&pb, 999, 53);
	pb_zero(&pb, 8);
}

/* The flow's segment list, stored apart from its per-CPU values. */
static void assert_srh_segments(const struct nsflow_key *k)
{
	struct nsflow_srh_segments sg;
	uint8_t want[16];

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.nsflow_srh), k, &sg), 0,
		     "no segment list stored for the flow");
	cr_assert_eq(sg.count, 3);
	for (int i = 0; i < 3; i++) {
		inet_pton(AF_INET6, segs[i], want);
		cr_assert_arr_eq(sg.seg[i], want, 16, "segment %d in SRH order", i);
	}
	/* the SRH follows the outer IPv6 header: its fixed header as on the wire (IE 499) */
	cr_assert_arr_eq(sg.hdr, pb.b + 14 + 40, 8, "SRH fixed header");
}

static void assert_srh_values(const struct nsflow_value *v)
{
	uint8_t active[16];

	inet_pton(AF_INET6, "fc00::2", active);
	cr_assert_eq(v->srh_present, 1);
	cr_assert_eq(v->srh_flags, 0x20);
	cr_assert_eq(v->srh_tag, 0xbeef);
	cr_assert_eq(v->srh_segments_left, 1);
	cr_assert_eq(v->srh_last_entry, 2);
	cr_assert_arr_eq(v->srh_active_segment, active, 16, "active segment = list[segments left]");
}

Test(parse, srv6_outer_header_by_default)
{
	const struct dp_flow *f;
	struct nsflow_key want = dp_key6(4, "2001:db8::1", "fc00::2", 0, 0);

	build_srv6_ipv4_inner();
	f = run_one(1);
	assert_key(&f->k, &want);
	assert_srh_values(&f->v);
	assert_srh_segments(&f->k);
	cr_assert_eq(f->v.octets, pb.len - 14, "the outer IPv6 packet's length");
}

Test(parse, srv6_inner_header_mode)
{
	const struct dp_flow *f;
	struct nsflow_cfg cfg = { .srv6_mode = NSFLOW_SRV6_INNER };
	struct nsflow_key want = dp_key4(17, "172.16.0.1", "172.16.0.2", 999, 53);

	dp_set_cfg(skel, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg);
	build_srv6_ipv4_inner();
	f = run_one(1);
	want.tos = 0x10;
	assert_key(&f->k, &want);
	assert_srh_values(&f->v);
	assert_srh_segments(&f->k);
	cr_assert_eq(f->v.octets, 20 + 8 + 8, "the inner packet's length");
	cr_assert_eq(f->v.min_ttl, 30);
}

Test(parse, srv6_inner_ipv6)
{
	const struct dp_flow *f;
	struct nsflow_cfg cfg = { .srv6_mode = NSFLOW_SRV6_INNER };
	struct nsflow_key want = dp_key6(6, "2001:db8:1::1", "2001:db8:2::2", 80, 8080);

	dp_set_cfg(skel, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg);
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 43, "2001:db8::1", "fc00::1", 0, 64);
	pb_srh(&pb, 41, 0, 3, segs, 0, 0);
	pb_ipv6(&pb, 6, "2001:db8:1::1", "2001:db8:2::2", 0, 60);
	pb_tcp(&pb, 80, 8080, 0x10, 5);
	f = run_one(1);
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.srh_segments_left, 0);
}

Test(parse, vlan_and_qinq)
{
	struct nsflow_key one = dp_key4(6, "10.0.0.1", "10.0.0.2", 1, 2);
	struct nsflow_key two = one;

	pb_eth(&pb, 0x8100);
	pb_vlan(&pb, 100, 3, 0x0800);
	pb_ipv4(&pb, 6, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_tcp(&pb, 1, 2, 0x10, 5);
	pb_finish(&pb);
	cr_assert_eq(dp_run(skel, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);

	pb_init(&pb);
	pb_eth(&pb, 0x88a8);
	pb_vlan(&pb, 200, 0, 0x8100);
	pb_vlan(&pb, 300, 0, 0x0800);
	pb_ipv4(&pb, 6, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_tcp(&pb, 1, 2, 0x10, 5);
	pb_finish(&pb);
	cr_assert_eq(dp_run(skel, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);

	dp_read_flows(skel, &flows);
	one.vlan_outer = 100;
	two.vlan_outer = 200;
	two.vlan_inner = 300;
	cr_assert_eq(flows.n, 2);
	cr_assert_not_null(dp_find(&flows, &one), "802.1Q tag 100");
	cr_assert_not_null(dp_find(&flows, &two), "802.1ad 200 over 802.1Q 300");
}

static void build_mpls5_ipv4(void)
{
	pb_eth(&pb, 0x8847);
	pb_mpls(&pb, 16001, 5, 0, 64);
	pb_mpls(&pb, 24000, 0, 0, 64);
	pb_mpls(&pb, 3000, 1, 0, 64);
	pb_mpls(&pb, 4000, 0, 0, 64);
	pb_mpls(&pb, 5000, 0, 1, 64);
	pb_ipv4(&pb, 17, "10.9.0.1", "10.9.0.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 3784, 3784);
}

Test(parse, mpls_label_and_ip_default)
{
	const struct dp_flow *f;
	struct nsflow_key want = dp_key4(17, "10.9.0.1", "10.9.0.2", 3784, 3784);

	build_mpls5_ipv4();
	f = run_one(1);
	want.mpls_top = NSFLOW_MPLS_VALID | NSFLOW_MPLS_LSE(16001, 5, 0);
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.mpls_count, 3, "top three labels recorded of five");
	cr_assert_eq(f->v.mpls_lse[0], NSFLOW_MPLS_LSE(16001, 5, 0));
	cr_assert_eq(f->v.mpls_lse[1], NSFLOW_MPLS_LSE(24000, 0, 0));
	cr_assert_eq(f->v.mpls_lse[2], NSFLOW_MPLS_LSE(3000, 1, 0));
	cr_assert_eq(f->v.octets, 28, "the IP packet under the stack");
}

Test(parse, mpls_ip_only)
{
	const struct dp_flow *f;
	struct nsflow_cfg cfg = { .mpls_mode = NSFLOW_MPLS_IP_ONLY };
	struct nsflow_key want = dp_key4(17, "10.9.0.1", "10.9.0.2", 3784, 3784);

	dp_set_cfg(skel, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg);
	build_mpls5_ipv4();
	f = run_one(1);
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.mpls_count, 3, "labels still kept as values");
}

Test(parse, mpls_label_only)
{
	const struct dp_flow *f;
	struct nsflow_cfg cfg = { .mpls_mode = NSFLOW_MPLS_LABEL_ONLY };
	struct nsflow_key want;

	dp_set_cfg(skel, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg);
	build_mpls5_ipv4();
	f = run_one(1);
	memset(&want, 0, sizeof(want));
	want.ifindex = DP_IFINDEX;
	want.mpls_top = NSFLOW_MPLS_VALID | NSFLOW_MPLS_LSE(16001, 5, 0);
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.octets, 5 * 4 + 28, "the MPLS packet: labels and payload");
}

Test(parse, mpls_ipv6_single_label)
{
	const struct dp_flow *f;
	struct nsflow_key want = dp_key6(58, "2001:db8::1", "2001:db8::2", 0, 128 << 8);

	pb_eth(&pb, 0x8847);
	pb_mpls(&pb, 2, 0, 1, 64); /* IPv6 explicit null */
	pb_ipv6(&pb, 58, "2001:db8::1", "2001:db8::2", 0, 64);
	pb_icmp(&pb, 128, 0);
	f = run_one(1);
	want.mpls_top = NSFLOW_MPLS_VALID | NSFLOW_MPLS_LSE(2, 0, 1);
	assert_key(&f->k, &want);
}

Test(parse, mpls_pseudowire_metered_by_label)
{
	const struct dp_flow *f;
	struct nsflow_key want;

	pb_eth(&pb, 0x8847);
	pb_mpls(&pb, 777, 0, 1, 64);
	pb_zero(&pb, 4); /* control word: first nibble 0 */
	pb_eth(&pb, 0x0806);
	pb_zero(&pb, 28);
	f = run_one(1);
	memset(&want, 0, sizeof(want));
	want.ifindex = DP_IFINDEX;
	want.mpls_top = NSFLOW_MPLS_VALID | NSFLOW_MPLS_LSE(777, 0, 1);
	assert_key(&f->k, &want);
}

Test(parse, tc_hooks_set_direction_and_never_stop_the_chain)
{
	struct nsflow_key in = dp_key4(6, "10.0.0.1", "10.0.0.2", 1, 2);
	struct nsflow_key out = in;

	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 6, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_tcp(&pb, 1, 2, 0x10, 5);
	pb_finish(&pb);
	cr_assert_eq(dp_run(skel, DP_TC_INGRESS, pb.b, pb.len, 2), TC_ACT_UNSPEC_);
	cr_assert_eq(dp_run(skel, DP_TC_EGRESS, pb.b, pb.len, 3), TC_ACT_UNSPEC_);
	dp_read_flows(skel, &flows);
	out.direction = NSFLOW_DIR_EGRESS;
	cr_assert_eq(flows.n, 2);
	cr_assert_eq(dp_find(&flows, &in)->v.packets, 2);
	cr_assert_eq(dp_find(&flows, &out)->v.packets, 3);
}

Test(parse, fixed_sampling_takes_exactly_one_in_n)
{
	struct nsflow_cfg cfg = { .sample_mode = NSFLOW_SAMPLE_FIXED, .sample_param = 10 };
	struct nsflow_counters c;
	const struct dp_flow *f;

	dp_set_cfg(skel, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg);
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 1, 2);
	f = run_one(1000);
	cr_assert_eq(f->v.packets, 100);
	dp_counters(skel, &c);
	cr_assert_eq(c.c[NSFLOW_CNT_SEEN], 1000);
	cr_assert_eq(c.c[NSFLOW_CNT_SAMPLED], 100);
}

Test(parse, random_sampling_is_near_one_in_n)
{
	struct nsflow_cfg cfg = { .sample_mode = NSFLOW_SAMPLE_RANDOM, .sample_param = 4 };
	const struct dp_flow *f;

	dp_set_cfg(skel, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg);
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 1, 2);
	f = run_one(20000);
	/* 5000 expected, sd ~61: 10 sd either side never fails by chance */
	cr_assert(f->v.packets > 4400 && f->v.packets < 5600, "sampled %llu of 20000",
		  (unsigned long long)f->v.packets);
}

Test(parse, time_sampling_takes_first_packet_per_interval)
{
	struct nsflow_cfg cfg = { .sample_mode = NSFLOW_SAMPLE_TIME, .sample_param = 30000 };
	const struct dp_flow *f;

	dp_set_cfg(skel, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg);
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 1, 2);
	f = run_one(5000);
	cr_assert_eq(f->v.packets, 1, "one packet in a 30 s interval");
	/* what the agent announces the rate from: 5000 seen for 1 taken */
	cr_assert_eq(dp_get_cfg(skel, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg), 0);
	cr_assert_eq(cfg.sample_count, 5000);
	cr_assert_eq(cfg.sample_taken, 1);
}

Test(parse, flexible_key_mask_aggregates_in_kernel)
{
	struct nsflow_cfg cfg = {
		.key_fields = NSFLOW_KF_PROTOCOL | NSFLOW_KF_DST_ADDR | NSFLOW_KF_DST_PORT,
		.dst_prefix_len = 96 + 24,
	};
	struct nsflow_key want = dp_key4(6, "0.0.0.0", "10.20.30.0", 0, 443);
	const char *srcs[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3" };
	const char *dsts[] = { "10.20.30.1", "10.20.30.2", "10.20.30.3" };

	dp_set_cfg(skel, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg);
	for (int i = 0; i < 3; i++) {
		pb_init(&pb);
		pb_eth(&pb, 0x0800);
		pb_ipv4(&pb, 6, srcs[i], dsts[i], 0, 64, 0, 0, 0);
		pb_tcp(&pb, (uint16_t)(1000 + i), 443, 0x10, 5);
		pb_finish(&pb);
		cr_assert_eq(dp_run(skel, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);
	}
	dp_read_flows(skel, &flows);
	memset(want.src_addr, 0, 16);
	want.ifindex = 0; /* not a match field */
	cr_assert_eq(flows.n, 1, "three flows folded into one record");
	assert_key(&flows.f[0].k, &want);
	cr_assert_eq(flows.f[0].v.packets, 3);
}

Test(parse, map_full_goes_to_ring_buffer)
{
	struct nsflow_counters c;
	struct nsflow_bpf *small;
	int i;

	/* a 4-entry epoch map: the 5th..8th flows must still be accounted for */
	small = nsflow_bpf__open();
	cr_assert_not_null(small);
	bpf_map__set_max_entries(small->maps.nsflow_flows_0, 4);
	bpf_map__set_max_entries(small->maps.nsflow_flows_1, 4);
	cr_assert_eq(nsflow_bpf__load(small), 0);
	for (i = 0; i < 8; i++) {
		pb_init(&pb);
		pb_eth(&pb, 0x0800);
		pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0, 64, 0, 0, 0);
		pb_udp(&pb, (uint16_t)(100 + i), 53);
		pb_finish(&pb);
		cr_assert_eq(dp_run(small, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);
	}
	dp_counters(small, &c);
	cr_assert_eq(c.c[NSFLOW_CNT_METERED], 4);
	cr_assert_eq(c.c[NSFLOW_CNT_RINGBUF], 4, "the packets the map had no room for");
	cr_assert_eq(c.c[NSFLOW_CNT_NOT_METERED], 0);
	nsflow_bpf__destroy(small);
}

/* Ring-buffer events read back as the agent reads them. */
struct events {
	struct nsflow_event ev[8];
	int n;
};

static void take_event(void *arg, const void *data, uint32_t len, uint64_t next_pos)
{
	struct events *e = arg;

	cr_assert_eq(len, sizeof(struct nsflow_event));
	if (e->n < 8)
		memcpy(&e->ev[e->n++], data, sizeof(e->ev[0]));
	(void)next_pos;
}

/*
 * A packet that finds the table full reaches the agent with the very value the table would
 * have held for it (MACs, MPLS stack, SRH fields, TTL and length range), so that its record,
 * and the template it needs, are the same.
 */
Test(parse, a_full_table_gives_the_record_the_table_gives)
{
	struct nsflow_bpf *small;
	struct dp_flows flows;
	struct events evs = { 0 };
	struct evring ring;
	struct ns_record from_map, from_ring;
	struct flow_entry *e;
	struct flow_cache *c;
	struct flow_cache_opts o = { .active_ns = 60000000000ULL,
				     .inactive_ns = 30000000000ULL,
				     .max_entries = 16,
				     .counter_bits = 64 };

	small = nsflow_bpf__open();
	cr_assert_not_null(small);
	bpf_map__set_max_entries(small->maps.nsflow_flows_0, 1);
	bpf_map__set_max_entries(small->maps.nsflow_flows_1, 1);
	cr_assert_eq(nsflow_bpf__load(small), 0);
	/* MPLS over VLAN carrying IPv6 with an SRH: every descriptive field set */
	for (int i = 0; i < 2; i++) {
		pb_init(&pb);
		pb_eth(&pb, 0x8100);
		pb_vlan(&pb, 42, 0, 0x8847);
		pb_mpls(&pb, 16001, 5, 0, 64);
		pb_mpls(&pb, 24000, 0, 1, 64);
		pb_ipv6(&pb, 43, "2001:db8::1", "2001:db8::2", 0, 61);
		pb_srh(&pb, 17, 1, 3, segs, 0x20, 0xbeef);
		pb_udp(&pb, (uint16_t)(5000 + i), 53);
		pb_zero(&pb, 30);
		pb_finish(&pb);
		cr_assert_eq(dp_run(small, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);
	}
	/* the first went into the one-entry table, the second (another flow) to the ring */
	dp_read_flows(small, &flows);
	cr_assert_eq(flows.n, 1);
	cr_assert_eq(evring_open(&ring, bpf_map__fd(small->maps.nsflow_events)), 0);
	cr_assert_eq(evring_consume(&ring, take_event, &evs), 1);
	cr_assert_eq(evs.n, 1);
	cr_assert_eq(evs.ev[0].key.src_port, 5001);
	cr_assert_eq(flows.f[0].k.src_port, 5000);

	/* the same value but for the port that tells the flows apart */
	evs.ev[0].key.src_port = 5000;
	cr_assert_eq(memcmp(&evs.ev[0].key, &flows.f[0].k, sizeof(flows.f[0].k)), 0);
	evs.ev[0].val.first_ns = flows.f[0].v.first_ns;
	evs.ev[0].val.last_ns = flows.f[0].v.last_ns;
	cr_assert_eq(memcmp(&evs.ev[0].val, &flows.f[0].v, sizeof(flows.f[0].v)), 0,
		     "the event's value is not the table's");
	cr_assert_eq(flows.f[0].v.mpls_count, 2);
	cr_assert_eq(flows.f[0].v.srh_present, 1);

	/* and through the agent's cache, the same record */
	cr_assert_eq(flow_cache_new(&c, &o), 0);
	flow_cache_merge(c, &flows.f[0].k, &flows.f[0].v, 1);
	e = flow_cache_find(c, &flows.f[0].k);
	cr_assert_not_null(e);
	flow_entry_to_record(e, NS_END_FORCED, 0, &from_map);
	flow_cache_free(c);
	cr_assert_eq(flow_cache_new(&c, &o), 0);
	flow_cache_add_event(c, &evs.ev[0], 1);
	e = flow_cache_find(c, &evs.ev[0].key);
	cr_assert_not_null(e);
	flow_entry_to_record(e, NS_END_FORCED, 0, &from_ring);
	flow_cache_free(c);
	cr_assert_eq(memcmp(&from_map, &from_ring, sizeof(from_map)), 0,
		     "a packet through the ring gives another record than through the table");
	cr_assert_eq(ns_tmpl_id_for(&from_map), ns_tmpl_id_for(&from_ring));
	evring_close(&ring);
	dp_flows_free(&flows);
	nsflow_bpf__destroy(small);
}

/* The 20-bit flow label of the IPv6 header the builder added last */
static void set_flow_label(uint32_t label)
{
	uint8_t *h = pb.b + pb.ip6[pb.n6 - 1];

	h[1] = (uint8_t)((h[1] & 0xf0) | (label >> 16 & 0x0f));
	h[2] = (uint8_t)(label >> 8);
	h[3] = (uint8_t)label;
}

static void build_v6_udp(const char *src, uint32_t label)
{
	pb_init(&pb);
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 17, src, "2001:db8::99", 0x28, 64);
	set_flow_label(label);
	pb_udp(&pb, 5000, 6000);
	pb_zero(&pb, 20);
	pb_finish(&pb);
	cr_assert_eq(dp_run(skel, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);
}

/* flowLabelIPv6 is a value of the flow, written by its first packet, not part of the key */
Test(parse, ipv6_flow_label_per_flow)
{
	struct nsflow_key a = dp_key6(17, "2001:db8::1", "2001:db8::99", 5000, 6000);
	struct nsflow_key b = dp_key6(17, "2001:db8::2", "2001:db8::99", 5000, 6000);
	const struct dp_flow *fa, *fb;

	a.tos = b.tos = 0x28;
	build_v6_udp("2001:db8::1", 0x12345);
	build_v6_udp("2001:db8::2", 0xfedcb);
	build_v6_udp("2001:db8::1", 0x00001); /* same flow, later label: the first one stays */
	dp_read_flows(skel, &flows);
	cr_assert_eq(flows.n, 2, "the label is not keyed: %zu flows", flows.n);
	fa = dp_find(&flows, &a);
	fb = dp_find(&flows, &b);
	cr_assert(fa && fb);
	cr_assert_eq(fa->v.packets, 2);
	cr_assert_eq(fa->v.flow_label, 0x12345, "0x%x", fa->v.flow_label);
	cr_assert_eq(fb->v.flow_label, 0xfedcb, "0x%x", fb->v.flow_label);
	cr_assert_eq(fa->v.min_len, 40 + 8 + 20);
	cr_assert_eq(fa->v.max_len, 40 + 8 + 20);
}

/* In srv6 inner-header mode the label is the inner IPv6 header's: the one the key is read from */
Test(parse, ipv6_flow_label_of_the_keyed_header)
{
	struct nsflow_cfg cfg = { .srv6_mode = NSFLOW_SRV6_INNER };
	const struct dp_flow *f;

	dp_set_cfg(skel, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg);
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 43, "2001:db8::1", "fc00::1", 0, 64);
	set_flow_label(0xaaaaa);
	pb_srh(&pb, 41, 0, 3, segs, 0, 0);
	pb_ipv6(&pb, 6, "2001:db8:1::1", "2001:db8:2::2", 0, 60);
	set_flow_label(0x54321);
	pb_tcp(&pb, 80, 8080, 0x10, 5);
	f = run_one(1);
	cr_assert_eq(f->v.flow_label, 0x54321, "0x%x", f->v.flow_label);
}

/* A hop-by-hop header with a Jumbo Payload option (RFC 2675) of @jlen, payload length 0 */
static void build_jumbo(uint32_t jlen)
{
	static const uint8_t hbh[8] = { 58, 0, 0xc2, 4 };
	uint8_t *h;

	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 0, "2001:db8::1", "2001:db8::2", 0, 64);
	h = pb.b + pb.len;
	pb_bytes(&pb, hbh, sizeof(hbh));
	h[4] = (uint8_t)(jlen >> 24);
	h[5] = (uint8_t)(jlen >> 16);
	h[6] = (uint8_t)(jlen >> 8);
	h[7] = (uint8_t)jlen;
	pb_icmp(&pb, 128, 0);
	pb_zero(&pb, 100);
	pb_finish(&pb);
	pb.b[pb.ip6[0] + 4] = pb.b[pb.ip6[0] + 5] = 0; /* payload length 0: a jumbogram */
}

static int refused_as(int counter)
{
	struct nsflow_counters c;

	dp_counters(skel, &c);
	dp_read_flows(skel, &flows);
	return c.c[counter] == 1 && flows.n == 0;
}

/* A Jumbo Payload length the frame does not hold is refused, not read as a 4 GB packet */
Test(parse, jumbo_payload_longer_than_the_frame)
{
	build_jumbo(70000);
	cr_assert_eq(dp_run(skel, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);
	cr_assert(refused_as(NSFLOW_CNT_ERR_IPV6_LEN));
}

/* RFC 2675: a Jumbo Payload length of 65535 or less is an error */
Test(parse, jumbo_payload_too_short_for_a_jumbogram)
{
	build_jumbo(1000);
	cr_assert_eq(dp_run(skel, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);
	cr_assert(refused_as(NSFLOW_CNT_ERR_IPV6_LEN));
}

/* The packet is what the Jumbo Payload option says, not the frame: bytes after it (padding, a
 * trailer) are not counted */
Test(parse, jumbo_payload_length_not_the_frame)
{
	size_t len = 14 + 40 + 65536 + 10;
	uint8_t *frame = calloc(1, len);
	struct dp_flow *f;

	cr_assert_not_null(frame);
	build_jumbo(65536);
	memcpy(frame, pb.b, pb.len);
	cr_assert_eq(dp_run(skel, DP_XDP, frame, len, 1), XDP_PASS_);
	free(frame);
	dp_read_flows(skel, &flows);
	cr_assert_eq(flows.n, 1);
	f = &flows.f[0];
	cr_assert_eq(f->v.octets, 40 + 65536, "%llu", (unsigned long long)f->v.octets);
	cr_assert_eq(f->v.min_len, 40 + 65536);
	cr_assert_eq(f->v.max_len, 40 + 65536);
}
