/* error_text.c - formats the reason of a failure for the caller. */
#include "core/error_text.h"

#include <stdarg.h>
#include <stdio.h>

int
fs_fail(char *err, size_t err_len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}
