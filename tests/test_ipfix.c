/* test_ipfix.c - IPFIX decoding through fs_decoder_decode(). */
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

#define MAX_FLOWS 64

struct packet {
	uint8_t bytes[8192];
	size_t len;
};

struct collected {
	struct fs_flow flows[MAX_FLOWS];
	size_t count;
};

static void
put8(struct packet *p, uint32_t v)
{
	p->bytes[p->len++] = (uint8_t)v;
}

static void
put16(struct packet *p, uint32_t v)
{
	put8(p, v >> 8);
	put8(p, v);
}

static void
put32(struct packet *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v);
}

static void
put64(struct packet *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p, (uint32_t)v);
}

static void
put_bytes(struct packet *p, const void *data, size_t len)
{
	memcpy(p->bytes + p->len, data, len);
	p->len += len;
}

static void
patch16(struct packet *p, size_t offset, size_t v)
{
	p->bytes[offset] = (uint8_t)(v >> 8);
	p->bytes[offset + 1] = (uint8_t)v;
}

static void
collect(const struct fs_flow *flow, void *opaque)
{
	struct collected *c = opaque;

	if (c->count < MAX_FLOWS)
		c->flows[c->count] = *flow;
	c->count++;
}

#define EXPORT_SECS 1700000000u
#define DOMAIN 5u

/* Starts a message; end_message() patches its length. */
static size_t
begin_message(struct packet *p, uint32_t domain)
{
	size_t start = p->len;

	put16(p, 10);
	put16(p, 0);
	put32(p, EXPORT_SECS);
	put32(p, 99);
	put32(p, domain);
	return start;
}

static void
end_message(struct packet *p, size_t start)
{
	patch16(p, start + 2, p->len - start);
}

static size_t
begin_set(struct packet *p, uint16_t id)
{
	size_t start = p->len;

	put16(p, id);
	put16(p, 0);
	return start;
}

static void
end_set(struct packet *p, size_t start)
{
	patch16(p, start + 2, p->len - start);
}

/*
 * Template 400: sourceIPv6Address, destinationIPv6Address, an enterprise
 * field (PEN 9, 4 bytes), octetDeltaCount (8), packetDeltaCount reduced to 2,
 * a variable-length enterprise field, protocolIdentifier,
 * flowStartMilliseconds, flowEndMilliseconds.
 */
static void
put_template_400(struct packet *p)
{
	size_t set = begin_set(p, 2);

	put16(p, 400);
	put16(p, 9);
	put16(p, 27); put16(p, 16);
	put16(p, 28); put16(p, 16);
	put16(p, 0x8000 | 1); put16(p, 4); put32(p, 9);
	put16(p, 1); put16(p, 8);
	put16(p, 2); put16(p, 2);
	put16(p, 0x8000 | 12); put16(p, 65535); put32(p, 9);
	put16(p, 4); put16(p, 1);
	put16(p, 152); put16(p, 8);
	put16(p, 153); put16(p, 8);
	end_set(p, set);
}

static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/* Appends a record of template 400 whose variable field is varlen bytes long. */
static void
put_record_400(struct packet *p, uint32_t n, size_t varlen)
{
	put_bytes(p, v6_src, sizeof(v6_src));
	put_bytes(p, v6_dst, sizeof(v6_dst));
	put32(p, 0xdeadbeef);
	put64(p, 100000u + n);
	put16(p, 7 + n);
	if (varlen < 255) {
		put8(p, (uint32_t)varlen);
	} else {
		put8(p, 255);
		put16(p, (uint32_t)varlen);
	}
	for (size_t i = 0; i < varlen; i++)
		put8(p, 0xee);
	put8(p, 6);
	put64(p, 1700000000123ull);
	put64(p, 1700000000456ull);
}

static int
decode(struct fs_decoder *dec, const struct packet *p, struct collected *c)
{
	struct fs_addr exporter;

	fs_addr_parse(&exporter, "2001:db8::99");
	return fs_decoder_decode(dec, p->bytes, p->len, &exporter, 4739,
				 1700000003000000000ll, collect, c);
}

