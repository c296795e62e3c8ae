#include "config.h"
/*
 * test_rtest.c: unit tests of lib/rtest.c: the series notation (exact
 * values, every error with its column), times, CSV input (every error with
 * its line and column), rule-test files (every statement, every error with
 * its location), expectation checks on hand-made results, the config with
 * inferred targets, and a replay through the real engine with exact
 * pending/firing/resolved times.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/rtest.h"

#define T0	SW_RTEST_DEFAULT_START

/* collects diagnostics as "LINE:COL: msg\n" */
static char diagbuf[8192];

static void
collect(const struct sw_loc *loc, const char *msg, void *arg)
{
	size_t	n = strlen(diagbuf);

	(void)arg;
	snprintf(diagbuf + n, sizeof(diagbuf) - n, "%d:%d: %s\n",
	    loc != NULL ? loc->line : 0, loc != NULL ? loc->col : 0, msg);
}

static struct sw_rtest_series *
notation(struct sw_rtest_data *d, const char *text, struct sw_err *err,
    int64_t step)
{
	struct sw_rtest_series	*s;
	struct sw_loc		 at = { "t.test", 3, 10 };

	sw_rtest_data_init(d);
	assert_int_equal(sw_rtest_data_add(d, "web.rss", &at, &s, NULL), 0);
	sw_err_clear(err);
	if (sw_rtest_notation(d, s, text, &at, T0, step, 1, err) == -1)
		return NULL;
	return s;
}

static void
test_notation_values(void **state)
{
	struct sw_rtest_data	 d;
	struct sw_rtest_series	*s;
	struct sw_err		 err;

	(void)state;
	/* promtool: a+bxN is N+1 samples */
	s = notation(&d, "100+2x3", &err, 60000);
	assert_non_null(s);
	assert_int_equal(s->n, 4);
	assert_true(s->v[0] == 100 && s->v[3] == 106);
	assert_true(s->ts[0] == T0 && s->ts[3] == T0 + 180000);
	sw_rtest_data_release(&d);

	/* a missing sample keeps its slot; _xN is N missing samples */
	s = notation(&d, "1 _ 3 _x2 6-1x1", &err, 1000);
	assert_non_null(s);
	assert_int_equal(s->n, 4);
	assert_true(s->v[0] == 1 && s->ts[0] == T0);
	assert_true(s->v[1] == 3 && s->ts[1] == T0 + 2000);
	assert_true(s->v[2] == 6 && s->ts[2] == T0 + 5000);
	assert_true(s->v[3] == 5 && s->ts[3] == T0 + 6000);
	sw_rtest_data_release(&d);

	/* units, geometric steps, axN, a duration as the count */
	s = notation(&d, "100MB+2MBx1 250ms 1GB*2x2 5x1", &err, 60000);
	assert_non_null(s);
	assert_int_equal(s->n, 8);
	assert_true(s->v[0] == 100e6 && s->v[1] == 102e6);
	assert_true(fabs(s->v[2] - 0.25) < 1e-12);
	assert_true(s->v[3] == 1e9 && s->v[4] == 2e9 && s->v[5] == 4e9);
	assert_true(s->v[6] == 5 && s->v[7] == 5);
	sw_rtest_data_release(&d);
	s = notation(&d, "0x1h", &err, 60000);
	assert_non_null(s);
	assert_int_equal(s->n, 61);
	sw_rtest_data_release(&d);
	s = notation(&d, "-5+1e-3x2", &err, 1000);
	assert_non_null(s);
	assert_true(s->v[0] == -5 && fabs(s->v[2] + 4.998) < 1e-12);
	sw_rtest_data_release(&d);
}

