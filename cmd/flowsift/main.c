/* main.c - the flowsift command-line tool: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "core/version.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "decode", cmd_decode, "decode captures or datagram files to JSON lines" },
	{ "top", cmd_top, "show top talkers from the live Redis counters" },
	{ "report", cmd_report, "flow-report style reports from Redis or flow files; alerts" },
	{ "graph", cmd_graph, "draw a time series of the top members to PNG or SVG" },
	{ "print", cmd_print, "print flows from captures, capture files or a topic" },
	{ "capture", cmd_capture, "keep a topic on disk as rotated Avro files" },
	{ "config", cmd_config, "check, print or document the configuration" },
};

void
usage_hint(const char *command)
{
	fprintf(stderr, "run 'flowsift %s --help' for the options\n", command);
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: flowsift COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'flowsift COMMAND --help' for the options of one command, "
		     "'flowsift --version' for the version.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("flowsift %s\n", FS_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			/* getopt prefixes its messages with argv[0]: "flowsift print: ...". */
			char program[64];

			snprintf(program, sizeof(program), "flowsift %s", commands[i].name);
			argv[1] = program;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "flowsift: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
