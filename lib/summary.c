#include "config.h"
/*
 * summary.c: per-series multi-resolution rings of buckets (see summary.h
 * for the levels and the memory bound).
 *
 * Invariants: every ring is allocated once at sw_summary_new and never
 * grows; within a ring buckets are in ascending period order (a period
 * split by a restart has one bucket per segment, in segment order); a
 * bucket never holds samples of two segments; lost_ts is the newest sample
 * time of any bucket a ring has evicted, so the ring holds every sample
 * with ts > lost_ts (late samples whose bucket was missing excepted, and
 * counted). Histogram bins are allocated on demand up to a fixed cap and
 * kept when a ring slot is reused. Depends only on libc, libm, err.h and
 * stats.h.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slopewatch/err.h"
#include "slopewatch/stats.h"
#include "slopewatch/summary.h"

struct bucket {
	int64_t		start;		/* period start, ms */
	int64_t		first_ts;
	int64_t		last_ts;
	double		min;
	double		max;
	double		sum;
	double		last;
	uint32_t	n;
	uint32_t	seg;
};

struct level {
	int64_t			 width;
	uint32_t		 cap;
	uint32_t		 first;		/* slot of the oldest bucket */
	uint32_t		 len;
	int64_t			 lost_ts;	/* newest evicted sample */
	struct bucket		*b;
	struct sw_loghist	*h;		/* NULL without histograms */
};

struct sw_summary {
	int				 flags;
	uint32_t			 seg;
	uint32_t			 prev_seg;
	int64_t				 seg_start;
	struct sw_summary_counters	 c;
	struct level			 lv[SW_SUMMARY_LEVELS];
	struct sw_loghist		 merge;	/* scratch for quantiles */
	struct bucket			*bmem;
	struct sw_loghist		*hmem;
};

static const struct {
	int64_t		width;
	uint32_t	cap;
} level_def[SW_SUMMARY_LEVELS] = {
	{ 10 * 1000, 361 },		/* 1 h */
	{ 60 * 1000, 361 },		/* 6 h */
	{ 5 * 60 * 1000, 289 },		/* 24 h */
	{ 30 * 60 * 1000, 337 },	/* 7 d */
	{ 3 * 3600 * 1000, 241 },	/* 30 d */
};

/* Timestamps beyond +-2^62 ms are refused, so period arithmetic never
 * overflows. */
#define TS_LIMIT	((int64_t)1 << 62)

