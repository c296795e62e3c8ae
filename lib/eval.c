#include "config.h"
/*
 * eval.c: evaluation of rule expressions over per-series summaries
 * (eval.h; the semantics are documented in slopewatch-rules(7),
 * EVALUATION).
 *
 * Every number is carried as a point value plus an interval [lo, hi] and a
 * "null" value: lo = hi = v for everything but the trend functions, whose
 * interval comes from the 99 % confidence interval of the Theil-Sen slope
 * and whose null value is what they would be on a flat series. Arithmetic
 * propagates the three. A comparison that involves a trend call is true
 * only when it holds for every value of the intervals (the conservative
 * side of the CI), and, when it relies on growth (false at the null
 * value), only when each trend call also passes its gates: Mann-Kendall
 * |Z| > 2.33 in the direction of the slope and the deceleration guard
 * (recent_guard: the slope of the most recent third of the points is not
 * more than one standard error, from the points' own noise, below 0.75 x
 * the whole window's slope). Conditions use three-valued logic: "no
 * verdict" (not enough data) is neither true nor false; `and` and `or`
 * follow Kleene; a rule fires only on true.
 *
 * Invariants: evaluation allocates nothing but the text of the reported
 * comparison (the scratch is the engine's), never reads the clock, and
 * costs O(points) per call: each window function reads at most one
 * summary ring (<= 361 buckets) and each trend fit uses at most
 * SW_EVAL_TREND_POINTS points. Recursion is bounded by the tree height
 * (SW_EXPR_MAX_DEPTH).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slopewatch/err.h"
#include "slopewatch/eval.h"
#include "slopewatch/expr.h"
#include "slopewatch/stats.h"
#include "slopewatch/store.h"
#include "slopewatch/summary.h"
#include "slopewatch/units.h"

/* Scratch for Theil-Sen fits of up to this many points. */
#define EVAL_TS_POINTS		(2 * SW_EVAL_TREND_POINTS)
/* Points of the per-lifetime view and of anomaly baselines. */
#define EVAL_LIFE_POINTS	144
#define EVAL_ANOMALY_POINTS	480

struct ev {
	int	ok;		/* 0: no verdict */
	int	is_bool;
	int	b;		/* condition value (when ok) */
	double	v;		/* point value */
	double	lo, hi;		/* interval (trend CI propagated) */
	double	null;		/* value on a flat series */
	int	trend;		/* depends on a trend call */
	int	gates;		/* every trend call below passed its gates */
};

struct evstate {
	struct sw_eval_ctx	*c;
	struct sw_value		*out;
	int			 cmp_set;	/* lhs/rhs recorded */
	int			 cmp_true;	/* ... from a true comparison */
};

/* A trend fit of one series over one window. */
struct fit {
	int	ok;
	size_t	n;
	int	nsegs;
	int64_t	width_ms;
	int64_t	from_ms, to_ms;
	/* on the signal */
	struct sw_trend	lin;
	double	lin_ratio;	/* recent-third slope / whole slope */
	int	lin_gate;
	double	level;		/* fitted signal at now */
	/* on ln(signal) */
	int	log_ok;
	struct sw_trend	lg;
	double	log_ratio;	/* the same on ln(signal) */
	int	log_gate;
	double	peak;		/* newest peak */
};

int
sw_eval_scratch_init(struct sw_eval_scratch *sc, struct sw_err *err)
{
	memset(sc, 0, sizeof(*sc));
	sc->tsn = SW_STATS_THEILSEN_SCRATCH(EVAL_TS_POINTS);
	if (sc->tsn < EVAL_ANOMALY_POINTS)
		sc->tsn = EVAL_ANOMALY_POINTS;
	if ((sc->ts = calloc(sc->tsn, sizeof(double))) == NULL)
		return sw_err_sys(err, ENOMEM, "rules: evaluation scratch");
	sw_loghist_init(&sc->hist, SW_SUMMARY_MERGE_BINS);
	return 0;
}

void
sw_eval_scratch_release(struct sw_eval_scratch *sc)
{
	if (sc == NULL)
		return;
	free(sc->ts);
	sc->ts = NULL;
	sw_loghist_release(&sc->hist);
}

size_t
sw_eval_scratch_memory(const struct sw_eval_scratch *sc)
{
	return sizeof(*sc) + sc->tsn * sizeof(double) +
	    (size_t)sc->hist.cap * sizeof(struct sw_loghist_bin);
}

/* ---------------------------------------------------------------------- */
/* helpers                                                                 */

