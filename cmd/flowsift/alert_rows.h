/*
 * alert_rows.h - prints alerts as table or CSV rows, for `flowsift report
 * alerts` (alerts kept in Redis) and `flowsift print` (alert records of a
 * topic such as flows.alerts).
 *
 * Each alert is the JSON object that fs_alert_format_json() writes
 * (alert/alert.h), parsed with jansson, so both commands print the same
 * fields as the JSON alert output.
 *
 * Table columns: state, rule, subject, port, observed, threshold,
 * first_seen, last_seen (UTC, when flowsift-report raised and last saw the
 * alert), flows_last (UTC, when flowsift-ingest received the latest flow of
 * the last flush that matched), seen_by (exporter/interface) and id.
 * CSV columns: state, rule, subject, port, peer, observed, threshold,
 * window_s, first_seen, last_seen, id, exporter, exporter_name,
 * exporter_site, interface, interface_name, flows_first, flows_last.
 * A time the alert lacks is "-" in the table and empty in CSV.
 */
#ifndef FS_CMD_ALERT_ROWS_H
#define FS_CMD_ALERT_ROWS_H

#include <jansson.h>

enum alert_rows_format { ALERT_ROWS_TABLE, ALERT_ROWS_CSV };

/* Prints the header line of format to stdout. */
void alert_rows_header(enum alert_rows_format format);

/*
 * Prints alert (borrowed) as one line of format to stdout.  state fills the
 * table's state column ("open", "cleared", or the record's own state); the
 * CSV state column is the alert's "state" member.
 */
void alert_rows_print(json_t *alert, const char *state, enum alert_rows_format format);

#endif
