/*
 * error_text.h - writes the reason of a failure into a caller's buffer.
 *
 * Functions in pkg/ that report why they failed take a buffer err of
 * err_len bytes and return a result code (core/result.h).  fs_fail() does
 * both in one statement: `return fs_fail(err, err_len, FS_ERR_INVALID,
 * "line %u: ...", n);`.
 */
#ifndef FS_CORE_ERROR_TEXT_H
#define FS_CORE_ERROR_TEXT_H

#include <stddef.h>

/*
 * Formats fmt into err[0..err_len), truncated to fit, and returns rc.  err
 * may be NULL or err_len 0: then only rc is returned.
 */
int fs_fail(char *err, size_t err_len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
