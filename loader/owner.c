// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The locks that make one agent the owner of its pin dir and its interfaces (owner.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "owner.h"

/* The network namespace we run in: ifindexes are only unique inside one. */
static unsigned long netns_id(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (unsigned long)st.st_ino;
}

/* $RUNTIME_DIRECTORY (its first entry), which systemd makes ours, or /run/nsflow */
static const char *run_dir(void)
{
	static char dir[256];
	const char *env = getenv("RUNTIME_DIRECTORY");

	if (!env || env[0] != '/')
		return OWNER_RUN_DIR;
	snprintf(dir, sizeof(dir), "%.*s", (int)strcspn(env, ":"), env);
	return dir;
}

static const char *lock_dir(void)
{
	static char dir[264];

	snprintf(dir, sizeof(dir), "%s/locks", run_dir());
	return dir;
}

static int make_lock_dir(char *err, size_t errlen)
{
	if ((mkdir(run_dir(), 0755) && errno != EEXIST) ||
	    (mkdir(lock_dir(), 0755) && errno != EEXIST)) {
		snprintf(err, errlen, "create %s: %s%s", lock_dir(), strerror(errno),
			 errno == EACCES ? " (the agent's user must own it: RuntimeDirectory= in "
					   "the unit does that)"
					 : "");
		return -errno;
	}
	return 0;
}

static void iface_lock_path(char *buf, size_t len, int ifindex)
{
	snprintf(buf, len, "%s/if-%lu-%d.lock", lock_dir(), netns_id(), ifindex);
}

/* One file per pin dir: its path with '/' as '_'; a long one by a hash of it. */
static void pin_lock_path(char *buf, size_t len, const char *pin_dir)
{
	char name[200];
	size_t n = 0;

	for (const char *p = pin_dir; *p && n < sizeof(name) - 1; p++)
		name[n++] = *p == '/' ? '_' : *p;
	name[n] = 0;
	if (strlen(pin_dir) >= sizeof(name) - 1) {
		uint64_t h = 1469598103934665603ull;

		for (const char *p = pin_dir; *p; p++)
			h = (h ^ (uint8_t)*p) * 1099511628211ull;
		snprintf(name, sizeof(name), "hash-%016llx", (unsigned long long)h);
	}
	snprintf(buf, len, "%s/pin%s.lock", lock_dir(), name);
}

/* "PID PIN_DIR\nCONTROL_SOCKET\n" (the second line in pin dir locks only) */
static void read_holder(int fd, struct owner_holder *h)
{
	char text[2 * PATH_MAX + 64], *nl, *sp;
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	long pid = 0;

	memset(h, 0, sizeof(*h));
	if (n <= 0)
		return;
	text[n] = 0;
	nl = strchr(text, '\n');
	if (nl) {
		*nl++ = 0;
		nl[strcspn(nl, "\n")] = 0;
		snprintf(h->control_socket, sizeof(h->control_socket), "%s", nl);
	}
	if (sscanf(text, "%ld", &pid) == 1)
		h->pid = (pid_t)pid;
	sp = strchr(text, ' ');
	if (sp)
		snprintf(h->pin_dir, sizeof(h->pin_dir), "%s", sp + 1);
}

/*
 * Locks path. Returns the fd, -EBUSY with h filled when another process holds it, or -errno.
 * A lock file is removed by its holder on the way out: a lock won on a file that is no longer
 * at path is worth nothing, so the file is opened again.
 */
static int lock_file(const char *path, const char *who, struct owner_holder *h)
{
	for (int tries = 0; tries < 100; tries++) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		ssize_t n = (ssize_t)strlen(who);

		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			int e = errno == EWOULDBLOCK ? -EBUSY : -errno;

			if (h)
				read_holder(fd, h);
			close(fd);
			return e;
		}
		if (fstat(fd, &a) || stat(path, &b) || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev) {
			close(fd);
			continue;
		}
		if (ftruncate(fd, 0) || pwrite(fd, who, (size_t)n, 0) != n) {
			int e = -errno;

			unlink(path);
			close(fd);
			return e;
		}
		return fd;
	}
	return -EAGAIN;
}

static void unlock_file(int fd, const char *path)
{
	if (fd < 0)
		return;
	unlink(path); /* while still held: see lock_file() */
	close(fd);
}

