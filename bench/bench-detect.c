#include "config.h"
/*
 * bench-detect.c: detection quality on the labelled corpus
 * (tests/corpus/README.md): recall, false alarms and median detection
 * delay per class for the example rules (rules/node-leak.rules,
 * rules/latency.rules, replayed through the engine as `backtest` does),
 * side by side with the usual Prometheus approach computed here on the
 * same traces: plain least squares (predict_linear / quantile_over_time
 * over raw samples, one series across restarts, a verdict from two
 * samples on, evaluated every minute) with the same thresholds, windows
 * and `for` as the example rules:
 *
 *   node-leak  predict_linear(rss[12h], 1d)  > 2 * rss        for 1h
 *              predict_linear(rss[1d], 14d)  > 2 * rss        for 2h
 *              predict_linear(old[1d], 14d)  > 2 * old        for 2h
 *              predict_linear(rss[12h], 12h) > limit          for 1h
 *   latency    quantile_over_time(0.5, lat[5m]) > 2s          for 10m
 *              quantile_over_time(0.99, lat[1h]) > 5s         for 15m
 *              predict_linear(lat[12h], 2d) > 2 * avg(lat[1h]) for 1h
 *              avg_over_time((1 - up)[5m]) > 5%               for 10m
 *
 * A trace with a leak counts as caught when some rule fires at or after
 * the leak's start (firing before it is a false alarm); a control counts
 * a false alarm when any rule fires. Figures only, no assertions (the
 * suite's assertions are in tests/e2e/corpus.sh).
 *
 * usage: bench-detect [--step D] CORPUS_DIR RULES_DIR
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slopewatch/buf.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/rtest.h"
#include "slopewatch/stats.h"
#include "slopewatch/units.h"

#define MAX_TRACES	512
#define MAX_CLASSES	64
#define MIN_MS		60000LL
#define H_MS		3600000LL
#define D_MS		86400000LL

struct trace {
	char	file[128];
	char	cls[64];
	char	rules[64];
	int	fire;		/* expected to fire */
	int64_t	leak_ms;	/* leak start (fire traces) */
};

/* the outcome of one detector on one trace */
struct outcome {
	int	caught;		/* fired at or after the leak start */
	int	false_alarm;
	double	delay_h;	/* first firing after the start */
};

struct cls {
	char	 name[64];
	int	 fire;
	int	 n;
	struct outcome sw[MAX_TRACES], ols[MAX_TRACES];
};

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------------- */
/* the OLS baseline */

struct win {
	const struct sw_rtest_series *s;
	double	t[4096], y[4096];
	size_t	n;
};

/* samples of s in (t - w, t], seconds relative to t; capped to the newest
 * 4096 (a day of 1-minute samples fits; latency probes are thinned) */
static void
window(struct win *wn, const struct sw_rtest_series *s, int64_t t, int64_t w)
{
	size_t	lo, hi, i, step = 1;

	wn->n = 0;
	if (s == NULL || s->n == 0)
		return;
	/* binary search for the first ts > t - w */
	lo = 0;
	hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->ts[mid] > t - w)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (i = lo; i < s->n && s->ts[i] <= t; i++)
		;
	if (i - lo > 4096)
		step = (i - lo + 4095) / 4096;
	for (; lo < i && wn->n < 4096; lo += step) {
		if (isnan(s->v[lo]))
			continue;
		wn->t[wn->n] = (double)(s->ts[lo] - t) / 1000.0;
		wn->y[wn->n] = s->v[lo];
		wn->n++;
	}
}

static double
last_in(const struct sw_rtest_series *s, int64_t t, int64_t w)
{
	struct win	*wn;
	double		 v = NAN;

	if ((wn = malloc(sizeof(*wn))) == NULL)
		return NAN;
	window(wn, s, t, w);
	if (wn->n > 0)
		v = wn->y[wn->n - 1];
	free(wn);
	return v;
}

static double
predict(const struct sw_rtest_series *s, int64_t t, int64_t w, double h_s)
{
	struct win	*wn;
	double		 v;

	if ((wn = malloc(sizeof(*wn))) == NULL)
		return NAN;
	window(wn, s, t, w);
	v = wn->n >= 2 ? sw_stats_predict_linear(wn->t, wn->y, wn->n, 0,
	    h_s) : NAN;
	free(wn);
	return v;
}

