#include "config.h"
/*
 * test_expr.c: unit tests of the rule expression language (lib/expr.c):
 * the golden cases of tests/fixtures/expr/NAME.txt (every error with its
 * line:col and message, every accepted expression with its type and fully
 * parenthesised form), the SPEC examples, every function's signature and
 * result unit, the printed form parsing back to the same tree, the bounds
 * (length, nesting), rule checking through a conf, and a loop over random
 * and mutated input that must never crash and always round-trip.
 *
 * Golden file format: '#' lines are comments; "@conf" / "@noconf" choose
 * whether the test conf below is given; "@cond" / "@value" whether the
 * whole must be a condition. "> TEXT" is a case; the lines after it, up to
 * the next case or blank line, are the expected output: "LINE:COL: message"
 * per error, or "ok TYPE: FULLY-PARENTHESISED" on success. Running the test
 * with SW_EXPR_REGEN=1 prints what it got in this format (to review, never
 * to paste unread).
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "slopewatch/buf.h"
#include "slopewatch/conf.h"
#include "slopewatch/expr.h"
#include "slopewatch/units.h"

#ifndef SW_TOP_SRCDIR
#define SW_TOP_SRCDIR "."
#endif

/* The test conf: the targets of SPEC §3 and a few more. */
static struct sw_conf_target t_mine = {
	.name = "my-api", .kind = SW_TARGET_ENDPOINT, .next = NULL
};
static struct sw_conf_target t_webm = {
	.name = "webm", .kind = SW_TARGET_SCRAPE, .next = &t_mine
};
static struct sw_conf_target t_web = {
	.name = "web", .kind = SW_TARGET_PROCESS, .next = &t_webm
};
static struct sw_conf_target t_checkout = {
	.name = "checkout", .kind = SW_TARGET_ENDPOINT, .next = &t_web
};
static struct sw_conf test_conf = { .targets = &t_checkout };

/* Diagnostics into a buffer, one "LINE:COL: message" per line. */
static void
diag_buf(const struct sw_loc *loc, const char *msg, void *arg)
{
	struct sw_buf	*b = arg;

	if (loc->file != NULL)
		sw_buf_addf(b, "%s:", loc->file);
	sw_buf_addf(b, "%d:%d: %s\n", loc->line, loc->col, msg);
}

static const char *
type_desc(const struct sw_expr *e)
{
	if (e->type == SW_EXPR_T_BOOL)
		return "bool";
	if (!e->unit_known)
		return "any unit";
	return sw_expr_unit_desc(e->unit);
}

/*
 * Parses text and describes the outcome as the golden files do. Checks on
 * every success that the printed forms parse back to the same forms.
 */
