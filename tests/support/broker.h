/*
 * broker.h - an embedded broker (flowsift-broker) for tests, with outages.
 *
 * fs_test_broker_start() spawns flowsift-broker in dir, which must exist, with
 * its address file dir/broker.addr (the file a worker whose run.dir is dir
 * reads when kafka.bootstrap.servers is empty) and its log dir/broker.log.
 * fs_test_broker_set_up() takes every broker down or brings them up again on
 * the same ports, with their messages and committed offsets kept: while down,
 * every connection is refused.
 */
#ifndef FS_TEST_BROKER_H
#define FS_TEST_BROKER_H

#include <sys/types.h>

struct fs_test_broker {
	pid_t pid;               /* 0 when stopped */
	char bootstrap[256];     /* host:port of the first broker */
	char addr_file[192];
	char log_path[192];
};

/*
 * Starts the broker with topics (NULL-terminated, may be NULL) created
 * besides the default ones, and waits up to 15 s for its address.  Returns
 * 0, or -1 with the reason on stderr.
 */
int fs_test_broker_start(struct fs_test_broker *b, const char *dir,
			 const char *const *topics);

/* Takes every broker down (up = 0) or up (up = 1).  Returns 0 or -1. */
int fs_test_broker_set_up(const struct fs_test_broker *b, int up);

/* Stops the broker (SIGTERM, then SIGKILL after 10 s).  Returns its exit status, 0 when not running. */
int fs_test_broker_stop(struct fs_test_broker *b);

#endif
