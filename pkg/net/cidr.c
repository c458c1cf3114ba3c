/* cidr.c - parsing and matching address prefixes and lists of them. */
#include "net/cidr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_text.h"
#include "core/result.h"

/* Room for "'" + FS_CIDR_QUOTE_MAX bytes + "...'" and the NUL. */
#define QUOTED_LEN (FS_CIDR_QUOTE_MAX + 6)

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static unsigned
address_bits(const struct fs_addr *addr)
{
	return addr->family == 6 ? 128 : 32;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Writes item as the messages quote it: in single quotes, cut at
 * FS_CIDR_QUOTE_MAX bytes, with bytes outside printable ASCII shown as '?'
 * so that a log line never carries control characters.
 */
static void
quote_item(char out[QUOTED_LEN], const char *item, size_t item_len)
{
	size_t shown = item_len > FS_CIDR_QUOTE_MAX ? FS_CIDR_QUOTE_MAX : item_len;
	size_t used = 0;

	out[used++] = '\'';
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)item[i];

		out[used++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (shown < item_len) {
		memcpy(out + used, "...", 3);
		used += 3;
	}
	out[used++] = '\'';
	out[used] = '\0';
}

int
fs_cidr_item_fail(char *err, size_t err_len, int rc, const char *item, size_t item_len,
		  const char *reason_fmt, ...)
{
	char quoted[QUOTED_LEN], reason[256];
	va_list ap;

	quote_item(quoted, item, item_len);
	va_start(ap, reason_fmt);
	vsnprintf(reason, sizeof(reason), reason_fmt, ap);
	va_end(ap);
	return fs_fail(err, err_len, rc, "%s: %s", quoted, reason);
}

/* Compares the first length bits of a and b, which have the same family. */
static int
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned length)
{
	unsigned whole = length / 8, rest = length % 8;

	if (memcmp(a, b, whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[whole] ^ b[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static void
clear_host_bits(struct fs_addr *addr, unsigned length)
{
	for (unsigned bit = length; bit < address_bits(addr); bit++)
		addr->bytes[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
}

/* Returns 1 when some bit of addr past length is set. */
static int
has_host_bits(const struct fs_addr *addr, unsigned length)
{
	for (unsigned bit = length; bit < address_bits(addr); bit++) {
		if (addr->bytes[bit / 8] & (0x80 >> (bit % 8)))
			return 1;
	}
	return 0;
}

/*
 * Returns 1 when text is a dotted quad of decimal digits with an octet of
 * two or more digits that starts with 0.  inet_pton() rejects that form,
 * and inet_aton() reads it as octal.
 */
static int
has_octal_octet(const char *text)
{
	unsigned dots = 0;
	int leading_zero = 0;

	for (const char *c = text; *c != '\0'; c++) {
		if (*c == '.')
			dots++;
		else if (*c < '0' || *c > '9')
			return 0;
		else if (*c == '0' && (c == text || c[-1] == '.') && c[1] >= '0' && c[1] <= '9')
			leading_zero = 1;
	}
	return dots == 3 && leading_zero;
}

/* Reads the decimal prefix length text[0..len): 1 to 3 digits, no leading zero, at most max. */
static int
parse_length(const char *text, size_t len, unsigned max, unsigned *length)
{
	unsigned value = 0;

	if (len == 0 || len > 3 || (text[0] == '0' && len > 1))
		return FS_ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return FS_ERR_INVALID;
		value = value * 10 + (unsigned)(text[i] - '0');
	}
	if (value > max)
		return FS_ERR_INVALID;
	*length = value;
	return 0;
}

/* Rejects a prefix with host bits set or in IPv4-mapped form, naming what to write instead. */
static int
check_canonical(const struct fs_cidr *prefix, int has_length, const char *text, size_t len,
		char *err, size_t err_len)
{
	char suggestion[FS_ADDR_STRLEN];

	if (has_host_bits(&prefix->prefix, prefix->length)) {
		struct fs_addr masked = prefix->prefix;

		clear_host_bits(&masked, prefix->length);
		return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, text, len,
					 "host bits set; did you mean %s/%u?",
					 fs_addr_format(&masked, suggestion), prefix->length);
	}
	if (prefix->prefix.family == 6 && prefix->length >= 96 &&
	    memcmp(prefix->prefix.bytes, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
		struct fs_addr v4;

		fs_addr_set_v4(&v4, prefix->prefix.bytes + 12);
		fs_addr_format(&v4, suggestion);
		if (!has_length)
			return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, text, len,
						 "IPv4-mapped IPv6 address, which never matches an "
						 "IPv4 address; write it as %s", suggestion);
		return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, text, len,
					 "IPv4-mapped IPv6 prefix, which never matches an IPv4 "
					 "address; write it as %s/%u", suggestion,
					 prefix->length - 96u);
	}
	return 0;
}

int
fs_cidr_parse(struct fs_cidr *out, const char *text, size_t len, char *err, size_t err_len)
{
	char address[FS_ADDR_STRLEN];
	const char *slash = memchr(text, '/', len);
	size_t address_len = slash != NULL ? (size_t)(slash - text) : len;
	unsigned max_length, length;

	for (size_t i = 0; i < len; i++) {
		if (is_blank(text[i]))
			return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, text, len,
						 "contains a space or tab; separate items with commas");
		if (text[i] == ';')
			return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, text, len,
						 "contains ';'; separate items with commas");
		if (text[i] == '%')
			return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, text, len,
						 "has a zone index ('%%'), which a prefix cannot "
						 "have; remove it");
	}
	if (address_len == 0 || address_len >= sizeof(address) ||
	    memchr(text, '\0', address_len) != NULL)
		goto not_an_address;
	memcpy(address, text, address_len);
	address[address_len] = '\0';
	if (fs_addr_parse(&out->prefix, address) != 0) {
		if (has_octal_octet(address))
			return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, text, len,
						 "an IPv4 octet has a leading zero, which some tools "
						 "read as octal; write the octets without leading zeros");
		goto not_an_address;
	}

	max_length = address_bits(&out->prefix);
	length = max_length;
	if (slash != NULL &&
	    parse_length(slash + 1, len - address_len - 1, max_length, &length) < 0)
		return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, text, len,
					 "invalid prefix length; expected 0..%u in decimal without "
					 "leading zeros after '/'", max_length);
	out->length = (uint8_t)length;
	return check_canonical(out, slash != NULL, text, len, err, err_len);

