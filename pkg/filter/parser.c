/*
 * parser.c - filter text to a tree, named definitions, and code generation.
 *
 * Grammar (words are case-insensitive):
 *
 *   expr      = and { ("or" | "||") and }
 *   and       = unary { ("and" | "&&") unary }
 *   unary     = ("not" | "!") unary | primary
 *   primary   = "(" expr ")" | "any" | [direction] test
 *   direction = "src" | "dst" | "src or dst" | "src and dst" | "any" | "in" | "out"
 *   test      = keyword value-test | field value-test | definition
 *             | "ipv4" | "inet" | "ipv6" | "inet6" | protocol-name
 *   value-test = [op] value | "in" "[" value { [","] value } "]"
 *   op        = "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | eq ne lt le gt ge
 *
 * The value syntax depends on the field: numbers (decimal or 0x hex, with an
 * optional k, m, g or t multiplier of 1000), ranges lo-hi, symbolic names
 * (tcp, egress, ipfix), TCP flag letters, addresses with an optional
 * /prefix, MAC addresses, or strings.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/result.h"
#include "filter/fields.h"
#include "filter/filter.h"
#include "filter/lexer.h"
#include "filter/program.h"

/* Pool entries (ranges, or addresses and strings) one expression may hold. */
#define MAX_POOL (FS_FILTER_MAX_NODES * 16u)

struct tree {
	struct fs_filter_insn *nodes;
	size_t node_count, node_cap;
	struct fs_filter_range *ranges;
	size_t range_count, range_cap;
	struct fs_filter_value *values;
	size_t value_count, value_cap;
	uint32_t root;
};

struct definition {
	char name[FS_FILTER_NAME_MAX];
	struct tree tree;
};

struct fs_filter_defs {
	struct definition *items;
	size_t count, cap;
};

enum value_style {
	STYLE_PLAIN,     /* field name or keyword without special meaning */
	STYLE_HOST,      /* host, ip: an address without prefix */
	STYLE_NET,       /* net: also 10.0/16 and a dotted netmask after the address */
	STYLE_FLAGS,     /* flags keyword: letters mean "all set", implies proto tcp */
};

struct parser {
	struct fs_filter_lexer lx;
	struct fs_filter_token tok;
	const struct fs_filter_source *src;
	const struct fs_filter_defs *defs;
	struct tree *tree;
	struct fs_filter_error *err;
	unsigned depth;
	int rc;
	const char *label; /* keyword or field name of the value being parsed */
	bool length_given; /* the last address parsed had a /prefix length */
};

/* Words that cannot name a definition. */
static const char *const reserved_words[] = {
	"and", "or", "not", "src", "dst", "any", "in", "out", "ipv4", "ipv6",
	"inet", "inet6", "eq", "ne", "lt", "le", "gt", "ge", "all",
};

static const struct {
	char letter;
	uint8_t bit;
} flag_letters[] = {
	{ 'F', 0x01 }, { 'S', 0x02 }, { 'R', 0x04 }, { 'P', 0x08 },
	{ 'A', 0x10 }, { 'U', 0x20 }, { 'E', 0x40 }, { 'C', 0x80 },
	{ 'X', 0x3f },
};

static void
tree_release(struct tree *t)
{
	free(t->nodes);
	free(t->ranges);
	free(t->values);
	memset(t, 0, sizeof(*t));
}