static void
test_ipfix_template_and_data(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct collected c = { .count = 0 };
	struct packet p = { .len = 0 };
	const struct fs_flow *f = &c.flows[0];
	char text[FS_ADDR_STRLEN];
	size_t msg, set;

	(void)state;
	msg = begin_message(&p, DOMAIN);
	put_template_400(&p);
	set = begin_set(&p, 400);
	put_record_400(&p, 1, 3);     /* short variable length */
	put_record_400(&p, 2, 300);   /* long variable length: 255 then u16 */
	put_record_400(&p, 3, 0);
	end_set(&p, set);
	end_message(&p, msg);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 3);
	assert_int_equal(f->flow_type, FS_FLOW_IPFIX);
	assert_string_equal(fs_addr_format(&f->exporter_addr, text), "2001:db8::99");
	assert_string_equal(fs_addr_format(&f->src_addr, text), "2001:db8::1");
	assert_string_equal(fs_addr_format(&f->dst_addr, text), "2001:db8::2");
	assert_int_equal(f->bytes, 100001);
	assert_int_equal(f->packets, 8);
	assert_int_equal(f->proto, 6);
	assert_int_equal(f->observation_domain_id, DOMAIN);
	assert_int_equal(f->sequence, 99);
	assert_true(f->time_flow_start_ns == 1700000000123000000ll);
	assert_true(f->time_flow_end_ns == 1700000000456000000ll);
	assert_int_equal(c.flows[1].bytes, 100002);
	assert_int_equal(c.flows[1].proto, 6);
	assert_int_equal(c.flows[2].packets, 10);
	assert_false(fs_flow_has(f, FS_F_SRC_PORT));
	assert_false(fs_flow_has(f, FS_F_IN_IF));
	fs_decoder_free(dec);
}

static void
test_ipfix_variable_length_past_set(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct collected c = { .count = 0 };
	struct packet p = { .len = 0 };
	size_t msg, set, before;

	(void)state;
	msg = begin_message(&p, DOMAIN);
	put_template_400(&p);
	set = begin_set(&p, 400);
	put_record_400(&p, 1, 3);
	before = p.len;
	put_record_400(&p, 2, 40);
	/* Claim 200 bytes for the second record's variable field. */
	p.bytes[before + 16 + 16 + 4 + 8 + 2] = 200;
	end_set(&p, set);
	end_message(&p, msg);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	assert_int_equal(c.count, 1);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 1);
	fs_decoder_free(dec);
}

static void
test_ipfix_times_ntp_and_delta(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct collected c = { .count = 0 };
	struct packet p = { .len = 0 };
	size_t msg, set;

	(void)state;
	msg = begin_message(&p, DOMAIN);
	set = begin_set(&p, 2);
	put16(&p, 401);
	put16(&p, 2);
	put16(&p, 156); put16(&p, 8);  /* flowStartNanoseconds */
	put16(&p, 159); put16(&p, 4);  /* flowEndDeltaMicroseconds */
	end_set(&p, set);
	set = begin_set(&p, 401);
	/* NTP seconds of 1700000000 Unix, fraction 0.5 s. */
	put32(&p, 1700000000u + 2208988800u);
	put32(&p, 0x80000000u);
	put32(&p, 2500000); /* 2.5 s before the export time */
	end_set(&p, set);
	end_message(&p, msg);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 1);
	assert_true(c.flows[0].time_flow_start_ns == 1700000000500000000ll);
	assert_true(c.flows[0].time_flow_end_ns ==
		    (int64_t)EXPORT_SECS * 1000000000 - 2500000000ll);
	fs_decoder_free(dec);
}

static void
test_ipfix_withdrawal(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct collected c = { .count = 0 };
	struct packet p = { .len = 0 };
	size_t msg, set;

	(void)state;
	msg = begin_message(&p, DOMAIN);
	put_template_400(&p);
	end_message(&p, msg);
	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 1);

	p.len = 0;
	msg = begin_message(&p, DOMAIN);
	set = begin_set(&p, 2);
	put16(&p, 400);
	put16(&p, 0);
	end_set(&p, set);
	set = begin_set(&p, 400);
	put_record_400(&p, 1, 0);
	end_set(&p, set);
	end_message(&p, msg);
	assert_int_equal(decode(dec, &p, &c), FS_ERR_NO_TEMPLATE);
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 0);
	assert_int_equal(c.count, 0);
	fs_decoder_free(dec);
}

