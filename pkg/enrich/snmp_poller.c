/* snmp_poller.c - a thread that walks ifTable and ifXTable with net-snmp. */
#include "enrich/snmp_poller.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error_text.h"
#include "core/log.h"
#include "core/result.h"

#define FACILITY "snmp"
#define MAX_REPETITIONS 25

enum column {
	COL_IF_DESCR,
	COL_IF_SPEED,
	COL_IF_NAME,
	COL_IF_HIGH_SPEED,
	COL_IF_ALIAS,
	COL_COUNT
};

static const oid column_oids[COL_COUNT][11] = {
	{ 1, 3, 6, 1, 2, 1, 2, 2, 1, 2 },
	{ 1, 3, 6, 1, 2, 1, 2, 2, 1, 5 },
	{ 1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1 },
	{ 1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15 },
	{ 1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18 },
};
static const size_t column_lens[COL_COUNT] = { 10, 10, 11, 11, 11 };
static const oid sys_name_oid[] = { 1, 3, 6, 1, 2, 1, 1, 5, 0 };

struct exporter_state {
	struct fs_addr addr;
	int64_t next_poll_ms;
	int64_t next_failure_log_ms;
	bool polled;                 /* at least one poll finished */
	bool ok;                     /* at least one poll succeeded */
};

/* One interface read in a poll. */
struct polled_if {
	uint32_t ifindex;
	struct fs_if_info info;
	uint64_t if_speed;
	uint64_t high_speed;
	bool has_if_speed;
	bool has_high_speed;
	char descr[FS_FLOW_IF_NAME_LEN];
};

struct poll_result {
	struct polled_if *rows;      /* sorted by ifindex */
	size_t count;
	size_t cap;
	char sys_name[FS_FLOW_EXPORTER_NAME_LEN];
};

struct fs_snmp_poller {
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t wake;         /* new exporter, or stop */
	pthread_cond_t polled;       /* a poll finished */
	bool stop;
	char *community;
	uint16_t port;
	int refresh_s;
	int timeout_ms;
	int retries;
	struct exporter_state *exporters;
	size_t exporter_count;
	struct fs_if_map *cache;     /* exporter entries carry sysName */
	struct fs_snmp_stats stats;
};

static pthread_once_t snmp_init_once = PTHREAD_ONCE_INIT;

/* init_snmp() is not thread-safe and reads config files; it runs once, quietly. */
static void
init_library(void)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_CONFIG_LOAD, 1);
	setenv("MIBS", "", 0);
	snmp_disable_log();
	init_snmp("flowsift");
}

