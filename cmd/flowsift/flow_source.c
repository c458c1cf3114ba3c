/* flow_source.c - filtered flows of capture files, archive files or a topic range. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "archive/archive_dir.h"
#include "archive/archive_reader.h"
#include "avro/flow_codec.h"
#include "config/config.h"
#include "decode/capture.h"
#include "decode/decoder.h"
#include "filter/filter.h"
#include "flow_scale.h"
#include "flow_source.h"
#include "kafka/kafka_conf.h"
#include "kafka/topic_range.h"
#include "time_range.h"
#include "topic_records.h"

/* Ages beyond about 300 years are rejected before they overflow. */
#define MAX_AGE_S (INT64_C(300) * 366 * 86400)
/* The last second whose time in nanoseconds fits int64_t (2262-04-11), as receive times are kept. */
#define MAX_TIME_S (INT64_MAX / 1000000000)

struct flow_source {
	const struct flow_source_options *opt;
	struct fs_filter *filter;
	struct fs_decoder *decoder;
	struct fs_config *config;
	struct flow_scale scale;
	struct time_range files_range;  /* range of the flows of files; no bounds while reading the topic */
	flow_source_fn fn;
	void *opaque;
	struct flow_source_stats stats;
	bool failed;
};

static void
take_flow(struct flow_source *src, const struct fs_flow *read)
{
	struct fs_flow copy;
	const struct fs_flow *flow;

	src->stats.flows++;
	if (src->failed)
		return;
	if (!time_range_contains(&src->files_range, read->time_received_ns)) {
		src->stats.outside++;
		return;
	}
	/* Scaling comes first, so a filter on bytes or packets matches the numbers that the report sums. */
	flow = flow_scale_apply(&src->scale, read, &copy);
	if (src->filter && !fs_filter_match(src->filter, flow))
		return;
	src->stats.matched++;
	if (src->fn(flow, src->opaque) < 0)
		src->failed = true;
}

static void
on_decoded(const struct fs_flow *flow, void *opaque)
{
	take_flow(opaque, flow);
}

static int
on_datagram(const struct fs_datagram *d, void *opaque)
{
	struct flow_source *src = opaque;

	fs_decoder_decode(src->decoder, d->data, d->len, &d->exporter, d->exporter_port,
			  d->time_ns, on_decoded, src);
	return 0;
}

/* Returns how many datagrams the decoder recognized as NetFlow, IPFIX or sFlow. */
static uint64_t
export_datagrams(const struct fs_decoder *decoder)
{
	const struct fs_decoder_stats *st = fs_decoder_stats(decoder);
	uint64_t sum = 0;

	for (int i = 0; i < FS_FLOW_TYPE_COUNT; i++)
		sum += st->datagrams_by_type[i];
	return sum;
}

static bool
is_archive(const char *path)
{
	char head[FS_ARCHIVE_MAGIC_LEN];
	FILE *f = fopen(path, "rb");
	bool yes;

	if (!f)
		return false;
	yes = fread(head, 1, sizeof(head), f) == sizeof(head) &&
	      fs_archive_is_container(head, sizeof(head));
	fclose(f);
	return yes;
}

/*
 * Reads the flows of one archive file.  A file that cannot be read to its
 * end is reported and counted as damaged, and the caller goes on with the
 * next file, as for a cut-off capture.  A file of a folder listing that is
 * gone when opened was removed by the archive's retention: it is reported
 * and counted apart.  Returns -1 only when the flow codec cannot be made.
 */
static int
read_archive(struct flow_source *src, const char *path, bool listed)
{
	struct fs_archive_reader *reader = NULL;
	struct fs_flow_codec *codec;
	struct fs_flow flow;
	char err[512];
	int rc;

	codec = fs_flow_codec_new(err, sizeof(err));
	if (!codec) {
		fprintf(stderr, "%s: %s\n", src->opt->command, err);
		return -1;
	}
	rc = fs_archive_reader_open(&reader, path, codec, err, sizeof(err));
	if (rc < 0 && listed && fs_archive_file_gone(path)) {
		fprintf(stderr, "%s: '%s' was removed after the folder was listed (retention "
			"removes the oldest files); its flows are not counted\n", src->opt->command,
			path);
		src->stats.files_removed++;
		fs_flow_codec_free(codec);
		return 0;
	}
	while (rc == 0 && (rc = fs_archive_reader_next(reader, &flow, err, sizeof(err))) == 1) {
		take_flow(src, &flow);
		rc = 0;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", src->opt->command, err);
		src->stats.damaged++;
	}
	fs_archive_reader_free(reader);
	fs_flow_codec_free(codec);
	return 0;
}

