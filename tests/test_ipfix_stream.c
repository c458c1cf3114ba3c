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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_whole_and_split_agree),
		cmocka_unit_test(test_stream_partial_message_kept),
		cmocka_unit_test(test_stream_framing_lost_is_sticky),
		cmocka_unit_test(test_stream_end_session_drops_templates),
	};

	fs_log_set_level(FS_LOG_ERR);
	return cmocka_run_group_tests(tests, load_corpus, NULL);
}
