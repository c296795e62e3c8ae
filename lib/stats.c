#include "config.h"
/*
 * stats.c: robust trend, quantile and histogram arithmetic for the rules.
 *
 * Invariants: every function is pure (no globals, no I/O) and deterministic;
 * non-finite inputs are skipped before any arithmetic, so comparisons inside
 * the selection routines are on a total order; order statistics come from a
 * three-way quickselect (median-of-three pivot, insertion sort for short
 * ranges, qsort fallback past a depth limit: O(n) expected, O(n log n)
 * worst); memory is the caller's scratch unless the caller passed NULL.
 * Depends only on libc, libm and err.h.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slopewatch/err.h"
#include "slopewatch/stats.h"

/* ---- selection ---------------------------------------------------------- */

static int
dbl_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
dbl_swap(double *a, double *b)
{
	double	tmp = *a;

	*a = *b;
	*b = tmp;
}

/*
 * Rearranges x[0..n) so that x[k] holds the k-th smallest value (0-based),
 * with x[i] <= x[k] for i < k and x[i] >= x[k] for i > k. Values are finite
 * or infinite, never NaN. Hoare partition around the median of three
 * (sorted in place, so both scans stop inside the range and both parts are
 * non-empty), equal keys split evenly; qsort past a depth limit.
 */
static void
select_k(double *x, size_t n, size_t k)
{
	size_t	lo = 0, hi = n, i, j, mid;
	int	depth = 16;
	double	p;

	for (i = n; i > 1; i >>= 1)
		depth += 2;
	while (hi - lo > 16) {
		if (depth-- == 0) {
			qsort(x + lo, hi - lo, sizeof(*x), dbl_cmp);
			return;
		}
		mid = lo + (hi - lo) / 2;
		if (x[mid] < x[lo])
			dbl_swap(&x[mid], &x[lo]);
		if (x[hi - 1] < x[mid]) {
			dbl_swap(&x[hi - 1], &x[mid]);
			if (x[mid] < x[lo])
				dbl_swap(&x[mid], &x[lo]);
		}
		p = x[mid];
		i = lo;
		j = hi - 1;
		/* x[lo] <= p <= x[hi-1]: the first scans stop at mid at
		 * the latest */
		for (;;) {
			while (x[i] < p)
				i++;
			while (x[j] > p)
				j--;
			if (i >= j)
				break;
			dbl_swap(&x[i], &x[j]);
			i++;
			j--;
		}
		/* now x[lo..j] <= p <= x[j+1..hi) */
		if (k <= j)
			hi = j + 1;
		else
			lo = j + 1;
	}
	for (i = lo + 1; i < hi; i++)
		for (j = i; j > lo && x[j - 1] > x[j]; j--)
			dbl_swap(&x[j - 1], &x[j]);
}

/* The k-th smallest of x[0..n) (reorders x). */
static double
kth(double *x, size_t n, size_t k)
{
	select_k(x, n, k);
	return x[k];
}

/* After select_k(x, n, k): the smallest value of x[k+1..n). */
static double
min_after(const double *x, size_t n, size_t k)
{
	double	m = x[k + 1];
	size_t	i;

	for (i = k + 2; i < n; i++)
		if (x[i] < m)
			m = x[i];
	return m;
}

/* Median of x[0..n), n > 0 (reorders x); even n averages the middle two. */
static double
median_inplace(double *x, size_t n)
{
	double	hi, lo;
	size_t	i, k = n / 2;

	hi = kth(x, n, k);
	if (n % 2 == 1)
		return hi;
	lo = x[0];
	for (i = 1; i < k; i++)
		if (x[i] > lo)
			lo = x[i];
	return lo / 2 + hi / 2;
}

/* Copies the finite values of x into dst; returns how many. */
static size_t
copy_finite(double *dst, const double *x, size_t n)
{
	size_t	i, m = 0;

	for (i = 0; i < n; i++)
		if (isfinite(x[i]))
			dst[m++] = x[i];
	return m;
}

