/* template_codec.c - key and value encoding of shared templates. */
#include "decode/template_codec.h"

#include <string.h>

#include "core/result.h"
#include "decode/cursor.h"

#define FLAG_OPTIONS 0x01u
#define FLAG_WITHDRAWN 0x02u

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

int
fs_template_key_encode(const struct fs_template_key *key, uint8_t *out, size_t out_len)
{
	size_t addr_len;

	if (key->exporter.family != 4 && key->exporter.family != 6)
		return FS_ERR_INVALID;
	addr_len = key->exporter.family == 4 ? 4 : 16;
	if (out_len < 11 + addr_len)
		return FS_ERR_FULL;
	out[0] = FS_TEMPLATE_CODEC_VERSION;
	out[1] = key->flow_type;
	out[2] = key->exporter.family;
	put16(out + 3, key->exporter_port);
	put32(out + 5, key->domain);
	put16(out + 9, key->template_id);
	memcpy(out + 11, key->exporter.bytes, addr_len);
	return (int)(11 + addr_len);
}

int
fs_template_key_decode(const uint8_t *data, size_t len, struct fs_template_key *key)
{
	struct fs_cursor cur;
	uint8_t version, family;
	const uint8_t *addr;

	memset(key, 0, sizeof(*key));
	fs_cursor_init(&cur, data, len);
	version = fs_cursor_get_u8(&cur);
	if (fs_cursor_ok(&cur) && version != FS_TEMPLATE_CODEC_VERSION)
		return FS_ERR_UNSUPPORTED;
	key->flow_type = fs_cursor_get_u8(&cur);
	family = fs_cursor_get_u8(&cur);
	key->exporter_port = fs_cursor_get_u16(&cur);
	key->domain = fs_cursor_get_u32(&cur);
	key->template_id = fs_cursor_get_u16(&cur);
	if (!fs_cursor_ok(&cur))
		return FS_ERR_TRUNCATED;
	if ((family != 4 && family != 6) ||
	    (key->flow_type != FS_FLOW_NETFLOW_V9 && key->flow_type != FS_FLOW_IPFIX))
		return FS_ERR_INVALID;
	addr = fs_cursor_get_bytes(&cur, family == 4 ? 4 : 16);
	if (!addr)
		return FS_ERR_TRUNCATED;
	if (family == 4)
		fs_addr_set_v4(&key->exporter, addr);
	else
		fs_addr_set_v6(&key->exporter, addr);
	return fs_cursor_remaining(&cur) == 0 ? 0 : FS_ERR_INVALID;
}

int
fs_template_value_encode(const struct fs_template *tpl, uint64_t origin, uint8_t *out,
			 size_t out_len)
{
	if (tpl->wire_len > UINT16_MAX ||
	    out_len < FS_TEMPLATE_VALUE_HEADER_LEN + tpl->wire_len)
		return FS_ERR_FULL;
	out[0] = FS_TEMPLATE_CODEC_VERSION;
	out[1] = tpl->options ? FLAG_OPTIONS : 0;
	put16(out + 2, tpl->field_count);
	put16(out + 4, tpl->scope_count);
	put64(out + 6, origin);
	put16(out + 14, (uint16_t)tpl->wire_len);
	if (tpl->wire_len)
		memcpy(out + FS_TEMPLATE_VALUE_HEADER_LEN, tpl->wire, tpl->wire_len);
	return (int)(FS_TEMPLATE_VALUE_HEADER_LEN + tpl->wire_len);
}

int
fs_template_withdrawal_encode(uint64_t origin, uint8_t *out, size_t out_len)
{
	if (out_len < FS_TEMPLATE_VALUE_HEADER_LEN)
		return FS_ERR_FULL;
	memset(out, 0, FS_TEMPLATE_VALUE_HEADER_LEN);
	out[0] = FS_TEMPLATE_CODEC_VERSION;
	out[1] = FLAG_WITHDRAWN;
	put64(out + 6, origin);
	return FS_TEMPLATE_VALUE_HEADER_LEN;
}

int
fs_template_value_decode(const uint8_t *data, size_t len, uint8_t flow_type,
			 struct fs_template_value *value)
{
	struct fs_cursor cur;
	uint8_t version, flags;
	uint16_t wire_len;

	memset(value, 0, sizeof(*value));
	fs_cursor_init(&cur, data, len);
	version = fs_cursor_get_u8(&cur);
	if (fs_cursor_ok(&cur) && version != FS_TEMPLATE_CODEC_VERSION)
		return FS_ERR_UNSUPPORTED;
	flags = fs_cursor_get_u8(&cur);
	value->spec.field_count = fs_cursor_get_u16(&cur);
	value->spec.scope_count = fs_cursor_get_u16(&cur);
	value->origin = fs_cursor_get_u64(&cur);
	wire_len = fs_cursor_get_u16(&cur);
	value->spec.wire = fs_cursor_get_bytes(&cur, wire_len);
	if (!fs_cursor_ok(&cur))
		return FS_ERR_TRUNCATED;
	if ((flags & ~(FLAG_OPTIONS | FLAG_WITHDRAWN)) != 0 || fs_cursor_remaining(&cur) != 0 ||
	    value->spec.scope_count > value->spec.field_count)
		return FS_ERR_INVALID;
	value->withdrawn = (flags & FLAG_WITHDRAWN) != 0;
	/* A withdrawal has exactly one encoding: no fields and no other flag. */
	if (value->withdrawn &&
	    (flags != FLAG_WITHDRAWN || value->spec.field_count != 0 || wire_len != 0))
		return FS_ERR_INVALID;
	value->spec.wire_len = wire_len;
	value->spec.options = (flags & FLAG_OPTIONS) != 0;
	/* Only IPFIX field specifiers carry the enterprise bit; NetFlow v9 has none. */
	value->spec.enterprise_bit = flow_type == FS_FLOW_IPFIX;
	return 0;
}
