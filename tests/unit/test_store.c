#include "config.h"
/*
 * test_store.c: unit tests of the SQLite store on real files in a fresh temp
 * directory per test: round trips of samples, events and target states,
 * series names and label canonicalisation, same-timestamp replace,
 * retention and rollups (exact rows), schema migrations (v0 -> current,
 * newer refused), a corrupt file, a read-only reader beside a writer, a
 * writer SIGKILLed mid-stream, a full disk (max_page_count) losing nothing,
 * the queue cap, and the output number format.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/store.h"

#define T0	1700000040000LL		/* a whole minute (and 2 minutes) */

struct fixture {
	char	dir[64];
	char	db[128];
};

static int
setup(void **state)
{
	struct fixture	*f;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sw-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	struct dirent	*de;
	DIR		*d;
	char		 p[512];

	chmod(f->dir, 0700);
	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The first column of the first row of sql, as an integer. */
static int64_t
q1(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*s;
	int64_t		 v = -12345;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static char *
q1s(sqlite3 *db, const char *sql, char *dst, size_t dstsz)
{
	sqlite3_stmt	*s;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	dst[0] = '\0';
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		snprintf(dst, dstsz, "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return dst;
}

static struct sw_store *
open_rw(const char *path)
{
	struct sw_store	*st = NULL;
	struct sw_err	 err;

	sw_err_clear(&err);
	if (sw_store_open(path, 0, &st, &err) == -1)
		fail_msg("open %s: %s", path, err.msg);
	return st;
}

static struct sw_store *
open_ro(const char *path)
{
	struct sw_store	*st = NULL;
	struct sw_err	 err;

	sw_err_clear(&err);
	if (sw_store_open(path, SW_STORE_READONLY, &st, &err) == -1)
		fail_msg("open ro %s: %s", path, err.msg);
	return st;
}

/* Collected samples. */
struct coll {
	int	n;
	int64_t	ts[256];
	double	v[256];
};

static int
coll_cb(int64_t ts, double v, void *arg)
{
	struct coll	*c = arg;

	if (c->n >= 256)
		return -1;
	c->ts[c->n] = ts;
	c->v[c->n] = v;
	c->n++;
	return 0;
}

struct evcoll {
	int	n;
	char	kinds[16][32];
	int64_t	ts[16];
	long	pid[16];
	char	detail[16][64];
};

static int
ev_cb(const struct sw_event *ev, void *arg)
{
	struct evcoll	*c = arg;

	if (c->n >= 16)
		return -1;
	snprintf(c->kinds[c->n], sizeof(c->kinds[0]), "%s/%s", ev->target,
	    ev->kind);
	snprintf(c->detail[c->n], sizeof(c->detail[0]), "%s", ev->detail);
	c->ts[c->n] = ev->ts_ms;
	c->pid[c->n] = ev->pid;
	c->n++;
	return 0;
}

struct sercoll {
	int	n;
	char	names[16][128];
	char	units[16][32];
};

static int
ser_cb(const struct sw_series_info *s, void *arg)
{
	struct sercoll	*c = arg;

	if (c->n >= 16)
		return -1;
	sw_series_format(c->names[c->n], sizeof(c->names[0]), s->target,
	    s->metric, s->labels);
	snprintf(c->units[c->n], sizeof(c->units[0]), "%s", s->unit);
	c->n++;
	return 0;
}

struct stcoll {
	int	n;
	char	text[4][256];
};

static int
st_cb(const struct sw_target_state *ts, void *arg)
{
	struct stcoll	*c = arg;

	if (c->n >= 4)
		return -1;
	snprintf(c->text[c->n], sizeof(c->text[0]), "%s %s %" PRId64 " %d "
	    "%" PRId64 " %" PRId64 " [%s] %" PRId64 " %ld %" PRId64, ts->target,
	    ts->kind, ts->updated_ms, ts->up, ts->last_ok_ms, ts->failures,
	    ts->last_error, ts->last_error_ms, ts->pid, ts->started_ms);
	c->n++;
	return 0;
}

static void
test_roundtrip(void **state)
{
	struct fixture		*f = *state;
	struct sw_store		*st, *ro;
	struct sw_err		 err;
	struct sw_series_info	 info;
	struct sw_target_state	 ts;
	struct coll		 c;
	struct evcoll		 ec;
	struct sercoll		 sc;
	struct stcoll		 tc;
	int64_t			 rss, lat, lat2, t;
	double			 v;
	int			 i;

	st = open_rw(f->db);
	sw_err_clear(&err);
	rss = sw_store_series_id(st, "web", "rss", "", "bytes", 1, &err);
	lat = sw_store_series_id(st, "checkout", "latency", "", "seconds", 1,
	    &err);
	lat2 = sw_store_series_id(st, "checkout", "latency", "code=\"200\"",
	    "seconds", 1, &err);
	assert_true(rss > 0 && lat > 0 && lat2 > 0);
	assert_true(rss != lat && lat != lat2);
	/* cached and stable; absent without create */
	assert_int_equal(sw_store_series_id(st, "web", "rss", "", "bytes", 1,
	    &err), rss);
	assert_int_equal(sw_store_series_id(st, "web", "cpu", "", NULL, 0,
	    &err), 0);
	/* a '.' in a target could never be addressed by name */
	assert_int_equal(sw_store_series_id(st, "we.b", "rss", "", NULL, 1,
	    &err), -1);
	assert_non_null(strstr(err.msg, "target"));

	for (i = 0; i < 10; i++) {
		assert_int_equal(sw_store_add(st, rss, T0 + i * 1000,
		    812e6 + i * 0.1, NULL), 0);
		assert_int_equal(sw_store_add(st, lat, T0 + i * 1000,
		    0.1 * i, NULL), 0);
	}
	assert_int_equal(sw_store_add(st, lat2, T0, 1.0 / 3, NULL), 0);
	assert_int_equal(sw_store_event(st, T0 + 500, "web", "restart", 4242,
	    "{\"old_pid\":4241}", NULL), 0);
	assert_int_equal(sw_store_event(st, T0 + 700, "checkout", "action",
	    0, NULL, NULL), 0);
	memset(&ts, 0, sizeof(ts));
	ts.target = "web";
	ts.kind = "process";
	ts.updated_ms = T0 + 9000;
	ts.up = 1;
	ts.last_ok_ms = T0 + 9000;
	ts.failures = 3;
	ts.last_error = "no such process";
	ts.last_error_ms = T0 + 1;
	ts.pid = 4242;
	ts.started_ms = T0 - 5;
	assert_int_equal(sw_store_target_state_put(st, &ts, NULL), 0);
	ts.failures = 4;	/* the newest put wins */
	assert_int_equal(sw_store_target_state_put(st, &ts, NULL), 0);
	assert_int_equal(sw_store_queued(st), 23);
	assert_int_equal(sw_store_flush(st, &err), 0);
	assert_int_equal(sw_store_queued(st), 0);

	/* a reader sees it all, while the writer stays open */
	ro = open_ro(f->db);
	memset(&c, 0, sizeof(c));
	assert_int_equal(sw_store_samples_each(ro, rss, T0 + 2000, T0 + 5000,
	    coll_cb, &c, &err), 0);
	assert_int_equal(c.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(c.ts[i], T0 + (i + 2) * 1000);
		assert_true(c.v[i] == 812e6 + (i + 2) * 0.1);	/* exact */
	}
	assert_int_equal(sw_store_last(ro, lat, &t, &v, &err), 1);
	assert_int_equal(t, T0 + 9000);
	assert_true(v == 0.1 * 9);

	assert_int_equal(sw_store_series_lookup(ro,
	    "checkout.latency{code=\"200\"}", &info, &err), 1);
	assert_int_equal(info.id, lat2);
	assert_string_equal(info.unit, "seconds");
	assert_string_equal(info.labels, "code=\"200\"");
	assert_int_equal(sw_store_series_lookup(ro, "checkout.latency", &info,
	    &err), 1);
	assert_int_equal(info.id, lat);
	assert_int_equal(sw_store_series_lookup(ro, "web.nope", &info, &err),
	    0);

	memset(&sc, 0, sizeof(sc));
	assert_int_equal(sw_store_series_each(ro, ser_cb, &sc, &err), 0);
	assert_int_equal(sc.n, 3);
	assert_string_equal(sc.names[0], "checkout.latency");
	assert_string_equal(sc.names[1], "checkout.latency{code=\"200\"}");
	assert_string_equal(sc.names[2], "web.rss");
	assert_string_equal(sc.units[2], "bytes");

	memset(&ec, 0, sizeof(ec));
	assert_int_equal(sw_store_events_each(ro, NULL, 0, ev_cb, &ec, &err),
	    0);
	assert_int_equal(ec.n, 2);
	assert_string_equal(ec.kinds[0], "web/restart");
	assert_int_equal(ec.pid[0], 4242);
	assert_string_equal(ec.detail[0], "{\"old_pid\":4241}");
	assert_string_equal(ec.kinds[1], "checkout/action");
	assert_string_equal(ec.detail[1], "");
	memset(&ec, 0, sizeof(ec));
	assert_int_equal(sw_store_events_each(ro, "checkout", 0, ev_cb, &ec,
	    &err), 0);
	assert_int_equal(ec.n, 1);
	memset(&ec, 0, sizeof(ec));
	assert_int_equal(sw_store_events_each(ro, NULL, T0 + 600, ev_cb, &ec,
	    &err), 0);
	assert_int_equal(ec.n, 1);
	memset(&ec, 0, sizeof(ec));
	assert_int_equal(sw_store_events_last(ro, NULL, 1, ev_cb, &ec, &err),
	    0);
	assert_int_equal(ec.n, 1);
	assert_string_equal(ec.kinds[0], "checkout/action");

	memset(&tc, 0, sizeof(tc));
	assert_int_equal(sw_store_target_states_each(ro, st_cb, &tc, &err), 0);
	assert_int_equal(tc.n, 1);
	assert_string_equal(tc.text[0], "web process 1700000049000 1 "
	    "1700000049000 4 [no such process] 1700000040001 4242 "
	    "1700000039995");

	/* readers cannot write */
	assert_int_equal(sw_store_add(ro, rss, T0, 1, NULL), 0);
	sw_err_clear(&err);
	assert_int_equal(sw_store_flush(ro, &err), -1);
	assert_non_null(strstr(err.msg, "read-only"));
	sw_store_close(ro);
	sw_store_close(st);

	/* reopened, it is all still there */
	st = open_rw(f->db);
	assert_int_equal(q1(sw_store_db(st), "SELECT count(*) FROM sample"),
	    21);
	assert_true(sw_store_size(st) > 0);
	sw_store_close(st);
}

static void
test_same_ts_replace(void **state)
{
	struct fixture	*f = *state;
	struct sw_store	*st;
	struct coll	 c;
	int64_t		 id;

	st = open_rw(f->db);
	id = sw_store_series_id(st, "web", "rss", "", "bytes", 1, NULL);
	assert_int_equal(sw_store_add(st, id, T0, 1, NULL), 0);
	assert_int_equal(sw_store_add(st, id, T0, 2, NULL), 0);
	assert_int_equal(sw_store_flush(st, NULL), 0);
	assert_int_equal(sw_store_add(st, id, T0, 3, NULL), 0);
	assert_int_equal(sw_store_flush(st, NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(sw_store_samples_each(st, id, 0, INT64_MAX, coll_cb,
	    &c, NULL), 0);
	assert_int_equal(c.n, 1);
	assert_true(c.v[0] == 3);
	sw_store_close(st);
}

static void
parse_ok(const char *name, const char *t, const char *m, const char *l)
{
	struct sw_err	err;
	char		tb[64], mb[64], lb[256];

	sw_err_clear(&err);
	if (sw_series_parse(name, tb, sizeof(tb), mb, sizeof(mb), lb,
	    sizeof(lb), &err) == -1)
		fail_msg("%s: %s", name, err.msg);
	assert_string_equal(tb, t);
	assert_string_equal(mb, m);
	assert_string_equal(lb, l);
}

static void
parse_bad(const char *name, const char *msg)
{
	struct sw_err	err;
	char		tb[64], mb[64], lb[256];

	sw_err_clear(&err);
	assert_int_equal(sw_series_parse(name, tb, sizeof(tb), mb, sizeof(mb),
	    lb, sizeof(lb), &err), -1);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("%s: got \"%s\", want \"%s\"", name, err.msg, msg);
}

static void
test_series_names(void **state)
{
	char	buf[128];

	(void)state;
	parse_ok("web.rss", "web", "rss", "");
	parse_ok("web.rss{}", "web", "rss", "");
	parse_ok("checkout.latency.dns", "checkout", "latency.dns", "");
	parse_ok("webm.heap{space=\"old\"}", "webm", "heap", "space=\"old\"");
	parse_ok("w.m{b=\"2\", a=\"1\",}", "w", "m", "a=\"1\",b=\"2\"");
	parse_ok("w.m{ z = \"x\" ,a=\"q\\\"\\\\\\n\"}", "w", "m",
	    "a=\"q\\\"\\\\\\n\",z=\"x\"");
	parse_ok("w.m{a=\"\",b=\"1\"}", "w", "m", "b=\"1\"");	/* empty = absent */
	parse_ok("w.m{\"my.label\"=\"v\",\"ok\"=\"w\"}", "w", "m",
	    "\"my.label\"=\"v\",ok=\"w\"");
	parse_ok("w.m{B=\"1\",a=\"2\"}", "w", "m", "B=\"1\",a=\"2\"");	/* bytes */

	parse_bad("", "empty series name");
	parse_bad("webrss", "expected TARGET.METRIC");
	parse_bad("web{a=\"b.c\"}", "expected TARGET.METRIC");
	parse_bad(".rss", "column 1: empty target");
	parse_bad("web.", "column 5: empty metric");
	parse_bad("web.rss{a=\"1\"", "expected '}'");
	parse_bad("web.rss{a=1}", "column 11: expected '\"'");
	parse_bad("web.rss{a=\"1\" b=\"2\"}", "column 15: expected ','");
	parse_bad("web.rss{a=\"\\t\"}", "column 12: bad escape");
	parse_bad("web.rss{a=\"1}", "column 11: unterminated label value");
	parse_bad("web.rss{a=\"1\",a=\"2\"}", "duplicate label \"a\"");
	parse_bad("web.rss{1a=\"1\"}", "column 9: expected a label name");
	parse_bad("we b.rss", "column 3: bad character in target");

	assert_string_equal(sw_series_format(buf, sizeof(buf), "w", "m", ""),
	    "w.m");
	assert_string_equal(sw_series_format(buf, sizeof(buf), "w", "m",
	    "a=\"1\""), "w.m{a=\"1\"}");
	assert_int_equal(sw_series_labels_canon("x=\"1\"", (size_t)-1, buf, 4,
	    NULL), -1);	/* dst too short */
}

/* Expected rollup row. */
struct rrow {
	int64_t	res, ts, n;
	double	vmin, vmax, vsum, vlast;
};

static void
check_rollups(sqlite3 *db, int64_t id, const struct rrow *want, int nwant)
{
	sqlite3_stmt	*s;
	int		 i = 0;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT res, ts, n, vmin, vmax,"
	    " vsum, vlast FROM rollup WHERE series_id = ?1 ORDER BY res, ts",
	    -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_int64(s, 1, id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		assert_true(i < nwant);
		assert_int_equal(sqlite3_column_int64(s, 0), want[i].res);
		assert_int_equal(sqlite3_column_int64(s, 1), want[i].ts);
		assert_int_equal(sqlite3_column_int64(s, 2), want[i].n);
		assert_true(sqlite3_column_double(s, 3) == want[i].vmin);
		assert_true(sqlite3_column_double(s, 4) == want[i].vmax);
		assert_true(sqlite3_column_double(s, 5) == want[i].vsum);
		assert_true(sqlite3_column_double(s, 6) == want[i].vlast);
		i++;
	}
	sqlite3_finalize(s);
	assert_int_equal(i, nwant);
}

static void
test_retention(void **state)
{
	struct fixture		*f = *state;
	struct sw_store		*st, *ro;
	struct sw_err		 err;
	struct coll		 c;
	sqlite3			*db;
	int64_t			 id, t;
	double			 v;
	int			 i;
	char			 buf[64];
	const struct sw_retention_level levels[] = {
		{ 0, 100000 },		/* raw 100 s */
		{ 60000, 200000 },	/* 1 m rollups, 200 s */
		{ 120000, 7200000 },	/* 2 m rollups, 2 h */
	};
	const struct rrow run1[] = {
		{ 60000, T0, 6, 0, 5, 15, 5 },
		{ 60000, T0 + 60000, 6, 6, 11, 51, 11 },
		{ 60000, T0 + 120000, 6, 12, 17, 87, 17 },
		{ 120000, T0, 12, 0, 11, 66, 11 },
	};
	const struct rrow run2[] = {
		{ 60000, T0 + 60000, 6, 6, 11, 51, 11 },
		{ 60000, T0 + 120000, 6, 12, 17, 87, 17 },
		{ 60000, T0 + 180000, 1, 18, 18, 18, 18 },
		{ 120000, T0, 12, 0, 11, 66, 11 },
		{ 120000, T0 + 120000, 7, 12, 18, 105, 18 },
	};
	const int64_t want_ts[] = { T0, T0 + 60000, T0 + 120000, T0 + 150000,
	    T0 + 160000, T0 + 170000, T0 + 180000 };
	const double want_v[] = { 11, 11, 17, 15, 16, 17, 18 };

	st = open_rw(f->db);
	db = sw_store_db(st);
	id = sw_store_series_id(st, "web", "rss", "", "bytes", 1, NULL);
	for (i = 0; i <= 18; i++)	/* every 10 s, value i */
		assert_int_equal(sw_store_add(st, id, T0 + i * 10000, i, NULL),
		    0);
	assert_int_equal(sw_store_event(st, T0 + 250000 - 7230000, "web",
	    "start", 1, NULL, NULL), 0);
	assert_int_equal(sw_store_event(st, T0, "web", "restart", 2, NULL,
	    NULL), 0);

	/* now = T0 + 185 s: three complete 1 m buckets, one 2 m bucket; raw
	 * older than T0 + 85 s goes (i = 0..8), after it was rolled up */
	sw_err_clear(&err);
	if (sw_store_retention(st, levels, 3, T0 + 185000, &err) == -1)
		fail_msg("retention: %s", err.msg);
	check_rollups(db, id, run1, 4);
	assert_int_equal(q1(db, "SELECT count(*) FROM sample"), 10);
	assert_int_equal(q1(db, "SELECT min(ts) FROM sample"), T0 + 90000);
	/* again at the same time: nothing changes (no partial re-rollup) */
	assert_int_equal(sw_store_retention(st, levels, 3, T0 + 185000, &err),
	    0);
	check_rollups(db, id, run1, 4);
	assert_int_equal(q1(db, "SELECT count(*) FROM event"), 2);

	/* now = T0 + 250 s: 1 m keep cuts bucket T0, raw keeps >= T0 + 150 s,
	 * the first event is now 2 h 30 s old, past the longest keep (2 h) */
	assert_int_equal(sw_store_retention(st, levels, 3, T0 + 250000, &err),
	    0);
	check_rollups(db, id, run2, 5);
	assert_int_equal(q1(db, "SELECT count(*) FROM sample"), 4);
	assert_int_equal(q1(db, "SELECT count(*) FROM event"), 1);
	assert_string_equal(q1s(db, "PRAGMA integrity_check", buf, sizeof(buf)),
	    "ok");
	sw_store_close(st);

	/* reading across: 2 m "last" where only it reaches, then 1 m, then
	 * raw */
	ro = open_ro(f->db);
	memset(&c, 0, sizeof(c));
	assert_int_equal(sw_store_samples_each(ro, id, 0, INT64_MAX, coll_cb,
	    &c, &err), 0);
	assert_int_equal(c.n, 7);
	for (i = 0; i < 7; i++) {
		assert_int_equal(c.ts[i], want_ts[i]);
		assert_true(c.v[i] == want_v[i]);
	}
	/* a window inside the rollup part */
	memset(&c, 0, sizeof(c));
	assert_int_equal(sw_store_samples_each(ro, id, T0 + 60000,
	    T0 + 155000, coll_cb, &c, &err), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ts[0], T0 + 60000);
	assert_int_equal(c.ts[2], T0 + 150000);
	sw_store_close(ro);

	/* with every raw sample gone, last falls back to the rollups */
	st = open_rw(f->db);
	assert_int_equal(sw_store_retention(st, levels, 3, T0 + 400000, &err),
	    0);
	assert_int_equal(q1(sw_store_db(st), "SELECT count(*) FROM sample"),
	    0);
	/* (the 1 m rows are past their keep too: the 2 m bucket remains) */
	assert_int_equal(q1(sw_store_db(st), "SELECT count(*) FROM rollup"
	    " WHERE res = 60000"), 0);
	assert_int_equal(sw_store_last(st, id, &t, &v, &err), 1);
	assert_int_equal(t, T0 + 120000);
	assert_true(v == 18);
	/* bad levels are refused */
	{
		const struct sw_retention_level bad[] = { { -1, 10 } };

		sw_err_clear(&err);
		assert_int_equal(sw_store_retention(st, bad, 1, T0, &err), -1);
		assert_non_null(strstr(err.msg, "retention level 1"));
	}
	sw_store_close(st);
}

static void
test_retention_chunks(void **state)
{
	struct fixture	*f = *state;
	struct sw_store	*st;
	int64_t		 id;
	int		 i;
	const struct sw_retention_level levels[] = { { 0, 1000 } };

	/* more rows than one delete transaction takes */
	st = open_rw(f->db);
	id = sw_store_series_id(st, "a", "b", "", NULL, 1, NULL);
	for (i = 0; i < 25000; i++)
		assert_int_equal(sw_store_add(st, id, i, i, NULL), 0);
	assert_int_equal(sw_store_flush(st, NULL), 0);
	assert_int_equal(sw_store_retention(st, levels, 1, 24000, NULL), 0);
	assert_int_equal(q1(sw_store_db(st), "SELECT count(*) FROM sample"),
	    2000);
	assert_int_equal(q1(sw_store_db(st), "SELECT min(ts) FROM sample"),
	    23000);
	sw_store_close(st);
}

static void
make_db(const char *path, const char *sql)
{
	sqlite3	*db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_migrate(void **state)
{
	struct fixture	*f = *state;
	struct sw_store	*st, *ro;
	struct sw_err	 err;
	sqlite3		*db;
	char		 buf[256];
	int64_t		 id;

	/* a new file: created at the current version, WAL, incremental
	 * vacuum */
	st = open_rw(f->db);
	db = sw_store_db(st);
	assert_int_equal(q1(db, "SELECT value FROM meta WHERE key ="
	    " 'schema_version'"), SW_STORE_SCHEMA_VERSION);
	assert_string_equal(q1s(db, "PRAGMA journal_mode", buf, sizeof(buf)),
	    "wal");
	assert_int_equal(q1(db, "PRAGMA auto_vacuum"), 2);
	assert_int_equal(q1(db, "PRAGMA synchronous"), 1);
	assert_int_equal(q1(db, "PRAGMA cache_size"), -16384);
	assert_int_equal(q1(db, "SELECT count(*) FROM sqlite_master WHERE"
	    " name IN ('sample', 'rollup') AND sql LIKE '%WITHOUT ROWID%'"), 2);
	sw_store_close(st);
	unlink(f->db);
	snprintf(buf, sizeof(buf), "%s-wal", f->db);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", f->db);
	unlink(buf);

	/* a hand-made v0 (legacy) file: no meta, a table of its own */
	make_db(f->db, "CREATE TABLE legacy (x); INSERT INTO legacy"
	    " VALUES (7);");
	/* a reader refuses it without touching it */
	sw_err_clear(&err);
	ro = NULL;
	assert_int_equal(sw_store_open(f->db, SW_STORE_READONLY, &ro, &err),
	    -1);
	assert_null(ro);
	assert_non_null(strstr(err.msg, f->db));
	assert_non_null(strstr(err.msg, "no schema version"));
	/* the writer migrates it, keeping what was there */
	st = open_rw(f->db);
	db = sw_store_db(st);
	assert_int_equal(q1(db, "SELECT value FROM meta WHERE key ="
	    " 'schema_version'"), SW_STORE_SCHEMA_VERSION);
	assert_int_equal(q1(db, "SELECT x FROM legacy"), 7);
	id = sw_store_series_id(st, "a", "b", "", NULL, 1, NULL);
	assert_true(id > 0);
	assert_int_equal(sw_store_add(st, id, 1, 2, NULL), 0);
	assert_int_equal(sw_store_flush(st, NULL), 0);
	sw_store_close(st);
	/* and opening again is a no-op */
	st = open_rw(f->db);
	assert_int_equal(q1(sw_store_db(st), "SELECT count(*) FROM sample"), 1);
	sw_store_close(st);

	/* a v0 file whose legacy table clashes: the migration fails as a
	 * whole and names the file */
	unlink(f->db);
	make_db(f->db, "CREATE TABLE event (a);");
	sw_err_clear(&err);
	st = NULL;
	assert_int_equal(sw_store_open(f->db, 0, &st, &err), -1);
	assert_non_null(strstr(err.msg, f->db));
	assert_non_null(strstr(err.msg, "migration to schema version 1"));
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(q1(db, "SELECT count(*) FROM sqlite_master WHERE"
	    " name = 'meta'"), 0);	/* rolled back */
	sqlite3_close(db);
}

static void
test_future_version(void **state)
{
	struct fixture	*f = *state;
	struct sw_store	*st = NULL;
	struct sw_err	 err;
	sqlite3		*db;

	make_db(f->db, "CREATE TABLE meta (key TEXT PRIMARY KEY, value);"
	    " INSERT INTO meta VALUES ('schema_version', 99);"
	    " CREATE TABLE sample (whatever);");
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(f->db, 0, &st, &err), -1);
	assert_null(st);
	assert_non_null(strstr(err.msg, f->db));
	assert_non_null(strstr(err.msg, "schema version 99 is newer"));
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(f->db, SW_STORE_READONLY, &st, &err),
	    -1);
	assert_non_null(strstr(err.msg, "schema version 99 is newer"));
	/* untouched */
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(q1(db, "SELECT value FROM meta"), 99);
	assert_int_equal(q1(db, "SELECT count(*) FROM sqlite_master"), 3);
	sqlite3_close(db);
}

static void
test_corrupt_and_unwritable(void **state)
{
	struct fixture	*f = *state;
	struct sw_store	*st = NULL;
	struct sw_err	 err;
	unsigned char	 junk[8192];
	char		 path[256];
	size_t		 i;
	FILE		*fp;
	uint32_t	 x = 12345;

	for (i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245 + 12345;
		junk[i] = (unsigned char)(x >> 16);
	}
	assert_non_null(fp = fopen(f->db, "wb"));
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	fclose(fp);
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(f->db, 0, &st, &err), -1);
	assert_null(st);
	assert_non_null(strstr(err.msg, f->db));
	assert_non_null(strstr(err.msg, "not a database"));
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(f->db, SW_STORE_READONLY, &st, &err),
	    -1);
	assert_non_null(strstr(err.msg, "not a database"));

	/* a real header with garbage after it */
	memcpy(junk, "SQLite format 3", 16);
	assert_non_null(fp = fopen(f->db, "wb"));
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	fclose(fp);
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(f->db, 0, &st, &err), -1);
	assert_non_null(strstr(err.msg, f->db));

	/* a directory that does not exist */
	snprintf(path, sizeof(path), "%s/nope/t.db", f->dir);
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(path, 0, &st, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "No such file or directory"));
	/* a reader never creates */
	snprintf(path, sizeof(path), "%s/absent.db", f->dir);
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(path, SW_STORE_READONLY, &st, &err),
	    -1);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(access(path, F_OK), -1);
	/* a directory where the file should be */
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(f->dir, 0, &st, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));

	/* an unwritable directory (root ignores permissions: skip that) */
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/ro", f->dir);
		assert_int_equal(mkdir(path, 0500), 0);
		snprintf(path, sizeof(path), "%s/ro/t.db", f->dir);
		sw_err_clear(&err);
		assert_int_equal(sw_store_open(path, 0, &st, &err), -1);
		assert_non_null(strstr(err.msg, path));
		snprintf(path, sizeof(path), "%s/ro", f->dir);
		rmdir(path);
	}
}

