#include "config.h"
/*
 * test_outbox.c: the durable outbox on a real SQLite file (a store made by
 * sw_store_open in a temp dir): enqueue inside a caller's transaction
 * (rollback leaves nothing), the schema version row, crashes simulated by
 * fork + SIGKILL between the write and the delivery, between the answer
 * and its record, and after the record (no loss; a duplicate with the same
 * idempotency key only in the second case; never a re-send after the
 * record), strict per-destination order with a retrying head, grouping and
 * pinned groups, the rate limit, backoff with a fake clock, Retry-After,
 * max age, permanent and disabling failures, pruning, status on a
 * read-only connection, and silences.
 *
 * Delivery goes through a fake transport (the test answers each request),
 * so every interleaving is exact.
 */
#include <sys/types.h>
#include <sys/wait.h>

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

#include "slopewatch/buf.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/http.h"
#include "slopewatch/log.h"
#include "slopewatch/outbox.h"
#include "slopewatch/store.h"

#define T0	1700000000000LL

/* ------------------------------------------------------------------ */
/* fixtures                                                             */

static char	 tmpdir[256];
static char	 dbpath[300];
static char	 sendlog[300];	/* the "receiver": one key per line */

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sw-outbox.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/sw.db", tmpdir);
	snprintf(sendlog, sizeof(sendlog), "%s/sent", tmpdir);
	sw_clock_set_fake(1000000, T0);
	sw_log_set_level(SW_LOG_ERROR);
	return 0;
}