static void
test_ipfix_withdraw_all(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct collected c = { .count = 0 };
	struct packet p = { .len = 0 };
	size_t msg, set;

	(void)state;
	msg = begin_message(&p, DOMAIN);
	put_template_400(&p);
	set = begin_set(&p, 2);
	put16(&p, 402);
	put16(&p, 1);
	put16(&p, 1); put16(&p, 8);
	end_set(&p, set);
	end_message(&p, msg);
	msg = begin_message(&p, DOMAIN + 1);
	put_template_400(&p);
	end_message(&p, msg);
	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 3);

	/* Template id 2 in a template set withdraws every template of the domain. */
	p.len = 0;
	msg = begin_message(&p, DOMAIN);
	set = begin_set(&p, 2);
	put16(&p, 2);
	put16(&p, 0);
	end_set(&p, set);
	end_message(&p, msg);
	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 1);
	fs_decoder_free(dec);
}

static void
test_ipfix_several_messages(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct collected c = { .count = 0 };
	struct packet p = { .len = 0 };
	size_t msg, set;

	(void)state;
	msg = begin_message(&p, DOMAIN);
	put_template_400(&p);
	end_message(&p, msg);
	msg = begin_message(&p, DOMAIN);
	set = begin_set(&p, 400);
	put_record_400(&p, 1, 1);
	end_set(&p, set);
	end_message(&p, msg);
	msg = begin_message(&p, DOMAIN);
	set = begin_set(&p, 400);
	put_record_400(&p, 2, 1);
	end_set(&p, set);
	end_message(&p, msg);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 2);
	assert_int_equal(c.flows[1].bytes, 100002);
	fs_decoder_free(dec);
}

static void
test_ipfix_message_longer_than_datagram(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct collected c = { .count = 0 };
	struct packet p = { .len = 0 };
	size_t msg, set;

	(void)state;
	msg = begin_message(&p, DOMAIN);
	put_template_400(&p);
	set = begin_set(&p, 400);
	put_record_400(&p, 1, 1);
	end_set(&p, set);
	set = begin_set(&p, 400);
	put_record_400(&p, 2, 1);
	end_set(&p, set);
	end_message(&p, msg);
	p.len -= 10;

	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	assert_int_equal(c.count, 1);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 1);
	fs_decoder_free(dec);
}

static void
test_ipfix_options_scope_zero(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct collected c = { .count = 0 };
	struct packet p = { .len = 0 };
	size_t msg, set;

	(void)state;
	msg = begin_message(&p, DOMAIN);
	set = begin_set(&p, 3);
	put16(&p, 500);
	put16(&p, 1);
	put16(&p, 0); /* scope field count */
	put16(&p, 34); put16(&p, 4);
	end_set(&p, set);
	end_message(&p, msg);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(fs_decoder_stats(dec)->templates_rejected, 1);
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 0);
	fs_decoder_free(dec);
}

static void
test_ipfix_options_sampling(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct collected c = { .count = 0 };
	struct packet p = { .len = 0 };
	size_t msg, set;

	(void)state;
	msg = begin_message(&p, DOMAIN);
	put_template_400(&p);
	/* Options 501: scope observationDomainId; samplingPacketInterval 1, Space 99. */
	set = begin_set(&p, 3);
	put16(&p, 501);
	put16(&p, 3);
	put16(&p, 1);
	put16(&p, 149); put16(&p, 4);
	put16(&p, 305); put16(&p, 4);
	put16(&p, 306); put16(&p, 4);
	end_set(&p, set);
	set = begin_set(&p, 501);
	put32(&p, DOMAIN);
	put32(&p, 1);
	put32(&p, 99);
	end_set(&p, set);
	set = begin_set(&p, 400);
	put_record_400(&p, 1, 0);
	end_set(&p, set);
	end_message(&p, msg);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(fs_decoder_stats(dec)->options_records, 1);
	assert_int_equal(c.count, 1);
	assert_true(fs_flow_has(&c.flows[0], FS_F_SAMPLING_RATE));
	assert_int_equal(c.flows[0].sampling_rate, 100);
	fs_decoder_free(dec);
}

