// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "record.h"

const char *ns_end_reason_name(uint8_t reason)
{
	static const char *const names[] = {
		[NS_END_IDLE] = "inactive",
		[NS_END_ACTIVE] = "active",
		[NS_END_END_OF_FLOW] = "tcp-fin-rst",
		[NS_END_FORCED] = "forced",
		[NS_END_LACK_OF_RESOURCES] = "cache-full",
	};

	return reason < sizeof(names) / sizeof(names[0]) && names[reason] ? names[reason] : "-";
}
