// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "collectors.h"
#include "pcap.h"
#include "pkt.h"

/* flows */

int coll_key_set(struct coll_key *k, const char *src, const char *dst, int proto, int sport,
		 int dport)
{
	uint8_t *addr[2] = { k->src, k->dst };
	const char *txt[2] = { src, dst };

	memset(k, 0, sizeof(*k));
	for (int i = 0; i < 2; i++) {
		if (inet_pton(AF_INET, txt[i], addr[i] + 12) == 1)
			addr[i][10] = addr[i][11] = 0xff;
		else if (inet_pton(AF_INET6, txt[i], addr[i]) != 1)
			return -EINVAL;
	}
	k->proto = (uint8_t)proto;
	k->sport = (uint16_t)sport;
	k->dport = (uint16_t)dport;
	return 0;
}

static bool is_v4(const uint8_t *a)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, prefix, 12);
}

static void addr_str(const uint8_t *a, char *buf, size_t len)
{
	if (is_v4(a))
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}

void coll_key_str(const struct coll_key *k, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	addr_str(k->src, s, sizeof(s));
	addr_str(k->dst, d, sizeof(d));
	snprintf(buf, len, "proto %u %s:%u -> %s:%u", k->proto, s, k->sport, d, k->dport);
}

static struct coll_flow *find(const struct coll_flows *s, const struct coll_key *k)
{
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(&s->f[i].k, k, sizeof(*k)))
			return &s->f[i];
	return NULL;
}

const struct coll_flow *coll_flows_find(const struct coll_flows *s, const struct coll_key *k)
{
	return find(s, k);
}

struct coll_flow *coll_flows_add(struct coll_flows *s, const struct coll_key *k, int ip_version,
				 uint64_t packets, uint64_t bytes)
{
	struct coll_flow *f = find(s, k);

	if (!f) {
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 64;
			s->f = realloc(s->f, s->cap * sizeof(*s->f));
			if (!s->f)
				abort();
		}
		f = &s->f[s->n++];
		memset(f, 0, sizeof(*f));
		f->k = *k;
		f->ip_version = ip_version;
		f->n_mpls = -2; /* not seen yet */
	}
	f->packets += packets;
	f->bytes += bytes;
	f->records++;
	return f;
}

void coll_flow_mpls(struct coll_flow *f, const uint32_t *labels, int n)
{
	if (n > COLL_MPLS_MAX)
		n = COLL_MPLS_MAX;
	if (f->n_mpls == -2) {
		f->n_mpls = n;
		memcpy(f->mpls, labels, (size_t)n * sizeof(*labels));
	} else if (f->n_mpls != n || memcmp(f->mpls, labels, (size_t)n * sizeof(*labels))) {
		f->n_mpls = -1;
	}
}

void coll_flow_times(struct coll_flow *f, uint64_t first_ms, uint64_t last_ms)
{
	if (!f->first_ms || first_ms < f->first_ms)
		f->first_ms = first_ms;
	if (last_ms > f->last_ms)
		f->last_ms = last_ms;
}

void coll_flows_totals(const struct coll_flows *s, uint64_t *packets, uint64_t *bytes)
{
	*packets = *bytes = 0;
	for (size_t i = 0; i < s->n; i++) {
		*packets += s->f[i].packets;
		*bytes += s->f[i].bytes;
	}
}

void coll_flows_only_version(const struct coll_flows *in, int ip_version, struct coll_flows *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < in->n; i++)
		if (in->f[i].ip_version == ip_version)
			*coll_flows_add(out, &in->f[i].k, ip_version, 0, 0) = in->f[i];
}

static int mpls_differs(const struct coll_flow *w, const struct coll_flow *g)
{
	if (w->n_mpls <= 0)
		return g->n_mpls > 0;
	if (g->n_mpls < w->n_mpls)
		return 1;
	/* a collector may show unused label fields as label 0 */
	for (int i = 0; i < g->n_mpls; i++)
		if (i < w->n_mpls ? g->mpls[i] != w->mpls[i] : g->mpls[i] != 0)
			return 1;
	return 0;
}

