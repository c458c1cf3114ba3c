/* detect.c - local pre-aggregation, pipelined Redis writes, rule checks, alert lifecycle. */
#include "detect/detect.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/count.h"
#include "core/log.h"
#include "core/result.h"
#include "filter/filter.h"
#include "net/cidr.h"
#include "redis/resp_writer.h"

#define FACILITY "detect"
#define MAX_CAPACITY (1u << 24)
#define MAX_BUCKETS 6         /* ceil(W / ceil(W / 6)) is at most 6 */
#define NAME_LEN 120       /* "<rule>:<subject>:<peer>", two IPv6 addresses at most */
#define KEY_LEN 176
#define KEYS_PER_FLOW 6
#define MAX_PLACES 16384      /* exporter interfaces noted per flush interval */
#define TCP_SYN 0x02
#define TCP_FIN_SYN_RST_ACK 0x17

/*
 * The identity of one table entry.  The first GROUP_BYTES bytes name the
 * group (rule, subject, scope) whose window is read as one; the first
 * WRITE_BYTES add the time bucket, whose entries are written to one Redis
 * key.  Every unused byte is zero, so memcmp and hashing see equal keys as
 * equal.  64 bytes, no padding.
 */
struct obs_key {
	uint8_t rule;
	uint8_t subject_family;
	uint8_t peer_family;
	uint8_t zero0;
	uint16_t port;          /* scope: fanout's watched port, smtp's 25 */
	uint8_t subject[16];
	uint8_t peer[16];       /* scope: port_scan's destination */
	uint16_t zero2;
	uint32_t bucket_s;      /* start of the receive time bucket, Unix s; 0: the flush's */
	uint16_t element_port;  /* port_scan's distinct element; evidence for others */
	uint8_t element[16];    /* distinct element of fanout and fanin; evidence */
	uint8_t element_family;
	uint8_t zero1;
};

#define GROUP_BYTES offsetof(struct obs_key, bucket_s)
#define WRITE_BYTES offsetof(struct obs_key, element_port)

/*
 * One table entry.  flows, bytes and packets count every flow added since
 * the table was last emptied; written is the part of them (flows, bytes,
 * packets) that an earlier flush added to the counters, and sent the part
 * that the pending flush carries (see fs_detect.pending).
 */
struct obs {
	struct obs_key key;
	uint8_t proto;
	uint8_t mixed_proto;
	uint16_t place;         /* majority candidate among its flows' places (index + 1), 0: none */
	uint16_t other_place;   /* the last place that voted against the candidate */
	uint32_t place_votes;   /* the candidate's lead in the majority vote */
	int64_t received_first_ns; /* earliest and latest time_received_ns of its flows; 0: none */
	int64_t received_last_ns;
	uint64_t flows;
	uint64_t bytes;
	uint64_t packets;
	uint64_t written[3];
	uint64_t sent[3];
};

struct group {
	size_t first;           /* index of the first entry */
	size_t n;               /* entries */
	uint64_t flows, bytes, packets;
	uint8_t proto;          /* 0 when mixed */
	size_t reply;           /* index of its first reply in the EXEC array */
	size_t nreplies;        /* its replies there; the last reads the window */
	uint64_t observed;
};

/*
 * The place where flows were seen: an exporter and its interface on the
 * subject's side, with the names flowsift-enrich gave them.  An alert names
 * the place of most of its subject's flows.
 */
struct place {
	struct fs_addr exporter;
	bool has_ifindex;
	uint32_t ifindex;
	char exporter_name[FS_FLOW_EXPORTER_NAME_LEN];
	char exporter_site[FS_FLOW_SITE_LEN];
	char if_name[FS_FLOW_IF_NAME_LEN];
};

/* One evidence item during aggregation. */
struct evidence {
	struct fs_addr addr;
	uint16_t port;
	uint64_t flows;
};

struct fs_detect {
	struct fs_detect_settings settings;
	fs_detect_alert_fn *alert_fn;
	void *opaque;
	size_t capacity;
	size_t count;
	size_t mask;
	uint32_t *slots;          /* entry index + 1, or 0 for an empty slot */
	struct obs *entries;
	struct group *groups;
	struct evidence *scratch;
	/* Places of the flows in the table, emptied with it; MAX_PLACES at most. */
	struct place *places;
	uint16_t *place_slots;    /* place index + 1, or 0; 2 * MAX_PLACES slots */
	uint64_t *place_flows;    /* per place, while one alert's evidence is summed */
	size_t nplaces;
	uint16_t last_place[2];   /* the place flow_place() returned last, per side, or 0 */
	bool place_missed;        /* the flow being added found no room for a place */
	struct fs_ratelimit places_log;
	const char **argv;        /* capacity + 8 arguments */
	size_t *argvlen;
	char *text;               /* capacity elements as text */
	struct fs_resp_writer resp; /* formats the hot commands of a flush */
	uint64_t seed;
	int64_t minute_start_ms;  /* alert time that the current minute of emit() began */
	uint32_t minute_events;   /* alert events of that minute, suppressed ones included */
	/*
	 * Idempotent counter writes, as in pkg/redis/topn.c: each flush has a
	 * sequence number and each EXEC an attempt number; a failed flush is
	 * pending, and the next flush resends its increments first.
	 */
	char claim_key[64];       /* flowsift:detect:flush:<writer id> */
	uint64_t seq;             /* sequence number of the next or pending flush, from 1 */
	uint64_t attempts;
	bool pending;
	char seq_text[24];
	char token[48];
	char claim_ttl[24];
	/*
	 * Event time: the highest receive time added (Unix ms, 0 before the
	 * first timed flow), and the latest receive time accepted without
	 * clamping, the wall clock plus FS_DETECT_MAX_SKEW_MS when last read.
	 */
	int64_t watermark_ms;
	int64_t future_limit_ms;
	/*
	 * The smallest bucket size of the rules that are on (0: none on), and
	 * the start of the bucket of that size that held the watermark when the
	 * first entry of the table was added.
	 */
	int64_t finest_res_s;
	int64_t table_bucket_s;
	struct fs_detect_stats stats;
	struct fs_ratelimit log_limit;
	struct fs_ratelimit late_log;
	struct fs_ratelimit future_log;
};

static const char lifecycle_script[] =
	"local st = redis.call('HMGET', KEYS[1], 'first_seen', 'last_sent', 'updates')\n"
	"local now = tonumber(ARGV[1])\n"
	"redis.call('ZADD', KEYS[2], ARGV[1], KEYS[1])\n"
	"if not st[1] then\n"
	"  redis.call('HSET', KEYS[1], 'first_seen', ARGV[1], 'last_seen', ARGV[1],\n"
	"             'last_sent', ARGV[1], 'updates', 0)\n"
	"  return {0, ARGV[1], 0}\n"
	"end\n"
	"redis.call('HSET', KEYS[1], 'last_seen', ARGV[1])\n"
	"if now - tonumber(st[2]) >= tonumber(ARGV[2]) then\n"
	"  local u = tonumber(st[3]) + 1\n"
	"  redis.call('HSET', KEYS[1], 'last_sent', ARGV[1], 'updates', u)\n"
	"  return {1, st[1], u}\n"
	"end\n"
	"return {2, st[1], tonumber(st[3])}\n";

/*
 * Adds ARGV[1] to the counter KEYS[1], stopping at FS_COUNT_MAX (core/count.h),
 * unless the flush that this attempt belongs to, or a later one, was applied
 * by another attempt.  Without the stop, a sum past 2^63 - 1 would fail the
 * INCRBY and with it the whole EXEC of every host's counters.  KEYS[2] is
 * the writer's claim key; ARGV[2] is the flush's sequence number, ARGV[3]
 * the attempt's token "<sequence number>:<attempt number>", ARGV[4] the
 * claim's expiry in seconds.  Returns the counter's value.  The first
 * script of an EXEC decides for the whole EXEC, because no other client
 * runs in between: it either stores its token or finds a newer one.
 */
static const char counter_script[] =
	"local claim = redis.call('GET', KEYS[2])\n"
	"if claim ~= ARGV[3] then\n"
	"  local done = claim and tonumber(string.match(claim, '^%d+')) or 0\n"
	"  if done >= tonumber(ARGV[2]) then\n"
	"    return tonumber(redis.call('GET', KEYS[1]) or '0')\n"
	"  end\n"
	"  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])\n"
	"end\n"
	"local max = 9007199254740991\n"
	"if tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1]) >= max then\n"
	"  redis.call('SET', KEYS[1], max, 'KEEPTTL')\n"
	"  return max\n"
	"end\n"
	"return redis.call('INCRBY', KEYS[1], ARGV[1])\n";

static const char clear_script[] =
	"local ks = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))\n"
	"local out = {}\n"
	"for _, k in ipairs(ks) do\n"
	"  local j = redis.call('HGET', k, 'json')\n"
	"  redis.call('DEL', k)\n"
	"  redis.call('ZREM', KEYS[1], k)\n"
	"  if j then out[#out + 1] = j end\n"
	"end\n"
	"return out\n";

/* ---- settings ---- */

