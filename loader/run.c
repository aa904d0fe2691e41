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
#include <getopt.h>
#include <net/if.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "attach.h"
#include "caps.h"
#include "control.h"
#include "datapath.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "nsflow_cli.h"
#include "owner.h"
#include "reload.h"

static volatile sig_atomic_t stop_signal, reload_signal;

static void on_reload(int sig)
{
	reload_signal = sig;
}

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

/*
 * Polls every poll interval and serves the control socket and the metrics between polls, until
 * a stop signal (false) or a SIGHUP whose configuration passed the checks (true).
 */
static bool run_loop(struct agent *a, struct datapath *dp, struct conn_server *ctl,
		     struct conn_server *met, const char *status_line, int argc, char **argv)
{
	const struct nsflow_config *cfg = a->cfg;
	char err[512];
	uint64_t next;

	next = agent_clock_ns() + (uint64_t)cfg->poll_interval_ms * 1000000ULL;
	while (!stop_signal) {
		uint64_t now = agent_clock_ns();
		struct pollfd p[2 * (CONN_MAX + 1) + 2] = {
			{ .fd = a->ring.map_fd, .events = POLLIN },
			{ .fd = dp->nl_fd, .events = POLLIN },
		};
		int wait_ms = now >= next ? 0 : (int)((next - now) / 1000000ULL) + 1;
		int n_ctl = conn_server_pollfds(ctl, p + 2);
		int n_met = conn_server_pollfds(met, p + 2 + n_ctl);
		uint64_t ms = agent_clock_ns() / 1000000ULL;
		int t;

		t = conn_server_timeout_ms(ctl, ms);
		wait_ms = t >= 0 && t < wait_ms ? t : wait_ms;
		t = conn_server_timeout_ms(met, ms);
		wait_ms = t >= 0 && t < wait_ms ? t : wait_ms;
		if (poll(p, (nfds_t)(2 + n_ctl + n_met), wait_ms) > 0 && (p[0].revents & POLLIN)) {
			a->now_ns = agent_clock_ns();
			agent_consume_events(a);
		}
		if (p[1].revents & POLLIN || dp->resync)
			datapath_follow(dp);
		ms = agent_clock_ns() / 1000000ULL;
		conn_server_process(ctl, p + 2, n_ctl, ms);
		conn_server_process(met, p + 2 + n_ctl, n_met, ms);
		now = agent_clock_ns();
		if (now >= next) {
			agent_poll(a, now);
			notify_polled(status_line, cfg->poll_interval_ms);
			next = now + (uint64_t)cfg->poll_interval_ms * 1000000ULL;
		}
		if (reload_signal) {
			reload_signal = 0;
			pr_info("SIGHUP: reading the configuration again");
			notify_reloading();
			if (!reload_check(cfg, argc, argv, err, sizeof(err)))
				return true;
			pr_warn("reload refused, the running configuration stays: %s", err);
			notify_ready(status_line);
		}
	}
	return false;
}

/*
 * A checked SIGHUP: one more drain exports what is due, the interfaces the new configuration
 * drops are detached, and everything else (attached programs, pinned maps and cache) is left
 * to the image executed next, which takes it over as after a crash.
 */
static void run_reload(struct agent *a, struct nsflow_bpf *skel, int argc, char **argv)
{
	agent_poll(a, agent_clock_ns());
	reload_detach_dropped(a->cfg, argc, argv,
			      attach_map_id(bpf_map__fd(skel->maps.nsflow_events)));
}

/* Everything `nsflow run` holds, so that one path gives it all back. */
struct run {
	struct nsflow_config cfg;
	struct agent a;
	struct owner own;
	struct datapath dp;
	struct conn_server ctl, met;
	struct nsflow_bpf *skel;
	int lfd, mfd;
	bool agent_up;
	char err[512];
};

/*
 * Everything a bad setting or a second agent can break, checked before anything is attached:
 * the settings, the privileges, the collectors and caches (agent_init), the locks, the control
 * socket and the metrics address. 0, or the exit status with r->err saying why.
 */
static int run_prepare(struct run *r)
{
	struct nsflow_config *c = &r->cfg;

	log_setup(c->verbose);
	if (caps_check_run(r->err, sizeof(r->err)) ||
	    attach_check_kernel_btf(r->err, sizeof(r->err)))
		return 1;
	if (agent_init(&r->a, c, false, r->err, sizeof(r->err)))
		return 2;
	r->agent_up = true;
	/* one agent per pin dir and per interface: a second one leaves everything as it is */
	if (owner_acquire(&r->own, c, r->err, sizeof(r->err)))
		return 1;
	/* show/reset wait in the backlog until the loop runs; a socket that answers is another's */
	r->lfd = control_listen(c->control_socket);
	if (r->lfd < 0) {
		snprintf(r->err, sizeof(r->err), "control socket %s: %s", c->control_socket,
			 r->lfd == -EADDRINUSE ? "another agent answers there; give this one a "
						 "--control-socket of its own"
					       : strerror(-r->lfd));
		return 1;
	}
	if (c->metrics_address[0]) {
		r->mfd = metrics_listen(c->metrics_address, r->err, sizeof(r->err));
		if (r->mfd < 0)
			return 2;
	}
	return 0;
}

