/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The service manager's notification protocol (sd_notify(3)) without libsystemd: datagrams to
 * $NOTIFY_SOCKET, a path or an abstract name ('@'). Without that variable every call is a no-op,
 * so the agent behaves the same outside systemd.
 */
#ifndef NSFLOW_NOTIFY_H
#define NSFLOW_NOTIFY_H

#include <stdbool.h>

/* Sends one message ("READY=1\nSTATUS=..."); 0, -errno, or 0 when nobody listens. */
int notify_send(const char *msg);
/* READY=1 with a STATUS= line (NULL: none): the programs are attached, flows are counted. */
int notify_ready(const char *status);
/* RELOADING=1 (with MONOTONIC_USEC=, which systemd wants for Type=notify-reload); READY=1
 * follows once the new settings are in force. */
int notify_reloading(void);
/* STOPPING=1: a stop signal arrived, the final drain begins. */
int notify_stopping(void);
/* Whether the manager watches us ($WATCHDOG_USEC set, $WATCHDOG_PID unset or ours). */
bool notify_watchdog_enabled(void);
/* WATCHDOG=1 when notify_watchdog_enabled(), else nothing. */
int notify_watchdog(void);
/*
 * After each poll of the maps (every poll_ms): READY=1 with status the first time, WATCHDOG=1
 * every time. The first time also warns when polls are further apart than half the watchdog.
 */
void notify_polled(const char *status, unsigned int poll_ms);

#endif