void
fs_detect_settings_default(struct fs_detect_settings *s)
{
	static const struct fs_detect_rule_settings rules[FS_RULE_COUNT] = {
		[FS_RULE_FANOUT] = { 100, 60 },
		[FS_RULE_SYN_SCAN] = { 200, 60 },
		[FS_RULE_PORT_SCAN] = { 100, 60 },
		[FS_RULE_SMTP] = { 10, 300 },
		[FS_RULE_VOLUME_SRC] = { 125000000, 60 },
		[FS_RULE_VOLUME_DST] = { 125000000, 60 },
		[FS_RULE_FANIN] = { 1000, 60 },
	};
	static const uint16_t ports[] = { 445, 135, 139, 25, 23, 22, 3389 };

	memset(s, 0, sizeof(*s));
	memcpy(s->rules, rules, sizeof(rules));
	memcpy(s->fanout_ports, ports, sizeof(ports));
	s->nfanout_ports = sizeof(ports) / sizeof(ports[0]);
	s->volume_metric = FS_DETECT_BYTES;
	s->cooldown_s = 300;
	s->quiet_s = 120;
	s->max_alerts_per_minute = 600;
	s->capacity = 65536;
}

static int
parse_ports(struct fs_detect_settings *s, const char *text, char *err, size_t err_len)
{
	const char *p = text;

	s->nfanout_ports = 0;
	/* Every item between two commas is one port: "22,,23" and "" are errors, not skipped. */
	for (;;) {
		char *end;
		long v;

		while (*p == ' ')
			p++;
		v = strtol(p, &end, 10);
		while (*end == ' ')
			end++;
		if (end == p || v < 1 || v > 65535 || (*end && *end != ',')) {
			snprintf(err, err_len, "detect.fanout.ports: '%s' is not a list of ports "
				 "1..65535 separated by commas (detect.fanout.threshold = 0 turns the "
				 "rule off)", text);
			return FS_ERR_INVALID;
		}
		if (s->nfanout_ports == FS_DETECT_MAX_PORTS) {
			snprintf(err, err_len, "detect.fanout.ports: more than %d ports",
				 FS_DETECT_MAX_PORTS);
			return FS_ERR_INVALID;
		}
		s->fanout_ports[s->nfanout_ports++] = (uint16_t)v;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

static int
load_prefixes(struct fs_detect_prefixes *out, const struct fs_config *config, const char *key,
	      char *err, size_t err_len)
{
	char reason[256];

	if (fs_detect_prefixes_parse(out, fs_config_str(config, key), reason, sizeof(reason)) < 0) {
		snprintf(err, err_len, "%s: %s", key, reason);
		return FS_ERR_INVALID;
	}
	return 0;
}

int
fs_detect_settings_load(struct fs_detect_settings *s, const struct fs_config *config,
			char *err, size_t err_len)
{
	const char *metric;
	char key[64];
	int rc;

	fs_detect_settings_default(s);
	for (int r = 0; r < FS_RULE_COUNT; r++) {
		snprintf(key, sizeof(key), "detect.%s.threshold", fs_alert_rule_name(r));
		s->rules[r].threshold = (uint64_t)fs_config_int(config, key);
		snprintf(key, sizeof(key), "detect.%s.window", fs_alert_rule_name(r));
		s->rules[r].window_s = fs_config_int(config, key);
	}
	rc = parse_ports(s, fs_config_str(config, "detect.fanout.ports"), err, err_len);
	if (rc < 0)
		return rc;
	metric = fs_config_str(config, "detect.volume.metric");
	if (strcmp(metric, "bytes") == 0) {
		s->volume_metric = FS_DETECT_BYTES;
	} else if (strcmp(metric, "packets") == 0) {
		s->volume_metric = FS_DETECT_PACKETS;
	} else if (strcmp(metric, "flows") == 0) {
		s->volume_metric = FS_DETECT_FLOWS;
	} else {
		snprintf(err, err_len, "detect.volume.metric: '%s' is not bytes, packets or flows",
			 metric);
		return FS_ERR_INVALID;
	}
	if (load_prefixes(&s->allowlist, config, "detect.allowlist", err, err_len) < 0 ||
	    load_prefixes(&s->mail_servers, config, "detect.smtp.mail.servers", err, err_len) < 0)
		return FS_ERR_INVALID;
	/* The home networks belong to flowsift-enrich; use them when that key exists. */
	if (fs_config_has(config, "enrich.home.networks") &&
	    load_prefixes(&s->home_networks, config, "enrich.home.networks", err, err_len) < 0)
		return FS_ERR_INVALID;
	if (fs_config_str(config, "detect.allowlist.filter")[0]) {
		struct fs_filter_error ferr;

		rc = fs_filter_compile(&s->allowlist_filter,
				       fs_config_str(config, "detect.allowlist.filter"), NULL, &ferr);
		if (rc < 0) {
			snprintf(err, err_len, "detect.allowlist.filter: %s", ferr.text);
			s->allowlist_filter = NULL;
			return rc;
		}
	}
	s->cooldown_s = fs_config_int(config, "alert.cooldown");
	s->max_alerts_per_minute = (uint32_t)fs_config_int(config, "alert.rate.max");
	s->quiet_s = fs_config_int(config, "alert.quiet");
	s->capacity = (size_t)fs_config_int(config, "detect.table.entries");
	return 0;
}

void
fs_detect_settings_release(struct fs_detect_settings *settings)
{
	fs_filter_free(settings->allowlist_filter);
	settings->allowlist_filter = NULL;
}

/* Appends prefix to the struct fs_detect_prefixes at opaque, as an fs_cidr_item_fn. */
static int
append_prefix(void *opaque, const struct fs_cidr *prefix, const char *item, size_t item_len,
	      char *err, size_t err_len)
{
	struct fs_detect_prefixes *out = opaque;

	for (size_t i = 0; i < out->count; i++) {
		const struct fs_detect_prefix *px = &out->items[i];
		const struct fs_cidr seen = { px->addr, px->len };

		if (fs_cidr_equal(&seen, prefix))
			return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, item, item_len,
						 "listed twice");
	}
	if (out->count == FS_DETECT_MAX_PREFIXES)
		return fs_cidr_item_fail(err, err_len, FS_ERR_INVALID, item, item_len,
					 "more than %d prefixes in the list", FS_DETECT_MAX_PREFIXES);
	out->items[out->count].addr = prefix->prefix;
	out->items[out->count].len = prefix->length;
	out->count++;
	return 0;
}

int
fs_detect_prefixes_parse(struct fs_detect_prefixes *out, const char *text, char *err,
			 size_t err_len)
{
	int rc;

	out->count = 0;
	rc = fs_cidr_list_walk(text, append_prefix, out, err, err_len);
	if (rc < 0)
		out->count = 0;
	return rc;
}

bool
fs_detect_prefixes_match(const struct fs_detect_prefixes *prefixes, const struct fs_addr *addr)
{
	for (size_t i = 0; i < prefixes->count; i++) {
		const struct fs_detect_prefix *px = &prefixes->items[i];
		size_t full = px->len / 8;
		int rest = px->len % 8;

		if (px->addr.family != addr->family)
			continue;
		if (memcmp(px->addr.bytes, addr->bytes, full) != 0)
			continue;
		if (rest && (addr->bytes[full] & (uint8_t)(0xff << (8 - rest))) != px->addr.bytes[full])
			continue;
		return true;
	}
	return false;
}

int64_t
fs_detect_resolution(int64_t window_s)
{
	/* ceil(W / 6), so a window never has more than 6 buckets */
	return window_s > 0 ? (window_s + 5) / 6 : 1;
}

static int64_t
bucket_start(int64_t t, int64_t resolution)
{
	int64_t rem = t % resolution;

	if (rem < 0)
		rem += resolution;
	return t - rem;
}

/* ---- table ---- */

static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

static uint64_t
hash_key(const struct obs_key *key, uint64_t seed)
{
	const uint8_t *b = (const uint8_t *)key;
	uint64_t h = seed;

	_Static_assert(sizeof(struct obs_key) == 64, "obs_key has padding");
	for (size_t i = 0; i < sizeof(struct obs_key); i += 8) {
		uint64_t w;

		memcpy(&w, b + i, 8);
		h = mix64(h ^ w);
	}
	return h;
}

struct fs_detect *
fs_detect_new(const struct fs_detect_settings *settings, fs_detect_alert_fn *alert_fn,
	      void *opaque)
{
	struct fs_detect *det;
	size_t capacity = settings->capacity, slots = 1;
	uint64_t writer;

	if (capacity == 0 || capacity > MAX_CAPACITY)
		return NULL;
	while (slots < capacity * 2)
		slots <<= 1;
	det = calloc(1, sizeof(*det));
	if (!det)
		return NULL;
	det->settings = *settings;
	for (int r = 0; r < FS_RULE_COUNT; r++) {
		int64_t res = fs_detect_resolution(settings->rules[r].window_s);

		if (settings->rules[r].threshold > 0 && (det->finest_res_s == 0 || res < det->finest_res_s))
			det->finest_res_s = res;
	}
	det->alert_fn = alert_fn;
	det->opaque = opaque;
	det->capacity = capacity;
	det->mask = slots - 1;
	det->slots = calloc(slots, sizeof(*det->slots));
	det->entries = calloc(capacity, sizeof(*det->entries));
	det->groups = calloc(capacity, sizeof(*det->groups));
	det->scratch = calloc(capacity, sizeof(*det->scratch));
	det->argv = calloc(capacity + 8, sizeof(*det->argv));
	det->argvlen = calloc(capacity + 8, sizeof(*det->argvlen));
	det->text = calloc(capacity, FS_ADDR_STRLEN);
	det->places = calloc(MAX_PLACES, sizeof(*det->places));
	det->place_slots = calloc(2 * MAX_PLACES, sizeof(*det->place_slots));
	det->place_flows = calloc(MAX_PLACES, sizeof(*det->place_flows));
	if (!det->slots || !det->entries || !det->groups || !det->scratch || !det->argv ||
	    !det->argvlen || !det->text || !det->places || !det->place_slots || !det->place_flows) {
		fs_detect_free(det);
		return NULL;
	}
	if (getrandom(&det->seed, sizeof(det->seed), GRND_NONBLOCK) != (ssize_t)sizeof(det->seed))
		det->seed = mix64((uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)det);
	if (getrandom(&writer, sizeof(writer), GRND_NONBLOCK) != (ssize_t)sizeof(writer))
		writer = mix64(det->seed ^ (uint64_t)clock());
	snprintf(det->claim_key, sizeof(det->claim_key), FS_DETECT_KEY_PREFIX "flush:%016" PRIx64,
		 writer);
	/* Outlives every counter: those of the longest window expire window + resolution after it. */
	snprintf(det->claim_ttl, sizeof(det->claim_ttl), "%" PRId64,
		 (int64_t)FS_DETECT_MAX_WINDOW_S + fs_detect_resolution(FS_DETECT_MAX_WINDOW_S));
	det->seq = 1;
	det->log_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 3);
	det->places_log = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 1);
	det->late_log = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 1);
	det->future_log = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 1);
	return det;
}

