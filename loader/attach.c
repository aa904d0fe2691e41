// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>
#include "attach.h"
#include "log.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

int attach_prepare_pin_dir(const char *dir, char *err, size_t errlen)
{
	struct statfs st;
	char path[PATH_MAX];

	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC) {
		mkdir("/sys/fs/bpf", 0700);
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			snprintf(err, errlen, "mount bpffs on /sys/fs/bpf: %s", strerror(errno));
			return -errno;
		}
	}
	/* mkdir -p */
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(path, 0700);
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "create pin directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Our program in the interface's libxdp dispatcher, or NULL. */
static struct xdp_program *find_ours(struct xdp_multiprog *mp)
{
	struct xdp_program *p = NULL;

	if (!mp || libxdp_get_error(mp))
		return NULL;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		return p && !strcmp(xdp_program__name(p), "nsflow_xdp") ? p : NULL;
	}
	while ((p = xdp_multiprog__next_prog(p, mp)))
		if (!strcmp(xdp_program__name(p), "nsflow_xdp"))
			return p;
	return NULL;
}

bool attach_xdp_present(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	bool found = find_ours(mp) != NULL;

	if (mp && !libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	return found;
}

static int xdp_try(struct xdp_program *prog, int ifindex, enum xdp_attach_mode m)
{
	return xdp_program__attach(prog, ifindex, m, 0);
}

int attach_xdp(struct bpf_object *obj, int ifindex, const char *ifname, enum config_xdp_mode mode,
	       bool *loaded, const char **hook, char *err, size_t errlen)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = obj, .prog_name = "nsflow_xdp");
	struct xdp_program *prog = xdp_program__create(&opts);
	int ret;

	if (libxdp_get_error(prog)) {
		ret = (int)libxdp_get_error(prog);
		snprintf(err, errlen, "prepare XDP program for %s: %s", ifname, strerror(-ret));
		return ret;
	}
	if (mode == CONFIG_XDP_GENERIC) {
		ret = xdp_try(prog, ifindex, XDP_MODE_SKB);
		*hook = "xdp-generic";
	} else {
		ret = xdp_try(prog, ifindex, XDP_MODE_NATIVE);
		*hook = "xdp-native";
		if (ret && mode == CONFIG_XDP_AUTO) {
			pr_info("%s: native XDP failed (%s), using generic XDP", ifname,
				strerror(-ret));
			ret = xdp_try(prog, ifindex, XDP_MODE_SKB);
			*hook = "xdp-generic";
		}
	}
	if (ret) {
		snprintf(err, errlen, "attach XDP to %s: %s%s", ifname, strerror(-ret),
			 mode == CONFIG_XDP_NATIVE ? " (try --xdp-mode generic)" : "");
		xdp_program__close(prog);
		return ret;
	}
	*loaded = true;
	/* the attachment lives in the kernel (pinned by libxdp); the handle can go */
	xdp_program__close(prog);
	return 0;
}

int attach_tc(int prog_fd, int ifindex, const char *ifname, bool egress, char *err, size_t errlen)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NSFLOW_TC_HANDLE,
			    .priority = NSFLOW_TC_PRIO, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);
	int ret;

	/* clsact may exist already (others' filters): keep it */
	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST) {
		snprintf(err, errlen, "create clsact on %s: %s", ifname, strerror(-ret));
		return ret;
	}
	ret = bpf_tc_attach(&hook, &opts);
	if (ret) {
		snprintf(err, errlen, "attach TC %s to %s: %s", egress ? "egress" : "ingress",
			 ifname, strerror(-ret));
		return ret;
	}
	return 0;
}

static int tc_detach(int ifindex, bool egress)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NSFLOW_TC_HANDLE,
			    .priority = NSFLOW_TC_PRIO);

	if (bpf_tc_query(&hook, &opts))
		return 0;
	opts.prog_fd = 0;
	opts.prog_id = 0;
	opts.flags = 0;
	return bpf_tc_detach(&hook, &opts) ? 0 : 1;
}

int attach_detach_iface(int ifindex, const char *ifname, bool verbose)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *ours = find_ours(mp);
	int n = 0;

	if (ours) {
		enum xdp_attach_mode m = xdp_multiprog__attach_mode(mp);
		int ret = xdp_program__detach(ours, ifindex, m, 0);

		if (ret)
			pr_warn("%s: detach XDP: %s", ifname, strerror(-ret));
		else
			n++;
	}
	if (mp && !libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	n += tc_detach(ifindex, false);
	n += tc_detach(ifindex, true);
	if (verbose)
		pr_info("%s: removed %d nsflow attachment%s", ifname, n, n == 1 ? "" : "s");
	return n;
}
