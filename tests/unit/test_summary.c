#include "config.h"
/*
 * test_summary.c: unit tests of the per-series streaming summary: exact
 * floors and peaks of a synthetic GC sawtooth, restarts never mixed into
 * one bucket, ring wrap-around and level choice, window extraction at each
 * level checked against a brute-force reference, late samples, quantiles
 * within the log histogram's bound of the exact ones, and the memory
 * figures.
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
#include "slopewatch/summary.h"

/* 2023-09-24T00:00:00Z: a multiple of 3 h, so every level is aligned. */
#define T0	((int64_t)10800000 * 157000)
#define SEC	((int64_t)1000)

static struct sw_summary *
mk(int flags)
{
	struct sw_summary	*s;
	struct sw_err		 err;

	sw_err_clear(&err);
	assert_int_equal(sw_summary_new(flags, &s, &err), 0);
	return s;
}

/* GC sawtooth: a 100 B/s leak under a 60 s allocate/collect cycle. */
static double
saw(int64_t sec)
{
	return 1e8 + 100.0 * (double)sec + (double)(sec % 60) * 1e5;
}

static void
test_sawtooth_floors(void **state)
{
	struct sw_summary		*s = mk(0);
	struct sw_summary_points	*p;
	struct sw_summary_agg		 agg;
	struct sw_trend			 tr;
	int64_t				 sec;
	size_t				 j;

	(void)state;
	p = malloc(sizeof(*p));
	assert_non_null(p);
	for (sec = 0; sec < 3600; sec++)
		assert_int_equal(sw_summary_add(s, T0 + sec * SEC, saw(sec)), 0);
	/* one hour at level 0 (360 buckets of 10 s) merged into 5-min
	 * groups for 12 points: floor = value at each group's first second
	 * (a GC trough), peak = value at its last second */
	assert_int_equal(sw_summary_points(s, T0 - 1, T0 + 3600 * SEC, 12, 0,
	    p), 0);
	assert_int_equal(p->level, 0);
	assert_true(p->complete);
	assert_int_equal(p->width_ms, 300 * SEC);
	assert_int_equal(p->n, 12);
	for (j = 0; j < 12; j++) {
		assert_true(p->t[j] == (double)(T0 + (int64_t)(j + 1) * 300 *
		    SEC) / 1000);
		assert_true(p->floor[j] == 1e8 + 100.0 * 300 * j);
		assert_true(p->peak[j] == saw(300 * j + 299));
		assert_true(p->last[j] == saw(300 * j + 299));
		assert_true(p->mean[j] == 1e8 + 100 * (300.0 * j + 149.5) +
		    29.5e5);
		assert_int_equal(p->count[j], 300);
		assert_int_equal(p->seg[j], 0);
		assert_true(isnan(p->p50[j]));
	}
	/* Theil-Sen on the floors finds the leak exactly */
	assert_int_equal(sw_stats_theilsen(p->t, p->floor, p->n, SW_STATS_Z99,
	    &tr, NULL), 0);
	assert_true(tr.ok);
	assert_true(fabs(tr.slope - 100) < 1e-6);
	assert_true(fabs(tr.slope_lo - 100) < 1e-6);
	/* 144 points: groups of 3 x 10 s = 30 s, 120 points */
	assert_int_equal(sw_summary_points(s, T0 - 1, T0 + 3600 * SEC, 144, 0,
	    p), 0);
	assert_int_equal(p->n, 120);
	assert_int_equal(p->width_ms, 30 * SEC);
	assert_true(p->floor[0] == saw(0));
	assert_true(p->floor[1] == saw(30));
	/* window aggregates */
	assert_int_equal(sw_summary_window(s, T0 - 1, T0 + 3600 * SEC, 0, &agg,
	    NULL), 0);
	assert_int_equal(agg.count, 3600);
	assert_true(agg.min == 1e8);
	assert_true(agg.max == saw(3599));
	assert_true(agg.last == saw(3599));
	assert_int_equal(agg.first_ts, T0);
	assert_int_equal(agg.last_ts, T0 + 3599 * SEC);
	assert_int_equal(agg.level, 0);
	/* CLOSED drops the group still filling at `to` */
	assert_int_equal(sw_summary_points(s, T0 - 1, T0 + 3500 * SEC, 12,
	    SW_SUMMARY_CLOSED, p), 0);
	assert_true(p->t[p->n - 1] <= (double)(T0 + 3500 * SEC) / 1000);
	free(p);
	sw_summary_free(s);
}