void
fs_detect_free(struct fs_detect *det)
{
	if (!det)
		return;
	free(det->slots);
	free(det->entries);
	free(det->groups);
	free(det->scratch);
	free(det->argv);
	free(det->argvlen);
	free(det->text);
	free(det->places);
	free(det->place_slots);
	free(det->place_flows);
	fs_resp_writer_free(&det->resp);
	free(det);
}

size_t
fs_detect_count(const struct fs_detect *det)
{
	return det->count;
}

void
fs_detect_stats(const struct fs_detect *det, struct fs_detect_stats *out)
{
	*out = det->stats;
	out->watermark_ms = det->watermark_ms;
}

/* Returns the slot of key: the one holding it, or the empty one where it belongs. */
static size_t
find_slot(const struct fs_detect *det, const struct obs_key *key)
{
	size_t i = (size_t)hash_key(key, det->seed) & det->mask;

	while (det->slots[i] != 0 &&
	       memcmp(&det->entries[det->slots[i] - 1].key, key, sizeof(*key)) != 0)
		i = (i + 1) & det->mask;
	return i;
}

static void
reset_table(struct fs_detect *det)
{
	memset(det->slots, 0, (det->mask + 1) * sizeof(*det->slots));
	det->count = 0;
	if (det->nplaces > 0)
		memset(det->place_slots, 0, 2 * MAX_PLACES * sizeof(*det->place_slots));
	det->nplaces = 0;
	det->last_place[0] = det->last_place[1] = 0;
}

/*
 * Returns the place (index + 1) where flow was seen from the side of a
 * subject that receives (out_if) or sends (in_if), and adds it when new.
 * Returns 0 when the flow names no exporter, or when MAX_PLACES places are
 * taken, which sets det->place_missed and logs.  An interface index of 0
 * counts as no interface.
 */
static uint16_t
flow_place(struct fs_detect *det, const struct fs_flow *flow, bool receives)
{
	struct place key;
	uint64_t h;
	size_t i;

	if (flow->exporter_addr.family == 0)
		return 0;
	memset(&key, 0, sizeof(key));
	key.exporter = flow->exporter_addr;
	/* SNMP indexes start at 1; exporters that do not know the interface send 0. */
	if (fs_flow_has(flow, receives ? FS_F_OUT_IF : FS_F_IN_IF))
		key.ifindex = receives ? flow->out_if : flow->in_if;
	key.has_ifindex = key.ifindex != 0;
	/* The flows of one datagram share the exporter, and mostly the interface. */
	if (det->last_place[receives]) {
		const struct place *p = &det->places[det->last_place[receives] - 1];

		if (p->ifindex == key.ifindex && p->has_ifindex == key.has_ifindex &&
		    memcmp(&p->exporter, &key.exporter, sizeof(key.exporter)) == 0)
			return det->last_place[receives];
	}
	h = mix64(det->seed ^ key.ifindex ^ ((uint64_t)key.has_ifindex << 32));
	for (size_t b = 0; b < sizeof(key.exporter.bytes); b += 8) {
		uint64_t w;

		memcpy(&w, key.exporter.bytes + b, 8);
		h = mix64(h ^ w ^ key.exporter.family);
	}
	for (i = (size_t)h & (2 * MAX_PLACES - 1); det->place_slots[i] != 0;
	     i = (i + 1) & (2 * MAX_PLACES - 1)) {
		const struct place *p = &det->places[det->place_slots[i] - 1];

		if (p->has_ifindex == key.has_ifindex && p->ifindex == key.ifindex &&
		    memcmp(&p->exporter, &key.exporter, sizeof(key.exporter)) == 0)
			return det->last_place[receives] = det->place_slots[i];
	}
	if (det->nplaces == MAX_PLACES) {
		det->place_missed = true;
		fs_log_limited(&det->places_log, FS_LOG_WARNING, FACILITY,
			       "more than %d exporter interfaces sent flows within one flush interval; "
			       "alerts on the flows of the others name no exporter", MAX_PLACES);
		return 0;
	}
	if (fs_flow_has(flow, FS_F_EXPORTER_NAME))
		fs_flow_set_text(key.exporter_name, sizeof(key.exporter_name), flow->exporter_name,
				 sizeof(flow->exporter_name));
	if (fs_flow_has(flow, FS_F_EXPORTER_SITE))
		fs_flow_set_text(key.exporter_site, sizeof(key.exporter_site), flow->exporter_site,
				 sizeof(flow->exporter_site));
	if (fs_flow_has(flow, receives ? FS_F_OUT_IF_NAME : FS_F_IN_IF_NAME))
		fs_flow_set_text(key.if_name, sizeof(key.if_name),
				 receives ? flow->out_if_name : flow->in_if_name,
				 sizeof(flow->in_if_name));
	det->places[det->nplaces++] = key;
	det->place_slots[i] = (uint16_t)det->nplaces;
	return det->last_place[receives] = (uint16_t)det->nplaces;
}

/* Rebuilds the slots after the entries were reordered. */
static void
reindex(struct fs_detect *det)
{
	memset(det->slots, 0, (det->mask + 1) * sizeof(*det->slots));
	for (size_t e = 0; e < det->count; e++)
		det->slots[find_slot(det, &det->entries[e].key)] = (uint32_t)(e + 1);
}

static void
key_init(struct obs_key *key, enum fs_alert_rule rule, const struct fs_addr *subject)
{
	memset(key, 0, sizeof(*key));
	key->rule = (uint8_t)rule;
	key->subject_family = subject->family;
	memcpy(key->subject, subject->bytes, sizeof(key->subject));
}

static void
key_element(struct obs_key *key, const struct fs_addr *addr, uint16_t port)
{
	if (addr) {
		key->element_family = addr->family;
		memcpy(key->element, addr->bytes, sizeof(key->element));
	}
	key->element_port = port;
}

static bool
rule_on(const struct fs_detect *det, enum fs_alert_rule rule)
{
	return det->settings.rules[rule].threshold > 0;
}

static bool
watched_port(const struct fs_detect *det, uint16_t port)
{
	for (size_t i = 0; i < det->settings.nfanout_ports; i++) {
		if (det->settings.fanout_ports[i] == port)
			return true;
	}
	return false;
}

static bool
outward(const struct fs_detect *det, const struct fs_flow *flow)
{
	const struct fs_detect_prefixes *home = &det->settings.home_networks;

	if (fs_flow_has(flow, FS_F_TRAFFIC_DIRECTION))
		return flow->traffic_direction == FS_TRAFFIC_OUTBOUND;
	if (home->count == 0)
		return true;
	return fs_detect_prefixes_match(home, &flow->src_addr) &&
	       !(fs_flow_has(flow, FS_F_DST_ADDR) && fs_detect_prefixes_match(home, &flow->dst_addr));
}

/* Returns true for 0.0.0.0 and ::, which name no host. */
static bool
unspecified(const struct fs_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->bytes, zero, a->family == 4 ? 4 : 16) == 0;
}

