// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `make demo` as a new user runs it: three times in a row, each run shows the 60 UDP flows it
 * sent in the running agent's cache and leaves no namespace, pin dir or agent behind.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "collectors.h"

Test(demo, shows_its_flows_every_time, .timeout = 120)
{
	for (int run = 0; run < 3; run++) {
		char *out = NULL, *cache, *left = NULL;
		int flows = 0, ret;

		ret = coll_run(&out, "NSFLOW_BIN=%s timeout 60 tests/demo.sh 2>&1",
			       coll_nsflow_bin());
		cr_assert_eq(ret, 0, "run %d: make demo exited %d:\n%s", run, ret, out);
		cache = strstr(out, "== nsflow show cache");
		cr_assert_not_null(cache, "run %d: no cache shown:\n%s", run, out);
		for (char *l = strstr(cache, "192.0.2.1:500");
		     l && l < strstr(cache, "== stopping"); l = strstr(l + 1, "192.0.2.1:500"))
			flows++;
		cr_expect_eq(flows, 60, "run %d: show cache lists %d of the 60 UDP flows:\n%s", run,
			     flows, out);
		free(out);
		coll_run(&left,
			 "{ ip netns list | grep -E '^ns(demo|probe)'; ls /sys/fs/bpf | grep "
			 "nsflow-demo; pgrep -f 'bpf/nsflow-dem[o]'; } 2>/dev/null%s",
			 "");
		cr_expect_str_empty(left, "run %d left behind:\n%s", run, left);
		free(left);
	}
}