static void
run_case(const char *text, int use_conf, int flags, struct sw_buf *out)
{
	static const struct sw_loc	at = { NULL, 1, 1 };
	const struct sw_conf		*conf = use_conf ? &test_conf : NULL;
	struct sw_expr			*e, *e2, *e3;
	char				*min, *full, *min2, *full2, *full3;
	int				 nerr = -1;

	e = sw_expr_parse(text, &at, conf, flags, diag_buf, out, &nerr);
	if (e == NULL) {
		assert_true(nerr > 0);
		return;
	}
	assert_int_equal(nerr, 0);
	assert_non_null(min = sw_expr_format(e));
	assert_non_null(full = sw_expr_format_full(e));
	sw_buf_addf(out, "ok %s: %s\n", type_desc(e), full);

	/* the canonical form parses to the same tree */
	e2 = sw_expr_parse(min, &at, conf, flags, NULL, NULL, &nerr);
	if (e2 == NULL)
		fail_msg("canonical form of \"%s\" does not parse: \"%s\"",
		    text, min);
	assert_non_null(min2 = sw_expr_format(e2));
	assert_non_null(full2 = sw_expr_format_full(e2));
	assert_string_equal(min, min2);
	assert_string_equal(full, full2);
	assert_int_equal(e->type, e2->type);
	assert_int_equal(e->unit, e2->unit);
	assert_int_equal(e->unit_known, e2->unit_known);
	/* and so does the fully parenthesised one */
	e3 = sw_expr_parse(full, &at, conf, flags, NULL, NULL, &nerr);
	if (e3 == NULL)
		fail_msg("full form of \"%s\" does not parse: \"%s\"", text,
		    full);
	assert_non_null(full3 = sw_expr_format_full(e3));
	assert_string_equal(full, full3);
	free(full3);
	sw_expr_free(e3);
	free(min2);
	free(full2);
	sw_expr_free(e2);
	free(min);
	free(full);
	sw_expr_free(e);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one golden file; returns the number of mismatching cases. */
static int
run_golden(const char *path, int regen)
{
	FILE		*f;
	char		 line[8192], input[8192];
	struct sw_buf	 want, got;
	int		 use_conf = 1, flags = SW_EXPR_CONDITION, lineno = 0;
	int		 case_line = 0, in_case = 0, bad = 0, ncases = 0;
	size_t		 n;

	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	sw_buf_init(&want, 1 << 20);
	sw_buf_init(&got, 1 << 20);
	for (;;) {
		char	*l = fgets(line, sizeof(line), f);
		int	 end_case;

		if (l != NULL) {
			lineno++;
			n = strlen(line);
			if (n > 0 && line[n - 1] == '\n')
				line[--n] = '\0';
		}
		end_case = l == NULL || line[0] == '\0' ||
		    strncmp(line, "> ", 2) == 0 || line[0] == '#' ||
		    line[0] == '@';
		if (in_case && end_case) {
			sw_buf_reset(&got);
			run_case(input, use_conf, flags, &got);
			ncases++;
			if (regen)
				printf("> %s\n%s", input, sw_buf_str(&got));
			else if (strcmp(sw_buf_str(&want),
			    sw_buf_str(&got)) != 0) {
				print_error("%s:%d: > %s\nwant:\n%sgot:\n%s\n",
				    path, case_line, input, sw_buf_str(&want),
				    sw_buf_str(&got));
				bad++;
			}
			in_case = 0;
		}
		if (l == NULL)
			break;
		if (strncmp(line, "> ", 2) == 0) {
			snprintf(input, sizeof(input), "%s", line + 2);
			sw_buf_reset(&want);
			case_line = lineno;
			in_case = 1;
			continue;
		}
		if (in_case) {
			sw_buf_addf(&want, "%s\n", line);
			continue;
		}
		if (regen)
			printf("%s\n", line);
		if (strcmp(line, "@conf") == 0)
			use_conf = 1;
		else if (strcmp(line, "@noconf") == 0)
			use_conf = 0;
		else if (strcmp(line, "@cond") == 0)
			flags = SW_EXPR_CONDITION;
		else if (strcmp(line, "@value") == 0)
			flags = 0;
	}
	fclose(f);
	sw_buf_release(&want);
	sw_buf_release(&got);
	if (!regen)
		printf("# %s: %d cases, %d failed\n", path, ncases, bad);
	assert_true(ncases > 0);
	return bad;
}

static void
test_golden(void **state)
{
	const char	*dir = SW_TOP_SRCDIR "/tests/fixtures/expr";
	const char	*only = getenv("SW_EXPR_GOLDEN");
	int		 regen = getenv("SW_EXPR_REGEN") != NULL;
	DIR		*d;
	struct dirent	*de;
	char		*names[64], path[4096];
	int		 n = 0, i, bad = 0;

	(void)state;
	if ((d = opendir(dir)) == NULL)
		fail_msg("cannot open %s", dir);
	while ((de = readdir(d)) != NULL && n < 64) {
		size_t	l = strlen(de->d_name);

		if (l > 4 && strcmp(de->d_name + l - 4, ".txt") == 0 &&
		    (only == NULL || strcmp(only, de->d_name) == 0))
			assert_non_null(names[n++] = strdup(de->d_name));
	}
	closedir(d);
	assert_true(n >= 5);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (regen)
			printf("==== %s\n", names[i]);
		bad += run_golden(path, regen);
		free(names[i]);
	}
	assert_int_equal(bad, 0);
}

