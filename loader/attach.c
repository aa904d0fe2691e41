// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>
#include "attach.h"
#include "caps.h"
#include "log.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

int attach_check_kernel_btf(char *err, size_t errlen)
{
	const char *path = getenv("NSFLOW_TEST_KERNEL_BTF");
	int ret;

	if (!path || !path[0])
		path = ATTACH_KERNEL_BTF;
	if (!access(path, R_OK))
		return 0;
	ret = -errno;
	if (ret == -ENOENT)
		snprintf(
			err, errlen,
			"this kernel has no BTF (%s missing): nsflow needs CONFIG_DEBUG_INFO_BTF=y",
			path);
	else
		snprintf(err, errlen, "read the kernel's BTF %s: %s", path, strerror(-ret));
	return ret;
}

int attach_prepare_pin_dir(const char *dir, char *err, size_t errlen)
{
	struct statfs st;
	char path[PATH_MAX];

	/* a pin dir made beforehand on a bpffs (as the systemd unit does) is all we need */
	if (!statfs(dir, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC) {
		mkdir("/sys/fs/bpf", 0700);
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			snprintf(err, errlen, "mount bpffs on /sys/fs/bpf: %s%s", strerror(errno),
				 caps_hint(CAP_SYS_ADMIN));
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
		snprintf(err, errlen, "create pin directory %s: %s%s", dir, strerror(errno),
			 errno == EACCES ? " (make it beforehand, owned by the agent's user, on a "
					   "bpffs it can reach; see README.md, systemd)"
					 : "");
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
		snprintf(err, errlen, "attach XDP to %s: %s%s", ifname,
			 ret == -EPERM ? ATTACH_BPF_EPERM_HINT : strerror(-ret),
			 mode == CONFIG_XDP_NATIVE && ret != -EPERM ? " (try --xdp-mode generic)"
								    : "");
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

/* The id of our filter on clsact ingress or egress, 0 when there is none. */
static uint32_t tc_query(int ifindex, bool egress)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NSFLOW_TC_HANDLE,
			    .priority = NSFLOW_TC_PRIO);

	if (bpf_tc_query(&hook, &opts))
		return 0;
	return opts.prog_id;
}

int attach_query(int ifindex, struct attach_progs *p)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *ours = find_ours(mp);

	memset(p, 0, sizeof(*p));
	if (ours)
		p->id[ATTACH_XDP] = xdp_program__id(ours);
	if (mp && !libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	p->id[ATTACH_TC_INGRESS] = tc_query(ifindex, false);
	p->id[ATTACH_TC_EGRESS] = tc_query(ifindex, true);
	return p->id[0] || p->id[1] || p->id[2];
}

/* The ids of the maps program id uses; their number, or -errno. */
static int prog_map_ids(uint32_t id, uint32_t *ids, uint32_t max, char *name, size_t namelen)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), ret;

	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = max;
	info.map_ids = (uint64_t)(unsigned long)ids;
	ret = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (ret)
		return -errno;
	if (name)
		snprintf(name, namelen, "%s", info.name);
	return (int)(info.nr_map_ids < max ? info.nr_map_ids : max);
}

uint32_t attach_map_id(int map_fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(map_fd, &info, &len) ? 0 : info.id;
}

bool attach_prog_uses_map(uint32_t prog_id, uint32_t map_id)
{
	uint32_t ids[64];
	int n = prog_map_ids(prog_id, ids, 64, NULL, 0);

	for (int i = 0; i < n; i++)
		if (ids[i] == map_id)
			return true;
	return false;
}

int attach_repin(uint32_t prog_id, struct bpf_object *obj, char *err, size_t errlen)
{
	struct {
		int fd;
		const char *path;
	} found[32];
	struct bpf_map *m;
	uint32_t ids[64];
	char prog[BPF_OBJ_NAME_LEN];
	int n = prog_map_ids(prog_id, ids, 64, prog, sizeof(prog)), nf = 0, ret = 0;

	if (n < 0) {
		snprintf(err, errlen, "read program %u: %s", prog_id, strerror(-n));
		return n;
	}
	/* every map the agent pins must be one the running program holds, by name */
	bpf_object__for_each_map(m, obj)
	{
		const char *path = bpf_map__pin_path(m);
		int fd = -1;

		if (bpf_map__is_internal(m) || !path)
			continue;
		for (int i = 0; i < n && fd < 0; i++) {
			struct bpf_map_info info;
			uint32_t len = sizeof(info);
			int mfd = bpf_map_get_fd_by_id(ids[i]);

			memset(&info, 0, sizeof(info));
			if (mfd >= 0 && !bpf_obj_get_info_by_fd(mfd, &info, &len) &&
			    !strncmp(info.name, bpf_map__name(m), BPF_OBJ_NAME_LEN - 1))
				fd = mfd;
			else if (mfd >= 0)
				close(mfd);
		}
		if (fd < 0 || nf == (int)(sizeof(found) / sizeof(found[0]))) {
			if (fd >= 0)
				close(fd);
			snprintf(err, errlen,
				 "the running %s (id %u) has no map %s (another build?)", prog,
				 prog_id, bpf_map__name(m));
			ret = -ENOENT;
			goto out;
		}
		found[nf].fd = fd;
		found[nf++].path = path;
	}
	for (int i = 0; i < nf; i++)
		if (bpf_obj_pin(found[i].fd, found[i].path) && errno != EEXIST) {
			ret = -errno;
			snprintf(err, errlen, "pin %s: %s", found[i].path, strerror(errno));
			goto out;
		}
out:
	for (int i = 0; i < nf; i++)
		close(found[i].fd);
	return ret;
}

static int tc_detach(int ifindex, bool egress, uint32_t only_id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NSFLOW_TC_HANDLE,
			    .priority = NSFLOW_TC_PRIO);

	if (!only_id || bpf_tc_query(&hook, &opts) || opts.prog_id != only_id)
		return 0;
	opts.prog_fd = 0;
	opts.prog_id = 0;
	opts.flags = 0;
	return bpf_tc_detach(&hook, &opts) ? 0 : 1;
}

int attach_detach_progs(int ifindex, const char *ifname, const struct attach_progs *which)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *ours = find_ours(mp);
	int n = 0;

	/* only the very programs asked for: another agent's stay */
	if (ours && which->id[ATTACH_XDP] && xdp_program__id(ours) == which->id[ATTACH_XDP]) {
		enum xdp_attach_mode m = xdp_multiprog__attach_mode(mp);
		int ret = xdp_program__detach(ours, ifindex, m, 0);

		if (ret)
			pr_warn("%s: detach XDP: %s", ifname, strerror(-ret));
		else
			n++;
	}
	if (mp && !libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	n += tc_detach(ifindex, false, which->id[ATTACH_TC_INGRESS]);
	n += tc_detach(ifindex, true, which->id[ATTACH_TC_EGRESS]);
	return n;
}

int attach_detach_owned(int ifindex, const char *ifname, uint32_t owner_map_id)
{
	struct attach_progs p;

	if (!attach_query(ifindex, &p))
		return 0;
	for (int h = 0; h < ATTACH_HOOKS; h++)
		if (p.id[h] && owner_map_id && !attach_prog_uses_map(p.id[h], owner_map_id))
			p.id[h] = 0;
	return attach_detach_progs(ifindex, ifname, &p);
}
