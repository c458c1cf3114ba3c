/*
 * flow_json.h - writes a flow record as one JSON object.
 *
 * The object uses the field names of the Avro schema (schemas/flow.avsc), in
 * schema order.  flow_type, exporter_addr, exporter_port and time_received_ns
 * are always written; every other field is written only when its presence bit
 * is set.  Addresses are text (dotted quad or RFC 5952 IPv6, "" for an unset
 * address), MAC addresses are "aa:bb:cc:dd:ee:ff", flow_direction is
 * "egress" for FS_DIR_EGRESS and "ingress" for any other value,
 * traffic_direction and sampling_source are their schema symbols ("unknown"
 * for a value out of range), the enriched text fields are JSON strings with
 * '"', '\\' and control characters escaped, enterprise_elements is an array
 * of {"enterprise":N,"element_id":N,"value":"hex digits"} objects, and
 * every other field is a JSON integer.
 *
 * Example: {"flow_type":"netflow_v5","exporter_addr":"192.0.2.1",
 * "exporter_port":2055,"time_received_ns":1700000000000000000,"bytes":64}
 */
#ifndef FS_CORE_FLOW_JSON_H
#define FS_CORE_FLOW_JSON_H

#include <stddef.h>

#include "core/flow.h"

/*
 * Buffer size that fits the JSON of any flow, terminating NUL included: about
 * 1400 bytes of keys and numbers, plus the text fields (about 750 bytes of
 * arrays) at 6 bytes per byte when every byte is an escaped control
 * character, plus the enterprise elements (about 60 bytes of keys each and
 * 2 hex digits per value byte, 3,000 bytes in all for 32 elements).
 */
#define FS_FLOW_JSON_MAX 12288

/*
 * Writes flow as a JSON object, without a newline, into buf (len bytes) and
 * NUL-terminates it.  Allocates nothing.  Returns the length written, NUL
 * excluded, or FS_ERR_FULL when len is too small (buf then contains a
 * truncated, NUL-terminated prefix when len > 0).
 */
int fs_flow_json_write(const struct fs_flow *flow, char *buf, size_t len);

#endif