static int
teardown(void **state)
{
	char	p[400];

	(void)state;
	snprintf(p, sizeof(p), "%s/sw.db-wal", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sw.db-shm", tmpdir);
	unlink(p);
	unlink(dbpath);
	unlink(sendlog);
	rmdir(tmpdir);
	sw_clock_set_fake(-1, 0);
	return 0;
}

static struct sw_store *
open_store(void)
{
	struct sw_store	*st = NULL;
	struct sw_err	 err;

	sw_err_clear(&err);
	if (sw_store_open(dbpath, 0, &st, &err) == -1)
		fail_msg("%s", err.msg);
	if (sw_outbox_schema(sw_store_db(st), &err) == -1)
		fail_msg("%s", err.msg);
	return st;
}

/* A fake transport: requests wait until the test answers them. */
#define FAKE_MAX	64
struct fake_req {
	char			 key[64];
	char			 body[4096];
	sw_http_done_cb		 cb;
	void			*arg;
	int			 open;
	int64_t			 at;
};
struct fake {
	struct fake_req	 r[FAKE_MAX];
	int		 n;
	int		 log;	/* append keys to sendlog */
};

static void *
fake_start(void *arg, const struct sw_http_req *req,
    void (*cb)(const struct sw_http_result *, void *), void *cbarg,
    struct sw_err *err)
{
	struct fake	*f = arg;
	struct fake_req	*r;
	int		 i;
	FILE		*fp;

	if (f->n >= FAKE_MAX) {
		sw_err_set(err, "fake: full");
		return NULL;
	}
	r = &f->r[f->n++];
	memset(r, 0, sizeof(*r));
	for (i = 0; req->headers != NULL && i < req->headers->n; i++)
		if (strncmp(req->headers->v[i], "Idempotency-Key: ", 17) == 0)
			snprintf(r->key, sizeof(r->key), "%s",
			    req->headers->v[i] + 17);
	snprintf(r->body, sizeof(r->body), "%.*s", (int)req->body_len,
	    req->body);
	r->cb = cb;
	r->arg = cbarg;
	r->open = 1;
	r->at = sw_clock_wall_ms();
	if (f->log && (fp = fopen(sendlog, "a")) != NULL) {
		fprintf(fp, "%s\n", r->key);
		fclose(fp);
	}
	return r;
}

static void
fake_cancel(void *arg, void *x)
{
	struct fake_req	*r = x;

	(void)arg;
	r->open = 0;
}

/* Answers request i. */
static void
fake_answer(struct fake *f, int i, long status, int64_t retry_after_ms,
    const char *body)
{
	struct sw_http_result	 res;
	struct sw_buf		 b;

	assert_true(i < f->n);
	assert_true(f->r[i].open);
	f->r[i].open = 0;
	memset(&res, 0, sizeof(res));
	sw_buf_init(&b, 1024);
	sw_buf_adds(&b, body != NULL ? body : "");
	res.status = status;
	res.fail = status > 0 ? SW_HTTP_OK : SW_HTTP_REFUSED;
	if (status == 0)
		snprintf(res.error, sizeof(res.error), "connection refused");
	res.body = &b;
	res.retry_after_ms = retry_after_ms;
	f->r[i].cb(&res, f->r[i].arg);
	sw_buf_release(&b);
}

static int
fake_open(const struct fake *f)
{
	int	i, n = 0;

	for (i = 0; i < f->n; i++)
		n += f->r[i].open;
	return n;
}

/* A destination that sends the documents joined by '|'. */
static int
d_render(void *arg, const struct sw_outbox_item *items, int n,
    const char *key, int64_t now_ms, int resend,
    struct sw_outbox_request *req, struct sw_err *err)
{
	int	i;

	(void)arg;
	(void)key;
	(void)now_ms;
	req->url = "http://127.0.0.1:1/hook/SECRETPATH";
	if (resend)
		sw_buf_adds(&req->body, "resend:");
	for (i = 0; i < n; i++)
		if (sw_buf_addf(&req->body, "%s%s", i ? "|" : "",
		    items[i].doc) == -1)
			return sw_err_set(err, "render: too big");
	return 0;
}

static enum sw_outbox_verdict
d_judge(void *arg, const struct sw_http_result *res, char *why, size_t whysz)
{
	(void)arg;
	if (res->status >= 200 && res->status < 300)
		return SW_OUTBOX_OK;
	snprintf(why, whysz, "HTTP %ld: %s", res->status,
	    res->body != NULL ? sw_buf_str(res->body) : "");
	if (res->status == 0 || res->status == 429 || res->status >= 500)
		return SW_OUTBOX_RETRY;
	if (res->status == 410)
		return SW_OUTBOX_DISABLE;
	return SW_OUTBOX_PERMANENT;
}

static const struct sw_outbox_dest_ops d_ops = {
	.render = d_render,
	.judge = d_judge,
};

static int64_t	engine_max_age_ms;	/* the next engine's dest max-age */

static struct sw_outbox *
engine(struct sw_store *st, struct fake *f, int64_t min_interval,
    int group_max, uint64_t seed)
{
	struct sw_outbox		*ob;
	struct sw_outbox_dest		 d;
	struct sw_outbox_opts		 o;
	struct sw_outbox_transport	 t;
	struct sw_err			 err;

	memset(&o, 0, sizeof(o));
	o.seed = seed;
	sw_err_clear(&err);
	if (sw_outbox_new(sw_store_db(st), NULL, NULL, &o, &ob, &err) == -1)
		fail_msg("%s", err.msg);
	t.start = fake_start;
	t.cancel = fake_cancel;
	t.arg = f;
	sw_outbox_set_transport(ob, &t);
	memset(&d, 0, sizeof(d));
	d.name = "hook";
	d.url = "http://127.0.0.1:1/hook/SECRETPATH";
	d.ops = &d_ops;
	d.min_interval_ms = min_interval;
	d.group_max = group_max;
	d.max_age_ms = engine_max_age_ms;
	if (sw_outbox_add_dest(ob, &d, &err) == -1)
		fail_msg("%s", err.msg);
	return ob;
}

static int64_t
enq(struct sw_store *st, const char *rule, const char *event,
    const char *group, const char *doc, char *key)
{
	struct sw_outbox_msg	 m;
	struct sw_err		 err;
	int64_t			 id = 0;

	memset(&m, 0, sizeof(m));
	m.notifier = "hook";
	m.rule = rule;
	m.event = event;
	m.group_key = group;
	m.doc = doc;
	m.created_ms = sw_clock_wall_ms();
	m.not_before_ms = m.created_ms;
	sw_err_clear(&err);
	if (sw_outbox_enqueue(sw_store_db(st), &m, &id, key, &err) == -1)
		fail_msg("%s", err.msg);
	return id;
}

struct counts {
	int	pending, delivered, failed;
	char	state[8][16];
	int64_t	attempts[8];
	int64_t	next[8];
	char	err[8][SW_OUTBOX_ERROR_MAX];
	int	n;
};

static int
count_cb(const struct sw_outbox_row *r, void *arg)
{
	struct counts	*c = arg;

	if (strcmp(r->state, "pending") == 0)
		c->pending++;
	else if (strcmp(r->state, "delivered") == 0)
		c->delivered++;
	else
		c->failed++;
	if (c->n < 8) {
		snprintf(c->state[c->n], sizeof(c->state[0]), "%s", r->state);
		c->attempts[c->n] = r->attempts;
		c->next[c->n] = r->next_ms;
		snprintf(c->err[c->n], sizeof(c->err[0]), "%s", r->last_error);
	}
	c->n++;
	return 0;
}

static struct counts
counts(struct sw_store *st)
{
	struct counts	c;
	struct sw_err	err;

	memset(&c, 0, sizeof(c));
	sw_err_clear(&err);
	assert_int_equal(sw_outbox_rows_each(sw_store_db(st), "hook",
	    count_cb, &c, &err), 0);
	return c;
}

/* ------------------------------------------------------------------ */
/* tests                                                                */

static void
test_schema_and_txn(void **state)
{
	struct sw_store	*st;
	struct sw_err	 err;
	sqlite3		*db;
	sqlite3_stmt	*q;
	struct counts	 c;

	(void)state;
	st = open_store();
	db = sw_store_db(st);
	/* idempotent */
	assert_int_equal(sw_outbox_schema(db, NULL), 0);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE"
	    " key = 'outbox_version'", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), SW_OUTBOX_VERSION);
	sqlite3_finalize(q);

	/* inside the caller's transaction: rolled back with it */
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	enq(st, "r1", "firing", NULL, "{\"a\":1}", NULL);
	enq(st, "r1", "resolved", NULL, "{\"a\":2}", NULL);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	c = counts(st);
	assert_int_equal(c.n, 0);
	assert_int_equal(sw_outbox_alert_known(db, "hook", "r1", NULL), -1);
	/* and committed with it */
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	enq(st, "r1", "firing", NULL, "{\"a\":1}", NULL);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	c = counts(st);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.pending, 1);
	assert_int_equal(sw_outbox_alert_known(db, "hook", "r1", NULL), 1);

	/* a newer outbox version is refused */
	assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = 99 WHERE"
	    " key = 'outbox_version'", NULL, NULL, NULL), SQLITE_OK);
	sw_err_clear(&err);
	assert_int_equal(sw_outbox_schema(db, &err), -1);
	assert_non_null(strstr(err.msg, "newer"));
	sw_store_close(st);
}

