/*
 * test_corpus.c - decodes the shared capture corpus and compares the flows
 * with the values other projects' tests expect (CASES.json).
 *
 * Each case's files go, in order, through one fresh decoder.  A per-flow case
 * passes when every expected flow equals some decoded flow on every field it
 * lists.  An aggregate case groups the decoded flows by its group_by fields
 * and compares the summed bytes and packets of every expected group.
 * Expected groups with equal keys are summed first, because the peer
 * aggregated on more keys than the case lists.  Decoded groups that the case does not list
 * are not checked.
 *
 * A case in the settings table runs with the decoder settings its peer
 * used.  Cases in the pending table cannot pass yet, for the reason given there.  A
 * pending case that passes is printed so the table can be trimmed.  Every
 * other case must pass.
 *
 * The corpus folder is $FLOWSIFT_CORPUS, else ../shared/corpus relative to
 * the working directory; without it the test is skipped.
 * FLOWSIFT_CORPUS_VERBOSE=1 prints every decoded flow.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/flow.h"
#include "core/flow_json.h"
#include "core/log.h"
#include "decode/capture.h"
#include "decode/decoder.h"
#include "support/corpus.h"

/*
 * A case that cannot pass yet.  With fields NULL the whole case is pending.
 * Otherwise fields lists, space-separated, the fields that are not compared,
 * and the case must still pass on all the others.
 */
struct pending_case {
	const char *id;
	const char *fields;
	const char *reason;
};

#define TIMES "time_flow_start_ns time_flow_end_ns"
#define V9_TIMES_1S_LATE                                                        \
	"peer value contradicts the bytes: every v9 start and end time the peer " \
	"gives is 1 s later than unix_secs * 1000 - (sysUptime - switched time)"

static const struct pending_case pending_cases[] = {
	{ "ipfix/pmacct/111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources", NULL,
	  "the expected groups include the NetFlow v9 flows of a second pcap (traffic-00) that the corpus lacks" },
	{ "netflow-v5/logstash-codec-netflow/Netflow 5 valid 01", TIMES,
	  "peer value contradicts the bytes: unix_nsecs 280328000 puts the start at ...884.898328 s, the expectation drops the sub-millisecond part" },
	{ "netflow-v5/logstash-codec-netflow/Netflow5 Juniper MX80", TIMES,
	  "peer value contradicts the bytes: unix_secs 1469109172, sysUptime 190649064 and first 190631000 give 1469109153.936 s, the expectation is 1 s later" },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 valid 01", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 multiple netflow exporters", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 nprobe DPI L7", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 Cisco ACI", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 ipt_netflow reduced size encoding", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 H3C", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 H3C Netstream with varstring", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 Palo Alto 1 flowset in large zero filled packet", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 Fortigate FortiOS 54x appid", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 Streamcore", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 template with 0 length fields", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 Cisco ASR 9000 series template 260", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 field layer2segmentid", TIMES, V9_TIMES_1S_LATE },
	{ "netflow-v9/logstash-codec-netflow/Netflow 9 Cisco NBAR flowset 262", TIMES, V9_TIMES_1S_LATE },
};

#define PENDING_COUNT (sizeof(pending_cases) / sizeof(pending_cases[0]))

/* A case whose peer decoded it with a setting other than flowsift's default. */
struct case_settings {
	const char *id;
	struct fs_decoder_limits limits;
	const char *reason;
};

static const struct case_settings case_settings[] = {
	{ "ipfix/akvorado/TestDecodeSRv6 (netflow)", { .decap_srv6 = true },
	  "the peer decoded this with SRv6 decapsulation on: its frame is IPv6 carrying IPv4 (next header 4) "
	  "without a segment routing header, the same shape as the Juniper CPID case, whose expectation "
	  "is the outer IPv6 header with the default settings" },
};

/* Returns the decoder limits case id runs with, or NULL for the defaults. */
static const struct fs_decoder_limits *
find_case_limits(const char *id)
{
	for (size_t i = 0; i < sizeof(case_settings) / sizeof(case_settings[0]); i++) {
		if (id != NULL && strcmp(case_settings[i].id, id) == 0)
			return &case_settings[i].limits;
	}
	return NULL;
}

enum field_kind {
	KIND_ADDR,
	KIND_MAC,
	KIND_UINT,
	KIND_INT,
};

