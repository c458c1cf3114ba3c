/*
 * test_metrics.c - metric registry, Prometheus exposition, the HTTP endpoints
 * over loopback and the TCP readiness probe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/result.h"
#include "metrics/http_server.h"
#include "metrics/metrics.h"
#include "metrics/probe.h"
#include "support/conn_limit.h"

#define MAX_FAMILIES 64

static const double latency_bounds[] = { 0.001, 0.01, 0.1, 1 };

struct family_seen {
	char name[128];
	char type[16];
	int has_help;
};

static struct family_seen *
find_seen(struct family_seen *seen, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(seen[i].name, name) == 0)
			return &seen[i];
	}
	return NULL;
}

/* Maps a sample name to its family: histogram samples drop _bucket, _sum or _count. */
static struct family_seen *
family_of_sample(struct family_seen *seen, size_t count, const char *sample)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	struct family_seen *f = find_seen(seen, count, sample);
	char base[128];

	if (f)
		return f;
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(sample), s = strlen(suffixes[i]);

		if (n > s && strcmp(sample + n - s, suffixes[i]) == 0 && n - s < sizeof(base)) {
			memcpy(base, sample, n - s);
			base[n - s] = '\0';
			f = find_seen(seen, count, base);
			if (f && strcmp(f->type, "histogram") == 0)
				return f;
		}
	}
	return NULL;
}

/*
 * Checks text against the exposition rules the scrapers rely on: every
 * sample follows its family's HELP and TYPE lines, and every histogram has
 * cumulative buckets ending in +Inf whose count equals _count.  Returns NULL
 * or a description of the first violation (static storage).
 */
static const char *
check_exposition(const char *text)
{
	static char why[256];
	struct family_seen seen[MAX_FAMILIES];
	size_t count = 0;
	unsigned long long previous_bucket = 0, inf_bucket = 0;
	int in_histogram = 0, saw_inf = 0;
	char *copy = strdup(text), *line, *save = NULL;
	const char *result = NULL;

	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[16];
		struct family_seen *f;
		const char *value;

		if (sscanf(line, "# HELP %127s", name) == 1) {
			assert_true(count < MAX_FAMILIES);
			snprintf(seen[count].name, sizeof(seen[count].name), "%s", name);
			seen[count].type[0] = '\0';
			seen[count].has_help = 1;
			count++;
			in_histogram = 0;
			saw_inf = 0;
			previous_bucket = 0;
			continue;
		}
		if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
			f = find_seen(seen, count, name);
			if (!f) {
				snprintf(why, sizeof(why), "TYPE before HELP: %s", line);
				result = why;
				break;
			}
			snprintf(f->type, sizeof(f->type), "%s", type);
			in_histogram = strcmp(type, "histogram") == 0;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%127[^{ ]", name) != 1) {
			snprintf(why, sizeof(why), "no sample name: %s", line);
			result = why;
			break;
		}
		f = family_of_sample(seen, count, name);
		if (!f || !f->has_help || !f->type[0]) {
			snprintf(why, sizeof(why), "sample without HELP and TYPE: %s", line);
			result = why;
			break;
		}
		value = strrchr(line, ' ');
		if (!value || value[1] == '\0') {
			snprintf(why, sizeof(why), "sample without value: %s", line);
			result = why;
			break;
		}
		if (in_histogram && strstr(name, "_bucket")) {
			unsigned long long v = strtoull(value + 1, NULL, 10);

			if (v < previous_bucket) {
				snprintf(why, sizeof(why), "bucket not cumulative: %s", line);
				result = why;
				break;
			}
			previous_bucket = v;
			if (strstr(line, "le=\"+Inf\"")) {
				saw_inf = 1;
				inf_bucket = v;
			}
		}
		if (in_histogram && strstr(name, "_count")) {
			if (!saw_inf) {
				snprintf(why, sizeof(why), "histogram without +Inf bucket: %s", line);
				result = why;
				break;
			}
			if (strtoull(value + 1, NULL, 10) != inf_bucket) {
				snprintf(why, sizeof(why), "_count differs from +Inf bucket: %s", line);
				result = why;
				break;
			}
			saw_inf = 0;
			previous_bucket = 0;
		}
	}
	free(copy);
	return result;
}