/*
 * Returns true when a can send traffic: not unspecified, and not multicast,
 * reserved or broadcast (IPv4 224.0.0.0 and up, IPv6 ff00::/8).  Flows from
 * such sources come from broken or hostile exporters, so no rule blames them.
 */
static bool
usable_source(const struct fs_addr *a)
{
	if (unspecified(a))
		return false;
	return a->family == 4 ? a->bytes[0] < 224 : a->bytes[0] != 0xff;
}

/*
 * Writes the keys flow contributes to into keys; returns how many.  Sets
 * *odd when the flow has an address that no rule counts.
 */
static int
flow_keys(const struct fs_detect *det, const struct fs_flow *flow, struct obs_key *keys, bool *odd)
{
	bool has_src = fs_flow_has(flow, FS_F_SRC_ADDR) && flow->src_addr.family;
	bool has_dst = fs_flow_has(flow, FS_F_DST_ADDR) && flow->dst_addr.family;
	bool has_port = fs_flow_has(flow, FS_F_DST_PORT);
	uint8_t proto = fs_flow_has(flow, FS_F_PROTO) ? flow->proto : 0;
	bool tcp_udp = proto == 6 || proto == 17;
	uint64_t packets = fs_flow_has(flow, FS_F_PACKETS) ? flow->packets : 1;
	int n = 0;

	*odd = (has_src && !usable_source(&flow->src_addr)) ||
	       (has_dst && unspecified(&flow->dst_addr));
	has_src = has_src && usable_source(&flow->src_addr);
	has_dst = has_dst && !unspecified(&flow->dst_addr);

	if (has_src && has_dst && has_port && tcp_udp && rule_on(det, FS_RULE_FANOUT) &&
	    watched_port(det, flow->dst_port)) {
		key_init(&keys[n], FS_RULE_FANOUT, &flow->src_addr);
		keys[n].port = flow->dst_port;
		key_element(&keys[n++], &flow->dst_addr, 0);
	}
	if (has_src && proto == 6 && fs_flow_has(flow, FS_F_TCP_FLAGS) &&
	    (flow->tcp_flags & TCP_FIN_SYN_RST_ACK) == TCP_SYN && rule_on(det, FS_RULE_SYN_SCAN)) {
		key_init(&keys[n], FS_RULE_SYN_SCAN, &flow->src_addr);
		key_element(&keys[n++], has_dst ? &flow->dst_addr : NULL,
			    has_port ? flow->dst_port : 0);
	}
	if (has_src && has_dst && has_port && tcp_udp && packets <= 2 &&
	    rule_on(det, FS_RULE_PORT_SCAN)) {
		key_init(&keys[n], FS_RULE_PORT_SCAN, &flow->src_addr);
		keys[n].peer_family = flow->dst_addr.family;
		memcpy(keys[n].peer, flow->dst_addr.bytes, sizeof(keys[n].peer));
		key_element(&keys[n++], NULL, flow->dst_port);
	}
	if (has_src && proto == 6 && has_port && flow->dst_port == 25 && rule_on(det, FS_RULE_SMTP) &&
	    det->settings.mail_servers.count > 0 &&
	    !fs_detect_prefixes_match(&det->settings.mail_servers, &flow->src_addr) &&
	    outward(det, flow)) {
		key_init(&keys[n], FS_RULE_SMTP, &flow->src_addr);
		keys[n].port = 25;
		key_element(&keys[n++], has_dst ? &flow->dst_addr : NULL, 0);
	}
	if (has_src && rule_on(det, FS_RULE_VOLUME_SRC))
		key_init(&keys[n++], FS_RULE_VOLUME_SRC, &flow->src_addr);
	if (has_dst && rule_on(det, FS_RULE_VOLUME_DST))
		key_init(&keys[n++], FS_RULE_VOLUME_DST, &flow->dst_addr);
	if (has_src && has_dst && rule_on(det, FS_RULE_FANIN)) {
		key_init(&keys[n], FS_RULE_FANIN, &flow->dst_addr);
		key_element(&keys[n++], &flow->src_addr, 0);
	}
	return n;
}

/*
 * Counts one flow's place in the entry's majority vote (Boyer-Moore): a
 * place that carried more than half of the entry's flows ends as its
 * candidate, without a count per place.
 */
static void
vote_place(struct obs *o, uint16_t place)
{
	if (o->place == place) {
		o->place_votes++;
		return;
	}
	if (o->flows > 1)
		o->other_place = o->place;
	if (o->place_votes == 0) {
		o->place = place;
		o->place_votes = 1;
	} else {
		o->other_place = place;
		o->place_votes--;
	}
}

/*
 * Returns flow's receive time in Unix ms, or 0 when it has none.  A time
 * more than FS_DETECT_MAX_SKEW_MS past the wall clock is clamped to that
 * limit and sets *clamped.
 */
static int64_t
receive_time_ms(struct fs_detect *det, const struct fs_flow *flow, bool *clamped)
{
	int64_t t;

	*clamped = false;
	if (flow->time_received_ns <= 0)
		return 0;
	t = flow->time_received_ns / 1000000;
	if (t > det->future_limit_ms) {
		/* The limit only grows, so the clock is read about once per skew interval. */
		det->future_limit_ms = fs_clock_ms(CLOCK_REALTIME) + FS_DETECT_MAX_SKEW_MS;
		if (t > det->future_limit_ms) {
			*clamped = true;
			t = det->future_limit_ms;
		}
	}
	return t;
}

/*
 * Sets the time bucket of the n keys for a flow received at t_ms (0: none,
 * so the bucket of the flush) and drops the keys whose bucket is older
 * than every window that can still be evaluated at watermark_ms.  Returns
 * the number of keys left, and sets *late when some were dropped.
 */
static int
bucket_keys(const struct fs_detect *det, struct obs_key *keys, int n, int64_t t_ms,
	    int64_t watermark_ms, bool *late)
{
	int kept = 0;

	*late = false;
	for (int i = 0; i < n; i++) {
		int64_t window_s = det->settings.rules[keys[i].rule].window_s;
		int64_t res = fs_detect_resolution(window_s);
		int64_t nbuckets = (window_s + res - 1) / res;
		int64_t bucket = t_ms > 0 ? bucket_start(t_ms / 1000, res) : 0;

		if (t_ms > 0 && bucket < bucket_start(watermark_ms / 1000, res) - (nbuckets - 1) * res) {
			*late = true;
			continue;
		}
		keys[i].bucket_s = (uint32_t)bucket;
		keys[kept++] = keys[i];
	}
	return kept;
}

/*
 * Counts a flow's issues: an address that no rule counts (odd), a receive
 * time clamped to t_ms (clamped), keys left out as late (late).  Logs the
 * last two at most once a minute each.
 */
static void
count_flow_issues(struct fs_detect *det, const struct fs_flow *flow, int64_t t_ms, bool odd,
		  bool clamped, bool late)
{
	if (odd)
		det->stats.odd_addresses++;
	if (clamped) {
		det->stats.future_flows++;
		fs_log_limited(&det->future_log, FS_LOG_WARNING, FACILITY,
			       "flow received at %" PRId64 " ms (Unix) is more than %d ms past this "
			       "host's clock; counted as received at %" PRId64 " ms.  Check that the "
			       "hosts of flowsift-ingest and flowsift-report keep time (NTP)",
			       flow->time_received_ns / 1000000, FS_DETECT_MAX_SKEW_MS, t_ms);
	}
	if (late) {
		det->stats.late_flows++;
		fs_log_limited(&det->late_log, FS_LOG_WARNING, FACILITY,
			       "flow received at %" PRId64 " ms (Unix) is older than a rule's window "
			       "ending at the watermark %" PRId64 " ms, so that rule does not count it",
			       t_ms, det->watermark_ms);
	}
}