/* Points of (T0 - 1, T0 + end s] never mix instance 0 (values >= 1e6, 456
 * samples with the late one) and instance 1 (values < 1e6). Returns the
 * level used. */
static int
check_segments(struct sw_summary *s, size_t maxp, struct sw_summary_points *p,
    int64_t end)
{
	uint64_t	n0 = 0, n1 = 0;
	size_t		j;

	assert_int_equal(sw_summary_points(s, T0 - 1, T0 + end * SEC, maxp, 0,
	    p), 0);
	assert_true(p->n <= maxp);
	for (j = 0; j < p->n; j++) {
		if (p->seg[j] == 0) {
			assert_true(p->floor[j] >= 1e6);
			n0 += p->count[j];
		} else {
			assert_int_equal(p->seg[j], 1);
			assert_true(p->peak[j] < 1e6);
			n1 += p->count[j];
		}
	}
	assert_true(n0 == 455 || n0 == 456);
	assert_true(n1 >= 145);
	return p->level;
}

static void
test_segments_not_mixed(void **state)
{
	struct sw_summary		*s = mk(0);
	struct sw_summary_points	*p;
	struct sw_summary_agg		 agg;
	struct sw_trend			 tr;
	int64_t				 sec;
	size_t				 j;

	(void)state;
	p = malloc(sizeof(*p));
	assert_non_null(p);
	/* instance 0 at 1e6 + sec until 455 s (mid 10-s bucket, mid 5-min
	 * bucket), then a restart: instance 1 at sec */
	for (sec = 0; sec < 600; sec++) {
		if (sec == 455)
			sw_summary_segment(s, T0 + sec * SEC, 1);
		sw_summary_add(s, T0 + sec * SEC,
		    sec < 455 ? 1e6 + (double)sec : (double)sec);
	}
	assert_int_equal(sw_summary_segment_id(s), 1);
	assert_int_equal(sw_summary_segment_start(s), T0 + 455 * SEC);
	/* no point mixes the two, whatever the merging */
	assert_int_equal(check_segments(s, SW_SUMMARY_POINTS_MAX, p, 600), 0);
	assert_int_equal(check_segments(s, 7, p, 600), 0);
	assert_int_equal(check_segments(s, 2, p, 600), 0);
	assert_true(p->n <= 2);
	/* level 0: the split 10-s bucket [450, 460) gives two points with
	 * the same t, one per segment */
	assert_int_equal(sw_summary_points(s, T0 - 1, T0 + 600 * SEC, 512, 0,
	    p), 0);
	assert_int_equal(p->n, 61);
	assert_true(p->t[45] == p->t[46]);
	assert_int_equal(p->count[45], 5);
	assert_int_equal(p->count[46], 5);
	/* current instance only */
	assert_int_equal(sw_summary_window(s, T0 - 1, T0 + 600 * SEC,
	    SW_SUMMARY_CURSEG, &agg, NULL), 0);
	assert_int_equal(agg.count, 145);
	assert_true(agg.min == 455 && agg.max == 599);
	assert_int_equal(sw_summary_points(s, T0 - 1, T0 + 600 * SEC, 512,
	    SW_SUMMARY_CURSEG, p), 0);
	for (j = 0; j < p->n; j++)
		assert_int_equal(p->seg[j], 1);
	/* blocked Theil-Sen across the restart: 1 per second, not the drop */
	assert_int_equal(sw_summary_points(s, T0 - 1, T0 + 600 * SEC, 512, 0,
	    p), 0);
	assert_int_equal(sw_stats_theilsen_blocked(p->t, p->floor, p->seg,
	    p->n, SW_STATS_Z99, &tr, NULL), 0);
	assert_true(fabs(tr.slope - 1) < 1e-9);
	/* a late sample of the old instance lands in its own bucket */
	assert_int_equal(sw_summary_add(s, T0 + 452 * SEC + 500, 2e6), 0);
	assert_int_equal(sw_summary_window(s, T0 - 1, T0 + 600 * SEC,
	    SW_SUMMARY_CURSEG, &agg, NULL), 0);
	assert_true(agg.max == 599);
	/* 7 hours later the window starts beyond levels 0 and 1: level 2 */
	for (sec = 600; sec < 7 * 3600; sec += 5)
		sw_summary_add(s, T0 + sec * SEC, (double)sec);
	assert_int_equal(check_segments(s, 144, p, 7 * 3600), 2);
	assert_int_equal(check_segments(s, 4, p, 7 * 3600), 2);
	free(p);
	sw_summary_free(s);
}