int
flow_source_parse_time(const char *text, int64_t now_s, int64_t *ms)
{
	struct tm tm = { 0 };
	const char *end;
	char *num_end;
	long long v, unit;
	int frac_ms = 0;
	time_t t;
	struct tm back;

	if (strcmp(text, "now") == 0) {
		*ms = now_s * 1000;
		return 0;
	}
	if (text[0] == '-') {
		v = strtoll(text + 1, &num_end, 10);
		if (num_end == text + 1 || v < 0 || num_end[0] == '\0' || num_end[1] != '\0')
			return -1;
		switch (num_end[0]) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: return -1;
		}
		if (v > MAX_AGE_S / unit)
			return -1;
		v *= unit;
		*ms = (now_s - v) * 1000;
		return 0;
	}
	v = strtoll(text, &num_end, 10);
	if (num_end != text && *num_end == '\0') {
		if (v < 0 || v > MAX_TIME_S)
			return -1;
		*ms = (int64_t)v * 1000;
		return 0;
	}
	/* A date alone, or a date and a time after 'T' or a space, to the second or the millisecond. */
	end = strptime(text, "%Y-%m-%d", &tm);
	if (end && (*end == 'T' || *end == ' ')) {
		const char *clock = end + 1;

		end = strptime(clock, "%H:%M:%S", &tm);
		if (!end)
			end = strptime(clock, "%H:%M", &tm);
		if (end && *end == '.') {
			if (strspn(end + 1, "0123456789") != 3)
				return -1;
			frac_ms = (end[1] - '0') * 100 + (end[2] - '0') * 10 + (end[3] - '0');
			end += 4;
		}
	}
	if (!end || (*end != '\0' && strcmp(end, "Z") != 0))
		return -1;
	/* strptime() takes day 30 of February; the date must come back unchanged from timegm(). */
	back = tm;
	t = timegm(&back);
	if (back.tm_mday != tm.tm_mday || back.tm_mon != tm.tm_mon || back.tm_year != tm.tm_year ||
	    t < 0 || t > MAX_TIME_S)
		return -1;
	*ms = (int64_t)t * 1000 + frac_ms;
	return 0;
}

struct topic_reader {
	struct flow_source *src;
	struct fs_flow_codec *codec;
	struct topic_records records;   /* alerts and counter samples, which are not flows */
	uint64_t rejected;
};

static int
take_message_flow(const struct fs_flow *flow, void *opaque)
{
	take_flow(opaque, flow);
	return 0;
}

static int
on_message(const void *value, size_t len, int64_t timestamp_ms, int32_t partition,
	   int64_t offset, void *opaque)
{
	struct topic_reader *t = opaque;

	(void)timestamp_ms;
	(void)partition;
	(void)offset;
	if (topic_records_take(&t->records, value, len))
		return 0;
	fs_flow_codec_decode_each(t->codec, value, len, take_message_flow, t->src, &t->rejected);
	return 0;
}

/*
 * Reads every closed archive file of folder dir, oldest first, as
 * `flowsift print` does.  Returns 0 or -1 after printing the error.
 */
