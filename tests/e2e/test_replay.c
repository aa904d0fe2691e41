// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `nsflow replay` as an operator pipes into it: `replay -` reads the capture from stdin and
 * exports what replaying the file exports; on a terminal, a large capture gets a progress
 * line on stderr that ends at 100%, and none when stderr is not a terminal.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "collectors.h"

static char dir[128], capture[256];

static void setup(void)
{
	cr_assert_eq(coll_tmpdir(dir, sizeof(dir), "replay"), 0);
	snprintf(capture, sizeof(capture), "%s/steady.pcap", dir);
	/* more frames than a progress step (16384) */
	cr_assert_eq(coll_write_steady(capture, 40000, 97, 100000), 0);
}

static void teardown(void)
{
	coll_rmtree(dir);
}

Test(replay, stdin_gives_what_the_file_gives, .init = setup, .fini = teardown, .timeout = 60)
{
	struct coll_flows from_file = { 0 }, from_stdin = { 0 };
	char json[2][300], why[512], *out = NULL;
	uint64_t p, b;
	int ret;

	for (int i = 0; i < 2; i++) {
		snprintf(json[i], sizeof(json[i]), "%s/%s.json", dir, i ? "stdin" : "file");
		ret = coll_run(&out,
			       i ? "%s replay - -c json:%s <%s 2>&1"
				 : "%s replay %s -c json:%s 2>&1",
			       coll_nsflow_bin(), i ? json[i] : capture, i ? capture : json[i]);
		cr_assert_eq(ret, 0, "replay (%s): %s", i ? "stdin" : "file", out);
		if (i)
			cr_expect(strstr(out, "stdin: 40000 packets"), "%s", out);
		free(out);
	}
	cr_assert_eq(coll_json_sink_flows(json[0], &from_file), 0);
	cr_assert_eq(coll_json_sink_flows(json[1], &from_stdin), 0);
	coll_flows_totals(&from_stdin, &p, &b);
	cr_expect_eq(p, 40000, "replay - exported %llu packets of 40000", (unsigned long long)p);
	cr_expect_eq(coll_flows_diff(&from_file, &from_stdin, 0, "stdin", why, sizeof(why)), 0,
		     "%s", why);
	coll_flows_free(&from_file);
	coll_flows_free(&from_stdin);
}

Test(replay, progress_on_a_terminal_only, .init = setup, .fini = teardown, .timeout = 60)
{
	char *out = NULL;
	int ret;

	/* script(1) gives the replay a terminal */
	ret = coll_run(&out, "script -qec '%s replay %s -c json:/dev/null' /dev/null 2>&1",
		       coll_nsflow_bin(), capture);
	cr_assert_eq(ret, 0, "%s", out);
	cr_expect(strstr(out, "\r  16384 packets, "), "no progress line:\n%s", out);
	cr_expect(strstr(out, "40000 packets, 100% of the capture"), "no last line:\n%s", out);
	free(out);
	ret = coll_run(&out, "%s replay %s -c json:/dev/null 2>&1", coll_nsflow_bin(), capture);
	cr_assert_eq(ret, 0, "%s", out);
	cr_expect_null(strchr(out, '\r'), "a progress line without a terminal:\n%s", out);
	free(out);
}

/* Under systemd (JOURNAL_STREAM names stderr) each line starts with its syslog priority, so
 * the journal files it as info or warning; anywhere else the lines are plain. */
Test(replay, log_lines_carry_priorities_for_the_journal, .init = setup, .fini = teardown,
     .timeout = 60)
{
	char log[300], *text;
	int ret;

	snprintf(log, sizeof(log), "%s/stderr.log", dir);
	for (int journal = 0; journal < 3; journal++) {
		/* 0: no journal; 1: stderr is the stream named; 2: another stream is */
		ret = coll_run(
			NULL,
			journal == 1   ? ": >%2$s; JOURNAL_STREAM=$(stat -c %%d:%%i %2$s) %1$s "
					 "replay %3$s -c json:/dev/null 2>>%2$s"
			: journal == 2 ? "JOURNAL_STREAM=$(stat -c %%d:%%i /) %1$s replay %3$s "
					 "-c json:/dev/null 2>%2$s"
				       : "%1$s replay %3$s -c json:/dev/null 2>%2$s",
			coll_nsflow_bin(), log, capture);
		cr_assert_eq(ret, 0);
		text = coll_slurp(log, NULL);
		cr_assert_not_null(text);
		if (journal == 1)
			cr_expect(!strncmp(text, "<6>nsflow: info: ", 17), "for the journal: %s",
				  text);
		else
			cr_expect(!strncmp(text, "nsflow: info: ", 14), "plain (%d): %s", journal,
				  text);
		free(text);
	}
}
