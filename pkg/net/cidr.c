/* cidr.c - parsing and matching address prefixes. */
#include "net/cidr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/result.h"

static size_t
address_bits(const struct fs_addr *addr)
{
	return addr->family == 6 ? 128 : 32;
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

/* Parses one "address[/length]" item. */
static int
parse_prefix(struct fs_cidr *out, const char *item, char *err, size_t err_len)
{
	char address[64];
	const char *slash = strchr(item, '/');
	size_t n = slash ? (size_t)(slash - item) : strlen(item);
	unsigned long length;
	char *end;

	if (n >= sizeof(address))
		goto invalid;
	memcpy(address, item, n);
	address[n] = '\0';
	if (fs_addr_parse(&out->prefix, address) < 0)
		goto invalid;
	length = address_bits(&out->prefix);
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			goto invalid;
		length = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || length > address_bits(&out->prefix))
			goto invalid;
	}
	out->length = (uint8_t)length;
	clear_host_bits(&out->prefix, out->length);
	return 0;
invalid:
	snprintf(err, err_len,
		 "invalid prefix '%s': expected an IPv4 or IPv6 address, optionally "
		 "followed by /length (0..32 or 0..128)", item);
	return FS_ERR_INVALID;
}

int
fs_cidr_list_parse(struct fs_cidr_list *list, const char *text, char *err,
		   size_t err_len)
{
	char *copy = strdup(text), *save = NULL;
	int rc = 0;

	list->prefixes = NULL;
	list->count = 0;
	if (!copy) {
		snprintf(err, err_len, "out of memory");
		return FS_ERR_SYSTEM;
	}
	for (char *item = strtok_r(copy, ", \t", &save); item;
	     item = strtok_r(NULL, ", \t", &save)) {
		struct fs_cidr *grown;

		if (list->count == FS_CIDR_MAX_PREFIXES) {
			snprintf(err, err_len, "more than %d prefixes", FS_CIDR_MAX_PREFIXES);
			rc = FS_ERR_INVALID;
			break;
		}
		grown = realloc(list->prefixes, (list->count + 1) * sizeof(*grown));
		if (!grown) {
			snprintf(err, err_len, "out of memory");
			rc = FS_ERR_SYSTEM;
			break;
		}
		list->prefixes = grown;
		rc = parse_prefix(&list->prefixes[list->count], item, err, err_len);
		if (rc < 0)
			break;
		list->count++;
	}
	free(copy);
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