int
fs_detect_add(struct fs_detect *det, const struct fs_flow *flow)
{
	struct obs_key keys[KEYS_PER_FLOW + 1];
	size_t slots[KEYS_PER_FLOW + 1];
	size_t fresh = 0;
	/* [0] from the sender's side, [1] from the receiver's; -1 until looked up */
	int place[2] = { -1, -1 };
	uint8_t proto = fs_flow_has(flow, FS_F_PROTO) ? flow->proto : 0;
	int64_t t_ms, watermark_ms;
	bool clamped, late, odd;
	int n;

	if ((fs_flow_has(flow, FS_F_SRC_ADDR) &&
	     fs_detect_prefixes_match(&det->settings.allowlist, &flow->src_addr)) ||
	    (fs_flow_has(flow, FS_F_DST_ADDR) &&
	     fs_detect_prefixes_match(&det->settings.allowlist, &flow->dst_addr)) ||
	    (det->settings.allowlist_filter && fs_filter_match(det->settings.allowlist_filter, flow))) {
		det->stats.flows++;
		det->stats.allowlisted++;
		return 0;
	}
	t_ms = receive_time_ms(det, flow, &clamped);
	watermark_ms = t_ms > det->watermark_ms ? t_ms : det->watermark_ms;
	/* A flush evaluates the windows at the watermark only, so one table spans one bucket. */
	if (det->count > 0 && det->finest_res_s > 0 &&
	    bucket_start(watermark_ms / 1000, det->finest_res_s) != det->table_bucket_s) {
		det->stats.bucket_flushes++;
		return FS_ERR_FULL;
	}
	n = bucket_keys(det, keys, flow_keys(det, flow, keys, &odd), t_ms, watermark_ms, &late);
	for (int i = 0; i < n; i++) {
		slots[i] = find_slot(det, &keys[i]);
		if (det->slots[slots[i]] == 0)
			fresh++;
	}
	if (det->count + fresh > det->capacity) {
		det->stats.full++;
		return FS_ERR_FULL;
	}
	/* Past the capacity check, so that a flow added again after FS_ERR_FULL counts once. */
	det->watermark_ms = watermark_ms;
	if (det->count == 0 && det->finest_res_s > 0)
		det->table_bucket_s = bucket_start(watermark_ms / 1000, det->finest_res_s);
	count_flow_issues(det, flow, t_ms, odd, clamped, late);
	for (int i = 0; i < n; i++) {
		struct obs *o;
		bool receives;

		/* An earlier key of this flow may have taken the slot found above. */
		slots[i] = find_slot(det, &keys[i]);
		if (det->slots[slots[i]] == 0) {
			o = &det->entries[det->count];
			memset(o, 0, sizeof(*o));
			o->key = keys[i];
			o->proto = proto;
			det->slots[slots[i]] = (uint32_t)++det->count;
		} else {
			o = &det->entries[det->slots[slots[i]] - 1];
			if (o->proto != proto)
				o->mixed_proto = 1;
		}
		o->flows++;
		receives = fs_alert_rule_subject_receives((enum fs_alert_rule)keys[i].rule);
		if (place[receives] < 0)
			place[receives] = flow_place(det, flow, receives);
		vote_place(o, (uint16_t)place[receives]);
		if (flow->time_received_ns > 0) {
			if (o->received_first_ns == 0 || flow->time_received_ns < o->received_first_ns)
				o->received_first_ns = flow->time_received_ns;
			if (flow->time_received_ns > o->received_last_ns)
				o->received_last_ns = flow->time_received_ns;
		}
		o->bytes = fs_count_add(o->bytes, fs_flow_has(flow, FS_F_BYTES) ? flow->bytes : 0);
		o->packets = fs_count_add(o->packets,
					  fs_flow_has(flow, FS_F_PACKETS) ? flow->packets : 0);
	}
	if (det->place_missed) {
		det->stats.places_full++;
		det->place_missed = false;
	}
	det->stats.flows++;
	return 0;
}

/* ---- Redis helpers ---- */

static bool
is_distinct(enum fs_alert_rule rule)
{
	return rule == FS_RULE_FANOUT || rule == FS_RULE_PORT_SCAN || rule == FS_RULE_FANIN;
}

static const char *
metric_name(const struct fs_detect *det, enum fs_alert_rule rule)
{
	static const char *const volume[] = { "bytes_per_s", "packets_per_s", "flows_per_s" };

	switch (rule) {
	case FS_RULE_FANOUT: return "distinct_destinations";
	case FS_RULE_SYN_SCAN: return "syn_only_flows";
	case FS_RULE_PORT_SCAN: return "distinct_ports";
	case FS_RULE_SMTP: return "smtp_flows";
	case FS_RULE_FANIN: return "distinct_sources";
	default: return volume[det->settings.volume_metric];
	}
}

static void
addr_from(struct fs_addr *addr, uint8_t family, const uint8_t bytes[16])
{
	memset(addr, 0, sizeof(*addr));
	addr->family = family;
	memcpy(addr->bytes, bytes, sizeof(addr->bytes));
}

/*
 * Joins the n parts with ':' into buf (len bytes), cut short like
 * snprintf() when they do not fit.  Returns the length written.
 */
static size_t
join_parts(char *buf, size_t len, const char *const *parts, size_t n)
{
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		size_t part = strlen(parts[i]);

		if (i > 0 && used + 1 < len)
			buf[used++] = ':';
		if (part > len - 1 - used)
			part = len - 1 - used;
		memcpy(buf + used, parts[i], part);
		used += part;
	}
	buf[used] = '\0';
	return used;
}

/*
 * Writes "<rule>:<subject>[:<port>|:<peer>]" for the group of key, without
 * snprintf(), which took a tenth of flowsift-report's CPU for the groups of
 * a flush (perf).
 */
static void
group_name(const struct obs_key *key, char *buf, size_t len)
{
	char subject[FS_ADDR_STRLEN], peer[FS_ADDR_STRLEN], port[FS_RESP_DECIMAL_LEN];
	const char *parts[3];
	size_t n = 0;
	struct fs_addr a;

	addr_from(&a, key->subject_family, key->subject);
	parts[n++] = fs_alert_rule_name(key->rule);
	parts[n++] = fs_addr_format(&a, subject);
	if (key->peer_family) {
		addr_from(&a, key->peer_family, key->peer);
		parts[n++] = fs_addr_format(&a, peer);
	} else if (key->port) {
		fs_resp_format_u64(port, key->port);
		parts[n++] = port;
	}
	join_parts(buf, len, parts, n);
}

/* Writes the counter key of group name for the bucket that starts at start. */
static void
bucket_key(char *buf, size_t len, const char *name, int64_t start)
{
	static const char prefix[] = FS_DETECT_KEY_PREFIX;
	char number[FS_RESP_DECIMAL_LEN];

	fs_resp_format_i64(number, start);
	memcpy(buf, prefix, sizeof(prefix));
	join_parts(buf + sizeof(prefix) - 1, len - (sizeof(prefix) - 1),
		   (const char *const[]){ name, number }, 2);
}

static int
append(struct fs_detect *det, redisContext *ctx, int argc, const char **argv,
       const size_t *argvlen)
{
	det->stats.commands++;
	return fs_resp_writer_append(&det->resp, ctx, argc, argv, argvlen);
}

static int
append_fmt(struct fs_detect *det, redisContext *ctx, const char *fmt, ...)
{
	va_list ap;
	int rc;

	det->stats.commands++;
	va_start(ap, fmt);
	rc = redisvAppendCommand(ctx, fmt, ap);
	va_end(ap);
	return rc == REDIS_OK ? 0 : FS_ERR_SYSTEM;
}

/* Reads n replies into replies[]; on failure frees what it read.  Returns 0 or FS_ERR_SYSTEM. */
static int
read_replies(redisContext *ctx, redisReply **replies, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		void *r = NULL;

		if (redisGetReply(ctx, &r) != REDIS_OK || r == NULL) {
			for (size_t j = 0; j < i; j++)
				freeReplyObject(replies[j]);
			return FS_ERR_SYSTEM;
		}
		replies[i] = r;
	}
	return 0;
}

static void
free_replies(redisReply **replies, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (replies[i])
			freeReplyObject(replies[i]);
	}
}

static uint64_t
reply_number(const redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer > 0 ? (uint64_t)r->integer : 0;
	if (r->type == REDIS_REPLY_STRING)
		return strtoull(r->str, NULL, 10);
	return 0;
}

/* ---- flush, step 1: counters and distinct counts ---- */

static int
compare_obs(const void *a, const void *b)
{
	return memcmp(&((const struct obs *)a)->key, &((const struct obs *)b)->key,
		      sizeof(struct obs_key));
}

static size_t
build_groups(struct fs_detect *det)
{
	size_t ngroups = 0;

	qsort(det->entries, det->count, sizeof(*det->entries), compare_obs);
	for (size_t e = 0; e < det->count; e++) {
		const struct obs *o = &det->entries[e];
		struct group *g;

		if (ngroups == 0 ||
		    memcmp(&det->entries[det->groups[ngroups - 1].first].key, &o->key, GROUP_BYTES) != 0) {
			g = &det->groups[ngroups++];
			memset(g, 0, sizeof(*g));
			g->first = e;
			g->proto = o->mixed_proto ? 0 : o->proto;
		}
		g = &det->groups[ngroups - 1];
		g->n++;
		g->flows += o->flows;
		g->bytes = fs_count_add(g->bytes, o->bytes);
		g->packets = fs_count_add(g->packets, o->packets);
		if (o->mixed_proto || o->proto != g->proto)
			g->proto = 0;
	}
	return ngroups;
}

/*
 * Returns what a flush adds to the counter of the n entries from first,
 * which share one bucket key: the pending flush's part (obs.sent) when
 * resend is set, else what no flush added yet.
 */
static uint64_t
run_increment(const struct fs_detect *det, size_t first, size_t n, bool resend)
{
	enum fs_alert_rule rule = det->entries[first].key.rule;
	int metric = 0;   /* index into obs.written and obs.sent: flows, bytes, packets */
	uint64_t sum = 0;

	if (rule == FS_RULE_VOLUME_SRC || rule == FS_RULE_VOLUME_DST) {
		if (det->settings.volume_metric == FS_DETECT_BYTES)
			metric = 1;
		else if (det->settings.volume_metric == FS_DETECT_PACKETS)
			metric = 2;
	}
	for (size_t i = 0; i < n; i++) {
		const struct obs *o = &det->entries[first + i];
		const uint64_t totals[3] = { o->flows, o->bytes, o->packets };

		sum += (resend ? o->sent[metric] : totals[metric]) - o->written[metric];
	}
	return sum;
}

