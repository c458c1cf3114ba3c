/* broker_probe.c - the reachability probe of the Kafka bootstrap servers. */
#include "metrics/broker_probe.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "metrics/metrics.h"
#include "metrics/probe.h"

struct fs_broker_probe {
	struct fs_broker_probe_settings settings;   /* facility and bootstrap point to the copies */
	char facility[32];
	char bootstrap[1024];
	atomic_int reachable;
	atomic_int stop;
	pthread_t thread;
	pthread_mutex_t reason_lock;
	char reason[320];                           /* why the last probe failed */
};

static void
probe_once(struct fs_broker_probe *p, int *was_reachable)
{
	const struct fs_broker_probe_settings *s = &p->settings;
	char reason[256];
	int ok = fs_probe_tcp(p->bootstrap, FS_BROKER_PROBE_TIMEOUT_MS, reason, sizeof(reason)) == 0;

	if (ok && s->check)
		ok = s->check(s->ctx, reason, sizeof(reason)) == 0;

	if (!ok) {
		pthread_mutex_lock(&p->reason_lock);
		snprintf(p->reason, sizeof(p->reason), "Kafka unreachable: %s", reason);
		pthread_mutex_unlock(&p->reason_lock);
	}
	atomic_store(&p->reachable, ok);
	fs_gauge_set(s->reachable, ok);
	if (ok != *was_reachable) {
		if (ok)
			fs_log(FS_LOG_INFO, p->facility, "Kafka bootstrap servers %s reachable",
			       p->bootstrap);
		else
			fs_log(FS_LOG_WARNING, p->facility, "not ready: Kafka unreachable: %s",
			       reason);
		*was_reachable = ok;
	}
	if (s->after)
		s->after(s->ctx, ok);
}

static void *
probe_run(void *arg)
{
	struct fs_broker_probe *p = arg;
	int was_reachable = -1;

	while (!atomic_load(&p->stop)) {
		probe_once(p, &was_reachable);
		for (int i = 0; i < FS_BROKER_PROBE_INTERVAL_S * 10 && !atomic_load(&p->stop); i++) {
			struct timespec tick = { 0, 100000000 };

			nanosleep(&tick, NULL);
		}
	}
	return NULL;
}

struct fs_broker_probe *
fs_broker_probe_start(const struct fs_broker_probe_settings *settings, char *err,
		      size_t err_len)
{
	struct fs_broker_probe *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	p->settings = *settings;
	snprintf(p->facility, sizeof(p->facility), "%s", settings->facility);
	snprintf(p->bootstrap, sizeof(p->bootstrap), "%s", settings->bootstrap);
	p->settings.facility = p->facility;
	p->settings.bootstrap = p->bootstrap;
	pthread_mutex_init(&p->reason_lock, NULL);
	snprintf(p->reason, sizeof(p->reason), "Kafka not probed yet");
	if (pthread_create(&p->thread, NULL, probe_run, p) != 0) {
		snprintf(err, err_len, "cannot start the broker probe thread");
		pthread_mutex_destroy(&p->reason_lock);
		free(p);
		return NULL;
	}
	return p;
}

int
fs_broker_probe_ready(struct fs_broker_probe *probe, char *reason, size_t reason_len)
{
	if (atomic_load(&probe->reachable))
		return 1;
	pthread_mutex_lock(&probe->reason_lock);
	snprintf(reason, reason_len, "%s", probe->reason);
	pthread_mutex_unlock(&probe->reason_lock);
	return 0;
}

void
fs_broker_probe_stop(struct fs_broker_probe *probe)
{
	if (!probe)
		return;
	atomic_store(&probe->stop, 1);
	pthread_join(probe->thread, NULL);
	pthread_mutex_destroy(&probe->reason_lock);
	free(probe);
}
