/* topn.c - rolling top-N counters: local pre-aggregation, pipelined writes, queries. */
#include "redis/topn.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/count.h"
#include "core/log.h"
#include "core/result.h"
#include "redis/redis_url.h"
#include "redis/reply.h"
#include "redis/resp_writer.h"
#include "redis/topn_rollup.h"

#define KEY_LEN 96          /* fits the prefix, names and a 20-digit bucket */
#define MAX_BUCKETS 24      /* the largest bucket count in window_table */
#define MAX_CAPACITY (1u << 28)
/*
 * Members per write script call.  Redis serves no other client while a
 * script runs, and a call of 2,048 members took 12 to 60 ms in the
 * topn-redis bench on a busy 2-core machine, so calls stay smaller.
 */
#define WRITE_CHUNK 512
/* 12 buckets, 3 roll-up markers, 3 stage markers, 9 staging keys, the writer's claim key */
#define WRITE_SCRIPT_KEYS "28"
#define WRITE_ARGC (3 + 28 + FS_TOPN_WINDOW_COUNT + 2 + 4 * WRITE_CHUNK)
#define CLAIM_KEY_PREFIX FS_TOPN_KEY_PREFIX "flush:"

/*
 * Adds member increments to the 10 s buckets of one dimension.  The roll-up
 * of a coarser bucket holding now may already have summed those 10 s
 * buckets.  So the script also adds the increments to that bucket when its
 * roll-up is done (its marker exists), or else to the roll-up's staging key
 * when the roll-up has begun (its stage marker exists).
 *   KEYS[4 * m + k]       metric m (0 bytes, 1 packets, 2 flows), level k (1 = 10 s ... 4 = 1 h)
 *   KEYS[11 + k]          the roll-up marker of level k, for k = 2, 3, 4
 *   KEYS[14 + k]          the stage marker of level k
 *   KEYS[17 + 3 * m + k]  the staging key of metric m at level k
 *   KEYS[28]              the writer's claim key, flowsift:top:flush:<writer id>
 *   ARGV[k]               the expiry of level k in seconds, k = 1 .. 4
 *   ARGV[5]               the flush's sequence number
 *   ARGV[6]               the attempt's token, "<sequence number>:<attempt number>"
 *   ARGV[7 ..]            member, bytes, packets, flows, repeated; "0" adds nothing
 * Returns the number of levels written, or 0 when it wrote nothing because
 * another attempt of the same flush, or a later flush, was applied first.
 *
 * The claim key holds the token of the last flush applied.  The first
 * script of an EXEC that finds an older sequence number there stores its
 * own token, and the later scripts of that EXEC find their token.  Every
 * script of another attempt of that flush finds a token of the same or a
 * later sequence number that is not its own, so it writes nothing.  The
 * EXEC runs without other clients in between, so an attempt is applied
 * whole or not at all.  The key expires with the 1 h buckets, so it
 * outlives every bucket that a late attempt could double.
 *
 * Per key it reads the old scores with one ZMSCORE and writes the sums with
 * one ZADD, which needs fewer Lua-to-Redis calls than one ZINCRBY per
 * member.  A new member gets its increment as sent; other sums are doubles,
 * as ZINCRBY's are, and %.17g prints them exactly.  unpack() takes at most
 * 7,999 values in Redis's Lua, which 2 * WRITE_CHUNK stays below.
 */
static const char write_script[] =
	"local claim = redis.call('GET', KEYS[28])\n"
	"if claim ~= ARGV[6] then\n"
	"  local done = claim and tonumber(string.match(claim, '^%d+')) or 0\n"
	"  if done >= tonumber(ARGV[5]) then return 0 end\n"
	"  redis.call('SET', KEYS[28], ARGV[6], 'EX', ARGV[4])\n"
	"end\n"
	"local targets = {{}, {}, {}}\n"
	"local levels = 1\n"
	"for m = 0, 2 do targets[m + 1][1] = {KEYS[4 * m + 1], ARGV[1]} end\n"
	"for k = 2, 4 do\n"
	"  local built = redis.call('EXISTS', KEYS[11 + k]) == 1\n"
	"  if built then redis.call('EXPIRE', KEYS[11 + k], ARGV[k]) end\n"
	"  if built or redis.call('EXISTS', KEYS[14 + k]) == 1 then\n"
	"    levels = levels + 1\n"
	"    for m = 0, 2 do\n"
	"      local key = built and KEYS[4 * m + k] or KEYS[17 + 3 * m + k]\n"
	"      local list = targets[m + 1]\n"
	"      list[#list + 1] = {key, ARGV[k]}\n"
	"    end\n"
	"  end\n"
	"end\n"
	"for m = 0, 2 do\n"
	"  local members, increments = {}, {}\n"
	"  for i = 7, #ARGV, 4 do\n"
	"    local incr = ARGV[i + 1 + m]\n"
	"    if incr ~= '0' then\n"
	"      members[#members + 1] = ARGV[i]\n"
	"      increments[#increments + 1] = incr\n"
	"    end\n"
	"  end\n"
	"  if #members > 0 then\n"
	"    for _, target in ipairs(targets[m + 1]) do\n"
	"      local key = target[1]\n"
	"      local old = redis.call('ZMSCORE', key, unpack(members))\n"
	"      local pairs = {}\n"
	"      for j = 1, #members do\n"
	"        if old[j] then\n"
	"          pairs[2 * j - 1] = string.format('%.17g', tonumber(old[j]) + tonumber(increments[j]))\n"
	"        else\n"
	"          pairs[2 * j - 1] = increments[j]\n"
	"        end\n"
	"        pairs[2 * j] = members[j]\n"
	"      end\n"
	"      redis.call('ZADD', key, unpack(pairs))\n"
	"      redis.call('EXPIRE', key, target[2])\n"
	"    end\n"
	"  end\n"
	"end\n"
	"return levels\n";
_Static_assert(2 * WRITE_CHUNK < 7999, "write_script unpacks 2 * WRITE_CHUNK values");

struct window_info {
	const char *name;
	const char *resolution_name;
	int64_t seconds;
	int64_t resolution;
};

static const struct window_info window_table[FS_TOPN_WINDOW_COUNT] = {
	[FS_TOPN_1M] = { "1m", "10s", 60, 10 },
	[FS_TOPN_5M] = { "5m", "60s", 300, 60 },
	[FS_TOPN_1H] = { "1h", "300s", 3600, 300 },
	[FS_TOPN_24H] = { "24h", "3600s", 86400, 3600 },
};

