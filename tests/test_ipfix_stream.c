/* test_ipfix_stream.c - pkg/decode/ipfix_stream.h: IPFIX over TCP framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/result.h"
#include "decode/decoder.h"
#include "decode/ipfix_stream.h"
#include "support/wire.h"

static uint8_t corpus[65536];
static size_t corpus_len;

struct tally {
	size_t flows;
	uint64_t bytes;
};

static void
count_flow(const struct fs_flow *flow, void *opaque)
{
	struct tally *t = opaque;

	t->flows++;
	t->bytes += flow->bytes;
}

/* Loads the 3-message IPFIX file of the corpus; returns -1 to skip when absent. */
static int
load_corpus(void **state)
{
	const char *dir = getenv("FLOWSIFT_CORPUS");
	char path[1024];
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/ipfix/logstash-codec-netflow/ipfix.dat",
		 dir ? dir : "../shared/corpus");
	fp = fopen(path, "rb");
	if (!fp)
		return 0;
	corpus_len = fread(corpus, 1, sizeof(corpus), fp);
	fclose(fp);
	return 0;
}

static void
skip_without_corpus(void)
{
	if (corpus_len == 0) {
		print_message("corpus file ipfix.dat not found (set FLOWSIFT_CORPUS); skipping\n");
		skip();
	}
}

/* Feeds the corpus file in pieces of piece bytes; returns the tally. */
static struct tally
feed_in_pieces(size_t piece)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_ipfix_stream *stream;
	struct fs_addr exporter;
	struct tally t = { 0, 0 };

	fs_addr_parse(&exporter, "192.0.2.7");
	stream = fs_ipfix_stream_new(&exporter, 51000);
	assert_non_null(stream);
	for (size_t off = 0; off < corpus_len; off += piece) {
		size_t n = corpus_len - off < piece ? corpus_len - off : piece;

		assert_int_equal(fs_ipfix_stream_feed(stream, corpus + off, n, dec, 0,
						      count_flow, &t), 0);
	}
	assert_int_equal(fs_ipfix_stream_pending(stream), 0);
	assert_int_equal(fs_ipfix_stream_stats(stream)->messages, 3);
	assert_int_equal(fs_ipfix_stream_stats(stream)->faults, 0);
	fs_ipfix_stream_free(stream);
	fs_decoder_free(dec);
	return t;
}

static void
test_stream_whole_and_split_agree(void **state)
{
	struct tally whole, split;

	(void)state;
	skip_without_corpus();
	whole = feed_in_pieces(corpus_len);
	assert_int_equal(whole.flows, 12);
	for (size_t piece = 1; piece <= 64; piece++) {
		split = feed_in_pieces(piece);
		assert_int_equal(split.flows, whole.flows);
		assert_int_equal(split.bytes, whole.bytes);
	}
}

static void
test_stream_partial_message_kept(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_ipfix_stream *stream;
	struct fs_addr exporter;
	struct tally t = { 0, 0 };

	(void)state;
	skip_without_corpus();
	fs_addr_parse(&exporter, "2001:db8::7");
	stream = fs_ipfix_stream_new(&exporter, 51000);
	/* Everything but the last byte: the third message stays buffered. */
	assert_int_equal(fs_ipfix_stream_feed(stream, corpus, corpus_len - 1, dec, 0,
					      count_flow, &t), 0);
	assert_int_equal(fs_ipfix_stream_stats(stream)->messages, 2);
	assert_true(fs_ipfix_stream_pending(stream) > 0);
	assert_int_equal(fs_ipfix_stream_feed(stream, corpus + corpus_len - 1, 1, dec, 0,
					      count_flow, &t), 0);
	assert_int_equal(fs_ipfix_stream_stats(stream)->messages, 3);
	assert_int_equal(t.flows, 12);
	fs_ipfix_stream_free(stream);
	fs_decoder_free(dec);
}