/* ---- Theil-Sen and Mann-Kendall ----------------------------------------- */

static void
trend_clear(struct sw_trend *out)
{
	out->ok = 0;
	out->n = 0;
	out->npairs = 0;
	out->slope = out->slope_lo = out->slope_hi = NAN;
	out->intercept = NAN;
	out->s = 0;
	out->var_s = 0;
	out->z = 0;
}

static int
point_ok(const double *t, const double *y, size_t i, double tmin)
{
	return isfinite(t[i]) && isfinite(y[i]) && t[i] >= tmin;
}

/*
 * The shared Theil-Sen / Mann-Kendall core over the finite points with
 * t >= tmin, pairing only points of the same segment when seg is set.
 * scratch holds at least max(N, n) doubles.
 */
static int
theilsen_core(const double *t, const double *y, const uint32_t *seg, size_t n,
    double tmin, double z, struct sw_trend *out, double *scratch)
{
	size_t	i, j, m = 0, np = 0, lo, hi, k;
	double	s = 0, var = 0, dt, dy, c, beta, tie, grp, half, d;
	long	mi, gi;

	trend_clear(out);
	/*
	 * With c = the number of later points of the same segment (resp. of
	 * the same segment and equal y), the terms 6c(c+2) of a group's
	 * members add up to its g(g-1)(2g+5): Var(S) needs no group table.
	 */
	for (i = 0; i < n; i++) {
		if (!point_ok(t, y, i, tmin))
			continue;
		m++;
		mi = 0;
		gi = 0;
		for (j = i + 1; j < n; j++) {
			if (!point_ok(t, y, j, tmin) ||
			    (seg != NULL && seg[i] != seg[j]))
				continue;
			mi++;
			dy = y[j] - y[i];
			if (dy == 0)
				gi++;
			dt = t[j] - t[i];
			if (dt == 0)
				continue;
			scratch[np++] = dy / dt;
			if (dy != 0)
				s += ((dy > 0) == (dt > 0)) ? 1 : -1;
		}
		grp = 6 * (double)mi * (double)(mi + 2);
		tie = 6 * (double)gi * (double)(gi + 2);
		var += grp - tie;
	}
	out->n = m;
	out->npairs = np;
	out->s = s;
	out->var_s = var / 18;
	if (out->var_s > 0) {
		if (s > 0)
			out->z = (s - 1) / sqrt(out->var_s);
		else if (s < 0)
			out->z = (s + 1) / sqrt(out->var_s);
	}
	if (np == 0)
		return -1;

	c = z * sqrt(out->var_s);
	if (!isfinite(c) || c < 0)
		c = 0;
	half = floor((np - c) / 2) - 1;
	lo = half < 0 ? 0 : (size_t)half;
	half = ceil((np + c) / 2);
	hi = half > (double)(np - 1) ? np - 1 : (size_t)half;
	k = np / 2;
	if (lo > k)
		lo = k;
	if (hi < k)
		hi = k;
	/* lo <= k <= hi: each selection narrows the next one's range */
	select_k(scratch, np, lo);
	out->slope_lo = scratch[lo];
	select_k(scratch + lo, np - lo, k - lo);
	beta = scratch[k];
	if (np % 2 == 0) {
		/* the lower middle, the largest of [0, k): nothing in
		 * [0, lo) exceeds scratch[lo] */
		j = k > lo ? lo : 0;
		d = scratch[j];
		for (; j < k; j++)
			if (scratch[j] > d)
				d = scratch[j];
		beta = d / 2 + beta / 2;
	}
	select_k(scratch + k, np - k, hi - k);
	out->slope_hi = scratch[hi];
	out->slope = beta;

	m = 0;
	for (i = 0; i < n; i++) {
		if (!point_ok(t, y, i, tmin))
			continue;
		d = y[i] - beta * t[i];
		if (isfinite(d))	/* not with an overflowing slope */
			scratch[m++] = d;
	}
	out->intercept = m > 0 ? median_inplace(scratch, m) : NAN;
	out->ok = out->n >= SW_STATS_MIN_POINTS;
	return 0;
}

