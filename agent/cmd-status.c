#include "config.h"

/*
 * cmd-status.c: `slopewatch status`, what the agent last wrote to the store:
 * each target (from target_state, the config, and the series it has), up or
 * down, the age of its last sample, failures and the last error, the process
 * instance, the newest value of each of its series, and the recent events.
 * It reads the store read-only, so it works while the agent runs.
 *
 * --json prints one object {"targets": [...], "events": [...]}; times are
 * unix ms, values in base units, absent things null.
 */

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/notify.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

#include <sqlite3.h>

#define STATUS_EVENTS		10	/* recent events shown */
#define STATUS_TARGETS_MAX	100000	/* bound on what is gathered */
#define STATUS_SERIES_MAX	1000000

struct status_series {
	int64_t	 id;
	char	*target;
	char	*metric;
	char	*labels;
	char	*unit;
	int	 has_last;
	int64_t	 ts;
	double	 v;
};

struct status_target {
	char	*name;
	char	*kind;
	int	 has_state;
	int	 up;
	int64_t	 updated_ms;
	int64_t	 last_ok_ms;
	int64_t	 failures;
	char	*last_error;
	int64_t	 last_error_ms;
	long	 pid;
	int64_t	 started_ms;
	int64_t	 last_sample_ms;	/* newest of its series, 0 if none */
};

struct status {
	struct status_target	*t;
	size_t			 nt, tcap;
	struct status_series	*s;
	size_t			 ns, scap;
	json_t			*events;	/* array */
	json_t			*alerts;	/* array of pending/firing */
	json_t			*outbox;	/* array, per notifier */
	sqlite3			*db;
	int64_t			 now;
	int			 oom;
};

static const char status_usage[] =
    "usage: slopewatch status [--json] [-c FILE] [--db PATH]\n"
    "\n"
    "Prints each target the agent watches: up or down, the age of its last\n"
    "sample, failures and the last error, the process instance (pid, start),\n"
    "the newest value of each of its series, the pending and firing alerts\n"
    "(with the trend's slope in each of the last process lifetimes), the\n"
    "notification outbox per notifier (pending, retrying with the next\n"
    "attempt and last error, failed, delivered), then the recent events.\n"
    "\n"
    "  --json      one object {\"targets\": [...], \"alerts\": [...],\n"
    "              \"outbox\": [...], \"events\": [...]}, times in\n"
    "              unix ms, values in base units\n"
    "  -c FILE     the config, which names the database\n"
    "  --db PATH   the database, overriding the config\n"
    "\n"
    "Exit status: 0 ok, 1 a read error, 2 usage or config error.\n";

static char *
status_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static struct status_target *
status_find(struct status *sa, const char *name)
{
	size_t	i;

	for (i = 0; i < sa->nt; i++)
		if (strcmp(sa->t[i].name, name) == 0)
			return &sa->t[i];
	return NULL;
}

/* The target called name, added (empty) if new; NULL when out of room. */
static struct status_target *
status_target(struct status *sa, const char *name, const char *kind)
{
	struct status_target	*t, *nt;
	size_t			 ncap;

	if ((t = status_find(sa, name)) != NULL)
		return t;
	if (sa->nt >= STATUS_TARGETS_MAX)
		return NULL;
	if (sa->nt == sa->tcap) {
		ncap = sa->tcap == 0 ? 16 : sa->tcap * 2;
		if ((nt = reallocarray(sa->t, ncap, sizeof(*nt))) == NULL) {
			sa->oom = 1;
			return NULL;
		}
		sa->t = nt;
		sa->tcap = ncap;
	}
	t = &sa->t[sa->nt];
	memset(t, 0, sizeof(*t));
	t->up = -1;
	t->name = status_strdup(name);
	t->kind = status_strdup(kind);
	t->last_error = status_strdup("");
	if (t->name == NULL || t->kind == NULL || t->last_error == NULL) {
		free(t->name);
		free(t->kind);
		free(t->last_error);
		sa->oom = 1;
		return NULL;
	}
	sa->nt++;
	return t;
}