static void
test_reader_beside_writer(void **state)
{
	struct fixture	*f = *state;
	struct sw_store	*st, *ro;
	struct sw_err	 err;
	struct coll	 c;
	int64_t		 id;
	char		 sql[256];

	st = open_rw(f->db);
	id = sw_store_series_id(st, "web", "rss", "", "bytes", 1, NULL);
	assert_int_equal(sw_store_add(st, id, T0, 1, NULL), 0);
	assert_int_equal(sw_store_flush(st, NULL), 0);

	/* the writer holds a write transaction: the reader still opens and
	 * reads the last committed state, without waiting */
	snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; INSERT INTO sample VALUES"
	    " (%" PRId64 ", %lld, 2)", id, T0 + 1000);
	assert_int_equal(sqlite3_exec(sw_store_db(st), sql, NULL, NULL, NULL),
	    SQLITE_OK);
	ro = open_ro(f->db);
	memset(&c, 0, sizeof(c));
	sw_err_clear(&err);
	assert_int_equal(sw_store_samples_each(ro, id, 0, INT64_MAX, coll_cb,
	    &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(sqlite3_exec(sw_store_db(st), "COMMIT", NULL, NULL,
	    NULL), SQLITE_OK);
	memset(&c, 0, sizeof(c));
	assert_int_equal(sw_store_samples_each(ro, id, 0, INT64_MAX, coll_cb,
	    &c, &err), 0);
	assert_int_equal(c.n, 2);
	/* and a reader does not stop the writer */
	assert_int_equal(sw_store_add(st, id, T0 + 2000, 3, NULL), 0);
	assert_int_equal(sw_store_flush(st, &err), 0);
	sw_store_close(ro);
	sw_store_close(st);
}

#define KILL_BATCH	500

/* Child: writes batches of KILL_BATCH samples forever, acking each
 * committed batch on fd; the parent SIGKILLs it. */
static void
kill_child(const char *path, int fd, int64_t base)
{
	struct sw_store	*st = NULL;
	int64_t		 id;
	int32_t		 b;
	int		 j;

	if (sw_store_open(path, 0, &st, NULL) == -1)
		_exit(3);
	if ((id = sw_store_series_id(st, "web", "rss", "", "bytes", 1, NULL))
	    <= 0)
		_exit(4);
	for (b = 0; b < 100000; b++) {
		for (j = 0; j < KILL_BATCH; j++)
			if (sw_store_add(st, id, base + (int64_t)b * KILL_BATCH
			    + j, b, NULL) == -1)
				_exit(5);
		if (sw_store_event(st, base + b, "web", "batch", b, NULL, NULL)
		    == -1 ||
		    sw_store_flush(st, NULL) == -1)
			_exit(6);
		if (write(fd, &b, sizeof(b)) != sizeof(b))
			_exit(7);
	}
	_exit(8);
}

static void
test_reopen_after_kill(void **state)
{
	struct fixture	*f = *state;
	struct sw_store	*st;
	sqlite3		*db;
	sqlite3_stmt	*s;
	int32_t		 b, last = -1;
	int		 fds[2], status, acks = 0, round;
	int64_t		 base, n;
	pid_t		 pid;
	char		 buf[64];

	/* three writers in turn on the same file, each killed */
	for (round = 0; round < 3; round++) {
		base = (int64_t)round * 1000000000;
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			kill_child(f->db, fds[1], base);
		}
		close(fds[1]);
		/* kill it at a varying point after some committed batches */
		acks = 0;
		while (acks < 5 + round * 7 &&
		    read(fds[0], &b, sizeof(b)) == sizeof(b)) {
			last = b;
			acks++;
		}
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			fail_msg("child exited %d before the kill",
			    WEXITSTATUS(status));
		while (read(fds[0], &b, sizeof(b)) == sizeof(b))
			last = b;	/* acks written before the kill */
		close(fds[0]);
		assert_true(last >= 4);

		/* every acknowledged batch is whole, the file is sound */
		st = open_rw(f->db);
		db = sw_store_db(st);
		assert_string_equal(q1s(db, "PRAGMA integrity_check", buf,
		    sizeof(buf)), "ok");
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*),"
		    " count(DISTINCT v) FROM sample WHERE ts >= ?1 AND ts < ?2",
		    -1, &s, NULL), SQLITE_OK);
		sqlite3_bind_int64(s, 1, base);
		sqlite3_bind_int64(s, 2, base + (int64_t)(last + 1) *
		    KILL_BATCH);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int64(s, 0),
		    (int64_t)(last + 1) * KILL_BATCH);
		assert_int_equal(sqlite3_column_int64(s, 1), last + 1);
		sqlite3_finalize(s);
		/* nothing half-written: whole batches, each with its event */
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*)"
		    " FROM sample WHERE ts >= ?1 AND ts < ?1 + 1000000000),"
		    " (SELECT count(*) FROM event WHERE ts >= ?1 AND"
		    " ts < ?1 + 1000000000)", -1, &s, NULL), SQLITE_OK);
		sqlite3_bind_int64(s, 1, base);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		n = sqlite3_column_int64(s, 0);
		assert_int_equal(n % KILL_BATCH, 0);
		assert_int_equal(n / KILL_BATCH, sqlite3_column_int64(s, 1));
		assert_true(n / KILL_BATCH >= last + 1);
		sqlite3_finalize(s);
		sw_store_close(st);
	}
}