static const char *const dim_names[FS_TOPN_DIM_COUNT] = {
	[FS_TOPN_SRC_ADDR] = "src_addr",
	[FS_TOPN_DST_ADDR] = "dst_addr",
	[FS_TOPN_DST_PORT] = "dst_port",
	[FS_TOPN_CONVERSATION] = "conversation",
	[FS_TOPN_PROTO] = "proto",
	[FS_TOPN_SRC_AS] = "src_as",
	[FS_TOPN_DST_AS] = "dst_as",
	[FS_TOPN_SRC_COUNTRY] = "src_country",
	[FS_TOPN_DST_COUNTRY] = "dst_country",
	[FS_TOPN_IN_IF] = "in_if",
	[FS_TOPN_OUT_IF] = "out_if",
	[FS_TOPN_EXPORTER] = "exporter",
};

static const char *const metric_names[FS_TOPN_METRIC_COUNT] = {
	"bytes", "packets", "flows",
};

/*
 * The identity of one batch entry, with every unused byte zero so that
 * memcmp and hashing see equal keys as equal.  40 bytes, no padding.
 * addr contains the address of an address dimension, the source of a
 * conversation, the exporter of an interface, or a country code as text.
 * addr2 contains the destination of a conversation.
 */
struct entry_key {
	uint8_t dim;
	uint8_t family;       /* 4 or 6 when addr is an address, else 0 */
	uint8_t family2;      /* 4 or 6 when addr2 is an address, else 0 */
	uint8_t unused;
	uint32_t number;      /* port, protocol, AS number or ifIndex */
	uint8_t addr[16];
	uint8_t addr2[16];
};

/*
 * sums counts every flow added since the batch was last emptied.  written
 * is the part of sums that an earlier flush applied, and sent the part
 * that the pending flush carries (see fs_topn_batch.pending).
 */
struct entry {
	struct entry_key key;
	uint32_t slot;        /* index in fs_topn_batch.slots, for reset */
	uint64_t sums[FS_TOPN_METRIC_COUNT];
	uint64_t written[FS_TOPN_METRIC_COUNT];
	uint64_t sent[FS_TOPN_METRIC_COUNT];
};

/* Arguments of one write script call, reused for every call. */
struct write_buffers {
	const char *argv[WRITE_ARGC];
	char members[WRITE_CHUNK][FS_TOPN_KEY_STRLEN];
	char numbers[WRITE_CHUNK][FS_TOPN_METRIC_COUNT][24];
	struct fs_resp_writer resp; /* formats each call; all zero is its initial state */
};

/*
 * Keys of one flush: the buckets holding now_s per dimension, metric and
 * level, and the roll-up markers, stage markers and staging keys of those
 * buckets at levels 1 to 3, which write_script takes.
 */
struct flush_keys {
	char bucket[FS_TOPN_DIM_COUNT][FS_TOPN_METRIC_COUNT][FS_TOPN_WINDOW_COUNT][KEY_LEN];
	char marker[FS_TOPN_WINDOW_COUNT - 1][KEY_LEN];
	char stage[FS_TOPN_WINDOW_COUNT - 1][KEY_LEN];
	char staging[FS_TOPN_DIM_COUNT][FS_TOPN_METRIC_COUNT][FS_TOPN_WINDOW_COUNT - 1][KEY_LEN];
	char ttl[FS_TOPN_WINDOW_COUNT][24];
};

struct fs_topn_batch {
	size_t capacity;
	size_t count;
	size_t mask;              /* slot count - 1; slot count is a power of two */
	uint32_t *slots;          /* entry index + 1, or 0 for an empty slot */
	struct entry *entries;    /* entries[0..count) in insertion order */
	uint32_t *order;          /* entry indexes grouped by dimension, during a flush */
	uint32_t *script_increments; /* non-zero increments per write script of a flush */
	struct write_buffers *write;
	struct flush_keys *keys;
	char write_sha[41];       /* SHA1 of write_script, "" until loaded */
	/*
	 * Idempotent flushes.  Each flush has a sequence number, and each EXEC
	 * sent for it an attempt number.  When a flush fails, Redis may still
	 * apply it later, so pending is set and the next flush first sends
	 * the same increments (entry.sent) with the same sequence number.
	 */
	char claim_key[64];       /* flowsift:top:flush:<writer id> */
	uint64_t seq;             /* sequence number of the next or pending flush, from 1 */
	uint64_t attempts;        /* EXECs sent, numbering the attempts */
	bool pending;
	char seq_text[24];
	char token[48];
	struct fs_topn_rollup rollup;
	uint64_t seed;            /* per batch, so colliding keys cannot be precomputed */
	struct fs_topn_stats stats;
	struct fs_ratelimit log_limit;
};

/* Write script calls of one flush at most: one partial chunk per dimension plus full ones. */
static size_t
max_scripts(size_t capacity)
{
	return capacity / WRITE_CHUNK + FS_TOPN_DIM_COUNT;
}

const char *
fs_topn_dim_name(enum fs_topn_dim dim)
{
	return (unsigned)dim < FS_TOPN_DIM_COUNT ? dim_names[dim] : "unknown";
}

const char *
fs_topn_metric_name(enum fs_topn_metric metric)
{
	return (unsigned)metric < FS_TOPN_METRIC_COUNT ? metric_names[metric] : "unknown";
}

const char *
fs_topn_window_name(enum fs_topn_window window)
{
	return (unsigned)window < FS_TOPN_WINDOW_COUNT ? window_table[window].name : "unknown";
}

int
fs_topn_dim_parse(const char *name, enum fs_topn_dim *dim)
{
	for (int i = 0; i < FS_TOPN_DIM_COUNT; i++) {
		if (strcmp(name, dim_names[i]) == 0) {
			*dim = (enum fs_topn_dim)i;
			return 0;
		}
	}
	return FS_ERR_INVALID;
}

int
fs_topn_metric_parse(const char *name, enum fs_topn_metric *metric)
{
	for (int i = 0; i < FS_TOPN_METRIC_COUNT; i++) {
		if (strcmp(name, metric_names[i]) == 0) {
			*metric = (enum fs_topn_metric)i;
			return 0;
		}
	}
	return FS_ERR_INVALID;
}

int
fs_topn_window_parse(const char *name, enum fs_topn_window *window)
{
	for (int i = 0; i < FS_TOPN_WINDOW_COUNT; i++) {
		if (strcmp(name, window_table[i].name) == 0) {
			*window = (enum fs_topn_window)i;
			return 0;
		}
	}
	return FS_ERR_INVALID;
}

int64_t
fs_topn_window_seconds(enum fs_topn_window window)
{
	return window_table[window].seconds;
}

int64_t
fs_topn_window_resolution(enum fs_topn_window window)
{
	return window_table[window].resolution;
}

int
fs_topn_window_buckets(enum fs_topn_window window)
{
	return (int)(window_table[window].seconds / window_table[window].resolution);
}

/* Returns the start of the bucket of size resolution that holds t, rounding down for negative t. */
static int64_t
bucket_start(int64_t t, int64_t resolution)
{
	int64_t rem = t % resolution;

	if (rem < 0)
		rem += resolution;
	return t - rem;
}

