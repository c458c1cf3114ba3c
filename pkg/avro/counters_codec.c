/* counters_codec.c - struct fs_counters to and from Avro single-object encoding. */
#include "avro/counters_codec.h"

#include <avro.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/fingerprint.h"
#include "avro/schemas.h"
#include "avro/single_object.h"
#include "avro/varint.h"
#include "core/error_text.h"
#include "core/log.h"
#include "core/result.h"

#define FACILITY "avro"
#define SCHEMA_FILE "counters.avsc"
#define OTHER_RECORDS_FIELD "other_records"
#define OTHER_OMITTED_FIELD "other_records_omitted"

_Static_assert(FS_COUNTERS_CODEC_HEADER_LEN == FS_AVRO_SINGLE_OBJECT_HEADER_LEN,
	       "the counters header is the single-object header");

/* Avro type of a struct fs_counters member. */
enum field_kind {
	KIND_ADDR,   /* struct fs_addr, bytes of 0, 4 or 16 */
	KIND_U8,     /* uint8_t, int */
	KIND_U16,    /* uint16_t, int */
	KIND_U32,    /* uint32_t, long */
	KIND_U64,    /* uint64_t, long holding the same 64 bits */
	KIND_I64,    /* int64_t, long */
};

struct field_desc {
	const char *name;
	enum field_kind kind;
	uint32_t group;  /* enum fs_counters_group bit, or 0 for a mandatory field */
	size_t offset;   /* of the member in struct fs_counters */
};

#define FIELD(name, member, kind, group) \
	{ name, kind, group, offsetof(struct fs_counters, member) }
#define GENERIC(name, kind) FIELD(#name, generic.name, kind, FS_C_GENERIC)
#define ETHERNET(name) FIELD(#name, ethernet.name, KIND_U32, FS_C_ETHERNET)

/*
 * The scalar fields of schemas/counters.avsc, in schema order; the array
 * other_records and the long other_records_omitted follow them.
 */
static const struct field_desc counters_fields[] = {
	FIELD("exporter_addr", exporter_addr, KIND_ADDR, 0),
	FIELD("exporter_port", exporter_port, KIND_U16, 0),
	FIELD("agent_addr", agent_addr, KIND_ADDR, 0),
	FIELD("sub_agent_id", sub_agent_id, KIND_U32, 0),
	FIELD("datagram_sequence", datagram_sequence, KIND_U32, 0),
	FIELD("sequence", sequence, KIND_U32, 0),
	FIELD("uptime_ms", uptime_ms, KIND_U32, 0),
	FIELD("source_id_type", source_id_type, KIND_U8, 0),
	FIELD("source_id_index", source_id_index, KIND_U32, 0),
	FIELD("time_received_ns", time_received_ns, KIND_I64, 0),
	GENERIC(if_index, KIND_U32),
	GENERIC(if_type, KIND_U32),
	GENERIC(if_speed, KIND_U64),
	GENERIC(if_direction, KIND_U32),
	GENERIC(if_status, KIND_U32),
	GENERIC(in_octets, KIND_U64),
	GENERIC(in_ucast_pkts, KIND_U32),
	GENERIC(in_mcast_pkts, KIND_U32),
	GENERIC(in_bcast_pkts, KIND_U32),
	GENERIC(in_discards, KIND_U32),
	GENERIC(in_errors, KIND_U32),
	GENERIC(in_unknown_protos, KIND_U32),
	GENERIC(out_octets, KIND_U64),
	GENERIC(out_ucast_pkts, KIND_U32),
	GENERIC(out_mcast_pkts, KIND_U32),
	GENERIC(out_bcast_pkts, KIND_U32),
	GENERIC(out_discards, KIND_U32),
	GENERIC(out_errors, KIND_U32),
	GENERIC(promiscuous, KIND_U32),
	ETHERNET(alignment_errors),
	ETHERNET(fcs_errors),
	ETHERNET(single_collision_frames),
	ETHERNET(multiple_collision_frames),
	ETHERNET(sqe_test_errors),
	ETHERNET(deferred_transmissions),
	ETHERNET(late_collisions),
	ETHERNET(excessive_collisions),
	ETHERNET(internal_mac_transmit_errors),
	ETHERNET(carrier_sense_errors),
	ETHERNET(frame_too_longs),
	ETHERNET(internal_mac_receive_errors),
	ETHERNET(symbol_errors),
};

