/* flow_batch.c - flows of one exporter gathered into one Kafka message. */
#include "avro/flow_batch.h"

#include <string.h>

#include "core/result.h"

void
fs_flow_batch_init(struct fs_flow_batch *b, uint32_t max_flows)
{
	b->max_flows = max_flows > 0 ? max_flows : 1;
	fs_flow_batch_clear(b);
}

void
fs_flow_batch_clear(struct fs_flow_batch *b)
{
	b->len = 0;
	b->count = 0;
	memset(&b->exporter, 0, sizeof(b->exporter));
}

bool
fs_flow_batch_fits_encoded(const struct fs_flow_batch *b, const struct fs_flow *flow,
			   size_t len)
{
	if (b->count == 0)
		return len <= sizeof(b->buf);
	return b->count < b->max_flows && sizeof(b->buf) - b->len >= len &&
	       b->exporter.family == flow->exporter_addr.family &&
	       memcmp(b->exporter.bytes, flow->exporter_addr.bytes, sizeof(b->exporter.bytes)) == 0;
}

bool
fs_flow_batch_fits(const struct fs_flow_batch *b, const struct fs_flow *flow)
{
	return fs_flow_batch_fits_encoded(b, flow, FS_FLOW_CODEC_MAX_LEN);
}

int
fs_flow_batch_add(struct fs_flow_batch *b, struct fs_flow_codec *codec,
		  const struct fs_flow *flow)
{
	size_t len = 0;
	int rc;

	if (!fs_flow_batch_fits(b, flow))
		return FS_ERR_FULL;
	rc = fs_flow_codec_encode(codec, flow, b->buf + b->len, sizeof(b->buf) - b->len, &len);
	if (rc < 0)
		return rc;
	if (b->count == 0)
		b->exporter = flow->exporter_addr;
	b->len += len;
	b->count++;
	return 0;
}

int
fs_flow_batch_add_encoded(struct fs_flow_batch *b, const struct fs_flow *flow,
			  const uint8_t *msg, size_t len)
{
	if (!fs_flow_batch_fits_encoded(b, flow, len))
		return FS_ERR_FULL;
	if (b->count == 0)
		b->exporter = flow->exporter_addr;
	memcpy(b->buf + b->len, msg, len);
	b->len += len;
	b->count++;
	return 0;
}

const uint8_t *
fs_flow_batch_key(const struct fs_flow_batch *b, size_t *key_len)
{
	*key_len = b->exporter.family == 6 ? 16 : 4;
	return b->exporter.bytes;
}
