// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The YAML side of `nsflow run --config FILE`: the same settings as the flags, applied by the
 * same code, with errors naming the file and line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_priv.h"

/* ---- YAML ---- */

struct yaml_ctx {
	struct nsflow_config *c;
	const char *path;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

static const char *node_kind(const yaml_node_t *n)
{
	return n->type == YAML_SEQUENCE_NODE  ? "a list"
	       : n->type == YAML_MAPPING_NODE ? "a mapping"
					      : "a value";
}

static unsigned int node_line(const yaml_node_t *n)
{
	return (unsigned int)n->start_mark.line + 1;
}

/* A scalar's text; NULL (with the error set) for anything else. Null scalars give "". */
static const char *scalar(struct yaml_ctx *y, const yaml_node_t *n, const char *key)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE) {
		config_errf(y->err, y->errlen, "%s:%u: %s: expected a single value, not %s",
			    y->path, node_line(n), key, node_kind(n));
		return NULL;
	}
	v = (const char *)n->data.scalar.value;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!strcmp(v, "~") || !strcmp(v, "null")))
		return "";
	return v;
}

static int yaml_iface(struct yaml_ctx *y, const yaml_node_t *n)
{
	const char *name = NULL, *v = NULL;
	char where[PATH_MAX + 64];
	struct config_iface *ifc;
	yaml_node_pair_t *pair;
	int ret;

	snprintf(where, sizeof(where), "%s:%u", y->path, node_line(n));
	if (n->type == YAML_SCALAR_NODE) {
		v = scalar(y, n, "interfaces");
		return config_add_iface(y->c, v, node_line(n), where, &ifc, y->err, y->errlen);
	}
	if (n->type != YAML_MAPPING_NODE)
		return config_errf(
			y->err, y->errlen,
			"%s: interfaces: expected a name or 'name: ...' settings, not a list",
			where);
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, pair->key);
		yaml_node_t *val = yaml_document_get_node(y->doc, pair->value);

		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, "name")) {
			name = scalar(y, val, "name");
			if (!name)
				return -EINVAL;
		}
	}
	if (!name)
		return config_errf(y->err, y->errlen, "%s: interface settings without a 'name'",
				   where);
	ret = config_add_iface(y->c, name, node_line(n), where, &ifc, y->err, y->errlen);
	for (pair = n->data.mapping.pairs.start; !ret && pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, pair->key);
		yaml_node_t *val = yaml_document_get_node(y->doc, pair->value);
		const char *key = k->type == YAML_SCALAR_NODE ? (char *)k->data.scalar.value : "";
		char hint[96];

		snprintf(where, sizeof(where), "%s:%u: %s", y->path, node_line(val), key);
		if (!strcmp(key, "name"))
			continue;
		if (strcmp(key, "sample") && strcmp(key, "mpls") && strcmp(key, "srv6") &&
		    strcmp(key, "vxlan") && strcmp(key, "vxlan-port"))
			return config_errf(
				y->err, y->errlen,
				"%s:%u: unknown interface setting '%s'%s (an interface takes "
				"name, sample, mpls, srv6, vxlan and vxlan-port)",
				y->path, node_line(k), key,
				config_suggest(hint, sizeof(hint), key, config_iface_keys, 6, ""));
		v = scalar(y, val, key);
		if (!v)
			return -EINVAL;
		if (!strcmp(key, "sample")) {
			ret = config_parse_sample(v, where, &ifc->sample, y->err, y->errlen);
			ifc->has_sample = true;
		} else if (!strcmp(key, "mpls")) {
			ret = config_parse_choice(v, config_mpls_modes, where, &ifc->mpls_mode,
						  y->err, y->errlen);
			ifc->has_mpls = true;
		} else if (!strcmp(key, "srv6")) {
			ret = config_parse_choice(v, config_srv6_modes, where, &ifc->srv6_mode,
						  y->err, y->errlen);
			ifc->has_srv6 = true;
		} else if (!strcmp(key, "vxlan")) {
			ret = config_parse_choice(v, config_vxlan_modes, where, &ifc->vxlan_mode,
						  y->err, y->errlen);
			ifc->has_vxlan = true;
		} else {
			ret = config_parse_range(OPT_VXLAN_PORT, v, where, &ifc->vxlan_port, y->err,
						 y->errlen);
			ifc->has_vxlan_port = true;
		}
	}
	return ret;
}

