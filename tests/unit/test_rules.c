#include "config.h"
/*
 * test_rules.c: the engine around the evaluator: the alert state machine
 * (pending, `for`, the pending reset, `keep`, `repeat`, resolve, flap
 * damping, `for 0`), persistence of alert states across an engine rebuild
 * over the same store, instance events (the same pid does not split a
 * series), history loading from the store, parse errors with their
 * location, and the registry (unreferenced series cost nothing).
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
#include "slopewatch/rules.h"
#include "slopewatch/store.h"
#include "slopewatch/summary.h"

#define T0	1700006400000LL
#define S	1000LL
#define MIN	(60 * S)
#define HOUR	(60 * MIN)

static void
diag(const struct sw_loc *loc, const char *msg, void *arg)
{
	char	*dst = arg;

	if (dst != NULL && dst[0] == '\0')
		snprintf(dst, 256, "%d:%d: %s", loc != NULL ? loc->line : 0,
		    loc != NULL ? loc->col : 0, msg);
	else if (dst == NULL)
		fprintf(stderr, "%d:%d: %s\n", loc != NULL ? loc->line : 0,
		    loc != NULL ? loc->col : 0, msg);
}

/* Transitions as "EVENT@SECONDS" joined by spaces. */
static char	log_[4096];

static void
on_alert(const struct sw_alert_event *ev, void *arg)
{
	size_t	n = strlen(log_);

	(void)arg;
	snprintf(log_ + n, sizeof(log_) - n, "%s%s@%lld", n > 0 ? " " : "",
	    ev->event, (long long)((ev->time_ms - T0) / 1000));
}

struct fx {
	struct sw_conf		*conf;
	struct sw_engine	*e;
};

static void
fx_open(struct fx *f, const char *rule)
{
	char	text[2048];

	snprintf(text, sizeof(text),
	    "data /tmp/unused.db\n"
	    "scrape m { url http://127.0.0.1:1/metrics; every 10s }\n"
	    "process p { pid 1; every 10s }\n%s", rule);
	assert_int_equal(sw_conf_parse_string("t.conf", text, &f->conf, diag,
	    NULL, NULL), 0);
	assert_int_equal(sw_engine_new(f->conf, diag, NULL, &f->e), 0);
}

static void
fx_close(struct fx *f)
{
	sw_engine_free(f->e);
	sw_conf_free(f->conf);
}

/* Feeds m.x = v at T0 + sec and evaluates there. */
static void
step(struct fx *f, int sec, double v)
{
	sw_engine_sample(f->e, "m", "x", "", T0 + sec * S, v);
	sw_engine_eval(f->e, T0 + sec * S, on_alert, NULL);
}

/* Steps every 10 s from `from` to `to` (inclusive) at v. */
static void
run(struct fx *f, int from, int to, double v)
{
	int	sec;

	for (sec = from; sec <= to; sec += 10)
		step(f, sec, v);
}

static void
test_pending_reset_and_for(void **state)
{
	struct fx	f;

	(void)state;
	log_[0] = '\0';
	fx_open(&f, "rule r { when m.x > 10; for 1m }\n");
	run(&f, 0, 20, 1);
	step(&f, 30, 11);			/* pending */
	assert_int_equal(sw_engine_rule_state(f.e, "r", NULL),
	    SW_ALERT_PENDING);
	step(&f, 40, 1);			/* back to inactive, silently */
	assert_int_equal(sw_engine_rule_state(f.e, "r", NULL),
	    SW_ALERT_INACTIVE);
	run(&f, 50, 100, 11);			/* pending again at 50 */
	assert_int_equal(sw_engine_rule_state(f.e, "r", NULL),
	    SW_ALERT_PENDING);
	step(&f, 110, 11);			/* 60 s after 50: firing */
	assert_string_equal(log_, "pending@30 pending@50 firing@110");
	/* keep 0: the first false evaluation resolves */
	run(&f, 120, 130, 11);
	step(&f, 140, 1);
	assert_string_equal(log_, "pending@30 pending@50 firing@110 "
	    "resolved@140");
	fx_close(&f);
}