/* Returns the row for ifindex, inserted in order when missing, or NULL when full. */
static struct polled_if *
result_row(struct poll_result *r, uint32_t ifindex)
{
	size_t lo = 0, hi = r->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->rows[mid].ifindex == ifindex)
			return &r->rows[mid];
		if (r->rows[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (r->count == FS_SNMP_MAX_INTERFACES)
		return NULL;
	if (r->count == r->cap) {
		size_t cap = r->cap == 0 ? 64 : r->cap * 2;
		struct polled_if *grown = realloc(r->rows, cap * sizeof(*grown));

		if (grown == NULL)
			return NULL;
		r->rows = grown;
		r->cap = cap;
	}
	memmove(&r->rows[lo + 1], &r->rows[lo], (r->count - lo) * sizeof(r->rows[0]));
	memset(&r->rows[lo], 0, sizeof(r->rows[0]));
	r->rows[lo].ifindex = ifindex;
	r->count++;
	return &r->rows[lo];
}

static void
store_value(struct polled_if *row, enum column col, const netsnmp_variable_list *var)
{
	bool is_text = var->type == ASN_OCTET_STR;
	bool is_number = var->type == ASN_GAUGE || var->type == ASN_INTEGER ||
			 var->type == ASN_COUNTER || var->type == ASN_UNSIGNED;
	const char *text = (const char *)var->val.string;

	switch (col) {
	case COL_IF_DESCR:
		if (is_text)
			fs_flow_set_text(row->descr, sizeof(row->descr), text, var->val_len);
		break;
	case COL_IF_NAME:
		if (is_text)
			fs_flow_set_text(row->info.name, sizeof(row->info.name), text, var->val_len);
		break;
	case COL_IF_ALIAS:
		if (is_text)
			fs_flow_set_text(row->info.description, sizeof(row->info.description),
					 text, var->val_len);
		break;
	case COL_IF_SPEED:
		if (is_number) {
			row->if_speed = (uint32_t)*var->val.integer;
			row->has_if_speed = true;
		}
		break;
	case COL_IF_HIGH_SPEED:
		if (is_number) {
			row->high_speed = (uint32_t)*var->val.integer;
			row->has_high_speed = true;
		}
		break;
	case COL_COUNT:
		break;
	}
}

/* Walks one table column with GETBULK.  Returns 0 or a negative fs_result. */
static int
walk_column(void *session, enum column col, struct poll_result *r, char *err, size_t err_len)
{
	oid next[MAX_OID_LEN];
	size_t next_len = column_lens[col];

	memcpy(next, column_oids[col], next_len * sizeof(oid));
	for (;;) {
		netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GETBULK);
		netsnmp_pdu *response = NULL;
		bool done = false;
		int status;

		if (pdu == NULL)
			return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
		pdu->non_repeaters = 0;
		pdu->max_repetitions = MAX_REPETITIONS;
		snmp_add_null_var(pdu, next, next_len);
		status = snmp_sess_synch_response(session, pdu, &response);
		if (status != STAT_SUCCESS || response == NULL) {
			if (response != NULL)
				snmp_free_pdu(response);
			return fs_fail(err, err_len, FS_ERR_SYSTEM, "%s",
				       status == STAT_TIMEOUT ? "timed out" : "request failed");
		}
		if (response->errstat != SNMP_ERR_NOERROR) {
			int errstat = (int)response->errstat;

			snmp_free_pdu(response);
			return fs_fail(err, err_len, FS_ERR_INVALID, "agent returned error %s",
				       snmp_errstring(errstat));
		}
		if (response->variables == NULL)
			done = true;
		for (netsnmp_variable_list *var = response->variables; var != NULL;
		     var = var->next_variable) {
			struct polled_if *row;

			if (var->type == SNMP_ENDOFMIBVIEW || var->type == SNMP_NOSUCHOBJECT ||
			    var->type == SNMP_NOSUCHINSTANCE || var->name_length != column_lens[col] + 1 ||
			    snmp_oid_compare(var->name, column_lens[col], column_oids[col],
					     column_lens[col]) != 0 ||
			    snmp_oid_compare(var->name, var->name_length, next, next_len) <= 0) {
				done = true;
				break;
			}
			row = result_row(r, (uint32_t)var->name[column_lens[col]]);
			if (row == NULL) {
				done = true;
				break;
			}
			store_value(row, col, var);
			memcpy(next, var->name, var->name_length * sizeof(oid));
			next_len = var->name_length;
		}
		snmp_free_pdu(response);
		if (done)
			return 0;
	}
}

static void
read_sys_name(void *session, struct poll_result *r)
{
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
	netsnmp_pdu *response = NULL;

	if (pdu == NULL)
		return;
	snmp_add_null_var(pdu, sys_name_oid, sizeof(sys_name_oid) / sizeof(sys_name_oid[0]));
	if (snmp_sess_synch_response(session, pdu, &response) == STAT_SUCCESS &&
	    response != NULL && response->errstat == SNMP_ERR_NOERROR &&
	    response->variables != NULL && response->variables->type == ASN_OCTET_STR)
		fs_flow_set_text(r->sys_name, sizeof(r->sys_name),
				 (const char *)response->variables->val.string,
				 response->variables->val_len);
	if (response != NULL)
		snmp_free_pdu(response);
}

/* Polls one exporter into r.  Returns 0 or a negative fs_result with err set. */
static int
poll_exporter(struct fs_snmp_poller *p, const struct fs_addr *addr, struct poll_result *r,
	      char *err, size_t err_len)
{
	netsnmp_session settings;
	char text[FS_ADDR_STRLEN];
	char peer[FS_ADDR_STRLEN + 16];
	void *session;
	int rc = 0;

	fs_addr_format(addr, text);
	if (addr->family == 6)
		snprintf(peer, sizeof(peer), "udp6:[%s]:%u", text, p->port);
	else
		snprintf(peer, sizeof(peer), "udp:%s:%u", text, p->port);
	snmp_sess_init(&settings);
	settings.version = SNMP_VERSION_2c;
	settings.peername = peer;
	settings.community = (u_char *)p->community;
	settings.community_len = strlen(p->community);
	settings.timeout = (long)p->timeout_ms * 1000;
	settings.retries = p->retries;
	session = snmp_sess_open(&settings);
	if (session == NULL)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "cannot open an SNMP session to %s",
			       peer);

	for (int col = 0; col < COL_COUNT && rc == 0; col++)
		rc = walk_column(session, (enum column)col, r, err, err_len);
	if (rc == 0)
		read_sys_name(session, r);
	snmp_sess_close(session);
	if (rc == 0 && r->count == 0)
		rc = fs_fail(err, err_len, FS_ERR_NOT_FOUND, "the agent has no ifTable rows");
	return rc;
}

