/*
 * flows.c - flow query and host drill-down handlers of the console: both
 * read a time range of the flow topic (flow_query.h).
 */
#include "console/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/flow_query.h"
#include "console/params.h"
#include "core/flow_json.h"
#include "core/result.h"
#include "filter/filter.h"

/* Distinct peers and ports one drill-down sums; the rest count as other. */
#define HOST_TABLE_MAX 4096

/* Reads minutes and fills the range of query, ending at env->now_ms. */
static int
read_range(const struct fs_console_env *env, const struct fs_console_form *form,
	   struct fs_flow_query *query, char *err, size_t err_len)
{
	int64_t max_minutes = env->limits.range_max_s / 60 > 0 ? env->limits.range_max_s / 60 : 1;
	int64_t minutes;

	if (fs_console_param_int(form, "minutes", 5 < max_minutes ? 5 : max_minutes, 1,
				 max_minutes, &minutes, err, err_len) < 0)
		return FS_ERR_INVALID;
	query->to_ms = env->now_ms + 1;
	query->from_ms = env->now_ms - minutes * 60000;
	return 0;
}

static void
init_query(const struct fs_console_env *env, struct fs_flow_query *query)
{
	memset(query, 0, sizeof(*query));
	query->bootstrap = env->bootstrap;
	query->props = env->props;
	query->topic = env->topic;
	query->max_scanned = (uint64_t)env->limits.scan_max;
	query->timeout_ms = env->limits.timeout_ms;
}

static json_t *
flow_json(const struct fs_flow *flow)
{
	char text[FS_FLOW_JSON_MAX];

	if (fs_flow_json_write(flow, text, sizeof(text)) < 0)
		return NULL;
	return json_loads(text, 0, NULL);
}

/* Adds the counts and limits of result to obj. */
static void
set_result(json_t *obj, const struct fs_flow_query *query,
	   const struct fs_flow_query_result *result)
{
	json_object_set_new(obj, "from_ms", json_integer(query->from_ms));
	json_object_set_new(obj, "to_ms", json_integer(query->to_ms));
	json_object_set_new(obj, "scanned", json_integer((json_int_t)result->scanned));
	json_object_set_new(obj, "matched", json_integer((json_int_t)result->matched));
	json_object_set_new(obj, "rejected", json_integer((json_int_t)result->rejected));
	json_object_set_new(obj, "complete", json_boolean(result->complete));
	json_object_set_new(obj, "row_limit", json_boolean(result->row_limit));
	json_object_set_new(obj, "scan_limit", json_boolean(result->scan_limit));
	json_object_set_new(obj, "timed_out", json_boolean(result->timed_out));
}

/* Returns the status for a failed query. */
static int
query_error(json_t **out, int rc, const char *topic, const char *reason)
{
	char message[512];

	if (rc == FS_ERR_NOT_FOUND) {
		snprintf(message, sizeof(message), "topic '%s' not found: no flows yet?", topic);
		return fs_console_api_error(out, 404, message);
	}
	snprintf(message, sizeof(message), "reading topic '%s' failed: %s", topic, reason);
	return fs_console_api_error(out, 502, message);
}

static int
append_flow(const struct fs_flow *flow, int64_t timestamp_ms, void *opaque)
{
	json_t *obj = flow_json(flow);

	(void)timestamp_ms;
	if (!obj || json_array_append_new(opaque, obj) < 0)
		return 1;
	return 0;
}

