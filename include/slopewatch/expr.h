/*
 * expr.h: the rule expression language (slopewatch-rules(7)): parsing,
 * unit and type checking, and printing. Evaluation lives elsewhere; it walks
 * the public tree below.
 *
 * An expression is parsed from the raw text of a rule's `when` (or of
 * `slopewatch query EXPR`) into a tree of struct sw_expr. Every node carries
 * its result type (a condition, or a number with a unit) and where it came
 * from in the text. Errors are reported through the config's diagnostics
 * callback as FILE:LINE:COL (the text's own location plus the byte offset;
 * the text never spans lines). A syntax error ends parsing; type and unit
 * errors are all reported. Nothing in the text can make the parser recurse
 * or allocate without bound: the text is at most SW_EXPR_MAX_LEN bytes and
 * the tree at most SW_EXPR_MAX_DEPTH levels high.
 *
 * Values are in base units (units.h): seconds, bytes, ratios 0-1, per
 * second. A rate literal such as 100MB/d is converted to bytes per second,
 * so slope(web.rss, 6h) > 100MB/d compares like with like.
 */
#ifndef SW_EXPR_H
#define SW_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "slopewatch/conf.h"
#include "slopewatch/units.h"

#define SW_EXPR_MAX_LEN		4096	/* bytes of expression text */
#define SW_EXPR_MAX_DEPTH	64	/* nesting of parentheses, calls, operators */
#define SW_EXPR_MAX_ARGS	4	/* arguments of a call */
#define SW_EXPR_MAX_ERRORS	20	/* reported per expression */

enum sw_expr_kind {
	SW_EXPR_NUMBER = 0,	/* literal: value (base units), text */
	SW_EXPR_SERIES,		/* target.metric{labels}: target, metric, labels */
	SW_EXPR_TARGET,		/* a bare target name (only as errors()'s first argument) */
	SW_EXPR_UNARY,		/* op NEG or NOT; arg[0] */
	SW_EXPR_ARITH,		/* op ADD SUB MUL DIV; arg[0] op arg[1] */
	SW_EXPR_COMPARE,	/* op LT LE GT GE EQ NE; arg[0] op arg[1] */
	SW_EXPR_LOGIC,		/* op AND OR; arg[0] op arg[1] */
	SW_EXPR_CALL,		/* fn(arg[0], ..., arg[nargs-1]) */
};

enum sw_expr_op {
	SW_OP_NONE = 0,
	SW_OP_NEG, SW_OP_NOT,
	SW_OP_ADD, SW_OP_SUB, SW_OP_MUL, SW_OP_DIV,
	SW_OP_LT, SW_OP_LE, SW_OP_GT, SW_OP_GE, SW_OP_EQ, SW_OP_NE,
	SW_OP_AND, SW_OP_OR,
};

/*
 * Functions. The arguments, in order (w, horizon, baseline are duration
 * literals, also given in window_ms and extra_ms):
 *   QUANTILE  (pNN)      series, w          -> unit of series (q in q)
 *   AVG MIN MAX LAST     series, w          -> unit of series
 *   COUNT                series, w          -> plain number
 *   RATE                 series, w          -> series unit per second
 *   DELTA                series, w          -> unit of series
 *   ERRORS               endpoint (TARGET), w -> ratio
 *   HISTOGRAM_QUANTILE   q, series, w       -> seconds if the metric ends
 *                        in _seconds, else plain (q also in q); the series
 *                        names a scrape histogram without _bucket
 *   SLOPE                series, w          -> series unit per second
 *   DOUBLING             series, w          -> seconds (+inf when not growing)
 *   FORECAST             series, w, horizon -> unit of series
 *   TIME_TO              series, limit, w   -> seconds; limit is any number
 *                        expression with the series' unit
 *   ANOMALY              series, w, baseline -> plain number (a score)
 */
enum sw_expr_fn {
	SW_FN_QUANTILE = 0,
	SW_FN_AVG,
	SW_FN_MIN,
	SW_FN_MAX,
	SW_FN_LAST,
	SW_FN_COUNT,
	SW_FN_RATE,
	SW_FN_DELTA,
	SW_FN_ERRORS,
	SW_FN_HISTOGRAM_QUANTILE,
	SW_FN_SLOPE,
	SW_FN_DOUBLING,
	SW_FN_FORECAST,
	SW_FN_TIME_TO,
	SW_FN_ANOMALY,
	SW_FN_UNKNOWN,		/* never in a tree returned to a caller */
};

