// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sd_notify(3) messages to the service manager (notify.h). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "log.h"
#include "notify.h"

/* $NOTIFY_SOCKET as an address; its length, or 0 when unset or unusable */
static socklen_t notify_addr(struct sockaddr_un *sun)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	if (!path || !path[0])
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sun->sun_path)) {
		pr_warn("NOTIFY_SOCKET=%s: neither a path nor an abstract '@' name that fits; "
			"not telling the service manager anything",
			path);
		return 0;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len);
	if (path[0] == '@')
		sun->sun_path[0] = 0; /* abstract: no terminating NUL counted */
	else
		len++;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

int notify_send(const char *msg)
{
	struct sockaddr_un sun;
	socklen_t alen = notify_addr(&sun);
	ssize_t n;
	int fd, ret = 0;

	if (!alen)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun, alen);
	if (n < 0) {
		ret = -errno;
		pr_debug("notify %s: %s", getenv("NOTIFY_SOCKET"), strerror(errno));
	}
	close(fd);
	return ret;
}

int notify_ready(const char *status)
{
	char msg[512];

	if (!status)
		return notify_send("READY=1");
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	return notify_send(msg);
}

int notify_reloading(void)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000ULL);
	return notify_send(msg);
}

int notify_stopping(void)
{
	return notify_send("STOPPING=1");
}

bool notify_watchdog_enabled(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;

	if (!usec || !usec[0] || !strtoull(usec, &end, 10) || *end)
		return false;
	if (!pid || !pid[0])
		return true;
	return strtol(pid, &end, 10) == (long)getpid() && !*end;
}

int notify_watchdog(void)
{
	return notify_watchdog_enabled() ? notify_send("WATCHDOG=1") : 0;
}

void notify_polled(const char *status, unsigned int poll_ms)
{
	static bool ready;

	if (!ready && notify_watchdog_enabled() &&
	    (uint64_t)poll_ms * 2000 > strtoull(getenv("WATCHDOG_USEC"), NULL, 10))
		pr_warn("--poll-interval %u ms is more than half the watchdog's %s us: the "
			"service manager may kill the agent between two polls (raise WatchdogSec=)",
			poll_ms, getenv("WATCHDOG_USEC"));
	if (!ready) {
		notify_ready(status);
		ready = true;
	}
	notify_watchdog();
}