static void
test_stream_framing_lost_is_sticky(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_ipfix_stream *stream;
	struct fs_addr exporter;
	/* An empty message, then a NetFlow v9 header where the next should start. */
	static const uint8_t bytes[] = {
		0, 10, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0, 9, 0, 1, 0, 0, 0, 0,
	};
	static const uint8_t short_length[] = { 0, 10, 0, 15 };

	(void)state;
	fs_addr_parse(&exporter, "192.0.2.8");
	stream = fs_ipfix_stream_new(&exporter, 51001);
	assert_int_equal(fs_ipfix_stream_feed(stream, bytes, sizeof(bytes), dec, 0, NULL, NULL),
			 FS_ERR_INVALID);
	assert_int_equal(fs_ipfix_stream_stats(stream)->messages, 1);
	assert_int_equal(fs_ipfix_stream_stats(stream)->framing_lost, 1);
	assert_int_equal(fs_ipfix_stream_feed(stream, bytes, 16, dec, 0, NULL, NULL),
			 FS_ERR_INVALID);
	assert_int_equal(fs_ipfix_stream_stats(stream)->messages, 1);
	fs_ipfix_stream_free(stream);

	/* A length below the header, split across two reads. */
	stream = fs_ipfix_stream_new(&exporter, 51002);
	assert_int_equal(fs_ipfix_stream_feed(stream, short_length, 2, dec, 0, NULL, NULL), 0);
	assert_int_equal(fs_ipfix_stream_feed(stream, short_length + 2, 2, dec, 0, NULL, NULL),
			 FS_ERR_INVALID);
	fs_ipfix_stream_free(stream);
	fs_decoder_free(dec);
}

static void
test_stream_end_session_drops_templates(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_ipfix_stream *stream;
	struct fs_addr exporter;

	(void)state;
	skip_without_corpus();
	fs_addr_parse(&exporter, "192.0.2.9");
	stream = fs_ipfix_stream_new(&exporter, 51003);
	assert_int_equal(fs_ipfix_stream_feed(stream, corpus, corpus_len, dec, 0, NULL, NULL), 0);
	assert_true(fs_decoder_stats(dec)->templates_active > 0);
	fs_decoder_end_session(dec, &exporter, 51003, FS_FLOW_IPFIX);
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 0);
	fs_ipfix_stream_free(stream);
	fs_decoder_free(dec);
}

/* Appends an IPFIX message header for a message of length bytes, observation domain 1. */
static void
put_message_header(struct fs_test_packet *p, uint16_t length)
{
	fs_test_append16(p, 10);
	fs_test_append16(p, length);
	fs_test_append32(p, 1700000000);
	fs_test_append32(p, 0);
	fs_test_append32(p, 1);
}

/* Appends a template message: template 256 of source and destination IPv4 and octets, 4 bytes each. */
static void
put_template_message(struct fs_test_packet *p)
{
	static const uint16_t fields[] = { 8, 12, 1 };

	put_message_header(p, 16 + 8 + 3 * 4);
	fs_test_append16(p, 2);
	fs_test_append16(p, 8 + 3 * 4);
	fs_test_append16(p, 256);
	fs_test_append16(p, 3);
	for (size_t i = 0; i < 3; i++) {
		fs_test_append16(p, fields[i]);
		fs_test_append16(p, 4);
	}
}

/* Appends a data set of template 256 with the given number of 12-byte records. */
static void
put_data_set(struct fs_test_packet *p, uint16_t records)
{
	fs_test_append16(p, 256);
	fs_test_append16(p, (uint16_t)(4 + records * 12));
	for (uint16_t r = 0; r < records; r++) {
		fs_test_append32(p, 0x0a000001);
		fs_test_append32(p, 0x0a000002);
		fs_test_append32(p, 100);
	}
}

struct captured_log {
	char last[512];
	size_t lines;
};

static void
capture_log(enum fs_log_level level, const char *facility, const char *message, void *opaque)
{
	struct captured_log *log = opaque;

	(void)level;
	(void)facility;
	snprintf(log->last, sizeof(log->last), "%s", message);
	log->lines++;
}

/*
 * A template message, then a data message whose last 5 bytes never come
 * before the connection closes: finishing the stream counts the cut message
 * truncated and logs it with the exporter, and a whole set before the cut is
 * kept.
 */
