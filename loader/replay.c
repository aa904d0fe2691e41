// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `nsflow replay CAPTURE`: the same nsflow_xdp over a capture with BPF_PROG_TEST_RUN. The
 * capture's timestamps are the datapath's clock and drive polls and aging, so a replay gives
 * the records the live probe would have given for the same traffic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "attach.h"
#include "log.h"
#include "nsflow_cli.h"
#include "pcap.h"

#define XDP_PASS_ 2

static void replay_usage(FILE *f)
{
	fputs("usage: nsflow replay CAPTURE|- [-c URL ...] [--config FILE] [--active-timeout SEC]\n"
	      "                     [--inactive-timeout SEC] [--poll-interval MS] [--sample ...]\n"
	      "                     [--mpls MODE] [--srv6 MODE] [--vxlan MODE]\n"
	      "                     [--vxlan-port PORT] [-v]\n"
	      "\n"
	      "Runs the datapath over CAPTURE (pcap or pcapng; Ethernet, Linux cooked SLL/SLL2,\n"
	      "raw IP or PPP) as if its packets arrived now, with the capture's timestamps as\n"
	      "the clock, and exports the flows like `nsflow run` (text on the terminal when no\n"
	      "-c is given). Every flow still in the cache at the end is exported as forced end.\n"
	      "Flows show ifindex 1 (the kernel runs test packets as if on the loopback device).\n"
	      "CAPTURE - reads the capture from stdin (tcpdump -w - ... | nsflow replay -). On a\n"
	      "terminal, a line on stderr tells how far a large capture is.\n",
	      f);
}

/* The settings apply to the one interface test runs happen on. */
static int write_replay_config(struct agent *a)
{
	struct config_iface lo = { .ifindex = AGENT_REPLAY_IFINDEX };
	struct nsflow_cfg v;
	int ret = 0;

	config_iface_cfg(a->cfg, &lo, &v);
	for (uint32_t dir = 0; dir < 2 && !ret; dir++)
		ret = agent_set_cfg(a->skel, AGENT_REPLAY_IFINDEX, dir, &v);
	return ret;
}

/* On a terminal, a line that says how far a large capture is */
static void replay_progress(const struct pcap_reader *r, uint64_t frames, bool last)
{
	uint64_t done, total;

	if (!pcap_reader_progress(r, &done, &total))
		fprintf(stderr, "\r  %llu packets, %llu%% of the capture%s",
			(unsigned long long)frames, (unsigned long long)(done * 100 / total),
			last ? "\n" : "");
	else
		fprintf(stderr, "\r  %llu packets%s", (unsigned long long)frames, last ? "\n" : "");
}