/* A flow field that expectations may name, found by its offset in struct fs_flow. */
struct field_desc {
	const char *name;
	uint64_t bit;
	enum field_kind kind;
	size_t offset;
	size_t size;
};

#define FIELD(name, bit, kind) \
	{ #name, bit, kind, offsetof(struct fs_flow, name), sizeof(((struct fs_flow *)0)->name) }

static const struct field_desc fields[] = {
	FIELD(src_addr, FS_F_SRC_ADDR, KIND_ADDR),
	FIELD(dst_addr, FS_F_DST_ADDR, KIND_ADDR),
	FIELD(next_hop, FS_F_NEXT_HOP, KIND_ADDR),
	FIELD(src_port, FS_F_SRC_PORT, KIND_UINT),
	FIELD(dst_port, FS_F_DST_PORT, KIND_UINT),
	FIELD(proto, FS_F_PROTO, KIND_UINT),
	FIELD(tcp_flags, FS_F_TCP_FLAGS, KIND_UINT),
	FIELD(tos, FS_F_TOS, KIND_UINT),
	FIELD(bytes, FS_F_BYTES, KIND_UINT),
	FIELD(packets, FS_F_PACKETS, KIND_UINT),
	FIELD(in_if, FS_F_IN_IF, KIND_UINT),
	FIELD(out_if, FS_F_OUT_IF, KIND_UINT),
	FIELD(src_as, FS_F_SRC_AS, KIND_UINT),
	FIELD(dst_as, FS_F_DST_AS, KIND_UINT),
	FIELD(src_mask, FS_F_SRC_MASK, KIND_UINT),
	FIELD(dst_mask, FS_F_DST_MASK, KIND_UINT),
	FIELD(vlan_id, FS_F_VLAN_ID, KIND_UINT),
	FIELD(sampling_rate, FS_F_SAMPLING_RATE, KIND_UINT),
	FIELD(icmp_type, FS_F_ICMP_TYPE, KIND_UINT),
	FIELD(icmp_code, FS_F_ICMP_CODE, KIND_UINT),
	FIELD(src_mac, FS_F_SRC_MAC, KIND_MAC),
	FIELD(dst_mac, FS_F_DST_MAC, KIND_MAC),
	FIELD(time_flow_start_ns, FS_F_TIME_FLOW_START, KIND_INT),
	FIELD(time_flow_end_ns, FS_F_TIME_FLOW_END, KIND_INT),
};

struct flow_list {
	struct fs_flow *flows;
	size_t count;
	size_t cap;
};

struct case_run {
	struct fs_decoder *decoder;
	struct flow_list list;
};

/* Counts of one corpus run. */
struct tally {
	size_t passed;
	size_t pending;
	size_t failed;
	size_t partial; /* pending cases that pass with their listed fields left out */
};

static void
collect_flow(const struct fs_flow *flow, void *opaque)
{
	struct flow_list *list = opaque;

	if (list->count == list->cap) {
		size_t cap = list->cap == 0 ? 64 : list->cap * 2;
		struct fs_flow *grown = realloc(list->flows, cap * sizeof(*grown));

		assert_non_null(grown);
		list->flows = grown;
		list->cap = cap;
	}
	list->flows[list->count++] = *flow;
}

static int
decode_datagram(const struct fs_datagram *dg, void *opaque)
{
	struct case_run *run = opaque;

	(void)fs_decoder_decode(run->decoder, dg->data, dg->len, &dg->exporter,
				dg->exporter_port, dg->time_ns, collect_flow,
				&run->list);
	return 0;
}

static const struct field_desc *
find_field(const char *name)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	}
	return NULL;
}

static uint64_t
read_uint(const struct fs_flow *flow, const struct field_desc *fd)
{
	const uint8_t *p = (const uint8_t *)flow + fd->offset;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (fd->size) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	}
	memcpy(&u64, p, 8);
	return u64;
}

