/* fingerprint.c - Avro Parsing Canonical Form and CRC-64-AVRO. */
#include "avro/fingerprint.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/result.h"

/* A growing output string; oom is set once an allocation fails. */
struct strbuf {
	char *data;
	size_t len;
	size_t cap;
	bool oom;
};

/* A namespace: a slice of a full name, or empty for the null namespace. */
struct name_space {
	const char *text;
	size_t len;
};

struct canon_state {
	struct strbuf out;
	char *err;
	size_t err_len;
};

static const char *const primitive_names[] = {
	"null", "boolean", "int", "long", "float", "double", "bytes", "string",
};

/*
 * The bitwise form of the Rabin fingerprint: fingerprints are computed when
 * schemas are registered, not per record, so no table is kept.
 */
uint64_t
fs_avro_crc64(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t fp = FS_AVRO_CRC64_EMPTY;

	for (size_t i = 0; i < len; i++) {
		fp ^= p[i];
		for (int bit = 0; bit < 8; bit++)
			fp = (fp >> 1) ^ (FS_AVRO_CRC64_EMPTY & (0 - (fp & 1)));
	}
	return fp;
}

static void
strbuf_append(struct strbuf *sb, const char *text, size_t len)
{
	if (sb->oom)
		return;
	if (sb->len + len + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 256;
		char *grown;

		while (sb->len + len + 1 > cap)
			cap *= 2;
		grown = realloc(sb->data, cap);
		if (grown == NULL) {
			sb->oom = true;
			return;
		}
		sb->data = grown;
		sb->cap = cap;
	}
	memcpy(sb->data + sb->len, text, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

static void
strbuf_puts(struct strbuf *sb, const char *text)
{
	strbuf_append(sb, text, strlen(text));
}

/*
 * Appends text as a JSON string literal.  Only '"', '\\' and control
 * characters are escaped; other bytes, UTF-8 included, are copied as the
 * canonical form requires.
 */
static void
strbuf_put_string(struct strbuf *sb, const char *text, size_t len)
{
	strbuf_append(sb, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		char escaped[8];

		if (c == '"' || c == '\\') {
			escaped[0] = '\\';
			escaped[1] = (char)c;
			strbuf_append(sb, escaped, 2);
		} else if (c < 0x20) {
			snprintf(escaped, sizeof(escaped), "\\u%04x", c);
			strbuf_append(sb, escaped, 6);
		} else {
			strbuf_append(sb, &text[i], 1);
		}
	}
	strbuf_append(sb, "\"", 1);
}

static int
canon_error(struct canon_state *st, const char *fmt, ...)
{
	va_list ap;

	if (st->err != NULL && st->err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(st->err, st->err_len, fmt, ap);
		va_end(ap);
	}
	return FS_ERR_INVALID;
}

static bool
is_primitive(const char *name)
{
	for (size_t i = 0; i < sizeof(primitive_names) / sizeof(primitive_names[0]); i++) {
		if (strcmp(name, primitive_names[i]) == 0)
			return true;
	}
	return false;
}

/*
 * Appends the full name of name as a JSON string and stores the namespace
 * that the named type sets for its children in *child_ns.  A name with a dot
 * is already a full name; otherwise explicit_ns (the "namespace" attribute,
 * may be NULL) or else the enclosing namespace qualifies it.  *child_ns
 * points into *full, which the caller frees.
 */
static int
put_full_name(struct canon_state *st, const char *name, const json_t *explicit_ns,
	      struct name_space enclosing, char **full, struct name_space *child_ns)
{
	const char *ns = enclosing.text;
	size_t ns_len = enclosing.len;
	size_t name_len = strlen(name);
	const char *last_dot;

	if (strchr(name, '.') == NULL && explicit_ns != NULL) {
		if (!json_is_string(explicit_ns))
			return canon_error(st, "invalid schema: namespace of '%s' is not a string", name);
		ns = json_string_value(explicit_ns);
		ns_len = strlen(ns);
	}
	if (strchr(name, '.') != NULL)
		ns_len = 0;

	*full = malloc(ns_len + 1 + name_len + 1);
	if (*full == NULL)
		return FS_ERR_SYSTEM;
	if (ns_len > 0) {
		memcpy(*full, ns, ns_len);
		(*full)[ns_len] = '.';
		memcpy(*full + ns_len + 1, name, name_len + 1);
	} else {
		memcpy(*full, name, name_len + 1);
	}

	last_dot = strrchr(*full, '.');
	child_ns->text = *full;
	child_ns->len = last_dot != NULL ? (size_t)(last_dot - *full) : 0;
	strbuf_put_string(&st->out, *full, strlen(*full));
	return 0;
}

static int canon_schema(struct canon_state *st, const json_t *schema,
			struct name_space ns, int depth);

/* Appends a type name: a primitive as is, any other name as a full name. */
static int
canon_type_name(struct canon_state *st, const char *name, struct name_space ns)
{
	char *full = NULL;
	struct name_space unused;
	int rc;

	if (name[0] == '\0')
		return canon_error(st, "invalid schema: empty type name");
	if (is_primitive(name)) {
		strbuf_put_string(&st->out, name, strlen(name));
		return 0;
	}
	rc = put_full_name(st, name, NULL, ns, &full, &unused);
	free(full);
	return rc;
}

static int
canon_fields(struct canon_state *st, const json_t *fields, struct name_space ns,
	     int depth)
{
	size_t i;
	const json_t *field;

	if (!json_is_array(fields))
		return canon_error(st, "invalid schema: record \"fields\" is not an array");

	strbuf_puts(&st->out, ",\"fields\":[");
	json_array_foreach(fields, i, field) {
		const json_t *name = json_object_get(field, "name");
		const json_t *type = json_object_get(field, "type");
		int rc;

		if (!json_is_object(field) || !json_is_string(name) || type == NULL)
			return canon_error(st, "invalid schema: record field %zu needs \"name\" and \"type\"", i);
		if (i > 0)
			strbuf_puts(&st->out, ",");
		strbuf_puts(&st->out, "{\"name\":");
		strbuf_put_string(&st->out, json_string_value(name), json_string_length(name));
		strbuf_puts(&st->out, ",\"type\":");
		rc = canon_schema(st, type, ns, depth + 1);
		if (rc != 0)
			return rc;
		strbuf_puts(&st->out, "}");
	}
	strbuf_puts(&st->out, "]");
	return 0;
}

static int
canon_symbols(struct canon_state *st, const json_t *symbols)
{
	size_t i;
	const json_t *symbol;

	if (!json_is_array(symbols))
		return canon_error(st, "invalid schema: enum \"symbols\" is not an array");

	strbuf_puts(&st->out, ",\"symbols\":[");
	json_array_foreach(symbols, i, symbol) {
		if (!json_is_string(symbol))
			return canon_error(st, "invalid schema: enum symbol %zu is not a string", i);
		if (i > 0)
			strbuf_puts(&st->out, ",");
		strbuf_put_string(&st->out, json_string_value(symbol), json_string_length(symbol));
	}
	strbuf_puts(&st->out, "]");
	return 0;
}

/* Appends the "size" of a fixed type, given as a JSON integer or digit string. */
static int
canon_size(struct canon_state *st, const json_t *size)
{
	unsigned long long value;
	char text[32];

	if (json_is_integer(size) && json_integer_value(size) >= 0) {
		value = (unsigned long long)json_integer_value(size);
	} else if (json_is_string(size) && json_string_length(size) > 0 &&
		   strspn(json_string_value(size), "0123456789") == json_string_length(size)) {
		value = strtoull(json_string_value(size), NULL, 10);
	} else {
		return canon_error(st, "invalid schema: fixed \"size\" is not a non-negative integer");
	}
	snprintf(text, sizeof(text), ",\"size\":%llu", value);
	strbuf_puts(&st->out, text);
	return 0;
}

/* Appends a record, error, enum or fixed definition. */
static int
canon_named(struct canon_state *st, const json_t *schema, const char *type,
	    struct name_space ns, int depth)
{
	const json_t *name = json_object_get(schema, "name");
	struct name_space child_ns;
	char *full = NULL;
	int rc;

	if (!json_is_string(name) || json_string_length(name) == 0)
		return canon_error(st, "invalid schema: %s has no \"name\"", type);

	strbuf_puts(&st->out, "{\"name\":");
	rc = put_full_name(st, json_string_value(name), json_object_get(schema, "namespace"),
			   ns, &full, &child_ns);
	if (rc != 0)
		goto out;
	strbuf_puts(&st->out, ",\"type\":");
	strbuf_put_string(&st->out, type, strlen(type));

	if (strcmp(type, "enum") == 0)
		rc = canon_symbols(st, json_object_get(schema, "symbols"));
	else if (strcmp(type, "fixed") == 0)
		rc = canon_size(st, json_object_get(schema, "size"));
	else
		rc = canon_fields(st, json_object_get(schema, "fields"), child_ns, depth);
	if (rc != 0)
		goto out;
	strbuf_puts(&st->out, "}");

out:
	free(full);
	return rc;
}

static int
canon_object(struct canon_state *st, const json_t *schema, struct name_space ns,
	     int depth)
{
	const json_t *type_json = json_object_get(schema, "type");
	const char *type;
	int rc;

	if (!json_is_string(type_json))
		return canon_error(st, "invalid schema: object without a \"type\" string");
	type = json_string_value(type_json);

	if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0 ||
	    strcmp(type, "enum") == 0 || strcmp(type, "fixed") == 0)
		return canon_named(st, schema, type, ns, depth);

	if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
		bool is_array = type[0] == 'a';
		const json_t *child = json_object_get(schema, is_array ? "items" : "values");

		if (child == NULL)
			return canon_error(st, "invalid schema: %s has no \"%s\"", type,
					   is_array ? "items" : "values");
		strbuf_puts(&st->out, is_array ? "{\"type\":\"array\",\"items\":"
					       : "{\"type\":\"map\",\"values\":");
		rc = canon_schema(st, child, ns, depth + 1);
		if (rc != 0)
			return rc;
		strbuf_puts(&st->out, "}");
		return 0;
	}

	/* A primitive with attributes, or a reference to a named type. */
	return canon_type_name(st, type, ns);
}

