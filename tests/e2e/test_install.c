// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What an operator installs and reads: `nsflow --version` names the tree built, nsflow(8)
 * renders without a warning and names every command and option, `make install` puts each file
 * where PREFIX/DESTDIR say (keeping an existing configuration), bash completes commands and
 * options; the installed systemd unit passes `systemd-analyze verify` and its exposure, as
 * `systemd-analyze security` rates it, is at most 3.0.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collectors.h"

static char *sh(int *status, const char *fmt, const char *arg)
{
	char *out = NULL;
	int ret = coll_run(&out, fmt, arg);

	if (status)
		*status = ret;
	return out;
}

Test(install, version_names_the_tree_built)
{
	char *v = sh(NULL, "%s --version", coll_nsflow_bin());
	char *g = sh(NULL, "%sgit describe --always --dirty --tags 2>/dev/null", "");
	char want[128];

	cr_assert(g && g[0], "git describe says nothing");
	snprintf(want, sizeof(want), "nsflow %s", g);
	cr_expect_str_eq(v, want, "nsflow --version: '%s', git describe: '%s'", v, g);
	free(v);
	free(g);
}

Test(install, man_page_renders_clean_and_names_every_option)
{
	static const char *const cmds[] = { "run", "replay", "detach", "show", NULL };
	char *warn, *page, *opts, *save = NULL;
	int st;

	warn = sh(&st, "man --warnings -l build/nsflow.8 2>&1 >/dev/null%s", "");
	cr_assert_eq(st, 0);
	cr_expect_str_empty(warn, "man --warnings: %s", warn);
	free(warn);
	page = sh(&st, "MANWIDTH=100 man -l build/nsflow.8 2>/dev/null | col -b%s", "");
	cr_assert_eq(st, 0);
	for (size_t i = 0; cmds[i]; i++) {
		char head[64], cmd[128];

		snprintf(head, sizeof(head), "nsflow %s", cmds[i]);
		cr_expect(strstr(page, head), "nsflow(8) has no section for %s", cmds[i]);
		snprintf(cmd, sizeof(cmd),
			 "%s %s --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u",
			 coll_nsflow_bin(), cmds[i]);
		opts = sh(&st, "%s", cmd);
		cr_assert(opts && opts[0], "%s --help names no option", cmds[i]);
		for (char *o = strtok_r(opts, "\n", &save); o; o = strtok_r(NULL, "\n", &save))
			cr_expect(strstr(page, o), "nsflow(8) does not mention %s %s", cmds[i], o);
		free(opts);
	}
	free(page);
}

Test(install, make_install_honours_prefix_destdir_and_keeps_settings)
{
	static const char *const files[] = {
		"usr/sbin/nsflow",
		"usr/share/man/man8/nsflow.8",
		"lib/systemd/system/nsflow.service",
		"etc/nsflow/nsflow.yaml",
		"usr/share/bash-completion/completions/nsflow",
		"usr/share/doc/nsflow/README.md",
		"usr/lib/sysusers.d/nsflow.conf",
	};
	char dir[128], path[256], *out, *unit;
	FILE *f;
	int st;

	cr_assert_eq(coll_tmpdir(dir, sizeof(dir), "install"), 0);
	out = sh(&st, "make -s --no-print-directory install DESTDIR=%s PREFIX=/usr 2>&1", dir);
	cr_assert_eq(st, 0, "make install: %s", out);
	free(out);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		cr_expect_eq(access(path, R_OK), 0, "make install left no %s", files[i]);
	}
	snprintf(path, sizeof(path), "%s/lib/systemd/system/nsflow.service", dir);
	unit = coll_slurp(path, NULL);
	cr_assert_not_null(unit);
	cr_expect(strstr(unit, "ExecStart=/usr/sbin/nsflow run --config /etc/nsflow/nsflow.yaml"),
		  "the unit runs another binary:\n%s", unit);
	free(unit);
	/* an operator's settings survive the next install */
	snprintf(path, sizeof(path), "%s/etc/nsflow/nsflow.yaml", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("# mine\n", f);
	fclose(f);
	out = sh(&st, "make -s --no-print-directory install DESTDIR=%s PREFIX=/usr 2>&1", dir);
	cr_assert_eq(st, 0, "make install again: %s", out);
	free(out);
	out = coll_slurp(path, NULL);
	cr_expect_str_eq(out, "# mine\n", "make install overwrote the settings");
	free(out);
	coll_rmtree(dir);
}

