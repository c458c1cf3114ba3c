/*
 * test_console_form.c - request fields of the web console: the urlencoded
 * parser (pkg/console/form.h) and the typed getters (pkg/console/params.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "console/form.h"
#include "console/params.h"
#include "core/result.h"

static struct fs_console_form *
parse(const char *text, int expected)
{
	struct fs_console_form *form = malloc(sizeof(*form));
	char err[256] = "";

	assert_non_null(form);
	fs_console_form_init(form);
	assert_int_equal(fs_console_form_parse(form, text, strlen(text), err, sizeof(err)), expected);
	if (expected < 0)
		assert_true(err[0] != '\0');
	return form;
}

static void
form_decodes_pairs(void **state)
{
	struct fs_console_form *form = parse("dim=src_addr&filter=dst+port%2025&&flag&e=", 0);

	(void)state;
	assert_int_equal(form->count, 4);
	assert_string_equal(fs_console_form_get(form, "dim"), "src_addr");
	assert_string_equal(fs_console_form_get(form, "filter"), "dst port 25");
	assert_string_equal(fs_console_form_get(form, "flag"), "");
	assert_string_equal(fs_console_form_get(form, "e"), "");
	assert_null(fs_console_form_get(form, "missing"));
	free(form);
}

static void
form_rejects_bad_escapes(void **state)
{
	(void)state;
	free(parse("a=%zz", FS_ERR_INVALID));
	free(parse("a=%4", FS_ERR_INVALID));
	free(parse("a=%00", FS_ERR_INVALID));
	free(parse("=value", FS_ERR_INVALID));
	free(parse("a%00b=1", FS_ERR_INVALID));
}

static void
form_rejects_duplicates(void **state)
{
	struct fs_console_form *form = parse("n=1&n=2", FS_ERR_INVALID);

	(void)state;
	/* The first field stays; the duplicate is not added. */
	assert_int_equal(form->count, 1);
	assert_string_equal(fs_console_form_get(form, "n"), "1");
	free(form);
}

static void
form_enforces_limits(void **state)
{
	char text[FS_CONSOLE_FORM_MAX_BYTES + 64];
	char name[FS_CONSOLE_FORM_NAME_MAX + 8];
	size_t pos = 0;

	(void)state;
	/* One field more than allowed. */
	for (unsigned i = 0; i <= FS_CONSOLE_FORM_MAX_FIELDS; i++)
		pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "f%u=1&", i);
	free(parse(text, FS_ERR_FULL));

	/* Input longer than the buffer. */
	memset(text, 'a', sizeof(text) - 1);
	text[0] = 'x';
	text[1] = '=';
	text[sizeof(text) - 1] = '\0';
	free(parse(text, FS_ERR_FULL));

	/* Decoded bytes that do not fit with their NULs. */
	memset(text, 'a', FS_CONSOLE_FORM_MAX_BYTES);
	text[0] = 'x';
	text[1] = '=';
	text[FS_CONSOLE_FORM_MAX_BYTES] = '\0';
	free(parse(text, FS_ERR_FULL));

	memset(name, 'n', sizeof(name) - 1);
	name[FS_CONSOLE_FORM_NAME_MAX + 1] = '\0';
	free(parse(name, FS_ERR_INVALID));
}

static void
form_add_copies_fields(void **state)
{
	struct fs_console_form form;
	char err[256];

	(void)state;
	fs_console_form_init(&form);
	assert_int_equal(fs_console_form_add(&form, "addr", "10.0.0.1", 8, err, sizeof(err)), 0);
	assert_int_equal(fs_console_form_add(&form, "addr", "x", 1, err, sizeof(err)), FS_ERR_INVALID);
	assert_int_equal(fs_console_form_add(&form, "v", "a\0b", 3, err, sizeof(err)), FS_ERR_INVALID);
	assert_int_equal(form.count, 1);
	assert_string_equal(fs_console_form_get(&form, "addr"), "10.0.0.1");
}

