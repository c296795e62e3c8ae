#include "config.h"
/*
 * notify.c: the notification dispatcher and what the payload builders
 * share.
 *
 * The dispatcher routes each alert transition (rule `notify` list, or the
 * severity defaults), applies silences (read from the database on every
 * call, so `slopewatch silence` needs no reload), builds the alert document
 * once and writes one outbox row per destination, inside the caller's
 * transaction. The outbox engine (outbox.c) delivers; this file gives it,
 * per destination, the render / judge / scrub operations that call the
 * payload builders of notify-*.c.
 *
 * Invariants:
 * - No secret is in a document or a row: URLs, routing keys and HMAC
 *   secrets are applied at render time from the config, and every text that
 *   leaves (logs, stored errors) goes through sw_notify_scrub.
 * - Documents are bounded (SW_OUTBOX_DOC_MAX; sparkline SW_NOTIFY_SPARK_MAX
 *   points; texts cut), numbers that are not finite are JSON null.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "slopewatch/buf.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/http.h"
#include "slopewatch/log.h"
#include "slopewatch/notify.h"
#include "slopewatch/outbox.h"
#include "slopewatch/rules.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

#define NT_MAX_DESTS	256
#define NT_AM_URLS_MAX	16
#define NT_TEXT_MAX	2048	/* summary, description, labels in a doc */
#define NT_LABELS_MAX	64

/* ------------------------------------------------------------------ */
/* small helpers                                                        */

static const char *const nt_types[] = {
	[SW_NOTIFY_SLACK] = "slack",
	[SW_NOTIFY_PAGERDUTY] = "pagerduty",
	[SW_NOTIFY_ALERTMANAGER] = "alertmanager",
	[SW_NOTIFY_WEBHOOK] = "webhook",
	[SW_NOTIFY_LOG] = "log",
};

enum sw_notify_type
sw_notify_type_of(const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < sizeof(nt_types) / sizeof(nt_types[0]);
	    i++)
		if (strcmp(name, nt_types[i]) == 0)
			return (enum sw_notify_type)i;
	return SW_NOTIFY_LOG;
}

const char *
sw_notify_type_name(enum sw_notify_type t)
{
	if ((size_t)t >= sizeof(nt_types) / sizeof(nt_types[0]))
		return "log";
	return nt_types[t];
}

char *
sw_notify_time(char *dst, size_t dstsz, int64_t ms)
{
	struct tm	tm;
	time_t		s;
	int64_t		frac;

	if (ms < 0)
		ms = 0;
	s = (time_t)(ms / 1000);
	frac = ms % 1000;
	if (gmtime_r(&s, &tm) == NULL) {
		snprintf(dst, dstsz, "1970-01-01T00:00:00.000Z");
		return dst;
	}
	snprintf(dst, dstsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)frac);
	return dst;
}

char *
sw_notify_cut(char *dst, size_t dstsz, const char *src, size_t max)
{
	static const char	 ell[] = "\xe2\x80\xa6";	/* … */
	size_t			 n, cut;

	if (dstsz == 0)
		return dst;
	if (src == NULL)
		src = "";
	n = strlen(src);
	if (max > dstsz - 1)
		max = dstsz - 1;
	if (n <= max) {
		memcpy(dst, src, n);
		dst[n] = '\0';
		return dst;
	}
	if (max < sizeof(ell) - 1) {
		dst[0] = '\0';
		return dst;
	}
	cut = max - (sizeof(ell) - 1);
	/* back to a character boundary */
	while (cut > 0 && ((unsigned char)src[cut] & 0xc0) == 0x80)
		cut--;
	memcpy(dst, src, cut);
	memcpy(dst + cut, ell, sizeof(ell));
	return dst;
}

