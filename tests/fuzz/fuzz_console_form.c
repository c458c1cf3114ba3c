/*
 * fuzz_console_form.c - libFuzzer target for the web console's request
 * fields: the urlencoded parser (pkg/console/form.h), the typed getters
 * (pkg/console/params.h) and the filter check handler, which compiles the
 * filter field and turns the error position into a byte offset.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console/api.h"
#include "console/form.h"
#include "console/params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs every getter on every field name the API reads. */
static void
read_fields(const struct fs_console_form *form)
{
	static const char *const names[] = { "dim", "metric", "window", "n", "limit",
					     "minutes", "addr", "host", "filter", "token" };
	char err[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum fs_topn_dim dim;
		enum fs_topn_metric metric;
		enum fs_topn_window window;
		struct fs_addr addr;
		const char *text;
		int64_t n;

		(void)fs_console_param_int(form, names[i], 1, -5, 1000, &n, err, sizeof(err));
		(void)fs_console_param_dim(form, names[i], FS_TOPN_SRC_ADDR, &dim, err, sizeof(err));
		(void)fs_console_param_metric(form, names[i], FS_TOPN_BYTES, &metric, err, sizeof(err));
		(void)fs_console_param_window(form, names[i], FS_TOPN_5M, &window, err, sizeof(err));
		(void)fs_console_param_addr(form, names[i], &addr, err, sizeof(err));
		(void)fs_console_param_text(form, names[i], 64, &text, err, sizeof(err));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fs_console_form form;
	struct fs_console_env env = { .limits = { .rows_max = 10 } };
	json_t *out = NULL;
	char err[256];

	fs_console_form_init(&form);
	(void)fs_console_form_parse(&form, (const char *)data, size, err, sizeof(err));
	read_fields(&form);
	(void)fs_console_api_filter(&env, &form, &out);
	json_decref(out);
	return 0;
}