static int
theilsen_run(const double *t, const double *y, const uint32_t *seg, size_t n,
    double tmin, double z, struct sw_trend *out, double *scratch)
{
	double	*own = NULL;
	int	 rc;

	if (out == NULL)
		return -1;
	if (t == NULL || y == NULL) {
		trend_clear(out);
		return -1;
	}
	if (scratch == NULL) {
		if (n > SW_STATS_THEILSEN_MAX) {
			trend_clear(out);
			return -1;
		}
		own = malloc((SW_STATS_THEILSEN_SCRATCH(n) + 1) * sizeof(*own));
		if (own == NULL) {
			trend_clear(out);
			return -1;
		}
		scratch = own;
	}
	rc = theilsen_core(t, y, seg, n, tmin, z, out, scratch);
	free(own);
	return rc;
}

int
sw_stats_theilsen(const double *t, const double *y, size_t n, double z,
    struct sw_trend *out, double *scratch)
{
	return theilsen_run(t, y, NULL, n, -INFINITY, z, out, scratch);
}

int
sw_stats_theilsen_blocked(const double *t, const double *y,
    const uint32_t *seg, size_t n, double z, struct sw_trend *out,
    double *scratch)
{
	return theilsen_run(t, y, seg, n, -INFINITY, z, out, scratch);
}

double
sw_stats_decel_ratio(const double *t, const double *y, size_t n,
    const struct sw_trend *full, double *scratch)
{
	struct sw_trend	 whole, half;
	double		 tmin = INFINITY, tmax = -INFINITY, *own = NULL;
	double		 ratio = NAN;
	size_t		 i;

	if (t == NULL || y == NULL)
		return NAN;
	for (i = 0; i < n; i++) {
		if (!point_ok(t, y, i, -INFINITY))
			continue;
		if (t[i] < tmin)
			tmin = t[i];
		if (t[i] > tmax)
			tmax = t[i];
	}
	if (!(tmax > tmin))
		return NAN;
	if (scratch == NULL) {
		if (n > SW_STATS_THEILSEN_MAX)
			return NAN;
		own = malloc((SW_STATS_THEILSEN_SCRATCH(n) + 1) * sizeof(*own));
		if (own == NULL)
			return NAN;
		scratch = own;
	}
	if (full == NULL) {
		theilsen_core(t, y, NULL, n, -INFINITY, SW_STATS_Z99, &whole,
		    scratch);
		full = &whole;
	}
	if (!full->ok || !isfinite(full->slope) || !(full->slope > 0))
		goto out;
	theilsen_core(t, y, NULL, n, tmin + (tmax - tmin) / 2, SW_STATS_Z99,
	    &half, scratch);
	if (half.ok)
		ratio = half.slope / full->slope;
out:
	free(own);
	return ratio;
}

/* ---- Prometheus OLS ----------------------------------------------------- */

/* Neumaier's compensated sum, as Prometheus's kahanSumInc. */
static void
kahan_inc(double inc, double *sum, double *c)
{
	double	t = *sum + inc;

	if (isinf(t))
		*c = 0;
	else if (fabs(*sum) >= fabs(inc))
		*c += (*sum - t) + inc;
	else
		*c += (inc - t) + *sum;
	*sum = t;
}

