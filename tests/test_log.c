/* test_log.c - logfmt and JSON log lines, escaping, formats and rate limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/log.h"

/* Formats one line into a string (caller frees). */
static char *
line_of(enum fs_log_format format, enum fs_log_level level, const char *facility,
	const char *message)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	fs_log_write_line(out, format, level, facility, message);
	assert_int_equal(fclose(out), 0);
	return text;
}

static json_t *
parse_json_line(const char *line)
{
	json_error_t error;
	json_t *root;
	size_t len = strlen(line);

	assert_true(len > 0);
	assert_int_equal(line[len - 1], '\n');
	assert_ptr_equal(strchr(line, '\n'), line + len - 1);
	root = json_loadb(line, len - 1, 0, &error);
	if (!root)
		fail_msg("not JSON (%s): %s", error.text, line);
	return root;
}

static void
json_line_fields(void **state)
{
	char *line = line_of(FS_LOG_FORMAT_JSON, FS_LOG_WARNING, "ingest",
			     "exporter \"r1\" sent a\nbad\\set");
	json_t *root = parse_json_line(line);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(root, "level")), "warning");
	assert_string_equal(json_string_value(json_object_get(root, "facility")), "ingest");
	assert_string_equal(json_string_value(json_object_get(root, "msg")),
			    "exporter \"r1\" sent a\nbad\\set");
	assert_int_equal(strlen(json_string_value(json_object_get(root, "ts"))),
			 strlen("2024-05-01T12:00:00.000Z"));
	json_decref(root);
	free(line);
}

static void
json_line_hostile_bytes(void **state)
{
	static const char message[] = { 'a', 0x01, 0x7f, (char)0xff, (char)0xc3, (char)0xa9, '\t', 0 };
	char *line = line_of(FS_LOG_FORMAT_JSON, FS_LOG_ERR, "decode", message);
	json_t *root = parse_json_line(line);

	(void)state;
	/* Control bytes survive as escapes, an invalid byte becomes U+FFFD, valid UTF-8 stays. */
	assert_string_equal(json_string_value(json_object_get(root, "msg")),
			    "a\x01\x7f\xef\xbf\xbd\xc3\xa9\t");
	json_decref(root);
	free(line);
}

static void
json_line_long_message_cut(void **state)
{
	size_t n = 5000;
	char *message = malloc(n + 1);
	char *line;
	json_t *root;

	(void)state;
	assert_non_null(message);
	/* Quotes double in size when escaped, so the cut may fall inside an escape. */
	for (size_t i = 0; i < n; i++)
		message[i] = i % 2 ? '"' : 'x';
	message[n] = '\0';
	line = line_of(FS_LOG_FORMAT_JSON, FS_LOG_INFO, "test", message);
	root = parse_json_line(line);
	assert_true(strlen(json_string_value(json_object_get(root, "msg"))) < n);
	json_decref(root);
	free(line);
	free(message);
}

static void
logfmt_line_escapes(void **state)
{
	char *line = line_of(FS_LOG_FORMAT_LOGFMT, FS_LOG_INFO, "report",
			     "said \"hi\"\nthen\x02");

	(void)state;
	assert_int_equal(strncmp(line, "ts=", 3), 0);
	assert_non_null(strstr(line, " level=info facility=report "
				     "msg=\"said \\\"hi\\\"\\nthen\\x02\"\n"));
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	free(line);
}

static void
format_names(void **state)
{
	enum fs_log_format format;

	(void)state;
	assert_int_equal(fs_log_format_parse("json", &format), 0);
	assert_int_equal(format, FS_LOG_FORMAT_JSON);
	assert_int_equal(fs_log_format_parse("logfmt", &format), 0);
	assert_int_equal(format, FS_LOG_FORMAT_LOGFMT);
	assert_int_equal(fs_log_format_parse("JSON", &format), -1);
	assert_int_equal(fs_log_format_parse("", &format), -1);
}

struct captured {
	int lines;
	char last[1100];
};

static void
capture_sink(enum fs_log_level level, const char *facility, const char *message,
	     void *opaque)
{
	struct captured *c = opaque;

	(void)level;
	(void)facility;
	c->lines++;
	snprintf(c->last, sizeof(c->last), "%s", message);
}

static void
rate_limit_counts_suppressed(void **state)
{
	struct fs_ratelimit rl = FS_RATELIMIT_INIT(3600, 2);
	struct captured c = { 0 };

	(void)state;
	fs_log_set_sink(capture_sink, &c);
	for (int i = 0; i < 10; i++)
		fs_log_limited(&rl, FS_LOG_WARNING, "test", "repeat %d", i);
	assert_int_equal(c.lines, 2);
	assert_int_equal(rl.suppressed, 8);
	/* A new interval prints again and reports how many lines were held back. */
	rl.window_start -= 3600;
	fs_log_limited(&rl, FS_LOG_WARNING, "test", "again");
	fs_log_set_sink(NULL, NULL);
	assert_int_equal(c.lines, 3);
	assert_string_equal(c.last, "again (8 lines suppressed by its rate limit before this one)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_line_fields),
		cmocka_unit_test(json_line_hostile_bytes),
		cmocka_unit_test(json_line_long_message_cut),
		cmocka_unit_test(logfmt_line_escapes),
		cmocka_unit_test(format_names),
		cmocka_unit_test(rate_limit_counts_suppressed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