#define FIELD_COUNT (sizeof(counters_fields) / sizeof(counters_fields[0]))
/* Index of other_records in the schema; other_records_omitted follows it. */
#define OTHER_RECORDS_INDEX FIELD_COUNT

struct fs_counters_codec {
	uint64_t fingerprint;
	avro_schema_t schema;
	avro_value_iface_t *value_class;
	avro_value_t value;
	avro_writer_t writer;
};

/* Bounds-checked read position in a message body. */
struct cursor {
	const uint8_t *p;
	const uint8_t *end;
};

static struct fs_ratelimit avro_failure_limit = FS_RATELIMIT_INIT(60, 5);

/* ---- schema check ---- */

static bool
scalar_type_matches(enum field_kind kind, avro_schema_t type)
{
	switch (kind) {
	case KIND_ADDR:
		return is_avro_bytes(type);
	case KIND_U8:
	case KIND_U16:
		return is_avro_int32(type);
	case KIND_U32:
	case KIND_U64:
	case KIND_I64:
		return is_avro_int64(type);
	}
	return false;
}

/* Checks that other_records is an array of {long enterprise, int format, long length}. */
static bool
other_records_type_matches(avro_schema_t type)
{
	avro_schema_t item;

	if (!is_avro_array(type))
		return false;
	item = avro_schema_array_items(type);
	return is_avro_record(item) && avro_schema_record_size(item) == 3 &&
	       is_avro_int64(avro_schema_record_field_get_by_index(item, 0)) &&
	       is_avro_int32(avro_schema_record_field_get_by_index(item, 1)) &&
	       is_avro_int64(avro_schema_record_field_get_by_index(item, 2));
}

/* Checks that schema has the fields of counters_fields, in order, then the other records. */
static int
check_schema(avro_schema_t schema, char *err, size_t err_len)
{
	if (!is_avro_record(schema) || strcmp(avro_schema_name(schema), "Counters") != 0)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "counters schema: top-level type is not the record Counters");
	if (avro_schema_record_size(schema) != FIELD_COUNT + 2)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "counters schema: has %zu fields, the codec maps %zu",
			       avro_schema_record_size(schema), FIELD_COUNT + 2);

	for (size_t i = 0; i < FIELD_COUNT; i++) {
		const struct field_desc *desc = &counters_fields[i];
		avro_schema_t type = avro_schema_record_field_get_by_index(schema, (int)i);

		if (strcmp(avro_schema_record_field_name(schema, (int)i), desc->name) != 0)
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "counters schema: field %zu is not '%s'", i, desc->name);
		if (desc->group != 0) {
			if (!is_avro_union(type) || avro_schema_union_size(type) != 2 ||
			    !is_avro_null(avro_schema_union_branch(type, 0)))
				return fs_fail(err, err_len, FS_ERR_INVALID,
					       "counters schema: optional field '%s' is not [\"null\", T]",
					       desc->name);
			type = avro_schema_union_branch(type, 1);
		}
		if (!scalar_type_matches(desc->kind, type))
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "counters schema: field '%s' has an unexpected type",
				       desc->name);
	}
	if (strcmp(avro_schema_record_field_name(schema, OTHER_RECORDS_INDEX),
		   OTHER_RECORDS_FIELD) != 0 ||
	    !other_records_type_matches(
		    avro_schema_record_field_get_by_index(schema, OTHER_RECORDS_INDEX)))
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "counters schema: field '%s' is missing or has an unexpected type",
			       OTHER_RECORDS_FIELD);
	if (strcmp(avro_schema_record_field_name(schema, OTHER_RECORDS_INDEX + 1),
		   OTHER_OMITTED_FIELD) != 0 ||
	    !is_avro_int64(avro_schema_record_field_get_by_index(schema, OTHER_RECORDS_INDEX + 1)))
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "counters schema: field '%s' is missing or not a long",
			       OTHER_OMITTED_FIELD);
	return 0;
}

/* ---- lifecycle ---- */

