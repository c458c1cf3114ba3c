/* resp_writer.c - RESP commands formatted into one reusable buffer. */
#include "redis/resp_writer.h"

#include <stdlib.h>
#include <string.h>

#include "core/result.h"

/* Bytes of RESP framing per argument at most: '$', the length, and two CRLFs. */
#define ARG_FRAMING (1 + FS_RESP_DECIMAL_LEN + 4)

void
fs_resp_writer_init(struct fs_resp_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void
fs_resp_writer_free(struct fs_resp_writer *w)
{
	free(w->buf);
	fs_resp_writer_init(w);
}

size_t
fs_resp_format_u64(char *buf, uint64_t v)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (size_t i = 0; i < n; i++)
		buf[i] = digits[n - 1 - i];
	buf[n] = '\0';
	return n;
}

size_t
fs_resp_format_i64(char *buf, int64_t v)
{
	if (v >= 0)
		return fs_resp_format_u64(buf, (uint64_t)v);
	buf[0] = '-';
	/* Negating in unsigned arithmetic is correct for INT64_MIN too. */
	return 1 + fs_resp_format_u64(buf + 1, 0 - (uint64_t)v);
}

/* Appends "<c><n>\r\n" at p and returns the position after it. */
static char *
put_header(char *p, char c, uint64_t n)
{
	*p++ = c;
	p += fs_resp_format_u64(p, n);
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

int
fs_resp_writer_append(struct fs_resp_writer *w, redisContext *ctx, int argc,
		      const char **argv, const size_t *argvlen)
{
	size_t total = ARG_FRAMING;
	char *p;

	for (int i = 0; i < argc; i++)
		total += (argvlen ? argvlen[i] : strlen(argv[i])) + ARG_FRAMING;
	if (total > w->cap) {
		char *grown = realloc(w->buf, total);

		if (grown == NULL)
			return FS_ERR_SYSTEM;
		w->buf = grown;
		w->cap = total;
	}
	p = put_header(w->buf, '*', (uint64_t)argc);
	for (int i = 0; i < argc; i++) {
		size_t len = argvlen ? argvlen[i] : strlen(argv[i]);

		p = put_header(p, '$', len);
		memcpy(p, argv[i], len);
		p += len;
		*p++ = '\r';
		*p++ = '\n';
	}
	if (redisAppendFormattedCommand(ctx, w->buf, (size_t)(p - w->buf)) != REDIS_OK)
		return FS_ERR_SYSTEM;
	w->commands++;
	return 0;
}
