/* flow_codec.c - struct fs_flow to and from Avro single-object encoding. */
#include "avro/flow_codec.h"

#include <avro.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/binary_reader.h"
#include "avro/binary_writer.h"
#include "avro/fingerprint.h"
#include "avro/schemas.h"
#include "avro/single_object.h"
#include "avro/varint.h"
#include "core/error_text.h"
#include "core/log.h"
#include "core/result.h"

/* Both readers must stop at the same item count to give the same result. */
_Static_assert(FS_FLOW_CODEC_MAX_ITEMS == FS_AVRO_READ_MAX_ITEMS,
	       "the avro-c check and the direct reader differ in their item limit");

#define FACILITY "avro"
#define WRITER_SCHEMA_FILE "flow.avsc"
#define OLD_SCHEMA_PREFIX "flow.v"
#define SCHEMA_SUFFIX ".avsc"

/* Deepest schema nesting the body check follows; flow schemas use 3. */
#define MAX_DATUM_DEPTH 32

/* Most symbols a writer's enum (FlowType, FlowDirection, ...) may have. */
#define MAX_ENUM_SYMBOLS 64

_Static_assert(FS_FLOW_CODEC_HEADER_LEN == FS_AVRO_SINGLE_OBJECT_HEADER_LEN,
	       "the flow header is the single-object header");

/* The enum fields, in the order of schema_version.enum_map. */
enum enum_slot {
	SLOT_FLOW_TYPE,
	SLOT_DIRECTION,
	SLOT_TRAFFIC_DIRECTION,
	SLOT_SAMPLING_SOURCE,
	SLOT_COUNT
};

/* Avro type of a struct fs_flow member. */
enum field_kind {
	KIND_ENUM,       /* uint8_t, the Avro enum of enum_slot */
	KIND_STRING,     /* char[size], string of at most size - 1 bytes */
	KIND_ADDR,       /* struct fs_addr, bytes of 0, 4 or 16 */
	KIND_MAC,        /* uint8_t[6], bytes of 6 */
	KIND_U8,         /* uint8_t, int */
	KIND_U16,        /* uint16_t, int */
	KIND_U32,        /* uint32_t, long */
	KIND_U64,        /* uint64_t, long holding the same 64 bits */
	KIND_I64,        /* int64_t, long */
	KIND_ENTERPRISE, /* fs_flow.enterprise*, array of EnterpriseElement records */
};

struct field_desc {
	const char *name;
	enum field_kind kind;
	uint64_t bit;    /* presence bit, or 0 for a mandatory field */
	size_t offset;   /* of the member in struct fs_flow */
	size_t size;     /* of the member, for KIND_STRING */
	enum enum_slot slot; /* for KIND_ENUM */
};

