/*
 * stats.h: the numeric core of the rules. Pure, deterministic functions on
 * caller arrays: no I/O, no globals, no allocation unless a scratch pointer
 * is NULL (then the function mallocs and frees its own, and may fail with
 * -1 / NaN when memory is short).
 *
 * Units. The functions are unit-agnostic: t is whatever the caller passes
 * and slopes come out per unit of t. slopewatch passes t in seconds (unix
 * seconds as a double, or seconds since an origin the caller chose), so
 * slopes are per second in base units (bytes/s, s/s); rules multiply by
 * 86400 for "per day". Values are base units (seconds, bytes).
 *
 * Non-finite input. NaN and +-Inf points (in t or y) are skipped everywhere
 * and never crash or poison a result; n counts only the finite points used.
 * This deliberately differs from Prometheus, which propagates NaN/Inf.
 *
 * Estimators (see shared notes TREND.md, sections 2.2, 2.3, 3.2, 3.4, 4.2, 5.3):
 *   Theil-Sen slope (median of pairwise slopes) with the Mann-Kendall S,
 *   Var(S) with tie correction, Z, and the Sen (1968) / Gilbert (1987)
 *   distribution-free confidence interval; a blocked (seasonal Kendall)
 *   variant over segments; the deceleration guard; Prometheus-compatible
 *   OLS (deriv / predict_linear), quantile_over_time and histogram_quantile;
 *   median, MAD and a robust z; and a log-bucket histogram (DDSketch /
 *   Prometheus native-histogram schema 6) with a compact binary encoding.
 */
#ifndef SW_STATS_H
#define SW_STATS_H

#include <stddef.h>
#include <stdint.h>

struct sw_err;

/* Fewer finite points than this: no trend verdict (sw_trend.ok = 0). */
#define SW_STATS_MIN_POINTS	4
/* z_{1-alpha/2} for alpha = 0.01, the default confidence of the CI. */
#define SW_STATS_Z99		2.576
/* Largest n the Theil-Sen functions accept when they allocate their own
 * scratch (scratch == NULL): 1024 points = 523,776 slopes = 4 MiB. With
 * caller scratch there is no limit but the caller's memory. */
#define SW_STATS_THEILSEN_MAX	1024
/* Doubles of scratch the Theil-Sen functions need for n points:
 * max(n(n-1)/2, n). */
#define SW_STATS_THEILSEN_SCRATCH(n) \
	((n) < 3 ? (size_t)(n) : (size_t)(n) * ((size_t)(n) - 1) / 2)

/* A robust trend fit y = intercept + slope * t. */
struct sw_trend {
	int	ok;		/* 1: n >= SW_STATS_MIN_POINTS and a slope exists */
	size_t	n;		/* finite points used */
	size_t	npairs;		/* pairwise slopes (pairs with distinct t) */
	double	slope;		/* beta, median pairwise slope (per unit t) */
	double	slope_lo;	/* lower confidence bound of beta */
	double	slope_hi;	/* upper confidence bound of beta */
	double	intercept;	/* median(y - beta * t): the fit's value at t = 0 */
	double	s;		/* Mann-Kendall S = sum sign(dy) * sign(dt) */
	double	var_s;		/* Var(S), tie corrected */
	double	z;		/* MK Z: (S-1)/sqrt(Var) S>0, (S+1)/sqrt(Var) S<0, 0 */
};

