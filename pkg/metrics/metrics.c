/*
 * metrics.c - the metric registry and the Prometheus text exposition.
 *
 * Format reference: Prometheus "Exposition formats", text format 0.0.4.
 * Families keep registration order, and so do the series of a family.
 */
#include "metrics/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/result.h"

enum metric_type { TYPE_COUNTER, TYPE_GAUGE, TYPE_HISTOGRAM };

struct fs_counter {
	_Atomic uint64_t value;
};

struct fs_gauge {
	_Atomic int64_t value;
};

struct fs_histogram {
	const double *bounds; /* the family's */
	size_t bound_count;
	_Atomic uint64_t buckets[FS_METRICS_MAX_BUCKETS + 1]; /* not cumulative; last is +Inf */
	_Atomic uint64_t sum_bits; /* a double, updated by compare-and-swap */
};

struct series {
	struct series *next;
	char *labels; /* rendered pairs without braces: a="x",b="y"; "" for none */
	union {
		struct fs_counter counter;
		struct fs_gauge gauge;
		struct fs_histogram histogram;
	} u;
};

struct family {
	struct family *next;
	char *name;
	char *help;
	enum metric_type type;
	double bounds[FS_METRICS_MAX_BUCKETS];
	size_t bound_count;
	struct series *series;
	struct series **series_tail;
};

struct fs_metrics {
	pthread_mutex_t lock;
	struct family *families;
	struct family **families_tail;
};

static const char *
type_name(enum metric_type type)
{
	switch (type) {
	case TYPE_COUNTER: return "counter";
	case TYPE_GAUGE: return "gauge";
	case TYPE_HISTOGRAM: return "histogram";
	}
	return "untyped";
}

struct fs_metrics *
fs_metrics_new(void)
{
	struct fs_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->families_tail = &m->families;
	return m;
}