not_an_address:
	return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, text, len,
				 "not an IPv4 or IPv6 address or prefix, such as 192.0.2.0/24, "
				 "2001:db8::/32 or 192.0.2.7");
}

int
fs_cidr_list_walk(const char *text, fs_cidr_item_fn *store, void *opaque, char *err,
		  size_t err_len)
{
	const char *p = text;
	const char *previous = NULL;
	size_t previous_len = 0;

	while (is_blank(*p))
		p++;
	if (*p == '\0')
		return 0;
	for (;;) {
		const char *start = p, *end, *comma;
		struct fs_cidr prefix;
		int rc;

		while (is_blank(*start))
			start++;
		comma = strchr(start, ',');
		end = comma != NULL ? comma : start + strlen(start);
		while (end > start && is_blank(end[-1]))
			end--;
		if (end == start) {
			char quoted[QUOTED_LEN];

			if (previous == NULL)
				return fs_fail(err, err_len, FS_ERR_INVALID,
					       "empty item at the start of the list; remove the "
					       "leading comma");
			quote_item(quoted, previous, previous_len);
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "empty item after %s; remove the extra comma", quoted);
		}

		rc = fs_cidr_parse(&prefix, start, (size_t)(end - start), err, err_len);
		if (rc < 0)
			return rc;
		rc = store(opaque, &prefix, start, (size_t)(end - start), err, err_len);
		if (rc < 0)
			return rc;
		if (comma == NULL)
			return 0;
		previous = start;
		previous_len = (size_t)(end - start);
		p = comma + 1;
	}
}

int
fs_cidr_equal(const struct fs_cidr *a, const struct fs_cidr *b)
{
	return a->prefix.family == b->prefix.family && a->length == b->length &&
	       memcmp(a->prefix.bytes, b->prefix.bytes, a->prefix.family == 4 ? 4 : 16) == 0;
}

/* Appends prefix to the struct fs_cidr_list at opaque, as an fs_cidr_item_fn. */
static int
list_append(void *opaque, const struct fs_cidr *prefix, const char *item, size_t item_len,
	    char *err, size_t err_len)
{
	struct fs_cidr_list *list = opaque;
	struct fs_cidr *grown;

	for (size_t i = 0; i < list->count; i++) {
		if (fs_cidr_equal(&list->prefixes[i], prefix))
			return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, item, item_len,
						 "listed twice");
	}
	if (list->count == FS_CIDR_MAX_PREFIXES)
		return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, item, item_len,
					 "more than %d prefixes in the list", FS_CIDR_MAX_PREFIXES);
	grown = realloc(list->prefixes, (list->count + 1) * sizeof(*grown));
	if (grown == NULL)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	list->prefixes = grown;
	list->prefixes[list->count++] = *prefix;
	return 0;
}

int
fs_cidr_list_parse(struct fs_cidr_list *list, const char *text, char *err,
		   size_t err_len)
{
	int rc;

	list->prefixes = NULL;
	list->count = 0;
	rc = fs_cidr_list_walk(text, list_append, list, err, err_len);
	if (rc < 0)
		fs_cidr_list_release(list);
	return rc;
}

void
fs_cidr_list_release(struct fs_cidr_list *list)
{
	free(list->prefixes);
	list->prefixes = NULL;
	list->count = 0;
}

int
fs_cidr_list_match(const struct fs_cidr_list *list, const struct fs_addr *addr)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct fs_cidr *c = &list->prefixes[i];

		if (c->prefix.family == addr->family &&
		    prefix_equal(c->prefix.bytes, addr->bytes, c->length))
			return 1;
	}
	return 0;
}
