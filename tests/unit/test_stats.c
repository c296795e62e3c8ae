#include "config.h"
/*
 * test_stats.c: unit tests of stats.c on inputs whose results are worked
 * out by hand in the comments: Theil-Sen slope, Mann-Kendall S / Var(S) / Z
 * with ties, the Sen/Gilbert confidence ranks, the blocked variant, the
 * deceleration guard, Prometheus OLS, quantile_over_time and
 * histogram_quantile semantics, median / MAD / robust z / anomaly, and the
 * log histogram (index, error bound, cap, merge, encode / decode with
 * rejection of malformed blobs).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "slopewatch/err.h"
#include "slopewatch/stats.h"

#define EPS	1e-9

static void
assert_near(double got, double want, double eps)
{
	if (!(fabs(got - want) <= eps)) {
		print_error("got %.17g want %.17g\n", got, want);
		fail();
	}
}

/* Deterministic generator (xorshift64*), so results do not depend on libc. */
static uint64_t
rng_next(uint64_t *st)
{
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 2685821657736338717ULL;
}

static double
rng_unit(uint64_t *st)
{
	return (double)(rng_next(st) >> 11) / 9007199254740992.0;
}

static void
test_theilsen_line(void **state)
{
	double		t[] = { 0, 1, 2, 3, 4 }, y[] = { 0, 2, 4, 6, 8 };
	double		scratch[SW_STATS_THEILSEN_SCRATCH(5)];
	struct sw_trend	tr;

	(void)state;
	assert_int_equal(sw_stats_theilsen(t, y, 5, SW_STATS_Z99, &tr,
	    scratch), 0);
	assert_true(tr.ok);
	assert_int_equal(tr.n, 5);
	assert_int_equal(tr.npairs, 10);
	assert_near(tr.slope, 2, EPS);
	assert_near(tr.slope_lo, 2, EPS);
	assert_near(tr.slope_hi, 2, EPS);
	assert_near(tr.intercept, 0, EPS);
	/* S = 10, Var = 5*4*15/18, Z = 9/sqrt(Var) */
	assert_near(tr.s, 10, EPS);
	assert_near(tr.var_s, 300.0 / 18, EPS);
	assert_near(tr.z, 9 / sqrt(300.0 / 18), EPS);
	/* the allocating path gives the same */
	assert_int_equal(sw_stats_theilsen(t, y, 5, SW_STATS_Z99, &tr, NULL),
	    0);
	assert_near(tr.slope, 2, EPS);
}

static void
test_theilsen_outlier(void **state)
{
	/* slopes: 1 x6, 25, 33, 49, 97; median of 10 = (1 + 1)/2.
	 * C = 2.576 * sqrt(16.667) = 10.517: lower rank floor(-0.26)-1 -> 0,
	 * upper ceil(10.26) = 11 -> 9 (clamped): [1, 97]. OLS gives 20.2. */
	double		t[] = { 0, 1, 2, 3, 4 }, y[] = { 0, 1, 2, 3, 100 };
	struct sw_trend	tr;
	double		b, a;

	(void)state;
	assert_int_equal(sw_stats_theilsen(t, y, 5, SW_STATS_Z99, &tr, NULL),
	    0);
	assert_near(tr.slope, 1, EPS);
	assert_near(tr.slope_lo, 1, EPS);
	assert_near(tr.slope_hi, 97, EPS);
	assert_near(tr.intercept, 0, EPS);
	assert_int_equal(sw_stats_ols(t, y, 5, 0, &b, &a), 0);
	assert_near(b, 20.2, EPS);
}

static void
test_theilsen_ci_ranks(void **state)
{
	/* y = t^2: slopes i+j = 1,2,3,3,4,4,5,5,6,7; median (4+4)/2 = 4.
	 * z = 1: C = sqrt(16.667) = 4.0825, lower rank floor(2.959)-1 = 1
	 * (slope 2), upper ceil(7.041) = 8 (slope 6): symmetric, 1 = 9 - 8.
	 * intercept = median(0,-3,-4,-3,0) = -3. */
	double		t[] = { 4, 0, 3, 1, 2 }, y[] = { 16, 0, 9, 1, 4 };
	double		scratch[10];
	struct sw_trend	tr;

	(void)state;
	assert_int_equal(sw_stats_theilsen(t, y, 5, 1.0, &tr, scratch), 0);
	assert_near(tr.slope, 4, EPS);
	assert_near(tr.slope_lo, 2, EPS);
	assert_near(tr.slope_hi, 6, EPS);
	assert_near(tr.intercept, -3, EPS);
	assert_near(tr.s, 10, EPS);
	/* z = 0: the CI collapses to the two middle slopes */
	assert_int_equal(sw_stats_theilsen(t, y, 5, 0, &tr, scratch), 0);
	assert_near(tr.slope_lo, 4, EPS);
	assert_near(tr.slope_hi, 4, EPS);
}

