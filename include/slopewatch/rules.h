/*
 * rules.h: the rules engine. It sits between the sources and the alerts:
 *
 *   samples -> sw_engine_sample (per-series summaries, O(1) per sample)
 *   events  -> sw_engine_instance (a process restart starts a new segment)
 *   ticks   -> sw_engine_eval (each rule's `when` over the summaries, then
 *              the alert state machine) -> transitions to the callback
 *
 * The engine holds summaries only for the series its rules (and queries)
 * reference, so memory is bounded by the rules, not by what is scraped.
 * It never reads the clock: every call takes the time, so backtests and
 * rule unit tests replay history exactly as the agent would have lived it.
 * It never writes SQLite itself: sw_engine_attach_store makes it queue
 * alert-state rows and alert events into the store's next flush, so an
 * alert transition and the sample that caused it land in one transaction.
 *
 * Alert lifecycle per rule (Prometheus semantics, TREND.md §3.5):
 * inactive -> pending (condition true; `for` not yet elapsed) -> firing
 * -> resolved (condition false for `keep`), with `repeat` reminders while
 * firing. A pending alert whose condition turns false goes back to inactive.
 */
#ifndef SW_RULES_H
#define SW_RULES_H

#include <stdint.h>

#include "slopewatch/conf.h"
#include "slopewatch/units.h"

struct sw_err;
struct sw_store;
struct sw_engine;

/* How often the agent (and backtest, and rule tests) evaluate the rules. */
#define SW_ENGINE_EVAL_MS	10000

enum sw_alert_state {
	SW_ALERT_INACTIVE = 0,
	SW_ALERT_PENDING,
	SW_ALERT_FIRING,
};

/* What a trend function saw, for `query`, notifications and `status`. */
struct sw_trend_info {
	int	 valid;		/* a trend function was evaluated */
	double	 slope;		/* base units per second (Theil-Sen) */
	double	 slope_lo;	/* confidence interval (99 %) */
	double	 slope_hi;
	double	 doubling_s;	/* +Inf when flat or falling */
	double	 eta_s;		/* time_to: seconds to the limit; +Inf never */
	double	 level;		/* latest floor (or peak for time_to) */
	double	 z;		/* Mann-Kendall Z */
	double	 confidence;	/* 0..1: how sure the verdict is */
	int	 points;	/* points the fit used */
	int64_t	 from_ms;	/* data the fit covered */
	int64_t	 to_ms;
	/* per-lifetime view: slope in each of the last instances (newest
	 * first), base units per second; NaN where a lifetime was too short */
	double	 lifetime_slope[5];
	int	 nlifetimes;
};

/* The value of an expression at a time. */
struct sw_value {
	int		 ok;		/* 0: no data enough to say (no verdict) */
	int		 is_bool;
	double		 v;		/* number, or 1/0 for a condition */
	enum sw_unit	 unit;
	double		 lhs;		/* for a comparison: its left side */
	double		 rhs;		/*   and its right side (the threshold) */
	struct sw_trend_info trend;	/* of the first trend call, if any */
	char		 why[256];	/* when !ok: what was missing */
};

/* One alert transition, reported by sw_engine_eval. */
struct sw_alert_event {
	const struct sw_conf_rule *rule;	/* borrowed from the conf */
	const char	*event;		/* "pending" "firing" "resolved" "repeat" */
	int64_t		 time_ms;
	int64_t		 active_since_ms;	/* first true evaluation */
	struct sw_value	 value;		/* at this evaluation */
};

typedef void (*sw_alert_cb)(const struct sw_alert_event *ev, void *arg);

/* Builds an engine for conf's rules (parsing each `when`; errors go to
 * diag as FILE:LINE:COL and make it fail). conf is borrowed and must
 * outlive the engine. */
int	sw_engine_new(const struct sw_conf *conf, sw_conf_diag_cb diag,
	    void *diag_arg, struct sw_engine **out);
void	sw_engine_free(struct sw_engine *e);

/* Feeds one sample (the sink's view). Series no rule references are
 * ignored at the cost of one hash lookup. */
void	sw_engine_sample(struct sw_engine *e, const char *target,
	    const char *metric, const char *labels, int64_t ts_ms, double v);
/* A new process instance of target (start or restart event): the
 * target's series begin a new segment at ts_ms. */
void	sw_engine_instance(struct sw_engine *e, const char *target,
	    int64_t ts_ms, long pid);

/* Evaluates every rule at now_ms and runs the state machine; cb (may be
 * NULL) is called for each transition, in rule order. */
void	sw_engine_eval(struct sw_engine *e, int64_t now_ms, sw_alert_cb cb,
	    void *arg);

/* Evaluates an expression (a condition or a number) at now_ms against the
 * engine's data, registering its series first (their history comes from
 * sw_engine_load if a store is attached). -1 with err on a parse error. */
int	sw_engine_query(struct sw_engine *e, const char *text, int64_t now_ms,
	    struct sw_value *out, struct sw_err *err);

/* Loads, for every referenced series, the history its longest window
 * needs (ending at now_ms), and the instance events, from st. */
int	sw_engine_load(struct sw_engine *e, struct sw_store *st, int64_t now_ms,
	    struct sw_err *err);
/* From now on, alert states are read from (once, now) and written to st,
 * and transitions are queued as events ("alert" kind) in st. */
int	sw_engine_attach_store(struct sw_engine *e, struct sw_store *st,
	    struct sw_err *err);

/* Current state of a rule. */
enum sw_alert_state sw_engine_rule_state(const struct sw_engine *e,
	    const char *rule, struct sw_value *last);

/* Bytes held by the engine's summaries (for the docs and the bench). */
size_t	sw_engine_memory(const struct sw_engine *e);

const char *sw_alert_state_name(enum sw_alert_state s);

#endif
