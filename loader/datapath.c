// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "attach.h"
#include "datapath.h"
#include "log.h"
#include "nl.h"
#include "owner.h"

uint32_t datapath_owner_id(const char *pin_dir)
{
	char path[PATH_MAX + 32];
	uint32_t id;
	int fd;

	snprintf(path, sizeof(path), "%s/nsflow_events", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	id = attach_map_id(fd);
	close(fd);
	return id;
}

static uint32_t own_id(const struct datapath *d)
{
	int fd = d->skel ? bpf_map__fd(d->skel->maps.nsflow_events) : -1;

	return fd >= 0 ? attach_map_id(fd) : 0;
}

/*
 * What a killed agent left running on our interfaces, still counting: keep it, so that no packet
 * goes unmetered during the hand-over, and count on with its maps. With the pins there, its
 * maps are the pinned ones; without them (they were in a bpffs that died with the killed
 * agent's mount namespace, as under `ip netns exec`), its maps are found from the attachment
 * and pinned again. A program whose maps are another pin dir's, or cannot be reached, is
 * replaced: it must not count into maps nobody reads. Fills keep[] with the programs kept.
 */
static void adopt_running(struct nsflow_config *c, struct nsflow_bpf *skel,
			  struct attach_progs *keep)
{
	uint32_t owner = datapath_owner_id(c->pin_dir);
	char err[512];

	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct config_iface *f = &c->ifaces[i];
		struct attach_progs *run = &keep[i], drop = { { 0 } };

		if (f->gone || !attach_query((int)f->ifindex, run))
			continue;
		for (int h = 0; h < ATTACH_HOOKS; h++) {
			if (!run->id[h])
				continue;
			if (!owner && !attach_repin(run->id[h], skel->obj, err, sizeof(err))) {
				owner = datapath_owner_id(c->pin_dir);
				pr_info("%s: the pins in %s were gone; found the running program's "
					"maps from its attachment and pinned them again",
					f->name, c->pin_dir);
			} else if (!owner) {
				pr_warn("%s: %s; replacing it with a fresh program (what it "
					"counted "
					"since the last agent stopped is lost)",
					f->name, err);
			}
			if (owner && attach_prog_uses_map(run->id[h], owner))
				continue;
			if (owner)
				pr_warn("%s: the nsflow program on it counts into maps that are "
					"not "
					"those of %s; replacing it",
					f->name, c->pin_dir);
			drop.id[h] = run->id[h];
			run->id[h] = 0;
		}
		attach_detach_progs((int)f->ifindex, f->name, &drop);
	}
}

static int load(struct datapath *d, char *err, size_t errlen)
{
	int ret;

	if (d->loaded)
		return 0;
	ret = nsflow_bpf__load(d->skel);
	if (ret == -EPERM)
		snprintf(err, errlen, "load the datapath: %s", ATTACH_BPF_EPERM_HINT);
	else if (ret)
		snprintf(err, errlen,
			 "load the datapath: %s (pinned maps in %.200s from another setting? "
			 "`nsflow detach --all` removes them)",
			 strerror(-ret), d->cfg->pin_dir);
	d->loaded = !ret;
	return ret;
}