static void
test_theilsen_ties(void **state)
{
	/* y = 1,1,2,2,2,3: S = 4+4+1+1+1 = 11; ties: group 2 (18), group 3
	 * (66): Var = (6*5*17 - 84)/18 = 426/18; Z = 10/sqrt(Var). The 15
	 * slopes sorted: 0 x4, 1/4, 1/3 x3, 2/5, 1/2 x4, 1 x2: median 1/3. */
	double		t[] = { 0, 1, 2, 3, 4, 5 }, y[] = { 1, 1, 2, 2, 2, 3 };
	struct sw_trend	tr;

	(void)state;
	assert_int_equal(sw_stats_theilsen(t, y, 6, SW_STATS_Z99, &tr, NULL),
	    0);
	assert_near(tr.s, 11, EPS);
	assert_near(tr.var_s, 426.0 / 18, EPS);
	assert_near(tr.z, 10 / sqrt(426.0 / 18), EPS);
	assert_near(tr.slope, 1.0 / 3, EPS);
	assert_int_equal(tr.npairs, 15);
	/* decreasing: S < 0 gives Z = (S + 1)/sqrt(Var) */
	{
		double	yd[] = { 3, 2, 2, 2, 1, 1 };

		sw_stats_theilsen(t, yd, 6, SW_STATS_Z99, &tr, NULL);
		assert_near(tr.s, -11, EPS);
		assert_near(tr.z, -10 / sqrt(426.0 / 18), EPS);
		assert_near(tr.slope, -1.0 / 3, EPS);
	}
}

static void
test_theilsen_small_and_bad(void **state)
{
	double		t[] = { 0, 1, NAN, 2, INFINITY, 2 };
	double		y[] = { 0, 1, 5, INFINITY, 7, 2 };
	double		tt[] = { 5, 5, 5, 5 }, yy[] = { 1, 2, 3, 4 };
	struct sw_trend	tr;

	(void)state;
	/* finite points: (0,0) (1,1) (2,2): a slope, but no verdict */
	assert_int_equal(sw_stats_theilsen(t, y, 6, SW_STATS_Z99, &tr, NULL),
	    0);
	assert_int_equal(tr.n, 3);
	assert_false(tr.ok);
	assert_near(tr.slope, 1, EPS);
	/* all t equal: no slope */
	assert_int_equal(sw_stats_theilsen(tt, yy, 4, SW_STATS_Z99, &tr, NULL),
	    -1);
	assert_false(tr.ok);
	assert_true(isnan(tr.slope));
	assert_int_equal(sw_stats_theilsen(tt, yy, 0, SW_STATS_Z99, &tr, NULL),
	    -1);
	assert_int_equal(sw_stats_theilsen(tt, yy, 1, SW_STATS_Z99, NULL, NULL),
	    -1);
	/* the allocating path refuses huge n */
	assert_int_equal(sw_stats_theilsen(tt, yy, SW_STATS_THEILSEN_MAX + 1,
	    SW_STATS_Z99, &tr, NULL), -1);
	assert_int_equal(SW_STATS_THEILSEN_SCRATCH(0), 0);
	assert_int_equal(SW_STATS_THEILSEN_SCRATCH(2), 2);
	assert_int_equal(SW_STATS_THEILSEN_SCRATCH(3), 3);
	assert_int_equal(SW_STATS_THEILSEN_SCRATCH(144), 10296);
}

