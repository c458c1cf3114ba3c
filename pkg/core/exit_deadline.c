/* exit_deadline.c - a bound on how long a stopping worker may take. */
#include "core/exit_deadline.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

struct deadline {
	const char *facility;
	unsigned seconds;
};

static struct deadline armed;

static void *
watch(void *opaque)
{
	const struct deadline *d = opaque;
	struct timespec left = { (time_t)d->seconds, 0 };

	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
	fs_log(FS_LOG_ERR, d->facility,
	       "stopping took longer than %u s (a broker or Redis server that does not answer); "
	       "exiting without waiting further", d->seconds);
	_exit(1);
	return NULL;
}

int
fs_exit_deadline_arm(const char *facility, unsigned seconds)
{
	pthread_attr_t attr;
	pthread_t thread;
	int rc;

	armed.facility = facility;
	armed.seconds = seconds > 0 ? seconds : 1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thread, &attr, watch, &armed);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		fs_log(FS_LOG_WARNING, facility, "cannot start the stop deadline thread: %s",
		       strerror(rc));
		return -1;
	}
	return 0;
}
