/* counters.c - one sFlow counter sample as decoders produce it. */
#include "core/counters.h"

void
fs_counters_add_other(struct fs_counters *counters, uint32_t enterprise,
		      uint32_t format, uint32_t length)
{
	struct fs_counters_other *other;

	if (counters->other_count == FS_COUNTERS_MAX_OTHER_RECORDS) {
		counters->other_omitted++;
		return;
	}
	other = &counters->other[counters->other_count++];
	other->enterprise = enterprise;
	other->format = format;
	other->length = length;
}