static void
test_notation_overlays(void **state)
{
	struct sw_rtest_data	 d;
	struct sw_rtest_series	*s, *s2;
	struct sw_err		 err;
	struct sw_loc		 at = { "t.test", 1, 1 };
	double			 first[100];
	size_t			 i;

	(void)state;
	/* saw: + amp * phase within the period */
	s = notation(&d, "100x5 saw(10, 4m)", &err, 60000);
	assert_non_null(s);
	assert_true(s->v[0] == 100 && s->v[1] == 102.5 && s->v[3] == 107.5);
	assert_true(s->v[4] == 100 && s->v[5] == 102.5);
	sw_rtest_data_release(&d);
	/* spike: once, at the first sample at or after the offset */
	s = notation(&d, "10x5 spike(90s, 5)", &err, 60000);
	assert_non_null(s);
	assert_true(s->v[1] == 10 && s->v[2] == 15 && s->v[3] == 10);
	sw_rtest_data_release(&d);
	/* wave at a quarter period */
	s = notation(&d, "0x4 wave(2, 4m)", &err, 60000);
	assert_non_null(s);
	assert_true(fabs(s->v[1] - 2) < 1e-9 && fabs(s->v[3] + 2) < 1e-9);
	sw_rtest_data_release(&d);
	/* noise is deterministic for a seed, and not zero */
	s = notation(&d, "100x99 noise(1) jitter(10%)", &err, 1000);
	assert_non_null(s);
	for (i = 0; i < 100; i++)
		first[i] = s->v[i];
	sw_rtest_data_release(&d);
	sw_rtest_data_init(&d);
	assert_int_equal(sw_rtest_data_add(&d, "web.b", &at, &s2, NULL), 0);
	assert_int_equal(sw_rtest_notation(&d, s2, "100x99 noise(1) "
	    "jitter(10%)", &at, T0, 1000, 1, &err), 0);
	for (i = 0; i < 100; i++) {
		assert_true(s2->v[i] != 100);
		assert_true(s2->v[i] == first[i]);
	}
	sw_rtest_data_release(&d);
}

static void
expect_notation_error(const char *text, const char *want)
{
	struct sw_rtest_data	d;
	struct sw_err		err;

	assert_null(notation(&d, text, &err, 60000));
	if (strstr(err.msg, want) == NULL)
		fail_msg("\"%s\": got \"%s\", want \"%s\"", text, err.msg,
		    want);
	sw_rtest_data_release(&d);
}

static void
test_notation_errors(void **state)
{
	(void)state;
	/* columns: the notation starts at column 10 of line 3 */
	expect_notation_error("100+2", "t.test:3:15: expected xN after");
	expect_notation_error("1 2MBq", "t.test:3:12: bad value \"2MBq\"");
	expect_notation_error("1+2xq", "t.test:3:14: bad count \"q\"");
	expect_notation_error("1+qx3", "t.test:3:12: bad step");
	expect_notation_error("1MB*2MBx3", "t.test:3:14: the factor");
	expect_notation_error("1MB+2sx3", "t.test:3:14: the step's unit");
	expect_notation_error("1 bogus(1)", "t.test:3:12: unknown overlay");
	expect_notation_error("1 saw(1)", "t.test:3:12: expected saw(");
	expect_notation_error("1 saw(1, 0s)", "t.test:3:19: bad period");
	expect_notation_error("1 saw(1, 5m", "t.test:3:12: unclosed '('");
	expect_notation_error("1 saw(1, 5m) 2", "t.test:3:23: a term after");
	expect_notation_error("1 )", "t.test:3:12: unbalanced ')'");
	expect_notation_error("noise(1)", "t.test:3:10: expected values");
	expect_notation_error("1 spike(x, 1)", "t.test:3:18: bad offset");
	expect_notation_error("1+1x99999999", "t.test:3:14: count 99999999 "
	    "is too large");
}

static void
test_time(void **state)
{
	int64_t	ms;

	(void)state;
	assert_int_equal(sw_rtest_parse_time("1767225600", (size_t)-1, &ms),
	    0);
	assert_true(ms == T0);
	assert_int_equal(sw_rtest_parse_time("1767225600000", (size_t)-1,
	    &ms), 0);
	assert_true(ms == T0);
	assert_int_equal(sw_rtest_parse_time("1767225600.25", (size_t)-1,
	    &ms), 0);
	assert_true(ms == T0 + 250);
	assert_int_equal(sw_rtest_parse_time("2026-01-01T00:00:00Z",
	    (size_t)-1, &ms), 0);
	assert_true(ms == T0);
	assert_int_equal(sw_rtest_parse_time("2026-01-01T02:00:01.5+02:00",
	    (size_t)-1, &ms), 0);
	assert_true(ms == T0 + 1500);
	assert_int_equal(sw_rtest_parse_time("2024-02-29 12:00:00z",
	    (size_t)-1, &ms), 0);
	assert_true(ms == 1709208000000LL);
	assert_int_equal(sw_rtest_parse_time("2026-02-30T00:00:00Z",
	    (size_t)-1, &ms), -1);
	assert_int_equal(sw_rtest_parse_time("2026-01-01T00:00:00",
	    (size_t)-1, &ms), -1);
	assert_int_equal(sw_rtest_parse_time("12a", (size_t)-1, &ms), -1);
	assert_int_equal(sw_rtest_parse_time("", (size_t)-1, &ms), -1);
	assert_int_equal(sw_rtest_parse_time(".5", (size_t)-1, &ms), -1);
}