int
sw_stats_ols(const double *t, const double *y, size_t n, double t0,
    double *slope, double *intercept)
{
	double	cnt = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0;
	double	sx2 = 0, cx2 = 0, x, y0 = 0, x0 = 0, b, a, cov, varx;
	int	consty = 1, constx = 1;
	size_t	i;

	if (slope != NULL)
		*slope = NAN;
	if (intercept != NULL)
		*intercept = NAN;
	if (t == NULL || y == NULL || !isfinite(t0))
		return -1;
	for (i = 0; i < n; i++) {
		if (!point_ok(t, y, i, -INFINITY))
			continue;
		x = t[i] - t0;
		if (cnt == 0) {
			y0 = y[i];
			x0 = x;
		} else {
			if (y[i] != y0)
				consty = 0;
			if (x != x0)
				constx = 0;
		}
		cnt += 1;
		kahan_inc(x, &sx, &cx);
		kahan_inc(y[i], &sy, &cy);
		kahan_inc(x * y[i], &sxy, &cxy);
		kahan_inc(x * x, &sx2, &cx2);
	}
	if (cnt < 2)
		return -1;
	if (consty) {
		b = 0;
		a = y0;
	} else {
		if (constx)
			return -1;
		sx += cx;
		sy += cy;
		sxy += cxy;
		sx2 += cx2;
		cov = sxy - sx * sy / cnt;
		varx = sx2 - sx * sx / cnt;
		b = cov / varx;
		a = sy / cnt - b * sx / cnt;
		if (!isfinite(b) || !isfinite(a))
			return -1;
	}
	if (slope != NULL)
		*slope = b;
	if (intercept != NULL)
		*intercept = a;
	return 0;
}

double
sw_stats_predict_linear(const double *t, const double *y, size_t n,
    double t_eval, double horizon)
{
	double	b, a;

	if (sw_stats_ols(t, y, n, t_eval, &b, &a) == -1)
		return NAN;
	return a + b * horizon;
}

/* ---- quantiles, median, MAD, robust z ----------------------------------- */

/* Prometheus's quantile() on m finite values in x (reorders x). */
static double
quantile_inplace(double phi, double *x, size_t m)
{
	double	rank, w, lo, hi;
	size_t	k;

	if (m == 0 || isnan(phi))
		return NAN;
	if (phi < 0)
		return -INFINITY;
	if (phi > 1)
		return INFINITY;
	rank = phi * (double)(m - 1);
	k = (size_t)floor(rank);
	if (k > m - 1)
		k = m - 1;
	w = rank - floor(rank);
	lo = kth(x, m, k);
	if (k + 1 >= m || w == 0)
		return lo;
	hi = min_after(x, m, k);
	return lo * (1 - w) + hi * w;
}

double
sw_stats_quantile(double phi, const double *x, size_t n, double *scratch)
{
	double	*own = NULL, r;
	size_t	 m;

	if (x == NULL)
		return NAN;
	if (scratch == NULL && n > 0) {
		if ((own = malloc(n * sizeof(*own))) == NULL)
			return NAN;
		scratch = own;
	}
	m = copy_finite(scratch, x, n);
	r = quantile_inplace(phi, scratch, m);
	free(own);
	return r;
}

double
sw_stats_median(const double *x, size_t n, double *scratch)
{
	return sw_stats_quantile(0.5, x, n, scratch);
}

double
sw_stats_mad(const double *x, size_t n, double *scratch, double *median)
{
	double	*own = NULL, med = NAN, mad = NAN;
	size_t	 m, i;

	if (median != NULL)
		*median = NAN;
	if (x == NULL)
		return NAN;
	if (scratch == NULL && n > 0) {
		if ((own = malloc(n * sizeof(*own))) == NULL)
			return NAN;
		scratch = own;
	}
	m = copy_finite(scratch, x, n);
	if (m > 0) {
		med = quantile_inplace(0.5, scratch, m);
		for (i = 0; i < m; i++)
			scratch[i] = fabs(scratch[i] - med);
		mad = quantile_inplace(0.5, scratch, m);
	}
	if (median != NULL)
		*median = med;
	free(own);
	return mad;
}