int
fs_console_api_flows(const struct fs_console_env *env, const struct fs_console_form *form,
		     json_t **out)
{
	struct fs_filter_error ferr = { 0 };
	struct fs_flow_query query;
	struct fs_flow_query_result result;
	struct fs_filter *filter = NULL;
	const char *text;
	char err[512];
	int64_t limit;
	json_t *list = NULL;
	int rc, status;

	init_query(env, &query);
	if (fs_console_param_text(form, "filter", FS_CONSOLE_FILTER_MAX, &text, err,
				  sizeof(err)) < 0 ||
	    fs_console_param_int(form, "limit", 100, 1, env->limits.rows_max, &limit, err,
				 sizeof(err)) < 0 ||
	    read_range(env, form, &query, err, sizeof(err)) < 0)
		return fs_console_api_error(out, 400, err);
	/* An empty filter matches every flow. */
	if (text[0] && fs_filter_compile(&filter, text, NULL, &ferr) < 0)
		return fs_console_api_error(out, 400, ferr.text);
	list = json_array();
	if (!list) {
		status = fs_console_api_error(out, 500, "out of memory");
		goto done;
	}
	query.filter = filter;
	query.max_rows = (uint64_t)limit;
	query.fn = append_flow;
	query.opaque = list;
	rc = fs_flow_query_run(&query, &result, err, sizeof(err));
	if (rc < 0) {
		status = query_error(out, rc, env->topic, err);
		goto done;
	}
	*out = json_pack("{s:s,s:O}", "filter", text, "flows", list);
	if (!*out) {
		status = fs_console_api_error(out, 500, "out of memory");
		goto done;
	}
	set_result(*out, &query, &result);
	status = 200;
done:
	json_decref(list);
	fs_filter_free(filter);
	return status;
}

/* Sums of one drill-down: per peer, per port, and the first flows. */
struct host_sums {
	struct fs_addr addr;
	json_t *peers;        /* peer address -> {peer, bytes_out, bytes_in, packets, flows} */
	json_t *ports;        /* "proto/port" -> {proto, port, bytes, packets, flows} */
	json_t *flows;        /* the first `limit` flows */
	size_t limit;
	uint64_t other_flows; /* flows whose peer or port did not fit the tables */
};

/* Adds n to the integer member name of obj. */
static void
add_count(json_t *obj, const char *name, uint64_t n)
{
	json_t *value = json_object_get(obj, name);

	json_object_set_new(obj, name,
			    json_integer((value ? json_integer_value(value) : 0) + (json_int_t)n));
}

/* Returns the entry key of table, creating it from init (adopted) when there is room. */
static json_t *
table_entry(json_t *table, const char *key, json_t *init)
{
	json_t *entry = json_object_get(table, key);

	if (entry) {
		json_decref(init);
		return entry;
	}
	if (!init || json_object_size(table) >= HOST_TABLE_MAX ||
	    json_object_set_new(table, key, init) < 0)
		return NULL;
	return init;
}

static int
same_addr(const struct fs_addr *a, const struct fs_addr *b)
{
	size_t len = a->family == 4 ? 4 : 16;

	return a->family == b->family && memcmp(a->bytes, b->bytes, len) == 0;
}

static int
sum_host_flow(const struct fs_flow *flow, int64_t timestamp_ms, void *opaque)
{
	struct host_sums *sums = opaque;
	int outgoing = same_addr(&flow->src_addr, &sums->addr);
	const struct fs_addr *peer_addr = outgoing ? &flow->dst_addr : &flow->src_addr;
	char peer[FS_ADDR_STRLEN], port_key[16];
	json_t *peer_entry, *port_entry;

	(void)timestamp_ms;
	fs_addr_format(peer_addr, peer);
	peer_entry = table_entry(sums->peers, peer, json_pack("{s:s}", "peer", peer));
	snprintf(port_key, sizeof(port_key), "%u/%u", flow->proto, flow->dst_port);
	port_entry = table_entry(sums->ports, port_key,
				 json_pack("{s:i,s:i}", "proto", flow->proto, "port", flow->dst_port));
	if (!peer_entry || !port_entry)
		sums->other_flows++;
	if (peer_entry) {
		add_count(peer_entry, outgoing ? "bytes_out" : "bytes_in", flow->bytes);
		add_count(peer_entry, outgoing ? "bytes_in" : "bytes_out", 0);
		add_count(peer_entry, "packets", flow->packets);
		add_count(peer_entry, "flows", 1);
	}
	if (port_entry) {
		add_count(port_entry, "bytes", flow->bytes);
		add_count(port_entry, "packets", flow->packets);
		add_count(port_entry, "flows", 1);
	}
	if (json_array_size(sums->flows) < sums->limit) {
		json_t *obj = flow_json(flow);

		if (obj)
			json_array_append_new(sums->flows, obj);
	}
	return 0;
}

