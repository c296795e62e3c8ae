#include "config.h"
/*
 * bench-rules.c: evaluation cost of a rule per evaluation for windows of
 * 1 h, 1 d and 7 d over 1-second samples (8 days fed), and the memory per
 * series. The rules engine reads bounded summaries, never the samples, so
 * the 7 d figure must be within 2x of the 1 h one; the last line says
 * whether it is (exit 1 if not).
 *
 *   bench-rules [EVALS]     (default 300 evaluations per rule)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slopewatch/conf.h"
#include "slopewatch/rules.h"
#include "slopewatch/summary.h"

#define T0	1700006400000LL
#define DAYS	8

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
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
feed(struct sw_engine *e, int64_t from, int64_t to)
{
	int64_t	ts;
	double	t;

	for (ts = from; ts < to; ts += 1000) {
		t = (double)(ts - T0) / 1000.0;
		sw_engine_sample(e, "web", "rss", "", ts, 2e8 + 500 * t +
		    3e7 * fmod(t, 47) / 47 + 1e6 * urand());
		sw_engine_sample(e, "api", "latency", "", ts,
		    0.1 * exp(0.5 * (urand() - 0.5)));
	}
}

static const struct {
	const char	*pre, *post;
} fns[] = {
	{ "doubling(web.rss, ", ") < 1d" },
	{ "slope(web.rss, ", ") > 100MB/d" },
	{ "time_to(web.rss, 2GB, ", ") < 6h" },
	{ "p99(api.latency, ", ") > 2s" },
	{ "avg(web.rss, ", ") > 1GB" },
};
static const char *wins[] = { "1h", "1d", "7d" };

int
main(int argc, char **argv)
{
	struct sw_conf		*conf;
	struct sw_engine	*e;
	char			 text[1024], rule[128];
	double			 us[sizeof(fns) / sizeof(fns[0])][3], t1;
	int64_t			 now;
	size_t			 f, w, mem_plain = 0, mem_hist = 0;
	int			 i, evals = 300, bad = 0;

	if (argc > 1)
		evals = (int)strtol(argv[1], NULL, 10);
	if (evals < 1)
		evals = 1;
	printf("rules engine: cost per evaluation of one rule, %d days of "
	    "1-second samples, %d evaluations each\n\n", DAYS, evals);
	printf("%-34s %10s %10s %10s %8s\n", "rule", "1h", "1d", "7d",
	    "7d/1h");
	for (f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
		for (w = 0; w < 3; w++) {
			snprintf(rule, sizeof(rule), "%s%s%s", fns[f].pre,
			    wins[w], fns[f].post);
			snprintf(text, sizeof(text),
			    "process web { pid 1 }\n"
			    "endpoint api { url http://127.0.0.1:1/ }\n"
			    "rule r { when %s }\n", rule);
			if (sw_conf_parse_string("bench.conf", text, &conf,
			    sw_conf_diag_stderr, NULL, NULL) == -1 ||
			    sw_engine_new(conf, sw_conf_diag_stderr, NULL,
			    &e) == -1)
				return 2;
			rng = 1;
			now = T0 + DAYS * 86400000LL;
			feed(e, T0, now);
			sw_engine_eval(e, now, NULL, NULL);
			t1 = 0;
			for (i = 0; i < evals; i++) {
				double	a;

				/* 10 new samples between evaluations, as
				 * the agent would see them (not timed) */
				feed(e, now, now + 10000);
				now += 10000;
				a = now_us();
				sw_engine_eval(e, now, NULL, NULL);
				t1 += now_us() - a;
			}
			us[f][w] = t1 / evals;
			if (f == 0 && w == 2)
				mem_plain = sw_engine_memory(e);
			if (f == 3 && w == 2)
				mem_hist = sw_engine_memory(e);
			sw_engine_free(e);
			sw_conf_free(conf);
		}
		snprintf(rule, sizeof(rule), "%sW%s", fns[f].pre,
		    fns[f].post);
		printf("%-34s %8.1fus %8.1fus %8.1fus %7.2fx\n", rule,
		    us[f][0], us[f][1], us[f][2], us[f][2] / us[f][0]);
		if (us[f][2] > 2 * us[f][0] && us[f][2] > 20)
			bad = 1;
	}
	printf("\nmemory per series: %zu bytes (%.0f KiB) plain, at most "
	    "%zu bytes (%.0f KiB) with quantile histograms\n",
	    sw_summary_memory_max(0), sw_summary_memory_max(0) / 1024.0,
	    sw_summary_memory_max(SW_SUMMARY_HIST),
	    sw_summary_memory_max(SW_SUMMARY_HIST) / 1024.0);
	printf("engine with one trend rule (1 series + scratch): %zu bytes; "
	    "with one p99 rule after 8 days of 1 s samples: %zu bytes\n",
	    mem_plain, mem_hist);
	printf("7 d within 2x of 1 h for every rule: %s\n", bad ? "NO" : "yes");
	return bad;
}
