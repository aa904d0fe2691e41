// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * File sinks that cannot lie: a symbolic link is refused, files are created 0640 and appended
 * to (each run's IPFIX starts with templates, so the whole file decodes), and a write that
 * does not reach the file counts its records as dropped with the sink in error.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exp_decode.h"
#include "exp_msg.h"
#include "records.h"
#include "sink.h"

#define T0 1700000002000ULL

static struct ns_export_context ctx = { .boot_ms = T0 - 60000 };
static char err[512], dir[] = "/tmp/nsflow-fsink-XXXXXX";

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(file_sink, .init = make_dir, .fini = remove_dir);

static void write_records(const char *url, int n, uint64_t now)
{
	struct ns_record r;
	struct ns_sink *s;

	cr_assert_eq(ns_sink_open(&s, url, NULL, &ctx, err, sizeof(err)), 0, "%s", err);
	exp_rec_v4_tcp(&r);
	for (int i = 0; i < n; i++)
		cr_assert_eq(ns_sink_write(s, &r, 1, now), 0);
	ns_sink_close(s);
}

Test(file_sink, refuses_a_symlink_and_leaves_its_target)
{
	char target[128], link[128], url[160];
	struct ns_sink *s;
	struct stat st;
	int fd;

	snprintf(target, sizeof(target), "%s/precious", dir);
	snprintf(link, sizeof(link), "%s/out.json", dir);
	fd = open(target, O_WRONLY | O_CREAT, 0600);
	cr_assert_eq(write(fd, "keep me\n", 8), 8);
	close(fd);
	cr_assert_eq(symlink(target, link), 0);
	snprintf(url, sizeof(url), "json:%s", link);
	cr_assert_eq(ns_sink_open(&s, url, NULL, &ctx, err, sizeof(err)), -ELOOP);
	cr_assert(strstr(err, "it is a symbolic link"), "%s", err);
	cr_assert(strstr(err, link), "%s", err);
	cr_assert_eq(stat(target, &st), 0);
	cr_assert_eq(st.st_size, 8, "the link's target is untouched");
}

Test(file_sink, created_0640_and_appended_across_runs)
{
	char path[128], url[160], line[4096];
	struct stat st;
	mode_t old = umask(022);
	int lines = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/flows.json", dir);
	snprintf(url, sizeof(url), "json:%s", path);
	write_records(url, 3, T0);
	write_records(url, 2, T0 + 1000); /* a restart */
	umask(old);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640, "mode %o", st.st_mode & 0777);
	f = fopen(path, "r");
	while (fgets(line, sizeof(line), f))
		lines++;
	fclose(f);
	cr_assert_eq(lines, 5, "the second run appended");
}

static uint64_t flows;

static void count_flow(void *arg, const struct ns_dec_record *r)
{
	(void)arg;
	flows += r->tmpl->id < 265;
}

Test(file_sink, an_appended_ipfix_file_decodes_whole)
{
	char path[128], url[160];
	struct ns_decoder d;
	uint8_t buf[65536];
	size_t len, off;
	FILE *f;

	snprintf(path, sizeof(path), "%s/flows.ipfix", dir);
	snprintf(url, sizeof(url), "file:%s", path);
	write_records(url, 10, T0);
	write_records(url, 7, T0 + 1000);
	f = fopen(path, "rb");
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ns_decoder_init(&d, NS_PROTO_IPFIX);
	d.on_record = count_flow;
	for (off = 0; off + 4 <= len; off += ns_get16(buf + off + 2))
		cr_assert_eq(ns_decode(&d, buf + off, ns_get16(buf + off + 2), err, sizeof(err)), 0,
			     "%s", err);
	cr_assert_eq(off, len, "whole messages only");
	cr_assert_eq(flows, 17);
	cr_assert_eq(d.templates, 2, "each run starts with its templates");
}

/* /dev/full answers every write with ENOSPC, as a full disk does */
Test(file_sink, a_full_disk_drops_and_says_so)
{
	struct ns_sink_stats st;
	struct ns_record r[4];
	struct ns_sink *s;

	for (int i = 0; i < 4; i++)
		exp_rec_v4_tcp(&r[i]);
	cr_assert_eq(ns_sink_open(&s, "json:/dev/full", NULL, &ctx, err, sizeof(err)), 0, "%s",
		     err);
	ns_sink_write(s, r, 4, T0);
	ns_sink_flush(s, T0);
	ns_sink_get_stats(s, &st);
	cr_assert_eq(st.records_sent, 0, "nothing reached the disk");
	cr_assert_eq(st.records_dropped, 4);
	cr_assert_eq(st.state, NS_SINK_ERROR);
	cr_assert_eq(st.last_errno, ENOSPC);
	cr_assert_str_eq(ns_sink_state_name(st.state), "error");
	ns_sink_close(s);
}
