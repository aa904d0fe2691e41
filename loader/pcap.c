// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Capture reader for replay: classic pcap (draft-ietf-opsawg-pcap) and pcapng
 * (draft-ietf-opsawg-pcapng), every packet turned into an Ethernet frame.
 */
#include "pcap.h"

#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_US	    0xa1b2c3d4u
#define PCAP_MAGIC_NS	    0xa1b23c4du
#define PCAPNG_SHB	    0x0a0d0d0au
#define PCAPNG_BOM	    0x1a2b3c4du
#define PCAPNG_IDB	    1
#define PCAPNG_PB	    2 /* obsolete Packet Block, still written by old tools */
#define PCAPNG_SPB	    3
#define PCAPNG_EPB	    6
#define PCAPNG_OPT_TSRESOL  9
#define PCAPNG_OPT_TSOFFSET 14

/*
 * Upper bits of the classic header's link type (pcap-savefile(5)): the FCS length, in 16-bit
 * words, is meaningful only when the P bit says it is present; without P it is unknown and
 * nothing is stripped, as libpcap and Wireshark do.
 */
#define PCAP_LT_TYPE(x)	     ((x)&0xffffu)
#define PCAP_LT_FCS_PRESENT  0x04000000u
#define PCAP_LT_FCS_WORDS(x) ((x) >> 28)

#define LT_ETHERNET   1
#define LT_PPP	      9
#define LT_DLT_RAW1   12 /* DLT_RAW on most BSDs */
#define LT_DLT_RAW2   14 /* DLT_RAW on OpenBSD */
#define LT_PPP_HDLC   50
#define LT_RAW	      101
#define LT_LINUX_SLL  113
#define LT_IPV4	      228
#define LT_IPV6	      229
#define LT_LINUX_SLL2 276

#define ETH_HLEN       14
#define ETH_P_IP       0x0800
#define ETH_P_IPV6     0x86dd
#define ETH_P_MPLS_UC  0x8847
#define ETH_P_MPLS_MC  0x8848
#define ARPHRD_NETLINK 824

/* Wireshark's and libpcap's largest packet: anything bigger is a damaged length field. */
#define PCAP_MAX_CAPLEN	 262144u
#define PCAPNG_MAX_BLOCK (PCAP_MAX_CAPLEN + 65536u)
/* room in front of the packet for an Ethernet header replacing a shorter link header */
#define HEADROOM 16

#define LINKTYPE_REFUSAL                                                                           \
	"link type %u (%s) is not supported; replay reads Ethernet (1), Linux cooked capture SLL " \
	"(113) and SLL2 (276), raw IP (12, 14, 101, 228, 229), PPP (9) and PPP in HDLC framing "   \
	"(50)"

struct pcap_iface {
	uint16_t linktype;
	bool tsresol_pow2; /* if_tsresol: units of 2^-exp instead of 10^-exp seconds */
	uint8_t tsresol_exp;
	int64_t tsoffset_s;
};

struct pcap_reader {
	FILE *f;
	char *path;
	bool ng;
	bool swap;		   /* file byte order differs from ours */
	bool nsec;		   /* classic pcap with nanosecond timestamps */
	uint32_t linktype;	   /* classic pcap */
	uint32_t fcs_len;	   /* classic pcap, bytes */
	struct pcap_iface *ifaces; /* pcapng, of the current section */
	uint32_t n_ifaces;
	uint8_t *buf;
	size_t bufsize;
	uint64_t off;	    /* file offset of the next read */
	uint64_t block_off; /* pcapng: offset of the block in buf */
	uint32_t block_type;
	uint32_t block_len; /* body bytes in buf + HEADROOM */
	bool pending;	    /* pcapng: open() read the first packet block, next() yields it */
	uint64_t number;    /* packet records read so far, skipped ones too */
	uint64_t last_ts_ns;
	int error;
	char errmsg[512];
	struct pcap_reader_stats stats;
};