static void
test_csv(void **state)
{
	struct sw_rtest_data	 d;
	struct sw_rtest_series	*s;
	struct sw_err		 err;
	const char		*text =
	    "time,web.rss,\"webm.heap{space=\"\"old\"\"}\",web.pid\r\n"
	    "1767225600,100,5,7\r\n"
	    "\n"
	    "2026-01-01T00:01:00Z, 200 ,,7\n"
	    "1767225720000,NaN,6,8\n";

	(void)state;
	sw_rtest_data_init(&d);
	sw_err_clear(&err);
	assert_int_equal(sw_rtest_csv_parse(&d, "a.csv", text, strlen(text),
	    &err), 0);
	assert_int_equal(d.n, 3);
	s = sw_rtest_data_find(&d, "web.rss");
	assert_non_null(s);
	assert_int_equal(s->n, 2);
	assert_true(s->v[1] == 200 && s->ts[1] == T0 + 60000);
	s = sw_rtest_data_find(&d, "webm.heap{space=\"old\"}");
	assert_non_null(s);
	assert_int_equal(s->n, 2);
	assert_true(s->ts[1] == T0 + 120000 && s->v[1] == 6);
	assert_int_equal(s->loc.line, 1);
	assert_int_equal(s->loc.col, 14);
	s = sw_rtest_data_find(&d, "web.pid");
	assert_non_null(s);
	assert_true(s->is_pid);
	sw_rtest_data_release(&d);
}

static void
expect_csv_error(const char *text, const char *want)
{
	struct sw_rtest_data	d;
	struct sw_err		err;

	sw_rtest_data_init(&d);
	sw_err_clear(&err);
	assert_int_equal(sw_rtest_csv_parse(&d, "b.csv", text, strlen(text),
	    &err), -1);
	if (strstr(err.msg, want) == NULL)
		fail_msg("got \"%s\", want \"%s\"", err.msg, want);
	sw_rtest_data_release(&d);
}

static void
test_csv_errors(void **state)
{
	(void)state;
	expect_csv_error("", "b.csv: empty");
	expect_csv_error("time\n1\n", "b.csv:1:1: expected a header");
	expect_csv_error("time,rss\n", "b.csv:1:6: series \"rss\"");
	expect_csv_error("time,a.b,a.b\n", "b.csv:1:10: series a.b given "
	    "twice");
	expect_csv_error("time,a.b\n1,2,3\n", "b.csv:2:1: 3 fields, the "
	    "header has 2");
	expect_csv_error("time,a.b\nyesterday,2\n", "b.csv:2:1: bad time "
	    "\"yesterday\"");
	expect_csv_error("time,a.b\n1,2\n2, 2x\n", "b.csv:3:4: bad number "
	    "\"2x\"");
	expect_csv_error("time,a.b\n5,2\n4,2\n", "b.csv:3:1: time goes back");
	expect_csv_error("time,\"a.b\n", "b.csv:1:6: unterminated quote");
	expect_csv_error("time,\"a.b\"x\n", "b.csv:1:11: expected ',' after");
	expect_csv_error("time,a\"b\n", "b.csv:1:7: unexpected quote");
}

static const char good_test[] =
    "# a comment\n"
    "rules r.rules\n"
    "interval 1m\n"
    "target web warmup 5m limit 1.5GB\n"
    "test \"leak fires\"\n"
    "series web.rss every 30s from 1m 100MB+1MBx10\n"
    "series web.pid 1x4 2x5\n"
    "expect web-leak firing by 6h\n"
    "expect web-leak pending between 1h and 2h\n"
    "expect web-leak firing after 10m\n"
    "expect web-leak inactive at 0\n"
    "expect web-leak never resolved\n"
    "test second\n"
    "start 2026-02-01T00:00:00Z\n"
    "eval-interval 1m\n"
    "series web.rss 1x3\n"
    "expect web-leak none\n"
    "expect web-leak firing at 2026-02-01T01:00:00Z\n";

