/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Flow records the exporter tests share. */
#ifndef NSFLOW_TEST_RECORDS_H
#define NSFLOW_TEST_RECORDS_H

#include "record.h"

/* An IPv4 TCP flow with every field an original-flow template carries set. */
void exp_rec_v4_tcp(struct ns_record *r);

#endif
