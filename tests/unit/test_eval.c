#include "config.h"
/*
 * test_eval.c: the value of every function on hand-computed inputs, the
 * interval (conservative) comparisons, and the trend functions on
 * synthetic traces (leak with GC sawtooth, healthy sawtooth, warm-up ramp,
 * cache filling to a cap, one-off spike, restart mid-leak, latency
 * doubling per day). Times are fake: the engine takes them as arguments.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/rules.h"
#include "slopewatch/summary.h"

#define T0	1700006400000LL		/* a day boundary, unix ms */
#define S	1000LL
#define MIN	(60 * S)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)
#define MB	1e6

/* |a - b| <= eps, with the values in the message */
#define assert_near(a, b, eps) do {					\
	double	a_ = (a), b_ = (b), e_ = (eps);				\
	if (!(fabs(a_ - b_) <= e_) && !(a_ == b_))			\
		fail_msg("%s = %.17g, expected %.17g +- %g", #a, a_,	\
		    b_, e_);						\
} while (0)

static const char base_conf[] =
    "data /tmp/unused.db\n"
    "endpoint ep { url http://127.0.0.1:1/; every 10s }\n"
    "process p { pid 1; every 10s; warmup 5m }\n"
    "process q { pid 1; every 10s }\n"
    "scrape m { url http://127.0.0.1:1/metrics; every 10s }\n";

static void
diag(const struct sw_loc *loc, const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s:%d:%d: %s\n", loc != NULL && loc->file != NULL ?
	    loc->file : "-", loc != NULL ? loc->line : 0,
	    loc != NULL ? loc->col : 0, msg);
}

struct fx {
	struct sw_conf		*conf;
	struct sw_engine	*e;
};