#define FIELD(name, kind, bit) { #name, kind, bit, offsetof(struct fs_flow, name), 0, 0 }
#define ENUM_FIELD(name, slot, bit) \
	{ #name, KIND_ENUM, bit, offsetof(struct fs_flow, name), 0, slot }
#define STRING_FIELD(name, bit) \
	{ #name, KIND_STRING, bit, offsetof(struct fs_flow, name), \
	  sizeof(((struct fs_flow *)0)->name), 0 }

/* Every field of schemas/flow.avsc; the codec rejects a schema that differs. */
static const struct field_desc flow_fields[] = {
	ENUM_FIELD(flow_type, SLOT_FLOW_TYPE, 0),
	FIELD(exporter_addr, KIND_ADDR, 0),
	FIELD(exporter_port, KIND_U16, 0),
	FIELD(observation_domain_id, KIND_U32, FS_F_OBSERVATION_DOMAIN),
	FIELD(sequence, KIND_U32, FS_F_SEQUENCE),
	FIELD(time_received_ns, KIND_I64, 0),
	FIELD(time_flow_start_ns, KIND_I64, FS_F_TIME_FLOW_START),
	FIELD(time_flow_end_ns, KIND_I64, FS_F_TIME_FLOW_END),
	FIELD(sampling_rate, KIND_U32, FS_F_SAMPLING_RATE),
	FIELD(src_addr, KIND_ADDR, FS_F_SRC_ADDR),
	FIELD(dst_addr, KIND_ADDR, FS_F_DST_ADDR),
	FIELD(next_hop, KIND_ADDR, FS_F_NEXT_HOP),
	FIELD(src_port, KIND_U16, FS_F_SRC_PORT),
	FIELD(dst_port, KIND_U16, FS_F_DST_PORT),
	FIELD(proto, KIND_U8, FS_F_PROTO),
	FIELD(tcp_flags, KIND_U8, FS_F_TCP_FLAGS),
	FIELD(tos, KIND_U8, FS_F_TOS),
	FIELD(bytes, KIND_U64, FS_F_BYTES),
	FIELD(packets, KIND_U64, FS_F_PACKETS),
	FIELD(in_if, KIND_U32, FS_F_IN_IF),
	FIELD(out_if, KIND_U32, FS_F_OUT_IF),
	FIELD(src_as, KIND_U32, FS_F_SRC_AS),
	FIELD(dst_as, KIND_U32, FS_F_DST_AS),
	FIELD(src_mask, KIND_U8, FS_F_SRC_MASK),
	FIELD(dst_mask, KIND_U8, FS_F_DST_MASK),
	FIELD(vlan_id, KIND_U16, FS_F_VLAN_ID),
	FIELD(src_mac, KIND_MAC, FS_F_SRC_MAC),
	FIELD(dst_mac, KIND_MAC, FS_F_DST_MAC),
	FIELD(icmp_type, KIND_U8, FS_F_ICMP_TYPE),
	FIELD(icmp_code, KIND_U8, FS_F_ICMP_CODE),
	ENUM_FIELD(flow_direction, SLOT_DIRECTION, FS_F_FLOW_DIRECTION),
	STRING_FIELD(src_country, FS_F_SRC_COUNTRY),
	STRING_FIELD(dst_country, FS_F_DST_COUNTRY),
	STRING_FIELD(src_city, FS_F_SRC_CITY),
	STRING_FIELD(dst_city, FS_F_DST_CITY),
	STRING_FIELD(src_as_org, FS_F_SRC_AS_ORG),
	STRING_FIELD(dst_as_org, FS_F_DST_AS_ORG),
	STRING_FIELD(exporter_name, FS_F_EXPORTER_NAME),
	STRING_FIELD(exporter_site, FS_F_EXPORTER_SITE),
	STRING_FIELD(in_if_name, FS_F_IN_IF_NAME),
	STRING_FIELD(in_if_description, FS_F_IN_IF_DESCRIPTION),
	FIELD(in_if_speed, KIND_U64, FS_F_IN_IF_SPEED),
	STRING_FIELD(out_if_name, FS_F_OUT_IF_NAME),
	STRING_FIELD(out_if_description, FS_F_OUT_IF_DESCRIPTION),
	FIELD(out_if_speed, KIND_U64, FS_F_OUT_IF_SPEED),
	STRING_FIELD(src_tags, FS_F_SRC_TAGS),
	STRING_FIELD(dst_tags, FS_F_DST_TAGS),
	ENUM_FIELD(traffic_direction, SLOT_TRAFFIC_DIRECTION, FS_F_TRAFFIC_DIRECTION),
	FIELD(exported_bytes, KIND_U64, FS_F_EXPORTED_BYTES),
	FIELD(exported_packets, KIND_U64, FS_F_EXPORTED_PACKETS),
	ENUM_FIELD(sampling_source, SLOT_SAMPLING_SOURCE, FS_F_SAMPLING_SOURCE),
	STRING_FIELD(src_service, FS_F_SRC_SERVICE),
	STRING_FIELD(dst_service, FS_F_DST_SERVICE),
	FIELD(firewall_event, KIND_U8, FS_F_FIREWALL_EVENT),
	FIELD(firewall_event_extended, KIND_U16, FS_F_FIREWALL_EVENT_EXTENDED),
	FIELD(nat_event, KIND_U8, FS_F_NAT_EVENT),
	FIELD(connection_id, KIND_U64, FS_F_CONNECTION_ID),
	FIELD(post_nat_src_addr, KIND_ADDR, FS_F_POST_NAT_SRC_ADDR),
	FIELD(post_nat_dst_addr, KIND_ADDR, FS_F_POST_NAT_DST_ADDR),
	FIELD(post_nat_src_port, KIND_U16, FS_F_POST_NAT_SRC_PORT),
	FIELD(post_nat_dst_port, KIND_U16, FS_F_POST_NAT_DST_PORT),
	FIELD(event_time_ns, KIND_I64, FS_F_EVENT_TIME),
	/* Covers enterprise_count, enterprise[] and enterprise_bytes[]. */
	{ "enterprise_elements", KIND_ENTERPRISE, FS_F_ENTERPRISE_ELEMENTS,
	  offsetof(struct fs_flow, enterprise_count), 0, 0 },
};

#define FIELD_COUNT (sizeof(flow_fields) / sizeof(flow_fields[0]))

static const char *const direction_symbols[] = { "ingress", "egress" };

/* Maps a writer's enum symbols to the current symbol indexes. */
struct enum_map {
	int count;                          /* writer symbols */
	int8_t current[MAX_ENUM_SYMBOLS];   /* current index, or -1 if absent */
};

/*
 * One accepted writer schema.  Messages are read into value, an instance of
 * reader: the current schema without the fields the writer lacks, because
 * avro-c 1.11 resolution does not fill reader fields from their defaults.
 * When writer and reader differ, resolved (a resolved writer wrapping value)
 * converts the writer's data on the way in.  Resolution in avro-c 1.11
 * copies enum indexes unchanged instead of matching symbols by name, so
 * enum_map does that matching after the read.
 */
struct schema_version {
	uint64_t fingerprint;
	avro_schema_t writer;
	avro_schema_t reader;
	avro_value_iface_t *reader_class;
	avro_value_t value;
	avro_value_iface_t *resolver;    /* NULL when writer is reader */
	avro_value_t resolved;
	int field_index[FIELD_COUNT];    /* reader field of flow_fields[i], or -1 */
	struct enum_map enum_map[SLOT_COUNT];
};

struct fs_flow_codec {
	json_t *schema_json;             /* current schema, to build readers */
	const char *schema_text;         /* embedded, static */
	avro_writer_t writer;
	avro_reader_t reader;
	size_t version_count;
	struct schema_version versions[FS_FLOW_CODEC_MAX_VERSIONS]; /* [0] current */
	struct fs_avro_field layout_fields[FIELD_COUNT];  /* flow_fields for the direct codec */
	struct fs_avro_record layout;
	struct fs_avro_plan plan;        /* of the last presence mask encoded */
	uint8_t header[FS_FLOW_CODEC_HEADER_LEN]; /* marker and fingerprint of versions[0] */
};

/* Bounds-checked read position in a message body. */
struct cursor {
	const uint8_t *p;
	const uint8_t *end;
	int64_t items;          /* array and map items seen so far */
};

static struct fs_ratelimit avro_failure_limit = FS_RATELIMIT_INIT(60, 5);

/* ---- schema checks ---- */

static const char *const *current_symbols(enum enum_slot slot, int *count);

/*
 * Returns the type of field name in record, or NULL.  avro-c 1.11's
 * avro_schema_record_field_get() dereferences an uninitialised pointer when
 * the name is missing, so the lookup goes through the index.
 */
static avro_schema_t
record_field_type(avro_schema_t record, const char *name)
{
	int index = avro_schema_record_field_get_index(record, name);

	return index < 0 ? NULL : avro_schema_record_field_get_by_index(record, index);
}

static avro_schema_t
skip_links(avro_schema_t schema)
{
	while (is_avro_link(schema))
		schema = avro_schema_link_target(schema);
	return schema;
}

static bool
enum_symbols_match(avro_schema_t schema, const char *const *symbols, int count)
{
	if (avro_schema_enum_number_of_symbols(schema) != count)
		return false;
	for (int i = 0; i < count; i++) {
		if (strcmp(avro_schema_enum_get(schema, i), symbols[i]) != 0)
			return false;
	}
	return true;
}

/* Names and types of the EnterpriseElement record, in schema order. */
static const struct {
	const char *name;
	avro_type_t type;
} enterprise_record_fields[] = {
	{ "enterprise", AVRO_INT64 },
	{ "element_id", AVRO_INT32 },
	{ "value", AVRO_BYTES },
};

#define ENTERPRISE_RECORD_FIELDS \
	(sizeof(enterprise_record_fields) / sizeof(enterprise_record_fields[0]))

/* Returns true when schema is an array of EnterpriseElement records. */
static bool
is_enterprise_array(avro_schema_t schema)
{
	avro_schema_t items;

	if (!is_avro_array(schema))
		return false;
	items = skip_links(avro_schema_array_items(schema));
	if (!is_avro_record(items) || avro_schema_record_size(items) != ENTERPRISE_RECORD_FIELDS)
		return false;
	for (size_t i = 0; i < ENTERPRISE_RECORD_FIELDS; i++) {
		avro_schema_t type = record_field_type(items, enterprise_record_fields[i].name);

		if (type == NULL || avro_typeof(skip_links(type)) != enterprise_record_fields[i].type)
			return false;
	}
	return true;
}

/* Returns true when schema is the Avro type that desc needs. */
static bool
field_type_matches(const struct field_desc *desc, avro_schema_t schema)
{
	const char *const *symbols;
	int count;

	schema = skip_links(schema);
	switch (desc->kind) {
	case KIND_ENUM:
		symbols = current_symbols(desc->slot, &count);
		return is_avro_enum(schema) && enum_symbols_match(schema, symbols, count);
	case KIND_STRING:
		return is_avro_string(schema);
	case KIND_ADDR:
	case KIND_MAC:
		return is_avro_bytes(schema);
	case KIND_U8:
	case KIND_U16:
		return is_avro_int32(schema);
	case KIND_U32:
	case KIND_U64:
	case KIND_I64:
		return is_avro_int64(schema);
	case KIND_ENTERPRISE:
		return is_enterprise_array(schema);
	}
	return false;
}

/*
 * Checks that the current schema has exactly the fields of flow_fields, with
 * the expected types, and that optional fields are ["null", T].
 */
static int
check_current_schema(avro_schema_t schema, char *err, size_t err_len)
{
	if (!is_avro_record(schema) || strcmp(avro_schema_name(schema), "Flow") != 0)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "flow schema: top-level type is not the record Flow");
	if (avro_schema_record_size(schema) != FIELD_COUNT)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "flow schema: has %zu fields, the codec maps %zu",
			       avro_schema_record_size(schema), FIELD_COUNT);

	for (size_t i = 0; i < FIELD_COUNT; i++) {
		const struct field_desc *desc = &flow_fields[i];
		avro_schema_t type;

		type = record_field_type(schema, desc->name);
		if (type == NULL)
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "flow schema: field '%s' is missing", desc->name);
		if (desc->bit != 0) {
			if (!is_avro_union(type) || avro_schema_union_size(type) != 2 ||
			    !is_avro_null(avro_schema_union_branch(type, 0)))
				return fs_fail(err, err_len, FS_ERR_INVALID,
					       "flow schema: optional field '%s' is not [\"null\", T]",
					       desc->name);
			type = avro_schema_union_branch(type, 1);
		}
		if (!field_type_matches(desc, type))
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "flow schema: field '%s' has an unexpected type", desc->name);
	}
	return 0;
}

