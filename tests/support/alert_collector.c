/* alert_collector.c - keeps a detector's alerts for tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alert_collector.h"

void
fs_test_alerts_collect(const struct fs_alert *alert, void *opaque)
{
	struct fs_test_alerts *c = opaque;

	assert_true(c->n < FS_TEST_ALERTS_MAX);
	c->alerts[c->n++] = *alert;
}