static int
read_folder(struct flow_source *src, const char *dir)
{
	struct fs_archive_file *files;
	size_t count;
	char err[1024];
	int rc = 0;

	if (fs_archive_list(dir, &files, &count, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", src->opt->command, err);
		return -1;
	}
	if (count == 0)
		fprintf(stderr, "%s: '%s' contains no closed flows-*.avro file\n",
			src->opt->command, dir);
	for (size_t i = 0; i < count && rc == 0; i++) {
		char path[4096];

		if (time_range_skips_archive(&src->files_range, files, count, i)) {
			src->stats.files_skipped++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		rc = read_archive(src, path, true);
	}
	free(files);
	return rc;
}

static bool
is_folder(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads the flows of opt->topic between opt->from_ms and opt->to_ms into src. */
static int
read_topic(struct flow_source *src, const struct flow_source_options *opt)
{
	struct fs_topic_range_options range = {
		.topic = opt->topic, .from_ms = opt->from_ms, .to_ms = opt->to_ms,
		.timeout_ms = 10000,
	};
	struct topic_reader t = { .src = src };
	struct fs_topic_range *reader = NULL;
	const struct fs_config *config = src->config;
	struct fs_kafka_props props;
	char bootstrap[1024], err[512];
	int rc = -1;

	if (fs_config_bootstrap(config, bootstrap, sizeof(bootstrap), err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", opt->command, err);
		goto out;
	}
	t.codec = fs_flow_codec_new(err, sizeof(err));
	if (!t.codec || topic_records_init(&t.records, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", opt->command, err);
		goto out;
	}
	props = fs_kafka_props_config(config);
	if (fs_topic_range_open(&reader, bootstrap, &props, &range, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: cannot read topic '%s': %s (Kafka servers: %s)\n", opt->command,
			opt->topic, err, bootstrap);
		goto out;
	}
	while ((rc = fs_topic_range_read(reader, 500, on_message, &t, err, sizeof(err))) == 1)
		;
	if (rc < 0)
		fprintf(stderr, "%s: reading topic '%s' failed: %s\n", opt->command, opt->topic, err);
	if (t.rejected)
		fprintf(stderr, "%s: skipped %llu flows that could not be decoded\n", opt->command,
			(unsigned long long)t.rejected);
	if (rc >= 0 && topic_records_report(&t.records, opt->command, opt->topic,
					    src->stats.flows) < 0)
		rc = -1;
out:
	fs_topic_range_free(reader);
	fs_flow_codec_free(t.codec);
	return rc < 0 ? -1 : 0;
}

int
flow_source_read(const struct flow_source_options *opt, int nfiles, char **files,
		 flow_source_fn fn, void *opaque, struct flow_source_stats *stats)
{
	struct flow_source src = {
		.opt = opt, .fn = fn, .opaque = opaque, .files_range = { -1, -1 },
	};
	struct fs_filter_error ferr;
	char err[512];
	int status = 1;

	if (opt->filter_text &&
	    fs_filter_compile(&src.filter, opt->filter_text, NULL, &ferr) < 0) {
		fprintf(stderr, "%s: invalid filter: %s\n", opt->command, ferr.text);
		return 2;
	}
	/* The settings give the topic's bootstrap servers and the rate overrides of enrich. */
	if ((opt->topic || !opt->no_scale) &&
	    fs_config_load(&src.config, opt->config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", opt->command, err);
		goto out;
	}
	if (flow_scale_init(&src.scale, !opt->no_scale,
			    src.config ? fs_config_str(src.config, "enrich.sampling.override") : NULL,
			    opt->command) < 0)
		goto out;
	src.decoder = fs_decoder_new(NULL);
	if (!src.decoder)
		goto out;
	if (opt->topic && read_topic(&src, opt) < 0)
		goto out;
	src.files_range = (struct time_range){ opt->from_ms, opt->to_ms };
	for (int i = 0; i < nfiles; i++) {
		if (is_folder(files[i])) {
			if (read_folder(&src, files[i]) < 0)
				goto out;
		} else if (is_archive(files[i]) || fs_archive_has_suffix(files[i])) {
			if (time_range_skips_archive_path(&src.files_range, files[i],
							  i + 1 < nfiles ? files[i + 1] : NULL)) {
				src.stats.files_skipped++;
				continue;
			}
			if (read_archive(&src, files[i], false) < 0)
				goto out;
		} else {
			uint64_t before = export_datagrams(src.decoder);
			struct fs_capture_stats cs = { .files = 0 };

			if (fs_capture_read_file_stats(files[i], on_datagram, &src, &cs, err,
						       sizeof(err)) < 0) {
				fprintf(stderr, "%s: %s\n", opt->command, err);
				goto out;
			}
			/* A capture of other traffic, or no capture at all, would read as no flows. */
			if (export_datagrams(src.decoder) == before)
				fprintf(stderr, "%s: warning: '%s' contains no NetFlow, IPFIX or sFlow "
					"datagram; `flowsift decode --stats` lists what it contains\n",
					opt->command, files[i]);
			src.stats.damaged += cs.read_errors;
		}
	}
	if (src.failed)
		goto out;
	status = 0;
out:
	if (stats) {
		*stats = src.stats;
		flow_scale_describe(&src.scale, stats->scaling, sizeof(stats->scaling));
	}
	flow_scale_release(&src.scale);
	fs_decoder_free(src.decoder);
	fs_config_free(src.config);
	fs_filter_free(src.filter);
	return status;
}