int cmd_replay(int argc, char **argv)
{
	struct nsflow_config cfg;
	struct pcap_reader *r = NULL;
	struct nsflow_bpf *skel = NULL;
	struct pcap_frame fr;
	struct agent a;
	const char *capture = NULL;
	char err[512] = "", **args;
	int n = 0, ret, status = 1, prog_fd;
	uint64_t frames = 0, next_poll = 0, poll_ns, last_ts = 0;
	bool tty = isatty(STDERR_FILENO);

	/* the capture is the one word that is not an option or an option's value */
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return 1;
	args[n++] = argv[0];
	for (int i = 1; i < argc; i++) {
		if ((argv[i][0] != '-' || !strcmp(argv[i], "-")) && !capture &&
		    (i == 1 || argv[i - 1][0] != '-' || !strchr("ci", argv[i - 1][1]) ||
		     argv[i - 1][2])) {
			bool takes_value = i > 1 && argv[i - 1][0] == '-' &&
					   argv[i - 1][1] == '-' && strcmp(argv[i - 1], "-v") &&
					   strcmp(argv[i - 1], "--no-egress") &&
					   strcmp(argv[i - 1], "--no-original");

			if (!takes_value) {
				capture = argv[i];
				continue;
			}
		}
		args[n++] = argv[i];
	}
	config_init(&cfg);
	ret = config_parse_args(&cfg, n, args, err, sizeof(err));
	free(args);
	if (!ret && cfg.help) {
		replay_usage(stdout);
		config_free(&cfg);
		return 0;
	}
	if (!ret && !cfg.help)
		ret = config_validate_aggs(&cfg, err, sizeof(err));
	if (!ret && !capture) {
		snprintf(err, sizeof(err), "which capture? (nsflow replay CAPTURE)");
		ret = -EINVAL;
	}
	if (ret) {
		fprintf(stderr, "nsflow replay: %s\n", err);
		config_free(&cfg);
		return 2;
	}
	log_setup(cfg.verbose);
	if (attach_check_kernel_btf(err, sizeof(err))) {
		fprintf(stderr, "nsflow replay: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	ret = pcap_reader_open(&r, capture, err, sizeof(err));
	if (!strcmp(capture, "-"))
		capture = "stdin";
	if (ret) {
		fprintf(stderr, "nsflow replay: %s\n", err);
		config_free(&cfg);
		return 2;
	}
	ret = agent_init(&a, &cfg, true, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "nsflow replay: %s\n", err);
		agent_close(&a);
		goto out_reader;
	}
	skel = nsflow_bpf__open();
	if (!skel) {
		fprintf(stderr, "nsflow replay: open the datapath object: %s\n", strerror(errno));
		goto out;
	}
	skel->rodata->nsflow_replay = true;
	agent_size_maps(skel, &cfg);
	ret = nsflow_bpf__load(skel);
	if (ret) {
		fprintf(stderr, "nsflow replay: load the datapath: %s%s\n", strerror(-ret),
			geteuid() ? " (BPF_PROG_TEST_RUN needs root)" : "");
		goto out;
	}
	ret = agent_bind(&a, skel, err, sizeof(err));
	if (!ret)
		ret = write_replay_config(&a);
	if (ret) {
		fprintf(stderr, "nsflow replay: %s\n", err[0] ? err : strerror(-ret));
		goto out;
	}
	prog_fd = bpf_program__fd(skel->progs.nsflow_xdp);
	poll_ns = (uint64_t)cfg.poll_interval_ms * 1000000ULL;
	while ((ret = pcap_reader_next(r, &fr)) == 1) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = fr.data, .data_size_in = fr.len,
			    .repeat = 1);

		if (!frames) {
			/* v9/v5 sysUptime: as if the exporter had booted with the capture */
			/* a second of uptime before the first packet: v9/v5 collectors
			 * (nfdump) take a LAST_SWITCHED of 0 for no time at all */
			a.ctx.boot_ms = fr.ts_ns / 1000000ULL;
			a.ctx.boot_ms -= a.ctx.boot_ms > 1000 ? 1000 : a.ctx.boot_ms;
			next_poll = fr.ts_ns + poll_ns;
		}
		/* a capture is not always in time order: the clock never goes back */
		if (fr.ts_ns > last_ts)
			last_ts = fr.ts_ns;
		while (last_ts >= next_poll) {
			agent_poll(&a, next_poll);
			next_poll += poll_ns;
			/* nothing left to age: the polls of a quiet stretch would find nothing */
			if (!flow_cache_count(a.cache) && last_ts >= next_poll)
				next_poll += (last_ts - next_poll) / poll_ns * poll_ns;
		}
		skel->bss->nsflow_replay_ns = last_ts;
		skel->bss->nsflow_replay_len = fr.orig_len;
		if (fr.len < 14) /* the kernel refuses test frames shorter than Ethernet */
			continue;
		if (bpf_prog_test_run_opts(prog_fd, &o) || o.retval != XDP_PASS_)
			pr_warn("%s: packet %llu: test run failed: %s", capture,
				(unsigned long long)fr.number, strerror(errno));
		frames++;
		if (tty && !(frames & 0x3fff))
			replay_progress(r, frames, false);
	}
	if (tty && frames > 0x3fff)
		replay_progress(r, frames, true);
	if (ret < 0)
		fprintf(stderr, "nsflow replay: %s (%llu packets before it replayed)\n",
			pcap_reader_error(r), (unsigned long long)frames);
	agent_poll(&a, last_ts);
	a.now_ns = last_ts;
	agent_flush_all(&a, NS_END_FORCED);
	agent_read_counters(&a);
	pr_info("%s: %llu packets, %llu metered, %llu not IP, %llu malformed, %llu records, "
		"%llu aggregated records",
		capture, (unsigned long long)frames,
		(unsigned long long)a.dp.c[NSFLOW_CNT_METERED] + a.dp.c[NSFLOW_CNT_RINGBUF],
		(unsigned long long)a.dp.c[NSFLOW_CNT_NON_IP],
		(unsigned long long)(a.dp.c[NSFLOW_CNT_SAMPLED] - a.dp.c[NSFLOW_CNT_METERED] -
				     a.dp.c[NSFLOW_CNT_RINGBUF] - a.dp.c[NSFLOW_CNT_NOT_METERED] -
				     a.dp.c[NSFLOW_CNT_NON_IP]),
		cfg.no_original ? 0ULL : (unsigned long long)flow_cache_stats(a.cache)->exported,
		(unsigned long long)a.agg_records);
	status = ret < 0 ? 1 : 0;
out:
	agent_close(&a);
	nsflow_bpf__destroy(skel);
out_reader:
	pcap_reader_close(r);
	config_free(&cfg);
	return status;
}