static int
status_state_cb(const struct sw_target_state *ts, void *arg)
{
	struct status		*sa = arg;
	struct status_target	*t;
	char			*e;

	if ((t = status_target(sa, ts->target, ts->kind)) == NULL)
		return sa->oom ? -1 : 0;
	if ((e = status_strdup(ts->last_error)) == NULL) {
		sa->oom = 1;
		return -1;
	}
	free(t->last_error);
	t->last_error = e;
	t->has_state = 1;
	t->up = ts->up;
	t->updated_ms = ts->updated_ms;
	t->last_ok_ms = ts->last_ok_ms;
	t->failures = ts->failures;
	t->last_error_ms = ts->last_error_ms;
	t->pid = ts->pid;
	t->started_ms = ts->started_ms;
	return 0;
}

static int
status_series_cb(const struct sw_series_info *si, void *arg)
{
	struct status		*sa = arg;
	struct status_series	*s, *ns;
	size_t			 ncap;

	if (sa->ns >= STATUS_SERIES_MAX)
		return 0;
	if (sa->ns == sa->scap) {
		ncap = sa->scap == 0 ? 64 : sa->scap * 2;
		if ((ns = reallocarray(sa->s, ncap, sizeof(*ns))) == NULL) {
			sa->oom = 1;
			return -1;
		}
		sa->s = ns;
		sa->scap = ncap;
	}
	s = &sa->s[sa->ns];
	memset(s, 0, sizeof(*s));
	s->id = si->id;
	s->target = status_strdup(si->target);
	s->metric = status_strdup(si->metric);
	s->labels = status_strdup(si->labels);
	s->unit = status_strdup(si->unit);
	sa->ns++;
	if (s->target == NULL || s->metric == NULL || s->labels == NULL ||
	    s->unit == NULL) {
		sa->oom = 1;
		return -1;
	}
	return 0;
}

static json_t *
status_ms(int64_t ms)
{
	return ms != 0 ? json_integer((json_int_t)ms) : json_null();
}

static int
status_event_cb(const struct sw_event *ev, void *arg)
{
	struct status	*sa = arg;
	json_t		*o, *detail = NULL;

	if (*ev->detail != '\0' && (detail = json_loads(ev->detail,
	    JSON_DECODE_ANY, NULL)) == NULL)
		detail = json_string(ev->detail);
	o = json_pack("{sI ss ss so so?}", "time", (json_int_t)ev->ts_ms,
	    "target", ev->target, "kind", ev->kind,
	    "pid", ev->pid != 0 ? json_integer(ev->pid) : json_null(),
	    "detail", detail);
	if (o == NULL || json_array_append_new(sa->events, o) == -1) {
		sa->oom = 1;
		return -1;
	}
	return 0;
}

