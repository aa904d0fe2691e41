/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nsflow: the types both halves share. The datapath (bpf/) writes them into maps, the agent
 * (loader/) reads them back. Defined once, here: fixed-width types, explicit padding, and a
 * size check on every struct so that a change on one side cannot silently skew the other.
 */
#ifndef NSFLOW_H
#define NSFLOW_H

#ifdef __bpf__
/* vmlinux.h already provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

#define NSFLOW_MAX_VLAN	       2	 /* 802.1ad outer + 802.1Q inner */
#define NSFLOW_MAX_MPLS	       8	 /* labels walked looking for bottom of stack */
#define NSFLOW_MPLS_RECORDED   3	 /* labels kept per flow (IE 70..72) */
#define NSFLOW_MAX_EXTHDR      8	 /* IPv6 extension headers walked */
#define NSFLOW_SRH_SEGMENTS    8	 /* SRH segments kept per flow (IE 496) */
#define NSFLOW_DEFAULT_ENTRIES (1 << 20) /* flows per epoch table and in the agent's cache */
#define NSFLOW_RINGBUF_BYTES   (1 << 22)
#define NSFLOW_CFG_DIRECT      4096 /* ifindexes whose settings sit in an array, not a hash */

/* flowDirection (IE 61) */
enum nsflow_direction {
	NSFLOW_DIR_INGRESS = 0,
	NSFLOW_DIR_EGRESS = 1,
};

/*
 * The flow key. Zeroed before it is filled: the padding is hashed. Addresses are IPv6; an IPv4
 * address is stored v4-mapped (::ffff:a.b.c.d) so one key serves both families.
 */
struct nsflow_key {
	__u32 ifindex;	 /* interface the packet was seen on */
	__u8 direction;	 /* enum nsflow_direction */
	__u8 ip_version; /* 4, 6, or 0 for an MPLS packet metered by label only */
	__u8 protocol;	 /* IP protocol after the IPv6 extension chain */
	__u8 tos;	 /* IPv4 ToS byte / IPv6 traffic class */
	__u8 src_addr[16];
	__u8 dst_addr[16];
	__u16 src_port;	  /* host order; 0 for ICMP and non-first fragments */
	__u16 dst_port;	  /* host order; ICMP: type << 8 | code, as NetFlow does */
	__u16 vlan_outer; /* VLAN id of the outer (or only) tag, 0 if untagged */
	__u16 vlan_inner; /* VLAN id of the inner tag of a QinQ frame */
	__u32 mpls_top;	  /* NSFLOW_MPLS_VALID | label << 4 | exp << 1 | s; 0 when not keyed */
	__u32 vni;	  /* NSFLOW_VNI_VALID | VXLAN VNI (24 bits); 0 when not VXLAN */
};
#define NSFLOW_MPLS_VALID	       0x80000000u
#define NSFLOW_MPLS_LSE(label, exp, s) (((label) << 4) | ((exp) << 1) | (s))
/* VNI 0 is a valid VNI: the bit tells a VXLAN flow of VNI 0 from a flow that is not VXLAN */
#define NSFLOW_VNI_VALID  0x80000000u
#define NSFLOW_VNI_MASK	  0x00ffffffu
#define NSFLOW_VXLAN_PORT 4789 /* IANA's VXLAN port (RFC 7348), the default */

/*
 * Counters of one flow on one CPU. Packets/octets and the min/max fields change per packet; the
 * rest describe the flow and are written when this CPU first sees it.
 */
struct nsflow_value {
	__u64 packets;
	__u64 octets;	/* sum of IP packet lengths (IPv4 total length, IPv6 40 + payload) */
	__u64 first_ns; /* CLOCK_MONOTONIC (coarse) of the first packet on this CPU */
	__u64 last_ns;	/* of the last packet on this CPU */
	__u8 tcp_flags; /* OR of all TCP flags seen (FIN..CWR) */
	__u8 min_ttl;	/* IPv4 TTL / IPv6 hop limit */
	__u8 max_ttl;
	__u8 mpls_count; /* labels recorded in mpls_lse[], 0..3 */
	__u32 min_len;	 /* smallest / largest IP packet length: a jumbogram is longer than */
	__u32 max_len;	 /* 16 bits can say (RFC 2675) */
	__u32 mpls_lse[NSFLOW_MPLS_RECORDED]; /* label << 4 | exp << 1 | s, top first (IE 70..72) */
	__u8 srh_present;		      /* 1 when a segment routing header was parsed */
	__u8 srh_flags;			      /* srhFlagsIPv6 (492) */
	__u8 srh_segments_left;		      /* srhSegmentsIPv6Left (498) */
	__u8 srh_last_entry;		      /* index of the last segment: list size - 1 */
	__u16 srh_tag;			      /* srhTagIPv6 (493), host order */
	__u8 src_mac[6];
	__u8 dst_mac[6];
	__u8 _pad[2];
	__u32 flow_label; /* flowLabelIPv6 (31) of the IPv6 header the key was read from */
	__u8 srh_active_segment[16]; /* segment list[segments left] (495) */
};

