/* broker.c - starting, interrupting and stopping flowsift-broker for tests. */
#include "broker.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "process.h"

#define MAX_TOPICS 16

int
fs_test_broker_start(struct fs_test_broker *b, const char *dir, const char *const *topics)
{
	char *argv[4 + 2 * MAX_TOPICS];
	size_t argc = 0;
	FILE *f;

	memset(b, 0, sizeof(*b));
	snprintf(b->addr_file, sizeof(b->addr_file), "%s/broker.addr", dir);
	snprintf(b->log_path, sizeof(b->log_path), "%s/broker.log", dir);
	argv[argc++] = "flowsift-broker";
	argv[argc++] = "--addr-file";
	argv[argc++] = b->addr_file;
	for (size_t i = 0; topics && topics[i]; i++) {
		if (i == MAX_TOPICS) {
			fprintf(stderr, "more than %d extra topics for the broker\n", MAX_TOPICS);
			return -1;
		}
		argv[argc++] = "--topic";
		argv[argc++] = (char *)topics[i];
	}
	argv[argc] = NULL;
	b->pid = fs_test_spawn("flowsift-broker", argv, NULL, b->log_path);
	if (b->pid <= 0) {
		b->pid = 0;
		return -1;
	}
	if (fs_test_wait_file(b->addr_file, 15000) < 0) {
		fprintf(stderr, "flowsift-broker wrote no address to %s within 15 s\n", b->addr_file);
		return -1;
	}
	f = fopen(b->addr_file, "r");
	if (!f || !fgets(b->bootstrap, sizeof(b->bootstrap), f)) {
		fprintf(stderr, "cannot read %s\n", b->addr_file);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	b->bootstrap[strcspn(b->bootstrap, "\r\n")] = '\0';
	return 0;
}

int
fs_test_broker_set_up(const struct fs_test_broker *b, int up)
{
	if (b->pid <= 0)
		return -1;
	return kill(b->pid, up ? SIGUSR2 : SIGUSR1) == 0 ? 0 : -1;
}

int
fs_test_broker_stop(struct fs_test_broker *b)
{
	int status;

	if (b->pid <= 0)
		return 0;
	status = fs_test_stop(b->pid, 10000);
	b->pid = 0;
	return status;
}
