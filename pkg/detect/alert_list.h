/*
 * alert_list.h - reads the open and recently cleared alerts that
 * pkg/detect keeps in Redis.
 *
 * Open alerts are the members of FS_DETECT_OPEN_KEY (the alert hash's key,
 * scored by last seen), each with its JSON in the hash field "json".
 * Cleared alerts are the JSON members of FS_DETECT_RECENT_KEY, kept for
 * FS_DETECT_RECENT_S.  Both lists are read newest first; an entry whose JSON
 * does not parse (written by another version) is skipped and counted.
 */
#ifndef FS_DETECT_ALERT_LIST_H
#define FS_DETECT_ALERT_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "alert/alert.h"

struct fs_alert_entry {
	struct fs_alert alert;
	bool open;               /* false: cleared within FS_DETECT_RECENT_S */
};

/*
 * Reads up to max open alerts and then up to max minus the open ones of the
 * recently cleared alerts into out[0..*count) (the caller provides max
 * entries).  *skipped counts entries that did not parse.  Returns 0, or
 * FS_ERR_SYSTEM when Redis failed, with the reason in err.
 */
int fs_alert_list_read(redisContext *ctx, size_t max, struct fs_alert_entry *out,
		       size_t *count, size_t *skipped, char *err, size_t err_len);

#endif