static void
test_keep_repeat(void **state)
{
	struct fx	f;
	struct sw_value	v;

	(void)state;
	log_[0] = '\0';
	fx_open(&f, "rule r { when m.x > 10; for 1m; keep 2m; repeat 5m }\n");
	run(&f, 0, 60, 11);			/* pending@0 firing@60 */
	run(&f, 70, 190, 11);
	run(&f, 200, 300, 1);			/* false since 200: keep */
	assert_int_equal(sw_engine_rule_state(f.e, "r", &v),
	    SW_ALERT_FIRING);
	assert_true(v.ok && v.v == 0);
	assert_true(v.lhs == 1 && v.rhs == 10);
	step(&f, 310, 11);			/* true again: keep resets */
	run(&f, 320, 430, 1);			/* false since 320 */
	assert_int_equal(sw_engine_rule_state(f.e, "r", NULL),
	    SW_ALERT_FIRING);
	step(&f, 440, 1);			/* 120 s later: resolved */
	assert_int_equal(sw_engine_rule_state(f.e, "r", NULL),
	    SW_ALERT_INACTIVE);
	assert_string_equal(log_, "pending@0 firing@60 repeat@360 "
	    "resolved@440");
	fx_close(&f);

	/* repeat reminders while it stays firing */
	log_[0] = '\0';
	fx_open(&f, "rule r { when m.x > 10; repeat 5m }\n");
	run(&f, 0, 900, 11);
	assert_string_equal(log_, "firing@0 repeat@300 repeat@600 "
	    "repeat@900");
	fx_close(&f);
}

static void
test_flap_damping(void **state)
{
	struct fx	f;

	(void)state;
	log_[0] = '\0';
	/* for 0: fires at once; resolving and coming back within 5 min
	 * needs the condition for 5 min */
	fx_open(&f, "rule r { when m.x > 10 }\n");
	step(&f, 0, 11);
	step(&f, 10, 1);
	run(&f, 20, 310, 11);
	assert_string_equal(log_, "firing@0 resolved@10 pending@20");
	fx_close(&f);
}

static void
test_flap_damping_exact(void **state)
{
	struct fx	f;

	(void)state;
	log_[0] = '\0';
	fx_open(&f, "rule r { when m.x > 10 }\n");
	step(&f, 0, 11);
	step(&f, 10, 1);
	run(&f, 20, 330, 11);
	/* pending at 20, 300 s later firing */
	assert_string_equal(log_, "firing@0 resolved@10 pending@20 "
	    "firing@320");
	/* later than the damping time: immediate again */
	run(&f, 340, 340, 1);
	run(&f, 700, 700, 11);
	assert_string_equal(log_, "firing@0 resolved@10 pending@20 "
	    "firing@320 resolved@340 firing@700");
	fx_close(&f);
}

static void
test_no_verdict_is_false(void **state)
{
	struct fx	f;
	struct sw_value	v;

	(void)state;
	log_[0] = '\0';
	fx_open(&f, "rule r { when m.x > 10 or not m.x > 10 }\n");
	/* no sample at all: neither true nor false, so the rule is quiet */
	sw_engine_eval(f.e, T0, on_alert, NULL);
	assert_int_equal(sw_engine_rule_state(f.e, "r", &v),
	    SW_ALERT_INACTIVE);
	assert_false(v.ok);
	assert_non_null(strstr(v.why, "m.x"));
	step(&f, 10, 5);
	assert_string_equal(log_, "firing@10");
	fx_close(&f);
}

static char *
tmpdb(char *buf, size_t n)
{
	snprintf(buf, n, "/tmp/sw-test-rules-%ld.db", (long)getpid());
	unlink(buf);
	return buf;
}

struct evcount {
	int	alerts;
	int	firing;
};

static int
count_cb(const struct sw_event *ev, void *arg)
{
	struct evcount	*c = arg;

	if (strcmp(ev->kind, "alert") == 0) {
		c->alerts++;
		if (strstr(ev->detail, "\"event\":\"firing\"") != NULL)
			c->firing++;
		assert_non_null(strstr(ev->detail, "\"notify\":[\"ops\"]"));
		assert_non_null(strstr(ev->detail, "\"action\":\"fix\""));
	}
	return 0;
}