static int	 crash_point;

static void
crash_hook(enum sw_outbox_point p, int64_t id, void *arg)
{
	(void)id;
	(void)arg;
	if ((int)p == crash_point)
		raise(SIGKILL);
}

/* Runs the writer in a child killed at point (-1: right after the
 * commit, before any delivery). */
static void
run_crash(int point)
{
	pid_t	pid;
	int	status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sw_store		*st;
		struct sw_outbox	*ob;
		struct fake		 f;

		memset(&f, 0, sizeof(f));
		f.log = 1;
		st = open_store();
		sqlite3_exec(sw_store_db(st), "BEGIN IMMEDIATE", NULL, NULL,
		    NULL);
		enq(st, "r1", "firing", NULL, "{\"n\":1}", NULL);
		sqlite3_exec(sw_store_db(st), "COMMIT", NULL, NULL, NULL);
		if (point < 0)
			raise(SIGKILL);
		ob = engine(st, &f, 0, 0, 1);
		crash_point = point;
		sw_outbox_set_hook(ob, crash_hook, NULL);
		sw_outbox_tick(ob);	/* AT_SENT may kill here */
		if (f.n != 1)
			_exit(3);
		fake_answer(&f, 0, 200, -1, "ok");	/* or here */
		_exit(5);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* Keys the receiver got, in order. */
static int
sent_keys(char keys[][64], int max)
{
	FILE	*fp;
	char	 line[60];
	int	 n = 0;

	if ((fp = fopen(sendlog, "r")) == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(keys[n++], 64, "%s", line);
	}
	fclose(fp);
	return n;
}

/* After a crash: a fresh engine delivers what waits; returns the count of
 * requests it made. */
static int
recover(void)
{
	struct sw_store		*st;
	struct sw_outbox	*ob;
	struct fake		 f;
	int			 i, n;

	memset(&f, 0, sizeof(f));
	f.log = 1;
	st = open_store();
	ob = engine(st, &f, 0, 0, 2);
	sw_outbox_tick(ob);
	for (i = 0; i < f.n; i++)
		if (f.r[i].open)
			fake_answer(&f, i, 200, -1, "ok");
	n = f.n;
	sw_outbox_free(ob);
	sw_store_close(st);
	return n;
}

static void
test_crash_before_delivery(void **state)
{
	char		 keys[8][64];
	struct sw_store	*st;
	struct counts	 c;

	(void)state;
	run_crash(-1);
	assert_int_equal(sent_keys(keys, 8), 0);
	assert_int_equal(recover(), 1);		/* not lost */
	assert_int_equal(sent_keys(keys, 8), 1);
	assert_int_equal(recover(), 0);		/* and not again */
	st = open_store();
	c = counts(st);
	assert_int_equal(c.delivered, 1);
	assert_int_equal(c.pending, 0);
	sw_store_close(st);
}

static void
test_crash_after_send(void **state)
{
	char	keys[8][64];

	(void)state;
	/* killed once the request is out, before any answer */
	run_crash(SW_OUTBOX_AT_SENT);
	assert_int_equal(sent_keys(keys, 8), 1);
	assert_int_equal(recover(), 1);
	assert_int_equal(sent_keys(keys, 8), 2);
	assert_string_equal(keys[0], keys[1]);
	assert_int_equal(recover(), 0);
}

static void
test_crash_before_ack(void **state)
{
	char		 keys[8][64];
	struct counts	 c;
	struct sw_store	*st;

	(void)state;
	/* the 2xx arrived, the process died before recording it */
	run_crash(SW_OUTBOX_AT_ANSWERED);
	assert_int_equal(sent_keys(keys, 8), 1);
	assert_int_equal(recover(), 1);		/* a duplicate ... */
	assert_int_equal(sent_keys(keys, 8), 2);
	assert_string_equal(keys[0], keys[1]);	/* ... with the same key */
	assert_int_equal(strncmp(keys[0], "msg_", 4), 0);
	assert_int_equal(strlen(keys[0]), SW_OUTBOX_KEY_LEN);
	assert_int_equal(recover(), 0);
	st = open_store();
	c = counts(st);
	assert_int_equal(c.delivered, 1);
	sw_store_close(st);
}

static void
test_crash_after_record(void **state)
{
	char	keys[8][64];

	(void)state;
	run_crash(SW_OUTBOX_AT_RECORDED);
	assert_int_equal(sent_keys(keys, 8), 1);
	assert_int_equal(recover(), 0);		/* never re-sent */
	assert_int_equal(sent_keys(keys, 8), 1);
}

static void
test_order_and_retry(void **state)
{
	struct sw_store		*st;
	struct sw_outbox	*ob;
	struct fake		 f;
	struct counts		 c;
	int64_t			 d, t;

	(void)state;
	memset(&f, 0, sizeof(f));
	st = open_store();
	ob = engine(st, &f, 0, 1, 7);
	enq(st, "r1", "firing", NULL, "F1", NULL);
	enq(st, "r1", "resolved", NULL, "R1", NULL);
	sw_outbox_tick(ob);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.r[0].body, "F1");
	sw_outbox_tick(ob);
	assert_int_equal(f.n, 1);		/* one in flight */
	t = sw_clock_wall_ms();
	fake_answer(&f, 0, 503, -1, "busy");	/* retry, backoff */
	c = counts(st);
	assert_string_equal(c.state[0], "pending");
	assert_int_equal(c.attempts[0], 1);
	d = c.next[0] - t;
	assert_true(d >= SW_OUTBOX_BACKOFF_BASE_MS / 2 &&
	    d <= SW_OUTBOX_BACKOFF_BASE_MS);
	assert_non_null(strstr(c.err[0], "HTTP 503"));
	/* the resolve never overtakes the retrying trigger */
	sw_outbox_tick(ob);
	assert_int_equal(f.n, 1);
	sw_clock_advance_us(d * 1000);
	sw_outbox_tick(ob);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.r[1].body, "F1");
	fake_answer(&f, 1, 200, -1, "");	/* kicks the next one */
	assert_int_equal(f.n, 3);
	assert_string_equal(f.r[2].body, "R1");
	assert_string_equal(f.r[1].key, f.r[0].key);	/* stable key */
	assert_string_not_equal(f.r[2].key, f.r[0].key);
	fake_answer(&f, 2, 200, -1, "");
	c = counts(st);
	assert_int_equal(c.delivered, 2);

	/* 429 with Retry-After: exactly that long */
	enq(st, "r2", "firing", NULL, "F2", NULL);
	sw_outbox_tick(ob);
	assert_int_equal(f.n, 4);
	t = sw_clock_wall_ms();
	fake_answer(&f, 3, 429, 7000, "slow down");
	c = counts(st);
	assert_int_equal(c.next[2] - t, 7000);
	sw_clock_advance_us(6999 * 1000);
	sw_outbox_tick(ob);
	assert_int_equal(f.n, 4);
	sw_clock_advance_us(1000);
	sw_outbox_tick(ob);
	assert_int_equal(f.n, 5);
	fake_answer(&f, 4, 200, -1, "");

	/* permanent: 400 fails at once, kept, the queue moves on */
	enq(st, "r3", "firing", NULL, "F3", NULL);
	enq(st, "r4", "firing", NULL, "F4", NULL);
	sw_outbox_tick(ob);
	fake_answer(&f, 5, 400, -1, "invalid_payload");
	assert_int_equal(f.n, 7);
	assert_string_equal(f.r[6].body, "F4");
	fake_answer(&f, 6, 200, -1, "");
	c = counts(st);
	assert_int_equal(c.failed, 1);
	assert_string_equal(c.state[3], "failed");
	assert_non_null(strstr(c.err[3], "invalid_payload"));
	sw_outbox_free(ob);
	sw_store_close(st);
}

