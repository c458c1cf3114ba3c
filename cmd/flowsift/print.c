/*
 * print.c - `flowsift print`: shows flows from captures, archive files or a
 * Kafka topic as a table, JSON lines or CSV, optionally filtered.
 *
 * Inputs: pcap, pcapng and raw datagram files go through one decoder, as in
 * `flowsift decode`; files that start with the Avro container magic are read
 * as archives written by `flowsift capture`; a folder stands for every
 * closed archive file in it, oldest first.  With --topic, a bounded range of
 * the topic is read (kafka/topic_range.h) and the program stops at its end.
 */
#include <errno.h>
#include <jansson.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/alert_codec.h"
#include "archive/archive_dir.h"
#include "archive/archive_reader.h"
#include "avro/flow_codec.h"
#include "commands.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/flow_json.h"
#include "core/flow_text.h"
#include "core/log.h"
#include "core/result.h"
#include "decode/capture.h"
#include "decode/decoder.h"
#include "filter/filter.h"
#include "flow_scale.h"
#include "flow_source.h"
#include "kafka/topic_range.h"
#include "time_range.h"
#include "alert_rows.h"
#include "topic_records.h"

#define STDOUT_BUFFER_SIZE (1024 * 1024)
#define PROGRESS_DELAY_MS 1000
#define PROGRESS_INTERVAL_MS 250
#define TOPIC_TIMEOUT_MS 10000
#define POLL_TIMEOUT_MS 500

enum output_format { OUT_TABLE, OUT_JSON, OUT_CSV };

struct print_args {
	const char *filter_text;
	const char *fields;
	const char *topic;
	const char *from;
	const char *to;
	const char *offset;
	const char *config_path;
	struct time_range range;        /* --from and --to, parsed */
	enum output_format format;
	bool no_header;
	bool no_scale;
	int first_file;
};

struct print_run {
	struct fs_filter *filter;       /* NULL prints every flow */
	enum output_format format;
	struct fs_flow_columns columns;
	struct fs_flow_codec *codec;
	struct fs_decoder *decoder;
	struct flow_scale scale;
	struct time_range files_range;  /* flows of files received outside it are left out */
	uint64_t read;
	uint64_t outside;               /* flows of files received outside files_range */
	uint64_t files_skipped;         /* archive files with only flows before --from */
	uint64_t printed;
	uint64_t rejected;              /* flows in Kafka messages that could not be decoded */
	struct topic_records records;   /* counter samples read from the topic */
	struct fs_alert_codec *alert_codec;
	uint64_t alerts;                /* alert records read from the topic */
	uint64_t alerts_printed;
	uint64_t alerts_filtered;       /* alert records left out because -f applies to flows */
	uint64_t alerts_rejected;       /* alert records that could not be decoded */
	bool alert_header_pending;      /* the alert header line is printed before the first alert */
	bool header_pending;            /* the header line is printed before the first row */
	uint64_t too_long;              /* flows whose line did not fit */
	/* Progress on a terminal. */
	bool progress;
	bool progress_shown;
	int64_t started_ms;
	int64_t next_progress_ms;
	const char *source;
	struct fs_topic_range *range;
};