/*
 * Theil-Sen slope with Mann-Kendall statistics and confidence interval.
 * t, y: n points in any order. z: the normal quantile of the two-sided CI
 * (SW_STATS_Z99 for alpha = 0.01). scratch: SW_STATS_THEILSEN_SCRATCH(n)
 * doubles of caller memory (no allocation), or NULL to allocate (then n must
 * be <= SW_STATS_THEILSEN_MAX).
 *
 * beta is the median of the N pairwise slopes (pairs with equal t are
 * skipped; an even N averages the two middle slopes). The CI uses
 * C = z * sqrt(Var(S)) and Gilbert's ranks M1 = (N - C)/2, M2 = (N + C)/2
 * (1-based: lower = M1-th, upper = (M2+1)-th smallest slope), rounded
 * outwards: 0-based lower rank floor((N - C)/2) - 1, upper rank
 * ceil((N + C)/2), clamped to [0, N-1]. The two ranks are symmetric
 * (lower = N - 1 - upper). TREND.md 2.3 writes the lower rank as
 * floor((N - C)/2); that is one rank narrower than Gilbert's M1-th smallest
 * (0-based M1 - 1) and not symmetric with the upper rank, so the
 * symmetric form is used here. Order statistics come from quickselect
 * (three selections, each on the previous one's remainder; no sort).
 * Var(S) = [n(n-1)(2n+5) - sum_g g(g-1)(2g+5)] / 18 over groups g of equal y.
 *
 * Returns 0 when a slope was estimated (at least two finite points with
 * distinct t); out->ok is then 1 iff n >= SW_STATS_MIN_POINTS. Returns -1
 * (out filled with NaN, ok = 0, n and S set) when no slope exists, when out
 * is NULL, or when scratch is NULL and allocation fails or n is too large.
 * Cost O(n^2) time; n = 144 is about 0.1 ms.
 */
int	sw_stats_theilsen(const double *t, const double *y, size_t n, double z,
	    struct sw_trend *out, double *scratch);

/*
 * Blocked Theil-Sen (the seasonal Kendall / Sen construction, TREND 2.3
 * step 7): seg[i] is point i's segment (process instance). Slopes and S use
 * only pairs within one segment; Var(S) is summed over segments, each with
 * its own tie correction. Everything else as sw_stats_theilsen (scratch
 * size, return, ok). seg may be NULL (one segment).
 */
int	sw_stats_theilsen_blocked(const double *t, const double *y,
	    const uint32_t *seg, size_t n, double z, struct sw_trend *out,
	    double *scratch);

/*
 * Deceleration guard (TREND 2.3 step 3): the Theil-Sen slope of the most
 * recent half of the window (points with t >= (tmin + tmax) / 2) divided by
 * the slope of the whole window. A linear leak gives ~1, an exponential one
 * > 1, a warm-up or a cache filling to its cap < 0.75. full is the whole
 * window's fit if the caller has it (NULL: computed here). scratch as
 * sw_stats_theilsen for n (NULL allocates). Returns NaN when the whole-window
 * slope is not > 0 or not finite, when either fit has fewer than
 * SW_STATS_MIN_POINTS points, or when memory is short.
 */
double	sw_stats_decel_ratio(const double *t, const double *y, size_t n,
	    const struct sw_trend *full, double *scratch);

/*
 * Ordinary least squares as Prometheus's linearRegression (deriv,
 * predict_linear): Neumaier/Kahan-compensated sums of x = t - t0; a constant
 * series gives slope 0 and intercept = that value. *intercept is the fitted
 * value at t = t0 (Prometheus passes the first sample time for deriv and the
 * evaluation time for predict_linear; t0 keeps the sums well conditioned).
 * Returns 0, or -1 (outputs NaN) with fewer than 2 finite points or when all
 * t are equal (where Prometheus would return NaN/Inf). slope or intercept
 * may be NULL.
 */
int	sw_stats_ols(const double *t, const double *y, size_t n, double t0,
	    double *slope, double *intercept);

/* Prometheus predict_linear(v, horizon) evaluated at t_eval: OLS with
 * t0 = t_eval, then intercept + slope * horizon. NaN when sw_stats_ols
 * fails. */
double	sw_stats_predict_linear(const double *t, const double *y, size_t n,
	    double t_eval, double horizon);

