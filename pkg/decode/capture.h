/*
 * capture.h - reads export datagrams back from files.
 *
 * Two kinds of file are accepted, told apart by their first bytes:
 *  - pcap and pcapng captures, read through libpcap: each UDP payload over
 *    Ethernet (with 802.1Q tags), Linux cooked capture, raw IP or loopback
 *    framing is one datagram, with the packet's source address and port as
 *    the exporter and the capture timestamp as the arrival time;
 *  - raw datagram files, export messages back to back as exporters' test
 *    fixtures ship them: NetFlow v5 (and v1, v7) split by record count, v9
 *    split by walking its flowsets, IPFIX split by the message length field.
 *    The exporter is 0.0.0.0 port 0 and the arrival time is the call's time.
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

/*
 * Reads every datagram of the file at path, in file order, calling fn for
 * each.  Packets that are not UDP are skipped.  Returns 0, the nonzero value
 * fn returned, or a negative fs_result when the file cannot be read (err then
 * holds the reason, quoting path).
 */
int fs_capture_read_file(const char *path, fs_datagram_fn *fn, void *opaque,
			 char *err, size_t err_len);

#endif