/* Writes the decoded value of field fd as text, "(absent)" when its bit is clear. */
static const char *
format_value(const struct fs_flow *flow, const struct field_desc *fd,
	     char *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)flow + fd->offset;
	char addr[FS_ADDR_STRLEN];
	int64_t i64;

	if ((flow->present & fd->bit) == 0) {
		snprintf(buf, len, "(absent)");
		return buf;
	}
	switch (fd->kind) {
	case KIND_ADDR:
		snprintf(buf, len, "%s", fs_addr_format((const struct fs_addr *)p, addr));
		break;
	case KIND_MAC:
		snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1],
			 p[2], p[3], p[4], p[5]);
		break;
	case KIND_UINT:
		snprintf(buf, len, "%" PRIu64, read_uint(flow, fd));
		break;
	case KIND_INT:
		memcpy(&i64, p, sizeof(i64));
		snprintf(buf, len, "%" PRId64, i64);
		break;
	}
	return buf;
}

/* Writes an expected JSON value as text, normalising address notation. */
static const char *
format_expected(const json_t *value, const struct field_desc *fd, char *buf,
		size_t len)
{
	struct fs_addr addr;
	char text[FS_ADDR_STRLEN];

	if (json_is_string(value)) {
		const char *s = json_string_value(value);

		if (fd != NULL && fd->kind == KIND_ADDR && fs_addr_parse(&addr, s) == 0)
			s = fs_addr_format(&addr, text);
		snprintf(buf, len, "%s", s);
	} else if (json_is_integer(value)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
	} else {
		char *dumped = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);

		snprintf(buf, len, "%s", dumped != NULL ? dumped : "?");
		free(dumped);
	}
	return buf;
}

/* Returns true when the decoded flow has the expected value for the named field. */
static bool
field_matches(const struct fs_flow *flow, const char *name, const json_t *value)
{
	const struct field_desc *fd = find_field(name);
	char got[64], want[64];

	if (fd == NULL)
		return false;
	format_value(flow, fd, got, sizeof(got));
	format_expected(value, fd, want, sizeof(want));
	if (fd->kind == KIND_MAC)
		return strcasecmp(got, want) == 0;
	return strcmp(got, want) == 0;
}

static size_t
count_matching_fields(const struct fs_flow *flow, const json_t *expected)
{
	size_t matches = 0;

	for (void *it = json_object_iter((json_t *)expected); it != NULL;
	     it = json_object_iter_next((json_t *)expected, it)) {
		if (field_matches(flow, json_object_iter_key(it), json_object_iter_value(it)))
			matches++;
	}
	return matches;
}

static void
print_flow_json(const char *label, const struct fs_flow *flow)
{
	char line[FS_FLOW_JSON_MAX];

	if (fs_flow_json_write(flow, line, sizeof(line)) < 0)
		snprintf(line, sizeof(line), "(too long)");
	printf("    %s %s\n", label, line);
}

/* Prints an expected flow, the decoded flow closest to it and the fields that differ. */
static void
print_unmatched_flow(const json_t *expected, const struct flow_list *list)
{
	const struct fs_flow *closest = NULL;
	size_t best = 0;
	char *dumped = json_dumps(expected, JSON_COMPACT | JSON_SORT_KEYS);

	printf("    expected flow %s\n", dumped != NULL ? dumped : "?");
	free(dumped);
	for (size_t i = 0; i < list->count; i++) {
		size_t n = count_matching_fields(&list->flows[i], expected);

		if (closest == NULL || n > best) {
			closest = &list->flows[i];
			best = n;
		}
	}
	if (closest == NULL) {
		printf("    no flow was decoded\n");
		return;
	}
	print_flow_json("closest decoded flow", closest);
	for (void *it = json_object_iter((json_t *)expected); it != NULL;
	     it = json_object_iter_next((json_t *)expected, it)) {
		const char *name = json_object_iter_key(it);
		const json_t *value = json_object_iter_value(it);
		const struct field_desc *fd = find_field(name);
		char got[64], want[64];

		if (fd == NULL) {
			printf("      %s: field unknown to this test\n", name);
			continue;
		}
		if (!field_matches(closest, name, value))
			printf("      %s: expected %s, got %s\n", name,
			       format_expected(value, fd, want, sizeof(want)),
			       format_value(closest, fd, got, sizeof(got)));
	}
}

