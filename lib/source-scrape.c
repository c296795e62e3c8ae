#include "config.h"
/*
 * source-scrape.c: scrape targets. Each collection GETs the target's URL on
 * the shared curl multi handle (lib/http.c), body capped at the block's
 * max-body, and parses the body as Prometheus text (lib/promtext.c).
 *
 * All or nothing: the samples a scrape keeps are collected in a list first
 * and reach the sink only when the whole body parsed. A malformed body stores
 * nothing of that scrape, fails the collection with "line N:COL: message"
 * and leaves earlier scrapes' samples as they are.
 *
 * Series: target = the scrape block's name, metric = the Prometheus metric
 * name, labels = the canonical labels. Histogram buckets are kept as written
 * (NAME_bucket{le="0.5",...}) with NAME_sum and NAME_count. The unit comes
 * from the name's suffix (_bytes, _seconds). Only samples whose name (or
 * family) matches a `keep` glob are stored; sw_prom_default_keep when the
 * block has none. Duplicate series in one body keep their first sample, as
 * Prometheus does; samples with non-legacy (quoted UTF-8) names are skipped,
 * as rules could not name them, and so are names and label sets longer than
 * the store takes (SW_STORE_NAME_MAX, SW_STORE_LABELS_MAX). Each scrape also stores `up` (1 or 0),
 * `scrape_samples` (samples in the body) and `scrape_duration_seconds`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/http.h"
#include "slopewatch/log.h"
#include "slopewatch/promtext.h"
#include "slopewatch/source.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

#define SCRAPE_DEFAULT_TIMEOUT_MS	10000
#define SCRAPE_DEFAULT_MAX_BODY		(4 * 1024 * 1024)
#define SCRAPE_MAX_REDIRECTS		5

/* Sample timestamps outside [now - 1 h, now + 10 min] are replaced by the
 * scrape time. */
#define SCRAPE_TS_PAST_MS	(3600LL * 1000)
#define SCRAPE_TS_FUTURE_MS	(600LL * 1000)

/* Ask for the text format; OpenMetrics would have timestamps in seconds. */
static char scrape_accept[] =
    "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1";
static char *scrape_headers_v[] = { scrape_accept };
static const struct sw_strlist scrape_headers = { scrape_headers_v, 1 };

struct scrape_sample {
	char		*metric;	/* "metric\0labels\0", one allocation */
	const char	*labels;	/* into metric */
	const char	*unit;		/* static */
	int64_t		 ts_ms;
	double		 v;
	int		 order;		/* in the text, for stable dedup */
};

struct scrape_list {
	struct scrape_sample	*v;
	int			 n;
	int			 cap;
	int			 skipped;	/* names the store cannot take */
	int64_t			 now_ms;
	const char *const	*keep;
	int			 nkeep;
	struct sw_err		*err;
};

struct scrape {
	struct sw_target	*t;
	struct sw_http_xfer	*x;
	const char *const	*keep;
	int			 nkeep;
	int64_t			 started_ms;
};

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t	sl = strlen(suffix);

	return n >= sl && memcmp(s + n - sl, suffix, sl) == 0;
}

/* The unit of a metric, from its name's suffix. */
static const char *
scrape_unit(const char *name)
{
	size_t	n = strlen(name);

	if (ends_with(name, n, "_bucket") || ends_with(name, n, "_count"))
		return sw_unit_name(SW_UNIT_NONE);
	if (ends_with(name, n, "_sum"))
		n -= 4;
	else if (ends_with(name, n, "_total"))
		n -= 6;
	if (ends_with(name, n, "_bytes"))
		return sw_unit_name(SW_UNIT_BYTES);
	if (ends_with(name, n, "_seconds"))
		return sw_unit_name(SW_UNIT_SECONDS);
	return sw_unit_name(SW_UNIT_NONE);
}

static void
scrape_list_release(struct scrape_list *l)
{
	int	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].metric);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Parser callback: keeps the sample in the list if a glob wants it. */