static const struct {
	uint16_t lt;
	const char *name;
} linktype_names[] = {
	{ 0, "NULL" },
	{ 1, "ETHERNET" },
	{ 3, "AX25" },
	{ 6, "IEEE802_5" },
	{ 7, "ARCNET_BSD" },
	{ 8, "SLIP" },
	{ 9, "PPP" },
	{ 10, "FDDI" },
	{ 12, "RAW" },
	{ 14, "RAW" },
	{ 50, "PPP_HDLC" },
	{ 51, "PPP_ETHER" },
	{ 101, "RAW" },
	{ 104, "C_HDLC" },
	{ 105, "IEEE802_11" },
	{ 107, "FRELAY" },
	{ 108, "LOOP" },
	{ 113, "LINUX_SLL" },
	{ 117, "PFLOG" },
	{ 119, "IEEE802_11_PRISM" },
	{ 127, "IEEE802_11_RADIOTAP" },
	{ 143, "DOCSIS" },
	{ 187, "BLUETOOTH_HCI_H4" },
	{ 189, "USB_LINUX" },
	{ 192, "PPI" },
	{ 195, "IEEE802_15_4_WITHFCS" },
	{ 197, "ERF" },
	{ 220, "USB_LINUX_MMAPPED" },
	{ 227, "CAN_SOCKETCAN" },
	{ 228, "IPV4" },
	{ 229, "IPV6" },
	{ 239, "NFLOG" },
	{ 249, "USBPCAP" },
	{ 252, "WIRESHARK_UPPER_PDU" },
	{ 253, "NETLINK" },
	{ 276, "LINUX_SLL2" },
};

static const char *linktype_name(uint32_t lt)
{
	for (size_t i = 0; i < sizeof(linktype_names) / sizeof(linktype_names[0]); i++)
		if (linktype_names[i].lt == lt)
			return linktype_names[i].name;
	if (lt >= 147 && lt <= 162)
		return "USER";
	return "unknown";
}

static bool linktype_supported(uint32_t lt)
{
	switch (lt) {
	case LT_ETHERNET:
	case LT_PPP:
	case LT_DLT_RAW1:
	case LT_DLT_RAW2:
	case LT_PPP_HDLC:
	case LT_RAW:
	case LT_LINUX_SLL:
	case LT_IPV4:
	case LT_IPV6:
	case LT_LINUX_SLL2:
		return true;
	}
	return false;
}

__attribute__((format(printf, 3, 4))) static int fail(struct pcap_reader *r, int error,
						      const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->errmsg, sizeof(r->errmsg), "%s: ", r->path);
	if (n < 0 || (size_t)n >= sizeof(r->errmsg))
		n = 0; /* a path longer than the message: what failed matters more */
	va_start(ap, fmt);
	vsnprintf(r->errmsg + n, sizeof(r->errmsg) - n, fmt, ap);
	va_end(ap);
	r->error = error;
	return error;
}

static uint16_t rd16(const struct pcap_reader *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return r->swap ? __builtin_bswap16(v) : v;
}