char *
fs_topn_bucket_key(enum fs_topn_dim dim, enum fs_topn_metric metric,
		   enum fs_topn_window window, int64_t at_s, char *buf, size_t len)
{
	const struct window_info *info = &window_table[window];

	snprintf(buf, len, FS_TOPN_KEY_PREFIX "%s:%s:%s:%" PRId64, dim_names[dim],
		 metric_names[metric], info->resolution_name,
		 bucket_start(at_s, info->resolution));
	return buf;
}

/* ---- batch ---- */

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
hash_key(const struct entry_key *key, uint64_t seed)
{
	uint64_t h = seed;

	_Static_assert(sizeof(struct entry_key) == 40, "entry_key has padding");
	for (size_t off = 0; off < sizeof(*key); off += 8) {
		uint64_t word;

		memcpy(&word, (const uint8_t *)key + off, 8);
		h = mix64(h ^ word);
	}
	return h;
}

struct fs_topn_batch *
fs_topn_batch_new(size_t capacity)
{
	struct fs_topn_batch *batch;
	uint64_t writer;
	size_t slots = 1;

	if (capacity == 0 || capacity > MAX_CAPACITY)
		return NULL;
	/* At least twice as many slots as entries keeps linear probes short. */
	while (slots < capacity * 2)
		slots <<= 1;

	batch = calloc(1, sizeof(*batch));
	if (batch == NULL)
		return NULL;
	batch->capacity = capacity;
	batch->mask = slots - 1;
	batch->slots = calloc(slots, sizeof(*batch->slots));
	batch->entries = calloc(capacity, sizeof(*batch->entries));
	batch->order = calloc(capacity, sizeof(*batch->order));
	batch->script_increments = calloc(max_scripts(capacity), sizeof(*batch->script_increments));
	batch->write = calloc(1, sizeof(*batch->write));
	batch->keys = malloc(sizeof(*batch->keys));
	if (batch->slots == NULL || batch->entries == NULL || batch->order == NULL ||
	    batch->script_increments == NULL || batch->write == NULL || batch->keys == NULL) {
		fs_topn_batch_free(batch);
		return NULL;
	}
	if (getrandom(&batch->seed, sizeof(batch->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(batch->seed))
		batch->seed = mix64((uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)batch);
	if (getrandom(&writer, sizeof(writer), GRND_NONBLOCK) != (ssize_t)sizeof(writer))
		writer = mix64(batch->seed ^ (uint64_t)clock());
	snprintf(batch->claim_key, sizeof(batch->claim_key), CLAIM_KEY_PREFIX "%016" PRIx64, writer);
	batch->seq = 1;
	batch->log_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(10, 5);
	return batch;
}

void
fs_topn_batch_free(struct fs_topn_batch *batch)
{
	if (batch == NULL)
		return;
	free(batch->slots);
	free(batch->entries);
	free(batch->order);
	free(batch->script_increments);
	if (batch->write != NULL)
		fs_resp_writer_free(&batch->write->resp);
	free(batch->write);
	free(batch->keys);
	free(batch);
}

size_t
fs_topn_batch_count(const struct fs_topn_batch *batch)
{
	return batch->count;
}

void
fs_topn_batch_reset(struct fs_topn_batch *batch)
{
	for (size_t i = 0; i < batch->count; i++)
		batch->slots[batch->entries[i].slot] = 0;
	batch->count = 0;
	/* A flush given up on keeps its sequence number, which Redis may still apply. */
	if (batch->pending)
		batch->seq++;
	batch->pending = false;
}

void
fs_topn_batch_stats(const struct fs_topn_batch *batch, struct fs_topn_stats *stats)
{
	*stats = batch->stats;
}

/*
 * Finds key's slot: the one holding it, or the empty slot where it would go.
 * Sets *found accordingly.  The table is never full, so the probe ends.
 */
static size_t
find_slot(const struct fs_topn_batch *batch, const struct entry_key *key,
	  int *found)
{
	size_t i = (size_t)hash_key(key, batch->seed) & batch->mask;

	for (;;) {
		uint32_t index = batch->slots[i];

		if (index == 0) {
			*found = 0;
			return i;
		}
		if (memcmp(&batch->entries[index - 1].key, key, sizeof(*key)) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & batch->mask;
	}
}

static void
add_to_entry(struct fs_topn_batch *batch, const struct entry_key *key,
	     const uint64_t sums[FS_TOPN_METRIC_COUNT])
{
	int found;
	size_t slot = find_slot(batch, key, &found);
	struct entry *e;

	if (found) {
		e = &batch->entries[batch->slots[slot] - 1];
	} else {
		e = &batch->entries[batch->count];
		e->key = *key;
		e->slot = (uint32_t)slot;
		memset(e->sums, 0, sizeof(e->sums));
		memset(e->written, 0, sizeof(e->written));
		memset(e->sent, 0, sizeof(e->sent));
		batch->count++;
		batch->slots[slot] = (uint32_t)batch->count;
	}
	for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++)
		e->sums[m] = fs_count_add(e->sums[m], sums[m]);
}

static bool
is_address(const struct fs_addr *addr)
{
	return addr->family == 4 || addr->family == 6;
}

/* Copies addr (4 or 6) into the key's bytes. */
static void
put_addr(uint8_t *family, uint8_t bytes[16], const struct fs_addr *addr)
{
	*family = addr->family;
	memcpy(bytes, addr->bytes, addr->family == 4 ? 4 : 16);
}

/* Returns the next key of keys[*n], zeroed and set to dim. */
static struct entry_key *
next_key(struct entry_key *keys, int *n, enum fs_topn_dim dim)
{
	struct entry_key *key = &keys[(*n)++];

	key->dim = (uint8_t)dim;
	return key;
}

/* Adds a country key when the flow has the enriched field and it is not empty. */
static void
country_key(const struct fs_flow *flow, enum fs_flow_field field, const char *code,
	    enum fs_topn_dim dim, struct entry_key *keys, int *n)
{
	size_t len = strnlen(code, FS_FLOW_COUNTRY_LEN - 1);

	if (!fs_flow_has(flow, field) || len == 0)
		return;
	memcpy(next_key(keys, n, dim)->addr, code, len);
}

/* Fills keys[] with the flow's dimension keys.  Returns how many. */
static int
flow_keys(const struct fs_flow *flow, struct entry_key keys[FS_TOPN_DIM_COUNT])
{
	bool src = fs_flow_has(flow, FS_F_SRC_ADDR) && is_address(&flow->src_addr);
	bool dst = fs_flow_has(flow, FS_F_DST_ADDR) && is_address(&flow->dst_addr);
	bool exporter = is_address(&flow->exporter_addr);
	struct entry_key *key;
	int n = 0;

	memset(keys, 0, sizeof(struct entry_key) * FS_TOPN_DIM_COUNT);
	if (src) {
		key = next_key(keys, &n, FS_TOPN_SRC_ADDR);
		put_addr(&key->family, key->addr, &flow->src_addr);
	}
	if (dst) {
		key = next_key(keys, &n, FS_TOPN_DST_ADDR);
		put_addr(&key->family, key->addr, &flow->dst_addr);
	}
	if (fs_flow_has(flow, FS_F_DST_PORT))
		next_key(keys, &n, FS_TOPN_DST_PORT)->number = flow->dst_port;
	if (src && dst) {
		key = next_key(keys, &n, FS_TOPN_CONVERSATION);
		put_addr(&key->family, key->addr, &flow->src_addr);
		put_addr(&key->family2, key->addr2, &flow->dst_addr);
	}
	if (fs_flow_has(flow, FS_F_PROTO))
		next_key(keys, &n, FS_TOPN_PROTO)->number = flow->proto;
	if (fs_flow_has(flow, FS_F_SRC_AS))
		next_key(keys, &n, FS_TOPN_SRC_AS)->number = flow->src_as;
	if (fs_flow_has(flow, FS_F_DST_AS))
		next_key(keys, &n, FS_TOPN_DST_AS)->number = flow->dst_as;
	country_key(flow, FS_F_SRC_COUNTRY, flow->src_country, FS_TOPN_SRC_COUNTRY, keys, &n);
	country_key(flow, FS_F_DST_COUNTRY, flow->dst_country, FS_TOPN_DST_COUNTRY, keys, &n);
	if (exporter && fs_flow_has(flow, FS_F_IN_IF)) {
		key = next_key(keys, &n, FS_TOPN_IN_IF);
		put_addr(&key->family, key->addr, &flow->exporter_addr);
		key->number = flow->in_if;
	}
	if (exporter && fs_flow_has(flow, FS_F_OUT_IF)) {
		key = next_key(keys, &n, FS_TOPN_OUT_IF);
		put_addr(&key->family, key->addr, &flow->exporter_addr);
		key->number = flow->out_if;
	}
	if (exporter) {
		key = next_key(keys, &n, FS_TOPN_EXPORTER);
		put_addr(&key->family, key->addr, &flow->exporter_addr);
	}
	return n;
}

int
fs_topn_batch_add(struct fs_topn_batch *batch, const struct fs_flow *flow)
{
	struct entry_key keys[FS_TOPN_DIM_COUNT];
	uint64_t sums[FS_TOPN_METRIC_COUNT];
	size_t missing = 0;
	int nkeys = flow_keys(flow, keys);
	int found;

	/* Check room for every new entry first, so a flow is added whole or not at all. */
	for (int i = 0; i < nkeys; i++) {
		find_slot(batch, &keys[i], &found);
		if (!found)
			missing++;
	}
	if (batch->count + missing > batch->capacity) {
		batch->stats.full++;
		return FS_ERR_FULL;
	}

	sums[FS_TOPN_BYTES] = fs_flow_has(flow, FS_F_BYTES) ? flow->bytes : 0;
	sums[FS_TOPN_PACKETS] = fs_flow_has(flow, FS_F_PACKETS) ? flow->packets : 0;
	sums[FS_TOPN_FLOWS] = 1;
	for (int i = 0; i < nkeys; i++)
		add_to_entry(batch, &keys[i], sums);
	return 0;
}

/* ---- flush ---- */

/* Formats the address held in bytes (family 4 or 6) into buf. */
static char *
key_addr(uint8_t family, const uint8_t bytes[16], char buf[FS_ADDR_STRLEN])
{
	struct fs_addr addr;

	memset(&addr, 0, sizeof(addr));
	addr.family = family;
	memcpy(addr.bytes, bytes, sizeof(addr.bytes));
	return fs_addr_format(&addr, buf);
}

/* Writes the sorted-set member of e; the forms are listed in topn.h. */
static void
entry_member(const struct entry *e, char buf[FS_TOPN_KEY_STRLEN])
{
	const struct entry_key *k = &e->key;
	size_t len;

	switch ((enum fs_topn_dim)k->dim) {
	case FS_TOPN_SRC_ADDR:
	case FS_TOPN_DST_ADDR:
	case FS_TOPN_EXPORTER:
		key_addr(k->family, k->addr, buf);
		return;
	case FS_TOPN_CONVERSATION:
		/* Two addresses of at most FS_ADDR_STRLEN - 1 characters and '>' fit. */
		len = strlen(key_addr(k->family, k->addr, buf));
		buf[len] = '>';
		key_addr(k->family2, k->addr2, buf + len + 1);
		return;
	case FS_TOPN_SRC_COUNTRY:
	case FS_TOPN_DST_COUNTRY:
		snprintf(buf, FS_TOPN_KEY_STRLEN, "%.2s", (const char *)k->addr);
		return;
	case FS_TOPN_IN_IF:
	case FS_TOPN_OUT_IF:
		len = strlen(key_addr(k->family, k->addr, buf));
		buf[len] = '/';
		fs_resp_format_u64(buf + len + 1, k->number);
		return;
	case FS_TOPN_DST_PORT:
	case FS_TOPN_PROTO:
	case FS_TOPN_SRC_AS:
	case FS_TOPN_DST_AS:
	case FS_TOPN_DIM_COUNT:
		break;
	}
	fs_resp_format_u64(buf, k->number);
}

static void
flush_keys_fill(struct flush_keys *keys, int64_t now_s)
{
	for (int d = 0; d < FS_TOPN_DIM_COUNT; d++)
		for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++)
			for (int w = 0; w < FS_TOPN_WINDOW_COUNT; w++)
				fs_topn_bucket_key(d, m, w, now_s, keys->bucket[d][m][w], KEY_LEN);
	for (int w = 1; w < FS_TOPN_WINDOW_COUNT; w++) {
		fs_topn_rollup_key(w, now_s, keys->marker[w - 1], KEY_LEN);
		fs_topn_rollup_stage_key(w, now_s, keys->stage[w - 1], KEY_LEN);
		for (int d = 0; d < FS_TOPN_DIM_COUNT; d++)
			for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++)
				fs_topn_rollup_staging_key(w, now_s, d, m, keys->staging[d][m][w - 1],
							   KEY_LEN);
	}
	for (int w = 0; w < FS_TOPN_WINDOW_COUNT; w++)
		snprintf(keys->ttl[w], sizeof(keys->ttl[w]), "%" PRId64, fs_topn_level_ttl(w));
}

