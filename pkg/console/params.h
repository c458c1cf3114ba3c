/*
 * params.h - typed, range-checked values of a console request's fields.
 *
 * Each getter reads one field of a form (form.h).  An absent or empty field
 * gives the default.  A present one must parse completely and lie in range.
 * Otherwise the getter returns FS_ERR_INVALID with a message that names the
 * field, the value (cut to 64 bytes) and what is accepted.
 */
#ifndef FS_CONSOLE_PARAMS_H
#define FS_CONSOLE_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "console/form.h"
#include "core/flow.h"
#include "redis/topn.h"

/* Reads a decimal integer in min..max. */
int fs_console_param_int(const struct fs_console_form *form, const char *name, int64_t def,
			 int64_t min, int64_t max, int64_t *out, char *err, size_t err_len);

/* Reads a top-N dimension, metric or window name (redis/topn.h). */
int fs_console_param_dim(const struct fs_console_form *form, const char *name,
			 enum fs_topn_dim def, enum fs_topn_dim *out, char *err, size_t err_len);
int fs_console_param_metric(const struct fs_console_form *form, const char *name,
			    enum fs_topn_metric def, enum fs_topn_metric *out, char *err,
			    size_t err_len);
int fs_console_param_window(const struct fs_console_form *form, const char *name,
			    enum fs_topn_window def, enum fs_topn_window *out, char *err,
			    size_t err_len);

/* Reads a required IPv4 or IPv6 address; an absent field is an error. */
int fs_console_param_addr(const struct fs_console_form *form, const char *name,
			  struct fs_addr *out, char *err, size_t err_len);

/*
 * Reads a text field of at most max_len bytes that is valid UTF-8; an
 * absent field gives "".  *out borrows from form.
 */
int fs_console_param_text(const struct fs_console_form *form, const char *name,
			  size_t max_len, const char **out, char *err, size_t err_len);

#endif