/* Checks a per-flow case; prints each expected flow that no decoded flow equals. */
static bool
check_per_flow(const char *id, const json_t *expected_flows,
	       const struct flow_list *list, bool quiet)
{
	bool ok = true;

	for (size_t index = 0; index < json_array_size(expected_flows); index++) {
		const json_t *expected = json_array_get(expected_flows, index);
		bool found = false;
		size_t want = json_object_size(expected);

		for (size_t i = 0; i < list->count && !found; i++)
			found = count_matching_fields(&list->flows[i], expected) == want;
		if (found)
			continue;
		if (ok && !quiet)
			printf("FAIL %s: %zu flows decoded\n", id, list->count);
		ok = false;
		if (!quiet)
			print_unmatched_flow(expected, list);
	}
	return ok;
}

static bool
flow_in_group(const struct fs_flow *flow, const json_t *key)
{
	return count_matching_fields(flow, key) == json_object_size(key);
}

/* Checks an aggregate case; prints each expected group whose sums differ. */
static bool
check_aggregate(const char *id, const json_t *groups, const struct flow_list *list,
		bool quiet)
{
	size_t n = json_array_size(groups);
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		const json_t *key = json_object_get(json_array_get(groups, i), "key");
		json_int_t want_bytes = 0, want_packets = 0;
		uint64_t got_bytes = 0, got_packets = 0;
		bool seen_before = false;
		char *dumped;

		/* Sum every expected group with this key; skip keys already checked. */
		for (size_t j = 0; j < n; j++) {
			const json_t *group = json_array_get(groups, j);

			if (!json_equal(json_object_get(group, "key"), (json_t *)key))
				continue;
			if (j < i)
				seen_before = true;
			want_bytes += json_integer_value(json_object_get(group, "bytes"));
			want_packets += json_integer_value(json_object_get(group, "packets"));
		}
		if (seen_before)
			continue;
		for (size_t f = 0; f < list->count; f++) {
			if (!flow_in_group(&list->flows[f], key))
				continue;
			got_bytes += list->flows[f].bytes;
			got_packets += list->flows[f].packets;
		}
		if (got_bytes == (uint64_t)want_bytes && got_packets == (uint64_t)want_packets)
			continue;
		if (ok && !quiet)
			printf("FAIL %s: %zu flows decoded\n", id, list->count);
		ok = false;
		if (quiet)
			continue;
		dumped = json_dumps(key, JSON_COMPACT | JSON_SORT_KEYS);
		printf("    group %s: expected bytes %" JSON_INTEGER_FORMAT
		       " packets %" JSON_INTEGER_FORMAT ", got bytes %" PRIu64
		       " packets %" PRIu64 "\n", dumped != NULL ? dumped : "?",
		       want_bytes, want_packets, got_bytes, got_packets);
		free(dumped);
	}
	return ok;
}

static const struct pending_case *
find_pending(const char *id)
{
	for (size_t i = 0; i < PENDING_COUNT; i++) {
		if (strcmp(pending_cases[i].id, id) == 0)
			return &pending_cases[i];
	}
	return NULL;
}

/* Decodes the case's files into run->list; returns false when a file cannot be read. */
static bool
decode_case_files(const char *id, const json_t *files, struct case_run *run,
		  bool quiet)
{
	for (size_t index = 0; index < json_array_size(files); index++) {
		const json_t *file = json_array_get(files, index);
		char path[1024], err[512];

		snprintf(path, sizeof(path), "%s/%s", fs_test_corpus_dir(),
			 json_string_value(file));
		if (fs_capture_read_file(path, decode_datagram, run, err, sizeof(err)) < 0) {
			if (!quiet)
				printf("FAIL %s: %s\n", id, err);
			return false;
		}
	}
	return true;
}

/* Runs one case; returns true when it passes.  quiet suppresses the failure report. */
static bool
run_case(const json_t *c, bool quiet)
{
	const char *id = json_string_value(json_object_get(c, "id"));
	const char *match = json_string_value(json_object_get(c, "match"));
	struct case_run run;
	bool ok;

	memset(&run, 0, sizeof(run));
	run.decoder = fs_decoder_new(find_case_limits(id));
	assert_non_null(run.decoder);

	ok = decode_case_files(id, json_object_get(c, "files"), &run, quiet);
	if (ok && getenv("FLOWSIFT_CORPUS_VERBOSE") != NULL) {
		printf("case %s:\n", id);
		for (size_t i = 0; i < run.list.count; i++)
			print_flow_json("decoded", &run.list.flows[i]);
	}
	if (ok && match != NULL && strcmp(match, "per-flow") == 0) {
		ok = check_per_flow(id, json_object_get(c, "flows"), &run.list, quiet);
	} else if (ok && match != NULL && strcmp(match, "aggregate") == 0) {
		ok = check_aggregate(id, json_object_get(c, "groups"), &run.list, quiet);
	} else if (ok) {
		if (!quiet)
			printf("FAIL %s: unknown match kind '%s'\n", id,
			       match != NULL ? match : "(missing)");
		ok = false;
	}

	fs_decoder_free(run.decoder);
	free(run.list.flows);
	return ok;
}

