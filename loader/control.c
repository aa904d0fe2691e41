// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "agg.h"
#include "control.h"
#include "exp_format.h"
#include "log.h"
#include "owner.h"

#define REQ_MAX 4096

int control_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	if (strrchr(dir, '/')) {
		*strrchr(dir, '/') = 0;
		mkdir(dir, 0700);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a socket that still answers belongs to a running agent; a dead one's is replaced */
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) || listen(fd, 64)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* Splits a request line into words. */
static int split(char *line, char **argv, int max)
{
	int n = 0;

	for (char *t = strtok(line, " \t\n"); t && n < max; t = strtok(NULL, " \t\n"))
		argv[n++] = t;
	return n;
}

static bool control_admit(int fd)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);

	/* root only: the socket's mode says so too, this holds even if it was changed */
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) && cred.uid == 0)
		return true;
	static const char no[] = "error\npermission denied (root only)\n";

	send(fd, no, sizeof(no) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	return false;
}

/* One line, or whatever came before the client shut its side */
static bool control_complete(const char *req, size_t len, bool eof)
{
	return eof || memchr(req, '\n', len);
}

/* The answer is "ok\n" or "error\n", then what the request printed */
static void control_answer(void *arg, char *req, char **out, size_t *len, size_t *off)
{
	char *argv[64];
	int argc = split(req, argv, 64), ret;
	FILE *f = open_memstream(out, len);

	if (!f)
		return;
	fputs("error\n", f); /* the status goes first, and is known last */
	ret = control_execute(arg, argc, argv, f);
	fclose(f);
	if (!ret && *out) {
		memcpy(*out + 3, "ok\n", 3);
		*off = 3;
	}
}

const struct conn_ops control_conn_ops = {
	.what = "control",
	.admit = control_admit,
	.complete = control_complete,
	.answer = control_answer,
	.busy = "error\nthe agent is still sending earlier answers: try again\n",
};

/* Reads the whole answer before printing it: a slow reader of ours never holds the agent up. */
static int control_exchange(const char *path, const char *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 0;
	char *buf = NULL, *body;
	int fd, status;
	ssize_t n;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "nsflow: control socket path too long: %s\n", path);
		return 2;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "nsflow: no running agent answers on %s: %s%s\n", path,
			strerror(errno),
			errno == EACCES ? " (root only)" : " (is `nsflow run` running?)");
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (write(fd, req, strlen(req)) < 0) {
		fprintf(stderr, "nsflow: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap + (cap < 65536 ? 65536 : cap));

			if (!nb) {
				fprintf(stderr, "nsflow: out of memory reading the answer\n");
				free(buf);
				close(fd);
				return 1;
			}
			buf = nb;
			cap += cap < 65536 ? 65536 : cap;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!len) {
		fprintf(stderr, "nsflow: the agent on %s closed the connection without an answer\n",
			path);
		free(buf);
		return 1;
	}
	buf[len] = 0;
	status = strncmp(buf, "ok\n", 3) ? 1 : 0;
	body = strchr(buf, '\n') ? strchr(buf, '\n') + 1 : buf + len;
	fwrite(body, 1, len - (size_t)(body - buf), status ? stderr : stdout);
	free(buf);
	return status;
}

/*
 * Which agent a `show`/`reset` is for: --control-socket PATH, else the agent of -p PIN_DIR, else
 * the only one running. 0 with path set, or an exit status with a message on stderr.
 */