static void
why(struct evstate *es, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
why(struct evstate *es, const char *fmt, ...)
{
	va_list	ap;

	if (es->out->why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(es->out->why, sizeof(es->out->why), fmt, ap);
	va_end(ap);
}

static void
ev_num(struct ev *r, double v)
{
	memset(r, 0, sizeof(*r));
	r->ok = isfinite(v) || isinf(v);
	r->v = r->lo = r->hi = r->null = v;
	r->gates = 1;
}

static void
ev_none(struct ev *r)
{
	memset(r, 0, sizeof(*r));
	r->v = r->lo = r->hi = r->null = NAN;
	r->gates = 1;
}

static char *
series_name(char *dst, size_t dstsz, const struct sw_expr *s)
{
	return sw_series_format(dst, dstsz, s->target, s->metric,
	    s->labels != NULL ? s->labels : "");
}

static char *
dur(char *dst, size_t dstsz, int64_t ms)
{
	return sw_fmt_quantity(dst, dstsz, (double)ms / 1000.0,
	    SW_UNIT_SECONDS);
}

static struct sw_eval_series *
find(struct evstate *es, const struct sw_expr *s)
{
	struct sw_eval_series	*x;
	char			 name[192];

	x = es->c->lookup(es->c->arg, s->target, s->metric,
	    s->labels != NULL ? s->labels : "");
	if (x == NULL)
		why(es, "%s: not kept by the engine", series_name(name,
		    sizeof(name), s));
	return x;
}

/* Aggregates of (from, to] of a summary; 0 when there is a sample. */
static int
window(const struct sw_summary *s, int64_t from, int64_t to,
    struct sw_summary_agg *agg)
{
	if (s == NULL || sw_summary_window(s, from, to, 0, agg, NULL) == -1)
		return -1;
	return agg->count > 0 ? 0 : -1;
}

/* The newest value at or before t (within the lookback) and its time. */
static int
value_at(const struct sw_summary *s, int64_t t, double *v, int64_t *ts)
{
	struct sw_summary_agg	agg;

	if (window(s, t - SW_EVAL_LOOKBACK_MS, t, &agg) == -1)
		return -1;
	*v = agg.last;
	*ts = agg.last_ts;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* window functions                                                        */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t	q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/*
 * The q-quantile of (now - w, now]. Merging every bucket's histogram costs
 * O(buckets x bins), and the buckets of long windows are coarse and full
 * (7 d: 336 buckets of 128 bins), so the merge of the window's closed
 * buckets is cached per (series, window) and rebuilt only when that set
 * changes (a bucket closes or leaves the window: once per bucket width of
 * the level, e.g. every 30 min for 7 d); each evaluation merges the cached
 * histogram with the buckets of the period still filling.
 */
static double
quantile(struct evstate *es, struct sw_eval_series *s, int64_t w, double q)
{
	struct sw_loghist	*h = &es->c->scratch->hist;
	struct sw_eval_qcache	*c = NULL, *old = NULL;
	struct sw_summary_agg	 a, b;
	int64_t			 now = es->c->now_ms, from = now - w, cut;
	int			 i;

	if (window(s->raw, from, now, &a) == -1)
		return NAN;
	cut = floor_div(now, a.width_ms) * a.width_ms;
	if (cut - 1 > from) {
		if (sw_summary_window(s->raw, from, cut - 1, 0, &b, NULL) == -1)
			return NAN;
		for (i = 0; i < SW_EVAL_QCACHE; i++) {
			if (s->qc[i].used && s->qc[i].window_ms == w)
				c = &s->qc[i];
			if (old == NULL || !s->qc[i].used ||
			    (old->used && s->qc[i].age < old->age))
				old = &s->qc[i];
		}
		if (c == NULL)
			c = old;
		c->age = ++s->qtick;
		if (!c->used || c->window_ms != w || c->level != b.level ||
		    c->count != b.count || c->first_ts != b.first_ts ||
		    c->last_ts != b.last_ts || c->sum != b.sum) {
			c->used = 0;
			if (sw_summary_window(s->raw, from, cut - 1, 0, &b,
			    &c->h) == -1)
				return NAN;
			c->used = 1;
			c->window_ms = w;
			c->level = b.level;
			c->count = b.count;
			c->first_ts = b.first_ts;
			c->last_ts = b.last_ts;
			c->sum = b.sum;
		}
	} else
		cut = from + 1;
	/* the period still filling, at the finest level that holds it */
	if (sw_summary_window(s->raw, cut - 1, now, 0, &b, h) == -1)
		return NAN;
	if (c != NULL && sw_loghist_merge(h, &c->h) == -1)
		return NAN;
	return sw_loghist_quantile(h, q);
}

static void
fn_window(struct evstate *es, const struct sw_expr *e, struct ev *r)
{
	struct sw_eval_series	*s;
	struct sw_summary_agg	 agg;
	int64_t			 now = es->c->now_ms, from = now - e->window_ms;
	int64_t			 ref_ts;
	double			 v = NAN, ref;
	char			 name[192], w[32];

	ev_none(r);
	if ((s = find(es, e->series)) == NULL)
		return;
	series_name(name, sizeof(name), e->series);
	dur(w, sizeof(w), e->window_ms);
	switch (e->fn) {
	case SW_FN_QUANTILE:
		if (s->raw == NULL)
			break;
		v = quantile(es, s, e->window_ms, e->q);
		if (isnan(v))
			why(es, "%s: no sample in the last %s", name, w);
		break;
	case SW_FN_COUNT:
		if (s->raw == NULL)
			break;
		if (sw_summary_window(s->raw, from, now, 0, &agg, NULL) == 0)
			v = (double)agg.count;
		break;
	case SW_FN_AVG:
	case SW_FN_MIN:
	case SW_FN_MAX:
	case SW_FN_LAST:
		if (window(s->raw, from, now, &agg) == -1) {
			why(es, "%s: no sample in the last %s", name, w);
			break;
		}
		v = e->fn == SW_FN_AVG ? agg.avg : e->fn == SW_FN_MIN ?
		    agg.min : e->fn == SW_FN_MAX ? agg.max : agg.last;
		break;
	case SW_FN_DELTA:
		if (window(s->raw, from, now, &agg) == -1) {
			why(es, "%s: no sample in the last %s", name, w);
			break;
		}
		if (value_at(s->raw, from, &ref, &ref_ts) == -1) {
			why(es, "%s: no sample at the start of the %s window",
			    name, w);
			break;
		}
		v = agg.last - ref;
		break;
	case SW_FN_RATE:
		if (window(s->ctr, from, now, &agg) == -1) {
			why(es, "%s: no sample in the last %s", name, w);
			break;
		}
		/* the counter view never decreases: its window minimum is
		 * its first value in the window */
		if (value_at(s->ctr, from, &ref, &ref_ts) == -1 ||
		    ref_ts >= agg.last_ts) {
			ref = agg.min;
			ref_ts = agg.first_ts;
		}
		if (agg.last_ts <= ref_ts) {
			why(es, "%s: fewer than two samples in the last %s",
			    name, w);
			break;
		}
		v = (agg.last - ref) / ((double)(agg.last_ts - ref_ts) /
		    1000.0);
		break;
	default:
		break;
	}
	if (isnan(v))
		return;
	ev_num(r, v);
}

static void
fn_errors(struct evstate *es, const struct sw_expr *e, struct ev *r)
{
	struct sw_eval_series	*s;
	struct sw_summary_agg	 agg;
	int64_t			 now = es->c->now_ms;
	char			 w[32];

	ev_none(r);
	s = es->c->lookup(es->c->arg, e->arg[0]->target, "up", "");
	if (s == NULL || window(s->raw, now - e->window_ms, now, &agg) == -1) {
		why(es, "%s: no probe in the last %s", e->arg[0]->target,
		    dur(w, sizeof(w), e->window_ms));
		return;
	}
	ev_num(r, 1.0 - agg.avg);
}

static void
fn_histogram_quantile(struct evstate *es, const struct sw_expr *e,
    struct ev *r)
{
	const struct sw_eval_hist	*h;
	const struct sw_expr		*m = e->series;
	struct sw_summary_agg		 agg;
	double				 le[SW_EVAL_HIST_LE_MAX];
	double				 inc[SW_EVAL_HIST_LE_MAX], ref, v;
	int64_t				 now = es->c->now_ms;
	int64_t				 from = now - e->window_ms, ref_ts;
	int				 i;
	size_t				 n = 0;
	char				 name[192], w[32];

	ev_none(r);
	h = es->c->hist == NULL ? NULL : es->c->hist(es->c->arg, m->target,
	    m->metric, m->labels != NULL ? m->labels : "");
	series_name(name, sizeof(name), m);
	dur(w, sizeof(w), e->window_ms);
	if (h == NULL || h->n == 0) {
		why(es, "%s: no _bucket series", name);
		return;
	}
	for (i = 0; i < h->n; i++) {
		if (window(h->ctr[i], from, now, &agg) == -1)
			continue;
		if (value_at(h->ctr[i], from, &ref, &ref_ts) == -1 ||
		    ref_ts >= agg.last_ts)
			ref = agg.min;
		le[n] = h->le[i];
		inc[n] = agg.last - ref;
		n++;
	}
	v = sw_stats_histogram_quantile(e->q, le, inc, n);
	if (isnan(v)) {
		why(es, "%s: no observation in the last %s", name, w);
		return;
	}
	ev_num(r, v);
}

/* ---------------------------------------------------------------------- */
/* trend functions                                                         */

/* The trend signal of a point: the post-GC floor for memory, the median
 * for latency (the mean without histograms), the mean otherwise. */
static double
signal(const struct sw_summary_points *p, size_t i, enum sw_unit u)
{
	if (u == SW_UNIT_BYTES)
		return p->floor[i];
	if (u == SW_UNIT_SECONDS && isfinite(p->p50[i]))
		return p->p50[i];
	return p->mean[i];
}

static const struct sw_eval_seg *
seg_find(const struct sw_eval_target *tg, uint32_t id)
{
	int	i;

	if (tg == NULL)
		return NULL;
	for (i = tg->nsegs; i-- > 0;)
		if (tg->segs[i].id == id)
			return &tg->segs[i];
	return NULL;
}

/* End of a segment's warm-up (INT64_MIN when none applies). */
static int64_t
warm_end(const struct sw_eval_target *tg, uint32_t id)
{
	const struct sw_eval_seg	*sg;

	if (tg == NULL || tg->warmup_ms <= 0 ||
	    (sg = seg_find(tg, id)) == NULL)
		return INT64_MIN;
	return sg->started_ms + tg->warmup_ms;
}

/*
 * The noise of points around a smooth curve, for the deceleration guard:
 * 1.4826 x the MAD of the second differences of consecutive points of one
 * instance (point i minus the straight line through its neighbours,
 * scaled to the variance of one point: sqrt(1 + a^2 + b^2) for weights
 * a + b = 1). A straight line or a slowly bending curve (a cache filling
 * over hours) adds almost nothing, so this measures the scatter of the
 * points, not the shape the guard looks for. 0 with fewer than 3 triples.
 */
static double
point_noise(struct sw_eval_scratch *sc, const double *t, const double *y,
    const uint32_t *seg, size_t n)
{
	size_t	i, m = 0;
	double	h1, h2, a, b, mad;

	for (i = 1; i + 1 < n; i++) {
		if (seg[i - 1] != seg[i] || seg[i] != seg[i + 1])
			continue;
		h1 = t[i] - t[i - 1];
		h2 = t[i + 1] - t[i];
		if (!(h1 > 0) || !(h2 > 0))
			continue;
		a = h2 / (h1 + h2);
		b = h1 / (h1 + h2);
		sc->y2[m++] = (y[i] - a * y[i - 1] - b * y[i + 1]) /
		    sqrt(1 + a * a + b * b);
	}
	if (m < 3)
		return 0;
	mad = sw_stats_mad(sc->y2, m, sc->ts, NULL);
	return isfinite(mad) ? 1.4826 * mad : 0;
}

/*
 * The deceleration guard ("is the growth still going on?"): the Theil-Sen
 * slope b_r of the most recent third of the points (by time; at least
 * SW_EVAL_RECENT_MIN_POINTS) against the slope of the whole window, full.
 * It passes when b_r + z se >= 0.75 full (for a falling series, mirrored),
 * se the least-squares standard error of a slope over those points given
 * the point noise (point_noise) and z = SW_EVAL_DECEL_Z: on smooth points
 * (memory floors) it is the point-estimate test, on noisy ones (latency
 * medians) it fails only when the recent third is clearly slower. A
 * linear leak gives b_r / full ~ 1, an exponential one > 1; a warm-up
 * that plateaus, or a cache whose fill is slowing towards its cap, < 0.75
 * long before the whole window's slope falls. *ratio = b_r / full.
 */
static int
recent_guard(struct sw_eval_scratch *sc, const double *t, const double *y,
    const uint32_t *seg, size_t n, double full, double *ratio)
{
	struct sw_trend	tr;
	size_t		i, j, k, m = 0;
	double		cut, sigma, ss, mean, se;

	*ratio = NAN;
	if (full == 0 || !isfinite(full) || n == 0)
		return 0;
	sigma = point_noise(sc, t, y, seg, n);
	cut = t[n - 1] - (t[n - 1] - t[0]) / SW_EVAL_RECENT_PART;
	for (i = 0; i < n && t[i] < cut; i++)
		;
	if (n - i < SW_EVAL_RECENT_MIN_POINTS)
		i = n > SW_EVAL_RECENT_MIN_POINTS ?
		    n - SW_EVAL_RECENT_MIN_POINTS : 0;
	for (; i < n; i++) {
		sc->t2[m] = t[i];
		sc->y2[m] = y[i];
		sc->seg2[m] = seg[i];
		m++;
	}
	if (sw_stats_theilsen_blocked(sc->t2, sc->y2, sc->seg2, m,
	    SW_STATS_Z99, &tr, sc->ts) == -1 || !tr.ok)
		return 0;
	*ratio = tr.slope / full;
	/* spread of the times about each instance's mean (the blocked fit
	 * compares points within an instance only) */
	ss = 0;
	for (i = 0; i < m; i = j) {
		mean = 0;
		for (j = i; j < m && sc->seg2[j] == sc->seg2[i]; j++)
			mean += sc->t2[j];
		mean /= (double)(j - i);
		for (k = i; k < j; k++)
			ss += (sc->t2[k] - mean) * (sc->t2[k] - mean);
	}
	if (!(ss > 0))
		return 0;
	se = sigma / sqrt(ss);
	if (full > 0)
		return tr.slope + SW_EVAL_DECEL_Z * se >=
		    SW_EVAL_DECEL_GATE * full;
	return tr.slope - SW_EVAL_DECEL_Z * se <= SW_EVAL_DECEL_GATE * full;
}

static int
gate(const struct sw_trend *tr, int guard)
{
	if (!tr->ok || tr->slope == 0 || !isfinite(tr->slope))
		return 0;
	if (tr->slope > 0 ? tr->z <= SW_EVAL_Z_GATE : tr->z >= -SW_EVAL_Z_GATE)
		return 0;
	return guard;
}

/* Median over the newest segment's points of y - beta * t: the fitted
 * value at t = 0 (now). */
static double
fit_level(struct sw_eval_scratch *sc, const double *t, const double *y,
    const uint32_t *seg, size_t n, double beta)
{
	size_t	i, m = 0;

	if (n == 0)
		return NAN;
	for (i = 0; i < n; i++)
		if (seg[i] == seg[n - 1])
			sc->y2[m++] = y[i] - beta * t[i];
	return sw_stats_median(sc->y2, m, sc->ts);
}

/*
 * Fits the series over the window ending at now: points of about W/72
 * (closed periods only), the current instance only unless across, each
 * instance's warm-up left out. Fills f; f->ok = 0 (and why) when the data
 * are too few for a verdict.
 */
static void
trend_fit(struct evstate *es, const struct sw_eval_series *s,
    const struct sw_expr *sx, int64_t w_ms, struct fit *f)
{
	struct sw_eval_scratch		*sc = es->c->scratch;
	struct sw_summary_points	*p = &sc->pts;
	struct sw_summary_counters	 cnt;
	struct sw_summary_agg		 agg;
	const struct sw_eval_target	*tg = s->tgt;
	int64_t				 now = es->c->now_ms, from = now - w_ms;
	int64_t				 dfrom, pw, span, we, seg_start;
	double				 now_s = (double)now / 1000.0;
	double				 cover = 0, tfirst = 0, v;
	size_t				 i, n = 0, maxp;
	uint32_t			 cur, run = 0;
	int				 across = es->c->across_restarts, flags;
	int				 g;
	char				 name[192], a[32], b[32];

	memset(f, 0, sizeof(*f));
	f->level = f->peak = NAN;
	series_name(name, sizeof(name), sx);
	if (s->raw == NULL) {
		why(es, "%s: no samples kept", name);
		return;
	}
	sw_summary_counters(s->raw, &cnt);
	cur = sw_summary_segment_id(s->raw);
	seg_start = sw_summary_segment_start(s->raw);
	dfrom = from;
	if (cnt.first_ts != INT64_MAX && cnt.first_ts > dfrom)
		dfrom = cnt.first_ts;
	if (!across) {
		if (seg_start != INT64_MIN && seg_start > dfrom)
			dfrom = seg_start;
		if ((we = warm_end(tg, cur)) != INT64_MIN && we > dfrom)
			dfrom = we;
	}
	pw = w_ms / SW_EVAL_TREND_POINTS;
	if (pw < 1)
		pw = 1;
	span = now - dfrom;
	f->from_ms = dfrom;
	f->to_ms = now;
	if (span < w_ms / 2) {
		why(es, "%s: %s of usable data in the %s window (a trend "
		    "needs half the window%s)", name, dur(a, sizeof(a),
		    span > 0 ? span : 0), dur(b, sizeof(b), w_ms),
		    !across && tg != NULL ? ", after the current instance's "
		    "start and warm-up" : "");
		return;
	}
	/* two more for the edge buckets, taken whole */
	maxp = (size_t)(span / pw) + 2;
	if (maxp > SW_EVAL_TREND_POINTS + 2)
		maxp = SW_EVAL_TREND_POINTS + 2;
	flags = SW_SUMMARY_CLOSED | (across ? 0 : SW_SUMMARY_CURSEG);
	if (sw_summary_points(s->raw, dfrom, now, maxp, flags, p) == -1) {
		why(es, "%s: no data", name);
		return;
	}
	f->width_ms = p->width_ms;
	for (i = 0; i < p->n; i++) {
		we = warm_end(tg, p->seg[i]);
		if (we != INT64_MIN &&
		    (int64_t)(p->t[i] * 1000.0) - p->width_ms < we)
			continue;
		v = signal(p, i, s->unit);
		if (!isfinite(v))
			continue;
		sc->t[n] = p->t[i] - now_s;
		sc->y[n] = v;
		sc->ly[n] = v > 0 ? log(v) : NAN;
		sc->seg[n] = across ? p->seg[i] : 0;
		/* coverage: the span of each run of one segment */
		if (n == 0 || p->seg[i] != run) {
			if (n > 0)
				cover += sc->t[n - 1] - tfirst;
			cover += (double)p->width_ms / 1000.0;
			tfirst = sc->t[n];
			run = p->seg[i];
			f->nsegs++;
		}
		n++;
	}
	if (n > 0)
		cover += sc->t[n - 1] - tfirst;
	f->n = n;
	if (n > 0)
		f->from_ms = (int64_t)((sc->t[0] + now_s) * 1000.0) -
		    p->width_ms;
	if (n < SW_EVAL_MIN_POINTS || cover * 1000.0 < (double)w_ms / 2) {
		why(es, "%s: %zu points covering %s of the %s window (a trend "
		    "needs %d points and half the window)", name, n,
		    dur(a, sizeof(a), (int64_t)(cover * 1000.0)),
		    dur(b, sizeof(b), w_ms), SW_EVAL_MIN_POINTS);
		return;
	}
	if (sw_stats_theilsen_blocked(sc->t, sc->y, sc->seg, n, SW_STATS_Z99,
	    &f->lin, sc->ts) == -1 || !f->lin.ok) {
		why(es, "%s: no slope (all points at one time)", name);
		return;
	}
	g = recent_guard(sc, sc->t, sc->y, sc->seg, n, f->lin.slope,
	    &f->lin_ratio);
	f->lin_gate = gate(&f->lin, g);
	f->level = fit_level(sc, sc->t, sc->y, sc->seg, n, f->lin.slope);
	f->log_ok = 1;
	for (i = 0; i < n; i++)
		if (!isfinite(sc->ly[i]))
			f->log_ok = 0;
	if (f->log_ok && sw_stats_theilsen_blocked(sc->t, sc->ly, sc->seg, n,
	    SW_STATS_Z99, &f->lg, sc->ts) == 0 && f->lg.ok) {
		g = recent_guard(sc, sc->t, sc->ly, sc->seg, n,
		    f->lg.slope, &f->log_ratio);
		f->log_gate = gate(&f->lg, g);
	} else
		f->log_ok = 0;
	/* the level that hits a limit: the newest peak, over the last point
	 * period including the one still filling */
	if (window(s->raw, now - p->width_ms, now, &agg) == 0)
		f->peak = agg.max;
	else
		f->peak = p->peak[p->n - 1];
	f->ok = 1;
}

/* Slopes of the last instances (newest first), each over its own points
 * after warm-up, looking back max(4 w, 1 d) (at most 7 d). */
static void
lifetimes(struct evstate *es, const struct sw_eval_series *s, int64_t w_ms,
    struct sw_trend_info *ti)
{
	struct sw_eval_scratch		*sc = es->c->scratch;
	struct sw_summary_points	*p = &sc->pts;
	struct sw_trend			 tr;
	int64_t				 now = es->c->now_ms, lw = 4 * w_ms, we;
	size_t				 i, end, n;
	double				 v;

	ti->nlifetimes = 0;
	if (s->raw == NULL || s->tgt == NULL || s->tgt->nsegs == 0)
		return;
	if (lw < 86400000LL)
		lw = 86400000LL;
	if (lw > 7 * 86400000LL)
		lw = 7 * 86400000LL;
	if (sw_summary_points(s->raw, now - lw, now, EVAL_LIFE_POINTS,
	    SW_SUMMARY_CLOSED, p) == -1)
		return;
	end = p->n;
	while (end > 0 && ti->nlifetimes < SW_EVAL_LIFETIMES) {
		uint32_t	id = p->seg[end - 1];
		size_t		start = end;

		while (start > 0 && p->seg[start - 1] == id)
			start--;
		we = warm_end(s->tgt, id);
		n = 0;
		for (i = start; i < end; i++) {
			if (we != INT64_MIN &&
			    (int64_t)(p->t[i] * 1000.0) - p->width_ms < we)
				continue;
			v = signal(p, i, s->unit);
			if (!isfinite(v))
				continue;
			sc->t2[n] = p->t[i] - (double)now / 1000.0;
			sc->y2[n] = v;
			n++;
		}
		end = start;
		v = NAN;
		if (n >= SW_EVAL_LIFETIME_MIN_POINTS &&
		    sw_stats_theilsen(sc->t2, sc->y2, n, SW_STATS_Z99, &tr,
		    sc->ts) == 0)
			v = tr.slope;
		ti->lifetime_slope[ti->nlifetimes++] = v;
	}
}

static double
doubling_of(double beta_log)
{
	return beta_log > 0 ? M_LN2 / beta_log : INFINITY;
}

/* Seconds until level reaches limit at the linear slope b or the
 * exponential rate bl (the sooner); +Inf when neither grows. */
static double
eta(double level, double limit, double b, double bl)
{
	double	lin = INFINITY, ex = INFINITY;

	if (!isfinite(level) || isnan(limit))
		return NAN;
	if (level >= limit)
		return 0;
	if (b > 0)
		lin = (limit - level) / b;
	if (bl > 0 && level > 0 && limit > 0)
		ex = log(limit / level) / bl;
	return lin < ex ? lin : ex;
}

static void ev_node(struct evstate *, const struct sw_expr *, struct ev *);

static void
fn_trend(struct evstate *es, const struct sw_expr *e, struct ev *r)
{
	struct sw_eval_series	*s;
	struct sw_trend_info	*ti = &es->out->trend;
	struct ev		 lim;
	struct fit		 f;
	double			 h;
	int			 first = !ti->valid, g = 0;

	ev_none(r);
	if (e->fn == SW_FN_TIME_TO) {
		ev_node(es, e->arg[1], &lim);
		if (!lim.ok)
			return;
	} else
		ev_num(&lim, NAN);
	if ((s = find(es, e->series)) == NULL)
		return;
	trend_fit(es, s, e->series, e->window_ms, &f);
	if (first) {
		ti->valid = 1;
		snprintf(ti->fn, sizeof(ti->fn), "%s", sw_expr_fn_name(e->fn));
		series_name(ti->series, sizeof(ti->series), e->series);
		ti->points = (int)f.n;
		ti->from_ms = f.from_ms;
		ti->to_ms = f.to_ms;
		ti->width_ms = f.width_ms;
		ti->segments = f.nsegs;
		ti->unit = s->unit;
		ti->slope = ti->slope_lo = ti->slope_hi = NAN;
		ti->slope_log = ti->slope_log_lo = ti->slope_log_hi = NAN;
		ti->doubling_s = ti->doubling_lo_s = ti->doubling_hi_s = NAN;
		ti->eta_s = ti->eta_lo_s = ti->eta_hi_s = NAN;
		ti->level = ti->z = ti->decel = NAN;
		ti->confidence = 0;
	}
	if (!f.ok)
		return;
	switch (e->fn) {
	case SW_FN_SLOPE:
		ev_num(r, f.lin.slope);
		r->lo = f.lin.slope_lo;
		r->hi = f.lin.slope_hi;
		r->null = 0;
		g = f.lin_gate;
		break;
	case SW_FN_DOUBLING:
		if (!f.log_ok) {
			why(es, "%s: doubling needs positive values",
			    ti->series);
			return;
		}
		ev_num(r, doubling_of(f.lg.slope));
		r->lo = doubling_of(f.lg.slope_hi);
		r->hi = doubling_of(f.lg.slope_lo);
		r->null = INFINITY;
		g = f.log_gate;
		break;
	case SW_FN_FORECAST:
		h = (double)e->extra_ms / 1000.0;
		ev_num(r, f.level + f.lin.slope * h);
		r->lo = f.level + f.lin.slope_lo * h;
		r->hi = f.level + f.lin.slope_hi * h;
		r->null = f.level;
		g = f.lin_gate;
		break;
	case SW_FN_TIME_TO:
		ev_num(r, eta(f.peak, lim.v, f.lin.slope,
		    f.log_ok ? f.lg.slope : 0));
		r->lo = eta(f.peak, lim.lo, f.lin.slope_hi,
		    f.log_ok ? f.lg.slope_hi : 0);
		r->hi = eta(f.peak, lim.hi, f.lin.slope_lo,
		    f.log_ok ? f.lg.slope_lo : 0);
		r->null = eta(f.peak, lim.null, 0, 0);
		if (isnan(r->v)) {
			ev_none(r);
			why(es, "%s: no level to start from", ti->series);
			return;
		}
		g = f.lin_gate;
		break;
	default:
		return;
	}
	r->trend = 1;
	r->gates = g && lim.gates;
	if (!first)
		return;
	ti->slope = f.lin.slope;
	ti->slope_lo = f.lin.slope_lo;
	ti->slope_hi = f.lin.slope_hi;
	ti->z = f.lin.z;
	ti->decel = f.lin_ratio;
	ti->level = e->fn == SW_FN_TIME_TO ? f.peak : f.level;
	if (f.log_ok) {
		ti->slope_log = f.lg.slope;
		ti->slope_log_lo = f.lg.slope_lo;
		ti->slope_log_hi = f.lg.slope_hi;
		ti->doubling_s = doubling_of(f.lg.slope);
		ti->doubling_lo_s = doubling_of(f.lg.slope_hi);
		ti->doubling_hi_s = doubling_of(f.lg.slope_lo);
	}
	if (e->fn == SW_FN_DOUBLING)
		ti->decel = f.log_ratio;
	if (e->fn == SW_FN_TIME_TO) {
		ti->eta_s = r->v;
		ti->eta_lo_s = r->lo;
		ti->eta_hi_s = r->hi;
	}
	ti->gates = g;
	/* 1 - the two-sided p-value of the Mann-Kendall Z */
	ti->confidence = erf(fabs(ti->z) / M_SQRT2);
	if (es->c->detail)
		lifetimes(es, s, e->window_ms, ti);
}

static void
fn_anomaly(struct evstate *es, const struct sw_expr *e, struct ev *r)
{
	struct sw_eval_scratch		*sc = es->c->scratch;
	struct sw_summary_points	*p = &sc->pts;
	struct sw_eval_series		*s;
	struct sw_anomaly		 an;
	int64_t				 now = es->c->now_ms, w = e->window_ms;
	int64_t				 b = e->extra_ms, pw;
	size_t				 i, nr = 0, nb = 0;
	double				 v;
	char				 name[192];

	ev_none(r);
	if ((s = find(es, e->series)) == NULL || s->raw == NULL)
		return;
	series_name(name, sizeof(name), e->series);
	/* the same point width on both sides, so the baseline's spread is
	 * the spread of values like the recent ones */
	pw = b / EVAL_ANOMALY_POINTS;
	if (pw < 60000)
		pw = 60000;
	if (sw_summary_points(s->raw, now - w, now, (size_t)(w / pw > 0 ?
	    w / pw : 1), 0, p) == -1)
		return;
	for (i = 0; i < p->n; i++)
		if (isfinite(v = signal(p, i, s->unit)))
			sc->t[nr++] = v;
	if (sw_summary_points(s->raw, now - w - b, now - w,
	    (size_t)(b / pw), SW_SUMMARY_CLOSED, p) == -1)
		return;
	for (i = 0; i < p->n; i++)
		if (isfinite(v = signal(p, i, s->unit)))
			sc->y[nb++] = v;
	if (sw_stats_anomaly(sc->t, nr, sc->y, nb,
	    s->unit == SW_UNIT_SECONDS ? 0.001 : 0, &an, sc->ts) == -1 ||
	    !an.ok || isnan(an.z)) {
		why(es, "%s: %zu recent and %zu baseline points (anomaly needs "
		    "1 and %d)", name, nr, nb, SW_STATS_ANOMALY_MIN_BASE);
		return;
	}
	ev_num(r, an.z);
}

static void
fn_call(struct evstate *es, const struct sw_expr *e, struct ev *r)
{
	switch (e->fn) {
	case SW_FN_QUANTILE:
	case SW_FN_AVG:
	case SW_FN_MIN:
	case SW_FN_MAX:
	case SW_FN_LAST:
	case SW_FN_COUNT:
	case SW_FN_RATE:
	case SW_FN_DELTA:
		fn_window(es, e, r);
		break;
	case SW_FN_ERRORS:
		fn_errors(es, e, r);
		break;
	case SW_FN_HISTOGRAM_QUANTILE:
		fn_histogram_quantile(es, e, r);
		break;
	case SW_FN_SLOPE:
	case SW_FN_DOUBLING:
	case SW_FN_FORECAST:
	case SW_FN_TIME_TO:
		fn_trend(es, e, r);
		break;
	case SW_FN_ANOMALY:
		fn_anomaly(es, e, r);
		break;
	default:
		ev_none(r);
		why(es, "unknown function");
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* operators                                                               */

static void
series_last(struct evstate *es, const struct sw_expr *e, struct ev *r)
{
	struct sw_eval_series	*s;
	struct sw_summary_agg	 agg;
	int64_t			 now = es->c->now_ms;
	char			 name[192], w[32];

	ev_none(r);
	if ((s = find(es, e)) == NULL)
		return;
	if (window(s->raw, now - SW_EVAL_STALE_MS, now, &agg) == -1) {
		why(es, "%s: no sample in the last %s", series_name(name,
		    sizeof(name), e), dur(w, sizeof(w), SW_EVAL_STALE_MS));
		return;
	}
	ev_num(r, agg.last);
}

/* min and max of the four products or quotients, NaN-free when defined. */
static void
span4(double a, double b, double c, double d, double *lo, double *hi)
{
	double	x[4] = { a, b, c, d };
	int	i;

	*lo = INFINITY;
	*hi = -INFINITY;
	for (i = 0; i < 4; i++) {
		if (isnan(x[i]))
			continue;
		if (x[i] < *lo)
			*lo = x[i];
		if (x[i] > *hi)
			*hi = x[i];
	}
	if (*lo > *hi) {
		*lo = -INFINITY;
		*hi = INFINITY;
	}
}

static void
arith(const struct sw_expr *e, const struct ev *a, const struct ev *b,
    struct ev *r)
{
	ev_none(r);
	if (!a->ok || !b->ok)
		return;
	switch (e->op) {
	case SW_OP_ADD:
		ev_num(r, a->v + b->v);
		r->lo = a->lo + b->lo;
		r->hi = a->hi + b->hi;
		r->null = a->null + b->null;
		break;
	case SW_OP_SUB:
		ev_num(r, a->v - b->v);
		r->lo = a->lo - b->hi;
		r->hi = a->hi - b->lo;
		r->null = a->null - b->null;
		break;
	case SW_OP_MUL:
		ev_num(r, a->v * b->v);
		span4(a->lo * b->lo, a->lo * b->hi, a->hi * b->lo,
		    a->hi * b->hi, &r->lo, &r->hi);
		r->null = a->null * b->null;
		break;
	case SW_OP_DIV:
		ev_num(r, a->v / b->v);
		if (b->lo <= 0 && b->hi >= 0 && (b->lo != b->hi)) {
			r->lo = -INFINITY;
			r->hi = INFINITY;
		} else
			span4(a->lo / b->lo, a->lo / b->hi, a->hi / b->lo,
			    a->hi / b->hi, &r->lo, &r->hi);
		r->null = a->null / b->null;
		break;
	default:
		return;
	}
	if (isnan(r->v)) {
		ev_none(r);
		return;
	}
	r->trend = a->trend || b->trend;
	r->gates = a->gates && b->gates;
}

static int
cmp(enum sw_expr_op op, double a, double b)
{
	switch (op) {
	case SW_OP_LT:
		return a < b;
	case SW_OP_LE:
		return a <= b;
	case SW_OP_GT:
		return a > b;
	case SW_OP_GE:
		return a >= b;
	case SW_OP_EQ:
		return a == b;
	case SW_OP_NE:
		return a != b;
	default:
		return 0;
	}
}

/* Holds for every a in [alo, ahi] and b in [blo, bhi]. */
static int
cmp_all(enum sw_expr_op op, const struct ev *a, const struct ev *b)
{
	switch (op) {
	case SW_OP_LT:
		return a->hi < b->lo;
	case SW_OP_LE:
		return a->hi <= b->lo;
	case SW_OP_GT:
		return a->lo > b->hi;
	case SW_OP_GE:
		return a->lo >= b->hi;
	case SW_OP_EQ:
		return a->lo == a->hi && b->lo == b->hi && a->lo == b->lo;
	case SW_OP_NE:
		return a->hi < b->lo || b->hi < a->lo;
	default:
		return 0;
	}
}

static void
compare(struct evstate *es, const struct sw_expr *e, const struct ev *a,
    const struct ev *b, struct ev *r)
{
	struct sw_value	*out = es->out;
	char		*text;

	ev_none(r);
	r->is_bool = 1;
	if (!a->ok || !b->ok)
		return;
	r->ok = 1;
	if (!a->trend && !b->trend)
		r->b = cmp(e->op, a->v, b->v);
	else
		r->b = cmp_all(e->op, a, b) && (cmp(e->op, a->null, b->null) ||
		    (a->gates && b->gates));
	r->v = r->b;
	r->trend = a->trend || b->trend;
	if (!es->cmp_set || (r->b && !es->cmp_true)) {
		es->cmp_set = 1;
		es->cmp_true = r->b;
		out->lhs = a->v;
		out->rhs = b->v;
		out->conservative = r->trend;
		out->lhs_unit = e->arg[0]->unit;
		text = sw_expr_format(e->arg[0]);
		snprintf(out->lhs_text, sizeof(out->lhs_text), "%s",
		    text != NULL ? text : "");
		free(text);
	}
}

static void
ev_node(struct evstate *es, const struct sw_expr *e, struct ev *r)
{
	struct ev	a, b;

	switch (e->kind) {
	case SW_EXPR_NUMBER:
		ev_num(r, e->value);
		break;
	case SW_EXPR_SERIES:
		series_last(es, e, r);
		break;
	case SW_EXPR_CALL:
		fn_call(es, e, r);
		break;
	case SW_EXPR_UNARY:
		ev_node(es, e->arg[0], &a);
		*r = a;
		if (!a.ok)
			break;
		if (e->op == SW_OP_NOT)
			r->b = !a.b;
		else {
			r->v = -a.v;
			r->lo = -a.hi;
			r->hi = -a.lo;
			r->null = -a.null;
		}
		break;
	case SW_EXPR_ARITH:
		ev_node(es, e->arg[0], &a);
		ev_node(es, e->arg[1], &b);
		arith(e, &a, &b, r);
		break;
	case SW_EXPR_COMPARE:
		ev_node(es, e->arg[0], &a);
		ev_node(es, e->arg[1], &b);
		compare(es, e, &a, &b, r);
		break;
	case SW_EXPR_LOGIC:
		ev_node(es, e->arg[0], &a);
		ev_node(es, e->arg[1], &b);
		ev_none(r);
		r->is_bool = 1;
		r->trend = a.trend || b.trend;
		if (e->op == SW_OP_AND) {
			if ((a.ok && !a.b) || (b.ok && !b.b)) {
				r->ok = 1;
				r->b = 0;
			} else if (a.ok && b.ok) {
				r->ok = 1;
				r->b = 1;
			}
		} else {
			if ((a.ok && a.b) || (b.ok && b.b)) {
				r->ok = 1;
				r->b = 1;
			} else if (a.ok && b.ok) {
				r->ok = 1;
				r->b = 0;
			}
		}
		r->v = r->b;
		break;
	case SW_EXPR_TARGET:
	default:
		ev_none(r);
		why(es, "not a value");
		break;
	}
}

void
sw_eval(struct sw_eval_ctx *ctx, const struct sw_expr *e, struct sw_value *out)
{
	struct evstate	es;
	struct ev	r;

	memset(out, 0, sizeof(*out));
	out->lhs = out->rhs = NAN;
	memset(&es, 0, sizeof(es));
	es.c = ctx;
	es.out = out;
	ev_node(&es, e, &r);
	out->is_bool = e->type == SW_EXPR_T_BOOL;
	out->unit = out->is_bool ? SW_UNIT_NONE : e->unit;
	out->ok = r.ok && (out->is_bool || !isnan(r.v));
	out->v = out->is_bool ? (double)(r.ok && r.b) : r.v;
	if (out->ok)
		out->why[0] = '\0';
	else if (out->why[0] == '\0')
		snprintf(out->why, sizeof(out->why), "no data");
}

/* ---------------------------------------------------------------------- */
/* needs                                                                   */

struct needs {
	sw_eval_need_cb	 cb;
	void		*arg;
};

static int
need_series(struct needs *nd, const struct sw_expr *s, int flags,
    int64_t span)
{
	struct sw_eval_need	n;

	memset(&n, 0, sizeof(n));
	n.target = s->target;
	n.metric = s->metric;
	n.labels = s->labels != NULL ? s->labels : "";
	n.unit = s->unit;
	n.unit_known = s->unit_known;
	n.flags = flags;
	n.span_ms = span;
	return nd->cb(&n, nd->arg);
}

static int
needs_walk(struct needs *nd, const struct sw_expr *e)
{
	struct sw_eval_need	n;
	int64_t			w, span;
	int			i, rc, flags = SW_EVAL_NEED_RAW;

	if (e == NULL)
		return 0;
	if (e->kind == SW_EXPR_SERIES)
		return need_series(nd, e, SW_EVAL_NEED_RAW, SW_EVAL_STALE_MS);
	if (e->kind != SW_EXPR_CALL) {
		for (i = 0; i < e->nargs; i++)
			if ((rc = needs_walk(nd, e->arg[i])) != 0)
				return rc;
		return 0;
	}
	w = e->window_ms;
	switch (e->fn) {
	case SW_FN_QUANTILE:
		flags |= SW_EVAL_NEED_HIST;
		span = w;
		break;
	case SW_FN_RATE:
		flags = SW_EVAL_NEED_CTR;
		span = w + SW_EVAL_LOOKBACK_MS;
		break;
	case SW_FN_DELTA:
		span = w + SW_EVAL_LOOKBACK_MS;
		break;
	case SW_FN_ERRORS:
		memset(&n, 0, sizeof(n));
		n.target = e->arg[0]->target;
		n.metric = "up";
		n.labels = "";
		n.unit = SW_UNIT_NONE;
		n.unit_known = 1;
		n.flags = SW_EVAL_NEED_RAW;
		n.span_ms = w;
		return nd->cb(&n, nd->arg);
	case SW_FN_HISTOGRAM_QUANTILE:
		return need_series(nd, e->series, SW_EVAL_NEED_HISTSEL,
		    w + SW_EVAL_LOOKBACK_MS);
	case SW_FN_SLOPE:
	case SW_FN_DOUBLING:
	case SW_FN_FORECAST:
	case SW_FN_TIME_TO:
		/* the per-lifetime view looks back max(4 w, 1 d), <= 7 d */
		span = 4 * w;
		if (span < 86400000LL)
			span = 86400000LL;
		if (span > 7 * 86400000LL)
			span = 7 * 86400000LL;
		if (span < w)
			span = w;
		if (e->series->unit == SW_UNIT_SECONDS)
			flags |= SW_EVAL_NEED_HIST;
		break;
	case SW_FN_ANOMALY:
		span = w + e->extra_ms;
		if (e->series->unit == SW_UNIT_SECONDS)
			flags |= SW_EVAL_NEED_HIST;
		break;
	default:
		span = w;
		break;
	}
	if (e->series != NULL &&
	    (rc = need_series(nd, e->series, flags, span)) != 0)
		return rc;
	/* time_to's limit, and any other expression argument */
	for (i = 0; i < e->nargs; i++)
		if (e->arg[i] != e->series &&
		    e->arg[i]->kind != SW_EXPR_NUMBER &&
		    e->arg[i]->kind != SW_EXPR_TARGET &&
		    (rc = needs_walk(nd, e->arg[i])) != 0)
			return rc;
	return 0;
}

int
sw_eval_needs(const struct sw_expr *e, sw_eval_need_cb cb, void *arg)
{
	struct needs	nd;

	nd.cb = cb;
	nd.arg = arg;
	return needs_walk(&nd, e);
}
