/*
 * test_flow_text.c - table and CSV cells of the firewall, NAT and enterprise
 * columns, and the schema field names that pick columns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/flow.h"
#include "core/flow_text.h"
#include "core/result.h"

#define EVENT_COLUMNS \
	"firewall_event,firewall_event_extended,nat_event,connection_id,post_nat_src_addr," \
	"post_nat_src_port,post_nat_dst_addr,post_nat_dst_port,event,enterprise_elements"

static void
fill_event_flow(struct fs_flow *f)
{
	static const uint8_t acl[4] = { 0x00, 0x0a, 0xff, 0x10 };

	fs_flow_clear(f);
	f->present = FS_F_FIREWALL_EVENT | FS_F_FIREWALL_EVENT_EXTENDED | FS_F_CONNECTION_ID |
		     FS_F_POST_NAT_SRC_ADDR | FS_F_POST_NAT_SRC_PORT | FS_F_POST_NAT_DST_ADDR |
		     FS_F_POST_NAT_DST_PORT | FS_F_EVENT_TIME;
	f->firewall_event = 3;
	f->firewall_event_extended = 1001;
	f->connection_id = 8500;
	assert_int_equal(fs_addr_parse(&f->post_nat_src_addr, "203.0.113.9"), 0);
	f->post_nat_src_port = 40000;
	assert_int_equal(fs_addr_parse(&f->post_nat_dst_addr, "2001:db8::1"), 0);
	f->post_nat_dst_port = 443;
	f->event_time_ns = 1444384069599000000LL;
	assert_true(fs_flow_add_enterprise(f, 0, 33000, acl, sizeof(acl), 8));
	assert_true(fs_flow_add_enterprise(f, 9, 12, NULL, 0, 8));
}

static void
csv_event_columns(void **state)
{
	struct fs_flow_columns cols;
	struct fs_flow f;
	char err[256];
	char line[FS_FLOW_TEXT_MAX_LINE];

	(void)state;
	assert_int_equal(fs_flow_columns_parse(&cols, EVENT_COLUMNS, err, sizeof(err)), 0);
	fill_event_flow(&f);
	assert_true(fs_flow_text_header(&cols, FS_FLOW_TEXT_CSV, line, sizeof(line)) > 0);
	assert_string_equal(line, EVENT_COLUMNS);
	assert_true(fs_flow_text_row(&cols, FS_FLOW_TEXT_CSV, &f, line, sizeof(line)) > 0);
	/* nat_event is absent, so its CSV value is empty. */
	assert_string_equal(line, "3,1001,,8500,203.0.113.9,40000,2001:db8::1,443,"
				  "2015-10-09T09:47:49.599Z,0/33000=000aff10 9/12=");
}

static void
table_absent_event_columns(void **state)
{
	struct fs_flow_columns cols;
	struct fs_flow f;
	char err[256];
	char line[FS_FLOW_TEXT_MAX_LINE];

	(void)state;
	assert_int_equal(fs_flow_columns_parse(&cols, "nat_event,enterprise_elements", err,
					       sizeof(err)), 0);
	fs_flow_clear(&f);
	assert_true(fs_flow_text_row(&cols, FS_FLOW_TEXT_TABLE, &f, line, sizeof(line)) > 0);
	assert_string_equal(line, "        - -");
}

static void
all_columns_longest_row_fits(void **state)
{
	struct fs_flow_columns cols;
	struct fs_flow f;
	uint8_t value[FS_FLOW_ENTERPRISE_BYTES / FS_FLOW_MAX_ENTERPRISE_ELEMENTS];
	char err[256];
	static char line[FS_FLOW_TEXT_MAX_LINE];

	(void)state;
	memset(value, 0xab, sizeof(value));
	fs_flow_clear(&f);
	f.present = FS_F_ENTERPRISE_ELEMENTS;
	for (int i = 0; i < FS_FLOW_MAX_ENTERPRISE_ELEMENTS; i++)
		assert_true(fs_flow_add_enterprise(&f, UINT32_MAX, UINT16_MAX, value,
						   sizeof(value), FS_FLOW_MAX_ENTERPRISE_ELEMENTS));
	/* A full list of columns, each with the maximum cell length. */
	cols.count = 0;
	assert_int_equal(fs_flow_columns_parse(&cols, "enterprise_elements", err, sizeof(err)), 0);
	for (size_t i = 1; i < FS_FLOW_TEXT_MAX_COLUMNS; i++)
		cols.ids[i] = cols.ids[0];
	cols.count = FS_FLOW_TEXT_MAX_COLUMNS;
	assert_true(fs_flow_text_row(&cols, FS_FLOW_TEXT_TABLE, &f, line, sizeof(line)) > 0);
	/* Each cell: words of "4294967295/65535=" and 2 hex digits per value byte, spaces between. */
	assert_int_equal(strlen(line),
			 FS_FLOW_TEXT_MAX_COLUMNS * (FS_FLOW_MAX_ENTERPRISE_ELEMENTS * 17 +
						     2 * FS_FLOW_ENTERPRISE_BYTES +
						     FS_FLOW_MAX_ENTERPRISE_ELEMENTS - 1) +
			 FS_FLOW_TEXT_MAX_COLUMNS - 1);
	assert_int_equal(FS_FLOW_MAX_ENTERPRISE_ELEMENTS * 17 + 2 * FS_FLOW_ENTERPRISE_BYTES +
			 FS_FLOW_MAX_ENTERPRISE_ELEMENTS, FS_FLOW_TEXT_CELL_MAX);
}

/* Each schema field name of schemas/flow.avsc picks the column that shows it. */
static void
schema_field_aliases(void **state)
{
	struct fs_flow_columns by_alias, by_column;
	char err[4096];

	(void)state;
	assert_int_equal(fs_flow_columns_parse(&by_alias,
					       "time_flow_start_ns,time_flow_end_ns,Time_Received_Ns,"
					       "event_time_ns,type",
					       err, sizeof(err)), 0);
	assert_int_equal(fs_flow_columns_parse(&by_column, "start,end,received,event,flow_type",
					       err, sizeof(err)), 0);
	assert_int_equal(by_alias.count, 5);
	assert_memory_equal(by_alias.ids, by_column.ids, 5);

	assert_int_equal(fs_flow_columns_parse(&by_alias, "time_flow_start", err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(err, "unknown column 'time_flow_start'"));
	assert_non_null(strstr(err, "the columns are all,start,"));
	assert_non_null(strstr(err, "the aliases time_flow_start_ns=start,time_flow_end_ns=end,"
				    "time_received_ns=received,event_time_ns=event,type=flow_type"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csv_event_columns),
		cmocka_unit_test(table_absent_event_columns),
		cmocka_unit_test(all_columns_longest_row_fits),
		cmocka_unit_test(schema_field_aliases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
