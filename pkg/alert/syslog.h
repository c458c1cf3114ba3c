/*
 * syslog.h - sends messages to a syslog receiver as RFC 5424 over UDP or TCP.
 *
 * Each message is formatted as
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG
 *
 * with TIMESTAMP in UTC with milliseconds, no structured data, and MSG sent
 * as plain UTF-8 without a BOM (CEF text in flowsift's use).  Over UDP each
 * message is one datagram (RFC 5426); over TCP messages are framed by octet
 * counting, "LEN SP MESSAGE" (RFC 6587 section 3.4.1), which rsyslog,
 * syslog-ng and most SIEM collectors accept.
 *
 * A TCP sender connects on first use and again after an error, at most once
 * per FS_SYSLOG_RETRY_S; messages that find no connection are dropped and
 * counted, so a receiver that is down never stalls the caller for longer
 * than FS_SYSLOG_TIMEOUT_MS.
 *
 * Thread safety: one thread at a time per sender.
 */
#ifndef FS_ALERT_SYSLOG_H
#define FS_ALERT_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

#define FS_SYSLOG_TIMEOUT_MS 1000
#define FS_SYSLOG_RETRY_S 5
#define FS_SYSLOG_MAX_MESSAGE 4096   /* longer messages are cut */

/* syslog severities of RFC 5424 used by flowsift */
enum fs_syslog_severity {
	FS_SYSLOG_WARNING = 4,
	FS_SYSLOG_NOTICE = 5,
};

struct fs_syslog_stats {
	uint64_t sent;       /* handed to the kernel in full */
	uint64_t dropped;    /* not sent: no connection or a send error */
	uint64_t connects;   /* TCP connections opened */
};

struct fs_syslog;

/*
 * Creates a sender for target, "udp://HOST:PORT" or "tcp://HOST:PORT"
 * (HOST may be a name, an IPv4 address or [IPv6]), with facility 0..23
 * (16 is local0) and app_name (copied) as APP-NAME.  The address is resolved
 * once, here.  Returns the sender, or NULL with the reason in err.  Free it
 * with fs_syslog_free().
 */
struct fs_syslog *fs_syslog_new(const char *target, int facility, const char *app_name,
				char *err, size_t err_len);

/* Closes the socket and frees sender; NULL is allowed. */
void fs_syslog_free(struct fs_syslog *sender);

/*
 * Sends msg (NUL-terminated, borrowed) with msgid (a word of printable
 * ASCII, borrowed) at severity.  Returns 0 when sent, or FS_ERR_SYSTEM when
 * dropped (counted, logged rate-limited).
 */
int fs_syslog_send(struct fs_syslog *sender, enum fs_syslog_severity severity,
		   const char *msgid, const char *msg);

void fs_syslog_stats(const struct fs_syslog *sender, struct fs_syslog_stats *out);

#endif
