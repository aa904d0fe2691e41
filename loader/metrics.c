// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include "agg.h"
#include "metrics.h"

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

static void counter(FILE *o, const char *name, const char *help, const char *type)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One family per collector counter, each with its HELP and TYPE */
static void collector_metrics(struct agent *a, FILE *o)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} fams[] = {
		{ "nsflow_collector_records_total", "Records each collector's transport took",
		  offsetof(struct ns_sink_stats, records_sent) },
		{ "nsflow_collector_messages_total",
		  "Export messages each collector's transport took",
		  offsetof(struct ns_sink_stats, messages_sent) },
		{ "nsflow_collector_errors_total", "Failed sends, writes and connections",
		  offsetof(struct ns_sink_stats, send_errors) },
		{ "nsflow_collector_dropped_records_total",
		  "Records given to a collector that did not reach it",
		  offsetof(struct ns_sink_stats, records_dropped) },
		{ "nsflow_collector_not_exportable_total",
		  "Records the collector's format cannot carry (IPv6 in v5)",
		  offsetof(struct ns_sink_stats, records_not_exportable) },
	};
	struct ns_sink_stats *st = calloc(a->n_sinks ? a->n_sinks : 1, sizeof(*st));

	if (!st)
		return;
	for (size_t i = 0; i < a->n_sinks; i++)
		ns_sink_get_stats(a->sinks[i], &st[i]);
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		counter(o, fams[f].name, fams[f].help, "counter");
		for (size_t i = 0; i < a->n_sinks; i++)
			fprintf(o, "%s{collector=\"%s\"} %llu\n", fams[f].name,
				ns_sink_url(a->sinks[i]),
				*(unsigned long long *)((char *)&st[i] + fams[f].off));
	}
	counter(o, "nsflow_collector_up", "1 while the collector takes what it is given", "gauge");
	for (size_t i = 0; i < a->n_sinks; i++)
		fprintf(o, "nsflow_collector_up{collector=\"%s\"} %d\n", ns_sink_url(a->sinks[i]),
			st[i].state == NS_SINK_UP);
	counter(o, "nsflow_collector_state", "The collector's state: up, down or error", "gauge");
	for (size_t i = 0; i < a->n_sinks; i++)
		for (int k = NS_SINK_UP; k <= NS_SINK_ERROR; k++)
			fprintf(o, "nsflow_collector_state{collector=\"%s\",state=\"%s\"} %d\n",
				ns_sink_url(a->sinks[i]), ns_sink_state_name(k),
				st[i].state == (enum ns_sink_state)k);
	free(st);
}

/* Per aggregation cache: flows held, records exported, counts added */
static void agg_metrics(struct agent *a, FILE *o)
{
	if (!a->n_aggs)
		return;
	counter(o, "nsflow_aggregation_flows", "Aggregated flows in each aggregation cache",
		"gauge");
	for (size_t i = 0; i < a->n_aggs; i++)
		fprintf(o, "nsflow_aggregation_flows{cache=\"%s\"} %zu\n",
			agg_cache_name(a->aggs[i]), agg_cache_count(a->aggs[i]));
	counter(o, "nsflow_aggregation_records_total",
		"Aggregated records exported by each aggregation cache", "counter");
	for (size_t i = 0; i < a->n_aggs; i++)
		fprintf(o, "nsflow_aggregation_records_total{cache=\"%s\"} %llu\n",
			agg_cache_name(a->aggs[i]),
			(unsigned long long)agg_cache_stats(a->aggs[i])->exported);
	counter(o, "nsflow_aggregation_packets_total", "Packets summed into each aggregation cache",
		"counter");
	for (size_t i = 0; i < a->n_aggs; i++)
		fprintf(o, "nsflow_aggregation_packets_total{cache=\"%s\"} %llu\n",
			agg_cache_name(a->aggs[i]),
			(unsigned long long)agg_cache_stats(a->aggs[i])->packets);
}