/* Loads or takes over the datapath, attaches it, and takes a killed agent's cache over. */
static int run_attach(struct run *r)
{
	struct nsflow_config *c = &r->cfg;
	int ret = attach_prepare_pin_dir(c->pin_dir, r->err, sizeof(r->err));

	if (ret)
		return ret;
	r->skel = nsflow_bpf__open();
	if (!r->skel) {
		snprintf(r->err, sizeof(r->err), "open the datapath object: %s", strerror(errno));
		return -errno;
	}
	agent_size_maps(r->skel, c);
	set_pin_paths(r->skel, c->pin_dir);
	r->dp.skel = r->skel;
	ret = datapath_attach(&r->dp, r->err, sizeof(r->err));
	if (!ret)
		ret = agent_bind(&r->a, r->skel, r->err, sizeof(r->err));
	if (!ret && (ret = agent_write_config(&r->a)))
		snprintf(r->err, sizeof(r->err), "write interface settings: %s", strerror(-ret));
	if (!ret && (ret = datapath_watch(&r->dp, r->err, sizeof(r->err))) > 0)
		ret = 0;
	if (ret)
		return ret;
	r->dp.agent = &r->a;
	agent_ifaces_changed(&r->a);
	/* a killed agent's cache and half-drained epoch are ours now */
	agent_recover(&r->a, agent_clock_ns());
	conn_server_init(&r->ctl, r->lfd, &control_conn_ops, &r->a);
	conn_server_init(&r->met, r->mfd, &metrics_conn_ops, &r->a);
	return 0;
}

static void run_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t hup;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_reload;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a reload executes this image with SIGHUP blocked: a second one waits for the handler */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &hup, NULL);
}

/* The start's log line, and the status line systemd shows. */
static void run_announce(struct run *r, char *status_line, size_t len)
{
	size_t n = 0, s = r->a.n_sinks;

	for (size_t i = 0; i < r->cfg.n_ifaces; i++)
		n += !r->cfg.ifaces[i].gone;
	if (getenv(RELOAD_ENV)) {
		unsetenv(RELOAD_ENV);
		pr_info("configuration reloaded: the running datapath and cache taken over");
	}
	pr_info("metering %zu interface%s%s, %zu collector%s, polling every %u ms", n,
		n == 1 ? "" : "s",
		r->dp.rule.any ? " (and those the rules choose as they appear)" : "", s,
		s == 1 ? "" : "s", r->cfg.poll_interval_ms);
	snprintf(status_line, len, "metering %zu interface%s, exporting to %zu collector%s", n,
		 n == 1 ? "" : "s", s, s == 1 ? "" : "s");
}

/* A stop signal: every flow exported, then the datapath comes off (in run_close()). */
static void run_stop(struct run *r)
{
	notify_stopping();
	pr_info("%s: exporting every flow and detaching", strsignal(stop_signal));
	agent_poll(&r->a, agent_clock_ns());
	/* the last switch leaves packets that arrived since in the other map: drain it too */
	agent_poll(&r->a, agent_clock_ns());
	agent_flush_all(&r->a, NS_END_FORCED);
}

/* Gives back all r holds; with reload, the datapath and its pins stay for the next image. */
static void run_close(struct run *r, bool reload)
{
	conn_server_close(&r->ctl);
	conn_server_close(&r->met);
	if (r->mfd >= 0)
		close(r->mfd);
	if (r->lfd >= 0) {
		close(r->lfd);
		unlink(r->cfg.control_socket);
	}
	if (!reload)
		datapath_detach(&r->dp);
	if (r->dp.loaded && !reload)
		unpin_all(r->cfg.pin_dir);
	datapath_close(&r->dp);
	if (r->agent_up)
		agent_close(&r->a);
	nsflow_bpf__destroy(r->skel);
	owner_release(&r->own);
	config_free(&r->cfg);
}

int cmd_run(int argc, char **argv)
{
	static struct run r;
	char status_line[160];
	bool reload;
	int ret;

	r = (struct run){ .lfd = -1, .mfd = -1, .own = { .pin_fd = -1 } };
	r.dp = (struct datapath){ .cfg = &r.cfg, .owner = &r.own, .nl_fd = -1 };
	conn_server_init(&r.ctl, -1, &control_conn_ops, &r.a);
	conn_server_init(&r.met, -1, &metrics_conn_ops, &r.a);
	config_init(&r.cfg);
	ret = config_parse_args(&r.cfg, argc, argv, r.err, sizeof(r.err));
	if (!ret && r.cfg.help) {
		config_usage(stdout);
		config_free(&r.cfg);
		return 0;
	}
	if (!ret)
		ret = config_validate(&r.cfg, r.err, sizeof(r.err)) ? 2 : 0;
	else
		ret = 2;
	if (!ret)
		ret = run_prepare(&r);
	if (!ret && run_attach(&r))
		ret = 1;
	if (ret) {
		fprintf(stderr, "nsflow run: %s\n", r.err);
		run_close(&r, false);
		return ret;
	}
	run_signals();
	run_announce(&r, status_line, sizeof(status_line));
	reload = run_loop(&r.a, &r.dp, &r.ctl, &r.met, status_line, argc, argv);
	if (reload)
		run_reload(&r.a, r.skel, argc, argv);
	else
		run_stop(&r);
	run_close(&r, reload);
	if (!reload)
		return 0;
	ret = reload_exec(argc, argv);
	pr_warn("reload: execute %s again: %s; the datapath keeps counting into the pinned maps, "
		"and the next start takes them over",
		"/proc/self/exe", strerror(-ret));
	return 1;
}