int coll_flows_diff(const struct coll_flows *want, const struct coll_flows *got, unsigned int cmp,
		    const char *who, char *why, size_t len)
{
	char ks[160];

	for (size_t i = 0; i < want->n; i++) {
		const struct coll_flow *w = &want->f[i], *g = find(got, &w->k);

		coll_key_str(&w->k, ks, sizeof(ks));
		if (!g) {
			snprintf(why, len, "%s: no flow %s (want %llu packets, %llu bytes)", who,
				 ks, (unsigned long long)w->packets, (unsigned long long)w->bytes);
			return -1;
		}
		if (g->packets != w->packets || g->bytes != w->bytes) {
			snprintf(why, len, "%s: %s has %llu packets, %llu bytes; want %llu, %llu",
				 who, ks, (unsigned long long)g->packets,
				 (unsigned long long)g->bytes, (unsigned long long)w->packets,
				 (unsigned long long)w->bytes);
			return -1;
		}
		if ((cmp & COLL_CMP_MPLS) && w->n_mpls >= 0 && mpls_differs(w, g)) {
			snprintf(why, len, "%s: %s has %d labels (top %u), want %d (top %u)", who,
				 ks, g->n_mpls, g->n_mpls > 0 ? g->mpls[0] : 0, w->n_mpls,
				 w->n_mpls > 0 ? w->mpls[0] : 0);
			return -1;
		}
		if ((cmp & COLL_CMP_TIMES) &&
		    (g->first_ms != w->first_ms || g->last_ms != w->last_ms)) {
			snprintf(why, len, "%s: %s first/last %llu/%llu ms, want %llu/%llu", who,
				 ks, (unsigned long long)g->first_ms,
				 (unsigned long long)g->last_ms, (unsigned long long)w->first_ms,
				 (unsigned long long)w->last_ms);
			return -1;
		}
	}
	for (size_t i = 0; i < got->n; i++) {
		if (find(want, &got->f[i].k))
			continue;
		coll_key_str(&got->f[i].k, ks, sizeof(ks));
		snprintf(why, len, "%s: unexpected flow %s (%llu packets)", who, ks,
			 (unsigned long long)got->f[i].packets);
		return -1;
	}
	return 0;
}

void coll_flows_free(struct coll_flows *s)
{
	free(s->f);
	memset(s, 0, sizeof(*s));
}

/* tshark */

enum {
	T_TIME,
	T_PROTOS,
	T_IPSRC,
	T_IPDST,
	T_IPPROTO,
	T_IPLEN,
	T_FRAG,
	T_I6SRC,
	T_I6DST,
	T_PLEN,
	T_TSP,
	T_TDP,
	T_USP,
	T_UDP,
	T_SSP,
	T_SDP,
	T_ICT,
	T_ICC,
	T_I6T,
	T_I6C,
	T_MPLS,
	T_MALF,
	T_N
};

#define TSHARK_FIELDS                                                                              \
	"-e frame.time_epoch -e frame.protocols -e ip.src -e ip.dst -e ip.proto -e ip.len "        \
	"-e ip.frag_offset -e ipv6.src -e ipv6.dst -e ipv6.plen -e tcp.srcport -e tcp.dstport "    \
	"-e udp.srcport -e udp.dstport -e sctp.srcport -e sctp.dstport -e icmp.type -e icmp.code " \
	"-e icmpv6.type -e icmpv6.code -e mpls.label -e _ws.malformed"

/* i-th element of a comma-aggregated tshark field as a number, or -1 */
static long nth_num(const char *field, int i)
{
	while (i-- > 0) {
		field = strchr(field, ',');
		if (!field)
			return -1;
		field++;
	}
	return *field && *field != ',' ? strtol(field, NULL, 0) : -1;
}

static void nth_str(const char *field, int i, char *out, size_t len)
{
	while (i-- > 0 && field) {
		field = strchr(field, ',');
		if (field)
			field++;
	}
	snprintf(out, len, "%.*s", field ? (int)strcspn(field, ",") : 0, field ? field : "");
}

static const struct {
	const char *name;
	int proto;
} l4_names[] = { { "tcp", 6 },	  { "udp", 17 },  { "icmp", 1 }, { "icmpv6", 58 },
		 { "sctp", 132 }, { "ipv6", 41 }, { "ip", 4 },	 { "gre", 47 },
		 { "esp", 50 },	  { "igmp", 2 },  { "pim", 103 } };

/* The first network layer and the protocol after it and its extension headers. */
static int read_layers(const char *protos, int *l3, int *next)
{
	char buf[512], *save = NULL, *tok;

	*l3 = 0;
	*next = -1;
	snprintf(buf, sizeof(buf), "%s", protos);
	for (tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		if (!*l3) {
			if (!strcmp(tok, "ip") || !strcmp(tok, "ipv6"))
				*l3 = tok[2] ? 6 : 4;
			else if (strcmp(tok, "eth") && strcmp(tok, "ethertype") &&
				 strcmp(tok, "vlan") && strcmp(tok, "ieee8021ad") &&
				 strcmp(tok, "mpls") && strcmp(tok, "ppp") && strcmp(tok, "sll"))
				return 0;
			continue;
		}
		if (!strncmp(tok, "ipv6.", 5))
			continue;
		for (size_t i = 0; i < sizeof(l4_names) / sizeof(l4_names[0]); i++)
			if (!strcmp(tok, l4_names[i].name))
				*next = l4_names[i].proto;
		break;
	}
	/* IPv4 names its protocol itself (later fragments show as "data"); IPv6 must be known */
	return !*l3 ? 0 : *l3 == 4 || *next >= 0 ? 1 : -1;
}

static uint64_t epoch_ms(const char *t)
{
	uint64_t ms = strtoull(t, NULL, 10) * 1000;
	const char *dot = strchr(t, '.');

	/* floor to the millisecond, as the datapath does with nanoseconds */
	for (int i = 0, scale = 100; dot && i < 3 && dot[1 + i] >= '0' && dot[1 + i] <= '9';
	     i++, scale /= 10)
		ms += (uint64_t)(dot[1 + i] - '0') * scale;
	return ms;
}

