/*
 * ruleset.h - a file of named filter definitions and routing rules.
 *
 * The file is read by flowsift-filter.  Each statement starts at the
 * beginning of a line; lines that start with a space or a tab continue the
 * statement above, and `#` starts a comment.  Two kinds of statement:
 *
 *   NAME = EXPRESSION
 *       defines NAME for the expressions after it (see filter.h);
 *
 *   rule NAME [topic TOPIC | drop]: EXPRESSION
 *       a rule.  A flow that matches is produced to TOPIC (default
 *       flows.filtered.NAME); a matching drop rule stops the evaluation, so
 *       the rules after it and the default route do not see the flow.
 *
 * Example:
 *
 *   mailservers = host 192.0.2.10 or host 192.0.2.11
 *   rule smtp-not-mail: proto tcp and dst port 25 and not src mailservers
 *   rule noise drop: proto udp and port 53
 *   rule scans topic siem.scans: flags S and not flags A
 *
 * Rule names contain letters, digits, '_' and '-' and are unique; topic
 * names contain letters, digits, '.', '_' and '-' (Kafka's rule).  Errors
 * name the file, line and column as filter.h describes.
 */
#ifndef FS_FILTER_RULESET_H
#define FS_FILTER_RULESET_H

#include <stdbool.h>
#include <stddef.h>

#include "filter/filter.h"

#define FS_RULESET_MAX_FILE (1024u * 1024u)
#define FS_RULESET_MAX_RULES 1024u
#define FS_RULESET_TOPIC_MAX 250u

struct fs_filter_rule {
	char name[FS_FILTER_NAME_MAX];
	char topic[FS_RULESET_TOPIC_MAX]; /* "" for a drop rule */
	bool drop;
	unsigned line;                    /* line of the rule in its file */
	struct fs_filter *filter;         /* owned by the ruleset */
};

/* A parsed rules file; read-only after fs_ruleset_parse(). */
struct fs_ruleset {
	struct fs_filter_rule *rules;     /* in file order */
	size_t count;
	size_t definitions;               /* definitions in the file */
};

/*
 * Parses the rules in text[0..len) (borrowed; no NUL needed).  origin, such
 * as the file name, is put in front of error messages (may be NULL).  On
 * success stores a new ruleset, which the caller frees with
 * fs_ruleset_free(), in *out and returns 0.  Returns FS_ERR_INVALID with err
 * set on the first error, or FS_ERR_SYSTEM when out of memory.
 */
int fs_ruleset_parse(struct fs_ruleset **out, const char *text, size_t len,
		     const char *origin, struct fs_filter_error *err);

/*
 * Reads and parses the file at path, as fs_ruleset_parse().  A file that
 * cannot be read gives FS_ERR_NOT_FOUND (or FS_ERR_INVALID when it is larger
 * than FS_RULESET_MAX_FILE) with the reason in err->text.
 */
int fs_ruleset_load(struct fs_ruleset **out, const char *path,
		    struct fs_filter_error *err);

/* Frees ruleset and its filters; NULL is allowed. */
void fs_ruleset_free(struct fs_ruleset *ruleset);

/* Returns the index of the rule named name, or -1. */
int fs_ruleset_find(const struct fs_ruleset *ruleset, const char *name);

#endif