static uint32_t rd32(const struct pcap_reader *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* 0: all n bytes read; 1: end of file before the first byte; -errno otherwise (*got says) */
static int read_exact(struct pcap_reader *r, void *p, size_t n, size_t *got)
{
	*got = fread(p, 1, n, r->f);
	r->off += *got;
	if (*got == n)
		return 0;
	if (ferror(r->f))
		return -EIO;
	return *got == 0 ? 1 : -EBADMSG;
}

static int reserve(struct pcap_reader *r, size_t len)
{
	uint8_t *p;

	if (HEADROOM + len <= r->bufsize)
		return 0;
	p = realloc(r->buf, HEADROOM + len);
	if (!p)
		return -ENOMEM;
	r->buf = p;
	r->bufsize = HEADROOM + len;
	return 0;
}

/* PPP protocol (RFC 1661) to EtherType; 0 for everything that is not a network protocol */
static uint16_t ppp_ethertype(uint16_t proto)
{
	switch (proto) {
	case 0x0021:
		return ETH_P_IP;
	case 0x0057:
		return ETH_P_IPV6;
	case 0x0281:
		return ETH_P_MPLS_UC;
	case 0x0283:
		return ETH_P_MPLS_MC;
	}
	return 0;
}

/*
 * Finds the EtherType and the link header length of one packet. 1: convertible, 0: not IP,
 * -1: too short for its link header. src_mac is filled when the link header names the sender.
 */
static int parse_link(uint32_t lt, const uint8_t *p, uint32_t len, uint16_t *type, uint32_t *hlen,
		      uint8_t *src_mac)
{
	switch (lt) {
	case LT_LINUX_SLL:
		/* packet type, ARPHRD, address length, 8 address bytes, protocol */
		if (len < 16)
			return -1;
		*hlen = 16;
		*type = be16(p + 14);
		if (be16(p + 4) == 6)
			memcpy(src_mac, p + 6, 6);
		/* below 0x600 the field is not an EtherType (802.2 LLC, CAN ...); netlink is not IP
		 */
		return *type >= 0x600 && be16(p + 2) != ARPHRD_NETLINK;
	case LT_LINUX_SLL2:
		/* protocol, reserved, ifindex, ARPHRD, packet type, address length, 8 bytes */
		if (len < 20)
			return -1;
		*hlen = 20;
		*type = be16(p);
		if (p[11] == 6)
			memcpy(src_mac, p + 12, 6);
		return *type >= 0x600 && be16(p + 8) != ARPHRD_NETLINK;
	case LT_IPV4:
		*hlen = 0;
		*type = ETH_P_IP;
		return 1;
	case LT_IPV6:
		*hlen = 0;
		*type = ETH_P_IPV6;
		return 1;
	case LT_RAW:
	case LT_DLT_RAW1:
	case LT_DLT_RAW2:
		if (len < 1)
			return -1;
		*hlen = 0;
		*type = (p[0] >> 4) == 4 ? ETH_P_IP : (p[0] >> 4) == 6 ? ETH_P_IPV6 : 0;
		return *type != 0;
	case LT_PPP:
	case LT_PPP_HDLC:
		*hlen = 0;
		if (len >= 4 && (p[0] == 0x0f || p[0] == 0x8f) && p[1] == 0x00) {
			/* Cisco HDLC, which LINKTYPE_PPP_HDLC also covers: an EtherType follows */
			*hlen = 4;
			*type = be16(p + 2);
			return *type == ETH_P_IP || *type == ETH_P_IPV6 || *type == ETH_P_MPLS_UC ||
			       *type == ETH_P_MPLS_MC;
		}
		/* the address and control bytes are optional (RFC 1662 ACFC) */
		if (len >= 2 && p[0] == 0xff && p[1] == 0x03)
			*hlen = 2;
		if (len < *hlen + 1)
			return -1;
		/* an odd first byte is a one-byte compressed protocol (RFC 1661 PFC) */
		if (p[*hlen] & 1) {
			*type = ppp_ethertype(p[*hlen]);
			*hlen += 1;
		} else {
			if (len < *hlen + 2)
				return -1;
			*type = ppp_ethertype(be16(p + *hlen));
			*hlen += 2;
		}
		return *type != 0;
	}
	return 0;
}

/*
 * Turns the packet at data (HEADROOM bytes or more into r->buf) into an Ethernet frame in f.
 * 1: f is ready; 0: the packet was counted as skipped.
 */
static int to_ethernet(struct pcap_reader *r, uint32_t lt, uint32_t fcs_len, uint8_t *data,
		       uint32_t caplen, uint32_t orig_len, struct pcap_frame *f)
{
	uint8_t src_mac[6] = { 0 };
	uint32_t hlen;
	uint16_t type;
	uint8_t *eth;
	int ret;

	f->linktype = lt;
	if (lt == LT_ETHERNET) {
		/* the FCS ends the frame on the wire: drop whatever part of it was captured */
		uint32_t payload = orig_len > fcs_len ? orig_len - fcs_len : 0;

		f->data = data;
		f->len = caplen < payload ? caplen : payload;
		f->orig_len = payload;
		r->stats.frames++;
		return 1;
	}
	ret = parse_link(lt, data, caplen, &type, &hlen, src_mac);
	if (ret <= 0) {
		if (ret < 0)
			r->stats.too_short++;
		else
			r->stats.not_ip++;
		return 0;
	}
	/* the header is parsed: write the Ethernet header over its tail, the packet unmoved */
	eth = data + hlen - ETH_HLEN;
	memset(eth, 0, 6); /* no destination on these links */
	memcpy(eth + 6, src_mac, 6);
	eth[12] = type >> 8;
	eth[13] = type & 0xff;
	f->data = eth;
	f->len = caplen - hlen + ETH_HLEN;
	f->orig_len = (orig_len > hlen ? orig_len - hlen : 0) + ETH_HLEN;
	r->stats.frames++;
	return 1;
}

static int classic_next(struct pcap_reader *r, struct pcap_frame *f)
{
	uint32_t caplen, orig_len, sec, frac;
	uint64_t rec_off;
	uint8_t hdr[16];
	size_t got;
	int ret;

	for (;;) {
		rec_off = r->off;
		ret = read_exact(r, hdr, sizeof(hdr), &got);
		if (ret == 1)
			return 0;
		if (ret == -EIO)
			return fail(r, ret, "read error at offset %" PRIu64, rec_off);
		if (ret < 0)
			return fail(r, ret,
				    "record header of packet %" PRIu64 " at offset %" PRIu64
				    " is cut short: %zu of 16 bytes",
				    r->number + 1, rec_off, got);
		sec = rd32(r, hdr);
		frac = rd32(r, hdr + 4);
		caplen = rd32(r, hdr + 8);
		orig_len = rd32(r, hdr + 12);
		f->number = ++r->number;
		if (caplen > PCAP_MAX_CAPLEN)
			return fail(
				r, -EBADMSG,
				"packet %" PRIu64 " at offset %" PRIu64
				": captured length %u is over the %u-byte limit (damaged file?)",
				r->number, rec_off, caplen, PCAP_MAX_CAPLEN);
		ret = reserve(r, caplen);
		if (ret)
			return fail(r, ret, "no memory for packet %" PRIu64, r->number);
		ret = caplen ? read_exact(r, r->buf + HEADROOM, caplen, &got) : 0;
		if (ret == -EIO)
			return fail(r, ret, "read error at offset %" PRIu64, r->off);
		if (ret)
			return fail(r, -EBADMSG,
				    "packet %" PRIu64 " at offset %" PRIu64
				    " is cut short: %zu of %u bytes of data",
				    r->number, rec_off, got, caplen);
		f->ts_ns = (uint64_t)sec * 1000000000u + (uint64_t)frac * (r->nsec ? 1 : 1000);
		f->interface = 0;
		if (to_ethernet(r, r->linktype, r->fcs_len, r->buf + HEADROOM, caplen, orig_len, f))
			return 1;
	}
}

static uint64_t pow10u(unsigned int e)
{
	uint64_t v = 1;

	while (e--)
		v *= 10;
	return v;
}

static uint64_t pcapng_ts_ns(const struct pcap_iface *ifc, uint64_t ts)
{
	unsigned __int128 ns;

	if (ifc->tsresol_pow2)
		ns = ((unsigned __int128)ts * 1000000000u) >> ifc->tsresol_exp;
	else if (ifc->tsresol_exp <= 9)
		ns = (unsigned __int128)ts * pow10u(9 - ifc->tsresol_exp);
	else
		ns = ts / pow10u(ifc->tsresol_exp - 9 > 19 ? 19 : ifc->tsresol_exp - 9);
	/* unsigned: a negative offset wraps to the subtraction it means */
	return (uint64_t)ns + (uint64_t)ifc->tsoffset_s * 1000000000u;
}

/* Reads one block into buf + HEADROOM. 1: block read; 0: end of file; -errno. */
static int pcapng_read_block(struct pcap_reader *r)
{
	uint8_t hdr[12], *body;
	uint32_t type, total, bom;
	size_t got;
	int ret;

	r->block_off = r->off;
	ret = read_exact(r, hdr, 8, &got);
	if (ret == 1)
		return 0;
	if (ret == -EIO)
		return fail(r, ret, "read error at offset %" PRIu64, r->block_off);
	if (ret < 0)
		return fail(r, ret,
			    "block header at offset %" PRIu64 " is cut short: %zu of 8 bytes",
			    r->block_off, got);
	memcpy(&type, hdr, 4);
	if (type == PCAPNG_SHB) {
		/* a new section may change the byte order: its byte-order magic says */
		ret = read_exact(r, hdr + 8, 4, &got);
		if (ret)
			return fail(r, ret < 0 ? ret : -EBADMSG,
				    "section header at offset %" PRIu64 " is cut short",
				    r->block_off);
		memcpy(&bom, hdr + 8, 4);
		if (bom != PCAPNG_BOM && bom != __builtin_bswap32(PCAPNG_BOM))
			return fail(r, -EBADMSG,
				    "section header at offset %" PRIu64
				    " has a bad byte-order magic",
				    r->block_off);
		r->swap = bom != PCAPNG_BOM;
	}
	type = rd32(r, hdr);
	total = rd32(r, hdr + 4);
	if (total < 12 || total % 4 || total > PCAPNG_MAX_BLOCK ||
	    (type == PCAPNG_SHB && total < 28))
		return fail(r, -EBADMSG, "block at offset %" PRIu64 " has a bad length %u",
			    r->block_off, total);
	ret = reserve(r, total);
	if (ret)
		return fail(r, ret, "no memory for the block at offset %" PRIu64, r->block_off);
	body = r->buf + HEADROOM;
	if (type == PCAPNG_SHB)
		memcpy(body, hdr + 8, 4);
	got = 0;
	ret = read_exact(r, body + (type == PCAPNG_SHB ? 4 : 0),
			 total - (type == PCAPNG_SHB ? 12 : 8), &got);
	if (ret == -EIO)
		return fail(r, ret, "read error at offset %" PRIu64, r->off);
	if (ret)
		return fail(r, -EBADMSG,
			    "block at offset %" PRIu64 " (type %u) is cut short: %zu of %u bytes",
			    r->block_off, type, (size_t)(got + (type == PCAPNG_SHB ? 12 : 8)),
			    total);
	if (rd32(r, body + total - 12) != total)
		return fail(r, -EBADMSG, "block at offset %" PRIu64 " has mismatched lengths",
			    r->block_off);
	r->block_type = type;
	r->block_len = total - 12;
	return 1;
}

static int pcapng_add_iface(struct pcap_reader *r)
{
	const uint8_t *p = r->buf + HEADROOM, *end = p + r->block_len;
	struct pcap_iface *ifc;

	if (r->block_len < 8)
		return fail(r, -EBADMSG, "interface description at offset %" PRIu64 " is too short",
			    r->block_off);
	ifc = realloc(r->ifaces, (r->n_ifaces + 1) * sizeof(*ifc));
	if (!ifc)
		return fail(r, -ENOMEM, "no memory for interface %u", r->n_ifaces);
	r->ifaces = ifc;
	ifc += r->n_ifaces;
	*ifc = (struct pcap_iface){ .linktype = rd16(r, p), .tsresol_exp = 6 };
	if (!linktype_supported(ifc->linktype))
		return fail(r, -EPROTONOSUPPORT, "interface %u: " LINKTYPE_REFUSAL, r->n_ifaces,
			    ifc->linktype, linktype_name(ifc->linktype));
	/* options: code, length, value padded to 32 bits; end-of-options or the end stops */
	for (p += 8; p + 4 <= end;) {
		uint16_t code = rd16(r, p), len = rd16(r, p + 2);

		if (code == 0 || p + 4 + len > end)
			break;
		if (code == PCAPNG_OPT_TSRESOL && len >= 1) {
			ifc->tsresol_pow2 = p[4] & 0x80;
			ifc->tsresol_exp = p[4] & 0x7f;
			if (ifc->tsresol_pow2 ? ifc->tsresol_exp > 63 : ifc->tsresol_exp > 28)
				return fail(r, -EBADMSG,
					    "interface %u has an unusable if_tsresol 0x%02x",
					    r->n_ifaces, p[4]);
		} else if (code == PCAPNG_OPT_TSOFFSET && len >= 8) {
			uint64_t v;

			memcpy(&v, p + 4, sizeof(v));
			v = r->swap ? __builtin_bswap64(v) : v;
			memcpy(&ifc->tsoffset_s, &v, sizeof(v));
		}
		p += 4 + ((len + 3u) & ~3u);
	}
	r->n_ifaces++;
	return 0;
}

/* Yields the packet block in buf, if it is one. 1: frame; 0: not a packet, or skipped. */
static int pcapng_packet(struct pcap_reader *r, struct pcap_frame *f)
{
	uint8_t *body = r->buf + HEADROOM;
	uint32_t ifid, caplen, orig_len, hdrlen;
	struct pcap_iface *ifc;
	uint64_t ts;

	if (r->block_type == PCAPNG_EPB || r->block_type == PCAPNG_PB) {
		hdrlen = 20;
		if (r->block_len < hdrlen)
			return fail(r, -EBADMSG, "packet block at offset %" PRIu64 " is too short",
				    r->block_off);
		ifid = r->block_type == PCAPNG_EPB ? rd32(r, body) : rd16(r, body);
		ts = (uint64_t)rd32(r, body + 4) << 32 | rd32(r, body + 8);
		caplen = rd32(r, body + 12);
		orig_len = rd32(r, body + 16);
	} else if (r->block_type == PCAPNG_SPB) {
		hdrlen = 4;
		if (r->block_len < hdrlen)
			return fail(r, -EBADMSG, "packet block at offset %" PRIu64 " is too short",
				    r->block_off);
		ifid = 0;
		orig_len = rd32(r, body);
		/* the captured length is implied: the block's data, at most the original length */
		caplen = r->block_len - hdrlen < orig_len ? r->block_len - hdrlen : orig_len;
		ts = 0;
	} else {
		return 0;
	}
	f->number = ++r->number;
	if (ifid >= r->n_ifaces)
		return fail(r, -EBADMSG,
			    "packet %" PRIu64 " at offset %" PRIu64 " names interface %u, which "
			    "no interface description block defined",
			    r->number, r->block_off, ifid);
	if (caplen > r->block_len - hdrlen)
		return fail(r, -EBADMSG,
			    "packet %" PRIu64 " at offset %" PRIu64
			    ": captured length %u runs past its block",
			    r->number, r->block_off, caplen);
	ifc = &r->ifaces[ifid];
	/* a simple packet block has no time: keep the previous one so replay's clock holds */
	f->ts_ns = r->block_type == PCAPNG_SPB ? r->last_ts_ns : pcapng_ts_ns(ifc, ts);
	r->last_ts_ns = f->ts_ns;
	f->interface = ifid;
	return to_ethernet(r, ifc->linktype, 0, body + hdrlen, caplen, orig_len, f);
}

static int pcapng_next(struct pcap_reader *r, struct pcap_frame *f)
{
	int ret;

	for (;;) {
		if (r->pending) {
			r->pending = false;
		} else {
			ret = pcapng_read_block(r);
			if (ret <= 0)
				return ret;
		}
		if (r->block_type == PCAPNG_SHB) {
			r->n_ifaces = 0; /* interface ids are per section */
			continue;
		}
		if (r->block_type == PCAPNG_IDB) {
			ret = pcapng_add_iface(r);
			if (ret)
				return ret;
			continue;
		}
		ret = pcapng_packet(r, f);
		if (ret)
			return ret;
		if (r->error)
			return r->error;
	}
}

static int open_pcapng(struct pcap_reader *r)
{
	int ret;

	/* interface descriptions precede the packets that name them: read up to the first one,
	 * so that an unsupported link type is refused at open, not halfway through a replay */
	for (;;) {
		ret = pcapng_read_block(r);
		if (ret <= 0)
			return ret;
		if (r->block_type == PCAPNG_SHB) {
			r->n_ifaces = 0;
		} else if (r->block_type == PCAPNG_IDB) {
			ret = pcapng_add_iface(r);
			if (ret)
				return ret;
		} else if (r->block_type == PCAPNG_EPB || r->block_type == PCAPNG_PB ||
			   r->block_type == PCAPNG_SPB) {
			r->pending = true;
			return 0;
		}
	}
}

static int open_classic(struct pcap_reader *r, const uint8_t *hdr, char *err, size_t errlen)
{
	uint32_t magic, lt;

	memcpy(&magic, hdr, 4);
	r->swap = magic == __builtin_bswap32(PCAP_MAGIC_US) ||
		  magic == __builtin_bswap32(PCAP_MAGIC_NS);
	r->nsec = rd32(r, hdr) == PCAP_MAGIC_NS;
	if (rd16(r, hdr + 4) != 2) {
		snprintf(err, errlen, "%s: pcap version %u.%u is not supported (2.4 is)", r->path,
			 rd16(r, hdr + 4), rd16(r, hdr + 6));
		return -EPROTONOSUPPORT;
	}
	lt = rd32(r, hdr + 20);
	r->linktype = PCAP_LT_TYPE(lt);
	if (!linktype_supported(r->linktype)) {
		snprintf(err, errlen, "%s: " LINKTYPE_REFUSAL, r->path, r->linktype,
			 linktype_name(r->linktype));
		return -EPROTONOSUPPORT;
	}
	if (r->linktype == LT_ETHERNET && (lt & PCAP_LT_FCS_PRESENT))
		r->fcs_len = PCAP_LT_FCS_WORDS(lt) * 2;
	return 0;
}

int pcap_reader_open(struct pcap_reader **rp, const char *path, char *err, size_t errlen)
{
	struct pcap_reader *r;
	uint8_t hdr[24];
	uint32_t magic;
	size_t got;
	int ret;

	*rp = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(strcmp(path, "-") ? path : "stdin"))) {
		free(r);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	/* "-": the capture comes on stdin (read in order, never sought) */
	r->f = strcmp(path, "-") ? fopen(path, "rb") : fdopen(dup(STDIN_FILENO), "rb");
	if (!r->f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto cleanup;
	}
	ret = read_exact(r, hdr, sizeof(hdr), &got);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path,
			 ret == -EIO ? "read error" : "too short for a pcap or pcapng file header");
		ret = ret == -EIO ? -EIO : -EBADMSG;
		goto cleanup;
	}
	memcpy(&magic, hdr, 4);
	if (magic == PCAPNG_SHB) {
		r->ng = true;
		rewind(r->f);
		r->off = 0;
		ret = open_pcapng(r);
		if (ret) {
			snprintf(err, errlen, "%s", r->errmsg);
			goto cleanup;
		}
	} else if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS ||
		   magic == __builtin_bswap32(PCAP_MAGIC_US) ||
		   magic == __builtin_bswap32(PCAP_MAGIC_NS)) {
		ret = open_classic(r, hdr, err, errlen);
		if (ret)
			goto cleanup;
	} else {
		snprintf(err, errlen, "%s: not a pcap or pcapng capture (magic 0x%08x)", path,
			 magic);
		ret = -EBADMSG;
		goto cleanup;
	}
	*rp = r;
	return 0;
cleanup:
	pcap_reader_close(r);
	return ret;
}

int pcap_reader_next(struct pcap_reader *r, struct pcap_frame *f)
{
	if (r->error)
		return r->error;
	*f = (struct pcap_frame){ 0 };
	return r->ng ? pcapng_next(r, f) : classic_next(r, f);
}

const char *pcap_reader_error(const struct pcap_reader *r)
{
	return r->errmsg;
}

const struct pcap_reader_stats *pcap_reader_stats(const struct pcap_reader *r)
{
	return &r->stats;
}

int pcap_reader_progress(const struct pcap_reader *r, uint64_t *done, uint64_t *total)
{
	struct stat st;
	long pos = ftell(r->f);

	if (pos < 0 || fstat(fileno(r->f), &st) || !S_ISREG(st.st_mode) || !st.st_size)
		return -1;
	*done = (uint64_t)pos;
	*total = (uint64_t)st.st_size;
	return 0;
}

void pcap_reader_close(struct pcap_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->ifaces);
	free(r->buf);
	free(r->path);
	free(r);
}
