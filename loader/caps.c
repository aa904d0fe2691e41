// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The capabilities the agent holds (caps.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include "caps.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const struct {
	int cap;
	const char *name;
} cap_names[] = {
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },	  { CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
	{ CAP_PERFMON, "CAP_PERFMON" },		  { CAP_BPF, "CAP_BPF" },
	{ CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE" },
};

static const char *cap_name(int cap)
{
	for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (cap_names[i].cap == cap)
			return cap_names[i].name;
	return "a capability";
}

bool caps_have(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	if (syscall(SYS_capget, &h, d))
		return false;
	return d[cap / 32].effective & (1U << (cap % 32));
}

int caps_check_run(char *err, size_t errlen)
{
	static const int need[] = { CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_SYS_ADMIN };
	char missing[128] = "";
	size_t n = 0;

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!caps_have(need[i]))
			n += (size_t)snprintf(missing + n, sizeof(missing) - n, "%s%s",
					      n ? ", " : "", cap_name(need[i]));
	if (!n)
		return 0;
	snprintf(err, errlen,
		 "uid %u lacks %s: nsflow run needs CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON and "
		 "CAP_SYS_ADMIN (the last because the kernel opens the programs found on an "
		 "interface, to detach or take them over, only for CAP_SYS_ADMIN); root has them, "
		 "the systemd unit grants them to its user",
		 (unsigned)geteuid(), missing);
	return -EPERM;
}

const char *caps_hint(int cap)
{
	static char hint[96];

	if (caps_have(cap))
		return "";
	snprintf(hint, sizeof(hint), " (uid %u lacks %s)", (unsigned)geteuid(), cap_name(cap));
	return hint;
}