static void
params_read_integers(void **state)
{
	struct fs_console_form *form = parse("n=25&big=1001&neg=-1&junk=12x&space=+5", 0);
	char err[256];
	int64_t n;

	(void)state;
	assert_int_equal(fs_console_param_int(form, "n", 10, 1, 1000, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 25);
	assert_int_equal(fs_console_param_int(form, "absent", 10, 1, 1000, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 10);
	assert_int_equal(fs_console_param_int(form, "big", 10, 1, 1000, &n, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(err, "'big'"));
	assert_non_null(strstr(err, "from 1 to 1000"));
	assert_int_equal(fs_console_param_int(form, "neg", 10, 1, 1000, &n, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_int_equal(fs_console_param_int(form, "junk", 10, 1, 1000, &n, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_int_equal(fs_console_param_int(form, "space", 10, 1, 1000, &n, err, sizeof(err)),
			 FS_ERR_INVALID);
	free(form);
}

static void
params_read_names(void **state)
{
	struct fs_console_form *form = parse("dim=dst_port&metric=flows&window=24h&bad=x", 0);
	enum fs_topn_dim dim;
	enum fs_topn_metric metric;
	enum fs_topn_window window;
	char err[256];

	(void)state;
	assert_int_equal(fs_console_param_dim(form, "dim", FS_TOPN_SRC_ADDR, &dim, err, sizeof(err)), 0);
	assert_int_equal(dim, FS_TOPN_DST_PORT);
	assert_int_equal(fs_console_param_metric(form, "metric", FS_TOPN_BYTES, &metric, err,
						 sizeof(err)), 0);
	assert_int_equal(metric, FS_TOPN_FLOWS);
	assert_int_equal(fs_console_param_window(form, "window", FS_TOPN_5M, &window, err,
						 sizeof(err)), 0);
	assert_int_equal(window, FS_TOPN_24H);
	assert_int_equal(fs_console_param_dim(form, "bad", FS_TOPN_SRC_ADDR, &dim, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_int_equal(fs_console_param_window(form, "bad", FS_TOPN_5M, &window, err, sizeof(err)),
			 FS_ERR_INVALID);
	free(form);
}

static void
params_read_addresses(void **state)
{
	struct fs_console_form *form = parse("v4=192.0.2.1&v6=2001%3Adb8%3A%3A1&bad=300.1.1.1", 0);
	struct fs_addr addr;
	char err[256];

	(void)state;
	assert_int_equal(fs_console_param_addr(form, "v4", &addr, err, sizeof(err)), 0);
	assert_int_equal(addr.family, 4);
	assert_int_equal(fs_console_param_addr(form, "v6", &addr, err, sizeof(err)), 0);
	assert_int_equal(addr.family, 6);
	assert_int_equal(fs_console_param_addr(form, "bad", &addr, err, sizeof(err)), FS_ERR_INVALID);
	assert_int_equal(fs_console_param_addr(form, "absent", &addr, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(err, "missing field 'absent'"));
	free(form);
}

static void
params_check_text(void **state)
{
	struct fs_console_form *form = parse("ok=caf%C3%A9&bad=%C3%28&over=%F4%90%80%80&long=abcdef", 0);
	const char *text;
	char err[256];

	(void)state;
	assert_int_equal(fs_console_param_text(form, "ok", 64, &text, err, sizeof(err)), 0);
	assert_string_equal(text, "caf\xc3\xa9");
	assert_int_equal(fs_console_param_text(form, "absent", 64, &text, err, sizeof(err)), 0);
	assert_string_equal(text, "");
	assert_int_equal(fs_console_param_text(form, "bad", 64, &text, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_int_equal(fs_console_param_text(form, "over", 64, &text, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_int_equal(fs_console_param_text(form, "long", 5, &text, err, sizeof(err)),
			 FS_ERR_INVALID);
	free(form);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(form_decodes_pairs),
		cmocka_unit_test(form_rejects_bad_escapes),
		cmocka_unit_test(form_rejects_duplicates),
		cmocka_unit_test(form_enforces_limits),
		cmocka_unit_test(form_add_copies_fields),
		cmocka_unit_test(params_read_integers),
		cmocka_unit_test(params_read_names),
		cmocka_unit_test(params_read_addresses),
		cmocka_unit_test(params_check_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