static json_t *
nt_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static double
nt_get_num(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *
nt_get_str(json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* Sets key to a string cut to max bytes (text from rules and peers). */
static int
nt_set_text(json_t *o, const char *key, const char *s, size_t max)
{
	char	buf[NT_TEXT_MAX + 4];

	if (s == NULL)
		return json_object_set_new(o, key, json_null());
	sw_notify_cut(buf, sizeof(buf), s, max < NT_TEXT_MAX ? max :
	    NT_TEXT_MAX);
	return json_object_set_new(o, key, json_string(buf));
}

/* ------------------------------------------------------------------ */
/* words                                                                */

char *
sw_notify_sparkline(char *dst, size_t dstsz, const double *v, int n)
{
	static const char *const bars[] = {
		"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
		"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
	};
	double	lo = INFINITY, hi = -INFINITY;
	size_t	o = 0;
	int	i, k;

	if (dstsz == 0)
		return dst;
	dst[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		if (v[i] < lo)
			lo = v[i];
		if (v[i] > hi)
			hi = v[i];
	}
	for (i = 0; i < n && o + 4 < dstsz; i++) {
		if (!isfinite(v[i])) {
			dst[o++] = ' ';
			continue;
		}
		k = hi > lo ? (int)((v[i] - lo) / (hi - lo) * 7.999) : 3;
		if (k < 0)
			k = 0;
		if (k > 7)
			k = 7;
		memcpy(dst + o, bars[k], 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

static enum sw_unit
nt_unit_of(const char *name)
{
	static const enum sw_unit units[] = {
		SW_UNIT_NONE, SW_UNIT_SECONDS, SW_UNIT_BYTES, SW_UNIT_RATIO,
		SW_UNIT_BYTES_PER_S, SW_UNIT_PER_S,
	};
	size_t	i;

	for (i = 0; name != NULL && i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(sw_unit_name(units[i]), name) == 0)
			return units[i];
	return SW_UNIT_NONE;
}

static enum sw_unit
nt_rate_unit(enum sw_unit u)
{
	return u == SW_UNIT_BYTES ? SW_UNIT_BYTES_PER_S : SW_UNIT_PER_S;
}

/* "RSS" for web.rss, "latency" for checkout.latency. */
static void
nt_metric_word(const char *series, char *dst, size_t dstsz)
{
	const char	*p = strchr(series, '.');
	size_t		 n, i;

	p = p != NULL ? p + 1 : series;
	n = strcspn(p, "{");
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	if (n <= 3)
		for (i = 0; i < n; i++)
			if (dst[i] >= 'a' && dst[i] <= 'z')
				dst[i] = (char)(dst[i] - 'a' + 'A');
}

char *
sw_notify_trend_words(json_t *doc, char *dst, size_t dstsz)
{
	json_t		*t = json_object_get(doc, "trend");
	enum sw_unit	 u;
	double		 level, slope, dbl, eta;
	char		 name[64], a[48], b[48], c[48];
	size_t		 o;

	if (dstsz == 0)
		return dst;
	dst[0] = '\0';
	if (!json_is_object(t))
		return dst;
	u = nt_unit_of(nt_get_str(t, "unit"));
	nt_metric_word(nt_get_str(t, "series"), name, sizeof(name));
	level = nt_get_num(t, "level");
	slope = nt_get_num(t, "slope");
	dbl = nt_get_num(t, "doubling_s");
	eta = nt_get_num(t, "eta_s");
	o = 0;
	if (isfinite(level))
		o = (size_t)snprintf(dst, dstsz, "%s %s", name,
		    sw_fmt_quantity(a, sizeof(a), level, u));
	else
		o = (size_t)snprintf(dst, dstsz, "%s", name);
	if (o >= dstsz)
		return dst;
	if (isfinite(dbl) && dbl > 0)
		o += (size_t)snprintf(dst + o, dstsz - o, ", doubling every %s",
		    sw_fmt_quantity(b, sizeof(b), dbl, SW_UNIT_SECONDS));
	else if (isfinite(slope) && slope != 0)
		o += (size_t)snprintf(dst + o, dstsz - o, ", %s %s",
		    slope > 0 ? "growing" : "falling",
		    sw_fmt_quantity(b, sizeof(b), fabs(slope),
		    nt_rate_unit(u)));
	else if (isfinite(slope))
		o += (size_t)snprintf(dst + o, dstsz - o, ", flat");
	if (o >= dstsz)
		return dst;
	if (isfinite(eta) && eta >= 0 && isfinite(level) && isfinite(slope))
		snprintf(dst + o, dstsz - o, ", reaches %s in ~%s",
		    sw_fmt_quantity(c, sizeof(c), level + slope * eta, u),
		    sw_fmt_quantity(b, sizeof(b), eta, SW_UNIT_SECONDS));
	return dst;
}

char *
sw_notify_value_words(json_t *doc, char *dst, size_t dstsz)
{
	json_t		*v = json_object_get(doc, "value");
	enum sw_unit	 u;
	double		 lhs, rhs;
	char		 a[48], b[48];

	if (dstsz == 0)
		return dst;
	dst[0] = '\0';
	if (!json_is_object(v))
		return dst;
	u = nt_unit_of(nt_get_str(v, "lhs_unit"));
	lhs = nt_get_num(v, "lhs");
	rhs = nt_get_num(v, "rhs");
	if (!json_is_true(json_object_get(v, "ok"))) {
		snprintf(dst, dstsz, "no verdict: %s", nt_get_str(v, "why"));
		return dst;
	}
	if (isfinite(lhs) && isfinite(rhs))
		snprintf(dst, dstsz, "%s vs threshold %s",
		    sw_fmt_quantity(a, sizeof(a), lhs, u),
		    sw_fmt_quantity(b, sizeof(b), rhs, u));
	else if (isfinite(lhs))
		snprintf(dst, dstsz, "%s", sw_fmt_quantity(a, sizeof(a), lhs, u));
	else if (isfinite(rhs))
		snprintf(dst, dstsz, "threshold %s",
		    sw_fmt_quantity(b, sizeof(b), rhs, u));
	return dst;
}

/* ------------------------------------------------------------------ */
/* documents                                                            */

static int
nt_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

char *
sw_notify_target_of(const struct sw_value *v, char *dst, size_t dstsz)
{
	const char	*s, *p, *q;
	size_t		 n;

	if (dstsz == 0)
		return dst;
	dst[0] = '\0';
	if (v == NULL)
		return dst;
	if (v->trend.valid && v->trend.series[0] != '\0' &&
	    (p = strchr(v->trend.series, '.')) != NULL) {
		n = (size_t)(p - v->trend.series);
		snprintf(dst, dstsz, "%.*s", (int)n, v->trend.series);
		return dst;
	}
	/* the first IDENT.IDENT in the comparison's text */
	s = v->lhs_text;
	for (p = s; *p != '\0'; p++) {
		if (!nt_ident(*p) || (p > s && nt_ident(p[-1])))
			continue;
		for (q = p; nt_ident(*q); q++)
			;
		if (*q == '.' && nt_ident(q[1]) && !(*p >= '0' && *p <= '9')) {
			snprintf(dst, dstsz, "%.*s", (int)(q - p), p);
			return dst;
		}
	}
	return dst;
}

static json_t *
nt_trend_json(const struct sw_trend_info *t)
{
	json_t	*o, *ls;
	int	 i;

	if ((o = json_object()) == NULL || (ls = json_array()) == NULL) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "fn", json_string(t->fn));
	nt_set_text(o, "series", t->series, sizeof(t->series));
	json_object_set_new(o, "unit", json_string(sw_unit_name(t->unit)));
	json_object_set_new(o, "slope", nt_num(t->slope));
	json_object_set_new(o, "slope_lo", nt_num(t->slope_lo));
	json_object_set_new(o, "slope_hi", nt_num(t->slope_hi));
	json_object_set_new(o, "doubling_s", nt_num(t->doubling_s));
	json_object_set_new(o, "doubling_lo_s", nt_num(t->doubling_lo_s));
	json_object_set_new(o, "doubling_hi_s", nt_num(t->doubling_hi_s));
	json_object_set_new(o, "eta_s", nt_num(t->eta_s));
	json_object_set_new(o, "eta_lo_s", nt_num(t->eta_lo_s));
	json_object_set_new(o, "eta_hi_s", nt_num(t->eta_hi_s));
	json_object_set_new(o, "level", nt_num(t->level));
	json_object_set_new(o, "confidence", nt_num(t->confidence));
	json_object_set_new(o, "z", nt_num(t->z));
	json_object_set_new(o, "points", json_integer(t->points));
	json_object_set_new(o, "from_ms", json_integer(t->from_ms));
	json_object_set_new(o, "to_ms", json_integer(t->to_ms));
	for (i = 0; i < t->nlifetimes && i < 5; i++)
		json_array_append_new(ls, nt_num(t->lifetime_slope[i]));
	json_object_set_new(o, "lifetime_slopes", ls);
	return o;
}

int
sw_notify_doc(const struct sw_notify_alert *a, const char *host,
    struct sw_buf *out, struct sw_err *err)
{
	json_t			*d = NULL, *o, *arr;
	const struct sw_kv	*kv;
	const struct sw_value	*v = a->value;
	char			 target[256], desc[512];
	char			*text = NULL;
	double			 step;
	int			 i, n, ret = -1;

	if (a->rule == NULL || a->event == NULL)
		return sw_err_set(err, "notify: alert without rule or event");
	if (a->target != NULL)
		snprintf(target, sizeof(target), "%s", a->target);
	else
		sw_notify_target_of(v, target, sizeof(target));
	desc[0] = '\0';
	if (v != NULL)
		sw_value_describe(v, desc, sizeof(desc));
	if ((d = json_object()) == NULL)
		goto oom;
	json_object_set_new(d, "version", json_integer(SW_NOTIFY_DOC_VERSION));
	nt_set_text(d, "rule", a->rule, SW_OUTBOX_NAME_MAX);
	nt_set_text(d, "event", a->event, 32);
	json_object_set_new(d, "severity",
	    json_string(sw_severity_name(a->severity)));
	if (a->summary != NULL && *a->summary != '\0')
		nt_set_text(d, "summary", a->summary, NT_TEXT_MAX);
	else {
		char	s[NT_TEXT_MAX];

		snprintf(s, sizeof(s), "%s%s%s: %s", a->rule,
		    target[0] != '\0' ? " on " : "", target,
		    desc[0] != '\0' ? desc : a->event);
		nt_set_text(d, "summary", s, NT_TEXT_MAX);
	}
	nt_set_text(d, "description", desc, NT_TEXT_MAX);
	if ((o = json_object()) == NULL)
		goto oom;
	for (kv = a->labels, n = 0; kv != NULL && n < NT_LABELS_MAX;
	    kv = kv->next, n++)
		nt_set_text(o, kv->key, kv->value != NULL ? kv->value : "",
		    256);
	json_object_set_new(d, "labels", o);
	nt_set_text(d, "target", target, sizeof(target));
	nt_set_text(d, "series", v != NULL && v->trend.valid ?
	    v->trend.series : "", 160);
	nt_set_text(d, "action", a->action, 128);
	nt_set_text(d, "action_result", a->action_result, 512);
	json_object_set_new(d, "time_ms", json_integer(a->time_ms));
	json_object_set_new(d, "active_since_ms",
	    json_integer(a->active_since_ms));
	if (v != NULL) {
		if ((o = json_object()) == NULL)
			goto oom;
		json_object_set_new(o, "ok", json_boolean(v->ok));
		json_object_set_new(o, "v", nt_num(v->v));
		json_object_set_new(o, "unit",
		    json_string(sw_unit_name(v->unit)));
		json_object_set_new(o, "lhs", nt_num(v->lhs));
		json_object_set_new(o, "rhs", nt_num(v->rhs));
		nt_set_text(o, "lhs_text", v->lhs_text, sizeof(v->lhs_text));
		json_object_set_new(o, "lhs_unit",
		    json_string(sw_unit_name(v->lhs_unit)));
		json_object_set_new(o, "conservative",
		    json_boolean(v->conservative));
		nt_set_text(o, "why", v->ok ? "" : v->why, sizeof(v->why));
		json_object_set_new(d, "value", o);
		json_object_set_new(d, "trend", v->trend.valid ?
		    nt_trend_json(&v->trend) : json_null());
	} else {
		json_object_set_new(d, "value", json_null());
		json_object_set_new(d, "trend", json_null());
	}
	if ((arr = json_array()) == NULL)
		goto oom;
	/* at most SW_NOTIFY_SPARK_MAX points, evenly thinned */
	n = a->spark != NULL ? a->nspark : 0;
	step = n > SW_NOTIFY_SPARK_MAX ? (double)n / SW_NOTIFY_SPARK_MAX : 1;
	for (i = 0; i < SW_NOTIFY_SPARK_MAX; i++) {
		int k = (int)(i * step);

		if (k >= n)
			break;
		if (n > SW_NOTIFY_SPARK_MAX && i == SW_NOTIFY_SPARK_MAX - 1)
			k = n - 1;	/* the newest always */
		json_array_append_new(arr, nt_num(a->spark[k]));
	}
	json_object_set_new(d, "spark", arr);
	if ((o = json_object()) == NULL)
		goto oom;
	nt_set_text(o, "host", host != NULL ? host : "", 255);
	json_object_set_new(o, "pid", a->pid > 0 ? json_integer(a->pid) :
	    json_null());
	json_object_set_new(o, "started_ms", a->started_ms > 0 ?
	    json_integer(a->started_ms) : json_null());
	json_object_set_new(d, "instance", o);
	json_object_set_new(d, "test", json_boolean(a->test));

	if ((text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto oom;
	if (strlen(text) > SW_OUTBOX_DOC_MAX) {
		sw_err_set(err, "notify: rule %s: document over %d bytes",
		    a->rule, SW_OUTBOX_DOC_MAX);
		goto out;
	}
	sw_buf_reset(out);
	if (sw_buf_adds(out, text) == -1) {
		sw_err_set(err, "notify: rule %s: document too big", a->rule);
		goto out;
	}
	ret = 0;
	goto out;
oom:
	sw_err_sys(err, ENOMEM, "notify: rule %s", a->rule);
out:
	free(text);
	json_decref(d);
	return ret;
}

int
sw_notify_test_doc(const char *host, const char *event, int64_t now_ms,
    struct sw_buf *out, struct sw_err *err)
{
	struct sw_notify_alert	 a;
	struct sw_value		 v;
	struct sw_kv		 lab = { (char *)"purpose", (char *)"test",
				    NULL };
	double			 spark[24];
	int			 i;

	memset(&v, 0, sizeof(v));
	v.ok = 1;
	v.is_bool = 1;
	v.v = 1;
	v.unit = SW_UNIT_NONE;
	v.lhs = 19 * 3600.0;
	v.rhs = 86400;
	v.lhs_unit = SW_UNIT_SECONDS;
	snprintf(v.lhs_text, sizeof(v.lhs_text), "doubling(example.rss, 6h)");
	v.trend.valid = 1;
	snprintf(v.trend.fn, sizeof(v.trend.fn), "doubling");
	snprintf(v.trend.series, sizeof(v.trend.series), "example.rss");
	v.trend.unit = SW_UNIT_BYTES;
	v.trend.level = 812e6;
	v.trend.doubling_s = 19 * 3600.0;
	v.trend.slope = 812e6 / (19 * 3600.0);
	v.trend.slope_lo = v.trend.slope * 0.8;
	v.trend.slope_hi = v.trend.slope * 1.2;
	v.trend.eta_s = 7 * 3600.0;
	v.trend.confidence = 0.93;
	v.trend.points = 42;
	v.trend.from_ms = now_ms - 6 * 3600 * 1000LL;
	v.trend.to_ms = now_ms;
	v.trend.doubling_lo_s = v.trend.doubling_s * 0.8;
	v.trend.doubling_hi_s = v.trend.doubling_s * 1.3;
	v.trend.eta_lo_s = v.trend.eta_s * 0.8;
	v.trend.eta_hi_s = v.trend.eta_s * 1.3;
	for (i = 0; i < 24; i++)
		spark[i] = 500e6 + i * 13.5e6 + (i % 3) * 4e6;
	memset(&a, 0, sizeof(a));
	a.rule = "slopewatch-test";
	a.event = event != NULL ? event : "firing";
	a.severity = SW_SEV_INFO;
	a.summary = "Test notification from slopewatch: this is what a "
	    "leak alert looks like";
	a.labels = &lab;
	a.target = "example";
	a.time_ms = now_ms;
	a.active_since_ms = now_ms - 600000;
	a.value = &v;
	a.spark = spark;
	a.nspark = 24;
	a.pid = (long)getpid();
	a.started_ms = now_ms - 3 * 3600 * 1000LL;
	a.test = 1;
	return sw_notify_doc(&a, host, out, err);
}

/* ------------------------------------------------------------------ */
/* destinations                                                         */

int
sw_notify_dest_init(struct sw_notify_dest *d, const struct sw_conf_notify *cn,
    int i, const char *host, const char *external_url, int64_t eval_ms,
    struct sw_err *err)
{
	memset(d, 0, sizeof(*d));
	d->type = sw_notify_type_of(cn->type);
	d->conf = cn;
	if (i == 0)
		snprintf(d->name, sizeof(d->name), "%s", cn->name);
	else
		snprintf(d->name, sizeof(d->name), "%s#%d", cn->name, i + 1);
	if (cn->urls.n > 0 && i < cn->urls.n)
		d->url = cn->urls.v[i];
	else
		d->url = cn->url.value;
	if (d->type == SW_NOTIFY_PAGERDUTY && (d->url == NULL ||
	    *d->url == '\0'))
		d->url = SW_NOTIFY_PD_URL;
	if (d->type == SW_NOTIFY_ALERTMANAGER && d->url != NULL &&
	    *d->url != '\0') {
		size_t	n = strlen(d->url);
		const char *sfx = "/api/v2/alerts";

		while (n > 0 && d->url[n - 1] == '/')
			n--;
		if (n >= strlen(sfx) && strncmp(d->url + n - strlen(sfx), sfx,
		    strlen(sfx)) == 0)
			sfx = "";
		if ((size_t)snprintf(d->url_buf, sizeof(d->url_buf), "%.*s%s",
		    (int)n, d->url, sfx) >= sizeof(d->url_buf))
			return sw_err_set(err, "notify %s: url too long",
			    cn->name);
		d->url = d->url_buf;
	}
	d->routing_key = cn->routing_key.value;
	d->secret = cn->secret.value;
	d->channel = cn->channel;
	d->username = cn->username;
	d->icon = cn->icon;
	snprintf(d->host, sizeof(d->host), "%s", host != NULL ? host : "");
	snprintf(d->external_url, sizeof(d->external_url), "%s",
	    external_url != NULL ? external_url : "");
	d->eval_ms = eval_ms > 0 ? eval_ms : SW_ENGINE_EVAL_MS;
	if (d->type == SW_NOTIFY_LOG)
		return 0;
	if (d->url == NULL || *d->url == '\0')
		return sw_err_set(err, "notify %s: no url (unset $ENV or "
		    "empty @file?)", cn->name);
	if (strncasecmp(d->url, "http://", 7) != 0 &&
	    strncasecmp(d->url, "https://", 8) != 0)
		return sw_err_set(err, "notify %s: the url is not http:// or "
		    "https://", cn->name);
	if (d->type == SW_NOTIFY_PAGERDUTY && (d->routing_key == NULL ||
	    *d->routing_key == '\0'))
		return sw_err_set(err, "notify %s: no routing-key", cn->name);
	return 0;
}

/* A secret and its log-escaped form (error texts are escaped before they
 * are scrubbed, so a secret with quotes or backslashes changes shape). */
static void
nt_scrub2(char *text, size_t size, const char *secret)
{
	char	esc[1024];

	if (secret == NULL)
		return;
	sw_outbox_scrub(text, size, secret);
	sw_log_escape(esc, sizeof(esc), secret, strlen(secret));
	if (strcmp(esc, secret) != 0)
		sw_outbox_scrub(text, size, esc);
}

void
sw_notify_scrub(const struct sw_notify_dest *d, char *text, size_t size)
{
	const char	*p;

	if (d->url != NULL) {
		nt_scrub2(text, size, d->url);
		/* the path and query alone (Slack's token lives there) */
		if ((p = strstr(d->url, "://")) != NULL &&
		    (p = strpbrk(p + 3, "/?#")) != NULL && strlen(p) > 1)
			nt_scrub2(text, size, p);
	}
	if (d->conf != NULL) {
		int	i;

		nt_scrub2(text, size, d->conf->url.value);
		for (i = 0; i < d->conf->urls.n; i++)
			nt_scrub2(text, size, d->conf->urls.v[i]);
	}
	nt_scrub2(text, size, d->routing_key);
	nt_scrub2(text, size, d->secret);
	if (d->secret != NULL && strncmp(d->secret, "whsec_", 6) == 0)
		nt_scrub2(text, size, d->secret + 6);
}

enum sw_outbox_verdict
sw_notify_judge(enum sw_notify_type t, const struct sw_http_result *res,
    char *why, size_t whysz)
{
	const char	*body = res->body != NULL ? sw_buf_str(res->body) : "";
	char		 eb[128];
	size_t		 n;
	long		 s = res->status;

	n = strlen(body);
	while (n > 0 && (body[n - 1] == '\n' || body[n - 1] == '\r' ||
	    body[n - 1] == ' '))
		n--;
	sw_log_escape(eb, sizeof(eb), body, n > 100 ? 100 : n);
	if (s == 0) {
		snprintf(why, whysz, "%s: %s", sw_http_fail_name(res->fail),
		    res->error);
		return SW_OUTBOX_RETRY;
	}
	if (s >= 200 && s < 300) {
		if (t == SW_NOTIFY_SLACK && !(n == 2 &&
		    strncmp(body, "ok", 2) == 0)) {
			snprintf(why, whysz, "HTTP %ld with \"%s\" (Slack "
			    "answers \"ok\")", s, eb);
			return SW_OUTBOX_PERMANENT;
		}
		return SW_OUTBOX_OK;
	}
	snprintf(why, whysz, "HTTP %ld%s%s", s, n > 0 ? ": " : "", eb);
	if (s == 429 || s == 408 || s == 425 || s >= 500)
		return SW_OUTBOX_RETRY;
	if (s == 410)
		return SW_OUTBOX_DISABLE;
	if (t == SW_NOTIFY_SLACK && (s == 403 || s == 404) &&
	    (strstr(body, "no_service") != NULL ||
	    strstr(body, "invalid_token") != NULL))
		return SW_OUTBOX_DISABLE;
	return SW_OUTBOX_PERMANENT;
}

int
sw_notify_render(const struct sw_notify_dest *d, json_t *const *docs, int n,
    const char *key, int64_t now_ms, int resend,
    struct sw_outbox_request *req, struct sw_err *err)
{
	char	sig[256];

	(void)resend;
	if (n < 1)
		return sw_err_set(err, "render: nothing to send");
	req->url = d->url;
	switch (d->type) {
	case SW_NOTIFY_SLACK:
		return sw_notify_slack_render(d, docs, n, &req->body, err);
	case SW_NOTIFY_PAGERDUTY:
		/* one event per message (never grouped) */
		return sw_notify_pagerduty_render(d, docs[0], now_ms,
		    &req->body, err);
	case SW_NOTIFY_ALERTMANAGER:
		return sw_notify_alertmanager_render(d, docs, n, now_ms,
		    &req->body, err);
	case SW_NOTIFY_WEBHOOK:
		if (sw_notify_webhook_render(d, docs, n, now_ms, &req->body,
		    err) == -1)
			return -1;
		if (sw_outbox_request_header(req, "webhook-id: %s", key) ==
		    -1 || sw_outbox_request_header(req, "webhook-timestamp: %"
		    PRId64, now_ms / 1000) == -1)
			return sw_err_set(err, "render: header too long");
		if (d->secret != NULL && *d->secret != '\0') {
			if (sw_notify_webhook_sign(d->secret, key, now_ms / 1000,
			    sw_buf_str(&req->body), req->body.len, sig,
			    sizeof(sig), err) == -1)
				return -1;
			if (sw_outbox_request_header(req,
			    "webhook-signature: %s", sig) == -1)
				return sw_err_set(err, "render: header too "
				    "long");
		}
		return 0;
	case SW_NOTIFY_LOG:
		break;
	}
	return sw_err_set(err, "render: notifier type %s sends nothing",
	    sw_notify_type_name(d->type));
}

/* ------------------------------------------------------------------ */
/* the dispatcher                                                       */

struct nt_dest {
	struct sw_notify_dest	 d;
	struct sw_notify	*n;
};

struct sw_notify {
	const struct sw_conf	*conf;
	sqlite3			*db;
	struct sw_notify_opts	 opts;
	char			 host[256];
	char			 ext[512];
	struct nt_dest		*dests;
	int			 ndests;
	struct sw_outbox	*ob;
	struct sw_complain	 complain;
};

static int
nt_op_render(void *arg, const struct sw_outbox_item *items, int n,
    const char *key, int64_t now_ms, int resend,
    struct sw_outbox_request *req, struct sw_err *err)
{
	struct nt_dest	*nd = arg;
	json_t		*docs[SW_OUTBOX_GROUP_MAX > 200 ? SW_OUTBOX_GROUP_MAX :
			    200];
	json_error_t	 je;
	int		 i, k = 0, ret = -1;

	for (i = 0; i < n && k < (int)(sizeof(docs) / sizeof(docs[0])); i++) {
		docs[k] = json_loads(items[i].doc, JSON_REJECT_DUPLICATES, &je);
		if (docs[k] == NULL || !json_is_object(docs[k])) {
			json_decref(docs[k]);
			continue;	/* a damaged row cannot block others */
		}
		/* a re-post says what the receiver was told last */
		if (resend)
			json_object_set_new(docs[k], "event",
			    json_string(items[i].event));
		k++;
	}
	if (k == 0)
		sw_err_set(err, "render: unreadable document");
	else
		ret = sw_notify_render(&nd->d, docs, k, key, now_ms, resend,
		    req, err);
	for (i = 0; i < k; i++)
		json_decref(docs[i]);
	return ret;
}

static enum sw_outbox_verdict
nt_op_judge(void *arg, const struct sw_http_result *res, char *why,
    size_t whysz)
{
	struct nt_dest	*nd = arg;

	return sw_notify_judge(nd->d.type, res, why, whysz);
}

static void
nt_op_scrub(void *arg, char *text, size_t size)
{
	struct nt_dest	*nd = arg;

	sw_notify_scrub(&nd->d, text, size);
}

static const struct sw_outbox_dest_ops nt_ops = {
	.render = nt_op_render,
	.judge = nt_op_judge,
	.scrub = nt_op_scrub,
};

int
sw_notify_new(const struct sw_conf *conf, sqlite3 *db, struct sw_loop *loop,
    struct sw_http *http, const struct sw_notify_opts *opts,
    struct sw_notify **out, struct sw_err *err)
{
	struct sw_notify		*n;
	const struct sw_conf_notify	*cn;
	struct sw_outbox_dest		 od;
	char				 only[SW_OUTBOX_NAME_MAX];
	int				 count = 0, i, nurls;

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return sw_err_sys(err, ENOMEM, "notify");
	n->conf = conf;
	n->db = db;
	if (opts != NULL)
		n->opts = *opts;
	if (n->opts.group_wait_ms <= 0)
		n->opts.group_wait_ms = SW_NOTIFY_GROUP_WAIT_MS;
	if (n->opts.am_resend_ms <= 0)
		n->opts.am_resend_ms = SW_NOTIFY_AM_RESEND_MS;
	if (n->opts.am_resolved_ms <= 0)
		n->opts.am_resolved_ms = SW_NOTIFY_AM_RESOLVED_MS;
	if (n->opts.eval_ms <= 0)
		n->opts.eval_ms = SW_ENGINE_EVAL_MS;
	if (n->opts.host != NULL)
		snprintf(n->host, sizeof(n->host), "%s", n->opts.host);
	else if (gethostname(n->host, sizeof(n->host) - 1) == -1)
		snprintf(n->host, sizeof(n->host), "localhost");
	n->host[sizeof(n->host) - 1] = '\0';
	if (n->opts.external_url != NULL)
		snprintf(n->ext, sizeof(n->ext), "%s", n->opts.external_url);
	else if (conf->listen != NULL)
		snprintf(n->ext, sizeof(n->ext), "http://%s", conf->listen);
	else
		snprintf(n->ext, sizeof(n->ext), "http://%s", n->host);
	snprintf(only, sizeof(only), "%s", n->opts.only != NULL ?
	    n->opts.only : "");
	n->opts.host = NULL;
	n->opts.external_url = NULL;
	n->opts.only = NULL;

	for (cn = conf->notifiers; cn != NULL; cn = cn->next)
		count += cn->urls.n > 1 ? (cn->urls.n < NT_AM_URLS_MAX ?
		    cn->urls.n : NT_AM_URLS_MAX) : 1;
	if (count > NT_MAX_DESTS) {
		sw_err_set(err, "notify: more than %d destinations",
		    NT_MAX_DESTS);
		goto fail;
	}
	if (count > 0 && (n->dests = calloc((size_t)count,
	    sizeof(*n->dests))) == NULL) {
		sw_err_sys(err, ENOMEM, "notify");
		goto fail;
	}
	for (cn = conf->notifiers; cn != NULL; cn = cn->next) {
		nurls = cn->urls.n > 1 ? cn->urls.n : 1;
		if (nurls > NT_AM_URLS_MAX)
			nurls = NT_AM_URLS_MAX;
		for (i = 0; i < nurls; i++) {
			if (sw_notify_dest_init(&n->dests[n->ndests].d, cn, i,
			    n->host, n->ext, n->opts.eval_ms, err) == -1)
				goto fail;
			n->dests[n->ndests].n = n;
			n->ndests++;
		}
	}
	if (sw_outbox_schema(db, err) == -1 ||
	    sw_outbox_new(db, loop, http, &n->opts.outbox, &n->ob, err) == -1)
		goto fail;
	for (i = 0; i < n->ndests; i++) {
		struct nt_dest	*nd = &n->dests[i];

		if (nd->d.type == SW_NOTIFY_LOG || (only[0] != '\0' &&
		    strcmp(nd->d.conf->name, only) != 0))
			continue;
		memset(&od, 0, sizeof(od));
		od.name = nd->d.name;
		od.url = nd->d.url;
		od.ops = &nt_ops;
		od.arg = nd;
		od.max_age_ms = nd->d.conf->max_age_ms;
		switch (nd->d.type) {
		case SW_NOTIFY_SLACK:
			od.min_interval_ms = SW_NOTIFY_SLACK_INTERVAL_MS;
			break;
		case SW_NOTIFY_PAGERDUTY:
			od.min_interval_ms = SW_NOTIFY_PD_INTERVAL_MS;
			od.group_max = 1;
			break;
		case SW_NOTIFY_ALERTMANAGER:
			od.resend_ms = n->opts.am_resend_ms;
			od.resend_resolved_ms = n->opts.am_resolved_ms;
			break;
		default:
			break;
		}
		if (sw_outbox_add_dest(n->ob, &od, err) == -1)
			goto fail;
	}
	sw_outbox_kick(n->ob);
	*out = n;
	return 0;
fail:
	sw_notify_free(n);
	return -1;
}

void
sw_notify_free(struct sw_notify *n)
{
	if (n == NULL)
		return;
	sw_outbox_free(n->ob);
	free(n->dests);
	free(n);
}

int
sw_notify_begin(struct sw_notify *n, struct sw_err *err)
{
	if (sqlite3_exec(n->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return sw_err_set(err, "notify: begin: %s",
		    sqlite3_errmsg(n->db));
	return 0;
}

int
sw_notify_commit(struct sw_notify *n, struct sw_err *err)
{
	if (sqlite3_exec(n->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sw_err_set(err, "notify: commit: %s", sqlite3_errmsg(n->db));
		sqlite3_exec(n->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	sw_outbox_kick(n->ob);
	return 0;
}

void
sw_notify_kick(struct sw_notify *n)
{
	sw_outbox_kick(n->ob);
}

struct sw_outbox *
sw_notify_outbox(struct sw_notify *n)
{
	return n->ob;
}

int
sw_notify_ndests(const struct sw_notify *n)
{
	return n->ndests;
}

const struct sw_notify_dest *
sw_notify_dest_at(const struct sw_notify *n, int i)
{
	return i >= 0 && i < n->ndests ? &n->dests[i].d : NULL;
}

void
sw_notify_routes(const struct sw_conf *conf, const struct sw_strlist *notify,
    enum sw_severity sev, sw_notify_route_cb cb, void *arg)
{
	const struct sw_conf_notify	*cn;
	enum sw_notify_type		 t;
	int				 i;

	if (notify != NULL && notify->n > 0) {
		/* the rule's list, in config order, each once */
		for (cn = conf->notifiers; cn != NULL; cn = cn->next)
			for (i = 0; i < notify->n; i++)
				if (strcmp(notify->v[i], cn->name) == 0) {
					cb(cn, arg);
					break;
				}
		return;
	}
	for (cn = conf->notifiers; cn != NULL; cn = cn->next) {
		t = sw_notify_type_of(cn->type);
		switch (sev) {
		case SW_SEV_CRITICAL:
			break;
		case SW_SEV_WARNING:
			if (t == SW_NOTIFY_PAGERDUTY)
				continue;
			break;
		case SW_SEV_INFO:
		default:
			if (t != SW_NOTIFY_ALERTMANAGER &&
			    t != SW_NOTIFY_WEBHOOK && t != SW_NOTIFY_LOG)
				continue;
			break;
		}
		cb(cn, arg);
	}
}

struct nt_route {
	struct sw_notify		*n;
	const struct sw_notify_alert	*a;
	const char			*doc;
	const char			*target;
	int				 silenced;
	int64_t				 silence_id;
	int				 rows;
	int				 failed;
	struct sw_err			*err;
};

static void
nt_route_one(const struct sw_conf_notify *cn, void *arg)
{
	struct nt_route		*r = arg;
	struct sw_notify	*n = r->n;
	const struct sw_notify_alert *a = r->a;
	struct sw_outbox_msg	 m;
	struct sw_err		 e;
	char			 gk[300];
	int64_t			 now = sw_clock_wall_ms();
	int			 i, known;

	if (sw_notify_type_of(cn->type) == SW_NOTIFY_LOG) {
		sw_log_info("notify %s: rule %s %s%s%s", cn->name, a->rule,
		    a->event, r->silenced ? " (silenced)" : "",
		    r->target[0] != '\0' ? "" : "");
		return;
	}
	for (i = 0; i < n->ndests; i++) {
		struct nt_dest *nd = &n->dests[i];

		if (nd->d.conf != cn)
			continue;
		if (strcmp(a->event, "resolved") == 0) {
			sw_err_clear(&e);
			known = sw_outbox_alert_known(n->db, nd->d.name,
			    a->rule, &e);
			/* only a receiver told "firing" hears "resolved" */
			if (known != 1)
				continue;
		} else if (r->silenced) {
			continue;
		}
		memset(&m, 0, sizeof(m));
		m.notifier = nd->d.name;
		m.rule = a->rule;
		m.event = a->event;
		m.target = r->target;
		m.doc = r->doc;
		m.created_ms = now;
		if (nd->d.type != SW_NOTIFY_PAGERDUTY) {
			snprintf(gk, sizeof(gk), "%s:%s",
			    r->target[0] != '\0' ? "target" : "rule",
			    r->target[0] != '\0' ? r->target : a->rule);
			m.group_key = gk;
			m.not_before_ms = now + n->opts.group_wait_ms;
		} else
			m.not_before_ms = now;
		sw_err_clear(&e);
		if (sw_outbox_enqueue(n->db, &m, NULL, NULL, &e) == -1) {
			r->failed++;
			sw_err_set(r->err, "%s", e.msg);
			sw_log_error("notify %s: rule %s %s not queued: %s",
			    nd->d.name, a->rule, a->event, e.msg);
			continue;
		}
		r->rows++;
	}
}

int
sw_notify_route(struct sw_notify *n, const struct sw_notify_alert *a,
    struct sw_err *err)
{
	struct nt_route	 r;
	struct sw_buf	 doc;
	struct sw_err	 e;
	char		 target[256], reason[128];
	int64_t		 until = 0;
	int		 rc;

	if (a->rule == NULL || a->event == NULL)
		return sw_err_set(err, "notify: alert without rule or event");
	if (strcmp(a->event, "firing") != 0 && strcmp(a->event, "resolved") !=
	    0 && strcmp(a->event, "repeat") != 0)
		return 0;	/* pending: not announced */
	if (a->target != NULL)
		snprintf(target, sizeof(target), "%s", a->target);
	else
		sw_notify_target_of(a->value, target, sizeof(target));
	memset(&r, 0, sizeof(r));
	r.n = n;
	r.a = a;
	r.target = target;
	r.err = err;
	sw_err_clear(&e);
	rc = sw_silence_match(n->db, a->rule, target, sw_clock_wall_ms(),
	    &r.silence_id, &until, reason, sizeof(reason), &e);
	if (rc == -1)
		sw_complain(&n->complain, "notify: cannot read silences: %s",
		    e.msg);
	r.silenced = rc == 1;
	if (r.silenced && strcmp(a->event, "resolved") != 0) {
		char	esc[200];

		sw_log_info("notify: rule %s %s silenced by silence %" PRId64
		    " (%s)", a->rule, a->event, r.silence_id,
		    sw_log_escape(esc, sizeof(esc), reason, strlen(reason)));
	}
	sw_buf_init(&doc, SW_OUTBOX_DOC_MAX);
	if (sw_notify_doc(a, n->host, &doc, err) == -1) {
		sw_buf_release(&doc);
		return -1;
	}
	r.doc = sw_buf_str(&doc);
	sw_notify_routes(n->conf, a->notify, a->severity, nt_route_one, &r);
	sw_buf_release(&doc);
	return r.failed > 0 ? -1 : r.rows;
}

int
sw_notify_event(struct sw_notify *n, const struct sw_alert_event *ev,
    const struct sw_notify_extra *x, struct sw_err *err)
{
	struct sw_notify_alert	a;

	memset(&a, 0, sizeof(a));
	a.rule = ev->rule->name;
	a.event = ev->event;
	a.severity = ev->rule->severity;
	a.summary = ev->rule->summary;
	a.labels = ev->rule->labels;
	a.action = ev->rule->action;
	a.time_ms = ev->time_ms;
	a.active_since_ms = ev->active_since_ms;
	a.value = &ev->value;
	a.notify = &ev->rule->notify;
	if (x != NULL) {
		a.spark = x->spark;
		a.nspark = x->nspark;
		a.pid = x->pid;
		a.started_ms = x->started_ms;
		a.target = x->target;
		a.action_result = x->action_result;
	}
	return sw_notify_route(n, &a, err);
}

/* ------------------------------------------------------------------ */
/* sparkline values from the store                                      */

struct nt_spark {
	double	*vals;
	int	*have;
	int	 max;
	int64_t	 from, span;
};

static int
nt_spark_cb(int64_t ts, double v, void *arg)
{
	struct nt_spark	*s = arg;
	int64_t		 k;

	k = (ts - s->from) * s->max / s->span;
	if (k < 0)
		k = 0;
	if (k >= s->max)
		k = s->max - 1;
	s->vals[k] = v;		/* the last of each bucket */
	s->have[k] = 1;
	return 0;
}

int
sw_notify_spark_load(struct sw_store *st, const char *series, int64_t from_ms,
    int64_t to_ms, double *vals, int max, struct sw_err *err)
{
	struct sw_series_info	 info;
	struct nt_spark		 s;
	int			 have[SW_NOTIFY_SPARK_MAX * 4];
	int			 rc, i, n = 0;

	if (max <= 0 || to_ms <= from_ms)
		return 0;
	if (max > (int)(sizeof(have) / sizeof(have[0])))
		max = (int)(sizeof(have) / sizeof(have[0]));
	if ((rc = sw_store_series_lookup(st, series, &info, err)) != 1)
		return rc;
	memset(have, 0, sizeof(have));
	s.vals = vals;
	s.have = have;
	s.max = max;
	s.from = from_ms;
	s.span = to_ms - from_ms;
	if (sw_store_samples_each(st, info.id, from_ms, to_ms, nt_spark_cb, &s,
	    err) == -1)
		return -1;
	for (i = 0; i < max; i++)
		if (have[i])
			vals[n++] = vals[i];
	return n;
}

/* ------------------------------------------------------------------ */
/* status                                                               */

struct nt_status {
	FILE	*f;
	int64_t	 now;
	int	 count;
	json_t	*arr;
};

static int
nt_status_print_cb(const struct sw_outbox_status *s, void *arg)
{
	struct nt_status	*st = arg;
	char			 d[32], e[SW_OUTBOX_ERROR_MAX];

	if (st->count++ == 0)
		fprintf(st->f, "notifications:\n");
	fprintf(st->f, "  %-16s pending %" PRId64 ", retrying %" PRId64,
	    s->notifier, s->pending, s->retrying);
	if (s->pending + s->retrying > 0 && s->next_attempt_ms > 0) {
		if (s->next_attempt_ms > st->now)
			fprintf(st->f, " (next attempt in %s",
			    sw_fmt_duration_ms(d, sizeof(d),
			    s->next_attempt_ms - st->now));
		else
			fprintf(st->f, " (next attempt now");
		if (s->last_error[0] != '\0' && s->retrying > 0)
			fprintf(st->f, ", last error: %s", sw_log_escape(e,
			    sizeof(e), s->last_error, strlen(s->last_error)));
		fprintf(st->f, ")");
	}
	fprintf(st->f, ", failed %" PRId64, s->failed);
	if (s->failed > 0 && s->last_error[0] != '\0' && s->retrying == 0)
		fprintf(st->f, " (last: %s)", sw_log_escape(e, sizeof(e),
		    s->last_error, strlen(s->last_error)));
	fprintf(st->f, ", delivered %" PRId64, s->delivered);
	if (s->last_ok_ms > 0)
		fprintf(st->f, " (last %s ago)", sw_fmt_duration_ms(d,
		    sizeof(d), st->now > s->last_ok_ms ? st->now -
		    s->last_ok_ms : 0));
	fprintf(st->f, "\n");
	return 0;
}

int
sw_notify_status_print(sqlite3 *db, FILE *f, int64_t now_ms,
    struct sw_err *err)
{
	struct nt_status	st;

	memset(&st, 0, sizeof(st));
	st.f = f;
	st.now = now_ms;
	return sw_outbox_status_each(db, nt_status_print_cb, &st, err) == -1 ?
	    -1 : 0;
}

static int
nt_status_json_cb(const struct sw_outbox_status *s, void *arg)
{
	struct nt_status	*st = arg;
	json_t			*o;

	if ((o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:I, s:I}",
	    "notifier", s->notifier, "pending", (json_int_t)s->pending,
	    "retrying", (json_int_t)s->retrying, "failed",
	    (json_int_t)s->failed, "delivered", (json_int_t)s->delivered,
	    "last_error", s->last_error, "last_error_ms",
	    (json_int_t)s->last_error_ms, "last_status",
	    (json_int_t)s->last_status)) == NULL)
		return -1;
	json_object_set_new(o, "next_attempt_ms", s->next_attempt_ms > 0 ?
	    json_integer(s->next_attempt_ms) : json_null());
	json_object_set_new(o, "oldest_ms", s->oldest_ms > 0 ?
	    json_integer(s->oldest_ms) : json_null());
	json_object_set_new(o, "last_ok_ms", s->last_ok_ms > 0 ?
	    json_integer(s->last_ok_ms) : json_null());
	return json_array_append_new(st->arr, o) == 0 ? 0 : -1;
}

json_t *
sw_notify_status_json(sqlite3 *db, struct sw_err *err)
{
	struct nt_status	st;

	memset(&st, 0, sizeof(st));
	if ((st.arr = json_array()) == NULL) {
		sw_err_sys(err, ENOMEM, "status");
		return NULL;
	}
	if (sw_outbox_status_each(db, nt_status_json_cb, &st, err) != 0) {
		sw_err_set(err, "outbox status: out of memory");
		json_decref(st.arr);
		return NULL;
	}
	return st.arr;
}