static void expect_frame(char **f, struct coll_flows *out, struct coll_expect_stats *st)
{
	struct coll_flow *flow;
	struct coll_key k;
	char src[64], dst[64];
	uint32_t labels[COLL_MPLS_MAX];
	long sport = 0, dport = 0, proto, len;
	int l3, next, n = 0, r = read_layers(f[T_PROTOS], &l3, &next);

	if (f[T_MALF][0])
		st->damaged++;
	if (r <= 0) {
		st->skipped += r < 0;
		return;
	}
	nth_str(f[l3 == 4 ? T_IPSRC : T_I6SRC], 0, src, sizeof(src));
	nth_str(f[l3 == 4 ? T_IPDST : T_I6DST], 0, dst, sizeof(dst));
	proto = l3 == 4 ? nth_num(f[T_IPPROTO], 0) : next;
	len = l3 == 4 ? nth_num(f[T_IPLEN], 0) : 40 + nth_num(f[T_PLEN], 0);
	if (next == 6 || next == 17 || next == 132) {
		int c = next == 6 ? T_TSP : next == 17 ? T_USP : T_SSP;

		sport = nth_num(f[c], 0);
		dport = nth_num(f[c + 1], 0);
	} else if (next == 1 || next == 58) {
		dport = nth_num(f[next == 1 ? T_ICT : T_I6T], 0) << 8 |
			nth_num(f[next == 1 ? T_ICC : T_I6C], 0);
	}
	/* later fragments carry no transport header */
	if (l3 == 4 && nth_num(f[T_FRAG], 0) > 0)
		sport = dport = 0;
	if (coll_key_set(&k, src, dst, (int)proto, (int)sport, (int)dport) || len < 0 ||
	    sport < 0 || dport < 0) {
		st->skipped++;
		return;
	}
	flow = coll_flows_add(out, &k, l3, 1, (uint64_t)len);
	while (n < COLL_MPLS_MAX && nth_num(f[T_MPLS], n) >= 0) {
		labels[n] = (uint32_t)nth_num(f[T_MPLS], n);
		n++;
	}
	coll_flow_mpls(flow, labels, n);
	coll_flow_times(flow, epoch_ms(f[T_TIME]), epoch_ms(f[T_TIME]));
	st->ip++;
}

int coll_tshark_flows(const char *capture, struct coll_flows *out, struct coll_expect_stats *st)
{
	char *text = NULL, *line, *save = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(st, 0, sizeof(*st));
	ret = coll_run(&text,
		       "tshark -r '%s' -o ip.defragment:FALSE -o ipv6.defragment:FALSE -T fields "
		       "-E separator=/t -E occurrence=a -E aggregator=, " TSHARK_FIELDS
		       " 2>/dev/null",
		       capture);
	if (ret || !text) {
		free(text);
		return -EIO;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[T_N], *s = line;

		for (int i = 0; i < T_N; i++) {
			f[i] = s ? s : (char *)"";
			if (s && (s = strchr(s, '\t')))
				*s++ = 0;
		}
		st->frames++;
		expect_frame(f, out, st);
	}
	free(text);
	return 0;
}

/* JSON, as nsflow and nfdump write it: flat objects, MPLS entries as small nested ones */

int coll_json_value(const char *obj, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);
	const char *p = obj;

	while ((p = strchr(p, '"'))) {
		const char *v = p + 1 + kl;

		if (strncmp(p + 1, key, kl) || *v != '"') {
			p++;
			continue;
		}
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v++ != ':')
			return -ENOENT;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == '"')
			snprintf(out, len, "%.*s", (int)strcspn(v + 1, "\""), v + 1);
		else if (*v == '{')
			snprintf(out, len, "%.*s", (int)strcspn(v, "}") + 1, v);
		else
			snprintf(out, len, "%.*s", (int)strcspn(v, ",} \t\n"), v);
		return 0;
	}
	return -ENOENT;
}

static uint64_t json_u64(const char *obj, const char *key)
{
	char v[64];

	return coll_json_value(obj, key, v, sizeof(v)) ? 0 : strtoull(v, NULL, 0);
}

