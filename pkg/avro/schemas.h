/*
 * schemas.h - the Avro schema files compiled into the library.
 *
 * scripts/embed-schemas.sh turns every schemas/NAME.avsc file into one entry of
 * fs_embedded_schemas[] at build time (build/gen/schemas_embedded.c), so no
 * program reads schema files at run time.  Entries are sorted by file name,
 * and the array ends with a { NULL, NULL } entry that
 * fs_embedded_schema_count does not include.  schemas/README.md describes
 * the file naming and versioning rules.
 *
 * The strings are static and read-only: callers never free them.
 */
#ifndef FS_AVRO_SCHEMAS_H
#define FS_AVRO_SCHEMAS_H

#include <stddef.h>
#include <string.h>

struct fs_embedded_schema {
	const char *name; /* file name without the folder, e.g. "flow.avsc" */
	const char *text; /* the file's JSON text, NUL-terminated */
};

extern const struct fs_embedded_schema fs_embedded_schemas[];
extern const size_t fs_embedded_schema_count;

/* Returns the embedded schema whose file name is name, or NULL. */
static inline const struct fs_embedded_schema *
fs_embedded_schema_find(const char *name)
{
	for (size_t i = 0; i < fs_embedded_schema_count; i++) {
		if (strcmp(fs_embedded_schemas[i].name, name) == 0)
			return &fs_embedded_schemas[i];
	}
	return NULL;
}

#endif