static void
test_file_parse(void **state)
{
	struct sw_rtest_file	*f;
	struct sw_rtest_case	*c;
	int			 nerr;

	(void)state;
	diagbuf[0] = '\0';
	if (sw_rtest_file_parse("dir/x.test", good_test, strlen(good_test),
	    &f, collect, NULL, &nerr) != 0)
		fail_msg("%s", diagbuf);
	assert_string_equal(f->rules, "dir/r.rules");
	assert_int_equal(f->ntargets, 1);
	assert_int_equal(f->targets[0].warmup_ms, 300000);
	assert_true(f->targets[0].limit == 1.5e9);
	assert_int_equal(f->ncases, 2);
	c = &f->cases[0];
	assert_string_equal(c->name, "leak fires");
	assert_true(c->start_ms == T0);
	assert_int_equal(c->data.n, 2);
	assert_int_equal(c->data.s[0].n, 11);
	assert_true(c->data.s[0].ts[0] == T0 + 60000);
	assert_true(c->data.s[0].ts[10] == T0 + 60000 + 300000);
	assert_int_equal(c->nexpect, 5);
	assert_int_equal(c->expect[0].kind, SW_EXPECT_BY);
	assert_string_equal(c->expect[0].event, "firing");
	assert_true(c->expect[0].t1_ms == T0 + 6 * 3600000LL);
	assert_int_equal(c->expect[0].loc.line, 8);
	assert_int_equal(c->expect[0].loc.col, 8);
	assert_int_equal(c->expect[1].kind, SW_EXPECT_BETWEEN);
	assert_true(c->expect[1].t2_ms == T0 + 2 * 3600000LL);
	assert_int_equal(c->expect[2].kind, SW_EXPECT_AFTER);
	assert_int_equal(c->expect[3].kind, SW_EXPECT_STATE_AT);
	assert_int_equal(c->expect[3].state, SW_ALERT_INACTIVE);
	assert_int_equal(c->expect[4].kind, SW_EXPECT_NEVER);
	/* the replay goes on to the latest expected time */
	assert_true(c->until_ms == T0 + 6 * 3600000LL);
	assert_true(c->eval_ms == 10000);
	c = &f->cases[1];
	assert_string_equal(c->name, "second");
	assert_true(c->start_ms == 1769904000000LL);
	assert_true(c->eval_ms == 60000);
	assert_int_equal(c->expect[0].kind, SW_EXPECT_NONE);
	assert_true(c->expect[1].t1_ms == 1769904000000LL + 3600000);
	sw_rtest_file_free(f);
}

static void
expect_file_error(const char *text, const char *want)
{
	struct sw_rtest_file	*f;
	int			 nerr;

	diagbuf[0] = '\0';
	assert_int_equal(sw_rtest_file_parse("e.test", text, strlen(text), &f,
	    collect, NULL, &nerr), -1);
	assert_null(f);
	assert_true(nerr > 0);
	if (strstr(diagbuf, want) == NULL)
		fail_msg("got \"%s\", want \"%s\"", diagbuf, want);
}

#define R "rules r.rules\n"
#define S "series a.b 1x3\n"
#define E "expect x none\n"

