// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Every capture in ../shared/pcaps (written by others) through nsflow_xdp: every frame must
 * pass; on the Ethernet captures, each frame that tshark decodes as a well-formed IP packet
 * must add one packet to the flow whose key tshark reads from the same frame, and each frame
 * the datapath refuses must be one tshark finds something wrong with too.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/logging.h>
#include "tshark.h"
#include "dp.h"
#include "pcap.h"
#include "collectors.h"

#define XDP_PASS_  2
#define MAX_FRAMES 20000

/* What tshark says of one frame. */
struct expect {
	int known;   /* an IP packet tshark decoded without complaint */
	int damaged; /* tshark found it malformed or warned about it */
	struct nsflow_key k;
	int check_proto, check_ports;
};

enum f_idx {
	F_PROTOS,
	F_QTAG,
	F_VLAN,
	F_MPLS,
	F_MEXP,
	F_MBOS,
	F_IPSRC,
	F_IPDST,
	F_IPPROTO,
	F_DSF,
	F_FRAG,
	F_I6SRC,
	F_I6DST,
	F_TCLASS,
	F_I6FRAG,
	F_TSP,
	F_TDP,
	F_USP,
	F_UDP,
	F_SSP,
	F_SDP,
	F_ICT,
	F_ICC,
	F_I6T,
	F_I6C,
	F_MALFORMED,
	F_SEVERITY,
	F_VNI,
	F_VNI_I,
	F_N
};

#define TSHARK_FIELDS                                                                              \
	"-e frame.protocols -e ieee8021ad.id -e vlan.id -e mpls.label -e mpls.exp -e mpls.bottom " \
	"-e ip.src -e ip.dst -e ip.proto -e ip.dsfield -e ip.frag_offset -e ipv6.src -e ipv6.dst " \
	"-e ipv6.tclass -e ipv6.fraghdr.offset -e tcp.srcport -e tcp.dstport -e udp.srcport "      \
	"-e udp.dstport -e sctp.srcport -e sctp.dstport -e icmp.type -e icmp.code "                \
	"-e icmpv6.type -e icmpv6.code -e _ws.malformed -e _ws.expert.severity "                   \
	"-e vxlan.vni -e vxlan.flag_i"

static const struct {
	const char *name;
	int proto;
} l4names[] = { { "tcp", 6 },	{ "udp", 17 },	{ "icmp", 1 },	{ "icmpv6", 58 }, { "sctp", 132 },
		{ "ipv6", 41 }, { "ip", 4 },	{ "esp", 50 },	{ "gre", 47 },	  { "pim", 103 },
		{ "igmp", 2 },	{ "ospf", 89 }, { "vrrp", 112 } };

static int proto_by_name(const char *n)
{
	for (size_t i = 0; i < sizeof(l4names) / sizeof(l4names[0]); i++)
		if (!strcmp(l4names[i].name, n))
			return l4names[i].proto;
	return -1;
}

static void set_addr(uint8_t *dst, const char *txt, int v4)
{
	memset(dst, 0, 16);
	if (v4) {
		dst[10] = dst[11] = 0xff;
		inet_pton(AF_INET, txt, dst + 12);
	} else {
		inet_pton(AF_INET6, txt, dst);
	}
}