/* interfaces and collectors: a list, or one value; an empty value is an empty list */
static int yaml_list(struct yaml_ctx *y, int id, const char *key, yaml_node_t *n)
{
	char where[PATH_MAX + 64];
	yaml_node_item_t *it;
	const char *v;
	int ret = 0;

	if (id == OPT_INTERFACE) {
		free(y->c->ifaces);
		y->c->ifaces = NULL;
		y->c->n_ifaces = 0;
	} else {
		config_clear_collectors(y->c);
	}
	if (n->type == YAML_MAPPING_NODE)
		return config_errf(y->err, y->errlen, "%s:%u: %s: expected a list, not a mapping",
				   y->path, node_line(n), key);
	if (n->type == YAML_SCALAR_NODE) {
		v = scalar(y, n, key);
		if (!*v)
			return 0;
		if (id == OPT_INTERFACE)
			return yaml_iface(y, n);
		snprintf(where, sizeof(where), "%s:%u: %s", y->path, node_line(n), key);
		return config_add_collector(y->c, v, where, y->err, y->errlen);
	}
	for (it = n->data.sequence.items.start; !ret && it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(y->doc, *it);

		if (id == OPT_INTERFACE) {
			ret = yaml_iface(y, item);
			continue;
		}
		v = scalar(y, item, key);
		if (!v)
			return -EINVAL;
		snprintf(where, sizeof(where), "%s:%u: %s", y->path, node_line(item), key);
		ret = config_add_collector(y->c, v, where, y->err, y->errlen);
	}
	return ret;
}

/* One 'aggregation:' item: MODE[:v4|v6], or {mode, family, active-timeout, ...} */
static int yaml_agg(struct yaml_ctx *y, yaml_node_t *n)
{
	static const char *const keys[] = { "mode", "family", "active-timeout", "inactive-timeout",
					    "cache-entries" };
	static const int ids[] = { 0, 0, OPT_AGG_ACTIVE, OPT_AGG_INACTIVE, OPT_AGG_CACHE };
	struct config_agg t = { .line = node_line(n) };
	char where[PATH_MAX + 64], mode[80] = "", hint[96];
	const char *family = "";
	yaml_node_pair_t *pair;
	uint32_t *dst[] = { NULL, NULL, &t.active_s, &t.inactive_s, &t.cache_entries };

	snprintf(where, sizeof(where), "%s:%u: aggregation", y->path, node_line(n));
	if (n->type == YAML_SCALAR_NODE)
		return config_add_agg(y->c, scalar(y, n, "aggregation"), &t, where, y->err,
				      y->errlen);
	if (n->type != YAML_MAPPING_NODE)
		return config_errf(y->err, y->errlen,
				   "%s: expected a mode or 'mode: ...' settings, not a list",
				   where);
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, pair->key);
		yaml_node_t *val = yaml_document_get_node(y->doc, pair->value);
		const char *key = k->type == YAML_SCALAR_NODE ? (char *)k->data.scalar.value : "";
		const char *v;
		size_t i;
		int ret;

		for (i = 0; i < 5 && strcmp(key, keys[i]); i++)
			;
		if (i == 5)
			return config_errf(y->err, y->errlen,
					   "%s:%u: unknown aggregation setting '%s'%s (one takes "
					   "mode, family, active-timeout, inactive-timeout and "
					   "cache-entries)",
					   y->path, node_line(k), key,
					   config_suggest(hint, sizeof(hint), key, keys, 5, ""));
		v = scalar(y, val, key);
		if (!v)
			return -EINVAL;
		snprintf(where, sizeof(where), "%s:%u: %s", y->path, node_line(val), key);
		if (i == 0) {
			snprintf(mode, sizeof(mode), "%.60s", v);
			continue;
		}
		if (i == 1) {
			if (strcmp(v, "v4") && strcmp(v, "v6") && strcmp(v, "both"))
				return config_errf(y->err, y->errlen,
						   "%s: '%s' is not v4, v6 or both", where, v);
			family = strcmp(v, "both") ? v : "";
			continue;
		}
		ret = config_parse_range(ids[i], v, where, dst[i], y->err, y->errlen);
		if (ret)
			return ret;
	}
	snprintf(where, sizeof(where), "%s:%u: aggregation", y->path, node_line(n));
	if (!mode[0])
		return config_errf(y->err, y->errlen, "%s: settings without a 'mode'", where);
	if (*family)
		snprintf(mode + strlen(mode), sizeof(mode) - strlen(mode), ":%s", family);
	return config_add_agg(y->c, mode, &t, where, y->err, y->errlen);
}

