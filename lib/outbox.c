#include "config.h"
/*
 * outbox.c: the durable notification outbox and its delivery engine.
 *
 * Invariants:
 * - The outbox tables live in the store's file but are this module's own:
 *   created with CREATE TABLE IF NOT EXISTS, versioned by the meta row
 *   'outbox_version'. store.c's migrations never see them.
 * - A row goes pending -> delivered | failed and never back. "delivered" is
 *   written only after the destination judged a response a success, in one
 *   small transaction per result; nothing is recorded when a request starts,
 *   so a crash before the record re-sends (same msg_key), a crash after it
 *   never does.
 * - Per destination at most one request is in flight, and it always carries
 *   the oldest pending row (with the rows of its group): strict order.
 * - A group is pinned (column batch = id of its head) in a transaction
 *   before its first send, so every retry, also after a restart, is the same
 *   message under the same key (the head's msg_key).
 * - Times in rows are wall-clock ms (they must survive restarts); the loop
 *   timer is armed on the monotonic clock for the nearest due time.
 * - Error texts are scrubbed of the destination's secrets before they are
 *   logged or stored; URLs are only ever shown as scheme://host/<redacted>.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/http.h"
#include "slopewatch/log.h"
#include "slopewatch/loop.h"
#include "slopewatch/outbox.h"

#define OB_MAX_DESTS		256
#define OB_SCAN_MAX		200	/* rows looked at to form a group */
#define OB_EXPIRE_MAX		100	/* expired rows failed per pass */
#define OB_RESEND_MAX		200	/* alerts in one re-post */
#define OB_NAME_LONG		1024	/* group key, target */

static const char ob_schema[] =
    "CREATE TABLE IF NOT EXISTS outbox ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " notifier TEXT NOT NULL, msg_key TEXT NOT NULL UNIQUE,"
    " rule TEXT NOT NULL DEFAULT '', event TEXT NOT NULL,"
    " group_key TEXT, target TEXT, doc TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'pending',"
    " batch INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL, not_before_ms INTEGER NOT NULL,"
    " next_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " last_status INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " last_ms INTEGER NOT NULL DEFAULT 0, done_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS outbox_queue ON outbox(notifier, state, id);"
    "CREATE TABLE IF NOT EXISTS outbox_alert ("
    " notifier TEXT NOT NULL, rule TEXT NOT NULL, state TEXT NOT NULL,"
    " target TEXT, doc TEXT NOT NULL, updated_ms INTEGER NOT NULL,"
    " resolved_ms INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(notifier, rule)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS silence ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, matcher TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, until_ms INTEGER NOT NULL,"
    " reason TEXT NOT NULL DEFAULT '', author TEXT NOT NULL DEFAULT '');";

/* ------------------------------------------------------------------ */
/* small SQLite helpers                                                 */

static int
ob_sqlerr(sqlite3 *db, struct sw_err *err, const char *what)
{
	return sw_err_set(err, "outbox: %s: %s", what, sqlite3_errmsg(db));
}

static int
ob_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q, struct sw_err *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, q, NULL) != SQLITE_OK) {
		*q = NULL;
		return ob_sqlerr(db, err, "prepare");
	}
	return 0;
}

static int
ob_exec(sqlite3 *db, const char *sql, struct sw_err *err, const char *what)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ob_sqlerr(db, err, what);
	return 0;
}

static int
ob_savepoint(sqlite3 *db, const char *name, struct sw_err *err)
{
	char	sql[64];

	snprintf(sql, sizeof(sql), "SAVEPOINT %s", name);
	return ob_exec(db, sql, err, "savepoint");
}

