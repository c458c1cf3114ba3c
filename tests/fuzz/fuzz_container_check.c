/* fuzz_container_check.c - libFuzzer target for the Avro container framing check. */
#include <stddef.h>
#include <stdint.h>

#include "archive/container_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];

	(void)fs_archive_check_container(data, size, err, sizeof(err));
	return 0;
}