static void detach_usage(FILE *f)
{
	fputs("usage: nsflow detach -i IFACE [-i IFACE ...] | --all [--pin-dir DIR]\n"
	      "\n"
	      "Removes the XDP program and TC filters nsflow attached (left behind when an agent\n"
	      "was killed), and the pinned maps of DIR once no program uses them any more. Other\n"
	      "programs and filters on the interfaces are left alone.\n"
	      "\n"
	      "  -i, --interface IFACE  nsflow's programs on IFACE, whoever attached them (a\n"
	      "                         running agent is told about and stops metering there)\n"
	      "  -a, --all              on every interface of this network namespace, the "
	      "programs\n"
	      "                         that count into DIR's maps; when DIR holds no maps (its\n"
	      "                         bpffs went with an agent's mount namespace), nsflow's\n"
	      "                         programs on interfaces no running agent meters\n"
	      "  -p, --pin-dir DIR      the agent's pin dir (default " CONFIG_DEFAULT_PIN_DIR ")\n"
	      "  -h, --help             this text\n",
	      f);
}

/* Takes nsflow off one interface: what owner_id's programs are there (0: any of nsflow's). */
static int detach_one(int ifindex, const char *ifname, uint32_t owner_id, bool named,
		      const char *pin_dir)
{
	struct owner_holder h;
	int n;

	if (owner_of_iface(ifindex, &h)) {
		if (!named && strcmp(h.pin_dir, pin_dir)) {
			printf("%s: left alone, metered by nsflow pid %ld (pin dir %s)\n", ifname,
			       (long)h.pid, h.pin_dir);
			return 0;
		}
		if (named)
			printf("%s: was metered by nsflow pid %ld (pin dir %s); it meters nothing "
			       "there any more\n",
			       ifname, (long)h.pid, h.pin_dir);
	}
	n = attach_detach_owned(ifindex, ifname, named ? 0 : owner_id);
	if (named || n)
		printf("%s: removed %d nsflow attachment%s\n", ifname, n, n == 1 ? "" : "s");
	return n;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = { { "interface", required_argument, NULL, 'i' },
					      { "all", no_argument, NULL, 'a' },
					      { "pin-dir", required_argument, NULL, 'p' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	const char *pin_dir = CONFIG_DEFAULT_PIN_DIR, *named[64];
	struct if_nameindex *all, *it;
	int removed = 0, n_named = 0, opt;
	bool every = false, used = false;
	struct owner_holder h;
	uint32_t owner_id;

	log_setup(1);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "i:ap:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (n_named == 64) {
				fprintf(stderr, "nsflow detach: at most 64 interfaces\n");
				return 2;
			}
			named[n_named++] = optarg;
			break;
		case 'a':
			every = true;
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'h':
			detach_usage(stdout);
			return 0;
		default:
			detach_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nsflow detach: unexpected argument '%s'\n", argv[optind]);
		detach_usage(stderr);
		return 2;
	}
	if (!every && !n_named) {
		detach_usage(stderr);
		return 2;
	}
	for (int i = 0; i < n_named; i++)
		if (!if_nametoindex(named[i])) {
			fprintf(stderr, "nsflow detach: interface '%s' does not exist\n", named[i]);
			return 2;
		}
	owner_id = datapath_owner_id(pin_dir);
	for (int i = 0; i < n_named; i++)
		removed += detach_one((int)if_nametoindex(named[i]), named[i], owner_id, true,
				      pin_dir);
	all = if_nameindex();
	for (it = all; every && it && it->if_index; it++)
		removed += detach_one((int)it->if_index, it->if_name, owner_id, false, pin_dir);
	/* the maps go when no program counts into them and their agent is gone */
	for (it = all; owner_id && it && it->if_index && !used; it++) {
		struct attach_progs p;

		if (!attach_query((int)it->if_index, &p))
			continue;
		for (int k = 0; k < ATTACH_HOOKS; k++)
			used |= p.id[k] && attach_prog_uses_map(p.id[k], owner_id);
	}
	if (all)
		if_freenameindex(all);
	if (owner_id && !used && owner_of_pin_dir(pin_dir, &h)) {
		printf("kept the pinned maps of %s: nsflow pid %ld uses them\n", pin_dir,
		       (long)h.pid);
		used = true;
	}
	if (owner_id && !used)
		unpin_all(pin_dir);
	printf("removed %d attachment%s%s\n", removed, removed == 1 ? "" : "s",
	       owner_id && !used ? ", and the pinned maps" : "");
	return 0;
}
