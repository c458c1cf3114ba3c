/*
 * result.h - result codes shared by the libraries in pkg/.
 *
 * Functions return 0 on success or one of these negative codes, so callers can
 * tell "the input was cut short" from "the input is malformed" from "this is
 * valid but not handled" and count each outcome separately.
 */
#ifndef FS_CORE_RESULT_H
#define FS_CORE_RESULT_H

enum fs_result {
	FS_OK = 0,
	FS_ERR_TRUNCATED = -1,   /* input ends before a declared length */
	FS_ERR_INVALID = -2,     /* input contradicts its own format */
	FS_ERR_UNSUPPORTED = -3, /* well-formed input of a kind not handled */
	FS_ERR_NO_TEMPLATE = -4, /* data set whose template is unknown */
	FS_ERR_NEED_MORE = -5,   /* stream parser: wait for more bytes */
	FS_ERR_SYSTEM = -6,      /* out of memory, I/O or library failure */
	FS_ERR_FULL = -7,        /* a bounded queue or table is full */
	FS_ERR_NOT_FOUND = -8,   /* a lookup found nothing */
};

/* Returns a short lowercase name for a result code ("truncated", ...). */
static inline const char *
fs_result_name(int result)
{
	switch (result) {
	case FS_OK: return "ok";
	case FS_ERR_TRUNCATED: return "truncated";
	case FS_ERR_INVALID: return "invalid";
	case FS_ERR_UNSUPPORTED: return "unsupported";
	case FS_ERR_NO_TEMPLATE: return "no template";
	case FS_ERR_NEED_MORE: return "need more";
	case FS_ERR_SYSTEM: return "system error";
	case FS_ERR_FULL: return "full";
	case FS_ERR_NOT_FOUND: return "not found";
	}
	return "unknown";
}

#endif
