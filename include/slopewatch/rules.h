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
 * With a store attached (sw_engine_attach_store), every change of a rule's
 * alert state is written at once to the alert_state table (created if
 * missing; one small autocommit write per change, so a crash cannot lose
 * a firing alert), and every transition is queued as an "alert" event for
 * the store's next flush. Evaluation semantics (windows, trend fits,
 * confidence gates, no verdict) are in slopewatch-rules(7), EVALUATION.
 *
 * Alert lifecycle per rule (Prometheus semantics, TREND.md §3.5):
 * inactive -> pending (condition true; `for` not yet elapsed) -> firing
 * -> resolved (condition false for `keep`), with `repeat` reminders while
 * firing. A pending alert whose condition turns false goes back to inactive.
 */
#ifndef SW_RULES_H
#define SW_RULES_H

#include <stddef.h>
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
	/* added by the engine (see slopewatch-rules(7), EVALUATION) */
	char	 fn[24];	/* "doubling", "slope", ... */
	char	 series[160];	/* target.metric{labels} */
	double	 slope_log;	/* Theil-Sen on ln(signal), per second */
	double	 slope_log_lo;
	double	 slope_log_hi;
	double	 doubling_lo_s;	/* doubling time interval (+Inf: never) */
	double	 doubling_hi_s;
	double	 eta_lo_s;	/* time_to interval */
	double	 eta_hi_s;
	double	 decel;		/* recent-third slope / whole-window slope */
	int	 gates;		/* 1: MK Z and the deceleration guard pass */
	int	 segments;	/* instances the fit spans */
	int64_t	 width_ms;	/* period of one point */
	enum sw_unit unit;	/* of the series */
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
	char		 lhs_text[128];	/* the comparison's left side, as text */
	enum sw_unit	 lhs_unit;	/* and its unit */
	int		 conservative;	/* the comparison involved a trend call
					   and was judged on its CI (rules(7)) */
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
/* The same, with the process's own start time (started_ms, unix ms; 0 when
 * unknown = ts_ms): the target's warm-up counts from it, so an instance
 * that was already running when the agent started is not in warm-up. An
 * event for the instance already current (same pid) does nothing, so the
 * "start" every agent restart reports does not split the series. */
void	sw_engine_instance_at(struct sw_engine *e, const char *target,
	    int64_t ts_ms, long pid, int64_t started_ms);

/* Evaluates every rule at now_ms and runs the state machine; cb (may be
 * NULL) is called for each transition, in rule order. */
void	sw_engine_eval(struct sw_engine *e, int64_t now_ms, sw_alert_cb cb,
	    void *arg);

/* Evaluates an expression (a condition or a number) at now_ms against the
 * engine's data, registering its series first (series new to the engine
 * load their history, ending at now_ms, from the store of
 * sw_engine_set_history / sw_engine_load, if any). Trend info includes the
 * per-lifetime view. -1 with err on a parse error ("1:COL: message", the
 * column in text) or a store error. */
int	sw_engine_query(struct sw_engine *e, const char *text, int64_t now_ms,
	    struct sw_value *out, struct sw_err *err);

/* Loads, for every referenced series, the history its longest window
 * needs (ending at now_ms), and the instance events, from st. */
int	sw_engine_load(struct sw_engine *e, struct sw_store *st, int64_t now_ms,
	    struct sw_err *err);
/* From now on, alert states are read from (once, now) and written to st,
 * and transitions are queued as events ("alert" kind) in st: the detail
 * JSON has rule, event, severity, value, lhs, rhs, active_since_ms,
 * description, summary, notify (names), action (name) and trend. A rule
 * restored as firing is not announced again; a pending one keeps its
 * `for` clock only if the agent was down less than an hour. st must be
 * writable and outlive the engine. */
int	sw_engine_attach_store(struct sw_engine *e, struct sw_store *st,
	    struct sw_err *err);
/* Series registered after this call (by sw_engine_query) load their
 * history from st (borrowed, may be read-only; NULL: none). sw_engine_load
 * sets it too. */
void	sw_engine_set_history(struct sw_engine *e, struct sw_store *st);

/* Recent values of the first series a rule's condition reads, over that
 * call's window ending at now_ms, oldest first, at most max (a sparkline
 * for notifications; from the in-memory summaries, never SQLite). Returns
 * how many were written; *series_target (may be NULL) is set to the
 * series' target (borrowed) when found. */
int	sw_engine_spark(struct sw_engine *e, const char *rule, int64_t now_ms,
	    double *vals, int max, const char **series_target);

/* The target a rule is about: that of the first series its condition
 * reads (borrowed from the rule), or NULL. */
const char *sw_engine_rule_target(const struct sw_engine *e,
	    const char *rule);

/* Current state of a rule. */
enum sw_alert_state sw_engine_rule_state(const struct sw_engine *e,
	    const char *rule, struct sw_value *last);

/* Bytes held by the engine's summaries (for the docs and the bench). */
size_t	sw_engine_memory(const struct sw_engine *e);

const char *sw_alert_state_name(enum sw_alert_state s);

/* One line for humans about a value: "web.rss doubling every 19 h (CI
 * 15 h-26 h, 42 points)", "p50(checkout.latency, 5m) = 2.3 s (threshold
 * 2 s)", "no verdict: ...". Writes at most dstsz bytes; returns dst. */
char	*sw_value_describe(const struct sw_value *v, char *dst, size_t dstsz);

#endif