static double
quantile(const struct sw_rtest_series *s, int64_t t, int64_t w, double q)
{
	struct win	*wn;
	double		 v;

	if ((wn = malloc(sizeof(*wn))) == NULL)
		return NAN;
	window(wn, s, t, w);
	v = wn->n > 0 ? sw_stats_quantile(q, wn->y, wn->n, NULL) : NAN;
	free(wn);
	return v;
}

static double
mean(const struct sw_rtest_series *s, int64_t t, int64_t w, int invert)
{
	struct win	*wn;
	double		 sum = 0, v = NAN;
	size_t		 i;

	if ((wn = malloc(sizeof(*wn))) == NULL)
		return NAN;
	window(wn, s, t, w);
	for (i = 0; i < wn->n; i++)
		sum += invert ? 1 - wn->y[i] : wn->y[i];
	if (wn->n > 0)
		v = sum / (double)wn->n;
	free(wn);
	return v;
}

struct fsm {
	int64_t	since;		/* 0: condition false */
	int64_t	for_ms;
};

/* one evaluation; returns 1 when the rule is firing */
static int
fsm_step(struct fsm *f, int cond, int64_t t)
{
	if (!cond) {
		f->since = 0;
		return 0;
	}
	if (f->since == 0)
		f->since = t;
	return t - f->since >= f->for_ms;
}