static void
print_help(void)
{
	printf(
		"usage: flowsift print [-f FILTER] [--format table|json|csv] [--fields LIST]\n"
		"                      [--no-header] [--config FILE]\n"
		"                      [--from TIME] [--to TIME]\n"
		"                      FILE... | --topic TOPIC [--offset N]\n"
		"\n"
		"Prints flows as an aligned table (default), JSON lines (the objects of\n"
		"'flowsift decode', counters scaled unless --no-scale) or CSV with a\n"
		"header line.  The alert records of a topic (flows.alerts) are printed\n"
		"with the columns of 'flowsift report alerts' (table and CSV), or as the\n"
		"JSON lines of alert.json.output; -f and --fields apply to flows only.\n"
		"\n"
		"inputs:\n"
		"  FILE...          pcap, pcapng or raw datagram captures (decoded with one\n"
		"                   template cache, in order), Avro files written by\n"
		"                   'flowsift capture', or a capture folder (every closed\n"
		"                   file in it, oldest first)\n"
		"  --topic TOPIC    read the topic from --from (or --offset) up to --to, or\n"
		"                   up to the last message present at start, then stop\n"
		"  --from TIME      2024-01-02T13:00:00Z, 2024-01-02, Unix seconds, or\n"
		"                   relative such as -15m, -2h, -1d, now (UTC; default:\n"
		"                   the oldest); a topic is read from the first message\n"
		"                   with this timestamp; files keep the flows received\n"
		"                   (time_received_ns) at or after TIME, and archive files\n"
		"                   that hold only older flows are not read\n"
		"  --to TIME        topic: stop before the first message at or after TIME;\n"
		"                   files: keep the flows received before TIME\n"
		"  --offset N       start at offset N in every partition; -N starts N\n"
		"                   messages before the end of each partition\n"
		"\n"
		"options:\n"
		"  -f, --filter EXPR  print only the flows that match EXPR (docs/filter.md)\n"
		"  --format FORMAT    table, json or csv\n"
		"  --fields LIST      comma-separated columns for table and csv, by column or\n"
		"                     schema field name; 'all' for every column;\n"
		"                     'flowsift print --fields help' lists them\n"
		"                     (table default: " FS_FLOW_TEXT_TABLE_DEFAULT ")\n"
		"  --no-header        leave out the header line\n"
		"  --no-scale         print bytes and packets as exported, also for flows\n"
		"                     that flowsift-enrich scaled; by default sampled\n"
		"                     counters are multiplied by the sampling rate as\n"
		"                     enrich does, the exported values stay in\n"
		"                     exported_bytes and exported_packets (JSON, or add them\n"
		"                     to --fields), and flows enrich scaled stay as they are\n"
		"  --config FILE      read settings (Kafka servers, log level) from FILE\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Times are UTC.  Progress is shown on stderr when it is a terminal and the\n"
		"read takes more than a second.\n"
		"\n"
		"Exit status: 0 when every input was read, 1 when an input cannot be read or\n"
		"was read only up to damage (such as a capture cut short),\n"
		"2 on a usage error or an invalid filter.\n");
}

static void
show_progress(struct print_run *run, bool force)
{
	int64_t now;
	uint64_t done, total;

	if (!run->progress)
		return;
	now = fs_monotonic_ms();
	if (!force && (now < run->next_progress_ms || now - run->started_ms < PROGRESS_DELAY_MS))
		return;
	run->next_progress_ms = now + PROGRESS_INTERVAL_MS;
	if (run->range != NULL) {
		fs_topic_range_progress(run->range, &done, &total);
		fprintf(stderr, "\r\033[K%s: %" PRIu64 " of %" PRIu64 " messages (%d%%), %" PRIu64
			" flows shown", run->source, done, total,
			total ? (int)(done * 100 / total) : 100, run->printed);
	} else {
		fprintf(stderr, "\r\033[K%s: %" PRIu64 " flows read, %" PRIu64 " shown",
			run->source, run->read, run->printed);
	}
	run->progress_shown = true;
}

static void
clear_progress(struct print_run *run)
{
	if (run->progress_shown)
		fputs("\r\033[K", stderr);
	run->progress_shown = false;
}

static void
print_header(struct print_run *run)
{
	char line[FS_FLOW_TEXT_MAX_LINE];

	run->header_pending = false;
	if (run->format == OUT_JSON)
		return;
	if (fs_flow_text_header(&run->columns,
				run->format == OUT_CSV ? FS_FLOW_TEXT_CSV : FS_FLOW_TEXT_TABLE,
				line, sizeof(line)) >= 0) {
		fputs(line, stdout);
		fputc('\n', stdout);
	}
}

