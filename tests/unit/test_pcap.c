// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The replay capture reader, checked against tshark on the shared real captures and on
 * captures this test writes for what those do not cover.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcap.h"
#include "collectors.h"

#define MAX_FRAMES 4096
#define SUPPORTED                                                                                \
	"replay reads Ethernet (1), Linux cooked capture SLL (113) and SLL2 (276), raw IP (12, " \
	"14, 101, 228, 229), PPP (9) and PPP in HDLC framing (50)"

struct tshark_frame {
	uint64_t ts_ns;
	uint32_t len, cap_len;
	char extra[3][64]; /* further fields asked for, as tshark prints them */
};

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/nsflow-test-pcap-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];

	if (getenv("NSFLOW_KEEP_TMP")) /* to look at what a failing test wrote */
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

/* "808464432.999999000" to ns, exactly: no floating point on the way */
static uint64_t parse_epoch(const char *s)
{
	uint64_t sec = strtoull(s, NULL, 10), frac = 0;
	const char *dot = strchr(s, '.');
	int digits = 0;

	if (dot)
		for (dot++; *dot >= '0' && *dot <= '9' && digits < 9; dot++, digits++)
			frac = frac * 10 + (uint64_t)(*dot - '0');
	for (; digits < 9; digits++)
		frac *= 10;
	return sec * 1000000000u + frac;
}

/* Runs tshark over path; fields after the four fixed ones land in extra[]. Returns frames. */
static size_t run_tshark(const char *path, const char *extra_fields, struct tshark_frame *out)
{
	char cmd[1024], line[1024];
	size_t n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -T fields -E separator=/t -e frame.number -e frame.time_epoch "
		 "-e frame.len -e frame.cap_len %s 2>/dev/null",
		 path, extra_fields);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "popen tshark");
	while (fgets(line, sizeof(line), p)) {
		char *save, *tok;
		int col = 0;

		cr_assert_lt(n, MAX_FRAMES);
		memset(&out[n], 0, sizeof(out[n]));
		line[strcspn(line, "\n")] = 0;
		for (tok = strtok_r(line, "\t", &save); tok;
		     tok = strtok_r(NULL, "\t", &save), col++) {
			if (col == 0)
				cr_assert_eq(strtoull(tok, NULL, 10), n + 1);
			else if (col == 1)
				out[n].ts_ns = parse_epoch(tok);
			else if (col == 2)
				out[n].len = strtoul(tok, NULL, 10);
			else if (col == 3)
				out[n].cap_len = strtoul(tok, NULL, 10);
			else if (col < 7)
				snprintf(out[n].extra[col - 4], sizeof(out[n].extra[0]), "%s", tok);
		}
		n++;
	}
	cr_assert_eq(pclose(p), 0, "tshark failed on %s", path);
	return n;
}

struct frame_copy {
	struct pcap_frame f;
	uint8_t data[16384];
};

/* Reads a whole capture; returns what the last pcap_reader_next() returned (0 at a clean end). */
static int read_all(const char *path, struct frame_copy *out, size_t *n,
		    struct pcap_reader_stats *st, char *errmsg)
{
	struct pcap_reader *r;
	struct pcap_frame f;
	char err[512];
	int ret;

	*n = 0;
	ret = pcap_reader_open(&r, path, err, sizeof(err));
	cr_assert_eq(ret, 0, "open %s: %s", path, err);
	while ((ret = pcap_reader_next(r, &f)) == 1) {
		cr_assert_lt(*n, MAX_FRAMES);
		out[*n].f = f;
		memcpy(out[*n].data, f.data,
		       f.len < sizeof(out[0].data) ? f.len : sizeof(out[0].data));
		(*n)++;
	}
	if (st)
		*st = *pcap_reader_stats(r);
	if (errmsg)
		strcpy(errmsg, ret < 0 ? pcap_reader_error(r) : "");
	pcap_reader_close(r);
	return ret;
}

static struct frame_copy frames[MAX_FRAMES];
static struct tshark_frame ts[MAX_FRAMES];

static const char *pcap_path(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", coll_pcap_dir(), name);
	return path;
}

