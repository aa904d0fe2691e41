// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * VXLAN (RFC 7348) through BPF_PROG_TEST_RUN: frames the test builds, outer IPv4 and IPv6 over
 * inner IPv4 and IPv6 (tagged or not), in both modes, on the default and a configured port,
 * with VXLAN off, without the I flag and cut short. The keys expected are the headers the test
 * wrote: the outer ones with the VNI in outer mode, the inner frame's in inner mode.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "dp.h"
#include "pkt.h"

#define XDP_PASS_ 2
#define VX_FLAGS  0x08 /* the I flag: the VNI is valid */

static struct nsflow_bpf *skel;
static struct dp_flows flows;
static struct pb pb;

/* the inner frame's MACs, unlike those pb_eth() writes for the outer one */
static const uint8_t in_src[6] = { 0x02, 0xaa, 0, 0, 0, 1 };
static const uint8_t in_dst[6] = { 0x02, 0xbb, 0, 0, 0, 2 };

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

TestSuite(vxlan, .init = setup, .fini = teardown);

static void set_mode(uint32_t mode, uint16_t port)
{
	struct nsflow_cfg cfg = { .vxlan_mode = mode, .vxlan_port = port };

	dp_set_cfg(skel, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg);
}

/* Runs pb through a hook n times and returns the single flow it must have made. */
static const struct dp_flow *run_hook(enum dp_hook hook, int n)
{
	pb_finish(&pb);
	dp_run(skel, hook, pb.b, pb.len, n);
	dp_flows_free(&flows);
	dp_read_flows(skel, &flows);
	cr_assert_eq(flows.n, 1, "expected one flow, found %zu", flows.n);
	return &flows.f[0];
}

static const struct dp_flow *run_one(int n)
{
	return run_hook(DP_XDP, n);
}

static void assert_key(const struct nsflow_key *got, const struct nsflow_key *want)
{
	char g[256], w[256];

	dp_key_str(got, g, sizeof(g));
	dp_key_str(want, w, sizeof(w));
	cr_assert(!memcmp(got, want, sizeof(*want)), "key\n got  %s\n want %s", g, w);
}

static uint64_t counter(int idx)
{
	struct nsflow_counters c;

	dp_counters(skel, &c);
	return c.c[idx];
}

/* outer IPv4 / UDP 40001 -> port / VXLAN vni / inner Ethernet, IPv4 UDP 5000 -> 53 */
static void outer4_inner4(uint16_t port, uint8_t flags, uint32_t vni)
{
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "192.0.2.1", "192.0.2.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 40001, port);
	pb_vxlan(&pb, flags, vni);
	pb_eth_macs(&pb, in_src, in_dst, 0x0800);
	pb_ipv4(&pb, 17, "10.0.0.1", "10.0.0.2", 0x28, 33, 0, 0, 0);
	pb_udp(&pb, 5000, 53);
	pb_zero(&pb, 30);
}

static struct nsflow_key outer4_key(uint16_t port)
{
	return dp_key4(17, "192.0.2.1", "192.0.2.2", 40001, port);
}

Test(vxlan, outer_mode_keys_the_outer_headers_and_the_vni)
{
	struct nsflow_key want = outer4_key(4789);
	const struct dp_flow *f;

	outer4_inner4(4789, VX_FLAGS, 0x123456);
	f = run_one(3);
	want.vni = NSFLOW_VNI_VALID | 0x123456;
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.packets, 3);
	cr_assert_eq(f->v.octets, 3 * (pb.len - 14), "the outer IPv4 packet's length");
	cr_assert_eq(f->v.min_ttl, 64, "the outer TTL");
	cr_assert_arr_eq(f->v.src_mac, pb_src_mac, 6);
}

Test(vxlan, distinct_vnis_are_distinct_flows_and_vni_0_is_one)
{
	struct nsflow_key want = outer4_key(4789);
	uint32_t vnis[] = { 0, 1, 0xffffff };

	for (int i = 0; i < 3; i++) {
		pb_init(&pb);
		outer4_inner4(4789, VX_FLAGS, vnis[i]);
		pb_finish(&pb);
		dp_run(skel, DP_XDP, pb.b, pb.len, i + 1);
	}
	dp_read_flows(skel, &flows);
	cr_assert_eq(flows.n, 3);
	for (int i = 0; i < 3; i++) {
		const struct dp_flow *f;

		want.vni = NSFLOW_VNI_VALID | vnis[i];
		f = dp_find(&flows, &want);
		cr_assert_not_null(f, "no flow of VNI %u", vnis[i]);
		cr_assert_eq(f->v.packets, (uint64_t)i + 1);
	}
}