static int yaml_aggs(struct yaml_ctx *y, yaml_node_t *n)
{
	yaml_node_item_t *it;
	int ret = 0;

	y->c->n_aggs = 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return yaml_agg(y, n);
	for (it = n->data.sequence.items.start; !ret && it < n->data.sequence.items.top; it++)
		ret = yaml_agg(y, yaml_document_get_node(y->doc, *it));
	return ret;
}

/* A record's list setting (match, collect, interfaces) as "key=a,b,c" appended to spec */
static int yaml_record_list(struct yaml_ctx *y, yaml_node_t *n, const char *key, char *spec,
			    size_t cap)
{
	size_t len = strlen(spec);
	const char *v;

	len += (size_t)snprintf(spec + len, cap - len, ":%s=", key);
	if (n->type == YAML_SCALAR_NODE) {
		v = scalar(y, n, key);
		if (!v)
			return -EINVAL;
		snprintf(spec + len, cap - len, "%s", v);
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return config_errf(y->err, y->errlen, "%s:%u: %s: expected a list, not %s", y->path,
				   node_line(n), key, node_kind(n));
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		v = scalar(y, yaml_document_get_node(y->doc, *it), key);
		if (!v)
			return -EINVAL;
		len += (size_t)snprintf(spec + len, cap - len, "%s%s",
					it == n->data.sequence.items.start ? "" : ",", v);
	}
	return 0;
}

/* One 'records:' item: a --record string, or {name, family, match, collect, interfaces, ...} */
static int yaml_record(struct yaml_ctx *y, yaml_node_t *n)
{
	static const char *const keys[] = {
		"name",		  "family",	      "match",	      "collect", "interfaces",
		"active-timeout", "inactive-timeout", "cache-entries"
	};
	static const int ids[] = { 0, 0, 0, 0, 0, OPT_AGG_ACTIVE, OPT_AGG_INACTIVE, OPT_AGG_CACHE };
	struct config_record t = { .line = node_line(n) };
	uint32_t *dst[] = { NULL, NULL,	       NULL,	      NULL,
			    NULL, &t.active_s, &t.inactive_s, &t.cache_entries };
	char where[PATH_MAX + 64], name[64] = "", family[8] = "", lists[1024] = "", hint[96];
	char spec[1200];
	yaml_node_pair_t *pair;
	int ret;

	snprintf(where, sizeof(where), "%s:%u: records", y->path, node_line(n));
	if (n->type == YAML_SCALAR_NODE) {
		const char *v = scalar(y, n, "records");

		return v ? config_add_record(y->c, v, &t, where, y->err, y->errlen) : -EINVAL;
	}
	if (n->type != YAML_MAPPING_NODE)
		return config_errf(
			y->err, y->errlen,
			"%s: expected 'name: ...' settings or NAME:match=..., not a list", where);
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, pair->key);
		yaml_node_t *val = yaml_document_get_node(y->doc, pair->value);
		const char *key = k->type == YAML_SCALAR_NODE ? (char *)k->data.scalar.value : "";
		const char *v;
		size_t i;

		for (i = 0; i < 8 && strcmp(key, keys[i]); i++)
			;
		if (i == 8)
			return config_errf(y->err, y->errlen,
					   "%s:%u: unknown record setting '%s'%s (one takes name, "
					   "family, match, collect, interfaces, active-timeout, "
					   "inactive-timeout and cache-entries)",
					   y->path, node_line(k), key,
					   config_suggest(hint, sizeof(hint), key, keys, 8, ""));
		if (i >= 2 && i <= 4) {
			ret = yaml_record_list(y, val, key, lists, sizeof(lists));
			if (ret)
				return ret;
			continue;
		}
		v = scalar(y, val, key);
		if (!v)
			return -EINVAL;
		snprintf(where, sizeof(where), "%s:%u: %s", y->path, node_line(val), key);
		if (i == 0) {
			snprintf(name, sizeof(name), "%.60s", v);
		} else if (i == 1) {
			if (strcmp(v, "v4") && strcmp(v, "v6") && strcmp(v, "both"))
				return config_errf(y->err, y->errlen,
						   "%s: '%s' is not v4, v6 or both", where, v);
			snprintf(family, sizeof(family), "%s", strcmp(v, "both") ? v : "");
		} else {
			ret = config_parse_range(ids[i], v, where, dst[i], y->err, y->errlen);
			if (ret)
				return ret;
		}
	}
	snprintf(where, sizeof(where), "%s:%u: record %s", y->path, node_line(n), name);
	if (!name[0])
		return config_errf(y->err, y->errlen, "%s:%u: a record without a 'name'", y->path,
				   node_line(n));
	snprintf(spec, sizeof(spec), "%s%s%s%s", name, family[0] ? ":" : "", family, lists);
	return config_add_record(y->c, spec, &t, where, y->err, y->errlen);
}