/*
 * Builds the reader schema for writer: the current schema without the
 * fields that writer lacks.  Each dropped field must default to null.
 */
static int
build_reader_schema(const struct fs_flow_codec *codec, avro_schema_t writer,
		    avro_schema_t *reader, char *err, size_t err_len)
{
	json_t *copy = NULL;
	json_t *fields;
	char *text = NULL;
	size_t i = 0;
	int rc = 0;

	copy = json_deep_copy(codec->schema_json);
	if (copy == NULL) {
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	fields = json_object_get(copy, "fields");

	while (i < json_array_size(fields)) {
		json_t *field = json_array_get(fields, i);
		const char *name = json_string_value(json_object_get(field, "name"));
		json_t *def = json_object_get(field, "default");

		if (avro_schema_record_field_get_index(writer, name) >= 0) {
			i++;
			continue;
		}
		if (!json_is_null(def)) {
			rc = fs_fail(err, err_len, FS_ERR_INVALID,
				     "writer schema lacks field '%s', which has no null default",
				     name);
			goto out;
		}
		json_array_remove(fields, i);
	}

	text = json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	if (avro_schema_from_json_length(text, strlen(text), reader) != 0)
		rc = fs_fail(err, err_len, FS_ERR_SYSTEM,
			     "reader schema rejected by avro-c: %s", avro_strerror());

out:
	if (rc == FS_ERR_SYSTEM && err != NULL && err_len > 0 && err[0] == '\0')
		fs_fail(err, err_len, rc, "out of memory building the reader schema");
	free(text);
	json_decref(copy);
	return rc;
}

/* Returns the current symbols of an enum slot and their count in *count. */
static const char *const *
current_symbols(enum enum_slot slot, int *count)
{
	static const char *flow_types[FS_FLOW_TYPE_COUNT];
	static const char *traffic_directions[FS_TRAFFIC_DIRECTION_COUNT];
	static const char *sampling_sources[FS_SAMPLING_SOURCE_COUNT];

	switch (slot) {
	case SLOT_DIRECTION:
		*count = 2;
		return direction_symbols;
	case SLOT_TRAFFIC_DIRECTION:
		for (int i = 0; i < FS_TRAFFIC_DIRECTION_COUNT; i++)
			traffic_directions[i] =
				fs_traffic_direction_name((enum fs_traffic_direction)i);
		*count = FS_TRAFFIC_DIRECTION_COUNT;
		return traffic_directions;
	case SLOT_SAMPLING_SOURCE:
		for (int i = 0; i < FS_SAMPLING_SOURCE_COUNT; i++)
			sampling_sources[i] =
				fs_sampling_source_name((enum fs_sampling_source)i);
		*count = FS_SAMPLING_SOURCE_COUNT;
		return sampling_sources;
	case SLOT_FLOW_TYPE:
	case SLOT_COUNT:
		break;
	}
	for (int i = 0; i < FS_FLOW_TYPE_COUNT; i++)
		flow_types[i] = fs_flow_type_name((enum fs_flow_type)i);
	*count = FS_FLOW_TYPE_COUNT;
	return flow_types;
}

/*
 * Fills map from the enum of field name in writer, found directly or as a
 * union branch.  A writer without the field leaves the map empty.
 */
static int
build_enum_map(struct enum_map *map, avro_schema_t writer, const char *name,
	       enum enum_slot slot, char *err, size_t err_len)
{
	avro_schema_t type = record_field_type(writer, name);
	const char *const *symbols;
	int symbol_count;

	memset(map, 0, sizeof(*map));
	if (type == NULL)
		return 0;
	type = skip_links(type);
	if (is_avro_union(type)) {
		avro_schema_t found = NULL;

		for (size_t i = 0; i < avro_schema_union_size(type); i++) {
			avro_schema_t branch = skip_links(avro_schema_union_branch(type, (int)i));

			if (is_avro_enum(branch))
				found = branch;
		}
		type = found;
	}
	if (!is_avro_enum(type))
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "writer schema field '%s' is not an enum", name);
	map->count = avro_schema_enum_number_of_symbols(type);
	if (map->count > MAX_ENUM_SYMBOLS)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "writer schema enum '%s' has %d symbols, more than %d",
			       name, map->count, MAX_ENUM_SYMBOLS);

	symbols = current_symbols(slot, &symbol_count);
	for (int i = 0; i < map->count; i++) {
		const char *symbol = avro_schema_enum_get(type, i);

		map->current[i] = -1;
		for (int j = 0; j < symbol_count; j++) {
			if (strcmp(symbol, symbols[j]) == 0)
				map->current[i] = (int8_t)j;
		}
	}
	return 0;
}

static void
version_release(struct schema_version *v)
{
	if (v->resolved.self != NULL)
		avro_value_decref(&v->resolved);
	if (v->resolver != NULL)
		avro_value_iface_decref(v->resolver);
	if (v->value.self != NULL)
		avro_value_decref(&v->value);
	if (v->reader_class != NULL)
		avro_value_iface_decref(v->reader_class);
	if (v->reader != NULL)
		avro_schema_decref(v->reader);
	if (v->writer != NULL)
		avro_schema_decref(v->writer);
	memset(v, 0, sizeof(*v));
}

