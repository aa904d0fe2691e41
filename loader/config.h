/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Settings of `nsflow run`, from command-line flags and from a YAML file: the same settings
 * either way, the YAML keys being the long flag names. Everything is checked here, before
 * anything is attached; messages name the flag, or the file and line, and what is wrong.
 */
#ifndef NSFLOW_CONFIG_H
#define NSFLOW_CONFIG_H

#include <linux/limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "nsflow.h"
#include "flex.h"
#include "vpn.h"

#define CONFIG_DEFAULT_PIN_DIR	      "/sys/fs/bpf/nsflow"
#define CONFIG_SOCKET_DIR	      "/run/nsflow"
#define CONFIG_DEFAULT_CONTROL_SOCKET CONFIG_SOCKET_DIR "/control.sock"
#define CONFIG_SOCKET_MAX	      108 /* sizeof(sockaddr_un.sun_path) */

enum config_xdp_mode {
	CONFIG_XDP_AUTO = 0, /* native where the driver has it, generic elsewhere */
	CONFIG_XDP_NATIVE,
	CONFIG_XDP_GENERIC,
};

enum config_ingress_hook {
	CONFIG_INGRESS_XDP = 0,
	CONFIG_INGRESS_TC,
};

struct config_sampler {
	uint32_t mode;	/* enum nsflow_sample_mode */
	uint32_t param; /* N for fixed/random (1..65535), milliseconds for time (5..30000) */
};

struct config_iface {
	char name[IF_NAMESIZE];
	uint32_t ifindex;  /* 0 until config_validate() resolves the name */
	unsigned int line; /* line of the config file that listed it; 0 when from -i */
	/* per-interface settings win over the global ones when set (NetStream's rule) */
	bool has_sample;
	bool has_mpls;
	bool has_srv6;
	bool has_vxlan;
	bool has_vxlan_port;
	struct config_sampler sample;
	uint32_t mpls_mode;  /* enum nsflow_mpls_mode */
	uint32_t srv6_mode;  /* enum nsflow_srv6_mode */
	uint32_t vxlan_mode; /* enum nsflow_vxlan_mode */
	uint32_t vxlan_port; /* UDP destination port of VXLAN, 1..65535 */
	bool dropped;	     /* internal: listed in the file but not in the -i flags */
	bool by_rule;	     /* chosen by --all-interfaces/--interface-match, not named */
	bool gone;	     /* set by the agent: deleted, renamed away or refused; not metered */
	const char *hook;    /* set by the agent: where ingress is metered ("xdp-native" ...) */
};

/* One aggregation cache: a NetStream aggregation mode for one address family. */
struct config_agg {
	uint8_t mode;		/* enum ns_agg_mode */
	uint8_t ipv6;		/* the IPv6 cache (and not the IPv4 one) of the mode */
	unsigned int line;	/* line of the config file; 0 when from a flag */
	uint32_t active_s;	/* 0: --aggregate-active-timeout */
	uint32_t inactive_s;	/* 0: --aggregate-inactive-timeout */
	uint32_t cache_entries; /* 0: --aggregate-cache-entries */
};

#define CONFIG_MAX_AGGS 32 /* every mode, for both families */

#define CONFIG_IFRULE_MAX 256 /* longest --interface-match / --exclude-interfaces REGEX */

struct nsflow_config {
	struct config_iface *ifaces; /* named ones first, then those the rules chose */
	size_t n_ifaces;
	bool all_ifaces;		       /* --all-interfaces: every one but lo */
	char iface_match[CONFIG_IFRULE_MAX];   /* --interface-match REGEX, "" for none */
	char iface_exclude[CONFIG_IFRULE_MAX]; /* --exclude-interfaces REGEX, "" for none */
	char **collectors; /* URLs, as given; none: flows are printed to the terminal */
	size_t n_collectors;
	char *config_path; /* --config, NULL without */

	uint32_t active_timeout_s;    /* 1..3600, default 1800 */
	uint32_t inactive_timeout_s;  /* 5..600, default 30 */
	uint32_t poll_interval_ms;    /* 10..60000, default 1000 */
	uint32_t cache_entries;	      /* 1024..16777216, default 1048576 */
	struct config_sampler sample; /* default: every packet */
	enum config_xdp_mode xdp_mode;
	enum config_ingress_hook ingress_hook;
	bool egress; /* meter egress at TC; false with --no-egress */
	char pin_dir[PATH_MAX];
	int verbose;