Test(pcap, every_shared_capture_matches_tshark)
{
	const char *dir = coll_pcap_dir();
	struct pcap_reader_stats st;
	struct dirent *de;
	size_t files = 0;
	DIR *d;

	d = opendir(dir);
	cr_assert_not_null(d, "%s: %s (set NSFLOW_PCAPS)", dir, strerror(errno));
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), n, nt, i;
		char path[512];

		if (len < 6 || (strcmp(de->d_name + len - 5, ".pcap") &&
				(len < 7 || strcmp(de->d_name + len - 7, ".pcapng"))))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		cr_assert_eq(read_all(path, frames, &n, &st, NULL), 0, "%s", path);
		nt = run_tshark(path, "", ts);
		/* every frame tshark sees is either yielded or counted as skipped */
		cr_assert_eq(n + st.not_ip + st.too_short, nt,
			     "%s: %zu + %" PRIu64 " skipped vs %zu", path, n,
			     st.not_ip + st.too_short, nt);
		cr_assert_gt(nt, 0, "%s", path);
		for (i = 0; i < n; i++) {
			const struct pcap_frame *f = &frames[i].f;
			const struct tshark_frame *t = &ts[f->number - 1];

			cr_assert_eq(f->ts_ns, t->ts_ns,
				     "%s frame %" PRIu64 ": %" PRIu64 " vs %" PRIu64, path,
				     f->number, f->ts_ns, t->ts_ns);
			if (f->linktype == 1) {
				cr_assert_eq(f->len, t->cap_len, "%s frame %" PRIu64, path,
					     f->number);
				cr_assert_eq(f->orig_len, t->len, "%s frame %" PRIu64, path,
					     f->number);
			}
		}
		files++;
	}
	closedir(d);
	cr_assert_geq(files, 39, "only %zu captures in %s", files, dir);
}

Test(pcap, linux_cooked_becomes_ethernet)
{
	const char *path = pcap_path("mptcp-v1.pcap");
	size_t n, nt, i;

	cr_assert_eq(read_all(path, frames, &n, NULL, NULL), 0);
	nt = run_tshark(path, "-e sll.etype -e sll.src.eth", ts);
	cr_assert_eq(n, nt);
	cr_assert_eq(n, 20);
	for (i = 0; i < n; i++) {
		const uint8_t *d = frames[i].data;
		unsigned int etype = strtoul(ts[i].extra[0], NULL, 16);
		char mac[18];

		cr_assert_eq(frames[i].f.linktype, 113);
		cr_assert_eq((unsigned int)(d[12] << 8 | d[13]), etype, "frame %zu", i + 1);
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", d[6], d[7], d[8], d[9],
			 d[10], d[11]);
		cr_assert_str_eq(mac, ts[i].extra[1], "frame %zu", i + 1);
		cr_assert_eq(memcmp(d, "\0\0\0\0\0\0", 6), 0, "no destination on a cooked capture");
		/* the 16-byte cooked header became a 14-byte Ethernet header */
		cr_assert_eq(frames[i].f.len, ts[i].cap_len - 2);
		cr_assert_eq(frames[i].f.orig_len, ts[i].len - 2);
		cr_assert_eq(d[14] >> 4, 4, "IPv4 right after the Ethernet header");
	}
}

Test(pcap, ppp_becomes_ethernet)
{
	static const char *const files[] = { "mpls-traceroute.pcap", "lspping-fec-ldp.pcap",
					     "mpls-ldp-hello.pcap", "icmp-rfc5837.pcap" };
	size_t total = 0;

	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		const char *path = pcap_path(files[k]);
		size_t n, nt, i;

		cr_assert_eq(read_all(path, frames, &n, NULL, NULL), 0);
		nt = run_tshark(path, "-e ppp.protocol", ts);
		cr_assert_eq(n, nt, "%s", path);
		for (i = 0; i < n; i++) {
			const uint8_t *d = frames[i].data;
			unsigned int proto = strtoul(ts[i].extra[0], NULL, 16);
			unsigned int etype = d[12] << 8 | d[13];

			cr_assert_eq(frames[i].f.linktype, 9);
			cr_assert_eq(etype, proto == 0x21 ? 0x0800u : 0x8847u, "%s frame %zu: %s",
				     path, i + 1, ts[i].extra[0]);
			if (etype == 0x0800)
				cr_assert_eq(d[14] >> 4, 4);
			/* ff 03 and a two-byte protocol (4 bytes) became 14 */
			cr_assert_eq(frames[i].f.len, ts[i].cap_len + 10, "%s frame %zu", path,
				     i + 1);
		}
		total += n;
	}
	cr_assert_eq(total, 33);
}

