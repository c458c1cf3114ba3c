/* exporter_loss.c - copies of per-exporter counters and the loss lines of the ingest log. */
#include "exporter_loss.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

size_t
exporter_counts_copy(const struct fs_exporter_stats *stats, struct exporter_counts *out,
		     size_t capacity)
{
	uint32_t count = fs_exporter_stats_count(stats);
	size_t n = 0;

	for (uint32_t i = 0; i < count && n < capacity; i++) {
		const struct fs_exporter_entry *e = fs_exporter_stats_at(stats, i);

		out[n++] = (struct exporter_counts){
			.exporter = e->exporter,
			.port = e->exporter_port,
			.flow_type = e->flow_type,
			.domain = e->domain,
			.packets = e->packets,
			.records = e->records,
			.sequence_gaps = e->sequence_gaps,
			.sequence_lost = e->sequence_lost,
			.flow_sample_gaps = e->flow_sample_gaps,
			.flow_samples_lost = e->flow_samples_lost,
			.counter_sample_gaps = e->counter_sample_gaps,
			.counter_samples_lost = e->counter_samples_lost,
		};
	}
	return n;
}

int
exporter_counts_compare(const void *a, const void *b)
{
	const struct exporter_counts *x = a, *y = b;
	int c;

	if (x->exporter.family != y->exporter.family)
		return x->exporter.family < y->exporter.family ? -1 : 1;
	c = memcmp(x->exporter.bytes, y->exporter.bytes, x->exporter.family == 4 ? 4 : 16);
	if (c != 0)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->flow_type != y->flow_type)
		return x->flow_type < y->flow_type ? -1 : 1;
	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	return 0;
}

static void
add_counts(struct exporter_counts *to, const struct exporter_counts *from)
{
	to->packets += from->packets;
	to->records += from->records;
	to->sequence_gaps += from->sequence_gaps;
	to->sequence_lost += from->sequence_lost;
	to->flow_sample_gaps += from->flow_sample_gaps;
	to->flow_samples_lost += from->flow_samples_lost;
	to->counter_sample_gaps += from->counter_sample_gaps;
	to->counter_samples_lost += from->counter_samples_lost;
}

size_t
exporter_counts_merge(struct exporter_counts *rows, size_t count)
{
	size_t last = 0;

	if (count == 0)
		return 0;
	qsort(rows, count, sizeof(*rows), exporter_counts_compare);
	for (size_t i = 1; i < count; i++) {
		if (exporter_counts_compare(&rows[last], &rows[i]) == 0)
			add_counts(&rows[last], &rows[i]);
		else
			rows[++last] = rows[i];
	}
	return last + 1;
}

/* The growth of one row's loss counters since the previous call. */
struct loss_change {
	const struct exporter_counts *row;
	uint64_t gaps;
	uint64_t lost;
	uint64_t flow_sample_gaps;
	uint64_t flow_samples_lost;
	uint64_t counter_sample_gaps;
	uint64_t counter_samples_lost;
};

struct exporter_loss {
	size_t capacity;
	uint32_t max_lines;
	struct exporter_counts *previous; /* sorted by key, totals at the previous call */
	size_t previous_count;
	struct loss_change *changes;
};

struct exporter_loss *
exporter_loss_new(size_t capacity, uint32_t max_lines)
{
	struct exporter_loss *loss = calloc(1, sizeof(*loss));

	if (!loss)
		return NULL;
	loss->capacity = capacity;
	loss->max_lines = max_lines;
	loss->previous = calloc(capacity ? capacity : 1, sizeof(*loss->previous));
	loss->changes = calloc(capacity ? capacity : 1, sizeof(*loss->changes));
	if (!loss->previous || !loss->changes) {
		exporter_loss_free(loss);
		return NULL;
	}
	return loss;
}

void
exporter_loss_free(struct exporter_loss *loss)
{
	if (!loss)
		return;
	free(loss->previous);
	free(loss->changes);
	free(loss);
}

/* Returns now - before, or now when the counter went down, so that an unexpected drop gives no huge delta. */
static uint64_t
growth(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;
}

/*
 * Fills change with the growth of row since before (NULL: a new row) and
 * returns whether any gap counter grew.
 */
