/*
 * main.c - flowsift-broker: an embedded Kafka broker for development and tests.
 *
 * Runs librdkafka's mock cluster, which speaks the Kafka protocol on loopback
 * ports, creates flowsift's topics, publishes the bootstrap address and stays
 * up until SIGINT or SIGTERM.  It keeps everything in memory: messages and
 * committed offsets are gone when it exits.
 *
 * SIGUSR1 takes every broker down and SIGUSR2 brings them up again, so tests
 * can make Kafka unreachable without losing its data or its ports.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "core/log.h"
#include "core/version.h"
#include "kafka/kafka_conf.h"

#define MAX_TOPICS 64
#define MAX_BROKERS 16
#define MAX_PARTITIONS 1024

static const char *const default_topics[] = {
	"flows.raw", "flows.enriched", "flows.alerts", "flows.counters",
};

struct options {
	const char *addr_file;
	int brokers;
	int partitions;
	const char *topics[MAX_TOPICS];
	int ntopics;
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-broker [--addr-file PATH] [--brokers N] [--partitions N]\n"
		"                       [--topic NAME]...\n"
		"\n"
		"Runs an in-memory Kafka cluster (librdkafka's mock cluster) until SIGINT\n"
		"or SIGTERM, for development and tests.  Each broker listens on its own\n"
		"ephemeral TCP port on 127.0.0.1 only.  Messages and committed offsets are\n"
		"kept in memory and lost at exit.  The bootstrap address is printed on\n"
		"stdout as one line.\n"
		"\n"
		"SIGUSR1 takes every broker down (connections are closed and refused, the\n"
		"ports stay reserved) and SIGUSR2 brings them up again on the same ports,\n"
		"with every message and committed offset kept.\n"
		"\n"
		"options:\n"
		"  --addr-file PATH  also write the bootstrap address to PATH (replaced\n"
		"                    atomically, removed at exit)\n"
		"  --brokers N       number of brokers, 1 to %d (default 1)\n"
		"  --partitions N    partitions of each created topic, 1 to %d (default 4)\n"
		"  --topic NAME      create topic NAME as well; repeatable.  Always created:\n"
		"                    flows.raw, flows.enriched, flows.alerts, flows.counters\n"
		"  --help            show this help\n"
		"  --version         print the version\n"
		"\n"
		"A topic that is not created here is created on first use by a producer,\n"
		"with 4 partitions whatever --partitions says.\n",
		MAX_BROKERS, MAX_PARTITIONS);
}

static int
parse_count(const char *text, int max, int *out)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || end == text || *end != '\0' || value < 1 || value > max)
		return -1;
	*out = (int)value;
	return 0;
}

/* Returns 0 to run, 1 after --help or --version, or 2 on a usage error. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "addr-file", required_argument, NULL, 'a' },
		{ "brokers", required_argument, NULL, 'b' },
		{ "partitions", required_argument, NULL, 'p' },
		{ "topic", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	opt->brokers = 1;
	opt->partitions = 4;
	opt->ntopics = 0;
	for (size_t i = 0; i < sizeof(default_topics) / sizeof(default_topics[0]); i++)
		opt->topics[opt->ntopics++] = default_topics[i];

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			opt->addr_file = optarg;
			break;
		case 'b':
			if (parse_count(optarg, MAX_BROKERS, &opt->brokers) < 0) {
				fprintf(stderr, "flowsift-broker: invalid --brokers '%s': expected 1 to %d\n",
					optarg, MAX_BROKERS);
				return 2;
			}
			break;
		case 'p':
			if (parse_count(optarg, MAX_PARTITIONS, &opt->partitions) < 0) {
				fprintf(stderr, "flowsift-broker: invalid --partitions '%s': expected 1 to %d\n",
					optarg, MAX_PARTITIONS);
				return 2;
			}
			break;
		case 't':
			if (opt->ntopics == MAX_TOPICS || optarg[0] == '\0') {
				fprintf(stderr, "flowsift-broker: invalid --topic '%s': empty, or more than %d topics\n",
					optarg, MAX_TOPICS);
				return 2;
			}
			opt->topics[opt->ntopics++] = optarg;
			break;
		case 'V':
			printf("flowsift-broker %s\n", FS_VERSION);
			return 1;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flowsift-broker: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

/* Writes text and a newline to path through a temporary file and rename(). */
static int
write_addr_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *file;
	int failed;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    sizeof(tmp)) {
		fs_log(FS_LOG_ERR, "broker", "address file path '%s' is too long", path);
		return -1;
	}
	file = fopen(tmp, "w");
	if (!file) {
		fs_log(FS_LOG_ERR, "broker", "cannot create '%s': %s", tmp, strerror(errno));
		return -1;
	}
	failed = fprintf(file, "%s\n", text) < 0;
	failed |= fflush(file) != 0;
	failed |= fsync(fileno(file)) != 0;
	failed |= fclose(file) != 0;
	if (failed || rename(tmp, path) != 0) {
		fs_log(FS_LOG_ERR, "broker", "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int
create_topics(rd_kafka_mock_cluster_t *cluster, const struct options *opt)
{
	/* The mock cluster cannot place more replicas than it has brokers. */
	int replicas = opt->brokers < 3 ? opt->brokers : 3;

	for (int i = 0; i < opt->ntopics; i++) {
		rd_kafka_resp_err_t err;

		err = rd_kafka_mock_topic_create(cluster, opt->topics[i],
						 opt->partitions, replicas);
		if (err) {
			fs_log(FS_LOG_ERR, "broker", "creating topic %s failed: %s",
			       opt->topics[i], rd_kafka_err2str(err));
			return -1;
		}
		fs_log(FS_LOG_INFO, "broker", "created topic %s with %d partitions",
		       opt->topics[i], opt->partitions);
	}
	return 0;
}

/* Takes every broker of cluster down (up = 0) or brings them up (up = 1), and logs it. */
static void
set_brokers_up(rd_kafka_mock_cluster_t *cluster, int up)
{
	rd_kafka_resp_err_t err;

	err = up ? rd_kafka_mock_broker_set_up(cluster, -1)
		 : rd_kafka_mock_broker_set_down(cluster, -1);
	if (err)
		fs_log(FS_LOG_ERR, "broker", "setting the brokers %s failed: %s",
		       up ? "up" : "down", rd_kafka_err2str(err));
	else
		fs_log(FS_LOG_NOTICE, "broker", "brokers %s", up ? "up again on the same ports"
								 : "down: connections refused");
}

int
main(int argc, char **argv)
{
	struct options opt = { 0 };
	rd_kafka_conf_t *conf = NULL;
	rd_kafka_t *rk = NULL;
	rd_kafka_mock_cluster_t *cluster = NULL;
	const char *bootstrap;
	char err[512];
	sigset_t stop_signals, all_signals;
	int sig = 0;
	int status = 1;
	int rc;

	rc = parse_options(argc, argv, &opt);
	if (rc)
		return rc == 1 ? 0 : 2;

	/*
	 * Block the stop signals before librdkafka starts its threads, which
	 * inherit the mask, so sigwait() below is the only receiver.
	 */
	sigemptyset(&stop_signals);
	/* An interrupt ignored at start (a background job of `make run`) stays
	 * ignored, so Ctrl-C reaches the script, which stops the broker last. */
	if (signal(SIGINT, SIG_IGN) != SIG_IGN) {
		signal(SIGINT, SIG_DFL);
		sigaddset(&stop_signals, SIGINT);
	}
	sigaddset(&stop_signals, SIGTERM);
	sigemptyset(&all_signals);
	sigaddset(&all_signals, SIGUSR1);
	sigaddset(&all_signals, SIGUSR2);
	sigorset(&all_signals, &all_signals, &stop_signals);
	pthread_sigmask(SIG_BLOCK, &all_signals, NULL);

	/* The mock cluster needs a client handle for its bookkeeping only. */
	if (fs_kafka_conf_new(&conf, NULL, NULL, NULL, err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "broker", "%s", err);
		goto out;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		fs_log(FS_LOG_ERR, "broker", "creating the client handle failed: %s", err);
		goto out;
	}
	cluster = rd_kafka_mock_cluster_new(rk, opt.brokers);
	if (!cluster) {
		fs_log(FS_LOG_ERR, "broker", "starting the mock cluster with %d brokers failed",
		       opt.brokers);
		goto out;
	}
	if (create_topics(cluster, &opt) < 0)
		goto out;

	bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
	if (opt.addr_file && write_addr_file(opt.addr_file, bootstrap) < 0)
		goto out;
	printf("%s\n", bootstrap);
	fflush(stdout);
	fs_log(FS_LOG_INFO, "broker", "listening on %s with %d brokers%s%s", bootstrap,
	       opt.brokers, opt.addr_file ? ", address in " : "",
	       opt.addr_file ? opt.addr_file : "");

	for (;;) {
		if (sigwait(&all_signals, &sig) != 0) {
			fs_log(FS_LOG_ERR, "broker", "waiting for a signal failed");
			goto out;
		}
		if (sig != SIGUSR1 && sig != SIGUSR2)
			break;
		set_brokers_up(cluster, sig == SIGUSR2);
	}
	fs_log(FS_LOG_INFO, "broker", "stopping on %s", strsignal(sig));
	status = 0;

out:
	if (opt.addr_file && unlink(opt.addr_file) != 0 && errno != ENOENT) {
		fs_log(FS_LOG_ERR, "broker", "cannot remove '%s': %s", opt.addr_file,
		       strerror(errno));
		status = 1;
	}
	if (cluster)
		rd_kafka_mock_cluster_destroy(cluster);
	if (rk)
		rd_kafka_destroy(rk);
	return status;
}