/*
 * These four carry 0x30000001 in the link-type field. pcap-savefile(5) and
 * draft-ietf-opsawg-pcap put the FCS length in the top 4 bits (16-bit words) and make it
 * meaningful only with the P bit (0x04000000), which is clear here: the FCS length is unknown,
 * so the reader strips nothing, as libpcap and tshark do, and must not refuse the file for
 * the upper bits.
 */
Test(pcap, fcs_bits_without_p_bit_strip_nothing)
{
	static const char *const files[] = { "mpls-label-heapoverflow.pcap",
					     "gre-heapoverflow-1.pcap", "gre-heapoverflow-2.pcap",
					     "heapoverflow-tcp_print.pcap" };

	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		const char *path = pcap_path(files[k]);
		size_t n, nt, i;

		cr_assert_eq(read_all(path, frames, &n, NULL, NULL), 0);
		nt = run_tshark(path, "", ts);
		cr_assert_eq(n, nt);
		for (i = 0; i < n; i++) {
			cr_assert_eq(frames[i].f.linktype, 1);
			cr_assert_eq(frames[i].f.len, ts[i].cap_len);
			cr_assert_eq(frames[i].f.orig_len, ts[i].len);
		}
	}
}

/* Writes capture files in either byte order. */
struct writer {
	FILE *f;
	bool be;
};

static void put(struct writer *w, const void *p, size_t n)
{
	cr_assert_eq(fwrite(p, 1, n, w->f), n);
}

static void put16(struct writer *w, uint16_t v)
{
	uint8_t b[2] = { v, v >> 8 };

	if (w->be)
		b[0] = v >> 8, b[1] = v;
	put(w, b, 2);
}

static void put32(struct writer *w, uint32_t v)
{
	if (w->be) {
		put16(w, v >> 16);
		put16(w, v);
	} else {
		put16(w, v);
		put16(w, v >> 16);
	}
}

static const char *tmp_path(const char *name)
{
	static char path[2][256];
	static int i;

	i ^= 1;
	snprintf(path[i], sizeof(path[i]), "%s/%s", tmpdir, name);
	return path[i];
}

static struct writer pcap_create(const char *name, bool be, bool nsec, uint32_t linktype)
{
	struct writer w = { .be = be };

	w.f = fopen(tmp_path(name), "wb");
	cr_assert_not_null(w.f);
	put32(&w, nsec ? 0xa1b23c4d : 0xa1b2c3d4);
	put16(&w, 2);
	put16(&w, 4);
	put32(&w, 0);
	put32(&w, 0);
	put32(&w, 65535);
	put32(&w, linktype);
	return w;
}

static void pcap_put(struct writer *w, uint32_t sec, uint32_t frac, const void *data,
		     uint32_t caplen, uint32_t orig_len)
{
	put32(w, sec);
	put32(w, frac);
	put32(w, caplen);
	put32(w, orig_len);
	put(w, data, caplen);
}

