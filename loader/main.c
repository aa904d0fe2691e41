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