/* Where the datapath reads the key from on MPLS traffic (NetStream mpls-aware) */
enum nsflow_mpls_mode {
	NSFLOW_MPLS_LABEL_AND_IP = 0, /* default: top label and the IP packet under the stack */
	NSFLOW_MPLS_LABEL_ONLY = 1,   /* key on labels only */
	NSFLOW_MPLS_IP_ONLY = 2,      /* key on the IP packet, labels kept as values only */
};

/* What is metered of VXLAN traffic (RFC 7348: UDP to the VXLAN port, I flag set) */
enum nsflow_vxlan_mode {
	NSFLOW_VXLAN_OUTER = 0, /* default: the outer headers, the VNI in the key */
	NSFLOW_VXLAN_INNER = 1, /* the inner Ethernet frame's packet, the VNI in the key */
	NSFLOW_VXLAN_OFF = 2,	/* no VXLAN parsing: plain UDP */
};

/* Which header of SRv6 traffic is metered (NetStream srv6-aware) */
enum nsflow_srv6_mode {
	NSFLOW_SRV6_OUTER = 0, /* default: the outer IPv6 header */
	NSFLOW_SRV6_INNER = 1, /* the IPv4/IPv6 packet under the SRH; SRH fields kept as values */
};

enum nsflow_sample_mode {
	NSFLOW_SAMPLE_NONE = 0,	  /* every packet */
	NSFLOW_SAMPLE_FIXED = 1,  /* fix-packets N: 1 in every N, deterministic */
	NSFLOW_SAMPLE_RANDOM = 2, /* random-packets N: each packet with probability 1/N */
	NSFLOW_SAMPLE_TIME = 3,	  /* fix-time MS: the first packet after each interval */
};

/* Key fields kept by a flexible record's match list; a cleared bit zeroes the field. */
enum nsflow_key_field {
	NSFLOW_KF_IFINDEX = 1 << 0,
	NSFLOW_KF_DIRECTION = 1 << 1,
	NSFLOW_KF_PROTOCOL = 1 << 2,
	NSFLOW_KF_TOS = 1 << 3,
	NSFLOW_KF_SRC_ADDR = 1 << 4,
	NSFLOW_KF_DST_ADDR = 1 << 5,
	NSFLOW_KF_SRC_PORT = 1 << 6,
	NSFLOW_KF_DST_PORT = 1 << 7,
	NSFLOW_KF_VLAN = 1 << 8,
	NSFLOW_KF_MPLS = 1 << 9,
	NSFLOW_KF_VNI = 1 << 10,
	NSFLOW_KF_ALL = (1 << 11) - 1,
};

/*
 * Key of the epoch tables: a flow as one CPU saw it. Only that CPU ever writes the entry, so
 * counting needs neither atomics nor locks, and a flow costs memory only on the CPUs that saw
 * it (RSS keeps it on one). The agent folds a flow's CPUs together when it drains. cpu sits in
 * what would otherwise be the key's padding to 8 bytes: it costs the table nothing.
 */
struct nsflow_slot_key {
	struct nsflow_key flow;
	__u32 cpu; /* bpf_get_smp_processor_id() of the CPU that counted it */
};

/* The segment list of a flow's SRH, in SRH order, written once when the flow is created:
 * too large to repeat in every CPU's value. */
struct nsflow_srh_segments {
	__u8 count; /* segments in seg[], at most NSFLOW_SRH_SEGMENTS */
	__u8 _pad[7];
	__u8 hdr[8]; /* the SRH's fixed header as on the wire (srhIPv6Section, 499) */
	__u8 seg[NSFLOW_SRH_SEGMENTS][16];
};

/* Key of the settings map: one entry per interface and direction. */
struct nsflow_cfg_key {
	__u32 ifindex;
	__u32 direction;
};

/*
 * Settings the agent writes per interface and direction. The three state words at the end are
 * the sampler's, shared by all CPUs and updated atomically so that "1 in N" is exact and a
 * time-based sampler's rate is known.
 */
struct nsflow_cfg {
	__u32 sample_mode;    /* enum nsflow_sample_mode */
	__u32 sample_param;   /* N for fixed/random (1..65535), milliseconds for time (5..30000) */
	__u32 mpls_mode;      /* enum nsflow_mpls_mode */
	__u32 srv6_mode;      /* enum nsflow_srv6_mode */
	__u32 key_fields;     /* enum nsflow_key_field bits; 0 is read as NSFLOW_KF_ALL */
	__u32 vxlan_mode;     /* enum nsflow_vxlan_mode */
	__u8 src_prefix_len;  /* flexible record "source mask": 0 keeps the whole address */
	__u8 dst_prefix_len;  /* in IPv6 bits (96 + n for IPv4) */
	__u16 vxlan_port;     /* UDP destination port of VXLAN; 0 is NSFLOW_VXLAN_PORT */
	__u64 sample_count;   /* fixed and time: packets seen so far */
	__u64 sample_next_ns; /* time: when the next packet is taken */
	__u64 sample_taken;   /* time: packets taken so far; seen / taken is the rate announced */
};