static void
test_disk_full(void **state)
{
	struct fixture	*f = *state;
	struct sw_store	*st;
	struct sw_err	 err;
	sqlite3		*db;
	char		 sql[64];
	int64_t		 id, pages;
	int		 i;

	st = open_rw(f->db);
	db = sw_store_db(st);
	id = sw_store_series_id(st, "web", "rss", "", "bytes", 1, NULL);
	for (i = 0; i < 10; i++)
		assert_int_equal(sw_store_add(st, id, i, i, NULL), 0);
	assert_int_equal(sw_store_flush(st, NULL), 0);

	/* the file may not grow: the next big flush fails as a whole */
	pages = q1(db, "PRAGMA page_count");
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %" PRId64, pages);
	assert_int_equal(q1(db, sql), pages);
	for (i = 10; i < 20010; i++)
		assert_int_equal(sw_store_add(st, id, i, i * 0.5, NULL), 0);
	assert_int_equal(sw_store_event(st, 5, "web", "restart", 9, NULL, NULL),
	    0);
	sw_err_clear(&err);
	assert_int_equal(sw_store_flush(st, &err), -1);
	assert_non_null(strstr(err.msg, f->db));
	assert_non_null(strstr(err.msg, "full"));
	assert_non_null(strstr(err.msg, "20000 samples and 1 events kept"));
	assert_int_equal(sw_store_queued(st), 20001);
	assert_int_equal(q1(db, "SELECT count(*) FROM sample"), 10);
	/* still failing, still kept; more samples queue up meanwhile */
	assert_int_equal(sw_store_add(st, id, 20010, 1, NULL), 0);
	assert_int_equal(sw_store_flush(st, NULL), -1);
	assert_int_equal(sw_store_queued(st), 20002);

	/* room again: everything is written, nothing lost */
	assert_true(q1(db, "PRAGMA max_page_count = 1000000") > pages);
	assert_int_equal(sw_store_flush(st, &err), 0);
	assert_int_equal(sw_store_queued(st), 0);
	assert_int_equal(q1(db, "SELECT count(*) FROM sample"), 20011);
	assert_int_equal(q1(db, "SELECT count(*) FROM event"), 1);
	assert_int_equal(sw_store_dropped(st), 0);
	sw_store_close(st);
}