Test(vxlan, outer_ipv6_over_inner_ipv4)
{
	struct nsflow_key want = dp_key6(17, "2001:db8::1", "2001:db8::2", 40002, 4789);
	const struct dp_flow *f;

	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 17, "2001:db8::1", "2001:db8::2", 0, 60);
	pb_udp(&pb, 40002, 4789);
	pb_vxlan(&pb, VX_FLAGS, 7001);
	pb_eth_macs(&pb, in_src, in_dst, 0x0800);
	pb_ipv4(&pb, 6, "10.0.0.1", "10.0.0.2", 0, 33, 0, 0, 0);
	pb_tcp(&pb, 1234, 80, 0x02, 5);
	f = run_one(1);
	want.vni = NSFLOW_VNI_VALID | 7001;
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.octets, pb.len - 14);
}

Test(vxlan, inner_mode_keys_the_inner_ipv4_packet)
{
	struct nsflow_key want = dp_key4(17, "10.0.0.1", "10.0.0.2", 5000, 53);
	const struct dp_flow *f;

	set_mode(NSFLOW_VXLAN_INNER, 0);
	outer4_inner4(4789, VX_FLAGS, 0x123456);
	f = run_one(2);
	want.tos = 0x28;
	want.vni = NSFLOW_VNI_VALID | 0x123456;
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.octets, 2 * (20 + 8 + 30), "the inner IPv4 packet's length");
	cr_assert_eq(f->v.min_ttl, 33, "the inner TTL");
	cr_assert_arr_eq(f->v.src_mac, in_src, 6, "the inner frame's MACs");
	cr_assert_arr_eq(f->v.dst_mac, in_dst, 6);
}

/* outer IPv6 / VXLAN / inner 802.1Q 300 / IPv6 TCP, in inner mode, at XDP and TC */
static void inner_vlan_ipv6(enum dp_hook hook)
{
	struct nsflow_key want = dp_key6(6, "2001:db8:a::1", "2001:db8:b::2", 443, 50000);
	const struct dp_flow *f;

	set_mode(NSFLOW_VXLAN_INNER, 0);
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 17, "2001:db8::1", "2001:db8::2", 0, 60);
	pb_udp(&pb, 40003, 4789);
	pb_vxlan(&pb, VX_FLAGS, 42);
	pb_eth_macs(&pb, in_src, in_dst, 0x8100);
	pb_vlan(&pb, 300, 0, 0x86dd);
	pb_ipv6(&pb, 6, "2001:db8:a::1", "2001:db8:b::2", 0x40, 50);
	pb_tcp(&pb, 443, 50000, 0x12, 5);
	pb_zero(&pb, 10);
	f = run_hook(hook, 1);
	want.tos = 0x40;
	want.vlan_outer = 300;
	want.vni = NSFLOW_VNI_VALID | 42;
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.octets, 40 + 20 + 10, "the inner IPv6 packet's length");
	cr_assert_eq(f->v.tcp_flags, 0x12);
	cr_assert_eq(f->v.min_ttl, 50);
}

Test(vxlan, inner_mode_inner_vlan_and_ipv6_at_xdp)
{
	inner_vlan_ipv6(DP_XDP);
}

Test(vxlan, inner_mode_inner_vlan_and_ipv6_at_tc)
{
	inner_vlan_ipv6(DP_TC_INGRESS);
}