static struct sw_expr *
parse_ok(const char *text, int use_conf, int flags)
{
	struct sw_buf	 errs;
	struct sw_expr	*e;
	int		 nerr;

	sw_buf_init(&errs, 1 << 16);
	e = sw_expr_parse(text, NULL, use_conf ? &test_conf : NULL, flags,
	    diag_buf, &errs, &nerr);
	if (e == NULL)
		fail_msg("\"%s\" does not parse: %s", text, sw_buf_str(&errs));
	sw_buf_release(&errs);
	return e;
}

/* SPEC §3's rules, as written there. */
static void
test_spec_examples(void **state)
{
	struct sw_expr	*e;
	const struct sw_expr *call;

	(void)state;
	e = parse_ok("p50(checkout.latency, 5m) > 2s", 1, SW_EXPR_CONDITION);
	assert_int_equal(e->kind, SW_EXPR_COMPARE);
	assert_int_equal(e->op, SW_OP_GT);
	assert_int_equal(e->type, SW_EXPR_T_BOOL);
	call = e->arg[0];
	assert_int_equal(call->kind, SW_EXPR_CALL);
	assert_int_equal(call->fn, SW_FN_QUANTILE);
	assert_true(fabs(call->q - 0.5) < 1e-12);
	assert_int_equal(call->window_ms, 5 * 60 * 1000);
	assert_int_equal(call->unit, SW_UNIT_SECONDS);
	assert_non_null(call->series);
	assert_string_equal(call->series->target, "checkout");
	assert_string_equal(call->series->metric, "latency");
	assert_string_equal(call->series->labels, "");
	assert_int_equal(e->arg[1]->kind, SW_EXPR_NUMBER);
	assert_true(fabs(e->arg[1]->value - 2.0) < 1e-12);
	assert_int_equal(e->off, 0);
	assert_int_equal(e->len, strlen("p50(checkout.latency, 5m) > 2s"));
	assert_int_equal(e->op_off, strlen("p50(checkout.latency, 5m) "));
	sw_expr_free(e);

	e = parse_ok("doubling(web.rss, 6h) < 1d", 1, SW_EXPR_CONDITION);
	assert_int_equal(e->op, SW_OP_LT);
	call = e->arg[0];
	assert_int_equal(call->fn, SW_FN_DOUBLING);
	assert_int_equal(call->window_ms, 6 * 3600 * 1000);
	assert_int_equal(call->unit, SW_UNIT_SECONDS);
	assert_true(fabs(e->arg[1]->value - 86400.0) < 1e-9);
	sw_expr_free(e);

	/* the examples */
	e = parse_ok("time_to(web.rss, 1.5GB, 6h) < 6h", 1, SW_EXPR_CONDITION);
	assert_int_equal(e->arg[0]->fn, SW_FN_TIME_TO);
	assert_int_equal(e->arg[0]->window_ms, 6 * 3600 * 1000);
	assert_true(fabs(e->arg[0]->arg[1]->value - 1.5e9) < 1);
	sw_expr_free(e);
	e = parse_ok("time_to(web.rss, web.limit, 6h) < 6h", 1,
	    SW_EXPR_CONDITION);
	sw_expr_free(e);
	e = parse_ok("slope(webm.nodejs_heap_space_size_used_bytes"
	    "{space=\"old\"}, 6h) > 100MB/d", 1, SW_EXPR_CONDITION);
	assert_string_equal(e->arg[0]->series->labels, "space=\"old\"");
	assert_int_equal(e->arg[0]->unit, SW_UNIT_BYTES_PER_S);
	/* 100MB/d is held per second */
	assert_true(fabs(e->arg[1]->value - 100e6 / 86400) < 1e-6);
	sw_expr_free(e);
}

