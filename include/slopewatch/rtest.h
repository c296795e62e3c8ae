/*
 * rtest.h: replaying series through the rules, for `slopewatch test` (rule
 * unit tests, slopewatch-test(5)), `slopewatch backtest` and the detection
 * benchmark. Three parts:
 *
 *   input    series held in memory (struct sw_rtest_data), filled from the
 *            compact series notation of test files ("100MB+2MBx600",
 *            promtool's expanding notation plus overlays such as
 *            saw(50MB, 5m)) or from CSV files (header row: time, then one
 *            column per series named TARGET.METRIC);
 *   config   sw_rtest_conf_build: the rules file (or whole config) plus a
 *            stub target for every target the data or the rules name that
 *            the file does not define (kind inferred from the metric names);
 *   replay   sw_rtest_run: feeds the samples in time order to a fresh
 *            engine, starts a process instance when a TARGET.pid series
 *            changes value, evaluates every SW_ENGINE_EVAL_MS of replayed
 *            time and records every transition and state change.
 *
 * Everything from outside is bounded: SW_RTEST_MAX_* below. Errors name
 * FILE:LINE:COL (through the conf diagnostics callback, or in a struct
 * sw_err as "FILE:LINE:COL: message").
 */
#ifndef SW_RTEST_H
#define SW_RTEST_H

#include <stddef.h>
#include <stdint.h>

#include "slopewatch/conf.h"
#include "slopewatch/rules.h"

struct sw_err;

#define SW_RTEST_MAX_SERIES	256		/* series per data set */
#define SW_RTEST_MAX_SAMPLES	20000000	/* samples per data set */
#define SW_RTEST_MAX_FILE	(256u << 20)	/* bytes of a CSV or test file */
#define SW_RTEST_MAX_LINE	65536		/* bytes of a test file line */
#define SW_RTEST_MAX_SPAN_MS	(400LL * 86400000LL)	/* replayed time */
#define SW_RTEST_MAX_EVENTS	100000		/* transitions recorded */
#define SW_RTEST_MAX_CASES	1000		/* test cases per file */
#define SW_RTEST_MAX_EXPECTS	10000		/* expectations per file */
#define SW_RTEST_MAX_TARGETS	64		/* target lines per file */
/* Time of offset 0 in a test file without `start`: 2026-01-01T00:00:00Z. */
#define SW_RTEST_DEFAULT_START	1767225600000LL

/* One input series. Samples are in non-decreasing time order; a NaN value
 * is a missing sample (skipped by the replay). */
struct sw_rtest_series {
	char		*name;		/* as written: web.rss{k="v"} (canonical) */
	char		*target;
	char		*metric;
	char		*labels;	/* canonical, "" for none */
	struct sw_loc	 loc;		/* where it was defined */
	int		 is_pid;	/* metric "pid": process instances */
	size_t		 n;
	size_t		 cap;
	int64_t		*ts;		/* unix ms */
	double		*v;
};

struct sw_rtest_data {
	struct sw_rtest_series	*s;
	int			 n;
	int			 cap;
	size_t			 nsamples;	/* over all series */
	struct sw_strlist	 files;		/* owns loc.file strings */
};

/* Caller storage; nothing allocated until the first add. */
void	sw_rtest_data_init(struct sw_rtest_data *d);
void	sw_rtest_data_release(struct sw_rtest_data *d);
/* The series named name (TARGET.METRIC{labels}), or NULL. */
struct sw_rtest_series *sw_rtest_data_find(const struct sw_rtest_data *d,
	    const char *name);
/* Adds an empty series; -1 with err when name is not TARGET.METRIC, is
 * already there ("given twice"), or a cap is reached. loc is copied (its
 * file pointer borrowed: it must outlive d, see sw_rtest_data_file). */
int	sw_rtest_data_add(struct sw_rtest_data *d, const char *name,
	    const struct sw_loc *loc, struct sw_rtest_series **out,
	    struct sw_err *err);
/* Appends one sample; -1 with err when time goes backwards or the sample
 * cap is reached. */
int	sw_rtest_series_push(struct sw_rtest_data *d, struct sw_rtest_series *s,
	    int64_t ts, double v, struct sw_err *err);
/* A copy of path that lives as long as d (for locations); NULL when memory
 * is short. */
const char *sw_rtest_data_file(struct sw_rtest_data *d, const char *path);
/* First and last sample time over all series; -1 when there is none. */
int	sw_rtest_data_span(const struct sw_rtest_data *d, int64_t *first,
	    int64_t *last);

