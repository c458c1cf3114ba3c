/*
 * counters_json.h - struct fs_counters as one JSON object.
 *
 * Keys are the field names of schemas/counters.avsc, after a first key
 * "schema":"counters" that distinguishes these objects from flows in a mixed
 * stream.
 * Addresses are text, as in flow JSON; an absent agent address is "".
 * The generic and Ethernet interface fields appear only when the sample
 * carried that record.
 */
#ifndef FS_CORE_COUNTERS_JSON_H
#define FS_CORE_COUNTERS_JSON_H

#include <stddef.h>

#include "core/counters.h"

/*
 * Buffer size that fits the JSON of any counter sample, NUL included: with
 * every number at its maximum and 16 other records the object is about
 * 2,400 bytes.
 */
#define FS_COUNTERS_JSON_MAX 4096

/*
 * Writes counters as a JSON object, without a newline, into buf (len bytes)
 * and NUL-terminates it.  Allocates nothing.  Returns the length written,
 * NUL excluded, or FS_ERR_FULL when len is too small.
 */
int fs_counters_json_write(const struct fs_counters *counters, char *buf, size_t len);

#endif