static void
test_retention_disk_full(void **state)
{
	struct fixture	*f = *state;
	struct sw_store	*st;
	struct sw_err	 err;
	sqlite3		*db;
	char		 sql[64];
	int64_t		 id, pages;
	int		 i;
	const struct sw_retention_level levels[] = { { 0, 2000000 } };

	st = open_rw(f->db);
	db = sw_store_db(st);
	id = sw_store_series_id(st, "web", "rss", "", "bytes", 1, NULL);
	for (i = 0; i < 30000; i++)
		assert_int_equal(sw_store_add(st, id, i, i, NULL), 0);
	assert_int_equal(sw_store_flush(st, NULL), 0);
	pages = q1(db, "PRAGMA page_count");
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %" PRId64, pages);
	assert_int_equal(q1(db, sql), pages);
	for (i = 0; i < 10000; i++)
		assert_int_equal(sw_store_add(st, id, 5000000 + i, i, NULL), 0);
	assert_int_equal(sw_store_flush(st, NULL), -1);

	/* the disk is full: retention reports it but still deletes, and the
	 * room it makes takes the queue on the next flush */
	sw_err_clear(&err);
	assert_int_equal(sw_store_retention(st, levels, 1, 2000000 + 30000,
	    &err), -1);
	assert_non_null(strstr(err.msg, "full"));
	assert_int_equal(q1(db, "SELECT count(*) FROM sample"), 0);
	assert_int_equal(sw_store_queued(st), 10000);
	assert_int_equal(sw_store_flush(st, &err), 0);
	assert_int_equal(q1(db, "SELECT count(*) FROM sample"), 10000);
	assert_true(q1(db, "PRAGMA page_count") <= pages);
	sw_store_close(st);
}