/* Every function: arguments, result unit and the fields the evaluator uses. */
static void
test_functions(void **state)
{
	static const struct {
		const char	*text;
		enum sw_expr_fn	 fn;
		enum sw_unit	 unit;
		int64_t		 window_ms, extra_ms;
		double		 q;
	} cases[] = {
		{ "p50(web.rss, 5m)", SW_FN_QUANTILE, SW_UNIT_BYTES,
		    300000, 0, 0.5 },
		{ "p90(checkout.latency, 1h)", SW_FN_QUANTILE, SW_UNIT_SECONDS,
		    3600000, 0, 0.9 },
		{ "p95(checkout.ttfb, 10s)", SW_FN_QUANTILE, SW_UNIT_SECONDS,
		    10000, 0, 0.95 },
		{ "p99(checkout.dns, 250ms)", SW_FN_QUANTILE, SW_UNIT_SECONDS,
		    250, 0, 0.99 },
		{ "p75(web.pss, 1m)", SW_FN_QUANTILE, SW_UNIT_BYTES,
		    60000, 0, 0.75 },
		{ "p999(checkout.latency, 1d)", SW_FN_QUANTILE,
		    SW_UNIT_SECONDS, 86400000, 0, 0.999 },
		{ "p05(checkout.latency, 1d)", SW_FN_QUANTILE,
		    SW_UNIT_SECONDS, 86400000, 0, 0.05 },
		{ "avg(web.anon, 1w)", SW_FN_AVG, SW_UNIT_BYTES,
		    7 * 86400000LL, 0, 0 },
		{ "min(web.swap, 1h30m)", SW_FN_MIN, SW_UNIT_BYTES,
		    5400000, 0, 0 },
		{ "max(web.cpu, 5m)", SW_FN_MAX, SW_UNIT_PER_S, 300000, 0, 0 },
		{ "last(web.threads, 5m)", SW_FN_LAST, SW_UNIT_NONE,
		    300000, 0, 0 },
		{ "count(checkout.latency, 5m)", SW_FN_COUNT, SW_UNIT_NONE,
		    300000, 0, 0 },
		{ "rate(web.oom_kills, 1h)", SW_FN_RATE, SW_UNIT_PER_S,
		    3600000, 0, 0 },
		{ "rate(checkout.bytes, 1h)", SW_FN_RATE, SW_UNIT_BYTES_PER_S,
		    3600000, 0, 0 },
		{ "delta(web.rss, 1h)", SW_FN_DELTA, SW_UNIT_BYTES,
		    3600000, 0, 0 },
		{ "errors(checkout, 5m)", SW_FN_ERRORS, SW_UNIT_RATIO,
		    300000, 0, 0 },
		{ "errors(my-api, 5m)", SW_FN_ERRORS, SW_UNIT_RATIO,
		    300000, 0, 0 },
		{ "histogram_quantile(0.95, "
		    "webm.http_request_duration_seconds, 5m)",
		    SW_FN_HISTOGRAM_QUANTILE, SW_UNIT_SECONDS, 300000, 0, 0.95 },
		{ "histogram_quantile(0.5, webm.payload_size, 5m)",
		    SW_FN_HISTOGRAM_QUANTILE, SW_UNIT_NONE, 300000, 0, 0.5 },
		{ "slope(web.rss, 6h)", SW_FN_SLOPE, SW_UNIT_BYTES_PER_S,
		    21600000, 0, 0 },
		{ "slope(checkout.latency, 1d)", SW_FN_SLOPE, SW_UNIT_PER_S,
		    86400000, 0, 0 },
		{ "doubling(web.rss, 6h)", SW_FN_DOUBLING, SW_UNIT_SECONDS,
		    21600000, 0, 0 },
		{ "forecast(web.rss, 6h, 1d)", SW_FN_FORECAST, SW_UNIT_BYTES,
		    21600000, 86400000, 0 },
		{ "time_to(web.rss, 1.5GB, 6h)", SW_FN_TIME_TO, SW_UNIT_SECONDS,
		    21600000, 0, 0 },
		{ "time_to(web.rss, web.limit * 90%, 6h)", SW_FN_TIME_TO,
		    SW_UNIT_SECONDS, 21600000, 0, 0 },
		{ "anomaly(checkout.latency, 1h, 7d)", SW_FN_ANOMALY,
		    SW_UNIT_NONE, 3600000, 7 * 86400000LL, 0 },
		{ "p50(slopewatch.rss, 5m)", SW_FN_QUANTILE, SW_UNIT_BYTES,
		    300000, 0, 0.5 },
		{ "avg(webm.process_resident_memory_bytes, 5m)", SW_FN_AVG,
		    SW_UNIT_BYTES, 300000, 0, 0 },
	};
	struct sw_expr	*e;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = parse_ok(cases[i].text, 1, 0);
		if (e->kind != SW_EXPR_CALL || e->fn != cases[i].fn ||
		    e->type != SW_EXPR_T_NUMBER || !e->unit_known ||
		    e->unit != cases[i].unit ||
		    e->window_ms != cases[i].window_ms ||
		    e->extra_ms != cases[i].extra_ms ||
		    fabs(e->q - cases[i].q) > 1e-12)
			fail_msg("%s: fn %d unit %d window %lld extra %lld "
			    "q %g", cases[i].text, (int)e->fn, (int)e->unit,
			    (long long)e->window_ms, (long long)e->extra_ms,
			    e->q);
		if (e->fn == SW_FN_ERRORS)
			assert_null(e->series);
		else
			assert_int_equal(e->series->kind, SW_EXPR_SERIES);
		assert_string_equal(sw_expr_fn_name(e->fn), e->fn ==
		    SW_FN_QUANTILE ? "pNN" : e->name);
		sw_expr_free(e);
		/* without a conf the same parse, with units of series unknown */
		e = parse_ok(cases[i].text, 0, 0);
		assert_int_equal(e->fn, cases[i].fn);
		sw_expr_free(e);
	}
}

