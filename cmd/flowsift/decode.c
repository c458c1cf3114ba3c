/*
 * decode.c - `flowsift decode`: prints the flow records of capture and raw
 * datagram files as JSON lines.
 *
 * All files go through one decoder, in the order given, so templates learned
 * from one file apply to the files after it.  Flow records and sFlow counter
 * samples go to stdout, one JSON object a line; a summary of the decoder
 * counters goes to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config/config.h"
#include "core/counters_json.h"
#include "core/flow_json.h"
#include "core/log.h"
#include "core/result.h"
#include "decode/capture.h"
#include "decode/decoder.h"
#include "decode/decoder_config.h"
#include "decode/exporter_stats.h"

#define STDOUT_BUFFER_SIZE (1024 * 1024)

struct decode_run {
	struct fs_decoder *decoder;
	uint64_t lines_failed; /* records whose JSON did not fit */
};

static void
print_help(void)
{
	printf(
		"usage: flowsift decode [--config FILE] [--stats] FILE...\n"
		"\n"
		"Decodes NetFlow v5/v9, IPFIX and sFlow v5 datagrams from pcap or pcapng\n"
		"captures and from raw datagram files (export messages back to back)\n"
		"and prints each flow record as one JSON line on stdout, and each sFlow\n"
		"counter sample as one JSON line that starts with \"schema\":\"counters\"\n"
		"(fields of schemas/counters.avsc).  The files\n"
		"share one template cache and are read in the order given.  A summary\n"
		"of the decoder counters is printed on stderr at the end.\n"
		"\n"
		"options:\n"
		"  --config FILE  read settings from FILE (default: $FLOWSIFT_CONFIG,\n"
		"                 else ./flowsift.conf when it exists)\n"
		"  --stats        also print a table of counters per exporter and\n"
		"                 observation domain on stderr: packets, records,\n"
		"                 templates, data sets without a template, malformed\n"
		"                 input by reason, and sequence gaps with the units\n"
		"                 lost (flows for v5, packets for v9, records for IPFIX,\n"
		"                 datagrams for sFlow), then, for sFlow, one line per\n"
		"                 data source and sample kind with the gaps and samples\n"
		"                 lost in its flow or counter sample sequence numbers\n"
		"  -h, --help     print this help and exit\n"
		"\n"
		"Exit status: 0 when every file was read and gave a flow or an sFlow\n"
		"counter sample (decode faults are only counted), 1 when a file or the\n"
		"configuration cannot be read or the files gave neither, 2 on a usage\n"
		"error.\n");
}

static void
print_flow(const struct fs_flow *flow, void *opaque)
{
	struct decode_run *run = opaque;
	char line[FS_FLOW_JSON_MAX + 1];
	int len;

	len = fs_flow_json_write(flow, line, sizeof(line) - 1);
	if (len < 0) {
		run->lines_failed++;
		return;
	}
	line[len] = '\n';
	fwrite(line, 1, (size_t)len + 1, stdout);
}

static void
print_counters(const struct fs_counters *counters, void *opaque)
{
	struct decode_run *run = opaque;
	char line[FS_COUNTERS_JSON_MAX + 1];
	int len;

	len = fs_counters_json_write(counters, line, sizeof(line) - 1);
	if (len < 0) {
		run->lines_failed++;
		return;
	}
	line[len] = '\n';
	fwrite(line, 1, (size_t)len + 1, stdout);
}

static int
decode_datagram(const struct fs_datagram *dg, void *opaque)
{
	struct decode_run *run = opaque;

	/* Faults are counted by the decoder and reported in the summary. */
	(void)fs_decoder_decode(run->decoder, dg->data, dg->len, &dg->exporter,
				dg->exporter_port, dg->time_ns, print_flow, run);
	return 0;
}

static void
put_counter(const char *name, uint64_t value, bool always)
{
	if (always || value != 0)
		fprintf(stderr, " %s=%" PRIu64, name, value);
}

