/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * BGP/MPLS VPN instances (RFC 4364) as the settings define them: a name, a route distinguisher,
 * the Linux VRF device that is the instance on this host, and the VPN (bottom-of-stack) labels
 * of its traffic at a PE. The VRF id of an instance is the VRF device's routing table (what
 * `ip vrf show` prints; stable across reboots), or the id= given; 0 is the default VRF.
 */
#ifndef NSFLOW_VPN_H
#define NSFLOW_VPN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VPN_NAME_MAX	   32 /* VRFname (236) is sent in 32 bytes, NUL padded */
#define VPN_LABEL_RANGES   16
#define VPN_MAX		   32
#define VPN_LABEL_MAX	   1048575u /* 20 bits */
#define VPN_LABEL_MIN	   16u	    /* 0..15 are reserved (RFC 3032) */
#define VPN_TOP_LABEL_TYPE 3	    /* IANA mplsTopLabelType: VPN */

struct vpn_label_range {
	uint32_t lo, hi;
};

struct vpn_instance {
	char name[VPN_NAME_MAX];
	char vrf[IF_NAMESIZE]; /* the Linux VRF device; default: the instance's name */
	uint8_t rd[8];	       /* mplsVpnRouteDistinguisher (90): type, then value (RFC 4364 4.2) */
	uint32_t id;	       /* VRF id: id=, else the VRF device's table (vpn_resolve_ids()) */
	bool has_id;	       /* id= was given */
	bool has_address;
	uint8_t address[4]; /* address=: mplsTopLabelIPv4Address (47) of its labels */
	uint8_t n_labels;
	struct vpn_label_range labels[VPN_LABEL_RANGES];
};

/*
 * A route distinguisher as RFC 4364 4.2 writes it: "ASN:nn" (type 0 for an ASN up to 65535
 * with a 32-bit nn, type 2 above it or with an 'L' after the ASN, nn 16-bit), "a.b.c.d:nn"
 * (type 1, nn 16-bit). 0, or -EINVAL with what is wrong in err.
 */
int vpn_rd_parse(const char *s, uint8_t rd[8], char *err, size_t errlen);
/* The text of an encoded route distinguisher, as vpn_rd_parse() reads it back */
void vpn_rd_format(const uint8_t rd[8], char *buf, size_t len);

/* "NAME:rd=RD[:vrf=DEV][:labels=L1,L2-L3][:id=N][:address=A.B.C.D]" into v; where names the
 * flag or file line in messages. 0 or -EINVAL. */
int vpn_instance_parse(struct vpn_instance *v, const char *spec, const char *where, char *err,
		       size_t errlen);
/* Adds v to list (n entries, room for VPN_MAX): a name, VRF device, id or label twice is an
 * error. 0 or -EINVAL. */
int vpn_instance_add(struct vpn_instance *list, size_t *n, const struct vpn_instance *v,
		     const char *where, char *err, size_t errlen);

/* The instance whose VPN labels hold label, or NULL */
const struct vpn_instance *vpn_by_label(const struct vpn_instance *list, size_t n, uint32_t label);
/* The instance whose VRF id is id, or NULL */
const struct vpn_instance *vpn_by_id(const struct vpn_instance *list, size_t n, uint32_t id);
/* The instance named name, or NULL */
const struct vpn_instance *vpn_by_name(const struct vpn_instance *list, size_t n, const char *name);

#endif
