/*
 * form.h - name/value pairs of an HTTP request: the query string or an
 * application/x-www-form-urlencoded body, bounded.
 *
 * A form contains at most FS_CONSOLE_FORM_MAX_FIELDS fields whose decoded
 * names and values together take at most FS_CONSOLE_FORM_MAX_BYTES bytes.
 * fs_console_form_parse() decodes "name=value&name2=value2": '+' is a
 * space, %XX is the byte XX, empty pairs ("a=1&&b=2") are skipped and a
 * pair without '=' has an empty value.  It rejects, with a message naming
 * the problem, an invalid %-escape, a decoded NUL byte, an empty or too
 * long name, a name given twice and input beyond the limits.  Values are
 * bytes: callers that need UTF-8 or numbers check them (params.h).
 *
 * Memory: struct fs_console_form is a fixed-size value owned by the caller
 * (about 9 KiB); nothing is allocated.
 */
#ifndef FS_CONSOLE_FORM_H
#define FS_CONSOLE_FORM_H

#include <stddef.h>

#define FS_CONSOLE_FORM_MAX_FIELDS 16u
#define FS_CONSOLE_FORM_MAX_BYTES 8192u  /* decoded names and values, NULs included */
#define FS_CONSOLE_FORM_NAME_MAX 32u     /* maximum name length, NUL excluded */

struct fs_console_form {
	size_t count;
	size_t used;                          /* bytes of buf in use */
	struct {
		size_t name;                  /* offsets into buf */
		size_t value;
		size_t value_len;
	} fields[FS_CONSOLE_FORM_MAX_FIELDS];
	char buf[FS_CONSOLE_FORM_MAX_BYTES];
};

/* Empties form. */
void fs_console_form_init(struct fs_console_form *form);

/*
 * Decodes the urlencoded text (len bytes, no NUL needed, borrowed) and adds
 * its fields to form.  Returns 0, FS_ERR_INVALID for malformed text or
 * FS_ERR_FULL when a limit is exceeded, with a message in err (err_len
 * bytes).  On error form keeps the fields added before the bad pair.
 */
int fs_console_form_parse(struct fs_console_form *form, const char *text, size_t len,
			  char *err, size_t err_len);

/*
 * Adds one already decoded field (name and value are copied; value_len
 * bytes of value).  Used for query arguments that libmicrohttpd decodes.
 * Same returns and checks as fs_console_form_parse().
 */
int fs_console_form_add(struct fs_console_form *form, const char *name,
			const char *value, size_t value_len, char *err, size_t err_len);

/* Returns the NUL-terminated value of name, or NULL when absent. */
const char *fs_console_form_get(const struct fs_console_form *form, const char *name);

/*
 * Returns the name of the first field that is not one of names (a
 * NULL-terminated list), or NULL when every field is.  A mistyped field
 * would otherwise be ignored and its default used without a word.
 */
const char *fs_console_form_unknown(const struct fs_console_form *form,
				    const char *const *names);

#endif