static void
test_backoff_and_max_age(void **state)
{
	struct sw_store		*st;
	struct sw_outbox	*ob;
	struct fake		 f;
	struct counts		 c;
	int64_t			 d;
	int			 i;

	(void)state;
	/* the schedule: base * 2^(n-1), capped, equal jitter */
	assert_int_equal(sw_outbox_backoff_ms(5000, 3600000, 1, 0), 2500);
	assert_int_equal(sw_outbox_backoff_ms(5000, 3600000, 1, 0.999999),
	    4999);
	assert_int_equal(sw_outbox_backoff_ms(5000, 3600000, 2, 0), 5000);
	assert_int_equal(sw_outbox_backoff_ms(5000, 3600000, 5, 0), 40000);
	assert_int_equal(sw_outbox_backoff_ms(5000, 3600000, 20, 0), 1800000);
	assert_int_equal(sw_outbox_backoff_ms(5000, 3600000, 62, 0.5),
	    2700000);

	memset(&f, 0, sizeof(f));
	st = open_store();
	ob = engine(st, &f, 0, 1, 11);
	enq(st, "r1", "firing", NULL, "F", NULL);
	/* fail for 24 h: each wait in its window, then it gives up */
	for (i = 0; i < 200; i++) {
		int64_t	 t, lo, hi, full;

		sw_outbox_tick(ob);
		if (f.n == i)
			break;
		t = sw_clock_wall_ms();
		fake_answer(&f, i, 0, -1, NULL);	/* refused */
		c = counts(st);
		if (strcmp(c.state[0], "failed") == 0)
			break;
		{
			int k;

			full = SW_OUTBOX_BACKOFF_BASE_MS;
			for (k = 0; k < i && full < SW_OUTBOX_BACKOFF_CAP_MS;
			    k++)
				full *= 2;
			if (full > SW_OUTBOX_BACKOFF_CAP_MS)
				full = SW_OUTBOX_BACKOFF_CAP_MS;
		}
		lo = full / 2;
		hi = full;
		d = c.next[0] - t;
		assert_true(d >= lo && d <= hi);
		sw_clock_advance_us(d * 1000);
	}
	c = counts(st);
	assert_string_equal(c.state[0], "failed");
	assert_non_null(strstr(c.err[0], "gave up"));
	/* it gave up within the max age, after more than a dozen tries */
	assert_true(sw_clock_wall_ms() - T0 <= SW_OUTBOX_MAX_AGE_MS);
	assert_true(c.attempts[0] > 12);
	sw_outbox_free(ob);
	sw_store_close(st);
}