static void
test_queue_cap(void **state)
{
	struct fixture	*f = *state;
	struct sw_store	*st;
	struct sw_err	 err;
	int64_t		 id;
	int		 i;

	st = open_rw(f->db);
	id = sw_store_series_id(st, "a", "b", "", NULL, 1, NULL);
	sw_err_clear(&err);
	assert_int_equal(sw_store_add(st, id, 1, NAN, &err), -1);
	assert_non_null(strstr(err.msg, "not a number"));
	assert_int_equal(sw_store_add(st, 0, 1, 1, NULL), -1);
	assert_int_equal(sw_store_add(st, id, 1, INFINITY, NULL), 0);
	for (i = 1; i < SW_STORE_QUEUE_MAX; i++)
		assert_int_equal(sw_store_add(st, id, i + 1, i, NULL), 0);
	sw_err_clear(&err);
	for (i = 0; i < 5; i++)
		assert_int_equal(sw_store_add(st, id, -i, 0, &err), -1);
	assert_non_null(strstr(err.msg, "queue full"));
	assert_int_equal(sw_store_dropped(st), 5);
	assert_int_equal(sw_store_queued(st), SW_STORE_QUEUE_MAX);
	assert_int_equal(sw_store_flush(st, NULL), 0);
	assert_int_equal(q1(sw_store_db(st), "SELECT count(*) FROM sample"),
	    SW_STORE_QUEUE_MAX);
	assert_int_equal(q1(sw_store_db(st), "SELECT count(*) FROM sample"
	    " WHERE v > 1e308"), 1);	/* infinity kept */
	/* queue usable again after the flush */
	assert_int_equal(sw_store_add(st, id, -1, 0, NULL), 0);
	sw_store_close(st);	/* flushes */
	st = open_ro(f->db);
	assert_int_equal(q1(sw_store_db(st), "SELECT count(*) FROM sample"),
	    SW_STORE_QUEUE_MAX + 1);
	sw_store_close(st);
}

