/*
 * test_avro_writer.c - the direct Avro binary writer and reader on a record
 * layout with an array of records, checked against avro-c's generic writer.
 *
 * The flow schema has no array yet, so this test describes a small record
 * of its own ("Probe"): an optional string, an optional int and an array
 * of "Element" records.  The array has the shape that a list of unknown
 * enterprise elements would take.  tests/test_avro.c compares both writers on flows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <avro.h>
#include <stdlib.h>
#include <string.h>

#include "avro/binary_reader.h"
#include "avro/binary_writer.h"
#include "core/result.h"

#define MAX_ELEMENTS 8

struct element {
	uint32_t enterprise;
	uint16_t element_id;
	uint8_t value[4];
};

struct probe {
	uint64_t present;
	int64_t id;
	char label[16];
	uint32_t element_count;
	struct element elements[MAX_ELEMENTS];
	uint8_t tail;
};

#define PROBE_LABEL (1u << 0)
#define PROBE_TAIL (1u << 1)

static const char probe_schema_json[] =
	"{\"type\": \"record\", \"name\": \"Probe\", \"fields\": [\n"
	"  {\"name\": \"id\", \"type\": \"long\"},\n"
	"  {\"name\": \"label\", \"type\": [\"null\", \"string\"]},\n"
	"  {\"name\": \"elements\", \"type\": {\"type\": \"array\", \"items\":\n"
	"    {\"type\": \"record\", \"name\": \"Element\", \"fields\": [\n"
	"      {\"name\": \"enterprise\", \"type\": \"long\"},\n"
	"      {\"name\": \"element_id\", \"type\": \"int\"},\n"
	"      {\"name\": \"value\", \"type\": \"bytes\"}]}}},\n"
	"  {\"name\": \"tail\", \"type\": [\"null\", \"int\"]}\n"
	"]}";

static const struct fs_avro_field element_fields[] = {
	{ .op = FS_AVRO_OP_LONG_U32, .offset = offsetof(struct element, enterprise) },
	{ .op = FS_AVRO_OP_INT_U16, .offset = offsetof(struct element, element_id) },
	{ .op = FS_AVRO_OP_BYTES, .offset = offsetof(struct element, value), .size = 4 },
};

static const struct fs_avro_record element_layout = {
	.fields = element_fields,
	.field_count = sizeof(element_fields) / sizeof(element_fields[0]),
	.presence_offset = FS_AVRO_NO_PRESENCE,
};

static const struct fs_avro_field probe_fields[] = {
	{ .op = FS_AVRO_OP_LONG_I64, .offset = offsetof(struct probe, id) },
	{ .op = FS_AVRO_OP_STRING, .presence_bit = PROBE_LABEL,
	  .offset = offsetof(struct probe, label), .size = sizeof(((struct probe *)0)->label) },
	{ .op = FS_AVRO_OP_ARRAY, .offset = offsetof(struct probe, elements),
	  .size = sizeof(struct element), .count_offset = offsetof(struct probe, element_count),
	  .max_items = MAX_ELEMENTS, .items = &element_layout },
	{ .op = FS_AVRO_OP_INT_U8, .presence_bit = PROBE_TAIL, .offset = offsetof(struct probe, tail) },
};

static const struct fs_avro_record probe_layout = {
	.fields = probe_fields,
	.field_count = sizeof(probe_fields) / sizeof(probe_fields[0]),
	.presence_offset = offsetof(struct probe, present),
};

/* avro-c's schema and generic value for Probe. */
struct generic {
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t value;
	avro_writer_t writer;
};

static int
generic_setup(void **state)
{
	static const char empty[1];
	struct generic *g = calloc(1, sizeof(*g));

	if (g == NULL || avro_schema_from_json_length(probe_schema_json, strlen(probe_schema_json),
						      &g->schema) != 0) {
		print_error("probe schema: %s\n", avro_strerror());
		free(g);
		return -1;
	}
	g->iface = avro_generic_class_from_schema(g->schema);
	if (g->iface == NULL || avro_generic_value_new(g->iface, &g->value) != 0)
		return -1;
	g->writer = avro_writer_memory(empty, 0);
	*state = g;
	return 0;
}

static int
generic_teardown(void **state)
{
	struct generic *g = *state;

	avro_writer_free(g->writer);
	avro_value_decref(&g->value);
	avro_value_iface_decref(g->iface);
	avro_schema_decref(g->schema);
	free(g);
	return 0;
}