static int
scrape_sample_cb(const struct sw_prom_sample *s, void *arg)
{
	struct scrape_list	*l = arg;
	struct scrape_sample	*e, *nv;
	size_t			 nlen, llen;
	int			 ncap;

	if (!sw_prom_keep(l->keep, l->nkeep, s->name, s->family))
		return 0;
	nlen = strlen(s->name);
	llen = strlen(s->labels);
	/* names rules cannot write, or the store would refuse */
	if (!s->legacy || nlen > SW_STORE_NAME_MAX ||
	    llen > SW_STORE_LABELS_MAX) {
		l->skipped++;
		return 0;
	}
	if (l->n == l->cap) {
		/* the parser caps samples at SW_PROM_MAX_SAMPLES */
		ncap = l->cap ? l->cap * 2 : 64;
		if ((nv = reallocarray(l->v, (size_t)ncap, sizeof(*nv))) ==
		    NULL)
			return sw_err_set(l->err, "out of memory");
		l->v = nv;
		l->cap = ncap;
	}
	e = &l->v[l->n];
	if ((e->metric = malloc(nlen + llen + 2)) == NULL)
		return sw_err_set(l->err, "out of memory");
	memcpy(e->metric, s->name, nlen + 1);
	memcpy(e->metric + nlen + 1, s->labels, llen + 1);
	e->labels = e->metric + nlen + 1;
	e->unit = scrape_unit(s->name);
	/* a peer's own timestamp is trusted only near our clock: a far
	 * future or ancient stamp would poison windows and retention */
	e->ts_ms = s->has_ts && s->ts_ms >= l->now_ms - SCRAPE_TS_PAST_MS &&
	    s->ts_ms <= l->now_ms + SCRAPE_TS_FUTURE_MS ? s->ts_ms : l->now_ms;
	e->v = s->value;
	e->order = l->n;
	l->n++;
	return 0;
}

static int
scrape_sample_cmp(const void *a, const void *b)
{
	const struct scrape_sample	*sa = a, *sb = b;
	int				 r;

	if ((r = strcmp(sa->metric, sb->metric)) != 0)
		return r;
	if ((r = strcmp(sa->labels, sb->labels)) != 0)
		return r;
	return sa->order < sb->order ? -1 : sa->order > sb->order;
}

static void
scrape_emit(struct scrape *sc, const char *metric, const char *unit,
    int64_t ts_ms, double v)
{
	const struct sw_sink	*sink = &sc->t->ctx->sink;

	if (sink->sample != NULL)
		sink->sample(sink->arg, sc->t->conf->name, metric, "", unit,
		    ts_ms, v);
}

/* Ends a failed collection: up 0, the error (already safe to log). */
static void
scrape_fail(struct scrape *sc, const char *error)
{
	scrape_emit(sc, "up", sw_unit_name(SW_UNIT_NONE), sc->started_ms, 0);
	sw_target_done(sc->t, 0, error);
}

