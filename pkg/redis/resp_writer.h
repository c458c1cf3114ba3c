/*
 * resp_writer.h - formats Redis commands in RESP into one reusable buffer
 * and queues them on a hiredis context.
 *
 * redisAppendCommandArgv() builds each command with sdscatfmt() in a
 * string it allocates, which took about 12% of flowsift-report's CPU for
 * the thousands of commands and arguments of a flush (perf).  This writer
 * formats into a buffer it keeps between calls, and hands the bytes to
 * hiredis with redisAppendFormattedCommand(), which copies them into its
 * output buffer.
 *
 * Ownership: the writer owns its buffer; free it with fs_resp_writer_free().
 * A writer serves one thread.
 */
#ifndef FS_REDIS_RESP_WRITER_H
#define FS_REDIS_RESP_WRITER_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

/* Maximum length of the decimal text of a 64-bit integer, sign and NUL included. */
#define FS_RESP_DECIMAL_LEN 21

struct fs_resp_writer {
	char *buf;       /* the last command formatted; owned */
	size_t cap;
	uint64_t commands; /* commands queued since init */
};

/* Starts an empty writer; it allocates on its first command. */
void fs_resp_writer_init(struct fs_resp_writer *w);

/* Frees the buffer; the writer may be used again after init. */
void fs_resp_writer_free(struct fs_resp_writer *w);

/*
 * Queues the command of argc arguments on ctx.  argvlen gives each
 * argument's length, or is NULL for NUL-terminated arguments.  Returns 0,
 * or FS_ERR_SYSTEM when memory runs out or hiredis rejects the command.
 */
int fs_resp_writer_append(struct fs_resp_writer *w, redisContext *ctx, int argc,
			  const char **argv, const size_t *argvlen);

/*
 * Writes v in decimal into buf (FS_RESP_DECIMAL_LEN bytes) and returns the
 * length of the text.  It replaces snprintf(), which took about a fifth of
 * flowsift-report's CPU (perf) for the numbers of every flush.
 */
size_t fs_resp_format_u64(char *buf, uint64_t v);

/* Writes v in decimal into buf (FS_RESP_DECIMAL_LEN bytes), with a '-' when negative. */
size_t fs_resp_format_i64(char *buf, int64_t v);

#endif
