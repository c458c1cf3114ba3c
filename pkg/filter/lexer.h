/*
 * lexer.h - splits filter text into tokens and formats compile errors.
 *
 * Internal to pkg/filter.  A word is a run of letters, digits and the
 * characters _ . : / - so that addresses (2001:db8::/32), MAC addresses,
 * ranges (1024-65535) and names are single words, which the parser then
 * reads according to the field they belong to.  `#` starts a comment that
 * runs to the end of the line.  Token positions are byte offsets into the
 * source buffer.
 */
#ifndef FS_FILTER_LEXER_H
#define FS_FILTER_LEXER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "filter/filter.h"

enum fs_filter_token_type {
	FS_TOK_END,
	FS_TOK_WORD,
	FS_TOK_STRING,   /* "text"; pos and len include the quotes */
	FS_TOK_LPAREN,
	FS_TOK_RPAREN,
	FS_TOK_LBRACKET,
	FS_TOK_RBRACKET,
	FS_TOK_COMMA,
	FS_TOK_EQ,       /* = or == */
	FS_TOK_NE,       /* != or <> */
	FS_TOK_LT,
	FS_TOK_LE,
	FS_TOK_GT,
	FS_TOK_GE,
	FS_TOK_BANG,     /* ! */
	FS_TOK_ANDAND,   /* && */
	FS_TOK_OROR,     /* || */
	FS_TOK_INVALID,  /* a character that starts no token, or an unterminated string */
};

struct fs_filter_token {
	enum fs_filter_token_type type;
	size_t pos;
	size_t len;
};

struct fs_filter_lexer {
	const struct fs_filter_source *src;
	size_t pos;
};

void fs_filter_lexer_init(struct fs_filter_lexer *lx, const struct fs_filter_source *src);

/* Reads the next token into *tok and advances. */
void fs_filter_lexer_next(struct fs_filter_lexer *lx, struct fs_filter_token *tok);

/* Returns true when tok is a word equal to word, ignoring case. */
bool fs_filter_token_is(const struct fs_filter_lexer *lx,
			const struct fs_filter_token *tok, const char *word);

/* Describes tok for a message: 'text' for words, "end of expression", ... */
void fs_filter_token_describe(const struct fs_filter_lexer *lx,
			      const struct fs_filter_token *tok, char *buf,
			      size_t len);

/*
 * Formats a compile error at byte offset pos of src into err: origin, line
 * and column, the message, the source line and a caret under pos.
 */
void fs_filter_error_at(struct fs_filter_error *err,
			const struct fs_filter_source *src, size_t pos,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