/*
 * Sorts the entry indexes into batch->order by dimension (a counting sort)
 * and stores where each dimension's run starts in first[] (first[d + 1] ends it).
 */
static void
group_by_dim(struct fs_topn_batch *batch, size_t first[FS_TOPN_DIM_COUNT + 1])
{
	size_t fill[FS_TOPN_DIM_COUNT];

	memset(first, 0, sizeof(size_t) * (FS_TOPN_DIM_COUNT + 1));
	for (size_t i = 0; i < batch->count; i++)
		first[batch->entries[i].key.dim + 1]++;
	for (int d = 0; d < FS_TOPN_DIM_COUNT; d++)
		first[d + 1] += first[d];
	memcpy(fill, first, sizeof(fill));
	for (size_t i = 0; i < batch->count; i++)
		batch->order[fill[batch->entries[i].key.dim]++] = (uint32_t)i;
}

static int
append(redisContext *ctx, int argc, const char **argv, uint64_t *ncmd)
{
	if (redisAppendCommandArgv(ctx, argc, argv, NULL) != REDIS_OK)
		return FS_ERR_SYSTEM;
	(*ncmd)++;
	return 0;
}

/*
 * Returns the increment of metric m that a flush sends for e: the pending
 * part (sent) when resending a pending flush, else what no flush applied yet.
 */
