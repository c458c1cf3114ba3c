/* test_decoder_config.c - pkg/decode/decoder_config.h: decode.* keys into decoder limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "decode/decoder.h"
#include "decode/decoder_config.h"

/* Loads a configuration from text written to a temporary file. */
static struct fs_config *
load(const char *text)
{
	char path[] = "/tmp/flowsift-decoder-config-XXXXXX";
	struct fs_config *config = NULL;
	char err[256];
	int fd = mkstemp(path);
	FILE *fp;

	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), 0);
	unlink(path);
	return config;
}

static void
test_defaults_match_decoder(void **state)
{
	struct fs_config *config = load("");
	struct fs_decoder_limits l;

	(void)state;
	assert_int_equal(fs_decoder_limits_from_config(config, &l), 0);
	assert_int_equal(l.max_templates, FS_DECODER_DEFAULT_MAX_TEMPLATES);
	assert_int_equal(l.max_templates_per_exporter, FS_DECODER_DEFAULT_MAX_TEMPLATES_PER_EXPORTER);
	assert_int_equal(l.max_template_bytes, FS_DECODER_DEFAULT_MAX_TEMPLATE_BYTES);
	assert_int_equal(l.max_template_fields, FS_DECODER_DEFAULT_MAX_TEMPLATE_FIELDS);
	assert_int_equal(l.max_exporters, FS_DECODER_DEFAULT_MAX_EXPORTERS);
	assert_int_equal(l.max_options_entries, FS_DECODER_DEFAULT_MAX_OPTIONS_ENTRIES);
	assert_int_equal(l.max_pending_sets, FS_DECODER_DEFAULT_MAX_PENDING_SETS);
	assert_int_equal(l.max_pending_bytes, FS_DECODER_DEFAULT_MAX_PENDING_BYTES);
	assert_int_equal(l.max_pending_sets_per_exporter,
			 FS_DECODER_DEFAULT_MAX_PENDING_SETS_PER_EXPORTER);
	assert_int_equal(l.max_pending_bytes_per_exporter,
			 FS_DECODER_DEFAULT_MAX_PENDING_BYTES_PER_EXPORTER);
	assert_int_equal(l.max_sflow_samples, FS_DECODER_DEFAULT_MAX_SFLOW_SAMPLES);
	assert_int_equal(l.max_sflow_records, FS_DECODER_DEFAULT_MAX_SFLOW_RECORDS);
	assert_int_equal(l.max_header_bytes, FS_DECODER_DEFAULT_MAX_HEADER_BYTES);
	assert_int_equal(l.max_enterprise_elements, FS_FLOW_MAX_ENTERPRISE_ELEMENTS);
	assert_false(l.decap_srv6);
	fs_config_free(config);
}

static void
test_values_from_file(void **state)
{
	struct fs_config *config = load("decode.templates.per.exporter.max = 16\n"
					"decode.templates.bytes.max = 1048576\n"
					"decode.sflow.header.bytes.max = 128\n");
	struct fs_decoder_limits l;

	(void)state;
	assert_int_equal(fs_decoder_limits_from_config(config, &l), 0);
	assert_int_equal(l.max_templates_per_exporter, 16);
	assert_int_equal(l.max_template_bytes, 1048576);
	assert_int_equal(l.max_header_bytes, 128);
	assert_int_equal(l.max_templates, FS_DECODER_DEFAULT_MAX_TEMPLATES);
	fs_config_free(config);
}

static void
test_enterprise_and_decap_keys(void **state)
{
	struct fs_config *config = load("decode.enterprise.elements.max = 3\n"
					"decode.decap.srv6 = 1\n");
	struct fs_decoder_limits l;

	(void)state;
	assert_int_equal(fs_decoder_limits_from_config(config, &l), 0);
	assert_int_equal(l.max_enterprise_elements, 3);
	assert_true(l.decap_srv6);
	fs_config_free(config);

	/* 0 keeps none, which the limits struct spells with its own value. */
	config = load("decode.enterprise.elements.max = 0\n");
	assert_int_equal(fs_decoder_limits_from_config(config, &l), 0);
	assert_int_equal(l.max_enterprise_elements, FS_DECODER_NO_ENTERPRISE_ELEMENTS);
	fs_config_free(config);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_match_decoder),
		cmocka_unit_test(test_values_from_file),
		cmocka_unit_test(test_enterprise_and_decap_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