int owner_add_iface(struct owner *o, const struct nsflow_config *c, size_t i, char *err,
		    size_t errlen)
{
	const struct config_iface *f = &c->ifaces[i];
	char who[PATH_MAX + 64];
	struct owner_holder h;
	int ret;

	if (i >= o->cap) {
		size_t cap = i + 16;
		int *fd = realloc(o->if_fd, cap * sizeof(*fd));
		char(*path)[PATH_MAX] = fd ? realloc(o->if_path, cap * sizeof(*path)) : NULL;

		if (fd)
			o->if_fd = fd;
		if (path)
			o->if_path = path;
		if (!fd || !path) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		for (size_t k = o->cap; k < cap; k++)
			o->if_fd[k] = -1;
		o->cap = cap;
	}
	if (o->if_fd[i] >= 0)
		return 0;
	iface_lock_path(o->if_path[i], sizeof(o->if_path[i]), (int)f->ifindex);
	snprintf(who, sizeof(who), "%ld %s\n", (long)getpid(), c->pin_dir);
	ret = lock_file(o->if_path[i], who, &h);
	if (ret == -EBUSY)
		snprintf(err, errlen,
			 "%s is metered by nsflow pid %ld (pin dir %.200s); stop it or use "
			 "`nsflow detach -i %s`",
			 f->name, (long)h.pid, h.pin_dir, f->name);
	else if (ret < 0)
		snprintf(err, errlen, "lock %.200s for %s: %s", o->if_path[i], f->name,
			 strerror(-ret));
	if (ret < 0)
		return ret;
	o->if_fd[i] = ret;
	return 0;
}

void owner_drop_iface(struct owner *o, size_t i)
{
	if (i >= o->cap)
		return;
	unlock_file(o->if_fd[i], o->if_path[i]);
	o->if_fd[i] = -1;
}

int owner_acquire(struct owner *o, const struct nsflow_config *c, char *err, size_t errlen)
{
	char who[2 * PATH_MAX + 64];
	struct owner_holder h;
	int ret;

	memset(o, 0, sizeof(*o));
	o->pin_fd = -1;
	ret = make_lock_dir(err, errlen);
	if (ret)
		return ret;
	pin_lock_path(o->pin_path, sizeof(o->pin_path), c->pin_dir);
	snprintf(who, sizeof(who), "%ld %s\n%s\n", (long)getpid(), c->pin_dir, c->control_socket);
	ret = lock_file(o->pin_path, who, &h);
	if (ret < 0) {
		if (ret == -EBUSY)
			snprintf(err, errlen,
				 "pin dir %.200s is in use by nsflow pid %ld: stop it, or give "
				 "this agent a --pin-dir of its own",
				 c->pin_dir, (long)h.pid);
		else
			snprintf(err, errlen, "lock %.200s: %s", o->pin_path, strerror(-ret));
		owner_release(o);
		return ret;
	}
	o->pin_fd = ret;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		if (c->ifaces[i].by_rule) /* taken as they are attached: one held is left alone */
			continue;
		ret = owner_add_iface(o, c, i, err, errlen);
		if (ret) {
			owner_release(o);
			return ret;
		}
	}
	return 0;
}

void owner_release(struct owner *o)
{
	for (size_t i = o->cap; i-- > 0;)
		unlock_file(o->if_fd[i], o->if_path[i]);
	unlock_file(o->pin_fd, o->pin_path);
	free(o->if_fd);
	free(o->if_path);
	memset(o, 0, sizeof(*o));
	o->pin_fd = -1;
}

static int holder_of(const char *path, struct owner_holder *h)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (!flock(fd, LOCK_SH | LOCK_NB)) {
		/* nobody holds it: a file left by nothing (or about to be removed) */
		close(fd);
		return 0;
	}
	read_holder(fd, h);
	close(fd);
	return 1;
}

int owner_of_iface(int ifindex, struct owner_holder *h)
{
	char path[PATH_MAX];

	iface_lock_path(path, sizeof(path), ifindex);
	return holder_of(path, h);
}

int owner_of_pin_dir(const char *pin_dir, struct owner_holder *h)
{
	char path[PATH_MAX];

	pin_lock_path(path, sizeof(path), pin_dir);
	return holder_of(path, h);
}

size_t owner_list(struct owner_holder *out, size_t max)
{
	char path[PATH_MAX];
	struct dirent *d;
	size_t n = 0;
	DIR *dh = opendir(lock_dir());

	if (!dh)
		return 0;
	while ((d = readdir(dh)) && n < max) {
		size_t len = strlen(d->d_name);

		if (strncmp(d->d_name, "pin", 3) || len < 8 || strcmp(d->d_name + len - 5, ".lock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", lock_dir(), d->d_name);
		n += (size_t)holder_of(path, &out[n]);
	}
	closedir(dh);
	return n;
}