double
sw_stats_robust_sigma(double median, double mad, double floor_)
{
	double	s;

	if (isnan(median) || isnan(mad) || isnan(floor_))
		return NAN;
	s = 1.4826 * mad;
	if (0.05 * fabs(median) > s)
		s = 0.05 * fabs(median);
	if (floor_ > s)
		s = floor_;
	return s;
}

double
sw_stats_robust_z(double x, double median, double mad, double floor_)
{
	double	s = sw_stats_robust_sigma(median, mad, floor_);

	if (isnan(x) || isnan(s) || !(s > 0))
		return NAN;
	return (x - median) / s;
}

int
sw_stats_anomaly(const double *recent, size_t n_recent, const double *base,
    size_t n_base, double floor_, struct sw_anomaly *out, double *scratch)
{
	double	*own = NULL;
	size_t	 need;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	out->recent = out->center = out->mad = out->sigma = out->z = NAN;
	if (recent == NULL)
		n_recent = 0;
	if (base == NULL)
		n_base = 0;
	need = n_recent > n_base ? n_recent : n_base;
	if (scratch == NULL && need > 0) {
		if ((own = malloc(need * sizeof(*own))) == NULL)
			return -1;
		scratch = own;
	}
	out->n_recent = copy_finite(scratch, recent, n_recent);
	out->recent = quantile_inplace(0.5, scratch, out->n_recent);
	out->n_base = copy_finite(scratch, base, n_base);
	if (out->n_base > 0)
		out->mad = sw_stats_mad(base, n_base, scratch, &out->center);
	out->sigma = sw_stats_robust_sigma(out->center, out->mad, floor_);
	out->z = sw_stats_robust_z(out->recent, out->center, out->mad, floor_);
	out->ok = out->n_recent >= 1 &&
	    out->n_base >= SW_STATS_ANOMALY_MIN_BASE && !isnan(out->z);
	free(own);
	return 0;
}

/* ---- Prometheus histogram_quantile (classic buckets) -------------------- */

struct cbucket {
	double	le;
	double	count;
};

/* Prometheus's almost.Equal with epsilon 1e-12. */
static int
almost_equal(double a, double b)
{
	double	abssum, diff;

	if (a == b)
		return 1;
	abssum = fabs(a) + fabs(b);
	diff = fabs(a - b);
	if (a == 0 || b == 0 || abssum < DBL_MIN)
		return diff < 1e-12 * DBL_MIN;
	return diff / (abssum < DBL_MAX ? abssum : DBL_MAX) < 1e-12;
}

double
sw_stats_histogram_quantile(double q, const double *le, const double *counts,
    size_t n)
{
	struct cbucket	 b[SW_STATS_HISTOGRAM_BUCKETS_MAX], tmp;
	size_t		 m = 0, k, i, j;
	double		 prev, obs, rank, start, count;

	if (isnan(q) || le == NULL || counts == NULL)
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	if (n > SW_STATS_HISTOGRAM_BUCKETS_MAX)
		return NAN;
	for (i = 0; i < n; i++) {
		if (isnan(le[i]) || !isfinite(counts[i]))
			continue;
		b[m].le = le[i];
		b[m].count = counts[i];
		m++;
	}
	/* sort by upper bound (insertion: classic histograms are short) */
	for (i = 1; i < m; i++)
		for (j = i; j > 0 && b[j - 1].le > b[j].le; j--) {
			tmp = b[j - 1];
			b[j - 1] = b[j];
			b[j] = tmp;
		}
	if (m == 0 || !(isinf(b[m - 1].le) && b[m - 1].le > 0))
		return NAN;
	/* coalesce equal bounds */
	k = 0;
	for (i = 1; i < m; i++) {
		if (b[i].le == b[k].le)
			b[k].count += b[i].count;
		else
			b[++k] = b[i];
	}
	m = k + 1;
	/* monotonic fix-up: ignore tiny differences and decreases */
	prev = b[0].count;
	for (i = 1; i < m; i++) {
		if (b[i].count == prev)
			continue;
		if (almost_equal(prev, b[i].count) || b[i].count < prev) {
			b[i].count = prev;
			continue;
		}
		prev = b[i].count;
	}
	if (m < 2)
		return NAN;
	obs = b[m - 1].count;
	if (obs == 0)
		return NAN;
	rank = q * obs;
	/* first bucket (among all but +Inf) with count >= rank */
	for (k = 0; k < m - 1 && b[k].count < rank; k++)
		;
	if (k == m - 1)
		return b[m - 2].le;
	if (k == 0 && b[0].le <= 0)
		return b[0].le;
	start = 0;
	count = b[k].count;
	if (k > 0) {
		start = b[k - 1].le;
		count -= b[k - 1].count;
		rank -= b[k - 1].count;
	}
	return start + (b[k].le - start) * (rank / count);
}