static void
test_theilsen_blocked(void **state)
{
	/* two instances growing at 1/unit, the second restarted lower. Plain
	 * Theil-Sen sees the drop (16 negative cross pairs of 28); blocked
	 * uses the 12 within-segment slopes, all 1. S = 6 + 6,
	 * Var = 2 * 4*3*13/18, Z = 11/sqrt(Var). */
	double		t[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	double		y[] = { 10, 11, 12, 13, 0, 1, 2, 3 };
	uint32_t	seg[] = { 7, 7, 7, 7, 9, 9, 9, 9 };
	double		scratch[SW_STATS_THEILSEN_SCRATCH(8)];
	struct sw_trend	tr;

	(void)state;
	assert_int_equal(sw_stats_theilsen(t, y, 8, SW_STATS_Z99, &tr,
	    scratch), 0);
	assert_true(tr.slope < 0);
	assert_int_equal(sw_stats_theilsen_blocked(t, y, seg, 8, SW_STATS_Z99,
	    &tr, scratch), 0);
	assert_true(tr.ok);
	assert_int_equal(tr.npairs, 12);
	assert_near(tr.slope, 1, EPS);
	assert_near(tr.slope_lo, 1, EPS);
	assert_near(tr.s, 12, EPS);
	assert_near(tr.var_s, 2 * 156.0 / 18, EPS);
	assert_near(tr.z, 11 / sqrt(2 * 156.0 / 18), EPS);
	/* NULL seg: one segment, same as the plain estimator */
	assert_int_equal(sw_stats_theilsen_blocked(t, y, NULL, 8, SW_STATS_Z99,
	    &tr, scratch), 0);
	assert_true(tr.slope < 0);
}

static void
test_decel_ratio(void **state)
{
	double	t[10], lin[10], warm[10], expo[10];
	int	i;

	(void)state;
	for (i = 0; i < 10; i++) {
		t[i] = i;
		lin[i] = 2 * i;
		warm[i] = i < 5 ? 2 * i : 9;	/* ramp, then plateau */
		expo[i] = pow(2, i);
	}
	/* recent half = t >= 4.5: t = 5..9 */
	assert_near(sw_stats_decel_ratio(t, lin, 10, NULL, NULL), 1, EPS);
	assert_near(sw_stats_decel_ratio(t, warm, 10, NULL, NULL), 0, EPS);
	assert_true(sw_stats_decel_ratio(t, expo, 10, NULL, NULL) > 1);
	/* flat or falling: no ratio */
	for (i = 0; i < 10; i++)
		lin[i] = -i;
	assert_true(isnan(sw_stats_decel_ratio(t, lin, 10, NULL, NULL)));
	/* too few points in the recent half */
	assert_true(isnan(sw_stats_decel_ratio(t, warm, 5, NULL, NULL)));
}

static void
test_ols(void **state)
{
	double	t[] = { 0, 1, 2, 3 }, y[] = { 1, 3, 5, 7 };
	double	t2[] = { 0, 1, NAN, 2 }, y2[] = { 0, 1, 3, 5 };
	double	c[] = { 4, 4, 4 }, b, a;

	(void)state;
	assert_int_equal(sw_stats_ols(t, y, 4, 0, &b, &a), 0);
	assert_near(b, 2, EPS);
	assert_near(a, 1, EPS);
	assert_int_equal(sw_stats_ols(t, y, 4, 3, &b, &a), 0);
	assert_near(a, 7, EPS);
	/* predict_linear(v, 2) at t = 3: 7 + 2 * 2 */
	assert_near(sw_stats_predict_linear(t, y, 4, 3, 2), 11, EPS);
	/* (0,0) (1,1) (2,5): slope 5/2, intercept 2 - 2.5 */
	assert_int_equal(sw_stats_ols(t2, y2, 4, 0, &b, &a), 0);
	assert_near(b, 2.5, EPS);
	assert_near(a, -0.5, EPS);
	/* constant: slope 0, intercept the value whatever t0 */
	assert_int_equal(sw_stats_ols(t, c, 3, 100, &b, &a), 0);
	assert_near(b, 0, 0);
	assert_near(a, 4, 0);
	/* fewer than 2 points, all t equal */
	assert_int_equal(sw_stats_ols(t, y, 1, 0, &b, &a), -1);
	assert_true(isnan(b) && isnan(a));
	assert_true(isnan(sw_stats_predict_linear(t, y, 1, 0, 1)));
	{
		double	tt[] = { 1, 1, 1 };

		assert_int_equal(sw_stats_ols(tt, y, 3, 0, &b, &a), -1);
	}
	/* large timestamps with t0 near them stay exact */
	{
		double	tl[] = { 1.7e9, 1.7e9 + 10, 1.7e9 + 20 };
		double	yl[] = { 1e9, 1e9 + 1000, 1e9 + 2000 };

		assert_int_equal(sw_stats_ols(tl, yl, 3, 1.7e9 + 20, &b, &a),
		    0);
		assert_near(b, 100, 1e-9);
		assert_near(a, 1e9 + 2000, 1e-6);
	}
}

static void
test_quantile(void **state)
{
	double	x[] = { 4, NAN, 1, 3, 2, INFINITY }, sc[6];

	(void)state;
	/* finite values 1 2 3 4: rank = phi * 3 */
	assert_near(sw_stats_quantile(0.5, x, 6, sc), 2.5, EPS);
	assert_near(sw_stats_quantile(0.9, x, 6, sc), 3.7, EPS);
	assert_near(sw_stats_quantile(0, x, 6, NULL), 1, 0);
	assert_near(sw_stats_quantile(1, x, 6, NULL), 4, 0);
	assert_true(isinf(sw_stats_quantile(-0.1, x, 6, NULL)) &&
	    sw_stats_quantile(-0.1, x, 6, NULL) < 0);
	assert_true(isinf(sw_stats_quantile(1.1, x, 6, NULL)) &&
	    sw_stats_quantile(1.1, x, 6, NULL) > 0);
	assert_true(isnan(sw_stats_quantile(NAN, x, 6, NULL)));
	assert_true(isnan(sw_stats_quantile(0.5, x, 0, NULL)));
	assert_true(isnan(sw_stats_quantile(0.5, x + 1, 1, NULL)));
	/* x is untouched */
	assert_near(x[0], 4, 0);
	assert_near(sw_stats_median(x, 6, NULL), 2.5, EPS);
}

static int
cmp_dbl(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
test_quantile_random(void **state)
{
	enum { N = 5001 };
	double		*x, *sorted, phis[] = { 0, 0.01, 0.25, 0.5, 0.9, 0.99,
			    0.999, 1 }, rank, want;
	uint64_t	 st = 42;
	size_t		 i, k, lo;

	(void)state;
	x = malloc(N * sizeof(*x));
	sorted = malloc(N * sizeof(*x));
	assert_non_null(x);
	assert_non_null(sorted);
	for (i = 0; i < N; i++)	/* many duplicates on purpose */
		x[i] = (double)(rng_next(&st) % 1000);
	memcpy(sorted, x, N * sizeof(*x));
	qsort(sorted, N, sizeof(*x), cmp_dbl);
	for (k = 0; k < sizeof(phis) / sizeof(phis[0]); k++) {
		rank = phis[k] * (N - 1);
		lo = (size_t)floor(rank);
		want = sorted[lo];
		if (lo + 1 < N)
			want = sorted[lo] * (1 - (rank - lo)) +
			    sorted[lo + 1] * (rank - lo);
		assert_near(sw_stats_quantile(phis[k], x, N, NULL), want, 1e-9);
	}
	free(x);
	free(sorted);
}

static void
test_mad_robust_z(void **state)
{
	/* median 2; |x - 2| = 1 1 0 0 2 4 7 -> median 1 */
	double	x[] = { 9, 1, 2, 6, 1, 4, 2 }, med;

	(void)state;
	assert_near(sw_stats_mad(x, 7, NULL, &med), 1, 0);
	assert_near(med, 2, 0);
	assert_near(sw_stats_robust_sigma(2, 1, 0), 1.4826, EPS);
	assert_near(sw_stats_robust_z(5, 2, 1, 0), 3 / 1.4826, EPS);
	/* flat series: 5 % of the median, or the floor */
	assert_near(sw_stats_robust_z(110, 100, 0, 0), 2, EPS);
	assert_near(sw_stats_robust_z(110, 100, 0, 20), 0.5, EPS);
	assert_true(isnan(sw_stats_robust_z(1, 0, 0, 0)));
	assert_true(isnan(sw_stats_robust_z(NAN, 1, 1, 1)));
	assert_true(isnan(sw_stats_mad(x, 0, NULL, &med)));
	assert_true(isnan(med));
}

static void
test_anomaly(void **state)
{
	/* baseline sorted 8 9 9 10 x6 11 11 12: median 10; deviations
	 * 0 x6, 1 x4, 2 x2 -> MAD 0.5; sigma = 1.4826 * 0.5; recent median
	 * 20: z = 10 / 0.7413 */
	double			base[] = { 10, 11, 9, 10, 12, 8, 10, 11, 9, 10,
				    10, 10 };
	double			recent[] = { 20, 21, NAN, 19 };
	struct sw_anomaly	an;

	(void)state;
	assert_int_equal(sw_stats_anomaly(recent, 4, base, 12, 0, &an, NULL),
	    0);
	assert_true(an.ok);
	assert_int_equal(an.n_recent, 3);
	assert_int_equal(an.n_base, 12);
	assert_near(an.recent, 20, 0);
	assert_near(an.center, 10, 0);
	assert_near(an.mad, 0.5, 0);
	assert_near(an.sigma, 0.7413, EPS);
	assert_near(an.z, 10 / 0.7413, EPS);
	/* too little baseline */
	assert_int_equal(sw_stats_anomaly(recent, 4, base, 5, 0, &an, NULL), 0);
	assert_false(an.ok);
	assert_int_equal(sw_stats_anomaly(NULL, 0, base, 12, 0, &an, NULL), 0);
	assert_false(an.ok);
	assert_true(isnan(an.z));
	assert_int_equal(sw_stats_anomaly(recent, 4, base, 12, 0, NULL, NULL),
	    -1);
}

static void
test_histogram_quantile(void **state)
{
	double	le[] = { 0.05, 0.1, 0.2, 0.5, 1, INFINITY };
	double	cnt[] = { 10, 30, 60, 90, 99, 100 };
	double	le2[] = { INFINITY, 0.4, 0.1, 0.2 }, cnt2[] = { 20, 20, 10, 5 };
	double	le3[] = { -1, 1, INFINITY }, cnt3[] = { 5, 10, 10 };
	double	le4[] = { 1, 1, 2, INFINITY }, cnt4[] = { 2, 2, 8, 8 };
	double	inf[] = { INFINITY }, ten[] = { 10 };

	(void)state;
	/* rank 50 in (0.1, 0.2]: 0.1 + 0.1 * (50 - 30) / 30 */
	assert_near(sw_stats_histogram_quantile(0.5, le, cnt, 6),
	    0.1 + 0.1 * 20 / 30, EPS);
	/* lowest bucket starts at 0: rank 5 of 10 in (0, 0.05] */
	assert_near(sw_stats_histogram_quantile(0.05, le, cnt, 6), 0.025, EPS);
	/* rank 99: top of (0.5, 1] */
	assert_near(sw_stats_histogram_quantile(0.99, le, cnt, 6), 1, EPS);
	/* rank 99.5 falls in +Inf: the second-highest bound */
	assert_near(sw_stats_histogram_quantile(0.995, le, cnt, 6), 1, 0);
	assert_near(sw_stats_histogram_quantile(0, le, cnt, 6), 0, 0);
	assert_true(sw_stats_histogram_quantile(-1, le, cnt, 6) == -INFINITY);
	assert_true(sw_stats_histogram_quantile(2, le, cnt, 6) == INFINITY);
	assert_true(isnan(sw_stats_histogram_quantile(NAN, le, cnt, 6)));
	/* no +Inf bucket, a single bucket, no observation */
	assert_true(isnan(sw_stats_histogram_quantile(0.5, le, cnt, 5)));
	assert_true(isnan(sw_stats_histogram_quantile(0.5, inf, ten, 1)));
	{
		double	z[] = { 0, 0, 0, 0, 0, 0 };

		assert_true(isnan(sw_stats_histogram_quantile(0.5, le, z, 6)));
	}
	/* unsorted, non-monotonic (5 after 10) fixed to 10 10 20 20:
	 * q 0.5 -> rank 10 = top of (0, 0.1]; q 0.75 -> rank 15:
	 * 0.2 + 0.2 * 5 / 10 */
	assert_near(sw_stats_histogram_quantile(0.5, le2, cnt2, 4), 0.1, EPS);
	assert_near(sw_stats_histogram_quantile(0.75, le2, cnt2, 4), 0.3, EPS);
	/* lowest bucket with a bound <= 0: the bound */
	assert_near(sw_stats_histogram_quantile(0.2, le3, cnt3, 3), -1, 0);
	/* equal bounds coalesce: le 1 holds 4 of 8; rank 4 = top of (0,1] */
	assert_near(sw_stats_histogram_quantile(0.5, le4, cnt4, 4), 1, EPS);
	/* prom-client default buckets, half the requests under 1 s, the
	 * rest in (1, 2.5]: p75 = 1 + 1.5 * 0.5 */
	{
		double	pl[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
			    2.5, 5, 10, INFINITY };
		double	pc[] = { 0, 0, 0, 0, 0, 0, 0, 50, 100, 100, 100, 100 };

		assert_near(sw_stats_histogram_quantile(0.75, pl, pc, 12),
		    1.75, EPS);
		/* degenerate first bucket: all in (0.5, 1] -> p50 = 0.75 */
		assert_near(sw_stats_histogram_quantile(0.25, pl, pc, 12),
		    0.75, EPS);
	}
}

static void
test_loghist_index(void **state)
{
	double		x, e, worst = 0;
	uint64_t	st = 7;
	int		i;

	(void)state;
	assert_int_equal(sw_loghist_index(1), 0);
	assert_int_equal(sw_loghist_index(2), 64);
	assert_int_equal(sw_loghist_index(0.5), -64);
	assert_int_equal(sw_loghist_index(1.01), 1);
	assert_int_equal(sw_loghist_index(1.0109), 2);
	assert_near(sw_loghist_value(0), 2 / (SW_LOGHIST_GAMMA + 1), 1e-15);
	assert_near(sw_loghist_value(64), 4 / (SW_LOGHIST_GAMMA + 1), 1e-14);
	assert_near(sw_loghist_value(-65),
	    2 * pow(SW_LOGHIST_GAMMA, -65) / (SW_LOGHIST_GAMMA + 1), 1e-15);
	assert_near(SW_LOGHIST_GAMMA, pow(2, 1.0 / 64), 1e-15);
	/* every estimate within (gamma-1)/(gamma+1), from 1 us to 1e4 s */
	for (i = 0; i < 200000; i++) {
		x = pow(10, -6 + 10 * rng_unit(&st));
		e = fabs(sw_loghist_value(sw_loghist_index(x)) - x) / x;
		if (e > worst)
			worst = e;
	}
	assert_true(worst <= SW_LOGHIST_REL_ERROR * (1 + 1e-9));
	assert_true(worst > SW_LOGHIST_REL_ERROR * 0.99);	/* attained */
	/* extremes stay finite */
	assert_true(isfinite(sw_loghist_value(sw_loghist_index(1.7e308))));
	assert_true(sw_loghist_value(sw_loghist_index(5e-324)) >= 0);
}

static void
test_loghist_quantile(void **state)
{
	enum { N = 20000 };
	struct sw_loghist	 h;
	double			*x, phis[] = { 0, 0.01, 0.1, 0.5, 0.9, 0.95,
				    0.99, 0.999, 1 }, exact, est;
	uint64_t		 st = 1234;
	size_t			 i, k;

	(void)state;
	x = malloc(N * sizeof(*x));
	assert_non_null(x);
	sw_loghist_init(&h, 4096);
	for (i = 0; i < N; i++) {
		/* log-normal-ish latency around 120 ms, long tail */
		x[i] = 0.12 * exp(0.6 * (rng_unit(&st) + rng_unit(&st) +
		    rng_unit(&st) - 1.5) * 2);
		assert_int_equal(sw_loghist_add(&h, x[i]), 0);
	}
	assert_int_equal(sw_loghist_count(&h), N);
	for (k = 0; k < sizeof(phis) / sizeof(phis[0]); k++) {
		exact = sw_stats_quantile(phis[k], x, N, NULL);
		est = sw_loghist_quantile(&h, phis[k]);
		assert_true(fabs(est - exact) <=
		    SW_LOGHIST_REL_ERROR * exact * (1 + 1e-9));
	}
	assert_true(isnan(sw_loghist_quantile(&h, NAN)));
	assert_true(sw_loghist_quantile(&h, -1) == -INFINITY);
	assert_true(sw_loghist_quantile(&h, 2) == INFINITY);
	assert_int_equal(sw_loghist_add(&h, NAN), -1);
	assert_int_equal(sw_loghist_add(&h, INFINITY), -1);
	assert_int_equal(sw_loghist_count(&h), N);
	sw_loghist_reset(&h);
	assert_true(isnan(sw_loghist_quantile(&h, 0.5)));
	sw_loghist_release(&h);
	free(x);
}

static void
test_loghist_zero_merge_cap(void **state)
{
	struct sw_loghist	a, b, c;

	(void)state;
	sw_loghist_init(&a, 64);
	sw_loghist_init(&b, 64);
	/* values <= 0 go to the zero bucket; estimates 0 */
	sw_loghist_add(&a, 0);
	sw_loghist_add(&a, -1);
	sw_loghist_add(&a, 1);
	sw_loghist_add(&b, 2);
	sw_loghist_add(&b, 2);
	assert_int_equal(a.zero, 2);
	assert_near(sw_loghist_quantile(&a, 0), 0, 0);
	/* merge: {0, 0, 1, 2, 2}; p50 = rank 2 = bin 0; p100 = bin 64 */
	assert_int_equal(sw_loghist_merge(&a, &b), 0);
	assert_int_equal(sw_loghist_count(&a), 5);
	assert_int_equal(a.nbins, 2);
	assert_near(sw_loghist_quantile(&a, 0.5), sw_loghist_value(0), 0);
	assert_near(sw_loghist_quantile(&a, 1), sw_loghist_value(64), 0);
	/* rank 3.5: halfway between two estimates of the bin of 2 */
	assert_near(sw_loghist_quantile(&a, 0.875), sw_loghist_value(64), 0);
	assert_near(sw_loghist_quantile(&a, 0.625),
	    (sw_loghist_value(0) + sw_loghist_value(64)) / 2, 1e-15);

	/* cap 4: a fifth bin collapses the two lowest into one */
	sw_loghist_init(&c, 4);
	sw_loghist_add(&c, 1);
	sw_loghist_add(&c, 2);
	sw_loghist_add(&c, 4);
	sw_loghist_add(&c, 8);
	assert_int_equal(c.collapsed, 0);
	sw_loghist_add(&c, 16);		/* bin 0 folds into bin 64 */
	assert_int_equal(c.nbins, 4);
	assert_int_equal(c.bins[0].idx, 64);
	assert_int_equal(c.bins[0].n, 2);
	assert_int_equal(c.bins[3].idx, 256);
	assert_int_equal(c.collapsed, 1);
	sw_loghist_add(&c, 0.5);	/* below everything: lowest bin */
	assert_int_equal(c.bins[0].n, 3);
	assert_int_equal(c.collapsed, 2);
	assert_int_equal(sw_loghist_count(&c), 6);
	/* the top quantile keeps its bound */
	assert_near(sw_loghist_quantile(&c, 1), sw_loghist_value(256), 0);
	sw_loghist_release(&a);
	sw_loghist_release(&b);
	sw_loghist_release(&c);
	sw_loghist_init(&c, 0);
	assert_int_equal(c.max, 2);
	sw_loghist_init(&c, UINT32_MAX);
	assert_int_equal(c.max, SW_LOGHIST_BINS_LIMIT);
}

/* Decodes a malloc'd copy of exactly len bytes (so ASan and valgrind see
 * any read past the end). */
static int
decode_exact(struct sw_loghist *h, const uint8_t *p, size_t len,
    struct sw_err *err)
{
	uint8_t	*copy = malloc(len > 0 ? len : 1);
	int	 rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, p, len);
	rc = sw_loghist_decode(h, copy, len, err);
	free(copy);
	return rc;
}

static void
test_loghist_encode(void **state)
{
	/* zero 1, bins -64:2 0:3 64:1 -> 06 | 01 | 03 | 7f 02 | 80 01 03 |
	 * 80 01 01 (zig-zag(-64) = 127, zig-zag(64) = 128) */
	static const uint8_t	want[] = { 0x06, 0x01, 0x03, 0x7f, 0x02, 0x80,
				    0x01, 0x03, 0x80, 0x01, 0x01 };
	struct sw_loghist	h, d;
	struct sw_err		err;
	uint8_t			buf[64];
	size_t			len = 0, i;

	(void)state;
	sw_loghist_init(&h, 16);
	sw_loghist_add(&h, 0);
	sw_loghist_add(&h, 0.5);
	sw_loghist_add(&h, 0.5);
	sw_loghist_add(&h, 1);
	sw_loghist_add(&h, 1);
	sw_loghist_add(&h, 1);
	sw_loghist_add(&h, 2);
	assert_int_equal(sw_loghist_encode(&h, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_true(len <= SW_LOGHIST_ENCODED_MAX(h.nbins));
	/* too small a buffer */
	for (i = 0; i < len; i++)
		assert_int_equal(sw_loghist_encode(&h, buf, i, &len), -1);
	assert_int_equal(len, sizeof(want));

	sw_loghist_init(&d, 16);
	sw_err_clear(&err);
	assert_int_equal(decode_exact(&d, want, sizeof(want), &err), 0);
	assert_int_equal(d.count, 7);
	assert_int_equal(d.zero, 1);
	assert_int_equal(d.nbins, 3);
	assert_int_equal(d.bins[0].idx, -64);
	assert_near(sw_loghist_quantile(&d, 0.5), sw_loghist_quantile(&h, 0.5),
	    0);
	/* every truncation fails */
	for (i = 0; i < sizeof(want); i++) {
		sw_err_clear(&err);
		assert_int_equal(decode_exact(&d, want, i, &err), -1);
		assert_true(err.set);
		assert_int_equal(d.count, 0);
	}
	sw_loghist_release(&h);
	sw_loghist_release(&d);
}

static void
test_loghist_decode_bad(void **state)
{
	static const struct {
		const char	*name;
		uint8_t		 b[16];
		size_t		 len;
		const char	*msg;
	} bad[] = {
		{ "schema", { 0x05, 0x00, 0x00 }, 3, "schema" },
		{ "trailing", { 0x06, 0x00, 0x00, 0x00 }, 4, "trailing" },
		{ "zero count", { 0x06, 0x00, 0x01, 0x02, 0x00 }, 5,
		    "bad bin count" },
		{ "not increasing", { 0x06, 0x00, 0x02, 0x02, 0x01, 0x00,
		    0x01 }, 7, "bad index delta" },
		{ "decreasing", { 0x06, 0x00, 0x02, 0x02, 0x01, 0x01, 0x01 },
		    7, "bad index delta" },
		{ "overlong", { 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x80, 0x80, 0x80, 0x00, 0x00 }, 13, "zero count" },
		{ "64-bit overflow", { 0x06, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff, 0xff, 0x02, 0x00 }, 12, "zero count" },
		{ "too many bins", { 0x06, 0x00, 0x11 }, 3, "at most" },
		{ "bins vs length", { 0x06, 0x00, 0x05, 0x02, 0x01 }, 5,
		    "bins in" },
		{ "index range", { 0x06, 0x00, 0x01, 0xff, 0xff, 0xff, 0x0f,
		    0x01 }, 8, "bad index delta" },
		{ "count > 32 bits", { 0x06, 0x00, 0x01, 0x02, 0x80, 0x80,
		    0x80, 0x80, 0x10 }, 9, "bad bin count" },
		{ "empty", { 0 }, 0, "empty" },
	};
	struct sw_loghist	h;
	struct sw_err		err;
	size_t			i;

	(void)state;
	sw_loghist_init(&h, 16);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sw_err_clear(&err);
		if (decode_exact(&h, bad[i].b, bad[i].len, &err) != -1 ||
		    strstr(err.msg, bad[i].msg) == NULL) {
			print_error("%s: %s\n", bad[i].name, err.msg);
			fail();
		}
		assert_int_equal(h.count, 0);
		assert_int_equal(h.nbins, 0);
	}
	/* a random soup never crashes and never reads past the end */
	{
		uint8_t		buf[32];
		uint64_t	st = 99;
		size_t		n, j;

		for (i = 0; i < 20000; i++) {
			n = rng_next(&st) % sizeof(buf);
			for (j = 0; j < n; j++)
				buf[j] = (uint8_t)rng_next(&st);
			if (n > 0 && (i & 1))
				buf[0] = SW_LOGHIST_SCHEMA;
			decode_exact(&h, buf, n, NULL);
		}
	}
	sw_loghist_release(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_theilsen_line),
		cmocka_unit_test(test_theilsen_outlier),
		cmocka_unit_test(test_theilsen_ci_ranks),
		cmocka_unit_test(test_theilsen_ties),
		cmocka_unit_test(test_theilsen_small_and_bad),
		cmocka_unit_test(test_theilsen_blocked),
		cmocka_unit_test(test_decel_ratio),
		cmocka_unit_test(test_ols),
		cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_quantile_random),
		cmocka_unit_test(test_mad_robust_z),
		cmocka_unit_test(test_anomaly),
		cmocka_unit_test(test_histogram_quantile),
		cmocka_unit_test(test_loghist_index),
		cmocka_unit_test(test_loghist_quantile),
		cmocka_unit_test(test_loghist_zero_merge_cap),
		cmocka_unit_test(test_loghist_encode),
		cmocka_unit_test(test_loghist_decode_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