/* A notifier's own max-age (notify block `max-age 2m`) replaces the 24 h
 * default: a message that cannot be delivered fails after two minutes. */
static void
test_dest_max_age(void **state)
{
	struct sw_store		*st;
	struct sw_outbox	*ob;
	struct fake		 f;
	struct counts		 c;
	int			 i;

	(void)state;
	memset(&f, 0, sizeof(f));
	st = open_store();
	engine_max_age_ms = 2 * 60 * 1000;
	ob = engine(st, &f, 0, 1, 11);
	engine_max_age_ms = 0;
	enq(st, "r1", "firing", NULL, "F", NULL);
	for (i = 0; i < 50; i++) {
		sw_outbox_tick(ob);
		if (f.n == i)
			break;
		fake_answer(&f, i, 0, -1, NULL);	/* refused */
		c = counts(st);
		if (strcmp(c.state[0], "failed") == 0)
			break;
		sw_clock_advance_us((c.next[0] - sw_clock_wall_ms()) * 1000);
	}
	c = counts(st);
	assert_string_equal(c.state[0], "failed");
	assert_true(sw_clock_wall_ms() - T0 <= 2 * 60 * 1000);
	assert_true(c.attempts[0] >= 3 && c.attempts[0] < 12);
	sw_outbox_free(ob);
	sw_store_close(st);
}