static void
test_persistence(void **state)
{
	static const char rule[] =
	    "notify ops log { }\n"
	    "action fix { run /bin/true }\n"
	    "rule r { when m.x > 10; for 30s; keep 1m; notify ops; "
	    "action fix }\n";
	struct fx	a, b;
	struct sw_store	*st;
	struct sw_err	 err;
	struct evcount	 c;
	char		 path[128];
	char		 text[1024];

	(void)state;
	tmpdb(path, sizeof(path));
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(path, 0, &st, &err), 0);
	log_[0] = '\0';
	snprintf(text, sizeof(text), "%s", rule);
	fx_open(&a, text);
	assert_int_equal(sw_engine_attach_store(a.e, st, &err), 0);
	run(&a, 0, 40, 11);
	assert_string_equal(log_, "pending@0 firing@30");
	assert_int_equal(sw_store_flush(st, &err), 0);
	fx_close(&a);

	/* the agent restarts: a new engine over the same store */
	log_[0] = '\0';
	fx_open(&b, text);
	assert_int_equal(sw_engine_attach_store(b.e, st, &err), 0);
	assert_int_equal(sw_engine_rule_state(b.e, "r", NULL),
	    SW_ALERT_FIRING);
	run(&b, 50, 100, 11);
	assert_string_equal(log_, "");		/* not announced again */
	run(&b, 110, 170, 1);
	assert_string_equal(log_, "resolved@170");
	assert_int_equal(sw_store_flush(st, &err), 0);
	fx_close(&b);

	memset(&c, 0, sizeof(c));
	assert_int_equal(sw_store_events_each(st, NULL, 0, count_cb, &c,
	    &err), 0);
	assert_int_equal(c.alerts, 3);
	assert_int_equal(c.firing, 1);

	/* firing again, then the rule is renamed: the old state is gone */
	log_[0] = '\0';
	fx_open(&a, text);
	assert_int_equal(sw_engine_attach_store(a.e, st, &err), 0);
	/* resolved at 170: flap damping holds it pending for 5 min */
	run(&a, 200, 490, 11);
	assert_int_equal(sw_engine_rule_state(a.e, "r", NULL),
	    SW_ALERT_PENDING);
	step(&a, 500, 11);
	assert_int_equal(sw_engine_rule_state(a.e, "r", NULL),
	    SW_ALERT_FIRING);
	fx_close(&a);
	fx_open(&a, "rule r2 { when m.x > 10 }\n");
	assert_int_equal(sw_engine_attach_store(a.e, st, &err), 0);
	fx_close(&a);
	fx_open(&a, text);
	assert_int_equal(sw_engine_attach_store(a.e, st, &err), 0);
	assert_int_equal(sw_engine_rule_state(a.e, "r", NULL),
	    SW_ALERT_INACTIVE);
	fx_close(&a);
	sw_store_close(st);
	unlink(path);
}

static void
test_instances_and_load(void **state)
{
	struct fx	f;
	struct sw_store	*st;
	struct sw_err	 err;
	struct sw_value	 v;
	char		 path[128];
	int64_t		 id, ts;

	(void)state;
	tmpdb(path, sizeof(path));
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(path, 0, &st, &err), 0);
	id = sw_store_series_id(st, "p", "rss", "", "bytes", 1, &err);
	assert_true(id > 0);
	/* two instances: 1000 B/s, then a restart at 8 h with 2000 B/s */
	for (ts = T0; ts <= T0 + 14 * HOUR; ts += 10 * S)
		assert_int_equal(sw_store_add(st, id, ts, ts < T0 + 8 * HOUR ?
		    1e8 + (double)(ts - T0) : 1e8 + 2.0 * (double)(ts - T0 -
		    8 * HOUR), &err), 0);
	assert_int_equal(sw_store_event(st, T0, "p", "start", 10,
	    "{\"pid\":10,\"started_ms\":1700006400000}", &err), 0);
	assert_int_equal(sw_store_event(st, T0 + 8 * HOUR, "p", "restart", 11,
	    NULL, &err), 0);
	assert_int_equal(sw_store_flush(st, &err), 0);

	fx_open(&f, "rule r { when slope(p.rss, 6h) > 0 }\n");
	assert_int_equal(sw_engine_load(f.e, st, T0 + 14 * HOUR, &err), 0);
	assert_int_equal(sw_engine_query(f.e, "slope(p.rss, 6h)",
	    T0 + 14 * HOUR, &v, &err), 0);
	assert_true(v.ok);
	assert_true(fabs(v.v - 2000) < 1e-6);
	assert_int_equal(v.trend.nlifetimes, 2);
	assert_true(fabs(v.trend.lifetime_slope[1] - 1000) < 1e-6);
	/* the agent restarted: its source reports "start" for the same pid;
	 * that is not a new instance */
	sw_engine_instance(f.e, "p", T0 + 14 * HOUR, 11);
	assert_int_equal(sw_engine_query(f.e, "slope(p.rss, 6h)",
	    T0 + 14 * HOUR, &v, &err), 0);
	assert_true(v.ok);
	/* a real new instance: no verdict until half a window */
	sw_engine_instance(f.e, "p", T0 + 14 * HOUR + 10 * S, 12);
	assert_int_equal(sw_engine_query(f.e, "slope(p.rss, 6h)",
	    T0 + 14 * HOUR + 20 * S, &v, &err), 0);
	assert_false(v.ok);
	fx_close(&f);
	sw_store_close(st);
	unlink(path);
}