static void json_sink_record(const char *obj, struct coll_flows *out)
{
	static const char *const mpls_keys[COLL_MPLS_MAX] = { "mplsTopLabelStackSection",
							      "mplsLabelStackSection2",
							      "mplsLabelStackSection3" };
	char src[64], dst[64], sect[128];
	uint32_t labels[COLL_MPLS_MAX];
	struct coll_flow *f;
	struct coll_key k;
	int v6 = coll_json_value(obj, "sourceIPv4Address", src, sizeof(src)) != 0, n = 0;
	uint64_t dport = json_u64(obj, "destinationTransportPort");

	if (v6 && coll_json_value(obj, "sourceIPv6Address", src, sizeof(src)))
		return;
	if (coll_json_value(obj, v6 ? "destinationIPv6Address" : "destinationIPv4Address", dst,
			    sizeof(dst)))
		return;
	dport |= json_u64(obj, v6 ? "icmpTypeCodeIPv6" : "icmpTypeCodeIPv4");
	if (coll_key_set(&k, src, dst, (int)json_u64(obj, "protocolIdentifier"),
			 (int)json_u64(obj, "sourceTransportPort"), (int)dport))
		return;
	f = coll_flows_add(out, &k, v6 ? 6 : 4, json_u64(obj, "packetDeltaCount"),
			   json_u64(obj, "octetDeltaCount"));
	while (n < COLL_MPLS_MAX && !coll_json_value(obj, mpls_keys[n], sect, sizeof(sect))) {
		labels[n] = (uint32_t)json_u64(sect, "label");
		n++;
	}
	coll_flow_mpls(f, labels, n);
	coll_flow_times(f, json_u64(obj, "flowStartMilliseconds"),
			json_u64(obj, "flowEndMilliseconds"));
}

int coll_json_sink_flows(const char *path, struct coll_flows *out)
{
	char *text = coll_slurp(path, NULL), *line, *save = NULL;

	memset(out, 0, sizeof(*out));
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		json_sink_record(line, out);
	free(text);
	return 0;
}

/* nfdump prints local time: the command runs with TZ=UTC */
static uint64_t nfdump_time_ms(const char *t)
{
	struct tm tm = { 0 };
	unsigned int ms = 0;

	if (sscanf(t, "%d-%d-%dT%d:%d:%d.%u", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (uint64_t)timegm(&tm) * 1000 + ms;
}

static void nfdump_record(const char *obj, struct coll_flows *out)
{
	char src[64], dst[64], v[64];
	uint32_t labels[COLL_MPLS_MAX];
	struct coll_flow *f;
	struct coll_key k;
	int v6 = coll_json_value(obj, "src4_addr", src, sizeof(src)) != 0, n = 0;
	int proto = (int)json_u64(obj, "proto"), dport = (int)json_u64(obj, "dst_port");

	if (v6 && coll_json_value(obj, "src6_addr", src, sizeof(src)))
		return;
	if (coll_json_value(obj, v6 ? "dst6_addr" : "dst4_addr", dst, sizeof(dst)))
		return;
	if (proto == 1 || proto == 58)
		dport = (int)(json_u64(obj, "icmp_type") << 8 | json_u64(obj, "icmp_code"));
	if (coll_key_set(&k, src, dst, proto, (int)json_u64(obj, "src_port"), dport))
		return;
	f = coll_flows_add(out, &k, v6 ? 6 : 4, json_u64(obj, "in_packets"),
			   json_u64(obj, "in_bytes"));
	for (; n < COLL_MPLS_MAX; n++) {
		char key[16];

		snprintf(key, sizeof(key), "mpls_%d", n + 1);
		if (coll_json_value(obj, key, v, sizeof(v)))
			break;
		labels[n] = (uint32_t)strtoul(v, NULL, 10); /* "label-exp-bos" */
	}
	/* v5 has no label fields at all, and nfdump leaves them out */
	if (n)
		coll_flow_mpls(f, labels, n);
	coll_json_value(obj, "first", v, sizeof(v));
	coll_flow_times(f, nfdump_time_ms(v), 0);
	coll_json_value(obj, "last", v, sizeof(v));
	coll_flow_times(f, f->first_ms, nfdump_time_ms(v));
}

int coll_nfdump_flows(const char *dir, struct coll_flows *out)
{
	char *text = NULL, *p, *end;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = coll_run(&text, "TZ=UTC timeout 60 nfdump -R '%s' -q -N -o json 2>&1", dir);
	if (ret || !text) {
		free(text);
		return -EIO;
	}
	/* one object per flow, "{" and "}" on lines of their own */
	for (p = text; (p = strstr(p, "\"type\"")); p = end) {
		end = strstr(p, "\n}");
		if (!end)
			break;
		*end++ = 0;
		nfdump_record(p, out);
	}
	free(text);
	return 0;
}

int coll_pmacct_csv_flows(const char *path, struct coll_flows *out)
{
	char *text = coll_slurp(path, NULL), *line, *save = NULL;

	memset(out, 0, sizeof(*out));
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char src[64], dst[64];
		unsigned long long pk, by;
		int sp, dp, pr;
		struct coll_key k;

		/* SRC_IP,DST_IP,SRC_PORT,DST_PORT,PROTOCOL,PACKETS,BYTES; a header per purge */
		if (sscanf(line, "%63[^,],%63[^,],%d,%d,%d,%llu,%llu", src, dst, &sp, &dp, &pr, &pk,
			   &by) != 7 ||
		    coll_key_set(&k, src, dst, pr, sp, dp))
			continue;
		coll_flows_add(out, &k, strchr(src, ':') ? 6 : 4, pk, by);
	}
	free(text);
	return 0;
}

void coll_dec_record_flow(const struct ns_dec_record *r, struct coll_flows *out)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const uint8_t *s, *d;
	uint32_t labels[COLL_MPLS_MAX];
	struct coll_flow *f;
	struct coll_key k;
	size_t len;
	int v6 = 0, n = 0, proto;

	if (r->tmpl->n_scope)
		return;
	s = ns_dec_field(r, 8, &len);
	d = ns_dec_field(r, 12, &len);
	if (!s || !d) {
		s = ns_dec_field(r, 27, &len);
		d = ns_dec_field(r, 28, &len);
		v6 = 1;
	}
	if (!s || !d)
		return;
	inet_ntop(v6 ? AF_INET6 : AF_INET, s, src, sizeof(src));
	inet_ntop(v6 ? AF_INET6 : AF_INET, d, dst, sizeof(dst));
	proto = (int)ns_dec_uint(r, 4, 0);
	if (coll_key_set(
		    &k, src, dst, proto, (int)ns_dec_uint(r, 7, 0),
		    (int)(ns_dec_uint(r, 11, 0) | ns_dec_uint(r, 139, 0) | ns_dec_uint(r, 32, 0))))
		return;
	f = coll_flows_add(out, &k, v6 ? 6 : 4, ns_dec_uint(r, 2, 0), ns_dec_uint(r, 1, 0));
	for (; n < COLL_MPLS_MAX && (s = ns_dec_field(r, (uint16_t)(70 + n), &len)) && len == 3;
	     n++)
		labels[n] = (uint32_t)(s[0] << 12 | s[1] << 4 | s[2] >> 4);
	if (n)
		coll_flow_mpls(f, labels, n);
}