static void
test_group_rate_prune(void **state)
{
	struct sw_store		*st;
	struct sw_outbox	*ob;
	struct fake		 f;
	struct counts		 c;
	struct sw_outbox_msg	 m;
	int			 i;

	(void)state;
	memset(&f, 0, sizeof(f));
	st = open_store();
	ob = engine(st, &f, 1000, 0, 3);
	/* three alerts of target web fire together, one of db, and a
	 * resolve of a web rule: the web firings are one message */
	memset(&m, 0, sizeof(m));
	m.notifier = "hook";
	m.created_ms = sw_clock_wall_ms();
	m.not_before_ms = m.created_ms + 3000;
	m.group_key = "target:web";
	m.event = "firing";
	m.rule = "a";
	m.doc = "A";
	assert_int_equal(sw_outbox_enqueue(sw_store_db(st), &m, NULL, NULL,
	    NULL), 0);
	m.rule = "z";
	m.event = "resolved";
	m.doc = "Zr";
	assert_int_equal(sw_outbox_enqueue(sw_store_db(st), &m, NULL, NULL,
	    NULL), 0);
	m.event = "firing";
	m.rule = "b";
	m.doc = "B";
	assert_int_equal(sw_outbox_enqueue(sw_store_db(st), &m, NULL, NULL,
	    NULL), 0);
	m.group_key = "target:db";
	m.rule = "d";
	m.doc = "D";
	assert_int_equal(sw_outbox_enqueue(sw_store_db(st), &m, NULL, NULL,
	    NULL), 0);
	m.group_key = "target:web";
	m.rule = "z";		/* after its own resolve: must not jump it */
	m.doc = "Zf";
	assert_int_equal(sw_outbox_enqueue(sw_store_db(st), &m, NULL, NULL,
	    NULL), 0);
	sw_outbox_tick(ob);
	assert_int_equal(f.n, 0);		/* the grouping window */
	sw_clock_advance_us(3000 * 1000);
	sw_outbox_tick(ob);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.r[0].body, "A|B");
	fake_answer(&f, 0, 200, -1, "");
	assert_int_equal(f.n, 1);		/* rate limit: 1/s */
	sw_clock_advance_us(1000 * 1000);
	sw_outbox_tick(ob);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.r[1].body, "Zr");
	fake_answer(&f, 1, 200, -1, "");
	sw_clock_advance_us(1000 * 1000);
	sw_outbox_tick(ob);
	assert_string_equal(f.r[2].body, "D");
	fake_answer(&f, 2, 200, -1, "");
	sw_clock_advance_us(1000 * 1000);
	sw_outbox_tick(ob);
	assert_string_equal(f.r[3].body, "Zf");
	fake_answer(&f, 3, 200, -1, "");
	c = counts(st);
	assert_int_equal(c.delivered, 5);
	sw_outbox_free(ob);

	/* finished rows are pruned to SW_OUTBOX_KEEP_DONE */
	memset(&f, 0, sizeof(f));
	ob = engine(st, &f, 0, 1, 4);
	sqlite3_exec(sw_store_db(st), "BEGIN", NULL, NULL, NULL);
	for (i = 0; i < SW_OUTBOX_KEEP_DONE + 20; i++)
		enq(st, "r", "firing", NULL, "x", NULL);
	sqlite3_exec(sw_store_db(st), "COMMIT", NULL, NULL, NULL);
	for (i = 0; i < SW_OUTBOX_KEEP_DONE + 20; i++) {
		struct fake_req *r;

		sw_outbox_tick(ob);
		assert_int_equal(fake_open(&f), 1);
		r = &f.r[(f.n - 1)];
		fake_answer(&f, f.n - 1, 200, -1, "");
		(void)r;
		if (f.n >= FAKE_MAX - 1) {	/* keep the open one only */
			f.r[0] = f.r[f.n - 1];
			f.n = 1;
		}
	}
	c = counts(st);
	assert_int_equal(c.n, SW_OUTBOX_KEEP_DONE);
	assert_int_equal(c.pending, 0);
	sw_outbox_free(ob);
	sw_store_close(st);
}