static uint64_t
entry_increment(const struct entry *e, int m, bool resend)
{
	return (resend ? e->sent[m] : e->sums[m]) - e->written[m];
}

/*
 * Appends one EVALSHA of write_script for the entries order[from..to) of
 * dimension d, leaving out entries without increments, and stores the
 * number of non-zero increments it carries in
 * batch->script_increments[*nscripts].
 */
static int
append_write(struct fs_topn_batch *batch, redisContext *ctx, const struct flush_keys *keys,
	     int d, size_t from, size_t to, bool resend, int *nscripts, uint64_t *ncmd)
{
	struct write_buffers *wb = batch->write;
	uint32_t increments = 0;
	int argc = 0;

	wb->argv[argc++] = "EVALSHA";
	wb->argv[argc++] = batch->write_sha;
	wb->argv[argc++] = WRITE_SCRIPT_KEYS;
	for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++)
		for (int w = 0; w < FS_TOPN_WINDOW_COUNT; w++)
			wb->argv[argc++] = keys->bucket[d][m][w];
	for (int w = 1; w < FS_TOPN_WINDOW_COUNT; w++)
		wb->argv[argc++] = keys->marker[w - 1];
	for (int w = 1; w < FS_TOPN_WINDOW_COUNT; w++)
		wb->argv[argc++] = keys->stage[w - 1];
	for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++)
		for (int w = 1; w < FS_TOPN_WINDOW_COUNT; w++)
			wb->argv[argc++] = keys->staging[d][m][w - 1];
	wb->argv[argc++] = batch->claim_key;
	for (int w = 0; w < FS_TOPN_WINDOW_COUNT; w++)
		wb->argv[argc++] = keys->ttl[w];
	wb->argv[argc++] = batch->seq_text;
	wb->argv[argc++] = batch->token;
	for (size_t i = from, slot = 0; i < to; i++) {
		const struct entry *e = &batch->entries[batch->order[i]];
		uint64_t amounts[FS_TOPN_METRIC_COUNT];
		int nonzero = 0;

		for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++) {
			amounts[m] = entry_increment(e, m, resend);
			nonzero += amounts[m] != 0;
		}
		if (nonzero == 0)
			continue;
		entry_member(e, wb->members[slot]);
		wb->argv[argc++] = wb->members[slot];
		for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++) {
			fs_resp_format_u64(wb->numbers[slot][m], amounts[m]);
			wb->argv[argc++] = wb->numbers[slot][m];
		}
		increments += (uint32_t)nonzero;
		slot++;
	}
	batch->script_increments[(*nscripts)++] = increments;
	if (fs_resp_writer_append(&wb->resp, ctx, argc, wb->argv, NULL) < 0)
		return FS_ERR_SYSTEM;
	(*ncmd)++;
	return 0;
}

/*
 * Appends MULTI, one EVALSHA per dimension and chunk of members, and EXEC,
 * as a new attempt of flush batch->seq.
 */
static int
append_flush(struct fs_topn_batch *batch, redisContext *ctx, const struct flush_keys *keys,
	     bool resend, int *nscripts, uint64_t *ncmd)
{
	size_t first[FS_TOPN_DIM_COUNT + 1];

	group_by_dim(batch, first);
	*nscripts = 0;
	batch->attempts++;
	snprintf(batch->seq_text, sizeof(batch->seq_text), "%" PRIu64, batch->seq);
	snprintf(batch->token, sizeof(batch->token), "%" PRIu64 ":%" PRIu64, batch->seq,
		 batch->attempts);
	if (append(ctx, 1, (const char *[]){ "MULTI" }, ncmd) < 0)
		return FS_ERR_SYSTEM;
	for (int d = 0; d < FS_TOPN_DIM_COUNT; d++) {
		for (size_t from = first[d]; from < first[d + 1]; from += WRITE_CHUNK) {
			size_t to = from + WRITE_CHUNK < first[d + 1] ? from + WRITE_CHUNK : first[d + 1];

			if (append_write(batch, ctx, keys, d, from, to, resend, nscripts, ncmd) < 0)
				return FS_ERR_SYSTEM;
		}
	}
	return append(ctx, 1, (const char *[]){ "EXEC" }, ncmd);
}

/*
 * Checks the EXEC reply of a flush: each element is the number of levels
 * that its script wrote (the 10 s bucket, plus each coarser bucket or
 * staging key), or 0 when an earlier attempt of the flush was applied.
 * *updates counts the sorted-set increments applied from them, and
 * *skipped the scripts that returned 0.  Returns 0,
 * FS_ERR_NOT_FOUND when every script failed with NOSCRIPT (so nothing was
 * applied), or FS_ERR_INVALID.
 */
static int
check_exec(struct fs_topn_batch *batch, const redisReply *exec, int nscripts, uint64_t *updates,
	   int *skipped)
{
	int noscript = 0;
	int rc = 0;

	if (exec->type != REDIS_REPLY_ARRAY || exec->elements != (size_t)nscripts) {
		fs_log_limited(&batch->log_limit, FS_LOG_ERR, "redis",
			       "top-N flush: EXEC returned reply type %d, expected an array of %d",
			       exec->type, nscripts);
		return FS_ERR_INVALID;
	}
	for (size_t j = 0; j < exec->elements; j++) {
		const redisReply *sub = exec->element[j];

		if (sub->type == REDIS_REPLY_INTEGER) {
			*updates += (uint64_t)batch->script_increments[j] * (uint64_t)sub->integer;
			*skipped += sub->integer == 0;
			continue;
		}
		if (sub->type == REDIS_REPLY_ERROR && strncmp(sub->str, "NOSCRIPT", 8) == 0) {
			noscript++;
			continue;
		}
		if (rc == 0)
			fs_log_limited(&batch->log_limit, FS_LOG_ERR, "redis",
				       "top-N flush: a write script failed inside EXEC: %s",
				       sub->type == REDIS_REPLY_ERROR ? sub->str : "unexpected reply type");
		rc = FS_ERR_INVALID;
	}
	if (rc == 0 && noscript == nscripts)
		return FS_ERR_NOT_FOUND;
	if (rc == 0 && noscript > 0) {
		/* Not expected: the script cache cannot change inside one EXEC. */
		fs_log_limited(&batch->log_limit, FS_LOG_ERR, "redis",
			       "top-N flush: %d of %d write scripts failed with NOSCRIPT", noscript,
			       nscripts);
		rc = FS_ERR_INVALID;
	}
	return rc;
}