static void
test_errors_and_registry(void **state)
{
	struct sw_conf		*conf;
	struct sw_engine	*e;
	struct sw_value		 v;
	struct sw_err		 err;
	char			 msg[256] = "";
	size_t			 before;
	int			 i;

	(void)state;
	/* a bad rule: its location */
	assert_int_equal(sw_conf_parse_string("t.conf",
	    "process p { pid 1 }\n"
	    "rule r { when p50(p.rss, 5m) > 2s }\n", &conf, diag, NULL, NULL),
	    0);
	assert_int_equal(sw_engine_new(conf, diag, msg, &e), -1);
	assert_non_null(strstr(msg, "2:"));
	assert_non_null(strstr(msg, "cannot compare bytes"));
	sw_conf_free(conf);

	assert_int_equal(sw_conf_parse_string("t.conf",
	    "process p { pid 1 }\n"
	    "rule r { when max(p.rss, 5m) > 1GB }\n", &conf, diag, NULL, NULL),
	    0);
	assert_int_equal(sw_engine_new(conf, diag, NULL, &e), 0);
	/* a query parse error names the column */
	sw_err_clear(&err);
	assert_int_equal(sw_engine_query(e, "slop(p.rss, 1h)", T0, &v, &err),
	    -1);
	assert_non_null(strstr(err.msg, "1:1:"));
	/* series no rule references are not kept */
	before = sw_engine_memory(e);
	for (i = 0; i < 1000; i++)
		sw_engine_sample(e, "p", "pss", "", T0 + i * 1000, i);
	assert_int_equal(sw_engine_memory(e), before);
	/* one plain summary for p.rss */
	assert_true(before >= sw_summary_memory_max(0));
	assert_true(before < 2 * sw_summary_memory_max(0) + 2 * 1024 * 1024);
	sw_engine_free(e);
	sw_conf_free(conf);
}

static void
test_describe(void **state)
{
	struct sw_value	v;
	char		buf[256];

	(void)state;
	memset(&v, 0, sizeof(v));
	v.ok = 1;
	v.is_bool = 1;
	v.v = 1;
	v.trend.valid = 1;
	snprintf(v.trend.fn, sizeof(v.trend.fn), "doubling");
	snprintf(v.trend.series, sizeof(v.trend.series), "web.rss");
	v.trend.doubling_s = 19 * 3600;
	v.trend.doubling_lo_s = 15 * 3600;
	v.trend.doubling_hi_s = 26 * 3600;
	v.trend.points = 42;
	sw_value_describe(&v, buf, sizeof(buf));
	assert_non_null(strstr(buf, "web.rss doubling every 19"));
	assert_non_null(strstr(buf, "42 points"));
	v.ok = 0;
	snprintf(v.why, sizeof(v.why), "too little");
	assert_string_equal(sw_value_describe(&v, buf, sizeof(buf)),
	    "no verdict: too little");
	assert_string_equal(sw_alert_state_name(SW_ALERT_FIRING), "firing");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_reset_and_for),
		cmocka_unit_test(test_keep_repeat),
		cmocka_unit_test(test_flap_damping),
		cmocka_unit_test(test_flap_damping_exact),
		cmocka_unit_test(test_no_verdict_is_false),
		cmocka_unit_test(test_persistence),
		cmocka_unit_test(test_instances_and_load),
		cmocka_unit_test(test_errors_and_registry),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
