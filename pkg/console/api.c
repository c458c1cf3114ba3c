/*
 * api.c - top-N, series, alerts and filter check handlers of the console.
 */
#include "console/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/params.h"
#include "core/result.h"
#include "detect/alert_list.h"
#include "filter/filter.h"
#include "redis/topn.h"
#include "redis/topn_series.h"
#include "redis/redis_url.h"

int
fs_console_api_error(json_t **out, int status, const char *message)
{
	*out = json_pack("{s:s}", "error", message);
	return *out ? status : 500;
}

/* Returns the status for a failed Redis read. */
static int
redis_error(json_t **out, const struct fs_console_env *env, const char *what)
{
	char message[256], why[160];

	snprintf(message, sizeof(message), "reading the %s from Redis failed: %s", what,
		 env->redis && env->redis->err ? fs_redis_error_text(env->redis, why, sizeof(why))
					       : "unexpected reply (see the console log)");
	return fs_console_api_error(out, 502, message);
}

/* Returns true when the conversation key "a>b" has host as a or b. */
static int
conversation_has(const char *key, const char *host)
{
	const char *gt = strchr(key, '>');
	size_t n = strlen(host);

	if (!gt)
		return 0;
	return ((size_t)(gt - key) == n && strncmp(key, host, n) == 0) || strcmp(gt + 1, host) == 0;
}

static json_t *
row_json(const struct fs_topn_row *row)
{
	return json_pack("{s:s,s:I,s:I,s:I}", "key", row->key, "bytes", (json_int_t)row->bytes,
			 "packets", (json_int_t)row->packets, "flows", (json_int_t)row->flows);
}

/* Reads the fields top and series share. */
static int
read_view(const struct fs_console_form *form, enum fs_topn_window def_window,
	  enum fs_topn_dim *dim, enum fs_topn_metric *metric, enum fs_topn_window *window,
	  char *err, size_t err_len)
{
	if (fs_console_param_dim(form, "dim", FS_TOPN_SRC_ADDR, dim, err, err_len) < 0 ||
	    fs_console_param_metric(form, "metric", FS_TOPN_BYTES, metric, err, err_len) < 0 ||
	    fs_console_param_window(form, "window", def_window, window, err, err_len) < 0)
		return FS_ERR_INVALID;
	return 0;
}

int
fs_console_api_top(const struct fs_console_env *env, const struct fs_console_form *form,
		   json_t **out)
{
	enum fs_topn_dim dim;
	enum fs_topn_metric metric;
	enum fs_topn_window window;
	struct fs_topn_row *rows = NULL;
	struct fs_addr host_addr;
	char host[FS_ADDR_STRLEN] = "", err[256];
	int64_t n;
	int nrows = 0, fetch, status;
	json_t *list;

	if (read_view(form, FS_TOPN_5M, &dim, &metric, &window, err, sizeof(err)) < 0 ||
	    fs_console_param_int(form, "n", 10, 1, env->limits.rows_max, &n, err, sizeof(err)) < 0)
		return fs_console_api_error(out, 400, err);
	if (fs_console_form_get(form, "host")) {
		if (fs_console_param_addr(form, "host", &host_addr, err, sizeof(err)) < 0)
			return fs_console_api_error(out, 400, err);
		if (dim != FS_TOPN_CONVERSATION)
			return fs_console_api_error(out, 400,
						    "invalid request: 'host' needs dim=conversation");
		fs_addr_format(&host_addr, host);
	}
	/* A host's conversations are found among the largest FS_TOPN_MAX_N. */
	fetch = host[0] ? FS_TOPN_MAX_N : (int)n;
	rows = calloc((size_t)fetch, sizeof(*rows));
	if (!rows)
		return fs_console_api_error(out, 500, "out of memory");
	if (fs_topn_query(env->redis, dim, metric, window, fetch, env->now_ms / 1000, rows,
			  &nrows) < 0) {
		status = redis_error(out, env, "top-N counters");
		goto done;
	}
	list = json_array();
	for (int i = 0; list && i < nrows && (int64_t)json_array_size(list) < n; i++) {
		if (host[0] && !conversation_has(rows[i].key, host))
			continue;
		json_array_append_new(list, row_json(&rows[i]));
	}
	*out = json_pack("{s:s,s:s,s:s,s:I,s:I,s:o}", "dim", fs_topn_dim_name(dim), "metric",
			 fs_topn_metric_name(metric), "window", fs_topn_window_name(window),
			 "window_s", (json_int_t)fs_topn_window_seconds(window), "now_ms",
			 (json_int_t)env->now_ms, "rows", list);
	status = *out ? 200 : fs_console_api_error(out, 500, "out of memory");
	if (*out && host[0])
		json_object_set_new(*out, "host", json_string(host));
done:
	free(rows);
	return status;
}

static json_t *
u64_array(const uint64_t *values, int count)
{
	json_t *array = json_array();

	for (int i = 0; array && i < count; i++)
		json_array_append_new(array, json_integer((json_int_t)values[i]));
	return array;
}

