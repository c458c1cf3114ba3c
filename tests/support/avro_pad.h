/*
 * avro_pad.h - re-encodes an Avro single-object message with every varint
 * in its longest form.
 *
 * The Avro specification does not forbid varints written in more bytes than
 * they need (a 0 as 80 80 80 80 00), and flowsift's readers accept up to 5
 * bytes for an int and 10 for a long.  A flow re-encoded this way decodes to
 * the same values but is longer than anything flowsift's writer produces,
 * which tests use to exercise code that passes flows on as received.
 */
#ifndef FS_TEST_AVRO_PAD_H
#define FS_TEST_AVRO_PAD_H

#include <stddef.h>
#include <stdint.h>

/*
 * Re-encodes the single-object message in (in_len bytes, one datum of the
 * writer schema given as JSON text) into out (cap bytes).  The 10-byte
 * header stays as it is.  In the body, every int, enum index, union index
 * and array block count takes 5 bytes, and every long, string length and
 * bytes length takes 10.  Returns the output length, or 0 when the input
 * does not match the schema or out is too small.
 */
size_t fs_test_avro_pad(const char *schema_json, const uint8_t *in, size_t in_len,
			uint8_t *out, size_t cap);

#endif