/* processes */

int coll_spawn(struct coll_proc *p, const char *log, char *const argv[])
{
	pid_t pid;
	int fd;

	memset(p, 0, sizeof(*p));
	snprintf(p->log, sizeof(p->log), "%s", log);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fd);
		return -errno;
	}
	if (!pid) {
		dup2(fd, 1);
		dup2(fd, 2);
		/* a test killed half way must not leave collectors behind */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd);
	p->pid = pid;
	return 0;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

bool coll_alive(struct coll_proc *p)
{
	if (p->pid <= 0)
		return false;
	if (waitpid(p->pid, &p->status, WNOHANG) == p->pid) {
		p->pid = -p->pid;
		return false;
	}
	return true;
}

int coll_stop(struct coll_proc *p, int sig, int timeout_ms)
{
	uint64_t deadline = coll_now_ms() + (uint64_t)timeout_ms;

	if (p->pid == 0)
		return -1;
	if (p->pid < 0)
		return exit_code(p->status);
	kill(p->pid, sig);
	while (coll_now_ms() < deadline) {
		if (waitpid(p->pid, &p->status, WNOHANG) == p->pid) {
			p->pid = -p->pid;
			return exit_code(p->status);
		}
		usleep(10000);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &p->status, 0);
	p->pid = -p->pid;
	return -1;
}

int coll_wait_log(const struct coll_proc *p, const char *needle, int timeout_ms)
{
	uint64_t deadline = coll_now_ms() + (uint64_t)timeout_ms;

	do {
		char *text = coll_slurp(p->log, NULL);
		bool found = text && strstr(text, needle);

		free(text);
		if (found)
			return 0;
		usleep(20000);
	} while (coll_now_ms() < deadline);
	return -ETIMEDOUT;
}

int coll_run(char **out, const char *fmt, ...)
{
	char cmd[4096], *buf = NULL;
	size_t len = 0, cap = 0, n;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -errno;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		if (!n)
			break;
		len += n;
	}
	buf[len] = 0;
	st = pclose(f);
	if (out)
		*out = buf;
	else
		free(buf);
	return st < 0 ? -errno : exit_code(st);
}

char *coll_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r);
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* sockets */

