/* prefix_table.c - binary tries for longest-prefix match of IPv4 and IPv6. */
#include "enrich/prefix_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_text.h"
#include "core/result.h"
#include "enrich/textfile.h"
#include "net/cidr.h"

#define NO_NODE 0          /* node 0 is the root, never a child */
#define NO_VALUE UINT32_MAX

struct trie_node {
	uint32_t child[2];
	uint32_t value;        /* index in values, or NO_VALUE */
};

struct trie {
	struct trie_node *nodes;
	size_t count;
	size_t cap;
};

struct fs_prefix_table {
	struct trie v4;
	struct trie v6;
	char **values;
	size_t value_count;
	size_t value_cap;
};

static int
trie_init(struct trie *t)
{
	t->cap = 64;
	t->nodes = malloc(t->cap * sizeof(*t->nodes));
	if (t->nodes == NULL)
		return FS_ERR_SYSTEM;
	t->nodes[0] = (struct trie_node){ { NO_NODE, NO_NODE }, NO_VALUE };
	t->count = 1;
	return 0;
}

static int
trie_new_node(struct trie *t, uint32_t *index)
{
	if (t->count == t->cap) {
		size_t cap = t->cap * 2;
		struct trie_node *grown = realloc(t->nodes, cap * sizeof(*grown));

		if (grown == NULL || cap > UINT32_MAX)
			return FS_ERR_SYSTEM;
		t->nodes = grown;
		t->cap = cap;
	}
	t->nodes[t->count] = (struct trie_node){ { NO_NODE, NO_NODE }, NO_VALUE };
	*index = (uint32_t)t->count++;
	return 0;
}

static int
bit_at(const uint8_t *bytes, unsigned i)
{
	return (bytes[i / 8] >> (7 - i % 8)) & 1;
}

struct fs_prefix_table *
fs_prefix_table_new(void)
{
	struct fs_prefix_table *table = calloc(1, sizeof(*table));

	if (table == NULL)
		return NULL;
	if (trie_init(&table->v4) != 0 || trie_init(&table->v6) != 0) {
		fs_prefix_table_free(table);
		return NULL;
	}
	return table;
}

void
fs_prefix_table_free(struct fs_prefix_table *table)
{
	if (table == NULL)
		return;
	free(table->v4.nodes);
	free(table->v6.nodes);
	for (size_t i = 0; i < table->value_count; i++)
		free(table->values[i]);
	free(table->values);
	free(table);
}

size_t
fs_prefix_table_count(const struct fs_prefix_table *table)
{
	return table->value_count;
}

static int
add_value(struct fs_prefix_table *table, const char *value, uint32_t *index)
{
	char *copy;

	if (table->value_count == table->value_cap) {
		size_t cap = table->value_cap == 0 ? 64 : table->value_cap * 2;
		char **grown = realloc(table->values, cap * sizeof(*grown));

		if (grown == NULL)
			return FS_ERR_SYSTEM;
		table->values = grown;
		table->value_cap = cap;
	}
	copy = strdup(value);
	if (copy == NULL)
		return FS_ERR_SYSTEM;
	table->values[table->value_count] = copy;
	*index = (uint32_t)table->value_count++;
	return 0;
}

int
fs_prefix_table_add(struct fs_prefix_table *table, const struct fs_addr *prefix,
		    unsigned len, const char *value)
{
	struct trie *t;
	unsigned max_len;
	uint32_t node = 0;

	if (prefix->family == 4) {
		t = &table->v4;
		max_len = 32;
	} else if (prefix->family == 6) {
		t = &table->v6;
		max_len = 128;
	} else {
		return FS_ERR_INVALID;
	}
	if (len > max_len)
		return FS_ERR_INVALID;
	for (unsigned i = len; i < max_len; i++) {
		if (bit_at(prefix->bytes, i))
			return FS_ERR_INVALID;
	}
	if (table->value_count >= FS_PREFIX_TABLE_MAX_PREFIXES)
		return FS_ERR_FULL;

	for (unsigned i = 0; i < len; i++) {
		int bit = bit_at(prefix->bytes, i);
		uint32_t next = t->nodes[node].child[bit];

		if (next == NO_NODE) {
			if (trie_new_node(t, &next) != 0)
				return FS_ERR_SYSTEM;
			t->nodes[node].child[bit] = next;
		}
		node = next;
	}
	if (t->nodes[node].value != NO_VALUE)
		return FS_ERR_FULL;
	return add_value(table, value, &t->nodes[node].value);
}

const char *
fs_prefix_table_lookup(const struct fs_prefix_table *table, const struct fs_addr *addr)
{
	const struct trie *t;
	unsigned max_len;
	uint32_t node = 0;
	uint32_t best;

	if (addr->family == 4) {
		t = &table->v4;
		max_len = 32;
	} else if (addr->family == 6) {
		t = &table->v6;
		max_len = 128;
	} else {
		return NULL;
	}
	best = t->nodes[0].value;
	for (unsigned i = 0; i < max_len; i++) {
		node = t->nodes[node].child[bit_at(addr->bytes, i)];
		if (node == NO_NODE)
			break;
		if (t->nodes[node].value != NO_VALUE)
			best = t->nodes[node].value;
	}
	return best == NO_VALUE ? NULL : table->values[best];
}