static int control_locate(const char *pin_dir, const char *sock, char *path, size_t len)
{
	struct owner_holder h[16];
	size_t n;

	if (sock) {
		snprintf(path, len, "%s", sock);
		return 0;
	}
	if (pin_dir) {
		if (owner_of_pin_dir(pin_dir, &h[0]) && h[0].control_socket[0])
			snprintf(path, len, "%s", h[0].control_socket);
		else
			config_control_socket_for(pin_dir, path, len);
		return 0;
	}
	n = owner_list(h, 16);
	if (n == 1 && h[0].control_socket[0]) {
		snprintf(path, len, "%s", h[0].control_socket);
		return 0;
	}
	if (n > 1) {
		fprintf(stderr, "nsflow: %zu agents are running; say which with -p PIN_DIR:\n", n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "  pid %ld, pin dir %s (control socket %s)\n",
				(long)h[i].pid, h[i].pin_dir, h[i].control_socket);
		return 2;
	}
	/* none seen (or an agent whose lock we cannot see): the default one's socket */
	snprintf(path, len, "%s", CONFIG_DEFAULT_CONTROL_SOCKET);
	return 0;
}

int control_request(int argc, char **argv)
{
	const char *pin_dir = NULL, *sock = NULL;
	char req[REQ_MAX] = "", path[PATH_MAX];
	size_t len = 0;
	int ret;

	for (int i = 0; i < argc; i++) {
		const char *o = argv[i], **to = NULL;

		if (!strcmp(o, "-p") || !strcmp(o, "--pin-dir"))
			to = &pin_dir;
		else if (!strcmp(o, "--control-socket"))
			to = &sock;
		if (to) {
			if (i + 1 >= argc) {
				fprintf(stderr, "nsflow %s: %s needs a value\n", argv[0], o);
				return 2;
			}
			*to = argv[++i];
			continue;
		}
		if (!strncmp(o, "--pin-dir=", 10)) {
			pin_dir = o + 10;
			continue;
		}
		if (!strncmp(o, "--control-socket=", 17)) {
			sock = o + 17;
			continue;
		}
		if (len + strlen(o) + 2 >= sizeof(req)) {
			fprintf(stderr, "nsflow %s: request too long\n", argv[0]);
			return 2;
		}
		len += (size_t)snprintf(req + len, sizeof(req) - len, "%s%s", len ? " " : "", o);
	}
	ret = control_locate(pin_dir, sock, path, sizeof(path));
	if (ret)
		return ret;
	snprintf(req + len, sizeof(req) - len, "\n");
	return control_exchange(path, req);
}

static const char *ifname_of(uint32_t ifindex, char *buf)
{
	if (!ifindex || !if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "%u", ifindex);
	return buf;
}

enum show_sort { SHOW_SORT_NONE, SHOW_SORT_PACKETS, SHOW_SORT_OCTETS };

struct show_ctx {
	struct agent *a;
	FILE *out;
	bool json;
	bool by_vrf; /* --vrf: only flows of VRF vrf */
	uint32_t vrf;
	size_t n; /* flows that passed the filters */
	size_t printed;
	/* --sort / --top: flows held back, printed in order at the end. With --top N a min-heap
	 * of the N largest, so that memory stays N records whatever the cache holds. */
	enum show_sort sort;
	size_t top; /* 0: every flow */
	struct ns_record *held;
	size_t n_held, cap_held;
};

static uint64_t sort_key(const struct show_ctx *s, const struct ns_record *r)
{
	return s->sort == SHOW_SORT_OCTETS ? r->octets : r->packets;
}

static void show_print(struct show_ctx *s, const struct ns_record *r)
{
	char line[NS_LINE_MAX];

	if (s->json) {
		static struct ns_tmpl_set ipfix;
		static bool ready;

		/* JSON keys come from the same IE registry as the IPFIX templates */
		if (!ready && !ns_tmpl_set_init(&ipfix, NS_PROTO_IPFIX))
			ready = true;
		if (ready && ns_json_format(&ipfix, r, line, sizeof(line)) > 0)
			fputs(line, s->out);
	} else if (ns_text_format(&s->a->ctx, r, line, sizeof(line)) > 0) {
		if (!s->printed)
			fputs(ns_text_header(), s->out);
		fputs(line, s->out);
	}
	s->printed++;
}