static void
fx_open(struct fx *f, const char *rules)
{
	char	text[4096];

	snprintf(text, sizeof(text), "%s%s", base_conf, rules);
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

/* Evaluates text at now; returns the value (asserting parse success). */
static struct sw_value
q(struct fx *f, const char *text, int64_t now)
{
	struct sw_value	v;
	struct sw_err	err;

	sw_err_clear(&err);
	if (sw_engine_query(f->e, text, now, &v, &err) == -1)
		fail_msg("%s: %s", text, err.msg);
	return v;
}

static double
qv(struct fx *f, const char *text, int64_t now)
{
	struct sw_value	v = q(f, text, now);

	if (!v.ok)
		fail_msg("%s: no verdict: %s", text, v.why);
	return v.v;
}

/* Deterministic noise: xorshift64 and a normal by Box-Muller. */
static uint64_t rng = 88172645463325252ULL;

static double
urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static double
nrand(void)
{
	double	u = urand(), v = urand();

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* ---------------------------------------------------------------------- */
/* window functions                                                        */

static void
test_window_functions(void **state)
{
	struct fx	f;
	int		i;

	(void)state;
	/* registered by the queries themselves (no rules) */
	fx_open(&f, "");
	(void)q(&f, "p50(ep.latency, 5m)", T0);
	for (i = 0; i < 10; i++)
		sw_engine_sample(f.e, "ep", "latency", "", T0 + i * 10 * S,
		    0.1 * (i + 1));
	assert_near(qv(&f, "avg(ep.latency, 5m)", T0 + 95 * S), 0.55,
	    1e-12);
	assert_near(qv(&f, "min(ep.latency, 5m)", T0 + 95 * S), 0.1,
	    1e-12);
	assert_near(qv(&f, "max(ep.latency, 5m)", T0 + 95 * S), 1.0,
	    1e-12);
	assert_near(qv(&f, "last(ep.latency, 5m)", T0 + 95 * S), 1.0,
	    1e-12);
	assert_near(qv(&f, "count(ep.latency, 5m)", T0 + 95 * S), 10,
	    0);
	/* 0.55 is the interpolated median; the histogram is within 0.5415 % */
	assert_near(qv(&f, "p50(ep.latency, 5m)", T0 + 95 * S), 0.55,
	    0.55 * 0.0055);
	/* p90: rank 8.1 between 0.9 and 1.0 */
	assert_near(qv(&f, "p90(ep.latency, 5m)", T0 + 95 * S), 0.91,
	    0.91 * 0.0055);
	/* a 30 s window at T0+95 s takes the samples at 70, 80, 90 s (10 s
	 * buckets whose samples fall after the window start) */
	assert_near(qv(&f, "count(ep.latency, 30s)", T0 + 95 * S), 3,
	    0);
	assert_near(qv(&f, "min(ep.latency, 30s)", T0 + 95 * S), 0.8,
	    1e-12);
	/* the newest value, and no verdict once it is stale */
	assert_near(qv(&f, "ep.latency", T0 + 95 * S), 1.0, 1e-12);
	assert_false(q(&f, "ep.latency", T0 + 90 * S + 6 * MIN).ok);
	assert_false(q(&f, "avg(ep.latency, 1m)", T0 + 20 * MIN).ok);
	assert_near(qv(&f, "count(ep.latency, 1m)", T0 + 20 * MIN), 0,
	    0);
	/* arithmetic and logic */
	assert_near(qv(&f, "ep.latency * 2 - 0.5s", T0 + 95 * S), 1.5,
	    1e-12);
	assert_near(qv(&f, "ep.latency * 2 > 1s and not ep.latency "
	    "> 10s", T0 + 95 * S), 1, 0);
	assert_near(qv(&f, "ep.latency > 2s or ep.latency < 500ms",
	    T0 + 95 * S), 0, 0);
	fx_close(&f);
}

static void
test_delta_rate(void **state)
{
	struct fx	f;
	double		v;
	int		i;

	(void)state;
	fx_open(&f, "");
	(void)q(&f, "rate(m.requests_total, 5m)", T0);
	(void)q(&f, "delta(m.temp, 1m)", T0);
	for (i = 0; i <= 12; i++) {
		/* 100, 200, ... 700 at 0..60 s; reset to 50 at 70 s, then
		 * +100 per 10 s: increases 6 x 100 + 50 + 5 x 100 = 1150 */
		v = i <= 6 ? 100.0 * (i + 1) : 50.0 + 100.0 * (i - 7);
		sw_engine_sample(f.e, "m", "requests_total", "",
		    T0 + i * 10 * S, v);
		sw_engine_sample(f.e, "m", "temp", "", T0 + i * 10 * S,
		    10 + i);
	}
	/* nothing before the window: from the first sample to the last */
	assert_near(qv(&f, "rate(m.requests_total, 5m)",
	    T0 + 125 * S), 1150.0 / 120, 1e-9);
	/* from the value at the window start (700 at 60 s) */
	assert_near(qv(&f, "rate(m.requests_total, 1m)",
	    T0 + 120 * S), 550.0 / 60, 1e-9);
	/* delta: newest minus the value at the window start */
	assert_near(qv(&f, "delta(m.temp, 1m)", T0 + 120 * S), 6,
	    1e-12);
	assert_false(q(&f, "delta(m.temp, 5m)", T0 + 120 * S).ok);
	fx_close(&f);
}

static void
test_errors_histogram(void **state)
{
	struct fx	f;
	static const char *les[] = { "0.1", "0.5", "+Inf" };
	static const double n1[] = { 10, 30, 40 };
	char		labels[128];
	int		i;

	(void)state;
	fx_open(&f, "");
	(void)q(&f, "errors(ep, 5m)", T0);
	(void)q(&f, "histogram_quantile(0.5, m.lat_seconds{method=\"GET\"}, "
	    "5m)", T0);
	(void)q(&f, "histogram_quantile(0.5, m.lat_seconds, 5m)", T0);
	sw_engine_sample(f.e, "ep", "up", "", T0, 1);
	sw_engine_sample(f.e, "ep", "up", "", T0 + 10 * S, 1);
	sw_engine_sample(f.e, "ep", "up", "", T0 + 20 * S, 0);
	sw_engine_sample(f.e, "ep", "up", "", T0 + 30 * S, 1);
	assert_near(qv(&f, "errors(ep, 5m)", T0 + 35 * S), 0.25,
	    1e-12);
	for (i = 0; i < 3; i++) {
		/* a baseline scrape, then 40 observations for GET and 40
		 * for POST, all of POST in the (0.5, +Inf] bucket */
		snprintf(labels, sizeof(labels), "le=\"%s\",method=\"GET\"",
		    les[i]);
		sw_engine_sample(f.e, "m", "lat_seconds_bucket", labels, T0, 5);
		sw_engine_sample(f.e, "m", "lat_seconds_bucket", labels,
		    T0 + 30 * S, 5 + n1[i]);
		snprintf(labels, sizeof(labels), "le=\"%s\",method=\"POST\"",
		    les[i]);
		sw_engine_sample(f.e, "m", "lat_seconds_bucket", labels, T0, 0);
		sw_engine_sample(f.e, "m", "lat_seconds_bucket", labels,
		    T0 + 30 * S, i == 2 ? 40 : 0);
	}
	/* GET: rank 20 of 40 in (0.1, 0.5]: 0.1 + 0.4 * (20 - 10) / 20 */
	assert_near(qv(&f, "histogram_quantile(0.5, "
	    "m.lat_seconds{method=\"GET\"}, 5m)", T0 + 35 * S), 0.3, 1e-12);
	/* all: 80 observations, rank 40 is the last in (0.1, 0.5] */
	assert_near(qv(&f, "histogram_quantile(0.5, m.lat_seconds, "
	    "5m)", T0 + 35 * S), 0.5, 1e-12);
	/* rank 60 is in +Inf: the second-highest bound */
	assert_near(qv(&f, "histogram_quantile(0.75, m.lat_seconds, "
	    "5m)", T0 + 35 * S), 0.5, 1e-12);
	fx_close(&f);
}

/* ---------------------------------------------------------------------- */
/* trend functions, exact                                                  */

static void
feed_fn(struct fx *f, const char *t, const char *m, int64_t from, int64_t to,
    int64_t step, double (*fn)(double), int64_t origin)
{
	int64_t	ts;

	for (ts = from; ts <= to; ts += step)
		sw_engine_sample(f->e, t, m, "", ts,
		    fn((double)(ts - origin) / 1000.0));
}

static double b_flat(double);

static double
lin1000(double t)
{
	return 1e8 + 1000 * t;
}

static double
exp1d(double t)
{
	return 1e8 * pow(2, t / 86400);
}

static void
test_trend_exact(void **state)
{
	struct fx	f;
	struct sw_value	v;
	int64_t		now = T0 + 6 * HOUR;
	double		lvl, eta_lin, eta_exp;

	(void)state;
	fx_open(&f, "");
	(void)q(&f, "slope(q.rss, 6h) + slope(q.anon, 6h) + "
	    "slope(q.swap, 6h)", T0);
	sw_engine_instance(f.e, "q", T0, 42);
	feed_fn(&f, "q", "swap", T0, now, 10 * S, b_flat, T0);
	feed_fn(&f, "q", "rss", T0, now, 10 * S, lin1000, T0);
	feed_fn(&f, "q", "anon", T0, now, 10 * S, exp1d, T0);
	/* a linear series: slope exactly 1000 B/s, a zero-width CI */
	v = q(&f, "slope(q.rss, 6h)", now);
	assert_true(v.ok);
	assert_near(v.v, 1000, 1e-6);
	assert_true(v.trend.valid);
	assert_near(v.trend.slope_lo, 1000, 1e-6);
	assert_near(v.trend.slope_hi, 1000, 1e-6);
	assert_int_equal(v.trend.points, 72);	/* 5-minute points */
	assert_int_equal(v.trend.width_ms, 5 * MIN);
	assert_true(v.trend.z > 10);
	assert_true(v.trend.confidence > 0.999);
	/* doubling of an exact exponential: 1 day */
	assert_near(qv(&f, "doubling(q.anon, 6h)", now), 86400, 1e-3);
	/* not growing: +Inf */
	assert_true(isinf(qv(&f, "doubling(q.swap, 6h)", now)));
	assert_near(qv(&f, "doubling(q.swap, 6h) < 1d", now), 0, 0);
	/* forecast: the floor level (lagging the newest sample by one point
	 * width) plus slope x horizon */
	assert_near(qv(&f, "forecast(q.rss, 6h, 1h)", now),
	    lin1000(6 * 3600) - 1000 * 300 + 1000 * 3600, 1e-3);
	/* time_to: from the newest peak, the sooner of the linear and the
	 * exponential ETA */
	v = q(&f, "time_to(q.rss, 200MB, 6h)", now);
	assert_true(v.ok);
	lvl = v.trend.level;
	assert_near(lvl, lin1000(6 * 3600), 1e-3);
	eta_lin = (200 * MB - lvl) / v.trend.slope;
	eta_exp = log(200 * MB / lvl) / v.trend.slope_log;
	assert_near(v.v, eta_lin < eta_exp ? eta_lin : eta_exp, 1e-6);
	assert_near(qv(&f, "time_to(q.rss, 100MB, 6h)", now), 0, 0);
	/* a rule comparison on an exact trend: the gates pass */
	assert_near(qv(&f, "slope(q.rss, 6h) > 50MB/d", now), 1, 0);
	assert_near(qv(&f, "slope(q.rss, 6h) > 100MB/d", now), 0, 0);
	assert_near(qv(&f, "doubling(q.anon, 6h) < 25h", now), 1, 0);
	assert_near(qv(&f, "doubling(q.anon, 6h) < 23h", now), 0, 0);
	/* minimum data: 2 h of a 6 h window is no verdict */
	v = q(&f, "slope(q.rss, 6h) > 1MB/d", T0 + 2 * HOUR);
	assert_false(v.ok);
	assert_non_null(strstr(v.why, "half the window"));
	fx_close(&f);
}

/* 1000 B/s for 4 h, then slower: 500 or 800 B/s. */
static double
kink500(double t)
{
	return t <= 14400 ? 1e8 + 1000 * t : 1e8 + 1000 * 14400 +
	    500 * (t - 14400);
}

static double
kink800(double t)
{
	return t <= 14400 ? 1e8 + 1000 * t : 1e8 + 1000 * 14400 +
	    800 * (t - 14400);
}

/*
 * The deceleration guard on smooth (noise-free) points, where it is the
 * point-estimate test: the slope of the most recent third of the window
 * (6 h: the 5-minute floors after 4 h, all on the second line) must be at
 * least 0.75 x the whole window's slope. 1000 -> 500 B/s: the recent
 * slope is exactly 500, the whole window's over 900 (most pairwise slopes
 * span the kink), so growth "slows down" and no growth verdict holds,
 * even though the whole window's slope and its CI are far above the
 * threshold. 1000 -> 800 B/s passes (800 / the whole > 0.75).
 */
static void
test_trend_decel_guard(void **state)
{
	struct fx	f;
	struct sw_value	v;
	int64_t		now = T0 + 6 * HOUR;

	(void)state;
	fx_open(&f, "");
	(void)q(&f, "slope(q.rss, 6h) + slope(q.anon, 6h) + "
	    "slope(q.swap, 6h)", T0);
	sw_engine_instance(f.e, "q", T0, 42);
	feed_fn(&f, "q", "rss", T0, now, 10 * S, kink500, T0);
	feed_fn(&f, "q", "anon", T0, now, 10 * S, kink800, T0);
	feed_fn(&f, "q", "swap", T0, now, 10 * S, lin1000, T0);

	v = q(&f, "slope(q.rss, 6h)", now);
	assert_true(v.ok);
	assert_true(v.trend.slope > 900 && v.trend.slope < 1000);
	assert_near(v.trend.decel * v.trend.slope, 500, 1e-6);
	assert_true(v.trend.decel < 0.75);
	assert_int_equal(v.trend.gates, 0);
	/* the CI is far above 20 MB/d (0.23 B/s) ... */
	assert_true(v.trend.slope_lo > 20 * MB / 86400);
	/* ... but the growth is slowing: not true, and not true either
	 * for the other trend functions that rely on growth */
	assert_near(qv(&f, "slope(q.rss, 6h) > 20MB/d", now), 0, 0);
	assert_near(qv(&f, "time_to(q.rss, 1GB, 6h) < 30d", now), 0, 0);
	assert_near(qv(&f, "forecast(q.rss, 6h, 1d) > 150MB", now), 0, 0);
	/* a comparison that does not rely on growth is not gated */
	assert_near(qv(&f, "slope(q.rss, 6h) < 2000B/s", now), 1, 0);

	v = q(&f, "slope(q.anon, 6h)", now);
	assert_true(v.ok);
	assert_near(v.trend.decel * v.trend.slope, 800, 1e-6);
	assert_true(v.trend.decel >= 0.75 && v.trend.decel < 1);
	assert_int_equal(v.trend.gates, 1);
	assert_near(qv(&f, "slope(q.anon, 6h) > 20MB/d", now), 1, 0);
	assert_near(qv(&f, "forecast(q.anon, 6h, 1d) > 150MB", now), 1, 0);

	/* a straight line: the recent third's slope is the whole slope */
	v = q(&f, "slope(q.swap, 6h)", now);
	assert_near(v.trend.decel, 1, 1e-9);
	assert_int_equal(v.trend.gates, 1);
	fx_close(&f);
}

static void
test_anomaly(void **state)
{
	struct fx	f;
	int64_t		ts, now = T0 + 25 * HOUR;
	double		z;

	(void)state;
	fx_open(&f, "");
	(void)q(&f, "anomaly(ep.latency, 1h, 1d)", T0);
	rng = 1;
	for (ts = T0; ts <= now; ts += 10 * S)
		sw_engine_sample(f.e, "ep", "latency", "", ts, 0.2 +
		    0.01 * nrand() + (ts > now - HOUR ? 0.3 : 0));
	z = qv(&f, "anomaly(ep.latency, 1h, 1d)", now);
	/* +0.3 s against a spread of ~0.05 * 0.2 s (the scale floor) */
	assert_true(z > 20);
	/* the hour before, against the day before it: nothing special */
	z = qv(&f, "anomaly(ep.latency, 1h, 1d)", now - HOUR);
	assert_true(fabs(z) < 3);
	fx_close(&f);
}

/* ---------------------------------------------------------------------- */
/* synthetic traces through rules                                          */

/* Traces are sampled every STEP and evaluated every EVAL_STEP (coarser
 * than the agent's 10 s, to keep the test fast; the summaries and the
 * fits do not depend on it). */
#define STEP		(20 * S)
#define EVAL_STEP	(60 * S)

/* A process trace: base(t) + GC sawtooth (a period of 130 s, not a
 * multiple of the sampling, amplitude saw) + noise. */
struct trace {
	double	(*base)(double t);	/* t in seconds since start */
	double	 saw;
	double	 noise;
	int64_t	 restart_at;		/* ms since T0; 0 none */
	int64_t	 spike_at;
};

static double g_rate;

static double
b_flat(double t)
{
	(void)t;
	return 200 * MB;
}

static double
b_leak(double t)
{
	return 200 * MB + g_rate * t;
}

static double
b_warmup(double t)
{
	return 200 * MB + 300 * MB * (1 - exp(-t / 1800));
}

static double
b_cache(double t)
{
	return 200 * MB + 150 * MB * (t < 7200 ? t : 7200) / 3600;
}

/* A cache that starts filling 3 h after the process (when traffic
 * arrives) towards a cap of +56 % with a 100-minute time constant: for
 * its first two hours it rises like a leak (tests/corpus, cache-fill-cap). */
static double
b_cache_fill(double t)
{
	return 200 * MB + (t < 10800 ? 0 :
	    112 * MB * (1 - exp(-(t - 10800) / 6000)));
}

/* Runs rule "r" over a trace; returns the first firing time (ms since
 * T0) or -1. */
static int64_t first_fire;

static void
on_alert(const struct sw_alert_event *ev, void *arg)
{
	(void)arg;
	if (strcmp(ev->event, "firing") == 0 && first_fire < 0)
		first_fire = ev->time_ms - T0;
}

static int64_t
run_trace(const char *rule, const struct trace *tr, int64_t hours,
    struct fx *keep)
{
	struct fx	f;
	int64_t		ts, end = T0 + hours * HOUR, start = T0;
	double		v, t, phase;
	long		pid = 100;

	fx_open(&f, rule);
	first_fire = -1;
	rng = 7;
	sw_engine_instance(f.e, "p", T0, pid);
	for (ts = T0; ts <= end; ts += STEP) {
		if (tr->restart_at > 0 && ts == T0 + tr->restart_at) {
			start = ts;
			sw_engine_instance(f.e, "p", ts, ++pid);
		}
		t = (double)(ts - start) / 1000.0;
		phase = fmod(t, 130) / 130;
		v = tr->base(t) + tr->saw * phase + tr->noise * nrand();
		if (tr->spike_at > 0 && ts >= T0 + tr->spike_at &&
		    ts < T0 + tr->spike_at + 30 * S)
			v *= 2;
		sw_engine_sample(f.e, "p", "rss", "", ts, v);
		if ((ts - T0) % EVAL_STEP == 0)
			sw_engine_eval(f.e, ts, on_alert, NULL);
	}
	if (keep != NULL)
		*keep = f;
	else
		fx_close(&f);
	return first_fire;
}

static const char leak_rule[] =
    "rule r { when doubling(p.rss, 6h) < 1d; for 30m }\n";
static const char slope_rule[] =
    "rule r { when slope(p.rss, 6h) > 100MB/d; for 30m }\n";
static const char fast_rule[] =
    "rule r { when doubling(p.rss, 12h) < 1d; for 1h }\n";
static const char oom_rule[] =
    "rule r { when time_to(p.rss, 600MB, 12h) < 12h; for 1h }\n";

static void
test_trace_leak_fires(void **state)
{
	struct trace	tr = { b_leak, 50 * MB, 3 * MB, 0, 0 };
	int64_t		at;

	(void)state;
	/* 400 MB/day from 200 MB: doubling in ~12 h at the start */
	g_rate = 400 * MB / 86400;
	at = run_trace(leak_rule, &tr, 12, NULL);
	assert_true(at > 0);
	/* half the window plus warm-up plus `for`, and a little */
	assert_true(at <= 4 * HOUR);
	at = run_trace(slope_rule, &tr, 12, NULL);
	assert_true(at > 0 && at <= 4 * HOUR);
}

static void
test_trace_controls_quiet(void **state)
{
	struct trace	flat = { b_flat, 50 * MB, 3 * MB, 0, 0 };
	struct trace	warm = { b_warmup, 50 * MB, 3 * MB, 0, 0 };
	struct trace	cache = { b_cache, 50 * MB, 3 * MB, 0, 0 };
	struct trace	spike = { b_flat, 50 * MB, 3 * MB, 0, 10 * HOUR };
	struct trace	fill = { b_cache_fill, 50 * MB, 3 * MB, 0, 0 };
	struct trace	leak = { b_leak, 50 * MB, 3 * MB, 0, 0 };

	(void)state;
	assert_int_equal(run_trace(leak_rule, &flat, 24, NULL), -1);
	assert_int_equal(run_trace(slope_rule, &flat, 24, NULL), -1);
	assert_int_equal(run_trace(leak_rule, &warm, 24, NULL), -1);
	assert_int_equal(run_trace(slope_rule, &warm, 24, NULL), -1);
	assert_int_equal(run_trace(leak_rule, &cache, 24, NULL), -1);
	assert_int_equal(run_trace(slope_rule, &cache, 24, NULL), -1);
	assert_int_equal(run_trace(leak_rule, &spike, 24, NULL), -1);
	assert_int_equal(run_trace(slope_rule, &spike, 24, NULL), -1);
	assert_int_equal(run_trace("rule r { when time_to(p.rss, 600MB, 6h) "
	    "< 6h; for 30m }\n", &spike, 24, NULL), -1);
	/* the example rules (rules/node-leak.rules) on a cache filling
	 * to its cap, and on a leak from the same start */
	assert_int_equal(run_trace(fast_rule, &fill, 24, NULL), -1);
	assert_int_equal(run_trace(oom_rule, &fill, 24, NULL), -1);
	g_rate = 200 * MB / 86400;
	assert_true(run_trace(fast_rule, &leak, 24, NULL) > 0);
	assert_true(run_trace(oom_rule, &leak, 48, NULL) > 0);
}

static void
test_trace_restart_splits(void **state)
{
	struct trace	tr = { b_leak, 50 * MB, 3 * MB, 8 * HOUR, 0 };
	struct fx	f;
	struct sw_value	v;
	double		rate = 100 * MB / 3600.0;

	(void)state;
	g_rate = rate;
	/* rules over the 12 h: per-instance slope */
	(void)run_trace("rule r { when slope(p.rss, 6h) > 0 }\n", &tr, 9, &f);
	/* one hour after the restart: no verdict (never "the leak ended") */
	v = q(&f, "slope(p.rss, 6h)", T0 + 9 * HOUR);
	assert_false(v.ok);
	fx_close(&f);
	(void)run_trace("rule r { when slope(p.rss, 6h) > 0 }\n", &tr, 12, &f);
	/* four hours after: the new instance's own slope, not the drop */
	v = q(&f, "slope(p.rss, 6h)", T0 + 12 * HOUR);
	assert_true(v.ok);
	assert_near(v.v, rate, rate * 0.05);
	assert_int_equal(v.trend.segments, 1);
	/* the per-lifetime view: both instances leak at the same rate */
	assert_true(v.trend.nlifetimes >= 2);
	assert_near(v.trend.lifetime_slope[0], rate, rate * 0.05);
	assert_near(v.trend.lifetime_slope[1], rate, rate * 0.05);
	fx_close(&f);
}

static void
test_trace_across_restarts(void **state)
{
	/* a crash loop: restart every 2 h; per instance there is never
	 * half a 6 h window, across restarts the blocked fit sees it */
	struct trace	tr = { b_leak, 20 * MB, 2 * MB, 0, 0 };
	struct fx	f;
	int64_t		ts, start = T0;
	long		pid = 1;
	double		v, t;

	(void)state;
	(void)tr;
	g_rate = 400 * MB / 86400;
	fx_open(&f, "rule a { when slope(p.rss, 6h) > 100MB/d; "
	    "across-restarts yes }\n"
	    "rule b { when slope(p.rss, 6h) > 100MB/d }\n");
	first_fire = -1;
	rng = 3;
	for (ts = T0; ts <= T0 + 12 * HOUR; ts += STEP) {
		if ((ts - T0) % (2 * HOUR) == 0) {
			start = ts;
			sw_engine_instance(f.e, "p", ts, ++pid);
		}
		t = (double)(ts - start) / 1000.0;
		v = b_leak(t) + 20 * MB * fmod(t, 130) / 130 + 2 * MB * nrand();
		sw_engine_sample(f.e, "p", "rss", "", ts, v);
		if ((ts - T0) % EVAL_STEP == 0)
			sw_engine_eval(f.e, ts, NULL, NULL);
	}
	assert_int_equal(sw_engine_rule_state(f.e, "a", NULL), SW_ALERT_FIRING);
	assert_int_equal(sw_engine_rule_state(f.e, "b", NULL),
	    SW_ALERT_INACTIVE);
	fx_close(&f);
}

static double
lat_doubling(double t)
{
	return 0.2 * pow(2, t / 86400);
}

static void
test_trace_latency(void **state)
{
	struct fx	f;
	int64_t		ts, fired = -1;
	double		v;
	int		flat;

	(void)state;
	for (flat = 0; flat <= 1; flat++) {
		fx_open(&f, "rule r { when doubling(ep.latency, 6h) < 2d; "
		    "for 30m }\n");
		rng = 11;
		fired = -1;
		for (ts = T0; ts <= T0 + 12 * HOUR; ts += STEP) {
			v = (flat ? 0.2 : lat_doubling((double)(ts - T0) /
			    1000.0)) * exp(0.3 * nrand());
			sw_engine_sample(f.e, "ep", "latency", "", ts, v);
			if ((ts - T0) % EVAL_STEP == 0) {
				sw_engine_eval(f.e, ts, NULL, NULL);
				if (fired < 0 && sw_engine_rule_state(f.e, "r",
				    NULL) == SW_ALERT_FIRING)
					fired = ts - T0;
			}
		}
		if (flat)
			assert_int_equal(fired, -1);
		else
			assert_true(fired > 0 && fired <= 8 * HOUR);
		fx_close(&f);
	}
}

static void
test_cost_window_independent(void **state)
{
	struct fx	f;
	struct sw_value	v;
	int64_t		ts, now = T0 + 8 * DAY;

	(void)state;
	fx_open(&f, "");
	(void)q(&f, "doubling(q.rss, 7d) + doubling(q.rss, 1h)", T0);
	for (ts = T0; ts <= now; ts += 60 * S)
		sw_engine_sample(f.e, "q", "rss", "", ts, lin1000(
		    (double)(ts - T0) / 1000));
	v = q(&f, "slope(q.rss, 7d)", now);
	assert_true(v.ok);
	assert_near(v.v, 1000, 1e-3);
	assert_true(v.trend.points <= 72);
	v = q(&f, "slope(q.rss, 1h)", now);
	assert_true(v.ok);
	assert_true(v.trend.points <= 72 && v.trend.points >= 12);
	/* memory: one plain summary per series (plus one with histograms
	 * for nothing here) and the scratch */
	assert_true(sw_engine_memory(f.e) < 2 * sw_summary_memory_max(0) +
	    2 * 1024 * 1024);
	fx_close(&f);
}

/* The cached merge of closed buckets gives what a full merge gives. */
static void
test_quantile_cache(void **state)
{
	struct fx		 f;
	struct sw_summary	*ref;
	int64_t			 ts, now = T0 + 2 * DAY;
	double			 v, want;
	int			 i, w;
	static const char	*exprs[] = { "p90(ep.latency, 1d)",
				    "p50(ep.latency, 2h)", "p99(ep.latency, 7m)" };
	static const int64_t	 wins[] = { DAY, 2 * HOUR, 7 * MIN };

	(void)state;
	fx_open(&f, "");
	for (w = 0; w < 3; w++)
		(void)q(&f, exprs[w], T0);
	assert_int_equal(sw_summary_new(SW_SUMMARY_HIST, &ref, NULL), 0);
	rng = 5;
	for (ts = T0; ts <= now; ts += 10 * S) {
		v = 0.1 * exp(nrand());
		sw_engine_sample(f.e, "ep", "latency", "", ts, v);
		sw_summary_add(ref, ts, v);
	}
	for (i = 0; i < 200; i++) {
		for (w = 0; w < 3; w++) {
			want = sw_summary_quantile(ref, now - wins[w], now, 0,
			    w == 0 ? 0.9 : w == 1 ? 0.5 : 0.99);
			assert_near(qv(&f, exprs[w], now), want, want * 1e-9);
		}
		for (ts = now + 10 * S; ts <= now + 70 * S; ts += 10 * S) {
			v = 0.1 * exp(nrand());
			sw_engine_sample(f.e, "ep", "latency", "", ts, v);
			sw_summary_add(ref, ts, v);
		}
		now += 70 * S;
	}
	sw_summary_free(ref);
	fx_close(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_functions),
		cmocka_unit_test(test_delta_rate),
		cmocka_unit_test(test_errors_histogram),
		cmocka_unit_test(test_quantile_cache),
		cmocka_unit_test(test_trend_exact),
		cmocka_unit_test(test_trend_decel_guard),
		cmocka_unit_test(test_anomaly),
		cmocka_unit_test(test_trace_leak_fires),
		cmocka_unit_test(test_trace_controls_quiet),
		cmocka_unit_test(test_trace_restart_splits),
		cmocka_unit_test(test_trace_across_restarts),
		cmocka_unit_test(test_trace_latency),
		cmocka_unit_test(test_cost_window_independent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