/*
 * Fills v for writer (adopted: v takes the reference) and reader (adopted,
 * may be the same schema as writer with a second reference).
 */
static int
version_init(struct schema_version *v, avro_schema_t writer, avro_schema_t reader,
	     char *err, size_t err_len)
{
	int rc = FS_ERR_SYSTEM;

	memset(v, 0, sizeof(*v));
	v->writer = writer;
	v->reader = reader;

	v->reader_class = avro_generic_class_from_schema(reader);
	if (v->reader_class == NULL || avro_generic_value_new(v->reader_class, &v->value) != 0) {
		fs_fail(err, err_len, rc, "cannot create an avro-c value: %s", avro_strerror());
		goto fail;
	}

	if (writer != reader) {
		v->resolver = avro_resolved_writer_new(writer, reader);
		if (v->resolver == NULL) {
			rc = fs_fail(err, err_len, FS_ERR_INVALID,
				     "current schema cannot read the writer schema: %s",
				     avro_strerror());
			goto fail;
		}
		if (avro_resolved_writer_new_value(v->resolver, &v->resolved) != 0) {
			fs_fail(err, err_len, rc, "cannot create a resolved value: %s",
				avro_strerror());
			goto fail;
		}
		avro_resolved_writer_set_dest(&v->resolved, &v->value);
	}

	for (size_t i = 0; i < FIELD_COUNT; i++) {
		const struct field_desc *desc = &flow_fields[i];

		v->field_index[i] = avro_schema_record_field_get_index(reader, desc->name);
		if (desc->kind != KIND_ENUM)
			continue;
		rc = build_enum_map(&v->enum_map[desc->slot], writer, desc->name, desc->slot,
				    err, err_len);
		if (rc != 0)
			goto fail;
	}
	return 0;

fail:
	version_release(v);
	return rc;
}

static const struct schema_version *
find_version(const struct fs_flow_codec *codec, uint64_t fingerprint)
{
	for (size_t i = 0; i < codec->version_count; i++) {
		if (codec->versions[i].fingerprint == fingerprint)
			return &codec->versions[i];
	}
	return NULL;
}

int
fs_flow_codec_add_schema(struct fs_flow_codec *codec, const char *json, size_t len,
			 uint64_t *fingerprint, char *err, size_t err_len)
{
	avro_schema_t writer = NULL;
	avro_schema_t reader = NULL;
	struct schema_version *v;
	uint64_t fp;
	int rc;

	if (err != NULL && err_len > 0)
		err[0] = '\0';
	rc = fs_avro_fingerprint(json, len, &fp, err, err_len);
	if (rc != 0)
		return rc;
	if (fingerprint != NULL)
		*fingerprint = fp;
	if (find_version(codec, fp) != NULL)
		return 0;
	if (codec->version_count == FS_FLOW_CODEC_MAX_VERSIONS)
		return fs_fail(err, err_len, FS_ERR_FULL,
			       "already %d flow schema versions registered",
			       FS_FLOW_CODEC_MAX_VERSIONS);

	if (avro_schema_from_json_length(json, len, &writer) != 0)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "writer schema rejected by avro-c: %s", avro_strerror());
	if (!is_avro_record(writer) || strcmp(avro_schema_name(writer), "Flow") != 0) {
		rc = fs_fail(err, err_len, FS_ERR_INVALID,
			     "writer schema is not a record named Flow");
		goto fail;
	}
	rc = build_reader_schema(codec, writer, &reader, err, err_len);
	if (rc != 0)
		goto fail;

	v = &codec->versions[codec->version_count];
	rc = version_init(v, writer, reader, err, err_len);
	if (rc != 0)
		return rc;     /* version_init released both schemas */
	v->fingerprint = fp;
	codec->version_count++;
	return 0;

fail:
	if (reader != NULL)
		avro_schema_decref(reader);
	avro_schema_decref(writer);
	return rc;
}

/* Registers the writer schema text as versions[0]. */
static int
add_current_schema(struct fs_flow_codec *codec, const char *text, char *err,
		   size_t err_len)
{
	json_error_t jerr;
	avro_schema_t schema = NULL;
	uint64_t fp;
	int rc;

	codec->schema_json = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (codec->schema_json == NULL)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "flow schema: invalid JSON at line %d: %s", jerr.line, jerr.text);
	rc = fs_avro_fingerprint(text, strlen(text), &fp, err, err_len);
	if (rc != 0)
		return rc;
	if (avro_schema_from_json_length(text, strlen(text), &schema) != 0)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "flow schema rejected by avro-c: %s", avro_strerror());
	rc = check_current_schema(schema, err, err_len);
	if (rc != 0) {
		avro_schema_decref(schema);
		return rc;
	}

	rc = version_init(&codec->versions[0], schema, avro_schema_incref(schema), err, err_len);
	if (rc != 0)
		return rc;
	codec->versions[0].fingerprint = fp;
	fs_avro_single_object_header(codec->header, fp);
	codec->version_count = 1;
	codec->schema_text = text;
	return 0;
}

/* Layout of one EnterpriseElement record; its value lives in enterprise_bytes[]. */
static const struct fs_avro_field enterprise_item_fields[] = {
	{ .op = FS_AVRO_OP_LONG_U32, .offset = offsetof(struct fs_enterprise_element, enterprise) },
	{ .op = FS_AVRO_OP_INT_U16, .offset = offsetof(struct fs_enterprise_element, element_id) },
	{ .op = FS_AVRO_OP_HEAP_BYTES, .offset = offsetof(struct fs_enterprise_element, offset),
	  .count_offset = offsetof(struct fs_enterprise_element, length) },
};

static const struct fs_avro_record enterprise_item_layout = {
	.fields = enterprise_item_fields,
	.field_count = sizeof(enterprise_item_fields) / sizeof(enterprise_item_fields[0]),
	.presence_offset = FS_AVRO_NO_PRESENCE,
};

/*
 * Translates one flow_fields entry into its record layout entry.  A new
 * field_kind needs a case here; an array of records maps to
 * FS_AVRO_OP_ARRAY with a layout for its items (avro/record_layout.h).
 */