static void heap_swap(struct ns_record *a, struct ns_record *b)
{
	struct ns_record t = *a;

	*a = *b;
	*b = t;
}

/* the smallest of the held flows at the root */
static void heap_down(struct show_ctx *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->n_held && sort_key(s, &s->held[l]) < sort_key(s, &s->held[m]))
			m = l;
		if (r < s->n_held && sort_key(s, &s->held[r]) < sort_key(s, &s->held[m]))
			m = r;
		if (m == i)
			return;
		heap_swap(&s->held[i], &s->held[m]);
		i = m;
	}
}

static int hold(struct show_ctx *s, const struct ns_record *r)
{
	if (s->top && s->n_held == s->top) {
		/* full: a flow larger than the smallest held takes its place */
		if (!s->sort || sort_key(s, r) <= sort_key(s, &s->held[0]))
			return 0;
		s->held[0] = *r;
		heap_down(s, 0);
		return 0;
	}
	if (s->n_held == s->cap_held) {
		size_t cap = s->cap_held ? s->cap_held * 2 : 1024;
		struct ns_record *h;

		if (s->top && cap > s->top)
			cap = s->top;
		h = realloc(s->held, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		s->held = h;
		s->cap_held = cap;
	}
	s->held[s->n_held++] = *r;
	if (s->top && s->n_held == s->top && s->sort)
		for (size_t i = s->top / 2 + 1; i-- > 0;)
			heap_down(s, i);
	return 0;
}

static int record_order(const void *a, const void *b, void *arg)
{
	uint64_t ka = sort_key(arg, a), kb = sort_key(arg, b);

	return ka < kb ? 1 : ka > kb ? -1 : 0;
}

static void show_record(struct show_ctx *s, const struct ns_record *r)
{
	s->n++;
	if ((s->sort || s->top) && !hold(s, r))
		return;
	show_print(s, r);
}

/* What --sort / --top held back, largest first */
static void show_held(struct show_ctx *s)
{
	if (s->sort)
		qsort_r(s->held, s->n_held, sizeof(*s->held), record_order, s);
	for (size_t i = 0; i < s->n_held; i++)
		show_print(s, &s->held[i]);
	free(s->held);
	s->held = NULL;
	s->n_held = s->cap_held = 0;
}

static int show_flow(void *arg, const struct flow_entry *e)
{
	struct show_ctx *s = arg;
	struct ns_record r;

	flow_entry_to_record(e, 0, s->a->boot_to_wall_ns, &r);
	/* the cache's view: totals since the flow was created, not the current period */
	r.packets = e->total_packets;
	r.octets = e->total_octets;
	if (s->by_vrf && !agent_vpn_in_vrf(s->a, &r, s->vrf))
		return 0;
	show_record(arg, &r);
	return 0;
}

struct show_agg_ctx {
	struct show_ctx *s;
	const struct flow_filter *f;
};

static int show_agg_flow(void *arg, const struct ns_record *r)
{
	struct show_agg_ctx *c = arg;

	if (flow_filter_match_record(c->f, r))
		show_record(c->s, r);
	return 0;
}

/* The aggregated flows of the caches of MODE[:v4|v6] (record: of the flexible record NAME) that
 * pass the filter */
static int show_aggregation(struct show_ctx *s, const char *which, bool record,
			    const struct flow_filter *f)
{
	char mode[64];
	const char *fam = strchr(which, ':');
	int m = -1;
	size_t total = 0, caches = 0;
	struct show_agg_ctx c = { s, f };

	snprintf(mode, sizeof(mode), "%.*s", fam ? (int)(fam - which) : (int)strlen(which), which);
	if (!record)
		m = ns_agg_mode_parse(mode);
	if ((!record && m < 0) || (fam && strcmp(fam, ":v4") && strcmp(fam, ":v6"))) {
		fprintf(s->out, "show cache: '%s' is not %s[:v4|v6]\n", which,
			record ? "NAME" : "MODE");
		return -EINVAL;
	}
	for (size_t i = 0; i < s->a->n_aggs; i++) {
		const struct agg_opts *o = agg_cache_opts(s->a->aggs[i]);

		if (record ? !o->flex || strcmp(o->flex->name, mode) : o->flex || o->mode != m)
			continue;
		if (fam && o->ipv6 != (fam[2] == '6'))
			continue;
		caches++;
		total += agg_cache_count(s->a->aggs[i]);
		agg_cache_foreach(s->a->aggs[i], show_agg_flow, &c);
	}
	if (!caches && record) {
		fprintf(s->out,
			"show cache: this agent has no record %s (give --record %s:match=...)\n",
			which, mode);
		return -ENOENT;
	}
	if (!caches) {
		fprintf(s->out,
			"show cache: this agent has no %s aggregation (give --aggregate %s)\n",
			which, which);
		return -ENOENT;
	}
	show_held(s);
	if (!s->json)
		fprintf(s->out, "%zu %s flow%s in the %s cache%s (of %zu)\n", s->n,
			record ? "flexible" : "aggregated", s->n == 1 ? "" : "s", which,
			caches > 1 ? "s" : "", total);
	return 0;
}

static int parse_addr_filter(const char *txt, uint8_t *addr, uint8_t *plen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	int len = -1;

	snprintf(buf, sizeof(buf), "%s", txt);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = 0;
		len = atoi(slash + 1);
	}
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr + 12) == 1) {
		addr[10] = addr[11] = 0xff;
		*plen = (uint8_t)(len < 0 || len > 32 ? 128 : 96 + len);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, addr) == 1) {
		*plen = (uint8_t)(len < 0 || len > 128 ? 128 : len);
		return 0;
	}
	return -EINVAL;
}

