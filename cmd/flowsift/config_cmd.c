/* config_cmd.c - `flowsift config`: check, print and document the configuration. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config/config.h"
#include "config_check.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift config [--config FILE] check | get KEY | docs\n"
		"\n"
		"  check    load the configuration and check each value with the parser of\n"
		"           the program that uses it; report the first invalid key\n"
		"  get KEY  print the value of KEY after the file and environment are applied,\n"
		"           with secrets and URL passwords shown as ***\n"
		"  docs     print the table of every key as Markdown\n");
}

struct kafka_lookup {
	const char *name;
	const char *value;
};

static int
find_kafka(const char *name, const char *value, void *opaque)
{
	struct kafka_lookup *lookup = opaque;

	if (strcmp(name, lookup->name) != 0)
		return 0;
	lookup->value = value;
	return 1;
}

int
cmd_config(int argc, char **argv)
{
	const char *path = NULL;
	struct fs_config *config;
	char err[512];
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "--config") == 0) {
		path = argv[2];
		i = 3;
	}
	if (i >= argc || strcmp(argv[i], "--help") == 0) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 2 : 0;
	}
	if (strcmp(argv[i], "docs") == 0) {
		fflush(stdout);
		fs_config_write_docs(STDOUT_FILENO);
		return 0;
	}
	if (fs_config_load(&config, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift: %s\n", err);
		return 1;
	}
	if (strcmp(argv[i], "check") == 0 && i + 1 == argc) {
		int rc = config_check_values(config, err, sizeof(err));

		if (rc < 0)
			fprintf(stderr, "flowsift: invalid configuration: %s\n", err);
		fs_config_free(config);
		return rc < 0 ? 1 : 0;
	}
	if (strcmp(argv[i], "get") == 0 && i + 2 == argc) {
		int rc = fs_config_has(config, argv[i + 1]);
		char shown[1100];

		/* Secrets and URL passwords are masked: this output ends up in terminals and logs. */
		if (rc) {
			printf("%s\n", fs_config_mask(argv[i + 1], fs_config_str(config, argv[i + 1]),
						     shown, sizeof(shown)));
		} else if (strncmp(argv[i + 1], "kafka.", 6) == 0) {
			/* A librdkafka pass-through property: printed when set, empty otherwise. */
			struct kafka_lookup lookup = { argv[i + 1] + 6, NULL };

			fs_config_each_kafka(config, find_kafka, &lookup);
			printf("%s\n", fs_config_mask(argv[i + 1], lookup.value ? lookup.value : "",
						     shown, sizeof(shown)));
			rc = 1;
		} else {
			fprintf(stderr, "flowsift: unknown configuration key '%s'\n", argv[i + 1]);
		}
		fs_config_free(config);
		return rc ? 0 : 1;
	}
	fs_config_free(config);
	usage(stderr);
	return 2;
}