/*
 * Prometheus quantile_over_time: phi-quantile of the finite x, rank =
 * phi * (n - 1), linear interpolation between the two neighbouring order
 * statistics. phi < 0 gives -Inf, phi > 1 +Inf, NaN phi or n = 0 (after
 * skipping non-finite values) NaN. scratch: n doubles (x is not modified),
 * or NULL to allocate (NaN when memory is short). O(n) expected
 * (quickselect, O(n log n) worst case).
 */
double	sw_stats_quantile(double phi, const double *x, size_t n,
	    double *scratch);
/* sw_stats_quantile(0.5, ...). */
double	sw_stats_median(const double *x, size_t n, double *scratch);
/* Median absolute deviation from the median (unscaled). *median (may be
 * NULL) receives the median. NaN when no finite x. scratch: n doubles or
 * NULL. */
double	sw_stats_mad(const double *x, size_t n, double *scratch,
	    double *median);

/* Robust scale and z (TREND 5.3): sigma = max(1.4826 * mad,
 * 0.05 * |median|, floor) and z = (x - median) / sigma. NaN when an input
 * is NaN or sigma is 0. */
double	sw_stats_robust_sigma(double median, double mad, double floor);
double	sw_stats_robust_z(double x, double median, double mad, double floor);

/* Baseline points below this: no anomaly verdict. */
#define SW_STATS_ANOMALY_MIN_BASE	10

struct sw_anomaly {
	int	ok;		/* n_recent >= 1 and n_base >= ANOMALY_MIN_BASE */
	size_t	n_recent;
	size_t	n_base;
	double	recent;		/* median of the recent window */
	double	center;		/* median of the baseline window */
	double	mad;		/* MAD of the baseline window */
	double	sigma;		/* sw_stats_robust_sigma(center, mad, floor) */
	double	z;		/* (recent - center) / sigma */
};

/*
 * anomaly(x, w, baseline): robust z of the recent window's median against
 * the baseline window's median and MAD. floor is the smallest scale (e.g.
 * 1 ms for latency). scratch: max(n_recent, n_base) doubles or NULL.
 * Returns 0 (out->ok says whether there is enough data), -1 when out is
 * NULL or memory is short (out->z NaN).
 */
int	sw_stats_anomaly(const double *recent, size_t n_recent,
	    const double *base, size_t n_base, double floor,
	    struct sw_anomaly *out, double *scratch);

/* Most buckets sw_stats_histogram_quantile takes (it works on the stack). */
#define SW_STATS_HISTOGRAM_BUCKETS_MAX	512

/*
 * Prometheus histogram_quantile over a classic histogram: le[i] are upper
 * bounds (any order, +Inf required), counts[i] cumulative counts. Buckets
 * with the same le are added (coalesced); decreasing counts are forced
 * monotonic and differences within a relative 1e-12 ignored; linear
 * interpolation inside the bucket; the lowest bucket's lower bound is 0 if
 * its upper bound is > 0 (else its upper bound is returned); a quantile in
 * the +Inf bucket returns the second-highest upper bound. Returns NaN for a
 * NaN q, no +Inf bucket, fewer than 2 buckets, a zero total count, or
 * n > SW_STATS_HISTOGRAM_BUCKETS_MAX; -Inf for q < 0, +Inf for q > 1.
 * Pairs with a NaN le or a non-finite count are skipped.
 */
double	sw_stats_histogram_quantile(double q, const double *le,
	    const double *counts, size_t n);

/*
 * Log-bucket histogram (TREND 4.2; DDSketch with gamma = 2^(1/64), the
 * index scheme of Prometheus native histograms schema 6). A positive x goes
 * to bin i = ceil(64 * log2(x)), which covers (gamma^(i-1), gamma^i] and is
 * estimated by 2 gamma^i / (gamma + 1): every quantile is within
 * SW_LOGHIST_REL_ERROR = (gamma-1)/(gamma+1) ~ 0.5415 % of the exact
 * (interpolated, Prometheus-style) quantile. Values <= 0 go to a dedicated
 * zero bucket (estimate 0; latencies are >= 0). Non-finite values are
 * skipped.
 *
 * Sparse: sorted (index, count) bins, grown on demand up to a cap fixed at
 * init (max bins, <= SW_LOGHIST_BINS_LIMIT). When a new bin would pass the
 * cap, the two lowest bins are merged into the higher one ("collapsing
 * lowest", as DDSketch): high quantiles keep the bound, the lowest ones are
 * overestimated; h->collapsed counts the values moved. Bin counts saturate
 * at UINT32_MAX. Merge adds counts by index, so merged histograms keep the
 * same bound. Memory: 8 bytes per allocated bin plus the struct.
 */