/* after the count of flows, when --top left some out */
static const char *top_note(const struct show_ctx *s)
{
	static char note[80];

	if (s->sort)
		snprintf(note, sizeof(note), ", the %zu with the most %s shown", s->printed,
			 s->sort == SHOW_SORT_OCTETS ? "bytes" : "packets");
	else
		snprintf(note, sizeof(note), ", the first %zu shown", s->printed);
	return note;
}

static int show_cache(struct agent *a, int argc, char **argv, FILE *out)
{
	struct show_ctx s = { .a = a, .out = out };
	struct flow_filter f = { 0 };
	const char *aggregation = NULL;
	bool record = false;

	for (int i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--json")) {
			s.json = true;
			continue;
		}
		if (!v) {
			fprintf(out, "show cache: %s needs a value\n", o);
			return -EINVAL;
		}
		i++;
		if (!strcmp(o, "--sort")) {
			if (!strcmp(v, "packets") || !strcmp(v, "octets") || !strcmp(v, "bytes")) {
				s.sort = v[0] == 'p' ? SHOW_SORT_PACKETS : SHOW_SORT_OCTETS;
			} else {
				fprintf(out, "show cache: --sort '%s' is not packets or octets\n",
					v);
				return -EINVAL;
			}
		} else if (!strcmp(o, "--top")) {
			char *end;
			unsigned long n = strtoul(v, &end, 10);

			if (*end || !n || n > 1000000) {
				fprintf(out, "show cache: --top '%s' is not 1..1000000\n", v);
				return -EINVAL;
			}
			s.top = n;
		} else if (!strcmp(o, "--aggregation") || !strcmp(o, "--record")) {
			aggregation = v;
			record = o[2] == 'r';
		} else if (!strcmp(o, "--src") || !strcmp(o, "--dst")) {
			bool src = o[2] == 's';

			if (parse_addr_filter(v, src ? f.src_addr : f.dst_addr,
					      src ? &f.src_prefix_len : &f.dst_prefix_len)) {
				fprintf(out, "show cache: '%s' is not an address[/len]\n", v);
				return -EINVAL;
			}
			f.fields |= src ? FLOW_FILTER_SRC_ADDR : FLOW_FILTER_DST_ADDR;
		} else if (!strcmp(o, "--sport") || !strcmp(o, "--dport")) {
			int port = atoi(v);

			if (port <= 0 || port > 65535) {
				fprintf(out, "show cache: port '%s' is not 1..65535\n", v);
				return -EINVAL;
			}
			if (o[2] == 's') {
				f.src_port = (uint16_t)port;
				f.fields |= FLOW_FILTER_SRC_PORT;
			} else {
				f.dst_port = (uint16_t)port;
				f.fields |= FLOW_FILTER_DST_PORT;
			}
		} else if (!strcmp(o, "--proto")) {
			struct protoent *pe = getprotobyname(v);
			int p = pe ? pe->p_proto : atoi(v);

			if (p <= 0 || p > 255) {
				fprintf(out, "show cache: unknown protocol '%s'\n", v);
				return -EINVAL;
			}
			f.protocol = (uint8_t)p;
			f.fields |= FLOW_FILTER_PROTOCOL;
		} else if (!strcmp(o, "--vni")) {
			char *end;
			unsigned long vni = strtoul(v, &end, 10);

			if (!*v || *end || vni > NSFLOW_VNI_MASK) {
				fprintf(out, "show cache: VNI '%s' is not 0..16777215\n", v);
				return -EINVAL;
			}
			f.vni = (uint32_t)vni;
			f.fields |= FLOW_FILTER_VNI;
		} else if (!strcmp(o, "--interface")) {
			f.ifindex = if_nametoindex(v);
			if (!f.ifindex) {
				fprintf(out, "show cache: interface '%s' does not exist\n", v);
				return -EINVAL;
			}
			f.fields |= FLOW_FILTER_IFINDEX;
		} else if (!strcmp(o, "--vrf")) {
			if (agent_vrf_id_of(a, v, &s.vrf)) {
				fprintf(out,
					"show cache: no VPN instance or VRF device '%s' (nor a VRF "
					"id)\n",
					v);
				return -EINVAL;
			}
			s.by_vrf = true;
		} else {
			fprintf(out,
				"show cache: unknown filter '%s' (use --src ADDR[/LEN], --dst "
				"ADDR[/LEN], --sport N, --dport N, --proto NAME|N, --vni N, "
				"--interface IFACE, --vrf NAME|ID, --json, --aggregation "
				"MODE[:v4|v6], --record NAME[:v4|v6], --sort packets|octets, --top "
				"N)\n",
				o);
			return -EINVAL;
		}
	}
	if (aggregation && s.by_vrf) {
		fprintf(out, "show cache: --vrf picks original flows, not aggregated ones\n");
		return -EINVAL;
	}
	if (aggregation)
		return show_aggregation(&s, aggregation, record, &f);
	flow_cache_foreach(a->cache, &f, show_flow, &s);
	show_held(&s);
	if (!s.json)
		fprintf(out, "%zu flow%s in the cache (of %zu)%s\n", s.n, s.n == 1 ? "" : "s",
			flow_cache_count(a->cache), s.printed < s.n ? top_note(&s) : "");
	return 0;
}