/*
 * Reads a CSV file (or text of len bytes, named name for errors) into d.
 * The header row's first column is the time (any name); every other column
 * is a series named by its header (TARGET.METRIC or TARGET.METRIC{k="v"};
 * RFC 4180 quotes allowed). Time: unix seconds (decimals allowed), unix
 * milliseconds (integers >= 1e11) or RFC 3339. Values: numbers in base
 * units; an empty field, "NaN" or "_" is a missing sample. Rows must not go
 * back in time; blank lines and CR-LF are fine. -1 with err
 * ("FILE:LINE:COL: message") on any error; d may then hold part of the
 * file.
 */
int	sw_rtest_csv_load(struct sw_rtest_data *d, const char *path,
	    struct sw_err *err);
int	sw_rtest_csv_parse(struct sw_rtest_data *d, const char *name,
	    const char *text, size_t len, struct sw_err *err);

/* Parses a time: RFC 3339, or unix seconds / milliseconds (told apart by
 * magnitude, decimals allowed for seconds). 0 and *ms, or -1. */
int	sw_rtest_parse_time(const char *s, size_t n, int64_t *ms);

/*
 * Series notation (slopewatch-test(5)): space-separated terms, each
 * continuing at the next step, then optional overlays added to every sample
 * of the line:
 *   a          one sample          a+bxN  N+1 samples a, a+b, ... a+N*b
 *   axN        N+1 samples of a    a-bxN  decrementing
 *   a*bxN      N+1 samples a, a*b, ... a*b^N (b a plain number)
 *   _          a missing sample    _xN    N missing samples
 * N is a count, or a duration (N = duration / step). Values take units
 * (100MB, 250ms, 5%) and are kept in base units.
 *   saw(AMP, PERIOD)   GC sawtooth: + AMP * (phase within PERIOD)
 *   wave(AMP, PERIOD)  + AMP * sin(2 pi t / PERIOD)  (daily load)
 *   noise(SIGMA)       + gaussian noise (deterministic: seed)
 *   jitter(P%)         * exp(P * gaussian)  (latency-like noise)
 *   spike(AT, HEIGHT)  + HEIGHT at the first sample at or after offset AT
 * text is one line; at is the location of its first byte (errors give the
 * column of the term at fault through err, "FILE:LINE:COL: message").
 * Samples go to s from start_ms every step_ms. seed makes noise
 * reproducible. -1 with err on a syntax error or a cap.
 */
int	sw_rtest_notation(struct sw_rtest_data *d, struct sw_rtest_series *s,
	    const char *text, const struct sw_loc *at, int64_t start_ms,
	    int64_t step_ms, uint64_t seed, struct sw_err *err);

/* Target options a test file (or a caller) gives for an inferred target. */
struct sw_rtest_target {
	char		*name;
	struct sw_loc	 loc;
	int		 kind;		/* enum sw_target_kind, or -1: inferred */
	int64_t		 warmup_ms;	/* -1: not given */
	double		 limit;		/* bytes; <= 0: not given */
};

/* The kind a target is given from the metric name (process for rss, pss,
 * ..., endpoint for latency, up, ..., scrape otherwise). */
enum sw_target_kind sw_rtest_infer_kind(const char *metric);

/*
 * Builds the config a replay runs with: path (a rules file, or a whole
 * config) loaded with sw_conf_load; then every target named by d's series,
 * by the rules' expressions, or by tg (ntg entries) that the file does not
 * define gets a stub block (a process target gets `pid 1`, an endpoint or
 * scrape target a 127.0.0.1 URL; `every` is the median sample spacing of
 * its series, clamped to 1 s .. 1 h; kind, warmup and limit from tg or
 * inferred). A target in tg that the file defines is an error. d and tg may
 * be NULL. Errors (of the file, or of the stubs, named "PATH (inferred
 * targets)") go to diag. 0 and a new conf, or -1.
 */
int	sw_rtest_conf_build(const char *path, const struct sw_rtest_data *d,
	    const struct sw_rtest_target *tg, int ntg, struct sw_conf **out,
	    sw_conf_diag_cb diag, void *diag_arg);

/* One recorded transition, or a state change (event NULL). */
struct sw_rtest_event {
	const struct sw_conf_rule *rule;	/* borrowed from the conf */
	const char	*event;		/* "pending" "firing" "resolved"
					   "repeat"; NULL: state change only */
	enum sw_alert_state state;	/* the rule's state after it */
	int64_t		 time_ms;
	int		 ok;		/* value.ok */
	int		 is_bool;
	double		 v;		/* value.v */
	double		 lhs;		/* value.lhs (NaN if none) */
	double		 rhs;
	enum sw_unit	 unit;		/* of v */
	enum sw_unit	 lhs_unit;	/* of lhs */
	char		 desc[160];	/* sw_value_describe */
};