/* Builds the key the datapath must produce from tshark's view of the frame. */
static void expect_from_fields(char **f, struct expect *e)
{
	char protos[512], *tok, *save = NULL, a[64], b[64];
	int layer = 0, l3 = -1, next = -1, saw_mpls = 0, v4;

	memset(e, 0, sizeof(*e));
	e->damaged = f[F_MALFORMED][0] || strstr(f[F_SEVERITY], "8388608") ||
		     strstr(f[F_SEVERITY], "6291456");
	snprintf(protos, sizeof(protos), "%s", f[F_PROTOS]);
	/* the first network layer, and what follows it and its extension headers */
	for (tok = strtok_r(protos, ":", &save); tok; tok = strtok_r(NULL, ":", &save), layer++) {
		if (l3 < 0) {
			if (!strcmp(tok, "mpls"))
				saw_mpls = 1;
			if (!strcmp(tok, "ip") || !strcmp(tok, "ipv6"))
				l3 = !strcmp(tok, "ip") ? 4 : 6;
			else if (strcmp(tok, "eth") && strcmp(tok, "ethertype") &&
				 strcmp(tok, "vlan") && strcmp(tok, "ieee8021ad") &&
				 strcmp(tok, "mpls"))
				return; /* not IP (ARP, AoE, LLC ...) */
			continue;
		}
		if (!strncmp(tok, "ipv6.", 5))
			continue; /* extension header */
		next = proto_by_name(tok);
		break;
	}
	if (l3 < 0 || (saw_mpls && !f[F_MPLS][0]))
		return;
	v4 = l3 == 4;
	if ((v4 && !f[F_IPDST][0]) || (!v4 && !f[F_I6DST][0]))
		return; /* tshark could not read the whole address pair */
	e->known = 1;
	e->k.ifindex = DP_IFINDEX;
	e->k.ip_version = l3;
	ts_nth(v4 ? f[F_IPSRC] : f[F_I6SRC], 0, a, sizeof(a));
	ts_nth(v4 ? f[F_IPDST] : f[F_I6DST], 0, b, sizeof(b));
	set_addr(e->k.src_addr, a, v4);
	set_addr(e->k.dst_addr, b, v4);
	ts_nth(v4 ? f[F_DSF] : f[F_TCLASS], 0, a, sizeof(a));
	e->k.tos = (uint8_t)strtoul(a, NULL, 0);
	if (f[F_QTAG][0]) {
		ts_nth(f[F_QTAG], 0, a, sizeof(a));
		e->k.vlan_outer = (uint16_t)atoi(a);
		ts_nth(f[F_VLAN], 0, a, sizeof(a));
		e->k.vlan_inner = (uint16_t)atoi(a);
	} else if (f[F_VLAN][0]) {
		ts_nth(f[F_VLAN], 0, a, sizeof(a));
		e->k.vlan_outer = (uint16_t)atoi(a);
		ts_nth(f[F_VLAN], 1, a, sizeof(a));
		e->k.vlan_inner = (uint16_t)atoi(a);
	}
	if (saw_mpls) {
		uint32_t label, exp, bos;

		ts_nth(f[F_MPLS], 0, a, sizeof(a));
		label = strtoul(a, NULL, 0);
		ts_nth(f[F_MEXP], 0, a, sizeof(a));
		exp = strtoul(a, NULL, 0);
		ts_nth(f[F_MBOS], 0, a, sizeof(a));
		bos = strtoul(a, NULL, 0);
		e->k.mpls_top = NSFLOW_MPLS_VALID | NSFLOW_MPLS_LSE(label, exp, bos);
	}
	/* VXLAN (tshark decodes port 4789 as it): the outer headers keyed, with the VNI */
	ts_nth(f[F_VNI_I], 0, b, sizeof(b));
	if (f[F_VNI][0] && (!strcmp(b, "1") || !strcmp(b, "True"))) {
		ts_nth(f[F_VNI], 0, a, sizeof(a));
		e->k.vni = NSFLOW_VNI_VALID | (uint32_t)strtoul(a, NULL, 0);
	}
	if (v4) {
		ts_nth(f[F_IPPROTO], 0, a, sizeof(a));
		e->k.protocol = (uint8_t)atoi(a);
		e->check_proto = 1;
	} else if (next >= 0) {
		e->k.protocol = (uint8_t)next;
		e->check_proto = 1;
	}
	/* later fragments carry no ports; tshark then shows the payload as data */
	ts_nth(v4 ? f[F_FRAG] : f[F_I6FRAG], 0, a, sizeof(a));
	if (atoi(a) != 0) {
		e->check_ports = 1;
		return;
	}
	if (next == 6 || next == 17 || next == 132) {
		int sp = next == 6 ? F_TSP : next == 17 ? F_USP : F_SSP;

		ts_nth(f[sp], 0, a, sizeof(a));
		ts_nth(f[sp + 1], 0, b, sizeof(b));
		e->k.src_port = (uint16_t)atoi(a);
		e->k.dst_port = (uint16_t)atoi(b);
		e->check_ports = a[0] != 0;
	} else if (next == 1 || next == 58) {
		ts_nth(f[next == 1 ? F_ICT : F_I6T], 0, a, sizeof(a));
		ts_nth(f[next == 1 ? F_ICC : F_I6C], 0, b, sizeof(b));
		e->k.dst_port = (uint16_t)(atoi(a) << 8 | atoi(b));
		e->check_ports = a[0] != 0;
	} else if (next >= 0) {
		e->check_ports = 1; /* no ports for other protocols */
	}
}