static int
is_tag_text(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_.:/-@+", *s) != NULL))
			return 0;
	}
	return 1;
}

/* Joins the key=value words of line into tags ("a=b,c=d"). */
static int
join_tags(const struct fs_text_line *line, char *tags, char *err, size_t err_len)
{
	size_t used = 0;

	tags[0] = '\0';
	if (line->count < 2)
		return fs_fail(err, err_len, FS_ERR_INVALID, "line %u: prefix without tags",
			       line->number);
	for (size_t i = 1; i < line->count; i++) {
		const struct fs_text_word *w = &line->words[i];
		int n;

		if (w->key == NULL)
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "line %u: '%s' is not a key=value tag", line->number,
				       w->value);
		if (!is_tag_text(w->key) || !is_tag_text(w->value))
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "line %u: tag '%s=%s' has an empty part or a character "
				       "outside letters, digits and _.:/-@+",
				       line->number, w->key, w->value);
		n = snprintf(tags + used, FS_FLOW_TAGS_LEN - used, "%s%s=%s",
			     used > 0 ? "," : "", w->key, w->value);
		if (n < 0 || (size_t)n >= FS_FLOW_TAGS_LEN - used)
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "line %u: tags longer than %d bytes", line->number,
				       FS_FLOW_TAGS_LEN - 1);
		used += (size_t)n;
	}
	return 0;
}

/*
 * Adds prefix with value (copied).  Returns 0, FS_ERR_INVALID for a prefix
 * already in the table, FS_ERR_FULL past FS_PREFIX_TABLE_MAX_PREFIXES or
 * FS_ERR_SYSTEM, with the reason and the quoted item (item_len bytes) in err.
 */
static int
add_prefix(struct fs_prefix_table *table, const struct fs_cidr *prefix, const char *value,
	   const char *item, size_t item_len, char *err, size_t err_len)
{
	int full = table->value_count >= FS_PREFIX_TABLE_MAX_PREFIXES;
	int rc = fs_prefix_table_add(table, &prefix->prefix, prefix->length, value);

	if (rc == FS_ERR_FULL && full)
		return fs_cidr_item_fail(err, err_len, rc, item, item_len,
					 "more than %d prefixes", FS_PREFIX_TABLE_MAX_PREFIXES);
	if (rc == FS_ERR_FULL)
		return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, item, item_len,
					 "listed twice");
	if (rc == FS_ERR_SYSTEM)
		return fs_fail(err, err_len, rc, "out of memory");
	if (rc < 0)
		return fs_cidr_item_fail(err, err_len, rc, item, item_len, "rejected by the table");
	return 0;
}

int
fs_prefix_table_parse(struct fs_prefix_table *table, const char *text, size_t len,
		      char *err, size_t err_len)
{
	struct fs_text_reader reader = { .data = text, .len = len };
	struct fs_text_line *line = malloc(sizeof(*line));
	char tags[FS_FLOW_TAGS_LEN];
	int rc;

	if (line == NULL)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	while ((rc = fs_text_next_line(&reader, line, err, err_len)) > 0) {
		const struct fs_text_word *first = &line->words[0];
		struct fs_cidr prefix;
		char reason[256];

		if (first->key != NULL) {
			rc = fs_fail(err, err_len, FS_ERR_INVALID,
				     "line %u: '%s=%s' is not a prefix such as 10.0.0.0/8 or 2001:db8::/32",
				     line->number, first->key, first->value);
			break;
		}
		rc = fs_cidr_parse(&prefix, first->value, strlen(first->value), reason, sizeof(reason));
		if (rc < 0) {
			fs_fail(err, err_len, rc, "line %u: %s", line->number, reason);
			break;
		}
		rc = join_tags(line, tags, err, err_len);
		if (rc < 0)
			break;
		rc = add_prefix(table, &prefix, tags, first->value, strlen(first->value), reason,
				sizeof(reason));
		if (rc < 0) {
			fs_fail(err, err_len, rc, "line %u: %s", line->number, reason);
			break;
		}
	}
	free(line);
	return rc < 0 ? rc : 0;
}

/* Adds prefix with value "" to the table at opaque, as an fs_cidr_item_fn. */
static int
add_list_item(void *opaque, const struct fs_cidr *prefix, const char *item, size_t item_len,
	      char *err, size_t err_len)
{
	return add_prefix(opaque, prefix, "", item, item_len, err, err_len);
}

int
fs_prefix_table_add_list(struct fs_prefix_table *table, const char *list, char *err,
			 size_t err_len)
{
	return fs_cidr_list_walk(list, add_list_item, table, err, err_len);
}

/* fs_prefix_table_parse() in the form fs_text_parse_file() calls. */
static int
parse_text(void *table, const char *text, size_t len, char *err, size_t err_len)
{
	return fs_prefix_table_parse(table, text, len, err, err_len);
}

int
fs_prefix_table_load(const char *path, struct fs_prefix_table **out, char *err,
		     size_t err_len)
{
	struct fs_prefix_table *table;
	int rc;

	*out = NULL;
	table = fs_prefix_table_new();
	if (table == NULL)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	rc = fs_text_parse_file(path, parse_text, table, err, err_len);
	if (rc < 0) {
		fs_prefix_table_free(table);
		return rc;
	}
	*out = table;
	return 0;
}
