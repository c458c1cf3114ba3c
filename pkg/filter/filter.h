/*
 * filter.h - the flowsift filter language: compile an expression once, then
 * test flows against it without allocating.
 *
 * The language (docs/filter.md has the full reference) reads like nfdump's:
 *
 *   src host 10.0.0.1 and dst port 25
 *   net 192.0.2.0/24 or net 2001:db8::/32
 *   proto tcp and port in [25 465 587] and not flags A
 *   bytes > 1m and duration >= 10000
 *   dst_port 1024-65535 and tcp_flags = S
 *
 * Compilation turns the text into a flat array of instructions: leaf tests
 * and forward jumps that short-circuit `and` and `or`.  fs_filter_match()
 * walks that array once with no recursion and no allocation, so one compiled
 * filter serves any number of flows.
 *
 * Named definitions (struct fs_filter_defs) let several expressions share a
 * sub-expression: after `mailservers = net 192.0.2.0/28` is added, the name
 * `mailservers` stands for that expression, and `src mailservers` applies
 * `src` to every primitive in it that has no direction of its own.
 *
 * Errors name the line and column, quote the line of the expression with a
 * caret under the problem and say what was expected, for example:
 *
 *   line 1, column 10: expected a port number (0..65535), a range such as
 *   1024-65535 or a list in [...], found 'smtp'
 *     dst port smtp
 *              ^
 *
 * Limits checked before allocating: FS_FILTER_MAX_TEXT bytes of text,
 * FS_FILTER_MAX_NODES primitives and operators, FS_FILTER_MAX_DEPTH nested
 * parentheses, `not` and definition references, FS_FILTER_MAX_LIST values
 * in one list.
 *
 * Thread safety: a compiled filter is read-only; any number of threads may
 * call fs_filter_match() on it at once.  Definitions are not locked.
 */
#ifndef FS_FILTER_FILTER_H
#define FS_FILTER_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

#define FS_FILTER_MAX_TEXT (64u * 1024u)
#define FS_FILTER_MAX_NODES 4096u
#define FS_FILTER_MAX_DEPTH 64u
#define FS_FILTER_MAX_LIST 1024u
#define FS_FILTER_NAME_MAX 64u

/* A compile error.  text contains the whole message, excerpt and caret. */
struct fs_filter_error {
	unsigned line;   /* 1-based line in the source text */
	unsigned column; /* 1-based column, in bytes */
	char text[1024];
};

/*
 * A source of expression text: the expression is buf[begin..end), and line
 * and column numbers count from the start of buf, so an expression cut from
 * a larger file reports positions in that file.  origin (may be NULL) is
 * put in front of error messages, for example a file name.
 */
struct fs_filter_source {
	const char *buf;
	size_t begin;
	size_t end;
	const char *origin;
};

struct fs_filter;
struct fs_filter_defs;

/* Creates an empty set of definitions.  Returns NULL when out of memory. */
struct fs_filter_defs *fs_filter_defs_new(void);

/* Frees defs and every definition in it; NULL is allowed. */
void fs_filter_defs_free(struct fs_filter_defs *defs);

/*
 * Compiles the expression of src and adds it to defs as name (name_len
 * bytes).  The expression may use definitions added before.  Everything is
 * copied, so src may be freed afterwards.  Returns 0, FS_ERR_INVALID with
 * err set (a syntax error, a name that is not an identifier or already
 * defined, or a keyword), or FS_ERR_SYSTEM when out of memory.
 */
int fs_filter_defs_add(struct fs_filter_defs *defs, const char *name,
		       size_t name_len, const struct fs_filter_source *src,
		       struct fs_filter_error *err);

/* Returns true when defs (may be NULL) contains name. */
bool fs_filter_defs_has(const struct fs_filter_defs *defs, const char *name,
			size_t name_len);

/*
 * Compiles the expression of src; defs (borrowed, may be NULL) resolves
 * names and is not needed after the call.  On success stores the filter,
 * which the caller frees with fs_filter_free(), in *out and returns 0.
 * Returns FS_ERR_INVALID with err set when the text is not a valid
 * expression or exceeds a limit, or FS_ERR_SYSTEM when out of memory.
 */
int fs_filter_compile_source(struct fs_filter **out,
			     const struct fs_filter_source *src,
			     const struct fs_filter_defs *defs,
			     struct fs_filter_error *err);

/* Compiles the NUL-terminated expression text, as fs_filter_compile_source(). */
int fs_filter_compile(struct fs_filter **out, const char *text,
		      const struct fs_filter_defs *defs,
		      struct fs_filter_error *err);

/* Frees filter; NULL is allowed. */
void fs_filter_free(struct fs_filter *filter);

/* Returns true when flow matches filter.  Allocates nothing. */
bool fs_filter_match(const struct fs_filter *filter, const struct fs_flow *flow);

/* Returns the number of instructions, for tests and benchmarks. */
size_t fs_filter_size(const struct fs_filter *filter);

#endif