/* Stores a successful poll in the cache; called with the lock held. */
static void
store_result(struct fs_snmp_poller *p, const struct fs_addr *addr, struct poll_result *r)
{
	struct fs_exporter_info exporter;

	memset(&exporter, 0, sizeof(exporter));
	memcpy(exporter.name, r->sys_name, sizeof(exporter.name));
	fs_if_map_set_exporter(p->cache, addr, &exporter);
	for (size_t i = 0; i < r->count; i++) {
		struct polled_if *row = &r->rows[i];

		if (row->info.name[0] == '\0')
			memcpy(row->info.name, row->descr, sizeof(row->info.name));
		/* ifSpeed stops at 2^32 - 1; ifHighSpeed counts Mbit/s above that. */
		if (row->has_high_speed && row->high_speed > 0) {
			row->info.speed = row->high_speed * 1000000ull;
			row->info.has_speed = true;
		} else if (row->has_if_speed) {
			row->info.speed = row->if_speed;
			row->info.has_speed = true;
		}
		if (fs_if_map_set_interface(p->cache, addr, row->ifindex, &row->info) == 0)
			p->stats.interfaces = fs_if_map_count(p->cache);
	}
}

static struct exporter_state *
next_due(struct fs_snmp_poller *p, int64_t now, int64_t *earliest)
{
	*earliest = now + 1000;
	for (size_t i = 0; i < p->exporter_count; i++) {
		if (p->exporters[i].next_poll_ms <= now)
			return &p->exporters[i];
		if (p->exporters[i].next_poll_ms < *earliest)
			*earliest = p->exporters[i].next_poll_ms;
	}
	return NULL;
}

static void *
poller_main(void *arg)
{
	struct fs_snmp_poller *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		int64_t now = fs_monotonic_ms();
		int64_t earliest;
		struct exporter_state *due = next_due(p, now, &earliest);
		struct poll_result result = { 0 };
		struct fs_addr addr;
		char text[FS_ADDR_STRLEN];
		char reason[256];
		int rc;

		if (due == NULL) {
			struct timespec until;
			int64_t wait_ms = earliest - now;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += wait_ms / 1000;
			until.tv_nsec += (wait_ms % 1000) * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&p->wake, &p->lock, &until);
			continue;
		}
		addr = due->addr;
		pthread_mutex_unlock(&p->lock);
		rc = poll_exporter(p, &addr, &result, reason, sizeof(reason));
		pthread_mutex_lock(&p->lock);

		/* due may have moved if the array grew; find the exporter again. */
		for (size_t i = 0; i < p->exporter_count; i++) {
			struct exporter_state *s = &p->exporters[i];

			if (!fs_addr_equal(&s->addr, &addr))
				continue;
			now = fs_monotonic_ms();
			s->next_poll_ms = now + (int64_t)p->refresh_s * 1000;
			s->polled = true;
			p->stats.polls++;
			if (rc == 0) {
				s->ok = true;
				store_result(p, &addr, &result);
			} else {
				p->stats.poll_failures++;
				if (now >= s->next_failure_log_ms) {
					s->next_failure_log_ms = now + (int64_t)p->refresh_s * 1000;
					fs_log(FS_LOG_WARNING, FACILITY,
					       "polling exporter %s on port %u failed: %s; keeping the "
					       "names of the last successful poll, next try in %d s",
					       fs_addr_format(&addr, text), p->port, reason,
					       p->refresh_s);
				}
			}
			break;
		}
		pthread_cond_broadcast(&p->polled);
		free(result.rows);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int