/* ---- log-bucket histogram ----------------------------------------------- */

/* Indexes of the smallest subnormal and of DBL_MAX, with margin. */
#define LOGHIST_IDX_MIN	(-64 * 1075)
#define LOGHIST_IDX_MAX	(64 * 1025)

void
sw_loghist_init(struct sw_loghist *h, uint32_t maxbins)
{
	memset(h, 0, sizeof(*h));
	if (maxbins < 2)
		maxbins = 2;
	if (maxbins > SW_LOGHIST_BINS_LIMIT)
		maxbins = SW_LOGHIST_BINS_LIMIT;
	h->max = maxbins;
}

void
sw_loghist_release(struct sw_loghist *h)
{
	if (h == NULL)
		return;
	free(h->bins);
	h->bins = NULL;
	h->nbins = h->cap = 0;
	h->zero = h->count = h->collapsed = 0;
}

void
sw_loghist_reset(struct sw_loghist *h)
{
	h->nbins = 0;
	h->zero = h->count = h->collapsed = 0;
}

int32_t
sw_loghist_index(double x)
{
	double	l;

	if (!(x > 0) || !isfinite(x))
		return 0;
	l = ceil(64 * log2(x));
	if (l < LOGHIST_IDX_MIN)
		return LOGHIST_IDX_MIN;
	if (l > LOGHIST_IDX_MAX)
		return LOGHIST_IDX_MAX;
	return (int32_t)l;
}

double
sw_loghist_value(int32_t idx)
{
	int32_t	q, r;

	/* 2 gamma^i / (gamma + 1) = 2^q * 2^(r/64) * 2 / (gamma + 1) */
	q = idx >= 0 ? idx / 64 : -((-idx + 63) / 64);
	r = idx - q * 64;
	return ldexp(exp2(r / 64.0) * 2 / (SW_LOGHIST_GAMMA + 1), q);
}

