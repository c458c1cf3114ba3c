/* rules_file.c - the rules file of flowsift-filter, checked against the configuration. */
#include "filter/rules_file.h"

#include <stdio.h>
#include <string.h>

#include "core/result.h"

int
fs_rules_file_load(struct fs_ruleset **out, const char *path, const struct fs_config *config,
		   struct fs_filter_error *err)
{
	struct fs_ruleset *rules;
	int rc;

	*out = NULL;
	rc = fs_ruleset_load(&rules, path, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < rules->count; i++) {
		const struct fs_filter_rule *r = &rules->rules[i];
		const char *loop = r->drop ? NULL : fs_config_filter_loop(config, r->topic);

		if (loop == NULL)
			continue;
		memset(err, 0, sizeof(*err));
		err->line = r->line;
		snprintf(err->text, sizeof(err->text),
			 "%s:%u: rule %s produces to %s, which is also %s, so its flows would "
			 "come back to the filter without end", path, r->line, r->name, r->topic,
			 loop);
		fs_ruleset_free(rules);
		return FS_ERR_INVALID;
	}
	*out = rules;
	return 0;
}