static int
compute_change(struct loss_change *change, const struct exporter_counts *row,
	       const struct exporter_counts *before)
{
	static const struct exporter_counts zero;

	if (!before)
		before = &zero;
	*change = (struct loss_change){
		.row = row,
		.gaps = growth(row->sequence_gaps, before->sequence_gaps),
		.lost = growth(row->sequence_lost, before->sequence_lost),
		.flow_sample_gaps = growth(row->flow_sample_gaps, before->flow_sample_gaps),
		.flow_samples_lost = growth(row->flow_samples_lost, before->flow_samples_lost),
		.counter_sample_gaps = growth(row->counter_sample_gaps, before->counter_sample_gaps),
		.counter_samples_lost = growth(row->counter_samples_lost, before->counter_samples_lost),
	};
	return change->gaps || change->flow_sample_gaps || change->counter_sample_gaps;
}

/*
 * Orders changes by new units lost, then by new gaps, largest first.  The
 * units differ between protocols (and sFlow adds samples to datagrams), so
 * the order ranks by count, not by traffic lost.
 */
static int
compare_changes(const void *a, const void *b)
{
	const struct loss_change *x = a, *y = b;
	uint64_t lost_x = x->lost + x->flow_samples_lost + x->counter_samples_lost;
	uint64_t lost_y = y->lost + y->flow_samples_lost + y->counter_samples_lost;
	uint64_t gaps_x = x->gaps + x->flow_sample_gaps + x->counter_sample_gaps;
	uint64_t gaps_y = y->gaps + y->flow_sample_gaps + y->counter_sample_gaps;

	if (lost_x != lost_y)
		return lost_x > lost_y ? -1 : 1;
	if (gaps_x != gaps_y)
		return gaps_x > gaps_y ? -1 : 1;
	return exporter_counts_compare(x->row, y->row);
}

static void
log_change(const struct loss_change *c)
{
	const struct exporter_counts *r = c->row;
	char addr[FS_ADDR_STRLEN];
	char samples[320] = "";

	if (r->flow_type == FS_FLOW_SFLOW_V5)
		snprintf(samples, sizeof(samples),
			 " new_flow_sample_gaps=%llu new_flow_samples_lost=%llu"
			 " new_counter_sample_gaps=%llu new_counter_samples_lost=%llu"
			 " flow_sample_gaps=%llu flow_samples_lost=%llu"
			 " counter_sample_gaps=%llu counter_samples_lost=%llu",
			 (unsigned long long)c->flow_sample_gaps,
			 (unsigned long long)c->flow_samples_lost,
			 (unsigned long long)c->counter_sample_gaps,
			 (unsigned long long)c->counter_samples_lost,
			 (unsigned long long)r->flow_sample_gaps,
			 (unsigned long long)r->flow_samples_lost,
			 (unsigned long long)r->counter_sample_gaps,
			 (unsigned long long)r->counter_samples_lost);
	fs_addr_format(&r->exporter, addr);
	fs_log(FS_LOG_WARNING, "stats",
	       "sequence loss: exporter=%s port=%u domain=%lu protocol=%s new_gaps=%llu "
	       "new_lost=%llu unit=%s gaps=%llu lost=%llu%s",
	       addr[0] ? addr : "-", r->port, (unsigned long)r->domain,
	       fs_flow_type_name((enum fs_flow_type)r->flow_type),
	       (unsigned long long)c->gaps, (unsigned long long)c->lost,
	       fs_exporter_sequence_unit(r->flow_type),
	       (unsigned long long)r->sequence_gaps, (unsigned long long)r->sequence_lost, samples);
}

void
exporter_loss_log(struct exporter_loss *loss, struct exporter_counts *rows, size_t count)
{
	size_t changed = 0, j = 0;

	if (count > loss->capacity)
		count = loss->capacity;
	count = exporter_counts_merge(rows, count);

	/* Both arrays are sorted by key, so one pass pairs each row with its previous totals. */
	for (size_t i = 0; i < count; i++) {
		const struct exporter_counts *before = NULL;

		while (j < loss->previous_count &&
		       exporter_counts_compare(&loss->previous[j], &rows[i]) < 0)
			j++;
		if (j < loss->previous_count && exporter_counts_compare(&loss->previous[j], &rows[i]) == 0)
			before = &loss->previous[j];
		if (compute_change(&loss->changes[changed], &rows[i], before))
			changed++;
	}
	qsort(loss->changes, changed, sizeof(*loss->changes), compare_changes);
	for (size_t i = 0; i < changed && i < loss->max_lines; i++)
		log_change(&loss->changes[i]);
	if (changed > loss->max_lines)
		fs_log(FS_LOG_WARNING, "stats",
		       "sequence loss: exporters_not_listed=%zu (ingest.stats.exporters.max = %lu)",
		       changed - loss->max_lines, (unsigned long)loss->max_lines);

	if (count > 0)
		memcpy(loss->previous, rows, count * sizeof(*rows));
	loss->previous_count = count;
}