/* The overall exposure `systemd-analyze security` gives, or -1 */
static __attribute__((noinline)) double exposure_level(const char *out)
{
	static const char level[] = "Overall exposure level for nsflow.service: ";
	const char *at = strstr(out, level);
	double v = -1;

	if (at && sscanf(at + sizeof(level) - 1, "%lf", &v) != 1)
		v = -1;
	return v;
}

/*
 * Installed with DESTDIR=/ and every directory under a scratch one, so that the paths the unit
 * names (binary, man page) are real ones verify can check, and nothing lands in the system.
 */
Test(install, systemd_unit_verifies_and_exposure_is_at_most_3)
{
	char dir[128], cmd[1024], *out;
	double score;
	int st;

	cr_assert_eq(coll_tmpdir(dir, sizeof(dir), "unit"), 0);
	snprintf(cmd, sizeof(cmd),
		 "make -s --no-print-directory install DESTDIR=/ PREFIX=%1$s/usr "
		 "UNITDIR=%1$s/lib/systemd/system SYSCONFDIR=%1$s/etc "
		 "SYSUSERSDIR=%1$s/usr/lib/sysusers.d 2>&1",
		 dir);
	out = sh(&st, "%s", cmd);
	cr_assert_eq(st, 0, "make install: %s", out);
	free(out);
	snprintf(cmd, sizeof(cmd),
		 "MANPATH=%1$s/usr/share/man systemd-analyze verify "
		 "%1$s/lib/systemd/system/nsflow.service 2>&1",
		 dir);
	out = sh(&st, "%s", cmd);
	cr_expect_eq(st, 0, "systemd-analyze verify: %s", out);
	cr_expect_str_empty(out, "systemd-analyze verify: %s", out);
	free(out);
	snprintf(cmd, sizeof(cmd),
		 "systemd-analyze security --offline=yes %s/lib/systemd/system/nsflow.service "
		 "2>&1",
		 dir);
	out = sh(&st, "%s", cmd);
	cr_assert_eq(st, 0, "systemd-analyze security: %s", out);
	score = exposure_level(out);
	cr_assert_geq(score, 0, "no overall exposure level in:\n%s", out);
	cr_expect_leq(score, 3.0, "exposure %.1f, above 3.0:\n%s", score, out);
	free(out);
	coll_rmtree(dir);
}

/* What bash offers for the words of @line (the last one being completed) */
static char *complete(const char *line)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "PATH=\"$PWD/build:$PATH\" bash -c 'source "
		 "/usr/share/bash-completion/bash_completion; source "
		 "deploy/nsflow.bash-completion; COMP_LINE=\"%s\"; COMP_POINT=${#COMP_LINE}; "
		 "read -ra COMP_WORDS <<<\"$COMP_LINE\"; COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
		 "_nsflow; echo \"${COMPREPLY[*]}\"'",
		 line);
	return sh(NULL, "%s", cmd);
}

Test(install, bash_completes_commands_and_options)
{
	char *got;

	got = complete("nsflow rep");
	cr_expect_str_eq(got, "replay\n", "'nsflow rep': %s", got);
	free(got);
	got = complete("nsflow show coll");
	cr_expect_str_eq(got, "collectors\n", "'nsflow show coll': %s", got);
	free(got);
	got = complete("nsflow show cache --so");
	cr_expect_str_eq(got, "--sort\n", "'nsflow show cache --so': %s", got);
	free(got);
	got = complete("nsflow run --inactive-t");
	cr_expect_str_eq(got, "--inactive-timeout\n", "'nsflow run --inactive-t': %s", got);
	free(got);
}