static void
test_ring_wrap(void **state)
{
	struct sw_summary		*s = mk(0);
	struct sw_summary_points	*p;
	struct sw_summary_agg		 agg;
	struct sw_summary_counters	 c;
	int64_t				 sec, now;

	(void)state;
	p = malloc(sizeof(*p));
	assert_non_null(p);
	for (sec = 0; sec < 7200; sec++)
		sw_summary_add(s, T0 + sec * SEC, (double)sec);
	now = T0 + 7199 * SEC;
	/* level 0 wrapped: it holds [3590 s, 7200 s) and covers the last
	 * hour exactly: 360 buckets */
	assert_int_equal(sw_summary_points(s, now - 3600 * SEC, now, 512, 0,
	    p), 0);
	assert_int_equal(p->level, 0);
	assert_int_equal(p->n, 360);
	assert_true(p->t[0] == (double)(T0 + 3610 * SEC) / 1000);
	assert_true(p->floor[0] == 3600);
	assert_true(p->peak[359] == 7199);
	/* one second more: level 0 lost it, level 1 (1 min) is used */
	assert_int_equal(sw_summary_points(s, now - 3611 * SEC, now, 512, 0,
	    p), 0);
	assert_int_equal(p->level, 1);
	assert_int_equal(p->n, 61);
	assert_true(p->floor[0] == 3540);
	/* two hours: level 1 */
	assert_int_equal(sw_summary_window(s, now - 7200 * SEC, now, 0, &agg,
	    NULL), 0);
	assert_int_equal(agg.level, 1);
	assert_int_equal(agg.count, 7200);
	assert_true(agg.sum == 7199.0 * 7200 / 2);
	/* a sample older than level 0 still folds into levels 1-4 */
	assert_int_equal(sw_summary_add(s, T0 + 10 * SEC, -5), 1);
	assert_int_equal(sw_summary_window(s, now - 7200 * SEC, now, 0, &agg,
	    NULL), 0);
	assert_true(agg.min == -5);
	assert_int_equal(agg.count, 7201);
	/* older than everything: ignored everywhere */
	assert_int_equal(sw_summary_add(s, T0 - 86400 * SEC * 60, 1), 1);
	/* a late sample inside level 0 folds everywhere */
	assert_int_equal(sw_summary_add(s, T0 + 7000 * SEC + 1, -1), 0);
	assert_int_equal(sw_summary_add(s, now, NAN), -1);
	sw_summary_counters(s, &c);
	assert_int_equal(c.added, 7203);
	assert_int_equal(c.late, 3);
	assert_int_equal(c.ignored, 2);
	assert_int_equal(c.invalid, 1);
	assert_int_equal(c.last_ts, now);
	assert_int_equal(c.first_ts, T0 - 86400 * SEC * 60);
	/* bad windows */
	assert_int_equal(sw_summary_points(s, now, now, 10, 0, p), -1);
	assert_int_equal(sw_summary_window(s, now, now - 1, 0, &agg, NULL), -1);
	free(p);
	sw_summary_free(s);
}

/* Brute-force reference: the samples (one every 10 s, v = sec) whose
 * bucket at width w meets (from, to]. */
static void
reference(int64_t nsec, int64_t w, int64_t from, int64_t to, uint64_t *n,
    double *sum, double *mn, double *mx)
{
	int64_t	sec, ts, start, first, last;

	*n = 0;
	*sum = 0;
	*mn = INFINITY;
	*mx = -INFINITY;
	for (sec = 0; sec < nsec; sec += 10) {
		ts = T0 + sec * SEC;
		start = ts - (ts - T0) % w;
		first = start > T0 ? start : T0;
		last = start + w - 10 * SEC;
		if (last > T0 + (nsec - 10) * SEC)
			last = T0 + (nsec - 10) * SEC;
		if (last <= from || first > to)
			continue;
		(*n)++;
		*sum += (double)sec;
		if (sec < *mn)
			*mn = (double)sec;
		if (sec > *mx)
			*mx = (double)sec;
	}
}