	uint32_t mpls_mode;   /* enum nsflow_mpls_mode, default label-and-ip */
	uint32_t srv6_mode;   /* enum nsflow_srv6_mode, default outer */
	uint32_t vxlan_mode;  /* enum nsflow_vxlan_mode, default outer */
	uint32_t vxlan_port;  /* 1..65535, default 4789 */
	uint8_t counter_bits; /* 32 or 64 (default): width of exported counters */

	/* export */
	uint32_t observation_domain;
	uint32_t template_refresh_packets; /* 1..65535, default 20 */
	uint32_t template_refresh_s;	   /* 1..86400, default 600 */
	uint32_t mtu;			   /* 1024..65535, default 1400: largest export packet */
	char source_address[64];	   /* as given, "" when unset */
	struct sockaddr_storage source;	   /* parsed; ss_family AF_UNSPEC when unset */
	uint32_t export_dscp;		   /* 0..63, default 0: DSCP of export packets */

	/* aggregated flows (NetStream's aggregation caches), beside the original ones or not */
	struct config_agg aggs[CONFIG_MAX_AGGS];
	size_t n_aggs;
	uint32_t agg_active_s;	    /* 1..3600, default 1800 */
	uint32_t agg_inactive_s;    /* 5..600, default 30 */
	uint32_t agg_cache_entries; /* 1024..16777216, default 65536 */
	bool no_original;	    /* export aggregated and flexible records only */
	/* flexible records (NetStream's `ip netstream record`), each a cache per family */
	struct config_record records[NS_FLEX_MAX];
	size_t n_records;
	/* BGP/MPLS VPN instances (vpn.h): route distinguishers and VPN labels of VRFs */
	struct vpn_instance vpns[VPN_MAX];
	size_t n_vpns;
	/* --routes: an MRT RIB dump or a text file of routes, "" for the kernel's table only */
	char routes_file[4096];

	char metrics_address[256]; /* HOST:PORT of the Prometheus endpoint, "" for none */
	/* show/reset talk to the agent here; "" until config_validate() derives it from pin_dir */
	char control_socket[CONFIG_SOCKET_MAX];
	bool help; /* -h/--help was given: print config_usage() and exit 0 */
};

void config_init(struct nsflow_config *c);

/* "outer", "inner" or "off", as --vxlan spells mode */
const char *config_vxlan_mode_name(uint32_t mode);
/* "label-only", "ip-only" or "label-and-ip"; "outer" or "inner-header": as --mpls, --srv6 */
const char *config_mpls_mode_name(uint32_t mode);
const char *config_srv6_mode_name(uint32_t mode);
/* "fixed:100", "time:50", "none" ...: as --sample spells it, in buf */
const char *config_sample_name(uint32_t mode, uint32_t param, char *buf, size_t len);

/*
 * The control socket of the agent whose pin dir is pin_dir: /run/nsflow/control.sock for the
 * default pin dir, /run/nsflow/control<pin dir with '/' as '_'>.sock for another one (a hash
 * of it when that is too long for a unix socket's name).
 */
void config_control_socket_for(const char *pin_dir, char *buf, size_t len);

/*
 * argv[0] is the command word ("run"), skipped as getopt skips a program name: call it with
 * main's argc - 1, argv + 1. A --config FILE is loaded first, then the other flags are applied
 * over it, so flags win; a list given by flags (-i, -c) replaces the file's, keeping the file's
 * per-interface settings of the interfaces named again. argv may be permuted.
 */
int config_parse_args(struct nsflow_config *c, int argc, char **argv, char *err, size_t errlen);

/* Settings from a YAML file; each one it holds replaces the current value. */
int config_load_yaml(struct nsflow_config *c, const char *path, char *err, size_t errlen);

/* Checks what the settings need together and resolves the interface names. */
int config_validate(struct nsflow_config *c, char *err, size_t errlen);

/* The settings the datapath applies on an interface, its own winning over the global ones. */
void config_iface_cfg(const struct nsflow_config *c, const struct config_iface *ifc,
		      struct nsflow_cfg *out);

void config_free(struct nsflow_config *c);

void config_usage(FILE *f);

/* What aggregation needs of the rest of the settings: config_validate() calls it, and replay
 * (which meters no interface) on its own. Fills in the per-cache defaults. */
int config_validate_aggs(struct nsflow_config *c, char *err, size_t errlen);

/*
 * With --no-original, no aggregation and one flexible record alone applying to ifindex, the
 * datapath keeps only that record's fields in the flow key (when it can: flex_kernel_key()), so
 * that the kernel itself aggregates by them. Otherwise out is left as it is.
 */
void config_record_key_mask(const struct nsflow_config *c, uint32_t ifindex,
			    struct nsflow_cfg *out);

#endif /* NSFLOW_CONFIG_H */
