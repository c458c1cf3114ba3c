/*
 * capture.h - reads export datagrams back from files.
 *
 * Two kinds of file are accepted, distinguished by their first four bytes:
 *  - pcap and pcapng captures, read through libpcap: each UDP payload over
 *    Ethernet (with up to 8 802.1Q/802.1ad tags), Linux cooked
 *    capture (SLL and SLL2), raw IP or BSD loopback framing is one datagram,
 *    with the packet's source address and port as the exporter and the
 *    capture timestamp as the arrival time;
 *  - raw datagram files, export messages back to back as exporters' test
 *    fixtures ship them: NetFlow v5 (and v1, v7) split by record count, v9
 *    split by walking its flowsets, IPFIX split by the message length field.
 *    The exporter is 0.0.0.0 port 0, so every raw file read in one run shares
 *    one template scope, and the arrival time is the time of the call.
 *
 * Capture framing: IPv4 options are skipped by the header length, non-first
 * fragments are skipped, and IPv6 extension headers (hop-by-hop, routing,
 * fragment, destination options, AH; at most 8) are walked to UDP.  The
 * datagram is the UDP payload, min(UDP length - 8, bytes captured), so a
 * packet cut short by the snap length or a first fragment is handed over
 * short (the decoder counts it truncated) and counted in stats.truncated.
 *
 * Raw file splitting rules, applied at each message start:
 *  - fewer than 2 bytes left, or an unknown version: the rest of the file is
 *    one last datagram (the decoder counts it) and splitting stops;
 *  - v1: 16 + count * 48 bytes; v5: 24 + count * 48; v7: 24 + count * 52;
 *  - IPFIX (version 10): the header's length field; a length below the
 *    16-byte header hands over the rest of the file and stops;
 *  - v9 has no length field.  After its 20-byte header the flowsets are
 *    walked by their length fields.  The message ends where the next
 *    flowset id is 1, 5, 7, 9 or 10 with a plausible header of that version
 *    behind it: flowset ids 2..255 are reserved in v9 (RFC 3954 keeps
 *    template ids below 256 for set types), so such an id can only be the
 *    version field of the next message.  A flowset that
 *    cannot be walked (length below 4 or past the end of the file, as in
 *    zero padding) ends the walk, and the rest of the file belongs to the
 *    message, so padding is never split off as a message of its own;
 *  - a length that runs past the end of the file: the rest of the file is
 *    the last datagram and splitting stops.
 * So the datagrams of a raw file always cover it exactly, in order.
 */
#ifndef FS_DECODE_CAPTURE_H
#define FS_DECODE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* One datagram read from a file; data is borrowed for the call only. */
struct fs_datagram {
	const uint8_t *data;
	size_t len;
	struct fs_addr exporter;
	uint16_t exporter_port;
	int64_t time_ns; /* capture time, or the read time for raw files */
};

/* Receives each datagram.  A nonzero return stops the read and is returned. */
typedef int fs_datagram_fn(const struct fs_datagram *datagram, void *opaque);

/* Counters of one or more reads; the read functions add to them. */
struct fs_capture_stats {
	uint64_t files;       /* files opened */
	uint64_t packets;     /* capture records read (raw files: datagrams) */
	uint64_t datagrams;   /* datagrams handed to fn */
	uint64_t skipped;     /* packets without a UDP datagram: other protocols, non-first fragments, unknown link types */
	uint64_t truncated;   /* packets cut short before the end of their UDP payload; handed over short when the UDP header was captured */
	uint64_t invalid;     /* packets with contradictory IP or UDP headers */
	uint64_t read_errors; /* captures whose reading stopped at a damaged record */
};

/* Largest raw datagram file read into memory, in bytes. */
#define FS_CAPTURE_MAX_RAW_FILE (1024u * 1024u * 1024u)

/*
 * Reads every datagram of the file at path, in file order, calling fn for
 * each.  Packets that are not UDP are skipped.  Returns 0, the nonzero value
 * fn returned, or a negative fs_result when the file cannot be read (err then
 * contains the reason, quoting path).  A capture whose records are damaged part
 * way (such as a file cut short) is read up to the damage, logged and
 * counted in read_errors, and still returns 0.  path may name a pipe or
 * FIFO: the bytes read to find the file type are handed back to the reader,
 * since a pipe cannot be rewound.
 */
int fs_capture_read_file(const char *path, fs_datagram_fn *fn, void *opaque,
			 char *err, size_t err_len);

/* Like fs_capture_read_file(), and adds to *stats, which may be NULL. */
int fs_capture_read_file_stats(const char *path, fs_datagram_fn *fn,
			       void *opaque, struct fs_capture_stats *stats,
			       char *err, size_t err_len);

/*
 * Splits the raw datagram file contents buf[0..len) into messages by the
 * rules above and calls fn for each, with exporter 0.0.0.0 port 0 and
 * time_ns.  buf is borrowed.  Returns 0 or the nonzero value fn returned.
 */
int fs_capture_split_raw(const uint8_t *buf, size_t len, int64_t time_ns,
			 fs_datagram_fn *fn, void *opaque);

/*
 * Finds the UDP datagram in one captured frame of link type linktype (a
 * DLT_ value as pcap_datalink() returns it), caplen bytes long.  On return
 * 0, out->data points into frame and out contains the payload, source address
 * and port; out->time_ns is left alone.  Other returns:
 *  - FS_ERR_TRUNCATED: the frame ends before the UDP payload does.  When the
 *    UDP header was captured, out->data is set as for 0 with the bytes that
 *    are there; otherwise out->data is NULL;
 *  - FS_ERR_UNSUPPORTED: no UDP datagram (other link type, network or
 *    transport protocol, or a non-first fragment);
 *  - FS_ERR_INVALID: an IP or UDP header contradicts itself.
 */
int fs_capture_parse_frame(int linktype, const uint8_t *frame, size_t caplen,
			   struct fs_datagram *out);

#endif