/* Grows *items to hold need entries of size bytes; returns 0 or -1. */
static int
grow(void **items, size_t *cap, size_t need, size_t size)
{
	size_t new_cap;
	void *grown;

	if (need <= *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 16;
	while (new_cap < need)
		new_cap *= 2;
	grown = realloc(*items, new_cap * size);
	if (grown == NULL)
		return -1;
	*items = grown;
	*cap = new_cap;
	return 0;
}

static int
fail(struct parser *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	if (p->rc != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	p->rc = FS_ERR_INVALID;
	fs_filter_error_at(p->err, p->src, pos, "%s", message);
	return -1;
}

static int
fail_memory(struct parser *p)
{
	if (p->rc == 0) {
		p->rc = FS_ERR_SYSTEM;
		if (p->err != NULL) {
			p->err->line = 0;
			p->err->column = 0;
			snprintf(p->err->text, sizeof(p->err->text),
				 "out of memory while compiling a filter");
		}
	}
	return -1;
}

/* Fails with "expected WHAT, found TOKEN" at the current token. */
static int
expected(struct parser *p, const char *what)
{
	char found[64];

	fs_filter_token_describe(&p->lx, &p->tok, found, sizeof(found));
	return fail(p, p->tok.pos, "expected %s, found %s", what, found);
}

static void
advance(struct parser *p)
{
	fs_filter_lexer_next(&p->lx, &p->tok);
}

static void
peek(const struct parser *p, unsigned ahead, struct fs_filter_token *out)
{
	struct fs_filter_lexer copy = p->lx;

	*out = p->tok;
	for (unsigned i = 0; i < ahead; i++)
		fs_filter_lexer_next(&copy, out);
}

static bool
is_word(const struct parser *p, const char *word)
{
	return fs_filter_token_is(&p->lx, &p->tok, word);
}

static const char *
tok_text(const struct parser *p)
{
	return p->src->buf + p->tok.pos;
}

static int
add_node(struct parser *p, const struct fs_filter_insn *node)
{
	struct tree *t = p->tree;

	if (t->node_count >= FS_FILTER_MAX_NODES)
		return fail(p, p->tok.pos, "the expression has more than %u primitives and operators",
			    FS_FILTER_MAX_NODES);
	if (grow((void **)&t->nodes, &t->node_cap, t->node_count + 1, sizeof(*t->nodes)) < 0)
		return fail_memory(p);
	t->nodes[t->node_count] = *node;
	return (int)t->node_count++;
}

static int
add_range(struct parser *p, uint64_t lo, uint64_t hi)
{
	struct tree *t = p->tree;

	if (t->range_count >= MAX_POOL)
		return fail(p, p->tok.pos, "the expression has more than %u values", MAX_POOL);
	if (grow((void **)&t->ranges, &t->range_cap, t->range_count + 1, sizeof(*t->ranges)) < 0)
		return fail_memory(p);
	t->ranges[t->range_count].lo = lo;
	t->ranges[t->range_count].hi = hi;
	t->range_count++;
	return 0;
}

static int
add_value(struct parser *p, const struct fs_filter_value *value)
{
	struct tree *t = p->tree;

	if (t->value_count >= MAX_POOL)
		return fail(p, p->tok.pos, "the expression has more than %u values", MAX_POOL);
	if (grow((void **)&t->values, &t->value_cap, t->value_count + 1, sizeof(*t->values)) < 0)
		return fail_memory(p);
	t->values[t->value_count++] = *value;
	return 0;
}

static int
binary_node(struct parser *p, enum fs_filter_op op, int left, int right)
{
	struct fs_filter_insn node = { .op = (uint8_t)op, .field = -1, .field_dst = -1 };

	node.a = (uint32_t)left;
	node.b = (uint32_t)right;
	return add_node(p, &node);
}

/* ---- values ---- */

static uint64_t
field_max(int field)
{
	const struct fs_filter_field *f = &fs_filter_fields[field];

	if (f->kind == FS_FK_INT64 || f->size >= 8)
		return UINT64_MAX;
	return (1ull << (8 * f->size)) - 1;
}

/* Parses text[0..len) as a number with an optional k/m/g/t multiplier; returns 0 or -1. */
static int
parse_number(const char *text, size_t len, uint64_t *out)
{
	uint64_t value = 0, scale = 1;
	unsigned base = 10;
	size_t i = 0;

	if (len == 0)
		return -1;
	switch (tolower((unsigned char)text[len - 1])) {
	case 'k': scale = 1000ull; len--; break;
	case 'm': scale = 1000000ull; len--; break;
	case 'g': scale = 1000000000ull; len--; break;
	case 't': scale = 1000000000000ull; len--; break;
	}
	if (len > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		if (scale != 1)
			return -1;
		base = 16;
		i = 2;
	}
	if (i >= len)
		return -1;
	for (; i < len; i++) {
		int c = tolower((unsigned char)text[i]);
		unsigned digit;

		if (isdigit(c))
			digit = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			digit = (unsigned)(c - 'a' + 10);
		else
			return -1;
		if (value > (UINT64_MAX - digit) / base)
			return -1;
		value = value * base + digit;
	}
	if (value > UINT64_MAX / scale)
		return -1;
	*out = value * scale;
	return 0;
}

/* Maps a parsed non-negative number into the field's comparison domain. */
static int
to_domain(int field, uint64_t value, uint64_t *out)
{
	if (fs_filter_fields[field].kind == FS_FK_INT64) {
		if (value > (uint64_t)INT64_MAX)
			return -1;
		*out = value ^ (1ull << 63);
		return 0;
	}
	if (value > field_max(field))
		return -1;
	*out = value;
	return 0;
}

static int
parse_flag_letters(const char *text, size_t len, uint64_t *out)
{
	uint64_t bits = 0;

	if (len == 0 || len > 9)
		return -1;
	for (size_t i = 0; i < len; i++) {
		size_t j;
		char c = (char)toupper((unsigned char)text[i]);

		for (j = 0; j < sizeof(flag_letters) / sizeof(flag_letters[0]); j++) {
			if (flag_letters[j].letter == c)
				break;
		}
		if (j == sizeof(flag_letters) / sizeof(flag_letters[0]))
			return -1;
		bits |= flag_letters[j].bit;
	}
	*out = bits;
	return 0;
}

/* Parses one scalar of a numeric field: a name, flag letters or a number. */
static int
parse_scalar(int field, const char *text, size_t len, uint64_t *out)
{
	const struct fs_filter_field *f = &fs_filter_fields[field];
	uint64_t value;

	if (f->names != NULL) {
		for (const struct fs_filter_name *n = f->names; n->name != NULL; n++) {
			if (strlen(n->name) == len && strncasecmp(n->name, text, len) == 0) {
				*out = n->value;
				return 0;
			}
		}
	}
	if (parse_number(text, len, &value) == 0)
		return to_domain(field, value, out);
	if (f->kind == FS_FK_FLAGS && parse_flag_letters(text, len, &value) == 0) {
		*out = value;
		return 0;
	}
	return -1;
}

/* Writes what a value of field looks like, for messages. */
static void
describe_value(int field, const char *label, char *buf, size_t len)
{
	const struct fs_filter_field *f = &fs_filter_fields[field];

	switch (f->kind) {
	case FS_FK_ADDR:
		if (strcmp(label, "net") == 0)
			snprintf(buf, len, "an IPv4 or IPv6 prefix such as 10.0.0.0/8, 10.0/16, "
				 "10.0.0.0 255.0.0.0 or 2001:db8::/32");
		else
			snprintf(buf, len, "an IPv4 or IPv6 address with an optional /prefix length");
		return;
	case FS_FK_MAC:
		snprintf(buf, len, "a MAC address such as 00:1b:21:3c:4d:5e");
		return;
	case FS_FK_STRING:
		snprintf(buf, len, "a word or a \"quoted string\" (%s)", f->doc);
		return;
	case FS_FK_TAGS:
		snprintf(buf, len, "a tag such as role=core, a tag key such as role, or a \"quoted string\"");
		return;
	case FS_FK_FLAGS:
		snprintf(buf, len, "TCP flag letters (F S R P A U E C, X for FSRPAU) or a number 0..255");
		return;
	default:
		break;
	}
	if (f->names != NULL)
		snprintf(buf, len, "a name such as %s or a number 0..%llu after '%s'",
			 f->names[0].name, (unsigned long long)field_max(field), label);
	else if (f->kind == FS_FK_INT64)
		snprintf(buf, len, "a number after '%s' (%s)", label, f->doc);
	else
		snprintf(buf, len, "a number 0..%llu or a range such as 10-20 after '%s'",
			 (unsigned long long)field_max(field), label);
}

static int
fail_value(struct parser *p, int field)
{
	char what[160];

	describe_value(field, p->label ? p->label : fs_filter_fields[field].name, what,
		       sizeof(what));
	return expected(p, what);
}

/* Parses the current word as a number or range of field into [lo, hi]. */
static int
parse_range_word(struct parser *p, int field, uint64_t *lo, uint64_t *hi)
{
	const char *text = tok_text(p);
	size_t len = p->tok.len;
	const char *dash;

	if (p->tok.type != FS_TOK_WORD)
		return fail_value(p, field);
	if (parse_scalar(field, text, len, lo) == 0) {
		*hi = *lo;
		return 0;
	}
	dash = memchr(text, '-', len);
	if (dash != NULL && dash > text &&
	    parse_scalar(field, text, (size_t)(dash - text), lo) == 0 &&
	    parse_scalar(field, dash + 1, len - (size_t)(dash - text) - 1, hi) == 0) {
		if (*lo > *hi)
			return fail(p, p->tok.pos, "the range %.*s is empty: its start is above its end",
				    (int)len, text);
		return 0;
	}
	return fail_value(p, field);
}

static bool
is_v4_mapped(const uint8_t bytes[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(bytes, prefix, sizeof(prefix)) == 0;
}

/*
 * Expands an abbreviated IPv4 prefix address of two or three octets
 * ("10.0", "172.16.5") into a dotted quad with the missing octets 0, as
 * nfdump 1.7.1 does for `net 10.0/16`.  Returns false for other text.
 */
static bool
expand_abbreviated_v4(const char *text, char *out, size_t len)
{
	unsigned octets = 1, digits = 0;

	for (const char *c = text; *c != '\0'; c++) {
		if (*c == '.') {
			if (digits == 0)
				return false;
			octets++;
			digits = 0;
		} else if (isdigit((unsigned char)*c) && digits < 3) {
			digits++;
		} else {
			return false;
		}
	}
	if (digits == 0 || octets < 2 || octets > 3)
		return false;
	return snprintf(out, len, "%s%s", text, octets == 2 ? ".0.0" : ".0") < (int)len;
}

/*
 * Parses the current word as an address or prefix.  STYLE_HOST rejects a
 * /prefix, and STYLE_NET also accepts an abbreviated IPv4 prefix such as
 * 10.0/16.  Sets p->length_given.
 */
static int
parse_prefix(struct parser *p, int field, enum value_style style, struct fs_filter_value *out)
{
	char text[64], full[64];
	const char *slash;
	struct fs_addr addr;
	size_t addr_len;
	unsigned bits;

	if (p->tok.type != FS_TOK_WORD || p->tok.len >= sizeof(text))
		return fail_value(p, field);
	memcpy(text, tok_text(p), p->tok.len);
	text[p->tok.len] = '\0';
	slash = strchr(text, '/');
	addr_len = slash ? (size_t)(slash - text) : strlen(text);
	text[addr_len] = '\0';
	p->length_given = slash != NULL;
	if (fs_addr_parse(&addr, text) != 0) {
		bool abbreviated = style == STYLE_NET && expand_abbreviated_v4(text, full, sizeof(full));

		if (abbreviated && slash == NULL) {
			bool three_octets = strchr(strchr(text, '.') + 1, '.') != NULL;
			unsigned example_length = three_octets ? 24u : 16u;

			return fail(p, p->tok.pos, "the abbreviated IPv4 prefix '%s' needs a prefix "
				    "length, such as %s/%u", text, text, example_length);
		}
		if (!abbreviated || fs_addr_parse(&addr, full) != 0)
			return fail_value(p, field);
	}
	bits = addr.family == 4 ? 32 : 128;
	if (slash != NULL) {
		char *end;
		unsigned long n;

		/* The length is checked first, so the hint below names only a valid prefix. */
		errno = 0;
		n = strtoul(slash + 1, &end, 10);
		if (errno != 0 || end == slash + 1 || *end != '\0' || n > bits)
			return fail(p, p->tok.pos + addr_len + 1,
				    "expected a prefix length 0..%u, found '%s'", bits, slash + 1);
		if (style == STYLE_HOST)
			return fail(p, p->tok.pos,
				    "expected an address without a prefix length after 'host'; "
				    "use 'net %s/%s' to match a prefix", text, slash + 1);
		bits = (unsigned)n;
	}
	memset(out, 0, sizeof(*out));
	/* An IPv4-mapped IPv6 prefix matches IPv4 addresses, native or mapped. */
	if (addr.family == 6 && is_v4_mapped(addr.bytes) && bits >= 96) {
		out->family = 4;
		out->bits = (uint8_t)(bits - 96);
		memcpy(out->bytes, addr.bytes + 12, 4);
	} else {
		out->family = addr.family;
		out->bits = (uint8_t)bits;
		memcpy(out->bytes, addr.bytes, addr.family == 4 ? 4 : 16);
	}
	return 0;
}

/*
 * Reads the dotted IPv4 netmask that may follow the address of `net`
 * (net 10.0.0.0 255.255.255.0) and sets the prefix length of value from
 * it.  No primitive starts with a digit, so a word that does is taken as
 * a netmask.  Returns 0 or -1.
 */
static int
parse_netmask(struct parser *p, struct fs_filter_value *value)
{
	char text[64];
	struct fs_addr mask;
	uint32_t bits;
	unsigned ones = 0;

	if (p->tok.type != FS_TOK_WORD || !isdigit((unsigned char)tok_text(p)[0]))
		return 0;
	if (p->tok.len >= sizeof(text))
		return expected(p, "a netmask such as 255.255.255.0");
	memcpy(text, tok_text(p), p->tok.len);
	text[p->tok.len] = '\0';
	if (fs_addr_parse(&mask, text) != 0 || mask.family != 4)
		return expected(p, "a netmask such as 255.255.255.0");
	if (p->length_given)
		return fail(p, p->tok.pos, "the address already has a /prefix length, "
			    "so a netmask cannot follow it");
	if (value->family != 4)
		return fail(p, p->tok.pos, "a netmask follows only an IPv4 address, so give "
			    "an IPv6 prefix a /length, such as 2001:db8::/32");
	bits = (uint32_t)mask.bytes[0] << 24 | (uint32_t)mask.bytes[1] << 16 |
	       (uint32_t)mask.bytes[2] << 8 | mask.bytes[3];
	while (ones < 32 && (bits & (0x80000000u >> ones)) != 0)
		ones++;
	if (ones < 32 && (bits << ones) != 0)
		return fail(p, p->tok.pos, "the netmask %s is not contiguous: expected one bits "
			    "followed by zero bits, such as 255.255.255.0", text);
	value->bits = (uint8_t)ones;
	advance(p);
	return 0;
}

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
parse_mac(struct parser *p, int field, struct fs_filter_value *out)
{
	const char *text = tok_text(p);

	if (p->tok.type != FS_TOK_WORD || p->tok.len != 17)
		return fail_value(p, field);
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit((unsigned char)text[i * 3]);
		int lo = hex_digit((unsigned char)text[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-'))
			return fail_value(p, field);
		out->bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	out->bits = 48;
	return 0;
}

/*
 * Parses a string value: a word, a "quoted string", or for tag fields a
 * word=word pair written without spaces.
 */
static int
parse_string(struct parser *p, int field, struct fs_filter_value *out)
{
	const char *text = tok_text(p);
	size_t len = p->tok.len;
	size_t max = fs_filter_fields[field].size - 1u;

	if (p->tok.type == FS_TOK_STRING) {
		text++;
		len -= 2;
	} else if (p->tok.type != FS_TOK_WORD) {
		return fail_value(p, field);
	} else if (fs_filter_fields[field].kind == FS_FK_TAGS) {
		struct fs_filter_token eq, value;

		peek(p, 1, &eq);
		peek(p, 2, &value);
		if (eq.type == FS_TOK_EQ && eq.len == 1 && eq.pos == p->tok.pos + p->tok.len &&
		    value.type == FS_TOK_WORD && value.pos == eq.pos + 1) {
			len = value.pos + value.len - p->tok.pos;
			advance(p);
			advance(p);
		}
	}
	if (max > FS_FILTER_STRING_MAX - 1u)
		max = FS_FILTER_STRING_MAX - 1u;
	if (len > max)
		return fail(p, p->tok.pos, "the value is %zu bytes long, more than the %zu bytes "
			    "field '%s' holds", len, max, fs_filter_fields[field].name);
	if (memchr(text, '\0', len) != NULL)
		return fail_value(p, field);
	memset(out, 0, sizeof(*out));
	memcpy(out->bytes, text, len);
	out->bits = (uint8_t)len;
	return 0;
}

/* ---- primitives ---- */

/* Reads an optional comparison operator; returns the token type, FS_TOK_END when absent. */
static enum fs_filter_token_type
read_operator(struct parser *p)
{
	static const struct {
		const char *word;
		enum fs_filter_token_type type;
	} words[] = {
		{ "eq", FS_TOK_EQ }, { "ne", FS_TOK_NE }, { "lt", FS_TOK_LT },
		{ "le", FS_TOK_LE }, { "gt", FS_TOK_GT }, { "ge", FS_TOK_GE },
	};
	enum fs_filter_token_type type = p->tok.type;

	if (type >= FS_TOK_EQ && type <= FS_TOK_GE) {
		advance(p);
		return type;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (is_word(p, words[i].word)) {
			advance(p);
			return words[i].type;
		}
	}
	return FS_TOK_END;
}

/* Parses one list item or single value of field into the pools; returns 0 or -1. */
static int
parse_item(struct parser *p, int field, enum value_style style)
{
	struct fs_filter_value value;
	uint64_t lo, hi;
	int rc;

	switch (fs_filter_fields[field].kind) {
	case FS_FK_ADDR:
		rc = parse_prefix(p, field, style, &value);
		return rc < 0 ? rc : add_value(p, &value);
	case FS_FK_MAC:
		rc = parse_mac(p, field, &value);
		return rc < 0 ? rc : add_value(p, &value);
	case FS_FK_STRING:
	case FS_FK_TAGS:
		rc = parse_string(p, field, &value);
		return rc < 0 ? rc : add_value(p, &value);
	default:
		rc = parse_range_word(p, field, &lo, &hi);
		return rc < 0 ? rc : add_range(p, lo, hi);
	}
}

static enum fs_filter_op
leaf_op(int field)
{
	switch (fs_filter_fields[field].kind) {
	case FS_FK_ADDR: return FS_OP_PREFIX;
	case FS_FK_MAC: return FS_OP_MAC;
	case FS_FK_STRING: return FS_OP_STRING;
	case FS_FK_TAGS: return FS_OP_TAG;
	default: return FS_OP_RANGE;
	}
}

/* Parses `in [v1 v2 ...]` after `in` was consumed. */
static int
parse_list(struct parser *p, struct fs_filter_insn *leaf, int field, enum value_style style)
{
	size_t first_range = p->tree->range_count, first_value = p->tree->value_count;
	unsigned count = 0;

	if (p->tok.type != FS_TOK_LBRACKET)
		return expected(p, "'[' to start a list after 'in'");
	advance(p);
	while (p->tok.type != FS_TOK_RBRACKET) {
		if (p->tok.type == FS_TOK_END)
			return expected(p, "a value or ']' to close the list");
		if (count >= FS_FILTER_MAX_LIST)
			return fail(p, p->tok.pos, "a list holds at most %u values", FS_FILTER_MAX_LIST);
		if (parse_item(p, field, style) < 0)
			return -1;
		count++;
		advance(p);
		if (p->tok.type == FS_TOK_COMMA)
			advance(p);
	}
	if (count == 0)
		return expected(p, "at least one value in the list");
	advance(p);
	leaf->a = (uint32_t)(leaf->op == FS_OP_RANGE ? first_range : first_value);
	leaf->b = count;
	return 0;
}

/* Turns a comparison with one number into a range; a range that is empty becomes FALSE. */
static int
comparison_range(struct parser *p, struct fs_filter_insn *leaf, int field,
		 enum fs_filter_token_type op, size_t value_pos)
{
	struct fs_filter_range *r = &p->tree->ranges[p->tree->range_count - 1];
	uint64_t max = field_max(field), v = r->lo;

	if (op == FS_TOK_EQ || op == FS_TOK_NE || op == FS_TOK_END) {
		leaf->negate = op == FS_TOK_NE;
		return 0;
	}
	if (r->lo != r->hi)
		return fail(p, value_pos, "a range cannot be compared with <, <=, > or >=; "
			    "write the range alone to match values inside it");
	switch (op) {
	case FS_TOK_LT:
		if (v == 0)
			leaf->op = FS_OP_FALSE;
		r->lo = 0;
		r->hi = v - 1;
		break;
	case FS_TOK_LE:
		r->lo = 0;
		break;
	case FS_TOK_GT:
		if (v == max)
			leaf->op = FS_OP_FALSE;
		r->lo = v + 1;
		r->hi = max;
		break;
	default:
		r->hi = max;
		break;
	}
	return 0;
}

/*
 * Parses the value test of field (and field_dst for directional keywords)
 * after the keyword or field name was consumed.  Returns the node index or -1.
 */
static int
parse_value_test(struct parser *p, int field, int field_dst, enum fs_filter_dir dir,
		 enum value_style style)
{
	struct fs_filter_insn leaf = { .field = (int16_t)field, .field_dst = (int16_t)field_dst };
	enum fs_filter_kind kind = fs_filter_fields[field].kind;
	enum fs_filter_token_type op;
	size_t value_pos;
	int node;

	leaf.op = (uint8_t)leaf_op(field);
	leaf.dir = (uint8_t)dir;
	if (is_word(p, "in")) {
		advance(p);
		if (parse_list(p, &leaf, field, style) < 0)
			return -1;
		node = add_node(p, &leaf);
		goto flags;
	}
	op = read_operator(p);
	if (op != FS_TOK_END && op != FS_TOK_EQ && op != FS_TOK_NE &&
	    (kind == FS_FK_ADDR || kind == FS_FK_MAC || kind == FS_FK_STRING ||
	     kind == FS_FK_TAGS)) {
		return fail(p, p->tok.pos, "'%s' is compared only with =, != or in [...]",
			    fs_filter_fields[field].name);
	}
	value_pos = p->tok.pos;
	if (style == STYLE_FLAGS && op == FS_TOK_END) {
		uint64_t bits;

		if (p->tok.type != FS_TOK_WORD ||
		    parse_scalar(field, tok_text(p), p->tok.len, &bits) < 0)
			return fail_value(p, field);
		advance(p);
		leaf.op = FS_OP_MASK;
		leaf.mask = bits;
		node = add_node(p, &leaf);
		goto flags;
	}
	if (parse_item(p, field, style) < 0)
		return -1;
	advance(p);
	if (style == STYLE_NET &&
	    parse_netmask(p, &p->tree->values[p->tree->value_count - 1]) < 0)
		return -1;
	leaf.a = (uint32_t)(leaf.op == FS_OP_RANGE ? p->tree->range_count - 1
						   : p->tree->value_count - 1);
	leaf.b = 1;
	if (leaf.op == FS_OP_RANGE) {
		if (comparison_range(p, &leaf, field, op, value_pos) < 0)
			return -1;
	} else {
		leaf.negate = op == FS_TOK_NE;
	}
	node = add_node(p, &leaf);
flags:
	if (node < 0 || style != STYLE_FLAGS)
		return node;
	/* `flags` tests TCP flags, so like nfdump it also requires proto tcp. */
	{
		struct fs_filter_insn tcp = { .op = FS_OP_RANGE, .field = (int16_t)fs_filter_field_find("proto", 5),
					      .field_dst = -1, .b = 1 };

		if (add_range(p, 6, 6) < 0)
			return -1;
		tcp.a = (uint32_t)(p->tree->range_count - 1);
		return binary_node(p, FS_OP_AND, add_node(p, &tcp), node);
	}
}

static const struct definition *
find_definition(const struct fs_filter_defs *defs, const char *name, size_t len)
{
	if (defs == NULL)
		return NULL;
	for (size_t i = 0; i < defs->count; i++) {
		if (strlen(defs->items[i].name) == len &&
		    strncmp(defs->items[i].name, name, len) == 0)
			return &defs->items[i];
	}
	return NULL;
}

/*
 * Copies a definition's tree into the tree being built.  A direction other
 * than FS_DIR_NONE replaces the direction of its direction-free primitives.
 */
static int
copy_definition(struct parser *p, const struct definition *def, enum fs_filter_dir dir,
		size_t name_pos)
{
	struct tree *t = p->tree;
	const struct tree *d = &def->tree;
	size_t node_base = t->node_count, range_base = t->range_count;
	size_t value_base = t->value_count;
	unsigned redirected = 0;

	if (t->node_count + d->node_count > FS_FILTER_MAX_NODES)
		return fail(p, name_pos, "the expression has more than %u primitives and operators",
			    FS_FILTER_MAX_NODES);
	if (t->range_count + d->range_count > MAX_POOL || t->value_count + d->value_count > MAX_POOL)
		return fail(p, name_pos, "the expression has more than %u values", MAX_POOL);
	if (grow((void **)&t->nodes, &t->node_cap, t->node_count + d->node_count, sizeof(*t->nodes)) < 0 ||
	    grow((void **)&t->ranges, &t->range_cap, t->range_count + d->range_count, sizeof(*t->ranges)) < 0 ||
	    grow((void **)&t->values, &t->value_cap, t->value_count + d->value_count, sizeof(*t->values)) < 0)
		return fail_memory(p);
	if (d->range_count > 0)
		memcpy(t->ranges + range_base, d->ranges, d->range_count * sizeof(*d->ranges));
	if (d->value_count > 0)
		memcpy(t->values + value_base, d->values, d->value_count * sizeof(*d->values));
	for (size_t i = 0; i < d->node_count; i++) {
		struct fs_filter_insn node = d->nodes[i];

		switch (node.op) {
		case FS_OP_AND:
		case FS_OP_OR:
			node.b += (uint32_t)node_base;
			/* fall through */
		case FS_OP_NOT:
			node.a += (uint32_t)node_base;
			break;
		case FS_OP_RANGE:
			node.a += (uint32_t)range_base;
			break;
		case FS_OP_PREFIX:
		case FS_OP_MAC:
		case FS_OP_STRING:
		case FS_OP_TAG:
			node.a += (uint32_t)value_base;
			break;
		default:
			break;
		}
		if (dir != FS_DIR_NONE && node.dir == FS_DIR_UNSPEC) {
			node.dir = (uint8_t)dir;
			redirected++;
		}
		t->nodes[t->node_count++] = node;
	}
	t->range_count += d->range_count;
	t->value_count += d->value_count;
	if (dir != FS_DIR_NONE && redirected == 0)
		return fail(p, name_pos,
			    "a direction does not apply to definition '%s': it has no host, net, "
			    "port, as, if, mask or mac primitive without a direction of its own",
			    def->name);
	return (int)(node_base + d->root);
}

static bool
is_family_word(const struct parser *p, unsigned *family)
{
	if (is_word(p, "ipv4") || is_word(p, "inet")) {
		*family = 4;
		return true;
	}
	if (is_word(p, "ipv6") || is_word(p, "inet6")) {
		*family = 6;
		return true;
	}
	return false;
}

/* Reads a direction qualifier, if any, and consumes it. */
static enum fs_filter_dir
parse_direction(struct parser *p)
{
	struct fs_filter_token t1, t2;

	if (is_word(p, "src")) {
		peek(p, 1, &t1);
		peek(p, 2, &t2);
		if (fs_filter_token_is(&p->lx, &t2, "dst") &&
		    (fs_filter_token_is(&p->lx, &t1, "or") || fs_filter_token_is(&p->lx, &t1, "and"))) {
			bool both = fs_filter_token_is(&p->lx, &t1, "and");

			advance(p);
			advance(p);
			advance(p);
			return both ? FS_DIR_BOTH : FS_DIR_EITHER;
		}
		advance(p);
		return FS_DIR_SRC;
	}
	if (is_word(p, "dst")) {
		advance(p);
		return FS_DIR_DST;
	}
	if (is_word(p, "in")) {
		advance(p);
		return FS_DIR_SRC;
	}
	if (is_word(p, "out")) {
		advance(p);
		return FS_DIR_DST;
	}
	return FS_DIR_NONE;
}

static int parse_or(struct parser *p);

static int
parse_test(struct parser *p, enum fs_filter_dir dir, size_t dir_pos)
{
	const struct fs_filter_keyword *kw;
	const struct definition *def;
	size_t pos = p->tok.pos;
	unsigned family;
	int field;

	if (p->tok.type != FS_TOK_WORD)
		return expected(p, "a primitive such as host, net, port or proto, a field name or a definition");
	if (is_family_word(p, &family)) {
		struct fs_filter_insn leaf = { .op = FS_OP_FAMILY, .field_dst = -1, .mask = family };

		leaf.field = (int16_t)fs_filter_field_find(dir == FS_DIR_DST ? "dst_addr" : "src_addr", 8);
		advance(p);
		return add_node(p, &leaf);
	}
	if (is_word(p, "tcp")) {
		struct fs_filter_token next;

		peek(p, 1, &next);
		if (fs_filter_token_is(&p->lx, &next, "flags"))
			advance(p);
	}
	kw = fs_filter_keyword_find(tok_text(p), p->tok.len);
	if (kw != NULL) {
		enum value_style style = STYLE_PLAIN;
		int src = fs_filter_field_find(kw->src_field, strlen(kw->src_field));
		int dst = kw->dst_field ? fs_filter_field_find(kw->dst_field, strlen(kw->dst_field)) : -1;

		if (dst < 0 && dir != FS_DIR_NONE)
			return fail(p, dir_pos, "a direction does not apply to '%s'", kw->keyword);
		if (dst >= 0 && dir == FS_DIR_NONE)
			dir = FS_DIR_UNSPEC;
		if (strcmp(kw->keyword, "host") == 0 || strcmp(kw->keyword, "ip") == 0)
			style = STYLE_HOST;
		else if (strcmp(kw->keyword, "net") == 0)
			style = STYLE_NET;
		else if (strcmp(kw->keyword, "flags") == 0)
			style = STYLE_FLAGS;
		p->label = kw->keyword;
		advance(p);
		return parse_value_test(p, src, dst, dir, style);
	}
	field = fs_filter_field_find(tok_text(p), p->tok.len);
	if (field >= 0) {
		if (dir != FS_DIR_NONE)
			return fail(p, dir_pos, "a direction does not apply to the field name '%s'",
				    fs_filter_fields[field].name);
		p->label = fs_filter_fields[field].name;
		advance(p);
		return parse_value_test(p, field, -1, FS_DIR_NONE, STYLE_PLAIN);
	}
	def = find_definition(p->defs, tok_text(p), p->tok.len);
	if (def != NULL) {
		advance(p);
		return copy_definition(p, def, dir, pos);
	}
	field = fs_filter_field_find("proto", 5);
	if (dir == FS_DIR_NONE) {
		uint64_t proto;

		for (const struct fs_filter_name *n = fs_filter_fields[field].names; n->name; n++) {
			if (is_word(p, n->name)) {
				struct fs_filter_insn leaf = { .op = FS_OP_RANGE, .field = (int16_t)field,
							       .field_dst = -1, .b = 1 };

				proto = n->value;
				if (add_range(p, proto, proto) < 0)
					return -1;
				leaf.a = (uint32_t)(p->tree->range_count - 1);
				advance(p);
				return add_node(p, &leaf);
			}
		}
	}
	return expected(p, "a primitive such as host, net, port or proto, a field name or a definition");
}

static bool
starts_test(const struct parser *p)
{
	return p->tok.type == FS_TOK_WORD && !is_word(p, "and") && !is_word(p, "or");
}

static int
parse_primary(struct parser *p)
{
	enum fs_filter_dir dir;
	size_t dir_pos = p->tok.pos;
	int node;

	if (p->tok.type == FS_TOK_LPAREN) {
		size_t open = p->tok.pos;

		if (++p->depth > FS_FILTER_MAX_DEPTH)
			return fail(p, open, "parentheses and 'not' nest deeper than %u levels",
				    FS_FILTER_MAX_DEPTH);
		advance(p);
		node = parse_or(p);
		if (node < 0)
			return -1;
		if (p->tok.type != FS_TOK_RPAREN)
			return expected(p, "')' to close the '(' opened before, or 'and' / 'or'");
		advance(p);
		p->depth--;
		return node;
	}
	if (is_word(p, "any") || is_word(p, "all")) {
		bool any = is_word(p, "any");

		advance(p);
		if (!any || !starts_test(p)) {
			struct fs_filter_insn yes = { .op = FS_OP_TRUE, .field = -1, .field_dst = -1 };

			return add_node(p, &yes);
		}
		return parse_test(p, FS_DIR_EITHER, dir_pos);
	}
	dir = parse_direction(p);
	return parse_test(p, dir, dir_pos);
}

static int
parse_unary(struct parser *p)
{
	if (is_word(p, "not") || p->tok.type == FS_TOK_BANG) {
		struct fs_filter_insn node = { .op = FS_OP_NOT, .field = -1, .field_dst = -1 };
		size_t pos = p->tok.pos;
		int child;

		if (++p->depth > FS_FILTER_MAX_DEPTH)
			return fail(p, pos, "parentheses and 'not' nest deeper than %u levels",
				    FS_FILTER_MAX_DEPTH);
		advance(p);
		child = parse_unary(p);
		p->depth--;
		if (child < 0)
			return -1;
		node.a = (uint32_t)child;
		return add_node(p, &node);
	}
	return parse_primary(p);
}

static int
parse_and(struct parser *p)
{
	int left = parse_unary(p);

	while (left >= 0 && (is_word(p, "and") || p->tok.type == FS_TOK_ANDAND)) {
		int right;

		advance(p);
		right = parse_unary(p);
		if (right < 0)
			return -1;
		left = binary_node(p, FS_OP_AND, left, right);
	}
	return left;
}

static int
parse_or(struct parser *p)
{
	int left = parse_and(p);

	while (left >= 0 && (is_word(p, "or") || p->tok.type == FS_TOK_OROR)) {
		int right;

		advance(p);
		right = parse_and(p);
		if (right < 0)
			return -1;
		left = binary_node(p, FS_OP_OR, left, right);
	}
	return left;
}

/* Parses the whole source into tree; returns 0 or a negative fs_result with err set. */
static int
parse_source(struct tree *tree, const struct fs_filter_source *src,
	     const struct fs_filter_defs *defs, struct fs_filter_error *err)
{
	struct parser p = { .src = src, .defs = defs, .tree = tree, .err = err };
	int root;

	if (src->end < src->begin || src->end - src->begin > FS_FILTER_MAX_TEXT) {
		fs_filter_error_at(err, src, src->begin, "the expression is longer than %u bytes",
				   FS_FILTER_MAX_TEXT);
		return FS_ERR_INVALID;
	}
	fs_filter_lexer_init(&p.lx, src);
	advance(&p);
	if (p.tok.type == FS_TOK_END) {
		expected(&p, "an expression");
		return p.rc;
	}
	root = parse_or(&p);
	if (root >= 0 && p.tok.type != FS_TOK_END) {
		if (p.tok.type == FS_TOK_RPAREN)
			expected(&p, "'and', 'or' or the end of the expression; this ')' has no '(' before it");
		else
			expected(&p, "'and', 'or' or the end of the expression");
	}
	if (p.rc != 0)
		return p.rc;
	tree->root = (uint32_t)root;
	return 0;
}

/* ---- code generation ---- */

struct codegen {
	const struct tree *tree;
	struct fs_filter_insn *code;
	size_t len;
};

static size_t
emit(struct codegen *g, const struct fs_filter_insn *insn)
{
	g->code[g->len] = *insn;
	return g->len++;
}

static void
emit_leaf(struct codegen *g, const struct fs_filter_insn *node)
{
	struct fs_filter_insn leaf = *node, jump = { .field = -1, .field_dst = -1 };
	size_t at;

	leaf.field_dst = -1;
	leaf.dir = FS_DIR_NONE;
	switch (node->dir) {
	case FS_DIR_DST:
		leaf.field = node->field_dst;
		emit(g, &leaf);
		return;
	case FS_DIR_UNSPEC:
	case FS_DIR_EITHER:
	case FS_DIR_BOTH:
		if (node->field_dst < 0)
			break;
		emit(g, &leaf);
		jump.op = node->dir == FS_DIR_BOTH ? FS_OP_JUMP_FALSE : FS_OP_JUMP_TRUE;
		at = emit(g, &jump);
		leaf.field = node->field_dst;
		emit(g, &leaf);
		g->code[at].a = (uint32_t)g->len;
		return;
	default:
		break;
	}
	emit(g, &leaf);
}

static void
generate(struct codegen *g, uint32_t index)
{
	const struct fs_filter_insn *node = &g->tree->nodes[index];
	struct fs_filter_insn insn = { .field = -1, .field_dst = -1 };
	size_t at;

	switch (node->op) {
	case FS_OP_AND:
	case FS_OP_OR:
		generate(g, node->a);
		insn.op = node->op == FS_OP_AND ? FS_OP_JUMP_FALSE : FS_OP_JUMP_TRUE;
		at = emit(g, &insn);
		generate(g, node->b);
		g->code[at].a = (uint32_t)g->len;
		return;
	case FS_OP_NOT:
		generate(g, node->a);
		insn.op = FS_OP_NOT;
		emit(g, &insn);
		return;
	default:
		emit_leaf(g, node);
		return;
	}
}

/* Builds the program of tree into *filter; takes the tree's pools.  Returns 0 or FS_ERR_SYSTEM. */
static int
build_program(struct fs_filter *filter, struct tree *tree)
{
	struct codegen g = { .tree = tree };

	/* A leaf expands to at most 3 instructions, an operator to 1. */
	g.code = calloc(tree->node_count * 3 + 1, sizeof(*g.code));
	if (g.code == NULL)
		return FS_ERR_SYSTEM;
	generate(&g, tree->root);
	filter->code = g.code;
	filter->code_len = g.len;
	filter->ranges = tree->ranges;
	filter->range_count = tree->range_count;
	filter->values = tree->values;
	filter->value_count = tree->value_count;
	tree->ranges = NULL;
	tree->values = NULL;
	return 0;
}

/* ---- public API ---- */

struct fs_filter_defs *
fs_filter_defs_new(void)
{
	return calloc(1, sizeof(struct fs_filter_defs));
}

void
fs_filter_defs_free(struct fs_filter_defs *defs)
{
	if (defs == NULL)
		return;
	for (size_t i = 0; i < defs->count; i++)
		tree_release(&defs->items[i].tree);
	free(defs->items);
	free(defs);
}

bool
fs_filter_defs_has(const struct fs_filter_defs *defs, const char *name, size_t name_len)
{
	return find_definition(defs, name, name_len) != NULL;
}

/* Returns NULL when name can name a definition, else the reason it cannot. */
static const char *
check_definition_name(const char *name, size_t len)
{
	int proto = fs_filter_field_find("proto", 5);

	if (len == 0 || len >= FS_FILTER_NAME_MAX)
		return "a definition name has 1 to 63 characters";
	if (!isalpha((unsigned char)name[0]) && name[0] != '_')
		return "a definition name starts with a letter or '_'";
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
			return "a definition name contains only letters, digits, '_' and '-'";
	}
	for (size_t i = 0; i < sizeof(reserved_words) / sizeof(reserved_words[0]); i++) {
		if (strlen(reserved_words[i]) == len && strncasecmp(reserved_words[i], name, len) == 0)
			return "the name is a word of the filter language";
	}
	if (fs_filter_keyword_find(name, len) != NULL || fs_filter_field_find(name, len) >= 0)
		return "the name is a filter keyword or field name";
	for (const struct fs_filter_name *n = fs_filter_fields[proto].names; n->name; n++) {
		if (strlen(n->name) == len && strncasecmp(n->name, name, len) == 0)
			return "the name is a protocol name";
	}
	return NULL;
}

int
fs_filter_defs_add(struct fs_filter_defs *defs, const char *name, size_t name_len,
		   const struct fs_filter_source *src, struct fs_filter_error *err)
{
	struct tree tree = { 0 };
	const char *reason = check_definition_name(name, name_len);
	int rc;

	if (reason == NULL && find_definition(defs, name, name_len) != NULL)
		reason = "the name is already defined";
	if (reason != NULL) {
		size_t pos = name >= src->buf && name <= src->buf + src->end
				     ? (size_t)(name - src->buf) : src->begin;

		fs_filter_error_at(err, src, pos, "invalid definition name '%.*s': %s",
				   (int)(name_len < 64 ? name_len : 64), name, reason);
		return FS_ERR_INVALID;
	}
	rc = parse_source(&tree, src, defs, err);
	if (rc < 0)
		goto fail;
	if (grow((void **)&defs->items, &defs->cap, defs->count + 1, sizeof(*defs->items)) < 0) {
		rc = FS_ERR_SYSTEM;
		goto fail;
	}
	memcpy(defs->items[defs->count].name, name, name_len);
	defs->items[defs->count].name[name_len] = '\0';
	defs->items[defs->count].tree = tree;
	defs->count++;
	return 0;
fail:
	tree_release(&tree);
	return rc;
}

int
fs_filter_compile_source(struct fs_filter **out, const struct fs_filter_source *src,
			 const struct fs_filter_defs *defs, struct fs_filter_error *err)
{
	struct tree tree = { 0 };
	struct fs_filter *filter = NULL;
	int rc;

	*out = NULL;
	rc = parse_source(&tree, src, defs, err);
	if (rc < 0)
		goto out;
	filter = calloc(1, sizeof(*filter));
	if (filter == NULL || build_program(filter, &tree) < 0) {
		rc = FS_ERR_SYSTEM;
		if (err != NULL)
			snprintf(err->text, sizeof(err->text), "out of memory while compiling a filter");
		fs_filter_free(filter);
		goto out;
	}
	*out = filter;
out:
	tree_release(&tree);
	return rc;
}

int
fs_filter_compile(struct fs_filter **out, const char *text,
		  const struct fs_filter_defs *defs, struct fs_filter_error *err)
{
	struct fs_filter_source src = { .buf = text, .begin = 0, .end = strlen(text) };

	return fs_filter_compile_source(out, &src, defs, err);
}