static void
print_summary(const struct decode_run *run, const struct fs_capture_stats *cs,
	      int files_failed)
{
	const struct fs_decoder_stats *s = fs_decoder_stats(run->decoder);

	fprintf(stderr, "flowsift decode:");
	put_counter("files", cs->files, true);
	put_counter("files_failed", (uint64_t)files_failed, false);
	put_counter("datagrams", s->datagrams, true);
	put_counter("flows", s->flows, true);
	put_counter("unsupported", s->unsupported, false);
	put_counter("truncated", s->truncated, false);
	put_counter("invalid", s->invalid, false);
	put_counter("no_template", s->no_template, false);
	put_counter("no_template_records", s->no_template_records, false);
	put_counter("templates_rejected", s->templates_rejected, false);
	put_counter("templates_evicted", s->templates_evicted, false);
	put_counter("options_evicted", s->options_evicted, false);
	put_counter("reverse_flows", s->reverse_flows, false);
	put_counter("sampling_invalid", s->sampling_invalid, false);
	put_counter("counters_clamped", s->counters_clamped, false);
	put_counter("length_mismatch", s->length_mismatch, false);
	put_counter("no_template_held", s->no_template_held, false);
	put_counter("no_template_decoded", s->no_template_decoded, false);
	put_counter("no_template_dropped", s->no_template_dropped, false);
	put_counter("exporters_untracked", s->exporters_untracked, false);
	put_counter("enterprise_elements_dropped", s->enterprise_elements_dropped, false);
	put_counter("sflow_flow_samples", s->sflow_flow_samples, false);
	put_counter("sflow_counter_samples", s->sflow_counter_samples, false);
	put_counter("sflow_unknown_samples", s->sflow_unknown_samples, false);
	put_counter("sflow_unknown_records", s->sflow_unknown_records, false);
	put_counter("sflow_records_dropped", s->sflow_records_dropped, false);
	put_counter("sflow_flows_dropped", s->sflow_flows_dropped, false);
	put_counter("empty_records", s->empty_records, false);
	put_counter("packets_skipped", cs->skipped, false);
	put_counter("packets_cut_short", cs->truncated, false);
	put_counter("packets_invalid", cs->invalid, false);
	put_counter("capture_read_errors", cs->read_errors, false);
	put_counter("json_too_long", run->lines_failed, false);
	fputc('\n', stderr);
}

/* Prints one line per exporter and domain on stderr. */
static void
print_exporter_table(const struct fs_decoder *decoder)
{
	const struct fs_exporter_stats *es = fs_decoder_exporter_stats(decoder);
	uint32_t count = fs_exporter_stats_count(es);

	fprintf(stderr, "%-39s %5s %-10s %10s %9s %9s %9s %9s %6s %10s %-8s %6s  %s\n",
		"exporter", "port", "type", "domain", "packets", "records",
		"templates", "no_tpl", "gaps", "lost", "unit", "resets", "malformed");
	for (uint32_t i = 0; i < count; i++) {
		const struct fs_exporter_entry *e = fs_exporter_stats_at(es, i);
		char addr[FS_ADDR_STRLEN];
		bool any = false;

		fs_addr_format(&e->exporter, addr);
		fprintf(stderr, "%-39s %5u %-10s %10" PRIu32 " %9" PRIu64 " %9" PRIu64
			" %9" PRIu64 " %9" PRIu64 " %6" PRIu64 " %10" PRIu64 " %-8s %6" PRIu64 "  ",
			addr[0] ? addr : "-", e->exporter_port,
			fs_flow_type_name((enum fs_flow_type)e->flow_type), e->domain,
			e->packets, e->records, e->templates, e->unknown_templates,
			e->sequence_gaps, e->sequence_lost,
			fs_exporter_sequence_unit(e->flow_type), e->sequence_resets);
		for (int r = 0; r < FS_MALFORMED_REASON_COUNT; r++) {
			if (e->malformed[r] == 0)
				continue;
			fprintf(stderr, "%s%s=%" PRIu64, any ? " " : "",
				fs_malformed_reason_name((enum fs_malformed_reason)r),
				e->malformed[r]);
			any = true;
		}
		fputs(any ? "\n" : "-\n", stderr);
	}
	if (fs_exporter_stats_untracked(es) > 0)
		fprintf(stderr, "(%" PRIu64 " datagrams came from exporters beyond the table size and are not listed)\n",
			fs_exporter_stats_untracked(es));
}

/*
 * Prints one line per sFlow data source and sample kind on stderr: the
 * sequence gaps and samples lost of its flow or counter samples.
 */
