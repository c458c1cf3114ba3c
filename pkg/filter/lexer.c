/* lexer.c - tokens of the filter language and error excerpts. */
#include "filter/lexer.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define EXCERPT_MAX 160

void
fs_filter_lexer_init(struct fs_filter_lexer *lx, const struct fs_filter_source *src)
{
	lx->src = src;
	lx->pos = src->begin;
}

static bool
is_word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
}

static void
skip_space(struct fs_filter_lexer *lx)
{
	const char *buf = lx->src->buf;
	size_t end = lx->src->end;

	while (lx->pos < end) {
		unsigned char c = (unsigned char)buf[lx->pos];

		if (c == '#') {
			while (lx->pos < end && buf[lx->pos] != '\n')
				lx->pos++;
		} else if (isspace(c)) {
			lx->pos++;
		} else {
			break;
		}
	}
}

/* Sets tok to an operator of one or two characters; returns false when c starts none. */
static bool
lex_operator(const char *p, size_t left, struct fs_filter_token *tok)
{
	char next = left > 1 ? p[1] : '\0';

	tok->len = 1;
	switch (p[0]) {
	case '(': tok->type = FS_TOK_LPAREN; return true;
	case ')': tok->type = FS_TOK_RPAREN; return true;
	case '[': tok->type = FS_TOK_LBRACKET; return true;
	case ']': tok->type = FS_TOK_RBRACKET; return true;
	case ',': tok->type = FS_TOK_COMMA; return true;
	case '=':
		tok->type = FS_TOK_EQ;
		tok->len = next == '=' ? 2 : 1;
		return true;
	case '!':
		tok->type = next == '=' ? FS_TOK_NE : FS_TOK_BANG;
		tok->len = next == '=' ? 2 : 1;
		return true;
	case '<':
		if (next == '>') {
			tok->type = FS_TOK_NE;
			tok->len = 2;
		} else {
			tok->type = next == '=' ? FS_TOK_LE : FS_TOK_LT;
			tok->len = next == '=' ? 2 : 1;
		}
		return true;
	case '>':
		tok->type = next == '=' ? FS_TOK_GE : FS_TOK_GT;
		tok->len = next == '=' ? 2 : 1;
		return true;
	case '&':
		tok->type = next == '&' ? FS_TOK_ANDAND : FS_TOK_INVALID;
		tok->len = next == '&' ? 2 : 1;
		return true;
	case '|':
		tok->type = next == '|' ? FS_TOK_OROR : FS_TOK_INVALID;
		tok->len = next == '|' ? 2 : 1;
		return true;
	}
	return false;
}

void
fs_filter_lexer_next(struct fs_filter_lexer *lx, struct fs_filter_token *tok)
{
	const char *buf = lx->src->buf;
	size_t end = lx->src->end;

	skip_space(lx);
	tok->pos = lx->pos;
	tok->len = 0;
	if (lx->pos >= end) {
		tok->type = FS_TOK_END;
		return;
	}
	if (is_word_char((unsigned char)buf[lx->pos])) {
		while (lx->pos < end && is_word_char((unsigned char)buf[lx->pos]))
			lx->pos++;
		tok->type = FS_TOK_WORD;
		tok->len = lx->pos - tok->pos;
		return;
	}
	if (buf[lx->pos] == '"') {
		size_t p = lx->pos + 1;

		while (p < end && buf[p] != '"' && buf[p] != '\n')
			p++;
		if (p >= end || buf[p] != '"') {
			tok->type = FS_TOK_INVALID;
			tok->len = 1;
			lx->pos++;
			return;
		}
		tok->type = FS_TOK_STRING;
		tok->len = p + 1 - lx->pos;
		lx->pos = p + 1;
		return;
	}
	if (!lex_operator(buf + lx->pos, end - lx->pos, tok)) {
		tok->type = FS_TOK_INVALID;
		tok->len = 1;
	}
	lx->pos += tok->len;
}

bool
fs_filter_token_is(const struct fs_filter_lexer *lx, const struct fs_filter_token *tok,
		   const char *word)
{
	return tok->type == FS_TOK_WORD && strlen(word) == tok->len &&
	       strncasecmp(lx->src->buf + tok->pos, word, tok->len) == 0;
}

void
fs_filter_token_describe(const struct fs_filter_lexer *lx,
			 const struct fs_filter_token *tok, char *buf, size_t len)
{
	char text[48];
	size_t n;

	if (tok->type == FS_TOK_END) {
		snprintf(buf, len, "the end of the expression");
		return;
	}
	n = tok->len < sizeof(text) - 4 ? tok->len : sizeof(text) - 4;
	memcpy(text, lx->src->buf + tok->pos, n);
	text[n] = '\0';
	if (n < tok->len)
		strcat(text, "...");
	for (char *p = text; *p != '\0'; p++) {
		if (!isprint((unsigned char)*p))
			*p = '.';
	}
	snprintf(buf, len, "'%s'", text);
}

void
fs_filter_error_at(struct fs_filter_error *err, const struct fs_filter_source *src,
		   size_t pos, const char *fmt, ...)
{
	char message[512], excerpt[EXCERPT_MAX + 1], caret[EXCERPT_MAX + 1];
	size_t line_start = 0, line_end, shown, col_bytes, i;
	unsigned line = 1;
	va_list ap;

	if (err == NULL)
		return;
	for (i = 0; i < pos; i++) {
		if (src->buf[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	}
	line_end = line_start;
	while (line_end < src->end && src->buf[line_end] != '\n')
		line_end++;
	col_bytes = pos - line_start;
	err->line = line;
	err->column = (unsigned)col_bytes + 1;

	/* A long line is shown from a window that keeps the caret in view. */
	size_t from = col_bytes > EXCERPT_MAX - 20 ? col_bytes - (EXCERPT_MAX - 20) : 0;
	shown = line_end - line_start - from;
	if (shown > EXCERPT_MAX)
		shown = EXCERPT_MAX;
	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)src->buf[line_start + from + i];

		excerpt[i] = (isprint(c) || c == '\t') ? (char)c : '.';
	}
	excerpt[shown] = '\0';
	for (i = 0; i < col_bytes - from && i < EXCERPT_MAX; i++)
		caret[i] = excerpt[i] == '\t' ? '\t' : ' ';
	caret[i] = '\0';

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	snprintf(err->text, sizeof(err->text), "%s%sline %u, column %u: %s\n  %s\n  %s^",
		 src->origin ? src->origin : "", src->origin ? ": " : "", line,
		 err->column, message, excerpt, caret);
}