static void
test_levels(void **state)
{
	static const struct {
		int64_t	span;
		int	level;
	} win[] = {
		{ 5 * 60, 0 }, { 3600, 0 }, { 6 * 3600, 1 }, { 86400, 2 },
		{ 7 * 86400, 3 }, { 30 * 86400, 4 },
	};
	struct sw_summary		*s = mk(0);
	struct sw_summary_points	*p;
	struct sw_summary_agg		 agg;
	int64_t				 sec, nsec = 31 * 86400, now, from;
	uint64_t			 n, tot;
	double				 sum, mn, mx;
	size_t				 i, j;

	(void)state;
	p = malloc(sizeof(*p));
	assert_non_null(p);
	for (sec = 0; sec < nsec; sec += 10)
		assert_int_equal(sw_summary_add(s, T0 + sec * SEC, (double)sec),
		    0);
	now = T0 + (nsec - 10) * SEC;
	for (i = 0; i < sizeof(win) / sizeof(win[0]); i++) {
		from = now - win[i].span * SEC;
		assert_int_equal(sw_summary_window(s, from, now, 0, &agg, NULL),
		    0);
		assert_int_equal(agg.level, win[i].level);
		assert_true(agg.complete);
		reference(nsec, sw_summary_level_width(agg.level), from, now,
		    &n, &sum, &mn, &mx);
		assert_int_equal(agg.count, n);
		assert_true(agg.sum == sum);
		assert_true(agg.min == mn && agg.max == mx);
		assert_true(agg.last == (double)(nsec - 10));
		/* the widening is less than one bucket at the old end */
		assert_true(agg.first_ts > from - agg.width_ms);
		/* points: bounded, same level, and they add up */
		assert_int_equal(sw_summary_points(s, from, now, 144, 0, p), 0);
		assert_int_equal(p->level, win[i].level);
		assert_true(p->n >= 1 && p->n <= 144);
		tot = 0;
		for (j = 0; j < p->n; j++) {
			tot += p->count[j];
			if (j > 0)
				assert_true(p->t[j] > p->t[j - 1]);
		}
		assert_int_equal(tot, n);
		assert_true(p->floor[0] == mn && p->peak[p->n - 1] == mx);
	}
	/* 60 days: more than any ring holds */
	assert_int_equal(sw_summary_window(s, now - 60 * 86400 * SEC, now, 0,
	    &agg, NULL), 0);
	assert_int_equal(agg.level, 4);
	assert_false(agg.complete);
	/* histograms absent: no quantiles */
	assert_true(isnan(sw_summary_quantile(s, now - 3600 * SEC, now, 0,
	    0.5)));
	free(p);
	sw_summary_free(s);
}