static void show_memory(struct agent *a, FILE *out)
{
	struct agent_memory m;
	size_t flows = flow_cache_count(a->cache);
	uint32_t entries = a->cfg->cache_entries;

	agent_memory(a, &m);
	fprintf(out, "\nmemory (bytes; per flow of the %u-flow cache%s):\n", entries,
		flows ? ", and per cached flow" : "");
	fprintf(out, "  %-28s %12llu  %6.1f", "kernel, datapath maps", (unsigned long long)m.kernel,
		(double)m.kernel / entries);
	if (flows)
		fprintf(out, "  %8.1f", (double)m.kernel / flows);
	fprintf(out, "\n  %-28s %12llu  %6.1f\n", "flow cache region (mapped)",
		(unsigned long long)m.region, (double)m.region / entries);
	fprintf(out, "  %-28s %12llu  %6.1f\n", "flow cache index", (unsigned long long)m.index,
		(double)m.index / entries);
	if (m.aggregation)
		fprintf(out, "  %-28s %12llu\n", "aggregation caches, routes",
			(unsigned long long)m.aggregation);
	fprintf(out, "  %-28s %12llu\n", "agent resident (RSS)", (unsigned long long)m.rss);
}

/* One line per aggregation cache */
static void show_agg_stats(struct agent *a, FILE *out)
{
	if (!a->n_aggs)
		return;
	fprintf(out, "\n\n%-30s %9s %10s %10s %14s %18s  %s\n", "aggregation", "flows", "created",
		"exported", "packets", "octets", "aged");
	for (size_t i = 0; i < a->n_aggs; i++) {
		const struct agg_stats *st = agg_cache_stats(a->aggs[i]);

		fprintf(out, "%-30s %9zu %10llu %10llu %14llu %18llu ", agg_cache_name(a->aggs[i]),
			agg_cache_count(a->aggs[i]), (unsigned long long)st->created,
			(unsigned long long)st->exported, (unsigned long long)st->packets,
			(unsigned long long)st->octets);
		for (int r = 1; r < NS_END_REASONS; r++)
			fprintf(out, " %s %llu", ns_end_reason_name((uint8_t)r),
				(unsigned long long)st->expired[r]);
		fputc('\n', out);
	}
}

