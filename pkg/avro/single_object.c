/* single_object.c - the header and body of the Avro single-object encoding. */
#include "avro/single_object.h"

#include <errno.h>

#include "core/result.h"

const uint8_t fs_avro_single_object_marker[2] = { 0xc3, 0x01 };

void
fs_avro_single_object_header(uint8_t *header, uint64_t fingerprint)
{
	header[0] = fs_avro_single_object_marker[0];
	header[1] = fs_avro_single_object_marker[1];
	for (int i = 0; i < 8; i++)
		header[2 + i] = (uint8_t)(fingerprint >> (8 * i));
}

uint64_t
fs_avro_single_object_fingerprint(const uint8_t *buf)
{
	uint64_t fingerprint = 0;

	for (int i = 0; i < 8; i++)
		fingerprint |= (uint64_t)buf[2 + i] << (8 * i);
	return fingerprint;
}

int
fs_avro_single_object_read_header(const uint8_t *buf, size_t len, uint64_t *fingerprint)
{
	for (size_t i = 0; i < sizeof(fs_avro_single_object_marker); i++) {
		if (i == len)
			return FS_ERR_TRUNCATED;
		if (buf[i] != fs_avro_single_object_marker[i])
			return FS_ERR_INVALID;
	}
	if (len < FS_AVRO_SINGLE_OBJECT_HEADER_LEN)
		return FS_ERR_TRUNCATED;
	*fingerprint = fs_avro_single_object_fingerprint(buf);
	return 0;
}

int
fs_avro_single_object_write_body(avro_writer_t writer, avro_value_t *value, uint8_t *buf,
				 size_t cap, size_t *len)
{
	int rc;

	avro_writer_memory_set_dest(writer, (const char *)buf + FS_AVRO_SINGLE_OBJECT_HEADER_LEN,
				    (int64_t)(cap - FS_AVRO_SINGLE_OBJECT_HEADER_LEN));
	rc = avro_value_write(writer, value);
	if (rc == ENOSPC)
		return FS_ERR_FULL;
	if (rc != 0)
		return FS_ERR_SYSTEM;
	*len = FS_AVRO_SINGLE_OBJECT_HEADER_LEN + (size_t)avro_writer_tell(writer);
	return 0;
}
