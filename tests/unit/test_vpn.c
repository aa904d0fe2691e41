// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * VPN instances (loader/vpn.c), the VRFs of interfaces from link messages (loader/vrf.c), the
 * VPN fields of records (loader/agent_vpn.c) and the VRF-name options the exporter sends, read
 * back with the strict decoder.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include "agent_vpn.h"
#include "exp_decode.h"
#include "exp_encoder.h"
#include "exp_template.h"
#include "vpn.h"
#include "vrf.h"

static char err[512];

static void rd_is(const char *text, const uint8_t want[8], const char *back)
{
	uint8_t rd[8];
	char buf[64];

	cr_assert_eq(vpn_rd_parse(text, rd, err, sizeof(err)), 0, "%s: %s", text, err);
	cr_assert_arr_eq(rd, want, 8, "%s", text);
	vpn_rd_format(rd, buf, sizeof(buf));
	cr_assert_str_eq(buf, back, "%s", text);
}

/* RFC 4364 4.2: 2 bytes of type, then administrator and assigned number */
Test(vpn, route_distinguishers_of_each_type)
{
	rd_is("65000:100", (const uint8_t[8]){ 0, 0, 0xfd, 0xe8, 0, 0, 0, 100 }, "65000:100");
	rd_is("1:4294967295", (const uint8_t[8]){ 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff },
	      "1:4294967295");
	rd_is("192.0.2.1:7", (const uint8_t[8]){ 0, 1, 192, 0, 2, 1, 0, 7 }, "192.0.2.1:7");
	rd_is("4200000000:5", (const uint8_t[8]){ 0, 2, 0xfa, 0x56, 0xea, 0, 0, 5 },
	      "4200000000:5");
	rd_is("65000L:9", (const uint8_t[8]){ 0, 2, 0, 0, 0xfd, 0xe8, 0, 9 }, "65000L:9");
	static const char *const bad[] = { "65000",	      ":1",
					   "65000:",	      "65000:-1",
					   "192.0.2.1:65536", "4200000000:65536",
					   "4294967296:1",    "1.2.3.4.5:1",
					   "0x10:1",	      "65000: 1" };
	uint8_t rd[8];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(vpn_rd_parse(bad[i], rd, err, sizeof(err)), -EINVAL, "%s", bad[i]);
}

static struct vpn_instance vpns[4];
static size_t n_vpns;

static void add(const char *spec)
{
	struct vpn_instance v;

	cr_assert_eq(vpn_instance_parse(&v, spec, "test", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vpn_instance_add(vpns, &n_vpns, &v, "test", err, sizeof(err)), 0, "%s", err);
}

static void instances(void)
{
	n_vpns = 0;
	add("blue:rd=65000:100:labels=100,1000-1099");
	add("red:rd=192.0.2.1:7:labels=200:id=20:address=198.51.100.1");
}

Test(vpn, labels_map_to_their_instance)
{
	instances();
	cr_assert_str_eq(vpn_by_label(vpns, n_vpns, 100)->name, "blue");
	cr_assert_str_eq(vpn_by_label(vpns, n_vpns, 1000)->name, "blue");
	cr_assert_str_eq(vpn_by_label(vpns, n_vpns, 1099)->name, "blue");
	cr_assert_null(vpn_by_label(vpns, n_vpns, 1100));
	cr_assert_null(vpn_by_label(vpns, n_vpns, 99));
	cr_assert_str_eq(vpn_by_label(vpns, n_vpns, 200)->name, "red");
	cr_assert_str_eq(vpn_by_name(vpns, n_vpns, "red")->vrf, "red");
}

/* An RTM_NEWLINK as the kernel sends it: name, master, and for a VRF its kind and table */
static void link_msg(struct vrf_track *t, uint16_t type, int ifindex, const char *name,
		     uint32_t master, uint32_t vrf_table)
{
	uint8_t buf[512] = { 0 };
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct rtattr *a;

	h->nlmsg_type = type;
	ifi->ifi_index = ifindex;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
#define ADD(t_, data, len)                                                        \
	do {                                                                      \
		a = (struct rtattr *)(buf + NLMSG_ALIGN(h->nlmsg_len));           \
		a->rta_type = (t_);                                               \
		a->rta_len = (unsigned short)RTA_LENGTH(len);                     \
		if (len)                                                          \
			memcpy(RTA_DATA(a), data, len);                           \
		h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len); \
	} while (0)
	ADD(IFLA_IFNAME, name, strlen(name) + 1);
	if (master)
		ADD(IFLA_MASTER, &master, 4);
	if (vrf_table) {
		struct rtattr *info, *data;

		ADD(IFLA_LINKINFO, "", 0);
		info = a;
		ADD(IFLA_INFO_KIND, "vrf", 4);
		ADD(IFLA_INFO_DATA, "", 0);
		data = a;
		ADD(IFLA_VRF_TABLE, &vrf_table, 4);
		data->rta_len = (unsigned short)((uint8_t *)a + a->rta_len - (uint8_t *)data);
		info->rta_len = (unsigned short)((uint8_t *)a + a->rta_len - (uint8_t *)info);
	}
#undef ADD
	cr_assert_eq(vrf_track_msg(t, h), 0);
}