/*
 * Reads the ncmd replies of append_flush().  Every reply is read even after
 * an error reply, so the connection stays in step.  Returns like
 * check_exec(), also FS_ERR_NOT_FOUND when a server that checks scripts
 * while queueing rejected an EVALSHA with NOSCRIPT and so aborted the EXEC.
 * NOTE: Redis 7.0 queues EVALSHA without that check, so the tests do not
 * run the queue-time branch.
 */
static int
read_flush_replies(struct fs_topn_batch *batch, redisContext *ctx, uint64_t ncmd, int nscripts,
		   uint64_t *updates, int *skipped)
{
	int queued_noscript = 0;
	int rc = 0;

	for (uint64_t i = 0; i < ncmd; i++) {
		void *raw = NULL;
		redisReply *reply;

		if (redisGetReply(ctx, &raw) != REDIS_OK) {
			char why[160];

			fs_log_limited(&batch->log_limit, FS_LOG_ERR, "redis", "top-N flush failed: %s",
				       fs_redis_error_text(ctx, why, sizeof(why)));
			return FS_ERR_SYSTEM;
		}
		reply = raw;
		if (i + 1 == ncmd) {
			/* After a queued NOSCRIPT the EXEC reply is EXECABORT: nothing ran. */
			if (rc == 0 && !queued_noscript)
				rc = check_exec(batch, reply, nscripts, updates, skipped);
		} else if (reply->type == REDIS_REPLY_ERROR &&
			   strncmp(reply->str, "NOSCRIPT", 8) == 0) {
			queued_noscript = 1;
		} else if (reply->type == REDIS_REPLY_ERROR) {
			if (rc == 0)
				fs_log_limited(&batch->log_limit, FS_LOG_ERR, "redis",
					       "top-N flush rejected: %s", reply->str);
			rc = FS_ERR_INVALID;
		}
		freeReplyObject(reply);
	}
	return queued_noscript && rc == 0 ? FS_ERR_NOT_FOUND : rc;
}

/* Marks ctx failed after a pipeline was cut short, so no caller sends more commands on it. */
static void
fail_context(struct fs_topn_batch *batch, redisContext *ctx)
{
	ctx->err = REDIS_ERR_OOM;
	snprintf(ctx->errstr, sizeof(ctx->errstr), "out of memory");
	fs_log_limited(&batch->log_limit, FS_LOG_ERR, "redis",
		       "top-N flush failed: out of memory while buffering commands");
}

/*
 * Writes the increments of the batch's entries into the 10 s buckets of
 * now_s as flush batch->seq: those of the pending flush when resend is
 * set, else all that no flush applied yet.  Returns 0 or a negative
 * fs_result.
 */
static int
write_entries(struct fs_topn_batch *batch, redisContext *ctx, int64_t now_s, bool resend)
{
	uint64_t updates = 0;
	int skipped = 0;
	int nscripts = 0;
	int rc = FS_ERR_NOT_FOUND;

	flush_keys_fill(batch->keys, now_s);
	if (batch->write_sha[0] == '\0') {
		batch->stats.commands++;
		rc = fs_topn_script_load(ctx, write_script, batch->write_sha);
		if (rc < 0)
			return rc;
	}
	/* A second attempt follows only when every script met NOSCRIPT, which applied nothing. */
	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t ncmd = 0;

		if (attempt == 1) {
			batch->stats.commands++;
			rc = fs_topn_script_load(ctx, write_script, batch->write_sha);
			if (rc < 0)
				return rc;
		}
		rc = append_flush(batch, ctx, batch->keys, resend, &nscripts, &ncmd);
		if (rc < 0) {
			fail_context(batch, ctx);
			return rc;
		}
		batch->stats.commands += ncmd;
		updates = 0;
		skipped = 0;
		rc = read_flush_replies(batch, ctx, ncmd, nscripts, &updates, &skipped);
		if (rc != FS_ERR_NOT_FOUND)
			break;
	}
	if (rc == FS_ERR_NOT_FOUND) {
		fs_log_limited(&batch->log_limit, FS_LOG_ERR, "redis",
			       "top-N flush: the write script is still missing after SCRIPT LOAD");
		rc = FS_ERR_INVALID;
	}
	if (rc == 0)
		batch->stats.updates += updates;
	if (rc == 0 && skipped > 0) {
		/* The claim is decided by the first script, so all of them skipped. */
		batch->stats.skipped++;
		fs_log_limited(&batch->log_limit, FS_LOG_NOTICE, "redis",
			       "top-N flush %" PRIu64 " of writer %s was already applied by an "
			       "earlier attempt; this attempt wrote nothing",
			       batch->seq, batch->claim_key + strlen(CLAIM_KEY_PREFIX));
	}
	return rc;
}

/* Returns true when some entry has increments that no flush applied yet. */
static bool
has_unwritten(const struct fs_topn_batch *batch)
{
	for (size_t i = 0; i < batch->count; i++) {
		const struct entry *e = &batch->entries[i];

		for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++) {
			if (e->sums[m] != e->written[m])
				return true;
		}
	}
	return false;
}

/*
 * Sends the pending flush again, then everything added since, as the
 * next flush.  A failed flush becomes the pending one, with entry.sent
 * recording what it carried.  Returns 0 or a negative fs_result.
 */
static int
write_batch(struct fs_topn_batch *batch, redisContext *ctx, int64_t now_s)
{
	int rc;

	if (batch->pending) {
		rc = write_entries(batch, ctx, now_s, true);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < batch->count; i++)
			memcpy(batch->entries[i].written, batch->entries[i].sent,
			       sizeof(batch->entries[i].written));
		batch->pending = false;
		batch->seq++;
	}
	if (!has_unwritten(batch))
		return 0;
	rc = write_entries(batch, ctx, now_s, false);
	if (rc < 0) {
		for (size_t i = 0; i < batch->count; i++)
			memcpy(batch->entries[i].sent, batch->entries[i].sums,
			       sizeof(batch->entries[i].sent));
		batch->pending = true;
		return rc;
	}
	batch->seq++;
	return 0;
}

