/*
 * summary.h: the per-series streaming summary that makes a rule's cost
 * independent of its window length. Samples are folded, as they arrive,
 * into fixed rings of time buckets at five resolutions; a rule reads a
 * bounded number of buckets, never the raw samples, so doubling(x, 7d)
 * costs what doubling(x, 1h) costs.
 *
 * Levels (each ring holds N complete periods plus the one in progress, so a
 * window of the nominal span is always covered at its own level):
 *
 *   level  width   buckets  span
 *   0      10 s    361      1 h
 *   1      1 min   361      6 h
 *   2      5 min   289      24 h
 *   3      30 min  337      7 d
 *   4      3 h     241      30 d
 *
 * Every bucket keeps n, min (the post-GC floor), max (the peak), sum, last,
 * the first and last sample timestamps and the segment id; with
 * SW_SUMMARY_HIST also a log histogram (stats.h, <= 0.5415 % relative
 * error on every quantile) of at most SW_SUMMARY_HIST_BINS bins.
 * Buckets are aligned to multiples of their width in unix milliseconds.
 *
 * Memory per series (reported by sw_summary_memory / sw_summary_memory_max;
 * figures for x86-64): without histograms everything is allocated at
 * sw_summary_new and never grows: 1589 buckets x 64 bytes plus the struct
 * = 102,080 bytes (~100 KiB). SW_SUMMARY_HIST adds a 48-byte histogram
 * header per bucket and up to SW_SUMMARY_HIST_BINS x 8 bytes of bins per
 * bucket, plus a 16 KiB merge histogram, allocated on demand (a bucket holds
 * at most one bin per sample, and a ring slot keeps its allocation when
 * reused, so the steady state allocates nothing): at most 1,821,872 bytes
 * (~1.74 MiB); measured ~310 KB after a day of 10-s probes and ~760 KB
 * after a day of 1-s probes (test_summary, bench-stats).
 *
 * Segments (process instances): sw_summary_segment starts a new one.
 * Buckets never mix segments: a period in which a restart happens gets one
 * bucket per segment (so a ring may span a little less than its nominal
 * time if restarts are frequent).
 *
 * Cost: sw_summary_add is O(levels) (plus O(bins) for an insertion in a
 * histogram); an out-of-order sample costs O(its distance from the newest
 * bucket). Extraction reads at most one ring (<= 361 buckets).
 *
 * Not thread-safe; one summary per series, owned by its caller.
 */
#ifndef SW_SUMMARY_H
#define SW_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "slopewatch/stats.h"

struct sw_err;
struct sw_summary;

#define SW_SUMMARY_LEVELS	5
/* Bins per bucket histogram, and of the merge histogram used by
 * sw_summary_quantile and the per-point medians. */
#define SW_SUMMARY_HIST_BINS	128
#define SW_SUMMARY_MERGE_BINS	2048
/* Most points sw_summary_points returns. */
#define SW_SUMMARY_POINTS_MAX	512

/* sw_summary_new flags */
#define SW_SUMMARY_HIST		0x1	/* keep log histograms (latency) */

/* Creates a summary (new; free with sw_summary_free). flags: 0 or
 * SW_SUMMARY_HIST. The initial segment id is 0. -1 with err when memory is
 * short. */
int	sw_summary_new(int flags, struct sw_summary **out, struct sw_err *err);
void	sw_summary_free(struct sw_summary *s);

/*
 * Adds one sample (ts in unix ms). In order (ts >= the newest sample seen
 * at a level) it folds into that level's newest bucket or starts a new one
 * (new period, or new segment). Older samples fold into the bucket of their
 * period and segment if it is still in the ring; otherwise (evicted, or a
 * period with no bucket) that level ignores them. Returns 0 when every
 * level took the sample, 1 when at least one level ignored it (counted, see
 * sw_summary_counters), -1 when v or ts is unusable (non-finite v: skipped
 * and counted). A histogram that cannot grow (memory short) drops the
 * value from that bucket's histogram only (counted).
 */
int	sw_summary_add(struct sw_summary *s, int64_t ts_ms, double v);

/* Starts segment segment_id at ts_ms (a process restart). Samples with
 * ts >= ts_ms belong to it, older late samples to the previous segment.
 * Ids should be unique per instance (e.g. a counter); calling it again
 * with the current id does nothing. */
void	sw_summary_segment(struct sw_summary *s, int64_t ts_ms,
	    uint32_t segment_id);
/* The current segment id and the ts it started at (INT64_MIN if never
 * set). */
uint32_t sw_summary_segment_id(const struct sw_summary *s);
int64_t	sw_summary_segment_start(const struct sw_summary *s);

struct sw_summary_counters {
	uint64_t	added;		/* samples taken (by the finest level) */
	uint64_t	late;		/* out-of-order samples folded in */
	uint64_t	ignored;	/* samples at least one level ignored */
	uint64_t	invalid;	/* non-finite values skipped */
	uint64_t	hist_dropped;	/* values a histogram could not take */
	int64_t		first_ts;	/* oldest sample ever (INT64_MAX none) */
	int64_t		last_ts;	/* newest sample (INT64_MIN none) */
};
void	sw_summary_counters(const struct sw_summary *s,
	    struct sw_summary_counters *out);