void metrics_write(struct agent *a, FILE *o)
{
	const struct flow_cache_stats *st = flow_cache_stats(a->cache);
	static const char *const fam[] = { "ipv4", "ipv6", "mpls" };
	static const char *const reason[] = { "",	"inactive",  "active", "tcp_fin_rst",
					      "forced", "cache_full" };
	char ifn[IF_NAMESIZE];
	struct agent_memory mem;

	agent_read_counters(a);
	counter(o, "nsflow_datapath_packets_total",
		"Packets by what the datapath did with them (all CPUs)", "counter");
	for (int i = 0; i < NSFLOW_CNT_MAX; i++)
		if (i != NSFLOW_CNT_NOT_METERED_OCTETS)
			fprintf(o, "nsflow_datapath_packets_total{counter=\"%s\"} %llu\n",
				nsflow_counter_names[i],
				(unsigned long long)(a->dp.c[i] - a->dp_base.c[i]));
	counter(o, "nsflow_not_metered_octets_total",
		"Octets of packets neither flow map nor ring buffer could take", "counter");
	fprintf(o, "nsflow_not_metered_octets_total %llu\n",
		(unsigned long long)(a->dp.c[NSFLOW_CNT_NOT_METERED_OCTETS] -
				     a->dp_base.c[NSFLOW_CNT_NOT_METERED_OCTETS]));
	counter(o, "nsflow_interface_packets_total", "Packets merged into flows", "counter");
	for (uint32_t i = 0; i < st->n_ifaces; i++)
		for (int d = 0; d < 2; d++)
			for (int f = 0; f < FLOW_FAMILY_MAX; f++) {
				const struct flow_iface_stats *s = &st->ifaces[i];

				if (!if_indextoname(s->ifindex, ifn))
					snprintf(ifn, sizeof(ifn), "%u", s->ifindex);
				fprintf(o,
					"nsflow_interface_packets_total{interface=\"%s\","
					"direction=\"%s\",family=\"%s\"} %llu\n"
					"nsflow_interface_octets_total{interface=\"%s\","
					"direction=\"%s\",family=\"%s\"} %llu\n",
					ifn, d ? "egress" : "ingress", fam[f],
					(unsigned long long)s->packets[d][f], ifn,
					d ? "egress" : "ingress", fam[f],
					(unsigned long long)s->octets[d][f]);
			}
	counter(o, "nsflow_cache_flows", "Flows in the agent's cache", "gauge");
	fprintf(o, "nsflow_cache_flows %zu\n", flow_cache_count(a->cache));
	counter(o, "nsflow_flows_created_total", "Flows created in the cache", "counter");
	fprintf(o, "nsflow_flows_created_total %llu\n", (unsigned long long)st->created);
	counter(o, "nsflow_flows_aged_total", "Flow records exported, by end reason", "counter");
	for (int r = 1; r <= 5; r++)
		fprintf(o, "nsflow_flows_aged_total{reason=\"%s\"} %llu\n", reason[r],
			(unsigned long long)st->expired[r]);
	agent_memory(a, &mem);
	counter(o, "nsflow_memory_bytes", "Memory in use, by part", "gauge");
	fprintf(o, "nsflow_memory_bytes{part=\"kernel_maps\"} %llu\n",
		(unsigned long long)mem.kernel);
	fprintf(o, "nsflow_memory_bytes{part=\"cache_region\"} %llu\n",
		(unsigned long long)mem.region);
	fprintf(o, "nsflow_memory_bytes{part=\"cache_index\"} %llu\n",
		(unsigned long long)mem.index);
	fprintf(o, "nsflow_memory_bytes{part=\"agent_rss\"} %llu\n", (unsigned long long)mem.rss);
	fprintf(o, "nsflow_memory_bytes{part=\"aggregation\"} %llu\n",
		(unsigned long long)mem.aggregation);
	counter(o, "nsflow_cache_entries", "Flows the cache can hold (--cache-entries)", "gauge");
	fprintf(o, "nsflow_cache_entries %u\n", a->cfg->cache_entries);
	counter(o, "nsflow_poll_seconds", "Duration of the last poll", "gauge");
	fprintf(o, "nsflow_poll_seconds %.6f\n", a->last_poll_ns / 1e9);
	counter(o, "nsflow_polls_total", "Epoch switches and drains", "counter");
	fprintf(o, "nsflow_polls_total %llu\n", (unsigned long long)a->polls);
	collector_metrics(a, o);
	agg_metrics(a, o);
}

/* The request itself does not matter: every path answers with the metrics */
static bool metrics_complete(const char *req, size_t len, bool eof)
{
	(void)len;
	return eof || strstr(req, "\r\n\r\n") || strstr(req, "\n\n");
}

static void metrics_answer(void *arg, char *req, char **out, size_t *len, size_t *off)
{
	char *body = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&body, &blen);

	(void)req;
	(void)off;
	if (!f)
		return;
	metrics_write(arg, f);
	fclose(f);
	f = open_memstream(out, len);
	if (f) {
		fprintf(f,
			"HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n",
			blen);
		fwrite(body, 1, blen, f);
		fclose(f);
	}
	free(body);
}

const struct conn_ops metrics_conn_ops = {
	.what = "metrics",
	.complete = metrics_complete,
	.answer = metrics_answer,
	.busy = "HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: "
		"close\r\n\r\n",
};
