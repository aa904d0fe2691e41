// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Settings of `nsflow run`: every flag, every YAML key, and the exact message of every refusal,
 * since those messages are what an operator reads.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ifrule.h"
#include "exp_template.h"
#include "exp_url.h"

static char tmpdir[64];
static char err[1024];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/nsflow-test-config-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	/* messages name the file as given: work where the files are, so they read as an
	 * operator would see them */
	cr_assert_eq(chdir(tmpdir), 0);
}

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(config, .init = make_tmpdir, .fini = remove_tmpdir);

/* config_parse_args over "run" and the NULL-terminated arguments */
static int parse(struct nsflow_config *c, ...)
{
	char *argv[64] = { "run" };
	int argc = 1;
	va_list ap;

	va_start(ap, c);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	config_init(c);
	err[0] = 0;
	return config_parse_args(c, argc, argv, err, sizeof(err));
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static int load(struct nsflow_config *c, const char *text)
{
	write_file("nsflow.yaml", text);
	config_init(c);
	err[0] = 0;
	return config_load_yaml(c, "nsflow.yaml", err, sizeof(err));
}

Test(config, defaults)
{
	struct nsflow_config c;

	config_init(&c);
	cr_assert_eq(c.active_timeout_s, 1800);
	cr_assert_eq(c.inactive_timeout_s, 30);
	cr_assert_eq(c.poll_interval_ms, 1000);
	cr_assert_eq(c.cache_entries, 1048576);
	cr_assert_eq(c.sample.mode, NSFLOW_SAMPLE_NONE);
	cr_assert_eq(c.xdp_mode, CONFIG_XDP_AUTO);
	cr_assert_eq(c.ingress_hook, CONFIG_INGRESS_XDP);
	cr_assert(c.egress);
	cr_assert_str_eq(c.pin_dir, "/sys/fs/bpf/nsflow");
	cr_assert_eq(c.mpls_mode, NSFLOW_MPLS_LABEL_AND_IP);
	cr_assert_eq(c.srv6_mode, NSFLOW_SRV6_OUTER);
	cr_assert_eq(c.vxlan_mode, NSFLOW_VXLAN_OUTER);
	cr_assert_eq(c.vxlan_port, 4789);
	cr_assert_eq(c.counter_bits, 64);
	cr_assert_eq(c.template_refresh_packets, 20);
	cr_assert_eq(c.template_refresh_s, 600);
	cr_assert_eq(c.mtu, 1400);
	cr_assert_eq(c.observation_domain, 0);
	cr_assert_eq(c.source.ss_family, AF_UNSPEC);
	cr_assert_str_eq(c.metrics_address, "");
	cr_assert_eq(c.n_ifaces, 0);
	cr_assert_eq(c.n_collectors, 0);
	cr_assert_eq(c.verbose, 0);
	config_free(&c);
}

Test(config, every_flag)
{
	struct sockaddr_in6 *s6;
	struct nsflow_config c;

	cr_assert_eq(parse(&c, "-i", "lo", "--interface", "eth1", "-c", "ipfix://192.0.2.1:4739",
			   "--collector", "v9://192.0.2.2:2055", "--active-timeout", "60",
			   "--inactive-timeout", "15", "--poll-interval", "250", "--cache-entries",
			   "262144", "--sample", "random:100", "--xdp-mode", "generic",
			   "--ingress-hook", "tc", "--no-egress", "--pin-dir", "/sys/fs/bpf/x",
			   "--mpls", "label-only", "--srv6", "inner-header", "--vxlan", "inner",
			   "--vxlan-port", "8472", "--counter-bits", "32", "--observation-domain",
			   "4294967295", "--template-refresh-packets", "5",
			   "--template-refresh-seconds", "60", "--mtu", "9000", "--source-address",
			   "[2001:db8::1]:2055", "--metrics", "127.0.0.1:9100", "--control-socket",
			   "/run/x.sock", "-v", "-v", NULL),
		     0, "%s", err);
	cr_assert_eq(c.n_ifaces, 2);
	cr_assert_str_eq(c.ifaces[0].name, "lo");
	cr_assert_str_eq(c.ifaces[1].name, "eth1");
	cr_assert_eq(c.n_collectors, 2);
	cr_assert_str_eq(c.collectors[0], "ipfix://192.0.2.1:4739");
	cr_assert_str_eq(c.collectors[1], "v9://192.0.2.2:2055");
	cr_assert_eq(c.active_timeout_s, 60);
	cr_assert_eq(c.inactive_timeout_s, 15);
	cr_assert_eq(c.poll_interval_ms, 250);
	cr_assert_eq(c.cache_entries, 262144);
	cr_assert_eq(c.sample.mode, NSFLOW_SAMPLE_RANDOM);
	cr_assert_eq(c.sample.param, 100);
	cr_assert_eq(c.xdp_mode, CONFIG_XDP_GENERIC);
	cr_assert_eq(c.ingress_hook, CONFIG_INGRESS_TC);
	cr_assert_not(c.egress);
	cr_assert_str_eq(c.pin_dir, "/sys/fs/bpf/x");
	cr_assert_eq(c.mpls_mode, NSFLOW_MPLS_LABEL_ONLY);
	cr_assert_eq(c.srv6_mode, NSFLOW_SRV6_INNER);
	cr_assert_eq(c.vxlan_mode, NSFLOW_VXLAN_INNER);
	cr_assert_eq(c.vxlan_port, 8472);
	cr_assert_eq(c.counter_bits, 32);
	cr_assert_eq(c.observation_domain, 4294967295u);
	cr_assert_eq(c.template_refresh_packets, 5);
	cr_assert_eq(c.template_refresh_s, 60);
	cr_assert_eq(c.mtu, 9000);
	cr_assert_str_eq(c.source_address, "[2001:db8::1]:2055");
	s6 = (struct sockaddr_in6 *)&c.source;
	cr_assert_eq(s6->sin6_family, AF_INET6);
	cr_assert_eq(ntohs(s6->sin6_port), 2055);
	cr_assert_eq(s6->sin6_addr.s6_addr[15], 1);
	cr_assert_str_eq(c.metrics_address, "127.0.0.1:9100");
	cr_assert_str_eq(c.control_socket, "/run/x.sock");
	cr_assert_eq(c.verbose, 2);
	cr_assert_not(c.help);
	config_free(&c);
}

Test(config, flag_values_of_each_kind)
{
	struct sockaddr_in *s4;
	struct nsflow_config c;

	cr_assert_eq(parse(&c, "-i", "lo", "--sample", "fixed:1", "--xdp-mode", "native",
			   "--source-address", "192.0.2.7", "--mpls", "ip-only", NULL),
		     0, "%s", err);
	cr_assert_eq(c.sample.mode, NSFLOW_SAMPLE_FIXED);
	cr_assert_eq(c.sample.param, 1);
	cr_assert_eq(c.xdp_mode, CONFIG_XDP_NATIVE);
	cr_assert_eq(c.mpls_mode, NSFLOW_MPLS_IP_ONLY);
	s4 = (struct sockaddr_in *)&c.source;
	cr_assert_eq(s4->sin_family, AF_INET);
	cr_assert_eq(s4->sin_port, 0);
	cr_assert_eq(ntohl(s4->sin_addr.s_addr), 0xc0000207);
	config_free(&c);

	cr_assert_eq(parse(&c, "--sample", "time:30000", "--source-address", "192.0.2.7:9995",
			   "--metrics", "[::1]:9100", "--sample=fixed:65535", "--active-timeout=1",
			   NULL),
		     0, "%s", err);
	cr_assert_eq(c.sample.mode, NSFLOW_SAMPLE_FIXED, "the last flag wins");
	cr_assert_eq(c.sample.param, 65535);
	cr_assert_eq(c.active_timeout_s, 1);
	cr_assert_eq(ntohs(((struct sockaddr_in *)&c.source)->sin_port), 9995);
	config_free(&c);

	cr_assert_eq(parse(&c, "--sample", "time:5", "--sample", "none", "--source-address",
			   "2001:db8::2", "--metrics", ":9100", NULL),
		     0, "%s", err);
	cr_assert_eq(c.sample.mode, NSFLOW_SAMPLE_NONE);
	cr_assert_eq(c.source.ss_family, AF_INET6);
	config_free(&c);
}

Test(config, help)
{
	struct nsflow_config c;

	cr_assert_eq(parse(&c, "--help", NULL), 0);
	cr_assert(c.help);
	config_free(&c);
	cr_assert_eq(parse(&c, "-i", "lo", "-h", "--config", "missing.yaml", NULL), 0,
		     "help does not read the file");
	cr_assert(c.help);
	config_free(&c);
}

struct flag_error {
	const char *args[4];
	const char *message;
};

static const struct flag_error flag_errors[] = {
	{ { "--sample", "fixed:0" }, "--sample: 'fixed:0' out of range (N is 1..65535)" },
	{ { "--sample", "random:65536" }, "--sample: 'random:65536' out of range (N is 1..65535)" },
	{ { "--sample", "time:4" }, "--sample: 'time:4' out of range (MS is 5..30000)" },
	{ { "--sample", "time:99999999999" },
	  "--sample: 'time:99999999999' out of range (MS is 5..30000)" },
	{ { "--sample", "fixed" },
	  "--sample: 'fixed' is not fixed:N, random:N (N 1..65535), time:MS (MS 5..30000) or "
	  "none" },
	{ { "--sample", "fixed:1x" },
	  "--sample: 'fixed:1x' is not fixed:N, random:N (N 1..65535), time:MS (MS 5..30000) or "
	  "none" },
	{ { "--active-timeout", "0" }, "--active-timeout: 0 is out of range 1..3600 seconds" },
	{ { "--active-timeout", "3601" },
	  "--active-timeout: 3601 is out of range 1..3600 seconds" },
	{ { "--active-timeout", "ten" },
	  "--active-timeout: 'ten' is not a number (seconds 1..3600)" },
	{ { "--active-timeout", "-5" },
	  "--active-timeout: '-5' is not a number (seconds 1..3600)" },
	{ { "--active-timeout", "" }, "--active-timeout: no value given (seconds 1..3600)" },
	{ { "--inactive-timeout", "4" }, "--inactive-timeout: 4 is out of range 5..600 seconds" },
	{ { "--inactive-timeout", "601" },
	  "--inactive-timeout: 601 is out of range 5..600 seconds" },
	{ { "--poll-interval", "9" }, "--poll-interval: 9 is out of range 10..60000 milliseconds" },
	{ { "--poll-interval", "1.5" },
	  "--poll-interval: '1.5' is not a number (milliseconds 10..60000)" },
	{ { "--cache-entries", "1023" },
	  "--cache-entries: 1023 is out of range 1024..16777216 entries" },
	{ { "--cache-entries", "16777217" },
	  "--cache-entries: 16777217 is out of range 1024..16777216 entries" },
	{ { "--cache-entries", "99999999999999999999" },
	  "--cache-entries: 99999999999999999999 is out of range 1024..16777216 entries" },
	{ { "--observation-domain", "4294967296" },
	  "--observation-domain: 4294967296 is out of range 0..4294967295" },
	{ { "--template-refresh-packets", "0" },
	  "--template-refresh-packets: 0 is out of range 1..65535 packets" },
	{ { "--template-refresh-seconds", "86401" },
	  "--template-refresh-seconds: 86401 is out of range 1..86400 seconds" },
	{ { "--mtu", "1023" }, "--mtu: 1023 is out of range 1024..65535 bytes" },
	{ { "--xdp-mode", "offload" }, "--xdp-mode: 'offload' is not auto, native or generic" },
	{ { "--ingress-hook", "nf" }, "--ingress-hook: 'nf' is not xdp or tc" },
	{ { "--mpls", "labels" }, "--mpls: 'labels' is not label-only, ip-only or label-and-ip" },
	{ { "--srv6", "inner" }, "--srv6: 'inner' is not outer or inner-header" },
	{ { "--vxlan", "inner-header" }, "--vxlan: 'inner-header' is not outer, inner or off" },
	{ { "--vxlan", "" }, "--vxlan: '' is not outer, inner or off" },
	{ { "--vxlan-port", "0" }, "--vxlan-port: 0 is out of range 1..65535" },
	{ { "--vxlan-port", "65536" }, "--vxlan-port: 65536 is out of range 1..65535" },
	{ { "--vxlan-port", "47x" }, "--vxlan-port: '47x' is not a number (1..65535)" },
	{ { "--counter-bits", "16" }, "--counter-bits: '16' is not 32 or 64" },
	{ { "--pin-dir", "bpf/nsflow" }, "--pin-dir: 'bpf/nsflow' is not an absolute path" },
	{ { "--control-socket", "x.sock" }, "--control-socket: 'x.sock' is not an absolute path" },
	{ { "--control-socket", "/run/nsflow/a-name-that-is-far-too-long-for-the-sun-path-of-a-"
				"unix-domain-socket-address-by-far-by-far-by-far.sock" },
	  "--control-socket: a unix socket path is at most 107 characters" },
	{ { "--source-address", "example.com" },
	  "--source-address: 'example.com' is not an IPv4 or IPv6 address with an optional port "
	  "(192.0.2.1, 192.0.2.1:2055, 2001:db8::1 or [2001:db8::1]:2055)" },
	{ { "--source-address", "192.0.2.1:65536" },
	  "--source-address: '192.0.2.1:65536' is not an IPv4 or IPv6 address with an optional "
	  "port (192.0.2.1, 192.0.2.1:2055, 2001:db8::1 or [2001:db8::1]:2055)" },
	{ { "--metrics", "9100" },
	  "--metrics: '9100' is not HOST:PORT (127.0.0.1:9100, [::1]:9100, or :9100 for every "
	  "address)" },
	{ { "--metrics", "::1:9100" },
	  "--metrics: '::1:9100' is not HOST:PORT (127.0.0.1:9100, [::1]:9100, or :9100 for "
	  "every address)" },
	{ { "--metrics", "localhost:0" },
	  "--metrics: 'localhost:0' is not HOST:PORT (127.0.0.1:9100, [::1]:9100, or :9100 for "
	  "every address)" },
	{ { "-i", "lo", "-i", "lo" }, "-i: interface 'lo' is listed twice" },
	{ { "-i", "a-name-that-is-too-long" },
	  "-i: 'a-name-that-is-too-long' is not an interface name (1..15 characters, no '/', ':' "
	  "or spaces)" },
	{ { "-i", "eth0:1" },
	  "-i: 'eth0:1' is not an interface name (1..15 characters, no '/', ':' or spaces)" },
	{ { "-c", "ipfix://a:1", "-c", "ipfix://a:1" },
	  "-c: collector 'ipfix://a:1' is listed twice" },
	{ { "-c", "" }, "-c: empty collector URL" },
	{ { "--activ-timeout", "5" },
	  "unknown option '--activ-timeout' (did you mean '--active-timeout'?)" },
	{ { "--inactive-timout=5" },
	  "unknown option '--inactive-timout' (did you mean '--inactive-timeout'?)" },
	{ { "--frobnicate" }, "unknown option '--frobnicate' (see nsflow run --help)" },
	{ { "-x" }, "unknown option '-x' (see nsflow run --help)" },
	{ { "--template-refresh", "5" },
	  "option '--template-refresh' is ambiguous: more than one option starts so" },
	{ { "--active-timeout" }, "--active-timeout needs a value (seconds)" },
	{ { "-i" }, "-i needs a value (an interface name)" },
	{ { "--no-egress=yes" }, "--no-egress takes no value" },
	{ { "eth0" }, "unexpected argument 'eth0' (see nsflow run --help)" },
	{ { "--config", "a.yaml", "--config", "b.yaml" }, "--config is given twice" },
	{ { "--config", "missing.yaml" }, "missing.yaml: No such file or directory" },
	{ { "--aggregate", "ports" },
	  "--aggregate: unknown aggregation mode 'ports' (one of as, as-tos, protocol-port, "
	  "protocol-port-tos, source-prefix, source-prefix-tos, destination-prefix, "
	  "destination-prefix-tos, prefix, prefix-tos, mpls-label, vlan-id, index-tos, "
	  "source-index-tos, bgp-nexthop-tos, vni-sip-dip)" },
	{ { "--aggregate", "as:v5" },
	  "--aggregate: 'as:v5': the family after ':' is v4 or v6 (without one, both)" },
	{ { "--aggregate", "as", "--aggregate", "as:v6" },
	  "--aggregate: aggregation as for IPv6 is given twice" },
	{ { "--aggregate-inactive-timeout", "1" },
	  "--aggregate-inactive-timeout: 1 is out of range 5..600 seconds" },
	{ { "--aggregate-cache-entries", "10" },
	  "--aggregate-cache-entries: 10 is out of range 1024..16777216 entries" },
};

Test(config, every_flag_error_says_what_is_wrong)
{
	for (size_t i = 0; i < sizeof(flag_errors) / sizeof(flag_errors[0]); i++) {
		const struct flag_error *e = &flag_errors[i];
		int want = strstr(e->message, "No such file") ? -ENOENT : -EINVAL;
		struct nsflow_config c;

		cr_assert_eq(parse(&c, e->args[0], e->args[1], e->args[2], e->args[3], NULL), want,
			     "%s %s: %s", e->args[0], e->args[1] ? e->args[1] : "", err);
		cr_assert_str_eq(err, e->message);
		config_free(&c);
	}
}

Test(config, usage_answers_the_operator)
{
	static const char *const must[] = {
		"--interface IFACE",
		"--collector URL",
		"ipfix+tcp://",
		"json:",
		"--config FILE",
		"--active-timeout SEC",
		"1..3600, default 1800",
		"--inactive-timeout SEC",
		"5..600, default 30",
		"--poll-interval MS",
		"10..60000, default 1000",
		"--cache-entries N",
		"1024..16777216, default 1048576",
		"--sample MODE",
		"fixed:N",
		"random:N",
		"time:MS",
		"1..65535",
		"5..30000",
		"--xdp-mode MODE",
		"--ingress-hook HOOK",
		"--no-egress",
		"--pin-dir DIR",
		"/sys/fs/bpf/nsflow",
		"--mpls MODE",
		"--srv6 MODE",
		"--vxlan MODE",
		"--vxlan-port PORT",
		"layer2SegmentId",
		"--counter-bits",
		"--observation-domain",
		"--template-refresh-packets",
		"--template-refresh-seconds",
		"--mtu",
		"--source-address",
		"--metrics",
		"--control-socket PATH",
		"--verbose",
		"--help",
		"Examples:",
		"interfaces:",
		"Flags win over the file",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	config_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		cr_assert_not_null(strstr(text, must[i]), "--help does not mention '%s'", must[i]);
	/* 80 columns, for a terminal */
	for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1)
		cr_assert_leq(nl - line, 80, "%.*s", (int)(nl - line), line);
	free(text);
}

static const char good_yaml[] = "# every setting\n"
				"interfaces:\n"
				"  - lo\n"
				"  - name: eth1\n"
				"    sample: fixed:100\n"
				"    mpls: label-only\n"
				"    srv6: inner-header\n"
				"    vxlan: inner\n"
				"    vxlan-port: 8472\n"
				"collectors:\n"
				"  - ipfix://192.0.2.1:4739\n"
				"  - v9://192.0.2.2:2055\n"
				"active-timeout: 120\n"
				"inactive-timeout: 10\n"
				"poll-interval: 500\n"
				"cache-entries: 131072\n"
				"sample: time:100\n"
				"xdp-mode: native\n"
				"ingress-hook: tc\n"
				"no-egress: true\n"
				"pin-dir: /sys/fs/bpf/test\n"
				"mpls: ip-only\n"
				"srv6: outer\n"
				"vxlan: off\n"
				"vxlan-port: 4790\n"
				"counter-bits: 32\n"
				"observation-domain: 7\n"
				"template-refresh-packets: 100\n"
				"template-refresh-seconds: 30\n"
				"mtu: 1500\n"
				"source-address: 192.0.2.9\n"
				"metrics: 127.0.0.1:9100\n"
				"control-socket: /run/x.sock\n"
				"verbose: 2\n";

Test(config, yaml_good_file)
{
	struct nsflow_config c;
	struct nsflow_cfg cfg;

	cr_assert_eq(load(&c, good_yaml), 0, "%s", err);
	cr_assert_eq(c.n_ifaces, 2);
	cr_assert_str_eq(c.ifaces[0].name, "lo");
	cr_assert_eq(c.ifaces[0].line, 3);
	cr_assert_not(c.ifaces[0].has_sample);
	cr_assert_str_eq(c.ifaces[1].name, "eth1");
	cr_assert(c.ifaces[1].has_sample && c.ifaces[1].has_mpls && c.ifaces[1].has_srv6);
	cr_assert_eq(c.n_collectors, 2);
	cr_assert_str_eq(c.collectors[1], "v9://192.0.2.2:2055");
	cr_assert_eq(c.active_timeout_s, 120);
	cr_assert_eq(c.inactive_timeout_s, 10);
	cr_assert_eq(c.poll_interval_ms, 500);
	cr_assert_eq(c.cache_entries, 131072);
	cr_assert_eq(c.sample.mode, NSFLOW_SAMPLE_TIME);
	cr_assert_eq(c.sample.param, 100);
	cr_assert_eq(c.xdp_mode, CONFIG_XDP_NATIVE);
	cr_assert_eq(c.ingress_hook, CONFIG_INGRESS_TC);
	cr_assert_not(c.egress);
	cr_assert_str_eq(c.pin_dir, "/sys/fs/bpf/test");
	cr_assert_eq(c.mpls_mode, NSFLOW_MPLS_IP_ONLY);
	cr_assert_eq(c.srv6_mode, NSFLOW_SRV6_OUTER);
	cr_assert_eq(c.vxlan_mode, NSFLOW_VXLAN_OFF);
	cr_assert_eq(c.vxlan_port, 4790);
	cr_assert_eq(c.counter_bits, 32);
	cr_assert_eq(c.observation_domain, 7);
	cr_assert_eq(c.template_refresh_packets, 100);
	cr_assert_eq(c.template_refresh_s, 30);
	cr_assert_eq(c.mtu, 1500);
	cr_assert_eq(c.source.ss_family, AF_INET);
	cr_assert_str_eq(c.metrics_address, "127.0.0.1:9100");
	cr_assert_str_eq(c.control_socket, "/run/x.sock");
	cr_assert_eq(c.verbose, 2);

	/* the interface's own settings win on it, the global ones apply elsewhere */
	config_iface_cfg(&c, &c.ifaces[1], &cfg);
	cr_assert_eq(cfg.sample_mode, NSFLOW_SAMPLE_FIXED);
	cr_assert_eq(cfg.sample_param, 100);
	cr_assert_eq(cfg.mpls_mode, NSFLOW_MPLS_LABEL_ONLY);
	cr_assert_eq(cfg.srv6_mode, NSFLOW_SRV6_INNER);
	cr_assert_eq(cfg.vxlan_mode, NSFLOW_VXLAN_INNER);
	cr_assert_eq(cfg.vxlan_port, 8472);
	config_iface_cfg(&c, &c.ifaces[0], &cfg);
	cr_assert_eq(cfg.sample_mode, NSFLOW_SAMPLE_TIME);
	cr_assert_eq(cfg.sample_param, 100);
	cr_assert_eq(cfg.mpls_mode, NSFLOW_MPLS_IP_ONLY);
	cr_assert_eq(cfg.srv6_mode, NSFLOW_SRV6_OUTER);
	cr_assert_eq(cfg.vxlan_mode, NSFLOW_VXLAN_OFF);
	cr_assert_eq(cfg.vxlan_port, 4790);
	cr_assert_eq(cfg.key_fields, NSFLOW_KF_ALL);
	config_free(&c);
}

Test(config, yaml_flow_style_single_values_and_empty_file)
{
	struct nsflow_config c;

	cr_assert_eq(load(&c, "interfaces: [lo, {name: eth1, sample: 'random:7'}]\n"
			      "collectors: ipfix://[2001:db8::1]:4739\n"
			      "no-egress: off\n"
			      "active-timeout: \"90\"\n"),
		     0, "%s", err);
	cr_assert_eq(c.n_ifaces, 2);
	cr_assert_eq(c.ifaces[1].sample.mode, NSFLOW_SAMPLE_RANDOM);
	cr_assert_eq(c.ifaces[1].sample.param, 7);
	cr_assert_eq(c.n_collectors, 1);
	cr_assert(c.egress);
	cr_assert_eq(c.active_timeout_s, 90);
	config_free(&c);

	cr_assert_eq(load(&c, "# nothing set\n"), 0, "%s", err);
	cr_assert_eq(c.active_timeout_s, 1800);
	config_free(&c);
	cr_assert_eq(load(&c, "interfaces:\ncollectors: []\n"), 0, "%s", err);
	cr_assert_eq(c.n_ifaces, 0);
	config_free(&c);
}

struct yaml_error {
	const char *text;
	const char *message;
};

static const struct yaml_error yaml_errors[] = {
	{ "interfaces: [lo]\n\n\n\n\n\nactiv-timeout: 60\n",
	  "nsflow.yaml:7: unknown key 'activ-timeout' (did you mean 'active-timeout'?)" },
	{ "colectors: []\n",
	  "nsflow.yaml:1: unknown key 'colectors' (did you mean 'collectors'?)" },
	{ "frobnicate: 1\n", "nsflow.yaml:1: unknown key 'frobnicate'" },
	{ "config: other.yaml\n", "nsflow.yaml:1: unknown key 'config'" },
	{ "interfaces: [lo]\n\nactive-timeout: 0\n",
	  "nsflow.yaml:3: active-timeout: 0 is out of range 1..3600 seconds" },
	{ "inactive-timeout: 1000\n",
	  "nsflow.yaml:1: inactive-timeout: 1000 is out of range 5..600 seconds" },
	{ "poll-interval: fast\n",
	  "nsflow.yaml:1: poll-interval: 'fast' is not a number (milliseconds 10..60000)" },
	{ "sample: fixed:0\n", "nsflow.yaml:1: sample: 'fixed:0' out of range (N is 1..65535)" },
	{ "mpls: both\n",
	  "nsflow.yaml:1: mpls: 'both' is not label-only, ip-only or label-and-ip" },
	{ "no-egress: maybe\n",
	  "nsflow.yaml:1: no-egress: 'maybe' is not true, false, yes, no, on or off" },
	{ "verbose: 4\n", "nsflow.yaml:1: verbose: 4 is out of range 0..3" },
	{ "active-timeout:\n", "nsflow.yaml:1: active-timeout: no value given" },
	{ "active-timeout: [1, 2]\n",
	  "nsflow.yaml:1: active-timeout: expected a single value, not a list" },
	{ "mtu:\n  bytes: 1500\n", "nsflow.yaml:2: mtu: expected a single value, not a mapping" },
	{ "collectors:\n  url: ipfix://a:1\n",
	  "nsflow.yaml:2: collectors: expected a list, not a mapping" },
	{ "collectors: [[a]]\n", "nsflow.yaml:1: collectors: expected a single value, not a list" },
	{ "interfaces: [[lo]]\n",
	  "nsflow.yaml:1: interfaces: expected a name or 'name: ...' settings, not a list" },
	{ "interfaces:\n  - sample: fixed:2\n",
	  "nsflow.yaml:2: interface settings without a 'name'" },
	{ "interfaces:\n  - name: lo\n    smaple: fixed:2\n",
	  "nsflow.yaml:3: unknown interface setting 'smaple' (did you mean 'sample'?) (an "
	  "interface takes name, sample, mpls, srv6, vxlan and vxlan-port)" },
	{ "interfaces:\n  - name: lo\n    vxlan: inner-header\n",
	  "nsflow.yaml:3: vxlan: 'inner-header' is not outer, inner or off" },
	{ "interfaces:\n  - name: lo\n    vxlan-port: 70000\n",
	  "nsflow.yaml:3: vxlan-port: 70000 is out of range 1..65535" },
	{ "interfaces:\n  - name: lo\n    vxlan-prot: 4789\n",
	  "nsflow.yaml:3: unknown interface setting 'vxlan-prot' (did you mean 'vxlan-port'?) (an "
	  "interface takes name, sample, mpls, srv6, vxlan and vxlan-port)" },
	{ "vxlan-port: [4789]\n",
	  "nsflow.yaml:1: vxlan-port: expected a single value, not a list" },
	{ "interfaces:\n  - name: lo\n    sample: time:1\n",
	  "nsflow.yaml:3: sample: 'time:1' out of range (MS is 5..30000)" },
	{ "interfaces:\n  - name: lo\n    srv6: [inner]\n",
	  "nsflow.yaml:3: srv6: expected a single value, not a list" },
	{ "interfaces:\n  - lo\n  - lo\n", "nsflow.yaml:3: interface 'lo' is listed twice" },
	{ "active-timeout: 60\nmtu: 1500\nactive-timeout: 90\n",
	  "nsflow.yaml:3: 'active-timeout' is set twice (first on line 1)" },
	{ "- lo\n- eth0\n", "nsflow.yaml:1: expected 'key: value' settings, not a list" },
	{ "aggregation:\n  - protocol-port\n  - mode: as\n    famly: v4\n",
	  "nsflow.yaml:4: unknown aggregation setting 'famly' (did you mean 'family'?) (one takes "
	  "mode, family, active-timeout, inactive-timeout and cache-entries)" },
	{ "aggregation:\n  - mode: as\n    family: v5\n",
	  "nsflow.yaml:3: family: 'v5' is not v4, v6 or both" },
	{ "aggregation:\n  - family: v4\n",
	  "nsflow.yaml:2: aggregation: settings without a 'mode'" },
	{ "aggregation:\n  - mode: as\n    inactive-timeout: 1\n",
	  "nsflow.yaml:3: inactive-timeout: 1 is out of range 5..600 seconds" },
	{ "? [a]\n: b\n", "nsflow.yaml:1: a setting name must be a plain word" },
	/* libyaml's own findings keep its words and the line */
	{ "interfaces:\n  - lo\nactive-timeout: 60\n  inactive-timeout: 10\n",
	  "nsflow.yaml:4: bad YAML: mapping values are not allowed in this context" },
	{ "interfaces: [lo\nactive-timeout: 5\n",
	  "nsflow.yaml:2: bad YAML: did not find expected ',' or ']' (while parsing a flow "
	  "sequence at line 1)" },
	{ "interfaces:\n- lo\n\tactive-timeout: 5\n",
	  "nsflow.yaml:3: bad YAML: found a tab character that violates indentation (while "
	  "scanning a plain scalar at line 2)" },
};

Test(config, every_yaml_error_names_file_line_and_problem)
{
	for (size_t i = 0; i < sizeof(yaml_errors) / sizeof(yaml_errors[0]); i++) {
		struct nsflow_config c;

		cr_assert_eq(load(&c, yaml_errors[i].text), -EINVAL, "%s", yaml_errors[i].text);
		cr_assert_str_eq(err, yaml_errors[i].message);
		config_free(&c);
	}
}

/* the exporter's parser judges URLs; its words follow where the URL was given */
Test(config, collector_urls_are_checked_before_anything_runs)
{
	struct nsflow_config c;
	char expect[1024], msg[512];
	struct ns_url u;

	cr_assert_neq(ns_url_parse("ipfx://192.0.2.1:4739", &u, msg, sizeof(msg)), 0);
	cr_assert_eq(parse(&c, "-c", "ipfx://192.0.2.1:4739", NULL), -EINVAL);
	snprintf(expect, sizeof(expect), "-c: %s", msg);
	cr_assert_str_eq(err, expect);
	config_free(&c);

	cr_assert_neq(ns_url_parse("192.0.2.1:4739", &u, msg, sizeof(msg)), 0);
	cr_assert_eq(load(&c, "collectors:\n  - ipfix://192.0.2.1:4739\n  - 192.0.2.1:4739\n"),
		     -EINVAL);
	snprintf(expect, sizeof(expect), "nsflow.yaml:3: collectors: %s", msg);
	cr_assert_str_eq(err, expect);
	config_free(&c);

	cr_assert_eq(parse(&c, "-c", "ipfix+tcp://[2001:db8::1]:4739", "-c", "json:-", "-c",
			   "file:/var/lib/nsflow/flows.ipfix", "-c", "v5://collector.example:2055",
			   NULL),
		     0, "%s", err);
	cr_assert_eq(c.n_collectors, 4);
	config_free(&c);
}

Test(config, missing_interface_is_refused)
{
	struct nsflow_config c;

	cr_assert_eq(parse(&c, "-i", "lo", "-i", "nsflowtest9", NULL), 0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "interface 'nsflowtest9' does not exist");
	cr_assert_gt(c.ifaces[0].ifindex, 0, "lo was resolved on the way");
	config_free(&c);

	/* from a file, the message says where it was listed */
	cr_assert_eq(load(&c, "interfaces:\n  - lo\n  - name: nsflowtest9\n"), 0, "%s", err);
	c.config_path = strdup("nsflow.yaml");
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "nsflow.yaml:3: interface 'nsflowtest9' does not exist");
	config_free(&c);

	cr_assert_eq(parse(&c, "--active-timeout", "60", NULL), 0);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "no interface to meter: give -i IFACE, --all-interfaces or "
			      "--interface-match REGEX (or 'interfaces:' ... in the config file)");
	config_free(&c);

	cr_assert_eq(parse(&c, "-i", "lo", NULL), 0);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.ifaces[0].ifindex, 1, "lo is ifindex 1 in every namespace");
	config_free(&c);
}