static void show_stats(struct agent *a, FILE *out)
{
	const struct flow_cache_stats *st = flow_cache_stats(a->cache);
	static const char *const fam[] = { "ipv4", "ipv6", "mpls" };
	char ifn[IF_NAMESIZE];

	agent_read_counters(a);
	fprintf(out, "%-12s %-8s %-5s %14s %18s\n", "interface", "dir", "type", "packets",
		"octets");
	for (uint32_t i = 0; i < st->n_ifaces; i++)
		for (int d = 0; d < 2; d++)
			for (int f = 0; f < FLOW_FAMILY_MAX; f++)
				if (st->ifaces[i].packets[d][f])
					fprintf(out, "%-12s %-8s %-5s %14llu %18llu\n",
						ifname_of(st->ifaces[i].ifindex, ifn),
						d ? "egress" : "ingress", fam[f],
						(unsigned long long)st->ifaces[i].packets[d][f],
						(unsigned long long)st->ifaces[i].octets[d][f]);
	fprintf(out, "\nflows: %zu in cache, %llu created, %llu exported\n",
		flow_cache_count(a->cache), (unsigned long long)st->created,
		(unsigned long long)st->exported);
	fprintf(out, "aged:");
	for (int r = 1; r < NS_END_REASONS; r++)
		fprintf(out, " %s %llu", ns_end_reason_name((uint8_t)r),
			(unsigned long long)st->expired[r]);
	if (a->cfg->no_original)
		fprintf(out, "\n(--no-original: original flows are aged but not exported)");
	show_agg_stats(a, out);
	agent_vpn_show_stats(a, out);
	fprintf(out, "\n\ndatapath counters (all CPUs):\n");
	for (int i = 0; i < NSFLOW_CNT_MAX; i++)
		fprintf(out, "  %-20s %llu\n", nsflow_counter_names[i],
			(unsigned long long)(a->dp.c[i] - a->dp_base.c[i]));
	fprintf(out,
		"\nagent: %llu polls (last %.1f ms), %llu entries drained, %llu map-full events\n",
		(unsigned long long)a->polls, a->last_poll_ns / 1e6,
		(unsigned long long)a->drained_flows, (unsigned long long)a->events);
	show_memory(a, out);
}