/* Attaches to slot i, keeping what keep names (a killed agent's programs, taken over). */
static int attach_slot(struct datapath *d, size_t i, const struct attach_progs *keep, char *err,
		       size_t errlen)
{
	const struct nsflow_config *c = d->cfg;
	struct config_iface *f = &c->ifaces[i];
	bool xdp = c->ingress_hook == CONFIG_INGRESS_XDP, tc_ingress = !xdp;
	struct attach_progs stale = { { 0 } };
	int ret;

	f->hook = "tc";
	if (xdp && keep->id[ATTACH_XDP]) {
		pr_info("%s: taking over the running nsflow_xdp", f->name);
		f->hook = "xdp";
	} else if (xdp) {
		ret = attach_xdp(d->skel->obj, (int)f->ifindex, f->name, c->xdp_mode, &d->loaded,
				 &f->hook, err, errlen);
		/* XDP taken by a program outside a libxdp dispatcher (or none possible here): in
		 * auto mode, meter ingress at TC rather than not at all */
		if (ret && c->xdp_mode != CONFIG_XDP_AUTO)
			return ret;
		if (ret) {
			pr_warn("%s; metering ingress at TC instead", err);
			tc_ingress = true;
			f->hook = "tc";
		}
	}
	ret = load(d, err, errlen);
	if (!ret && tc_ingress)
		ret = attach_tc(bpf_program__fd(d->skel->progs.nsflow_tc_ingress), (int)f->ifindex,
				f->name, false, err, errlen);
	if (!ret && c->egress)
		ret = attach_tc(bpf_program__fd(d->skel->progs.nsflow_tc_egress), (int)f->ifindex,
				f->name, true, err, errlen);
	if (ret)
		return ret;
	/* a hook the last agent used and this one does not (a changed setting) */
	if (tc_ingress)
		stale.id[ATTACH_XDP] = keep->id[ATTACH_XDP];
	if (!c->egress)
		stale.id[ATTACH_TC_EGRESS] = keep->id[ATTACH_TC_EGRESS];
	if (!tc_ingress)
		stale.id[ATTACH_TC_INGRESS] = keep->id[ATTACH_TC_INGRESS];
	attach_detach_progs((int)f->ifindex, f->name, &stale);
	return 0;
}

/* An interface the rules chose that another agent meters is left to it. */
static bool claim(struct datapath *d, size_t i)
{
	struct config_iface *f = &d->cfg->ifaces[i];
	char err[512];

	if (!owner_add_iface(d->owner, d->cfg, i, err, sizeof(err)))
		return true;
	pr_warn("%s: left alone: %s", f->name, err);
	f->gone = true;
	return false;
}

int datapath_attach(struct datapath *d, char *err, size_t errlen)
{
	struct nsflow_config *c = d->cfg;
	struct attach_progs *keep = calloc(c->n_ifaces ? c->n_ifaces : 1, sizeof(*keep));
	int ret = 0;

	d->attached = 0;
	if (!keep) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].by_rule)
			claim(d, i);
	adopt_running(c, d->skel, keep);
	for (size_t i = 0; i < c->n_ifaces && !ret; i++) {
		d->attached = i + 1;
		if (!c->ifaces[i].gone)
			ret = attach_slot(d, i, &keep[i], err, errlen);
	}
	if (!ret)
		ret = load(d, err, errlen); /* no interface matches yet */
	free(keep);
	return ret;
}

void datapath_detach(struct datapath *d)
{
	uint32_t id = own_id(d);

	for (size_t i = 0; i < d->attached && i < d->cfg->n_ifaces && id; i++)
		if (!d->cfg->ifaces[i].gone)
			attach_detach_owned((int)d->cfg->ifaces[i].ifindex, d->cfg->ifaces[i].name,
					    id);
}

int datapath_watch(struct datapath *d, char *err, size_t errlen)
{
	int ret = ifrule_compile(&d->rule, d->cfg, err, errlen);

	if (ret)
		return ret;
	d->nl_fd = nl_open(RTMGRP_LINK, 1);
	if (d->nl_fd < 0) {
		snprintf(err, errlen, "rtnetlink link notifications: %s", strerror(-d->nl_fd));
		return d->nl_fd;
	}
	/* what changed between the start's look at the links and the subscription */
	d->resync = true;
	return d->nl_fd;
}

/* Slot i is not metered any more; its flows age out as any others. */
static void drop_slot(struct datapath *d, size_t i, const char *why)
{
	struct config_iface *f = &d->cfg->ifaces[i];

	pr_info("%s (ifindex %u) %s: no longer metered; its flows age out as usual", f->name,
		f->ifindex, why);
	f->gone = true;
	f->hook = NULL;
	owner_drop_iface(d->owner, i);
}