/* Scales, filters and prints one flow; also the decoder's sink. */
static void
emit_flow(const struct fs_flow *read, void *opaque)
{
	struct print_run *run = opaque;
	char line[FS_FLOW_JSON_MAX + FS_FLOW_TEXT_MAX_LINE];
	struct fs_flow copy;
	const struct fs_flow *flow;
	int len;

	run->read++;
	if ((run->read & 1023) == 0)
		show_progress(run, false);
	if (!time_range_contains(&run->files_range, read->time_received_ns)) {
		run->outside++;
		return;
	}
	flow = flow_scale_apply(&run->scale, read, &copy);
	if (run->filter != NULL && !fs_filter_match(run->filter, flow))
		return;
	if (run->format == OUT_JSON)
		len = fs_flow_json_write(flow, line, sizeof(line) - 1);
	else
		len = fs_flow_text_row(&run->columns,
				       run->format == OUT_CSV ? FS_FLOW_TEXT_CSV : FS_FLOW_TEXT_TABLE,
				       flow, line, sizeof(line) - 1);
	if (len < 0) {
		run->too_long++;
		return;
	}
	if (run->header_pending)
		print_header(run);
	line[len] = '\n';
	fwrite(line, 1, (size_t)len + 1, stdout);
	run->printed++;
}

static int
decode_datagram(const struct fs_datagram *dg, void *opaque)
{
	struct print_run *run = opaque;

	/* Faults are counted by the decoder. */
	(void)fs_decoder_decode(run->decoder, dg->data, dg->len, &dg->exporter,
				dg->exporter_port, dg->time_ns, emit_flow, run);
	return 0;
}

/*
 * Prints the flows of one archive file.  listed is true when a folder
 * listing named the file, so a file that is gone by now was removed after
 * the listing and is skipped with a note.  Returns 0, or -1 after printing
 * the error.
 */
static int
print_archive(struct print_run *run, const char *path, bool listed)
{
	struct fs_archive_reader *reader;
	struct fs_flow flow;
	char err[1024];
	int rc;

	if (fs_archive_reader_open(&reader, path, run->codec, err, sizeof(err)) < 0) {
		clear_progress(run);
		if (listed && fs_archive_file_gone(path)) {
			fprintf(stderr, "flowsift print: '%s' was removed after the folder was listed "
				"(retention removes the oldest files); its flows are not shown\n", path);
			return 0;
		}
		fprintf(stderr, "flowsift print: %s\n", err);
		return -1;
	}
	while ((rc = fs_archive_reader_next(reader, &flow, err, sizeof(err))) == 1)
		emit_flow(&flow, run);
	fs_archive_reader_free(reader);
	if (rc < 0) {
		clear_progress(run);
		fprintf(stderr, "flowsift print: %s\n", err);
		return -1;
	}
	return 0;
}