static int yaml_records(struct yaml_ctx *y, yaml_node_t *n)
{
	int ret = 0;

	y->c->n_records = 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return yaml_record(y, n);
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     !ret && it < n->data.sequence.items.top; it++)
		ret = yaml_record(y, yaml_document_get_node(y->doc, *it));
	return ret;
}

/* One 'vpn-instances:' item: a --vpn-instance string, or {name, rd, vrf, labels, id, address} */
static int yaml_vpn(struct yaml_ctx *y, yaml_node_t *n)
{
	static const char *const keys[] = { "name", "rd", "vrf", "labels", "id", "address" };
	char where[PATH_MAX + 64], name[64] = "", spec[1200] = "", hint[96];
	struct vpn_instance v;
	const char *s;
	int ret;

	snprintf(where, sizeof(where), "%s:%u: vpn-instances", y->path, node_line(n));
	if (n->type == YAML_SCALAR_NODE) {
		s = scalar(y, n, "vpn-instances");
		if (!s)
			return -EINVAL;
	} else if (n->type != YAML_MAPPING_NODE) {
		return config_errf(y->err, y->errlen,
				   "%s: expected 'name: ...' settings or NAME:rd=..., not a list",
				   where);
	} else {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
			yaml_node_t *val = yaml_document_get_node(y->doc, p->value);
			const char *key =
				k->type == YAML_SCALAR_NODE ? (char *)k->data.scalar.value : "";
			size_t i;

			for (i = 0; i < 6 && strcmp(key, keys[i]); i++)
				;
			if (i == 6)
				return config_errf(
					y->err, y->errlen,
					"%s:%u: unknown vpn-instance setting '%s'%s (one "
					"takes name, rd, vrf, labels, id and address)",
					y->path, node_line(k), key,
					config_suggest(hint, sizeof(hint), key, keys, 6, ""));
			if (i == 3) {
				ret = yaml_record_list(y, val, key, spec, sizeof(spec));
				if (ret)
					return ret;
				continue;
			}
			s = scalar(y, val, key);
			if (!s)
				return -EINVAL;
			if (i == 0)
				snprintf(name, sizeof(name), "%.60s", s);
			else
				snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), ":%s=%s",
					 key, s);
		}
		if (!name[0])
			return config_errf(y->err, y->errlen,
					   "%s:%u: a vpn-instance without a 'name'", y->path,
					   node_line(n));
		memmove(spec + strlen(name), spec, strlen(spec) + 1);
		memcpy(spec, name, strlen(name));
		s = spec;
	}
	ret = vpn_instance_parse(&v, s, where, y->err, y->errlen);
	return ret ? ret
		   : vpn_instance_add(y->c->vpns, &y->c->n_vpns, &v, where, y->err, y->errlen);
}

