// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include "agent.h"
#include "collector_watch.h"
#include "log.h"

static const char *reason(const struct ns_sink_stats *st)
{
	return st->last_errno ? strerror(st->last_errno) : "no error reported";
}

static void report_change(struct agent_sink_ref *w, const char *url, const struct ns_sink_stats *st,
			  uint64_t now_ms)
{
	unsigned long long lost = st->records_dropped - w->seen_dropped;

	if (st->state == NS_SINK_UP) {
		pr_warn("collector %s is up again after %llu s; %llu records dropped while it was "
			"%s",
			url, (unsigned long long)(now_ms - w->since_ms) / 1000, lost,
			ns_sink_state_name(w->seen_state));
	} else {
		pr_warn("collector %s is %s: %s; what it is given counts as dropped until it %s",
			url, ns_sink_state_name(st->state), reason(st),
			st->state == NS_SINK_DOWN ? "answers again" : "can be written again");
		w->since_ms = now_ms;
	}
	w->seen_state = st->state;
	w->seen_dropped = st->records_dropped;
	w->report_ms = now_ms;
}

void collectors_watch(struct agent *a, uint64_t now_ms)
{
	for (size_t i = 0; i < a->n_sinks; i++) {
		struct agent_sink_ref *w = &a->sink_refs[i];
		const char *url = ns_sink_url(a->sinks[i]);
		struct ns_sink_stats st;

		ns_sink_get_stats(a->sinks[i], &st);
		if (!w->watched) {
			/* a TCP collector starts down until its first connect: not news */
			w->watched = 1;
			w->seen_state =
				st.state == NS_SINK_DOWN && !st.last_errno ? NS_SINK_UP : st.state;
			w->since_ms = now_ms;
		}
		if (st.state != w->seen_state && (st.state != NS_SINK_DOWN || st.last_errno)) {
			report_change(w, url, &st, now_ms);
			continue;
		}
		/* the first loss at once, then at most one line a minute */
		if (st.records_dropped == w->seen_dropped ||
		    (w->report_ms && now_ms - w->report_ms < COLLECTORS_REPORT_S * 1000ull))
			continue;
		pr_warn("collector %s: %llu records dropped%s (%s; last error: %s)", url,
			(unsigned long long)(st.records_dropped - w->seen_dropped),
			w->report_ms ? " in the last minute" : "",
			st.state == NS_SINK_UP ? "up now" : ns_sink_state_name(st.state),
			reason(&st));
		w->seen_dropped = st.records_dropped;
		w->report_ms = now_ms;
	}
}

void collectors_finish(struct agent *a, uint64_t now_ms)
{
	for (size_t i = 0; i < a->n_sinks; i++) {
		uint64_t left = ns_sink_finish(a->sinks[i], now_ms, COLLECTORS_FINISH_MS);

		if (left)
			pr_warn("collector %s: %llu records lost at exit: it did not take them "
				"within %d s",
				ns_sink_url(a->sinks[i]), (unsigned long long)left,
				COLLECTORS_FINISH_MS / 1000);
	}
	collectors_watch(a, now_ms);
}