static struct fs_avro_field
write_field(const struct field_desc *desc)
{
	struct fs_avro_field field = { .presence_bit = desc->bit, .offset = desc->offset };
	int count;

	switch (desc->kind) {
	case KIND_ENUM:
		field.op = FS_AVRO_OP_ENUM_U8;
		current_symbols(desc->slot, &count);
		field.size = (size_t)count;
		break;
	case KIND_STRING:
		field.op = FS_AVRO_OP_STRING;
		field.size = desc->size;
		break;
	case KIND_ADDR:
		field.op = FS_AVRO_OP_ADDR;
		break;
	case KIND_MAC:
		field.op = FS_AVRO_OP_BYTES;
		field.size = 6;
		break;
	case KIND_U8:
		field.op = FS_AVRO_OP_INT_U8;
		break;
	case KIND_U16:
		field.op = FS_AVRO_OP_INT_U16;
		break;
	case KIND_U32:
		field.op = FS_AVRO_OP_LONG_U32;
		break;
	case KIND_U64:
		field.op = FS_AVRO_OP_LONG_U64;
		break;
	case KIND_I64:
		field.op = FS_AVRO_OP_LONG_I64;
		break;
	case KIND_ENTERPRISE:
		field.op = FS_AVRO_OP_ARRAY;
		field.offset = offsetof(struct fs_flow, enterprise);
		field.size = sizeof(struct fs_enterprise_element);
		field.count_offset = offsetof(struct fs_flow, enterprise_count);
		field.max_items = FS_FLOW_MAX_ENTERPRISE_ELEMENTS;
		field.items = &enterprise_item_layout;
		break;
	}
	return field;
}

/* Fills the record layout of struct fs_flow from flow_fields. */
static void
build_layout(struct fs_flow_codec *codec)
{
	for (size_t i = 0; i < FIELD_COUNT; i++)
		codec->layout_fields[i] = write_field(&flow_fields[i]);
	codec->layout.fields = codec->layout_fields;
	codec->layout.field_count = FIELD_COUNT;
	codec->layout.presence_offset = offsetof(struct fs_flow, present);
	codec->layout.heap_offset = offsetof(struct fs_flow, enterprise_bytes);
	codec->layout.heap_size = FS_FLOW_ENTERPRISE_BYTES;
	codec->layout.heap_used_offset = offsetof(struct fs_flow, enterprise_bytes_used);
}

static bool
is_old_flow_schema(const char *name)
{
	size_t len = strlen(name);
	size_t prefix = strlen(OLD_SCHEMA_PREFIX);
	size_t suffix = strlen(SCHEMA_SUFFIX);

	return len > prefix + suffix && strncmp(name, OLD_SCHEMA_PREFIX, prefix) == 0 &&
	       strcmp(name + len - suffix, SCHEMA_SUFFIX) == 0;
}

struct fs_flow_codec *
fs_flow_codec_new(char *err, size_t err_len)
{
	static const char empty[1];
	const struct fs_embedded_schema *current;
	struct fs_flow_codec *codec;

	current = fs_embedded_schema_find(WRITER_SCHEMA_FILE);
	if (current == NULL) {
		fs_fail(err, err_len, 0, "no embedded schema named %s", WRITER_SCHEMA_FILE);
		return NULL;
	}

	codec = calloc(1, sizeof(*codec));
	if (codec == NULL) {
		fs_fail(err, err_len, 0, "out of memory");
		return NULL;
	}
	codec->writer = avro_writer_memory(empty, 0);
	codec->reader = avro_reader_memory(empty, 0);
	if (codec->writer == NULL || codec->reader == NULL) {
		fs_fail(err, err_len, 0, "cannot create avro-c memory reader and writer");
		goto fail;
	}
	if (add_current_schema(codec, current->text, err, err_len) != 0)
		goto fail;
	build_layout(codec);

	for (size_t i = 0; i < fs_embedded_schema_count; i++) {
		const struct fs_embedded_schema *s = &fs_embedded_schemas[i];
		char reason[256];

		if (!is_old_flow_schema(s->name))
			continue;
		if (fs_flow_codec_add_schema(codec, s->text, strlen(s->text), NULL,
					     reason, sizeof(reason)) != 0) {
			fs_fail(err, err_len, 0, "%s: %s", s->name, reason);
			goto fail;
		}
	}
	return codec;

fail:
	fs_flow_codec_free(codec);
	return NULL;
}

void
fs_flow_codec_free(struct fs_flow_codec *codec)
{
	if (codec == NULL)
		return;
	for (size_t i = 0; i < codec->version_count; i++)
		version_release(&codec->versions[i]);
	if (codec->writer != NULL)
		avro_writer_free(codec->writer);
	if (codec->reader != NULL)
		avro_reader_free(codec->reader);
	json_decref(codec->schema_json);
	free(codec);
}

uint64_t
fs_flow_codec_fingerprint(const struct fs_flow_codec *codec)
{
	return codec->versions[0].fingerprint;
}

const char *
fs_flow_codec_schema_text(const struct fs_flow_codec *codec)
{
	return codec->schema_text;
}

/* ---- encoding ---- */

static const void *
member(const struct fs_flow *flow, const struct field_desc *desc)
{
	return (const char *)flow + desc->offset;
}

/* Sets the array v to the enterprise elements of flow. */
static int
set_enterprise_elements(avro_value_t *v, const struct fs_flow *flow)
{
	unsigned count = flow->enterprise_count;
	int rc;

	/* The value is reused across flows, so drop the previous flow's items. */
	rc = avro_value_reset(v);
	if (count > FS_FLOW_MAX_ENTERPRISE_ELEMENTS)
		return EINVAL;
	for (unsigned i = 0; i < count && rc == 0; i++) {
		const struct fs_enterprise_element *e = &flow->enterprise[i];
		avro_value_t item, field;

		if ((size_t)e->offset + e->length > FS_FLOW_ENTERPRISE_BYTES)
			return EINVAL;
		rc = avro_value_append(v, &item, NULL);
		if (rc == 0)
			rc = avro_value_get_by_index(&item, 0, &field, NULL);
		if (rc == 0)
			rc = avro_value_set_long(&field, e->enterprise);
		if (rc == 0)
			rc = avro_value_get_by_index(&item, 1, &field, NULL);
		if (rc == 0)
			rc = avro_value_set_int(&field, e->element_id);
		if (rc == 0)
			rc = avro_value_get_by_index(&item, 2, &field, NULL);
		if (rc == 0)
			rc = avro_value_set_bytes(&field, (void *)(flow->enterprise_bytes + e->offset),
						  e->length);
	}
	return rc;
}

static int
set_field_value(avro_value_t *v, const struct fs_flow *flow, const struct field_desc *desc)
{
	const void *p = member(flow, desc);
	const struct fs_addr *addr;

	switch (desc->kind) {
	case KIND_ENUM:
		return avro_value_set_enum(v, *(const uint8_t *)p);
	case KIND_STRING:
		/* avro-c copies the string, so the flow keeps its own. */
		return avro_value_set_string_len(v, p, strnlen(p, desc->size) + 1);
	case KIND_ADDR:
		addr = p;
		if (addr->family == 6)
			return avro_value_set_bytes(v, (void *)addr->bytes, 16);
		if (addr->family == 4)
			return avro_value_set_bytes(v, (void *)addr->bytes, 4);
		return avro_value_set_bytes(v, (void *)addr->bytes, 0);
	case KIND_MAC:
		return avro_value_set_bytes(v, (void *)p, 6);
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
	case KIND_ENTERPRISE:
		return set_enterprise_elements(v, flow);
	}
	return EINVAL;
}

