/*
 * params.c - typed values of console request fields.
 */
#include "console/params.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/result.h"

/* Returns the field's value, or NULL when it is absent or empty. */
static const char *
value_of(const struct fs_console_form *form, const char *name)
{
	const char *value = fs_console_form_get(form, name);

	return value && value[0] ? value : NULL;
}

static int
invalid(char *err, size_t err_len, const char *name, const char *value, const char *expected)
{
	snprintf(err, err_len, "invalid value '%.64s' of '%s': expected %s", value, name, expected);
	return FS_ERR_INVALID;
}

int
fs_console_param_int(const struct fs_console_form *form, const char *name, int64_t def,
		     int64_t min, int64_t max, int64_t *out, char *err, size_t err_len)
{
	const char *value = value_of(form, name);
	char expected[96];
	char *end;
	long long n;

	*out = def;
	if (!value)
		return 0;
	snprintf(expected, sizeof(expected), "an integer from %lld to %lld", (long long)min,
		 (long long)max);
	errno = 0;
	n = strtoll(value, &end, 10);
	if (errno != 0 || *end != '\0' || end == value || value[0] == ' ' || n < min || n > max)
		return invalid(err, err_len, name, value, expected);
	*out = n;
	return 0;
}

int
fs_console_param_dim(const struct fs_console_form *form, const char *name, enum fs_topn_dim def,
		     enum fs_topn_dim *out, char *err, size_t err_len)
{
	const char *value = value_of(form, name);

	*out = def;
	if (value && fs_topn_dim_parse(value, out) < 0)
		return invalid(err, err_len, name, value,
			       "a dimension such as src_addr, dst_addr, dst_port or conversation");
	return 0;
}

int
fs_console_param_metric(const struct fs_console_form *form, const char *name,
			enum fs_topn_metric def, enum fs_topn_metric *out, char *err, size_t err_len)
{
	const char *value = value_of(form, name);

	*out = def;
	if (value && fs_topn_metric_parse(value, out) < 0)
		return invalid(err, err_len, name, value, "bytes, packets or flows");
	return 0;
}

int
fs_console_param_window(const struct fs_console_form *form, const char *name,
			enum fs_topn_window def, enum fs_topn_window *out, char *err,
			size_t err_len)
{
	const char *value = value_of(form, name);

	*out = def;
	if (value && fs_topn_window_parse(value, out) < 0)
		return invalid(err, err_len, name, value, "1m, 5m, 1h or 24h");
	return 0;
}

int
fs_console_param_addr(const struct fs_console_form *form, const char *name, struct fs_addr *out,
		      char *err, size_t err_len)
{
	const char *value = value_of(form, name);

	memset(out, 0, sizeof(*out));
	if (!value) {
		snprintf(err, err_len, "missing field '%s': expected an IPv4 or IPv6 address", name);
		return FS_ERR_INVALID;
	}
	if (fs_addr_parse(out, value) < 0)
		return invalid(err, err_len, name, value, "an IPv4 or IPv6 address");
	return 0;
}

/* Returns true when s[0..len) is valid UTF-8 (no overlong forms, no surrogates). */
static bool
is_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

int
fs_console_param_text(const struct fs_console_form *form, const char *name, size_t max_len,
		      const char **out, char *err, size_t err_len)
{
	const char *value = fs_console_form_get(form, name);
	size_t len;

	*out = "";
	if (!value)
		return 0;
	len = strlen(value);
	if (len > max_len) {
		snprintf(err, err_len, "invalid value of '%s': longer than %zu bytes", name, max_len);
		return FS_ERR_INVALID;
	}
	if (!is_utf8((const unsigned char *)value, len)) {
		snprintf(err, err_len, "invalid value of '%s': not valid UTF-8", name);
		return FS_ERR_INVALID;
	}
	*out = value;
	return 0;
}