/* Writes probe through avro-c's generic value interface; returns the length. */
static size_t
write_with_avro_c(struct generic *g, const struct probe *probe, uint8_t *buf, size_t cap)
{
	avro_value_t field, branch, item, member;

	avro_value_reset(&g->value);
	assert_int_equal(avro_value_get_by_name(&g->value, "id", &field, NULL), 0);
	assert_int_equal(avro_value_set_long(&field, probe->id), 0);

	assert_int_equal(avro_value_get_by_name(&g->value, "label", &field, NULL), 0);
	if (probe->present & PROBE_LABEL) {
		assert_int_equal(avro_value_set_branch(&field, 1, &branch), 0);
		assert_int_equal(avro_value_set_string_len(&branch, probe->label,
							   strnlen(probe->label, sizeof(probe->label)) + 1), 0);
	} else {
		assert_int_equal(avro_value_set_branch(&field, 0, &branch), 0);
		assert_int_equal(avro_value_set_null(&branch), 0);
	}

	assert_int_equal(avro_value_get_by_name(&g->value, "elements", &field, NULL), 0);
	for (uint32_t i = 0; i < probe->element_count; i++) {
		const struct element *e = &probe->elements[i];

		assert_int_equal(avro_value_append(&field, &item, NULL), 0);
		assert_int_equal(avro_value_get_by_name(&item, "enterprise", &member, NULL), 0);
		assert_int_equal(avro_value_set_long(&member, e->enterprise), 0);
		assert_int_equal(avro_value_get_by_name(&item, "element_id", &member, NULL), 0);
		assert_int_equal(avro_value_set_int(&member, e->element_id), 0);
		assert_int_equal(avro_value_get_by_name(&item, "value", &member, NULL), 0);
		assert_int_equal(avro_value_set_bytes(&member, (void *)e->value, 4), 0);
	}

	assert_int_equal(avro_value_get_by_name(&g->value, "tail", &field, NULL), 0);
	if (probe->present & PROBE_TAIL) {
		assert_int_equal(avro_value_set_branch(&field, 1, &branch), 0);
		assert_int_equal(avro_value_set_int(&branch, probe->tail), 0);
	} else {
		assert_int_equal(avro_value_set_branch(&field, 0, &branch), 0);
		assert_int_equal(avro_value_set_null(&branch), 0);
	}

	avro_writer_memory_set_dest(g->writer, (const char *)buf, (int64_t)cap);
	assert_int_equal(avro_value_write(g->writer, &g->value), 0);
	return (size_t)avro_writer_tell(g->writer);
}

static uint64_t
next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 2685821657736338717ull;
}

static void
make_random_probe(uint64_t *rng, struct probe *p)
{
	size_t label_len;

	memset(p, 0, sizeof(*p));
	p->present = next_random(rng) & (PROBE_LABEL | PROBE_TAIL);
	p->id = (int64_t)(next_random(rng) >> (next_random(rng) % 64));
	if (next_random(rng) % 2)
		p->id = -p->id;
	label_len = (size_t)(next_random(rng) % sizeof(p->label));
	for (size_t i = 0; i < label_len; i++)
		p->label[i] = (char)('a' + next_random(rng) % 26);
	p->element_count = (uint32_t)(next_random(rng) % (MAX_ELEMENTS + 1));
	for (uint32_t i = 0; i < p->element_count; i++) {
		p->elements[i].enterprise = (uint32_t)(next_random(rng) >> (next_random(rng) % 64));
		p->elements[i].element_id = (uint16_t)next_random(rng);
		for (int k = 0; k < 4; k++)
			p->elements[i].value[k] = (uint8_t)next_random(rng);
	}
	p->tail = (uint8_t)next_random(rng);
}

/* Clears the members of null fields, which the reader leaves as zero. */
static void
clear_null_members(struct probe *p)
{
	if (!(p->present & PROBE_LABEL))
		memset(p->label, 0, sizeof(p->label));
	if (!(p->present & PROBE_TAIL))
		p->tail = 0;
}

static void
test_array_layout_matches_avro_c(void **state)
{
	struct generic *g = *state;
	uint64_t rng = 7;

	for (int round = 0; round < 5000; round++) {
		uint8_t direct[1024], generic[1024];
		size_t direct_len = 0, generic_len;
		struct probe in, out;

		make_random_probe(&rng, &in);
		generic_len = write_with_avro_c(g, &in, generic, sizeof(generic));
		assert_int_equal(fs_avro_write_record(&probe_layout, &in, direct, sizeof(direct),
						      &direct_len), 0);
		assert_int_equal(direct_len, generic_len);
		assert_memory_equal(direct, generic, direct_len);

		memset(&out, 0, sizeof(out));
		assert_int_equal(fs_avro_read_record(&probe_layout, direct, direct_len, &out), 0);
		clear_null_members(&in);
		assert_memory_equal(&in, &out, sizeof(in));
	}
}

