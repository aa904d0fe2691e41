// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include "agg.h"
#include "metrics.h"
#include "prom.h"
#include "version.h"

int metrics_listen(const char *hostport, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res, *ai;
	char host[256];
	const char *colon = strrchr(hostport, ':');
	int fd = -1, one = 1, ret;

	if (!colon) {
		snprintf(err, errlen, "--metrics: '%s' is not HOST:PORT", hostport);
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	/* [IPv6] */
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = 0;
	}
	ret = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (ret) {
		snprintf(err, errlen, "--metrics %s: %s", hostport, gai_strerror(ret));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 16))
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "--metrics %s: %s", hostport, strerror(ret ? -ret : EINVAL));
		return ret ? ret : -EINVAL;
	}
	return fd;
}

/* A family of one unlabelled sample */
static void single(FILE *o, const char *name, const char *type, const char *help,
		   unsigned long long v)
{
	prom_family(o, name, type, help);
	fprintf(o, "%s %llu\n", name, v);
}

/* The datapath's counters: one family per meaning, parse errors in one by reason */
static const struct {
	int first, last;
	const char *name, *label, *help;
} dp_fams[] = {
	{ NSFLOW_CNT_SEEN, NSFLOW_CNT_SEEN, "nsflow_datapath_seen_packets_total", NULL,
	  "Packets the datapath programs ran on (all CPUs)" },
	{ NSFLOW_CNT_SAMPLED, NSFLOW_CNT_SAMPLED, "nsflow_datapath_sampled_packets_total", NULL,
	  "Packets the sampler took (all of them when unsampled)" },
	{ NSFLOW_CNT_METERED, NSFLOW_CNT_METERED, "nsflow_datapath_metered_packets_total", NULL,
	  "Packets counted into a flow map" },
	{ NSFLOW_CNT_RINGBUF, NSFLOW_CNT_RINGBUF, "nsflow_datapath_ringbuf_packets_total", NULL,
	  "Packets that found the flow map full and reached the agent as ring buffer events" },
	{ NSFLOW_CNT_NOT_METERED, NSFLOW_CNT_NOT_METERED,
	  "nsflow_datapath_not_metered_packets_total", NULL,
	  "Packets neither flow map nor ring buffer could take" },
	{ NSFLOW_CNT_NOT_METERED_OCTETS, NSFLOW_CNT_NOT_METERED_OCTETS,
	  "nsflow_datapath_not_metered_bytes_total", NULL,
	  "Bytes of packets neither flow map nor ring buffer could take" },
	{ NSFLOW_CNT_NON_IP, NSFLOW_CNT_NON_IP, "nsflow_datapath_non_ip_packets_total", NULL,
	  "Packets of EtherTypes that are neither IP nor MPLS" },
	{ NSFLOW_CNT_ERR_ETH_TRUNC, NSFLOW_CNT_ERR_TCP_DOFF,
	  "nsflow_datapath_unparsed_packets_total", "reason",
	  "Packets passed unparsed and unmetered, by what was wrong with them" },
	{ NSFLOW_CNT_ERR_VXLAN_TRUNC, NSFLOW_CNT_ERR_VXLAN_FLAGS,
	  "nsflow_datapath_vxlan_invalid_packets_total", "reason",
	  "VXLAN packets with a bad header, metered as plain UDP, by what was wrong" },
};

static void datapath_metrics(struct agent *a, FILE *o)
{
	for (size_t f = 0; f < sizeof(dp_fams) / sizeof(dp_fams[0]); f++) {
		prom_family(o, dp_fams[f].name, "counter", dp_fams[f].help);
		for (int i = dp_fams[f].first; i <= dp_fams[f].last; i++) {
			if (dp_fams[f].label) {
				prom_labelled(o, dp_fams[f].name, dp_fams[f].label,
					      nsflow_counter_names[i]);
				fputc('}', o);
			} else {
				fputs(dp_fams[f].name, o);
			}
			fprintf(o, " %llu\n", (unsigned long long)(a->dp.c[i] - a->dp_base.c[i]));
		}
	}
}