/* Per-CPU counters, one struct per CPU in a one-slot PERCPU_ARRAY. */
enum nsflow_counter {
	NSFLOW_CNT_SEEN = 0,	/* every packet the programs ran on */
	NSFLOW_CNT_SAMPLED,	/* packets the sampler took (all when unsampled) */
	NSFLOW_CNT_METERED,	/* packets counted into a flow map */
	NSFLOW_CNT_RINGBUF,	/* map full: packets sent to the agent as events */
	NSFLOW_CNT_NOT_METERED, /* map and ring buffer full: packets lost to metering */
	NSFLOW_CNT_NOT_METERED_OCTETS,
	NSFLOW_CNT_NON_IP, /* EtherTypes that are neither IP nor MPLS (ARP, AoE ...) */
	/* not parsed, by reason: the packet passes, nothing is keyed */
	NSFLOW_CNT_ERR_ETH_TRUNC,
	NSFLOW_CNT_ERR_VLAN_TRUNC,
	NSFLOW_CNT_ERR_VLAN_DEPTH, /* more than NSFLOW_MAX_VLAN tags */
	NSFLOW_CNT_ERR_MPLS_TRUNC,
	NSFLOW_CNT_ERR_MPLS_NO_BOS, /* no bottom of stack within NSFLOW_MAX_MPLS labels */
	NSFLOW_CNT_ERR_IPV4_TRUNC,
	NSFLOW_CNT_ERR_IPV4_IHL, /* IHL < 5, or options past the frame */
	NSFLOW_CNT_ERR_IPV4_LEN, /* total length < header length or > frame */
	NSFLOW_CNT_ERR_IPV6_TRUNC,
	NSFLOW_CNT_ERR_IPV6_LEN,     /* payload (or Jumbo Payload) length past the frame */
	NSFLOW_CNT_ERR_IP_VERSION,   /* version nibble does not match the EtherType */
	NSFLOW_CNT_ERR_EXTHDR_TRUNC, /* an extension header runs past the frame */
	NSFLOW_CNT_ERR_EXTHDR_DEPTH, /* more than NSFLOW_MAX_EXTHDR extension headers */
	NSFLOW_CNT_ERR_SRH,	     /* SRH runs past its length or the frame, or is inconsistent */
	NSFLOW_CNT_ERR_L4_TRUNC,     /* TCP/UDP/SCTP/ICMP header cut short */
	NSFLOW_CNT_ERR_TCP_DOFF,     /* TCP data offset < 5 */
	/* VXLAN: the packet is still metered, as the plain UDP packet it also is */
	NSFLOW_CNT_ERR_VXLAN_TRUNC, /* VXLAN header cut short */
	NSFLOW_CNT_ERR_VXLAN_FLAGS, /* I flag clear: no valid VNI (RFC 7348) */
	NSFLOW_CNT_MAX,
};

struct nsflow_counters {
	__u64 c[NSFLOW_CNT_MAX];
};

#ifndef __bpf__
/* Names of the counters, as `nsflow show stats` and the tests print them. */
static const char *const nsflow_counter_names[NSFLOW_CNT_MAX] __attribute__((unused)) = {
	"seen",		"sampled",	"metered",
	"ringbuf",	"not_metered",	"not_metered_octets",
	"non_ip",	"eth_trunc",	"vlan_trunc",
	"vlan_depth",	"mpls_trunc",	"mpls_no_bos",
	"ipv4_trunc",	"ipv4_ihl",	"ipv4_len",
	"ipv6_trunc",	"ipv6_len",	"ip_version",
	"exthdr_trunc", "exthdr_depth", "srh",
	"l4_trunc",	"tcp_doff",	"vxlan_trunc",
	"vxlan_flags",
};
#endif

/*
 * A packet that found its epoch table full: handed to the agent with the value it would have
 * created there, so that it makes the same record (same fields, same template) as a packet
 * that went through the table.
 */
struct nsflow_event {
	struct nsflow_key key;
	struct nsflow_value val;
};

#ifdef __cplusplus
#define NSFLOW_STATIC_ASSERT static_assert
#else
#define NSFLOW_STATIC_ASSERT _Static_assert
#endif
NSFLOW_STATIC_ASSERT(sizeof(struct nsflow_key) == 56, "nsflow_key layout");
NSFLOW_STATIC_ASSERT(sizeof(struct nsflow_value) == 96, "nsflow_value layout");
NSFLOW_STATIC_ASSERT(sizeof(struct nsflow_cfg_key) == 8, "nsflow_cfg_key layout");
NSFLOW_STATIC_ASSERT(sizeof(struct nsflow_cfg) == 56, "nsflow_cfg layout");
NSFLOW_STATIC_ASSERT(sizeof(struct nsflow_slot_key) == 60, "nsflow_slot_key layout");
NSFLOW_STATIC_ASSERT(sizeof(struct nsflow_event) == 152, "nsflow_event layout");
NSFLOW_STATIC_ASSERT(sizeof(struct nsflow_srh_segments) == 144, "nsflow_srh_segments layout");

#endif /* NSFLOW_H */