/* Runs tshark over the file; returns the number of frames read into e[]. */
static int tshark_expect(const char *path, struct expect *e, int max)
{
	char cmd[2048], *line = NULL;
	size_t cap = 0;
	int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -o ip.defragment:FALSE -o ipv6.defragment:FALSE "
		 "-T fields -E separator=/t -E occurrence=a -E aggregator=, " TSHARK_FIELDS
		 " 2>/dev/null",
		 path);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "tshark: %s", cmd);
	while (n < max && getline(&line, &cap, p) > 0) {
		char *f[F_N], *s = line;

		line[strcspn(line, "\n")] = 0;
		for (int i = 0; i < F_N; i++) {
			f[i] = s ? s : (char *)"";
			if (s) {
				s = strchr(s, '\t');
				if (s)
					*s++ = 0;
			}
		}
		expect_from_fields(f, &e[n++]);
	}
	free(line);
	pclose(p);
	return n;
}

/* The flow for k as the datapath holds it now: packets summed over CPUs. */
static uint64_t flow_packets(struct nsflow_bpf *s, const struct nsflow_key *k)
{
	int ncpu = libbpf_num_possible_cpus(), fd;
	struct nsflow_slot_key sk = { .flow = *k };
	struct nsflow_value v;
	__u32 zero = 0, id;
	uint64_t sum = 0;

	bpf_map_lookup_elem(bpf_map__fd(s->maps.nsflow_epoch), &zero, &id);
	fd = bpf_map_get_fd_by_id(id);
	for (sk.cpu = 0; sk.cpu < (__u32)ncpu; sk.cpu++)
		if (!bpf_map_lookup_elem(fd, &sk, &v))
			sum += v.packets;
	close(fd);
	return sum;
}

/* Zero the fields tshark could not tell us, so a lookup compares only what it did. */
static int find_match(struct nsflow_bpf *s, const struct expect *e, struct nsflow_key *found)
{
	int fd, n = 0;
	__u32 zero = 0, id;
	struct nsflow_slot_key k, next, *prev = NULL;

	if (e->check_proto && e->check_ports) {
		*found = e->k;
		return flow_packets(s, &e->k) > 0;
	}
	bpf_map_lookup_elem(bpf_map__fd(s->maps.nsflow_epoch), &zero, &id);
	fd = bpf_map_get_fd_by_id(id);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct nsflow_key a = next.flow, b = e->k;

		k = next;
		prev = &k;
		if (!e->check_proto)
			a.protocol = b.protocol = 0;
		if (!e->check_ports)
			a.src_port = b.src_port = a.dst_port = b.dst_port = 0;
		/* one flow may have an entry per CPU that ran it: count flows, not entries */
		if (!memcmp(&a, &b, sizeof(a)) &&
		    (!n || memcmp(found, &next.flow, sizeof(*found)))) {
			*found = next.flow;
			n++;
		}
	}
	close(fd);
	return n == 1;
}

struct summary {
	int frames, keyed, refused, non_ip, verified;
};

