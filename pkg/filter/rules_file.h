/*
 * rules_file.h - loads the rules file of flowsift-filter and checks its
 * routes against the configuration.
 *
 * flowsift-filter loads its rules with fs_rules_file_load() at start and on
 * each reload, and `flowsift config check` checks filter.rules with it, so
 * both accept and reject the same files.
 */
#ifndef FS_FILTER_RULES_FILE_H
#define FS_FILTER_RULES_FILE_H

#include "config/config.h"
#include "filter/ruleset.h"

/*
 * Loads the rules file at path as fs_ruleset_load() does, then rejects a
 * rule that produces to a topic whose flows would come back to
 * flowsift-filter (fs_config_filter_loop() of config, borrowed).  On
 * success stores the ruleset, which the caller frees with
 * fs_ruleset_free(), in *out and returns 0.  Otherwise stores NULL and
 * returns the result of fs_ruleset_load(), or FS_ERR_INVALID for such a
 * rule, with the reason, file and line in err->text.
 */
int fs_rules_file_load(struct fs_ruleset **out, const char *path,
		       const struct fs_config *config, struct fs_filter_error *err);

#endif