static struct vrf_track track;

static void links(void)
{
	memset(&track, 0, sizeof(track));
	track.fd = -1;
	link_msg(&track, RTM_NEWLINK, 10, "blue", 0, 10); /* ip link add blue type vrf table 10 */
	link_msg(&track, RTM_NEWLINK, 11, "red", 0, 20);
	link_msg(&track, RTM_NEWLINK, 3, "eth1", 10, 0); /* ip link set eth1 master blue */
	link_msg(&track, RTM_NEWLINK, 4, "eth2", 0, 0);	 /* in no VRF: not kept */
	link_msg(&track, RTM_NEWLINK, 5, "br0", 0, 0);
	link_msg(&track, RTM_NEWLINK, 6, "eth3", 5, 0); /* a bridge port: a master, no VRF */
}

Test(vpn, vrfs_of_interfaces_follow_link_messages)
{
	links();
	cr_assert_eq(vrf_table_of(&track, 3), 10);
	cr_assert_eq(vrf_table_of(&track, 4), 0);
	cr_assert_eq(vrf_table_of(&track, 6), 0, "a bridge is no VRF");
	cr_assert_eq(vrf_table_of(&track, 10), 10, "the VRF device itself");
	cr_assert_str_eq(vrf_device_of_table(&track, 20)->name, "red");
	link_msg(&track, RTM_NEWLINK, 3, "eth1", 11, 0); /* moved to red */
	cr_assert_eq(vrf_table_of(&track, 3), 20);
	link_msg(&track, RTM_NEWLINK, 3, "eth1", 0, 0); /* nomaster */
	cr_assert_eq(vrf_table_of(&track, 3), 0);
	link_msg(&track, RTM_NEWLINK, 3, "eth1", 10, 0);
	link_msg(&track, RTM_DELLINK, 10, "blue", 0, 10);
	cr_assert_eq(vrf_table_of(&track, 3), 0, "its VRF was deleted");
	vrf_track_close(&track);
}

