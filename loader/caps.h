/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The capabilities the agent runs with. It needs no root: CAP_BPF (load programs, create and
 * pin maps), CAP_NET_ADMIN (attach at XDP and TC, rtnetlink), CAP_PERFMON (the programs read
 * packet memory through pointers, which the verifier allows only with it) and CAP_SYS_ADMIN
 * (BPF_PROG_GET_FD_BY_ID / BPF_MAP_GET_FD_BY_ID: what is on an interface is found by id when
 * detaching, taking over after a crash, and in libxdp's dispatcher) are enough.
 */
#ifndef NSFLOW_CAPS_H
#define NSFLOW_CAPS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether cap (CAP_*) is in our effective set. */
bool caps_have(int cap);
/* 0 when the agent holds what `nsflow run` needs; else -EPERM and err names what is missing. */
int caps_check_run(char *err, size_t errlen);
/* " (uid 65534 lacks CAP_X)" when the effective set lacks cap, else "": for error messages. */
const char *caps_hint(int cap);

#endif