/* Rules choose among the interfaces there are now (the agent follows them afterwards). */
Test(config, interfaces_chosen_by_rule)
{
	struct nsflow_config c;
	struct ifrule r;

	/* lo is never taken by a rule, only when named */
	cr_assert_eq(parse(&c, "--all-interfaces", NULL), 0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	for (size_t i = 0; i < c.n_ifaces; i++) {
		cr_assert_str_neq(c.ifaces[i].name, "lo");
		cr_assert(c.ifaces[i].by_rule && c.ifaces[i].ifindex > 0);
	}
	config_free(&c);
	cr_assert_eq(parse(&c, "-i", "lo", "--interface-match", "l.", NULL), 0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.n_ifaces, 1);
	cr_assert(!c.ifaces[0].by_rule, "lo named stays named");
	/* validating again chooses again, without doubling */
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.n_ifaces, 1);
	config_free(&c);

	/* the whole name must match; the exclude rule wins over the match rule */
	cr_assert_eq(parse(&c, "--interface-match", "eth[0-9]+|ens.*", "--exclude-interfaces",
			   "eth9", NULL),
		     0, "%s", err);
	cr_assert_eq(ifrule_compile(&r, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert(ifrule_wanted(&r, "eth0") && ifrule_wanted(&r, "eth12"));
	cr_assert(ifrule_wanted(&r, "ens3") && ifrule_wanted(&r, "ens"));
	cr_assert(!ifrule_wanted(&r, "veth0"), "the regex must match the whole name");
	cr_assert(!ifrule_wanted(&r, "eth0.100") && !ifrule_wanted(&r, "eth"));
	cr_assert(!ifrule_wanted(&r, "eth9"), "excluded");
	cr_assert(!ifrule_wanted(&r, "lo"));
	ifrule_free(&r);
	config_free(&c);

	/* the same from the file */
	cr_assert_eq(load(&c, "all-interfaces: true\nexclude-interfaces: 'veth.*|cali.*'\n"), 0,
		     "%s", err);
	cr_assert(c.all_ifaces);
	cr_assert_str_eq(c.iface_exclude, "veth.*|cali.*");
	cr_assert_eq(ifrule_compile(&r, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert(ifrule_wanted(&r, "eth0") && !ifrule_wanted(&r, "veth1a2b") &&
		  !ifrule_wanted(&r, "cali0") && !ifrule_wanted(&r, "lo"));
	ifrule_free(&r);
	config_free(&c);
}

Test(config, interface_rules_refused_with_a_reason)
{
	static const struct {
		const char *args[5];
		const char *message;
	} bad[] = {
		{ { "--interface-match", "eth[0-" },
		  "--interface-match: 'eth[0-' is not a regular expression (POSIX extended): " },
		{ { "--all-interfaces", "--exclude-interfaces", "(veth" },
		  "--exclude-interfaces: '(veth' is not a regular expression (POSIX extended): " },
		{ { "--exclude-interfaces", "veth.*" },
		  "--exclude-interfaces narrows --all-interfaces or --interface-match; give one of "
		  "them" },
		{ { "--all-interfaces", "--interface-match", "eth.*" },
		  "--all-interfaces and --interface-match: give one of them" },
		{ { "--interface-match", "" },
		  "--interface-match: expected a regular expression of 1..255 characters" },
	};
	struct nsflow_config c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(&c, bad[i].args[0], bad[i].args[1], bad[i].args[2], NULL);

		if (!ret)
			ret = config_validate(&c, err, sizeof(err));
		cr_assert_neq(ret, 0, "%s %s was taken", bad[i].args[0], bad[i].args[1]);
		cr_assert(!strncmp(err, bad[i].message, strlen(bad[i].message)),
			  "got '%s', want '%s...'", err, bad[i].message);
		config_free(&c);
	}
}

Test(config, flags_win_over_the_file)
{
	struct nsflow_config c;

	write_file("nsflow.yaml", "interfaces:\n"
				  "  - name: lo\n"
				  "    sample: fixed:10\n"
				  "  - eth7\n"
				  "collectors: [ipfix://192.0.2.1:4739]\n"
				  "active-timeout: 600\n"
				  "inactive-timeout: 20\n"
				  "sample: random:5\n"
				  "verbose: 1\n");
	/* the file is read first whatever its place among the flags */
	cr_assert_eq(parse(&c, "--active-timeout", "900", "-i", "lo", "--config", "nsflow.yaml",
			   "--sample", "none", NULL),
		     0, "%s", err);
	cr_assert_str_eq(c.config_path, "nsflow.yaml");
	cr_assert_eq(c.active_timeout_s, 900);
	cr_assert_eq(c.inactive_timeout_s, 20);
	cr_assert_eq(c.sample.mode, NSFLOW_SAMPLE_NONE);
	cr_assert_eq(c.verbose, 1);
	/* -i replaced the file's list; lo keeps its settings from the file */
	cr_assert_eq(c.n_ifaces, 1);
	cr_assert_str_eq(c.ifaces[0].name, "lo");
	cr_assert(c.ifaces[0].has_sample);
	cr_assert_eq(c.ifaces[0].sample.param, 10);
	cr_assert_eq(c.ifaces[0].line, 0);
	cr_assert_eq(c.n_collectors, 1, "no -c: the file's collectors stay");
	config_free(&c);

	cr_assert_eq(parse(&c, "--config", "nsflow.yaml", "-c", "v9://192.0.2.5:2055", "-i", "eth8",
			   NULL),
		     0, "%s", err);
	cr_assert_eq(c.n_collectors, 1);
	cr_assert_str_eq(c.collectors[0], "v9://192.0.2.5:2055");
	cr_assert_eq(c.n_ifaces, 1);
	cr_assert_str_eq(c.ifaces[0].name, "eth8");
	cr_assert_not(c.ifaces[0].has_sample);
	config_free(&c);

	/* without -i the file's interfaces are kept, in order */
	cr_assert_eq(parse(&c, "--config", "nsflow.yaml", NULL), 0, "%s", err);
	cr_assert_eq(c.n_ifaces, 2);
	cr_assert_str_eq(c.ifaces[1].name, "eth7");
	config_free(&c);

	/* an error in the file stops everything and names the file */
	write_file("bad.yaml", "active-timeout: 0\n");
	cr_assert_eq(parse(&c, "-i", "lo", "--config", "bad.yaml", NULL), -EINVAL);
	cr_assert_str_eq(err, "bad.yaml:1: active-timeout: 0 is out of range 1..3600 seconds");
	config_free(&c);
}

Test(config, argv_zero_must_be_the_command)
{
	struct nsflow_config c;
	char *argv[] = { "-i", "lo", NULL };

	config_init(&c);
	cr_assert_eq(config_parse_args(&c, 2, argv, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "config_parse_args: argv[0] must be the command word");
	config_free(&c);
}

/* The control socket follows the pin dir unless given; the default pin dir keeps the old path. */
Test(config, control_socket_follows_the_pin_dir)
{
	char long_dir[120], a[CONFIG_SOCKET_MAX], b[CONFIG_SOCKET_MAX];
	struct nsflow_config c;

	config_control_socket_for("/sys/fs/bpf/nsflow", a, sizeof(a));
	cr_assert_str_eq(a, "/run/nsflow/control.sock");
	config_control_socket_for("/sys/fs/bpf/nsflow-b", a, sizeof(a));
	cr_assert_str_eq(a, "/run/nsflow/control_sys_fs_bpf_nsflow-b.sock");
	/* too long for a socket's name: a hash, different for different dirs */
	memset(long_dir, 'x', sizeof(long_dir) - 1);
	long_dir[0] = '/';
	long_dir[sizeof(long_dir) - 1] = 0;
	config_control_socket_for(long_dir, a, sizeof(a));
	long_dir[5] = 'y';
	config_control_socket_for(long_dir, b, sizeof(b));
	cr_assert_lt(strlen(a), CONFIG_SOCKET_MAX);
	cr_assert_str_neq(a, b);
	cr_assert(!strncmp(a, "/run/nsflow/control-", 20), "%s", a);

	cr_assert_eq(parse(&c, "-i", "lo", "--pin-dir", "/sys/fs/bpf/q", NULL), 0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.control_socket, "/run/nsflow/control_sys_fs_bpf_q.sock");
	config_free(&c);
}

/* --aggregate per family, YAML per-cache timeouts, and what aggregation needs of the rest */
Test(config, aggregation_caches_and_their_settings)
{
	struct nsflow_config c;

	cr_assert_eq(parse(&c, "-i", "lo", "--aggregate", "protocol-port", "--aggregate",
			   "source-prefix:v6", "--aggregate-active-timeout", "60", NULL),
		     0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.n_aggs, 3, "protocol-port for both families, source-prefix for IPv6");
	cr_assert_eq(c.aggs[0].mode, NS_AGG_PROTOCOL_PORT);
	cr_assert_eq(c.aggs[0].ipv6, 0);
	cr_assert_eq(c.aggs[1].ipv6, 1);
	cr_assert_eq(c.aggs[2].mode, NS_AGG_SOURCE_PREFIX);
	cr_assert_eq(c.aggs[2].ipv6, 1);
	cr_assert_eq(c.aggs[2].active_s, 60);
	cr_assert_eq(c.aggs[2].inactive_s, 30, "NetStream's default");
	cr_assert_eq(c.aggs[2].cache_entries, 65536);
	config_free(&c);

	cr_assert_eq(load(&c, "interfaces: [lo]\n"
			      "aggregation:\n"
			      "  - vlan-id\n"
			      "  - mode: destination-prefix\n"
			      "    family: v4\n"
			      "    inactive-timeout: 60\n"
			      "    cache-entries: 4096\n"
			      "aggregate-active-timeout: 120\n"),
		     0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.n_aggs, 3);
	cr_assert_eq(c.aggs[2].mode, NS_AGG_DESTINATION_PREFIX);
	cr_assert_eq(c.aggs[2].inactive_s, 60);
	cr_assert_eq(c.aggs[2].cache_entries, 4096);
	cr_assert_eq(c.aggs[2].active_s, 120);
	cr_assert_eq(c.aggs[0].inactive_s, 30);
	config_free(&c);

	cr_assert_eq(parse(&c, "-i", "lo", "--no-original", NULL), 0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "--no-original leaves nothing to export: give --aggregate MODE or "
			      "--record NAME:match=... (or 'aggregation:' / 'records:' in the "
			      "config file)");
	config_free(&c);
	cr_assert_eq(parse(&c, "-i", "lo", "-c", "v5://127.0.0.1:2055", "--aggregate", "as", NULL),
		     0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err,
			 "collector v5://127.0.0.1:2055: NetFlow v5 cannot carry aggregated "
			 "records (it has one fixed layout): export them as v9:// or ipfix://");
	config_free(&c);
	/* routes alone: they go into the original records */
	cr_assert_eq(parse(&c, "-i", "lo", "--routes", "/etc/routes.mrt", NULL), 0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	config_free(&c);
}

Test(config, flexible_records_from_flags)
{
	struct nsflow_config c;
	struct config_record *r;
	struct nsflow_cfg v;

	cr_assert_eq(
		parse(&c, "-i", "lo", "--no-original", "--record",
		      "web:v4:match=source-address/24,destination-port,protocol:collect=packets/"
		      "32,bytes/16:interfaces=lo",
		      NULL),
		0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.n_records, 1);
	r = &c.records[0];
	cr_assert_str_eq(r->flex.name, "web");
	cr_assert_eq(r->family, 4);
	cr_assert_eq(r->flex.fields, AGG_F_SADDR | AGG_F_DPORT | AGG_F_PROTO);
	cr_assert_eq(r->flex.src_plen, 24);
	cr_assert_eq(r->flex.max_packets, 0xffffffffull);
	cr_assert_eq(r->flex.max_octets, 0xffffull);
	cr_assert_eq(r->n_collect, 2);
	cr_assert_eq(r->flex.n_ifindex, 1);
	cr_assert_eq(r->flex.ifindex[0], if_nametoindex("lo"));
	cr_assert_eq(r->flex.tmpl_id[0], 300);
	cr_assert_eq(r->flex.tmpl_id[1], 301);
	cr_assert_eq(r->active_s, 1800);
	/* one record alone on lo without originals: the kernel keys by its fields */
	config_iface_cfg(&c, &c.ifaces[0], &v);
	cr_assert_eq(v.key_fields, NSFLOW_KF_IFINDEX | NSFLOW_KF_DIRECTION | NSFLOW_KF_SRC_ADDR |
					   NSFLOW_KF_DST_PORT | NSFLOW_KF_PROTOCOL);
	cr_assert_eq(v.src_prefix_len, 96 + 24);
	cr_assert_eq(v.dst_prefix_len, 0);
	config_free(&c);

	/* a second record, originals, or a field the kernel cannot keep: the whole key */
	cr_assert_eq(parse(&c, "-i", "lo", "--no-original", "--record", "a:match=protocol",
			   "--record", "b:match=tos", NULL),
		     0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	config_iface_cfg(&c, &c.ifaces[0], &v);
	cr_assert_eq(v.key_fields, NSFLOW_KF_ALL);
	cr_assert_eq(c.records[0].n_collect, 4, "the default collects all four");
	cr_assert_eq(c.records[0].flex.max_packets, 0, "64-bit by default");
	config_free(&c);
	cr_assert_eq(parse(&c, "-i", "lo", "--record", "a:match=protocol", NULL), 0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	config_iface_cfg(&c, &c.ifaces[0], &v);
	cr_assert_eq(v.key_fields, NSFLOW_KF_ALL);
	config_free(&c);
	cr_assert_eq(parse(&c, "-i", "lo", "--no-original", "--record",
			   "a:match=protocol,tcp-flags", NULL),
		     0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	config_iface_cfg(&c, &c.ifaces[0], &v);
	cr_assert_eq(v.key_fields, NSFLOW_KF_ALL);
	config_free(&c);
}

Test(config, flexible_records_refused_with_a_reason)
{
	static const struct {
		const char *spec, *want;
	} bad[] = {
		{ "x:match=sorce-port", "--record: unknown match field 'sorce-port' (did you mean "
					"'source-port'?)" },
		{ "x:match=source-address/24", "--record: a mask length (source-address/24) needs "
					       "the record's family" },
		{ "x:v4:match=source-address/33", "--record: mask length '33' is not 1..32" },
		{ "x:match=protocol:collect=packets/8", "--record: counter width '8' of packets is "
							"not 16, 32 or 64" },
		{ "x:match=protocol:collect=flows", "--record: unknown collect field 'flows'" },
		{ "x:collect=packets", "--record: record x matches on nothing" },
		{ "as:match=protocol", "--record: 'as' names an aggregation mode" },
		{ "x y:match=protocol", "--record: 'x y:match=protocol': a record starts with its "
					"name" },
		{ "x:match=protocol,protocol", "--record: match field 'protocol' is given twice" },
		{ "x:mach=protocol", "--record: 'mach=' is not match=, collect= or interfaces=" },
	};
	struct nsflow_config c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_neq(parse(&c, "-i", "lo", "--record", bad[i].spec, NULL), 0, "%s",
			      bad[i].spec);
		cr_assert(!strncmp(err, bad[i].want, strlen(bad[i].want)), "%s: %s", bad[i].spec,
			  err);
		config_free(&c);
	}
	cr_assert_eq(parse(&c, "-i", "lo", "--record", "x:match=protocol", "--record",
			   "x:match=tos", NULL),
		     -EINVAL);
	cr_assert_str_eq(err, "--record: record x is defined twice");
	config_free(&c);
	cr_assert_eq(
		parse(&c, "-i", "lo", "--record", "x:match=protocol:interfaces=nsflow-none", NULL),
		0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "record x: interface 'nsflow-none' is not metered (give -i "
			      "nsflow-none)");
	config_free(&c);
	cr_assert_eq(parse(&c, "-i", "lo", "-c", "v5://127.0.0.1:2055", "--record",
			   "x:match=protocol", NULL),
		     0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err,
			 "collector v5://127.0.0.1:2055: NetFlow v5 cannot carry flexible "
			 "records (it has one fixed layout): export them as v9:// or ipfix://");
	config_free(&c);
}

Test(config, flexible_records_from_yaml)
{
	struct nsflow_config c;

	cr_assert_eq(load(&c, "interfaces: [lo]\n"
			      "records:\n"
			      "  - name: web\n"
			      "    family: v6\n"
			      "    match: [destination-address/64, destination-port]\n"
			      "    collect: [packets/16, bytes]\n"
			      "    interfaces: [lo]\n"
			      "    inactive-timeout: 15\n"
			      "  - ports:match=source-port,destination-port\n"),
		     0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.n_records, 2);
	cr_assert_eq(c.records[0].family, 6);
	cr_assert_eq(c.records[0].flex.dst_plen, 64);
	cr_assert_eq(c.records[0].flex.max_packets, 0xffff);
	cr_assert_eq(c.records[0].inactive_s, 15);
	cr_assert_eq(c.records[0].active_s, 1800);
	cr_assert_eq(c.records[0].line, 3);
	cr_assert_str_eq(c.records[1].flex.name, "ports");
	config_free(&c);

	cr_assert_eq(load(&c, "records:\n"
			      "  - name: web\n"
			      "    matches: [protocol]\n"),
		     -EINVAL);
	cr_assert(strstr(err, "nsflow.yaml:3: unknown record setting 'matches' (did you mean "
			      "'match'?)"),
		  "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, "records:\n"
			      "  - match: [protocol]\n"),
		     -EINVAL);
	cr_assert(strstr(err, "nsflow.yaml:2: a record without a 'name'"), "%s", err);
	config_free(&c);
}

/* VPN instances from flags and from YAML: the same settings, the same refusals */
Test(config, vpn_instances)
{
	static struct nsflow_config c;

	cr_assert_eq(parse(&c, "--vpn-instance", "blue:rd=65000:100:labels=100,200-209:id=7",
			   "--vpn-instance", "red:rd=192.0.2.1:5:vrf=vrf-red", NULL),
		     0, "%s", err);
	cr_assert_eq(c.n_vpns, 2);
	cr_assert_str_eq(c.vpns[0].name, "blue");
	cr_assert_str_eq(c.vpns[0].vrf, "blue", "the VRF device defaults to the name");
	cr_assert_eq(c.vpns[0].id, 7);
	cr_assert_eq(c.vpns[0].n_labels, 2);
	cr_assert_eq(c.vpns[0].labels[1].lo, 200);
	cr_assert_eq(c.vpns[0].labels[1].hi, 209);
	cr_assert_str_eq(c.vpns[1].vrf, "vrf-red");
	cr_assert_eq(c.vpns[1].rd[1], 1, "type 1 RD");
	config_free(&c);

	cr_assert_eq(load(&c, "vpn-instances:\n"
			      "  - name: blue\n"
			      "    rd: 65000:100\n"
			      "    labels: [100, 200-209]\n"
			      "    address: 192.0.2.9\n"
			      "  - green:rd=4200000000:1:id=3\n"),
		     0, "%s", err);
	cr_assert_eq(c.n_vpns, 2);
	cr_assert_eq(c.vpns[0].n_labels, 2);
	cr_assert(c.vpns[0].has_address);
	cr_assert_eq(c.vpns[1].rd[1], 2, "a 4-byte AS: type 2");
	config_free(&c);
}

Test(config, vpn_instance_refusals)
{
	static const struct {
		const char *spec, *says;
	} bad[] = {
		{ "blue", "has no rd=" },
		{ "blue:rd=70000:70000", "after a 4-byte AS number the number is 0..65535" },
		{ "blue:rd=1.2.3:5", "not an IPv4 address" },
		{ "blue:rd=x:5", "is not an AS number" },
		{ "blue:rd=65000:1:labels=7", "labels 0..15 are reserved" },
		{ "blue:rd=65000:1:labels=300-200", "a range goes from low to high" },
		{ "blue:rd=65000:1:labels=2000000", "is not a label" },
		{ "blue:rd=65000:1:labels=100,100", "label 100 is given twice" },
		{ "blue:rd=65000:1:id=0", "0 is the default VRF" },
		{ "blue:rd=65000:1:address=1.2.3", "not an IPv4 address" },
		{ "blue:rd=65000:1:lables=100",
		  "unknown setting 'lables' (did you mean 'labels'?)" },
		{ "rd=65000:1", "starts with its name" },
	};
	static struct nsflow_config c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(parse(&c, "--vpn-instance", bad[i].spec, NULL), -EINVAL, "%s",
			     bad[i].spec);
		cr_expect(strstr(err, bad[i].says), "%s: '%s' should say '%s'", bad[i].spec, err,
			  bad[i].says);
		cr_expect(strstr(err, "--vpn-instance"), "%s: '%s' names the flag", bad[i].spec,
			  err);
		config_free(&c);
	}
	cr_assert_eq(
		parse(&c, "--vpn-instance", "blue:rd=1:1", "--vpn-instance", "blue:rd=1:2", NULL),
		-EINVAL);
	cr_expect(strstr(err, "vpn-instance blue is defined twice"), "%s", err);
	config_free(&c);
	cr_assert_eq(parse(&c, "--vpn-instance", "a:rd=1:1:labels=100-199", "--vpn-instance",
			   "b:rd=1:2:labels=150", NULL),
		     -EINVAL);
	cr_expect(strstr(err, "labels 150-150 are also vpn-instance a's (100-199)"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, "vpn-instances:\n  - name: blue\n    rd: 1:1\n    colour: x\n"),
		     -EINVAL);
	cr_expect(strstr(err, "nsflow.yaml:4: unknown vpn-instance setting 'colour'"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, "vpn-instances:\n  - rd: 1:1\n"), -EINVAL);
	cr_expect(strstr(err, "nsflow.yaml:2: a vpn-instance without a 'name'"), "%s", err);
	config_free(&c);
}