/* Packets and bytes merged into flows, per interface, direction and address family */
static void interface_metrics(struct agent *a, FILE *o)
{
	static const char *const fam[] = { "ipv4", "ipv6", "mpls" };
	const struct flow_cache_stats *st = flow_cache_stats(a->cache);
	char ifn[IF_NAMESIZE];

	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name =
			bytes ? "nsflow_interface_bytes_total" : "nsflow_interface_packets_total";

		prom_family(o, name, "counter",
			    bytes ? "Bytes (IP lengths) of the packets merged into flows"
				  : "Packets merged into flows");
		for (uint32_t i = 0; i < st->n_ifaces; i++)
			for (int d = 0; d < 2; d++)
				for (int f = 0; f < FLOW_FAMILY_MAX; f++) {
					const struct flow_iface_stats *s = &st->ifaces[i];

					if (!if_indextoname(s->ifindex, ifn))
						snprintf(ifn, sizeof(ifn), "%u", s->ifindex);
					prom_labelled(o, name, "interface", ifn);
					fprintf(o, ",direction=\"%s\",family=\"%s\"} %llu\n",
						d ? "egress" : "ingress", fam[f],
						(unsigned long long)(bytes ? s->octets[d][f]
									   : s->packets[d][f]));
				}
	}
}

/* One labelled sample per collector, of a counter read from its stats */
static const struct {
	const char *name, *help;
	size_t off;
} sink_fams[] = {
	{ "nsflow_collector_sent_messages_total",
	  "Export messages (datagrams, TCP messages, file messages or lines) the collector's "
	  "transport took",
	  offsetof(struct ns_sink_stats, messages_sent) },
	{ "nsflow_collector_sent_records_total", "Flow records the collector's transport took",
	  offsetof(struct ns_sink_stats, records_sent) },
	{ "nsflow_collector_sent_bytes_total",
	  "Bytes of the export messages the collector's transport took (UDP and TCP payload, file "
	  "bytes)",
	  offsetof(struct ns_sink_stats, bytes_sent) },
	{ "nsflow_collector_dropped_records_total",
	  "Flow records given to the collector that did not reach it",
	  offsetof(struct ns_sink_stats, records_dropped) },
	{ "nsflow_collector_unexportable_records_total",
	  "Flow records the collector's format cannot carry (IPv6 in NetFlow v5)",
	  offsetof(struct ns_sink_stats, records_not_exportable) },
	{ "nsflow_collector_send_errors_total", "Failed sends, writes and connections",
	  offsetof(struct ns_sink_stats, send_errors) },
	{ "nsflow_collector_sent_templates_total", "Templates sent to the collector",
	  offsetof(struct ns_sink_stats, templates_sent) },
	{ "nsflow_collector_reconnects_total", "TCP connections made again after a failure",
	  offsetof(struct ns_sink_stats, reconnects) },
};

static void collector_counters(struct agent *a, const struct ns_sink_stats *st, FILE *o)
{
	for (size_t f = 0; f < sizeof(sink_fams) / sizeof(sink_fams[0]); f++) {
		prom_family(o, sink_fams[f].name, "counter", sink_fams[f].help);
		for (size_t i = 0; i < a->n_sinks; i++) {
			prom_labelled(o, sink_fams[f].name, "collector", ns_sink_url(a->sinks[i]));
			fprintf(o, "} %llu\n",
				(unsigned long long)*(const uint64_t *)((const char *)&st[i] +
									sink_fams[f].off));
		}
	}
}

/* Up or not, the state as a state set, since when, and the latest error's text */
static void collector_states(struct agent *a, const struct ns_sink_stats *st, FILE *o)
{
	prom_family(o, "nsflow_collector_up", "gauge",
		    "1 while the collector takes what it is given, else 0");
	for (size_t i = 0; i < a->n_sinks; i++) {
		prom_labelled(o, "nsflow_collector_up", "collector", ns_sink_url(a->sinks[i]));
		fprintf(o, "} %d\n", st[i].state == NS_SINK_UP);
	}
	prom_family(o, "nsflow_collector_state", "gauge",
		    "1 for the collector's state (up, down or error), 0 for the others");
	for (size_t i = 0; i < a->n_sinks; i++)
		for (int k = NS_SINK_UP; k <= NS_SINK_ERROR; k++) {
			prom_labelled(o, "nsflow_collector_state", "collector",
				      ns_sink_url(a->sinks[i]));
			fprintf(o, ",state=\"%s\"} %d\n", ns_sink_state_name(k),
				st[i].state == (enum ns_sink_state)k);
		}
	prom_family(o, "nsflow_collector_state_since_timestamp_seconds", "gauge",
		    "Unix time the collector's state last changed (0: never)");
	for (size_t i = 0; i < a->n_sinks; i++) {
		prom_labelled(o, "nsflow_collector_state_since_timestamp_seconds", "collector",
			      ns_sink_url(a->sinks[i]));
		fprintf(o, "} %.3f\n", st[i].state_since_ms / 1e3);
	}
	prom_family(o, "nsflow_collector_last_error_info", "gauge",
		    "The collector's latest failure, kept after it recovers (none yet: no sample)");
	for (size_t i = 0; i < a->n_sinks; i++) {
		if (!st[i].last_errno)
			continue;
		prom_labelled(o, "nsflow_collector_last_error_info", "collector",
			      ns_sink_url(a->sinks[i]));
		fputs(",error=\"", o);
		prom_label_value(o, strerror(st[i].last_errno));
		fputs("\"} 1\n", o);
	}
}

