/*
 * topic_reader.h - reads every message of a topic from tests, without a group.
 *
 * The reader assigns itself every partition of the topic from the log start
 * and commits nothing, so it reads each message stored on the broker exactly
 * once, whatever the workers' consumer groups did.  fs_test_topic_reader_drain()
 * reads up to the end offsets the broker reports at the call, so a test can tell
 * when it has read everything produced so far without waiting for a quiet
 * period.
 */
#ifndef FS_TEST_TOPIC_READER_H
#define FS_TEST_TOPIC_READER_H

#include <stddef.h>

struct fs_test_topic_reader;

/* Receives one message value (borrowed for the call). */
typedef void fs_test_message_fn(const void *value, size_t len, void *opaque);

/*
 * Creates a reader of topic on bootstrap (both copied).  Returns it, or NULL
 * with the reason on stderr.
 */
struct fs_test_topic_reader *fs_test_topic_reader_new(const char *bootstrap, const char *topic);

/*
 * Reads every message up to the end offsets that the broker reports now and
 * calls fn for each.  Returns the number of messages read, or -1 when the
 * end offsets could not be read or timeout_ms passed first (reason on stderr).
 */
long fs_test_topic_reader_drain(struct fs_test_topic_reader *r, fs_test_message_fn *fn,
				void *opaque, int timeout_ms);

void fs_test_topic_reader_free(struct fs_test_topic_reader *r);

#endif