uint64_t coll_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int bind_lo(int socktype, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, socktype | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (socktype == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int coll_pick_port(int socktype, int first, int last)
{
	for (int port = first; port <= last; port++) {
		int fd = bind_lo(socktype, port);

		if (fd >= 0) {
			close(fd);
			return port;
		}
	}
	return -EADDRINUSE;
}

int coll_udp_listen(int port)
{
	int fd = bind_lo(SOCK_DGRAM, port), size = 8 << 20;

	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return fd;
}

/* The line of /proc/net/udp for 127.0.0.1:port: its receive queue and drop count. */
static int udp_socket_state(int port, uint64_t *rx_queue, uint64_t *drops)
{
	char *text = coll_slurp("/proc/net/udp", NULL), *line, *save = NULL, want[32];
	int found = -ENOENT;

	if (!text)
		return -errno;
	snprintf(want, sizeof(want), "0100007F:%04X", port);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long tx, rx, d = 0;
		char local[32];
		char *last;

		if (sscanf(line, " %*d: %31s %*s %*x %llx:%llx", local, &tx, &rx) != 3 ||
		    strcmp(local, want))
			continue;
		last = strrchr(line, ' ');
		if (last)
			d = strtoull(last + 1, NULL, 10);
		*rx_queue = rx;
		*drops = d;
		found = 0;
		break;
	}
	free(text);
	return found;
}

int coll_udp_bound(int port, int timeout_ms)
{
	uint64_t deadline = coll_now_ms() + (uint64_t)timeout_ms, rx, drops;

	do {
		if (!udp_socket_state(port, &rx, &drops))
			return 0;
		usleep(20000);
	} while (coll_now_ms() < deadline);
	return -ETIMEDOUT;
}

int coll_udp_drained(int port, int timeout_ms, uint64_t *drops)
{
	uint64_t deadline = coll_now_ms() + (uint64_t)timeout_ms, rx = 0;
	int ret;

	do {
		ret = udp_socket_state(port, &rx, drops);
		if (ret)
			return ret;
		if (!rx)
			return 0;
		usleep(20000);
	} while (coll_now_ms() < deadline);
	return -ETIMEDOUT;
}

/* scratch directories */

int coll_tmpdir(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "/tmp/nsflow-e2e-%s-XXXXXX", tag);
	return mkdtemp(buf) ? 0 : -errno;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void coll_rmtree(const char *path)
{
	if (path && !strncmp(path, "/tmp/nsflow-e2e-", 16))
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* captures */

struct coll_pcap {
	FILE *f;
};

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

int coll_pcap_create(struct coll_pcap **w, const char *path)
{
	uint8_t hdr[24] = { 0 };

	*w = calloc(1, sizeof(**w));
	if (!*w)
		return -ENOMEM;
	(*w)->f = fopen(path, "w");
	if (!(*w)->f) {
		free(*w);
		return -errno;
	}
	put_le32(hdr, 0xa1b2c3d4);
	hdr[4] = 2; /* version 2.4 */
	hdr[6] = 4;
	put_le32(hdr + 16, 65535); /* snap length */
	put_le32(hdr + 20, 1);	   /* Ethernet */
	return fwrite(hdr, sizeof(hdr), 1, (*w)->f) == 1 ? 0 : -EIO;
}

int coll_pcap_write(struct coll_pcap *w, uint64_t ts_ns, const void *frame, uint32_t len,
		    uint32_t orig_len)
{
	uint8_t rec[16];

	put_le32(rec, (uint32_t)(ts_ns / 1000000000ULL));
	put_le32(rec + 4, (uint32_t)(ts_ns % 1000000000ULL / 1000));
	put_le32(rec + 8, len);
	put_le32(rec + 12, orig_len);
	if (fwrite(rec, sizeof(rec), 1, w->f) != 1 || fwrite(frame, len, 1, w->f) != 1)
		return -EIO;
	return 0;
}

int coll_pcap_append(struct coll_pcap *w, const char *src, uint64_t ts_ns, uint64_t *end_ns)
{
	struct pcap_reader *r;
	struct pcap_frame fr;
	char err[256];
	uint64_t first = 0;
	int n = 0, ret;

	ret = pcap_reader_open(&r, src, err, sizeof(err));
	if (ret)
		return ret;
	while ((ret = pcap_reader_next(r, &fr)) == 1) {
		if (!n)
			first = fr.ts_ns;
		*end_ns = ts_ns + (fr.ts_ns > first ? fr.ts_ns - first : 0);
		ret = coll_pcap_write(w, *end_ns, fr.data, fr.len, fr.orig_len);
		if (ret)
			break;
		n++;
	}
	pcap_reader_close(r);
	return ret < 0 ? ret : n;
}

int coll_pcap_close(struct coll_pcap *w)
{
	int ret = fclose(w->f) ? -errno : 0;

	free(w);
	return ret;
}

int coll_pcap_frames(const char *path)
{
	struct pcap_reader *r;
	struct pcap_frame fr;
	char err[256];
	int n = 0;

	if (pcap_reader_open(&r, path, err, sizeof(err)))
		return -EIO;
	/* a file still being written ends in a cut record: what came before counts */
	while (pcap_reader_next(r, &fr) == 1)
		n++;
	pcap_reader_close(r);
	return n;
}

const char *coll_pcap_dir(void)
{
	const char *d = getenv("NSFLOW_PCAPS");
	struct stat st;

	d = d && *d ? d : "../shared/pcaps";
	if (stat(d, &st) == 0 && S_ISDIR(st.st_mode))
		return d;
	/* a clone without the shared captures beside it; CI always has them */
	if (getenv("CI"))
		cr_assert_fail("the shared captures are missing: no directory %s (NSFLOW_PCAPS)",
			       d);
	cr_skip_test("needs the shared captures in %s (set NSFLOW_PCAPS to their directory)", d);
	return d;
}

const char *coll_nsflow_bin(void)
{
	const char *b = getenv("NSFLOW_BIN");

	return b ? b : "build/nsflow";
}

/* The crafted flows: @n frames of one flow, @gap_us apart, payload growing by 7 bytes. */
struct mix_flow {
	int kind;
	int n;
	uint16_t sport, dport;
	const char *src, *dst;
};

enum { MIX_UDP4, MIX_TCP4, MIX_ICMP4, MIX_UDP6, MIX_TCP6, MIX_VLAN4, MIX_MPLS4, MIX_SRH6 };

static void mix_frame(struct pb *p, const struct mix_flow *m, int i)
{
	static const char *const segs[COLL_MIX_SRH_NSEGS] = { "2001:db8:c::1", COLL_MIX_SRH_ACTIVE,
							      "2001:db8:c::2" };
	bool v6 = m->kind == MIX_UDP6 || m->kind == MIX_TCP6 || m->kind == MIX_SRH6;

	pb_init(p);
	if (m->kind == MIX_VLAN4) {
		pb_eth(p, 0x8100);
		pb_vlan(p, 100, 3, 0x0800);
	} else if (m->kind == MIX_MPLS4) {
		pb_eth(p, 0x8847);
		pb_mpls(p, COLL_MIX_MPLS_TOP, 5, 0, 64);
		pb_mpls(p, COLL_MIX_MPLS_BOTTOM, 0, 1, 64);
	} else {
		pb_eth(p, v6 ? 0x86dd : 0x0800);
	}
	switch (m->kind) {
	case MIX_TCP4:
		pb_ipv4(p, 6, m->src, m->dst, 0, 64, 0, 0, 0);
		/* SYN, data, FIN: the flow ends with the capture's last frame of it */
		pb_tcp(p, m->sport, m->dport, !i ? 0x02 : i == m->n - 1 ? 0x11 : 0x18, 5);
		break;
	case MIX_ICMP4:
		pb_ipv4(p, 1, m->src, m->dst, 0, 64, 0, 0, 0);
		pb_icmp(p, 8, 0);
		break;
	case MIX_UDP6:
		pb_ipv6(p, 17, m->src, m->dst, 0, 64);
		pb_udp(p, m->sport, m->dport);
		break;
	case MIX_TCP6:
		pb_ipv6(p, 6, m->src, m->dst, 0, 64);
		pb_tcp(p, m->sport, m->dport, 0x18, 5);
		break;
	case MIX_SRH6:
		/* the outer header is metered by default: its next protocol is the inner IPv6 */
		pb_ipv6(p, 43, m->src, COLL_MIX_SRH_ACTIVE, 0, 64);
		pb_srh(p, 41, COLL_MIX_SRH_LEFT, COLL_MIX_SRH_NSEGS, segs, COLL_MIX_SRH_FLAGS,
		       COLL_MIX_SRH_TAG);
		pb_ipv6(p, 17, m->src, m->dst, 0, 64);
		pb_udp(p, m->sport, m->dport);
		break;
	default:
		pb_ipv4(p, 17, m->src, m->dst, 0, 64, 0, 0, 0);
		pb_udp(p, m->sport, m->dport);
		break;
	}
	pb_zero(p, 20 + 7 * (size_t)i);
	pb_finish(p);
}

static const struct mix_flow mix_flows[] = {
	{ MIX_UDP4, 12, 5001, 6001, "192.0.2.10", "198.51.100.10" },
	{ MIX_UDP4, 5, 6001, 5001, "198.51.100.10", "192.0.2.10" },
	{ MIX_TCP4, 9, 40000, 80, "192.0.2.20", "198.51.100.20" },
	{ MIX_ICMP4, 4, 0, 0, "192.0.2.30", "198.51.100.30" },
	{ MIX_UDP6, 7, 5002, 6002, COLL_MIX_V6_SRC, COLL_MIX_V6_DST },
	{ MIX_TCP6, 6, 40001, 443, COLL_MIX_V6_DST, COLL_MIX_V6_SRC },
	{ MIX_VLAN4, 3, 5003, 6003, "192.0.2.50", "198.51.100.50" },
	{ MIX_MPLS4, 8, 5004, 6004, COLL_MIX_MPLS_SRC, "198.51.100.40" },
	{ MIX_SRH6, 5, 5005, 6005, COLL_MIX_SRH_SRC, "2001:db8:b::1" },
};

#define MIX_START_NS 1700000000000000000ULL /* 2023-11-14 22:13:20 UTC */

int coll_write_mix(const char *path, unsigned int parts)
{
	static const char *const shared[] = { "afs.pcap", "mptcp-v0.pcap" };
	uint64_t ts = MIX_START_NS;
	struct coll_pcap *w;
	struct pb p;
	char src[1024];
	int ret = coll_pcap_create(&w, path), left = 1;

	/* the crafted flows interleave, one frame of each in turn, 3 ms apart */
	for (int i = 0; !ret && (parts & COLL_MIX_CRAFTED) && left; i++) {
		left = 0;
		for (size_t j = 0; !ret && j < sizeof(mix_flows) / sizeof(mix_flows[0]); j++) {
			if (i >= mix_flows[j].n)
				continue;
			left = 1;
			mix_frame(&p, &mix_flows[j], i);
			ts += 3000000;
			ret = coll_pcap_write(w, ts, p.b, (uint32_t)p.len, (uint32_t)p.len);
		}
	}
	for (size_t i = 0; !ret && (parts & COLL_MIX_SHARED) && i < 2; i++) {
		snprintf(src, sizeof(src), "%s/%s", coll_pcap_dir(), shared[i]);
		ret = coll_pcap_append(w, src, ts + 1000000000ULL, &ts);
		ret = ret < 0 ? ret : 0;
	}
	if (ret) {
		coll_pcap_close(w);
		return ret;
	}
	return coll_pcap_close(w);
}

int coll_write_steady(const char *path, int frames, int flows, uint64_t gap_ns)
{
	uint64_t ts = MIX_START_NS;
	struct coll_pcap *w;
	struct pb p;
	int ret = coll_pcap_create(&w, path);

	for (int i = 0; !ret && i < frames; i++, ts += gap_ns) {
		pb_init(&p);
		pb_eth(&p, 0x0800);
		pb_ipv4(&p, 17, COLL_STEADY_SRC, COLL_STEADY_DST, 0, 64, 0, 0, 0);
		pb_udp(&p, (uint16_t)(COLL_STEADY_PORT + i % flows), COLL_STEADY_PORT);
		/* lengths that differ per frame: scaled bytes prove the right packets were taken */
		pb_zero(&p, (size_t)(i % 7) * 10);
		pb_finish(&p);
		ret = coll_pcap_write(w, ts, p.b, (uint32_t)p.len, (uint32_t)p.len);
	}
	if (ret) {
		coll_pcap_close(w);
		return ret;
	}
	return coll_pcap_close(w);
}

/* IPFIX over TCP */

static void tcp_on_record(void *arg, const struct ns_dec_record *r)
{
	struct coll_tcp *c = arg;

	if (r->tmpl->n_scope)
		return;
	c->flow_records++;
	c->conn_flow_records++;
	coll_dec_record_flow(r, &c->flows);
}

int coll_tcp_listen(struct coll_tcp *c, int port)
{
	c->lfd = bind_lo(SOCK_STREAM, port);
	c->cfd = -1;
	c->port = port;
	if (c->lfd < 0)
		return c->lfd;
	return listen(c->lfd, 4) ? -errno : 0;
}

int coll_tcp_accept(struct coll_tcp *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->lfd, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	if (c->cfd >= 0)
		close(c->cfd);
	c->cfd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c->cfd < 0)
		return -errno;
	c->len = 0;
	c->messages = 0;
	c->conn_flow_records = 0;
	c->conns++;
	/* a new transport session: every template must come again before its data */
	ns_decoder_init(&c->dec, NS_PROTO_IPFIX);
	c->dec.on_record = tcp_on_record;
	c->dec.arg = c;
	return 0;
}

/* Decodes every whole message in the buffer */
static void tcp_decode(struct coll_tcp *c)
{
	size_t off = 0, mlen;
	char err[256];

	while (c->len - off >= 4) {
		mlen = (size_t)c->buf[off + 2] << 8 | c->buf[off + 3];
		if (c->buf[off] != 0 || c->buf[off + 1] != 10 || mlen < 16) {
			if (!c->err[0])
				snprintf(c->err, sizeof(c->err),
					 "message %llu: version %u length %zu",
					 (unsigned long long)c->messages + 1,
					 c->buf[off] << 8 | c->buf[off + 1], mlen);
			off = c->len; /* the framing is lost: nothing after can be trusted */
			break;
		}
		if (c->len - off < mlen)
			break;
		if (ns_decode(&c->dec, c->buf + off, mlen, err, sizeof(err)) && !c->err[0])
			snprintf(c->err, sizeof(c->err), "connection %llu message %llu: %.200s",
				 (unsigned long long)c->conns, (unsigned long long)c->messages + 1,
				 err);
		c->messages++;
		off += mlen;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

int coll_tcp_read(struct coll_tcp *c, int timeout_ms, uint64_t until_records)
{
	uint64_t deadline = coll_now_ms() + (uint64_t)timeout_ms;

	while (c->cfd >= 0) {
		struct pollfd p = { .fd = c->cfd, .events = POLLIN };
		uint64_t now = coll_now_ms();
		ssize_t n;

		if (until_records && c->flow_records >= until_records)
			return 0;
		if (now >= deadline)
			return 0;
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			continue;
		n = recv(c->cfd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n <= 0)
			return -ECONNRESET;
		c->len += (size_t)n;
		tcp_decode(c);
	}
	return -ENOTCONN;
}

void coll_tcp_close(struct coll_tcp *c)
{
	if (c->cfd >= 0) {
		/* read what is already queued so that closing sends FIN, not RST */
		coll_tcp_read(c, 50, 0);
		close(c->cfd);
	}
	if (c->lfd >= 0)
		close(c->lfd);
	c->cfd = c->lfd = -1;
}

void coll_tcp_free(struct coll_tcp *c)
{
	coll_tcp_close(c);
	coll_flows_free(&c->flows);
}