static uint32_t
total_buckets(void)
{
	uint32_t	n = 0;
	int		i;

	for (i = 0; i < SW_SUMMARY_LEVELS; i++)
		n += level_def[i].cap;
	return n;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t	q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t
sw_summary_level_width(int level)
{
	if (level < 0 || level >= SW_SUMMARY_LEVELS)
		return 0;
	return level_def[level].width;
}

uint32_t
sw_summary_level_buckets(int level)
{
	if (level < 0 || level >= SW_SUMMARY_LEVELS)
		return 0;
	return level_def[level].cap;
}

int
sw_summary_new(int flags, struct sw_summary **out, struct sw_err *err)
{
	struct sw_summary	*s;
	uint32_t		 total = total_buckets(), off = 0, i;
	int			 l;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return sw_err_sys(err, ENOMEM, "summary");
	s->flags = flags & SW_SUMMARY_HIST;
	s->seg_start = INT64_MIN;
	s->c.first_ts = INT64_MAX;
	s->c.last_ts = INT64_MIN;
	sw_loghist_init(&s->merge, SW_SUMMARY_MERGE_BINS);
	if ((s->bmem = calloc(total, sizeof(*s->bmem))) == NULL)
		goto fail;
	if (s->flags & SW_SUMMARY_HIST) {
		if ((s->hmem = calloc(total, sizeof(*s->hmem))) == NULL)
			goto fail;
		for (i = 0; i < total; i++)
			sw_loghist_init(&s->hmem[i], SW_SUMMARY_HIST_BINS);
	}
	for (l = 0; l < SW_SUMMARY_LEVELS; l++) {
		s->lv[l].width = level_def[l].width;
		s->lv[l].cap = level_def[l].cap;
		s->lv[l].lost_ts = INT64_MIN;
		s->lv[l].b = s->bmem + off;
		s->lv[l].h = s->hmem != NULL ? s->hmem + off : NULL;
		off += level_def[l].cap;
	}
	*out = s;
	return 0;
fail:
	sw_summary_free(s);
	return sw_err_sys(err, ENOMEM, "summary");
}

void
sw_summary_free(struct sw_summary *s)
{
	uint32_t	i, total = total_buckets();

	if (s == NULL)
		return;
	if (s->hmem != NULL)
		for (i = 0; i < total; i++)
			sw_loghist_release(&s->hmem[i]);
	sw_loghist_release(&s->merge);
	free(s->hmem);
	free(s->bmem);
	free(s);
}

void
sw_summary_segment(struct sw_summary *s, int64_t ts_ms, uint32_t segment_id)
{
	if (segment_id == s->seg && s->seg_start != INT64_MIN)
		return;
	s->prev_seg = s->seg;
	s->seg = segment_id;
	s->seg_start = ts_ms;
}

uint32_t
sw_summary_segment_id(const struct sw_summary *s)
{
	return s->seg;
}

int64_t
sw_summary_segment_start(const struct sw_summary *s)
{
	return s->seg_start;
}

void
sw_summary_counters(const struct sw_summary *s, struct sw_summary_counters *out)
{
	*out = s->c;
}

static uint32_t
slot(const struct level *lv, uint32_t i)
{
	return (lv->first + i) % lv->cap;
}

static void
fold(struct sw_summary *s, struct level *lv, uint32_t k, int64_t ts, double v)
{
	struct bucket	*b = &lv->b[k];

	b->n++;
	if (v < b->min)
		b->min = v;
	if (v > b->max)
		b->max = v;
	b->sum += v;
	if (ts >= b->last_ts) {
		b->last_ts = ts;
		b->last = v;
	}
	if (ts < b->first_ts)
		b->first_ts = ts;
	if (lv->h != NULL && sw_loghist_add(&lv->h[k], v) == -1)
		s->c.hist_dropped++;
}

/* Folds the sample into level lv; 0 taken, 1 ignored. */
static int
level_add(struct sw_summary *s, struct level *lv, int64_t ts, double v,
    uint32_t seg)
{
	struct bucket	*b;
	int64_t		 p = floor_div(ts, lv->width) * lv->width;
	uint32_t	 k, i;

	if (lv->len > 0) {
		k = slot(lv, lv->len - 1);
		b = &lv->b[k];
		if (ts < b->last_ts) {
			/* late: its period and segment, if still held */
			for (i = lv->len; i-- > 0;) {
				k = slot(lv, i);
				b = &lv->b[k];
				if (b->start < p)
					break;
				if (b->start == p && b->seg == seg) {
					fold(s, lv, k, ts, v);
					return 0;
				}
			}
			return 1;
		}
		if (b->start == p && b->seg == seg) {
			fold(s, lv, k, ts, v);
			return 0;
		}
	}
	if (lv->len == lv->cap) {
		b = &lv->b[lv->first];
		if (b->last_ts > lv->lost_ts)
			lv->lost_ts = b->last_ts;
		lv->first = (lv->first + 1) % lv->cap;
		lv->len--;
	}
	k = slot(lv, lv->len);
	lv->len++;
	b = &lv->b[k];
	b->start = p;
	b->first_ts = b->last_ts = ts;
	b->min = b->max = b->last = b->sum = v;
	b->n = 1;
	b->seg = seg;
	if (lv->h != NULL) {
		sw_loghist_reset(&lv->h[k]);
		if (sw_loghist_add(&lv->h[k], v) == -1)
			s->c.hist_dropped++;
	}
	return 0;
}

int
sw_summary_add(struct sw_summary *s, int64_t ts_ms, double v)
{
	uint32_t	seg;
	int		l, ignored = 0;

	if (!isfinite(v) || ts_ms <= -TS_LIMIT || ts_ms >= TS_LIMIT) {
		s->c.invalid++;
		return -1;
	}
	seg = (s->seg_start != INT64_MIN && ts_ms < s->seg_start) ?
	    s->prev_seg : s->seg;
	if (ts_ms < s->c.last_ts)
		s->c.late++;
	for (l = 0; l < SW_SUMMARY_LEVELS; l++)
		ignored |= level_add(s, &s->lv[l], ts_ms, v, seg);
	s->c.added++;
	if (ignored)
		s->c.ignored++;
	if (ts_ms < s->c.first_ts)
		s->c.first_ts = ts_ms;
	if (ts_ms > s->c.last_ts)
		s->c.last_ts = ts_ms;
	return ignored;
}

size_t
sw_summary_memory(const struct sw_summary *s)
{
	size_t		n, total = total_buckets();
	uint32_t	i;

	n = sizeof(*s) + total * sizeof(struct bucket);
	if (s->hmem != NULL) {
		n += total * sizeof(struct sw_loghist);
		for (i = 0; i < total; i++)
			n += (size_t)s->hmem[i].cap *
			    sizeof(struct sw_loghist_bin);
	}
	n += (size_t)s->merge.cap * sizeof(struct sw_loghist_bin);
	return n;
}

size_t
sw_summary_memory_max(int flags)
{
	size_t	n, total = total_buckets();

	n = sizeof(struct sw_summary) + total * sizeof(struct bucket);
	if (flags & SW_SUMMARY_HIST) {
		n += total * (sizeof(struct sw_loghist) +
		    SW_SUMMARY_HIST_BINS * sizeof(struct sw_loghist_bin));
		n += SW_SUMMARY_MERGE_BINS * sizeof(struct sw_loghist_bin);
	}
	return n;
}

/* ---- extraction --------------------------------------------------------- */

/* The finest level holding every sample after from; *complete = 0 when
 * none does (then the coarsest). */
static int
pick_level(const struct sw_summary *s, int64_t from, int *complete)
{
	int	l;

	for (l = 0; l < SW_SUMMARY_LEVELS; l++)
		if (s->lv[l].lost_ts <= from) {
			*complete = 1;
			return l;
		}
	*complete = 0;
	return SW_SUMMARY_LEVELS - 1;
}

static int
in_window(const struct sw_summary *s, const struct bucket *b, int64_t from,
    int64_t to, int flags)
{
	if (b->last_ts <= from || b->first_ts > to)
		return 0;
	if ((flags & SW_SUMMARY_CURSEG) && b->seg != s->seg)
		return 0;
	return 1;
}

struct group {
	int64_t		key;
	uint32_t	seg;
	int		open;
	uint64_t	n;
	double		min, max, sum, last;
	int64_t		last_ts;
};

/*
 * Walks the window's buckets of lv in groups of k aligned periods. With
 * out == NULL only counts the groups; else emits them, skipping the first
 * `skip` groups. Returns the number of groups (emitted or not).
 */
static size_t
walk_groups(struct sw_summary *s, const struct level *lv, int64_t from,
    int64_t to, int flags, int64_t k, size_t skip,
    struct sw_summary_points *out)
{
	const struct bucket	*b;
	struct group		 g;
	int64_t			 key = 0, gw = lv->width * k;
	size_t			 ng = 0;
	uint32_t		 i, sl = 0;
	int			 hist = out != NULL && lv->h != NULL;

	memset(&g, 0, sizeof(g));
	for (i = 0; i <= lv->len; i++) {
		b = NULL;
		if (i < lv->len) {
			sl = slot(lv, i);
			b = &lv->b[sl];
			if (!in_window(s, b, from, to, flags))
				continue;
			key = floor_div(b->start, gw);
			if (g.open && key == g.key && b->seg == g.seg)
				goto fold;
		}
		/* close the open group */
		if (g.open && (!(flags & SW_SUMMARY_CLOSED) ||
		    (g.key + 1) * gw <= to)) {
			if (out != NULL && ng >= skip &&
			    out->n < SW_SUMMARY_POINTS_MAX) {
				out->t[out->n] = (double)((g.key + 1) * gw) /
				    1000.0;
				out->floor[out->n] = g.min;
				out->peak[out->n] = g.max;
				out->mean[out->n] = g.sum / (double)g.n;
				out->last[out->n] = g.last;
				out->count[out->n] = g.n;
				out->seg[out->n] = g.seg;
				out->p50[out->n] = hist ?
				    sw_loghist_quantile(&s->merge, 0.5) : NAN;
				out->n++;
			}
			ng++;
		}
		g.open = 0;
		if (b == NULL)
			break;
		g.open = 1;
		g.key = key;
		g.seg = b->seg;
		g.n = 0;
		g.min = b->min;
		g.max = b->max;
		g.sum = 0;
		g.last = b->last;
		g.last_ts = b->last_ts;
		if (hist)
			sw_loghist_reset(&s->merge);
fold:
		g.n += b->n;
		if (b->min < g.min)
			g.min = b->min;
		if (b->max > g.max)
			g.max = b->max;
		g.sum += b->sum;
		if (b->last_ts >= g.last_ts) {
			g.last_ts = b->last_ts;
			g.last = b->last;
		}
		if (hist)
			sw_loghist_merge(&s->merge, &lv->h[sl]);
	}
	return ng;
}

int
sw_summary_points(struct sw_summary *s, int64_t from_ms, int64_t to_ms,
    size_t max_points, int flags, struct sw_summary_points *out)
{
	const struct level	*lv;
	const struct bucket	*b;
	size_t			 m = 0, ng, skip = 0;
	int64_t			 k, kmax, lo = INT64_MAX, hi = INT64_MIN;
	uint32_t		 i;
	int			 l, complete;

	if (s == NULL || out == NULL)
		return -1;
	out->n = 0;
	if (from_ms >= to_ms)
		return -1;
	if (max_points < 1)
		max_points = 1;
	if (max_points > SW_SUMMARY_POINTS_MAX)
		max_points = SW_SUMMARY_POINTS_MAX;
	l = pick_level(s, from_ms, &complete);
	lv = &s->lv[l];
	out->level = l;
	out->complete = complete;
	for (i = 0; i < lv->len; i++) {
		b = &lv->b[slot(lv, i)];
		if (!in_window(s, b, from_ms, to_ms, flags))
			continue;
		m++;
		if (b->start < lo)
			lo = b->start;
		if (b->start > hi)
			hi = b->start;
	}
	k = 1;
	if (m > max_points)
		k = (int64_t)((m + max_points - 1) / max_points);
	/* past kmax periods per group every segment is at most 2 groups:
	 * more periods cannot help */
	kmax = m > 0 ? (hi - lo) / lv->width + 2 : 1;
	for (;;) {
		ng = walk_groups(s, lv, from_ms, to_ms, flags, k, 0, NULL);
		if (ng <= max_points || k >= kmax)
			break;
		k++;
	}
	if (ng > max_points)
		skip = ng - max_points;	/* keep the newest */
	out->width_ms = lv->width * k;
	walk_groups(s, lv, from_ms, to_ms, flags, k, skip, out);
	return 0;
}

int
sw_summary_window(const struct sw_summary *s, int64_t from_ms, int64_t to_ms,
    int flags, struct sw_summary_agg *out, struct sw_loghist *hist)
{
	const struct level	*lv;
	const struct bucket	*b;
	uint32_t		 i, k;
	int			 rc = 0;

	if (s == NULL || out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	out->min = out->max = out->avg = out->last = NAN;
	out->first_ts = INT64_MAX;
	out->last_ts = INT64_MIN;
	if (hist != NULL)
		sw_loghist_reset(hist);
	if (from_ms >= to_ms)
		return -1;
	out->level = pick_level(s, from_ms, &out->complete);
	lv = &s->lv[out->level];
	out->width_ms = lv->width;
	for (i = 0; i < lv->len; i++) {
		k = slot(lv, i);
		b = &lv->b[k];
		if (!in_window(s, b, from_ms, to_ms, flags))
			continue;
		if (out->count == 0 || b->min < out->min)
			out->min = b->min;
		if (out->count == 0 || b->max > out->max)
			out->max = b->max;
		out->count += b->n;
		out->sum += b->sum;
		if (b->first_ts < out->first_ts)
			out->first_ts = b->first_ts;
		if (b->last_ts >= out->last_ts) {
			out->last_ts = b->last_ts;
			out->last = b->last;
		}
		if (hist != NULL && lv->h != NULL &&
		    sw_loghist_merge(hist, &lv->h[k]) == -1)
			rc = -1;
	}
	if (out->count > 0)
		out->avg = out->sum / (double)out->count;
	return rc;
}

double
sw_summary_quantile(struct sw_summary *s, int64_t from_ms, int64_t to_ms,
    int flags, double phi)
{
	struct sw_summary_agg	agg;

	if (s == NULL || !(s->flags & SW_SUMMARY_HIST))
		return NAN;
	if (sw_summary_window(s, from_ms, to_ms, flags, &agg, &s->merge) == -1)
		return NAN;
	return sw_loghist_quantile(&s->merge, phi);
}