static uint32_t
sat_add32(uint32_t a, uint64_t b)
{
	uint64_t	s = (uint64_t)a + b;

	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* First bin with idx >= i. */
static uint32_t
bin_search(const struct sw_loghist *h, int32_t i)
{
	uint32_t	lo = 0, hi = h->nbins, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (h->bins[mid].idx < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Adds cnt (> 0) values to bin i, growing or collapsing. */
static int
bin_add(struct sw_loghist *h, int32_t i, uint64_t cnt)
{
	struct sw_loghist_bin	*nb;
	uint32_t		 pos, ncap;

	pos = bin_search(h, i);
	if (pos < h->nbins && h->bins[pos].idx == i) {
		h->bins[pos].n = sat_add32(h->bins[pos].n, cnt);
		goto counted;
	}
	if (h->nbins == h->max) {
		/* collapse lowest: below the lowest bin, or merge the two
		 * lowest bins into the higher one */
		if (pos == 0) {
			h->bins[0].n = sat_add32(h->bins[0].n, cnt);
			h->collapsed += cnt;
			goto counted;
		}
		h->bins[1].n = sat_add32(h->bins[1].n, h->bins[0].n);
		h->collapsed += h->bins[0].n;
		memmove(&h->bins[0], &h->bins[1],
		    (h->nbins - 1) * sizeof(h->bins[0]));
		h->nbins--;
		pos--;	/* i is still absent: insert it at pos */
	}
	if (h->nbins == h->cap) {
		ncap = h->cap == 0 ? 4 : h->cap * 2;
		if (ncap > h->max)
			ncap = h->max;
		nb = realloc(h->bins, ncap * sizeof(*nb));
		if (nb == NULL)
			return -1;
		h->bins = nb;
		h->cap = ncap;
	}
	memmove(&h->bins[pos + 1], &h->bins[pos],
	    (h->nbins - pos) * sizeof(h->bins[0]));
	h->bins[pos].idx = i;
	h->bins[pos].n = cnt > UINT32_MAX ? UINT32_MAX : (uint32_t)cnt;
	h->nbins++;
counted:
	h->count += cnt;
	return 0;
}

int
sw_loghist_add(struct sw_loghist *h, double x)
{
	if (!isfinite(x))
		return -1;
	if (x <= 0) {
		h->zero++;
		h->count++;
		return 0;
	}
	return bin_add(h, sw_loghist_index(x), 1);
}

int
sw_loghist_merge(struct sw_loghist *dst, const struct sw_loghist *src)
{
	uint32_t	i;

	dst->zero += src->zero;
	dst->count += src->zero;
	dst->collapsed += src->collapsed;
	for (i = 0; i < src->nbins; i++)
		if (bin_add(dst, src->bins[i].idx, src->bins[i].n) == -1)
			return -1;
	return 0;
}

uint64_t
sw_loghist_count(const struct sw_loghist *h)
{
	return h->count;
}

/* The estimate of the value of 0-based rank r (r < count). */
static double
rank_value(const struct sw_loghist *h, uint64_t r, uint32_t *pos,
    uint64_t *seen)
{
	if (r < h->zero)
		return 0;
	while (*pos < h->nbins && *seen + h->bins[*pos].n <= r) {
		*seen += h->bins[*pos].n;
		(*pos)++;
	}
	if (*pos >= h->nbins)	/* saturated counts: the top bin */
		return h->nbins > 0 ? sw_loghist_value(h->bins[h->nbins - 1].idx)
		    : 0;
	return sw_loghist_value(h->bins[*pos].idx);
}

double
sw_loghist_quantile(const struct sw_loghist *h, double phi)
{
	double		 rank, w, lo, hi;
	uint64_t	 k, seen;
	uint32_t	 pos;

	if (h == NULL || h->count == 0 || isnan(phi))
		return NAN;
	if (phi < 0)
		return -INFINITY;
	if (phi > 1)
		return INFINITY;
	rank = phi * (double)(h->count - 1);
	k = (uint64_t)floor(rank);
	if (k > h->count - 1)
		k = h->count - 1;
	w = rank - floor(rank);
	pos = 0;
	seen = h->zero;
	lo = rank_value(h, k, &pos, &seen);
	if (w == 0 || k + 1 >= h->count)
		return lo;
	hi = rank_value(h, k + 1, &pos, &seen);
	return lo * (1 - w) + hi * w;
}

static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t	n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Reads a LEB128 varint of at most 10 bytes; -1 if truncated/over-long. */
static int
get_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
	uint64_t	r = 0;
	unsigned	shift = 0;
	uint8_t		b;

	for (;;) {
		if (*off >= len || shift > 63)
			return -1;
		b = p[(*off)++];
		if (shift == 63 && (b & 0x7e) != 0)
			return -1;	/* more than 64 bits */
		r |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			break;
		shift += 7;
	}
	*v = r;
	return 0;
}

int
sw_loghist_encode(const struct sw_loghist *h, uint8_t *dst, size_t dstsz,
    size_t *len)
{
	uint8_t		tmp[20];
	size_t		n = 0, k;
	int64_t		prev = 0, d;
	uint64_t	zz;
	uint32_t	i;

	if (h == NULL || dst == NULL)
		return -1;
	if (dstsz < 1)
		return -1;
	dst[n++] = SW_LOGHIST_SCHEMA;
	k = put_varint(tmp, h->zero);
	k += put_varint(tmp + k, h->nbins);
	if (n + k > dstsz)
		return -1;
	memcpy(dst + n, tmp, k);
	n += k;
	for (i = 0; i < h->nbins; i++) {
		d = (int64_t)h->bins[i].idx - prev;
		prev = h->bins[i].idx;
		zz = ((uint64_t)d << 1) ^ (d < 0 ? UINT64_MAX : 0);
		k = put_varint(tmp, zz);
		k += put_varint(tmp + k, h->bins[i].n);
		if (n + k > dstsz)
			return -1;
		memcpy(dst + n, tmp, k);
		n += k;
	}
	if (len != NULL)
		*len = n;
	return 0;
}

int
sw_loghist_decode(struct sw_loghist *h, const uint8_t *src, size_t len,
    struct sw_err *err)
{
	uint64_t	zero, nbins, zz, cnt, i;
	int64_t		idx = 0, d;
	size_t		off = 0, at;

	sw_loghist_reset(h);
	if (src == NULL || len < 1)
		return sw_err_set(err, "histogram: empty blob");
	if (src[0] != SW_LOGHIST_SCHEMA) {
		return sw_err_set(err, "histogram: byte 0: schema %u, want %d",
		    src[0], SW_LOGHIST_SCHEMA);
	}
	off = 1;
	if (get_varint(src, len, &off, &zero) == -1) {
		sw_err_set(err, "histogram: byte %zu: bad zero count", off);
		goto fail;
	}
	at = off;
	if (get_varint(src, len, &off, &nbins) == -1) {
		sw_err_set(err, "histogram: byte %zu: bad bin count", at);
		goto fail;
	}
	if (nbins > h->max) {
		sw_err_set(err, "histogram: byte %zu: %llu bins, at most %u",
		    at, (unsigned long long)nbins, h->max);
		goto fail;
	}
	/* every bin takes at least 2 bytes: refuse before any allocation */
	if (nbins > (len - off) / 2) {
		sw_err_set(err, "histogram: byte %zu: %llu bins in %zu bytes",
		    at, (unsigned long long)nbins, len - off);
		goto fail;
	}
	h->zero = zero;
	h->count = zero;
	for (i = 0; i < nbins; i++) {
		at = off;
		if (get_varint(src, len, &off, &zz) == -1) {
			sw_err_set(err, "histogram: byte %zu: bad index", at);
			goto fail;
		}
		d = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
		if ((i > 0 && d <= 0) || d < LOGHIST_IDX_MIN - LOGHIST_IDX_MAX ||
		    d > LOGHIST_IDX_MAX - LOGHIST_IDX_MIN ||
		    idx + d < LOGHIST_IDX_MIN || idx + d > LOGHIST_IDX_MAX) {
			sw_err_set(err, "histogram: byte %zu: bad index delta",
			    at);
			goto fail;
		}
		idx += d;
		at = off;
		if (get_varint(src, len, &off, &cnt) == -1 || cnt == 0 ||
		    cnt > UINT32_MAX) {
			sw_err_set(err, "histogram: byte %zu: bad bin count",
			    at);
			goto fail;
		}
		if (h->count + cnt < h->count) {
			sw_err_set(err, "histogram: byte %zu: count overflow",
			    at);
			goto fail;
		}
		if (bin_add(h, (int32_t)idx, cnt) == -1) {
			sw_err_sys(err, ENOMEM, "histogram");
			goto fail;
		}
	}
	if (off != len) {
		sw_err_set(err, "histogram: byte %zu: %zu trailing bytes", off,
		    len - off);
		goto fail;
	}
	return 0;
fail:
	sw_loghist_reset(h);
	return -1;
}