struct fs_counters_codec *
fs_counters_codec_new(char *err, size_t err_len)
{
	static const char empty[1];
	const struct fs_embedded_schema *embedded = fs_embedded_schema_find(SCHEMA_FILE);
	struct fs_counters_codec *codec;
	const char *text;

	if (embedded == NULL) {
		fs_fail(err, err_len, 0, "no embedded schema named %s", SCHEMA_FILE);
		return NULL;
	}
	text = embedded->text;
	codec = calloc(1, sizeof(*codec));
	if (codec == NULL) {
		fs_fail(err, err_len, 0, "out of memory");
		return NULL;
	}
	if (fs_avro_fingerprint(text, strlen(text), &codec->fingerprint, err, err_len) != 0)
		goto fail;
	if (avro_schema_from_json_length(text, strlen(text), &codec->schema) != 0) {
		fs_fail(err, err_len, 0, "counters schema rejected by avro-c: %s",
			avro_strerror());
		goto fail;
	}
	if (check_schema(codec->schema, err, err_len) != 0)
		goto fail;
	codec->value_class = avro_generic_class_from_schema(codec->schema);
	if (codec->value_class == NULL ||
	    avro_generic_value_new(codec->value_class, &codec->value) != 0) {
		fs_fail(err, err_len, 0, "cannot create an avro-c value: %s", avro_strerror());
		goto fail;
	}
	codec->writer = avro_writer_memory(empty, 0);
	if (codec->writer == NULL) {
		fs_fail(err, err_len, 0, "cannot create an avro-c memory writer");
		goto fail;
	}
	return codec;

fail:
	fs_counters_codec_free(codec);
	return NULL;
}

void
fs_counters_codec_free(struct fs_counters_codec *codec)
{
	if (codec == NULL)
		return;
	if (codec->writer != NULL)
		avro_writer_free(codec->writer);
	if (codec->value.self != NULL)
		avro_value_decref(&codec->value);
	if (codec->value_class != NULL)
		avro_value_iface_decref(codec->value_class);
	if (codec->schema != NULL)
		avro_schema_decref(codec->schema);
	free(codec);
}

uint64_t
fs_counters_codec_fingerprint(const struct fs_counters_codec *codec)
{
	return codec->fingerprint;
}

/* ---- encoding ---- */

static int
set_field_value(avro_value_t *v, const struct fs_counters *counters,
		const struct field_desc *desc)
{
	const void *p = (const char *)counters + desc->offset;
	const struct fs_addr *addr;

	switch (desc->kind) {
	case KIND_ADDR:
		addr = p;
		if (addr->family == 6)
			return avro_value_set_bytes(v, (void *)addr->bytes, 16);
		if (addr->family == 4)
			return avro_value_set_bytes(v, (void *)addr->bytes, 4);
		return avro_value_set_bytes(v, (void *)addr->bytes, 0);
	case KIND_U8:
		return avro_value_set_int(v, *(const uint8_t *)p);
	case KIND_U16:
		return avro_value_set_int(v, *(const uint16_t *)p);
	case KIND_U32:
		return avro_value_set_long(v, *(const uint32_t *)p);
	case KIND_U64:
		/* Two's complement: counters above INT64_MAX read back unchanged. */
		return avro_value_set_long(v, (int64_t)*(const uint64_t *)p);
	case KIND_I64:
		return avro_value_set_long(v, *(const int64_t *)p);
	}
	return EINVAL;
}

static int
fill_other_records(avro_value_t *record, const struct fs_counters *counters)
{
	avro_value_t array, item, field;
	int rc;

	rc = avro_value_get_by_index(record, OTHER_RECORDS_INDEX, &array, NULL);
	if (rc == 0)
		rc = avro_value_reset(&array);
	for (uint32_t i = 0; rc == 0 && i < counters->other_count; i++) {
		const struct fs_counters_other *other = &counters->other[i];

		rc = avro_value_append(&array, &item, NULL);
		if (rc == 0)
			rc = avro_value_get_by_index(&item, 0, &field, NULL);
		if (rc == 0)
			rc = avro_value_set_long(&field, other->enterprise);
		if (rc == 0)
			rc = avro_value_get_by_index(&item, 1, &field, NULL);
		if (rc == 0)
			rc = avro_value_set_int(&field, (int32_t)other->format);
		if (rc == 0)
			rc = avro_value_get_by_index(&item, 2, &field, NULL);
		if (rc == 0)
			rc = avro_value_set_long(&field, other->length);
	}
	if (rc == 0)
		rc = avro_value_get_by_index(record, OTHER_RECORDS_INDEX + 1, &field, NULL);
	if (rc == 0)
		rc = avro_value_set_long(&field, counters->other_omitted);
	return rc;
}