Test(vxlan, inner_mode_qinq_inner_ipv4_under_outer_ipv6)
{
	struct nsflow_key want = dp_key4(1, "10.9.0.1", "10.9.0.2", 0, 8 << 8);
	const struct dp_flow *f;

	set_mode(NSFLOW_VXLAN_INNER, 0);
	pb_eth(&pb, 0x86dd);
	pb_ipv6(&pb, 17, "2001:db8::1", "2001:db8::2", 0, 60);
	pb_udp(&pb, 40004, 4789);
	pb_vxlan(&pb, VX_FLAGS, 9);
	pb_eth_macs(&pb, in_src, in_dst, 0x88a8);
	pb_vlan(&pb, 100, 0, 0x8100);
	pb_vlan(&pb, 200, 0, 0x0800);
	pb_ipv4(&pb, 1, "10.9.0.1", "10.9.0.2", 0, 20, 0, 0, 0);
	pb_icmp(&pb, 8, 0);
	f = run_one(1);
	want.vlan_outer = 100;
	want.vlan_inner = 200;
	want.vni = NSFLOW_VNI_VALID | 9;
	assert_key(&f->k, &want);
}

Test(vxlan, configured_port_is_vxlan_and_4789_is_then_plain_udp)
{
	struct nsflow_key want = outer4_key(8472);
	const struct dp_flow *f;

	set_mode(NSFLOW_VXLAN_OUTER, 8472);
	outer4_inner4(8472, VX_FLAGS, 77);
	f = run_one(1);
	want.vni = NSFLOW_VNI_VALID | 77;
	assert_key(&f->k, &want);

	dp_flows_free(&flows);
	nsflow_bpf__destroy(skel);
	skel = dp_open();
	set_mode(NSFLOW_VXLAN_INNER, 8472);
	pb_init(&pb);
	outer4_inner4(4789, VX_FLAGS, 77);
	f = run_one(1);
	want = outer4_key(4789);
	assert_key(&f->k, &want);
}

Test(vxlan, off_meters_port_4789_as_plain_udp)
{
	struct nsflow_key want = outer4_key(4789);
	const struct dp_flow *f;

	set_mode(NSFLOW_VXLAN_OFF, 0);
	outer4_inner4(4789, VX_FLAGS, 5);
	f = run_one(1);
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.octets, pb.len - 14);
}

Test(vxlan, i_flag_clear_is_counted_and_metered_as_plain_udp)
{
	struct nsflow_key want = outer4_key(4789);
	const struct dp_flow *f;

	set_mode(NSFLOW_VXLAN_INNER, 0);
	outer4_inner4(4789, 0x00, 5);
	f = run_one(2);
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.packets, 2);
	cr_assert_eq(counter(NSFLOW_CNT_ERR_VXLAN_FLAGS), 2);
	cr_assert_eq(counter(NSFLOW_CNT_ERR_VXLAN_TRUNC), 0);
	cr_assert_eq(counter(NSFLOW_CNT_METERED), 2);
}

Test(vxlan, truncated_header_is_counted_and_metered_as_plain_udp)
{
	struct nsflow_key want = outer4_key(4789);
	const struct dp_flow *f;

	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "192.0.2.1", "192.0.2.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 40001, 4789);
	pb_bytes(&pb, "\x08\x00\x00", 3); /* 3 of the 8 bytes */
	f = run_one(1);
	assert_key(&f->k, &want);
	cr_assert_eq(f->v.octets, 20 + 8 + 3);
	cr_assert_eq(counter(NSFLOW_CNT_ERR_VXLAN_TRUNC), 1);
	cr_assert_eq(counter(NSFLOW_CNT_METERED), 1);
}

/* Inner mode meters the inner frame as if it were on the wire: an inner ARP is non-IP */
Test(vxlan, inner_mode_inner_arp_is_non_ip)
{
	set_mode(NSFLOW_VXLAN_INNER, 0);
	pb_eth(&pb, 0x0800);
	pb_ipv4(&pb, 17, "192.0.2.1", "192.0.2.2", 0, 64, 0, 0, 0);
	pb_udp(&pb, 40001, 4789);
	pb_vxlan(&pb, VX_FLAGS, 5);
	pb_eth_macs(&pb, in_src, in_dst, 0x0806);
	pb_zero(&pb, 28);
	pb_finish(&pb);
	cr_assert_eq(dp_run(skel, DP_XDP, pb.b, pb.len, 1), XDP_PASS_);
	dp_read_flows(skel, &flows);
	cr_assert_eq(flows.n, 0);
	cr_assert_eq(counter(NSFLOW_CNT_NON_IP), 1);
}
