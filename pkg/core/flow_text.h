/*
 * flow_text.h - writes flow records as aligned table rows or CSV lines.
 *
 * A row shows a list of columns chosen by name.  Most columns are named
 * after their field in schemas/flow.avsc and show its value (src_addr,
 * dst_port, bytes, in_if_name, ...); a few combine or compute fields:
 *
 *   start, end   time_flow_start_ns and time_flow_end_ns, UTC, millisecond
 *                resolution: "2023-11-14 22:13:20.123" in tables,
 *                "2023-11-14T22:13:20.123Z" in CSV
 *   received     time_received_ns, formatted the same way
 *   event        event_time_ns, formatted the same way
 *   duration     end - start in seconds with milliseconds, "12.345"
 *   proto        protocol name (TCP, UDP, ICMP, ...) or number
 *   src, dst     address and port: "192.0.2.1:443", "[2001:db8::1]:443"
 *   exporter     exporter_addr:exporter_port
 *   flags        TCP flags as nfdump prints them: "CEUAPRSF" with '.' for
 *                each flag not set
 *   bps, pps     bits and packets per second over the duration
 *   bpp          bytes per packet
 *   type         flow_type (netflow_v5, netflow_v9, ipfix, sflow_v5)
 *   enterprise_elements
 *                the raw elements as "enterprise/element_id=hex value"
 *                words separated by spaces: "9/12235=75736572"
 *
 * Every schema field name names the column that shows it, so
 * time_flow_start_ns, time_flow_end_ns, time_received_ns and event_time_ns
 * are aliases of start, end, received and event.  type is an alias of
 * flow_type.
 *
 * A field the flow does not carry shows as "-" in tables and as an empty
 * value in CSV.  Tables align every column to a fixed width; a longer value
 * (an IPv6 address, a long name) widens its cell and shifts the rest of that
 * row.  CSV follows RFC 4180: values with a comma, quote or line break are
 * quoted, with quotes doubled.
 *
 * Nothing here allocates.
 */
#ifndef FS_CORE_FLOW_TEXT_H
#define FS_CORE_FLOW_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* Maximum columns in one list. */
#define FS_FLOW_TEXT_MAX_COLUMNS 96

/*
 * Maximum cell length, NUL included.  The longest cell is enterprise_elements:
 * 32 words of at most "4294967295/65535=", 31 spaces and 2 hex digits per
 * value byte, 1,600 bytes in all.
 */
#define FS_FLOW_TEXT_CELL_MAX 1600

/* Buffer size that fits any row or header of FS_FLOW_TEXT_MAX_COLUMNS columns. */
#define FS_FLOW_TEXT_MAX_LINE (FS_FLOW_TEXT_MAX_COLUMNS * FS_FLOW_TEXT_CELL_MAX)

/* The default column lists, as accepted by fs_flow_columns_parse(). */
#define FS_FLOW_TEXT_TABLE_DEFAULT "start,duration,proto,src,dst,packets,bytes,flags,tos"
#define FS_FLOW_TEXT_CSV_DEFAULT \
	"start,end,duration,proto,src_addr,src_port,dst_addr,dst_port,packets,bytes," \
	"tcp_flags,tos,in_if,out_if,src_as,dst_as,exporter_addr,flow_type"

enum fs_flow_text_format {
	FS_FLOW_TEXT_TABLE,
	FS_FLOW_TEXT_CSV,
};

struct fs_flow_columns {
	uint8_t ids[FS_FLOW_TEXT_MAX_COLUMNS];
	size_t count;
};

/*
 * Parses a comma-separated list of column names (case-insensitive, spaces
 * allowed around names) into *out.  "all" stands for every column.
 * Returns 0, or FS_ERR_INVALID with a message naming the unknown column and
 * listing the valid ones (or the limit) in err.
 */
int fs_flow_columns_parse(struct fs_flow_columns *out, const char *list, char *err,
			  size_t err_len);

/* Writes every column name, comma-separated, into buf (len bytes). */
void fs_flow_columns_names(char *buf, size_t len);

/* Writes every alias as ALIAS=COLUMN, comma-separated, into buf (len bytes). */
void fs_flow_columns_aliases(char *buf, size_t len);

/*
 * Writes the header line of columns in format, without a newline, into buf
 * (len bytes) and NUL-terminates it.  Returns the length, or FS_ERR_FULL
 * when len is too small.
 */
int fs_flow_text_header(const struct fs_flow_columns *columns,
			enum fs_flow_text_format format, char *buf, size_t len);

/* Writes flow as one row, as fs_flow_text_header() writes the header. */
int fs_flow_text_row(const struct fs_flow_columns *columns,
		     enum fs_flow_text_format format, const struct fs_flow *flow,
		     char *buf, size_t len);

#endif
