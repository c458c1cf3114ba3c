/*
 * corpus.h - locates and reads the capture corpus that decoder tests replay.
 *
 * The corpus folder is $FLOWSIFT_CORPUS, or ../shared/corpus when that
 * variable is unset or empty.  The default is relative to the repository
 * root, where scripts/run-tests.sh runs the tests.
 */
#ifndef FS_TEST_CORPUS_H
#define FS_TEST_CORPUS_H

#include <stddef.h>
#include <stdint.h>

/* Returns the corpus folder (static storage or the environment's string). */
const char *fs_test_corpus_dir(void);

/*
 * Reads the corpus file relative (a path inside the corpus folder) into buf,
 * at most size bytes, so a longer file is cut at size.  Returns the number
 * of bytes read, or 0 after printing a note when the file is missing, so
 * that the caller can skip the test.
 */
size_t fs_test_corpus_read(const char *relative, uint8_t *buf, size_t size);

#endif