/* Checks the enum members, which avro-c would write unchecked. */
static bool
flow_enums_valid(const struct fs_flow *flow)
{
	if (flow->flow_type >= FS_FLOW_TYPE_COUNT)
		return false;
	if (fs_flow_has(flow, FS_F_FLOW_DIRECTION) && flow->flow_direction > FS_DIR_EGRESS)
		return false;
	if (fs_flow_has(flow, FS_F_TRAFFIC_DIRECTION) &&
	    flow->traffic_direction >= FS_TRAFFIC_DIRECTION_COUNT)
		return false;
	return !fs_flow_has(flow, FS_F_SAMPLING_SOURCE) ||
	       flow->sampling_source < FS_SAMPLING_SOURCE_COUNT;
}

static int
fill_value(avro_value_t *record, const struct fs_flow *flow)
{
	for (size_t i = 0; i < FIELD_COUNT; i++) {
		const struct field_desc *desc = &flow_fields[i];
		avro_value_t field;
		avro_value_t branch;
		int rc;

		rc = avro_value_get_by_index(record, i, &field, NULL);
		if (rc != 0)
			return rc;
		if (desc->bit == 0) {
			rc = set_field_value(&field, flow, desc);
		} else if ((flow->present & desc->bit) != 0) {
			rc = avro_value_set_branch(&field, 1, &branch);
			if (rc == 0)
				rc = set_field_value(&branch, flow, desc);
		} else {
			rc = avro_value_set_branch(&field, 0, &branch);
			if (rc == 0)
				rc = avro_value_set_null(&branch);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * Checks the flow's enums and cap, and writes the marker and fingerprint.
 * Returns 0, FS_ERR_INVALID or FS_ERR_FULL.
 */
static int
begin_message(const struct fs_flow_codec *codec, const struct fs_flow *flow, uint8_t *buf,
	      size_t cap)
{
	if (!flow_enums_valid(flow)) {
		fs_log_limited(&avro_failure_limit, FS_LOG_ERR, FACILITY,
			       "flow type %u, direction %u, traffic direction %u or sampling "
			       "source %u out of range; flow not encoded",
			       flow->flow_type, flow->flow_direction, flow->traffic_direction,
			       flow->sampling_source);
		return FS_ERR_INVALID;
	}
	if (cap < FS_FLOW_CODEC_HEADER_LEN)
		return FS_ERR_FULL;

	memcpy(buf, codec->header, sizeof(codec->header));
	return 0;
}

int
fs_flow_codec_encode(struct fs_flow_codec *codec, const struct fs_flow *flow,
		     uint8_t *buf, size_t cap, size_t *out_len)
{
	size_t body_len = 0;
	int rc;

	rc = begin_message(codec, flow, buf, cap);
	if (rc != 0)
		return rc;
	rc = fs_avro_write_record_planned(&codec->layout, &codec->plan, flow,
					  buf + FS_FLOW_CODEC_HEADER_LEN,
					  cap - FS_FLOW_CODEC_HEADER_LEN, &body_len);
	if (rc != 0)
		return rc;
	*out_len = FS_FLOW_CODEC_HEADER_LEN + body_len;
	return 0;
}

int
fs_flow_codec_encode_generic(struct fs_flow_codec *codec, const struct fs_flow *flow,
			     uint8_t *buf, size_t cap, size_t *out_len)
{
	struct schema_version *v = &codec->versions[0];
	int rc;

	rc = begin_message(codec, flow, buf, cap);
	if (rc != 0)
		return rc;

	/* fill_value() returns 0 or an avro-c errno value, never an fs_result. */
	rc = fill_value(&v->value, flow);
	if (rc == 0)
		rc = fs_avro_single_object_write_body(codec->writer, &v->value, buf, cap, out_len);
	if (rc == 0 || rc == FS_ERR_FULL)
		return rc;
	fs_log_limited(&avro_failure_limit, FS_LOG_ERR, FACILITY,
		       "avro-c failed to encode a flow: %s", avro_strerror());
	return FS_ERR_SYSTEM;
}

/* ---- body check ---- */

/* Reads a zigzag varint of at most max_bytes bytes. */
static int
read_varint(struct cursor *c, int max_bytes, int64_t *out)
{
	return fs_avro_varint_read(&c->p, c->end, max_bytes, out);
}

static int
skip_bytes(struct cursor *c, int64_t count)
{
	if (count < 0)
		return FS_ERR_INVALID;
	if ((uint64_t)count > (size_t)(c->end - c->p))
		return FS_ERR_TRUNCATED;
	c->p += count;
	return 0;
}

static int check_datum(struct cursor *c, avro_schema_t schema, int depth);

/*
 * Checks the blocks of an array or a map.  Items of null type take no
 * input bytes, so the item count of the whole message is limited instead.
 */
static int
check_blocks(struct cursor *c, avro_schema_t items, bool is_map, int depth)
{
	for (;;) {
		int64_t count;
		int64_t block_size;
		int rc;

		rc = read_varint(c, 10, &count);
		if (rc != 0)
			return rc;
		if (count == 0)
			return 0;
		if (count < 0) {
			if (count == INT64_MIN)
				return FS_ERR_INVALID;
			count = -count;
			rc = read_varint(c, 10, &block_size);
			if (rc != 0)
				return rc;
			if (block_size < 0)
				return FS_ERR_INVALID;
		}
		if (count > FS_FLOW_CODEC_MAX_ITEMS - c->items)
			return FS_ERR_INVALID;
		c->items += count;

		for (int64_t i = 0; i < count; i++) {
			if (is_map) {
				int64_t key_len;

				rc = read_varint(c, 10, &key_len);
				if (rc == 0)
					rc = skip_bytes(c, key_len);
				if (rc != 0)
					return rc;
			}
			rc = check_datum(c, items, depth + 1);
			if (rc != 0)
				return rc;
		}
	}
}

/*
 * Checks that one datum of schema starts at c and advances past it: every
 * length fits the input, and every enum and union index is in range.  This
 * is what lets avro-c read the body without running out of input or
 * allocating a hostile length.
 */
static int
check_datum(struct cursor *c, avro_schema_t schema, int depth)
{
	int64_t value;
	int rc;

	if (depth > MAX_DATUM_DEPTH)
		return FS_ERR_INVALID;
	schema = skip_links(schema);

	switch (avro_typeof(schema)) {
	case AVRO_NULL:
		return 0;
	case AVRO_BOOLEAN:
		if (c->p == c->end)
			return FS_ERR_TRUNCATED;
		return *c->p++ <= 1 ? 0 : FS_ERR_INVALID;
	case AVRO_INT32:
		rc = read_varint(c, 5, &value);
		if (rc == 0 && (value < INT32_MIN || value > INT32_MAX))
			rc = FS_ERR_INVALID;
		return rc;
	case AVRO_INT64:
		return read_varint(c, 10, &value);
	case AVRO_FLOAT:
		return skip_bytes(c, 4);
	case AVRO_DOUBLE:
		return skip_bytes(c, 8);
	case AVRO_BYTES:
	case AVRO_STRING:
		rc = read_varint(c, 10, &value);
		return rc != 0 ? rc : skip_bytes(c, value);
	case AVRO_FIXED:
		return skip_bytes(c, avro_schema_fixed_size(schema));
	case AVRO_ENUM:
		rc = read_varint(c, 10, &value);
		if (rc == 0 && (value < 0 || value >= avro_schema_enum_number_of_symbols(schema)))
			rc = FS_ERR_INVALID;
		return rc;
	case AVRO_UNION:
		rc = read_varint(c, 10, &value);
		if (rc != 0)
			return rc;
		if (value < 0 || (uint64_t)value >= avro_schema_union_size(schema))
			return FS_ERR_INVALID;
		return check_datum(c, avro_schema_union_branch(schema, (int)value), depth + 1);
	case AVRO_RECORD:
		for (size_t i = 0; i < avro_schema_record_size(schema); i++) {
			rc = check_datum(c, avro_schema_record_field_get_by_index(schema, (int)i),
					 depth + 1);
			if (rc != 0)
				return rc;
		}
		return 0;
	case AVRO_ARRAY:
		return check_blocks(c, avro_schema_array_items(schema), false, depth);
	case AVRO_MAP:
		return check_blocks(c, avro_schema_map_values(schema), true, depth);
	default:
		return FS_ERR_UNSUPPORTED;
	}
}

/* ---- decoding ---- */

/*
 * Appends the items of the EnterpriseElement array v to flow.  Returns
 * FS_ERR_INVALID when a value is out of range or the items do not fit
 * struct fs_flow (FS_FLOW_MAX_ENTERPRISE_ELEMENTS, FS_FLOW_ENTERPRISE_BYTES).
 */
static int
get_enterprise_elements(avro_value_t *v, struct fs_flow *flow)
{
	size_t count;

	if (avro_value_get_size(v, &count) != 0 || count > FS_FLOW_MAX_ENTERPRISE_ELEMENTS)
		return FS_ERR_INVALID;
	for (size_t i = 0; i < count; i++) {
		avro_value_t item, field;
		const void *bytes;
		size_t size;
		int64_t enterprise;
		int32_t element_id;

		if (avro_value_get_by_index(v, i, &item, NULL) != 0 ||
		    avro_value_get_by_name(&item, "enterprise", &field, NULL) != 0 ||
		    avro_value_get_long(&field, &enterprise) != 0 ||
		    avro_value_get_by_name(&item, "element_id", &field, NULL) != 0 ||
		    avro_value_get_int(&field, &element_id) != 0 ||
		    avro_value_get_by_name(&item, "value", &field, NULL) != 0 ||
		    avro_value_get_bytes(&field, &bytes, &size) != 0)
			return FS_ERR_INVALID;
		if (enterprise < 0 || enterprise > UINT32_MAX || element_id < 0 ||
		    element_id > UINT16_MAX)
			return FS_ERR_INVALID;
		if (!fs_flow_add_enterprise(flow, (uint32_t)enterprise, (uint16_t)element_id,
					    bytes, size, FS_FLOW_MAX_ENTERPRISE_ELEMENTS))
			return FS_ERR_INVALID;
	}
	return 0;
}

static int
get_field_value(const struct schema_version *version, avro_value_t *v,
		struct fs_flow *flow, const struct field_desc *desc)
{
	const struct enum_map *map;
	void *p = (char *)flow + desc->offset;
	const void *bytes;
	size_t size;
	int32_t i32;
	int64_t i64;
	int symbol;

	switch (desc->kind) {
	case KIND_ENUM:
		/* The value contains the writer's symbol index (see enum_map). */
		map = &version->enum_map[desc->slot];
		if (avro_value_get_enum(v, &symbol) != 0 || symbol < 0 || symbol >= map->count ||
		    map->current[symbol] < 0)
			return FS_ERR_INVALID;
		*(uint8_t *)p = (uint8_t)map->current[symbol];
		return 0;
	case KIND_STRING:
		/* avro-c's size counts the NUL it appends. */
		if (avro_value_get_string(v, (const char **)&bytes, &size) != 0 || size == 0)
			return FS_ERR_INVALID;
		size--;
		/* Too long, or not UTF-8 without control characters and NULs. */
		if (size >= desc->size || fs_flow_set_text(p, desc->size, bytes, size) != size ||
		    memcmp(p, bytes, size) != 0)
			return FS_ERR_INVALID;
		return 0;
	case KIND_ADDR:
		if (avro_value_get_bytes(v, &bytes, &size) != 0)
			return FS_ERR_INVALID;
		if (size == 4)
			fs_addr_set_v4(p, bytes);
		else if (size == 16)
			fs_addr_set_v6(p, bytes);
		else if (size == 0)
			memset(p, 0, sizeof(struct fs_addr));
		else
			return FS_ERR_INVALID;
		return 0;
	case KIND_MAC:
		if (avro_value_get_bytes(v, &bytes, &size) != 0 || size != 6)
			return FS_ERR_INVALID;
		memcpy(p, bytes, 6);
		return 0;
	case KIND_U8:
	case KIND_U16:
		if (avro_value_get_int(v, &i32) != 0 || i32 < 0 ||
		    i32 > (desc->kind == KIND_U8 ? UINT8_MAX : UINT16_MAX))
			return FS_ERR_INVALID;
		if (desc->kind == KIND_U8)
			*(uint8_t *)p = (uint8_t)i32;
		else
			*(uint16_t *)p = (uint16_t)i32;
		return 0;
	case KIND_U32:
		if (avro_value_get_long(v, &i64) != 0 || i64 < 0 || i64 > UINT32_MAX)
			return FS_ERR_INVALID;
		*(uint32_t *)p = (uint32_t)i64;
		return 0;
	case KIND_U64:
		if (avro_value_get_long(v, &i64) != 0)
			return FS_ERR_INVALID;
		*(uint64_t *)p = (uint64_t)i64;
		return 0;
	case KIND_I64:
		if (avro_value_get_long(v, &i64) != 0)
			return FS_ERR_INVALID;
		*(int64_t *)p = i64;
		return 0;
	case KIND_ENTERPRISE:
		return get_enterprise_elements(v, flow);
	}
	return FS_ERR_INVALID;
}

/* Copies the decoded record of v into flow. */
static int
extract_flow(struct schema_version *v, struct fs_flow *flow)
{
	fs_flow_clear(flow);
	for (size_t i = 0; i < FIELD_COUNT; i++) {
		const struct field_desc *desc = &flow_fields[i];
		avro_value_t field;
		avro_value_t branch;
		int rc;

		if (v->field_index[i] < 0)
			continue;      /* not in the writer schema: stays null */
		if (avro_value_get_by_index(&v->value, (size_t)v->field_index[i], &field, NULL) != 0)
			return FS_ERR_INVALID;
		if (desc->bit != 0) {
			if (avro_value_get_current_branch(&field, &branch) != 0)
				return FS_ERR_INVALID;
			if (avro_value_get_type(&branch) == AVRO_NULL)
				continue;
			flow->present |= desc->bit;
			rc = get_field_value(v, &branch, flow, desc);
		} else {
			rc = get_field_value(v, &field, flow, desc);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * Checks the single-object header of buf and finds the writer schema.
 * Returns 0 and the version in *out, or FS_ERR_TRUNCATED, FS_ERR_INVALID or
 * FS_ERR_UNSUPPORTED.
 */
static int
find_message_version(struct fs_flow_codec *codec, const uint8_t *buf, size_t len,
		     struct schema_version **out)
{
	uint64_t fp;
	int rc = fs_avro_single_object_read_header(buf, len, &fp);

	if (rc < 0)
		return rc;

	*out = (struct schema_version *)find_version(codec, fp);
	return *out == NULL ? FS_ERR_UNSUPPORTED : 0;
}

/*
 * Decodes the first flow of buf, written with v, through avro-c, and stores
 * its length with the header in *used once the body's structure is checked,
 * even when the values then turn out invalid.
 */
static int
decode_with_avro_c(struct fs_flow_codec *codec, struct schema_version *v, const uint8_t *buf,
		   size_t len, struct fs_flow *out, size_t *used)
{
	struct cursor c;
	int rc;

	c.p = buf + FS_FLOW_CODEC_HEADER_LEN;
	c.end = buf + len;
	c.items = 0;
	rc = check_datum(&c, v->writer, 0);
	if (rc != 0)
		return rc;
	*used = (size_t)(c.p - buf);

	avro_reader_memory_set_source(codec->reader, (const char *)buf + FS_FLOW_CODEC_HEADER_LEN,
				      (int64_t)(*used - FS_FLOW_CODEC_HEADER_LEN));
	rc = avro_value_read(codec->reader, v->resolver != NULL ? &v->resolved : &v->value);
	if (rc != 0) {
		avro_value_reset(&v->value);
		return FS_ERR_INVALID;     /* e.g. an enum symbol the reader lacks */
	}
	rc = extract_flow(v, out);
	/*
	 * avro-c 1.11 reads each string or bytes field into a new buffer that the
	 * value keeps; resetting frees them, so a long-running reader does not
	 * grow by the strings of every message.
	 */
	avro_value_reset(&v->value);
	return rc;
}

/*
 * Decodes the first flow of buf (len bytes) and stores its length with the
 * header in *used whenever the flow's end is known, on success and on a
 * value out of range.  generic selects avro-c for every schema version.
 */
static int
decode_first(struct fs_flow_codec *codec, const uint8_t *buf, size_t len, struct fs_flow *out,
	     bool generic, size_t *used)
{
	struct schema_version *v;
	size_t body = 0;
	int rc;

	rc = find_message_version(codec, buf, len, &v);
	if (rc != 0)
		return rc;
	if (generic || v != &codec->versions[0])
		return decode_with_avro_c(codec, v, buf, len, out, used);

	/* The current schema needs no resolution: read it directly. */
	fs_flow_clear(out);
	rc = fs_avro_read_record_prefix(&codec->layout, buf + FS_FLOW_CODEC_HEADER_LEN,
					len - FS_FLOW_CODEC_HEADER_LEN, out, &body);
	if (rc == 0 || body > 0)
		*used = FS_FLOW_CODEC_HEADER_LEN + body;
	return rc;
}

/* Decodes buf as exactly one flow. */
static int
decode_one(struct fs_flow_codec *codec, const uint8_t *buf, size_t len, struct fs_flow *out,
	   bool generic)
{
	size_t used = 0;
	int rc = decode_first(codec, buf, len, out, generic, &used);

	if (rc == 0 && used != len)
		return FS_ERR_INVALID;
	return rc;
}

int
fs_flow_codec_decode(struct fs_flow_codec *codec, const uint8_t *buf, size_t len,
		     struct fs_flow *out)
{
	return decode_one(codec, buf, len, out, false);
}

int
fs_flow_codec_decode_generic(struct fs_flow_codec *codec, const uint8_t *buf, size_t len,
			     struct fs_flow *out)
{
	return decode_one(codec, buf, len, out, true);
}

/*
 * Returns where the flow after a broken one at buf + from begins: the next
 * C3 01 followed by the fingerprint of a registered schema or by the broken
 * flow's own unknown fingerprint.  The latter makes a message written with
 * a newer schema lose its flows one by one, each one counted.  C3 01 alone
 * is no boundary, because an address such as 195.1.0.0 contains it.
 * Returns len when no flow follows.
 */
static size_t
find_next_flow(const struct fs_flow_codec *codec, const uint8_t *buf, size_t len, size_t from)
{
	bool unknown = false;
	uint64_t broken = 0;

	if (len - from >= FS_FLOW_CODEC_HEADER_LEN &&
	    memcmp(buf + from, fs_avro_single_object_marker,
		   sizeof(fs_avro_single_object_marker)) == 0) {
		broken = fs_avro_single_object_fingerprint(buf + from);
		unknown = find_version(codec, broken) == NULL;
	}
	for (size_t p = from + 1; p + FS_FLOW_CODEC_HEADER_LEN <= len; p++) {
		const uint8_t *c3 = memchr(buf + p, fs_avro_single_object_marker[0],
					   len - FS_FLOW_CODEC_HEADER_LEN + 1 - p);
		uint64_t fp;

		if (c3 == NULL)
			break;
		p = (size_t)(c3 - buf);
		if (buf[p + 1] != fs_avro_single_object_marker[1])
			continue;
		fp = fs_avro_single_object_fingerprint(buf + p);
		if (find_version(codec, fp) != NULL || (unknown && fp == broken))
			return p;
	}
	return len;
}

int
fs_flow_codec_decode_next(struct fs_flow_codec *codec, const uint8_t *buf, size_t len,
			  size_t *pos, struct fs_flow *out)
{
	size_t used = 0;
	int rc;

	if (*pos >= len) {
		*pos = len;
		return FS_ERR_TRUNCATED;
	}
	rc = decode_first(codec, buf + *pos, len - *pos, out, false, &used);
	*pos = used > 0 ? *pos + used : find_next_flow(codec, buf, len, *pos);
	return rc;
}

int
fs_flow_codec_decode_each(struct fs_flow_codec *codec, const uint8_t *buf, size_t len,
			  fs_flow_codec_each_fn *fn, void *opaque, uint64_t *rejected)
{
	struct fs_flow flow;
	size_t pos = 0;

	do {
		int rc = fs_flow_codec_decode_next(codec, buf, len, &pos, &flow);

		if (rc < 0) {
			if (rejected)
				(*rejected)++;
			continue;
		}
		rc = fn(&flow, opaque);
		if (rc != 0)
			return rc;
	} while (pos < len);
	return 0;
}