/*
 * Returns the number of entries from first (before end) that share the
 * bucket key of the entry at first.  The entries are sorted by key.
 */
static size_t
write_run(const struct fs_detect *det, size_t first, size_t end)
{
	size_t i = first + 1;

	while (i < end && memcmp(&det->entries[i].key, &det->entries[first].key, WRITE_BYTES) == 0)
		i++;
	return i - first;
}

/* Returns the start of the bucket that key is written to when the flush evaluates at cur. */
static int64_t
key_bucket(const struct obs_key *key, int64_t cur)
{
	return key->bucket_s ? (int64_t)key->bucket_s : cur;
}

/* Appends one counter_script call that adds amount to the counter key of this attempt. */
static int
append_counter(struct fs_detect *det, redisContext *ctx, const char *key, uint64_t amount)
{
	char text[FS_RESP_DECIMAL_LEN];

	fs_resp_format_u64(text, amount);
	return append(det, ctx, 9, (const char *[]){ "EVAL", counter_script, "2", key,
						     det->claim_key, text, det->seq_text,
						     det->token, det->claim_ttl }, NULL);
}

/* Appends one PFADD of the distinct elements of the n entries from first to key. */
static int
append_pfadd(struct fs_detect *det, redisContext *ctx, const char *key, size_t first, size_t n)
{
	char *text = det->text;

	det->argv[0] = "PFADD";
	det->argv[1] = key;
	for (size_t i = 0; i < n; i++) {
		const struct obs_key *k = &det->entries[first + i].key;
		struct fs_addr a;

		if (k->rule == FS_RULE_PORT_SCAN) {
			fs_resp_format_u64(text, k->element_port);
		} else {
			addr_from(&a, k->element_family, k->element);
			fs_addr_format(&a, text);
		}
		det->argv[2 + i] = text;
		det->argvlen[2 + i] = strlen(text);
		text += FS_ADDR_STRLEN;
	}
	det->argvlen[0] = 5;
	det->argvlen[1] = strlen(key);
	return append(det, ctx, (int)n + 2, det->argv, det->argvlen);
}

/* Numbers a new attempt of flush det->seq. */
static void
begin_attempt(struct fs_detect *det)
{
	det->attempts++;
	snprintf(det->seq_text, sizeof(det->seq_text), "%" PRIu64, det->seq);
	snprintf(det->token, sizeof(det->token), "%" PRIu64 ":%" PRIu64, det->seq, det->attempts);
}

/*
 * Queues the commands of one group: per bucket key of its entries a PFADD
 * or counter script and an EXPIRE, then one PFCOUNT or MGET that reads the
 * window ending in the bucket of eval_s.  Returns how many, or a negative
 * fs_result.
 */
static int
queue_group(struct fs_detect *det, redisContext *ctx, const struct group *g, int64_t eval_s)
{
	const struct obs_key *gk = &det->entries[g->first].key;
	const struct fs_detect_rule_settings *rs = &det->settings.rules[gk->rule];
	int64_t res = fs_detect_resolution(rs->window_s);
	int nbuckets = (int)((rs->window_s + res - 1) / res);
	int64_t cur = bucket_start(eval_s, res);
	char name[NAME_LEN], keys[MAX_BUCKETS][KEY_LEN], ttl[FS_RESP_DECIMAL_LEN];
	const char *argv[MAX_BUCKETS + 1];
	size_t argvlen[MAX_BUCKETS + 1];
	size_t end = g->first + g->n, run;
	int queued = 0, rc = 0;

	group_name(gk, name, sizeof(name));
	for (int b = 0; b < nbuckets; b++)
		bucket_key(keys[b], KEY_LEN, name, cur - b * res);
	/*
	 * The expiry counts from the last write on the Redis clock, not from the
	 * bucket's start, so the keys of a replayed old capture live as long as
	 * those of live traffic.
	 */
	fs_resp_format_i64(ttl, rs->window_s + res);

	for (size_t first = g->first; first < end && rc == 0; first += run) {
		char key[KEY_LEN];

		run = write_run(det, first, end);
		bucket_key(key, sizeof(key), name, key_bucket(&det->entries[first].key, cur));
		if (is_distinct(gk->rule)) {
			rc = append_pfadd(det, ctx, key, first, run);
		} else {
			rc = append_counter(det, ctx, key, run_increment(det, first, run, false));
		}
		if (rc == 0)
			rc = append(det, ctx, 3, (const char *[]){ "EXPIRE", key, ttl }, NULL);
		queued += 2;
	}
	if (rc < 0)
		return rc;
	/* Queued after the writes, so that the window read includes them. */
	argv[0] = is_distinct(gk->rule) ? "PFCOUNT" : "MGET";
	for (int b = 0; b < nbuckets; b++)
		argv[1 + b] = keys[b];
	for (int i = 0; i <= nbuckets; i++)
		argvlen[i] = strlen(argv[i]);
	rc = append(det, ctx, nbuckets + 1, argv, argvlen);
	return rc < 0 ? rc : queued + 1;
}

/* Sets each group's observed value from the EXEC reply. */
static int
read_observed(struct fs_detect *det, const redisReply *exec, size_t ngroups)
{
	for (size_t gi = 0; gi < ngroups; gi++) {
		struct group *g = &det->groups[gi];
		const struct obs_key *gk = &det->entries[g->first].key;
		const struct fs_detect_rule_settings *rs = &det->settings.rules[gk->rule];
		const redisReply *window = exec->element[g->reply + g->nreplies - 1];

		for (size_t i = 0; i + 1 < g->nreplies; i++) {
			if (exec->element[g->reply + i]->type == REDIS_REPLY_ERROR)
				return FS_ERR_INVALID;
		}
		if (is_distinct(gk->rule)) {
			if (window->type != REDIS_REPLY_INTEGER)
				return FS_ERR_INVALID;
			g->observed = reply_number(window);
			continue;
		}
		if (window->type != REDIS_REPLY_ARRAY)
			return FS_ERR_INVALID;
		g->observed = 0;
		for (size_t i = 0; i < window->elements; i++)
			g->observed = fs_count_add(g->observed, reply_number(window->element[i]));
		if (gk->rule == FS_RULE_VOLUME_SRC || gk->rule == FS_RULE_VOLUME_DST)
			g->observed /= (uint64_t)rs->window_s;
	}
	return 0;
}

/* Step 1: writes every group in one MULTI/EXEC and reads each group's observed value. */
static int
write_counts(struct fs_detect *det, redisContext *ctx, size_t ngroups, int64_t eval_s)
{
	/*
	 * Each entry starts at most one bucket key of 2 commands, and each group
	 * adds a read; MULTI and EXEC add 2 replies.
	 */
	redisReply **replies = calloc(2 * det->count + ngroups + 2, sizeof(*replies));
	const redisReply *exec;
	size_t queued = 0;
	int rc;

	if (!replies)
		return FS_ERR_SYSTEM;
	begin_attempt(det);
	rc = append_fmt(det, ctx, "MULTI");
	for (size_t gi = 0; gi < ngroups && rc == 0; gi++) {
		int n = queue_group(det, ctx, &det->groups[gi], eval_s);

		if (n < 0) {
			rc = n;
			break;
		}
		det->groups[gi].reply = queued;
		det->groups[gi].nreplies = (size_t)n;
		queued += (size_t)n;
	}
	if (rc == 0)
		rc = append_fmt(det, ctx, "EXEC");
	if (rc == 0)
		rc = read_replies(ctx, replies, queued + 2);
	if (rc < 0) {
		free(replies);
		return FS_ERR_SYSTEM;
	}
	exec = replies[queued + 1];
	if (exec->type != REDIS_REPLY_ARRAY || exec->elements != queued)
		rc = FS_ERR_INVALID;
	else
		rc = read_observed(det, exec, ngroups);
	if (rc < 0)
		fs_log_limited(&det->log_limit, FS_LOG_ERR, FACILITY,
			       "unexpected reply to the detection counters' MULTI/EXEC");
	free_replies(replies, queued + 2);
	free(replies);
	return rc;
}

/*
 * Step 0, after a failed flush: adds the failed flush's counter increments
 * again, with its sequence number, in one MULTI/EXEC.  Redis applies them
 * only when no attempt of that flush was applied before.  The distinct
 * counts need no resend, because PFADD of an element twice counts it once
 * and step 1 adds every element again.  Entries without a receive time go
 * to the bucket of eval_s, which may differ from the failed attempt's.
 * Returns 0 or a negative fs_result.
 */