static char *
render(struct fs_metrics *m)
{
	char *text;
	size_t len;

	assert_int_equal(fs_metrics_render(m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static void
exposition_families_and_values(void **state)
{
	struct fs_metrics *m = fs_metrics_new();
	struct fs_counter *truncated, *invalid;
	struct fs_gauge *depth;
	struct fs_histogram *latency;
	const char *why;
	char *text;

	(void)state;
	assert_non_null(m);
	truncated = fs_metrics_counter(m, "fs_drops_total", "Drops by reason.", "reason=truncated");
	invalid = fs_metrics_counter(m, "fs_drops_total", "Drops by reason.", "reason=invalid");
	depth = fs_metrics_gauge(m, "fs_queue_depth", "Messages queued.", NULL);
	latency = fs_metrics_histogram(m, "fs_latency_seconds", "Latency.", "stage=decode",
				       latency_bounds, 4);
	assert_non_null(truncated);
	assert_non_null(invalid);
	assert_non_null(depth);
	assert_non_null(latency);
	fs_counter_add(truncated, 3);
	fs_counter_set(invalid, 42);
	fs_gauge_set(depth, 7);
	fs_gauge_add(depth, -2);
	fs_histogram_observe(latency, 0.0005);
	fs_histogram_observe(latency, 0.05);
	fs_histogram_observe(latency, 0.05);
	fs_histogram_observe(latency, 30);

	text = render(m);
	why = check_exposition(text);
	if (why)
		fail_msg("%s\n%s", why, text);
	assert_non_null(strstr(text, "# HELP fs_drops_total Drops by reason.\n"
				     "# TYPE fs_drops_total counter\n"
				     "fs_drops_total{reason=\"truncated\"} 3\n"
				     "fs_drops_total{reason=\"invalid\"} 42\n"));
	assert_non_null(strstr(text, "fs_queue_depth 5\n"));
	assert_non_null(strstr(text, "fs_latency_seconds_bucket{stage=\"decode\",le=\"0.001\"} 1\n"));
	assert_non_null(strstr(text, "fs_latency_seconds_bucket{stage=\"decode\",le=\"0.01\"} 1\n"));
	assert_non_null(strstr(text, "fs_latency_seconds_bucket{stage=\"decode\",le=\"0.1\"} 3\n"));
	assert_non_null(strstr(text, "fs_latency_seconds_bucket{stage=\"decode\",le=\"1\"} 3\n"));
	assert_non_null(strstr(text, "fs_latency_seconds_bucket{stage=\"decode\",le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(text, "fs_latency_seconds_sum{stage=\"decode\"} 30.1005"));
	assert_non_null(strstr(text, "fs_latency_seconds_count{stage=\"decode\"} 4\n"));
	free(text);
	fs_metrics_free(m);
}

static void
checker_rejects_broken_exposition(void **state)
{
	(void)state;
	/* The checker itself must be able to fail, or the test above proves nothing. */
	assert_non_null(check_exposition("orphan_total 1\n"));
	assert_non_null(check_exposition("# HELP h x\n# TYPE h histogram\n"
					 "h_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 4\n"
					 "h_sum 1\nh_count 4\n"));
	assert_non_null(check_exposition("# HELP h x\n# TYPE h histogram\n"
					 "h_bucket{le=\"1\"} 5\nh_sum 1\nh_count 5\n"));
	assert_null(check_exposition("# HELP c x\n# TYPE c counter\nc 1\n"));
}

static void
registration_rules(void **state)
{
	struct fs_metrics *m = fs_metrics_new();
	struct fs_counter *first;
	static const double bad_bounds[] = { 1, 1 };

	(void)state;
	first = fs_metrics_counter(m, "fs_records_total", "Records.", "kind=in");
	assert_non_null(first);
	assert_ptr_equal(fs_metrics_counter(m, "fs_records_total", "Records.", "kind=in"), first);
	assert_null(fs_metrics_gauge(m, "fs_records_total", "Records.", "kind=in"));
	assert_null(fs_metrics_counter(m, "fs_records_total", "Other help.", "kind=out"));
	assert_null(fs_metrics_counter(m, "9starts_with_digit", "x", NULL));
	assert_null(fs_metrics_counter(m, "has-dash", "x", NULL));
	assert_null(fs_metrics_counter(m, "fs_x_total", "x", "__reserved=1"));
	assert_null(fs_metrics_counter(m, "fs_x_total", "x", "novalue"));
	assert_null(fs_metrics_counter(m, "fs_x_total", "x", "a=b=c"));
	assert_null(fs_metrics_histogram(m, "fs_h", "x", "le=1", latency_bounds, 4));
	assert_null(fs_metrics_histogram(m, "fs_h", "x", NULL, bad_bounds, 2));
	assert_null(fs_metrics_histogram(m, "fs_h", "x", NULL, latency_bounds, 0));
	assert_non_null(fs_metrics_histogram(m, "fs_h", "x", "a=1", latency_bounds, 4));
	assert_null(fs_metrics_histogram(m, "fs_h", "x", "a=2", latency_bounds, 3));
	fs_metrics_free(m);
}

static void
label_values_escaped(void **state)
{
	struct fs_metrics *m = fs_metrics_new();
	char *text;

	(void)state;
	assert_non_null(fs_metrics_gauge(m, "fs_info", "Line one\nback\\slash", "path=C:\\x\"y"));
	text = render(m);
	assert_non_null(strstr(text, "# HELP fs_info Line one\\nback\\\\slash\n"));
	assert_non_null(strstr(text, "fs_info{path=\"C:\\\\x\\\"y\"} 0\n"));
	free(text);
	fs_metrics_free(m);
}

struct hammer {
	struct fs_counter *counter;
	struct fs_histogram *histogram;
};

#define HAMMER_THREADS 4
#define HAMMER_ROUNDS 100000

static void *
hammer_run(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < HAMMER_ROUNDS; i++) {
		fs_counter_add(h->counter, 1);
		fs_histogram_observe(h->histogram, 0.5);
	}
	return NULL;
}

static void
concurrent_updates_exact(void **state)
{
	struct fs_metrics *m = fs_metrics_new();
	struct hammer h;
	pthread_t threads[HAMMER_THREADS];
	char *text, expected[128];

	(void)state;
	h.counter = fs_metrics_counter(m, "fs_hits_total", "Hits.", NULL);
	h.histogram = fs_metrics_histogram(m, "fs_hit_seconds", "Hit time.", NULL,
					   latency_bounds, 4);
	for (int i = 0; i < HAMMER_THREADS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, hammer_run, &h), 0);
	for (int i = 0; i < HAMMER_THREADS; i++)
		pthread_join(threads[i], NULL);
	assert_int_equal(fs_counter_value(h.counter), HAMMER_THREADS * HAMMER_ROUNDS);
	text = render(m);
	snprintf(expected, sizeof(expected), "fs_hit_seconds_count %d\n",
		 HAMMER_THREADS * HAMMER_ROUNDS);
	assert_non_null(strstr(text, expected));
	snprintf(expected, sizeof(expected), "fs_hit_seconds_sum %d\n",
		 HAMMER_THREADS * HAMMER_ROUNDS / 2);
	assert_non_null(strstr(text, expected));
	free(text);
	fs_metrics_free(m);
}

/* Sends one HTTP/1.0 request to 127.0.0.1:port and returns the whole response (caller frees). */
static char *
http_request(uint16_t port, const char *method, const char *path)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	char request[256];
	char *response = NULL;
	size_t len = 0, cap = 0;
	int fd;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	snprintf(request, sizeof(request), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
		 method, path);
	assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	for (;;) {
		ssize_t n;

		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *grown = realloc(response, cap);

			assert_non_null(grown);
			response = grown;
		}
		n = read(fd, response + len, cap - len - 1);
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	response[len] = '\0';
	return response;
}

static int
status_of(const char *response)
{
	int status = 0;

	assert_int_equal(sscanf(response, "HTTP/1.%*d %d", &status), 1);
	return status;
}

static const char *
body_of(const char *response)
{
	const char *body = strstr(response, "\r\n\r\n");

	assert_non_null(body);
	return body + 4;
}

struct readiness {
	atomic_int ready;
};

static int
ready_cb(void *opaque, char *reason, size_t reason_len)
{
	struct readiness *r = opaque;

	if (atomic_load(&r->ready))
		return 1;
	snprintf(reason, reason_len, "broker unreachable");
	return 0;
}

static void
server_endpoints_over_loopback(void **state)
{
	struct fs_metrics *m = fs_metrics_new();
	struct fs_metrics_server *server;
	struct readiness readiness = { 0 };
	struct fs_counter *in;
	char err[256], *response;
	const char *why;
	uint16_t port;

	(void)state;
	in = fs_metrics_counter(m, "fs_records_in_total", "Records in.", NULL);
	assert_non_null(fs_metrics_histogram(m, "fs_wait_seconds", "Wait.", NULL,
					     latency_bounds, 4));
	fs_counter_add(in, 12);
	assert_int_equal(fs_metrics_server_start(&server, "127.0.0.1:0", m, ready_cb,
						 &readiness, err, sizeof(err)), 0);
	port = fs_metrics_server_port(server);
	assert_true(port > 0);

	response = http_request(port, "GET", "/metrics");
	assert_int_equal(status_of(response), 200);
	assert_non_null(strstr(response, "text/plain; version=0.0.4"));
	assert_non_null(strstr(body_of(response), "fs_records_in_total 12\n"));
	why = check_exposition(body_of(response));
	if (why)
		fail_msg("%s", why);
	free(response);

	response = http_request(port, "GET", "/healthz");
	assert_int_equal(status_of(response), 200);
	free(response);

	response = http_request(port, "GET", "/readyz");
	assert_int_equal(status_of(response), 503);
	assert_string_equal(body_of(response), "not ready: broker unreachable\n");
	free(response);

	atomic_store(&readiness.ready, 1);
	response = http_request(port, "GET", "/readyz");
	assert_int_equal(status_of(response), 200);
	free(response);

	response = http_request(port, "GET", "/nothing");
	assert_int_equal(status_of(response), 404);
	free(response);

	response = http_request(port, "POST", "/metrics");
	assert_int_equal(status_of(response), 405);
	free(response);

	fs_metrics_server_stop(server);
	fs_metrics_free(m);
}

/*
 * Idle connections of one client address beyond the per-address limit (8)
 * are rejected while another address is still served, and the idle timeout
 * (10 s) gives the slots back.
 */
static void
server_limits_idle_clients_per_address(void **state)
{
	enum { IDLE = 8 };
	struct fs_metrics *m = fs_metrics_new();
	struct fs_metrics_server *server;
	int idle[IDLE];
	char err[256];
	uint16_t port;

	(void)state;
	assert_int_equal(fs_metrics_server_start(&server, "127.0.0.1:0", m, NULL, NULL, err,
						 sizeof(err)), 0);
	port = fs_metrics_server_port(server);
	/* The server closes a ninth connection from 127.0.0.1 without a response. */
	assert_int_equal(fs_test_status_over_limit("127.0.0.1", port, "/healthz", idle, IDLE,
						   10000), 0);
	assert_int_equal(fs_test_status_from("127.0.0.2", port, "/healthz"), 200);

	/* The idle timeout closes the idle connections; the wait is generous for a loaded machine. */
	for (int i = 0; i < IDLE; i++) {
		assert_int_equal(fs_test_wait_closed(idle[i], 120000), 0);
		close(idle[i]);
	}
	assert_int_equal(fs_test_status_within("127.0.0.1", port, "/healthz", 200, 10000),
			 200);

	fs_metrics_server_stop(server);
	fs_metrics_free(m);
}

static void
server_rejects_bad_listen(void **state)
{
	struct fs_metrics *m = fs_metrics_new();
	struct fs_metrics_server *server = NULL, *second = NULL;
	char err[256], listen[64];

	(void)state;
	assert_int_equal(fs_metrics_server_start(&server, "127.0.0.1", m, NULL, NULL,
						 err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "127.0.0.1"));
	assert_int_equal(fs_metrics_server_start(&server, "127.0.0.1:0", m, NULL, NULL,
						 err, sizeof(err)), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", fs_metrics_server_port(server));
	assert_true(fs_metrics_server_start(&second, listen, m, NULL, NULL, err,
					    sizeof(err)) < 0);
	assert_null(second);
	assert_non_null(strstr(err, listen));
	fs_metrics_server_stop(server);
	fs_metrics_free(m);
}

static void
hostport_forms(void **state)
{
	char host[64];
	uint16_t port;

	(void)state;
	assert_int_equal(fs_hostport_parse("127.0.0.1:9101", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9101);
	assert_int_equal(fs_hostport_parse("[::1]:80", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	assert_int_equal(fs_hostport_parse(":9102", host, sizeof(host), &port), 0);
	assert_string_equal(host, "");
	assert_int_equal(fs_hostport_parse("::1:80", host, sizeof(host), &port), FS_ERR_INVALID);
	assert_int_equal(fs_hostport_parse("host:", host, sizeof(host), &port), FS_ERR_INVALID);
	assert_int_equal(fs_hostport_parse("host:65536", host, sizeof(host), &port), FS_ERR_INVALID);
	assert_int_equal(fs_hostport_parse("host:-1", host, sizeof(host), &port), FS_ERR_INVALID);
}

static void
probe_open_and_closed_ports(void **state)
{
	struct fs_metrics *m = fs_metrics_new();
	struct fs_metrics_server *server;
	char err[256], reason[256], list[128];
	uint16_t open_port, closed_port;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int fd;

	(void)state;
	/* A port that was just bound and released has no listener. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	closed_port = ntohs(addr.sin_port);
	close(fd);

	assert_int_equal(fs_metrics_server_start(&server, "127.0.0.1:0", m, NULL, NULL,
						 err, sizeof(err)), 0);
	open_port = fs_metrics_server_port(server);
	snprintf(list, sizeof(list), "127.0.0.1:%u", closed_port);
	assert_int_equal(fs_probe_tcp(list, 1000, reason, sizeof(reason)), FS_ERR_NOT_FOUND);
	assert_non_null(strstr(reason, list));
	snprintf(list, sizeof(list), "127.0.0.1:%u, 127.0.0.1:%u", closed_port, open_port);
	assert_int_equal(fs_probe_tcp(list, 1000, reason, sizeof(reason)), 0);
	assert_int_equal(fs_probe_tcp("no-port", 1000, reason, sizeof(reason)), FS_ERR_INVALID);
	fs_metrics_server_stop(server);
	fs_metrics_free(m);
}

/*
 * A probe of a listener whose accept queue is full times out, and the reason
 * names the timeout.  Linux drops the SYNs of a listener whose queue is full, so the
 * connect never completes.
 */
static void
probe_timeout_named(void **state)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	char reason[256], target[64];
	int listener, queued[4];

	(void)state;
	listener = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(listener >= 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(listener, 0), 0);
	assert_int_equal(getsockname(listener, (struct sockaddr *)&addr, &len), 0);
	snprintf(target, sizeof(target), "127.0.0.1:%u", ntohs(addr.sin_port));

	/* Fill the accept queue; connections past it stay in SYN_SENT. */
	for (int i = 0; i < 4; i++) {
		queued[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(queued[i] >= 0);
		(void)connect(queued[i], (struct sockaddr *)&addr, sizeof(addr));
	}
	assert_int_equal(fs_probe_tcp(target, 300, reason, sizeof(reason)), FS_ERR_NOT_FOUND);
	if (strstr(reason, "timed out after 300 ms") == NULL)
		fail_msg("probe of a full accept queue gave '%s'", reason);

	for (int i = 0; i < 4; i++)
		close(queued[i]);
	close(listener);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exposition_families_and_values),
		cmocka_unit_test(checker_rejects_broken_exposition),
		cmocka_unit_test(registration_rules),
		cmocka_unit_test(label_values_escaped),
		cmocka_unit_test(concurrent_updates_exact),
		cmocka_unit_test(server_endpoints_over_loopback),
		cmocka_unit_test(server_limits_idle_clients_per_address),
		cmocka_unit_test(server_rejects_bad_listen),
		cmocka_unit_test(hostport_forms),
		cmocka_unit_test(probe_open_and_closed_ports),
		cmocka_unit_test(probe_timeout_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
