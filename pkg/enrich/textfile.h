/*
 * textfile.h - reads the small line-based map files of flowsift-enrich.
 *
 * The prefix list and the interface map share one syntax.  Each line is
 * one entry of words separated by spaces or tabs, and `#` starts a comment
 * outside quotes.  A word may be `key=value`, where value may be
 * double-quoted to contain spaces or `#` (there are no escapes inside
 * quotes).  Lines end with LF or CRLF.  Files are read whole into memory, so a file larger than
 * FS_TEXTFILE_MAX_SIZE is rejected before reading.
 */
#ifndef FS_ENRICH_TEXTFILE_H
#define FS_ENRICH_TEXTFILE_H

#include <stddef.h>

/* Largest map file read, in bytes. */
#define FS_TEXTFILE_MAX_SIZE (64u * 1024 * 1024)

/* Maximum line length, in bytes without the line end. */
#define FS_TEXTFILE_MAX_LINE 1024

/* Most words on one line. */
#define FS_TEXTFILE_MAX_WORDS 16

/* One word of a line: key is NULL for a plain word. */
struct fs_text_word {
	const char *key;
	const char *value;
};

/* One parsed line; the strings point into buf. */
struct fs_text_line {
	unsigned number;                 /* 1-based line number */
	size_t count;                    /* words in words[] */
	struct fs_text_word words[FS_TEXTFILE_MAX_WORDS];
	char buf[FS_TEXTFILE_MAX_LINE + 1];
};

/* A read position in a buffer of text; zero-initialise, then set data and len. */
struct fs_text_reader {
	const char *data;               /* borrowed */
	size_t len;
	size_t pos;
	unsigned number;
};

/*
 * Reads the next line that has words into *line.  Returns 1 when a line was
 * read, 0 at the end of the text, or FS_ERR_INVALID with the reason and
 * line number in err.  Invalid lines are longer than FS_TEXTFILE_MAX_LINE,
 * have more than FS_TEXTFILE_MAX_WORDS words, an unterminated quote, a
 * control character other than tab and CR (NUL included), or a `=` with an
 * empty key.
 */
int fs_text_next_line(struct fs_text_reader *reader, struct fs_text_line *line,
		      char *err, size_t err_len);

/*
 * Reads the file at path into a new NUL-terminated buffer stored in *out
 * (the caller frees it with free()) and its length in *len.  Returns 0,
 * FS_ERR_FULL for a file over FS_TEXTFILE_MAX_SIZE, or FS_ERR_SYSTEM, with
 * the reason in err.
 */
int fs_text_read_file(const char *path, char **out, size_t *len, char *err,
		      size_t err_len);

/* A parser of a whole file's text into object, as fs_if_map_parse() is. */
typedef int (*fs_text_parse_fn)(void *object, const char *text, size_t len, char *err,
				size_t err_len);

/*
 * Reads the file at path (fs_text_read_file()) and passes its text to
 * parse with object.  Returns 0, the error of the read, or the negative
 * result of parse with "PATH: REASON" in err.
 */
int fs_text_parse_file(const char *path, fs_text_parse_fn parse, void *object, char *err,
		       size_t err_len);

#endif