static int yaml_vpns(struct yaml_ctx *y, yaml_node_t *n)
{
	int ret = 0;

	y->c->n_vpns = 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return yaml_vpn(y, n);
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     !ret && it < n->data.sequence.items.top; it++)
		ret = yaml_vpn(y, yaml_document_get_node(y->doc, *it));
	return ret;
}

static int yaml_settings(struct yaml_ctx *y, yaml_node_t *root)
{
	const char *keys[config_n_settings], *v;
	unsigned int seen[OPT_MAX] = { 0 };
	char where[PATH_MAX + 64], hint[96];
	yaml_node_pair_t *pair;
	int ret;

	for (size_t i = 0; i < config_n_settings; i++)
		keys[i] = config_settings[i].key;
	if (root->type != YAML_MAPPING_NODE)
		return config_errf(y->err, y->errlen,
				   "%s:%u: expected 'key: value' settings, not %s", y->path,
				   node_line(root), node_kind(root));
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, pair->key);
		yaml_node_t *val = yaml_document_get_node(y->doc, pair->value);
		const struct setting *s = NULL;
		const char *key;

		if (k->type != YAML_SCALAR_NODE)
			return config_errf(y->err, y->errlen,
					   "%s:%u: a setting name must be a plain word", y->path,
					   node_line(k));
		key = (const char *)k->data.scalar.value;
		for (size_t i = 0; i < config_n_settings; i++)
			if (config_settings[i].key && !strcmp(config_settings[i].key, key))
				s = &config_settings[i];
		if (!s)
			return config_errf(y->err, y->errlen, "%s:%u: unknown key '%s'%s", y->path,
					   node_line(k), key,
					   config_suggest(hint, sizeof(hint), key, keys,
							  config_n_settings, ""));
		if (seen[s->id])
			return config_errf(y->err, y->errlen,
					   "%s:%u: '%s' is set twice (first on line %u)", y->path,
					   node_line(k), key, seen[s->id]);
		seen[s->id] = node_line(k);
		if (s->id == OPT_INTERFACE || s->id == OPT_COLLECTOR) {
			ret = yaml_list(y, s->id, key, val);
		} else if (s->id == OPT_AGGREGATE) {
			ret = yaml_aggs(y, val);
		} else if (s->id == OPT_RECORD) {
			ret = yaml_records(y, val);
		} else if (s->id == OPT_VPN) {
			ret = yaml_vpns(y, val);
		} else {
			v = scalar(y, val, key);
			if (!v)
				return -EINVAL;
			snprintf(where, sizeof(where), "%s:%u: %s", y->path, node_line(val), key);
			if (!*v)
				return config_errf(y->err, y->errlen, "%s: no value given", where);
			ret = config_apply_value(y->c, s->id, v, where, true, y->err, y->errlen);
		}
		if (ret)
			return ret;
	}
	return 0;
}

int config_load_yaml(struct nsflow_config *c, const char *path, char *err, size_t errlen)
{
	struct yaml_ctx y = { .c = c, .path = path, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	FILE *f;
	int ret;

	f = fopen(path, "rb");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		config_errf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = config_errf(err, errlen, "%s:%zu: bad YAML: %s", path,
				  parser.problem_mark.line + 1,
				  parser.problem ? parser.problem : "unreadable");
		/* what libyaml was inside of, which often started lines earlier */
		if (parser.context)
			snprintf(err + strlen(err), errlen - strlen(err), " (%s at line %zu)",
				 parser.context, parser.context_mark.line + 1);
		goto cleanup_parser;
	}
	y.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	ret = root ? yaml_settings(&y, root) : 0; /* an empty file changes nothing */
	yaml_document_delete(&doc);
cleanup_parser:
	yaml_parser_delete(&parser);
	fclose(f);
	return ret;
}

/* ---- flags ---- */