static void
test_quantiles(void **state)
{
	enum { N = 5000 };
	struct sw_summary		*s = mk(SW_SUMMARY_HIST);
	struct sw_summary_points	*p;
	struct sw_summary_counters	 c;
	struct sw_loghist		 h;
	struct sw_summary_agg		 agg;
	double				*x, phis[] = { 0, 0.01, 0.5, 0.9, 0.95,
					    0.99, 1 }, exact, est;
	uint64_t			 st = 2024;
	int64_t				 i, from, now;
	size_t				 k;

	(void)state;
	x = malloc(N * sizeof(*x));
	p = malloc(sizeof(*p));
	assert_non_null(x);
	assert_non_null(p);
	for (i = 0; i < N; i++) {
		/* xorshift64*: latencies from 1 ms to ~10 s, log-uniform */
		st ^= st >> 12;
		st ^= st << 25;
		st ^= st >> 27;
		x[i] = pow(10, -3 + 4 * (double)((st * 2685821657736338717ULL)
		    >> 11) / 9007199254740992.0);
		assert_int_equal(sw_summary_add(s, T0 + i * SEC, x[i]), 0);
	}
	now = T0 + (N - 1) * SEC;
	/* whole series (level 1: 5000 s > 1 h): every sample is in */
	for (k = 0; k < sizeof(phis) / sizeof(phis[0]); k++) {
		exact = sw_stats_quantile(phis[k], x, N, NULL);
		est = sw_summary_quantile(s, T0 - 1, now, 0, phis[k]);
		assert_true(fabs(est - exact) <=
		    SW_LOGHIST_REL_ERROR * exact * (1 + 1e-9));
	}
	/* a 5-minute window at level 0: exact set = the samples of its
	 * 10-s buckets; here aligned, so the last 300 samples */
	from = now - 300 * SEC;
	sw_loghist_init(&h, 1024);
	assert_int_equal(sw_summary_window(s, from, now, 0, &agg, &h), 0);
	assert_int_equal(agg.level, 0);
	assert_int_equal(agg.count, 300);
	assert_int_equal(sw_loghist_count(&h), 300);
	for (k = 0; k < sizeof(phis) / sizeof(phis[0]); k++) {
		exact = sw_stats_quantile(phis[k], x + N - 300, 300, NULL);
		est = sw_loghist_quantile(&h, phis[k]);
		assert_true(fabs(est - exact) <=
		    SW_LOGHIST_REL_ERROR * exact * (1 + 1e-9));
	}
	sw_loghist_release(&h);
	/* per-point medians */
	assert_int_equal(sw_summary_points(s, now - 600 * SEC, now, 2, 0, p),
	    0);
	for (k = 0; k < p->n; k++)
		assert_true(p->p50[k] >= p->floor[k] * (1 -
		    SW_LOGHIST_REL_ERROR) && p->p50[k] <= p->peak[k] *
		    (1 + SW_LOGHIST_REL_ERROR));
	sw_summary_counters(s, &c);
	assert_int_equal(c.hist_dropped, 0);
	assert_true(sw_summary_memory(s) <= sw_summary_memory_max(
	    SW_SUMMARY_HIST));
	free(x);
	free(p);
	sw_summary_free(s);
}

static void
test_memory(void **state)
{
	struct sw_summary	*s = mk(0), *h = mk(SW_SUMMARY_HIST);
	size_t			 buckets = 0, m0, mh;
	int			 l;
	int64_t			 sec;

	(void)state;
	for (l = 0; l < SW_SUMMARY_LEVELS; l++)
		buckets += sw_summary_level_buckets(l);
	assert_int_equal(buckets, 361 + 361 + 289 + 337 + 241);
	assert_int_equal(sw_summary_level_width(0), 10000);
	assert_int_equal(sw_summary_level_width(4), 3 * 3600 * 1000);
	assert_int_equal(sw_summary_level_width(5), 0);
	m0 = sw_summary_memory_max(0);
	mh = sw_summary_memory_max(SW_SUMMARY_HIST);
	/* 64 bytes a bucket plus the struct: about 100 KiB */
	assert_true(m0 >= buckets * 64 && m0 <= buckets * 64 + 4096);
	assert_true(m0 < 104 * 1024);
	assert_true(mh > m0 && mh < 2 * 1024 * 1024);
	/* fixed: the same before and after a week of samples */
	assert_int_equal(sw_summary_memory(s), m0);
	for (sec = 0; sec < 7 * 86400; sec += 5)
		sw_summary_add(s, T0 + sec * SEC, (double)sec);
	assert_int_equal(sw_summary_memory(s), m0);
	/* with histograms it grows on demand and stays under the bound */
	assert_true(sw_summary_memory(h) < mh);
	for (sec = 0; sec < 86400; sec += 10)
		sw_summary_add(h, T0 + sec * SEC, 0.1 + (double)(sec % 97) /
		    1000);
	assert_true(sw_summary_memory(h) > sw_summary_memory_max(0));
	assert_true(sw_summary_memory(h) <= mh);
	print_message("memory per series: %zu B (max %zu B with histograms, "
	    "%zu B after a day of 10-s probes)\n", m0, mh,
	    sw_summary_memory(h));
	sw_summary_free(s);
	sw_summary_free(h);
	sw_summary_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sawtooth_floors),
		cmocka_unit_test(test_segments_not_mixed),
		cmocka_unit_test(test_ring_wrap),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
