/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The commands of the nsflow CLI; each gets argv from its command word on. */
#ifndef NSFLOW_CLI_H
#define NSFLOW_CLI_H

int cmd_run(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_replay(int argc, char **argv);

#endif