static int
status_cb(const struct sw_outbox_status *s, void *arg)
{
	struct sw_outbox_status	*out = arg;
	static char		 e[SW_OUTBOX_ERROR_MAX];

	*out = *s;
	snprintf(e, sizeof(e), "%s", s->last_error);
	out->last_error = e;
	out->notifier = "hook";
	return 0;
}

static void
test_status_disable_redact(void **state)
{
	struct sw_store		*st, *ro = NULL;
	struct sw_outbox	*ob;
	struct fake		 f;
	struct sw_outbox_status	 s;
	struct sw_err		 err;
	char			 buf[256];

	(void)state;
	memset(&f, 0, sizeof(f));
	st = open_store();
	ob = engine(st, &f, 0, 1, 5);
	enq(st, "r1", "firing", NULL, "1", NULL);
	enq(st, "r2", "firing", NULL, "2", NULL);
	enq(st, "r3", "firing", NULL, "3", NULL);
	sw_outbox_tick(ob);
	/* an error that echoes the URL's secret path: scrubbed */
	fake_answer(&f, 0, 500, -1, "no route for /hook/SECRETPATH");
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(dbpath, SW_STORE_READONLY, &ro, &err),
	    0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(sw_outbox_status_each(sw_store_db(ro), status_cb, &s,
	    &err), 0);
	assert_int_equal(s.pending, 2);
	assert_int_equal(s.retrying, 1);
	assert_true(s.next_attempt_ms > sw_clock_wall_ms());
	assert_non_null(strstr(s.last_error, "HTTP 500"));
	assert_null(strstr(s.last_error, "SECRETPATH"));
	assert_int_equal(s.last_status, 500);
	/* 410: failed, the destination stops */
	sw_clock_advance_us(10 * 1000 * 1000);
	sw_outbox_tick(ob);
	fake_answer(&f, 1, 410, -1, "gone");
	sw_clock_advance_us(10 * 1000 * 1000);
	sw_outbox_tick(ob);
	assert_int_equal(f.n, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(sw_outbox_status_each(sw_store_db(ro), status_cb, &s,
	    &err), 0);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.pending + s.retrying, 2);
	sw_store_close(ro);
	sw_outbox_free(ob);
	sw_store_close(st);

	assert_string_equal(sw_outbox_redact_url(buf, sizeof(buf),
	    "https://hooks.slack.com/services/T0/B0/XYZ"),
	    "https://hooks.slack.com/<redacted>");
	assert_string_equal(sw_outbox_redact_url(buf, sizeof(buf),
	    "http://user:pw@127.0.0.1:9093?x=1"),
	    "http://127.0.0.1:9093/<redacted>");
	assert_string_equal(sw_outbox_redact_url(buf, sizeof(buf), "junk"),
	    "<redacted>");
	snprintf(buf, sizeof(buf), "a KEY b KEYKEY c");
	sw_outbox_scrub(buf, sizeof(buf), "KEY");	/* too short: kept */
	assert_string_equal(buf, "a KEY b KEYKEY c");
	snprintf(buf, sizeof(buf), "a SKEY b SKEYSKEY c");
	sw_outbox_scrub(buf, sizeof(buf), "SKEY");
	assert_string_equal(buf, "a <redacted> b <redacted><redacted> c");
	snprintf(buf, 16, "xxxxxxxxxxSKEY");
	sw_outbox_scrub(buf, 16, "SKEY");		/* no room: cut */
	assert_null(strstr(buf, "SKEY"));
}

