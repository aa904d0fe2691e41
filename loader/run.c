// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `nsflow run` and `nsflow detach`: attach, meter, drain, export; and take it all off again. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <net/if.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "attach.h"
#include "control.h"
#include "log.h"
#include "metrics.h"
#include "nsflow_cli.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void set_pin_paths(struct nsflow_bpf *skel, const char *dir)
{
	struct bpf_map *m;
	char path[PATH_MAX + 64];

	bpf_object__for_each_map(m, skel->obj)
	{
		/* .rodata/.bss belong to one load; only the shared maps outlive the agent */
		if (bpf_map__is_internal(m))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m));
		bpf_map__set_pin_path(m, path);
	}
}

/* Removes the pinned maps and the directory, when nothing of ours is attached any more. */
static void unpin_all(const char *dir)
{
	struct dirent *d;
	char path[PATH_MAX + 256];
	DIR *dh = opendir(dir);

	if (!dh)
		return;
	while ((d = readdir(dh)))
		if (!strncmp(d->d_name, "nsflow_", 7)) {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			unlink(path);
		}
	closedir(dh);
	rmdir(dir);
}

static void detach_config_ifaces(const struct nsflow_config *c, size_t n)
{
	for (size_t i = 0; i < n && i < c->n_ifaces; i++)
		attach_detach_iface((int)c->ifaces[i].ifindex, c->ifaces[i].name, false);
}

/* Loads (or, after a crash, takes over) the datapath and attaches it everywhere asked. */
static int load_and_attach(struct nsflow_config *c, struct nsflow_bpf *skel, size_t *attached,
			   char *err, size_t errlen)
{
	bool loaded = false, xdp = c->ingress_hook == CONFIG_INGRESS_XDP;
	int ret;

	*attached = 0;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct config_iface *f = &c->ifaces[i];
		bool tc_ingress = !xdp;

		/* a killed agent's program still counts into the pinned maps: keep it, so no
		 * packet goes unmetered during the hand-over */
		f->hook = "tc";
		if (xdp && attach_xdp_present((int)f->ifindex)) {
			pr_info("%s: taking over the running nsflow_xdp", f->name);
			f->hook = "xdp";
		} else if (xdp) {
			ret = attach_xdp(skel->obj, (int)f->ifindex, f->name, c->xdp_mode, &loaded,
					 &f->hook, err, errlen);
			/* XDP taken by a program outside a libxdp dispatcher (or none possible
			 * here): in auto mode, meter ingress at TC rather than not at all */
			if (ret && c->xdp_mode == CONFIG_XDP_AUTO) {
				pr_warn("%s; metering ingress at TC instead", err);
				tc_ingress = true;
				f->hook = "tc";
			} else if (ret) {
				return ret;
			}
		}
		*attached = i + 1;
		if (!loaded) {
			ret = nsflow_bpf__load(skel);
			if (ret) {
				snprintf(
					err, errlen,
					"load the datapath: %s (pinned maps in %.200s from another "
					"setting? `nsflow detach --all` removes them)",
					strerror(-ret), c->pin_dir);
				return ret;
			}
			loaded = true;
		}
		if (tc_ingress) {
			ret = attach_tc(bpf_program__fd(skel->progs.nsflow_tc_ingress),
					(int)f->ifindex, f->name, false, err, errlen);
			if (ret)
				return ret;
		}
		if (c->egress) {
			ret = attach_tc(bpf_program__fd(skel->progs.nsflow_tc_egress),
					(int)f->ifindex, f->name, true, err, errlen);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct nsflow_config cfg;
	struct nsflow_bpf *skel = NULL;
	struct agent a;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512] = "";
	size_t attached = 0;
	int ret, lfd = -1, mfd = -1, status = 1;
	uint64_t next;

	config_init(&cfg);
	ret = config_parse_args(&cfg, argc, argv, err, sizeof(err));
	if (!ret && cfg.help) {
		config_usage(stdout);
		config_free(&cfg);
		return 0;
	}
	if (!ret)
		ret = config_validate(&cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "nsflow run: %s\n", err);
		config_free(&cfg);
		return 2;
	}
	log_setup(cfg.verbose);
	if (geteuid() != 0) {
		fprintf(stderr, "nsflow run: attaching BPF programs needs root\n");
		config_free(&cfg);
		return 1;
	}
	/* everything a bad setting can break is checked before anything is attached */
	ret = agent_init(&a, &cfg, false, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "nsflow run: %s\n", err);
		goto out_agent;
	}
	if (cfg.metrics_address[0]) {
		mfd = metrics_listen(cfg.metrics_address, err, sizeof(err));
		if (mfd < 0) {
			fprintf(stderr, "nsflow run: %s\n", err);
			goto out_agent;
		}
	}
	ret = attach_prepare_pin_dir(cfg.pin_dir, err, sizeof(err));
	if (ret)
		goto fail;
	skel = nsflow_bpf__open();
	if (!skel) {
		snprintf(err, sizeof(err), "open the datapath object: %s", strerror(errno));
		goto fail;
	}
	agent_size_maps(skel, &cfg);
	set_pin_paths(skel, cfg.pin_dir);

	ret = load_and_attach(&cfg, skel, &attached, err, sizeof(err));
	if (!ret)
		ret = agent_bind(&a, skel, err, sizeof(err));
	if (!ret && (ret = agent_write_config(&a)))
		snprintf(err, sizeof(err), "write interface settings: %s", strerror(-ret));
	if (ret)
		goto fail;
	/* a killed agent's cache and half-drained epoch are ours now */
	agent_recover(&a, agent_clock_ns());
	lfd = control_listen(NSFLOW_CONTROL_SOCK);
	if (lfd < 0)
		pr_warn("control socket %s: %s (show/reset unavailable)", NSFLOW_CONTROL_SOCK,
			strerror(-lfd));

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pr_info("metering %zu interface%s, %zu collector%s, polling every %u ms", cfg.n_ifaces,
		cfg.n_ifaces == 1 ? "" : "s", a.n_sinks, a.n_sinks == 1 ? "" : "s",
		cfg.poll_interval_ms);

	next = agent_clock_ns() + (uint64_t)cfg.poll_interval_ms * 1000000ULL;
	while (!stop_signal) {
		uint64_t now = agent_clock_ns();
		struct pollfd p[3] = { { .fd = lfd, .events = POLLIN },
				       { .fd = a.ring.map_fd, .events = POLLIN },
				       { .fd = mfd, .events = POLLIN } };
		int wait_ms = now >= next ? 0 : (int)((next - now) / 1000000ULL) + 1;

		if (poll(p, 3, wait_ms) > 0) {
			if (p[0].revents & POLLIN)
				control_serve(lfd, &a);
			if (p[2].revents & POLLIN)
				metrics_serve(mfd, &a);
			if (p[1].revents & POLLIN) {
				a.now_ns = agent_clock_ns();
				agent_consume_events(&a);
			}
		}
		now = agent_clock_ns();
		if (now >= next) {
			agent_poll(&a, now);
			next = now + (uint64_t)cfg.poll_interval_ms * 1000000ULL;
		}
	}
	pr_info("%s: exporting every flow and detaching", strsignal(stop_signal));
	agent_poll(&a, agent_clock_ns());
	/* the last switch leaves packets that arrived since in the other map: drain it too */
	agent_poll(&a, agent_clock_ns());
	agent_flush_all(&a, NS_END_FORCED);
	status = 0;
	goto out;