static void
test_fmt(void **state)
{
	char		 buf[64];
	double		 v;
	uint64_t	 x = 88172645463325252ULL;
	int		 i;

	(void)state;
	assert_string_equal(sw_store_fmt_value(buf, sizeof(buf), 0.1), "0.1");
	assert_string_equal(sw_store_fmt_value(buf, sizeof(buf), 812e6),
	    "812000000");
	assert_string_equal(sw_store_fmt_value(buf, sizeof(buf), 1.0 / 3),
	    "0.3333333333333333");
	assert_string_equal(sw_store_fmt_value(buf, sizeof(buf), 0.1 + 0.2),
	    "0.30000000000000004");
	assert_string_equal(sw_store_fmt_value(buf, sizeof(buf), INFINITY),
	    "+Inf");
	assert_string_equal(sw_store_fmt_value(buf, sizeof(buf), -INFINITY),
	    "-Inf");
	/* any double reads back exactly */
	for (i = 0; i < 10000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&v, &x, sizeof(v));
		if (!isfinite(v))
			continue;
		sw_store_fmt_value(buf, sizeof(buf), v);
		assert_true(strtod(buf, NULL) == v);
	}
	assert_string_equal(sw_store_fmt_time(buf, sizeof(buf), T0 + 7),
	    "2023-11-14T22:14:00.007Z");
	assert_string_equal(sw_store_fmt_time(buf, sizeof(buf), -1),
	    "1969-12-31T23:59:59.999Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_ts_replace, setup,
		    teardown),
		cmocka_unit_test(test_series_names),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_chunks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_version, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_and_unwritable,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_beside_writer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_kill, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_disk_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queue_cap, setup, teardown),
		cmocka_unit_test(test_fmt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