/* Fully parenthesised forms show how operators bind. */
static void
test_precedence(void **state)
{
	static const char *const cases[][2] = {
		{ "1 + 2 * 3 > 4", "((1 + (2 * 3)) > 4)" },
		{ "1 * 2 + 3 > 4", "(((1 * 2) + 3) > 4)" },
		{ "1 - 2 - 3 > 0", "(((1 - 2) - 3) > 0)" },
		{ "8 / 4 / 2 > 0", "(((8 / 4) / 2) > 0)" },
		{ "-2 * 3 < 0", "(((-2) * 3) < 0)" },
		{ "- -2 < 0", "((-(-2)) < 0)" },
		{ "1 < 2 and 3 < 4 or 5 < 6",
		    "(((1 < 2) and (3 < 4)) or (5 < 6))" },
		{ "1 < 2 or 3 < 4 and 5 < 6",
		    "((1 < 2) or ((3 < 4) and (5 < 6)))" },
		{ "not 1 < 2 and 3 < 4", "((not (1 < 2)) and (3 < 4))" },
		{ "not not 1 < 2", "(not (not (1 < 2)))" },
		{ "not (1 < 2 or 3 < 4)", "(not ((1 < 2) or (3 < 4)))" },
		{ "(1 + 2) * 3 >= 9", "(((1 + 2) * 3) >= 9)" },
		{ "1 == 1 and 2 != 3", "((1 == 1) and (2 != 3))" },
		{ "1 <= 2 or 2 >= 1", "((1 <= 2) or (2 >= 1))" },
		{ "web.rss - web.anon - web.swap > 1GB",
		    "(((web.rss - web.anon) - web.swap) > 1GB)" },
		{ "web.rss - (web.anon - web.swap) > 1GB",
		    "((web.rss - (web.anon - web.swap)) > 1GB)" },
	};
	struct sw_expr	*e;
	char		*s;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = parse_ok(cases[i][0], 1, SW_EXPR_CONDITION);
		assert_non_null(s = sw_expr_format_full(e));
		if (strcmp(s, cases[i][1]) != 0)
			fail_msg("%s: got %s, want %s", cases[i][0], s,
			    cases[i][1]);
		free(s);
		sw_expr_free(e);
	}
}