/* An interface that appeared: into the slot of its name, or a new one the rules asked for. */
static void add_link(struct datapath *d, const char *name, uint32_t ifindex)
{
	struct nsflow_config *c = d->cfg;
	struct attach_progs none = { { 0 } };
	struct config_iface *f, *grown;
	char err[512];
	size_t i;

	for (i = 0; i < c->n_ifaces && strcmp(c->ifaces[i].name, name); i++)
		;
	if (i < c->n_ifaces && c->ifaces[i].ifindex == ifindex)
		return; /* the one left alone or refused before: not tried again */
	if (i == c->n_ifaces) {
		if (!ifrule_wanted(&d->rule, name))
			return;
		grown = realloc(c->ifaces, (c->n_ifaces + 1) * sizeof(*grown));
		if (!grown) {
			pr_warn("%s: appeared, but no memory to meter it", name);
			return;
		}
		c->ifaces = grown;
		c->ifaces[c->n_ifaces++] = (struct config_iface){ .by_rule = true, .gone = true };
		snprintf(c->ifaces[i].name, sizeof(c->ifaces[i].name), "%s", name);
	}
	f = &c->ifaces[i];
	f->ifindex = ifindex;
	if (!claim(d, i))
		return;
	f->gone = false;
	if (d->agent && agent_write_iface_config(d->agent, i))
		pr_warn("%s: its settings could not be written for the datapath", name);
	if (attach_slot(d, i, &none, err, sizeof(err))) {
		pr_warn("%s appeared but cannot be metered: %s", name, err);
		attach_detach_owned((int)ifindex, name, own_id(d));
		drop_slot(d, i, "failed");
		return;
	}
	if (i + 1 > d->attached)
		d->attached = i + 1;
	if (d->agent)
		agent_ifaces_changed(d->agent);
	pr_info("%s (ifindex %u) appeared: metering it (ingress at %s%s)", name, ifindex, f->hook,
		c->egress ? ", egress at tc" : "");
}

static int on_link_msg(void *arg, const struct nlmsghdr *h)
{
	struct datapath *d = arg;

	if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
		d->resync = true;
	return 0;
}

/* Compares the slots with the links there are now: a notification tells only that a link changed.
 */
static void resync(struct datapath *d)
{
	struct nsflow_config *c = d->cfg;
	struct if_nameindex *all = if_nameindex(), *it;

	if (!all) {
		pr_warn("list the interfaces: %s; trying again at the next change",
			strerror(errno));
		return;
	}
	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct config_iface *f = &c->ifaces[i];
		char now[IF_NAMESIZE];

		if (f->gone)
			continue;
		for (it = all; it->if_index && it->if_index != f->ifindex; it++)
			;
		if (!it->if_index) {
			drop_slot(d, i, "was deleted");
			continue;
		}
		if (!strcmp(it->if_name, f->name))
			continue;
		snprintf(now, sizeof(now), "%s", it->if_name);
		if (f->by_rule && ifrule_wanted(&d->rule, now)) {
			pr_info("%s (ifindex %u) is now %s: metered on", f->name, f->ifindex, now);
			snprintf(f->name, sizeof(f->name), "%s", now);
			if (d->agent)
				agent_ifaces_changed(d->agent);
			continue;
		}
		char why[IF_NAMESIZE + 32];

		snprintf(why, sizeof(why), "was renamed %s", now);
		attach_detach_owned((int)f->ifindex, now, own_id(d));
		drop_slot(d, i, why);
	}
	for (it = all; it->if_index; it++) {
		size_t i;

		for (i = 0; i < c->n_ifaces; i++)
			if (!c->ifaces[i].gone && c->ifaces[i].ifindex == it->if_index)
				break;
		if (i == c->n_ifaces)
			add_link(d, it->if_name, it->if_index);
	}
	if_freenameindex(all);
}

void datapath_follow(struct datapath *d)
{
	int ret;

	if (d->nl_fd < 0)
		return;
	ret = nl_drain(d->nl_fd, on_link_msg, d);
	if (ret == -ENOBUFS)
		d->resync = true; /* notifications were lost: look at every link */
	else if (ret)
		pr_warn("rtnetlink link notifications: %s", strerror(-ret));
	if (!d->resync)
		return;
	d->resync = false;
	resync(d);
}

void datapath_close(struct datapath *d)
{
	if (d->nl_fd >= 0)
		close(d->nl_fd);
	d->nl_fd = -1;
	ifrule_free(&d->rule);
}