int
fs_console_api_series(const struct fs_console_env *env, const struct fs_console_form *form,
		      json_t **out)
{
	enum fs_topn_dim dim;
	enum fs_topn_metric metric;
	enum fs_topn_window window;
	struct fs_topn_series *series;
	json_t *members, *starts;
	char err[256];
	int64_t n;
	int status;

	if (read_view(form, FS_TOPN_1H, &dim, &metric, &window, err, sizeof(err)) < 0 ||
	    fs_console_param_int(form, "n", 5, 0, FS_TOPN_SERIES_MAX_MEMBERS, &n, err,
				 sizeof(err)) < 0)
		return fs_console_api_error(out, 400, err);
	series = calloc(1, sizeof(*series));
	if (!series)
		return fs_console_api_error(out, 500, "out of memory");
	if (fs_topn_series_query(env->redis, dim, metric, window, (int)n, env->now_ms / 1000,
				 series) < 0) {
		status = redis_error(out, env, "time series");
		goto done;
	}
	starts = json_array();
	for (int i = 0; starts && i < series->npoints; i++)
		json_array_append_new(starts, json_integer((json_int_t)series->start_s[i]));
	members = json_array();
	for (int m = 0; members && m < series->nmembers; m++)
		json_array_append_new(members,
				      json_pack("{s:s,s:o}", "key", series->members[m], "values",
						u64_array(series->values[m], series->npoints)));
	*out = json_pack("{s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:o}", "dim", fs_topn_dim_name(dim),
			 "metric", fs_topn_metric_name(metric), "window",
			 fs_topn_window_name(window), "resolution_s",
			 (json_int_t)series->resolution_s, "start_s", starts, "total",
			 u64_array(series->total, series->npoints), "other",
			 u64_array(series->other, series->npoints), "members", members);
	status = *out ? 200 : fs_console_api_error(out, 500, "out of memory");
done:
	free(series);
	return status;
}

int
fs_console_api_alerts(const struct fs_console_env *env, const struct fs_console_form *form,
		      json_t **out)
{
	struct fs_alert_entry *entries;
	size_t count = 0, skipped = 0;
	char err[256], text[FS_ALERT_JSON_MAX];
	int64_t limit;
	json_t *list;
	int status;

	if (fs_console_param_int(form, "limit", 100, 1, env->limits.rows_max, &limit, err,
				 sizeof(err)) < 0)
		return fs_console_api_error(out, 400, err);
	entries = calloc((size_t)limit, sizeof(*entries));
	if (!entries)
		return fs_console_api_error(out, 500, "out of memory");
	if (fs_alert_list_read(env->redis, (size_t)limit, entries, &count, &skipped, err,
			       sizeof(err)) < 0) {
		status = fs_console_api_error(out, 502, err);
		goto done;
	}
	list = json_array();
	for (size_t i = 0; list && i < count; i++) {
		json_t *alert;

		if (fs_alert_format_json(&entries[i].alert, text, sizeof(text)) < 0)
			continue;
		alert = json_loads(text, 0, NULL);
		if (!alert)
			continue;
		json_object_set_new(alert, "open", json_boolean(entries[i].open));
		json_array_append_new(list, alert);
	}
	*out = json_pack("{s:o,s:I}", "alerts", list, "skipped", (json_int_t)skipped);
	status = *out ? 200 : fs_console_api_error(out, 500, "out of memory");
done:
	free(entries);
	return status;
}

/* Returns the byte offset of 1-based line and column in text, clamped to its length. */
static size_t
offset_of(const char *text, unsigned line, unsigned column)
{
	size_t len = strlen(text), pos = 0;

	for (unsigned l = 1; l < line && pos < len; pos++) {
		if (text[pos] == '\n')
			l++;
	}
	pos += column > 0 ? column - 1 : 0;
	return pos < len ? pos : len;
}

int
fs_console_api_filter(const struct fs_console_env *env, const struct fs_console_form *form,
		      json_t **out)
{
	struct fs_filter_error ferr = { 0 };
	struct fs_filter *filter = NULL;
	const char *text;
	char err[256];
	int rc;

	(void)env;
	if (fs_console_param_text(form, "filter", FS_CONSOLE_FILTER_MAX, &text, err,
				  sizeof(err)) < 0)
		return fs_console_api_error(out, 400, err);
	/* /api/flows takes an empty filter as every flow, so it is valid here too. */
	rc = text[0] ? fs_filter_compile(&filter, text, NULL, &ferr) : 0;
	fs_filter_free(filter);
	if (rc == FS_ERR_SYSTEM)
		return fs_console_api_error(out, 500, "out of memory");
	if (rc == 0) {
		*out = json_pack("{s:b}", "valid", 1);
	} else {
		/* message is the first line of the error; error adds the excerpt and caret. */
		char message[sizeof(ferr.text)];
		size_t first = strcspn(ferr.text, "\n");

		memcpy(message, ferr.text, first);
		message[first] = '\0';
		*out = json_pack("{s:b,s:s,s:s,s:I,s:I,s:I}", "valid", 0, "message", message,
				 "error", ferr.text, "line",
				 (json_int_t)ferr.line, "column", (json_int_t)ferr.column, "offset",
				 (json_int_t)offset_of(text, ferr.line, ferr.column));
	}
	return *out ? 200 : fs_console_api_error(out, 500, "out of memory");
}