static void replay_file(const char *name, struct summary *sum)
{
	static struct expect exp[MAX_FRAMES];
	char path[1024], err[256], ks[256];
	struct nsflow_counters before, after;
	struct pcap_reader *r;
	struct pcap_frame fr;
	struct nsflow_bpf *s;
	int n, i = 0, ret, ether;

	snprintf(path, sizeof(path), "%s/%s", coll_pcap_dir(), name);
	ret = pcap_reader_open(&r, path, err, sizeof(err));
	cr_assert_eq(ret, 0, "%s", err);
	n = tshark_expect(path, exp, MAX_FRAMES);
	s = nsflow_bpf__open();
	cr_assert_not_null(s);
	s->rodata->nsflow_replay = true;
	cr_assert_eq(nsflow_bpf__load(s), 0);
	memset(sum, 0, sizeof(*sum));
	while ((ret = pcap_reader_next(r, &fr)) == 1) {
		const struct expect *e = i < n ? &exp[fr.number - 1] : NULL;
		struct nsflow_key found;
		uint64_t had = 0;
		int c, reason = -1;

		ether = (fr.linktype & 0xffff) == 1;
		i++;
		if (e && e->known && ether)
			had = flow_packets(s, &e->k);
		dp_counters(s, &before);
		/* a capture cut by its snap length: the packet on the wire was orig_len long, and
		 * its headers say so; replay mode tells the datapath that length */
		s->bss->nsflow_replay_len = fr.orig_len;
		s->bss->nsflow_replay_ns = fr.ts_ns;
		cr_assert_eq(dp_run(s, DP_XDP, fr.data, fr.len, 1), XDP_PASS_,
			     "%s frame %llu (%u bytes) did not pass", name,
			     (unsigned long long)fr.number, fr.len);
		dp_counters(s, &after);
		for (c = NSFLOW_CNT_NON_IP; c < NSFLOW_CNT_MAX; c++)
			if (after.c[c] != before.c[c])
				reason = c;
		sum->frames++;
		if (reason == NSFLOW_CNT_NON_IP)
			sum->non_ip++;
		else if (reason >= 0)
			sum->refused++;
		else
			sum->keyed++;
		if (!ether || !e)
			continue;
		/* cut by the snap length: the datapath may refuse it, but must not misread it */
		if (e->known && !e->damaged && fr.len == fr.orig_len) {
			dp_key_str(&e->k, ks, sizeof(ks));
			cr_assert_eq(reason, -1, "%s frame %llu: tshark reads %s, datapath said %s",
				     name, (unsigned long long)fr.number, ks,
				     dp_counter_name(reason));
			cr_assert(find_match(s, e, &found), "%s frame %llu: no flow for %s", name,
				  (unsigned long long)fr.number, ks);
			if (e->check_proto && e->check_ports)
				cr_assert_eq(flow_packets(s, &e->k), had + 1);
			sum->verified++;
		}
		if (reason == -1 && e->known) {
			dp_key_str(&e->k, ks, sizeof(ks));
			cr_assert(find_match(s, e, &found), "%s frame %llu: keyed, but not as %s",
				  name, (unsigned long long)fr.number, ks);
		}
		if (reason > NSFLOW_CNT_NON_IP)
			cr_assert(e->damaged || !e->known || fr.len < fr.orig_len,
				  "%s frame %llu: refused as %s but tshark decodes it cleanly",
				  name, (unsigned long long)fr.number, dp_counter_name(reason));
	}
	cr_assert_geq(ret, 0, "%s: %s", name, pcap_reader_error(r));
	cr_assert_eq(after.c[NSFLOW_CNT_SEEN], (uint64_t)sum->frames);
	pcap_reader_close(r);
	nsflow_bpf__destroy(s);
}