static int
ob_release(sqlite3 *db, const char *name, int ok, struct sw_err *err)
{
	char	sql[96];

	if (!ok) {
		snprintf(sql, sizeof(sql), "ROLLBACK TO %s; RELEASE %s", name,
		    name);
		sqlite3_exec(db, sql, NULL, NULL, NULL);
		return -1;
	}
	snprintf(sql, sizeof(sql), "RELEASE %s", name);
	if (ob_exec(db, sql, err, "commit") == -1) {
		snprintf(sql, sizeof(sql), "ROLLBACK TO %s; RELEASE %s", name,
		    name);
		sqlite3_exec(db, sql, NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/* 1 when the table exists, 0 not, -1 error. */
static int
ob_has_table(sqlite3 *db, const char *name, struct sw_err *err)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (ob_prepare(db, "SELECT 1 FROM sqlite_master WHERE type = 'table'"
	    " AND name = ?", &q, err) == -1)
		return -1;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return ob_sqlerr(db, err, "schema");
}

static const char *
ob_col(sqlite3_stmt *q, int i)
{
	const unsigned char	*s = sqlite3_column_text(q, i);

	return s != NULL ? (const char *)s : "";
}

/* ------------------------------------------------------------------ */
/* schema, enqueue                                                      */

int
sw_outbox_schema(sqlite3 *db, struct sw_err *err)
{
	sqlite3_stmt	*q = NULL;
	int64_t		 v = 0;
	int		 rc, ok = 0;

	if (ob_has_table(db, "meta", err) != 1)
		return sw_err_set(err, "outbox: the database has no meta "
		    "table (open it with sw_store_open first)");
	if (ob_exec(db, "BEGIN IMMEDIATE", err, "begin") == -1)
		return -1;
	if (ob_prepare(db, "SELECT value FROM meta WHERE key ="
	    " 'outbox_version'", &q, err) == -1)
		goto out;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	else if (rc != SQLITE_DONE) {
		ob_sqlerr(db, err, "read outbox_version");
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (v > SW_OUTBOX_VERSION) {
		sw_err_set(err, "outbox: the database has outbox version %"
		    PRId64 ", newer than this build's %d; not touching it", v,
		    SW_OUTBOX_VERSION);
		goto out;
	}
	if (ob_exec(db, ob_schema, err, "create tables") == -1)
		goto out;
	if (ob_exec(db, "INSERT OR REPLACE INTO meta (key, value) VALUES"
	    " ('outbox_version', 1)", err, "write outbox_version") == -1)
		goto out;
	ok = 1;
out:
	if (q != NULL)
		sqlite3_finalize(q);
	if (ok && ob_exec(db, "COMMIT", err, "commit") == 0)
		return 0;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static void
ob_new_key(char *key, size_t keysz)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 r[16];
	size_t			 i;
	static uint64_t		 ctr;
	uint64_t		 x;

	if (RAND_bytes(r, sizeof(r)) != 1) {
		/* never expected; still unique enough within this host */
		x = (uint64_t)sw_clock_wall_ms() * 1000003u ^
		    (uint64_t)getpid() << 32 ^ ++ctr;
		for (i = 0; i < sizeof(r); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			r[i] = (unsigned char)x;
		}
	}
	snprintf(key, keysz, "msg_");
	for (i = 0; i < sizeof(r) && 4 + 2 * i + 2 < keysz; i++) {
		key[4 + 2 * i] = hex[r[i] >> 4];
		key[4 + 2 * i + 1] = hex[r[i] & 0xf];
		key[4 + 2 * i + 2] = '\0';
	}
}

static int
ob_name_ok(const char *s, size_t max)
{
	return s != NULL && strlen(s) <= max;
}

int
sw_outbox_enqueue(sqlite3 *db, const struct sw_outbox_msg *m, int64_t *id,
    char *key, struct sw_err *err)
{
	sqlite3_stmt	*q = NULL;
	char		 k[SW_OUTBOX_KEY_LEN + 1];
	const char	*state = NULL;
	int64_t		 n;
	int		 ok = 0;

	if (m->notifier == NULL || *m->notifier == '\0' ||
	    !ob_name_ok(m->notifier, SW_OUTBOX_NAME_MAX) ||
	    !ob_name_ok(m->event, SW_OUTBOX_NAME_MAX) ||
	    (m->rule != NULL && !ob_name_ok(m->rule, SW_OUTBOX_NAME_MAX)) ||
	    (m->group_key != NULL &&
	    !ob_name_ok(m->group_key, OB_NAME_LONG)) ||
	    (m->target != NULL && !ob_name_ok(m->target, OB_NAME_LONG)))
		return sw_err_set(err, "outbox: message without a notifier or "
		    "event, or a name too long");
	if (m->doc == NULL || strlen(m->doc) > SW_OUTBOX_DOC_MAX)
		return sw_err_set(err, "outbox: %s: document missing or over "
		    "%d bytes", m->notifier, SW_OUTBOX_DOC_MAX);
	if (strcmp(m->event, "firing") == 0 || strcmp(m->event, "repeat") == 0)
		state = "firing";
	else if (strcmp(m->event, "resolved") == 0)
		state = "resolved";

	if (ob_savepoint(db, "sw_outbox_enq", err) == -1)
		return -1;
	if (ob_prepare(db, "SELECT count(*) FROM outbox WHERE notifier = ?"
	    " AND state = 'pending'", &q, err) == -1)
		goto out;
	sqlite3_bind_text(q, 1, m->notifier, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW) {
		ob_sqlerr(db, err, "count");
		goto out;
	}
	n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if (n >= SW_OUTBOX_PENDING_MAX) {
		sw_err_set(err, "outbox: %s: %" PRId64 " messages already "
		    "waiting (the cap); this one is dropped", m->notifier, n);
		goto out;
	}

	ob_new_key(k, sizeof(k));
	if (ob_prepare(db, "INSERT INTO outbox (notifier, msg_key, rule,"
	    " event, group_key, target, doc, created_ms, not_before_ms,"
	    " next_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &q, err) == -1)
		goto out;
	sqlite3_bind_text(q, 1, m->notifier, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, m->rule != NULL ? m->rule : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(q, 4, m->event, -1, SQLITE_STATIC);
	if (m->group_key != NULL)
		sqlite3_bind_text(q, 5, m->group_key, -1, SQLITE_STATIC);
	if (m->target != NULL)
		sqlite3_bind_text(q, 6, m->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, m->doc, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 8, m->created_ms);
	sqlite3_bind_int64(q, 9, m->not_before_ms);
	sqlite3_bind_int64(q, 10, m->not_before_ms);
	if (sqlite3_step(q) != SQLITE_DONE) {
		ob_sqlerr(db, err, "insert");
		goto out;
	}
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(q);
	q = NULL;

	if (state != NULL && m->rule != NULL && *m->rule != '\0') {
		if (ob_prepare(db, "INSERT INTO outbox_alert (notifier, rule,"
		    " state, target, doc, updated_ms, resolved_ms) VALUES"
		    " (?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN ?3 = 'resolved'"
		    " THEN ?6 ELSE 0 END) ON CONFLICT(notifier, rule) DO"
		    " UPDATE SET state = excluded.state, target ="
		    " excluded.target, doc = excluded.doc, updated_ms ="
		    " excluded.updated_ms, resolved_ms = excluded.resolved_ms",
		    &q, err) == -1)
			goto out;
		sqlite3_bind_text(q, 1, m->notifier, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, m->rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, state, -1, SQLITE_STATIC);
		if (m->target != NULL)
			sqlite3_bind_text(q, 4, m->target, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 5, m->doc, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 6, m->created_ms);
		if (sqlite3_step(q) != SQLITE_DONE) {
			ob_sqlerr(db, err, "record alert state");
			goto out;
		}
	}
	if (key != NULL)
		memcpy(key, k, sizeof(k));
	ok = 1;
out:
	if (q != NULL)
		sqlite3_finalize(q);
	return ob_release(db, "sw_outbox_enq", ok, err);
}

int
sw_outbox_alert_known(sqlite3 *db, const char *notifier, const char *rule,
    struct sw_err *err)
{
	sqlite3_stmt	*q;
	int		 rc, ret;

	if ((rc = ob_has_table(db, "outbox_alert", err)) != 1)
		return rc == 0 ? -1 : -2;
	if (ob_prepare(db, "SELECT state FROM outbox_alert WHERE notifier = ?"
	    " AND rule = ?", &q, err) == -1)
		return -2;
	sqlite3_bind_text(q, 1, notifier, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, rule, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		ret = strcmp(ob_col(q, 0), "firing") == 0 ? 1 : 0;
	else if (rc == SQLITE_DONE)
		ret = -1;
	else
		ret = ob_sqlerr(db, err, "read alert state") - 1;
	sqlite3_finalize(q);
	return ret;
}

/* ------------------------------------------------------------------ */
/* silences                                                             */

int
sw_silence_add(sqlite3 *db, const char *matcher, int64_t now_ms,
    int64_t until_ms, const char *reason, const char *author, int64_t *id,
    struct sw_err *err)
{
	sqlite3_stmt	*q = NULL;
	int		 ok = 0;

	if (matcher == NULL || *matcher == '\0' ||
	    strlen(matcher) > SW_SILENCE_TEXT_MAX)
		return sw_err_set(err, "silence: the rule or target name is "
		    "empty or longer than %d bytes", SW_SILENCE_TEXT_MAX);
	if ((reason != NULL && strlen(reason) > SW_SILENCE_TEXT_MAX) ||
	    (author != NULL && strlen(author) > SW_SILENCE_TEXT_MAX))
		return sw_err_set(err, "silence: reason or author longer "
		    "than %d bytes", SW_SILENCE_TEXT_MAX);
	if (until_ms <= now_ms)
		return sw_err_set(err, "silence: it would end before it "
		    "starts");
	if (ob_savepoint(db, "sw_silence", err) == -1)
		return -1;
	if (ob_prepare(db, "INSERT INTO silence (matcher, created_ms,"
	    " until_ms, reason, author) VALUES (?, ?, ?, ?, ?)", &q, err) == -1)
		goto out;
	sqlite3_bind_text(q, 1, matcher, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now_ms);
	sqlite3_bind_int64(q, 3, until_ms);
	sqlite3_bind_text(q, 4, reason != NULL ? reason : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(q, 5, author != NULL ? author : "", -1,
	    SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		ob_sqlerr(db, err, "add silence");
		goto out;
	}
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(db);
	ok = 1;
out:
	if (q != NULL)
		sqlite3_finalize(q);
	return ob_release(db, "sw_silence", ok, err);
}

int
sw_silence_rm(sqlite3 *db, int64_t id, struct sw_err *err)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (ob_prepare(db, "DELETE FROM silence WHERE id = ?", &q, err) == -1)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return ob_sqlerr(db, err, "remove silence");
	return sqlite3_changes(db) > 0 ? 1 : 0;
}

int
sw_silence_each(sqlite3 *db, int64_t now_ms, int all, sw_silence_cb cb,
    void *arg, struct sw_err *err)
{
	sqlite3_stmt		*q;
	struct sw_silence	 s;
	int			 rc, ret = 0;

	if ((rc = ob_has_table(db, "silence", err)) != 1)
		return rc;
	if (ob_prepare(db, "SELECT id, matcher, created_ms, until_ms, reason,"
	    " author FROM silence WHERE ?1 OR until_ms > ?2 ORDER BY id",
	    &q, err) == -1)
		return -1;
	sqlite3_bind_int(q, 1, all != 0);
	sqlite3_bind_int64(q, 2, now_ms);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		s.id = sqlite3_column_int64(q, 0);
		s.matcher = ob_col(q, 1);
		s.created_ms = sqlite3_column_int64(q, 2);
		s.until_ms = sqlite3_column_int64(q, 3);
		s.reason = ob_col(q, 4);
		s.author = ob_col(q, 5);
		if ((ret = cb(&s, arg)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = ob_sqlerr(db, err, "read silences");
	sqlite3_finalize(q);
	return ret;
}

static int
ob_matches(const char *pattern, const char *name)
{
	if (name == NULL || *name == '\0')
		return 0;
	return strcmp(pattern, name) == 0 || fnmatch(pattern, name, 0) == 0;
}

int
sw_silence_match(sqlite3 *db, const char *rule, const char *target,
    int64_t now_ms, int64_t *id, int64_t *until_ms, char *reason, size_t rsz,
    struct sw_err *err)
{
	sqlite3_stmt	*q;
	const char	*m;
	int		 rc, found = 0;

	if ((rc = ob_has_table(db, "silence", err)) != 1)
		return rc;
	if (ob_prepare(db, "SELECT id, matcher, until_ms, reason FROM silence"
	    " WHERE until_ms > ? AND created_ms <= ? ORDER BY id", &q, err) == -1)
		return -1;
	sqlite3_bind_int64(q, 1, now_ms);
	sqlite3_bind_int64(q, 2, now_ms);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		m = ob_col(q, 1);
		if (!ob_matches(m, rule) && !ob_matches(m, target))
			continue;
		found = 1;
		if (id != NULL)
			*id = sqlite3_column_int64(q, 0);
		if (until_ms != NULL)
			*until_ms = sqlite3_column_int64(q, 2);
		if (reason != NULL && rsz > 0)
			snprintf(reason, rsz, "%s", ob_col(q, 3));
		break;
	}
	if (!found && rc != SQLITE_DONE) {
		sqlite3_finalize(q);
		return ob_sqlerr(db, err, "read silences");
	}
	sqlite3_finalize(q);
	return found;
}

/* ------------------------------------------------------------------ */
/* status and listing                                                   */

int
sw_outbox_status_each(sqlite3 *db, sw_outbox_status_cb cb, void *arg,
    struct sw_err *err)
{
	sqlite3_stmt		*q = NULL, *h = NULL, *e = NULL;
	struct sw_outbox_status	 s;
	char			 name[SW_OUTBOX_NAME_MAX + 1];
	char			 lerr[SW_OUTBOX_ERROR_MAX];
	int			 rc, ret = 0;

	if ((rc = ob_has_table(db, "outbox", err)) != 1)
		return rc;
	if (ob_prepare(db, "SELECT notifier,"
	    " sum(state = 'pending' AND attempts = 0),"
	    " sum(state = 'pending' AND attempts > 0),"
	    " sum(state = 'failed'), sum(state = 'delivered'),"
	    " min(CASE WHEN state = 'pending' THEN created_ms END),"
	    " max(CASE WHEN state = 'delivered' THEN done_ms END)"
	    " FROM outbox GROUP BY notifier ORDER BY notifier", &q, err) == -1 ||
	    ob_prepare(db, "SELECT next_ms FROM outbox WHERE notifier = ? AND"
	    " state = 'pending' ORDER BY id LIMIT 1", &h, err) == -1 ||
	    ob_prepare(db, "SELECT last_error, last_ms, last_status FROM outbox"
	    " WHERE notifier = ? AND state IN ('pending', 'failed') AND"
	    " last_error != '' ORDER BY last_ms DESC, id DESC LIMIT 1", &e,
	    err) == -1) {
		ret = -1;
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		memset(&s, 0, sizeof(s));
		snprintf(name, sizeof(name), "%s", ob_col(q, 0));
		s.notifier = name;
		s.pending = sqlite3_column_int64(q, 1);
		s.retrying = sqlite3_column_int64(q, 2);
		s.failed = sqlite3_column_int64(q, 3);
		s.delivered = sqlite3_column_int64(q, 4);
		s.oldest_ms = sqlite3_column_int64(q, 5);
		s.last_ok_ms = sqlite3_column_int64(q, 6);
		lerr[0] = '\0';
		s.last_error = lerr;
		sqlite3_reset(h);
		sqlite3_bind_text(h, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(h) == SQLITE_ROW)
			s.next_attempt_ms = sqlite3_column_int64(h, 0);
		sqlite3_reset(e);
		sqlite3_bind_text(e, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(e) == SQLITE_ROW) {
			snprintf(lerr, sizeof(lerr), "%s", ob_col(e, 0));
			s.last_error_ms = sqlite3_column_int64(e, 1);
			s.last_status = (long)sqlite3_column_int64(e, 2);
		}
		if ((ret = cb(&s, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = ob_sqlerr(db, err, "read outbox status");
out:
	sqlite3_finalize(q);
	sqlite3_finalize(h);
	sqlite3_finalize(e);
	return ret;
}

int
sw_outbox_rows_each(sqlite3 *db, const char *notifier, sw_outbox_row_cb cb,
    void *arg, struct sw_err *err)
{
	sqlite3_stmt		*q;
	struct sw_outbox_row	 r;
	int			 rc, ret = 0;

	if ((rc = ob_has_table(db, "outbox", err)) != 1)
		return rc;
	if (ob_prepare(db, "SELECT id, notifier, msg_key, rule, event, state,"
	    " batch, created_ms, next_ms, attempts, last_status, last_error,"
	    " done_ms, doc FROM outbox WHERE ?1 IS NULL OR notifier = ?1"
	    " ORDER BY id", &q, err) == -1)
		return -1;
	if (notifier != NULL)
		sqlite3_bind_text(q, 1, notifier, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(q, 0);
		r.notifier = ob_col(q, 1);
		r.msg_key = ob_col(q, 2);
		r.rule = ob_col(q, 3);
		r.event = ob_col(q, 4);
		r.state = ob_col(q, 5);
		r.batch = sqlite3_column_int64(q, 6);
		r.created_ms = sqlite3_column_int64(q, 7);
		r.next_ms = sqlite3_column_int64(q, 8);
		r.attempts = sqlite3_column_int64(q, 9);
		r.last_status = (long)sqlite3_column_int64(q, 10);
		r.last_error = ob_col(q, 11);
		r.done_ms = sqlite3_column_int64(q, 12);
		r.doc = ob_col(q, 13);
		if ((ret = cb(&r, arg)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = ob_sqlerr(db, err, "read outbox");
	sqlite3_finalize(q);
	return ret;
}

/* ------------------------------------------------------------------ */
/* redaction                                                            */

char *
sw_outbox_redact_url(char *dst, size_t dstsz, const char *url)
{
	const char	*p, *h, *e, *at;
	size_t		 n;

	if (dstsz == 0)
		return dst;
	if (url == NULL || (p = strstr(url, "://")) == NULL || p == url) {
		snprintf(dst, dstsz, "<redacted>");
		return dst;
	}
	h = p + 3;
	e = h + strcspn(h, "/?#");
	/* user:password@ never shown */
	at = memchr(h, '@', (size_t)(e - h));
	if (at != NULL)
		h = at + 1;
	n = (size_t)(e - h);
	if (n > 200)
		n = 200;
	snprintf(dst, dstsz, "%.*s://%.*s/<redacted>", (int)(p - url) > 16 ?
	    16 : (int)(p - url), url, (int)n, h);
	return dst;
}

void
sw_outbox_scrub(char *text, size_t size, const char *secret)
{
	struct sw_buf	 b;
	const char	*p, *s;
	size_t		 slen;

	if (text == NULL || secret == NULL || size == 0)
		return;
	slen = strlen(secret);
	if (slen < 4 || strstr(text, secret) == NULL)
		return;
	sw_buf_init(&b, size - 1);
	s = text;
	while ((p = strstr(s, secret)) != NULL) {
		if (sw_buf_add(&b, s, (size_t)(p - s)) == -1 ||
		    sw_buf_adds(&b, "<redacted>") == -1)
			goto out;
		s = p + slen;
	}
	sw_buf_adds(&b, s);
out:
	/* what fit, never a piece of the secret ("" when memory is short) */
	memmove(text, sw_buf_str(&b), b.len + 1);
	sw_buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* the engine                                                           */

struct ob_dest {
	struct sw_outbox	*ob;
	char			*name;
	struct sw_outbox_dest	 d;
	char			 shown[256];	/* redacted URL */
	void			*xfer;		/* in flight, or NULL */
	int			 resending;	/* the xfer is a re-post */
	int64_t			 ids[SW_OUTBOX_GROUP_MAX];
	int			 nids;
	int64_t			 head_id;
	int64_t			 head_created;
	int64_t			 head_attempts;
	int64_t			 started_ms;
	int64_t			 hold_until;	/* rate limit (wall ms) */
	int64_t			 last_resend;
	int			 disabled;
	struct sw_complain	 complain;
};

struct sw_outbox {
	sqlite3			*db;
	struct sw_loop		*loop;
	struct sw_http		*http;
	struct sw_outbox_opts	 opts;
	struct ob_dest		*dests[OB_MAX_DESTS];
	int			 ndests;
	struct sw_outbox_transport tr;
	sw_outbox_hook		 hook;
	void			*hook_arg;
	uint64_t		 rng;
	uint64_t		 timer;
	int64_t			 timer_due_us;
	int			 in_tick;
	int			 again;		/* kick during a pass */
};

/* How long a destination's messages are retried (its notify block's
 * max-age, else the outbox default). */
static int64_t
ob_max_age(const struct ob_dest *od)
{
	return od->d.max_age_ms > 0 ? od->d.max_age_ms : od->ob->opts.max_age_ms;
}

static void ob_arm(struct sw_outbox *ob, int64_t due_wall);

static void *
ob_http_start(void *arg, const struct sw_http_req *req,
    void (*cb)(const struct sw_http_result *, void *), void *cbarg,
    struct sw_err *err)
{
	return sw_http_start(arg, req, cb, cbarg, err);
}

static void
ob_http_cancel(void *arg, void *x)
{
	(void)arg;
	sw_http_cancel(x);
}

static double
ob_rand(struct sw_outbox *ob)
{
	uint64_t	x = ob->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ob->rng = x;
	return (double)((x * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

int64_t
sw_outbox_backoff_ms(int64_t base_ms, int64_t cap_ms, int attempt, double r)
{
	int64_t	d = base_ms;
	int	i;

	if (attempt < 1)
		attempt = 1;
	for (i = 1; i < attempt && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	if (r < 0)
		r = 0;
	if (r >= 1)
		r = 0.999999;
	return d / 2 + (int64_t)(r * (double)(d - d / 2));
}

int
sw_outbox_new(sqlite3 *db, struct sw_loop *loop, struct sw_http *http,
    const struct sw_outbox_opts *opts, struct sw_outbox **out,
    struct sw_err *err)
{
	struct sw_outbox	*ob;
	int			 rc;

	*out = NULL;
	if ((rc = ob_has_table(db, "outbox", err)) != 1)
		return rc == 0 ? sw_err_set(err, "outbox: no outbox table "
		    "(call sw_outbox_schema first)") : -1;
	if ((ob = calloc(1, sizeof(*ob))) == NULL)
		return sw_err_sys(err, ENOMEM, "outbox");
	ob->db = db;
	ob->loop = loop;
	ob->http = http;
	if (opts != NULL)
		ob->opts = *opts;
	if (ob->opts.max_age_ms <= 0)
		ob->opts.max_age_ms = SW_OUTBOX_MAX_AGE_MS;
	if (ob->opts.backoff_base_ms <= 0)
		ob->opts.backoff_base_ms = SW_OUTBOX_BACKOFF_BASE_MS;
	if (ob->opts.backoff_cap_ms <= 0)
		ob->opts.backoff_cap_ms = SW_OUTBOX_BACKOFF_CAP_MS;
	if (ob->opts.backoff_cap_ms < ob->opts.backoff_base_ms)
		ob->opts.backoff_cap_ms = ob->opts.backoff_base_ms;
	if (ob->opts.timeout_ms <= 0)
		ob->opts.timeout_ms = SW_OUTBOX_TIMEOUT_MS;
	if (ob->opts.tick_ms <= 0)
		ob->opts.tick_ms = 1000;
	ob->rng = ob->opts.seed;
	if (ob->rng == 0 && RAND_bytes((unsigned char *)&ob->rng,
	    sizeof(ob->rng)) != 1)
		ob->rng = (uint64_t)sw_clock_mono_us() ^ (uint64_t)getpid();
	if (ob->rng == 0)
		ob->rng = 0x9e3779b97f4a7c15ULL;
	if (http != NULL) {
		ob->tr.start = ob_http_start;
		ob->tr.cancel = ob_http_cancel;
		ob->tr.arg = http;
	}
	*out = ob;
	return 0;
}

void
sw_outbox_free(struct sw_outbox *ob)
{
	int	i;

	if (ob == NULL)
		return;
	if (ob->loop != NULL && ob->timer != 0)
		sw_loop_timer_cancel(ob->loop, ob->timer);
	for (i = 0; i < ob->ndests; i++) {
		if (ob->dests[i]->xfer != NULL)
			ob->tr.cancel(ob->tr.arg, ob->dests[i]->xfer);
		free(ob->dests[i]->name);
		free(ob->dests[i]);
	}
	free(ob);
}

int
sw_outbox_add_dest(struct sw_outbox *ob, const struct sw_outbox_dest *d,
    struct sw_err *err)
{
	struct ob_dest	*od;

	if (d->name == NULL || *d->name == '\0' || d->ops == NULL ||
	    d->ops->render == NULL || d->ops->judge == NULL)
		return sw_err_set(err, "outbox: destination without a name "
		    "or operations");
	if (ob->ndests >= OB_MAX_DESTS)
		return sw_err_set(err, "outbox: more than %d destinations",
		    OB_MAX_DESTS);
	if ((od = calloc(1, sizeof(*od))) == NULL ||
	    (od->name = strdup(d->name)) == NULL) {
		free(od);
		return sw_err_sys(err, ENOMEM, "outbox");
	}
	od->ob = ob;
	od->d = *d;
	od->d.name = od->name;
	if (od->d.group_max <= 0 || od->d.group_max > SW_OUTBOX_GROUP_MAX)
		od->d.group_max = SW_OUTBOX_GROUP_MAX;
	sw_outbox_redact_url(od->shown, sizeof(od->shown), d->url);
	ob->dests[ob->ndests++] = od;
	return 0;
}

void
sw_outbox_set_transport(struct sw_outbox *ob,
    const struct sw_outbox_transport *t)
{
	ob->tr = *t;
}

void
sw_outbox_set_hook(struct sw_outbox *ob, sw_outbox_hook hook, void *arg)
{
	ob->hook = hook;
	ob->hook_arg = arg;
}

int
sw_outbox_inflight(const struct sw_outbox *ob)
{
	int	i, n = 0;

	for (i = 0; i < ob->ndests; i++)
		if (ob->dests[i]->xfer != NULL)
			n++;
	return n;
}

int
sw_outbox_request_header(struct sw_outbox_request *r, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (r->nheaders >= SW_OUTBOX_HEADERS_MAX)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(r->headers[r->nheaders], SW_OUTBOX_HEADER_LEN, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= SW_OUTBOX_HEADER_LEN)
		return -1;
	r->nheaders++;
	return 0;
}

static void
ob_scrub(struct ob_dest *od, char *text, size_t size)
{
	const char	*p;

	if (od->d.ops->scrub != NULL)
		od->d.ops->scrub(od->d.arg, text, size);
	sw_outbox_scrub(text, size, od->d.url);
	/* the path and query alone (where webhook tokens live) */
	if (od->d.url != NULL && (p = strstr(od->d.url, "://")) != NULL &&
	    (p = strpbrk(p + 3, "/?#")) != NULL && strlen(p) > 1)
		sw_outbox_scrub(text, size, p);
}

/* Writes the result of the in-flight group: state (NULL keeps pending),
 * next_ms, last status and error. In one savepoint. */
static int
ob_record(struct ob_dest *od, const char *state, int64_t now, int64_t next,
    long status, const char *error)
{
	struct sw_outbox	*ob = od->ob;
	sqlite3_stmt		*q = NULL;
	struct sw_err		 err;
	int			 i, ok = 0;

	sw_err_clear(&err);
	if (ob_savepoint(ob->db, "sw_outbox_rec", &err) == -1)
		goto fail;
	if (ob_prepare(ob->db, "UPDATE outbox SET state = coalesce(?1, state),"
	    " next_ms = ?2, attempts = attempts + 1, last_status = ?3,"
	    " last_error = ?4, last_ms = ?5, done_ms = CASE WHEN ?1 IS NULL"
	    " THEN 0 ELSE ?5 END WHERE id = ?6 AND state = 'pending'",
	    &q, &err) == -1)
		goto out;
	for (i = 0; i < od->nids; i++) {
		sqlite3_reset(q);
		if (state != NULL)
			sqlite3_bind_text(q, 1, state, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(q, 1);
		sqlite3_bind_int64(q, 2, next);
		sqlite3_bind_int64(q, 3, status);
		sqlite3_bind_text(q, 4, error, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 5, now);
		sqlite3_bind_int64(q, 6, od->ids[i]);
		if (sqlite3_step(q) != SQLITE_DONE) {
			ob_sqlerr(ob->db, &err, "record result");
			goto out;
		}
	}
	ok = 1;
out:
	if (q != NULL)
		sqlite3_finalize(q);
	if (ob_release(ob->db, "sw_outbox_rec", ok, &err) == 0)
		return 0;
fail:
	sw_log_error("notify %s: %s", od->name, err.msg);
	return -1;
}

/* Keeps at most SW_OUTBOX_KEEP_DONE finished rows per notifier, none older
 * than SW_OUTBOX_KEEP_DONE_MS, and forgets resolved alerts after as long. */
static void
ob_prune(struct ob_dest *od, int64_t now)
{
	sqlite3_stmt	*q;

	if (ob_prepare(od->ob->db, "DELETE FROM outbox WHERE notifier = ?1 AND"
	    " state IN ('delivered', 'failed') AND (done_ms < ?2 OR id <="
	    " (SELECT id FROM outbox WHERE notifier = ?1 AND state IN"
	    " ('delivered', 'failed') ORDER BY id DESC LIMIT 1 OFFSET ?3))",
	    &q, NULL) == 0) {
		sqlite3_bind_text(q, 1, od->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, now - SW_OUTBOX_KEEP_DONE_MS);
		sqlite3_bind_int(q, 3, SW_OUTBOX_KEEP_DONE);
		sqlite3_step(q);
		sqlite3_finalize(q);
	}
	if (ob_prepare(od->ob->db, "DELETE FROM outbox_alert WHERE notifier ="
	    " ? AND state = 'resolved' AND resolved_ms < ?", &q, NULL) == 0) {
		sqlite3_bind_text(q, 1, od->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, now - SW_OUTBOX_KEEP_DONE_MS);
		sqlite3_step(q);
		sqlite3_finalize(q);
	}
}

static void
ob_hook(struct ob_dest *od, enum sw_outbox_point p)
{
	if (od->ob->hook != NULL)
		od->ob->hook(p, od->head_id, od->ob->hook_arg);
}

static void
ob_done(const struct sw_http_result *res, void *arg)
{
	struct ob_dest		*od = arg;
	struct sw_outbox	*ob = od->ob;
	enum sw_outbox_verdict	 v;
	char			 why[SW_OUTBOX_ERROR_MAX];
	char			 msg[SW_OUTBOX_ERROR_MAX + 64], wait[32];
	int64_t			 now, delay, next;
	int			 resend = od->resending;

	od->xfer = NULL;
	od->resending = 0;
	now = sw_clock_wall_ms();
	why[0] = '\0';
	v = od->d.ops->judge(od->d.arg, res, why, sizeof(why));
	if (v != SW_OUTBOX_OK && why[0] == '\0') {
		if (res->status > 0)
			snprintf(why, sizeof(why), "HTTP %ld", res->status);
		else
			snprintf(why, sizeof(why), "%s: %.200s",
			    sw_http_fail_name(res->fail), res->error);
	}
	ob_scrub(od, why, sizeof(why));

	if (resend) {
		od->last_resend = now;
		if (v == SW_OUTBOX_OK)
			sw_complain_release(&od->complain, "notify %s (%s): "
			    "re-post delivered again", od->name, od->shown);
		else
			sw_complain(&od->complain, "notify %s (%s): re-post "
			    "failed: %s", od->name, od->shown, why);
		goto next;
	}

	switch (v) {
	case SW_OUTBOX_OK:
		ob_hook(od, SW_OUTBOX_AT_ANSWERED);
		if (ob_record(od, "delivered", now, 0, res->status, "") == 0) {
			ob_hook(od, SW_OUTBOX_AT_RECORDED);
			sw_complain_release(&od->complain, "notify %s (%s): "
			    "delivering again", od->name, od->shown);
			sw_log_debug("notify %s: message %" PRId64 " (%d "
			    "alerts) delivered, HTTP %ld", od->name,
			    od->head_id, od->nids, res->status);
		}
		od->last_resend = now;
		break;
	case SW_OUTBOX_RETRY:
		if ((res->status == 429 || res->status == 503) &&
		    res->retry_after_ms >= 0) {
			delay = res->retry_after_ms;
			if (delay > SW_OUTBOX_RETRY_AFTER_MAX_MS)
				delay = SW_OUTBOX_RETRY_AFTER_MAX_MS;
		} else {
			delay = sw_outbox_backoff_ms(ob->opts.backoff_base_ms,
			    ob->opts.backoff_cap_ms,
			    (int)(od->head_attempts + 1 > 62 ? 62 :
			    od->head_attempts + 1), ob_rand(ob));
		}
		next = now + delay;
		if (next - od->head_created > ob_max_age(od)) {
			snprintf(msg, sizeof(msg), "gave up after %" PRId64
			    " attempts: %s", od->head_attempts + 1, why);
			ob_record(od, "failed", now, 0, res->status, msg);
			sw_log_error("notify %s (%s): message %" PRId64 " "
			    "failed: %s", od->name, od->shown, od->head_id,
			    msg);
			break;
		}
		/* 429: the whole destination waits (HOL anyway) */
		if (next > od->hold_until)
			od->hold_until = next;
		ob_record(od, NULL, now, next, res->status, why);
		sw_complain(&od->complain, "notify %s (%s): %s; retrying in "
		    "%s", od->name, od->shown, why,
		    sw_fmt_duration_ms(wait, sizeof(wait), delay));
		break;
	case SW_OUTBOX_PERMANENT:
	case SW_OUTBOX_DISABLE:
		ob_record(od, "failed", now, 0, res->status, why);
		if (v == SW_OUTBOX_DISABLE) {
			od->disabled = 1;
			sw_log_error("notify %s (%s): message %" PRId64 " "
			    "failed for good: %s; the destination is gone, "
			    "disabled until the next reload", od->name,
			    od->shown, od->head_id, why);
		} else
			sw_log_error("notify %s (%s): message %" PRId64 " "
			    "failed for good: %s", od->name, od->shown,
			    od->head_id, why);
		break;
	}
	ob_prune(od, now);
next:
	od->nids = 0;
	sw_outbox_kick(ob);
}

/* A row as read for sending. */
struct ob_row {
	int64_t	 id;
	char	*rule;
	char	*event;
	char	*group_key;	/* NULL none */
	char	*doc;
	int64_t	 created_ms;
	int64_t	 not_before_ms;
	int64_t	 next_ms;
	int64_t	 attempts;
	int64_t	 batch;
};

static void
ob_row_free(struct ob_row *r)
{
	free(r->rule);
	free(r->event);
	free(r->group_key);
	free(r->doc);
	memset(r, 0, sizeof(*r));
}

static char *
ob_dupcol(sqlite3_stmt *q, int i, int *oom)
{
	char	*s;

	if (sqlite3_column_type(q, i) == SQLITE_NULL)
		return NULL;
	if ((s = strdup(ob_col(q, i))) == NULL)
		*oom = 1;
	return s;
}

#define OB_ROW_COLS "id, rule, event, group_key, doc, created_ms," \
	" not_before_ms, next_ms, attempts, batch"

static int
ob_row_read(sqlite3_stmt *q, struct ob_row *r)
{
	int	oom = 0;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(q, 0);
	r->rule = ob_dupcol(q, 1, &oom);
	r->event = ob_dupcol(q, 2, &oom);
	r->group_key = ob_dupcol(q, 3, &oom);
	r->doc = ob_dupcol(q, 4, &oom);
	r->created_ms = sqlite3_column_int64(q, 5);
	r->not_before_ms = sqlite3_column_int64(q, 6);
	r->next_ms = sqlite3_column_int64(q, 7);
	r->attempts = sqlite3_column_int64(q, 8);
	r->batch = sqlite3_column_int64(q, 9);
	if (oom || r->rule == NULL || r->event == NULL || r->doc == NULL) {
		ob_row_free(r);
		return -1;
	}
	return 0;
}

/* The oldest pending row of od: 1 (in *r), 0 none, -1 error. */
static int
ob_head(struct ob_dest *od, struct ob_row *r)
{
	sqlite3_stmt	*q;
	int		 rc, ret;

	if (ob_prepare(od->ob->db, "SELECT " OB_ROW_COLS " FROM outbox WHERE"
	    " notifier = ? AND state = 'pending' ORDER BY id LIMIT 1", &q,
	    NULL) == -1)
		return -1;
	sqlite3_bind_text(q, 1, od->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		ret = ob_row_read(q, r) == 0 ? 1 : -1;
	else
		ret = rc == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(q);
	return ret;
}

static int
ob_rule_in(char **rules, int n, const char *rule)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(rules[i], rule) == 0)
			return 1;
	return 0;
}

/* The rows that go with head (head included, first), up to group_max:
 * the pinned batch, or a new group pinned now. Returns the count (>= 1),
 * or -1. */
static int
ob_group(struct ob_dest *od, struct ob_row *head, struct ob_row *rows)
{
	struct sw_outbox	*ob = od->ob;
	sqlite3_stmt		*q = NULL;
	struct ob_row		 r;
	char			*skipped[OB_SCAN_MAX];
	struct sw_err		 err;
	int			 n = 1, nskip = 0, rc, i, ok = 0;

	rows[0] = *head;
	memset(head, 0, sizeof(*head));
	sw_err_clear(&err);
	if (rows[0].batch != 0) {
		if (ob_prepare(ob->db, "SELECT " OB_ROW_COLS " FROM outbox"
		    " WHERE notifier = ? AND state = 'pending' AND batch = ?"
		    " AND id != ? ORDER BY id LIMIT ?", &q, NULL) == -1)
			return 1;
		sqlite3_bind_text(q, 1, od->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, rows[0].batch);
		sqlite3_bind_int64(q, 3, rows[0].id);
		sqlite3_bind_int(q, 4, od->d.group_max - 1);
		while (n < od->d.group_max && sqlite3_step(q) == SQLITE_ROW)
			if (ob_row_read(q, &rows[n]) == 0)
				n++;
		sqlite3_finalize(q);
		return n;
	}
	if (rows[0].group_key != NULL && od->d.group_max > 1) {
		if (ob_prepare(ob->db, "SELECT " OB_ROW_COLS " FROM outbox"
		    " WHERE notifier = ? AND state = 'pending' AND id > ?"
		    " ORDER BY id LIMIT ?", &q, NULL) == -1)
			goto pin;
		sqlite3_bind_text(q, 1, od->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, rows[0].id);
		sqlite3_bind_int(q, 3, OB_SCAN_MAX);
		while (n < od->d.group_max &&
		    (rc = sqlite3_step(q)) == SQLITE_ROW) {
			if (ob_row_read(q, &r) == -1)
				break;
			if (r.group_key != NULL && r.batch == 0 &&
			    strcmp(r.group_key, rows[0].group_key) == 0 &&
			    strcmp(r.event, rows[0].event) == 0 &&
			    r.created_ms <= rows[0].not_before_ms &&
			    !ob_rule_in(skipped, nskip, r.rule)) {
				rows[n++] = r;
				continue;
			}
			/* passed over: nothing later of its rule may go
			 * ahead of it */
			if (nskip < OB_SCAN_MAX && !ob_rule_in(skipped, nskip,
			    r.rule)) {
				skipped[nskip++] = r.rule;
				r.rule = NULL;
			}
			ob_row_free(&r);
		}
		sqlite3_finalize(q);
		q = NULL;
		for (i = 0; i < nskip; i++)
			free(skipped[i]);
	}
pin:
	/* pin the group (a single row too), so a retry is the same message */
	if (ob_savepoint(ob->db, "sw_outbox_pin", &err) == -1)
		goto out;
	if (ob_prepare(ob->db, "UPDATE outbox SET batch = ? WHERE id = ?", &q,
	    &err) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, rows[0].id);
		sqlite3_bind_int64(q, 2, rows[i].id);
		if (sqlite3_step(q) != SQLITE_DONE) {
			ob_sqlerr(ob->db, &err, "pin group");
			goto out;
		}
	}
	ok = 1;
out:
	if (q != NULL)
		sqlite3_finalize(q);
	if (ob_release(ob->db, "sw_outbox_pin", ok, &err) == -1) {
		sw_log_error("notify %s: %s", od->name, err.msg);
		for (i = 1; i < n; i++)
			ob_row_free(&rows[i]);
		return -1;
	}
	for (i = 0; i < n; i++)
		rows[i].batch = rows[0].id;
	return n;
}

void
sw_outbox_wire(struct sw_outbox_request *r, const char *key,
    int64_t timeout_ms, struct sw_outbox_wire *w, struct sw_http_req *hr)
{
	int	i, has_ct = 0;

	memset(w, 0, sizeof(*w));
	w->hl.v = w->hv;
	for (i = 0; i < r->nheaders && i < SW_OUTBOX_HEADERS_MAX; i++) {
		if (strncasecmp(r->headers[i], "content-type:", 13) == 0)
			has_ct = 1;
		w->hv[w->hl.n++] = r->headers[i];
	}
	if (!has_ct) {
		snprintf(w->ct, sizeof(w->ct), "Content-Type: application/json");
		w->hv[w->hl.n++] = w->ct;
	}
	snprintf(w->ua, sizeof(w->ua), "User-Agent: slopewatch/%s",
	    PACKAGE_VERSION);
	w->hv[w->hl.n++] = w->ua;
	snprintf(w->ik, sizeof(w->ik), "Idempotency-Key: %.40s", key);
	w->hv[w->hl.n++] = w->ik;

	memset(hr, 0, sizeof(*hr));
	hr->url = r->url;
	hr->method = "POST";
	hr->headers = &w->hl;
	hr->body = sw_buf_str(&r->body);
	hr->body_len = r->body.len;
	hr->timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : timeout_ms;
	hr->max_body = SW_OUTBOX_RESPONSE_MAX;
	hr->max_redirects = 0;
	hr->reuse = 1;
}

/* Starts the request of items with key: 0 started, -1 it cannot be
 * rendered (err), -2 the transfer could not start (err). */
static int
ob_send(struct ob_dest *od, const struct sw_outbox_item *items, int n,
    const char *key, int64_t now, int resend, struct sw_err *err)
{
	struct sw_outbox	*ob = od->ob;
	struct sw_outbox_request req;
	struct sw_http_req	 hr;
	struct sw_outbox_wire	 w;
	int			 ret = -1;

	memset(&req, 0, sizeof(req));
	sw_buf_init(&req.body, SW_OUTBOX_BODY_MAX);
	if (od->d.ops->render(od->d.arg, items, n, key, now, resend, &req,
	    err) == -1)
		goto out;
	if (req.url == NULL) {
		sw_err_set(err, "no URL");
		goto out;
	}
	sw_outbox_wire(&req, key, ob->opts.timeout_ms, &w, &hr);
	od->xfer = ob->tr.start(ob->tr.arg, &hr, ob_done, od, err);
	if (od->xfer == NULL) {
		ret = -2;
		goto out;
	}
	od->resending = resend;
	od->started_ms = now;
	if (od->d.min_interval_ms > 0 &&
	    now + od->d.min_interval_ms > od->hold_until)
		od->hold_until = now + od->d.min_interval_ms;
	ret = 0;
out:
	sw_buf_release(&req.body);
	return ret;
}

/* Fails the rows of the current group (od->ids) for good with msg. */
static int
ob_fail_rows(struct ob_dest *od, int64_t now, const char *msg)
{
	int	rc;

	rc = ob_record(od, "failed", now, 0, 0, msg);
	sw_log_error("notify %s (%s): message %" PRId64 " failed: %s",
	    od->name, od->shown, od->head_id, msg);
	od->nids = 0;
	return rc;
}

/* Re-posts the alerts the receiver should have as current. */
static void
ob_resend(struct ob_dest *od, int64_t now)
{
	sqlite3_stmt		*q;
	struct sw_outbox_item	 items[OB_RESEND_MAX];
	char			 key[64];
	struct sw_err		 err;
	int			 n = 0, i;

	od->last_resend = now;
	if (ob_prepare(od->ob->db, "SELECT rule, state, doc, updated_ms FROM"
	    " outbox_alert WHERE notifier = ? AND (state = 'firing' OR"
	    " resolved_ms > ?) ORDER BY rule LIMIT ?", &q, NULL) == -1)
		return;
	sqlite3_bind_text(q, 1, od->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now - od->d.resend_resolved_ms);
	sqlite3_bind_int(q, 3, OB_RESEND_MAX);
	while (n < OB_RESEND_MAX && sqlite3_step(q) == SQLITE_ROW) {
		items[n].id = 0;
		items[n].rule = strdup(ob_col(q, 0));
		items[n].event = strdup(ob_col(q, 1));
		items[n].doc = strdup(ob_col(q, 2));
		items[n].created_ms = sqlite3_column_int64(q, 3);
		if (items[n].rule == NULL || items[n].event == NULL ||
		    items[n].doc == NULL) {
			free((char *)items[n].rule);
			free((char *)items[n].event);
			free((char *)items[n].doc);
			break;
		}
		n++;
	}
	sqlite3_finalize(q);
	if (n > 0) {
		snprintf(key, sizeof(key), "resend_%" PRId64, now);
		sw_err_clear(&err);
		if (ob_send(od, items, n, key, now, 1, &err) != 0) {
			ob_scrub(od, err.msg, sizeof(err.msg));
			sw_complain(&od->complain, "notify %s (%s): re-post: "
			    "%s", od->name, od->shown, err.msg);
		}
	}
	for (i = 0; i < n; i++) {
		free((char *)items[i].rule);
		free((char *)items[i].event);
		free((char *)items[i].doc);
	}
}

/* One destination's pass; lowers *wake to when it next needs a pass. */
static void
ob_dest_tick(struct ob_dest *od, int64_t now, int64_t *wake)
{
	struct sw_outbox	*ob = od->ob;
	struct ob_row		 head, rows[SW_OUTBOX_GROUP_MAX];
	struct sw_outbox_item	 items[SW_OUTBOX_GROUP_MAX];
	char			 msg[SW_OUTBOX_ERROR_MAX];
	struct sw_err		 err;
	int			 n, i, rc, expired = 0;

	if (od->xfer != NULL || ob->tr.start == NULL)
		return;		/* busy, or no transport: queue only */
	for (;;) {
		if ((rc = ob_head(od, &head)) <= 0) {
			if (rc == -1)
				sw_complain(&od->complain, "notify %s: cannot "
				    "read the outbox: %s", od->name,
				    sqlite3_errmsg(ob->db));
			break;
		}
		/* too old: fail it, whatever else holds */
		if (now - head.created_ms >= ob_max_age(od) &&
		    expired < OB_EXPIRE_MAX) {
			od->ids[0] = head.id;
			od->nids = 1;
			od->head_id = head.id;
			snprintf(msg, sizeof(msg), "expired: not delivered "
			    "within %" PRId64 " h (%" PRId64 " attempts)%s",
			    ob_max_age(od) / 3600000, head.attempts,
			    od->disabled ? "; the destination is disabled" :
			    "");
			ob_fail_rows(od, now, msg);
			ob_row_free(&head);
			expired++;
			continue;
		}
		if (od->disabled || now < od->hold_until ||
		    head.next_ms > now) {
			if (!od->disabled) {
				if (od->hold_until > now &&
				    od->hold_until < *wake)
					*wake = od->hold_until;
				if (head.next_ms > now && head.next_ms < *wake)
					*wake = head.next_ms;
			}
			ob_row_free(&head);
			return;
		}
		od->head_attempts = head.attempts;
		od->head_created = head.created_ms;
		if ((n = ob_group(od, &head, rows)) == -1) {
			ob_row_free(&rows[0]);
			return;
		}
		od->head_id = rows[0].id;
		od->nids = n;
		for (i = 0; i < n; i++) {
			od->ids[i] = rows[i].id;
			items[i].id = rows[i].id;
			items[i].rule = rows[i].rule;
			items[i].event = rows[i].event;
			items[i].doc = rows[i].doc;
			items[i].created_ms = rows[i].created_ms;
		}
		sw_err_clear(&err);
		/* the key of the group is its head's, fixed at enqueue */
		rc = -2;
		{
			sqlite3_stmt	*q;

			if (ob_prepare(ob->db, "SELECT msg_key FROM outbox"
			    " WHERE id = ?", &q, &err) == 0) {
				sqlite3_bind_int64(q, 1, rows[0].id);
				if (sqlite3_step(q) == SQLITE_ROW) {
					snprintf(msg, sizeof(msg), "%s",
					    ob_col(q, 0));
					rc = 0;
				}
				sqlite3_finalize(q);
			}
			if (rc == -2)
				sw_err_set(&err, "cannot read the message key");
		}
		if (rc == 0)
			rc = ob_send(od, items, n, msg, now, 0, &err);
		for (i = 0; i < n; i++)
			ob_row_free(&rows[i]);
		if (rc == 0) {
			ob_hook(od, SW_OUTBOX_AT_SENT);
			return;
		}
		/* it cannot even be rendered or started */
		ob_scrub(od, err.msg, sizeof(err.msg));
		if (rc == -2) {
			/* starting failed (memory, curl): retry shortly */
			ob_record(od, NULL, now, now + ob->opts.backoff_base_ms,
			    0, err.msg);
			od->nids = 0;
			return;
		}
		if (ob_fail_rows(od, now, err.msg) == -1) {
			/* the row could not be marked (disk full, busy): it
			 * is still the head, so hold off instead of reading
			 * and failing it again in a tight loop */
			od->hold_until = now + ob->opts.backoff_base_ms;
			return;
		}
	}
	/* the queue is empty: re-post current alerts when due */
	if (od->d.resend_ms > 0 && !od->disabled) {
		int64_t	due = od->last_resend + od->d.resend_ms;

		if (due < od->hold_until)
			due = od->hold_until;	/* never a wake in the past */
		if (now >= due)
			ob_resend(od, now);
		else if (due < *wake)
			*wake = due;
	}
}

static void
ob_timer(void *arg)
{
	struct sw_outbox	*ob = arg;

	ob->timer = 0;
	sw_outbox_tick(ob);
}

static void
ob_arm(struct sw_outbox *ob, int64_t due_wall)
{
	int64_t	now_wall, due_us;

	if (ob->loop == NULL)
		return;
	now_wall = sw_clock_wall_ms();
	if (due_wall < now_wall)
		due_wall = now_wall;
	due_us = sw_clock_mono_us() + (due_wall - now_wall) * 1000;
	if (ob->timer != 0) {
		if (ob->timer_due_us <= due_us)
			return;
		sw_loop_timer_cancel(ob->loop, ob->timer);
	}
	ob->timer = sw_loop_timer_at(ob->loop, due_us, ob_timer, ob);
	ob->timer_due_us = due_us;
}

void
sw_outbox_tick(struct sw_outbox *ob)
{
	int64_t	now, wake;
	int	i;

	if (ob->in_tick) {
		ob->again = 1;
		return;
	}
	ob->in_tick = 1;
	do {
		ob->again = 0;
		now = sw_clock_wall_ms();
		wake = now + ob->opts.tick_ms;
		for (i = 0; i < ob->ndests; i++)
			ob_dest_tick(ob->dests[i], now, &wake);
	} while (ob->again && ob->loop == NULL);
	ob->in_tick = 0;
	if (ob->again) {
		ob->again = 0;
		wake = now;
	}
	ob_arm(ob, wake);
}

void
sw_outbox_kick(struct sw_outbox *ob)
{
	if (ob->loop == NULL) {
		sw_outbox_tick(ob);
		return;
	}
	ob_arm(ob, sw_clock_wall_ms());
}
