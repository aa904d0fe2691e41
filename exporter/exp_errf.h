/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Error messages into caller-provided buffers, as every open/parse function reports them. */
#ifndef NSFLOW_EXP_ERRF_H
#define NSFLOW_EXP_ERRF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Format a message into @err (if any) and return @ret, so that callers can `return ns_errf()` */
static inline __attribute__((format(printf, 4, 5))) int ns_errf(char *err, size_t errlen, int ret,
								const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

#endif /* NSFLOW_EXP_ERRF_H */