/* The canonical form: spacing, parentheses only where needed. */
static void
test_format(void **state)
{
	static const char *const cases[][2] = {
		{ "p50(checkout.latency,5m)>2s",
		    "p50(checkout.latency, 5m) > 2s" },
		{ "  ( ( doubling( web.rss ,6h ) ) )<1d ",
		    "doubling(web.rss, 6h) < 1d" },
		{ "web.rss - (web.anon - web.swap) > 1GB",
		    "web.rss - (web.anon - web.swap) > 1GB" },
		{ "(web.rss - web.anon) - web.swap > 1GB",
		    "web.rss - web.anon - web.swap > 1GB" },
		{ "-(web.rss + web.anon) < 0", "-(web.rss + web.anon) < 0" },
		{ "not (1 < 2 and 2 < 3)", "not (1 < 2 and 2 < 3)" },
		{ "(1 < 2 or 2 < 3) and 3 < 4", "(1 < 2 or 2 < 3) and 3 < 4" },
		{ "webm.x{b = \"2\", a=\"1\",} > 0", "webm.x{a=\"1\",b=\"2\"} > 0" },
		{ "webm.x{a=\"\"} > 0", "webm.x > 0" },
		{ "webm.x{a=\"q\\\"\\\\\\n\"} > 0",
		    "webm.x{a=\"q\\\"\\\\\\n\"} > 0" },
		{ "errors(checkout,5m)>1%", "errors(checkout, 5m) > 1%" },
	};
	struct sw_expr	*e;
	char		*s;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = parse_ok(cases[i][0], 1, SW_EXPR_CONDITION);
		assert_non_null(s = sw_expr_format(e));
		if (strcmp(s, cases[i][1]) != 0)
			fail_msg("%s: got %s, want %s", cases[i][0], s,
			    cases[i][1]);
		free(s);
		sw_expr_free(e);
	}
}

static struct sw_buf *
errors_of(const char *text, const struct sw_loc *at, int use_conf,
    int flags, int *nerr)
{
	static struct sw_buf	errs;
	struct sw_expr		*e;

	sw_buf_release(&errs);
	sw_buf_init(&errs, 1 << 16);
	e = sw_expr_parse(text, at, use_conf ? &test_conf : NULL, flags,
	    diag_buf, &errs, nerr);
	assert_null(e);
	return &errs;
}

/* Text length and nesting are bounded, with an error, not a crash. */
static void
test_bounds(void **state)
{
	struct sw_buf	 b;
	struct sw_expr	*e;
	struct sw_buf	*errs;
	int		 i, nerr;

	(void)state;
	/* 63 parentheses deep is fine, 64 is not */
	sw_buf_init(&b, 1 << 20);
	for (i = 0; i < 63; i++)
		sw_buf_addc(&b, '(');
	sw_buf_adds(&b, "1 > 0");
	for (i = 0; i < 63; i++)
		sw_buf_addc(&b, ')');
	e = parse_ok(sw_buf_str(&b), 0, SW_EXPR_CONDITION);
	sw_expr_free(e);
	sw_buf_reset(&b);
	for (i = 0; i < 100000; i++)
		sw_buf_addc(&b, '(');
	errs = errors_of(sw_buf_str(&b), NULL, 0, 0, &nerr);
	assert_string_equal(sw_buf_str(errs), "1:1: expression too long "
	    "(more than 4096 bytes)\n");
	sw_buf_reset(&b);
	for (i = 0; i < 1000; i++)
		sw_buf_addc(&b, '(');
	errs = errors_of(sw_buf_str(&b), NULL, 0, 0, &nerr);
	assert_string_equal(sw_buf_str(errs), "1:65: expression nested too "
	    "deeply (more than 64 levels)\n");
	assert_int_equal(nerr, 1);
	sw_buf_reset(&b);
	for (i = 0; i < 1000; i++)
		sw_buf_adds(&b, "not ");
	sw_buf_adds(&b, "1 > 0");
	errs = errors_of(sw_buf_str(&b), NULL, 0, 0, &nerr);
	assert_string_equal(sw_buf_str(errs), "1:257: expression nested too "
	    "deeply (more than 64 levels)\n");
	sw_buf_reset(&b);
	for (i = 0; i < 1000; i++)
		sw_buf_addc(&b, '-');
	sw_buf_adds(&b, "1");
	errs = errors_of(sw_buf_str(&b), NULL, 0, 0, &nerr);
	assert_string_equal(sw_buf_str(errs), "1:65: expression nested too "
	    "deeply (more than 64 levels)\n");
	/* a long flat chain makes a high tree: bounded the same way */
	sw_buf_reset(&b);
	sw_buf_adds(&b, "1");
	for (i = 0; i < 200; i++)
		sw_buf_adds(&b, " + 1");
	errs = errors_of(sw_buf_str(&b), NULL, 0, 0, &nerr);
	assert_string_equal(sw_buf_str(errs), "1:255: expression nested too "
	    "deeply (more than 64 levels)\n");
	/* exactly the longest text */
	sw_buf_reset(&b);
	sw_buf_adds(&b, "1 > 0");
	while (b.len < SW_EXPR_MAX_LEN)
		sw_buf_addc(&b, ' ');
	e = parse_ok(sw_buf_str(&b), 0, SW_EXPR_CONDITION);
	sw_expr_free(e);
	sw_buf_addc(&b, ' ');
	errs = errors_of(sw_buf_str(&b), NULL, 0, 0, &nerr);
	assert_int_equal(nerr, 1);
	/* many errors: all counted, at most SW_EXPR_MAX_ERRORS reported */
	sw_buf_reset(&b);
	sw_buf_adds(&b, "1 > 2s");
	for (i = 0; i < 30; i++)
		sw_buf_adds(&b, " and 1GB > 2s");
	errs = errors_of(sw_buf_str(&b), NULL, 0, 0, &nerr);
	assert_int_equal(nerr, 30);
	{
		int		 lines = 0;
		const char	*p;

		for (p = sw_buf_str(errs); *p != '\0'; p++)
			lines += *p == '\n';
		assert_int_equal(lines, SW_EXPR_MAX_ERRORS);
	}
	sw_buf_release(&b);
	sw_buf_release(errs);
}

