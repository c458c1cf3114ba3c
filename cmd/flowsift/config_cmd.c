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
		"           the program that uses it, including the rules, map, list and\n"
		"           database files it names that are on this machine (a missing\n"
		"           one gets a note); report the first invalid key\n"
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

/* Prints the value of key, masked when secret.  Frees config.  Returns the exit status. */
static int
get_value(struct fs_config *config, const char *key)
{
	int rc = fs_config_has(config, key);
	char shown[1100];

	/* Secrets and URL passwords are masked: this output ends up in terminals and logs. */
	if (rc) {
		printf("%s\n", fs_config_mask(key, fs_config_str(config, key), shown, sizeof(shown)));
	} else if (strncmp(key, "kafka.", 6) == 0) {
		/* A librdkafka pass-through property: printed when set, empty otherwise. */
		struct kafka_lookup lookup = { key + 6, NULL };

		fs_config_each_kafka(config, find_kafka, &lookup);
		printf("%s\n", fs_config_mask(key, lookup.value ? lookup.value : "", shown,
					      sizeof(shown)));
		rc = 1;
	} else {
		fprintf(stderr, "flowsift: unknown configuration key '%s'\n", key);
	}
	fs_config_free(config);
	return rc ? 0 : 1;
}

int
cmd_config(int argc, char **argv)
{
	const char *path = NULL;
	const char *words[3];
	struct fs_config *config;
	char err[512];
	int nwords = 0;

	/* --config FILE may stand before or after the subcommand. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 == argc) {
				fprintf(stderr, "flowsift config: --config needs a FILE\n");
				usage_hint("config");
				return 2;
			}
			path = argv[++i];
		} else if (nwords == (int)(sizeof(words) / sizeof(words[0]))) {
			fprintf(stderr, "flowsift config: unexpected argument '%s'\n", argv[i]);
			usage_hint("config");
			return 2;
		} else {
			words[nwords++] = argv[i];
		}
	}
	if (nwords == 0) {
		fprintf(stderr, "flowsift config: expected check, get KEY or docs\n");
		usage_hint("config");
		return 2;
	}
	if (strcmp(words[0], "docs") == 0 && nwords == 1) {
		fflush(stdout);
		fs_config_write_docs(STDOUT_FILENO);
		return 0;
	}
	if (!((strcmp(words[0], "check") == 0 && nwords == 1) ||
	      (strcmp(words[0], "get") == 0 && nwords == 2))) {
		fprintf(stderr, "flowsift config: expected check, get KEY or docs, not '%s%s%s'\n",
			words[0], nwords > 1 ? " " : "", nwords > 1 ? words[1] : "");
		usage_hint("config");
		return 2;
	}
	if (fs_config_load(&config, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift: %s\n", err);
		return 1;
	}
	if (strcmp(words[0], "check") == 0) {
		int rc = config_check_values(config, err, sizeof(err));

		if (rc < 0)
			fprintf(stderr, "flowsift: invalid configuration: %s\n", err);
		fs_config_free(config);
		return rc < 0 ? 1 : 0;
	}
	return get_value(config, words[1]);
}