static int
print_folder(struct print_run *run, const char *dir)
{
	struct fs_archive_file *files;
	size_t count;
	char err[1024];
	int failed = 0;

	if (fs_archive_list(dir, &files, &count, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift print: %s\n", err);
		return -1;
	}
	if (count == 0)
		fprintf(stderr, "flowsift print: '%s' contains no closed flows-*.avro file\n", dir);
	for (size_t i = 0; i < count; i++) {
		char path[4096];

		if (time_range_skips_archive(&run->files_range, files, count, i)) {
			run->files_skipped++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		if (print_archive(run, path, true) < 0)
			failed = -1;
	}
	free(files);
	return failed;
}

/* Prints the flows of the file or folder at path; next_path is the argument after it, or NULL. */
static int
print_file(struct print_run *run, const char *path, const char *next_path)
{
	unsigned char head[FS_ARCHIVE_MAGIC_LEN];
	struct fs_capture_stats cs = { .files = 0 };
	struct stat st;
	char err[1024];
	size_t got;
	FILE *f;

	run->source = path;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return print_folder(run, path);
	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "flowsift print: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	got = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (fs_archive_is_container(head, got) || fs_archive_has_suffix(path)) {
		if (time_range_skips_archive_path(&run->files_range, path, next_path)) {
			run->files_skipped++;
			return 0;
		}
		return print_archive(run, path, false);
	}
	if (fs_capture_read_file_stats(path, decode_datagram, run, &cs, err, sizeof(err)) < 0) {
		clear_progress(run);
		fprintf(stderr, "flowsift print: %s\n", err);
		return -1;
	}
	/* The flows before the damage were printed; the warning above names the file. */
	return cs.read_errors ? -1 : 0;
}

static int
emit_message_flow(const struct fs_flow *flow, void *opaque)
{
	emit_flow(flow, opaque);
	return 0;
}

/*
 * Prints one alert record as `flowsift report alerts` does (table or CSV),
 * or as the JSON line of the JSON alert output.
 */
static void
emit_alert(struct print_run *run, const void *value, size_t len)
{
	enum alert_rows_format rows_format = run->format == OUT_CSV ? ALERT_ROWS_CSV
								    : ALERT_ROWS_TABLE;
	char text[FS_ALERT_JSON_MAX];
	struct fs_alert alert;
	json_t *obj;

	run->alerts++;
	if (run->filter != NULL) {
		run->alerts_filtered++;
		return;
	}
	if (fs_alert_codec_decode(run->alert_codec, value, len, &alert) < 0 ||
	    fs_alert_format_json(&alert, text, sizeof(text)) < 0) {
		run->alerts_rejected++;
		return;
	}
	if (run->format == OUT_JSON) {
		puts(text);
		run->alerts_printed++;
		return;
	}
	obj = json_loads(text, 0, NULL);
	if (obj == NULL) {
		run->alerts_rejected++;
		return;
	}
	if (run->alert_header_pending) {
		alert_rows_header(rows_format);
		run->alert_header_pending = false;
	}
	alert_rows_print(obj, fs_alert_state_name(alert.state), rows_format);
	json_decref(obj);
	run->alerts_printed++;
}

static int
handle_message(const void *value, size_t len, int64_t timestamp_ms, int32_t partition,
	       int64_t offset, void *opaque)
{
	struct print_run *run = opaque;

	(void)timestamp_ms;
	(void)partition;
	(void)offset;
	if (topic_records_kind(&run->records, value, len) == TOPIC_RECORD_ALERT) {
		emit_alert(run, value, len);
		return 0;
	}
	if (topic_records_take(&run->records, value, len))
		return 0;
	fs_flow_codec_decode_each(run->codec, value, len, emit_message_flow, run, &run->rejected);
	return 0;
}

static int
print_topic(struct print_run *run, const struct print_args *args, const struct fs_config *config)
{
	struct fs_topic_range_options opt = {
		.topic = args->topic, .from_ms = args->range.from_ms, .to_ms = args->range.to_ms,
		.timeout_ms = TOPIC_TIMEOUT_MS,
	};
	struct fs_kafka_props props = fs_kafka_props_config(config);
	char bootstrap[1024], err[1024];
	int rc;

	if (fs_config_bootstrap(config, bootstrap, sizeof(bootstrap), err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift print: %s\n", err);
		return -1;
	}
	if (args->offset != NULL) {
		char *end;

		errno = 0;
		opt.offset = strtoll(args->offset, &end, 10);
		if (errno != 0 || end == args->offset || *end != '\0') {
			fprintf(stderr, "flowsift print: invalid offset '%s'\n", args->offset);
			return -2;
		}
		opt.has_offset = true;
	}
	rc = fs_topic_range_open(&run->range, bootstrap, &props, &opt, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "flowsift print: %s (Kafka servers: %s)\n", err, bootstrap);
		return -1;
	}
	run->source = args->topic;
	while ((rc = fs_topic_range_read(run->range, POLL_TIMEOUT_MS, handle_message, run, err,
					 sizeof(err))) == 1)
		show_progress(run, false);
	fs_topic_range_free(run->range);
	run->range = NULL;
	if (rc < 0) {
		clear_progress(run);
		fprintf(stderr, "flowsift print: %s\n", err);
		return -1;
	}
	clear_progress(run);
	return topic_records_report(&run->records, "flowsift print", args->topic, run->read);
}

/* Prints the column names and aliases that --fields accepts. */
static void
print_column_names(void)
{
	char names[2048], aliases[512];

	fs_flow_columns_names(names, sizeof(names));
	fs_flow_columns_aliases(aliases, sizeof(aliases));
	printf("columns: %s\naliases: %s\n", names, aliases);
}

/* Returns 0, 1 after --help or --fields help, or 2 after a usage error (reported). */
static int
parse_args(int argc, char **argv, struct print_args *a)
{
	static const struct option options[] = {
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' },
		{ "fields", required_argument, NULL, 'l' },
		{ "topic", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'a' },
		{ "to", required_argument, NULL, 'b' },
		{ "offset", required_argument, NULL, 'o' },
		{ "no-header", no_argument, NULL, 'n' },
		{ "no-scale", no_argument, NULL, 'S' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	/* Without a leading '+', getopt permutes options and files freely. */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:h", options, NULL)) != -1) {
		switch (opt) {
		case 'f': a->filter_text = optarg; break;
		case 'l': a->fields = optarg; break;
		case 't': a->topic = optarg; break;
		case 'a': a->from = optarg; break;
		case 'b': a->to = optarg; break;
		case 'o': a->offset = optarg; break;
		case 'n': a->no_header = true; break;
		case 'S': a->no_scale = true; break;
		case 'c': a->config_path = optarg; break;
		case 'h': print_help(); return 1;
		case 'F':
			if (strcmp(optarg, "table") == 0) {
				a->format = OUT_TABLE;
			} else if (strcmp(optarg, "json") == 0) {
				a->format = OUT_JSON;
			} else if (strcmp(optarg, "csv") == 0) {
				a->format = OUT_CSV;
			} else {
				fprintf(stderr, "flowsift print: invalid format '%s'; use table, json or csv\n",
					optarg);
				goto usage_error;
			}
			break;
		default:
			goto usage_error;
		}
	}
	a->first_file = optind;
	if (a->fields != NULL && strcmp(a->fields, "help") == 0) {
		print_column_names();
		return 1;
	}
	if (a->topic != NULL && optind < argc) {
		fprintf(stderr, "flowsift print: give files or --topic, not both\n");
		goto usage_error;
	}
	if (a->topic == NULL && optind >= argc) {
		fprintf(stderr, "flowsift print: no input; give files or --topic TOPIC\n");
		goto usage_error;
	}
	if (a->topic == NULL && a->offset) {
		fprintf(stderr, "flowsift print: --offset needs --topic\n");
		goto usage_error;
	}
	if (a->from != NULL && flow_source_parse_time(a->from, (int64_t)time(NULL), &a->range.from_ms) < 0) {
		fprintf(stderr, "flowsift print: invalid time '%s' for --from; use "
			"2024-01-02T13:00:00Z, Unix seconds or -15m\n", a->from);
		goto usage_error;
	}
	if (a->to != NULL && flow_source_parse_time(a->to, (int64_t)time(NULL), &a->range.to_ms) < 0) {
		fprintf(stderr, "flowsift print: invalid time '%s' for --to; use "
			"2024-01-02T13:00:00Z, Unix seconds or -15m\n", a->to);
		goto usage_error;
	}
	if (time_range_check(&a->range, "flowsift print") < 0)
		return 2;
	if (a->from != NULL && a->offset != NULL) {
		fprintf(stderr, "flowsift print: give --from or --offset, not both\n");
		goto usage_error;
	}
	return 0;
usage_error:
	usage_hint("print");
	return 2;
}

/* Compiles the filter and the column list; returns 0 or 2 after reporting the error. */
static int
prepare(struct print_run *run, const struct print_args *args)
{
	const char *fields = args->fields;
	struct fs_filter_error ferr;
	char err[2048];

	if (args->filter_text != NULL &&
	    fs_filter_compile(&run->filter, args->filter_text, NULL, &ferr) < 0) {
		fprintf(stderr, "flowsift print: invalid filter: %s\n", ferr.text);
		return 2;
	}
	if (fields == NULL)
		fields = args->format == OUT_CSV ? FS_FLOW_TEXT_CSV_DEFAULT : FS_FLOW_TEXT_TABLE_DEFAULT;
	if (fs_flow_columns_parse(&run->columns, fields, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift print: invalid --fields: %s\n", err);
		return 2;
	}
	run->format = args->format;
	return 0;
}

int
cmd_print(int argc, char **argv)
{
	struct print_args args = { .format = OUT_TABLE, .range = { -1, -1 } };
	struct print_run run = { .files_range = { -1, -1 } };
	struct fs_config *config = NULL;
	char err[512];
	int rc, status = 0;

	rc = parse_args(argc, argv, &args);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	rc = prepare(&run, &args);
	if (rc != 0) {
		fs_filter_free(run.filter);
		return rc == 1 ? 0 : 2;
	}
	if (fs_config_load(&config, args.config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift print: %s\n", err);
		fs_filter_free(run.filter);
		return 1;
	}
	fs_config_apply_logging(config);
	if (flow_scale_init(&run.scale, !args.no_scale,
			    fs_config_str(config, "enrich.sampling.override"), "flowsift print") < 0) {
		status = 1;
		goto out;
	}
	run.codec = fs_flow_codec_new(err, sizeof(err));
	run.decoder = fs_decoder_new(NULL);
	if (run.codec != NULL)
		run.alert_codec = fs_alert_codec_new(err, sizeof(err));
	if (run.codec == NULL || run.alert_codec == NULL || run.decoder == NULL ||
	    topic_records_init(&run.records, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift print: cannot start: %s\n",
			run.decoder == NULL ? "out of memory" : err);
		status = 1;
		goto out;
	}
	setvbuf(stdout, NULL, _IOFBF, STDOUT_BUFFER_SIZE);
	run.progress = isatty(STDERR_FILENO) == 1;
	run.started_ms = fs_monotonic_ms();
	/*
	 * The header waits for the first row, so a topic of alerts or counters
	 * prints none.  An input read without error and without flows still gets
	 * one at the end.
	 */
	run.header_pending = !args.no_header;
	run.alert_header_pending = !args.no_header;

	if (args.topic != NULL) {
		rc = print_topic(&run, &args, config);
		if (rc < 0)
			status = rc == -2 ? 2 : 1;
	} else {
		run.files_range = args.range;
		for (int i = args.first_file; i < argc; i++) {
			if (print_file(&run, argv[i], i + 1 < argc ? argv[i + 1] : NULL) < 0)
				status = 1;
		}
	}
	clear_progress(&run);
	/* After a failed read, a header alone on stdout would look like an empty result. */
	if (run.header_pending && status == 0 && run.alerts == 0 && run.records.counters == 0)
		print_header(&run);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "flowsift print: failed to write to stdout: %s\n", strerror(errno));
		status = 1;
	}
	if (run.rejected > 0)
		fprintf(stderr, "flowsift print: skipped %" PRIu64 " flows that could not be decoded\n",
			run.rejected);
	if (run.outside > 0 || run.files_skipped > 0)
		fprintf(stderr, "flowsift print: left out %" PRIu64 " flows received outside "
			"--from/--to; %" PRIu64 " archive files before --from not read\n",
			run.outside, run.files_skipped);
	if (run.alerts_filtered > 0)
		fprintf(stderr, "flowsift print: left out %" PRIu64 " alerts, because -f applies to "
			"flows only\n", run.alerts_filtered);
	if (run.alerts_rejected > 0)
		fprintf(stderr, "flowsift print: skipped %" PRIu64 " alerts that could not be decoded\n",
			run.alerts_rejected);
	if (run.too_long > 0)
		fprintf(stderr, "flowsift print: skipped %" PRIu64 " flows whose line is too long\n",
			run.too_long);
	if (run.progress)
		fprintf(stderr, "flowsift print: %" PRIu64 " flows read, %" PRIu64 " shown\n",
			run.read, run.printed);
out:
	flow_scale_release(&run.scale);
	fs_decoder_free(run.decoder);
	fs_alert_codec_free(run.alert_codec);
	fs_flow_codec_free(run.codec);
	fs_filter_free(run.filter);
	fs_config_free(config);
	return status;
}