static int
resend_counts(struct fs_detect *det, redisContext *ctx, size_t ngroups, int64_t eval_s)
{
	size_t queued = 0, run;
	redisReply **replies;
	const redisReply *exec;
	int rc;

	for (size_t gi = 0; gi < ngroups; gi++) {
		const struct group *g = &det->groups[gi];

		if (is_distinct(det->entries[g->first].key.rule))
			continue;
		for (size_t first = g->first; first < g->first + g->n; first += run) {
			run = write_run(det, first, g->first + g->n);
			if (run_increment(det, first, run, true) > 0)
				queued++;
		}
	}
	if (queued == 0)
		return 0;
	replies = calloc(queued + 2, sizeof(*replies));
	if (!replies)
		return FS_ERR_SYSTEM;
	begin_attempt(det);
	rc = append_fmt(det, ctx, "MULTI");
	for (size_t gi = 0; gi < ngroups && rc == 0; gi++) {
		const struct group *g = &det->groups[gi];
		const struct obs_key *gk = &det->entries[g->first].key;
		int64_t res = fs_detect_resolution(det->settings.rules[gk->rule].window_s);
		char name[NAME_LEN];

		if (is_distinct(gk->rule))
			continue;
		group_name(gk, name, sizeof(name));
		for (size_t first = g->first; first < g->first + g->n && rc == 0; first += run) {
			uint64_t amount;
			char key[KEY_LEN];

			run = write_run(det, first, g->first + g->n);
			amount = run_increment(det, first, run, true);
			if (amount == 0)
				continue;
			bucket_key(key, sizeof(key), name,
				   key_bucket(&det->entries[first].key, bucket_start(eval_s, res)));
			rc = append_counter(det, ctx, key, amount);
		}
	}
	if (rc == 0)
		rc = append_fmt(det, ctx, "EXEC");
	if (rc == 0)
		rc = read_replies(ctx, replies, queued + 2);
	if (rc < 0) {
		free(replies);
		return FS_ERR_SYSTEM;
	}
	exec = replies[queued + 1];
	if (exec->type != REDIS_REPLY_ARRAY || exec->elements != queued) {
		fs_log_limited(&det->log_limit, FS_LOG_ERR, FACILITY,
			       "unexpected reply to the resent detection counters' MULTI/EXEC");
		rc = FS_ERR_INVALID;
	}
	free_replies(replies, queued + 2);
	free(replies);
	return rc;
}

/*
 * Writes the counters: first the pending flush again, then what no flush
 * wrote yet as the next flush.  A failed write becomes the pending flush.
 * Returns 0 or a negative fs_result.
 */
static int
write_all_counts(struct fs_detect *det, redisContext *ctx, size_t ngroups, int64_t eval_s)
{
	int rc;

	if (det->pending) {
		rc = resend_counts(det, ctx, ngroups, eval_s);
		if (rc < 0)
			return rc;
		for (size_t e = 0; e < det->count; e++)
			memcpy(det->entries[e].written, det->entries[e].sent,
			       sizeof(det->entries[e].written));
		det->pending = false;
		det->seq++;
	}
	rc = write_counts(det, ctx, ngroups, eval_s);
	if (rc < 0) {
		for (size_t e = 0; e < det->count; e++) {
			struct obs *o = &det->entries[e];

			o->sent[0] = o->flows;
			o->sent[1] = o->bytes;
			o->sent[2] = o->packets;
		}
		det->pending = true;
		return rc;
	}
	det->seq++;
	return 0;
}

/* ---- flush, step 2: alert lifecycle ---- */

static int
compare_evidence_addr(const void *a, const void *b)
{
	const struct evidence *x = a, *y = b;

	if (x->addr.family != y->addr.family)
		return x->addr.family < y->addr.family ? -1 : 1;
	return memcmp(x->addr.bytes, y->addr.bytes, sizeof(x->addr.bytes));
}

static int
compare_evidence_port(const void *a, const void *b)
{
	const struct evidence *x = a, *y = b;

	return (x->port > y->port) - (x->port < y->port);
}

/* Largest flows first; ties keep the key order of the previous sort. */
static int
compare_evidence_flows(const void *a, const void *b)
{
	const struct evidence *x = a, *y = b;

	if (x->flows != y->flows)
		return x->flows < y->flows ? 1 : -1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return compare_evidence_addr(a, b);
}

/* Sums scratch[0..n) items that compare equal; returns the new count. */
static size_t
merge_evidence(struct evidence *items, size_t n, int (*cmp)(const void *, const void *))
{
	size_t out = 0;

	qsort(items, n, sizeof(*items), cmp);
	for (size_t i = 0; i < n; i++) {
		if (out > 0 && cmp(&items[out - 1], &items[i]) == 0)
			items[out - 1].flows += items[i].flows;
		else
			items[out++] = items[i];
	}
	qsort(items, out, sizeof(*items), compare_evidence_flows);
	return out;
}

static void
fill_evidence(struct fs_detect *det, const struct group *g, struct fs_alert *alert)
{
	size_t n = 0;

	for (size_t i = 0; i < g->n; i++) {
		const struct obs *o = &det->entries[g->first + i];

		if (o->key.element_family == 0)
			continue;
		memset(&det->scratch[n], 0, sizeof(det->scratch[n]));
		addr_from(&det->scratch[n].addr, o->key.element_family, o->key.element);
		det->scratch[n++].flows = o->flows;
	}
	n = merge_evidence(det->scratch, n, compare_evidence_addr);
	for (size_t i = 0; i < n && i < FS_ALERT_TOP; i++) {
		alert->top_addrs[i].addr = det->scratch[i].addr;
		alert->top_addrs[i].flows = det->scratch[i].flows;
		alert->ntop_addrs++;
	}
	n = 0;
	for (size_t i = 0; i < g->n; i++) {
		const struct obs *o = &det->entries[g->first + i];
		uint16_t port = o->key.port ? o->key.port : o->key.element_port;

		if (port == 0)
			continue;
		memset(&det->scratch[n], 0, sizeof(det->scratch[n]));
		det->scratch[n].port = port;
		det->scratch[n++].flows = o->flows;
	}
	n = merge_evidence(det->scratch, n, compare_evidence_port);
	for (size_t i = 0; i < n && i < FS_ALERT_TOP; i++) {
		alert->top_ports[i].port = det->scratch[i].port;
		alert->top_ports[i].flows = det->scratch[i].flows;
		alert->ntop_ports++;
	}
}

/* Adds flows to place's tally (0: none) and returns the leading place, best or place. */
static uint16_t
tally_place(struct fs_detect *det, uint16_t place, uint64_t flows, uint16_t best)
{
	if (place == 0 || flows == 0)
		return best;
	det->place_flows[place - 1] += flows;
	if (best == 0 || det->place_flows[place - 1] > det->place_flows[best - 1] ||
	    (det->place_flows[place - 1] == det->place_flows[best - 1] && place < best))
		return place;
	return best;
}

/*
 * Names in alert the place where most of the group's flows were seen (from
 * the entries' majority votes, so an even split may name either), and the
 * receive times of the earliest and latest of them.
 */
static void
fill_place(struct fs_detect *det, const struct group *g, struct fs_alert *alert)
{
	uint16_t best = 0;
	const struct place *p;

	for (size_t i = 0; i < g->n; i++) {
		const struct obs *o = &det->entries[g->first + i];

		/*
		 * The candidate carried (flows + lead) / 2 of the entry's flows and
		 * the other place the rest, exactly so when the flows came by at
		 * most two places.
		 */
		uint64_t mine = (o->flows + o->place_votes) / 2;

		best = tally_place(det, o->place, mine, best);
		best = tally_place(det, o->other_place, o->flows - mine, best);
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct obs *o = &det->entries[g->first + i];

		if (o->place)
			det->place_flows[o->place - 1] = 0;
		if (o->other_place)
			det->place_flows[o->other_place - 1] = 0;
		if (o->received_first_ns > 0 &&
		    (alert->flows_first_ms == 0 || o->received_first_ns / 1000000 < alert->flows_first_ms))
			alert->flows_first_ms = o->received_first_ns / 1000000;
		if (o->received_last_ns / 1000000 > alert->flows_last_ms)
			alert->flows_last_ms = o->received_last_ns / 1000000;
	}
	if (best == 0)
		return;
	p = &det->places[best - 1];
	alert->exporter = p->exporter;
	alert->has_interface = p->has_ifindex;
	alert->interface = p->ifindex;
	memcpy(alert->exporter_name, p->exporter_name, sizeof(alert->exporter_name));
	memcpy(alert->exporter_site, p->exporter_site, sizeof(alert->exporter_site));
	memcpy(alert->interface_name, p->if_name, sizeof(alert->interface_name));
}