static int
status_target_cmp(const void *a, const void *b)
{
	const struct status_target *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static enum sw_unit
status_unit(const char *name, int *known)
{
	enum sw_unit	u;
	const char	*n;

	*known = 0;
	for (u = SW_UNIT_NONE; u <= SW_UNIT_PER_S; u++) {
		if (*name != '\0' && (n = sw_unit_name(u)) != NULL &&
		    strcmp(n, name) == 0) {
			*known = 1;
			return u;
		}
	}
	return SW_UNIT_NONE;
}

static const char *
status_value(char *dst, size_t dstsz, const struct status_series *s)
{
	enum sw_unit	u;
	int		known;

	u = status_unit(s->unit, &known);
	if (known && isfinite(s->v))
		return sw_fmt_quantity(dst, dstsz, s->v, u);
	return sw_store_fmt_value(dst, dstsz, s->v);
}

/* A duration to two units at most: "850ms", "42s", "3m 5s", "2h 10m",
 * "12d 3h" (an age needs no more precision). */
static const char *
status_span(char *dst, size_t dstsz, int64_t ms)
{
	int64_t	s = ms / 1000;

	if (ms < 1000)
		snprintf(dst, dstsz, "%" PRId64 "ms", ms);
	else if (s < 60)
		snprintf(dst, dstsz, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(dst, dstsz, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(dst, dstsz, "%" PRId64 "h %" PRId64 "m", s / 3600,
		    s / 60 % 60);
	else
		snprintf(dst, dstsz, "%" PRId64 "d %" PRId64 "h", s / 86400,
		    s / 3600 % 24);
	return dst;
}

/* "3s ago", "in 2m 0s" (clock skew), "-" for never. */
static const char *
status_age(char *dst, size_t dstsz, int64_t now, int64_t ms)
{
	char	d[64];

	if (ms == 0)
		snprintf(dst, dstsz, "-");
	else if (now >= ms)
		snprintf(dst, dstsz, "%s ago", status_span(d, sizeof(d),
		    now - ms));
	else
		snprintf(dst, dstsz, "in %s", status_span(d, sizeof(d),
		    ms - now));
	return dst;
}

static const char *
status_up(int up)
{
	return up == 1 ? "up" : up == 0 ? "down" : "unknown";
}

static void	status_text_alerts(struct status *, FILE *);

static void
status_text(struct status *sa, FILE *out)
{
	struct status_target	*t;
	struct status_series	*s;
	json_t			*ev, *detail;
	size_t			 i, j;
	char			 tb[64], ab[64], vb[64], nb[512], esc[512];
	char			*d;

	if (sa->nt == 0)
		fprintf(out, "no targets in the store yet\n");
	for (i = 0; i < sa->nt; i++) {
		t = &sa->t[i];
		fprintf(out, "%s%s (%s): %s\n", i > 0 ? "\n" : "", t->name,
		    *t->kind != '\0' ? t->kind : "?", status_up(t->up));
		fprintf(out, "  %-14s %s\n", "last sample",
		    t->last_sample_ms == 0 ? "never" : status_age(ab,
		    sizeof(ab), sa->now, t->last_sample_ms));
		if (t->has_state) {
			fprintf(out, "  %-14s %" PRId64 "\n", "failures",
			    t->failures);
			if (*t->last_error != '\0')
				fprintf(out, "  %-14s %s (%s): %s\n",
				    "last error", sw_store_fmt_time(tb,
				    sizeof(tb), t->last_error_ms), status_age(ab,
				    sizeof(ab), sa->now, t->last_error_ms),
				    sw_log_escape(esc, sizeof(esc),
				    t->last_error, strlen(t->last_error)));
			if (t->pid != 0)
				fprintf(out, "  %-14s pid %ld, started %s\n",
				    "instance", t->pid, t->started_ms != 0 ?
				    sw_store_fmt_time(tb, sizeof(tb),
				    t->started_ms) : "?");
		}
		for (j = 0; j < sa->ns; j++) {
			s = &sa->s[j];
			if (strcmp(s->target, t->name) != 0 || !s->has_last)
				continue;
			if (*s->labels != '\0')
				snprintf(nb, sizeof(nb), "%s{%s}", s->metric,
				    s->labels);
			else
				snprintf(nb, sizeof(nb), "%s", s->metric);
			fprintf(out, "  %-14s %s  (%s)\n", nb,
			    status_value(vb, sizeof(vb), s),
			    status_age(ab, sizeof(ab), sa->now, s->ts));
		}
	}
	status_text_alerts(sa, out);
	if (json_array_size(sa->outbox) > 0) {
		struct sw_err	err;

		fprintf(out, "\nnotifications:\n");
		sw_err_clear(&err);
		if (sw_notify_status_print(sa->db, out, sa->now, &err) == -1)
			fprintf(out, "  (cannot read the outbox: %s)\n", err.msg);
	}
	if (json_array_size(sa->events) == 0)
		return;
	fprintf(out, "\nrecent events:\n");
	json_array_foreach(sa->events, i, ev) {
		fprintf(out, "  %s  %-12s %-12s",
		    sw_store_fmt_time(tb, sizeof(tb), (int64_t)json_integer_value(
		    json_object_get(ev, "time"))),
		    json_string_value(json_object_get(ev, "target")),
		    json_string_value(json_object_get(ev, "kind")));
		if (json_integer_value(json_object_get(ev, "pid")) != 0)
			fprintf(out, " pid %-8" JSON_INTEGER_FORMAT,
			    json_integer_value(json_object_get(ev, "pid")));
		else
			fprintf(out, " %-12s", "");
		detail = json_object_get(ev, "detail");
		/* JSON text holds no raw control character: print as is */
		if (json_is_string(detail))
			fprintf(out, " %s", sw_log_escape(esc, sizeof(esc),
			    json_string_value(detail),
			    strlen(json_string_value(detail))));
		else if (detail != NULL && !json_is_null(detail) &&
		    (d = json_dumps(detail, JSON_COMPACT | JSON_ENCODE_ANY))
		    != NULL) {
			fprintf(out, " %.400s%s", d, strlen(d) > 400 ? "..." :
			    "");
			free(d);
		}
		fputc('\n', out);
	}
}

static int
status_json(struct status *sa, FILE *out)
{
	struct status_target	*t;
	struct status_series	*s;
	json_t			*root, *targets, *o, *series, *so;
	size_t			 i, j;
	char			 nb[2048];
	int			 ret = -1, known;

	if ((root = json_object()) == NULL || (targets = json_array()) == NULL)
		goto out;
	json_object_set_new(root, "targets", targets);
	for (i = 0; i < sa->nt; i++) {
		t = &sa->t[i];
		if ((series = json_array()) == NULL)
			goto out;
		for (j = 0; j < sa->ns; j++) {
			s = &sa->s[j];
			if (strcmp(s->target, t->name) != 0)
				continue;
			status_unit(s->unit, &known);
			so = json_pack("{ss ss ss so so so}",
			    "name", sw_series_format(nb, sizeof(nb), s->target,
			    s->metric, s->labels), "metric", s->metric,
			    "labels", s->labels,
			    "unit", *s->unit != '\0' ? json_string(s->unit) :
			    json_null(),
			    "time", s->has_last ? json_integer(s->ts) :
			    json_null(),
			    "value", s->has_last && isfinite(s->v) ?
			    json_real(s->v) : json_null());
			if (so == NULL || json_array_append_new(series, so)) {
				json_decref(series);
				goto out;
			}
		}
		o = json_pack("{ss ss so so so so sI so so so so so}",
		    "name", t->name, "kind", t->kind,
		    "up", t->up == 1 ? json_true() : t->up == 0 ?
		    json_false() : json_null(),
		    "updated", status_ms(t->updated_ms),
		    "last_sample", status_ms(t->last_sample_ms),
		    "last_ok", status_ms(t->last_ok_ms),
		    "failures", (json_int_t)t->failures,
		    "last_error", *t->last_error != '\0' ?
		    json_string(t->last_error) : json_null(),
		    "last_error_time", status_ms(t->last_error_ms),
		    "pid", t->pid != 0 ? json_integer(t->pid) : json_null(),
		    "started", status_ms(t->started_ms),
		    "series", series);
		if (o == NULL || json_array_append_new(targets, o) == -1)
			goto out;
	}
	json_object_set(root, "alerts", sa->alerts);
	json_object_set(root, "outbox", sa->outbox);
	json_object_set(root, "events", sa->events);
	if (json_dumpf(root, out, JSON_INDENT(2)) == -1)
		goto out;
	fputc('\n', out);
	ret = 0;
out:
	json_decref(root);
	return ret;
}

static void
status_release(struct status *sa)
{
	size_t	i;

	for (i = 0; i < sa->nt; i++) {
		free(sa->t[i].name);
		free(sa->t[i].kind);
		free(sa->t[i].last_error);
	}
	for (i = 0; i < sa->ns; i++) {
		free(sa->s[i].target);
		free(sa->s[i].metric);
		free(sa->s[i].labels);
		free(sa->s[i].unit);
	}
	free(sa->t);
	free(sa->s);
	json_decref(sa->events);
	json_decref(sa->alerts);
	json_decref(sa->outbox);
}

/*
 * Pending and firing alerts from the engine's alert_state table (absent
 * until the agent has run with rules), each with the detail of its newest
 * alert event: the description and, for trend rules, the per-lifetime
 * slopes that say a leak is structural.
 */
static int
status_alerts(struct status *sa, struct sw_store *st, struct sw_err *err)
{
	sqlite3		*db = sw_store_db(st);
	sqlite3_stmt	*q = NULL, *d = NULL;
	json_t		*a, *detail;
	const char	*text;
	int		 rc, ret = -1;

	rc = sqlite3_prepare_v2(db, "SELECT rule, state, active_since_ms,"
	    " fired_ms, value FROM alert_state WHERE state != 'inactive'"
	    " ORDER BY state DESC, rule", -1, &q, NULL);
	if (rc != SQLITE_OK) {
		/* no such table: the agent never ran rules on this store */
		if (strstr(sqlite3_errmsg(db), "no such table") != NULL)
			ret = 0;
		else
			sw_err_set(err, "alerts: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT detail FROM event WHERE"
	    " kind = 'alert' AND json_extract(detail, '$.rule') = ?"
	    " ORDER BY id DESC LIMIT 1", -1, &d, NULL) != SQLITE_OK) {
		sw_err_set(err, "alerts: %s", sqlite3_errmsg(db));
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		a = json_pack("{ss ss sI sI}",
		    "rule", (const char *)sqlite3_column_text(q, 0),
		    "state", (const char *)sqlite3_column_text(q, 1),
		    "since", (json_int_t)sqlite3_column_int64(q, 2),
		    "fired", (json_int_t)sqlite3_column_int64(q, 3));
		if (a == NULL || json_array_append_new(sa->alerts, a) == -1) {
			sa->oom = 1;
			goto out;
		}
		if (sqlite3_column_type(q, 4) != SQLITE_NULL)
			json_object_set_new(a, "value",
			    json_real(sqlite3_column_double(q, 4)));
		sqlite3_reset(d);
		sqlite3_bind_text(d, 1, (const char *)sqlite3_column_text(q, 0),
		    -1, SQLITE_TRANSIENT);
		if (sqlite3_step(d) == SQLITE_ROW &&
		    (text = (const char *)sqlite3_column_text(d, 0)) != NULL &&
		    (detail = json_loads(text, 0, NULL)) != NULL) {
			json_object_set(a, "description",
			    json_object_get(detail, "description"));
			json_object_set(a, "severity",
			    json_object_get(detail, "severity"));
			if (json_object_get(detail, "trend") != NULL)
				json_object_set(a, "trend",
				    json_object_get(detail, "trend"));
			json_decref(detail);
		}
	}
	if (rc != SQLITE_DONE) {
		sw_err_set(err, "alerts: %s", sqlite3_errmsg(db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(d);
	sqlite3_finalize(q);
	return ret;
}

/* The unit of a stored series by name, for printing trend slopes. */
static enum sw_unit
status_series_unit(struct status *sa, const char *name)
{
	char	nb[2048];
	size_t	i;
	int	known;

	for (i = 0; name != NULL && i < sa->ns; i++) {
		if (strcmp(sw_series_format(nb, sizeof(nb), sa->s[i].target,
		    sa->s[i].metric, sa->s[i].labels), name) == 0)
			return status_unit(sa->s[i].unit, &known);
	}
	return SW_UNIT_NONE;
}

static void
status_text_alerts(struct status *sa, FILE *out)
{
	json_t		*a, *t, *ls, *v;
	size_t		 i, j;
	enum sw_unit	 u;
	char		 tb[64], ab[64], vb[64], esc[512];
	const char	*desc;

	if (json_array_size(sa->alerts) == 0)
		return;
	fprintf(out, "\nalerts:\n");
	json_array_foreach(sa->alerts, i, a) {
		fprintf(out, "  %-20s %-8s since %s (%s)",
		    json_string_value(json_object_get(a, "rule")),
		    json_string_value(json_object_get(a, "state")),
		    sw_store_fmt_time(tb, sizeof(tb), (int64_t)
		    json_integer_value(json_object_get(a, "since"))),
		    status_age(ab, sizeof(ab), sa->now, (int64_t)
		    json_integer_value(json_object_get(a, "since"))));
		if (json_is_string(json_object_get(a, "severity")))
			fprintf(out, " %s", json_string_value(
			    json_object_get(a, "severity")));
		fputc('\n', out);
		if ((desc = json_string_value(json_object_get(a,
		    "description"))) != NULL)
			fprintf(out, "    %s\n", sw_log_escape(esc, sizeof(esc),
			    desc, strlen(desc)));
		t = json_object_get(a, "trend");
		ls = json_object_get(t, "lifetime_slopes");
		if (json_array_size(ls) == 0)
			continue;
		u = status_series_unit(sa, json_string_value(
		    json_object_get(t, "series")));
		fprintf(out, "    per lifetime (newest first):");
		json_array_foreach(ls, j, v) {
			if (json_is_number(v))
				fprintf(out, "%s %s/h", j > 0 ? "," : "",
				    sw_fmt_quantity(vb, sizeof(vb),
				    json_number_value(v) * 3600, u));
			else
				fprintf(out, "%s too short", j > 0 ? "," : "");
		}
		fputc('\n', out);
	}
}

static int
status_gather(struct status *sa, struct sw_store *st, struct sw_conf *conf)
{
	const struct sw_conf_target	*ct;
	struct status_target		*t;
	struct status_series		*s;
	struct sw_err			 err;
	size_t				 i;
	int				 rc;

	sw_err_clear(&err);
	if (sw_store_target_states_each(st, status_state_cb, sa, &err) != 0 ||
	    sw_store_series_each(st, status_series_cb, sa, &err) != 0 ||
	    sw_store_events_last(st, NULL, STATUS_EVENTS, status_event_cb, sa,
	    &err) != 0 || status_alerts(sa, st, &err) != 0)
		goto fail;
	sa->db = sw_store_db(st);
	if ((sa->outbox = sw_notify_status_json(sa->db, &err)) == NULL)
		goto fail;
	for (ct = conf != NULL ? conf->targets : NULL; ct != NULL;
	    ct = ct->next)
		if (status_target(sa, ct->name, sw_target_kind_name(ct->kind))
		    == NULL && sa->oom)
			goto fail;
	for (i = 0; i < sa->ns; i++) {
		s = &sa->s[i];
		rc = sw_store_last(st, s->id, &s->ts, &s->v, &err);
		if (rc == -1)
			goto fail;
		s->has_last = rc == 1;
		if ((t = status_target(sa, s->target, "")) == NULL) {
			if (sa->oom)
				goto fail;
			continue;
		}
		if (s->has_last && s->ts > t->last_sample_ms)
			t->last_sample_ms = s->ts;
	}
	if (sa->nt > 1)
		qsort(sa->t, sa->nt, sizeof(*sa->t), status_target_cmp);
	return 0;
fail:
	if (sa->oom)
		fprintf(stderr, "slopewatch: status: out of memory\n");
	else
		fprintf(stderr, "slopewatch: %s\n", err.set ? err.msg :
		    "cannot read the store");
	return -1;
}

int
sw_cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "db",		required_argument,	NULL, 'd' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "conf",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct status	 sa;
	struct sw_conf	*conf = NULL;
	struct sw_store	*st = NULL;
	const char	*conf_opt = NULL, *db_opt = NULL;
	int		 ch, json = 0, ret;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'd':
			db_opt = optarg;
			break;
		case 'c':
			conf_opt = optarg;
			break;
		case 'h':
			fputs(status_usage, stdout);
			return SW_EXIT_OK;
		default:
			fputs(status_usage, stderr);
			return SW_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "slopewatch: status: unexpected argument "
		    "\"%s\"\n", argv[optind]);
		fputs(status_usage, stderr);
		return SW_EXIT_USAGE;
	}
	if ((ret = sw_cli_open_store(conf_opt, db_opt, &conf, &st)) != 0)
		return ret;

	memset(&sa, 0, sizeof(sa));
	sa.now = sw_clock_wall_ms();
	if ((sa.events = json_array()) == NULL ||
	    (sa.alerts = json_array()) == NULL) {
		ret = SW_EXIT_PROBLEM;
		goto out;
	}
	if (status_gather(&sa, st, conf) == -1) {
		ret = SW_EXIT_PROBLEM;
		goto out;
	}
	if (json) {
		if (status_json(&sa, stdout) == -1) {
			fprintf(stderr, "slopewatch: status: cannot encode "
			    "JSON\n");
			ret = SW_EXIT_PROBLEM;
			goto out;
		}
	} else
		status_text(&sa, stdout);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "slopewatch: status: cannot write output\n");
		ret = SW_EXIT_PROBLEM;
	}
out:
	status_release(&sa);
	sw_store_close(st);
	sw_conf_free(conf);
	return ret;
}
