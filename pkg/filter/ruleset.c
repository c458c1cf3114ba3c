/* ruleset.c - parses rules files: definitions and routing rules. */
#include "filter/ruleset.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/regular_file.h"
#include "core/result.h"
#include "filter/lexer.h"

struct statement_parser {
	const char *text;
	size_t len;
	const char *origin;
	struct fs_filter_defs *defs;
	struct fs_ruleset *ruleset;
	struct fs_filter_error *err;
};

static bool
is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static bool
is_topic_char(char c)
{
	return is_name_char(c) || c == '.';
}

static size_t
skip_blanks(const char *text, size_t pos, size_t end)
{
	while (pos < end && (text[pos] == ' ' || text[pos] == '\t'))
		pos++;
	return pos;
}

/* Returns the end of the word of chars accepted by ok that starts at pos. */
static size_t
word_end(const char *text, size_t pos, size_t end, bool (*ok)(char))
{
	while (pos < end && ok(text[pos]))
		pos++;
	return pos;
}

static int
header_error(struct statement_parser *sp, size_t begin, size_t end, size_t pos,
	     const char *what)
{
	struct fs_filter_source src = { sp->text, begin, end, sp->origin };
	char found[40];
	size_t n = 0;

	while (pos + n < end && n < sizeof(found) - 1 && !isspace((unsigned char)sp->text[pos + n]))
		n++;
	memcpy(found, sp->text + pos, n);
	found[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!isprint((unsigned char)found[i]))
			found[i] = '.';
	}
	if (n == 0)
		fs_filter_error_at(sp->err, &src, pos, "expected %s", what);
	else
		fs_filter_error_at(sp->err, &src, pos, "expected %s, found '%s'", what, found);
	return FS_ERR_INVALID;
}

static unsigned
line_of(const char *text, size_t pos)
{
	unsigned line = 1;

	for (size_t i = 0; i < pos; i++)
		line += text[i] == '\n';
	return line;
}

/* Parses `rule NAME [topic TOPIC | drop]: EXPRESSION` in text[begin..end); pos follows "rule". */
static int
parse_rule(struct statement_parser *sp, size_t begin, size_t end, size_t pos)
{
	struct fs_filter_rule rule = { 0 };
	struct fs_filter_source src = { sp->text, 0, end, sp->origin };
	struct fs_ruleset *rs = sp->ruleset;
	size_t name_end, word;
	int rc;

	pos = skip_blanks(sp->text, pos, end);
	name_end = word_end(sp->text, pos, end, is_name_char);
	if (name_end == pos || name_end - pos >= FS_FILTER_NAME_MAX)
		return header_error(sp, begin, end, pos,
				    "a rule name of 1 to 63 letters, digits, '_' or '-'");
	memcpy(rule.name, sp->text + pos, name_end - pos);
	if (fs_ruleset_find(rs, rule.name) >= 0)
		return header_error(sp, begin, end, pos, "a rule name not used by an earlier rule");
	snprintf(rule.topic, sizeof(rule.topic), "flows.filtered.%s", rule.name);
	pos = skip_blanks(sp->text, name_end, end);
	word = word_end(sp->text, pos, end, is_name_char);
	if (word - pos == 4 && strncmp(sp->text + pos, "drop", 4) == 0) {
		rule.drop = true;
		rule.topic[0] = '\0';
		pos = skip_blanks(sp->text, word, end);
	} else if (word - pos == 5 && strncmp(sp->text + pos, "topic", 5) == 0) {
		size_t topic_begin = skip_blanks(sp->text, word, end);
		size_t topic_end = word_end(sp->text, topic_begin, end, is_topic_char);

		if (topic_end == topic_begin || topic_end - topic_begin >= FS_RULESET_TOPIC_MAX)
			return header_error(sp, begin, end, topic_begin,
					    "a Kafka topic name of letters, digits, '.', '_' or '-'");
		memcpy(rule.topic, sp->text + topic_begin, topic_end - topic_begin);
		rule.topic[topic_end - topic_begin] = '\0';
		pos = skip_blanks(sp->text, topic_end, end);
	}
	if (pos >= end || sp->text[pos] != ':')
		return header_error(sp, begin, end, pos,
				    "':' before the expression, or 'topic TOPIC' or 'drop'");
	if (rs->count >= FS_RULESET_MAX_RULES)
		return header_error(sp, begin, end, begin, "at most 1024 rules in one file");
	src.begin = pos + 1;
	rc = fs_filter_compile_source(&rule.filter, &src, sp->defs, sp->err);
	if (rc < 0)
		return rc;
	rule.line = line_of(sp->text, begin);
	rs->rules[rs->count++] = rule;
	return 0;
}