static int
sil_cb(const struct sw_silence *s, void *arg)
{
	int	*n = arg;

	(void)s;
	(*n)++;
	return 0;
}

static void
test_silences(void **state)
{
	struct sw_store	*st;
	sqlite3		*db;
	int64_t		 id, id2, until;
	char		 reason[64];
	int		 n;

	(void)state;
	st = open_store();
	db = sw_store_db(st);
	assert_int_equal(sw_silence_add(db, "web-leak", T0, T0 + 3600000,
	    "deploy", "me", &id, NULL), 0);
	assert_int_equal(sw_silence_add(db, "db*", T0, T0 + 60000, "maint",
	    "me", &id2, NULL), 0);
	assert_int_equal(sw_silence_add(db, "x", T0, T0, "", "", NULL, NULL),
	    -1);
	assert_int_equal(sw_silence_match(db, "web-leak", "web", T0 + 1, &id2,
	    &until, reason, sizeof(reason), NULL), 1);
	assert_int_equal(id2, id);
	assert_int_equal(until, T0 + 3600000);
	assert_string_equal(reason, "deploy");
	/* by target, by pattern */
	assert_int_equal(sw_silence_match(db, "other", "db-main", T0 + 1, NULL,
	    NULL, NULL, 0, NULL), 1);
	assert_int_equal(sw_silence_match(db, "other", "web", T0 + 1, NULL,
	    NULL, NULL, 0, NULL), 0);
	/* expired */
	assert_int_equal(sw_silence_match(db, "other", "db-main", T0 + 60000,
	    NULL, NULL, NULL, 0, NULL), 0);
	n = 0;
	assert_int_equal(sw_silence_each(db, T0 + 60000, 0, sil_cb, &n, NULL),
	    0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(sw_silence_each(db, T0 + 60000, 1, sil_cb, &n, NULL),
	    0);
	assert_int_equal(n, 2);
	assert_int_equal(sw_silence_rm(db, id, NULL), 1);
	assert_int_equal(sw_silence_rm(db, id, NULL), 0);
	assert_int_equal(sw_silence_match(db, "web-leak", "web", T0 + 1, NULL,
	    NULL, NULL, 0, NULL), 0);
	sw_store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_and_txn, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_delivery,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_send, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_ack, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order_and_retry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dest_max_age,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff_and_max_age,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_rate_prune, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_disable_redact,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