/* Locations: the text's own place plus the byte offset. */
static void
test_locations(void **state)
{
	struct sw_loc	 at = { "rules/web.rules", 12, 9 };
	struct sw_buf	*errs;
	int		 nerr;

	(void)state;
	errs = errors_of("p50(web.rss, 5m) > 2s", &at, 1, SW_EXPR_CONDITION,
	    &nerr);
	assert_string_equal(sw_buf_str(errs), "rules/web.rules:12:26: cannot "
	    "compare bytes (p50(web.rss, 5m)) with seconds (2s)\n");
	errs = errors_of("p50(web.rss, 5m)", &at, 1, SW_EXPR_CONDITION, &nerr);
	assert_string_equal(sw_buf_str(errs), "rules/web.rules:12:9: a rule "
	    "condition must be a comparison, such as p50(web.rss, 5m) > 1GB; "
	    "p50(web.rss, 5m) is a number (bytes)\n");
	sw_buf_release(errs);
	/* no location, no diag: only the count */
	assert_null(sw_expr_parse("1 >", NULL, NULL, 0, NULL, NULL, &nerr));
	assert_int_equal(nerr, 1);
	assert_null(sw_expr_parse(NULL, NULL, NULL, 0, NULL, NULL, NULL));
}

/* sw_expr_check_rules walks a conf's rules. */
static void
test_check_rules(void **state)
{
	struct sw_conf_rule	r1, r2, r3;
	struct sw_conf		conf = test_conf;
	struct sw_buf		errs;

	(void)state;
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	memset(&r3, 0, sizeof(r3));
	r1.name = "checkout-slow";
	r1.when = "p50(checkout.latency, 5m) > 2s";
	r1.when_loc = (struct sw_loc){ "slopewatch.conf", 20, 30 };
	r1.next = &r2;
	r2.name = "web-leak";
	r2.when = "doubling(web.rs, 6h) < 1d";
	r2.when_loc = (struct sw_loc){ "slopewatch.conf", 21, 30 };
	r2.next = &r3;
	r3.name = "no-when";
	conf.rules = &r1;
	sw_buf_init(&errs, 1 << 16);
	assert_int_equal(sw_expr_check_rules(&conf, diag_buf, &errs), 1);
	assert_string_equal(sw_buf_str(&errs), "slopewatch.conf:21:43: process "
	    "target web has no metric rs (did you mean rss?); its metrics are "
	    "rss pss anon swap limit cgroup_current cpu threads fds processes "
	    "pid oom_kills\n");
	r2.when = "doubling(web.rss, 6h) < 1d";
	sw_buf_reset(&errs);
	assert_int_equal(sw_expr_check_rules(&conf, diag_buf, &errs), 0);
	assert_string_equal(sw_buf_str(&errs), "");
	assert_int_equal(sw_expr_check_rules(NULL, diag_buf, &errs), 0);
	sw_buf_release(&errs);
}

