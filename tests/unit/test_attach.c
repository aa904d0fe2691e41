// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What `nsflow run` says on a kernel it cannot run on, before it attaches anything: the
 * message is all an operator gets, so it must name the file and the kernel option.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"

static char err[512];
static char btf[64];

static void make_btf_file(void)
{
	int fd;

	strcpy(btf, "/tmp/nsflow-test-attach-XXXXXX");
	fd = mkstemp(btf);
	cr_assert_geq(fd, 0);
	close(fd);
	err[0] = 0;
}

static void remove_btf_file(void)
{
	unlink(btf);
	unsetenv("NSFLOW_TEST_KERNEL_BTF");
}

TestSuite(attach, .init = make_btf_file, .fini = remove_btf_file);

Test(attach, kernel_without_btf_is_refused_with_the_option_it_lacks)
{
	char missing[80];

	snprintf(missing, sizeof(missing), "%s.gone", btf);
	setenv("NSFLOW_TEST_KERNEL_BTF", missing, 1);
	cr_assert_eq(attach_check_kernel_btf(err, sizeof(err)), -ENOENT);
	cr_assert_eq(strncmp(err, "this kernel has no BTF (", 24), 0, "%s", err);
	cr_assert(strstr(err, missing), "the message should name %s: %s", missing, err);
	cr_assert(strstr(err, " missing): nsflow needs CONFIG_DEBUG_INFO_BTF=y"),
		  "the message should name the kernel option: %s", err);
}

Test(attach, kernel_with_btf_passes)
{
	setenv("NSFLOW_TEST_KERNEL_BTF", btf, 1);
	cr_assert_eq(attach_check_kernel_btf(err, sizeof(err)), 0, "%s", err);
	cr_assert_str_empty(err);
}

Test(attach, the_kernel_path_is_the_default)
{
	unsetenv("NSFLOW_TEST_KERNEL_BTF");
	if (access(ATTACH_KERNEL_BTF, R_OK))
		cr_assert_neq(attach_check_kernel_btf(err, sizeof(err)), 0);
	else
		cr_assert_eq(attach_check_kernel_btf(err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(ATTACH_KERNEL_BTF, "/sys/kernel/btf/vmlinux");
}