static void
test_file_errors(void **state)
{
	(void)state;
	expect_file_error(S E, "1:1: no rules line");
	expect_file_error(R, "1:1: no test");
	expect_file_error(R R S E, "2:1: rules given twice (line 1)");
	expect_file_error("rules\n" S E, "1:6: expected the rules file");
	expect_file_error(R "interval 0\n" S E, "2:10: bad duration \"0\"");
	expect_file_error(R "interval 5x\n" S E, "2:10: bad duration");
	expect_file_error(R "eval-interval 1500ms\n" S E, "2:15: the "
	    "evaluation interval is whole seconds");
	expect_file_error(R "start yesterday\n" S E, "2:7: expected a time");
	expect_file_error(R "seed -1\n" S E, "2:6: expected a seed");
	expect_file_error(R "bogus 1\n" S E, "2:1: unknown statement "
	    "\"bogus\"");
	expect_file_error(R "test \"x\n", "2:1: unterminated quote");
	expect_file_error(R S, "2:1: test has no expect line");
	expect_file_error(R "test t\n" E, "2:1: test \"t\" has no series");
	expect_file_error(R "series a.b\n" E, "2:11: expected \"series");
	expect_file_error(R "series a.b every 0s 1\n" E, "2:18: bad duration");
	expect_file_error(R "series ab 1x2\n" E, "2:8: series \"ab\"");
	expect_file_error(R "series a.b 1+2\n" E, "2:15: expected xN");
	expect_file_error(R S "series a.b 1x1\n" E, "3:8: series a.b given "
	    "twice in this test (line 2)");
	expect_file_error(R "csv nothere.csv\n" E, "2:5: ");
	expect_file_error(R S "expect x\n", "3:9: expected \"expect RULE");
	expect_file_error(R S "expect x never\n", "3:15: expected pending, "
	    "firing or resolved after never");
	expect_file_error(R S "expect x none 1\n", "3:15: unexpected \"1\"");
	expect_file_error(R S "expect x resolved at 1h\n", "3:10: expected a "
	    "state (inactive, pending or firing) before at; resolved is an "
	    "event");
	expect_file_error(R S "expect x sleepy by 1h\n", "3:10: expected "
	    "none, never");
	expect_file_error(R S "expect x firing when 1h\n", "3:17: expected "
	    "at, by, after or between");
	expect_file_error(R S "expect x firing by soon\n", "3:20: bad time "
	    "\"soon\"");
	expect_file_error(R S "expect x firing by\n", "3:19: expected a time");
	expect_file_error(R S "expect x firing between 1h 2h\n", "3:28: "
	    "expected and");
	expect_file_error(R S "expect x firing between 2h and 1h\n", "3:32: "
	    "the end of the interval is before its start");
	expect_file_error(R S "target web bogus\n" E, "3:1: target lines go "
	    "before the first test");
	expect_file_error(R "target web bogus\n" S E, "2:12: unknown target "
	    "option \"bogus\"");
	expect_file_error(R "target web limit lots\n" S E, "2:18: expected a "
	    "size");
	expect_file_error(R "target\n" S E, "2:7: expected a target name");
	expect_file_error("rules r.rules\nseries a.b 1 saw(1)\n" E,
	    "2:14: expected saw(AMPLITUDE, PERIOD)");
	expect_file_error(R "interval 0\n" S, "2:10: bad duration");
}

static void
test_expect_check(void **state)
{
	struct sw_conf_rule	rule;
	struct sw_rtest_event	ev[4];
	struct sw_rtest_result	r;
	struct sw_rtest_expect	x;

	(void)state;
	memset(&rule, 0, sizeof(rule));
	rule.name = "r";
	memset(ev, 0, sizeof(ev));
	memset(&r, 0, sizeof(r));
	ev[0].rule = &rule;
	ev[0].event = "pending";
	ev[0].state = SW_ALERT_PENDING;
	ev[0].time_ms = 100;
	ev[1].rule = &rule;
	ev[1].event = "firing";
	ev[1].state = SW_ALERT_FIRING;
	ev[1].time_ms = 200;
	ev[2].rule = &rule;
	ev[2].event = "resolved";
	ev[2].state = SW_ALERT_INACTIVE;
	ev[2].time_ms = 300;
	r.ev = ev;
	r.n = 3;
	memset(&x, 0, sizeof(x));
	x.rule = "r";
	x.kind = SW_EXPECT_NONE;
	assert_false(sw_rtest_expect_check(&x, &r));
	x.rule = "other";
	assert_true(sw_rtest_expect_check(&x, &r));
	x.rule = "r";
	x.kind = SW_EXPECT_NEVER;
	x.event = "firing";
	assert_false(sw_rtest_expect_check(&x, &r));
	x.kind = SW_EXPECT_BY;
	x.t1_ms = 200;
	assert_true(sw_rtest_expect_check(&x, &r));
	x.t1_ms = 199;
	assert_false(sw_rtest_expect_check(&x, &r));
	x.kind = SW_EXPECT_AFTER;
	assert_true(sw_rtest_expect_check(&x, &r));
	x.t1_ms = 200;
	assert_false(sw_rtest_expect_check(&x, &r));
	x.kind = SW_EXPECT_BETWEEN;
	x.t1_ms = 150;
	x.t2_ms = 250;
	assert_true(sw_rtest_expect_check(&x, &r));
	x.t1_ms = 201;
	x.t2_ms = 400;
	assert_false(sw_rtest_expect_check(&x, &r));
	x.kind = SW_EXPECT_STATE_AT;
	x.state = SW_ALERT_INACTIVE;
	x.t1_ms = 99;
	assert_true(sw_rtest_expect_check(&x, &r));
	x.state = SW_ALERT_PENDING;
	x.t1_ms = 199;
	assert_true(sw_rtest_expect_check(&x, &r));
	x.state = SW_ALERT_FIRING;
	x.t1_ms = 299;
	assert_true(sw_rtest_expect_check(&x, &r));
	x.t1_ms = 300;
	assert_false(sw_rtest_expect_check(&x, &r));
	/* a pending that lapses without an event: a state record */
	ev[3].rule = &rule;
	ev[3].event = NULL;
	ev[3].state = SW_ALERT_INACTIVE;
	ev[3].time_ms = 150;
	ev[2] = ev[1];
	ev[1] = ev[3];
	r.n = 3;
	x.state = SW_ALERT_INACTIVE;
	x.t1_ms = 160;
	assert_true(sw_rtest_expect_check(&x, &r));
}