/* first firing time of the OLS rules, or 0 */
static int64_t
ols_first_fire(const struct sw_rtest_data *d, int latency)
{
	const struct sw_rtest_series	*rss, *old, *lim, *lat, *up;
	struct fsm			 f[4];
	int64_t				 first, last, t;
	double				 v, p;
	int				 c[4], i;

	if (sw_rtest_data_span(d, &first, &last) == -1)
		return 0;
	rss = sw_rtest_data_find(d, "web.rss");
	old = sw_rtest_data_find(d,
	    "webm.nodejs_heap_space_size_used_bytes{space=\"old\"}");
	lim = sw_rtest_data_find(d, "web.limit");
	lat = sw_rtest_data_find(d, "checkout.latency");
	up = sw_rtest_data_find(d, "checkout.up");
	memset(f, 0, sizeof(f));
	if (latency) {
		f[0].for_ms = 10 * MIN_MS;
		f[1].for_ms = 15 * MIN_MS;
		f[2].for_ms = H_MS;
		f[3].for_ms = 10 * MIN_MS;
	} else {
		f[0].for_ms = H_MS;
		f[1].for_ms = 2 * H_MS;
		f[2].for_ms = 2 * H_MS;
		f[3].for_ms = H_MS;
	}
	for (t = first; t <= last; t += MIN_MS) {
		if (latency) {
			c[0] = quantile(lat, t, 5 * MIN_MS, 0.5) > 2;
			c[1] = quantile(lat, t, H_MS, 0.99) > 5;
			p = predict(lat, t, 12 * H_MS, 2 * 86400.0);
			v = mean(lat, t, H_MS, 0);
			c[2] = p > 2 * v;
			c[3] = mean(up, t, 5 * MIN_MS, 1) > 0.05;
		} else {
			v = last_in(rss, t, 5 * MIN_MS);
			c[0] = predict(rss, t, 12 * H_MS, 86400.0) > 2 * v;
			c[1] = predict(rss, t, D_MS, 14 * 86400.0) > 2 * v;
			c[2] = predict(old, t, D_MS, 14 * 86400.0) >
			    2 * last_in(old, t, 5 * MIN_MS);
			c[3] = predict(rss, t, 12 * H_MS, 12 * 3600.0) >
			    last_in(lim, t, 5 * MIN_MS);
		}
		for (i = 0; i < 4; i++)
			if (fsm_step(&f[i], c[i], t))
				return t;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */

static int
read_labels(const char *dir, struct trace *tr, int max)
{
	struct sw_buf	 b;
	struct sw_err	 err;
	char		 path[4096], *p, *nl, *f[8];
	int		 n = 0, k, line = 0;

	snprintf(path, sizeof(path), "%s/labels.csv", dir);
	sw_buf_init(&b, 1 << 20);
	sw_err_clear(&err);
	if (sw_buf_read_file(&b, path, &err) == -1) {
		fprintf(stderr, "bench-detect: %s\n", err.msg);
		sw_buf_release(&b);
		return -1;
	}
	for (p = b.data; p != NULL && *p != '\0'; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		if (line++ == 0 || *p == '\0')
			continue;
		for (k = 0; k < 8 && p != NULL; k++) {
			f[k] = p;
			if ((p = strchr(p, ',')) != NULL)
				*p++ = '\0';
		}
		if (k < 5 || n == max)
			continue;
		snprintf(tr[n].file, sizeof(tr[n].file), "%s", f[0]);
		snprintf(tr[n].cls, sizeof(tr[n].cls), "%s", f[1]);
		snprintf(tr[n].rules, sizeof(tr[n].rules), "%s", f[2]);
		tr[n].fire = strcmp(f[3], "fire") == 0;
		tr[n].leak_ms = 0;
		if (*f[4] != '\0') {
			int64_t	s;

			if (sw_parse_int64(f[4], (size_t)-1, &s) == 0)
				tr[n].leak_ms = s * 1000;
		}
		n++;
	}
	sw_buf_release(&b);
	return n;
}

static void
judge(const struct trace *t, int64_t fired, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->delay_h = NAN;
	if (fired == 0)
		return;
	if (!t->fire || fired < t->leak_ms) {
		o->false_alarm = 1;
		return;
	}
	o->caught = 1;
	o->delay_h = (double)(fired - t->leak_ms) / 3.6e6;
}

static int
cmp_d(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
summarise(const struct outcome *o, int n, int *caught, int *fa, double *med)
{
	double	d[MAX_TRACES];
	int	i, k = 0;

	*caught = *fa = 0;
	for (i = 0; i < n; i++) {
		*caught += o[i].caught;
		*fa += o[i].false_alarm;
		if (o[i].caught)
			d[k++] = o[i].delay_h;
	}
	qsort(d, (size_t)k, sizeof(d[0]), cmp_d);
	*med = k == 0 ? NAN : k % 2 ? d[k / 2] : (d[k / 2 - 1] + d[k / 2]) / 2;
}

static void
cell(int fire, int n, int caught, int fa, double med)
{
	char	c[16], m[16];

	if (fire)
		snprintf(c, sizeof(c), "%d/%d", caught, n);
	else
		snprintf(c, sizeof(c), "-");
	if (isnan(med))
		snprintf(m, sizeof(m), "-");
	else
		snprintf(m, sizeof(m), "%.1f h", med);
	printf("  %-7s %-6d %-8s", c, fa, m);
}

int
main(int argc, char **argv)
{
	static struct trace	 tr[MAX_TRACES];
	static struct cls	 cl[MAX_CLASSES];
	struct sw_rtest_data	 d;
	struct sw_rtest_result	 r;
	struct sw_conf		*conf;
	struct sw_err		 err;
	char			 path[4096], rules[4096];
	const char		*corpus, *rdir;
	int64_t			 step = 60000, fired;
	int			 n, i, j, ncl = 0, argi = 1;
	int			 tot[2][2][2];	/* [sw/ols][fire][caught/fa] */
	int			 nfire = 0, nquiet = 0, c1, f1, c2, f2;
	double			 t0, evs = 0, m1, m2;
	size_t			 i2, maxmem = 0;

	if (argc > 2 && strcmp(argv[1], "--step") == 0) {
		if (sw_parse_duration_ms(argv[2], (size_t)-1, &step) == -1 ||
		    step < 1000) {
			fprintf(stderr, "bench-detect: bad --step\n");
			return 2;
		}
		argi = 3;
	}
	if (argc - argi != 2) {
		fprintf(stderr, "usage: bench-detect [--step D] CORPUS_DIR "
		    "RULES_DIR\n");
		return 2;
	}
	corpus = argv[argi];
	rdir = argv[argi + 1];
	if ((n = read_labels(corpus, tr, MAX_TRACES)) <= 0)
		return 1;
	memset(tot, 0, sizeof(tot));
	t0 = now_s();
	for (i = 0; i < n; i++) {
		struct cls	*c = NULL;

		for (j = 0; j < ncl; j++)
			if (strcmp(cl[j].name, tr[i].cls) == 0)
				c = &cl[j];
		if (c == NULL && ncl < MAX_CLASSES) {
			c = &cl[ncl++];
			snprintf(c->name, sizeof(c->name), "%s", tr[i].cls);
			c->fire = tr[i].fire;
		}
		if (c == NULL)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", corpus,
		    tr[i].file) >= (int)sizeof(path) ||
		    snprintf(rules, sizeof(rules), "%s/%s.rules", rdir,
		    tr[i].rules) >= (int)sizeof(rules)) {
			fprintf(stderr, "bench-detect: path too long\n");
			return 2;
		}
		sw_rtest_data_init(&d);
		sw_rtest_result_init(&r);
		sw_err_clear(&err);
		conf = NULL;
		if (sw_rtest_csv_load(&d, path, &err) == -1 ||
		    sw_rtest_conf_build(rules, &d, NULL, 0, &conf,
		    sw_conf_diag_stderr, NULL) == -1 ||
		    sw_rtest_run(conf, &d, 0, step, &r, sw_conf_diag_stderr,
		    NULL, &err) == -1) {
			fprintf(stderr, "bench-detect: %s: %s\n", tr[i].file,
			    err.set ? err.msg : "failed");
			sw_conf_free(conf);
			sw_rtest_data_release(&d);
			sw_rtest_result_release(&r);
			return 1;
		}
		evs += (double)r.evals;
		if (r.engine_bytes > maxmem)
			maxmem = r.engine_bytes;
		fired = 0;
		for (i2 = 0; i2 < r.n; i2++)
			if (r.ev[i2].event != NULL &&
			    strcmp(r.ev[i2].event, "firing") == 0) {
				fired = r.ev[i2].time_ms;
				break;
			}
		judge(&tr[i], fired, &c->sw[c->n]);
		judge(&tr[i], ols_first_fire(&d, strcmp(tr[i].rules,
		    "latency") == 0), &c->ols[c->n]);
		c->n++;
		sw_conf_free(conf);
		sw_rtest_data_release(&d);
		sw_rtest_result_release(&r);
	}
	printf("detection on the labelled corpus: %d traces, %d classes; "
	    "slopewatch evaluated every %" PRId64 " s, OLS every 60 s; "
	    "delay = median hours from the leak's start to the first "
	    "firing\n", n, ncl, step / 1000);
	printf("%-30s | %-27s | %s\n", "", "slopewatch (rules/*.rules)",
	    "OLS predict_linear (Prometheus)");
	printf("%-20s %-3s %-5s |  %-7s %-6s %-8s  |  %-7s %-6s %-8s\n",
	    "class", "n", "leak", "caught", "false", "delay", "caught",
	    "false", "delay");
	for (j = 0; j < ncl; j++) {
		summarise(cl[j].sw, cl[j].n, &c1, &f1, &m1);
		summarise(cl[j].ols, cl[j].n, &c2, &f2, &m2);
		printf("%-20s %-3d %-5s |", cl[j].name, cl[j].n,
		    cl[j].fire ? "yes" : "no");
		cell(cl[j].fire, cl[j].n, c1, f1, m1);
		printf("  |");
		cell(cl[j].fire, cl[j].n, c2, f2, m2);
		printf("\n");
		tot[0][cl[j].fire][0] += c1;
		tot[0][cl[j].fire][1] += f1;
		tot[1][cl[j].fire][0] += c2;
		tot[1][cl[j].fire][1] += f2;
		if (cl[j].fire)
			nfire += cl[j].n;
		else
			nquiet += cl[j].n;
	}
	for (i = 0; i < 2; i++)
		printf("%-12s recall %d/%d (%.0f %%), false alarms on %d of %d "
		    "controls and %d of %d leak traces before the leak\n",
		    i == 0 ? "slopewatch:" : "OLS:", tot[i][1][0], nfire,
		    nfire ? 100.0 * tot[i][1][0] / nfire : 0.0,
		    tot[i][0][1], nquiet, tot[i][1][1], nfire);
	printf("replay: %.0f evaluations in %.1f s (%.1f us each, all rules); "
	    "engine memory per trace up to %zu KiB\n", evs, now_s() - t0,
	    evs > 0 ? (now_s() - t0) * 1e6 / evs : 0.0, maxmem / 1024);
	return 0;
}