/* Replays the one frame of a capture in VXLAN mode mode; returns the one flow it made. */
static void replay_vxlan(const char *path, uint32_t mode, struct dp_flows *out)
{
	struct nsflow_cfg cfg = { .vxlan_mode = mode };
	struct pcap_reader *r;
	struct pcap_frame fr;
	struct nsflow_bpf *s = dp_open();
	char err[256];

	cr_assert_not_null(s);
	dp_set_cfg(s, DP_IFINDEX, NSFLOW_DIR_INGRESS, &cfg);
	cr_assert_eq(pcap_reader_open(&r, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pcap_reader_next(r, &fr), 1);
	cr_assert_eq(dp_run(s, DP_XDP, fr.data, fr.len, 1), XDP_PASS_);
	pcap_reader_close(r);
	dp_read_flows(s, out);
	nsflow_bpf__destroy(s);
	cr_assert_eq(out->n, 1, "%zu flows", out->n);
}

/*
 * The VXLAN capture in both modes, against tshark's decode of it: outer mode keys the outer
 * IPv4/UDP header (tshark's first occurrences), inner mode the inner IPv4/TCP packet (the
 * second), both with tshark's vxlan.vni; octets are the IP length tshark reads at that layer.
 */
Test(pcaps, vxlan_capture_outer_and_inner_against_tshark)
{
	char path[1024], cmd[1400], *line = NULL, *f[9], *s;
	char src[2][64], dst[2][64], len[2][16], tos[2][16];
	struct dp_flows got = { 0 };
	struct nsflow_key want;
	size_t cap = 0;
	uint32_t vni;
	FILE *p;

	snprintf(path, sizeof(path), "%s/gso-ipv4-vxlan-ipv4.pcap", coll_pcap_dir());
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -T fields -E separator=/t -E occurrence=a -E aggregator=, "
		 "-e ip.src -e ip.dst -e ip.len -e ip.dsfield -e udp.srcport -e udp.dstport "
		 "-e tcp.srcport -e tcp.dstport -e vxlan.vni 2>/dev/null",
		 path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_gt(getline(&line, &cap, p), 0, "tshark read nothing from %s", path);
	pclose(p);
	line[strcspn(line, "\n")] = 0;
	s = line;
	for (int i = 0; i < 9; i++) {
		f[i] = s ? s : (char *)"";
		if (s && (s = strchr(s, '\t')))
			*s++ = 0;
	}
	for (int l = 0; l < 2; l++) {
		ts_nth(f[0], l, src[l], sizeof(src[l]));
		ts_nth(f[1], l, dst[l], sizeof(dst[l]));
		ts_nth(f[2], l, len[l], sizeof(len[l]));
		ts_nth(f[3], l, tos[l], sizeof(tos[l]));
	}
	vni = (uint32_t)strtoul(f[8], NULL, 0);
	cr_assert(src[1][0] && f[8][0], "tshark sees no VXLAN in %s", path);

	replay_vxlan(path, NSFLOW_VXLAN_OUTER, &got);
	want = dp_key4(17, src[0], dst[0], (uint16_t)atoi(f[4]), (uint16_t)atoi(f[5]));
	want.tos = (uint8_t)strtoul(tos[0], NULL, 0);
	want.vni = NSFLOW_VNI_VALID | vni;
	cr_assert(dp_find(&got, &want), "outer mode: no flow of the outer header, VNI %u", vni);
	cr_assert_eq(got.f[0].v.octets, strtoull(len[0], NULL, 10));
	dp_flows_free(&got);

	replay_vxlan(path, NSFLOW_VXLAN_INNER, &got);
	want = dp_key4(6, src[1], dst[1], (uint16_t)atoi(f[6]), (uint16_t)atoi(f[7]));
	want.tos = (uint8_t)strtoul(tos[1], NULL, 0);
	want.vni = NSFLOW_VNI_VALID | vni;
	cr_assert(dp_find(&got, &want), "inner mode: no flow of the inner packet, VNI %u", vni);
	cr_assert_eq(got.f[0].v.octets, strtoull(len[1], NULL, 10));
	dp_flows_free(&got);
	free(line);
}

/* Is nm one of the captures NSFLOW_PCAPS_ONLY names (space-separated)? Unset: every one. */
static bool capture_wanted(const char *only, const char *nm)
{
	size_t l = strlen(nm);

	for (const char *p = only; p && (p = strstr(p, nm)); p += l)
		if ((p == only || p[-1] == ' ') && (p[l] == ' ' || !p[l]))
			return true;
	return !only;
}

/*
 * NSFLOW_PCAPS_ONLY="a.pcap b.pcap" replays those captures only (a slow emulated kernel): each
 * must be there. Over the whole directory, a corpus that lost most of its captures fails.
 */
Test(pcaps, every_capture_passes_and_keys_match_tshark, .timeout = 600)
{
	const char *only = getenv("NSFLOW_PCAPS_ONLY");
	struct dirent **ents;
	int n = scandir(coll_pcap_dir(), &ents, NULL, alphasort), files = 0, verified = 0,
	    wanted = 0;

	cr_assert_gt(n, 0, "no captures in %s (set NSFLOW_PCAPS)", coll_pcap_dir());
	if (only && !only[0])
		only = NULL;
	for (const char *p = only; p && *p; p += strcspn(p, " ")) {
		p += strspn(p, " ");
		wanted += *p != 0;
	}
	for (int i = 0; i < n; i++) {
		struct summary s;
		const char *nm = ents[i]->d_name;
		size_t l = strlen(nm);

		if (l > 5 && !strcmp(nm + l - 5, ".pcap") && capture_wanted(only, nm)) {
			replay_file(nm, &s);
			cr_log_info("%-36s %4d frames: %4d keyed (%4d checked against tshark), "
				    "%2d refused, %3d not IP",
				    nm, s.frames, s.keyed, s.verified, s.refused, s.non_ip);
			files++;
			verified += s.verified;
		}
		free(ents[i]);
	}
	free(ents);
	if (only) {
		cr_assert_eq(files, wanted, "NSFLOW_PCAPS_ONLY names %d captures, %d are in %s",
			     wanted, files, coll_pcap_dir());
		cr_assert_gt(verified, 0, "flow keys checked against tshark: none");
		return;
	}
	cr_assert_geq(files, 30);
	cr_assert_gt(verified, 1000, "flow keys checked against tshark: %d", verified);
}

/*
 * The one-frame IPv6 captures: flowLabelIPv6 is the outer header's label, the minimum and
 * maximum length are the packet's (40 + Jumbo Payload length for the jumbogram, whose 16-bit
 * payload length is 0), and the SRH kept beside the flow is the one tshark decodes.
 */
Test(pcaps, ipv6_flow_label_lengths_and_srh_match_tshark)
{
	static const char *const names[] = {
		"ipv6_jumbogram_1.pcap",      "ipv6-srh-ext-header.pcap",
		"ipv6-srh-insert-cksum.pcap", "ipv6-srh-ipproto-ether.pcap",
		"ipv6-srh-tlv-hmac.pcap",     "ipv6-srh-tlv-pad1-padn-5.pcap"
	};

	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		char path[1024], err[256];
		struct nsflow_srh_segments sg;
		struct dp_flows flows = { 0 };
		struct nsflow_bpf *skel;
		struct pcap_reader *r;
		struct pcap_frame fr;
		struct ts_v6 v;

		snprintf(path, sizeof(path), "%s/%s", coll_pcap_dir(), names[n]);
		cr_assert_eq(ts_v6_of(path, &v), 0, "tshark reads no IPv6 packet in %s", names[n]);
		skel = nsflow_bpf__open();
		cr_assert_not_null(skel);
		skel->rodata->nsflow_replay = true;
		cr_assert_eq(nsflow_bpf__load(skel), 0);
		cr_assert_eq(pcap_reader_open(&r, path, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(pcap_reader_next(r, &fr), 1, "%s: %s", names[n], pcap_reader_error(r));
		skel->bss->nsflow_replay_len = fr.orig_len;
		cr_assert_eq(dp_run(skel, DP_XDP, fr.data, fr.len, 1), XDP_PASS_);
		dp_read_flows(skel, &flows);
		cr_assert_eq(flows.n, 1, "%s: %zu flows", names[n], flows.n);
		cr_assert_eq(flows.f[0].v.flow_label, v.flow_label,
			     "%s: flow label 0x%x, tshark reads 0x%x", names[n],
			     flows.f[0].v.flow_label, v.flow_label);
		cr_assert_eq(flows.f[0].v.min_len, v.ip_len, "%s: minimum length %u, tshark %u",
			     names[n], flows.f[0].v.min_len, v.ip_len);
		cr_assert_eq(flows.f[0].v.max_len, v.ip_len, "%s: maximum length %u, tshark %u",
			     names[n], flows.f[0].v.max_len, v.ip_len);
		cr_assert_eq(flows.f[0].v.octets, v.ip_len);
		if (v.srh) {
			cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.nsflow_srh),
							 &flows.f[0].k, &sg),
				     0, "%s: no SRH kept", names[n]);
			cr_assert_arr_eq(sg.hdr, v.srh_hdr, 8, "%s: SRH header", names[n]);
			cr_assert_eq(sg.count, v.nsegs, "%s: %d segments, tshark %d", names[n],
				     sg.count, v.nsegs);
			cr_assert_arr_eq(sg.seg, v.segs, 16 * (size_t)v.nsegs, "%s: segments",
					 names[n]);
		}
		cr_log_info("%s: flow label 0x%05x, length %u, %d segments", names[n], v.flow_label,
			    v.ip_len, v.nsegs);
		dp_flows_free(&flows);
		pcap_reader_close(r);
		nsflow_bpf__destroy(skel);
	}
}
