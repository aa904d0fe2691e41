// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* nsflow: NetStream-class flow metering and export for Linux. */
#include <stdio.h>
#include <string.h>
#include "control.h"
#include "nsflow_cli.h"
#include "version.h"

static void usage(FILE *f)
{
	fputs("usage: nsflow COMMAND [ARGS]\n"
	      "\n"
	      "  run -i IFACE [-c URL ...] [options]  attach to IFACE(s), meter, export flows\n"
	      "  replay CAPTURE [-c URL ...]          meter a pcap/pcapng file the same way\n"
	      "  show cache [--json] [filters]        flows in the running agent's cache\n"
	      "  show stats                           packets/octets per interface, aging, drops\n"
	      "  show interfaces | collectors         what the agent meters and exports to\n"
	      "  reset cache                          age out and export every flow now\n"
	      "  reset stats                          zero the statistics\n"
	      "  detach -i IFACE | --all              remove what a killed agent left attached\n"
	      "  version                              the version built (also --version)\n"
	      "\n"
	      "show and reset talk to the only agent running, or to the one given by\n"
	      "-p PIN_DIR (its --pin-dir) or --control-socket PATH.\n"
	      "\n"
	      "Collectors (-c, repeatable): v5://HOST:PORT, v9://HOST:PORT, ipfix://HOST:PORT,\n"
	      "ipfix+tcp://HOST:PORT, file:PATH (IPFIX file), json:PATH|-, text:PATH|- (default).\n"
	      "`nsflow run --help` lists every option with its default.\n",
	      f);
}

static void show_usage(FILE *f)
{
	fputs("usage: nsflow show cache [filters] [--json] [--sort packets|octets] [--top N]\n"
	      "       nsflow show cache --aggregation MODE[:v4|v6] | --record NAME[:v4|v6] ...\n"
	      "       nsflow show stats | interfaces | collectors\n"
	      "       nsflow reset cache | stats\n"
	      "\n"
	      "Asks the running agent. cache lists the flows in its cache now (totals since each\n"
	      "was created), one line each under a header, or one JSON object each with --json;\n"
	      "stats: packets and bytes per interface, direction and family, aging, drops, "
	      "memory;\n"
	      "interfaces: what is metered and how; collectors: each one's state and counts.\n"
	      "reset cache ages out and exports every flow now; reset stats zeroes the counters.\n"
	      "\n"
	      "Filters of show cache (all must match):\n"
	      "  --src ADDR[/LEN]  --dst ADDR[/LEN]   source / destination address or prefix\n"
	      "  --sport N  --dport N                 ports\n"
	      "  --proto NAME|N                       protocol (tcp, udp, icmp, 47 ...)\n"
	      "  --interface IFACE                    interface the flow was seen on\n"
	      "  --vni N                              VXLAN VNI\n"
	      "  --vrf NAME|ID                        VRF (ingress or egress)\n"
	      "  --aggregation MODE[:v4|v6]           an aggregation cache instead of the flows\n"
	      "  --record NAME[:v4|v6]                a flexible record's cache\n"
	      "  --sort packets|octets --top N        the N largest, largest first\n"
	      "\n"
	      "Which agent: the only one running, or -p PIN_DIR (its --pin-dir), or\n"
	      "--control-socket PATH.\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "replay"))
		return cmd_replay(argc - 1, argv + 1);
	if (!strcmp(cmd, "detach"))
		return cmd_detach(argc - 1, argv + 1);
	if (!strcmp(cmd, "show") || !strcmp(cmd, "reset")) {
		if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h") ||
				  !strcmp(argv[2], "help"))) {
			show_usage(stdout);
			return 0;
		}
		if (argc < 3) {
			fprintf(stderr, "nsflow %s: what? (cache, stats%s)\n", cmd,
				!strcmp(cmd, "show") ? ", interfaces, collectors" : "");
			return 2;
		}
		return control_request(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
		printf("nsflow %s\n", NSFLOW_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (cmd[0])
		fprintf(stderr, "nsflow: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return 2;
}