Test(vpn, instance_ids_from_vrf_devices)
{
	links();
	instances();
	cr_assert_eq(vpn_resolve_ids(vpns, n_vpns, &track, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vpns[0].id, 10, "blue: VRF device blue's table");
	cr_assert_eq(vpns[1].id, 20);
	add("green:rd=1:1");
	cr_assert_eq(vpn_resolve_ids(vpns, n_vpns, &track, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "vpn-instance green: no VRF device green"), "%s", err);
	instances();
	vpns[1].id = 21;
	cr_assert_eq(vpn_resolve_ids(vpns, n_vpns, &track, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "id=21, but VRF device red has table 20"), "%s", err);
	vrf_track_close(&track);
}

#define LSE(label, bos) ((uint32_t)(label) << 4 | (bos))

Test(vpn, record_fields_from_interface_and_labels)
{
	struct ns_record r;

	links();
	instances();
	cr_assert_eq(vpn_resolve_ids(vpns, n_vpns, &track, err, sizeof(err)), 0, "%s", err);
	/* ingress on an interface in VRF blue */
	memset(&r, 0, sizeof(r));
	r.ip_version = 4;
	r.ingress_ifindex = 3;
	cr_assert(vpn_record_fill(vpns, n_vpns, &track, &r));
	cr_assert_eq(r.ingress_vrf, 10);
	cr_assert_eq(r.egress_vrf, 0);
	cr_assert_arr_eq(r.vpn_rd, ((uint8_t[8]){ 0, 0, 0xfd, 0xe8, 0, 0, 0, 100 }), 8);
	cr_assert_eq(r.mpls_top_type, 0);
	/* at a PE: a transport label over red's VPN label, on an interface in no VRF */
	memset(&r, 0, sizeof(r));
	r.ingress_ifindex = 4;
	r.mpls_count = 2;
	r.mpls_lse[0] = LSE(3000, 0);
	r.mpls_lse[1] = LSE(200, 1);
	cr_assert(vpn_record_fill(vpns, n_vpns, &track, &r));
	cr_assert_eq(r.ingress_vrf, 20);
	cr_assert_arr_eq(r.vpn_rd, ((uint8_t[8]){ 0, 1, 192, 0, 2, 1, 0, 7 }), 8);
	cr_assert_eq(r.mpls_top_type, 0, "the top label is no instance's");
	/* red's label alone: it is the top label too, type VPN with red's address */
	r.mpls_count = 1;
	r.mpls_lse[0] = LSE(200, 1);
	cr_assert(vpn_record_fill(vpns, n_vpns, &track, &r));
	cr_assert_eq(r.mpls_top_type, VPN_TOP_LABEL_TYPE);
	cr_assert_arr_eq(r.mpls_top_addr, ((uint8_t[4]){ 198, 51, 100, 1 }), 4);
	/* a label that is nobody's, no bottom of stack: no VRF */
	memset(&r, 0, sizeof(r));
	r.ingress_ifindex = 4;
	r.mpls_count = 1;
	r.mpls_lse[0] = LSE(555, 1);
	cr_assert_not(vpn_record_fill(vpns, n_vpns, &track, &r));
	/* egress out of an interface in blue, and an ingress flow routed into blue */
	memset(&r, 0, sizeof(r));
	r.direction = 1;
	r.egress_ifindex = 3;
	cr_assert(vpn_record_fill(vpns, n_vpns, &track, &r));
	cr_assert_eq(r.egress_vrf, 10);
	cr_assert_eq(r.ingress_vrf, 0);
	cr_assert_eq(r.vpn_rd[3], 0xe8, "the egress VRF's RD when ingress has none");
	vrf_track_close(&track);
}

/* VPN templates: the original's fields, then 234, 235, 90; 46/47 only for a VPN top label */
Test(vpn, templates)
{
	static struct ns_tmpl_set ts;

	cr_assert_eq(ns_tmpl_set_init(&ts, NS_PROTO_IPFIX), 0);
	for (uint16_t id = NS_TMPL_IPV4; id <= NS_TMPL_MPLS; id++) {
		const struct ns_tmpl *o = ns_tmpl_get(&ts, id), *v;

		v = ns_tmpl_get(&ts, ns_tmpl_vpn_id(id));
		cr_assert_eq(v->id, NS_TMPL_VPN + id - NS_TMPL_IPV4);
		cr_assert_eq(v->n_fields, o->n_fields + 3);
		cr_assert_eq(v->fields[o->n_fields].type, 234);
		cr_assert_eq(v->fields[o->n_fields + 2].type, 90);
		cr_assert_eq(v->fields[o->n_fields + 2].len, 8);
		cr_assert_eq(ns_tmpl_vpn_has_mpls(v->id), id == NS_TMPL_MPLS || ((id - 256) & 2),
			     "%u", id);
		if (ns_tmpl_vpn_has_mpls(v->id)) {
			const struct ns_tmpl *t = ns_tmpl_get(&ts, ns_tmpl_vpn_top_id(v->id));

			cr_assert_eq(t->n_fields, v->n_fields + 2);
			cr_assert_eq(t->fields[v->n_fields].type, 46);
			cr_assert_eq(t->fields[v->n_fields + 1].type, 47);
		}
	}
	cr_assert_eq(ns_tmpl_get(&ts, ns_tmpl_vpn_id(ns_tmpl_routed_id(NS_TMPL_IPV6)))->id,
		     NS_TMPL_ROUTED_VPN + 1);
	cr_assert_eq(ns_tmpl_vpn_id(NS_TMPL_AGG), NS_TMPL_AGG, "aggregates have no VPN twin");
}

static void on_vrf_name(void *arg, const struct ns_dec_record *r)
{
	char(*names)[40] = arg;
	size_t len = 0;
	const uint8_t *name;
	uint64_t id;

	if (r->tmpl->id != NS_TMPL_OPT_VRF)
		return;
	cr_assert_eq(r->tmpl->n_scope, 1);
	cr_assert_eq(r->tmpl->type[1], 234);
	cr_assert_eq(r->tmpl->type[2], 236);
	cr_assert_eq(r->tmpl->len[2], 32, "fixed length, as nfdump reads it");
	id = ns_dec_uint(r, 234, 0);
	name = ns_dec_field(r, 236, &len);
	cr_assert_eq(len, 32);
	cr_assert_lt(id, 64);
	snprintf(names[id], 40, "%.*s", (int)len, (const char *)name);
}

/* The VRF names go out in options, in v9 and IPFIX, and decode back to what was given */
Test(vpn, vrf_name_options_decode_back)
{
	static const struct ns_vrf_info vrfs[] = { { 10, "blue" },
						   { 20, "a-name-of-31-characters-long-xx" } };
	static struct ns_export_context ctx = { .vrfs = vrfs, .n_vrfs = 2 };
	static const enum ns_proto protos[] = { NS_PROTO_V9, NS_PROTO_IPFIX };

	for (size_t p = 0; p < 2; p++) {
		static struct ns_encoder enc;
		static struct ns_capture cap;
		static struct ns_decoder dec;
		struct ns_export_opts o;
		char names[64][40] = { { 0 } };

		ns_export_opts_default(&o);
		memset(&cap, 0, sizeof(cap));
		cr_assert_eq(ns_encoder_init(&enc, protos[p], &o, &ctx, 0, ns_capture_emit, &cap),
			     0);
		cr_assert_eq(ns_encoder_refresh(&enc, 1000), 0);
		cr_assert_eq(ns_encoder_flush(&enc, 1000), 0);
		ns_decoder_init(&dec, protos[p]);
		dec.on_record = on_vrf_name;
		dec.arg = names;
		for (size_t i = 0; i < cap.n; i++)
			cr_assert_eq(ns_decode(&dec, cap.msg[i], cap.len[i], err, sizeof(err)), 0,
				     "%s", err);
		cr_assert_str_eq(names[10], "blue");
		cr_assert_str_eq(names[20], "a-name-of-31-characters-long-xx");
		ns_encoder_free(&enc);
		ns_capture_free(&cap);
	}
}
