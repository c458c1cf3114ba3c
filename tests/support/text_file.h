/*
 * text_file.h - writes configuration files and searches logs from tests.
 *
 * Both functions fail the calling cmocka test when the file cannot be
 * written or read, so a check that text is absent never passes because the
 * file is missing.
 */
#ifndef FS_TEST_TEXT_FILE_H
#define FS_TEST_TEXT_FILE_H

#include <stdbool.h>

/*
 * Writes text to path.tmp and renames it to path, so that a program that
 * reloads path reads the old or the new content, never part of it.
 */
void fs_test_write_file(const char *path, const char *text);

/* Returns true when the file at path contains text anywhere, also across lines. */
bool fs_test_file_contains(const char *path, const char *text);

/*
 * Waits up to timeout_ms for the file at path (a program's log) to contain
 * text, checking every 100 ms.  Returns true when it does.
 */
bool fs_test_wait_file_contains(const char *path, const char *text, int timeout_ms);

#endif