static void
test_stream_cut_at_close_counted(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_ipfix_stream *stream;
	struct fs_test_packet p = { .len = 0 };
	struct captured_log log = { .lines = 0 };
	struct fs_addr exporter;
	struct tally t = { 0, 0 };

	(void)state;
	fs_addr_parse(&exporter, "192.0.2.10");
	stream = fs_ipfix_stream_new(&exporter, 51004);
	put_template_message(&p);
	put_message_header(&p, 16 + (4 + 2 * 12) + (4 + 4 * 12));
	put_data_set(&p, 2);
	put_data_set(&p, 4);
	p.len -= 5;

	assert_int_equal(fs_ipfix_stream_feed(stream, p.bytes, p.len, dec, 0, count_flow, &t), 0);
	assert_int_equal(fs_ipfix_stream_stats(stream)->messages, 1);
	assert_int_equal(t.flows, 0);
	assert_int_equal(fs_ipfix_stream_pending(stream), 16 + 28 + 52 - 5);

	fs_log_set_sink(capture_log, &log);
	fs_log_set_level(FS_LOG_INFO);
	assert_int_equal(fs_ipfix_stream_finish(stream, dec, 0, count_flow, &t), 16 + 28 + 52 - 5);
	fs_log_set_sink(NULL, NULL);
	fs_log_set_level(FS_LOG_ERR);

	assert_int_equal(fs_ipfix_stream_pending(stream), 0);
	assert_int_equal(fs_ipfix_stream_stats(stream)->cut, 1);
	assert_int_equal(fs_ipfix_stream_stats(stream)->faults, 1);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 1);
	assert_int_equal(t.flows, 2);
	assert_int_equal(log.lines, 1);
	assert_non_null(strstr(log.last, "192.0.2.10"));
	assert_non_null(strstr(log.last, "51004"));
	/* A second finish has nothing left to report. */
	assert_int_equal(fs_ipfix_stream_finish(stream, dec, 0, count_flow, &t), 0);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 1);
	fs_ipfix_stream_free(stream);
	fs_decoder_free(dec);
}

/* A stream that ends between messages, or after losing its framing, reports no cut message. */
static void
test_stream_finish_between_messages(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_ipfix_stream *stream;
	struct fs_test_packet p = { .len = 0 };
	struct fs_addr exporter;
	static const uint8_t not_ipfix[] = { 0, 9, 0, 20, 0, 0 };

	(void)state;
	fs_addr_parse(&exporter, "192.0.2.11");
	stream = fs_ipfix_stream_new(&exporter, 51005);
	put_template_message(&p);
	assert_int_equal(fs_ipfix_stream_feed(stream, p.bytes, p.len, dec, 0, NULL, NULL), 0);
	assert_int_equal(fs_ipfix_stream_finish(stream, dec, 0, NULL, NULL), 0);
	assert_int_equal(fs_ipfix_stream_stats(stream)->cut, 0);
	fs_ipfix_stream_free(stream);

	stream = fs_ipfix_stream_new(&exporter, 51006);
	assert_int_equal(fs_ipfix_stream_feed(stream, not_ipfix, sizeof(not_ipfix), dec, 0,
					      NULL, NULL), FS_ERR_INVALID);
	assert_int_equal(fs_ipfix_stream_finish(stream, dec, 0, NULL, NULL), 0);
	assert_int_equal(fs_ipfix_stream_stats(stream)->cut, 0);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 0);
	fs_ipfix_stream_free(stream);
	fs_decoder_free(dec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_whole_and_split_agree),
		cmocka_unit_test(test_stream_partial_message_kept),
		cmocka_unit_test(test_stream_framing_lost_is_sticky),
		cmocka_unit_test(test_stream_end_session_drops_templates),
		cmocka_unit_test(test_stream_cut_at_close_counted),
		cmocka_unit_test(test_stream_finish_between_messages),
	};

	fs_log_set_level(FS_LOG_ERR);
	return cmocka_run_group_tests(tests, load_corpus, NULL);
}
