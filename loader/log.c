// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "log.h"

int nsflow_verbose;

void log_msg(int level, const char *fmt, ...)
{
	static const char *const tag[] = { "warning", "info", "debug" };
	va_list ap;

	if (level > nsflow_verbose + 1)
		return;
	fprintf(stderr, "nsflow: %s: ", tag[level < 0 ? 0 : level > 2 ? 2 : level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int lib_print(int level, const char *fmt, va_list ap)
{
	if (level > nsflow_verbose)
		return 0;
	fputs("nsflow: ", stderr);
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
	libbpf_set_print(bpf_print);
	libxdp_set_print(xdp_print);
}
