/* archive_reader.c - flows from Avro object container files, via avro-c. */
#include "archive/archive_reader.h"
#include "archive/container_check.h"

#include <avro.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/flow_codec.h"
#include "core/result.h"

/* Largest schema JSON text the reader accepts from a file header. */
#define MAX_SCHEMA_JSON (256u * 1024u)

struct fs_archive_reader {
	avro_file_reader_t file;
	avro_value_iface_t *iface;
	avro_value_t value;
	bool have_value;
	struct fs_flow_codec *codec;
	uint64_t fingerprint;
	uint64_t count;
	int error;
	char path[512];
	uint8_t message[FS_FLOW_CODEC_HEADER_LEN + FS_ARCHIVE_MAX_RECORD];
};

bool
fs_archive_is_container(const void *head, size_t len)
{
	return len >= FS_ARCHIVE_MAGIC_LEN &&
	       memcmp(head, FS_ARCHIVE_MAGIC, FS_ARCHIVE_MAGIC_LEN) == 0;
}

/* Registers the file's writer schema with the codec and keeps its fingerprint. */
static int
register_schema(struct fs_archive_reader *r, char *err, size_t err_len)
{
	/* avro-c 1.11 returns a new reference to the schema. */
	avro_schema_t schema = avro_file_reader_get_writer_schema(r->file);
	char *json = malloc(MAX_SCHEMA_JSON);
	avro_writer_t writer = NULL;
	char reason[256];
	int rc = 0;

	if (json == NULL) {
		snprintf(err, err_len, "out of memory reading '%s'", r->path);
		avro_schema_decref(schema);
		return FS_ERR_SYSTEM;
	}
	writer = avro_writer_memory(json, MAX_SCHEMA_JSON);
	if (writer == NULL || avro_schema_to_json(schema, writer) != 0) {
		snprintf(err, err_len, "the schema in '%s' cannot be read: %s", r->path,
			 avro_strerror());
		rc = FS_ERR_INVALID;
		goto out;
	}
	rc = fs_flow_codec_add_schema(r->codec, json, (size_t)avro_writer_tell(writer),
				      &r->fingerprint, reason, sizeof(reason));
	if (rc < 0)
		snprintf(err, err_len, "'%s' does not contain flows: %s", r->path, reason);
	else {
		r->iface = avro_generic_class_from_schema(schema);
		if (r->iface == NULL || avro_generic_value_new(r->iface, &r->value) != 0) {
			snprintf(err, err_len, "out of memory reading '%s'", r->path);
			rc = FS_ERR_SYSTEM;
		} else {
			r->have_value = true;
		}
	}
out:
	if (writer != NULL)
		avro_writer_free(writer);
	avro_schema_decref(schema);
	free(json);
	return rc;
}

int
fs_archive_reader_open(struct fs_archive_reader **out, const char *path,
		       struct fs_flow_codec *codec, char *err, size_t err_len)
{
	struct fs_archive_reader *r;
	uint8_t head[FS_ARCHIVE_MAGIC_LEN];
	size_t got;
	FILE *f;
	int rc;

	*out = NULL;
	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, err_len, "cannot open '%s': %s", path, strerror(errno));
		return FS_ERR_NOT_FOUND;
	}
	got = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (!fs_archive_is_container(head, got)) {
		snprintf(err, err_len, "'%s' is not an Avro object container file", path);
		return FS_ERR_INVALID;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, err_len, "out of memory reading '%s'", path);
		return FS_ERR_SYSTEM;
	}
	r->codec = codec;
	snprintf(r->path, sizeof(r->path), "%s", path);
	/* avro-c allocates each block's declared size: bound them first. */
	rc = fs_archive_check_file(path, err, err_len);
	if (rc < 0) {
		r->file = NULL;
		fs_archive_reader_free(r);
		return rc;
	}
	if (avro_file_reader(path, &r->file) != 0) {
		snprintf(err, err_len, "cannot read the header of '%s': %s", path,
			 avro_strerror());
		r->file = NULL;
		rc = FS_ERR_INVALID;
		goto fail;
	}
	rc = register_schema(r, err, err_len);
	if (rc < 0)
		goto fail;
	r->message[0] = 0xc3;
	r->message[1] = 0x01;
	for (int i = 0; i < 8; i++)
		r->message[2 + i] = (uint8_t)(r->fingerprint >> (8 * i));
	*out = r;
	return 0;
fail:
	fs_archive_reader_free(r);
	return rc;
}

int
fs_archive_reader_next(struct fs_archive_reader *r, struct fs_flow *flow, char *err,
		       size_t err_len)
{
	avro_writer_t writer;
	size_t body_len;
	int rc;

	if (r->error) {
		snprintf(err, err_len, "'%s' is damaged after flow %llu", r->path,
			 (unsigned long long)r->count);
		return r->error;
	}
	avro_value_reset(&r->value);
	rc = avro_file_reader_read_value(r->file, &r->value);
	if (rc == EOF)
		return 0;
	if (rc != 0) {
		snprintf(err, err_len, "'%s' is damaged after flow %llu: %s", r->path,
			 (unsigned long long)r->count, avro_strerror());
		r->error = FS_ERR_INVALID;
		return r->error;
	}
	writer = avro_writer_memory((char *)r->message + FS_FLOW_CODEC_HEADER_LEN,
				    FS_ARCHIVE_MAX_RECORD);
	if (writer == NULL) {
		snprintf(err, err_len, "out of memory reading '%s'", r->path);
		return FS_ERR_SYSTEM;
	}
	rc = avro_value_write(writer, &r->value);
	body_len = (size_t)avro_writer_tell(writer);
	avro_writer_free(writer);
	if (rc != 0) {
		snprintf(err, err_len, "flow %llu of '%s' is larger than %u bytes",
			 (unsigned long long)r->count + 1, r->path, FS_ARCHIVE_MAX_RECORD);
		r->error = FS_ERR_INVALID;
		return r->error;
	}
	rc = fs_flow_codec_decode(r->codec, r->message, FS_FLOW_CODEC_HEADER_LEN + body_len, flow);
	if (rc < 0) {
		snprintf(err, err_len, "flow %llu of '%s' is not a valid flow: %s",
			 (unsigned long long)r->count + 1, r->path, fs_result_name(rc));
		r->error = FS_ERR_INVALID;
		return r->error;
	}
	r->count++;
	return 1;
}

uint64_t
fs_archive_reader_count(const struct fs_archive_reader *r)
{
	return r->count;
}

void
fs_archive_reader_free(struct fs_archive_reader *r)
{
	if (r == NULL)
		return;
	if (r->have_value)
		avro_value_decref(&r->value);
	if (r->iface != NULL)
		avro_value_iface_decref(r->iface);
	if (r->file != NULL)
		avro_file_reader_close(r->file);
	free(r);
}