/* Parses one statement in text[begin..end). */
static int
parse_statement(struct statement_parser *sp, size_t begin, size_t end)
{
	struct fs_filter_source src = { sp->text, 0, end, sp->origin };
	size_t name_end = word_end(sp->text, begin, end, is_name_char);
	size_t pos;

	if (name_end - begin == 4 && strncmp(sp->text + begin, "rule", 4) == 0 &&
	    name_end < end && isspace((unsigned char)sp->text[name_end]))
		return parse_rule(sp, begin, end, name_end);
	if (name_end == begin)
		return header_error(sp, begin, end, begin,
				    "'NAME = EXPRESSION' or 'rule NAME: EXPRESSION'");
	pos = skip_blanks(sp->text, name_end, end);
	if (pos >= end || sp->text[pos] != '=' || (pos + 1 < end && sp->text[pos + 1] == '='))
		return header_error(sp, begin, end, pos,
				    "'=' after the definition name (statements are "
				    "'NAME = EXPRESSION' or 'rule NAME: EXPRESSION')");
	src.begin = pos + 1;
	sp->ruleset->definitions++;
	return fs_filter_defs_add(sp->defs, sp->text + begin, name_end - begin, &src, sp->err);
}

/* Returns the offset after the line that starts at pos. */
static size_t
next_line(const char *text, size_t pos, size_t len)
{
	while (pos < len && text[pos] != '\n')
		pos++;
	return pos < len ? pos + 1 : len;
}

/* Returns true when the line at pos starts a statement (not indented, blank or a comment). */
static bool
starts_statement(const char *text, size_t pos, size_t len)
{
	return pos < len && !isspace((unsigned char)text[pos]) && text[pos] != '#';
}

int
fs_ruleset_parse(struct fs_ruleset **out, const char *text, size_t len,
		 const char *origin, struct fs_filter_error *err)
{
	struct statement_parser sp = { text, len, origin, NULL, NULL, err };
	size_t pos = 0;
	int rc = 0;

	*out = NULL;
	sp.ruleset = calloc(1, sizeof(*sp.ruleset));
	sp.defs = fs_filter_defs_new();
	if (sp.ruleset != NULL)
		sp.ruleset->rules = calloc(FS_RULESET_MAX_RULES, sizeof(*sp.ruleset->rules));
	if (sp.ruleset == NULL || sp.defs == NULL || sp.ruleset->rules == NULL) {
		snprintf(err->text, sizeof(err->text), "out of memory while reading rules");
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	while (pos < len) {
		size_t begin, end;

		if (!starts_statement(text, pos, len)) {
			size_t first = skip_blanks(text, pos, len);

			if (first < len && !isspace((unsigned char)text[first]) && text[first] != '#') {
				struct fs_filter_source src = { text, pos, len, origin };

				fs_filter_error_at(err, &src, first,
						   "an indented line continues a statement, but no "
						   "statement starts before it; start the statement "
						   "at column 1");
				rc = FS_ERR_INVALID;
				goto out;
			}
			pos = next_line(text, pos, len);
			continue;
		}
		begin = pos;
		end = next_line(text, pos, len);
		while (end < len && !starts_statement(text, end, len))
			end = next_line(text, end, len);
		rc = parse_statement(&sp, begin, end);
		if (rc < 0)
			goto out;
		pos = end;
	}
	*out = sp.ruleset;
	sp.ruleset = NULL;
out:
	fs_ruleset_free(sp.ruleset);
	fs_filter_defs_free(sp.defs);
	return rc;
}

int
fs_ruleset_load(struct fs_ruleset **out, const char *path, struct fs_filter_error *err)
{
	FILE *file;
	char *text = NULL;
	const char *reason;
	uint64_t size;
	int rc, fd;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	fd = fs_regular_file_open(path, &size, &reason);
	file = fd < 0 ? NULL : fdopen(fd, "rb");
	if (file == NULL) {
		snprintf(err->text, sizeof(err->text), "cannot open rules file '%s': %s", path,
			 fd < 0 ? reason : strerror(errno));
		if (fd >= 0)
			close(fd);
		return FS_ERR_NOT_FOUND;
	}
	if (size > FS_RULESET_MAX_FILE) {
		snprintf(err->text, sizeof(err->text),
			 "rules file '%s' is %llu bytes, more than the %u bytes accepted", path,
			 (unsigned long long)size, FS_RULESET_MAX_FILE);
		rc = FS_ERR_INVALID;
		goto out;
	}
	text = malloc((size_t)size + 1);
	if (text == NULL || fread(text, 1, (size_t)size, file) != (size_t)size) {
		snprintf(err->text, sizeof(err->text), "cannot read rules file '%s': %s", path,
			 text == NULL ? "out of memory" : "short read");
		rc = text == NULL ? FS_ERR_SYSTEM : FS_ERR_NOT_FOUND;
		goto out;
	}
	text[size] = '\0';
	rc = fs_ruleset_parse(out, text, (size_t)size, path, err);
out:
	free(text);
	fclose(file);
	return rc;
}

void
fs_ruleset_free(struct fs_ruleset *ruleset)
{
	if (ruleset == NULL)
		return;
	if (ruleset->rules != NULL) {
		for (size_t i = 0; i < ruleset->count; i++)
			fs_filter_free(ruleset->rules[i].filter);
	}
	free(ruleset->rules);
	free(ruleset);
}

int
fs_ruleset_find(const struct fs_ruleset *ruleset, const char *name)
{
	for (size_t i = 0; i < ruleset->count; i++) {
		if (strcmp(ruleset->rules[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}