static int
fill_value(avro_value_t *record, const struct fs_counters *counters)
{
	for (size_t i = 0; i < FIELD_COUNT; i++) {
		const struct field_desc *desc = &counters_fields[i];
		avro_value_t field, branch;
		int rc;

		rc = avro_value_get_by_index(record, i, &field, NULL);
		if (rc != 0)
			return rc;
		if (desc->group == 0) {
			rc = set_field_value(&field, counters, desc);
		} else if ((counters->present & desc->group) != 0) {
			rc = avro_value_set_branch(&field, 1, &branch);
			if (rc == 0)
				rc = set_field_value(&branch, counters, desc);
		} else {
			rc = avro_value_set_branch(&field, 0, &branch);
			if (rc == 0)
				rc = avro_value_set_null(&branch);
		}
		if (rc != 0)
			return rc;
	}
	return fill_other_records(record, counters);
}

static bool
other_records_valid(const struct fs_counters *counters)
{
	if (counters->other_count > FS_COUNTERS_MAX_OTHER_RECORDS)
		return false;
	for (uint32_t i = 0; i < counters->other_count; i++) {
		if (counters->other[i].format > 0xfff)
			return false;
	}
	return true;
}

int
fs_counters_codec_encode(struct fs_counters_codec *codec,
			 const struct fs_counters *counters, uint8_t *buf, size_t cap,
			 size_t *out_len)
{
	int rc;

	if (!other_records_valid(counters)) {
		fs_log_limited(&avro_failure_limit, FS_LOG_ERR, FACILITY,
			       "counter sample with %u other records or a format above 4095; not encoded",
			       counters->other_count);
		return FS_ERR_INVALID;
	}
	if (cap < FS_COUNTERS_CODEC_HEADER_LEN)
		return FS_ERR_FULL;

	fs_avro_single_object_header(buf, codec->fingerprint);
	/* fill_value() returns 0 or an avro-c errno value, never an fs_result. */
	rc = fill_value(&codec->value, counters);
	if (rc == 0)
		rc = fs_avro_single_object_write_body(codec->writer, &codec->value, buf, cap,
						      out_len);
	if (rc == 0 || rc == FS_ERR_FULL)
		return rc;
	fs_log_limited(&avro_failure_limit, FS_LOG_ERR, FACILITY,
		       "avro-c failed to encode a counter sample: %s", avro_strerror());
	return FS_ERR_SYSTEM;
}

/* ---- decoding ---- */

/* Reads a zigzag varint of at most max_bytes bytes. */
static int
read_varint(struct cursor *c, int max_bytes, int64_t *out)
{
	return fs_avro_varint_read(&c->p, c->end, max_bytes, out);
}

/* Reads a long in [min, max]. */
static int
read_long_in(struct cursor *c, int64_t min, int64_t max, int64_t *out)
{
	int rc = read_varint(c, 10, out);

	if (rc == 0 && (*out < min || *out > max))
		rc = FS_ERR_INVALID;
	return rc;
}

static int
read_addr(struct cursor *c, struct fs_addr *addr)
{
	int64_t len;
	int rc = read_varint(c, 10, &len);

	if (rc != 0)
		return rc;
	if (len != 0 && len != 4 && len != 16)
		return FS_ERR_INVALID;
	if (len > c->end - c->p)
		return FS_ERR_TRUNCATED;
	if (len == 4)
		fs_addr_set_v4(addr, c->p);
	else if (len == 16)
		fs_addr_set_v6(addr, c->p);
	else
		memset(addr, 0, sizeof(*addr));
	c->p += len;
	return 0;
}