fs_snmp_poller_new(const struct fs_snmp_settings *settings, struct fs_snmp_poller **out,
		   char *err, size_t err_len)
{
	struct fs_snmp_poller *p = calloc(1, sizeof(*p));
	pthread_condattr_t attr;
	int rc;

	*out = NULL;
	if (p == NULL)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_cond_init(&p->wake, &attr);
	pthread_cond_init(&p->polled, &attr);
	pthread_condattr_destroy(&attr);
	p->community = strdup(settings->community);
	p->port = settings->port;
	p->refresh_s = settings->refresh_s > 0 ? settings->refresh_s : 1;
	p->timeout_ms = settings->timeout_ms > 0 ? settings->timeout_ms : 1000;
	p->retries = settings->retries >= 0 ? settings->retries : 0;
	p->exporters = calloc(FS_SNMP_MAX_EXPORTERS, sizeof(*p->exporters));
	p->cache = fs_if_map_new();
	if (p->community == NULL || p->exporters == NULL || p->cache == NULL) {
		fs_snmp_poller_free(p);
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	}
	pthread_once(&snmp_init_once, init_library);
	rc = pthread_create(&p->thread, NULL, poller_main, p);
	if (rc != 0) {
		fs_snmp_poller_free(p);
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "cannot start the SNMP thread: %s",
			       strerror(rc));
	}
	p->thread_started = true;
	*out = p;
	return 0;
}

void
fs_snmp_poller_free(struct fs_snmp_poller *p)
{
	if (p == NULL)
		return;
	if (p->thread_started) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_broadcast(&p->wake);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	pthread_cond_destroy(&p->wake);
	pthread_cond_destroy(&p->polled);
	pthread_mutex_destroy(&p->lock);
	fs_if_map_free(p->cache);
	free(p->exporters);
	free(p->community);
	free(p);
}

/* Adds exporter to the poll list; called with the lock held. */
static void
watch_exporter(struct fs_snmp_poller *p, const struct fs_addr *exporter)
{
	struct fs_exporter_info empty;

	memset(&empty, 0, sizeof(empty));
	if (p->exporter_count == FS_SNMP_MAX_EXPORTERS) {
		p->stats.exporters_ignored++;
		return;
	}
	if (fs_if_map_set_exporter(p->cache, exporter, &empty) != 0)
		return;
	p->exporters[p->exporter_count].addr = *exporter;
	p->exporters[p->exporter_count].next_poll_ms = 0;
	p->exporter_count++;
	p->stats.exporters = p->exporter_count;
	pthread_cond_broadcast(&p->wake);
}

bool
fs_snmp_poller_lookup(struct fs_snmp_poller *p, const struct fs_addr *exporter,
		      uint32_t in_if, uint32_t out_if, char *name,
		      struct fs_if_info *in, struct fs_if_info *out)
{
	const struct fs_exporter_info *info;
	const struct fs_if_info *found;
	bool known = false;

	name[0] = '\0';
	memset(in, 0, sizeof(*in));
	memset(out, 0, sizeof(*out));
	if (exporter->family != 4 && exporter->family != 6)
		return false;
	pthread_mutex_lock(&p->lock);
	info = fs_if_map_exporter(p->cache, exporter);
	if (info == NULL) {
		watch_exporter(p, exporter);
	} else {
		memcpy(name, info->name, FS_FLOW_EXPORTER_NAME_LEN);
		if (in_if != 0 && (found = fs_if_map_interface(p->cache, exporter, in_if)) != NULL) {
			*in = *found;
			known = true;
		}
		if (out_if != 0 &&
		    (found = fs_if_map_interface(p->cache, exporter, out_if)) != NULL) {
			*out = *found;
			known = true;
		}
		known = known || name[0] != '\0';
	}
	pthread_mutex_unlock(&p->lock);
	return known;
}

bool
fs_snmp_poller_wait(struct fs_snmp_poller *p, const struct fs_addr *exporter, int timeout_ms)
{
	int64_t deadline = fs_monotonic_ms() + timeout_ms;
	bool polled = false;

	pthread_mutex_lock(&p->lock);
	if (fs_if_map_exporter(p->cache, exporter) == NULL)
		watch_exporter(p, exporter);
	for (;;) {
		struct timespec until;

		for (size_t i = 0; i < p->exporter_count; i++) {
			if (fs_addr_equal(&p->exporters[i].addr, exporter))
				polled = p->exporters[i].polled;
		}
		if (polled || fs_monotonic_ms() >= deadline)
			break;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 50 * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->polled, &p->lock, &until);
	}
	pthread_mutex_unlock(&p->lock);
	return polled;
}

void
fs_snmp_poller_stats(struct fs_snmp_poller *p, struct fs_snmp_stats *out)
{
	pthread_mutex_lock(&p->lock);
	*out = p->stats;
	pthread_mutex_unlock(&p->lock);
}
