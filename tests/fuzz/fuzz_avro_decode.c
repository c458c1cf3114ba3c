/*
 * fuzz_avro_decode.c - libFuzzer target for the flow Avro codec's decoder.
 *
 * Each input is decoded as one single-object message.  An older flow schema
 * with other fields is registered too, so inputs that carry its fingerprint
 * exercise schema resolution.  A flow that decodes must encode
 * again and decode to the same struct.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "avro/flow_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Field order, enum symbol order and a map of arrays differ from flow.avsc. */
static const char older_schema[] =
	"{\"type\": \"record\", \"name\": \"Flow\", \"namespace\": \"org.flowsift\", \"fields\": [\n"
	"  {\"name\": \"flow_type\", \"type\": {\"type\": \"enum\", \"name\": \"FlowType\",\n"
	"    \"symbols\": [\"netflow_v5\", \"netflow_v9\", \"ipfix\"]}},\n"
	"  {\"name\": \"time_received_ns\", \"type\": \"long\"},\n"
	"  {\"name\": \"exporter_addr\", \"type\": \"bytes\"},\n"
	"  {\"name\": \"exporter_port\", \"type\": \"int\"},\n"
	"  {\"name\": \"labels\", \"type\": {\"type\": \"map\", \"values\": {\"type\": \"array\", \"items\": \"string\"}}},\n"
	"  {\"name\": \"sampling_rate\", \"type\": [\"null\", \"int\"], \"default\": null},\n"
	"  {\"name\": \"src_addr\", \"type\": [\"null\", \"bytes\"], \"default\": null},\n"
	"  {\"name\": \"dst_port\", \"type\": [\"null\", \"int\"], \"default\": null},\n"
	"  {\"name\": \"bytes\", \"type\": [\"null\", \"long\"], \"default\": null},\n"
	"  {\"name\": \"flow_direction\", \"type\": [\"null\", {\"type\": \"enum\", \"name\": \"FlowDirection\",\n"
	"    \"symbols\": [\"egress\", \"ingress\"]}], \"default\": null}\n"
	"]}";

static struct fs_flow_codec *
get_codec(void)
{
	static struct fs_flow_codec *codec;

	if (codec == NULL) {
		codec = fs_flow_codec_new(NULL, 0);
		if (codec == NULL ||
		    fs_flow_codec_add_schema(codec, older_schema, strlen(older_schema), NULL,
					     NULL, 0) != 0)
			abort();
	}
	return codec;
}

/* Creates the codec before the first input, so libFuzzer's per-input leak check does not see it. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	get_codec();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fs_flow_codec *codec = get_codec();
	struct fs_flow flow, again;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0, pos = 0, steps = 0;

	/*
	 * The input read as a message of several flows: every step moves
	 * forward.  An empty message contains no flow and leaves pos at 0.
	 */
	do {
		size_t before = pos;

		(void)fs_flow_codec_decode_next(codec, data, size, &pos, &flow);
		if ((size > 0 && pos <= before) || pos > size || ++steps > size + 1)
			abort();
	} while (pos < size);

	if (fs_flow_codec_decode(codec, data, size, &flow) != 0)
		return 0;
	if (fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len) != 0)
		abort();
	if (fs_flow_codec_decode(codec, buf, len, &again) != 0)
		abort();
	if (memcmp(&flow, &again, sizeof(flow)) != 0)
		abort();
	return 0;
}