static int
read_field_value(struct cursor *c, struct fs_counters *counters,
		 const struct field_desc *desc)
{
	void *p = (char *)counters + desc->offset;
	int64_t v;
	int rc;

	switch (desc->kind) {
	case KIND_ADDR:
		return read_addr(c, p);
	case KIND_U8:
		rc = read_long_in(c, 0, UINT8_MAX, &v);
		if (rc == 0)
			*(uint8_t *)p = (uint8_t)v;
		return rc;
	case KIND_U16:
		rc = read_long_in(c, 0, UINT16_MAX, &v);
		if (rc == 0)
			*(uint16_t *)p = (uint16_t)v;
		return rc;
	case KIND_U32:
		rc = read_long_in(c, 0, UINT32_MAX, &v);
		if (rc == 0)
			*(uint32_t *)p = (uint32_t)v;
		return rc;
	case KIND_U64:
		rc = read_varint(c, 10, &v);
		if (rc == 0)
			*(uint64_t *)p = (uint64_t)v;
		return rc;
	case KIND_I64:
		rc = read_varint(c, 10, &v);
		if (rc == 0)
			*(int64_t *)p = v;
		return rc;
	}
	return FS_ERR_INVALID;
}

/* Reads one optional field; every field of a group must agree on null. */
static int
read_optional_field(struct cursor *c, struct fs_counters *counters,
		    const struct field_desc *desc, uint32_t *groups_seen)
{
	int64_t branch;
	bool present;
	int rc = read_long_in(c, 0, 1, &branch);

	if (rc != 0)
		return rc;
	present = branch == 1;
	if ((*groups_seen & desc->group) == 0) {
		*groups_seen |= desc->group;
		if (present)
			counters->present |= desc->group;
	} else if (present != ((counters->present & desc->group) != 0)) {
		return FS_ERR_INVALID;
	}
	return present ? read_field_value(c, counters, desc) : 0;
}

static int
read_other_records(struct cursor *c, struct fs_counters *counters)
{
	for (;;) {
		int64_t count, block_size, v;
		int rc = read_varint(c, 10, &count);

		if (rc != 0)
			return rc;
		if (count == 0)
			return 0;
		if (count < 0) {
			if (count < -FS_COUNTERS_MAX_OTHER_RECORDS)
				return FS_ERR_INVALID;
			count = -count;
			rc = read_varint(c, 10, &block_size);
			if (rc != 0)
				return rc;
		}
		if (count > FS_COUNTERS_MAX_OTHER_RECORDS - (int64_t)counters->other_count)
			return FS_ERR_INVALID;
		for (int64_t i = 0; i < count; i++) {
			struct fs_counters_other *other = &counters->other[counters->other_count];

			rc = read_long_in(c, 0, UINT32_MAX, &v);
			other->enterprise = (uint32_t)v;
			if (rc == 0)
				rc = read_long_in(c, 0, 0xfff, &v);
			other->format = (uint32_t)v;
			if (rc == 0)
				rc = read_long_in(c, 0, UINT32_MAX, &v);
			other->length = (uint32_t)v;
			if (rc != 0)
				return rc;
			counters->other_count++;
		}
	}
}

int
fs_counters_codec_decode(struct fs_counters_codec *codec, const uint8_t *buf,
			 size_t len, struct fs_counters *out)
{
	uint32_t groups_seen = 0;
	struct cursor c;
	uint64_t fp = 0;
	int64_t omitted;
	int rc;

	rc = fs_avro_single_object_read_header(buf, len, &fp);
	if (rc < 0)
		return rc;
	if (fp != codec->fingerprint)
		return FS_ERR_UNSUPPORTED;

	fs_counters_clear(out);
	c.p = buf + FS_COUNTERS_CODEC_HEADER_LEN;
	c.end = buf + len;
	for (size_t i = 0; i < FIELD_COUNT && rc == 0; i++) {
		const struct field_desc *desc = &counters_fields[i];

		if (desc->group == 0)
			rc = read_field_value(&c, out, desc);
		else
			rc = read_optional_field(&c, out, desc, &groups_seen);
	}
	if (rc == 0)
		rc = read_other_records(&c, out);
	if (rc == 0)
		rc = read_long_in(&c, 0, UINT32_MAX, &omitted);
	if (rc != 0)
		return rc;
	out->other_omitted = (uint32_t)omitted;
	return c.p == c.end ? 0 : FS_ERR_INVALID;
}