static void collector_metrics(struct agent *a, FILE *o)
{
	struct ns_sink_stats *st = calloc(a->n_sinks ? a->n_sinks : 1, sizeof(*st));

	if (!st)
		return;
	for (size_t i = 0; i < a->n_sinks; i++)
		ns_sink_get_stats(a->sinks[i], &st[i]);
	collector_counters(a, st, o);
	collector_states(a, st, o);
	free(st);
}

/* Per aggregation cache: flows held, records exported, packets added */
static void agg_metrics(struct agent *a, FILE *o)
{
	static const char *const name[] = { "nsflow_aggregation_flows",
					    "nsflow_aggregation_records_total",
					    "nsflow_aggregation_packets_total" };
	static const char *const help[] = { "Aggregated flows in each aggregation cache",
					    "Aggregated records exported by each aggregation cache",
					    "Packets summed into each aggregation cache" };

	if (!a->n_aggs)
		return;
	for (int f = 0; f < 3; f++) {
		prom_family(o, name[f], f ? "counter" : "gauge", help[f]);
		for (size_t i = 0; i < a->n_aggs; i++) {
			const struct agg_cache *c = a->aggs[i];

			prom_labelled(o, name[f], "cache", agg_cache_name(c));
			fprintf(o, "} %llu\n",
				(unsigned long long)(f == 0   ? agg_cache_count(c)
						     : f == 1 ? agg_cache_stats(c)->exported
							      : agg_cache_stats(c)->packets));
		}
	}
}

/* What `show stats` calls memory in use, in bytes */
static void memory_metrics(struct agent *a, FILE *o)
{
	struct agent_memory m;

	agent_memory(a, &m);
	single(o, "nsflow_kernel_memory_bytes", "gauge",
	       "The datapath's BPF maps, flow cache region included, as the kernel accounts them",
	       m.kernel);
	single(o, "nsflow_cache_region_bytes", "gauge",
	       "The flow cache region (a kernel array the agent maps)", m.region);
	single(o, "nsflow_cache_index_bytes", "gauge", "The flow cache's private index", m.index);
	single(o, "nsflow_aggregation_memory_bytes", "gauge",
	       "The aggregation caches and route tables", m.aggregation);
	single(o, "process_resident_memory_bytes", "gauge", "The agent's resident memory", m.rss);
}