struct sw_rtest_result {
	struct sw_rtest_event	*ev;		/* time order */
	size_t			 n;
	size_t			 cap;
	size_t			 dropped;	/* past SW_RTEST_MAX_EVENTS */
	int64_t			 first_eval_ms;
	int64_t			 last_eval_ms;
	uint64_t		 evals;
	size_t			 engine_bytes;	/* sw_engine_memory at the end */
};

void	sw_rtest_result_init(struct sw_rtest_result *r);
void	sw_rtest_result_release(struct sw_rtest_result *r);

/*
 * Replays d through a new engine for conf (engine errors go to diag) from
 * the first sample up to until_ms (or the last sample when until_ms is
 * smaller): samples in time order (at equal times, instance changes
 * first), an evaluation at every multiple of step_ms (0: the agent's
 * SW_ENGINE_EVAL_MS) after all samples at or before it. Every transition
 * the engine reports and every change of a rule's state
 * (sw_engine_rule_state) is appended to r. 0, or -1 with err (no data,
 * span too long, memory) or after diag (the engine could not be built).
 */
int	sw_rtest_run(const struct sw_conf *conf, const struct sw_rtest_data *d,
	    int64_t until_ms, int64_t step_ms, struct sw_rtest_result *r,
	    sw_conf_diag_cb diag, void *diag_arg, struct sw_err *err);

/* The value of an event as users read it: the left side of a comparison
 * (the measured quantity, e.g. the doubling time) when the rule's value is
 * a condition that has one, else the value itself; *unit (may be NULL)
 * gets its unit. */
double	sw_rtest_event_value(const struct sw_rtest_event *ev,
	    enum sw_unit *unit);

/* ---------------------------------------------------------------------- */
/* Test files (slopewatch-test(5)). */

enum sw_rtest_expect_kind {
	SW_EXPECT_NONE = 0,	/* no event at all */
	SW_EXPECT_NEVER,	/* never EVENT */
	SW_EXPECT_STATE_AT,	/* state at T */
	SW_EXPECT_BY,		/* first EVENT at or before T */
	SW_EXPECT_AFTER,	/* first EVENT exists and is after T */
	SW_EXPECT_BETWEEN,	/* first EVENT within [T, T2] */
};

struct sw_rtest_expect {
	char			*rule;
	struct sw_loc		 loc;
	enum sw_rtest_expect_kind kind;
	const char		*event;		/* "pending" "firing" "resolved" */
	enum sw_alert_state	 state;		/* STATE_AT */
	int64_t			 t1_ms;		/* absolute unix ms */
	int64_t			 t2_ms;
};

struct sw_rtest_case {
	char			*name;		/* "" for the unnamed case */
	struct sw_loc		 loc;
	int64_t			 start_ms;	/* offset 0 */
	int64_t			 until_ms;	/* end of evaluation */
	int64_t			 eval_ms;	/* evaluation interval */
	struct sw_rtest_data	 data;
	struct sw_rtest_expect	*expect;
	int			 nexpect;
};

struct sw_rtest_file {
	char			*path;
	char			*rules;		/* resolved path of `rules` */
	struct sw_loc		 rules_loc;
	struct sw_rtest_target	*targets;
	int			 ntargets;
	struct sw_rtest_case	*cases;
	int			 ncases;
	struct sw_strlist	 files;		/* owns location file names */
};

/*
 * Parses a test file. Errors go to diag as FILE:LINE:COL (parsing goes on
 * with the next line, so all are shown); *nerrors (may be NULL) gets the
 * count. 0 and a new file (sw_rtest_file_free), or -1 (*out NULL).
 */
int	sw_rtest_file_load(const char *path, struct sw_rtest_file **out,
	    sw_conf_diag_cb diag, void *diag_arg, int *nerrors);
/* The same on text in memory, as if read from path. */
int	sw_rtest_file_parse(const char *path, const char *text, size_t len,
	    struct sw_rtest_file **out, sw_conf_diag_cb diag, void *diag_arg,
	    int *nerrors);
void	sw_rtest_file_free(struct sw_rtest_file *f);

/* Checks one expectation against r (the events of a run); returns 1 when
 * it holds, 0 when not. */
int	sw_rtest_expect_check(const struct sw_rtest_expect *x,
	    const struct sw_rtest_result *r);

/* Formats a duration compactly ("0s", "45s", "6h10m", "1d2h", "-5m");
 * returns dst. */
char	*sw_rtest_fmt_offset(char *dst, size_t dstsz, int64_t ms);

#endif
