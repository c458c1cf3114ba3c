/* textfile.c - line and word splitting for the enrich map files. */
#include "enrich/textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error_text.h"
#include "core/regular_file.h"
#include "core/result.h"

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Splits line->buf in place into words. */
static int
split_words(struct fs_text_line *line, char *err, size_t err_len)
{
	char *p = line->buf;

	line->count = 0;
	for (;;) {
		struct fs_text_word *word;
		char *start;

		while (is_blank(*p))
			p++;
		if (*p == '\0' || *p == '#')
			return 0;
		if (line->count == FS_TEXTFILE_MAX_WORDS)
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "line %u: more than %d words", line->number,
				       FS_TEXTFILE_MAX_WORDS);
		word = &line->words[line->count++];
		word->key = NULL;
		start = p;
		while (*p != '\0' && !is_blank(*p) && *p != '=' && *p != '#')
			p++;
		if (*p != '=') {
			word->value = start;
			if (*p == '#')
				*p = '\0';
			else if (*p != '\0')
				*p++ = '\0';
			continue;
		}
		if (p == start)
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "line %u: '=' without a key", line->number);
		*p++ = '\0';
		word->key = start;
		if (*p == '"') {
			char *end = strchr(p + 1, '"');

			if (end == NULL)
				return fs_fail(err, err_len, FS_ERR_INVALID,
					       "line %u: quote opened for '%s' is not closed",
					       line->number, start);
			word->value = p + 1;
			*end = '\0';
			p = end + 1;
			if (*p != '\0' && !is_blank(*p) && *p != '#')
				return fs_fail(err, err_len, FS_ERR_INVALID,
					       "line %u: text right after the closing quote "
					       "of '%s'", line->number, start);
			continue;
		}
		word->value = p;
		while (*p != '\0' && !is_blank(*p) && *p != '#')
			p++;
		if (*p == '#') {
			*p = '\0';
			return 0;
		}
		if (*p != '\0')
			*p++ = '\0';
	}
}

int
fs_text_next_line(struct fs_text_reader *reader, struct fs_text_line *line,
		  char *err, size_t err_len)
{
	while (reader->pos < reader->len) {
		const char *start = reader->data + reader->pos;
		const char *nl = memchr(start, '\n', reader->len - reader->pos);
		size_t n = nl != NULL ? (size_t)(nl - start) : reader->len - reader->pos;
		int rc;

		reader->number++;
		reader->pos += n + (nl != NULL ? 1 : 0);
		line->number = reader->number;
		if (n > FS_TEXTFILE_MAX_LINE)
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "line %u: longer than %d bytes", line->number,
				       FS_TEXTFILE_MAX_LINE);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)start[i];

			/* Also keeps control bytes out of the error messages that quote words. */
			if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
				return fs_fail(err, err_len, FS_ERR_INVALID,
					       "line %u: contains the control character 0x%02x",
					       line->number, c);
		}
		memcpy(line->buf, start, n);
		line->buf[n] = '\0';
		rc = split_words(line, err, err_len);
		if (rc < 0)
			return rc;
		if (line->count > 0)
			return 1;
	}
	return 0;
}

int
fs_text_read_file(const char *path, char **out, size_t *len, char *err,
		  size_t err_len)
{
	const char *reason;
	uint64_t size;
	FILE *file;
	char *buf = NULL;
	size_t n;
	int rc = 0, fd;

	*out = NULL;
	fd = fs_regular_file_open(path, &size, &reason);
	if (fd < 0)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "cannot open '%s': %s", path, reason);
	file = fdopen(fd, "rb");
	if (file == NULL) {
		close(fd);
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "cannot open '%s': %s", path,
			       strerror(errno));
	}
	if (size > FS_TEXTFILE_MAX_SIZE) {
		rc = fs_fail(err, err_len, FS_ERR_FULL, "'%s' is larger than %u bytes", path,
			     FS_TEXTFILE_MAX_SIZE);
		goto out;
	}
	buf = malloc((size_t)size + 1);
	if (buf == NULL) {
		rc = fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory reading '%s'", path);
		goto out;
	}
	n = fread(buf, 1, (size_t)size, file);
	if (ferror(file)) {
		rc = fs_fail(err, err_len, FS_ERR_SYSTEM, "cannot read '%s'", path);
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	fclose(file);
	return rc;
}

int
fs_text_parse_file(const char *path, fs_text_parse_fn parse, void *object, char *err,
		   size_t err_len)
{
	char reason[256];
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = fs_text_read_file(path, &text, &len, err, err_len);
	if (rc < 0)
		return rc;
	rc = parse(object, text, len, reason, sizeof(reason));
	if (rc < 0)
		fs_fail(err, err_len, rc, "%s: %s", path, reason);
	free(text);
	return rc < 0 ? rc : 0;
}