int
fs_topn_flush(struct fs_topn_batch *batch, redisContext *ctx, int64_t now_s)
{
	char errtext[160];
	int rc;

	if (ctx->err != 0) {
		if (batch->count == 0)
			return 0;
		fs_log_limited(&batch->log_limit, FS_LOG_ERR, "redis",
			       "top-N flush skipped: connection unusable: %s",
			       fs_redis_error_text(ctx, errtext, sizeof(errtext)));
		batch->stats.errors++;
		return FS_ERR_SYSTEM;
	}
	if (batch->count > 0) {
		rc = write_batch(batch, ctx, now_s);
		if (rc < 0) {
			batch->stats.errors++;
			return rc;
		}
		batch->stats.flushes++;
		fs_topn_batch_reset(batch);
	}

	/*
	 * The entries are written; a failed roll-up is only counted, because
	 * the next flush retries it from the same bucket and it double-counts
	 * nothing (topn_rollup.h).
	 */
	rc = fs_topn_rollup_run(&batch->rollup, ctx, now_s, &batch->stats.commands,
				&batch->stats.rollups, &batch->log_limit);
	if (rc < 0)
		batch->stats.rollup_errors++;
	return 0;
}

/* ---- query ---- */

/*
 * Appends one command of a query pipeline.  On failure (out of memory) marks
 * ctx failed, because the replies would no longer match the commands.
 */
static int
query_append(redisContext *ctx, int argc, const char **argv)
{
	if (redisAppendCommandArgv(ctx, argc, argv, NULL) == REDIS_OK)
		return 0;
	ctx->err = REDIS_ERR_OOM;
	snprintf(ctx->errstr, sizeof(ctx->errstr), "out of memory");
	fs_log(FS_LOG_ERR, "redis", "top-N query failed: out of memory while buffering commands");
	return FS_ERR_SYSTEM;
}

/*
 * Reads count replies into replies[].  Returns FS_ERR_SYSTEM when the
 * connection failed (replies then holds NULLs past the failure),
 * FS_ERR_INVALID when any reply is an error, else 0.  The caller frees
 * every non-NULL reply.
 */
static int
read_replies(redisContext *ctx, redisReply **replies, int count)
{
	int rc = 0;

	memset(replies, 0, sizeof(*replies) * (size_t)count);
	for (int i = 0; i < count; i++) {
		void *raw = NULL;

		if (redisGetReply(ctx, &raw) != REDIS_OK) {
			char why[160];

			fs_log(FS_LOG_ERR, "redis", "top-N query failed: %s",
			       fs_redis_error_text(ctx, why, sizeof(why)));
			return FS_ERR_SYSTEM;
		}
		replies[i] = raw;
		if (replies[i]->type == REDIS_REPLY_ERROR && rc == 0) {
			fs_log(FS_LOG_ERR, "redis", "top-N query rejected: %s", replies[i]->str);
			rc = FS_ERR_INVALID;
		}
	}
	return rc;
}

static void
free_replies(redisReply **replies, int count)
{
	for (int i = 0; i < count; i++) {
		if (replies[i] != NULL)
			freeReplyObject(replies[i]);
	}
}

static uint64_t *
row_metric(struct fs_topn_row *row, enum fs_topn_metric metric)
{
	switch (metric) {
	case FS_TOPN_BYTES: return &row->bytes;
	case FS_TOPN_PACKETS: return &row->packets;
	case FS_TOPN_FLOWS: break;
	case FS_TOPN_METRIC_COUNT: break;
	}
	return &row->flows;
}

/*
 * Appends the members and scores of a WITHSCORES reply (or the members of a
 * plain one) to rows[*count..max).  Returns 0 or FS_ERR_INVALID.
 */
static int
take_members(const redisReply *reply, int with_scores, enum fs_topn_metric metric,
	     struct fs_topn_row *rows, int *count, int max, uint64_t score)
{
	size_t step = with_scores ? 2 : 1;

	if (reply->type != REDIS_REPLY_ARRAY || reply->elements % step != 0)
		return FS_ERR_INVALID;
	for (size_t i = 0; i < reply->elements && *count < max; i += step) {
		const redisReply *member = reply->element[i];
		struct fs_topn_row *row = &rows[*count];

		if (member->type != REDIS_REPLY_STRING || member->len >= sizeof(row->key))
			return FS_ERR_INVALID;
		memset(row, 0, sizeof(*row));
		memcpy(row->key, member->str, member->len);
		if (with_scores && fs_redis_parse_score(reply->element[i + 1], &score) < 0)
			return FS_ERR_INVALID;
		*row_metric(row, metric) = score;
		(*count)++;
	}
	return 0;
}

/* qsort_r comparator: larger *(enum fs_topn_metric *)metric first, then key text. */
static int
compare_rows(const void *pa, const void *pb, void *metric)
{
	/* row_metric() takes a mutable row but only reads through it here. */
	struct fs_topn_row *a = (struct fs_topn_row *)pa;
	struct fs_topn_row *b = (struct fs_topn_row *)pb;
	enum fs_topn_metric m = *(enum fs_topn_metric *)metric;
	uint64_t va = *row_metric(a, m);
	uint64_t vb = *row_metric(b, m);

	if (va != vb)
		return va > vb ? -1 : 1;
	return strcmp(a->key, b->key);
}

/*
 * Step 1: sums the buckets keys[0..nbuckets) of `metric` into tmp_key and
 * reads the top n.  Members tied with the n-th are then read in ascending key order,
 * because ZREVRANGE orders ties by descending key.
 */
static int
query_top(redisContext *ctx, char keys[][KEY_LEN], int nbuckets,
	  const char *tmp_key, enum fs_topn_metric metric, int n,
	  struct fs_topn_row *rows, int *nrows)
{
	const char *argv[3 + FS_TOPN_MAX_SOURCES];
	redisReply *replies[3];
	char n_text[16], ttl_text[16];
	const char *last_score = NULL;
	uint64_t boundary = 0;
	int above = 0;
	int rc;

	argv[0] = "ZUNIONSTORE";
	argv[1] = tmp_key;
	argv[2] = n_text;
	snprintf(n_text, sizeof(n_text), "%d", nbuckets);
	for (int i = 0; i < nbuckets; i++)
		argv[3 + i] = keys[i];
	snprintf(ttl_text, sizeof(ttl_text), "%d", FS_TOPN_TMP_TTL_S);
	if (query_append(ctx, 3 + nbuckets, argv) < 0 ||
	    query_append(ctx, 3, (const char *[]){ "EXPIRE", tmp_key, ttl_text }) < 0)
		return FS_ERR_SYSTEM;
	snprintf(n_text, sizeof(n_text), "%d", n - 1);
	if (query_append(ctx, 6, (const char *[]){ "ZRANGE", tmp_key, "0", n_text,
						   "REV", "WITHSCORES" }) < 0)
		return FS_ERR_SYSTEM;
	rc = read_replies(ctx, replies, 3);
	if (rc == 0)
		rc = take_members(replies[2], 1, metric, rows, nrows, n, 0);
	if (rc < 0 || *nrows < n)
		goto out;