#define SW_LOGHIST_SCHEMA	6
#define SW_LOGHIST_GAMMA	1.0108892860517005	/* 2^(1/64) */
#define SW_LOGHIST_REL_ERROR	0.005415159415902577	/* (g-1)/(g+1) */
#define SW_LOGHIST_BINS_LIMIT	8192

struct sw_loghist_bin {
	int32_t		idx;
	uint32_t	n;
};

struct sw_loghist {
	struct sw_loghist_bin	*bins;		/* sorted by idx, nbins used */
	uint32_t		 nbins;
	uint32_t		 cap;		/* allocated bins */
	uint32_t		 max;		/* most bins ever held */
	uint64_t		 zero;		/* values <= 0 */
	uint64_t		 count;		/* all values, zero bucket included */
	uint64_t		 collapsed;	/* values moved up by the cap */
};

/* Caller storage; nothing allocated until the first add. maxbins is clamped
 * to [2, SW_LOGHIST_BINS_LIMIT]. */
void	sw_loghist_init(struct sw_loghist *h, uint32_t maxbins);
/* Frees the bins; h may be reused after sw_loghist_init. */
void	sw_loghist_release(struct sw_loghist *h);
/* Empties h, keeping its allocation and cap. */
void	sw_loghist_reset(struct sw_loghist *h);
/* Adds one value. 0, or -1 if x is not finite (skipped) or memory is short
 * (h unchanged). */
int	sw_loghist_add(struct sw_loghist *h, double x);
/* Adds every bin of src to dst (dst != src; dst's cap applies). -1 (dst
 * partly merged, still consistent) when memory is short. */
int	sw_loghist_merge(struct sw_loghist *dst, const struct sw_loghist *src);
/* Values held (zero bucket included). */
uint64_t sw_loghist_count(const struct sw_loghist *h);
/* Prometheus-style phi-quantile (rank phi * (count - 1), interpolated
 * between the estimates of the two neighbouring ranks). NaN when empty or
 * phi is NaN, -Inf for phi < 0, +Inf for phi > 1. */
double	sw_loghist_quantile(const struct sw_loghist *h, double phi);
/* The bin index of x > 0 (finite), and a bin's estimate. */
int32_t	sw_loghist_index(double x);
double	sw_loghist_value(int32_t idx);

/*
 * Compact encoding: byte 0 = schema (6), varint zero count, varint number
 * of bins, then per bin the zig-zag varint of (idx - previous idx, the
 * first relative to 0) and the varint count (LEB128 varints). Encode
 * writes at most SW_LOGHIST_ENCODED_MAX(h->nbins) bytes into dst; -1 when
 * dstsz is too small (*len untouched). Decode replaces h's content; it
 * reads no byte past src + len and rejects (-1, err names the byte offset,
 * h left empty) a wrong schema, a truncated or over-long varint, more bins
 * than h->max, indexes not strictly increasing or out of range, a zero or
 * too large bin count, and trailing bytes.
 */
#define SW_LOGHIST_ENCODED_MAX(nbins)	(1 + 10 + 5 + (size_t)(nbins) * 10)
int	sw_loghist_encode(const struct sw_loghist *h, uint8_t *dst,
	    size_t dstsz, size_t *len);
int	sw_loghist_decode(struct sw_loghist *h, const uint8_t *src, size_t len,
	    struct sw_err *err);

#endif