/* An empty array is the single end-of-array byte 0. */
static void
test_array_empty_encoding(void **state)
{
	static const uint8_t expected[] = { 0x54, 0x00, 0x00, 0x00 };   /* id 42, null, [], null */
	struct probe in = { .id = 42 };
	uint8_t buf[64];
	size_t len = 0;

	(void)state;
	assert_int_equal(fs_avro_write_record(&probe_layout, &in, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(expected));
	assert_memory_equal(buf, expected, len);
}

/* Blocks with a negative count and a byte size, and several blocks, read as one array. */
static void
test_array_reads_any_block_layout(void **state)
{
	static const uint8_t two_blocks[] = {
		0x02, 0x00,
		0x01, 0x0e,                             /* -1 items, 7 bytes */
		0x02, 0x04, 0x08, 1, 2, 3, 4,           /* enterprise 1, id 2, value 01020304 */
		0x02,                                   /* 1 item */
		0x06, 0x08, 0x08, 5, 6, 7, 8,           /* enterprise 3, id 4, value 05060708 */
		0x00,                                   /* end of array */
		0x02, 0x0a,                             /* tail 5 */
	};
	struct probe out;

	(void)state;
	memset(&out, 0, sizeof(out));
	assert_int_equal(fs_avro_read_record(&probe_layout, two_blocks, sizeof(two_blocks), &out), 0);
	assert_int_equal(out.id, 1);
	assert_int_equal(out.element_count, 2);
	assert_int_equal(out.elements[0].enterprise, 1);
	assert_int_equal(out.elements[0].element_id, 2);
	assert_int_equal(out.elements[1].enterprise, 3);
	assert_int_equal(out.elements[1].element_id, 4);
	assert_int_equal(out.elements[1].value[3], 8);
	assert_int_equal(out.present, PROBE_TAIL);
	assert_int_equal(out.tail, 5);
}

static void
test_array_rejects_too_many_items(void **state)
{
	uint8_t body[16];
	struct probe in = { .id = 1 }, out;
	size_t len = 0;

	(void)state;
	in.element_count = MAX_ELEMENTS + 1;
	assert_int_equal(fs_avro_write_record(&probe_layout, &in, body, sizeof(body), &len),
			 FS_ERR_INVALID);

	/*
	 * A block count above max_items makes the record invalid, but input cut
	 * short inside the items reports truncation first, as avro-c's path does.
	 */
	body[0] = 0x02;
	body[1] = 0x00;
	body[2] = (MAX_ELEMENTS + 1) * 2;
	memset(&out, 0, sizeof(out));
	assert_int_equal(fs_avro_read_record(&probe_layout, body, 3, &out), FS_ERR_TRUNCATED);
	/* The same count with every item present is invalid. */
	{
		uint8_t whole[16 + 7 * (MAX_ELEMENTS + 1)];
		size_t n = 3;

		memcpy(whole, body, 3);
		for (int i = 0; i < MAX_ELEMENTS + 1; i++) {
			memcpy(whole + n, "\x02\x02\x08" "abcd", 7);
			n += 7;
		}
		whole[n++] = 0x00;   /* end of the array */
		whole[n++] = 0x00;   /* tail: null */
		assert_int_equal(fs_avro_read_record(&probe_layout, whole, n, &out), FS_ERR_INVALID);
		assert_int_equal(fs_avro_read_record(&probe_layout, whole, n - 1, &out),
				 FS_ERR_TRUNCATED);
	}
	/* The largest long as a count. */
	memcpy(body + 2, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
	assert_int_equal(fs_avro_read_record(&probe_layout, body, 12, &out), FS_ERR_INVALID);
}

/* Every prefix is truncated, a trailing byte is invalid, and a short buffer is full. */
static void
test_reader_bounds(void **state)
{
	uint64_t rng = 99;
	struct probe in, out;
	uint8_t buf[1024];
	size_t len = 0;

	(void)state;
	for (int round = 0; round < 50; round++) {
		make_random_probe(&rng, &in);
		assert_int_equal(fs_avro_write_record(&probe_layout, &in, buf, sizeof(buf), &len), 0);
		for (size_t cut = 0; cut < len; cut++) {
			size_t ignored;

			memset(&out, 0, sizeof(out));
			assert_int_equal(fs_avro_read_record(&probe_layout, buf, cut, &out),
					 FS_ERR_TRUNCATED);
			assert_int_equal(fs_avro_write_record(&probe_layout, &in, buf + len + 1, cut,
							      &ignored), FS_ERR_FULL);
		}
		buf[len] = 0;
		assert_int_equal(fs_avro_read_record(&probe_layout, buf, len + 1, &out),
				 FS_ERR_INVALID);
	}
}

/* A value out of range for its member counts only once the record is complete. */
static void
test_reader_truncation_wins(void **state)
{
	static const uint8_t body[] = {
		0x02, 0x00, 0x00,
		0x02, 0x80, 0x04,                       /* tail: 256, too large for uint8_t */
	};
	struct probe out;

	(void)state;
	memset(&out, 0, sizeof(out));
	assert_int_equal(fs_avro_read_record(&probe_layout, body, sizeof(body), &out),
			 FS_ERR_INVALID);
	memset(&out, 0, sizeof(out));
	assert_int_equal(fs_avro_read_record(&probe_layout, body, sizeof(body) - 1, &out),
			 FS_ERR_TRUNCATED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_array_layout_matches_avro_c),
		cmocka_unit_test(test_array_empty_encoding),
		cmocka_unit_test(test_array_reads_any_block_layout),
		cmocka_unit_test(test_array_rejects_too_many_items),
		cmocka_unit_test(test_reader_bounds),
		cmocka_unit_test(test_reader_truncation_wins),
	};

	return cmocka_run_group_tests_name("avro_writer", tests, generic_setup, generic_teardown);
}
