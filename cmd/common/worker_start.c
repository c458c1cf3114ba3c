/* worker_start.c - command line, configuration and signals of a flowsift worker. */
#include "worker_start.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/version.h"

/*
 * Fills options with --config, the worker's own options, --help and
 * --version, in that order, and a zero row; letters gets "c:", the
 * worker's letters and "h".
 */
static void
build_options(const struct worker_cli *cli, struct option *options, char *letters,
	      size_t letters_len)
{
	static const struct option config = { "config", required_argument, NULL, 'c' };
	static const struct option help = { "help", no_argument, NULL, 'h' };
	static const struct option version = { "version", no_argument, NULL, 'V' };
	size_t n = 0;

	options[n++] = config;
	for (size_t i = 0; cli->options && cli->options[i].name; i++) {
		assert(i < WORKER_START_OPTIONS_MAX);
		options[n++] = cli->options[i];
	}
	options[n++] = help;
	options[n++] = version;
	memset(&options[n], 0, sizeof(options[n]));
	snprintf(letters, letters_len, "c:%sh", cli->letters ? cli->letters : "");
}

/* Returns WORKER_START_RUN with *config_path set, or the exit status. */
static int
parse_command_line(const struct worker_cli *cli, int argc, char **argv,
		   const char **config_path)
{
	struct option options[WORKER_START_OPTIONS_MAX + 4];
	char letters[3 * WORKER_START_OPTIONS_MAX + 4];
	int opt;

	build_options(cli, options, letters, sizeof(letters));
	while ((opt = getopt_long(argc, argv, letters, options, NULL)) != -1) {
		switch (opt) {
		case 'c': *config_path = optarg; break;
		case 'V': printf("%s %s\n", cli->program, FS_VERSION); return 0;
		case 'h': cli->usage(stdout); return 0;
		case '?': cli->usage(stderr); return 2;
		default:
			if (cli->set_option == NULL) {
				cli->usage(stderr);
				return 2;
			}
			cli->set_option(cli->ctx, opt, optarg);
			break;
		}
	}
	if (cli->check_operands)
		return cli->check_operands(cli->ctx, argc - optind, argv + optind) == 0
			       ? WORKER_START_RUN : 2;
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'; the settings come from --config and "
			"FLOWSIFT_* variables\n", cli->program, argv[optind]);
		cli->usage(stderr);
		return 2;
	}
	return WORKER_START_RUN;
}

int
worker_start(const struct worker_cli *cli, int argc, char **argv, struct fs_config **config)
{
	const char *config_path = NULL;
	char err[512];
	int status;

	*config = NULL;
	status = parse_command_line(cli, argc, argv, &config_path);
	if (status != WORKER_START_RUN)
		return status;
	if (fs_config_load(config, config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", cli->program, err);
		*config = NULL;
		return 1;
	}
	fs_config_apply_logging(*config);
	if (signal(SIGINT, SIG_IGN) != SIG_IGN)
		signal(SIGINT, cli->on_stop);
	signal(SIGTERM, cli->on_stop);
	signal(SIGPIPE, SIG_IGN);
	return WORKER_START_RUN;
}