enum sw_expr_type {
	SW_EXPR_T_BOOL = 0,	/* a condition */
	SW_EXPR_T_NUMBER,	/* a number with a unit */
	SW_EXPR_T_INVALID,	/* not a value: TARGET nodes; no other node
				   of a tree returned to a caller */
};

struct sw_expr {
	enum sw_expr_kind	 kind;
	enum sw_expr_op		 op;		/* UNARY, ARITH, COMPARE, LOGIC */
	enum sw_expr_type	 type;
	enum sw_unit		 unit;		/* NUMBER type: the result's unit */
	int			 unit_known;	/* 0: depends on a series whose unit
						   is unknown (parsed without a conf) */
	int			 plain;		/* a unitless literal (or arithmetic
						   of such): adapts to the other side */
	size_t			 off;		/* first byte in the text */
	size_t			 len;		/* bytes of the text it spans */
	size_t			 op_off;	/* the operator or function name */
	int			 height;	/* levels of the subtree (leaf: 1) */

	/* NUMBER */
	double			 value;		/* in base units */
	char			*text;		/* as written ("1.5GB") */

	/* SERIES (all three), TARGET (target only) */
	char			*target;
	char			*metric;
	char			*labels;	/* canonical as store.h, "" for none */

	/* CALL */
	enum sw_expr_fn		 fn;
	char			*name;		/* as written: "p95", "slope" */
	double			 q;		/* QUANTILE, HISTOGRAM_QUANTILE */
	int64_t			 window_ms;	/* the window w */
	int64_t			 extra_ms;	/* FORECAST horizon, ANOMALY baseline */
	const struct sw_expr	*series;	/* the series argument (borrowed;
						   NULL for ERRORS) */

	struct sw_expr		*arg[SW_EXPR_MAX_ARGS];
	int			 nargs;
};

/* Flags of sw_expr_parse. */
#define SW_EXPR_CONDITION	0x1	/* the whole must be a condition (`when`) */

/*
 * Parses and checks text (NUL-terminated). at is where the text starts
 * (may be NULL: line 1, column 1, no file). With conf, series must name its
 * targets and known metrics and get their units; with conf NULL, series have
 * an unknown unit that is compatible with anything. diag (may be NULL) is
 * called once per error, at most SW_EXPR_MAX_ERRORS times; *nerrors (may be
 * NULL) receives the count. Returns a new tree (sw_expr_free), or NULL on
 * any error (always reported; "out of memory" too).
 */
struct sw_expr *sw_expr_parse(const char *text, const struct sw_loc *at,
	    const struct sw_conf *conf, int flags, sw_conf_diag_cb diag,
	    void *arg, int *nerrors);

/* Frees e and everything below it; e may be NULL. */
void	sw_expr_free(struct sw_expr *e);

/* Canonical text of e: single spaces around binary operators, ", " between
 * arguments, literals as written, labels canonical, parentheses only where
 * needed. Parsing it gives the same tree. New string (free()), NULL when
 * memory is short. */
char	*sw_expr_format(const struct sw_expr *e);
/* The same with every operator parenthesised: "((a + b) > 2s)". */
char	*sw_expr_format_full(const struct sw_expr *e);

/* Parses every rule's `when` of conf as a condition, reporting errors
 * through diag. Returns the number of errors (0: all rules are sound). */
int	sw_expr_check_rules(const struct sw_conf *conf, sw_conf_diag_cb diag,
	    void *arg);

/* "slope", "histogram_quantile", ... ("pNN" for SW_FN_QUANTILE). */
const char *sw_expr_fn_name(enum sw_expr_fn fn);
/* "bytes", "seconds", "ratio", "bytes per second", "per second",
 * "plain number": the words of the error messages. */
const char *sw_expr_unit_desc(enum sw_unit unit);

/* Calls cb for every CALL node of e, outer before inner, left to right (so
 * an evaluator can set up one summary per series and window). Stops at and
 * returns the first non-zero return of cb. */
typedef int (*sw_expr_call_cb)(const struct sw_expr *call, void *arg);
int	sw_expr_each_call(const struct sw_expr *e, sw_expr_call_cb cb,
	    void *arg);

#endif
