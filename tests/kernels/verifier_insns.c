// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * verifier_insns: loads the datapath (the skeleton's object, as the agent and the datapath
 * tests load it) into the running kernel and prints, per program, how many instructions the
 * verifier processed and the kernel's limit:
 *
 *   verifier: nsflow_xdp 412345 of 1000000 (41.2%)
 *
 * The count comes from the verifier's own statistics line ("processed N insns (limit M)", log
 * level 4, every kernel since 5.2), else from bpf_prog_info.verified_insns (5.16). Exit status
 * 1 when the object does not load or a program takes more than MAX_SHARE of the limit: the
 * headroom left for features is gone on that kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nsflow.skel.h"

#define MAX_SHARE     0.80
#define DEFAULT_LIMIT 1000000 /* BPF_COMPLEXITY_LIMIT_INSNS, when the log names none */
#define MAX_PROGS     8
#define LOG_SIZE      (64 * 1024)

static char logs[MAX_PROGS][LOG_SIZE];

static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static struct bpf_program *first_prog(struct nsflow_bpf *skel)
{
	return bpf_object__next_program(skel->obj, NULL);
}

/* The last "processed N insns (limit M)" of a verifier log; 0 when there is none. */
static unsigned int parse_processed(const char *log, unsigned int *limit)
{
	unsigned int n = 0, lim;
	const char *p = log;

	while ((p = strstr(p, "processed "))) {
		if (sscanf(p, "processed %u insns (limit %u)", &n, &lim) == 2)
			*limit = lim;
		p++;
	}
	return n;
}

int main(void)
{
	struct nsflow_bpf *skel;
	struct bpf_program *prog;
	int i = 0, err, status = 0;

	libbpf_set_print(print_warnings);
	skel = nsflow_bpf__open();
	if (!skel) {
		fprintf(stderr, "verifier: open the datapath object: %s\n", strerror(errno));
		return 1;
	}
	for (prog = first_prog(skel); prog; prog = bpf_object__next_program(skel->obj, prog)) {
		if (i == MAX_PROGS)
			break;
		bpf_program__set_log_level(prog, 4); /* statistics only */
		bpf_program__set_log_buf(prog, logs[i++], LOG_SIZE);
	}
	err = nsflow_bpf__load(skel);
	if (err) {
		fprintf(stderr, "verifier: load the datapath: %s\n", strerror(-err));
		nsflow_bpf__destroy(skel);
		return 1;
	}
	i = 0;
	for (prog = first_prog(skel); prog; prog = bpf_object__next_program(skel->obj, prog)) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		unsigned int limit = DEFAULT_LIMIT, n = 0;

		if (i < MAX_PROGS)
			n = parse_processed(logs[i++], &limit);
		if (!n && !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			n = info.verified_insns;
		if (!n) {
			printf("verifier: %s ? of %u (the kernel gave no count)\n",
			       bpf_program__name(prog), limit);
			status = 1;
			continue;
		}
		printf("verifier: %s %u of %u (%.1f%%)\n", bpf_program__name(prog), n, limit,
		       100.0 * n / limit);
		if (n > MAX_SHARE * limit) {
			fprintf(stderr,
				"verifier: %s takes %u instructions, more than %.0f%% of the "
				"limit (%u)\n",
				bpf_program__name(prog), n, 100 * MAX_SHARE, limit);
			status = 1;
		}
	}
	nsflow_bpf__destroy(skel);
	return status;
}
