/* alert_rows.c - alerts as table or CSV rows. */
#include "alert_rows.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "core/flow.h"

static void
format_ms(int64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Formats the time of key in alert, or "-" when the alert has none. */
static void
format_key_ms(json_t *alert, const char *key, char *buf, size_t len)
{
	json_t *ms = json_object_get(alert, key);

	if (json_is_integer(ms) && json_integer_value(ms) > 0)
		format_ms(json_integer_value(ms), buf, len);
	else
		snprintf(buf, len, "-");
}

/*
 * Writes where an alert's flows were seen, "NAME/IFNAME", with the address
 * and SNMP index where names are missing ("192.0.2.1/7"), or "-".
 */
static const char *
seen_by_text(json_t *alert, char *buf, size_t len)
{
	const char *exporter = json_string_value(json_object_get(alert, "exporter_name"));
	const char *ifname = json_string_value(json_object_get(alert, "interface_name"));
	json_t *ifindex = json_object_get(alert, "interface");

	if (!exporter)
		exporter = json_string_value(json_object_get(alert, "exporter"));
	if (!exporter)
		return "-";
	if (ifname)
		snprintf(buf, len, "%s/%s", exporter, ifname);
	else if (json_is_integer(ifindex))
		snprintf(buf, len, "%s/%lld", exporter, (long long)json_integer_value(ifindex));
	else
		snprintf(buf, len, "%s", exporter);
	return buf;
}

/* Prints text as one quoted CSV field (RFC 4180): quotes inside are doubled. */
static void
print_csv_text(const char *text)
{
	putchar('"');
	for (const char *c = text; *c; c++) {
		if (*c == '"')
			putchar('"');
		putchar(*c);
	}
	putchar('"');
}

void
alert_rows_header(enum alert_rows_format format)
{
	if (format == ALERT_ROWS_CSV)
		printf("state,rule,subject,port,peer,observed,threshold,window_s,first_seen,last_seen,id,"
		       "exporter,exporter_name,exporter_site,interface,interface_name,flows_first,"
		       "flows_last\n");
	else
		printf("%-8s %-10s %-22s %6s %9s %9s %-20s %-20s %-20s %-28s %s\n", "state", "rule",
		       "subject", "port", "observed", "threshold", "first_seen", "last_seen",
		       "flows_last", "seen_by", "id");
}

void
alert_rows_print(json_t *a, const char *state, enum alert_rows_format format)
{
	char first[32], last[32], flows_first[32], flows_last[32];
	char seen_by[FS_FLOW_EXPORTER_NAME_LEN + FS_FLOW_IF_NAME_LEN + 16];
	const char *peer = json_string_value(json_object_get(a, "peer"));
	const char *ifname;

	format_ms(json_integer_value(json_object_get(a, "first_seen_ms")), first, sizeof(first));
	format_ms(json_integer_value(json_object_get(a, "last_seen_ms")), last, sizeof(last));
	format_key_ms(a, "flows_first_ms", flows_first, sizeof(flows_first));
	format_key_ms(a, "flows_last_ms", flows_last, sizeof(flows_last));
	if (format == ALERT_ROWS_CSV) {
		static const char *const texts[] = { "exporter", "exporter_name",
						     "exporter_site" };

		printf("%s,%s,%s,%lld,%s,%lld,%lld,%lld,%s,%s,",
		       json_string_value(json_object_get(a, "state")),
		       json_string_value(json_object_get(a, "rule")),
		       json_string_value(json_object_get(a, "subject")),
		       (long long)json_integer_value(json_object_get(a, "port")), peer ? peer : "",
		       (long long)json_integer_value(json_object_get(a, "observed")),
		       (long long)json_integer_value(json_object_get(a, "threshold")),
		       (long long)json_integer_value(json_object_get(a, "window_s")), first, last);
		print_csv_text(json_string_value(json_object_get(a, "id")));
		for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
			const char *v = json_string_value(json_object_get(a, texts[t]));

			putchar(',');
			print_csv_text(v ? v : "");
		}
		if (json_is_integer(json_object_get(a, "interface")))
			printf(",%lld,", (long long)json_integer_value(json_object_get(a, "interface")));
		else
			printf(",,");
		ifname = json_string_value(json_object_get(a, "interface_name"));
		print_csv_text(ifname ? ifname : "");
		printf(",%s,%s\n", flows_first[0] == '-' ? "" : flows_first,
		       flows_last[0] == '-' ? "" : flows_last);
	} else {
		printf("%-8s %-10s %-22s %6lld %9lld %9lld %-20s %-20s %-20s %-28s %s\n", state,
		       json_string_value(json_object_get(a, "rule")),
		       json_string_value(json_object_get(a, "subject")),
		       (long long)json_integer_value(json_object_get(a, "port")),
		       (long long)json_integer_value(json_object_get(a, "observed")),
		       (long long)json_integer_value(json_object_get(a, "threshold")), first,
		       last, flows_last, seen_by_text(a, seen_by, sizeof(seen_by)),
		       json_string_value(json_object_get(a, "id")));
	}
}
