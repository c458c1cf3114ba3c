/*
 * fuzz_capture.c - libFuzzer target for the raw datagram file splitter and
 * the capture frame parser.
 *
 * Each input is split as a raw datagram file, which must hand over every
 * byte exactly once and in order, and is parsed as one captured frame of
 * each supported link type, whose payload must lie inside the frame.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>

#include "decode/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct split_check {
	const uint8_t *buf;
	size_t len;
	size_t next; /* offset the next datagram must start at */
};

static int
check_datagram(const struct fs_datagram *dg, void *opaque)
{
	struct split_check *check = opaque;

	if (dg->data != check->buf + check->next || dg->len == 0 ||
	    dg->len > check->len - check->next || dg->exporter_port != 0)
		abort();
	check->next += dg->len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int linktypes[] = {
		DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
		DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP,
	};
	struct split_check check = { data, size, 0 };
	struct fs_datagram dg;

	if (fs_capture_split_raw(data, size, 0, check_datagram, &check) != 0 ||
	    check.next != size)
		abort();

	for (size_t i = 0; i < sizeof(linktypes) / sizeof(linktypes[0]); i++) {
		int rc = fs_capture_parse_frame(linktypes[i], data, size, &dg);

		if ((rc == 0 || dg.data != NULL) &&
		    (dg.data < data || dg.len > size ||
		     (size_t)(dg.data - data) > size - dg.len))
			abort();
	}
	return 0;
}
