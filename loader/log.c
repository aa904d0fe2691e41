// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "log.h"

int nsflow_verbose;
/* stderr is the journal's stream (systemd): lines start with their syslog priority */
static bool to_journal;

/* sd-daemon(3): JOURNAL_STREAM holds device:inode of the stream when it is the journal's */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *const tag[] = { "warning", "info", "debug" };
	static const char *const prio[] = { "<4>", "<6>", "<7>" }; /* LOG_WARNING, INFO, DEBUG */
	int l = level < 0 ? 0 : level > 2 ? 2 : level;
	va_list ap;

	if (level > nsflow_verbose + 1)
		return;
	fprintf(stderr, "%snsflow: %s: ", to_journal ? prio[l] : "", tag[l]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int lib_print(int level, const char *fmt, va_list ap)
{
	if (level > nsflow_verbose)
		return 0;
	fputs(to_journal ? (level <= 1 ? "<4>nsflow: " : "<7>nsflow: ") : "nsflow: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static int bpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	/* libbpf warnings matter only with -v: probing failures are expected and handled */
	return lib_print(lvl == LIBBPF_WARN ? 1 : lvl == LIBBPF_INFO ? 1 : 2, fmt, ap);
}

static int xdp_print(enum libxdp_print_level lvl, const char *fmt, va_list ap)
{
	return lib_print(lvl == LIBXDP_WARN ? 1 : lvl == LIBXDP_INFO ? 1 : 2, fmt, ap);
}

void log_setup(int verbose)
{
	nsflow_verbose = verbose;
	to_journal = stderr_is_journal();
	libbpf_set_print(bpf_print);
	libxdp_set_print(xdp_print);
}