void
fs_metrics_free(struct fs_metrics *m)
{
	struct family *f, *next_family;
	struct series *s, *next_series;

	if (!m)
		return;
	for (f = m->families; f; f = next_family) {
		next_family = f->next;
		for (s = f->series; s; s = next_series) {
			next_series = s->next;
			free(s->labels);
			free(s);
		}
		free(f->name);
		free(f->help);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static int
valid_name(const char *name, int allow_colon)
{
	if (!name || !*name)
		return 0;
	for (const char *p = name; *p; p++) {
		int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
			    (allow_colon && *p == ':');

		if (!alpha && !(p > name && *p >= '0' && *p <= '9'))
			return 0;
	}
	return 1;
}

/* Appends src to the growing string at *buf (length *len), escaping values when escape is set. */
static int
append(char **buf, size_t *len, size_t *cap, const char *src, size_t n, int escape)
{
	for (size_t i = 0; i < n; i++) {
		const char *piece = NULL;
		char c = src[i];

		if (escape && c == '\\')
			piece = "\\\\";
		else if (escape && c == '"')
			piece = "\\\"";
		else if (escape && c == '\n')
			piece = "\\n";
		if (*len + 3 > *cap) {
			size_t grown = *cap < 32 ? 64 : *cap * 2;
			char *p = realloc(*buf, grown);

			if (!p)
				return FS_ERR_SYSTEM;
			*buf = p;
			*cap = grown;
		}
		if (piece) {
			memcpy(*buf + *len, piece, 2);
			*len += 2;
		} else {
			(*buf)[(*len)++] = c;
		}
		(*buf)[*len] = '\0';
	}
	return 0;
}

/*
 * Turns "a=x,b=y" into a="x",b="y" in a new string stored in *out.  Returns 0,
 * FS_ERR_INVALID for a malformed set (reason in why) or FS_ERR_SYSTEM.
 */
static int
format_labels(const char *labels, int histogram, char **out, const char **why)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	const char *p = labels ? labels : "";
	int rc = 0;

	*out = NULL;
	buf = calloc(1, 1);
	if (!buf)
		return FS_ERR_SYSTEM;
	cap = 1;
	while (*p) {
		const char *end = p + strcspn(p, ",");
		const char *eq = memchr(p, '=', (size_t)(end - p));
		char label[128];
		size_t name_len;

		if (!eq || (size_t)(eq - p) >= sizeof(label) || memchr(eq + 1, '=', (size_t)(end - eq - 1))) {
			*why = "expected name=value pairs separated by ','";
			rc = FS_ERR_INVALID;
			goto out;
		}
		name_len = (size_t)(eq - p);
		memcpy(label, p, name_len);
		label[name_len] = '\0';
		if (!valid_name(label, 0) || strncmp(label, "__", 2) == 0 ||
		    (histogram && strcmp(label, "le") == 0)) {
			*why = "invalid or reserved label name";
			rc = FS_ERR_INVALID;
			goto out;
		}
		if ((len && append(&buf, &len, &cap, ",", 1, 0) < 0) ||
		    append(&buf, &len, &cap, label, name_len, 0) < 0 ||
		    append(&buf, &len, &cap, "=\"", 2, 0) < 0 ||
		    append(&buf, &len, &cap, eq + 1, (size_t)(end - eq - 1), 1) < 0 ||
		    append(&buf, &len, &cap, "\"", 1, 0) < 0) {
			rc = FS_ERR_SYSTEM;
			goto out;
		}
		p = *end ? end + 1 : end;
	}
out:
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	return 0;
}

static struct family *
find_family(struct fs_metrics *m, const char *name)
{
	for (struct family *f = m->families; f; f = f->next) {
		if (strcmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

static struct family *
add_family(struct fs_metrics *m, const char *name, const char *help,
	   enum metric_type type, const double *bounds, size_t count)
{
	struct family *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	if (!f->name || !f->help) {
		free(f->name);
		free(f->help);
		free(f);
		return NULL;
	}
	f->type = type;
	if (count)
		memcpy(f->bounds, bounds, count * sizeof(*bounds));
	f->bound_count = count;
	f->series_tail = &f->series;
	*m->families_tail = f;
	m->families_tail = &f->next;
	return f;
}

static int
same_bounds(const struct family *f, const double *bounds, size_t count)
{
	return f->bound_count == count &&
	       (count == 0 || memcmp(f->bounds, bounds, count * sizeof(*bounds)) == 0);
}

/* Finds or creates the series; called with the lock held. */
static struct series *
register_locked(struct fs_metrics *m, const char *name, const char *help,
		const char *labels, enum metric_type type, const double *bounds,
		size_t count)
{
	struct family *f;
	struct series *s;
	char *formatted = NULL;
	const char *why = "out of memory";

	if (!valid_name(name, 1)) {
		why = "invalid metric name";
		goto fail;
	}
	if (format_labels(labels, type == TYPE_HISTOGRAM, &formatted, &why) < 0)
		goto fail;
	f = find_family(m, name);
	if (f && (f->type != type || strcmp(f->help, help ? help : "") != 0 ||
		  !same_bounds(f, bounds, count))) {
		why = "already registered with another type, help text or buckets";
		goto fail;
	}
	if (f) {
		for (s = f->series; s; s = s->next) {
			if (strcmp(s->labels, formatted) == 0) {
				free(formatted);
				return s;
			}
		}
	} else {
		f = add_family(m, name, help, type, bounds, count);
		if (!f)
			goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto fail;
	s->labels = formatted;
	if (type == TYPE_HISTOGRAM) {
		s->u.histogram.bounds = f->bounds;
		s->u.histogram.bound_count = f->bound_count;
	}
	*f->series_tail = s;
	f->series_tail = &s->next;
	return s;
fail:
	free(formatted);
	fs_log(FS_LOG_ERR, "metrics", "cannot register metric '%s' {%s}: %s",
	       name ? name : "(null)", labels ? labels : "", why);
	return NULL;
}

static struct series *
register_series(struct fs_metrics *m, const char *name, const char *help,
		const char *labels, enum metric_type type, const double *bounds,
		size_t count)
{
	struct series *s;

	pthread_mutex_lock(&m->lock);
	s = register_locked(m, name, help, labels, type, bounds, count);
	pthread_mutex_unlock(&m->lock);
	return s;
}

struct fs_counter *
fs_metrics_counter(struct fs_metrics *m, const char *name, const char *help,
		   const char *labels)
{
	struct series *s = register_series(m, name, help, labels, TYPE_COUNTER, NULL, 0);

	return s ? &s->u.counter : NULL;
}

struct fs_gauge *
fs_metrics_gauge(struct fs_metrics *m, const char *name, const char *help,
		 const char *labels)
{
	struct series *s = register_series(m, name, help, labels, TYPE_GAUGE, NULL, 0);

	return s ? &s->u.gauge : NULL;
}

struct fs_histogram *
fs_metrics_histogram(struct fs_metrics *m, const char *name, const char *help,
		     const char *labels, const double *bounds, size_t count)
{
	struct series *s;

	if (count == 0 || count > FS_METRICS_MAX_BUCKETS) {
		fs_log(FS_LOG_ERR, "metrics",
		       "cannot register histogram '%s': %zu buckets, expected 1..%d",
		       name, count, FS_METRICS_MAX_BUCKETS);
		return NULL;
	}
	for (size_t i = 1; i < count; i++) {
		if (!(bounds[i] > bounds[i - 1])) {
			fs_log(FS_LOG_ERR, "metrics",
			       "cannot register histogram '%s': bucket bounds must increase",
			       name);
			return NULL;
		}
	}
	s = register_series(m, name, help, labels, TYPE_HISTOGRAM, bounds, count);
	return s ? &s->u.histogram : NULL;
}

void
fs_counter_add(struct fs_counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

void
fs_counter_set(struct fs_counter *c, uint64_t value)
{
	atomic_store_explicit(&c->value, value, memory_order_relaxed);
}

uint64_t
fs_counter_value(const struct fs_counter *c)
{
	return atomic_load_explicit(&c->value, memory_order_relaxed);
}

void
fs_gauge_set(struct fs_gauge *g, int64_t value)
{
	atomic_store_explicit(&g->value, value, memory_order_relaxed);
}

void
fs_gauge_add(struct fs_gauge *g, int64_t delta)
{
	atomic_fetch_add_explicit(&g->value, delta, memory_order_relaxed);
}

int64_t
fs_gauge_value(const struct fs_gauge *g)
{
	return atomic_load_explicit(&g->value, memory_order_relaxed);
}

static double
bits_to_double(uint64_t bits)
{
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

static uint64_t
double_to_bits(double d)
{
	uint64_t bits;

	memcpy(&bits, &d, sizeof(bits));
	return bits;
}

void
fs_histogram_observe(struct fs_histogram *h, double value)
{
	size_t i = 0;
	uint64_t old;

	while (i < h->bound_count && value > h->bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	old = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(
		&h->sum_bits, &old, double_to_bits(bits_to_double(old) + value),
		memory_order_relaxed, memory_order_relaxed))
		;
}

/* Writes a sample line: name suffix{labels[,extra]} value. */
static void
write_sample(FILE *out, const char *name, const char *suffix, const char *labels,
	     const char *extra, const char *value)
{
	int has_labels = labels[0] != '\0';
	int has_extra = extra && extra[0] != '\0';

	fprintf(out, "%s%s", name, suffix);
	if (has_labels || has_extra)
		fprintf(out, "{%s%s%s}", labels, has_labels && has_extra ? "," : "",
			has_extra ? extra : "");
	fprintf(out, " %s\n", value);
}

/* Writes help text with '\' and newlines escaped, as the format requires. */
static void
write_help(FILE *out, const struct family *f)
{
	fprintf(out, "# HELP %s ", f->name);
	for (const char *p = f->help; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", out);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
	fprintf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
}

static void
write_histogram(FILE *out, const struct family *f, const struct series *s)
{
	const struct fs_histogram *h = &s->u.histogram;
	uint64_t cumulative = 0;
	char le[48], value[32];

	for (size_t i = 0; i <= h->bound_count; i++) {
		cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
		if (i < h->bound_count)
			snprintf(le, sizeof(le), "le=\"%.15g\"", h->bounds[i]);
		else
			snprintf(le, sizeof(le), "le=\"+Inf\"");
		snprintf(value, sizeof(value), "%llu", (unsigned long long)cumulative);
		write_sample(out, f->name, "_bucket", s->labels, le, value);
	}
	snprintf(value, sizeof(value), "%.17g",
		 bits_to_double(atomic_load_explicit(&h->sum_bits, memory_order_relaxed)));
	write_sample(out, f->name, "_sum", s->labels, NULL, value);
	snprintf(value, sizeof(value), "%llu", (unsigned long long)cumulative);
	write_sample(out, f->name, "_count", s->labels, NULL, value);
}

int
fs_metrics_render(struct fs_metrics *m, char **out, size_t *len)
{
	FILE *stream;
	char value[32];

	*out = NULL;
	*len = 0;
	stream = open_memstream(out, len);
	if (!stream)
		return FS_ERR_SYSTEM;
	pthread_mutex_lock(&m->lock);
	for (const struct family *f = m->families; f; f = f->next) {
		write_help(stream, f);
		for (const struct series *s = f->series; s; s = s->next) {
			switch (f->type) {
			case TYPE_COUNTER:
				snprintf(value, sizeof(value), "%llu",
					 (unsigned long long)fs_counter_value(&s->u.counter));
				write_sample(stream, f->name, "", s->labels, NULL, value);
				break;
			case TYPE_GAUGE:
				snprintf(value, sizeof(value), "%lld",
					 (long long)fs_gauge_value(&s->u.gauge));
				write_sample(stream, f->name, "", s->labels, NULL, value);
				break;
			case TYPE_HISTOGRAM:
				write_histogram(stream, f, s);
				break;
			}
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (fclose(stream) != 0) {
		free(*out);
		*out = NULL;
		*len = 0;
		return FS_ERR_SYSTEM;
	}
	return 0;
}