/* Deletes each space-separated name in names from obj. */
static void
delete_keys(json_t *obj, const char *names)
{
	char name[64];
	const char *p = names;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			json_object_del(obj, name);
		}
		p += n;
		p += strspn(p, " ");
	}
}

/* Returns a copy of case c without the named fields in its flows and group keys. */
static json_t *
case_without_fields(const json_t *c, const char *names)
{
	json_t *copy = json_deep_copy(c);
	json_t *flows, *groups;

	assert_non_null(copy);
	flows = json_object_get(copy, "flows");
	groups = json_object_get(copy, "groups");
	for (size_t i = 0; i < json_array_size(flows); i++)
		delete_keys(json_array_get(flows, i), names);
	for (size_t i = 0; i < json_array_size(groups); i++)
		delete_keys(json_object_get(json_array_get(groups, i), "key"), names);
	return copy;
}

/* Runs case c under its pending entry p (NULL when it has none) and counts the outcome. */
static void
run_listed_case(const json_t *c, const char *id, const struct pending_case *p,
		struct tally *t)
{
	json_t *stripped;

	if (p == NULL) {
		if (run_case(c, false))
			t->passed++;
		else
			t->failed++;
		return;
	}
	if (run_case(c, true)) {
		printf("NOTE pending case now passes, remove it from the pending table: %s\n", id);
		t->passed++;
		return;
	}
	if (p->fields == NULL) {
		printf("pending: %s: %s\n", id, p->reason);
		t->pending++;
		return;
	}
	/* Only the listed fields are pending; every other field must match. */
	stripped = case_without_fields(c, p->fields);
	if (run_case(stripped, false)) {
		printf("pending (%s): %s: %s\n", p->fields, id, p->reason);
		t->pending++;
		t->partial++;
	} else {
		printf("    (this case fails with %s left out)\n", p->fields);
		t->failed++;
	}
	json_decref(stripped);
}

static void
corpus_cases_pass(void **state)
{
	struct tally t = { 0, 0, 0, 0 };
	char path[1024];
	json_error_t jerr;
	json_t *root, *cases;
	size_t stale = 0;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/CASES.json", fs_test_corpus_dir());
	if (stat(path, &st) != 0) {
		print_message("corpus not found at %s (set FLOWSIFT_CORPUS); skipping\n", path);
		skip();
	}
	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		fail_msg("failed to parse %s line %d: %s", path, jerr.line, jerr.text);
	cases = json_object_get(root, "cases");
	assert_true(json_is_array(cases));

	/* Decoder faults are expected on hostile captures; only the cases count. */
	fs_log_set_level(FS_LOG_ERR);

	for (size_t index = 0; index < json_array_size(cases); index++) {
		const json_t *c = json_array_get(cases, index);
		const char *id = json_string_value(json_object_get(c, "id"));

		assert_non_null(id);
		run_listed_case(c, id, find_pending(id), &t);
	}

	for (size_t i = 0; i < PENDING_COUNT; i++) {
		bool found = false;

		for (size_t index = 0; index < json_array_size(cases) && !found; index++) {
			const char *id = json_string_value(
				json_object_get(json_array_get(cases, index), "id"));

			found = id != NULL && strcmp(id, pending_cases[i].id) == 0;
		}
		if (!found) {
			printf("FAIL pending table names a case not in CASES.json: %s\n",
			       pending_cases[i].id);
			stale++;
		}
	}

	printf("corpus: %zu passed, %zu pending, %zu failed\n", t.passed, t.pending, t.failed);
	printf("corpus: %zu of the pending cases pass with only their peer-contradicted fields left out\n",
	       t.partial);
	fflush(stdout);
	json_decref(root);
	fs_log_set_level(FS_LOG_INFO);
	assert_int_equal(t.failed, 0);
	assert_int_equal(stale, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(corpus_cases_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