fail:
	fprintf(stderr, "nsflow run: %s\n", err);
out:
	if (mfd >= 0)
		close(mfd);
	if (lfd >= 0) {
		close(lfd);
		unlink(NSFLOW_CONTROL_SOCK);
	}
	detach_config_ifaces(&cfg, attached);
	if (attached)
		unpin_all(cfg.pin_dir);
	agent_close(&a);
	nsflow_bpf__destroy(skel);
	config_free(&cfg);
	return status;
out_agent:
	if (mfd >= 0)
		close(mfd);
	agent_close(&a);
	config_free(&cfg);
	return 2;
}

static void detach_usage(FILE *f)
{
	fputs("usage: nsflow detach -i IFACE [-i IFACE ...] | --all [--pin-dir DIR]\n"
	      "\n"
	      "Removes the XDP program and TC filters nsflow attached (left behind when an agent\n"
	      "was killed), and its pinned maps once no interface has nsflow any more. Other\n"
	      "programs and filters on the interfaces are left alone.\n",
	      f);
}

int cmd_detach(int argc, char **argv)
{
	const char *pin_dir = "/sys/fs/bpf/nsflow";
	struct if_nameindex *all = if_nameindex(), *it;
	bool every = false;
	int removed = 0, named = 0;

	log_setup(1);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all")) {
			every = true;
		} else if (!strcmp(argv[i], "--pin-dir") && i + 1 < argc) {
			pin_dir = argv[++i];
		} else if (!strcmp(argv[i], "-i") && i + 1 < argc) {
			unsigned int idx = if_nametoindex(argv[++i]);

			if (!idx) {
				fprintf(stderr, "nsflow detach: interface '%s' does not exist\n",
					argv[i]);
				return 2;
			}
			removed += attach_detach_iface((int)idx, argv[i], true);
			named++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			detach_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "nsflow detach: unknown argument '%s'\n", argv[i]);
			detach_usage(stderr);
			return 2;
		}
	}
	if (!every && !named) {
		detach_usage(stderr);
		return 2;
	}
	for (it = all; every && it && it->if_index; it++)
		removed += attach_detach_iface((int)it->if_index, it->if_name, false);
	/* the maps go with the last attachment */
	bool left = false;

	for (it = all; !every && it && it->if_index; it++)
		left |= attach_xdp_present((int)it->if_index);
	if (!left)
		unpin_all(pin_dir);
	if (all)
		if_freenameindex(all);
	printf("removed %d attachment%s%s\n", removed, removed == 1 ? "" : "s",
	       left ? "" : ", and the pinned maps");
	return 0;
}