static int
canon_schema(struct canon_state *st, const json_t *schema, struct name_space ns,
	     int depth)
{
	if (depth > FS_AVRO_MAX_SCHEMA_DEPTH)
		return canon_error(st, "invalid schema: nested deeper than %d levels",
				   FS_AVRO_MAX_SCHEMA_DEPTH);

	if (json_is_string(schema))
		return canon_type_name(st, json_string_value(schema), ns);

	if (json_is_array(schema)) {
		size_t i;
		const json_t *branch;

		strbuf_puts(&st->out, "[");
		json_array_foreach(schema, i, branch) {
			int rc;

			if (i > 0)
				strbuf_puts(&st->out, ",");
			rc = canon_schema(st, branch, ns, depth + 1);
			if (rc != 0)
				return rc;
		}
		strbuf_puts(&st->out, "]");
		return 0;
	}

	if (json_is_object(schema))
		return canon_object(st, schema, ns, depth);

	return canon_error(st, "invalid schema: expected a string, array or object");
}

int
fs_avro_canonical_form_json(const json_t *schema, char **out, char *err,
			    size_t err_len)
{
	struct canon_state st = { .err = err, .err_len = err_len };
	struct name_space top = { "", 0 };
	int rc;

	*out = NULL;
	rc = canon_schema(&st, schema, top, 0);
	if (rc == 0 && st.out.oom)
		rc = FS_ERR_SYSTEM;
	if (rc == FS_ERR_SYSTEM && err != NULL && err_len > 0)
		snprintf(err, err_len, "out of memory while writing the canonical form");
	if (rc != 0) {
		free(st.out.data);
		return rc;
	}
	*out = st.out.data;
	return 0;
}

int
fs_avro_canonical_form(const char *json, size_t len, char **out, char *err,
		       size_t err_len)
{
	json_error_t jerr;
	json_t *schema;
	int rc;

	*out = NULL;
	schema = json_loadb(json, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (schema == NULL) {
		if (err != NULL && err_len > 0)
			snprintf(err, err_len, "invalid schema JSON at line %d: %s",
				 jerr.line, jerr.text);
		return FS_ERR_INVALID;
	}
	rc = fs_avro_canonical_form_json(schema, out, err, err_len);
	json_decref(schema);
	return rc;
}

int
fs_avro_fingerprint(const char *json, size_t len, uint64_t *fingerprint,
		    char *err, size_t err_len)
{
	char *canonical;
	int rc;

	rc = fs_avro_canonical_form(json, len, &canonical, err, err_len);
	if (rc != 0)
		return rc;
	*fingerprint = fs_avro_crc64(canonical, strlen(canonical));
	free(canonical);
	return 0;
}