static void
test_ipfix_bad_ipv6_length(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct collected c = { .count = 0 };
	struct packet p = { .len = 0 };
	size_t msg, set;

	(void)state;
	msg = begin_message(&p, DOMAIN);
	set = begin_set(&p, 2);
	put16(&p, 403);
	put16(&p, 1);
	put16(&p, 27); put16(&p, 4); /* IPv6 address in 4 bytes */
	end_set(&p, set);
	end_message(&p, msg);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(fs_decoder_stats(dec)->templates_rejected, 1);
	fs_decoder_free(dec);
}

static void
test_ipfix_short_set_length(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct collected c = { .count = 0 };
	struct packet p = { .len = 0 };
	size_t msg;

	(void)state;
	msg = begin_message(&p, DOMAIN);
	put16(&p, 400);
	put16(&p, 2); /* shorter than the set header */
	put32(&p, 0);
	end_message(&p, msg);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 1);
	fs_decoder_free(dec);
}

static size_t
read_corpus(const char *relative, uint8_t *buf, size_t size)
{
	const char *dir = getenv("FLOWSIFT_CORPUS");
	char path[1024];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared/corpus", relative);
	fp = fopen(path, "rb");
	if (!fp) {
		print_message("corpus file %s not found (set FLOWSIFT_CORPUS); skipping\n",
			      path);
		return 0;
	}
	n = fread(buf, 1, size, fp);
	fclose(fp);
	return n;
}

static void
test_ipfix_corpus_three_messages(void **state)
{
	static uint8_t buf[65536];
	struct fs_decoder *dec;
	struct collected c = { .count = 0 };
	size_t len = read_corpus("ipfix/logstash-codec-netflow/ipfix.dat", buf, sizeof(buf));
	char text[FS_ADDR_STRLEN];
	size_t matches = 0;

	(void)state;
	if (len == 0)
		skip();
	dec = fs_decoder_new(NULL);
	/* The file holds 3 messages back to back; one call decodes them all. */
	assert_int_equal(fs_decoder_decode(dec, buf, len, NULL, 0, 0, collect, &c), 0);
	assert_int_equal(c.count, 12);
	assert_int_equal(fs_decoder_stats(dec)->options_records, 1);
	for (size_t i = 0; i < c.count && i < MAX_FLOWS; i++) {
		const struct fs_flow *f = &c.flows[i];

		if (strcmp(fs_addr_format(&f->src_addr, text), "192.168.253.128") == 0 &&
		    strcmp(fs_addr_format(&f->dst_addr, text), "192.168.253.1") == 0 &&
		    f->src_port == 22 && f->dst_port == 60560 && f->bytes == 1000 &&
		    f->packets == 6 && f->tcp_flags == 24 && f->proto == 6)
			matches++;
	}
	assert_int_equal(matches, 1);
	fs_decoder_free(dec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipfix_template_and_data),
		cmocka_unit_test(test_ipfix_variable_length_past_set),
		cmocka_unit_test(test_ipfix_times_ntp_and_delta),
		cmocka_unit_test(test_ipfix_withdrawal),
		cmocka_unit_test(test_ipfix_withdraw_all),
		cmocka_unit_test(test_ipfix_several_messages),
		cmocka_unit_test(test_ipfix_message_longer_than_datagram),
		cmocka_unit_test(test_ipfix_options_scope_zero),
		cmocka_unit_test(test_ipfix_options_sampling),
		cmocka_unit_test(test_ipfix_bad_ipv6_length),
		cmocka_unit_test(test_ipfix_short_set_length),
		cmocka_unit_test(test_ipfix_corpus_three_messages),
	};

	fs_log_set_level(FS_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