static void
build_alert(struct fs_detect *det, const struct group *g, int64_t now_ms, int64_t first_seen_ms,
	    uint32_t updates, enum fs_alert_state state, struct fs_alert *alert)
{
	const struct obs_key *gk = &det->entries[g->first].key;
	const struct fs_detect_rule_settings *rs = &det->settings.rules[gk->rule];
	char name[NAME_LEN];

	memset(alert, 0, sizeof(*alert));
	group_name(gk, name, sizeof(name));
	snprintf(alert->id, sizeof(alert->id), "%s:%" PRId64, name, first_seen_ms / 1000);
	alert->rule = gk->rule;
	alert->state = (uint8_t)state;
	alert->severity = fs_alert_rule_severity(gk->rule);
	addr_from(&alert->subject, gk->subject_family, gk->subject);
	if (gk->peer_family)
		addr_from(&alert->peer, gk->peer_family, gk->peer);
	alert->port = gk->port;
	alert->proto = g->proto;
	snprintf(alert->metric, sizeof(alert->metric), "%s", metric_name(det, gk->rule));
	alert->threshold = rs->threshold;
	alert->observed = g->observed;
	alert->window_s = rs->window_s;
	alert->first_seen_ms = first_seen_ms;
	alert->last_seen_ms = now_ms;
	alert->time_ms = now_ms;
	alert->updates = updates;
	alert->flows = g->flows;
	alert->bytes = g->bytes;
	alert->packets = g->packets;
	fill_evidence(det, g, alert);
	fill_place(det, g, alert);
	fs_alert_describe(alert);
}

/*
 * Counts an alert event and passes it to the callback, at most
 * max_alerts_per_minute per minute of alert time.  The rest are counted as
 * suppressed, with one warning per minute; Redis keeps them all.
 */
static void
emit(struct fs_detect *det, const struct fs_alert *alert)
{
	uint32_t max = det->settings.max_alerts_per_minute;

	if (alert->state == FS_ALERT_RAISED)
		det->stats.raised++;
	else if (alert->state == FS_ALERT_UPDATED)
		det->stats.updated++;
	else
		det->stats.cleared++;
	if (alert->time_ms - det->minute_start_ms >= 60000 || alert->time_ms < det->minute_start_ms) {
		det->minute_start_ms = alert->time_ms;
		det->minute_events = 0;
	}
	if (max > 0 && det->minute_events >= max) {
		if (det->minute_events == max)
			fs_log(FS_LOG_WARNING, FACILITY,
			       "more than %u alert events within a minute (alert.rate.max); the rest of "
			       "this minute is not sent, only counted as suppressed. `flowsift report "
			       "alerts` lists every open alert", max);
		det->minute_events++;
		det->stats.suppressed++;
		return;
	}
	det->minute_events++;
	if (det->alert_fn)
		det->alert_fn(alert, det->opaque);
}

static bool
is_candidate(const struct fs_detect *det, const struct group *g)
{
	return g->observed >= det->settings.rules[det->entries[g->first].key.rule].threshold;
}

/* Moves the state of one candidate from the script's reply; queues the HSET of its JSON. */
static int
handle_transition(struct fs_detect *det, redisContext *ctx, const struct group *g,
		  const redisReply *r, int64_t now_ms)
{
	struct fs_alert alert;
	char name[NAME_LEN], json[FS_ALERT_JSON_MAX];
	long long action, updates;
	int64_t first_seen;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER || r->element[2]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_STRING)
		return FS_ERR_INVALID;
	action = r->element[0]->integer;
	updates = r->element[2]->integer;
	first_seen = strtoll(r->element[1]->str, NULL, 10);
	build_alert(det, g, now_ms, first_seen, (uint32_t)updates,
		    action == 0 ? FS_ALERT_RAISED
		    : action == 1 || updates > 0 ? FS_ALERT_UPDATED : FS_ALERT_RAISED, &alert);
	if (action == 0 || action == 1)
		emit(det, &alert);
	if (fs_alert_format_json(&alert, json, sizeof(json)) < 0)
		return FS_ERR_INVALID;
	group_name(&det->entries[g->first].key, name, sizeof(name));
	return append_fmt(det, ctx, "HSET " FS_DETECT_ALERT_PREFIX "%s json %s", name, json);
}

/* Step 2: runs the lifecycle script for every candidate, emits, stores each alert's JSON. */
static int
run_lifecycle(struct fs_detect *det, redisContext *ctx, size_t ngroups, int64_t now_ms)
{
	redisReply **replies = NULL;
	size_t ncand = 0, nhset = 0;
	char name[NAME_LEN], now_text[24], cooldown[24];
	int rc = 0;

	for (size_t gi = 0; gi < ngroups; gi++)
		ncand += is_candidate(det, &det->groups[gi]);
	if (ncand == 0)
		return 0;
	replies = calloc(ncand, sizeof(*replies));
	if (!replies)
		return FS_ERR_SYSTEM;
	snprintf(now_text, sizeof(now_text), "%" PRId64, now_ms);
	snprintf(cooldown, sizeof(cooldown), "%" PRId64, det->settings.cooldown_s * 1000);
	for (size_t gi = 0; gi < ngroups && rc == 0; gi++) {
		if (!is_candidate(det, &det->groups[gi]))
			continue;
		group_name(&det->entries[det->groups[gi].first].key, name, sizeof(name));
		rc = append_fmt(det, ctx, "EVAL %s 2 " FS_DETECT_ALERT_PREFIX "%s " FS_DETECT_OPEN_KEY
				" %s %s", lifecycle_script, name, now_text, cooldown);
	}
	if (rc == 0)
		rc = read_replies(ctx, replies, ncand);
	if (rc < 0) {
		free(replies);
		return FS_ERR_SYSTEM;
	}
	for (size_t gi = 0, c = 0; gi < ngroups && rc == 0; gi++) {
		if (!is_candidate(det, &det->groups[gi]))
			continue;
		rc = handle_transition(det, ctx, &det->groups[gi], replies[c++], now_ms);
		if (rc == 0)
			nhset++;
	}
	free_replies(replies, ncand);
	memset(replies, 0, ncand * sizeof(*replies));
	if (rc == 0 || nhset > 0) {
		int rrc = read_replies(ctx, replies, nhset);

		if (rrc == 0)
			free_replies(replies, nhset);
		else
			rc = rrc;
	}
	free(replies);
	if (rc == FS_ERR_INVALID)
		fs_log_limited(&det->log_limit, FS_LOG_ERR, FACILITY,
			       "unexpected reply from the alert lifecycle script");
	return rc;
}

/* ---- flush, step 3: clear quiet alerts ---- */

static int
clear_quiet(struct fs_detect *det, redisContext *ctx, int64_t now_ms)
{
	redisReply *reply;
	size_t queued = 0;
	int rc = 0;

	det->stats.commands++;
	reply = redisCommand(ctx, "EVAL %s 1 " FS_DETECT_OPEN_KEY " %lld %d", clear_script,
			     (long long)(now_ms - det->settings.quiet_s * 1000), FS_DETECT_CLEAR_BATCH);
	if (!reply)
		return FS_ERR_SYSTEM;
	if (reply->type != REDIS_REPLY_ARRAY) {
		fs_log_limited(&det->log_limit, FS_LOG_ERR, FACILITY,
			       "unexpected reply from the alert clearing script");
		freeReplyObject(reply);
		return FS_ERR_INVALID;
	}
	for (size_t i = 0; i < reply->elements && rc == 0; i++) {
		const redisReply *j = reply->element[i];
		struct fs_alert alert;
		char json[FS_ALERT_JSON_MAX];

		if (j->type != REDIS_REPLY_STRING ||
		    fs_alert_parse_json(j->str, j->len, &alert) < 0)
			continue;
		alert.state = FS_ALERT_CLEARED;
		alert.time_ms = now_ms;
		fs_alert_describe(&alert);
		emit(det, &alert);
		if (fs_alert_format_json(&alert, json, sizeof(json)) < 0)
			continue;
		rc = append_fmt(det, ctx, "ZADD " FS_DETECT_RECENT_KEY " %lld %s",
				(long long)now_ms, json);
		queued++;
	}
	freeReplyObject(reply);
	if (queued > 0 && rc == 0) {
		rc = append_fmt(det, ctx, "ZREMRANGEBYSCORE " FS_DETECT_RECENT_KEY " -inf %lld",
				(long long)(now_ms - (int64_t)FS_DETECT_RECENT_S * 1000));
		queued++;
	}
	for (size_t i = 0; i < queued; i++) {
		void *r = NULL;

		if (redisGetReply(ctx, &r) != REDIS_OK || !r)
			return FS_ERR_SYSTEM;
		freeReplyObject(r);
	}
	return rc;
}

int
fs_detect_flush(struct fs_detect *det, redisContext *ctx, int64_t now_ms)
{
	/* Windows end at the watermark; before the first timed flow, at the wall clock. */
	int64_t eval_s = (det->watermark_ms > 0 ? det->watermark_ms : now_ms) / 1000;
	int rc;

	if (ctx->err) {
		det->stats.errors++;
		return FS_ERR_SYSTEM;
	}
	if (det->count > 0) {
		size_t ngroups = build_groups(det);

		rc = write_all_counts(det, ctx, ngroups, eval_s);
		if (rc < 0) {
			reindex(det);
			det->stats.errors++;
			return rc;
		}
		rc = run_lifecycle(det, ctx, ngroups, now_ms);
		reset_table(det);
		if (rc < 0) {
			det->stats.errors++;
			return rc;
		}
	}
	rc = clear_quiet(det, ctx, now_ms);
	if (rc < 0) {
		det->stats.errors++;
		return rc;
	}
	det->stats.flushes++;
	return 0;
}
