/*
 * eval.h: evaluation of rule expressions (expr.h trees) over per-series
 * summaries (summary.h). The internal interface between the engine
 * (lib/rules.c: series registry, process instances, alert state machine)
 * and the evaluator (lib/eval.c: window and trend functions, interval
 * arithmetic, confidence gates). Nothing here reads the clock, the store
 * or the configuration: the engine hands in the time and the series.
 *
 * Semantics are documented in slopewatch-rules(7), section EVALUATION.
 */
#ifndef SW_EVAL_H
#define SW_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "slopewatch/expr.h"
#include "slopewatch/rules.h"
#include "slopewatch/summary.h"
#include "slopewatch/units.h"

struct sw_err;

/* Trend fits use at most this many points, whatever the window (so the
 * cost of doubling(x, 7d) is the cost of doubling(x, 1h)): 5-minute
 * floors over 6 h, 20-minute floors over a day. */
#define SW_EVAL_TREND_POINTS	72
/* A trend verdict needs this many points, covering half the window. */
#define SW_EVAL_MIN_POINTS	12
/* Confidence gates of a trend comparison that relies on growth: the
 * Mann-Kendall |Z|, and the deceleration guard (eval.c, recent_guard):
 * the slope of the most recent 1/SW_EVAL_RECENT_PART of the points (at
 * least SW_EVAL_RECENT_MIN_POINTS of them) must not be more than
 * SW_EVAL_DECEL_Z standard errors below SW_EVAL_DECEL_GATE x the whole
 * window's slope. */
#define SW_EVAL_Z_GATE		2.33
#define SW_EVAL_DECEL_GATE	0.75
#define SW_EVAL_RECENT_PART	3
#define SW_EVAL_RECENT_MIN_POINTS 6
#define SW_EVAL_DECEL_Z		1.0
/* A bare series is its newest sample no older than this. */
#define SW_EVAL_STALE_MS	(5 * 60 * 1000)
/* Lookback for the value of a series at a window's start (delta, rate,
 * histogram_quantile). */
#define SW_EVAL_LOOKBACK_MS	(15 * 60 * 1000)
/* Most buckets (distinct le) of one histogram selection. */
#define SW_EVAL_HIST_LE_MAX	64
/* Process instances remembered per target. */
#define SW_EVAL_SEGS		16
/* Per-lifetime view: segments shown, points a lifetime needs. */
#define SW_EVAL_LIFETIMES	5
#define SW_EVAL_LIFETIME_MIN_POINTS 6

/* One process instance (a segment of the target's series). */
struct sw_eval_seg {
	uint32_t	id;		/* summary segment id */
	int64_t		start_ms;	/* first sample of the instance */
	int64_t		started_ms;	/* process start (warm-up counts from it) */
	long		pid;
};

/* What the evaluator knows of a target. */
struct sw_eval_target {
	const char		*name;
	int64_t			 warmup_ms;
	struct sw_eval_seg	 segs[SW_EVAL_SEGS];	/* oldest first */
	int			 nsegs;
};

/* Quantile windows cached per series (see eval.c, quantile). */
#define SW_EVAL_QCACHE		4

/* The merged histogram of a window's closed buckets, reused while the
 * set of those buckets does not change (caller storage in the series;
 * sw_loghist_init'ed with SW_SUMMARY_MERGE_BINS by the engine). */
struct sw_eval_qcache {
	int		 used;
	int64_t		 window_ms;
	int		 level;
	uint64_t	 count;
	int64_t		 first_ts;
	int64_t		 last_ts;
	double		 sum;
	uint64_t	 age;		/* for replacement */
	struct sw_loghist h;
};

/* One series as the engine keeps it. */
struct sw_eval_series {
	const char		*target;
	const char		*metric;
	const char		*labels;
	enum sw_unit		 unit;
	struct sw_summary	*raw;	/* the samples (NULL: not kept) */
	struct sw_summary	*ctr;	/* counter view, resets folded in
					   (NULL: not kept) */
	const struct sw_eval_target *tgt; /* NULL: no instances */
	struct sw_eval_qcache	 qc[SW_EVAL_QCACHE];
	uint64_t		 qtick;
};

/* The buckets of a histogram selection (counter views, by le). */
struct sw_eval_hist {
	int			 n;
	double			 le[SW_EVAL_HIST_LE_MAX];
	struct sw_summary	*ctr[SW_EVAL_HIST_LE_MAX];
};

/* Memory the evaluator reuses between evaluations (one per engine). */
struct sw_eval_scratch {
	struct sw_summary_points pts;
	double		 t[SW_SUMMARY_POINTS_MAX];
	double		 y[SW_SUMMARY_POINTS_MAX];
	double		 ly[SW_SUMMARY_POINTS_MAX];
	double		 t2[SW_SUMMARY_POINTS_MAX];
	double		 y2[SW_SUMMARY_POINTS_MAX];
	uint32_t	 seg[SW_SUMMARY_POINTS_MAX];
	uint32_t	 seg2[SW_SUMMARY_POINTS_MAX];
	double		*ts;		/* Theil-Sen scratch */
	size_t		 tsn;		/* doubles in ts */
	struct sw_loghist hist;		/* window quantiles */
};

/* Finds a series by name; NULL when the engine does not keep it. */
typedef struct sw_eval_series *(*sw_eval_lookup_cb)(void *arg,
    const char *target, const char *metric, const char *labels);
/* Finds the buckets of histogram_quantile's selection (metric without
 * _bucket, labels the selector); NULL when none. */
typedef const struct sw_eval_hist *(*sw_eval_hist_cb)(void *arg,
    const char *target, const char *metric, const char *labels);

struct sw_eval_ctx {
	int64_t			 now_ms;
	int			 across_restarts;
	int			 detail;	/* also the per-lifetime view */
	sw_eval_lookup_cb	 lookup;
	sw_eval_hist_cb		 hist;
	void			*arg;
	struct sw_eval_scratch	*scratch;
};

/* Allocates the scratch (new; release with sw_eval_scratch_release). */
int	sw_eval_scratch_init(struct sw_eval_scratch *sc, struct sw_err *err);
void	sw_eval_scratch_release(struct sw_eval_scratch *sc);
size_t	sw_eval_scratch_memory(const struct sw_eval_scratch *sc);

/* Evaluates e at ctx->now_ms into out (always filled: out->ok = 0 and
 * out->why when there is no verdict). */
void	sw_eval(struct sw_eval_ctx *ctx, const struct sw_expr *e,
	    struct sw_value *out);

/* What an expression needs of one series, for the engine's registry. */
#define SW_EVAL_NEED_RAW	0x1	/* the samples */
#define SW_EVAL_NEED_CTR	0x2	/* the counter view */
#define SW_EVAL_NEED_HIST	0x4	/* quantile histograms */
#define SW_EVAL_NEED_HISTSEL	0x8	/* a histogram selection (metric
					   without _bucket, labels a selector) */
struct sw_eval_need {
	const char	*target;
	const char	*metric;
	const char	*labels;
	enum sw_unit	 unit;		/* SW_UNIT_NONE when unknown */
	int		 unit_known;
	int		 flags;
	int64_t		 span_ms;	/* history the functions look at */
};
typedef int (*sw_eval_need_cb)(const struct sw_eval_need *need, void *arg);
/* Calls cb for every series use of e (a series used twice is reported
 * twice). Stops at and returns the first non-zero return of cb. */
int	sw_eval_needs(const struct sw_expr *e, sw_eval_need_cb cb, void *arg);

#endif