/* Unix time the agent started, from the kernel's start time of this process */
static double process_start_time(void)
{
	static double start;
	unsigned long long ticks = 0, btime = 0;
	char buf[1024], *p;
	FILE *f;
	size_t n;

	if (start)
		return start;
	f = fopen("/proc/self/stat", "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* field 22 (starttime), counted after the command name, which may hold spaces */
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
		return 0;
	f = fopen("/proc/stat", "r");
	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	if (btime)
		start = (double)btime + (double)ticks / (double)sysconf(_SC_CLK_TCK);
	return start;
}

static void agent_info_metrics(struct agent *a, FILE *o)
{
	prom_family(o, "nsflow_build_info", "gauge", "The agent's version (nsflow --version)");
	prom_labelled(o, "nsflow_build_info", "version", NSFLOW_VERSION);
	fputs("} 1\n", o);
	prom_family(o, "process_start_time_seconds", "gauge",
		    "Unix time the agent started, in seconds");
	fprintf(o, "process_start_time_seconds %.2f\n", process_start_time());
	single(o, "nsflow_cache_flows", "gauge", "Flows in the agent's cache",
	       flow_cache_count(a->cache));
	single(o, "nsflow_cache_capacity_flows", "gauge",
	       "Flows the cache can hold (--cache-entries)", a->cfg->cache_entries);
}

static void flow_metrics(struct agent *a, FILE *o)
{
	const struct flow_cache_stats *st = flow_cache_stats(a->cache);

	single(o, "nsflow_flows_created_total", "counter", "Flows created in the cache",
	       st->created);
	prom_family(o, "nsflow_flows_aged_total", "counter",
		    "Flow records exported, by end reason");
	for (int r = 1; r < NS_END_REASONS; r++)
		fprintf(o, "nsflow_flows_aged_total{reason=\"%s\"} %llu\n",
			ns_end_reason_name((uint8_t)r), (unsigned long long)st->expired[r]);
}

static void poll_metrics(struct agent *a, FILE *o)
{
	prom_family(o, "nsflow_poll_duration_seconds", "gauge", "How long the last poll took");
	fprintf(o, "nsflow_poll_duration_seconds %.6f\n", a->last_poll_ns / 1e9);
	single(o, "nsflow_polls_total", "counter", "Polls: epoch switches and drains", a->polls);
	prom_family(o, "nsflow_last_poll_timestamp_seconds", "gauge",
		    "Unix time the last poll ended (0: none yet)");
	fprintf(o, "nsflow_last_poll_timestamp_seconds %.3f\n",
		a->last_poll_end_ns
			? (double)((int64_t)a->last_poll_end_ns + a->boot_to_wall_ns) / 1e9
			: 0.0);
}

void metrics_write(struct agent *a, FILE *o)
{
	agent_read_counters(a);
	agent_info_metrics(a, o);
	datapath_metrics(a, o);
	interface_metrics(a, o);
	flow_metrics(a, o);
	memory_metrics(a, o);
	poll_metrics(a, o);
	collector_metrics(a, o);
	agg_metrics(a, o);
}

bool metrics_alive(uint64_t now_ns, uint64_t last_ns, uint32_t poll_interval_ms)
{
	uint64_t limit = METRICS_ALIVE_POLLS * (uint64_t)poll_interval_ms * 1000000ULL;

	if (limit < METRICS_ALIVE_MIN_MS * 1000000ULL)
		limit = METRICS_ALIVE_MIN_MS * 1000000ULL;
	return now_ns <= last_ns || now_ns - last_ns <= limit;
}

/* The loop polls: the last poll (or, before the first, the start of serving) is recent */
static bool agent_alive(const struct agent *a)
{
	return metrics_alive(agent_clock_ns(),
			     a->last_poll_end_ns ? a->last_poll_end_ns : a->now_ns,
			     a->cfg->poll_interval_ms);
}

/* Programs attached (served only from then on) and the first poll done */
static bool agent_ready(const struct agent *a)
{
	return a->skel && a->last_poll_end_ns;
}

/* A whole request: its headers (a body, as a POST's, is not read) */
static bool metrics_complete(const char *req, size_t len, bool eof)
{
	(void)len;
	return eof || strstr(req, "\r\n\r\n") || strstr(req, "\n\n");
}

static void http_answer(char **out, size_t *len, const char *status, const char *extra,
			const char *type, const char *body, size_t blen, bool head)
{
	FILE *f = open_memstream(out, len);

	if (!f)
		return;
	fprintf(f,
		"HTTP/1.0 %s\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\nConnection: "
		"close\r\n\r\n",
		status, type, extra, blen);
	if (!head)
		fwrite(body, 1, blen, f);
	fclose(f);
}

#define TEXT_PLAIN "text/plain; charset=utf-8"

static void metrics_answer(void *arg, char *req, char **out, size_t *len, size_t *off)
{
	struct agent *a = arg;
	bool head, ok;
	char *body = NULL;
	size_t blen = 0;
	FILE *f;

	(void)off;
	switch (prom_route(req, &head)) {
	case PROM_PAGE_METRICS:
		f = open_memstream(&body, &blen);
		if (!f)
			return;
		metrics_write(a, f);
		fclose(f);
		http_answer(out, len, "200 OK", "", "text/plain; version=0.0.4; charset=utf-8",
			    body, blen, head);
		free(body);
		return;
	case PROM_PAGE_HEALTHZ:
		ok = agent_alive(a);
		http_answer(out, len, ok ? "200 OK" : "503 Service Unavailable", "", TEXT_PLAIN,
			    ok ? "ok\n" : "not polling\n", ok ? 3 : 12, head);
		return;
	case PROM_PAGE_READYZ:
		ok = agent_ready(a);
		http_answer(out, len, ok ? "200 OK" : "503 Service Unavailable", "", TEXT_PLAIN,
			    ok ? "ok\n" : "not ready\n", ok ? 3 : 10, head);
		return;
	case PROM_PAGE_NOT_FOUND:
		http_answer(out, len, "404 Not Found", "", TEXT_PLAIN,
			    "not found: try /metrics, /healthz or /readyz\n", 45, head);
		return;
	case PROM_PAGE_BAD_METHOD:
		http_answer(out, len, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", TEXT_PLAIN,
			    "only GET and HEAD\n", 18, false);
		return;
	case PROM_PAGE_BAD_REQUEST:
		http_answer(out, len, "400 Bad Request", "", TEXT_PLAIN, "bad request\n", 12,
			    false);
		return;
	}
}

const struct conn_ops metrics_conn_ops = {
	.what = "metrics",
	.complete = metrics_complete,
	.answer = metrics_answer,
	.busy = "HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: "
		"close\r\n\r\n",
};
