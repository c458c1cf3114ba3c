/*
 * test_console_http.c - flowsift-console over HTTP: the embedded page, the
 * access token (Authorization header, login cookie, never in a URL, never
 * logged), request bounds and methods.  Runs the built binary against a
 * real redis-server.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "support/conn_limit.h"
#include "support/ingest_harness.h"
#include "support/process.h"
#include "support/redis_server.h"

#define TOKEN "s3cret-token-for-tests-0123456789"
/* console.connections.per_ip.max and console.idle.timeout.ms of the console under test. */
#define PER_IP_MAX 4
#define IDLE_TIMEOUT_MS "2000"

static struct fs_test_redis server;
static pid_t console;
static int port;
static char dir[64];
static char log_path[128];

/*
 * Sends request (a whole HTTP/1.1 request) and returns the response, which
 * the caller frees, or NULL while the server does not accept connections.
 */
static char *
http(const char *request)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval timeout = { .tv_sec = 30 };
	size_t cap = 1 << 20, len = 0;
	char *response;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return NULL;
	}
	assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	response = malloc(cap + 1);
	assert_non_null(response);
	while (len < cap && (n = read(fd, response + len, cap - len)) > 0)
		len += (size_t)n;
	response[len] = '\0';
	close(fd);
	return response;
}