	/* The list is full: refetch the members tied with the last one in key order. */
	last_score = replies[2]->element[2 * (size_t)n - 1]->str;
	boundary = *row_metric(&rows[n - 1], metric);
	while (above < n && *row_metric(&rows[above], metric) > boundary)
		above++;
	if (above < n) {
		redisReply *tied = NULL;

		snprintf(n_text, sizeof(n_text), "%d", n - above);
		tied = redisCommandArgv(ctx, 8, (const char *[]){ "ZRANGE", tmp_key,
				last_score, last_score, "BYSCORE", "LIMIT", "0", n_text }, NULL);
		if (tied == NULL) {
			char why[160];

			fs_log(FS_LOG_ERR, "redis", "top-N query failed: %s",
			       fs_redis_error_text(ctx, why, sizeof(why)));
			rc = FS_ERR_SYSTEM;
			goto out;
		}
		*nrows = above;
		rc = take_members(tied, 0, metric, rows, nrows, n, boundary);
		freeReplyObject(tied);
	}

out:
	free_replies(replies, 3);
	if (rc == FS_ERR_INVALID)
		fs_log(FS_LOG_ERR, "redis", "top-N query: unexpected reply for %s", tmp_key);
	return rc;
}

/*
 * Step 2: sums the other two metrics of rows[0..nrows) with ZMSCORE on each
 * bucket of sources.
 */
static int
query_other_metrics(redisContext *ctx, enum fs_topn_dim dim, const struct fs_topn_sources *sources,
		    enum fs_topn_metric metric, const char *tmp_key,
		    struct fs_topn_row *rows, int nrows)
{
	int nsources = sources->count;
	int max_replies = 2 * nsources + 1;
	redisReply **replies = calloc((size_t)max_replies, sizeof(*replies));
	int nreplies = 0;
	char key[KEY_LEN];
	const char **argv;
	int rc = 0;

	argv = malloc(sizeof(*argv) * ((size_t)nrows + 2));
	if (argv == NULL || replies == NULL) {
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	argv[0] = "ZMSCORE";
	argv[1] = key;
	for (int i = 0; i < nrows; i++)
		argv[2 + i] = rows[i].key;

	for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++) {
		if (m == (int)metric)
			continue;
		for (int b = 0; b < nsources; b++) {
			fs_topn_span_key(&sources->spans[b], dim, m, key, sizeof(key));
			rc = query_append(ctx, nrows + 2, argv);
			if (rc < 0)
				goto out;
			nreplies++;
		}
	}
	rc = query_append(ctx, 2, (const char *[]){ "DEL", tmp_key });
	if (rc < 0)
		goto out;
	nreplies++;
	rc = read_replies(ctx, replies, nreplies);
	if (rc < 0)
		goto out;

	nreplies = 0;
	for (int m = 0; m < FS_TOPN_METRIC_COUNT && rc == 0; m++) {
		if (m == (int)metric)
			continue;
		for (int b = 0; b < nsources && rc == 0; b++) {
			const redisReply *r = replies[nreplies++];

			if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t)nrows) {
				rc = FS_ERR_INVALID;
				break;
			}
			for (int i = 0; i < nrows; i++) {
				uint64_t v;

				if (fs_redis_parse_score(r->element[i], &v) < 0) {
					rc = FS_ERR_INVALID;
					break;
				}
				*row_metric(&rows[i], (enum fs_topn_metric)m) =
					fs_count_add(*row_metric(&rows[i], (enum fs_topn_metric)m), v);
			}
		}
	}
	if (rc < 0)
		fs_log(FS_LOG_ERR, "redis", "top-N query: unexpected ZMSCORE reply");

out:
	if (replies != NULL)
		free_replies(replies, max_replies);
	free(replies);
	free(argv);
	return rc;
}

int
fs_topn_query(redisContext *ctx, enum fs_topn_dim dim, enum fs_topn_metric metric,
	      enum fs_topn_window window, int n, int64_t now_s,
	      struct fs_topn_row *rows, int *nrows)
{
	char errtext[160];
	int64_t starts[MAX_BUCKETS];
	struct fs_topn_sources *sources = NULL;
	char (*keys)[KEY_LEN] = NULL;
	char tmp_key[64];
	uint64_t nonce;
	int64_t resolution;
	int nbuckets;
	int rc;

	*nrows = 0;
	if ((unsigned)dim >= FS_TOPN_DIM_COUNT || (unsigned)metric >= FS_TOPN_METRIC_COUNT ||
	    (unsigned)window >= FS_TOPN_WINDOW_COUNT || n < 1 || n > FS_TOPN_MAX_N)
		return FS_ERR_INVALID;
	if (ctx->err != 0) {
		fs_log(FS_LOG_ERR, "redis", "top-N query skipped: connection unusable: %s",
		       fs_redis_error_text(ctx, errtext, sizeof(errtext)));
		return FS_ERR_SYSTEM;
	}

	/* The window's buckets, each replaced by its children until rolled up. */
	resolution = window_table[window].resolution;
	nbuckets = fs_topn_window_buckets(window);
	for (int b = 0; b < nbuckets; b++)
		starts[b] = bucket_start(now_s - b * resolution, resolution);
	sources = malloc(sizeof(*sources));
	keys = malloc(sizeof(*keys) * FS_TOPN_MAX_SOURCES);
	if (sources == NULL || keys == NULL) {
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	rc = fs_topn_sources_resolve(ctx, (int)window, starts, nbuckets, now_s, sources);
	if (rc < 0)
		goto out;
	for (int b = 0; b < sources->count; b++)
		fs_topn_span_key(&sources->spans[b], dim, metric, keys[b], KEY_LEN);

	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != (ssize_t)sizeof(nonce))
		nonce = mix64((uint64_t)time(NULL) ^ (uint64_t)clock());
	snprintf(tmp_key, sizeof(tmp_key), FS_TOPN_KEY_PREFIX "tmp:%016" PRIx64, nonce);

	rc = query_top(ctx, keys, sources->count, tmp_key, metric, n, rows, nrows);
	if (rc < 0)
		goto out;
	if (*nrows == 0) {
		redisReply *reply = redisCommandArgv(ctx, 2, (const char *[]){ "DEL", tmp_key }, NULL);

		if (reply == NULL)
			rc = FS_ERR_SYSTEM;
		else
			freeReplyObject(reply);
		goto out;
	}
	rc = query_other_metrics(ctx, dim, sources, metric, tmp_key, rows, *nrows);
	if (rc < 0) {
		*nrows = 0;
		goto out;
	}
	qsort_r(rows, (size_t)*nrows, sizeof(*rows), compare_rows, &metric);

out:
	free(sources);
	free(keys);
	return rc;
}