/* Bytes the summary uses now (struct, rings, allocated histogram bins). */
size_t	sw_summary_memory(const struct sw_summary *s);
/* The most bytes a summary made with flags can ever use. */
size_t	sw_summary_memory_max(int flags);
/* A level's bucket width (ms) and ring length; 0 for a bad level. */
int64_t	sw_summary_level_width(int level);
uint32_t sw_summary_level_buckets(int level);

/* sw_summary_points / sw_summary_window flags */
#define SW_SUMMARY_CURSEG	0x1	/* only the current segment's buckets */
#define SW_SUMMARY_CLOSED	0x2	/* drop points whose period ends after
					   to (the bucket still filling) */

/*
 * Points of a window, for trend fits. Arrays of n entries, oldest first.
 * t is the end of the point's period in unix seconds (a double: slopes
 * come out per second). floor = min, peak = max, mean = sum / count,
 * last = newest value, p50 = median from the merged histograms (NaN
 * without SW_SUMMARY_HIST), seg = segment id.
 */
struct sw_summary_points {
	size_t		n;
	int		level;		/* level the points come from */
	int64_t		width_ms;	/* period of one point */
	int		complete;	/* the level holds the whole window */
	double		t[SW_SUMMARY_POINTS_MAX];
	double		floor[SW_SUMMARY_POINTS_MAX];
	double		peak[SW_SUMMARY_POINTS_MAX];
	double		mean[SW_SUMMARY_POINTS_MAX];
	double		last[SW_SUMMARY_POINTS_MAX];
	double		p50[SW_SUMMARY_POINTS_MAX];
	uint64_t	count[SW_SUMMARY_POINTS_MAX];
	uint32_t	seg[SW_SUMMARY_POINTS_MAX];
};

/*
 * Fills out with the window (from_ms, to_ms]. A bucket belongs to the
 * window when its sample span [first ts, last ts] meets (from, to]: edge
 * buckets are taken whole, so the window is widened by less than one
 * bucket width of the chosen level at each end. The level is the finest
 * whose ring still holds the whole window (else the coarsest: complete
 * = 0). If it has more than max_points buckets in the window, adjacent
 * buckets are merged in groups of k periods aligned to multiples of
 * k x width (so points are stable from one evaluation to the next), k the
 * smallest that gives <= max_points points; a group never mixes segments
 * (if even the largest useful k leaves more points than max_points, as
 * with many restarts and a tiny max_points, the oldest are dropped).
 * A floor is only a post-GC floor if a point spans several GC cycles:
 * callers wanting points of at least W ms pass max_points = window / W
 * (e.g. 72 for 5-minute floors over 6 h; TREND 2.3 step 2).
 * max_points is clamped to [1, SW_SUMMARY_POINTS_MAX]. Returns 0 (n may
 * be 0), -1 for from >= to or NULL arguments. Cost O(ring length).
 * Not const: computing p50 uses the summary's merge histogram.
 */
int	sw_summary_points(struct sw_summary *s, int64_t from_ms, int64_t to_ms,
	    size_t max_points, int flags, struct sw_summary_points *out);

/* Aggregates of a window. */
struct sw_summary_agg {
	uint64_t	count;
	double		min;
	double		max;
	double		sum;
	double		avg;		/* NaN when count = 0 */
	double		last;		/* value of the newest sample */
	int64_t		first_ts;	/* oldest sample in the buckets */
	int64_t		last_ts;	/* newest sample */
	int		level;
	int64_t		width_ms;	/* bound of the edge widening */
	int		complete;
};

/*
 * Aggregates over the window (from_ms, to_ms], same bucket and level
 * choice as sw_summary_points without merging (every bucket of the finest
 * complete level, <= 361). If hist is not NULL (a histogram the caller
 * initialised) it is reset and receives the merged histograms of those
 * buckets (empty without SW_SUMMARY_HIST); its quantiles are within
 * SW_LOGHIST_REL_ERROR of the exact quantiles of the samples in those
 * buckets (the window widened to whole buckets, as above). Returns 0, or
 * -1 for from >= to, NULL s/out, or a histogram that could not grow.
 */
int	sw_summary_window(const struct sw_summary *s, int64_t from_ms,
	    int64_t to_ms, int flags, struct sw_summary_agg *out,
	    struct sw_loghist *hist);

/* The phi-quantile of the window (p50 p90 p95 p99 pN), from the merged
 * histograms (SW_SUMMARY_HIST needed): NaN without histograms, with no
 * sample, or on failure; -Inf / +Inf for phi < 0 / > 1. */
double	sw_summary_quantile(struct sw_summary *s, int64_t from_ms,
	    int64_t to_ms, int flags, double phi);

#endif