static void
scrape_done(const struct sw_http_result *res, void *arg)
{
	struct scrape		*sc = arg;
	struct sw_target	*t = sc->t;
	const struct sw_sink	*sink = &t->ctx->sink;
	struct scrape_list	 l;
	struct sw_err		 err;
	struct scrape_sample	*e;
	char			 msg[SW_ERR_MAX + 32], esc[200];
	const char		*body;
	size_t			 len;
	int			 i, n, dups = 0;

	sc->x = NULL;
	if (res->fail != SW_HTTP_OK) {
		sw_log_escape(esc, sizeof(esc), res->error, strlen(res->error));
		snprintf(msg, sizeof(msg), "%s%s%s",
		    sw_http_fail_name(res->fail), esc[0] != '\0' ? ": " : "",
		    esc);
		scrape_fail(sc, msg);
		return;
	}
	if (res->status < 200 || res->status > 299) {
		snprintf(msg, sizeof(msg), "HTTP status %ld", res->status);
		scrape_fail(sc, msg);
		return;
	}

	memset(&l, 0, sizeof(l));
	sw_err_clear(&err);
	l.err = &err;
	l.now_ms = sc->started_ms;
	l.keep = sc->keep;
	l.nkeep = sc->nkeep;
	body = res->body != NULL ? res->body->data : NULL;
	len = res->body != NULL ? res->body->len : 0;
	if ((n = sw_prom_parse(body != NULL ? body : "", body != NULL ? len : 0,
	    scrape_sample_cb, &l, &err)) == -1) {
		snprintf(msg, sizeof(msg), "metrics text: %s", err.msg);
		scrape_list_release(&l);
		scrape_fail(sc, msg);
		return;
	}

	if (l.n > 1)
		qsort(l.v, (size_t)l.n, sizeof(*l.v), scrape_sample_cmp);
	for (i = 0; i < l.n; i++) {
		e = &l.v[i];
		if (i > 0 && strcmp(e->metric, l.v[i - 1].metric) == 0 &&
		    strcmp(e->labels, l.v[i - 1].labels) == 0) {
			dups++;
			continue;
		}
		if (sink->sample != NULL)
			sink->sample(sink->arg, t->conf->name, e->metric,
			    e->labels, e->unit, e->ts_ms, e->v);
	}
	if (dups > 0)
		sw_log_debug("%s: %d duplicate series in the metrics text "
		    "(first kept)", t->conf->name, dups);
	if (l.skipped > 0)
		sw_log_debug("%s: %d samples with non-legacy or too long "
		    "names skipped",
		    t->conf->name, l.skipped);
	scrape_list_release(&l);

	scrape_emit(sc, "up", sw_unit_name(SW_UNIT_NONE), sc->started_ms, 1);
	scrape_emit(sc, "scrape_samples", sw_unit_name(SW_UNIT_NONE),
	    sc->started_ms, n);
	scrape_emit(sc, "scrape_duration_seconds",
	    sw_unit_name(SW_UNIT_SECONDS), sc->started_ms, res->total_s);
	sw_target_done(t, 1, NULL);
}

static int
scrape_init(struct sw_target *t, struct sw_err *err)
{
	const struct sw_conf_scrape	*c = &t->conf->u.scrape;
	struct scrape			*sc;

	if (c->url == NULL || (strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0))
		return sw_err_set(err, "scrape needs an http:// or https:// "
		    "url");
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return sw_err_set(err, "out of memory");
	sc->t = t;
	if (c->keep.n > 0) {
		sc->keep = (const char *const *)c->keep.v;
		sc->nkeep = c->keep.n;
	} else {
		sc->keep = sw_prom_default_keep;
		for (sc->nkeep = 0; sw_prom_default_keep[sc->nkeep] != NULL;
		    sc->nkeep++)
			;
	}
	t->impl = sc;
	return 0;
}

static void
scrape_collect(struct sw_target *t)
{
	struct scrape			*sc = t->impl;
	const struct sw_conf_scrape	*c = &t->conf->u.scrape;
	struct sw_http_req		 req;
	struct sw_err			 err;

	sc->started_ms = sw_clock_wall_ms();
	if (t->ctx->http == NULL) {
		scrape_fail(sc, "no HTTP client");
		return;
	}
	memset(&req, 0, sizeof(req));
	req.url = c->url;
	req.method = "GET";
	req.headers = &scrape_headers;
	req.timeout_ms = c->timeout_ms > 0 ? c->timeout_ms :
	    SCRAPE_DEFAULT_TIMEOUT_MS;
	req.max_body = c->max_body > 0 ? (size_t)c->max_body :
	    SCRAPE_DEFAULT_MAX_BODY;
	req.max_redirects = SCRAPE_MAX_REDIRECTS;
	req.insecure = c->insecure;
	req.reuse = 1;
	sw_err_clear(&err);
	if ((sc->x = sw_http_start(t->ctx->http, &req, scrape_done, sc,
	    &err)) == NULL)
		scrape_fail(sc, err.set ? err.msg : "cannot start the request");
}

static void
scrape_free(struct sw_target *t)
{
	struct scrape	*sc = t->impl;

	if (sc == NULL)
		return;
	if (sc->x != NULL)
		sw_http_cancel(sc->x);
	free(sc);
	t->impl = NULL;
}

const struct sw_source_ops sw_source_scrape = {
	"scrape", scrape_init, scrape_collect, scrape_free,
};