static json_int_t
entry_bytes(json_t *entry)
{
	json_t *bytes = json_object_get(entry, "bytes");

	if (bytes)
		return json_integer_value(bytes);
	return json_integer_value(json_object_get(entry, "bytes_out")) +
	       json_integer_value(json_object_get(entry, "bytes_in"));
}

static int
compare_bytes(const void *a, const void *b)
{
	json_int_t x = entry_bytes(*(json_t *const *)a), y = entry_bytes(*(json_t *const *)b);

	if (x < y)
		return 1;
	if (x > y)
		return -1;
	return 0;
}

/* Returns the entries of table as an array sorted by bytes, largest first, at most limit. */
static json_t *
sorted_entries(json_t *table, size_t limit)
{
	size_t n = json_object_size(table), i = 0;
	json_t **entries = calloc(n ? n : 1, sizeof(*entries));
	json_t *array = json_array();
	const char *key;
	json_t *value;

	if (!entries || !array) {
		free(entries);
		json_decref(array);
		return NULL;
	}
	json_object_foreach(table, key, value)
		entries[i++] = value;
	qsort(entries, n, sizeof(*entries), compare_bytes);
	for (i = 0; i < n && i < limit; i++)
		json_array_append(array, entries[i]);
	free(entries);
	return array;
}

int
fs_console_api_host(const struct fs_console_env *env, const struct fs_console_form *form,
		    json_t **out)
{
	struct host_sums sums = { 0 };
	struct fs_filter_error ferr = { 0 };
	struct fs_flow_query query;
	struct fs_flow_query_result result;
	struct fs_filter *filter = NULL;
	char err[512], addr[FS_ADDR_STRLEN], text[FS_ADDR_STRLEN + 8];
	int64_t limit;
	int rc, status;

	init_query(env, &query);
	if (fs_console_param_addr(form, "addr", &sums.addr, err, sizeof(err)) < 0 ||
	    fs_console_param_int(form, "limit", 20, 1, env->limits.rows_max, &limit, err,
				 sizeof(err)) < 0 ||
	    read_range(env, form, &query, err, sizeof(err)) < 0)
		return fs_console_api_error(out, 400, err);
	fs_addr_format(&sums.addr, addr);
	snprintf(text, sizeof(text), "host %s", addr);
	if (fs_filter_compile(&filter, text, NULL, &ferr) < 0)
		return fs_console_api_error(out, 500, ferr.text);
	sums.limit = (size_t)limit;
	sums.peers = json_object();
	sums.ports = json_object();
	sums.flows = json_array();
	if (!sums.peers || !sums.ports || !sums.flows) {
		status = fs_console_api_error(out, 500, "out of memory");
		goto done;
	}
	query.filter = filter;
	/* Every match is summed; only the flows list stops at limit. */
	query.max_rows = UINT64_MAX;
	query.fn = sum_host_flow;
	query.opaque = &sums;
	rc = fs_flow_query_run(&query, &result, err, sizeof(err));
	if (rc < 0) {
		status = query_error(out, rc, env->topic, err);
		goto done;
	}
	*out = json_pack("{s:s,s:o,s:o,s:O,s:I}", "addr", addr, "peers",
			 sorted_entries(sums.peers, sums.limit), "ports",
			 sorted_entries(sums.ports, sums.limit), "flows", sums.flows,
			 "other_flows", (json_int_t)sums.other_flows);
	if (!*out) {
		status = fs_console_api_error(out, 500, "out of memory");
		goto done;
	}
	set_result(*out, &query, &result);
	status = 200;
done:
	json_decref(sums.peers);
	json_decref(sums.ports);
	json_decref(sums.flows);
	fs_filter_free(filter);
	return status;
}
