/*
 * decode.c - `flowsift decode`: prints the flow records of capture and raw
 * datagram files as JSON lines.
 *
 * All files go through one decoder, in the order given, so templates learned
 * from one file apply to the files after it.  Flow records go to stdout, one
 * JSON object a line; a summary of the decoder counters goes to stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config/config.h"
#include "core/flow_json.h"
#include "core/log.h"
#include "core/result.h"
#include "decode/capture.h"
#include "decode/decoder.h"

#define STDOUT_BUFFER_SIZE (1024 * 1024)

struct decode_run {
	struct fs_decoder *decoder;
	uint64_t lines_failed; /* records whose JSON did not fit */
};

static void
print_help(void)
{
	printf(
		"usage: flowsift decode [--config FILE] FILE...\n"
		"\n"
		"Decodes NetFlow v5/v9 and IPFIX datagrams from pcap or pcapng\n"
		"captures and from raw datagram files (export messages back to back)\n"
		"and prints each flow record as one JSON line on stdout.  The files\n"
		"share one template cache and are read in the order given.  A summary\n"
		"of the decoder counters is printed on stderr at the end.\n"
		"\n"
		"options:\n"
		"  --config FILE  read settings from FILE (default: $FLOWSIFT_CONFIG,\n"
		"                 else ./flowsift.conf when it exists)\n"
		"  -h, --help     print this help and exit\n"
		"\n"
		"Exit status: 0 when every file was read (decode faults are only\n"
		"counted), 1 when a file or the configuration cannot be read,\n"
		"2 on a usage error.\n");
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
	put_counter("packets_skipped", cs->skipped, false);
	put_counter("packets_cut_short", cs->truncated, false);
	put_counter("packets_invalid", cs->invalid, false);
	put_counter("capture_read_errors", cs->read_errors, false);
	put_counter("json_too_long", run->lines_failed, false);
	fputc('\n', stderr);
}

/* Parses options; returns the index of the first file, or -1 after a usage error, 0 after --help. */
static int
parse_args(int argc, char **argv, const char **config_path)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0)
			return i + 1;
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			print_help();
			return 0;
		}
		if (strcmp(arg, "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "flowsift decode: --config requires a file name\n");
				return -1;
			}
			*config_path = argv[++i];
			continue;
		}
		if (strncmp(arg, "--config=", 9) == 0) {
			*config_path = arg + 9;
			continue;
		}
		if (arg[0] == '-' && arg[1] != '\0') {
			fprintf(stderr, "flowsift decode: unknown option '%s'\n", arg);
			return -1;
		}
		break;
	}
	return i;
}

int
cmd_decode(int argc, char **argv)
{
	struct fs_capture_stats capture_stats;
	struct decode_run run = { NULL, 0 };
	struct fs_config *config = NULL;
	const char *config_path = NULL;
	enum fs_log_level level;
	char err[512];
	int first, files_failed = 0, status = 0;

	first = parse_args(argc, argv, &config_path);
	if (first == 0)
		return 0;
	if (first < 0 || first >= argc) {
		if (first >= argc)
			fprintf(stderr, "flowsift decode: no input files\n");
		fprintf(stderr, "usage: flowsift decode [--config FILE] FILE...\n"
			"Run 'flowsift decode --help' for the options.\n");
		return 2;
	}

	/* Of the settings, only log.level applies to decoding. */
	if (fs_config_load(&config, config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "flowsift decode: %s\n", err);
		return 1;
	}
	if (fs_log_level_parse(fs_config_str(config, "log.level"), &level) == 0)
		fs_log_set_level(level);
	run.decoder = fs_decoder_new(NULL);
	if (run.decoder == NULL) {
		fprintf(stderr, "flowsift decode: failed to create the decoder: out of memory\n");
		status = 1;
		goto out;
	}
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
	if (files_failed > 0)
		status = 1;
out:
	if (run.decoder != NULL)
		fs_decoder_free(run.decoder);
	fs_config_free(config);
	return status;
}