static void
test_fmt_offset(void **state)
{
	char	b[32];

	(void)state;
	assert_string_equal(sw_rtest_fmt_offset(b, sizeof(b), 0), "0s");
	assert_string_equal(sw_rtest_fmt_offset(b, sizeof(b), 45000), "45s");
	assert_string_equal(sw_rtest_fmt_offset(b, sizeof(b), 22200000),
	    "6h10m");
	assert_string_equal(sw_rtest_fmt_offset(b, sizeof(b), 86400000),
	    "1d");
	assert_string_equal(sw_rtest_fmt_offset(b, sizeof(b), 93600000 +
	    1000), "1d2h");
	assert_string_equal(sw_rtest_fmt_offset(b, sizeof(b), -300000),
	    "-5m");
	assert_string_equal(sw_rtest_fmt_offset(b, sizeof(b), 1500), "1s500ms");
}

/* writes text to a temp file; returns its path (static buffer per call) */
static void
write_file(char *path, size_t n, const char *text)
{
	int	fd;

	snprintf(path, n, "/tmp/test_rtest.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
}

static void
test_conf_build(void **state)
{
	struct sw_rtest_data		 d;
	struct sw_rtest_series		*s;
	struct sw_rtest_target		 tg;
	struct sw_conf			*conf;
	const struct sw_conf_target	*t;
	struct sw_loc			 loc = { "x", 1, 1 };
	char				 path[64];

	(void)state;
	write_file(path, sizeof(path), "rule a { when p50(checkout.latency, "
	    "5m) > 2s and errors(api, 5m) > 1% }\n"
	    "rule b { when doubling(webm.heap_bytes, 1h) < 1d }\n");
	sw_rtest_data_init(&d);
	assert_int_equal(sw_rtest_data_add(&d, "web.rss", &loc, &s, NULL), 0);
	assert_int_equal(sw_rtest_series_push(&d, s, 0, 1, NULL), 0);
	assert_int_equal(sw_rtest_series_push(&d, s, 30000, 1, NULL), 0);
	assert_int_equal(sw_rtest_series_push(&d, s, 60000, 1, NULL), 0);
	memset(&tg, 0, sizeof(tg));
	tg.name = "web";
	tg.loc = loc;
	tg.kind = -1;
	tg.warmup_ms = 600000;
	tg.limit = 2e9;
	diagbuf[0] = '\0';
	assert_int_equal(sw_rtest_conf_build(path, &d, &tg, 1, &conf, collect,
	    NULL), 0);
	assert_string_equal(diagbuf, "");
	t = sw_conf_target_find(conf, "web");
	assert_non_null(t);
	assert_int_equal(t->kind, SW_TARGET_PROCESS);
	assert_true(t->every_ms == 30000);
	assert_true(t->u.process.warmup_ms == 600000);
	assert_true(t->u.process.limit == 2e9);
	t = sw_conf_target_find(conf, "checkout");
	assert_non_null(t);
	assert_int_equal(t->kind, SW_TARGET_ENDPOINT);
	t = sw_conf_target_find(conf, "api");
	assert_non_null(t);
	assert_int_equal(t->kind, SW_TARGET_ENDPOINT);
	t = sw_conf_target_find(conf, "webm");
	assert_non_null(t);
	assert_int_equal(t->kind, SW_TARGET_SCRAPE);
	assert_non_null(conf->rules);
	sw_conf_free(conf);
	/* a target line for a target the file defines is an error */
	unlink(path);
	write_file(path, sizeof(path), "process web { pid 1 }\n"
	    "rule a { when web.rss > 1GB }\n");
	diagbuf[0] = '\0';
	assert_int_equal(sw_rtest_conf_build(path, &d, &tg, 1, &conf, collect,
	    NULL), -1);
	assert_non_null(strstr(diagbuf, "1:1: target web is defined in"));
	/* warmup on an endpoint */
	tg.name = "checkout";
	tg.kind = SW_TARGET_ENDPOINT;
	unlink(path);
	write_file(path, sizeof(path), "rule a { when p50(checkout.latency, "
	    "5m) > 2s }\n");
	diagbuf[0] = '\0';
	assert_int_equal(sw_rtest_conf_build(path, &d, &tg, 1, &conf, collect,
	    NULL), -1);
	assert_non_null(strstr(diagbuf, "warmup and limit are for process"));
	unlink(path);
	sw_rtest_data_release(&d);
}

static void
test_replay(void **state)
{
	static const char text[] =
	    "rules RULES\n"
	    "interval 1m\n"
	    "series web.rss 100MB+1MBx100 100MBx30\n"
	    "series web.pid 7x60 8x70\n"
	    "expect high firing by 1h2m\n";
	struct sw_rtest_file	*f;
	struct sw_rtest_result	 r;
	struct sw_conf		*conf;
	struct sw_err		 err;
	char			 path[64], buf[512];
	size_t			 i;
	int			 npend = 0;

	(void)state;
	write_file(path, sizeof(path), "rule high { when last(web.rss, 5m) > "
	    "150MB; for 10m; keep 5m }\n");
	snprintf(buf, sizeof(buf), "%s", text);
	memcpy(strstr(buf, "RULES"), "XXXXX", 5);
	{
		/* put the rules path in place of XXXXX */
		char	full[512];

		snprintf(full, sizeof(full), "rules %s\n%s", path,
		    strchr(buf, '\n') + 1);
		diagbuf[0] = '\0';
		assert_int_equal(sw_rtest_file_parse("/tmp/t.test", full,
		    strlen(full), &f, collect, NULL, NULL), 0);
	}
	assert_int_equal(sw_rtest_conf_build(f->rules, &f->cases[0].data,
	    NULL, 0, &conf, collect, NULL), 0);
	sw_rtest_result_init(&r);
	sw_err_clear(&err);
	assert_int_equal(sw_rtest_run(conf, &f->cases[0].data,
	    f->cases[0].until_ms, 0, &r, collect, NULL, &err), 0);
	/* 151 MB at 51 min: pending then; firing 10 min later; back to
	 * 100 MB at 101 min, resolved after keep (5 min) */
	for (i = 0; i < r.n; i++) {
		if (r.ev[i].event == NULL)
			continue;
		if (strcmp(r.ev[i].event, "pending") == 0) {
			npend++;
			assert_true(r.ev[i].time_ms == T0 + 51 * 60000);
			assert_true(r.ev[i].state == SW_ALERT_PENDING);
			assert_true(sw_rtest_event_value(&r.ev[i], NULL) ==
			    151e6);
		} else if (strcmp(r.ev[i].event, "firing") == 0) {
			assert_true(r.ev[i].time_ms == T0 + 61 * 60000);
			assert_true(r.ev[i].state == SW_ALERT_FIRING);
		} else if (strcmp(r.ev[i].event, "resolved") == 0) {
			assert_true(r.ev[i].time_ms == T0 + 106 * 60000);
		}
	}
	assert_int_equal(npend, 1);
	assert_true(sw_rtest_expect_check(&f->cases[0].expect[0], &r));
	assert_true(r.evals > 700);
	sw_rtest_result_release(&r);
	/* every minute: the same transitions */
	sw_rtest_result_init(&r);
	assert_int_equal(sw_rtest_run(conf, &f->cases[0].data,
	    f->cases[0].until_ms, 60000, &r, collect, NULL, &err), 0);
	assert_true(r.evals == 132);
	assert_true(sw_rtest_expect_check(&f->cases[0].expect[0], &r));
	sw_rtest_result_release(&r);
	sw_conf_free(conf);
	sw_rtest_file_free(f);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notation_values),
		cmocka_unit_test(test_notation_overlays),
		cmocka_unit_test(test_notation_errors),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_errors),
		cmocka_unit_test(test_file_parse),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_expect_check),
		cmocka_unit_test(test_fmt_offset),
		cmocka_unit_test(test_conf_build),
		cmocka_unit_test(test_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
