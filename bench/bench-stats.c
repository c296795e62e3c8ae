#include "config.h"
/*
 * bench-stats.c: figures for the stats area, no assertions. Prints the
 * Theil-Sen cost (with Mann-Kendall S and both CI bounds) for n = 72, 144,
 * 288, 576; the summary's cost per sample; extraction + Theil-Sen for 1 h,
 * 1 d and 7 d windows of a series fed one sample a second (7 d = 604,800
 * samples), which should cost about the same; and memory per series.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "slopewatch/err.h"
#include "slopewatch/stats.h"
#include "slopewatch/summary.h"

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rng(uint64_t *st)
{
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 2685821657736338717ULL;
}

static double
unit(uint64_t *st)
{
	return (double)(rng(st) >> 11) / 9007199254740992.0;
}

/* keeps results alive so the compiler does not drop the work */
static volatile double	sink;

static void
bench_theilsen(void)
{
	static const size_t	 ns[] = { 72, 144, 288, 576 };
	struct sw_trend		 tr;
	double			*t, *y, *scratch, t0, dt;
	uint64_t		 st = 1;
	size_t			 i, k, reps;
	int			 r;

	for (k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		size_t	n = ns[k];

		t = malloc(n * sizeof(*t));
		y = malloc(n * sizeof(*y));
		scratch = malloc(SW_STATS_THEILSEN_SCRATCH(n) *
		    sizeof(*scratch));
		if (t == NULL || y == NULL || scratch == NULL) {
			fprintf(stderr, "bench-stats: out of memory\n");
			exit(1);
		}
		for (i = 0; i < n; i++) {
			t[i] = 1.7e9 + 300.0 * (double)i;
			y[i] = 1e8 + 50.0 * (double)i + 3e6 * unit(&st);
		}
		reps = 200000 / n + 5;
		t0 = now_s();
		for (r = 0; r < (int)reps; r++) {
			sw_stats_theilsen(t, y, n, SW_STATS_Z99, &tr, scratch);
			sink = tr.slope;
		}
		dt = (now_s() - t0) / (double)reps;
		printf("theilsen n=%-4zu  %9.1f us per fit  (%zu slopes)\n", n,
		    dt * 1e6, tr.npairs);
		free(t);
		free(y);
		free(scratch);
	}
}

static struct sw_summary *
feed(int flags, int64_t t0, int64_t nsec, double *per_sample)
{
	struct sw_summary	*s;
	struct sw_err		 err;
	uint64_t		 st = 7;
	int64_t			 sec;
	double			 a;

	sw_err_clear(&err);
	if (sw_summary_new(flags, &s, &err) == -1) {
		fprintf(stderr, "bench-stats: %s\n", err.msg);
		exit(1);
	}
	a = now_s();
	for (sec = 0; sec < nsec; sec++) {
		double	v;

		if (flags & SW_SUMMARY_HIST)	/* latency, seconds */
			v = 0.08 * exp(unit(&st));
		else				/* GC sawtooth + leak */
			v = 1e8 + 100.0 * (double)sec +
			    (double)(sec % 60) * 1e5 + 1e5 * unit(&st);
		sw_summary_add(s, t0 + sec * 1000, v);
	}
	*per_sample = (now_s() - a) / (double)nsec;
	return s;
}

static void
bench_windows(void)
{
	static const struct {
		const char	*name;
		int64_t		 span;
	} win[] = {
		{ "1h", 3600 }, { "1d", 86400 }, { "7d", 7 * 86400 },
	};
	struct sw_summary_points	*p;
	struct sw_summary		*s, *h;
	struct sw_trend			 tr;
	double				 per, perh, a, dt, scratch[10296];
	int64_t				 t0 = (int64_t)10800000 * 157000;
	int64_t				 nsec = 7 * 86400, now;
	size_t				 i;
	int				 r, reps = 2000;

	p = malloc(sizeof(*p));
	if (p == NULL)
		exit(1);
	s = feed(0, t0, nsec, &per);
	h = feed(SW_SUMMARY_HIST, t0, 86400, &perh);
	printf("summary add     %9.1f ns per sample (no histogram, %lld "
	    "samples)\n", per * 1e9, (long long)nsec);
	printf("summary add     %9.1f ns per sample (with histogram)\n",
	    perh * 1e9);
	now = t0 + (nsec - 1) * 1000;
	for (i = 0; i < sizeof(win) / sizeof(win[0]); i++) {
		a = now_s();
		for (r = 0; r < reps; r++) {
			sw_summary_points(s, now - win[i].span * 1000, now, 144,
			    SW_SUMMARY_CURSEG, p);
			sw_stats_theilsen(p->t, p->floor, p->n, SW_STATS_Z99,
			    &tr, scratch);
			sink = tr.slope;
		}
		dt = (now_s() - a) / reps;
		printf("window %-3s       %9.1f us extraction + theilsen "
		    "(level %d, %zu points, slope %.1f B/s)\n", win[i].name,
		    dt * 1e6, p->level, p->n, tr.slope);
	}
	a = now_s();
	for (r = 0; r < reps; r++)
		sink = sw_summary_quantile(h, t0 + 3600 * 1000,
		    t0 + 86399 * 1000, 0, 0.99);
	printf("p99 over 23h    %9.1f us (merged histograms)\n",
	    (now_s() - a) / reps * 1e6);
	printf("memory/series   %9zu B without histograms (now %zu B)\n",
	    sw_summary_memory_max(0), sw_summary_memory(s));
	printf("memory/series   %9zu B max with histograms (now %zu B after "
	    "1 d of 1-s latencies)\n", sw_summary_memory_max(SW_SUMMARY_HIST),
	    sw_summary_memory(h));
	sw_summary_free(s);
	sw_summary_free(h);
	free(p);
}

int
main(void)
{
	bench_theilsen();
	bench_windows();
	return 0;
}