static void
print_sflow_source_table(const struct fs_decoder *decoder)
{
	const struct fs_exporter_stats *es = fs_decoder_exporter_stats(decoder);
	uint32_t count = fs_exporter_stats_source_count(es);

	if (count == 0 && fs_exporter_stats_sources_untracked(es) == 0)
		return;
	fprintf(stderr, "\n%-39s %5s %10s %-39s %-7s %12s %9s %6s %10s %6s\n",
		"sflow exporter", "port", "sub_agent", "agent", "samples", "source",
		"count", "gaps", "lost", "resets");
	for (uint32_t i = 0; i < count; i++) {
		const struct fs_sflow_source_entry *s = fs_exporter_stats_source_at(es, i);
		char exporter[FS_ADDR_STRLEN], agent[FS_ADDR_STRLEN], source[24];

		fs_addr_format(&s->exporter->exporter, exporter);
		fs_addr_format(&s->agent, agent);
		snprintf(source, sizeof(source), "%u:%" PRIu32, s->source_type, s->source_index);
		fprintf(stderr, "%-39s %5u %10" PRIu32 " %-39s %-7s %12s %9" PRIu64 " %6" PRIu64
			" %10" PRIu64 " %6" PRIu64 "\n",
			exporter[0] ? exporter : "-", s->exporter->exporter_port,
			s->exporter->domain, agent[0] ? agent : "-",
			fs_sflow_sample_kind_name((enum fs_sflow_sample_kind)s->kind), source,
			s->samples, s->sequence_gaps, s->sequence_lost, s->sequence_resets);
	}
	if (fs_exporter_stats_sources_untracked(es) > 0)
		fprintf(stderr, "(%" PRIu64 " samples came from sources beyond decode.sflow.sources.max and are not listed)\n",
			fs_exporter_stats_sources_untracked(es));
}

/*
 * Parses options, which may stand before, between or after the files
 * (getopt permutes argv).  Returns the index of the first file, -1 after a
 * usage error (reported) or 0 after --help.
 */
static int
parse_args(int argc, char **argv, const char **config_path, bool *stats)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': *config_path = optarg; break;
		case 's': *stats = true; break;
		case 'h': print_help(); return 0;
		case ':':
			fprintf(stderr, "flowsift decode: %s requires a value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "flowsift decode: unknown option '%s'\n", argv[optind - 1]);
			return -1;
		}
	}
	return optind;
}

int
cmd_decode(int argc, char **argv)
{
	struct fs_capture_stats capture_stats;
	struct decode_run run = { NULL, 0 };
	struct fs_decoder_limits limits;
	struct fs_config *config = NULL;
	const char *config_path = NULL;
	char err[512];
	int first, files_failed = 0, status = 0;
	bool stats = false;

	first = parse_args(argc, argv, &config_path, &stats);
	if (first == 0)
		return 0;
	if (first < 0 || first >= argc) {
		if (first >= argc)
			fprintf(stderr, "flowsift decode: no input files\n");
		fprintf(stderr, "usage: flowsift decode [--config FILE] [--stats] FILE...\n"
			"Run 'flowsift decode --help' for the options.\n");
		return 2;
	}

	/* Of the settings, log.level and the decode.* limits apply to decoding. */
	if (fs_config_load(&config, config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "flowsift decode: %s\n", err);
		return 1;
	}
	fs_config_apply_logging(config);
	if (fs_decoder_limits_from_config(config, &limits) != 0) {
		fprintf(stderr, "flowsift decode: the decode.* settings do not fit the decoder; check them with `flowsift config check`\n");
		status = 1;
		goto out;
	}
	run.decoder = fs_decoder_new(&limits);
	if (run.decoder == NULL) {
		fprintf(stderr, "flowsift decode: failed to create the decoder: out of memory\n");
		status = 1;
		goto out;
	}
	fs_decoder_set_counters_sink(run.decoder, print_counters, &run);
	setvbuf(stdout, NULL, _IOFBF, STDOUT_BUFFER_SIZE);
	memset(&capture_stats, 0, sizeof(capture_stats));

	for (int i = first; i < argc; i++) {
		int rc = fs_capture_read_file_stats(argv[i], decode_datagram, &run,
						    &capture_stats, err, sizeof(err));

		if (rc < 0) {
			fprintf(stderr, "flowsift decode: %s\n", err);
			files_failed++;
		}
	}

	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "flowsift decode: failed to write to stdout: %s\n",
			strerror(errno));
		status = 1;
	}
	print_summary(&run, &capture_stats, files_failed);
	if (stats) {
		print_exporter_table(run.decoder);
		print_sflow_source_table(run.decoder);
	}
	if (files_failed > 0)
		status = 1;
	if (files_failed == 0 && fs_decoder_stats(run.decoder)->flows == 0 &&
	    fs_decoder_stats(run.decoder)->sflow_counter_samples == 0) {
		fprintf(stderr, "flowsift decode: the input gave no flow and no sFlow counter "
			"sample: check that it captures NetFlow, IPFIX or sFlow exports (every UDP "
			"port is decoded) and read the counts above\n");
		status = 1;
	}
out:
	if (run.decoder != NULL)
		fs_decoder_free(run.decoder);
	fs_config_free(config);
	return status;
}
