/*
 * form.c - urlencoded name/value pairs, decoded into a fixed buffer.
 */
#include "console/form.h"

#include <stdio.h>
#include <string.h>

#include "core/result.h"
#include "decode/cursor.h"

void
fs_console_form_init(struct fs_console_form *form)
{
	form->count = 0;
	form->used = 0;
}

static int
hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes the urlencoded bytes of cur into form->buf at form->used, adds a
 * NUL and stores the decoded length in *out_len.  Returns 0, FS_ERR_INVALID
 * or FS_ERR_FULL with err set.
 */
static int
decode_part(struct fs_console_form *form, struct fs_cursor *cur, const char *what,
	    size_t *out_len, char *err, size_t err_len)
{
	size_t start = form->used;

	while (fs_cursor_remaining(cur) > 0) {
		uint8_t c = fs_cursor_get_u8(cur);

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (fs_cursor_remaining(cur) < 2) {
				snprintf(err, err_len, "invalid %%-escape at the end of a %s", what);
				return FS_ERR_INVALID;
			}
			hi = hex_value(fs_cursor_get_u8(cur));
			lo = hex_value(fs_cursor_get_u8(cur));
			if (hi < 0 || lo < 0) {
				snprintf(err, err_len, "invalid %%-escape in a %s: expected two hex digits", what);
				return FS_ERR_INVALID;
			}
			c = (uint8_t)(hi * 16 + lo);
			if (c == 0) {
				snprintf(err, err_len, "invalid %s: it contains a NUL byte (%%00)", what);
				return FS_ERR_INVALID;
			}
		}
		/* One byte for c and one for the final NUL. */
		if (form->used + 2 > sizeof(form->buf)) {
			snprintf(err, err_len, "request fields exceed %u bytes", FS_CONSOLE_FORM_MAX_BYTES);
			return FS_ERR_FULL;
		}
		form->buf[form->used++] = (char)c;
	}
	if (form->used + 1 > sizeof(form->buf)) {
		snprintf(err, err_len, "request fields exceed %u bytes", FS_CONSOLE_FORM_MAX_BYTES);
		return FS_ERR_FULL;
	}
	form->buf[form->used++] = '\0';
	*out_len = form->used - start - 1;
	return 0;
}

/* Checks the name just decoded at offset name (len bytes) and records the field. */
static int
commit_field(struct fs_console_form *form, size_t name, size_t name_len, size_t value,
	     size_t value_len, char *err, size_t err_len)
{
	if (name_len == 0) {
		snprintf(err, err_len, "invalid request field: the name is empty");
		return FS_ERR_INVALID;
	}
	if (name_len > FS_CONSOLE_FORM_NAME_MAX) {
		snprintf(err, err_len, "invalid request field: a name is longer than %u bytes",
			 FS_CONSOLE_FORM_NAME_MAX);
		return FS_ERR_INVALID;
	}
	if (strlen(form->buf + name) != name_len) {
		snprintf(err, err_len, "invalid request field name: it contains a NUL byte");
		return FS_ERR_INVALID;
	}
	if (fs_console_form_get(form, form->buf + name)) {
		snprintf(err, err_len, "invalid request: field '%s' is given more than once",
			 form->buf + name);
		return FS_ERR_INVALID;
	}
	if (form->count >= FS_CONSOLE_FORM_MAX_FIELDS) {
		snprintf(err, err_len, "request has more than %u fields", FS_CONSOLE_FORM_MAX_FIELDS);
		return FS_ERR_FULL;
	}
	form->fields[form->count].name = name;
	form->fields[form->count].value = value;
	form->fields[form->count].value_len = value_len;
	form->count++;
	return 0;
}

/* Parses one "name=value" pair (the bytes of pair, without '&'). */
static int
parse_pair(struct fs_console_form *form, struct fs_cursor *pair, char *err, size_t err_len)
{
	const uint8_t *eq = memchr(pair->p, '=', fs_cursor_remaining(pair));
	size_t name_bytes = eq ? (size_t)(eq - pair->p) : fs_cursor_remaining(pair);
	struct fs_cursor name_cur = fs_cursor_child(pair, name_bytes);
	size_t used = form->used;
	size_t name = form->used, name_len, value, value_len;
	int rc;

	rc = decode_part(form, &name_cur, "field name", &name_len, err, err_len);
	if (rc < 0)
		goto fail;
	if (eq)
		fs_cursor_skip(pair, 1);
	value = form->used;
	rc = decode_part(form, pair, "field value", &value_len, err, err_len);
	if (rc < 0)
		goto fail;
	rc = commit_field(form, name, name_len, value, value_len, err, err_len);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	form->used = used;
	return rc;
}

int
fs_console_form_parse(struct fs_console_form *form, const char *text, size_t len,
		      char *err, size_t err_len)
{
	struct fs_cursor cur;

	if (len > FS_CONSOLE_FORM_MAX_BYTES) {
		snprintf(err, err_len, "request fields exceed %u bytes", FS_CONSOLE_FORM_MAX_BYTES);
		return FS_ERR_FULL;
	}
	fs_cursor_init(&cur, (const uint8_t *)text, len);
	while (fs_cursor_remaining(&cur) > 0) {
		const uint8_t *amp = memchr(cur.p, '&', fs_cursor_remaining(&cur));
		size_t pair_len = amp ? (size_t)(amp - cur.p) : fs_cursor_remaining(&cur);
		struct fs_cursor pair = fs_cursor_child(&cur, pair_len);
		int rc;

		if (amp)
			fs_cursor_skip(&cur, 1);
		if (pair_len == 0)
			continue;
		rc = parse_pair(form, &pair, err, err_len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
fs_console_form_add(struct fs_console_form *form, const char *name, const char *value,
		    size_t value_len, char *err, size_t err_len)
{
	size_t name_len = strlen(name);
	size_t used = form->used;
	size_t name_off, value_off;
	int rc;

	if (name_len + value_len + 2 > sizeof(form->buf) - form->used) {
		snprintf(err, err_len, "request fields exceed %u bytes", FS_CONSOLE_FORM_MAX_BYTES);
		return FS_ERR_FULL;
	}
	if (memchr(value, '\0', value_len)) {
		snprintf(err, err_len, "invalid value of field '%.32s': it contains a NUL byte", name);
		return FS_ERR_INVALID;
	}
	name_off = form->used;
	memcpy(form->buf + form->used, name, name_len + 1);
	form->used += name_len + 1;
	value_off = form->used;
	memcpy(form->buf + form->used, value, value_len);
	form->buf[form->used + value_len] = '\0';
	form->used += value_len + 1;
	rc = commit_field(form, name_off, name_len, value_off, value_len, err, err_len);
	if (rc < 0)
		form->used = used;
	return rc;
}

const char *
fs_console_form_unknown(const struct fs_console_form *form, const char *const *names)
{
	for (size_t i = 0; i < form->count; i++) {
		const char *name = form->buf + form->fields[i].name;
		size_t j = 0;

		while (names[j] && strcmp(names[j], name) != 0)
			j++;
		if (names[j] == NULL)
			return name;
	}
	return NULL;
}

const char *
fs_console_form_get(const struct fs_console_form *form, const char *name)
{
	for (size_t i = 0; i < form->count; i++) {
		if (strcmp(form->buf + form->fields[i].name, name) == 0)
			return form->buf + form->fields[i].value;
	}
	return NULL;
}