static void show_interfaces(struct agent *a, FILE *out)
{
	const struct nsflow_config *c = a->cfg;

	fprintf(out, "%-16s %-8s %-16s %-8s %-20s %s\n", "interface", "ifindex", "ingress",
		"egress", "sampling", "mpls/srv6/vxlan");
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct config_iface *f = &c->ifaces[i];
		struct nsflow_cfg v;
		char samp[32];

		if (f->gone)
			continue;
		config_iface_cfg(c, f, &v);
		config_sample_name(v.sample_mode, v.sample_param, samp, sizeof(samp));
		if (v.sample_mode == NSFLOW_SAMPLE_TIME) {
			struct ns_record r;

			/* the rate announced to collectors, measured */
			sampler_name_record(a, &r, f->ifindex, NSFLOW_DIR_INGRESS);
			if (r.sampling_interval)
				snprintf(samp + strlen(samp), sizeof(samp) - strlen(samp),
					 " (1 in %u)", r.sampling_interval);
		}
		fprintf(out, "%-16s %-8u %-16s %-8s %-20s %s/%s/%s:%u\n", f->name, f->ifindex,
			f->hook ? f->hook : "-", c->egress ? "tc" : "-", samp,
			config_mpls_mode_name(v.mpls_mode), config_srv6_mode_name(v.srv6_mode),
			config_vxlan_mode_name(v.vxlan_mode), v.vxlan_port);
	}
}

static void show_collectors(struct agent *a, FILE *out)
{
	fprintf(out, "%-32s %-9s %10s %12s %8s %8s %10s  %s\n", "collector", "state", "messages",
		"records", "errors", "dropped", "templates", "last error");
	for (size_t i = 0; i < a->n_sinks; i++) {
		struct ns_sink_stats st;

		ns_sink_get_stats(a->sinks[i], &st);
		fprintf(out, "%-32s %-9s %10llu %12llu %8llu %8llu %10llu  %s\n",
			ns_sink_url(a->sinks[i]), ns_sink_state_name(st.state),
			(unsigned long long)st.messages_sent, (unsigned long long)st.records_sent,
			(unsigned long long)st.send_errors, (unsigned long long)st.records_dropped,
			(unsigned long long)st.templates_sent,
			st.last_errno ? strerror(st.last_errno) : "-");
	}
}

int control_execute(struct agent *a, int argc, char **argv, FILE *out)
{
	const char *verb = argc > 0 ? argv[0] : "", *what = argc > 1 ? argv[1] : "";

	if (!strcmp(verb, "show") && !strcmp(what, "cache"))
		return show_cache(a, argc - 2, argv + 2, out);
	if (!strcmp(verb, "show") && !strcmp(what, "stats")) {
		show_stats(a, out);
		return 0;
	}
	if (!strcmp(verb, "show") && !strcmp(what, "interfaces")) {
		show_interfaces(a, out);
		return 0;
	}
	if (!strcmp(verb, "show") && !strcmp(what, "collectors")) {
		show_collectors(a, out);
		return 0;
	}
	if (!strcmp(verb, "reset") && !strcmp(what, "cache")) {
		size_t n;

		/* what the kernel holds now belongs to the flows being aged out */
		agent_poll(a, agent_clock_ns());
		n = flow_cache_count(a->cache);
		agent_flush_all(a, NS_END_FORCED);
		fprintf(out, "%zu flow%s aged out and exported\n", n, n == 1 ? "" : "s");
		return 0;
	}
	if (!strcmp(verb, "reset") && !strcmp(what, "stats")) {
		flow_cache_reset_stats(a->cache);
		a->n_vrf_stats = 0;
		agent_read_counters(a);
		a->dp_base = a->dp;
		a->polls = a->drained_flows = a->events = 0;
		fprintf(out, "statistics reset\n");
		return 0;
	}
	fprintf(out,
		"unknown request '%s %s' (show cache|stats|interfaces|collectors, reset "
		"cache|stats)\n",
		verb, what);
	return -EINVAL;
}
