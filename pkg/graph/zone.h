/*
 * zone.h - choosing the time zone of graph labels.
 *
 * A zone is "UTC" or an IANA name from the system zone database
 * (/usr/share/zoneinfo, Debian package tzdata), such as Europe/Paris.  The
 * name is checked before use, because glibc silently falls back to UTC for a
 * TZ it cannot read.  A valid name is made of letters, digits, '_', '-', '+'
 * and '/'.  It does not start with '/' or contain "..", and it names a TZif
 * file under FS_GRAPH_ZONE_DIR.
 */
#ifndef FS_GRAPH_ZONE_H
#define FS_GRAPH_ZONE_H

#define FS_GRAPH_ZONE_MAX 63              /* maximum length of a zone name */
#define FS_GRAPH_ZONE_DIR "/usr/share/zoneinfo"

/* Checks zone as above.  Returns 0, FS_ERR_INVALID for a bad name, or FS_ERR_NOT_FOUND. */
int fs_graph_zone_check(const char *zone);

/*
 * Checks zone and makes it the zone of localtime_r() in this process (sets
 * TZ and calls tzset(), so it is not thread-safe).  Returns as
 * fs_graph_zone_check().
 */
int fs_graph_zone_apply(const char *zone);

#endif