/* Sends a GET of path with extra header lines (each ending in \r\n, may be ""). */
static char *
get(const char *path, const char *headers)
{
	char request[2048];

	snprintf(request, sizeof(request),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n", path, headers);
	return http(request);
}

static int
status_of(const char *response)
{
	int status = 0;

	assert_non_null(response);
	assert_int_equal(sscanf(response, "HTTP/1.1 %d", &status), 1);
	return status;
}

static int
group_setup(void **state)
{
	char token_file[128], listen_env[64], redis_env[600], token_env[160];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fstest-console-http-XXXXXX");
	if (!mkdtemp(dir) || fs_test_redis_start(&server) < 0)
		return -1;
	snprintf(token_file, sizeof(token_file), "%s/token", dir);
	f = fopen(token_file, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", TOKEN);
	fclose(f);
	port = fstest_free_port(SOCK_STREAM);
	snprintf(listen_env, sizeof(listen_env), "FLOWSIFT_CONSOLE_LISTEN=127.0.0.1:%d", port);
	snprintf(redis_env, sizeof(redis_env), "FLOWSIFT_REDIS_URL=%s", server.url);
	snprintf(token_env, sizeof(token_env), "FLOWSIFT_CONSOLE_TOKEN_FILE=%s", token_file);
	snprintf(log_path, sizeof(log_path), "%s/console.log", dir);
	char per_ip_env[64];

	snprintf(per_ip_env, sizeof(per_ip_env), "FLOWSIFT_CONSOLE_CONNECTIONS_PER_IP_MAX=%d",
		 PER_IP_MAX);
	char *env[] = { listen_env, redis_env, token_env, "FLOWSIFT_LOG_LEVEL=debug",
			"FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1", per_ip_env,
			"FLOWSIFT_CONSOLE_IDLE_TIMEOUT_MS=" IDLE_TIMEOUT_MS, NULL };
	char *argv[] = { "flowsift-console", NULL };
	console = fs_test_spawn("flowsift-console", argv, env, log_path);
	if (console <= 0)
		return -1;
	/* Waits up to 20 s for the listening socket. */
	for (int i = 0; i < 200; i++) {
		char *response = get("/healthz", "");

		if (response) {
			free(response);
			return 0;
		}
		usleep(100000);
	}
	return -1;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (console > 0)
		fs_test_stop(console, 5000);
	fs_test_redis_stop(&server);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
serves_embedded_page(void **state)
{
	char *page = get("/", ""), *script;

	(void)state;
	assert_int_equal(status_of(page), 200);
	assert_non_null(strstr(page, "text/html"));
	assert_non_null(strstr(page, "Content-Security-Policy: default-src 'self'"));
	assert_non_null(strstr(page, "/assets/app.js"));
	free(page);
	script = get("/assets/app.js", "");
	assert_int_equal(status_of(script), 200);
	assert_non_null(strstr(script, "text/javascript"));
	free(script);
	page = get("/nope.html", "");
	assert_int_equal(status_of(page), 404);
	free(page);
}

static void
api_needs_token(void **state)
{
	char *response = get("/api/top", "");

	(void)state;
	assert_int_equal(status_of(response), 401);
	free(response);
	response = get("/api/top", "Authorization: Bearer wrong-token-of-some-length\r\n");
	assert_int_equal(status_of(response), 401);
	free(response);
	/* A token in the URL is never accepted. */
	response = get("/api/top?token=" TOKEN, "");
	assert_int_equal(status_of(response), 401);
	free(response);
	response = get("/api/top?n=3", "Authorization: Bearer " TOKEN "\r\n");
	assert_int_equal(status_of(response), 200);
	assert_non_null(strstr(response, "\"rows\":[]"));
	free(response);
}

static void
login_sets_http_only_cookie(void **state)
{
	char request[1024], *response;
	const char *body = "token=" TOKEN;

	(void)state;
	snprintf(request, sizeof(request),
		 "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		 "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	response = http(request);
	assert_int_equal(status_of(response), 303);
	assert_non_null(strstr(response, "Set-Cookie: flowsift_console=" TOKEN "; Path=/; HttpOnly; SameSite=Strict"));
	free(response);
	response = get("/api/alerts", "Cookie: flowsift_console=" TOKEN "\r\n");
	assert_int_equal(status_of(response), 200);
	free(response);

	body = "token=wrong";
	snprintf(request, sizeof(request),
		 "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		 "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	response = http(request);
	assert_int_equal(status_of(response), 303);
	assert_null(strstr(response, "Set-Cookie"));
	assert_non_null(strstr(response, "Location: /#login-failed"));
	free(response);
}

static void
login_rejects_large_body(void **state)
{
	char *request = malloc(16384), *response;
	size_t n;

	(void)state;
	assert_non_null(request);
	n = (size_t)snprintf(request, 16384,
			     "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
			     "Content-Type: application/x-www-form-urlencoded\r\n"
			     "Content-Length: 8000\r\n\r\ntoken=");
	memset(request + n, 'a', 8000 - 6);
	request[n + 8000 - 6] = '\0';
	response = http(request);
	assert_int_equal(status_of(response), 413);
	free(response);
	free(request);
}

static void
api_rejects_bad_requests(void **state)
{
	const char *auth = "Authorization: Bearer " TOKEN "\r\n";
	char *response;

	(void)state;
	response = get("/api/top?n=0", auth);
	assert_int_equal(status_of(response), 400);
	assert_non_null(strstr(response, "invalid value '0' of 'n'"));
	free(response);
	response = get("/api/top?n=1&n=2", auth);
	assert_int_equal(status_of(response), 400);
	free(response);
	response = get("/api/nothing", auth);
	assert_int_equal(status_of(response), 404);
	free(response);
	/* A mistyped parameter is named, not ignored for its default. */
	response = get("/api/flows?q=dst%20port%20445", auth);
	assert_int_equal(status_of(response), 400);
	assert_non_null(strstr(response, "unknown parameter 'q'; /api/flows takes filter, limit "
				    "and minutes"));
	free(response);
	response = get("/api/filter?filter=dst%20port%20smtp", auth);
	assert_int_equal(status_of(response), 200);
	assert_non_null(strstr(response, "\"column\":10"));
	free(response);
	response = http("DELETE /api/top HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(response), 405);
	free(response);
}

/*
 * Idle connections of 127.0.0.1 beyond console.connections.per_ip.max are
 * rejected and logged while 127.0.0.2 is still served, and
 * console.idle.timeout.ms gives the slots back.
 */
static void
idle_clients_limited_per_address(void **state)
{
	int idle[PER_IP_MAX];
	char line[4096];
	bool logged = false;
	FILE *f;

	(void)state;
	assert_int_equal(fs_test_status_over_limit("127.0.0.1", (uint16_t)port, "/healthz", idle,
						   PER_IP_MAX, atoi(IDLE_TIMEOUT_MS)), 0);
	assert_int_equal(fs_test_status_from("127.0.0.2", (uint16_t)port, "/healthz"), 200);

	/* The wait is generous for a loaded machine; the timeout itself is 2 s. */
	for (int i = 0; i < PER_IP_MAX; i++) {
		assert_int_equal(fs_test_wait_closed(idle[i], 120000), 0);
		close(idle[i]);
	}
	assert_int_equal(fs_test_status_within("127.0.0.1", (uint16_t)port, "/healthz", 200, 10000),
			 200);

	f = fopen(log_path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		logged |= strstr(line, "rejected a connection") != NULL &&
			  strstr(line, "4 per client address") != NULL;
	fclose(f);
	assert_true(logged);
}

static void
log_never_contains_token(void **state)
{
	FILE *f = fopen(log_path, "r");
	char line[4096];
	int lines = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		assert_null(strstr(line, TOKEN));
	}
	fclose(f);
	/* The debug log has a line per API request, so the check read something. */
	assert_true(lines > 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serves_embedded_page),
		cmocka_unit_test(api_needs_token),
		cmocka_unit_test(login_sets_http_only_cookie),
		cmocka_unit_test(login_rejects_large_body),
		cmocka_unit_test(api_rejects_bad_requests),
		cmocka_unit_test(idle_clients_limited_per_address),
		cmocka_unit_test(log_never_contains_token),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
