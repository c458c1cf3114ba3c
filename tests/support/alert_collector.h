/*
 * alert_collector.h - keeps the alerts that a detector passes to its
 * callback, for tests of pkg/detect.
 *
 * Pass fs_test_alerts_collect as the fs_detect_alert_fn and a zeroed struct
 * fs_test_alerts as its opaque.  More than FS_TEST_ALERTS_MAX alerts fail
 * the calling cmocka test.
 */
#ifndef FS_TEST_ALERT_COLLECTOR_H
#define FS_TEST_ALERT_COLLECTOR_H

#include <stddef.h>

#include "alert/alert.h"

#define FS_TEST_ALERTS_MAX 64

struct fs_test_alerts {
	size_t n;                                   /* alerts kept, in order */
	struct fs_alert alerts[FS_TEST_ALERTS_MAX];
};

/* Appends a copy of alert to opaque, a struct fs_test_alerts. */
void fs_test_alerts_collect(const struct fs_alert *alert, void *opaque);

#endif
