// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus text format pieces: label values escaped so that Prometheus's own parser
 * (promtool) reads them back, the page and method of a request line, and when /healthz calls
 * the agent's loop alive.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "prom.h"

/* What f wrote, NUL-terminated, to free */
#define WRITTEN(call)                                    \
	({                                               \
		char *_buf = NULL;                       \
		size_t _len = 0;                         \
		FILE *_f = open_memstream(&_buf, &_len); \
		cr_assert_not_null(_f);                  \
		call;                                    \
		fclose(_f);                              \
		_buf;                                    \
	})

Test(prom, label_values_escape_backslash_quote_and_newline)
{
	char *s = WRITTEN(prom_label_value(_f, "a\\b\"c\nd"));

	cr_expect_str_eq(s, "a\\\\b\\\"c\\nd");
	free(s);
	s = WRITTEN(prom_labelled(_f, "x_total", "collector", "json:/tmp/\"q\""));
	cr_expect_str_eq(s, "x_total{collector=\"json:/tmp/\\\"q\\\"\"");
	free(s);
}

/* promtool parses a family whose label values hold every character that needs escaping */
Test(prom, promtool_reads_escaped_labels_back)
{
	char path[] = "/tmp/nsflow-prom-XXXXXX", cmd[128], out[4096];
	int fd = mkstemp(path);
	FILE *f, *p;
	size_t n;
	int ret;

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	prom_family(f, "nsflow_collector_last_error_info", "gauge", "The latest failure");
	prom_labelled(f, "nsflow_collector_last_error_info", "collector",
		      "text:/tmp/a \"b\"\\c\nd");
	fputs(",error=\"", f);
	prom_label_value(f, "No space \"left\" on\\device\n");
	fputs("\"} 1\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	ret = pclose(p);
	unlink(path);
	cr_expect_eq(ret, 0, "promtool exited %d: %s", ret, out);
	cr_expect_eq(n, 0, "promtool complains: %s", out);
}

Test(prom, route_by_method_and_path)
{
	static const struct {
		const char *req;
		enum prom_page page;
		bool head;
	} cases[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", PROM_PAGE_METRICS, false },
		{ "GET /metrics?name[]=up HTTP/1.1\r\n\r\n", PROM_PAGE_METRICS, false },
		{ "HEAD /metrics HTTP/1.0\r\n\r\n", PROM_PAGE_METRICS, true },
		{ "GET /healthz HTTP/1.0\r\n\r\n", PROM_PAGE_HEALTHZ, false },
		{ "GET /readyz HTTP/1.0\r\n\r\n", PROM_PAGE_READYZ, false },
		{ "GET / HTTP/1.0\r\n\r\n", PROM_PAGE_NOT_FOUND, false },
		{ "GET /metricsx HTTP/1.0\r\n\r\n", PROM_PAGE_NOT_FOUND, false },
		{ "GET /foo HTTP/1.0\r\n\r\n", PROM_PAGE_NOT_FOUND, false },
		{ "POST /metrics HTTP/1.0\r\n\r\n", PROM_PAGE_BAD_METHOD, false },
		{ "DELETE /foo HTTP/1.0\r\n\r\n", PROM_PAGE_BAD_METHOD, false },
		{ "GETX /metrics HTTP/1.0\r\n\r\n", PROM_PAGE_BAD_METHOD, false },
		{ "", PROM_PAGE_BAD_REQUEST, false },
		{ "GET\r\n\r\n", PROM_PAGE_BAD_REQUEST, false },
		{ "GET metrics HTTP/1.0\r\n\r\n", PROM_PAGE_BAD_REQUEST, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool head = !cases[i].head;

		cr_expect_eq(prom_route(cases[i].req, &head), cases[i].page, "%s", cases[i].req);
		cr_expect_eq(head, cases[i].head, "%s", cases[i].req);
	}
}

#define MS 1000000ULL

Test(prom, alive_within_a_few_poll_intervals)
{
	uint64_t t = 1000000 * MS;

	/* 1 s polls: three intervals, but never less than METRICS_ALIVE_MIN_MS */
	cr_expect(metrics_alive(t + METRICS_ALIVE_MIN_MS * MS, t, 1000));
	cr_expect_not(metrics_alive(t + METRICS_ALIVE_MIN_MS * MS + 1, t, 1000));
	/* 10 s polls: 30 s */
	cr_expect(metrics_alive(t + 30000 * MS, t, 10000));
	cr_expect_not(metrics_alive(t + 30001 * MS, t, 10000));
	/* a poll that ended after the question was asked */
	cr_expect(metrics_alive(t, t + MS, 1000));
}