static int
count_call(const struct sw_expr *call, void *arg)
{
	int	*n = arg;

	assert_int_equal(call->kind, SW_EXPR_CALL);
	return ++*n == 100 ? 7 : 0;
}

static void
test_each_call(void **state)
{
	struct sw_expr	*e;
	int		 n = 0;

	(void)state;
	e = parse_ok("time_to(web.rss, max(web.limit, 1h), 6h) < 6h and "
	    "errors(checkout, 5m) > 1% or not web.rss > 1GB", 1,
	    SW_EXPR_CONDITION);
	assert_int_equal(sw_expr_each_call(e, count_call, &n), 0);
	assert_int_equal(n, 3);
	n = 99;
	assert_int_equal(sw_expr_each_call(e, count_call, &n), 7);
	assert_int_equal(n, 100);
	sw_expr_free(e);
	sw_expr_free(NULL);
}

/* Random and mutated input: no crash, no leak, and what parses prints back
 * to itself. */
static void
test_fuzz(void **state)
{
	static const char *const frags[] = {
		"p50(", "p999(", "slope(", "time_to(", "errors(", "anomaly(",
		"histogram_quantile(", "forecast(", "count(", "foo(", "(",
		")", ",", " ", "web.rss", "checkout.latency", "webm.x_bytes",
		"webm.y{a=\"b\"}", "web.rss{", "\"", "\\", "checkout", "web",
		"5m", "6h", "1d", "2s", "1.5GB", "100MB/d", "1%", "0.5", "1e6",
		"1e-3", "-", "+", "*", "/", "<", ">", "<=", ">=", "==", "!=",
		"=", "!", " and ", " or ", "not ", "my-api", ".", "{", "}",
		"\t", "\x01", "\xff", "p5", "1h30m", "0", "inf",
	};
	char		 text[512];
	size_t		 len, k, nf = sizeof(frags) / sizeof(frags[0]);
	struct sw_buf	 out;
	int		 i, j, nparts, use_conf, nerr;
	unsigned int	 seed = 12345;
	struct sw_expr	*e;

	(void)state;
	sw_buf_init(&out, 1 << 20);
	for (i = 0; i < 20000; i++) {
		len = 0;
		if (i % 4 == 0) {
			/* raw bytes */
			nparts = (int)(rand_r(&seed) % 64);
			for (j = 0; j < nparts; j++)
				text[len++] = (char)(rand_r(&seed) % 255 + 1);
		} else {
			nparts = (int)(rand_r(&seed) % 24) + 1;
			for (j = 0; j < nparts; j++) {
				const char *f = frags[rand_r(&seed) % nf];

				k = strlen(f);
				if (len + k >= sizeof(text) - 1)
					break;
				memcpy(text + len, f, k);
				len += k;
			}
		}
		text[len] = '\0';
		use_conf = i % 2;
		sw_buf_reset(&out);
		e = sw_expr_parse(text, NULL, use_conf ? &test_conf : NULL,
		    i % 3 == 0 ? SW_EXPR_CONDITION : 0, diag_buf, &out, &nerr);
		assert_true((e == NULL) == (nerr > 0));
		if (e != NULL) {
			sw_expr_free(e);
			sw_buf_reset(&out);
			run_case(text, use_conf, i % 3 == 0 ?
			    SW_EXPR_CONDITION : 0, &out);
		} else
			assert_true(out.len > 0);
	}
	sw_buf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_spec_examples),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_locations),
		cmocka_unit_test(test_check_rules),
		cmocka_unit_test(test_each_call),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
