// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * loader/notify.c: the messages reach a socket named by a path and one named by an abstract
 * '@' name, WATCHDOG=1 goes out only when $WATCHDOG_PID is unset or ours, and without
 * $NOTIFY_SOCKET nothing is sent and nothing fails.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "notify.h"

static int fd = -1;
static char path[64];

/* Binds a datagram socket to @name ("@..." abstract) and points $NOTIFY_SOCKET at it. */
static void listen_at(const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	memcpy(sun.sun_path, name, strlen(name));
	if (name[0] == '@')
		sun.sun_path[0] = 0;
	else
		len++;
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, len), 0, "bind %s: %s", name,
		     strerror(errno));
	setenv("NOTIFY_SOCKET", name, 1);
}

/* The next message, or "" when none comes within 200 ms */
static const char *next_msg(void)
{
	static char buf[256];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n = poll(&p, 1, 200) > 0 ? recv(fd, buf, sizeof(buf) - 1, 0) : 0;

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/nsflow-notify-%d.sock", getpid());
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static void teardown(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(path);
}

TestSuite(notify, .init = setup, .fini = teardown);

Test(notify, ready_status_stopping_reach_a_path_socket)
{
	listen_at(path);
	cr_assert_eq(notify_ready("metering 2 interfaces"), 0);
	cr_expect_str_eq(next_msg(), "READY=1\nSTATUS=metering 2 interfaces");
	cr_assert_eq(notify_stopping(), 0);
	cr_expect_str_eq(next_msg(), "STOPPING=1");
	cr_assert_eq(notify_reloading(), 0);
	cr_expect(!strncmp(next_msg(), "RELOADING=1\nMONOTONIC_USEC=", 27));
}

Test(notify, abstract_name_gets_the_messages_too)
{
	char name[64];

	snprintf(name, sizeof(name), "@nsflow-notify-%d", getpid());
	listen_at(name);
	cr_assert_eq(notify_ready(NULL), 0);
	cr_expect_str_eq(next_msg(), "READY=1");
}

Test(notify, watchdog_only_for_our_pid)
{
	char pid[16];

	listen_at(path);
	cr_expect_not(notify_watchdog_enabled(), "no WATCHDOG_USEC, no watchdog");
	notify_watchdog();
	cr_expect_str_eq(next_msg(), "");
	setenv("WATCHDOG_USEC", "200000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	notify_watchdog();
	cr_expect_str_eq(next_msg(), "", "WATCHDOG=1 for another process's watchdog");
	snprintf(pid, sizeof(pid), "%d", getpid());
	setenv("WATCHDOG_PID", pid, 1);
	notify_watchdog();
	cr_expect_str_eq(next_msg(), "WATCHDOG=1");
	unsetenv("WATCHDOG_PID");
	notify_polled("x", 50);
	cr_expect_str_eq(next_msg(), "READY=1\nSTATUS=x", "the first poll makes us ready");
	cr_expect_str_eq(next_msg(), "WATCHDOG=1");
	notify_polled("x", 50);
	cr_expect_str_eq(next_msg(), "WATCHDOG=1", "READY=1 only once");
}

Test(notify, without_notify_socket_nothing_fails)
{
	cr_expect_eq(notify_ready("x"), 0);
	cr_expect_eq(notify_watchdog(), 0);
}