/* IPv4/UDP 10.0.0.1:53 -> 10.0.0.2:53, 28 bytes, after an Ethernet header */
static const uint8_t eth_udp[] = {
	0x02, 0,    0,	  0,	0,    0x02, 0x02, 0,	0,    0,    0,	  0x01, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0xf9, 0x7e, 10,   0,
	0,    1,    10,	  0,	0,    2,    0x00, 0x35, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
static const uint8_t ipv6_hdr[40] = { 0x60, 0, 0, 0, 0, 0, 59, 64, [23] = 1, [39] = 2 };

Test(pcap, ethernet_fcs_with_p_bit_is_stripped, .init = make_tmpdir, .fini = remove_tmpdir)
{
	uint8_t frame[sizeof(eth_udp) + 4];
	struct writer w;
	size_t n;

	memcpy(frame, eth_udp, sizeof(eth_udp));
	memcpy(frame + sizeof(eth_udp), "\xde\xad\xbe\xef", 4);
	/* P bit set, FCS length 2 words = 4 bytes */
	w = pcap_create("fcs.pcap", false, false, 0x24000001);
	pcap_put(&w, 10, 1, frame, sizeof(frame), sizeof(frame));
	/* snapped before the FCS: nothing of it was captured */
	pcap_put(&w, 10, 2, frame, 20, sizeof(frame));
	/* snapped inside the FCS: the captured half goes */
	pcap_put(&w, 10, 3, frame, sizeof(frame) - 2, sizeof(frame));
	fclose(w.f);
	cr_assert_eq(read_all(tmp_path("fcs.pcap"), frames, &n, NULL, NULL), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(frames[0].f.len, sizeof(eth_udp));
	cr_assert_eq(frames[0].f.orig_len, sizeof(eth_udp));
	cr_assert_eq(memcmp(frames[0].data, eth_udp, sizeof(eth_udp)), 0);
	cr_assert_eq(frames[1].f.len, 20);
	cr_assert_eq(frames[1].f.orig_len, sizeof(eth_udp));
	cr_assert_eq(frames[2].f.len, sizeof(eth_udp));
	/* tshark agrees that the last 4 bytes are the FCS */
	cr_assert_eq(run_tshark(tmp_path("fcs.pcap"), "-e eth.fcs", ts), 3);
	cr_assert_str_eq(ts[0].extra[0], "0xdeadbeef");
}

Test(pcap, nanosecond_big_endian, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct writer w;
	size_t n, i;

	w = pcap_create("ns-be.pcap", true, true, 1);
	pcap_put(&w, 1700000000, 123456789, eth_udp, sizeof(eth_udp), sizeof(eth_udp));
	pcap_put(&w, 1700000000, 999999999, eth_udp, sizeof(eth_udp), 1500);
	pcap_put(&w, 1700000001, 1, eth_udp, 20, sizeof(eth_udp));
	fclose(w.f);
	cr_assert_eq(read_all(tmp_path("ns-be.pcap"), frames, &n, NULL, NULL), 0);
	cr_assert_eq(run_tshark(tmp_path("ns-be.pcap"), "", ts), 3);
	cr_assert_eq(n, 3);
	cr_assert_eq(frames[0].f.ts_ns, 1700000000123456789ull);
	cr_assert_eq(frames[2].f.ts_ns, 1700000001000000001ull);
	for (i = 0; i < n; i++) {
		cr_assert_eq(frames[i].f.ts_ns, ts[i].ts_ns);
		cr_assert_eq(frames[i].f.len, ts[i].cap_len);
		cr_assert_eq(frames[i].f.orig_len, ts[i].len);
	}
	cr_assert_eq(memcmp(frames[0].data, eth_udp, sizeof(eth_udp)), 0);
}

static void assert_ethertype(const struct frame_copy *fc, uint16_t type, const uint8_t *l3,
			     size_t l3len)
{
	cr_assert_eq(fc->f.len, 14 + l3len);
	cr_assert_eq((uint16_t)(fc->data[12] << 8 | fc->data[13]), type);
	cr_assert_eq(memcmp(fc->data + 14, l3, l3len), 0);
}

Test(pcap, raw_ip_link_types, .init = make_tmpdir, .fini = remove_tmpdir)
{
	static const uint32_t lts[] = { 101, 12, 14 };
	const uint8_t *ip4 = eth_udp + 14, junk[20] = { 0x50 };
	struct pcap_reader_stats st;
	struct writer w;
	size_t n;

	for (size_t k = 0; k < 3; k++) {
		w = pcap_create("raw.pcap", k == 1, false, lts[k]);
		pcap_put(&w, 1, 0, ip4, 28, 28);
		pcap_put(&w, 2, 0, ipv6_hdr, 40, 40);
		pcap_put(&w, 3, 0, junk, 20, 20); /* version 5: not IP */
		pcap_put(&w, 4, 0, junk, 0, 0);	  /* nothing captured */
		fclose(w.f);
		cr_assert_eq(read_all(tmp_path("raw.pcap"), frames, &n, &st, NULL), 0);
		cr_assert_eq(n, 2);
		assert_ethertype(&frames[0], 0x0800, ip4, 28);
		assert_ethertype(&frames[1], 0x86dd, ipv6_hdr, 40);
		cr_assert_eq(frames[1].f.number, 2);
		cr_assert_eq(st.not_ip, 1);
		cr_assert_eq(st.too_short, 1);
	}
	/* LINKTYPE_IPV4 / IPV6 name the family: the version nibble is the datapath's to check */
	w = pcap_create("ipv4.pcap", false, false, 228);
	pcap_put(&w, 1, 0, junk, 20, 20);
	fclose(w.f);
	cr_assert_eq(read_all(tmp_path("ipv4.pcap"), frames, &n, NULL, NULL), 0);
	assert_ethertype(&frames[0], 0x0800, junk, 20);
	w = pcap_create("ipv6.pcap", false, false, 229);
	pcap_put(&w, 1, 0, ipv6_hdr, 40, 60);
	fclose(w.f);
	cr_assert_eq(read_all(tmp_path("ipv6.pcap"), frames, &n, NULL, NULL), 0);
	assert_ethertype(&frames[0], 0x86dd, ipv6_hdr, 40);
	cr_assert_eq(frames[0].f.orig_len, 74);
}

Test(pcap, ppp_framings_and_control_protocols, .init = make_tmpdir, .fini = remove_tmpdir)
{
	const uint8_t *ip4 = eth_udp + 14;
	uint8_t pkt[64];
	struct pcap_reader_stats st;
	struct writer w;
	size_t n;

	w = pcap_create("ppp.pcap", false, false, 50);
	/* ff 03 + 0x0021 */
	memcpy(pkt, "\xff\x03\x00\x21", 4);
	memcpy(pkt + 4, ip4, 28);
	pcap_put(&w, 1, 0, pkt, 32, 32);
	/* address/control omitted, protocol compressed to one byte: 0x57 IPv6 */
	pkt[0] = 0x57;
	memcpy(pkt + 1, ipv6_hdr, 40);
	pcap_put(&w, 2, 0, pkt, 41, 41);
	/* MPLS multicast 0x0283 without address/control */
	memcpy(pkt, "\x02\x83\x00\x01\x01\x40", 6);
	pcap_put(&w, 3, 0, pkt, 6, 6);
	/* LCP echo request: counted, not yielded */
	memcpy(pkt, "\xff\x03\xc0\x21\x09\x01\x00\x08\x00\x00\x00\x00", 12);
	pcap_put(&w, 4, 0, pkt, 12, 12);
	/* IPCP */
	memcpy(pkt, "\xff\x03\x80\x21\x01\x01\x00\x04", 8);
	pcap_put(&w, 5, 0, pkt, 8, 8);
	/* Cisco HDLC framing with an EtherType */
	memcpy(pkt, "\x0f\x00\x08\x00", 4);
	memcpy(pkt + 4, ip4, 28);
	pcap_put(&w, 6, 0, pkt, 32, 32);
	/* cut inside the PPP header */
	pcap_put(&w, 7, 0, "\xff\x03\x00", 3, 3);
	fclose(w.f);
	cr_assert_eq(read_all(tmp_path("ppp.pcap"), frames, &n, &st, NULL), 0);
	cr_assert_eq(n, 4);
	assert_ethertype(&frames[0], 0x0800, ip4, 28);
	assert_ethertype(&frames[1], 0x86dd, ipv6_hdr, 40);
	assert_ethertype(&frames[2], 0x8848, (const uint8_t *)"\x00\x01\x01\x40", 4);
	assert_ethertype(&frames[3], 0x0800, ip4, 28);
	cr_assert_eq(frames[3].f.number, 6);
	cr_assert_eq(st.not_ip, 2);
	cr_assert_eq(st.too_short, 1);
}

Test(pcap, linux_cooked_v2_and_non_ethertype, .init = make_tmpdir, .fini = remove_tmpdir)
{
	const uint8_t *ip4 = eth_udp + 14;
	uint8_t pkt[64] = { 0 };
	struct pcap_reader_stats st;
	struct writer w;
	size_t n;

	w = pcap_create("sll2.pcap", false, false, 276);
	/* protocol, reserved, ifindex 3, ARPHRD_ETHER, outgoing, 6-byte address */
	memcpy(pkt,
	       "\x86\xdd\x00\x00\x00\x00\x00\x03\x00\x01\x04\x06\xaa\xbb\xcc\xdd\xee\xff\x00\x00",
	       20);
	memcpy(pkt + 20, ipv6_hdr, 40);
	pcap_put(&w, 1, 0, pkt, 60, 60);
	/* a 4-byte address (IPIP tunnel): no source MAC */
	memcpy(pkt,
	       "\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x04\x0a\x00\x00\x01\x00\x00\x00\x00",
	       20);
	memcpy(pkt + 20, ip4, 28);
	pcap_put(&w, 2, 0, pkt, 48, 48);
	/* protocol 0x0004: 802.2 LLC, not an EtherType */
	pkt[0] = 0x00;
	pkt[1] = 0x04;
	pcap_put(&w, 3, 0, pkt, 48, 48);
	fclose(w.f);
	cr_assert_eq(read_all(tmp_path("sll2.pcap"), frames, &n, &st, NULL), 0);
	cr_assert_eq(n, 2);
	assert_ethertype(&frames[0], 0x86dd, ipv6_hdr, 40);
	cr_assert_eq(memcmp(frames[0].data + 6, "\xaa\xbb\xcc\xdd\xee\xff", 6), 0);
	assert_ethertype(&frames[1], 0x0800, ip4, 28);
	cr_assert_eq(memcmp(frames[1].data, "\0\0\0\0\0\0\0\0\0\0\0\0", 12), 0);
	cr_assert_eq(st.not_ip, 1);
	cr_assert_eq(run_tshark(tmp_path("sll2.pcap"), "", ts), 3);
}

static void ng_block(struct writer *w, uint32_t type, const void *body, uint32_t len)
{
	static const uint8_t pad[4];
	uint32_t total = 12 + ((len + 3) & ~3u);

	put32(w, type);
	put32(w, total);
	put(w, body, len);
	put(w, pad, total - 12 - len);
	put32(w, total);
}

static void ng_shb(struct writer *w)
{
	put32(w, 0x0a0d0d0a);
	put32(w, 28);
	put32(w, 0x1a2b3c4d);
	put16(w, 1);
	put16(w, 0);
	put32(w, 0xffffffff); /* section length unknown */
	put32(w, 0xffffffff);
	put32(w, 28);
}

/* An IDB with if_tsresol (0: none, microseconds) and if_tsoffset (0: none) options */
static void ng_idb_off(struct writer *w, uint16_t linktype, uint8_t tsresol, int64_t tsoffset)
{
	uint32_t total =
		20 + (tsresol ? 8 : 0) + (tsoffset ? 12 : 0) + (tsresol || tsoffset ? 4 : 0);

	put32(w, 1);
	put32(w, total);
	put16(w, linktype);
	put16(w, 0);
	put32(w, 0);
	if (tsresol) {
		put16(w, 9);
		put16(w, 1);
		put(w, (uint8_t[4]){ tsresol }, 4);
	}
	if (tsoffset) {
		put16(w, 14);
		put16(w, 8);
		/* a 64-bit integer in the section's byte order */
		if (w->be) {
			put32(w, (uint64_t)tsoffset >> 32);
			put32(w, (uint32_t)tsoffset);
		} else {
			put32(w, (uint32_t)tsoffset);
			put32(w, (uint64_t)tsoffset >> 32);
		}
	}
	if (tsresol || tsoffset)
		put32(w, 0); /* opt_endofopt */
	put32(w, total);
}

static void ng_idb(struct writer *w, uint16_t linktype, uint8_t tsresol)
{
	ng_idb_off(w, linktype, tsresol, 0);
}

static void ng_epb(struct writer *w, uint32_t ifid, uint64_t ts, const void *data, uint32_t len)
{
	static const uint8_t pad[4];
	uint32_t total = 32 + ((len + 3) & ~3u);

	put32(w, 6);
	put32(w, total);
	put32(w, ifid);
	put32(w, ts >> 32);
	put32(w, (uint32_t)ts);
	put32(w, len);
	put32(w, len);
	put(w, data, len);
	put(w, pad, total - 32 - len);
	put32(w, total);
}

Test(pcap, pcapng_sections_interfaces_and_blocks, .init = make_tmpdir, .fini = remove_tmpdir)
{
	const uint8_t *ip4 = eth_udp + 14;
	struct pcap_reader_stats st;
	struct writer w = { 0 };
	size_t n, nt, i;

	w.f = fopen(tmp_path("crafted.pcapng"), "wb");
	cr_assert_not_null(w.f);
	ng_shb(&w);
	ng_idb(&w, 1, 9);		       /* Ethernet, nanoseconds */
	ng_block(&w, 4, (uint8_t[4]){ 0 }, 4); /* name resolution: skipped */
	ng_idb(&w, 228, 0x80 | 10);	       /* raw IPv4, 2^-10 s */
	ng_idb_off(&w, 113, 0, 100);	       /* cooked, microseconds, 100 s later */
	ng_epb(&w, 0, 1700000000123456789ull, eth_udp, sizeof(eth_udp));
	ng_epb(&w, 1, (uint64_t)1700000001 << 10 | 512, ip4, 28); /* .5 s */
	ng_block(&w, 5, (uint8_t[12]){ 0 }, 12);		  /* interface statistics */
	ng_epb(&w, 2, 1700000002000001ull,
	       "\x00\x00\x00\x01\x00\x06\x02\x00\x00\x00\x00\x07\x00\x00\x86\xdd", 16);
	/* a simple packet block on interface 0: no time of its own */
	put32(&w, 3);
	put32(&w, 16 + 44);
	put32(&w, sizeof(eth_udp));
	put(&w, eth_udp, sizeof(eth_udp));
	put16(&w, 0);
	put32(&w, 16 + 44);
	/* a second section, big-endian, whose interface 0 is raw IPv6 */
	w.be = true;
	ng_shb(&w);
	ng_idb_off(&w, 229, 6, -3);
	ng_epb(&w, 0, 1700000003000004ull, ipv6_hdr, 40);
	fclose(w.f);

	cr_assert_eq(read_all(tmp_path("crafted.pcapng"), frames, &n, &st, NULL), 0);
	cr_assert_eq(n, 5);
	nt = run_tshark(tmp_path("crafted.pcapng"), "", ts);
	cr_assert_eq(nt, 5);
	cr_assert_eq(frames[0].f.ts_ns, 1700000000123456789ull);
	cr_assert_eq(frames[1].f.ts_ns, 1700000001500000000ull);
	cr_assert_eq(frames[2].f.ts_ns, 1700000102000001000ull);
	cr_assert_eq(frames[4].f.ts_ns, 1700000000000004000ull);
	for (i = 0; i < n; i++) {
		if (i == 3) /* tshark has no time for a simple packet block */
			continue;
		cr_assert_eq(frames[i].f.ts_ns, ts[i].ts_ns, "frame %zu", i + 1);
	}
	cr_assert_eq(frames[3].f.ts_ns, frames[2].f.ts_ns, "a simple packet keeps the last time");
	cr_assert_eq(frames[0].f.len, ts[0].cap_len);
	assert_ethertype(&frames[1], 0x0800, ip4, 28);
	cr_assert_eq(frames[1].f.interface, 1);
	cr_assert_eq((uint16_t)(frames[2].data[12] << 8 | frames[2].data[13]), 0x86dd);
	cr_assert_eq(frames[2].f.len, 14);
	cr_assert_eq(frames[3].f.len, sizeof(eth_udp));
	cr_assert_eq(memcmp(frames[3].data, eth_udp, sizeof(eth_udp)), 0);
	assert_ethertype(&frames[4], 0x86dd, ipv6_hdr, 40);
	cr_assert_eq(st.frames, 5);
}

static void assert_refused(const char *path, const char *expect)
{
	struct pcap_reader *r = (void *)1;
	char err[512];

	cr_assert_eq(pcap_reader_open(&r, path, err, sizeof(err)), -EPROTONOSUPPORT);
	cr_assert_null(r);
	cr_assert_str_eq(err, expect);
}

Test(pcap, unsupported_link_type_is_refused, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char expect[512];
	struct writer w;

	w = pcap_create("wifi.pcap", false, false, 105);
	pcap_put(&w, 1, 0, eth_udp, sizeof(eth_udp), sizeof(eth_udp));
	fclose(w.f);
	snprintf(expect, sizeof(expect),
		 "%s: link type 105 (IEEE802_11) is not supported; " SUPPORTED,
		 tmp_path("wifi.pcap"));
	assert_refused(tmp_path("wifi.pcap"), expect);

	w = (struct writer){ .f = fopen(tmp_path("usb.pcapng"), "wb") };
	ng_shb(&w);
	ng_idb(&w, 1, 0);
	ng_idb(&w, 220, 0);
	ng_epb(&w, 0, 0, eth_udp, sizeof(eth_udp));
	fclose(w.f);
	snprintf(expect, sizeof(expect),
		 "%s: interface 1: link type 220 (USB_LINUX_MMAPPED) is not supported; " SUPPORTED,
		 tmp_path("usb.pcapng"));
	assert_refused(tmp_path("usb.pcapng"), expect);
}

Test(pcap, not_a_capture, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct pcap_reader *r;
	char err[256], expect[256];
	FILE *f = fopen(tmp_path("text.pcap"), "w");

	fputs("this is not a capture file at all\n", f);
	fclose(f);
	cr_assert_eq(pcap_reader_open(&r, tmp_path("text.pcap"), err, sizeof(err)), -EBADMSG);
	snprintf(expect, sizeof(expect), "%s: not a pcap or pcapng capture (magic 0x73696874)",
		 tmp_path("text.pcap"));
	cr_assert_str_eq(err, expect);
	cr_assert_eq(pcap_reader_open(&r, tmp_path("missing.pcap"), err, sizeof(err)), -ENOENT);
	snprintf(expect, sizeof(expect), "%s: No such file or directory", tmp_path("missing.pcap"));
	cr_assert_str_eq(err, expect);
}

/* Copies the first len bytes of src to the temp dir as name. */
static const char *truncated_copy(const char *src, const char *name, long len)
{
	static uint8_t buf[1 << 20];
	const char *dst = tmp_path(name);
	FILE *in = fopen(src, "rb"), *out;
	size_t n;

	cr_assert_not_null(in, "%s", src);
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	if (len < 0)
		len += (long)n;
	cr_assert_leq((size_t)len, n);
	out = fopen(dst, "wb");
	cr_assert_eq(fwrite(buf, 1, len, out), (size_t)len);
	fclose(out);
	return dst;
}

Test(pcap, truncated_files_deliver_what_came_before, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char errmsg[512], expect[512];
	const char *path;
	uint64_t last_off = 24;
	size_t n, i;

	/* the offset of dns_tcp.pcap's last record, walking the record headers */
	cr_assert_eq(read_all(pcap_path("dns_tcp.pcap"), frames, &n, NULL, NULL), 0);
	cr_assert_eq(n, 11);
	for (i = 0; i + 1 < n; i++)
		last_off += 16 + frames[i].f.len;

	/* cut in the middle of the last packet's data */
	path = truncated_copy(pcap_path("dns_tcp.pcap"), "cut-data.pcap", -5);
	cr_assert_eq(read_all(path, frames, &n, NULL, errmsg), -EBADMSG);
	cr_assert_eq(n, 10);
	snprintf(expect, sizeof(expect), "%s: packet 11 at offset %" PRIu64 " is cut short: ", path,
		 last_off);
	cr_assert_eq(strncmp(errmsg, expect, strlen(expect)), 0, "%s", errmsg);

	/* cut in the middle of the last record header */
	path = truncated_copy(pcap_path("dns_tcp.pcap"), "cut-hdr.pcap", (long)last_off + 7);
	cr_assert_eq(read_all(path, frames, &n, NULL, errmsg), -EBADMSG);
	cr_assert_eq(n, 10);
	snprintf(expect, sizeof(expect),
		 "%s: record header of packet 11 at offset %" PRIu64 " is cut short: 7 of 16 bytes",
		 path, last_off);
	cr_assert_str_eq(errmsg, expect);

	/* a pcapng cut inside its last block */
	{
		struct writer w = { .f = fopen(tmp_path("full.pcapng"), "wb") };

		ng_shb(&w);
		ng_idb(&w, 1, 0);
		ng_epb(&w, 0, 1, eth_udp, sizeof(eth_udp));
		ng_epb(&w, 0, 2, eth_udp, sizeof(eth_udp));
		fclose(w.f);
	}
	path = truncated_copy(tmp_path("full.pcapng"), "cut.pcapng", -10);
	cr_assert_eq(read_all(path, frames, &n, NULL, errmsg), -EBADMSG);
	cr_assert_eq(n, 1);
	snprintf(expect, sizeof(expect),
		 "%s: block at offset %u (type 6) is cut short: %u of %u bytes", path, 28 + 20 + 76,
		 76 - 10, 76);
	cr_assert_str_eq(errmsg, expect);
}
